"""`minsheng bench --cases N --drafts D`: the running bot's memory on a city's database.

D filing drafts are put into the generated database, as citizens leave them half done: touched
at random over the last REMINDED_SPAN, so about two in three are idle for more than a day and
are reminded by the sweep that runs at start. Then the real bot (`minsheng run`) starts on that
database against an in-process sandbox whose limits are lifted; once every reminder has arrived,
some citizens look their cases up with /status and some draft owners go on with their request
(a description). The bot process's peak RSS (VmHWM) is the figure: the most it ever held.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tortoise.connection import get_connection

from bot.bench import WARM_UP_USER
from bot.bench_intake import bot_environment
from bot.bench_process import PeakMemory, stopped, tree_cpu_seconds
from bot.case_generator_rows import FIRST_CITIZEN
from bot.sandbox import Sandbox, SandboxConfig
from storage.db import close_database, open_database
from storage.inbox import highest_update_id
from storage.outbox import highest_message_id
from storage.sql import dialect_sql, fetch
from storage.tracking import format_tracking_number

GOAL_MEMORY_MB = 200.0
REMINDED_SPAN = timedelta(days=3)
REMIND_AFTER = timedelta(hours=24)  # bot.sweeps.DRAFT_REMIND_AFTER
STATUS_LOOKUPS = 100
CONTINUING = 50
WAIT_SECONDS = 900.0
START_SECONDS = 300.0  # the bot answers its first message (a city's database opened)
DESCRIPTION = "楼道里的灯坏了一个多星期，晚上上下楼很不安全，希望尽快派人修理。"


async def _leaf_categories() -> list[tuple[str, str]]:
    rows = await fetch(
        "SELECT c.code, p.code AS domain FROM category c JOIN category p ON p.id = c.parent_id"
        " WHERE c.active AND NOT c.emergency AND c.questions = '[]'"
    )
    if not rows:  # every category asks something: the answers are then left to the step
        rows = await fetch(
            "SELECT c.code, p.code AS domain FROM category c"
            " JOIN category p ON p.id = c.parent_id WHERE c.active AND NOT c.emergency"
        )
    return [(row["code"], row["domain"]) for row in rows]


async def add_drafts(
    url: str, count: int, rng: random.Random, now: datetime
) -> tuple[list[int], list[int]]:
    """`count` filing drafts of generated citizens, half waiting for a description and half
    for photos. Returned: the owners idle past REMIND_AFTER (to be reminded at start), and the
    owners of fresh drafts waiting for a description (who may go on)."""
    await open_database(url)
    try:
        categories = await _leaf_categories()
        top = (await fetch("SELECT count(*) AS n FROM citizen WHERE id >= ?", FIRST_CITIZEN))[0]
        owners = rng.sample(range(FIRST_CITIZEN, FIRST_CITIZEN + int(top["n"])), count)
        connection = get_connection("default")
        dialect = connection.capabilities.dialect
        await connection.execute_query(
            dialect_sql("DELETE FROM draft WHERE citizen_id >= ?", dialect), [FIRST_CITIZEN]
        )
        rows, idle, fresh = [], [], []
        for citizen in owners:
            code, domain = rng.choice(categories)
            data: dict[str, Any] = {"kind": "complaint", "domain": domain, "category": code}
            step = "description"
            if rng.random() < 0.5:
                step, data["description"], data["photos"] = "photos", DESCRIPTION, []
            touched = now - REMINDED_SPAN * rng.random()
            if now - touched > REMIND_AFTER:
                idle.append(citizen)
            elif step == "description":
                fresh.append(citizen)
            at: Any = touched if dialect == "postgres" else touched.isoformat(sep=" ")
            rows.append([citizen, step, json.dumps(data, ensure_ascii=False), False, at])
        await connection.execute_many(
            dialect_sql(
                "INSERT INTO draft (citizen_id, step, data, reminded, updated_at)"
                " VALUES (?, ?, ?, ?, ?)",
                dialect,
            ),
            rows,
        )
        return idle, fresh
    finally:
        await close_database()


async def _cases_to_look_up(
    url: str, rng: random.Random, count: int
) -> tuple[list[tuple[int, str]], tuple[int, int]]:
    """(citizen, tracking number) of `count` random cases that have a citizen; and the highest
    update and message ids the database has seen (a sandbox started afresh numbers after them,
    or the bot takes its updates for ones it has handled in an earlier run)."""
    await open_database(url)
    try:
        seen = (await highest_update_id(), await highest_message_id())
        top = (await fetch("SELECT max(id) AS top FROM service_case"))[0]["top"] or 0
        ids = sorted({rng.randint(1, top) for _ in range(count * 2)})
        marks = ",".join("?" * len(ids))
        rows = await fetch(
            "SELECT citizen_id, tracking FROM service_case"  # noqa: S608 - only ? marks
            f" WHERE citizen_id IS NOT NULL AND id IN ({marks})",
            *ids,
        )
    finally:
        await close_database()
    return [(row["citizen_id"], row["tracking"]) for row in rows[:count]], seen


async def _answered(sandbox: Sandbox, chat: int, text: str) -> float:
    """Send `text` from `chat`'s citizen; seconds until the bot's next message there."""
    before = len(sandbox.messages(chat))
    started = time.perf_counter()
    sandbox.send_text(chat, text)
    await sandbox.wait_for_messages(chat, before + 1, timeout=WAIT_SECONDS)
    return time.perf_counter() - started


async def measure_bot(url: str, drafts: int, *, seed: int = 1) -> dict[str, Any]:
    """Add `drafts` drafts to the database at `url`, run the bot on it, drive a little
    traffic, and read the bot's peak RSS."""
    rng = random.Random(seed)
    idle, fresh = await add_drafts(url, drafts, rng, datetime.now(UTC))
    lookups, seen = await _cases_to_look_up(url, rng, STATUS_LOOKUPS)
    continuing = fresh[:CONTINUING]
    sandbox = Sandbox(SandboxConfig(limits_enabled=False))
    sandbox.world.continue_after(*seen)
    await sandbox.start()
    with tempfile.TemporaryDirectory(prefix="minsheng-bench-") as tmp:
        log = (Path(tmp) / "bot.log").open("wb")
        command = [sys.executable, "-m", "bot", "--log-level", "WARNING", "run"]
        process = await asyncio.create_subprocess_exec(
            *command, env=bot_environment(sandbox, url), stdout=log, stderr=log
        )
        memory = PeakMemory(process.pid).watch()
        try:
            started = time.perf_counter()
            sandbox.send_text(WARM_UP_USER, "/help")
            await sandbox.wait_for_messages(WARM_UP_USER, 1, timeout=START_SECONDS)
            up = time.perf_counter() - started
            memory_started = await asyncio.to_thread(memory.sample)
            await asyncio.gather(
                *(sandbox.wait_for_messages(c, 1, timeout=WAIT_SECONDS) for c in idle)
            )
            swept = time.perf_counter() - started
            memory_swept = await asyncio.to_thread(memory.sample)
            cpu_before = tree_cpu_seconds(process.pid)
            waits = [
                await _answered(sandbox, citizen, f"/status {format_tracking_number(number)}")
                for citizen, number in lookups
            ]
            waits += [await _answered(sandbox, citizen, DESCRIPTION) for citizen in continuing]
            cpu = tree_cpu_seconds(process.pid) - cpu_before
            memory_mb = await memory.stop()
        finally:
            await memory.stop()
            await stopped(process)
            log.close()
            await sandbox.stop()
    return {
        "drafts": drafts,
        "reminded": len(idle),
        "status_lookups": len(lookups),
        "drafts_continued": len(continuing),
        "started_seconds": round(up, 1),
        "reminders_seconds": round(swept, 1),
        "answer_p50_ms": round(sorted(waits)[len(waits) // 2] * 1000, 1) if waits else None,
        "cpu_ms_per_answer": round(cpu / len(waits) * 1000, 1) if waits else None,
        "memory_after_start_mb": round(memory_started, 1),
        "memory_after_reminders_mb": round(memory_swept, 1),
        "peak_memory_mb": round(memory_mb, 1),
        "goal_memory_mb": GOAL_MEMORY_MB,
        "met": memory_mb < GOAL_MEMORY_MB,
    }
