"""The pipeline's transactions on the event loop's thread (storage/sqlite_client.py), on a real
SQLite file: where each statement runs, that a long read leaves the loop, that a write lock held
by another process is waited for off the loop, and that nothing of a transaction is lost."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time

import pytest
from tortoise.connection import get_connection
from tortoise.exceptions import IntegrityError, OperationalError
from tortoise.transactions import in_transaction

from storage.sql import execute, fetch
from storage.sqlite_client import on_loop

BIG = 400_000  # rows: counting them runs far past a read's budget on the loop


@pytest.fixture
async def desk(db: None) -> str:
    """The test's migrated desk, with a SQL function telling which thread runs a statement."""
    client = get_connection("default")
    if client.capabilities.dialect != "sqlite":
        pytest.skip("the loop's transactions are SQLite's")
    await client._connection.create_function("thread_id", 0, threading.get_ident)
    await execute("CREATE TABLE big (n INTEGER)")
    await execute(
        "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < ?)"
        " INSERT INTO big SELECT n FROM c",
        BIG,
    )
    return str(client.filename)


async def _thread() -> int:
    return int((await fetch("SELECT thread_id() AS t"))[0]["t"])


async def test_a_pipeline_transaction_runs_on_the_loop_and_others_do_not(desk: str) -> None:
    loop_thread = threading.get_ident()
    with on_loop():
        async with in_transaction():
            assert await _thread() == loop_thread
            await execute("INSERT INTO big (n) VALUES (0)")
            assert await _thread() == loop_thread
        assert await _thread() == loop_thread  # a read alone, under on_loop()
    async with in_transaction():  # the web, the sweeps, the CLI
        assert await _thread() != loop_thread
    assert await _thread() != loop_thread
    rows = await fetch("SELECT count(*) AS c FROM big WHERE n = 0")
    assert rows[0]["c"] == 1  # the write on the loop committed


async def test_a_long_read_is_stopped_and_run_again_off_the_loop(desk: str) -> None:
    loop_thread = threading.get_ident()
    with on_loop():
        async with in_transaction():
            await execute("INSERT INTO big (n) VALUES (-1)")
            rows = await fetch(
                "SELECT (SELECT count(*) FROM big WHERE n % 7 = 3) AS c, thread_id() AS t"
            )
            assert rows[0]["c"] == len(range(3, BIG + 1, 7))
            assert rows[0]["t"] != loop_thread
            # The stopped read left the transaction as it was: it goes on, on the loop.
            assert await _thread() == loop_thread
            await execute("INSERT INTO big (n) VALUES (-2)")
    rows = await fetch("SELECT count(*) AS c FROM big WHERE n < 0")
    assert rows[0]["c"] == 2


async def test_a_long_write_on_the_loop_is_never_stopped(desk: str) -> None:
    with on_loop():
        async with in_transaction():
            changed = await execute("UPDATE big SET n = n + 1")
    assert changed == BIG
    rows = await fetch("SELECT min(n) AS low FROM big")
    assert rows[0]["low"] == 2


async def test_another_process_s_write_lock_is_waited_for_off_the_loop(desk: str) -> None:
    """While another connection holds the write lock, a transaction's write waits for it on
    the database's thread, and the loop goes on turning."""
    other = sqlite3.connect(desk, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    gaps: list[float] = []

    async def ticking() -> None:
        last = time.monotonic()
        while True:
            await asyncio.sleep(0.01)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    async def written() -> None:
        with on_loop():
            async with in_transaction():
                await execute("INSERT INTO big (n) VALUES (-3)")

    ticker = asyncio.create_task(ticking())
    writer = asyncio.create_task(written())
    await asyncio.sleep(1.5)
    assert not writer.done()  # it waits for the lock
    other.execute("COMMIT")
    other.close()
    await asyncio.wait_for(writer, 10)
    ticker.cancel()
    assert len(gaps) > 20
    assert max(gaps) < 1.0, "the loop stood still while the lock was held"
    rows = await fetch("SELECT count(*) AS c FROM big WHERE n = -3")
    assert rows[0]["c"] == 1


async def test_a_lock_held_past_the_busy_timeout_leaves_the_transaction_as_tortoise_s(
    desk: str,
) -> None:
    """BEGIN IMMEDIATE gave up: the transaction begins as Tortoise's own client begins it (a
    failed BEGIN would hold Tortoise's lock for ever), reads go on, a write meets the lock."""
    await execute("PRAGMA busy_timeout = 100")
    other = sqlite3.connect(desk, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    try:
        with on_loop():
            async with in_transaction():
                rows = await fetch("SELECT count(*) AS c FROM big")  # WAL: a read never waits
                assert rows[0]["c"] == BIG
            with pytest.raises(OperationalError, match="locked"):
                async with in_transaction():
                    await execute("INSERT INTO big (n) VALUES (-4)")
    finally:
        other.execute("COMMIT")
        other.close()
    with on_loop():
        async with in_transaction():  # the lock is free: the loop's again, and nothing leaked
            assert await _thread() == threading.get_ident()
            await execute("INSERT INTO big (n) VALUES (-5)")
    rows = await fetch("SELECT n FROM big WHERE n < 0")
    assert rows == [{"n": -5}]


async def test_a_transaction_cancelled_while_it_waits_for_the_lock_leaves_nothing_held(
    desk: str,
) -> None:
    """Stopping the bot cancels a lane that waits for another process's lock: the lock of
    Tortoise and the connection are free again once that process lets go."""
    other = sqlite3.connect(desk, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")

    async def written() -> None:
        with on_loop():
            async with in_transaction():
                await execute("INSERT INTO big (n) VALUES (-6)")

    waiting = asyncio.create_task(written())
    await asyncio.sleep(0.3)
    waiting.cancel()
    await asyncio.sleep(0.2)
    other.execute("COMMIT")
    other.close()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    await asyncio.wait_for(written_again(), 15)
    rows = await fetch("SELECT n FROM big WHERE n < 0")
    assert rows == [{"n": -7}]


async def written_again() -> None:
    with on_loop():
        async with in_transaction():
            assert await _thread() == threading.get_ident()
            await execute("INSERT INTO big (n) VALUES (-7)")


async def test_a_transaction_sqlite_ended_itself_leaves_the_next_one_off_the_loop(
    desk: str,
) -> None:
    """A write with ON CONFLICT ROLLBACK ends its transaction inside SQLite: the next
    transaction begun outside on_loop() (the web, a sweep) runs on the database's thread."""
    await execute("CREATE TABLE once (k INTEGER UNIQUE ON CONFLICT ROLLBACK)")
    await execute("INSERT INTO once (k) VALUES (1)")
    with on_loop(), pytest.raises(IntegrityError):
        async with in_transaction():
            await execute("INSERT INTO once (k) VALUES (1)")
    async with in_transaction():
        assert await _thread() != threading.get_ident()
        await execute("INSERT INTO once (k) VALUES (2)")
    assert await fetch("SELECT k FROM once ORDER BY k") == [{"k": 1}, {"k": 2}]


async def test_nothing_runs_on_the_loop_while_the_thread_still_works(desk: str) -> None:
    """A caller cancelled while the database's thread runs its statement lets go of
    Tortoise's lock; the next statement, even under on_loop(), queues behind the thread's."""
    await execute("CREATE TABLE copy (n INTEGER)")

    async def copying() -> None:
        await execute("INSERT INTO copy SELECT a.n FROM big a, (SELECT 1 UNION SELECT 2) b")

    long_write = asyncio.create_task(copying())
    await asyncio.sleep(0.05)
    long_write.cancel()
    with pytest.raises(asyncio.CancelledError):
        await long_write
    with on_loop():
        assert await _thread() != threading.get_ident()  # queued behind the copy
    rows = await fetch("SELECT count(*) AS c FROM copy")
    assert rows[0]["c"] == 2 * BIG  # the copy ran to its end, off the loop
