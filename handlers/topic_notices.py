"""What the supervisors read in the staff forum's General topic when a department's topic, or
a department's own chat, could not take a card (storage.forum_topics)."""

from __future__ import annotations

from typing import Any

from bot.i18n import Translator
from handlers.rendered import Rendered
from storage.catalog import DepartmentNotFound, department


async def _department_name(code: str, t: Translator) -> str:
    try:
        return (await department(code)).name(t.language)
    except DepartmentNotFound:
        return code


async def render_topic_closed(params: dict[str, Any], t: Translator) -> Rendered:
    """ "staff_topic_closed": the department's topic is closed; its cards come here."""
    name = await _department_name(str(params.get("department")), t)
    text = t.gettext(
        "The topic of {department} is closed, so its new cards come to this general topic "
        "instead. Reopen the topic to have them go there again.",
        department=name,
    )
    return Rendered("sendMessage", {"text": text})


async def render_topic_deleted(params: dict[str, Any], t: Translator) -> Rendered:
    """ "staff_topic_deleted": the department's topic was deleted; the bot opens a new one."""
    name = await _department_name(str(params.get("department")), t)
    text = t.gettext(
        "The topic of {department} was deleted. The bot opens a new topic for it; until then "
        "its cards come to this general topic.",
        department=name,
    )
    return Rendered("sendMessage", {"text": text})


async def render_chat_lost(params: dict[str, Any], t: Translator) -> Rendered:
    """ "staff_department_chat_lost": the bot cannot write to the department's own chat."""
    name = await _department_name(str(params.get("department")), t)
    text = t.gettext(
        "The bot can no longer write to the chat of {department} (it was removed from it, or "
        "the chat is gone), so that department's cards come here instead. Add the bot to the "
        "chat again, or name another chat in the catalogue.",
        department=name,
    )
    return Rendered("sendMessage", {"text": text})
