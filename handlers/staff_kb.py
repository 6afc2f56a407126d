"""/kb <words>: staff search the knowledge base (知识库) and open an article in full.

The answer lists the best matching articles (code and title, up to five) in the staff member's
language, with a button per article; the button sends the article: title, body, owning
department, review-by date and the citizens' helpful / not helpful votes. Anyone who is not
staff gets the one not-allowed line (audited), as for every staff command.
"""

from __future__ import annotations

import re
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CommandHandler

from bot.context import MinshengApp, MinshengContext
from bot.i18n import Translator
from bot.texts.cases import department_name
from bot.texts.kb_staff import article_text
from handlers.buttons import ButtonHandler
from handlers.common import answer_button, send, user_of, who
from handlers.staff_kit import not_allowed, pressed, staff_filter
from storage.knowledge import KbArticleNotFound, article, search
from storage.staff import StaffAction, StaffNotAuthorized, check_is_staff, record_denial

COMMANDS = ("kb",)
SHOWN = 5
WORDS_MAX = 200
LABEL_MAX = 60  # a button's label: the title, shortened
# Article codes are lowercase letters, digits, "-" and "."; callback data holds 64 bytes.
OPEN_PATTERN = re.compile(r"^skb:([a-z0-9][a-z0-9.-]{0,59})$")


async def _is_staff(update: Update, context: MinshengContext, t: Translator) -> bool:
    """Whether the sender is staff; anyone else is told no (and the denial audited)."""
    try:
        await check_is_staff(user_of(update).id, StaffAction.VIEW, None)
    except StaffNotAuthorized as denied:
        await record_denial(denied, now=context.services.clock.now())
        await send(update, context, not_allowed(t))
        return False
    return True


async def on_kb(update: Update, context: MinshengContext) -> None:
    """/kb <words>: the best matching articles, each with a button that opens it."""
    _, t = await who(update, context)
    if not await _is_staff(update, context, t):
        return
    words = " ".join(context.args or [])[:WORDS_MAX]
    if not words:
        await send(update, context, t.gettext("Usage: /kb <words>"))
        return
    default = context.services.settings.default_language
    found = await search(words, t.language, default, limit=SHOWN)
    if not found:
        await send(update, context, t.gettext("No article matches “{words}”.", words=words))
        return
    lines = [t.gettext("Articles for “{words}”:", words=words)]
    lines += [f"• {view.code} — {view.title}" for view in found]
    rows = [
        [InlineKeyboardButton(_label(view.title), callback_data=f"skb:{view.code}")]
        for view in found
    ]
    await send(update, context, "\n".join(lines), markup=InlineKeyboardMarkup(rows))


def _label(title: str) -> str:
    return title if len(title) <= LABEL_MAX else title[: LABEL_MAX - 1] + "…"


async def on_open(update: Update, context: MinshengContext) -> None:
    """An article's button: the article in full, as a new message."""
    if (got := await pressed(update, context, OPEN_PATTERN)) is None:
        return
    found, t = got
    try:
        await check_is_staff(user_of(update).id, StaffAction.VIEW, None)
    except StaffNotAuthorized:
        await answer_button(update, context, not_allowed(t))
        return
    default = context.services.settings.default_language
    try:
        view = await article(found.group(1), t.language, default)
    except KbArticleNotFound:
        await answer_button(update, context, t.gettext("This button has expired."))
        return
    await answer_button(update, context)
    department = await department_name(view.department_code, t)
    await send(update, context, article_text(view, t, department))


def handlers(app: MinshengApp) -> list[Any]:
    """/kb and its article buttons, for register()."""
    return [
        CommandHandler("kb", on_kb, filters=staff_filter(app)),
        ButtonHandler(on_open, pattern=OPEN_PATTERN),
    ]
