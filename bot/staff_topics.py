"""The staff forum's topics: one per active department, opened by the bot with createForumTopic
(named in the desk's default language) and remembered in the database, so a restart opens none
again; a topic found deleted is opened anew, a closed one is left closed (its cards go to the
General topic, and the supervisors are told once: storage.forum_topics).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from telegram import Bot
from telegram.error import RetryAfter, TelegramError

from bot.context import SERVICES_KEY, Services
from bot.delivery import retry_after_seconds
from bot.waiting import wait_any
from storage.forum_topics import departments_without_topic, remember_topic, topic_lost
from storage.staff_destinations import department_chats

log = logging.getLogger(__name__)

# Telegram's topic icon colours, handed out in turn so that neighbouring topics differ.
ICON_COLORS = (0x6FB9F0, 0xFFD67E, 0xCB86DB, 0x8EEE98, 0xFF93B2, 0xFB6F5F)
MAX_NAME = 128
RETRIES = 5  # answers of "retry after" waited out for one topic before the round ends
# bot_data's key for the chats departments have of their own, each with its department's code
# (read by the staff filters, and by handlers.staff_kit to keep other departments' cases out).
DEPARTMENT_CHATS = "department_chats"


async def refresh_department_chats(bot_data: dict[Any, Any]) -> None:
    """Read the departments' own chats again (a catalogue loaded meanwhile may name others)."""
    bot_data[DEPARTMENT_CHATS] = await department_chats()


def chat_department(bot_data: dict[Any, Any], chat_id: int) -> str | None:
    """The department whose own chat `chat_id` is; None for any other chat."""
    chats = bot_data.get(DEPARTMENT_CHATS)
    return chats.get(chat_id) if isinstance(chats, dict) else None


def is_staff_chat(bot_data: dict[Any, Any], chat_id: int) -> bool:
    """The staff group, or a department's own chat: where staff commands and cards work."""
    services = bot_data.get(SERVICES_KEY)
    staff_chat = services.settings.staff_chat_id if isinstance(services, Services) else None
    return chat_id == staff_chat or chat_id in bot_data.get(DEPARTMENT_CHATS, ())


class TopicKeeper:
    """Opens the departments' topics (when MINSHENG_STAFF_TOPICS is on) and handles lost ones."""

    def __init__(self, services: Services, bot: Bot) -> None:
        self._services = services
        self._bot = bot
        self._lock = asyncio.Lock()
        self._stop: asyncio.Event | None = None  # the sender's, from its first ensure()
        self._reopening: set[asyncio.Task[int]] = set()

    @property
    def forum(self) -> int | None:
        """The staff forum's chat id, or None when the desk does not use topics."""
        settings = self._services.settings
        return settings.staff_chat_id if settings.staff_topics else None

    async def ensure(self, stop: asyncio.Event | None = None) -> int:
        """Open a topic for every active department with no place for its cards; how many.
        Telegram's "retry after" is waited out (until `stop`); another refusal (not a forum,
        no right to manage topics) ends the round, logged: the next start tries again."""
        forum = self.forum
        if forum is None:
            return 0
        language = self._services.settings.default_language
        if stop is not None:
            self._stop = stop
        stop = stop or self._stop or asyncio.Event()
        opened = 0
        async with self._lock:  # never two topics for one department
            for index, wanted in enumerate(await departments_without_topic()):
                params = {
                    "chat_id": forum,
                    "name": (wanted.names.get(language) or wanted.code)[:MAX_NAME],
                    "icon_color": ICON_COLORS[index % len(ICON_COLORS)],
                }
                thread = await self._open(params, stop)
                if thread is None:
                    break
                opened += await remember_topic(wanted.code, thread)
        if opened:
            log.info("opened %d department topics in the staff forum", opened)
        return opened

    async def _open(self, params: dict[str, Any], stop: asyncio.Event) -> int | None:
        for _ in range(RETRIES):
            if stop.is_set():
                return None
            try:
                topic = await self._bot.do_api_request("createForumTopic", api_kwargs=params)
            except RetryAfter as exc:
                await wait_any(stop, seconds=retry_after_seconds(exc))
                continue
            except TelegramError as exc:  # not a forum, or no right to manage topics
                log.error("could not open the topic %r: %s", params["name"], exc)  # noqa: TRY400
                return None
            return int(topic["message_thread_id"]) if isinstance(topic, dict) else None
        return None

    async def lost(self, chat_id: int, thread_id: int, deleted: bool) -> None:
        """A card could not go to a topic (it went to General): tell the supervisors; open a
        deleted one anew in the background, so that the group's sending never waits for
        createForumTopic (Telegram may pace it), until the sender stops."""
        if chat_id != self.forum:
            return
        try:
            code = await topic_lost(
                chat_id, thread_id, deleted=deleted, now=self._services.clock.now()
            )
        except Exception:  # the card itself went to General: never fail its send for this
            log.exception("could not record the lost topic %s", thread_id)
            return
        if deleted and code is not None and not (self._stop and self._stop.is_set()):
            task = asyncio.create_task(self._reopen())
            self._reopening.add(task)
            task.add_done_callback(self._reopening.discard)

    async def _reopen(self) -> int:
        try:
            return await self.ensure()
        except Exception:
            log.exception("could not open the deleted topics anew")
            return 0
