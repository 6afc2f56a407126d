"""Reading and checking an areas file (GeoJSON) before anything is written.

The file is a FeatureCollection of districts and streets (属地), each a Polygon or MultiPolygon
feature in longitude, latitude order (WGS-84, as Telegram and GPS give places):

    {"type": "Feature",
     "properties": {"code": "east-heping", "kind": "street", "parent": "east",
                    "department": "east-heping-street",
                    "names": {"en": …, "zh_Hans": …, "zh_Hant": …, "ru": …}},
     "geometry": {"type": "Polygon", "coordinates": [[[126.642, 45.757], …]]}}

Like the catalogue, the whole file is checked first and every problem is named with its place;
whether each department exists is checked against the catalogue when it is loaded
(storage.areas).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shapely import is_valid_reason
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from storage.catalog_checks import CatalogInvalid, Checker, Names

KINDS = ("district", "street")
GEOMETRIES = ("Polygon", "MultiPolygon")
# A street may stray this share of its surface outside its district: boundaries drawn by
# different hands rarely meet exactly.
OUTSIDE_PARENT = 0.01


class AreasInvalid(CatalogInvalid):
    """The areas file has problems; `problems` lists each as (where, what)."""


@dataclass(frozen=True)
class AreaSpec:
    code: str
    kind: str  # "district" | "street"
    parent: str | None
    department: str
    names: Names
    geometry: dict[str, Any]  # the feature's GeoJSON geometry, as given


def read_areas_file(path: Path) -> list[AreaSpec]:
    """Parse and check an areas file; raises AreasInvalid naming every problem. Districts come
    before the streets in them."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AreasInvalid([(str(path), str(exc))]) from exc
    check = Checker()
    if not isinstance(raw, dict) or raw.get("type") != "FeatureCollection":
        raise AreasInvalid([("file", 'must be a GeoJSON object of "type": "FeatureCollection"')])
    features = check.items(raw, "features", "file")
    read = [_feature(check, item, f"feature #{i}") for i, item in enumerate(features, start=1)]
    areas = [(spec, geometry) for spec, geometry in read if spec is not None]
    if not features:
        check.fail("file", "has no features")
    check.unique([spec.code for spec, _ in areas], "area")
    _check_parents(check, areas)
    if check.problems:
        raise AreasInvalid(check.problems)
    return sorted((spec for spec, _ in areas), key=lambda spec: spec.kind != "district")


def _feature(
    check: Checker, item: object, where: str
) -> tuple[AreaSpec | None, BaseGeometry | None]:
    feature = check.table(item, where, {"type", "id", "properties", "geometry", "bbox"})
    if feature.get("type") != "Feature":
        check.fail(where, f'type must be "Feature", got {feature.get("type")!r}')
    keys = {"code", "kind", "parent", "department", "names"}
    props = check.table(feature.get("properties"), f"{where} properties", keys)
    code = check.code(props, where)
    where = f"area {code!r}" if code else where
    kind = props.get("kind")
    if kind not in KINDS:
        check.fail(where, f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    parent = props.get("parent")
    if parent is not None and not isinstance(parent, str):
        check.fail(where, f"parent must be the code of a district, got {parent!r}")
        parent = None
    department = check.text(props.get("department"), where, "department")
    names = check.names(props.get("names"), where)
    geometry = _geometry(check, feature.get("geometry"), where)
    if not code or kind not in KINDS:
        return None, geometry
    raw = feature.get("geometry")
    spec = AreaSpec(
        code, str(kind), parent, department, names, raw if isinstance(raw, dict) else {}
    )
    return spec, geometry


def _geometry(check: Checker, raw: object, where: str) -> BaseGeometry | None:
    """The feature's shape, if it is a valid polygon or multipolygon on the globe."""
    if not isinstance(raw, dict) or raw.get("type") not in GEOMETRIES:
        kind = raw.get("type") if isinstance(raw, dict) else raw
        check.fail(where, f"geometry must be a Polygon or MultiPolygon, got {kind!r}")
        return None
    try:
        geometry = shape(raw)
    except (ValueError, TypeError, AttributeError, IndexError, KeyError) as exc:
        check.fail(where, f"geometry cannot be read: {exc or type(exc).__name__}")
        return None
    if geometry.is_empty:
        check.fail(where, "geometry is empty")
        return None
    west, south, east, north = geometry.bounds
    if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        check.fail(where, "coordinates must be longitude, latitude (in that order), in degrees")
        return None
    if not geometry.is_valid:
        check.fail(where, f"geometry is not valid: {is_valid_reason(geometry)}")
        return None
    if geometry.area == 0:
        check.fail(where, "geometry encloses nothing")
        return None
    return geometry


def _check_parents(check: Checker, areas: list[tuple[AreaSpec, BaseGeometry | None]]) -> None:
    """Districts have no parent; a street's parent is a district of the file, which holds it."""
    by_code = {spec.code: (spec, geometry) for spec, geometry in areas}
    for spec, geometry in areas:
        where = f"area {spec.code!r}"
        if spec.parent is None:
            continue
        if spec.kind == "district":
            check.fail(where, "a district has no parent")
            continue
        parent, outline = by_code.get(spec.parent, (None, None))
        if parent is None:
            check.fail(where, f"parent {spec.parent!r} is not an area of the file")
        elif parent.kind != "district":
            check.fail(where, f"parent {spec.parent!r} is a {parent.kind}, not a district")
        elif geometry is not None and outline is not None:
            outside = geometry.difference(outline).area
            if outside > OUTSIDE_PARENT * geometry.area:
                share = f"{100 * outside / geometry.area:.0f}%"
                check.fail(where, f"{share} of it lies outside its district {spec.parent!r}")
