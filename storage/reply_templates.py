"""Reply templates (答复模板): loaded from a file, chosen for a case, edited, sent automatically.

A template belongs to a category (or to any, category None) and an outcome: "answered",
"rejected" and "asked" are texts staff fill in and adapt before sending; "received" with `auto`
is the automatic first reply of its category, sent once, when a case is first accepted (the
due date exists from then). Filling the placeholders is words (bot.texts.reply_templates);
this module stores and chooses. A reply that is a template's text with nothing added gets the
perfunctory sign "template:<code>" for its reviewer (`template_signs`).

Loading (`minsheng templates load FILE`, the sample in the demo) checks the whole file first
(storage.reply_template_file), then writes in one transaction: new codes at version 1, changed
ones a version up, codes left out made inactive. Like the knowledge base, the file is the
source of truth: reloading replaces what was edited on the dashboard since.
"""

from __future__ import annotations

import asyncio
import re
import string
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from tortoise.transactions import in_transaction

from storage.cases import case_by_tracking
from storage.desk_models import ReplyTemplate
from storage.models import Category, Event
from storage.reply_template_file import (
    TemplateFileInvalid,
    TemplateSpec,
    placeholder_problems,
    read_template_file,
)
from storage.staff import StaffAction, StaffNotAuthorized, check
from storage.toml_files import LoadReport

SAMPLE_TEMPLATES = Path(__file__).with_name("sample_templates.toml")
REPLY_OUTCOMES = ("answered", "rejected")  # what /reply and the reply box send
SIGN = "template:"  # the perfunctory sign of a template sent with nothing added

__all__ = ["TemplateFileInvalid"]


class ReplyTemplateNotFound(LookupError):
    """No active template with this code."""


class ReplyTemplateChanged(Exception):
    """Someone saved the template since the editor opened it; nothing was saved."""

    def __init__(self, code: str, version: int) -> None:
        super().__init__(f"template {code} is at version {version}")
        self.version = version


@dataclass(frozen=True)
class TemplateView:
    code: str
    category_code: str | None
    outcome: str
    texts: dict[str, str]
    auto: bool
    active: bool
    version: int
    updated_at: datetime
    updated_by: int | None


def _view(row: ReplyTemplate) -> TemplateView:
    return TemplateView(
        row.code,
        row.category_code,
        row.outcome,
        dict(row.texts or {}),
        row.auto,
        row.active,
        row.version,
        row.updated_at,
        row.updated_by,
    )


async def templates_loaded() -> bool:
    """Whether this desk has any template (the demo loads the sample otherwise)."""
    return await ReplyTemplate.exists()


async def load_templates(path: Path, *, default_language: str, now: datetime) -> LoadReport:
    """Check a template file whole, then write it in one transaction (module docstring).
    Raises TemplateFileInvalid (each problem with its line) and changes nothing if wrong."""
    leaves = await Category.filter(parent_id__isnull=False).values_list("code", flat=True)
    categories = frozenset(str(code) for code in leaves)
    specs = await asyncio.to_thread(read_template_file, path, categories, default_language)
    created = updated = unchanged = 0
    async with in_transaction():
        existing = {t.code: t for t in await ReplyTemplate.all().select_for_update()}
        for spec in specs:
            wanted = _values(spec)
            row = existing.get(spec.code)
            if row is None:
                await ReplyTemplate.create(code=spec.code, updated_at=now, **wanted)
                created += 1
            elif all(getattr(row, key) == value for key, value in wanted.items()):
                unchanged += 1
            else:
                changes = wanted | {"version": row.version + 1, "updated_at": now}
                await row.update_from_dict(changes | {"updated_by": None})
                await row.save()
                updated += 1
        listed = {s.code for s in specs}
        gone = sorted(code for code, row in existing.items() if row.active and code not in listed)
        if gone:
            await ReplyTemplate.filter(code__in=gone).update(active=False, updated_at=now)
    return LoadReport("templates", created, updated, unchanged, tuple(gone))


def _values(spec: TemplateSpec) -> dict[str, Any]:
    return {
        "category_code": spec.category,
        "outcome": spec.outcome,
        "auto": spec.auto,
        "texts": spec.texts,
        "active": True,
    }


async def all_templates() -> list[TemplateView]:
    """Every template, active or not: by category (any first), outcome and code."""
    rows = await ReplyTemplate.all()
    views = [_view(row) for row in rows]
    views.sort(key=lambda v: (v.category_code or "", v.outcome, v.code))
    return views


async def template(code: str) -> TemplateView:
    """One template, active or not; ReplyTemplateNotFound."""
    row = await ReplyTemplate.filter(code=code).first()
    if row is None:
        raise ReplyTemplateNotFound(code)
    return _view(row)


async def templates_for(category_code: str, outcomes: Sequence[str]) -> list[TemplateView]:
    """The active templates fitting a case of this category: its own first, then any
    category's, each by outcome (in the order given) and code."""
    rows = await ReplyTemplate.filter(active=True, outcome__in=list(outcomes), auto=False).all()
    views = [_view(r) for r in rows if r.category_code in (None, category_code)]
    views.sort(key=lambda v: (v.category_code is None, list(outcomes).index(v.outcome), v.code))
    return views


async def may_edit_template(user_id: int, view: TemplateView) -> bool:
    """Whether this staff member may change the template: the rule of knowledge-base articles,
    with the department of the template's category (any category: admins and supervisors
    over the whole desk only)."""
    try:
        await check(user_id, StaffAction.EDIT_ARTICLE, [await _department_of(view.category_code)])
    except StaffNotAuthorized:
        return False
    return True


async def _department_of(category_code: str | None) -> int | None:
    if category_code is None:
        return None
    row = await Category.filter(code=category_code).first().values("department_id")
    return None if row is None else int(row["department_id"])


async def save_template(
    code: str,
    *,
    texts: dict[str, str],
    active: bool,
    expected_version: int,
    by: int,
    now: datetime,
) -> int:
    """Save edited texts (placeholders checked by the caller: `placeholder_problems`) as a new
    version; its number. Raises StaffNotAuthorized, ReplyTemplateNotFound,
    ReplyTemplateChanged (saved by someone else since `expected_version`)."""
    if any(placeholder_problems(text) for text in texts.values()):
        raise ValueError("a text has a placeholder that is not known")
    async with in_transaction():
        row = await ReplyTemplate.filter(code=code).select_for_update().first()
        if row is None:
            raise ReplyTemplateNotFound(code)
        await check(by, StaffAction.EDIT_ARTICLE, [await _department_of(row.category_code)])
        if row.version != expected_version:
            raise ReplyTemplateChanged(code, row.version)
        row.texts, row.active, row.version = texts, active, row.version + 1
        row.updated_at, row.updated_by = now, by
        await row.save()
        return row.version


async def auto_reply_facts(case_id: int, category_id: int) -> dict[str, str]:
    """What the acceptance notice carries for the automatic first reply: {"auto_reply": code}
    when the case's category (or any category) has an active one and the case never had it
    (a case accepted again after it was sent back does not get it twice); else {}."""
    row = await Category.filter(id=category_id).first().values("code")
    category = row["code"] if row else None
    autos = await ReplyTemplate.filter(active=True, auto=True, outcome="received").values(
        "code", "category_code"
    )
    mine = [a for a in autos if a["category_code"] == category]
    chosen = mine or [a for a in autos if a["category_code"] is None]
    if not chosen:
        return {}
    accepted = await Event.filter(case_id=case_id, kind="accepted").values_list(
        "payload", flat=True
    )
    if any(isinstance(p, dict) and p.get("auto_reply") for p in accepted):
        return {}
    return {"auto_reply": str(chosen[0]["code"])}


def _shape(text: str) -> re.Pattern[str]:
    """A template text as a pattern: its words as written, any placeholder as any short text,
    runs of white space as one."""
    parts: list[str] = []
    for literal, name, _, _ in string.Formatter().parse(_flat(text)):
        parts.append(re.escape(literal))
        if name is not None:
            parts.append(r".{0,200}?")
    return re.compile("".join(parts), re.DOTALL)


def _flat(text: str) -> str:
    return " ".join(text.split())


async def template_signs(tracking: str, text: str) -> tuple[str, ...]:
    """("template:<code>",) when the reply is a template of the case's category filled in
    with nothing added (in any language); () otherwise, or for an unknown case."""
    try:
        case = await case_by_tracking(tracking)
    except LookupError:
        return ()
    sent = _flat(text)
    for view in await templates_for(case.category_code, ("answered", "rejected", "asked")):
        for body in view.texts.values():
            try:
                if _shape(body).fullmatch(sent):
                    return (SIGN + view.code,)
            except ValueError:  # a text saved before its braces were checked
                continue
    return ()
