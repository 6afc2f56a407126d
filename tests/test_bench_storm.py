"""`minsheng bench --scenario storm` runs a small storm and reports every figure with its goal
and whether it was met, in text and in JSON. The figures themselves are the benchmark's to
show: nothing here is timed."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.harness import ROOT

SMALL = ("--scenario", "storm", "--citizens", "60", "--filers", "3", "--think", "1")
FIGURES = [
    "messages per second in the storm",
    "notices per second in the storm",
    "429s received by the bot",
    "violations (sandbox)",
    "filers' waits: p50 / p99 ms",
    "storm seconds (first to last notice)",
    "CPU ms per message (bot, whole run)",
    "peak memory MB (PSS of the bot's processes)",
]


def _bench(*options: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "bot", "--log-level", "WARNING", "bench", *options]
    return subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )


@pytest.mark.slow
def test_bench_storm_prints_every_figure_with_its_goal() -> None:
    done = _bench(*SMALL)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert lines[0].startswith("storm: 60 notices at once, 3 citizens filing"), lines[0]
    for figure in FIGURES:
        [line] = [line for line in lines if line.startswith(figure)]
        assert line.rstrip().endswith(("not met", " met", " -")), line
    assert ">= 29" in next(line for line in lines if line.startswith(FIGURES[0]))
    assert "p99 < 2000" in next(line for line in lines if line.startswith(FIGURES[4]))

    report = json.loads(_bench(*SMALL, "--json").stdout)
    assert report["scenario"]["citizens"] == 60
    assert report["scenario"]["filers"] == 3
    assert [row["figure"] for row in report["figures"]] == FIGURES
    for row in report["figures"]:
        assert row["goal"]
        assert row["met"] in (True, False, None)
    by_figure = {row["figure"]: row for row in report["figures"]}
    assert by_figure["violations (sandbox)"]["goal"] == "0"
    assert by_figure["429s received by the bot"]["goal"] == "0"
