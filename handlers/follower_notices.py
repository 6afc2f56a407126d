"""What a follower is told: that they joined a request, and each time it moves (storage.followers
decides which moves and which facts). A follower hears that the request was answered, never the
answer, which was written to the citizen who filed it; a published request's public note goes
along with its answer or rejection. No buttons but "See its progress": rating and answering
the department's questions are the filer's.
"""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.i18n import Translator
from bot.texts.cases import department_name
from handlers.case_card import case_data
from handlers.rendered import Rendered
from storage.tracking import format_tracking_number

MAX_TEXT = 4096


def _number(params: dict[str, Any]) -> str:
    return format_tracking_number(str(params["tracking"]))


def _message(text: str, params: dict[str, Any], t: Translator) -> Rendered:
    """The notice, with the department's public note below it when there is one."""
    note = params.get("note")
    if isinstance(note, str) and note.strip():
        text = "\n\n".join([text, t.gettext("Note from the department: {note}", note=note)])
    return Rendered("sendMessage", {"text": text[:MAX_TEXT]})


async def render_case_joined(params: dict[str, Any], t: Translator) -> Rendered:
    """ "case_joined" {tracking}: the citizen now follows the case instead of filing their own."""
    tracking = str(params["tracking"])
    text = t.gettext(
        "You joined request {number}; nothing new was filed. You will be told when it is "
        "accepted, answered and closed. Look it up any time with /status {number}.",
        number=format_tracking_number(tracking),
    )
    label = t.gettext("See its progress")
    markup = InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=case_data(tracking))]]
    )
    return Rendered("sendMessage", {"text": text, "reply_markup": markup.to_dict()})


async def render_followed_case_accepted(params: dict[str, Any], t: Translator) -> Rendered:
    """ "followed_case_accepted" {tracking, department}."""
    department = await department_name(params.get("department"), t)
    return _message(
        t.gettext(
            "Request {number}, which you follow, was accepted and passed to {department}.",
            number=_number(params),
            department=department,
        ),
        params,
        t,
    )


async def render_followed_case_answered(params: dict[str, Any], t: Translator) -> Rendered:
    """ "followed_case_answered" {tracking, note?}: answered; the answer is not a follower's."""
    return _message(
        t.gettext(
            "Request {number}, which you follow, was answered. The answer goes to the citizen who "
            "filed it; if your situation differs, file a request of your own.",
            number=_number(params),
        ),
        params,
        t,
    )


async def render_followed_case_rejected(params: dict[str, Any], t: Translator) -> Rendered:
    """ "followed_case_rejected" {tracking, note?}: the reason is the filer's to hear."""
    return _message(
        t.gettext(
            "Request {number}, which you follow, was not accepted. If your problem remains, "
            "file a request of your own.",
            number=_number(params),
        ),
        params,
        t,
    )


async def render_followed_case_closed(params: dict[str, Any], t: Translator) -> Rendered:
    """ "followed_case_closed" {tracking}."""
    return _message(
        t.gettext("Request {number}, which you follow, is closed.", number=_number(params)),
        params,
        t,
    )


async def render_followed_case_reopened(params: dict[str, Any], t: Translator) -> Rendered:
    """ "followed_case_reopened" {tracking}."""
    return _message(
        t.gettext(
            "Request {number}, which you follow, was reopened and is being worked on again.",
            number=_number(params),
        ),
        params,
        t,
    )


async def render_followed_case_merged(params: dict[str, Any], t: Translator) -> Rendered:
    """ "followed_case_merged" {tracking, into}: they follow the other request from now on."""
    into = format_tracking_number(str(params["into"]))
    return _message(
        t.gettext(
            "Request {number}, which you follow, was merged into request {into} about the same "
            "problem. You now follow {into} instead; look it up with /status {into}.",
            number=_number(params),
            into=into,
        ),
        params,
        t,
    )
