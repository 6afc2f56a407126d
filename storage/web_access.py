"""Staff sign-in to the dashboard: one-time links asked for in the bot, and sessions.

A link's token is 32 random bytes, kept only as a hash, valid LINK_LIFETIME and once. Redeeming
it starts a session: another random token, which the cookie carries (signed by the web layer)
and which is kept only as its hash too, so a copy of the database signs nobody in. Every request
asks `session_staff`, which reads the staff table afresh, so a removed staff member is out at
their next click, whatever their cookie says.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from tortoise.transactions import in_transaction

from storage.models import WebLogin, WebSession
from storage.staff import StaffView, staff_member

LINK_LIFETIME = timedelta(minutes=10)
SESSION_LIFETIME = timedelta(hours=12)


class NotStaff(Exception):
    """Only active staff members get a sign-in link."""


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


async def issue_login(user_id: int, *, now: datetime) -> str:
    """A fresh one-time token for an active staff member; NotStaff otherwise."""
    if await staff_member(user_id) is None:
        raise NotStaff(user_id)
    token = secrets.token_urlsafe(32)
    await WebLogin.create(
        token_hash=_hash(token), user_id=user_id, created_at=now, expires_at=now + LINK_LIFETIME
    )
    return token


async def redeem_login(token: str, *, now: datetime) -> str | None:
    """A new session token for a valid, unused, unexpired link token of active staff; else
    None. Only the session token's hash is stored (WebSession.id).

    The token is spent by a conditional UPDATE, so two clicks at once start one session.
    """
    if not token or len(token) > 128:
        return None
    async with in_transaction():
        spent = await WebLogin.filter(
            token_hash=_hash(token), used_at__isnull=True, expires_at__gt=now
        ).update(used_at=now)
        if spent != 1:
            return None
        login = await WebLogin.get(token_hash=_hash(token))
        if await staff_member(login.user_id) is None:
            return None
        session = secrets.token_urlsafe(32)
        await WebSession.create(
            id=_hash(session),
            user_id=login.user_id,
            created_at=now,
            expires_at=now + SESSION_LIFETIME,
        )
        return session


async def session_staff(session: str, *, now: datetime) -> StaffView | None:
    """The active staff member of a live session, by its token (the cookie's), or None."""
    if not session or len(session) > 64:
        return None
    row = (
        await WebSession.filter(id=_hash(session), ended_at__isnull=True, expires_at__gt=now)
        .first()
        .values("user_id")
    )
    if row is None:
        return None
    return await staff_member(int(row["user_id"]))


async def end_session(session: str, *, now: datetime) -> None:
    """Sign out: the session, by its token, ends everywhere."""
    await WebSession.filter(id=_hash(session), ended_at__isnull=True).update(ended_at=now)
