"""A case's handler (承办人) in words: who it is, as the staff card and the dashboard show them.

Why /take or /give changed nobody is in bot.texts.handler_refusals.
"""

from __future__ import annotations

from bot.i18n import Translator
from storage.case_handler import HandlerView


def handler_label(t: Translator, handler: HandlerView) -> str:
    """ "Wang (72003)", or "staff member 72003" when the bot never learnt their name."""
    if handler.name:
        return f"{handler.name} ({handler.user_id})"
    return t.gettext("staff member {user}", user=handler.user_id)


def handler_line(t: Translator, handler: HandlerView) -> str:
    """The staff card's line naming the handler."""
    return t.gettext("Handler: {handler}", handler=handler_label(t, handler))
