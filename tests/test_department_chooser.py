"""Issue 13, item 11: Accept's department chooser is the department tree, a level at a time and
eight a page, and still works for a desk of over 200 departments: every department can be
reached through it, each keyboard stays small, and choosing one deep down routes the case."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.sandbox import Sandbox
from storage.catalog import SAMPLE_CATALOG, load_catalog
from storage.citizens import choose_language
from storage.staff import StaffRole, add_staff
from tests.databases import Database
from tests.following import OPEN_SENDS, Desk, buttons
from tests.harness import eventually, query
from tests.staff_desk import ADMIN, CITIZEN, SUPERVISOR, answer_of, staff_desk

DISTRICTS, OFFICES = 9, 19
CHINESE_DIGITS = "一二三四五六七八九"


def big_catalogue(folder: Path) -> Path:
    """The sample catalogue and nine districts of nineteen offices each: over 200 departments."""
    parts = [SAMPLE_CATALOG.read_text("utf-8")]
    for d in range(1, DISTRICTS + 1):
        zh = f"{CHINESE_DIGITS[d - 1]}区"
        parts.append(
            f'\n[[department]]\ncode = "district-{d}"\nparent = "city"\n'
            f'names.en = "District {d}"\nnames.zh_Hans = "{zh}人民政府"\n'
            f'names.zh_Hant = "{zh}人民政府"\nnames.ru = "Район {d}"\n'
        )
        for o in range(1, OFFICES + 1):
            parts.append(
                f'\n[[department]]\ncode = "district-{d}-office-{o:02}"\n'
                f'parent = "district-{d}"\nnames.en = "District {d} office {o:02}"\n'
                f'names.zh_Hans = "{zh}第{o:02}办事处"\nnames.zh_Hant = "{zh}第{o:02}辦事處"\n'
                f'names.ru = "Район {d}, отдел {o:02}"\n'
            )
    path = folder / "catalog.toml"
    path.write_text("".join(parts), "utf-8")
    return path


def current(d: Desk, message_id: int) -> dict[str, Any]:
    return next(m for m in d.sandbox.messages(d.staff) if m["message_id"] == message_id)


async def press(d: Desk, card: dict[str, Any], data: str) -> list[tuple[str, str]]:
    """Press a button under the card as the supervisor; the card's buttons once redrawn (an
    edit that changes nothing leaves the message as it was)."""
    update = d.sandbox.press_button(SUPERVISOR, d.staff, card["message_id"], data)
    assert await answer_of(d.sandbox, update) == ""
    await eventually(lambda: not query(d.db_path, OPEN_SENDS), 10, what="the edit sent")
    return buttons(current(d, card["message_id"]))


async def new_card(d: Desk) -> tuple[dict[str, Any], str]:
    case = await d.file_case(CITIZEN, notify_staff=True)

    def card() -> dict[str, Any] | None:
        return next(
            (m for m in d.sandbox.messages(d.staff) if f"st:acc:{case.tracking}" in str(m)),
            None,
        )

    return await eventually(card, 10, what="the new-case card"), case.tracking


async def test_the_chooser_reaches_every_one_of_200_departments(
    sandbox: Sandbox, db_path: Database, tmp_path: Path
) -> None:
    async with staff_desk(sandbox, db_path) as d:
        await load_catalog(big_catalogue(tmp_path))
        active = {row[0] for row in query(db_path, "SELECT id FROM department WHERE active")}
        assert len(active) > 200
        await add_staff(SUPERVISOR, StaffRole.SUPERVISOR, None, by=ADMIN, now=datetime.now(UTC))
        card, tracking = await new_card(d)

        top = await press(d, card, f"st:acc:{tracking}")
        print("\n".join(label for label, _ in top))
        assert top[0][0] == "City Heating Company"  # the category's own, first
        assert top[1][0] == "Municipal People's Government"  # the city itself
        assert top[-2][0] == "Next ›"
        assert top[-1] == ("« Back", f"st:back:{tracking}")

        # Walk every level and page: each keyboard small, each department offered somewhere.
        offered: set[int] = set()
        seen, todo = set(), [f"st:acc:{tracking}"]
        largest = 0
        while todo:
            data = todo.pop()
            if data in seen:
                continue
            seen.add(data)
            shown = await press(d, card, data)
            largest = max(largest, len(shown))
            assert all(len(button.encode()) <= 64 for _, button in shown)
            for _, button in shown:
                if button.startswith(f"st:dep:{tracking}:"):
                    offered.add(int(button.rsplit(":", 1)[1]))
                elif button.startswith(f"st:grp:{tracking}:"):
                    todo.append(button)
        print(f"{len(seen)} views, at most {largest} buttons, {len(offered)} departments")
        assert offered == active
        assert largest <= 13  # the own department and its level, eight, Prev · Next, Back

        # District 7, its last page, its last office: the case goes there.
        await press(d, card, f"st:acc:{tracking}")
        district = next(
            i
            for i in active
            if query(db_path, "SELECT code FROM department WHERE id = ?", (i,))[0][0]
            == "district-7"
        )
        level = await press(d, card, f"st:grp:{tracking}:{district}:1")
        assert level[0][0] == "District 7"  # the district itself may take the case
        assert level[1][0] == "District 7 office 01"
        assert level[-1][0] == "« Back"
        last = await press(d, card, f"st:grp:{tracking}:{district}:3")
        assert [label for label, _ in last][-3:] == ["District 7 office 19", "‹ Prev", "« Back"]
        office = dict(last)["District 7 office 19"]
        before = len(current(d, card["message_id"])["edits"])
        d.sandbox.press_button(SUPERVISOR, d.staff, card["message_id"], office)
        await eventually(
            lambda: len(current(d, card["message_id"])["edits"]) > before, 10, what="accepted"
        )
        routed = "SELECT d.code FROM service_case c JOIN department d ON d.id = c.department_id"
        assert query(db_path, routed) == [("district-7-office-19",)]
        assert current(d, card["message_id"])["text"].endswith("→ District 7 office 19")

        # In Chinese, for a supervisor who reads Chinese.
        await choose_language(SUPERVISOR, "zh_Hans")
        card, tracking = await new_card(d)
        top = await press(d, card, f"st:acc:{tracking}")
        print("\n".join(label for label, _ in top))
        assert [label for label, _ in top[:2]] == ["市热力集团", "市人民政府"]
        assert top[-2][0] == "下一页 ›"
        assert top[-1][0] == "« 返回"
        level = await press(d, card, f"st:grp:{tracking}:{district}:1")
        assert [label for label, _ in level[:2]] == ["七区人民政府", "七区第01办事处"]
