"""Time limits by command: /urgent, /extend, /grant, /refuse, and the extension notice's
Grant · Refuse buttons in the staff chat.

    /extend (department) ──▶ notice in the staff chat ──Grant──▶ due date moved, citizen told
                                        └──Refuse──▶ "send /refuse <number> <reason>"
                                                          └──▶ the department told

As everywhere on the staff side, storage authorizes (URGENT and DECIDE_EXTENSION for
supervisors, REQUEST_EXTENSION for the lead department) and a handler only words the outcome.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable
from datetime import datetime
from typing import Any

from telegram import Update
from telegram.ext import CommandHandler

from bot.context import MinshengApp, MinshengContext
from bot.i18n import Translator
from bot.texts.cases import when
from handlers.buttons import NUMBER_GROUP, ButtonHandler
from handlers.common import answer_button, user_of, who
from handlers.staff_kit import (
    arguments,
    mark_pressed,
    not_allowed,
    outcome,
    parsed,
    pressed,
    shown,
    staff_filter,
    stamp,
    usage_or_denied,
)
from storage.case_views import CaseNotFound
from storage.deadlines import (
    MAX_EXTENSION_DAYS,
    MAX_URGENT_HOURS,
    DeadlineRefused,
    grant_extension,
    mark_urgent,
    refuse_extension,
    request_extension,
)
from storage.lifecycle import CaseChangedMeanwhile, TransitionRefused
from storage.staff import StaffAction, StaffNotAuthorized, authorize

COMMANDS = ("urgent", "extend", "grant", "refuse")
GRANT_PATTERN = re.compile(rf"^dl:g:{NUMBER_GROUP}\Z")
REFUSE_PATTERN = re.compile(rf"^dl:r:{NUMBER_GROUP}\Z")


def due_text(due: datetime, t: Translator, context: MinshengContext) -> str:
    return when(due, context.services.settings.zone, t.language)


def whole(text: str, top: int) -> int | None:
    """A whole number 1..top typed by staff, or None."""
    return int(text) if text.isdigit() and len(text) <= 4 and 1 <= int(text) <= top else None


async def on_urgent(update: Update, context: MinshengContext) -> None:
    """/urgent <number> <hours>: a supervisor marks a case urgent, due within the hours."""
    _, t = await who(update, context)
    args = list(context.args or [])
    hours = whole(args[1], MAX_URGENT_HOURS) if len(args) == 2 else None
    if hours is None:
        await usage_or_denied(update, context, t, t.gettext("Usage: /urgent <number> <hours>"))
        return
    number = args[0]
    await outcome(
        update,
        context,
        t,
        number,
        lambda: mark_urgent(number, hours, **stamp(context, update)),
        lambda due: t.gettext(
            "Request {number} is marked urgent; an answer is due by {due}.",
            number=shown(number),
            due=due_text(due, t, context),
        ),
    )


async def on_extend(update: Update, context: MinshengContext) -> None:
    """/extend <number> <working days> <reason>: the department asks for more time (延期)."""
    _, t = await who(update, context)
    args = parsed(update, context, 3)
    days = whole(args[1], MAX_EXTENSION_DAYS) if args is not None else None
    if args is None or days is None or not args[2].strip():
        await usage_or_denied(
            update, context, t, t.gettext("Usage: /extend <number> <working days> <reason>")
        )
        return
    number, reason = args[0], args[2]
    chat = context.services.settings.staff_chat_id
    await outcome(
        update,
        context,
        t,
        number,
        lambda: request_extension(
            number, days, reason, **stamp(context, update), staff_chat_id=chat
        ),
        lambda tracking: t.ngettext(
            "Your request for {n} more working day on {number} was sent to the supervisors.",
            "Your request for {n} more working days on {number} was sent to the supervisors.",
            days,
            number=shown(tracking),
        ),
    )


async def on_grant(update: Update, context: MinshengContext) -> None:
    """/grant <number>: a supervisor grants the pending extension."""
    _, t = await who(update, context)
    usage = t.gettext("Usage: /grant <number>")
    if (args := await arguments(update, context, t, 1, usage, exact=True)) is None:
        return
    number = args[0]
    await outcome(
        update,
        context,
        t,
        number,
        lambda: granting(update, context, number),
        lambda due: granted(number, due, t, context),
    )


def granting(update: Update, context: MinshengContext, number: str) -> Awaitable[datetime]:
    services = context.services
    return grant_extension(
        number,
        **stamp(context, update),
        calendar=services.calendar,
        staff_chat_id=services.settings.staff_chat_id,
    )


def granted(number: str, due: datetime, t: Translator, context: MinshengContext) -> str:
    return t.gettext(
        "The extension of {number} was granted; an answer is now due by {due}.",
        number=shown(number),
        due=due_text(due, t, context),
    )


async def on_refuse(update: Update, context: MinshengContext) -> None:
    """/refuse <number> <reason>: a supervisor refuses the pending extension."""
    _, t = await who(update, context)
    usage = t.gettext("Usage: /refuse <number> <reason>")
    args = await arguments(update, context, t, 2, usage, check=lambda a: bool(a[1].strip()))
    if args is None:
        return
    number, reason = args
    chat = context.services.settings.staff_chat_id
    await outcome(
        update,
        context,
        t,
        number,
        lambda: refuse_extension(number, reason, **stamp(context, update), staff_chat_id=chat),
        lambda tracking: t.gettext(
            "The extension of {number} was refused; the department is told.",
            number=shown(tracking),
        ),
    )


async def on_grant_button(update: Update, context: MinshengContext) -> None:
    """Grant pressed on an extension notice: grant it and mark the notice."""
    if (got := await pressed(update, context, GRANT_PATTERN)) is None:
        return
    found, t = got
    number = found.group(1)
    try:
        due = await granting(update, context, number)
    except (StaffNotAuthorized, CaseNotFound):
        await answer_button(update, context, not_allowed(t))
        return
    except (DeadlineRefused, TransitionRefused, CaseChangedMeanwhile):
        await answer_button(update, context, t.gettext("This request was already handled."))
        return
    await answer_button(update, context)
    await mark_pressed(update, context, granted(number, due, t, context))


async def on_refuse_button(update: Update, context: MinshengContext) -> None:
    """Refuse pressed: a refusal needs a reason, so say how to send one (to those allowed)."""
    if (got := await pressed(update, context, REFUSE_PATTERN)) is None:
        return
    found, t = got
    number = found.group(1)
    try:
        await authorize(
            user_of(update).id,
            StaffAction.DECIDE_EXTENSION,
            number,
            now=context.services.clock.now(),
        )
    except (StaffNotAuthorized, CaseNotFound):
        await answer_button(update, context, not_allowed(t))
        return
    await answer_button(
        update,
        context,
        t.gettext("Send /refuse {number} followed by the reason.", number=shown(number)),
    )


def handlers(app: MinshengApp) -> list[Any]:
    """The time-limit commands and the extension notice's buttons, for register()."""
    staff = staff_filter(app)
    return [
        CommandHandler("urgent", on_urgent, filters=staff),
        CommandHandler("extend", on_extend, filters=staff),
        CommandHandler("grant", on_grant, filters=staff),
        CommandHandler("refuse", on_refuse, filters=staff),
        ButtonHandler(on_grant_button, pattern=GRANT_PATTERN),
        ButtonHandler(on_refuse_button, pattern=REFUSE_PATTERN),
    ]
