"""The rating message: the answer, what the citizen chose so far and the next question, with
that question's buttons, written afresh (text and buttons together) at every step.

Callback data, checked on the way in by the patterns below (it comes from the client):
    rt:s:<case>:<solved>  rt:f:<case>:<satisfaction>  rt:c:<case>:<comment|skip>
    rt:r:<case> (reopen: ask the reason)  rt:k:<case> (keep it as it is: no reopen)
"""

from __future__ import annotations

import re
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.context import MinshengContext
from bot.i18n import Translator
from bot.texts.ratings import (
    COMMENTS_FOR,
    ask_comment,
    ask_reason,
    ask_satisfaction,
    comment_labels,
    offer_reopen,
    rating_line,
    reopened_with,
    satisfaction_labels,
    solved_labels,
    thanks,
)
from handlers.buttons import NUMBER_GROUP, query_of
from handlers.common import answer_button, call
from storage.rating import (
    CaseChangedMeanwhile,
    CommentDoesNotFit,
    RatingAlreadyGiven,
    RatingView,
    ReopenTooLate,
    SolvedView,
)
from storage.tracking import format_tracking_number

SOLVED_PATTERN = re.compile(rf"^rt:s:{NUMBER_GROUP}:(solved|partly|not_solved)\Z")
SATISFACTION_PATTERN = re.compile(rf"^rt:f:{NUMBER_GROUP}:(satisfied|basic|unsatisfied)\Z")
COMMENT_PATTERN = re.compile(
    rf"^rt:c:{NUMBER_GROUP}:(quick|clear|polite|unclear|slow|still|skip)\Z"
)
REOPEN_PATTERN = re.compile(rf"^rt:r:{NUMBER_GROUP}\Z")
KEEP_PATTERN = re.compile(rf"^rt:k:{NUMBER_GROUP}\Z")

MAX_TEXT = 4096
Step = tuple[str, InlineKeyboardMarkup]  # a step's text and buttons


def answer_message(t: Translator, tracking: str, reply: str, tail: str) -> str:
    """The answer to the request, then `tail` (the rating so far, the question), within the
    length of one message: the answer is shortened if it must be."""
    head = t.gettext(
        "The answer to your request {number}:", number=format_tracking_number(tracking)
    )
    room = MAX_TEXT - len(head) - len(tail) - 4
    if len(reply) > room:
        reply = reply[: max(room - 1, 0)] + "…"
    return f"{head}\n\n{reply}\n\n{tail}" if reply else f"{head}\n\n{tail}"


def _rows(data: str, labels: dict[str, str], codes: tuple[str, ...]) -> list[list[Any]]:
    return [[InlineKeyboardButton(labels[code], callback_data=f"{data}{code}")] for code in codes]


def solved_keyboard(tracking: str, t: Translator) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(label, callback_data=f"rt:s:{tracking}:{code}")
                for code, label in solved_labels(t).items()
            ]
        ]
    )


def reopen_row(tracking: str, t: Translator) -> list[InlineKeyboardButton]:
    return [
        InlineKeyboardButton(t.gettext("Reopen this request"), callback_data=f"rt:r:{tracking}")
    ]


def satisfaction_step(t: Translator, solved: SolvedView) -> Step:
    """After "was it solved": that answer, and "how satisfied?" with its three buttons."""
    labels = satisfaction_labels(t)
    tail = f"{rating_line(t, str(solved.solved))}\n{ask_satisfaction(t)}"
    rows = _rows(f"rt:f:{solved.tracking}:", labels, tuple(labels))
    return answer_message(t, solved.tracking, solved.answer, tail), InlineKeyboardMarkup(rows)


def _line(t: Translator, rating: RatingView, *, comment: bool) -> str:
    shown = rating.comment if comment else None
    return rating_line(t, str(rating.solved), str(rating.satisfaction), shown)


def comment_step(t: Translator, rating: RatingView) -> Step:
    """After "how satisfied": comments that fit that rating, Skip, and Reopen while it may."""
    tracking = rating.tracking
    codes = COMMENTS_FOR[rating.satisfaction]
    rows = _rows(f"rt:c:{tracking}:", comment_labels(t), codes)
    rows.append([InlineKeyboardButton(t.gettext("Skip"), callback_data=f"rt:c:{tracking}:skip")])
    if rating.can_reopen:
        rows.insert(0, reopen_row(tracking, t))
    ask = ask_comment(t, rating.satisfaction, can_reopen=rating.can_reopen)
    tail = f"{_line(t, rating, comment=False)}\n{ask}"
    return answer_message(t, tracking, rating.answer, tail), InlineKeyboardMarkup(rows)


def final_step(t: Translator, rating: RatingView) -> Step:
    """The rating as given; Reopen stays while it may be pressed, else a thank-you."""
    rows = [reopen_row(rating.tracking, t)] if rating.can_reopen else []
    tail = f"{_line(t, rating, comment=True)}\n{offer_reopen(t) if rows else thanks(t)}"
    return answer_message(t, rating.tracking, rating.answer, tail), InlineKeyboardMarkup(rows)


def reason_step(t: Translator, rating: RatingView) -> Step:
    """Reopen pressed: the reason is asked for; Cancel keeps the request as it is."""
    keep = InlineKeyboardButton(t.gettext("Cancel"), callback_data=f"rt:k:{rating.tracking}")
    tail = f"{_line(t, rating, comment=True)}\n{ask_reason(t)}"
    return answer_message(t, rating.tracking, rating.answer, tail), InlineKeyboardMarkup([[keep]])


def reopened_step(t: Translator, rating: RatingView, reason: str) -> Step:
    """Reopened with the citizen's reason: no buttons left."""
    shown = reason if len(reason) <= 500 else reason[:499] + "…"
    tail = f"{_line(t, rating, comment=True)}\n{reopened_with(t, shown)}"
    return answer_message(t, rating.tracking, rating.answer, tail), InlineKeyboardMarkup([])


def refusal(t: Translator, error: Exception) -> str:
    """Why a press (or a reason) changed nothing."""
    if isinstance(error, RatingAlreadyGiven):
        return t.gettext("Your rating was already recorded.")
    if isinstance(error, ReopenTooLate):
        return t.gettext("It is too late to reopen this request.")
    if isinstance(error, CaseChangedMeanwhile):
        return t.gettext("This request was already handled.")
    if isinstance(error, CommentDoesNotFit):
        return t.gettext("This button has expired.")
    return t.gettext("This request cannot be rated now.")


async def show_step(
    update: Update, context: MinshengContext, chat_id: int, message_id: int, step: Step
) -> None:
    """Write the rating message afresh: its text and its buttons in one edit."""
    text, markup = step
    params = {
        "chat_id": chat_id,
        "message_id": message_id,
        "text": text,
        "reply_markup": {"inline_keyboard": [], **markup.to_dict()},
    }
    await call(update, context, "editMessageText", params)


async def show_pressed(
    update: Update, context: MinshengContext, step: Step, toast: str = ""
) -> None:
    """Stop the spinner (with a short notice) and write the pressed message as `step`."""
    await answer_button(update, context, toast)
    message = query_of(update).message
    if message is not None:
        await show_step(update, context, message.chat.id, message.message_id, step)
