"""The summary's "Publish without my name" toggle: the citizen's consent, kept in the draft.

No by default; each press flips it and relabels the toggle in place (the summary's other
buttons stay as they are). At Submit the draft's choice becomes the case's publish_consent
(handlers.intake.new_case).
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update

from bot.context import MinshengContext
from bot.i18n import Translator
from handlers.buttons import edit_markup, query_of
from handlers.intake_data import data, save
from storage.drafts import DraftView, Step


def publish_label(t: Translator, consent: bool) -> str:
    if consent:
        return t.gettext("Publish without my name: Yes")
    return t.gettext("Publish without my name: No")


def publish_explained(t: Translator) -> str:
    return t.gettext(
        "Publish without my name: if you choose Yes, staff may publish your request, its answer "
        "and how satisfied you were with it on the public board, in a text they check for "
        "names, phone numbers and addresses. You can change this later under My requests."
    )


async def toggle_publish(
    update: Update, context: MinshengContext, t: Translator, draft: DraftView, arg: str
) -> str:
    """in:pub at the summary: flip the consent, relabel the toggle, say what it now is."""
    consent = not draft.data.get("publish")
    await save(context, draft, Step.SUMMARY, publish=consent)
    message = query_of(update).message
    if isinstance(message, Message) and message.reply_markup is not None:
        await edit_markup(update, context, relabelled(message.reply_markup, t, consent))
    if consent:
        return t.gettext("Staff may publish this request without your name once it is answered.")
    return t.gettext("This request will not be published.")


def relabelled(markup: InlineKeyboardMarkup, t: Translator, consent: bool) -> InlineKeyboardMarkup:
    """The summary's keyboard with the toggle saying what the consent now is."""
    toggle = data("pub")
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(publish_label(t, consent), callback_data=toggle)
                if button.callback_data == toggle
                else button
                for button in row
            ]
            for row in markup.inline_keyboard
        ]
    )
