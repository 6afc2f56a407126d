"""The aiohttp application served by `minsheng webhook`: the webhook and the health probe."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from bot.ingress import webhook_handler
from bot.open311 import add_open311_routes

if TYPE_CHECKING:
    from bot.runtime import Runtime

RUNTIME: web.AppKey[Runtime] = web.AppKey("runtime")


def make_web_app(runtime: Runtime, secret: str) -> web.Application:
    """Every route in one place."""
    app = web.Application(client_max_size=1024 * 1024)
    app[RUNTIME] = runtime
    receive = webhook_handler(secret, runtime.services.clock, runtime.dispatcher.wake)
    app.router.add_post(runtime.services.settings.webhook_path, receive)
    app.router.add_get("/healthz", healthz)
    add_open311_routes(app, runtime)
    return app


async def healthz(request: web.Request) -> web.Response:
    """200 while the database answers and the workers run; 503 otherwise."""
    runtime = request.app[RUNTIME]
    report = await runtime.health()
    return web.json_response(report, status=200 if report["ok"] else 503)
