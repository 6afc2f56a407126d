"""The catalogue: departments, domains and categories, emergency numbers — loaded from a file.

Loading is an idempotent upsert by code in one transaction; rows are never deleted (cases keep
pointing at them), codes missing from the file are only marked inactive. Reads return frozen
views, never ORM rows.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from tortoise.transactions import in_transaction

from storage.catalog_cache import forget, snapshot
from storage.catalog_checks import CatalogInvalid as CatalogInvalid
from storage.catalog_checks import as_code
from storage.catalog_file import CategorySpec, DepartmentSpec, read_catalog_file
from storage.catalog_views import CategoryView as CategoryView
from storage.catalog_views import Choice as Choice
from storage.catalog_views import DepartmentView as DepartmentView
from storage.catalog_views import Question as Question
from storage.emergency import EmergencyInfo as EmergencyInfo
from storage.emergency import EmergencyNumber as EmergencyNumber
from storage.emergency import ServiceArea as ServiceArea
from storage.emergency import matches_emergency as matches_emergency
from storage.models import CatalogMeta, Category, Department

SAMPLE_CATALOG = Path(__file__).with_name("sample_catalog.toml")
META_KEY = "default"  # also storage.catalog_cache's
_Spec = TypeVar("_Spec", DepartmentSpec, CategorySpec)


class CategoryNotFound(LookupError):
    """No category (or domain) has this code."""


class DepartmentNotFound(LookupError):
    """No department has this code."""


class CatalogNotLoaded(LookupError):
    """No catalogue file has been loaded yet."""


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
    forget()  # this process reads the new catalogue at once (others at their next lane)
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


async def domains() -> list[CategoryView]:
    """Active domains that have at least one active category, in catalogue order."""
    cats = (await snapshot()).categories
    with_categories = {c.domain_code for c in cats if c.active and c.domain_code is not None}
    return [c for c in cats if c.is_domain and c.active and c.code in with_categories]


async def categories_of(domain_code: str) -> list[CategoryView]:
    """A domain's active categories in catalogue order; CategoryNotFound if it is no domain."""
    catalog = await snapshot()
    domain = catalog.by_code.get(domain_code)
    if domain is None or not domain.is_domain:
        raise CategoryNotFound(domain_code)
    code = as_code(domain_code)
    return [c for c in catalog.categories if c.domain_code == code and c.active]


async def category(code: str) -> CategoryView:
    """A category or domain by code, active or not (old cases still name retired ones)."""
    found = (await snapshot()).by_code.get(as_code(code))
    if found is None:
        raise CategoryNotFound(code)
    return found


async def category_by_id(category_id: int) -> CategoryView | None:
    """A category or domain by its row id, active or not; None if there is none."""
    return (await snapshot()).by_id.get(category_id)


async def department(code: str) -> DepartmentView:
    """A department by code, active or not."""
    found = (await snapshot()).department_by_code.get(as_code(code))
    if found is None:
        raise DepartmentNotFound(code)
    return found


async def departments(*, include_inactive: bool = False) -> list[DepartmentView]:
    """Departments by code; only active ones unless asked."""
    return [d for d in (await snapshot()).departments if include_inactive or d.active]


async def _meta() -> dict[str, Any]:
    data = (await snapshot()).meta
    if data is None:
        raise CatalogNotLoaded("load a catalogue file first")
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
