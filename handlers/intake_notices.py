"""The notices about drafts that the sweeps send: a reminder, and word that one was discarded."""

from __future__ import annotations

from typing import Any

from bot.i18n import Translator
from handlers.intake_data import data
from handlers.intake_prompts import inline
from handlers.menu import main_menu
from handlers.rendered import Rendered


async def render_draft_reminder(params: dict[str, Any], t: Translator) -> Rendered:
    text = t.gettext(
        "You started a request and have not finished it. Continue where you left "
        "off, or discard it? Unfinished requests are discarded after 7 days."
    )
    rows = [[(t.gettext("Continue"), data("go")), (t.gettext("Discard"), data("drop"))]]
    return Rendered("sendMessage", {"text": text, "reply_markup": inline(rows).to_dict()})


async def render_draft_discarded(params: dict[str, Any], t: Translator) -> Rendered:
    text = t.gettext(
        "Your unfinished request was discarded after 7 days without changes. You "
        "can start a new one at any time with New request."
    )
    return Rendered("sendMessage", {"text": text, "reply_markup": main_menu(t).to_dict()})
