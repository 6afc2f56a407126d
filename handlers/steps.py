"""The step router: a message goes to the step its sender's draft is on, else to the fallback.

Every conversational feature keeps its step on the citizen's Draft row (storage.drafts.Step);
STEP_HANDLERS names the one callback of each step. The private-chat text and media handlers of
`handlers.register` call `route_step`, which loads the draft and hands the message over; a reply
goes to `route_reply`, since a reply to our message about a case adds to that case.

Commands and menu buttons that would leave a conversation are wrapped in `guarded`: in the middle
of a request they ask "continue or discard?" instead of running.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from telegram import Update

from bot.context import MinshengContext
from handlers.add_info import added_by_reply, on_add_info
from handlers.common import user_of, who
from handlers.fallback import on_not_text, on_text
from handlers.intake import ask_continue_or_discard
from handlers.intake_choose import not_a_button, on_question_input
from handlers.intake_data import once_per_album
from handlers.intake_details import (
    on_contact_input,
    on_description_input,
    on_location_input,
    on_photos_input,
    on_summary_input,
)
from handlers.intake_prompts import ask
from handlers.privacy import on_forget_reply
from handlers.rating_reopen import on_reopen_reason
from handlers.tracking import on_track_number
from storage.drafts import INTAKE_STEPS, DraftView, Step, current_draft, discard_draft

StepHandler = Callable[[Update, MinshengContext, DraftView], Awaitable[None]]
Callback = Callable[[Update, MinshengContext], Coroutine[Any, Any, None]]

# Each step's callback for the messages that arrive while a citizen is on it. Intake's steps
# that wait for a button take an album once: its first message is answered, the rest not.
STEP_HANDLERS: dict[Step, StepHandler] = {
    Step.KIND: once_per_album(not_a_button),
    Step.DOMAIN: once_per_album(not_a_button),
    Step.CATEGORY: once_per_album(not_a_button),
    Step.QUESTION: once_per_album(on_question_input),
    Step.DESCRIPTION: on_description_input,
    Step.PHOTOS: on_photos_input,
    Step.LOCATION: once_per_album(on_location_input),
    Step.CONTACT: once_per_album(on_contact_input),
    Step.SUMMARY: once_per_album(on_summary_input),
    Step.SUGGEST: once_per_album(not_a_button),
    Step.TRACK_NUMBER: on_track_number,
    Step.ADD_INFO: on_add_info,
    Step.CONFIRM_FORGET: on_forget_reply,
    Step.REOPEN_REASON: on_reopen_reason,
}


async def route_step(update: Update, context: MinshengContext) -> None:
    """Hand a message to the step its sender is on, or to the answers for no conversation."""
    draft = await current_draft(user_of(update).id)
    handler = STEP_HANDLERS.get(draft.step) if draft is not None else None
    if draft is not None and handler is not None:
        await handler(update, context, draft)
    elif update.message is not None and update.message.text is not None:
        await on_text(update, context)
    else:
        await on_not_text(update, context)


async def route_reply(update: Update, context: MinshengContext) -> None:
    """A reply to our message about a case adds to that case; any other goes to its step."""
    # Asked why to reopen, a reply (to the rating message, say) is the reason, not an addition.
    draft = await current_draft(user_of(update).id)
    reason = draft is not None and draft.step is Step.REOPEN_REASON
    if reason or not await added_by_reply(update, context):
        await route_step(update, context)


def guarded(callback: Callback) -> Callback:
    """`callback`, unless a request is in progress: then ask "continue or discard?" instead.

    A one-question step of another feature (waiting for a tracking number, say) is simply left:
    the command means the citizen moved on.
    """

    @functools.wraps(callback)
    async def wrapper(update: Update, context: MinshengContext) -> None:
        draft = await current_draft(user_of(update).id)
        if draft is not None and draft.step in INTAKE_STEPS:
            await ask_continue_or_discard(update, context)
            return
        if draft is not None:
            await discard_draft(draft.citizen_id)
        await callback(update, context)

    return wrapper


def and_reask(callback: Callback) -> Callback:
    """`callback`, then the current step of a request in progress asked again (new language)."""

    @functools.wraps(callback)
    async def wrapper(update: Update, context: MinshengContext) -> None:
        await callback(update, context)
        draft = await current_draft(user_of(update).id)
        if draft is not None and draft.step in INTAKE_STEPS:
            _, t = await who(update, context)
            await ask(update, context, t, draft)

    return wrapper
