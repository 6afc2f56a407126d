"""A request's files other than photos: voice, video, audio and documents, with their limits.

Each is kept as Telegram gave it (a file_id and what the message said of it), in the case's
`attachments` list and in an addition's event; the bytes stay with Telegram.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

# A voice message longer than this is a speech, not a request; staff listen to every one.
VOICE_MAX_SECONDS = 5 * 60
# The Bot API lets a bot download files of up to 20 MB (getFile): past that, staff could not
# receive it on the dashboard, so it is refused at once.
FILE_MAX_BYTES = 20 * 1024 * 1024
# Files the intake takes for one request, beside its photos; each addition brings one more.
MAX_ATTACHMENTS = 5
# Documents taken: a PDF (a notice, a bill) or an image sent as a file.
DOCUMENT_TYPES = frozenset({"application/pdf", "image/jpeg", "image/png", "image/webp"})


class AttachmentKind(StrEnum):
    VOICE = "voice"
    VIDEO = "video"
    AUDIO = "audio"
    DOCUMENT = "document"


@dataclass(frozen=True)
class Attachment:
    kind: AttachmentKind
    file_id: str  # Telegram's; valid for this bot only
    duration: int | None = None  # seconds, for voice, video and audio
    size: int | None = None  # bytes, when Telegram said
    mime: str | None = None
    name: str | None = None  # the file's name, as the citizen's device gave it

    def as_json(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if value is not None}


class AttachmentProblem(StrEnum):
    """Why a file was not taken; each has its own polite sentence where the citizen is."""

    TOO_LONG = "too_long"  # a voice message over VOICE_MAX_SECONDS
    TOO_LARGE = "too_large"  # over FILE_MAX_BYTES
    WRONG_TYPE = "wrong_type"  # a document that is neither a PDF nor an image


def problem_of(attachment: Attachment) -> AttachmentProblem | None:
    """What keeps this file from being taken, or None."""
    if attachment.size is not None and attachment.size > FILE_MAX_BYTES:
        return AttachmentProblem.TOO_LARGE
    too_long = (attachment.duration or 0) > VOICE_MAX_SECONDS
    if attachment.kind is AttachmentKind.VOICE and too_long:
        return AttachmentProblem.TOO_LONG
    if attachment.kind is AttachmentKind.DOCUMENT and attachment.mime not in DOCUMENT_TYPES:
        return AttachmentProblem.WRONG_TYPE
    return None


def attachment_from_json(value: Any) -> Attachment | None:
    """One stored attachment; None for anything that is not one (an erased or odd entry)."""
    if not isinstance(value, dict) or not isinstance(value.get("file_id"), str):
        return None
    try:
        kind = AttachmentKind(str(value.get("kind")))
    except ValueError:
        return None
    duration, size = value.get("duration"), value.get("size")
    mime, name = value.get("mime"), value.get("name")
    return Attachment(
        kind=kind,
        file_id=value["file_id"],
        duration=duration if isinstance(duration, int) else None,
        size=size if isinstance(size, int) else None,
        mime=mime if isinstance(mime, str) else None,
        name=name if isinstance(name, str) else None,
    )


def attachments_from_json(values: Iterable[Any] | None) -> tuple[Attachment, ...]:
    found = (attachment_from_json(value) for value in values or ())
    return tuple(a for a in found if a is not None)
