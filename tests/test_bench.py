"""`minsheng bench --json` runs both bots through the sandbox and reports its figures.

Only the shape and sanity of the report are checked here; the speed targets are read from the
benchmark's own output, not asserted in a timed test."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.harness import ROOT


@pytest.mark.slow
def test_bench_reports_pipeline_ceiling_and_ratio() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot",
            "--log-level",
            "WARNING",
            "bench",
            "--users",
            "5",
            "--messages",
            "2",
            "--json",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    )
    report = json.loads(done.stdout)
    assert set(report) >= {"pipeline", "ceiling", "ratio"}
    for side in ("pipeline", "ceiling"):
        figures = report[side]
        assert figures["updates"] == 10
        assert figures["updates_per_second"] > 0
        assert 0 < figures["p50_ms"] <= figures["p99_ms"]
        assert figures["peak_rss_mb"] > 10
    assert report["ratio"] == round(
        report["pipeline"]["updates_per_second"] / report["ceiling"]["updates_per_second"], 3
    )
