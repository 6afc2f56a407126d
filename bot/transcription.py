"""The seam for turning a voice message into text: an interface, with no implementation shipped.

Nothing calls it yet. A desk that wants transcripts writes a class with this method (an offline
speech model, or a cloud service that knows the local dialects) and hands it to whatever shows
voice messages: the staff card's caption, or the dashboard's case page under the player.
"""

from __future__ import annotations

from typing import Protocol


class Transcriber(Protocol):
    async def transcribe(self, audio: bytes, language: str | None) -> str | None:
        """The words spoken in `audio` (as Telegram stores it: Ogg Opus for voice messages),
        `language` being the citizen's (a catalogue code such as "zh_Hans") or None for
        "guess"; None when nothing usable was heard. It must not raise for bad audio."""
        ...
