"""The knowledge base's staff pages in Debian's Chromium (Playwright), with the sample articles:
the phone page's script suggests articles as the call-taker types (posting the words, never in
a URL) and "Answered on the call" records the call; the owning department edits an article (a
new version in the history); the list flags what is past its review-by date. At 1280 and 390 px
nothing scrolls sideways. Screenshots go to tests/artifacts/kb-staff/ (git-ignored) for a person
to look at."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs

from playwright.async_api import Browser, Request

from bot.sandbox import Sandbox
from storage.citizens import choose_language
from storage.kb_load import SAMPLE_KNOWLEDGE, load_knowledge
from storage.lifecycle import accept_case
from storage.tracking import format_tracking_number
from tests.databases import Database
from tests.following import Desk
from tests.harness import query, webhook_bot, webhook_settings
from tests.staff_desk import ADMIN, CITIZEN, HANDLER, add_team
from tests.test_dashboard_phone import page_width
from tests.web_desk import SECRET, sign_in_link

ARTIFACTS = Path(__file__).parent / "artifacts" / "kb-staff"
PHONE, DESKTOP = 390, 1280
CALLER = "When will the heating come on this year? The radiators are still cold."


async def test_kb_pages_in_a_browser(
    sandbox: Sandbox, db_path: Database, chromium: Browser
) -> None:
    settings = webhook_settings(sandbox, db_path, SECRET, MINSHENG_ADMIN_IDS=str(ADMIN))
    base = f"http://{settings.webhook_listen}"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    async with webhook_bot(settings, sandbox, db_path) as runtime:
        d = Desk(sandbox, runtime, db_path)
        await load_knowledge(SAMPLE_KNOWLEDGE, default_language="en", now=datetime.now(UTC))
        await add_team(d)
        context = await chromium.new_context(viewport={"width": DESKTOP, "height": 900})
        page = await context.new_page()
        await page.goto(await sign_in_link(d, HANDLER))

        # The phone page: typing brings suggestions (the script), one is read to the caller.
        # What the caller says is posted with the page's token, never put in a URL.
        asked: list[Request] = []
        page.on("request", lambda r: asked.append(r) if "/web/kb-suggest" in r.url else None)
        await page.goto(f"{base}/web/new")
        await page.fill("#text", CALLER)
        suggested = page.locator("#suggestion-list input[value='heating-season']")
        await suggested.wait_for(timeout=10_000)
        assert asked
        for request in asked:
            assert (request.method, request.url) == ("POST", f"{base}/web/kb-suggest")
            assert parse_qs(request.post_data or "")["q"] == [CALLER]
            assert parse_qs(request.post_data or "")["csrf"][0]
        for width in (DESKTOP, PHONE):
            await page.set_viewport_size({"width": width, "height": 900})
            await page.screenshot(path=str(ARTIFACTS / f"phone-page-{width}.png"), full_page=True)
            assert await page_width(page) <= width
        await suggested.check()
        await page.click("#answered-button")
        assert "No case was filed." in await page.inner_text(".flash")
        assert query(db_path, "SELECT channel, outcome, case_id FROM kb_offer") == [
            ("phone", "answered", None)
        ]

        # The owning department edits an article: its review-by date passed, and a sentence.
        await page.set_viewport_size({"width": DESKTOP, "height": 900})
        await page.goto(f"{base}/web/kb/heating-season")
        body = await page.input_value("#body_en")
        await page.fill("#body_en", body + " Ask your building manager for the exact day.")
        await page.fill("#review_by", "2026-01-31")
        await page.click("#edit button[type=submit]")
        assert "Saved as version 2." in await page.inner_text(".flash")
        assert await page.locator("#history tbody tr").count() == 2
        for width in (DESKTOP, PHONE):
            await page.set_viewport_size({"width": width, "height": 900})
            await page.screenshot(path=str(ARTIFACTS / f"article-{width}.png"), full_page=True)
            assert await page_width(page) <= width

        # The list: what is past its review-by date comes first, flagged.
        await page.goto(f"{base}/web/kb")
        rows = await page.locator("tbody tr").all_inner_texts()
        flagged = ["past review-by date" in row for row in rows]
        assert flagged == sorted(flagged, reverse=True)  # flagged ones first
        assert any(
            flag and "heating-season" in row for flag, row in zip(flagged, rows, strict=True)
        )
        for width in (DESKTOP, PHONE):
            await page.set_viewport_size({"width": width, "height": 900})
            await page.screenshot(path=str(ARTIFACTS / f"kb-list-{width}.png"), full_page=True)
            assert await page_width(page) <= width
        # A case's reply box, filled from the picker (the case's category first).
        case = await d.file_case(CITIZEN, category="heating.no-heat")
        zone = runtime.services.settings.zone
        await accept_case(
            case.tracking, "heating-company", by=ADMIN, now=datetime.now(UTC), zone=zone
        )
        await page.goto(f"{base}/web/case/{format_tracking_number(case.tracking)}")
        await page.select_option("#kb", "heating-season")
        await page.click("#kb-picker button")
        assert "Ask your building manager" in await page.input_value("#reply-text")
        for width in (DESKTOP, PHONE):
            await page.set_viewport_size({"width": width, "height": 900})
            await page.screenshot(path=str(ARTIFACTS / f"case-picker-{width}.png"), full_page=True)
            assert await page_width(page) <= width
        await choose_language(HANDLER, "zh_Hans")
        await page.goto(f"{base}/web/kb/heating-season")
        await page.screenshot(path=str(ARTIFACTS / "article-zh_Hans-390.png"), full_page=True)
        assert await page_width(page) <= PHONE
        await context.close()
