"""Reading and checking a reply-template file (TOML) before anything is written.

The whole file is checked first, every problem named with the line of its `[[template]]`, so
a bad file changes nothing and is fixed in one go. The shape (storage/sample_templates.toml's
header says more):

    [[template]]   code, category (a leaf category code; absent: any category), outcome
                   (answered | rejected | asked | received), auto (only with received: the
                   automatic first reply of its category), [template.text] ({lang: text})

A text may hold the placeholders {number}, {department}, {due} and {category} and nothing
else, each as its name alone (no format spec or conversion); a literal brace is written twice
({{ and }}). Texts are cleaned as every text that comes
in (storage.plain_text). Category codes are checked against the loaded catalogue, which the
caller passes in: this module reads files and nothing else.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from storage.catalog_checks import LANGS
from storage.plain_text import TextHasControls, clean_text
from storage.toml_files import FileInvalid, item_tables, read_toml

OUTCOMES = ("answered", "rejected", "asked", "received")
PLACEHOLDERS = ("number", "department", "due", "category")
TEXT_MAX = 3000
CODE_MAX = 40  # a code travels in a button's data with a tracking number (64 bytes at most)
CODE = re.compile(r"[a-z0-9]+(?:[-.][a-z0-9]+)*")
_KEYS = {"code", "category", "outcome", "auto", "text"}
_FORMATTER = string.Formatter()
FORMAT_PROBLEM = (
    "has a placeholder with a format or conversion after its name (such as {number:>10} or "
    "{number!r}); write the name alone, as {number}"
)


class TemplateFileInvalid(FileInvalid):
    """The template file has problems (see FileInvalid)."""


@dataclass(frozen=True)
class TemplateSpec:
    code: str
    category: str | None
    outcome: str
    auto: bool
    texts: dict[str, str]


def placeholder_problems(text: str) -> list[str]:
    """What is wrong with a template text's placeholders: unknown names, stray braces, and
    anything after a name (a format spec such as {number:>300000000} would make one filled
    text hundreds of megabytes; a conversion such as {number!r} shows quotes)."""
    try:
        parsed = [(name, spec, conv) for _, name, spec, conv in _FORMATTER.parse(text)]
    except ValueError as exc:
        return [f"has a brace that opens no placeholder ({exc}); write a literal brace twice"]
    fields = [name for name, _, _ in parsed if name is not None]
    unknown = sorted({f for f in fields if f not in PLACEHOLDERS})
    if unknown:
        known = ", ".join(f"{{{p}}}" for p in PLACEHOLDERS)
        return [
            f"unknown placeholder(s) {', '.join(f'{{{u}}}' for u in unknown)} (known: {known})"
        ]
    if any(name is not None and (spec or conv) for name, spec, conv in parsed):
        return [FORMAT_PROBLEM]
    return []


def fill_placeholders(text: str, values: Mapping[str, str]) -> str:
    """The text with each known placeholder replaced by its value: the name alone counts (no
    format spec or conversion is ever applied); a text that does not parse, or names an
    unknown placeholder, is returned as it is (texts are checked when saved)."""
    try:
        parsed = list(_FORMATTER.parse(text))
    except ValueError:
        return text
    if any(name is not None and name not in values for _, name, _, _ in parsed):
        return text
    return "".join(
        literal + (values[name] if name is not None else "") for literal, name, _, _ in parsed
    )


def read_template_file(
    path: Path, categories: frozenset[str], default_language: str
) -> list[TemplateSpec]:
    """Parse and check a template file whole; TemplateFileInvalid names every problem's line."""
    text, raw = read_toml(path, TemplateFileInvalid)
    starts = [i + 1 for i, line in enumerate(text.splitlines()) if line.strip() == "[[template]]"]
    problems: list[tuple[int, str]] = []
    items = item_tables(raw, "template", problems)
    specs: list[TemplateSpec] = []
    seen: dict[str, int] = {}
    autos: dict[str | None, str] = {}
    for index, item in enumerate(items):
        line = starts[index] if index < len(starts) else 0
        checker = _Checker(index, categories, default_language)
        spec = checker.check(item)
        problems.extend((line, what) for what in checker.problems)
        if spec is None:
            continue
        if spec.code in seen:
            problems.append(
                (line, f"code {spec.code!r} is already used at line {seen[spec.code]}")
            )
            continue
        seen[spec.code] = line
        if spec.auto:
            if spec.category in autos:
                which = spec.category or "any category"
                problems.append(
                    (
                        line,
                        f"{which} has two automatic first replies: {autos[spec.category]!r} "
                        f"and {spec.code!r}",
                    )
                )
            autos[spec.category] = spec.code
        specs.append(spec)
    if problems:
        raise TemplateFileInvalid(path, problems)
    return specs


class _Checker:
    def __init__(self, index: int, categories: frozenset[str], default_language: str) -> None:
        self.categories, self.default_language = categories, default_language
        self.problems: list[str] = []
        self.name = f"template {index + 1}"

    def fail(self, what: str) -> None:
        self.problems.append(f"{self.name}: {what}")

    def check(self, item: object) -> TemplateSpec | None:
        if not isinstance(item, dict):
            self.fail("must be a table")
            return None
        code = item.get("code")
        if not isinstance(code, str) or len(code) > CODE_MAX or not CODE.fullmatch(code):
            self.fail(
                f"code must be lower-case letters, digits, - and ., at most {CODE_MAX} "
                f"(got {code!r})"
            )
        else:
            self.name = f"template {code!r}"
        for key in sorted(set(item) - _KEYS):
            self.fail(f"unknown key {key!r} (known: {', '.join(sorted(_KEYS))})")
        category = item.get("category")
        if category is not None and (
            not isinstance(category, str) or category not in self.categories
        ):
            self.fail(f"category {category!r} is not a category of the catalogue")
        outcome = item.get("outcome")
        if outcome not in OUTCOMES:
            self.fail(f"outcome must be one of {', '.join(OUTCOMES)} (got {outcome!r})")
        auto = item.get("auto", False)
        if not isinstance(auto, bool):
            self.fail(f"auto must be true or false (got {auto!r})")
        elif auto and outcome != "received":
            self.fail('auto = true is only for outcome "received" (the first reply)')
        texts = self._texts(item.get("text"))
        if self.problems:
            return None
        return TemplateSpec(str(code), category, str(outcome), bool(auto), texts)

    def _texts(self, value: object) -> dict[str, str]:
        if not isinstance(value, dict):
            self.fail("[template.text] must be a table of texts by language")
            return {}
        texts: dict[str, str] = {}
        for lang, text in value.items():
            if lang not in LANGS:
                self.fail(f"text: unknown language {lang!r} (known: {', '.join(LANGS)})")
                continue
            if not isinstance(text, str):
                self.fail(f"text.{lang} must be text")
                continue
            try:
                cleaned = clean_text(text).strip()
            except TextHasControls as control:
                self.fail(f"text.{lang} holds the control character {control}")
                continue
            if not cleaned or len(cleaned) > TEXT_MAX:
                self.fail(f"text.{lang} must be 1 to {TEXT_MAX} characters")
                continue
            for problem in placeholder_problems(cleaned):
                self.fail(f"text.{lang} {problem}")
            texts[lang] = cleaned
        if self.default_language not in value:
            self.fail(f"text has none in the desk's language {self.default_language}")
        return texts
