"""Callbacks (回访) and disputes of ratings (差评复核) in words: how a citizen was contacted, and
the timeline's sentences for a try, the tries running out, a dispute and its decision."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from bot.i18n import Translator


def method_labels(t: Translator) -> dict[str, str]:
    return {
        "phone": t.gettext("Phone call"),
        "sms": t.gettext("Text message (SMS)"),
        "visit": t.gettext("Visit"),
        "telegram": t.gettext("Telegram"),
        "other": t.gettext("Other way"),
    }


def callback_sentences(
    t: Translator, actor: str, payload: Mapping[str, Any]
) -> dict[str, Callable[[], str]]:
    """The staff timeline's sentences of the callback and dispute events (all private)."""
    method = str(payload.get("method", ""))
    how = method_labels(t).get(method, method)
    note = str(payload.get("note") or payload.get("text") or "")

    def attempt() -> str:
        said = (
            t.gettext("{actor} reached the citizen on a callback ({how})", actor=actor, how=how)
            if payload.get("reached")
            else t.gettext(
                "{actor} tried to call the citizen back ({how}): not reached", actor=actor, how=how
            )
        )
        return f"{said}: {note}" if note else said

    def filed() -> str:
        said = t.gettext(
            "{actor} disputed the unsatisfied rating ({reason})",
            actor=actor,
            reason=str(payload.get("reason", "")),
        )
        return f"{said}: {note}" if note else said

    return {
        "callback_attempt": attempt,
        "callback_not_reached": lambda: t.gettext(
            "Not reached after {tries} tries: the request left the callback queue",
            tries=str(payload.get("tries", "")),
        ),
        "dispute_filed": filed,
        "dispute_decided": lambda: (
            t.gettext("{actor} granted the dispute: the rating no longer counts", actor=actor)
            if payload.get("status") == "granted"
            else t.gettext("{actor} refused the dispute: the rating counts", actor=actor)
        ),
    }
