"""The callback's sweeps, what time makes due: one reminder to rate an answer, then the case
closed without feedback (or once the reopen window of an unsatisfied rating has passed)."""

from __future__ import annotations

from datetime import datetime, timedelta

from tortoise.transactions import in_transaction

from storage.callback_queue import callback_pending
from storage.lifecycle_core import (
    CaseChangedMeanwhile,
    TransitionRefused,
    load_case,
    record,
    tell_citizen,
    write_case,
)
from storage.models import Actor, Case, CaseStatus, Event
from storage.notice_queue import notify
from storage.rating import answered_at_or_none, rating_of_this_answer

REMIND_AFTER = timedelta(days=3)
CLOSE_AFTER = timedelta(days=7)
REMINDER = "rating_reminder"
SYSTEM = Actor.SYSTEM


async def _answered_before(before: datetime) -> list[tuple[str, datetime]]:
    """(tracking number, answered at) of answered cases whose answer is older than `before`,
    oldest first. No more: the cases are read one at a time, as they are dealt with (a list of
    whole cases grew with the desk)."""
    rows = (
        await Case.filter(status=CaseStatus.ANSWERED, answered_at__lt=before)
        .order_by("answered_at")
        .values_list("tracking", "answered_at")
    )
    return [(str(tracking), at) for tracking, at in rows]


async def _unrated(tracking: str, answered_at: datetime) -> bool:
    """Whether the case is still answered and that answer has no rating."""
    case = await load_case(tracking)
    if case is None or case.status is not CaseStatus.ANSWERED:
        return False
    return await rating_of_this_answer(case, answered_at) is None


async def remind_unrated(now: datetime, *, after: timedelta = REMIND_AFTER) -> int:
    """One reminder ("rating_reminder") per answer left unrated for `after`; returns how many.

    The reminder is recorded as a private event with the notice, under a dedupe key, so a sweep
    that runs twice sends once.
    """
    done = 0
    for tracking, seen_answered_at in await _answered_before(now - after):
        if not await _unrated(tracking, seen_answered_at):
            continue
        async with in_transaction():
            case = await load_case(tracking)
            if case is None or case.status is not CaseStatus.ANSWERED:
                continue
            answered_at = await answered_at_or_none(case)
            if answered_at is None or await rating_of_this_answer(case, answered_at):
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
    unsatisfied and did not reopen in time is closed too (reason reopen_window_passed). An
    answer waiting for a clerk's callback stays open (storage.callback_queue) until `after` has
    passed since the callback was due, then closes "without feedback" too.
    """
    done = 0
    for tracking, _ in await _answered_before(now - after):
        try:
            async with in_transaction():
                case = await load_case(str(tracking))
                if case is None or case.status is not CaseStatus.ANSWERED:
                    continue
                answered_at = await answered_at_or_none(case)
                if answered_at is None or now - answered_at <= after:
                    continue
                rated = await rating_of_this_answer(case, answered_at) is not None
                # A clerk's callback (回访) still to come keeps it open, for `after` from the
                # day it was due: a desk that makes no callbacks still closes its answers.
                waits = callback_pending(case.id, answered_at, queued_after=now - after)
                if not rated and await waits:
                    continue
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
