"""The event loop our processes run on: uvloop's where it is installed, asyncio's otherwise.

uvloop runs the same coroutines as asyncio's own loop, with its scheduling, sockets and
thread wake-ups in C. An intake conversation spends about a sixth of the event loop's time in
the loop itself (each answer from SQLite's thread wakes it, each request to Telegram and each
reply read back passes through it), so the loop is worth a dependency: it is maintained beside
asyncpg, and python-telegram-bot, aiohttp and aiosqlite run on it unchanged. It is not built
for Windows, where asyncio's loop is used.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

try:
    import uvloop
except ImportError:  # pragma: no cover - a platform uvloop is not built for
    uvloop = None  # type: ignore[assignment]


def run(main: Coroutine[Any, Any, T]) -> T:
    """asyncio.run on the fastest loop at hand."""
    if uvloop is None:  # pragma: no cover
        return asyncio.run(main)
    return uvloop.run(main)


def install() -> None:
    """Make the loops that code of others creates (python-telegram-bot's run_polling) ours."""
    if uvloop is not None:
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
