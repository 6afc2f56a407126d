"""`minsheng move-data`: a SQLite desk in full swing, moved into PostgreSQL, goes on there.

The desk is filled through the storage operations (citizens, a request half filed, cases at
every stage with their events, a rating, staff, an API key, the inbox and the outbox, sent and
not); the command moves it; then the desk runs on PostgreSQL: tracking numbers look up, the
draft goes on, unsent messages are still waiting and get sent, a new case gets a new id, and a
second move into the now non-empty database is refused. Runs on the PostgreSQL pass.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from storage.apikeys import add_key, key_holder
from storage.case_views import CaseView, EventView
from storage.cases import (
    CaseKind,
    Location,
    NewCase,
    case_by_tracking,
    case_of_citizen,
    public_timeline,
)
from storage.cases import submit_case as file
from storage.catalog import SAMPLE_CATALOG, load_catalog
from storage.citizens import touch_citizen
from storage.drafts import Step, current_draft, set_draft
from storage.inbox import IncomingUpdate, finish_update, pending_updates, store_updates
from storage.lifecycle import accept_case, ask_citizen, merge_case, submit_reply
from storage.models import Case, CaseStatus, Citizen, Event, OutboxMessage, Rating, StaffRole
from storage.outbox import Outcome, SendResult, open_messages_after
from storage.rating import rate_satisfaction, rate_solved
from storage.send_results import record_results
from storage.staff import add_staff, ensure_admins, staff_member
from tests.databases import storage_context
from tests.harness import ROOT

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2025, 3, 3, 10, 0, tzinfo=SHANGHAI)
ALICE, BOB, CAROL = 1001, 1002, 1003  # Carol is half-way through filing a request
ADMIN, HANDLER = 1, 5
DRAFT = {"kind": "complaint", "domain": "heating", "category": "heating.no-heat"}


@dataclass
class Desk:
    """What the SQLite desk held before the move, read through the same operations."""

    cases: dict[str, tuple[int | None, CaseView, list[EventView]]]  # tracking -> citizen, ...
    unsent: list[int]  # outbox ids still to send
    pending: list[int]  # inbox update_ids still to handle
    api_key: str
    top_case_id: int
    top_outbox_id: int
    links: dict[str, int | None]  # tracking -> the case it was merged into


async def merge_links() -> dict[str, int | None]:
    return dict(await Case.all().values_list("tracking", "duplicate_of_id"))


def request(citizen_id: int, text: str) -> NewCase:
    return NewCase(
        citizen_id=citizen_id,
        kind=CaseKind.COMPLAINT,
        category_code="heating.no-heat",
        text=text,
        photos=("photo-1",),
        location=Location(39.9, 116.4, "Heping Road 3, flat 12"),
        answers={"indoor_temp": 12},
        phone="+8613800000000",
        anonymous=False,
    )


async def submit(citizen_id: int, text: str, at: datetime) -> str:
    case = await file(
        request(citizen_id, text), now=at, zone=SHANGHAI, daily_limit=50, staff_chat_id=-100
    )
    return case.tracking


async def fill_desk() -> Desk:
    """A day at the desk, through the storage operations."""
    await load_catalog(SAMPLE_CATALOG)
    for user_id, language in ((ALICE, "en"), (BOB, "ru"), (CAROL, "zh_Hans")):
        await touch_citizen(user_id, first_name=f"user{user_id}", guessed_language=language)
    await ensure_admins([ADMIN], now=NOW)
    await add_staff(HANDLER, StaffRole.HANDLER, "heating-company", by=ADMIN, now=NOW)
    api_key = await add_key("hotline", now=NOW)
    at = iter(NOW + timedelta(minutes=m) for m in range(1000))
    submitted = await submit(ALICE, "The radiators in building 3 are cold.", next(at))
    merged = await submit(BOB, "Building 3 has no heating since Monday.", next(at))
    accepted = await submit(BOB, "No hot water in building 5 since Sunday.", next(at))
    asked = await submit(ALICE, "The heating in the school is off.", next(at))
    answered = await submit(ALICE, "Cold radiators in the library, all week.", next(at))
    closed = await submit(BOB, "The stairwell heater is broken again.", next(at))
    for tracking in (accepted, asked, answered, closed):
        await accept_case(tracking, "heating-company", by=ADMIN, now=next(at), zone=SHANGHAI)
    await ask_citizen(asked, "Which building of the school?", by=ADMIN, now=next(at))
    for tracking in (answered, closed):
        await submit_reply(tracking, "Repaired on Tuesday morning.", by=ADMIN, now=next(at))
    await rate_solved(closed, BOB, "solved", now=next(at))
    await rate_satisfaction(closed, BOB, "satisfied", now=next(at))
    # An earlier case merged into a later one: its reference points past its own id.
    await merge_case(merged, accepted, by=ADMIN, now=next(at))
    await set_draft(CAROL, Step.DESCRIPTION, DRAFT, now=next(at))
    await store_updates(
        [IncomingUpdate(500 + i, CAROL, {"update_id": 500 + i}) for i in range(3)], now=NOW
    )
    done = (await pending_updates(1))[0]
    await finish_update(done.id, now=next(at))
    waiting = await open_messages_after(0, 1000)
    sent = waiting[: len(waiting) // 2]
    await record_results(
        [SendResult(m.id, Outcome.SENT, chat_id=m.chat_id, message_id=70 + m.id) for m in sent],
        now=next(at),
    )
    cases = {}
    for tracking in (submitted, merged, accepted, asked, answered, closed):
        view = await case_by_tracking(tracking)
        cases[tracking] = (view.citizen_id, view, await public_timeline(tracking))
    return Desk(
        cases=cases,
        unsent=[m.id for m in await open_messages_after(0, 1000)],
        pending=[u.update_id for u in await pending_updates(100)],
        api_key=api_key,
        top_case_id=max(await Case.all().values_list("id", flat=True)),
        top_outbox_id=max(await OutboxMessage.all().values_list("id", flat=True)),
        links=await merge_links(),
    )


async def move(source: Path, target: str) -> tuple[int, str, str]:
    """`minsheng move-data`, as an operator runs it: exit code, stdout, stderr."""
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "move-data",
        "--from",
        f"sqlite://{source}",
        "--to",
        target,
        "--batch",
        "7",  # several batches even for a small desk
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(child.communicate(), timeout=120)
    assert child.returncode is not None
    return child.returncode, out.decode(), err.decode()


async def test_a_moved_desk_goes_on_on_postgresql(sqlite_file: Path, postgres_url: str) -> None:
    async with storage_context(f"sqlite://{sqlite_file}"):
        desk = await fill_desk()
        counts = {
            "events": await Event.all().count(),
            "ratings": await Rating.all().count(),
            "outbox": await OutboxMessage.all().count(),
        }
    assert {view.status for _, view, _ in desk.cases.values()} == {
        CaseStatus.SUBMITTED,
        CaseStatus.MERGED,
        CaseStatus.ACCEPTED,
        CaseStatus.AWAITING_CITIZEN,
        CaseStatus.ANSWERED,
        CaseStatus.CLOSED,
    }
    assert [into for into in desk.links.values() if into is not None]  # the merge
    assert desk.unsent
    assert len(desk.pending) == 2

    code, out, err = await move(sqlite_file, postgres_url)
    assert code == 0, err
    assert "moved" in out
    assert "service_case" in err  # the progress, table by table

    async with storage_context(postgres_url):
        for tracking, (citizen_id, view, timeline) in desk.cases.items():
            assert citizen_id is not None
            assert await case_of_citizen(tracking, citizen_id) == view
            assert await public_timeline(tracking) == timeline
        assert await merge_links() == desk.links
        assert counts == {
            "events": await Event.all().count(),
            "ratings": await Rating.all().count(),
            "outbox": await OutboxMessage.all().count(),
        }
        member = await staff_member(HANDLER)
        assert member is not None
        assert member.role is StaffRole.HANDLER
        assert await key_holder(desk.api_key, now=NOW) is not None

        # Carol's request goes on from where she was.
        draft = await current_draft(CAROL)
        assert draft is not None
        assert (draft.step, draft.data) == (Step.DESCRIPTION, DRAFT)
        later = NOW + timedelta(days=1)
        await set_draft(CAROL, Step.PHOTOS, {**DRAFT, "text": "Cold since Monday."}, now=later)
        moved_on = await current_draft(CAROL)
        assert moved_on is not None
        assert moved_on.step is Step.PHOTOS

        # What was waiting still waits, and goes out.
        assert [u.update_id for u in await pending_updates(100)] == desk.pending
        waiting = await open_messages_after(0, 1000)
        assert [m.id for m in waiting] == desk.unsent
        await record_results(
            [SendResult(m.id, Outcome.SENT, chat_id=m.chat_id, message_id=9) for m in waiting],
            now=later,
        )
        assert await open_messages_after(0, 1000) == []

        # New rows get new ids.
        new = await submit(ALICE, "The radiators are cold again this week.", later)
        new_id = await Case.filter(tracking=new).first().values_list("id", flat=True)
        assert new_id is not None
        assert new_id > desk.top_case_id
        fresh = await open_messages_after(desk.top_outbox_id, 1000)
        assert fresh  # the new case's notices

    code, out, err = await move(sqlite_file, postgres_url)
    assert code == 2
    assert "empty" in err
    assert "moved" not in out


async def test_a_source_behind_on_migrations_is_refused(
    sqlite_file: Path, postgres_url: str
) -> None:
    with contextlib.closing(sqlite3.connect(sqlite_file)) as source, source:
        source.execute(
            "DELETE FROM tortoise_migrations"
            " WHERE name = (SELECT max(name) FROM tortoise_migrations)"
        )
    code, _, err = await move(sqlite_file, postgres_url)
    assert code == 2
    assert "minsheng migrate" in err


async def test_the_case_bench_moves_its_cases_and_times_them_on_postgresql(
    tmp_path: Path, postgres_url: str
) -> None:
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "--log-level",
        "WARNING",
        "bench",
        "--cases",
        "300",
        "--json",
        "--lookups",
        "50",
        "--queue-pages",
        "30",
        "--db",
        str(tmp_path / "bench.sqlite3"),
        "--database",
        postgres_url,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(child.communicate(), timeout=300)
    assert child.returncode == 0, err.decode()
    report = json.loads(out)
    assert report["engine"] == "postgresql"
    assert report["cases"] == 300
    assert report["move"]["rows"] > 300  # the cases, their events, citizens, the catalogue
    assert report["database_mb"] > 0
    assert report["stats"]["received"] >= 0
    assert report["lookup"]["lookups"] > 0
    assert report["queue"]["requests"] == 30


async def test_a_copy_that_fails_leaves_the_target_empty_for_another_try(
    sqlite_file: Path, postgres_url: str
) -> None:
    async with storage_context(f"sqlite://{sqlite_file}"):
        await load_catalog(SAMPLE_CATALOG)
        await touch_citizen(ALICE, first_name="Alice", guessed_language="en")
        tracking = await submit(ALICE, "The radiators in building 3 are cold.", NOW)
    with contextlib.closing(sqlite3.connect(sqlite_file)) as source, source:
        # An event of a case that is not there (SQLite checks foreign keys only when asked).
        source.execute(
            "INSERT INTO case_event (case_id, kind, actor, payload, public, created_at)"
            " VALUES (999, 'note', 'staff', '{}', 0, '2025-03-03 02:00:00+00:00')"
        )
    code, out, err = await move(sqlite_file, postgres_url)
    assert code == 1
    assert "rolled back" in err
    assert "moved" not in out

    with contextlib.closing(sqlite3.connect(sqlite_file)) as source, source:
        source.execute("DELETE FROM case_event WHERE case_id = 999")
    code, _, err = await move(sqlite_file, postgres_url)
    assert code == 0, err
    async with storage_context(postgres_url):
        assert (await case_by_tracking(tracking)).citizen_id == ALICE


# What COPY's text format escapes or reads specially, and floats SQLite would print with 15 digits.
AWKWARD = "back\\slash, tab\there, new\nline, return\r, a lone \\N, \\. and 供暖"


async def test_values_copy_would_read_otherwise_arrive_as_they_were(
    sqlite_file: Path, postgres_url: str
) -> None:
    async with storage_context(f"sqlite://{sqlite_file}"):
        await load_catalog(SAMPLE_CATALOG)
        await touch_citizen(ALICE, first_name="\\N", guessed_language="en")
        awkward = NewCase(
            citizen_id=ALICE,
            kind=CaseKind.COMPLAINT,
            category_code="heating.no-heat",
            text=AWKWARD,
            photos=("photo\\1\t",),
            location=Location(39.912345678901234, 116.40000000000001, "Heping\tRoad\n3"),
            answers={"indoor_temp": 12.300000000000001, "note": 'a "quoted" \\ word\n'},
            phone="+8613800000000",
            anonymous=False,
        )
        filed = await file(awkward, now=NOW, zone=SHANGHAI, daily_limit=50, staff_chat_id=-100)
        before = await case_of_citizen(filed.tracking, ALICE)
    assert before.text == AWKWARD

    code, _, err = await move(sqlite_file, postgres_url)
    assert code == 0, err

    async with storage_context(postgres_url):
        assert await case_of_citizen(filed.tracking, ALICE) == before
        citizen = await Citizen.get(id=ALICE)
        assert citizen.first_name == "\\N"


async def test_text_with_a_nul_is_refused_and_nothing_is_written(
    sqlite_file: Path, postgres_url: str
) -> None:
    async with storage_context(f"sqlite://{sqlite_file}"):
        await touch_citizen(ALICE, first_name="Alice", guessed_language="en")
    with contextlib.closing(sqlite3.connect(sqlite_file)) as source, source:
        # PostgreSQL's text holds no NUL: the move must say so, not write something else.
        source.execute("UPDATE citizen SET first_name = 'Al' || char(0) || 'ice'")
    code, _, err = await move(sqlite_file, postgres_url)
    assert code == 1
    assert "NUL" in err
    assert "rolled back" in err

    with contextlib.closing(sqlite3.connect(sqlite_file)) as source, source:
        source.execute("UPDATE citizen SET first_name = 'Alice'")
    code, _, err = await move(sqlite_file, postgres_url)
    assert code == 0, err  # the first left nothing behind
