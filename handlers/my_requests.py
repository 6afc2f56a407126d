"""My requests: the citizen's cases, newest first, five a page; tap one for its details.

    My requests ──▶ page 0 ──my:p:<n>──▶ page n (the same message, edited)
                       └──case:<number>──▶ details (a new message) ──« My requests──▶ page 0

`case:<number>` is also the "See its progress" button under a submit confirmation. Button
data is checked against its pattern and the case against the person pressing (row 24).
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update

from bot.context import MinshengContext
from bot.i18n import Translator
from bot.texts.cases import short_category_name
from handlers.buttons import button_match, pressed_case, query_of
from handlers.case_card import (
    CASE_PATTERN,
    PAGE_PATTERN,
    STATUS_MARKS,
    case_data,
    page_data,
)
from handlers.common import answer_button, call, send, user_of, who
from handlers.tracking import case_answer
from storage.cases import cases_of_citizen
from storage.tracking import format_tracking_number

PER_PAGE = 5
BUTTON_NAME = 24  # characters of the category name on a case's button


async def page_of(
    citizen_id: int, page: int, t: Translator
) -> tuple[str, InlineKeyboardMarkup | None]:
    """One page of the list: a button per case, and Prev/Next where there is more."""
    cases, total = await cases_of_citizen(citizen_id, page=page, per_page=PER_PAGE)
    if total == 0:
        return t.gettext(
            "You have no requests yet. Use New request in the menu to file one."
        ), None
    pages = (total + PER_PAGE - 1) // PER_PAGE
    if not cases:  # a stale Next from a longer list: show the last page
        page = pages - 1
        cases, total = await cases_of_citizen(citizen_id, page=page, per_page=PER_PAGE)
    rows = []
    for case in cases:
        name = await short_category_name(case.category_code, t.language)
        if len(name) > BUTTON_NAME:
            name = name[: BUTTON_NAME - 1] + "…"
        label = f"{STATUS_MARKS[case.status]} {format_tracking_number(case.tracking)} · {name}"
        rows.append([InlineKeyboardButton(label, callback_data=case_data(case.tracking))])
    nav = []
    if page > 0:
        nav.append(InlineKeyboardButton(t.gettext("‹ Newer"), callback_data=page_data(page - 1)))
    if page < pages - 1:
        nav.append(InlineKeyboardButton(t.gettext("Older ›"), callback_data=page_data(page + 1)))
    if nav:
        rows.append(nav)
    text = t.gettext(
        "Your requests, newest first (page {page} of {pages}). Tap one to see where it stands.",
        page=page + 1,
        pages=pages,
    )
    return text, InlineKeyboardMarkup(rows)


async def on_my_requests(update: Update, context: MinshengContext) -> None:
    """The My requests button: the first page of the list."""
    _, t = await who(update, context)
    text, markup = await page_of(user_of(update).id, 0, t)
    await send(update, context, text, markup=markup)


async def on_page(update: Update, context: MinshengContext) -> None:
    """my:p:<n>: show page n in place of the message the button was on."""
    query = query_of(update)
    if (found := await button_match(update, context, PAGE_PATTERN)) is None:
        return
    page = found.group(1)
    _, t = await who(update, context)
    user = user_of(update)
    text, markup = await page_of(user.id, int(page), t)
    await answer_button(update, context)
    if isinstance(query.message, Message) and query.message.chat.id == user.id:
        params = {"chat_id": user.id, "message_id": query.message.message_id, "text": text}
        if markup is not None:
            params["reply_markup"] = markup.to_dict()
        await call(update, context, "editMessageText", params)
    else:
        await send(update, context, text, chat_id=user.id, markup=markup)


async def on_case(update: Update, context: MinshengContext) -> None:
    """case:<number>: the details of the case, if it is the presser's, as a new message."""
    pressed = await pressed_case(update, context, CASE_PATTERN)
    if pressed is None:
        return
    tracking, t, user_id = pressed
    text, markup = await case_answer(context, user_id, t, tracking)
    await send(update, context, text, chat_id=user_id, markup=markup)
