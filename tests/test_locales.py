"""Every message in the code is translated, with the same placeholders, in every catalogue."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot.i18n import LOCALES_DIR, Catalogs, catalogue_files
from bot.settings import LANGUAGES

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("handlers", "bot", "storage")
TEMPLATES = ("bot/dashboard/templates", "bot/board/templates")
KEYWORDS = {"gettext": None, "ngettext": (1, 2)}

MsgId = str | tuple[str, str]


def extracted() -> dict[MsgId, str]:
    """Message ids found in the code, each with where it was found."""
    found: dict[MsgId, str] = {}
    for source in SOURCES:
        for filename, lineno, message, _, _ in extract_from_dir(
            ROOT / source, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            msgid = message if isinstance(message, str) else (message[0], message[1])
            found.setdefault(msgid, f"{source}/{filename}:{lineno}")
    # The dashboard's and the board's templates call gettext and ngettext too.
    templates = [("**.html", "jinja2.ext:babel_extract"), ("**.xml", "jinja2.ext:babel_extract")]
    for folder in TEMPLATES:
        for filename, lineno, message, _, _ in extract_from_dir(
            ROOT / folder, method_map=templates, keywords=KEYWORDS
        ):
            msgid = message if isinstance(message, str) else (message[0], message[1])
            found.setdefault(msgid, f"{folder}/{filename}:{lineno}")
    return found


def catalogue(language: str) -> Catalog:
    """All of a language's catalogue files as one; a message in two files fails the test."""
    merged: Catalog | None = None
    for path in catalogue_files(LOCALES_DIR, language):
        with path.open("rb") as handle:
            part = read_po(handle)
        if merged is None:
            merged = part
            continue
        for message in part:
            if not message.id:
                continue
            assert message.id not in merged, f"{path.name}: {message.id!r} is in two catalogues"
            merged[message.id] = message
    assert merged is not None, f"no catalogue for {language}"
    return merged


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def words(text: str) -> bool:
    """Whether the message has words of its own, outside its placeholders."""
    return any(literal.strip(" :;,.!?-—()") for literal, *_ in string.Formatter().parse(text))


def key(message: Message) -> MsgId:
    return message.id if isinstance(message.id, str) else (message.id[0], message.id[1])


def forms(message: Message) -> tuple[str, ...]:
    """The translation's forms: one, or one per plural form; None counts as empty."""
    if isinstance(message.string, str):
        return (message.string,)
    return tuple(form or "" for form in message.string or ())


CODE = extracted()


def test_the_code_has_messages() -> None:
    # Guards the extraction itself: t.gettext("...") on a Translator must be picked up.
    assert "This button has expired." in CODE
    assert any(isinstance(msgid, tuple) for msgid in CODE)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated(language: str) -> None:
    translated = {key(m): m for m in catalogue(language) if m.id}
    missing = [f"{where}: {msgid!r}" for msgid, where in CODE.items() if msgid not in translated]
    assert not missing, "not in the catalogue:\n" + "\n".join(missing)
    for msgid in CODE:
        message = translated[msgid]
        assert not message.fuzzy, msgid
        assert forms(message), msgid
        assert all(forms(message)), f"empty translation for {msgid!r}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_placeholders_match(language: str) -> None:
    for message in catalogue(language):
        if not message.id or not message.string:
            continue
        # A plural's forms all name what the plural msgid names (n is counted, never implied).
        expected = placeholders(message.id if isinstance(message.id, str) else message.id[-1])
        for form in forms(message):
            assert placeholders(form) == expected, (language, message.id, form)


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_obsolete_messages(language: str) -> None:
    catalog = catalogue(language)
    assert not catalog.obsolete, f"obsolete (#~) entries: {list(catalog.obsolete)}"
    stale = [key(m) for m in catalog if m.id and key(m) not in CODE]
    assert not stale, f"in {language} but no longer in the code: {stale}"


def test_plural_forms() -> None:
    assert catalogue("ru").num_plurals == 3
    assert catalogue("en").num_plurals == 2
    assert catalogue("zh_Hans").num_plurals == catalogue("zh_Hant").num_plurals == 1
    for language in LANGUAGES:
        for message in catalogue(language):
            if message.pluralizable and message.id:
                assert len(forms(message)) == catalogue(language).num_plurals, message.id


@pytest.mark.parametrize("language", LANGUAGES)
def test_one_header_per_language(language: str) -> None:
    """The bot merges a language's files into one catalogue under the first file's header
    (bot.i18n): every file must then agree on the plural forms and the charset."""
    headers = set()
    for path in catalogue_files(LOCALES_DIR, language):
        with path.open("rb") as handle:
            part = read_po(handle)
        headers.add((part.plural_forms, part.charset))
    assert len(headers) == 1, headers


def test_catalogues_compile() -> None:
    catalogs = Catalogs()
    for language in ("zh_Hans", "zh_Hant", "ru"):
        t = catalogs.get(language)
        assert t.language == language
        # Compiled and in use: no message comes back in English (one of placeholders and
        # punctuation alone, "{label}: {answer}", may read the same in another language).
        untranslated = [m for m in CODE if isinstance(m, str) and t.gettext(m) == m and words(m)]
        assert not untranslated, (language, untranslated)
    russian = catalogs.get("ru")
    forms = [
        russian.ngettext(
            "That message is too long ({length} character; the limit is {limit}).",
            "That message is too long ({length} characters; the limit is {limit}).",
            n,
            length=n,
            limit=4000,
        )
        for n in (4001, 4002, 4005)
    ]
    assert ["символ;" in forms[0], "символа;" in forms[1], "символов;" in forms[2]] == [True] * 3
    assert catalogs.get("zh_Hant").gettext("Help") != catalogs.get("zh_Hans").gettext("Help")
