"""Staff working cases: the new-case card's Accept and Reject buttons, `/case`, `/reject`.

Every button and command is authorized again in storage (a button's existence proves nothing:
its data comes from the client), so a forged or stale press changes nothing. Two staff members
pressing at once: the first wins, the other is told the request was already handled.

    card ──Accept──▶ departments ──dept──▶ accepted (card edited, citizen told)
      │                   └──« Back──▶ card      (a level at a time: handlers.staff_departments)
      └──Reject──▶ reasons ──reason──▶ rejected (card edited, citizen told)
                      └──Other──▶ "type /reject <number> <reason>"
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CommandHandler

from bot.context import MinshengApp, MinshengContext
from bot.i18n import SOURCE, Translator
from bot.texts.cases import department_name, staff_card, when
from bot.texts.reply_templates import auto_reply_text
from bot.texts.timeline import routing_lines, staff_status_name, timeline_lines
from handlers.buttons import (
    NUMBER_GROUP,
    ButtonHandler,
    edit_markup,
    on_expired_button,
    reasons_keyboard,
)
from handlers.common import answer_button, call, chat_of, send, topic_of, user_of, who
from handlers.rendered import Rendered, notice_default_language, notice_zone
from handlers.staff_departments import GROUP_PATTERN, department_keyboard
from handlers.staff_kit import (
    acted,
    allowed,
    kept_out,
    mark_card,
    not_allowed,
    pressed,
    staff_filter,
    usage_or_denied,
)
from storage.case_views import CaseNotFound, CaseView
from storage.cases import audit_trail, case_by_tracking
from storage.catalog import departments
from storage.lifecycle import (
    CaseChangedMeanwhile,
    TransitionRefused,
    accept_case,
    reject_case,
)
from storage.notice_queue import NOTICE_METHOD
from storage.staff import StaffAction, StaffNotAuthorized, authorize
from storage.tracking import format_tracking_number

COMMANDS = ("case", "reject")

# Callback data, matched whole; at most 7 + 12 + 1 + 9 bytes, well under Telegram's 64.
ACCEPT_PATTERN = re.compile(rf"^st:acc:{NUMBER_GROUP}\Z")
REJECT_PATTERN = re.compile(rf"^st:rej:{NUMBER_GROUP}\Z")
BACK_PATTERN = re.compile(rf"^st:back:{NUMBER_GROUP}\Z")
DEPARTMENT_PATTERN = re.compile(rf"^st:dep:{NUMBER_GROUP}:(\d{{1,9}})\Z")
REASON_PATTERN = re.compile(rf"^st:rsn:{NUMBER_GROUP}:(remit|dup|info|other)\Z")


def standard_reasons(t: Translator) -> dict[str, str]:
    return {
        "remit": t.gettext("Not within the desk's remit"),
        "dup": t.gettext("A duplicate of another request"),
        "info": t.gettext("Not enough information to act on"),
    }


def card_keyboard(tracking: str, t: Translator, *, proposed: bool = False) -> InlineKeyboardMarkup:
    """The new-case card's actions (Details: handlers.staff_details); with `proposed`, first a
    one-tap Accept as proposed (handlers.staff_proposal)."""
    label, data = t.gettext("Accept as proposed"), f"st:ok:{tracking}"
    one_tap = InlineKeyboardButton(label, callback_data=data)
    return InlineKeyboardMarkup(
        [
            *([[one_tap]] if proposed else []),
            [
                InlineKeyboardButton(t.gettext("Accept"), callback_data=f"st:acc:{tracking}"),
                InlineKeyboardButton(t.gettext("Reject"), callback_data=f"st:rej:{tracking}"),
                InlineKeyboardButton(t.gettext("Details"), callback_data=f"st:det:{tracking}"),
            ],
        ]
    )


def details_keyboard(tracking: str, t: Translator) -> InlineKeyboardMarkup:
    """What a new-case card keeps once the case has moved on: its Details."""
    details = InlineKeyboardButton(t.gettext("Details"), callback_data=f"st:det:{tracking}")
    return InlineKeyboardMarkup([[details]])


def back(tracking: str, t: Translator) -> list[InlineKeyboardButton]:
    return [InlineKeyboardButton(t.gettext("« Back"), callback_data=f"st:back:{tracking}")]


def reason_keyboard(tracking: str, t: Translator) -> InlineKeyboardMarkup:
    return reasons_keyboard(
        standard_reasons(t), t, reason_data=f"st:rsn:{tracking}:", back_data=f"st:back:{tracking}"
    )


async def on_accept(update: Update, context: MinshengContext) -> None:
    """Accept pressed: offer the departments to route the case to."""
    if (got := await pressed(update, context, ACCEPT_PATTERN)) is None:
        return
    found, t = got
    tracking = found.group(1)
    if (case := await allowed(update, context, StaffAction.ACCEPT, tracking, t)) is not None:
        await answer_button(update, context)
        await edit_markup(update, context, await department_keyboard(case, t))


async def on_department_group(update: Update, context: MinshengContext) -> None:
    """A level of departments opened, or another page of one: the chooser shows it."""
    if (got := await pressed(update, context, GROUP_PATTERN)) is None:
        return
    found, t = got
    tracking, level, page = found.group(1), int(found.group(2)), int(found.group(3))
    if (case := await allowed(update, context, StaffAction.ACCEPT, tracking, t)) is not None:
        await answer_button(update, context)
        await edit_markup(update, context, await department_keyboard(case, t, level, page))


async def on_reject(update: Update, context: MinshengContext) -> None:
    """Reject pressed: offer the standard reasons."""
    if (got := await pressed(update, context, REJECT_PATTERN)) is None:
        return
    found, t = got
    tracking = found.group(1)
    if await allowed(update, context, StaffAction.REJECT, tracking, t) is not None:
        await answer_button(update, context)
        await edit_markup(update, context, reason_keyboard(tracking, t))


async def on_back(update: Update, context: MinshengContext) -> None:
    """Back pressed: the card's own buttons again."""
    if (got := await pressed(update, context, BACK_PATTERN)) is None:
        return
    found, t = got
    if (case := await allowed(update, context, StaffAction.REJECT, found.group(1), t)) is not None:
        await answer_button(update, context)
        proposed = case.proposed_department_code is not None
        await edit_markup(update, context, card_keyboard(case.tracking, t, proposed=proposed))


async def on_department(update: Update, context: MinshengContext) -> None:
    """A department pressed: accept the case into it and mark the card."""
    if (got := await pressed(update, context, DEPARTMENT_PATTERN)) is None:
        return
    found, t = got
    tracking, dept_id = found.group(1), int(found.group(2))
    code = next((d.code for d in await departments() if d.id == dept_id), None)
    if code is None:
        await on_expired_button(update, context)
        return
    settings, now = context.services.settings, context.services.clock.now()
    act = accept_case(
        tracking,
        code,
        by=user_of(update).id,
        now=now,
        zone=settings.zone,
        sign_hours=settings.sign_limit_hours,
        staff_chat_id=settings.staff_chat_id,
        calendar=context.services.calendar,
    )
    if (case := await acted(update, context, act, t)) is not None:
        done = t.gettext(
            "Accepted by {name} → {department}",
            name=user_of(update).first_name,
            department=await department_name(code, t),
        )
        await mark_card(update, context, case, t, done)


async def on_reason(update: Update, context: MinshengContext) -> None:
    """A reason pressed: reject the case with it (or explain how to type one)."""
    if (got := await pressed(update, context, REASON_PATTERN)) is None:
        return
    found, t = got
    tracking, code = found.group(1), found.group(2)
    if code == "other":
        shown = format_tracking_number(tracking)
        await answer_button(
            update,
            context,
            t.gettext("Send /reject {number} followed by the reason.", number=shown),
        )
        return
    reason = standard_reasons(SOURCE)[code]
    act = reject_case(tracking, reason, by=user_of(update).id, now=context.services.clock.now())
    if (case := await acted(update, context, act, t)) is not None:
        done = t.gettext(
            "Rejected by {name}: {reason}",
            name=user_of(update).first_name,
            reason=standard_reasons(t)[code],
        )
        await mark_card(update, context, case, t, done)


async def on_case(update: Update, context: MinshengContext) -> None:
    """Show staff a case: its card, the full timeline with who did what, and its photos."""
    _, t = await who(update, context)
    tracking = (context.args or [""])[0]
    try:
        await authorize(
            user_of(update).id, StaffAction.VIEW, tracking, now=context.services.clock.now()
        )
        case = await case_by_tracking(tracking)
    except (StaffNotAuthorized, CaseNotFound):
        await send(update, context, not_allowed(t))
        return
    if await kept_out(update, context, t, case.tracking):  # another department's, in a
        return  # department's own chat
    await send_details(update, context, case, t, chat_of(update).id)


async def timeline_card(case: CaseView, t: Translator, context: MinshengContext) -> str:
    zone = context.services.settings.zone
    lines = [
        await staff_card(case, t, zone, maps=context.services.settings.map_links),
        t.gettext("Status: {status}", status=staff_status_name(t, case.status)),
        *await routing_lines(case.tracking, t, zone),
        "",
        t.gettext("Timeline:"),
    ]
    # Every event in words (bot.texts.timeline), internal notes included.
    lines += await timeline_lines(t, case, await audit_trail(case.tracking), zone)
    return "\n".join(lines)[:4096]


async def send_details(
    update: Update, context: MinshengContext, case: CaseView, t: Translator, chat_id: int
) -> None:
    """A case's details into a chat: the card and timeline, then its photos (an album); in the
    forum topic they were asked from, when asked from that chat."""
    await send(update, context, await timeline_card(case, t, context), chat_id=chat_id)
    if case.photos:
        photos: dict[str, Any] = {
            "kind": "staff_case_photos",
            "params": {"tracking": case.tracking},
        }
        topic = topic_of(update) if chat_id == chat_of(update).id else None
        if topic is not None:  # the notice's topic (bot.notice_rendering)
            photos["thread"] = topic
        await call(update, context, NOTICE_METHOD, {"chat_id": chat_id, **photos})


async def on_reject_command(update: Update, context: MinshengContext) -> None:
    """Reject a case with a typed reason: /reject <number> <reason>."""
    _, t = await who(update, context)
    args = list(context.args or [])
    if len(args) < 2:
        await usage_or_denied(update, context, t, t.gettext("Usage: /reject <number> <reason>"))
        return
    try:
        case = await reject_case(
            args[0], " ".join(args[1:]), by=user_of(update).id, now=context.services.clock.now()
        )
    except (StaffNotAuthorized, CaseNotFound):
        await send(update, context, not_allowed(t))
        return
    except (TransitionRefused, CaseChangedMeanwhile):
        await send(update, context, t.gettext("This request was already handled."))
        return
    number = format_tracking_number(case.tracking)
    await send(update, context, t.gettext("Request {number} was rejected.", number=number))


def handlers(app: MinshengApp) -> list[Any]:
    """The staff case commands and the card's buttons, for register()."""
    staff = staff_filter(app)
    return [
        CommandHandler("case", on_case, filters=staff),
        CommandHandler("reject", on_reject_command, filters=staff),
        ButtonHandler(on_accept, pattern=ACCEPT_PATTERN),
        ButtonHandler(on_reject, pattern=REJECT_PATTERN),
        ButtonHandler(on_back, pattern=BACK_PATTERN),
        ButtonHandler(on_department, pattern=DEPARTMENT_PATTERN),
        ButtonHandler(on_department_group, pattern=GROUP_PATTERN),
        ButtonHandler(on_reason, pattern=REASON_PATTERN),
    ]


# -- Notice renderers for the citizen (storage sends the facts; text is made at send time) --


async def render_case_accepted(params: dict[str, Any], t: Translator) -> Rendered:
    """ "case_accepted" {tracking, department, due_at}: where the case went, and by when;
    with `auto_reply`, the category's automatic first reply instead (its template filled in)."""
    auto = await auto_reply_text(params, t.language, notice_default_language(), notice_zone())
    if auto is not None:
        return Rendered("sendMessage", {"text": auto})
    number = format_tracking_number(str(params["tracking"]))
    department = await department_name(params.get("department"), t)
    lines = [
        t.gettext(
            "Your request {number} was accepted and passed to {department}.",
            number=number,
            department=department,
        )
    ]
    if params.get("due_at"):
        due = when(datetime.fromisoformat(str(params["due_at"])), notice_zone(), t.language)
        lines.append(t.gettext("An answer is due by {due}.", due=due))
    return Rendered("sendMessage", {"text": "\n".join(lines)})


async def render_case_rejected(params: dict[str, Any], t: Translator) -> Rendered:
    """ "case_rejected" {tracking, reason}: the case was declined, and why."""
    number = format_tracking_number(str(params["tracking"]))
    reason = str(params["reason"])
    known = {english: code for code, english in standard_reasons(SOURCE).items()}
    shown = standard_reasons(t)[known[reason]] if reason in known else reason
    return Rendered(
        "sendMessage",
        {
            "text": t.gettext(
                "Your request {number} was not accepted. Reason: {reason}",
                number=number,
                reason=shown,
            )
        },
    )
