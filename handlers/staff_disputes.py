"""Disputes of unsatisfied ratings (差评复核): /dispute, /disputes, the card's Grant · Refuse.

    /dispute N <reason> [text] (the case's department) ──▶ card in the staff chat
        ──Grant──▶ the rating leaves the department's figures ──▶ the staff chat told
        └─Refuse─▶ the rating counts ──────────────────────────▶ the staff chat told

Storage authorizes (DISPUTE for the case's department, DECIDE_DISPUTE for supervisors over it
and admins) and refuses what does not fit; a handler only words the outcome. The reasons are
the desk's list (MINSHENG_DISPUTE_REASONS_FILE), shown whenever a reason is missing or unknown.
"""

from __future__ import annotations

import re
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CommandHandler

from bot.context import MinshengApp, MinshengContext
from bot.i18n import Translator
from bot.texts.cases import department_name
from bot.texts.refusals import not_allowed, refusal, shown, too_long
from handlers.buttons import NUMBER_GROUP, ButtonHandler
from handlers.common import answer_button, send, user_of, who
from handlers.rendered import Rendered
from handlers.staff_kit import (
    mark_pressed,
    pressed,
    scope_kept_out,
    staff_filter,
    stamp,
    usage_or_denied,
)
from storage.case_views import CaseNotFound
from storage.dispute_reasons import DisputeReason
from storage.disputes import (
    TEXT_MAX,
    DisputeReasonUnknown,
    DisputeRefused,
    DisputeView,
    decide_dispute,
    dispute_pending,
    disputes_waiting_for,
    file_dispute,
)
from storage.lifecycle_core import CaseChangedMeanwhile
from storage.staff import StaffNotAuthorized

COMMANDS = ("dispute", "disputes")
DECIDE_PATTERN = re.compile(rf"^dsp:([gr]):{NUMBER_GROUP}\Z")
LISTED = 10


def usage(t: Translator, reasons: tuple[DisputeReason, ...]) -> str:
    lines = [
        t.gettext(
            "Usage: /dispute <number> <reason> [what happened]. "
            "It disputes the unsatisfied rating of a request of your department. Reasons:"
        )
    ]
    lines += [f"• {r.code}: {r.name(t.language)}" for r in reasons]
    return "\n".join(lines)


def refused_line(t: Translator, number: str, error: Exception) -> str:
    """Why /dispute or a decision did not happen, in one line."""
    if isinstance(error, StaffNotAuthorized) and error.reason == "department":
        return t.gettext(
            "Only the staff of the department of request {number} may dispute its rating.",
            number=shown(number),
        )
    if not isinstance(error, DisputeRefused):
        return refusal(t, number, error)
    lines = {
        "no_unsatisfied": t.gettext(
            "Request {number} has no unsatisfied rating to dispute.", number=shown(number)
        ),
        "exists": t.gettext(
            "The rating of request {number} is already disputed: a rating is disputed once.",
            number=shown(number),
        ),
        "not_pending": t.gettext(
            "No dispute of request {number} is waiting for a decision.", number=shown(number)
        ),
        "own": t.gettext("You filed this dispute: another supervisor decides it."),
    }
    return lines[error.why]


async def on_dispute(update: Update, context: MinshengContext) -> None:
    """/dispute <number> <reason> [text]: the department disputes an unsatisfied rating."""
    _, t = await who(update, context)
    args, reasons = list(context.args or []), context.services.dispute_reasons
    if len(args) < 2:
        await usage_or_denied(update, context, t, usage(t, reasons))
        return
    number, code, text = args[0], args[1].lower(), " ".join(args[2:])
    if len(text) > TEXT_MAX:
        await send(update, context, too_long(t, len(text), TEXT_MAX))
        return
    settings = context.services.settings
    try:
        await file_dispute(
            number,
            code,
            text,
            reasons={r.code: r.names for r in reasons},
            **stamp(context, update),
            staff_chat_id=settings.staff_chat_id,
        )
    except DisputeReasonUnknown:
        await send(update, context, usage(t, reasons))
        return
    except (StaffNotAuthorized, CaseNotFound, DisputeRefused) as refused:
        await send(update, context, refused_line(t, number, refused))
        return
    except CaseChangedMeanwhile as changed:  # another /dispute (or action) came first
        await send(update, context, refusal(t, number, changed))
        return
    await send(
        update,
        context,
        t.gettext(
            "The rating of request {number} is disputed; a supervisor will decide.",
            number=shown(number),
        ),
    )


def decision_buttons(tracking: str, t: Translator) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(t.gettext("Grant"), callback_data=f"dsp:g:{tracking}"),
                InlineKeyboardButton(t.gettext("Refuse"), callback_data=f"dsp:r:{tracking}"),
            ]
        ]
    )


async def dispute_line(view: DisputeView, reasons: dict[str, str], t: Translator) -> str:
    department = await department_name(view.department_code, t)
    reason = reasons.get(view.reason, view.reason)
    return f"{shown(view.tracking)} · {department} · {reason}"


async def on_disputes(update: Update, context: MinshengContext) -> None:
    """/disputes: the disputes waiting for a decision in the caller's reach, with buttons."""
    _, t = await who(update, context)
    try:
        waiting = await disputes_waiting_for(user_of(update).id, now=context.services.clock.now())
    except StaffNotAuthorized:
        await send(update, context, not_allowed(t))
        return
    if await scope_kept_out(update, context, t):
        return
    names = {r.code: r.name(t.language) for r in context.services.dispute_reasons}
    if not waiting:
        await send(update, context, t.gettext("No dispute is waiting for a decision."))
        return
    head = t.ngettext(
        "{count} dispute is waiting for a decision:",
        "{count} disputes are waiting for a decision:",
        len(waiting),
        count=len(waiting),
    )
    for view in waiting[:LISTED]:
        head += "\n" + await dispute_line(view, names, t)
    rows = [
        [
            InlineKeyboardButton(
                t.gettext("Grant {number}", number=shown(v.tracking)),
                callback_data=f"dsp:g:{v.tracking}",
            ),
            InlineKeyboardButton(t.gettext("Refuse"), callback_data=f"dsp:r:{v.tracking}"),
        ]
        for v in waiting[:LISTED]
    ]
    await send(update, context, head, markup=InlineKeyboardMarkup(rows))


async def on_decide_button(update: Update, context: MinshengContext) -> None:
    """Grant or Refuse pressed on a dispute card (or the /disputes list)."""
    if (got := await pressed(update, context, DECIDE_PATTERN)) is None:
        return
    found, t = got
    grant, number = found.group(1) == "g", found.group(2)
    try:
        await decide_dispute(
            number,
            grant,
            **stamp(context, update),
            staff_chat_id=context.services.settings.staff_chat_id,
        )
    except (StaffNotAuthorized, CaseNotFound):
        await answer_button(update, context, not_allowed(t))
        return
    except DisputeRefused as refused:
        await answer_button(update, context, refused_line(t, number, refused))
        return
    await answer_button(update, context)
    done = (
        t.gettext("Granted: the rating of {number} no longer counts.", number=shown(number))
        if grant
        else t.gettext("Refused: the rating of {number} counts.", number=shown(number))
    )
    await mark_pressed(update, context, done)


async def render_staff_dispute_filed(params: dict[str, Any], t: Translator) -> Rendered:
    """ "staff_dispute_filed" {tracking, department, reason, names, text}: with Grant and
    Refuse for the supervisors while it waits."""
    tracking = str(params["tracking"])
    names = params.get("names") or {}
    reason = str(names.get(t.language) or names.get("en") or params["reason"])
    text = t.gettext(
        "{department} disputes the unsatisfied rating of request {number}. Reason: {reason}",
        department=await department_name(params.get("department"), t),
        number=shown(tracking),
        reason=reason,
    )
    if params.get("text"):
        text += "\n" + str(params["text"])
    if not await dispute_pending(tracking):  # decided before the card went out
        return Rendered("sendMessage", {"text": text})
    markup = decision_buttons(tracking, t).to_dict()
    return Rendered("sendMessage", {"text": text, "reply_markup": markup})


async def render_staff_dispute_decided(params: dict[str, Any], t: Translator) -> Rendered:
    """ "staff_dispute_decided" {tracking, department, status}: granted or refused."""
    facts = {
        "department": await department_name(params.get("department"), t),
        "number": shown(str(params["tracking"])),
    }
    if params.get("status") == "granted":
        text = t.gettext(
            "Dispute granted: the rating of request {number} no longer counts in the figures "
            "of {department}.",
            **facts,
        )
    else:
        text = t.gettext(
            "Dispute refused: the rating of request {number} counts in the figures of "
            "{department}.",
            **facts,
        )
    return Rendered("sendMessage", {"text": text})


def handlers(app: MinshengApp) -> list[Any]:
    """/dispute, /disputes and the decision buttons, for register()."""
    staff = staff_filter(app)
    return [
        CommandHandler("dispute", on_dispute, filters=staff),
        CommandHandler("disputes", on_disputes, filters=staff),
        ButtonHandler(on_decide_button, pattern=DECIDE_PATTERN),
    ]
