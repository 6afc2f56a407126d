"""What the end-to-end tests share: a sandbox, the real bot (in this process or as a child
process) pointed at it, a real database (a SQLite file or a PostgreSQL database), and ways to
act as users and read the results."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import ClientSession, web

from bot.clock import Clock
from bot.runtime import Runtime
from bot.sandbox import Sandbox, SandboxConfig
from bot.settings import Settings, load_settings
from tests.databases import Database

ROOT = Path(__file__).resolve().parent.parent
TIME_SCALE = 20.0  # Telegram's limit windows, twenty times shorter


def sandbox_config(**overrides: Any) -> SandboxConfig:
    values: dict[str, Any] = {"time_scale": TIME_SCALE}
    values.update(overrides)
    return SandboxConfig(**values)


def bot_env(sandbox: Sandbox, db_path: Database, **extra: str) -> dict[str, str]:
    """Environment for the bot against the sandbox (also for a child process)."""
    env = {
        "MINSHENG_BOT_TOKEN": sandbox.config.token,
        "MINSHENG_BOT_API_URL": sandbox.api_url,
        "MINSHENG_BOT_FILE_URL": sandbox.file_url,
        "MINSHENG_DATABASE_URL": db_path.url,
        "MINSHENG_RATE_TIME_SCALE": str(sandbox.config.time_scale),
        "MINSHENG_POLL_TIMEOUT": "1",
        "MINSHENG_REQUEST_TIMEOUT": "3",
        "MINSHENG_STAFF_CHAT_ID": str(sandbox.config.staff_group_id),
    }
    env.update(extra)
    return env


def settings_for(sandbox: Sandbox, db_path: Database, **extra: str) -> Settings:
    env = bot_env(sandbox, db_path, **extra)
    return load_settings(
        env_file=None,
        **{k.removeprefix("MINSHENG_").lower(): v for k, v in env.items()},
    )


@contextlib.asynccontextmanager
async def running_bot(settings: Settings, clock: Clock | None = None) -> AsyncIterator[Runtime]:
    """The real runtime in this process, polling the sandbox, stopped cleanly at the end."""
    runtime = await Runtime.start(settings, clock)
    task = asyncio.create_task(runtime.run_polling(handle_signals=False))
    poke = asyncio.create_task(wake_sender_often(runtime))
    try:
        # The sweeps' run at start done before the test goes on: a test that moves the clock
        # and sweeps itself would otherwise race it.
        await eventually(
            lambda: runtime.sweeper is not None and runtime.sweeper.runs > 0,
            30,
            what="the sweeper's first run",
        )
        yield runtime
    finally:
        poke.cancel()
        runtime.stop.set()
        await asyncio.wait_for(task, timeout=30)


async def wake_sender_often(runtime: Runtime) -> None:
    """Tests also write through storage directly (a staff action, a clock moved on); the bot's
    own commits wake the sender, these would wait for its idle look at the outbox (2 s)."""
    while True:
        await asyncio.sleep(0.05)
        runtime.sender.wake()


class BotProcess:
    """`python -m bot run` as a child process, for kill -9 and signal tests."""

    def __init__(self, env: dict[str, str], log_path: Path, command: str = "run") -> None:
        self.env = {**os.environ, **env}
        self.log_path = log_path
        self.command = command
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(  # a child that must outlive awaits
            [sys.executable, "-m", "bot", *self.command.split()],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def terminate(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    async def wait(self, timeout: float) -> int:  # noqa: ASYNC109 - public signature
        deadline = asyncio.get_running_loop().time() + timeout
        while self.process and self.process.poll() is None:
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError("bot process did not exit")
            await asyncio.sleep(0.05)
        return self.process.returncode if self.process else -1

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def query(
    db_path: Database | Path, sql: str, params: tuple[Any, ...] = ()
) -> list[tuple[Any, ...]]:
    """Read the bot's database (or a SQLite file, say a backup) directly, as an operator would
    (`?` placeholders; rows as SQLite gives them, on PostgreSQL too)."""
    database = Database.sqlite(db_path) if isinstance(db_path, Path) else db_path
    return database.query(sql, params)


async def execute(db_path: Database, sql: str, params: tuple[Any, ...] = ()) -> None:
    """Change the bot's database directly, as an operator would, off this event loop: the bot
    under test runs on it and may hold a lock halfway through a transaction that it must be
    able to finish."""
    await db_path.change_async(sql, params)


def texts(messages: list[dict[str, Any]]) -> list[str]:
    return [m.get("text") or m.get("caption") or "" for m in messages]


# -- Helpers for the ingress, dispatch, settings and conversation tests ------------------------


TEST_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"  # shaped like a real one, not one


def free_port() -> int:
    """A TCP port that was free a moment ago on 127.0.0.1."""
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def free_port_pair() -> int:
    """A port that was free a moment ago on 127.0.0.1, with the next one free too."""
    while True:
        port = free_port()
        with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
            try:
                sock.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port


async def wait_until(
    condition: Callable[[], bool], seconds: float, what: str = "condition"
) -> None:
    """Wait for a state we cannot be notified of (rows in the bot's database), checking often."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {seconds} s waiting for {what}")
        await asyncio.sleep(0.02)


def inbox_statuses(db_path: Database) -> dict[str, int]:
    """How many inbox rows are in each status."""
    return dict(query(db_path, "SELECT status, count(*) FROM inbox_update GROUP BY status"))


async def wait_inbox_settled(db_path: Database, expected: int, seconds: float = 15.0) -> None:
    """Wait until the inbox holds ``expected`` rows and none of them is pending."""

    def settled() -> bool:
        counts = inbox_statuses(db_path) if db_path.exists() else {}
        return sum(counts.values()) >= expected and counts.get("pending", 0) == 0

    await wait_until(settled, seconds, f"{expected} handled inbox rows")


def outbox_open(db_path: Database) -> int:
    """Outbox rows not yet recorded as sent or failed."""
    sql = "SELECT count(*) FROM outbox_message WHERE status IN ('pending', 'uncertain')"
    return int(query(db_path, sql)[0][0])


async def wait_handled(db_path: Database, *updates: dict[str, Any], seconds: float = 15.0) -> None:
    """Wait until each of ``updates`` (as the sandbox returned them) is stored and handled, and
    the outbox holds nothing unsent: all they made the bot say has been said, and nothing
    more will come of them."""
    ids = [int(update["update_id"]) for update in updates]
    marks = ",".join("?" * len(ids))
    sql = f"SELECT count(*) FROM inbox_update WHERE status != 'pending' AND update_id IN ({marks})"  # noqa: S608

    def handled() -> bool:
        return int(query(db_path, sql, tuple(ids))[0][0]) == len(ids) and outbox_open(db_path) == 0

    await wait_until(handled, seconds, f"updates {ids} handled and their replies sent")


async def sandbox_settled(sandbox: Sandbox, seconds: float = 10.0) -> None:
    """Wait until the sandbox has answered every call already on its way (say, from a bot
    process just killed): its call counts stay the same across a round trip of our own."""
    deadline = time.monotonic() + seconds
    url = f"{sandbox.api_url}{sandbox.config.token}/getMe"
    async with ClientSession() as session:
        while True:
            before = {k: v for k, v in sandbox.stats.items() if k != "getMe"}
            async with session.post(url, json={}) as response:
                await response.read()
            if {k: v for k, v in sandbox.stats.items() if k != "getMe"} == before:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"the sandbox was still answering calls after {seconds} s")


async def stop_runtime(
    runtime: Runtime, task: asyncio.Task[None], db_path: Database | None, seconds: float = 15.0
) -> None:
    """Stop a runtime started here: first let the outbox record its sends (so a test's last
    look at the database sees them), then stop, within ``seconds``.

    A stop that hangs fails the test at once, with the runtime cancelled and the database
    closed, instead of stalling (and breaking) every test after it."""
    from storage.db import close_database

    if db_path is not None and not task.done():
        with contextlib.suppress(TimeoutError):
            await wait_until(lambda: outbox_open(db_path) == 0, 5, "the outbox to settle")
    runtime.stop.set()
    done, _ = await asyncio.wait([task], timeout=seconds)
    if not done:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await close_database()
        raise AssertionError(f"the bot did not stop within {seconds} s")
    if not task.cancelled() and task.exception() is not None:  # it failed (a port taken, say)
        await close_database()
    task.result()


@contextlib.asynccontextmanager
async def polling_bot(
    settings: Settings,
    db_path: Database | None = None,
    prepare: Callable[[Runtime], None] | None = None,
) -> AsyncIterator[Runtime]:
    """As `running_bot` (the real runtime polling the sandbox), but ``prepare`` may extend the
    real Application (add a handler) before the workers start, and it stops as
    `stop_runtime` does."""
    runtime = await Runtime.start(settings)
    if prepare is not None:
        prepare(runtime)
    task = asyncio.create_task(runtime.run_polling(handle_signals=False))
    try:
        yield runtime
    finally:
        await stop_runtime(runtime, task, db_path)


def webhook_settings(sandbox: Sandbox, db_path: Database, secret: str, **extra: str) -> Settings:
    """Settings for `run_webhook` on a free local port, the sandbox posting to /tg/hook."""
    port = free_port()
    return settings_for(
        sandbox,
        db_path,
        MINSHENG_WEBHOOK_URL=f"http://127.0.0.1:{port}/tg/hook",
        MINSHENG_WEBHOOK_LISTEN=f"127.0.0.1:{port}",
        MINSHENG_WEBHOOK_SECRET=secret,
        **extra,
    )


@contextlib.asynccontextmanager
async def webhook_bot(
    settings: Settings,
    sandbox: Sandbox | None = None,
    db_path: Database | None = None,
    clock: Clock | None = None,
) -> AsyncIterator[Runtime]:
    """The real runtime serving `make_web_app` in this process, as `minsheng webhook` does.

    Yields once the webhook server answers and, given the sandbox, once it was told the
    webhook URL (setWebhook is the last step of start-up)."""
    from bot.web import make_web_app

    runtime = await Runtime.start(settings, clock)
    task = asyncio.create_task(runtime.run_webhook(make_web_app(runtime, settings.secret())))
    try:
        if sandbox is not None:
            await wait_until(
                lambda: sandbox.api.webhook is not None or task.done(), 10, "setWebhook"
            )
        else:
            await wait_until(lambda: bool(runtime.tasks) or task.done(), 10, "workers")
        if task.done():
            task.result()  # start-up failed: show why
        yield runtime
    finally:
        await stop_runtime(runtime, task, db_path)


class ApiRecorder:
    """A pass-through proxy in front of the sandbox's Bot API that records every call.

    Point the bot's MINSHENG_BOT_API_URL at ``api_url``; each call is forwarded unchanged and
    kept as (method, parameters) in ``calls``."""

    def __init__(self, target_base: str) -> None:
        self.target_base = target_base.rstrip("/")
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.base_url = ""
        self._runner: web.AppRunner | None = None
        self._session: ClientSession | None = None

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/bot"

    async def start(self) -> str:
        self._session = ClientSession()
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._forward)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.base_url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    def of(self, method: str) -> list[dict[str, Any]]:
        """The parameters of every recorded call of ``method`` (case-insensitive)."""
        return [params for name, params in self.calls if name.lower() == method.lower()]

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._session is not None
        body = await request.read()
        params: dict[str, Any] = dict(request.query)
        if body and request.content_type == "application/json":
            decoded = json.loads(body)
            if isinstance(decoded, dict):
                params.update(decoded)
        elif body and request.content_type == "application/x-www-form-urlencoded":
            params.update(await request.post())
        self.calls.append((request.match_info["method"], params))
        url = f"{self.target_base}{request.path_qs}"
        headers = {"Content-Type": request.headers.get("Content-Type", "application/json")}
        async with self._session.request(
            request.method, url, data=body, headers=headers
        ) as answer:
            payload = await answer.read()
            return web.Response(
                body=payload, status=answer.status, content_type=answer.content_type
            )


# -- helpers for the crash, fault, outbox and lifecycle tests ------------------------------------


async def eventually(
    condition: Any, within: float, interval: float = 0.02, what: str = "condition"
) -> Any:
    """Await until ``condition()`` (sync or async) is truthy; return it, or TimeoutError."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        value = condition()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"{what} not reached within {within} s")
        await asyncio.sleep(interval)


def insert_outbox(
    db_path: Database, chat_id: int | None, method: str, payload: dict[str, Any]
) -> int:
    """Queue a Bot API call with plain SQL, as an operator's tool would (the columns of
    `storage.outbox.enqueue`); returns the row id."""
    now = datetime.now(UTC)
    [(row_id,)] = db_path.change(
        "INSERT INTO outbox_message (chat_id, method, payload, status, attempts,"
        " next_attempt_at, created_at) VALUES (?, ?, ?, 'pending', 0, ?, ?) RETURNING id",
        (chat_id, method, json.dumps(payload), now, now),
    )
    return int(row_id)


def outbox_row(db_path: Database, row_id: int) -> dict[str, Any]:
    """One outbox row as a dict of its columns."""
    rows = db_path.records("SELECT * FROM outbox_message WHERE id = ?", (row_id,))
    return rows[0] if rows else {}


async def stop_bot(bot: BotProcess, grace: float = 30.0) -> int:
    """SIGTERM the child and return its exit code; SIGKILL it if it outlives ``grace`` (then
    TimeoutError), so a hung bot never outlives its test."""
    bot.terminate()
    try:
        return await bot.wait(grace)
    except TimeoutError:
        bot.kill()
        raise


@contextlib.asynccontextmanager
async def other_writer(db_path: Database, *, busy_seconds: float = 20.0) -> AsyncIterator[None]:
    """Another writer (a backup, a cron job) holds SQLite's write lock until the block ends.

    The lock is taken in a worker thread: the bot under test runs on this event loop, and may
    be halfway through a transaction that it must be able to finish before the lock is free.
    """
    assert db_path.path is not None, "SQLite's write lock: for tests marked sqlite_only"
    conn = sqlite3.connect(
        db_path.path, timeout=busy_seconds, isolation_level=None, check_same_thread=False
    )
    try:
        await asyncio.to_thread(conn.execute, "BEGIN IMMEDIATE")
        yield
        await asyncio.to_thread(conn.execute, "ROLLBACK")
    finally:
        conn.close()
