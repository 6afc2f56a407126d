"""The article edit form: its fields per language, and reading what was posted.

Titles, bodies and keywords (comma-separated) in the four languages, and the review-by date.
A language may be left empty (readers then get the desk's default language, told so), but at
least one title and body must be given. Bodies are plain text, as in the knowledge file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from bot.i18n import Translator
from storage.kb_editing import ArticleTexts

# The languages of the form, named as each names itself (the same in every interface language).
LANGUAGES = (
    ("en", "English"),
    ("zh_Hans", "简体中文"),
    ("zh_Hant", "繁體中文"),
    ("ru", "Русский"),
)
TITLE_MAX = 200
BODY_MAX = 3000
KEYWORDS_MAX = 500
# Control characters other than line breaks and tabs have no place in an article.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SEPARATORS = re.compile(r"[,，、;；\n]")


class EditInvalid(ValueError):
    """A field of the edit form that cannot be saved; `field` names it."""

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field

    def line(self, t: Translator) -> str:
        """What to tell the editor, in their language."""
        if self.field == "review_by":
            return t.gettext("Please give the review-by date as YYYY-MM-DD.")
        if self.field == "empty":
            return t.gettext(
                "Give each language both a title and a text, or neither; at least one language "
                "needs them."
            )
        return t.gettext(
            "Titles may have at most {title} characters, texts {body}, keywords {keywords}, "
            "and none may hold control characters.",
            title=TITLE_MAX,
            body=BODY_MAX,
            keywords=KEYWORDS_MAX,
        )


@dataclass(frozen=True)
class ArticleEdit:
    titles: dict[str, str]
    bodies: dict[str, str]
    keywords: dict[str, list[str]]
    review_by: date


def edit_fields(texts: ArticleTexts) -> dict[str, str]:
    """The form's fields filled from the article as it stands."""
    fields = {"review_by": texts.review_by.isoformat()}
    for language, _ in LANGUAGES:
        fields[f"title_{language}"] = texts.titles.get(language, "")
        fields[f"body_{language}"] = texts.bodies.get(language, "")
        fields[f"keywords_{language}"] = ", ".join(texts.keywords.get(language, []))
    return fields


def _checked(value: str, limit: int) -> str:
    text = value.replace("\r\n", "\n").strip()
    if len(text) > limit or _CONTROL.search(text):
        raise EditInvalid("text")
    return text


def read_edit(form: dict[str, str]) -> ArticleEdit:
    """The posted form as an edit; EditInvalid names what is wrong."""
    try:
        review_by = date.fromisoformat(form.get("review_by", "").strip())
    except ValueError:
        raise EditInvalid("review_by") from None
    titles, bodies, keywords = {}, {}, {}
    for language, _ in LANGUAGES:
        title = _checked(form.get(f"title_{language}", ""), TITLE_MAX)
        body = _checked(form.get(f"body_{language}", ""), BODY_MAX)
        words = _checked(form.get(f"keywords_{language}", ""), KEYWORDS_MAX)
        if title and body:
            titles[language], bodies[language] = title, body
        elif title or body:
            raise EditInvalid("empty")
        found = [word.strip() for word in _SEPARATORS.split(words) if word.strip()]
        if found:
            keywords[language] = found
    if not titles:
        raise EditInvalid("empty")
    return ArticleEdit(titles, bodies, keywords, review_by)
