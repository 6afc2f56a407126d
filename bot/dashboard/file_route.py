"""The route that serves a case's file to staff who may see the case, fetched from Telegram.

The bot asks Telegram for the file (getFile, then the file URL, which holds the token) and
passes the bytes on; the browser only ever sees the dashboard's own address.
"""

from __future__ import annotations

from aiohttp import web
from telegram.error import BadRequest

from bot.dashboard.session import RUNTIME
from bot.dashboard.views import _viewable, photo_headers, staff_only
from bot.i18n import Translator
from storage.attachments import Attachment, AttachmentKind
from storage.staff import StaffView

# What a browser may play of each kind; anything else is served as a download.
PLAYABLE = {
    AttachmentKind.VOICE: frozenset({"audio/ogg", "audio/mpeg", "audio/mp4", "audio/webm"}),
    AttachmentKind.AUDIO: frozenset(
        {"audio/ogg", "audio/mpeg", "audio/mp4", "audio/x-m4a", "audio/aac", "audio/wav"}
    ),
    AttachmentKind.VIDEO: frozenset({"video/mp4", "video/webm", "video/quicktime"}),
}
# Voice messages are Ogg Opus whatever a client says; a video note is an MP4.
DEFAULT_TYPE = {AttachmentKind.VOICE: "audio/ogg", AttachmentKind.VIDEO: "video/mp4"}


def file_headers(attachment: Attachment, index: int, data: bytes) -> dict[str, str]:
    """The type the file is (media of a kind a browser plays, pictures by their first bytes),
    no sniffing, no scripts, no copies kept; a PDF or anything else is a download."""
    if attachment.kind is AttachmentKind.DOCUMENT:
        headers = photo_headers(data)
        if "Content-Disposition" in headers:  # not a picture: a download, never shown inline
            pdf = data.startswith(b"%PDF-")
            headers["Content-Type"] = "application/pdf" if pdf else "application/octet-stream"
            name = f"file-{index + 1}.pdf" if pdf else f"file-{index + 1}"
            headers["Content-Disposition"] = f'attachment; filename="{name}"'
        return headers
    mime = attachment.mime or DEFAULT_TYPE.get(attachment.kind, "")
    playable = mime in PLAYABLE.get(attachment.kind, frozenset())
    headers = {
        "Content-Type": mime if playable else "application/octet-stream",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "no-store",
    }
    if not playable:
        headers["Content-Disposition"] = f'attachment; filename="file-{index + 1}"'
    return headers


@staff_only
async def case_file(request: web.Request, staff: StaffView, t: Translator) -> web.StreamResponse:
    """A case's voice message, video, audio or document, for staff who may see the case."""
    case = await _viewable(request, staff, request.match_info["number"])
    index = int(request.match_info["index"])
    if case is None or index >= len(case.attachments):
        raise web.HTTPNotFound()
    attachment = case.attachments[index]
    try:
        file = await request.app[RUNTIME].bot.get_file(attachment.file_id)
        data = bytes(await file.download_as_bytearray())
    except BadRequest as exc:  # Telegram no longer has it, or will not hand it to a bot
        raise web.HTTPNotFound() from exc
    return web.Response(body=data, headers=file_headers(attachment, index, data))


def routes(app: web.Application) -> None:
    app.router.add_get(r"/web/case/{number}/file/{index:\d{1,2}}", case_file)
