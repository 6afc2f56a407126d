"""Staff queues and small commands end to end through the sandbox: /queue with its Prev · Next
buttons, /note (never shown to the citizen), /assign, /ban and /unban; and a citizen denied
every one of them."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.sandbox import Sandbox
from handlers import staff_queue
from storage.lifecycle import accept_case
from storage.tracking import format_tracking_number
from tests.databases import Database
from tests.following import Desk, buttons
from tests.harness import query, wait_handled
from tests.staff_desk import (
    ADMIN,
    CITIZEN,
    DENIED,
    HANDLER,
    SUPERVISOR,
    add_team,
    answer_of,
    staff_desk,
)


async def accept(d: Desk, tracking: str, department: str) -> None:
    zone = d.runtime.services.settings.zone
    await accept_case(tracking, department, by=ADMIN, now=datetime.now(UTC), zone=zone)


async def test_queue_new_pages_and_mine(sandbox: Sandbox, db_path: Database) -> None:
    async with staff_desk(sandbox, db_path) as d:
        await add_team(d)
        cases = [await d.file_case(CITIZEN) for _ in range(12)]
        first = await d.say(SUPERVISOR, "/queue new", 1)
        lines = first["text"].split("\n")
        assert lines[0] == "New requests: 12, page 1 of 2"
        assert len(lines) == 11
        assert lines[1].startswith(f"{format_tracking_number(cases[0].tracking)} · submitted · ")
        assert buttons(first) == [("Next ›", "sq:new:2")]
        second = await d.press_edit(SUPERVISOR, first, "sq:new:2")
        assert second["text"].split("\n")[0] == "New requests: 12, page 2 of 2"
        assert len(second["text"].split("\n")) == 3
        assert buttons(second) == [("‹ Prev", "sq:new:1")]
        typed = await d.say(SUPERVISOR, "/queue new 2", 2)
        assert typed["text"] == second["text"]

        # A handler's "open": only cases routed into their own department.
        await accept(d, cases[0].tracking, "heating-company")
        await accept(d, cases[1].tracking, "gas-company")
        mine = await d.say(HANDLER, "/queue open", 1)
        assert mine["text"].split("\n")[0] == "Open requests in your reach: 1, page 1 of 1"
        assert (
            mine["text"]
            .split("\n")[1]
            .startswith(
                f"{format_tracking_number(cases[0].tracking)} · accepted · "
                "Heating fees and billing · "
            )
        )
        assert buttons(mine) == []
        everything = await d.say(SUPERVISOR, "/queue open", 3)
        assert everything["text"].startswith("Open requests in your reach: 12, page 1 of 2")
        assert (await d.say(SUPERVISOR, "/queue overdue", 4))["text"] == (
            "Overdue requests: 0, page 1 of 1\nNothing here."
        )
        assert (await d.say(SUPERVISOR, "/queue later", 5))["text"] == (
            "Usage: /queue [now|new|open|mine|department|overdue|review|repeat|hand|extensions|"
            "callback] [page]"
        )


async def test_note_assign_and_review_queue(sandbox: Sandbox, db_path: Database) -> None:
    async with staff_desk(sandbox, db_path) as d:
        await add_team(d)
        case = await d.file_case(CITIZEN)
        number = format_tracking_number(case.tracking)
        assert (await d.say(HANDLER, f"/assign {number} heating-company", 1))["text"] == DENIED
        nowhere = await d.say(SUPERVISOR, f"/assign {number} nope", 1)
        assert nowhere["text"] == "There is no active department with the code nope."
        assigned = await d.say(SUPERVISOR, f"/assign {number} heating-company", 2)
        assert assigned["text"] == f"Request {number} was assigned to City Heating Company."
        status = query(db_path, "SELECT status FROM service_case")
        assert status == [("accepted",)]
        again = await d.say(SUPERVISOR, f"/assign {number} heating-company", 3)
        assert again["text"] == f"That cannot be done to request {number} in its present state."

        secret = "Neighbour says the caller is the landlord's cousin"
        noted = await d.say(HANDLER, f"/note {number} {secret}", 2)
        assert noted["text"] == f"Your note was added to {number}."
        notes = query(db_path, "SELECT actor, actor_id, public FROM case_event WHERE kind='note'")
        assert notes == [("staff", HANDLER, 0)]
        told = len(await sandbox.wait_for_messages(CITIZEN, 1, timeout=10))  # "accepted"
        shown = await d.say(CITIZEN, f"/status {number}", told + 1)
        assert number in shown["text"]
        assert all(secret not in m.get("text", "") for m in sandbox.messages(CITIZEN))

        await d.say(HANDLER, f"/reply {number} We sent an engineer; the heating is back on.", 3)
        review = await d.say(SUPERVISOR, "/queue review", 4)
        assert review["text"].split("\n")[:2] == [
            "Replies waiting for review: 1, page 1 of 1",
            f"{number} · in progress · Heating fees and billing · "
            + review["text"].split("\n")[1].rsplit(" · ", 1)[1],
        ]
        department = await d.say(HANDLER, "/queue department", 4)
        assert department["text"].startswith("Open requests of your department: 1, page 1 of 1")


async def test_ban_and_unban(sandbox: Sandbox, db_path: Database) -> None:
    async with staff_desk(sandbox, db_path) as d:
        await add_team(d)
        await d.file_case(CITIZEN)
        assert (await d.say(HANDLER, f"/ban {CITIZEN} spam", 1))["text"] == DENIED
        banned = await d.say(SUPERVISOR, f"/ban {CITIZEN} Abusive messages to staff", 1)
        assert banned["text"] == f"User {CITIZEN} is now blocked."
        assert query(db_path, "SELECT blocked FROM citizen WHERE id = ?", (CITIZEN,)) == [(1,)]
        again = await d.say(SUPERVISOR, f"/ban {CITIZEN} again", 2)
        assert again["text"] == f"User {CITIZEN} was already blocked."
        before = len(sandbox.messages(CITIZEN))
        notice = await d.say(CITIZEN, "hello?", before + 1)
        assert notice["text"].startswith("The desk's staff have restricted this account")
        ignored = sandbox.send_text(CITIZEN, "hello??")
        await wait_handled(db_path, ignored)
        assert len(sandbox.messages(CITIZEN)) == before + 1
        unknown = await d.say(ADMIN, "/ban 99999 spam", 2)
        assert unknown["text"] == "No one with the user id 99999 has written to the bot."
        freed = await d.say(ADMIN, f"/unban {CITIZEN}", 3)
        assert freed["text"] == f"User {CITIZEN} is no longer blocked."
        assert (await d.say(ADMIN, f"/unban {CITIZEN}", 4))["text"] == (
            f"User {CITIZEN} was not blocked."
        )
        assert (await d.say(ADMIN, "/ban", 5))["text"] == "Usage: /ban <user id> <reason>"


async def test_a_citizen_is_denied_every_queue_command(
    sandbox: Sandbox, db_path: Database
) -> None:
    async with staff_desk(sandbox, db_path) as d:
        case = await d.file_case(CITIZEN)
        number = format_tracking_number(case.tracking)
        lines = {
            "queue": "/queue new",
            "note": f"/note {number} a note",
            "assign": f"/assign {number} heating-company",
            "ban": f"/ban {ADMIN} no reason",
            "unban": f"/unban {CITIZEN}",
        }
        assert sorted(lines) == sorted(staff_queue.COMMANDS)
        for n, command in enumerate(staff_queue.COMMANDS, start=1):
            assert (await d.say(CITIZEN, lines[command], n))["text"] == DENIED, command
        assert (await d.say(CITIZEN, "/queue", 6))["text"] == DENIED
        forged = sandbox.press_button(CITIZEN, CITIZEN, 1, "sq:new:1", force=True)
        assert await answer_of(sandbox, forged) == DENIED
        assert query(db_path, "SELECT status FROM service_case") == [("submitted",)]
        assert query(db_path, "SELECT count(*) FROM case_event WHERE kind = 'note'") == [(0,)]
        assert query(db_path, "SELECT blocked FROM citizen WHERE id = ?", (CITIZEN,)) == [(0,)]
