"""Retention: raw copies and short-lived records are purged once they have served (a sweep).

After `days` (MINSHENG_RETENTION_DAYS): the payloads of handled updates (done or failed) and of
finished messages (sent or failed) become storage.erasure.ERASED; the rows stay, because the
pipeline still needs them (an update_id is the inbox's dedupe key; an outbox row keeps its chat,
method and message_id, so a reply to an old message is still recognised as a reply to the bot,
though no longer as one about a case). Failed lookups of other people's numbers and claim codes
already redeemed are deleted after `days` too. Sign-in links used or expired, sessions ended or
expired, and quota windows over a day old are deleted as soon as they are over: nothing reads
them again. Pending updates and messages waiting to be sent are never touched.

Every kind is purged in batches, each batch its own transaction, so a big backlog never holds
the database for long; purging again finds nothing more (the sweep is idempotent).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import astuple, dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise.expressions import Q
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from storage.erasure import ERASED
from storage.models import (
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

log = logging.getLogger(__name__)

BATCH = 500
QUOTA_KEPT = timedelta(days=1)  # the longest quota window
# The purge reads whole tables to find what is due; once an hour keeps that cheap.
EVERY = timedelta(hours=1)
MARK = "retention"  # SweepMark key: when the purge last ran


@dataclass(frozen=True)
class Purged:
    """How many rows of each kind one purge emptied or deleted."""

    inbox: int = 0
    outbox: int = 0
    lookups: int = 0
    claims: int = 0
    links: int = 0
    sessions: int = 0
    quotas: int = 0

    @property
    def total(self) -> int:
        return sum(astuple(self))


async def _batched(
    select: Callable[[], QuerySet[Any]],
    act: Callable[[list[Any]], Awaitable[object]],
    batch: int,
    key: str = "id",
) -> int:
    """Take up to `batch` ids that `select` finds and `act` on them, one transaction a batch,
    until none is left; how many in all."""
    done = 0
    while True:
        async with in_transaction():
            ids = await select().order_by(key).limit(batch).values_list(key, flat=True)
            if ids:
                await act(list(ids))
        done += len(ids)
        if len(ids) < batch:
            return done


async def purge_expired(now: datetime, *, days: int, batch: int = BATCH) -> Purged:
    """Purge what `days` of retention (and the end of links, sessions and quota windows) make
    due at `now`; see the module's docstring."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("timezone-aware datetimes only")
    cutoff = now - timedelta(days=days)
    handled = [InboxStatus.DONE, InboxStatus.FAILED]
    finished = [OutboxStatus.SENT, OutboxStatus.FAILED]
    purged = Purged(
        inbox=await _batched(
            lambda: InboxUpdate.filter(status__in=handled, handled_at__lt=cutoff).exclude(
                payload=ERASED
            ),
            lambda ids: InboxUpdate.filter(id__in=ids).update(payload=ERASED, error=None),
            batch,
        ),
        outbox=await _batched(
            lambda: OutboxMessage.filter(status__in=finished, created_at__lt=cutoff).exclude(
                payload=ERASED
            ),
            lambda ids: OutboxMessage.filter(id__in=ids).update(payload=ERASED),
            batch,
        ),
        lookups=await _batched(
            lambda: TrackingLookup.filter(created_at__lt=cutoff),
            lambda ids: TrackingLookup.filter(id__in=ids).delete(),
            batch,
        ),
        # A redeemed code opens nothing any more; its "claimed" event keeps the audit. Codes
        # not yet redeemed stay: the caller may still claim their case.
        claims=await _batched(
            lambda: ClaimCode.filter(claimed_at__lt=cutoff),
            lambda ids: ClaimCode.filter(case_id__in=ids).delete(),
            batch,
            key="case_id",
        ),
        links=await _batched(
            lambda: WebLogin.filter(Q(used_at__isnull=False) | Q(expires_at__lte=now)),
            lambda ids: WebLogin.filter(token_hash__in=ids).delete(),
            batch,
            key="token_hash",
        ),
        sessions=await _batched(
            lambda: WebSession.filter(Q(ended_at__isnull=False) | Q(expires_at__lte=now)),
            lambda ids: WebSession.filter(id__in=ids).delete(),
            batch,
        ),
        quotas=await _batched(
            lambda: QuotaUse.filter(window_start__lt=now - QUOTA_KEPT),
            lambda ids: QuotaUse.filter(id__in=ids).delete(),
            batch,
        ),
    )
    if purged.total:
        log.info("retention purged %s", purged)
    return purged


async def retention_sweep(now: datetime, *, days: int) -> int:
    """The sweeper's job: purge_expired at most once an hour (a SweepMark says when it last
    ran); how many rows it purged."""
    if await SweepMark.filter(key=MARK, done_at__gt=now - EVERY, done_at__lte=now).exists():
        return 0
    purged = await purge_expired(now, days=days)
    if not await SweepMark.filter(key=MARK).update(done_at=now):
        await SweepMark.bulk_create([SweepMark(key=MARK, done_at=now)], ignore_conflicts=True)
    return purged.total
