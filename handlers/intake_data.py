"""Intake's callback data (defined once, checked on the way in) and its draft bookkeeping.

Callback data comes from the client: it may be forged, stale or from another version. Each
action is valid at certain steps only; a press at any other step (or with no draft) has expired.

    in:k:<kind>   in:d:<domain id>   in:c:<category id>   in:a:<choice index>   in:back
    in:guess (Not sure)   in:s:<category id> (a suggested one)   in:list (none of these)
    in:skip   in:done   in:notem   in:e:<field>   in:submit   in:cancel   in:go   in:drop
    in:j:<index of a similar request shown>   in:file (file anyway)   in:pub (publish: toggle)

Category codes may be up to 64 characters, so domains and categories travel as their row ids.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

from telegram import Message, Update

from bot.context import MinshengContext
from handlers.common import UpdateShapeError
from storage.drafts import INTAKE_STEPS, DraftView, Step, set_draft
from storage.models import CaseKind

PREFIX = "in:"
KINDS = tuple(CaseKind)
# Fields of the summary that have an Edit button, and the step each one jumps back to.
EDITS: dict[str, Step] = {
    "kind": Step.KIND,
    "category": Step.DOMAIN,
    "answers": Step.QUESTION,
    "description": Step.DESCRIPTION,
    "photos": Step.PHOTOS,
    "location": Step.LOCATION,
    "contact": Step.CONTACT,
}
# Which steps each action may be pressed at; anything else is stale.
ACTION_STEPS: dict[str, frozenset[Step]] = {
    "k": frozenset({Step.KIND}),
    "d": frozenset({Step.DOMAIN}),
    "c": frozenset({Step.CATEGORY}),
    "guess": frozenset({Step.DOMAIN, Step.CATEGORY}),  # Not sure (handlers.intake_unsure)
    "s": frozenset({Step.SUGGEST}),  # a suggested category
    "list": frozenset({Step.SUGGEST}),  # none of these: the list
    "a": frozenset({Step.QUESTION}),
    "back": frozenset({Step.DOMAIN, Step.CATEGORY}),
    "skip": frozenset({Step.QUESTION, Step.PHOTOS}),
    "done": frozenset({Step.PHOTOS}),
    "notem": frozenset({Step.DESCRIPTION}),
    "e": frozenset({Step.SUMMARY}),
    "submit": frozenset({Step.SUMMARY}),
    "j": frozenset({Step.SUMMARY}),  # join a similar request instead (handlers.duplicates)
    "file": frozenset({Step.SUMMARY}),
    "pub": frozenset({Step.SUMMARY}),  # publish without my name: yes / no (a toggle)
    "cancel": INTAKE_STEPS,
    "go": INTAKE_STEPS,
    "drop": INTAKE_STEPS,
}
_ARGS = {
    "k": "|".join(KINDS),
    "d": r"[0-9]{1,9}",
    "c": r"[0-9]{1,9}",
    "s": r"[0-9]{1,9}",
    "a": r"[0-9]{1,2}",
    "e": "|".join(EDITS),
    "j": r"[0-9]",
}
_PLAIN = "|".join(a for a in ACTION_STEPS if a not in _ARGS)
_WITH_ARG = "|".join(_ARGS)
PATTERN = re.compile(rf"^{PREFIX}(?:({_PLAIN})|({_WITH_ARG}):([0-9a-z_]+))\Z")


@dataclass(frozen=True)
class Action:
    verb: str
    arg: str = ""


def data(verb: str, arg: object = "") -> str:
    """The callback data of an action; ≤ 64 bytes by construction."""
    text = f"{PREFIX}{verb}:{arg}" if verb in _ARGS else f"{PREFIX}{verb}"
    if parse(text) is None:
        raise ValueError(f"not an intake action: {text!r}")
    return text


def parse(raw: object) -> Action | None:
    """The action a button's data names, or None if it is not one of ours."""
    match = PATTERN.match(raw) if isinstance(raw, str) else None
    if match is None:
        return None
    if match.group(1):
        return Action(match.group(1))
    verb, arg = match.group(2), match.group(3)
    return Action(verb, arg) if re.fullmatch(_ARGS[verb], arg) else None


def message_of(update: Update) -> Message:
    if update.message is None:
        raise UpdateShapeError("update has no new message")
    return update.message


async def save(
    context: MinshengContext, draft: DraftView, step: Step, **changes: Any
) -> DraftView:
    """Move the draft to `step` with `changes` applied to its data (None removes a key)."""
    data = moved(draft, step, **changes).data
    return await set_draft(draft.citizen_id, step, data, now=context.services.clock.now())


def moved(draft: DraftView, step: Step, **changes: Any) -> DraftView:
    """The draft as `save` would leave it, not saved: to look ahead before choosing a step."""
    merged = {**draft.data, **changes}
    merged = {key: value for key, value in merged.items() if value is not None}
    return replace(draft, step=step, data=merged)


StepHandler = Callable[[Update, MinshengContext, DraftView], Awaitable[None]]


def once_per_album(callback: StepHandler) -> StepHandler:
    """An album is one message to answer: its first item reaches `callback`, the rest nothing.

    For the steps that take no photos; the photo steps count album items themselves.
    """

    @functools.wraps(callback)
    async def wrapper(update: Update, context: MinshengContext, draft: DraftView) -> None:
        album = update.message.media_group_id if update.message is not None else None
        if album is not None:
            if album == draft.data.get("album"):
                return
            draft = await save(context, draft, draft.step, album=album)
        await callback(update, context, draft)

    return wrapper


def after_details(draft: DraftView, natural: Step) -> Step:
    """Where a completed step goes: on, or back to the summary when it was an edit."""
    if not draft.data.get("editing"):
        return natural
    if draft.data.get("location_required") and not draft.data.get("location"):
        return Step.LOCATION  # a new category needs a place before the summary can stand
    return Step.SUMMARY
