"""Privacy: /privacy says what is kept and why, /mydata sends it all, /forget erases it.

    /forget ──▶ [CONFIRM_FORGET] ──forget:yes──▶ open requests withdrawn, personal data erased
                      │          └─forget:no───▶ nothing changes
                      └ typed text: "please use the buttons" (consent is never guessed from text)

The export goes only to the user who asked, in their private chat (RELIABILITY row 38).
"""

from __future__ import annotations

import json
import logging
import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.context import MinshengContext
from bot.i18n import Translator
from handlers.buttons import on_expired_button, query_of
from handlers.case_card import matched
from handlers.common import answer_button, send, user_of, who
from handlers.tracking import FOLLOW_STEPS
from storage.drafts import DraftView, Step, current_draft, discard_draft, set_draft
from storage.privacy import citizen_export, forget_citizen

log = logging.getLogger(__name__)

FORGET_PATTERN = re.compile(r"^forget:(yes|no)\Z")
CHUNK = 3900  # characters per export message; Telegram takes 4,096


def privacy_notice(t: Translator) -> str:
    return t.gettext(
        "What this desk keeps about you, and why:\n"
        "• Your Telegram user id, first name and language: to answer you in your language.\n"
        "• Your requests: what you wrote, photos, the place, and your phone number only if you "
        "shared it. The city's departments use them to solve the problem and to call you back.\n"
        "• The history of each request: so you and the departments see what happened.\n"
        "• A request you have started but not sent: deleted after 7 days.\n"
        "• Numbers you looked up that are not yours: to stop people guessing other people's "
        "requests.\n\n"
        "Requests are kept as the city's records of its public services. Staff see a request's "
        "details; other citizens never do.\n\n"
        "/mydata sends you everything we keep about you.\n"
        "/forget erases your personal data: your name and phone, and the places and photos of "
        "your requests. What you reported stays, without your name, so the city's figures stay "
        "true."
    )


async def on_privacy(update: Update, context: MinshengContext) -> None:
    """/privacy: what is kept, why, and how to see or erase it."""
    _, t = await who(update, context)
    await send(update, context, privacy_notice(t))


def chunks(text: str, size: int = CHUNK) -> list[str]:
    """Split at line ends where possible, so each message stays readable."""
    parts: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        while len(line) > size:
            if current:
                parts.append(current)
                current = ""
            parts.append(line[:size])
            line = line[size:]
        if len(current) + len(line) > size:
            parts.append(current)
            current = ""
        current += line
    if current.strip():
        parts.append(current)
    return parts


async def on_mydata(update: Update, context: MinshengContext) -> None:
    """/mydata: everything kept about the sender, to the sender only, as text."""
    _, t = await who(update, context)
    user_id = user_of(update).id
    export = await citizen_export(user_id)
    log.info("data export for %s", user_id)
    await send(
        update,
        context,
        t.gettext("Here is everything this desk keeps about you."),
        chat_id=user_id,
    )
    dump = json.dumps(export, ensure_ascii=False, indent=1, default=str)
    for part in chunks(dump):
        await send(update, context, part, chat_id=user_id)


def consent_keyboard(t: Translator) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(t.gettext("Yes, erase my data"), callback_data="forget:yes"),
                InlineKeyboardButton(t.gettext("No, keep it"), callback_data="forget:no"),
            ]
        ]
    )


def forget_question(t: Translator) -> str:
    return t.gettext(
        "Erase your personal data?\n\n"
        "Your name and phone number, and the places and photos of your requests, will be "
        "erased for good. Requests of yours that are still open will be withdrawn (closed) "
        "first, because the departments could no longer reach you. What you reported stays, "
        "without your name, for the city's figures.\n\n"
        "This cannot be undone."
    )


async def on_forget(update: Update, context: MinshengContext) -> None:
    """/forget: explain, and ask for consent with two buttons."""
    _, t = await who(update, context)
    user_id = user_of(update).id
    draft = await current_draft(user_id)
    # A request being written is left alone; the buttons work without the step.
    if draft is None or draft.step in FOLLOW_STEPS:
        await set_draft(user_id, Step.CONFIRM_FORGET, {}, now=context.services.clock.now())
    await send(update, context, forget_question(t), markup=consent_keyboard(t))


async def on_forget_reply(update: Update, context: MinshengContext, draft: DraftView) -> None:
    """Text while the question is open: consent is given with the buttons only."""
    _, t = await who(update, context)
    await send(
        update,
        context,
        t.gettext("Please answer with the buttons: erase, or keep."),
        markup=consent_keyboard(t),
    )


async def on_forget_choice(update: Update, context: MinshengContext) -> None:
    """forget:yes erases (after withdrawing open requests); forget:no changes nothing."""
    choice = matched(FORGET_PATTERN, query_of(update).data)
    if choice is None:
        await on_expired_button(update, context)
        return
    _, t = await who(update, context)
    user_id = user_of(update).id
    await answer_button(update, context)
    if choice == "no":
        draft = await current_draft(user_id)
        if draft is not None and draft.step == Step.CONFIRM_FORGET:
            await discard_draft(user_id)
        await send(update, context, t.gettext("Nothing was erased."), chat_id=user_id)
        return
    report = await forget_citizen(user_id, now=context.services.clock.now())
    log.info("personal data erased for %s: %s", user_id, report)
    text = t.gettext(
        "Done: your personal data is erased. Requests withdrawn: {closed}. Requests kept "
        "without your name for the city's figures: {kept}.",
        closed=report.cases_closed,
        kept=report.cases_anonymized,
    )
    await send(update, context, text, chat_id=user_id)
