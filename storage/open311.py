"""What the Open311 GeoReport v2 interface reads: services, their attributes, and requests.

Rows become plain dicts in the spec's field names; the web layer (bot/open311.py) only encodes
them. What a citizen told the desk is not the public's: a request is read without a key only
once it is published (storage.publication.published_cases: the citizen agreed, and staff
published a public text), and then it shows the public title and text as its `description`
(GeoReport has no title field: the title is the first paragraph) and the public note as its
`status_notes`, never the citizen's words, place, contact or photos, nor the staff's answer.
A partner system's key with the read_private scope also reads the status of the private ones:
category, department, status and dates, nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from storage.case_views import OPEN_STATUSES
from storage.catalog_checks import as_code, localized
from storage.models import Case, CaseStatus, Category
from storage.publication import is_published, published_cases
from storage.tracking import format_tracking_number

OPEN311_CHANNEL = "open311"
DEFAULT_WINDOW = timedelta(days=90)  # the spec's default when no dates are given
MAX_RESULTS = 1000  # the spec's default cap
# The spec knows two statuses. An answered case counts as closed: the desk has given its
# answer (status_notes), even though the citizen may still rate it or have it reopened.
_OPEN = frozenset(OPEN_STATUSES) - {CaseStatus.ANSWERED}
_CLOSED = frozenset(CaseStatus) - _OPEN
_DATATYPES = {"number": "number", "date": "datetime", "choice": "singlevaluelist", "text": "text"}


@dataclass(frozen=True)
class RequestFilter:
    ids: Sequence[str] = ()  # canonical tracking numbers
    service_code: str | None = None
    statuses: Sequence[str] = ()  # "open", "closed"
    start: datetime | None = None
    end: datetime | None = None


def open311_status(status: CaseStatus) -> str:
    return "open" if status in _OPEN else "closed"


async def services(language: str) -> list[dict[str, Any]]:
    """Every category a request may be filed under, grouped by its domain."""
    domains = {
        row["id"]: row["names"]
        for row in await Category.filter(parent_id=None).values("id", "names")
    }
    rows = (
        await _fileable()
        .order_by("parent_id", "sort", "id")
        .values("code", "names", "parent_id", "questions")
    )
    return [
        {
            "service_code": row["code"],
            "service_name": localized(row["names"], language),
            "description": localized(row["names"], language),
            "metadata": bool(row["questions"]),
            "type": "realtime",
            "keywords": "",
            "group": localized(domains.get(row["parent_id"], {}), language),
        }
        for row in rows
    ]


async def service_definition(code: str, language: str) -> dict[str, Any] | None:
    """A category's attributes (its questions), or None for an unknown or unfileable code."""
    row = await _fileable().filter(code=as_code(code)).first().values("code", "questions")
    if row is None:
        return None
    attributes = []
    for order, question in enumerate(row["questions"], start=1):
        attribute: dict[str, Any] = {
            "variable": True,
            "code": question["code"],
            "datatype": _DATATYPES.get(question["type"], "string"),
            "required": bool(question.get("required")),
            "datatype_description": _bounds(question),
            "order": order,
            "description": localized(question.get("prompt") or {}, language),
        }
        if question.get("choices"):
            attribute["values"] = [
                {"key": c["code"], "name": localized(c["names"], language)}
                for c in question["choices"]
            ]
        attributes.append(attribute)
    return {"service_code": row["code"], "attributes": attributes}


async def category_questions(code: str) -> list[dict[str, Any]] | None:
    """The questions of a fileable category, or None when the code cannot be filed under."""
    row = await _fileable().filter(code=as_code(code)).first().values("questions")
    return None if row is None else list(row["questions"])


async def requests(
    wanted: RequestFilter, language: str, *, now: datetime, private_status: bool = False
) -> list[dict[str, Any]]:
    """Published requests matching the filter, newest first, at most MAX_RESULTS.

    With `private_status` (a key with the read_private scope) the others too, by their status.
    """
    query = Case.all() if private_status else published_cases()
    if wanted.ids:
        query = query.filter(tracking__in=list(wanted.ids))
    else:
        start = wanted.start or _earlier(wanted.end or now, DEFAULT_WINDOW)
        query = query.filter(created_at__gte=start)
    if wanted.end is not None:
        query = query.filter(created_at__lte=wanted.end)
    if wanted.service_code:
        query = query.filter(category__code=as_code(wanted.service_code))
    statuses = set(wanted.statuses)
    if statuses == {"open"}:
        query = query.filter(status__in=list(_OPEN))
    elif statuses == {"closed"}:
        query = query.filter(status__in=list(_CLOSED))
    rows = (
        await query.order_by("-created_at", "-id")
        .limit(MAX_RESULTS)
        .values(
            "tracking",
            "status",
            "publish_consent",
            "published_at",
            "public_title",
            "public_text",
            "public_note",
            "created_at",
            "updated_at",
            "due_at",
            "category__code",
            "category__names",
            "department__names",
        )
    )
    return [_request(row, language) for row in rows]


def _request(row: dict[str, Any], language: str) -> dict[str, Any]:
    published = is_published(row)
    department = row["department__names"]
    return {
        "service_request_id": format_tracking_number(row["tracking"]),
        "status": open311_status(CaseStatus(row["status"])),
        "status_notes": (row["public_note"] or None) if published else None,
        "service_name": localized(row["category__names"], language),
        "service_code": row["category__code"],
        "description": public_description(row) if published else None,
        "agency_responsible": localized(department, language) if department else None,
        "service_notice": None,
        "requested_datetime": _iso(row["created_at"]),
        "updated_datetime": _iso(row["updated_at"]),
        "expected_datetime": _iso(row["due_at"]),
        # The place is the citizen's (often their home): a published case does not show it.
        "address": None,
        "address_id": None,
        "zipcode": None,
        "lat": None,
        "long": None,
        "media_url": None,
    }


def public_description(row: dict[str, Any]) -> str:
    """GeoReport has no title: the public title is the description's first paragraph."""
    title, text = row["public_title"], str(row["public_text"])
    return f"{title}\n\n{text}" if title else text


def _earlier(moment: datetime, span: timedelta) -> datetime:
    """`span` before `moment`, or the earliest date there is when that would be before it."""
    try:
        return moment - span
    except OverflowError:
        return datetime.min.replace(tzinfo=UTC)


def _fileable() -> Any:
    return Category.filter(parent_id__not_isnull=True, active=True, emergency=False)


def _bounds(question: dict[str, Any]) -> str:
    if question["type"] != "number":
        return ""
    return f"{question.get('min', '')}..{question.get('max', '')}"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
