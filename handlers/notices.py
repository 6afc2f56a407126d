"""Notice renderers: the text and buttons of every message that a storage operation sends.

Each kind maps to a function that turns the notice's facts into one Bot API call, in the
recipient's language. The sender calls `render_notice` just before it sends the row.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot.i18n import Translator


@dataclass(frozen=True)
class Rendered:
    method: str  # e.g. "sendMessage"
    params: dict[str, Any]  # Bot API parameters without chat_id


Renderer = Callable[[dict[str, Any], Translator], Awaitable[Rendered]]


class NoticeUnknown(Exception):
    """A notice kind that no renderer knows: a programming error, reported, not retried."""


def renderers() -> dict[str, Renderer]:
    """Every notice kind and its renderer, in one place."""
    return {}


async def render_notice(kind: str, params: dict[str, Any], t: Translator) -> Rendered:
    renderer = renderers().get(kind)
    if renderer is None:
        raise NoticeUnknown(kind)
    return await renderer(params, t)
