"""Notice renderers of the time limits: the staff chat's reminders, escalations (督办), daily
overdue list and extension requests, and the citizen's new due date.

Storage writes the facts (storage.deadlines, storage.deadline_sweeps); the words are made here
at send time, in the recipient's language. Texts are plain (no parse_mode): a reason typed by
staff is shown as it was typed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.i18n import Translator
from bot.texts.cases import department_name, when
from handlers.rendered import Rendered, notice_zone
from storage.stale_buttons import ALL, card_stage
from storage.tracking import format_tracking_number


def _number(params: dict[str, Any]) -> str:
    return format_tracking_number(str(params["tracking"]))


def _due(value: object, t: Translator) -> str:
    return when(datetime.fromisoformat(str(value)), notice_zone(), t.language)


def _text(text: str) -> Rendered:
    return Rendered("sendMessage", {"text": text})


async def render_case_due_changed(params: dict[str, Any], t: Translator) -> Rendered:
    """ "case_due_changed" {tracking, due_at, reason: extension|urgent}: the citizen's new date."""
    number, due = _number(params), _due(params["due_at"], t)
    if params.get("reason") == "urgent":
        return _text(
            t.gettext(
                "Your request {number} is now handled as urgent: an answer is due by {due}.",
                number=number,
                due=due,
            )
        )
    return _text(
        t.gettext(
            "The department needs more time for your request {number}: an "
            "answer is now due by {due}.",
            number=number,
            due=due,
        )
    )


async def render_staff_extension_requested(params: dict[str, Any], t: Translator) -> Rendered:
    """ "staff_extension_requested" {tracking, days, reason, department, due_at}: with Grant and
    Refuse buttons for the supervisors."""
    number, days = _number(params), int(params["days"])
    department = await department_name(params.get("department"), t)
    text = t.ngettext(
        "{department} asks for {n} more working day on request {number} (now due by {due}). "
        "Reason: {reason}",
        "{department} asks for {n} more working days on request {number} (now due by {due}). "
        "Reason: {reason}",
        days,
        department=department,
        number=number,
        due=_due(params["due_at"], t),
        reason=str(params["reason"]),
    )
    tracking = str(params["tracking"])
    if await card_stage("extension", tracking, params) != ALL:  # decided before it went out
        return Rendered("sendMessage", {"text": text})
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(t.gettext("Grant"), callback_data=f"dl:g:{tracking}"),
                InlineKeyboardButton(t.gettext("Refuse"), callback_data=f"dl:r:{tracking}"),
            ]
        ]
    )
    return Rendered("sendMessage", {"text": text, "reply_markup": markup.to_dict()})


async def render_staff_extension_granted(params: dict[str, Any], t: Translator) -> Rendered:
    """ "staff_extension_granted" {tracking, days, due_at, department}."""
    department = await department_name(params.get("department"), t)
    return _text(
        t.gettext(
            "Extension granted: {department} now has until {due} for request {number}.",
            department=department,
            due=_due(params["due_at"], t),
            number=_number(params),
        )
    )


async def render_staff_extension_refused(params: dict[str, Any], t: Translator) -> Rendered:
    """ "staff_extension_refused" {tracking, reason, department}: the department is told."""
    department = await department_name(params.get("department"), t)
    return _text(
        t.gettext(
            "Extension refused for {department} on request {number}. Reason: {reason}",
            department=department,
            number=_number(params),
            reason=str(params["reason"]),
        )
    )


async def render_staff_due_reminder(params: dict[str, Any], t: Translator) -> Rendered:
    """ "staff_due_reminder" {tracking, department, due_at}: 75 % of the time has passed."""
    department = await department_name(params.get("department"), t)
    return _text(
        t.gettext(
            "Reminder for {department}: request {number} must be answered by {due}.",
            department=department,
            number=_number(params),
            due=_due(params["due_at"], t),
        )
    )


async def render_staff_case_escalated(params: dict[str, Any], t: Translator) -> Rendered:
    """ "staff_case_escalated" {tracking, department, due_at}: the due date passed (督办)."""
    department = await department_name(params.get("department"), t)
    return _text(
        t.gettext(
            "Escalated to the supervisors: request {number} ({department}) was "
            "due by {due} and is not answered.",
            number=_number(params),
            department=department,
            due=_due(params["due_at"], t),
        )
    )


async def render_staff_accept_overdue(params: dict[str, Any], t: Translator) -> Rendered:
    """ "staff_accept_overdue" {tracking, accept_due_at}: not accepted within the limit."""
    return _text(
        t.gettext(
            "Supervisors: request {number} was to be accepted by {due} and is still waiting.",
            number=_number(params),
            due=_due(params["accept_due_at"], t),
        )
    )


async def render_staff_overdue_list(params: dict[str, Any], t: Translator) -> Rendered:
    """ "staff_overdue_list" {date, total, cases: [[tracking, department, due_at], ...]}."""
    total = int(params["total"])
    cases = list(params.get("cases") or [])
    lines = [
        t.ngettext(
            "Overdue on {date}: {n} request.",
            "Overdue on {date}: {n} requests.",
            total,
            date=str(params["date"]),
        )
    ]
    for tracking, department, due in cases:
        name = await department_name(department, t)
        lines.append(f"• {format_tracking_number(str(tracking))} · {name} · {_due(due, t)}")
    if total > len(cases):
        more = total - len(cases)
        lines.append(t.ngettext("…and {n} more.", "…and {n} more.", more))
    return _text("\n".join(lines))
