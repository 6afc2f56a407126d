"""Disputes of unsatisfied ratings (差评复核) end to end: `/dispute` by the case's department,
every refusal in plain words (in English and Chinese), a supervisor's Grant on the staff chat's
card, the audit events, and the figures the granted dispute changes (/stats, the ranking, the
digest's count per department)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from bot.sandbox import Sandbox
from bot.settings import Settings
from bot.texts.reports import digest_text
from storage.citizens import choose_language
from storage.desk_models import Dispute
from storage.digest import digest_facts
from storage.dispute_reasons import DisputeReasonsInvalid, load_reasons
from storage.disputes import DisputeRefused, DisputeView, file_dispute
from storage.lifecycle import accept_case, submit_reply
from storage.lifecycle_core import CaseChangedMeanwhile
from storage.periods import week_of
from storage.stats import compute_stats
from storage.tracking import format_tracking_number
from tests.databases import Database
from tests.following import Desk, buttons
from tests.harness import eventually, query
from tests.staff_desk import (
    ADMIN,
    CITIZEN,
    DENIED,
    HANDLER,
    SUPERVISOR,
    add_team,
    answer_of,
    staff_desk,
)
from tests.staff_desk import press as press_in_group
from tests.web_desk import OTHER

REPLY = "Cutting the heating of the flat below is not something we may do."
REASONS = (
    "• against_law: The request asks for something against the law or policy\n"
    "• repeat_answered: It repeats a request already answered\n"
    "• outside_remit: It is outside the desk's remit\n"
    "• unreasonable: The request cannot reasonably be met (the facts were checked)"
)


async def say(d: Desk, user_id: int, text: str) -> str:
    answer = await d.say(user_id, text, len(d.sandbox.messages(user_id)) + 1)
    print(f"{user_id} {text!r}\n  → {answer['text']}")
    return str(answer["text"])


async def rated(d: Desk, citizen: int, satisfaction: str) -> str:
    """A case answered by the heating company and rated by its citizen in the chat."""
    now = datetime.now(UTC)
    case = await d.file_case(citizen, at=now)
    zone = d.runtime.services.settings.zone
    await accept_case(case.tracking, "heating-company", by=ADMIN, now=now, zone=zone)
    await submit_reply(case.tracking, REPLY, by=ADMIN, now=now)
    answer = (await d.sandbox.wait_for_messages(citizen, 2, timeout=10))[-1]
    await d.press_edit(citizen, answer, f"rt:s:{case.tracking}:not_solved")
    await d.press_edit(citizen, answer, f"rt:f:{case.tracking}:{satisfaction}")
    return case.tracking


async def heating() -> Any:
    today = datetime.now(UTC)
    stats = await compute_stats(today - timedelta(days=1), today + timedelta(days=1))
    return next(s for s in stats.departments if s.code == "heating-company")


async def test_dispute_refusals_grant_and_figures(sandbox: Sandbox, db_path: Database) -> None:
    async with staff_desk(sandbox, db_path) as d:
        await add_team(d)
        await d.say(ADMIN, f"/staff add {OTHER} handler gas-company", 2)
        tracking = await rated(d, CITIZEN, "unsatisfied")
        pleased = await rated(d, CITIZEN + 1, "satisfied")
        number, other = format_tracking_number(tracking), format_tracking_number(pleased)
        events_before = query(db_path, "SELECT count(*) FROM case_event")

        # Bad input: each gets one polite line, and nothing changes.
        assert await say(d, CITIZEN, f"/dispute {number} against_law") == DENIED
        assert await say(d, OTHER, f"/dispute {number} against_law") == (
            f"Only the staff of the department of request {number} may dispute its rating."
        )
        usage = (
            "Usage: /dispute <number> <reason> [what happened]. It disputes the unsatisfied "
            f"rating of a request of your department. Reasons:\n{REASONS}"
        )
        assert await say(d, HANDLER, f"/dispute {number}") == usage
        assert await say(d, HANDLER, f"/dispute {number} rude_citizen") == usage
        assert await say(d, HANDLER, f"/dispute {other} against_law") == (
            f"Request {other} has no unsatisfied rating to dispute."
        )
        await choose_language(OTHER, "zh_Hans")
        assert await say(d, OTHER, f"/dispute {number} against_law") == (
            f"只有诉求 {number} 所属部门的工作人员才能对其评价提出复核。"
        )
        assert query(db_path, "SELECT count(*) FROM rating_dispute") == [(0,)]
        assert query(db_path, "SELECT count(*) FROM case_event") == events_before
        before = await heating()
        assert before.figures.satisfaction_rate == 0.5

        # Filed once, with a card to the supervisors.
        said = "The citizen asks us to cut the heating of the flat below."
        assert await say(d, HANDLER, f"/dispute {number} against_law {said}") == (
            f"The rating of request {number} is disputed; a supervisor will decide."
        )
        card = await eventually(
            lambda: next(
                (m for m in d.sandbox.messages(d.staff) if "disputes the" in m["text"]), None
            ),
            10,
            what="the dispute card",
        )
        print(card["text"])
        assert card["text"] == (
            f"City Heating Company disputes the unsatisfied rating of request {number}. "
            f"Reason: The request asks for something against the law or policy\n{said}"
        )
        assert [data for _, data in buttons(card)] == [f"dsp:g:{tracking}", f"dsp:r:{tracking}"]
        assert await say(d, HANDLER, f"/dispute {number} repeat_answered") == (
            f"The rating of request {number} is already disputed: a rating is disputed once."
        )
        assert await press_in_group(d, HANDLER, card, f"dsp:g:{tracking}") == DENIED
        assert await press_in_group(d, SUPERVISOR, card, f"dsp:g:{tracking}") == ""
        decided = await eventually(
            lambda: next(
                (m for m in d.sandbox.messages(d.staff) if m["text"].startswith("Dispute")), None
            ),
            10,
            what="the decision",
        )
        assert decided["text"] == (
            f"Dispute granted: the rating of request {number} no longer counts in the figures "
            "of City Heating Company."
        )
        refuse = d.sandbox.press_button(
            SUPERVISOR, d.staff, card["message_id"], f"dsp:r:{tracking}", force=True
        )
        assert await answer_of(d.sandbox, refuse) == (
            f"No dispute of request {number} is waiting for a decision."
        )

        # The figures: the rating leaves the department's satisfaction, resolution and score.
        after = await heating()
        assert after.figures.satisfaction_rate == 1.0
        assert after.figures.resolution_rate == 0.0
        assert after.figures.disputed == 1
        assert after.figures.score != before.figures.score
        zone = d.runtime.services.settings.zone
        today = datetime.now(UTC).astimezone(zone).date()
        around = f"{today - timedelta(days=1)}..{today + timedelta(days=1)}"  # any time of day
        stats = await say(d, SUPERVISOR, f"/stats {around}")
        assert "Satisfied: 100.0% (1 of 1 rated)" in stats
        assert "Resolved: 0.0% (0 of 1 rated)" in stats
        assert "Disputes granted: 1" in stats
        assert "Callback rate: 100.0% (2 of 2 answered)" in stats
        assert query(
            db_path,
            "SELECT kind, actor_id, public FROM case_event WHERE kind LIKE 'dispute%' ORDER BY id",
        ) == [("dispute_filed", HANDLER, 0), ("dispute_decided", SUPERVISOR, 0)]
        # The digest counts them per department, so they cannot be used quietly.
        [(filed,)] = await Dispute.all().values_list("filed_at")
        week = week_of(filed.astimezone(zone).date(), zone)  # the week it was filed in
        facts = await digest_facts(week, now=datetime.now(UTC), zone=zone)
        assert facts["disputes"] == [["heating-company", 1, 1, 0]]
        names = ({"heating-company": {"en": "City Heating Company"}}, {})
        text = digest_text(facts, d.runtime.services.catalogs.get("en"), names)
        assert (
            "Disputed ratings, by department:\n• City Heating Company: 1 filed, 1 granted, "
            "0 refused" in text
        )
        # Nothing of it reached the citizen.
        assert not any("disput" in m["text"] for m in d.sandbox.messages(CITIZEN))


def test_a_reasons_file_without_a_language_stops_start_up(tmp_path: Path) -> None:
    broken = tmp_path / "reasons.toml"
    broken.write_text(
        '[[dispute_reason]]\ncode = "against_law"\nnames.en = "Against the law"\n',
        encoding="utf-8",
    )
    with pytest.raises(DisputeReasonsInvalid, match="dispute_reason #1"):
        load_reasons(broken)
    with pytest.raises(ValidationError, match="dispute_reason #1"):
        Settings(dispute_reasons_file=broken)
    assert [r.code for r in load_reasons(None)][:3] == [
        "against_law",
        "repeat_answered",
        "outside_remit",
    ]


async def test_two_disputes_at_once_file_one(sandbox: Sandbox, db_path: Database) -> None:
    """Two staff members dispute the same rating at the same moment: one dispute is filed, the
    other attempt is refused and leaves nothing (shown on PostgreSQL; SQLite runs one
    transaction at a time)."""
    async with staff_desk(sandbox, db_path) as d:
        await add_team(d)
        tracking = await rated(d, CITIZEN, "unsatisfied")
        reasons = {r.code: r.names for r in load_reasons(None)}
        now = datetime.now(UTC)

        async def filing(by: int) -> DisputeView:
            return await file_dispute(
                tracking, "against_law", "", reasons=reasons, by=by, now=now, staff_chat_id=None
            )

        results = await asyncio.gather(filing(HANDLER), filing(SUPERVISOR), return_exceptions=True)
        filed = [r for r in results if isinstance(r, DisputeView)]
        refused = [r for r in results if not isinstance(r, DisputeView)]
        assert len(filed) == 1, results
        assert isinstance(refused[0], CaseChangedMeanwhile | DisputeRefused), results
        assert query(db_path, "SELECT status FROM rating_dispute") == [("pending",)]
        kinds = "SELECT count(*) FROM case_event WHERE kind = 'dispute_filed'"
        assert query(db_path, kinds) == [(1,)]
        number = format_tracking_number(tracking)
        assert await say(d, HANDLER, f"/dispute {number} repeat_answered") == (
            f"The rating of request {number} is already disputed: a rating is disputed once."
        )
