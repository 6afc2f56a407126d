"""The department chooser under a new-case card: the department tree a level at a time, paged.

A desk may have hundreds of departments (a city's bureaus, its districts and their offices), so
Accept never lists them all. It opens at the top of the tree (below a lone root, the city):
the proposed department first (storage.proposals), then that level's departments (in English
name order, the same in every language), eight a page. A
department with departments under it opens its level ("Housing Bureau ›"), where it can be
chosen itself; « Back climbs a level, and from the top returns to the card's own buttons.

    card ──Accept──▶ top level ──"District ›"──▶ its level ──Next ›──▶ its next page
                        │                            └──office──▶ accepted (handlers.staff_cases)
                        └──« Back──▶ card
"""

from __future__ import annotations

import re
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.i18n import Translator
from handlers.buttons import NUMBER_GROUP
from storage.case_views import CaseView
from storage.catalog import DepartmentView, departments

PER_PAGE = 8
TOP = 0  # the top level, in a button's data
# st:grp:<number>:<department whose level is shown, 0 for the top>:<page>; at most 36 bytes.
GROUP_PATTERN = re.compile(rf"^st:grp:{NUMBER_GROUP}:(\d{{1,9}}):(\d{{1,3}})\Z")

Children = dict[int | None, list[DepartmentView]]


def group_data(tracking: str, level: int | None, page: int = 1) -> str:
    return f"st:grp:{tracking}:{level or TOP}:{page}"


def choose_data(tracking: str, department: DepartmentView) -> str:
    return f"st:dep:{tracking}:{department.id}"


def tree(found: list[DepartmentView]) -> Children:
    """Each department's active children (None: the top); one under an inactive parent is
    shown at the top."""
    by_code = {d.code: d for d in found}
    children: Children = {}
    for department in found:
        parent = by_code.get(department.parent_code or "")
        children.setdefault(parent.id if parent else None, []).append(department)
    return children


def order(department: DepartmentView) -> list[Any]:
    """The same order in every language: by English name, numbers as numbers (District 2
    before District 10); Chinese names in code-point order would read as random."""
    parts = re.split(r"(\d+)", department.name("en") or department.code)
    return [(0, int(part), "") if part.isdigit() else (1, 0, part.casefold()) for part in parts]


def top_level(children: Children) -> int | None:
    """Where the chooser opens: the top, or the level below a lone root (the city)."""
    roots = children.get(None, [])
    return roots[0].id if len(roots) == 1 and roots[0].id in children else None


async def department_keyboard(
    case: CaseView, t: Translator, level: int | None = None, page: int = 1
) -> InlineKeyboardMarkup:
    """One page of one level of the department tree (`level` None or unknown: the top)."""
    found = await departments()
    by_id = {d.id: d for d in found}
    children = tree(found)
    top = top_level(children)
    if level not in by_id:
        level = top

    def name(department: DepartmentView) -> str:
        return department.name(t.language) or department.code

    def choice(department: DepartmentView) -> list[InlineKeyboardButton]:
        return [
            InlineKeyboardButton(
                name(department), callback_data=choose_data(case.tracking, department)
            )
        ]

    rows: list[list[InlineKeyboardButton]] = []
    proposed = next((d for d in found if d.code == case.proposed_department_code), None)
    if level == top and proposed is not None:  # the proposed department, first
        rows.append(choice(proposed))
    if level is not None and by_id[level] is not proposed:
        rows.append(choice(by_id[level]))  # the level's own department takes cases too
    entries = sorted(children.get(level, []), key=order)
    pages = max(1, -(-len(entries) // PER_PAGE))
    page = min(max(1, page), pages)
    for department in entries[(page - 1) * PER_PAGE : page * PER_PAGE]:
        if department.id in children:
            label = f"{name(department)} ›"
            data = group_data(case.tracking, department.id)
            rows.append([InlineKeyboardButton(label, callback_data=data)])
        elif department is not proposed or level != top:
            rows.append(choice(department))
    nav = []
    if page > 1:
        data = group_data(case.tracking, level, page - 1)
        nav.append(InlineKeyboardButton(t.gettext("‹ Prev"), callback_data=data))
    if page < pages:
        data = group_data(case.tracking, level, page + 1)
        nav.append(InlineKeyboardButton(t.gettext("Next ›"), callback_data=data))
    if nav:
        rows.append(nav)
    if level == top or level is None:
        back = f"st:back:{case.tracking}"  # the card's own buttons again
    else:
        up = next((d for d in found if d.code == by_id[level].parent_code), None)
        back = group_data(case.tracking, up.id if up is not None else top)
    rows.append([InlineKeyboardButton(t.gettext("« Back"), callback_data=back)])
    return InlineKeyboardMarkup(rows)
