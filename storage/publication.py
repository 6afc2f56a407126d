"""Publication by consent: which cases the public may read, and staff publishing what it reads.

A case is published when its citizen agreed (publish_consent), staff published it (published_at)
and it has a public text: `published_cases()` and `is_published()` are that one definition, for
every public surface (the board, Open311, what followers and duplicate offers show). The public
then reads the public title, text and note and the photos staff ticked, nothing else the case
holds: never the citizen's words, place or contact, never the staff's private answer.

Staff publish an answered case whose citizen agreed (the case's department, its supervisors and
admins: StaffAction.PUBLISH), and not while the texts hold a phone or ID number
(storage.redaction). Unpublishing clears published_at and keeps the texts, so the case leaves
every public surface at once and a later publication starts from what staff approved. Both are
audited as events ("published", "unpublished") with the staff member's id.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.transactions import in_transaction

from storage.case_views import CaseNotFound
from storage.models import Actor, Case, Event
from storage.plain_text import clean_text
from storage.redaction import Hit, blocking_hits
from storage.staff import StaffAction, StaffNotAuthorized, check, check_is_staff, record_denial
from storage.tracking import canonical_or_none

PUBLIC_TITLE_MAX = 200
PUBLIC_TEXT_MAX = 3000
PUBLIC_NOTE_MAX = 1000
REASON_MAX = 500
# The columns `is_published` reads.
PUBLISHED_COLUMNS = ("publish_consent", "published_at", "public_text")


class ConsentMissing(Exception):
    """The citizen did not agree to publish this case."""


class CaseNotAnswered(Exception):
    """The case has no answer yet: there is nothing to publish."""


class PersonalDataLeft(Exception):
    """The public texts still hold a phone or ID number; `hits` are where, per field."""

    def __init__(self, hits: dict[str, list[Hit]]) -> None:
        super().__init__(", ".join(hits))
        self.hits = hits


class PublicTextInvalid(ValueError):
    """A public text is empty where required, too long, or holds a control character."""

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


def is_published(row: Mapping[str, Any]) -> bool:
    """A row (with PUBLISHED_COLUMNS) is published: consent, published_at, a public text."""
    text = row["public_text"]
    return (
        bool(row["publish_consent"])
        and row["published_at"] is not None
        and bool(text and text.strip())
    )


def published_cases() -> Any:
    """The query of every published case, as `is_published` decides for one row."""
    return Case.filter(
        publish_consent=True, published_at__not_isnull=True, public_text__not_isnull=True
    ).exclude(public_text="")


@dataclass(frozen=True)
class PublicationView:
    """What staff see of a case's publication (callers authorize VIEW first)."""

    consent: bool
    answered: bool  # the case has an answer to publish
    public_title: str | None
    public_text: str | None
    public_note: str | None
    public_photos: tuple[str, ...]
    published_at: datetime | None
    published_by: int | None

    @property
    def published(self) -> bool:
        return self.consent and self.published_at is not None and bool(self.public_text)


_VIEW_COLUMNS = (
    "id",
    "publish_consent",
    "first_answered_at",
    "public_title",
    "public_text",
    "public_note",
    "public_photos",
    "published_at",
    "published_by",
)


async def publication_of(tracking: str) -> PublicationView:
    """The case's consent and public texts; CaseNotFound."""
    row = (
        await Case.filter(tracking=canonical_or_none(tracking) or "")
        .first()
        .values(*_VIEW_COLUMNS)
    )
    if row is None:
        raise CaseNotFound(tracking)
    return PublicationView(
        consent=row["publish_consent"],
        answered=row["first_answered_at"] is not None,
        public_title=row["public_title"],
        public_text=row["public_text"],
        public_note=row["public_note"],
        public_photos=tuple(row["public_photos"] or ()),
        published_at=row["published_at"],
        published_by=row["published_by"],
    )


async def may_publish(tracking: str, user_id: int) -> bool:
    """Whether this staff member may publish the case (nothing recorded: the page asks)."""
    row = await _scope(tracking)
    if row is None:
        return False
    try:
        await check(user_id, StaffAction.PUBLISH, (row["scope"],), tracking=row["tracking"])
    except StaffNotAuthorized:
        return False
    return True


@dataclass(frozen=True)
class Publication:
    """What staff publish: the texts, and the indexes of the case's photos they ticked."""

    title: str
    text: str
    note: str = ""
    photos: Sequence[int] = ()


async def publish(tracking: str, wanted: Publication, *, by: int, now: datetime) -> None:
    """Publish (or republish, with new texts) an answered case whose citizen agreed.

    Raises PublicTextInvalid, CaseNotFound, StaffNotAuthorized (audited), ConsentMissing,
    CaseNotAnswered, PersonalDataLeft (a phone or ID number in the title, text or note).
    """
    title = _checked(wanted.title, "public_title", PUBLIC_TITLE_MAX, required=True)
    text = _checked(wanted.text, "public_text", PUBLIC_TEXT_MAX, required=True)
    note = _checked(wanted.note, "public_note", PUBLIC_NOTE_MAX, required=False)
    left = {
        field: hits
        for field, value in (("public_title", title), ("public_text", text), ("public_note", note))
        if (hits := blocking_hits(value or ""))
    }
    if left:
        raise PersonalDataLeft(left)
    try:
        async with in_transaction():
            row = await _authorized(tracking, by)
            if not row["publish_consent"]:
                raise ConsentMissing(row["tracking"])
            if row["first_answered_at"] is None:
                raise CaseNotAnswered(row["tracking"])
            photos = list(row["photos"] or ())
            ticked = [photos[i] for i in sorted(set(wanted.photos)) if 0 <= i < len(photos)]
            # updated_at moves (Open311 readers look for changes by it); version does not, so a
            # reply being written at the same time is not refused as a conflicting change.
            await Case.filter(id=row["id"]).update(
                public_title=title,
                public_text=text,
                public_note=note,
                public_photos=ticked,
                published_at=now,
                published_by=by,
                updated_at=now,
            )
            payload = {"public_title": title, "public_text": text, "public_note": note or ""}
            await _event(row["id"], "published", by, now, {**payload, "photos": len(ticked)})
    except StaffNotAuthorized as denied:
        await record_denial(denied, now=now)
        raise


async def unpublish(tracking: str, reason: str, *, by: int, now: datetime) -> bool:
    """Take a case off every public surface at once; False if it was not published.

    The texts stay for staff. Raises CaseNotFound, StaffNotAuthorized (audited),
    PublicTextInvalid (a reason too long).
    """
    why = _checked(reason, "reason", REASON_MAX, required=False)
    try:
        async with in_transaction():
            row = await _authorized(tracking, by)
            if row["published_at"] is None:
                return False
            await Case.filter(id=row["id"]).update(
                published_at=None, published_by=None, updated_at=now
            )
            await _event(row["id"], "unpublished", by, now, {"reason": why or ""})
            return True
    except StaffNotAuthorized as denied:
        await record_denial(denied, now=now)
        raise


async def _scope(tracking: str) -> dict[str, Any] | None:
    row = (
        await Case.filter(tracking=canonical_or_none(tracking) or "")
        .first()
        .values("tracking", "department_id", "proposed_department_id")
    )
    if row is None:
        return None
    return {
        "tracking": row["tracking"],
        "scope": row["department_id"] or row["proposed_department_id"],
    }


async def _authorized(tracking: str, by: int) -> dict[str, Any]:
    """The case's row, locked, once `by` may publish it (inside a transaction)."""
    row = (
        await Case.filter(tracking=canonical_or_none(tracking) or "")
        .select_for_update()
        .first()
        .values(
            "id",
            "tracking",
            "department_id",
            "proposed_department_id",
            "publish_consent",
            "first_answered_at",
            "photos",
            "published_at",
        )
    )
    if row is None:
        await check_is_staff(by, StaffAction.PUBLISH, None)  # a stranger learns nothing
        raise CaseNotFound(tracking)
    scope = row["department_id"] or row["proposed_department_id"]
    await check(by, StaffAction.PUBLISH, (scope,), tracking=row["tracking"])
    return row


async def _event(case_id: int, kind: str, by: int, now: datetime, payload: dict[str, Any]) -> None:
    await Event.create(
        case_id=case_id,
        kind=kind,
        actor=Actor.STAFF,
        actor_id=by,
        public=False,
        created_at=now,
        payload=payload,
    )


def _checked(value: str, field: str, limit: int, *, required: bool) -> str | None:
    try:
        cleaned = clean_text(value).strip()
    except ValueError:
        raise PublicTextInvalid(field) from None
    if len(cleaned) > limit or (required and not cleaned):
        raise PublicTextInvalid(field)
    return cleaned or None
