"""The dashboard's handler filter (承办人) over HTTP and in Chromium: "Mine" for a handler, a
colleague for a supervisor, never beyond the staff member's reach; the case page names the
handler."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.async_api import Browser

from bot.sandbox import Sandbox
from storage.tracking import format_tracking_number
from tests.databases import Database
from tests.following import Desk
from tests.harness import webhook_bot, webhook_settings
from tests.staff_desk import ADMIN, HANDLER, SUPERVISOR, add_team
from tests.test_case_handler import COLLEAGUE, say
from tests.web_desk import OTHER, browser, get, sign_in_link

SECRET = "handler-secret"
ARTIFACTS = Path(__file__).parent / "artifacts" / "case-handler"
OPTION = re.compile(r'<option value="(\w*)"[^>]*>([^<]*)</option>')


def numbers(page: str) -> set[str]:
    return set(re.findall(r'<td class="number"><a href="/web/case/([\w-]+)"', page))


def handler_options(page: str) -> list[tuple[str, str]]:
    select = page.split('<select id="handler" name="handler">', 1)[1].split("</select>", 1)[0]
    return OPTION.findall(select)


async def test_the_list_filters_by_handler(
    sandbox: Sandbox, db_path: Database, chromium: Browser
) -> None:
    settings = webhook_settings(sandbox, db_path, SECRET, MINSHENG_ADMIN_IDS=str(ADMIN))
    async with webhook_bot(settings, sandbox, db_path) as runtime:
        d = Desk(sandbox, runtime, db_path)
        await add_team(d)
        for user_id, code, name in (
            (COLLEAGUE, "heating-company", "王芳"),
            (OTHER, "gas-company", "Ivan"),
        ):
            sandbox.send_text(user_id, "/start", first_name=name)
            await sandbox.wait_for_messages(user_id, 1, timeout=10)
            await say(d, ADMIN, f"/staff add {user_id} handler {code}")
        cases = [await d.file_case(75_100 + i) for i in range(4)]
        held, given, free, gas = (format_tracking_number(case.tracking) for case in cases)
        for number in (held, given, free):
            await say(d, SUPERVISOR, f"/assign {number} heating-company")
        await say(d, SUPERVISOR, f"/assign {gas} gas-company")
        assert await say(d, HANDLER, f"/take {held}") == f"You now handle request {held}."
        assert (await say(d, HANDLER, f"/give {given} {COLLEAGUE}")).startswith("王芳")
        assert await say(d, OTHER, f"/take {gas}") == f"You now handle request {gas}."
        base = f"http://{settings.webhook_listen}/web/"

        # A handler: "Mine" and nobody else to choose; an id typed in stays within reach.
        async with await browser(await sign_in_link(d, HANDLER)) as mine:
            status, page = await get(mine, base)
            assert status == 200
            assert handler_options(page) == [("", "Any"), ("mine", "Mine")]
            assert numbers(page) == {held, given, free}
            assert numbers((await get(mine, f"{base}?handler=mine"))[1]) == {held}
            assert numbers((await get(mine, f"{base}?handler={OTHER}"))[1]) == set()
            assert numbers((await get(mine, f"{base}?handler=x1"))[1]) == {held, given, free}
            _, case_page = await get(mine, f"{base}case/{held}")
            assert f"<dt>Handler</dt><dd>User {HANDLER} ({HANDLER})</dd>" in case_page

        # A supervisor: everyone of the departments in reach, by name.
        async with await browser(await sign_in_link(d, SUPERVISOR)) as chief:
            _, page = await get(chief, base)
            options = handler_options(page)
            assert options[:2] == [("", "Any"), ("mine", "Mine")]
            assert (str(COLLEAGUE), f"王芳 ({COLLEAGUE})") in options
            assert (str(OTHER), f"Ivan ({OTHER})") in options
            assert numbers((await get(chief, f"{base}?handler={COLLEAGUE}"))[1]) == {given}
            assert numbers((await get(chief, f"{base}?handler=mine"))[1]) == set()
            _, case_page = await get(chief, f"{base}case/{free}")
            assert "<dt>Handler</dt>" not in case_page

        # The same in Chromium, as a supervisor picks a colleague (looked at as a screenshot).
        page = await (await chromium.new_context()).new_page()
        await page.goto(await sign_in_link(d, SUPERVISOR))
        await page.select_option("#handler", str(COLLEAGUE))
        await page.click("text=Filter")
        rows = page.locator("tbody tr")
        assert await rows.count() == 1
        assert given in await rows.first.inner_text()
        shot = ARTIFACTS / "queue-by-handler.png"  # Playwright makes the folder
        await page.screenshot(path=str(shot), full_page=True)
