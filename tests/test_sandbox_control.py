"""The sandbox's control API, limits, raw Bot API edges, markup parsing and the web page."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from bot.sandbox import Sandbox, SandboxConfig
from bot.sandbox.core import ApiError
from bot.sandbox.markup import parse_html

CITIZEN = 1001


@pytest.fixture
async def sandbox(request: pytest.FixtureRequest) -> AsyncIterator[Sandbox]:
    sandbox = Sandbox(SandboxConfig(**getattr(request, "param", {})))
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


async def burst(http: aiohttp.ClientSession, chat_id: int, count: int) -> list[int]:
    results = await asyncio.gather(
        *(call(http, "sendMessage", chat_id=chat_id, text=f"m{i}") for i in range(count))
    )
    return [status for status, _ in results]


async def test_web_page_has_both_panes(http: aiohttp.ClientSession) -> None:
    async with http.get("/") as response:
        assert response.status == 200
        assert response.content_type == "text/html"
        page = await response.text()
    assert 'id="citizen"' in page
    assert 'id="staff"' in page
    assert "Citizen" in page
    assert "Staff" in page
    for asset in ("/static/chat.js", "/static/chat.css"):
        async with http.get(asset) as response:
            assert response.status == 200


async def test_wrong_token_and_unknown_method(http: aiohttp.ClientSession) -> None:
    async with http.get("/bot1:WRONG/getMe") as response:
        assert response.status == 401
        assert await response.json() == {
            "ok": False,
            "error_code": 401,
            "description": "Unauthorized",
        }
    status, body = await call(http, "sendTelepathy")
    assert (status, body["description"]) == (404, "Not Found")
    status, body = await call(http, "sendMessage", text="hi")
    assert (status, body["description"]) == (400, "Bad Request: chat_id is empty")


async def test_form_and_query_parameters(http: aiohttp.ClientSession, sandbox: Sandbox) -> None:
    form = {
        "chat_id": str(CITIZEN),
        "text": "hi",
        "reply_markup": '{"keyboard": [[{"text": "Share", "request_contact": true}]], '
        '"resize_keyboard": true}',
    }
    async with http.post("/bot123456:SANDBOX/sendMessage", data=form) as response:
        assert response.status == 200
    async with http.get(
        "/bot123456:SANDBOX/sendMessage", params={"chat_id": CITIZEN, "text": "q"}
    ) as response:
        assert response.status == 200
    first, second = sandbox.messages(CITIZEN)
    assert first["reply_markup"]["keyboard"][0][0]["request_contact"] is True
    assert second["text"] == "q"


async def test_control_send_press_and_read(http: aiohttp.ClientSession, sandbox: Sandbox) -> None:
    async with http.post(
        "/control/send", json={"user_id": 7, "text": "/track ABC", "language_code": "ru"}
    ) as response:
        update = (await response.json())["update"]
    message = update["message"]
    assert message["chat"] == {"id": 7, "type": "private", "first_name": "User 7"}
    assert message["from"]["language_code"] == "ru"
    assert message["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]

    async with http.post(
        "/control/send",
        json={"user_id": 7, "text": "/track XYZ", "edit_of": message["message_id"]},
    ) as response:
        edited = (await response.json())["update"]["edited_message"]
    assert edited["message_id"] == message["message_id"]
    assert edited["from"]["language_code"] == "ru"  # remembered

    _, sent = await call(
        http,
        "sendMessage",
        chat_id=7,
        text="Rate",
        reply_markup={"inline_keyboard": [[{"text": "5", "callback_data": "r:5"}]]},
    )
    press = {"user_id": 7, "chat_id": 7, "message_id": sent["result"]["message_id"], "data": "r:5"}
    async with http.post("/control/press", json=press) as response:
        query = (await response.json())["update"]["callback_query"]
    assert query["message"]["text"] == "Rate"
    async with http.post("/control/press", json={**press, "message_id": 999}) as response:
        assert response.status == 400
    async with http.post(
        "/control/press", json={**press, "message_id": 999, "force": True}
    ) as response:
        assert response.status == 200

    async with http.get("/control/chats/7/messages", params={"since": 0}) as response:
        listing = await response.json()
    assert [m["text"] for m in listing["messages"]] == ["Rate"]
    assert listing["next"] == 1
    async with http.post("/control/update", json={"channel_post": {"x": 1}}) as response:
        assert "update_id" in (await response.json())["update"]
    _, updates = await call(http, "getUpdates")
    kinds = [next(k for k in u if k != "update_id") for u in updates["result"]]
    assert kinds == [
        "message",
        "edited_message",
        "callback_query",
        "callback_query",
        "channel_post",
    ]


async def test_photo_upload_through_control(http: aiohttp.ClientSession, sandbox: Sandbox) -> None:
    form = aiohttp.FormData()
    form.add_field("user_id", "5")
    form.add_field("caption", "Broken lamp")
    form.add_field("photo", b"JPEGDATA", filename="lamp.jpg", content_type="image/jpeg")
    upload = {"X-Sandbox-Upload": "photo"}  # as the web chat sends it
    async with http.post("/control/send", data=form, headers=upload) as response:
        message = (await response.json())["update"]["message"]
    assert message["caption"] == "Broken lamp"
    file_id = message["photo"][-1]["file_id"]
    _, got = await call(http, "getFile", file_id=file_id)
    async with http.get(f"/file/bot123456:SANDBOX/{got['result']['file_path']}") as response:
        assert await response.read() == b"JPEGDATA"


async def test_events_feed_and_wait(http: aiohttp.ClientSession, sandbox: Sandbox) -> None:
    async def later() -> None:
        await asyncio.sleep(0.1)
        await call(http, "sendMessage", chat_id=CITIZEN, text="hello")

    task = asyncio.create_task(later())
    async with http.get(
        f"/control/chats/{CITIZEN}/wait", params={"count": 1, "timeout": 2}
    ) as response:
        assert [m["text"] for m in (await response.json())["messages"]] == ["hello"]
    await task
    async with http.get("/control/events", params={"since": 0, "timeout": 1}) as response:
        feed = await response.json()
    assert [(e["kind"], e["chat_id"]) for e in feed["events"]] == [("message", CITIZEN)]
    async with http.get("/control/chats/5/wait", params={"count": 1, "timeout": 0.1}) as response:
        assert response.status == 408


async def test_faults_and_config_round_trip(http: aiohttp.ClientSession, sandbox: Sandbox) -> None:
    faults = {"blocked_users": [3], "migrated_chats": {"-4": -1004}, "kinds": ["500"]}
    async with http.post("/control/faults", json=faults) as response:
        assert (await response.json())["faults"]["blocked_users"] == [3]
    assert sandbox.faults.migrated_chats == {-4: -1004}
    status, body = await call(http, "sendMessage", chat_id=3, text="x")
    assert (status, body["description"]) == (403, "Forbidden: bot was blocked by the user")
    async with http.post("/control/config", json={"enforce_limits": True}) as response:
        assert (await response.json())["config"]["enforce_limits"] is True
    async with http.get("/control/stats") as response:
        assert (await response.json())["stats"]["sendMessage"] == 1


async def test_burst_to_one_chat_is_a_violation(
    http: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    assert await burst(http, CITIZEN, 5) == [200] * 5
    assert {v["scope"] for v in sandbox.violations} == {"chat"}
    assert len(sandbox.violations) == 2
    async with http.get("/control/violations") as response:
        assert len((await response.json())["violations"]) == 2


@pytest.mark.parametrize("sandbox", [{"time_scale": 20.0}], indirect=True)
async def test_paced_sender_records_no_violation(
    http: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    for i in range(6):  # one per (1 s / 20): exactly the scaled private-chat pace
        await call(http, "sendMessage", chat_id=CITIZEN, text=f"m{i}")
        await asyncio.sleep(0.05)
    assert sandbox.violations == []


@pytest.mark.parametrize(
    "sandbox", [{"enforce_limits": True, "group_per_minute": 2}], indirect=True
)
async def test_enforced_limits_answer_429(http: aiohttp.ClientSession, sandbox: Sandbox) -> None:
    statuses = await burst(http, -42, 3)
    assert sorted(statuses) == [200, 200, 429]
    assert [v["scope"] for v in sandbox.violations] == ["group"]
    assert len(sandbox.messages(-42)) == 2


@pytest.mark.parametrize("sandbox", [{"limits_enabled": False}], indirect=True)
async def test_limits_can_be_switched_off(http: aiohttp.ClientSession, sandbox: Sandbox) -> None:
    await burst(http, CITIZEN, 10)
    assert sandbox.violations == []


def test_html_entities_use_utf16_offsets() -> None:
    text, entities = parse_html('😀 <b>bold <i>both</i></b> <a href="https://x.org">link</a>')
    assert text == "😀 bold both link"
    assert entities == [
        {"type": "bold", "offset": 3, "length": 9},
        {"type": "italic", "offset": 8, "length": 4},
        {"type": "text_link", "offset": 13, "length": 4, "url": "https://x.org"},
    ]
    for broken in ("<b>x</i>", "<script>x</script>", "a & b", "<b>open"):
        with pytest.raises(ApiError):
            parse_html(broken)
