"""`minsheng webhook --workers N`: N webhook processes on one address, kept running.

The processes share the listening port (SO_REUSEPORT: the kernel spreads Telegram's
connections over them) and the PostgreSQL database (bot.cluster: each chat is handled by one
process at a time, one process leads). This parent only starts them, starts again one that
died (after a pause that grows while it keeps dying), and passes SIGTERM on.

What must be the same in every process is set here once: the migrations are applied before
any starts, and the dashboard's cookie key is drawn once (a random key per process would sign
people out whenever their next request reached another process). Each process serves
/healthz on the next port after the one before (MINSHENG_HEALTH_LISTEN, then +1, +2, …), so
each can be asked on its own.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field

from bot.settings import Settings
from storage.config import on_postgres
from storage.db import migrate_database

log = logging.getLogger(__name__)

STOP_GRACE = 30.0  # seconds each process has to finish after SIGTERM before SIGKILL
RESTART_PAUSE = (1.0, 30.0)  # the pause before restarting a process that died, doubling
STEADY = 60.0  # a process that ran this long before dying is restarted after the short pause


class WorkersRefused(Exception):
    """The settings cannot run several processes (the message says why)."""


@dataclass
class Worker:
    index: int
    env: dict[str, str]
    log_level: str
    process: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    pause: float = RESTART_PAUSE[0]
    restarts: int = field(default=0)

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - this program, the level it was given
            [sys.executable, "-m", "bot", "--log-level", self.log_level, "webhook"], env=self.env
        )
        self.started = time.monotonic()
        log.info("worker %d started (pid %d)", self.index, self.process.pid)


def worker_env(settings: Settings, index: int, cookie_key: str) -> dict[str, str]:
    """The environment of worker `index` (0-based): this one's, plus what the workers share."""
    env = {**os.environ, "MINSHENG_REUSE_PORT": "1", "MINSHENG_WORKER_INDEX": str(index)}
    env.setdefault("MINSHENG_WEB_SECRET", cookie_key)
    if settings.health_listen:
        host, _, port = settings.health_listen.rpartition(":")
        env["MINSHENG_HEALTH_LISTEN"] = f"{host}:{int(port) + index}"
    return env


async def run_workers(settings: Settings, count: int, *, log_level: str = "INFO") -> int:
    """Start `count` webhook processes and keep them running until SIGTERM or SIGINT."""
    if count > 1 and not on_postgres(settings.database_url):
        raise WorkersRefused(
            "several workers need PostgreSQL (MINSHENG_DATABASE_URL=postgres://…): a SQLite "
            "file serves one process"
        )
    settings.token()
    settings.secret()
    await migrate_database(settings.database_url)
    cookie_key = (
        settings.web_secret.get_secret_value() if settings.web_secret else secrets.token_hex(32)
    )
    workers = [Worker(i, worker_env(settings, i, cookie_key), log_level) for i in range(count)]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    for worker in workers:
        worker.start()
    try:
        while not stop.is_set():
            for worker in workers:
                _restart_if_dead(worker)
            try:
                await asyncio.wait_for(stop.wait(), timeout=0.5)
            except TimeoutError:
                continue
    finally:
        _stop_all(workers)
    return 0


def _restart_if_dead(worker: Worker) -> None:
    process = worker.process
    if process is None or process.poll() is None:
        return
    ran = time.monotonic() - worker.started
    if ran >= STEADY:
        worker.pause = RESTART_PAUSE[0]
    if ran < worker.pause:
        return  # it died quickly: wait out the pause (counted from its start) first
    log.warning(
        "worker %d (pid %d) exited with %s; starting it again",
        worker.index,
        process.pid,
        process.returncode,
    )
    worker.pause = min(worker.pause * 2, RESTART_PAUSE[1])
    worker.restarts += 1
    worker.start()


def _stop_all(workers: list[Worker]) -> None:
    """SIGTERM to every worker; SIGKILL to any still running after STOP_GRACE."""
    running = [w.process for w in workers if w.process is not None and w.process.poll() is None]
    for process in running:
        process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE
    for process in running:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            log.warning("worker pid %d did not stop in time; killing it", process.pid)
            process.kill()
            process.wait()
