"""/language and the Language button: the citizen picks one of our languages, kept for good."""

from __future__ import annotations

import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update

from bot.context import MinshengContext
from bot.settings import LANGUAGES
from handlers.buttons import on_expired_button, query_of
from handlers.common import answer_button, call, send, user_of, who
from handlers.menu import main_menu
from storage.citizens import choose_language

# Each language is offered under its own name, so a citizen who cannot read the current one
# still finds theirs.
LANGUAGE_NAMES = {"en": "English", "zh_Hans": "简体中文", "zh_Hant": "繁體中文", "ru": "Русский"}

_PREFIX = "lang:"
# \Z, not $: "$" also matches before a trailing newline.
CHOICE_PATTERN = re.compile(rf"^{_PREFIX}({'|'.join(map(re.escape, LANGUAGES))})\Z")


def choice_data(language: str) -> str:
    return f"{_PREFIX}{language}"


def parse_choice(data: object) -> str | None:
    """The language a button's data names, or None if it names none of ours."""
    match = CHOICE_PATTERN.match(data) if isinstance(data, str) else None
    return match.group(1) if match else None


def language_keyboard(current: str) -> InlineKeyboardMarkup:
    """One button per language, under its own name; the current one is ticked."""
    buttons = [
        InlineKeyboardButton(
            f"✓ {LANGUAGE_NAMES[code]}" if code == current else LANGUAGE_NAMES[code],
            callback_data=choice_data(code),
        )
        for code in LANGUAGES
    ]
    return InlineKeyboardMarkup([buttons[:2], buttons[2:]])


async def on_language(update: Update, context: MinshengContext) -> None:
    """Offer the four languages as inline buttons."""
    citizen, t = await who(update, context)
    text = t.gettext("Which language would you like me to use?")
    await send(update, context, text, markup=language_keyboard(citizen.language))


async def on_choice(update: Update, context: MinshengContext) -> None:
    """Keep the chosen language, confirm in it, and relabel the main menu."""
    query = query_of(update)
    language = parse_choice(query.data)
    if language is None:  # the pattern already refused it; never trust one check alone
        await on_expired_button(update, context)
        return
    user = user_of(update)
    await who(update, context)  # a forged button may come from someone we have never met
    citizen = await choose_language(user.id, language)
    t = context.services.catalogs.get(citizen.language)
    await answer_button(update, context)
    if isinstance(query.message, Message):
        edit = {"chat_id": query.message.chat.id, "message_id": query.message.message_id}
        confirmation = t.gettext("From now on I will write to you in English.")
        await call(update, context, "editMessageText", {**edit, "text": confirmation})
    # A reply keyboard can only come with a new message; this one relabels the menu.
    menu_text = t.gettext("Here is the main menu.")
    await send(update, context, menu_text, chat_id=user.id, markup=main_menu(t))
