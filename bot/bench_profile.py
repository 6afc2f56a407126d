"""`minsheng bench --profile`: where the pipeline's CPU goes, per update (per request with
`--scenario intake`), and the SQL it runs.

The bot's process is started through this module (`python -m bot.bench_profile OUT ARGS…`,
ARGS as for `python -m bot`). It profiles the event loop's thread with cProfile and counts the
SQL statements SQLite runs, between SIGUSR1 (the load starts) and SIGUSR2 (it ended), then
writes OUT (the pstats) and OUT.json (the statements). The profiler slows the process, so the
bench profiles a run of its own, after the measured ones; its figures are not the measured ones.
"""

from __future__ import annotations

import asyncio
import cProfile
import json
import os
import pstats
import runpy
import signal
import sqlite3
import sys
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

TOP = 25  # functions listed, by their own time
HOP = "<method 'put_nowait' of '_queue.SimpleQueue' objects>"  # a call handed to aiosqlite

_statements: Counter[str] = Counter()
_counting = threading.Event()


def _count(sql: str) -> None:
    """SQLite's trace callback: one call per statement (a trigger's show as comments)."""
    if _counting.is_set():
        word = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else "?"
        _statements["TRIGGER" if word.startswith("--") else word] += 1


def _traced_connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
    connection: sqlite3.Connection = _connect(*args, **kwargs)
    connection.set_trace_callback(_count)
    return connection


_connect: Callable[..., sqlite3.Connection] = sqlite3.connect


def profiled(out: Path, argv: list[str]) -> None:
    """Run `minsheng ARGV`, profiled between SIGUSR1 and SIGUSR2."""
    profiler = cProfile.Profile()

    def start(_signal: int, _frame: FrameType | None) -> None:
        _statements.clear()
        _counting.set()
        profiler.enable()

    def stop(_signal: int, _frame: FrameType | None) -> None:
        profiler.disable()
        _counting.clear()
        profiler.dump_stats(f"{out}.part")
        Path(f"{out}.json.part").write_text(json.dumps(dict(_statements)))
        os.replace(f"{out}.json.part", f"{out}.json")
        os.replace(f"{out}.part", out)  # last: its presence says both are written

    signal.signal(signal.SIGUSR1, start)
    signal.signal(signal.SIGUSR2, stop)
    # aiosqlite opens its connection through it; the stub's overloads do not fit a wrapper.
    sqlite3.connect = _traced_connect  # type: ignore[assignment]
    sys.argv = ["minsheng", *argv]
    runpy.run_module("bot", run_name="__main__", alter_sys=True)


def profiled_command(command: list[str], out: Path) -> list[str]:
    """`python -m bot ARGS` as `python -m bot.bench_profile OUT ARGS`."""
    return [command[0], "-m", "bot.bench_profile", str(out), *command[3:]]


async def collected(
    process: asyncio.subprocess.Process, out: Path, count: int, unit: str = "update"
) -> dict[str, Any]:
    """Stop the profile of `process` (started by SIGUSR1) and read it, per `unit`."""
    process.send_signal(signal.SIGUSR2)
    for _ in range(600):
        if await asyncio.to_thread(out.exists):
            break
        await asyncio.sleep(0.05)
    return report(out, count, unit)


def report(out: Path, updates: int, unit: str = "update") -> dict[str, Any]:
    """The profile per `unit` (`updates` of them): statements by kind and the functions that
    cost most."""
    statements = json.loads(Path(f"{out}.json").read_text())
    stats = pstats.Stats(str(out))
    rows = []
    for (file, line, name), (_, calls, own, cumulative, _) in stats.stats.items():  # type: ignore[attr-defined]
        rows.append(
            {
                "function": f"{_short(file)}:{line}({name})",
                f"calls_per_{unit}": round(calls / updates, 2),
                f"own_ms_per_{unit}": round(own / updates * 1000, 4),
                f"cumulative_ms_per_{unit}": round(cumulative / updates * 1000, 4),
            }
        )
    rows.sort(key=lambda row: -row[f"own_ms_per_{unit}"])
    # Each call into aiosqlite is one item put on its thread's queue (a statement, a batch of
    # rows, a commit): a thread switch both ways, what a statement costs most here.
    hops = sum(v[1] for k, v in stats.stats.items() if k[2] == HOP)  # type: ignore[attr-defined]
    return {
        "unit": unit,
        f"profiled_ms_per_{unit}": round(stats.total_tt / updates * 1000, 3),  # type: ignore[attr-defined]
        f"database_calls_per_{unit}": round(hops / updates, 2),
        f"statements_per_{unit}": round(sum(statements.values()) / updates, 2),
        "statements_by_kind": {k: round(v / updates, 2) for k, v in sorted(statements.items())},
        "top_own_time": rows[:TOP],
    }


def _short(file: str) -> str:
    for marker in ("site-packages/", "lib/python3", "/work/"):
        if marker in file:
            return file.rpartition(marker)[2]
    return file if len(file) < 60 else "…" + file[-59:]


def print_report(profile: dict[str, Any]) -> None:
    """The profile as text: statements per unit, then the costliest functions."""
    unit = profile["unit"]
    kinds = ", ".join(f"{k} {v}" for k, v in profile["statements_by_kind"].items())
    print("\nprofile of a separate run (cProfile inflates the times; compare shares):")
    print(
        f"SQL statements per {unit}: {profile[f'statements_per_{unit}']} ({kinds}; a row of a"
        f" batch counts as one); calls to SQLite's thread: "
        f"{profile[f'database_calls_per_{unit}']}"
    )
    print(f"event loop thread, profiled: {profile[f'profiled_ms_per_{unit}']} ms/{unit}")
    short = unit[:3]
    print(f"{f'own ms/{short}':>13}{f'cum ms/{short}':>13}{f'calls/{short}':>11}  function")
    for row in profile["top_own_time"]:
        print(
            f"{row[f'own_ms_per_{unit}']:>13.4f}{row[f'cumulative_ms_per_{unit}']:>13.4f}"
            f"{row[f'calls_per_{unit}']:>11}  {row['function']}"
        )


if __name__ == "__main__":
    profiled(Path(sys.argv[1]), sys.argv[2:])
