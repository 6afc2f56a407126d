"""What /status shows a citizen of their own case, read in two statements of plain SQL.

The card needs the case, its history as the citizen reads it (storage.citizen_timeline), the
comment of their rating and whether they agreed to publish it (storage.publication). Read one by
one through the ORM these were five statements; here the case row carries the comment and the
publication columns, and the events come in one more statement by the case's id, read as
storage.case_rows reads the case (decoded JSON, aware datetimes).
"""

from __future__ import annotations

from dataclasses import dataclass

from storage.case_rows import citizen_case_row
from storage.case_views import CaseNotFound, CaseView, EventView, case_view
from storage.citizen_timeline import CITIZEN_FACTS, citizen_events
from storage.publication import is_published
from storage.publish_consent import ConsentState
from storage.sql import as_datetime, as_json, fetch
from storage.tracking import canonical_or_none

# The publication columns (storage.publication.PUBLISHED_COLUMNS) and the rating's comment.
_EXTRA = (
    "c.publish_consent, c.published_at, c.public_text,"
    " (SELECT r.comment FROM case_rating r WHERE r.case_id = c.id AND r.citizen_id = ?)"
    " AS rating_comment"
)
_KINDS = tuple(CITIZEN_FACTS)
_EVENTS_SQL = (
    "SELECT kind, actor, payload, created_at FROM case_event WHERE case_id = ?"  # noqa: S608
    f" AND kind IN ({', '.join('?' * len(_KINDS))}) ORDER BY id"
)


@dataclass(frozen=True)
class CaseStatus:
    case: CaseView
    timeline: list[EventView]  # oldest first, as storage.citizen_timeline shows it
    comment: str | None  # the comment of the citizen's rating, if any
    consent: ConsentState  # whether they agreed to publish it, and whether it is


async def citizen_case_status(tracking: str, citizen_id: int) -> CaseStatus:
    """The citizen's own case by number with what its card shows; CaseNotFound when absent or
    someone else's (as storage.cases.case_of_citizen)."""
    canonical = canonical_or_none(tracking)
    row = (
        None
        if canonical is None
        else await citizen_case_row(canonical, citizen_id, extra=_EXTRA, extra_params=[citizen_id])
    )
    if row is None:
        raise CaseNotFound(tracking)
    events = await fetch(_EVENTS_SQL, row["id"], *_KINDS)
    for event in events:
        event["payload"] = as_json(event["payload"])
        event["created_at"] = as_datetime(event["created_at"])
    published = {
        "publish_consent": bool(row["publish_consent"]),
        "published_at": row["published_at"],
        "public_text": row["public_text"],
    }
    return CaseStatus(
        case=case_view(row),
        timeline=citizen_events(events),
        comment=row["rating_comment"],
        consent=ConsentState(published["publish_consent"], is_published(published)),
    )
