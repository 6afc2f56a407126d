"""Acting as people: the updates a user's message, edit or button press produces."""

from __future__ import annotations

import base64
import time
from typing import Any

from bot.sandbox.core import JsonDict
from bot.sandbox.markup import utf16_len
from bot.sandbox.state import World


class ActionRefused(ValueError):
    """The requested user action cannot happen (for example, pressing an unknown message)."""


def bot_message_json(world: World, record: JsonDict, *, nested: bool = True) -> JsonDict:
    """The Telegram Message object for a message the bot sent."""
    message: JsonDict = {
        "message_id": record["message_id"],
        "from": world.bot_user(),
        "chat": world.chat(record["chat_id"]),
        "date": record["date"],
    }
    if record["text"] is not None:
        message["text"] = record["text"]
        if record.get("entities"):
            message["entities"] = record["entities"]
    if record["caption"]:
        message["caption"] = record["caption"]
        if record.get("entities"):
            message["caption_entities"] = record["entities"]
    if record["photo"]:
        message["photo"] = world.photo_sizes(record["photo"])
    for kind in ("voice", "video", "audio"):
        if record.get(kind):
            stored = world.files.get(record[kind])
            message[kind] = {
                "file_id": record[kind],
                "file_unique_id": stored.unique_id if stored else f"sbx{kind}",
                "duration": 0,
            }
    if record["document"]:
        stored = world.files.get(record["document"])
        document: JsonDict = {
            "file_id": record["document"],
            "file_unique_id": stored.unique_id if stored else "sbxdoc",
        }
        if stored is not None:
            document.update(
                file_name=stored.file_name or "file",
                mime_type=stored.mime_type,
                file_size=stored.size(),
            )
        message["document"] = document
    for key in ("location", "media_group_id"):
        if record.get(key):
            message[key] = record[key]
    if record.get("message_thread_id"):
        message["message_thread_id"] = record["message_thread_id"]
        message["is_topic_message"] = True
    markup = record["reply_markup"]
    if isinstance(markup, dict) and "inline_keyboard" in markup:
        message["reply_markup"] = markup
    if record["edits"]:
        message["edit_date"] = record.get("edit_date", record["date"])
    reply_to = record["reply_to_message_id"]
    if nested and reply_to is not None:
        original = find_message(world, record["chat_id"], reply_to)
        if original is not None:
            message["reply_to_message"] = original
    return message


def find_message(world: World, chat_id: int, message_id: int) -> JsonDict | None:
    """Any message of the chat, as a Message object without nested replies."""
    record = world.bot_index.get((chat_id, message_id))
    if record is not None:
        return bot_message_json(world, record, nested=False)
    message = world.user_messages.get((chat_id, message_id))
    if message is None:
        return None
    return {k: v for k, v in message.items() if k != "reply_to_message"}


def _file_object(world: World, kind: str, spec: Any, upload: bytes | None) -> JsonDict:
    spec = spec if isinstance(spec, dict) else {}
    file_id = spec.get("file_id")
    stored = world.files.get(file_id) if file_id else None
    if stored is None:
        mime = spec.get("mime_type") or {
            "photo": "image/jpeg",
            "voice": "audio/ogg",
            "video": "video/mp4",
            "audio": "audio/mpeg",
            "sticker": "image/webp",
        }.get(kind, "application/octet-stream")
        # The control API is JSON: a file's own bytes may come base64-encoded.
        data = base64.b64decode(spec["data_base64"]) if spec.get("data_base64") else upload
        stored = world.store_file(kind, data, mime, spec.get("file_name"), file_id)
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.unique_id,
        "file_size": int(spec.get("file_size") or stored.size()),
    }


def _duration(spec: Any, default: int) -> int:
    return int(spec.get("duration") or default) if isinstance(spec, dict) else default


def _content(world: World, body: JsonDict, upload: bytes | None) -> JsonDict:
    """The content fields of a user's message, from the control API's description of it."""
    content: JsonDict = {}
    text = body.get("text")
    if text:
        content["text"] = text
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            content["entities"] = [
                {"type": "bot_command", "offset": 0, "length": utf16_len(command)}
            ]
    if body.get("photo") is not None or upload is not None:
        photo = _file_object(world, "photo", body.get("photo"), upload)
        content["photo"] = [{**photo, "width": 1280, "height": 960}]
    if body.get("caption"):
        content["caption"] = body["caption"]
    if body.get("media_group_id"):
        content["media_group_id"] = str(body["media_group_id"])
    if isinstance(body.get("location"), dict):
        location = body["location"]
        content["location"] = {
            "latitude": float(location["latitude"]),
            "longitude": float(location["longitude"]),
        }
        if location.get("live_period"):
            content["location"]["live_period"] = int(location["live_period"])
    if isinstance(body.get("contact"), dict):
        contact = body["contact"]
        content["contact"] = {
            "phone_number": str(contact["phone_number"]),
            "first_name": str(contact.get("first_name") or "Contact"),
        }
        if contact.get("user_id") is not None:
            content["contact"]["user_id"] = int(contact["user_id"])
    if body.get("sticker"):
        sticker = _file_object(world, "sticker", body["sticker"], None)
        content["sticker"] = {
            **sticker,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "🙂",
        }
    if body.get("voice"):
        voice = _file_object(world, "voice", body["voice"], None)
        seconds = _duration(body["voice"], 2)
        content["voice"] = {**voice, "duration": seconds, "mime_type": "audio/ogg"}
    if body.get("video"):
        video = _file_object(world, "video", body["video"], None)
        seconds = _duration(body["video"], 3)
        content["video"] = {**video, "width": 640, "height": 480, "duration": seconds}
        content["video"]["mime_type"] = "video/mp4"
    if isinstance(body.get("audio"), dict):
        spec = body["audio"]
        audio = _file_object(world, "audio", spec, None)
        audio.update(duration=_duration(spec, 60), mime_type=spec.get("mime_type") or "audio/mpeg")
        if spec.get("file_name"):
            audio["file_name"] = spec["file_name"]
        content["audio"] = audio
    if isinstance(body.get("document"), dict):
        spec = body["document"]
        document = _file_object(world, "document", spec, None)
        document.update(
            file_name=spec.get("file_name") or "document",
            mime_type=spec.get("mime_type") or "application/octet-stream",
        )
        content["document"] = document
    if isinstance(body.get("forward_from"), dict):
        sender = {"is_bot": False, "first_name": "Someone", **body["forward_from"]}
        content["forward_origin"] = {
            "type": "user",
            "sender_user": sender,
            "date": int(time.time()) - 60,
        }
    return content


def user_message(world: World, body: JsonDict, upload: bytes | None = None) -> JsonDict:
    """Queue the update for a user's message (or, with ``edit_of``, its edit) and return it."""
    if body.get("user_id") is None:
        raise ActionRefused("user_id is required")
    user_id = int(body["user_id"])
    sender = world.user(
        user_id, body.get("first_name"), body.get("language_code"), body.get("username")
    )
    chat_id = int(body.get("chat_id") or user_id)
    chat = world.chat(chat_id)
    content = _content(world, body, upload)
    if not content:
        raise ActionRefused("the message has no content")
    edit_of = body.get("edit_of")
    now = int(time.time())
    if edit_of is not None:
        original = world.user_messages.get((chat_id, int(edit_of)))
        if original is None:
            raise ActionRefused(f"no message {edit_of} from a user in chat {chat_id}")
        message = {
            "message_id": int(edit_of),
            "from": dict(sender),
            "chat": chat,
            "date": original["date"],
            "edit_date": now,
            **content,
        }
        world.record_user_message(message, edited=True)
        return world.push_update({"edited_message": message})
    message = {
        "message_id": world.new_message_id(),
        "from": dict(sender),
        "chat": chat,
        "date": now,
        **content,
    }
    thread = body.get("message_thread_id")
    if thread is not None and chat.get("is_forum"):  # written in a topic, not in General
        message.update(message_thread_id=int(thread), is_topic_message=True)
    if body.get("reply_to_message_id") is not None:
        replied = find_message(world, chat_id, int(body["reply_to_message_id"]))
        if replied is not None:
            message["reply_to_message"] = replied
    world.record_user_message(message)
    return world.push_update({"message": message})


def press_button(
    world: World, user_id: int, chat_id: int, message_id: int, data: str, *, force: bool = False
) -> JsonDict:
    """Queue the callback query of a press on an inline button of a bot message."""
    record = world.bot_index.get((chat_id, message_id))
    if record is None and not force:
        raise ActionRefused(f"the bot sent no message {message_id} to chat {chat_id}")
    if record is not None:
        message = bot_message_json(world, record)
    else:
        message = {
            "message_id": message_id,
            "from": world.bot_user(),
            "chat": world.chat(chat_id),
            "date": int(time.time()),
        }
    callback_id = world.new_callback_id()
    world.callbacks[callback_id] = {
        "chat_id": chat_id,
        "message_id": message_id,
        "user_id": user_id,
    }
    query = {
        "id": callback_id,
        "from": dict(world.user(user_id)),
        "chat_instance": str(chat_id),
        "message": message,
        "data": data,
    }
    return world.push_update({"callback_query": query})
