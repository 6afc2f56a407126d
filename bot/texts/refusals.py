"""Why a staff action on a case did not happen, in one line, for the bot and the dashboard."""

from __future__ import annotations

from bot.i18n import Translator
from storage.case_views import CaseNotFound
from storage.catalog import DepartmentNotFound
from storage.deadlines import DeadlineRefused, ExtensionAlreadyPending, ExtensionNotPending
from storage.lifecycle import (
    CaseChangedMeanwhile,
    MergeRefused,
    ReplyAlreadyPending,
    ReplyNotPending,
    TransitionRefused,
)
from storage.staff import StaffNotAuthorized
from storage.tracking import (
    TrackingNumberMalformed,
    TrackingNumberMistyped,
    format_tracking_number,
    parse_tracking_number,
)

# What a staff action on a case may raise that is the staff member's to hear, not a fault.
CASE_REFUSALS = (
    StaffNotAuthorized,
    CaseNotFound,
    TransitionRefused,
    CaseChangedMeanwhile,
    MergeRefused,
    DeadlineRefused,
)
# The same, where the department codes come from a form (the dashboard: staff only, signed in).
REFUSALS = (*CASE_REFUSALS, DepartmentNotFound)


def too_long(t: Translator, length: int, limit: int) -> str:
    """A text over its limit, told with both numbers."""
    return t.gettext(
        "That is too long: {length} characters; the limit is {limit}. "
        "Please shorten it and send it again.",
        length=length,
        limit=limit,
    )


def not_allowed(t: Translator) -> str:
    return t.gettext("Sorry, you may not do that.")


def shown(number: str) -> str:
    """A tracking number as staff typed it, in the usual dashed form when it is one."""
    try:
        return format_tracking_number(parse_tracking_number(number))
    except (TrackingNumberMalformed, TrackingNumberMistyped):  # echoed back as typed
        return number


def merge_refusal(t: Translator, error: MergeRefused) -> str:
    """One line for every refused merge, whichever case and reason (storage.lifecycle)."""
    return t.gettext(
        "Nothing was merged: {number} and {into} must both be open requests that you may work on.",
        number=shown(error.tracking),
        into=shown(error.into),
    )


def refusal(t: Translator, number: str, error: Exception) -> str:
    """The one line for a refused action (an exception of REFUSALS)."""
    if isinstance(error, StaffNotAuthorized):
        return not_allowed(t)
    if isinstance(error, CaseNotFound):
        return t.gettext("There is no request {number}.", number=shown(number))
    if isinstance(error, MergeRefused):
        return merge_refusal(t, error)
    if isinstance(error, DepartmentNotFound):
        return t.gettext("There is no active department with the code {code}.", code=str(error))
    if isinstance(error, ReplyAlreadyPending):
        return t.gettext(
            "A reply to {number} is already waiting for review.", number=shown(number)
        )
    if isinstance(error, ReplyNotPending):
        return t.gettext("No reply to {number} is waiting for review.", number=shown(number))
    if isinstance(error, ExtensionAlreadyPending):
        return t.gettext(
            "An extension of {number} is already waiting for a decision.", number=shown(number)
        )
    if isinstance(error, ExtensionNotPending):
        return t.gettext(
            "No extension of {number} is waiting for a decision.", number=shown(number)
        )
    if isinstance(error, DeadlineRefused):
        return t.gettext("Request {number} has no due date to extend.", number=shown(number))
    if isinstance(error, TransitionRefused):
        return t.gettext(
            "That cannot be done to request {number} in its present state.", number=shown(number)
        )
    return t.gettext(
        "Someone changed request {number} just now; nothing was done. Look again with "
        "/case {number}.",
        number=shown(number),
    )
