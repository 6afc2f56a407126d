"""Accept as proposed: one tap on the new-case card accepts the case into the department
proposed for it (a street or district for a local category, else the category's own:
storage.proposals); the card says which and why (bot.texts.proposals).

    card ──Accept as proposed──▶ accepted (card edited, citizen told, proposal "accepted")
      └──Accept──▶ departments (handlers.staff_departments): another one is "changed"
"""

from __future__ import annotations

import re
from typing import Any

from telegram import Update

from bot.context import MinshengContext
from bot.texts.cases import department_name
from handlers.buttons import NUMBER_GROUP, ButtonHandler, on_expired_button
from handlers.common import user_of
from handlers.staff_kit import acted, allowed, mark_card, pressed
from storage.lifecycle import accept_case
from storage.staff import StaffAction

# st:ok:<number>, matched whole; the department is read from the case when pressed.
PROPOSED_PATTERN = re.compile(rf"^st:ok:{NUMBER_GROUP}\Z")


def proposed_data(tracking: str) -> str:
    return f"st:ok:{tracking}"


async def on_accept_proposed(update: Update, context: MinshengContext) -> None:
    """Accept as proposed pressed: accept the case into its proposed department."""
    if (got := await pressed(update, context, PROPOSED_PATTERN)) is None:
        return
    found, t = got
    tracking = found.group(1)
    case = await allowed(update, context, StaffAction.ACCEPT, tracking, t)
    if case is None:
        return
    if case.proposed_department_code is None:
        await on_expired_button(update, context)
        return
    settings, services = context.services.settings, context.services
    act = accept_case(
        tracking,
        case.proposed_department_code,
        by=user_of(update).id,
        now=services.clock.now(),
        zone=settings.zone,
        sign_hours=settings.sign_limit_hours,
        staff_chat_id=settings.staff_chat_id,
        calendar=services.calendar,
    )
    if (accepted := await acted(update, context, act, t)) is not None:
        done = t.gettext(
            "Accepted as proposed by {name} → {department}",
            name=user_of(update).first_name,
            department=await department_name(accepted.department_code, t),
        )
        await mark_card(update, context, accepted, t, done)


def handlers() -> list[Any]:
    """The card's Accept as proposed button, for register()."""
    return [ButtonHandler(on_accept_proposed, pattern=PROPOSED_PATTERN)]
