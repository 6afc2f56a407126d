"""The citizen's rating of an answer in words: was it solved, and how satisfied they are."""

from __future__ import annotations

from bot.i18n import Translator


def solved_labels(t: Translator) -> dict[str, str]:
    return {
        "solved": t.gettext("Solved"),
        "partly": t.gettext("Partly"),
        "not_solved": t.gettext("Not solved"),
    }


def satisfaction_labels(t: Translator) -> dict[str, str]:
    return {
        "satisfied": t.gettext("Satisfied"),
        "basic": t.gettext("Basically satisfied"),
        "unsatisfied": t.gettext("Unsatisfied"),
    }
