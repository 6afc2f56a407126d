"""The control API: act as users, read what the bot sent, and steer faults and limits.

Whoever can post to it acts as every user of the sandbox, the demo's admin included, so it
takes requests only from its own web page or from a program: a POST must be JSON (a type no
other site's page can send without asking first, and the sandbox never says yes), or the web
chat's photo upload, which carries its own header for the same reason; and a browser's Origin,
when sent, must be the sandbox's own, under a loopback name or the host it serves on.
"""

from __future__ import annotations

import json
import time
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from bot.sandbox.actors import ActionRefused, press_button, user_message
from bot.sandbox.botapi import BotApi
from bot.sandbox.config import FaultConfig
from bot.sandbox.core import ApiError, JsonDict
from bot.sandbox.forum import make_forum
from bot.sandbox.state import World

# Fields of /control/send that carry JSON when posted as multipart form fields.
_JSON_FIELDS = (
    "photo",
    "location",
    "contact",
    "document",
    "forward_from",
    "sticker",
    "voice",
    "video",
    "audio",
)


LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
UPLOAD_HEADER = "X-Sandbox-Upload"  # the web chat's photo upload (multipart) sets it to "photo"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _refuse(reason: str, status: int = 400) -> web.Response:
    return web.json_response({"error": reason}, status=status)


async def _json_body(request: web.Request) -> JsonDict:
    if not request.body_exists:
        return {}
    try:
        body = await request.json()
    except json.JSONDecodeError:
        raise web.HTTPBadRequest(text="the body is not JSON") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="the body must be a JSON object")
    return body


def _number(request: web.Request, name: str, default: float) -> float:
    try:
        return float(request.query.get(name, default))
    except ValueError:
        raise web.HTTPBadRequest(text=f"{name} must be a number") from None


class Control:
    """Views of ``/control/...``, over the same state the Bot API serves."""

    def __init__(self, world: World, api: BotApi) -> None:
        self.world = world
        self.api = api
        # Host names the web page may be opened under (Sandbox.start adds the one it serves on).
        self.hosts: set[str] = set(LOOPBACK_NAMES)

    @web.middleware
    async def guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Refuse a change asked by another site's page: see the module's docstring."""
        if request.path.startswith("/control/") and (request.url.host or "") not in self.hosts:
            # A page under a name made to point here (DNS rebinding) may not read chats either.
            return _refuse("the control API answers under its own host name only", 403)
        if request.path.startswith("/control/") and request.method not in _SAFE_METHODS:
            origin = request.headers.get("Origin")
            if origin is not None and not self._own(request, origin):
                return _refuse("the control API takes requests from its own page only", 403)
            upload = (
                request.path == "/control/send"
                and request.content_type == "multipart/form-data"
                and request.headers.get(UPLOAD_HEADER) == "photo"
            )
            if request.content_type != "application/json" and not upload:
                return _refuse("the control API takes application/json", 415)
        return await handler(request)

    def _own(self, request: web.Request, origin: str) -> bool:
        # Host as well as Origin: a page whose own name was made to point at this machine
        # (DNS rebinding) sends matching ones, under a name that is neither loopback nor ours.
        own = f"{request.scheme}://{request.host}"
        return origin == own and (request.url.host or "") in self.hosts

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/control/send", self.send),
            web.post("/control/press", self.press),
            web.post("/control/update", self.update),
            web.get("/control/chats/{chat_id}/messages", self.chat_messages),
            web.get("/control/chats/{chat_id}/wait", self.chat_wait),
            web.post("/control/chats/{chat_id}/forum", self.forum),
            web.get("/control/chats/{chat_id}/topics", self.topics),
            web.post("/control/chats/{chat_id}/topics/{thread}", self.change_topic),
            web.get("/control/callback_answers", self.callback_answers),
            web.get("/control/commands", self.commands),
            web.get("/control/stats", self.stats),
            web.get("/control/violations", self.violations),
            web.get("/control/faults", self.get_faults),
            web.post("/control/faults", self.set_faults),
            web.get("/control/config", self.get_config),
            web.post("/control/config", self.set_config),
            web.post("/control/reset", self.reset),
            web.get("/control/events", self.events),
            web.get("/control/info", self.info),
            web.get("/control/files/{file_id}", self.file),
        ]

    async def send(self, request: web.Request) -> web.Response:
        upload: bytes | None = None
        if request.content_type.startswith("multipart/"):
            body: JsonDict = {}
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    if key == "photo":
                        upload = value.file.read()
                elif key in _JSON_FIELDS and value[:1] in ("{", "["):
                    body[key] = json.loads(value)
                else:
                    body[key] = value
        else:
            body = await _json_body(request)
        try:
            return web.json_response({"update": user_message(self.world, body, upload)})
        except (ActionRefused, KeyError, TypeError, ValueError) as error:
            return _refuse(str(error))

    async def press(self, request: web.Request) -> web.Response:
        body = await _json_body(request)
        try:
            update = press_button(
                self.world,
                int(body["user_id"]),
                int(body["chat_id"]),
                int(body["message_id"]),
                str(body["data"]),
                force=bool(body.get("force")),
            )
        except (ActionRefused, KeyError, TypeError, ValueError) as error:
            return _refuse(str(error))
        return web.json_response({"update": update})

    async def update(self, request: web.Request) -> web.Response:
        body = await _json_body(request)
        if not body:
            return _refuse("an update needs at least one field")
        return web.json_response({"update": self.world.push_update(body)})

    def _chat_id(self, request: web.Request) -> int:
        try:
            return int(request.match_info["chat_id"])
        except ValueError:
            raise web.HTTPBadRequest(text="chat_id must be an integer") from None

    async def chat_messages(self, request: web.Request) -> web.Response:
        messages = self.world.chat_messages.get(self._chat_id(request), [])
        since = int(_number(request, "since", 0))
        return web.json_response({"messages": messages[since:], "next": len(messages)})

    async def chat_wait(self, request: web.Request) -> web.Response:
        chat_id = self._chat_id(request)
        count = int(_number(request, "count", 1))
        try:
            messages = await self.world.wait_for_messages(
                chat_id, count, min(_number(request, "timeout", 10), 300)
            )
        except TimeoutError as error:
            return _refuse(str(error), status=408)
        return web.json_response({"messages": messages, "next": len(messages)})

    async def forum(self, request: web.Request) -> web.Response:
        """Topics on or off for a supergroup (``{"is_forum": true}``), as its owner sets it."""
        body = await _json_body(request)
        try:
            chat = make_forum(self.world, self._chat_id(request), bool(body.get("is_forum", True)))
        except ApiError as error:
            return _refuse(error.description)
        return web.json_response({"chat": chat})

    async def topics(self, request: web.Request) -> web.Response:
        """Every topic the chat has had, closed and deleted ones included, by thread id."""
        topics = self.world.topics.get(self._chat_id(request), {})
        return web.json_response({"topics": list(topics.values())})

    async def change_topic(self, request: web.Request) -> web.Response:
        """An administrator closes, reopens or deletes a topic: ``{"closed": true}``,
        ``{"closed": false}`` or ``{"deleted": true}``."""
        body = await _json_body(request)
        try:
            thread = int(request.match_info["thread"])
        except ValueError:
            return _refuse("the topic's thread id must be an integer")
        topic = self.world.topics.get(self._chat_id(request), {}).get(thread)
        if topic is None:
            return _refuse("no such topic", status=404)
        if "closed" in body:
            topic["closed"] = bool(body["closed"])
        if body.get("deleted"):
            topic["deleted"] = True
        return web.json_response({"topic": topic})

    async def callback_answers(self, request: web.Request) -> web.Response:
        return web.json_response({"answers": self.world.callback_answers})

    async def commands(self, request: web.Request) -> web.Response:
        return web.json_response({"commands": self.world.commands})

    async def stats(self, request: web.Request) -> web.Response:
        return web.json_response(
            {"stats": self.world.stats, "pending_updates": len(self.world.pending)}
        )

    async def violations(self, request: web.Request) -> web.Response:
        return web.json_response({"violations": self.world.violations})

    async def get_faults(self, request: web.Request) -> web.Response:
        return web.json_response({"faults": self.api.faults.to_json()})

    async def set_faults(self, request: web.Request) -> web.Response:
        # Fields left out keep their current value; empty lists clear the sets.
        merged = {**self.api.faults.to_json(), **await _json_body(request)}
        try:
            self.api.faults = FaultConfig.from_json(merged)
        except (TypeError, ValueError, AttributeError) as error:
            return _refuse(str(error))
        return web.json_response({"faults": self.api.faults.to_json()})

    async def get_config(self, request: web.Request) -> web.Response:
        return web.json_response({"config": self.api.config.public()})

    async def set_config(self, request: web.Request) -> web.Response:
        try:
            self.api.config.update(await _json_body(request))
        except (TypeError, ValueError) as error:
            return _refuse(str(error))
        return web.json_response({"config": self.api.config.public()})

    async def reset(self, request: web.Request) -> web.Response:
        self.world.reset()
        self.api.windows.clear()
        return web.json_response({"ok": True})

    async def events(self, request: web.Request) -> web.Response:
        since = int(_number(request, "since", 0))
        if since > self.world.last_seq:
            since = 0  # the sandbox was reset or restarted: start the feed over
        deadline = time.monotonic() + min(_number(request, "timeout", 0), 60)
        while not (events := self.world.events_since(since)):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.api.closing:
                break
            await self.world.events_signal.wait(remaining)
        return web.json_response(
            {"events": [self._view(e) for e in events], "next": self.world.last_seq}
        )

    def _view(self, event: JsonDict) -> JsonDict:
        message: Any = event["message"]
        topic = self.world.topics.get(event["chat_id"], {}).get(message.get("message_thread_id"))
        if topic is not None:  # the web chat shows which topic a message is in
            event = {**event, "topic": topic["name"]}
        photo = message.get("photo")
        if isinstance(photo, str) and photo in self.world.files:
            return {**event, "photo_url": f"/control/files/{photo}"}
        if isinstance(photo, list) and photo and photo[-1]["file_id"] in self.world.files:
            return {**event, "photo_url": f"/control/files/{photo[-1]['file_id']}"}
        return event

    async def info(self, request: web.Request) -> web.Response:
        config = self.api.config
        return web.json_response(
            {
                "staff_group_id": config.staff_group_id,
                "time_zone": config.time_zone,
                "bot": self.world.bot_user(),
                "last_seq": self.world.last_seq,
            }
        )

    async def file(self, request: web.Request) -> web.Response:
        stored = self.world.files.get(request.match_info["file_id"])
        if stored is None:
            return _refuse("no such file", status=404)
        return web.Response(body=stored.content(), content_type=stored.mime_type)
