"""Bot API methods that send, edit, copy and delete messages."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from bot.sandbox.actors import bot_message_json
from bot.sandbox.core import JsonDict, Params, bad_request
from bot.sandbox.forum import thread_of
from bot.sandbox.markup import parse_text
from bot.sandbox.state import World

Admit = Callable[[str, int, float], None]
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)


def check_markup(markup: Any) -> JsonDict | None:
    """Validate reply_markup the way Telegram refuses malformed keyboards."""
    if markup is None or markup == "":
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request(
                'field "inline_keyboard" of the InlineKeyboardMarkup should be an Array of Arrays'
            )
        for button in (b for row in rows for b in row):
            if not isinstance(button, dict) or not button.get("text"):
                raise bad_request("can't parse inline keyboard button: Text is empty")
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= 64:
                raise bad_request("BUTTON_DATA_INVALID")
            if len(button) == 1:
                raise bad_request(
                    "can't parse inline keyboard button: Text buttons are "
                    "unallowed in the inline keyboard"
                )
    elif "keyboard" in markup:
        rows = markup["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request(
                'field "keyboard" of the ReplyKeyboardMarkup should be an Array of Arrays'
            )
    elif not ("remove_keyboard" in markup or "force_reply" in markup):
        raise bad_request('can\'t find field "inline_keyboard"')
    return markup


def _reply_to(p: Params) -> int | None:
    parameters = p.raw("reply_parameters")
    if isinstance(parameters, dict) and parameters.get("message_id") is not None:
        return int(parameters["message_id"])
    return p.integer("reply_to_message_id")


class Messenger:
    """Carries out message calls on the world; ``admit`` applies the sending limits."""

    def __init__(self, world: World, admit: Admit) -> None:
        self.world = world
        self.admit = admit

    def methods(self) -> dict[str, Callable[[Params, float], Any]]:
        return {
            "sendMessage": self.send_message,
            "sendPhoto": self.send_photo,
            "sendDocument": self.send_document,
            "sendVoice": self.send_voice,
            "sendVideo": self.send_video,
            "sendAudio": self.send_audio,
            "sendMediaGroup": self.send_media_group,
            "sendLocation": self.send_location,
            "copyMessage": self.copy_message,
            "forwardMessage": self.forward_message,
            "editMessageText": self.edit_message_text,
            "editMessageCaption": self.edit_message_caption,
            "editMessageReplyMarkup": self.edit_message_reply_markup,
            "deleteMessage": self.delete_message,
        }

    def _record(self, method: str, chat_id: int, at: float, **fields: Any) -> JsonDict:
        record: JsonDict = {
            "message_id": self.world.new_message_id(),
            "chat_id": chat_id,
            "method": method,
            "text": None,
            "caption": None,
            "parse_mode": None,
            "raw_text": None,
            "entities": [],
            "reply_markup": None,
            "photo": None,
            "document": None,
            "reply_to_message_id": None,
            "location": None,
            "media_group_id": None,
            "message_thread_id": None,
            "disable_notification": False,
            "at": at,
            "date": int(time.time()),
            "edits": [],
            "deleted": False,
        }
        record.update(fields)
        self.world.chat(chat_id)
        self.world.record_bot_message(record)
        return record

    def _common(self, p: Params, chat_id: int) -> JsonDict:
        return {
            "message_thread_id": thread_of(self.world, chat_id, p),
            "reply_markup": check_markup(p.raw("reply_markup")),
            "reply_to_message_id": _reply_to(p),
            "disable_notification": p.flag("disable_notification"),
        }

    def _caption(self, p: Params) -> JsonDict:
        raw = p.text("caption")
        if not raw:
            return {}
        mode = p.text("parse_mode")
        caption, entities = parse_text(raw, mode)
        if _utf16(caption) > 1024:
            raise bad_request("message caption is too long")
        return {"caption": caption, "raw_text": raw, "parse_mode": mode, "entities": entities}

    def _text(self, p: Params) -> JsonDict:
        raw = p.text("text")
        if not raw:
            raise bad_request("message text is empty")
        mode = p.text("parse_mode")
        text, entities = parse_text(raw, mode)
        if not mode and isinstance(p.raw("entities"), list):
            entities = p.raw("entities")
        if not text.strip():
            raise bad_request("message text is empty")
        if _utf16(text) > 4096:  # counted as Telegram's entity offsets are: UTF-16 units
            raise bad_request("message is too long")
        return {"text": text, "raw_text": raw, "parse_mode": mode, "entities": entities}

    def _file(self, value: Any, kind: str, p: Params) -> str:
        if isinstance(value, web.FileField):
            data = value.file.read()
            return self.world.store_file(kind, data, value.content_type, value.filename).file_id
        if isinstance(value, str) and value.startswith("attach://"):
            return self._file(p.raw(value[len("attach://") :]), kind, p)
        if not value or not isinstance(value, str):
            raise bad_request(f"there is no {kind} in the request")
        if value.startswith(("http://", "https://")):
            return self.world.store_file(kind, None, file_name=value.rsplit("/", 1)[-1]).file_id
        return value

    def send_message(self, p: Params, at: float) -> JsonDict:
        chat_id = p.chat_id()
        fields = {**self._text(p), **self._common(p, chat_id)}
        self.admit("sendMessage", chat_id, at)
        return bot_message_json(self.world, self._record("sendMessage", chat_id, at, **fields))

    def send_photo(self, p: Params, at: float) -> JsonDict:
        chat_id = p.chat_id()
        fields = {**self._caption(p), **self._common(p, chat_id)}
        fields["photo"] = self._file(p.raw("photo"), "photo", p)
        self.admit("sendPhoto", chat_id, at)
        return bot_message_json(self.world, self._record("sendPhoto", chat_id, at, **fields))

    def send_document(self, p: Params, at: float) -> JsonDict:
        chat_id = p.chat_id()
        fields = {**self._caption(p), **self._common(p, chat_id)}
        fields["document"] = self._file(p.raw("document"), "document", p)
        self.admit("sendDocument", chat_id, at)
        return bot_message_json(self.world, self._record("sendDocument", chat_id, at, **fields))

    def _send_file(self, method: str, kind: str, p: Params, at: float) -> JsonDict:
        chat_id = p.chat_id()
        fields = {**self._caption(p), **self._common(p, chat_id)}
        fields[kind] = self._file(p.raw(kind), kind, p)
        self.admit(method, chat_id, at)
        return bot_message_json(self.world, self._record(method, chat_id, at, **fields))

    def send_voice(self, p: Params, at: float) -> JsonDict:
        return self._send_file("sendVoice", "voice", p, at)

    def send_video(self, p: Params, at: float) -> JsonDict:
        return self._send_file("sendVideo", "video", p, at)

    def send_audio(self, p: Params, at: float) -> JsonDict:
        return self._send_file("sendAudio", "audio", p, at)

    def send_media_group(self, p: Params, at: float) -> list[JsonDict]:
        chat_id = p.chat_id()
        media = p.raw("media")
        if not isinstance(media, list) or not 1 <= len(media) <= 10:
            raise bad_request("wrong number of media in the album: must be 2-10 items")
        items = []
        for item in media:
            if not isinstance(item, dict) or item.get("type") not in ("photo", "document"):
                raise bad_request("unsupported media type in the album")
            caption = Params(
                {"caption": item.get("caption"), "parse_mode": item.get("parse_mode")}
            )
            fields = {
                **self._caption(caption),
                item["type"]: self._file(item.get("media"), item["type"], p),
            }
            items.append(fields)
        thread = thread_of(self.world, chat_id, p)
        self.admit("sendMediaGroup", chat_id, at)
        group_id = f"album{self.world.new_message_id()}"
        reply_to = _reply_to(p)
        return [
            bot_message_json(
                self.world,
                self._record(
                    "sendMediaGroup",
                    chat_id,
                    at,
                    media_group_id=group_id,
                    message_thread_id=thread,
                    reply_to_message_id=reply_to,
                    **fields,
                ),
            )
            for fields in items
        ]

    def send_location(self, p: Params, at: float) -> JsonDict:
        chat_id = p.chat_id()
        latitude, longitude = p.number("latitude"), p.number("longitude")
        if latitude is None or longitude is None:
            raise bad_request("wrong latitude or longitude specified")
        fields = self._common(p, chat_id)
        fields["location"] = {"latitude": latitude, "longitude": longitude}
        self.admit("sendLocation", chat_id, at)
        return bot_message_json(self.world, self._record("sendLocation", chat_id, at, **fields))

    def _source(self, p: Params) -> JsonDict:
        from_chat = p.integer("from_chat_id")
        message_id = p.message_id()
        if from_chat is None:
            raise bad_request("chat not found")
        record = self.world.bot_index.get((from_chat, message_id))
        if record is not None and not record["deleted"]:
            keys = ("text", "caption", "entities", "photo", "document", "location", "raw_text")
            return {k: record[k] for k in keys}
        message = self.world.user_messages.get((from_chat, message_id))
        if message is None:
            raise bad_request("message to copy not found")
        fields: JsonDict = {
            "text": message.get("text"),
            "caption": message.get("caption"),
            "entities": message.get("entities", []),
        }
        if message.get("photo"):
            fields["photo"] = message["photo"][-1]["file_id"]
        if message.get("document"):
            fields["document"] = message["document"]["file_id"]
        if message.get("location"):
            fields["location"] = message["location"]
        if (
            fields["text"] is None
            and fields["caption"] is None
            and not (fields.get("photo") or fields.get("document") or fields.get("location"))
        ):
            fields["text"] = "[message]"
        return fields

    def copy_message(self, p: Params, at: float) -> JsonDict:
        chat_id = p.chat_id()
        fields = {**self._source(p), **self._common(p, chat_id)}
        if "caption" in p:
            fields.update(self._caption(p))
        self.admit("copyMessage", chat_id, at)
        record = self._record("copyMessage", chat_id, at, **fields)
        return {"message_id": record["message_id"]}

    def forward_message(self, p: Params, at: float) -> JsonDict:
        chat_id = p.chat_id()
        fields = {**self._source(p), "message_thread_id": thread_of(self.world, chat_id, p)}
        self.admit("forwardMessage", chat_id, at)
        return bot_message_json(self.world, self._record("forwardMessage", chat_id, at, **fields))

    def _target(self, p: Params, action: str) -> JsonDict:
        if p.raw("inline_message_id"):
            raise bad_request(f"message to {action} not found")
        record = self.world.bot_index.get((p.chat_id(), p.message_id()))
        if record is None or record["deleted"]:
            raise bad_request(f"message to {action} not found")
        return record

    def _apply_edit(self, record: JsonDict, changes: JsonDict, at: float) -> JsonDict:
        if all(
            record.get(k) == v for k, v in changes.items() if k not in ("raw_text", "parse_mode")
        ):
            raise bad_request(NOT_MODIFIED)
        record["edits"].append(record["text"] if record["text"] is not None else record["caption"])
        record.update(changes)
        record["edit_date"] = int(time.time())
        record["edited_at"] = at
        self.world.add_event("edit", record["chat_id"], record)
        return bot_message_json(self.world, record)

    def edit_message_text(self, p: Params, at: float) -> JsonDict:
        record = self._target(p, "edit")
        changes = {**self._text(p), "reply_markup": check_markup(p.raw("reply_markup"))}
        if record["text"] is None:
            raise bad_request("there is no text in the message to edit")
        return self._apply_edit(record, changes, at)

    def edit_message_caption(self, p: Params, at: float) -> JsonDict:
        record = self._target(p, "edit")
        if record["photo"] is None and record["document"] is None:
            raise bad_request("there is no caption in the message to edit")
        changes = {
            "caption": None,
            "entities": [],
            **self._caption(p),
            "reply_markup": check_markup(p.raw("reply_markup")),
        }
        return self._apply_edit(record, changes, at)

    def edit_message_reply_markup(self, p: Params, at: float) -> JsonDict:
        record = self._target(p, "edit")
        return self._apply_edit(record, {"reply_markup": check_markup(p.raw("reply_markup"))}, at)

    def delete_message(self, p: Params, at: float) -> bool:
        chat_id, message_id = p.chat_id(), p.message_id()
        record = self.world.bot_index.get((chat_id, message_id))
        if record is not None and not record["deleted"]:
            record["deleted"] = True
            self.world.add_event("delete", chat_id, record)
            return True
        message = self.world.user_messages.pop((chat_id, message_id), None)
        if message is None:
            raise bad_request("message to delete not found")
        self.world.add_event("user_delete", chat_id, message)
        return True


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2
