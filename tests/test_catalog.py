"""The catalogue: loading the data file, reloading it, refusing bad files, emergencies."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from storage import catalog
from storage.catalog import (
    SAMPLE_CATALOG,
    CatalogInvalid,
    CatalogNotLoaded,
    CategoryNotFound,
    DepartmentNotFound,
    EmergencyInfo,
    load_catalog,
    matches_emergency,
)
from storage.catalog_checks import LANGS
from storage.models import CatalogMeta, Category, Department


@pytest.fixture
async def sample(db: None) -> None:
    await load_catalog(SAMPLE_CATALOG)


def write(tmp_path: Path, text: str, name: str = "catalog.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


async def all_leaves() -> list[catalog.CategoryView]:
    return [leaf for d in await catalog.domains() for leaf in await catalog.categories_of(d.code)]


async def snapshot() -> tuple[list[dict[str, Any]], ...]:
    return (
        await Department.all().order_by("id").values(),
        await Category.all().order_by("id").values(),
        await CatalogMeta.all().values("key", "data"),
    )


def assert_four_languages(names: Any, what: str) -> None:
    assert set(names) == set(LANGS), what
    assert all(isinstance(v, str) and v.strip() for v in names.values()), what


# --- the sample ---------------------------------------------------------------------------------


async def test_the_sample_loads_a_realistic_desk(db: None) -> None:
    assert not await catalog.catalog_loaded()
    report = await load_catalog(SAMPLE_CATALOG)
    assert await catalog.catalog_loaded()
    domains = await catalog.domains()
    leaves = await all_leaves()
    assert len(domains) >= 12
    assert len(leaves) >= 45
    assert report.categories_created == len(domains) + len(leaves)
    assert report.departments_created == len(await catalog.departments()) >= 15
    assert all(d.is_domain and d.department_code is None for d in domains)
    codes = [leaf.code for leaf in leaves]
    assert len(codes) == len(set(codes))


async def test_every_name_is_in_four_languages(sample: None) -> None:
    for dept in await catalog.departments(include_inactive=True):
        assert_four_languages(dept.names, dept.code)
    for domain in await catalog.domains():
        assert_four_languages(domain.names, domain.code)
        for leaf in await catalog.categories_of(domain.code):
            assert_four_languages(leaf.names, leaf.code)
            for question in leaf.questions:
                assert_four_languages(question.prompts, f"{leaf.code} {question.code}")
                for choice in question.choices:
                    assert_four_languages(choice.names, f"{leaf.code} {choice.code}")
    for number in (await catalog.emergency_info()).numbers:
        assert_four_languages(number.names, number.number)


async def test_chinese_names_are_really_in_both_scripts(sample: None) -> None:
    """Traditional names are written in traditional characters, not copied."""
    leaves = await all_leaves()
    differing = [c for c in leaves if c.names["zh_Hans"] != c.names["zh_Hant"]]
    assert len(differing) > len(leaves) / 2
    heating = await catalog.category("heating.no-heat")
    assert heating.name("zh_Hans") == "不供暖或暖气不热"
    assert heating.name("zh-Hant") == "不供暖或暖氣不熱"
    assert heating.name("fr") == heating.name("en")


async def test_every_leaf_has_a_department_and_one_time_limit(sample: None) -> None:
    departments = {d.code for d in await catalog.departments()}
    leaves = await all_leaves()
    emergencies = [leaf for leaf in leaves if leaf.emergency]
    assert 1 <= len(emergencies) <= 3
    for leaf in leaves:
        limits = [leaf.time_limit_hours, leaf.time_limit_working_days]
        if leaf.emergency:  # diverted, never filed: nothing to be late for
            assert limits == [None, None], leaf.code
            continue
        assert leaf.department_code in departments, leaf.code
        assert sum(limit is not None for limit in limits) == 1, leaf.code
    by_code = {leaf.code: leaf for leaf in leaves}
    assert by_code["heating.no-heat"].time_limit_hours == 24
    assert by_code["water.outage"].time_limit_hours == 12
    assert by_code["general.policy"].time_limit_working_days == 3
    assert by_code["roads.potholes"].location_required
    assert not by_code["social-security.pensions"].location_required


async def test_the_department_tree(sample: None) -> None:
    departments = {d.code: d for d in await catalog.departments()}
    assert departments["city"].parent_code is None
    assert departments["housing-bureau"].parent_code == "city"
    assert departments["east-heping-street"].parent_code == "east-district"
    assert departments["housing-bureau"].name("zh_Hans") == "市住房和城乡建设局"
    assert departments["housing-bureau"].review_required
    assert not departments["hotline-center"].review_required
    for dept in departments.values():  # every department reaches the city
        node, steps = dept, 0
        while node.parent_code is not None and steps < 5:
            node, steps = departments[node.parent_code], steps + 1
        assert node.code == "city"


async def test_categories_carry_their_own_questions(sample: None) -> None:
    heating = await catalog.category("heating.no-heat")
    temp, since = heating.questions
    assert (temp.code, temp.type, temp.required, temp.min, temp.max) == (
        "indoor_temp",
        "number",
        True,
        0,
        30,
    )
    assert (since.code, since.type) == ("since", "date")
    assert "°C" in temp.prompt("ru")
    wages = await catalog.category("employment.unpaid-wages")
    assert [(q.code, q.type) for q in wages.questions] == [
        ("amount_owed", "number"),
        ("employer", "text"),
        ("months_owed", "number"),
    ]
    noise = await catalog.category("noise.construction")
    (when,) = noise.questions
    assert when.type == "choice"
    assert [c.code for c in when.choices] == ["day", "evening", "night"]
    assert when.choices[2].name("zh_Hant").startswith("夜間")


async def test_lookups(sample: None) -> None:
    housing = await catalog.categories_of("housing")
    assert housing == sorted(housing, key=lambda c: c.sort)
    assert all(c.domain_code == "housing" for c in housing)
    assert (await catalog.category("housing")).is_domain
    assert (await catalog.department("city")).name("ru") == "Народное правительство города"
    with pytest.raises(CategoryNotFound):
        await catalog.category("housing.castles")
    with pytest.raises(CategoryNotFound):
        await catalog.categories_of("heating.no-heat")  # a category, not a domain
    with pytest.raises(DepartmentNotFound):
        await catalog.department("ministry-of-magic")


# --- reloading ----------------------------------------------------------------------------------


async def test_reloading_the_same_file_changes_nothing(sample: None) -> None:
    before = await snapshot()
    report = await load_catalog(SAMPLE_CATALOG)
    assert (report.departments_created, report.departments_updated) == (0, 0)
    assert (report.categories_created, report.categories_updated) == (0, 0)
    assert report.departments_deactivated == report.categories_deactivated == ()
    assert await snapshot() == before


async def test_reload_updates_names_and_limits_and_keeps_ids(sample: None, tmp_path: Path) -> None:
    old = await catalog.category("heating.no-heat")
    dept = await catalog.department("heating-company")
    text = SAMPLE_CATALOG.read_text(encoding="utf-8")
    text = text.replace('"No heating or radiators not warm"', '"Heating off or too weak"')
    text = text.replace('names.en = "City Heating Company"', 'names.en = "Heat Supply Group"')
    start = text.index('code = "heating.no-heat"')
    limit = text.index("time_limit_hours = 24", start)
    text = text[:limit] + "time_limit_hours = 36" + text[limit + len("time_limit_hours = 24") :]
    report = await load_catalog(write(tmp_path, text))
    assert (report.categories_updated, report.departments_updated) == (1, 1)
    assert report.categories_created == report.departments_created == 0
    new = await catalog.category("heating.no-heat")
    assert new.id == old.id
    assert new.name("en") == "Heating off or too weak"
    assert new.name("zh_Hans") == old.name("zh_Hans")
    assert new.time_limit_hours == 36
    assert (await catalog.department("heating-company")).id == dept.id
    assert (await catalog.department("heating-company")).name("en") == "Heat Supply Group"


async def test_a_code_left_out_becomes_inactive_and_comes_back(
    sample: None, tmp_path: Path
) -> None:
    text = SAMPLE_CATALOG.read_text(encoding="utf-8")
    block_start = text.index('[[domain.category]]\ncode = "urban.flyposting"')
    block_end = text.index("\n\n\n", block_start)
    old = await catalog.category("urban.flyposting")
    report = await load_catalog(write(tmp_path, text[:block_start] + text[block_end:]))
    assert report.categories_deactivated == ("urban.flyposting",)
    assert report.categories_updated == 0
    gone = await catalog.category("urban.flyposting")  # old cases still name it
    assert (gone.id, gone.active) == (old.id, False)
    assert "urban.flyposting" not in [c.code for c in await catalog.categories_of("urban")]
    report = await load_catalog(SAMPLE_CATALOG)
    assert report.categories_updated == 1
    assert (await catalog.category("urban.flyposting")).active


async def test_a_department_left_out_becomes_inactive(sample: None, tmp_path: Path) -> None:
    text = SAMPLE_CATALOG.read_text(encoding="utf-8")
    start = text.index('[[department]]\ncode = "west-jinqiao-street"')
    end = text.index("\n\n", start)
    report = await load_catalog(write(tmp_path, text[:start] + text[end:]))
    assert report.departments_deactivated == ("west-jinqiao-street",)
    assert not (await catalog.department("west-jinqiao-street")).active
    assert "west-jinqiao-street" not in {d.code for d in await catalog.departments()}


async def test_a_domain_without_active_categories_is_not_offered(db: None, tmp_path: Path) -> None:
    await load_catalog(write(tmp_path, MINI))
    assert [d.code for d in await catalog.domains()] == ["roads"]
    await load_catalog(write(tmp_path, MINI + "active = false\n"))
    assert (await catalog.category("roads.potholes")).active is False
    assert await catalog.domains() == []


# --- refusing bad files -------------------------------------------------------------------------

MINI = """
[emergency]
numbers = [{ number = "110", names = { en = "Police", zh_Hans = "报警", zh_Hant = "報警", ru = "Полиция" } }]
keywords = { en = ["fire"], zh_Hans = ["火灾"], zh_Hant = ["火災"], ru = ["пожар"] }

[[department]]
code = "city"
names = { en = "City", zh_Hans = "市政府", zh_Hant = "市政府", ru = "Город" }

[[department]]
code = "roads-office"
parent = "city"
names = { en = "Roads", zh_Hans = "道路办", zh_Hant = "道路辦", ru = "Дороги" }

[[domain]]
code = "roads"
names = { en = "Roads", zh_Hans = "道路", zh_Hant = "道路", ru = "Дороги" }

[[domain.category]]
code = "roads.potholes"
department = "roads-office"
time_limit_working_days = 5
names = { en = "Potholes", zh_Hans = "坑洼", zh_Hant = "坑窪", ru = "Ямы" }
"""  # noqa: E501

BROKEN = {
    "leaf without department": (('department = "roads-office"\n', ""), "has no department"),
    "limit of zero": (("time_limit_working_days = 5", "time_limit_working_days = 0"), "1 to 60"),
    "limit as text": (("time_limit_working_days = 5", 'time_limit_working_days = "5"'), "1 to"),
    "two limits": (
        ("time_limit_working_days = 5", "time_limit_working_days = 5\ntime_limit_hours = 4"),
        "exactly one",
    ),
    "no limit": (("time_limit_working_days = 5", ""), "exactly one"),
    "unknown department": (('department = "roads-office"', 'department = "moon-base"'), "moon"),
    "duplicate category code": (('code = "roads.potholes"', 'code = "roads"'), "more than once"),
    "duplicate department code": (('code = "roads-office"', 'code = "city"'), "more than once"),
    "missing language": ((', zh_Hant = "坑窪"', ""), "names.zh_Hant"),
    "unknown key": (
        ("time_limit_working_days = 5", "time_limit_working_days = 5\ncolour = 1"),
        "unknown key 'colour'",
    ),
    "department loop": (('code = "city"', 'code = "city"\nparent = "roads-office"'), "ancestor"),
    "bad code": (('code = "roads.potholes"', 'code = "Roads Potholes"'), "code must be"),
    "not toml": (("[[domain]]", "[[domain]"), "catalog.toml"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
async def test_a_bad_file_is_refused_and_changes_nothing(
    sample: None, tmp_path: Path, case: str
) -> None:
    (old, new), message = BROKEN[case]
    assert old in MINI
    await load_catalog(write(tmp_path, MINI, "mini.toml"))  # the mini file itself is fine
    before = await snapshot()
    with pytest.raises(CatalogInvalid, match=message) as caught:
        await load_catalog(write(tmp_path, MINI.replace(old, new, 1)))
    assert caught.value.problems
    assert await snapshot() == before


async def test_every_problem_is_named_with_its_place(db: None, tmp_path: Path) -> None:
    text = MINI.replace("time_limit_working_days = 5", "").replace('"roads-office"\nt', '"x"\nt')
    text = text.replace('department = "roads-office"', 'department = "moon-base"')
    with pytest.raises(CatalogInvalid) as caught:
        await load_catalog(write(tmp_path, text))
    assert ("category 'roads.potholes'", "department 'moon-base' is not in the file") in (
        caught.value.problems
    )
    assert any("exactly one" in what for _, what in caught.value.problems)
    assert "category 'roads.potholes': " in str(caught.value)
    assert not await catalog.catalog_loaded()


async def test_a_failure_midway_rolls_everything_back(
    sample: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = await snapshot()

    async def explode(**_: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(CatalogMeta, "update_or_create", explode)
    with pytest.raises(RuntimeError):
        await load_catalog(write(tmp_path, MINI))  # would deactivate nearly everything
    assert await snapshot() == before


# --- emergencies and the service area -----------------------------------------------------------


async def test_emergency_numbers(sample: None) -> None:
    info = await catalog.emergency_info()
    numbers = {n.number: n for n in info.numbers}
    assert set(numbers) == {"110", "119", "120", "122"}
    assert numbers["120"].name("zh_Hans") == "急救"
    assert numbers["119"].name("en") == "Fire and rescue"
    assert set(info.keywords) == set(LANGS)


@pytest.mark.parametrize(
    "text",
    [
        "There is a FIRE in the building next door",
        "I can smell gas in the stairwell",
        "Gas leaking from the pipe in my kitchen",
        "a man is injured and bleeding",
        "Someone is stuck in the lift for an hour",
        "楼下着火了，快来人",
        "厨房煤气泄漏了",
        "有人受伤了",
        "樓下著火了",
        "廚房瓦斯外洩",
        "有人受傷",
        "В подъезде пожар!",
        "Утечка газа в квартире",
        "чувствую запах газа",
        "мужчина ранен",
        "ЗАГОРЕЛСЯ мусоропровод",
        "Сосед ранён",  # ё written as ё
        "ｆｉｒｅ in the stairwell",  # fullwidth
        "我是俄罗斯人: в доме пожар",  # languages mixed
        "Я живу тут, 着火了",  # a Russian speaker writing Chinese
        "fire exit blocked, and now a fire on the 3rd floor",
    ],
)
async def test_emergencies_are_recognised_in_every_language(sample: None, text: str) -> None:
    assert matches_emergency(text, await catalog.emergency_info())


@pytest.mark.parametrize(
    "text",
    [
        "Please check the firewall settings of the city website",
        "Where do I apply for a fireworks permit?",
        "The fire exit of our building is blocked with bicycles",
        "Fire hazard: e-bikes charged in the corridor",
        "No heating since Monday, 14 degrees inside",
        "小区消防通道被堵塞",
        "小区存在火灾隐患，电动车在楼道充电",
        "暖气不热，室内只有十四度",
        "Пожарный выход заставлен мебелью",
        "Не работает лифт",
        "Шумят соседи по ночам",
        "The wage arrears are three months",
    ],
)
async def test_ordinary_complaints_are_not_emergencies(sample: None, text: str) -> None:
    assert not matches_emergency(text, await catalog.emergency_info())


def test_keyword_rules_without_a_database() -> None:
    info = EmergencyInfo(numbers=(), keywords={"en": ("gas leak*",), "ru": ("утечк* газ*",)})
    assert matches_emergency("Gas leaks everywhere", info)
    assert matches_emergency("утечку  газа", info)
    assert not matches_emergency("gasoline leak", info)
    # Whole words: the text's start and punctuation bound one, a letter before it does not.
    assert matches_emergency("gas leak", info)
    assert matches_emergency("(gas leak)", info)
    assert not matches_emergency("biogas leak", info)
    assert not matches_emergency("Бутечка газа", info)
    assert not matches_emergency("anything", EmergencyInfo(numbers=(), keywords={}))


async def test_service_area(db: None, tmp_path: Path) -> None:
    with pytest.raises(CatalogNotLoaded):
        await catalog.emergency_info()
    await load_catalog(write(tmp_path, MINI))
    assert await catalog.service_area() is None
    area = "\n[service_area]\ncenter = [45.757, 126.642]\nradius_km = 60\n"
    await load_catalog(write(tmp_path, MINI + area))
    city = await catalog.service_area()
    assert city is not None
    assert city.contains(45.80, 126.53)  # about 10 km away
    assert not city.contains(39.90, 116.40)  # Beijing
    with pytest.raises(CatalogInvalid, match="radius_km"):
        await load_catalog(write(tmp_path, MINI + area.replace("60", "-1")))
