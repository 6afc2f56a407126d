"""Privacy: what we hold about a citizen, and forgetting it on request (/privacy, /forget).

Forgetting keeps the figures true: a case loses who filed it, how to reach them and what they
wrote, but keeps its kind, category, department, status, times, staff answers and rating, so
statistics and digests do not change. The confirming button carries a one-time value kept on the
citizen (forget_nonce), so a forged or replayed "yes" erases nothing.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from storage.case_views import CASE_COLUMNS, EVENT_COLUMNS, OPEN_STATUSES, case_view, event_view
from storage.erasure import ERASED, erase_case_words, erase_inbox, erase_outbox
from storage.followers import tell_followers
from storage.models import (
    Actor,
    Case,
    CaseFollower,
    CaseStatus,
    Citizen,
    ClaimCode,
    Draft,
    Event,
    Rating,
)

# Event kinds erased whatever the desk keeps by law: the citizen's rating comment, and the
# public text and note staff wrote with their consent (published, unpublished).
ALWAYS_ERASED = ("rating_comment", "published", "unpublished")


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
        # The /forget question's one-time value is a key, not something known about them.
        "citizen": _jsonable({k: v for k, v in citizen.items() if k != "forget_nonce"})
        if citizen
        else None,
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


class ForgetNotConfirmed(Exception):
    """The confirming button's one-time value is wrong, stale or spent: nothing was erased."""


async def ask_to_forget(citizen_id: int) -> str:
    """A fresh one-time value for the /forget question's buttons; earlier buttons expire."""
    nonce = secrets.token_hex(16)  # 32 characters: "forget:yes:<nonce>" fits in 64 bytes
    await Citizen.filter(id=citizen_id).update(forget_nonce=nonce)
    return nonce


async def open_forget_question(citizen_id: int) -> str | None:
    """The one-time value of the /forget question the citizen has not answered yet, if any."""
    row = await Citizen.filter(id=citizen_id).first().values("forget_nonce")
    return str(row["forget_nonce"]) if row and row["forget_nonce"] else None


async def cancel_forget(citizen_id: int, nonce: str) -> None:
    """The citizen said no on the question with this value: its buttons are spent."""
    await Citizen.filter(id=citizen_id, forget_nonce=nonce).update(forget_nonce=None)


async def confirm_forget(
    citizen_id: int,
    nonce: str,
    *,
    now: datetime,
    keep_case_texts: bool,
    update_id: int | None = None,
) -> ForgetReport:
    """Forget the citizen if `nonce` is the value of their open /forget question, spending it;
    ForgetNotConfirmed (nothing erased) otherwise. See forget_citizen."""
    async with in_transaction():
        spent = 0
        if nonce:  # a conditional UPDATE: two presses at once erase once
            spent = await Citizen.filter(id=citizen_id, forget_nonce=nonce).update(
                forget_nonce=None
            )
        if spent != 1:
            raise ForgetNotConfirmed(citizen_id)
        return await forget_citizen(
            citizen_id, now=now, keep_case_texts=keep_case_texts, update_id=update_id
        )


async def forget_citizen(
    citizen_id: int,
    *,
    now: datetime,
    keep_case_texts: bool = False,
    update_id: int | None = None,
) -> ForgetReport:
    """Withdraw a citizen's open cases, then erase them, in one transaction (the handler asked
    for consent). Running it again finds nothing more to do.

    Erased: the citizen's name and phone; on each of their cases the phone, the link to them
    (citizen id on the case, actor id on their own events) and, unless `keep_case_texts` (a
    desk that must keep case records by law), their words (storage.erasure.erase_case_words);
    their rating comments; their draft; the inbox and outbox rows that carry them
    (storage.erasure; `update_id` is the update being handled, erased too). Kept: the Citizen
    row with its language (they may come back), kind, category, department, status, times,
    staff answers and ratings, so the figures stay true. Each case gets an internal
    "personal_data_erased" event for the audit trail. A published case is unpublished: the
    consent to publish goes with the rest.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("timezone-aware datetimes only")
    async with in_transaction():
        mine = Case.filter(citizen_id=citizen_id)
        open_ids = [
            r["id"] for r in await mine.filter(status__in=list(OPEN_STATUSES)).values("id")
        ]
        cases = await mine.values("id", "tracking")
        all_ids = [r["id"] for r in cases]
        if open_ids:
            await Case.filter(id__in=open_ids).update(
                status=CaseStatus.CLOSED,
                closed_at=now,
                updated_at=now,
                version=F("version") + 1,
            )
            await Event.bulk_create(
                [
                    Event(
                        case_id=case_id,
                        kind="withdrawn",
                        actor=Actor.CITIZEN,
                        actor_id=citizen_id,
                        payload={},
                        public=True,
                        created_at=now,
                    )
                    for case_id in open_ids
                ]
            )
        if all_ids:
            if not keep_case_texts:
                await erase_case_words(all_ids, now=now)
            # Also in records mode: the rating comment, and the public texts (their consent
            # goes below).
            await Event.filter(case_id__in=all_ids, kind__in=ALWAYS_ERASED).update(payload=ERASED)
            await Event.filter(
                case_id__in=all_ids, actor=Actor.CITIZEN, actor_id=citizen_id
            ).update(actor_id=None)
            await Event.bulk_create(
                [
                    Event(
                        case_id=case_id,
                        kind="personal_data_erased",
                        actor=Actor.SYSTEM,
                        payload={},
                        public=False,
                        created_at=now,
                    )
                    for case_id in all_ids
                ]
            )
            # Erasure withdraws the consent to publish too: the public text, though staff
            # wrote it, tells the citizen's story.
            await Case.filter(id__in=all_ids).update(
                citizen_id=None,
                phone=None,
                publish_consent=False,
                public_text=None,
                public_note=None,
                updated_at=now,
                version=F("version") + 1,
            )
        trackings = [str(r["tracking"]) for r in cases]
        their_updates = await erase_inbox(citizen_id, trackings, current_update_id=update_id)
        await erase_outbox(citizen_id, trackings, their_updates)
        # Followers of a withdrawn case hear that it closed (after the outbox was searched:
        # this notice names the case but carries nothing of the citizen).
        numbers = {int(r["id"]): str(r["tracking"]) for r in cases}
        for case_id in open_ids:
            await tell_followers(case_id, "case_closed", {"tracking": numbers[case_id]}, now=now)
        await Citizen.filter(id=citizen_id).update(phone=None, first_name="", forget_nonce=None)
        await Draft.filter(citizen_id=citizen_id).delete()
        # The requests they joined: they follow them no more; the supporter counts stay.
        await CaseFollower.filter(citizen_id=citizen_id).delete()
        await Event.filter(kind="joined", actor=Actor.CITIZEN, actor_id=citizen_id).update(
            actor_id=None
        )
        # Ratings stay for the figures; who gave them, and what they wrote, do not.
        await Rating.filter(citizen_id=citizen_id).update(citizen_id=None, comment=None)
        await ClaimCode.filter(claimed_by=citizen_id).update(claimed_by=None)
    return ForgetReport(cases_closed=len(open_ids), cases_anonymized=len(all_ids))
