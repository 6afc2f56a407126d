"""WGS-84 into GCJ-02 and BD-09, checked against points other projects published, and the map
links built on them (issue 13, item 6)."""

from __future__ import annotations

import math
from urllib.parse import parse_qs, urlsplit

import pytest

from bot.china_coordinates import gcj02_to_bd09, out_of_china, wgs84_to_bd09, wgs84_to_gcj02
from bot.texts.maps import map_link

TOLERANCE_M = 2.0  # "a few metres": the published points agree with ours to well under this


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two (lat, lon) points."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2
    h += math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371008.8 * math.asin(math.sqrt(h))


# (WGS-84, GCJ-02) as (lat, lon). Sources:
# - Shanghai, Shenzhen, Beijing: the test vectors of github.com/googollee/eviltransform
#   (go/transform_test.go, javascript/test.js, php/tests/EvilTransformTest.php).
# - Tiananmen (116.404, 39.915): the README of github.com/wandergis/coordtransform, "wgs84togcj02:
#   [ 116.41024449916938, 39.91640428150164 ]" (it writes lon, lat).
WGS_TO_GCJ = {
    "shanghai": ((31.1774276, 121.5272106), (31.17530398364597, 121.531541859215)),
    "shenzhen": ((22.543847, 113.912316), (22.540796131694766, 113.9171764808363)),
    "beijing": ((39.911954, 116.377817), (39.91334545536069, 116.38404722455657)),
    "tiananmen": ((39.915, 116.404), (39.91640428150164, 116.41024449916938)),
}
# (GCJ-02, BD-09): the same README, "gcj02tobd09: [ 116.41036949371029, 39.92133699351021 ]".
GCJ_TO_BD = {"tiananmen": ((39.915, 116.404), (39.92133699351021, 116.41036949371029))}


@pytest.mark.parametrize("place", sorted(WGS_TO_GCJ))
def test_wgs84_to_gcj02_matches_the_published_points(place: str) -> None:
    wgs, gcj = WGS_TO_GCJ[place]
    assert metres(wgs84_to_gcj02(*wgs), gcj) < TOLERANCE_M
    assert metres(wgs, gcj) > 100  # the offset itself is hundreds of metres: a real check


def test_gcj02_to_bd09_matches_the_published_point() -> None:
    gcj, bd = GCJ_TO_BD["tiananmen"]
    assert metres(gcj02_to_bd09(*gcj), bd) < TOLERANCE_M
    assert metres(gcj, bd) > 500


def test_wgs84_to_bd09_is_both_published_steps_in_a_row() -> None:
    """Tiananmen's WGS point lands where Baidu puts the published GCJ point of it."""
    wgs, gcj = WGS_TO_GCJ["tiananmen"]
    bd = wgs84_to_bd09(*wgs)
    assert metres(bd, gcj02_to_bd09(*gcj)) < TOLERANCE_M
    assert 1000 < metres(bd, wgs) < 1500  # Baidu's two offsets together, about 1.4 km here


@pytest.mark.parametrize(
    "point",
    [(55.7558, 37.6173), (51.5007, -0.1246), (40.6892, -74.0445), (-33.8568, 151.2153)],
    ids=["moscow", "london", "new-york", "sydney"],
)
def test_outside_china_nothing_moves(point: tuple[float, float]) -> None:
    assert out_of_china(*point)
    assert wgs84_to_gcj02(*point) == point
    assert wgs84_to_bd09(*point) == point


def test_the_map_links_carry_each_service_its_own_datum() -> None:
    wgs, gcj = WGS_TO_GCJ["tiananmen"]
    osm = map_link(*wgs, "osm", "202612-0001")
    assert osm == (
        "https://www.openstreetmap.org/?mlat=39.915000&mlon=116.404000#map=17/39.915000/116.404000"
    )
    amap = urlsplit(map_link(*wgs, "amap", "202612-0001"))
    assert (amap.netloc, amap.path) == ("uri.amap.com", "/marker")
    query = {k: v[0] for k, v in parse_qs(amap.query).items()}
    assert query["coordinate"] == "gaode"
    lon, lat = (float(part) for part in query["position"].split(","))
    assert metres((lat, lon), gcj) < TOLERANCE_M
    baidu = urlsplit(map_link(*wgs, "baidu", "202612-0001"))
    assert (baidu.netloc, baidu.path) == ("api.map.baidu.com", "/marker")
    query = {k: v[0] for k, v in parse_qs(baidu.query).items()}
    assert (query["coord_type"], query["output"], query["title"]) == (
        "bd09ll",
        "html",
        "202612-0001",
    )
    lat, lon = (float(part) for part in query["location"].split(","))
    assert metres((lat, lon), gcj02_to_bd09(*gcj)) < TOLERANCE_M
