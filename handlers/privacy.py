"""Privacy: /privacy says what is kept and why, /mydata sends it all, /forget erases it.

    /forget ──▶ [CONFIRM_FORGET] ──forget:yes:N──▶ open requests withdrawn, personal data erased
                      │          └─forget:no:N───▶ nothing changes
                      └ typed text: "please use the buttons" (consent is never guessed from text)

N is the question's one-time value (Citizen.forget_nonce): a forged, stale or replayed "yes"
has expired and erases nothing. /privacy and the question say whether the desk keeps case texts
by law (MINSHENG_KEEP_CASE_RECORDS) and how long raw messages are kept.

/mydata answers with a summary in the citizen's language (their requests, what is kept and for
how long) and the full export as a JSON document (bot.texts.my_data). The document is made when
the sender sends it, from a "citizen_data_export" notice, like the staff's CSV export: the
outbox holds JSON, so bytes would have to be encoded into it, and the stored row would be one
more copy of everything about the citizen, kept for the retention period. Both go only to the
user who asked, in their private chat (RELIABILITY row 38).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update

from bot.context import MinshengContext
from bot.i18n import Translator
from bot.settings import Settings
from bot.texts.my_data import (
    export_document,
    export_file,
    export_file_name,
    summary_text,
    when_exported,
)
from handlers.buttons import button_match
from handlers.common import answer_button, send, user_of, who
from handlers.rendered import Rendered, notice_zone
from handlers.tracking import FOLLOW_STEPS
from storage.data_export import held_data
from storage.drafts import DraftView, Step, current_draft, discard_draft, set_draft
from storage.notice_queue import notify
from storage.privacy import (
    ForgetNotConfirmed,
    ask_to_forget,
    cancel_forget,
    confirm_forget,
    open_forget_question,
)
from storage.sql import as_datetime

log = logging.getLogger(__name__)

# The question's one-time value rides on both buttons (storage.privacy.ask_to_forget).
FORGET_PATTERN = re.compile(r"^forget:(yes|no):([0-9a-f]{32})\Z")


def privacy_notice(t: Translator, settings: Settings) -> str:
    """What is kept and why, in the variant the desk's law says (are case texts kept on
    /forget?), and how long raw messages are kept."""
    if settings.keep_case_records:
        kept = t.gettext(
            "What this desk keeps about you, and why:\n"
            "• Your Telegram user id, first name and language: to answer you in your language.\n"
            "• Your requests: what you wrote, photos, the place, and your phone number only if "
            "you shared it. The city's departments use them to solve the problem and to call you "
            "back.\n"
            "• The history of each request: so you and the departments see what happened.\n"
            "• A request you have started but not sent: deleted after 7 days.\n"
            "• Numbers you looked up that are not yours: to stop people guessing other people's "
            "requests.\n\n"
            "This desk must keep its case records by law. Staff see a request's details; other "
            "citizens never do.\n\n"
            "/mydata sends you everything we keep about you.\n"
            "/forget erases your name, your phone number and our copies of your messages with "
            "the bot, and unlinks your requests from you. The requests themselves, with what you "
            "wrote, the places and the photos, stay in the desk's records without your name."
        )
    else:
        kept = t.gettext(
            "What this desk keeps about you, and why:\n"
            "• Your Telegram user id, first name and language: to answer you in your language.\n"
            "• Your requests: what you wrote, photos, the place, and your phone number only if "
            "you shared it. The city's departments use them to solve the problem and to call you "
            "back.\n"
            "• The history of each request: so you and the departments see what happened.\n"
            "• A request you have started but not sent: deleted after 7 days.\n"
            "• Numbers you looked up that are not yours: to stop people guessing other people's "
            "requests.\n\n"
            "Staff see a request's details; other citizens never do.\n\n"
            "/mydata sends you everything we keep about you.\n"
            "/forget erases your name, your phone number, our copies of your messages with the "
            "bot, and from your requests what you wrote, your answers, the places and the photos. "
            "Each request keeps only its category, department, dates, status, the answer and "
            "your rating, without your name, so the city's figures stay true."
        )
    days = settings.retention_days
    retention = t.ngettext(
        "Our copies of the messages you exchange with the bot, and the numbers you looked up "
        "that are not yours, are deleted {days} day after they were handled.",
        "Our copies of the messages you exchange with the bot, and the numbers you looked up "
        "that are not yours, are deleted {days} days after they were handled.",
        days,
        days=days,
    )
    return f"{kept}\n\n{retention}"


async def on_privacy(update: Update, context: MinshengContext) -> None:
    """/privacy: what is kept, why, and how to see or erase it."""
    _, t = await who(update, context)
    await send(update, context, privacy_notice(t, context.services.settings))


async def on_mydata(update: Update, context: MinshengContext) -> None:
    """/mydata: a summary of what is kept, then the full export as a file, to the sender only."""
    _, t = await who(update, context)
    user_id = user_of(update).id
    settings, now = context.services.settings, context.services.clock.now()
    data = await held_data(user_id)
    log.info("data export for %s", user_id)
    text = await summary_text(
        data,
        t,
        settings.zone,
        retention_days=settings.retention_days,
        keep_case_records=settings.keep_case_records,
    )
    await send(update, context, text, chat_id=user_id)
    # The file is made when it is sent (render_data_export): the outbox keeps no copy of it.
    facts = {"citizen": user_id, "now": now.isoformat()}
    await notify(user_id, "citizen_data_export", facts, now=now)


async def render_data_export(params: dict[str, Any], t: Translator) -> Rendered:
    """ "citizen_data_export" {citizen, now}: everything held about them, as a JSON document."""
    zone, now = notice_zone(), as_datetime(params["now"])
    data = await held_data(int(params["citizen"]))
    document = await export_document(data, t, zone, now=now)
    upload = InputFile(export_file(document), filename=export_file_name(now, zone))
    return Rendered("sendDocument", {"document": upload, "caption": when_exported(now, zone, t)})


def consent_keyboard(t: Translator, nonce: str) -> InlineKeyboardMarkup:
    """Erase · Keep, bound to one question by its one-time value."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t.gettext("Yes, erase my data"), callback_data=f"forget:yes:{nonce}"
                ),
                InlineKeyboardButton(t.gettext("No, keep it"), callback_data=f"forget:no:{nonce}"),
            ]
        ]
    )


def forget_question(t: Translator, settings: Settings) -> str:
    if settings.keep_case_records:
        return t.gettext(
            "Erase your personal data?\n\n"
            "Your name, your phone number and our copies of your messages with the bot will be "
            "erased for good, and your requests will no longer be linked to you. This desk must "
            "keep its case records by law, so what you wrote in your requests, the places and "
            "the photos stay in its records. Requests of yours that are still open will be "
            "withdrawn (closed) first, because the departments could no longer reach you.\n\n"
            "This cannot be undone."
        )
    return t.gettext(
        "Erase your personal data?\n\n"
        "Your name, your phone number, our copies of your messages with the bot, and from your "
        "requests what you wrote, your answers, the places and the photos will be erased for "
        "good. Requests of yours that are still open will be withdrawn (closed) first, because "
        "the departments could no longer reach you. Each request keeps only its category, "
        "department, dates, status and answer, without your name, for the city's figures.\n\n"
        "This cannot be undone."
    )


async def on_forget(update: Update, context: MinshengContext) -> None:
    """/forget: explain, and ask for consent with two buttons bound to this question."""
    _, t = await who(update, context)
    user_id = user_of(update).id
    draft = await current_draft(user_id)
    # A request being written is left alone; the buttons work without the step.
    if draft is None or draft.step in FOLLOW_STEPS:
        await set_draft(user_id, Step.CONFIRM_FORGET, {}, now=context.services.clock.now())
    nonce = await ask_to_forget(user_id)
    settings = context.services.settings
    await send(update, context, forget_question(t, settings), markup=consent_keyboard(t, nonce))


async def on_forget_reply(update: Update, context: MinshengContext, draft: DraftView) -> None:
    """Text while the question is open: consent is given with the buttons only."""
    _, t = await who(update, context)
    user_id = user_of(update).id
    nonce = await open_forget_question(user_id) or await ask_to_forget(user_id)
    await send(
        update,
        context,
        t.gettext("Please answer with the buttons: erase, or keep."),
        markup=consent_keyboard(t, nonce),
    )


async def on_forget_choice(update: Update, context: MinshengContext) -> None:
    """forget:yes:N erases if N is the open question's value; forget:no:N changes nothing."""
    if (found := await button_match(update, context, FORGET_PATTERN)) is None:
        return
    choice, nonce = found.groups()
    _, t = await who(update, context)
    user_id, now = user_of(update).id, context.services.clock.now()
    if choice == "no":
        await keep_data(update, context, t, nonce)
        return
    keep = context.services.settings.keep_case_records
    try:
        report = await confirm_forget(
            user_id, nonce, now=now, keep_case_texts=keep, update_id=update.update_id
        )
    except ForgetNotConfirmed:
        await answer_button(update, context, t.gettext("This button has expired."))
        return
    await answer_button(update, context)
    log.info("personal data erased for %s: %s", user_id, report)
    text = t.gettext(
        "Done: your personal data is erased. Requests withdrawn: {closed}. Requests kept "
        "without your name for the city's figures: {kept}.",
        closed=report.cases_closed,
        kept=report.cases_anonymized,
    )
    await send(update, context, text, chat_id=user_id)


async def keep_data(update: Update, context: MinshengContext, t: Translator, nonce: str) -> None:
    """forget:no: the question's buttons are spent, and nothing changes."""
    user_id = user_of(update).id
    await answer_button(update, context)
    await cancel_forget(user_id, nonce)
    draft = await current_draft(user_id)
    if draft is not None and draft.step == Step.CONFIRM_FORGET:
        await discard_draft(user_id)
    await send(update, context, t.gettext("Nothing was erased."), chat_id=user_id)
