"""Staff queues and the small staff operations that change no case status: notes and bans.

`queue_page` lists cases for /queue (now · new · mine · department · overdue · review · …),
limited to the caller's reach: a handler's department, a supervisor's subtree, everything for
admins and unrestricted supervisors. `add_note` writes an internal event; `set_blocked` bars
or frees a citizen. Each authorizes through storage.staff; a denial is audited after the rollback.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, cast

from tortoise.expressions import Case as Choose
from tortoise.expressions import F, Q, When
from tortoise.transactions import in_transaction

from storage.callback_queue import due_for_callback
from storage.case_views import OPEN_STATUSES, CaseNotFound, CitizenNotFound
from storage.lifecycle_core import REVIEW_EVENTS, load_case, record
from storage.models import Actor, Case, CaseStatus, Citizen, Event, Staff, StaffRole
from storage.queue_open import count_all, count_department, page_ids
from storage.staff import (
    StaffAction,
    StaffNotAuthorized,
    _subtree,
    check,
    check_is_staff,
    record_denial,
)

log = logging.getLogger(__name__)

PAGE_SIZE = 10
COUNT_CAP = 1000  # how far a view over every open case is counted (100 pages)


class QueueFilter(StrEnum):
    # What to work on now, overdue first: a handler's department's open cases; for supervisors
    # and admins the new cases, the overdue ones (escalated, 督办) and those to route by hand.
    NOW = "now"
    NEW = "new"
    OPEN = "open"  # every open case in the caller's reach
    MINE = "mine"  # the open cases the caller handles (承办人: storage.case_handler)
    DEPARTMENT = "department"
    OVERDUE = "overdue"
    REVIEW = "review"
    HAND = "hand"  # passed on too often: a supervisor routes these by hand (storage.routing)
    REPEAT = "repeat"  # flagged for the coordination meeting (storage.deadlines), open or not
    EXTENSIONS = "extensions"  # a department's request for more time waits for a decision
    CALLBACK = "callback"  # answered, unrated, a clerk's callback due (storage.callback_queue)


@dataclass(frozen=True)
class QueueLine:
    tracking: str
    status: CaseStatus
    category_code: str
    due_at: datetime | None
    overdue: bool


@dataclass(frozen=True)
class QueuePage:
    filter: QueueFilter
    lines: tuple[QueueLine, ...]
    page: int  # 1-based, clamped to the pages there are
    pages: int  # at least 1
    total: int
    role: StaffRole  # NOW means one thing for handlers and another for the rest
    more: bool = False  # more cases than `total`: a view over every open case counts up to a cap


async def _reach(user_id: int) -> tuple[frozenset[int] | None, int | None, StaffRole]:
    """(departments the staff member may see, None for all; their own department; role)."""
    row = await Staff.filter(user_id=user_id, active=True).first().values("role", "department_id")
    if row is None:
        raise StaffNotAuthorized(user_id, StaffAction.VIEW, None, "not_staff")
    own, role = row["department_id"], StaffRole(row["role"])
    if role is StaffRole.ADMIN or own is None:
        return None, own, role
    if role is StaffRole.HANDLER:
        return frozenset({own}), own, role
    return await _subtree(own), own, role


async def reach_of(user_id: int) -> frozenset[int] | None:
    """Departments a staff member may see (None: all); StaffNotAuthorized for non-staff."""
    return (await _reach(user_id))[0]


def _in(departments: frozenset[int]) -> Q:
    ids = list(departments)
    return Q(department_id__in=ids) | Q(department_id=None, proposed_department_id__in=ids)


async def queue_page(user_id: int, which: QueueFilter, page: int, *, now: datetime) -> QueuePage:
    """One page of a staff queue, oldest first; StaffNotAuthorized (audited) for non-staff."""
    which = QueueFilter(which)
    try:
        async with in_transaction():
            reach, own, role = await _reach(user_id)
            handler = role is StaffRole.HANDLER
            more = False
            if which is QueueFilter.NOW and handler and own is not None:
                total = await count_department(own)
                pages, page = _clamp(total, page)
                ids = await page_ids(which, (page - 1) * PAGE_SIZE, PAGE_SIZE, now, own)
            elif reach is None and _over_every_open_case(which, handler, own):
                # Counted up to a cap (or to the page asked for): the count reads every case it
                # counts, and beyond a hundred pages "more than" says what staff need to know.
                cap = max(COUNT_CAP, page * PAGE_SIZE)
                total = await count_all(which, now, cap + 1)
                more, total = total > cap, min(total, cap)
                pages, page = _clamp(total, page)
                pages += more  # the one after the last counted page shows that there are more
                ids = await page_ids(which, (page - 1) * PAGE_SIZE, PAGE_SIZE, now)
            else:
                total, pages, page, ids = await _orm_page(
                    user_id, which, page, now, reach, own, handler
                )
            rows = await Case.filter(id__in=list(ids)).values(
                "id", "tracking", "status", "category__code", "due_at"
            )
    except StaffNotAuthorized as denied:
        await record_denial(denied, now=now)
        raise
    place = {case_id: n for n, case_id in enumerate(ids)}
    rows.sort(key=lambda row: place[row["id"]])
    lines = tuple(_line(row, now) for row in rows)
    return QueuePage(which, lines, page, pages, total, role, more=more)


def _over_every_open_case(which: QueueFilter, handler: bool, own: int | None) -> bool:
    """Whether a view of someone who sees every department is one of storage.queue_open's."""
    if which is QueueFilter.NOW:
        return not handler
    if which is QueueFilter.DEPARTMENT:
        return own is None
    return which in (QueueFilter.OPEN, QueueFilter.OVERDUE)


def _clamp(total: int, page: int) -> tuple[int, int]:
    """(pages, the page asked for within them)."""
    pages = max(1, -(-total // PAGE_SIZE))
    return pages, min(max(1, page), pages)


async def _orm_page(
    user_id: int,
    which: QueueFilter,
    page: int,
    now: datetime,
    reach: frozenset[int] | None,
    own: int | None,
    handler: bool,
) -> tuple[int, int, int, list[int]]:
    """(total, pages, page, the page's ids) of any view, through the ORM."""
    query = Case.all()
    if reach is not None:  # new cases by where they are proposed, others by department
        routed = Q(department_id__in=list(reach))
        unrouted = which in (QueueFilter.NEW, QueueFilter.HAND, QueueFilter.REPEAT) or (
            which is QueueFilter.NOW and not handler
        )
        scope = _in(reach) if unrouted else routed
        query = query.filter(scope)
    if which is QueueFilter.NOW and handler:
        query = query.filter(department_id=own, status__in=list(OPEN_STATUSES))
    elif which is QueueFilter.NOW:
        # Open cases first (the status index finds them), then which of them: an OR
        # across the statuses would read every case (300k cases: 155 ms → 10 ms).
        waiting = Q(status=CaseStatus.SUBMITTED) | Q(due_at__lt=now)
        query = query.filter(status__in=list(OPEN_STATUSES)).filter(
            waiting | Q(route_by_hand=True)
        )
    elif which is QueueFilter.NEW:
        query = query.filter(status=CaseStatus.SUBMITTED)
    elif which is QueueFilter.REPEAT:  # closed ones too: the meeting looks back
        query = query.filter(repeat=True)
    else:
        query = query.filter(status__in=list(OPEN_STATUSES))
    if which is QueueFilter.MINE:  # the (handler, status) index finds them
        query = query.filter(handler_id=user_id)
    elif which is QueueFilter.DEPARTMENT:  # the caller's own (every one: storage.queue_open)
        query = query.filter(department_id=own)
    elif which is QueueFilter.OVERDUE:
        query = query.filter(due_at__lt=now)
    elif which is QueueFilter.HAND:
        query = query.filter(route_by_hand=True)
    elif which is QueueFilter.EXTENSIONS:
        query = query.filter(extension_pending=True)
    elif which is QueueFilter.REVIEW:
        working = query.filter(status=CaseStatus.IN_PROGRESS)
        rows = await working.values("id")
        query = Case.filter(id__in=await _awaiting_review([r["id"] for r in rows]))
    elif which is QueueFilter.CALLBACK:
        query = Case.filter(id__in=await due_for_callback(query, now))
    total = await query.count()
    pages, page = _clamp(total, page)
    # The page's ids first, from the index alone; then only their rows. Sorting the rows
    # of every matching case to keep ten would read them all (1M cases: 55 ms → 1 ms).
    # Sorted by id + 0, not id: given ORDER BY id and a small LIMIT, PostgreSQL walks
    # the primary key past every closed case instead of sorting the few thousand open
    # ones its index finds (1M cases, page 15: 22 ms → 3 ms).
    ordered = query.annotate(oldest_first=F("id") + 0)
    order = ["oldest_first"]
    if which is QueueFilter.NOW:  # overdue first, then oldest first
        overdue_first = Choose(When(Q(due_at__lt=now), then="0"), default="1")
        ordered = ordered.annotate(late_first=overdue_first)
        order = ["late_first", *order]
    ids = (
        await ordered.order_by(*order)
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
        .values_list("id", flat=True)
    )
    return total, pages, page, cast(list[int], ids)  # values_list(flat=True): the ids alone


def _line(row: dict[str, Any], now: datetime) -> QueueLine:
    due, status = row["due_at"], CaseStatus(row["status"])
    return QueueLine(
        tracking=row["tracking"],
        status=status,
        category_code=row["category__code"],
        due_at=due,
        overdue=due is not None and due < now and status in OPEN_STATUSES,
    )


async def _awaiting_review(case_ids: list[int]) -> list[int]:
    """The cases whose latest review event is a submitted reply (as lifecycle_core decides)."""
    if not case_ids:
        return []
    latest: dict[int, str] = {}
    events = Event.filter(case_id__in=case_ids, kind__in=REVIEW_EVENTS).order_by("id")
    for case_id, kind in await events.values_list("case_id", "kind"):
        latest[case_id] = kind
    return [case_id for case_id, kind in latest.items() if kind == "reply_submitted"]


async def add_note(tracking: str, text: str, *, by: int, now: datetime) -> str:
    """An internal note on a case (never shown to the citizen); the canonical number.

    Raises ValueError for an empty note, CaseNotFound, StaffNotAuthorized (audited).
    """
    if not text.strip():
        raise ValueError("note must not be empty")
    try:
        async with in_transaction():
            case = await load_case(tracking)
            if case is None:
                await check_is_staff(by, StaffAction.NOTE, None)  # a non-staff user learns nothing
                raise CaseNotFound(tracking)
            await check(by, StaffAction.NOTE, (case.scope,), tracking=case.tracking)
            await record(
                case, "note", actor=Actor.STAFF, actor_id=by, now=now, public=False, text=text
            )
            return case.tracking
    except StaffNotAuthorized as denied:
        await record_denial(denied, now=now)
        raise


async def set_blocked(
    citizen_id: int, blocked: bool, *, by: int, now: datetime, reason: str = ""
) -> bool:
    """Bar (or free) a citizen; whether anything changed.

    Raises StaffNotAuthorized (audited) unless `by` may ban, CitizenNotFound for an unknown user.
    """
    try:
        async with in_transaction():
            await check(by, StaffAction.BAN)
            current = await Citizen.filter(id=citizen_id).first().values_list("blocked", flat=True)
            if current is None:
                raise CitizenNotFound(citizen_id)
            if bool(current) == blocked:
                return False
            await Citizen.filter(id=citizen_id).update(blocked=blocked, updated_at=now)
    except StaffNotAuthorized as denied:
        await record_denial(denied, now=now)
        raise
    log.info(
        "citizen %s %s by staff %s: %s",
        citizen_id,
        "blocked" if blocked else "unblocked",
        by,
        reason or "-",
    )
    return True
