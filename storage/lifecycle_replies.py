"""The conversation on a case: a question to the citizen, their answer, a reply and its review.

Import these through `storage.lifecycle`. The review gate: a handler's reply waits for a
supervisor (event "reply_submitted"); approving sends it to the citizen (status answered),
returning sends it back to the handler (the case stays in progress). Which reply waits is read
from the events, the latest of lifecycle_core.REVIEW_EVENTS deciding.

Not every reply waits: a department whose `review_required` is off answers the citizen at once,
and so does a supervisor or an admin (they are the reviewers; a review of their own reply
would only be a second click). Such a reply is the reply and its approval in one step, both
moves checked in the transition table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from tortoise.transactions import in_transaction

from storage.attachments import Attachment
from storage.case_views import CaseNotFound, CaseView
from storage.cases import add_information
from storage.deadlines import pause_changes, resume_changes
from storage.lifecycle_core import (
    CITIZEN_ANSWER,
    ReplyAlreadyPending,
    ReplyNotPending,
    Snapshot,
    load_case,
    next_status,
    pending_reply,
    record,
    run_staff_action,
    tell_citizen,
    view_of,
    write_case,
)
from storage.models import Actor, Case, CaseStatus, Department, StaffRole
from storage.reply_templates import template_signs
from storage.routing import signed_by_work
from storage.staff import StaffAction, StaffView

STAFF = Actor.STAFF


@dataclass(frozen=True)
class ReplyView:
    """A submitted reply, with the reviewer's warning signs; `awaits_review` is False when it
    went straight to the citizen (the case is then answered)."""

    tracking: str
    text: str
    by: int
    submitted_at: datetime
    perfunctory: bool  # looks like a brush-off: too short or a stock phrase
    signs: tuple[str, ...]  # "short", and each matched phrase
    awaits_review: bool = True


def perfunctory_signs(text: str, *, min_length: int, phrases: Sequence[str]) -> tuple[str, ...]:
    """Why a reply looks perfunctory: shorter than `min_length`, or containing a stock phrase
    (submit_reply adds "template:<code>" for a reply template sent with nothing added).

    Phrases match case-insensitively anywhere in the text.
    """
    signs: list[str] = []
    if len(text.strip()) < min_length:
        signs.append("short")
    lowered = text.casefold()
    signs.extend(p for p in phrases if p.strip() and p.casefold() in lowered)
    return tuple(signs)


async def ask_citizen(tracking: str, question: str, *, by: int, now: datetime) -> CaseView:
    """Ask the citizen for more (待补充材料); the notice "case_question" carries the question."""
    _require_text(question, "question")

    async def work(case: Snapshot, staff: StaffView, status: CaseStatus) -> CaseView:
        if await pending_reply(case) is not None:
            raise ReplyAlreadyPending(case.tracking, case.status, "ask", "reply under review")
        signed = await signed_by_work(case, now=now)  # the first work signs
        paused = await pause_changes(case.id, now)  # the clock stops while the citizen is asked
        await write_case(case, now, status=status, **signed, **paused)
        await record(
            case, "question", actor=STAFF, actor_id=by, now=now, public=True, question=question
        )
        await tell_citizen(case, "case_question", now, question=question)
        return await view_of(case)

    return await run_staff_action(tracking, StaffAction.ASK, by=by, now=now, work=work)


async def citizen_answered(
    tracking: str, citizen_id: int, text: str, *, now: datetime
) -> CaseView:
    """The citizen answers the question: the case goes back in progress (a public event).

    Raises CaseNotFound (absent or not theirs), TransitionRefused when no question is open,
    CaseChangedMeanwhile.
    """
    _require_text(text, "text")
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("timezone-aware datetimes only")
    async with in_transaction():
        case = await load_case(tracking)
        if case is None or case.citizen_id != citizen_id:
            raise CaseNotFound(tracking)
        status = next_status(case, CITIZEN_ANSWER)
        resumed = await resume_changes(case.id, now)  # the due date moves by the pause
        await write_case(case, now, status=status, **resumed)
        await record(
            case,
            "citizen_answered",
            actor=Actor.CITIZEN,
            actor_id=citizen_id,
            now=now,
            public=True,
            text=text,
        )
        return await view_of(case)


async def submit_reply(
    tracking: str,
    text: str,
    *,
    by: int,
    now: datetime,
    min_length: int = 0,
    perfunctory_phrases: Sequence[str] = (),
) -> ReplyView:
    """A reply to the citizen: to review (an internal "reply_submitted" event, marked if
    perfunctory), or, when no review is needed (see the module's docstring), straight to the
    citizen as if approved at once (a public "answered" event with `direct`).

    The first reply on an accepted case puts it in progress. Raises ReplyAlreadyPending while
    another reply waits for review.
    """
    _require_text(text, "text")
    signs = perfunctory_signs(text, min_length=min_length, phrases=perfunctory_phrases)
    signs += await template_signs(tracking, text)  # a template with nothing added

    async def work(case: Snapshot, staff: StaffView, status: CaseStatus) -> ReplyView:
        if await pending_reply(case) is not None:
            raise ReplyAlreadyPending(case.tracking, case.status, "reply", "reply under review")
        signed = await signed_by_work(case, now=now)  # the first work signs
        if not await needs_review(case, staff):
            answered = next_status(replace(case, status=status), StaffAction.APPROVE)
            await write_case(case, now, status=answered, answered_at=now, **signed)
            await first_answer(case, now)
            await record(
                case,
                "answered",
                actor=STAFF,
                actor_id=by,
                now=now,
                public=True,
                text=text,
                direct=True,
                perfunctory=bool(signs),
                signs=list(signs),
            )
            await tell_citizen(case, "case_answered", now, text=text)
            return ReplyView(case.tracking, text, by, now, bool(signs), signs, False)
        await write_case(case, now, status=status, **signed)
        await record(
            case,
            "reply_submitted",
            actor=STAFF,
            actor_id=by,
            now=now,
            public=False,
            text=text,
            perfunctory=bool(signs),
            signs=list(signs),
        )
        return ReplyView(case.tracking, text, by, now, bool(signs), signs)

    return await run_staff_action(tracking, StaffAction.REPLY, by=by, now=now, work=work)


async def needs_review(case: Snapshot, staff: StaffView) -> bool:
    """Whether this staff member's reply on this case waits for a supervisor: a handler's does,
    unless the case's department has review turned off."""
    if staff.role is not StaffRole.HANDLER:
        return False
    row = await Department.filter(id=case.department_id).first().values("review_required")
    return row is None or bool(row["review_required"])  # no department (never for a worked case)


async def first_answer(case: Snapshot, now: datetime) -> None:
    """Stamp the case's first answer (kept through reopening, for the response figures)."""
    await Case.filter(id=case.id, first_answered_at__isnull=True).update(first_answered_at=now)


async def approve_reply(tracking: str, *, by: int, now: datetime) -> CaseView:
    """Pass the waiting reply (审核): the case is answered and the citizen gets the text."""

    async def work(case: Snapshot, staff: StaffView, status: CaseStatus) -> CaseView:
        reply = await pending_reply(case)
        if reply is None:
            raise ReplyNotPending(case.tracking, case.status, "approve", "no reply to review")
        text = str(reply["text"])
        await write_case(case, now, status=status, answered_at=now)
        await first_answer(case, now)
        await record(case, "answered", actor=STAFF, actor_id=by, now=now, public=True, text=text)
        await tell_citizen(case, "case_answered", now, text=text)
        return await view_of(case)

    return await run_staff_action(tracking, StaffAction.APPROVE, by=by, now=now, work=work)


async def return_reply(tracking: str, reason: str, *, by: int, now: datetime) -> CaseView:
    """Send the waiting reply back to the handler with a reason; the case stays in progress."""
    _require_text(reason, "reason")

    async def work(case: Snapshot, staff: StaffView, status: CaseStatus) -> CaseView:
        if await pending_reply(case) is None:
            raise ReplyNotPending(case.tracking, case.status, "return", "no reply to review")
        await write_case(case, now, status=status)
        await record(
            case, "reply_returned", actor=STAFF, actor_id=by, now=now, public=False, reason=reason
        )
        return await view_of(case)

    return await run_staff_action(tracking, StaffAction.RETURN_REPLY, by=by, now=now, work=work)


def _require_text(text: str, name: str) -> None:
    if not text.strip():
        raise ValueError(f"{name} must not be empty")


async def citizen_adds(
    tracking: str,
    citizen_id: int,
    *,
    text: str,
    photos: tuple[str, ...],
    now: datetime,
    staff_chat_id: int | None,
    attachments: tuple[Attachment, ...] = (),
) -> CaseView:
    """What a citizen sends about their open case: an addition, and when the department had
    asked them something, also the answer that puts the case back in progress."""
    async with in_transaction():
        case = await add_information(
            tracking,
            citizen_id,
            text=text,
            photos=photos,
            now=now,
            staff_chat_id=staff_chat_id,
            attachments=attachments,
        )
        if case.status is CaseStatus.AWAITING_CITIZEN:
            answer = text or ("(photo)" if photos else "(file)")
            case = await citizen_answered(tracking, citizen_id, answer, now=now)
        return case
