"""The callback queue (回访): which answered cases wait for a clerk's call, and since when.

An answered case enters the queue (`Case.callback_due_at`: the start of the next working day)
when its citizen cannot rate it in the chat: a phone or Open311 case nobody claimed, or a
citizen who blocked the bot; and when the rating reminder went out and no rating came. The
sweep `queue_callbacks` sets it. A case is due while it is answered, its answer is not rated
and fewer than CALLBACK_TRIES tries failed to reach the citizen (storage.callbacks records
them); the rating sweep leaves such a case open meanwhile (storage.rating_sweeps), for the
usual closing window (7 days) counted from its `callback_due_at`, then closes it "without
feedback" all the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from tortoise.expressions import F, Q
from tortoise.queryset import QuerySet

from storage.desk_models import CallbackAttempt
from storage.models import Case, CaseStatus, Citizen, Event, Rating
from storage.work_calendar import WorkCalendar

CALLBACK_TRIES = 3
UNCLAIMED_CHANNELS = ("phone", "open311")  # filed for someone with no Telegram account (yet)


def next_working_day(after: datetime, calendar: WorkCalendar) -> datetime:
    """The first working moment of the working day after `after`'s day (UTC)."""
    local = after.astimezone(calendar.zone)
    midnight = datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=calendar.zone)
    return calendar.working_hours_after(midnight, 0)


async def callback_pending(
    case_id: int, answered_at: datetime, *, queued_after: datetime | None = None
) -> bool:
    """Whether this unrated answer waits for a clerk's callback: queued for it, and fewer than
    CALLBACK_TRIES tries failed (the rating sweep leaves it open meanwhile). With
    `queued_after`, one due before then waits no more: a desk that makes no callbacks still
    closes its answers (storage.rating_sweeps)."""
    row = await Case.filter(id=case_id).first().values("callback_due_at")
    due = row["callback_due_at"] if row else None
    if due is None or due < answered_at:
        return False
    if queued_after is not None and due < queued_after:
        return False
    failed = await CallbackAttempt.filter(
        case_id=case_id, created_at__gte=answered_at, reached=False
    ).count()
    return failed < CALLBACK_TRIES


async def due_for_callback(cases: QuerySet[Case], now: datetime) -> list[int]:
    """The ids among `cases` due for a callback now: answered, queued for this answer and due,
    not rated since it, and fewer than CALLBACK_TRIES failed tries."""
    now = now.astimezone(UTC)  # stored in UTC: SQLite compares them as text
    rows = await cases.filter(status=CaseStatus.ANSWERED, callback_due_at__lte=now).values(
        "id", "answered_at", "callback_due_at"
    )
    found = []
    for row in rows:
        answered_at = row["answered_at"]
        if answered_at is None or row["callback_due_at"] < answered_at:
            continue  # queued for an earlier answer, before a reopen
        if await Rating.exists(case_id=row["id"], rated_at__gte=answered_at):
            continue
        if await callback_pending(row["id"], answered_at):
            found.append(int(row["id"]))
    return found


async def queue_callbacks(now: datetime, *, calendar: WorkCalendar) -> int:
    """The sweep: answered, unrated cases that need a clerk's callback get `callback_due_at`,
    the next working day after the answer (unreachable in the chat) or after the rating
    reminder (no rating came); returns how many. A few reads per sweep, however many answers
    wait: the answered cases not queued for their answer, then their citizens, reminders and
    ratings in one query each."""
    waiting = Q(callback_due_at__isnull=True) | Q(callback_due_at__lt=F("answered_at"))
    rows = await Case.filter(
        waiting, status=CaseStatus.ANSWERED, answered_at__isnull=False
    ).values("id", "answered_at", "channel", "citizen_id")
    if not rows:
        return 0
    ids = [row["id"] for row in rows]
    citizens = [row["citizen_id"] for row in rows if row["citizen_id"] is not None]
    unreachable = set(
        await Citizen.filter(id__in=citizens, unreachable=True).values_list("id", flat=True)
    )
    reminded: dict[int, list[datetime]] = {}
    for case_id, at in await Event.filter(case_id__in=ids, kind="rating_reminder").values_list(
        "case_id", "created_at"
    ):
        reminded.setdefault(case_id, []).append(at)
    rated: dict[int, datetime] = dict(
        await Rating.filter(case_id__in=ids).values_list("case_id", "rated_at")
    )
    done = 0
    for row in rows:
        answered_at = row["answered_at"]
        if rated.get(row["id"]) is not None and rated[row["id"]] >= answered_at:
            continue
        if row["citizen_id"] is None:
            chat_cannot = row["channel"] in UNCLAIMED_CHANNELS  # else forgotten: no one to call
        else:
            chat_cannot = row["citizen_id"] in unreachable
        reminders = [at for at in reminded.get(row["id"], []) if at >= answered_at]
        since = answered_at if chat_cannot else min(reminders, default=None)
        if since is None:
            continue
        queued = Case.filter(id=row["id"], status=CaseStatus.ANSWERED)
        done += await queued.update(callback_due_at=next_working_day(since, calendar))
    return done


@dataclass(frozen=True)
class CallbackLine:
    """A case due for a callback, as the dashboard's list shows it."""

    tracking: str
    category_code: str
    department_code: str | None
    answered_at: datetime
    callback_due_at: datetime
    channel: str
    failed_tries: int


async def callback_lines(reach: frozenset[int] | None, now: datetime) -> list[CallbackLine]:
    """The cases due for a callback in these departments (None: all), longest waiting first."""
    cases = Case.all() if reach is None else Case.filter(department_id__in=list(reach))
    ids = await due_for_callback(cases, now)
    rows = (
        await Case.filter(id__in=ids)
        .order_by("callback_due_at", "id")
        .values(
            "id",
            "tracking",
            "category__code",
            "department__code",
            "answered_at",
            "callback_due_at",
            "channel",
        )
    )
    lines = []
    for row in rows:
        failed = await CallbackAttempt.filter(
            case_id=row["id"], created_at__gte=row["answered_at"], reached=False
        ).count()
        lines.append(
            CallbackLine(
                row["tracking"],
                row["category__code"],
                row["department__code"],
                row["answered_at"],
                row["callback_due_at"],
                row["channel"],
                failed,
            )
        )
    return lines
