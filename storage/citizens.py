"""Citizens: who talks to the bot, in which language, and whether they can be reached."""

from __future__ import annotations

from dataclasses import dataclass, replace

from storage.lane_reads import CITIZEN_COLUMNS, lane_reads
from storage.models import Citizen
from storage.sql import fetch


@dataclass(frozen=True)
class CitizenView:
    id: int
    language: str
    language_chosen: bool
    first_name: str
    blocked: bool
    unreachable: bool


def _view(row: Citizen) -> CitizenView:
    return CitizenView(
        id=row.id,
        language=row.language,
        language_chosen=row.language_chosen,
        first_name=row.first_name,
        blocked=row.blocked,
        unreachable=row.unreachable,
    )


async def touch_citizen(user_id: int, *, first_name: str, guessed_language: str) -> CitizenView:
    """The citizen behind a user id, created on first contact with the guessed language.

    A citizen who writes again is reachable again, whatever the last send said.
    """
    reads = lane_reads()  # the dispatcher may have read it for the lane (storage.lane_reads)
    known, ahead = reads.citizen(user_id) if reads else (False, None)
    if known:
        rows = [ahead] if ahead is not None else []
    else:
        rows = await fetch(  # read on almost every update: plain SQL (storage/sql.py)
            f"SELECT {CITIZEN_COLUMNS} FROM citizen WHERE id = ?",  # noqa: S608 - names
            user_id,
        )
    if not rows:
        created = await Citizen.create(
            id=user_id, language=guessed_language, first_name=first_name[:128]
        )
        return _view(created)
    seen = CitizenView(
        id=int(rows[0]["id"]),
        language=str(rows[0]["language"]),
        language_chosen=bool(rows[0]["language_chosen"]),
        first_name=str(rows[0]["first_name"]),
        blocked=bool(rows[0]["blocked"]),
        unreachable=bool(rows[0]["unreachable"]),
    )
    changes: dict[str, object] = {}
    if seen.unreachable:
        changes["unreachable"] = False
    if not seen.language_chosen and seen.language != guessed_language:
        changes["language"] = guessed_language
    if first_name and seen.first_name != first_name[:128]:
        changes["first_name"] = first_name[:128]
    if not changes:
        return seen
    await Citizen.filter(id=user_id).update(**changes)
    return replace(seen, **changes)  # type: ignore[arg-type]


async def choose_language(user_id: int, language: str) -> CitizenView:
    """Keep the language a citizen picked; it wins over Telegram's guess from now on."""
    await Citizen.filter(id=user_id).update(language=language, language_chosen=True)
    return _view(await Citizen.get(id=user_id))


async def citizen_language(user_id: int, default: str) -> str:
    row = await Citizen.get_or_none(id=user_id).only("id", "language")
    return row.language if row else default


async def mark_unreachable(user_id: int) -> bool:
    """The citizen blocked the bot or deleted their account; True if that is news."""
    changed = await Citizen.filter(id=user_id, unreachable=False).update(unreachable=True)
    return changed > 0
