"""The dashboard's case page, queue and statistics over real HTTP, as a clerk reads them: a
heading that states the status, the department that has the case, an end (close, reject) only
with a reason and a ticked confirmation, lines that say what happened, names rather than codes,
and the figures as a table."""

from __future__ import annotations

import html
import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from bot.sandbox import Sandbox
from bot.texts.chart_drawing import cjk_font
from storage.citizens import choose_language
from storage.rating import rate_satisfaction, rate_solved
from storage.tracking import format_tracking_number
from tests.databases import Database
from tests.following import Desk
from tests.harness import query, webhook_bot, webhook_settings
from tests.staff_desk import ADMIN, CITIZEN, HANDLER, SUPERVISOR, add_team
from tests.web_desk import SECRET, browser, csrf_of, get, post, sign_in_link


@pytest.fixture
async def web_desk(sandbox: Sandbox, db_path: Database) -> AsyncIterator[tuple[Desk, str]]:
    settings = webhook_settings(sandbox, db_path, SECRET, MINSHENG_ADMIN_IDS=str(ADMIN))
    async with webhook_bot(settings, sandbox, db_path) as runtime:
        yield Desk(sandbox, runtime, db_path), f"http://{settings.webhook_listen}"


def flash(page: str) -> str:
    found = re.search(r'<div class="flash[^"]*" role="status">(.*?)</div>', page)
    assert found, page
    return html.unescape(found.group(1))


def heading(page: str) -> str:
    found = re.search(r"<h1>(.*?)</h1>", page)
    assert found
    return found.group(1)


def facts(page: str) -> dict[str, str]:
    return dict(re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", page))


async def test_a_new_case_page_names_the_category_its_words_read_as(
    web_desk: tuple[Desk, str],
) -> None:
    """Filed under water bills about a cold flat: the page suggests the heating category, and
    says why the water company is proposed; once accepted, neither is shown."""
    d, base = web_desk
    text = "Our radiators have been cold for a week and it is 14 degrees in the flat."
    case = await d.file_case(CITIZEN, text=text, category="water.bills")
    number = format_tracking_number(case.tracking)
    async with await browser(await sign_in_link(d, ADMIN)) as admin:
        _, page = await get(admin, f"{base}/web/case/{number}")
        shown = {label: html.unescape(value) for label, value in facts(page).items()}
        assert shown["Proposed department"] == "City Water Supply Company"
        assert shown["Why proposed"] == "functional: it handles this category wherever it is"
        assert shown["Suggested category"] == "Heating › No heating or radiators not warm"
        await post(
            admin,
            f"{base}/web/case/{number}/assign",
            {"csrf": csrf_of(page), "department": "water-company"},
        )
        _, page = await get(admin, f"{base}/web/case/{number}")
        assert {"Proposed department", "Why proposed", "Suggested category"}.isdisjoint(
            facts(page)
        )


def timeline(page: str) -> list[str]:
    return re.findall(r"<li><time [^>]*>[^<]*</time> (.*?)</li>", page)


def selected(page: str, select_id: str) -> list[str]:
    found = re.search(rf'<select id="{select_id}"[^>]*>(.*?)</select>', page, re.S)
    assert found
    return re.findall(r'<option value="([^"]*)" selected>', found.group(1))


def forms(page: str) -> list[str]:
    """The case actions the page offers, in order."""
    return re.findall(r'<form class="box" method="post" action="/web/case/[^/"]+/(\w+)"', page)


async def test_case_page_says_where_the_case_stands(web_desk: tuple[Desk, str]) -> None:
    """A case accepted, answered from the web, closed with a reason, reopened in the bot,
    answered and closed again: the page is headed by its status, names its department (not the
    proposed one), preselects it in Assign and Transfer, lists each event once without stray
    bullets, and says what each action did. Close and reject need a reason and the ticked box."""
    d, base = web_desk
    await add_team(d)
    case = await d.file_case(CITIZEN, text="Heating in block 3 is off since Monday.")
    number = format_tracking_number(case.tracking)
    async with await browser(await sign_in_link(d, ADMIN)) as admin:
        status, page = await get(admin, f"{base}/web/case/{number}")
        assert heading(page) == f"Request {number}: submitted"
        assert facts(page)["Proposed department"] == "City Heating Company"
        # Heating is a functional category: its department handles it wherever it is.
        assert facts(page)["Why proposed"] == "functional: it handles this category wherever it is"
        assert selected(page, "assign-dept") == ["heating-company"]
        # Only the moves the case's status allows (storage.lifecycle.possible) are offered.
        assert forms(page) == ["note", "assign", "reject", "merge"]
        token = csrf_of(page)
        _, page = await post(
            admin,
            f"{base}/web/case/{number}/assign",
            {"csrf": token, "department": "heating-company"},
        )
        assert forms(page) == ["reply", "ask", "note", "transfer", "reject", "merge"]
        assert selected(page, "transfer-dept") == ["heating-company"]
        status, page = await post(
            admin, f"{base}/web/case/{number}/reply", {"csrf": token, "text": "Boiler fixed."}
        )
        assert status == 200
        # An admin's reply needs no review: the page says it went out, and it did.
        assert flash(page) == f"Your reply on {number} was sent to the citizen."
        answer = await d.sandbox.wait_for_messages(CITIZEN, 2, timeout=10)
        assert "Boiler fixed." in answer[-1]["text"]
        assert forms(page) == ["note", "close"]
        for form in (
            {"reason": "Repaired"},
            {"confirm": "yes"},
            {"reason": " ", "confirm": "yes"},
        ):
            status, page = await post(
                admin, f"{base}/web/case/{number}/close", {"csrf": token, **form}
            )
            assert status == 400, form
            assert flash(page) == "Please fill in the form."
        assert query(d.db_path, "SELECT status FROM service_case") == [("answered",)]
        close = {"csrf": token, "reason": "Boiler repaired, heating back on", "confirm": "yes"}
        status, page = await post(admin, f"{base}/web/case/{number}/close", close)
        assert flash(page) == f"Request {number} was closed; the citizen was told."
        assert heading(page) == f"Request {number}: closed"
        reopened = await d.say(ADMIN, f"/reopen {number}", len(d.sandbox.messages(ADMIN)) + 1)
        assert "reopened" in reopened["text"]
        await post(
            admin, f"{base}/web/case/{number}/reply", {"csrf": token, "text": "Checked again."}
        )
        status, page = await post(
            admin, f"{base}/web/case/{number}/close", {**close, "reason": "Checked twice"}
        )
        assert heading(page) == f"Request {number}: closed"
        assert forms(page) == ["note"]  # no Reply, Ask, Assign, Close or Reject once closed
        assert 'id="reply-text"' not in page
        shown = facts(page)
        assert shown["Department"] == "City Heating Company"
        assert "Proposed department" not in shown
        assert "Due by" not in shown
        assert "•" not in page
        lines = timeline(page)
        assert lines == [
            "anonymous citizen filed the request",
            f"staff member {ADMIN} accepted the request into City Heating Company, due by "
            + lines[1].rsplit("due by ", 1)[1],
            f"staff member {ADMIN} answered the citizen directly (no review needed): "
            "Boiler fixed.",
            f"staff member {ADMIN} closed the request: Boiler repaired, heating back on",
            f"staff member {ADMIN} reopened the request",
            f"staff member {ADMIN} answered the citizen directly (no review needed): "
            "Checked again.",
            f"staff member {ADMIN} closed the request: Checked twice",
        ]
    texts = query(
        d.db_path,
        "SELECT payload FROM case_event WHERE kind = 'closed' ORDER BY id",
    )
    assert [json.loads(row[0]).get("text") for row in texts] == [
        "Boiler repaired, heating back on",
        "Checked twice",
    ]


async def test_review_reject_and_queue_names(web_desk: tuple[Desk, str]) -> None:
    """A handler's reply waits for review, and the page says so; a reject needs the ticked box;
    the queue names categories and departments in the reader's language."""
    d, base = web_desk
    await add_team(d)
    case = await d.file_case(CITIZEN, category="heating.no-heat")
    other = await d.file_case(CITIZEN + 1, text="Rubbish left on the pavement for a week.")
    number, second = format_tracking_number(case.tracking), format_tracking_number(other.tracking)
    async with await browser(await sign_in_link(d, SUPERVISOR)) as supervisor:
        _, page = await get(supervisor, f"{base}/web/case/{number}")
        token = csrf_of(page)
        await post(
            supervisor,
            f"{base}/web/case/{number}/assign",
            {"csrf": token, "department": "heating-company"},
        )
        reject = {"csrf": token, "reason": "Not a city matter"}
        status, page = await post(supervisor, f"{base}/web/case/{second}/reject", reject)
        assert status == 400
        status, page = await post(
            supervisor, f"{base}/web/case/{second}/reject", {**reject, "confirm": "yes"}
        )
        assert (
            flash(page) == f"Request {second} was not accepted; the citizen was told the reason."
        )
        assert heading(page) == f"Request {second}: not accepted"
    async with await browser(await sign_in_link(d, HANDLER)) as handler:
        _, page = await get(handler, f"{base}/web/case/{number}")
        status, page = await post(
            handler,
            f"{base}/web/case/{number}/reply",
            {"csrf": csrf_of(page), "text": "We sent a fitter; the heating works again."},
        )
        assert flash(page) == (
            f"Your reply on {number} was saved and waits for a supervisor's review; the "
            "citizen receives it once it is approved."
        )
    await choose_language(SUPERVISOR, "zh_Hans")
    async with await browser(await sign_in_link(d, SUPERVISOR)) as supervisor:
        _, page = await get(supervisor, f"{base}/web/?status=all")
        rows = page.split("<tbody>")[1]
        assert "heating.no-heat" not in rows
        assert "heating-company" not in rows
        assert '<td data-label="类别">不供暖或暖气不热</td>' in page
        assert '<td data-label="部门">市热力集团</td>' in page


async def test_statistics_as_tables_and_charts(web_desk: tuple[Desk, str]) -> None:
    """The figures are a table and the ranking names departments; the three charts are drawn
    once for the period and served from the cache a while (a case filed since does not redraw
    them); Chinese charts draw (a missing glyph would warn, and warnings are errors)."""
    d, base = web_desk
    await add_team(d)
    case = await d.file_case(CITIZEN)
    async with await browser(await sign_in_link(d, ADMIN)) as admin:
        _, page = await get(admin, f"{base}/web/case/{format_tracking_number(case.tracking)}")
        await post(
            admin,
            f"{base}/web/case/{format_tracking_number(case.tracking)}/assign",
            {"csrf": csrf_of(page), "department": "heating-company"},
        )
    await d.file_case(CITIZEN + 1, category="heating.no-heat")
    async with await browser(await sign_in_link(d, SUPERVISOR)) as supervisor:
        status, page = await get(supervisor, f"{base}/web/stats?period=month")
        assert status == 200
        assert "<pre>" not in page
        assert re.search(r"<td>Received</td><td class=\"value\">2</td>", page)
        assert '<td class="number">City Heating Company</td>' in page
        charts = [
            base + src.replace("&amp;", "&")
            for src in re.findall(r'src="(/web/stats/chart/\d\.png[^"]*)"', page)
        ]
        assert len(charts) == 3
        first = []
        for chart in charts:
            async with supervisor.get(chart) as png:
                assert png.status == 200
                first.append(await png.read())
        assert len(set(first)) == 3
        await d.file_case(CITIZEN + 2, category="heating.no-heat")
        async with supervisor.get(charts[0]) as png:
            assert await png.read() == first[0]  # kept: not drawn again
    assert cjk_font() is not None, "a CJK font must be installed (.ci/run: fonts-noto-cjk)"
    await choose_language(SUPERVISOR, "zh_Hans")
    async with await browser(await sign_in_link(d, SUPERVISOR)) as supervisor:
        status, page = await get(supervisor, f"{base}/web/stats?period=month")
        assert "<td>来件</td>" in page
        for src in re.findall(r'src="(/web/stats/chart/\d\.png[^"]*)"', page):
            async with supervisor.get(base + src.replace("&amp;", "&")) as png:
                assert png.status == 200
                assert (await png.read()).startswith(b"\x89PNG")


async def test_a_rating_shows_once(web_desk: tuple[Desk, str]) -> None:
    """The citizen's two rating answers make one line on the case page (the second repeats the
    first), then the close that the rating made."""
    d, base = web_desk
    await add_team(d)
    case = await d.file_case(CITIZEN)
    number = format_tracking_number(case.tracking)
    async with await browser(await sign_in_link(d, ADMIN)) as admin:
        _, page = await get(admin, f"{base}/web/case/{number}")
        token = csrf_of(page)
        await post(
            admin,
            f"{base}/web/case/{number}/assign",
            {"csrf": token, "department": "heating-company"},
        )
        await post(admin, f"{base}/web/case/{number}/reply", {"csrf": token, "text": "Done."})
        await rate_solved(case.tracking, CITIZEN, "solved", now=datetime.now(UTC))
        await rate_satisfaction(case.tracking, CITIZEN, "satisfied", now=datetime.now(UTC))
        _, page = await get(admin, f"{base}/web/case/{number}")
    assert heading(page) == f"Request {number}: closed"
    assert [line for line in timeline(page) if "solved" in line.lower()] == [
        "anonymous citizen rated the answer: Solved; Satisfied"
    ]
