"""Privacy: forgetting a citizen on request (/forget); what /mydata gives is storage.data_export.

Forgetting keeps the figures true: a case loses who filed it, how to reach them and what they
wrote, but keeps its kind, category, department, status, times, staff answers and rating, so
statistics and digests do not change. The confirming button carries a one-time value kept on the
citizen (forget_nonce), so a forged or replayed "yes" erases nothing.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from storage.board_search import purge_erased_texts
from storage.case_views import OPEN_STATUSES
from storage.erasure import (
    ERASED,
    erase_callback_notes,
    erase_case_words,
    erase_inbox,
    erase_outbox,
)
from storage.followers import tell_followers
from storage.models import (
    Actor,
    Case,
    CaseFollower,
    CaseStatus,
    Citizen,
    ClaimCode,
    Draft,
    Event,
    KbOffer,
    Rating,
)
from storage.stale_buttons import retire_buttons_of_ended

# Event kinds erased whatever the desk keeps by law: the citizen's rating comment, and the
# public text and note staff wrote with their consent (published, unpublished).
ALWAYS_ERASED = ("rating_comment", "published", "unpublished")


@dataclass(frozen=True)
class ForgetReport:
    cases_closed: int  # open cases withdrawn first
    cases_anonymized: int  # every case of theirs, the withdrawn ones included


class ForgetNotConfirmed(Exception):
    """The confirming button's one-time value is wrong, stale or spent: nothing was erased."""


async def ask_to_forget(citizen_id: int) -> str:
    """A fresh one-time value for the /forget question's buttons; earlier buttons expire."""
    nonce = secrets.token_hex(16)  # 32 characters: "forget:yes:<nonce>" fits in 64 bytes
    await Citizen.filter(id=citizen_id).update(forget_nonce=nonce)
    return nonce


async def open_forget_question(citizen_id: int) -> str | None:
    """The one-time value of the /forget question the citizen has not answered yet, if any."""
    row = await Citizen.filter(id=citizen_id).first().values("forget_nonce")
    return str(row["forget_nonce"]) if row and row["forget_nonce"] else None


async def cancel_forget(citizen_id: int, nonce: str) -> None:
    """The citizen said no on the question with this value: its buttons are spent."""
    await Citizen.filter(id=citizen_id, forget_nonce=nonce).update(forget_nonce=None)


async def confirm_forget(
    citizen_id: int,
    nonce: str,
    *,
    now: datetime,
    keep_case_texts: bool,
    update_id: int | None = None,
) -> ForgetReport:
    """Forget the citizen if `nonce` is the value of their open /forget question, spending it;
    ForgetNotConfirmed (nothing erased) otherwise. See forget_citizen."""
    async with in_transaction():
        spent = 0
        if nonce:  # a conditional UPDATE: two presses at once erase once
            spent = await Citizen.filter(id=citizen_id, forget_nonce=nonce).update(
                forget_nonce=None
            )
        if spent != 1:
            raise ForgetNotConfirmed(citizen_id)
        return await forget_citizen(
            citizen_id, now=now, keep_case_texts=keep_case_texts, update_id=update_id
        )


async def forget_citizen(
    citizen_id: int,
    *,
    now: datetime,
    keep_case_texts: bool = False,
    update_id: int | None = None,
) -> ForgetReport:
    """Withdraw a citizen's open cases, then erase them, in one transaction (the handler asked
    for consent). Running it again finds nothing more to do.

    Erased: the citizen's name and phone; on each of their cases the phone, the link to them
    (citizen id on the case, actor id on their own events) and, unless `keep_case_texts` (a
    desk that must keep case records by law), their words (storage.erasure.erase_case_words);
    their rating comments and the notes of clerks' callbacks; their draft; the inbox and
    outbox rows that carry them (storage.erasure; `update_id` is the update being handled,
    erased too). Kept: the Citizen row with its language (they may come back), kind,
    category, department, status, times, staff answers and ratings, so the figures stay true.
    Each case gets an internal "personal_data_erased" event for the audit trail. A published
    case is unpublished: the consent to publish goes with the rest.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("timezone-aware datetimes only")
    async with in_transaction():
        mine = Case.filter(citizen_id=citizen_id)
        open_ids = [
            r["id"] for r in await mine.filter(status__in=list(OPEN_STATUSES)).values("id")
        ]
        cases = await mine.values("id", "tracking")
        withdrawn = [r["tracking"] for r in cases if r["id"] in set(open_ids)]
        all_ids = [r["id"] for r in cases]
        if open_ids:
            await Case.filter(id__in=open_ids).update(
                status=CaseStatus.CLOSED,
                closed_at=now,
                updated_at=now,
                version=F("version") + 1,
            )
            await Event.bulk_create(
                [
                    Event(
                        case_id=case_id,
                        kind="withdrawn",
                        actor=Actor.CITIZEN,
                        actor_id=citizen_id,
                        payload={},
                        public=True,
                        created_at=now,
                    )
                    for case_id in open_ids
                ]
            )
        if all_ids:
            if not keep_case_texts:
                await erase_case_words(all_ids, now=now)
            # Also in records mode: the rating comment, and the public texts (their consent
            # goes below).
            await Event.filter(case_id__in=all_ids, kind__in=ALWAYS_ERASED).update(payload=ERASED)
            await erase_callback_notes(all_ids)  # what they said on a clerk's callback too
            await Event.filter(
                case_id__in=all_ids, actor=Actor.CITIZEN, actor_id=citizen_id
            ).update(actor_id=None)
            await Event.bulk_create(
                [
                    Event(
                        case_id=case_id,
                        kind="personal_data_erased",
                        actor=Actor.SYSTEM,
                        payload={},
                        public=False,
                        created_at=now,
                    )
                    for case_id in all_ids
                ]
            )
            had_public_texts = await Case.filter(
                id__in=all_ids, public_text__not_isnull=True
            ).exists()
            # Erasure withdraws the consent to publish too: the public text, though staff
            # wrote it, tells the citizen's story.
            await Case.filter(id__in=all_ids).update(
                citizen_id=None,
                phone=None,
                publish_consent=False,
                public_title=None,
                public_text=None,
                public_note=None,
                public_photos=[],
                published_at=None,
                published_by=None,
                updated_at=now,
                version=F("version") + 1,
            )
            if had_public_texts:  # the board's index keeps erased texts until merged
                await purge_erased_texts()
        trackings = [str(r["tracking"]) for r in cases]
        their_updates = await erase_inbox(citizen_id, trackings, current_update_id=update_id)
        await erase_outbox(citizen_id, trackings, their_updates)
        # Followers of a withdrawn case hear that it closed (after the outbox was searched:
        # this notice names the case but carries nothing of the citizen).
        numbers = {int(r["id"]): str(r["tracking"]) for r in cases}
        for case_id in open_ids:
            await tell_followers(case_id, "case_closed", {"tracking": numbers[case_id]}, now=now)
        # The staff chat's buttons on a withdrawn case go (after the search too: these edits
        # name the case and carry nothing of the citizen).
        await retire_buttons_of_ended(withdrawn, now=now)
        await Citizen.filter(id=citizen_id).update(phone=None, first_name="", forget_nonce=None)
        await Draft.filter(citizen_id=citizen_id).delete()
        # The requests they joined: they follow them no more; the supporter counts stay.
        await CaseFollower.filter(citizen_id=citizen_id).delete()
        await Event.filter(kind="joined", actor=Actor.CITIZEN, actor_id=citizen_id).update(
            actor_id=None
        )
        # Ratings stay for the figures; who gave them, and what they wrote, do not.
        await Rating.filter(citizen_id=citizen_id).update(citizen_id=None, comment=None)
        await ClaimCode.filter(claimed_by=citizen_id).update(claimed_by=None)
        await KbOffer.filter(citizen_id=citizen_id).update(citizen_id=None)  # codes only stay
    return ForgetReport(cases_closed=len(open_ids), cases_anonymized=len(all_ids))
