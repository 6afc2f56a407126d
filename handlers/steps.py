"""The step router: a message goes to the step its sender's draft is on, else to the fallback.

Every conversational feature keeps its step on the citizen's Draft row (storage.drafts.Step) and
plugs one callback per step into `step_handlers()`. The private-chat text and media handlers of
`handlers.register` call `route_step`, which loads the draft and hands the message over.

Commands and menu buttons that would leave a conversation are wrapped in `guarded`: in the middle
of a request they ask "continue or discard?" instead of running.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from telegram import Update

from bot.context import MinshengContext
from handlers.common import user_of, who
from handlers.fallback import on_not_text, on_text
from storage.drafts import INTAKE_STEPS, DraftView, Step, current_draft, discard_draft

StepHandler = Callable[[Update, MinshengContext, DraftView], Awaitable[None]]
Callback = Callable[[Update, MinshengContext], Coroutine[Any, Any, None]]

# Other features' steps, imported when first needed: a module not written yet means no step.
PLUGGED: tuple[tuple[Step, str, str], ...] = (
    (Step.TRACK_NUMBER, "handlers.tracking", "on_track_number"),
    (Step.ADD_INFO, "handlers.add_info", "on_add_info"),
    (Step.CONFIRM_FORGET, "handlers.privacy", "on_forget_reply"),
)


@functools.cache
def step_handlers() -> dict[Step, StepHandler]:
    """Each step's callback for the messages that arrive while a citizen is on it."""
    from handlers.intake_choose import not_a_button, on_question_input
    from handlers.intake_data import once_per_album
    from handlers.intake_details import (
        on_contact_input,
        on_description_input,
        on_location_input,
        on_photos_input,
        on_summary_input,
    )

    found: dict[Step, StepHandler] = {
        Step.KIND: once_per_album(not_a_button),
        Step.DOMAIN: once_per_album(not_a_button),
        Step.CATEGORY: once_per_album(not_a_button),
        Step.QUESTION: once_per_album(on_question_input),
        Step.DESCRIPTION: on_description_input,
        Step.PHOTOS: on_photos_input,
        Step.LOCATION: once_per_album(on_location_input),
        Step.CONTACT: once_per_album(on_contact_input),
        Step.SUMMARY: once_per_album(on_summary_input),
    }
    for step, module_name, name in PLUGGED:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as missing:
            if missing.name != module_name:
                raise  # the module exists but something it imports does not: a real error
            continue
        callback = getattr(module, name, None)
        if callback is not None:
            found[step] = callback
    return found


def __getattr__(name: str) -> object:
    # STEP_HANDLERS is built on first use, so that features may import this module.
    if name == "STEP_HANDLERS":
        return step_handlers()
    raise AttributeError(name)


async def route_step(update: Update, context: MinshengContext) -> None:
    """Hand a message to the step its sender is on, or to the answers for no conversation."""
    draft = await current_draft(user_of(update).id)
    handler = step_handlers().get(draft.step) if draft is not None else None
    if draft is not None and handler is not None:
        await handler(update, context, draft)
    elif update.message is not None and update.message.text is not None:
        await on_text(update, context)
    else:
        await on_not_text(update, context)


def guarded(callback: Callback) -> Callback:
    """`callback`, unless a request is in progress: then ask "continue or discard?" instead.

    A one-question step of another feature (waiting for a tracking number, say) is simply left:
    the command means the citizen moved on.
    """

    @functools.wraps(callback)
    async def wrapper(update: Update, context: MinshengContext) -> None:
        from handlers.intake import ask_continue_or_discard

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
        from handlers.intake_prompts import ask

        await callback(update, context)
        draft = await current_draft(user_of(update).id)
        if draft is not None and draft.step in INTAKE_STEPS:
            _, t = await who(update, context)
            await ask(update, context, t, draft)

    return wrapper
