"""Small building blocks: Telegram-shaped errors, wake-up signals, parameters, rate windows."""

from __future__ import annotations

import asyncio
import json
from collections import deque
from typing import Any

from aiohttp import web

from bot.sandbox.config import SandboxConfig

JsonDict = dict[str, Any]

# Parameters that python-telegram-bot sends as JSON-encoded strings inside form fields.
JSON_PARAMS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "allowed_updates",
        "link_preview_options",
        "reply_parameters",
        "media",
        "commands",
        "scope",
    }
)


class ApiError(Exception):
    """A Bot API failure, answered with Telegram's error body and the same HTTP status."""

    def __init__(self, code: int, description: str, parameters: JsonDict | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def body(self) -> JsonDict:
        body: JsonDict = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body

    def response(self) -> web.Response:
        return web.json_response(self.body(), status=self.code)


def bad_request(detail: str) -> ApiError:
    return ApiError(400, f"Bad Request: {detail}")


class Signal:
    """Wakes every coroutine waiting on it; cheap when nobody waits."""

    __slots__ = ("_waiters",)

    def __init__(self) -> None:
        self._waiters: list[asyncio.Future[None]] = []

    def notify(self) -> None:
        if not self._waiters:
            return
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def wait(self, seconds: float | None) -> bool:
        """Wait for the next notify; False when ``seconds`` passed first (None: no limit)."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await asyncio.wait_for(waiter, seconds)
        except TimeoutError:
            return False
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)
        return True


class Params:
    """The parameters of one Bot API call, with Telegram's lenient typing."""

    __slots__ = ("data",)

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def __contains__(self, key: str) -> bool:
        return key in self.data

    def raw(self, key: str) -> Any:
        return self.data.get(key)

    def text(self, key: str) -> str | None:
        value = self.data.get(key)
        if value is None:
            return None
        return value if isinstance(value, str) else str(value)

    def integer(self, key: str) -> int | None:
        value = self.data.get(key)
        if value is None or value == "":
            return None
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {key} specified") from None

    def number(self, key: str) -> float | None:
        value = self.data.get(key)
        if value is None or value == "":
            return None
        try:
            return float(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {key} specified") from None

    def flag(self, key: str) -> bool:
        value = self.data.get(key)
        if isinstance(value, str):
            return value.lower() in ("true", "1")
        return bool(value)

    def chat_id(self) -> int:
        value = self.data.get("chat_id")
        if value is None or value == "":
            raise bad_request("chat_id is empty")
        try:
            chat_id = int(value)
        except (TypeError, ValueError):
            raise bad_request("chat not found") from None
        if chat_id == 0:
            raise bad_request("chat not found")
        return chat_id

    def message_id(self, key: str = "message_id") -> int:
        value = self.integer(key)
        if value is None:
            raise bad_request("message identifier is not specified")
        return value


async def read_params(request: web.Request) -> Params:
    """Merge query string and body (JSON, urlencoded or multipart) into one parameter set."""
    data: dict[str, Any] = dict(request.query)
    if request.body_exists:
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except json.JSONDecodeError:
                raise bad_request("can't parse JSON") from None
            if isinstance(body, dict):
                data.update(body)
        else:
            data.update(await request.post())
    for key in JSON_PARAMS.intersection(data):
        value = data[key]
        if isinstance(value, str) and value[:1] in ("{", "["):
            try:
                data[key] = json.loads(value)
            except json.JSONDecodeError:
                raise bad_request(f"can't parse {key} JSON object") from None
    return Params(data)


def _crowded(times: deque[float], at: float, window: float, limit: int) -> bool:
    while times and at - times[0] >= window:
        times.popleft()
    return len(times) >= limit


class RateWindows:
    """Sliding windows of arrival times: overall, and per chat."""

    def __init__(self) -> None:
        self.overall: deque[float] = deque()
        self.per_chat: dict[int, deque[float]] = {}

    def violated(self, config: SandboxConfig, chat_id: int, at: float) -> list[str]:
        """The scopes a call arriving now would break (nothing is recorded yet)."""
        scale = config.time_scale * (1.0 + config.limit_slack)
        scopes = []
        if _crowded(self.overall, at, 1.0 / scale, config.overall_per_second):
            scopes.append("overall")
        times = self.per_chat.setdefault(chat_id, deque())
        if chat_id < 0:
            if _crowded(times, at, 60.0 / scale, config.group_per_minute):
                scopes.append("group")
        else:
            window = config.chat_burst / config.chat_per_second / scale
            if _crowded(times, at, window, config.chat_burst):
                scopes.append("chat")
        return scopes

    def record(self, chat_id: int, at: float) -> None:
        self.overall.append(at)
        self.per_chat.setdefault(chat_id, deque()).append(at)

    def clear(self) -> None:
        self.overall.clear()
        self.per_chat.clear()
