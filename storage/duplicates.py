"""Duplicates: open cases about the same problem, joining one, and who follows a case.

A citizen about to file is shown the open cases like theirs (storage.similarity: same category,
similar text, places within a distance when both have one) and may join one instead: they
follow it (a CaseFollower row), it counts one more supporter, and from then on they are told of
its every move like its own citizen (lifecycle_core.tell_citizen calls tell_followers). Staff
see the same list on the new-case card and merge with one tap; a merged case's citizen and
followers then follow the case it went into. A citizen who files again what was closed for
them within REPEAT_WINDOW gets the new case flagged "repeat" for the coordination meeting.

Candidates come from one query on the (status, category_id) index: open cases of the category
created in the last CANDIDATE_WINDOW, newest first, at most CANDIDATE_LIMIT rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from storage.case_views import (
    CASE_COLUMNS,
    END_STATUSES,
    OPEN_STATUSES,
    CaseClosed,
    CaseNotFound,
    CaseView,
    Location,
    case_view,
)
from storage.models import Actor, Case, CaseFollower, CaseStatus, Category, Event
from storage.notices import notify
from storage.similarity import THRESHOLD, alike, cosine, tokens
from storage.tracking import canonical_or_none

DEFAULT_DISTANCE_M = 300.0
CANDIDATE_WINDOW = timedelta(days=60)  # an older open case is stale news to a new citizen
CANDIDATE_LIMIT = 300
SHOWN = 3
REPEAT_WINDOW = timedelta(days=30)
EXCERPT = 80  # characters of another citizen's text shown with an offer
JOINED = "case_joined"
# What followers are told instead of the citizen's own notice: None for nothing. They get the
# answer without rating buttons (rating is the case's own citizen's), and not the department's
# questions, which only the citizen who wrote the request can answer.
FOLLOWER_KINDS: dict[str, str | None] = {
    "case_answered": "followed_case_answered",
    "case_question": None,
}


class CaseAlreadyYours(Exception):
    """A citizen cannot join their own case: it is theirs already."""


@dataclass(frozen=True)
class SimilarCase:
    """An open case like the one at hand, as a citizen or staff member is shown it."""

    tracking: str
    category_code: str
    excerpt: str
    distance_m: float | None  # when both places are known
    supporters: int
    score: float


def _point(location: Location | None) -> tuple[float, float] | None:
    if location is None or location.latitude is None or location.longitude is None:
        return None
    return (location.latitude, location.longitude)


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= EXCERPT else flat[: EXCERPT - 1] + "…"


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
    category = await Category.filter(code=category_code).first().values("id")
    if category is None:
        return []
    query = Case.filter(
        category_id=category["id"],
        status__in=list(OPEN_STATUSES),
        created_at__gte=now - CANDIDATE_WINDOW,
    )
    if exclude_case is not None:
        query = query.exclude(tracking=exclude_case)
    if exclude_citizen is not None:
        followed = CaseFollower.filter(citizen_id=exclude_citizen).values("case_id")
        joined = [row["case_id"] for row in await followed]
        query = query.exclude(citizen_id=exclude_citizen).exclude(id__in=joined)
    rows = await query.order_by("-created_at").limit(CANDIDATE_LIMIT).values(
        "tracking", "text", "latitude", "longitude", "supporters"
    )  # fmt: skip
    mine, here = tokens(text), _point(location)
    found = []
    for row in rows:
        there = None if row["latitude"] is None else (row["latitude"], row["longitude"])
        match = alike(mine, tokens(row["text"]), here, there, distance_m)
        if match is not None:
            score, apart = match
            found.append(SimilarCase(row["tracking"], category_code, _excerpt(row["text"]),
                                     apart, int(row["supporters"]), score))  # fmt: skip
    found.sort(key=lambda similar: -similar.score)
    return found[:limit]



async def join_case(tracking: str, citizen_id: int, *, now: datetime) -> tuple[CaseView, bool]:
    """The citizen joins an open case as theirs too; (the case, whether they newly joined).

    One transaction: the follower row (unique: joining twice counts once), one more supporter,
    a public "joined" event and the citizen's notice that they now follow it. Raises
    CaseNotFound, CaseClosed (ended) and CaseAlreadyYours; none of them changes anything.
    """
    number = canonical_or_none(tracking)
    async with in_transaction():
        case = None if number is None else await Case.filter(tracking=number).first().values(
            "id", "citizen_id", "status"
        )  # fmt: skip
        if case is None:
            raise CaseNotFound(tracking)
        if case["citizen_id"] == citizen_id:
            raise CaseAlreadyYours(tracking)
        if CaseStatus(case["status"]) in END_STATUSES:
            raise CaseClosed(tracking)
        joined = await _follow(case["id"], citizen_id, now)
        if joined:
            await Event.create(
                case_id=case["id"], kind="joined", actor=Actor.CITIZEN, actor_id=citizen_id,
                payload={}, public=True, created_at=now,
            )  # fmt: skip
            await notify(citizen_id, JOINED, {"tracking": number}, now=now)
        row = await Case.filter(id=case["id"]).first().values(*CASE_COLUMNS)
    return case_view(row), joined


async def _follow(case_id: int, citizen_id: int, now: datetime) -> bool:
    """Add a follower and count a supporter; False (and nothing changed) if they follow it.

    The insert is a savepoint, so a lost race on the unique row does not poison the transaction.
    """
    try:
        async with in_transaction():
            await CaseFollower.create(case_id=case_id, citizen_id=citizen_id, created_at=now)
    except IntegrityError:
        return False
    await Case.filter(id=case_id).update(supporters=F("supporters") + 1)
    return True


async def tell_followers(case_id: int, kind: str, facts: dict[str, Any], *, now: datetime) -> None:
    """The followers' copy of a notice to a case's citizen (FOLLOWER_KINDS may change it)."""
    kind_for_them = FOLLOWER_KINDS.get(kind, kind)
    if kind_for_them is None:
        return
    for row in await CaseFollower.filter(case_id=case_id).order_by("id").values("citizen_id"):
        await notify(int(row["citizen_id"]), kind_for_them, facts, now=now)


async def follow_merged(case_id: int, into_id: int, *, now: datetime) -> None:
    """After a merge, the merged case's citizen and followers follow the case it went into.

    Each counts one supporter there (unless they follow it already or it is their own).
    """
    merged = await Case.filter(id=case_id).first().values("citizen_id")
    into = await Case.filter(id=into_id).first().values("citizen_id")
    followers = CaseFollower.filter(case_id=case_id).order_by("id").values("citizen_id")
    people = [int(row["citizen_id"]) for row in await followers]
    if merged and merged["citizen_id"] is not None:
        people.insert(0, merged["citizen_id"])
    for citizen_id in people:
        if into is not None and citizen_id != into["citizen_id"]:
            await _follow(into_id, int(citizen_id), now)


async def followed_case(tracking: str, citizen_id: int) -> CaseView:
    """A case the citizen follows, by number; CaseNotFound otherwise (the same as for others)."""
    number = canonical_or_none(tracking)
    async with in_transaction():
        row = None
        if number is not None:
            followed = Case.filter(tracking=number, followers__citizen_id=citizen_id)
            row = await followed.first().values(*CASE_COLUMNS)
    if row is None:
        raise CaseNotFound(tracking)
    return case_view(row)


async def flag_if_repeat(case_id: int, *, now: datetime) -> str | None:
    """Flag a new case "repeat" if its citizen had one like it closed within REPEAT_WINDOW.

    Like: same category and similar text (no place test: the same problem again, wherever it
    was written from). Returns the earlier case's number; the flag's event is private.
    """
    case = await Case.filter(id=case_id).first().values("citizen_id", "category_id", "text")
    if case is None or case["citizen_id"] is None:
        return None
    earlier = await Case.filter(
        citizen_id=case["citizen_id"], category_id=case["category_id"],
        status=CaseStatus.CLOSED, closed_at__gte=now - REPEAT_WINDOW,
    ).exclude(id=case_id).order_by("-closed_at").values("tracking", "text")  # fmt: skip
    mine = tokens(case["text"])
    for row in earlier:
        if cosine(mine, tokens(row["text"])) >= THRESHOLD:
            await Case.filter(id=case_id).update(repeat=True)
            await Event.create(
                case_id=case_id, kind="repeat", actor=Actor.SYSTEM, actor_id=None,
                payload={"of": row["tracking"]}, public=False, created_at=now,
            )  # fmt: skip
            return str(row["tracking"])
    return None
