"""Staff operations end to end through the sandbox: the staff command menus, refusing anonymous
admins (RELIABILITY row 19), telling staff about a citizen the bot cannot reach (row 14), and a
burst of new cases announced to one staff group within its limit (row 13)."""

from __future__ import annotations

import random
import string
import time
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.i18n import Catalogs
from bot.sandbox import FaultConfig, Sandbox
from handlers import STAFF_COMMANDS
from handlers.attribution import CHANNEL_BOT, GROUP_ANONYMOUS_BOT, refusal
from handlers.menu import commands as citizen_commands
from handlers.staff_menu import DESCRIPTIONS, PRIVATE_ONLY
from storage.citizens import touch_citizen
from storage.drafts import Step, set_draft
from storage.lifecycle import accept_case
from storage.tracking import format_tracking_number
from tests.databases import Database
from tests.following import Desk, buttons, desk
from tests.harness import (
    eventually,
    outbox_open,
    query,
    running_bot,
    settings_for,
    wait_until,
)
from tests.staff_chat import group_message
from tests.staff_desk import ADMIN, SUPERVISOR

EN = Catalogs().get("en")
REFUSAL = refusal(EN)
CITIZEN = 75_001
CHANNEL = {"id": -1_009_750_000_001, "type": "channel", "title": "City news"}


def staff_desk(sandbox: Sandbox, db_path: Database, **env: str) -> Any:
    return desk(sandbox, db_path, MINSHENG_ADMIN_IDS=str(ADMIN), **env)


def menu(sandbox: Sandbox, key: str) -> list[tuple[str, str]]:
    return [(c["command"], c["description"]) for c in sandbox.commands.get(key, [])]


def menu_rows(db_path: Database) -> int:
    sql = (
        "SELECT count(*) FROM outbox_message WHERE method IN ('setMyCommands', 'deleteMyCommands')"
    )
    return int(query(db_path, sql)[0][0])


# -- 1. The staff command menus ----------------------------------------------------------------


def test_every_staff_command_has_a_menu_line() -> None:
    """A staff command added to a module's COMMANDS needs its one line in DESCRIPTIONS."""
    missing = sorted(set(STAFF_COMMANDS) - set(DESCRIPTIONS))
    assert missing == [], f"add a description to handlers/staff_menu.py for {missing}"
    for language in ("en", "zh_Hans", "zh_Hant", "ru"):
        t = Catalogs().get(language)
        for name, describe in DESCRIPTIONS.items():
            assert 3 <= len(describe(t)) <= 256, (language, name)


async def test_staff_menus_follow_the_staff_list(sandbox: Sandbox, db_path: Database) -> None:
    """The staff chat lists what every member may do (per language), each member's own menu
    there what their role may; each active member's private chat lists the citizens' commands
    then the staff commands of their role; /staff add sets a member's, /staff remove deletes
    them; a restart queues nothing again."""
    staff_chat = sandbox.config.staff_group_id
    registered = set(STAFF_COMMANDS)
    async with staff_desk(sandbox, db_path) as d:
        keys = {f"chat:{staff_chat}|{code}" for code in ("", "en", "zh", "ru")}
        keys |= {f"chat:{ADMIN}|{code}" for code in ("", "en", "zh", "ru")}
        keys |= {f"chat_member:{staff_chat}:{ADMIN}|{code}" for code in ("", "en", "zh", "ru")}
        await eventually(lambda: keys <= set(sandbox.commands), 10, what="the staff menus")
        anyone = menu(sandbox, f"chat:{staff_chat}|")
        assert [name for name, _ in anyone] == [
            "queue", "case", "take", "give", "reply", "kb", "ask", "note", "sign", "sendback",
            "extend", "dispute"
        ]  # fmt: skip
        assert anyone[0] == ("queue", "What to work on now; or new, mine, overdue, review")
        in_chat = menu(sandbox, f"chat_member:{staff_chat}:{ADMIN}|")
        assert {name for name, _ in in_chat} == registered - PRIVATE_ONLY
        admin_in_chat = f"chat_member:{staff_chat}:{ADMIN}"
        assert dict(menu(sandbox, f"{admin_in_chat}|zh"))["close"] == "办结工单"
        assert dict(menu(sandbox, f"{admin_in_chat}|ru"))["close"] == "Закрыть обращение"
        own = menu(sandbox, f"chat:{ADMIN}|")
        citizens = citizen_commands(EN)
        assert own[: len(citizens)] == citizens
        assert [name for name, _ in own[len(citizens) :]] == [
            name for name in DESCRIPTIONS if name in registered
        ]
        assert [line for line in own if line[0] not in PRIVATE_ONLY][len(citizens) :] == in_chat
        assert menu(sandbox, "") == citizens  # the citizens' menu is untouched

        await d.say(ADMIN, f"/staff add {SUPERVISOR} supervisor", 1)
        # One call per language, side by side (calls without a chat keep no order): all four.
        theirs = {f"chat:{SUPERVISOR}|{code}" for code in ("", "en", "zh", "ru")}
        await eventually(
            lambda: theirs <= set(sandbox.commands), 10, what="the new member's menus"
        )
        # A supervisor's: everything but managing the staff.
        assert menu(sandbox, f"chat:{SUPERVISOR}|") == [line for line in own if line[0] != "staff"]
        await d.say(ADMIN, f"/staff remove {SUPERVISOR}", 2)
        await eventually(
            lambda: not any(f"{SUPERVISOR}|" in k for k in sandbox.commands),
            10,
            what="the removed member's menu deleted",
        )
        # A refused change (a non-admin) changes nobody's menu.
        before = menu_rows(db_path)
        await d.say(CITIZEN, f"/staff add {CITIZEN} admin", 1)
        assert menu_rows(db_path) == before
        assert not any(k.startswith(f"chat:{CITIZEN}|") for k in sandbox.commands)
    queued = menu_rows(db_path)
    async with running_bot(settings_for(sandbox, db_path, MINSHENG_ADMIN_IDS=str(ADMIN))):
        await wait_until(lambda: outbox_open(db_path) == 0, 10, "the outbox settled")
    assert menu_rows(db_path) == queued  # the same menus are not queued again
    # Four languages ("", en, zh, ru) each: the citizens' menu, the staff chat's, the admin's
    # and the supervisor's set and the supervisor's deleted, each in two chats.
    print(f"menu rows queued over two starts: {queued}")
    assert queued == 4 * 8


# -- 2. Row 19: anonymous admins and messages sent on behalf of a chat -------------------------


ANONYMOUS_ADMIN = {
    "id": GROUP_ANONYMOUS_BOT,
    "is_bot": True,
    "first_name": "Group",
    "username": "GroupAnonymousBot",
}
AS_CHANNEL = {
    "id": CHANNEL_BOT,
    "is_bot": True,
    "first_name": "Channel",
    "username": "Channel_Bot",
}


def denials(db_path: Database) -> list[tuple[Any, ...]]:
    return query(db_path, "SELECT user_id, action, reason FROM access_denial ORDER BY id")


async def test_row_19_nobody_in_particular_is_refused(sandbox: Sandbox, db_path: Database) -> None:
    """An anonymous admin's command, a command sent as a channel, an anonymous reply to the
    case card and a button press claiming to come from GroupAnonymousBot: each refused with
    the one line, audited as "anonymous", and nothing changes. Chatter gets no answer."""
    async with staff_desk(sandbox, db_path) as d:
        case = await d.file_case(CITIZEN, notify_staff=True)
        number = format_tracking_number(case.tracking)
        card = (await sandbox.wait_for_messages(d.staff, 1, timeout=10))[-1]
        group = sandbox.world.chat(d.staff)

        def row() -> list[tuple[Any, ...]]:
            return query(db_path, "SELECT status, version FROM service_case")

        before = row()
        group_message(d, ANONYMOUS_ADMIN, group, f"/close {number}")
        group_message(d, AS_CHANNEL, CHANNEL, f"/case {number}")
        on_card = {
            "message_id": card["message_id"],
            "from": sandbox.world.bot_user(),
            "chat": group,
            "date": card["date"],
            "text": card["text"],
        }
        group_message(d, ANONYMOUS_ADMIN, group, "We fixed it.", reply_to=on_card)
        told = await sandbox.wait_for_messages(d.staff, 4, timeout=10)
        assert [m["text"] for m in told[1:]] == [REFUSAL] * 3
        group_message(d, ANONYMOUS_ADMIN, group, "just chatting")  # not for the bot
        group_message(d, AS_CHANNEL, CHANNEL, f"/case@other_bot {number}")  # another bot's
        pressed = sandbox.press_button(
            GROUP_ANONYMOUS_BOT, d.staff, card["message_id"], buttons(card)[0][1]
        )
        answer = await eventually(
            lambda: sandbox.callback_answers.get(pressed["callback_query"]["id"]),
            10,
            what="the button's answer",
        )
        assert answer["text"] == REFUSAL
        # Chatter and another bot's command got nothing: a staff member's command after them
        # is the next message in the chat.
        await d.say(ADMIN, "/staff list", 1)
        sandbox.send_text(ADMIN, f"/case {number}", chat_id=d.staff)
        after = await sandbox.wait_for_messages(d.staff, 5, timeout=10)
        assert number in after[4]["text"]
        assert row() == before
        assert denials(db_path) == [
            (GROUP_ANONYMOUS_BOT, "close", "anonymous"),
            (CHANNEL_BOT, "case", "anonymous"),
            (GROUP_ANONYMOUS_BOT, "reply", "anonymous"),
            (GROUP_ANONYMOUS_BOT, "button", "anonymous"),
        ]
        assert query(
            db_path,
            "SELECT count(*) FROM staff WHERE user_id IN (?, ?)",
            (GROUP_ANONYMOUS_BOT, CHANNEL_BOT),
        ) == [(0,)]


async def test_row_19_refusal_in_the_staff_chats_language(
    sandbox: Sandbox, db_path: Database
) -> None:
    async with staff_desk(sandbox, db_path, MINSHENG_DEFAULT_LANGUAGE="zh_Hans") as d:
        group_message(d, ANONYMOUS_ADMIN, sandbox.world.chat(d.staff), "/queue")
        told = await sandbox.wait_for_messages(d.staff, 1, timeout=10)
        assert told[-1]["text"] == refusal(Catalogs().get("zh_Hans"))
        assert told[-1]["text"].startswith("请使用您本人的账号操作")


# -- 3. Row 14: a citizen the bot cannot reach -------------------------------------------------


def unreachable_notices(d: Desk) -> list[str]:
    return [
        m["text"]
        for m in d.sandbox.messages(d.staff)
        if "can no longer be reached" in (m.get("text") or "")
    ]


async def test_row_14_staff_are_told_once_per_unreachable_spell(
    sandbox: Sandbox, db_path: Database
) -> None:
    """Blocked: the first failed send tells the staff chat the citizen's open cases; later
    failures say nothing more; the cases go on. Once the citizen writes again, a new spell
    (deactivated this time) is told again."""
    async with staff_desk(sandbox, db_path) as d:
        first = await d.file_case(CITIZEN)
        second = await d.file_case(CITIZEN, text="The lift in block 4 has been stuck for a week.")
        other = await d.file_case(CITIZEN + 1)  # another citizen's case is not named
        numbers = [format_tracking_number(c.tracking) for c in (first, second)]
        zone = d.runtime.services.settings.zone
        sandbox.faults = FaultConfig(blocked_users={CITIZEN})

        async def accept(tracking: str) -> None:
            await accept_case(
                tracking, "heating-company", by=ADMIN, now=datetime.now(UTC), zone=zone
            )
            d.runtime.sender.wake()

        def failed_to_citizen() -> int:
            return int(
                query(
                    db_path,
                    "SELECT count(*) FROM outbox_message WHERE chat_id = ? AND status = 'failed'",
                    (CITIZEN,),
                )[0][0]
            )

        await accept(first.tracking)
        told = await eventually(lambda: unreachable_notices(d), 10, what="staff told")
        assert len(told) == 1
        assert numbers[0] in told[0]
        assert numbers[1] in told[0]
        assert format_tracking_number(other.tracking) not in told[0]
        assert told[0].startswith("The citizen of requests ")
        assert query(db_path, "SELECT unreachable FROM citizen WHERE id = ?", (CITIZEN,)) == [(1,)]
        await accept(second.tracking)  # its notice fails too: the staff are not told again
        await eventually(lambda: failed_to_citizen() == 2, 10, what="second failure")
        await wait_until(lambda: outbox_open(db_path) == 0, 10, "the outbox settled")
        assert len(unreachable_notices(d)) == 1
        assert query(
            db_path,
            "SELECT status FROM service_case WHERE tracking IN (?, ?)",
            (first.tracking, second.tracking),
        ) == [("accepted",), ("accepted",)]

        # They come back (writing clears the mark), then delete their account.
        sandbox.faults = FaultConfig()
        await d.say(CITIZEN, "/help", 1)
        assert query(db_path, "SELECT unreachable FROM citizen WHERE id = ?", (CITIZEN,)) == [(0,)]
        sandbox.faults = FaultConfig(deactivated_users={CITIZEN})
        sent = await d.say(ADMIN, f"/ask {numbers[0]} Which flat is it, please?", 1)
        assert numbers[0] in sent["text"]
        told = await eventually(
            lambda: len(unreachable_notices(d)) == 2 and unreachable_notices(d),
            10,
            what="told again",
        )
        assert numbers[0] in told[1]
        assert numbers[1] in told[1]
        assert failed_to_citizen() == 3


# -- 4. Row 13: a burst of new cases to one staff group ----------------------------------------


def gibberish(rng: random.Random) -> str:
    """A description sharing no word with any other (so no "similar requests" offer)."""
    return " ".join("".join(rng.choices(string.ascii_lowercase, k=9)) for _ in range(6))


@pytest.mark.slow
async def test_row_13_a_burst_of_cases_is_paced_for_the_group_and_citizens_come_first(
    sandbox: Sandbox, db_path: Database
) -> None:
    """100 citizens submit within a moment: every one gets their tracking number while the
    staff cards are still going out, paced at the group's 20 a minute (in the sandbox's time
    scale); no 429, no limit violation."""
    count, scale = 100, sandbox.config.time_scale
    window = 60.0 / scale  # the group's minute, scaled
    sandbox.config.enforce_limits = True  # a send over a limit would be answered 429
    citizens = list(range(76_001, 76_001 + count))
    rng = random.Random(13)
    async with staff_desk(sandbox, db_path, MINSHENG_CASES_PER_DAY="1000") as d:
        now = datetime.now(UTC)
        for citizen in citizens:
            await touch_citizen(citizen, first_name="Wen", guessed_language="en")
            await set_draft(
                citizen,
                Step.SUMMARY,
                {
                    "kind": "complaint",
                    "category": "heating.fees",
                    "description": gibberish(rng),
                    "photos": [],
                    "answers": {},
                    "anonymous": True,
                },
                now=now,
            )
        began = time.monotonic()
        for citizen in citizens:
            sandbox.press_button(citizen, citizen, 1, "in:submit", force=True)

        def numbered(chat: int) -> bool:
            return any("Tracking number" in (m.get("text") or "") for m in sandbox.messages(chat))

        await eventually(lambda: all(numbered(c) for c in citizens), 60, what="every number")
        citizens_done = time.monotonic() - began
        cards_then = len(sandbox.messages(d.staff))
        cards = await sandbox.wait_for_messages(d.staff, count, timeout=120)
        cards_done = time.monotonic() - began
        at = sorted(m["at"] for m in cards)
        busiest = max(sum(1 for b in at if a <= b < a + window) for a in at)
        replies = [
            next(
                m["at"] for m in sandbox.messages(c) if "Tracking number" in (m.get("text") or "")
            )
            for c in citizens
        ]
        errors = query(
            db_path,
            "SELECT count(*) FROM outbox_message WHERE error LIKE '%429%' "
            "OR error LIKE '%Too Many%'",
        )[0][0]
        print(
            f"\nrow 13: {count} cases submitted at once (time scale {scale:g}: the group's "
            f"minute is {window:.1f} s)"
        )
        print(
            f"  every tracking number delivered after {citizens_done:.2f} s "
            f"(last one {max(replies) - min(replies):.2f} s after the first); "
            f"staff cards delivered by then: {cards_then}/{count}"
        )
        print(
            f"  all {count} staff cards delivered after {cards_done:.2f} s "
            f"= {cards_done / window:.1f} group minutes; busiest group minute: {busiest} cards"
        )
        print(f"  429 answers: {errors}; limit violations recorded: {len(sandbox.violations)}")
        assert busiest <= 20
        assert errors == 0
        assert sandbox.violations == []
        assert cards_then < count  # the citizens were not kept waiting behind the cards
        assert max(replies) < sorted(at)[count - 20]  # ... not even behind the last few minutes
        assert len({m["text"].split("\n")[0] for m in cards}) == count  # one card per case
        assert query(db_path, "SELECT count(*) FROM service_case") == [(count,)]
