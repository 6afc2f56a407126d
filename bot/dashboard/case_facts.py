"""What the dashboard's case page says about a case: its heading, its facts, its timeline.

The page states where the case stands now: the status in the heading, the department that
has it (the proposed one only while nobody has accepted it), a due date only while it is
open. The timeline is the staff timeline's sentences (bot.texts.timeline), one row per event
with its time apart, so that the page draws its own list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.i18n import Translator
from bot.texts.case_handler import handler_label
from bot.texts.cases import (
    answer_lines,
    category_name,
    department_name,
    kind_name,
    when,
)
from bot.texts.proposals import proposal_why
from bot.texts.timeline import DENIAL_KIND, People, event_sentence, staff_status_name
from storage.case_handler import handler_of
from storage.case_views import CaseView
from storage.cases import AuditEntry
from storage.category_suggest import suggested_category_of
from storage.models import CaseStatus
from storage.tracking import format_tracking_number


@dataclass(frozen=True)
class TimelineRow:
    at: datetime  # for the <time> element
    when: str
    sentence: str


def heading(t: Translator, case: CaseView) -> str:
    """ "Request 8K2P-…: in progress": the number and where the case stands."""
    return t.gettext(
        "Request {number}: {status}",
        number=format_tracking_number(case.tracking),
        status=staff_status_name(t, case.status),
    )


async def case_facts(t: Translator, case: CaseView, zone: ZoneInfo) -> list[tuple[str, str]]:
    """The case's facts as (label, value) rows, as they stand now."""
    facts = [
        (t.gettext("Kind"), kind_name(t, case.kind)),
        (t.gettext("Category"), await category_name(case.category_code, t.language)),
    ]
    if case.department_code is not None:
        facts.append((t.gettext("Department"), await department_name(case.department_code, t)))
    elif case.status is CaseStatus.SUBMITTED and case.proposed_department_code is not None:
        name = await department_name(case.proposed_department_code, t)
        facts.append((t.gettext("Proposed department"), name))
        if (why := await proposal_why(case, t)) is not None:
            facts.append((t.gettext("Why proposed"), why))
    if (handler := await handler_of(case.tracking)) is not None:  # 承办人
        facts.append((t.gettext("Handler"), handler_label(t, handler)))
    suggested = await suggested_category_of(case.tracking)
    if case.status is CaseStatus.SUBMITTED and suggested is not None:
        name = await category_name(suggested, t.language)
        facts.append((t.gettext("Suggested category"), name))
    if case.is_open and case.due_at is not None:
        facts.append((t.gettext("Due by"), when(case.due_at, zone, t.language)))
    facts.append((t.gettext("Filed"), when(case.created_at, zone, t.language)))
    if case.location is not None and case.location.address:
        facts.append((t.gettext("Where"), case.location.address))
    if case.anonymous or not case.phone:
        facts.append((t.gettext("Contact"), t.gettext("anonymous; answer through the bot")))
    else:
        facts.append((t.gettext("Contact"), case.phone))
    return facts


async def answers(t: Translator, case: CaseView) -> list[str]:
    """The citizen's answers to the category's questions, one line each, without bullets."""
    return [line.removeprefix("• ") for line in await answer_lines(case, t)]


async def timeline_rows(
    t: Translator, case: CaseView, entries: list[AuditEntry], zone: ZoneInfo
) -> list[TimelineRow]:
    """One row per event, oldest first. Refused actions are the access log's, not the case's;
    a citizen's "solved?" step shows in the rating that completes it; an event written twice in
    a row (a form sent twice) shows once."""
    entries = [
        entry
        for n, entry in enumerate(entries)
        if entry.event.kind != DENIAL_KIND and not _said_again(entries, n)
    ]
    people = People(case, entries)
    rows: list[TimelineRow] = []
    for entry in entries:
        moment = entry.event.created_at
        row = TimelineRow(
            moment, when(moment, zone, t.language), await event_sentence(t, entry, people, zone)
        )
        if not rows or (rows[-1].when, rows[-1].sentence) != (row.when, row.sentence):
            rows.append(row)
    return rows


def _said_again(entries: list[AuditEntry], index: int) -> bool:
    """Whether this is the first step of a rating ("rating_solved") that the full rating
    ("rated", which repeats it) completes before the next answer."""
    if entries[index].event.kind != "rating_solved":
        return False
    for later in entries[index + 1 :]:
        if later.event.kind == "rated":
            return True
        if later.event.kind in ("answered", "reopened"):
            return False
    return False
