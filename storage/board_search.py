"""The public board's search: every word typed must appear, as written or in the other Chinese
script (OpenCC), in a published case's public title, text or note.

On SQLite a word of three characters or more is a phrase of the FTS5 trigram index (migration
0015); a two-character word is found by the trigrams it begins (the index's vocabulary, read by
range), so 暖气 finds 暖气不热; a single character is looked for in the newest SHORT_SCAN public
texts only. On PostgreSQL a word of three or more is a LIKE (ILIKE where case matters) that the
pg_trgm index answers, with the category and department filters (btree_gin, migration 0020);
shorter words are looked for in the newest SHORT_SCAN public texts.
Each condition is a subquery of case ids, for storage.board to add to published_cases().

Both databases search in two phases. First every word is looked for in the newest NEWEST
published cases the page's filters allow; when these fill the page asked for, they are the
page: the newest matches of all are among the newest cases whenever these hold enough of them.
Otherwise the whole search runs. Without the first phase a common word (say 18,000 matches)
makes the trigram index fetch and recheck every match before the newest are picked; now a
common word fills its page from the newest cases, and a rare word has few trigram candidates.
- PostgreSQL reads the newest cases by an index walk (migration 0015) and looks for the words
  in them; when the filters allow fewer than NEWEST cases, these are all of them (with a short
  word: all of those among the newest SHORT_SCAN public texts). A second phase reads the newest
  WIDER (10M cases: a common English phrase on page 3 went from 290 ms to 30), and a page with
  a filter and no words reads the filter's newest NEWEST first (_newest_ids).
- SQLite asks the FTS5 index for the matches from the oldest of those newest cases on (FTS5
  seeks its lists to that id). When a filter allows fewer than NEWEST cases, it is asked from
  the oldest of them on, in one phase. At 10M cases (1.1M published), a common phrase with a
  department filter went from about 400 ms of CPU to 20.
"""

from __future__ import annotations

import re
from typing import Any

import opencc
from pypika_tortoise.enums import Comparator, Order
from pypika_tortoise.functions import Count, Min
from pypika_tortoise.queries import Query, Table
from pypika_tortoise.terms import BasicCriterion, Field, Function, Not, ValueWrapper
from tortoise.connection import get_connection
from tortoise.expressions import RawSQL

from storage.sql import fetch

QUERY_MAX = 100  # characters of a search
WORDS_MAX = 6
SHORT_SCAN = 20_000  # public texts searched, newest first, for a word too short for trigrams
NEWEST = 1_000  # published cases searched first, newest first, for any word
WIDER = 10_000  # PostgreSQL: then as many public texts, before the whole search
VOCABULARY_MAX = 400  # trigrams a two-character word may stand for
# The words of a case as PostgreSQL's trigram index holds them (migration 0015: the same text).
PG_WORDS = (
    "(coalesce(public_title, '') || ' ' || coalesce(public_text, '') || ' '"
    " || coalesce(public_note, ''))"
)
_UNPRINTABLE = re.compile(
    r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
# SQLite: the condition no case meets.
_NOTHING = Query.from_(Table("board_search")).select(Field("rowid")).where(Field("rowid") < 0)
_SIMPLIFIED = opencc.OpenCC("t2s")
_TRADITIONAL = opencc.OpenCC("s2t")


class _Match(Comparator):
    match = " MATCH "


def search_words(text: str) -> list[str]:
    """The distinct words of a search, as typed (at most WORDS_MAX, QUERY_MAX characters), with
    control, format and unpaired surrogate characters taken out (a NUL ends an SQL text)."""
    words: list[str] = []
    for word in _UNPRINTABLE.sub(" ", text[:QUERY_MAX]).split():
        if word not in words:
            words.append(word)
    return words[:WORDS_MAX]


def _variants(word: str) -> list[str]:
    """The word as typed and in both Chinese scripts, lower case."""
    found: list[str] = []
    for form in (word, _SIMPLIFIED.convert(word), _TRADITIONAL.convert(word)):
        if form.lower() not in found:
            found.append(form.lower())
    return found


async def search_phases(
    words: list[str], *, category_id: int | None = None, department_id: int | None = None
) -> list[list[Any]]:
    """The search's phases, to try in turn: each a list of subqueries of case ids, one per
    condition every result meets. A phase's page is the search's page when the phase fills it
    (a page and one row more); the last phase is the whole search. No words: no condition.
    The filters the page has (category, department) narrow the newest cases searched first."""
    postgres = get_connection("default").capabilities.dialect == "postgres"
    filtered = category_id is not None or department_id is not None
    if not words:
        if postgres and filtered:  # see _newest_ids
            return [[_newest_ids(_published(category_id, department_id), NEWEST)], []]
        return [[]]
    if not postgres:
        return await _sqlite_phases(words, category_id, department_id)
    newest = _published(category_id, department_id) if filtered else _public_texts()
    short = any(len(word) < 3 for word in words)
    if short:  # a short word: the newest SHORT_SCAN texts only
        newest = newest.where(Field("id") >= _oldest_scanned())
    first = [_matching(newest, words, NEWEST)]
    if await _fewer_than(newest, NEWEST):  # every case the search may find: the whole search
        return [first]
    if short:  # the whole search is of the newest SHORT_SCAN texts already
        return [first, _postgres_search(words, category_id, department_id)]
    return [
        first,
        [_matching(newest, words, WIDER)],
        _postgres_search(words, category_id, department_id),
    ]


def _public_texts() -> Any:
    """PostgreSQL: the cases with a public text (a superset of the published ones), in the terms
    of migration 0015's index of them by id, which the planner walks newest first."""
    return Query.from_(Table("service_case")).where(Field("public_text").notnull())


def _newest_ids(cases: Any, count: int) -> Any:
    """PostgreSQL: the ids of the newest `count` of these cases (an index walk). A filtered
    page with no words asks for them first: the planner, which takes publication, consent and a
    public text for independent (they go together), expects a few dozen of a category's 42,000
    published cases, and gathers them all in a bitmap before it sorts them (10M cases: 290 ms,
    now 2)."""
    return cases.select(Field("id")).orderby(Field("id"), order=Order.desc).limit(count)


def _oldest_scanned() -> Any:
    """PostgreSQL: the id of the oldest of the newest SHORT_SCAN public texts."""
    scanned = _newest_ids(_public_texts(), SHORT_SCAN)
    return Query.from_(scanned.as_("scanned")).select(Min(Field("id")))


async def _fewer_than(cases: Any, count: int) -> bool:
    """PostgreSQL: whether there are fewer than `count` of these cases (an index walk)."""
    window = cases.select(Field("id")).orderby(Field("id"), order=Order.desc).limit(count)
    rows = await fetch(Query.from_(window.as_("window")).select(Count("*").as_("n")).get_sql())
    return int(rows[0]["n"]) < count


async def purge_erased_texts() -> None:
    """Merge SQLite's board index so that texts just erased leave nothing in it: FTS5 only marks
    a deleted row, and its trigrams, from which the text could be rebuilt, stay in the index's
    segments until they are merged ('optimize'). PostgreSQL's trigram index drops dead entries
    at VACUUM, which autovacuum runs."""
    if get_connection("default").capabilities.dialect == "sqlite":
        await fetch("INSERT INTO board_search(board_search) VALUES ('optimize')")


async def _sqlite_phases(
    words: list[str], category_id: int | None, department_id: int | None
) -> list[list[Any]]:
    """SQLite: the words' conditions among the newest NEWEST published cases the filters allow
    (the index match from the oldest of them on: FTS5 seeks its lists to that id), then, when
    these do not fill the page, everywhere. When a filter allows fewer cases than that, one
    phase asks the index from the oldest of them on: every case the filter allows is there.
    (Asking about those cases by id, one by one, cost 0.7 ms each for a common English word.)"""
    expression, conditions = await _sqlite_conditions(words)
    if expression is None:
        return [conditions]
    matching = BasicCriterion(_Match.match, Field("board_search"), ValueWrapper(expression))
    everywhere = Query.from_(Table("board_search")).select(Field("rowid")).where(matching)
    filtered = category_id is not None or department_id is not None
    narrowed = _published(category_id, department_id).select(Field("id")) if filtered else None
    since = await _oldest_newest(narrowed)
    if since is not None:
        newest = everywhere.where(Field("rowid") >= since)
        return [[*conditions, newest], [*conditions, everywhere]]
    if narrowed is not None:  # all of the filter's cases are from its oldest on
        rows = await fetch(narrowed.orderby(Field("id")).limit(1).get_sql())
        if not rows:
            return [[_NOTHING]]
        return [[*conditions, everywhere.where(Field("rowid") >= rows[0]["id"])]]
    return [[*conditions, everywhere]]


async def _oldest_newest(narrowed: Any | None) -> int | None:
    """SQLite: the id of the NEWEST-th newest of these cases, or of the public texts; None
    when there are fewer."""
    cases = narrowed
    if cases is None:
        cases = Query.from_(Table("board_search")).select(Field("rowid").as_("id"))
    newest = cases.orderby(Field("id"), order=Order.desc).limit(1).offset(NEWEST - 1)
    rows = await fetch(newest.get_sql())
    return int(rows[0]["id"]) if rows else None


async def _sqlite_conditions(words: list[str]) -> tuple[str | None, list[Any]]:
    """SQLite: the FTS5 expression of the words the trigram index answers (None if no word
    is), and the conditions of the others."""
    index = Table("board_search")
    groups: list[str] = []
    conditions: list[Any] = []
    for word in words:
        forms = _variants(word)
        if len(word) >= 3:
            groups.append(" OR ".join(_phrase(form) for form in forms))
            continue
        trigrams = await _trigrams_beginning(forms) if len(word) == 2 else []
        if len(word) == 2 and not trigrams:
            return None, [_NOTHING]
        if 0 < len(trigrams) < VOCABULARY_MAX:
            groups.append(" OR ".join(_phrase(trigram) for trigram in trigrams))
            continue
        # A single character, or a two-character word too common to spell out in trigrams
        # (the list would be cut, and matches lost): the newest SHORT_SCAN texts, read.
        recent = (
            Query.from_(index)
            .select(Field("rowid"), Field("words"))
            .orderby(Field("rowid"), order=Order.desc)
            .limit(SHORT_SCAN)
        ).as_("recent")
        found = _any_of([_contains(Field("words"), form) for form in forms])
        conditions.append(Query.from_(recent).select(Field("rowid")).where(found))
    expression = " AND ".join(f"({group})" for group in groups) if groups else None
    return expression, conditions


async def _trigrams_beginning(forms: list[str]) -> list[str]:
    """The trigrams of the index that begin with one of these two-character forms."""
    await fetch(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.board_vocabulary"
        " USING fts5vocab(main, board_search, 'row')"
    )
    found: list[str] = []
    for form in forms:
        rows = await fetch(
            "SELECT term FROM temp.board_vocabulary WHERE term >= ? AND term < ? LIMIT ?",
            form,
            form + "\U0010ffff",
            VOCABULARY_MAX,
        )
        found += [str(row["term"]) for row in rows]
    return found


def _postgres_search(
    words: list[str], category_id: int | None, department_id: int | None
) -> list[Any]:
    """PostgreSQL: the whole search. The trigram index also holds the category and department
    (migration 0020), so the filters go into the words' query: the index then gives only the
    filter's cases that hold the words, and only these are read to check them."""
    cases = Table("service_case")
    long_words = [w for w in words if len(w) >= 3]
    short_words = [w for w in words if len(w) < 3]
    conditions: list[Any] = []
    if long_words:
        found: Any = Field("public_text").notnull()
        for column, value in (("category_id", category_id), ("department_id", department_id)):
            if value is not None:
                found &= Field(column) == value
        for word in long_words:
            found &= _any_of([_like(RawSQL(PG_WORDS), form) for form in _variants(word)])
        conditions.append(Query.from_(cases).select(Field("id")).where(found))
    if short_words:
        conditions.append(_matching(_public_texts(), short_words, SHORT_SCAN))
    return conditions


def _published(category_id: int | None, department_id: int | None) -> Any:
    """The cases with a publication time (a superset of the published ones) in the category and
    department given, in the very terms of migration 0015's partial indexes: SQLite uses a
    partial index only for its condition as written, and PostgreSQL's planner then trusts their
    counts (with one more condition it walks every case of a department, not the newest)."""
    cases = Query.from_(Table("service_case")).where(Not(Field("published_at").isnull()))
    for column, value in (("category_id", category_id), ("department_id", department_id)):
        if value is not None:
            cases = cases.where(Field(column) == value)
    return cases


def _matching(cases: Any, words: list[str], count: int) -> Any:
    """PostgreSQL: the ids among the newest `count` of these cases that hold every word; the
    newest are read first (a LIMIT the planner keeps), then the words looked for in them."""
    recent = (
        cases.select(Field("id"), RawSQL(PG_WORDS).as_("words"))
        .orderby(Field("id"), order=Order.desc)
        .limit(count)
    ).as_("recent")
    found = [_any_of([_like(Field("words"), form) for form in _variants(w)]) for w in words]
    return Query.from_(recent).select(Field("id")).where(_all_of(found))


def _all_of(criteria: list[Any]) -> Any:
    combined = criteria[0]
    for criterion in criteria[1:]:
        combined &= criterion
    return combined


def _any_of(criteria: list[Any]) -> Any:
    combined = criteria[0]
    for criterion in criteria[1:]:
        combined |= criterion
    return combined


def _phrase(text: str) -> str:
    """An FTS5 phrase: the text in double quotes, its own quotes doubled."""
    return '"' + text.replace('"', '""') + '"'


def _contains(column: Any, text: str) -> Any:
    """SQLite: the column holds the (lower-case) text, with no wildcard to escape."""
    return Function("instr", Function("lower", column), ValueWrapper(text)) > 0


def _like(column: Any, text: str) -> Any:
    """PostgreSQL: the column holds the text. LIKE where case cannot matter (Chinese): ILIKE
    folds the case of every candidate it rechecks, which doubles the time of a common word."""
    pattern = _pattern(text)
    return column.like(pattern) if text.lower() == text.upper() else column.ilike(pattern)


def _pattern(text: str) -> str:
    """An ILIKE pattern finding `text` anywhere, its wildcards escaped (backslash escapes)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
