"""The web chat shows a forum's topics: in the staff group, each message says which topic it
is in (the department's cards in theirs), in a real browser (Debian's Chromium, Playwright)."""

from __future__ import annotations

import os
from pathlib import Path

from playwright.async_api import Browser

from bot.sandbox import Sandbox
from tests.databases import Database
from tests.following import desk
from tests.staff_topics_desk import CATEGORY, HEAT, WATER, forum, topics_opened

CITIZEN = 1001
SHOTS = "MINSHENG_SHOTS"  # a folder to keep the screenshot in (else the test's own)


async def test_the_web_chat_shows_the_topic_of_each_card(
    sandbox: Sandbox, db_path: Database, tmp_path: Path, chromium: Browser
) -> None:
    forum(sandbox)
    async with desk(sandbox, db_path, MINSHENG_STAFF_TOPICS="1") as d:
        await topics_opened(db_path)
        await d.file_case(CITIZEN, category=CATEGORY[HEAT], notify_staff=True)
        await d.file_case(CITIZEN + 1, category=CATEGORY[WATER], notify_staff=True)
        page = await (
            await chromium.new_context(viewport={"width": 1200, "height": 900})
        ).new_page()
        await page.goto(sandbox.base_url + "/")
        await page.check("#staff .group-toggle")
        staff = page.locator("#staff .log")
        await staff.locator(".msg", has_text="New request").nth(1).wait_for(timeout=15_000)
        metas = await staff.locator(".msg .meta").all_inner_texts()
        assert any("# City Heating Company" in meta for meta in metas)
        assert any("# City Water Supply Company" in meta for meta in metas)
        assert any(
            "Topic “City Heating Company” opened" in text
            for text in await staff.locator(".msg").all_inner_texts()
        )
        shots = Path(os.environ.get(SHOTS) or tmp_path)
        await staff.locator(".msg", has_text="New request").nth(1).scroll_into_view_if_needed()
        await page.screenshot(path=str(shots / "staff-topics.png"))
