"""The summary's "Publish without my name" toggle: the citizen's consent, kept in the draft.

No by default; each press flips it and relabels the toggle in place: the summary's keyboard is
drawn again from the draft (the dispatcher gives handlers a pressed button's message without its
keyboard, bot/dispatcher.py). At Submit the draft's choice becomes the case's publish_consent
(handlers.intake.new_case).
"""

from __future__ import annotations

from telegram import Update

from bot.context import MinshengContext
from bot.i18n import Translator
from handlers.buttons import edit_markup
from handlers.intake_data import save
from handlers.intake_prompts import summary_keyboard
from storage.drafts import DraftView, Step


async def toggle_publish(
    update: Update, context: MinshengContext, t: Translator, draft: DraftView, arg: str
) -> str:
    """in:pub at the summary: flip the consent, relabel the toggle, say what it now is."""
    consent = not draft.data.get("publish")
    saved = await save(context, draft, Step.SUMMARY, publish=consent)
    await edit_markup(update, context, summary_keyboard(t, saved))
    if consent:
        return t.gettext("Staff may publish this request without your name once it is answered.")
    return t.gettext("This request will not be published.")
