"""`minsheng bench`: its command line, and which benchmark the options ask for."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bot.bench import run_bench
from bot.bench_areas import run_area_bench
from bot.bench_cases import run_case_bench
from bot.bench_intake import run_intake_bench
from bot.bench_storm import run_storm_bench
from bot.bench_workers import run_worker_bench


def add_bench_parser(sub: Any) -> None:
    """`minsheng bench` and its options, on the `minsheng` command's subparsers."""
    bench = sub.add_parser("bench", help="measure the pipeline against a bare bot")
    bench.add_argument(
        "--scenario",
        choices=("help", "intake", "storm"),
        default="help",
        help="help: /help against a bare bot (the default); intake: whole requests filed; "
        "storm: a notice to every one of --citizens at once, under Telegram's limits",
    )
    bench.add_argument(
        "--citizens", type=int, default=10_000, help="with --scenario storm: notices (10,000)"
    )
    bench.add_argument(
        "--filers", type=int, default=100, help="with --scenario storm: citizens filing (100)"
    )
    bench.add_argument(
        "--think",
        type=float,
        default=20.0,
        help="with --scenario storm: a filer's seconds before each step, on average (20)",
    )
    bench.add_argument(
        "--users", type=int, default=None, help="simulated citizens (500; 20 for intake)"
    )
    bench.add_argument(
        "--requests", type=int, default=5, help="with --scenario intake: requests per user (5)"
    )
    bench.add_argument("--messages", type=int, default=None, help="per user (10; 2 at --rtt)")
    bench.add_argument("--rtt", type=float, default=0.0, help="sandbox round trip, ms")
    bench.add_argument("--repeat", type=int, default=1, help="runs of each side (1)")
    bench.add_argument("--json", action="store_true", help="print a JSON summary")
    bench.add_argument(
        "--profile",
        action="store_true",
        help="then profile one more pipeline run: SQL statements and costliest functions",
    )
    bench.add_argument(
        "--cases",
        type=int,
        default=None,
        help="instead: time /stats, lookups and /queue over N generated cases",
    )
    bench.add_argument("--db", type=Path, default=None, help="with --cases: this file")
    bench.add_argument(
        "--database",
        default=None,
        help="with --cases: move the cases into this empty postgres://… database, time there; "
        "with --workers or --scenario intake: the PostgreSQL server to create throwaway "
        "databases on (the role needs the CREATEDB right; the database named is never written)",
    )
    bench.add_argument(
        "--workers",
        type=int,
        nargs="?",
        const=2,
        default=None,
        metavar="N",
        help="instead: the webhook pipeline on SQLite (1 process), on PostgreSQL (1 process) and "
        "on PostgreSQL with N processes (2 if no N), each on a fresh database; needs --database",
    )
    bench.add_argument("--keep", action="store_true", help="with --cases: keep the file")
    bench.add_argument(
        "--lookups",
        type=int,
        default=10_000,
        help="with --cases: status lookups to time; with --areas: places to look up",
    )
    bench.add_argument(
        "--areas",
        type=int,
        default=None,
        help="instead: point-in-polygon over N generated areas, with the index and without",
    )
    bench.add_argument(
        "--queue-pages", type=int, default=1_000, help="with --cases: /queue pages to time"
    )
    bench.add_argument(
        "--searches", type=int, default=1_000, help="with --cases: board searches to time"
    )
    bench.add_argument(
        "--drafts",
        type=int,
        default=0,
        help="with --cases: add this many open drafts, run the bot on the cases, report its"
        " memory",
    )


async def run_bench_command(args: argparse.Namespace) -> int:
    """Run the benchmark the options name: a scenario, areas, workers, cases or /help."""
    if args.users is None:
        args.users = 20 if args.scenario == "intake" else 500
    if args.scenario == "intake":
        return await run_intake_bench(args)
    if args.scenario == "storm":
        return await run_storm_bench(args)
    if args.areas is not None:
        return run_area_bench(args)
    if args.workers is not None:
        return await run_worker_bench(args)
    if args.cases is not None:
        return await run_case_bench(args)
    return await run_bench(args)
