"""A case's handler within its department (承办人): `/take`, `/give`, and the handler's own
private notices (given a case, reminded of its due date, told of its escalation).

Storage decides (storage.case_handler): who may take or give, to whom, and when the new
handler is told. `/give <number> <user id>` names the colleague by id, or, sent as a reply to
one of their messages in the staff chat, `/give <number>` names the sender of that message.
"""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime
from typing import Any

from telegram import Update
from telegram.ext import CommandHandler

from bot.context import MinshengApp, MinshengContext
from bot.i18n import Translator
from bot.texts.case_handler import handler_label
from bot.texts.cases import department_name, when
from bot.texts.handler_refusals import handler_refusal, not_ours, not_worked
from bot.texts.refusals import CASE_REFUSALS, not_allowed, refusal, shown
from handlers.buttons import ButtonHandler, pressed_keyboard
from handlers.common import answer_button, send, user_of, who
from handlers.rendered import Rendered, notice_zone
from handlers.staff_kit import (
    TAKE_PATTERN,
    mark_pressed,
    pressed,
    staff_filter,
    stamp,
    usage_or_denied,
)
from storage.case_handler import Handed, HandlerRefused, give_case, person, take_case
from storage.lifecycle import CaseChangedMeanwhile, TransitionRefused
from storage.staff import StaffNotAuthorized
from storage.tracking import format_tracking_number

COMMANDS = ("take", "give")


async def on_take(update: Update, context: MinshengContext) -> None:
    """/take <number>: the staff member becomes the case's handler."""
    _, t = await who(update, context)
    args = list(context.args or [])
    if len(args) != 1:
        await usage_or_denied(update, context, t, t.gettext("Usage: /take <number>"))
        return
    number = args[0]
    done = await handed(t, number, take_case(number, **stamp(context, update)), mine=True)
    await send(update, context, done if isinstance(done, str) else taken(t, number))


def taken(t: Translator, number: str) -> str:
    return t.gettext("You now handle request {number}.", number=shown(number))


async def on_take_button(update: Update, context: MinshengContext) -> None:
    """Take pressed under a routing notice: the presser handles the case; the notice says so."""
    # Its buttons stay: a later press is told who holds the case.
    if (got := await pressed(update, context, TAKE_PATTERN)) is None:
        return
    found, t = got
    number = found.group(1)
    done = await handed(t, number, take_case(number, **stamp(context, update)), mine=True)
    if isinstance(done, str):
        await answer_button(update, context, done)
        return
    await answer_button(update, context, taken(t, number))
    by = t.gettext("Taken by {name}", name=user_of(update).first_name)
    await mark_pressed(update, context, by, reply_markup=pressed_keyboard())


def colleague_of(update: Update, args: list[str]) -> int | None:
    """Whom /give names: a user id after the number, or the sender of the replied-to message."""
    if len(args) == 2 and args[1].isdigit() and len(args[1]) <= 15:
        return int(args[1])
    message = update.effective_message
    replied = message.reply_to_message if message is not None else None
    sender = replied.from_user if replied is not None else None
    if len(args) == 1 and sender is not None and not sender.is_bot:
        return sender.id
    return None


async def on_give(update: Update, context: MinshengContext) -> None:
    """/give <number> <user id>: a colleague of the case's department becomes its handler."""
    _, t = await who(update, context)
    args = list(context.args or [])
    to = colleague_of(update, args) if 1 <= len(args) <= 2 else None
    if to is None:
        usage = t.gettext(
            "Usage: /give <number> <user id>, or /give <number> in reply to a message of the "
            "colleague. The desk knows staff by their Telegram user id, not by @username."
        )
        await usage_or_denied(update, context, t, usage)
        return
    number = args[0]
    act = give_case(number, to, **stamp(context, update))
    done = await handed(t, number, act, mine=to == user_of(update).id)
    if isinstance(done, str):
        await send(update, context, done)
        return
    await send(update, context, given(t, number, done, mine=to == user_of(update).id))


def given(t: Translator, number: str, done: Handed, *, mine: bool) -> str:
    """/give's answer. Whether a private message reaches the colleague, the bot cannot know (a
    bot writes only to those who opened a private chat with it): it says only what it knows."""
    if mine:
        return taken(t, number)
    values = {"handler": handler_label(t, done.handler), "number": shown(number)}
    if done.told:
        return t.gettext(
            "{handler} now handles request {number}. They are told in a private chat if they "
            "have one with the bot.",
            **values,
        )
    return t.gettext(
        "{handler} now handles request {number}. The bot cannot reach them privately (they "
        "never wrote to it, or its last message was refused), so please tell them yourself.",
        **values,
    )


async def handed(
    t: Translator, number: str, act: Awaitable[Handed], *, mine: bool
) -> Handed | str:
    """Run /take's or /give's operation; what it did, or the one line saying why it did not
    (`mine`: the person to handle the case is the one asking)."""
    try:
        return await act
    except HandlerRefused as refused:
        holder = await person(refused.holder) if refused.holder is not None else None
        return await handler_refusal(t, number, refused, holder, mine)
    except StaffNotAuthorized as denied:
        return not_ours(t, number, denied) or not_allowed(t)
    except CaseChangedMeanwhile as changed:
        return refusal(t, number, changed)
    except TransitionRefused as refused:
        return not_worked(t, number, refused.status)
    except CASE_REFUSALS as refused:
        return refusal(t, number, refused)


def handlers(app: MinshengApp) -> list[Any]:
    """/take, /give and the routing notice's Take, for register()."""
    staff = staff_filter(app)
    return [
        CommandHandler("take", on_take, filters=staff),
        CommandHandler("give", on_give, filters=staff),
        ButtonHandler(on_take_button, pattern=TAKE_PATTERN),
    ]


# -- The handler's private notices (storage sends the facts; the text is made at send time) --


def _number(params: dict[str, Any]) -> str:
    return format_tracking_number(str(params["tracking"]))


def _due(params: dict[str, Any], t: Translator) -> str:
    return when(datetime.fromisoformat(str(params["due_at"])), notice_zone(), t.language)


async def render_staff_handler_given(params: dict[str, Any], t: Translator) -> Rendered:
    """ "staff_handler_given" {tracking, by, department}: a colleague made you the handler."""
    text = t.gettext(
        "Staff member {by} made you the handler of request {number} ({department}). "
        "See it with /case {number}.",
        by=int(params["by"]),
        number=_number(params),
        department=await department_name(params.get("department"), t),
    )
    return Rendered("sendMessage", {"text": text})


async def render_staff_handler_reminder(params: dict[str, Any], t: Translator) -> Rendered:
    """ "staff_handler_reminder" {tracking, department, due_at}: 75 % of the time has passed."""
    text = t.gettext(
        "Reminder: request {number}, which you handle, must be answered by {due}.",
        number=_number(params),
        due=_due(params, t),
    )
    return Rendered("sendMessage", {"text": text})


async def render_staff_handler_escalated(params: dict[str, Any], t: Translator) -> Rendered:
    """ "staff_handler_escalated" {tracking, department, due_at}: past due, escalated (督办)."""
    text = t.gettext(
        "Request {number}, which you handle, was due by {due} and is not answered: it was "
        "escalated to the supervisors.",
        number=_number(params),
        due=_due(params, t),
    )
    return Rendered("sendMessage", {"text": text})
