"""Drafts: the conversation a citizen is in — its step and what they entered so far.

One row per citizen, in the database rather than in process memory, so a restart (or another
worker) resumes exactly where the citizen was. The filing steps belong to intake; a few other
features keep a one-question step here too (waiting for a tracking number, for instance).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from tortoise.transactions import in_transaction

from storage.lane_reads import DRAFT_COLUMNS, lane_reads
from storage.models import Draft
from storage.notice_queue import notify
from storage.sql import as_datetime, as_json, execute, fetch, to_json


class Step(StrEnum):
    KIND = "kind"
    DOMAIN = "domain"
    CATEGORY = "category"
    QUESTION = "question"
    DESCRIPTION = "description"
    PHOTOS = "photos"
    LOCATION = "location"
    CONTACT = "contact"
    SUMMARY = "summary"
    SUGGEST = "suggest"  # "Not sure": the categories the description reads as, to choose from
    TRACK_NUMBER = "track_number"  # waiting for a tracking number after "Track a request"
    ADD_INFO = "add_info"  # waiting for text or photos to add to data["tracking"]
    CONFIRM_FORGET = "confirm_forget"  # /forget asked for consent
    REOPEN_REASON = "reopen_reason"  # waiting for why data["tracking"] should be reopened


INTAKE_STEPS: frozenset[Step] = frozenset(
    {
        Step.KIND,
        Step.DOMAIN,
        Step.CATEGORY,
        Step.QUESTION,
        Step.DESCRIPTION,
        Step.PHOTOS,
        Step.LOCATION,
        Step.CONTACT,
        Step.SUMMARY,
        Step.SUGGEST,
    }
)

_SET_SQL = """
INSERT INTO draft (citizen_id, step, data, reminded, updated_at) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (citizen_id) DO UPDATE SET step = excluded.step, data = excluded.data,
  reminded = excluded.reminded, updated_at = excluded.updated_at
"""

REMINDER = "draft_reminder"
DISCARDED = "draft_discarded"


@dataclass(frozen=True)
class DraftView:
    citizen_id: int
    step: Step
    data: dict[str, Any]
    updated_at: datetime


def _view(row: Draft) -> DraftView | None:
    return _view_of(row.citizen_id, row.step, dict(row.data or {}), row.updated_at)


def _view_of(
    citizen_id: int, step: str, data: dict[str, Any], updated_at: datetime
) -> DraftView | None:
    try:
        known = Step(step)
    except ValueError:  # written by a newer version that has since been rolled back
        return None
    return DraftView(citizen_id, known, data, updated_at)


async def current_draft(citizen_id: int) -> DraftView | None:
    """The citizen's draft, or None (also for a row whose step this version does not know)."""
    reads = lane_reads()  # the dispatcher may have read it for the lane (storage.lane_reads)
    known, ahead = reads.draft(citizen_id) if reads else (False, None)
    if known:
        rows = [ahead] if ahead is not None else []
    else:
        rows = await fetch(  # read on every private message: plain SQL (storage/sql.py)
            f"SELECT {DRAFT_COLUMNS} FROM draft WHERE citizen_id = ?",  # noqa: S608 - names
            citizen_id,
        )
    if not rows:
        return None
    row = rows[0]
    data = as_json(row["data"]) or {}
    return _view_of(row["citizen_id"], row["step"], data, as_datetime(row["updated_at"]))


async def set_draft(
    citizen_id: int, step: Step, data: dict[str, Any], *, now: datetime
) -> DraftView:
    """Create or replace the citizen's draft at `step`; it counts as touched at `now`."""
    step = Step(step)
    # Written at nearly every step: one plain statement (storage/sql.py), which also keeps
    # the given time where the model's auto_now would put the wall clock.
    await fetch(_SET_SQL, citizen_id, str(step), to_json(data), False, now)
    return DraftView(citizen_id, step, data, now)


async def discard_draft(citizen_id: int) -> bool:
    """Forget the citizen's draft; True if there was one."""
    # At every Submit and /cancel: one plain statement (storage/sql.py).
    return await execute("DELETE FROM draft WHERE citizen_id = ?", citizen_id) > 0


async def stale_drafts(before: datetime, *, reminded: bool) -> list[DraftView]:
    """Drafts last touched before `before`, with the given reminder flag, oldest first."""
    rows = await Draft.filter(updated_at__lt=before, reminded=reminded).order_by("updated_at")
    return [view for row in rows if (view := _view(row)) is not None]


async def mark_reminded(citizen_id: int) -> None:
    await Draft.filter(citizen_id=citizen_id).update(reminded=True)


async def remind_idle_drafts(now: datetime, *, idle: timedelta) -> int:
    """Send one reminder for each filing draft untouched for `idle`; returns how many.

    Each reminder and its mark commit together, with a dedupe key: a sweep that runs twice, or
    two workers sweeping at once, send it once.
    """
    done = 0
    for draft in await stale_drafts(now - idle, reminded=False):
        async with in_transaction():
            if draft.step not in INTAKE_STEPS:  # a one-question step: just let it go
                await _discard_if_untouched(draft)
                continue
            if not await _discard_if_untouched(draft, keep=True):
                continue
            key = f"{REMINDER}:{draft.citizen_id}:{draft.updated_at.timestamp():.6f}"
            params = {"step": str(draft.step)}
            await notify(draft.citizen_id, REMINDER, params, now=now, dedupe_key=key)
            await mark_reminded(draft.citizen_id)
            done += 1
    return done


async def discard_abandoned_drafts(now: datetime, *, idle: timedelta) -> int:
    """Discard each draft untouched for `idle`, telling the citizen once; returns how many."""
    done = 0
    for reminded in (True, False):
        for draft in await stale_drafts(now - idle, reminded=reminded):
            async with in_transaction():
                if not await _discard_if_untouched(draft):
                    continue
                if draft.step in INTAKE_STEPS:
                    key = f"{DISCARDED}:{draft.citizen_id}:{draft.updated_at.timestamp():.6f}"
                    await notify(draft.citizen_id, DISCARDED, {}, now=now, dedupe_key=key)
                done += 1
    return done


async def _discard_if_untouched(draft: DraftView, *, keep: bool = False) -> bool:
    """Whether the draft is still as the sweep saw it (delete it, unless `keep`).

    The citizen may have written between the sweep's query and now: their draft is then fresh.
    """
    query = Draft.filter(citizen_id=draft.citizen_id, updated_at=draft.updated_at)
    if keep:
        return await query.exists()
    return await query.delete() > 0
