"""The dashboard's case actions: each one form, one storage operation, one line when done.

The operations are the bot's own (storage.lifecycle, storage.queue); they authorize the staff
member and check the move in storage, so the dashboard grants nothing the bot would refuse.
A form missing its text raises ValueError, which the page answers with "fill in the form".
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from bot.context import Services
from bot.i18n import Translator
from bot.texts.refusals import shown
from storage.lifecycle import (
    ReplyView,
    accept_case,
    ask_citizen,
    close_case,
    merge_case,
    possible,
    reject_case,
    submit_reply,
    transfer_case,
)
from storage.models import CaseStatus
from storage.queue import add_note
from storage.staff import StaffAction, StaffView

Form = dict[str, str]
Operation = Callable[[str, Form, StaffView, Services], Awaitable[Any]]


def _field(form: Form, name: str, limit: int) -> str:
    value = form.get(name, "").strip()
    if not value or len(value) > limit:
        raise ValueError(name)
    return value


async def _reply(number: str, form: Form, staff: StaffView, services: Services) -> Any:
    settings = services.settings
    return await submit_reply(
        number,
        _field(form, "text", 3000),
        by=staff.user_id,
        now=services.clock.now(),
        min_length=settings.perfunctory_min_chars,
        perfunctory_phrases=settings.perfunctory_phrases,
    )


async def _ask(number: str, form: Form, staff: StaffView, services: Services) -> Any:
    return await ask_citizen(
        number, _field(form, "text", 1000), by=staff.user_id, now=services.clock.now()
    )


async def _note(number: str, form: Form, staff: StaffView, services: Services) -> Any:
    return await add_note(
        number, _field(form, "text", 3000), by=staff.user_id, now=services.clock.now()
    )


async def _assign(number: str, form: Form, staff: StaffView, services: Services) -> Any:
    settings = services.settings
    return await accept_case(
        number,
        _field(form, "department", 64),
        by=staff.user_id,
        now=services.clock.now(),
        zone=settings.zone,
        sign_hours=settings.sign_limit_hours,
        staff_chat_id=settings.staff_chat_id,
        calendar=services.calendar,
    )


async def _transfer(number: str, form: Form, staff: StaffView, services: Services) -> Any:
    settings = services.settings
    return await transfer_case(
        number,
        _field(form, "department", 64),
        _field(form, "reason", 500),
        by=staff.user_id,
        now=services.clock.now(),
        sign_hours=settings.sign_limit_hours,
        staff_chat_id=settings.staff_chat_id,
    )


def _confirmed(form: Form) -> None:
    """An end (close, reject) is done only with its box ticked: one click cannot end a case."""
    if form.get("confirm") != "yes":
        raise ValueError("confirm")


async def _close(number: str, form: Form, staff: StaffView, services: Services) -> Any:
    reason = _field(form, "reason", 500)
    _confirmed(form)
    return await close_case(number, by=staff.user_id, now=services.clock.now(), reason=reason)


async def _reject(number: str, form: Form, staff: StaffView, services: Services) -> Any:
    reason = _field(form, "reason", 500)
    _confirmed(form)
    return await reject_case(number, reason, by=staff.user_id, now=services.clock.now())


async def _merge(number: str, form: Form, staff: StaffView, services: Services) -> Any:
    return await merge_case(
        number, _field(form, "into", 20), by=staff.user_id, now=services.clock.now()
    )


ACTIONS: dict[str, Operation] = {
    "reply": _reply,
    "ask": _ask,
    "note": _note,
    "assign": _assign,
    "transfer": _transfer,
    "close": _close,
    "reject": _reject,
    "merge": _merge,
}


async def run_action(
    action: str, number: str, form: Form, staff: StaffView, services: Services
) -> Any:
    return await ACTIONS[action](number, form, staff, services)


# The lifecycle move each form makes (an internal note moves nothing: always offered).
MOVES = {
    "reply": StaffAction.REPLY,
    "ask": StaffAction.ASK,
    "assign": StaffAction.ACCEPT,
    "transfer": StaffAction.TRANSFER,
    "close": StaffAction.CLOSE,
    "reject": StaffAction.REJECT,
    "merge": StaffAction.MERGE,
}


def offered_actions(status: CaseStatus) -> frozenset[str]:
    """The forms the case page shows for a case in `status`: the moves the lifecycle allows
    (storage.lifecycle.possible, as the bot's buttons ask it)."""
    return frozenset(
        name for name in ACTIONS if name not in MOVES or possible(status, MOVES[name])
    )


# What the page says when an action succeeded: its key in the redirect's "done" parameter.
# A reply has two outcomes: sent to the citizen at once, or waiting for a supervisor.
DONE = (*ACTIONS, "answered")


def done_key(action: str, result: Any) -> str:
    """The outcome of `action` that the page reports, from what its operation returned."""
    if isinstance(result, ReplyView) and not result.awaits_review:
        return "answered"
    return action


def done_line(t: Translator, done: str, number: str) -> str:
    """What the page says after an action succeeded on case `number` (a key of DONE)."""
    n = shown(number)
    lines = {
        "reply": t.gettext(
            "Your reply on {number} was saved and waits for a supervisor's review; the "
            "citizen receives it once it is approved.",
            number=n,
        ),
        "answered": t.gettext("Your reply on {number} was sent to the citizen.", number=n),
        "ask": t.gettext("Your question on {number} was sent to the citizen.", number=n),
        "note": t.gettext("Your note was added to {number}.", number=n),
        "assign": t.gettext("Request {number} was assigned.", number=n),
        "transfer": t.gettext("Request {number} was transferred.", number=n),
        "close": t.gettext("Request {number} was closed; the citizen was told.", number=n),
        "reject": t.gettext(
            "Request {number} was not accepted; the citizen was told the reason.", number=n
        ),
        "merge": t.gettext("Request {number} was merged.", number=n),
    }
    return lines[done]
