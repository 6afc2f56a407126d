"""The new-case card's Details button: what /case shows, sent into the chat where it was pressed.

    card ──Details──▶ card, status, routing and timeline (notes included), then the photos

Only staff who may VIEW the case get them (a handler of another department, or a citizen
forging the data, gets the one not-allowed line, audited by storage.staff.authorize); data
that does not fit the pattern has expired. In a department's own chat, a case that is no
longer that department's (transferred since) is not shown: handlers.staff_kit.kept_out. The
card keeps its buttons: Details reads, it changes nothing.
"""

from __future__ import annotations

import re
from typing import Any

from telegram import Update

from bot.context import MinshengContext
from handlers.buttons import NUMBER_GROUP, ButtonHandler, query_of
from handlers.common import answer_button, chat_of, user_of
from handlers.staff_cases import send_details
from handlers.staff_kit import kept_out, not_allowed, pressed
from storage.case_views import CaseNotFound
from storage.cases import case_by_tracking
from storage.staff import StaffAction, StaffNotAuthorized, authorize

# The data handlers.staff_cases.card_keyboard puts on the button: 7 + 12 bytes, well under
# Telegram's 64. Matched whole; the number is checked again (authorized) below.
DETAILS_PATTERN = re.compile(rf"^st:det:{NUMBER_GROUP}\Z")


async def on_details(update: Update, context: MinshengContext) -> None:
    """Details pressed: the case's details for staff who may see it, one line for anyone else."""
    if (got := await pressed(update, context, DETAILS_PATTERN)) is None:
        return
    found, t = got
    tracking, now = found.group(1), context.services.clock.now()
    try:
        await authorize(user_of(update).id, StaffAction.VIEW, tracking, now=now)
        case = await case_by_tracking(tracking)
    except (StaffNotAuthorized, CaseNotFound):
        await answer_button(update, context, not_allowed(t))
        return
    if await kept_out(update, context, t, case.tracking, button=True):  # moved on since
        return  # the card came to this department's own chat
    await answer_button(update, context)
    message = query_of(update).message
    chat_id = message.chat.id if message is not None else chat_of(update).id
    await send_details(update, context, case, t, chat_id)


def handlers() -> list[Any]:
    """The Details button, for register() (before the "expired" catch-all)."""
    return [ButtonHandler(on_details, pattern=DETAILS_PATTERN)]
