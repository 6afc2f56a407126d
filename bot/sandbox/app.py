"""The sandbox: one aiohttp app serving the Bot API, files, the control API and the web chat."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web

from bot.sandbox.actors import press_button, user_message
from bot.sandbox.botapi import BotApi
from bot.sandbox.config import FaultConfig, SandboxConfig
from bot.sandbox.control import Control
from bot.sandbox.core import JsonDict
from bot.sandbox.state import World

STATIC_DIR = Path(__file__).with_name("static")


class Sandbox:
    """A local stand-in for the Telegram Bot API, driven through its control API."""

    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        self.world = World(self.config)
        self.api = BotApi(self.world, self.config)
        self.control = Control(self.world, self.api)
        self.base_url = ""
        self._runner: web.AppRunner | None = None

    # -- serving ----------------------------------------------------------------------------

    def make_app(self) -> web.Application:
        """The app with every route: Bot API, file download, control API and the web page."""
        app = web.Application(client_max_size=60 * 1024 * 1024, middlewares=[self.control.guard])
        app.add_routes(
            [
                web.route("*", "/bot{token}/{method}", self.api.handle),
                web.get("/file/bot{token}/{path:.+}", self.api.download),
                *self.control.routes(),
                web.get("/", self._index),
                web.static("/static", STATIC_DIR),
            ]
        )
        app.on_cleanup.append(self._on_cleanup)
        return app

    async def _index(self, request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC_DIR / "index.html")

    async def _on_cleanup(self, app: web.Application) -> None:
        await self.api.close()

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on ``host``:``port`` (0 picks a free port); returns the base URL."""
        self.api.closing = False
        runner = web.AppRunner(self.make_app(), access_log=None, shutdown_timeout=0.5)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._runner = runner
        self.control.hosts.add(host)
        bound = runner.addresses[0][1] if runner.addresses else port
        self.base_url = f"http://{host}:{bound}"
        return self.base_url

    async def stop(self) -> None:
        await self.api.close()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/bot"

    @property
    def file_url(self) -> str:
        return f"{self.base_url}/file/bot"

    # -- direct control, the same semantics as the HTTP control API -------------------------

    def send_text(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        language_code: str | None = None,
        first_name: str = "",
        **extra: Any,
    ) -> JsonDict:
        """Queue a user's message and return its Update; ``chat_id`` None is the private chat.

        ``extra`` takes the other fields of ``POST /control/send`` (photo, location, ...).
        """
        body = {
            **extra,
            "user_id": user_id,
            "text": text,
            "chat_id": chat_id,
            "language_code": language_code,
            "first_name": first_name,
        }
        return user_message(self.world, body)

    def press_button(
        self, user_id: int, chat_id: int, message_id: int, data: str, *, force: bool = False
    ) -> JsonDict:
        """Queue the callback query of pressing an inline button."""
        return press_button(self.world, user_id, chat_id, message_id, data, force=force)

    def inject_update(self, update_fields: JsonDict) -> JsonDict:
        """Queue a raw update body; its update_id is assigned here."""
        return self.world.push_update(update_fields)

    def messages(self, chat_id: int) -> list[JsonDict]:
        """What the bot sent to the chat, in arrival order (edits applied in place)."""
        return self.world.messages(chat_id)

    async def wait_for_messages(
        self,
        chat_id: int,
        count: int,
        timeout: float,  # noqa: ASYNC109 - public signature
    ) -> list[JsonDict]:
        """Return once the chat has at least ``count`` bot messages; TimeoutError otherwise."""
        return await self.world.wait_for_messages(chat_id, count, timeout)

    def reset(self) -> None:
        """Forget messages, violations and stats; keep pending updates and the webhook."""
        self.world.reset()
        self.api.windows.clear()

    @property
    def violations(self) -> list[JsonDict]:
        return self.world.violations

    @property
    def stats(self) -> dict[str, int]:
        return self.world.stats

    @property
    def faults(self) -> FaultConfig:
        return self.api.faults

    @faults.setter
    def faults(self, faults: FaultConfig) -> None:
        self.api.faults = faults

    @property
    def callback_answers(self) -> dict[str, JsonDict]:
        return self.world.callback_answers

    @property
    def commands(self) -> dict[str, list[JsonDict]]:
        return self.world.commands
