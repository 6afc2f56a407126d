"""Disputes of unsatisfied ratings (差评复核): a department files one, a supervisor decides.

The staff of a case's department (its handlers, the supervisors over it, admins) dispute the
case's unsatisfied rating once, giving a reason code from the desk's list
(storage.dispute_reasons) and a text. The staff chat gets the dispute with Grant · Refuse;
a supervisor over the department (or an admin) other than the one who filed decides. Both are
private events on the case ("dispute_filed", "dispute_decided"), the audit trail. A granted
dispute takes the rating out of that department's resolution and satisfaction rates, and so out
of its ranking score (storage.stats, GRANTED_SQL); a newer rating of a later answer is not
covered by it. The digest counts disputes filed, granted and refused per department.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.transactions import in_transaction

from storage.case_views import CaseActionRefused
from storage.desk_models import Dispute
from storage.lifecycle_core import authorized_case, record, write_case
from storage.models import Actor, Case, Rating, RatingSatisfaction
from storage.notice_queue import notify
from storage.queue import reach_of
from storage.sql import fetch
from storage.staff import StaffAction, StaffNotAuthorized, record_denial

TEXT_MAX = 500
PENDING, GRANTED, REFUSED = "pending", "granted", "refused"
STAFF = Actor.STAFF
# SQL: the rating `r` of case `c` is covered by a granted dispute of the case's department.
GRANTED_SQL = (
    "EXISTS (SELECT 1 FROM rating_dispute gd WHERE gd.case_id = c.id"
    " AND gd.department_id = c.department_id AND gd.status = 'granted'"
    " AND gd.filed_at >= r.rated_at)"
)


class DisputeReasonUnknown(ValueError):
    """The reason is not a code of the desk's list."""


class DisputeRefused(CaseActionRefused):
    """The dispute cannot be filed or decided now; nothing was changed.
    `why`: no_unsatisfied | exists | not_pending | own."""


@dataclass(frozen=True)
class DisputeView:
    tracking: str
    department_code: str
    reason: str
    text: str
    filed_by: int
    filed_at: datetime
    status: str
    decided_by: int | None


async def _view(row: Dispute, tracking: str) -> DisputeView:
    code = await Case.filter(tracking=tracking).first().values_list("department__code", flat=True)
    return DisputeView(
        tracking,
        str(code or ""),
        row.reason,
        row.text,
        row.filed_by,
        row.filed_at,
        row.status,
        row.decided_by,
    )


async def file_dispute(
    tracking: str,
    reason: str,
    text: str,
    *,
    reasons: Mapping[str, Mapping[str, str]],
    by: int,
    now: datetime,
    staff_chat_id: int | None,
) -> DisputeView:
    """The case's department disputes its unsatisfied rating, once per rating.

    Raises StaffNotAuthorized (audited: not staff, or not of the case's department),
    CaseNotFound, DisputeReasonUnknown, DisputeRefused (no unsatisfied rating; disputed
    already), CaseChangedMeanwhile (filed or changed meanwhile), ValueError for a text over
    TEXT_MAX. `reasons`: the desk's codes with their names by language. The staff chat gets
    "staff_dispute_filed" with the reason's names.
    """
    if len(text) > TEXT_MAX:
        raise ValueError("text")
    try:
        async with in_transaction():
            case = await authorized_case(tracking, StaffAction.DISPUTE, by)
            if reason not in reasons:
                raise DisputeReasonUnknown(reason)
            rating = await Rating.get_or_none(case_id=case.id)
            if rating is None or rating.satisfaction is not RatingSatisfaction.UNSATISFIED:
                raise DisputeRefused(case.tracking, "no_unsatisfied")
            if await Dispute.exists(case_id=case.id, filed_at__gte=rating.rated_at):
                raise DisputeRefused(case.tracking, "exists")
            # The version guard: of two disputes filed at once, one writes, the other is
            # refused (CaseChangedMeanwhile) and nothing of it stays.
            await write_case(case, now)
            dispute = await Dispute.create(
                case_id=case.id,
                department_id=case.department_id,
                reason=reason,
                text=text.strip(),
                filed_by=by,
                filed_at=now,
            )
            await record(
                case,
                "dispute_filed",
                actor=STAFF,
                actor_id=by,
                now=now,
                public=False,
                reason=reason,
                text=dispute.text,
            )
            view = await _view(dispute, case.tracking)
            if staff_chat_id is not None:
                facts = {
                    "tracking": case.tracking,
                    "department": view.department_code,
                    "names": dict(reasons[reason]),
                }
                await notify(
                    staff_chat_id,
                    "staff_dispute_filed",
                    {**facts, "reason": reason, "text": dispute.text},
                    now=now,
                )
            return view
    except StaffNotAuthorized as denied:
        await record_denial(denied, now=now)
        raise


async def decide_dispute(
    tracking: str,
    grant: bool,
    *,
    by: int,
    now: datetime,
    staff_chat_id: int | None,
    note: str = "",
) -> DisputeView:
    """A supervisor over the department (or an admin) grants or refuses the pending dispute.

    Raises StaffNotAuthorized (audited), CaseNotFound, DisputeRefused (none pending; the
    decider filed it). The staff chat gets "staff_dispute_decided".
    """
    try:
        async with in_transaction():
            case = await authorized_case(tracking, StaffAction.DECIDE_DISPUTE, by)
            dispute = await Dispute.filter(case_id=case.id, status=PENDING).first()
            if dispute is None:
                raise DisputeRefused(case.tracking, "not_pending")
            if dispute.filed_by == by:
                raise DisputeRefused(case.tracking, "own")
            status = GRANTED if grant else REFUSED
            written = await Dispute.filter(id=dispute.id, status=PENDING).update(
                status=status, decided_by=by, decided_at=now, decision_note=note or None
            )
            if written != 1:
                raise DisputeRefused(case.tracking, "not_pending")
            await record(
                case,
                "dispute_decided",
                actor=STAFF,
                actor_id=by,
                now=now,
                public=False,
                reason=dispute.reason,
                status=status,
            )
            await dispute.refresh_from_db()
            view = await _view(dispute, case.tracking)
            if staff_chat_id is not None:
                await notify(
                    staff_chat_id,
                    "staff_dispute_decided",
                    {
                        "tracking": case.tracking,
                        "department": view.department_code,
                        "status": status,
                    },
                    now=now,
                )
            return view
    except StaffNotAuthorized as denied:
        await record_denial(denied, now=now)
        raise


async def dispute_pending(tracking: str) -> bool:
    """Whether the case has a dispute waiting for a decision (a card's buttons still apply)."""
    return await Dispute.exists(case__tracking=tracking, status=PENDING)


async def disputes_waiting_for(user_id: int, *, now: datetime) -> list[DisputeView]:
    """The disputes waiting for a decision in a staff member's reach, oldest first;
    StaffNotAuthorized (audited) for someone who is not staff."""
    try:
        reach = await reach_of(user_id)
    except StaffNotAuthorized as denied:
        await record_denial(denied, now=now)
        raise
    return await pending_disputes(reach)


async def pending_disputes(reach: frozenset[int] | None) -> list[DisputeView]:
    """The disputes waiting for a decision in these departments (None: all), oldest first."""
    query = Dispute.filter(status=PENDING).order_by("filed_at", "id")
    if reach is not None:
        query = query.filter(department_id__in=list(reach))
    rows = await query.prefetch_related("case")
    return [await _view(row, row.case.tracking) for row in rows]


async def dispute_counts(
    start: datetime, end: datetime, where: str, scope: list[Any]
) -> list[list[Any]]:
    """Disputes filed in [start, end) per department: [code, filed, granted, refused], most
    filed first. `where`/`scope`: storage.stats.scope_sql of the digest's departments."""
    rows = await fetch(
        "SELECT dp.code AS code, COUNT(*) AS filed,"  # noqa: S608 - constants only
        " SUM(CASE WHEN d.status = 'granted' THEN 1 ELSE 0 END) AS granted,"
        " SUM(CASE WHEN d.status = 'refused' THEN 1 ELSE 0 END) AS refused"
        " FROM rating_dispute d JOIN service_case c ON c.id = d.case_id"
        " JOIN department dp ON dp.id = d.department_id"
        f" WHERE d.filed_at >= ? AND d.filed_at < ?{where}"
        " GROUP BY dp.code ORDER BY filed DESC, dp.code",
        start,
        end,
        *scope,
    )
    return [
        [row["code"], int(row["filed"]), int(row["granted"] or 0), int(row["refused"] or 0)]
        for row in rows
    ]
