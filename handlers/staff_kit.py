"""What every staff handler shares: who may send staff commands where (the staff filter), the
not-allowed line, reading a command's arguments or answering its usage, running an operation and
wording its outcome in one line, a staff button's press and its outcome, and the case a pressed
card acts on and the card marked afterwards.

A feature module imports this kit, never a sibling feature. The words themselves (refusals, a
tracking number as shown) are Telegram-free and live in bot.texts.refusals.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import InlineKeyboardButton, Message, Update
from telegram.ext import filters

from bot.context import MinshengApp, MinshengContext
from bot.i18n import Translator
from bot.staff_topics import chat_department, is_staff_chat
from bot.texts.cases import staff_card
from bot.texts.refusals import CASE_REFUSALS, not_allowed, refusal, shown
from handlers.buttons import NUMBER_GROUP, button_match, query_of
from handlers.common import answer_button, call, chat_of, send, user_of, who
from storage.case_views import CaseNotFound, CaseView
from storage.cases import case_by_tracking
from storage.chat_scope import case_belongs, queue_confined
from storage.lifecycle import CaseChangedMeanwhile, TransitionRefused, possible
from storage.staff import StaffAction, StaffNotAuthorized, authorize, staff_member
from storage.stale_buttons import left_to_caller

__all__ = [
    "TAKE_PATTERN",
    "StaffChats",
    "acted",
    "allowed",
    "arguments",
    "kept_out",
    "mark_card",
    "mark_pressed",
    "no_such_department",
    "not_allowed",
    "outcome",
    "parsed",
    "pressed",
    "queue_kept_out",
    "shown",
    "staff_filter",
    "stamp",
    "take_button",
    "usage_or_denied",
]

# The routing notice's Take (handlers.staff_routing shows it, handlers.staff_handlers answers it):
# the presser becomes the case's handler (承办人).
TAKE_PATTERN = re.compile(rf"^ho:take:{NUMBER_GROUP}\Z")


def take_button(tracking: str, t: Translator) -> InlineKeyboardButton:
    return InlineKeyboardButton(t.gettext("Take"), callback_data=f"ho:take:{tracking}")


class StaffChats(filters.MessageFilter):
    """Private chats, the staff chat named in the settings and the departments' own chats
    (read when an update comes, since handlers are registered before the services are
    attached)."""

    def __init__(self, app: MinshengApp) -> None:
        super().__init__(name="StaffChats")
        self._app = app

    def filter(self, message: Message) -> bool:
        if message.chat.type == message.chat.PRIVATE:
            return True
        return is_staff_chat(self._app.bot_data, message.chat.id)  # or a department's own


async def kept_out(
    update: Update, context: MinshengContext, t: Translator, tracking: str, *, button: bool = False
) -> bool:
    """In a department's own chat, a case of another department is not shown (everyone there
    would read it): True once the asker is told where to ask instead (the press answered, with
    `button`); False anywhere else, and for the department's own cases."""
    code = chat_department(context.bot_data, chat_of(update).id)
    if code is None or await case_belongs(tracking, code):
        return False
    text = t.gettext(
        "Request {number} is not a case of this chat's department, so it is not shown here. "
        "Ask for it in a private chat with the bot or in the staff group.",
        number=shown(tracking),
    )
    if button:
        await answer_button(update, context, text)
    else:
        await send(update, context, text)
    return True


async def queue_kept_out(
    update: Update, context: MinshengContext, t: Translator, *, own_department: bool
) -> str | None:
    """In a department's own chat, a queue that reaches beyond that department is not listed:
    the line saying where to ask instead; None where the queue may be shown."""
    code = chat_department(context.bot_data, chat_of(update).id)
    if code is None or await queue_confined(
        user_of(update).id, code, own_department=own_department
    ):
        return None
    return t.gettext(
        "This chat belongs to one department, and your queue reaches further, so it is not "
        "listed here. Send /queue in a private chat with the bot or in the staff group."
    )


async def scope_kept_out(
    update: Update, context: MinshengContext, t: Translator, scope: str | None = None
) -> bool:
    """In a department's own chat, figures, a file or a list reaching beyond that department
    (`scope`: the department a report covers, None for the whole desk or the caller's reach) are
    not shown: True once the asker is told where to ask instead."""
    code = chat_department(context.bot_data, chat_of(update).id)
    if code is None or scope == code:
        return False
    if scope is None and await queue_confined(user_of(update).id, code, own_department=False):
        return False
    await send(
        update,
        context,
        t.gettext(
            "This chat belongs to one department, and what you asked for reaches further, so "
            "it is not shown here. Ask in a private chat with the bot or in the staff group."
        ),
    )
    return True


def staff_filter(app: MinshengApp) -> filters.BaseFilter:
    """New messages from a person in a private chat or the staff chat (who: storage decides)."""
    return StaffChats(app) & filters.UpdateType.MESSAGE & filters.User(allow_empty=True)


async def usage_or_denied(
    update: Update, context: MinshengContext, t: Translator, text: str
) -> None:
    """A malformed command: its usage for staff, the one not-allowed line for anyone else."""
    member = await staff_member(user_of(update).id)
    await send(update, context, text if member is not None else not_allowed(t))


def parsed(update: Update, context: MinshengContext, count: int) -> list[str] | None:
    """The first `count - 1` words and the rest as one text, as it was written (a reply's
    paragraphs stay paragraphs), or just one word; None if too few."""
    args = list(context.args or [])
    if len(args) < count:
        return None
    if count == 1:
        return args[:1]
    text = update.effective_message.text if update.effective_message else None
    # Past the command and the words before the rest, split as python-telegram-bot splits args.
    skipped = re.match(rf"\s*(?:\S+\s+){{{count}}}", text or "")
    rest = text[skipped.end() :].strip() if text and skipped else ""
    return [*args[: count - 1], rest or " ".join(args[count - 1 :])]


async def arguments(
    update: Update,
    context: MinshengContext,
    t: Translator,
    count: int,
    usage: str,
    *,
    exact: bool = False,
    check: Callable[[list[str]], bool] | None = None,
) -> list[str] | None:
    """A command's arguments as `parsed` gives them (exactly `count` words if `exact`, and
    passing `check` if given), or None once `usage` is answered (the not-allowed line to anyone
    who is not staff): the one shape of "parse the arguments, or answer usage"."""
    args = parsed(update, context, count)
    if (
        args is None
        or (exact and len(context.args or []) != count)
        or (check is not None and not check(args))
    ):
        await usage_or_denied(update, context, t, usage)
        return None
    return args


def stamp(context: MinshengContext, update: Update) -> dict[str, Any]:
    return {"by": user_of(update).id, "now": context.services.clock.now()}


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


async def pressed(
    update: Update, context: MinshengContext, pattern: re.Pattern[str]
) -> tuple[re.Match[str], Translator] | None:
    """A staff button's data, matched; anything else gets "expired" (and None)."""
    if (found := await button_match(update, context, pattern)) is None:
        return None
    return found, (await who(update, context))[1]


async def acted(
    update: Update, context: MinshengContext, act: Any, t: Translator, already: str | None = None
) -> Any:
    """Await a lifecycle operation a button started; on refusal answer the press with why (the
    thing was `already` handled, by default "This request was already handled.") and give
    None."""
    try:
        case = await act
    except (StaffNotAuthorized, CaseNotFound):
        await answer_button(update, context, not_allowed(t))
        return None
    except (TransitionRefused, CaseChangedMeanwhile):
        await answer_button(
            update, context, already or t.gettext("This request was already handled.")
        )
        return None
    await answer_button(update, context)
    return case


async def allowed(
    update: Update, context: MinshengContext, action: StaffAction, tracking: str, t: Translator
) -> CaseView | None:
    """The case if the presser may take `action` on it now; else answered, and None."""
    try:
        await authorize(user_of(update).id, action, tracking, now=context.services.clock.now())
        case = await case_by_tracking(tracking)
    except (StaffNotAuthorized, CaseNotFound):
        await answer_button(update, context, not_allowed(t))
        return None
    if not possible(case.status, action):
        await answer_button(update, context, t.gettext("This request was already handled."))
        return None
    return case


async def mark_card(
    update: Update, context: MinshengContext, case: CaseView, t: Translator, done: str
) -> None:
    """Edit the pressed card: its text drawn afresh with what was done, and no buttons left."""
    settings = context.services.settings
    text = await staff_card(case, t, settings.zone, maps=settings.map_links)
    await mark_pressed(update, context, done, text=text)


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


async def mark_pressed(
    update: Update,
    context: MinshengContext,
    done: str,
    *,
    text: str | None = None,
    reply_markup: Any = None,
) -> None:
    """Edit the message whose button was pressed: its text (or `text`, a card drawn afresh)
    with what was done appended; its buttons go, unless `reply_markup` gives new ones (this
    edit replaces the stale-button edit storage queued for it: storage.stale_buttons)."""
    message = query_of(update).message
    base = text if text is not None else getattr(message, "text", None)
    if message is None or base is None:
        return
    left_to_caller(message.chat.id, message.message_id)
    params: dict[str, Any] = {
        "chat_id": message.chat.id,
        "message_id": message.message_id,
        "text": f"{base}\n\n{done}"[:4096],
    }
    if reply_markup is not None:
        params["reply_markup"] = reply_markup.to_dict()
    await call(update, context, "editMessageText", params)
