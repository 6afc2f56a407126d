"""Which open cases a filing is compared with: those near its place (or with none), however
many newer cases of the category lie elsewhere."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storage.case_views import Location
from storage.duplicates import CANDIDATE_LIMIT, DEFAULT_DISTANCE_M, similar_open_cases
from storage.similarity import EARTH_RADIUS_M, box_around, distance_m
from tests.case_fixtures import BOB, FRIDAY_EVENING, db, new_case, submit

__all__ = ["db"]


def _destination(lat: float, lon: float, bearing: float, metres: float) -> tuple[float, float]:
    """The place `metres` away along `bearing` (radians) on the sphere distance_m measures."""
    angle, phi, lam = metres / EARTH_RADIUS_M, math.radians(lat), math.radians(lon)
    phi2 = math.asin(
        math.sin(phi) * math.cos(angle) + math.cos(phi) * math.sin(angle) * math.cos(bearing)
    )
    lam2 = lam + math.atan2(
        math.sin(bearing) * math.sin(angle) * math.cos(phi),
        math.cos(angle) - math.sin(phi) * math.sin(phi2),
    )
    return math.degrees(phi2), (math.degrees(lam2) + 540) % 360 - 180


@given(
    lat=st.floats(-89.99, 89.99),
    lon=st.floats(-180, 180),
    bearing=st.floats(0, 2 * math.pi),
    metres=st.floats(1, 100_000),
    share=st.floats(0, 1),
)
def test_every_place_within_reach_is_inside_the_box(
    lat: float, lon: float, bearing: float, metres: float, share: float
) -> None:
    there = _destination(lat, lon, bearing, metres * share)
    assert distance_m(lat, lon, *there) <= metres * (1 + 1e-9) + 1e-6
    south, north, west, east = box_around(lat, lon, metres)
    assert south <= there[0] <= north
    assert west <= there[1] <= east


def test_the_box_is_tight_enough_to_leave_out_the_far() -> None:
    south, north, west, east = box_around(45.75, 126.63, 300)
    assert (west, east) != (-180.0, 180.0)  # bounded across, far from the poles
    assert 0.0027 < north - 45.75 < 0.0028  # 300 m of latitude, and a thousandth more
    assert north - 45.75 == pytest.approx(45.75 - south)
    assert 0.0038 < east - 126.63 < 0.0040  # wider across: a degree of longitude is shorter
    assert east - 126.63 == pytest.approx(126.63 - west)
    assert box_around(89.999, 0.0, 300)[2:] == (-180.0, 180.0)  # the pole is within reach


async def test_a_near_case_is_offered_behind_many_newer_ones_elsewhere(db: None) -> None:
    """The nearby case is older than CANDIDATE_LIMIT alike cases a few kilometres away: it is
    still the one offered (the newest rows alone would have been the far ones)."""
    start = FRIDAY_EVENING - timedelta(hours=CANDIDATE_LIMIT + 1)
    near = await submit(new_case(), now=start, limit=10_000)
    for n in range(CANDIDATE_LIMIT):
        far = Location(39.9 + 0.02 * (1 + n // 20), 116.4 + 0.02 * (n % 20), None)
        await submit(
            replace(new_case(), location=far), now=start + timedelta(hours=n + 1), limit=10_000
        )
    similar = await similar_open_cases(
        "heating.no-heat",
        new_case().text,
        Location(39.9005, 116.4, None),
        now=FRIDAY_EVENING,
        exclude_citizen=BOB,
    )
    assert [(case.tracking, case.nearby) for case in similar] == [(near.tracking, True)]
    assert distance_m(39.9, 116.4, 39.92, 116.4) > DEFAULT_DISTANCE_M
    # Without a place every alike case is a candidate, newest first.
    anywhere = await similar_open_cases(
        "heating.no-heat", new_case().text, None, now=FRIDAY_EVENING, exclude_citizen=BOB
    )
    assert len(anywhere) == 3
    assert near.tracking not in [case.tracking for case in anywhere]
