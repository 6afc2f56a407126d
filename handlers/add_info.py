"""Add information to an open request: text, photos, voice, video or documents; staff are told.

Two ways in: the Add information button under a case, or a Telegram reply to any message of
ours about a case (found through the outbox row the message was sent from, never its text).

add:<number> ──▶ [ADD_INFO {tracking}] ──text, photo or file──▶ appended, confirmed (draft gone)
                      │ an album: every photo appended, confirmed once, then the step ends
                      │ anything else, text too long, a file over a limit: say why, stay
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import Message, Update

from bot.context import MinshengContext
from bot.i18n import Translator
from bot.texts.refusals import too_long
from handlers.attachments import attachment_of, refusal
from handlers.buttons import pressed_case
from handlers.case_card import ADD_PATTERN, CASE_PATTERN, matched
from handlers.common import send, user_of, who
from handlers.fallback import message_of, on_not_text, on_text
from handlers.tracking import begin_step, not_found
from storage.attachments import problem_of
from storage.cases import CaseClosed, CaseNotFound, case_of_citizen
from storage.drafts import DraftView, Step, discard_draft, set_draft
from storage.following import sent_message
from storage.lifecycle import citizen_adds
from storage.notice_queue import NOTICE_METHOD
from storage.tracking import format_tracking_number

log = logging.getLogger(__name__)

ADDITION_LIMIT = 3000


def closed(t: Translator) -> str:
    return t.gettext(
        "This request is closed, so nothing more can be added to it. "
        "If the problem is still there, please file a new request."
    )


async def on_add_button(update: Update, context: MinshengContext) -> None:
    """add:<number>: ask for what to add, if the case is the presser's and still open."""
    pressed = await pressed_case(update, context, ADD_PATTERN)
    if pressed is None:
        return
    tracking, t, user_id = pressed
    try:
        case = await case_of_citizen(tracking, user_id)
    except CaseNotFound:
        await send(update, context, not_found(t), chat_id=user_id)
        return
    if not case.is_open:
        await send(update, context, closed(t), chat_id=user_id)
        return
    if await begin_step(update, context, t, Step.ADD_INFO, {"tracking": tracking}):
        text = t.gettext(
            "What would you like to add to request {number}? Send text, photos with a "
            "caption, a voice message, a video or a document. Send /cancel to stop.",
            number=format_tracking_number(tracking),
        )
        await send(update, context, text, chat_id=user_id)


def _largest_photo(message: Message) -> tuple[str, ...]:
    return (message.photo[-1].file_id,) if message.photo else ()


async def on_add_info(update: Update, context: MinshengContext, draft: DraftView) -> None:
    """What the citizen sent to add: appended to the case, and the staff chat told."""
    message = message_of(update)
    album = draft.data.get("album")
    if album is not None and message.media_group_id != album:
        # The album was the addition; this message is something new.
        await discard_draft(draft.citizen_id)
        await (on_text if message.text else on_not_text)(update, context)
        return
    await append(update, context, str(draft.data.get("tracking", "")), draft=draft)


async def append(
    update: Update, context: MinshengContext, tracking: str, *, draft: DraftView | None
) -> None:
    """Append the message to the case; with the step's `draft`, end or keep the step."""
    message = message_of(update)
    citizen_id = user_of(update).id
    _, t = await who(update, context)
    text = message.text or message.caption or ""
    photos = _largest_photo(message)
    attachment = attachment_of(message)
    if not photos and attachment is None and not text.strip():
        need = t.gettext(
            "Please send text, a photo with a caption, a voice message, a video or a document "
            "to add to your request."
        )
        await send(update, context, need)
        return
    problem = problem_of(attachment) if attachment is not None else None
    if problem is not None:
        await send(update, context, refusal(t, problem))
        return
    if len(text) > ADDITION_LIMIT:
        await send(update, context, too_long(t, len(text), ADDITION_LIMIT))
        return
    now = context.services.clock.now()
    staff = context.services.settings.staff_chat_id
    try:
        await citizen_adds(
            tracking,
            citizen_id,
            text=text,
            photos=photos,
            now=now,
            staff_chat_id=staff,
            attachments=(attachment,) if attachment is not None else (),
        )
    except (CaseNotFound, CaseClosed) as exc:
        if draft is not None:
            await discard_draft(citizen_id)
        await send(update, context, closed(t) if isinstance(exc, CaseClosed) else not_found(t))
        return
    log.info("citizen added to %s", tracking)
    group = message.media_group_id
    if draft is not None and group is not None:
        await set_draft(citizen_id, Step.ADD_INFO, {"tracking": tracking, "album": group}, now=now)
        if draft.data.get("album") is not None:
            return  # the album's first photo was confirmed
    elif draft is not None:
        await discard_draft(citizen_id)
    done = t.gettext(
        "Added to request {number}. The department will see it with your request.",
        number=format_tracking_number(tracking),
    )
    await send(update, context, done)


def case_of_sent(method: str, payload: dict[str, Any]) -> str | None:
    """The case a message of ours was about: a notice's facts, else its own case buttons."""
    if method == NOTICE_METHOD:
        params = payload.get("params")
        tracking = params.get("tracking") if isinstance(params, dict) else None
        return tracking if isinstance(tracking, str) else None
    markup = payload.get("reply_markup")
    rows = markup.get("inline_keyboard", []) if isinstance(markup, dict) else []
    for row in rows:
        for button in row if isinstance(row, list) else ():
            data = button.get("callback_data") if isinstance(button, dict) else None
            tracking = matched(ADD_PATTERN, data) or matched(CASE_PATTERN, data)
            if tracking is not None:
                return tracking
    return None


async def added_by_reply(update: Update, context: MinshengContext) -> bool:
    """A reply to our message about a case adds to that case: True; any other reply: False."""
    message = message_of(update)
    replied = message.reply_to_message
    user_id = user_of(update).id
    sent = await sent_message(user_id, replied.message_id) if replied is not None else None
    tracking = case_of_sent(*sent) if sent is not None else None
    if tracking is None:
        return False
    await append(update, context, tracking, draft=None)  # a request being written stays
    return True
