"""The deadline sweeps: what time makes due on the cases' clocks, read from the database.

Each case's step is its own transaction that writes the mark (due_reminded_at, escalated_at,
accept_escalated_at, or a SweepMark row for the daily list) together with the event and the
staff chat's notice, and only if the mark was not there: a sweep that runs twice, or a restart
in between, sends nothing twice. Without a staff chat the marks and events are still written.

- unaccepted past accept_due_at: to the supervisors, once ("staff_accept_overdue").
- at due_at: an escalation (督办) to the supervisors and a private event "escalated", once.
- at 75 % of the time from acceptance to due_at: a reminder, once per deadline (a moved
  deadline clears the mark, storage.deadlines), to the department, and a copy to the case's
  handler privately (承办人: storage.case_handler; the bot cannot know that a private message
  arrives, so the department is never skipped).
- every day at a set local time: the list of overdue cases, once per day, also when the bot was
  down at that minute (the first sweep after it sends it).
Paused cases (awaiting the citizen) are skipped: their clock is stopped.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from storage.case_handler import private_handler
from storage.deadlines import reminder_point
from storage.models import Actor, Case, CaseStatus, Event, SweepMark
from storage.notice_queue import notify

RUNNING = (CaseStatus.ACCEPTED, CaseStatus.IN_PROGRESS, CaseStatus.AWAITING_CITIZEN)
LIST_LIMIT = 50  # cases named in the daily list; the total counts them all


async def escalate_unaccepted(now: datetime, *, staff_chat_id: int | None) -> int:
    """Submitted cases past their acceptance limit, each told to the supervisors once."""
    now = now.astimezone(UTC)  # stored datetimes compare as text: one offset
    ids = (
        await Case.filter(
            status=CaseStatus.SUBMITTED, accept_due_at__lte=now, accept_escalated_at__isnull=True
        )
        .order_by("accept_due_at")
        .values("id")
    )
    done = 0
    for case_id in (int(row["id"]) for row in ids):
        async with in_transaction():
            marked = await Case.filter(
                id=case_id, status=CaseStatus.SUBMITTED, accept_escalated_at__isnull=True
            ).update(accept_escalated_at=now)
            if not marked:
                continue  # accepted or marked meanwhile
            row = await Case.filter(id=case_id).first().values("tracking", "accept_due_at")
            await _event(case_id, "accept_escalated", now, accept_due_at=row["accept_due_at"])
            if staff_chat_id is not None:
                await notify(
                    staff_chat_id,
                    "staff_accept_overdue",
                    {
                        "tracking": row["tracking"],
                        "accept_due_at": row["accept_due_at"].isoformat(),
                    },
                    now=now,
                )
            done += 1
    return done


async def escalate_overdue(now: datetime, *, staff_chat_id: int | None) -> int:
    """Running cases past their due date, each escalated once per deadline."""
    now = now.astimezone(UTC)  # stored datetimes compare as text: one offset
    ids = (
        await _running()
        .filter(due_at__lte=now, escalated_at__isnull=True)
        .order_by("due_at")
        .values("id")
    )
    done = 0
    for case_id in (int(row["id"]) for row in ids):
        async with in_transaction():
            marked = (
                await _running()
                .filter(id=case_id, due_at__lte=now, escalated_at__isnull=True)
                .update(escalated_at=now)
            )
            if not marked:
                continue
            row = await _facts(case_id)
            await _event(case_id, "escalated", now, due_at=row["due_at"])
            if staff_chat_id is not None:
                await notify(staff_chat_id, "staff_case_escalated", row, now=now)
            if (handler := await private_handler(case_id)) is not None:  # theirs: told too
                await notify(handler, "staff_handler_escalated", row, now=now)
            done += 1
    return done


async def remind_due(now: datetime, *, staff_chat_id: int | None) -> int:
    """A reminder to the department, and a copy to the case's handler privately, once 75 % of
    the time to the due date has passed."""
    now = now.astimezone(UTC)  # stored datetimes compare as text: one offset
    rows = (
        await _running()
        .filter(due_at__gt=now, due_reminded_at__isnull=True, accepted_at__isnull=False)
        .order_by("due_at")
        .values("id", "accepted_at", "due_at")
    )
    done = 0
    for seen in rows:
        if reminder_point(seen["accepted_at"], seen["due_at"]) > now:
            continue
        async with in_transaction():
            marked = (
                await _running()
                .filter(id=seen["id"], due_at=seen["due_at"], due_reminded_at__isnull=True)
                .update(due_reminded_at=now)
            )
            if not marked:
                continue  # the deadline moved or someone reminded meanwhile
            row = await _facts(seen["id"])
            # The department always (a private message may never arrive: a handler known
            # from the staff group may have no private chat with the bot), and the case's
            # handler (承办人) a private copy, as with the escalation at the due date.
            handler = await private_handler(seen["id"])
            to = {"handler": handler} if handler is not None else {}
            await _event(seen["id"], "reminder_75", now, due_at=row["due_at"], **to)
            if staff_chat_id is not None:
                await notify(staff_chat_id, "staff_due_reminder", row, now=now)
            if handler is not None:
                await notify(handler, "staff_handler_reminder", row, now=now)
            done += 1
    return done


async def send_overdue_list(
    now: datetime, *, staff_chat_id: int | None, zone: ZoneInfo, at: time
) -> int:
    """The day's list of overdue cases to the staff chat, once a day from `at` local time.

    The day is marked done (SweepMark "overdue:YYYY-MM-DD") in the same transaction as the
    notice; a day without overdue cases is marked and sends nothing. Returns 1 when sent.
    """
    now = now.astimezone(UTC)
    local = now.astimezone(zone)
    if staff_chat_id is None or local.time().replace(tzinfo=None) < at:
        return 0
    key = f"overdue:{local.date().isoformat()}"
    if await SweepMark.exists(key=key):
        return 0
    try:
        async with in_transaction():
            await SweepMark.create(key=key, done_at=now)
            overdue = _running().filter(due_at__lt=now)
            total = await overdue.count()
            if not total:
                return 0
            rows = (
                await overdue.order_by("due_at")
                .limit(LIST_LIMIT)
                .values("tracking", "department__code", "due_at")
            )
            cases = [[r["tracking"], r["department__code"], r["due_at"].isoformat()] for r in rows]
            await notify(
                staff_chat_id,
                "staff_overdue_list",
                {"date": local.date().isoformat(), "total": total, "cases": cases},
                now=now,
                dedupe_key=key,
            )
    except IntegrityError:
        return 0  # another worker marked the day first
    return 1


def _running() -> Any:
    # Paused cases wait for the citizen: their clock is stopped, nothing is due.
    return Case.filter(status__in=list(RUNNING), paused_at__isnull=True)


async def _facts(case_id: int) -> dict[str, Any]:
    row = await Case.filter(id=case_id).first().values("tracking", "department__code", "due_at")
    return {
        "tracking": row["tracking"],
        "department": row["department__code"],
        "due_at": row["due_at"].isoformat(),
    }


async def _event(case_id: int, kind: str, now: datetime, **payload: Any) -> None:
    """A private system event; datetimes in the payload are written as ISO text."""
    plain = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in payload.items()}
    await Event.create(
        case_id=case_id,
        kind=kind,
        actor=Actor.SYSTEM,
        actor_id=None,
        payload=plain,
        public=False,
        created_at=now,
    )
