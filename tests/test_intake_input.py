"""Filing a request with everything going wrong: each bad input gets a clear answer in the
citizen's language, and nothing entered so far is lost."""

from __future__ import annotations

import json
from pathlib import Path

from bot.sandbox import Sandbox
from storage.catalog import SAMPLE_CATALOG
from tests.databases import Database
from tests.harness import query
from tests.intake_desk import Citizen, button_data, category_ids, fill_to_description, intake_bot
from tests.intake_desk import texts_of as said

AREA = "\n[service_area]\ncenter = [45.757, 126.642]\nradius_km = 60\n"


async def test_bad_input_at_every_step(
    sandbox: Sandbox, db_path: Database, tmp_path: Path
) -> None:
    catalog = tmp_path / "catalog.toml"
    catalog.write_text(SAMPLE_CATALOG.read_text(encoding="utf-8") + AREA, encoding="utf-8")
    async with intake_bot(sandbox, db_path, MINSHENG_CATALOG_FILE=str(catalog)):
        c = Citizen(sandbox, db_path, 5200, "en")
        t = c.t
        ids = category_ids(db_path)
        await c.say("New request")
        # Free text or media where a button is expected: said, and the keyboard again.
        again = await c.say("a complaint please")
        assert "please choose one of the buttons below" in again[0]["text"]
        assert "in:k:complaint" in button_data(again[-1])
        again = await c.send(sticker={"file_id": "sticker-1"})
        assert "in:k:report" in button_data(again[-1])
        # Back from the categories to the areas, and from the areas to the kinds.
        await c.press("in:k:complaint")
        await c.press(f"in:d:{ids['water']}")
        [areas] = await c.press("in:back")
        assert f"in:d:{ids['heating']}" in button_data(areas)
        [kinds] = await c.press("in:back")
        assert "in:k:inquiry" in button_data(kinds)
        # A stale button: the categories keyboard belongs to a step long gone.
        stale = await c.press(f"in:c:{ids['water.outage']}")
        assert stale == []
        assert c.last_answer.get("text") == "This button has expired."
        assert c.step() == "kind"
        await c.press("in:k:complaint")
        await c.press(f"in:d:{ids['heating']}")
        await c.press(f"in:c:{ids['heating.no-heat']}")
        # A number question: words, then out of range, then a good one.
        assert "a number from 0 to 30" in said(await c.say("cold"))
        assert "a number from 0 to 30" in said(await c.say("45"))
        await c.say("12,5")
        # A date question: not a date, a future one, then the Russian way of writing one.
        assert "a date that is not in the future" in said(await c.say("last week"))
        assert "a date that is not in the future" in said(await c.say("2999-01-01"))
        await c.say("05.01.2025")
        assert c.draft()[1]["answers"] == {"indoor_temp": 12.5, "since": "2025-01-05"}
        # The description: too short, too long (limit and length said), forwarded, a voice.
        assert "too short (5 characters); please write at least 10" in said(await c.say("Cold!"))
        long = "x" * 3001
        assert "too long (3001 characters); the limit is 3000" in said(await c.say(long))
        forwarded = await c.send(text="Radiators cold for days", forward_from={"id": 77})
        assert "type the description yourself" in said(forwarded)
        # A voice message or a file: words first, and the files are welcome at the next step.
        files_later = "you can send voice messages, videos and documents at the next step"
        assert files_later in said(await c.send(voice={"file_id": "voice-1"}))
        assert files_later in said(await c.send(document={"file_id": "doc-1"}))
        assert "as text" in said(await c.send(sticker={"file_id": "sticker-1"}))
        # An edited message is ignored: no answer, nothing changes.
        sent = c._push(text="The radiators are cold.")
        await c.settle()
        c.new()
        assert c.step() == "photos"
        c._push(text="Something else entirely, edited", edit_of=sent["message"]["message_id"])
        await c.settle()
        assert c.new() == []
        assert c.draft()[1]["description"] == "The radiators are cold."
        # Photos: a sticker is neither a photo nor a file; a video is kept as a file; a sixth
        # photo is refused.
        sticker = await c.send(sticker={"file_id": "sticker-2"})
        assert "please send a photo, a voice message, a video or a document" in said(sticker)
        assert "File 1 of 5 received" in said(await c.send(video={"file_id": "video-1"}))
        for _ in range(5):
            await c.photo()
        [refused] = await c.photo()
        assert refused["text"] == "You can add at most 5 photos; this one was not added."
        assert len(c.draft()[1]["photos"]) == 5
        await c.press("in:done")
        # The place is required here (no Skip): a too-short address, "Skip", far away.
        assert "address of 3 to 300 characters (yours has 2)" in said(await c.say("No"))
        assert "yours has 4" in said(await c.say(t.gettext("Skip")))
        far = await c.send(location={"latitude": 39.9, "longitude": 116.4})
        assert "outside the area this desk serves" in said(far)
        assert c.step() == "location"
        await c.say("12 Zhongyang Street, flat 5")
        # Someone else's phone number is refused and not kept.
        other = await c.send(contact={"phone_number": "+8613911112222", "user_id": 999})
        assert "your own phone number" in said(other)
        assert "phone" not in c.draft()[1]
        other = await c.send(contact={"phone_number": "+8613911112222"})
        assert "your own phone number" in said(other)
        await c.say(t.gettext("Stay anonymous"))
        assert c.step() == "summary"
        # Free text at the summary: the buttons again. Edit the description and come back.
        again = await c.say("looks fine")
        assert "in:submit" in button_data(again[-1])
        await c.press("in:e:description")
        assert c.step() == "description"
        back = await c.say("The radiators in flat 5 are cold since Sunday.")
        assert "Description: The radiators in flat 5 are cold since Sunday." in said(back)
        assert c.step() == "summary"
        # Edit the category: Back works, the new category's questions are asked, then summary.
        await c.press("in:e:category")
        await c.press(f"in:d:{ids['heating']}")
        back = await c.press(f"in:c:{ids['heating.fees']}")
        assert c.step() == "summary"
        assert "in:submit" in button_data(back[-1])
        assert c.draft()[1]["answers"] == {}
        # Forged data: not ours, or ours at the wrong step; nothing changes.
        for forged in ("in:k:nonsense", "in:c:99999999", "in:done", "lang:xx", "in:e:x"):
            assert await c.press(forged, message_id=back[-1]["message_id"]) == []
            assert c.last_answer.get("text") == "This button has expired."
        assert c.step() == "summary"
        await c.press("in:submit")
        [(text, address, photos)] = query(
            db_path, "SELECT text, address, photos FROM service_case"
        )
        assert (text, address, len(json.loads(photos))) == (
            "The radiators in flat 5 are cold since Sunday.",
            "12 Zhongyang Street, flat 5",
            5,
        )
        assert query(db_path, "SELECT count(*) FROM inbox_update WHERE status = 'failed'") == [
            (0,)
        ]


async def test_emergencies_are_diverted(sandbox: Sandbox, db_path: Database) -> None:
    async with intake_bot(sandbox, db_path):
        ids = category_ids(db_path)
        zh = Citizen(sandbox, db_path, 5300, "zh_Hans")
        await fill_to_description(zh, "report", "heating", "heating.fees")
        diverted = await zh.say("楼道里起火了，有人受伤，请快来！")
        assert "119 — 火警" in said(diverted)
        assert "120 — 急救" in said(diverted)
        assert "本平台不受理紧急情况" in said(diverted)
        assert zh.step() == "description"
        assert "description" not in zh.draft()[1]
        # The citizen says it is not an emergency after all: the text is taken as it was.
        await zh.press("in:notem")
        assert zh.step() == "photos"
        assert zh.draft()[1]["description"] == "楼道里起火了，有人受伤，请快来！"

        ru = Citizen(sandbox, db_path, 5301, "ru")
        await fill_to_description(ru, "report", "heating", "heating.fees")
        diverted = await ru.say("В подъезде сильно пахнет газом, кажется утечка газа!")
        assert "Пожарные и спасатели" in said(diverted)
        assert ru.step() == "description"
        await ru.say("Счёт за отопление пришёл в двойном размере.")
        assert ru.step() == "photos"

        # An emergency category is never filed: the numbers, and the categories again.
        en = Citizen(sandbox, db_path, 5302, "en")
        await en.say("New request")
        await en.press("in:k:report")
        await en.press(f"in:d:{ids['gas']}")
        diverted = await en.press(f"in:c:{ids['gas.leak']}")
        assert "110 — Police" in said(diverted)
        assert "not for emergencies" in said(diverted)
        assert f"in:c:{ids['gas.outage']}" in button_data(diverted[-1])
        assert en.step() == "category"
    assert query(db_path, "SELECT count(*) FROM service_case") == [(0,)]
