"""The article edit form: its fields per language, and reading what was posted.

Titles, bodies and keywords (comma-separated) in the four languages, the review-by date, and
the version the editor started from (hidden: saving refuses if someone saved meanwhile). A
language may be left empty (readers then get the desk's default language, told so), but the
desk's default language needs its title and body, as in the knowledge file. Texts are cleaned
as every text that comes in (storage.plain_text): control characters are refused, invisible
format characters (bidi overrides among them) dropped. Bodies are plain text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from bot.i18n import Translator
from storage.kb_editing import ArticleTexts
from storage.plain_text import TextHasControls, clean_text

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
_SEPARATORS = re.compile(r"[,，、;；\n]")


class EditInvalid(ValueError):
    """A field of the edit form that cannot be saved; `field` names it."""

    def __init__(self, field: str, language: str = "") -> None:
        super().__init__(field)
        self.field, self.language = field, language

    def line(self, t: Translator) -> str:
        """What to tell the editor, in their language."""
        if self.field == "review_by":
            return t.gettext("Please give the review-by date as YYYY-MM-DD.")
        if self.field == "empty":
            return t.gettext(
                "Give each language both a title and a text, or neither; at least one language "
                "needs them."
            )
        if self.field == "default":
            return t.gettext(
                "The desk's language ({language}) needs a title and a text: readers of a "
                "language left empty are shown those.",
                language=dict(LANGUAGES).get(self.language, self.language),
            )
        if self.field == "controls":
            return t.gettext(
                "A title, text or keyword holds an invisible control character (often pasted "
                "from another program). Please remove it and save again; nothing was saved."
            )
        if self.field == "version":
            return t.gettext("The form had expired. Open the page again.")
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
    version: int


def edit_fields(texts: ArticleTexts) -> dict[str, str]:
    """The form's fields filled from the article as it stands."""
    fields = {"review_by": texts.review_by.isoformat(), "version": str(texts.version)}
    for language, _ in LANGUAGES:
        fields[f"title_{language}"] = texts.titles.get(language, "")
        fields[f"body_{language}"] = texts.bodies.get(language, "")
        fields[f"keywords_{language}"] = ", ".join(texts.keywords.get(language, []))
    return fields


def _checked(value: str, limit: int) -> str:
    try:
        text = clean_text(value).strip()
    except TextHasControls:
        raise EditInvalid("controls") from None
    if len(text) > limit:
        raise EditInvalid("text")
    return text


def read_edit(form: dict[str, str], default_language: str) -> ArticleEdit:
    """The posted form as an edit; EditInvalid names what is wrong."""
    version = form.get("version", "").strip()
    if not version.isascii() or not version.isdigit() or len(version) > 9:
        raise EditInvalid("version")
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
    if default_language not in titles:
        raise EditInvalid("default", default_language)
    return ArticleEdit(titles, bodies, keywords, review_by, int(version))
