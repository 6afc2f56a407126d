"""Staff working a case by command, end to end through the sandbox: /ask, /reply and the review
card (Approve · Return) in the staff chat, /transfer, /close, /reopen, /merge, /return; and
every one of these denied to a handler of another department and to a citizen."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from telegram.ext import CommandHandler

from bot.sandbox import Sandbox
from handlers.routing import registered
from storage.lifecycle import accept_case, citizen_answered
from storage.tracking import format_tracking_number
from tests.databases import Database
from tests.following import Desk, buttons
from tests.harness import query
from tests.review_desk import ANSWER, OTHER, review_card, status
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


async def accepted_case(d: Desk) -> Any:
    """The team, a handler of another department, and a case accepted into the heating company."""
    await add_team(d)
    added = await d.say(ADMIN, f"/staff add {OTHER} handler gas-company", 2)
    assert added["text"] == f"Done: • {OTHER} — handler — gas-company"
    case = await d.file_case(CITIZEN)
    zone = d.runtime.services.settings.zone
    await accept_case(
        case.tracking, "heating-company", by=SUPERVISOR, now=datetime.now(UTC), zone=zone
    )
    return case


async def test_ask_reply_return_reply_approve(sandbox: Sandbox, db_path: Database) -> None:
    async with staff_desk(sandbox, db_path) as d:
        case = await accepted_case(d)
        number, tracking = format_tracking_number(case.tracking), case.tracking
        asked = await d.say(HANDLER, f"/ask {number} Which building and flat, please?", 1)
        assert asked["text"] == f"Your question on {number} was sent to the citizen."
        assert status(db_path, tracking) == "awaiting_citizen"
        await citizen_answered(tracking, CITIZEN, "Building 4, flat 12", now=datetime.now(UTC))
        assert status(db_path, tracking) == "in_progress"

        sent = await d.say(HANDLER, f"/reply {number} {ANSWER}", 2)
        assert sent["text"] == f"Your reply to {number} was sent for review."
        card = await review_card(d, 2)  # the team's "Done" line, then the card
        assert card["text"].split("\n") == [
            f"Reply to review: {number}",
            f"From User {HANDLER}",  # named as "Approved by User …" names staff
            "",
            ANSWER,
        ]
        assert buttons(card) == [
            ("Approve", f"sr:ok:{tracking}"),
            ("Return", f"sr:ret:{tracking}"),
        ]
        again = await d.say(HANDLER, f"/reply {number} Another answer entirely, long enough.", 3)
        assert again["text"] == f"A reply to {number} is already waiting for review."

        # A handler may not review; a supervisor returns it with a standard reason.
        assert await press(d, HANDLER, card, f"sr:ok:{tracking}") == DENIED
        assert await press(d, SUPERVISOR, card, f"sr:ret:{tracking}") == ""
        reasons = await edited(d, card["message_id"], 0)
        assert [data for _, data in buttons(reasons)] == [
            f"sr:rsn:{tracking}:{code}" for code in ("vague", "miss", "tone", "other")
        ] + [f"sr:back:{tracking}"]
        hint = await press(d, SUPERVISOR, reasons, f"sr:rsn:{tracking}:other")
        assert hint == f"Send /return {number} followed by the reason."
        assert await press(d, SUPERVISOR, reasons, f"sr:rsn:{tracking}:vague") == ""
        returned = await edited(d, card["message_id"], 1)
        assert returned["text"].endswith("\n\nReturned by User 72002: Too short or vague")
        assert buttons(returned) == []
        assert status(db_path, tracking) == "in_progress"

        # Replied again, approved: the case is answered, once.
        await d.say(HANDLER, f"/reply {number} {ANSWER} Sorry for the trouble.", 4)
        second = await review_card(d, 3)
        assert second["message_id"] != card["message_id"]
        assert await press(d, SUPERVISOR, second, f"sr:ok:{tracking}") == ""
        approved = await edited(d, second["message_id"], 0)
        assert approved["text"].endswith("\n\nApproved by User 72002")
        assert status(db_path, tracking) == "answered"
        assert await press(d, ADMIN, second, f"sr:ok:{tracking}") == (
            "This reply was already reviewed."
        )
        answered = query(db_path, "SELECT payload FROM case_event WHERE kind = 'answered'")
        assert len(answered) == 1
        assert "Sorry for the trouble." in answered[0][0]

        # Close, reopen, transfer; the usual refusals, each in one line.
        closed = await d.say(SUPERVISOR, f"/close {number}", 1)
        assert closed["text"] == f"Request {number} was closed."
        assert (await d.say(SUPERVISOR, f"/close {number}", 2))["text"] == (
            f"That cannot be done to request {number} in its present state."
        )
        assert (await d.say(SUPERVISOR, f"/reopen {tracking.lower()}", 3))["text"] == (
            f"Request {number} was reopened."
        )
        moved = await d.say(SUPERVISOR, f"/transfer {number} gas-company It is a gas boiler", 4)
        assert moved["text"] == f"Request {number} was transferred to gas-company."
        nowhere = await d.say(SUPERVISOR, f"/transfer {number} nope Wrong place", 5)
        assert nowhere["text"] == "There is no active department with the code nope."
        assert (await d.say(SUPERVISOR, "/reply", 6))["text"] == "Usage: /reply <number> <text>"
        missing = await d.say(SUPERVISOR, "/close 7KQM-3XNA-R9TD", 7)
        assert missing["text"].startswith("There is no request ")
        # The heating company's handler lost the case with the transfer; the gas company's has it.
        assert (await d.say(HANDLER, f"/ask {number} Still cold?", 5))["text"] == DENIED
        gas = await d.say(OTHER, f"/ask {number} Which boiler model?", 1)
        assert gas["text"] == f"Your question on {number} was sent to the citizen."
        assert status(db_path, tracking) == "awaiting_citizen"


async def test_perfunctory_replies_are_flagged_and_merge(
    sandbox: Sandbox, db_path: Database
) -> None:
    async with staff_desk(sandbox, db_path) as d:
        case = await accepted_case(d)
        number = format_tracking_number(case.tracking)
        await d.say(HANDLER, f"/reply {number} Please ask another department.", 1)
        card = await review_card(d, 2)
        assert card["text"].endswith("\n\n⚠ Looks perfunctory: “please ask another department”")
        returned = await d.say(SUPERVISOR, f"/return {number} Say which department, and why", 1)
        assert returned["text"] == f"The reply to {number} was returned to its handler."
        await d.say(HANDLER, f"/reply {number} Done.", 2)
        short = await review_card(d, 3)
        assert short["text"].endswith("\n\n⚠ Looks perfunctory: shorter than 20 characters")
        assert (await d.say(SUPERVISOR, f"/approve {number}", 2))["text"] == (
            f"The reply to {number} was approved and sent to the citizen."
        )
        flags = query(db_path, "SELECT payload FROM case_event WHERE kind = 'reply_submitted'")
        assert [json.loads(row[0])["perfunctory"] for row in flags] == [True, True]
        # A duplicate merged into another open case.
        duplicate = await d.file_case(CITIZEN)
        dup = format_tracking_number(duplicate.tracking)
        merged = await d.say(SUPERVISOR, f"/merge {dup} {number}", 3)
        assert merged["text"] == f"Request {dup} was merged into {number}."
        assert status(db_path, duplicate.tracking) == "merged"
        itself = await d.say(SUPERVISOR, f"/merge {number} {number}", 4)
        assert itself["text"] == f"That cannot be done to request {number} in its present state."
        assert status(db_path, case.tracking) == "answered"


def work_commands(d: Desk) -> list[str]:
    """Every command registered by the staff work and review modules."""
    return sorted(
        command
        for handler in registered(d.runtime.app)
        if isinstance(handler, CommandHandler)
        and handler.callback.__module__ in ("handlers.staff_work", "handlers.staff_review")
        for command in handler.commands
    )


def arguments(command: str, number: str, other: str) -> str:
    return {
        "transfer": f"{number} gas-company Not ours",
        "merge": f"{number} {other}",
    }.get(command, f"{number} list add remove, long enough to be a reply")


async def test_other_department_and_citizens_are_denied(
    sandbox: Sandbox, db_path: Database
) -> None:
    async with staff_desk(sandbox, db_path) as d:
        case = await accepted_case(d)
        other = await d.file_case(CITIZEN)
        number = format_tracking_number(case.tracking)
        await d.say(HANDLER, f"/reply {number} {ANSWER}", 1)
        card = await review_card(d, 2)
        commands = work_commands(d)
        assert commands == sorted(
            ["transfer", "reply", "ask", "close", "merge", "reopen", "approve", "return"]
        )
        before = query(db_path, "SELECT tracking, status, version FROM service_case ORDER BY id")
        events = "SELECT count(*) FROM case_event WHERE kind != 'authz_denied'"
        counted = query(db_path, events)
        told = len(await sandbox.wait_for_messages(CITIZEN, 1, timeout=10))  # "accepted"
        for n, command in enumerate(commands, start=1):
            line = f"/{command} {arguments(command, number, other.tracking)}"
            assert (await d.say(OTHER, line, n))["text"] == DENIED, command
            assert (await d.say(CITIZEN, line, told + n))["text"] == DENIED, command
        for data in (
            f"sr:ok:{case.tracking}",
            f"sr:ret:{case.tracking}",
            f"sr:rsn:{case.tracking}:vague",
        ):
            assert await press(d, OTHER, card, data) == DENIED
            forged = sandbox.press_button(CITIZEN, CITIZEN, 1, data, force=True)
            assert await answer_of(sandbox, forged) == DENIED
        assert (
            query(db_path, "SELECT tracking, status, version FROM service_case ORDER BY id")
            == before
        )
        assert query(db_path, events) == counted


async def test_replying_to_the_card_in_the_staff_chat(sandbox: Sandbox, db_path: Database) -> None:
    async with staff_desk(sandbox, db_path) as d:
        await add_team(d)
        case = await d.file_case(CITIZEN, notify_staff=True)
        await sandbox.wait_for_messages(d.staff, 2, timeout=10)
        card = card_of(d)
        zone = d.runtime.services.settings.zone
        await accept_case(
            case.tracking, "heating-company", by=SUPERVISOR, now=datetime.now(UTC), zone=zone
        )
        number = format_tracking_number(case.tracking)
        sandbox.send_text(HANDLER, ANSWER, chat_id=d.staff, reply_to_message_id=card["message_id"])
        told = (await sandbox.wait_for_messages(d.staff, 3, timeout=10))[-1]
        assert told["text"] == f"Your reply to {number} was sent for review."
        review = await review_card(d, 4)
        assert review["text"].endswith(f"\n\n{ANSWER}")
        # A reply to any other message of the chat is left alone.
        sandbox.send_text(
            HANDLER, "Thanks, all", chat_id=d.staff, reply_to_message_id=told["message_id"]
        )
        await d.say(SUPERVISOR, f"/approve {number}", 1)
        assert len(sandbox.messages(d.staff)) == 4
        assert status(db_path, case.tracking) == "answered"
