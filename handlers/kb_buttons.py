"""The buttons of an offer of knowledge-base articles (handlers.kb_offer makes the offers):
open an article, 👍 / 👎, "This answers my question", "File my request anyway", "Start a
request".

Every button names its offer and, for an article, an index into the offer's list
(`kq:<verb>:<offer>[:<i>]`). Storage checks that the offer is the presser's; intake's choices
also need it to be the offer the draft is waiting on, and a decision needs it still open. So a
forged button (another citizen's offer) or an old one changes nothing and is answered "expired".
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.context import MinshengApp, MinshengContext
from bot.i18n import Translator
from bot.texts.my_data import language_name
from handlers.buttons import ButtonHandler, button_match, edit_markup, query_of
from handlers.common import answer_button, call, send, user_of, who
from handlers.intake_data import save
from handlers.intake_prompts import ask
from handlers.kb_offer import PATTERN, choice_data, choices
from handlers.menu import main_menu
from storage.drafts import INTAKE_STEPS, DraftView, Step, current_draft, discard_draft, set_draft
from storage.kb_offers import offer_messages, offer_tag
from storage.knowledge import (
    KbOfferNotFound,
    OfferView,
    answered,
    article,
    offer_for,
    offer_opened,
    vote,
)


async def on_kb_button(update: Update, context: MinshengContext) -> None:
    """An offer's button: checked to be the presser's own offer, then handed to its action."""
    if (found := await button_match(update, context, PATTERN)) is None:
        return
    verb, offer_id = found.group(1), int(found.group(2))
    index = int(found.group(3)) if found.group(3) is not None else None
    citizen, t = await who(update, context)
    try:
        offer = await offer_for(offer_id, citizen.id)
    except KbOfferNotFound:
        offer = None
    draft = await current_draft(citizen.id)
    if (
        offer is None
        or (index is not None and index >= len(offer.offered))
        or not _current(offer, draft, verb)
    ):
        await answer_button(update, context, t.gettext("This button has expired."))
        return
    notice = await ACTIONS[verb](update, context, t, offer, index, draft)
    await answer_button(update, context, notice)


def _current(offer: OfferView, draft: DraftView | None, verb: str) -> bool:
    """Whether the press still means something: a decision needs an open offer, and at intake
    the offer the draft is waiting on."""
    if verb in ("o", "u", "d"):
        return True  # reading and voting stay possible on an offer of one's own
    if offer.outcome is not None:
        return False
    if offer.channel == "intake":
        return (
            draft is not None
            and draft.step is Step.DESCRIPTION
            and draft.data.get("kb_offer") == offer.id
        )
    return verb in ("y", "s")


async def _open(
    update: Update,
    context: MinshengContext,
    t: Translator,
    offer: OfferView,
    index: int | None,
    draft: DraftView | None,
) -> str:
    if index is None:
        return t.gettext("This button has expired.")
    code = offer.offered[index]
    await offer_opened(
        offer.id, code, now=context.services.clock.now(), citizen_id=offer.citizen_id
    )
    shown = await article(code, t.language, context.services.settings.default_language)
    parts = [f"<b>{html.escape(shown.title)}</b>", html.escape(shown.body)]
    if shown.fallback:
        note = t.gettext(
            "This article has no text in your language; it is shown in {language}.",
            language=language_name(shown.language, t),
        )
        parts.insert(0, f"<i>{html.escape(note)}</i>")
    rows = _votes(offer, index)
    if offer.outcome is None:
        rows += choices(t, offer.id, offer.channel, index)
    markup = InlineKeyboardMarkup(rows) if rows else None
    await send(
        update,
        context,
        "\n\n".join(parts),
        markup=markup,
        parse_mode="HTML",
        about=offer_tag(offer.id, index),
    )
    return ""


def _votes(offer: OfferView, index: int) -> list[list[Any]]:
    """👍 / 👎 on article `index`, unless it was rated through this offer already."""
    if offer.offered[index] in offer.voted:
        return []
    return [
        [
            InlineKeyboardButton("👍", callback_data=choice_data("u", offer.id, index)),
            InlineKeyboardButton("👎", callback_data=choice_data("d", offer.id, index)),
        ]
    ]


async def _decided(update: Update, context: MinshengContext, offer: OfferView) -> None:
    """The offer is decided (or left for a request): its message and every article opened
    from it lose their decision buttons, the pressed one included; an article keeps 👍 / 👎
    until it is rated. Each edit is queued in the outbox like every other."""
    pressed = query_of(update).message
    here = (pressed.chat.id, pressed.message_id) if pressed is not None else None
    sent = await offer_messages(offer)
    if here is not None and here not in {(m.chat_id, m.message_id) for m in sent}:
        await edit_markup(update, context, InlineKeyboardMarkup([]))  # sent before tagging
    for message in sent:
        rows = [] if message.index is None else _votes(offer, message.index)
        await call(
            update,
            context,
            "editMessageReplyMarkup",
            {
                "chat_id": message.chat_id,
                "message_id": message.message_id,
                "reply_markup": {"inline_keyboard": [], **InlineKeyboardMarkup(rows).to_dict()},
            },
        )


async def _vote(
    update: Update,
    context: MinshengContext,
    t: Translator,
    offer: OfferView,
    index: int | None,
    draft: DraftView | None,
    *,
    helpful: bool,
) -> str:
    if index is None:
        return t.gettext("This button has expired.")
    counted = await vote(
        offer.offered[index], helpful, offer_id=offer.id, citizen_id=offer.citizen_id
    )
    if not counted:
        return t.gettext("You have already rated this article.")
    rows = [] if offer.outcome is not None else choices(t, offer.id, offer.channel, index)
    await edit_markup(update, context, InlineKeyboardMarkup(rows))
    return t.gettext("Thank you for your feedback.")


async def _answered(
    update: Update,
    context: MinshengContext,
    t: Translator,
    offer: OfferView,
    index: int | None,
    draft: DraftView | None,
) -> str:
    code = offer.offered[index] if index is not None else None
    try:
        await answered(
            offer.id, code, now=context.services.clock.now(), citizen_id=offer.citizen_id
        )
    except KbOfferNotFound:
        return t.gettext("This button has expired.")
    if offer.channel == "intake" and draft is not None:
        await discard_draft(draft.citizen_id)
    await _decided(update, context, offer)
    thanks = t.gettext(
        "Glad it helped. Nothing was filed, so there is no tracking number to keep. If you "
        "need anything else, start a request from the menu."
    )
    await send(update, context, thanks, markup=main_menu(t))
    return ""


async def _file_anyway(
    update: Update,
    context: MinshengContext,
    t: Translator,
    offer: OfferView,
    index: int | None,
    draft: DraftView | None,
) -> str:
    if draft is None:
        return t.gettext("This button has expired.")
    await _decided(update, context, offer)
    moved = await save(
        context, draft, Step(str(draft.data.get("kb_next") or Step.PHOTOS)), kb_next=None
    )
    await ask(update, context, t, moved)
    return ""


async def _start(
    update: Update,
    context: MinshengContext,
    t: Translator,
    offer: OfferView,
    index: int | None,
    draft: DraftView | None,
) -> str:
    if draft is not None and draft.step in INTAKE_STEPS:
        return t.gettext(
            "You already have a request in progress; please finish or cancel it first."
        )
    await _decided(update, context, offer)
    # The new request carries the offer: filing it counts as "filed anyway" (the gaps figure).
    started = await set_draft(
        user_of(update).id, Step.KIND, {"kb_offer": offer.id}, now=context.services.clock.now()
    )
    await ask(update, context, t, started)
    return ""


# What a button does: (update, context, t, offer, article index, draft) -> the pop-up notice.
Action = Callable[
    [Update, MinshengContext, Translator, OfferView, int | None, DraftView | None],
    Awaitable[str],
]
ACTIONS: dict[str, Action] = {
    "o": _open,
    "u": partial(_vote, helpful=True),
    "d": partial(_vote, helpful=False),
    "y": _answered,
    "f": _file_anyway,
    "s": _start,
}


def handlers(app: MinshengApp) -> list[Any]:
    """The offer's buttons, for register() (before the "expired" catch-all)."""
    return [ButtonHandler(on_kb_button, pattern=PATTERN)]
