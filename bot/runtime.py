"""Assembly: the database, python-telegram-bot's Application, the dispatcher and the sender.

The Application has no Updater: ingress (polling or webhook) stores updates in the inbox and
the dispatcher feeds them to `Application.process_update`.
"""

from __future__ import annotations

import asyncio
import contextlib
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
from bot.i18n import Catalogs
from bot.ingress import Poller
from bot.ratelimit import SendLimiter
from bot.sender import Sender
from bot.settings import Settings
from bot.transport import AiohttpRequest
from storage.db import close_database, open_database
from storage.inbox import count_by_status as inbox_counts
from storage.outbox import count_by_status as outbox_counts
from storage.outbox import enqueue

log = logging.getLogger(__name__)

POLLER_SILENCE_ALERT = 300.0  # seconds without a successful getUpdates before we alert


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

    @property
    def bot(self) -> Bot:
        return self.app.bot

    @classmethod
    async def start(cls, settings: Settings, clock: Clock | None = None) -> Runtime:
        """Open the database, build the bot, queue the command menus. Workers start later."""
        token = settings.token()
        # The outbox replays raw Bot API calls through do_api_request on purpose.
        warnings.filterwarnings("ignore", message="Please use 'Bot.", category=PTBUserWarning)
        await open_database(settings.database_url)
        services = Services(settings, Catalogs(settings.default_language), clock or SystemClock())
        app = build_application(settings, token, services.catalogs)
        app.bot_data[SERVICES_KEY] = services
        await app.initialize()
        sender = Sender(app.bot, services.clock, SendLimiter.from_settings(settings),
                        concurrency=settings.send_concurrency)
        dispatcher = Dispatcher(app, services, lanes=settings.dispatch_lanes,
                                on_commit=sender.wake)
        runtime = cls(services, app, dispatcher, sender)
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
            key = "commands:" + code + ":" + str(abs(hash(str(params))) % 10**12)
            await enqueue(None, "setMyCommands", params, now=now, dedupe_key=key)
        self.sender.wake()

    def spawn_workers(self) -> None:
        self.tasks.append(asyncio.create_task(self.dispatcher.run(self.stop), name="dispatcher"))
        self.tasks.append(asyncio.create_task(self.sender.run(self.stop), name="sender"))

    async def run_polling(self, *, handle_signals: bool = True) -> None:
        """Poll until a signal or a fatal error; then drain, confirm the offset, and close."""
        self.poller = Poller(self.bot, self.services.clock, self.dispatcher.wake,
                             timeout=self.services.settings.poll_timeout)
        await self.bot.do_api_request("deleteWebhook", api_kwargs={})
        self.spawn_workers()
        poll = asyncio.create_task(self.poller.run(self.stop), name="poller")
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
            await self.shutdown()

    async def run_webhook(self, web_app: web.Application) -> None:
        settings = self.services.settings
        self.spawn_workers()
        runner = web.AppRunner(web_app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, settings.listen_host, settings.listen_port)
        await site.start()
        log.info("webhook listening on %s", settings.webhook_listen)
        if settings.webhook_url:
            await self.bot.do_api_request("setWebhook", api_kwargs={
                "url": settings.webhook_url, "secret_token": settings.secret(),
                "max_connections": 40,
            })
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
        await asyncio.gather(*self.tasks, return_exceptions=True)
        deadline = asyncio.get_running_loop().time() + grace
        drain = Sender(self.bot, self.services.clock, self.sender_limiter(),
                       concurrency=self.services.settings.send_concurrency)
        while await self.dispatcher.drain_once():
            pass
        while asyncio.get_running_loop().time() < deadline:
            idle_for = await drain.pump()
            if idle_for > 0.4 and not drain._lanes:
                break
            await asyncio.sleep(0.02)
        await drain.stop_and_flush()
        if self.poller is not None:
            await self.poller.confirm()
        await self.app.shutdown()
        await close_database()

    def sender_limiter(self) -> SendLimiter:
        return SendLimiter.from_settings(self.services.settings)

    async def _watch_poller(self) -> None:
        """Alert when polling has not succeeded for a while: Telegram keeps updates 24 h only."""
        while True:
            await asyncio.sleep(30)
            if self.poller is None or not self.poller.last_success:
                continue
            silent = asyncio.get_running_loop().time() - self.poller.last_success
            if silent > POLLER_SILENCE_ALERT:
                log.error("ALERT: no successful getUpdates for %.0f s", silent)

    async def health(self) -> dict[str, Any]:
        try:
            inbox, outbox = await inbox_counts(), await outbox_counts()
        except Exception as exc:  # the probe must answer, whatever broke
            return {"ok": False, "database": f"unreachable: {type(exc).__name__}"}
        running = all(not t.done() for t in self.tasks) and bool(self.tasks)
        return {"ok": running, "database": "ok", "workers": running,
                "inbox": inbox, "outbox": outbox}


async def run_with(settings: Settings, mode: str) -> None:
    """`minsheng run` (polling) and `minsheng webhook`: check the secrets, then serve."""
    settings.token()
    if mode == "webhook":
        from bot.web import make_web_app

        secret = settings.secret()
        runtime = await Runtime.start(settings)
        await runtime.run_webhook(make_web_app(runtime, secret))
    else:
        runtime = await Runtime.start(settings)
        await runtime.run_polling()
