"""What /healthz and /metrics report: the database, the backlogs, and the workers' pulse.

The probe must answer even when what it probes does not: the database query runs at most once
at a time, shielded, and is waited for only `health_db_timeout` seconds (cancelling a query on
the bot's one SQLite connection could leave its lock behind). A SQLite file that was removed
or replaced under the running bot is caught by the file's identity, since the open connection
would go on writing to the unlinked file and lose it all at the next start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import AsyncIterator, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from aiohttp import web
from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4, generate_latest

from bot.backup import sqlite_file
from bot.metrics import Gauges, Labels
from bot.serving import serving
from storage.vitals import Backlog, cases_by_status, inbox_backlog, outbox_backlog
from storage.workers import cluster

if TYPE_CHECKING:
    from bot.runtime import Runtime

WORKERS = ("dispatcher", "sender", "sweeper")
LEADER_ONLY = ("sender", "sweeper")  # a standby process leaves these to the leader
CASES_CACHE_SECONDS = 5.0
T = TypeVar("T")

log = logging.getLogger(__name__)


def operations_routes(runtime: Runtime) -> list[web.RouteDef]:
    """GET /healthz and GET /metrics, for the operations server (serve_operations)."""

    async def healthz(request: web.Request) -> web.Response:
        """200 while the bot can work (database, workers, polling); 503 otherwise."""
        report = await runtime.health()
        return web.json_response(report, status=200 if report["ok"] else 503)

    async def metrics(request: web.Request) -> web.Response:
        """The counters and gauges in Prometheus' text format (bot/metrics.py)."""
        counted = runtime.services.metrics
        counted.readings.show(await runtime.probe.gauges(runtime))
        # Text format 0.0.4, as the README documents: the library's CONTENT_TYPE_LATEST names
        # 1.0.0 (UTF-8 metric names), which older scrapers do not know and our names never need.
        body = generate_latest(counted.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_PLAIN_0_0_4})

    return [web.get("/healthz", healthz), web.get("/metrics", metrics)]


@contextlib.asynccontextmanager
async def serve_operations(runtime: Runtime) -> AsyncIterator[None]:
    """Serve /healthz and /metrics on MINSHENG_HEALTH_LISTEN while the block runs (if set), in
    both modes: never on the webhook's listener, which faces the Internet."""
    listen = runtime.services.settings.health_listen
    if listen is None:
        yield
        return
    app = web.Application(client_max_size=1024)
    app.add_routes(operations_routes(runtime))
    async with serving(app, listen):
        log.info("health and metrics on http://%s/healthz and /metrics", listen)
        yield


@dataclass
class Backlogs:
    inbox: Backlog
    outbox: Backlog
    processes: list[dict[str, Any]]  # the desk's processes (storage.workers.cluster)


@dataclass
class HealthProbe:
    """One per runtime: remembers the database file it found and the query under way."""

    _identity: tuple[int, int] | None = None
    _query: asyncio.Future[Backlogs] | None = None
    _cases: tuple[float, dict[str, int]] | None = None

    async def report(self, runtime: Runtime) -> dict[str, Any]:
        """The health document; `ok` is False when the bot cannot do its work."""
        settings = runtime.services.settings
        database: dict[str, Any] = {"ok": True}
        problem = self._file_problem(settings.database_url)
        backlogs: Backlogs | None = None
        if problem is None:
            started = time.monotonic()
            try:
                backlogs = await self._backlogs(runtime, settings.health_db_timeout)
                database["latency_ms"] = round((time.monotonic() - started) * 1000, 1)
            except TimeoutError:
                problem = f"busy: no answer within {settings.health_db_timeout:g} s"
            except Exception as exc:  # the probe must answer, whatever broke
                problem = f"unreachable: {type(exc).__name__}"
        if problem is not None:
            database = {"ok": False, "problem": problem}
        workers = self._workers(runtime)
        age = runtime.poll_age()
        polling = age is None or age <= settings.poll_alert_after
        ok = database["ok"] and all(w["ok"] for w in workers.values()) and polling
        return {
            "ok": ok,
            "database": database,
            "inbox": None if backlogs is None else backlogs.inbox.as_json(),
            "outbox": None if backlogs is None else backlogs.outbox.as_json(),
            "workers": workers,
            "polling": polling,
            "last_poll_age": None if age is None else round(age, 1),
            "process": {"name": runtime.name, "leader": _leads(runtime)},
            "cluster": None if backlogs is None else _cluster(backlogs.processes),
        }

    async def gauges(self, runtime: Runtime) -> Gauges:
        """The gauges of /metrics: read from this probe and (cached) from the database."""
        report = await self.report(runtime)
        gauges: dict[str, tuple[str, dict[Labels, float]]] = {
            "minsheng_healthy": ("1 when /healthz answers 200.", {(): int(report["ok"])}),
            "minsheng_database_up": (
                "1 when the database answered the probe in time.",
                {(): int(report["database"]["ok"])},
            ),
        }
        for box, what in (
            ("outbox", "Outbox rows not yet sent nor given up"),
            ("inbox", "Updates stored but not yet handled"),
        ):
            if report[box] is not None:
                gauges[f"minsheng_{box}_backlog"] = (what + ".", {(): report[box]["waiting"]})
                oldest = report[box]["oldest_age_seconds"]
                gauges[f"minsheng_{box}_oldest_age_seconds"] = (
                    f"Age of the oldest of those ({box}); 0 when none waits.",
                    {(): oldest or 0},
                )
        ages: dict[Labels, float] = {
            (("worker", name),): w["last_loop_age"]
            for name, w in report["workers"].items()
            if w.get("last_loop_age") is not None
        }
        gauges["minsheng_worker_last_loop_age_seconds"] = (
            "Seconds since each worker last went round its loop.",
            ages,
        )
        if report["database"]["ok"]:
            cases = await self._cases_by_status(runtime.services.settings.health_db_timeout)
            if cases is not None:
                gauges["minsheng_cases"] = (
                    "Cases by status.",
                    {(("status", s),): n for s, n in cases.items()},
                )
        return gauges

    def _file_problem(self, url: str) -> str | None:
        path = sqlite_file(url)
        if path is None:
            return None
        try:
            stat = os.stat(path)
        except FileNotFoundError:
            return f"file missing: {path}"
        except OSError as exc:
            return f"file unreadable: {exc.strerror}"
        if not os.access(path, os.R_OK | os.W_OK):
            return f"file not readable and writable: {path}"
        identity = (stat.st_dev, stat.st_ino)
        if self._identity is None:
            self._identity = identity
        elif identity != self._identity:
            return f"file replaced under the running bot: {path}"
        return None

    def remember_file(self, url: str) -> None:
        """Note which file the bot opened (called at start, before anyone can move it)."""
        path = sqlite_file(url)
        if path is not None and Path(path).exists():
            stat = os.stat(path)
            self._identity = (stat.st_dev, stat.st_ino)

    async def _backlogs(self, runtime: Runtime, timeout: float) -> Backlogs:  # noqa: ASYNC109
        if self._query is None or self._query.done():
            self._query = _detached(_read_backlogs(runtime))
        return await asyncio.wait_for(asyncio.shield(self._query), timeout)

    async def _cases_by_status(self, timeout: float) -> dict[str, int] | None:  # noqa: ASYNC109
        if self._cases is not None and time.monotonic() - self._cases[0] < CASES_CACHE_SECONDS:
            return self._cases[1]
        try:
            cases = await asyncio.wait_for(asyncio.shield(_detached(cases_by_status())), timeout)
        except Exception:  # no gauge this time rather than no metrics
            return None
        self._cases = (time.monotonic(), cases)
        return cases

    def _workers(self, runtime: Runtime) -> dict[str, dict[str, Any]]:
        settings = runtime.services.settings
        tasks = {task.get_name(): task for task in runtime.tasks}
        workers: dict[str, dict[str, Any]] = {}
        for name in WORKERS:
            age = runtime.services.metrics.beat_age(name)
            bound = settings.health_stale_after
            if name == "sweeper":
                bound += settings.sweep_interval  # it sleeps that long between runs
            task = tasks.get(name)
            running = task is not None and not task.done()
            if name in LEADER_ONLY and not _leads(runtime):
                workers[name] = {"ok": True, "running": running, "standby": True}
                continue
            workers[name] = {
                "ok": running and age is not None and age <= bound,
                "running": running,
                "last_loop_age": None if age is None else round(age, 3),
                "bound": bound,
            }
        return workers


def _detached(work: Coroutine[Any, Any, T]) -> asyncio.Future[T]:
    """A query left to finish after its caller stopped waiting; its error, if any, was already
    reported as a timeout, so it is read here rather than logged as never retrieved."""
    future = asyncio.ensure_future(work)
    future.add_done_callback(lambda f: None if f.cancelled() else f.exception())
    return future


async def _read_backlogs(runtime: Runtime) -> Backlogs:
    now = runtime.services.clock.now()
    return Backlogs(
        inbox=await inbox_backlog(now),
        outbox=await outbox_backlog(now),
        processes=await cluster(now),
    )


def _leads(runtime: Runtime) -> bool:
    return runtime.cluster is None or runtime.cluster.leader


def _cluster(processes: list[dict[str, Any]]) -> dict[str, Any]:
    """Who leads, and every process that beat lately with its loops' ages."""
    leaders = [p["name"] for p in processes if p["leader"]]
    return {
        "leader": leaders[0] if leaders else None,
        "alive": sum(1 for p in processes if p["alive"]),
        "processes": processes,
    }
