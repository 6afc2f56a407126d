"""`minsheng bench --workers N --database postgres://…`: what several webhook processes give.

Three configurations of the whole pipeline in webhook mode, in one run on one machine, each
against a fresh sandbox and a fresh database: SQLite with one process, PostgreSQL with one
process, and PostgreSQL with N processes (`minsheng webhook --workers`). The users are the
closed loops of bot.bench. Extra processes only help while cores are idle, and on a small
machine the bot's processes, the PostgreSQL server and the bench itself (sandbox and users)
share the same cores, so beside the rates each row says where the CPU went, per update.

The PostgreSQL databases are created on the server of the given URL and dropped afterwards,
even on failure; the database named in the URL is only connected to, never written.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import secrets
import signal
import socket
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bot.bench import closed_loop, percentiles_ms
from bot.bench_databases import BenchRefused, check_server, shown, throwaway_database
from bot.bench_process import (
    cpu_seconds,
    machine_busy_seconds,
    peak_rss_mb,
    postgres_cpu,
    postgres_spent,
    process_tree,
)
from bot.sandbox import Sandbox, SandboxConfig

EXIT_REFUSED = 2
WARM_UP_USERS = range(1, 9)  # several chats, so that every process has handled one
START_TIMEOUT = 120.0
STOP_TIMEOUT = 60.0


@dataclass(frozen=True)
class Setup:
    label: str
    postgres: bool
    workers: int | None  # None: plain `minsheng webhook`, one process


@dataclass(frozen=True)
class Outcome:
    configuration: str
    processes: int  # bot processes handling updates (a `--workers` parent not counted)
    updates: int
    seconds: float
    updates_per_second: float
    p50_ms: float
    p99_ms: float
    peak_rss_mb: float  # summed over the bot's processes, the parent included
    bot_cpu_ms_per_update: float
    postgres_cpu_ms_per_update: float | None  # every `postgres` process on this machine
    database_cpu_ms_per_update: float | None  # of which: the backends of this run's database
    bench_cpu_ms_per_update: float  # this process: the sandbox and the users
    # The bot's CPU per update, process by process: which one is busy (the leader sends).
    bot_cpu_by_process: dict[str, float]
    cores_busy: float  # all of the CPU above, per second of the run
    machine_cores_busy: float  # every process on the machine, per second of the run
    # What the bot logged at WARNING or above while measured (a leader stepping down, say),
    # each message once with how often: the figures are read knowing what went wrong.
    bot_warnings: dict[str, int]


def setups(workers: int) -> list[Setup]:
    return [
        Setup("SQLite, 1 process", postgres=False, workers=None),
        Setup("PostgreSQL, 1 process", postgres=True, workers=1),
        Setup(f"PostgreSQL, {workers} processes", postgres=True, workers=workers),
    ]


def _free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _environment(sandbox: Sandbox, database_url: str) -> dict[str, str]:
    """The bot's settings, and none inherited from the shell (a health port there would be
    taken by every configuration)."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINSHENG_")}
    env.update(
        {
            "MINSHENG_BOT_TOKEN": sandbox.config.token,
            "MINSHENG_BOT_API_URL": sandbox.api_url,
            "MINSHENG_BOT_FILE_URL": sandbox.file_url,
            "MINSHENG_DATABASE_URL": database_url,
            "MINSHENG_WEBHOOK_URL": f"http://127.0.0.1:{port}/hook",
            "MINSHENG_WEBHOOK_LISTEN": f"127.0.0.1:{port}",
            "MINSHENG_WEBHOOK_SECRET": secrets.token_hex(16),
            "MINSHENG_RATE_LIMITS": "false",
            "MINSHENG_SEND_CONCURRENCY": "256",
        }
    )
    return env


async def _started(process: asyncio.subprocess.Process, sandbox: Sandbox, setup: Setup) -> None:
    """Wait until every process runs and has set the webhook (each sets it at its start: one
    setting it later would restart the deliveries in the middle of the measurement)."""
    processes = setup.workers or 1
    tree = processes + (setup.workers is not None)  # with --workers, their parent too
    deadline = time.monotonic() + START_TIMEOUT
    while sandbox.stats.get("setWebhook", 0) < processes or len(process_tree(process.pid)) < tree:
        if process.returncode is not None:
            raise RuntimeError(f"{setup.label}: the bot exited with {process.returncode}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{setup.label}: the bot did not start in {START_TIMEOUT:g} s")
        await asyncio.sleep(0.1)


def _warnings(log: Path, start: int) -> dict[str, int]:
    """The WARNING-or-worse lines logged after byte `start`, without their time, counted."""
    with log.open("rb") as file:
        file.seek(start)
        text = file.read().decode(errors="replace")
    seen: dict[str, int] = {}
    for found in re.finditer(r" (WARNING|ERROR|CRITICAL) (.*)", text):
        key = f"{found[1]} {found[2]}"[:200]
        seen[key] = seen.get(key, 0) + 1
    return seen


async def _leader_pid(url: str) -> int | None:
    """The pid of the process leading now, from the heartbeats (`host:pid:start`)."""
    # deferred: asyncpg is the optional [postgres] extra
    import asyncpg  # type: ignore[import-untyped]

    connection = await asyncpg.connect(url)
    try:
        name = await connection.fetchval(
            "SELECT name FROM worker_beat WHERE leader ORDER BY beat_at DESC LIMIT 1"
        )
    finally:
        await connection.close()
    return int(str(name).split(":")[1]) if name else None


def _role(pid: int, parent: int, leader: int | None, setup: Setup, order: int) -> str:
    if pid == leader:
        return "leader"
    if pid == parent and setup.workers is not None:
        return "parent"
    return f"worker {order}"


async def _stop(process: asyncio.subprocess.Process) -> None:
    """SIGTERM (a `--workers` parent passes it on); SIGKILL to the whole tree if it hangs."""
    if process.returncode is not None:
        return
    tree = process_tree(process.pid)
    process.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(process.wait(), timeout=STOP_TIMEOUT)
    except TimeoutError:
        for pid in tree:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        await process.wait()


async def _drive(
    process: asyncio.subprocess.Process,
    sandbox: Sandbox,
    setup: Setup,
    url: str,
    args: argparse.Namespace,
    log: Path,
) -> Outcome:
    """Warm every process up, then measure the users and, over the same window, the CPU of
    the bot's processes, the PostgreSQL server, this process and the whole machine."""
    database = urlsplit(url).path.lstrip("/") if setup.postgres else ""
    await _started(process, sandbox, setup)
    for user in WARM_UP_USERS:
        sandbox.send_text(user, "/help")
    try:
        for user in WARM_UP_USERS:
            await sandbox.wait_for_messages(user, 1, timeout=START_TIMEOUT)
    except TimeoutError:
        raise RuntimeError(
            f"{setup.label}: the bot did not answer in {START_TIMEOUT:g} s"
        ) from None
    bot_before = {pid: cpu_seconds(pid) for pid in process_tree(process.pid)}
    server_before = postgres_cpu()
    log_from = await asyncio.to_thread(os.path.getsize, log)
    bench_before, machine_before = os.times(), machine_busy_seconds()
    latencies, elapsed = await closed_loop(sandbox, args.users, args.messages)
    bench_after, machine = os.times(), machine_busy_seconds() - machine_before
    server_after = postgres_cpu()
    tree = process_tree(process.pid)
    spent = {pid: cpu_seconds(pid) - bot_before.get(pid, 0.0) for pid in tree}
    bot = sum(spent.values())
    rss = sum(peak_rss_mb(pid) for pid in tree)
    leader = await _leader_pid(url) if setup.postgres else process.pid
    bench = (bench_after.user + bench_after.system) - (bench_before.user + bench_before.system)
    server = postgres_spent(server_before, server_after, database)
    warnings = await asyncio.to_thread(_warnings, log, log_from)
    total = len(latencies)
    p50, p99 = percentiles_ms(latencies)

    def per_update(seconds: float) -> float:
        return round(seconds / total * 1000, 2)

    return Outcome(
        configuration=setup.label,
        processes=setup.workers or 1,
        updates=total,
        seconds=round(elapsed, 3),
        updates_per_second=round(total / elapsed, 1),
        p50_ms=p50,
        p99_ms=p99,
        peak_rss_mb=round(rss, 1),
        bot_cpu_ms_per_update=per_update(bot),
        postgres_cpu_ms_per_update=None if server is None else per_update(server[0]),
        database_cpu_ms_per_update=None if server is None else per_update(server[1]),
        bench_cpu_ms_per_update=per_update(bench),
        bot_cpu_by_process={
            _role(pid, process.pid, leader, setup, n): per_update(seconds)
            for n, (pid, seconds) in enumerate(spent.items())
        },
        cores_busy=round((bot + bench + (server[0] if server else 0.0)) / elapsed, 2),
        machine_cores_busy=round(machine / elapsed, 2),
        bot_warnings=warnings,
    )


async def measure(setup: Setup, args: argparse.Namespace, created: list[str]) -> Outcome:
    """One configuration: a fresh sandbox, a fresh database, the bot, the users; all undone."""
    sandbox = Sandbox(SandboxConfig(limits_enabled=False, rtt_ms=args.rtt))
    await sandbox.start()
    try:
        with tempfile.TemporaryDirectory(prefix="minsheng-bench-") as tmp:
            async with contextlib.AsyncExitStack() as stack:
                if setup.postgres:
                    url = await stack.enter_async_context(
                        throwaway_database(args.database, created)
                    )
                else:
                    url = f"sqlite://{Path(tmp) / 'bench.sqlite3'}"
                workers = [] if setup.workers is None else ["--workers", str(setup.workers)]
                command = [sys.executable, "-m", "bot", "--log-level", "WARNING", "webhook"]
                log = stack.enter_context((Path(tmp) / "bot.log").open("wb"))
                process = await asyncio.create_subprocess_exec(
                    *command, *workers, env=_environment(sandbox, url), stdout=log, stderr=log
                )
                try:
                    return await _drive(process, sandbox, setup, url, args, Path(tmp) / "bot.log")
                except BaseException:
                    log.flush()
                    tail = (Path(tmp) / "bot.log").read_text(errors="replace")[-2000:]
                    print(f"{setup.label}: the bot's log ends with:\n{tail}", file=sys.stderr)
                    raise
                finally:
                    await _stop(process)
    finally:
        await sandbox.stop()


def _report(args: argparse.Namespace, best: list[Outcome], created: list[str]) -> dict[str, Any]:
    one, many = best[1], best[2]
    return {
        "scenario": {
            "users": args.users,
            "messages": args.messages,
            "rtt_ms": args.rtt,
            "workers": args.workers,
            "server": shown(args.database),
            "cores": os.cpu_count(),
        },
        "configurations": [asdict(outcome) for outcome in best],
        "speed_up": round(many.updates_per_second / one.updates_per_second, 3),
        "databases": created,
    }


def _print_table(report: dict[str, Any]) -> None:
    scenario = report["scenario"]
    print(
        f"{scenario['users']} users x {scenario['messages']} messages, webhook, "
        f"{scenario['cores']} cores, PostgreSQL at {scenario['server']}"
    )
    print(f"{'':52}{'peak RSS':>10}   CPU ms per update{'cores busy':>24}")
    print(
        f"{'configuration':26}{'updates/s':>10}{'p50 ms':>8}{'p99 ms':>8}{'MB':>10}"
        f"{'bot':>7}{'postgres':>9}{'(this db)':>10}{'bench':>7}{'run':>7}{'machine':>9}"
    )

    def shown(value: float | None) -> str:
        return "-" if value is None else f"{value:g}"

    for row in report["configurations"]:
        print(
            f"{row['configuration']:26}{row['updates_per_second']:>10}{row['p50_ms']:>8}"
            f"{row['p99_ms']:>8}{row['peak_rss_mb']:>10}{row['bot_cpu_ms_per_update']:>7}"
            f"{shown(row['postgres_cpu_ms_per_update']):>9}"
            f"{shown(row['database_cpu_ms_per_update']):>10}"
            f"{row['bench_cpu_ms_per_update']:>7}{row['cores_busy']:>7}"
            f"{row['machine_cores_busy']:>9}"
        )
    for row in report["configurations"]:
        shares = ", ".join(f"{k} {v:g}" for k, v in row["bot_cpu_by_process"].items())
        print(f"  bot CPU ms per update in {row['configuration']}: {shares}")
    for row in report["configurations"]:
        for message, count in row["bot_warnings"].items():
            print(f"  logged in {row['configuration']} ({count}x): {message}")
    print(
        f"speed-up of {scenario['workers']} processes over 1 on PostgreSQL: "
        f"{report['speed_up']:.2f}x"
    )
    print(
        "bot: the bot's processes (a --workers parent too); postgres: every postgres process "
        "on this machine,\n(this db): of which the backends of the run's database; bench: the "
        "sandbox and the users;\ncores busy: run, all of that per second; machine, every process "
        "on the machine (other work included)"
    )


async def run_worker_bench(args: argparse.Namespace) -> int:
    """`minsheng bench --workers N`: the three configurations, their table or JSON."""
    if args.cases is not None:
        print("minsheng: bench: --workers and --cases are separate benches", file=sys.stderr)
        return EXIT_REFUSED
    args.messages = args.messages if args.messages is not None else (10 if args.rtt == 0 else 2)
    created: list[str] = []
    runs: list[list[Outcome]] = [[] for _ in setups(args.workers)]
    try:
        await check_server(args.database or "", args.workers)
        for _ in range(max(1, args.repeat)):
            for index, setup in enumerate(setups(args.workers)):
                runs[index].append(await measure(setup, args, created))
    except BenchRefused as exc:
        print(f"minsheng: bench: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    except RuntimeError as exc:  # the bot did not start or answer; measure() printed its log
        print(f"minsheng: bench: {exc}", file=sys.stderr)
        return 1
    best = [sorted(r, key=lambda o: o.updates_per_second)[len(r) // 2] for r in runs]
    report = _report(args, best, created)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        _print_table(report)
    return 0
