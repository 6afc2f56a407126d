"""Operations (issue 6): /healthz, /metrics, and `minsheng backup` (RELIABILITY row 37).

The real bot runs against the sandbox on a real SQLite file: in this process for the probe and
the metrics (polling with MINSHENG_HEALTH_LISTEN, and webhook mode), and as a child process
(`python -m bot run`) under load for the backup.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.backup import backup_sqlite
from bot.health import serve_operations
from bot.sandbox import FaultConfig, Sandbox
from tests.databases import Database, small_database
from tests.following import Desk
from tests.harness import (
    ROOT,
    BotProcess,
    bot_env,
    eventually,
    free_port,
    other_writer,
    query,
    running_bot,
    settings_for,
    stop_bot,
    webhook_bot,
    webhook_settings,
)

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse_prometheus(text: str) -> Samples:
    """The text format (0.0.4) read by prometheus-client's parser, then held to more: every
    family declared once, by HELP and TYPE; counters end in _total; no _created series; a
    histogram's buckets only grow and its +Inf bucket equals its _count.
    Returns {(name, labels): value}."""
    assert text.endswith("\n")
    samples: Samples = {}
    declared: set[str] = set()
    for family in text_string_to_metric_families(text):
        assert family.type in ("counter", "gauge", "histogram"), f"undeclared: {family}"
        assert family.documentation, f"{family.name} has no HELP"
        assert family.name not in declared, f"{family.name} declared twice"
        declared.add(family.name)
        for sample in family.samples:
            assert family.type != "counter" or sample.name.endswith("_total"), sample
            assert not sample.name.endswith("_created"), sample
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
        if family.type == "histogram":
            buckets = sorted(
                (float(s.labels["le"]), s.value)
                for s in family.samples
                if s.name == f"{family.name}_bucket"
            )
            counts = [count for _, count in buckets]
            assert counts == sorted(counts), f"{family.name}: buckets must only grow"
            assert buckets[-1][0] == float("inf")
            assert buckets[-1][1] == samples[(f"{family.name}_count", frozenset())]
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def get(url: str) -> tuple[int, str, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as answer:
        return answer.status, answer.headers.get("Content-Type", ""), await answer.text()


async def health(base: str) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as session, session.get(f"{base}/healthz") as answer:
        return answer.status, await answer.json()


# -- /healthz --------------------------------------------------------------------------------


@pytest.mark.sqlite_only(reason="the database file removed under the running bot")
async def test_healthz_turns_503_when_the_database_file_is_removed(
    sandbox: Sandbox, db_path: Database
) -> None:
    """`minsheng run` with MINSHENG_HEALTH_LISTEN: 200 with the database, the backlogs and the
    workers while all is well; 503 once the SQLite file is removed under the running bot (its
    open connection would go on writing to the unlinked file and lose it all at restart)."""
    port = free_port()
    settings = settings_for(sandbox, db_path, MINSHENG_HEALTH_LISTEN=f"127.0.0.1:{port}")
    base = f"http://127.0.0.1:{port}"
    async with running_bot(settings) as runtime, serve_operations(runtime):
        sandbox.send_text(61_001, "/help")
        await sandbox.wait_for_messages(61_001, 1, timeout=10)
        status, report = await health(base)
        assert status == 200, report
        assert report["ok"]
        assert report["database"]["ok"]
        assert report["database"]["latency_ms"] < 2000
        assert report["outbox"]["waiting"] >= 0
        assert report["inbox"]["waiting"] == 0
        assert set(report["workers"]) == {"dispatcher", "sender", "sweeper"}
        assert all(w["ok"] for w in report["workers"].values()), report["workers"]
        assert report["polling"]

        assert db_path.path is not None
        os.remove(db_path.path)
        status, report = await health(base)
        assert status == 503
        assert not report["ok"]
        assert report["database"] == {"ok": False, "problem": f"file missing: {db_path.path}"}

        # Put back under the same name, it is another file: still not the bot's database.
        os.close(os.open(db_path.path, os.O_CREAT | os.O_WRONLY))
        status, report = await health(base)
        assert status == 503
        assert report["database"]["problem"].startswith("file replaced under the running bot")


@pytest.mark.sqlite_only(reason="SQLite's write lock held by another process")
async def test_healthz_turns_503_while_the_database_is_locked_and_the_sender_stalls(
    sandbox: Sandbox, db_path: Database
) -> None:
    """A write lock held by another process beyond the probe's bound: the probe's query does
    not answer within MINSHENG_HEALTH_DB_TIMEOUT, the sender cannot turn its loop for longer
    than MINSHENG_HEALTH_STALE_AFTER, and /healthz says 503 with both reasons; once the lock
    goes, it says 200 again and the waiting message is answered."""
    port = free_port()
    settings = settings_for(
        sandbox,
        db_path,
        MINSHENG_HEALTH_LISTEN=f"127.0.0.1:{port}",
        MINSHENG_HEALTH_DB_TIMEOUT="0.5",
        MINSHENG_HEALTH_STALE_AFTER="3",
    )
    base = f"http://127.0.0.1:{port}"
    async with running_bot(settings) as runtime, serve_operations(runtime):
        sandbox.send_text(61_101, "/help")
        await sandbox.wait_for_messages(61_101, 1, timeout=10)
        assert (await health(base))[0] == 200
        async with other_writer(db_path):
            sandbox.send_text(61_101, "/help")  # storing it waits for the lock

            async def sender_stalled() -> dict[str, Any] | None:
                status, report = await health(base)
                return report if status == 503 and not report["workers"]["sender"]["ok"] else None

            report = await eventually(sender_stalled, 8, interval=0.25, what="a stalled sender")
            assert report["database"]["problem"] == "busy: no answer within 0.5 s"
            assert report["workers"]["sender"]["running"]  # stuck, not dead
            assert report["workers"]["sender"]["last_loop_age"] > 3
        await sandbox.wait_for_messages(61_101, 2, timeout=15)

        async def healthy() -> bool:
            return (await health(base))[0] == 200

        await eventually(healthy, 10, interval=0.25, what="healthy again")


# -- /metrics --------------------------------------------------------------------------------


async def test_metrics_parse_and_move_with_real_updates(
    sandbox: Sandbox, db_path: Database
) -> None:
    """In webhook mode, /metrics on MINSHENG_HEALTH_LISTEN: Prometheus text that parses
    strictly, whose counters move with updates sent through the sandbox (handled, latency,
    sends), with a 429 from Telegram, and with the sweeps; cases by status come from the
    database."""
    settings = webhook_settings(
        sandbox, db_path, "s3cret-token", MINSHENG_HEALTH_LISTEN=f"127.0.0.1:{free_port()}"
    )
    base = f"http://{settings.health_listen}"
    async with webhook_bot(settings, sandbox, db_path) as runtime, serve_operations(runtime):
        status, content_type, text = await get(f"{base}/metrics")
        assert status == 200
        assert content_type == "text/plain; version=0.0.4; charset=utf-8"
        before = parse_prometheus(text)

        users = range(62_001, 62_006)
        for user in users:
            sandbox.send_text(user, "/help")
        for user in users:
            await sandbox.wait_for_messages(user, 1, timeout=10)
        # Telegram answers 429 to every sendMessage until told otherwise.
        sandbox.faults = FaultConfig(
            rate=1.0, kinds=("429",), retry_after=1, methods=frozenset({"sendMessage"})
        )
        sandbox.send_text(62_010, "/help")

        async def limited() -> bool:
            _, _, text = await get(f"{base}/metrics")
            return value(parse_prometheus(text), "minsheng_telegram_429_total") >= 1

        await eventually(limited, 10, interval=0.1, what="a 429 counted")
        sandbox.faults = FaultConfig()
        await sandbox.wait_for_messages(62_010, 1, timeout=10)
        await Desk(sandbox, runtime, db_path).file_case(62_001)
        await eventually(lambda: query(db_path, OPEN_ROWS) == [(0,)], 10, what="all sent")
        await asyncio.sleep(0.1)  # the last outcomes are recorded every 20 ms

        async def case_counted() -> Samples | None:
            # Cases by status are cached for a few seconds: the new case shows within those.
            _, _, text = await get(f"{base}/metrics")
            samples = parse_prometheus(text)
            cases = [v for (name, _), v in samples.items() if name == "minsheng_cases"]
            return samples if sum(cases) == 1 else None

        after = await eventually(case_counted, 10, interval=0.5, what="the case in the gauge")
        status, report = await health(base)
        assert status == 200, report

    handled = "minsheng_updates_handled_total"
    assert value(after, handled, outcome="done") - value(before, handled, outcome="done") == 6
    assert value(after, handled, outcome="failed") == 0
    latency = "minsheng_update_latency_seconds"
    assert value(after, f"{latency}_count") - value(before, f"{latency}_count") == 6
    assert 0 < value(after, f"{latency}_sum") < 60
    assert value(after, f"{latency}_bucket", le="+Inf") == value(after, f"{latency}_count")
    sends = "minsheng_outbox_sends_total"
    assert value(after, sends, outcome="sent") - value(before, sends, outcome="sent") >= 6
    assert value(after, "minsheng_telegram_429_total") >= 1
    assert value(after, "minsheng_outbox_retries_total", reason="rate_limited") >= 1
    assert value(after, "minsheng_outbox_failures_total", reason="refused") == 0
    assert value(after, "minsheng_sweep_runs_total", sweep="rating_close") >= 1
    assert value(after, "minsheng_outbox_backlog") == 0
    assert value(after, "minsheng_healthy") == 1
    assert value(after, "minsheng_database_up") == 1
    assert value(after, "minsheng_worker_last_loop_age_seconds", worker="sender") < 60


# -- minsheng backup (RELIABILITY row 37) ----------------------------------------------------

USERS = 20
FIRST_USER = 63_001


OPEN_ROWS = "SELECT count(*) FROM outbox_message WHERE status IN ('pending', 'uncertain')"


def backup_command(database: Path, target: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MINSHENG_DATABASE_URL": f"sqlite://{database}"}
    return subprocess.run(
        [sys.executable, "-m", "bot", "backup", str(target), *extra],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def counts(db: Database | Path) -> dict[str, int]:
    tables = [
        t
        for (t,) in query(
            db, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    return {t: query(db, f'SELECT count(*) FROM "{t}"')[0][0] for t in tables}  # noqa: S608


def printed_counts(stdout: str) -> dict[str, int]:
    return {m[1]: int(m[2]) for m in re.finditer(r"^  (\w+)\s+(\d+)$", stdout, re.MULTILINE)}


def assert_consistent(copy: Path, sent: int) -> None:
    """Integrity ok, and a snapshot of whole transactions: every handled update has its reply
    in the outbox, and no reply exists for an update not marked handled."""
    assert query(copy, "PRAGMA integrity_check") == [("ok",)]
    done = {u for (u,) in query(copy, "SELECT update_id FROM inbox_update WHERE status='done'")}
    replied = {
        u
        for (u,) in query(copy, "SELECT update_id FROM outbox_message WHERE update_id IS NOT NULL")
    }
    assert done == replied
    assert query(copy, "SELECT count(*) FROM inbox_update WHERE status = 'failed'") == [(0,)]
    assert 0 < len(done) <= sent


async def drive_users(sandbox: Sandbox, sent: list[int], stop: asyncio.Event) -> None:
    """Citizens sending /help, /start and plain text, paced, without waiting for replies, until
    `stop`: both copies below are taken inside the load, however long a busy machine takes."""

    async def user(chat: int, rng: random.Random) -> None:
        i = 0
        while not stop.is_set():
            i += 1
            await asyncio.sleep(rng.uniform(0.05, 0.3))
            text = rng.choice(("/help", "/start", f"hello {i}"))
            sent.append(sandbox.send_text(chat, text)["update_id"])

    await asyncio.gather(*(user(FIRST_USER + n, random.Random(n)) for n in range(USERS)))


@pytest.mark.slow
@pytest.mark.sqlite_only(reason="`minsheng backup` copies the SQLite file (pg_dump's job)")
async def test_backup_under_load_is_a_consistent_snapshot(
    sandbox: Sandbox, tmp_path: Path, db_path: Database
) -> None:
    """RELIABILITY row 37: `minsheng backup` taken from a live bot (a child process) while
    citizens write: the copy passes integrity_check, is a consistent snapshot (each handled
    update with its reply), its counts are the ones printed and lie between the live counts
    before and after; a copy stretched over many small steps while the bot writes is still
    one snapshot; a fresh bot restored from the copy is healthy and finishes its work."""
    port = free_port()
    # Every message gets its one reply: no citizen here is slowed down as a flood.
    env = bot_env(
        sandbox,
        db_path,
        MINSHENG_HEALTH_LISTEN=f"127.0.0.1:{port}",
        MINSHENG_FLOOD_MESSAGES="10000",
    )
    bot = BotProcess(env, tmp_path / "bot.log")
    bot.start()
    sent: list[int] = []
    try:

        async def up() -> bool:
            with contextlib.suppress(aiohttp.ClientError):
                return (await health(f"http://127.0.0.1:{port}"))[0] == 200
            return False

        await eventually(up, 30, interval=0.2, what="the bot's /healthz")
        stop_load = asyncio.Event()
        load = asyncio.create_task(drive_users(sandbox, sent, stop_load))
        stored = "SELECT count(*) FROM inbox_update"
        await eventually(lambda: query(db_path, stored)[0][0] >= USERS, 30, what="the load")

        copy, live = tmp_path / "backup.sqlite3", db_path.path
        assert live is not None
        live_before = counts(db_path)
        result = await asyncio.to_thread(backup_command, live, copy)
        live_after = counts(db_path)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "integrity_check: ok" in result.stdout
        snapshot = counts(copy)
        assert printed_counts(result.stdout) == snapshot
        for table in ("inbox_update", "outbox_message"):
            assert live_before[table] <= snapshot[table] <= live_after[table], table
        assert_consistent(copy, len(sent))

        # One page per step with a pause: the copy spans many of the bot's commits.
        slow = tmp_path / "slow.sqlite3"
        before = counts(db_path)["inbox_update"]
        assert not load.done()
        started = time.monotonic()
        report = await asyncio.to_thread(backup_sqlite, live, slow, pages=1, pause=0.01)
        print(f"{report.pages} pages in {time.monotonic() - started:.2f} s, one per step")
        assert report.ok
        assert counts(db_path)["inbox_update"] > before, "the bot wrote during the copy"
        assert report.counts == counts(slow)
        assert_consistent(slow, len(sent))

        stop_load.set()
        await load
        # Every update fetched and its offset confirmed before the stop: the restored bot
        # below must find nothing new waiting at Telegram, however slowly this bot stops.
        await eventually(lambda: not sandbox.world.pending, 30, what="the offset confirmed")
        assert await stop_bot(bot) == 0
    finally:
        bot.kill()
    print(
        f"{len(sent)} messages; backup: {snapshot['inbox_update']} updates, "
        f"{snapshot['outbox_message']} outbox rows of {live_after['inbox_update']} live after"
    )

    # The restore drill: a fresh bot on the copy starts, is healthy, and handles what the copy
    # holds as still pending; nothing handled before the backup is handled again.
    restored_port = free_port()
    settings = settings_for(
        sandbox,
        Database.sqlite(copy),
        MINSHENG_HEALTH_LISTEN=f"127.0.0.1:{restored_port}",
        MINSHENG_FLOOD_MESSAGES="10000",
    )
    async with running_bot(settings) as runtime, serve_operations(runtime):
        status, restored = await health(f"http://127.0.0.1:{restored_port}")
        assert status == 200, restored
        await eventually(
            lambda: (
                query(copy, "SELECT count(*) FROM inbox_update WHERE status = 'pending'") == [(0,)]
            ),
            20,
            what="all handled",
        )
    assert_consistent(copy, len(sent))
    assert counts(copy)["inbox_update"] == snapshot["inbox_update"]


def test_backup_refuses_to_overwrite_and_points_postgres_to_pg_dump(tmp_path: Path) -> None:
    """An existing FILE is kept unless --force; PostgreSQL is pg_dump's job (exit 2)."""
    live, target = tmp_path / "live.sqlite3", tmp_path / "copy.sqlite3"
    small_database(live)
    target.write_text("keep me")
    refused = backup_command(live, target)
    assert refused.returncode == 2
    assert "exists; add --force" in refused.stdout
    assert target.read_text() == "keep me"

    forced = backup_command(live, target, "--force")
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert printed_counts(forced.stdout) == {"note": 2000}
    assert query(target, "SELECT count(*) FROM note") == [(2000,)]
    assert not (tmp_path / "copy.sqlite3.partial").exists()

    env = {**os.environ, "MINSHENG_DATABASE_URL": "postgres://desk:pw@db.internal:5432/minsheng"}
    postgres = subprocess.run(
        [sys.executable, "-m", "bot", "backup", str(tmp_path / "pg.dump")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert postgres.returncode == 2
    assert "pg_dump" in postgres.stdout
    assert not (tmp_path / "pg.dump").exists()


def test_backup_of_a_damaged_database_fails_its_check(tmp_path: Path) -> None:
    """Pages damaged on disk are copied as they are; integrity_check on the copy finds them,
    the command exits 1 and FILE is not written."""
    live, target = tmp_path / "live.sqlite3", tmp_path / "copy.sqlite3"
    small_database(live)
    data = bytearray(live.read_bytes())
    page = 4096
    for offset in range(5 * page + 8, 5 * page + 600):  # inside an index or table page
        data[offset] = 0xA5
    live.write_bytes(bytes(data))
    result = backup_command(live, target)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "failed its integrity check" in result.stdout
    assert not target.exists()
