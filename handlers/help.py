"""/help and the Help button: what the desk is for, what it is not for, and the commands."""

from __future__ import annotations

from telegram import Update

from bot.context import MinshengContext
from bot.i18n import Translator
from handlers.common import send, who
from handlers.menu import command_lines


def help_text(t: Translator) -> str:
    return t.gettext(
        "This is the city's public-service request desk (12345). Tell us about problems with "
        "housing, roads, utilities, public order, the environment or any other public service: "
        "a complaint, a report, an inquiry or a suggestion. You get a tracking number at once, "
        "news each time your request moves, and you can rate the answer when it is closed.\n\n"
        "This desk is NOT for emergencies. If life, health or property is in danger right now, "
        "call 110 (police), 119 (fire) or 120 (ambulance).\n\n"
        "Commands:\n{commands}",
        commands=command_lines(t),
    )


async def on_help(update: Update, context: MinshengContext) -> None:
    """Explain the desk and list the commands."""
    _, t = await who(update, context)
    await send(update, context, help_text(t))
