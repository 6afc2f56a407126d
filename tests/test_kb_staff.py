"""The knowledge base on the staff side, end to end: /kb in the bot, a reply that quotes an
article (in the citizen's language, through review), the phone page's suggestions and "Answered
on the call", the article pages with their history and who may edit, and the digest's list of
articles past their review-by date. The real bot over the sandbox; the dashboard over HTTP."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.sandbox import Sandbox
from storage.citizens import choose_language
from storage.kb_load import load_knowledge
from storage.lifecycle import accept_case
from storage.tracking import format_tracking_number
from tests.databases import Database
from tests.following import OPEN_SENDS, Desk, buttons
from tests.harness import eventually, query, webhook_bot, webhook_settings
from tests.staff_desk import ADMIN, CITIZEN, DENIED, HANDLER, SUPERVISOR, add_team
from tests.web_desk import browser, csrf_of, get, post, sign_in_link

SECRET = "kb-staff-secret"
OTHER = 72_005  # a handler of the gas company
ARTICLES = Path(__file__).parent / "data" / "kb_staff.toml"
START_EN = "The heating season runs from 20 October to 20 April."
START_ZH = "本市供暖期为每年10月20日至次年4月20日。"


@pytest.fixture
async def web_desk(sandbox: Sandbox, db_path: Database) -> AsyncIterator[tuple[Desk, str]]:
    settings = webhook_settings(sandbox, db_path, SECRET, MINSHENG_ADMIN_IDS=str(ADMIN))
    async with webhook_bot(settings, sandbox, db_path) as runtime:
        await load_knowledge(ARTICLES, default_language="en", now=datetime.now(UTC))
        yield Desk(sandbox, runtime, db_path), f"http://{settings.webhook_listen}"


async def said(d: Desk, user_id: int, text: str) -> dict[str, Any]:
    """Send a private message; the one bot message it brings."""
    return await d.say(user_id, text, len(d.sandbox.messages(user_id)) + 1)


def article_row(d: Desk, code: str) -> tuple[object, ...]:
    return query(d.db_path, "SELECT version, titles FROM kb_article WHERE code = ?", (code,))[0]


def version_of(page: str) -> str:
    """The version the page's edit form was opened at (its hidden field)."""
    found = re.search(r'<input type="hidden" name="version" value="(\d+)">', page)
    assert found, "the edit form carries its version"
    return found.group(1)


async def test_kb_searches_and_opens_an_article(web_desk: tuple[Desk, str]) -> None:
    """/kb lists the matching articles with a button each; the button opens the article in
    full (owner, review-by date, votes); a citizen is refused like any staff command."""
    d, _ = web_desk
    await add_team(d)
    found = await said(d, HANDLER, "/kb when does the heating season start")
    assert found["text"].startswith("Articles for “when does the heating season start”:")
    assert "• kb-heating-start — When does the heating season start?" in found["text"]
    assert ("When does the heating season start?", "skb:kb-heating-start") in buttons(found)
    count = len(d.sandbox.messages(HANDLER))
    d.sandbox.press_button(HANDLER, HANDLER, found["message_id"], "skb:kb-heating-start")
    opened = (await d.sandbox.wait_for_messages(HANDLER, count + 1, timeout=10))[-1]["text"]
    assert opened.startswith("When does the heating season start?\n\n" + START_EN)
    assert "Code: kb-heating-start" in opened
    assert "Review by: 2035-09-30" in opened
    assert "Citizens found it helpful: 0; not helpful: 0" in opened
    assert "Owning department: " in opened
    assert (await said(d, HANDLER, "/kb"))["text"] == "Usage: /kb <words>"
    nothing = await said(d, HANDLER, "/kb zebra crossing paint")
    assert nothing["text"] == "No article matches “zebra crossing paint”."
    await choose_language(HANDLER, "zh_Hans")  # in the staff member's own language
    chinese = await said(d, HANDLER, "/kb 暖气什么时候供暖")
    assert "kb-heating-start — 供暖期什么时候开始？" in chinese["text"]
    assert (await said(d, CITIZEN, "/kb heating season"))["text"] == DENIED


async def test_a_reply_quotes_an_article_in_the_citizens_language(
    web_desk: tuple[Desk, str],
) -> None:
    """`/reply N kb:<code> more words` goes to review like any reply and reaches the citizen
    as the article in their language (zh_Hans) with the words after it; an unknown code is
    refused and changes nothing; the dashboard's picker fills the reply box the same way."""
    d, base = web_desk
    await add_team(d)
    case = await d.file_case(CITIZEN, category="heating.no-heat")
    zone = d.runtime.services.settings.zone
    await accept_case(case.tracking, "heating-company", by=ADMIN, now=datetime.now(UTC), zone=zone)
    await eventually(lambda: not query(d.db_path, OPEN_SENDS), 10, what="the notices sent")
    number = format_tracking_number(case.tracking)
    state = "SELECT status, version FROM service_case WHERE tracking = ?"
    before = query(d.db_path, state, (case.tracking,))
    refused = await said(d, HANDLER, f"/reply {number} kb:no-such-article")
    assert (
        refused["text"] == "There is no article with the code “no-such-article”. Nothing was sent."
    )
    assert query(d.db_path, state, (case.tracking,)) == before
    assert (await said(d, CITIZEN, f"/reply {number} kb:kb-heating-start"))["text"] == DENIED
    await choose_language(CITIZEN, "zh_Hans")
    citizen_count = len(d.sandbox.messages(CITIZEN))
    # The dashboard's picker, while the case takes a reply (an answered one offers no reply box).
    async with await browser(await sign_in_link(d, HANDLER)) as handler:
        status, page = await get(handler, f"{base}/web/case/{number}?kb=kb-heating-start")
        assert status == 200
        own = page.index('<optgroup label="This case&#39;s category">')
        assert own < page.index('<option value="kb-heating-start" selected>')
        assert page.index('<option value="kb-heating-start"') < page.index("Other articles")
        found = re.search(r'<textarea id="reply-text"[^>]*>([^<]*)</textarea>', page)
        assert found
        assert START_ZH in found.group(1)
    sent = await said(d, HANDLER, f"/reply {number} kb:kb-heating-start 如仍不热请再联系我们。")
    assert sent["text"] == f"Your reply to {number} was sent for review."
    approved = await said(d, SUPERVISOR, f"/approve {number}")
    assert approved["text"].startswith(f"The reply to {number} was approved")
    told = await d.sandbox.wait_for_messages(CITIZEN, citizen_count + 1, timeout=10)
    assert START_ZH in told[-1]["text"]
    assert "如仍不热请再联系我们。" in told[-1]["text"]
    assert START_EN not in told[-1]["text"]


async def test_the_phone_page_suggests_and_records_an_answer(web_desk: tuple[Desk, str]) -> None:
    """ "Find answers" keeps what was typed and lists the articles beside it (the script's JSON
    route gives the same, to staff only); "Answered on the call" records a phone offer decided
    as answered, with no case filed."""
    d, base = web_desk
    cases = query(d.db_path, "SELECT count(*) FROM service_case")
    says = "The caller asks: when does the heating season start? The radiators are cold."
    async with await browser(await sign_in_link(d, ADMIN)) as admin:
        async with admin.get(f"{base}/web/new") as answer:  # its one script, from here only
            assert "script-src 'self'" in answer.headers["Content-Security-Policy"]
            page = await answer.text()
        form = {
            "csrf": csrf_of(page),
            "kind": "inquiry",
            "category": "heating.no-heat",
            "text": says,
            "address": "",
            "phone": "",
        }
        status, page = await post(admin, f"{base}/web/new", {**form, "action": "find"})
        assert status == 200
        assert f">{says}</textarea>" in page
        assert 'name="article" value="kb-heating-start" checked' in page
        assert "When does the heating season start?" in page
        # The script's route: what the caller says is posted with the page's token, never
        # put in a URL; without the token, or with a wrong one, nothing is searched.
        asked = {"q": "heating season start"}
        async with admin.post(f"{base}/web/kb-suggest", data={**asked, "csrf": form["csrf"]}) as r:
            assert r.status == 200
            assert (await r.json())[0]["code"] == "kb-heating-start"
        for token in ({}, {"csrf": "0" * 64}):
            async with admin.post(f"{base}/web/kb-suggest", data={**asked, **token}) as r:
                assert (r.status, r.content_type) == (403, "application/json")
        async with admin.get(f"{base}/web/kb-suggest", params=asked) as r:
            assert r.status == 405  # no GET: the words would be in the URL
        status, page = await post(
            admin,
            f"{base}/web/new",
            {**form, "action": "answered", "article": "kb-heating-start"},
        )
        assert status == 200
        assert "the call was answered on the spot with “When does the heating season start?”" in (
            page
        )
        assert f">{says}</textarea>" not in page  # the form is cleared for the next call
        # The next caller is not answered by the articles: the case is filed anyway.
        status, page = await post(admin, f"{base}/web/new", {**form, "action": "find"})
        assert 'name="looked" value="1"' in page
        status, page = await post(
            admin, f"{base}/web/new", {**form, "action": "file", "looked": "1"}
        )
        assert status == 200
        assert "Tracking number: " in page
    async with (  # JSON, not the sign-in page
        aiohttp.ClientSession() as stranger,
        stranger.post(f"{base}/web/kb-suggest", data={"q": "heating"}) as r,
    ):
        assert (r.status, r.content_type) == (401, "application/json")
    offers = query(
        d.db_path,
        "SELECT channel, outcome, answered_by, case_id IS NULL, staff_id FROM kb_offer"
        " ORDER BY id",
    )
    assert offers == [
        ("phone", "answered", "kb-heating-start", True, ADMIN),
        ("phone", "filed", None, False, ADMIN),
    ]
    assert query(d.db_path, "SELECT count(*) FROM service_case") == [(cases[0][0] + 1,)]


async def test_article_pages_edits_and_history(web_desk: tuple[Desk, str]) -> None:
    """The list puts the article past its review-by date first, flagged (and the queue page
    counts it); the owning department's handler saves version 2, shown in the history; a
    handler of another department reads it but is refused an edit (403, nothing changed)."""
    d, base = web_desk
    await add_team(d)
    await said(d, ADMIN, f"/staff add {OTHER} handler gas-company")
    async with await browser(await sign_in_link(d, HANDLER)) as handler:
        status, page = await get(handler, f"{base}/web/kb")
        assert status == 200
        codes = re.findall(r'<a href="/web/kb/([a-z0-9.-]+)">', page)
        assert codes[0] == "kb-heating-fee"
        assert "past review-by date" in page
        _, queue = await get(handler, f"{base}/web/")
        assert "1 knowledge-base article is past its review-by date." in queue
        status, page = await get(handler, f"{base}/web/kb/kb-heating-start")
        assert status == 200
        assert 'id="edit"' in page
        form = {
            "csrf": csrf_of(page),
            "version": version_of(page),
            "title_en": "When does the heating season begin?",
            "body_en": START_EN + " Ask your building manager for the exact day.",
            "keywords_en": "heating season, heating start",
            "title_zh_Hans": "供暖期什么时候开始？",
            "body_zh_Hans": START_ZH,
            "keywords_zh_Hans": "供暖，暖气",
            "review_by": "2036-01-31",
        }
        status, page = await post(handler, f"{base}/web/kb/kb-heating-start", form)
        assert status == 200
        assert "Saved as version 2." in page
        assert "When does the heating season begin?" in page
        history = page[page.index('id="history"') :]
        assert history.index("Version 2") < history.index("Version 1")
        assert "edited on the dashboard" in history
        assert "loaded from a file" in history
        assert str(HANDLER) in history
    version, titles = article_row(d, "kb-heating-start")
    assert version == 2
    revisions = query(
        d.db_path,
        "SELECT r.version, r.source, r.by_staff FROM kb_revision r JOIN kb_article a"
        " ON a.id = r.article_id WHERE a.code = ? ORDER BY r.version",
        ("kb-heating-start",),
    )
    assert revisions == [(1, "file", None), (2, "dashboard", HANDLER)]
    async with await browser(await sign_in_link(d, OTHER)) as other:
        status, page = await get(other, f"{base}/web/kb/kb-heating-start")
        assert status == 200
        assert 'id="edit"' not in page
        assert 'id="read-only"' in page
        status, _ = await post(
            other,
            f"{base}/web/kb/kb-heating-start",
            {**form, "csrf": csrf_of(page), "title_en": "Changed by the gas company"},
        )
        assert status == 403
        status, _ = await post(other, f"{base}/web/kb/kb-heating-start", form)
        assert status == 403  # no CSRF token
        _, queue = await get(other, f"{base}/web/")
        assert "past its review-by date" not in queue  # the gas company's articles are current
    assert article_row(d, "kb-heating-start") == (version, titles)


async def test_two_editors_and_unclean_texts(web_desk: tuple[Desk, str]) -> None:
    """Two editors open version 1; the first saves version 2; the second's save is refused
    (409, told so, their text kept in the form, nothing changed). A text holding a control
    character is refused with a clear line; a bidi override is dropped; the desk's language
    (English here) needs its title and body."""
    d, base = web_desk
    await add_team(d)
    url = f"{base}/web/kb/kb-heating-start"
    async with (
        await browser(await sign_in_link(d, HANDLER)) as first,
        await browser(await sign_in_link(d, ADMIN)) as second,
    ):
        _, mine = await get(first, url)
        _, theirs = await get(second, url)
        assert version_of(mine) == version_of(theirs) == "1"
        base_form = {"review_by": "2036-01-31", "body_en": START_EN, "title_zh_Hans": "供暖期"}
        base_form["body_zh_Hans"] = START_ZH
        status, page = await post(
            first,
            url,
            {**base_form, "csrf": csrf_of(mine), "version": "1", "title_en": "First editor"},
        )
        assert (status, "Saved as version 2." in page) == (200, True)
        saved = article_row(d, "kb-heating-start")
        stale = {**base_form, "csrf": csrf_of(theirs), "version": "1", "title_en": "Second editor"}
        status, page = await post(second, url, stale)
        assert status == 409
        assert "Someone else saved version 2 of this article while you were editing" in page
        assert 'value="Second editor"' in page  # what they typed is kept
        assert version_of(page) == "2"  # a second save, after comparing, is deliberate
        assert article_row(d, "kb-heating-start") == saved
        again = {**stale, "version": "2"}
        for field, value in (("body_en", START_EN + "\x00"), ("keywords_en", "heat\x1b[31m")):
            status, page = await post(second, url, {**again, field: value})
            assert status == 400
            assert "holds an invisible control character" in page
        assert article_row(d, "kb-heating-start") == saved
        status, page = await post(second, url, {**again, "title_en": "", "body_en": ""})
        assert status == 400
        assert "The desk&#39;s language (English) needs a title and a text" in page
        assert article_row(d, "kb-heating-start") == saved
        status, page = await post(second, url, {**again, "title_en": "Second\u202e editor"})
        assert (status, "Saved as version 3." in page) == (200, True)
    version, titles = article_row(d, "kb-heating-start")
    assert version == 3
    assert json.loads(str(titles))["en"] == "Second editor"  # the override is gone


async def test_the_digest_lists_articles_past_review(web_desk: tuple[Desk, str]) -> None:
    """The weekly digest names the articles past their review-by date, with their owners."""
    d, _ = web_desk
    await add_team(d)
    await d.file_case(CITIZEN)
    digest = await said(d, SUPERVISOR, "/digest")
    text = digest["text"]
    assert "Knowledge-base articles past their review-by date:" in text
    assert "• How much is the heating fee? (kb-heating-fee)" in text
    assert "review by 2024-01-31" in text
    assert "kb-heating-start" not in text
