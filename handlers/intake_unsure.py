"""Intake's "Not sure" buttons: Not sure itself, a suggested category, and back to the list.

What each step says is in handlers.intake_suggest (its diagram too).
"""

from __future__ import annotations

from telegram import Update

from bot.context import MinshengContext
from bot.i18n import Translator
from handlers.intake_choose import next_question
from handlers.intake_prompts import go
from storage.category_suggest import fileable_category
from storage.drafts import DraftView, Step


async def not_sure(
    update: Update, context: MinshengContext, t: Translator, draft: DraftView, arg: str
) -> str:
    """Not sure: the suggestions for the description, or the description asked for first."""
    if draft.data.get("description"):  # an edit from the summary: the description is in
        await go(update, context, t, draft, Step.SUGGEST)
    else:
        await go(update, context, t, draft, Step.DESCRIPTION, guess=True)
    return ""


async def pick_suggested(
    update: Update, context: MinshengContext, t: Translator, draft: DraftView, arg: str
) -> str:
    """A suggested category: on exactly as if it had been picked from its domain's list."""
    chosen = await fileable_category(int(arg))
    if chosen is None:  # retired since, or data that was never ours
        return t.gettext("This button has expired.")
    changes = {
        "domain": chosen.domain_code,
        "category": chosen.code,
        "location_required": chosen.location_required,
        "guess": None,
    }
    await next_question(update, context, t, draft, 0, answers={}, **changes)
    return ""


async def show_list(
    update: Update, context: MinshengContext, t: Translator, draft: DraftView, arg: str
) -> str:
    """None of these: the list of areas, as if the citizen had not asked."""
    await go(update, context, t, draft, Step.DOMAIN, guess=None)
    return ""
