"""The staff desk end to end through the sandbox: managing staff, the new-case card's Accept and
Reject buttons, /case, and what the citizen is told, with every staff entry point denied to a
citizen."""

from __future__ import annotations

from typing import Any

from telegram.ext import CommandHandler

from bot.sandbox import Sandbox
from handlers import (
    staff_disputes,
    staff_handlers,
    staff_kb,
    staff_queue,
    staff_reports,
    staff_routing,
    staff_web,
    staff_work,
)
from handlers.routing import registered
from storage.citizens import choose_language
from storage.tracking import format_tracking_number
from tests.databases import Database
from tests.following import buttons, desk
from tests.harness import query
from tests.staff_desk import (
    ADMIN,
    CITIZEN,
    DENIED,
    HANDLER,
    SUPERVISOR,
    add_team,
    answer_of,
    card_of,
    edited,
    press,
    staff_desk,
)


def roles(db_path: Database) -> list[tuple[Any, ...]]:
    return query(db_path, "SELECT user_id, role FROM staff WHERE active ORDER BY user_id")


async def test_admins_manage_staff_and_others_are_told_no(
    sandbox: Sandbox, db_path: Database
) -> None:
    async with staff_desk(sandbox, db_path) as d:
        await add_team(d)
        listed = await d.say(ADMIN, "/staff list", 2)
        assert listed["text"].split("\n") == [
            "Staff:",
            f"• {ADMIN} — admin",
            f"• {SUPERVISOR} — supervisor",
            f"• {HANDLER} — handler — heating-company",
        ]
        before = roles(db_path)
        assert (await d.say(CITIZEN, f"/staff add {CITIZEN} admin", 1))["text"] == DENIED
        # A supervisor may not manage staff either; told so in their own language.
        refused = await d.say(SUPERVISOR, f"/staff remove {HANDLER}", 1, language_code="ru")
        assert refused["text"] == "Извините, у вас нет на это прав."
        assert roles(db_path) == before
        usage = await d.say(ADMIN, "/staff add handler", 3)
        assert usage["text"].startswith("Usage: /staff add")
        removed = await d.say(ADMIN, f"/staff remove {HANDLER}", 4)
        assert removed["text"] == f"{HANDLER} is no longer staff."
        last = await d.say(ADMIN, f"/staff remove {ADMIN}", 5)
        assert last["text"].startswith("That would leave the desk without an admin")
        assert query(db_path, "SELECT count(*) FROM access_denial")[0][0] == 2


async def test_accepting_from_the_card(sandbox: Sandbox, db_path: Database) -> None:
    async with staff_desk(sandbox, db_path) as d:
        await add_team(d)
        case = await d.file_case(CITIZEN, notify_staff=True)
        await choose_language(CITIZEN, "zh_Hans")
        await sandbox.wait_for_messages(d.staff, 2, timeout=10)
        card = card_of(d)
        number = format_tracking_number(case.tracking)
        assert card["text"].startswith(f"New request {number}")
        assert buttons(card) == [
            ("Accept as proposed", f"st:ok:{case.tracking}"),  # handlers.staff_proposal
            ("Accept", f"st:acc:{case.tracking}"),
            ("Reject", f"st:rej:{case.tracking}"),
            ("Details", f"st:det:{case.tracking}"),
        ]
        # A handler may not route; nothing changes.
        assert await press(d, HANDLER, card, f"st:acc:{case.tracking}") == DENIED
        assert await press(d, SUPERVISOR, card, f"st:acc:{case.tracking}") == ""
        offered = await edited(d, card["message_id"], 0)
        first = buttons(offered)[0]
        assert first[0] == "City Heating Company"
        assert first[1].startswith(f"st:dep:{case.tracking}:")
        assert all(len(data.encode()) <= 64 for _, data in buttons(offered))
        assert await press(d, SUPERVISOR, offered, first[1]) == ""
        done = await edited(d, card["message_id"], 1)
        assert done["text"].endswith("\n\nAccepted by User 72002 → City Heating Company")
        assert buttons(done) == []
        status = query(db_path, "SELECT status FROM service_case")
        assert status == [("accepted",)]
        told = (await sandbox.wait_for_messages(CITIZEN, 1, timeout=10))[-1]["text"]
        assert told.startswith(f"您的诉求 {number} 已受理，并转交市热力集团办理。\n")
        assert "年" in told.split("\n")[1]  # the due date, written the Chinese way
        # A second press (an old keyboard, or a colleague at the same moment) changes nothing.
        again = await press(d, ADMIN, offered, first[1])
        assert again == "This request was already handled."
        assert query(db_path, "SELECT count(*) FROM case_event WHERE kind = 'accepted'") == [(1,)]
        # /case: the card and the whole timeline, with who did what.
        shown = await d.say(SUPERVISOR, f"/case {number}", 1)
        assert "Timeline:" in shown["text"]
        assert "Status: accepted" in shown["text"]
        assert (
            f"staff member {SUPERVISOR} accepted the request into City Heating Company, due by "
        ) in shown["text"]
        # The handler's refused press is in the access log, not in the case's history.
        assert "was refused an action" not in shown["text"]
        assert (HANDLER, "accept") in query(db_path, "SELECT user_id, action FROM access_denial")


async def test_rejecting_from_the_card_and_forged_presses(
    sandbox: Sandbox, db_path: Database
) -> None:
    async with staff_desk(sandbox, db_path) as d:
        await add_team(d)
        case = await d.file_case(CITIZEN, notify_staff=True)
        other = await d.file_case(CITIZEN)
        await sandbox.wait_for_messages(d.staff, 2, timeout=10)
        card = card_of(d)
        # A citizen forging the Accept button of a case: told no, nothing changes.
        forged = sandbox.press_button(CITIZEN, CITIZEN, 1, f"st:acc:{other.tracking}", force=True)
        assert await answer_of(sandbox, forged) == DENIED
        forged = sandbox.press_button(CITIZEN, CITIZEN, 1, f"st:back:{other.tracking}", force=True)
        assert await answer_of(sandbox, forged) == DENIED
        assert await press(d, SUPERVISOR, card, f"st:rej:{case.tracking}") == ""
        reasons = await edited(d, card["message_id"], 0)
        assert [data for _, data in buttons(reasons)] == [
            f"st:rsn:{case.tracking}:{code}" for code in ("remit", "dup", "info", "other")
        ] + [f"st:back:{case.tracking}"]
        hint = await press(d, SUPERVISOR, reasons, f"st:rsn:{case.tracking}:other")
        shown = format_tracking_number(case.tracking)
        assert hint == f"Send /reject {shown} followed by the reason."
        assert await press(d, SUPERVISOR, reasons, f"st:rsn:{case.tracking}:dup") == ""
        done = await edited(d, card["message_id"], 1)
        assert done["text"].endswith("Rejected by User 72002: A duplicate of another request")
        told = (await sandbox.wait_for_messages(CITIZEN, 1, timeout=10))[-1]["text"]
        assert told == (
            f"Your request {format_tracking_number(case.tracking)} was not accepted."
            " Reason: A duplicate of another request"
        )
        # The other case, by typed command with a reason of one's own.
        typed = await d.say(SUPERVISOR, f"/reject {other.tracking} Please call 110 instead", 1)
        assert typed["text"] == f"Request {format_tracking_number(other.tracking)} was rejected."
        told = (await sandbox.wait_for_messages(CITIZEN, 2, timeout=10))[-1]["text"]
        assert told.endswith("Reason: Please call 110 instead")
        statuses = query(db_path, "SELECT status FROM service_case ORDER BY id")
        assert statuses == [("rejected",), ("rejected",)]
        denials = query(db_path, "SELECT user_id, action, reason FROM access_denial")
        assert denials == [(CITIZEN, "accept", "not_staff"), (CITIZEN, "reject", "not_staff")]


async def test_every_staff_command_denies_a_citizen(sandbox: Sandbox, db_path: Database) -> None:
    # One citizen sends every staff command in a row: widen the flood gate so it stays quiet.
    async with desk(
        sandbox, db_path, MINSHENG_ADMIN_IDS=str(ADMIN), MINSHENG_FLOOD_MESSAGES="100000"
    ) as d:
        case = await d.file_case(CITIZEN)
        # A set: /reply and /ask have a second handler, for a reply template (t:code).
        staff_commands = sorted(
            {
                command
                for handler in registered(d.runtime.app)
                if isinstance(handler, CommandHandler)
                and (
                    handler.callback.__module__.startswith("handlers.staff")
                    or any(c.startswith("staff") for c in handler.commands)
                )
                for command in handler.commands
            }
        )
        expected = [
            "case",
            "reject",
            "staff",
            *staff_work.COMMANDS,
            *staff_queue.COMMANDS,
            *staff_routing.COMMANDS,
            *staff_reports.COMMANDS,
            *staff_web.COMMANDS,
            *staff_kb.COMMANDS,
            *staff_handlers.COMMANDS,
            *staff_disputes.COMMANDS,
        ]
        assert staff_commands == sorted(expected)
        for n, command in enumerate(staff_commands, start=1):
            answer = await d.say(CITIZEN, f"/{command} {case.tracking} list add remove", n)
            assert answer["text"] == DENIED, command
        assert query(db_path, "SELECT status FROM service_case") == [("submitted",)]
        assert query(db_path, "SELECT count(*) FROM staff") == [(1,)]
