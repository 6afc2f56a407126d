"""Areas (属地): districts and streets from the areas file, and the one a place is in.

Loading is an upsert by code in one transaction, checked whole first (storage.areas_file, then
each department against the catalogue): a bad file changes nothing. Rows are never deleted;
an area left out of the file becomes inactive. Each load writes a digest of what was loaded,
the version that the processes' STRtree indexes (storage.area_index) are kept for.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tortoise.transactions import in_transaction

from storage.area_index import AreaIndex, IndexCache, IndexedArea, indexed
from storage.areas_file import AreasInvalid, AreaSpec, read_areas_file
from storage.catalog_checks import as_code, localized
from storage.desk_models import Area
from storage.models import CatalogMeta, Department
from storage.sql import as_json, fetch

SAMPLE_AREAS = Path(__file__).with_name("sample_areas.geojson")
VERSION_KEY = "areas"  # the CatalogMeta row holding the loaded areas' digest
_INDEXES = IndexCache()  # this process's index of the latest areas it has seen


@dataclass(frozen=True)
class AreasLoadReport:
    created: int
    updated: int
    deactivated: tuple[str, ...]


@dataclass(frozen=True)
class AreaView:
    code: str
    kind: str
    names: Mapping[str, str]
    department_code: str
    active: bool

    def name(self, lang: str) -> str:
        return localized(self.names, lang)


async def load_areas(path: Path) -> AreasLoadReport:
    """Check an areas file whole, then upsert it by code in one transaction.

    Raises AreasInvalid (every problem with its place: the file's shape, a geometry, a parent,
    a department that is not an active one of the catalogue) and changes nothing if the file is
    wrong. Codes no longer in the file become inactive.
    """
    specs = await asyncio.to_thread(read_areas_file, path)
    async with in_transaction():
        departments = dict(await Department.filter(active=True).values_list("code", "id"))
        unknown = [
            (f"area {spec.code!r}", f"department {spec.department!r} is not in the catalogue")
            for spec in specs
            if spec.department not in departments
        ]
        if unknown:
            raise AreasInvalid(unknown)
        rows = {row.code: row for row in await Area.all()}
        ids: dict[str, int] = {}
        created = updated = 0
        for spec in specs:  # districts first: a street's parent exists by then
            values = _values(spec, departments, ids)
            row = rows.get(spec.code)
            if row is None:
                row = await Area.create(code=spec.code, **values)
                created += 1
            elif any(getattr(row, key) != value for key, value in values.items()):
                await row.update_from_dict(values).save()
                updated += 1
            ids[spec.code] = row.id
        gone = sorted(code for code, row in rows.items() if code not in ids and row.active)
        await Area.filter(code__in=gone).update(active=False)
        digest = _digest([(spec, departments[spec.department]) for spec in specs])
        await CatalogMeta.update_or_create(key=VERSION_KEY, defaults={"data": {"digest": digest}})
    return AreasLoadReport(created, updated, tuple(gone))


def _values(spec: AreaSpec, departments: dict[str, int], ids: dict[str, int]) -> dict[str, Any]:
    return {
        "kind": spec.kind,
        "parent_id": ids[spec.parent] if spec.parent else None,
        "department_id": departments[spec.department],
        "names": spec.names,
        "geometry": spec.geometry,
        "active": True,
    }


def _digest(loaded: list[tuple[AreaSpec, int]]) -> str:
    """What the index depends on, hashed: the same areas give the same digest in any process."""
    parts = sorted((s.code, s.kind, department, s.geometry) for s, department in loaded)
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


async def area_at(latitude: float, longitude: float) -> IndexedArea | None:
    """The most local active area holding the place (a street before its district) whose
    department is active; None outside every area, or when no areas were loaded."""
    # Every filing with a place asks this: plain SQL (storage/sql.py).
    meta = await fetch("SELECT data FROM catalog_meta WHERE key = ?", VERSION_KEY)
    if not meta:
        return None
    version = str(as_json(meta[0]["data"])["digest"])
    index = _INDEXES.get(version)
    if index is None:
        rows = await Area.filter(active=True).values("code", "kind", "department_id", "geometry")
        index = AreaIndex([indexed(row) for row in rows])
        _INDEXES.put(version, index)
    found = index.covering(latitude, longitude)
    if not found:
        return None
    ids = sorted({area.department_id for area in found})
    marks = ", ".join("?" * len(ids))
    rows = await fetch(
        f"SELECT id FROM department WHERE active = ? AND id IN ({marks})",  # noqa: S608
        True,
        *ids,
    )
    active = {int(row["id"]) for row in rows}
    return next((area for area in found if area.department_id in active), None)


async def area(code: str) -> AreaView | None:
    """An area by code, active or not (a case keeps the area it was filed in)."""
    row = (
        await Area.filter(code=as_code(code))
        .first()
        .values("code", "kind", "names", "department__code", "active")
    )
    if row is None:
        return None
    return AreaView(row["code"], row["kind"], row["names"], row["department__code"], row["active"])
