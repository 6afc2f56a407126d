"""/start: the welcome, in the citizen's language, with the main menu."""

from __future__ import annotations

from telegram import Update

from bot.context import MinshengContext
from bot.i18n import Translator
from handlers.common import send, who
from handlers.menu import main_menu
from handlers.tracking import track

TRACK_PAYLOAD = "track-"


def welcome(t: Translator) -> str:
    return t.gettext(
        "Welcome to the city's public-service request desk (12345).\n\n"
        "Here you can tell the city about a problem with public services: a complaint, "
        "a report, an inquiry or a suggestion. Each request gets a tracking number, and you "
        "hear from us every time it moves.\n\n"
        "This desk is not for emergencies: call 110 (police), 119 (fire) or 120 (ambulance).\n\n"
        "Please use the menu below."
    )


async def on_start(update: Update, context: MinshengContext) -> None:
    """Welcome the citizen and show the main menu."""
    # A payload (t.me/<bot>?start=<payload>): "track-<number>" shows that request after the
    # welcome; any other payload is a plain welcome.
    _, t = await who(update, context)
    await send(update, context, welcome(t), markup=main_menu(t))
    payload = context.args[0] if context.args else ""
    if payload.startswith(TRACK_PAYLOAD):
        await track(update, context, payload.removeprefix(TRACK_PAYLOAD))
