"""The knowledge-base file: `minsheng kb load FILE` as an operator runs it (a good file loads, a
bad one names its lines and changes nothing), and what loading does to versions, revisions and
left-out codes. The shipped sample must load against the sample catalogue."""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta
from pathlib import Path

import pytest

from storage.catalog import SAMPLE_CATALOG
from storage.kb_file import KbFileInvalid
from storage.kb_load import SAMPLE_KNOWLEDGE, load_knowledge
from storage.knowledge import article, revisions
from storage.models import KbArticle
from tests.case_fixtures import FRIDAY_EVENING
from tests.case_fixtures import db as catalog_db
from tests.test_cli_commands import minsheng

__all__ = ["catalog_db"]

GOOD = """\
# two articles
[[article]]
code = "heating-season"
categories = ["heating.no-heat"]
department = "heating-company"
review_by = 2027-06-30

[article.title]
en = "When does the heating season start?"
zh_Hans = "供暖期什么时候开始？"

[article.body]
en = "From 20 October to 20 April."
zh_Hans = "每年10月20日至次年4月20日。"

[article.keywords]
zh_Hans = ["供暖期", "暖气"]

[[article]]
code = "water-bill"
categories = ["water.outage"]
department = "water-company"
review_by = 2027-06-30
[article.title]
en = "How do I pay the water bill?"
[article.body]
en = "At any bank, or in the app."
"""

# Five problems: a bad code on line 3, an unknown category on line 4, a review_by that is no
# date on line 6, a Russian title without a body on line 9, a duplicate code on line 15.
BAD = """\
[[article]]
code = "Heating Season"
categories = ["heating.nowhere"]
department = "heating-company"
review_by = "soon"
[article.title]
en = "When does the heating season start?"
ru = "Когда начнётся отопление?"
[article.body]
en = "From 20 October to 20 April."

[[article]]
code = "water-bill"
categories = ["water.outage"]
department = "water-company"
review_by = 2027-06-30
[article.title]
en = "How do I pay the water bill?"
[article.body]
en = "At any bank, or in the app."

[[article]]
code = "water-bill"
categories = ["water.outage"]
department = "water-company"
review_by = 2027-06-30
[article.title]
en = "Again"
[article.body]
en = "Again."
"""


def test_kb_load_loads_a_good_file_and_refuses_a_bad_one_naming_lines(tmp_path: Path) -> None:
    desk = tmp_path / "desk.sqlite3"
    url = f"sqlite://{desk}"
    assert minsheng(tmp_path, "migrate", database=url).returncode == 0
    assert minsheng(tmp_path, "catalog", "load", str(SAMPLE_CATALOG), database=url).returncode == 0
    good, bad = tmp_path / "good.toml", tmp_path / "bad.toml"
    good.write_text(GOOD, encoding="utf-8")
    bad.write_text(BAD, encoding="utf-8")
    loaded = minsheng(tmp_path, "kb", "load", str(good), database=url)
    print(loaded.stdout, loaded.stderr)
    assert loaded.returncode == 0, loaded
    assert "2 articles created, 0 updated, 0 unchanged; made inactive: none" in loaded.stdout
    refused = minsheng(tmp_path, "kb", "load", str(bad), database=url)
    print(refused.stderr)
    assert refused.returncode == 2
    assert f"minsheng: {bad} was not loaded, nothing changed:" in refused.stderr
    for line, what in (
        (2, "code must be lower-case"),
        (3, "category 'heating.nowhere' is not a category"),
        (5, "review_by must be a date"),
        (6, "ru has a title or a body but not both"),
        (23, "code 'water-bill' is already used at line 13"),
    ):
        named = [row for row in refused.stderr.splitlines() if row.startswith(f"{bad}:{line}: ")]
        assert any(what in row for row in named), (line, what)
    broken = tmp_path / "broken.toml"
    broken.write_text(GOOD.replace("review_by = 2027-06-30\n\n[article.title]", "review_by = \n"))
    syntax = minsheng(tmp_path, "kb", "load", str(broken), database=url)
    assert syntax.returncode == 2
    assert f"{broken}:6: not valid TOML" in syntax.stderr
    with sqlite3.connect(desk) as con:
        rows = con.execute("SELECT code, version, active FROM kb_article ORDER BY code").fetchall()
        revs = con.execute("SELECT count(*) FROM kb_revision").fetchone()
    assert rows == [("heating-season", 1, 1), ("water-bill", 1, 1)]
    assert revs == (2,)
    options = minsheng(tmp_path, "kb", "--help")
    assert "a knowledge-base TOML file" in options.stdout


async def test_reloading_versions_changed_articles_and_retires_left_out_codes(
    catalog_db: None, tmp_path: Path
) -> None:
    path = tmp_path / "kb.toml"
    path.write_text(GOOD, encoding="utf-8")
    first = await load_knowledge(path, default_language="en", now=FRIDAY_EVENING)
    assert (first.created, first.updated) == (2, 0)
    again = await load_knowledge(path, default_language="en", now=FRIDAY_EVENING)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    changed = GOOD.split('[[article]]\ncode = "water-bill"')[0].replace("20 April.", "15 April.")
    path.write_text(changed, encoding="utf-8")
    later = FRIDAY_EVENING + timedelta(days=1)
    report = await load_knowledge(path, default_language="en", now=later)
    assert (report.updated, report.deactivated) == (1, ("water-bill",))
    shown = await article("heating-season", "en", "en")
    assert (shown.version, shown.body) == (2, "From 20 October to 15 April.")
    assert [(r.version, r.source) for r in await revisions("heating-season")] == [
        (2, "file"),
        (1, "file"),
    ]
    assert not (await KbArticle.get(code="water-bill")).active
    # A file without the desk's language is refused whole, and nothing changes.
    with pytest.raises(KbFileInvalid, match="no text in the desk's language zh_Hant"):
        await load_knowledge(path, default_language="zh_Hant", now=later)
    assert (await article("heating-season", "en", "en")).review_by == date(2027, 6, 30)


async def test_the_sample_knowledge_base_loads_against_the_sample_catalogue(
    catalog_db: None,
) -> None:
    report = await load_knowledge(SAMPLE_KNOWLEDGE, default_language="en", now=FRIDAY_EVENING)
    assert report.created >= 40
    rows = await KbArticle.all().values("titles", "bodies")
    assert all(set(r["titles"]) == {"en", "zh_Hans", "zh_Hant", "ru"} for r in rows)


async def test_control_characters_are_refused_with_their_line_and_bidi_marks_dropped(
    catalog_db: None, tmp_path: Path
) -> None:
    """A TOML escape can put a NUL (or any control character) in a text: the file is refused,
    the line of that text named, and nothing loaded. An invisible bidi override is dropped, as
    in every text that comes in (storage.plain_text)."""
    path = tmp_path / "kb.toml"
    nul = GOOD.replace('en = "From 20 October', 'en = "From\\u0000 20 October')
    nul = nul.replace('zh_Hans = ["供暖期"', 'zh_Hans = ["供暖期\\u0007"')
    path.write_text(nul, encoding="utf-8")
    with pytest.raises(KbFileInvalid) as refused:
        await load_knowledge(path, default_language="en", now=FRIDAY_EVENING)
    lines = GOOD.splitlines()
    body = 1 + lines.index('en = "From 20 October to 20 April."')
    words = 1 + next(i for i, line in enumerate(lines) if line.startswith('zh_Hans = ["供暖期"'))
    assert [line for line, _ in refused.value.problems] == [body, words]
    assert f":{body}: article 'heating-season': body.en holds the control character U+0000" in (
        str(refused.value)
    )
    assert "U+0007" in str(refused.value)
    assert await KbArticle.all().count() == 0
    path.write_text(GOOD.replace("How do I pay", "How do I\u202e pay"), encoding="utf-8")
    await load_knowledge(path, default_language="en", now=FRIDAY_EVENING)
    assert (await article("water-bill", "en", "en")).title == "How do I pay the water bill?"
