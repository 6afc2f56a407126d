"""The buttons about a case: their callback data, defined once and matched whole, the marks of a
status family, and the keyboard under a case's details. The words of a case are in bot.texts.cases.
"""

from __future__ import annotations

import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.i18n import Translator
from handlers.buttons import NUMBER_GROUP
from storage.case_views import CaseView
from storage.models import CaseStatus

# Callback data of the buttons about cases, defined once and matched whole (\Z, not $: "$" also
# matches before a trailing newline). A number in data is canonical; ownership is checked anew.
CASE_PATTERN = re.compile(rf"^case:{NUMBER_GROUP}\Z")
ADD_PATTERN = re.compile(rf"^add:{NUMBER_GROUP}\Z")
PAGE_PATTERN = re.compile(r"^my:p:(\d{1,4})\Z")
# Publish without my name: y gives the consent, n withdraws it (handlers.publish_consent).
CONSENT_PATTERN = re.compile(rf"^pub:([yn]):{NUMBER_GROUP}\Z")


def case_data(tracking: str) -> str:
    return f"case:{tracking}"


def add_data(tracking: str) -> str:
    return f"add:{tracking}"


def page_data(page: int) -> str:
    return f"my:p:{page}"


def consent_data(tracking: str, consent: bool) -> str:
    return f"pub:{'y' if consent else 'n'}:{tracking}"


def matched(pattern: re.Pattern[str], data: object) -> str | None:
    """The one group of `pattern` in a button's data, or None if the data does not fit."""
    match = pattern.match(data) if isinstance(data, str) else None
    return match.group(1) if match else None


# A mark per status family, so a list reads at a glance: waiting, moving, needs you, done, ended.
STATUS_MARKS = {
    CaseStatus.SUBMITTED: "🕓",
    CaseStatus.ACCEPTED: "🕓",
    CaseStatus.IN_PROGRESS: "🔧",
    CaseStatus.AWAITING_CITIZEN: "❗",
    CaseStatus.ANSWERED: "💬",
    CaseStatus.CLOSED: "✅",
    CaseStatus.REJECTED: "⛔",
    CaseStatus.MERGED: "🔗",
}


def case_keyboard(
    case: CaseView, t: Translator, consent: bool | None = None
) -> InlineKeyboardMarkup:
    """Under a case's details: add to it while it is open, allow or withdraw publication (when
    `consent` is known: the citizen's own case), and back to the list."""
    rows = []
    if consent is not None:
        label = (
            t.gettext("Withdraw my consent to publish")
            if consent
            else t.gettext("Allow publishing without my name")
        )
        data = consent_data(case.tracking, not consent)
        rows.append([InlineKeyboardButton(label, callback_data=data)])
    row = []
    if case.is_open:
        row.append(
            InlineKeyboardButton(
                t.gettext("Add information"), callback_data=add_data(case.tracking)
            )
        )
    row.append(InlineKeyboardButton(t.gettext("« My requests"), callback_data=page_data(0)))
    return InlineKeyboardMarkup([*rows, row])
