"""Areas (属地): the areas file checked whole, loaded, and the proposal a new case gets from it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from storage.areas import SAMPLE_AREAS, area, load_areas
from storage.areas_file import AreasInvalid
from storage.cases import Location
from storage.catalog import SAMPLE_CATALOG, CatalogInvalid, load_catalog
from storage.desk_models import Area
from storage.lifecycle import accept_case, transfer_case
from storage.models import Case, Category, Staff, StaffRole
from tests.case_fixtures import SHANGHAI, new_case, submit
from tests.case_fixtures import db as db
from tests.harness import ROOT

# Places in the sample areas (storage/sample_areas.geojson), latitude and longitude.
HEPING = Location(45.770, 126.670, "Heping Road 8")  # East District, Heping Street
WEST_ONLY = Location(45.760, 126.565, None)  # West District, in none of its streets
EXCLAVE = Location(45.780, 126.570, None)  # Jinqiao Street's detached part
BEIJING = Location(39.9, 116.4, None)  # outside every area
SUPERVISOR = 4001


def sample() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SAMPLE_AREAS.read_text(encoding="utf-8"))
    return data


def write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "areas.geojson"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


async def proposed(location: Location | None, category: str) -> dict[str, Any]:
    new = new_case(category_code=category, location=location, answers={})
    case = await submit(new, limit=100)
    row = (
        await Case.filter(tracking=case.tracking)
        .first()
        .values("proposed_department__code", "proposal_reason", "area_code")
    )
    return {
        "department": row["proposed_department__code"],
        "reason": row["proposal_reason"],
        "area": row["area_code"],
    }


async def test_a_local_category_goes_to_the_most_local_area(db: None) -> None:
    await load_areas(SAMPLE_AREAS)
    rubbish = "environment.rubbish"
    assert await proposed(HEPING, rubbish) == {
        "department": "east-heping-street",
        "reason": {"kind": "local", "area": "east-heping"},
        "area": "east-heping",
    }
    assert (await proposed(WEST_ONLY, rubbish))["department"] == "west-district"
    assert (await proposed(EXCLAVE, rubbish))["department"] == "west-jinqiao-street"
    assert await proposed(BEIJING, rubbish) == {
        "department": "urban-management",
        "reason": {"kind": "category"},
        "area": None,
    }
    assert await proposed(None, rubbish) == {
        "department": "urban-management",
        "reason": {"kind": "category"},
        "area": None,
    }
    # A functional category goes to its department wherever the place is; the area is kept.
    assert await proposed(HEPING, "heating.no-heat") == {
        "department": "heating-company",
        "reason": {"kind": "functional"},
        "area": "east-heping",
    }


async def test_without_areas_every_case_goes_to_its_category(db: None) -> None:
    assert await proposed(HEPING, "environment.rubbish") == {
        "department": "urban-management",
        "reason": {"kind": "category"},
        "area": None,
    }


async def test_a_reload_moves_a_boundary_and_retires_what_it_leaves_out(
    db: None, tmp_path: Path
) -> None:
    report = await load_areas(SAMPLE_AREAS)
    assert (report.created, report.updated, report.deactivated) == (6, 0, ())
    assert (await proposed(HEPING, "environment.rubbish"))["department"] == "east-heping-street"
    data = sample()
    data["features"] = [f for f in data["features"] if f["properties"]["code"] != "east-heping"]
    report = await load_areas(write(tmp_path, data))
    assert (report.created, report.updated, report.deactivated) == (0, 0, ("east-heping",))
    # The index of this process was built for the old areas: the new digest rebuilds it.
    assert (await proposed(HEPING, "environment.rubbish"))["department"] == "east-district"
    heping = await area("east-heping")
    assert heping is not None
    assert (heping.active, heping.name("zh_Hans")) == (False, "和平街道")
    await load_areas(SAMPLE_AREAS)
    assert (await proposed(HEPING, "environment.rubbish"))["department"] == "east-heping-street"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda f: f[1]["geometry"].update(
                coordinates=[
                    [
                        [126.65, 45.76],
                        [126.70, 45.79],
                        [126.70, 45.76],
                        [126.65, 45.79],
                        [126.65, 45.76],
                    ]
                ]
            ),
            "area 'east-heping': geometry is not valid: Self-intersection",
        ),
        (
            lambda f: f[1]["properties"].update(department="nowhere-street"),
            "area 'east-heping': department 'nowhere-street' is not in the catalogue",
        ),
        (
            lambda f: f[1]["properties"].update(parent="north"),
            "area 'east-heping': parent 'north' is not an area of the file",
        ),
        (
            lambda f: f[1]["geometry"].update(type="Point", coordinates=[126.7, 45.77]),
            "area 'east-heping': geometry must be a Polygon or MultiPolygon, got 'Point'",
        ),
        (
            lambda f: f[4]["properties"].update(parent="east"),
            "area 'west-guangming': 100% of it lies outside its district 'east'",
        ),
        (
            lambda f: f[0]["geometry"].update(
                coordinates=[
                    [[45.70, 126.642], [45.80, 126.642], [45.80, 126.73], [45.70, 126.642]]
                ]
            ),
            "area 'east': coordinates must be longitude, latitude (in that order), in degrees",
        ),
    ],
)
async def test_a_bad_file_is_refused_whole_and_changes_nothing(
    db: None, tmp_path: Path, change: Any, message: str
) -> None:
    await load_areas(SAMPLE_AREAS)
    before = await Area.all().order_by("code").values("code", "department_id", "active")
    data = sample()
    data["features"][2]["properties"]["names"]["en"] = "Xinhua Quarter"  # a good change too
    change(data["features"])
    with pytest.raises(AreasInvalid) as refused:
        await load_areas(write(tmp_path, data))
    assert message in str(refused.value)
    assert await Area.all().order_by("code").values("code", "department_id", "active") == before
    xinhua = await area("east-xinhua")
    assert xinhua is not None
    assert xinhua.name("en") == "Xinhua Street"


async def test_a_file_that_is_no_feature_collection_is_refused(db: None, tmp_path: Path) -> None:
    with pytest.raises(AreasInvalid, match="FeatureCollection"):
        await load_areas(write(tmp_path, {"type": "Feature"}))
    path = tmp_path / "broken.geojson"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(AreasInvalid, match=r"broken\.geojson"):
        await load_areas(path)
    assert await Area.all().count() == 0


async def test_the_outcome_is_accepted_or_changed_for_good(db: None) -> None:
    await load_areas(SAMPLE_AREAS)
    now = (await submit()).created_at
    await Staff.create(
        user_id=SUPERVISOR, role=StaffRole.SUPERVISOR, created_at=now, updated_at=now
    )

    async def outcome(tracking: str) -> str | None:
        row = await Case.filter(tracking=tracking).first().values("proposal_outcome")
        return str(row["proposal_outcome"]) if row["proposal_outcome"] else None

    as_proposed = await submit(new_case(category_code="environment.rubbish", location=HEPING))
    assert await outcome(as_proposed.tracking) is None
    await accept_case(as_proposed.tracking, "east-heping-street", by=SUPERVISOR, now=now,
                      zone=SHANGHAI)  # fmt: skip
    assert await outcome(as_proposed.tracking) == "accepted"
    await transfer_case(as_proposed.tracking, "urban-management", "a main road", by=SUPERVISOR,
                        now=now)  # fmt: skip
    assert await outcome(as_proposed.tracking) == "changed"
    await transfer_case(as_proposed.tracking, "east-heping-street", "back", by=SUPERVISOR,
                        now=now)  # fmt: skip
    assert await outcome(as_proposed.tracking) == "changed"
    elsewhere = await submit(new_case(category_code="environment.rubbish", location=HEPING))
    await accept_case(elsewhere.tracking, "east-district", by=SUPERVISOR, now=now, zone=SHANGHAI)
    assert await outcome(elsewhere.tracking) == "changed"


def test_the_area_bench_prints_its_figures() -> None:
    """`minsheng bench --areas N`, small: the index and the scan are timed and agree."""
    done = subprocess.run(
        [sys.executable, "-m", "bot", "bench", "--areas", "400", "--lookups", "300"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    print(done.stdout)
    assert done.returncode == 0, done
    lines = done.stdout.splitlines()
    assert re.fullmatch(r"400 polygons of [\d.]+ corners, generated in [\d.]+ s", lines[0])
    assert re.fullmatch(
        r"STRtree index: built in [\d.]+ ms; 300 lookups: p50 [\d.]+ µs, p99 [\d.]+ µs", lines[1]
    )
    assert re.fullmatch(
        r"scan of every polygon: 300 lookups: p50 [\d.]+ µs, p99 [\d.]+ µs", lines[2]
    )
    assert re.fullmatch(r"\d+ of 300 places in an area; index and scan agree: yes", lines[3])


async def test_a_category_scope_is_functional_or_local(db: None, tmp_path: Path) -> None:
    scopes = dict(await Category.filter(scope="local").values_list("code", "scope"))
    assert sorted(scopes) == [
        "environment.rubbish",
        "noise.neighbourhood",
        "property.common-areas",
        "urban.flyposting",
        "urban.street-vendors",
    ]
    text = SAMPLE_CATALOG.read_text(encoding="utf-8").replace(
        'scope = "local"', 'scope = "street"', 1
    )
    path = tmp_path / "catalog.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogInvalid) as refused:
        await load_catalog(path)
    assert (
        "category 'environment.rubbish': scope must be one of functional, local, got 'street'"
    ) in str(refused.value)


async def test_an_area_whose_department_was_retired_passes_to_its_district(
    db: None, tmp_path: Path
) -> None:
    await load_areas(SAMPLE_AREAS)
    text = SAMPLE_CATALOG.read_text(encoding="utf-8")
    start = text.index('[[department]]\ncode = "east-heping-street"')
    end = text.index("\n\n", start)
    path = tmp_path / "catalog.toml"
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    report = await load_catalog(path)
    assert report.departments_deactivated == ("east-heping-street",)
    assert (await proposed(HEPING, "environment.rubbish"))["department"] == "east-district"
