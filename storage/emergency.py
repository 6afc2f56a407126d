"""Emergencies: the numbers to call, the words that mean one, and where the desk serves.

A desk for city services must never sit on a fire: categories marked as emergencies and
descriptions that mention one are answered with the emergency numbers instead of being filed.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from storage.catalog_checks import LANGS, Checker, is_number, localized


@dataclass(frozen=True)
class EmergencyNumber:
    number: str
    names: Mapping[str, str]

    def name(self, lang: str) -> str:
        return localized(self.names, lang)


@dataclass(frozen=True)
class EmergencyInfo:
    numbers: tuple[EmergencyNumber, ...]
    keywords: Mapping[str, tuple[str, ...]]  # by language; all are matched, whatever the user's


@dataclass(frozen=True)
class ServiceArea:
    center_lat: float
    center_lon: float
    radius_km: float

    def contains(self, lat: float, lon: float) -> bool:
        """Whether a point lies within the radius (great-circle distance)."""
        p1, p2 = math.radians(self.center_lat), math.radians(lat)
        dp, dl = p2 - p1, math.radians(lon - self.center_lon)
        h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
        return 2 * 6371.0 * math.asin(math.sqrt(min(1.0, h))) <= self.radius_km


def _fold(text: str) -> str:
    # NFKC folds fullwidth forms; Russians often write е for ё.
    return unicodedata.normalize("NFKC", text).casefold().replace("ё", "е")


def _unspaced(ch: str) -> bool:
    """Scripts written without spaces between words (Chinese, Japanese)."""
    return unicodedata.east_asian_width(ch) in ("W", "F")


def _pattern(keywords: list[str]) -> re.Pattern[str]:
    """One pattern for many keywords.

    Chinese has no spaces, so a Chinese keyword is a plain substring (spaces in the text
    between its characters tolerated). Other keywords match whole words, so "fire" does not
    fire on "firewall" or "fireworks"; a trailing * on a word allows any ending, for
    inflected languages ("утечк* газ*" matches "утечка газа", "утечку газа").
    """
    parts = []
    for keyword in keywords:
        folded = _fold(keyword)
        if any(_unspaced(ch) for ch in folded):
            parts.append(r"\s*".join(re.escape(ch) for ch in folded if not ch.isspace()))
        elif folded.split():
            first, *rest = folded.split()
            # Its first letter, then the look back for a letter before it: as every keyword
            # starts with a literal, the search skips the places where none can start (a
            # description against the sample catalogue's keywords: 380 → 39 µs).
            head = re.escape(first[0]) + r"(?<!\w.)" + _word(first[1:])
            parts.append(r"\s+".join([head, *map(_word, rest)]) + r"(?!\w)")
    return re.compile("|".join(parts) if parts else r"(?!)")


def _word(word: str) -> str:
    return re.escape(word.removesuffix("*")) + (r"\w*" if word.endswith("*") else "")


@functools.lru_cache(maxsize=16)
def _patterns(keywords: tuple[str, ...]) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """What to look for, and the exceptions (keywords starting with !) to blank out first."""
    exceptions = [k.removeprefix("!") for k in keywords if k.startswith("!")]
    return _pattern([k for k in keywords if not k.startswith("!")]), _pattern(exceptions)


def matches_emergency(text: str, info: EmergencyInfo) -> bool:
    """Whether text mentions an emergency, by any language's keywords (case-insensitive).

    Exceptions ("!fire exit*", "!火灾隐患") are removed from the text before the search, so a
    complaint about a blocked fire exit is filed, while "fire exit blocked, and a fire on the
    3rd floor" still diverts.
    """
    keywords = tuple(sorted({word for words in info.keywords.values() for word in words}))
    wanted, exceptions = _patterns(keywords)
    return wanted.search(exceptions.sub(" ", _fold(text))) is not None


_PHONE = re.compile(r"[0-9+][0-9 -]*")


def check_emergency(check: Checker, value: object) -> dict[str, Any]:
    where = "emergency"
    table = check.table(value, where, {"numbers", "keywords"})
    numbers = []
    for i, item in enumerate(check.items(table, "numbers", where), start=1):
        entry = check.table(item, f"{where} number #{i}", {"number", "names"})
        number = entry.get("number")
        if not isinstance(number, str) or not _PHONE.fullmatch(number):
            check.fail(
                f"{where} number #{i}", f"number must be a phone number as text: {number!r}"
            )
        numbers.append({"number": number, "names": check.names(entry.get("names"), where)})
    if not numbers:
        check.fail(where, "lists no emergency numbers")
    keywords = check.table(table.get("keywords"), f"{where} keywords", set(LANGS))
    by_lang: dict[str, list[str]] = {}
    for lang in LANGS:
        words = keywords.get(lang)
        if not isinstance(words, list) or not words:
            check.fail(f"{where} keywords", f"{lang} needs a list of keywords")
            continue
        by_lang[lang] = [check.text(w, f"{where} keywords", lang) for w in words]
        for word in by_lang[lang]:
            parts = word.removeprefix("!").split()
            if not parts or any(p == "*" or "*" in p[:-1] or "!" in p for p in parts):
                check.fail(f"{where} keywords", f"{word!r}: * may only end a word, ! start one")
    return {"numbers": numbers, "keywords": by_lang}


def check_service_area(check: Checker, value: object) -> dict[str, Any] | None:
    """A circle is all the check needs: "is this location plausibly in our city"."""
    if value is None:
        return None
    where = "service_area"
    table = check.table(value, where, {"center", "radius_km"})
    center, radius = table.get("center"), table.get("radius_km")
    if not (
        isinstance(center, list)
        and len(center) == 2
        and all(is_number(p) for p in center)
        and -90 <= center[0] <= 90
        and -180 <= center[1] <= 180
    ):
        check.fail(where, f"center must be [latitude, longitude], got {center!r}")
    if not is_number(radius) or not 0 < radius <= 1000:
        check.fail(where, f"radius_km must be a number of kilometres, got {radius!r}")
    return {"center": center, "radius_km": radius}
