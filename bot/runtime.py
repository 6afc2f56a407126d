"""Assembly: the database, python-telegram-bot's Application, the dispatcher and the sender.

The Application has no Updater: ingress (polling or webhook) stores updates in the inbox and
the dispatcher feeds them to `Application.process_update`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import signal
import warnings
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from telegram import Bot
from telegram.ext import Application, ContextTypes
from telegram.warnings import PTBUserWarning

import handlers
from bot.clock import Clock, SystemClock
from bot.context import SERVICES_KEY, MinshengApp, MinshengContext, Services
from bot.dispatcher import Dispatcher
from bot.health import HealthProbe, serve_operations
from bot.i18n import Catalogs
from bot.ingress import Poller
from bot.notice_rendering import NoticeRenderer
from bot.ratelimit import SendLimiter
from bot.sender import Sender
from bot.settings import Settings
from bot.sweeps import Sweeper
from bot.transport import AiohttpRequest
from bot.web import make_web_app, serve_public_side
from handlers.staff_menu import queue_staff_menus
from storage.catalog import SAMPLE_CATALOG, catalog_loaded, load_catalog
from storage.db import close_database, open_database
from storage.outbox import enqueue
from storage.staff import ensure_admins

log = logging.getLogger(__name__)

SHUTDOWN_RESERVE = 3.0  # seconds of the grace period kept for recording outcomes and the offset
WATCHDOG_MAX_INTERVAL = 30.0  # the watchdog looks at least this often (threshold / 3 if less)


def build_application(settings: Settings, token: str, catalogs: Catalogs) -> MinshengApp:
    request = AiohttpRequest(
        connection_limit=settings.send_concurrency + 8, read_timeout=settings.request_timeout
    )
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
    sender: Sender
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    poller: Poller | None = None
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    polling_since: float = 0.0  # loop time polling started; the silence counts from here too
    probe: HealthProbe = field(default_factory=HealthProbe)  # /healthz and /metrics
    sweeper: Sweeper | None = None  # once the workers run

    @property
    def bot(self) -> Bot:
        return self.app.bot

    @classmethod
    async def start(cls, settings: Settings, clock: Clock | None = None) -> Runtime:
        """Open the database, build the bot, queue the command menus. Workers start later."""
        token = settings.token()
        calendar = settings.calendar()  # a malformed file stops start-up, before the database
        # The outbox replays raw Bot API calls through do_api_request on purpose.
        warnings.filterwarnings("ignore", message="Please use 'Bot.", category=PTBUserWarning)
        await open_database(settings.database_url)
        if not await catalog_loaded():
            report = await load_catalog(settings.catalog_file or SAMPLE_CATALOG)
            log.info("catalogue loaded at first start: %s", report)
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
        await app.initialize()
        sender = Sender(
            app.bot,
            services.clock,
            SendLimiter.from_settings(settings),
            NoticeRenderer(services),
            concurrency=settings.send_concurrency,
            staff_chat_id=settings.staff_chat_id,
            metrics=services.metrics,
        )
        dispatcher = Dispatcher(
            app, services, lanes=settings.dispatch_lanes, on_commit=sender.wake
        )
        runtime = cls(services, app, dispatcher, sender)
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

    def spawn_workers(self) -> None:
        self.sweeper = Sweeper(
            self.services, self.services.settings.sweep_interval, self.sender.wake
        )
        self.tasks.append(asyncio.create_task(self.sweeper.run(self.stop), name="sweeper"))
        self.tasks.append(asyncio.create_task(self.dispatcher.run(self.stop), name="dispatcher"))
        self.tasks.append(asyncio.create_task(self.sender.run(self.stop), name="sender"))

    async def run_polling(self, *, handle_signals: bool = True) -> None:
        """Poll until a signal or a fatal error; then drain, confirm the offset, and close."""
        poller = _Poller(
            self.bot,
            self.services.clock,
            self.dispatcher.wake,
            timeout=self.services.settings.poll_timeout,
        )
        self.poller = poller
        self.polling_since = asyncio.get_running_loop().time()
        await self.bot.do_api_request("deleteWebhook", api_kwargs={})
        self.spawn_workers()
        poll = asyncio.create_task(poller.run(self.stop), name="poller")
        watchdog = asyncio.create_task(self._watch_poller(), name="watchdog")
        if handle_signals:
            self._on_signals()
        stopper = asyncio.create_task(self.stop.wait())
        try:
            await asyncio.wait([poll, stopper], return_when=asyncio.FIRST_COMPLETED)
            if poll.done():
                poll.result()  # a fatal polling error propagates
        finally:
            self.stop.set()
            poll.cancel()
            watchdog.cancel()
            await asyncio.gather(poll, watchdog, stopper, return_exceptions=True)
            await poller.settled()  # a batch being stored is stored whole, then confirmed
            await self.shutdown()

    async def run_webhook(self, web_app: web.Application, *, handle_signals: bool = True) -> None:
        settings = self.services.settings
        self.spawn_workers()
        runner = web.AppRunner(web_app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, settings.listen_host, settings.listen_port)
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
        if self.tasks:
            _, late = await asyncio.wait(self.tasks, timeout=max(0.1, deadline - loop.time()))
            for task in late:
                task.cancel()
            await asyncio.gather(*self.tasks, return_exceptions=True)
        # Whatever fails here, the database is closed: its worker thread would otherwise keep
        # the process alive after SIGTERM.
        try:
            drain = Sender(
                self.bot,
                self.services.clock,
                self.sender_limiter(),
                NoticeRenderer(self.services),
                concurrency=self.services.settings.send_concurrency,
                staff_chat_id=self.services.settings.staff_chat_id,
                metrics=self.services.metrics,
            )
            while await self.dispatcher.drain_once():
                pass
            while asyncio.get_running_loop().time() < deadline:
                idle_for = await drain.pump()
                await drain.flush()  # lanes pause while too many sends await their record
                if drain.idle:
                    break
                await asyncio.sleep(min(idle_for, 0.05))
            await drain.stop_and_flush(wait=max(0.5, min(5.0, deadline - loop.time())))
            if self.poller is not None:
                try:
                    await asyncio.wait_for(self.poller.confirm(), timeout=SHUTDOWN_RESERVE / 2)
                except TimeoutError:
                    log.warning("could not confirm the offset in time; the updates are stored")
        finally:
            try:
                await self.app.shutdown()
            finally:
                await close_database()

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


async def run_with(settings: Settings, mode: str) -> None:
    """`minsheng run` (polling) and `minsheng webhook`: check the secrets, then serve."""
    settings.token()
    # In both modes /healthz and /metrics are served on MINSHENG_HEALTH_LISTEN only (if set),
    # never beside the webhook: that listener faces the Internet.
    if mode == "webhook":
        secret = settings.secret()
        runtime = await Runtime.start(settings)
        async with serve_operations(runtime):
            await runtime.run_webhook(make_web_app(runtime, secret))
    else:
        runtime = await Runtime.start(settings)
        # Open311 and the dashboard on MINSHENG_WEB_LISTEN (if set).
        async with serve_operations(runtime), serve_public_side(runtime):
            await runtime.run_polling()
