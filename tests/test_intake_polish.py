"""Intake's small things (issue 13, item 4) and the staff card's map link (item 6), end to end:
the real bot against the sandbox, in English, Chinese and Russian.

- the summary names each answer by a short label, punctuated as the language does (标签：值);
- the date question says its format when it is asked;
- the confirmation's due time has minutes at most, in the desk's zone, in the language;
- its button says what it does ("See its progress"), and shows the request;
- every main-menu button has a command (/new, /my, ...), listed in the command menus;
- the staff card's map link opens the desk's map service, with the point in its datum.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from bot.china_coordinates import wgs84_to_bd09, wgs84_to_gcj02
from bot.sandbox import Sandbox
from bot.texts.cases import when
from storage.catalog import SAMPLE_CATALOG, CatalogInvalid, category, load_catalog
from storage.tracking import format_tracking_number
from tests.databases import Database
from tests.harness import query, wait_until
from tests.intake_desk import Citizen, buttons, category_ids, intake_bot, reply_keys

PLACE = (45.75, 126.63)  # Harbin
DESCRIPTIONS = {
    "en": "The radiators in our flat have been cold for three days.",
    "zh_Hans": "我家暖气已经三天不热了，室内很冷。",
    "ru": "Батареи в квартире холодные уже три дня.",
}
# What the summary must read, line by line, for "14" and "2025-01-05".
ANSWER_LINES = {
    "en": ["Indoor temperature, °C: 14", "Cold since: Jan 5, 2025"],
    "zh_Hans": ["室内温度（摄氏度）：14", "不热开始日期：2025年1月5日"],
    "ru": ["Температура в квартире, °C: 14", "Холодно с: 5 янв. 2025\u202fг."],
}
DATE_HINTS = {
    "en": "Please write the date as year-month-day, for example 2025-01-31.",
    "zh_Hans": "请按“年-月-日”填写日期，例如 2025-01-31。",
    "ru": "Напишите дату в виде год-месяц-день, например 2025-01-31.",
}


def transcript(messages: list[dict[str, object]]) -> str:
    return "\n".join(f"  bot: {str(m.get('text') or '')!r}" for m in messages)


@pytest.mark.parametrize(
    ("language", "maps"), [("en", "osm"), ("zh_Hans", "amap"), ("ru", "baidu")]
)
async def test_a_request_reads_right_from_question_to_staff_card(
    sandbox: Sandbox, db_path: Database, language: str, maps: str
) -> None:
    async with intake_bot(sandbox, db_path, MINSHENG_MAP_LINKS=maps) as runtime:
        c = Citizen(sandbox, db_path, 5300 + len(language), language)
        t = c.t
        ids = category_ids(db_path)
        seen = await c.say("/new")  # the New request button's command
        seen += await c.press("in:k:complaint")
        seen += await c.press(f"in:d:{ids['heating']}")
        seen += await c.press(f"in:c:{ids['heating.no-heat']}")
        [since] = await c.say("14")
        prompt = (await category("heating.no-heat")).questions[1].prompt(language)
        assert since["text"] == f"{prompt}\n{DATE_HINTS[language]}"  # with the question
        seen += [since, *await c.say("2025-01-05")]
        seen += await c.say(DESCRIPTIONS[language])
        seen += await c.press("in:skip")
        seen += await c.send(location={"latitude": PLACE[0], "longitude": PLACE[1]})
        summary = await c.say(t.gettext("Stay anonymous"))
        lines = summary[0]["text"].split("\n")
        assert set(ANSWER_LINES[language]) <= set(lines), lines
        assert not any("?" in line or "？" in line for line in lines), lines
        [done] = await c.press("in:submit")
        print(f"\n[{language}]\n{transcript([*seen, *summary, done])}")

        [(tracking, due_at)] = query(
            db_path, "SELECT tracking, due_at FROM service_case WHERE citizen_id = ?", (c.id,)
        )
        due = when(datetime.fromisoformat(str(due_at)), runtime.services.settings.zone, language)
        assert t.gettext("An answer is due by {due}.", due=due) in done["text"].split("\n")
        assert not re.search(r"\d:\d\d:\d\d", done["text"])  # no seconds
        assert buttons(done) == [(t.gettext("See its progress"), f"case:{tracking}")]
        [progress] = await c.press(f"case:{tracking}")
        assert t.gettext("Status: {status}", status=t.gettext("submitted")) in progress["text"]

        # /my is the My requests button.
        [mine] = await c.say("/my")
        [by_button] = await c.say(t.gettext("My requests"))
        assert (mine["text"], buttons(mine)) == (by_button["text"], buttons(by_button))
        assert f"case:{tracking}" in [data for _, data in buttons(mine)]

        card = await staff_card(sandbox, format_tracking_number(tracking))
        print(f"[{language} staff card]\n{card}")
        # The staff chat reads English; answers by their labels, a date as a date.
        assert {"• Indoor temperature, °C: 14", "• Cold since: Jan 5, 2025"} <= set(
            card.split("\n")
        )
        [link] = [line.removeprefix("Map: ") for line in card.split("\n") if "Map: " in line]
        assert_points_at(link, maps)


async def staff_card(sandbox: Sandbox, number: str) -> str:
    staff = sandbox.config.staff_group_id

    def cards() -> list[str]:
        return [
            str(m.get("text"))
            for m in sandbox.messages(staff)
            if str(m.get("text") or "").startswith(f"New request {number}")
        ]

    await wait_until(lambda: bool(cards()), 10, "the staff chat's new-case card")
    return cards()[0]


def assert_points_at(link: str, maps: str) -> None:
    """The link is the service's, and its point is PLACE in that service's datum."""
    parts = urlsplit(link)
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    if maps == "osm":
        assert parts.netloc == "www.openstreetmap.org"
        assert (float(query["mlat"]), float(query["mlon"])) == PLACE
        return
    if maps == "amap":
        assert parts.netloc == "uri.amap.com"
        lon, lat = (float(part) for part in query["position"].split(","))
        expected = wgs84_to_gcj02(*PLACE)
    else:
        assert parts.netloc == "api.map.baidu.com"
        lat, lon = (float(part) for part in query["location"].split(","))
        expected = wgs84_to_bd09(*PLACE)
    assert abs(lat - expected[0]) < 1e-6
    assert abs(lon - expected[1]) < 1e-6
    assert abs(lat - PLACE[0]) + abs(lon - PLACE[1]) > 0.003  # converted, not passed through


MAIN_MENU_COMMANDS = {
    "New request": "new",
    "My requests": "my",
    "Track a request": "status",
    "Help": "help",
    "Language": "language",
}


async def test_every_menu_button_has_a_command_in_every_menu(
    sandbox: Sandbox, db_path: Database
) -> None:
    async with intake_bot(sandbox, db_path):
        c = Citizen(sandbox, db_path, 5390, "en")
        [welcome] = await c.say("/start")
        labels = [key["text"] for key in reply_keys(welcome)]
        assert sorted(labels) == sorted(MAIN_MENU_COMMANDS)
        await wait_until(
            lambda: {"", "en", "zh", "ru"} <= set(sandbox.commands), 10, "the command menus"
        )
    described = {
        "": ("File a new request", "Your requests and where they stand"),
        "en": ("File a new request", "Your requests and where they stand"),
        "zh": ("提交新的诉求", "我的诉求及办理进度"),
        "ru": ("Подать новое обращение", "Ваши обращения и ход их рассмотрения"),
    }
    for code, (new, my) in described.items():
        listed = {item["command"]: item["description"] for item in sandbox.commands[code]}
        assert set(MAIN_MENU_COMMANDS.values()) <= set(listed), code
        assert (listed["new"], listed["my"]) == (new, my), code


# -- the catalogue's labels ---------------------------------------------------------------------

NO_LABELS = """
[emergency]
numbers = [{ number = "110", names = { en = "Police", zh_Hans = "报警", zh_Hant = "報警", ru = "Полиция" } }]
keywords = { en = ["fire"], zh_Hans = ["火灾"], zh_Hant = ["火災"], ru = ["пожар"] }

[[department]]
code = "city"
names = { en = "City", zh_Hans = "市政府", zh_Hant = "市政府", ru = "Город" }

[[domain]]
code = "noise"
department = "city"
names = { en = "Noise", zh_Hans = "噪声", zh_Hant = "噪音", ru = "Шум" }

[[domain.category]]
code = "noise.night"
time_limit_working_days = 5
names = { en = "Noise at night", zh_Hans = "夜间噪声", zh_Hant = "夜間噪音", ru = "Шум ночью" }

[[domain.category.question]]
code = "since"
type = "date"
prompt = { en = "Since what date?", zh_Hans = "从哪天开始？", zh_Hant = "從哪天開始？", ru = "С какого числа?" }
"""  # noqa: E501


async def test_a_question_without_a_label_goes_by_its_prompt(db: None, tmp_path: Path) -> None:
    """A desk's own catalogue may have no labels: the prompt stands, less its question mark."""
    path = tmp_path / "desk.toml"
    path.write_text(NO_LABELS, encoding="utf-8")
    await load_catalog(path)
    [since] = (await category("noise.night")).questions
    assert [since.label(lang) for lang in ("en", "zh_Hans", "ru")] == [
        "Since what date",
        "从哪天开始",
        "С какого числа",
    ]
    labelled = NO_LABELS + 'label = { en = "Since", zh_Hans = "起始日期" }\n'
    path.write_text(labelled, encoding="utf-8")
    with pytest.raises(CatalogInvalid, match=r"label\.zh_Hant"):
        await load_catalog(path)
    await load_catalog(SAMPLE_CATALOG)
    [_, cold_since] = (await category("heating.no-heat")).questions
    assert (cold_since.label("en"), cold_since.label("zh_Hant")) == ("Cold since", "不熱開始日期")
