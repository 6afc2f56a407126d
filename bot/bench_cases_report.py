"""The report of `minsheng bench --cases N`: every figure with its goal and whether it is met.

The JSON summary keeps each measurement's details (stats, lookup, queue, board, bot) and adds
`figures`, the same rows the table prints: figure, value, goal, met (None where the issue sets
no goal).
"""

from __future__ import annotations

from typing import Any

from bot.bench_board import TARGET_P99_MS
from bot.case_generator import Generated
from bot.move_data import shown
from storage.db import sqlite_path
from storage.move import MoveReport

# The targets, in milliseconds.
TARGETS = {
    "stats_ms": 1000.0,
    "lookup_p99_ms": 5.0,
    "queue_ms": 20.0,
    "board_p99_ms": TARGET_P99_MS,
}
NO_GOAL = "-"


def case_summary(
    url: str,
    cases: int,
    made: Generated | None,
    moved: MoveReport | None,
    figures: dict[str, Any],
    generator_mb: float = 0.0,
) -> dict[str, Any]:
    """The JSON summary: what was generated or moved, the measurements, and each goal met."""
    stats, lookup, queue = figures["stats"], figures["lookup"], figures["queue"]
    bot = figures.get("bot")
    return {
        "engine": "sqlite" if sqlite_path(url) else "postgresql",
        "database": shown(url),
        "cases": cases,
        "generation": None
        if made is None
        else {
            "cases": made.cases,
            "events": made.events,
            "ratings": made.ratings,
            "citizens": made.citizens,
            "seconds": round(made.seconds, 1),
            "cases_per_second": round(made.cases_per_second),
            "peak_rss_mb": round(generator_mb, 1),
        },
        "move": None
        if moved is None
        else {
            "rows": moved.total,
            "seconds": round(moved.seconds, 1),
            "rows_per_second": round(moved.rows_per_second),
            "compared": moved.compared,
            "indexing_seconds": round(moved.indexing_seconds, 1),
            "vacuum_seconds": round(moved.vacuum_seconds, 1),
        },
        **figures,
        "targets_met": {
            "stats": max(stats["all_ms"], stats["department_ms"]) < TARGETS["stats_ms"],
            "lookup": lookup["p99_ms"] < TARGETS["lookup_p99_ms"],
            "queue": queue["p99_ms"] < TARGETS["queue_ms"],
            "board": figures["board"]["p99_ms"] < TARGETS["board_p99_ms"],
            **({} if bot is None else {"bot_memory": bot["met"]}),
        },
    }


def _row(figure: str, value: Any, goal: str = NO_GOAL, met: bool | None = None) -> dict[str, Any]:
    return {"figure": figure, "value": value, "goal": goal, "met": met}


def figure_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows of the report, from the summary's measurements."""
    stats, lookup, queue, board = (summary[k] for k in ("stats", "lookup", "queue", "board"))
    rows = [_row("database size MB", summary["database_mb"])]
    if made := summary["generation"]:
        rows += [
            _row("generation s", made["seconds"]),
            _row("generation cases/s", made["cases_per_second"]),
            _row("generation peak RSS MB (flat in N)", made["peak_rss_mb"]),
        ]
    if moved := summary["move"]:
        rows.append(_row("move into PostgreSQL s", moved["seconds"]))
    stats_goal = f"< {TARGETS['stats_ms']:g}"
    rows += [
        _row(
            f"/stats {stats['month']} all ({stats['received']:,} cases) ms",
            stats["all_ms"],
            stats_goal,
            stats["all_ms"] < TARGETS["stats_ms"],
        ),
        _row(
            f"/stats {stats['month']} {stats['department']} ms",
            stats["department_ms"],
            stats_goal,
            stats["department_ms"] < TARGETS["stats_ms"],
        ),
        _row(
            f"status lookup x{lookup['lookups']:,} p50 / p99 ms",
            [lookup["p50_ms"], lookup["p99_ms"]],
            f"p99 < {TARGETS['lookup_p99_ms']:g}",
            lookup["p99_ms"] < TARGETS["lookup_p99_ms"],
        ),
        _row(
            f"/queue page x{queue['requests']:,} p50 / p99 ms",
            [queue["p50_ms"], queue["p99_ms"]],
            f"p99 < {TARGETS['queue_ms']:g}",
            queue["p99_ms"] < TARGETS["queue_ms"],
        ),
    ]
    rows += [
        _row(f"  /queue {view} p50 / p99 ms", [v["p50_ms"], v["p99_ms"]])
        for view, v in queue["views"].items()
    ]
    rows.append(
        _row(
            f"board search x{board['searches']:,} ({board['published']:,} published) p50 / p99 ms",
            [board["p50_ms"], board["p99_ms"]],
            f"p99 < {TARGETS['board_p99_ms']:g}",
            board["p99_ms"] < TARGETS["board_p99_ms"],
        )
    )
    rows.append(
        _row(
            "CPU ms per /stats, lookup, /queue page, search (this process)",
            [stats["cpu_ms"], lookup["cpu_ms"], queue["cpu_ms"], board["cpu_ms"]],
        )
    )
    if bot := summary.get("bot"):
        rows += [
            _row(
                f"bot peak memory MB, its processes' PSS ({bot['drafts']:,} drafts,"
                f" {bot['reminded']:,} reminded)",
                bot["peak_memory_mb"],
                f"< {bot['goal_memory_mb']:g}",
                bot["met"],
            ),
            _row(
                "  bot memory after start / after reminders MB",
                [bot["memory_after_start_mb"], bot["memory_after_reminders_mb"]],
            ),
            _row(
                f"  bot answer p50 ms, CPU ms/answer ({bot['status_lookups']} /status,"
                f" {bot['drafts_continued']} drafts going on)",
                [bot["answer_p50_ms"], bot["cpu_ms_per_answer"]],
            ),
        ]
    return rows


def _met(met: bool | None) -> str:
    return NO_GOAL if met is None else ("met" if met else "not met")


def print_report(summary: dict[str, Any]) -> None:
    print(
        f"{summary['cases']:,} cases on {summary['engine']}, {summary['database']}"
        f" ({summary['database_mb']} MB)"
    )
    if made := summary["generation"]:
        print(
            f"generated in {made['seconds']} s: {made['cases_per_second']:,} cases/s, "
            f"{made['events']:,} events, {made['ratings']:,} ratings;"
            f" peak RSS {made['peak_rss_mb']} MB"
        )
    if moved := summary["move"]:
        print(
            f"moved in {moved['seconds']} s: {moved['rows']:,} rows,"
            f" {moved['rows_per_second']:,} rows/s (of which indexes and keys made again"
            f" {moved['indexing_seconds']} s; then VACUUM (ANALYZE) {moved['vacuum_seconds']} s)"
        )
    print(f"{'figure':62}{'value':>16}  {'goal':10}  met")
    for row in summary["figures"]:
        value = row["value"]
        shown = " / ".join(str(v) for v in value) if isinstance(value, list) else str(value)
        print(f"{row['figure']:62}{shown:>16}  {row['goal']:10}  {_met(row['met'])}")
