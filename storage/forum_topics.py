"""Departments' topics in the staff forum: which still need one, the one the bot opened, and
a topic found closed or deleted (the supervisors are told once; a deleted one is forgotten, so
that the bot opens a new one); and a department's own chat the bot can no longer write to
(its cards come to the staff group instead, the supervisors told once).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise.transactions import in_transaction

from storage.models import Department, OutboxMessage, OutboxStatus
from storage.notice_queue import NOTICE_METHOD, notify
from storage.outbox import OPEN, enqueue
from storage.staff_destinations import DEPARTMENT_NOTICES

TOPIC_CLOSED = "staff_topic_closed"
TOPIC_DELETED = "staff_topic_deleted"
CHAT_LOST = "staff_department_chat_lost"


@dataclass(frozen=True)
class TopicWanted:
    code: str
    names: dict[str, str]


async def departments_without_topic() -> list[TopicWanted]:
    """Active departments whose cards have no place of their own yet: no topic, no chat."""
    rows = await Department.filter(active=True, topic_id__isnull=True, chat_id__isnull=True)
    return [TopicWanted(row.code, dict(row.names)) for row in sorted(rows, key=lambda r: r.id)]


async def remember_topic(code: str, thread_id: int) -> bool:
    """Store the topic the bot opened for `code`; False if it has one already (kept)."""
    changed = await Department.filter(code=code, topic_id__isnull=True).update(topic_id=thread_id)
    return changed > 0


async def forget_topics() -> int:
    """Forget every department's topic (the demo's sandbox forum starts with none)."""
    return await Department.filter(topic_id__isnull=False).update(topic_id=None)


async def topic_lost(
    staff_chat_id: int, thread_id: int, *, deleted: bool, now: datetime
) -> str | None:
    """A card could not go to topic `thread_id` (closed, or deleted): it went to the General
    topic instead. Tell the supervisors there, once per topic and state; forget a deleted
    topic so that a new one is opened. The department's code, or None if no department has it.
    """
    async with in_transaction():
        department = await Department.filter(topic_id=thread_id).first()
        if department is None:
            return None
        if deleted:
            department.topic_id = None
            await department.save(update_fields=["topic_id"])
        kind = TOPIC_DELETED if deleted else TOPIC_CLOSED
        await notify(
            staff_chat_id,
            kind,
            {"department": department.code, "thread": thread_id},
            now=now,
            dedupe_key=f"{kind}:{staff_chat_id}:{thread_id}",
        )
        return department.code


async def department_chat_lost(
    chat_id: int, outbox_ids: list[int], staff_chat_id: int, *, now: datetime
) -> bool:
    """Telegram refused the outbox rows `outbox_ids` for `chat_id` (the bot was removed from
    it, or the chat is gone). If it is a department's own chat: its cards among them go to the
    staff group (General) instead, the rest end failed, and the supervisors are told once;
    True. False (nothing done) for any other chat."""
    if chat_id == staff_chat_id:
        return False
    department = await Department.filter(chat_id=chat_id).first().values("code")
    if department is None:
        return False
    async with in_transaction():
        # Only rows still open: one an earlier refusal already moved has gone once.
        rows = await OutboxMessage.filter(id__in=outbox_ids, status__in=OPEN)
        for row in rows:
            payload = dict(row.payload)
            if row.method == NOTICE_METHOD and payload.get("kind") in DEPARTMENT_NOTICES:
                payload.pop("thread", None)
                await enqueue(staff_chat_id, NOTICE_METHOD, payload, now=now, about=row.about)
        await OutboxMessage.filter(id__in=outbox_ids, status__in=OPEN).update(
            status=OutboxStatus.FAILED, error="department chat unreachable"
        )
        await notify(
            staff_chat_id,
            CHAT_LOST,
            {"department": department["code"], "chat": chat_id},
            now=now,
            dedupe_key=f"{CHAT_LOST}:{chat_id}",
        )
    return True
