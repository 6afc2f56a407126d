"""Staff working a case by command: /transfer, /reply, /ask, /close, /merge, /reopen, and the
review gate's /approve and /return (its buttons are in handlers.staff_review).

A handler only parses the command, calls the storage operation (which authorizes the staff
member and checks the move) and words the outcome in one line, in the staff member's language:
done, not allowed, not possible in the case's state, changed meanwhile, not found, or usage.
A submitted reply goes to review (handlers.staff_review puts its card in the staff chat), or
straight to the citizen when storage finds no review is needed (a department without review, a
supervisor's or admin's own reply). What marks a reply as perfunctory for its reviewer is set in
the settings (MINSHENG_PERFUNCTORY_MIN_CHARS, MINSHENG_PERFUNCTORY_PHRASES).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import CommandHandler

from bot.context import MinshengApp, MinshengContext
from bot.i18n import Translator
from handlers.common import send, user_of, who
from handlers.staff_admin import not_allowed, staff_filter
from handlers.staff_outcomes import CASE_REFUSALS, refusal, shown
from handlers.staff_review import send_review_card
from storage.catalog import DepartmentNotFound
from storage.lifecycle import (
    ReplyView,
    approve_reply,
    ask_citizen,
    close_case,
    merge_case,
    reopen_case,
    return_reply,
    submit_reply,
    transfer_case,
)
from storage.staff import StaffAction, StaffNotAuthorized, authorize, staff_member

COMMANDS = ("transfer", "reply", "ask", "close", "merge", "reopen", "approve", "return")


async def outcome(
    update: Update,
    context: MinshengContext,
    t: Translator,
    number: str,
    act: Callable[[], Awaitable[Any]],
    done: Callable[[Any], str],
) -> Any:
    """Run a lifecycle operation and answer in one line, whatever happened; its result or None."""
    try:
        result = await act()
    except CASE_REFUSALS as refused:
        await send(update, context, refusal(t, number, refused))
        return None
    await send(update, context, done(result))
    return result


async def usage_or_denied(
    update: Update, context: MinshengContext, t: Translator, text: str
) -> None:
    """A malformed command: its usage for staff, the one not-allowed line for anyone else."""
    member = await staff_member(user_of(update).id)
    await send(update, context, text if member is not None else not_allowed(t))


def parsed(context: MinshengContext, count: int) -> list[str] | None:
    """The first `count - 1` words and the rest as one text (or just one word); None if too few."""
    args = list(context.args or [])
    if len(args) < count:
        return None
    if count == 1:
        return args[:1]
    return [*args[: count - 1], " ".join(args[count - 1 :])]


def stamp(context: MinshengContext, update: Update) -> dict[str, Any]:
    return {"by": user_of(update).id, "now": context.services.clock.now()}


async def on_transfer(update: Update, context: MinshengContext) -> None:
    """/transfer <number> <department code> <reason>: to another department (counted)."""
    _, t = await who(update, context)
    if (args := parsed(context, 3)) is None:
        await usage_or_denied(
            update, context, t, t.gettext("Usage: /transfer <number> <department code> <reason>")
        )
        return
    number, code, reason = args
    settings = context.services.settings  # the new department signs for it afresh
    try:
        await outcome(
            update,
            context,
            t,
            number,
            lambda: transfer_case(
                number,
                code,
                reason,
                **stamp(context, update),
                sign_hours=settings.sign_limit_hours,
                staff_chat_id=settings.staff_chat_id,
            ),
            lambda case: t.gettext(
                "Request {number} was transferred to {department}.",
                number=shown(case.tracking),
                department=code,
            ),
        )
    except DepartmentNotFound:
        await no_such_department(update, context, t, number, code, StaffAction.TRANSFER)


async def on_reply(update: Update, context: MinshengContext) -> None:
    """/reply <number> <text>: a reply to the citizen, sent to review first."""
    _, t = await who(update, context)
    if (args := parsed(context, 2)) is None:
        await usage_or_denied(update, context, t, t.gettext("Usage: /reply <number> <text>"))
        return
    await submit(update, context, t, *args)


async def submit(
    update: Update, context: MinshengContext, t: Translator, number: str, text: str
) -> None:
    """Submit a reply: for review (its card goes to the staff chat), or to the citizen at once."""
    settings = context.services.settings
    reply = await outcome(
        update,
        context,
        t,
        number,
        lambda: submit_reply(
            number,
            text,
            **stamp(context, update),
            min_length=settings.perfunctory_min_chars,
            perfunctory_phrases=settings.perfunctory_phrases,
        ),
        lambda reply: submitted(reply, t),
    )
    if reply is not None and reply.awaits_review:
        await send_review_card(update, context, reply, settings.perfunctory_min_chars)


def submitted(reply: ReplyView, t: Translator) -> str:
    """What the author of a reply is told: where it went."""
    if reply.awaits_review:
        return t.gettext(
            "Your reply to {number} was sent for review.", number=shown(reply.tracking)
        )
    return t.gettext(
        "Your reply to {number} was sent to the citizen.", number=shown(reply.tracking)
    )


async def on_ask(update: Update, context: MinshengContext) -> None:
    """/ask <number> <question>: ask the citizen for more; the case awaits their answer."""
    _, t = await who(update, context)
    if (args := parsed(context, 2)) is None:
        await usage_or_denied(update, context, t, t.gettext("Usage: /ask <number> <question>"))
        return
    number, question = args
    await outcome(
        update,
        context,
        t,
        number,
        lambda: ask_citizen(number, question, **stamp(context, update)),
        lambda case: t.gettext(
            "Your question on {number} was sent to the citizen.", number=shown(case.tracking)
        ),
    )


async def on_close(update: Update, context: MinshengContext) -> None:
    """/close <number>: close an answered case."""
    _, t = await who(update, context)
    if (args := parsed(context, 1)) is None:
        await usage_or_denied(update, context, t, t.gettext("Usage: /close <number>"))
        return
    number = args[0]
    await outcome(
        update,
        context,
        t,
        number,
        lambda: close_case(number, **stamp(context, update)),
        lambda case: t.gettext("Request {number} was closed.", number=shown(case.tracking)),
    )


async def on_merge(update: Update, context: MinshengContext) -> None:
    """/merge <number> <into>: merge a duplicate into an open case."""
    _, t = await who(update, context)
    args = list(context.args or [])
    if len(args) != 2:
        await usage_or_denied(update, context, t, t.gettext("Usage: /merge <number> <into>"))
        return
    number, into = args
    await outcome(
        update,
        context,
        t,
        number,
        lambda: merge_case(number, into, **stamp(context, update)),
        lambda case: t.gettext(
            "Request {number} was merged into {into}.",
            number=shown(case.tracking),
            into=shown(into),
        ),
    )


async def on_reopen(update: Update, context: MinshengContext) -> None:
    """/reopen <number>: reopen an answered or closed case in its department."""
    _, t = await who(update, context)
    if (args := parsed(context, 1)) is None:
        await usage_or_denied(update, context, t, t.gettext("Usage: /reopen <number>"))
        return
    number = args[0]
    await outcome(
        update,
        context,
        t,
        number,
        lambda: reopen_case(number, **stamp(context, update)),
        lambda case: t.gettext("Request {number} was reopened.", number=shown(case.tracking)),
    )


async def on_approve(update: Update, context: MinshengContext) -> None:
    """/approve <number>: pass the reply waiting for review; the citizen gets it."""
    _, t = await who(update, context)
    if (args := parsed(context, 1)) is None:
        await usage_or_denied(update, context, t, t.gettext("Usage: /approve <number>"))
        return
    number = args[0]
    await outcome(
        update,
        context,
        t,
        number,
        lambda: approve_reply(number, **stamp(context, update)),
        lambda case: t.gettext(
            "The reply to {number} was approved and sent to the citizen.",
            number=shown(case.tracking),
        ),
    )


async def on_return(update: Update, context: MinshengContext) -> None:
    """/return <number> <reason>: send the reply waiting for review back to its handler."""
    _, t = await who(update, context)
    if (args := parsed(context, 2)) is None:
        await usage_or_denied(update, context, t, t.gettext("Usage: /return <number> <reason>"))
        return
    number, reason = args
    await outcome(
        update,
        context,
        t,
        number,
        lambda: return_reply(number, reason, **stamp(context, update)),
        lambda case: t.gettext(
            "The reply to {number} was returned to its handler.", number=shown(case.tracking)
        ),
    )


def handlers(app: MinshengApp) -> list[Any]:
    """The staff work commands, for register()."""
    staff = staff_filter(app)
    return [
        CommandHandler("transfer", on_transfer, filters=staff),
        CommandHandler("reply", on_reply, filters=staff),
        CommandHandler("ask", on_ask, filters=staff),
        CommandHandler("close", on_close, filters=staff),
        CommandHandler("merge", on_merge, filters=staff),
        CommandHandler("reopen", on_reopen, filters=staff),
        CommandHandler("approve", on_approve, filters=staff),
        CommandHandler("return", on_return, filters=staff),
    ]


async def no_such_department(
    update: Update,
    context: MinshengContext,
    t: Translator,
    number: str,
    code: str,
    action: StaffAction,
) -> None:
    """Storage looks the department up before the person: say "no such department" only to
    those allowed to act on the case, so a citizen learns nothing of the department codes."""
    try:
        await authorize(user_of(update).id, action, number, now=context.services.clock.now())
    except (StaffNotAuthorized, LookupError):
        await send(update, context, not_allowed(t))
        return
    await send(
        update,
        context,
        t.gettext("There is no active department with the code {code}.", code=code),
    )
