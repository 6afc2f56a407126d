"""The staff dashboard over real HTTP: sign-in through the bot's /web link, sessions, CSRF, the
same roles and department limits as the bot on every page and action, and phone intake with a
claim code that the caller redeems in the bot."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.sandbox import Sandbox
from storage.case_views import Location
from storage.tracking import format_tracking_number
from tests.databases import Database
from tests.following import Desk
from tests.harness import query, webhook_bot, webhook_settings
from tests.staff_desk import ADMIN, CITIZEN, HANDLER, SUPERVISOR, add_team
from tests.web_desk import OTHER, SECRET, browser, csrf_of, get, post, sign_in_link


@pytest.fixture
async def web_desk(sandbox: Sandbox, db_path: Database) -> AsyncIterator[tuple[Desk, str]]:
    settings = webhook_settings(sandbox, db_path, SECRET, MINSHENG_ADMIN_IDS=str(ADMIN))
    async with webhook_bot(settings, sandbox, db_path) as runtime:
        yield Desk(sandbox, runtime, db_path), f"http://{settings.webhook_listen}"


async def test_sign_in_reply_and_refusals(web_desk: tuple[Desk, str]) -> None:
    """The supervisor signs in with the link from /web, finds the case in the queue, opens it,
    replies; the citizen receives the reply in the sandbox. The link works once; a citizen asking
    /web is refused; a forged cookie or a missing CSRF token changes nothing; signing out ends
    the session."""
    d, base = web_desk
    await add_team(d)
    photo = d.sandbox.world.store_file("photo", b"\xff\xd8jpeg-bytes-of-the-stairwell").file_id
    case = await d.file_case(
        CITIZEN,
        text="楼道灯坏了两个星期，晚上上楼很危险。",
        photos=(photo,),
        location=Location(39.91, 116.40, "3号楼"),
    )
    number = format_tracking_number(case.tracking)
    link = await sign_in_link(d, SUPERVISOR)
    async with await browser(link) as staff:
        status, page = await get(staff, f"{base}/web/?q=楼道灯")
        assert status == 200
        assert number in page
        status, page = await get(staff, f"{base}/web/?q=nothing-like-this")
        assert number not in page
        status, page = await get(staff, f"{base}/web/case/{number}")
        assert status == 200
        assert "楼道灯坏了两个星期" in page
        assert "openstreetmap.org/?mlat=39.910000&amp;mlon=116.400000" in page
        async with staff.get(f"{base}/web/case/{number}/photo/0") as image:
            assert image.status == 200
            assert await image.read() == b"\xff\xd8jpeg-bytes-of-the-stairwell"
        token = csrf_of(page)
        status, page = await post(
            staff, f"{base}/web/case/{number}/reply", {"text": "已安排电工今天下午更换楼道灯。"}
        )
        assert status == 403  # no CSRF token: nothing done
        assert query(
            d.db_path,
            "SELECT count(*) FROM case_event WHERE kind LIKE 'reply%' OR kind = 'answered'",
        ) == [(0,)]
        await post(
            staff,
            f"{base}/web/case/{number}/assign",
            {"csrf": token, "department": "heating-company"},
        )
        status, page = await post(
            staff,
            f"{base}/web/case/{number}/reply",
            {"csrf": token, "text": "已安排电工今天下午更换楼道灯。"},
        )
        assert status == 200, page
        answer = await d.sandbox.wait_for_messages(CITIZEN, 2, timeout=10)  # accepted, answer
        assert "已安排电工今天下午更换楼道灯。" in answer[-1]["text"]
        # Sign out: the session is over, also for a copy of the cookie.
        cookies = {c.key: c.value for c in staff.cookie_jar}
        await post(staff, f"{base}/web/logout", {"csrf": token})
        async with aiohttp.ClientSession(cookies=cookies) as copy:
            status, _ = await get(copy, f"{base}/web/")
            assert status == 401
    async with aiohttp.ClientSession() as again:
        status, _ = await get(again, link)  # used once already
        assert status == 403
        status, _ = await get(again, f"{base}/web/")
        assert status == 401
    async with aiohttp.ClientSession(cookies={"minsheng_session": "abc.def"}) as forged:
        status, _ = await get(forged, f"{base}/web/")
        assert status == 401
    refused = await d.say(CITIZEN, "/web", len(d.sandbox.messages(CITIZEN)) + 1)
    assert refused["text"] == "Sorry, you may not do that."


async def test_same_limits_as_the_bot(web_desk: tuple[Desk, str]) -> None:
    """A handler of another department sees none of the heating company's cases, cannot open
    one by number or act on it; the heating company's handler can; a handler cannot reject; a
    removed staff member is out at the next click."""
    d, base = web_desk
    await add_team(d)
    added = await d.say(ADMIN, f"/staff add {OTHER} handler gas-company", 2)
    assert "gas-company" in added["text"]
    case = await d.file_case(CITIZEN)
    number = format_tracking_number(case.tracking)
    async with await browser(await sign_in_link(d, ADMIN)) as admin:
        _, page = await get(admin, f"{base}/web/case/{number}")
        await post(
            admin,
            f"{base}/web/case/{number}/assign",
            {"csrf": csrf_of(page), "department": "heating-company"},
        )
    async with await browser(await sign_in_link(d, OTHER)) as other:
        status, page = await get(other, f"{base}/web/")
        assert status == 200
        assert number not in page
        status, page = await get(other, f"{base}/web/case/{number}")
        assert status == 403
        token = csrf_of(page)  # the page still has the sign-out form
        status, _ = await post(
            other, f"{base}/web/case/{number}/note", {"csrf": token, "text": "looking into it"}
        )
        assert status == 403
    async with await browser(await sign_in_link(d, HANDLER)) as handler:
        status, page = await get(handler, f"{base}/web/case/{number}")
        assert status == 200
        token = csrf_of(page)
        status, page = await post(
            handler,
            f"{base}/web/case/{number}/note",
            {"csrf": token, "text": "Called the building manager."},
        )
        assert status == 200
        assert "Called the building manager." in page
        status, page = await post(
            handler,
            f"{base}/web/case/{number}/reject",
            {"csrf": token, "reason": "not ours", "confirm": "yes"},
        )
        assert status == 403
        assert "Sorry, you may not do that." in page
        removed = await d.say(
            ADMIN, f"/staff remove {HANDLER}", len(d.sandbox.messages(ADMIN)) + 1
        )
        assert str(HANDLER) in removed["text"]
        status, _ = await get(handler, f"{base}/web/case/{number}")
        assert status == 401
    notes = query(d.db_path, "SELECT count(*) FROM case_event WHERE kind = 'note'")
    assert notes == [(1,)]
    assert query(d.db_path, "SELECT status FROM service_case") == [("accepted",)]


async def test_phone_intake_and_claim(web_desk: tuple[Desk, str]) -> None:
    """A call-taker files what a caller says; the page shows the number and a claim code once;
    the caller claims the case in the bot and then follows it as their own. A wrong code or a
    second claim changes nothing."""
    d, base = web_desk
    async with await browser(await sign_in_link(d, ADMIN)) as admin:
        _, page = await get(admin, f"{base}/web/new")
        form = {
            "csrf": csrf_of(page),
            "kind": "complaint",
            "category": "heating.no-heat",
            "text": "来电：三号楼暖气不热，室内只有十四度。",
            "address": "三号楼",
            "phone": "",
        }
        status, page = await post(admin, f"{base}/web/new", {**form, "text": "短"})
        assert status == 400
        status, page = await post(admin, f"{base}/web/new", form)
        assert status == 200
        number = re.search(r"Tracking number: (\S+)</p>", page)
        code = re.search(r"Claim code: (\S+)</p>", page)
        assert number
        assert code
    rows = query(d.db_path, "SELECT channel, citizen_id FROM service_case")
    assert rows == [("phone", None)]
    wrong = await d.say(CITIZEN, f"/claim {number.group(1)} AAAAAAAA", 1)
    assert "do not match" in wrong["text"]
    done = await d.say(CITIZEN, f"/claim {number.group(1)} {code.group(1).lower()}", 2)
    assert number.group(1) in done["text"]
    assert query(d.db_path, "SELECT citizen_id FROM service_case") == [(CITIZEN,)]
    again = await d.say(72_099, f"/claim {number.group(1)} {code.group(1)}", 1)
    assert "do not match" in again["text"]
    assert query(d.db_path, "SELECT citizen_id FROM service_case") == [(CITIZEN,)]
    status = await d.say(CITIZEN, f"/status {number.group(1)}", 3)
    assert number.group(1) in status["text"]


ACTION_FORMS = {
    "reply": {"text": "We fixed it."},
    "ask": {"text": "Which floor?"},
    "note": {"text": "Called them."},
    "assign": {"department": "gas-company"},
    "transfer": {"department": "gas-company", "reason": "gas smell"},
    "close": {"reason": "fixed", "confirm": "yes"},
    "reject": {"reason": "not ours", "confirm": "yes"},
    "merge": {"into": "ABCD-EFGH-JKMN"},
}


async def test_every_page_and_action_is_guarded(web_desk: tuple[Desk, str]) -> None:
    """Signed out: every page and action answers 401 and changes nothing. A handler of another
    department: the case page and every action on the case answer 403 and change nothing."""
    d, base = web_desk
    await add_team(d)
    await d.say(ADMIN, f"/staff add {OTHER} handler gas-company", 2)
    case = await d.file_case(CITIZEN)
    number = format_tracking_number(case.tracking)
    events = "SELECT count(*) FROM case_event WHERE kind != 'authz_denied'"
    before = query(d.db_path, events)
    async with aiohttp.ClientSession() as anonymous:
        for path in (
            "/web/",
            f"/web/case/{number}",
            "/web/new",
            f"/web/case/{number}/photo/0",
            "/web/stats",
            "/web/stats/chart/0.png",
        ):
            status, _ = await get(anonymous, base + path)
            assert status == 401, path
        for action, form in ACTION_FORMS.items():
            status, _ = await post(anonymous, f"{base}/web/case/{number}/{action}", form)
            assert status == 401, action
        status, _ = await post(anonymous, f"{base}/web/new", {"text": "x" * 20})
        assert status == 401
    async with await browser(await sign_in_link(d, OTHER)) as other:
        status, page = await get(other, f"{base}/web/case/{number}")
        assert status == 403
        token = csrf_of(page)
        for action, form in ACTION_FORMS.items():
            status, _ = await post(
                other, f"{base}/web/case/{number}/{action}", {"csrf": token, **form}
            )
            assert status == 403, action
    assert query(d.db_path, events) == before
    denials = query(d.db_path, "SELECT count(*) FROM access_denial WHERE user_id = ?", (OTHER,))
    assert denials[0][0] >= len(ACTION_FORMS)  # each refusal audited
    assert query(d.db_path, "SELECT status, department_id FROM service_case") == [
        ("submitted", None)
    ]


async def test_statistics_page(web_desk: tuple[Desk, str]) -> None:
    """Supervisors see the month's figures and its three charts (PNG); a handler is refused,
    as with /stats in the bot."""
    d, base = web_desk
    await add_team(d)
    await d.file_case(CITIZEN)
    async with await browser(await sign_in_link(d, SUPERVISOR)) as supervisor:
        status, page = await get(supervisor, f"{base}/web/stats?period=month")
        assert status == 200
        assert '<td>Received</td><td class="value">1</td>' in page
        charts = re.findall(r'src="(/web/stats/chart/\d\.png[^"]*)"', page)
        assert len(charts) == 3
        async with supervisor.get(base + charts[0].replace("&amp;", "&")) as png:
            assert png.status == 200
            assert (await png.read()).startswith(b"\x89PNG")
        status, _ = await get(supervisor, f"{base}/web/stats?period=someday")
        assert status == 400
    async with await browser(await sign_in_link(d, HANDLER)) as handler:
        status, _ = await get(handler, f"{base}/web/stats")
        assert status == 403
        status, _ = await get(handler, f"{base}/web/stats/chart/0.png")
        assert status == 403
