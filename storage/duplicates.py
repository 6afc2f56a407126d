"""Duplicates: open cases about the same problem, and joining one instead of filing.

A citizen about to file is shown the open cases like theirs (storage.similarity: same category,
similar text, places within a distance when both have one) and may join one instead: they
follow it (storage.followers), and it counts one more supporter. What they are shown of a case
that is not theirs is what another citizen may see (DESIGN.md, "Who sees what"): its category,
status, age, supporters, whether it is nearby, and a published case's public text; never its
citizen's words, nor how far away it is (two offers from two points would place its citizen).
Staff see the same list on the new-case card and merge with one tap (storage.lifecycle). A
citizen who files again what was closed for them within REPEAT_WINDOW gets the new case flagged
"repeat" for the coordination meeting.

Candidates come from one query on the (status, category_id) index: open cases of the category
created in the last CANDIDATE_WINDOW, newest first, at most CANDIDATE_LIMIT rows. When the
request has a place, only cases with none or within a box around it are read: a busy category
holds far more open cases than the limit, and the nearest would not be among the newest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise.transactions import in_transaction

from storage.case_views import (
    END_STATUSES,
    OPEN_STATUSES,
    CaseClosed,
    CaseNotFound,
    Location,
)
from storage.catalog import CategoryNotFound, category
from storage.followers import FollowedCase, case_for_follower, follow
from storage.models import Actor, Case, CaseStatus, Event
from storage.notice_queue import notify
from storage.publication import is_published
from storage.similarity import THRESHOLD, alike, box_around, cosine, places_apart, tokens
from storage.sql import as_datetime, fetch
from storage.tracking import canonical_or_none

DEFAULT_DISTANCE_M = 300.0
CANDIDATE_WINDOW = timedelta(days=60)  # an older open case is stale news to a new citizen
CANDIDATE_LIMIT = 300
SHOWN = 3
REPEAT_WINDOW = timedelta(days=30)
PUBLIC_EXCERPT = 200  # characters of a published case's public text shown with an offer
JOINED = "case_joined"
_OPEN = sorted(status.value for status in OPEN_STATUSES)
_CANDIDATES_SQL = (
    "SELECT c.tracking, c.text, c.latitude, c.longitude, c.supporters, c.status,"  # noqa: S608
    " c.created_at, c.publish_consent, c.published_at, c.public_text FROM service_case c"
    f" WHERE c.category_id = ? AND c.status IN ({', '.join('?' * len(_OPEN))})"
    " AND c.created_at >= ?"
)
# A case with no place can still be the same problem (storage.similarity.alike).
_NEAR = " AND (c.latitude IS NULL OR (c.latitude BETWEEN ? AND ? AND c.longitude BETWEEN ? AND ?))"
_NOT_FOLLOWED = " AND c.id NOT IN (SELECT f.case_id FROM case_follower f WHERE f.citizen_id = ?)"


class CaseAlreadyYours(Exception):
    """A citizen cannot join their own case: it is theirs already."""


@dataclass(frozen=True)
class SimilarCase:
    """An open case like the one at hand, as a citizen about to file may be shown it."""

    tracking: str
    category_code: str
    status: CaseStatus
    created_at: datetime
    supporters: int  # its own citizen, and those who joined
    nearby: bool  # both places known, and within the duplicate distance
    public_text: str | None  # an excerpt, only when the case is published
    score: float


def _point(location: Location | None) -> tuple[float, float] | None:
    if location is None or location.latitude is None or location.longitude is None:
        return None
    return (location.latitude, location.longitude)


def _public_excerpt(row: dict[str, Any]) -> str | None:
    text = row["public_text"]
    if not isinstance(text, str) or not is_published(row):
        return None
    flat = " ".join(text.split())
    return flat if len(flat) <= PUBLIC_EXCERPT else flat[: PUBLIC_EXCERPT - 1] + "…"


async def similar_open_cases(
    category_code: str,
    text: str,
    location: Location | None,
    *,
    now: datetime,
    distance_m: float = DEFAULT_DISTANCE_M,
    exclude_case: str | None = None,
    exclude_citizen: int | None = None,
    limit: int = SHOWN,
) -> list[SimilarCase]:
    """Up to `limit` open cases of the category like this text (and place), most alike first.

    `exclude_case` leaves out the case itself (a tracking number); `exclude_citizen` leaves out
    that citizen's own cases and the cases they already follow (nothing to join there).
    """
    try:
        category_id = (await category(category_code)).id
    except CategoryNotFound:
        return []
    # Read at every Submit, up to CANDIDATE_LIMIT rows: plain SQL (storage/sql.py), and a row
    # is converted only once it matches.
    sql, params = _CANDIDATES_SQL, [category_id, *_OPEN, now - CANDIDATE_WINDOW]
    here = _point(location)
    if here is not None:
        sql, params = sql + _NEAR, [*params, *box_around(here[0], here[1], distance_m)]
    if exclude_case is not None:
        sql, params = sql + " AND c.tracking <> ?", [*params, exclude_case]
    if exclude_citizen is not None:
        # A case with no citizen (filed by phone, or its citizen forgotten) stays.
        sql += " AND (c.citizen_id IS NULL OR c.citizen_id <> ?)" + _NOT_FOLLOWED
        params += [exclude_citizen, exclude_citizen]
    rows = await fetch(f"{sql} ORDER BY c.created_at DESC LIMIT ?", *params, CANDIDATE_LIMIT)
    mine = tokens(text)
    found = []
    for row in rows:
        there = None if row["latitude"] is None else (row["latitude"], row["longitude"])
        if (apart := places_apart(here, there)) is not None and apart > distance_m:
            continue  # too far to be the same problem, however alike the texts
        match = alike(mine, tokens(row["text"]), here, there, distance_m)
        if match is not None:
            score, apart = match  # a distance only when both places are known, and within
            found.append(
                SimilarCase(
                    row["tracking"],
                    category_code,
                    CaseStatus(row["status"]),
                    as_datetime(row["created_at"]),
                    int(row["supporters"]) + 1,
                    apart is not None,
                    _public_excerpt(row),
                    score,
                )
            )
    found.sort(key=lambda similar: -similar.score)
    return found[:limit]


async def join_case(tracking: str, citizen_id: int, *, now: datetime) -> tuple[FollowedCase, bool]:
    """The citizen joins an open case as theirs too; (the case, whether they newly joined).

    One transaction: the follower row (unique: joining twice counts once), one more supporter,
    a public "joined" event and the citizen's notice that they now follow it. Raises
    CaseNotFound, CaseClosed (ended) and CaseAlreadyYours; none of them changes anything.
    """
    number = canonical_or_none(tracking)
    async with in_transaction():
        case = (
            None
            if number is None
            else await Case.filter(tracking=number).first().values("id", "citizen_id", "status")
        )
        if case is None:
            raise CaseNotFound(tracking)
        if case["citizen_id"] == citizen_id:
            raise CaseAlreadyYours(tracking)
        if CaseStatus(case["status"]) in END_STATUSES:
            raise CaseClosed(tracking)
        joined = await follow(case["id"], citizen_id, now)
        if joined:
            await Event.create(
                case_id=case["id"],
                kind="joined",
                actor=Actor.CITIZEN,
                actor_id=citizen_id,
                payload={},
                public=True,
                created_at=now,
            )
            await notify(citizen_id, JOINED, {"tracking": number}, now=now)
        return await case_for_follower(case["id"]), joined


async def flag_if_repeat(
    case_id: int, citizen_id: int | None, category_id: int, text: str, *, now: datetime
) -> str | None:
    """Flag a new case (its id, citizen, category and text) "repeat" if its citizen had one
    like it closed within REPEAT_WINDOW.

    Like: same category and similar text (no place test: the same problem again, wherever it
    was written from). Returns the earlier case's number; the flag's event is private.
    """
    if citizen_id is None:
        return None
    # Every filing asks this: plain SQL (storage/sql.py).
    earlier = await fetch(
        "SELECT tracking, text FROM service_case WHERE citizen_id = ? AND category_id = ?"
        " AND status = ? AND closed_at >= ? AND id <> ? ORDER BY closed_at DESC",
        citizen_id,
        category_id,
        CaseStatus.CLOSED.value,
        now - REPEAT_WINDOW,
        case_id,
    )
    mine = tokens(text)
    for row in earlier:
        if cosine(mine, tokens(row["text"])) >= THRESHOLD:
            await Case.filter(id=case_id).update(repeat=True)
            await Event.create(
                case_id=case_id,
                kind="repeat",
                actor=Actor.SYSTEM,
                actor_id=None,
                payload={"of": row["tracking"]},
                public=False,
                created_at=now,
            )
            return str(row["tracking"])
    return None
