"""Reopening an answered request the citizen is not satisfied with, with their reason.

    rt:r:<case> ──▶ [REOPEN_REASON {tracking, message_id}] the rating message asks why
        ──text──▶ reopened with that reason (staff told), the message says so (draft gone)
        │ anything else, or too long: say what is needed, stay
        └ Cancel (rt:k:<case>) or /cancel ──▶ the request stays as it is

The press is checked in storage before the reason is asked for, and again when it comes: a
stale or forged button, a case someone else's, or a second reopen changes nothing.
"""

from __future__ import annotations

from typing import Any

from telegram import Update

from bot.context import MinshengContext
from bot.texts.refusals import too_long
from handlers.buttons import ButtonHandler, button_match, query_of
from handlers.common import answer_button, send, user_of, who
from handlers.fallback import message_of
from handlers.rating_messages import (
    KEEP_PATTERN,
    REOPEN_PATTERN,
    final_step,
    reason_step,
    refusal,
    reopened_step,
    show_pressed,
    show_step,
)
from handlers.tracking import begin_step
from storage.case_views import CaseNotFound
from storage.drafts import DraftView, Step, current_draft, discard_draft
from storage.rating import (
    CaseChangedMeanwhile,
    RatingRefused,
    ReopenTooLate,
    rating_given,
)
from storage.rating_reopen import reopen_allowed, reopen_by_citizen

REASON_LIMIT = 1000


async def on_reopen(update: Update, context: MinshengContext) -> None:
    """Reopen pressed: if it may be, the rating message asks for the reason."""
    if (found := await button_match(update, context, REOPEN_PATTERN)) is None:
        return
    _, t = await who(update, context)
    tracking, user_id = found.group(1), user_of(update).id
    try:
        rating = await reopen_allowed(tracking, user_id, now=context.services.clock.now())
    except (CaseNotFound, RatingRefused) as error:
        await answer_button(update, context, refusal(t, error))
        return
    message = query_of(update).message
    data = {"tracking": tracking, "message_id": str(message.message_id if message else 0)}
    if message is None or not await begin_step(update, context, t, Step.REOPEN_REASON, data):
        await answer_button(update, context)
        return
    await show_pressed(update, context, reason_step(t, rating))


async def on_keep(update: Update, context: MinshengContext) -> None:
    """Cancel under the reason's question: no reopen; the rating message as it was."""
    if (found := await button_match(update, context, KEEP_PATTERN)) is None:
        return
    _, t = await who(update, context)
    tracking, user_id = found.group(1), user_of(update).id
    draft = await current_draft(user_id)
    ours = draft is not None and draft.step is Step.REOPEN_REASON
    if ours and draft is not None and draft.data.get("tracking") == tracking:
        await discard_draft(user_id)
    try:
        rating = await rating_given(tracking, user_id, now=context.services.clock.now())
    except (CaseNotFound, RatingRefused) as error:
        await answer_button(update, context, refusal(t, error))
        return
    await show_pressed(update, context, final_step(t, rating))


async def on_reopen_reason(update: Update, context: MinshengContext, draft: DraftView) -> None:
    """The reason, as the next text message: the request reopened with it."""
    text = (message_of(update).text or "").strip()
    _, t = await who(update, context)
    if not text:
        need = t.gettext(
            "Please send the reason as a text message, or send /cancel to keep the request "
            "as it is."
        )
        await send(update, context, need)
        return
    if len(text) > REASON_LIMIT:
        await send(update, context, too_long(t, len(text), REASON_LIMIT))
        return
    await discard_draft(draft.citizen_id)
    try:
        rating = await reopen_by_citizen(
            str(draft.data.get("tracking", "")),
            draft.citizen_id,
            now=context.services.clock.now(),
            staff_chat_id=context.services.settings.staff_chat_id,
            reason=text,
        )
    except (CaseNotFound, RatingRefused, CaseChangedMeanwhile) as error:
        known = isinstance(error, ReopenTooLate | CaseChangedMeanwhile)
        gone = t.gettext("This request can no longer be reopened.")
        await send(update, context, refusal(t, error) if known else gone)
        return
    message_id = _message_id(draft.data)
    if message_id:
        step = reopened_step(t, rating, text)
        await show_step(update, context, draft.citizen_id, message_id, step)


async def reason_cancelled(update: Update, context: MinshengContext, draft: DraftView) -> None:
    """/cancel instead of the reason: the rating message no longer asks for it (as Cancel)."""
    _, t = await who(update, context)
    message_id = _message_id(draft.data)
    try:
        tracking = str(draft.data.get("tracking", ""))
        rating = await rating_given(tracking, draft.citizen_id, now=context.services.clock.now())
    except (CaseNotFound, RatingRefused):
        return  # the request moved on meanwhile: the message is left as it is
    if message_id:
        await show_step(update, context, draft.citizen_id, message_id, final_step(t, rating))


def _message_id(data: dict[str, Any]) -> int:
    value = data.get("message_id")
    return int(value) if isinstance(value, str) and value.isdigit() else 0


def handlers() -> list[Any]:
    """Reopen and its Cancel, for rating.handlers()."""
    return [
        ButtonHandler(on_reopen, pattern=REOPEN_PATTERN),
        ButtonHandler(on_keep, pattern=KEEP_PATTERN),
    ]
