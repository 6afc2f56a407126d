"""The sandbox's forum topics, as Telegram has them: a supergroup with is_forum, topics opened,
closed, reopened, renamed and deleted through the Bot API, messages sent into a topic (and the
errors for a closed, deleted or unknown one), and the control API's view of them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from bot.sandbox import Sandbox, SandboxConfig

STAFF = SandboxConfig().staff_group_id
OTHER = -1002000000002
CLERK = 5001


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    sandbox = Sandbox(SandboxConfig(limits_enabled=True))
    await sandbox.start()
    yield sandbox
    await sandbox.stop()


@pytest.fixture
async def http(sandbox: Sandbox) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(sandbox.base_url) as session:
        yield session


async def call(http: aiohttp.ClientSession, method: str, **params: Any) -> tuple[int, Any]:
    async with http.post(f"/bot123456:SANDBOX/{method}", json=params) as response:
        return response.status, await response.json()


async def control(http: aiohttp.ClientSession, path: str, **body: Any) -> Any:
    async with http.post(f"/control/{path}", json=body) as response:
        assert response.status == 200, await response.text()
        return await response.json()


async def test_topics_and_the_messages_sent_into_them(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    # Not a forum yet: no topics, and a thread id is refused.
    status, body = await call(http, "createForumTopic", chat_id=STAFF, name="Heating")
    assert (status, body["description"]) == (400, "Bad Request: the chat is not a forum")
    status, body = await call(http, "sendMessage", chat_id=STAFF, text="x", message_thread_id=7)
    assert (status, body["description"]) == (400, "Bad Request: message thread not found")

    chat = (await control(http, f"chats/{STAFF}/forum", is_forum=True))["chat"]
    assert chat["is_forum"] is True
    status, body = await call(http, "getChat", chat_id=STAFF)
    assert body["result"]["is_forum"] is True

    status, body = await call(
        http, "createForumTopic", chat_id=STAFF, name="Heating", icon_color=0xFFD67E
    )
    assert status == 200
    topic = body["result"]
    assert set(topic) == {"message_thread_id", "name", "icon_color"}
    assert (topic["name"], topic["icon_color"]) == ("Heating", 0xFFD67E)
    thread = topic["message_thread_id"]
    status, body = await call(http, "createForumTopic", chat_id=STAFF, name="Gas", icon_color=1)
    assert (status, body["description"]) == (400, "Bad Request: TOPIC_ICON_COLOR_INVALID")

    # A message into the topic carries it; one without a thread goes to General.
    status, body = await call(
        http, "sendMessage", chat_id=STAFF, text="card", message_thread_id=thread
    )
    assert status == 200
    assert body["result"]["message_thread_id"] == thread
    assert body["result"]["is_topic_message"] is True
    status, body = await call(http, "sendMessage", chat_id=STAFF, text="general")
    assert "message_thread_id" not in body["result"]
    records = sandbox.messages(STAFF)
    assert [(m["text"], m["message_thread_id"]) for m in records] == [
        ("card", thread),
        ("general", None),
    ]
    # A button pressed on the card in the topic: the query's message says where it is.
    press = sandbox.press_button(CLERK, STAFF, records[0]["message_id"], "x")
    assert press["callback_query"]["message"]["message_thread_id"] == thread
    # A person writing in the topic.
    said = sandbox.send_text(CLERK, "/queue", chat_id=STAFF, message_thread_id=thread)
    assert said["message"]["message_thread_id"] == thread
    assert said["message"]["is_topic_message"] is True

    # Renamed, closed (refused with TOPIC_CLOSED, not counted against the limits), reopened.
    assert (
        await call(
            http, "editForumTopic", chat_id=STAFF, message_thread_id=thread, name="Heating desk"
        )
    )[0] == 200
    assert (await call(http, "closeForumTopic", chat_id=STAFF, message_thread_id=thread))[0] == 200
    sends_before = sandbox.stats.get("sendMessage", 0)
    windows = len(sandbox.api.windows.per_chat.get(STAFF, ()))
    status, body = await call(
        http, "sendMessage", chat_id=STAFF, text="late", message_thread_id=thread
    )
    assert (status, body["description"]) == (400, "Bad Request: TOPIC_CLOSED")
    assert sandbox.stats["sendMessage"] == sends_before + 1
    assert len(sandbox.api.windows.per_chat.get(STAFF, ())) == windows
    status, body = await call(http, "closeForumTopic", chat_id=STAFF, message_thread_id=thread)
    assert (status, body["description"]) == (400, "Bad Request: TOPIC_NOT_MODIFIED")
    assert (await call(http, "reopenForumTopic", chat_id=STAFF, message_thread_id=thread))[
        0
    ] == 200
    status, _ = await call(
        http, "sendPhoto", chat_id=STAFF, photo="SBX-photo-x", message_thread_id=thread
    )
    assert status == 200

    # Deleted: its messages go with it, and the thread is not found any more.
    assert (await call(http, "deleteForumTopic", chat_id=STAFF, message_thread_id=thread))[
        0
    ] == 200
    assert all(m["deleted"] for m in sandbox.messages(STAFF) if m["message_thread_id"] == thread)
    status, body = await call(
        http, "sendMessage", chat_id=STAFF, text="gone", message_thread_id=thread
    )
    assert (status, body["description"]) == (400, "Bad Request: message thread not found")
    status, body = await call(http, "closeForumTopic", chat_id=STAFF, message_thread_id=thread)
    assert (status, body["description"]) == (400, "Bad Request: message thread not found")

    # The control API lists every topic the chat had, and acts as an administrator.
    async with http.get(f"/control/chats/{STAFF}/topics") as response:
        [listed] = (await response.json())["topics"]
    assert (listed["name"], listed["deleted"]) == ("Heating desk", True)
    status, body = await call(http, "createForumTopic", chat_id=STAFF, name="Water")
    water = body["result"]["message_thread_id"]
    assert (await control(http, f"chats/{STAFF}/topics/{water}", closed=True))["topic"]["closed"]
    status, body = await call(
        http, "sendMessage", chat_id=STAFF, text="x", message_thread_id=water
    )
    assert body["description"] == "Bad Request: TOPIC_CLOSED"
    await control(http, f"chats/{STAFF}/topics/{water}", deleted=True)
    status, body = await call(
        http, "sendMessage", chat_id=STAFF, text="x", message_thread_id=water
    )
    assert body["description"] == "Bad Request: message thread not found"


async def test_a_thread_of_another_chat_is_not_found(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    await control(http, f"chats/{STAFF}/forum", is_forum=True)
    await control(http, f"chats/{OTHER}/forum", is_forum=True)
    _, body = await call(http, "createForumTopic", chat_id=STAFF, name="Heating")
    thread = body["result"]["message_thread_id"]
    status, body = await call(
        http, "sendMessage", chat_id=OTHER, text="x", message_thread_id=thread
    )
    assert (status, body["description"]) == (400, "Bad Request: message thread not found")
    # A private chat is no forum.
    async with http.post(f"/control/chats/{CLERK}/forum", json={"is_forum": True}) as response:
        assert response.status == 400
