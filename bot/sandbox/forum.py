"""Forum topics as Telegram keeps them: a supergroup with is_forum, its topics, and the checks
a message sent into a topic must pass.

A topic's message_thread_id is the message_id of the service message that opened it, as in
Telegram. The bot is taken to be an administrator without the right to post in closed topics:
a message into a closed topic is refused with TOPIC_CLOSED, into a deleted or unknown one (or
with a message_thread_id in a chat that is no forum) with "message thread not found".
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from bot.sandbox.core import JsonDict, Params, bad_request
from bot.sandbox.state import World

TOPIC_CLOSED = "TOPIC_CLOSED"
THREAD_NOT_FOUND = "message thread not found"
NOT_A_FORUM = "the chat is not a forum"
# The six colours Telegram allows for a topic's icon.
ICON_COLORS = (0x6FB9F0, 0xFFD67E, 0xCB86DB, 0x8EEE98, 0xFF93B2, 0xFB6F5F)


def make_forum(world: World, chat_id: int, is_forum: bool = True) -> JsonDict:
    """Turn topics on (or off) for a supergroup, as its owner would in the group's settings."""
    chat = world.chat(chat_id)
    if chat["type"] != "supergroup":
        raise bad_request(NOT_A_FORUM)
    if is_forum:
        chat["is_forum"] = True
    else:
        chat.pop("is_forum", None)
    return chat


def thread_of(world: World, chat_id: int, p: Params) -> int | None:
    """The topic a message is sent into (None: the chat itself, or a forum's General topic)."""
    thread = p.integer("message_thread_id")
    if thread is None:
        return None
    topic = world.topics.get(chat_id, {}).get(thread)
    if not world.chat(chat_id).get("is_forum") or topic is None or topic["deleted"]:
        raise bad_request(THREAD_NOT_FOUND)
    if topic["closed"]:
        raise bad_request(TOPIC_CLOSED)
    return thread


def topic_json(topic: JsonDict) -> JsonDict:
    """The ForumTopic object."""
    return {k: topic[k] for k in ("message_thread_id", "name", "icon_color")}


class Forum:
    """The Bot API's forum topic methods."""

    def __init__(self, world: World) -> None:
        self.world = world

    def methods(self) -> dict[str, Callable[[Params, float], Any]]:
        return {
            "createForumTopic": self.create,
            "editForumTopic": self.edit,
            "closeForumTopic": self.close,
            "reopenForumTopic": self.reopen,
            "deleteForumTopic": self.delete,
        }

    def _forum(self, p: Params) -> int:
        chat_id = p.chat_id()
        if chat_id > 0 or not self.world.knows_chat(chat_id):
            raise bad_request("chat not found")
        if not self.world.chat(chat_id).get("is_forum"):
            raise bad_request(NOT_A_FORUM)
        return chat_id

    def _topic(self, p: Params) -> JsonDict:
        chat_id = self._forum(p)
        thread = p.integer("message_thread_id")
        topic = self.world.topics.get(chat_id, {}).get(thread or 0)
        if topic is None or topic["deleted"]:
            raise bad_request(THREAD_NOT_FOUND)
        return topic

    def create(self, p: Params, at: float) -> JsonDict:
        chat_id = self._forum(p)
        name = p.text("name") or ""
        if not 1 <= len(name) <= 128:
            raise bad_request("TOPIC_TITLE_EMPTY" if not name else "TOPIC_TITLE_TOO_LONG")
        color = p.integer("icon_color")
        if color is not None and color not in ICON_COLORS:
            raise bad_request("TOPIC_ICON_COLOR_INVALID")
        return topic_json(self.open_topic(chat_id, name, color or ICON_COLORS[0], at))

    def open_topic(self, chat_id: int, name: str, color: int, at: float) -> JsonDict:
        """A new topic and its service message (whose id is the topic's thread id)."""
        thread = self.world.new_message_id()
        topic: JsonDict = {
            "message_thread_id": thread,
            "name": name,
            "icon_color": color,
            "closed": False,
            "deleted": False,
        }
        self.world.topics.setdefault(chat_id, {})[thread] = topic
        self.world.add_event(
            "forum_topic_created",
            chat_id,
            {
                "message_id": thread,
                "message_thread_id": thread,
                "name": name,
                "date": int(time.time()),
                "at": at,
            },
        )
        return topic

    def edit(self, p: Params, at: float) -> bool:
        topic = self._topic(p)
        name = p.text("name")
        if name is not None:
            if not 1 <= len(name) <= 128:
                raise bad_request("TOPIC_TITLE_EMPTY" if not name else "TOPIC_TITLE_TOO_LONG")
            if name == topic["name"]:
                raise bad_request("TOPIC_NOT_MODIFIED")
            topic["name"] = name
        return True

    def close(self, p: Params, at: float) -> bool:
        topic = self._topic(p)
        if topic["closed"]:
            raise bad_request("TOPIC_NOT_MODIFIED")
        topic["closed"] = True
        return True

    def reopen(self, p: Params, at: float) -> bool:
        topic = self._topic(p)
        if not topic["closed"]:
            raise bad_request("TOPIC_NOT_MODIFIED")
        topic["closed"] = False
        return True

    def delete(self, p: Params, at: float) -> bool:
        topic = self._topic(p)
        topic["deleted"] = True
        topic["deleted_at"] = int(time.time())
        chat_id = p.chat_id()
        for record in self.world.chat_messages.get(chat_id, ()):  # its messages go with it
            if record.get("message_thread_id") == topic["message_thread_id"]:
                record["deleted"] = True
        return True
