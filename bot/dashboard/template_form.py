"""The reply-template edit form: a text per language, active or not, and reading what was posted.

A language may be left empty (its readers get the desk's language), but the desk's language
needs a text, as in the template file. A text may hold only the placeholders {number},
{department}, {due} and {category}, each as its name alone (a literal brace written twice);
anything else is refused with what was typed kept. Texts are cleaned as every text that comes
in (storage.plain_text). The version the editor started from travels hidden: saving refuses if
someone saved meanwhile.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.dashboard.kb_forms import LANGUAGES
from bot.i18n import Translator
from storage.plain_text import TextHasControls, clean_text
from storage.reply_template_file import (
    FORMAT_PROBLEM,
    PLACEHOLDERS,
    TEXT_MAX,
    placeholder_problems,
)
from storage.reply_templates import TemplateView


class TemplateEditInvalid(ValueError):
    """A field that cannot be saved: `field` says which problem, `language` where."""

    def __init__(self, field: str, language: str = "") -> None:
        super().__init__(field)
        self.field, self.language = field, language

    def line(self, t: Translator) -> str:
        """What to tell the editor, in their language."""
        name = dict(LANGUAGES).get(self.language, self.language)
        if self.field == "placeholder":
            return t.gettext(
                "The {language} text has a placeholder that does not exist or a single brace. "
                "Only {placeholders} may be used (write a brace itself twice). Nothing was saved.",
                language=name,
                placeholders=", ".join(f"{{{p}}}" for p in PLACEHOLDERS),
            )
        if self.field == "format":
            return t.gettext(
                "The {language} text has a placeholder with something after its name, such as "
                "{example}. Write each placeholder as its name alone: {placeholders}. Nothing "
                "was saved.",
                language=name,
                example="{number:>10}",
                placeholders=", ".join(f"{{{p}}}" for p in PLACEHOLDERS),
            )
        if self.field == "default":
            return t.gettext(
                "The desk's language ({language}) needs a text: readers of a language left "
                "empty are shown it. Nothing was saved.",
                language=name,
            )
        if self.field == "controls":
            return t.gettext(
                "The {language} text holds an invisible control character (often pasted from "
                "another program). Please remove it; nothing was saved.",
                language=name,
            )
        if self.field == "version":
            return t.gettext("The form had expired. Open the page again.")
        return t.gettext(
            "The {language} text is longer than {count} characters. Nothing was saved.",
            language=name,
            count=TEXT_MAX,
        )


@dataclass(frozen=True)
class TemplateEdit:
    texts: dict[str, str]
    active: bool
    version: int


def edit_fields(view: TemplateView) -> dict[str, str]:
    """The form's fields as the template stands."""
    fields = {f"text_{code}": view.texts.get(code, "") for code, _ in LANGUAGES}
    return fields | {"version": str(view.version), "active": "yes" if view.active else ""}


def read_template_edit(form: Mapping[str, str], default_language: str) -> TemplateEdit:
    """The posted form as an edit to save; TemplateEditInvalid names the first problem."""
    texts: dict[str, str] = {}
    for code, _ in LANGUAGES:
        try:
            text = clean_text(form.get(f"text_{code}", "")).strip()
        except TextHasControls as exc:
            raise TemplateEditInvalid("controls", code) from exc
        if len(text) > TEXT_MAX:
            raise TemplateEditInvalid("length", code)
        if text and (problems := placeholder_problems(text)):
            raise TemplateEditInvalid(
                "format" if problems == [FORMAT_PROBLEM] else "placeholder", code
            )
        if text:
            texts[code] = text
    if default_language not in texts:
        raise TemplateEditInvalid("default", default_language)
    version = form.get("version", "")
    if not version.isdigit():
        raise TemplateEditInvalid("version")
    return TemplateEdit(texts, form.get("active") == "yes", int(version))
