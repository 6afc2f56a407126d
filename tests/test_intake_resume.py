"""A request in progress survives a restart, an interrupting command, a change of language,
and time: one reminder after a day, discarded after a week."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.clock import ManualClock
from bot.sandbox import Sandbox
from bot.sweeps import all_sweeps
from tests.databases import Database
from tests.harness import BotProcess, bot_env, query, wait_until
from tests.intake_desk import (
    CATALOGS,
    Citizen,
    button_data,
    fill_to_description,
    intake_bot,
    reply_keys,
)
from tests.intake_desk import texts_of as said


async def test_restart_resumes_at_the_same_step(sandbox: Sandbox, db_path: Database) -> None:
    async with intake_bot(sandbox, db_path):
        c = Citizen(sandbox, db_path, 5400, "en")
        await fill_to_description(c, "inquiry", "heating", "heating.connection")
        await c.say("When does the heating season start this year?")
        await c.photo()
        assert c.step() == "photos"
    # A new process on the same database file: nothing of the conversation was in memory.
    async with intake_bot(sandbox, db_path):
        [answer] = await c.photo()
        assert answer["text"] == "Photo 2 of 5 received. Send more or press Done."
        where = await c.press("in:done")
        assert any(k.get("request_location") for k in reply_keys(where[-1]))
        assert c.draft()[1]["description"] == "When does the heating season start this year?"


async def test_commands_in_the_middle(sandbox: Sandbox, db_path: Database) -> None:
    async with intake_bot(sandbox, db_path):
        c = Citizen(sandbox, db_path, 5401, "en")
        await fill_to_description(c, "complaint", "heating", "heating.fees")
        for interruption in ("/start", "/help", "Help", "New request", "My requests"):
            [asked] = await c.say(interruption)
            assert asked["text"] == "You have a request in progress. Continue it, or discard it?"
            assert button_data(asked) == ["in:go", "in:drop"]
            assert c.step() == "description"
        [again] = await c.press("in:go")
        assert again["text"].startswith("Please describe the matter in your own words")
        # /language is allowed: the step is asked again in the new language.
        await c.say("/language")
        answer = await c.press("lang:ru")
        assert "Опишите, пожалуйста, своими словами" in said(answer)
        c.t = CATALOGS.get("ru")
        # Discard from the question, then /cancel with nothing left.
        await c.say("/start")
        [dropped] = await c.press("in:drop")
        assert dropped["text"] == "Незавершённое обращение удалено; ничего не подано."
        assert c.draft() is None
        [nothing] = await c.say("/cancel")
        assert nothing["text"] == "Отменять нечего."
        # /cancel in the middle discards at once.
        await c.say("Новое обращение")
        await c.say("/cancel")
        assert c.draft() is None
        # The stale "continue" button of a discarded draft has expired.
        assert await c.press("in:go") == []
        assert c.last_answer.get("text") == c.t.gettext("This button has expired.")


async def test_idle_drafts_are_reminded_once_then_discarded(
    sandbox: Sandbox, db_path: Database
) -> None:
    clock = ManualClock(datetime.now(UTC))
    start = clock.now()
    async with intake_bot(sandbox, db_path, clock=clock) as runtime:
        c = Citizen(sandbox, db_path, 5402, "zh_Hant")
        await fill_to_description(c, "report", "heating", "heating.fees")
        sweeps = all_sweeps(runtime.services)

        async def sweep(at: timedelta) -> int:
            clock.advance(start + at - clock.now())
            done = sum([await run(clock.now()) for run in sweeps.values()])
            runtime.sender.wake()
            await c.settle()
            return done

        assert await sweep(timedelta(hours=23)) == 0
        assert await sweep(timedelta(hours=25)) == 1
        assert await sweep(timedelta(hours=26)) == 0  # one reminder, however often it runs
        [reminder] = c.new()
        assert reminder["text"].startswith("您有一條訴求還沒填寫完")
        assert button_data(reminder) == ["in:go", "in:drop"]
        assert c.step() == "description"
        assert await sweep(timedelta(days=8)) == 1
        [discarded] = c.new()
        assert "已被刪除" in discarded["text"]
        assert c.draft() is None
        assert await sweep(timedelta(days=9)) == 0
        kinds = query(db_path, "SELECT payload FROM outbox_message WHERE chat_id = ?", (c.id,))
        assert sum('"draft_reminder"' in row[0] for row in kinds) == 1


DESCRIPTION = "Счёт за отопление вырос вдвое без всяких объяснений."


def catalogue_ready(db_path: Database) -> bool:
    try:
        return query(db_path, "SELECT count(*) FROM category")[0][0] > 0
    except sqlite3.OperationalError:
        return False


async def test_kill_nine_mid_conversation_resumes(
    sandbox: Sandbox, db_path: Database, tmp_path: Path
) -> None:
    """The bot process is killed with SIGKILL in the middle of a conversation and started
    again: the citizen goes on at the same step with everything entered so far."""
    env = bot_env(sandbox, db_path, MINSHENG_FLOOD_MESSAGES="10000")
    bot = BotProcess(env, tmp_path / "bot.log")
    bot.start()
    try:
        await wait_until(lambda: catalogue_ready(db_path), 30, "the bot's first start")
        c = Citizen(sandbox, db_path, 5402, "ru")
        await fill_to_description(c, "complaint", "heating", "heating.fees")
        await c.say(DESCRIPTION)
        assert c.step() == "photos"
        bot.kill()
        c._push(text=c.t.gettext("Skip"))  # sent while the bot is down
        bot.start()
        await c.settle()
        assert c.step() == "photos"  # free text at the photos step: asked again, not lost
        where = await c.press("in:skip")
        assert any(k.get("request_location") for k in reply_keys(where[-1]))
        assert c.step() == "location"
        assert c.draft()[1]["description"] == DESCRIPTION
    finally:
        bot.kill()
