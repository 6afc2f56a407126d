"""The weekly digest (民声摘报): rising topics on a fixture with a topic planted in Chinese and
in English, the sweep that sends it once per week (run twice, after downtime, across a
restart), and /digest on demand through the sandbox."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot.clock import ManualClock
from bot.sandbox import Sandbox
from bot.sweeps import all_sweeps
from storage.catalog import SAMPLE_CATALOG, load_catalog
from storage.digest import digest_facts, due_week, send_weekly_digest, week_key
from storage.models import OutboxMessage, SweepMark
from storage.periods import week_of
from storage.topics import rising_topics, terms
from tests.databases import Database
from tests.following import Desk
from tests.harness import eventually, query, running_bot, settings_for
from tests.staff_fixtures import SHANGHAI
from tests.stats_fixtures import make

STAFF_CHAT = -100_555
WEEK = week_of(datetime(2025, 3, 5, tzinfo=SHANGHAI).date(), SHANGHAI)  # Mon 3 - Sun 9 March
BACKGROUND = (
    "暖气不热，室温只有十五度",
    "小区门口垃圾没人清理，味道很大",
    "公交车晚点，早上等了四十分钟",
    "The bus was forty minutes late again",
    "Water pressure in our building is very low",
    "路灯坏了，晚上出行不安全",
    "Rubbish bins on Heping Road overflow",
    "共享单车很多，希望增加停车点",  # the planted topic's words, now and then, before
)
PLANTED_ZH = (
    "地铁站旁共享单车乱停放，影响通行",
    "学校门口共享单车乱停放没人管",
    "共享单车乱停放堵住了盲道",
    "小区出入口共享单车乱停放",
    "医院门前共享单车乱停放",
    "商场外面共享单车乱停放，老人很难走",
)
PLANTED_EN = (
    "E-scooters left across the pavement outside the station",
    "Scooters block the pavement at the school gate",
    "Dozens of scooters dumped on the pavement by the market",
    "Rental scooters lying on the pavement near the hospital",
    "The pavement is covered with scooters again",
)


def test_terms_cut_chinese_into_pieces_and_english_into_words() -> None:
    found = terms("小区晚上施工噪音扰民，The streetlights are broken")
    assert {"噪音", "噪音扰民", "扰民", "施工"} <= found
    assert {"streetlights", "broken"} <= found
    assert "the" not in found
    assert "are" not in found
    assert not any("，" in term for term in found)


def test_rising_topics_grow_into_the_shared_phrase() -> None:
    before = [list(BACKGROUND) * 2 for _ in range(4)]
    current = [(n, text) for n, text in enumerate([*BACKGROUND, *PLANTED_ZH, *PLANTED_EN])]
    topics = [t.term for t in rising_topics(current, before)]
    assert topics[:2] == ["共享单车乱停放", "pavement"] or set(topics[:2]) == {
        "共享单车乱停放",
        "scooters",
    }
    assert "暖气" not in topics  # as frequent as before: not rising


@pytest.fixture
async def digest_db(db: None) -> None:
    await load_catalog(SAMPLE_CATALOG)


async def plant(first: datetime, texts: tuple[str, ...], start: int) -> None:
    for n, text in enumerate(texts):
        created = first + timedelta(hours=5 + 7 * n)
        await make(start + n, "heating-company", "accepted", created=created, text=text)


@pytest.mark.usefixtures("digest_db")
async def test_the_digest_finds_the_planted_topics() -> None:
    for weeks_back in range(1, 5):  # four ordinary weeks before
        await plant(WEEK.start - timedelta(days=7 * weeks_back), BACKGROUND, 100 * weeks_back)
    await plant(WEEK.start, BACKGROUND + PLANTED_ZH + PLANTED_EN, 1000)
    facts = await digest_facts(WEEK, now=WEEK.end + timedelta(days=1), zone=SHANGHAI)
    assert (facts["received"], facts["previous"]) == (19, 8)
    assert facts["week"] == "2025-W10"
    topics = [term for term, _, _ in facts["topics"]]
    assert topics[0] == "共享单车乱停放"
    assert topics[1] in ("pavement", "scooters")
    counts = {term: (count, base) for term, count, base in facts["topics"]}
    assert counts["共享单车乱停放"] == (6, 0.0)
    assert facts["categories"] == [["heating.no-heat", 19, 8]]
    # Every case is open and past its due time (+48 h) a day after the week: a hot spot.
    assert facts["overdue_departments"] == [["heating-company", 8 * 4 + 19]]
    assert facts["ranking"][0][:2] == ["heating-company", 1]


@pytest.mark.usefixtures("digest_db")
async def test_the_sweep_sends_once_per_week() -> None:
    monday = datetime(2025, 3, 10, 9, 0, tzinfo=SHANGHAI)
    assert due_week(monday, SHANGHAI, 0, monday.time()) == WEEK
    await plant(WEEK.start, PLANTED_EN, 1)

    async def run(at: datetime) -> int:
        return await send_weekly_digest(
            at, staff_chat_id=STAFF_CHAT, zone=SHANGHAI, schedule="MON 09:00"
        )

    assert await run(monday - timedelta(minutes=1)) == 0  # the week before is empty
    assert await run(monday) == 1
    assert await run(monday + timedelta(minutes=1)) == 0  # run twice
    assert await run(monday + timedelta(days=2)) == 0  # later that week
    assert await run(monday + timedelta(days=7, hours=3)) == 0  # an empty week sends nothing
    await plant(WEEK.start + timedelta(days=8), PLANTED_ZH, 50)
    # Down over the next Monday morning: sent at the first sweep after it.
    assert await run(monday + timedelta(days=8, hours=5)) == 1
    assert await run(monday + timedelta(days=8, hours=6)) == 0
    rows = await OutboxMessage.filter(chat_id=STAFF_CHAT).values_list("dedupe_key", flat=True)
    assert sorted(rows) == ["digest:2025-W10", "digest:2025-W11"]
    assert sorted(await SweepMark.all().values_list("key", flat=True)) == sorted(rows)
    assert week_key(WEEK) == "digest:2025-W10"
    assert await run(monday.replace(year=2025) + timedelta(days=14)) == 0


async def test_digest_in_the_staff_chat_once_across_a_restart(
    sandbox: Sandbox, db_path: Database
) -> None:
    # Sunday evening: the sweep at start finds nothing due (the week before is empty).
    clock = ManualClock(datetime(2025, 3, 9, 20, 0, tzinfo=SHANGHAI))
    admin = 77_001
    settings = settings_for(
        sandbox, db_path, MINSHENG_ADMIN_IDS=str(admin), MINSHENG_SWEEP_INTERVAL="3600"
    )
    staff = sandbox.config.staff_group_id

    def digests() -> list[str]:
        return [
            m["text"]
            for m in sandbox.messages(staff)
            if (m.get("text") or "").startswith("Weekly digest")
        ]

    async with running_bot(settings, clock) as runtime:
        d = Desk(sandbox, runtime, db_path)
        for n, text in enumerate(PLANTED_ZH):
            await d.file_case(77_100 + n, text=text, at=WEEK.start + timedelta(hours=10 + n))
        sweep = all_sweeps(runtime.services)["weekly_digest"]
        assert await sweep(clock.now()) == 0  # not Monday 09:00 yet
        clock.advance(timedelta(hours=14))  # Monday 10:00
        assert [await sweep(clock.now()), await sweep(clock.now())] == [1, 0]
        runtime.sender.wake()
        await eventually(digests, 10, what="the digest")
        # On demand, for an admin: the same week.
        asked = await d.say(admin, "/digest", 1)
        assert asked["text"].startswith("Weekly digest, 2025-03-03 to 2025-03-09")
        assert "Received: 6" in asked["text"]
        assert "共享单车乱停放" in asked["text"]
    clock.advance(timedelta(days=2))  # down until Wednesday, then started again
    async with running_bot(settings, clock) as runtime:
        assert await all_sweeps(runtime.services)["weekly_digest"](clock.now()) == 0
    assert len(digests()) == 1
    text = digests()[0]
    assert text.startswith("Weekly digest, 2025-03-03 to 2025-03-09")
    assert "Received: 6 (week before: 0, new)" in text
    assert "• 共享单车乱停放: 6 requests (about 0.0 a week before)" in text
    assert query(db_path, "SELECT key FROM sweep_mark WHERE key LIKE 'digest:%'") == [
        ("digest:2025-W10",)
    ]
