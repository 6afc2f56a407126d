"""Cases: a citizen files one, follows it and adds to it. Each operation is one transaction.

The case change, its event (the audit trail and the citizen's timeline) and the notices it causes
(outbox rows) are written together or not at all. The citizen's own confirmation is the
handler's answer; the staff chat is told here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Q, Subquery
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from storage.attachments import Attachment
from storage.case_rows import case_row_by_id, citizen_case_row
from storage.case_views import ADDRESS_MAX as ADDRESS_MAX
from storage.case_views import CASE_COLUMNS as CASE_COLUMNS
from storage.case_views import DESCRIPTION_MAX as DESCRIPTION_MAX
from storage.case_views import DESCRIPTION_MIN as DESCRIPTION_MIN
from storage.case_views import END_STATUSES as END_STATUSES
from storage.case_views import EVENT_COLUMNS, case_view, event_view
from storage.case_views import OPEN_STATUSES as OPEN_STATUSES
from storage.case_views import CaseClosed as CaseClosed
from storage.case_views import CaseLimitReached as CaseLimitReached
from storage.case_views import CaseNotFound as CaseNotFound
from storage.case_views import CaseView as CaseView
from storage.case_views import CategoryUnavailable as CategoryUnavailable
from storage.case_views import CitizenBlocked as CitizenBlocked
from storage.case_views import CitizenNotFound as CitizenNotFound
from storage.case_views import EventView as EventView
from storage.case_views import FieldOutOfLimits as FieldOutOfLimits
from storage.case_views import Location as Location
from storage.case_views import NewCase as NewCase
from storage.catalog import CategoryNotFound
from storage.catalog_checks import as_code
from storage.category_suggest import suggestion_for
from storage.due_dates import due_at
from storage.duplicates import DEFAULT_DISTANCE_M, flag_if_repeat, similar_open_cases
from storage.models import Actor as Actor
from storage.models import Case, CaseFollower, Event
from storage.models import CaseKind as CaseKind
from storage.models import CaseStatus as CaseStatus
from storage.notice_queue import notify
from storage.proposals import proposal
from storage.sql import fetch
from storage.tracking import canonical_or_none, new_tracking_number
from storage.work_calendar import WorkCalendar

DAY = timedelta(hours=24)
_TRACKING_ATTEMPTS = 5
# Filing reads these once per case: plain SQL (storage/sql.py).
_CATEGORY_SQL = (
    "SELECT id, parent_id, department_id, active, emergency, time_limit_hours,"
    " time_limit_working_days, scope FROM category WHERE code = ?"
)
_CITIZEN_SQL = (
    "SELECT blocked, (SELECT count(*) FROM service_case WHERE citizen_id = ?"
    " AND created_at > ?) AS recent FROM citizen WHERE id = ?"
)


async def submit_case(
    new: NewCase,
    *,
    now: datetime,
    zone: ZoneInfo,
    daily_limit: int,
    staff_chat_id: int | None,
    duplicate_distance_m: float = DEFAULT_DISTANCE_M,
    calendar: WorkCalendar | None = None,
    accept_hours: float | None = None,
) -> CaseView:
    """File a case: status submitted, a fresh tracking number, a due date, the staff told.

    Raises FieldOutOfLimits for a description or an address outside DESCRIPTION_MIN to
    DESCRIPTION_MAX or longer than ADDRESS_MAX characters, whatever the channel.
    Raises CitizenNotFound, CitizenBlocked, CaseLimitReached (`daily_limit` cases created in the
    24 hours before `now`), CategoryNotFound for an unknown code and its subclass
    CategoryUnavailable for a domain, a retired category or an emergency (those are diverted).
    The due date runs from `now` on the category's limit (working days: Monday to Friday in
    `zone`, or on `calendar` with its holidays); the department is left for acceptance, one is
    proposed (storage.proposals: the category's, or a local area's). Acceptance is due
    `accept_hours` working hours from `now` on `calendar` (accept_due_at; none without both).
    A case like one of the citizen's closed within 30 days is flagged repeat; the staff card
    lists open cases like it (storage.duplicates, places within `duplicate_distance_m`).
    """
    _require_aware(now)
    _check_limits(new)
    # Before the transaction: a ranker rebuilt now and then must not hold the write lock.
    suggested = await suggestion_for(new.text, new.category_code)
    async with in_transaction():
        if new.citizen_id is not None:
            await _check_citizen(new.citizen_id, now=now, daily_limit=daily_limit)
        # Read in the transaction, not from the catalogue kept in memory: what is filed
        # under it is checked against the row as it is now.
        found = await fetch(_CATEGORY_SQL, as_code(new.category_code))
        if not found:
            raise CategoryNotFound(new.category_code)
        cat = found[0]
        if cat["parent_id"] is None or not cat["active"] or cat["emergency"]:
            raise CategoryUnavailable(new.category_code)
        hours, days = cat["time_limit_hours"], cat["time_limit_working_days"]
        due = None
        if hours is not None or days is not None:
            due = (
                calendar.due(now, hours=hours, working_days=days)
                if calendar is not None
                else due_at(now, hours=hours, working_days=days, zone=zone)
            )
        accept_due = None
        if calendar is not None and accept_hours is not None:
            accept_due = calendar.working_hours_after(now, accept_hours)
        location = new.location
        values: dict[str, Any] = {
            "citizen_id": new.citizen_id,
            "kind": CaseKind(new.kind),
            "category_id": cat["id"],
            **await proposal(cat, location),  # the department proposed, and why (属地)
            "status": CaseStatus.SUBMITTED,
            "text": new.text,
            # What the text reads as, when clearly not the chosen category: for the staff card.
            "suggested_category_id": suggested,
            "photos": list(new.photos),
            "attachments": [a.as_json() for a in new.attachments],
            "latitude": location.latitude if location else None,
            "longitude": location.longitude if location else None,
            "address": location.address if location else None,
            "answers": dict(new.answers),
            "phone": new.phone,
            "anonymous": new.anonymous,
            "channel": new.channel,
            "publish_consent": new.publish_consent,
            "created_at": now,
            "due_at": due,
            "accept_due_at": accept_due,
            "updated_at": now,
        }
        case = await _create_with_fresh_tracking(values)
        await Event.create(
            case_id=case.id,
            kind="submitted",
            actor=Actor.CITIZEN,
            actor_id=new.citizen_id,
            payload={
                "kind": str(CaseKind(new.kind)),
                "category": new.category_code,
                **({"channel": new.channel, "source": new.source} if new.source else {}),
            },
            public=True,
            created_at=now,
        )
        await flag_if_repeat(case.id, new.citizen_id, cat["id"], new.text, now=now)
        if staff_chat_id is not None:
            facts = {"tracking": case.tracking}
            # The staff card lists the open cases like this one, to merge it into with a tap.
            similar = await similar_open_cases(
                new.category_code,
                new.text,
                new.location,
                now=now,
                distance_m=duplicate_distance_m,
                exclude_case=case.tracking,
            )
            card = {**facts, "duplicates": [s.tracking for s in similar]} if similar else facts
            await notify(staff_chat_id, "staff_new_case", card, now=now)
            if new.photos:
                await notify(staff_chat_id, "staff_case_photos", facts, now=now)
            for index in range(len(new.attachments)):
                attached = {**facts, "index": index}
                await notify(staff_chat_id, "staff_case_attachment", attached, now=now)
        return await _view_by_id(case.id)


def _check_limits(new: NewCase) -> None:
    if not DESCRIPTION_MIN <= len(new.text) <= DESCRIPTION_MAX:
        raise FieldOutOfLimits("text", DESCRIPTION_MIN, DESCRIPTION_MAX)
    address = new.location.address if new.location is not None else None
    if address is not None and len(address) > ADDRESS_MAX:
        raise FieldOutOfLimits("address", 0, ADDRESS_MAX)


async def _check_citizen(citizen_id: int, *, now: datetime, daily_limit: int) -> None:
    found = await fetch(_CITIZEN_SQL, citizen_id, now - DAY, citizen_id)
    if not found:
        raise CitizenNotFound(citizen_id)
    if found[0]["blocked"]:
        raise CitizenBlocked(citizen_id)
    if found[0]["recent"] >= daily_limit:
        raise CaseLimitReached(daily_limit)


async def _create_with_fresh_tracking(values: dict[str, Any]) -> Case:
    """Insert under a new random number; on the rare collision, try another.

    Each try is a savepoint, so a failed insert does not poison the surrounding transaction
    (PostgreSQL aborts a whole transaction on an error outside one).
    """
    for attempt in range(1, _TRACKING_ATTEMPTS + 1):
        tracking = new_tracking_number()
        try:
            async with in_transaction():
                return await Case.create(tracking=tracking, **values)
        except IntegrityError:
            if attempt == _TRACKING_ATTEMPTS or not await Case.exists(tracking=tracking):
                raise
    raise AssertionError("unreachable")  # pragma: no cover


async def case_of_citizen(tracking: str, citizen_id: int) -> CaseView:
    """A citizen's own case by number; CaseNotFound when absent or someone else's (no leak).

    The number may be canonical or as typed (any case, dashes); handlers that want to say
    "mistyped" parse it first with storage.tracking.parse_tracking_number.
    """
    # One statement, so no transaction around it: the status lookup is the desk's busiest read.
    canonical = canonical_or_none(tracking)
    row = None if canonical is None else await citizen_case_row(canonical, citizen_id)
    if row is None:
        raise CaseNotFound(tracking)
    return case_view(row)


async def case_by_tracking(tracking: str) -> CaseView:
    """Any case by number, for staff and notice renderers; CaseNotFound when absent."""
    async with in_transaction():
        row = await _case_query(tracking).first().values(*CASE_COLUMNS)
    if row is None:
        raise CaseNotFound(tracking)
    return case_view(row)


async def public_timeline(tracking: str) -> list[EventView]:
    """The events a citizen may see on a case, oldest first; CaseNotFound when absent.

    No ownership check here: call case_of_citizen first on the citizen side.
    """
    # The events joined to their case by number in one statement; the case itself is looked for
    # only when there are none (every filed case has its public "submitted" event).
    number = canonical_or_none(tracking)
    events = Event.filter(case__tracking=number, public=True).order_by("id")
    rows = await events.values(*EVENT_COLUMNS) if number is not None else []
    if not rows and not await _case_query(tracking).exists():
        raise CaseNotFound(tracking)
    return [event_view(row) for row in rows]


@dataclass(frozen=True)
class AuditEntry:
    """One event as staff see it: who did it, and whether the citizen sees it too."""

    event: EventView
    actor_id: int | None
    public: bool


async def audit_trail(tracking: str) -> list[AuditEntry]:
    """Every event on a case, private ones included, oldest first (for staff only)."""
    async with in_transaction():
        case = await _case_query(tracking).first().values("id")
        if case is None:
            raise CaseNotFound(tracking)
        rows = (
            await Event.filter(case_id=case["id"])
            .order_by("id")
            .values(*EVENT_COLUMNS, "actor_id", "public")
        )
    return [AuditEntry(event_view(row), row["actor_id"], bool(row["public"])) for row in rows]


async def cases_of_citizen(
    citizen_id: int, *, page: int, per_page: int = 5
) -> tuple[list[CaseView], int]:
    """One page (0-based) of a citizen's cases, newest first, and how many they have in all.

    The cases they joined (storage.duplicates) count as theirs here. A page past the end is
    empty (the total tells the caller where the end is).
    """
    if page < 0 or per_page < 1:
        raise ValueError("page must be >= 0 and per_page >= 1")
    async with in_transaction():
        joined = Subquery(CaseFollower.filter(citizen_id=citizen_id).values("case_id"))
        mine = Case.filter(Q(citizen_id=citizen_id) | Q(id__in=joined))
        total = await mine.count()
        rows = await (
            mine.order_by("-created_at", "-id")
            .offset(page * per_page)
            .limit(per_page)
            .values(*CASE_COLUMNS)
        )
    return [case_view(row) for row in rows], total


async def add_information(
    tracking: str,
    citizen_id: int,
    *,
    text: str,
    photos: tuple[str, ...],
    now: datetime,
    staff_chat_id: int | None,
    attachments: tuple[Attachment, ...] = (),
) -> CaseView:
    """Append a citizen's text, photos and/or files to their open case and tell the staff chat.

    The addition is a public "citizen_added" event; its photos and files also join the case's.
    Raises CaseNotFound (absent or not theirs), CaseClosed (the case has ended), ValueError
    when there is neither text nor a photo nor a file. The status is left as it is.
    """
    _require_aware(now)
    if not text.strip() and not photos and not attachments:
        raise ValueError("nothing to add: give text or photos")
    async with in_transaction():
        # Locks the row on PostgreSQL (a no-op on SQLite, where writers are serialized anyway),
        # so two additions cannot lose each other's photos.
        case = (
            await _case_query(tracking).filter(citizen_id=citizen_id).select_for_update().first()
        )
        if case is None:
            raise CaseNotFound(tracking)
        if case.status in END_STATUSES:
            raise CaseClosed(tracking)
        event = await Event.create(
            case_id=case.id,
            kind="citizen_added",
            actor=Actor.CITIZEN,
            actor_id=citizen_id,
            payload={
                "text": text,
                "photos": list(photos),
                **({"attachments": [a.as_json() for a in attachments]} if attachments else {}),
            },
            public=True,
            created_at=now,
        )
        changes: dict[str, Any] = {"updated_at": now, "version": F("version") + 1}
        if photos:
            changes["photos"] = [*case.photos, *photos]
        if attachments:
            changes["attachments"] = [*case.attachments, *(a.as_json() for a in attachments)]
        await Case.filter(id=case.id).update(**changes)
        if staff_chat_id is not None:
            facts = {"tracking": case.tracking, "event_id": event.id}
            await notify(staff_chat_id, "staff_case_addition", facts, now=now)
            first = len(case.attachments)
            for index in range(first, first + len(attachments)):
                attached = {"tracking": case.tracking, "index": index}
                await notify(staff_chat_id, "staff_case_attachment", attached, now=now)
        return await _view_by_id(case.id)


def _case_query(tracking: str) -> QuerySet[Case]:
    """Cases with this number (none for text that is no valid number)."""
    canonical = canonical_or_none(tracking)
    if canonical is None:
        return Case.filter(id__in=[])
    return Case.filter(tracking=canonical)


async def _view_by_id(case_id: int) -> CaseView:
    row = await case_row_by_id(case_id)
    if row is None:
        raise CaseNotFound(str(case_id))
    return case_view(row)


def _require_aware(moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("timezone-aware datetimes only")
