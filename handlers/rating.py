"""The callback (回访): the answer with its rating buttons, and what the citizen is told.

    answer ──Solved/Partly/Not solved──▶ Satisfied/Basically/Unsatisfied
        ──satisfied or basically──▶ closed; comment suggestions · Skip
        ──unsatisfied──▶ Reopen (within 7 days) · comment suggestions · Skip

Every press is checked again in storage.rating (the data comes from the client): a case that is
not the presser's, not answered, or already rated changes nothing, and a press that comes twice
counts once. The buttons live on the answer's message and are edited in place.
"""

from __future__ import annotations

import re
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.context import MinshengApp, MinshengContext
from bot.i18n import SOURCE, Translator
from bot.texts.ratings import satisfaction_labels, solved_labels
from handlers.buttons import NUMBER_GROUP, ButtonHandler, button_match, edit_markup
from handlers.common import answer_button, user_of, who
from handlers.rendered import Rendered
from storage.case_views import CaseNotFound
from storage.rating import (
    CaseChangedMeanwhile,
    RatingAlreadyGiven,
    RatingRefused,
    ReopenTooLate,
    add_comment,
    rate_satisfaction,
    rate_solved,
    reopen_by_citizen,
    reopen_offered,
)
from storage.tracking import format_tracking_number

SOLVED_PATTERN = re.compile(rf"^rt:s:{NUMBER_GROUP}:(solved|partly|not_solved)\Z")
SATISFACTION_PATTERN = re.compile(rf"^rt:f:{NUMBER_GROUP}:(satisfied|basic|unsatisfied)\Z")
COMMENT_PATTERN = re.compile(rf"^rt:c:{NUMBER_GROUP}:(quick|unclear|slow|skip)\Z")
REOPEN_PATTERN = re.compile(rf"^rt:r:{NUMBER_GROUP}\Z")

MAX_TEXT = 4096


def comment_suggestions(t: Translator) -> dict[str, str]:
    return {
        "quick": t.gettext("Quick and helpful"),
        "unclear": t.gettext("The answer was unclear"),
        "slow": t.gettext("It took too long"),
    }


def solved_keyboard(tracking: str, t: Translator) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(label, callback_data=f"rt:s:{tracking}:{code}")
                for code, label in solved_labels(t).items()
            ]
        ]
    )


def satisfaction_keyboard(tracking: str, t: Translator) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(label, callback_data=f"rt:f:{tracking}:{code}")]
            for code, label in satisfaction_labels(t).items()
        ]
    )


def reopen_row(tracking: str, t: Translator) -> list[InlineKeyboardButton]:
    return [
        InlineKeyboardButton(t.gettext("Reopen the request"), callback_data=f"rt:r:{tracking}")
    ]


def comment_keyboard(tracking: str, t: Translator, *, reopen: bool) -> InlineKeyboardMarkup:
    rows = [
        [InlineKeyboardButton(label, callback_data=f"rt:c:{tracking}:{code}")]
        for code, label in comment_suggestions(t).items()
    ]
    rows.append([InlineKeyboardButton(t.gettext("Skip"), callback_data=f"rt:c:{tracking}:skip")])
    return InlineKeyboardMarkup([reopen_row(tracking, t), *rows] if reopen else rows)


async def matched(
    update: Update, context: MinshengContext, pattern: re.Pattern[str]
) -> tuple[re.Match[str], Translator, int] | None:
    """A rating button's data, matched, with the presser's translator and id; else "expired"."""
    if (found := await button_match(update, context, pattern)) is None:
        return None
    return found, (await who(update, context))[1], user_of(update).id


async def refused(
    update: Update, context: MinshengContext, t: Translator, error: Exception
) -> None:
    """Answer a refused press; nothing was changed."""
    if isinstance(error, RatingAlreadyGiven):
        text = t.gettext("Your rating was already recorded.")
    elif isinstance(error, ReopenTooLate):
        text = t.gettext("It is too late to reopen this request.")
    elif isinstance(error, CaseChangedMeanwhile):
        text = t.gettext("This request was already handled.")
    else:
        text = t.gettext("This request cannot be rated now.")
    await answer_button(update, context, text)


async def on_solved(update: Update, context: MinshengContext) -> None:
    """Was it solved: kept, and the second question offered."""
    if (got := await matched(update, context, SOLVED_PATTERN)) is None:
        return
    found, t, user_id = got
    tracking = found.group(1)
    try:
        await rate_solved(tracking, user_id, found.group(2), now=context.services.clock.now())
    except (CaseNotFound, RatingRefused) as error:
        await refused(update, context, t, error)
        return
    await answer_button(update, context)
    await edit_markup(update, context, satisfaction_keyboard(tracking, t))


async def on_satisfaction(update: Update, context: MinshengContext) -> None:
    """How satisfied: the rating is written (closing the case unless unsatisfied)."""
    if (got := await matched(update, context, SATISFACTION_PATTERN)) is None:
        return
    found, t, user_id = got
    tracking = found.group(1)
    now = context.services.clock.now()
    try:
        rating = await rate_satisfaction(tracking, user_id, found.group(2), now=now)
    except (CaseNotFound, RatingRefused, CaseChangedMeanwhile) as error:
        await refused(update, context, t, error)
        return
    await answer_button(update, context, t.gettext("Thank you for your rating."))
    await edit_markup(update, context, comment_keyboard(tracking, t, reopen=rating.can_reopen))


async def on_comment(update: Update, context: MinshengContext) -> None:
    """A suggested comment (or Skip): kept once; only Reopen stays, while it may be pressed."""
    if (got := await matched(update, context, COMMENT_PATTERN)) is None:
        return
    found, t, user_id = got
    tracking, code = found.group(1), found.group(2)
    now = context.services.clock.now()
    thanks = ""
    if code != "skip":
        try:
            if await add_comment(tracking, user_id, comment_suggestions(SOURCE)[code], now=now):
                thanks = t.gettext("Thank you for your comment.")
        except (CaseNotFound, RatingRefused) as error:
            await refused(update, context, t, error)
            return
    await answer_button(update, context, thanks)
    left = [reopen_row(tracking, t)] if await reopen_offered(tracking, user_id, now=now) else []
    await edit_markup(update, context, InlineKeyboardMarkup(left))


async def on_reopen(update: Update, context: MinshengContext) -> None:
    """Reopen, unsatisfied: back to the department; the staff chat is told."""
    if (got := await matched(update, context, REOPEN_PATTERN)) is None:
        return
    found, t, user_id = got
    tracking = found.group(1)
    try:
        await reopen_by_citizen(
            tracking,
            user_id,
            now=context.services.clock.now(),
            staff_chat_id=context.services.settings.staff_chat_id,
        )
    except (CaseNotFound, RatingRefused, CaseChangedMeanwhile) as error:
        await refused(update, context, t, error)
        return
    await answer_button(update, context)
    await edit_markup(update, context, InlineKeyboardMarkup([]))


def handlers(app: MinshengApp) -> list[Any]:
    """The rating buttons, for register() (before the "expired" catch-all)."""
    return [
        ButtonHandler(on_solved, pattern=SOLVED_PATTERN),
        ButtonHandler(on_satisfaction, pattern=SATISFACTION_PATTERN),
        ButtonHandler(on_comment, pattern=COMMENT_PATTERN),
        ButtonHandler(on_reopen, pattern=REOPEN_PATTERN),
    ]


# -- Notice renderers (storage sends the facts; the text is made at send time) --------------


def _number(params: dict[str, Any]) -> str:
    return format_tracking_number(str(params["tracking"]))


def _message(text: str, markup: InlineKeyboardMarkup | None = None) -> Rendered:
    payload: dict[str, Any] = {"text": text[:MAX_TEXT]}
    if markup is not None:
        payload["reply_markup"] = markup.to_dict()
    return Rendered("sendMessage", payload)


async def render_case_answered(params: dict[str, Any], t: Translator) -> Rendered:
    """ "case_answered" {tracking, text}: the staff's reply, then "was it solved?" as buttons."""
    head = t.gettext("The answer to your request {number}:", number=_number(params))
    question = t.gettext("Was your problem solved?")
    room = MAX_TEXT - len(head) - len(question) - 4
    reply = str(params["text"])
    if len(reply) > room:
        reply = reply[: room - 1] + "…"
    tracking = str(params["tracking"])
    return _message(f"{head}\n\n{reply}\n\n{question}", solved_keyboard(tracking, t))


async def render_rating_reminder(params: dict[str, Any], t: Translator) -> Rendered:
    """ "rating_reminder" {tracking}: once, three days after an unrated answer."""
    text = t.gettext(
        "Please rate the answer to your request {number}. Was your problem solved?",
        number=_number(params),
    )
    return _message(text, solved_keyboard(str(params["tracking"]), t))


async def render_case_closed(params: dict[str, Any], t: Translator) -> Rendered:
    """ "case_closed" {tracking, reason?}: the case is closed (no_feedback: nobody rated it)."""
    if params.get("reason") == "no_feedback":
        text = t.gettext(
            "Your request {number} was closed without feedback.", number=_number(params)
        )
    else:
        text = t.gettext("Your request {number} is closed. Thank you.", number=_number(params))
    return _message(text)


async def render_case_reopened(params: dict[str, Any], t: Translator) -> Rendered:
    """ "case_reopened" {tracking}: back to the department."""
    return _message(
        t.gettext(
            "Your request {number} was reopened and is being worked on again.",
            number=_number(params),
        )
    )


async def render_case_merged(params: dict[str, Any], t: Translator) -> Rendered:
    """ "case_merged" {tracking, into}: they follow the other case from now on, as a follower
    (storage.followers: told when it moves, never given its answer)."""
    into = format_tracking_number(str(params["into"]))
    return _message(
        t.gettext(
            "Your request {number} was merged into request {into} about the same problem. "
            "You now follow {into}: you will be told when it moves, and can look it up with "
            "/status {into}.",
            number=_number(params),
            into=into,
        )
    )


async def render_case_question(params: dict[str, Any], t: Translator) -> Rendered:
    """ "case_question" {tracking, question}: the department asks for more."""
    head = t.gettext("About your request {number}, the department asks:", number=_number(params))
    answer = InlineKeyboardMarkup(
        [[InlineKeyboardButton(t.gettext("Answer"), callback_data=f"add:{params['tracking']}")]]
    )
    note = t.gettext("Press Answer, or reply to this message.")
    return _message(f"{head}\n\n{params['question']}\n\n{note}", answer)


async def render_staff_case_reopened(params: dict[str, Any], t: Translator) -> Rendered:
    """ "staff_case_reopened" {tracking}: to the staff chat."""
    return _message(
        t.gettext(
            "Request {number} was reopened by the citizen, who was not satisfied with the answer.",
            number=_number(params),
        )
    )
