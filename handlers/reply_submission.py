"""Submitting a staff reply, shared by every way one is written (/reply, a Telegram reply to a
case's card, a template's Send): for review (handlers.staff_review puts its card in the staff
chat), or straight to the citizen when storage finds no review is needed. A text starting
`kb:<code>` quotes that knowledge-base article first (storage.kb_replies).
"""

from __future__ import annotations

from telegram import Update

from bot.context import MinshengContext
from bot.i18n import Translator
from bot.texts.refusals import refusal
from handlers.common import send, user_of
from handlers.staff_kit import not_allowed, outcome, shown, stamp
from handlers.staff_review import send_review_card
from storage.case_views import CaseNotFound
from storage.kb_replies import quoted_code, reply_with_article
from storage.knowledge import KbArticleNotFound
from storage.lifecycle import ReplyView, submit_reply
from storage.staff import StaffAction, StaffNotAuthorized, check_is_staff, record_denial
from storage.tracking import canonical_or_none

__all__ = ["submit", "submitted", "with_article"]


async def submit(
    update: Update, context: MinshengContext, t: Translator, number: str, text: str
) -> ReplyView | None:
    """Submit a reply: for review (its card goes to the staff chat), or to the citizen at once.
    A text starting `kb:<code>` quotes that knowledge-base article (storage.kb_replies)."""
    settings = context.services.settings
    if quoted_code(text) is not None:
        if (quoted := await with_article(update, context, t, number, text)) is None:
            return None
        text = quoted
    reply = await outcome(
        update,
        context,
        t,
        number,
        lambda: submit_reply(
            number,
            text,
            **stamp(context, update),
            min_length=settings.perfunctory_min_chars,
            perfunctory_phrases=settings.perfunctory_phrases,
        ),
        lambda reply: submitted(reply, t),
    )
    if reply is not None and reply.awaits_review:
        await send_review_card(update, context, reply, settings.perfunctory_min_chars)
    return reply if isinstance(reply, ReplyView) else None


async def with_article(
    update: Update, context: MinshengContext, t: Translator, number: str, text: str
) -> str | None:
    """The reply text with the article quoted, or None once the refusal is told: not staff
    (asked first, so nobody else learns which cases or articles exist), no such case or code."""
    try:
        await check_is_staff(user_of(update).id, StaffAction.REPLY, canonical_or_none(number))
        default = context.services.settings.default_language
        return await reply_with_article(number, text, default_language=default)
    except StaffNotAuthorized as denied:
        await record_denial(denied, now=context.services.clock.now())
        await send(update, context, not_allowed(t))
    except CaseNotFound as missing:
        await send(update, context, refusal(t, number, missing))
    except KbArticleNotFound:
        line = t.gettext(
            "There is no article with the code “{code}”. Nothing was sent.",
            code=quoted_code(text) or "",
        )
        await send(update, context, line)
    return None


def submitted(reply: ReplyView, t: Translator) -> str:
    """What the author of a reply is told: where it went."""
    if reply.awaits_review:
        return t.gettext(
            "Your reply to {number} was sent for review.", number=shown(reply.tracking)
        )
    return t.gettext(
        "Your reply to {number} was sent to the citizen.", number=shown(reply.tracking)
    )
