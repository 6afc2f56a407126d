"""The public board's search in `minsheng bench --cases N`: board pages as visitors ask for them.

A mix of what people type on a board: Chinese words of two characters and longer, in either
script, English, a single character, a word that is nowhere, with and without a category or
department filter, on the first pages; each one page of storage.board.board_page, timed.
"""

from __future__ import annotations

import random
import statistics
import time
from typing import Any

from storage.board import board_page
from storage.publication import published_cases
from storage.sql import fetch

TARGET_P99_MS = 100.0
WORDS = (
    "暖气",
    "噪音",
    "路灯",
    "小区",
    "漏水",
    "暖气不热",
    "安全隐患",
    "和平街道",
    "多次联系物业",
    "暖氣不熱",
    "噪音 晚上",
    "streetlight",
    "radiators cold",
    "水",
    "无此词语的诉求",
    "",
)


def _percentile(values: list[float], share: float) -> float:
    return values[min(len(values) - 1, int(len(values) * share))]


async def measure_board(rng: random.Random, count: int) -> dict[str, Any]:
    """`count` board pages: a random search of WORDS, a filter one time in four, pages 1–5."""
    published = await published_cases().count()
    categories = [r["code"] for r in await fetch("SELECT code FROM category")]
    departments = [r["code"] for r in await fetch("SELECT code FROM department")]
    times: list[float] = []
    found = 0
    for _ in range(count):
        words = rng.choice(WORDS)
        pick = rng.random()
        category = rng.choice(categories) if pick < 0.125 else None
        department = rng.choice(departments) if 0.125 <= pick < 0.25 else None
        page = 1 if rng.random() < 0.7 else rng.randint(2, 5)
        started = time.perf_counter()
        result = await board_page(words, page, category=category, department=department)
        times.append((time.perf_counter() - started) * 1000)
        found += bool(result.rows)
    times.sort()
    return {
        "published": published,
        "searches": len(times),
        "with_results": found,
        "p50_ms": round(statistics.median(times), 2),
        "p99_ms": round(_percentile(times, 0.99), 2),
        "max_ms": round(times[-1], 2),
    }
