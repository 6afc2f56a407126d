"""Intake's "Not sure" (不确定): what it says — the button beside the area and category lists, the
request for a description first, and the categories that description reads as.

    DOMAIN or CATEGORY ──Not sure──▶ description in? ──no──▶ DESCRIPTION ("describe it first")
                                          │ yes                │ (knowledge-base offer, if any)
                                          ▼                    ▼
                                        SUGGEST: the top 3 categories as buttons, and
                                                 "None of these: show the list" (▶ DOMAIN)
    a suggested category ──▶ exactly as picked from the list: its questions, then on (the
                             description is not asked again)

The ranking is storage.category_suggest's; the buttons are handled in handlers.intake_unsure.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.context import MinshengContext
from bot.i18n import Translator
from bot.texts.cases import category_name
from handlers.common import send
from handlers.intake_data import data
from storage.case_views import DESCRIPTION_MAX, DESCRIPTION_MIN
from storage.category_suggest import suggest_categories
from storage.drafts import DraftView

SUGGESTED = 3


def unsure_button(t: Translator) -> tuple[str, str]:
    """ "Not sure": beside Back under the area and category lists."""
    return (t.gettext("🤔 Not sure"), data("guess"))


async def ask_described_first(
    update: Update, context: MinshengContext, t: Translator, d: DraftView
) -> None:
    """The description prompt when the citizen is not sure of the category yet."""
    text = t.gettext(
        "Describe the matter in your own words and I will suggest the categories that fit: "
        "what happened, where and since when ({min} to {max} characters). You may also send a "
        "photo with the description as its caption.",
        min=DESCRIPTION_MIN,
        max=DESCRIPTION_MAX,
    )
    await send(update, context, text)


async def ask_suggest(
    update: Update, context: MinshengContext, t: Translator, d: DraftView
) -> None:
    """The categories the description reads as, best first, and the way back to the list."""
    found = await suggest_categories(str(d.data.get("description", "")), limit=SUGGESTED)
    rows = [
        [
            InlineKeyboardButton(
                await category_name(c.code, t.language), callback_data=data("s", c.id)
            )
        ]
        for c in found
    ]
    if found:
        text = t.gettext(
            "These categories fit your description best. Choose one, or pick from the whole list."
        )
        label = t.gettext("None of these: show the list")
    else:
        text = t.gettext(
            "I could not tell the category from your description. Please choose it from the list."
        )
        label = t.gettext("Show the list")
    rows.append([InlineKeyboardButton(label, callback_data=data("list"))])
    await send(update, context, text, markup=InlineKeyboardMarkup(rows))
