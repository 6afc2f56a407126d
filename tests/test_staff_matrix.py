"""Who may run which staff command, end to end through the sandbox (RELIABILITY rows 17-20).

The expected table, derived from storage/staff.py: admins may do everything; supervisors (here
one without a department, so unrestricted) everything but managing staff; handlers reply, ask,
view (/case, /queue) and note on their own department's cases only; citizens nothing. A denial
is the one generic line and leaves the case row (status, version) unchanged.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.i18n import Catalogs
from bot.sandbox import Sandbox
from handlers import STAFF_COMMANDS
from handlers.attribution import refusal
from storage.lifecycle import accept_case
from storage.lifecycle_replies import submit_reply
from storage.tracking import format_tracking_number
from tests.databases import Database
from tests.following import Desk, buttons, desk
from tests.harness import eventually, query
from tests.staff_chat import group_message
from tests.staff_desk import ADMIN, DENIED, HANDLER, SUPERVISOR, add_team

FILER = 74_001  # the citizen whose cases are worked (told of changes, so kept out of the matrix)
CITIZEN = 74_002  # a citizen trying staff commands
OTHER = 74_003  # a handler of the gas company
ANONYMOUS = 1_087_968_824  # Telegram's GroupAnonymousBot: from.id of an anonymous group admin

ROLES = ("citizen", "other_handler", "handler", "supervisor", "admin")
USERS = {
    "citizen": CITIZEN,
    "other_handler": OTHER,
    "handler": HANDLER,
    "supervisor": SUPERVISOR,
    "admin": ADMIN,
}
# command -> the roles allowed to run it on a heating-company case.
EXPECTED: dict[str, frozenset[str]] = {
    "staff": frozenset({"admin"}),
    "case": frozenset({"handler", "supervisor", "admin"}),
    "reject": frozenset({"supervisor", "admin"}),
    "transfer": frozenset({"supervisor", "admin"}),
    "reply": frozenset({"handler", "supervisor", "admin"}),
    "ask": frozenset({"handler", "supervisor", "admin"}),
    "close": frozenset({"supervisor", "admin"}),
    "merge": frozenset({"supervisor", "admin"}),
    "reopen": frozenset({"supervisor", "admin"}),
    "approve": frozenset({"supervisor", "admin"}),
    "return": frozenset({"supervisor", "admin"}),
    "queue": frozenset(ROLES) - {"citizen"},  # any staff; a handler sees their department
    "note": frozenset({"handler", "supervisor", "admin"}),
    "assign": frozenset({"supervisor", "admin"}),
    "ban": frozenset({"supervisor", "admin"}),  # caseless: only an unrestricted supervisor
    "unban": frozenset({"supervisor", "admin"}),
    # Routing: the lead department signs for a case or sends it back; supervisors add co-handlers.
    "sign": frozenset({"handler", "supervisor", "admin"}),
    "sendback": frozenset({"handler", "supervisor", "admin"}),
    "cohandle": frozenset({"supervisor", "admin"}),
    # Time limits: supervisors mark urgent and decide extensions the lead department asks for.
    "urgent": frozenset({"supervisor", "admin"}),
    "extend": frozenset({"handler", "supervisor", "admin"}),
    "grant": frozenset({"supervisor", "admin"}),
    "refuse": frozenset({"supervisor", "admin"}),
    # Reports: figures, the weekly digest and the CSV file, for supervisors and admins.
    "stats": frozenset({"supervisor", "admin"}),
    "digest": frozenset({"supervisor", "admin"}),
    "export": frozenset({"supervisor", "admin"}),
    # The dashboard: any staff member gets a sign-in link (what they may do there is as here).
    "web": frozenset(ROLES) - {"citizen"},
    # The knowledge base: any staff member searches it.
    "kb": frozenset(ROLES) - {"citizen"},
    # A handler within the department (承办人): its staff take a case, and give one to a
    # colleague; supervisors and admins give cases out (they hold none: told so, not denied).
    "take": frozenset({"handler", "supervisor", "admin"}),
    "give": frozenset({"handler", "supervisor", "admin"}),
    # Disputing an unsatisfied rating is for the case's department; supervisors decide (the
    # list of disputes waiting shows each staff member those in their reach).
    "dispute": frozenset({"handler", "supervisor", "admin"}),
    "disputes": frozenset(ROLES) - {"citizen"},  # those in reach: a handler sees its own
}
# A handler of another department is refused with a line that says why (and is audited)
# rather than the generic one, where the command names the department rule.
OTHER_DEPARTMENT = {
    "take": "Request {number} is with another department: you can take or give only your own "
    "department's requests.",
    "give": "Request {number} is with another department: you can take or give only your own "
    "department's requests.",
    "dispute": "Only the staff of the department of request {number} may dispute its rating.",
}


def staff_desk(sandbox: Sandbox, db_path: Database) -> Any:
    # The matrix sends many commands quickly from the same staff; the citizens' flood gate
    # (which counts staff in private chats too) is widened so it does not answer instead.
    return desk(sandbox, db_path, MINSHENG_ADMIN_IDS=str(ADMIN), MINSHENG_FLOOD_MESSAGES="100000")


REPLY = "We sent an engineer today; the heating in your building is back on since 14:00."


def case_row(db_path: Database, tracking: str) -> tuple[Any, ...]:
    return query(
        db_path,
        "SELECT status, version, department_id FROM service_case WHERE tracking = ?",
        (tracking,),
    )[0]


async def say(d: Desk, user_id: int, text: str, **extra: Any) -> str:
    """Send a private message; the text of the one bot message it brings."""
    count = len(d.sandbox.messages(user_id))
    return str((await d.say(user_id, text, count + 1, **extra)).get("text") or "")


async def team(d: Desk) -> None:
    await add_team(d)
    assert (await say(d, ADMIN, f"/staff add {OTHER} handler gas-company")).startswith("Done:")


async def accepted(d: Desk, *, accept: bool = True) -> str:
    case = await d.file_case(FILER)
    if accept:
        zone = d.runtime.services.settings.zone
        await accept_case(
            case.tracking, "heating-company", by=ADMIN, now=datetime.now(UTC), zone=zone
        )
    return case.tracking


async def line_for(d: Desk, command: str, tracking: str) -> str:
    """A well-formed command line for `command` on a case set up in the state it needs."""
    number = format_tracking_number(tracking)
    if command == "staff":
        return "/staff add 74999 handler heating-company"
    if command in ("approve", "return"):  # a reply waiting for review
        sent = await say(d, HANDLER, f"/reply {number} {REPLY}")
        assert sent == f"Your reply to {number} was sent for review."
        return f"/{command} {number}" + (" Say which valve, please" if command == "return" else "")
    if command == "merge":
        return f"/merge {number} {format_tracking_number(await accepted(d))}"
    if command == "dispute":  # an answer its citizen rated unsatisfied
        await rated_unsatisfied(d, tracking)
        return f"/dispute {number} against_law The citizen asks us to cut a neighbour's heating"
    if command in ("grant", "refuse"):  # an extension request waiting for a decision
        sent = await say(d, HANDLER, f"/extend {number} 2 Waiting for the spare part")
        assert sent.startswith("Your request for 2 more working days")
        return f"/{command} {number}" + (" Two weeks is enough" if command == "refuse" else "")
    return {
        "case": f"/case {number}",
        "reject": f"/reject {number} Not a matter for the city",
        "transfer": f"/transfer {number} gas-company It is a gas boiler",
        "reply": f"/reply {number} {REPLY}",
        "ask": f"/ask {number} Which building and flat, please?",
        "close": f"/close {number}",
        "reopen": f"/reopen {number}",
        "queue": "/queue department",
        "note": f"/note {number} The caller sounded elderly; phone first.",
        "assign": f"/assign {number} gas-company",
        "ban": "/ban 74777 Abusive messages",
        "unban": "/unban 74777",
        "sign": f"/sign {number}",
        "sendback": f"/sendback {number} Not ours: the boiler is the gas company's",
        "cohandle": f"/cohandle {number} gas-company",
        "urgent": f"/urgent {number} 4",
        "extend": f"/extend {number} 2 Waiting for the spare part",
        "stats": "/stats month",
        "digest": "/digest",
        "export": "/export month",
        "web": "/web",
        "kb": "/kb heating",
        "take": f"/take {number}",
        "give": f"/give {number} {HANDLER}",
        "disputes": "/disputes",
    }[command]


async def rated_unsatisfied(d: Desk, tracking: str) -> None:
    """The case answered, and its citizen not solved and unsatisfied, in the chat."""
    await submit_reply(tracking, REPLY, by=ADMIN, now=datetime.now(UTC))
    rating = await eventually(
        lambda: next(
            (
                m
                for m in reversed(d.sandbox.messages(FILER))
                if f"rt:s:{tracking}:not_solved" in [data for _, data in buttons(m)]
            ),
            None,
        ),
        10,
        what="the rating question",
    )
    await d.press_edit(FILER, rating, f"rt:s:{tracking}:not_solved")
    await d.press_edit(FILER, rating, f"rt:f:{tracking}:unsatisfied")


def test_the_table_covers_every_staff_command() -> None:
    assert sorted(EXPECTED) == sorted(STAFF_COMMANDS)


@pytest.mark.slow
async def test_access_matrix(sandbox: Sandbox, db_path: Database) -> None:
    async with staff_desk(sandbox, db_path) as d:
        await team(d)
        wrong: list[str] = []
        for command in STAFF_COMMANDS:
            for role in ROLES:
                allowed = role in EXPECTED[command]
                tracking = await accepted(d, accept=command != "reject")
                line = await line_for(d, command, tracking)
                before = case_row(db_path, tracking)
                staff_before = query(db_path, "SELECT user_id, role, active FROM staff")
                answer = await say(d, USERS[role], line)
                if allowed and answer == DENIED:
                    wrong.append(f"{role} {line!r}: denied, expected allowed")
                elif not allowed:
                    own = (
                        OTHER_DEPARTMENT.get(command, DENIED)
                        if role == "other_handler"
                        else DENIED
                    )
                    if answer != own.format(number=format_tracking_number(tracking)):
                        wrong.append(f"{role} {line!r}: {answer!r}, expected denied")
                    if case_row(db_path, tracking) != before:
                        wrong.append(f"{role} {line!r}: the case changed on a denial")
                    if query(db_path, "SELECT user_id, role, active FROM staff") != staff_before:
                        wrong.append(f"{role} {line!r}: the staff changed on a denial")
        assert wrong == []
        # Every denial is audited.
        denials = sum(len(ROLES) - len(roles) for roles in EXPECTED.values())
        assert query(db_path, "SELECT count(*) FROM access_denial")[0][0] == denials


async def test_a_revoked_supervisor_is_denied_at_once(sandbox: Sandbox, db_path: Database) -> None:
    """Row 18: the role is taken away between two updates; the next one is refused."""
    async with staff_desk(sandbox, db_path) as d:
        await team(d)
        tracking = await accepted(d)
        number = format_tracking_number(tracking)
        sent = await say(d, SUPERVISOR, f"/ask {number} Which building and flat, please?")
        assert sent == f"Your question on {number} was sent to the citizen."
        assert await say(d, ADMIN, f"/staff remove {SUPERVISOR}") == (
            f"{SUPERVISOR} is no longer staff."
        )
        before = case_row(db_path, tracking)
        assert await say(d, SUPERVISOR, f"/close {number}") == DENIED
        assert await say(d, SUPERVISOR, f"/case {number}") == DENIED
        assert case_row(db_path, tracking) == before


def anonymous_message(d: Desk, text: str, *, reply_to: dict[str, Any] | None = None) -> None:
    """A message in the staff group sent by an anonymous group admin (or as the group)."""
    sender = {
        "id": ANONYMOUS,
        "is_bot": True,
        "first_name": "Group",
        "username": "GroupAnonymousBot",
    }
    group_message(d, sender, d.sandbox.world.chat(d.staff), text, reply_to=reply_to)


async def test_anonymous_admins_are_not_attributable(sandbox: Sandbox, db_path: Database) -> None:
    """Row 19: a command from an anonymous group admin acts for nobody."""
    async with staff_desk(sandbox, db_path) as d:
        await team(d)
        tracking = await accepted(d)
        number = format_tracking_number(tracking)
        before = case_row(db_path, tracking)
        staff_chat = len(sandbox.messages(d.staff))
        anonymous_message(d, f"/close {number}")
        told = await sandbox.wait_for_messages(d.staff, staff_chat + 1, timeout=10)
        assert told[-1]["text"] == refusal(Catalogs().get("en"))  # not the generic DENIED
        assert case_row(db_path, tracking) == before
        # An admin who "adds the sender" of an anonymous admin's message must not make every
        # anonymous admin of the group staff: GroupAnonymousBot is nobody in particular.
        anonymous_message(d, "I can help with heating cases")
        hello = sandbox.world.user_messages[
            (d.staff, max(mid for chat, mid in sandbox.world.user_messages if chat == d.staff))
        ]
        sandbox.send_text(
            ADMIN,
            "/staff add handler heating-company",
            chat_id=d.staff,
            reply_to_message_id=hello["message_id"],
        )
        await sandbox.wait_for_messages(d.staff, staff_chat + 2, timeout=10)
        assert (
            query(db_path, "SELECT role FROM staff WHERE user_id = ? AND active", (ANONYMOUS,))
            == []
        )
        anonymous_message(d, f"/ask {number} Which flat?")
        told = await sandbox.wait_for_messages(d.staff, staff_chat + 3, timeout=10)
        assert told[-1]["text"] == refusal(Catalogs().get("en"))
        assert case_row(db_path, tracking) == before
        # Audited as denials of nobody in particular (handlers.attribution).
        assert query(
            db_path, "SELECT user_id, action, reason FROM access_denial WHERE reason = 'anonymous'"
        ) == [(ANONYMOUS, "close", "anonymous"), (ANONYMOUS, "ask", "anonymous")]


async def test_a_namesake_of_staff_gets_nothing(sandbox: Sandbox, db_path: Database) -> None:
    """Row 20: access goes by numeric id; a citizen with a staff member's names is a citizen."""
    async with staff_desk(sandbox, db_path) as d:
        await team(d)
        tracking = await accepted(d)
        number = format_tracking_number(tracking)
        # The supervisor and admin are known to the sandbox by these names.
        await say(d, SUPERVISOR, f"/case {number}", first_name="Anna", username="anna_sup")
        await say(d, ADMIN, "/staff list", first_name="Boss", username="desk_admin")
        before = case_row(db_path, tracking)
        for first_name, username in (("Anna", "anna_sup"), ("Boss", "desk_admin")):
            for line in (f"/close {number}", f"/case {number}", f"/staff add {CITIZEN} admin"):
                spoof = await say(d, CITIZEN, line, first_name=first_name, username=username)
                assert spoof == DENIED, line
        # In the staff group too.
        staff_chat = len(sandbox.messages(d.staff))
        sandbox.send_text(
            CITIZEN, f"/close {number}", chat_id=d.staff, first_name="Anna", username="anna_sup"
        )
        told = await sandbox.wait_for_messages(d.staff, staff_chat + 1, timeout=10)
        assert told[-1]["text"] == DENIED
        assert case_row(db_path, tracking) == before
        assert query(db_path, "SELECT count(*) FROM staff WHERE user_id = ?", (CITIZEN,)) == [(0,)]


async def test_a_citizen_sending_a_bare_staff_command_is_told_no_not_its_usage(
    sandbox: Sandbox, db_path: Database
) -> None:
    """A staff command with nothing after it, from a citizen: the one not-allowed line. Its
    usage would tell them how staff use the desk (RELIABILITY: a staff command from a
    non-staff user)."""
    async with staff_desk(sandbox, db_path) as d:
        await team(d)
        answers = {command: await say(d, CITIZEN, f"/{command}") for command in STAFF_COMMANDS}
        assert {c: a for c, a in answers.items() if a != DENIED} == {}
