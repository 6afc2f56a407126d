"""Reading and checking a catalogue file (TOML) before anything is written.

The whole file is checked first and every problem is reported with the place it is in, so an
operator fixes the file in one go and a bad file never half-loads. The shape:

    [emergency]            numbers (array of {number, names}), keywords ({lang: [..]})
    [service_area]         optional: center = [lat, lon], radius_km
    [[department]]         code, names, parent?, review_required?, active?,
                           topic_id? (its topic in the staff forum) | chat_id? (a chat of its own)
    [[domain]]             code, names, department? (default for its categories), active?
    [[domain.category]]    code, names, department?, time_limit_hours | time_limit_working_days,
                           location_required?, emergency?, active?,
                           scope? ("functional", the default, or "local"),
                           keywords? (words citizens use for it, any language), [[…question]]
    [[…question]]          code, type, prompt, label? (short, for summaries), required?,
                           min?, max? (number), [[…choice]]
    [[…choice]]            code, names
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storage.catalog_checks import CatalogInvalid, Checker, Names, is_number
from storage.emergency import check_emergency, check_service_area

QUESTION_TYPES = ("number", "date", "choice", "text")
MAX_HOURS = 24 * 30
MAX_WORKING_DAYS = 60


@dataclass(frozen=True)
class DepartmentSpec:
    code: str
    parent: str | None
    names: Names
    review_required: bool
    active: bool
    topic_id: int | None = None  # where its cards go (storage.staff_destinations)
    chat_id: int | None = None


@dataclass(frozen=True)
class CategorySpec:
    code: str
    parent: str | None  # the domain's code; None for a domain
    names: Names
    department: str | None
    time_limit_hours: int | None
    time_limit_working_days: int | None
    location_required: bool
    emergency: bool
    questions: list[dict[str, Any]]
    sort: int
    active: bool
    scope: str = "functional"  # or "local" (属地): to the department of the case's area
    keywords: tuple[str, ...] = ()  # words citizens use for it, any language (suggestions)


@dataclass(frozen=True)
class CatalogSpec:
    departments: list[DepartmentSpec]  # parents before their children
    categories: list[CategorySpec]  # domains before their categories
    meta: dict[str, Any]  # {"emergency": {"numbers": [..], "keywords": {..}}, "service_area": ..}


def read_catalog_file(path: Path) -> CatalogSpec:
    """Parse and check a catalogue file; raises CatalogInvalid naming every problem."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CatalogInvalid([(str(path), str(exc))]) from exc
    check = Checker()
    root = check.table(raw, "file", {"emergency", "service_area", "department", "domain"})
    departments = _departments(check, root)
    categories = _categories(check, root, {d.code: d for d in departments})
    meta = {
        "emergency": check_emergency(check, root.get("emergency")),
        "service_area": check_service_area(check, root.get("service_area")),
        "keywords": {c.code: list(c.keywords) for c in categories if c.keywords},
    }
    if check.problems:
        raise CatalogInvalid(check.problems)
    return CatalogSpec(_parents_first(departments), categories, meta)


def _departments(check: Checker, root: dict[str, Any]) -> list[DepartmentSpec]:
    specs = []
    for i, item in enumerate(check.items(root, "department", "file"), start=1):
        where = f"department #{i}"
        keys = {"code", "parent", "names", "review_required", "active", "topic_id", "chat_id"}
        table = check.table(item, where, keys)
        code = check.code(table, where)
        where = f"department {code!r}" if code else where
        parent = table.get("parent")
        if parent is not None and not isinstance(parent, str):
            check.fail(where, f"parent must be a department code, got {parent!r}")
            parent = None
        names = check.names(table.get("names"), where)
        review = check.flag(table, "review_required", where, default=True)
        active = check.flag(table, "active", where, default=True)
        topic_id, chat_id = department_place(check, table, where)
        specs.append(DepartmentSpec(code, parent, names, review, active, topic_id, chat_id))
    if not specs:
        check.fail("file", "no [[department]] at all")
    check.unique([d.code for d in specs], "department")
    by_code = {d.code: d for d in specs}
    for spec in specs:
        if spec.parent is not None and spec.parent not in by_code:
            check.fail(f"department {spec.code!r}", f"parent {spec.parent!r} is not a department")
    for spec in specs:  # a loop in the tree would never end when walked
        seen, node = {spec.code}, spec.parent
        while node in by_code and node not in seen:
            seen.add(node)
            node = by_code[node].parent
        if node == spec.code:
            check.fail(f"department {spec.code!r}", "is its own ancestor")
    return specs


def department_place(
    check: Checker, table: dict[str, Any], where: str
) -> tuple[int | None, int | None]:
    """A department's topic in the staff forum (a positive thread id) or its own group chat (a
    negative chat id); not both."""
    topic, chat = table.get("topic_id"), table.get("chat_id")
    if topic is not None and (type(topic) is not int or topic <= 0):
        check.fail(where, f"topic_id must be a positive message_thread_id, got {topic!r}")
        topic = None
    if chat is not None and (type(chat) is not int or chat >= 0):
        check.fail(where, f"chat_id must be a group's id (negative), got {chat!r}")
        chat = None
    if topic is not None and chat is not None:
        check.fail(where, "topic_id and chat_id: name one place for its cards, not both")
    return topic, chat


def _parents_first(specs: list[DepartmentSpec]) -> list[DepartmentSpec]:
    placed: set[str | None] = {None}
    ordered: list[DepartmentSpec] = []
    while len(ordered) < len(specs):
        for spec in specs:
            if spec.code not in placed and spec.parent in placed:
                ordered.append(spec)
                placed.add(spec.code)
    return ordered


def _categories(
    check: Checker, root: dict[str, Any], departments: dict[str, DepartmentSpec]
) -> list[CategorySpec]:
    domains: list[CategorySpec] = []
    leaves: list[CategorySpec] = []
    domain_keys = {"code", "names", "department", "active", "category"}
    for d, item in enumerate(check.items(root, "domain", "file"), start=1):
        where = f"domain #{d}"
        table = check.table(item, where, domain_keys)
        code = check.code(table, where)
        where = f"domain {code!r}" if code else where
        default_department = table.get("department")
        if default_department is not None and (
            not isinstance(default_department, str) or default_department not in departments
        ):
            check.fail(where, f"department {default_department!r} is not in the file")
        names = check.names(table.get("names"), where)
        active = check.flag(table, "active", where, default=True)
        domains.append(
            CategorySpec(code, None, names, None, None, None, False, False, [], d, active)
        )
        items = check.items(table, "category", where)
        if not items:
            check.fail(where, "has no [[domain.category]]")
        context = (code, default_department, departments)
        leaves += [
            _leaf(check, leaf, f"{where} › category #{c}", c, *context)
            for c, leaf in enumerate(items, start=1)
        ]
    if not domains:
        check.fail("file", "no [[domain]] at all")
    check.unique([c.code for c in domains + leaves], "category")
    return domains + leaves


_LEAF_KEYS = {
    "code",
    "names",
    "department",
    "time_limit_hours",
    "time_limit_working_days",
    "location_required",
    "emergency",
    "active",
    "question",
    "scope",
    "keywords",
}
SCOPES = ("functional", "local")


def _leaf(
    check: Checker,
    item: object,
    where: str,
    sort: int,
    domain: str,
    default_department: object,
    departments: dict[str, DepartmentSpec],
) -> CategorySpec:
    table = check.table(item, where, _LEAF_KEYS)
    code = check.code(table, where)
    where = f"category {code!r}" if code else where
    names = check.names(table.get("names"), where)
    emergency = check.flag(table, "emergency", where, default=False)
    hours = check.whole(table, "time_limit_hours", where, MAX_HOURS)
    days = check.whole(table, "time_limit_working_days", where, MAX_WORKING_DAYS)
    if emergency and (hours or days):
        check.fail(where, "an emergency is diverted, never filed: it takes no time limit")
    elif not emergency and (hours is None) == (days is None):
        check.fail(where, "needs exactly one of time_limit_hours, time_limit_working_days")
    own = table.get("department")
    department = own if own is not None else default_department
    if department is None:
        if not emergency:
            check.fail(where, "has no department (set one here or on its domain)")
    elif not isinstance(department, str) or department not in departments:
        if own is not None:  # a wrong default is reported once, on its domain
            check.fail(where, f"department {department!r} is not in the file")
    elif not departments[department].active:
        check.fail(where, f"department {department!r} is inactive")
    scope = table.get("scope", SCOPES[0])
    if scope not in SCOPES:
        check.fail(where, f"scope must be one of {', '.join(SCOPES)}, got {scope!r}")
    questions = [
        _question(check, q, f"{where} › question #{i}")
        for i, q in enumerate(check.items(table, "question", where), start=1)
    ]
    check.unique([q["code"] for q in questions], f"{where} › question")
    return CategorySpec(
        code=code,
        parent=domain,
        names=names,
        department=department if isinstance(department, str) else None,
        time_limit_hours=hours,
        time_limit_working_days=days,
        location_required=check.flag(table, "location_required", where, default=False),
        emergency=emergency,
        questions=questions,
        sort=sort,
        active=check.flag(table, "active", where, default=True),
        scope=scope if scope in SCOPES else SCOPES[0],
        keywords=_keywords(check, table.get("keywords", []), where),
    )


def _keywords(check: Checker, value: object, where: str) -> tuple[str, ...]:
    """A category's keywords: a list of words or phrases, in any of the languages."""
    if not isinstance(value, list) or not all(isinstance(k, str) and k.strip() for k in value):
        check.fail(where, "keywords must be a list of words or phrases")
        return ()
    return tuple(k.strip() for k in value)


def _question(check: Checker, item: object, where: str) -> dict[str, Any]:
    keys = {"code", "type", "required", "min", "max", "choice", "prompt", "label"}
    table = check.table(item, where, keys)
    code = check.code(table, where)
    where = f"{where} {code!r}" if code else where
    kind = table.get("type")
    if kind not in QUESTION_TYPES:
        check.fail(where, f"type must be one of {', '.join(QUESTION_TYPES)}, got {kind!r}")
    question: dict[str, Any] = {
        "code": code,
        "type": kind,
        "required": check.flag(table, "required", where, default=False),
        "prompt": check.names(table.get("prompt"), where, "prompt"),
    }
    if "label" in table:
        question["label"] = check.names(table.get("label"), where, "label")
    for bound in ("min", "max"):
        value = table.get(bound)
        if value is None:
            continue
        if kind != "number" or not is_number(value):
            check.fail(where, f"{bound} is for number questions and must be a number")
        else:
            question[bound] = value
    if "min" in question and "max" in question and question["min"] > question["max"]:
        check.fail(where, "min is greater than max")
    choices = check.items(table, "choice", where)
    if (kind == "choice") != bool(choices):
        check.fail(where, "a choice question needs [[…choice]] entries, and only it may have them")
    if choices:
        question["choices"] = []
        for i, item in enumerate(choices, start=1):
            here = f"{where} › choice #{i}"
            choice = check.table(item, here, {"code", "names"})
            code = check.code(choice, here)
            question["choices"].append(
                {"code": code, "names": check.names(choice.get("names"), here)}
            )
        check.unique([c["code"] for c in question["choices"]], f"{where} › choice")
    return question
