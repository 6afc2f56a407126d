"""The dashboard's routes on the web server, and the key that signs its cookies."""

from __future__ import annotations

import hashlib
import secrets
from typing import TYPE_CHECKING

from aiohttp import web

from bot.dashboard import (
    callbacks,
    file_route,
    intake,
    kb_pages,
    publication,
    stats,
    template_pages,
    views,
)
from bot.dashboard.address import dashboard_url
from bot.dashboard.session import KEY, RUNTIME, SECURE

if TYPE_CHECKING:
    from bot.runtime import Runtime


def add_dashboard_routes(app: web.Application, runtime: Runtime) -> None:
    settings = runtime.services.settings
    secret = settings.web_secret.get_secret_value() if settings.web_secret else ""
    # No key configured: a random one for this run (a restart signs everyone out).
    app[KEY] = hashlib.sha256((secret or secrets.token_hex(32)).encode()).digest()
    app[RUNTIME] = runtime
    app[SECURE] = dashboard_url(settings).startswith("https://")
    views.routes(app)
    file_route.routes(app)
    intake.routes(app)
    publication.routes(app)
    stats.routes(app)
    kb_pages.routes(app)
    template_pages.routes(app)
    callbacks.routes(app)
