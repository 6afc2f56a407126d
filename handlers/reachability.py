"""What the staff chat is told when a citizen can no longer be reached (RELIABILITY row 14).

Storage decides when (once each time a citizen becomes unreachable, storage.reachability);
this is the text, in the staff chat's language.
"""

from __future__ import annotations

from typing import Any

from bot.i18n import Translator
from handlers.rendered import Rendered
from storage.tracking import format_tracking_number


async def render_citizen_unreachable(params: dict[str, Any], t: Translator) -> Rendered:
    """ "staff_citizen_unreachable": the citizen's open cases, and that the bot cannot reach
    them."""
    trackings = [str(tracking) for tracking in params.get("trackings") or ()]
    numbers = ", ".join(format_tracking_number(tracking) for tracking in trackings)
    text = t.ngettext(
        "The citizen of request {numbers} can no longer be reached by the bot: they blocked "
        "it or deleted their Telegram account. The request goes on, but nothing sent to them "
        "arrives until they write to the bot again.",
        "The citizen of requests {numbers} can no longer be reached by the bot: they blocked "
        "it or deleted their Telegram account. The requests go on, but nothing sent to them "
        "arrives until they write to the bot again.",
        len(trackings),
        numbers=numbers,
    )
    return Rendered("sendMessage", {"text": text})
