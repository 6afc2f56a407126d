"""A case in words: the names of its status, kind, events, category and department; the staff card.

Everything here is plain text, sent without a parse_mode: what citizens wrote stays data and
arrives exactly as typed (RELIABILITY row 27). Status, kind, event and category names are
translated from their stored codes when rendered. Every surface reads these words: the bot, the
dashboard and the command line.
"""

from __future__ import annotations

import contextlib
from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_time

from bot.i18n import Translator
from bot.texts.case_handler import handler_line
from bot.texts.maps import MapService, map_link
from bot.texts.proposals import proposal_line
from storage.case_handler import handler_of
from storage.case_views import CaseView, EventView
from storage.catalog import CategoryNotFound, DepartmentNotFound, Question, category, department
from storage.models import CaseKind, CaseStatus
from storage.tracking import format_tracking_number

EXCERPT = 300  # characters of the citizen's own text shown on their card
# A language's babel Locale, parsed once: given its name, babel parses it again at every date
# (two to eight times the cost of writing the date).
locale_of = lru_cache(maxsize=32)(Locale.parse)


def status_name(t: Translator, status: CaseStatus) -> str:
    names = {
        CaseStatus.SUBMITTED: t.gettext("submitted"),
        CaseStatus.ACCEPTED: t.gettext("accepted"),
        CaseStatus.IN_PROGRESS: t.gettext("in progress"),
        CaseStatus.AWAITING_CITIZEN: t.gettext("waiting for you"),
        CaseStatus.ANSWERED: t.gettext("answered"),
        CaseStatus.CLOSED: t.gettext("closed"),
        CaseStatus.REJECTED: t.gettext("not accepted"),
        CaseStatus.MERGED: t.gettext("merged"),
    }
    return names[status]


def kind_name(t: Translator, kind: CaseKind) -> str:
    names = {
        CaseKind.COMPLAINT: t.gettext("complaint"),
        CaseKind.REPORT: t.gettext("report"),
        CaseKind.INQUIRY: t.gettext("inquiry"),
        CaseKind.SUGGESTION: t.gettext("suggestion"),
    }
    return names[kind]


def event_name(t: Translator, event: EventView) -> str:
    """What happened, named without its facts, as a citizen following someone else's case reads
    it; the filer reads each event with its facts (bot.texts.citizen_case)."""
    names = {
        "submitted": t.gettext("Request submitted"),
        "citizen_added": t.gettext("You added information"),
        "withdrawn": t.gettext("Withdrawn at your request"),
        "accepted": t.gettext("Accepted and assigned to a department"),
        "transferred": t.gettext("Passed to another department"),
        "in_progress": t.gettext("The department is working on it"),
        "awaiting_citizen": t.gettext("The department asked you for more information"),
        "answered": t.gettext("Answered"),
        "closed": t.gettext("Closed"),
        "rejected": t.gettext("Not accepted"),
        "merged": t.gettext("Merged with another request about the same problem"),
        "reopened": t.gettext("Reopened"),
        "extended": t.gettext("Due date extended"),
        "escalated": t.gettext("Escalated to supervisors"),
        "rated": t.gettext("You rated the answer"),
        "joined": t.gettext("Another citizen joined this request"),
    }
    return names.get(event.kind) or t.gettext("Updated")


def when(moment: datetime, zone: ZoneInfo, language: str) -> str:
    """A date and time in the desk's time zone, written the way the language writes them."""
    local = moment.astimezone(zone)
    locale = locale_of(language)
    day = format_date(local, "medium", locale=locale)
    return f"{day} {format_time(local, 'short', locale=locale)}"


async def category_name(code: str, language: str) -> str:
    """ "Domain › Category" in the language; the bare code if the catalogue lost it."""
    try:
        leaf = await category(code)
    except CategoryNotFound:
        return code
    if leaf.domain_code is None:
        return leaf.name(language)
    try:
        domain = await category(leaf.domain_code)
    except CategoryNotFound:
        return leaf.name(language)
    return f"{domain.name(language)} › {leaf.name(language)}"


async def short_category_name(code: str, language: str) -> str:
    try:
        return (await category(code)).name(language)
    except CategoryNotFound:
        return code


async def department_name(code: str | None, t: Translator) -> str:
    if code is None:
        return t.gettext("not yet assigned")
    try:
        return (await department(code)).name(t.language)
    except DepartmentNotFound:
        return code


def excerpt(text: str, limit: int = EXCERPT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def erased(t: Translator) -> str:
    """What stands where the citizen's words were erased at their request (/forget)."""
    return t.gettext("(erased at the citizen's request)")


def description(case: CaseView, t: Translator) -> str:
    """The citizen's description of the case, or the erased marker."""
    return erased(t) if case.erased_at is not None else case.text


async def answer_lines(case: CaseView, t: Translator) -> list[str]:
    """The category's own questions, by their short labels, with the citizen's answers
    (choices by their name)."""
    try:
        questions = {q.code: q for q in (await category(case.category_code)).questions}
    except CategoryNotFound:
        questions = {}
    lines = []
    for code, value in case.answers.items():
        question = questions.get(code)
        label, shown = code, str(value)
        if question is not None:
            label, shown = question.label(t.language), answer_shown(question, value, t.language)
        lines.append("• " + answer_line(t, label, shown))
    return lines


def answer_line(t: Translator, label: str, answer: str) -> str:
    """ "label: answer", punctuated as the language does (Chinese: 标签：值)."""
    return t.gettext("{label}: {answer}", label=label, answer=answer)


def answer_shown(question: Question, value: object, language: str) -> str:
    """An answer as a reader takes it: a choice by its name, a date as the language writes it."""
    if question.type == "choice":
        return next((c.name(language) for c in question.choices if c.code == value), str(value))
    if question.type == "date" and isinstance(value, str):
        with contextlib.suppress(ValueError):
            return format_date(date.fromisoformat(value), "medium", locale=locale_of(language))
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


async def staff_card(
    case: CaseView, t: Translator, zone: ZoneInfo, *, maps: MapService = "osm"
) -> str:
    """The new-case card in the staff chat: everything needed to accept or route it; its map
    link opens the desk's map service (`maps`, MINSHENG_MAP_LINKS)."""
    lines = [
        t.gettext("New request {number}", number=format_tracking_number(case.tracking)),
        t.gettext("Kind: {kind}", kind=kind_name(t, case.kind)),
        t.gettext(
            "Category: {category}", category=await category_name(case.category_code, t.language)
        ),
    ]
    if case.proposed_department_code is not None:  # and why (属地, bot.texts.proposals)
        proposed = await department_name(case.proposed_department_code, t)
        lines.append(await proposal_line(case, t, proposed))
    if (handler := await handler_of(case.tracking)) is not None:  # 承办人
        lines.append(handler_line(t, handler))
    if case.due_at is not None:
        lines.append(t.gettext("Due by: {due}", due=when(case.due_at, zone, t.language)))
    location = case.location
    if location is not None and location.address:
        lines.append(t.gettext("Where: {address}", address=location.address))
    if location is not None and location.latitude is not None and location.longitude is not None:
        number = format_tracking_number(case.tracking)
        link = map_link(location.latitude, location.longitude, maps, number)
        lines.append(t.gettext("Map: {link}", link=link))
    if case.anonymous or not case.phone:
        lines.append(t.gettext("Contact: anonymous; answer through the bot"))
    else:
        lines.append(t.gettext("Contact: {phone}", phone=case.phone))
    answers = await answer_lines(case, t)
    if answers:
        lines += [t.gettext("Answers:"), *answers]
    lines += ["", description(case, t)]
    return "\n".join(lines)
