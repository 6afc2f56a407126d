"""Which categories a description reads as: the catalogue's words and a history of cases, ranked.

Each leaf category is a document of the knowledge-base matcher (storage.kb_match: BM25F, Chinese
as character pairs with Traditional folded to Simplified, other scripts as words): its names and
its domain's in every language are the title, its questions and the titles of the articles
filed under it are the body, and the catalogue's `keywords` count as keywords. A second index
holds, per category, the descriptions of recent cases that ended in it without being passed on
(storage.category_suggest reads them): words citizens really use for it, which the catalogue
does not list. The two scores add up, the history's weighed by HISTORY_WEIGHT.

Pure functions only: no database, no I/O. A description is only compared here; nothing of a
case's text leaves this module.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from storage.kb_match import Entry, Index, build_index, score_all

HISTORY_WEIGHT = 0.25  # chosen by five-fold cross-validation on the labelled set (its test)
# Staff are shown a suggestion only when it reads clearly better than the citizen's choice: its
# score at least this many times the chosen category's (a near tie is no reason to interrupt).
SUGGEST_MARGIN = 1.25


@dataclass(frozen=True)
class CategoryWords:
    """What the catalogue says of one category, in all its languages."""

    code: str
    names: tuple[str, ...]  # the category's and its domain's names
    texts: tuple[str, ...]  # its questions (prompts, labels, choices), its articles' titles
    keywords: tuple[str, ...]  # the catalogue's keywords, any language


@dataclass(frozen=True)
class Ranker:
    """The catalogue's index, and the history's when there is one."""

    catalogue: Index
    history: Index | None
    codes: tuple[str, ...]


def build_ranker(
    words: Sequence[CategoryWords], history: Mapping[str, Sequence[str]] | None = None
) -> Ranker:
    """Index the catalogue's words, and `history` (category code → recent descriptions)."""
    catalogue = build_index(
        [
            Entry(code=w.code, categories=(), titles=w.names, bodies=w.texts, keywords=w.keywords)
            for w in words
        ]
    )
    codes = tuple(w.code for w in words)
    past = None
    if history and any(history.get(code) for code in codes):
        past = build_index(
            [
                Entry(
                    code=c, categories=(), titles=(), bodies=tuple(history.get(c, ())), keywords=()
                )
                for c in codes
            ]
        )
    return Ranker(catalogue, past, codes)


def scores(ranker: Ranker, text: str, *, use_history: bool = True) -> dict[str, float]:
    """Each category's score for `text` (only those sharing a word with it)."""
    found = {code: score for code, score, _ in score_all(ranker.catalogue, text)}
    if use_history and ranker.history is not None:
        for code, score, _ in score_all(ranker.history, text):
            found[code] = found.get(code, 0.0) + HISTORY_WEIGHT * score
    return found


def rank(ranker: Ranker, text: str, *, limit: int = 3, use_history: bool = True) -> list[str]:
    """The codes of the categories `text` reads most like, best first (at most `limit`)."""
    found = scores(ranker, text, use_history=use_history)
    ordered = sorted(found.items(), key=lambda item: (-item[1], ranker.codes.index(item[0])))
    return [code for code, _ in ordered[:limit]]


def better_than(ranker: Ranker, text: str, chosen: str) -> str | None:
    """The category `text` reads as when that is clearly not `chosen`, else None."""
    found = scores(ranker, text)
    if not found:
        return None
    best = max(found, key=lambda code: (found[code], -ranker.codes.index(code)))
    if best == chosen or found[best] < SUGGEST_MARGIN * found.get(chosen, 0.0):
        return None
    return best
