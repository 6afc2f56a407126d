"""What Telegram answered for each send, stored: sent, retry later, failed, or the chat moved.

A citizen found unreachable is marked, staff are told (storage.reachability, a notice: itself an
outbox row), and the citizen's other waiting rows end with the same answer. A department's own
chat found unreachable (or gone) sends its cards to the staff group (storage.forum_topics).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from storage.forum_topics import department_chat_lost
from storage.models import OutboxMessage, OutboxStatus
from storage.outbox import OPEN, SCRUBBED, Outcome, SendResult
from storage.reachability import citizen_unreachable
from storage.sql import execute_many


async def record_results(
    results: Sequence[SendResult], *, now: datetime, staff_chat_id: int | None = None
) -> None:
    """Store what Telegram answered, for a batch of sends, in one transaction.

    A citizen found unreachable is announced to `staff_chat_id` (storage.reachability).
    """
    if not results:
        return
    # Where each went (a migrated group's new id) and its message id: the common case, one
    # statement run over the batch in plain SQL (the ORM's bulk update rebuilt its query and a
    # model per row, a tenth of the sender's time).
    sent = [
        (OutboxStatus.SENT.value, r.chat_id, r.message_id, now, r.outbox_id)
        for r in results
        if r.outcome is Outcome.SENT
    ]
    async with in_transaction():
        if sent:
            await execute_many(
                "UPDATE outbox_message SET status = ?, chat_id = ?, message_id = ?, sent_at = ?"
                " WHERE id = ?",
                sent,
            )
        for result in results:
            if result.outcome is not Outcome.SENT:
                await _record(result, now, staff_chat_id)
        ended = (Outcome.SENT, Outcome.FAILED, Outcome.UNREACHABLE)
        scrub = [r.outbox_id for r in results if r.secret and r.outcome in ended]
        if scrub:
            await OutboxMessage.filter(id__in=scrub).update(payload=SCRUBBED)


async def _record(result: SendResult, now: datetime, staff_chat_id: int | None) -> None:
    rows = OutboxMessage.filter(id=result.outbox_id)
    attempts = F("attempts") + 1 if result.counts_as_attempt else F("attempts")
    match result.outcome:
        case Outcome.RETRY | Outcome.UNCERTAIN:
            status = OutboxStatus.UNCERTAIN if result.outcome is Outcome.UNCERTAIN else None
            changes: dict[str, Any] = {
                "next_attempt_at": result.retry_at or now,
                "error": result.error,
                "attempts": attempts,
            }
            if status is not None:
                changes["status"] = status
            await rows.update(**changes)
        case Outcome.FAILED:
            await rows.update(status=OutboxStatus.FAILED, error=result.error, attempts=attempts)
        case Outcome.UNREACHABLE:
            if result.chat_id is not None and result.chat_id < 0 and staff_chat_id is not None:
                # The bot removed from a department's own chat, or the chat gone: the sender
                # dropped the chat's queue, so every card waiting for it goes to the staff group.
                waiting = OutboxMessage.filter(chat_id=result.chat_id, status__in=OPEN)
                waiting_ids = [int(row["id"]) for row in await waiting.values("id")]
                ids = [result.outbox_id, *waiting_ids]
                await department_chat_lost(result.chat_id, ids, staff_chat_id, now=now)
            await rows.update(status=OutboxStatus.FAILED, error=result.error, attempts=attempts)
            if result.chat_id is not None and result.chat_id > 0:
                await citizen_unreachable(result.chat_id, now=now, staff_chat_id=staff_chat_id)
                await OutboxMessage.filter(chat_id=result.chat_id, status__in=OPEN).update(
                    status=OutboxStatus.FAILED, error="recipient unreachable"
                )
        case Outcome.MIGRATED:
            await OutboxMessage.filter(chat_id=result.chat_id, status__in=OPEN).update(
                chat_id=result.new_chat_id, next_attempt_at=now
            )
