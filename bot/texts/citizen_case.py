"""What a citizen reads of their own case: a sentence for each event, the answer and the outcome.

The events come as storage.citizen_timeline gives them, with only the facts meant for the
citizen. Each kind has one whole sentence, with the question asked or the answer given where
it has one; a transfer names the new department and nothing of why. A case the department
answered shows the answer in full and how it ended (the rating, if any); a due date is shown
only while the department still owes an answer. Plain text, sent without a parse_mode.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.i18n import Translator
from bot.texts.cases import (
    category_name,
    department_name,
    description,
    erased,
    excerpt,
    status_name,
    when,
)
from bot.texts.ratings import rating_line, satisfaction_labels, solved_labels
from storage.case_views import OPEN_STATUSES, CaseView, EventView
from storage.models import CaseStatus
from storage.tracking import format_tracking_number

TIMELINE_LIMIT = 20  # the latest events on the card
IN_TIMELINE = 120  # characters of a question or answer on a timeline line
ANSWER_LIMIT = 2000  # characters of the answer on the card
WROTE_LIMIT = 300  # characters of the citizen's own description on the card
CARD_LIMIT = 4000  # a message holds 4,096; older timeline lines give way first
# The events that end a case, whose sentence is its outcome.
ENDINGS = ("closed", "rejected", "merged", "withdrawn")
# While the department still owes an answer, the due date means something.
AWAITING_ANSWER = OPEN_STATUSES - {CaseStatus.ANSWERED}


class _Facts:
    def __init__(self, event: EventView, t: Translator, limit: int | None) -> None:
        self.payload, self.t, self.limit = event.payload, t, limit

    def text(self, key: str) -> str:
        if self.payload.get("erased"):
            return erased(self.t)
        value = str(self.payload.get(key) or "").strip()
        if not value:
            return "—"
        return value if self.limit is None else excerpt(value, self.limit)


async def event_sentence(
    t: Translator, event: EventView, zone: ZoneInfo, limit: int | None = IN_TIMELINE
) -> str:
    """One event of the citizen's own case in words, with what it carried (texts cut to
    `limit` characters; None: whole)."""
    facts = _Facts(event, t, limit)
    code = event.payload.get("department")
    department = await department_name(str(code), t) if code else "—"
    due_at = event.payload.get("due_at")
    due = when(datetime.fromisoformat(str(due_at)), zone, t.language) if due_at else None
    sentence = _sentences(t, event, facts, department, due).get(event.kind)
    return sentence() if sentence is not None else t.gettext("Updated")


def _sentences(
    t: Translator, event: EventView, f: _Facts, department: str, due: str | None
) -> dict[str, Callable[[], str]]:
    """Every kind's sentence, made only when asked for."""
    p = event.payload
    return {
        "submitted": lambda: t.gettext("You filed the request."),
        "citizen_added": lambda: (
            t.gettext("You added information: {text}", text=f.text("text"))
            if p.get("erased") or str(p.get("text") or "").strip()
            else t.gettext("You added photos or files.")
        ),
        "withdrawn": lambda: t.gettext("You withdrew the request."),
        "accepted": lambda: (
            t.gettext(
                "Accepted by {department}; an answer is due by {due}.",
                department=department,
                due=due,
            )
            if due
            else t.gettext("Accepted by {department}.", department=department)
        ),
        "transferred": lambda: t.gettext(
            "Passed on to {department}, which handles it from now on.", department=department
        ),
        "rejected": lambda: t.gettext(
            "Not accepted. The reason: {reason}", reason=f.text("reason")
        ),
        "question": lambda: t.gettext(
            "The department asked you for more information: {question}",
            question=f.text("question"),
        ),
        "citizen_answered": lambda: t.gettext("You answered: {text}", text=f.text("text")),
        "answered": lambda: t.gettext("The department answered: {text}", text=f.text("text")),
        "rated": lambda: t.gettext(
            "You rated the answer: {solved} · {satisfaction}.", **rating_labels(t, event)
        ),
        "reopened": lambda: (
            t.gettext("Reopened: you were not satisfied with the answer.")
            if p.get("reason") == "unsatisfied"
            else t.gettext("Reopened: the department is working on it again.")
        ),
        "closed": lambda: _closed(t, p.get("reason")),
        "merged": lambda: t.gettext(
            "Merged into request {into}, about the same problem.",
            into=format_tracking_number(str(p.get("into") or "")),
        ),
        "joined": lambda: t.gettext("Another citizen joined your request."),
        "urgent": lambda: t.gettext("Now handled as urgent: an answer is due by {due}.", due=due),
        "extension_granted": lambda: t.gettext(
            "The department needs more time: an answer is now due by {due}.", due=due
        ),
    }


def _closed(t: Translator, reason: object) -> str:
    if reason == "rated":
        return t.gettext("Closed after your rating.")
    if reason == "no_feedback":
        return t.gettext("Closed: the answer was not rated in time.")
    if reason == "reopen_window_passed":
        return t.gettext("Closed: the time to reopen it has passed.")
    return t.gettext("Closed by the department.")


def rating_labels(t: Translator, event: EventView) -> dict[str, str]:
    """A "rated" event's two answers by their names: {"solved": …, "satisfaction": …}."""
    solved = str(event.payload.get("solved"))
    satisfaction = str(event.payload.get("satisfaction"))
    return {
        "solved": solved_labels(t).get(solved, solved),
        "satisfaction": satisfaction_labels(t).get(satisfaction, satisfaction),
    }


def latest(timeline: list[EventView], *kinds: str) -> EventView | None:
    """The latest event of one of these kinds, or None."""
    return next((e for e in reversed(timeline) if e.kind in kinds), None)


def rating_of_answer(timeline: list[EventView]) -> EventView | None:
    """The rating given to the latest answer, if any (a reopened case's old rating is not)."""
    for event in reversed(timeline):
        if event.kind == "rated":
            return event
        if event.kind in ("answered", "reopened"):
            return None
    return None


async def answer_and_outcome(
    case: CaseView,
    timeline: list[EventView],
    t: Translator,
    zone: ZoneInfo,
    comment: str | None = None,
) -> list[str]:
    """The question waiting for the citizen, the department's latest answer in full, and how
    the case ended with the citizen's rating (and `comment`, their rating's comment), if any."""
    lines: list[str] = []
    question = latest(timeline, "question")
    if case.status is CaseStatus.AWAITING_CITIZEN and question is not None:
        asked = _Facts(question, t, ANSWER_LIMIT).text("question")
        lines += [t.gettext("The department is waiting for your answer to:"), asked, ""]
    answer = latest(timeline, "answered", "reopened")
    if answer is not None and answer.kind == "answered":
        at = when(answer.created_at, zone, t.language)
        text = _Facts(answer, t, ANSWER_LIMIT).text("text")
        lines += [t.gettext("The department's answer ({date}):", date=at), text, ""]
    rated = rating_of_answer(timeline)
    ending = latest(timeline, *ENDINGS) if not case.is_open else None
    if ending is not None:
        outcome = await event_sentence(t, ending, zone)
        lines.append(t.gettext("Outcome: {outcome}", outcome=outcome))
    elif case.status is CaseStatus.ANSWERED and rated is None:
        lines.append(
            t.gettext("Outcome: answered; please rate the answer with the buttons under it.")
        )
    if rated is not None:
        solved, satisfaction = (str(rated.payload.get(k)) for k in ("solved", "satisfaction"))
        lines.append(rating_line(t, solved, satisfaction, comment))
    return [*lines, ""] if lines and lines[-1] else lines


async def citizen_card(
    case: CaseView,
    timeline: list[EventView],
    t: Translator,
    zone: ZoneInfo,
    comment: str | None = None,
) -> str:
    """What a citizen sees of their own case: where it stands, the answer and how it ended,
    and what happened so far, a sentence for each event."""
    head = [
        t.gettext("Request {number}", number=format_tracking_number(case.tracking)),
        t.gettext("Status: {status}", status=status_name(t, case.status)),
        t.gettext(
            "Category: {category}", category=await category_name(case.category_code, t.language)
        ),
        t.gettext(
            "Department: {department}", department=await department_name(case.department_code, t)
        ),
        t.gettext("Filed: {date}", date=when(case.created_at, zone, t.language)),
    ]
    if case.due_at is not None and case.status in AWAITING_ANSWER:
        head.append(t.gettext("Due by: {due}", due=when(case.due_at, zone, t.language)))
    head += ["", t.gettext("You wrote: {text}", text=excerpt(description(case, t), WROTE_LIMIT))]
    head += ["", *await answer_and_outcome(case, timeline, t, zone, comment)]
    if head[-1]:
        head.append("")
    events = [
        f"• {when(event.created_at, zone, t.language)} — {await event_sentence(t, event, zone)}"
        for event in timeline[-TIMELINE_LIMIT:]
    ]
    return _fit(head, t.gettext("What happened so far:"), events, t)


def _fit(head: list[str], title: str, events: list[str], t: Translator) -> str:
    """The card within one message: the oldest timeline lines give way first."""
    left_out = t.gettext("(earlier events left out)")
    shown = list(events)
    while True:
        lines = [*head, title, *([left_out] if len(shown) < len(events) else []), *shown]
        text = "\n".join(lines)
        if len(text) <= CARD_LIMIT or not shown:
            return text[:CARD_LIMIT]
        shown.pop(0)
