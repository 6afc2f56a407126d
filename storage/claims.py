"""Cases filed for callers by phone, and the claim code that links one to a Telegram account.

A call-taker (any active staff member) files what the caller says; the caller is told the
tracking number and a one-time claim code (8 symbols of the tracking alphabet, ~40 bits, kept
only as a hash). Giving both to the bot (`/claim NUMBER CODE`) makes the case theirs, once:
they follow it like their own from then on. A wrong number or code is recorded like a lookup of
someone else's number, so the per-citizen lookup limit also bounds guessing.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from storage.case_views import CaseView, NewCase
from storage.cases import submit_case
from storage.following import record_failed_lookup
from storage.models import Actor, Case, ClaimCode, Event
from storage.staff import staff_member
from storage.tracking import ALPHABET

PHONE_CHANNEL = "phone"
CODE_LENGTH = 8


class NotStaff(Exception):
    """Only active staff members file cases for callers."""


class ClaimRefused(LookupError):
    """No unclaimed case has this number and code; nothing changed."""


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def normalize_code(text: str) -> str:
    """What a person typed, as the stored code: upper case, no spaces or dashes."""
    return "".join(ch for ch in text.upper() if ch not in " -")


async def file_for_caller(
    new: NewCase, *, by: int, now: datetime, zone: ZoneInfo, staff_chat_id: int | None
) -> tuple[CaseView, str]:
    """File a caller's case as staff member `by`; the case and its claim code (shown once)."""
    if await staff_member(by) is None:
        raise NotStaff(by)
    code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    phone_case = replace(new, citizen_id=None, channel=PHONE_CHANNEL, source=str(by))
    async with in_transaction():
        case = await submit_case(
            phone_case, now=now, zone=zone, daily_limit=0, staff_chat_id=staff_chat_id
        )
        case_id = await Case.filter(tracking=case.tracking).first().values_list("id", flat=True)
        await ClaimCode.create(case_id=case_id, code_hash=_hash(code), created_at=now)
    return case, code


async def claim_case(tracking: str, code: str, *, citizen_id: int, now: datetime) -> str:
    """Link an unclaimed phone case to the citizen; its tracking number. ClaimRefused if not."""
    async with in_transaction():
        row = (
            await ClaimCode.filter(
                case__tracking=tracking,
                claimed_at__isnull=True,
                code_hash=_hash(normalize_code(code)),
                case__citizen_id__isnull=True,
            )
            .first()
            .values("case_id")
        )
        if row is not None:
            case_id = row["case_id"]
            await ClaimCode.filter(case_id=case_id, claimed_at__isnull=True).update(
                claimed_at=now, claimed_by=citizen_id
            )
            await Case.filter(id=case_id).update(
                citizen_id=citizen_id, updated_at=now, version=F("version") + 1
            )
            await Event.create(
                case_id=case_id,
                kind="claimed",
                actor=Actor.CITIZEN,
                actor_id=citizen_id,
                payload={},
                public=False,
                created_at=now,
            )
            return tracking
    await record_failed_lookup(citizen_id, tracking, now=now)
    raise ClaimRefused(tracking)
