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

from typing import Any

from telegram import Update
from telegram.ext import CommandHandler

from bot.context import MinshengApp, MinshengContext
from handlers.common import who
from handlers.reply_submission import submit
from handlers.staff_kit import (
    arguments,
    no_such_department,
    outcome,
    shown,
    staff_filter,
    stamp,
)
from storage.catalog import DepartmentNotFound
from storage.lifecycle import (
    approve_reply,
    ask_citizen,
    close_case,
    merge_case,
    reopen_case,
    return_reply,
    transfer_case,
)
from storage.staff import StaffAction

COMMANDS = ("transfer", "reply", "ask", "close", "merge", "reopen", "approve", "return")


async def on_transfer(update: Update, context: MinshengContext) -> None:
    """/transfer <number> <department code> <reason>: to another department (counted)."""
    _, t = await who(update, context)
    usage = t.gettext("Usage: /transfer <number> <department code> <reason>")
    if (args := await arguments(update, context, t, 3, usage)) is None:
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
    usage = t.gettext("Usage: /reply <number> <text>")
    if (args := await arguments(update, context, t, 2, usage)) is None:
        return
    await submit(update, context, t, *args)


async def on_ask(update: Update, context: MinshengContext) -> None:
    """/ask <number> <question>: ask the citizen for more; the case awaits their answer."""
    _, t = await who(update, context)
    usage = t.gettext("Usage: /ask <number> <question>")
    if (args := await arguments(update, context, t, 2, usage)) is None:
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
    usage = t.gettext("Usage: /close <number>")
    if (args := await arguments(update, context, t, 1, usage)) is None:
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
    usage = t.gettext("Usage: /merge <number> <into>")
    if (args := await arguments(update, context, t, 2, usage, exact=True)) is None:
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
    usage = t.gettext("Usage: /reopen <number>")
    if (args := await arguments(update, context, t, 1, usage)) is None:
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
    usage = t.gettext("Usage: /approve <number>")
    if (args := await arguments(update, context, t, 1, usage)) is None:
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
    usage = t.gettext("Usage: /return <number> <reason>")
    if (args := await arguments(update, context, t, 2, usage)) is None:
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
