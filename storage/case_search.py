"""The dashboard's case list: filters a desk needs, within the staff member's reach.

Reach is the bot's /queue rule (storage.queue): a handler sees their department, a supervisor
their subtree, admins and unrestricted supervisors everything; unrouted cases count by their
proposed department. Newest first; text search is a substring match of the citizen's text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.expressions import Q

from storage.case_views import OPEN_STATUSES
from storage.catalog_checks import as_code
from storage.models import Case, CaseStatus
from storage.queue import reach_of

PAGE_SIZE = 25
SEARCH_MAX = 100


@dataclass(frozen=True)
class CaseFilter:
    status: CaseStatus | None = None
    open_only: bool = False
    department: str | None = None  # code
    category: str | None = None  # code
    overdue: bool = False
    repeat: bool = False
    text: str = ""
    handler: int | None = None  # the handler's user id (承办人: storage.case_handler)


@dataclass(frozen=True)
class CaseRow:
    tracking: str
    status: CaseStatus
    category_code: str
    department_code: str | None
    text: str
    created_at: datetime
    due_at: datetime | None
    repeat: bool
    urgent: bool
    erased: bool = False  # the citizen's words were erased at their request


@dataclass(frozen=True)
class CaseList:
    rows: tuple[CaseRow, ...]
    page: int
    pages: int
    total: int


async def search_cases(user_id: int, wanted: CaseFilter, page: int, *, now: datetime) -> CaseList:
    """One page of cases matching `wanted` within the user's reach (StaffNotAuthorized if none)."""
    reach = await reach_of(user_id)
    query = Case.all()
    if reach is not None:
        ids = list(reach)
        query = query.filter(
            Q(department_id__in=ids) | Q(department_id=None, proposed_department_id__in=ids)
        )
    if wanted.status is not None:
        query = query.filter(status=wanted.status)
    elif wanted.open_only or wanted.overdue:
        query = query.filter(status__in=list(OPEN_STATUSES))
    if wanted.department:
        query = query.filter(department__code=as_code(wanted.department))
    if wanted.category:
        query = query.filter(category__code=as_code(wanted.category))
    if wanted.overdue:
        query = query.filter(due_at__lt=now)
    if wanted.repeat:
        query = query.filter(repeat=True)
    if wanted.handler is not None:
        query = query.filter(handler_id=wanted.handler)
    if wanted.text.strip():
        query = query.filter(text__icontains=wanted.text.strip()[:SEARCH_MAX])
    total = await query.count()
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, page), pages)
    rows = (
        await query.order_by("-id")
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
        .values(
            "tracking",
            "status",
            "category__code",
            "department__code",
            "text",
            "created_at",
            "due_at",
            "repeat",
            "urgent",
            "erased_at",
        )
    )
    return CaseList(tuple(_row(row) for row in rows), page, pages, total)


def _row(row: dict[str, Any]) -> CaseRow:
    return CaseRow(
        tracking=row["tracking"],
        status=CaseStatus(row["status"]),
        category_code=row["category__code"],
        department_code=row["department__code"],
        text=row["text"],
        created_at=row["created_at"],
        due_at=row["due_at"],
        repeat=bool(row["repeat"]),
        urgent=bool(row["urgent"]),
        erased=row["erased_at"] is not None,
    )
