"""Files a citizen sends (voice, video, audio, documents): read from the message, and the
polite answer when one is over a limit or of a kind the desk does not take."""

from __future__ import annotations

from telegram import Message, TelegramObject

from bot.i18n import Translator
from storage.attachments import (
    FILE_MAX_BYTES,
    MAX_ATTACHMENTS,
    VOICE_MAX_SECONDS,
    Attachment,
    AttachmentKind,
    AttachmentProblem,
)


def seconds(media: TelegramObject) -> int | None:
    """A file's duration in seconds, read without python-telegram-bot's property (it warns
    that it will become a timedelta)."""
    duration = media.to_dict().get("duration")
    return duration if isinstance(duration, int) else None


def attachment_of(message: Message) -> Attachment | None:
    """The message's voice, video, audio or document, as the desk keeps it; else None."""
    if message.voice is not None:
        voice = message.voice
        return Attachment(
            AttachmentKind.VOICE, voice.file_id, seconds(voice), voice.file_size, voice.mime_type
        )
    video = message.video or message.video_note
    if video is not None:
        mime = message.video.mime_type if message.video is not None else "video/mp4"
        return Attachment(
            AttachmentKind.VIDEO, video.file_id, seconds(video), video.file_size, mime
        )
    if message.audio is not None:
        audio = message.audio
        return Attachment(
            AttachmentKind.AUDIO,
            audio.file_id,
            seconds(audio),
            audio.file_size,
            audio.mime_type,
            audio.file_name,
        )
    if message.document is not None:
        document = message.document
        return Attachment(
            AttachmentKind.DOCUMENT,
            document.file_id,
            size=document.file_size,
            mime=document.mime_type,
            name=document.file_name,
        )
    return None


def refusal(t: Translator, problem: AttachmentProblem) -> str:
    """Why the file was not kept, and what to send instead."""
    if problem is AttachmentProblem.TOO_LONG:
        return t.gettext(
            "Sorry, this voice message is longer than {limit} minutes, so I did not keep it. "
            "Please send a shorter one (several short ones are fine), or type the main points.",
            limit=VOICE_MAX_SECONDS // 60,
        )
    if problem is AttachmentProblem.TOO_LARGE:
        return t.gettext(
            "Sorry, this file is larger than {limit} MB, so I did not keep it. Please send a "
            "shorter video or a smaller file.",
            limit=FILE_MAX_BYTES // (1024 * 1024),
        )
    return t.gettext(
        "Sorry, I can take documents only as PDF files or pictures (JPEG, PNG or WebP), so I "
        "did not keep this one. A photo of the paper is fine too."
    )


def too_many(t: Translator) -> str:
    return t.gettext(
        "You can add at most {limit} files (voice messages, videos, audio or documents); this "
        "one was not added.",
        limit=MAX_ATTACHMENTS,
    )
