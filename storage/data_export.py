"""What /mydata gives a citizen: everything the desk holds about them, and nothing of anyone else.

Read in one transaction: the citizen's row, their requests with the history they may read
(storage.citizen_timeline: no staff ids, notes or review flags), their rating comments, the
requests they support, the request they are writing, the numbers they looked up that are not
theirs, and for each request whether they agreed to publish it and what the public reads of it.
Left out on purpose: the /forget question's one-time value (a key, not a fact about them), photo
and file ids (Telegram's handles; the count says what is kept), who else follows their
requests, and the internal fields of a case (review flags, routing, version). Putting it into
words is bot.texts.my_data's work.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.transactions import in_transaction

from storage.case_views import CASE_COLUMNS, EVENT_COLUMNS, CaseView, EventView, case_view
from storage.citizen_timeline import citizen_events
from storage.drafts import INTAKE_STEPS, DraftView, Step
from storage.models import Case, CaseFollower, Citizen, Draft, Event, Rating, TrackingLookup
from storage.publication import PUBLISHED_COLUMNS, is_published

# What of a request is public, or may be: the citizen's choice and the texts staff approved.
PUBLIC_COLUMNS = ("id", *PUBLISHED_COLUMNS, "public_title", "public_note")


@dataclass(frozen=True)
class Publicity:
    """Whether the citizen agreed to publish a request, and what the public reads of it."""

    consent: bool
    published: bool
    title: str | None  # the texts staff approved, shown only while published
    text: str | None
    note: str | None


@dataclass(frozen=True)
class OwnCase:
    """One of the citizen's requests, with the history they may read and their comment."""

    case: CaseView
    timeline: tuple[EventView, ...]
    comment: str | None  # what they wrote with their rating
    publicity: Publicity


@dataclass(frozen=True)
class HeldData:
    """Everything held about one citizen, as plain values."""

    user_id: int
    first_name: str
    language: str
    phone: str | None
    blocked: bool
    first_contact_at: datetime | None
    cases: tuple[OwnCase, ...]  # oldest first
    supported: tuple[tuple[str, datetime], ...]  # requests of others they joined: number, since
    draft: DraftView | None  # a request being written (intake steps only)
    lookups: tuple[tuple[str, datetime], ...]  # numbers not theirs they looked up: number, when


async def held_data(citizen_id: int) -> HeldData:
    """Everything held about the citizen with this Telegram user id (empty if none)."""
    async with in_transaction():
        citizen = await Citizen.get_or_none(id=citizen_id)
        rows = await (
            Case.filter(citizen_id=citizen_id).order_by("created_at", "id").values(*CASE_COLUMNS)
        )
        ids = [row["id"] for row in rows]
        events = await (
            Event.filter(case_id__in=ids).order_by("id").values("case_id", *EVENT_COLUMNS)
        )
        comments = await Rating.filter(case_id__in=ids, citizen_id=citizen_id).values(
            "case_id", "comment"
        )
        public = await Case.filter(id__in=ids).values(*PUBLIC_COLUMNS)
        supported = await (
            CaseFollower.filter(citizen_id=citizen_id)
            .order_by("created_at", "id")
            .values_list("case__tracking", "created_at")
        )
        draft = await Draft.get_or_none(citizen_id=citizen_id)
        lookups = await (
            TrackingLookup.filter(citizen_id=citizen_id)
            .order_by("created_at", "id")
            .values_list("tracking", "created_at")
        )
    by_case: dict[int, list[dict[str, Any]]] = {case_id: [] for case_id in ids}
    for event in events:
        by_case[int(event["case_id"])].append(event)
    said = {int(row["case_id"]): row["comment"] for row in comments}
    publicity = {int(row["id"]): _publicity(row) for row in public}
    cases = tuple(
        OwnCase(
            case_view(row),
            tuple(citizen_events(by_case[row["id"]])),
            said.get(row["id"]),
            publicity[row["id"]],
        )
        for row in rows
    )
    return HeldData(
        user_id=citizen_id,
        first_name=citizen.first_name if citizen else "",
        language=citizen.language if citizen else "",
        phone=citizen.phone if citizen else None,
        blocked=bool(citizen and citizen.blocked),
        first_contact_at=citizen.created_at if citizen else None,
        cases=cases,
        supported=tuple((str(number), at) for number, at in supported),
        draft=_draft(draft),
        lookups=tuple((str(number), at) for number, at in lookups),
    )


def _publicity(row: dict[str, Any]) -> Publicity:
    if not is_published(row):
        return Publicity(bool(row["publish_consent"]), False, None, None, None)
    return Publicity(True, True, row["public_title"], row["public_text"], row["public_note"])


def _draft(row: Draft | None) -> DraftView | None:
    """A request being written; a one-question step (a number asked for) holds nothing."""
    if row is None or row.step not in {step.value for step in INTAKE_STEPS}:
        return None
    return DraftView(row.citizen_id, Step(row.step), dict(row.data or {}), row.updated_at)
