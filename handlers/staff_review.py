"""The review gate in the staff chat: a submitted reply's card with Approve and Return.

    card ──Approve──▶ approved (card edited, the citizen gets the reply: "case_answered")
      └──Return──▶ reasons ──reason──▶ returned (card edited; the handler replies again)
                      ├──Other──▶ "type /return <number> <reason>"
                      └──« Back──▶ card

The card is sent by the /reply handler itself (storage writes no notice for a reply under
review), in the desk's default language. Every press is authorized again in storage. A reply
that needs no review (its department has review off, or a supervisor or admin wrote it) gets
no card: storage answers the citizen at once. The card's perfunctory mark uses the settings'
MINSHENG_PERFUNCTORY_MIN_CHARS and MINSHENG_PERFUNCTORY_PHRASES (storage finds the signs).
"""

from __future__ import annotations

import re
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.context import MinshengContext
from bot.i18n import SOURCE, Translator
from bot.texts.reply_templates import template_sign
from handlers.buttons import NUMBER_GROUP, ButtonHandler, edit_markup, reasons_keyboard
from handlers.common import answer_button, send, user_of
from handlers.staff_kit import acted, mark_pressed, not_allowed, pressed
from storage.case_views import CaseNotFound
from storage.lifecycle import (
    ReplyView,
    approve_reply,
    return_reply,
)
from storage.notice_queue import card_tag
from storage.staff import StaffAction, StaffNotAuthorized, authorize
from storage.tracking import format_tracking_number

APPROVE_PATTERN = re.compile(rf"^sr:ok:{NUMBER_GROUP}\Z")
RETURN_PATTERN = re.compile(rf"^sr:ret:{NUMBER_GROUP}\Z")
BACK_PATTERN = re.compile(rf"^sr:back:{NUMBER_GROUP}\Z")
REASON_PATTERN = re.compile(rf"^sr:rsn:{NUMBER_GROUP}:(vague|miss|tone|other)\Z")


def return_reasons(t: Translator) -> dict[str, str]:
    return {
        "vague": t.gettext("Too short or vague"),
        "miss": t.gettext("Does not answer the request"),
        "tone": t.gettext("Needs a more courteous tone"),
    }


def review_keyboard(tracking: str, t: Translator) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(t.gettext("Approve"), callback_data=f"sr:ok:{tracking}"),
                InlineKeyboardButton(t.gettext("Return"), callback_data=f"sr:ret:{tracking}"),
            ]
        ]
    )


def reason_keyboard(tracking: str, t: Translator) -> InlineKeyboardMarkup:
    return reasons_keyboard(
        return_reasons(t), t, reason_data=f"sr:rsn:{tracking}:", back_data=f"sr:back:{tracking}"
    )


def review_card(reply: ReplyView, t: Translator, min_length: int, name: str) -> str:
    """The reviewer's view of a reply: whose (`name`, as the other cards name staff), on which
    case, the text, and any warning signs."""
    lines = [
        t.gettext("Reply to review: {number}", number=format_tracking_number(reply.tracking)),
        t.gettext("From {name}", name=name),
        "",
        reply.text,
    ]
    if reply.perfunctory:
        signs = [
            t.gettext("shorter than {count} characters", count=min_length)
            if sign == "short"
            else template_sign(t, sign) or f"“{sign}”"
            for sign in reply.signs
        ]
        lines += ["", t.gettext("⚠ Looks perfunctory: {signs}", signs=", ".join(signs))]
    return "\n".join(lines)[:4096]


async def send_review_card(
    update: Update, context: MinshengContext, reply: ReplyView, min_length: int
) -> None:
    """Put a submitted reply's card, with Approve and Return, in the staff chat (if any)."""
    settings = context.services.settings
    if settings.staff_chat_id is None:
        return
    t = context.services.catalogs.get(settings.default_language)
    sender = user_of(update)  # who submitted it: the card names them as "Approved by" will
    name = sender.first_name if sender.id == reply.by else str(reply.by)
    await send(
        update,
        context,
        review_card(reply, t, min_length, name),
        chat_id=settings.staff_chat_id,
        markup=review_keyboard(reply.tracking, t),
        about=card_tag("review", reply.tracking),  # its buttons go once reviewed
    )


def already_reviewed(t: Translator) -> str:
    return t.gettext("This reply was already reviewed.")


async def on_approve(update: Update, context: MinshengContext) -> None:
    """Approve pressed: the reply goes to the citizen and the case is answered."""
    if (got := await pressed(update, context, APPROVE_PATTERN)) is None:
        return
    found, t = got
    by, now = user_of(update).id, context.services.clock.now()
    act = approve_reply(found.group(1), by=by, now=now)
    if await acted(update, context, act, t, already_reviewed(t)) is not None:
        await mark_pressed(
            update, context, t.gettext("Approved by {name}", name=user_of(update).first_name)
        )


async def may_return(
    update: Update, context: MinshengContext, tracking: str, t: Translator
) -> bool:
    try:
        await authorize(
            user_of(update).id,
            StaffAction.RETURN_REPLY,
            tracking,
            now=context.services.clock.now(),
        )
    except (StaffNotAuthorized, CaseNotFound):
        await answer_button(update, context, not_allowed(t))
        return False
    await answer_button(update, context)
    return True


async def on_return(update: Update, context: MinshengContext) -> None:
    """Return pressed: offer the standard reasons."""
    if (got := await pressed(update, context, RETURN_PATTERN)) is None:
        return
    found, t = got
    if await may_return(update, context, found.group(1), t):
        await edit_markup(update, context, reason_keyboard(found.group(1), t))


async def on_back(update: Update, context: MinshengContext) -> None:
    """Back pressed: Approve and Return again."""
    if (got := await pressed(update, context, BACK_PATTERN)) is None:
        return
    found, t = got
    if await may_return(update, context, found.group(1), t):
        await edit_markup(update, context, review_keyboard(found.group(1), t))


async def on_reason(update: Update, context: MinshengContext) -> None:
    """A reason pressed: return the reply with it (or explain how to type one)."""
    if (got := await pressed(update, context, REASON_PATTERN)) is None:
        return
    found, t = got
    tracking, code = found.group(1), found.group(2)
    if code == "other":
        await answer_button(
            update,
            context,
            t.gettext(
                "Send /return {number} followed by the reason.",
                number=format_tracking_number(tracking),
            ),
        )
        return
    by, now = user_of(update).id, context.services.clock.now()
    act = return_reply(tracking, return_reasons(SOURCE)[code], by=by, now=now)
    if await acted(update, context, act, t, already_reviewed(t)) is not None:
        await mark_pressed(
            update,
            context,
            t.gettext(
                "Returned by {name}: {reason}",
                name=user_of(update).first_name,
                reason=return_reasons(t)[code],
            ),
        )


def handlers() -> list[Any]:
    """The review card's buttons, for register()."""
    return [
        ButtonHandler(on_approve, pattern=APPROVE_PATTERN),
        ButtonHandler(on_return, pattern=RETURN_PATTERN),
        ButtonHandler(on_back, pattern=BACK_PATTERN),
        ButtonHandler(on_reason, pattern=REASON_PATTERN),
    ]
