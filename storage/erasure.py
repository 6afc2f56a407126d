"""Erasing a citizen's words on request (/forget): from their cases, the inbox and the outbox.

What is erased is replaced by a marker rather than deleted, so that nothing the pipeline still
needs goes missing: an inbox row keeps its update_id (the dedupe key), an outbox row its chat,
method and message_id; a case keeps what the figures count. Renderers show an erased text as
"(erased at the citizen's request)".

Where the citizen is found:
- the inbox: their private chat's updates, and any update that names one of their cases by
  number (a staff member's button press on the case card embeds the card, a reply quotes it);
- the outbox: everything sent to their chat, everything their updates caused, and any message
  that names one of their cases (the card sent or edited by a staff command).
Updates not handled yet are left as they came (each must still be handled once; the retention
sweep, storage.retention, purges them later), except the citizen's own chat's up to the one being
handled, which are handled already within this transaction. A message still waiting to be sent
that carries the citizen is dropped instead of sent, also one queued earlier in this transaction
and not written yet.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from storage.desk_models import CallbackAttempt
from storage.models import Case, Event, InboxStatus, InboxUpdate, OutboxMessage, OutboxStatus
from storage.notice_queue import NOTICE_METHOD
from storage.outbox import OPEN, collected
from storage.similarity import tokens
from storage.sql import as_json, fetch
from storage.tracking import GROUP

# What an erased or purged payload becomes (inbox, outbox and the citizen's own events).
ERASED: dict[str, Any] = {"erased": True}
# The citizen's own words in a case's timeline: each event's payload becomes ERASED.
CITIZEN_WORDS = ("citizen_added", "citizen_answered", "rating_comment")
DROPPED = "erased at the citizen's request"  # the error of an outbox row never sent
CHUNK = 500  # ids per statement, well under every database's limit on parameters
_OUTBOX = "SELECT id, chat_id, method, payload, status FROM outbox_message"


def tracking_forms(trackings: Iterable[str]) -> list[str]:
    """The ways a number is written in messages, upper case: canonical, with dashes (as the bot
    writes it), with spaces (as people type it)."""
    forms: list[str] = []
    for tracking in trackings:
        groups = [tracking[i : i + GROUP] for i in range(0, len(tracking), GROUP)]
        forms += [tracking.upper(), "-".join(groups).upper(), " ".join(groups).upper()]
    return forms


def _mentions(forms: Sequence[str]) -> str:
    """A condition: the row's payload, as text, names one of `forms` (standard SQL)."""
    return " OR ".join(["UPPER(CAST(payload AS TEXT)) LIKE ?"] * len(forms))


def _chunks(ids: Sequence[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield list(ids[start : start + CHUNK])


async def erase_case_words(case_ids: Sequence[int], *, now: datetime) -> None:
    """The citizen's words in these cases: the description, the category's answers, the place,
    the photos and files, and their additions, answers to staff questions and rating comments
    in the timeline. Category, department, dates, status, staff answers and ratings stay."""
    for ids in _chunks(case_ids):
        await Case.filter(id__in=ids).update(
            text="",
            answers={},
            address=None,
            latitude=None,
            longitude=None,
            photos=[],
            attachments=[],
            erased_at=now,
        )
        await Event.filter(case_id__in=ids, kind__in=CITIZEN_WORDS).update(payload=ERASED)
    # The duplicate search keeps the token sets of recent texts in memory (storage.similarity):
    # the erased words go from there too.
    tokens.cache_clear()


async def erase_callback_notes(case_ids: Sequence[int]) -> None:
    """The notes of the clerks' callbacks (回访) on these cases, on the try and in its
    "callback_attempt" event: what the citizen said when reached (their rating comment), or
    what was learnt of them when not. The try itself (who, when, how, reached) stays, so the
    timeline still reads right; the event's payload is not replaced by ERASED for that reason."""
    for ids in _chunks(case_ids):
        await CallbackAttempt.filter(case_id__in=ids).update(note=None)
        tries = Event.filter(case_id__in=ids, kind="callback_attempt")
        for row in await tries.values("id", "payload"):
            payload = dict(row["payload"] or {})
            if payload.get("note"):
                await Event.filter(id=row["id"]).update(payload={**payload, "note": ""})


async def erase_inbox(
    citizen_id: int, trackings: Sequence[str], *, current_update_id: int | None
) -> list[int]:
    """Replace the payload of the citizen's handled updates, and of every handled update that
    names one of their cases; the update_ids of their own chat's updates (any status)."""
    forms = tracking_forms(trackings)
    where = "chat_key = ?" + (f" OR {_mentions(forms)}" if forms else "")
    sql = f"SELECT id, update_id, chat_key, status FROM inbox_update WHERE {where}"  # noqa: S608
    rows = await fetch(sql, citizen_id, *(f"%{form}%" for form in forms))
    # A chat's updates are handled in order: those of the citizen's chat up to the current one
    # are handled already, or earlier in this very transaction (not marked done yet).
    current = next((r["id"] for r in rows if r["update_id"] == current_update_id), None)
    handled = (InboxStatus.DONE.value, InboxStatus.FAILED.value)
    erase = [
        r["id"]
        for r in rows
        if r["status"] in handled
        or (current is not None and r["chat_key"] == citizen_id and r["id"] <= current)
    ]
    for ids in _chunks(erase):
        await InboxUpdate.filter(id__in=ids).update(payload=ERASED, error=None)
    return [int(r["update_id"]) for r in rows if r["chat_key"] == citizen_id]


async def erase_outbox(
    citizen_id: int, trackings: Sequence[str], caused_by: Sequence[int]
) -> None:
    """Replace the payload of every message to the citizen's chat, caused by one of their
    updates (`caused_by`), or naming one of their cases (see _carries); one not sent yet is
    dropped, also when it was queued in this transaction and is not written yet."""
    forms = tracking_forms(trackings)
    conditions = ["chat_id = ?"]
    params: list[Any] = [citizen_id]
    if forms:
        conditions.append(_mentions(forms))
        params += [f"%{form}%" for form in forms]
    rows = await fetch(f"{_OUTBOX} WHERE {' OR '.join(conditions)}", *params)
    for ids in _chunks(caused_by):
        rows += await fetch(f"{_OUTBOX} WHERE update_id IN ({', '.join('?' * len(ids))})", *ids)
    mine = set(trackings)
    erase: dict[int, bool] = {}  # id -> still open
    for row in rows:
        if _carries(row["chat_id"], row["method"], as_json(row["payload"]), citizen_id, mine):
            erase[int(row["id"])] = row["status"] in {s.value for s in OPEN}
    opened = [i for i, still_open in erase.items() if still_open]
    ended = [i for i, still_open in erase.items() if not still_open]
    for ids in _chunks(opened):
        await OutboxMessage.filter(id__in=ids).update(
            payload=ERASED, status=OutboxStatus.FAILED, error=DROPPED
        )
    for ids in _chunks(ended):
        await OutboxMessage.filter(id__in=ids).update(payload=ERASED, error=None)
    # Messages that updates handled earlier in this transaction queued, not written yet.
    caused = set(caused_by)
    for queued in collected():
        text = json.dumps(queued.payload, ensure_ascii=False).upper()
        named = any(form in text for form in forms)
        found = queued.chat_id == citizen_id or queued.update_id in caused or named
        if found and _carries(queued.chat_id, queued.method, queued.payload, citizen_id, mine):
            queued.payload = dict(ERASED)
            queued.status = OutboxStatus.FAILED
            queued.error = DROPPED


def _carries(
    chat_id: int | None, method: str, payload: dict[str, Any], citizen_id: int, mine: set[str]
) -> bool:
    """Whether a message found by chat, cause or number carries the citizen. A notice to
    someone else holds facts (numbers, never the citizen's words: its text is made from the
    database when it is sent), so it counts only when it is about one of their very cases: a
    digest or a list that merely names the case still goes out."""
    if method != NOTICE_METHOD or chat_id == citizen_id:
        return True
    facts = payload.get("params")
    return isinstance(facts, dict) and facts.get("tracking") in mine
