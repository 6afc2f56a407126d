"""Signing in to the staff dashboard and using its pages as a browser would (the web tests)."""

from __future__ import annotations

import re
from typing import Any

import aiohttp

from tests.following import Desk

SECRET = "dashboard-secret"
OTHER = 72_005  # a handler of another department
LINK = re.compile(r"(http://\S+/web/login\?t=\S+)")


async def sign_in_link(d: Desk, user_id: int) -> str:
    """Ask the bot for /web in a private chat; the link it sends."""
    before = len(d.sandbox.messages(user_id))
    answer = await d.say(user_id, "/web", before + 1)
    found = LINK.search(answer["text"])
    assert found, answer["text"]
    return found.group(1)


async def browser(link: str) -> aiohttp.ClientSession:
    """A client with a cookie jar, signed in through the link (cookies for 127.0.0.1 too)."""
    session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    async with session.get(link) as answer:
        assert answer.status == 200, await answer.text()
        assert answer.url.path == "/web/"
    return session


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
    assert found
    return found.group(1)


async def get(session: aiohttp.ClientSession, url: str) -> tuple[int, str]:
    async with session.get(url) as answer:
        return answer.status, await answer.text()


async def post(session: aiohttp.ClientSession, url: str, data: dict[str, Any]) -> tuple[int, str]:
    async with session.post(url, data=data) as answer:
        return answer.status, await answer.text()
