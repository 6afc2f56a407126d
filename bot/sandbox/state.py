"""Everything the stand-in remembers, in memory: people, chats, files, messages and updates."""

from __future__ import annotations

import base64
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from bot.sandbox.config import SandboxConfig
from bot.sandbox.core import JsonDict, Signal

# A 1x1 PNG stands in for photos whose bytes were never uploaded, so downloads still work.
PLACEHOLDER_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
# Update kinds Telegram leaves out unless asked for explicitly.
OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
EVENT_BUFFER = 20_000


@dataclass
class StoredFile:
    file_id: str
    unique_id: str
    path: str
    data: bytes | None
    mime_type: str
    file_name: str | None = None

    def size(self) -> int:
        return len(self.data) if self.data is not None else len(PLACEHOLDER_PNG)

    def content(self) -> bytes:
        return self.data if self.data is not None else PLACEHOLDER_PNG


def update_kind(update: JsonDict) -> str:
    return next((key for key in update if key != "update_id"), "")


class World:
    """The in-memory state behind the Bot API, the control API and the web page."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.users: dict[int, JsonDict] = {}
        self.groups: dict[int, JsonDict] = {}
        self.topics: dict[int, dict[int, JsonDict]] = {}  # forum topics by chat and thread id
        self.files: dict[str, StoredFile] = {}
        self.file_paths: dict[str, StoredFile] = {}
        self.chat_messages: dict[int, list[JsonDict]] = {}
        self.bot_index: dict[tuple[int, int], JsonDict] = {}
        self.user_messages: dict[tuple[int, int], JsonDict] = {}
        self.pending: deque[JsonDict] = deque()
        self.allowed_updates: list[str] = []
        self.callbacks: dict[str, JsonDict] = {}
        self.callback_answers: dict[str, JsonDict] = {}
        self.commands: dict[str, list[JsonDict]] = {}
        self.events: deque[JsonDict] = deque(maxlen=EVENT_BUFFER)
        self.stats: dict[str, int] = {"faults_injected": 0, "webhook_deliveries": 0}
        self.violations: list[JsonDict] = []
        self.updates_signal = Signal()
        self.events_signal = Signal()
        self.chat_signals: dict[int, Signal] = {}
        self._next_update_id = 1
        self._next_message_id = 1
        self._next_callback_id = 1
        self._next_file = 1
        self._next_seq = 1

    # -- identities -------------------------------------------------------------------------

    def bot_user(self) -> JsonDict:
        return {
            "id": self.config.bot_user_id,
            "is_bot": True,
            "first_name": "Minsheng",
            "username": "minsheng_bot",
        }

    def user(
        self,
        user_id: int,
        first_name: str | None = None,
        language_code: str | None = None,
        username: str | None = None,
    ) -> JsonDict:
        """The User object for ``user_id``, remembering any name or language given."""
        known = self.users.get(user_id)
        if known is None:
            known = {
                "id": user_id,
                "is_bot": False,
                "first_name": f"User {user_id}",
                "language_code": "en",
            }
            self.users[user_id] = known
        if first_name:
            known["first_name"] = first_name
        if language_code:
            known["language_code"] = language_code
        if username:
            known["username"] = username
        return known

    def chat(self, chat_id: int) -> JsonDict:
        """The Chat object for ``chat_id``; groups come into being when first used."""
        if chat_id > 0:
            user = self.users.get(chat_id) or self.user(chat_id)
            chat: JsonDict = {"id": chat_id, "type": "private", "first_name": user["first_name"]}
            if "username" in user:
                chat["username"] = user["username"]
            return chat
        group = self.groups.get(chat_id)
        if group is None:
            if chat_id == self.config.staff_group_id:
                group = {"id": chat_id, "type": "supergroup", "title": "Staff"}
                if self.config.staff_forum:
                    group["is_forum"] = True
            else:
                kind = "supergroup" if str(chat_id).startswith("-100") else "group"
                group = {"id": chat_id, "type": kind, "title": f"Group {chat_id}"}
            self.groups[chat_id] = group
        return group

    def knows_chat(self, chat_id: int) -> bool:
        return (
            chat_id in self.users
            or chat_id in self.groups
            or (chat_id == self.config.staff_group_id)
        )

    # -- counters ---------------------------------------------------------------------------

    def new_message_id(self) -> int:
        self._next_message_id += 1
        return self._next_message_id - 1

    def new_callback_id(self) -> str:
        self._next_callback_id += 1
        return str(self._next_callback_id - 1)

    def count(self, key: str, amount: int = 1) -> None:
        self.stats[key] = self.stats.get(key, 0) + amount

    # -- files ------------------------------------------------------------------------------

    def store_file(
        self,
        kind: str,
        data: bytes | None,
        mime_type: str = "image/jpeg",
        file_name: str | None = None,
        file_id: str | None = None,
    ) -> StoredFile:
        number = self._next_file
        self._next_file += 1
        folder, suffix = {
            "photo": ("photos", "jpg"),
            "voice": ("voice", "oga"),
            "video": ("videos", "mp4"),
            "sticker": ("stickers", "webp"),
        }.get(kind, ("documents", (file_name or "file.bin").rsplit(".", 1)[-1]))
        stored = StoredFile(
            file_id=file_id or f"SBX-{kind}-{number}",
            unique_id=f"sbxu{number}",
            path=f"{folder}/file_{number}.{suffix}",
            data=data,
            mime_type=mime_type,
            file_name=file_name,
        )
        self.files[stored.file_id] = stored
        self.file_paths[stored.path] = stored
        return stored

    def file_by_path(self, path: str) -> StoredFile | None:
        return self.file_paths.get(path)

    def photo_sizes(self, file_id: str) -> list[JsonDict]:
        stored = self.files.get(file_id)
        size = stored.size() if stored else 0
        unique = stored.unique_id if stored else f"u{file_id[-16:]}"
        return [
            {
                "file_id": file_id,
                "file_unique_id": unique,
                "width": 1280,
                "height": 960,
                "file_size": size,
            }
        ]

    # -- updates ----------------------------------------------------------------------------

    def continue_after(self, update_id: int, message_id: int) -> None:
        """Number new updates and messages after these, as Telegram would for a bot that has
        seen them (a sandbox started afresh against a database kept from an earlier run)."""
        self._next_update_id = max(self._next_update_id, update_id + 1)
        self._next_message_id = max(self._next_message_id, message_id + 1)

    def push_update(self, fields: JsonDict) -> JsonDict:
        """Queue an update (its ``update_id`` assigned here) and wake whoever waits."""
        update: JsonDict = {"update_id": self._next_update_id}
        update.update((k, v) for k, v in fields.items() if k != "update_id")
        self._next_update_id += 1
        self.pending.append(update)
        self.updates_signal.notify()
        return update

    def confirm(self, offset: int) -> None:
        """Forget updates before ``offset``; a negative offset keeps only the last -offset."""
        pending = self.pending
        if offset < 0:
            while len(pending) > -offset:
                pending.popleft()
            return
        while pending and pending[0]["update_id"] < offset:
            pending.popleft()

    def wanted(self, update: JsonDict) -> bool:
        kind = update_kind(update)
        if self.allowed_updates:
            return kind in self.allowed_updates
        return kind not in OPT_IN_UPDATES

    def batch(self, limit: int) -> list[JsonDict]:
        result: list[JsonDict] = []
        for update in self.pending:
            if self.wanted(update):
                result.append(update)
                if len(result) >= limit:
                    break
        return result

    # -- messages and the event feed --------------------------------------------------------

    def add_event(self, kind: str, chat_id: int, message: JsonDict, **extra: Any) -> None:
        event = {"seq": self._next_seq, "kind": kind, "chat_id": chat_id, "message": message}
        event.update(extra)
        self._next_seq += 1
        self.events.append(event)
        self.events_signal.notify()

    def events_since(self, seq: int) -> list[JsonDict]:
        events = self.events
        if not events or events[-1]["seq"] <= seq:
            return []
        first = events[0]["seq"]
        start = max(0, seq + 1 - first)
        return [events[i] for i in range(start, len(events))]

    @property
    def last_seq(self) -> int:
        return self._next_seq - 1

    def record_bot_message(self, record: JsonDict) -> None:
        chat_id = record["chat_id"]
        self.chat_messages.setdefault(chat_id, []).append(record)
        self.bot_index[(chat_id, record["message_id"])] = record
        self.add_event("message", chat_id, record)
        signal = self.chat_signals.get(chat_id)
        if signal is not None:
            signal.notify()

    def record_user_message(self, message: JsonDict, *, edited: bool = False) -> None:
        chat_id = message["chat"]["id"]
        self.user_messages[(chat_id, message["message_id"])] = message
        self.add_event("user_edit" if edited else "user_message", chat_id, message)

    def messages(self, chat_id: int) -> list[JsonDict]:
        return list(self.chat_messages.get(chat_id, ()))

    def chat_signal(self, chat_id: int) -> Signal:
        signal = self.chat_signals.get(chat_id)
        if signal is None:
            signal = self.chat_signals[chat_id] = Signal()
        return signal

    async def wait_for_messages(self, chat_id: int, count: int, seconds: float) -> list[JsonDict]:
        """The chat's bot messages once there are at least ``count``; TimeoutError otherwise."""
        deadline = time.monotonic() + seconds
        signal = self.chat_signal(chat_id)
        while len(self.chat_messages.get(chat_id, ())) < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                have = len(self.chat_messages.get(chat_id, ()))
                raise TimeoutError(f"chat {chat_id} has {have} of {count} messages")
            await signal.wait(remaining)
        return self.messages(chat_id)

    def reset(self) -> None:
        """Forget messages, answers, violations and stats; keep updates and the webhook."""
        self.chat_messages.clear()
        self.bot_index.clear()
        self.user_messages.clear()
        self.callback_answers.clear()
        self.violations.clear()
        self.stats.clear()
        self.stats.update(faults_injected=0, webhook_deliveries=0)
        self.events.clear()
        self.events_signal.notify()

    @staticmethod
    def now() -> float:
        return time.monotonic()
