"""Why `/take` or `/give` made nobody a case's handler (承办人), in one line each."""

from __future__ import annotations

from bot.i18n import Translator
from bot.texts.case_handler import handler_label
from bot.texts.cases import department_name
from bot.texts.refusals import shown
from storage.case_handler import HandlerRefused, HandlerView
from storage.models import CaseStatus
from storage.staff import StaffNotAuthorized


async def handler_refusal(
    t: Translator, number: str, refused: HandlerRefused, holder: HandlerView | None, mine: bool
) -> str:
    """Why nobody new handles the case; `mine`: the refused person is the one asking."""
    if refused.reason == "already" and mine:
        return t.gettext("You already handle request {number}.", number=shown(number))
    if refused.reason == "already" and holder is not None:
        return t.gettext(
            "{handler} already handles request {number}.",
            handler=handler_label(t, holder),
            number=shown(number),
        )
    if refused.reason == "held" and holder is not None:
        return t.gettext(
            "Request {number} is handled by {handler}: only they or a supervisor can pass it on.",
            number=shown(number),
            handler=handler_label(t, holder),
        )
    department = await department_name(refused.department, t)
    if mine:
        return t.gettext(
            "Only the staff of {department} can handle request {number}, and you are not one "
            "of them.",
            department=department,
            number=shown(number),
        )
    return t.gettext(
        "Nobody new handles request {number}: the person you named is not on the staff of "
        "{department}.",
        number=shown(number),
        department=department,
    )


def not_ours(t: Translator, number: str, denied: StaffNotAuthorized) -> str | None:
    """The line for a staff member refused on another department's case, or None (not staff,
    or a role that never takes this: the usual not-allowed line)."""
    if denied.reason != "department":
        return None
    return t.gettext(
        "Request {number} is with another department: you can take or give only your own "
        "department's requests.",
        number=shown(number),
    )


def not_worked(t: Translator, number: str, status: CaseStatus) -> str:
    """A case whose handler cannot change now: not yet with a department, or no longer worked."""
    if status is CaseStatus.SUBMITTED:
        return t.gettext(
            "Request {number} is not with a department yet: it gets a handler once it is "
            "accepted.",
            number=shown(number),
        )
    return t.gettext(
        "Request {number} is no longer being worked on, so its handler stays as it is.",
        number=shown(number),
    )
