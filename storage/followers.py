"""Followers: the citizens who joined a case like theirs (storage.duplicates), or whose case was
merged into it. What they may know of it, and what they are told when it moves.

A follower is another citizen, so they get what DESIGN.md's "Who sees what" allows another
citizen: the case's category, status, dates, department and supporters, and a published case's
public text and note. Never the filer's words, place, photos or contact, the department's answer
(it was written to the filer and may name them), its questions to the filer, or the rating.

Their notices are their own kinds, made from a short list of facts, so a new notice to the
filer reaches no follower until it is named in FOLLOWER_KINDS.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from storage.case_views import CaseNotFound
from storage.models import Case, CaseFollower, CaseStatus
from storage.notice_queue import notify
from storage.publication import PUBLISHED_COLUMNS, is_published
from storage.tracking import canonical_or_none

# The filer's notices that followers hear of, and the kind each becomes for them. Left out on
# purpose: questions to the filer (only they can answer), due-date changes (the follower sees the
# date with /status) and the rating reminders (the rating is the filer's).
FOLLOWER_KINDS: dict[str, str] = {
    "case_accepted": "followed_case_accepted",
    "case_answered": "followed_case_answered",
    "case_rejected": "followed_case_rejected",
    "case_closed": "followed_case_closed",
    "case_reopened": "followed_case_reopened",
    "case_merged": "followed_case_merged",
}
# The facts of the filer's notice that a follower's may carry (a department's code, the number
# a case went into): never the answer, a reason or a question, which are words to the filer.
_FACTS = ("tracking", "department", "into")
# The moves on which the department's public note, if the case is published, goes along.
_WITH_NOTE = frozenset({"case_answered", "case_rejected"})
_VIEW_COLUMNS = (
    "tracking",
    "category__code",
    "department__code",
    "status",
    "created_at",
    "due_at",
    "supporters",
    "publish_consent",
    "published_at",
    "public_text",
    "public_note",
)


@dataclass(frozen=True)
class FollowedCase:
    """A case as a follower may see it; the public text and note only when it is published."""

    tracking: str
    category_code: str
    department_code: str | None
    status: CaseStatus
    created_at: datetime
    due_at: datetime | None
    supporters: int  # its filer and everyone who joined it
    public_text: str | None
    public_note: str | None


def public_note_of(row: dict[str, Any]) -> str | None:
    """The public note of a published case (a row with PUBLISHED_COLUMNS and public_note), or
    None."""
    if not is_published(row):
        return None
    note = row["public_note"]
    return note if note and note.strip() else None


def _followed_view(row: dict[str, Any]) -> FollowedCase:
    shown = is_published(row)
    return FollowedCase(
        tracking=row["tracking"],
        category_code=row["category__code"],
        department_code=row["department__code"],
        status=CaseStatus(row["status"]),
        created_at=row["created_at"],
        due_at=row["due_at"],
        supporters=int(row["supporters"]) + 1,  # the filer, and those who joined
        public_text=row["public_text"] if shown else None,
        public_note=public_note_of(row),
    )


async def tell_followers(case_id: int, kind: str, facts: dict[str, Any], *, now: datetime) -> None:
    """The followers' notice of a move that the filer is told of as `kind` (FOLLOWER_KINDS)."""
    theirs = FOLLOWER_KINDS.get(kind)
    if theirs is None:
        return
    followers = await CaseFollower.filter(case_id=case_id).order_by("id").values("citizen_id")
    if not followers:
        return
    params = {name: facts[name] for name in _FACTS if name in facts}
    if kind in _WITH_NOTE:
        row = await Case.filter(id=case_id).first().values(*PUBLISHED_COLUMNS, "public_note")
        note = public_note_of(row) if row else None
        if note is not None:
            params["note"] = note
    for follower in followers:
        await notify(int(follower["citizen_id"]), theirs, params, now=now)


async def follow(case_id: int, citizen_id: int, now: datetime) -> bool:
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


async def follow_merged(case_id: int, into_id: int, *, now: datetime) -> None:
    """After a merge, the merged case's citizen and followers follow the case it went into.

    Each counts one supporter there (unless they follow it already or it is their own). They are
    followers there like any other: told when it moves, never given its answer.
    """
    merged = await Case.filter(id=case_id).first().values("citizen_id")
    into = await Case.filter(id=into_id).first().values("citizen_id")
    followers = CaseFollower.filter(case_id=case_id).order_by("id").values("citizen_id")
    people = [int(row["citizen_id"]) for row in await followers]
    if merged and merged["citizen_id"] is not None:
        people.insert(0, merged["citizen_id"])
    for citizen_id in people:
        if into is not None and citizen_id != into["citizen_id"]:
            await follow(into_id, int(citizen_id), now)


async def followed_case(tracking: str, citizen_id: int) -> FollowedCase:
    """A case the citizen follows, by number; CaseNotFound otherwise (the same as for others)."""
    number = canonical_or_none(tracking)
    async with in_transaction():
        row = None
        if number is not None:
            followed = Case.filter(tracking=number, followers__citizen_id=citizen_id)
            row = await followed.first().values(*_VIEW_COLUMNS)
    if row is None:
        raise CaseNotFound(tracking)
    return _followed_view(row)


async def case_for_follower(case_id: int) -> FollowedCase:
    """A case by id as a follower may see it (for whoever just joined it)."""
    return _followed_view(await Case.filter(id=case_id).first().values(*_VIEW_COLUMNS))
