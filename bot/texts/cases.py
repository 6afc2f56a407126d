"""A case in words: the citizen's view (status, department, due date, timeline) and the staff card.

Everything here is plain text, sent without a parse_mode: what citizens wrote stays data and
arrives exactly as typed (RELIABILITY row 27). Status, kind, event and category names are
translated from their stored codes when rendered. Every surface reads these words: the bot, the
dashboard and the command line.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time

from bot.i18n import Translator
from storage.case_views import CaseView, EventView
from storage.catalog import CategoryNotFound, DepartmentNotFound, category, department
from storage.models import CaseKind, CaseStatus
from storage.tracking import format_tracking_number

TIMELINE_LIMIT = 20  # the latest events; a message holds 4,096 characters
EXCERPT = 300  # characters of the citizen's own text shown on their card


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
    """What happened, in words; kinds added later read as a plain "updated" until named here."""
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
    day = format_date(local, "medium", locale=language)
    return f"{day} {format_time(local, 'short', locale=language)}"


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


async def citizen_card(
    case: CaseView, timeline: list[EventView], t: Translator, zone: ZoneInfo
) -> str:
    """What a citizen sees of their own case: where it stands and what happened so far."""
    lines = [
        t.gettext("Request {number}", number=format_tracking_number(case.tracking)),
        t.gettext("Status: {status}", status=status_name(t, case.status)),
        t.gettext(
            "Category: {category}", category=await category_name(case.category_code, t.language)
        ),
        t.gettext(
            "Department: {department}", department=await department_name(case.department_code, t)
        ),
    ]
    if case.due_at is not None:
        lines.append(t.gettext("Due by: {due}", due=when(case.due_at, zone, t.language)))
    lines += ["", t.gettext("You wrote: {text}", text=excerpt(description(case, t))), ""]
    lines.append(t.gettext("What happened so far:"))
    lines += [
        f"• {when(event.created_at, zone, t.language)} — {event_name(t, event)}"
        for event in timeline[-TIMELINE_LIMIT:]
    ]
    return "\n".join(lines)


def map_link(latitude: float, longitude: float) -> str:
    return f"https://maps.google.com/?q={latitude:.6f},{longitude:.6f}"


async def answer_lines(case: CaseView, language: str) -> list[str]:
    """The category's own questions with the citizen's answers (choices by their name)."""
    try:
        questions = {q.code: q for q in (await category(case.category_code)).questions}
    except CategoryNotFound:
        questions = {}
    lines = []
    for code, value in case.answers.items():
        question = questions.get(code)
        if question is None:
            lines.append(f"• {code}: {value}")
            continue
        shown = next((c.name(language) for c in question.choices if c.code == value), value)
        lines.append(f"• {question.prompt(language)}: {shown}")
    return lines


async def staff_card(case: CaseView, t: Translator, zone: ZoneInfo) -> str:
    """The new-case card in the staff chat: everything needed to accept or route it."""
    lines = [
        t.gettext("New request {number}", number=format_tracking_number(case.tracking)),
        t.gettext("Kind: {kind}", kind=kind_name(t, case.kind)),
        t.gettext(
            "Category: {category}", category=await category_name(case.category_code, t.language)
        ),
    ]
    if case.proposed_department_code is not None:
        lines.append(
            t.gettext(
                "Proposed department: {department}",
                department=await department_name(case.proposed_department_code, t),
            )
        )
    if case.due_at is not None:
        lines.append(t.gettext("Due by: {due}", due=when(case.due_at, zone, t.language)))
    location = case.location
    if location is not None and location.address:
        lines.append(t.gettext("Where: {address}", address=location.address))
    if location is not None and location.latitude is not None and location.longitude is not None:
        lines.append(
            t.gettext("Map: {link}", link=map_link(location.latitude, location.longitude))
        )
    if case.anonymous or not case.phone:
        lines.append(t.gettext("Contact: anonymous; answer through the bot"))
    else:
        lines.append(t.gettext("Contact: {phone}", phone=case.phone))
    answers = await answer_lines(case, t.language)
    if answers:
        lines += [t.gettext("Answers:"), *answers]
    lines += ["", description(case, t)]
    return "\n".join(lines)
