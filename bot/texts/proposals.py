"""The routing proposal in words: which department a new case is proposed for, and why.

Why is one of three (storage.proposals): the case's category is local (属地) and its place is in
a street or district; the category is functional and its department handles it wherever it is;
or a local category with no place, or a place outside every area, falls back to the category's
own department.
"""

from __future__ import annotations

from bot.i18n import Translator
from storage.areas import area
from storage.case_views import CaseView


async def _ground(case: CaseView, t: Translator) -> tuple[str | None, str]:
    """The proposal's ground as one of "local", "functional", "outside" (a place outside every
    area), "no_place", or None; and, for "local", the area's name."""
    reason = case.proposal_reason or {}
    kind = reason.get("kind")
    if kind == "local":
        found = await area(str(reason.get("area")))
        return "local", found.name(t.language) if found is not None else str(reason.get("area"))
    if kind == "functional":
        return "functional", ""
    if kind == "category" and case.location is not None and case.location.latitude is not None:
        return "outside", ""
    return ("no_place" if kind == "category" else None), ""


async def proposal_line(case: CaseView, t: Translator, department: str) -> str:
    """ "Proposed: <department> — <why>", given the proposed department's name."""
    ground, where = await _ground(case, t)
    if ground == "local":
        return t.gettext(
            "Proposed: {department} — local: in {area}", department=department, area=where
        )
    if ground == "functional":
        return t.gettext(
            "Proposed: {department} — functional: it handles this category wherever it is",
            department=department,
        )
    if ground == "outside":
        return t.gettext(
            "Proposed: {department} — the category's department: the place is outside every area",
            department=department,
        )
    if ground == "no_place":
        return t.gettext(
            "Proposed: {department} — the category's department: no place was given",
            department=department,
        )
    return t.gettext("Proposed department: {department}", department=department)


async def proposal_why(case: CaseView, t: Translator) -> str | None:
    """Why the proposed department, alone ("local: in Heping Street"); None without a ground."""
    ground, where = await _ground(case, t)
    if ground == "local":
        return t.gettext("local: in {area}", area=where)
    if ground == "functional":
        return t.gettext("functional: it handles this category wherever it is")
    if ground == "outside":
        return t.gettext("the category's department: the place is outside every area")
    if ground == "no_place":
        return t.gettext("the category's department: no place was given")
    return None
