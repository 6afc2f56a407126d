"""Dashboard sign-in secrets at rest, and what a stranger can send them: the /web link leaves
the outbox once sent, sessions are stored as hashes of the cookie's token, and a cookie or CSRF
token with characters we never issue is refused (4xx), never an error, changing nothing."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlparse

import aiohttp
import pytest

from bot.sandbox import Sandbox
from storage.outbox import SCRUBBED
from storage.tracking import format_tracking_number
from tests.databases import Database
from tests.following import Desk
from tests.harness import eventually, query, webhook_bot, webhook_settings
from tests.staff_desk import ADMIN, CITIZEN, SUPERVISOR, add_team
from tests.web_desk import browser, csrf_of, get, post, sign_in_link

SECRET = "web-session-secret"
SENT = "SELECT payload, status FROM outbox_message WHERE chat_id = ? ORDER BY id DESC LIMIT 1"


@pytest.fixture
async def web_desk(sandbox: Sandbox, db_path: Database) -> AsyncIterator[tuple[Desk, str]]:
    settings = webhook_settings(sandbox, db_path, SECRET, MINSHENG_ADMIN_IDS=str(ADMIN))
    async with webhook_bot(settings, sandbox, db_path) as runtime:
        yield Desk(sandbox, runtime, db_path), f"http://{settings.webhook_listen}"


def everything_stored(db_path: Database) -> str:
    """Every outbox payload and every session id, as one text."""
    payloads = [row[0] for row in query(db_path, "SELECT payload FROM outbox_message")]
    sessions = [row[0] for row in query(db_path, "SELECT id FROM web_session")]
    return "\n".join(payloads + sessions)


async def test_secrets_are_not_kept_in_the_clear(web_desk: tuple[Desk, str]) -> None:
    d, base = web_desk
    await add_team(d)
    link = await sign_in_link(d, SUPERVISOR)
    token = parse_qs(urlparse(link).query)["t"][0]
    await eventually(
        lambda: query(d.db_path, SENT, (SUPERVISOR,))[0][1] == "sent",
        10,
        what="the link recorded as sent",
    )
    assert json.loads(query(d.db_path, SENT, (SUPERVISOR,))[0][0]) == SCRUBBED
    assert token not in everything_stored(d.db_path)
    async with await browser(link) as staff:  # the link still works, once
        cookie = next(c.value for c in staff.cookie_jar if c.key == "minsheng_session")
        session = cookie.rpartition(".")[0]
        assert query(d.db_path, "SELECT id FROM web_session") == [
            (hashlib.sha256(session.encode()).hexdigest(),)
        ]
        assert session not in everything_stored(d.db_path)
        status, page = await get(staff, f"{base}/web/")
        assert status == 200
        token = csrf_of(page)
        await post(staff, f"{base}/web/logout", {"csrf": token})
        assert query(d.db_path, "SELECT count(*) FROM web_session WHERE ended_at IS NOT NULL") == [
            (1,)
        ]
    async with aiohttp.ClientSession(cookies={"minsheng_session": cookie}) as copy:
        assert (await get(copy, f"{base}/web/"))[0] == 401  # signed out everywhere


async def test_foreign_characters_in_the_cookie_or_the_token_are_refused(
    web_desk: tuple[Desk, str],
) -> None:
    d, base = web_desk
    await add_team(d)
    case = await d.file_case(CITIZEN)
    number = format_tracking_number(case.tracking)
    async with await browser(await sign_in_link(d, ADMIN)) as admin:
        status, page = await get(admin, f"{base}/web/case/{number}")
        assert status == 200
        token = csrf_of(page)
        cookie = next(c.value for c in admin.cookie_jar if c.key == "minsheng_session")
        events = query(d.db_path, "SELECT count(*) FROM case_event")
        form = {"department": "heating-company"}
        # Text we never issue; and bytes that are not UTF-8 at all, sent as the form's body.
        invalid = b"department=heating-company&csrf=%FF%FE" + b"%80" * 62
        for forged in ("é" * len(token), token[:-1] + "é", "令牌", invalid):
            data = forged if isinstance(forged, bytes) else {**form, "csrf": forged}
            async with admin.post(
                f"{base}/web/case/{number}/assign",
                data=data,
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            ) as answer:
                status, body = answer.status, await answer.text()
            assert status == 403, (forged, body)
            assert "The form had expired" in body
            async with admin.post(
                f"{base}/web/new",
                data=data,
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            ) as answer:
                assert answer.status == 403, (forged, answer.status)
        assert query(d.db_path, "SELECT count(*) FROM case_event") == events
        session = cookie.rpartition(".")[0]
        for forged in (
            f"{session}.{'é' * 64}",
            f"{session}é.{cookie.rpartition('.')[2]}",
            "☃.☃",
            "é",
        ):
            raw = f"minsheng_session={forged}".encode()
            async with (
                aiohttp.ClientSession() as stranger,
                stranger.get(
                    f"{base}/web/case/{number}", headers={"Cookie": raw.decode("latin-1")}
                ) as answer,
            ):
                assert answer.status == 401, (forged, answer.status)
                assert "Please sign in" in await answer.text()
        status, _ = await get(admin, f"{base}/web/case/{number}")
        assert status == 200  # the real session is untouched
        for forged in ({"csrf": "é" * len(token)}, b"csrf=%FF%FE"):  # not signed out
            async with admin.post(
                f"{base}/web/logout",
                data=forged,
                allow_redirects=False,
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            ) as answer:
                assert answer.status == 303
    assert query(d.db_path, "SELECT count(*) FROM web_session WHERE ended_at IS NULL") == [(1,)]
    async with aiohttp.ClientSession(cookies={"minsheng_session": cookie}) as copy:
        assert (await get(copy, f"{base}/web/case/{number}"))[0] == 200
