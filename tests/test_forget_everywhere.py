"""/forget end to end: after a citizen's whole story with the desk (two requests filed in the
chat with a name, a phone, answers, a photo, a shared location and a typed address; the staff
card pressed, /case, an addition, a question answered, an answer rated and commented), no text
column of any table holds anything they said, while another citizen's request and the desk's
figures stay as they were. With MINSHENG_KEEP_CASE_RECORDS the case texts stay, but the raw
messages and the contact go all the same. Staff then read "(erased at the citizen's request)".
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.sandbox import Sandbox
from bot.sweeps import all_sweeps
from storage.rating import add_comment
from storage.tracking import format_tracking_number
from tests.databases import Database
from tests.following import Desk, desk
from tests.harness import query, wait_until
from tests.intake_desk import Citizen, buttons, category_ids

A_ID, B_ID, ADMIN = 7_700_001, 7_700_002, 7_700_009
NAME = "Zinaida Qiaoplantova"
PHONE = "+86 139 5555 0199"
EMPLOYER = "Plantedcorp Wuxing Ltd"
DESCRIPTION = "Foreman Gennadiy withheld three months of pay at the Xiyuanlane depot."
SECOND = "The heating fee office on Luoshanpo Road double-charged my family this winter."
ADDRESS = "17 Dongmenkou Alley, building 6"
ADDITION = "The payslips are kept by Ulyana Borodkina in the Hemuqiao office."
ANSWER = "Third floor, the office behind the Shuijingfang canteen."
COMMENT = "The Tianluowan inspector was very kind to my mother."
POINT = {"latitude": 45.748813, "longitude": 126.627491}
B_TEXT = "The street lamps on Guanghua Road have been dark for a week."
STAFF_ANSWER = "The employer agreed to pay the wages owed by Friday."
PLANTED = [
    NAME,
    "Qiaoplantova",
    "Plantedcorp",
    "Xiyuanlane",
    "Luoshanpo",
    "Dongmenkou",
    "Borodkina",
    "Hemuqiao",
    "Shuijingfang",
    "Tianluowan",
    "45.748813",
    "126.627491",
    "45.7488",
    "126.6274",
]
PHONE_DIGITS = "13955550199"
ERASED = "(erased at the citizen's request)"
_BETWEEN_DIGITS = re.compile(r"(?<=\d)[\s\-.()]+(?=\d)")


class Planted(Citizen):
    """A citizen of the intake tests who writes under a planted name."""

    def _push(self, **body: Any) -> dict[str, Any]:
        return self.sandbox.send_text(
            self.id, body.pop("text", ""), language_code="en", first_name=NAME, **body
        )


def text_columns(db_path: Database) -> list[tuple[str, str]]:
    """(table, column) of every text-like column (TEXT, VARCHAR, JSON) of every table."""
    return [
        (table, column)
        for table in db_path.tables()
        for column, kind in db_path.columns(table)
        if any(word in kind.upper() for word in ("CHAR", "TEXT", "JSON", "CLOB"))
    ]


def hits(db_path: Database, needles: list[str], digits: str) -> list[str]:
    """Where any needle (or the phone's digits, separators ignored) is in a text column."""
    found = []
    columns = text_columns(db_path)
    assert ("inbox_update", "payload") in columns
    assert ("service_case", "text") in columns
    for table, column in columns:
        for (value,) in query(db_path, f'SELECT "{column}" FROM "{table}"'):  # noqa: S608
            if value is None:
                continue
            text = str(value)
            plain = json.loads(text) if column == "payload" else None  # unescaped JSON too
            for candidate in (text, json.dumps(plain, ensure_ascii=False) if plain else ""):
                lowered = candidate.lower()
                found += [f"{table}.{column}: {n}" for n in needles if n.lower() in lowered]
                if digits in _BETWEEN_DIGITS.sub("", candidate):
                    found.append(f"{table}.{column}: the phone")
    return sorted(set(found))


async def staff_says(d: Desk, a: Citizen, text: str) -> dict[str, Any]:
    """A staff command in the staff chat; the chat's newest message once all is quiet."""
    before = len(d.sandbox.messages(d.staff))
    d.sandbox.send_text(ADMIN, text, chat_id=d.staff)
    await d.sandbox.wait_for_messages(d.staff, before + 1, timeout=10)
    await a.settle()
    return d.sandbox.messages(d.staff)[-1]


async def staff_presses(d: Desk, a: Citizen, message: dict[str, Any], data: str) -> None:
    d.sandbox.press_button(ADMIN, d.staff, message["message_id"], data)
    await a.settle()


def staff_message(d: Desk, start: str) -> dict[str, Any]:
    return next(
        m for m in reversed(d.sandbox.messages(d.staff)) if (m.get("text") or "").startswith(start)
    )


def case_of(db_path: Database, text: str) -> str:
    return str(query(db_path, "SELECT tracking FROM service_case WHERE text = ?", (text,))[0][0])


async def a_whole_story(d: Desk, a: Citizen) -> str:
    """Two requests filed in the chat and worked by staff; the first one's number."""
    ids = category_ids(d.db_path)
    await a.say("/start")
    await a.say("New request")
    await a.press("in:k:complaint")
    await a.press(f"in:d:{ids['employment']}")
    await a.press(f"in:c:{ids['employment.unpaid-wages']}")
    for answer in ("52000", EMPLOYER, "3"):
        await a.say(answer)
    assert a.step() == "description"
    await a.say(DESCRIPTION)
    await a.photo()
    await a.press("in:done")
    await a.send(location=POINT)
    await a.send(contact={"phone_number": PHONE, "user_id": A_ID})
    await a.press("in:submit")
    first = case_of(d.db_path, DESCRIPTION)
    await a.say("New request")
    await a.press("in:k:report")
    await a.press(f"in:d:{ids['heating']}")
    await a.press(f"in:c:{ids['heating.fees']}")
    await a.say(SECOND)
    await a.press("in:skip")
    await a.say(ADDRESS)
    await a.say("Stay anonymous")
    await a.press("in:submit")
    second = case_of(d.db_path, SECOND)

    # Staff: accepted from the card, looked at with /case; the citizen adds, is asked, answers.
    number = format_tracking_number(first)

    def carded() -> bool:
        return any(
            (m.get("text") or "").startswith(f"New request {number}")
            for m in d.sandbox.messages(d.staff)
        )

    await wait_until(carded, 10, "the card")
    card = staff_message(d, f"New request {number}")
    await staff_presses(d, a, card, f"st:acc:{first}")
    offered = staff_message(d, f"New request {number}")
    labour = next(data for label, data in buttons(offered) if label == "Labour Inspection Brigade")
    await staff_presses(d, a, offered, labour)
    await staff_says(d, a, f"/case {number}")
    accepted = a.sandbox.messages(A_ID)[-1]
    assert "accepted" in accepted["text"]
    await a.send(text=ADDITION, reply_to_message_id=accepted["message_id"])
    await staff_says(d, a, f"/ask {number} Which floor is the office on?")
    question = a.sandbox.messages(A_ID)[-1]
    await a.send(text=ANSWER, reply_to_message_id=question["message_id"])
    # Answered directly (an admin needs no review), rated, commented.
    await staff_says(d, a, f"/reply {number} {STAFF_ANSWER}")
    await a.press(f"rt:s:{first}:solved")
    await a.press(f"rt:f:{first}:satisfied")
    assert await add_comment(first, A_ID, COMMENT, now=datetime.now(UTC))
    await staff_says(d, a, f"/reject {format_tracking_number(second)} Not for this desk")
    return first


def figures(db_path: Database) -> list[tuple[Any, ...]]:
    return query(
        db_path,
        "SELECT c.tracking, c.kind, c.status, c.category_id,"
        " c.department_id, c.created_at, c.closed_at, r.solved, r.satisfaction"
        " FROM service_case c LEFT JOIN case_rating r ON r.case_id = c.id"
        " ORDER BY c.id",
    )


async def forget(d: Desk, a: Citizen) -> None:
    asked = await a.say("/forget")
    yes = next(data for m in asked for _, data in buttons(m) if data.startswith("forget:yes:"))
    done = await a.press(yes, message_id=asked[-1]["message_id"])
    assert done[-1]["text"].startswith("Done: your personal data is erased.")


@pytest.mark.parametrize("keep", [False, True], ids=["erase", "keep-case-records"])
async def test_forget_leaves_no_trace_of_what_the_citizen_said(
    sandbox: Sandbox, db_path: Database, keep: bool
) -> None:
    env = {
        "MINSHENG_ADMIN_IDS": str(ADMIN),
        "MINSHENG_FLOOD_MESSAGES": "10000",
        "MINSHENG_KEEP_CASE_RECORDS": str(keep).lower(),
    }
    async with desk(sandbox, db_path, **env) as d:
        a = Planted(sandbox, db_path, A_ID, "en")
        b = Citizen(sandbox, db_path, B_ID, "en")
        bobs = await d.file_case(B_ID, text=B_TEXT)
        await b.say(f"/status {bobs.tracking}")
        first = await a_whole_story(d, a)
        found = hits(db_path, PLANTED, PHONE_DIGITS)
        for needle in (
            NAME,
            "Xiyuanlane",
            "Dongmenkou",
            "Borodkina",
            "Shuijingfang",
            "Tianluowan",
            "45.748813",
            "the phone",
        ):
            assert any(needle in hit for hit in found), (needle, found)  # planted indeed
        stats_before = (await staff_says(d, a, "/stats"))["text"]
        figures_before = figures(db_path)
        b_rows = query(db_path, "SELECT payload FROM inbox_update WHERE chat_key = ?", (B_ID,))

        await forget(d, a)

        found = hits(db_path, PLANTED, PHONE_DIGITS)
        if keep:  # the case records stay (their tables only); everything else goes
            kept = {
                "service_case.text",
                "service_case.answers",
                "service_case.address",
                "case_event.payload",
            }
            assert {hit.split(":")[0] for hit in found} <= kept, found
            assert any("Xiyuanlane" in hit for hit in found)
            assert not [hit for hit in found if NAME in hit or "phone" in hit], found
        else:
            assert found == []
        assert query(
            db_path,
            "SELECT count(*) FROM service_case WHERE latitude IS NOT NULL AND citizen_id IS NULL",
        ) == [(1 if keep else 0,)]
        assert query(
            db_path, "SELECT count(*) FROM service_case WHERE citizen_id = ?", (A_ID,)
        ) == [(0,)]
        # Another citizen's request and the figures are as they were.
        assert query(
            db_path,
            "SELECT text, citizen_id FROM service_case WHERE tracking = ?",
            (bobs.tracking,),
        ) == [(B_TEXT, B_ID)]
        assert (
            query(db_path, "SELECT payload FROM inbox_update WHERE chat_key = ?", (B_ID,))
            == b_rows
        )
        assert figures(db_path) == figures_before
        assert (await staff_says(d, a, "/stats"))["text"] == stats_before

        # Staff read the marker where the words were.
        await staff_says(d, a, f"/case {format_tracking_number(first)}")
        details = staff_message(d, f"New request {format_tracking_number(first)}")["text"]
        assert "Timeline:" in details
        assert ERASED in details  # the rating comment goes in both cases
        assert ("Gennadiy" in details, "Borodkina" in details) == (keep, keep)
        if not keep:
            assert [n for n in PLANTED if n in details] == []

        # A month on, the sweeper's retention purge empties every handled update's payload.
        retention = all_sweeps(d.runtime.services)["retention"]
        await a.settle()
        assert await retention(datetime.now(UTC) + timedelta(days=31)) > 0
        left = "SELECT count(*) FROM inbox_update WHERE status != 'pending' AND payload != ?"
        assert query(db_path, left, ('{"erased":true}',)) == [(0,)]
