"""The per-citizen gate: how fast a chat is writing, and whether its citizen is blocked.

Everything is derived from rows that exist anyway: the inbox holds every update a chat sent
(with the time it arrived), so a flood is counted there, on its (chat_key, received_at) index.
Nothing is kept in memory, so several workers, restarts and replays all decide alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from storage.models import Citizen, InboxUpdate


@dataclass(frozen=True)
class GateState:
    recent: int  # updates of the chat in the window up to and including this one
    received_at: datetime | None  # when this update arrived (None: not from the inbox)
    blocked: bool


async def gate_state(
    chat_key: int, update_id: int, user_id: int, *, window: timedelta
) -> GateState:
    """Count the chat's updates that arrived in `window` before this one, this one included.

    Later updates already stored do not count: the first updates of a burst are served, the
    rest are not, whatever order the workers take them in.
    """
    blocked = await Citizen.filter(id=user_id, blocked=True).exists()
    this = await InboxUpdate.filter(update_id=update_id).first().values("id", "received_at")
    if this is None:
        return GateState(recent=0, received_at=None, blocked=blocked)
    recent = await InboxUpdate.filter(
        chat_key=chat_key,
        received_at__gte=this["received_at"] - window,
        received_at__lte=this["received_at"],
        id__lte=this["id"],
    ).count()
    return GateState(recent=recent, received_at=this["received_at"], blocked=blocked)
