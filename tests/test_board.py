"""The public board over real HTTP, on the bot's own web server: published cases listed and
found (Chinese words of two and four characters, either script, English), a case's page with
the texts staff approved and none of the citizen's own, ticked photos only, the feed, the
visitor's language; everything else answers the same 404 as a number that never existed."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import aiohttp
import pytest

from bot.sandbox import Sandbox
from storage.case_views import Location
from storage.lifecycle import accept_case, submit_reply
from storage.privacy import forget_citizen
from storage.publication import Publication, publish, unpublish
from storage.rating import rate_satisfaction, rate_solved
from storage.tracking import format_tracking_number
from tests.databases import Database
from tests.following import Desk
from tests.harness import execute, webhook_bot, webhook_settings
from tests.open311_desk import xml_root

SECRET = "board-secret"
ADMIN = 73_001
CITIZEN, NEIGHBOUR, PRIVATE = 73_010, 73_011, 73_012
SAYS = "我是王小明，电话13912345678，住幸福小区3号楼。家里暖气不热，只有十四度。"
TITLE = "幸福小区暖气不热"
TEXT = "居民反映楼内暖气不热，室温只有十四度。"
NOTE = "热力公司已排查管道，暖气已恢复。"
SECRET_WORDS = "绝密字样的诉求：楼下烧烤摊"
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
async def board(sandbox: Sandbox, db_path: Database) -> AsyncIterator[tuple[Desk, str]]:
    settings = webhook_settings(sandbox, db_path, SECRET, MINSHENG_ADMIN_IDS=str(ADMIN))
    async with webhook_bot(settings, sandbox, db_path) as runtime:
        yield Desk(sandbox, runtime, db_path), f"http://{settings.webhook_listen}"


async def answered(d: Desk, citizen: int, text: str, *, consent: bool, **extra: object) -> str:
    """A case filed and answered by the admin; the citizen's consent as given (the chat's
    consent question belongs to the intake)."""
    case = await d.file_case(citizen, text=text, category="heating.no-heat", **extra)  # type: ignore[arg-type]
    now, zone = datetime.now(UTC), d.runtime.services.settings.zone
    await accept_case(case.tracking, "heating-company", by=ADMIN, now=now, zone=zone)
    await submit_reply(case.tracking, "已处理。", by=ADMIN, now=now)
    await execute(
        d.db_path,
        "UPDATE service_case SET publish_consent = ? WHERE tracking = ?",
        (consent, case.tracking),
    )
    return format_tracking_number(case.tracking)


async def fetch(url: str, **headers: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as answer:
        return answer.status, await answer.text()


async def test_published_cases_only_found_and_shown_without_the_citizens_words(
    board: tuple[Desk, str],
) -> None:
    d, base = board
    shown = d.sandbox.world.store_file("photo", b"\xff\xd8\xffjpeg-the-radiator").file_id
    hidden = d.sandbox.world.store_file("photo", b"\xff\xd8\xffjpeg-the-citizens-door").file_id
    number = await answered(
        d,
        CITIZEN,
        SAYS,
        consent=True,
        photos=(hidden, shown),
        location=Location(45.75, 126.63, "幸福小区3号楼"),
        phone="13912345678",
    )
    now = datetime.now(UTC)
    await publish(number, Publication(TITLE, TEXT, NOTE, photos=(1,)), by=ADMIN, now=now)
    await rate_solved(number, CITIZEN, "solved", now=now)
    await rate_satisfaction(number, CITIZEN, "basic", now=now)
    english = await answered(d, NEIGHBOUR, "The streetlight is out.", consent=True)
    await publish(
        english,
        Publication("Streetlight out on Birch Lane", "A streetlight was out.", "Repaired."),
        by=ADMIN,
        now=now,
    )
    consenting = await answered(d, NEIGHBOUR, SECRET_WORDS, consent=True)  # not published
    private = await answered(d, PRIVATE, SECRET_WORDS, consent=False)
    # Texts in the row without the citizen's consent: still nothing of it is public.
    await execute(
        d.db_path,
        "UPDATE service_case SET public_title = ?, public_text = ?, published_at = ?"
        " WHERE tracking = ?",
        (SECRET_WORDS, SECRET_WORDS, now, private.replace("-", "")),
    )

    status, page = await fetch(f"{base}/board/")
    assert status == 200
    assert number in page
    assert TITLE in page
    assert english in page
    assert consenting not in page
    assert private not in page
    assert "<script" not in page
    for words in ("暖气", "暖气不热", "暖氣不熱", "十四度", "streetlight BIRCH"):
        status, page = await fetch(f"{base}/board/?q={words}")
        assert status == 200
        assert (number in page) == (words != "streetlight BIRCH"), words
        assert (english in page) == (words == "streetlight BIRCH"), words
    for words in ("烧烤", "绝密字样", "王小明", "13912345678"):
        _, page = await fetch(f"{base}/board/?q={words}")
        assert number not in page, words
        assert consenting not in page
        assert private not in page
    _, page = await fetch(
        f"{base}/board/?q=暖气&category=heating.no-heat&department=heating-company"
    )
    assert number in page
    _, page = await fetch(f"{base}/board/?q=暖气&department=gas-company")
    assert number not in page

    status, page = await fetch(f"{base}/board/{number}")
    assert status == 200
    for public in (TITLE, TEXT, NOTE, "City Heating Company", "Basically satisfied"):
        assert public in page, public
    for citizens_own in ("王小明", "13912345678", "3号楼", "家里暖气不热", "已处理", "45.75"):
        assert citizens_own not in page, citizens_own
    assert f"/board/{number}/photo/0" in page
    assert f"/board/{number}/photo/1" not in page

    _, missing = await fetch(f"{base}/board/AAAA-AAAA-AAAA")
    for other in (consenting, private, "AAAA-AAAA-AAAA", "no-such-thing"):
        status, page = await fetch(f"{base}/board/{other}")
        assert status == 404
        assert page == missing.replace("AAAA-AAAA-AAAA", other)
        status, _ = await fetch(f"{base}/board/{other}/photo/0")
        assert status == 404

    async with aiohttp.ClientSession() as session:
        async with session.get(f"{base}/board/{number}/photo/0") as image:
            assert image.status == 200
            assert await image.read() == b"\xff\xd8\xffjpeg-the-radiator"
            assert image.headers["Content-Type"] == "image/jpeg"
        async with session.get(f"{base}/board/{number}/photo/1") as image:
            assert image.status == 404
            assert b"the-citizens-door" not in await image.read()

    status, body = await fetch(f"{base}/board/feed.xml")
    assert status == 200
    feed = xml_root(body)
    titles = [entry.findtext(f"{ATOM}title") for entry in feed.iter(f"{ATOM}entry")]
    assert titles == ["Streetlight out on Birch Lane", TITLE]
    assert SECRET_WORDS not in body
    assert "王小明" not in body

    await unpublish(number, "再核实", by=ADMIN, now=datetime.now(UTC))
    status, _ = await fetch(f"{base}/board/{number}")
    assert status == 404
    _, page = await fetch(f"{base}/board/?q=暖气")
    assert number not in page
    _, body = await fetch(f"{base}/board/feed.xml")
    assert TITLE not in body


async def test_the_visitors_language_and_escaping(board: tuple[Desk, str]) -> None:
    d, base = board
    number = await answered(d, CITIZEN, SAYS, consent=True)
    title = '<script>alert("x")</script> 暖气'
    await publish(number, Publication(title, TEXT, NOTE), by=ADMIN, now=datetime.now(UTC))
    _, page = await fetch(f"{base}/board/{number}", **{"Accept-Language": "ru-RU,ru;q=0.9"})
    assert "Ответ" in page
    assert '<html lang="ru">' in page
    _, page = await fetch(f"{base}/board/?q=暖气", **{"Accept-Language": "zh-TW"})
    assert "已答覆的訴求" in page
    assert "&lt;script&gt;" in page
    assert "<script>" not in page
    _, page = await fetch(f"{base}/board/?lang=zh_Hans", **{"Accept-Language": "ru"})
    assert "已答复的诉求" in page
    assert f"/board/{number}?lang=zh_Hans" in page  # the choice follows the visitor
    _, page = await fetch(f"{base}/board/?lang=xx")
    assert "Answered requests" in page


async def test_the_language_switcher_switches(board: tuple[Desk, str]) -> None:
    """Each language link names its own language, whatever the page's `?lang=`; `?lang=` takes
    the hreflang spellings (zh-Hans, zh-Hant) and zh-CN / zh-TW, in any case."""
    d, base = board
    number = await answered(d, CITIZEN, SAYS, consent=True)
    await publish(number, Publication(TITLE, TEXT, NOTE), by=ADMIN, now=datetime.now(UTC))
    for chosen in ("zh_Hans", "ru", "en", "zh-Hant"):
        _, page = await fetch(f"{base}/board/?lang={chosen}&q=暖气")
        links = dict(re.findall(r'<a href="([^"]*)" hreflang="([^"]*)"', page))
        by_tag = {tag: href for href, tag in links.items()}
        assert set(by_tag) == {"en", "zh-Hans", "zh-Hant", "ru"}, page
        for tag, href in by_tag.items():
            assert f"lang={tag.replace('-', '_')}" in href, (chosen, tag, href)
            assert "q=%E6%9A%96%E6%B0%94" in href  # the search is kept
    said = {"zh-Hans": "zh-Hans", "ZH-HANT": "zh-Hant", "zh-CN": "zh-Hans", "zh-tw": "zh-Hant"}
    for tag, page_tag in said.items() | {("RU", "ru"), ("zh", "zh-Hans")}:
        _, page = await fetch(f"{base}/board/{number}?lang={tag}", **{"Accept-Language": "en"})
        assert f'<html lang="{page_tag}">' in page, tag
        _, page = await fetch(f"{base}/board/?lang={tag}", **{"Accept-Language": "en"})
        assert f'<html lang="{page_tag}">' in page, tag
        assert f"/board/{number}?lang={page_tag.replace('-', '_')}" in page  # kept, our spelling
    # Characters no search means: a NUL (it would end the SQL text), controls, bidi overrides.
    for odd in ("%00", "%E6%9A%96%E6%B0%94%00", "%07%1b", "%E2%80%AE"):
        status, page = await fetch(f"{base}/board/?q={odd}")
        assert status == 200, odd


async def test_forgetting_leaves_no_trigram_of_the_public_text(
    board: tuple[Desk, str], db_path: Database
) -> None:
    """/forget clears the public text, and SQLite's search index keeps none of its trigrams:
    FTS5 would keep them in its segments (the text could be rebuilt) until they are merged."""
    if db_path.path is None:
        pytest.skip("SQLite's index; PostgreSQL's trigram index drops dead rows at VACUUM")
    d, base = board
    marked = "鑫淼犇住在暖气不热的楼里。"
    for n in range(30):  # other public texts, so that the index has segments of its own
        says = f"第{n}号楼暖气不热，室温十四度。"
        other = await answered(d, CITIZEN + 1 + n, says, consent=True)
        await publish(other, Publication(f"暖气{n}", TEXT, NOTE), by=ADMIN, now=datetime.now(UTC))
    number = await answered(d, CITIZEN, SAYS, consent=True)
    await publish(number, Publication(TITLE, marked, NOTE), by=ADMIN, now=datetime.now(UTC))
    _, page = await fetch(f"{base}/board/?q=鑫淼犇")
    assert number in page

    await forget_citizen(CITIZEN, now=datetime.now(UTC))
    _, page = await fetch(f"{base}/board/?q=鑫淼犇")
    assert number not in page
    await execute(db_path, "PRAGMA wal_checkpoint(TRUNCATE)")
    stored = db_path.path.read_bytes()
    for trigram in ("鑫淼犇", "淼犇住", "犇住在"):
        assert trigram.encode() not in stored, trigram


async def test_a_visitor_reading_too_fast_is_asked_to_wait(
    sandbox: Sandbox, db_path: Database
) -> None:
    """Board pages are counted by address, as Open311's reads are: past the minute's limit the
    page answers 429 in the visitor's language, with Retry-After, and counts nothing more."""
    limit = {"MINSHENG_ADMIN_IDS": str(ADMIN), "MINSHENG_BOARD_READS_PER_MINUTE": "3"}
    settings = webhook_settings(sandbox, db_path, SECRET, **limit)
    async with webhook_bot(settings, sandbox, db_path):
        base = f"http://{settings.webhook_listen}"
        for _ in range(3):
            status, _ = await fetch(f"{base}/board/?lang=zh_Hans")
            assert status == 200
        search = f"{base}/board/?lang=zh_Hans&q=暖气"
        async with aiohttp.ClientSession() as session, session.get(search) as answer:
            page = await answer.text()
            assert answer.status == 429
            assert 0 < int(answer.headers["Retry-After"]) <= 60
        assert "访问过于频繁" in page
        assert "<script" not in page
