"""The citizen's consent to publish a request of theirs, given or withdrawn from "My requests".

Consent is first given at the summary of the chat intake (storage.cases.NewCase), on the phone
form or in an Open311 filing. Withdrawing it takes a published case off every public surface at
once (an "unpublished" event by the citizen); both changes are recorded as private events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from storage.case_views import CaseNotFound
from storage.models import Actor, Case, Event
from storage.tracking import canonical_or_none


@dataclass(frozen=True)
class ConsentChange:
    consent: bool  # what the consent now is
    unpublished: bool  # the case was published, and withdrawing took it off


@dataclass(frozen=True)
class ConsentState:
    consent: bool
    published: bool


async def set_consent(
    tracking: str, citizen_id: int, consent: bool, *, now: datetime
) -> ConsentChange:
    """Give or withdraw the consent to publish the citizen's own case; CaseNotFound else."""
    async with in_transaction():
        row = (
            await _theirs(tracking, citizen_id)
            .select_for_update()
            .first()
            .values("id", "publish_consent", "published_at")
        )
        if row is None:
            raise CaseNotFound(tracking)
        if bool(row["publish_consent"]) == consent:
            return ConsentChange(consent, unpublished=False)
        unpublish = not consent and row["published_at"] is not None
        changes: dict[str, object] = {"publish_consent": consent, "updated_at": now}
        if unpublish:
            changes.update(published_at=None, published_by=None)
        await Case.filter(id=row["id"]).update(**changes)
        kind = "consent_given" if consent else "consent_withdrawn"
        await _event(row["id"], kind, citizen_id, now)
        if unpublish:
            await _event(row["id"], "unpublished", citizen_id, now)
        return ConsentChange(consent, unpublished=unpublish)


def _theirs(tracking: str, citizen_id: int) -> QuerySet[Case]:
    return Case.filter(tracking=canonical_or_none(tracking) or "", citizen_id=citizen_id)


async def _event(case_id: int, kind: str, citizen_id: int, now: datetime) -> None:
    await Event.create(
        case_id=case_id,
        kind=kind,
        actor=Actor.CITIZEN,
        actor_id=citizen_id,
        public=False,
        created_at=now,
        payload={},
    )
