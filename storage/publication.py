"""Publication by consent: which cases the public may read, and staff writing what it reads.

A case is published when its citizen agreed (publish_consent) and staff wrote or approved a
public text (public_text, not empty). The public then reads that text and the public note, and
nothing else the case holds: never the citizen's words, place, photos or contact, never the
staff's private answer. Consent is given when filing (a tick box on the phone form, a parameter
of an Open311 filing); a request filed in the chat is private.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.transactions import in_transaction

from storage.case_views import CaseNotFound
from storage.models import Actor, Case, Event
from storage.plain_text import clean_text
from storage.staff import StaffAction, StaffNotAuthorized, check, check_is_staff, record_denial
from storage.tracking import canonical_or_none

PUBLIC_TEXT_MAX = 3000
PUBLIC_NOTE_MAX = 1000


class ConsentMissing(Exception):
    """The citizen did not agree to publish this case: it has no public text."""


class PublicTextInvalid(ValueError):
    """A public text or note is too long or holds a control character; `field` names it."""

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


@dataclass(frozen=True)
class PublicationView:
    consent: bool
    public_text: str | None
    public_note: str | None

    @property
    def published(self) -> bool:
        return self.consent and bool(self.public_text)


def published_cases() -> Any:
    """The query of every published case (the citizen agreed, and a public text is set)."""
    return Case.filter(publish_consent=True, public_text__not_isnull=True).exclude(public_text="")


async def publication_of(tracking: str) -> PublicationView:
    """Whether the citizen agreed, and the public text and note; CaseNotFound.

    Staff only: callers authorize VIEW first.
    """
    row = (
        await Case.filter(tracking=canonical_or_none(tracking) or "")
        .first()
        .values("publish_consent", "public_text", "public_note")
    )
    if row is None:
        raise CaseNotFound(tracking)
    return PublicationView(row["publish_consent"], row["public_text"], row["public_note"])


async def set_publication(
    tracking: str, public_text: str, public_note: str, *, by: int, now: datetime
) -> PublicationView:
    """Set (or, with an empty public text, withdraw) what the public reads of a case.

    Empty strings clear a field. Raises PublicTextInvalid, CaseNotFound, StaffNotAuthorized
    (audited: the staff of the case's department, its supervisors and admins may publish),
    ConsentMissing when the citizen did not agree. The change is recorded as a private event.
    """
    text = _checked(public_text, "public_text", PUBLIC_TEXT_MAX)
    note = _checked(public_note, "public_note", PUBLIC_NOTE_MAX)
    number = canonical_or_none(tracking)
    try:
        async with in_transaction():
            row = (
                await Case.filter(tracking=number or "")
                .select_for_update()
                .first()
                .values(
                    "id", "tracking", "department_id", "proposed_department_id", "publish_consent"
                )
            )
            if row is None:
                await check_is_staff(by, StaffAction.PUBLISH, None)  # a stranger learns nothing
                raise CaseNotFound(tracking)
            scope = row["department_id"] or row["proposed_department_id"]
            await check(by, StaffAction.PUBLISH, (scope,), tracking=row["tracking"])
            if not row["publish_consent"]:
                raise ConsentMissing(row["tracking"])
            # updated_at moves (Open311 readers look for changes by it); version does not, so a
            # reply being written at the same time is not refused as a conflicting change.
            await Case.filter(id=row["id"]).update(
                public_text=text, public_note=note, updated_at=now
            )
            await Event.create(
                case_id=row["id"],
                kind="published" if text else "unpublished",
                actor=Actor.STAFF,
                actor_id=by,
                public=False,
                created_at=now,
                payload={"public_text": text or "", "public_note": note or ""},
            )
            return PublicationView(True, text, note)
    except StaffNotAuthorized as denied:
        await record_denial(denied, now=now)
        raise


def _checked(value: str, field: str, limit: int) -> str | None:
    try:
        cleaned = clean_text(value).strip()
    except ValueError:
        raise PublicTextInvalid(field) from None
    if len(cleaned) > limit:
        raise PublicTextInvalid(field)
    return cleaned or None
