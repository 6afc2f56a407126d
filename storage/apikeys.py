"""API keys for the desk's other channels (Open311 clients): issue, check, list, revoke.

A key is 32 random bytes, shown once when issued; only its SHA-256 is stored, so a copy of the
database does not hand out working keys. A check is one indexed lookup of that hash. A key has
its own quota of filings (a minute and a day), and a partner system's key may carry the scope
to read the status of private cases.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from tortoise.exceptions import IntegrityError

from storage.models import ApiKey

_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


class ApiKeyNameTaken(Exception):
    """A key with this name exists already (revoke it first, or choose another name)."""


class ApiKeyNotFound(LookupError):
    """No key has this name."""


@dataclass(frozen=True)
class ApiKeyView:
    name: str
    active: bool
    created_at: datetime
    last_used_at: datetime | None
    read_private: bool
    per_minute: int
    per_day: int


@dataclass(frozen=True)
class KeyHolder:
    """Who presented a valid key, and what it allows."""

    id: int
    name: str
    read_private: bool  # may read the status of cases that are not published
    per_minute: int  # filings a minute
    per_day: int  # filings a day


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def valid_name(name: str) -> bool:
    """Lower-case letters, digits, dot, dash and underscore; at most 64 characters."""
    return bool(_NAME.match(name))


def default_quota() -> tuple[int, int]:
    """The filings a new key may make a minute and a day, unless told otherwise."""
    fields = ApiKey._meta.fields_map
    return int(fields["per_minute"].default), int(fields["per_day"].default)


async def add_key(
    name: str,
    *,
    now: datetime,
    read_private: bool = False,
    per_minute: int | None = None,
    per_day: int | None = None,
) -> str:
    """Issue a key for `name` and return it: the only time it is ever seen.

    The quota defaults to default_quota(); `read_private` lets it read private cases' status.
    """
    if not valid_name(name):
        raise ValueError("a key name is 1-64 of a-z, 0-9, '.', '-', '_', starting alphanumeric")
    minute, day = default_quota()
    per_minute = minute if per_minute is None else per_minute
    per_day = day if per_day is None else per_day
    if per_minute < 1 or per_day < 1:
        raise ValueError("a quota is at least 1 a minute and 1 a day")
    key = "msk_" + secrets.token_urlsafe(32)
    try:
        await ApiKey.create(
            name=name,
            key_hash=_hash(key),
            created_at=now,
            read_private=read_private,
            per_minute=per_minute,
            per_day=per_day,
        )
    except IntegrityError as taken:
        raise ApiKeyNameTaken(name) from taken
    return key


async def key_holder(key: str, *, now: datetime) -> KeyHolder | None:
    """The holder of the active key `key`, or None; records when it was last used."""
    if not key or len(key) > 128:
        return None
    row = (
        await ApiKey.filter(key_hash=_hash(key), active=True)
        .first()
        .values("id", "name", "read_private", "per_minute", "per_day")
    )
    if row is None:
        return None
    await ApiKey.filter(id=row["id"]).update(last_used_at=now)
    return KeyHolder(**row)


async def revoke_key(name: str) -> None:
    if await ApiKey.filter(name=name, active=True).update(active=False) != 1:
        raise ApiKeyNotFound(name)


async def list_keys() -> list[ApiKeyView]:
    rows = (
        await ApiKey.all()
        .order_by("name")
        .values(
            "name", "active", "created_at", "last_used_at", "read_private", "per_minute", "per_day"
        )
    )
    return [ApiKeyView(**row) for row in rows]
