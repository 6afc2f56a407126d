"""Buttons in the staff chat that no longer apply: once a case moves, the earlier group
messages whose buttons act on it lose them.

Such a message is an outbox row tagged `about` = "<card>:<tracking>" (storage.notice_queue for
notices, the review card by its handler). After every staff action on a case, in the same
transaction, each sent one whose card no longer fits the case gets a "staff_buttons_retired"
notice: an edit of its buttons to what still applies, once per message and stage (its dedupe
key). Notices not yet sent are drawn that way when they go out (`card_stage`, asked by their
renderers). The message whose own button moved the case is edited by its handler instead
(`left_to_caller`), so it is edited once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.case_views import END_STATUSES
from storage.models import Case, CaseStatus, OutboxMessage
from storage.notice_queue import NOTICE_METHOD, card_tag, notify
from storage.outbox import Queued, collected

CARDS = ("new", "routed", "extension", "review")
RETIRED = "staff_buttons_retired"


@dataclass(frozen=True)
class CaseState:
    """What decides whether a card's buttons still apply."""

    status: CaseStatus
    signed: bool
    department_code: str | None
    extension_pending: bool
    awaiting_review: bool


ALL, SIGNED, NONE = "all", "signed", "none"


def stage(card: str, case: CaseState, params: Mapping[str, Any]) -> str:
    """What of a card's buttons (sent with these notice `params`) still acts on the case: ALL,
    NONE, or SIGNED (a routing notice whose case was signed for: Send back alone). An ended
    case (closed, withdrawn, rejected, merged) keeps no buttons."""
    if case.status in END_STATUSES:
        return NONE
    if card == "new":  # Accept · Reject: only a submitted case is accepted or rejected
        return ALL if case.status is CaseStatus.SUBMITTED else NONE
    if card == "routed":  # Sign for · Send back, while routed to this department, unworked
        here = params.get("department") == case.department_code
        if case.status is not CaseStatus.ACCEPTED or not here:
            return NONE
        return SIGNED if case.signed else ALL
    if card == "extension":  # Grant · Refuse
        return ALL if case.extension_pending else NONE
    return ALL if card == "review" and case.awaiting_review else NONE  # Approve · Return


async def case_state(tracking: str, *, awaiting_review: bool = False) -> CaseState | None:
    row = (
        await Case.filter(tracking=tracking)
        .first()
        .values("status", "signed_at", "department__code", "extension_pending")
    )
    if row is None:
        return None
    return CaseState(
        status=CaseStatus(row["status"]),
        signed=row["signed_at"] is not None,
        department_code=row["department__code"],
        extension_pending=bool(row["extension_pending"]),
        awaiting_review=awaiting_review,
    )


async def card_stage(card: str, tracking: str, params: Mapping[str, Any]) -> str:
    """For a renderer about to send a card: what of its buttons still acts on the case."""
    state = await case_state(tracking)
    return NONE if state is None else stage(card, state, params)


async def _never_awaiting() -> bool:
    return False


async def retire_buttons_of_ended(trackings: list[str], *, now: datetime) -> int:
    """Queue the edits that take every button off the group messages on these cases, which
    have just ended outside the staff desk (withdrawn by their citizen); how many."""
    retired = 0
    for tracking in trackings:
        retired += await retire_stale_buttons(tracking, awaiting_review=_never_awaiting, now=now)
    return retired


async def retire_stale_buttons(
    tracking: str, *, awaiting_review: Callable[[], Awaitable[bool]], now: datetime
) -> int:
    """Queue the edits that take stale buttons off the case's sent group messages; how many.

    `awaiting_review` says whether a reply on the case waits for review (storage.lifecycle_core
    knows; this module reads only the case's row), asked only when there are messages.
    """
    tags = [card_tag(card, tracking) for card in CARDS]
    rows = await OutboxMessage.filter(about__in=tags, message_id__not_isnull=True).values(
        "id", "chat_id", "payload", "message_id", "about"
    )
    if not rows:
        return 0
    state = await case_state(tracking, awaiting_review=await awaiting_review())
    if state is None:
        return 0
    retired = 0
    for row in rows:
        card = str(row["about"]).split(":", 1)[0]
        payload = row["payload"] if isinstance(row["payload"], dict) else {}
        params = payload.get("params") or {}
        now_stage = stage(card, state, params)
        if row["chat_id"] is None or now_stage == ALL:
            continue
        facts = {
            "tracking": tracking,
            "card": card,
            "stage": now_stage,
            "message_id": row["message_id"],
        }
        key = f"retired:{row['id']}:{now_stage}"  # once per message and stage
        await notify(row["chat_id"], RETIRED, facts, now=now, dedupe_key=key)
        retired += 1
    return retired


def left_to_caller(chat_id: int, message_id: int) -> None:
    """The caller edits this message itself (its button was pressed): drop the stale-button
    edit for it that this transaction queued (a press moves the case in the same one)."""
    batch = collected()

    def retiring_it(row: Queued) -> bool:
        payload: dict[str, Any] = row.payload if isinstance(row.payload, dict) else {}
        params = payload.get("params")
        return (
            isinstance(params, dict)
            and row.chat_id == chat_id
            and row.method == NOTICE_METHOD
            and payload.get("kind") == RETIRED
            and params.get("message_id") == message_id
        )

    batch[:] = [row for row in batch if not retiring_it(row)]
