"""Where staff open the dashboard (the base of the sign-in links the bot sends)."""

from __future__ import annotations

from bot.settings import Settings


def dashboard_url(settings: Settings) -> str:
    """MINSHENG_WEB_URL, else the address the dashboard is served on."""
    listen = settings.web_listen or settings.webhook_listen
    return (settings.web_url or f"http://{listen}").rstrip("/")
