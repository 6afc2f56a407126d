"""What staff read about a case: status names, who acted, each event of the audit trail, and
where the case stands in routing (lead and co-handling departments, signing for it).

Stored codes ("citizen_added", actor "staff" 72001, status "in_progress") are turned into words
here, in the staff member's language; a citizen who chose to stay anonymous is never named by
their Telegram id (People). Every event kind has one whole sentence of its own, with
named placeholders for who did it and what it carried (a department, a reason, a note's text);
a kind not named here yet reads as its code, with its facts, rather than disappear.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.i18n import Translator
from bot.texts.callbacks import callback_sentences
from bot.texts.cases import department_name, erased, excerpt, status_name, when
from bot.texts.ratings import satisfaction_labels, solved_labels
from bot.texts.timeline_system import system_sentence
from storage.case_views import CaseView
from storage.cases import AuditEntry
from storage.models import Actor, CaseStatus
from storage.routing import routing_of
from storage.tracking import format_tracking_number

TEXT_EXCERPT = 400  # characters of a note, reply or question shown in the timeline
DENIAL_KIND = "authz_denied"

# Kinds whose facts are not all worded by their sentence: the rest are shown as "key: value".
_SHOW_FACTS = frozenset(
    {
        "urgent",
        "extension_requested",
        "extension_granted",
        "extension_refused",
        "reminder_75",
        "escalated",
        "joined",
    }
)


def staff_status_name(t: Translator, status: CaseStatus) -> str:
    """A status as staff say it: "waiting for the citizen" where the citizen reads "for you"."""
    if status is CaseStatus.AWAITING_CITIZEN:
        return t.gettext("waiting for the citizen")
    return status_name(t, status)


class People:
    """Who acted on one case, named as its staff may see them.

    Staff members by their user id ("staff member 72001"). The citizen who filed by their id,
    unless they chose to stay anonymous: then "anonymous citizen". Every other citizen on the
    case (a supporter who joined it) by a letter of this case alone ("citizen A"), given in the
    order they first acted, so the timeline tells them apart without naming anyone.
    """

    def __init__(self, case: CaseView, entries: Sequence[AuditEntry]) -> None:
        self._filer = case.citizen_id
        self._anonymous = case.anonymous
        others: dict[int, str] = {}
        for entry in entries:
            who = entry.actor_id
            if entry.event.actor == Actor.CITIZEN and who is not None and who != self._filer:
                others.setdefault(who, _letters(len(others)))
        self._others = others

    def name(self, t: Translator, actor: str, actor_id: int | None) -> str:
        if actor == Actor.STAFF:
            return t.gettext("staff member {user}", user=actor_id if actor_id is not None else "?")
        if actor != Actor.CITIZEN:
            return t.gettext("the system")
        if actor_id is None:  # erased at their request, or filed by phone or another channel
            return t.gettext("the citizen")
        if actor_id != self._filer:
            return t.gettext("citizen {alias}", alias=self._others.get(actor_id, "?"))
        if self._anonymous:
            return t.gettext("anonymous citizen")
        return t.gettext("citizen {user}", user=actor_id)


def _letters(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA: spreadsheet column names, as many as a case needs."""
    name, index = "", index + 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(ord("A") + rest) + name
    return name


class _Facts:
    """An event's payload, read as display strings ("—" for a fact that is missing)."""

    def __init__(self, payload: dict[str, Any]) -> None:
        self.payload = payload

    def text(self, key: str) -> str:
        value = self.payload.get(key)
        return excerpt(str(value), TEXT_EXCERPT) if value not in (None, "") else "—"


async def event_sentence(t: Translator, entry: AuditEntry, people: People, zone: ZoneInfo) -> str:
    """One event in words: the kind's own sentence, with the actor and the facts it carried."""
    event = entry.event
    actor = people.name(t, event.actor, entry.actor_id)
    facts = _Facts(event.payload)
    if event.payload.get("erased"):  # the citizen's words, erased at their request
        facts = _Facts({"text": erased(t), "comment": erased(t)})
    code = event.payload.get("department")
    department = await department_name(str(code), t) if code else "—"
    sentence = _sentences(t, actor, facts, department, zone).get(event.kind)
    if sentence is None:
        if (said := await system_sentence(t, event.kind, actor, event.payload, zone)) is not None:
            return said
        return _with_facts(t.gettext("{actor}: {kind}", actor=actor, kind=event.kind), facts)
    said = sentence()
    return _with_facts(said, facts) if event.kind in _SHOW_FACTS else said


def _with_facts(said: str, facts: _Facts) -> str:
    details = " · ".join(f"{key}: {facts.text(key)}" for key in sorted(facts.payload))
    return f"{said} — {details}" if details else said


def _unpublished(t: Translator, actor: str, f: _Facts) -> str:
    if f.payload.get("reason"):
        return t.gettext(
            "{actor} took the request off the public pages: {reason}",
            actor=actor,
            reason=f.text("reason"),
        )
    return t.gettext("{actor} took the request off the public pages", actor=actor)


def _sentences(
    t: Translator, actor: str, f: _Facts, department: str, zone: ZoneInfo
) -> dict[str, Callable[[], str]]:
    """Every known event kind's sentence, made only when asked for."""
    p = f.payload
    return {
        "submitted": lambda: t.gettext("{actor} filed the request", actor=actor),
        "citizen_added": lambda: t.gettext(
            "{actor} added information: {text}", actor=actor, text=f.text("text")
        ),
        "withdrawn": lambda: t.gettext("{actor} withdrew the request", actor=actor),
        "personal_data_erased": lambda: t.gettext(
            "The citizen's personal data was erased at their request"
        ),
        "published": lambda: t.gettext(
            "{actor} published the request: {title}", actor=actor, title=f.text("public_title")
        ),
        "unpublished": lambda: _unpublished(t, actor, f),
        "consent_given": lambda: t.gettext(
            "{actor} agreed that the request may be published without their name", actor=actor
        ),
        "consent_withdrawn": lambda: t.gettext(
            "{actor} withdrew the consent to publish the request", actor=actor
        ),
        "accepted": lambda: _accepted(t, actor, department, p.get("due_at"), zone),
        "rejected": lambda: t.gettext(
            "{actor} rejected the request: {reason}", actor=actor, reason=f.text("reason")
        ),
        "transferred": lambda: t.gettext(
            "{actor} transferred the request to {department}: {reason}",
            actor=actor,
            department=department,
            reason=f.text("reason"),
        ),
        "closed": lambda: (
            t.gettext("{actor} closed the request: {reason}", actor=actor, reason=f.text("text"))
            if p.get("text")
            else _closed(t, actor, p.get("reason"))
        ),
        "merged": lambda: t.gettext(
            "{actor} merged the request into {into}", actor=actor, into=_number(p.get("into"))
        ),
        "reopened": lambda: (
            t.gettext("{actor} reopened the request, not satisfied with the answer", actor=actor)
            if p.get("reason") == "unsatisfied"
            else t.gettext("{actor} reopened the request", actor=actor)
        ),
        "note": lambda: t.gettext(
            "{actor} added an internal note: {text}", actor=actor, text=f.text("text")
        ),
        "question": lambda: t.gettext(
            "{actor} asked the citizen: {question}", actor=actor, question=f.text("question")
        ),
        "citizen_answered": lambda: t.gettext(
            "{actor} answered the question: {text}", actor=actor, text=f.text("text")
        ),
        "reply_submitted": lambda: (
            t.gettext(
                "{actor} submitted a reply for review, marked perfunctory: {text}",
                actor=actor,
                text=f.text("text"),
            )
            if p.get("perfunctory")
            else t.gettext(
                "{actor} submitted a reply for review: {text}", actor=actor, text=f.text("text")
            )
        ),
        "answered": lambda: (
            t.gettext(
                "{actor} answered the citizen directly (no review needed): {text}",
                actor=actor,
                text=f.text("text"),
            )
            if p.get("direct")
            else t.gettext(
                "{actor} approved the reply and it was sent to the citizen: {text}",
                actor=actor,
                text=f.text("text"),
            )
        ),
        "reply_returned": lambda: t.gettext(
            "{actor} returned the reply to its author: {reason}",
            actor=actor,
            reason=f.text("reason"),
        ),
        "rating_solved": lambda: t.gettext(
            "{actor} said whether it was solved: {solved}",
            actor=actor,
            solved=_label(solved_labels(t), f, "solved"),
        ),
        "rated": lambda: t.gettext(
            "{actor} rated the answer: {solved}; {satisfaction}",
            actor=actor,
            solved=_label(solved_labels(t), f, "solved"),
            satisfaction=_label(satisfaction_labels(t), f, "satisfaction"),
        ),
        "rating_comment": lambda: t.gettext(
            "{actor} commented on the answer: {comment}", actor=actor, comment=f.text("comment")
        ),
        "rating_reminder": lambda: t.gettext("The citizen was reminded to rate the answer"),
        "signed": lambda: (
            t.gettext(
                "{actor} signed for the request for {department}",
                actor=actor,
                department=department,
            )
            if p.get("on_time", True)
            else t.gettext(
                "{actor} signed for the request for {department}, late",
                actor=actor,
                department=department,
            )
        ),
        "sent_back": lambda: t.gettext(
            "{actor} returned the request as misrouted from {department}: {reason}",
            actor=actor,
            department=department,
            reason=f.text("reason"),
        ),
        "route_by_hand": lambda: t.gettext(
            "Transferred {count} times: a supervisor routes it by hand", count=f.text("transfers")
        ),
        "co_handling": lambda: _co_handling(t, actor, department),
        "co_handling_added": lambda: _co_handling(t, actor, department),
        "urgent": lambda: t.gettext("{actor} marked the request urgent", actor=actor),
        "extension_requested": lambda: t.gettext("{actor} asked for an extension", actor=actor),
        "extension_granted": lambda: t.gettext("{actor} granted the extension", actor=actor),
        "extension_refused": lambda: t.gettext("{actor} refused the extension", actor=actor),
        "reminder_75": lambda: (
            t.gettext(
                "Its handler, staff member {user}, was reminded: 75% of the time limit has passed",
                user=f.text("handler"),
            )
            if p.get("handler")
            else t.gettext("The department was reminded: 75% of the time limit has passed")
        ),
        # A handler within the department (承办人: storage.case_handler).
        "handler_taken": lambda: t.gettext("{actor} became the handler", actor=actor),
        "handler_given": lambda: t.gettext(
            "{actor} made staff member {user} the handler", actor=actor, user=f.text("handler")
        ),
        "escalated": lambda: t.gettext("Escalated to the supervisors: the time limit has passed"),
        "joined": lambda: t.gettext("{actor} joined the request as a supporter", actor=actor),
        **callback_sentences(t, actor, p),  # 回访 and 差评复核 (bot.texts.callbacks)
    }


def _accepted(t: Translator, actor: str, department: str, due: object, zone: ZoneInfo) -> str:
    if not due:
        return t.gettext(
            "{actor} accepted the request into {department}", actor=actor, department=department
        )
    due_at = when(datetime.fromisoformat(str(due)), zone, t.language)
    return t.gettext(
        "{actor} accepted the request into {department}, due by {due}",
        actor=actor,
        department=department,
        due=due_at,
    )


def _closed(t: Translator, actor: str, reason: object) -> str:
    if reason == "no_feedback":
        return t.gettext("Closed without feedback: the citizen did not rate the answer")
    if reason == "rated":
        return t.gettext("{actor} closed the request by rating the answer", actor=actor)
    return t.gettext("{actor} closed the request", actor=actor)


def _co_handling(t: Translator, actor: str, department: str) -> str:
    return t.gettext(
        "{actor} added {department} as a co-handling department",
        actor=actor,
        department=department,
    )


def _label(labels: dict[str, str], facts: _Facts, key: str) -> str:
    code = facts.text(key)
    return labels.get(code, code)


def _number(tracking: object) -> str:
    return format_tracking_number(str(tracking)) if tracking else "—"


async def timeline_lines(
    t: Translator, case: CaseView, entries: list[AuditEntry], zone: ZoneInfo
) -> list[str]:
    """A case's audit trail, one line per event: when, and what happened in words.

    Refused actions are the access log's (storage.staff.record_denial), not the case's: those
    an earlier version wrote on cases ("authz_denied") are left out, as anyone could add them.
    """
    entries = [entry for entry in entries if entry.event.kind != DENIAL_KIND]
    people = People(case, entries)
    return [
        f"• {when(entry.event.created_at, zone, t.language)} — "
        + await event_sentence(t, entry, people, zone)
        for entry in entries
    ]


async def names(codes: list[str] | tuple[str, ...], t: Translator) -> str:
    """Department names in the reader's language, as a list."""
    return ", ".join([await department_name(code, t) for code in codes])


async def routing_lines(tracking: str, t: Translator, zone: ZoneInfo) -> list[str]:
    """For /case: the lead and co-handling departments, and when it was (to be) signed for."""
    view = await routing_of(tracking)
    lines = []
    if view.lead_code is not None:
        lines.append(
            t.gettext(
                "Lead department: {department}",
                department=await department_name(view.lead_code, t),
            )
        )
    if view.co_codes:
        lines.append(
            t.gettext("Co-handling: {departments}", departments=await names(view.co_codes, t))
        )
    if view.signed_at is not None:
        lines.append(t.gettext("Signed for: {time}", time=when(view.signed_at, zone, t.language)))
    elif view.sign_due_at is not None:
        due = when(view.sign_due_at, zone, t.language)
        lines.append(t.gettext("Not signed for yet; due by {time}", time=due))
    if view.route_by_hand:
        lines.append(t.gettext("A supervisor routes this request by hand."))
    return lines
