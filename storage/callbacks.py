"""Recording a callback (回访): a clerk's try to reach the citizen of an answered case.

Each try is a CallbackAttempt: not reached, or reached with the citizen's rating, stored as a
Rating with source "staff" under storage.rating's rules (one rating per answer; satisfied or
basically satisfied closes the case; unsatisfied may reopen it through storage.rating_reopen,
within the same window). The third try that does not reach the citizen takes the case out of
the queue (storage.callback_queue) with a "callback_not_reached" event; the rating sweep then
closes it without feedback, as an unrated answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise.transactions import in_transaction

from storage.callback_queue import CALLBACK_TRIES
from storage.case_views import CaseActionRefused, CaseNotFound
from storage.desk_models import CallbackAttempt
from storage.lifecycle_core import (
    Snapshot,
    authorized_case,
    record,
    write_case,
)
from storage.models import (
    Actor,
    Case,
    CaseStatus,
    RatingSatisfaction,
    RatingSolved,
)
from storage.rating import (
    REOPEN_WITHIN,
    answered_at_or_none,
    rating_of_this_answer,
    store_rating,
)
from storage.rating_reopen import reopen_unsatisfied
from storage.staff import StaffAction, StaffNotAuthorized, record_denial

METHODS = ("phone", "sms", "visit", "telegram", "other")
NOTE_MAX = 1000
STAFF = Actor.STAFF


class CallbackRefused(CaseActionRefused):
    """The callback cannot be recorded on this case now; nothing was changed.
    `why`: not_answered | rated | tries_used | too_late."""


@dataclass(frozen=True)
class CallbackReport:
    """What the clerk says about one try."""

    reached: bool
    method: str
    note: str = ""
    solved: RatingSolved | None = None
    satisfaction: RatingSatisfaction | None = None
    reopen: bool = False  # unsatisfied, and the citizen wants the case worked again

    def checked(self) -> CallbackReport:
        """The report if it hangs together; ValueError naming the first problem."""
        if self.method not in METHODS:
            raise ValueError("method")
        if len(self.note) > NOTE_MAX:
            raise ValueError("note")
        if self.reached and (self.solved is None or self.satisfaction is None):
            raise ValueError("rating")
        if self.reopen and self.satisfaction is not RatingSatisfaction.UNSATISFIED:
            raise ValueError("reopen")
        return self


@dataclass(frozen=True)
class CallbackState:
    """What the case page shows of the callback: the tries on this answer, and what is left."""

    answered: bool  # answered and not rated yet: a callback can be recorded
    due_at: datetime | None  # in the queue from then (None: not queued for this answer)
    tries: tuple[tuple[datetime, int, bool, str, str], ...]  # at, staff, reached, method, note
    tries_left: int


async def tries_of(case_id: int, since: datetime) -> list[CallbackAttempt]:
    """The callback tries on the answer given at `since`, oldest first."""
    return await CallbackAttempt.filter(case_id=case_id, created_at__gte=since).order_by("id")


async def callback_state(tracking: str, *, by: int) -> CallbackState | None:
    """The callback as the case page shows it, or None for whoever may not record one (a
    page view is not an attempt: nothing is audited)."""
    async with in_transaction():
        try:
            case = await authorized_case(tracking, StaffAction.CALLBACK, by)
        except (StaffNotAuthorized, CaseNotFound):
            return None
        row = await Case.filter(id=case.id).first().values("callback_due_at", "answered_at")
        answered_at = row["answered_at"] if row else None
        if answered_at is None:  # not answered yet, or reopened since
            return CallbackState(False, None, (), 0)
        due = row["callback_due_at"] if row else None
        tries = await tries_of(case.id, answered_at)
        failed = sum(1 for t in tries if not t.reached)
        rateable = await answered_at_or_none(case) is not None
        rated = await rating_of_this_answer(case, answered_at) is not None
    return CallbackState(
        answered=rateable and not rated and failed < CALLBACK_TRIES,
        due_at=due if due is not None and due >= answered_at else None,
        tries=tuple((t.created_at, t.staff_id, t.reached, t.method, t.note or "") for t in tries),
        tries_left=max(0, CALLBACK_TRIES - failed),
    )


async def record_callback(
    tracking: str, report: CallbackReport, *, by: int, now: datetime, staff_chat_id: int | None
) -> CaseStatus:
    """Record one try to reach the citizen of an answered case; the case's status after it.

    Every try is a CallbackAttempt and a private "callback_attempt" event. Reached, the rating
    is written as storage.rating writes the citizen's (source "staff", the clerk, how they were
    reached): satisfied or basically satisfied closes the case, unsatisfied with `reopen`
    reopens it (storage.rating_reopen). The third try that fails adds "callback_not_reached".
    Raises ValueError (a report that does not hang together), StaffNotAuthorized (audited),
    CaseNotFound, CallbackRefused (not answered, rated already, tries used, too late to
    reopen), CaseChangedMeanwhile; on any of them nothing is changed.
    """
    report = report.checked()
    try:
        async with in_transaction():
            case = await authorized_case(tracking, StaffAction.CALLBACK, by)
            answered_at = await answered_at_or_none(case)
            if answered_at is None:
                raise CallbackRefused(case.tracking, "not_answered")
            if await rating_of_this_answer(case, answered_at) is not None:
                raise CallbackRefused(case.tracking, "rated")
            tries = await tries_of(case.id, answered_at)
            failed = sum(1 for t in tries if not t.reached)
            if failed >= CALLBACK_TRIES:
                raise CallbackRefused(case.tracking, "tries_used")
            if report.reopen and now - answered_at > REOPEN_WITHIN:
                raise CallbackRefused(case.tracking, "too_late")
            await CallbackAttempt.create(
                case_id=case.id,
                staff_id=by,
                reached=report.reached,
                method=report.method,
                note=report.note or None,
                created_at=now,
            )
            await record(
                case,
                "callback_attempt",
                actor=STAFF,
                actor_id=by,
                now=now,
                public=False,
                reached=report.reached,
                method=report.method,
                note=report.note,
            )
            if not report.reached:
                await write_case(case, now)  # the version guards against a racing try
                if failed + 1 >= CALLBACK_TRIES:
                    await record(
                        case,
                        "callback_not_reached",
                        actor=STAFF,
                        actor_id=by,
                        now=now,
                        public=False,
                        tries=CALLBACK_TRIES,
                    )
                return case.status
            return await _rated(case, report, by=by, now=now, staff_chat_id=staff_chat_id)
    except StaffNotAuthorized as denied:
        await record_denial(denied, now=now)
        raise


async def _rated(
    case: Snapshot, report: CallbackReport, *, by: int, now: datetime, staff_chat_id: int | None
) -> CaseStatus:
    """The rating the citizen gave on the callback, written as the chat's rating is."""
    solved, satisfaction = report.solved, report.satisfaction
    if solved is None or satisfaction is None:  # checked() already refused this
        raise ValueError("rating")
    closes = satisfaction is not RatingSatisfaction.UNSATISFIED
    if closes:
        await write_case(case, now, status=CaseStatus.CLOSED, closed_at=now)
    elif not report.reopen:
        await write_case(case, now)
    values = {
        "solved": solved,
        "satisfaction": satisfaction,
        "comment": report.note or None,
        "rated_at": now,
        "citizen_id": case.citizen_id,
        "source": "staff",
        "staff_id": by,
        "contact_method": report.method,
    }
    await store_rating(
        case,
        values,
        closes=closes,
        actor=STAFF,
        actor_id=by,
        now=now,
        source="staff",
        method=report.method,
    )
    if closes:
        return CaseStatus.CLOSED
    if report.reopen:
        await reopen_unsatisfied(
            case, now, actor=STAFF, actor_id=by, said=report.note, staff_chat_id=staff_chat_id
        )
        return CaseStatus.IN_PROGRESS
    return CaseStatus.ANSWERED
