"""Routing like a hotline, end to end through the sandbox: a case routed to a lead department
with a co-handler, the routing notice in the staff chat (Sign for · Send back), signing for it
by button and by command, sending it back (退单) with a reason to be routed again (改派), what a
co-handling department may and may not do, and the third pass that a supervisor must route by
hand. Time is a ManualClock, so the sign-for limit is exact."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.clock import ManualClock
from bot.sandbox import Sandbox
from bot.texts.cases import when
from storage.tracking import format_tracking_number
from tests.databases import Database
from tests.following import OPEN_SENDS, Desk, buttons
from tests.harness import eventually, query, running_bot, settings_for
from tests.staff_desk import (
    ADMIN,
    CITIZEN,
    DENIED,
    HANDLER,
    SUPERVISOR,
    add_team,
    answer_of,
    edited,
    press,
)

GAS = 75_005  # a handler of the gas company: co-handler, then the lead after re-routing
WATER = 75_006  # a handler of the water company: no part in the case
START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # a Monday, 09:00 in Shanghai
SHANGHAI = ZoneInfo("Asia/Shanghai")
HEAT, GAS_NAME = "City Heating Company", "City Gas Company"


@contextlib.asynccontextmanager
async def routing_desk(
    sandbox: Sandbox, db_path: Database
) -> AsyncIterator[tuple[Desk, ManualClock]]:
    clock = ManualClock(START)
    settings = settings_for(
        sandbox, db_path, MINSHENG_ADMIN_IDS=str(ADMIN), MINSHENG_SIGN_LIMIT_HOURS="2"
    )
    async with running_bot(settings, clock) as runtime:
        yield Desk(sandbox, runtime, db_path), clock
        await eventually(lambda: not query(db_path, OPEN_SENDS), 20, what="sends recorded")


async def say(d: Desk, user_id: int, text: str) -> str:
    """A private command; the text of the one answer it brings."""
    count = len(d.sandbox.messages(user_id))
    return str((await d.say(user_id, text, count + 1)).get("text") or "")


async def staff_says(d: Desk, user_id: int, text: str, expect: int) -> list[dict[str, Any]]:
    """A private command whose effect is `expect` new messages in the staff chat; those."""
    before = len(d.sandbox.messages(d.staff))
    await say(d, user_id, text)
    told = await d.sandbox.wait_for_messages(d.staff, before + expect, timeout=10)
    return told[before:]


async def team(d: Desk) -> None:
    await add_team(d)
    for user, code in ((GAS, "gas-company"), (WATER, "water-company")):
        added = await say(d, ADMIN, f"/staff add {user} handler {code}")
        assert added == f"Done: • {user} — handler — {code}"


COLUMNS = (
    "status",
    "version",
    "department_id",
    "signed_at",
    "sign_due_at",
    "transfer_count",
    "route_by_hand",
)
ROW = (
    "SELECT status, version, department_id, signed_at, sign_due_at, transfer_count, "
    "route_by_hand FROM service_case WHERE tracking = ?"
)


def row(db_path: Database, tracking: str) -> dict[str, Any]:
    return dict(zip(COLUMNS, query(db_path, ROW, (tracking,))[0], strict=True))


def events(db_path: Database, kind: str) -> list[dict[str, Any]]:
    rows = query(db_path, "SELECT payload FROM case_event WHERE kind = ? ORDER BY id", (kind,))
    return [json.loads(payload) for (payload,) in rows]


CO = "SELECT d.code FROM case_co_department c JOIN department d ON d.id = c.department_id"


def co_handlers(db_path: Database) -> list[str]:
    return [code for (code,) in query(db_path, CO)]


def stamp(moment: datetime) -> str:
    """A time as the database holds it (SQLite: ISO text, UTC)."""
    return moment.isoformat(sep=" ")


async def test_route_sign_send_back_and_route_again(sandbox: Sandbox, db_path: Database) -> None:
    async with routing_desk(sandbox, db_path) as (d, clock):
        await team(d)
        case = await d.file_case(CITIZEN, at=START)
        tracking, number = case.tracking, format_tracking_number(case.tracking)

        # Routed with a co-handler: the staff chat is told, with Sign for · Send back.
        [notice] = await staff_says(
            d, SUPERVISOR, f"/assign {number} heating-company gas-company", expect=1
        )
        assert d.sandbox.messages(SUPERVISOR)[-1]["text"] == (
            f"Request {number} was assigned to City Heating Company, with co-handling by "
            "City Gas Company."
        )
        due = when(START + timedelta(hours=2), SHANGHAI, "en")
        assert notice["text"] == (
            f"Request {number} was routed to {HEAT}, with co-handling by "
            f"{GAS_NAME}; sign for it by {due}."
        )
        assert buttons(notice) == [
            ("Sign for", f"ro:sign:{tracking}"),
            ("Send back", f"ro:back:{tracking}"),
            ("Take", f"ho:take:{tracking}"),
        ]
        assert all(len(data.encode()) <= 64 for _, data in buttons(notice))
        routed = row(db_path, tracking)
        assert routed["signed_at"] is None
        assert routed["sign_due_at"].startswith(stamp(START + timedelta(hours=2))[:19])
        assert co_handlers(db_path) == ["gas-company"]

        # The co-handler sees the case and adds its input, but may not answer or sign.
        shown = await say(d, GAS, f"/case {number}")
        assert f"Lead department: {HEAT}\nCo-handling: {GAS_NAME}\n" in shown
        assert f"Not signed for yet; due by {due}" in shown
        noted = await say(d, GAS, f"/note {number} The gas main on this street was checked.")
        assert noted == f"Your note was added to {number}."
        before = row(db_path, tracking)
        assert await say(d, GAS, f"/reply {number} The heating company will call you today.") == (
            DENIED
        )
        assert await say(d, GAS, f"/sign {number}") == DENIED
        assert await say(d, GAS, f"/sendback {number} Not ours") == DENIED
        assert await press(d, GAS, notice, f"ro:sign:{tracking}") == DENIED
        # Neither may a department with no part in it, nor a citizen forging the button.
        assert await say(d, WATER, f"/case {number}") == DENIED
        assert await press(d, WATER, notice, f"ro:sign:{tracking}") == DENIED
        forged = sandbox.press_button(CITIZEN, CITIZEN, 1, f"ro:sign:{tracking}", force=True)
        assert await answer_of(sandbox, forged) == DENIED
        forged = sandbox.press_button(CITIZEN, CITIZEN, 1, f"ro:sign:{tracking}X", force=True)
        assert await answer_of(sandbox, forged) == "This button has expired."
        assert row(db_path, tracking) == before

        # The lead's handler signs by button; a second press (or /sign) counts nothing.
        clock.advance(timedelta(minutes=30))
        assert await press(d, HANDLER, notice, f"ro:sign:{tracking}") == ""
        signed = await edited(d, notice["message_id"], 0)
        assert signed["text"].endswith(f"\n\nSigned for by User {HANDLER}")
        assert buttons(signed) == [
            ("Send back", f"ro:back:{tracking}"),
            ("Take", f"ho:take:{tracking}"),
        ]
        assert await press(d, HANDLER, notice, f"ro:sign:{tracking}") == (
            f"Request {number} was already signed for."
        )
        assert await say(d, HANDLER, f"/sign {number}") == (
            f"Request {number} was already signed for."
        )
        assert events(db_path, "signed") == [{"department": "heating-company", "on_time": True}]
        signed_at = START + timedelta(minutes=30)
        assert row(db_path, tracking)["signed_at"].startswith(stamp(signed_at)[:19])
        assert f"Signed for: {when(signed_at, SHANGHAI, 'en')}" in await say(
            d, SUPERVISOR, f"/case {number}"
        )

        # Send back (退单): the button says how; the command returns it with the reason.
        assert await press(d, HANDLER, notice, f"ro:back:{tracking}") == ""
        reasons = await edited(d, notice["message_id"], 1)
        assert [data for _, data in buttons(reasons)] == [
            f"ro:rsn:{tracking}:{code}" for code in ("remit", "area", "other")
        ] + [f"ro:kb:{tracking}"]
        assert await press(d, HANDLER, reasons, f"ro:rsn:{tracking}:other") == (
            f"Send /sendback {number} followed by the reason."
        )
        assert await press(d, HANDLER, reasons, f"ro:kb:{tracking}") == ""
        restored = await edited(d, notice["message_id"], 2)
        assert buttons(restored) == [
            ("Send back", f"ro:back:{tracking}"),
            ("Take", f"ho:take:{tracking}"),
        ]
        assert await press(d, GAS, notice, f"ro:back:{tracking}") == DENIED
        assert await say(d, HANDLER, f"/sendback {number}") == (
            "Usage: /sendback <number> <reason>"
        )
        reason = "It is a gas boiler in the flat, not the district heating"
        [returned] = await staff_says(d, HANDLER, f"/sendback {number} {reason}", expect=1)
        assert d.sandbox.messages(HANDLER)[-1]["text"] == (
            f"Request {number} was sent back to the supervisors to be routed again."
        )
        assert returned["text"] == (
            f"Request {number} was sent back by {HEAT} as misrouted. "
            f"Reason: {reason}\nRoute it again:"
        )
        assert buttons(returned) == [
            ("Accept", f"st:acc:{tracking}"),
            ("Reject", f"st:rej:{tracking}"),
            ("Details", f"st:det:{tracking}"),
        ]
        back = row(db_path, tracking)
        assert (
            back["status"],
            back["department_id"],
            back["signed_at"],
            back["sign_due_at"],
            back["transfer_count"],
            back["route_by_hand"],
        ) == ("submitted", None, None, None, 1, 0)
        assert co_handlers(db_path) == []
        assert events(db_path, "sent_back") == [
            {"department": "heating-company", "reason": reason}
        ]
        assert await press(d, HANDLER, notice, f"ro:sign:{tracking}") == (
            "This request was already handled."  # no longer routed: nothing to sign for
        )

        # Re-routed (改派) by /assign to the gas company, whose handler signs by command.
        clock.advance(timedelta(hours=1))
        [again] = await staff_says(d, SUPERVISOR, f"/assign {number} gas-company", expect=1)
        new_due = when(clock.now() + timedelta(hours=2), SHANGHAI, "en")
        assert again["text"] == (
            f"Request {number} was routed to {GAS_NAME}; sign for it by {new_due}."
        )
        assert await say(d, HANDLER, f"/sign {number}") == DENIED
        assert await say(d, HANDLER, f"/sendback {number} Not ours either") == DENIED
        assert await say(d, GAS, f"/sign {number}") == f"You signed for request {number}."
        final = row(db_path, tracking)
        assert (final["status"], final["transfer_count"]) == ("accepted", 1)
        assert len(events(db_path, "signed")) == 2
        # None of it reached the citizen: routing is the desk's own business.
        texts = [m.get("text", "") for m in sandbox.messages(CITIZEN)]
        assert not any("sign" in text.lower() or reason in text for text in texts)


async def test_third_pass_goes_to_a_supervisor_by_hand(
    sandbox: Sandbox, db_path: Database
) -> None:
    async with routing_desk(sandbox, db_path) as (d, clock):
        await team(d)
        case = await d.file_case(CITIZEN, at=START)
        tracking, number = case.tracking, format_tracking_number(case.tracking)
        twice = f"/assign {number} heating-company gas-company gas-company"
        assert await say(d, SUPERVISOR, twice) == (
            f"gas-company already leads or co-handles request {number}."
        )
        assert await say(d, HANDLER, twice) == DENIED
        assert row(db_path, tracking)["status"] == "submitted"
        await staff_says(d, SUPERVISOR, f"/assign {number} heating-company", expect=1)
        assert await say(d, HANDLER, f"/sign {number}") == f"You signed for request {number}."

        # A transfer: counted, and the new department signs afresh within its own limit.
        clock.advance(timedelta(hours=5))
        [moved] = await staff_says(
            d, SUPERVISOR, f"/transfer {number} gas-company The boiler is gas-fired", expect=1
        )
        assert moved["text"].startswith(f"Request {number} was routed to {GAS_NAME}; ")
        first = row(db_path, tracking)
        assert first["signed_at"] is None
        assert first["sign_due_at"].startswith(stamp(clock.now() + timedelta(hours=2))[:19])
        assert first["transfer_count"] == 1
        # A co-handler added by a supervisor; not the lead itself, not twice.
        cohandle = f"/cohandle {number} heating-company"
        [joined] = await staff_says(d, SUPERVISOR, cohandle, expect=1)
        assert joined["text"] == f"{HEAT} now co-handles request {number}."
        assert await say(d, SUPERVISOR, cohandle) == (
            f"heating-company already leads or co-handles request {number}."
        )
        assert await say(d, SUPERVISOR, f"/cohandle {number} gas-company") == (
            f"gas-company already leads or co-handles request {number}."
        )
        assert await say(d, GAS, f"/cohandle {number} water-company") == DENIED
        assert await say(d, SUPERVISOR, f"/cohandle {number} nope") == (
            "There is no active department with the code nope."
        )

        # Back to the heating company (a second pass): it leads again and co-handles no more.
        [heat] = await staff_says(d, SUPERVISOR, f"/transfer {number} heating-company Pump", 1)
        assert co_handlers(db_path) == []
        assert row(db_path, tracking)["route_by_hand"] == 0

        # The third pass, a return by reason button: a supervisor must route it by hand, and the
        # staff chat is told.
        before = len(sandbox.messages(d.staff))
        assert await press(d, HANDLER, heat, f"ro:rsn:{tracking}:remit") == ""
        marked = await edited(d, heat["message_id"], 0)
        reason = "Not within our department's remit"
        assert marked["text"].endswith(f"\n\nSent back by User {HANDLER}: {reason}")
        assert buttons(marked) == []
        told = (await sandbox.wait_for_messages(d.staff, before + 2, timeout=10))[before:]
        texts = sorted(m["text"] for m in told)
        assert texts[0] == (
            f"Request {number} has been passed between departments 3 times; a "
            "supervisor must route it by hand."
        )
        assert texts[1].startswith(
            f"Request {number} was sent back by {HEAT} as misrouted. Reason: {reason}\n"
        )
        assert events(db_path, "sent_back")[-1]["reason"] == reason
        flagged = row(db_path, tracking)
        assert (flagged["transfer_count"], flagged["route_by_hand"]) == (3, 1)
        assert events(db_path, "route_by_hand") == [{"transfers": 3}]
        by_hand = await say(d, SUPERVISOR, "/queue hand")
        assert by_hand.split("\n")[:2] == [
            "Requests to route by hand: 1, page 1 of 1",
            by_hand.split("\n")[1],
        ]
        assert by_hand.split("\n")[1].startswith(f"{number} · submitted · ")

        # Routed again from the returned notice's buttons (Accept → department).
        returned = next(m for m in told if m["text"].startswith(f"Request {number} was sent"))
        assert await press(d, SUPERVISOR, returned, f"st:acc:{tracking}") == ""
        offered = await edited(d, returned["message_id"], 0)
        # The department tree a level at a time, eight a page: Next › until the Water
        # Authority shows, then its company.
        edits = 0
        while "Water Authority ›" not in dict(buttons(offered)):
            assert await press(d, SUPERVISOR, offered, dict(buttons(offered))["Next ›"]) == ""
            edits += 1
            offered = await edited(d, returned["message_id"], edits)
        authority = dict(buttons(offered))["Water Authority ›"]
        assert await press(d, SUPERVISOR, offered, authority) == ""
        offered = await edited(d, returned["message_id"], edits + 1)
        water = dict(buttons(offered))["City Water Supply Company"]
        before = len(sandbox.messages(d.staff))
        assert await press(d, SUPERVISOR, offered, water) == ""
        await sandbox.wait_for_messages(d.staff, before + 1, timeout=10)
        assert sandbox.messages(d.staff)[-1]["text"].startswith(
            f"Request {number} was routed to City Water Supply Company; "
        )
        assert "A supervisor routes this request by hand." in await say(
            d, SUPERVISOR, f"/case {number}"
        )

        # The first work action signs implicitly: a question to the citizen.
        clock.advance(timedelta(hours=3))
        asked = await say(d, WATER, f"/ask {number} Which building and flat, please?")
        assert asked == f"Your question on {number} was sent to the citizen."
        assert row(db_path, tracking)["signed_at"].startswith(stamp(clock.now())[:19])
        assert len(events(db_path, "signed")) == 1  # the first /sign; the question is its own
        assert await say(d, WATER, f"/sendback {number} Not ours") == (
            f"That cannot be done to request {number} in its present state."
        )
