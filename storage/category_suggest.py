"""Category suggestion: the categories a description reads as, for a citizen who is not sure and
for the staff card when the citizen chose another.

The ranking is storage.category_rank's; this module gives it its words. From the catalogue: the
active leaf categories that are filed (not emergencies), their names and their domain's in every
language, their questions, their `keywords`, and the titles and keywords of the knowledge-base
articles filed under them. From the desk's history: the descriptions of the last
HISTORY_PER_CATEGORY cases of each category that were closed without being passed on (no
transfer, no send-back: `transfer_count` counts both, and a "sent_back" event is checked too),
and not erased at the citizen's request.

The ranker is built once per process and rebuilt at most every REFRESH_SECONDS, or at once when
another catalogue is loaded (its load time is the key) or another database is opened, so a
filing costs a ranking, not a read of the history; it is built in a worker thread, one rebuild
at a time (RankerCache). The history is used to rank and for nothing
else: the index keeps token counts, and nothing of a citizen's text is shown to anyone by it.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from typing import Any

from storage.catalog import CategoryView, category, category_by_id
from storage.catalog_cache import snapshot
from storage.category_rank import CategoryWords, Ranker, better_than, build_ranker, rank
from storage.models import CatalogMeta, Category, KbArticle
from storage.sql import fetch

HISTORY_PER_CATEGORY = 200
REFRESH_SECONDS = 300.0
META_KEY = "default"  # storage.catalog's row of catalogue-wide settings

_HISTORY_SQL = """
SELECT c.text FROM service_case c
WHERE c.category_id = ? AND c.status = 'closed' AND c.transfer_count = 0
  AND c.erased_at IS NULL
  AND NOT EXISTS (SELECT 1 FROM case_event e WHERE e.case_id = c.id AND e.kind = 'sent_back')
ORDER BY c.id DESC LIMIT ?
"""


async def catalogue_words() -> list[CategoryWords]:
    """What the catalogue (and the knowledge base) says of each category one may file under."""
    leaves = Category.filter(active=True, emergency=False, parent__active=True)
    rows = await leaves.values("code", "names", "questions", "parent__names")
    meta = await CatalogMeta.get_or_none(key=META_KEY)
    found = meta.data.get("keywords") if meta is not None else None
    keywords: dict[str, Any] = found if isinstance(found, dict) else {}
    articles: dict[str, list[str]] = defaultdict(list)
    for article in await KbArticle.filter(active=True).values("categories", "titles", "keywords"):
        words = [*(article["titles"] or {}).values()]
        words += [k for ks in (article["keywords"] or {}).values() for k in ks]
        for code in article["categories"] or ():
            articles[str(code)] += words
    return [
        CategoryWords(
            code=row["code"],
            names=(*row["names"].values(), *(row["parent__names"] or {}).values()),
            texts=(*_question_texts(row["questions"] or []), *articles.get(row["code"], ())),
            keywords=tuple(str(k) for k in keywords.get(row["code"], ())),
        )
        for row in sorted(rows, key=lambda r: str(r["code"]))
    ]


def _question_texts(questions: list[dict[str, Any]]) -> list[str]:
    texts: list[str] = []
    for question in questions:
        texts += question.get("prompt", {}).values()
        texts += (question.get("label") or {}).values()
        for choice in question.get("choices", ()):
            texts += choice.get("names", {}).values()
    return texts


async def case_history(per_category: int = HISTORY_PER_CATEGORY) -> dict[str, list[str]]:
    """Category code → the descriptions of its latest cases closed without being passed on."""
    found: dict[str, list[str]] = {}
    for cat in await Category.filter(active=True, parent_id__not_isnull=True).values("id", "code"):
        rows = await fetch(_HISTORY_SQL, cat["id"], per_category)
        texts = [str(r["text"]) for r in rows if r["text"]]
        if texts:
            found[str(cat["code"])] = texts
    return found


class RankerCache:
    """The ranker of this process: rebuilt when stale or when another catalogue was loaded.

    The words are read on the event loop; the index is built in a worker thread (60
    categories with 200 past cases each take over a second, which would stop every chat), and
    one rebuild at a time: a caller arriving meanwhile waits for it and takes its ranker."""

    def __init__(self) -> None:
        self._key: tuple[object, object] | None = None
        self._built = 0.0
        self._ranker: Ranker | None = None
        self._lock: asyncio.Lock | None = None
        self._lock_loop: asyncio.AbstractEventLoop | None = None

    async def get(self) -> Ranker:
        # The database too: a process may open another (the tests do), with its own history.
        key = (await snapshot()).key
        if (ranker := self._current(key)) is not None:
            return ranker
        async with self._rebuilding():
            if (ranker := self._current(key)) is not None:  # rebuilt while this one waited
                return ranker
            words, history = await catalogue_words(), await case_history()
            ranker = await asyncio.to_thread(build_ranker, words, history)
            self._ranker, self._key, self._built = ranker, key, time.monotonic()
            return ranker

    def _current(self, key: tuple[object, object]) -> Ranker | None:
        fresh = time.monotonic() - self._built < REFRESH_SECONDS
        return self._ranker if key == self._key and fresh else None

    def _rebuilding(self) -> asyncio.Lock:
        """The lock of the running event loop (a lock serves one loop; a process may run
        several one after another, as the tests do)."""
        loop = asyncio.get_running_loop()
        if self._lock is None or self._lock_loop is not loop:
            self._lock, self._lock_loop = asyncio.Lock(), loop
        return self._lock


_RANKER = RankerCache()


async def suggest_categories(text: str, *, limit: int = 3) -> list[CategoryView]:
    """The categories a citizen's description reads most like, best first (may be fewer)."""
    codes = rank(await _RANKER.get(), text, limit=limit)
    return [await category(code) for code in codes]


async def suggestion_for(text: str, chosen_code: str) -> int | None:
    """The id of the category the description reads as, when clearly not the chosen one."""
    best = better_than(await _RANKER.get(), text, chosen_code)
    if best is None:
        return None
    return (await category(best)).id


async def fileable_category(category_id: int) -> CategoryView | None:
    """The category with this row id if a citizen may file under it (active, a leaf, no
    emergency), else None."""
    found = await category_by_id(category_id)
    if found is None:
        return None
    return found if found.active and not found.is_domain and not found.emergency else None


async def suggested_category_of(tracking: str) -> str | None:
    """The code of the category suggested to staff for a case, if there is one."""
    row = await fetch(
        "SELECT s.code FROM service_case c JOIN category s ON s.id = c.suggested_category_id"
        " WHERE c.tracking = ?",
        tracking,
    )
    return str(row[0]["code"]) if row else None
