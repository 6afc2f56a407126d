"""Translations: the gettext catalogues in locales/, compiled in memory with Babel at start-up
(once per process: a catalogue whose files have not changed is not compiled again)."""

from __future__ import annotations

import gettext
import io
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from bot.settings import LANGUAGES

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "minsheng"

# Telegram's setMyCommands takes two-letter codes only, so Chinese gets one menu.
COMMAND_MENU_CODES = {"en": "en", "zh_Hans": "zh", "ru": "ru"}


@dataclass(frozen=True)
class Translator:
    """One language's catalogue; message ids are English sentences with named placeholders."""

    language: str
    _catalog: gettext.NullTranslations

    def gettext(self, message: str, /, **params: object) -> str:
        text = self._catalog.gettext(message)
        return text.format(**params) if params else text

    def ngettext(self, singular: str, plural: str, n: int, /, **params: object) -> str:
        return self._catalog.ngettext(singular, plural, n).format(n=n, **params)


# Message ids as written, for texts stored in English and translated when shown (reasons).
SOURCE = Translator("en", gettext.NullTranslations())


class Catalogs:
    """All languages' translators, built once at start-up."""

    def __init__(self, default_language: str = "en", directory: Path = LOCALES_DIR) -> None:
        self.default_language = default_language
        self._translators = {
            lang: Translator(lang, _compile(directory, lang)) for lang in LANGUAGES
        }

    def get(self, language: str | None) -> Translator:
        if language in self._translators:
            return self._translators[language]
        return self._translators[self.default_language]


def catalogue_files(directory: Path, language: str) -> list[Path]:
    """A language's catalogues: `minsheng.po` and one file per feature beside it.

    Features own their messages in their own file so work on one does not touch another's; a
    message id may stand in only one of them (a test checks).
    """
    return sorted((directory / language / "LC_MESSAGES").glob("*.po"))


def _compile(directory: Path, language: str) -> gettext.NullTranslations:
    files = catalogue_files(directory, language)
    versions = tuple((path, path.stat().st_mtime_ns, path.stat().st_size) for path in files)
    return _compiled(language, versions)


@cache
def _compiled(
    language: str, versions: tuple[tuple[Path, int, int], ...]
) -> gettext.NullTranslations:
    """The catalogue files (path, mtime, size), compiled into one: the first one wins.

    One catalogue, not a chain of fallbacks: a message is then found in one look, where a chain
    looked through every file (about twenty) for each message an English reader gets.
    """
    locale = language.replace("_Hans", "").replace("_Hant", "")
    merged: Catalog | None = None
    for po_path, _, _ in versions:
        with po_path.open("rb") as handle:
            catalog = read_po(handle, locale=locale)
        if merged is None:  # its header (plural forms) serves the whole language
            merged = catalog
            continue
        for message in catalog:
            if message.id and _compiles(message):
                held = merged.get(message.id, message.context)
                if held is None or not _compiles(held):
                    merged.delete(message.id, message.context)
                    merged[message.id] = message
    if merged is None:
        return gettext.NullTranslations()
    buffer = io.BytesIO()
    write_mo(buffer, merged, use_fuzzy=False)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def _compiles(message: Message) -> bool:
    """Whether write_mo keeps the message (a translation, not fuzzy)."""
    return bool(message.string) and not message.fuzzy


def guess_language(language_code: str | None, default: str) -> str:
    """Map Telegram's IETF `language_code` (en, ru-RU, zh-hans, zh-TW, zh) to our languages."""
    if not language_code:
        return default
    try:
        locale = Locale.parse(language_code.replace("_", "-"), sep="-")
    except (UnknownLocaleError, ValueError):
        return default
    if locale.language == "zh":
        traditional = locale.script == "Hant" or (
            locale.script is None and locale.territory in ("TW", "HK", "MO")
        )
        return "zh_Hant" if traditional else "zh_Hans"
    if locale.language in ("en", "ru"):
        return locale.language
    return default
