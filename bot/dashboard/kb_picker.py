"""The case page's article picker: choose an article and it fills the reply box.

No JavaScript: a GET form (`?kb=<code>`) reloads the case page with the article's body in the
reply text area, in the language of the case's citizen, for the staff member to adapt and send
as any reply (review, the perfunctory check). The articles of the case's category come first.
"""

from __future__ import annotations

from typing import Any

from storage.case_views import CaseView
from storage.kb_replies import article_for_case
from storage.knowledge import KbArticleNotFound, articles


async def picker(case: CaseView, language: str, default: str, chosen: str) -> dict[str, Any]:
    """The picker's choices ((code, title, of the case's category)) and the reply text."""
    found = await articles(language, default)
    found.sort(key=lambda view: (case.category_code not in view.categories, view.code))
    choices = [(v.code, v.title, case.category_code in v.categories) for v in found]
    reply_text = ""
    if chosen:
        try:
            reply_text = await article_for_case(case.tracking, chosen, default_language=default)
        except KbArticleNotFound:
            chosen = ""
    return {"kb_choices": choices, "kb_chosen": chosen, "reply_text": reply_text}
