"""Routing like a hotline, for staff: `/sign`, `/sendback` (退单), `/cohandle`, the buttons of
the staff chat's routing notice (Sign for · Send back; its text: handlers.routing_notices), and
the routing lines of `/case`.

Storage decides (storage.routing): who may sign or send back (the lead department), who may
add a co-handling department (supervisors), and what the staff chat is told. A returned case
comes back to the staff chat with the new-case card's Accept · Reject buttons, so supervisors
route it again the way they route a new one (handlers.staff_cases).

    routed ──Sign for──▶ signed (notice edited: Send back stays)
       └────Send back──▶ reasons ──reason──▶ submitted again (staff chat: Accept · Reject)
                            ├──Other──▶ "type /sendback <number> <reason>"
                            └──« Back──▶ Sign for · Send back
"""

from __future__ import annotations

import re
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CommandHandler

from bot.context import MinshengApp, MinshengContext
from bot.i18n import SOURCE, Translator
from handlers.buttons import NUMBER_GROUP, ButtonHandler, edit_markup, reasons_keyboard
from handlers.common import answer_button, send, user_of, who
from handlers.staff_kit import (
    acted,
    arguments,
    mark_pressed,
    no_such_department,
    not_allowed,
    outcome,
    pressed,
    shown,
    staff_filter,
    stamp,
    take_button,
)
from storage.case_views import CaseNotFound
from storage.catalog import DepartmentNotFound
from storage.lifecycle import CaseChangedMeanwhile, TransitionRefused, possible
from storage.routing import (
    AlreadySigned,
    CoHandlingRefused,
    RoutingView,
    co_handle,
    routing_of,
    send_back,
    sign_for,
)
from storage.staff import StaffAction, StaffNotAuthorized, authorize
from storage.tracking import format_tracking_number

COMMANDS = ("sign", "sendback", "cohandle")

# Callback data, matched whole: at most 8 + 12 bytes, well under Telegram's 64.
SIGN_PATTERN = re.compile(rf"^ro:sign:{NUMBER_GROUP}\Z")
SEND_BACK_PATTERN = re.compile(rf"^ro:back:{NUMBER_GROUP}\Z")
REASON_PATTERN = re.compile(rf"^ro:rsn:{NUMBER_GROUP}:(remit|area|other)\Z")
KEYBOARD_PATTERN = re.compile(rf"^ro:kb:{NUMBER_GROUP}\Z")


def send_back_reasons(t: Translator) -> dict[str, str]:
    """The usual reasons a department returns a case (退单), by the code in button data."""
    return {
        "remit": t.gettext("Not within our department's remit"),
        "area": t.gettext("Outside our department's area"),
    }


def reason_keyboard(tracking: str, t: Translator) -> InlineKeyboardMarkup:
    return reasons_keyboard(
        send_back_reasons(t), t, reason_data=f"ro:rsn:{tracking}:", back_data=f"ro:kb:{tracking}"
    )


def routing_keyboard(tracking: str, t: Translator, *, signed: bool) -> InlineKeyboardMarkup:
    """Under the routing notice: Sign for (until signed), Send back, and Take (承办)."""
    row = []
    if not signed:
        row.append(
            InlineKeyboardButton(t.gettext("Sign for"), callback_data=f"ro:sign:{tracking}")
        )
    row.append(InlineKeyboardButton(t.gettext("Send back"), callback_data=f"ro:back:{tracking}"))
    row.append(take_button(tracking, t))
    return InlineKeyboardMarkup([row])


def settings_of(context: MinshengContext) -> dict[str, Any]:
    """What routing operations take from the settings: the staff chat (told), the limit."""
    settings = context.services.settings
    return {"staff_chat_id": settings.staff_chat_id, "sign_hours": settings.sign_limit_hours}


def assigned(t: Translator, number: str, department: str, co: str) -> str:
    """/assign's answer: to which lead department, and which co-handle it (by name)."""
    if not co:
        return t.gettext(
            "Request {number} was assigned to {department}.", number=number, department=department
        )
    return t.gettext(
        "Request {number} was assigned to {department}, with co-handling by {co}.",
        number=number,
        department=department,
        co=co,
    )


async def on_sign(update: Update, context: MinshengContext) -> None:
    """/sign <number>: the lead department signs for a case routed to it (签收)."""
    _, t = await who(update, context)
    usage = t.gettext("Usage: /sign <number>")
    if (args := await arguments(update, context, t, 1, usage, exact=True)) is None:
        return
    number = args[0]

    async def signing() -> RoutingView | None:
        try:
            return await sign_for(number, **stamp(context, update))
        except AlreadySigned:
            return None

    await outcome(
        update,
        context,
        t,
        number,
        signing,
        lambda view: (
            t.gettext("You signed for request {number}.", number=shown(number))
            if view is not None
            else t.gettext("Request {number} was already signed for.", number=shown(number))
        ),
    )


async def on_send_back(update: Update, context: MinshengContext) -> None:
    """/sendback <number> <reason>: return a case as misrouted (退单), to be routed again."""
    _, t = await who(update, context)
    usage = t.gettext("Usage: /sendback <number> <reason>")
    if (args := await arguments(update, context, t, 2, usage)) is None:
        return
    number, reason = args
    chat = context.services.settings.staff_chat_id
    await outcome(
        update,
        context,
        t,
        number,
        lambda: send_back(number, reason, **stamp(context, update), staff_chat_id=chat),
        lambda view: t.gettext(
            "Request {number} was sent back to the supervisors to be routed again.",
            number=shown(view.tracking),
        ),
    )


async def on_co_handle(update: Update, context: MinshengContext) -> None:
    """/cohandle <number> <department code>: add a co-handling department (协办)."""
    _, t = await who(update, context)
    usage = t.gettext("Usage: /cohandle <number> <department code>")
    if (args := await arguments(update, context, t, 2, usage, exact=True)) is None:
        return
    number, code = args
    chat = context.services.settings.staff_chat_id
    try:
        await outcome(
            update,
            context,
            t,
            number,
            lambda: co_handle(number, code, **stamp(context, update), staff_chat_id=chat),
            lambda view: t.gettext(
                "{department} now co-handles request {number}.",
                department=code,
                number=shown(view.tracking),
            ),
        )
    except DepartmentNotFound:
        await no_such_department(update, context, t, number, code, StaffAction.CO_HANDLE)
    except CoHandlingRefused as refused:
        await co_handling_refused(update, context, t, refused)


async def co_handling_refused(
    update: Update,
    context: MinshengContext,
    t: Translator,
    refused: CoHandlingRefused,
    action: StaffAction = StaffAction.CO_HANDLE,
) -> None:
    """A department that leads or co-handles already: said only to those allowed to act (as
    /assign checks the codes before the person, a citizen must learn nothing of them)."""
    try:
        await authorize(
            user_of(update).id, action, refused.tracking, now=context.services.clock.now()
        )
    except (StaffNotAuthorized, LookupError):
        await send(update, context, not_allowed(t))
        return
    await send(
        update,
        context,
        t.gettext(
            "{department} already leads or co-handles request {number}.",
            department=refused.department,
            number=shown(refused.tracking),
        ),
    )


async def on_sign_button(update: Update, context: MinshengContext) -> None:
    """Sign for pressed: sign, and leave only Send back under the notice."""
    if (got := await pressed(update, context, SIGN_PATTERN)) is None:
        return
    found, t = got
    tracking = found.group(1)
    try:
        await sign_for(tracking, by=user_of(update).id, now=context.services.clock.now())
    except AlreadySigned:
        number = format_tracking_number(tracking)
        await answer_button(
            update, context, t.gettext("Request {number} was already signed for.", number=number)
        )
        return
    except (StaffNotAuthorized, CaseNotFound):
        await answer_button(update, context, not_allowed(t))
        return
    except (TransitionRefused, CaseChangedMeanwhile):
        await answer_button(update, context, t.gettext("This request was already handled."))
        return
    await answer_button(update, context)
    done = t.gettext("Signed for by {name}", name=user_of(update).first_name)
    markup = routing_keyboard(tracking, t, signed=True)
    await mark_pressed(update, context, done, reply_markup=markup)


async def may_send_back(
    update: Update, context: MinshengContext, tracking: str, t: Translator
) -> RoutingView | None:
    """The case if the presser may send it back now; else the button is answered, and None."""
    now = context.services.clock.now()
    try:
        await authorize(user_of(update).id, StaffAction.SEND_BACK, tracking, now=now)
        view = await routing_of(tracking)
    except (StaffNotAuthorized, CaseNotFound):
        await answer_button(update, context, not_allowed(t))
        return None
    if not possible(view.status, StaffAction.SEND_BACK):
        await answer_button(update, context, t.gettext("This request was already handled."))
        return None
    return view


async def on_send_back_button(update: Update, context: MinshengContext) -> None:
    """Send back pressed: offer the standard reasons (to those allowed)."""
    if (got := await pressed(update, context, SEND_BACK_PATTERN)) is None:
        return
    found, t = got
    if await may_send_back(update, context, found.group(1), t) is not None:
        await answer_button(update, context)
        await edit_markup(update, context, reason_keyboard(found.group(1), t))


async def on_keyboard_back(update: Update, context: MinshengContext) -> None:
    """« Back pressed under the reasons: the routing notice's own buttons again."""
    if (got := await pressed(update, context, KEYBOARD_PATTERN)) is None:
        return
    found, t = got
    if (view := await may_send_back(update, context, found.group(1), t)) is not None:
        await answer_button(update, context)
        signed = view.signed_at is not None
        await edit_markup(update, context, routing_keyboard(view.tracking, t, signed=signed))


async def on_send_back_reason(update: Update, context: MinshengContext) -> None:
    """A reason pressed: send the case back with it (or explain how to type one)."""
    if (got := await pressed(update, context, REASON_PATTERN)) is None:
        return
    found, t = got
    tracking, code = found.group(1), found.group(2)
    if code == "other":
        await answer_button(
            update,
            context,
            t.gettext(
                "Send /sendback {number} followed by the reason.",
                number=format_tracking_number(tracking),
            ),
        )
        return
    act = send_back(
        tracking,
        send_back_reasons(SOURCE)[code],
        by=user_of(update).id,
        now=context.services.clock.now(),
        staff_chat_id=context.services.settings.staff_chat_id,
    )
    if await acted(update, context, act, t) is not None:
        done = t.gettext(
            "Sent back by {name}: {reason}",
            name=user_of(update).first_name,
            reason=send_back_reasons(t)[code],
        )
        await mark_pressed(update, context, done)


def handlers(app: MinshengApp) -> list[Any]:
    """The routing commands and the routing notice's buttons, for register()."""
    staff = staff_filter(app)
    return [
        CommandHandler("sign", on_sign, filters=staff),
        CommandHandler("sendback", on_send_back, filters=staff),
        CommandHandler("cohandle", on_co_handle, filters=staff),
        ButtonHandler(on_sign_button, pattern=SIGN_PATTERN),
        ButtonHandler(on_send_back_button, pattern=SEND_BACK_PATTERN),
        ButtonHandler(on_send_back_reason, pattern=REASON_PATTERN),
        ButtonHandler(on_keyboard_back, pattern=KEYBOARD_PATTERN),
    ]
