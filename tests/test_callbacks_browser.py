"""The callback form (回访) in a real browser: Debian's Chromium driven by Playwright. A clerk
opens the callback list, the case, fills in what the citizen said on the phone and records it;
a screenshot of the form is kept for a person to look at."""

from __future__ import annotations

import asyncio
import os
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from playwright.async_api import Browser

from bot.clock import ManualClock
from bot.sandbox import Sandbox
from bot.sweeps import all_sweeps
from storage.claims import file_for_caller
from storage.lifecycle import accept_case, submit_reply
from storage.tracking import format_tracking_number
from tests.case_fixtures import new_case
from tests.databases import Database
from tests.following import Desk
from tests.harness import query, webhook_bot, webhook_settings
from tests.staff_desk import ADMIN, HANDLER, add_team
from tests.web_desk import sign_in_link

SECRET = "browser-secret"
SH = ZoneInfo("Asia/Shanghai")
SHOTS = Path(os.environ.get("MINSHENG_SHOTS", "/tmp/shots15/callbacks"))  # noqa: S108


async def test_record_a_callback_in_the_browser(
    sandbox: Sandbox, db_path: Database, chromium: Browser
) -> None:
    clock = ManualClock(datetime(2025, 3, 5, 10, 0, tzinfo=SH).astimezone(UTC))  # Wednesday
    settings = webhook_settings(
        sandbox, db_path, SECRET, MINSHENG_ADMIN_IDS=str(ADMIN), MINSHENG_SWEEP_INTERVAL="3600"
    )
    async with webhook_bot(settings, sandbox, db_path, clock) as runtime:
        d = Desk(sandbox, runtime, db_path)
        await add_team(d)
        zone = runtime.services.settings.zone
        case, _ = await file_for_caller(
            replace(new_case(), citizen_id=None, photos=()),
            by=ADMIN,
            now=clock.now(),
            zone=zone,
            staff_chat_id=None,
        )
        await accept_case(case.tracking, "heating-company", by=ADMIN, now=clock.now(), zone=zone)
        await submit_reply(case.tracking, "The valve was replaced.", by=ADMIN, now=clock.now())
        await all_sweeps(runtime.services)["callback_queue"](clock.now())
        clock.advance(datetime(2025, 3, 6, 9, 30, tzinfo=SH).astimezone(UTC) - clock.now())
        number = format_tracking_number(case.tracking)

        page = await (
            await chromium.new_context(viewport={"width": 900, "height": 900})
        ).new_page()
        await page.goto(await sign_in_link(d, HANDLER))
        await page.click("text=Callbacks")
        assert await page.title() == "Callbacks · Minsheng desk"
        await page.click(f"text={number}")
        await page.check("input[name=reached][value=yes]")
        await page.select_option("#callback-method", "phone")
        await page.check("input[name=solved][value=partly]")
        await page.check("input[name=satisfaction][value=basic]")
        await page.fill("#callback-note", "Warm again; the bedroom radiator is still slow.")
        await asyncio.to_thread(SHOTS.mkdir, parents=True, exist_ok=True)
        await page.locator("#callback-form").screenshot(path=str(SHOTS / "callback_form.png"))
        await page.click("#callback-form button")
        assert "The callback is recorded." in await page.content()
        await page.screenshot(path=str(SHOTS / "callback_recorded.png"), full_page=True)
    assert query(
        db_path, "SELECT solved, satisfaction, source, staff_id, contact_method FROM case_rating"
    ) == [("partly", "basic", "staff", HANDLER, "phone")]
