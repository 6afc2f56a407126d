"""The reasons a department may give to dispute a rating (差评复核): codes with their names in
the desk's four languages, read from a TOML file (MINSHENG_DISPUTE_REASONS_FILE, by default
the shipped storage/dispute_reasons.toml)."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

SHIPPED_REASONS = Path(__file__).with_name("dispute_reasons.toml")
LANGUAGES = ("en", "zh_Hans", "zh_Hant", "ru")
_CODE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


class DisputeReasonsInvalid(ValueError):
    """The reasons file cannot be read or lacks something; the message says where."""


@dataclass(frozen=True)
class DisputeReason:
    code: str
    names: dict[str, str]

    def name(self, language: str) -> str:
        """The name in `language`, else the other Chinese script, else English."""
        other = {"zh_Hans": "zh_Hant", "zh_Hant": "zh_Hans"}.get(language, "en")
        return self.names.get(language) or self.names.get(other) or self.names["en"]


def load_reasons(path: Path | None) -> tuple[DisputeReason, ...]:
    """The reasons of the file (None: the shipped one), in its order; DisputeReasonsInvalid."""
    path = path or SHIPPED_REASONS
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise DisputeReasonsInvalid(f"{path}: {exc}") from None
    entries = data.get("dispute_reason")
    if not isinstance(entries, list) or not entries:
        raise DisputeReasonsInvalid(f"{path}: no [[dispute_reason]] tables")
    found: list[DisputeReason] = []
    for number, entry in enumerate(entries, start=1):
        where = f"{path}: dispute_reason #{number}"
        code = entry.get("code") if isinstance(entry, dict) else None
        if not isinstance(code, str) or not _CODE.match(code):
            raise DisputeReasonsInvalid(f"{where}: `code` must be like against_law")
        names = entry.get("names")
        if not isinstance(names, dict) or not all(
            isinstance(names.get(lang), str) and names[lang].strip() for lang in LANGUAGES
        ):
            raise DisputeReasonsInvalid(f"{where}: a name in each of {', '.join(LANGUAGES)}")
        if any(r.code == code for r in found):
            raise DisputeReasonsInvalid(f"{where}: `{code}` comes twice")
        found.append(DisputeReason(code, {lang: names[lang] for lang in LANGUAGES}))
    return tuple(found)
