"""A case's handler within its department (承办人), end to end through the sandbox: /take and
/give with their refusals (in English and Chinese), /queue mine, the card's line, the audit,
a transfer clearing the handler, and the handler reminded privately as well as the department."""

from __future__ import annotations

from typing import Any

from bot.clock import ManualClock
from bot.sandbox import Sandbox
from bot.texts.cases import when
from storage.citizens import choose_language
from storage.tracking import format_tracking_number
from tests.databases import Database
from tests.following import Desk, buttons
from tests.harness import eventually, query
from tests.staff_desk import (
    ADMIN,
    CITIZEN,
    DENIED,
    HANDLER,
    SUPERVISOR,
    add_team,
    edited,
    press,
    staff_desk,
)
from tests.test_deadlines import SH, accept, at, deadline_desk, file, sh, staff_line, sweep

COLLEAGUE, GAS = 72_006, 72_007  # another heating-company handler; a gas-company one
STRANGER = 72_008  # no staff member
NEWBIE = 72_009  # a heating-company handler who never wrote to the bot
HEATING = "City Heating Company"
NAMES = {COLLEAGUE: "王芳"}  # the bot knows the others by the sandbox's "User <id>"
WANG, FIRST = f"王芳 ({COLLEAGUE})", f"User {HANDLER} ({HANDLER})"
# The bot cannot know that a private message arrives (a staff member known from the staff group
# may never have opened a private chat with it): /give says no more than it knows.
PRIVATELY = "They are told in a private chat if they have one with the bot."


async def say(d: Desk, user_id: int, text: str) -> str:
    """A private command; the text of the one answer it brings."""
    return str((await d.say(user_id, text, len(d.sandbox.messages(user_id)) + 1))["text"])


def handler(d: Desk, tracking: str) -> Any:
    sql = "SELECT handler_id FROM service_case WHERE tracking = ?"
    return query(d.db_path, sql, (tracking,))[0][0]


def trail(d: Desk, tracking: str) -> list[tuple[Any, ...]]:
    return query(
        d.db_path,
        "SELECT e.kind, e.actor_id, e.public FROM case_event e JOIN service_case c"
        " ON c.id = e.case_id WHERE c.tracking = ? AND e.kind LIKE 'handler_%' ORDER BY e.id",
        (tracking,),
    )


async def routing_notice(d: Desk, number: str) -> dict[str, Any]:
    """The staff chat's routing notice of the case, once it is there."""

    def found() -> dict[str, Any] | None:
        for message in d.sandbox.messages(d.staff):
            if (message.get("text") or "").startswith(f"Request {number} was routed to"):
                return message
        return None

    notice: dict[str, Any] = await eventually(found, 10, what="the routing notice")
    return notice


async def private(d: Desk, user_id: int, start: str, count: int = 1) -> str:
    """The latest private message starting with `start`, once there are `count` of them."""

    def found() -> list[str]:
        texts = [str(m.get("text") or "") for m in d.sandbox.messages(user_id)]
        return [text for text in texts if text.startswith(start)]

    return (await eventually(lambda: len(found()) >= count and found(), 10, what=start))[-1]


async def hired(d: Desk) -> None:
    """The team, two more handlers (each has written to the bot once), and who they are."""
    await add_team(d)
    await say(d, HANDLER, "/start")
    for user_id, code in ((COLLEAGUE, "heating-company"), (GAS, "gas-company")):
        d.sandbox.send_text(user_id, "/start", first_name=NAMES.get(user_id, ""))
        await d.sandbox.wait_for_messages(user_id, 1, timeout=10)
        await say(d, ADMIN, f"/staff add {user_id} handler {code}")


async def test_take_give_and_every_refusal(sandbox: Sandbox, db_path: Database) -> None:
    async with staff_desk(sandbox, db_path) as d:
        await hired(d)
        case, fresh = (await d.file_case(CITIZEN)).tracking, (await d.file_case(CITIZEN)).tracking
        n, new = format_tracking_number(case), format_tracking_number(fresh)
        await say(d, SUPERVISOR, f"/assign {n} heating-company")
        seen: list[str] = []

        async def said(user_id: int, text: str) -> str:
            answer = await say(d, user_id, text)
            seen.append(f"{user_id} {text}\n  → {answer}")
            return answer

        # Refused, and nothing changes: not staff, unknown number, not routed yet, another
        # department's staff, someone outside the department, a name the desk does not know.
        assert await said(STRANGER, f"/take {n}") == DENIED
        assert await said(STRANGER, f"/give {n} {HANDLER}") == DENIED
        assert await said(HANDLER, "/take 2345-6789-ABCD") == "There is no request 2345-6789-ABCD."
        assert await said(HANDLER, f"/take {new}") == (
            f"Request {new} is not with a department yet: it gets a handler once it is accepted."
        )
        assert await said(GAS, f"/take {n}") == (
            f"Request {n} is with another department: you can take or give only your own "
            "department's requests."
        )
        outsider = (
            f"Nobody new handles request {n}: the person you named is not on the staff of "
            f"{HEATING}."
        )
        assert await said(HANDLER, f"/give {n} {GAS}") == outsider
        assert await said(SUPERVISOR, f"/give {n} {STRANGER}") == outsider
        assert await said(SUPERVISOR, f"/take {n}") == (
            f"Only the staff of {HEATING} can handle request {n}, and you are not one of them."
        )
        assert (await said(HANDLER, f"/give {n} @wang")).startswith("Usage: /give <number>")
        assert handler(d, case) is None
        assert trail(d, case) == []

        # Taken with the routing notice's button (a forged press from another department
        # changes nothing), then refused to a colleague; passed on by its handler, then by a
        # supervisor.
        notice = await routing_notice(d, n)
        shown_before = buttons(notice)  # (the sandbox's record itself: it changes with edits)
        assert shown_before[-1] == ("Take", f"ho:take:{case}")
        assert await press(d, GAS, notice, f"ho:take:{case}") == (
            f"Request {n} is with another department: you can take or give only your own "
            "department's requests."
        )
        assert handler(d, case) is None
        assert await press(d, HANDLER, notice, f"ho:take:{case}") == f"You now handle request {n}."
        pressed = await edited(d, notice["message_id"], 0)
        assert pressed["text"].endswith(f"\n\nTaken by User {HANDLER}")
        assert buttons(pressed) == shown_before
        seen.append(f"{HANDLER} presses Take\n  → {pressed['text']}")
        assert await said(HANDLER, f"/take {n}") == f"You already handle request {n}."
        held = f"Request {n} is handled by {FIRST}: only they or a supervisor can pass it on."
        assert await press(d, COLLEAGUE, notice, f"ho:take:{case}") == held
        assert await said(COLLEAGUE, f"/take {n}") == held
        assert handler(d, case) == HANDLER
        given = await said(HANDLER, f"/give {n} {COLLEAGUE}")
        assert given == f"{WANG} now handles request {n}. {PRIVATELY}"
        told = await private(d, COLLEAGUE, "Staff member")
        assert told == (
            f"Staff member {HANDLER} made you the handler of request {n} ({HEATING}). "
            f"See it with /case {n}."
        )
        seen.append(f"{COLLEAGUE} receives\n  → {told}")
        mine = await said(COLLEAGUE, "/queue mine")
        assert mine.split("\n")[0] == "Open requests you handle: 1, page 1 of 1"
        assert mine.split("\n")[1].startswith(f"{n} · accepted · Heating fees and billing · ")
        assert await said(HANDLER, "/queue mine") == (
            "Open requests you handle: 0, page 1 of 1\nNothing here."
        )
        assert await said(SUPERVISOR, f"/give {n} {HANDLER}") == (
            f"{FIRST} now handles request {n}. {PRIVATELY}"
        )
        # Told privately: wait for it, so that it is not taken for the answer to what follows.
        assert await private(d, HANDLER, f"Staff member {SUPERVISOR} made you the handler")
        card = await said(SUPERVISOR, f"/case {n}")
        assert f"Handler: {FIRST}" in card.split("\n")
        assert f"staff member {SUPERVISOR} made staff member {HANDLER} the handler" in card
        audited = [(kind, actor, bool(public)) for kind, actor, public in trail(d, case)]
        assert audited == [
            ("handler_taken", HANDLER, False),
            ("handler_given", HANDLER, False),
            ("handler_given", SUPERVISOR, False),
        ]

        # In Chinese, the same answers.
        await choose_language(HANDLER, "zh_Hans")
        await choose_language(COLLEAGUE, "zh_Hans")
        assert await said(HANDLER, f"/take {n}") == f"您已经是诉求 {n} 的承办人。"
        assert await said(HANDLER, f"/give {n} {GAS}") == (
            f"诉求 {n} 的承办人未变更：您指定的人不是市热力集团的工作人员。"
        )
        # In the staff chat, /give as a reply to the colleague's message names them.
        hello = sandbox.send_text(COLLEAGUE, "我来办这件", chat_id=d.staff)["message"]
        sandbox.send_text(
            HANDLER, f"/give {n}", chat_id=d.staff, reply_to_message_id=hello["message_id"]
        )
        done = f"{WANG} 现在是诉求 {n} 的承办人。如本人已与机器人私聊，会收到私信通知。"
        await eventually(
            lambda: any(m.get("text") == done for m in sandbox.messages(d.staff)), 10, what=done
        )
        seen.append(f"{HANDLER} /give {n} (a reply in the staff chat)\n  → {done}")
        told = await private(d, COLLEAGUE, "工作人员")
        assert told == (
            f"工作人员 {HANDLER} 指定您为诉求 {n}（市热力集团）的承办人。发送 /case {n} 查看详情。"
        )
        seen.append(f"{COLLEAGUE} receives\n  → {told}")
        mine = await said(COLLEAGUE, "/queue mine")
        assert mine.split("\n")[0] == "您承办的在办诉求：共 1 件，第 1/1 页"
        assert f"承办人：{WANG}" in (await said(HANDLER, f"/case {n}")).split("\n")

        # A colleague the bot never heard from: the answer asks to tell them in person.
        await say(d, ADMIN, f"/staff add {NEWBIE} handler heating-company")
        assert await said(SUPERVISOR, f"/give {n} {NEWBIE}") == (
            f"staff member {NEWBIE} now handles request {n}. The bot cannot reach them "
            "privately (they never wrote to it, or its last message was refused), so please "
            "tell them yourself."
        )
        assert handler(d, case) == NEWBIE

        # A transfer to another department clears the handler.
        await say(d, SUPERVISOR, f"/transfer {n} gas-company Gas meters are theirs")
        assert handler(d, case) is None
        print("\n\n".join(seen))


async def test_the_handler_is_reminded_with_the_department(
    sandbox: Sandbox, db_path: Database
) -> None:
    clock = ManualClock(sh(2025, 3, 3, 10))  # Monday; due 5 working days later, Monday 10:00
    async with deadline_desk(sandbox, db_path, clock) as d:
        await add_team(d)
        await say(d, HANDLER, "/start")
        taken, other = await file(d, clock.now()), await file(d, clock.now(), citizen=CITIZEN + 1)
        for tracking in (taken, other):
            await accept(d, tracking, clock.now())
        n = format_tracking_number(taken)
        assert await say(d, HANDLER, f"/take {n}") == f"You now handle request {n}."
        at(clock, sh(2025, 3, 8, 16, 1))  # 75 % of the time
        assert await sweep(d) == {"deadline_remind": 2}
        due = when(sh(2025, 3, 10, 10), SH, "en")
        assert await private(d, HANDLER, "Reminder") == (
            f"Reminder: request {n}, which you handle, must be answered by {due}."
        )
        # The department hears of both: a private message may never arrive (a handler known
        # only from the staff group has no private chat with the bot), so it is only a copy.
        await staff_line(d, "Reminder for", 2)
        group = [m.get("text") or "" for m in sandbox.messages(d.staff)]
        for number in (n, format_tracking_number(other)):
            assert sum(number in text and text.startswith("Reminder for") for text in group) == 1
        # At the due date: escalated to the supervisors as before, and the handler told.
        at(clock, sh(2025, 3, 10, 10, 1))
        assert (await sweep(d))["deadline_escalate"] == 2
        await staff_line(d, "Escalated", 2)
        escalated = [m.get("text") or "" for m in sandbox.messages(d.staff)]
        assert (
            sum(
                text.startswith(f"Escalated to the supervisors: request {n} ")
                for text in escalated
            )
            == 1
        )
        assert await private(d, HANDLER, f"Request {n}, which") == (
            f"Request {n}, which you handle, was due by {due} and is not answered: it was "
            "escalated to the supervisors."
        )
        sql = "SELECT payload FROM case_event WHERE kind = 'reminder_75' ORDER BY id"
        payloads = [str(row[0]) for row in query(db_path, sql)]
        assert sum(str(HANDLER) in payload for payload in payloads) == 1
