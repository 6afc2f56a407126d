"""Following a request end to end through the sandbox: tracking by number (rows 22-23), My
requests, adding information, and the staff chat's cards (row 27)."""

from __future__ import annotations

import unicodedata

from bot.sandbox import Sandbox
from storage.cases import Location
from storage.following import record_failed_lookup
from storage.tracking import format_tracking_number, new_tracking_number
from tests.databases import Database
from tests.following import buttons, desk, minutes_ago
from tests.harness import eventually, execute, query

OWNER, STRANGER, OTHER = 71_001, 71_002, 71_003


def fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def mistype(number: str) -> str:
    """One symbol changed: always caught by the check symbol."""
    swapped = "3" if number[0] != "3" else "4"
    return swapped + number[1:]


async def test_tracking_by_number_in_every_form(sandbox: Sandbox, db_path: Database) -> None:
    async with desk(sandbox, db_path) as d:
        case = await d.file_case(OWNER)
        shown = format_tracking_number(case.tracking)
        card = await d.say(OWNER, f"/status {shown}", 1)
        assert card["text"].startswith(f"Request {shown}\nStatus: submitted\n")
        assert "Department: not yet assigned" in card["text"]
        assert "Due by: " in card["text"]
        assert "You filed the request." in card["text"]
        assert card["parse_mode"] is None
        assert [data for _, data in buttons(card)] == [
            f"pub:y:{case.tracking}",  # allow publishing without my name
            f"add:{case.tracking}",
            "my:p:0",
        ]
        # Any case, with or without dashes or spaces, fullwidth: the same card.
        variants = [case.tracking.lower(), " ".join(shown.split("-")), fullwidth(shown.lower())]
        for n, typed in enumerate(variants, start=2):
            again = await d.say(OWNER, f"/status {typed}", n)
            assert again["text"] == card["text"], typed
        mistyped = await d.say(OWNER, f"/status {mistype(case.tracking)}", 5)
        assert mistyped["text"].startswith("This number looks mistyped")
        malformed = await d.say(OWNER, "/status hello", 6)
        assert malformed["text"].startswith("That is not a tracking number; they look like")
        # The deep link: the welcome, then the card.
        linked = await d.say(OWNER, f"/start track-{shown}", 8)
        assert linked["text"] == card["text"]


async def test_a_foreign_number_reads_exactly_like_an_unknown_one(
    sandbox: Sandbox, db_path: Database
) -> None:
    async with desk(sandbox, db_path) as d:
        case = await d.file_case(OWNER)
        foreign = await d.say(STRANGER, f"/status {case.tracking}", 1)
        unknown = await d.say(STRANGER, f"/status {new_tracking_number()}", 2)
        assert foreign["raw_text"] == unknown["raw_text"]
        assert foreign["reply_markup"] == unknown["reply_markup"] is None
        assert foreign["text"].startswith("I found no request of yours with this number.")
        # A forged button naming the owner's case gets the same answer.
        sandbox.press_button(STRANGER, STRANGER, 1, f"case:{case.tracking}", force=True)
        forged = (await sandbox.wait_for_messages(STRANGER, 3, timeout=10))[-1]
        assert forged["raw_text"] == unknown["raw_text"]
        # Each refusal is audited: who asked, which number, whether it exists.
        rows = query(
            db_path, 'SELECT citizen_id, tracking, "foreign" FROM tracking_lookup ORDER BY id'
        )
        assert rows[0] == (STRANGER, case.tracking, 1)
        assert [row[2] for row in rows] == [1, 0, 1]


async def test_lookups_of_numbers_not_ones_own_are_limited(
    sandbox: Sandbox, db_path: Database
) -> None:
    async with desk(sandbox, db_path) as d:
        own = await d.file_case(OTHER)
        for _ in range(19):
            await record_failed_lookup(OTHER, new_tracking_number(), now=minutes_ago(5))
        await record_failed_lookup(OTHER, new_tracking_number(), now=minutes_ago(90))
        last_allowed = await d.say(OTHER, f"/status {new_tracking_number()}", 1)
        assert last_allowed["text"].startswith("I found no request of yours")
        limited = await d.say(OTHER, f"/status {new_tracking_number()}", 2)
        assert limited["text"].startswith("You have looked up many numbers that are not yours")
        # Their own requests still open.
        mine = await d.say(OTHER, f"/status {own.tracking}", 3)
        assert mine["text"].startswith("Request ")


async def test_my_requests_pages_and_details(sandbox: Sandbox, db_path: Database) -> None:
    async with desk(sandbox, db_path) as d:
        cases = [await d.file_case(OWNER, at=minutes_ago(60 - i)) for i in range(7)]
        newest_first = [c.tracking for c in reversed(cases)]
        first = await d.say(OWNER, "My requests", 1)
        assert first["text"].startswith("Your requests, newest first (page 1 of 2).")
        data = [value for _, value in buttons(first)]
        assert data == [f"case:{t}" for t in newest_first[:5]] + ["my:p:1"]
        label = buttons(first)[0][0]
        assert label == f"🕓 {format_tracking_number(newest_first[0])} · Heating fees and billing"
        second = await d.press_edit(OWNER, first, "my:p:1")
        assert second["text"].startswith("Your requests, newest first (page 2 of 2).")
        data = [value for _, value in buttons(second)]
        assert data == [f"case:{t}" for t in newest_first[5:]] + ["my:p:0"]
        details = await d.press(OWNER, second, f"case:{newest_first[6]}", 2)
        assert details["text"].startswith(f"Request {format_tracking_number(newest_first[6])}")
        back = await d.press_edit(OWNER, details, "my:p:0")
        assert back["text"].startswith("Your requests, newest first (page 1 of 2).")
        # The list belongs to whoever asks.
        empty = await d.say(STRANGER, "My requests", 1)
        assert empty["text"].startswith("You have no requests yet.")


async def test_adding_information_with_the_button(sandbox: Sandbox, db_path: Database) -> None:
    async with desk(sandbox, db_path) as d:
        case = await d.file_case(OWNER)
        card = await d.say(OWNER, f"/status {case.tracking}", 1)
        asked = await d.press(OWNER, card, f"add:{case.tracking}", 2)
        assert asked["text"].startswith(
            f"What would you like to add to request {format_tracking_number(case.tracking)}?"
        )
        added = await d.say(OWNER, "The water is now <b>brown</b> too.", 3)
        assert added["text"].startswith("Added to request")
        staff = await sandbox.wait_for_messages(d.staff, 1, timeout=10)
        assert staff[-1]["text"] == (
            f"The citizen added to request {format_tracking_number(case.tracking)}:\n\n"
            "The water is now <b>brown</b> too."
        )
        events = query(db_path, "SELECT kind, actor FROM case_event ORDER BY id")
        assert events == [("submitted", "citizen"), ("citizen_added", "citizen")]
        # The step ended: free text goes back to the menu pointer, not into the case.
        await d.say(OWNER, "thanks", 4)
        assert query(db_path, "SELECT count(*) FROM case_event")[0][0] == 2
        again = await d.say(OWNER, f"/status {case.tracking}", 5)
        assert "You added information" in again["text"]


async def test_a_closed_request_takes_no_additions(sandbox: Sandbox, db_path: Database) -> None:
    async with desk(sandbox, db_path) as d:
        case = await d.file_case(OWNER)
        card = await d.say(OWNER, f"/status {case.tracking}", 1)
        await execute(db_path, "UPDATE service_case SET status = 'closed'")  # as staff would
        stale = await d.press(OWNER, card, f"add:{case.tracking}", 2)
        assert stale["text"].startswith("This request is closed")
        closed = await d.say(OWNER, f"/status {case.tracking}", 3)
        assert [data for _, data in buttons(closed)][1:] == ["my:p:0"]  # after pub:y:…


async def test_the_staff_card_shows_user_text_literally(
    sandbox: Sandbox, db_path: Database
) -> None:
    hostile = '<b>bold</b> & </code> <a href="http://evil.example">click</a> *_[]()~`>#+-=|{}.!'
    async with desk(sandbox, db_path) as d:
        photos = tuple(sandbox.world.store_file("photo", b"jpeg%d" % i).file_id for i in range(2))
        case = await d.file_case(
            OWNER,
            text=hostile,
            category="heating.no-heat",
            photos=photos,
            location=Location(45.75, 126.64, "12 Harbin Road"),
            answers={"indoor_temp": 12, "since": "2026-11-20"},
            phone="+86 138 0000 0000",
            notify_staff=True,
        )
        staff = await sandbox.wait_for_messages(d.staff, 3, timeout=10)
        card = staff[0]
        assert card["parse_mode"] is None
        assert not card["entities"]
        assert card["text"].endswith("\n\n" + hostile)
        lines = card["text"].split("\n")
        assert lines[0] == f"New request {format_tracking_number(case.tracking)}"
        assert "Kind: complaint" in lines
        assert "Category: Heating › No heating or radiators not warm" in lines
        assert "Where: 12 Harbin Road" in lines
        osm = "https://www.openstreetmap.org/?mlat=45.750000&mlon=126.640000#map=17/45.750000/126.640000"
        assert f"Map: {osm}" in lines
        assert "Contact: +86 138 0000 0000" in lines
        assert "• Indoor temperature, °C: 12" in lines
        assert any(line.startswith("Due by: ") for line in lines)
        album = staff[1:]
        assert [m["photo"] for m in album] == list(photos)
        assert album[0]["caption"].startswith("Photos of request")
        assert unicodedata.is_normalized("NFC", card["text"])


async def test_the_track_button_asks_for_the_number(sandbox: Sandbox, db_path: Database) -> None:
    async with desk(sandbox, db_path) as d:
        case = await d.file_case(OWNER)
        asked = await d.say(OWNER, "Track a request", 1)
        assert asked["text"] == "Please send the tracking number. It looks like ABCD-EFGH-JKMN."
        wrong = await d.say(OWNER, "my heating", 2)
        assert wrong["text"].startswith("That is not a tracking number")
        card = await d.say(OWNER, format_tracking_number(case.tracking).lower(), 3)
        assert card["text"].startswith(f"Request {format_tracking_number(case.tracking)}")
        assert query(db_path, "SELECT count(*) FROM draft")[0][0] == 0
        # In Chinese too: the button is matched in every language.
        asked = await d.say(STRANGER, "查询诉求", 1, language_code="zh-hans")
        assert asked["text"] == "请发送工单编号，格式如 ABCD-EFGH-JKMN。"


async def test_replying_to_a_message_about_a_case_adds_to_it(
    sandbox: Sandbox, db_path: Database
) -> None:
    async with desk(sandbox, db_path) as d:
        case = await d.file_case(OWNER)
        card = await d.say(OWNER, f"/status {case.tracking}", 1)
        recorded = "SELECT count(*) FROM outbox_message WHERE chat_id = ? AND message_id = ?"
        await eventually(
            lambda: query(db_path, recorded, (OWNER, card["message_id"]))[0][0],
            10,
            what="the card's message_id recorded",
        )
        added = await d.say(
            OWNER, "Also the boiler room is locked.", 2, reply_to_message_id=card["message_id"]
        )
        assert added["text"].startswith("Added to request")
        payload = query(db_path, "SELECT payload FROM case_event WHERE kind = 'citizen_added'")
        assert "Also the boiler room is locked." in payload[0][0]
        # A reply to a message about no case is an ordinary message.
        other = await d.say(OWNER, "hello", 3, reply_to_message_id=added["message_id"])
        assert other["text"] == "To send a request or ask something, please use the menu below."
