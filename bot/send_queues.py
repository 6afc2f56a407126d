"""What waits to be sent, chat by chat, in memory: the sender's queues (bot.sender).

Rows are read once from the outbox, by id past a cursor, into one queue per chat. A send that
must be retried goes back to the head of its chat's queue, so the chat waits and its order
holds. A chat whose queue holds a reply to its own update (an urgent row) is remembered, oldest
first, so that its lane can start before the notices'.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from storage.outbox import Outcome, Outgoing, SendResult


class ChatQueues:
    """Outbox rows read and not yet sent, one queue per chat."""

    def __init__(self) -> None:
        self.by_chat: dict[int | None, deque[Outgoing]] = {}
        self.queued = 0  # rows in all the queues
        self.cursor = 0  # the highest outbox id read
        # Chats that were queued an urgent row, oldest first (checked against the queue).
        self.hurry: dict[int | None, None] = {}

    def add(self, rows: Iterable[Outgoing]) -> None:
        """Queue rows just read from the outbox, each behind its chat's earlier ones."""
        for row in rows:
            self.by_chat.setdefault(row.chat_id, deque()).append(row)
            self.queued += 1
            self.cursor = max(self.cursor, row.id)
            if row.urgent:
                self.hurry[row.chat_id] = None

    def take(self, queue: deque[Outgoing]) -> Outgoing:
        """The head of a chat's queue, to be sent now."""
        self.queued -= 1
        return queue.popleft()

    def settle(
        self, item: Outgoing, result: SendResult, queue: deque[Outgoing], now: datetime
    ) -> bool:
        """Update the queues after one send of `item` from `queue`; True if its chat's lane
        must stop here (a retry waits, or the chat is gone or moved)."""
        match result.outcome:
            case Outcome.SENT | Outcome.FAILED:
                return False
            case Outcome.RETRY | Outcome.UNCERTAIN:
                queue.appendleft(
                    replace(
                        item,
                        next_attempt_at=result.retry_at or now,
                        attempts=item.attempts + int(result.counts_as_attempt),
                        uncertain=result.outcome is Outcome.UNCERTAIN,
                    )
                )
                self.queued += 1
                if item.urgent:
                    self.hurry[item.chat_id] = None
            case Outcome.UNREACHABLE:
                self.queued -= len(queue)
                queue.clear()  # the database marks them failed with this result
            case Outcome.MIGRATED:
                moved = [replace(i, chat_id=result.new_chat_id) for i in (item, *queue)]
                self.queued -= len(queue)
                queue.clear()
                target = self.by_chat.setdefault(result.new_chat_id, deque())
                target.extendleft(reversed(moved))
                self.queued += len(moved)
                if any(i.urgent for i in moved):
                    self.hurry[result.new_chat_id] = None
        return True
