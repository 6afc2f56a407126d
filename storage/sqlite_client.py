"""The desk's SQLite client: Tortoise's, with the pipeline's transactions run on the event loop.

aiosqlite runs every statement on a thread of its own and hands the answer back through the event
loop. For the short statements an update makes (a draft read, an outbox row), that hop costs
about forty times the statement: 40 µs of CPU against 1 µs here, and an update makes several.

So inside `on_loop()` (the dispatcher, the poller and the sender run under it) a transaction
runs on the loop's own thread, in three parts:
- BEGIN IMMEDIATE, with no wait: it takes the write lock if it is free this instant, and holding
  it, no statement inside waits for a lock. If another process holds it, a plain BEGIN instead,
  and that transaction's statements go to aiosqlite's thread as before (its first write waits
  there for the lock);
- the statements, on the loop's thread;
- COMMIT, whose fsync is the slow part, and ROLLBACK, on aiosqlite's thread.

Nothing runs on the loop while aiosqlite's thread is at work (a COMMIT whose caller was
cancelled, say): the call then queues behind it on the thread.

A read inside that runs longer than READ_BUDGET (a report over a month, a search over the whole
desk) is stopped by SQLite's progress handler after about a millisecond or two and run again on
aiosqlite's thread, so no read holds the loop for long. A stopped read changes nothing, and its
transaction goes on.

Outside `on_loop()` (the web, the sweeps, the CLI) and outside a transaction, every statement
goes to aiosqlite's thread as Tortoise's own client sends it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import aiosqlite
from tortoise.backends.sqlite.client import SqliteClient

# SQLite calls the progress handler every PROGRESS_STEPS steps of its virtual machine (10–30 µs
# of work here); a read on the loop's thread is stopped after READ_BUDGET calls.
PROGRESS_STEPS = 1000
READ_BUDGET = 100

_on_loop: ContextVar[bool] = ContextVar("sqlite_on_loop", default=False)


@contextmanager
def on_loop() -> Iterator[None]:
    """Transactions begun inside run their statements on the event loop's thread."""
    token = _on_loop.set(True)
    try:
        yield
    finally:
        _on_loop.reset(token)


class LoopConnection(aiosqlite.Connection):
    """aiosqlite's connection, running a transaction begun under `on_loop()` on the loop."""

    def __init__(self, connector: Callable[[], sqlite3.Connection]) -> None:
        super().__init__(connector, iter_chunk_size=64)
        self._loop_owns = False  # the open transaction was begun under on_loop()
        self._budget = 0
        # Calls handed to aiosqlite's thread, and calls it finished, each counted by one thread
        # only. While they differ the thread may be at work (a caller cancelled meanwhile no
        # longer waits for it), and nothing runs on the loop beside it.
        self._handed = 0
        self._finished = 0

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        connection = self._conn
        if not connection.in_transaction:
            self._loop_owns = False  # ended, perhaps by SQLite itself (a failed write)
        if self._handed != self._finished:
            return await self._on_thread(fn, *args, **kwargs)
        owned, asked = self._loop_owns, _on_loop.get()
        if owned and (fn == connection.commit or fn == connection.rollback):
            self._loop_owns = False
            return await self._on_thread(fn)
        if not owned and asked:
            if args[:1] == ("BEGIN",) and fn == connection.execute:
                return self._begin()
            if fn == connection.commit and not connection.in_transaction:
                return None  # Tortoise commits before each BEGIN; nothing is open
        if (owned or asked) and fn == self._execute_fetchall and _reads(args[0]):
            return await self._read(fn, *args)  # (a read alone commits nothing)
        if owned:
            return fn(*args, **kwargs)
        return await self._on_thread(fn, *args, **kwargs)

    async def _on_thread(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """A call on aiosqlite's thread, as its connection makes every call, counted."""
        if not self._running or self._connection is None:
            raise ValueError("Connection closed")

        def counted() -> Any:
            try:
                return fn(*args, **kwargs)
            finally:
                self._finished += 1

        self._handed += 1
        return await super()._execute(counted)  # type: ignore[no-untyped-call]

    def _begin(self) -> sqlite3.Cursor:
        """BEGIN IMMEDIATE if the write lock is free this instant: the transaction is then the
        loop's. Else a plain BEGIN, as Tortoise's client sends it: the statements go to
        aiosqlite's thread, and the first write waits there for the lock, as it always did.

        Nothing here waits, so nothing here can be cancelled: a BEGIN that failed or was
        cancelled would keep Tortoise's transaction lock for ever (its context manager lets go
        of it only in __aexit__)."""
        connection = self._conn
        (timeout,) = connection.execute("PRAGMA busy_timeout").fetchone()
        connection.execute("PRAGMA busy_timeout = 0")
        try:
            cursor = connection.execute("BEGIN IMMEDIATE")
            self._loop_owns = True
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:
                raise
            cursor = connection.execute("BEGIN")
        finally:
            connection.execute(f"PRAGMA busy_timeout = {int(timeout)}")
        return cursor

    async def _read(self, fn: Callable[..., Any], *args: Any) -> Any:
        """A read on the loop's thread, or on aiosqlite's once it runs past its budget."""
        connection = self._conn
        self._budget = READ_BUDGET
        connection.set_progress_handler(self._spend, PROGRESS_STEPS)
        try:
            return fn(*args)
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode != sqlite3.SQLITE_INTERRUPT:
                raise
        finally:
            connection.set_progress_handler(None, 0)
        return await self._on_thread(fn, *args)

    def _spend(self) -> int:
        """SQLite's progress handler: non-zero stops the statement."""
        self._budget -= 1
        return self._budget <= 0


def _reads(sql: str) -> bool:
    """Whether a statement only reads: stopping it then leaves its transaction as it was (a
    stopped write would roll the whole transaction back)."""
    return sql.lstrip()[:6].upper() == "SELECT"


class LoopSqliteClient(SqliteClient):
    """Tortoise's SQLite client on a LoopConnection."""

    async def create_connection(self, with_db: bool) -> None:
        if self._connection:
            return
        filename = self.filename

        def connector() -> sqlite3.Connection:
            # The loop's thread uses the connection too, never while aiosqlite's thread does
            # (LoopConnection counts the calls it hands that thread).
            return sqlite3.connect(filename, isolation_level=None, check_same_thread=False)

        connection = LoopConnection(connector)
        await connection
        connection._conn.row_factory = sqlite3.Row
        self._connection = connection
        for pragma, value in self.pragmas.items():
            cursor = await connection.execute(f"PRAGMA {pragma}={value}")
            await cursor.close()
        await self._post_connect()


client_class = LoopSqliteClient  # what Tortoise looks for in an engine's module
