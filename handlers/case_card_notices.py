"""The staff chat's notices about a case: the new-case card, its photos and files, an addition,
and an earlier message's buttons taken off once the case has moved on (storage.stale_buttons).

Storage sends the facts; the text is made at send time, in the staff chat's language.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from telegram import InputMediaPhoto

from bot.i18n import Translator
from bot.texts.attachments import attachment_label
from bot.texts.cases import erased, staff_card
from bot.texts.suggestion import suggestion_note
from handlers.duplicates import duplicate_line, duplicate_rows
from handlers.rendered import Rendered, notice_maps, notice_zone
from handlers.staff_cases import card_keyboard, details_keyboard
from handlers.staff_routing import routing_keyboard
from storage.attachments import AttachmentKind
from storage.cases import case_by_tracking
from storage.following import addition
from storage.stale_buttons import ALL, SIGNED, card_stage
from storage.tracking import format_tracking_number

CAPTION_LIMIT = 1024  # Telegram's longest photo caption
MEDIA_GROUP_LIMIT = 10  # Telegram's most photos in one album


def album(photos: Sequence[str], caption: str) -> list[InputMediaPhoto]:
    """Up to ten photos, the caption on the first. Objects, not dicts: python-telegram-bot
    fills in defaults on a "media" parameter and takes it to be InputMedia."""
    return [
        InputMediaPhoto(file_id, caption=caption if index == 0 else None)
        for index, file_id in enumerate(photos[:MEDIA_GROUP_LIMIT])
    ]


async def render_staff_new_case(params: dict[str, Any], t: Translator) -> Rendered:
    """ "staff_new_case" {tracking, duplicates?}: the new-case card, with its Accept and Reject
    buttons, and a "Merge into N" button for each possible duplicate."""
    case = await case_by_tracking(str(params["tracking"]))
    text = await staff_card(case, t, notice_zone(), maps=notice_maps())
    text += await suggestion_note(case.tracking, t)  # the category the text reads as, if other
    if await card_stage("new", case.tracking, params) != ALL:  # moved on before it went out
        return Rendered(
            "sendMessage",
            {"text": text, "reply_markup": details_keyboard(case.tracking, t).to_dict()},
        )
    proposed = case.proposed_department_code is not None  # Accept as proposed: one tap
    markup = card_keyboard(case.tracking, t, proposed=proposed).to_dict()
    duplicates = [str(number) for number in params.get("duplicates") or ()]
    if duplicates:
        text += "\n\n" + duplicate_line(duplicates, t)
        markup["inline_keyboard"] += duplicate_rows(case.tracking, duplicates, t)
    return Rendered("sendMessage", {"text": text, "reply_markup": markup})


async def render_staff_buttons_retired(params: dict[str, Any], t: Translator) -> Rendered:
    """ "staff_buttons_retired" {tracking, card, stage, message_id}: an earlier message's
    buttons on a case that has moved on are taken off, but for what still applies: a new-case
    card keeps its Details, a routing notice signed for its Send back."""
    edit: dict[str, Any] = {"message_id": int(params["message_id"])}
    tracking = str(params["tracking"])
    if params.get("card") == "new":
        edit["reply_markup"] = details_keyboard(tracking, t).to_dict()
    elif params.get("card") == "routed" and params.get("stage") == SIGNED:
        edit["reply_markup"] = routing_keyboard(tracking, t, signed=True).to_dict()
    return Rendered("editMessageReplyMarkup", edit)


async def render_staff_case_photos(params: dict[str, Any], t: Translator) -> Rendered:
    """ "staff_case_photos" {tracking}: the case's photos, as one album (or one photo)."""
    case = await case_by_tracking(str(params["tracking"]))
    caption = t.gettext("Photos of request {number}", number=format_tracking_number(case.tracking))
    photos = case.photos[:MEDIA_GROUP_LIMIT]
    if not photos:  # erased at the citizen's request after the notice was queued
        return Rendered("sendMessage", {"text": f"{caption}\n\n{erased(t)}"})
    if len(photos) == 1:
        return Rendered("sendPhoto", {"photo": photos[0], "caption": caption})
    return Rendered("sendMediaGroup", {"media": album(photos, caption)})


async def render_staff_case_addition(params: dict[str, Any], t: Translator) -> Rendered:
    """ "staff_case_addition" {tracking, event_id}: what the citizen added, with its photos."""
    tracking = str(params["tracking"])
    added = await addition(tracking, int(params["event_id"]))
    text = str(added.payload.get("text") or "") if added else ""
    if added is not None and added.payload.get("erased"):
        text = erased(t)
    photos = [str(p) for p in added.payload.get("photos") or ()] if added else []
    files = len(added.payload.get("attachments") or ()) if added else 0
    if files:  # each is sent on its own after this message (staff_case_attachment)
        line = t.ngettext(
            "({count} file, sent below)", "({count} files, sent below)", files, count=files
        )
        text = f"{text}\n\n{line}" if text else line
    head = t.gettext(
        "The citizen added to request {number}:", number=format_tracking_number(tracking)
    )
    if photos and len(head) + len(text) < CAPTION_LIMIT:
        caption = f"{head}\n\n{text}".strip()
        if len(photos) == 1:
            return Rendered("sendPhoto", {"photo": photos[0], "caption": caption})
        return Rendered("sendMediaGroup", {"media": album(photos, caption)})
    if photos:
        text += "\n\n" + t.ngettext(
            "({count} photo, shown with the request's photos)",
            "({count} photos, shown with the request's photos)",
            len(photos),
            count=len(photos),
        )
    return Rendered("sendMessage", {"text": f"{head}\n\n{text}".strip()})


# How each kind of file is passed on: the Bot API method and its parameter, by file_id.
SEND_FILE = {
    AttachmentKind.VOICE: ("sendVoice", "voice"),
    AttachmentKind.VIDEO: ("sendVideo", "video"),
    AttachmentKind.AUDIO: ("sendAudio", "audio"),
    AttachmentKind.DOCUMENT: ("sendDocument", "document"),
}


async def render_staff_case_attachment(params: dict[str, Any], t: Translator) -> Rendered:
    """ "staff_case_attachment" {tracking, index}: one of the case's files, as Telegram has it."""
    case = await case_by_tracking(str(params["tracking"]))
    number = format_tracking_number(case.tracking)
    index = int(params["index"])
    if index >= len(case.attachments):  # erased at the citizen's request after it was queued
        caption = t.gettext("A file of request {number}", number=number)
        return Rendered("sendMessage", {"text": f"{caption}\n\n{erased(t)}"})
    attachment = case.attachments[index]
    caption = t.gettext(
        "Request {number}: {file}", number=number, file=attachment_label(t, attachment)
    )
    method, parameter = SEND_FILE[attachment.kind]
    return Rendered(method, {parameter: attachment.file_id, "caption": caption})
