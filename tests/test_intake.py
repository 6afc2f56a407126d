"""Filing a request end to end: the real bot against the sandbox, on a real SQLite file.

Each test acts as citizens (messages, photos, albums, locations, contacts, button presses) and
checks what each chat received — text, buttons, language — and the rows in the database.
"""

from __future__ import annotations

import json

import pytest

from bot.sandbox import Sandbox
from storage.tracking import format_tracking_number
from tests.databases import Database
from tests.harness import query, wait_until
from tests.intake_desk import (
    LANGUAGE_CODES,
    Citizen,
    button_data,
    buttons,
    category_ids,
    fill_to_description,
    intake_bot,
    reply_keys,
)

DESCRIPTIONS = {
    "en": "The radiators in our flat have been cold for three days.",
    "zh_Hans": "我家暖气已经三天不热了，室内很冷。",
    "zh_Hant": "我家暖氣已經三天不熱了，室內很冷。",
    "ru": "Батареи в квартире холодные уже три дня.",
}


@pytest.mark.parametrize("language", list(LANGUAGE_CODES))
async def test_whole_conversation(sandbox: Sandbox, db_path: Database, language: str) -> None:
    async with intake_bot(sandbox, db_path):
        c = Citizen(sandbox, db_path, 5000 + len(language), language)
        t = c.t
        [welcome] = await c.say("/start")
        menu = [k["text"] for k in reply_keys(welcome)]
        assert menu[:4] == [
            t.gettext("New request"),
            t.gettext("My requests"),
            t.gettext("Track a request"),
            t.gettext("Help"),
        ]
        [kinds] = await c.say(t.gettext("New request"))
        assert kinds["text"] == t.gettext(
            "What would you like to send: a complaint, a report, an inquiry or a suggestion?"
        )
        assert next(label for label, _ in buttons(kinds)) == t.gettext("Complaint")
        [areas] = await c.press("in:k:complaint")
        assert (t.gettext("« Back"), "in:back") in buttons(areas)
        ids = category_ids(db_path)
        [cats] = await c.press(f"in:d:{ids['heating']}")
        names = dict(query(db_path, "SELECT code, names FROM category"))
        no_heat = json.loads(names["heating.no-heat"])[language]
        assert no_heat in [label for label, _ in buttons(cats)]
        [temperature] = await c.press(f"in:c:{ids['heating.no-heat']}")
        assert (
            temperature["text"]
            == json.loads(
                query(db_path, "SELECT questions FROM category WHERE code = 'heating.no-heat'")[0][
                    0
                ]
            )[0]["prompt"][language]
        )
        await c.say("14")
        await c.say("2025-01-05")
        assert c.step() == "description"
        [photos] = await c.say(DESCRIPTIONS[language])
        assert c.step() == "photos"
        assert "in:done" in button_data(photos)
        answered = await c.photo(album="album-1")
        answered += await c.photo(album="album-1")
        answered += await c.photo(album="album-1")
        assert len(answered) == 1  # an album is one step: one answer
        [one_more] = await c.photo()
        assert one_more["text"] == t.gettext(
            "Photo {n} of {limit} received. Send more or press Done.", n=4, limit=5
        )
        [where] = await c.press("in:done")
        assert any(k.get("request_location") for k in reply_keys(where))
        [contact] = await c.send(location={"latitude": 45.75, "longitude": 126.63})
        assert any(k.get("request_contact") for k in reply_keys(contact))
        summary = await c.send(contact={"phone_number": "+8613800000000", "user_id": c.id})
        assert DESCRIPTIONS[language] in summary[0]["text"]
        assert "in:submit" in button_data(summary[-1])
        [done] = await c.press("in:submit")

        [(tracking, kind, text, photos_json, lat, lon, phone, anonymous, answers, code)] = query(
            db_path,
            "SELECT c.tracking, c.kind, c.text, c.photos, c.latitude, c.longitude, c.phone,"
            " c.anonymous, c.answers, k.code FROM service_case c"
            " JOIN category k ON k.id = c.category_id WHERE c.citizen_id = ?",
            (c.id,),
        )
        assert (kind, text, code) == ("complaint", DESCRIPTIONS[language], "heating.no-heat")
        assert len(json.loads(photos_json)) == 4
        assert (lat, lon, phone, anonymous) == (45.75, 126.63, "+8613800000000", 0)
        assert json.loads(answers) == {"indoor_temp": 14, "since": "2025-01-05"}
        assert format_tracking_number(tracking) in done["text"]
        assert no_heat in done["text"]
        assert buttons(done) == [(t.gettext("See its progress"), f"case:{tracking}")]
        assert c.draft() is None
        staff = sandbox.config.staff_group_id
        card = format_tracking_number(tracking)
        await wait_until(
            lambda: any(card in (m.get("text") or "") for m in sandbox.messages(staff)),
            10,
            "the staff chat's new-case card",
        )


async def test_double_submit_files_one_case(sandbox: Sandbox, db_path: Database) -> None:
    async with intake_bot(sandbox, db_path):
        c = Citizen(sandbox, db_path, 5101, "en")
        await fill_to_description(c, "suggestion", "heating", "heating.fees")
        await c.say("Please let us pay the heating fee by month.")
        await c.press("in:skip")
        await c.say(c.t.gettext("Skip"))
        await c.say(c.t.gettext("Stay anonymous"))
        summary = c.button_message("in:submit")["message_id"]
        c.sandbox.press_button(c.id, c.id, summary, "in:submit")
        second = c.sandbox.press_button(c.id, c.id, summary, "in:submit")
        await c.settle()
        assert query(
            db_path,
            "SELECT count(*), max(CASE WHEN anonymous THEN 1 ELSE 0 END) FROM service_case",
        ) == [(1, 1)]
        answer = sandbox.callback_answers[second["callback_query"]["id"]]
        assert answer.get("text") == "Already submitted."
        assert len([m for m in c.new() if "Tracking number" in (m.get("text") or "")]) == 1
