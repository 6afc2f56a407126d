"""Telegram's answers read by bot.bot_api give what python-telegram-bot's own request layer
gives for them: the same result, or an error of the same class with the same message (the
outbox's classification, bot.delivery, depends on both)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from telegram.error import EndPointNotFound, InvalidToken, RetryAfter
from telegram.request import BaseRequest, RequestData

from bot.bot_api import answer


class _Answering(BaseRequest):
    """python-telegram-bot's request layer, answered with a given status and body."""

    def __init__(self, status: int, body: bytes) -> None:
        self._answer = status, body

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    @property
    def read_timeout(self) -> float:
        return 1.0

    async def do_request(
        self, url: str, method: str, request_data: RequestData | None = None, **_: Any
    ) -> tuple[int, bytes]:
        return self._answer


def _body(value: Any) -> bytes:
    return json.dumps(value).encode()


ANSWERS = [
    (200, _body({"ok": True, "result": {"message_id": 7}})),
    (200, _body({"ok": True, "result": True})),
    (200, b"not json"),
    (400, _body({"ok": False, "error_code": 400, "description": "Bad Request: chat not found"})),
    (403, _body({"ok": False, "description": "Forbidden: bot was blocked by the user"})),
    (429, _body({"ok": False, "description": "Too Many", "parameters": {"retry_after": 3}})),
    (400, _body({"ok": False, "description": "gone", "parameters": {"migrate_to_chat_id": -9}})),
    (400, _body({"ok": False, "description": "odd", "parameters": {"something": 1}})),
    (401, _body({"ok": False, "description": "Unauthorized"})),
    (404, _body({"ok": False, "description": "Not Found"})),
    (409, _body({"ok": False, "description": "Conflict: terminated by other getUpdates"})),
    (502, b"<html>Bad Gateway</html>"),
    (500, _body({"ok": False})),
    (418, b""),
]


async def _theirs(status: int, body: bytes) -> Any:
    try:
        return await _Answering(status, body).post("https://api.example/bot1:x/sendMessage")
    except InvalidToken as exc:
        if status == 404:  # Bot.do_api_request names the missing endpoint
            raise EndPointNotFound("Endpoint 'sendMessage' not found in Bot API") from exc
        raise


@pytest.mark.parametrize(("status", "body"), ANSWERS)
async def test_an_answer_reads_as_python_telegram_bot_reads_it(status: int, body: bytes) -> None:
    try:
        want: Any = await _theirs(status, body)
    except Exception as exc:
        want = exc
    try:
        got: Any = answer("sendMessage", status, body)
    except Exception as exc:
        got = exc
    if isinstance(want, Exception):
        assert type(got) is type(want)
        assert str(got).split(". Parsing")[0] == str(want).split(". Parsing")[0]
        if isinstance(want, RetryAfter):
            assert got.retry_after == want.retry_after
    else:
        assert got == want
