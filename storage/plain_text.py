"""Text that people and other systems send in: what may be in it, and how long it really is.

Control characters (Unicode category Cc) other than tab and newline have no place in a request
and are refused: a description of NUL bytes is not a description. Format characters (Cf) are
invisible; the harmless ones (a zero-width joiner inside an emoji, a soft hyphen) would be
missed by nobody, and the harmful ones (right-to-left overrides and isolates) would make staff
and the public read something other than what is stored. They are stripped. Lengths that stand
for "enough was said" count visible characters only.
"""

from __future__ import annotations

import unicodedata

_KEPT_CONTROLS = frozenset("\t\n")


class TextHasControls(ValueError):
    """The text holds a control character (other than tab and newline)."""


def clean_text(text: str) -> str:
    """The text with line ends as newlines and format characters gone; TextHasControls else."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    kept = []
    for char in text:
        category = unicodedata.category(char)
        if category == "Cc" and char not in _KEPT_CONTROLS:
            raise TextHasControls(f"U+{ord(char):04X}")
        if category != "Cf":
            kept.append(char)
    return "".join(kept)


def visible_length(text: str) -> int:
    """Characters that show: not spaces, not controls or format characters, not combining marks."""
    return sum(
        1
        for char in text
        if not char.isspace() and unicodedata.category(char)[0] not in ("C", "M", "Z")
    )
