"""A citizen who chose "Stay anonymous" is never named to staff: not by Telegram id, not by name.

End to end: the real bot in webhook mode (the dashboard on the same listener) against the
sandbox. The citizen files through the conversation under a distinctive first name, another
citizen joins the case, the filer adds to it, the department answers, the filer rates it
unsatisfied and reopens it. Then every staff surface is read: the staff chat (the card and every
notice), Details, /case, /queue, the dashboard's queue and case page, and the CSV export. A
filer who shared their phone is still shown by id, and a forged staff button press leaves no
trace in any case's history (the access log only).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bot.sandbox import Sandbox
from storage.cases import add_information
from storage.duplicates import join_case
from storage.export import export_csv
from storage.lifecycle import accept_case
from storage.lifecycle_replies import approve_reply, submit_reply
from storage.models import Actor, Case, Event
from storage.rating import rate_satisfaction, rate_solved
from storage.rating_reopen import reopen_by_citizen
from storage.tracking import format_tracking_number
from tests.databases import Database
from tests.duplicates_desk import to_summary
from tests.following import Desk
from tests.harness import eventually, query, webhook_bot, webhook_settings
from tests.intake_desk import Citizen
from tests.staff_desk import ADMIN, DENIED, HANDLER, SUPERVISOR, add_team, answer_of
from tests.web_desk import browser, get, sign_in_link

SECRET = "anonymity-secret"
ANONYMOUS, SUPPORTER, NAMED = 76_001, 76_002, 76_003
NAME = "Meilingzhou"  # the anonymous citizen's Telegram first name
TEXT = "The heating company cut our heating over a disputed fee; block 7 is freezing."
OPEN_SENDS = "SELECT count(*) FROM outbox_message WHERE status IN ('pending', 'uncertain')"


class NamedCitizen(Citizen):
    """A citizen of tests.test_intake under a first name of their own."""

    def _push(self, **body: Any) -> dict[str, Any]:
        return self.sandbox.send_text(
            self.id, body.pop("text", ""), language_code="en", first_name=NAME, **body
        )


async def quiet(d: Desk) -> None:
    await eventually(lambda: query(d.db_path, OPEN_SENDS) == [(0,)], 20, what="sends recorded")


def assert_unnamed(text: str, where: str) -> None:
    for secret in (str(ANONYMOUS), NAME, str(SUPPORTER)):
        assert secret not in text, f"{where} shows {secret!r}:\n{text}"


async def test_an_anonymous_filer_is_never_named_to_staff(
    sandbox: Sandbox, db_path: Database
) -> None:
    settings = webhook_settings(
        sandbox, db_path, SECRET, MINSHENG_ADMIN_IDS=str(ADMIN), MINSHENG_FLOOD_MESSAGES="10000"
    )
    async with webhook_bot(settings, sandbox, db_path) as runtime:
        d = Desk(sandbox, runtime, db_path)
        await add_team(d)
        citizen = NamedCitizen(sandbox, db_path, ANONYMOUS, "en")
        await to_summary(citizen, TEXT)  # "Stay anonymous" on the way
        await citizen.press("in:submit")
        [tracking] = [row[0] for row in query(db_path, "SELECT tracking FROM service_case")]
        number = format_tracking_number(tracking)
        assert query(db_path, "SELECT anonymous FROM service_case") == [(1,)]

        now = datetime.now(UTC)
        zone = settings.zone
        await quiet(d)
        await join_case(tracking, SUPPORTER, now=now)
        await add_information(
            tracking,
            ANONYMOUS,
            text="It is block 7, entrance 2.",
            photos=(),
            now=now,
            staff_chat_id=d.staff,
        )
        await accept_case(tracking, "heating-company", by=SUPERVISOR, now=now, zone=zone)
        await submit_reply(
            tracking, "The company must restore heating; it has been told.", by=HANDLER, now=now
        )
        await approve_reply(tracking, by=SUPERVISOR, now=now)
        await rate_solved(tracking, ANONYMOUS, "not_solved", now=now)
        await rate_satisfaction(tracking, ANONYMOUS, "unsatisfied", now=now)
        await reopen_by_citizen(tracking, ANONYMOUS, now=now, staff_chat_id=d.staff)
        await quiet(d)

        # The staff chat: the new-request card, the addition, the reopening.
        staff_chat = "\n".join(
            m.get("text") or m.get("caption") or "" for m in sandbox.messages(d.staff)
        )
        assert f"New request {number}" in staff_chat
        assert "The citizen added to request" in staff_chat
        assert "Contact: anonymous; answer through the bot" in staff_chat
        assert_unnamed(staff_chat, "the staff chat")

        # /case, and Details on the card.
        shown = (await d.say(SUPERVISOR, f"/case {number}", 1))["text"]
        assert_unnamed(shown, "/case")
        for line in (
            "anonymous citizen filed the request",
            "citizen A joined the request as a supporter",
            "anonymous citizen added information: It is block 7, entrance 2.",
            "anonymous citizen rated the answer: Not solved; Unsatisfied",
            "anonymous citizen reopened the request, not satisfied with the answer",
        ):
            assert line in shown, (line, shown)
        card = next(
            m
            for m in sandbox.messages(d.staff)
            if f"New request {number}" in (m.get("text") or "")
        )
        before = len(sandbox.messages(d.staff))
        press = sandbox.press_button(HANDLER, d.staff, card["message_id"], f"st:det:{tracking}")
        assert await answer_of(sandbox, press) == ""
        details = (await sandbox.wait_for_messages(d.staff, before + 1, timeout=10))[before]
        assert "anonymous citizen filed the request" in details["text"]
        assert_unnamed(details["text"], "Details")

        # /queue.
        queue = (await d.say(SUPERVISOR, "/queue open", 2))["text"]
        assert number in queue
        assert_unnamed(queue, "/queue")

        # The dashboard: the queue and the case page (its timeline).
        base = f"http://{settings.webhook_listen}"
        async with await browser(await sign_in_link(d, SUPERVISOR)) as staff:
            status, page = await get(staff, f"{base}/web/")
            assert status == 200
            assert number in page
            assert_unnamed(page, "the dashboard's queue")
            status, page = await get(staff, f"{base}/web/case/{number}")
            assert status == 200
            assert "anonymous citizen filed the request" in page
            assert "citizen A joined the request as a supporter" in page
            assert_unnamed(page, "the dashboard's case page")

        # The export.
        exported = await export_csv(
            now - timedelta(days=1), now + timedelta(days=1), None, language="en", zone=zone
        )
        assert format_tracking_number(tracking) in exported.decode("utf-8-sig")
        assert_unnamed(exported.decode("utf-8-sig"), "the export")


async def test_a_filer_who_shared_their_phone_is_shown_as_before(
    sandbox: Sandbox, db_path: Database
) -> None:
    """Not anonymous: the filer by id, as before; a supporter still by a letter of the case."""
    settings = webhook_settings(sandbox, db_path, SECRET, MINSHENG_ADMIN_IDS=str(ADMIN))
    async with webhook_bot(settings, sandbox, db_path) as runtime:
        d = Desk(sandbox, runtime, db_path)
        await add_team(d)
        case = await d.file_case(NAMED, phone="+86 138 0000 0000")
        await join_case(case.tracking, SUPPORTER, now=datetime.now(UTC))
        await join_case(case.tracking, ANONYMOUS, now=datetime.now(UTC))
        shown = await d.say(SUPERVISOR, f"/case {format_tracking_number(case.tracking)}", 1)
        assert f"citizen {NAMED} filed the request" in shown["text"]
        assert "citizen A joined the request as a supporter" in shown["text"]
        assert "citizen B joined the request as a supporter" in shown["text"]
        assert str(SUPPORTER) not in shown["text"]
        assert str(ANONYMOUS) not in shown["text"]


async def test_a_forged_staff_button_leaves_no_trace_in_the_case(
    sandbox: Sandbox, db_path: Database
) -> None:
    """A citizen forging staff buttons (accept, reject, details) on someone's case: refused,
    recorded in the access log, and nothing written into the case's history."""
    settings = webhook_settings(sandbox, db_path, SECRET, MINSHENG_ADMIN_IDS=str(ADMIN))
    async with webhook_bot(settings, sandbox, db_path) as runtime:
        d = Desk(sandbox, runtime, db_path)
        case = await d.file_case(NAMED)
        for data in (
            f"st:acc:{case.tracking}",
            f"st:rej:{case.tracking}",
            f"st:det:{case.tracking}",
        ):
            forged = sandbox.press_button(ANONYMOUS, ANONYMOUS, 1, data, force=True)
            assert await answer_of(sandbox, forged) == DENIED
        await quiet(d)
        assert query(db_path, "SELECT kind FROM case_event") == [("submitted",)]
        assert (
            query(db_path, "SELECT user_id, reason, tracking FROM access_denial")
            == [(ANONYMOUS, "not_staff", case.tracking)] * 3
        )
        # Such an event, as an earlier version wrote it, is left out of the timeline.
        case_id = (await Case.get(tracking=case.tracking)).id
        await Event.create(
            case_id=case_id,
            kind="authz_denied",
            actor=Actor.STAFF,
            actor_id=ANONYMOUS,
            payload={"action": "accept"},
            public=False,
            created_at=datetime.now(UTC),
        )
        shown = (await d.say(ADMIN, f"/case {format_tracking_number(case.tracking)}", 1))["text"]
        assert "anonymous citizen filed the request" in shown  # filed without a phone
        assert str(ANONYMOUS) not in shown
        assert "refused" not in shown
