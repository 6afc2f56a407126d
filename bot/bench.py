"""`minsheng bench`: the whole pipeline against a bare python-telegram-bot, through the sandbox.

Both bots run as child processes against one in-process sandbox whose limits are lifted, so the
figures measure what each bot carries. Users are closed loops: each sends a message, waits for
the answer, and sends the next. Latency is from the update's creation to the answer's arrival.
The closed-loop users here serve bot.bench_workers too, which compares processes; what each
process spent is read by bot.bench_process.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bot.bench_process import PeakMemory, stopped, thread_cpu_seconds, tree_cpu_seconds
from bot.bench_profile import collected, print_report, profiled_command
from bot.sandbox import Sandbox, SandboxConfig

WARM_UP_USER = 1
GOAL_RATIO = 0.8  # the pipeline's updates per second against the bare bot's, in one run
FIRST_USER = 100_000


@dataclass(frozen=True)
class Figures:
    updates: int
    seconds: float
    updates_per_second: float
    p50_ms: float
    p99_ms: float
    peak_memory_mb: float  # the bot's processes together (PSS: bot.bench_process)
    cpu_ms_per_update: float
    # Of it, what the event loop's thread used; the rest is other threads (SQLite's).
    loop_thread_cpu_ms_per_update: float


def _command(
    kind: str, sandbox: Sandbox, rtt: float, workdir: Path
) -> tuple[list[str], dict[str, str]]:
    env = dict(os.environ)
    if kind == "pipeline":
        env.update(
            {
                "MINSHENG_BOT_TOKEN": sandbox.config.token,
                "MINSHENG_BOT_API_URL": sandbox.api_url,
                "MINSHENG_BOT_FILE_URL": sandbox.file_url,
                "MINSHENG_DATABASE_URL": f"sqlite://{workdir / 'bench.sqlite3'}",
                "MINSHENG_RATE_LIMITS": "false",
                "MINSHENG_SEND_CONCURRENCY": "256",
                "MINSHENG_POLL_TIMEOUT": "5",
            }
        )
        return [sys.executable, "-m", "bot", "--log-level", "WARNING", "run"], env
    transport = "aiohttp" if rtt == 0 else "default"
    return [
        sys.executable,
        "-m",
        "bot.bench_bare_bot",
        "--api-url",
        sandbox.api_url,
        "--token",
        sandbox.config.token,
        "--transport",
        transport,
    ], env


async def closed_loop(sandbox: Sandbox, users: int, messages: int) -> tuple[list[float], float]:
    """Drive `users` closed-loop users with `messages` /help each; every latency (seconds,
    sorted) and the wall time the whole load took."""
    latencies: list[float] = []

    async def user(user_id: int) -> None:
        for sent in range(messages):
            started = time.perf_counter()
            sandbox.send_text(user_id, "/help")
            await sandbox.wait_for_messages(user_id, sent + 1, timeout=600)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(user(FIRST_USER + n) for n in range(users)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return latencies, elapsed


def percentiles_ms(latencies: list[float]) -> tuple[float, float]:
    """The median and the 99th percentile of sorted latencies, in ms."""
    total = len(latencies)
    return (
        round(statistics.median(latencies) * 1000, 1),
        round(latencies[min(total - 1, int(total * 0.99))] * 1000, 1),
    )


async def measure(
    kind: str, users: int, messages: int, rtt: float, profile: dict[str, object] | None = None
) -> Figures:
    """Start a sandbox and one bot; drive `users` closed-loop users; stop both. Given a
    `profile` dict, the bot runs under bot.bench_profile and its report is put there."""
    sandbox = Sandbox(SandboxConfig(limits_enabled=False, rtt_ms=rtt))
    await sandbox.start()
    with tempfile.TemporaryDirectory(prefix="minsheng-bench-") as tmp:
        command, env = _command(kind, sandbox, rtt, Path(tmp))
        out = Path(tmp) / "bot.pstats"
        if profile is not None:
            command = profiled_command(command, out)
        log = (Path(tmp) / "bot.log").open("wb")
        process = await asyncio.create_subprocess_exec(*command, env=env, stdout=log, stderr=log)
        try:
            sandbox.send_text(WARM_UP_USER, "/help")
            await sandbox.wait_for_messages(WARM_UP_USER, 1, timeout=120)
            memory = PeakMemory(process.pid).watch()
            cpu_before = tree_cpu_seconds(process.pid)
            loop_before = thread_cpu_seconds(process.pid)
            if profile is not None:
                process.send_signal(signal.SIGUSR1)
            latencies, elapsed = await closed_loop(sandbox, users, messages)
            memory_mb = await memory.stop()
            cpu = tree_cpu_seconds(process.pid) - cpu_before
            loop_cpu = thread_cpu_seconds(process.pid) - loop_before
            if profile is not None:
                profile.update(await collected(process, out, len(latencies)))
        finally:
            await stopped(process)
            log.close()
            await sandbox.stop()
    total = len(latencies)
    p50, p99 = percentiles_ms(latencies)
    return Figures(
        updates=total,
        seconds=round(elapsed, 3),
        updates_per_second=round(total / elapsed, 1),
        p50_ms=p50,
        p99_ms=p99,
        peak_memory_mb=round(memory_mb, 1),
        cpu_ms_per_update=round(cpu / total * 1000, 2),
        loop_thread_cpu_ms_per_update=round(loop_cpu / total * 1000, 2),
    )


async def run_bench(args: argparse.Namespace) -> int:
    messages = args.messages if args.messages is not None else (10 if args.rtt == 0 else 2)
    runs: dict[str, list[Figures]] = {"pipeline": [], "ceiling": []}
    for _ in range(max(1, args.repeat)):
        for kind in runs:
            runs[kind].append(await measure(kind, args.users, messages, args.rtt))
    best = {k: sorted(v, key=lambda f: f.updates_per_second)[len(v) // 2] for k, v in runs.items()}
    ratio = best["pipeline"].updates_per_second / best["ceiling"].updates_per_second
    profile: dict[str, object] = {}
    if args.profile:  # a run of its own: the profiler's cost must not touch the figures
        await measure("pipeline", args.users, messages, args.rtt, profile)
    summary = {
        "scenario": {
            "users": args.users,
            "messages": messages,
            "rtt_ms": args.rtt,
            "ceiling": "bare python-telegram-bot, "
            + ("aiohttp transport" if args.rtt == 0 else "default setup (sequential)"),
        },
        "pipeline": asdict(best["pipeline"]),
        "ceiling": asdict(best["ceiling"]),
        "ratio": round(ratio, 3),
        "ratio_goal": f">= {GOAL_RATIO:g}",
        "ratio_met": ratio >= GOAL_RATIO,
        "cpu_ratio": round(
            best["ceiling"].cpu_ms_per_update / best["pipeline"].cpu_ms_per_update, 3
        ),
        **({"profile": profile} if profile else {}),
    }
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    print(f"{args.users} users x {messages} messages, round trip {args.rtt:g} ms")
    print(
        f"{'':10}{'updates/s':>12}{'p50 ms':>10}{'p99 ms':>10}{'memory MB':>14}"
        f"{'CPU ms/update':>15}{'of it loop':>12}"
    )
    for kind, fig in best.items():
        print(
            f"{kind:10}{fig.updates_per_second:>12}{fig.p50_ms:>10}{fig.p99_ms:>10}"
            f"{fig.peak_memory_mb:>14}{fig.cpu_ms_per_update:>15}"
            f"{fig.loop_thread_cpu_ms_per_update:>12}"
        )
    met = "met" if ratio >= GOAL_RATIO else "not met"
    print(f"ratio pipeline/ceiling: {ratio:.2f} (goal >= {GOAL_RATIO:g}: {met})")
    # What the ratio would be if each bot had a core to itself: steadier on a busy machine.
    print(f"CPU per update, ceiling/pipeline: {summary['cpu_ratio']:.2f}")
    if profile:
        print_report(profile)
    return 0


def print_figures(figures: list[dict[str, Any]], width: int) -> None:
    """A scenario's figures as a table: each value beside its goal, met or not ("-": no goal)."""
    print(f"{'figure':{width}}{'value':>16}  {'goal':20}{'':2}met")
    for row in figures:
        value = row["value"]
        shown = " / ".join(str(v) for v in value) if isinstance(value, list) else str(value)
        met = "-" if row["met"] is None else ("met" if row["met"] else "not met")
        print(f"{row['figure']:{width}}{shown:>16}  {row['goal']:20}  {met}")
