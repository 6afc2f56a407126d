"""Staff callbacks (回访) end to end: answers the chat cannot get rated reach `/queue callback`
and the dashboard's list on the next working day; clerks record tries over HTTP (CSRF, the
department limit), a reached citizen's rating is stored as the staff's, and "unsatisfied"
reopens the request as the chat does."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.clock import ManualClock
from bot.sandbox import Sandbox
from bot.sandbox.config import FaultConfig
from bot.sweeps import all_sweeps
from storage.claims import file_for_caller
from storage.tracking import format_tracking_number
from tests.case_fixtures import new_case
from tests.databases import Database
from tests.following import Desk, buttons
from tests.harness import eventually, query, webhook_bot, webhook_settings
from tests.staff_desk import ADMIN, CITIZEN, HANDLER, add_team
from tests.web_desk import OTHER, SECRET, browser, csrf_of, get, post, sign_in_link

SH = ZoneInfo("Asia/Shanghai")
WEDNESDAY_10 = datetime(2025, 3, 5, 10, 0, tzinfo=SH).astimezone(UTC)
THURSDAY_930 = datetime(2025, 3, 6, 9, 30, tzinfo=SH).astimezone(UTC)
COLD, AWAY = "Still cold in the bedroom", "Her neighbour says she is away at her daughter"
REPLY = "We replaced the valve on your riser; the radiators are warm again."


async def say(d: Desk, user_id: int, text: str) -> str:
    answer = await d.say(user_id, text, len(d.sandbox.messages(user_id)) + 1)
    print(f"{user_id} {text!r}\n  → {answer['text']}")
    return str(answer["text"])


def row(db_path: Database, sql: str, *params: Any) -> tuple[Any, ...]:
    return tuple(query(db_path, sql, params)[0])


async def test_callback_queue_and_recording(sandbox: Sandbox, db_path: Database) -> None:
    clock = ManualClock(WEDNESDAY_10)
    settings = webhook_settings(
        sandbox, db_path, SECRET, MINSHENG_ADMIN_IDS=str(ADMIN), MINSHENG_SWEEP_INTERVAL="3600"
    )
    async with webhook_bot(settings, sandbox, db_path, clock) as runtime:
        d = Desk(sandbox, runtime, db_path)
        base = f"http://{settings.webhook_listen}"
        await add_team(d)
        await d.say(ADMIN, f"/staff add {OTHER} handler gas-company", 2)
        zone = runtime.services.settings.zone
        phone, _ = await file_for_caller(
            replace(new_case(), citizen_id=None),
            by=ADMIN,
            now=clock.now(),
            zone=zone,
            staff_chat_id=None,
        )
        chat = await d.file_case(CITIZEN, at=clock.now())
        sandbox.faults = FaultConfig(blocked_users={CITIZEN})  # they block the bot
        numbers = [format_tracking_number(c.tracking) for c in (phone, chat)]
        for number in numbers:
            await say(d, ADMIN, f"/assign {number} heating-company")
            await say(d, ADMIN, f"/reply {number} {REPLY}")
        await eventually(
            lambda: (
                query(db_path, "SELECT unreachable FROM citizen WHERE id = ?", (CITIZEN,))
                == [(1,)]
            ),
            10,
            what="the citizen found unreachable",
        )
        sweep = all_sweeps(runtime.services)["callback_queue"]
        assert await sweep(clock.now()) == 2
        assert await say(d, HANDLER, "/queue callback") == (
            "Answers waiting for a callback: 0, page 1 of 1\nNothing here."
        )
        clock.advance(THURSDAY_930 - clock.now())  # the next working day
        listed = await say(d, HANDLER, "/queue callback")
        assert listed.startswith("Answers waiting for a callback: 2, page 1 of 1")
        assert all(number in listed for number in numbers)
        assert "Nothing here." in await say(d, OTHER, "/queue callback")

        async with await browser(await sign_in_link(d, OTHER)) as other:
            status, page = await get(other, f"{base}/web/callbacks")
            assert status == 200
            assert not any(number in page for number in numbers)
            status, _ = await post(
                other,
                f"{base}/web/callback/{numbers[0]}",
                {"csrf": csrf_of(page), "reached": "no", "method": "phone"},
            )
            assert status == 403
        async with await browser(await sign_in_link(d, HANDLER)) as clerk:
            status, page = await get(clerk, f"{base}/web/callbacks")
            assert all(number in page for number in numbers)
            token = csrf_of(page)
            status, _ = await post(
                clerk, f"{base}/web/callback/{numbers[0]}", {"reached": "no", "method": "phone"}
            )
            assert status == 403  # no CSRF token
            assert row(db_path, "SELECT count(*) FROM callback_attempt") == (0,)
            # From the list: called, not reached.
            status, page = await post(
                clerk,
                f"{base}/web/callback/{numbers[0]}",
                {"csrf": token, "back": "list", "reached": "no", "method": "phone"},
            )
            assert status == 200
            assert f"The callback on {numbers[0]} is recorded." in page
            assert "1 of 3 not reached" in page
            # From the case page: reached, solved and satisfied: the case closes.
            status, page = await get(clerk, f"{base}/web/case/{numbers[0]}")
            assert 'id="callback-form"' in page
            assert "2 tries left of 3." in page
            reached = {"csrf": token, "reached": "yes", "method": "phone"}
            status, page = await post(
                clerk, f"{base}/web/callback/{numbers[0]}", {**reached, "solved": "solved"}
            )
            assert status == 400
            assert "please give both of their answers" in page
            status, page = await post(
                clerk,
                f"{base}/web/callback/{numbers[0]}",
                {**reached, "solved": "solved", "satisfaction": "satisfied", "note": "Warm now"},
            )
            assert status == 200
            assert "The callback is recorded." in page
            # The blocked citizen: not reached first (the neighbour said why), then reached by
            # text message: unsatisfied, reopened.
            status, page = await post(
                clerk,
                f"{base}/web/callback/{numbers[1]}",
                {"csrf": token, "reached": "no", "method": "visit", "note": AWAY},
            )
            assert status == 200
            status, page = await get(clerk, f"{base}/web/case/{numbers[1]}")
            assert page.count(AWAY) == 2  # the callback table and the timeline
            status, page = await post(
                clerk,
                f"{base}/web/callback/{numbers[1]}",
                {
                    **reached,
                    "method": "sms",
                    "solved": "not_solved",
                    "satisfaction": "unsatisfied",
                    "reopen": "yes",
                    "note": COLD,
                },
            )
            assert status == 200
            status, page = await get(clerk, f"{base}/web/callbacks")
            assert "No callback is due." in page
            status, page = await get(clerk, f"{base}/web/case/{numbers[1]}")
            assert COLD in page
            # The citizen comes back and asks to be forgotten: what they said on the callback,
            # and what the clerk noted of them, go from the case page and its timeline.
            sandbox.faults = FaultConfig()
            sandbox.send_text(CITIZEN, "/forget")

            def question() -> tuple[int, str] | None:
                for message in sandbox.messages(CITIZEN):
                    for _, data in buttons(message):
                        if data.startswith("forget:yes:"):
                            return int(message["message_id"]), data
                return None

            asked, yes = await eventually(question, 10, what="the /forget question")
            sandbox.press_button(CITIZEN, CITIZEN, asked, yes)
            await eventually(
                lambda: any(
                    str(m.get("text") or "").startswith("Done: your personal data is erased.")
                    for m in sandbox.messages(CITIZEN)
                ),
                10,
                what="the erasure",
            )
            status, page = await get(clerk, f"{base}/web/case/{numbers[1]}")
            assert status == 200
            assert COLD not in page
            assert AWAY not in page
            assert "reached the citizen on a callback (Text message (SMS))" in page
            assert "Warm now" in (await get(clerk, f"{base}/web/case/{numbers[0]}"))[1]
    notes = (
        "SELECT a.note FROM callback_attempt a JOIN service_case c ON c.id = a.case_id"
        " WHERE c.tracking = ? ORDER BY a.id"
    )
    assert query(db_path, notes, (chat.tracking,)) == [(None,), (None,)]
    words = "SELECT count(*) FROM case_event WHERE CAST(payload AS TEXT) LIKE ?"
    assert query(db_path, words, ("%bedroom%",)) == [(0,)]
    assert query(db_path, words, ("%daughter%",)) == [(0,)]
    ratings = query(
        db_path,
        "SELECT c.tracking, r.solved, r.satisfaction, r.source, r.staff_id, r.contact_method,"
        " c.status, c.reopen_count FROM case_rating r JOIN service_case c ON c.id = r.case_id"
        " ORDER BY c.id",
    )
    assert ratings == [
        (phone.tracking, "solved", "satisfied", "staff", HANDLER, "phone", "closed", 0),
        (chat.tracking, "not_solved", "unsatisfied", "staff", HANDLER, "sms", "closed", 1),
    ]
    reopened = [m["text"] for m in sandbox.messages(d.staff) if COLD in m["text"]]
    assert len(reopened) == 1
    assert numbers[1] in reopened[0]
    assert (
        query(
            db_path,
            "SELECT kind, public FROM case_event WHERE kind LIKE 'callback%' ORDER BY id",
        )
        == [("callback_attempt", 0)] * 4
    )
    assert query(
        db_path, "SELECT action, reason FROM access_denial WHERE user_id = ?", (OTHER,)
    ) == [("callback", "department")]
