"""Locality routing (属地) end to end: a citizen's place picks the street office, the staff card
says why, one tap accepts the proposal, /stats counts proposals accepted and changed, and
`minsheng catalog areas` refuses a bad file whole."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.sandbox import Sandbox
from storage.areas import SAMPLE_AREAS
from storage.cases import Location
from storage.catalog import SAMPLE_CATALOG
from storage.tracking import format_tracking_number
from tests.databases import Database
from tests.following import Desk, buttons, desk
from tests.harness import eventually, query
from tests.intake_desk import Citizen, fill_to_description
from tests.staff_desk import ADMIN, CITIZEN, DENIED, HANDLER, SUPERVISOR, add_team, edited, press

HEPING = {"latitude": 45.770, "longitude": 126.670}  # Heping Street, East District
BEIJING = Location(39.9, 116.4, None)  # outside every area of the sample
SHANGHAI = ZoneInfo("Asia/Shanghai")
COUNTS = "SELECT proposal_outcome, count(*) FROM service_case GROUP BY proposal_outcome"


def minsheng(folder: Path, *args: str, database: str) -> subprocess.CompletedProcess[str]:
    """`python -m bot ARGS` in `folder` (no .env there), with only the database set."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINSHENG_")}
    env["MINSHENG_DATABASE_URL"] = database
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def routing_desk(sandbox: Sandbox, db_path: Database, **env: str) -> Any:
    return desk(
        sandbox, db_path, MINSHENG_ADMIN_IDS=str(ADMIN), MINSHENG_FLOOD_MESSAGES="10000", **env
    )


async def card_for(d: Desk, tracking: str) -> dict[str, Any]:
    """The new-case card of a case, once it is in the staff chat."""
    number = format_tracking_number(tracking)

    def found() -> dict[str, Any] | None:
        return next(
            (
                m
                for m in d.sandbox.messages(d.staff)
                if (m.get("text") or "").startswith(f"New request {number}")
                or (m.get("text") or "").startswith(f"新诉求 {number}")
            ),
            None,
        )

    card = await eventually(found, 10, what="the new-case card")
    assert card is not None
    return card


async def file_through_the_bot(c: Citizen, text: str) -> str:
    """A rubbish complaint filed in the chat, with a place in Heping Street; its number."""
    await fill_to_description(c, "complaint", "environment", "environment.rubbish")
    await c.say(text)
    await c.press("in:done")  # no photos
    await c.send(location=HEPING)
    await c.send(contact={"phone_number": "+8613800000000", "user_id": c.id})
    await c.press("in:submit")
    [(tracking,)] = query(c.db, "SELECT tracking FROM service_case WHERE citizen_id = ?", (c.id,))
    return str(tracking)


async def test_a_local_case_goes_to_its_street_and_is_accepted_in_one_tap(
    sandbox: Sandbox, db_path: Database
) -> None:
    async with routing_desk(sandbox, db_path) as d:
        await add_team(d)
        citizen = Citizen(sandbox, db_path, CITIZEN, "en")
        tracking = await file_through_the_bot(
            citizen, "Nobody has collected the rubbish bins behind building 7 for a week."
        )
        card = await card_for(d, tracking)
        print("\n--- the card ---\n" + card["text"])
        assert "\nProposed: Heping Subdistrict Office — local: in Heping Street\n" in card["text"]
        assert buttons(card)[:2] == [
            ("Accept as proposed", f"st:ok:{tracking}"),
            ("Accept", f"st:acc:{tracking}"),
        ]
        # A handler may not route; nothing changes. A supervisor's one tap accepts.
        assert await press(d, HANDLER, card, f"st:ok:{tracking}") == DENIED
        assert await press(d, SUPERVISOR, card, f"st:ok:{tracking}") == ""
        done = await edited(d, card["message_id"], 0)
        print("--- once accepted ---\n" + done["text"])
        assert done["text"].endswith(
            "\n\nAccepted as proposed by User 72002 → Heping Subdistrict Office"
        )
        row = query(
            db_path,
            "SELECT d.code, c.area_code, c.proposal_reason, c.proposal_outcome FROM service_case c"
            " JOIN department d ON d.id = c.department_id WHERE c.tracking = ?",
            (tracking,),
        )
        [(department, area, reason, outcome)] = row
        assert (department, area, outcome) == ("east-heping-street", "east-heping", "accepted")
        assert json.loads(reason) == {"kind": "local", "area": "east-heping"}
        told = (await sandbox.wait_for_messages(CITIZEN, 1, timeout=10))[-1]["text"]
        assert "was accepted and passed to Heping Subdistrict Office." in told
        # Pressed again (an old card, a colleague): nothing changes.
        again = await press(d, ADMIN, card, f"st:ok:{tracking}")
        assert again == "This request was already handled."

        # A functional category goes to its department wherever the place is; routed
        # elsewhere through the chooser, the proposal counts as changed.
        heating = await d.file_case(
            CITIZEN, location=Location(45.770, 126.670, None), notify_staff=True
        )
        card = await card_for(d, heating.tracking)
        assert (
            "\nProposed: City Heating Company — functional: it handles this category wherever"
            " it is\n"
        ) in card["text"]
        assert await press(d, SUPERVISOR, card, f"st:acc:{heating.tracking}") == ""
        offered = await edited(d, card["message_id"], 0)
        other = next(
            b for b in buttons(offered) if ":dep:" in b[1] and b[0] != "City Heating Company"
        )
        assert await press(d, SUPERVISOR, offered, other[1]) == ""
        await edited(d, card["message_id"], 1)

        # A local category outside every area, or without a place: the category's department.
        outside = await d.file_case(
            CITIZEN, category="environment.rubbish", location=BEIJING, notify_staff=True
        )
        card = await card_for(d, outside.tracking)
        assert (
            "\nProposed: Urban Management Bureau — the category's department: the place is"
            " outside every area\n"
        ) in card["text"]
        nowhere = await d.file_case(CITIZEN, category="environment.rubbish", notify_staff=True)
        card = await card_for(d, nowhere.tracking)
        assert (
            "\nProposed: Urban Management Bureau — the category's department: no place was given\n"
        ) in card["text"]
        assert await press(d, SUPERVISOR, card, f"st:ok:{nowhere.tracking}") == ""
        await edited(d, card["message_id"], 0)

        assert dict(query(db_path, COUNTS)) == {"accepted": 2, "changed": 1, None: 1}
        today = datetime.now(UTC).astimezone(SHANGHAI).date()
        period = f"{today - timedelta(days=1)}..{today + timedelta(days=1)}"
        await d.say(ADMIN, f"/stats {period}", 2)
        figures = await eventually(
            lambda: next(
                (m for m in sandbox.messages(ADMIN) if "Routing proposals" in (m["text"] or "")),
                None,
            ),
            10,
            what="the figures",
        )
        assert "\nRouting proposals: 2 accepted as proposed, 1 changed\n" in figures["text"]


async def test_the_card_says_why_in_chinese(sandbox: Sandbox, db_path: Database) -> None:
    async with routing_desk(sandbox, db_path, MINSHENG_DEFAULT_LANGUAGE="zh_Hans") as d:
        local = await d.file_case(
            CITIZEN,
            category="environment.rubbish",
            location=Location(45.725, 126.690, None),  # Xinhua Street
            notify_staff=True,
        )
        card = await card_for(d, local.tracking)
        print("\n--- 卡片 ---\n" + card["text"])
        assert "\n建议承办：新华街道办事处（属地：位于新华街道）\n" in card["text"]
        assert buttons(card)[0] == ("按建议受理", f"st:ok:{local.tracking}")
        functional = await d.file_case(CITIZEN, notify_staff=True)
        card = await card_for(d, functional.tracking)
        assert "\n建议承办：市热力集团（职能：此类诉求不论地点均由其办理）\n" in card["text"]


def test_the_areas_command_loads_the_sample_and_refuses_a_bad_file_whole(
    tmp_path: Path, db_path: Database
) -> None:
    catalog = minsheng(tmp_path, "catalog", "load", str(SAMPLE_CATALOG), database=db_path.url)
    assert catalog.returncode == 0, catalog
    loaded = minsheng(tmp_path, "catalog", "areas", str(SAMPLE_AREAS), database=db_path.url)
    assert loaded.returncode == 0, loaded
    assert "areas loaded from" in loaded.stdout
    assert "created=6" in loaded.stdout
    before = query(db_path, "SELECT code, department_id, active, names FROM area ORDER BY code")
    bad: dict[str, Any] = json.loads(SAMPLE_AREAS.read_text(encoding="utf-8"))
    heping, xinhua = bad["features"][1], bad["features"][2]
    heping["properties"]["department"] = "heping-office"  # no such department
    xinhua["properties"]["names"]["en"] = "Xinhua Quarter"  # a good change, not made either
    bad["features"][3]["geometry"]["coordinates"] = [
        [[126.60, 45.70], [126.64, 45.80], [126.64, 45.70], [126.60, 45.80], [126.60, 45.70]]
    ]  # a bow tie: it crosses itself
    path = tmp_path / "areas.geojson"
    path.write_text(json.dumps(bad), encoding="utf-8")
    refused = minsheng(tmp_path, "catalog", "areas", str(path), database=db_path.url)
    print("\n" + refused.stderr)
    assert refused.returncode == 2, refused
    assert f"minsheng: {path} was not loaded, nothing changed:" in refused.stderr
    assert "area 'west': geometry is not valid: Self-intersection" in refused.stderr
    assert query(db_path, "SELECT code, department_id, active, names FROM area ORDER BY code") == (
        before
    )
    # With the geometry mended, the unknown department is named (checked against the catalogue).
    bad["features"][3]["geometry"] = json.loads(SAMPLE_AREAS.read_text())["features"][3][
        "geometry"
    ]
    path.write_text(json.dumps(bad), encoding="utf-8")
    refused = minsheng(tmp_path, "catalog", "areas", str(path), database=db_path.url)
    assert refused.returncode == 2, refused
    assert "area 'east-heping': department 'heping-office' is not in the catalogue" in (
        refused.stderr
    )
    assert query(db_path, "SELECT code, department_id, active, names FROM area ORDER BY code") == (
        before
    )
