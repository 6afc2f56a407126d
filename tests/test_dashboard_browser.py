"""The dashboard in a real browser: Debian's Chromium driven by Playwright (no JavaScript of ours).

A supervisor asks the bot for /web, opens the link, filters the queue, opens the case, replies
through the form; the citizen receives the reply in the sandbox. A handler of another
department, signed in the same way, is refused the case.
"""

from __future__ import annotations

from playwright.async_api import Browser

from bot.sandbox import Sandbox
from storage.tracking import format_tracking_number
from tests.databases import Database
from tests.following import Desk
from tests.harness import webhook_bot, webhook_settings
from tests.staff_desk import ADMIN, CITIZEN, SUPERVISOR, add_team
from tests.web_desk import OTHER, sign_in_link

SECRET = "browser-secret"
REPLY = "The street light on Lane 5 was replaced this morning."


async def test_reply_from_the_browser(
    sandbox: Sandbox, db_path: Database, chromium: Browser
) -> None:
    settings = webhook_settings(sandbox, db_path, SECRET, MINSHENG_ADMIN_IDS=str(ADMIN))
    async with webhook_bot(settings, sandbox, db_path) as runtime:
        d = Desk(sandbox, runtime, db_path)
        await add_team(d)
        await d.say(ADMIN, f"/staff add {OTHER} handler gas-company", 2)
        case = await d.file_case(
            CITIZEN, text="The street light on Lane 5 is out.", category="urban.street-lights"
        )
        await d.file_case(CITIZEN + 1, text="Heating in block 3 is off since Monday.")
        number = format_tracking_number(case.tracking)

        page = await (await chromium.new_context()).new_page()
        await page.goto(await sign_in_link(d, SUPERVISOR))
        assert await page.title() == "Queue · Minsheng desk"
        await page.fill("#q", "street light")
        await page.click("text=Filter")
        rows = page.locator("tbody tr")
        assert await rows.count() == 1
        await page.click(f"text={number}")
        assert number in await page.title()
        await page.select_option("#assign-dept", "urban-management")
        await page.click("form[action$='/assign'] button")
        await page.fill("#reply-text", REPLY)
        await page.click("form[action$='/reply'] button")
        assert "Your reply on" in await page.inner_text(".flash")
        received = await sandbox.wait_for_messages(CITIZEN, 2, timeout=10)
        assert REPLY in received[-1]["text"]

        other = await (await chromium.new_context()).new_page()
        await other.goto(await sign_in_link(d, OTHER))
        assert number not in await other.content()
        answer = await other.goto(f"http://{settings.webhook_listen}/web/case/{number}")
        assert answer is not None
        assert answer.status == 403
        assert "That is not available to you." in await other.content()
