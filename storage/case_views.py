"""What the case operations take and give: plain values, frozen views and domain errors.

Import these through `storage.cases`; this module only keeps that one readable.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.attachments import Attachment, attachments_from_json
from storage.catalog import CategoryNotFound
from storage.models import Actor, CaseKind, CaseStatus

# Every status before an end: the case still moves and the citizen may still add to it.
OPEN_STATUSES: frozenset[CaseStatus] = frozenset(
    {
        CaseStatus.SUBMITTED,
        CaseStatus.ACCEPTED,
        CaseStatus.IN_PROGRESS,
        CaseStatus.AWAITING_CITIZEN,
        CaseStatus.ANSWERED,
    }
)
END_STATUSES: frozenset[CaseStatus] = frozenset(CaseStatus) - OPEN_STATUSES

# How much a request's description and address may hold, in every channel (chat, Open311, phone
# intake): submit_case refuses anything outside these, and each channel's form says them first.
DESCRIPTION_MIN, DESCRIPTION_MAX = 10, 3000
ADDRESS_MAX = 300


class CaseNotFound(LookupError):
    """No such case, or not the asking citizen's: the same error, so nothing leaks."""


class CaseClosed(Exception):
    """The case has ended (closed, rejected or merged): nothing more can be added."""


class CitizenBlocked(Exception):
    """Staff have barred this citizen from filing."""


class CitizenNotFound(LookupError):
    """No citizen row for this user id (handlers create it on first contact)."""


class CategoryUnavailable(CategoryNotFound):
    """The code names a domain, a retired category or an emergency: nothing to file under."""


class CaseLimitReached(Exception):
    """The citizen filed `limit` cases in the last 24 hours."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"at most {limit} new cases in 24 hours")
        self.limit = limit


class CaseActionRefused(Exception):
    """An action on a case cannot be taken now, for the reason `why` (a code its caller words);
    nothing was changed."""

    def __init__(self, tracking: str, why: str) -> None:
        super().__init__(f"case {tracking}: {why}")
        self.tracking = tracking
        self.why = why


class FieldOutOfLimits(ValueError):
    """A new case's `field` ("text" or "address") is shorter than `low` or longer than `high`."""

    def __init__(self, field: str, low: int, high: int) -> None:
        super().__init__(f"{field} must be {low} to {high} characters")
        self.field, self.low, self.high = field, low, high


@dataclass(frozen=True)
class Location:
    latitude: float | None
    longitude: float | None
    address: str | None


@dataclass(frozen=True)
class NewCase:
    """What a citizen submits, as the intake conversation collected it.

    `citizen_id` is None for a request filed through another channel (an Open311 client, a
    call-taker), whose `source` names it (the API key's name, the staff member).
    """

    citizen_id: int | None
    kind: CaseKind
    category_code: str
    text: str
    photos: tuple[str, ...]  # Telegram file_ids
    location: Location | None
    answers: dict[str, Any]  # the category's own questions: code -> JSON-able value
    phone: str | None
    anonymous: bool
    channel: str = "telegram"
    source: str | None = None
    publish_consent: bool = False  # the citizen agreed that a public text may be published
    attachments: tuple[Attachment, ...] = ()  # voice, video, audio, documents


@dataclass(frozen=True)
class CaseView:
    tracking: str  # canonical 12 symbols; show it with tracking.format_tracking_number
    citizen_id: int | None  # None once the citizen asked to be forgotten
    kind: CaseKind
    category_code: str
    department_code: str | None  # set on acceptance
    status: CaseStatus
    text: str
    photos: tuple[str, ...]
    location: Location | None
    answers: dict[str, Any]
    phone: str | None
    anonymous: bool
    channel: str
    created_at: datetime
    due_at: datetime | None
    updated_at: datetime
    # The department proposed when the case was filed (the category's, or its area's for a
    # local category: storage.proposals): staff are offered it first.
    proposed_department_code: str | None = None
    # Why it was proposed: {"kind": "local", "area": code} | {"kind": "functional"} |
    # {"kind": "category"} (storage.proposals); None for cases filed before proposals had one.
    proposal_reason: dict[str, Any] | None = None
    # When the citizen's words (text, answers, place, photos) were erased at their request.
    erased_at: datetime | None = None
    attachments: tuple[Attachment, ...] = ()  # voice, video, audio, documents

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


@dataclass(frozen=True)
class EventView:
    kind: str
    actor: str  # "citizen" | "staff" | "system"
    payload: dict[str, Any]
    created_at: datetime


CASE_COLUMNS = (
    "id",
    "tracking",
    "citizen_id",
    "kind",
    "category__code",
    "department__code",
    "proposed_department__code",
    "proposal_reason",
    "status",
    "text",
    "photos",
    "attachments",
    "latitude",
    "longitude",
    "address",
    "answers",
    "phone",
    "anonymous",
    "channel",
    "created_at",
    "due_at",
    "updated_at",
    "erased_at",
)

EVENT_COLUMNS = ("kind", "actor", "payload", "created_at")


def case_view(row: dict[str, Any]) -> CaseView:
    """A view of one `Case.values(*CASE_COLUMNS)` row."""
    lat, lon, address = row["latitude"], row["longitude"], row["address"]
    located = lat is not None or lon is not None or address is not None
    return CaseView(
        tracking=row["tracking"],
        citizen_id=row["citizen_id"],
        kind=CaseKind(row["kind"]),
        category_code=row["category__code"],
        department_code=row["department__code"],
        status=CaseStatus(row["status"]),
        text=row["text"],
        photos=tuple(row["photos"]),
        location=Location(lat, lon, address) if located else None,
        answers=dict(row["answers"]),
        phone=row["phone"],
        anonymous=row["anonymous"],
        channel=row["channel"],
        created_at=row["created_at"],
        due_at=row["due_at"],
        updated_at=row["updated_at"],
        proposed_department_code=row["proposed_department__code"],
        proposal_reason=row.get("proposal_reason"),
        erased_at=row.get("erased_at"),
        attachments=attachments_from_json(row.get("attachments")),
    )


def event_view(row: dict[str, Any]) -> EventView:
    return EventView(
        kind=row["kind"],
        actor=Actor(row["actor"]).value,
        payload=dict(row["payload"]),
        created_at=row["created_at"],
    )
