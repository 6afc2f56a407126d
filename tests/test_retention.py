"""Retention: the sweep purges exactly what is old and handled, keeps what is recent or still
to be done, in batches, and finds nothing more the second time; the sweeper runs it hourly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from storage.cases import submit_case
from storage.catalog import SAMPLE_CATALOG, load_catalog
from storage.erasure import ERASED
from storage.models import (
    Case,
    Citizen,
    ClaimCode,
    InboxStatus,
    InboxUpdate,
    OutboxMessage,
    OutboxStatus,
    QuotaUse,
    SweepMark,
    TrackingLookup,
    WebLogin,
    WebSession,
)
from storage.retention import Purged, purge_expired, retention_sweep
from tests.case_fixtures import ALICE, SHANGHAI, new_case

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
OLD = NOW - timedelta(days=31)
RECENT = NOW - timedelta(days=29)
DAYS = 30


@pytest.fixture
async def db(db: None) -> None:
    await load_catalog(SAMPLE_CATALOG)
    await Citizen.create(id=ALICE, language="en", first_name="Alicia")


updates = iter(range(1, 100_000))


async def update(status: InboxStatus, at: datetime, text: str) -> int:
    handled = None if status is InboxStatus.PENDING else at
    row = await InboxUpdate.create(
        update_id=next(updates),
        chat_key=ALICE,
        payload={"message": {"text": text}},
        status=status,
        received_at=at,
        handled_at=handled,
        error="boom" if status is InboxStatus.FAILED else None,
    )
    return row.id


async def message(status: OutboxStatus, at: datetime, text: str) -> int:
    row = await OutboxMessage.create(
        chat_id=ALICE,
        method="sendMessage",
        payload={"text": text},
        status=status,
        next_attempt_at=at,
        created_at=at,
        message_id=7 if status is OutboxStatus.SENT else None,
    )
    return row.id


async def payloads(model: Any) -> dict[int, Any]:
    return dict(await model.all().values_list("id", "payload"))


async def plant() -> dict[str, Any]:
    """One row of every kind on each side of the line."""
    rows: dict[str, Any] = {
        "inbox_old": [await update(InboxStatus.DONE, OLD, f"old {i}") for i in range(7)],
        "inbox_failed_old": await update(InboxStatus.FAILED, OLD, "old failed"),
        "inbox_recent": await update(InboxStatus.DONE, RECENT, "recent"),
        "inbox_pending_old": await update(InboxStatus.PENDING, OLD, "old, not handled yet"),
        "outbox_old": [await message(OutboxStatus.SENT, OLD, f"old {i}") for i in range(7)],
        "outbox_failed_old": await message(OutboxStatus.FAILED, OLD, "old failed"),
        "outbox_recent": await message(OutboxStatus.SENT, RECENT, "recent"),
        "outbox_pending_old": await message(OutboxStatus.PENDING, OLD, "waiting"),
        "outbox_uncertain_old": await message(OutboxStatus.UNCERTAIN, OLD, "may have gone"),
    }
    for at in (OLD, RECENT):
        await TrackingLookup.create(
            citizen_id=ALICE, tracking="X" * 12, foreign=True, created_at=at
        )
    claimed, open_code, recent_claim = [
        (
            await submit_case(
                new_case(None, phone=None),
                now=OLD,
                zone=SHANGHAI,
                daily_limit=0,
                staff_chat_id=None,
            )
        ).tracking
        for _ in range(3)
    ]
    for tracking, claimed_at in ((claimed, OLD), (open_code, None), (recent_claim, RECENT)):
        case = await Case.get(tracking=tracking)
        await ClaimCode.create(
            case_id=case.id, code_hash=tracking, created_at=OLD, claimed_at=claimed_at
        )
    rows["claims_kept"] = {open_code, recent_claim}
    minute = timedelta(minutes=1)
    await WebLogin.create(
        token_hash="used",
        user_id=1,
        created_at=NOW - minute,
        expires_at=NOW + minute,
        used_at=NOW - minute,
    )
    await WebLogin.create(
        token_hash="expired", user_id=1, created_at=NOW - 20 * minute, expires_at=NOW - minute
    )
    await WebLogin.create(
        token_hash="fresh", user_id=1, created_at=NOW - minute, expires_at=NOW + minute
    )
    hour = timedelta(hours=1)
    await WebSession.create(
        id="ended", user_id=1, created_at=NOW - hour, expires_at=NOW + hour, ended_at=NOW - minute
    )
    await WebSession.create(
        id="expired", user_id=1, created_at=NOW - 13 * hour, expires_at=NOW - hour
    )
    await WebSession.create(id="live", user_id=1, created_at=NOW - hour, expires_at=NOW + hour)
    await QuotaUse.create(subject="key:1", window_start=NOW - timedelta(days=2), count=3)
    await QuotaUse.create(subject="key:1", window_start=NOW - timedelta(hours=2), count=3)
    return rows


async def test_the_purge_takes_exactly_what_is_old_and_handled(db: None) -> None:
    rows = await plant()

    first = await purge_expired(NOW, days=DAYS, batch=3)  # several batches of each kind

    assert first == Purged(inbox=8, outbox=8, lookups=1, claims=1, links=2, sessions=2, quotas=1)
    inbox = await payloads(InboxUpdate)
    for row in [*rows["inbox_old"], rows["inbox_failed_old"]]:
        assert inbox[row] == ERASED
    assert (await InboxUpdate.get(id=rows["inbox_failed_old"])).error is None
    assert inbox[rows["inbox_recent"]] == {"message": {"text": "recent"}}
    assert inbox[rows["inbox_pending_old"]] == {"message": {"text": "old, not handled yet"}}
    assert await InboxUpdate.all().count() == 10  # rows stay: update_id is the dedupe key
    outbox = await payloads(OutboxMessage)
    for row in [*rows["outbox_old"], rows["outbox_failed_old"]]:
        assert outbox[row] == ERASED
    kept = await OutboxMessage.get(id=rows["outbox_old"][0])
    assert (kept.chat_id, kept.method, kept.message_id) == (ALICE, "sendMessage", 7)
    assert outbox[rows["outbox_recent"]] == {"text": "recent"}
    assert outbox[rows["outbox_pending_old"]] == {"text": "waiting"}
    assert outbox[rows["outbox_uncertain_old"]] == {"text": "may have gone"}
    assert await TrackingLookup.all().values_list("created_at", flat=True) == [RECENT]
    claims = await ClaimCode.all().values_list("case__tracking", flat=True)
    assert set(claims) == rows["claims_kept"]
    assert await WebLogin.all().values_list("token_hash", flat=True) == ["fresh"]
    assert await WebSession.all().values_list("id", flat=True) == ["live"]
    assert await QuotaUse.all().count() == 1

    before = (await payloads(InboxUpdate), await payloads(OutboxMessage))
    assert await purge_expired(NOW, days=DAYS, batch=3) == Purged()  # idempotent
    assert (await payloads(InboxUpdate), await payloads(OutboxMessage)) == before


async def test_the_sweep_runs_at_most_hourly(db: None) -> None:
    await plant()
    assert await retention_sweep(NOW, days=DAYS) == 23
    assert (await SweepMark.get(key="retention")).done_at == NOW
    await update(InboxStatus.DONE, OLD, "handled meanwhile")
    assert await retention_sweep(NOW + timedelta(minutes=30), days=DAYS) == 0
    # An hour on: that update, and the link and the session that have expired since.
    assert await retention_sweep(NOW + timedelta(minutes=61), days=DAYS) == 3
