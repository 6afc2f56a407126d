"""Small pieces every handler uses: who is talking, in which language, and how to answer.

Handlers never call the Bot API themselves: an answer is an outbox row written in the same
transaction as the update's other effects, and the sender delivers it.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from telegram import (
    Chat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ReplyKeyboardMarkup,
    Update,
    User,
)
from telegram import ReplyKeyboardRemove as KeyboardRemove

from bot.context import MinshengContext
from bot.i18n import Translator, guess_language
from storage.citizens import CitizenView, touch_citizen
from storage.outbox import enqueue

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | KeyboardRemove
# Every update asks which of our languages its user's Telegram language is; the answer depends
# on the two strings alone, and parsing the tag costs more than the rest of `who`.
_guess_language = lru_cache(maxsize=1024)(guess_language)
# A button with text and callback data alone: every other field of it unset.
_UNSET = tuple(n for n in InlineKeyboardButton.__slots__ if n not in ("text", "callback_data"))


class UpdateShapeError(Exception):
    """The update lacks a part this handler needs; its filters should have kept it away."""


def user_of(update: Update) -> User:
    if update.effective_user is None:
        raise UpdateShapeError("update has no user")
    return update.effective_user


def chat_of(update: Update) -> Chat:
    if update.effective_chat is None:
        raise UpdateShapeError("update has no chat")
    return update.effective_chat


async def who(update: Update, context: MinshengContext) -> tuple[CitizenView, Translator]:
    """The citizen behind the update (created on first contact) and their translator."""
    user = user_of(update)
    default = context.services.settings.default_language
    citizen = await touch_citizen(
        user.id,
        first_name=user.first_name or "",
        guessed_language=_guess_language(user.language_code, default),
    )
    return citizen, context.services.catalogs.get(citizen.language)


async def send(
    update: Update,
    context: MinshengContext,
    text: str,
    *,
    chat_id: int | None = None,
    markup: Markup | None = None,
    about: str | None = None,
    **params: Any,
) -> None:
    """Queue a plain-text message (no parse_mode unless given: user text stays data)."""
    payload: dict[str, Any] = {"text": text, **params}
    if markup is not None:
        payload["reply_markup"] = markup_json(markup)
    here = update.effective_chat.id if update.effective_chat is not None else None
    target = chat_id if chat_id is not None else chat_of(update).id
    topic = topic_of(update) if target == here else None
    if topic is not None:  # an answer into the chat asked from stays in its forum topic
        payload["message_thread_id"] = topic
    await call(update, context, "sendMessage", {"chat_id": target, **payload}, about=about)


def markup_json(markup: Markup) -> dict[str, Any]:
    """`markup.to_dict()`, with the buttons of text and callback data (nearly all we send)
    written directly: PTB's general serializer costs about 35 µs a button."""
    if type(markup) is not InlineKeyboardMarkup or markup.api_kwargs or not markup.inline_keyboard:
        return markup.to_dict()  # (an empty keyboard is written as no keyboard: {})
    return {"inline_keyboard": [[_button_json(b) for b in row] for row in markup.inline_keyboard]}


def _button_json(button: InlineKeyboardButton) -> dict[str, Any]:
    plain = (
        type(button) is InlineKeyboardButton
        and isinstance(button.callback_data, str)
        and not button.api_kwargs
        and all(getattr(button, name) is None for name in _UNSET)
    )
    if not plain:
        return button.to_dict()
    return {"callback_data": button.callback_data, "text": button.text}


def topic_of(update: Update) -> int | None:
    """The forum topic the update's message (or the pressed card) is in; None outside one."""
    message = update.effective_message
    if message is None or not getattr(message, "is_topic_message", False):
        return None
    return message.message_thread_id


async def call(
    update: Update,
    context: MinshengContext,
    method: str,
    params: dict[str, Any],
    *,
    about: str | None = None,
) -> None:
    """Queue any Bot API call caused by this update (`about`: storage.outbox.enqueue)."""
    chat_id = params.get("chat_id")
    await enqueue(
        chat_id if isinstance(chat_id, int) else None,
        method,
        {k: v for k, v in params.items() if k != "chat_id"},
        now=context.services.clock.now(),
        update_id=update.update_id,
        about=about,
    )


async def answer_button(update: Update, context: MinshengContext, text: str = "") -> None:
    """Stop the spinner on a pressed inline button, optionally with a short notice."""
    query = update.callback_query
    if query is None:
        raise UpdateShapeError("update has no callback query")
    params: dict[str, Any] = {"callback_query_id": query.id}
    if text:
        params["text"] = text
    await call(update, context, "answerCallbackQuery", params)
