"""Media and long text in the filing conversation (RELIABILITY rows 26, 28, 30), end to end."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.delivery import split_text, utf16_length
from bot.sandbox import Sandbox
from tests.databases import Database
from tests.harness import query
from tests.intake_desk import Citizen, fill_to_description, intake_bot

# Emoji outside the BMP (two UTF-16 units each), Hebrew and Arabic (right to left), and CJK.
LONG_MIXED = ("😀😀😀😀😀😀😀😀😀😀 שלום مرحبا 暖气" * 300)[:3000]


async def test_an_album_of_ten_keeps_five_and_answers_once(
    sandbox: Sandbox, db_path: Database
) -> None:
    """Row 28: an album of 10 photos with an over-long caption is one step: one answer, plus
    one notice (not five) that the photos past the fifth were not added; five are kept."""
    async with intake_bot(sandbox, db_path):
        c = Citizen(sandbox, db_path, 5600, "en")
        await fill_to_description(c, "complaint", "heating", "heating.fees")
        await c.say("The heating bill doubled this winter without any explanation.")
        assert c.step() == "photos"
        answers = []
        for _ in range(10):
            answers += await c.photo(caption="c" * 1500, album="album-10")
        assert [m["text"] for m in answers] == [
            "Photos received. Send more (up to 5 in all) or press Done.",
            "You can add at most 5 photos; this one was not added.",
        ]
        assert len(c.draft()[1]["photos"]) == 5
        assert query(db_path, "SELECT count(*) FROM inbox_update WHERE status = 'failed'") == [
            (0,)
        ]


async def test_a_live_location_is_taken_once(sandbox: Sandbox, db_path: Database) -> None:
    """Row 30: a shared live location (then a stream of edits) gives the first point; the 20
    edits that follow change nothing and are not answered."""
    async with intake_bot(sandbox, db_path):
        c = Citizen(sandbox, db_path, 5601, "en")
        await fill_to_description(c, "report", "roads", "roads.potholes")
        await c.say("A deep pothole in the right lane has damaged two cars this week.")
        await c.press("in:done")
        assert c.step() == "location"
        live = {"latitude": 31.2304, "longitude": 121.4737, "live_period": 900}
        first = c._push(location=live)
        await c.settle()
        c.new()
        assert c.step() == "contact"
        for n in range(20):
            moved = {**live, "latitude": 31.2304 + (n + 1) / 1000}
            c._push(location=moved, edit_of=first["message"]["message_id"])
        await c.settle()
        assert c.new() == []
        location = c.draft()[1]["location"]
        assert (location["lat"], location["lon"]) == (31.2304, 121.4737)
        assert c.step() == "contact"


async def test_long_mixed_text_reaches_the_staff_chat_whole(
    sandbox: Sandbox, db_path: Database
) -> None:
    """Row 26: a 3,000-character description of emoji, right-to-left and CJK text, relayed to
    staff under the card's header, is longer than Telegram takes in one message (it counts
    UTF-16 units); it arrives split at a safe place, nothing is refused or lost."""
    async with intake_bot(sandbox, db_path):
        c = Citizen(sandbox, db_path, 5602, "en")
        await fill_to_description(c, "complaint", "heating", "heating.fees")
        await c.say(LONG_MIXED)
        await c.press("in:skip")
        await c.say(c.t.gettext("Skip"))
        await c.say(c.t.gettext("Stay anonymous"))
        await c.press("in:submit")
        staff = sandbox.messages(sandbox.config.staff_group_id)
        relayed = "".join(m.get("text") or "" for m in staff)
        assert LONG_MIXED in relayed
        assert len(staff) >= 2
        assert all(utf16_length(m.get("text") or "") <= 4096 for m in staff)
        assert query(db_path, "SELECT count(*) FROM outbox_message WHERE status != 'sent'") == [
            (0,)
        ]


TEXTS = st.text(
    alphabet=st.sampled_from(["a", " ", "\n", "é", "暖", "ש", "م", "😀", "🏽", "\u200f"]),
    min_size=2040,
    max_size=4200,
)


@settings(max_examples=60, deadline=None)
@given(TEXTS)
def test_split_text_keeps_every_character_within_the_limit(text: str) -> None:
    """Row 26 at the boundaries (4095 to 4097 units and around): the parts join back to the
    text exactly, each is within Telegram's limit, and no emoji is cut in half."""
    parts = split_text(text, 4096)
    assert "".join(parts) == text
    assert all(0 < utf16_length(part) <= 4096 for part in parts)
    if utf16_length(text) <= 4096:
        assert parts == [text]


def test_split_text_at_exact_boundaries() -> None:
    for units in (4095, 4096, 4097):
        text = "😀" * (units // 2) + "a" * (units % 2)
        parts = split_text(text, 4096)
        assert "".join(parts) == text
        assert [utf16_length(p) for p in parts] == ([units] if units <= 4096 else [4096, 1])
