"""What a stranger can send: each answered 4xx with a clear body, and nothing changes.

The webhook (a secret header that is not UTF-8; bodies that are a JSON list, a string, nested
100,000 deep, with an update_id or chat id no database column holds, NaN, or over the size
limit), the dashboard's statistics (a period that cannot be represented, for a supervisor and
for a handler, whom the role check refuses first) and its photo route (the headers that keep a
"photo" from being run as a page). The real bot runs in webhook mode against the sandbox.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.sandbox import Sandbox
from bot.settings import Settings
from storage.tracking import format_tracking_number
from tests.databases import Database
from tests.following import Desk
from tests.harness import query, webhook_bot, webhook_settings
from tests.staff_desk import ADMIN, CITIZEN, HANDLER, SUPERVISOR, add_team
from tests.web_desk import browser, get, sign_in_link
from tests.webhook_desk import HEADER, SECRET, inbox_ids, private_update

USER = 3_701


@pytest.fixture
async def hook(sandbox: Sandbox, db_path: Database) -> AsyncIterator[Settings]:
    settings = webhook_settings(sandbox, db_path, SECRET)
    async with webhook_bot(settings, sandbox, db_path):
        yield settings


async def raw_post(settings: Settings, body: bytes, secret: bytes) -> tuple[int, Any]:
    """POST bytes to the webhook over a bare socket: headers exactly as given, as a forger
    would send them (an HTTP client library encodes or refuses what is not text)."""
    assert settings.webhook_url
    host, port = settings.webhook_listen.rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    head = (
        f"POST {settings.webhook_path} HTTP/1.1\r\nHost: {host}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n"
    ).encode()
    writer.write(head + HEADER.encode() + b": " + secret + b"\r\n\r\n" + body)
    await writer.drain()
    answer = await reader.read()
    writer.close()
    status_line, _, rest = answer.partition(b"\r\n")
    payload = rest.partition(b"\r\n\r\n")[2]
    return int(status_line.split()[1]), json.loads(payload)


async def refused(settings: Settings, body: bytes, status: int = 400) -> str:
    """POST with the right secret; assert `status`, a JSON refusal; its description."""
    code, answer = await raw_post(settings, body, SECRET.encode())
    assert code == status, (body[:80], code, answer)
    assert answer["ok"] is False
    return str(answer["description"])


async def still_works(settings: Settings, db_path: Database, sandbox: Sandbox) -> None:
    """Nothing was stored; the next real update is stored and answered."""
    assert inbox_ids(db_path) == []
    code, _ = await raw_post(
        settings, json.dumps(private_update(10, USER, "/start")).encode(), SECRET.encode()
    )
    assert code == 200
    await sandbox.wait_for_messages(USER, 1, timeout=10)
    assert inbox_ids(db_path) == [10]


async def test_a_secret_header_that_is_not_utf8_is_refused(
    hook: Settings, db_path: Database, sandbox: Sandbox
) -> None:
    body = json.dumps(private_update(1, USER, "/start")).encode()
    for secret in (b"\xff\xfe", "秘密".encode("gbk"), SECRET.encode() + b"\xe9"):
        code, answer = await raw_post(hook, body, secret)
        assert (code, answer) == (403, {"ok": False, "description": "forbidden"})
    await still_works(hook, db_path, sandbox)


async def test_bodies_that_are_not_an_object_are_refused(
    hook: Settings, db_path: Database, sandbox: Sandbox
) -> None:
    for body in (b"[]", b'[{"update_id": 1}]', b'"hello"', b"42", b"null", b"true"):
        assert await refused(hook, body) == "not an update: an update is a JSON object"
    assert await refused(hook, b"{") == "not an update: not JSON"
    assert await refused(hook, b'{"update_id": 1, "x": "\xc3\x28"}') == "not an update: not JSON"
    await still_works(hook, db_path, sandbox)


async def test_deep_nesting_is_refused(
    hook: Settings, db_path: Database, sandbox: Sandbox
) -> None:
    deep = b'{"update_id": 2, "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    assert await refused(hook, deep) == "not an update: nested too deeply"
    # Within what the JSON decoder takes, but deeper than any update Telegram sends.
    nested = b'{"update_id": 3, "x": ' + b'{"a": ' * 200 + b"1" + b"}" * 200 + b"}"
    assert await refused(hook, nested) == "not an update: nested too deeply"
    await still_works(hook, db_path, sandbox)


@pytest.mark.parametrize(
    ("update_id", "why"),
    [
        (10**30, "update_id out of range"),
        (2**63, "update_id out of range"),
        (-1, "update_id out of range"),
        (1.5, "an update needs an integer update_id"),
        (True, "an update needs an integer update_id"),
        ("5", "an update needs an integer update_id"),
        (None, "an update needs an integer update_id"),
    ],
)
async def test_an_update_id_no_column_holds_is_refused_at_once(
    hook: Settings, db_path: Database, sandbox: Sandbox, update_id: object, why: str
) -> None:
    """A huge update_id once failed every store with 503, and Telegram retries a 503 for a
    day; it, and every other update_id that is not a storable integer, is refused now."""
    body = json.dumps({**private_update(4, USER, "/start"), "update_id": update_id})
    assert await refused(hook, body.encode()) == f"not an update: {why}"
    await still_works(hook, db_path, sandbox)


async def test_a_chat_id_or_a_number_no_database_holds_is_refused(
    hook: Settings, db_path: Database, sandbox: Sandbox
) -> None:
    update = private_update(5, USER, "/start")
    update["message"]["chat"]["id"] = 10**30
    why = await refused(hook, json.dumps(update).encode())
    assert why == "not an update: chat id out of range"
    for constant in (b"NaN", b"Infinity", b"-Infinity"):
        body = b'{"update_id": 6, "x": ' + constant + b"}"
        assert await refused(hook, body) == "not an update: not JSON"
    await still_works(hook, db_path, sandbox)


async def test_an_oversized_body_is_refused_with_413(
    hook: Settings, db_path: Database, sandbox: Sandbox
) -> None:
    body = json.dumps({**private_update(7, USER, "/start"), "pad": "x" * 2_000_000}).encode()
    assert await refused(hook, body, 413) == "the body is too large"
    await still_works(hook, db_path, sandbox)


# -- the dashboard -------------------------------------------------------------------------------


@pytest.fixture
async def web_desk(sandbox: Sandbox, db_path: Database) -> AsyncIterator[tuple[Desk, str]]:
    settings = webhook_settings(sandbox, db_path, SECRET, MINSHENG_ADMIN_IDS=str(ADMIN))
    async with webhook_bot(settings, sandbox, db_path) as runtime:
        yield Desk(sandbox, runtime, db_path), f"http://{settings.webhook_listen}"


OVERFLOWING = (
    "9999-12",
    "9999-12-31..9999-12-31",
    "0001-01-01..0001-01-01",
    "2026-01-01..10000-01-01",
    "99999-01",
)


def changes(db_path: Database) -> list[tuple[Any, ...]]:
    """Everything a page view could change: cases, events, the outbox."""
    return [
        query(db_path, f"SELECT count(*) FROM {table}")[0]  # noqa: S608
        for table in ("service_case", "case_event", "outbox_message")
    ]


async def test_statistics_refuse_a_period_that_cannot_be_represented(
    web_desk: tuple[Desk, str],
) -> None:
    """A supervisor gets 400 and the usual hint; a handler gets 403 before the period is even
    read (no 500 for either); nothing changes but the handler's denials in the access log."""
    d, base = web_desk
    await add_team(d)
    await d.file_case(CITIZEN)
    before = changes(d.db_path)
    async with await browser(await sign_in_link(d, SUPERVISOR)) as supervisor:
        for period in OVERFLOWING:
            for path in ("/web/stats", "/web/stats/chart/0.png"):
                status, page = await get(supervisor, f"{base}{path}?period={period}")
                assert status == 400, (path, period, page[:200])
                assert "Please give the period as today, week, month, YYYY-MM or FROM..TO." in page
        # The last representable days still make a report.
        status, _ = await get(supervisor, f"{base}/web/stats?period=9998-12-31..9998-12-31")
        assert status == 200
    after_signing_in = changes(d.db_path)
    denials = "SELECT count(*) FROM access_denial WHERE user_id = ?"
    async with await browser(await sign_in_link(d, HANDLER)) as handler:
        for period in OVERFLOWING:
            status, _ = await get(handler, f"{base}/web/stats?period={period}")
            assert status == 403, period
    assert query(d.db_path, denials, (HANDLER,)) == [(len(OVERFLOWING),)]
    # Signing in sends a link (outbox rows); the pages themselves changed nothing.
    assert changes(d.db_path)[:2] == before[:2] == after_signing_in[:2]
    # The bot's /stats reads periods the same way: the usage line, not an error.
    usage = "Usage: /stats [today|week|month|YYYY-MM|FROM..TO] [department code]"
    for period in OVERFLOWING[:2]:
        count = len(d.sandbox.messages(SUPERVISOR)) + 1
        assert (await d.say(SUPERVISOR, f"/stats {period}", count))["text"] == usage


PHOTOS = {
    "jpeg": (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
    "png": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image/png"),
    "webp": (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "image/webp"),
    "html": (b"<html><script>alert(document.cookie)</script></html>", None),
    "svg": (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', None),
}


async def test_the_photo_route_serves_images_only_and_never_as_a_page(
    web_desk: tuple[Desk, str],
) -> None:
    d, base = web_desk
    await add_team(d)
    stored = [d.sandbox.world.store_file("photo", data).file_id for data, _ in PHOTOS.values()]
    case = await d.file_case(CITIZEN, photos=tuple(stored))
    number = format_tracking_number(case.tracking)
    async with await browser(await sign_in_link(d, SUPERVISOR)) as staff:
        for index, (name, (data, kind)) in enumerate(PHOTOS.items()):
            async with staff.get(f"{base}/web/case/{number}/photo/{index}") as answer:
                assert answer.status == 200, name
                assert await answer.read() == data
                headers = answer.headers
            assert headers["X-Content-Type-Options"] == "nosniff", name
            assert headers["Content-Security-Policy"] == "default-src 'none'; sandbox", name
            assert headers["Cache-Control"] == "no-store", name
            if kind is not None:
                assert headers["Content-Type"] == kind, name
                assert "Content-Disposition" not in headers, name
            else:
                assert headers["Content-Type"] == "application/octet-stream", name
                assert headers["Content-Disposition"].startswith("attachment"), name
