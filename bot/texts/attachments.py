"""A request's files in words: what each one is (voice, video, audio, document) and how long.

The staff chat's captions and the dashboard's case page name the files with these.
"""

from __future__ import annotations

from bot.i18n import Translator
from storage.attachments import Attachment, AttachmentKind


def clock_duration(seconds: int) -> str:
    """1:05 for 65 seconds: the same in every language."""
    return f"{seconds // 60}:{seconds % 60:02d}"


def size_in_mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}"


def attachment_label(t: Translator, attachment: Attachment) -> str:
    """What the file is, in a few words: "Voice message, 0:42", "Document: notice.pdf"."""
    duration = clock_duration(attachment.duration or 0)
    name = attachment.name or attachment.mime or "?"
    if attachment.kind is AttachmentKind.VOICE:
        return t.gettext("Voice message, {duration}", duration=duration)
    if attachment.kind is AttachmentKind.VIDEO:
        return t.gettext("Video, {duration}", duration=duration)
    if attachment.kind is AttachmentKind.AUDIO:
        return t.gettext("Audio: {name}, {duration}", name=name, duration=duration)
    return t.gettext("Document: {name}", name=name)
