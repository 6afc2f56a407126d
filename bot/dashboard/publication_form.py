"""The case page's publication block: what the template shows of a case's publication.

Whether the citizen agreed and the case is answered; for staff who may publish it, the Publish
form, filled with the draft (storage.publication_draft) or with what they last sent, and above
it every stretch of the texts that looks like personal data (storage.redaction), in context.
Once published: when, by whom, and the Unpublish form.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.i18n import Translator
from bot.texts.cases import when
from storage.case_views import CaseView
from storage.publication import PublicationView, may_publish, publication_of
from storage.publication_draft import draft_of
from storage.redaction import DataKind, find_personal_data, in_context
from storage.tracking import format_tracking_number


@dataclass(frozen=True)
class Highlight:
    """One stretch of a draft that looks like personal data, with the words around it."""

    field: str  # the form field's label
    kind: str  # what it looks like
    blocking: bool  # a phone or ID number: publishing is refused while it is there
    before: str
    found: str
    after: str


@dataclass(frozen=True)
class PhotoChoice:
    index: int
    url: str
    checked: bool


@dataclass(frozen=True)
class PublicationBlock:
    view: PublicationView
    may_publish: bool
    title: str
    text: str
    note: str
    photos: list[PhotoChoice]
    highlights: list[Highlight]
    published_when: str

    @property
    def blocked(self) -> bool:
        return any(h.blocking for h in self.highlights)


def kind_name(t: Translator, kind: DataKind) -> str:
    names = {
        DataKind.PHONE: t.gettext("Phone number"),
        DataKind.ID_NUMBER: t.gettext("ID number"),
        DataKind.PLATE: t.gettext("Licence plate"),
        DataKind.EMAIL: t.gettext("E-mail address"),
        DataKind.ADDRESS: t.gettext("Street address"),
    }
    return names[kind]


def highlights(t: Translator, fields: list[tuple[str, str]]) -> list[Highlight]:
    """Every hit of every (label, text) pair, in context."""
    found = []
    for label, text in fields:
        for hit in find_personal_data(text):
            shown = in_context(text, hit)
            found.append(
                Highlight(
                    label,
                    kind_name(t, hit.kind),
                    hit.blocking,
                    shown.before,
                    hit.text,
                    shown.after,
                )
            )
    return found


async def publication_block(
    t: Translator,
    staff_id: int,
    case: CaseView,
    zone: ZoneInfo,
    posted: Mapping[str, str] | None = None,
) -> PublicationBlock:
    """The block for this staff member; `posted`: the form they sent, shown again."""
    view = await publication_of(case.tracking)
    allowed = view.consent and view.answered and await may_publish(case.tracking, staff_id)
    if posted is not None:
        title, text = posted.get("public_title", ""), posted.get("public_text", "")
        note = posted.get("public_note", "")
        ticked = {
            int(i) for i in posted.get("photos", "").split(",") if i.isascii() and i.isdigit()
        }
    elif view.public_text:  # published once: start from what staff approved
        title, text, note = view.public_title or "", view.public_text, view.public_note or ""
        ticked = {i for i, p in enumerate(case.photos) if p in view.public_photos}
    elif allowed:
        draft = await draft_of(case.tracking, t.language)
        title, text, note, ticked = draft.title, draft.text, draft.note, set()
    else:
        title = text = note = ""
        ticked = set()
    number = format_tracking_number(case.tracking)
    photos = [
        PhotoChoice(i, f"/web/case/{number}/photo/{i}", i in ticked)
        for i in range(len(case.photos))
    ]
    fields = [
        (t.gettext("Public title"), title),
        (t.gettext("Public text"), text),
        (t.gettext("Public note (what was done)"), note),
    ]
    return PublicationBlock(
        view=view,
        may_publish=allowed,
        title=title,
        text=text,
        note=note,
        photos=photos,
        highlights=highlights(t, fields) if allowed else [],
        published_when=when(view.published_at, zone, t.language) if view.published_at else "",
    )
