"""The case lifecycle in storage: the transition table, the version guard, the whole path."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, timedelta
from typing import Any

import pytest

from storage import lifecycle_core
from storage.cases import CaseNotFound, CaseStatus, case_by_tracking
from storage.lifecycle import (
    CITIZEN_ANSWER,
    TRANSITIONS,
    CaseChangedMeanwhile,
    MergeRefused,
    ReplyAlreadyPending,
    ReplyNotPending,
    TransitionRefused,
    accept_case,
    approve_reply,
    ask_citizen,
    citizen_answered,
    close_case,
    merge_case,
    reject_case,
    reopen_case,
    return_reply,
    submit_reply,
    transfer_case,
)
from storage.models import Case, Event, OutboxMessage
from storage.routing import co_handle, send_back, sign_for
from storage.staff import StaffAction
from tests.staff_fixtures import (
    ADMIN,
    ALICE,
    BOB,
    HEAT_HANDLER,
    NOW,
    SHANGHAI,
    SUPERVISOR,
    db,
    events,
    file_case,
)

__all__ = ["db"]

A = StaffAction
Op = Callable[[str], Awaitable[object]]


def operations(other: str) -> dict[str, Op]:
    """Every move, by its action, done by an admin (so only the table can refuse)."""
    return {
        A.ACCEPT: lambda t: accept_case(t, "gas-company", by=ADMIN, now=NOW, zone=SHANGHAI),
        A.REJECT: lambda t: reject_case(t, "Not a city matter.", by=ADMIN, now=NOW),
        A.TRANSFER: lambda t: transfer_case(t, "gas-company", "Misrouted.", by=ADMIN, now=NOW),
        A.ASK: lambda t: ask_citizen(t, "Which flat?", by=ADMIN, now=NOW),
        A.REPLY: lambda t: submit_reply(t, "Repaired on Tuesday.", by=ADMIN, now=NOW),
        A.APPROVE: lambda t: approve_reply(t, by=ADMIN, now=NOW),
        A.RETURN_REPLY: lambda t: return_reply(t, "Say when.", by=ADMIN, now=NOW),
        A.CLOSE: lambda t: close_case(t, by=ADMIN, now=NOW),
        A.MERGE: lambda t: merge_case(t, other, by=ADMIN, now=NOW),
        A.REOPEN: lambda t: reopen_case(t, by=ADMIN, now=NOW),
        CITIZEN_ANSWER: lambda t: citizen_answered(t, ALICE, "Flat 12.", now=NOW),
        A.SIGN: lambda t: sign_for(t, by=ADMIN, now=NOW),
        A.SEND_BACK: lambda t: send_back(t, "Misrouted.", by=ADMIN, now=NOW),
        A.CO_HANDLE: lambda t: co_handle(t, "gas-company", by=ADMIN, now=NOW),
    }


async def notices() -> list[tuple[int | None, str, dict[str, Any]]]:
    rows = await OutboxMessage.filter(method="notice").order_by("id")
    return [(r.chat_id, r.payload["kind"], r.payload["params"]) for r in rows]


async def state(tracking: str) -> tuple[Any, ...]:
    row = (
        await Case.filter(tracking=tracking)
        .first()
        .values("status", "version", "department_id", "reopen_count", "duplicate_of_id")
    )
    counted = (await Event.all().count(), await OutboxMessage.all().count())
    return (*(row or {}).values(), *counted)


async def test_every_move_outside_the_table_is_refused_and_changes_nothing(db: None) -> None:
    other = await file_case(BOB)
    ops = operations(other)
    refused = 0
    for status in CaseStatus:
        tracking = await file_case()
        await Case.filter(tracking=tracking).update(status=status)
        for action, op in ops.items():
            if (status, action) in TRANSITIONS:
                continue
            before = await state(tracking)
            with pytest.raises(TransitionRefused):
                await op(tracking)
            assert await state(tracking) == before, (status, action)
            refused += 1
    legal = [move for move in TRANSITIONS if move[1] in ops]  # moves of the operations here
    assert refused == len(CaseStatus) * len(ops) - len(legal)


async def test_review_needs_a_waiting_reply(db: None) -> None:
    tracking = await file_case()
    await accept_case(tracking, "heating-company", by=SUPERVISOR, now=NOW, zone=SHANGHAI)
    with pytest.raises(TransitionRefused):  # accepted, never worked: nothing to approve
        await approve_reply(tracking, by=SUPERVISOR, now=NOW)
    await ask_citizen(tracking, "Which flat?", by=HEAT_HANDLER, now=NOW)
    await citizen_answered(tracking, ALICE, "Flat 12.", now=NOW)
    with pytest.raises(ReplyNotPending):
        await approve_reply(tracking, by=SUPERVISOR, now=NOW)
    with pytest.raises(ReplyNotPending):
        await return_reply(tracking, "Why?", by=SUPERVISOR, now=NOW)
    reply = await submit_reply(
        tracking,
        "Please ask another department.",
        by=HEAT_HANDLER,
        now=NOW,
        min_length=40,
        perfunctory_phrases=("ask another department", "not our job"),
    )
    assert reply.perfunctory
    assert reply.signs == ("short", "ask another department")
    with pytest.raises(ReplyAlreadyPending):
        await submit_reply(tracking, "Another one.", by=HEAT_HANDLER, now=NOW)
    with pytest.raises(ReplyAlreadyPending):
        await ask_citizen(tracking, "And the floor?", by=HEAT_HANDLER, now=NOW)


async def test_citizen_answer_only_by_the_owner(db: None) -> None:
    tracking = await file_case()
    await accept_case(tracking, "heating-company", by=SUPERVISOR, now=NOW, zone=SHANGHAI)
    await ask_citizen(tracking, "Which flat?", by=HEAT_HANDLER, now=NOW)
    with pytest.raises(CaseNotFound):
        await citizen_answered(tracking, BOB, "Mine!", now=NOW)
    assert (await case_by_tracking(tracking)).status is CaseStatus.AWAITING_CITIZEN


async def test_transfer_counts_and_merge_needs_an_open_target(db: None) -> None:
    tracking, other = await file_case(), await file_case(BOB)
    await accept_case(tracking, "heating-company", by=SUPERVISOR, now=NOW, zone=SHANGHAI)
    with pytest.raises(TransitionRefused):
        await transfer_case(tracking, "heating-company", "No.", by=SUPERVISOR, now=NOW)
    moved = await transfer_case(tracking, "gas-company", "Gas boiler.", by=SUPERVISOR, now=NOW)
    assert moved.department_code == "gas-company"
    assert (await Case.get(tracking=tracking)).transfer_count == 1
    await reject_case(other, "Duplicate of a private matter.", by=SUPERVISOR, now=NOW)
    # An ended target, the case itself, a missing one: one refusal, which tells them nothing.
    for into in (other, tracking, "ABCD-EFGH-JKMN"):
        with pytest.raises(MergeRefused):
            await merge_case(tracking, into, by=SUPERVISOR, now=NOW)
    third = await file_case(BOB)
    merged = await merge_case(tracking, third, by=SUPERVISOR, now=NOW)
    assert merged.status is CaseStatus.MERGED
    assert (await Case.get(tracking=tracking).prefetch_related("duplicate_of")).duplicate_of
    assert (await notices())[-1] == (ALICE, "case_merged", {"tracking": tracking, "into": third})


async def test_two_concurrent_accepts_one_wins(db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Both read the case before either writes (as two workers on PostgreSQL would)."""
    tracking = await file_case()
    stale = await lifecycle_core.load_case(tracking)
    assert stale is not None

    async def read_before_the_other_wrote(_: str) -> lifecycle_core.Snapshot | None:
        return stale

    monkeypatch.setattr(lifecycle_core, "load_case", read_before_the_other_wrote)
    outcomes = await asyncio.gather(
        accept_case(tracking, "heating-company", by=SUPERVISOR, now=NOW, zone=SHANGHAI),
        accept_case(tracking, "gas-company", by=ADMIN, now=NOW, zone=SHANGHAI),
        return_exceptions=True,
    )
    lost = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(lost) == 1
    assert isinstance(lost[0], CaseChangedMeanwhile)
    # Which one wins is the database's to decide (on PostgreSQL, two pooled connections race).
    winner = "gas-company" if isinstance(outcomes[0], BaseException) else "heating-company"
    row = await Case.get(tracking=tracking).prefetch_related("department")
    assert (row.status, row.version) == (CaseStatus.ACCEPTED, stale.version + 1)
    assert row.department is not None
    assert row.department.code == winner
    assert len(await events(tracking, "accepted")) == 1
    assert [n[1] for n in await notices()] == ["case_accepted"]


async def test_the_whole_path(db: None) -> None:
    t = await file_case()
    clock = iter(NOW + timedelta(minutes=m) for m in range(100))
    sup, hand = SUPERVISOR, HEAT_HANDLER

    accepted = await accept_case(t, "heating-company", by=sup, now=next(clock), zone=SHANGHAI)
    assert accepted.status is CaseStatus.ACCEPTED
    assert accepted.due_at == (NOW + timedelta(hours=24)).astimezone(UTC)
    await ask_citizen(t, "Which flat?", by=hand, now=next(clock))
    await citizen_answered(t, ALICE, "Flat 12.", now=next(clock))
    await submit_reply(t, "Done.", by=hand, now=next(clock))
    await return_reply(t, "Say what was done.", by=sup, now=next(clock))
    await submit_reply(t, "The valve was replaced on Tuesday.", by=hand, now=next(clock))
    answered = await approve_reply(t, by=sup, now=next(clock))
    assert answered.status is CaseStatus.ANSWERED
    reopened = await reopen_case(t, by=sup, now=next(clock))
    assert reopened.status is CaseStatus.IN_PROGRESS
    await submit_reply(t, "The whole riser was flushed.", by=hand, now=next(clock))
    await approve_reply(t, by=sup, now=next(clock))
    closed = await close_case(t, by=sup, now=next(clock))
    assert closed.status is CaseStatus.CLOSED

    row = await Case.get(tracking=t)
    assert (row.reopen_count, row.transfer_count, row.version) == (1, 0, 11)
    assert row.closed_at is not None
    timeline = [(e["kind"], e["actor"], e["public"]) for e in await events(t)]
    assert timeline == [
        ("submitted", "citizen", True),
        ("accepted", "staff", True),
        ("question", "staff", True),
        ("citizen_answered", "citizen", True),
        ("reply_submitted", "staff", False),
        ("reply_returned", "staff", False),
        ("reply_submitted", "staff", False),
        ("answered", "staff", True),
        ("reopened", "staff", True),
        ("reply_submitted", "staff", False),
        ("answered", "staff", True),
        ("closed", "staff", True),
    ]
    due = (NOW + timedelta(hours=24)).astimezone(UTC).isoformat()
    assert await notices() == [
        (ALICE, "case_accepted", {"tracking": t, "department": "heating-company", "due_at": due}),
        (ALICE, "case_question", {"tracking": t, "question": "Which flat?"}),
        (ALICE, "case_answered", {"tracking": t, "text": "The valve was replaced on Tuesday."}),
        (ALICE, "case_reopened", {"tracking": t}),
        (ALICE, "case_answered", {"tracking": t, "text": "The whole riser was flushed."}),
        (ALICE, "case_closed", {"tracking": t}),
    ]
