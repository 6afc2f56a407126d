"""Several processes on one PostgreSQL database: who leads, and waking each other.

Every process takes updates in and handles them (the dispatcher locks each chat while it
handles it: storage.inbox.claim_chats). One process, the leader, also does what must happen
once for the whole desk: it sends (Telegram's limits hold for the bot as a whole, and one sender
keeps them without sharing a budget), runs the sweeps and the digest, and polls when the desk
polls. The leader is whoever holds a session advisory lock on a connection of its own; when it
dies, PostgreSQL drops the lock with the connection and a standby takes it at its next try
(every `LEADER_RETRY` seconds). TCP keepalives on that connection make a leader whose machine
vanished lose the lock in about half a minute rather than hours.

The same connection LISTENs: a process that stored updates or queued messages NOTIFYs, and the
others' dispatchers or the leader's sender wake at once instead of at their next look.

On SQLite there is one process: it leads from the start, and nobody needs waking.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from bot.waiting import wait_any
from storage.config import asyncpg_dsn, on_postgres

log = logging.getLogger(__name__)

LEADER_LOCK = 0x6D696E736865  # "minshe": the leader's session advisory lock
CHANNEL = "minsheng"
LEADER_RETRY = 5.0  # seconds between a standby's tries, and between the leader's checks
CHECK_TIMEOUT = 5.0  # a leader whose connection does not answer this fast steps down
KEEPALIVE = {  # PostgreSQL notices a dead peer after about 10 + 5 × 4 s
    "tcp_keepalives_idle": "10",
    "tcp_keepalives_interval": "5",
    "tcp_keepalives_count": "4",
}
INBOX, OUTBOX = "inbox", "outbox"  # what a notification says was written


class Cluster:
    """This process's place among the desk's processes."""

    def __init__(
        self,
        url: str,
        *,
        on_inbox: Callable[[], None],
        on_outbox: Callable[[], None],
        on_leading: Callable[[bool], None],
        retry: float = LEADER_RETRY,
    ) -> None:
        self._url = url
        self._shared = on_postgres(url)
        self._on = {INBOX: on_inbox, OUTBOX: on_outbox}
        self._on_leading = on_leading
        self._retry = retry
        self._connection: Any = None
        self._using = asyncio.Lock()  # asyncpg runs one query at a time on a connection
        self._pid: int | None = None
        self._to_notify: set[str] = set()
        self._notifying: asyncio.Task[None] | None = None
        self.leader = False
        self.terms = 0  # how many times this process became the leader

    @property
    def shared(self) -> bool:
        """Whether other processes may share the database (PostgreSQL)."""
        return self._shared

    async def run(self, stop: asyncio.Event) -> None:
        """Lead, or stand by and try again, until told to stop. A leader keeps the lead until
        `close()`, so that it finishes sending before a standby starts."""
        if not self._shared:
            self._lead(True)
            await stop.wait()
            return
        while not stop.is_set():
            try:
                if self._connection is None:
                    await self._connect()
                await self._hold_or_try(stop)
            except Exception as exc:  # the database went away: stand down, connect again
                log.warning("cluster connection lost (%r); standing by", exc)
                self._lead(False)
                await self._disconnect()
                await wait_any(stop, seconds=self._retry)

    async def close(self) -> None:
        """Give up the lead (a standby takes it at its next try) and the connection."""
        self.leader = False
        if self._notifying is not None:
            await asyncio.gather(self._notifying, return_exceptions=True)
        await self._disconnect()

    def written(self, kind: str) -> None:
        """This process committed rows of `kind` (INBOX or OUTBOX): tell the others."""
        if not self._shared or self._connection is None:
            return
        self._to_notify.add(kind)
        if self._notifying is None or self._notifying.done():
            self._notifying = asyncio.create_task(self._notify())

    async def _notify(self) -> None:
        # One NOTIFY in flight at a time; what is written meanwhile goes in the next one.
        while self._to_notify and self._connection is not None:
            kinds, self._to_notify = sorted(self._to_notify), set()
            try:
                for kind in kinds:
                    async with self._using:
                        await self._connection.execute("SELECT pg_notify($1, $2)", CHANNEL, kind)
            except Exception as exc:  # the others look at the database on their own anyway
                log.info("could not notify the other processes: %r", exc)
                return

    async def _connect(self) -> None:
        # deferred: asyncpg is the optional [postgres] extra; SQLite-only desks lack it
        import asyncpg  # type: ignore[import-untyped]

        connection = await asyncpg.connect(asyncpg_dsn(self._url), server_settings=KEEPALIVE)
        self._pid = connection.get_server_pid()
        await connection.add_listener(CHANNEL, self._heard)
        self._connection = connection

    async def _disconnect(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(connection.close(), timeout=CHECK_TIMEOUT)
            if not connection.is_closed():
                connection.terminate()

    async def _hold_or_try(self, stop: asyncio.Event) -> None:
        """Try for the lead, or check that it is still ours, every `retry` seconds."""
        while not stop.is_set():
            query = "SELECT 1" if self.leader else f"SELECT pg_try_advisory_lock({LEADER_LOCK})"
            async with self._using:
                answer = await asyncio.wait_for(
                    self._connection.fetchval(query), timeout=CHECK_TIMEOUT
                )
            if not self.leader and answer:
                self._lead(True)
            await wait_any(stop, seconds=self._retry)

    def _heard(self, _connection: Any, pid: int, _channel: str, payload: str) -> None:
        if pid != self._pid and payload in self._on:
            self._on[payload]()

    def _lead(self, leading: bool) -> None:
        if leading == self.leader:
            return
        self.leader = leading
        if leading:
            self.terms += 1
            log.info("this process leads: it sends, sweeps and polls for the desk")
        else:
            log.info("this process no longer leads")
        self._on_leading(leading)
