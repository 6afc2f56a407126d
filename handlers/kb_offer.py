"""Answers before a request (即时答复): knowledge-base articles offered to a citizen's question.

    description in (any kind) ──articles fit?──no──▶ the request goes on (photos …)
                                     │ yes: up to 3 articles, "This answers my question",
                                     │      "File my request anyway"
                                     ├──an article──▶ it opens: title, body, 👍 / 👎, same choices
                                     ├──answers──▶ a deflection: no case, no number, draft ends
                                     └──file anyway──▶ the request goes on where it was; at
                                                       Submit the case notes the offer
    free text outside a request ──articles fit?──▶ the same offer, "Start a request" instead

The offer's row (storage.kb_offers) keeps the codes offered, never the question's words. Its
buttons (`kq:<verb>:<offer>[:<i>]`) are answered by handlers.kb_buttons.
"""

from __future__ import annotations

import re
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.context import MinshengContext
from bot.i18n import Translator
from handlers.common import send, user_of
from handlers.intake_data import after_details, save
from storage.drafts import DraftView, Step
from storage.kb_offers import offer_tag
from storage.knowledge import (
    ArticleView,
    open_offer,
    search,
)

PATTERN = re.compile(r"^kq:([oudyfs]):([0-9]{1,18})(?::([0-9]))?\Z")
BUTTON_TITLE_MAX = 60  # characters of an article's title on its button
QUESTION_MIN = 4  # shorter free text ("hi", "ok") is not searched


def choice_data(verb: str, offer: int, index: int | None = None) -> str:
    """The callback data of an offer's button (at most 27 bytes)."""
    return f"kq:{verb}:{offer}" + ("" if index is None else f":{index}")


def _short(title: str) -> str:
    return title if len(title) <= BUTTON_TITLE_MAX else title[: BUTTON_TITLE_MAX - 1] + "…"


def choices(t: Translator, offer: int, channel: str, index: int | None) -> list[list[Any]]:
    onward = (
        (t.gettext("File my request anyway"), "f")
        if channel == "intake"
        else (t.gettext("Start a request"), "s")
    )
    return [
        [
            InlineKeyboardButton(
                t.gettext("This answers my question"), callback_data=choice_data("y", offer, index)
            )
        ],
        [InlineKeyboardButton(onward[0], callback_data=choice_data(onward[1], offer))],
    ]


async def _offer(
    update: Update,
    context: MinshengContext,
    t: Translator,
    found: list[ArticleView],
    channel: str,
    draft: DraftView | None,
) -> int:
    """Record the offer and send its message; returns the offer's id."""
    data = draft.data if draft is not None else {}
    offer = await open_offer(
        channel,
        [a.code for a in found],
        language=t.language,
        now=context.services.clock.now(),
        citizen_id=user_of(update).id,
        kind=str(data["kind"]) if data.get("kind") else None,
        category_code=str(data["category"]) if data.get("category") else None,
    )
    if channel == "intake":
        text = t.gettext(
            "These articles may already answer your question. Open one to read it; if none "
            "of them helps, file your request anyway."
        )
    else:
        text = t.gettext(
            "These articles may answer your question. Open one to read it, or start a request "
            "if none of them helps."
        )
    rows = [
        [InlineKeyboardButton(f"📄 {_short(a.title)}", callback_data=choice_data("o", offer, i))]
        for i, a in enumerate(found)
    ]
    await send(
        update,
        context,
        text,
        markup=InlineKeyboardMarkup(rows + choices(t, offer, channel, None)),
        about=offer_tag(offer),
    )
    return offer


async def offer_at_intake(
    update: Update,
    context: MinshengContext,
    t: Translator,
    draft: DraftView,
    text: str,
    changes: dict[str, Any],
    *,
    natural: Step = Step.PHOTOS,
) -> bool:
    """The description is in: offer the articles that fit (once per request). True when an
    offer was made: the draft keeps the description and waits at this step for the choice;
    "File anyway" goes on to `natural` (or back to the summary in an edit)."""
    if draft.data.get("kb_offer") is not None:
        return False
    default = context.services.settings.default_language
    category = draft.data.get("category")
    found = await search(
        text, t.language, default, category=category if isinstance(category, str) else None
    )
    if not found:
        return False
    offer = await _offer(update, context, t, found, "intake", draft)
    after = after_details(draft, natural)
    await save(context, draft, Step.DESCRIPTION, **changes, kb_offer=offer, kb_next=str(after))
    return True


async def offer_for_text(
    update: Update, context: MinshengContext, t: Translator, text: str
) -> bool:
    """Free text outside a request: offer the articles that fit (True when offered)."""
    if len(text.strip()) < QUESTION_MIN:
        return False
    found = await search(text, t.language, context.services.settings.default_language)
    if not found:
        return False
    await _offer(update, context, t, found, "text", None)
    return True
