"""The case list's handler filter (承办人): "Mine" for everyone, a colleague for supervisors.

The list stays within the staff member's reach whatever is asked (storage.case_search): a
handler's id typed into the address shows nothing beyond it.
"""

from __future__ import annotations

from bot.i18n import Translator
from bot.texts.case_handler import handler_label
from storage.case_handler import handler_choices
from storage.models import StaffRole
from storage.queue import reach_of
from storage.staff import StaffView

MINE = "mine"


def wanted_handler(value: str, staff: StaffView) -> int | None:
    """The handler's user id the list is filtered by ("mine": the staff member), or None."""
    if value == MINE:
        return staff.user_id
    if value.isdigit() and len(value) <= 15:
        return int(value)
    return None


async def handler_options(t: Translator, staff: StaffView) -> list[tuple[str, str]]:
    """The select's (value, label) options: any, mine, then (for supervisors and admins) each
    staff member of a department in their reach."""
    options = [("", t.gettext("Any")), (MINE, t.gettext("Mine"))]
    if staff.role is StaffRole.HANDLER:
        return options
    for person in await handler_choices(await reach_of(staff.user_id)):
        if person.user_id != staff.user_id:
            options.append((str(person.user_id), handler_label(t, person)))
    return options
