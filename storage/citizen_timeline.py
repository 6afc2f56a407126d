"""What a citizen may read of their own case's history: which events, and which of their facts.

The audit trail holds more than the citizen may see: staff notes, perfunctory flags, the reason
a case was passed on, who acted. Each kind the citizen sees is listed here with the facts it
shows them, and nothing else goes out: a fact added to an event later stays with staff until
it is named here. A transfer is shown without its reason (the department is on the citizen's
card anyway), and a due date that moved, as they were told by notice. Followers read less again
(storage.followers): this is the filer's view only.
"""

from __future__ import annotations

from typing import Any

from storage.case_views import EventView as EventView
from storage.case_views import event_view

# Every event kind the filer sees, with the facts of its payload that they may read.
CITIZEN_FACTS: dict[str, tuple[str, ...]] = {
    "submitted": (),
    "citizen_added": ("text", "photos", "attachments"),
    "withdrawn": (),
    "accepted": ("department", "due_at"),
    "transferred": ("department",),
    "rejected": ("reason",),
    "question": ("question",),
    "citizen_answered": ("text",),
    "answered": ("text",),
    "rated": ("solved", "satisfaction"),
    "reopened": ("reason",),
    "closed": ("reason",),
    "merged": ("into",),
    "joined": (),
    "urgent": ("due_at",),
    "extension_granted": ("due_at",),
}


def for_citizen(row: dict[str, Any]) -> EventView | None:
    """An event row (EVENT_COLUMNS) as its citizen may read it, or None if it is not theirs to
    see. Erased words stay marked as erased."""
    facts = CITIZEN_FACTS.get(str(row["kind"]))
    if facts is None:
        return None
    payload = dict(row["payload"] or {})
    if row["kind"] == "urgent" and not payload.get("moved"):
        return None  # urgent without an earlier due date: the citizen was not told
    view = event_view(row)
    shown = {key: payload[key] for key in facts if key in payload}
    if payload.get("erased"):
        shown["erased"] = True
    return EventView(view.kind, view.actor, shown, view.created_at)


def citizen_events(rows: list[dict[str, Any]]) -> list[EventView]:
    """The rows the citizen may read, in the order given, each with its facts for them."""
    return [view for row in rows if (view := for_citizen(row)) is not None]
