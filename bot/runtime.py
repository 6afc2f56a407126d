"""Assembly: the database, python-telegram-bot's Application, the dispatcher and the sender.

The Application has no Updater: ingress (polling or webhook) stores updates in the inbox and
the dispatcher feeds them to `Application.process_update`. Every process dispatches; the
leader among the processes sharing a database (bot.cluster) also sends, sweeps and polls.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import signal
import socket
import time
import warnings
from collections.abc import AsyncIterator, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from telegram import Bot
from telegram.ext import Application, ContextTypes
from telegram.warnings import PTBUserWarning

import handlers
from bot.clock import Clock, SystemClock
from bot.cluster import INBOX, OUTBOX, Cluster
from bot.context import SERVICES_KEY, MinshengApp, MinshengContext, Services
from bot.dispatcher import Dispatcher
from bot.health import WORKERS, HealthProbe, serve_operations
from bot.i18n import Catalogs
from bot.ingress import Poller
from bot.ratelimit import SendLimiter
from bot.sender import Sender, desk_sender, remember_recent_sends
from bot.sender_child import SenderEnds
from bot.sender_process import SenderProcess
from bot.settings import Settings
from bot.staff_topics import TopicKeeper, refresh_department_chats
from bot.sweeps import Sweeper
from bot.transport import AiohttpRequest
from bot.waiting import wait_any
from bot.web import make_web_app, serve_public_side
from handlers.staff_menu import queue_staff_menus
from storage.areas import SAMPLE_AREAS, load_areas
from storage.catalog import SAMPLE_CATALOG, catalog_loaded, load_catalog
from storage.db import close_database, open_database
from storage.outbox import enqueue
from storage.sqlite_client import on_loop
from storage.staff import ensure_admins
from storage.workers import BEAT_EVERY, beat, cluster, leave

log = logging.getLogger(__name__)

SHUTDOWN_RESERVE = 3.0  # seconds of the grace period kept for recording outcomes and the offset
WATCHDOG_MAX_INTERVAL = 30.0  # the watchdog looks at least this often (threshold / 3 if less)
HANDOVER_PAUSE = 1.05  # a new leader waits out the per-chat second of the one before


def _process_name() -> str:
    """This process among the desk's: host, pid and start time (a pid is reused)."""
    return f"{socket.gethostname()}:{os.getpid()}:{int(time.time())}"


def _sender(services: Services, bot: Bot, limiter: SendLimiter) -> Sender:
    return desk_sender(
        services, bot, limiter, metrics=services.metrics, topics=TopicKeeper(services, bot)
    )


def build_application(settings: Settings, token: str, catalogs: Catalogs) -> MinshengApp:
    request = AiohttpRequest.for_sending(settings)
    poll_request = AiohttpRequest(connection_limit=4, read_timeout=settings.poll_timeout + 10)
    app: MinshengApp = (
        Application.builder()
        .token(token)
        .base_url(settings.bot_api_url)
        .base_file_url(settings.file_url)
        .request(request)
        .get_updates_request(poll_request)
        .context_types(ContextTypes(context=MinshengContext))
        .updater(None)
        .build()
    )
    handlers.register(app, catalogs)
    return app


@dataclass
class Runtime:
    services: Services
    app: MinshengApp
    dispatcher: Dispatcher
    sender: Sender | SenderProcess  # the latter: the sender runs in a process of its own
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    poller: Poller | None = None
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    polling_since: float = 0.0  # loop time polling started; the silence counts from here too
    probe: HealthProbe = field(default_factory=HealthProbe)  # /healthz and /metrics
    sweeper: Sweeper | None = None  # while this process leads
    cluster: Cluster | None = None  # once the workers run
    name: str = field(default_factory=_process_name)  # in worker_beat and /healthz
    started_at: float = field(default_factory=time.time)
    polls: bool = False  # the desk polls (rather than a webhook): the leader does it
    _term: asyncio.Event | None = None  # set when this process's lead ends
    _fatal: asyncio.Future[None] | None = None  # a polling error that must end the process
    _beat_now: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def bot(self) -> Bot:
        return self.app.bot

    @classmethod
    async def start(
        cls, settings: Settings, clock: Clock | None = None, sender: SenderEnds | None = None
    ) -> Runtime:
        """Open the database, build the bot, queue the command menus. Workers start later.
        With `sender` (a forked sender's process, bot.sender_child) that process sends."""
        token = settings.token()
        calendar = settings.calendar()  # a malformed file stops start-up, before the database
        # The outbox replays raw Bot API calls through do_api_request on purpose.
        warnings.filterwarnings("ignore", message="Please use 'Bot.", category=PTBUserWarning)
        await open_database(settings.database_url)
        if not await catalog_loaded():
            report = await load_catalog(settings.catalog_file or SAMPLE_CATALOG)
            log.info("catalogue loaded at first start: %s", report)
            if settings.catalog_file is None:  # the sample catalogue's own districts
                log.info("areas loaded at first start: %s", await load_areas(SAMPLE_AREAS))
        services = Services(
            settings, Catalogs(settings.default_language), clock or SystemClock(), calendar
        )
        year = services.clock.now().astimezone(settings.zone).year
        if year not in calendar.official_years:
            log.warning(
                "the working calendar has no official schedule for %d: update "
                "MINSHENG_CALENDAR_FILE",
                year,
            )
        await ensure_admins(settings.admin_ids, now=services.clock.now())
        app = build_application(settings, token, services.catalogs)
        app.bot_data[SERVICES_KEY] = services
        await refresh_department_chats(app.bot_data)  # staff commands work there too
        await app.initialize()
        dispatcher = Dispatcher(app, services, lanes=settings.lanes())
        runtime = cls(
            services,
            app,
            dispatcher,
            _sender(services, app.bot, SendLimiter.from_settings(settings))
            if sender is None
            else SenderProcess(services, TopicKeeper(services, app.bot), sender),
        )
        dispatcher.on_commit = runtime.outbox_written
        runtime.probe.remember_file(settings.database_url)
        await runtime.queue_command_menus()
        return runtime

    async def queue_command_menus(self) -> None:
        """The localized command menu, queued once per distinct content."""
        now = self.services.clock.now()
        for code, commands in handlers.command_menus(self.services.catalogs).items():
            params: dict[str, Any] = {
                "commands": [{"command": c, "description": d} for c, d in commands]
            }
            if code:
                params["language_code"] = code
            # A stable digest: hash() of a str changes with every process (PYTHONHASHSEED), so
            # each restart would queue the menus again instead of deduplicating them.
            digest = hashlib.sha256(
                json.dumps(params, sort_keys=True, ensure_ascii=False).encode()
            ).hexdigest()[:16]
            key = "commands:" + code + ":" + digest
            await enqueue(None, "setMyCommands", params, now=now, dedupe_key=key)
        # The staff chat's menu and each staff member's own (handlers.staff_menu).
        await queue_staff_menus(
            self.services.catalogs, self.services.settings.staff_chat_id, now=now
        )
        self.sender.wake()

    def inbox_written(self) -> None:
        """Updates were stored: handle them here, and let the other processes know."""
        self.dispatcher.wake()
        if self.cluster is not None:
            self.cluster.written(INBOX)

    def outbox_written(self) -> None:
        """Messages were queued: wake the sender, here or in the leading process."""
        self.sender.wake()
        if self.cluster is not None and not self.cluster.leader:
            self.cluster.written(OUTBOX)

    def spawn_workers(self) -> None:
        """Dispatch here; lead (send, sweep, poll) when this process is elected."""
        self._fatal = asyncio.get_running_loop().create_future()
        self.cluster = Cluster(
            self.services.settings.database_url,
            on_inbox=self.dispatcher.wake,
            on_outbox=lambda: self.sender.wake(),  # the sender of this term, not the first
            on_leading=self._leading,
            retry=self.services.settings.leader_retry,
        )
        self.tasks.append(_pipeline_task(self.dispatcher.run(self.stop), "dispatcher"))
        self.tasks.append(asyncio.create_task(self.cluster.run(self.stop), name="cluster"))
        self.tasks.append(asyncio.create_task(self._beat(), name="heartbeat"))

    def _leading(self, leading: bool) -> None:
        """Start this process's duties as the leader, or end them when the lead is lost."""
        self._beat_now.set()  # /healthz of any process shows the change at once
        if not leading:
            if self._term is not None:
                self._term.set()
            return
        self._term = term = asyncio.Event()
        if self.cluster is not None and self.cluster.terms > 1:
            # The last term's sender stopped for good: a fresh one, from the database's state.
            self.sender = _sender(self.services, self.bot, self.sender_limiter())
        interval = self.services.settings.sweep_interval
        self.sweeper = Sweeper(self.services, interval, self.sender.wake)
        # The term ends when the lead is lost, or when the process stops (shutdown sets it).
        self.tasks.append(asyncio.create_task(self.sweeper.run(term), name="sweeper"))
        self.tasks.append(_pipeline_task(self._send(self.sender, term), "sender"))
        if self.polls:
            self.tasks.append(_pipeline_task(self._poll(term), "poller"))

    async def _send(self, sender: Sender | SenderProcess, until: asyncio.Event) -> None:
        """The leader's sender. Where several processes share the database, the last leader
        may have sent a moment ago: its sends of the last minute count against the limits,
        and the first send waits out the per-chat second."""
        if isinstance(sender, Sender) and self.cluster is not None and self.cluster.shared:
            now = self.services.clock.now()
            await remember_recent_sends(sender.limiter, now)
            if any(p["leader"] and p["name"] != self.name for p in await cluster(now)):
                await wait_any(until, seconds=HANDOVER_PAUSE)
        await sender.run(until)

    async def _poll(self, until: asyncio.Event) -> None:
        """Poll while this process leads; a fatal polling error ends the process."""
        poller = _Poller(
            self.bot,
            self.services.clock,
            self.inbox_written,
            timeout=self.services.settings.poll_timeout,
        )
        self.poller = poller
        self.polling_since = asyncio.get_running_loop().time()
        try:
            await self.bot.do_api_request("deleteWebhook", api_kwargs={})
            await poller.run(until)
        except Exception as exc:
            if self._fatal is not None and not self._fatal.done():
                self._fatal.set_exception(exc)
            self.stop.set()
        finally:
            await poller.settled()  # a batch being stored is stored whole, then confirmed

    async def _beat(self) -> None:
        """Write this process's row in worker_beat every BEAT_EVERY seconds (/healthz)."""
        started = datetime.fromtimestamp(self.started_at, UTC)
        while not self.stop.is_set():
            metrics = self.services.metrics
            loops = {name: metrics.beat_age(name) for name in WORKERS}
            leading = self.cluster is not None and self.cluster.leader
            try:
                await beat(
                    self.name,
                    started_at=started,
                    leader=leading,
                    loops={k: (None if v is None else round(v, 1)) for k, v in loops.items()},
                    now=self.services.clock.now(),
                )
                await refresh_department_chats(self.app.bot_data)
            except Exception as exc:  # /healthz says the database is down; nothing else to do
                log.info("could not write this process's heartbeat: %r", exc)
            await wait_any(self.stop, self._beat_now, seconds=BEAT_EVERY)
            self._beat_now.clear()

    @contextlib.asynccontextmanager
    async def closed_on_failure(self) -> AsyncIterator[None]:
        """Shut down (and close the database) when what is started around the runtime fails
        before it runs, e.g. a web port in use: the database's thread would keep the process
        alive."""
        try:
            yield
        except BaseException:
            if not self.stop.is_set():  # run_polling and run_webhook shut down themselves
                await self.shutdown()
            raise

    async def run_polling(self, *, handle_signals: bool = True) -> None:
        """Poll (when leading) until a signal or a fatal error; then drain, confirm the offset,
        and close."""
        self.polls = True
        self.spawn_workers()
        fatal = self._fatal or asyncio.get_running_loop().create_future()
        watchdog = asyncio.create_task(self._watch_poller(), name="watchdog")
        if handle_signals:
            self._on_signals()
        stopper = asyncio.create_task(self.stop.wait())
        try:
            await asyncio.wait([fatal, stopper], return_when=asyncio.FIRST_COMPLETED)
            if fatal.done():
                fatal.result()  # a fatal polling error propagates
        finally:
            self.stop.set()
            watchdog.cancel()
            await asyncio.gather(watchdog, stopper, return_exceptions=True)
            await self.shutdown()

    async def run_webhook(self, web_app: web.Application, *, handle_signals: bool = True) -> None:
        settings = self.services.settings
        self.spawn_workers()
        runner = web.AppRunner(web_app, access_log=None)
        await runner.setup()
        site = web.TCPSite(
            runner, settings.listen_host, settings.listen_port, reuse_port=settings.reuse_port
        )
        await site.start()
        log.info("webhook listening on %s", settings.webhook_listen)
        if settings.webhook_url:
            await self.bot.do_api_request(
                "setWebhook",
                api_kwargs={
                    "url": settings.webhook_url,
                    "secret_token": settings.secret(),
                    "max_connections": 40,
                },
            )
        if handle_signals:
            self._on_signals()
        try:
            await self.stop.wait()
        finally:
            await runner.cleanup()
            await self.shutdown()

    def _on_signals(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, self.stop.set)

    async def shutdown(self, grace: float = 20.0) -> None:
        """Handle what is stored, send what is queued (within the grace period), close."""
        self.stop.set()
        loop = asyncio.get_running_loop()
        # The whole shutdown stays within `grace`: the last seconds are kept for recording the
        # outcomes and confirming the offset; whatever is still unsent goes out after restart.
        deadline = loop.time() + grace - SHUTDOWN_RESERVE
        if self._term is not None:
            self._term.set()
        for task in self.tasks:
            if task.get_name() == "poller":
                task.cancel()  # its long poll: a batch already back is stored whole (shielded)
        if self.tasks:
            _, late = await asyncio.wait(self.tasks, timeout=max(0.1, deadline - loop.time()))
            for task in late:
                task.cancel()
            await asyncio.gather(*self.tasks, return_exceptions=True)
        # Whatever fails here, the database is closed: its worker thread would otherwise keep
        # the process alive after SIGTERM.
        leading = self.cluster is None or self.cluster.leader
        try:
            while await self.dispatcher.drain_once():
                pass
            if leading:
                await self._drain_outbox(deadline)
            elif self.cluster is not None:
                self.cluster.written(OUTBOX)  # what the last updates queued: the leader sends
            if self.poller is not None:
                try:
                    await asyncio.wait_for(self.poller.confirm(), timeout=SHUTDOWN_RESERVE / 2)
                except TimeoutError:
                    log.warning("could not confirm the offset in time; the updates are stored")
            with contextlib.suppress(Exception):
                await leave(self.name)
        finally:
            try:
                if self.cluster is not None:
                    await self.cluster.close()
                await self.app.shutdown()
            finally:
                await close_database()

    async def _drain_outbox(self, deadline: float) -> None:
        """Send what is queued until `deadline`, within the running sender's limits."""
        if isinstance(self.sender, SenderProcess):
            await self.sender.drain(deadline)
        else:
            await _sender(self.services, self.bot, self.sender.limiter).drain(deadline)

    def sender_limiter(self) -> SendLimiter:
        return SendLimiter.from_settings(self.services.settings)

    def poll_age(self) -> float | None:
        """Seconds since the last successful getUpdates (or since polling began); None when
        this runtime does not poll."""
        if self.poller is None or not self.polling_since:
            return None
        last = max(self.poller.last_success, self.polling_since)
        return max(0.0, asyncio.get_running_loop().time() - last)

    async def _watch_poller(self) -> None:
        """Alert when polling has not succeeded for a while: Telegram keeps updates 24 h only.

        The alert is logged, and queued once per hour to the staff chat (dedupe key
        `alert:poller:<YYYYmmddHH>`), in the default language.
        """
        threshold = self.services.settings.poll_alert_after
        while True:
            await asyncio.sleep(min(WATCHDOG_MAX_INTERVAL, threshold / 3))
            silent = self.poll_age()
            if silent is None or silent <= threshold:
                continue
            log.error(
                "ALERT: no successful getUpdates for %.0f s (alert after %.0f s); "
                "Telegram keeps updates for 24 h only",
                silent,
                threshold,
            )
            try:
                await self._queue_poller_alert(silent)
            except Exception:
                log.exception("could not queue the poller alert for the staff chat")

    async def _queue_poller_alert(self, silent: float) -> None:
        settings = self.services.settings
        if settings.staff_chat_id is None:
            return
        now = self.services.clock.now()
        t = self.services.catalogs.get(settings.default_language)
        text = t.gettext(
            "Alert: the bot has received nothing from Telegram for {seconds} seconds. Telegram "
            "keeps waiting messages for 24 hours only: please check the bot's server and its "
            "network now.",
            seconds=int(silent),
        )
        await enqueue(
            settings.staff_chat_id,
            "sendMessage",
            {"text": text},
            now=now,
            dedupe_key=f"alert:poller:{now:%Y%m%d%H}",
        )
        self.sender.wake()

    async def health(self) -> dict[str, Any]:
        """The database, the backlogs and the workers' pulse (bot/health.py); `ok` or not."""
        return await self.probe.report(self)


def _pipeline_task(work: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
    """A task of the pipeline (poller, dispatcher, sender): on SQLite, its transactions run on
    the event loop's thread (storage/sqlite_client.py); the web, the sweeps and the CLI keep
    theirs on the database's own thread."""
    with on_loop():
        return asyncio.create_task(work, name=name)


class _Poller(Poller):
    """The poller, with each batch's store shielded from cancellation.

    Stopping cancels the long poll; a batch that had already come back must still be stored
    whole (and then confirmed by the shutdown), not cut off between getUpdates and the inbox.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._storing: asyncio.Future[None] | None = None

    async def store(self, batch: list[dict[str, Any]]) -> None:
        self._storing = asyncio.ensure_future(super().store(batch))
        await asyncio.shield(self._storing)

    async def settled(self) -> None:
        """Wait for a store under way (its errors were the poll task's to report)."""
        if self._storing is not None:
            await asyncio.gather(self._storing, return_exceptions=True)


async def run_with(settings: Settings, mode: str, sender: SenderEnds | None = None) -> None:
    """`minsheng run` (polling) and `minsheng webhook`: check the secrets, then serve (with
    `sender`, a forked sender's process sends)."""
    settings.token()
    # In both modes /healthz and /metrics are served on MINSHENG_HEALTH_LISTEN only (if set),
    # never beside the webhook: that listener faces the Internet.
    if mode == "webhook":
        secret = settings.secret()
        runtime = await Runtime.start(settings, sender=sender)
        async with runtime.closed_on_failure(), serve_operations(runtime):
            await runtime.run_webhook(make_web_app(runtime, secret))
    else:
        runtime = await Runtime.start(settings, sender=sender)
        # Open311 and the dashboard on MINSHENG_WEB_LISTEN (if set).
        async with (
            runtime.closed_on_failure(),
            serve_operations(runtime),
            serve_public_side(runtime),
        ):
            await runtime.run_polling()
