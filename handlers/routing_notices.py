"""The staff chat's routing notices (storage.routing writes the facts; the text is made at
send time, in the reader's language): routed with Sign for · Send back, sent back with the
new-case card's Accept · Reject, a co-handling department added, and a case to route by hand.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.i18n import SOURCE, Translator
from bot.texts.cases import department_name, when
from bot.texts.timeline import names
from handlers.rendered import Rendered, notice_zone
from handlers.staff_cases import card_keyboard
from handlers.staff_routing import routing_keyboard, send_back_reasons
from storage.stale_buttons import ALL, NONE, SIGNED, card_stage
from storage.tracking import format_tracking_number


async def render_staff_case_routed(params: dict[str, Any], t: Translator) -> Rendered:
    """ "staff_case_routed" {tracking, department, co, sign_due_at}: with Sign for · Send back."""
    tracking = str(params["tracking"])
    number = format_tracking_number(tracking)
    lead = await department_name(str(params["department"]), t)
    due = when(datetime.fromisoformat(str(params["sign_due_at"])), notice_zone(), t.language)
    co = [str(code) for code in params.get("co") or ()]
    if co:
        text = t.gettext(
            "Request {number} was routed to {department}, with co-handling by {co}; sign for it "
            "by {due}.",
            number=number,
            department=lead,
            co=await names(co, t),
            due=due,
        )
    else:
        text = t.gettext(
            "Request {number} was routed to {department}; sign for it by {due}.",
            number=number,
            department=lead,
            due=due,
        )
    stage = await card_stage("routed", tracking, params)  # it may have moved on meanwhile
    if stage == NONE:
        return Rendered("sendMessage", {"text": text})
    markup = routing_keyboard(tracking, t, signed=stage == SIGNED).to_dict()
    return Rendered("sendMessage", {"text": text, "reply_markup": markup})


async def render_staff_case_sent_back(params: dict[str, Any], t: Translator) -> Rendered:
    """ "staff_case_sent_back" {tracking, department, reason}: with Accept · Reject again."""
    tracking, reason = str(params["tracking"]), str(params["reason"])
    known = {english: code for code, english in send_back_reasons(SOURCE).items()}
    shown = send_back_reasons(t)[known[reason]] if reason in known else reason
    text = t.gettext(
        "Request {number} was sent back by {department} as misrouted. Reason: {reason}\n"
        "Route it again:",
        number=format_tracking_number(tracking),
        department=await department_name(params.get("department"), t),
        reason=shown,
    )
    if await card_stage("new", tracking, params) != ALL:  # routed again before it went out
        return Rendered("sendMessage", {"text": text})
    markup = card_keyboard(tracking, t).to_dict()
    return Rendered("sendMessage", {"text": text, "reply_markup": markup})


async def render_staff_case_co_handling(params: dict[str, Any], t: Translator) -> Rendered:
    """ "staff_case_co_handling" {tracking, department}: a department joined the case."""
    text = t.gettext(
        "{department} now co-handles request {number}.",
        department=await department_name(str(params["department"]), t),
        number=format_tracking_number(str(params["tracking"])),
    )
    return Rendered("sendMessage", {"text": text})


async def render_staff_case_route_by_hand(params: dict[str, Any], t: Translator) -> Rendered:
    """ "staff_case_route_by_hand" {tracking, count}: passed on too often; a supervisor routes."""
    count = int(params["count"])
    text = t.ngettext(
        "Request {number} has been passed between departments {count} time; a supervisor must "
        "route it by hand.",
        "Request {number} has been passed between departments {count} times; a supervisor must "
        "route it by hand.",
        count,
        number=format_tracking_number(str(params["tracking"])),
        count=count,
    )
    return Rendered("sendMessage", {"text": text})
