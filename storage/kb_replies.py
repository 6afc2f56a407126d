"""A reply that quotes a knowledge-base article: `kb:<code>` and what staff typed after it.

The article is quoted in the language of the case's citizen (falling back to the desk's default
language when it has no text in theirs, or the case has no citizen: filed by phone, or the
citizen was forgotten). What comes of it is an ordinary reply text: it then goes through the
same path as any other (review, the perfunctory check), so nothing here sends anything.
"""

from __future__ import annotations

import re

from storage.cases import case_by_tracking
from storage.citizens import citizen_language
from storage.knowledge import KbArticleNotFound, article

PREFIX = "kb:"
CODE = re.compile(r"[a-z0-9][a-z0-9.-]{0,63}")  # what an article code may be (storage.kb_file)


def quoted_code(text: str) -> str | None:
    """The article code a reply text starts with (`kb:<code>`), or None for an ordinary reply."""
    first = text.strip().split(maxsplit=1)[0] if text.strip() else ""
    if not first.lower().startswith(PREFIX):
        return None
    return first[len(PREFIX) :].lower()


async def article_for_case(tracking: str, code: str, *, default_language: str) -> str:
    """An article's body in the language of the case's citizen (else the desk's default).
    Raises KbArticleNotFound (for anything that is no article code, without asking the
    database), CaseNotFound."""
    if not CODE.fullmatch(code):
        raise KbArticleNotFound(code)
    case = await case_by_tracking(tracking)
    language = default_language
    if case.citizen_id is not None:
        language = await citizen_language(case.citizen_id, default_language)
    return (await article(code, language, default_language)).body


async def reply_with_article(tracking: str, text: str, *, default_language: str) -> str:
    """The reply text for `kb:<code> [more words]` on a case: the article's body in the
    citizen's language, then what was typed after the code. Raises KbArticleNotFound for an
    unknown or empty code, CaseNotFound for an unknown case."""
    code = quoted_code(text)
    if not code:
        raise KbArticleNotFound(text)
    rest = text.strip().split(maxsplit=1)[1:]
    body = await article_for_case(tracking, code, default_language=default_language)
    return "\n\n".join([body, *(part.strip() for part in rest)])
