"""Intake, the photos step's other files: voice, video, audio and documents, within limits.

They are kept on the draft as `attachments` beside the photos; one over a limit (or of a kind
the desk does not take) is answered with why, and the step waits for more or Done.
"""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update

from bot.context import MinshengContext
from handlers.attachments import refusal, too_many
from handlers.common import send, who
from handlers.intake_data import data, message_of, save
from handlers.intake_prompts import inline
from storage.attachments import MAX_ATTACHMENTS, Attachment, problem_of
from storage.drafts import DraftView, Step


def done_keyboard(text: str) -> InlineKeyboardMarkup:
    return inline([[(text, data("done"))]])


async def take_file(
    update: Update, context: MinshengContext, draft: DraftView, attachment: Attachment
) -> None:
    """Keep the file on the draft, or say why not; an album is answered at its first item."""
    message = message_of(update)
    _, t = await who(update, context)
    album = message.media_group_id
    silent = album is not None and album == draft.data.get("album")
    files = list(draft.data.get("attachments") or [])
    problem = problem_of(attachment)
    if problem is not None or len(files) >= MAX_ATTACHMENTS:
        await save(context, draft, Step.PHOTOS, album=album)
        if not silent:
            answer = refusal(t, problem) if problem is not None else too_many(t)
            await send(update, context, answer, markup=done_keyboard(t.gettext("Done")))
        return
    files.append(attachment.as_json())
    await save(context, draft, Step.PHOTOS, attachments=files, album=album)
    if silent:
        return
    note = t.gettext(
        "File {n} of {limit} received. Send more or press Done.",
        n=len(files),
        limit=MAX_ATTACHMENTS,
    )
    await send(update, context, note, markup=done_keyboard(t.gettext("Done")))
