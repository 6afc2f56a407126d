"""The case page's callback block (回访): the tries on the answer and the form to record one.

Shown to whoever may record a callback on the case (storage.callbacks.callback_state), while
the answer waits for a rating or once tries were made; the form posts to
bot.dashboard.callbacks.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.dashboard.session import RUNTIME
from bot.i18n import Translator
from bot.texts.callbacks import method_labels
from bot.texts.cases import when
from bot.texts.ratings import satisfaction_labels, solved_labels
from storage.callback_queue import CALLBACK_TRIES
from storage.callbacks import callback_state
from storage.case_views import CaseView
from storage.staff import StaffView


async def callback_block(
    request: web.Request, t: Translator, staff: StaffView, case: CaseView
) -> dict[str, Any] | None:
    """What the case page's callback block shows, or None (not the viewer's to record, or
    nothing to record or show)."""
    state = await callback_state(case.tracking, by=staff.user_id)
    if state is None or (not state.answered and not state.tries):
        return None
    zone = request.app[RUNTIME].services.settings.zone
    methods = method_labels(t)
    return {
        "open": state.answered,
        "due": when(state.due_at, zone, t.language) if state.due_at else "",
        "tries": [
            {
                "when": when(at, zone, t.language),
                "by": staff_id,
                "reached": reached,
                "method": methods.get(method, method),
                "note": note,
            }
            for at, staff_id, reached, method, note in state.tries
        ],
        "tries_left": state.tries_left,
        "of": CALLBACK_TRIES,
        "methods": list(methods.items()),
        "solved": list(solved_labels(t).items()),
        "satisfaction": list(satisfaction_labels(t).items()),
        "recorded": request.query.get("callback") == "recorded",
    }
