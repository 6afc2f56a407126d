"""The dashboard on a phone and on a desktop, in Debian's Chromium (Playwright): at 390 px wide
the queue, a case and the statistics fit the screen (nothing scrolls sideways), in English and
in Chinese. Screenshots of each page go to tests/artifacts/dashboard/ (git-ignored; CI keeps
them) for a person to look at."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Browser, Page

from bot.sandbox import Sandbox
from storage.citizens import choose_language
from storage.tracking import format_tracking_number
from tests.databases import Database
from tests.following import Desk
from tests.harness import webhook_bot, webhook_settings
from tests.staff_desk import ADMIN, CITIZEN, add_team
from tests.web_desk import SECRET, browser, csrf_of, get, post, sign_in_link

ARTIFACTS = Path(__file__).parent / "artifacts" / "dashboard"
PHONE, DESKTOP = 390, 1280


async def page_width(page: Page) -> int:
    """How wide the page's content is: more than the window means it scrolls sideways."""
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert isinstance(width, int)
    return width


async def test_the_dashboard_fits_a_phone(
    sandbox: Sandbox, db_path: Database, chromium: Browser
) -> None:
    settings = webhook_settings(sandbox, db_path, SECRET, MINSHENG_ADMIN_IDS=str(ADMIN))
    base = f"http://{settings.webhook_listen}"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    async with webhook_bot(settings, sandbox, db_path) as runtime:
        d = Desk(sandbox, runtime, db_path)
        await add_team(d)
        case = await d.file_case(
            CITIZEN,
            text="Heating in block 3 has been off since Monday; the flat is at 14 degrees.",
            category="heating.no-heat",
        )
        await d.file_case(
            CITIZEN + 1,
            text="The street light on Lane 5 is out and the lane is dark at night.",
            category="urban.street-lights",
        )
        number = format_tracking_number(case.tracking)
        async with await browser(await sign_in_link(d, ADMIN)) as admin:
            _, form = await get(admin, f"{base}/web/case/{number}")
            await post(
                admin,
                f"{base}/web/case/{number}/assign",
                {"csrf": csrf_of(form), "department": "heating-company"},
            )
        pages = {
            "queue": "/web/?status=all",
            "case": f"/web/case/{number}",
            "stats": "/web/stats?period=month",
        }
        for language in ("en", "zh_Hans"):
            await choose_language(ADMIN, language)
            context = await chromium.new_context(viewport={"width": PHONE, "height": 844})
            page = await context.new_page()
            await page.goto(await sign_in_link(d, ADMIN))
            for width in (PHONE, DESKTOP):
                await page.set_viewport_size({"width": width, "height": 844})
                for name, path in pages.items():
                    await page.goto(base + path)
                    await page.wait_for_load_state("networkidle")
                    shot = ARTIFACTS / f"{name}-{language}-{width}.png"
                    await page.screenshot(path=str(shot), full_page=True)
                    assert await page_width(page) <= width, (name, language, width)
            await context.close()
