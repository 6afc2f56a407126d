"""Reply templates on the dashboard in Debian's Chromium (Playwright), with the sample templates:
the list, a template edited by the department that handles its category (a new version, used at
once by the case page), and the case page's picker filling the reply box in place (its script,
no reload), in English and Chinese. Who may edit, a placeholder that does not exist, and a save
over someone else's are checked over HTTP. Screenshots go to /tmp/shots15/templates/."""

from __future__ import annotations

import re
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.async_api import Browser

from bot.sandbox import Sandbox
from storage.citizens import choose_language
from storage.lifecycle import accept_case
from storage.reply_templates import SAMPLE_TEMPLATES, load_templates
from storage.tracking import format_tracking_number
from tests.databases import Database
from tests.following import Desk
from tests.harness import query, webhook_bot, webhook_settings
from tests.staff_desk import ADMIN, CITIZEN, HANDLER, add_team
from tests.test_dashboard_phone import page_width
from tests.web_desk import SECRET, browser, csrf_of, get, post, sign_in_link

SHOTS = Path(tempfile.gettempdir()) / "shots15" / "templates"
PHONE, DESKTOP = 390, 1280
ADDED = " The engineer measured 21 °C on Tuesday."
VERSION = re.compile(r'<input type="hidden" name="version" value="(\d+)">')


@pytest.fixture
def shots() -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS


async def test_templates_in_a_browser(
    sandbox: Sandbox, db_path: Database, chromium: Browser, shots: Path
) -> None:
    settings = webhook_settings(sandbox, db_path, SECRET, MINSHENG_ADMIN_IDS=str(ADMIN))
    base = f"http://{settings.webhook_listen}"
    async with webhook_bot(settings, sandbox, db_path) as runtime:
        d = Desk(sandbox, runtime, db_path)
        await load_templates(SAMPLE_TEMPLATES, default_language="en", now=datetime.now(UTC))
        await add_team(d)
        case = await d.file_case(CITIZEN, category="heating.no-heat")
        zone = runtime.services.settings.zone
        await accept_case(
            case.tracking, "heating-company", by=ADMIN, now=datetime.now(UTC), zone=zone
        )
        number = format_tracking_number(case.tracking)
        context = await chromium.new_context(viewport={"width": DESKTOP, "height": 900})
        page = await context.new_page()
        await page.goto(await sign_in_link(d, HANDLER))

        await page.goto(f"{base}/web/templates")
        rows = await page.locator("#templates tbody tr").all_inner_texts()
        assert any("heating.no-heat.received" in r and "automatic first reply" in r for r in rows)
        await page.screenshot(path=str(shots / "list-1280.png"), full_page=True)

        # The heating company's handler edits its category's answer: a new version.
        await page.goto(f"{base}/web/templates/heating.no-heat.fixed")
        text = await page.input_value("#text_en")
        await page.fill("#text_en", text + ADDED)
        await page.click("#edit button[type=submit]")
        assert "Saved as version 2." in await page.inner_text(".flash")
        for width in (DESKTOP, PHONE):
            await page.set_viewport_size({"width": width, "height": 900})
            await page.screenshot(path=str(shots / f"edit-{width}.png"), full_page=True)
            assert await page_width(page) <= width

        # The case page's picker fills the box in place (the script: no page load).
        await page.set_viewport_size({"width": DESKTOP, "height": 900})
        await page.goto(f"{base}/web/case/{number}")
        loads: list[str] = []
        page.on("framenavigated", lambda frame: loads.append(frame.url))
        await page.select_option("#tpl", "heating.no-heat.fixed")
        filled = await page.input_value("#reply-text")
        assert filled.startswith(f"Regarding {number}: City Heating Company bled")
        assert filled.endswith(ADDED.strip())
        assert not loads
        await page.locator("#reply-text").scroll_into_view_if_needed()
        await page.screenshot(path=str(shots / "case-picker-en-1280.png"), full_page=True)

        # In Chinese: the staff member's pages, the citizen's language in the box.
        await choose_language(HANDLER, "zh_Hans")
        await choose_language(CITIZEN, "zh_Hans")
        await page.goto(f"{base}/web/case/{number}")
        await page.select_option("#tpl", "answered.general")
        assert (await page.input_value("#reply-text")).startswith(
            f"您好！关于您反映的诉求（编号{number}"
        )
        for width in (DESKTOP, PHONE):
            await page.set_viewport_size({"width": width, "height": 900})
            await page.screenshot(path=str(shots / f"case-picker-zh-{width}.png"), full_page=True)
            assert await page_width(page) <= width
        await page.goto(f"{base}/web/templates")
        await page.screenshot(path=str(shots / "list-zh-390.png"), full_page=True)
        assert await page_width(page) <= PHONE
        await context.close()


async def test_who_edits_and_what_is_refused(sandbox: Sandbox, db_path: Database) -> None:
    """The heating company's handler edits a heating template, not a noise one nor one of any
    category (403, nothing saved: the page shows no form); an unknown placeholder, and one with
    a format spec, are refused (400, the text kept); a save over a newer version is refused
    (409); the admin edits any."""
    settings = webhook_settings(sandbox, db_path, SECRET, MINSHENG_ADMIN_IDS=str(ADMIN))
    base = f"http://{settings.webhook_listen}"
    async with webhook_bot(settings, sandbox, db_path) as runtime:
        d = Desk(sandbox, runtime, db_path)
        await load_templates(SAMPLE_TEMPLATES, default_language="en", now=datetime.now(UTC))
        await add_team(d)
        versions = "SELECT code, version FROM reply_template ORDER BY code"
        before = query(db_path, versions)
        async with await browser(await sign_in_link(d, HANDLER)) as handler:
            for code in ("noise.construction.stopped", "answered.general"):
                status, page = await get(handler, f"{base}/web/templates/{code}")
                assert status == 200
                assert 'id="read-only"' in page
                assert 'id="edit"' not in page
                form = {"csrf": csrf_of(page), "version": "1", "text_en": "Mine now."}
                status, _ = await post(handler, f"{base}/web/templates/{code}", form)
                assert status == 403
            url = f"{base}/web/templates/heating.no-heat.fixed"
            status, page = await get(handler, url)
            assert 'id="edit"' in page
            typo = "Done by {departmant} for {number}."
            form = {"csrf": csrf_of(page), "version": "1", "text_en": typo, "active": "yes"}
            status, page = await post(handler, url, form)
            assert status == 400
            assert "has a placeholder that does not exist" in page
            assert "Done by {departmant} for {number}." in page
            huge = "Done for {number:>300000000}."  # filled, it would be 300 MB
            form = {"csrf": csrf_of(page), "version": "1", "text_en": huge, "active": "yes"}
            status, page = await post(handler, url, form)
            assert status == 400
            assert "has a placeholder with something after its name, such as" in page
            assert "Done for {number:&gt;300000000}." in page
            assert query(db_path, versions) == before
        async with await browser(await sign_in_link(d, ADMIN)) as admin:
            url = f"{base}/web/templates/answered.general"
            status, page = await get(handler_page := admin, url)
            found = VERSION.search(page)
            assert found
            form = {"csrf": csrf_of(page), "version": found.group(1), "active": "yes"}
            form["text_en"] = "Request {number} was dealt with by {department}."
            status, _ = await post(handler_page, url, form)
            assert status == 200  # followed to the page, saved
            status, page = await post(handler_page, url, form)  # the same, now stale
            assert status == 409
            assert "Someone else saved version 2" in page
        changed = dict(query(db_path, versions))
        assert changed["answered.general"] == 2
        assert changed["noise.construction.stopped"] == 1
