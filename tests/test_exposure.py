"""What the bot lets out beyond its users: its logs, its operations endpoints, the demo's control.

- A traceback whose exception carries a token-bearing Bot API URL is logged redacted, through
  the real handler `setup_logging` installs (so is a stack dump).
- `minsheng webhook` serves /healthz and /metrics on MINSHENG_HEALTH_LISTEN only; the public
  listener answers 404 for both.
- The sandbox's control API (the demo's admin powers) takes JSON from its own page or a program,
  never a form or text/plain body nor a request from another site's page.
"""

from __future__ import annotations

import io
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.logs import setup_logging
from bot.sandbox import Sandbox, SandboxConfig
from tests.databases import Database
from tests.harness import TEST_TOKEN, BotProcess, bot_env, eventually, free_port

SECRET_PART = TEST_TOKEN.split(":", 1)[1]
URL = f"https://api.telegram.org/bot{TEST_TOKEN}/getFile"


class BotApiDown(Exception):
    pass


def logged(emit: Any) -> str:
    """What the handler of `setup_logging` writes while `emit(logger)` runs."""
    root = logging.getLogger()
    saved, level = root.handlers[:], root.level
    setup_logging("INFO")
    stream = io.StringIO()
    handler = root.handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    try:
        emit(logging.getLogger("minsheng.test"))
    finally:
        root.handlers[:] = saved
        root.setLevel(level)
    return stream.getvalue()


def test_a_traceback_with_the_token_is_logged_redacted() -> None:
    def emit(log: logging.Logger) -> None:
        try:
            try:
                raise ConnectionError(f"cannot connect to {URL}")
            except ConnectionError as cause:
                raise BotApiDown(f"GET {URL} failed") from cause
        except BotApiDown:
            log.exception("photo for case %s could not be fetched", "ABCD-EFGH-JKMN")
        log.error("no traceback, only a message with %s", URL)
        # A stack dump shows source lines, which may hold a token (a URL written in the code).
        record = log.makeRecord(log.name, logging.WARNING, __file__, 1, "stack dump", (), None)
        record.stack_info = f'Stack (most recent call last):\n  fetch("{URL}")'
        log.handle(record)

    output = logged(emit)
    assert "Traceback (most recent call last)" in output  # the traceback itself is there
    assert "BotApiDown: GET https://api.telegram.org/<token>/getFile failed" in output
    assert "ConnectionError: cannot connect to https://api.telegram.org/<token>/getFile" in output
    assert "Stack (most recent call last)" in output
    assert "ABCD-EFGH-JKMN" in output
    assert SECRET_PART not in output
    assert TEST_TOKEN not in output


async def test_webhook_mode_serves_health_and_metrics_on_the_health_listener_only(
    sandbox: Sandbox, db_path: Database, tmp_path: Path
) -> None:
    public, operations = free_port(), free_port()
    env = bot_env(
        sandbox,
        db_path,
        MINSHENG_WEBHOOK_URL=f"http://127.0.0.1:{public}/tg/hook",
        MINSHENG_WEBHOOK_LISTEN=f"127.0.0.1:{public}",
        MINSHENG_WEBHOOK_SECRET="exposure-secret",
        MINSHENG_HEALTH_LISTEN=f"127.0.0.1:{operations}",
    )
    bot = BotProcess(env, tmp_path / "bot.log", command="webhook")
    try:
        bot.start()
        await eventually(
            lambda: (
                sandbox.api.webhook is not None
                or bot.process is None
                or bot.process.poll() is not None
            ),
            30,
            what="setWebhook",
        )
        sandbox.send_text(6_601, "/start")
        await sandbox.wait_for_messages(6_601, 1, timeout=30)
        async with aiohttp.ClientSession() as http:
            for path in ("/healthz", "/metrics"):
                async with http.get(f"http://127.0.0.1:{operations}{path}") as answer:
                    assert answer.status == 200, (path, await answer.text())
                async with http.get(f"http://127.0.0.1:{public}{path}") as answer:
                    assert answer.status == 404, path
    finally:
        bot.terminate()
        try:
            await bot.wait(timeout=30)
        finally:
            bot.kill()
    assert "health and metrics on http://127.0.0.1:" in bot.log()


# -- the sandbox's control API ---------------------------------------------------------------


@pytest.fixture
async def box() -> AsyncIterator[Sandbox]:
    sandbox = Sandbox(SandboxConfig())
    await sandbox.start()
    try:
        yield sandbox
    finally:
        await sandbox.stop()


async def post(sandbox: Sandbox, path: str, data: Any, headers: dict[str, str]) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(sandbox.base_url + path, data=data, headers=headers) as answer,
    ):
        return answer.status, await answer.text()


MESSAGE = '{"user_id": 1001, "text": "/start"}'
JSON = {"Content-Type": "application/json"}


async def test_the_control_api_refuses_what_another_page_can_send(box: Sandbox) -> None:
    """A JSON body sent as text/plain or a form (what any page may send anywhere without
    asking), or a request from another site's page: refused, and nothing queued or changed."""
    port = box.base_url.rsplit(":", 1)[1]
    attempts = [
        ({"Content-Type": "text/plain"}, 415),
        ({"Content-Type": "text/plain", "Origin": "http://evil.example"}, 403),
        ({"Content-Type": "application/x-www-form-urlencoded"}, 415),
        ({}, 415),
        ({**JSON, "Origin": "http://evil.example"}, 403),
        ({**JSON, "Origin": "null"}, 403),  # a sandboxed frame, a data: URL
        ({**JSON, "Origin": f"http://evil.example:{port}"}, 403),
        # A name made to point at this machine (DNS rebinding): Host and Origin agree.
        ({**JSON, "Origin": f"http://evil.example:{port}", "Host": f"evil.example:{port}"}, 403),
    ]
    for headers, status in attempts:
        for path, body in (
            ("/control/send", MESSAGE),
            ("/control/reset", "{}"),
            ("/control/faults", '{"rate": 1.0}'),
        ):
            got, text = await post(box, path, body, headers)
            assert got == status, (path, headers, got, text)
    form = aiohttp.FormData({"user_id": "1001", "text": "/start"})
    got, _ = await post(box, "/control/send", form, {})
    assert got == 415  # a form without the web chat's upload header
    form = aiohttp.FormData({"user_id": "1001", "text": "/start"})
    got, _ = await post(
        box, "/control/send", form, {"X-Sandbox-Upload": "photo", "Origin": "http://evil.example"}
    )
    assert got == 403
    assert list(box.world.pending) == []
    assert box.faults.rate == 0


async def test_the_control_api_serves_its_own_page_and_programs(box: Sandbox) -> None:
    """From the page itself (its Origin, under 127.0.0.1 or localhost) and from a program (no
    Origin), JSON is taken; so is the web chat's photo upload."""
    port = box.base_url.rsplit(":", 1)[1]
    for headers in (
        JSON,
        {**JSON, "Origin": box.base_url},
        {**JSON, "Origin": f"http://localhost:{port}", "Host": f"localhost:{port}"},
    ):
        got, text = await post(box, "/control/send", MESSAGE, headers)
        assert got == 200, (headers, text)
    form = aiohttp.FormData({"user_id": "1001", "caption": "the lamp"})
    form.add_field("photo", b"\xff\xd8\xff", filename="lamp.jpg", content_type="image/jpeg")
    got, text = await post(
        box, "/control/send", form, {"X-Sandbox-Upload": "photo", "Origin": box.base_url}
    )
    assert got == 200, text
    assert len(box.world.pending) == 4
    got, _ = await post(box, "/control/faults", '{"rate": 0.5}', {**JSON, "Origin": box.base_url})
    assert got == 200
    assert box.faults.rate == 0.5


async def test_the_control_api_reads_nothing_under_a_foreign_host_name(box: Sandbox) -> None:
    """A page under a name made to point at this machine (DNS rebinding) reads no chat; the
    same read under the sandbox's own name works."""
    port = box.base_url.rsplit(":", 1)[1]
    path = "/control/chats/1001/messages"
    async with aiohttp.ClientSession() as http:
        async with http.get(box.base_url + path, headers={"Host": f"evil.example:{port}"}) as a:
            assert a.status == 403
        async with http.get(box.base_url + path) as answer:
            assert answer.status == 200
