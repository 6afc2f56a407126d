"""Bot API calls of the outbox made straight over HTTP, without python-telegram-bot's request
layer, and Telegram's answers turned into its errors, as that layer would.

An outbox row is already what Telegram takes: a method and its JSON parameters. Through
`Bot.do_api_request` each call was checked for a better method (and warned about), its
parameters turned into request objects and back into JSON, and its answer read in five layers:
about 5 % of the loop thread's samples during an intake (py-spy), above the HTTP call itself.
The poller's getUpdates goes the same way.
Calls that upload a file (a report's CSV, a chart) or carry python-telegram-bot's objects still
go through it.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import orjson
from telegram import Bot
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)

from bot.transport import AiohttpRequest
from storage.sql import from_json

# Values the standard module cannot write go through python-telegram-bot, which knows them (a
# datetime becomes a Unix time there, where orjson would write ISO text).
_AS_THE_STANDARD_MODULE = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


async def api_call(
    bot: Bot, method: str, params: dict[str, Any], *, read_timeout: float | None = None
) -> Any:
    """Call `method` with `params` (None values left out, as python-telegram-bot does); its
    result, or the error python-telegram-bot would raise. `read_timeout`: how long the answer
    may take, if longer than the bot's request timeout (a long poll). Parameters that are not
    JSON as they are (a file to upload, python-telegram-bot's objects) go through it."""
    request = bot.request
    if isinstance(request, AiohttpRequest):
        data = {key: value for key, value in params.items() if value is not None}
        try:
            body = orjson.dumps(data, option=_AS_THE_STANDARD_MODULE)
        except TypeError:  # a file to upload, python-telegram-bot's objects, a datetime
            pass
        else:
            url = f"{bot.base_url}/{method}"
            status, answered = await request.post_json(url, body, read_timeout)
            return answer(method, status, answered)
    return await bot.do_api_request(method, api_kwargs=params, read_timeout=read_timeout)


def answer(method: str, status: int, body: bytes) -> Any:
    """The result of a call from Telegram's answer; its error as python-telegram-bot raises it
    (telegram.request.BaseRequest._request_wrapper and Bot.do_api_request)."""
    try:
        data = from_json(body)
    except ValueError:  # not JSON, or not UTF-8
        data = None
    if not isinstance(data, dict):
        data = None
    if HTTPStatus.OK <= status < HTTPStatus.MULTIPLE_CHOICES:
        if data is None:
            raise TelegramError("Invalid server response")
        return data.get("result")
    message = _phrase(status)
    if data is None:
        message += ". Parsing the server response failed"
    else:
        message = data.get("description") or message
        if parameters := data.get("parameters"):
            if migrate_to := parameters.get("migrate_to_chat_id"):
                raise ChatMigrated(migrate_to)
            if retry_after := parameters.get("retry_after"):
                raise RetryAfter(retry_after)
            message += f". The server response contained unknown parameters: {parameters}"
    raise _error(method, status, message)


def _error(method: str, status: int, message: str) -> TelegramError:
    if status == HTTPStatus.FORBIDDEN:
        return Forbidden(message)
    if status == HTTPStatus.NOT_FOUND:
        return EndPointNotFound(f"Endpoint '{method}' not found in Bot API")
    if status == HTTPStatus.UNAUTHORIZED:
        return InvalidToken(message)
    if status == HTTPStatus.BAD_REQUEST:
        return BadRequest(message)
    if status == HTTPStatus.CONFLICT:
        return Conflict(message)
    return NetworkError(message)


def _phrase(status: int) -> str:
    try:
        return f"{HTTPStatus(status).phrase} ({status})"
    except ValueError:
        return f"Unknown HTTPError ({status})"
