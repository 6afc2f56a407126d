"""A client of the public listener as its quotas count it: a keyed hash of its address.

The rows of `quota_use` do not give the address back, and the key is the same for every worker
of the desk (all share the bot's token), so they count alike. The address is the peer's: behind
a reverse proxy, the proxy's (X-Forwarded-For is not trusted).
"""

from __future__ import annotations

import hashlib
import hmac

from aiohttp import web

ADDRESS_KEY: web.AppKey[bytes] = web.AppKey("client_address_key")


def keep_address_key(app: web.Application, token: str) -> None:
    """Derive the hashing key from the bot's token (the same for Open311 and the board)."""
    app[ADDRESS_KEY] = hashlib.sha256(b"minsheng open311 reads\0" + token.encode()).digest()


def address_hash(request: web.Request) -> str:
    address = (request.remote or "unknown").encode()
    return hmac.new(request.app[ADDRESS_KEY], address, hashlib.sha256).hexdigest()[:40]
