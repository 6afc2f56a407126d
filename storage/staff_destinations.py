"""Where a staff-chat notice goes: the staff group, a department's topic in it, or a
department's own chat.

A department's cards (a new request, routing, reminders, escalations, extensions, reopening)
go where its department says: its own chat (`Department.chat_id`), else its topic of the staff
group (`Department.topic_id`: the notice carries it as "thread", and the bot uses it when the
staff group is a forum), else the staff group. The department is the one named in the notice
(routed to, co-handling), else the case's, else the one proposed before acceptance. What is for
the supervisors — the digest, alerts, a case sent back or to be routed by hand, a case with no
department at all — stays in the staff group (the General topic of a forum).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from storage.models import Case, Department

# Notices about one case that belong to its department.
DEPARTMENT_NOTICES = frozenset(
    {
        "staff_new_case",
        "staff_case_photos",
        "staff_case_attachment",
        "staff_case_addition",
        "staff_case_routed",
        "staff_case_co_handling",
        "staff_case_reopened",
        "staff_extension_requested",
        "staff_extension_granted",
        "staff_extension_refused",
        "staff_accept_overdue",
        "staff_case_escalated",
        "staff_due_reminder",
    }
)
# Notices whose facts name the department they are for (the lead routed to, a co-handler).
NAMED_DEPARTMENT = frozenset({"staff_case_routed", "staff_case_co_handling"})
_PLACE = ("chat_id", "topic_id")


@dataclass(frozen=True)
class Destination:
    chat_id: int
    thread_id: int | None = None  # a topic of the staff forum; None: the chat itself (General)


def place_of(staff_chat_id: int, chat_id: int | None, topic_id: int | None) -> Destination:
    """A department's place, from its two columns: its chat, its topic, or the staff group."""
    if chat_id is not None:
        return Destination(chat_id)
    return Destination(staff_chat_id, topic_id)


async def department_destination(code: str | None, staff_chat_id: int) -> Destination:
    """Where the cards of department `code` go (the staff group for None or an unknown code)."""
    if code is None:
        return Destination(staff_chat_id)
    row = await Department.filter(code=code).first().values(*_PLACE)
    if row is None:
        return Destination(staff_chat_id)
    return place_of(staff_chat_id, row["chat_id"], row["topic_id"])


async def notice_destination(staff_chat_id: int, kind: str, params: dict[str, Any]) -> Destination:
    """Where a notice meant for the staff chat goes (see the module's docstring)."""
    if kind not in DEPARTMENT_NOTICES or "tracking" not in params:
        return Destination(staff_chat_id)
    if kind in NAMED_DEPARTMENT and params.get("department"):
        return await department_destination(str(params["department"]), staff_chat_id)
    row = await (
        Case.filter(tracking=str(params["tracking"]))
        .first()
        .values(
            "department_id",
            "department__chat_id",
            "department__topic_id",
            "proposed_department_id",
            "proposed_department__chat_id",
            "proposed_department__topic_id",
        )
    )
    if row is None:
        return Destination(staff_chat_id)
    for owner in ("department", "proposed_department"):
        if row[f"{owner}_id"] is not None:
            return place_of(staff_chat_id, row[f"{owner}__chat_id"], row[f"{owner}__topic_id"])
    return Destination(staff_chat_id)  # no department yet: the supervisors route it


async def department_chats() -> dict[int, str]:
    """The chats departments have of their own, each with its department's code: staff
    commands and card replies work there (for that department's cases: storage.chat_scope)."""
    rows = await Department.filter(chat_id__isnull=False).values("chat_id", "code")
    return {int(row["chat_id"]): str(row["code"]) for row in rows}
