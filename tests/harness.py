"""What the end-to-end tests share: a sandbox, the real bot (in this process or as a child
process) pointed at it, a real SQLite file, and ways to act as users and read the results."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from bot.runtime import Runtime
from bot.sandbox import Sandbox, SandboxConfig
from bot.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent
TIME_SCALE = 20.0  # Telegram's limit windows, twenty times shorter


def sandbox_config(**overrides: Any) -> SandboxConfig:
    values: dict[str, Any] = {"time_scale": TIME_SCALE}
    values.update(overrides)
    return SandboxConfig(**values)


def bot_env(sandbox: Sandbox, db_path: Path, **extra: str) -> dict[str, str]:
    """Environment for the bot against the sandbox (also for a child process)."""
    env = {
        "MINSHENG_BOT_TOKEN": sandbox.config.token,
        "MINSHENG_BOT_API_URL": sandbox.api_url,
        "MINSHENG_BOT_FILE_URL": sandbox.file_url,
        "MINSHENG_DATABASE_URL": f"sqlite://{db_path}",
        "MINSHENG_RATE_TIME_SCALE": str(sandbox.config.time_scale),
        "MINSHENG_POLL_TIMEOUT": "1",
        "MINSHENG_REQUEST_TIMEOUT": "3",
        "MINSHENG_STAFF_CHAT_ID": str(sandbox.config.staff_group_id),
    }
    env.update(extra)
    return env


def settings_for(sandbox: Sandbox, db_path: Path, **extra: str) -> Settings:
    env = bot_env(sandbox, db_path, **extra)
    return load_settings(
        env_file=None,
        **{k.removeprefix("MINSHENG_").lower(): v for k, v in env.items()},
    )


@contextlib.asynccontextmanager
async def running_bot(settings: Settings) -> AsyncIterator[Runtime]:
    """The real runtime in this process, polling the sandbox, stopped cleanly at the end."""
    runtime = await Runtime.start(settings)
    task = asyncio.create_task(runtime.run_polling(handle_signals=False))
    try:
        yield runtime
    finally:
        runtime.stop.set()
        await asyncio.wait_for(task, timeout=30)


class BotProcess:
    """`python -m bot run` as a child process, for kill -9 and signal tests."""

    def __init__(self, env: dict[str, str], log_path: Path, command: str = "run") -> None:
        self.env = {**os.environ, **env}
        self.log_path = log_path
        self.command = command
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(  # noqa: ASYNC220 - a child that must outlive awaits
            [sys.executable, "-m", "bot", self.command],
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

    async def wait(self, timeout: float) -> int:
        deadline = asyncio.get_running_loop().time() + timeout
        while self.process and self.process.poll() is None:
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError("bot process did not exit")
            await asyncio.sleep(0.05)
        return self.process.returncode if self.process else -1

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def query(db_path: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Read the bot's database directly, as an operator would."""
    with contextlib.closing(sqlite3.connect(db_path, timeout=10)) as conn:
        return conn.execute(sql, params).fetchall()


def texts(messages: list[dict[str, Any]]) -> list[str]:
    return [m.get("text") or m.get("caption") or "" for m in messages]
