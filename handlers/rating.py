"""The callback (回访): the rating buttons on the answer's message, and what the citizen is told.

    answer: "Was your problem solved?" ──Solved/Partly/Not solved──▶
    "Your rating: Solved. How satisfied…?" ──Satisfied/Basically satisfied──▶ closed;
        "Your rating: Solved · Satisfied. A comment?" (praise) · Skip ──▶ the rating as given
    ──Unsatisfied──▶ complaints · Skip, and Reopen (within 7 days) ──▶ handlers.rating_reopen

Each press writes the message afresh, text and buttons together (handlers.rating_messages), so
the question always matches its buttons. Every press is checked again in storage.rating (the
data comes from the client): a case that is not the presser's, not answered, or already rated
changes nothing, and a press that comes twice counts once.
"""

from __future__ import annotations

import re
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.context import MinshengApp, MinshengContext
from bot.i18n import SOURCE, Translator
from bot.texts.ratings import comment_labels, comments_fitting
from handlers import rating_reopen
from handlers.buttons import ButtonHandler, button_match
from handlers.common import answer_button, user_of, who
from handlers.rating_messages import (
    COMMENT_PATTERN,
    MAX_TEXT,
    SATISFACTION_PATTERN,
    SOLVED_PATTERN,
    answer_message,
    comment_step,
    final_step,
    refusal,
    satisfaction_step,
    show_pressed,
    solved_keyboard,
)
from handlers.rendered import Rendered
from storage.case_views import CaseNotFound
from storage.rating import (
    CaseChangedMeanwhile,
    RatingRefused,
    add_comment,
    rate_satisfaction,
    rate_solved,
    rating_given,
)
from storage.tracking import format_tracking_number


async def matched(
    update: Update, context: MinshengContext, pattern: re.Pattern[str]
) -> tuple[re.Match[str], Translator, int] | None:
    """A rating button's data, matched, with the presser's translator and id; else "expired"."""
    if (found := await button_match(update, context, pattern)) is None:
        return None
    return found, (await who(update, context))[1], user_of(update).id


async def on_solved(update: Update, context: MinshengContext) -> None:
    """Was it solved: kept, and the second question asked."""
    if (got := await matched(update, context, SOLVED_PATTERN)) is None:
        return
    found, t, user_id = got
    try:
        solved = await rate_solved(
            found.group(1), user_id, found.group(2), now=context.services.clock.now()
        )
    except (CaseNotFound, RatingRefused) as error:
        await answer_button(update, context, refusal(t, error))
        return
    await show_pressed(update, context, satisfaction_step(t, solved))


async def on_satisfaction(update: Update, context: MinshengContext) -> None:
    """How satisfied: the rating is written (closing the case unless unsatisfied)."""
    if (got := await matched(update, context, SATISFACTION_PATTERN)) is None:
        return
    found, t, user_id = got
    now = context.services.clock.now()
    try:
        rating = await rate_satisfaction(found.group(1), user_id, found.group(2), now=now)
    except (CaseNotFound, RatingRefused, CaseChangedMeanwhile) as error:
        await answer_button(update, context, refusal(t, error))
        return
    thanks = t.gettext("Thank you for your rating.")
    await show_pressed(update, context, comment_step(t, rating), thanks)


async def on_comment(update: Update, context: MinshengContext) -> None:
    """A suggested comment that fits the rating (or Skip): kept once; the rating as given."""
    if (got := await matched(update, context, COMMENT_PATTERN)) is None:
        return
    found, t, user_id = got
    tracking, code = found.group(1), found.group(2)
    now = context.services.clock.now()
    toast = ""
    try:
        if code != "skip":
            comment = comment_labels(SOURCE)[code]
            fits = comments_fitting(code)
            if await add_comment(tracking, user_id, comment, now=now, fits=fits):
                toast = t.gettext("Thank you for your comment.")
        rating = await rating_given(tracking, user_id, now=now)
    except (CaseNotFound, RatingRefused) as error:
        await answer_button(update, context, refusal(t, error))
        return
    await show_pressed(update, context, final_step(t, rating), toast)


def handlers(app: MinshengApp) -> list[Any]:
    """The rating buttons, for register() (before the "expired" catch-all)."""
    return [
        ButtonHandler(on_solved, pattern=SOLVED_PATTERN),
        ButtonHandler(on_satisfaction, pattern=SATISFACTION_PATTERN),
        ButtonHandler(on_comment, pattern=COMMENT_PATTERN),
        *rating_reopen.handlers(),
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
    tracking = str(params["tracking"])
    question = t.gettext("Was your problem solved?")
    text = answer_message(t, tracking, str(params["text"]), question)
    return _message(text, solved_keyboard(tracking, t))


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
    """ "staff_case_reopened" {tracking, reason?}: to the staff chat, with the citizen's reason."""
    if params.get("reason"):
        return _message(
            t.gettext(
                "Request {number} was reopened by the citizen, who was not satisfied with the "
                "answer. Their reason: “{reason}”",
                number=_number(params),
                reason=str(params["reason"]),
            )
        )
    return _message(
        t.gettext(
            "Request {number} was reopened by the citizen, who was not satisfied with the answer.",
            number=_number(params),
        )
    )
