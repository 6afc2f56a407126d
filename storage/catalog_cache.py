"""The catalogue in memory: read whole once, and again only after another catalogue was loaded.

A conversation looks categories up at nearly every step (the prompt, its questions, the
summary), each lookup a query. Readers get instead the snapshot of the loaded catalogue, keyed
by its load time (`catalog_meta.loaded_at`, which every `catalog load` writes) and by the
database. The key is read once per transaction (a lane of updates), and on every read outside
one, so a load by another process is seen by the next lane; within a transaction every read
sees the same snapshot. Until a catalogue is loaded nothing is kept.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import Any

from tortoise import connections
from tortoise.backends.base.client import TransactionalDBClient
from tortoise.connection import get_connection

from storage.catalog_views import (
    CATEGORY_COLUMNS,
    DEPARTMENT_COLUMNS,
    CategoryView,
    DepartmentView,
    category_view,
    department_view,
)
from storage.models import CatalogMeta, Category, Department
from storage.sql import fetch

META_KEY = "default"  # the row of catalogue-wide settings, rewritten by every load
_KEY_SQL = "SELECT loaded_at FROM catalog_meta WHERE key = ?"


@dataclass(frozen=True)
class Snapshot:
    """The whole catalogue at one load: categories in catalogue order, departments by code."""

    categories: tuple[CategoryView, ...]
    departments: tuple[DepartmentView, ...]
    meta: dict[str, Any] | None  # None: no catalogue loaded
    key: tuple[object, object]  # the database and the catalogue's load time
    by_code: dict[str, CategoryView] = field(init=False)
    by_id: dict[int, CategoryView] = field(init=False)
    department_by_code: dict[str, DepartmentView] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_code", {c.code: c for c in self.categories})
        object.__setattr__(self, "by_id", {c.id: c for c in self.categories})
        object.__setattr__(self, "department_by_code", {d.code: d for d in self.departments})


class _Cache:
    def __init__(self) -> None:
        self.key: tuple[object, object] | None = None
        self.snapshot: Snapshot | None = None
        # The snapshot each transaction under way has seen (gone with the transaction).
        self.seen: weakref.WeakKeyDictionary[object, Snapshot] = weakref.WeakKeyDictionary()


_CACHE = _Cache()


async def snapshot() -> Snapshot:
    """The catalogue as loaded in this database now (or as this transaction first saw it)."""
    connection = get_connection("default")
    in_transaction = isinstance(connection, TransactionalDBClient)
    if in_transaction and (seen := _CACHE.seen.get(connection)) is not None:
        return seen
    rows = await fetch(_KEY_SQL, META_KEY)
    loaded_at = rows[0]["loaded_at"] if rows else None
    key = (connections.db_config.get("default"), loaded_at)
    current = _CACHE.snapshot
    if current is None or loaded_at is None or key != _CACHE.key:
        current = await _read(key)
        if loaded_at is not None:
            _CACHE.key, _CACHE.snapshot = key, current
    if in_transaction:
        _CACHE.seen[connection] = current
    return current


def forget() -> None:
    """Drop what is kept: this process has just loaded a catalogue."""
    _CACHE.key, _CACHE.snapshot = None, None
    _CACHE.seen = weakref.WeakKeyDictionary()


async def _read(key: tuple[object, object]) -> Snapshot:
    categories = await Category.all().order_by("sort", "id").values(*CATEGORY_COLUMNS)
    departments = await Department.all().order_by("code").values(*DEPARTMENT_COLUMNS)
    meta = await CatalogMeta.get_or_none(key=META_KEY)
    return Snapshot(
        categories=tuple(category_view(row) for row in categories),
        departments=tuple(department_view(row) for row in departments),
        meta=dict(meta.data) if meta is not None else None,
        key=key,
    )
