"""Privacy: what we hold about a citizen, and forgetting it on request (/privacy, /forget).

Forgetting keeps the figures true: a case loses who filed it and how to reach them, but keeps
its kind, category, department, status and times, so statistics and digests do not change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from storage.case_views import CASE_COLUMNS, EVENT_COLUMNS, OPEN_STATUSES, case_view, event_view
from storage.models import Actor, Case, CaseFollower, CaseStatus, Citizen, Draft, Event, Rating


@dataclass(frozen=True)
class ForgetReport:
    cases_closed: int  # open cases withdrawn first
    cases_anonymized: int  # every case of theirs, the withdrawn ones included


async def citizen_export(citizen_id: int) -> dict[str, Any]:
    """Everything held about a citizen, JSON-able: their row, their draft, their cases with the
    timeline they can see. Only ever sent to that same user."""
    async with in_transaction():
        citizen = await Citizen.filter(id=citizen_id).first().values()
        draft = await Draft.filter(citizen_id=citizen_id).first().values("step", "data")
        rows = await (
            Case.filter(citizen_id=citizen_id).order_by("created_at", "id").values(*CASE_COLUMNS)
        )
        events = await (
            Event.filter(case_id__in=[row["id"] for row in rows], public=True)
            .order_by("id")
            .values("case_id", *EVENT_COLUMNS)
        )
    timelines: dict[int, list[dict[str, Any]]] = {row["id"]: [] for row in rows}
    for event in events:
        view = event_view(event)
        timelines[event["case_id"]].append(
            {
                "kind": view.kind,
                "actor": view.actor,
                "payload": view.payload,
                "at": view.created_at.isoformat(),
            }
        )
    return {
        "citizen": _jsonable(citizen) if citizen else None,
        "draft": _jsonable(draft) if draft else None,
        "cases": [_case_export(row, timelines[row["id"]]) for row in rows],
    }


def _case_export(row: dict[str, Any], timeline: list[dict[str, Any]]) -> dict[str, Any]:
    case = case_view(row)
    return {
        "tracking": case.tracking,
        "kind": case.kind.value,
        "category": case.category_code,
        "department": case.department_code,
        "status": case.status.value,
        "text": case.text,
        "photos": list(case.photos),
        "location": None
        if case.location is None
        else {
            "latitude": case.location.latitude,
            "longitude": case.location.longitude,
            "address": case.location.address,
        },
        "answers": case.answers,
        "phone": case.phone,
        "anonymous": case.anonymous,
        "channel": case.channel,
        "created_at": case.created_at.isoformat(),
        "due_at": case.due_at.isoformat() if case.due_at else None,
        "updated_at": case.updated_at.isoformat(),
        "timeline": timeline,
    }


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in row.items()}


async def forget_citizen(citizen_id: int, *, now: datetime) -> ForgetReport:
    """Withdraw a citizen's open cases, then erase their personal data (the handler asked for
    consent). Running it again finds nothing more to do.

    Erased: the citizen's phone and name; on each of their cases the phone, the location, the
    photos (all their cases have ended by then), the photos of their additions, and the link to
    them (citizen id on the case, actor id on their own events). Kept: the Citizen row with its
    language (they may come back), case texts, kind, category, department, status and times.
    Each case gets an internal "personal_data_erased" event for the audit trail.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("timezone-aware datetimes only")
    async with in_transaction():
        mine = Case.filter(citizen_id=citizen_id)
        open_ids = [
            r["id"] for r in await mine.filter(status__in=list(OPEN_STATUSES)).values("id")
        ]
        all_ids = [r["id"] for r in await mine.values("id")]
        if open_ids:
            await Case.filter(id__in=open_ids).update(
                status=CaseStatus.CLOSED, closed_at=now, updated_at=now,
                version=F("version") + 1,
            )  # fmt: skip
            await Event.bulk_create(
                [
                    Event(case_id=case_id, kind="withdrawn", actor=Actor.CITIZEN,
                          actor_id=citizen_id, payload={}, public=True, created_at=now)
                    for case_id in open_ids
                ]
            )  # fmt: skip
        if all_ids:
            await _erase_additions(all_ids)
            await Event.filter(
                case_id__in=all_ids, actor=Actor.CITIZEN, actor_id=citizen_id
            ).update(actor_id=None)
            await Event.bulk_create(
                [
                    Event(case_id=case_id, kind="personal_data_erased", actor=Actor.SYSTEM,
                          payload={}, public=False, created_at=now)
                    for case_id in all_ids
                ]
            )  # fmt: skip
            await Case.filter(id__in=all_ids).update(
                citizen_id=None, phone=None, address=None, latitude=None, longitude=None,
                photos=[], updated_at=now, version=F("version") + 1,
            )  # fmt: skip
        await Citizen.filter(id=citizen_id).update(phone=None, first_name="")
        await Draft.filter(citizen_id=citizen_id).delete()
        # The requests they joined: they follow them no more; the supporter counts stay.
        await CaseFollower.filter(citizen_id=citizen_id).delete()
        await Event.filter(kind="joined", actor=Actor.CITIZEN, actor_id=citizen_id).update(
            actor_id=None
        )
        # Ratings stay for the figures; who gave them, and what they wrote, do not.
        await Rating.filter(citizen_id=citizen_id).update(citizen_id=None, comment=None)
    return ForgetReport(cases_closed=len(open_ids), cases_anonymized=len(all_ids))


async def _erase_additions(case_ids: list[int]) -> None:
    """Drop the photos from the citizen's additions; their text stays like the case text."""
    rows = await Event.filter(case_id__in=case_ids, kind="citizen_added").values("id", "payload")
    for row in rows:
        if row["payload"].get("photos"):
            payload = {**row["payload"], "photos": []}
            await Event.filter(id=row["id"]).update(payload=payload)
