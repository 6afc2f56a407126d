"""The error handler: log the failure, let the dispatcher roll back and apologize."""

from __future__ import annotations

import logging
from contextvars import ContextVar

from telegram import Update
from telegram.ext import ApplicationHandlerStop

from bot.context import MinshengContext
from bot.i18n import Translator

logger = logging.getLogger(__name__)

# The failures of the update being handled: the dispatcher opens a box around each update and
# rolls the update back when the error handler has put something in it.
HANDLER_ERRORS: ContextVar[list[BaseException] | None] = ContextVar("handler_errors", default=None)


def apology(t: Translator) -> str:
    return t.gettext(
        "Sorry, something went wrong on our side. Please try again in a minute; "
        "what you sent before is safe."
    )


async def on_error(update: object, context: MinshengContext) -> None:
    """Log the failure (update id only), hand it to the dispatcher, and stop this update."""
    update_id = update.update_id if isinstance(update, Update) else None
    # The update id, never the text: citizens' words stay out of the logs.
    logger.error("handler failed on update %s", update_id, exc_info=context.error)
    box = HANDLER_ERRORS.get()
    if box is not None and context.error is not None:
        box.append(context.error)
    raise ApplicationHandlerStop
