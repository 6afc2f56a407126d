"""The callback (回访): the citizen rates an answer, may comment, close or reopen the case.

On an answer (notice "case_answered") the citizen is asked: was it solved, then how satisfied
they are. The first answer is kept as a private event ("rating_solved") until the second
comes; the second writes the Rating row. Satisfied or basically satisfied closes the case at
once; unsatisfied leaves it answered, and the citizen may reopen it within REOPEN_WITHIN of the
answer. Each operation is one transaction, checks that the case is the citizen's and answered,
and writes the case guarded by its version. A press that comes twice counts once: a rating
already given for this answer is refused (RatingAlreadyGiven) and nothing changes.

Time drives the rest (bot.sweeps): one reminder after REMIND_AFTER without a rating, and the
case closed "without feedback" after CLOSE_AFTER.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.transactions import in_transaction

from storage.case_views import CaseNotFound
from storage.deadlines import reopen_changes
from storage.lifecycle_core import (
    CaseChangedMeanwhile,
    Snapshot,
    TransitionRefused,
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
from storage.notice_queue import notify

__all__ = [
    "CaseChangedMeanwhile",
    "CaseNotFound",
    "RatingAlreadyGiven",
    "RatingRefused",
    "ReopenTooLate",
]

REMIND_AFTER = timedelta(days=3)
CLOSE_AFTER = timedelta(days=7)
REOPEN_WITHIN = timedelta(days=7)
REMINDER = "rating_reminder"
COMMENTS = ("quick", "unclear", "slow")  # the suggested comments, stored by code

CITIZEN = Actor.CITIZEN
SYSTEM = Actor.SYSTEM


class RatingRefused(Exception):
    """The case cannot be rated (or reopened) by this citizen now; nothing was changed.

    Raised for a case that is not answered (yet, or any more) or not rated as the step needs.
    A case that does not exist or is someone else's raises CaseNotFound instead.
    """


class RatingAlreadyGiven(RatingRefused):
    """This answer was already rated (a second press): the first one counts."""


class ReopenTooLate(RatingRefused):
    """The reopen window after the answer has passed."""


@dataclass(frozen=True)
class RatingView:
    tracking: str
    solved: RatingSolved
    satisfaction: RatingSatisfaction
    comment: str | None
    rated_at: datetime
    status: CaseStatus  # the case's status after the rating
    can_reopen: bool  # unsatisfied, within the window


def _aware(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("timezone-aware datetimes only")


async def _own_case(tracking: str, citizen_id: int) -> Snapshot:
    case = await load_case(tracking)
    if case is None or case.citizen_id != citizen_id:
        raise CaseNotFound(tracking)
    return case


async def _answered_at(case: Snapshot) -> datetime:
    row = await Case.filter(id=case.id).first().values("answered_at")
    answered = row["answered_at"] if row else None
    if case.status is CaseStatus.CLOSED and await Rating.exists(case_id=case.id):
        raise RatingAlreadyGiven(f"case {case.tracking} was rated and closed")
    if case.status is not CaseStatus.ANSWERED or answered is None:
        raise RatingRefused(f"case {case.tracking} is {case.status}, not answered")
    return answered  # type: ignore[no-any-return]  # a row of .values(): Tortoise types it Any


async def _rating_of_this_answer(case: Snapshot, answered_at: datetime) -> Rating | None:
    """The rating given since the latest answer (a rating of an earlier answer does not count)."""
    rating = await Rating.get_or_none(case_id=case.id)
    if rating is None or rating.rated_at < answered_at:
        return None
    return rating


async def rate_solved(tracking: str, citizen_id: int, solved: str, *, now: datetime) -> None:
    """The first question: was the problem solved. Kept until the second answer comes.

    Raises CaseNotFound, RatingRefused (not answered), RatingAlreadyGiven; ValueError for an
    unknown code. Pressed again before the second question, the latest answer counts.
    """
    _aware(now)
    choice = RatingSolved(solved)
    async with in_transaction():
        case = await _own_case(tracking, citizen_id)
        answered_at = await _answered_at(case)
        if await _rating_of_this_answer(case, answered_at) is not None:
            raise RatingAlreadyGiven(f"case {case.tracking} already rated")
        if await _pending_solved(case, answered_at) == choice:
            return  # the same press again: counted once
        await record(
            case,
            "rating_solved",
            actor=CITIZEN,
            actor_id=citizen_id,
            now=now,
            public=False,
            solved=str(choice),
        )


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
    _aware(now)
    choice = RatingSatisfaction(satisfaction)
    async with in_transaction():
        case = await _own_case(tracking, citizen_id)
        answered_at = await _answered_at(case)
        if await _rating_of_this_answer(case, answered_at) is not None:
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
        if await Rating.filter(case_id=case.id).update(**values) == 0:
            # Tortoise types create()'s keywords as a connection, not as the model's fields.
            await Rating.create(case_id=case.id, **values)  # type: ignore[arg-type]
        await record(
            case,
            "rated",
            actor=CITIZEN,
            actor_id=citizen_id,
            now=now,
            public=True,
            solved=str(solved),
            satisfaction=str(choice),
        )
        if closes:
            await record(
                case,
                "closed",
                actor=CITIZEN,
                actor_id=citizen_id,
                now=now,
                public=True,
                reason="rated",
            )
            await tell_citizen(case, "case_closed", now)
        can_reopen = not closes and now - answered_at <= REOPEN_WITHIN
        return RatingView(case.tracking, solved, choice, None, now, status, can_reopen)


async def add_comment(tracking: str, citizen_id: int, comment: str, *, now: datetime) -> bool:
    """Add a comment to the rating of this case, once; False if it already has one.

    Allowed after the case closed (a comment does not change the rating). Raises CaseNotFound,
    RatingRefused when there is no rating to comment on.
    """
    _aware(now)
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


async def reopen_by_citizen(
    tracking: str, citizen_id: int, *, now: datetime, staff_chat_id: int | None
) -> None:
    """The citizen, unsatisfied, reopens the answered case within REOPEN_WITHIN of the answer.

    Back in progress in the same department, reopen_count + 1, event "reopened" (actor
    citizen), the citizen told "case_reopened" and the staff chat "staff_case_reopened".
    Raises CaseNotFound, RatingRefused (not answered, or not rated unsatisfied), ReopenTooLate,
    CaseChangedMeanwhile. A second press finds the case in progress: RatingRefused.
    """
    _aware(now)
    async with in_transaction():
        case = await _own_case(tracking, citizen_id)
        answered_at = await _answered_at(case)
        rating = await _rating_of_this_answer(case, answered_at)
        if rating is None or rating.satisfaction is not RatingSatisfaction.UNSATISFIED:
            raise RatingRefused(f"case {case.tracking}: reopen needs an unsatisfied rating")
        if now - answered_at > REOPEN_WITHIN:
            raise ReopenTooLate(f"case {case.tracking}: answered more than 7 days ago")
        row = await Case.filter(id=case.id).first().values("reopen_count")
        reopens = int(row["reopen_count"]) if row else 0
        await write_case(
            case,
            now,
            status=CaseStatus.IN_PROGRESS,
            answered_at=None,
            closed_at=None,
            **reopen_changes(reopens + 1),
        )
        await record(
            case,
            "reopened",
            actor=CITIZEN,
            actor_id=citizen_id,
            now=now,
            public=True,
            reason="unsatisfied",
        )
        await tell_citizen(case, "case_reopened", now)
        if staff_chat_id is not None:
            await notify(
                staff_chat_id, "staff_case_reopened", {"tracking": case.tracking}, now=now
            )


async def reopen_offered(tracking: str, citizen_id: int, *, now: datetime) -> bool:
    """Whether the citizen may reopen the case now (answered, rated unsatisfied, in time)."""
    case = await load_case(tracking)
    if case is None or case.citizen_id != citizen_id:
        return False
    answered_at = await _answered_at_or_none(case)
    if answered_at is None or now - answered_at > REOPEN_WITHIN:
        return False
    rating = await _rating_of_this_answer(case, answered_at)
    return rating is not None and rating.satisfaction is RatingSatisfaction.UNSATISFIED


# -- Sweeps: what time makes due ------------------------------------------------------------


async def _unrated_answered(before: datetime) -> list[Snapshot]:
    """Answered cases whose answer is older than `before` and has no rating, oldest first."""
    found: list[Snapshot] = []
    rows = (
        await Case.filter(status=CaseStatus.ANSWERED, answered_at__lt=before)
        .order_by("answered_at")
        .values("tracking", "answered_at")
    )
    for row in rows:
        case = await load_case(row["tracking"])
        if case is None or case.status is not CaseStatus.ANSWERED:
            continue
        if await _rating_of_this_answer(case, row["answered_at"]) is None:
            found.append(case)
    return found


async def remind_unrated(now: datetime, *, after: timedelta = REMIND_AFTER) -> int:
    """One reminder ("rating_reminder") per answer left unrated for `after`; returns how many.

    The reminder is recorded as a private event with the notice, under a dedupe key, so a sweep
    that runs twice sends once.
    """
    done = 0
    for seen in await _unrated_answered(now - after):
        async with in_transaction():
            case = await load_case(seen.tracking)
            if case is None:
                continue
            answered_at = await _answered_at_or_none(case)
            if answered_at is None or await _rating_of_this_answer(case, answered_at):
                continue
            if await Event.exists(case_id=case.id, kind=REMINDER, created_at__gte=answered_at):
                continue
            await record(case, REMINDER, actor=SYSTEM, actor_id=None, now=now, public=False)
            if case.citizen_id is not None:
                key = f"{REMINDER}:{case.id}:{answered_at.timestamp():.6f}"
                await notify(
                    case.citizen_id, REMINDER, {"tracking": case.tracking}, now=now, dedupe_key=key
                )
            done += 1
    return done


async def close_unrated(now: datetime, *, after: timedelta = CLOSE_AFTER) -> int:
    """Close each answer left unrated for `after` as "no feedback"; returns how many.

    The citizen is told ("case_closed" with reason no_feedback). A case the citizen rated
    unsatisfied and did not reopen in time is closed too (reason reopen_window_passed).
    """
    done = 0
    rows = (
        await Case.filter(status=CaseStatus.ANSWERED, answered_at__lt=now - after)
        .order_by("answered_at")
        .values_list("tracking", flat=True)
    )
    for tracking in rows:
        try:
            async with in_transaction():
                case = await load_case(str(tracking))
                if case is None or case.status is not CaseStatus.ANSWERED:
                    continue
                answered_at = await _answered_at_or_none(case)
                if answered_at is None or now - answered_at <= after:
                    continue
                rated = await _rating_of_this_answer(case, answered_at) is not None
                reason = "reopen_window_passed" if rated else "no_feedback"
                await write_case(case, now, status=CaseStatus.CLOSED, closed_at=now)
                await record(
                    case,
                    "closed",
                    actor=SYSTEM,
                    actor_id=None,
                    now=now,
                    public=True,
                    reason=reason,
                )
                await tell_citizen(case, "case_closed", now, reason=reason)
                done += 1
        except (CaseChangedMeanwhile, TransitionRefused):
            continue  # someone acted on it meanwhile: the next sweep looks again
    return done


async def _answered_at_or_none(case: Snapshot) -> datetime | None:
    try:
        return await _answered_at(case)
    except RatingRefused:
        return None
