"""Staff queues and small staff commands: /queue (with Prev · Next buttons), /note, /assign,
/ban and /unban.

As in handlers.staff_work, a handler parses, calls storage (which authorizes) and answers in
one line in the staff member's language; /queue answers with a page of up to ten lines.
"""

from __future__ import annotations

import re
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CommandHandler

from bot.context import MinshengApp, MinshengContext
from bot.i18n import Translator
from bot.texts.cases import department_name, short_category_name
from bot.texts.timeline import names, staff_status_name
from handlers.buttons import ButtonHandler
from handlers.common import answer_button, call, send, user_of, who
from handlers.staff_kit import (
    arguments,
    no_such_department,
    not_allowed,
    outcome,
    parsed,
    pressed,
    queue_kept_out,
    shown,
    staff_filter,
    stamp,
    usage_or_denied,
)
from handlers.staff_routing import assigned, co_handling_refused, settings_of
from storage.case_views import CitizenNotFound
from storage.catalog import DepartmentNotFound
from storage.lifecycle import accept_case
from storage.queue import QueueFilter, QueuePage, add_note, queue_page, set_blocked
from storage.routing import CoHandlingRefused
from storage.staff import StaffAction, StaffNotAuthorized, StaffRole
from storage.tracking import format_tracking_number

COMMANDS = ("queue", "note", "assign", "ban", "unban")
OVERDUE_MARK = "⏰ "
PAGE_PATTERN = re.compile(
    r"^sq:(now|new|open|mine|department|overdue|review|hand|repeat|extensions|callback):(\d{1,4})$"
)


def queue_name(page: QueuePage, t: Translator) -> str:
    """The queue's title; "now" says what it holds for the reader's role."""
    if page.filter is QueueFilter.NOW:
        if page.role is StaffRole.HANDLER:
            return t.gettext("To work on now (your department, overdue first)")
        return t.gettext("To work on now (new, overdue, to route by hand)")
    names = {
        QueueFilter.NEW: t.gettext("New requests"),
        QueueFilter.OPEN: t.gettext("Open requests in your reach"),
        QueueFilter.MINE: t.gettext("Open requests you handle"),
        QueueFilter.DEPARTMENT: t.gettext("Open requests of your department"),
        QueueFilter.OVERDUE: t.gettext("Overdue requests"),
        QueueFilter.REVIEW: t.gettext("Replies waiting for review"),
        QueueFilter.HAND: t.gettext("Requests to route by hand"),
        QueueFilter.REPEAT: t.gettext("Repeat requests (reopened twice or filed again)"),
        QueueFilter.EXTENSIONS: t.gettext("Requests for more time waiting for a decision"),
        QueueFilter.CALLBACK: t.gettext("Answers waiting for a callback"),
    }
    return names[page.filter]


async def queue_text(page: QueuePage, t: Translator, context: MinshengContext) -> str:
    head = t.gettext(
        "{queue}: {total}, page {page} of {pages}",
        queue=queue_name(page, t),
        total=page.total,
        page=page.page,
        pages=page.pages,
    )
    if page.more:  # counted up to a cap (storage.queue): how many pages there are is unknown
        head = t.gettext(
            "{queue}: more than {total}, page {page}",
            queue=queue_name(page, t),
            total=page.total,
            page=page.page,
        )
    if not page.lines:
        return f"{head}\n{t.gettext('Nothing here.')}"
    zone = context.services.settings.zone
    lines = []
    for line in page.lines:
        due = line.due_at.astimezone(zone).strftime("%Y-%m-%d") if line.due_at else "—"
        if line.overdue:
            due = t.gettext("overdue since {date}", date=due)
        category = await short_category_name(line.category_code, t.language)
        lines.append(
            f"{OVERDUE_MARK if line.overdue else ''}{format_tracking_number(line.tracking)} · "
            f"{staff_status_name(t, line.status)} · {category} · {due}"
        )
    return "\n".join([head, *lines])


def queue_keyboard(page: QueuePage, t: Translator) -> InlineKeyboardMarkup | None:
    row, data = [], f"sq:{page.filter}"
    if page.page > 1:
        row.append(
            InlineKeyboardButton(t.gettext("‹ Prev"), callback_data=f"{data}:{page.page - 1}")
        )
    if page.page < page.pages:
        row.append(
            InlineKeyboardButton(t.gettext("Next ›"), callback_data=f"{data}:{page.page + 1}")
        )
    return InlineKeyboardMarkup([row]) if row else None


def queue_usage(t: Translator) -> str:
    return t.gettext(
        "Usage: /queue [now|new|open|mine|department|overdue|review|repeat|hand|extensions|"
        "callback] [page]"
    )


async def on_queue(update: Update, context: MinshengContext) -> None:
    """/queue [filter] [page]: one page of a queue (by default what to work on now)."""
    _, t = await who(update, context)
    args = list(context.args or [])
    which, number = QueueFilter.NOW, 1
    if args and args[0].isdigit():
        args = ["now", *args]
    if args:
        if args[0].lower() not in set(QueueFilter) or len(args) > 2:
            await usage_or_denied(update, context, t, queue_usage(t))
            return
        which = QueueFilter(args[0].lower())
    if len(args) == 2:
        if not args[1].isdigit() or len(args[1]) > 4:
            await usage_or_denied(update, context, t, queue_usage(t))
            return
        number = int(args[1])
    try:
        page = await queue_page(
            user_of(update).id, which, number, now=context.services.clock.now()
        )
    except StaffNotAuthorized:
        await send(update, context, not_allowed(t))
        return
    own = which is QueueFilter.DEPARTMENT
    if (elsewhere := await queue_kept_out(update, context, t, own_department=own)) is not None:
        await send(update, context, elsewhere)  # a department's own chat: its cases alone
        return
    text = await queue_text(page, t, context)
    await send(update, context, text, markup=queue_keyboard(page, t))


async def on_queue_page(update: Update, context: MinshengContext) -> None:
    """Prev or Next pressed: the same message shows the other page."""
    if (got := await pressed(update, context, PAGE_PATTERN)) is None:
        return
    found, t = got
    try:
        page = await queue_page(
            user_of(update).id,
            QueueFilter(found.group(1)),
            int(found.group(2)),
            now=context.services.clock.now(),
        )
    except StaffNotAuthorized:
        await answer_button(update, context, not_allowed(t))
        return
    own = page.filter is QueueFilter.DEPARTMENT
    if (elsewhere := await queue_kept_out(update, context, t, own_department=own)) is not None:
        await answer_button(update, context, elsewhere)  # another's press, in a department's
        return  # own chat
    await answer_button(update, context)
    message = update.callback_query.message if update.callback_query else None
    if message is None:
        return
    params: dict[str, Any] = {
        "chat_id": message.chat.id,
        "message_id": message.message_id,
        "text": await queue_text(page, t, context),
    }
    if (markup := queue_keyboard(page, t)) is not None:
        params["reply_markup"] = markup.to_dict()
    await call(update, context, "editMessageText", params)


async def on_note(update: Update, context: MinshengContext) -> None:
    """/note <number> <text>: an internal note, never shown to the citizen."""
    _, t = await who(update, context)
    usage = t.gettext("Usage: /note <number> <text>")
    if (args := await arguments(update, context, t, 2, usage)) is None:
        return
    number, text = args
    await outcome(
        update,
        context,
        t,
        number,
        lambda: add_note(number, text, **stamp(context, update)),
        lambda tracking: t.gettext("Your note was added to {number}.", number=shown(tracking)),
    )


async def on_assign(update: Update, context: MinshengContext) -> None:
    """/assign <number> <lead department> [co-handling departments…]: the first routing."""
    _, t = await who(update, context)
    args = list(context.args or [])
    if len(args) < 2:
        usage = t.gettext(
            "Usage: /assign <number> <lead department code> [co-handling department codes]"
        )
        await usage_or_denied(update, context, t, usage)
        return
    number, code, co = args[0], args[1], args[2:]
    zone = context.services.settings.zone
    lead, co_names = await department_name(code, t), await names(co, t)  # the answer's words
    try:
        await outcome(
            update,
            context,
            t,
            number,
            lambda: accept_case(
                number,
                code,
                **stamp(context, update),
                zone=zone,
                co_handling=co,
                **settings_of(context),
                calendar=context.services.calendar,
            ),
            lambda case: assigned(t, shown(case.tracking), lead, co_names),
        )
    except DepartmentNotFound as missing:
        await no_such_department(update, context, t, number, str(missing), StaffAction.ASSIGN)
    except CoHandlingRefused as refused:
        await co_handling_refused(update, context, t, refused, StaffAction.ASSIGN)


async def blocking(update: Update, context: MinshengContext, blocked: bool) -> None:
    """/ban <user id> <reason> and /unban <user id>."""
    _, t = await who(update, context)
    args = parsed(update, context, 2) if blocked else list(context.args or [])
    if args is None or len(args) != (2 if blocked else 1) or not args[0].isdigit():
        usage = (
            t.gettext("Usage: /ban <user id> <reason>")
            if blocked
            else t.gettext("Usage: /unban <user id>")
        )
        await usage_or_denied(update, context, t, usage)
        return
    citizen_id, reason = int(args[0]), (args[1] if blocked else "")
    try:
        changed = await set_blocked(citizen_id, blocked, reason=reason, **stamp(context, update))
    except StaffNotAuthorized:
        await send(update, context, not_allowed(t))
        return
    except CitizenNotFound:
        await send(
            update,
            context,
            t.gettext(
                "No one with the user id {user_id} has written to the bot.", user_id=citizen_id
            ),
        )
        return
    who_ = {"user_id": citizen_id}
    if blocked and changed:
        done = t.gettext("User {user_id} is now blocked.", **who_)
    elif blocked:
        done = t.gettext("User {user_id} was already blocked.", **who_)
    elif changed:
        done = t.gettext("User {user_id} is no longer blocked.", **who_)
    else:
        done = t.gettext("User {user_id} was not blocked.", **who_)
    await send(update, context, done)


async def on_ban(update: Update, context: MinshengContext) -> None:
    """/ban <user id> <reason>: bar a citizen from the bot (told once, then silence)."""
    await blocking(update, context, True)


async def on_unban(update: Update, context: MinshengContext) -> None:
    """/unban <user id>: lift a citizen's bar."""
    await blocking(update, context, False)


def handlers(app: MinshengApp) -> list[Any]:
    """The queue and small staff commands, and the queue's page buttons, for register()."""
    staff = staff_filter(app)
    return [
        CommandHandler("queue", on_queue, filters=staff),
        CommandHandler("note", on_note, filters=staff),
        CommandHandler("assign", on_assign, filters=staff),
        CommandHandler("ban", on_ban, filters=staff),
        CommandHandler("unban", on_unban, filters=staff),
        ButtonHandler(on_queue_page, pattern=PAGE_PATTERN),
    ]
