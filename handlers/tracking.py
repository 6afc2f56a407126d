"""Track a request by its number: /status <number>, the Track button, /start track-<number>.

    Track button ──▶ [TRACK_NUMBER] ──number──▶ details (draft discarded)
                          │ mistyped / malformed: say so, stay
    /status <number>, /start track-<number>, case:<number> ──▶ details at once

A number that is not the citizen's gets the same "not found" whether the case exists or not
(RELIABILITY row 22); such lookups are recorded and limited per citizen (row 23).
"""

from __future__ import annotations

import contextlib
import logging

from telegram import InlineKeyboardMarkup, Update

from bot.context import MinshengContext
from bot.i18n import Translator
from bot.texts.citizen_case import citizen_card
from bot.texts.publication import consent_line
from handlers.case_card import case_keyboard
from handlers.common import send, user_of, who
from handlers.duplicates import follower_card
from handlers.fallback import message_of
from storage.cases import CaseNotFound, public_timeline
from storage.drafts import DraftView, Step, current_draft, discard_draft, set_draft
from storage.followers import followed_case
from storage.following import failed_lookups, record_failed_lookup
from storage.status_read import citizen_case_status
from storage.tracking import (
    TrackingNumberMalformed,
    TrackingNumberMistyped,
    parse_tracking_number,
)

log = logging.getLogger(__name__)

# Lookups of numbers that are not one's own, per citizen and hour: plenty for typos, far too
# few to find a case by guessing among 31**11 numbers.
LOOKUP_LIMIT = 20
# The steps of following a request; any other draft is a request being written.
FOLLOW_STEPS = frozenset(
    {Step.TRACK_NUMBER, Step.ADD_INFO, Step.CONFIRM_FORGET, Step.REOPEN_REASON}
)


def not_found(t: Translator) -> str:
    return t.gettext(
        "I found no request of yours with this number. Please check the number; "
        "you can see all your requests under My requests."
    )


def ask_number(t: Translator) -> str:
    return t.gettext("Please send the tracking number. It looks like ABCD-EFGH-JKMN.")


async def begin_step(
    update: Update, context: MinshengContext, t: Translator, step: Step, data: dict[str, str]
) -> bool:
    """Enter one of our steps, unless a request is being written (that draft is not ours to
    drop): then say how to finish it, and return False."""
    citizen_id = user_of(update).id
    draft = await current_draft(citizen_id)
    if draft is not None and draft.step not in FOLLOW_STEPS:
        busy = t.gettext(
            "You are in the middle of writing a request. Please finish it first, "
            "or send /cancel to discard it."
        )
        await send(update, context, busy, chat_id=citizen_id)
        return False
    await set_draft(citizen_id, step, data, now=context.services.clock.now())
    return True


async def case_answer(
    context: MinshengContext, citizen_id: int, t: Translator, canonical: str
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The details of the citizen's case with this (valid) number, or the same refusal for
    every other number."""
    try:
        found = await citizen_case_status(canonical, citizen_id)
    except CaseNotFound:
        with contextlib.suppress(CaseNotFound):  # a case they joined reads like their own
            followed = await followed_case(canonical, citizen_id)
            return await follower_card(followed, await public_timeline(canonical), t, context)
        now = context.services.clock.now()
        foreign = await record_failed_lookup(citizen_id, canonical, now=now)
        log.info(
            "lookup of %s by %s: %s",
            canonical,
            citizen_id,
            "someone else's" if foreign else "unknown",
        )
        if await failed_lookups(citizen_id, now=now) > LOOKUP_LIMIT:
            return t.gettext(
                "You have looked up many numbers that are not yours in the last hour. "
                "Please try again later, or open your requests under My requests."
            ), None
        return not_found(t), None
    log.info("lookup of %s by its citizen", canonical)
    case, state = found.case, found.consent
    card = await citizen_card(
        case, found.timeline, t, context.services.settings.zone, found.comment
    )
    return "\n\n".join((card, consent_line(t, state))), case_keyboard(case, t, state.consent)


async def track(update: Update, context: MinshengContext, typed: str) -> bool:
    """Answer a typed number; False when it was no number at all or is mistyped."""
    _, t = await who(update, context)
    try:
        canonical = parse_tracking_number(typed)
    except TrackingNumberMistyped:
        text = t.gettext(
            "This number looks mistyped: one of its characters is wrong. "
            "Please check it and send it again."
        )
        await send(update, context, text)
        return False
    except TrackingNumberMalformed:
        text = t.gettext(
            "That is not a tracking number; they look like ABCD-EFGH-JKMN. Please send it again."
        )
        await send(update, context, text)
        return False
    text, markup = await case_answer(context, user_of(update).id, t, canonical)
    await send(update, context, text, markup=markup)
    return True


async def on_status(update: Update, context: MinshengContext) -> None:
    """/status <number>: the case's details; without a number, ask for it."""
    typed = " ".join(context.args or ())
    if typed.strip():
        await track(update, context, typed)
        return
    await on_track_button(update, context)


async def on_track_button(update: Update, context: MinshengContext) -> None:
    """The Track button: ask for the number (it comes to on_track_number)."""
    _, t = await who(update, context)
    if await begin_step(update, context, t, Step.TRACK_NUMBER, {}):
        await send(update, context, ask_number(t))


async def on_track_number(update: Update, context: MinshengContext, draft: DraftView) -> None:
    """The number typed after the Track button; a wrong one is asked for again."""
    message = message_of(update)
    if not message.text:
        _, t = await who(update, context)
        await send(update, context, ask_number(t))
        return
    if await track(update, context, message.text):
        await discard_draft(draft.citizen_id)
