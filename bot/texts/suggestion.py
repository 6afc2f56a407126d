"""The category a case's description reads as, in words, for staff: on the new-case card when it
is not the category the citizen chose (storage.category_suggest decides at filing)."""

from __future__ import annotations

from bot.i18n import Translator
from bot.texts.cases import category_name
from storage.category_suggest import suggested_category_of


async def suggestion_note(tracking: str, t: Translator) -> str:
    """ "Suggested category: X" on a line of its own after the card, or "" when none."""
    code = await suggested_category_of(tracking)
    if code is None:
        return ""
    name = await category_name(code, t.language)
    return "\n\n" + t.gettext("💡 Suggested category: {category}", category=name)
