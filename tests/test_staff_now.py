"""Issue 13, items 7 and 8 in the bot: a plain /queue is what to work on now (a handler's
department, overdue first; for supervisors the new, overdue and hand-routed cases), and the
queue, /stats and the digest name categories and departments in the reader's language."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.cli import build_parser
from bot.reports_cli import run_report
from bot.sandbox import Sandbox
from storage.citizens import choose_language
from storage.digest import last_full_week
from storage.lifecycle import accept_case
from storage.models import Case
from storage.tracking import format_tracking_number
from tests.databases import Database
from tests.following import Desk
from tests.harness import eventually, execute, settings_for
from tests.staff_desk import ADMIN, CITIZEN, HANDLER, SUPERVISOR, add_team, staff_desk


async def accept(d: Desk, tracking: str, department: str) -> None:
    zone = d.runtime.services.settings.zone
    await accept_case(tracking, department, by=ADMIN, now=datetime.now(UTC), zone=zone)


async def overdue(tracking: str, days: int) -> None:
    await Case.filter(tracking=tracking).update(due_at=datetime.now(UTC) - timedelta(days=days))


async def test_plain_queue_is_what_to_work_on_now(sandbox: Sandbox, db_path: Database) -> None:
    async with staff_desk(sandbox, db_path) as d:
        await add_team(d)
        # Three cases in the handler's department (one overdue, filed last), one elsewhere,
        # and one still new.
        ours = [await d.file_case(CITIZEN) for _ in range(3)]
        elsewhere = await d.file_case(CITIZEN)
        new = await d.file_case(CITIZEN, category="heating.no-heat")
        for case in ours:
            await accept(d, case.tracking, "heating-company")
        await accept(d, elsewhere.tracking, "gas-company")
        await overdue(ours[2].tracking, 3)
        late_on = (datetime.now(UTC) - timedelta(days=3)).astimezone(
            d.runtime.services.settings.zone
        )
        number = [format_tracking_number(c.tracking) for c in ours]

        mine = (await d.say(HANDLER, "/queue", 1))["text"].split("\n")
        print("\n".join(mine))
        assert mine[0] == "To work on now (your department, overdue first): 3, page 1 of 1"
        assert mine[1] == (
            f"⏰ {number[2]} · accepted · Heating fees and billing · "
            f"overdue since {late_on:%Y-%m-%d}"
        )
        assert [line.split(" · ")[0] for line in mine[2:]] == number[:2]
        assert "heating.fees" not in "\n".join(mine)
        assert format_tracking_number(elsewhere.tracking) not in "\n".join(mine)

        desk = (await d.say(SUPERVISOR, "/queue", 1))["text"].split("\n")
        print("\n".join(desk))
        assert desk[0] == "To work on now (new, overdue, to route by hand): 2, page 1 of 1"
        assert desk[1].startswith(f"⏰ {number[2]} · accepted · ")
        assert desk[2].startswith(
            f"{format_tracking_number(new.tracking)} · submitted · "
            "No heating or radiators not warm · "
        )
        # The other views still answer by name.
        assert (await d.say(SUPERVISOR, "/queue new", 2))["text"].startswith(
            "New requests: 1, page 1 of 1"
        )

        await choose_language(HANDLER, "zh_Hans")
        chinese = (await d.say(HANDLER, "/queue", 2))["text"].split("\n")
        print("\n".join(chinese))
        assert chinese[0] == "当前待办（本部门，超期在前）：共 3 件，第 1/1 页"
        assert chinese[1] == (
            f"⏰ {number[2]} · 已受理 · 供暖费缴纳与计费 · 自 {late_on:%Y-%m-%d} 起超期"
        )


async def answer(d: Desk, command: str, head: str) -> str:
    """The admin's answer to a command: the next message that starts a text with `head`."""
    before = len(d.sandbox.messages(ADMIN))
    d.sandbox.send_text(ADMIN, command)

    def found() -> str | None:
        texts = [m.get("text") or "" for m in d.sandbox.messages(ADMIN)[before:]]
        return next((text for text in texts if head in text.split("\n")[0]), None)

    return str(await eventually(found, 30, what=f"the answer to {command}"))


async def test_stats_digest_and_report_name_departments(
    sandbox: Sandbox, db_path: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    async with staff_desk(sandbox, db_path) as d:
        zone = d.runtime.services.settings.zone
        week = last_full_week(datetime.now(UTC), zone)
        for department in ("heating-company", "gas-company", "urban-management"):
            case = await d.file_case(CITIZEN, at=week.start + timedelta(days=1))
            at = week.start + timedelta(days=1, hours=1)
            await accept_case(case.tracking, department, by=ADMIN, now=at, zone=zone)
            # Due within that week, whatever weekday the test runs on: overdue now, so every
            # department has a score (a case not yet due gives none).
            due = (week.start + timedelta(days=3)).astimezone(UTC)
            sql = "UPDATE service_case SET due_at = ? WHERE tracking = ?"
            await execute(d.db_path, sql, (due, case.tracking))
        period = f"{week.first_day}..{week.last_day}"
        english = await answer(d, f"/stats {period}", "Figures for")
        digest = await answer(d, "/digest", "Weekly digest")
        await choose_language(ADMIN, "zh_Hans")
        chinese = await answer(d, f"/stats {period}", "数据")
        digest_zh = await answer(d, "/digest", "摘报")
        for text in (english, digest, chinese, digest_zh):
            print(text, end="\n\n")
            assert not {"heating-company", "gas-company", "urban-management"} & set(
                text.replace("<", " ").replace(">", " ").split()
            )
        assert "City Heating Company" in english
        assert "市热力集团" in chinese
        assert "市城市管理局" in chinese
        assert "1. City Heating Company" in digest or "City Heating Company: score" in digest
        assert "市热力集团" in digest_zh
        assert "• 市热力集团：1" in digest_zh  # full-width, as Chinese is written
    # `minsheng report --language zh_Hans`: the ranking by name, in the terminal.
    settings = settings_for(sandbox, db_path)
    args = build_parser().parse_args(["report", period, "--language", "zh_Hans"])
    capsys.readouterr()
    assert await run_report(settings, args) == 0
    printed = capsys.readouterr().out
    print(printed)
    assert "市热力集团" in printed
    assert "heating-company" not in printed
