"""Which knowledge-base articles answer a question: ranking, in any of the desk's languages.

The tokens are the duplicate matcher's (storage.similarity): Han runs become character pairs,
Latin and Cyrillic runs lightly stemmed words, and Traditional Chinese is folded to Simplified
first, so a zh_Hant question finds a zh_Hans article. A question is matched against the texts of
an article in every language at once (a Russian question finds the ru text; the scripts do not
share tokens, so the languages do not blur into each other).

Scoring is BM25F: a question token counts by its rarity among the articles (idf), and by how
often it occurs in the article's fields, the title weighing more than the body, saturated so a
long body does not win by length. An article keyword found whole in the question adds a bonus
on top. Two floors keep weak offers out: the score itself, and the share of the question's
weight (idf) that the article covers, so that one common word shared with a long question is
not an answer; Chinese questions have floors of their own (HAN_FLOORS). Words that only say a
question is being asked (哪里, 怎么, how, где) are left out of the question's weight. The
weights and floors were tuned on tests/data/kb_questions.toml (its test prints the hit rates
they give; a Chinese segmenter, jieba, was tried there and did not help: see that test).
Pure functions only: no database, no I/O.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from storage.similarity import normalize, token_stream

_HAN = re.compile("[\u3400-\u9fff\uf900-\ufaff]")

TITLE_WEIGHT = 3.0
BODY_WEIGHT = 1.0
KEYWORD_FIELD_WEIGHT = 2.0  # keyword tokens also count as a field of their own
KEYWORD_BONUS = 1.5  # per keyword found whole in the question, times its length in tokens (≤ 3)
CATEGORY_BONUS = 0.5  # the question's category is one of the article's
K1, B = 1.2, 0.75
# A word's rarity is counted as if among at least this many articles: in a small knowledge base
# every word is "common" (with one article, all of them are in all articles), and no question
# would reach the floors tuned on the sample's 68.
MIN_ARTICLES = 50
# The floors an offer must pass: (score, coverage). A Chinese question is scored on overlapping
# character pairs, each character counted twice and every pair across two words counted too, so
# it scores about twice an English or Russian one of the same sense and covers less of its own
# weight: its floors are its own. Chosen on the labelled questions (tests/test_kb_matching.py).
HAN_FLOORS = (8.0, 0.1)
WORD_FLOORS = (5.0, 0.25)
# How questions are asked, in every language: it says nothing about which article answers
# (the duplicate matcher's stop list already drops the filler of requests).
_QUESTION_WORDS = """
    哪里 哪儿 哪个 哪些 多少 多久 几号 能不 不能 可以 需要 是不 不是 么办 怎样 如何 一下 有没
    知道 想问 问一 么时 时候 该找 找谁 谁管 管不 要去 去哪 要怎 我想 想要 要什 请帮 帮忙 么样
    how what where when why who which whom do does did can get need want know tell
    как где когда что почему кто какой какая какие можно нужно надо мне меня куда сколько ли
"""
_QUESTION_STOP = frozenset(_QUESTION_WORDS.split())


@dataclass(frozen=True)
class Entry:
    """What the matcher reads of one article: every language's texts together."""

    code: str
    categories: tuple[str, ...]
    titles: tuple[str, ...]
    bodies: tuple[str, ...]
    keywords: tuple[str, ...]


@dataclass(frozen=True)
class _Doc:
    code: str
    categories: frozenset[str]
    fields: tuple[Counter[str], ...]  # title, body, keyword tokens
    keywords: tuple[tuple[str, frozenset[str]], ...]  # (folded phrase, its tokens)


@dataclass(frozen=True)
class Index:
    """The articles made ready to rank: idf known, and each token's weighted frequency in every
    article that has it, its field lengths against the mean already counted in (so a question
    reads only the articles sharing its words)."""

    docs: tuple[_Doc, ...]
    idf: dict[str, float]
    unseen_idf: float  # the weight of a question token no article has
    postings: dict[str, tuple[tuple[int, float], ...]]  # token -> (article's position, tf)


_WEIGHTS = (TITLE_WEIGHT, BODY_WEIGHT, KEYWORD_FIELD_WEIGHT)


def _count(texts: Iterable[str]) -> Counter[str]:
    found: Counter[str] = Counter()
    for text in texts:
        found.update(token_stream(text))
    return found


def _doc(entry: Entry) -> _Doc:
    phrases = []
    for phrase in entry.keywords:
        words = frozenset(token_stream(phrase))
        if words:
            phrases.append((normalize(phrase).strip(), words))
    return _Doc(
        code=entry.code,
        categories=frozenset(entry.categories),
        fields=(_count(entry.titles), _count(entry.bodies), _count(entry.keywords)),
        keywords=tuple(phrases),
    )


def build_index(entries: Sequence[Entry]) -> Index:
    """Count the tokens of every article once; rank() then reads only the question."""
    docs = tuple(_doc(e) for e in entries)
    df: Counter[str] = Counter()
    for doc in docs:
        df.update(set().union(*doc.fields))
    n = max(len(docs), MIN_ARTICLES)
    idf = {t: math.log(1 + (n - c + 0.5) / (c + 0.5)) for t, c in df.items()}
    means = tuple(
        (sum(sum(d.fields[i].values()) for d in docs) / len(docs) if docs else 0.0) or 1.0
        for i in range(len(_WEIGHTS))
    )
    postings: dict[str, list[tuple[int, float]]] = {}
    for position, doc in enumerate(docs):
        lengths = [sum(f.values()) for f in doc.fields]
        for token in set().union(*doc.fields):
            tf = sum(
                w * f[token] / (1 - B + B * length / mean)
                for w, f, length, mean in zip(_WEIGHTS, doc.fields, lengths, means, strict=True)
            )
            if tf > 0:
                postings.setdefault(token, []).append((position, tf))
    return Index(
        docs=docs,
        idf=idf,
        unseen_idf=math.log(1 + (n + 0.5) / 0.5),
        postings={token: tuple(found) for token, found in postings.items()},
    )


def _keyword_hits(doc: _Doc, folded: str, words: frozenset[str]) -> float:
    bonus = 0.0
    for phrase, phrase_words in doc.keywords:
        if phrase_words <= words or (phrase and phrase in folded):
            bonus += KEYWORD_BONUS * min(len(phrase_words), 3)
    return bonus


def _bm25f(index: Index, words: frozenset[str]) -> dict[int, tuple[float, float]]:
    """(score, matched weight) of each article (by position) having any of the words."""
    found: dict[int, tuple[float, float]] = {}
    for token in words:  # each article's sums in the order of `words`, as one by one
        weight = index.idf.get(token)
        if weight is None:
            continue
        for position, tf in index.postings.get(token, ()):
            score, matched = found.get(position, (0.0, 0.0))
            found[position] = (score + weight * tf / (K1 + tf), matched + weight)
    return found


def score_all(
    index: Index, question: str, *, category: str | None = None
) -> list[tuple[str, float, float]]:
    """(code, score, coverage) of every article sharing anything with the question, best first."""
    every = frozenset(token_stream(question))
    words = every - _QUESTION_STOP
    if not words:
        return []
    folded = normalize(question)
    total = sum(index.idf.get(t, index.unseen_idf) for t in words)
    found = []
    for position, (score, matched) in sorted(_bm25f(index, words).items()):
        doc = index.docs[position]
        score += _keyword_hits(doc, folded, every)
        if category is not None and category in doc.categories:
            score += CATEGORY_BONUS
        found.append((doc.code, score, matched / total))
    found.sort(key=lambda r: (-r[1], r[0]))
    return found


def floors(question: str) -> tuple[float, float]:
    """The (score, coverage) floors for a question: Chinese ones when most of it is Chinese."""
    found = list(token_stream(question))
    han = sum(1 for token in found if _HAN.match(token))
    return HAN_FLOORS if found and han * 2 > len(found) else WORD_FLOORS


def rank(index: Index, question: str, *, category: str | None = None, limit: int = 3) -> list[str]:
    """The codes of the articles that answer the question well enough, best first (at most
    `limit`; empty when nothing passes the floors)."""
    min_score, min_coverage = floors(question)
    return [
        code
        for code, score, coverage in score_all(index, question, category=category)
        if score >= min_score and coverage >= min_coverage
    ][:limit]
