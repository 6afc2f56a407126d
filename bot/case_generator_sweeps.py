"""The sweeps' marks on a generated case: what a desk's sweeps would have done to it by `end`.

A real desk with years of history has had its sweeps run all along: each submitted case left
past its acceptance limit was escalated once, each running case reminded at 75 % of its time
and escalated at its due date, each answer left unrated for three days reminded once. A case
still open at `end` gets the same marks and the same private events, so a bot started on the
generated history finds only what is due now, not years of backlog at once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from storage.deadlines import REMIND_AT

RATING_REMIND_AFTER = 3 * 24 * 3600.0  # storage.rating_sweeps.REMIND_AFTER
RUNNING = frozenset({"accepted", "in_progress", "awaiting_citizen"})


@dataclass
class SweepMarks:
    reminded: str | None = None  # due_reminded_at
    escalated: str | None = None  # escalated_at
    accept_escalated: str | None = None  # accept_escalated_at
    events: list[tuple[Any, ...]] = field(default_factory=list)


def _text(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(" ")


def _event(case_id: int, kind: str, at: float, **payload: float) -> tuple[Any, ...]:
    plain = {k: datetime.fromtimestamp(v, UTC).isoformat() for k, v in payload.items()}
    return (case_id, kind, "system", None, json.dumps(plain), 0, _text(at))


def sweep_marks(
    case_id: int,
    status: str,
    accept_due: float,
    accepted: float | None,
    due: float,
    paused: float | None,
    answered: float | None,
    end: float,
) -> SweepMarks:
    """The marks (as stored text) and events of one case whose life was cut at `end`."""
    found = SweepMarks()
    if status == "submitted" and accept_due <= end:
        found.accept_escalated = _text(accept_due)
        found.events.append(
            _event(case_id, "accept_escalated", accept_due, accept_due_at=accept_due)
        )
    if status in RUNNING and paused is None and accepted is not None:
        remind = accepted + (due - accepted) * REMIND_AT
        if remind <= end:
            found.reminded = _text(remind)
            found.events.append(_event(case_id, "reminder_75", remind, due_at=due))
        if due <= end:
            found.escalated = _text(due)
            found.events.append(_event(case_id, "escalated", due, due_at=due))
    if status == "answered" and answered is not None and answered + RATING_REMIND_AFTER <= end:
        found.events.append(_event(case_id, "rating_reminder", answered + RATING_REMIND_AFTER))
    return found
