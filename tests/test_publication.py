"""Publication by consent on the staff dashboard, over real HTTP: the phone form's consent tick
box, and the case page's form where staff write or approve the public text and note, with the
same department limits as every other case action, audited; Open311 then shows that text."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.sandbox import Sandbox
from storage.tracking import format_tracking_number
from tests.databases import Database
from tests.following import Desk
from tests.harness import query, webhook_bot, webhook_settings
from tests.staff_desk import ADMIN, CITIZEN, HANDLER, add_team
from tests.web_desk import browser, csrf_of, get, post, sign_in_link

SECRET = "publication-secret"
OTHER = 72_005  # a handler of another department
CALLER_SAYS = "来电：王小明（13912345678）说三号楼暖气不热，室内只有十四度。"
PUBLIC_TEXT = "A building's heating is not warm enough."
PUBLIC_NOTE = "The heating company checked the pipes."


@pytest.fixture
async def web_desk(sandbox: Sandbox, db_path: Database) -> AsyncIterator[tuple[Desk, str]]:
    settings = webhook_settings(sandbox, db_path, SECRET, MINSHENG_ADMIN_IDS=str(ADMIN))
    async with webhook_bot(settings, sandbox, db_path) as runtime:
        yield Desk(sandbox, runtime, db_path), f"http://{settings.webhook_listen}"


async def phone_case(session: aiohttp.ClientSession, base: str, *, consent: bool) -> str:
    """File a caller's case on the phone form; its tracking number."""
    _, page = await get(session, f"{base}/web/new")
    form = {
        "csrf": csrf_of(page),
        "kind": "complaint",
        "category": "heating.no-heat",
        "text": CALLER_SAYS,
        "address": "三号楼",
        "phone": "13912345678",
    }
    status, page = await post(
        session, f"{base}/web/new", {**form, "consent": "yes"} if consent else form
    )
    assert status == 200, page
    found = re.search(r"Tracking number: (\S+)</p>", page)
    assert found
    return found.group(1)


def publication(d: Desk, number: str) -> tuple[object, ...]:
    return query(
        d.db_path,
        "SELECT publish_consent, public_text, public_note FROM service_case WHERE tracking = ?",
        (number.replace("-", ""),),
    )[0]


async def test_phone_intake_records_the_callers_consent(web_desk: tuple[Desk, str]) -> None:
    """Private by default; the tick box records that the caller agreed to publish."""
    d, base = web_desk
    async with await browser(await sign_in_link(d, ADMIN)) as admin:
        _, page = await get(admin, f"{base}/web/new")
        assert 'type="checkbox" id="consent" name="consent" value="yes"' in page
        private = await phone_case(admin, base, consent=False)
        public = await phone_case(admin, base, consent=True)
    assert publication(d, private) == (0, None, None)
    assert publication(d, public) == (1, None, None)


async def test_the_publication_form(web_desk: tuple[Desk, str]) -> None:
    """Without the citizen's consent nothing can be published (409); a handler of another
    department is refused (403, in the access log); the case's own handler publishes a public
    text and note (a "published" event names them), which Open311 then shows instead of the
    caller's words; an empty public text withdraws it."""
    d, base = web_desk
    await add_team(d)
    await d.say(ADMIN, f"/staff add {OTHER} handler gas-company", 2)
    chat = format_tracking_number((await d.file_case(CITIZEN)).tracking)
    async with await browser(await sign_in_link(d, ADMIN)) as admin:
        number = await phone_case(admin, base, consent=True)
    form = {"public_text": PUBLIC_TEXT, "public_note": PUBLIC_NOTE}
    open311 = f"{base}/open311/v2/requests/{number}.json"
    async with await browser(await sign_in_link(d, OTHER)) as other:
        status, page = await get(other, f"{base}/web/case/{number}")
        assert status == 403
        status, _ = await post(
            other, f"{base}/web/publication/{number}", {"csrf": csrf_of(page), **form}
        )
        assert status == 403
    assert publication(d, number) == (1, None, None)
    assert query(
        d.db_path,
        "SELECT count(*) FROM access_denial WHERE user_id = ? AND action = 'publish'",
        (OTHER,),
    ) == [(1,)]
    async with await browser(await sign_in_link(d, HANDLER)) as handler:
        status, page = await get(handler, f"{base}/web/case/{chat}")
        assert status == 200
        assert "The citizen did not agree to publish this request" in page
        assert 'name="public_text"' not in page
        token = csrf_of(page)
        status, page = await post(
            handler, f"{base}/web/publication/{chat}", {"csrf": token, **form}
        )
        assert status == 409
        assert "did not agree to publish" in page
        assert publication(d, chat) == (0, None, None)
        status, page = await get(handler, f"{base}/web/case/{number}")
        assert "The citizen agreed to publish this request." in page
        assert 'name="public_text"' in page
        status, _ = await post(handler, f"{base}/web/publication/{number}", form)
        assert status == 403  # no CSRF token
        assert publication(d, number) == (1, None, None)
        async with aiohttp.ClientSession() as stranger:
            status, _ = await get(stranger, open311)
            assert status == 404
            status, _ = await post(stranger, f"{base}/web/publication/{number}", form)
            assert status == 401
        status, page = await post(
            handler, f"{base}/web/publication/{number}", {"csrf": token, **form}
        )
        assert status == 200, page  # back on the case page
        assert "Published: Open311 shows this public text and note." in page
        assert publication(d, number) == (1, PUBLIC_TEXT, PUBLIC_NOTE)
        async with aiohttp.ClientSession() as stranger:
            status, body = await get(stranger, open311)
        assert status == 200
        assert PUBLIC_TEXT in body
        assert PUBLIC_NOTE in body
        assert "13912345678" not in body
        assert "王小明" not in body
        assert "三号楼" not in body
        withdraw = {"csrf": token, "public_text": "", "public_note": ""}
        status, page = await post(handler, f"{base}/web/publication/{number}", withdraw)
        assert status == 200
        assert publication(d, number) == (1, None, None)
    async with aiohttp.ClientSession() as stranger:
        status, _ = await get(stranger, open311)
        assert status == 404
    events = query(
        d.db_path,
        "SELECT e.kind, e.actor_id FROM case_event e JOIN service_case c"
        " ON c.id = e.case_id WHERE c.tracking = ? AND e.kind LIKE '%published'"
        " ORDER BY e.id",
        (number.replace("-", ""),),
    )
    assert events == [("published", HANDLER), ("unpublished", HANDLER)]
