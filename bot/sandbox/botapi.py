"""The Bot API over HTTP: dispatch, faults, sending limits, updates, webhook and the rest."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from bot.sandbox.config import FAULTABLE_METHODS, LIMITED_METHODS, FaultConfig, SandboxConfig
from bot.sandbox.core import (
    ApiError,
    JsonDict,
    Params,
    RateWindows,
    Signal,
    bad_request,
    read_params,
)
from bot.sandbox.forum import Forum
from bot.sandbox.messaging import Messenger
from bot.sandbox.state import World
from bot.sandbox.webhook import WebhookDelivery

Method = Callable[[Params, float], Any]
AsyncMethod = Callable[[Params], Awaitable[Any]]
CONFLICT_POLLING = (
    "Conflict: terminated by other getUpdates request; make sure that only one "
    "bot instance is running"
)
CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; use "
    "deleteWebhook to delete the webhook first"
)
CALLBACK_EXPIRED = "query is too old and response timeout expired or query ID is invalid"
_CHAT_CHECKED = FAULTABLE_METHODS | {"sendChatAction"}
# Telegram's BotCommandScope types and the fields each one needs.
COMMAND_SCOPES: dict[str, tuple[str, ...]] = {
    "default": (),
    "all_private_chats": (),
    "all_group_chats": (),
    "all_chat_administrators": (),
    "chat": ("chat_id",),
    "chat_administrators": ("chat_id",),
    "chat_member": ("chat_id", "user_id"),
}
_SERVER_ERRORS = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class BotApi:
    """Answers ``/bot<token>/<method>`` the way Telegram does."""

    def __init__(self, world: World, config: SandboxConfig) -> None:
        self.world = world
        self.config = config
        self.windows = RateWindows()
        self.webhook: WebhookDelivery | None = None
        self.closing = False
        self.closed = Signal()
        self.rng = random.Random()
        self._faults = FaultConfig()
        self._poll_generation = 0
        self._async_methods: dict[str, tuple[str, AsyncMethod]] = {
            "getupdates": ("getUpdates", self.get_updates),
            "setwebhook": ("setWebhook", self.set_webhook),
            "deletewebhook": ("deleteWebhook", self.delete_webhook),
        }
        messenger = Messenger(world, self.admit)
        self._methods: dict[str, tuple[str, Method]] = {}
        for name, method in {
            **messenger.methods(),
            **Forum(world).methods(),
            "getMe": self.get_me,
            "getChat": self.get_chat,
            "getFile": self.get_file,
            "sendChatAction": self.send_chat_action,
            "answerCallbackQuery": self.answer_callback_query,
            "setMyCommands": self.set_my_commands,
            "getMyCommands": self.get_my_commands,
            "deleteMyCommands": self.delete_my_commands,
            "getWebhookInfo": self.get_webhook_info,
        }.items():
            self._methods[name.lower()] = (name, method)

    @property
    def faults(self) -> FaultConfig:
        return self._faults

    @faults.setter
    def faults(self, faults: FaultConfig) -> None:
        self._faults = faults
        self.rng.seed(faults.seed)

    async def pause(self, seconds: float) -> None:
        """Sleep, but wake at once when the sandbox stops."""
        if seconds > 0 and not self.closing:
            await self.closed.wait(seconds)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        at = time.monotonic()
        if request.match_info["token"] != self.config.token:
            return ApiError(401, "Unauthorized").response()
        key = request.match_info["method"].lower()
        try:
            params = await read_params(request)
            response = await self._call(key, params, at)
        except ApiError as error:
            response = error.response()
        if self.config.rtt_ms > 0:
            await self.pause(self.config.rtt_ms / 1000.0)
        return response

    async def _call(self, key: str, params: Params, at: float) -> web.Response:
        if key in self._async_methods:
            name, coroutine = self._async_methods[key]
            self.world.count(name)
            # Only when named in FaultConfig.methods: long polls are never faulted by default.
            if self._inject_fault(name, params):
                await self.pause(self._faults.timeout_seconds)
            return _ok(await coroutine(params))
        entry = self._methods.get(key)
        if entry is None:
            return ApiError(404, "Not Found").response()
        name, method = entry
        self.world.count(name)
        delayed = self._inject_fault(name, params)
        result = method(params, at)
        if delayed:
            await self.pause(self._faults.timeout_seconds)
        return _ok(result)

    def _inject_fault(self, name: str, params: Params) -> bool:
        """Raise the configured fault for this call; True when its answer is to be delayed."""
        faults = self._faults
        if "chat_id" in params and (name in _CHAT_CHECKED or faults.applies_to(name)):
            chat_id = params.chat_id()
            if chat_id in faults.blocked_users:
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            if chat_id in faults.deactivated_users:
                raise ApiError(403, "Forbidden: user is deactivated")
            if chat_id in faults.migrated_chats:
                raise ApiError(
                    400,
                    "Bad Request: group chat was upgraded to a supergroup chat",
                    {"migrate_to_chat_id": faults.migrated_chats[chat_id]},
                )
        if faults.rate <= 0 or not faults.kinds or not faults.applies_to(name):
            return False
        if self.rng.random() >= faults.rate:
            return False
        kind = self.rng.choice(faults.kinds)
        self.world.count("faults_injected")
        if kind == "timeout":
            return True
        if kind == "429":
            raise ApiError(
                429,
                f"Too Many Requests: retry after {faults.retry_after}",
                {"retry_after": faults.retry_after},
            )
        code = int(kind) if kind.isdigit() else 500
        raise ApiError(code, _SERVER_ERRORS.get(code, "Internal Server Error"))

    def admit(self, method: str, chat_id: int, at: float) -> None:
        """Check a sending call against the limits; record any violation."""
        config = self.config
        if not config.limits_enabled or method not in LIMITED_METHODS:
            return
        scopes = self.windows.violated(config, chat_id, at)
        for scope in scopes:
            self.world.violations.append(
                {"scope": scope, "chat_id": chat_id, "method": method, "at": at}
            )
        if scopes and config.enforce_limits:
            raise ApiError(429, "Too Many Requests: retry after 1", {"retry_after": 1})
        self.windows.record(chat_id, at)

    # -- updates and webhook ----------------------------------------------------------------

    async def get_updates(self, p: Params) -> list[JsonDict]:
        if self._faults.getupdates_conflict:
            raise ApiError(409, CONFLICT_POLLING)
        if self.webhook is not None:
            raise ApiError(409, CONFLICT_WEBHOOK)
        offset = p.integer("offset") or 0
        limit = min(max(p.integer("limit") or 100, 1), 100)
        timeout = max(p.number("timeout") or 0.0, 0.0)
        allowed = p.raw("allowed_updates")
        if isinstance(allowed, list):
            self.world.allowed_updates = [str(kind) for kind in allowed]
        self.world.confirm(offset)
        self._poll_generation += 1
        generation = self._poll_generation
        self.world.updates_signal.notify()  # an earlier poll still waiting now loses
        deadline = time.monotonic() + timeout
        while True:
            batch = self.world.batch(limit)
            if batch:
                return batch
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.closing:
                return []
            await self.world.updates_signal.wait(remaining)
            if generation != self._poll_generation:
                raise ApiError(409, CONFLICT_POLLING)

    async def set_webhook(self, p: Params) -> bool:
        url = p.text("url") or ""
        if p.flag("drop_pending_updates"):
            self.world.pending.clear()
        allowed = p.raw("allowed_updates")
        if isinstance(allowed, list):
            self.world.allowed_updates = [str(kind) for kind in allowed]
        if not url:
            return await self.delete_webhook(Params({}))
        if not url.startswith(("http://", "https://")):
            raise bad_request("bad webhook: HTTPS url must be provided for webhook")
        await self._stop_webhook()
        self.webhook = WebhookDelivery(self.world, url, p.text("secret_token"))
        if p.integer("max_connections"):
            self.webhook.max_connections = p.integer("max_connections") or 40
        self.webhook.start()
        self.world.updates_signal.notify()
        return True

    async def delete_webhook(self, p: Params) -> bool:
        if p.flag("drop_pending_updates"):
            self.world.pending.clear()
        await self._stop_webhook()
        return True

    async def _stop_webhook(self) -> None:
        if self.webhook is not None:
            webhook, self.webhook = self.webhook, None
            await webhook.stop()

    def get_webhook_info(self, p: Params, at: float) -> JsonDict:
        if self.webhook is not None:
            return self.webhook.info()
        return {
            "url": "",
            "has_custom_certificate": False,
            "pending_update_count": len(self.world.pending),
        }

    async def close(self) -> None:
        self.closing = True
        self.closed.notify()
        self.world.updates_signal.notify()
        self.world.events_signal.notify()
        await self._stop_webhook()

    # -- everything else --------------------------------------------------------------------

    def get_me(self, p: Params, at: float) -> JsonDict:
        return {
            **self.world.bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def get_chat(self, p: Params, at: float) -> JsonDict:
        chat_id = p.chat_id()
        if not self.world.knows_chat(chat_id):
            raise bad_request("chat not found")
        chat = dict(self.world.chat(chat_id))
        chat.update(accent_color_id=0, max_reaction_count=11)
        return chat

    def get_file(self, p: Params, at: float) -> JsonDict:
        file_id = p.text("file_id")
        stored = self.world.files.get(file_id or "")
        if stored is None:
            raise bad_request("invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.unique_id,
            "file_size": stored.size(),
            "file_path": stored.path,
        }

    def send_chat_action(self, p: Params, at: float) -> bool:
        p.chat_id()
        if not p.text("action"):
            raise bad_request("wrong parameter action in request")
        return True

    def answer_callback_query(self, p: Params, at: float) -> bool:
        query_id = p.text("callback_query_id") or ""
        issued = self.world.callbacks.get(query_id)
        if issued is None or query_id in self.world.callback_answers:
            raise bad_request(CALLBACK_EXPIRED)
        text = p.text("text")
        if text is not None and len(text) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        answer = {
            "callback_query_id": query_id,
            "text": text,
            "show_alert": p.flag("show_alert"),
            "url": p.text("url"),
            "at": at,
            **issued,
        }
        self.world.callback_answers[query_id] = answer
        self.world.add_event("callback_answer", issued["chat_id"], answer)
        return True

    def _commands_key(self, p: Params) -> str:
        """Menus are kept per scope and language: "" (default), "zh", "chat:-100|ru", ..."""
        scope = p.raw("scope")
        language = p.text("language_code") or ""
        if scope is None:
            return language
        if not isinstance(scope, dict) or scope.get("type") not in COMMAND_SCOPES:
            raise bad_request("can't parse BotCommandScope JSON object")
        needs = COMMAND_SCOPES[scope["type"]]
        if any(not isinstance(scope.get(field), int | str) for field in needs):
            raise bad_request("chat not found")
        if scope["type"] == "default":
            return language
        extra = "".join(f":{scope[field]}" for field in needs)
        return f"{scope['type']}{extra}|{language}"

    def set_my_commands(self, p: Params, at: float) -> bool:
        commands = p.raw("commands")
        if not isinstance(commands, list):
            raise bad_request("can't parse commands JSON object")
        for command in commands:
            if (
                not isinstance(command, dict)
                or not command.get("command")
                or not command.get("description")
            ):
                raise bad_request("BOT_COMMAND_INVALID")
        self.world.commands[self._commands_key(p)] = commands
        return True

    def get_my_commands(self, p: Params, at: float) -> list[JsonDict]:
        return self.world.commands.get(self._commands_key(p), [])

    def delete_my_commands(self, p: Params, at: float) -> bool:
        self.world.commands.pop(self._commands_key(p), None)
        return True

    async def download(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.config.token:
            return ApiError(401, "Unauthorized").response()
        stored = self.world.file_by_path(request.match_info["path"])
        if stored is None:
            return ApiError(404, "Not Found").response()
        return web.Response(body=stored.content(), content_type=stored.mime_type)


def _ok(result: Any) -> web.Response:
    return web.Response(
        text=json.dumps({"ok": True, "result": result}, ensure_ascii=False),
        content_type="application/json",
    )
