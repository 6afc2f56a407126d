"""Reading a desk's TOML file of [[item]] tables (knowledge base, reply templates) whole: every
problem is named with its line, and a file with any problem changes nothing."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_AT_LINE = re.compile(r"at line (\d+)")


class FileInvalid(ValueError):
    """The file has problems; `problems` lists each as (line, what); line 0: the whole file."""

    def __init__(self, path: Path, problems: list[tuple[int, str]]) -> None:
        self.problems = sorted(problems)
        super().__init__(
            "\n".join(
                f"{path}:{line}: {what}" if line else f"{path}: {what}"
                for line, what in self.problems
            )
        )


def read_toml(path: Path, invalid: type[FileInvalid]) -> tuple[str, dict[str, Any]]:
    """The file's text and its TOML; `invalid` (a FileInvalid) when it is not UTF-8 or TOML."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise invalid(path, [(0, f"not UTF-8 text ({exc.reason})")]) from exc
    try:
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        at = _AT_LINE.search(str(exc))  # tomllib of Python 3.11 puts the line in its message
        raise invalid(path, [(int(at[1]) if at else 0, f"not valid TOML: {exc}")]) from exc


def item_tables(raw: dict[str, Any], name: str, problems: list[tuple[int, str]]) -> list[Any]:
    """The file's [[name]] tables; the file's own problems (other top-level keys, none of
    them) are added to `problems`."""
    unknown = sorted(set(raw) - {name})
    if unknown:
        problems.append((0, f"unknown top-level key(s) {', '.join(unknown)} (only [[{name}]])"))
    items = raw.get(name, [])
    if not isinstance(items, list) or not items:
        problems.append((0, f"no [[{name}]] in the file"))
        return []
    return items


@dataclass(frozen=True)
class LoadReport:
    """What loading such a file did, by the items' codes."""

    what: str  # the items, plural: "articles", "templates"
    created: int
    updated: int
    unchanged: int
    deactivated: tuple[str, ...]

    def __str__(self) -> str:
        gone = ", ".join(self.deactivated) or "none"
        return (
            f"{self.created} {self.what} created, {self.updated} updated, "
            f"{self.unchanged} unchanged; made inactive: {gone}"
        )
