"""Reading and checking a knowledge-base file (TOML) before anything is written.

The whole file is checked first, every problem named with its line, so a bad file changes
nothing and is fixed in one go. tomllib reports the line of a syntax error itself; for a problem
found after parsing, the line of the offending `[[article]]`, key or language is looked up in
the raw text. The shape (storage/sample_knowledge.toml's header says more):

    [[article]]   code, categories (leaf category codes), department, review_by (a date),
                  [article.title] and [article.body] ({lang: text}), [article.keywords]
                  ({lang: [words]}, optional)

Titles, bodies and keywords are cleaned as every text that comes in (storage.plain_text): a
control character (a TOML "\\u0000", say) is a problem named with its line, and invisible format
characters (bidi overrides among them) are dropped.

The codes of categories and departments are checked against the loaded catalogue by the
caller, who passes them in: this module reads files and nothing else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from storage.catalog_checks import LANGS
from storage.plain_text import TextHasControls, clean_text
from storage.toml_files import FileInvalid, item_tables, read_toml

TITLE_MAX = 200
BODY_MAX = 3000
KEYWORD_MAX = 64
KEYWORDS_MAX = 40  # per language
_CODE = re.compile(r"[a-z0-9]+(?:[-.][a-z0-9]+)*")
CODE_MAX = 64
_KEYS = {"code", "categories", "department", "review_by", "title", "body", "keywords"}


class KbFileInvalid(FileInvalid):
    """The knowledge-base file has problems (see FileInvalid)."""


@dataclass(frozen=True)
class ArticleSpec:
    code: str
    categories: list[str]
    department: str
    review_by: date
    titles: dict[str, str]
    bodies: dict[str, str]
    keywords: dict[str, list[str]]


@dataclass(frozen=True)
class Catalogue:
    """What an article may name: the leaf category codes and department codes that exist."""

    categories: frozenset[str]
    departments: frozenset[str]
    default_language: str


class _Lines:
    """Where things are in the raw text: the line of each [[article]] and of keys inside it."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.starts = [
            i + 1 for i, line in enumerate(self.lines) if line.strip().startswith("[[article]]")
        ]

    def of(self, index: int, key: str | None = None, sub: str | None = None) -> int:
        """The line of article `index`, of its `key`, or of `sub` inside table `key` (the
        nearest of these found: an inline table names its key's line)."""
        if index >= len(self.starts):
            return 0
        start = self.starts[index]
        end = self.starts[index + 1] - 1 if index + 1 < len(self.starts) else len(self.lines)
        if key is None:
            return start
        wanted, table, current = f"article.{key}", 0, ""
        for number in range(start + 1, end + 1):
            line = self.lines[number - 1].strip()
            if line.startswith("["):
                current = line.strip("[] ").replace(" ", "")
                if current == wanted:
                    table = number
                    if sub is None:
                        return number
                continue
            name = line.split("=", 1)[0].strip().strip('"')
            if not current and name == key:
                if sub is None:
                    return number
                table = number
            elif current == wanted and name == sub:
                return number
        return table or start


def read_kb_file(path: Path, catalogue: Catalogue) -> list[ArticleSpec]:
    """Parse and check a knowledge-base file whole; KbFileInvalid names every problem's line."""
    text, raw = read_toml(path, KbFileInvalid)
    lines = _Lines(text)
    problems: list[tuple[int, str]] = []
    items = item_tables(raw, "article", problems)
    specs: list[ArticleSpec] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        checker = _ArticleChecker(index, lines, catalogue)
        spec = checker.check(item)
        problems.extend(checker.problems)
        if spec is None:
            continue
        if spec.code in seen:
            problems.append(
                (
                    lines.of(index, "code"),
                    f"code {spec.code!r} is already used at line {seen[spec.code]}",
                )
            )
            continue
        seen[spec.code] = lines.of(index, "code")
        specs.append(spec)
    if problems:
        raise KbFileInvalid(path, problems)
    return specs


class _ArticleChecker:
    def __init__(self, index: int, lines: _Lines, catalogue: Catalogue) -> None:
        self.index, self.lines, self.catalogue = index, lines, catalogue
        self.problems: list[tuple[int, str]] = []
        self.name = f"article {index + 1}"

    def fail(self, what: str, key: str | None = None, sub: str | None = None) -> None:
        self.problems.append((self.lines.of(self.index, key, sub), f"{self.name}: {what}"))

    def check(self, item: object) -> ArticleSpec | None:
        if not isinstance(item, dict):
            self.fail("must be a table")
            return None
        for key in sorted(set(item) - _KEYS):
            self.fail(f"unknown key {key!r} (known: {', '.join(sorted(_KEYS))})", key)
        code = item.get("code")
        if not isinstance(code, str) or len(code) > CODE_MAX or not _CODE.fullmatch(code):
            self.fail(f"code must be lower-case letters, digits, - and . (got {code!r})", "code")
        else:
            self.name = f"article {code!r}"
        titles = self._texts(item.get("title"), "title", TITLE_MAX)
        bodies = self._texts(item.get("body"), "body", BODY_MAX)
        for lang in sorted(set(titles) ^ set(bodies)):
            self.fail(f"{lang} has a title or a body but not both", "title")
        spec = ArticleSpec(
            code=code if isinstance(code, str) else "",
            categories=self._categories(item.get("categories")),
            department=self._department(item.get("department")),
            review_by=self._date(item.get("review_by")),
            titles=titles,
            bodies=bodies,
            keywords=self._keywords(item.get("keywords", {})),
        )
        return None if self.problems else spec

    def _categories(self, value: object) -> list[str]:
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            self.fail("categories must be a non-empty list of category codes", "categories")
            return []
        for code in value:
            if code not in self.catalogue.categories:
                self.fail(f"category {code!r} is not a category of the catalogue", "categories")
        return list(dict.fromkeys(value))

    def _department(self, value: object) -> str:
        if not isinstance(value, str) or value not in self.catalogue.departments:
            self.fail(f"department {value!r} is not a department of the catalogue", "department")
            return ""
        return value

    def _date(self, value: object) -> date:
        if not isinstance(value, date) or isinstance(value, datetime):
            self.fail(f"review_by must be a date like 2027-06-30 (got {value!r})", "review_by")
            return date.min
        return value

    def _texts(self, value: object, key: str, limit: int) -> dict[str, str]:
        if not isinstance(value, dict):
            self.fail(f"[article.{key}] must be a table of texts by language", key)
            return {}
        texts: dict[str, str] = {}
        for lang, text in value.items():
            if lang not in LANGS:
                self.fail(
                    f"{key}: unknown language {lang!r} (known: {', '.join(LANGS)})", key, lang
                )
            elif not isinstance(text, str) or not text.strip():
                self.fail(f"{key}.{lang} must be non-empty text", key, lang)
            elif (cleaned := self._clean(text, f"{key}.{lang}", key, lang)) is None:
                texts[lang] = text  # named already; kept so its pair is not called missing
            elif not cleaned:
                self.fail(f"{key}.{lang} must be non-empty text", key, lang)
            elif len(cleaned) > limit:
                self.fail(
                    f"{key}.{lang} is {len(cleaned)} characters (at most {limit})", key, lang
                )
            else:
                texts[lang] = cleaned
        if self.catalogue.default_language not in value:
            self.fail(
                f"{key} has no text in the desk's language {self.catalogue.default_language}", key
            )
        return texts

    def _keywords(self, value: object) -> dict[str, list[str]]:
        if not isinstance(value, dict):
            self.fail("[article.keywords] must be a table of word lists by language", "keywords")
            return {}
        found: dict[str, list[str]] = {}
        for lang, words in value.items():
            good = (
                isinstance(words, list)
                and len(words) <= KEYWORDS_MAX
                and all(isinstance(w, str) and w.strip() and len(w) <= KEYWORD_MAX for w in words)
            )
            if lang not in LANGS or not good:
                self.fail(
                    f"keywords.{lang}: a known language with at most {KEYWORDS_MAX} words of at "
                    f"most {KEYWORD_MAX} characters",
                    "keywords",
                    lang,
                )
                continue
            cleaned = [self._clean(w, f"keywords.{lang}", "keywords", lang) for w in words]
            found[lang] = [w for w in cleaned if w]
        return found

    def _clean(self, text: str, what: str, key: str, lang: str) -> str | None:
        """The text cleaned (format characters dropped, stripped); None and a problem if it
        holds a control character."""
        try:
            return clean_text(text).strip()
        except TextHasControls as control:
            self.fail(f"{what} holds the control character {control}", key, lang)
            return None


def article_values(spec: ArticleSpec) -> dict[str, Any]:
    """What a loaded article stores from its spec (the department as a code)."""
    return {
        "categories": spec.categories,
        "titles": spec.titles,
        "bodies": spec.bodies,
        "keywords": spec.keywords,
        "review_by": spec.review_by,
    }
