"""The Publish form in Debian's Chromium (Playwright), as the handler uses it, in English and in
Chinese, at desktop and phone width: the draft's phone number and address highlighted, the draft
refused as it is, then an edited text published with the photo ticked. The page never scrolls
sideways at 390 px. Screenshots go to tests/artifacts/publish/ (git-ignored; CI keeps them)."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image
from playwright.async_api import Browser

from bot.sandbox import Sandbox
from storage.citizens import choose_language
from storage.lifecycle import accept_case, submit_reply
from storage.publish_consent import set_consent
from storage.tracking import format_tracking_number
from tests.databases import Database
from tests.following import Desk
from tests.harness import webhook_bot, webhook_settings
from tests.staff_desk import ADMIN, HANDLER, add_team
from tests.test_dashboard_phone import DESKTOP, PHONE, page_width
from tests.web_desk import SECRET, sign_in_link

ARTIFACTS = Path(__file__).parent / "artifacts" / "publish"
CITIZEN = 7_731_205_001
SAYS = (
    "我是王小明，电话13945172863，住幸福小区3栋2单元502室。物业强制要求先交清供暖费才给开阀，"
    "不交就不供热，家里只有十四度。"
)
ANSWER = "经核实，物业不得以未交费为由停止供热，已责令其今日开阀。维修工李师傅电话0451-8765 4321。"
CLEAN = "居民反映物业要求先交清供暖费才给开阀。经核实，物业不得以未交费为由停止供热，已责令开阀。"
PHOTO = "AgADpublishBrowserPhoto"


def jpeg() -> bytes:
    """A small picture of a radiator-coloured square, so the thumbnail shows."""
    out = io.BytesIO()
    Image.new("RGB", (160, 120), (190, 90, 60)).save(out, "JPEG")
    return out.getvalue()


async def test_the_publish_form_in_a_browser(
    sandbox: Sandbox, db_path: Database, chromium: Browser
) -> None:
    settings = webhook_settings(sandbox, db_path, SECRET, MINSHENG_ADMIN_IDS=str(ADMIN))
    base = f"http://{settings.webhook_listen}"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    sandbox.world.store_file("photo", jpeg(), file_id=PHOTO)
    async with webhook_bot(settings, sandbox, db_path) as runtime:
        d = Desk(sandbox, runtime, db_path)
        await add_team(d)
        now, zone = runtime.services.clock.now(), runtime.services.settings.zone
        cases = []
        for language in ("en", "zh_Hans"):
            tracking = (await d.file_case(CITIZEN, text=SAYS, photos=(PHOTO,))).tracking
            await set_consent(tracking, CITIZEN, True, now=now)
            await accept_case(tracking, "heating-company", by=ADMIN, now=now, zone=zone)
            await submit_reply(tracking, ANSWER, by=ADMIN, now=now)
            cases.append((language, format_tracking_number(tracking)))
        for language, number in cases:
            link = await sign_in_link(d, HANDLER)
            await choose_language(HANDLER, language)
            context = await chromium.new_context(viewport={"width": DESKTOP, "height": 900})
            page = await context.new_page()
            await page.goto(link)
            await page.goto(f"{base}/web/case/{number}#publication")
            marks = await page.locator("#personal-data mark").all_inner_texts()
            assert "13945172863" in marks
            assert "0451-8765 4321" in marks
            for width in (DESKTOP, PHONE):
                await page.set_viewport_size({"width": width, "height": 900})
                shot = ARTIFACTS / f"form-{language}-{width}.png"
                await page.locator("#publication ~ form#publish-form").screenshot(path=str(shot))
                assert await page_width(page) <= width, (language, width)
            await page.set_viewport_size({"width": DESKTOP, "height": 900})
            await page.click("#publish-form button[value=publish]")
            assert await page.locator(".flash.error").count() == 2  # the refusal, the marks
            assert "13945172863" in await page.locator("#personal-data").inner_text()
            await page.fill("#public-title", "供暖费：物业要求先交费才开阀")
            await page.fill("#public-text", CLEAN)
            await page.fill("#public-note", "热力公司已排查管道，暖气已恢复。")
            await page.check("#publish-form input[name=photo][value='0']")
            await page.click("#publish-form button[value=check]")
            assert await page.locator("#personal-data mark").count() == 0
            await page.click("#publish-form button[value=publish]")
            published = await page.locator("#publication + .box").inner_text()
            assert CLEAN in published
            await page.locator("#publication + .box").screenshot(
                path=str(ARTIFACTS / f"published-{language}-{DESKTOP}.png")
            )
            await context.close()
