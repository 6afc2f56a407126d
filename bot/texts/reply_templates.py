"""A reply template filled in for a case, in its citizen's language: the words of {number},
{department}, {due} and {category}.

The text is the template's in the citizen's language, else the desk's default language (the
names filled in follow the text's language, so a sentence never mixes two). {number} is the
tracking number as people see it, {due} the due date in the desk's zone written as the
language writes dates (bot.texts.cases.when), {department} and {category} their names; a case
with no department or no due date yet gets "—" there.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.i18n import Translator
from bot.texts.cases import short_category_name, when
from storage.case_views import CaseView
from storage.cases import case_by_tracking
from storage.catalog import DepartmentNotFound, department
from storage.citizens import citizen_language
from storage.reply_template_file import fill_placeholders
from storage.reply_templates import SIGN, TemplateView, template
from storage.tracking import format_tracking_number

NONE = "—"


async def case_language(case: CaseView, default: str) -> str:
    """The language the case's citizen reads (the default for a case with no citizen)."""
    if case.citizen_id is None:
        return default
    return await citizen_language(case.citizen_id, default)


def text_language(view: TemplateView, language: str, default: str) -> str:
    """The language of the template text used for a reader of `language`."""
    if language in view.texts:
        return language
    return default if default in view.texts else next(iter(view.texts), default)


async def fill(
    view: TemplateView,
    case: CaseView,
    *,
    language: str,
    default: str,
    zone: ZoneInfo,
    due_at: datetime | None = None,
    department: str | None = None,
) -> str:
    """The template's text for a reader of `language`, its placeholders filled from the case
    (`due_at` and `department` override the case's: the acceptance notice is filled before
    the case row is read again)."""
    lang = text_language(view, language, default)
    code = department or case.department_code
    due = due_at or case.due_at
    values = {
        "number": format_tracking_number(case.tracking),
        "department": await _department(code, lang) if code else NONE,
        "due": when(due, zone, lang) if due else NONE,
        "category": await short_category_name(case.category_code, lang),
    }
    # Checked when saved; filled by name alone all the same (a format spec is never applied).
    return fill_placeholders(view.texts.get(lang, ""), values)


async def _department(code: str, language: str) -> str:
    try:
        return (await department(code)).name(language)
    except DepartmentNotFound:
        return code


async def auto_reply_text(
    params: dict[str, Any], language: str, default: str, zone: ZoneInfo
) -> str | None:
    """The automatic first reply an acceptance notice names (`auto_reply`), filled in for a
    reader of `language`; None when it names none, or the template or case is gone."""
    code = params.get("auto_reply")
    if not code:
        return None
    try:
        view = await template(str(code))
        case = await case_by_tracking(str(params["tracking"]))
    except LookupError:
        return None
    due = params.get("due_at")
    return await fill(
        view,
        case,
        language=language,
        default=default,
        zone=zone,
        due_at=datetime.fromisoformat(str(due)) if due else None,
        department=str(params.get("department") or "") or None,
    )


def template_sign(t: Translator, sign: str) -> str | None:
    """A reviewer's words for the perfunctory sign of a template sent as it is; None for
    another sign."""
    if not sign.startswith(SIGN):
        return None
    return t.gettext("the template “{code}” with nothing added", code=sign[len(SIGN) :])


def outcome_name(t: Translator, outcome: str, auto: bool = False) -> str:
    """What a template is for, in a word or two."""
    if auto:
        return t.gettext("automatic first reply")
    names = {
        "answered": t.gettext("answer"),
        "rejected": t.gettext("not supported"),
        "asked": t.gettext("question"),
        "received": t.gettext("first reply"),
    }
    return names.get(outcome, outcome)
