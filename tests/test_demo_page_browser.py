"""`minsheng demo` as a newcomer uses it: its web chat page in a real browser (Debian's Chromium,
driven by Playwright), from the empty first screen to a filed request, the staff answer, the
whole rating and a reload, and the dashboard's case page at a phone's width and a desk's.

The demo runs as its own process, as the README starts it. The browser lives in another time
zone than the desk, so the bubbles' times show whether the page speaks in the desk's time. The
rating's texts are the rating handler's own (bot.texts.ratings), not copies. Screenshots of
every step are kept in tests/artifacts/demo-page/ (git-ignored; CI keeps them as artifacts).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp import ClientSession
from playwright.async_api import Browser, Locator, Page, expect

from bot.i18n import SOURCE, Catalogs
from bot.sandbox import Sandbox
from bot.texts.ratings import (
    COMMENTS_FOR,
    SATISFIED,
    ask_comment,
    ask_satisfaction,
    comment_labels,
    rating_line,
    satisfaction_labels,
    solved_labels,
    thanks,
)
from tests.databases import Database
from tests.harness import ROOT, free_port_pair

ARTIFACTS = ROOT / "tests" / "artifacts" / "demo-page"
CITIZEN, ADMIN = 1001, 9001  # the demo's panes
DESK_ZONE = ZoneInfo("Asia/Shanghai")  # the demo's (the settings' default)
BROWSER_ZONE = "America/Los_Angeles"  # sixteen hours away: a wrong clock cannot pass
NUMBER = re.compile(r"[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4}")
t = Catalogs().get("en")
WAIT = 20_000  # ms, for an answer of the bot


@pytest.fixture
def demo(tmp_path: Path, db_path: Database) -> Iterator[str]:
    """`python -m bot demo` on free ports and the test's database; its page's address.

    The demo listens on two ports (its page and, one above, the web desk). Another test may
    take one of them between our look and the demo's bind; the demo then stops, and we start
    it again on others.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINSHENG_")}
    log = tmp_path / "demo.log"
    for _attempt in range(3):
        port = free_port_pair()
        process = start_demo(port, db_path, env, log)
        if started(process, log):
            break
    else:
        pytest.fail("the demo did not start on three pairs of free ports:\n" + log.read_text())
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


def start_demo(
    port: int, db_path: Database, env: dict[str, str], log: Path
) -> subprocess.Popen[bytes]:
    with log.open("w") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "bot", "demo", "--port", str(port), "--database", db_path.url],
            cwd=log.parent,
            env={**env, "MINSHENG_FLOOD_MESSAGES": "10000"},
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def started(process: subprocess.Popen[bytes], log: Path) -> bool:
    """Whether the demo says it runs (True) or stopped before it could (False)."""
    deadline = time.monotonic() + 60
    while "Minsheng demo is running" not in log.read_text():
        if process.poll() is not None:
            return False
        assert time.monotonic() < deadline, "the demo did not start:\n" + log.read_text()
        time.sleep(0.1)
    return True


def sent_by_bot(base: str, chat_id: int) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"{base}/control/chats/{chat_id}/messages") as response:  # noqa: S310 - our own demo
        return list(json.load(response)["messages"])


class Pane:
    """One side of the page: what it shows and what its user does."""

    def __init__(self, page: Page, name: str) -> None:
        self.page, self.root = page, page.locator(f"#{name}")
        self.log = self.root.locator(".log")

    async def say(self, text: str) -> None:
        await self.root.locator(".text").fill(text)
        await self.root.locator(".send").click()

    def bubble(self, text: str | re.Pattern[str]) -> Locator:
        return self.log.locator(".msg.bot", has_text=text).last

    async def answer(self, text: str | re.Pattern[str]) -> Locator:
        """The bot's latest bubble with `text`, once it is there."""
        bubble = self.bubble(text)
        await bubble.wait_for(timeout=WAIT)
        return bubble

    async def press(self, bubble: Locator, label: str | re.Pattern[str]) -> None:
        await bubble.get_by_role("button", name=label, exact=True).click()

    async def key(self, label: str | re.Pattern[str]) -> None:
        keyboard = self.root.locator(".reply-keyboard")
        await keyboard.get_by_role("button", name=label, exact=True).click()

    async def staff_group(self, on: bool) -> None:
        await self.root.locator(".group-toggle").set_checked(on)


async def button_labels(bubble: Locator) -> list[str]:
    return [
        label.strip()
        for label in await bubble.locator(".inline-keyboard button").all_inner_texts()
    ]


async def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def body_of(text: str) -> str:
    return text.partition("\n")[2]  # the bubble without its "Minsheng · 20:11" line


async def test_the_demo_page_walks_a_request_its_answer_and_its_rating(
    demo: str, chromium: Browser
) -> None:
    context = await chromium.new_context(
        viewport={"width": 1280, "height": 900}, timezone_id=BROWSER_ZONE
    )
    page = await context.new_page()
    await page.goto(demo + "/")
    citizen, staff = Pane(page, "citizen"), Pane(page, "staff")

    # The first screen says what to do.
    await expect(citizen.log.locator(".hint")).to_contain_text("Type /start below")
    await expect(staff.log.locator(".hint")).to_contain_text("/web sends a sign-in link")
    await expect(page.locator(".desk-zone")).to_have_text("Times are the desk's: Asia/Shanghai.")
    await shot(page, "01-first-screen")

    # A citizen's request, from /start to its tracking number; the hint gives way.
    await citizen.say("/start")
    welcome = await citizen.answer("Welcome")
    await expect(citizen.log.locator(".hint")).to_have_count(0)
    # Times in the desk's zone, as the bot's own messages give them, not the browser's.
    sent = datetime.fromtimestamp(sent_by_bot(demo, CITIZEN)[0]["date"], DESK_ZONE)
    await expect(welcome.locator(".meta")).to_have_text(f"Minsheng · {sent:%H:%M}")
    await citizen.key(t.gettext("New request"))
    await citizen.press(await citizen.answer("a complaint, a report"), "Complaint")
    await citizen.press(await citizen.answer("Noise"), "Noise")
    await citizen.press(await citizen.answer("Construction noise"), "Construction noise")
    await citizen.press(await citizen.answer("Night"), re.compile("^Night"))
    await citizen.answer("describe the matter")
    await citizen.say("A building site on Changle Road runs its pile driver all night.")
    # The demo's knowledge base offers its articles on night-time building work first.
    offer = await citizen.answer("may already answer your question")
    await shot(page, "02a-articles-offered")
    await citizen.press(offer, "File my request anyway")
    await citizen.press(await citizen.answer("photos"), "Skip")
    await citizen.answer("Where is it?")
    await citizen.key(re.compile("Share my location"))
    await citizen.answer("How may staff reach you?")
    await citizen.key(re.compile("Stay anonymous"))
    await citizen.press(await citizen.answer("Is everything right?"), re.compile("Submit"))
    submitted = await citizen.answer("Your request has been submitted.")
    found = NUMBER.search(await submitted.inner_text())
    assert found, await submitted.inner_text()
    number = found.group()
    await shot(page, "02-request-submitted")

    # The staff side: the card in the staff chat, its map link a real, safe link.
    await staff.staff_group(True)
    card = await staff.answer(f"New request {number}")
    map_link = card.locator("a[href^='https://www.openstreetmap.org/']")
    await expect(map_link).to_have_text(re.compile(r"^https://www\.openstreetmap\.org/\?mlat="))
    await expect(map_link).to_have_attribute("href", re.compile(r"mlat=45\.770000"))
    await expect(map_link).to_have_attribute("rel", "noopener noreferrer")
    await expect(map_link).to_have_attribute("target", "_blank")
    await shot(page, "03-staff-card")
    await staff.staff_group(False)
    await staff.say(f"/assign {number} urban-management")
    await staff.answer(f"Request {number} was assigned")
    await staff.say(f"/reply {number} The night work was stopped; inspectors come back on Friday.")
    await staff.answer(f"Your reply to {number} was sent to the citizen.")
    await staff.say("/web")
    sign_in = (await staff.answer("sign-in link")).get_by_role("link")
    await expect(sign_in).to_have_attribute("href", re.compile(r"^http://127\.0\.0\.1:\d+/web/"))
    login = await sign_in.get_attribute("href")
    await shot(page, "04-staff-answer")

    # The whole rating, on the answer's own message: each step's text and buttons together.
    rating = await citizen.answer("The night work was stopped")
    assert body_of(await rating.inner_text()).startswith(f"The answer to your request {number}:")
    await expect(rating.locator(".body")).to_contain_text(t.gettext("Was your problem solved?"))
    assert await button_labels(rating) == list(solved_labels(t).values())
    await citizen.press(rating, solved_labels(t)["solved"])
    asked = f"{rating_line(t, 'solved')}\n{ask_satisfaction(t)}"
    await expect(rating.locator(".body")).to_contain_text(asked)
    assert await button_labels(rating) == list(satisfaction_labels(t).values())
    await shot(page, "05-rating-solved")
    await citizen.press(rating, satisfaction_labels(t)["satisfied"])
    asked = f"{rating_line(t, 'solved', 'satisfied')}\n"
    await expect(rating.locator(".body")).to_contain_text(
        asked + ask_comment(t, SATISFIED, can_reopen=False)
    )
    labels = comment_labels(t)
    assert await button_labels(rating) == [*(labels[c] for c in COMMENTS_FOR[SATISFIED]), "Skip"]
    await expect(citizen.root.locator(".toast")).to_be_visible()  # "Thank you for your rating."
    await shot(page, "06-rating-satisfied")
    await citizen.press(rating, labels["quick"])
    given = rating_line(t, "solved", "satisfied", comment_labels(SOURCE)["quick"])
    await expect(rating.locator(".body")).to_contain_text(f"{given}\n{thanks(t)}")
    await expect(rating.locator(".inline-keyboard button")).to_have_count(0)
    await shot(page, "07-rating-given")

    # A reload shows the chats again, without their old pop-ups.
    await page.reload()
    await citizen.answer(given)
    await staff.answer("sign-in link")
    # Checked at once (expect() would wait, and a pop-up goes away by itself after 4 s): the
    # feed is drawn in one go, so a replayed pop-up would be showing now.
    assert await citizen.root.locator(".toast").is_hidden()
    await shot(page, "08-reloaded")

    # The dashboard's case page, at a phone's width and at a desk's.
    assert login is not None
    dashboard = await context.new_page()
    await dashboard.goto(login)
    await dashboard.goto(login.split("/web/")[0] + f"/web/case/{number}")
    await expect(dashboard.locator("body")).to_contain_text(number)
    await dashboard.screenshot(path=str(ARTIFACTS / "09-case-desktop.png"), full_page=True)
    await dashboard.set_viewport_size({"width": 390, "height": 900})
    await dashboard.screenshot(path=str(ARTIFACTS / "10-case-390px.png"), full_page=True)
    await context.close()


async def test_links_in_messages_are_links_only_for_web_addresses(
    sandbox: Sandbox, chromium: Browser
) -> None:
    """What the bot sends is text: markup stays visible as characters; a web address (in the
    text, or as a text_link) becomes a link that opens apart from the page; any other scheme
    stays text. The chat is read on a phone-sized screen."""
    text = (
        "Sign in: http://127.0.0.1:8082/web/login?t=abc. Map (https://osm.example/?m=1), "
        "<b>not bold</b> javascript:alert(1) here and there"
    )
    here, there = text.index("here"), text.index("there")
    entities = [
        {"type": "text_link", "offset": here, "length": 4, "url": "javascript:alert(1)"},
        {"type": "text_link", "offset": there, "length": 5, "url": "https://example.org/x"},
    ]
    async with ClientSession() as http:
        url = f"{sandbox.api_url}{sandbox.config.token}/sendMessage"
        body = {"chat_id": CITIZEN, "text": text, "entities": entities}
        async with http.post(url, json=body) as response:
            assert response.status == 200, await response.text()
    page = await chromium.new_page(viewport={"width": 390, "height": 700})
    await page.goto(sandbox.base_url + "/")
    bubble = page.locator("#citizen .msg.bot").last
    await expect(bubble.locator(".body")).to_have_text(text)  # nothing lost, nothing parsed
    links = bubble.locator("a")
    await expect(links).to_have_count(3)
    assert [await a.get_attribute("href") for a in await links.all()] == [
        "http://127.0.0.1:8082/web/login?t=abc",
        "https://osm.example/?m=1",
        "https://example.org/x",
    ]
    assert await links.nth(2).inner_text() == "there"
    for link in await links.all():
        assert await link.get_attribute("rel") == "noopener noreferrer"
        assert await link.get_attribute("target") == "_blank"
    assert await bubble.locator("b, script").count() == 0
    await shot(page, "11-links-390px")
    await page.close()
