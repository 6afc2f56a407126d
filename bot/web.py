"""The aiohttp applications that face the public: the webhook with everything people use in
webhook mode, the public side alone in polling mode.

`minsheng webhook` serves the webhook, Open311 (bot/open311.py) and the staff dashboard
(bot/dashboard) on MINSHENG_WEBHOOK_LISTEN. `minsheng run` has no webhook; it serves Open311
and the dashboard on MINSHENG_WEB_LISTEN when that is set. In both modes /healthz and /metrics
(bot/health.py) are served on MINSHENG_HEALTH_LISTEN alone, kept off the public network: they
ask for no credentials.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from aiohttp import web

from bot.board.routes import add_board_routes
from bot.dashboard.app import add_dashboard_routes
from bot.ingress import webhook_handler
from bot.open311 import add_open311_routes
from bot.serving import serving

if TYPE_CHECKING:
    from bot.runtime import Runtime

RUNTIME: web.AppKey[Runtime] = web.AppKey("runtime")

log = logging.getLogger(__name__)


def make_web_app(runtime: Runtime, secret: str) -> web.Application:
    """Every route in one place."""
    app = web.Application(client_max_size=1024 * 1024)
    app[RUNTIME] = runtime
    receive = webhook_handler(secret, runtime.services.clock, runtime.inbox_written)
    app.router.add_post(runtime.services.settings.webhook_path, receive)
    add_public_routes(app, runtime)
    return app


def add_public_routes(app: web.Application, runtime: Runtime) -> None:
    """What people and other systems use: Open311, the public board and the staff dashboard."""
    add_open311_routes(app, runtime)
    add_board_routes(app, runtime)
    add_dashboard_routes(app, runtime)


@contextlib.asynccontextmanager
async def serve_public_side(runtime: Runtime) -> AsyncIterator[None]:
    """Serve Open311 and the dashboard on MINSHENG_WEB_LISTEN while the block runs (if set)."""
    listen = runtime.services.settings.web_listen
    if listen is None:
        yield
        return
    app = web.Application(client_max_size=1024 * 1024)
    app[RUNTIME] = runtime
    add_public_routes(app, runtime)
    async with serving(app, listen):
        log.info(
            "the staff dashboard on http://%s/web/ and Open311 on http://%s/open311/v2/",
            listen,
            listen,
        )
        yield
