"""The draft staff start from when they publish a case: drawn from the request and its answer.

Title: the category's name and the first sentence of the request, short. Text: the citizen's
description; note: the answer (the board shows them as the request and its answer). It is only
a starting point: it holds whatever the citizen wrote (names, numbers, addresses), which is why
the publish form highlights it (storage.redaction) and why nothing is published until staff
send their edited version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import opencc

from storage.case_views import CaseNotFound
from storage.catalog_checks import localized
from storage.models import Case, Event
from storage.tracking import canonical_or_none

_TO_SIMPLIFIED = opencc.OpenCC("t2s")
_HAN = re.compile(r"[\u3400-\u9fff]")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LATIN = re.compile(r"[A-Za-z]")
TITLE_SENTENCE = 40  # characters of the request's first sentence in the drafted title
_SENTENCE_END = re.compile(r"[。！？!?\n]|\.(?:\s|$)")


@dataclass(frozen=True)
class PublicationDraft:
    title: str
    text: str
    note: str


def first_sentence(text: str, limit: int = TITLE_SENTENCE) -> str:
    """The text's first sentence, cut to `limit` characters (with an ellipsis)."""
    flat = text.strip()
    end = _SENTENCE_END.search(flat)
    sentence = " ".join((flat[: end.start()] if end else flat).split())
    return sentence if len(sentence) <= limit else sentence[: limit - 1].rstrip() + "…"


def written_in(text: str, language: str) -> str:
    """The language `text` is written in, by its script: Chinese (Traditional when converting
    it to Simplified changes it), Russian, English; `language` when it is that one already,
    or when the text has no letters to tell."""
    counts = {
        "zh": 3 * len(_HAN.findall(text)),  # a character says more than a letter
        "ru": len(_CYRILLIC.findall(text)),
        "en": len(_LATIN.findall(text)),
    }
    script = max(counts, key=lambda k: counts[k])
    if counts[script] == 0 or language.startswith(script):
        return language
    if script == "zh":
        return "zh_Hant" if _TO_SIMPLIFIED.convert(text) != text else "zh_Hans"
    return script


def drafted_title(category_name: str, text: str, language: str) -> str:
    sentence = first_sentence(text)
    if not sentence:
        return category_name
    colon = "：" if language.startswith("zh") else ": "
    return f"{category_name}{colon}{sentence}"


async def draft_of(tracking: str, fallback: str) -> PublicationDraft:
    """The drafted title and text of a case, in the language the request is written in (the
    title puts the category's name before the citizen's first sentence, so both read in one
    language): the citizen's, else `fallback` (a phone case, a forgotten citizen), unless the
    text is plainly in another script. CaseNotFound."""
    row = (
        await Case.filter(tracking=canonical_or_none(tracking) or "")
        .first()
        .values("id", "text", "category__names", "citizen__language")
    )
    if row is None:
        raise CaseNotFound(tracking)
    language = written_in(row["text"], row["citizen__language"] or fallback)
    name = localized(row["category__names"], language)
    answer = (
        await Event.filter(case_id=row["id"], kind="answered")
        .order_by("-created_at", "-id")
        .first()
        .values("payload")
    )
    said = str((answer or {}).get("payload", {}).get("text") or "") if answer else ""
    return PublicationDraft(
        title=drafted_title(name, row["text"], language),
        text=row["text"].strip(),
        note=said.strip(),
    )
