"""The timeline's sentences for what the desk itself noted on a case, outside its lifecycle:
the knowledge-base articles offered before it was filed, a repeat of a closed request, a
late acceptance, a phone case claimed in the chat.

Staff read these alone (the events are internal, and the citizen's timeline,
storage.citizen_timeline, shows none of them). Articles are named by their titles in the
reader's language, else by their codes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.i18n import Translator
from bot.texts.cases import when
from storage.kb_offers import OFFERED_EVENT
from storage.knowledge import KbArticleNotFound, article


async def system_sentence(
    t: Translator, kind: str, actor: str, payload: dict[str, Any], zone: ZoneInfo
) -> str | None:
    """The sentence of one of these events, or None for a kind that is not one of them."""
    if kind == OFFERED_EVENT:
        return await _offered(t, payload)
    if kind == "repeat":
        return t.gettext(
            "The request repeats a recently closed one: {number}", number=payload.get("of", "—")
        )
    if kind == "accept_escalated":
        due = payload.get("accept_due_at")
        if isinstance(due, str):
            due = datetime.fromisoformat(due)
        return t.gettext(
            "Escalated to the supervisors: not accepted by {due}",
            due=when(due, zone, t.language) if isinstance(due, datetime) else "—",
        )
    if kind == "claimed":
        return t.gettext("{actor} claimed the request in the chat", actor=actor)
    return None


async def _offered(t: Translator, payload: dict[str, Any]) -> str:
    offered = [str(code) for code in payload.get("offered") or []]
    opened = [str(code) for code in payload.get("opened") or []]
    sep = t.gettext("; ")
    titles = {code: await _title(t, code) for code in {*offered, *opened}}
    said = t.gettext(
        "The knowledge base offered: {articles}",
        articles=sep.join(titles[code] for code in offered) or "—",
    )
    if opened:
        read = t.gettext(
            "the citizen opened: {articles}", articles=sep.join(titles[c] for c in opened)
        )
    else:
        read = t.gettext("the citizen opened none")
    return t.gettext(
        "{offered}; {opened}; the request was filed anyway", offered=said, opened=read
    )


async def _title(t: Translator, code: str) -> str:
    try:
        found = await article(code, t.language, t.language)
    except KbArticleNotFound:
        return code
    return t.gettext("“{title}”", title=found.title) if found.title else code
