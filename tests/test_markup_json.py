"""The reply markup of a queued message is written as PTB's own `to_dict` writes it, whether
its buttons take the direct way (text and callback data alone) or PTB's."""

from __future__ import annotations

import json

import pytest
from telegram import (
    CopyTextButton,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    LoginUrl,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    WebAppInfo,
)

from handlers.common import Markup, markup_json

PLAIN = InlineKeyboardButton("Heating", callback_data="in:d:1")
MARKUPS: list[Markup] = [
    InlineKeyboardMarkup([]),
    InlineKeyboardMarkup([[]]),
    InlineKeyboardMarkup([[], [PLAIN]]),
    InlineKeyboardMarkup([[PLAIN]]),
    InlineKeyboardMarkup([[PLAIN, InlineKeyboardButton("供暖", callback_data="in:d:2")], [PLAIN]]),
    InlineKeyboardMarkup([[InlineKeyboardButton("Map", url="https://example.org/?a=1")]]),
    InlineKeyboardMarkup([[PLAIN, InlineKeyboardButton("Share", switch_inline_query="x")]]),
    InlineKeyboardMarkup([[InlineKeyboardButton("App", web_app=WebAppInfo("https://e.org"))]]),
    InlineKeyboardMarkup([[InlineKeyboardButton("In", login_url=LoginUrl("https://e.org"))]]),
    InlineKeyboardMarkup([[InlineKeyboardButton("Copy", copy_text=CopyTextButton("ABCD"))]]),
    InlineKeyboardMarkup([[InlineKeyboardButton("Pay", pay=True)]]),
    InlineKeyboardMarkup([[InlineKeyboardButton("Here", switch_inline_query_current_chat="")]]),
    InlineKeyboardMarkup([[PLAIN]], api_kwargs={"extra": 1}),
    InlineKeyboardMarkup([[InlineKeyboardButton("X", callback_data="x", api_kwargs={"y": 2})]]),
    ReplyKeyboardMarkup([[KeyboardButton("Send location", request_location=True)]]),
    ReplyKeyboardMarkup([["Skip"]], one_time_keyboard=True, resize_keyboard=True),
    ReplyKeyboardRemove(),
]


@pytest.mark.parametrize("markup", MARKUPS, ids=range(len(MARKUPS)))
def test_the_markup_is_written_as_ptb_writes_it(markup: Markup) -> None:
    assert markup_json(markup) == markup.to_dict()
    # The same text once encoded: the same keys in the same order, all the way down.
    assert json.dumps(markup_json(markup)) == json.dumps(markup.to_dict())
