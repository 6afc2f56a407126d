"""The desk's figures: every figure of compute_stats against a hand count, /stats and /export
end to end through the sandbox.

The fixture is January 2025 at a desk in Shanghai: the period is [2024-12-31 16:00 UTC,
2025-01-31 16:00 UTC). Times are hours after each case's creation unless said otherwise; "past"
means before NOW (2025-02-10), "future" after it. H = heating-company, G = gas-company,
W = water-company (H and G are under housing-bureau; W under water-authority).

| case | dept | status | signed (due +4h) | first answer (due +48h) | answered_at | rating |
| --- | --- | --- | --- | --- | --- | --- |
| c1 | H | closed | +1 on time | +10 | +10 | solved · satisfied |
| c2 | H | closed | +5 late | +60 | +60 | partly · basic |
| c3 | H | closed, reopened once | +1 | +20 | +100 (after the reopen) | not solved · unsatisfied |
| c4 | G | in_progress | never (past due) | none, past due | — | — |
| c5 | G | answered | +1 | +5 | +5 | — |
| c6 | — (proposed G) | submitted | — | — | — | — |
| c7 | — (proposed W) | rejected | — | — | — | — |
| c8 | H | merged | +1 | none | — | — |
| c9 | W | in_progress | +1 | none, due in the future | — | — |
| c11 | — (proposed H) | submitted, at the period's first instant | — | — | — | — |
| c14 | W | closed by staff at +30, no answer | +1 | none, past due | — | — |

c10 (created at the period's end, exclusive) and c12 (a second before its start) count nowhere.

Hand count over the 11 cases received:
- accepted: c1 c2 c3 c4 c5 c8 c9 c14 = 8; acceptance 8/11.
- sign-for: counted 8 (all accepted have a sign due; c4 unsigned and past it), on time 6
  (c1 c3 c5 c8 c9 c14).
- response: counted c1 c2 c3 c4 c5 c14 = 6 (c8 merged and c9 not yet due are left out), on
  time c1 c3 c5 = 3.
- answered: c1 c2 c3 c5 = 4. Rated 3: resolved 2, satisfied 2. Feedback 3/4, reopen 1/4.
- completion: base = accepted not merged = 7, completed (closed) c1 c2 c3 c14 = 4.
- on-time completion: counted = closed with a due date (c1 c2 c3 c14) + open unanswered past
  due (c4) = 5; on time c1 (answered +10) and c14 (closed +30) = 2 (c3's final answer is late).
- hours to first answer: 5, 10, 20, 60 → median (rank 2) 10, 90th percentile (rank 4) 60.
Per department: H has c1 c2 c3 c8, G c4 c5, W c9 c14, unassigned c6 c7 c11. Scores (weights
0.3 on-time completion, 0.2 response, 0.25 resolution, 0.25 satisfaction, over the rates
present): H = 0.3·1/3 + 0.2·2/3 + 0.25·2/3 + 0.25·2/3 = 56.67; G = (0.3·0 + 0.2·1/2)/0.5 = 20;
W = (0.3·1 + 0.2·0)/0.5 = 60. Ranking: W, H, G; unassigned unranked.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.cli import build_parser
from bot.reports_cli import run_export, run_report
from bot.sandbox import Sandbox
from storage.catalog import SAMPLE_CATALOG, load_catalog
from storage.citizens import choose_language, touch_citizen
from storage.export import COLUMNS
from storage.lifecycle import accept_case
from storage.models import Case, Rating, StaffRole
from storage.periods import parse_period
from storage.staff import StaffNotAuthorized, add_staff, ensure_admins
from storage.stats import compute_stats, report_scope
from storage.tracking import format_tracking_number
from tests.databases import Database
from tests.following import Desk, desk
from tests.harness import settings_for
from tests.staff_fixtures import SHANGHAI
from tests.stats_fixtures import h, make

NOW = datetime(2025, 2, 10, 4, 0, tzinfo=UTC)
START = datetime(2024, 12, 31, 16, 0, tzinfo=UTC)
END = datetime(2025, 1, 31, 16, 0, tzinfo=UTC)
ADMIN, HOUSING_SUP, HANDLER = 1, 2, 3


async def rate(case: Case, solved: str, satisfaction: str) -> None:
    await Rating.create(
        case_id=case.id, solved=solved, satisfaction=satisfaction, rated_at=h(70), citizen_id=None
    )


@pytest.fixture
async def fixture_db(db: None) -> None:
    await load_catalog(SAMPLE_CATALOG)
    await ensure_admins([ADMIN], now=NOW)
    await add_staff(HOUSING_SUP, StaffRole.SUPERVISOR, "housing-bureau", by=ADMIN, now=NOW)
    await add_staff(HANDLER, StaffRole.HANDLER, "heating-company", by=ADMIN, now=NOW)
    await build_fixture()


async def build_fixture() -> None:
    c1 = await make(
        1,
        "heating-company",
        "closed",
        signed_at=h(1),
        first_answered_at=h(10),
        answered_at=h(10),
        closed_at=h(80),
        extension_count=1,
    )
    await rate(c1, "solved", "satisfied")
    c2 = await make(
        2,
        "heating-company",
        "closed",
        signed_at=h(5),
        first_answered_at=h(60),
        answered_at=h(60),
        closed_at=h(80),
    )
    await rate(c2, "partly", "basic")
    c3 = await make(
        3,
        "heating-company",
        "closed",
        signed_at=h(1),
        first_answered_at=h(20),
        answered_at=h(100),
        closed_at=h(120),
        reopen_count=1,
    )
    await rate(c3, "not_solved", "unsatisfied")
    await make(4, "gas-company", "in_progress")
    await make(
        5, "gas-company", "answered", signed_at=h(1), first_answered_at=h(5), answered_at=h(5)
    )
    await make(6, None, "submitted", proposed="gas-company", accepted=False)
    await make(7, None, "rejected", proposed="water-company", accepted=False, closed_at=h(2))
    await make(8, "heating-company", "merged", signed_at=h(1), closed_at=h(3))
    await make(
        9,
        "water-company",
        "in_progress",
        created=NOW - timedelta(hours=1),
        signed_at=NOW - timedelta(minutes=30),
    )
    # c9 is created in the period for counting purposes: move it there, keeping a future due.
    await Case.filter(tracking="TEST00000009").update(created_at=h(24 * 20))
    await make(14, "water-company", "closed", signed_at=h(1), closed_at=h(30))
    await make(11, None, "submitted", proposed="heating-company", accepted=False, created=START)
    await make(10, "heating-company", "submitted", accepted=False, created=END)
    await make(
        12, "heating-company", "submitted", accepted=False, created=START - timedelta(seconds=1)
    )


def rates(figures: Any) -> dict[str, Any]:
    names = (
        "acceptance_rate",
        "on_time_sign_rate",
        "response_rate",
        "resolution_rate",
        "completion_rate",
        "on_time_completion_rate",
        "satisfaction_rate",
        "feedback_rate",
        "reopen_rate",
    )
    return {name: getattr(figures, name) for name in names}


@pytest.mark.usefixtures("fixture_db")
async def test_every_figure_against_the_hand_count() -> None:
    period = parse_period("2025-01", now=NOW, zone=SHANGHAI)
    assert (period.start, period.end) == (START, END)
    stats = await compute_stats(period.start, period.end, now=NOW)
    t = stats.total
    assert (t.received, t.accepted) == (11, 8)
    assert (t.sign_counted, t.signed_on_time) == (8, 6)
    assert (t.response_counted, t.responded_on_time) == (6, 3)
    assert (t.answered, t.rated, t.resolved, t.satisfied, t.reopened) == (4, 3, 2, 2, 1)
    assert (t.completion_base, t.completed) == (7, 4)
    assert (t.completion_counted, t.completed_on_time) == (5, 2)
    assert rates(t) == pytest.approx(
        {
            "acceptance_rate": 8 / 11,
            "on_time_sign_rate": 6 / 8,
            "response_rate": 3 / 6,
            "resolution_rate": 2 / 3,
            "completion_rate": 4 / 7,
            "on_time_completion_rate": 2 / 5,
            "satisfaction_rate": 2 / 3,
            "feedback_rate": 3 / 4,
            "reopen_rate": 1 / 4,
        }
    )
    assert t.median_answer_hours == pytest.approx(10, abs=0.01)
    assert t.p90_answer_hours == pytest.approx(60, abs=0.01)


@pytest.mark.usefixtures("fixture_db")
async def test_the_department_ranking() -> None:
    stats = await compute_stats(START, END, now=NOW)
    ranking = [(d.code, d.rank, d.figures.received) for d in stats.departments]
    assert ranking == [
        ("water-company", 1, 2),
        ("heating-company", 2, 4),
        ("gas-company", 3, 2),
        (None, None, 3),
    ]
    by_code = {d.code: d.figures for d in stats.departments}
    heat, gas, water = by_code["heating-company"], by_code["gas-company"], by_code["water-company"]
    assert heat.score == pytest.approx(100 * (0.3 / 3 + 0.2 * 2 / 3 + 0.25 * 2 / 3 * 2))
    assert gas.score == pytest.approx(20)
    assert water.score == pytest.approx(60)
    assert (heat.median_answer_hours, heat.p90_answer_hours) == pytest.approx((20, 60), abs=0.01)
    assert (gas.median_answer_hours, gas.p90_answer_hours) == pytest.approx((5, 5), abs=0.01)
    assert water.median_answer_hours is None
    assert (heat.signed_on_time, heat.sign_counted, heat.completed_on_time) == (3, 4, 1)
    assert by_code[None].accepted == 0


@pytest.mark.usefixtures("fixture_db")
async def test_a_department_covers_its_subtree() -> None:
    stats = await compute_stats(START, END, "housing-bureau", now=NOW)
    # H and G, and the unassigned cases proposed to them (c6, c11); not c7 (proposed W).
    assert (stats.total.received, stats.total.accepted) == (8, 6)
    assert {d.code for d in stats.departments} == {"heating-company", "gas-company", None}
    water = await compute_stats(START, END, "water-company", now=NOW)
    assert (water.total.received, water.total.completed) == (3, 1)  # c9, c14 and c7


@pytest.mark.usefixtures("fixture_db")
async def test_who_may_see_reports() -> None:
    assert await report_scope(ADMIN, None, now=NOW) is None
    assert await report_scope(ADMIN, "water-company", now=NOW) == "water-company"
    # A supervisor limited to the housing bureau sees that subtree, and nothing outside it.
    assert await report_scope(HOUSING_SUP, None, now=NOW) == "housing-bureau"
    assert await report_scope(HOUSING_SUP, "gas-company", now=NOW) == "gas-company"
    for user_id, department in ((HOUSING_SUP, "water-company"), (HANDLER, None), (999, None)):
        with pytest.raises(StaffNotAuthorized):
            await report_scope(user_id, department, now=NOW)


def csv_rows(data: bytes) -> list[dict[str, str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


SUPERVISOR, FILER = 76_001, 76_002


async def accepted_case(d: Desk, text: str) -> str:
    case = await d.file_case(FILER, text=text)
    await accept_case(
        case.tracking,
        "heating-company",
        by=SUPERVISOR,
        now=datetime.now(UTC),
        zone=d.runtime.services.settings.zone,
    )
    return case.tracking


async def test_stats_answers_with_figures_and_charts(sandbox: Sandbox, db_path: Database) -> None:
    async with desk(sandbox, db_path, MINSHENG_ADMIN_IDS=str(SUPERVISOR)) as d:
        for text in ("The radiators are cold.", "No heating in building 4."):
            await accepted_case(d, text)
        await d.file_case(FILER, text="Cold flat, still not accepted.")
        sandbox.send_text(SUPERVISOR, "/stats week")
        got = await sandbox.wait_for_messages(SUPERVISOR, 4, timeout=30)
        text = got[0]["text"]
        assert text.startswith("Figures for ")
        assert "Received: 3" in text
        assert "Accepted: 2 (66.7%)" in text
        assert "City Heating Company" in text  # the ranking table, by name
        assert "heating-company" not in text
        album = got[1:4]
        assert [m["method"] for m in album] == ["sendMediaGroup"] * 3
        assert album[0]["caption"].startswith("Requests per day, ")
        for message in album:
            stored = sandbox.world.files[message["photo"]]
            assert stored.data is not None
            assert stored.data.startswith(b"\x89PNG")
        # A department, a wrong period, an unknown department.
        sandbox.send_text(SUPERVISOR, "/stats today heating-company")
        got = await sandbox.wait_for_messages(SUPERVISOR, 8, timeout=30)
        # The department's own cases and the one proposed to it, not yet accepted.
        assert "Received: 3\nAccepted: 2 (66.7%)" in got[4]["text"]
        assert "City Heating Company" in got[4]["text"]
        assert (await d.say(SUPERVISOR, "/stats 2025-13", 9))["text"].startswith("Usage: /stats")
        assert (await d.say(SUPERVISOR, "/stats nowhere", 10))["text"] == (
            "No department has the code nowhere."
        )


async def test_export_sends_a_csv_with_chinese_intact(
    sandbox: Sandbox, db_path: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with desk(sandbox, db_path, MINSHENG_ADMIN_IDS=str(SUPERVISOR)) as d:
        tracking = await accepted_case(d, "暖气不热，室温只有十五度。")
        await touch_citizen(SUPERVISOR, first_name="Wang", guessed_language="zh_Hans")
        await choose_language(SUPERVISOR, "zh_Hans")
        document = await d.say(SUPERVISOR, "/export month", 1)
        assert document["method"] == "sendDocument"
        assert document["caption"].endswith("1 件")
        rows = csv_rows(sandbox.world.files[document["document"]].data or b"")
        # As people write it, dashes kept; times in ISO 8601 with the desk's offset.
        assert [r["tracking"] for r in rows] == [format_tracking_number(tracking)]
        row = rows[0]
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d\+08:00", row["created"])
        assert datetime.fromisoformat(row["accepted"]) <= datetime.now(UTC)
        assert row["category_name"] == "供暖费缴纳与计费"
        assert row["department_name"] == "市热力集团"
        assert (row["status"], row["kind"], row["department"]) == (
            "accepted",
            "complaint",
            "heating-company",
        )
        # No personal data: neither the text, nor names, phones or user ids.
        flat = ",".join(rows[0].values())
        assert "暖气不热" not in flat
        assert str(FILER) not in flat
        assert "Li" not in rows[0].values()
        assert set(rows[0]) == set(COLUMNS)
    # The same from the command line: `minsheng export` (a progress bar) and `minsheng report`.
    settings = settings_for(sandbox, db_path)
    out = tmp_path / "requests.csv"
    args = build_parser().parse_args(
        ["export", "month", "--out", str(out), "--language", "zh_Hans"]
    )
    assert await run_export(settings, args) == 0
    assert [r["department_name"] for r in csv_rows(out.read_bytes())] == ["市热力集团"]
    assert f"[{'#' * 30}] 1/1" in capsys.readouterr().err
    args = build_parser().parse_args(["report", "month", "heating-company"])
    assert await run_report(settings, args) == 0
    printed = capsys.readouterr().out
    assert "Received: 1\nAccepted: 1 (100.0%)" in printed
    assert "<" not in printed  # no markup in a terminal


__all__ = ["csv_rows", "fixture_db", "make"]
