"""The query of a GeoReport v2 request list, checked: ids, service_code, status and dates.

A refusal is a ValueError whose text says what is wrong, for the spec's 400 error. Dates are
W3C date-times with a time zone, taken in UTC; one the server cannot represent (at the edges of
the calendar, or before its earliest day less the default window) is refused, never an error of
the server.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from storage.open311 import DEFAULT_WINDOW, RequestFilter
from storage.tracking import canonical_or_none

_EARLIEST = datetime.min.replace(tzinfo=UTC) + DEFAULT_WINDOW


def request_filter(query: Any) -> RequestFilter:
    ids = []
    for raw in _split(query.get("service_request_id")):
        number = canonical_or_none(raw)
        if number is not None:
            ids.append(number)
        elif len(raw) > 32:
            raise ValueError("service_request_id is not a request id")
    statuses = _split(query.get("status"))
    if any(s not in ("open", "closed") for s in statuses):
        raise ValueError("status must be open, closed or both")
    start, end = _date(query, "start_date"), _date(query, "end_date")
    if start and end and start > end:
        raise ValueError("start_date is after end_date")
    wanted_ids = ids if query.get("service_request_id") else ()
    if query.get("service_request_id") and not ids:
        wanted_ids = ["-"]  # ids were asked for and none can exist: an empty answer
    return RequestFilter(
        ids=wanted_ids,
        service_code=query.get("service_code") or None,
        statuses=statuses,
        start=start,
        end=end,
    )


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _date(query: Any, name: str) -> datetime | None:
    raw = query.get(name)
    if raw is None:
        return None
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{name} must be a W3C date-time, e.g. 2026-11-01T00:00:00Z") from None
    if parsed.tzinfo is None:
        raise ValueError(f"{name} needs a time zone, e.g. 2026-11-01T00:00:00Z")
    # In UTC from here on: comparing or shifting a date at the edge of the calendar in another
    # zone would overflow; so would the default window before the earliest day.
    try:
        moment = parsed.astimezone(UTC)
    except OverflowError:
        moment = None
    if moment is None or moment < _EARLIEST:
        raise ValueError(
            f"{name} is outside the dates this server can represent "
            f"({_EARLIEST.date()} to 9999-12-31, UTC)"
        )
    return moment
