"""Publication by consent on the staff dashboard, over real HTTP: the phone form's consent tick
box, and the case page's Publish form: only for an answered case whose citizen agreed, only for
staff who may publish it (the same department limits as every other case action, audited),
drafted from the request with its personal data highlighted, refused while a phone number is
left; Unpublish takes it off Open311 at once. Both are events with the staff member's id."""

from __future__ import annotations

import html
import json
import re
from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.sandbox import Sandbox
from storage.lifecycle import accept_case, submit_reply
from storage.publication_draft import draft_of
from storage.tracking import format_tracking_number
from tests.databases import Database
from tests.following import Desk
from tests.harness import query, webhook_bot, webhook_settings
from tests.staff_desk import ADMIN, CITIZEN, HANDLER, add_team
from tests.web_desk import browser, csrf_of, get, post, sign_in_link

SECRET = "publication-secret"
OTHER = 72_005  # a handler of another department
CALLER_SAYS = "来电：王小明（13912345678）说三号楼暖气不热，室内只有十四度。"
ANSWER = "热力公司已派维修工（电话 0451-8765 4321）排查管道，暖气已恢复。"
PUBLIC_TITLE = "暖气不热：居民楼室温只有十四度"
PUBLIC_TEXT = "居民反映楼内暖气不热，室内只有十四度。热力公司已排查管道，暖气已恢复。"
PUBLIC_NOTE = "热力公司已排查管道。"


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
        "SELECT publish_consent, public_title, public_text, public_note, published_by"
        " FROM service_case WHERE tracking = ?",
        (number.replace("-", ""),),
    )[0]


async def answer(d: Desk, number: str) -> None:
    """The admin accepts the case for the heating company and answers it (no review)."""
    now, zone = d.runtime.services.clock.now(), d.runtime.services.settings.zone
    await accept_case(number, "heating-company", by=ADMIN, now=now, zone=zone)
    await submit_reply(number, ANSWER, by=ADMIN, now=now)


async def test_phone_intake_records_the_callers_consent(web_desk: tuple[Desk, str]) -> None:
    """Private by default; the tick box records that the caller agreed to publish."""
    d, base = web_desk
    async with await browser(await sign_in_link(d, ADMIN)) as admin:
        _, page = await get(admin, f"{base}/web/new")
        assert 'type="checkbox" id="consent" name="consent" value="yes"' in page
        private = await phone_case(admin, base, consent=False)
        public = await phone_case(admin, base, consent=True)
    assert publication(d, private) == (0, None, None, None, None)
    assert publication(d, public) == (1, None, None, None, None)


async def test_the_drafted_title_reads_in_the_requests_language(
    web_desk: tuple[Desk, str],
) -> None:
    """Whoever drafts it, the title is the category's name and the request's first sentence in
    one language, with the punctuation of that language."""
    d, _ = web_desk
    said = {
        "三号楼暖气不热，室内只有十四度。": "不供暖或暖气不热：三号楼暖气不热，室内只有十四度",
        "三號樓暖氣不熱，室內只有十四度。": "不供暖或暖氣不熱：三號樓暖氣不熱，室內只有十四度",
        "Батареи холодные третий день.": "Нет отопления или батареи еле тёплые: Батареи холодные",
        "The radiators are cold. Since Monday.": "No heating or radiators not warm: The radiators",
    }
    for number, (text, title) in enumerate(said.items()):
        case = await d.file_case(CITIZEN + number, text=text, category="heating.no-heat")
        for staff_language in ("en", "zh_Hans", "zh_Hant", "ru"):
            drafted = (await draft_of(case.tracking, staff_language)).title
            assert drafted.startswith(title), (drafted, staff_language)


async def test_the_publish_form(web_desk: tuple[Desk, str]) -> None:
    """No form without consent (and 409), nor before an answer; another department's handler
    is refused (403, in the access log); the case's handler gets a draft with the phone number
    highlighted, is refused while it is there (422), publishes a clean text (Open311 shows it,
    none of the caller's words), and unpublishes it with a confirmation (Open311: 404)."""
    d, base = web_desk
    await add_team(d)
    await d.say(ADMIN, f"/staff add {OTHER} handler gas-company", 2)
    chat = format_tracking_number((await d.file_case(CITIZEN)).tracking)
    async with await browser(await sign_in_link(d, ADMIN)) as admin:
        number = await phone_case(admin, base, consent=True)
    clean = {"public_title": PUBLIC_TITLE, "public_text": PUBLIC_TEXT, "public_note": PUBLIC_NOTE}
    open311 = f"{base}/open311/v2/requests/{number}.json"
    async with await browser(await sign_in_link(d, HANDLER)) as handler:
        _, page = await get(handler, f"{base}/web/case/{number}")
        assert "the request has no answer yet" in page
        assert 'name="public_text"' not in page
        status, page = await post(
            handler, f"{base}/web/publication/{number}", {"csrf": csrf_of(page), **clean}
        )
        assert status == 409, page
        await answer(d, number)
        _, page = await get(handler, f"{base}/web/case/{chat}")
        assert "The citizen did not agree to publish this request" in page
        assert 'name="public_text"' not in page
        token = csrf_of(page)
        status, page = await post(
            handler, f"{base}/web/publication/{chat}", {"csrf": token, **clean}
        )
        assert status == 409
        assert "did not agree to publish" in page
        _, page = await get(handler, f"{base}/web/case/{number}")
        assert "The citizen agreed to publish this request without their name." in page
        text = re.search(r'name="public_text"[^>]*>([^<]*)</textarea>', page)
        assert text is not None
        note = re.search(r'name="public_note"[^>]*>([^<]*)</textarea>', page)
        assert note is not None
        # The draft: the request as the text, the answer as the note.
        assert html.unescape(text.group(1)) == CALLER_SAYS
        assert html.unescape(note.group(1)) == ANSWER
        # The title in the request's language (a phone case: its text's), whatever the staff's.
        assert 'value="不供暖或暖气不热：来电：王小明（13912345678）' in page
        assert "<mark>13912345678</mark>" in page
        assert "<mark>0451-8765 4321</mark>" in page
        drafted = {
            "csrf": token,
            "public_title": "暖气不热",
            "public_text": html.unescape(text.group(1)),
            "do": "publish",
        }
        status, page = await post(handler, f"{base}/web/publication/{number}", drafted)
        assert status == 422
        assert "still hold a phone number or an ID number" in page
        assert "<mark>13912345678</mark>" in page  # the texts sent, highlighted again
        assert publication(d, number) == (1, None, None, None, None)
        status, _ = await post(handler, f"{base}/web/publication/{number}", clean)
        assert status == 403  # no CSRF token
    async with await browser(await sign_in_link(d, OTHER)) as other:
        status, page = await get(other, f"{base}/web/case/{number}")
        assert status == 403
        status, _ = await post(
            other, f"{base}/web/publication/{number}", {"csrf": csrf_of(page), **clean}
        )
        assert status == 403
        status, _ = await post(
            other,
            f"{base}/web/publication/{number}/unpublish",
            {"csrf": csrf_of(page), "confirm": "yes"},
        )
        assert status == 403
    assert query(
        d.db_path,
        "SELECT count(*) FROM access_denial WHERE user_id = ? AND action = 'publish'",
        (OTHER,),
    ) == [(2,)]
    async with aiohttp.ClientSession() as stranger:
        status, _ = await post(stranger, f"{base}/web/publication/{number}", clean)
        assert status == 401
        status, _ = await get(stranger, open311)
        assert status == 404
    async with await browser(await sign_in_link(d, HANDLER)) as handler:
        _, page = await get(handler, f"{base}/web/case/{number}")
        token = csrf_of(page)
        status, page = await post(
            handler,
            f"{base}/web/publication/{number}",
            {"csrf": token, **clean, "do": "check"},
        )
        assert status == 200
        assert "<mark>" not in page
        assert publication(d, number)[4] is None  # checked, not published
        status, page = await post(
            handler, f"{base}/web/publication/{number}", {"csrf": token, **clean, "do": "publish"}
        )
        assert status == 200, page  # back on the case page
        assert "Published on" in page
        assert "Unpublish the request" in page
        assert publication(d, number) == (1, PUBLIC_TITLE, PUBLIC_TEXT, PUBLIC_NOTE, HANDLER)
        async with aiohttp.ClientSession() as stranger:
            status, body = await get(stranger, open311)
        assert status == 200
        [shown] = json.loads(body)
        assert shown["description"] == f"{PUBLIC_TITLE}\n\n{PUBLIC_TEXT}"
        assert shown["status_notes"] == PUBLIC_NOTE
        read = json.dumps(shown, ensure_ascii=False)
        for private in ("13912345678", "王小明", "三号楼", "0451"):
            assert private not in read
        unpublish = f"{base}/web/publication/{number}/unpublish"
        status, _ = await post(handler, unpublish, {"csrf": token, "reason": "再核实"})
        assert status == 400  # not confirmed
        status, page = await post(
            handler, unpublish, {"csrf": token, "reason": "再核实", "confirm": "yes"}
        )
        assert status == 200
        assert "Not published yet." in page
        assert publication(d, number) == (1, PUBLIC_TITLE, PUBLIC_TEXT, PUBLIC_NOTE, None)
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
