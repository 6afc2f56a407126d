"""Which areas hold a place: an STRtree over the active areas' polygons, smallest area first.

A tree is built once per version of the areas (the digest storage.areas writes when it loads a
file) and kept in the process: several workers each build their own, and one that sees a new
digest builds afresh. `minsheng bench --areas N` compares it with a scan of every polygon.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from shapely import STRtree, covers
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry


@dataclass(frozen=True)
class IndexedArea:
    code: str
    kind: str  # "district" | "street"
    department_id: int
    outline: BaseGeometry = field(repr=False)

    @property
    def rank(self) -> tuple[int, float]:
        """Streets before districts, then the smaller first: the most local area wins."""
        return (self.kind != "street", self.outline.area)


def indexed(row: dict[str, Any]) -> IndexedArea:
    """An area row (code, kind, department_id, geometry) as the index holds it."""
    return IndexedArea(row["code"], row["kind"], row["department_id"], shape(row["geometry"]))


class AreaIndex:
    """The areas that cover a point, found through an STRtree of their polygons."""

    def __init__(self, areas: Sequence[IndexedArea]) -> None:
        self.areas = tuple(areas)
        self._tree = STRtree([area.outline for area in self.areas])

    def covering(self, latitude: float, longitude: float) -> list[IndexedArea]:
        """The areas whose polygon covers the point (its edge included), most local first."""
        hits = self._tree.query(Point(longitude, latitude), predicate="covered_by")
        return sorted((self.areas[int(i)] for i in hits), key=lambda area: area.rank)


class AreaScan:
    """The same answer as AreaIndex by testing every polygon, in one vectorised call: the
    best a scan without an index does, and the bench's yardstick."""

    def __init__(self, areas: Sequence[IndexedArea]) -> None:
        self.areas = tuple(areas)
        self._outlines = np.array([area.outline for area in self.areas], dtype=object)

    def covering(self, latitude: float, longitude: float) -> list[IndexedArea]:
        mask = covers(self._outlines, Point(longitude, latitude))
        return sorted((self.areas[int(i)] for i in np.flatnonzero(mask)), key=lambda a: a.rank)


class IndexCache:
    """The index of one version of the areas, kept until another version is asked for."""

    def __init__(self) -> None:
        self._version: str | None = None
        self._index: AreaIndex | None = None

    def get(self, version: str) -> AreaIndex | None:
        return self._index if version == self._version else None

    def put(self, version: str, index: AreaIndex) -> None:
        self._version, self._index = version, index
