"""A case's files on its page: voice and video to play there, audio, and documents to open."""

from __future__ import annotations

from dataclasses import dataclass

from bot.i18n import Translator
from bot.texts.attachments import attachment_label
from storage.case_views import CaseView


@dataclass(frozen=True)
class FileItem:
    kind: str  # "voice" | "video" | "audio" | "document": the template's player for it
    url: str  # the dashboard's own route; never Telegram's file URL, which holds the token
    label: str


def file_items(t: Translator, number: str, case: CaseView) -> list[FileItem]:
    """Each of the case's files, in the order they came, with where the page gets its bytes."""
    return [
        FileItem(str(a.kind), f"/web/case/{number}/file/{index}", attachment_label(t, a))
        for index, a in enumerate(case.attachments)
    ]
