"""The callback (回访): the citizen rates an answer, may comment, close or reopen the case.

On an answer (notice "case_answered") the citizen is asked: was it solved, then how satisfied
they are. The first answer is kept as a private event ("rating_solved") until the second
comes; the second writes the Rating row. Satisfied or basically satisfied closes the case at
once; unsatisfied leaves it answered, and the citizen may reopen it within REOPEN_WITHIN of the
answer (storage.rating_reopen). Each operation is one transaction,
checks that the case is the citizen's and answered, and writes the case guarded by its version.
A press that comes twice counts once: a rating already given for this answer is refused
(RatingAlreadyGiven) and nothing changes. Each step returns what the citizen chose so far, with
the answer's text, so the rating message can be written afresh at every step.

Time drives the rest (storage.rating_sweeps): one reminder without a rating, then the case
closed "without feedback".
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise.transactions import in_transaction

from storage.case_views import CaseNotFound
from storage.lifecycle_core import (
    CaseChangedMeanwhile,
    Snapshot,
    load_case,
    record,
    tell_citizen,
    write_case,
)
from storage.models import (
    Actor,
    Case,
    CaseStatus,
    Event,
    Rating,
    RatingSatisfaction,
    RatingSolved,
)

__all__ = [
    "CaseChangedMeanwhile",
    "CaseNotFound",
    "CommentDoesNotFit",
    "RatingAlreadyGiven",
    "RatingRefused",
    "ReopenTooLate",
]

REOPEN_WITHIN = timedelta(days=7)

CITIZEN = Actor.CITIZEN


class RatingRefused(Exception):
    """The case cannot be rated (or reopened) by this citizen now; nothing was changed.

    Raised for a case that is not answered (yet, or any more) or not rated as the step needs.
    A case that does not exist or is someone else's raises CaseNotFound instead.
    """


class RatingAlreadyGiven(RatingRefused):
    """This answer was already rated (a second press): the first one counts."""


class ReopenTooLate(RatingRefused):
    """The reopen window after the answer has passed."""


class CommentDoesNotFit(RatingRefused):
    """A suggested comment offered for another rating (praise after "unsatisfied"): forged or
    stale, so it is not kept."""


@dataclass(frozen=True)
class SolvedView:
    """The first answer, kept until the second comes; `answer` is the staff's answer text."""

    tracking: str
    answer: str
    solved: RatingSolved


@dataclass(frozen=True)
class RatingView:
    tracking: str
    answer: str  # the staff's answer that was rated
    solved: RatingSolved
    satisfaction: RatingSatisfaction
    comment: str | None
    rated_at: datetime
    status: CaseStatus  # the case's status after the rating
    can_reopen: bool  # unsatisfied, within the window


def aware(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("timezone-aware datetimes only")


async def own_case(tracking: str, citizen_id: int) -> Snapshot:
    case = await load_case(tracking)
    if case is None or case.citizen_id != citizen_id:
        raise CaseNotFound(tracking)
    return case


async def latest_answer_at(case: Snapshot) -> datetime:
    row = await Case.filter(id=case.id).first().values("answered_at")
    answered = row["answered_at"] if row else None
    if case.status is CaseStatus.CLOSED and await Rating.exists(case_id=case.id):
        raise RatingAlreadyGiven(f"case {case.tracking} was rated and closed")
    if case.status is not CaseStatus.ANSWERED or answered is None:
        raise RatingRefused(f"case {case.tracking} is {case.status}, not answered")
    return answered  # type: ignore[no-any-return]  # a row of .values(): Tortoise types it Any


async def rating_of_this_answer(case: Snapshot, answered_at: datetime) -> Rating | None:
    """The rating given since the latest answer (a rating of an earlier answer does not count)."""
    rating = await Rating.get_or_none(case_id=case.id)
    if rating is None or rating.rated_at < answered_at:
        return None
    return rating


async def _answer_text(case_id: int) -> str:
    """The text of the case's latest answer to the citizen ("" if it has none)."""
    row = (
        await Event.filter(case_id=case_id, kind="answered", public=True)
        .order_by("-id")
        .first()
        .values("payload")
    )
    text = row["payload"].get("text") if row and isinstance(row["payload"], dict) else None
    return text if isinstance(text, str) else ""


async def rate_solved(tracking: str, citizen_id: int, solved: str, *, now: datetime) -> SolvedView:
    """The first question: was the problem solved. Kept until the second answer comes.

    Raises CaseNotFound, RatingRefused (not answered), RatingAlreadyGiven; ValueError for an
    unknown code. Pressed again before the second question, the latest answer counts.
    """
    aware(now)
    choice = RatingSolved(solved)
    async with in_transaction():
        case = await own_case(tracking, citizen_id)
        answered_at = await latest_answer_at(case)
        if await rating_of_this_answer(case, answered_at) is not None:
            raise RatingAlreadyGiven(f"case {case.tracking} already rated")
        view = SolvedView(case.tracking, await _answer_text(case.id), choice)
        if await _pending_solved(case, answered_at) == choice:
            return view  # the same press again: counted once
        await record(
            case,
            "rating_solved",
            actor=CITIZEN,
            actor_id=citizen_id,
            now=now,
            public=False,
            solved=str(choice),
        )
        return view


async def _pending_solved(case: Snapshot, answered_at: datetime) -> RatingSolved | None:
    latest = (
        await Event.filter(case_id=case.id, kind="rating_solved", created_at__gte=answered_at)
        .order_by("-id")
        .first()
        .values("payload")
    )
    if latest is None:
        return None
    return RatingSolved(str(latest["payload"]["solved"]))


async def rate_satisfaction(
    tracking: str, citizen_id: int, satisfaction: str, *, now: datetime
) -> RatingView:
    """The second question: how satisfied. Writes the rating; satisfied or basically satisfied
    closes the case (event "closed", the citizen told "case_closed"), in the same transaction.

    Raises CaseNotFound, RatingRefused (not answered, or the first question not answered yet),
    RatingAlreadyGiven, CaseChangedMeanwhile; ValueError for an unknown code.
    """
    aware(now)
    choice = RatingSatisfaction(satisfaction)
    async with in_transaction():
        case = await own_case(tracking, citizen_id)
        answered_at = await latest_answer_at(case)
        if await rating_of_this_answer(case, answered_at) is not None:
            raise RatingAlreadyGiven(f"case {case.tracking} already rated")
        solved = await _pending_solved(case, answered_at)
        if solved is None:
            raise RatingRefused(f"case {case.tracking}: was it solved? not answered yet")
        closes = choice is not RatingSatisfaction.UNSATISFIED
        status = CaseStatus.CLOSED if closes else CaseStatus.ANSWERED
        if closes:
            await write_case(case, now, status=status, closed_at=now)
        else:
            await write_case(case, now)  # the version still guards against a racing press
        values = {
            "solved": solved,
            "satisfaction": choice,
            "comment": None,
            "rated_at": now,
            "citizen_id": citizen_id,
        }
        await store_rating(
            case, values, closes=closes, actor=CITIZEN, actor_id=citizen_id, now=now
        )
        can_reopen = not closes and now - answered_at <= REOPEN_WITHIN
        answer = await _answer_text(case.id)
        return RatingView(case.tracking, answer, solved, choice, None, now, status, can_reopen)


async def store_rating(
    case: Snapshot,
    values: dict[str, Any],
    *,
    closes: bool,
    actor: Actor,
    actor_id: int | None,
    now: datetime,
    **event: Any,
) -> None:
    """Write the case's one rating row (an answer given after a reopen is rated afresh in the
    same row) and its public "rated" event (`event`: more of its facts); a rating that closes
    the case records "closed" and tells the citizen. The caller has written the case."""
    if await Rating.filter(case_id=case.id).update(**values) == 0:
        await Rating.create(case_id=case.id, **values)
    solved, satisfaction = str(values["solved"]), str(values["satisfaction"])
    await record(
        case,
        "rated",
        actor=actor,
        actor_id=actor_id,
        now=now,
        public=True,
        solved=solved,
        satisfaction=satisfaction,
        **event,
    )
    if closes:
        await record(
            case, "closed", actor=actor, actor_id=actor_id, now=now, public=True, reason="rated"
        )
        await tell_citizen(case, "case_closed", now)


async def add_comment(
    tracking: str,
    citizen_id: int,
    comment: str,
    *,
    now: datetime,
    fits: Collection[RatingSatisfaction] = tuple(RatingSatisfaction),
) -> bool:
    """Add a comment to the rating of this case, once; False if it already has one.

    Allowed after the case closed (a comment does not change the rating). `fits`: the ratings
    the comment was offered for. Raises CaseNotFound, RatingRefused when there is no rating to
    comment on, CommentDoesNotFit when the rating is not one of `fits`.
    """
    aware(now)
    text = comment.strip()
    if not text:
        raise ValueError("comment must not be empty")
    async with in_transaction():
        case = await load_case(tracking)
        if case is None or case.citizen_id != citizen_id:
            raise CaseNotFound(tracking)
        rating = await Rating.get_or_none(case_id=case.id, citizen_id=citizen_id)
        if rating is None:
            raise RatingRefused(f"case {case.tracking} has no rating to comment on")
        if rating.satisfaction not in fits:
            raise CommentDoesNotFit(f"case {case.tracking}: comment offered for another rating")
        written = await Rating.filter(id=rating.id, comment__isnull=True).update(comment=text)
        if written:
            await record(
                case,
                "rating_comment",
                actor=CITIZEN,
                actor_id=citizen_id,
                now=now,
                public=False,
                comment=text,
            )
        return written == 1


async def rating_given(tracking: str, citizen_id: int, *, now: datetime) -> RatingView:
    """The citizen's rating of their case's latest answer, as it stands now.

    Raises CaseNotFound (absent, not theirs), RatingRefused (no rating of this answer: not
    rated yet, or reopened since).
    """
    aware(now)
    case = await own_case(tracking, citizen_id)
    row = await Case.filter(id=case.id).first().values("answered_at")
    answered_at = row["answered_at"] if row else None
    rating = await Rating.get_or_none(case_id=case.id)
    if answered_at is None or rating is None or rating.rated_at < answered_at:
        raise RatingRefused(f"case {case.tracking} has no rating of its latest answer")
    can_reopen = (
        case.status is CaseStatus.ANSWERED
        and rating.satisfaction is RatingSatisfaction.UNSATISFIED
        and now - answered_at <= REOPEN_WITHIN
    )
    answer = await _answer_text(case.id)
    return RatingView(
        case.tracking,
        answer,
        rating.solved,
        rating.satisfaction,
        rating.comment,
        rating.rated_at,
        case.status,
        can_reopen,
    )


async def answered_at_or_none(case: Snapshot) -> datetime | None:
    """When the case's latest answer came, while the case is answered; else None."""
    try:
        return await latest_answer_at(case)
    except RatingRefused:
        return None
