"""Inline buttons: data is checked before any feature sees it; anything else has 'expired'.

Callback data comes from the client and can be forged, or stale (a button from an old version
of a message), so each feature's handler accepts only data matching its own pattern, and the
catch-all registered after all of them answers everything else with the same polite notice.
"""

from __future__ import annotations

import re

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler

from bot.context import MinshengContext
from bot.i18n import Translator
from handlers.common import UpdateShapeError, answer_button, call, user_of, who
from storage.inbox import handling
from storage.tracking import ALPHABET, LENGTH

# A tracking number inside callback data, as one regex group (every case button uses it).
NUMBER_GROUP = f"([{ALPHABET}]{{{LENGTH}}})"


def reasons_keyboard(
    reasons: dict[str, str], t: Translator, *, reason_data: str, back_data: str
) -> InlineKeyboardMarkup:
    """Standard reasons one per row (data `reason_data` + code), "Other reason…" (code
    "other"), and « Back: the keyboard of every refusal that needs a reason."""
    choices = [*reasons.items(), ("other", t.gettext("Other reason…"))]
    rows = [
        [InlineKeyboardButton(label, callback_data=f"{reason_data}{code}")]
        for code, label in choices
    ]
    back = InlineKeyboardButton(t.gettext("« Back"), callback_data=back_data)
    return InlineKeyboardMarkup([*rows, [back]])


class ButtonHandler(CallbackQueryHandler[MinshengContext, None]):
    """A CallbackQueryHandler that never accepts a query without data.

    python-telegram-bot's own lets a query with no (or empty) data through any pattern.
    """

    def check_update(self, update: object) -> bool | object | None:
        if not (isinstance(update, Update) and update.callback_query):
            return None
        if not update.callback_query.data:
            return False
        return super().check_update(update)


def query_of(update: Update) -> CallbackQuery:
    if update.callback_query is None:
        raise UpdateShapeError("update has no callback query")
    return update.callback_query


def pressed_keyboard() -> InlineKeyboardMarkup | None:
    """The keyboard under the pressed message, as Telegram sent it (None if it had none).

    Handlers get the update without it (bot/dispatcher.py); the inbox row of the update being
    handled keeps it, for the one handler that edits a message and leaves its buttons as they
    were (Take, under a routing notice)."""
    item = handling.get()
    query = item.payload.get("callback_query") if item is not None else None
    message = query.get("message") if isinstance(query, dict) else None
    markup = message.get("reply_markup") if isinstance(message, dict) else None
    return InlineKeyboardMarkup.de_json(markup, None) if isinstance(markup, dict) else None


async def on_expired_button(update: Update, context: MinshengContext) -> None:
    """Answer a button no feature recognises: it has expired, and nothing changes."""
    _, t = await who(update, context)
    await answer_button(update, context, t.gettext("This button has expired."))


async def button_match(
    update: Update, context: MinshengContext, pattern: re.Pattern[str]
) -> re.Match[str] | None:
    """The pressed button's data matched by `pattern`; data that does not fit is answered
    "This button has expired." and gives None."""
    data = query_of(update).data
    found = pattern.match(data) if isinstance(data, str) else None
    if found is None:
        await on_expired_button(update, context)
    return found


async def pressed_case(
    update: Update, context: MinshengContext, pattern: re.Pattern[str]
) -> tuple[str, Translator, int] | None:
    """A pressed case button: its tracking number, the presser's translator and user id, with
    the spinner stopped. Data that does not fit `pattern` gets "expired" and None."""
    if (found := await button_match(update, context, pattern)) is None:
        return None
    _, t = await who(update, context)
    await answer_button(update, context)
    return found.group(1), t, user_of(update).id


async def edit_markup(
    update: Update, context: MinshengContext, markup: InlineKeyboardMarkup
) -> None:
    """Replace the buttons of the message whose button was pressed (none: an empty keyboard)."""
    message = query_of(update).message
    if message is not None:
        await call(
            update,
            context,
            "editMessageReplyMarkup",
            {
                "chat_id": message.chat.id,
                "message_id": message.message_id,
                "reply_markup": {"inline_keyboard": [], **markup.to_dict()},
            },
        )
