"""The demo's web chat in a real browser (Debian's Chromium, driven by Playwright), against the
control API's origin and content-type checks: its own requests pass. A citizen sends /start and
gets the welcome, then sends a photo through the upload; the bot really runs (polling)."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Browser

from bot.sandbox import Sandbox
from tests.databases import Database
from tests.harness import running_bot, settings_for

CITIZEN = 1001  # the citizen pane's default user
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64


async def test_the_web_chat_round_trip_passes_the_control_checks(
    sandbox: Sandbox, db_path: Database, tmp_path: Path, chromium: Browser
) -> None:
    photo = tmp_path / "lamp.jpg"
    photo.write_bytes(JPEG)
    async with running_bot(settings_for(sandbox, db_path)):
        page = await (await chromium.new_context()).new_page()
        refused: list[int] = []
        page.on("response", lambda r: refused.append(r.status) if r.status >= 400 else None)
        await page.goto(sandbox.base_url + "/")
        await page.fill("#citizen .text", "/start")
        await page.click("#citizen .send")
        await page.locator("#citizen .log", has_text="Welcome").wait_for(timeout=15_000)
        await page.set_input_files("#citizen .photo-input", str(photo))
        await sandbox.wait_for_messages(CITIZEN, 2, timeout=15)
        sent = [m for (chat, _), m in sandbox.world.user_messages.items() if chat == CITIZEN]
        assert [m.get("text") for m in sent if "photo" not in m] == ["/start"]
        assert any("photo" in m for m in sent)
        await page.screenshot(path=str(tmp_path / "web-chat.png"))
    assert refused == []
