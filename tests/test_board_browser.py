"""The public board in a real browser (Debian's Chromium through Playwright; the board has no
JavaScript): a visitor searches in Chinese and opens a case, at phone width and at desktop
width, with nothing wider than the screen. Screenshots go to tests/artifacts/board/
(git-ignored)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from playwright.async_api import Browser, Page

from bot.sandbox import Sandbox
from storage.lifecycle import accept_case, submit_reply
from storage.publication import Publication, publish
from storage.tracking import format_tracking_number
from tests.databases import Database
from tests.following import Desk
from tests.harness import execute, webhook_bot, webhook_settings

SECRET = "board-browser-secret"
ADMIN = 74_001
ARTIFACTS = Path(__file__).parent / "artifacts" / "board"
PUBLISHED = (
    (
        "幸福小区3号楼暖气不热",
        "居民反映小区3号楼暖气不热，室温只有十四度，老人和孩子很难受。",
        "经热力公司排查，系楼内管道堵塞，已于次日疏通，室温恢复到二十度。",
    ),
    (
        "光明街道夜间施工噪音扰民",
        "居民反映工地夜间施工，晚上休息不好。",
        "城管执法局已责令工地夜间停止施工。",
    ),
    ("Streetlight out near the school", "A streetlight near the school gate was out.", ""),
)


async def test_search_in_chinese_and_open_a_case(
    sandbox: Sandbox, db_path: Database, chromium: Browser
) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    settings = webhook_settings(sandbox, db_path, SECRET, MINSHENG_ADMIN_IDS=str(ADMIN))
    async with webhook_bot(settings, sandbox, db_path) as runtime:
        d = Desk(sandbox, runtime, db_path)
        numbers = []
        for i, (title, text, note) in enumerate(PUBLISHED):
            case = await d.file_case(74_010 + i, text=text, category="heating.no-heat")
            now, zone = datetime.now(UTC), runtime.services.settings.zone
            await accept_case(case.tracking, "heating-company", by=ADMIN, now=now, zone=zone)
            await submit_reply(case.tracking, note or "Done.", by=ADMIN, now=now)
            await execute(
                db_path,
                "UPDATE service_case SET publish_consent = ? WHERE tracking = ?",
                (True, case.tracking),
            )
            await publish(case.tracking, Publication(title, text, note), by=ADMIN, now=now)
            numbers.append(format_tracking_number(case.tracking))
        base = f"http://{settings.webhook_listen}"
        for width in (390, 1280):
            context = await chromium.new_context(
                viewport={"width": width, "height": 844}, locale="zh-CN", java_script_enabled=False
            )
            page = await context.new_page()
            await page.goto(f"{base}/board/")
            assert await page.title() == "已答复的诉求 · 公开栏"
            assert await page.locator("ol.cases li").count() == 3
            await page.fill("#q", "暖气")
            await page.click("button[type=submit]")
            assert await page.locator("ol.cases li").count() == 1
            await _fits(page, width)
            await page.screenshot(path=str(ARTIFACTS / f"search-{width}.png"), full_page=True)
            await page.click("ol.cases h2 a")
            assert await page.title() == f"{PUBLISHED[0][0]} · 公开栏"
            assert PUBLISHED[0][2] in await page.inner_text("main")
            assert numbers[0] in await page.inner_text("main")
            await _fits(page, width)
            await page.screenshot(path=str(ARTIFACTS / f"case-{width}.png"), full_page=True)
            await page.click("text=Русский")
            assert "Ответ" in await page.inner_text("main")
            await page.screenshot(path=str(ARTIFACTS / f"case-ru-{width}.png"), full_page=True)
            await context.close()


async def _fits(page: Page, width: int) -> None:
    scroll = await page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width
