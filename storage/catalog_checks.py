"""The vocabulary for checking a catalogue file: languages, names, and a problem collector."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, TypeGuard

LANGS = ("en", "zh_Hans", "zh_Hant", "ru")
_CODE = re.compile(r"[a-z0-9]+(?:[-_.][a-z0-9]+)*")

Names = dict[str, str]


CODE_MAX = 64  # Department.code and Category.code


def as_code(text: str) -> str:
    """A code to look up: one longer than any stored code matches none (and the ORM refuses to
    compare it with the column), so it becomes the empty code, which no row has."""
    return text if len(text) <= CODE_MAX else ""


def localized(names: Mapping[str, str], lang: str) -> str:
    """The name in a language (`zh-Hans` or `zh_Hans`), else English."""
    return names.get(lang.replace("-", "_")) or names.get("en", "")


class CatalogInvalid(ValueError):
    """The catalogue file has problems; `problems` lists each as (where, what)."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("\n".join(f"{where}: {what}" for where, what in problems))


class Checker:
    """Collects problems instead of stopping at the first one."""

    def __init__(self) -> None:
        self.problems: list[tuple[str, str]] = []

    def fail(self, where: str, what: str) -> None:
        self.problems.append((where, what))

    def table(self, value: object, where: str, allowed: set[str]) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(where, "must be a table")
            return {}
        for key in sorted(set(value) - allowed):
            self.fail(where, f"unknown key {key!r} (known: {', '.join(sorted(allowed))})")
        return value

    def items(self, table: dict[str, Any], key: str, where: str) -> list[Any]:
        value = table.get(key, [])
        if not isinstance(value, list):
            self.fail(where, f"{key} must be a list")
            return []
        return value

    def flag(self, table: dict[str, Any], key: str, where: str, default: bool) -> bool:
        value = table.get(key, default)
        if not isinstance(value, bool):
            self.fail(where, f"{key} must be true or false, got {value!r}")
            return default
        return value

    def text(self, value: object, where: str, what: str) -> str:
        if not isinstance(value, str) or not value.strip():
            self.fail(where, f"{what} must be non-empty text, got {value!r}")
            return ""
        return value.strip()

    def code(self, table: dict[str, Any], where: str) -> str:
        value = table.get("code")
        if not isinstance(value, str) or not _CODE.fullmatch(value) or len(value) > 64:
            self.fail(where, f"code must be lower-case letters, digits and - _ . (got {value!r})")
            return ""
        return value

    def names(self, value: object, where: str, what: str = "names") -> Names:
        table = self.table(value, f"{where} {what}", set(LANGS))
        return {lang: self.text(table.get(lang), where, f"{what}.{lang}") for lang in LANGS}

    def whole(self, table: dict[str, Any], key: str, where: str, top: int) -> int | None:
        value = table.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= top:
            self.fail(where, f"{key} must be a whole number from 1 to {top}, got {value!r}")
        return value if isinstance(value, int) else None

    def unique(self, codes: list[str], what: str) -> None:
        seen: set[str] = set()
        for code in codes:
            if code and code in seen:
                self.fail(f"{what} {code!r}", "code is used more than once")
            seen.add(code)


def is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)
