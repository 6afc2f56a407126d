"""`minsheng bench --scenario intake`: whole requests filed through the real conversation.

The bot runs as a child process (`minsheng run`) on a fresh SQLite file (WAL, synchronous=FULL),
or with `--database postgres://…` on a database created on that server for the run and dropped
after it (bot.bench_databases), against an in-process sandbox whose limits are lifted. Each
simulated citizen is a closed loop that presses the bot's own buttons: New request, kind, area,
category, the category's two questions, a description, a photo, Done, a place, "Stay
anonymous", Submit, then `/status` of the number it was given. A step's latency runs from the
update's creation to the bot's answer.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bot.bench import WARM_UP_USER, percentiles_ms, print_figures
from bot.bench_databases import BenchRefused, check_server, shown, throwaway_database
from bot.bench_process import (
    PeakMemory,
    postgres_cpu,
    postgres_spent,
    stopped,
    tree_cpu_seconds,
)
from bot.bench_profile import collected, print_report, profiled_command
from bot.sandbox import Sandbox, SandboxConfig
from storage.config import asyncpg_dsn, on_postgres

FIRST_CITIZEN = 200_000
STEP_TIMEOUT = 120.0
DOMAIN, CATEGORY = "heating", "heating.no-heat"  # a category that asks two questions
STEPS = (
    "start",
    "new request",
    "kind",
    "area",
    "category",
    "question 1",
    "question 2",
    "description",
    "photo",
    "photos done",
    "location",
    "contact",
    "submit",
    "status",
)
GOAL_PER_SECOND = 50.0
GOAL_P99_MS = 250.0
NO_GOAL = "none in section 1"
EXIT_REFUSED = 2
_CATEGORIES = "SELECT code, id FROM category"
DESCRIPTION = "The radiators in our flat have been cold for three days, the room is at 14 degrees."
JsonDict = dict[str, Any]


class IntakeStepUnexpected(RuntimeError):
    """The bot's answer to a step is not the one the conversation leads to."""


def _button(messages: list[JsonDict], prefix: str) -> tuple[JsonDict, str]:
    """The message holding the first button whose data starts with `prefix`, and that data."""
    for message in reversed(messages):
        rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
        for row in rows:
            for key in row:
                if str(key.get("callback_data", "")).startswith(prefix):
                    return message, str(key["callback_data"])
    raise IntakeStepUnexpected(f"no button {prefix!r} in {[m.get('text') for m in messages]}")


class Filer:
    """One citizen in a private chat, filing requests one step at a time."""

    def __init__(
        self,
        sandbox: Sandbox,
        user_id: int,
        ids: dict[str, int],
        latencies: dict[str, list[float]],
    ) -> None:
        self.sandbox, self.id, self.ids, self.latencies = sandbox, user_id, ids, latencies
        self.seen = 0  # the bot's messages in this chat so far

    async def _answer(self, step: str, started: float, count: int) -> list[JsonDict]:
        target = self.seen + count
        messages = await self.sandbox.wait_for_messages(self.id, target, timeout=STEP_TIMEOUT)
        self.latencies[step].append(time.perf_counter() - started)
        fresh, self.seen = messages[self.seen : target], target
        return fresh

    async def say(self, step: str, text: str = "", count: int = 1, **extra: Any) -> list[JsonDict]:
        started = time.perf_counter()
        self.sandbox.send_text(self.id, text, language_code="en", first_name="Citizen", **extra)
        return await self._answer(step, started, count)

    async def press(self, step: str, shown: list[JsonDict], prefix: str) -> list[JsonDict]:
        message, data = _button(shown, prefix)
        started = time.perf_counter()
        self.sandbox.press_button(self.id, self.id, message["message_id"], data)
        return await self._answer(step, started, 1)

    async def file(self, number: int) -> None:
        """One whole request, from the menu to the status of the number it was given."""
        shown = await self.say("new request", "New request")
        shown = await self.press("kind", shown, "in:k:complaint")
        shown = await self.press("area", shown, f"in:d:{self.ids[DOMAIN]}")
        await self.press("category", shown, f"in:c:{self.ids[CATEGORY]}")
        await self.say("question 1", "14")
        await self.say("question 2", "2025-01-05")
        shown = await self.say("description", DESCRIPTION)
        if any("kq:" in json.dumps(m.get("reply_markup")) for m in shown):
            shown = await self.press("description", shown, "kq:f:")  # File my request anyway
        await self.say("photo", photo={"file_id": f"photo-{self.id}-{number}"})
        await self.press("photos done", shown, "in:done")
        await self.say("location", location=self.place(number))
        shown = await self.say("contact", "Stay anonymous", count=2)  # the summary, its buttons
        shown = await self.press("submit", shown, "in:submit")
        if not any("case:" in json.dumps(m.get("reply_markup")) for m in shown):
            shown = await self.press("submit", shown, "in:file")  # a similar one: file mine
        tracking = _button(shown, "case:")[1].removeprefix("case:")
        await self.say("status", f"/status {tracking}")

    def place(self, number: int) -> JsonDict:
        """A place of its own for each request, about a kilometre from every other, so that
        none is offered as a duplicate of another."""
        n = (self.id - FIRST_CITIZEN) * 1000 + number
        return {"latitude": 45.5 + (n // 200) * 0.01, "longitude": 126.0 + (n % 200) * 0.01}

    async def run(self, requests: int) -> None:
        await self.say("start", "/start")
        for number in range(requests):
            await self.file(number)


def bot_environment(sandbox: Sandbox, url: str) -> dict[str, str]:
    """The environment of the bot process under a bench: the sandbox, no limits, no flood gate."""
    env = dict(os.environ)
    env.update(
        {
            "MINSHENG_BOT_TOKEN": sandbox.config.token,
            "MINSHENG_BOT_API_URL": sandbox.api_url,
            "MINSHENG_BOT_FILE_URL": sandbox.file_url,
            "MINSHENG_DATABASE_URL": url,
            "MINSHENG_RATE_LIMITS": "false",
            "MINSHENG_SEND_CONCURRENCY": "256",
            "MINSHENG_POLL_TIMEOUT": "5",
            # A conversation is many messages in a few seconds: keep the flood gate out of it.
            "MINSHENG_FLOOD_MESSAGES": "100000",
            "MINSHENG_CASES_PER_DAY": "100000",
        }
    )
    return env


async def _category_ids(url: str) -> dict[str, int]:
    if not on_postgres(url):
        path = url.split("://", 1)[1]
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            return dict(db.execute("SELECT code, id FROM category"))
    # deferred: asyncpg is the optional [postgres] extra
    import asyncpg  # type: ignore[import-untyped]

    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        return {row["code"]: row["id"] for row in await connection.fetch(_CATEGORIES)}
    finally:
        await connection.close()


async def measure(
    users: int,
    requests: int,
    server: str | None = None,
    profile: dict[str, object] | None = None,
) -> JsonDict:
    """Start a sandbox and the bot; let `users` citizens file `requests` each; stop both.

    On SQLite by default; with `server` (postgres://…) on a database created there for the
    run and dropped after it. Given a `profile` dict, the bot runs under bot.bench_profile
    and its report, per request, is put there."""
    sandbox = Sandbox(SandboxConfig(limits_enabled=False))
    await sandbox.start()
    latencies: dict[str, list[float]] = {step: [] for step in STEPS}
    made: list[str] = []  # the throwaway database on `server`, dropped after the run
    try:
        with tempfile.TemporaryDirectory(prefix="minsheng-bench-") as tmp:
            async with contextlib.AsyncExitStack() as stack:
                if server is None:
                    url = f"sqlite://{Path(tmp) / 'bench.sqlite3'}"
                else:
                    url = await stack.enter_async_context(throwaway_database(server, made))
                log = stack.enter_context((Path(tmp) / "bot.log").open("wb"))
                command = [sys.executable, "-m", "bot", "--log-level", "WARNING", "run"]
                out = Path(tmp) / "bot.pstats"
                if profile is not None:
                    command = profiled_command(command, out)
                process = await asyncio.create_subprocess_exec(
                    *command, env=bot_environment(sandbox, url), stdout=log, stderr=log
                )
                try:
                    sandbox.send_text(WARM_UP_USER, "/help")
                    await sandbox.wait_for_messages(WARM_UP_USER, 1, timeout=120)
                    ids = await _category_ids(url)
                    filers = [
                        Filer(sandbox, FIRST_CITIZEN + n, ids, latencies) for n in range(users)
                    ]
                    looks = postgres_cpu if server is not None else dict
                    memory = PeakMemory(process.pid).watch()
                    cpu_before, server_before = tree_cpu_seconds(process.pid), looks()
                    own_before = time.process_time()
                    if profile is not None:
                        process.send_signal(signal.SIGUSR1)
                    started = time.perf_counter()
                    await asyncio.gather(*(filer.run(requests) for filer in filers))
                    elapsed = time.perf_counter() - started
                    cpu = tree_cpu_seconds(process.pid) - cpu_before
                    own = time.process_time() - own_before
                    spent = postgres_spent(server_before, looks(), urlsplit(url).path[1:])
                    memory_mb = await memory.stop()
                    if profile is not None:
                        filed = users * requests
                        profile.update(await collected(process, out, filed, "request"))
                finally:
                    await stopped(process)
    finally:
        await sandbox.stop()
    filed = users * requests
    figures = _figures(filed, elapsed, latencies, cpu, memory_mb)
    # The citizens and the sandbox share this process: when it nears a whole core, the rate
    # above is theirs, not the bot's.
    figures.append(_no_goal("CPU ms per request (bench driver)", own / filed * 1000))
    if spent is not None:  # the server's share, when it runs on this machine
        figures.append(_no_goal("PostgreSQL CPU ms per request", spent[1] / filed * 1000))
    return {
        "scenario": {"users": users, "requests_per_user": requests, "category": CATEGORY},
        "database": f"PostgreSQL {shown(server)}" if server else "SQLite, synchronous=FULL",
        "requests": filed,
        "seconds": round(elapsed, 3),
        "figures": figures,
        **({"databases": made} if server is not None else {}),
    }


def _no_goal(figure: str, value: float) -> JsonDict:
    return {"figure": figure, "value": round(value, 1), "goal": NO_GOAL, "met": None}


def _figures(
    filed: int, elapsed: float, latencies: dict[str, list[float]], cpu: float, memory_mb: float
) -> list[JsonDict]:
    per_second = round(filed / elapsed, 1)
    rows: list[JsonDict] = [
        {
            "figure": "requests filed per second",
            "value": per_second,
            "goal": f">= {GOAL_PER_SECOND:g}",
            "met": per_second >= GOAL_PER_SECOND,
        }
    ]
    for step in STEPS:
        p50, p99 = percentiles_ms(sorted(latencies[step]))
        rows.append(
            {
                "figure": f"step {step}: p50 / p99 ms",
                "value": [p50, p99],
                "goal": f"p99 < {GOAL_P99_MS:g}",
                "met": p99 < GOAL_P99_MS,
            }
        )
    rows.append(_no_goal("CPU ms per request (the bot's processes)", cpu / filed * 1000))
    return [*rows, _no_goal("peak memory MB (PSS of the bot's processes)", memory_mb)]


async def run_intake_bench(args: argparse.Namespace) -> int:
    if args.database is not None:
        if not on_postgres(args.database):
            print("minsheng: bench: --database takes a postgres://… server", file=sys.stderr)
            return EXIT_REFUSED
        try:
            await check_server(args.database, 1)
        except BenchRefused as exc:
            print(f"minsheng: bench: {exc}", file=sys.stderr)
            return EXIT_REFUSED
    report = await measure(args.users, args.requests, args.database)
    if args.profile:  # a run of its own: the profiler's cost must not touch the figures
        profile: dict[str, object] = {}
        await measure(args.users, args.requests, args.database, profile)
        report["profile"] = profile
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    scenario = report["scenario"]
    print(
        f"intake: {scenario['users']} citizens x {scenario['requests_per_user']} requests "
        f"({CATEGORY}), {report['requests']} filed in {report['seconds']} s; "
        f"{report['database']}"
    )
    print_figures(report["figures"], 36)
    if args.profile:
        print_report(report["profile"])
    return 0
