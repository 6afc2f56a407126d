"""Offers of knowledge-base articles, and how each ended (storage.knowledge is the import point).

An offer records the codes offered for one question, never its words. It is open until the
citizen (or the call-taker) decides: "answered" is a deflection, no case filed (即时答复);
"filed" links the case filed anyway, which gets an internal "kb_offered" event naming the codes.
A decided offer stays decided: a second press of an old button changes nothing.

Votes (👍 / 👎) count on the article, once per offer and article: the offer's `voted` keeps
the votes given through it.

The offer's message and each article opened from it are sent tagged (`offer_tag`: the outbox
row's `about`), so that once the offer is decided their decision buttons can be taken away
(`offer_messages` finds the ones sent).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from storage.models import Actor, Case, Event, KbArticle, KbOffer, OutboxMessage

ANSWERED, FILED = "answered", "filed"
OFFERED_EVENT = "kb_offered"


class KbOfferNotFound(LookupError):
    """No open offer with this id for this citizen: stale, decided, or someone else's."""


@dataclass(frozen=True)
class OfferView:
    id: int
    channel: str
    citizen_id: int | None
    language: str
    kind: str | None
    category_code: str | None
    offered: list[str]
    opened: list[str]
    voted: dict[str, bool]  # code → helpful
    outcome: str | None


async def open_offer(
    channel: str,
    codes: Sequence[str],
    *,
    language: str,
    now: datetime,
    citizen_id: int | None = None,
    staff_id: int | None = None,
    kind: str | None = None,
    category_code: str | None = None,
) -> int:
    """Record that these articles (ranked) were offered; returns the offer's id."""
    row = await KbOffer.create(
        channel=channel,
        citizen_id=citizen_id,
        staff_id=staff_id,
        language=language,
        kind=kind,
        category_code=category_code,
        offered=list(codes),
        opened=[],
        created_at=now,
    )
    return int(row.id)


async def offer_for(offer_id: int, citizen_id: int | None = None) -> OfferView:
    """An offer, checked to be the citizen's when one is given; KbOfferNotFound otherwise."""
    row = await KbOffer.filter(id=offer_id).first()
    if row is None or (citizen_id is not None and row.citizen_id != citizen_id):
        raise KbOfferNotFound(offer_id)
    return OfferView(
        id=int(row.id),
        channel=row.channel,
        citizen_id=row.citizen_id,
        language=row.language,
        kind=row.kind,
        category_code=row.category_code,
        offered=list(row.offered),
        opened=list(row.opened),
        voted=dict(row.voted),
        outcome=row.outcome,
    )


def offer_tag(offer_id: int, index: int | None = None) -> str:
    """The outbox tag of an offer's message, or of article `index` opened from it."""
    return f"kb:{offer_id}" + ("" if index is None else f":{index}")


@dataclass(frozen=True)
class OfferMessage:
    chat_id: int
    message_id: int
    index: int | None  # the article shown, None for the offer's own message


async def offer_messages(offer: OfferView) -> list[OfferMessage]:
    """The messages of this offer sent so far: its own and the articles opened from it."""
    tags = {offer_tag(offer.id): None} | {
        offer_tag(offer.id, i): i for i in range(len(offer.offered))
    }
    rows = await OutboxMessage.filter(
        about__in=list(tags), message_id__not_isnull=True, chat_id__not_isnull=True
    ).values("chat_id", "message_id", "about")
    return [
        OfferMessage(int(r["chat_id"]), int(r["message_id"]), tags[str(r["about"])]) for r in rows
    ]


async def _open_row(offer_id: int, citizen_id: int | None) -> KbOffer:
    row = await KbOffer.filter(id=offer_id).select_for_update().first()
    if row is None or (citizen_id is not None and row.citizen_id != citizen_id):
        raise KbOfferNotFound(offer_id)
    return row


async def offer_opened(
    offer_id: int, code: str, *, now: datetime, citizen_id: int | None = None
) -> None:
    """Note that an offered article was opened (once); KbOfferNotFound if not offered there."""
    async with in_transaction():
        row = await _open_row(offer_id, citizen_id)
        if code not in row.offered:
            raise KbOfferNotFound(offer_id)
        if code not in row.opened:
            row.opened = [*row.opened, code]
            await row.save(update_fields=["opened"])


async def vote(
    code: str, helpful: bool, *, offer_id: int | None = None, citizen_id: int | None = None
) -> bool:
    """Count a 👍 or 👎 on an article; through an offer, once per offer and article.

    Returns False when this offer already voted on it (nothing counted); KbOfferNotFound when
    the offer is not the citizen's or did not offer the article.
    """
    async with in_transaction():
        if offer_id is not None:
            row = await _open_row(offer_id, citizen_id)
            if code not in row.offered:
                raise KbOfferNotFound(offer_id)
            if code in row.voted:
                return False
            row.voted = {**row.voted, code: helpful}
            await row.save(update_fields=["voted"])
        column = "helpful" if helpful else "not_helpful"
        await KbArticle.filter(code=code).update(**{column: F(column) + 1})
    return True


async def answered(
    offer_id: int, code: str | None, *, now: datetime, citizen_id: int | None = None
) -> None:
    """The question was answered by the offer (a deflection: no case); `code` the article that
    did, when known. KbOfferNotFound when it is decided already or not the citizen's."""
    async with in_transaction():
        row = await _open_row(offer_id, citizen_id)
        if row.outcome is not None or (code is not None and code not in row.offered):
            raise KbOfferNotFound(offer_id)
        row.outcome, row.answered_by, row.decided_at = ANSWERED, code, now
        await row.save(update_fields=["outcome", "answered_by", "decided_at"])


async def filed(offer_id: int, tracking: str, *, now: datetime) -> None:
    """The citizen filed anyway: link the case and note on it (internal) which articles were
    offered and opened. An offer decided already, or gone, is left as it is."""
    async with in_transaction():
        row = await KbOffer.filter(id=offer_id, outcome=None).select_for_update().first()
        case = await Case.filter(tracking=tracking).first().values("id")
        if row is None or case is None:
            return
        row.outcome, row.decided_at, row.case_id = FILED, now, case["id"]
        await row.save(update_fields=["outcome", "decided_at", "case_id"])
        opened = list(row.opened)
        await Event.create(
            case_id=case["id"],
            kind=OFFERED_EVENT,
            actor=Actor.SYSTEM,
            payload={"offered": list(row.offered), "opened": opened},
            public=False,
            created_at=now,
        )


async def answered_on_call(
    codes: Sequence[str], code: str | None, *, staff_id: int, language: str, now: datetime
) -> int:
    """The call-taker answered a call from the articles at once (直接答复): an offer on the
    phone channel, decided as answered; returns its id."""
    async with in_transaction():
        row = await KbOffer.create(
            channel="phone",
            staff_id=staff_id,
            language=language,
            offered=list(codes),
            opened=[code] if code else [],
            outcome=ANSWERED,
            answered_by=code,
            created_at=now,
            decided_at=now,
        )
    return int(row.id)
