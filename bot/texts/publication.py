"""What a citizen reads about the publication of their own request (its details in the chat)."""

from __future__ import annotations

from bot.i18n import Translator
from storage.publish_consent import ConsentState


def consent_line(t: Translator, state: ConsentState) -> str:
    if state.published:
        return t.gettext(
            "Publication: published without your name on the public board, in a text staff "
            "checked."
        )
    if state.consent:
        return t.gettext(
            "Publication: you agreed that staff may publish this request and its answer "
            "without your name."
        )
    return t.gettext("Publication: private. You have not agreed to publish this request.")
