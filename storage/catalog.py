"""The catalogue: departments, domains and categories, emergency numbers — loaded from a file.

Loading is an idempotent upsert by code in one transaction; rows are never deleted (cases keep
pointing at them), codes missing from the file are only marked inactive. Reads return frozen
views, never ORM rows.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from tortoise.expressions import Subquery
from tortoise.transactions import in_transaction

from storage.catalog_checks import CatalogInvalid as CatalogInvalid
from storage.catalog_checks import as_code, localized
from storage.catalog_file import CategorySpec, DepartmentSpec, read_catalog_file
from storage.emergency import EmergencyInfo as EmergencyInfo
from storage.emergency import EmergencyNumber as EmergencyNumber
from storage.emergency import ServiceArea as ServiceArea
from storage.emergency import matches_emergency as matches_emergency
from storage.models import CatalogMeta, Category, Department

SAMPLE_CATALOG = Path(__file__).with_name("sample_catalog.toml")
META_KEY = "default"
_Spec = TypeVar("_Spec", DepartmentSpec, CategorySpec)


class CategoryNotFound(LookupError):
    """No category (or domain) has this code."""


class DepartmentNotFound(LookupError):
    """No department has this code."""


class CatalogNotLoaded(LookupError):
    """No catalogue file has been loaded yet."""


@dataclass(frozen=True)
class DepartmentView:
    id: int
    code: str
    names: Mapping[str, str]
    parent_code: str | None
    active: bool
    review_required: bool

    def name(self, lang: str) -> str:
        return localized(self.names, lang)


@dataclass(frozen=True)
class Choice:
    code: str
    names: Mapping[str, str]

    def name(self, lang: str) -> str:
        return localized(self.names, lang)


@dataclass(frozen=True)
class Question:
    """One of a category's own typed fields (later an Open311 service attribute)."""

    code: str
    type: str  # number | date | choice | text
    required: bool
    prompts: Mapping[str, str]
    min: float | None = None
    max: float | None = None
    choices: tuple[Choice, ...] = ()
    labels: Mapping[str, str] | None = None  # short, for summaries; optional in a catalogue

    def prompt(self, lang: str) -> str:
        return localized(self.prompts, lang)

    def label(self, lang: str) -> str:
        """The short name of the answer ("Cold since"); without one, the prompt less its "?"."""
        if self.labels:
            return localized(self.labels, lang)
        return self.prompt(lang).strip().rstrip("?？:：").rstrip()


@dataclass(frozen=True)
class CategoryView:
    id: int
    code: str
    names: Mapping[str, str]
    domain_code: str | None  # None: this is a domain
    department_code: str | None  # the default department; None for domains and emergencies
    time_limit_hours: int | None
    time_limit_working_days: int | None
    location_required: bool
    emergency: bool
    questions: tuple[Question, ...]
    sort: int
    active: bool

    @property
    def is_domain(self) -> bool:
        return self.domain_code is None

    def name(self, lang: str) -> str:
        return localized(self.names, lang)


@dataclass(frozen=True)
class CatalogLoadReport:
    departments_created: int
    departments_updated: int
    departments_deactivated: tuple[str, ...]
    categories_created: int
    categories_updated: int
    categories_deactivated: tuple[str, ...]


async def load_catalog(path: Path) -> CatalogLoadReport:
    """Check a catalogue file whole, then upsert it by code in one transaction.

    Raises CatalogInvalid (listing every problem with its place) and changes nothing if the file
    is wrong. Names, limits, flags, questions and departments of existing codes are updated in
    place (ids stay, so cases are untouched); codes no longer in the file become inactive.
    """
    spec = await asyncio.to_thread(read_catalog_file, path)
    async with in_transaction():
        dept = await _upsert(Department, spec.departments, _department_values)
        cats = await _upsert(Category, spec.categories, _category_values(dept.ids))
        await CatalogMeta.update_or_create(key=META_KEY, defaults={"data": spec.meta})
    return CatalogLoadReport(
        dept.created, dept.updated, dept.deactivated, cats.created, cats.updated, cats.deactivated
    )


@dataclass
class _Upserted:
    ids: dict[str, int]
    created: int = 0
    updated: int = 0
    deactivated: tuple[str, ...] = ()


async def _upsert(
    model: type[Department] | type[Category],
    specs: list[_Spec],
    values_of: Callable[[_Spec, dict[str, int]], dict[str, Any]],
) -> _Upserted:
    """Create or update one row per spec, parents first; deactivate rows not in the file."""
    rows = {row.code: row for row in await model.all()}
    done = _Upserted(ids={})
    for spec in specs:
        values = values_of(spec, done.ids)
        row = rows.get(spec.code)
        if row is None:
            row = await model.create(code=spec.code, **values)
            done.created += 1
        elif any(getattr(row, key) != value for key, value in values.items()):
            await row.update_from_dict(values).save()
            done.updated += 1
        done.ids[spec.code] = row.id
    gone = sorted(code for code, row in rows.items() if code not in done.ids and row.active)
    await model.filter(code__in=gone).update(active=False)
    done.deactivated = tuple(gone)
    return done


def _department_values(spec: DepartmentSpec, ids: dict[str, int]) -> dict[str, Any]:
    return {
        "parent_id": ids[spec.parent] if spec.parent else None,
        "names": spec.names,
        "active": spec.active,
        "review_required": spec.review_required,
        "chat_id": spec.chat_id,
        # A topic the bot created stays when the file names none (storage.staff_destinations).
        **({"topic_id": spec.topic_id} if spec.topic_id is not None else {}),
    }


def _category_values(
    departments: dict[str, int],
) -> Callable[[CategorySpec, dict[str, int]], dict[str, Any]]:
    def values(leaf: CategorySpec, ids: dict[str, int]) -> dict[str, Any]:
        return {
            "parent_id": ids[leaf.parent] if leaf.parent else None,
            "names": leaf.names,
            "department_id": departments[leaf.department] if leaf.department else None,
            "time_limit_hours": leaf.time_limit_hours,
            "time_limit_working_days": leaf.time_limit_working_days,
            "location_required": leaf.location_required,
            "emergency": leaf.emergency,
            "questions": leaf.questions,
            "sort": leaf.sort,
            "active": leaf.active,
            "scope": leaf.scope,
        }

    return values


async def catalog_loaded() -> bool:
    """Whether a catalogue has ever been loaded into this database."""
    return await CatalogMeta.exists(key=META_KEY)


_CATEGORY_COLUMNS = (
    "id",
    "code",
    "names",
    "parent__code",
    "department__code",
    "time_limit_hours",
    "time_limit_working_days",
    "location_required",
    "emergency",
    "questions",
    "sort",
    "active",
)


def _category_view(row: dict[str, Any]) -> CategoryView:
    questions = tuple(
        Question(
            code=q["code"],
            type=q["type"],
            required=q["required"],
            prompts=q["prompt"],
            min=q.get("min"),
            max=q.get("max"),
            choices=tuple(Choice(c["code"], c["names"]) for c in q.get("choices", [])),
            labels=q.get("label"),
        )
        for q in row["questions"]
    )
    return CategoryView(
        id=row["id"],
        code=row["code"],
        names=row["names"],
        domain_code=row["parent__code"],
        department_code=row["department__code"],
        time_limit_hours=row["time_limit_hours"],
        time_limit_working_days=row["time_limit_working_days"],
        location_required=row["location_required"],
        emergency=row["emergency"],
        questions=questions,
        sort=row["sort"],
        active=row["active"],
    )


async def domains() -> list[CategoryView]:
    """Active domains that have at least one active category, in catalogue order."""
    with_categories = Category.filter(active=True, parent_id__not_isnull=True).values("parent_id")
    rows = await (
        Category.filter(parent_id=None, active=True, id__in=Subquery(with_categories))
        .order_by("sort", "id")
        .values(*_CATEGORY_COLUMNS)
    )
    return [_category_view(row) for row in rows]


async def categories_of(domain_code: str) -> list[CategoryView]:
    """A domain's active categories in catalogue order; CategoryNotFound if it is no domain."""
    if not await Category.exists(code=domain_code, parent_id=None):
        raise CategoryNotFound(domain_code)
    rows = await (
        Category.filter(parent__code=as_code(domain_code), active=True)
        .order_by("sort", "id")
        .values(*_CATEGORY_COLUMNS)
    )
    return [_category_view(row) for row in rows]


async def category(code: str) -> CategoryView:
    """A category or domain by code, active or not (old cases still name retired ones)."""
    row = await Category.filter(code=as_code(code)).first().values(*_CATEGORY_COLUMNS)
    if row is None:
        raise CategoryNotFound(code)
    return _category_view(row)


_DEPARTMENT_COLUMNS = ("id", "code", "names", "parent__code", "active", "review_required")


def _department_view(row: dict[str, Any]) -> DepartmentView:
    return DepartmentView(
        id=row["id"],
        code=row["code"],
        names=row["names"],
        parent_code=row["parent__code"],
        active=row["active"],
        review_required=row["review_required"],
    )


async def department(code: str) -> DepartmentView:
    """A department by code, active or not."""
    row = await Department.filter(code=as_code(code)).first().values(*_DEPARTMENT_COLUMNS)
    if row is None:
        raise DepartmentNotFound(code)
    return _department_view(row)


async def departments(*, include_inactive: bool = False) -> list[DepartmentView]:
    """Departments by code; only active ones unless asked."""
    query = Department.all() if include_inactive else Department.filter(active=True)
    rows = await query.order_by("code").values(*_DEPARTMENT_COLUMNS)
    return [_department_view(row) for row in rows]


async def _meta() -> dict[str, Any]:
    row = await CatalogMeta.get_or_none(key=META_KEY)
    if row is None:
        raise CatalogNotLoaded("load a catalogue file first")
    data: dict[str, Any] = row.data
    return data


async def emergency_info() -> EmergencyInfo:
    """The emergency numbers and the keywords that divert a description to them."""
    data = (await _meta())["emergency"]
    return EmergencyInfo(
        numbers=tuple(EmergencyNumber(n["number"], n["names"]) for n in data["numbers"]),
        keywords={lang: tuple(words) for lang, words in data["keywords"].items()},
    )


async def service_area() -> ServiceArea | None:
    """Where the desk serves, if the catalogue sets it."""
    area = (await _meta()).get("service_area")
    if area is None:
        return None
    return ServiceArea(area["center"][0], area["center"][1], area["radius_km"])
