"""The citizen, unsatisfied with an answer, reopens the case within REOPEN_WITHIN of it, giving a
reason (kept as their addition to the case, so it is erased with their other words). The check
runs twice: before the reason is asked for (reopen_allowed), and in the reopen's transaction.
"""

from __future__ import annotations

from datetime import datetime

from tortoise.transactions import in_transaction

from storage.deadlines import reopen_changes
from storage.lifecycle_core import Snapshot, record, tell_citizen, write_case
from storage.models import Actor, Case, CaseStatus, RatingSatisfaction
from storage.notice_queue import notify
from storage.rating import (
    REOPEN_WITHIN,
    RatingRefused,
    RatingView,
    ReopenTooLate,
    aware,
    latest_answer_at,
    own_case,
    rating_given,
    rating_of_this_answer,
)

CITIZEN = Actor.CITIZEN


async def _reopenable(case: Snapshot, now: datetime) -> None:
    answered_at = await latest_answer_at(case)
    rating = await rating_of_this_answer(case, answered_at)
    if rating is None or rating.satisfaction is not RatingSatisfaction.UNSATISFIED:
        raise RatingRefused(f"case {case.tracking}: reopen needs an unsatisfied rating")
    if now - answered_at > REOPEN_WITHIN:
        raise ReopenTooLate(f"case {case.tracking}: answered more than 7 days ago")


async def reopen_allowed(tracking: str, citizen_id: int, *, now: datetime) -> RatingView:
    """Check, without changing anything, that the citizen may reopen the case now; their rating.

    Raises what reopen_by_citizen raises (before the reason is asked for).
    """
    aware(now)
    await _reopenable(await own_case(tracking, citizen_id), now)
    return await rating_given(tracking, citizen_id, now=now)


async def reopen_by_citizen(
    tracking: str,
    citizen_id: int,
    *,
    now: datetime,
    staff_chat_id: int | None,
    reason: str | None = None,
) -> RatingView:
    """The citizen, unsatisfied, reopens the answered case within REOPEN_WITHIN of the answer.

    Back in progress in the same department, reopen_count + 1, event "reopened" (actor
    citizen), the citizen's `reason` kept as their addition ("citizen_added", erased with their
    other words), the citizen told "case_reopened" and the staff chat "staff_case_reopened"
    with the reason. Returns the rating as it was. Raises CaseNotFound, RatingRefused (not
    answered, or not rated unsatisfied), ReopenTooLate, CaseChangedMeanwhile. A second press
    finds the case in progress: RatingRefused.
    """
    aware(now)
    said = (reason or "").strip()
    async with in_transaction():
        case = await own_case(tracking, citizen_id)
        await _reopenable(case, now)
        rated = await rating_given(tracking, citizen_id, now=now)
        await reopen_unsatisfied(
            case, now, actor=CITIZEN, actor_id=citizen_id, said=said, staff_chat_id=staff_chat_id
        )
        if said:
            await record(
                case,
                "citizen_added",
                actor=CITIZEN,
                actor_id=citizen_id,
                now=now,
                public=True,
                text=said,
                photos=[],
            )
        return rated


async def reopen_unsatisfied(
    case: Snapshot,
    now: datetime,
    *,
    actor: Actor,
    actor_id: int,
    said: str,
    staff_chat_id: int | None,
) -> None:
    """The reopen itself, in the caller's transaction: back in progress in the same department,
    reopen_count + 1, event "reopened" (reason unsatisfied), the citizen told "case_reopened"
    and the staff chat "staff_case_reopened" with what was said. The citizen's own press and a
    clerk's callback (storage.callbacks) both take this path."""
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
        actor=actor,
        actor_id=actor_id,
        now=now,
        public=True,
        reason="unsatisfied",
    )
    await tell_citizen(case, "case_reopened", now)
    if staff_chat_id is not None:
        facts = {"tracking": case.tracking, **({"reason": said} if said else {})}
        await notify(staff_chat_id, "staff_case_reopened", facts, now=now)
