"""The dashboard's session cookie and CSRF tokens, and who is asking.

The cookie holds a session id and an HMAC-SHA256 of it under the dashboard key; it is HttpOnly,
SameSite=Strict, and Secure when the dashboard is served over HTTPS. The session itself lives
in the database (storage.web_access), so signing out ends it everywhere and a removed staff
member is refused at once. Every form carries a CSRF token: an HMAC of the session id under a
derived key, checked on every POST (SameSite=Strict already stops cross-site posts in current
browsers; the token also covers older ones). Both come from the client: anything but the ASCII
we issue (a cookie or token with other characters) is refused like a wrong one, never an error.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import TYPE_CHECKING

from aiohttp import web

from storage.staff import StaffView
from storage.web_access import session_staff

if TYPE_CHECKING:
    from bot.runtime import Runtime

COOKIE = "minsheng_session"
KEY: web.AppKey[bytes] = web.AppKey("dashboard_key")
RUNTIME: web.AppKey[Runtime] = web.AppKey("dashboard_runtime")
SECURE: web.AppKey[bool] = web.AppKey("dashboard_secure")


def _mac(key: bytes, purpose: bytes, value: str) -> str:
    return hmac.new(key + purpose, value.encode("utf-8", "replace"), hashlib.sha256).hexdigest()


def _same(given: str, expected: str) -> bool:
    """Constant-time equality of what the client sent and what we expect: compare_digest takes
    ASCII strings only (other text raises TypeError), so bytes it is."""
    return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode())


def set_session_cookie(request: web.Request, response: web.StreamResponse, session: str) -> None:
    signed = f"{session}.{_mac(request.app[KEY], b'cookie', session)}"
    response.set_cookie(
        COOKIE,
        signed,
        httponly=True,
        samesite="Strict",
        secure=request.app[SECURE],
        path="/web",
        max_age=12 * 3600,
    )


def clear_session_cookie(response: web.StreamResponse) -> None:
    response.del_cookie(COOKIE, path="/web")


def session_id(request: web.Request) -> str | None:
    """The session id from a cookie whose signature holds, or None."""
    raw = request.cookies.get(COOKIE, "")
    session, _, mac = raw.rpartition(".")
    if not session or not raw.isascii():
        return None
    if not _same(mac, _mac(request.app[KEY], b"cookie", session)):
        return None
    return session


async def current_staff(request: web.Request) -> StaffView | None:
    session = session_id(request)
    if session is None:
        return None
    return await session_staff(session, now=request.app[RUNTIME].services.clock.now())


def csrf_token(request: web.Request) -> str:
    return _mac(request.app[KEY], b"csrf", session_id(request) or "")


def csrf_ok(request: web.Request, submitted: str) -> bool:
    session = session_id(request)
    return session is not None and _same(submitted, csrf_token(request))
