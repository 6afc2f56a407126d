"""`minsheng bench --scenario storm`: a notice to every one of 10,000 citizens at once, under
Telegram's limits, while 100 other citizens file requests through the conversation.

The database is built first: N citizens, each with a case answered eight days ago and never
rated. The bot runs as a child process (`minsheng run`, SQLite, synchronous=FULL) against an
in-process sandbox that keeps Telegram's limits (30/s overall, 1/s per chat, 20/min per group):
a send beyond them is recorded as a violation and answered 429. At start-up the bot's rating
sweep closes every one of those answers ("no feedback", storage.rating_sweeps), as a desk does,
and each citizen is sent the "case closed" notice, rendered when it is sent.

Meanwhile M filers (bot.bench_intake's conversation) file requests, thinking THINK seconds
(from half to one and a half times that) before each step, as people do: at 20 s a step, 100
of them ask for about 6 answers a second. Telegram's 30/s is for every message, so the rate
held against 29/s is every message sent while the storm lasts (its first notice to its last);
notices per second are shown beside it, being what the filers leave. A filer's wait runs from
its update's creation to the bot's answer; only steps begun while the storm lasts count.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from bot.bench import WARM_UP_USER, percentiles_ms, print_figures
from bot.bench_intake import FIRST_CITIZEN, Filer
from bot.bench_process import PeakMemory, stopped, tree_cpu_seconds
from bot.bench_storm_desk import FIRST_STORM_CITIZEN, build, category_ids
from bot.sandbox import Sandbox, SandboxConfig

GOAL_PER_SECOND = 29.0
GOAL_P99_MS = 2000.0
ANSWER_TIMEOUT = 1800.0  # a filer queued behind the whole storm waits minutes, not forever
NO_GOAL = "none in section 3"
JsonDict = dict[str, Any]


class StormOver(Exception):
    """The storm has passed: the filer stops before its next step."""


class PacedFiler(Filer):
    """A filer who thinks before each step, and notes when each of its waits began."""

    def __init__(
        self,
        sandbox: Sandbox,
        user_id: int,
        ids: dict[str, int],
        think: float,
        stop: asyncio.Event,
    ) -> None:
        super().__init__(sandbox, user_id, ids, {})
        self.think, self.stop = think, stop
        self.rng = random.Random(user_id)
        self.waits: list[tuple[float, float]] = []  # (began, seconds), on the monotonic clock

    async def _pause(self) -> None:
        seconds = self.think * self.rng.uniform(0.5, 1.5)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stop.wait(), seconds)
        if self.stop.is_set():
            raise StormOver

    async def say(self, step: str, text: str = "", count: int = 1, **extra: Any) -> list[JsonDict]:
        await self._pause()
        return await super().say(step, text, count, **extra)

    async def press(self, step: str, shown: list[JsonDict], prefix: str) -> list[JsonDict]:
        await self._pause()
        return await super().press(step, shown, prefix)

    async def _answer(self, step: str, started: float, count: int) -> list[JsonDict]:
        target = self.seen + count
        messages = await self.sandbox.wait_for_messages(self.id, target, ANSWER_TIMEOUT)
        waited = time.perf_counter() - started
        self.waits.append((time.monotonic() - waited, waited))
        fresh, self.seen = messages[self.seen : target], target
        return fresh

    async def keep_filing(self) -> None:
        with contextlib.suppress(StormOver):
            await self.say("start", "/start")
            number = 0
            while True:
                await self.file(number)
                number += 1


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _environment(sandbox: Sandbox, database: Path, health: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "MINSHENG_BOT_TOKEN": sandbox.config.token,
            "MINSHENG_BOT_API_URL": sandbox.api_url,
            "MINSHENG_BOT_FILE_URL": sandbox.file_url,
            "MINSHENG_DATABASE_URL": f"sqlite://{database}",
            "MINSHENG_RATE_LIMITS": "true",
            "MINSHENG_POLL_TIMEOUT": "5",
            "MINSHENG_HEALTH_LISTEN": f"127.0.0.1:{health}",
            "MINSHENG_FLOOD_MESSAGES": "100000",
            "MINSHENG_CASES_PER_DAY": "100000",
        }
    )
    return env


async def _storm_passed(sandbox: Sandbox, citizens: int, seconds: float) -> None:
    """Return once every storm citizen has their notice."""
    waiting = set(range(FIRST_STORM_CITIZEN, FIRST_STORM_CITIZEN + citizens))
    deadline = time.monotonic() + seconds
    while waiting:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(waiting)} of {citizens} notices never came")
        await asyncio.sleep(0.5)
        waiting = {c for c in waiting if not sandbox.world.chat_messages.get(c)}


async def _telegram_429s(health: int) -> float:
    """The bot's own count of 429 answers (minsheng_telegram_429_total on /metrics)."""
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{health}/metrics") as response,
    ):
        text = await response.text()
    for line in text.splitlines():
        if line.startswith("minsheng_telegram_429_total "):
            return float(line.split()[1])
    return float("nan")


async def measure(citizens: int, filers: int, think: float) -> JsonDict:
    """Build the desk, start the sandbox and the bot, let the storm pass under the filers."""
    sandbox = Sandbox(SandboxConfig(limits_enabled=True, enforce_limits=True))
    await sandbox.start()
    health = _free_port()
    stop = asyncio.Event()
    with tempfile.TemporaryDirectory(prefix="minsheng-bench-") as tmp:
        database = Path(tmp) / "bench.sqlite3"
        await build(database, citizens)
        command = [sys.executable, "-m", "bot", "--log-level", "WARNING", "run"]
        log = (Path(tmp) / "bot.log").open("wb")
        env = _environment(sandbox, database, health)
        process = await asyncio.create_subprocess_exec(*command, env=env, stdout=log, stderr=log)
        try:
            memory = PeakMemory(process.pid).watch()
            cpu_before = tree_cpu_seconds(process.pid)
            sandbox.send_text(WARM_UP_USER, "/help")
            await sandbox.wait_for_messages(WARM_UP_USER, 1, timeout=ANSWER_TIMEOUT)
            ids = category_ids(database)
            people = [
                PacedFiler(sandbox, FIRST_CITIZEN + n, ids, think, stop) for n in range(filers)
            ]
            filing = [asyncio.create_task(p.keep_filing()) for p in people]
            try:
                await _storm_passed(sandbox, citizens, citizens / 10 + 600)
            finally:
                stop.set()
                await asyncio.gather(*filing)
            cpu = tree_cpu_seconds(process.pid) - cpu_before
            memory_mb = await memory.stop()
            told_429 = await _telegram_429s(health)
        finally:
            await stopped(process)
            log.close()
            await sandbox.stop()
    return _report(sandbox, citizens, filers, think, people, (cpu, memory_mb, told_429))


def _report(
    sandbox: Sandbox,
    citizens: int,
    filers: int,
    think: float,
    people: list[PacedFiler],
    bot: tuple[float, float, float],
) -> JsonDict:
    storm = range(FIRST_STORM_CITIZEN, FIRST_STORM_CITIZEN + citizens)
    notices = [sandbox.world.chat_messages[c][0]["at"] for c in storm]
    first, last = min(notices), max(notices)
    seconds = max(last - first, 1e-9)
    sent = [m["at"] for chat in sandbox.world.chat_messages.values() for m in chat]
    during = sum(1 for at in sent if first <= at <= last)
    waits = sorted(w for p in people for began, w in p.waits if first <= began <= last)
    return {
        "scenario": {
            "citizens": citizens,
            "filers": filers,
            "think_seconds": think,
            "filer_steps_in_storm": len(waits),
        },
        "seconds": round(seconds, 1),
        "figures": _figures(citizens, seconds, during, len(sent), waits, sandbox, bot),
    }


def _figures(
    citizens: int,
    seconds: float,
    during: int,
    sent: int,
    waits: list[float],
    sandbox: Sandbox,
    bot: tuple[float, float, float],
) -> list[JsonDict]:
    cpu, memory_mb, told_429 = bot
    per_second = round(during / seconds, 1)
    p50, p99 = percentiles_ms(waits) if waits else (float("nan"), float("nan"))
    violations = len(sandbox.violations)

    def row(figure: str, value: Any, goal: str, met: bool | None) -> JsonDict:
        return {"figure": figure, "value": value, "goal": goal, "met": met}

    return [
        row(
            "messages per second in the storm",
            per_second,
            f">= {GOAL_PER_SECOND:g}",
            per_second >= GOAL_PER_SECOND,
        ),
        row("notices per second in the storm", round(citizens / seconds, 1), "the rest", None),
        row("429s received by the bot", told_429, "0", told_429 == 0),
        row("violations (sandbox)", violations, "0", violations == 0),
        row(
            "filers' waits: p50 / p99 ms",
            [p50, p99],
            f"p99 < {GOAL_P99_MS:g}",
            bool(waits) and p99 < GOAL_P99_MS,
        ),
        row("storm seconds (first to last notice)", round(seconds, 1), NO_GOAL, None),
        row(
            "CPU ms per message (bot, whole run)",
            round(cpu / max(sent, 1) * 1000, 2),
            NO_GOAL,
            None,
        ),
        row("peak memory MB (PSS of the bot's processes)", round(memory_mb, 1), NO_GOAL, None),
    ]


async def run_storm_bench(args: argparse.Namespace) -> int:
    report = await measure(args.citizens, args.filers, args.think)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    scenario = report["scenario"]
    print(
        f"storm: {scenario['citizens']} notices at once, {scenario['filers']} citizens filing "
        f"(thinking ~{scenario['think_seconds']:g} s a step, {scenario['filer_steps_in_storm']} "
        f"steps in the storm); Telegram's limits kept by the sandbox; SQLite, synchronous=FULL"
    )
    print_figures(report["figures"], 38)
    return 0
