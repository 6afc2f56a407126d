"""`minsheng bench --areas N`: point-in-polygon at the size of a country's streets, with the
STRtree index the desk uses (storage.area_index) and with a scan of every polygon.

N street polygons tile a city-sized box: a grid of cells whose shared edges wander (each edge
has its own jittered points, the same for the two cells on either side), so the polygons have
some forty corners each and meet without gaps, as a real areas file's do. Then:

* the index is built, timed;
* random places in the box (and a tenth outside it) are looked up through the index: p50, p99;
* the same places through the scan (one vectorised covers() over all N): p50, p99;
* the two must give the same areas for every place.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import time
from typing import Any

from shapely import get_num_coordinates
from shapely.geometry import Polygon

from storage.area_index import AreaIndex, AreaScan, IndexedArea

SEED = 15
WEST, SOUTH = 126.40, 45.55  # the box's south-west corner (longitude, latitude)
SIZE = 0.5  # degrees on a side: about 40 by 55 km at this latitude
EDGE_POINTS = 8  # jittered points inside each edge of a cell
SCAN_LOOKUPS = 1_000  # the scan is slow at large N: fewer places suffice for its percentiles


def _edge(
    seed: tuple[int, int, int, int],
    a: tuple[float, float],
    b: tuple[float, float],
    wobble: float,
) -> list[tuple[float, float]]:
    """The points inside the edge a→b, the same whichever cell asks (seeded by the edge)."""
    rng = random.Random(hash(seed) ^ SEED)
    points = []
    for k in range(1, EDGE_POINTS + 1):
        share = k / (EDGE_POINTS + 1)
        dx, dy = b[0] - a[0], b[1] - a[1]
        side = rng.uniform(-wobble, wobble)
        length = math.hypot(dx, dy) or 1.0
        points.append(
            (a[0] + dx * share - dy / length * side, a[1] + dy * share + dx / length * side)
        )
    return points


def generate(count: int) -> list[IndexedArea]:
    """`count` street polygons tiling the box (a grid as square as `count` allows)."""
    columns = max(1, math.isqrt(count))
    rows = -(-count // columns)
    width, height = SIZE / columns, SIZE / rows
    rng = random.Random(SEED)
    corner = {
        (i, j): (
            WEST + i * width + (rng.uniform(-0.15, 0.15) * width if 0 < i < columns else 0),
            SOUTH + j * height + (rng.uniform(-0.15, 0.15) * height if 0 < j < rows else 0),
        )
        for i in range(columns + 1)
        for j in range(rows + 1)
    }

    def edge(p: tuple[int, int], q: tuple[int, int]) -> list[tuple[float, float]]:
        first, last = min(p, q), max(p, q)
        wobble = 0.0 if (p[0] == q[0] in (0, columns)) or (p[1] == q[1] in (0, rows)) else 0.08
        inner = _edge((*first, *last), corner[first], corner[last], wobble * min(width, height))
        return inner if (p, q) == (first, last) else inner[::-1]

    areas = []
    for n in range(count):
        i, j = n % columns, n // columns
        ring = [(i, j), (i + 1, j), (i + 1, j + 1), (i, j + 1)]
        outline: list[tuple[float, float]] = []
        for p, q in zip(ring, ring[1:] + ring[:1], strict=True):
            outline += [corner[p], *edge(p, q)]
        areas.append(IndexedArea(f"street-{n}", "street", n, Polygon(outline).buffer(0)))
    return areas


def places(count: int) -> list[tuple[float, float]]:
    """Random (latitude, longitude): nine in ten in the box, the rest just outside it."""
    rng = random.Random(SEED + 1)
    margin = SIZE * 0.1
    found = []
    for _ in range(count):
        inside = rng.random() < 0.9
        low, high = (0.0, SIZE) if inside else (-margin, 0.0)
        found.append((SOUTH + rng.uniform(low, high), WEST + rng.uniform(0.0, SIZE)))
    return found


def _timed(
    look: Any, points: list[tuple[float, float]]
) -> tuple[list[list[str]], dict[str, float]]:
    answers, micros = [], []
    for latitude, longitude in points:
        started = time.perf_counter()
        found = look(latitude, longitude)
        micros.append((time.perf_counter() - started) * 1e6)
        answers.append([area.code for area in found])
    micros.sort()
    p99 = micros[min(len(micros) - 1, int(len(micros) * 0.99))]
    return answers, {"p50_us": round(statistics.median(micros), 1), "p99_us": round(p99, 1)}


def measure(count: int, lookups: int) -> dict[str, Any]:
    """Generate, build both, look the same places up in both; the figures as a dictionary."""
    started = time.perf_counter()
    areas = generate(count)
    generated_s = time.perf_counter() - started
    started = time.perf_counter()
    index = AreaIndex(areas)
    build_ms = (time.perf_counter() - started) * 1000
    scan = AreaScan(areas)
    points = places(lookups)
    by_index, index_figures = _timed(index.covering, points)
    scanned = points[: min(lookups, SCAN_LOOKUPS)]
    by_scan, scan_figures = _timed(scan.covering, scanned)
    return {
        "polygons": len(areas),
        "corners_per_polygon": round(
            statistics.mean(int(get_num_coordinates(a.outline)) - 1 for a in areas), 1
        ),
        "generate_s": round(generated_s, 2),
        "index_build_ms": round(build_ms, 1),
        "index_lookups": len(points),
        "index": index_figures,
        "scan_lookups": len(scanned),
        "scan": scan_figures,
        "found": sum(1 for codes in by_index if codes),
        "same_answers": by_index[: len(scanned)] == by_scan,
    }


def run_area_bench(args: argparse.Namespace) -> int:
    """Measure and print; 1 if the index and the scan disagree on any place."""
    figures = measure(args.areas, args.lookups)
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        index, scan = figures["index"], figures["scan"]
        print(
            f"{figures['polygons']:,} polygons of {figures['corners_per_polygon']} corners, "
            f"generated in {figures['generate_s']} s\n"
            f"STRtree index: built in {figures['index_build_ms']} ms; "
            f"{figures['index_lookups']:,} lookups: p50 {index['p50_us']} µs, "
            f"p99 {index['p99_us']} µs\n"
            f"scan of every polygon: {figures['scan_lookups']:,} lookups: "
            f"p50 {scan['p50_us']} µs, p99 {scan['p99_us']} µs\n"
            f"{figures['found']:,} of {figures['index_lookups']:,} places in an area; "
            f"index and scan agree: {'yes' if figures['same_answers'] else 'NO'}",
            flush=True,
        )
    return 0 if figures["same_answers"] else 1
