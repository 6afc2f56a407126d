"""What a notice renderer returns, and the desk's time zone while it runs.

The renderers live with their features (case_card, rating, ...); handlers.notice_renderers maps
each notice kind to one and runs it inside `rendering_in`, so that dates show in the desk's zone.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from bot.i18n import Translator
from bot.texts.maps import MapService


@dataclass(frozen=True)
class Rendered:
    method: str  # e.g. "sendMessage"
    params: dict[str, Any]  # Bot API parameters without chat_id


Renderer = Callable[[dict[str, Any], Translator], Awaitable[Rendered]]

# The desk's time zone while a notice is rendered (dates are shown in it), and its map service.
_zone: ContextVar[ZoneInfo] = ContextVar("notice_zone")
_maps: ContextVar[MapService] = ContextVar("notice_maps")
_default: ContextVar[str] = ContextVar("notice_default_language")


def notice_zone() -> ZoneInfo:
    return _zone.get(None) or ZoneInfo("UTC")


def notice_maps() -> MapService:
    return _maps.get("osm")


def notice_default_language() -> str:
    """The desk's default language (what a text missing in the reader's language falls to)."""
    return _default.get("en")


@contextmanager
def rendering_in(zone: ZoneInfo, maps: MapService = "osm", default: str = "en") -> Iterator[None]:
    """Within the block, notice_zone() is `zone`, notice_maps() is `maps` and
    notice_default_language() is `default`."""
    token, maps_token, default_token = _zone.set(zone), _maps.set(maps), _default.set(default)
    try:
        yield
    finally:
        _zone.reset(token)
        _maps.reset(maps_token)
        _default.reset(default_token)
