"""Allow or withdraw publication from a request's details under "My requests".

    details ──pub:y:<number>──▶ consent given    (the details redrawn in place)
            ──pub:n:<number>──▶ consent withdrawn; a published request leaves every public
                                page at once (storage.publish_consent)

The number in the data is checked against the presser: only the citizen who filed the request
changes its consent; any other number gets the same "not found" as tracking does.
"""

from __future__ import annotations

from telegram import Message, Update

from bot.context import MinshengContext
from handlers.buttons import button_match, query_of
from handlers.case_card import CONSENT_PATTERN
from handlers.common import answer_button, call, send, user_of, who
from handlers.tracking import case_answer, not_found
from storage.case_views import CaseNotFound
from storage.publish_consent import set_consent


async def on_consent_button(update: Update, context: MinshengContext) -> None:
    """pub:y|n:<number>: set the consent of the presser's own request, redraw its details."""
    if (found := await button_match(update, context, CONSENT_PATTERN)) is None:
        return
    _, t = await who(update, context)
    user_id, tracking = user_of(update).id, found.group(2)
    try:
        change = await set_consent(
            tracking, user_id, found.group(1) == "y", now=context.services.clock.now()
        )
    except CaseNotFound:
        await answer_button(update, context, not_found(t))
        return
    if change.unpublished:
        notice = t.gettext("Your request was taken off the public board.")
    elif change.consent:
        notice = t.gettext("Staff may publish this request without your name once it is answered.")
    else:
        notice = t.gettext("This request will not be published.")
    await answer_button(update, context, notice)
    text, markup = await case_answer(context, user_id, t, tracking)
    message = query_of(update).message
    if isinstance(message, Message) and message.chat.id == user_id:
        params = {"chat_id": user_id, "message_id": message.message_id, "text": text}
        if markup is not None:
            params["reply_markup"] = markup.to_dict()
        await call(update, context, "editMessageText", params)
    else:
        await send(update, context, text, chat_id=user_id, markup=markup)
