"""Filing a request end to end: the real bot against the sandbox, on a real SQLite file.

Each test acts as citizens (messages, photos, albums, locations, contacts, button presses) and
checks what each chat received — text, buttons, language — and the rows in the database.
"""

from __future__ import annotations

import contextlib
import itertools
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.clock import Clock
from bot.i18n import Catalogs, Translator
from bot.runtime import Runtime
from bot.sandbox import Sandbox
from storage.tracking import format_tracking_number
from tests.harness import query, running_bot, settings_for, wait_until

CATALOGS = Catalogs()
LANGUAGE_CODES = {"en": "en", "zh_Hans": "zh-hans", "zh_Hant": "zh-hant", "ru": "ru"}
_files = itertools.count(1)


def intake_settings(sandbox: Sandbox, db_path: Path, **extra: str) -> Any:
    # A conversation is many messages in a few seconds: keep the flood gate out of the way.
    return settings_for(sandbox, db_path, MINSHENG_FLOOD_MESSAGES="10000", **extra)


@contextlib.asynccontextmanager
async def intake_bot(
    sandbox: Sandbox, db_path: Path, clock: Clock | None = None, **extra: str
) -> AsyncIterator[Runtime]:
    """The real runtime in this process (as tests.harness.running_bot), optionally on `clock`."""
    async with running_bot(intake_settings(sandbox, db_path, **extra), clock) as runtime:
        yield runtime


class Citizen:
    """One user in a private chat with the bot; every action waits until the bot is quiet."""

    def __init__(self, sandbox: Sandbox, db_path: Path, user_id: int, language: str) -> None:
        self.sandbox, self.db, self.id, self.language = sandbox, db_path, user_id, language
        self.t: Translator = CATALOGS.get(language)
        self.seen = 0  # bot messages already read by `new()`

    def _push(self, **body: Any) -> dict[str, Any]:
        return self.sandbox.send_text(
            self.id, body.pop("text", ""), language_code=LANGUAGE_CODES[self.language],
            first_name="Citizen", **body,
        )  # fmt: skip

    async def settle(self) -> None:
        """Wait until every update is handled and every answer sent."""

        def quiet() -> bool:
            inbox = query(self.db, "SELECT count(*) FROM inbox_update WHERE status = 'pending'")
            outbox = query(
                self.db,
                "SELECT count(*) FROM outbox_message WHERE status IN ('pending', 'uncertain')",
            )
            return inbox[0][0] == 0 and outbox[0][0] == 0 and not self.sandbox.world.pending

        await wait_until(lambda: self.db.exists() and quiet(), 20, "a quiet bot")

    async def send(self, **body: Any) -> list[dict[str, Any]]:
        update = self._push(**body)
        await self.settle()
        self.last_update = update
        return self.new()

    async def say(self, text: str) -> list[dict[str, Any]]:
        return await self.send(text=text)

    async def photo(self, caption: str = "", album: str | None = None) -> list[dict[str, Any]]:
        body: dict[str, Any] = {"photo": {"file_id": f"photo-{self.id}-{next(_files)}"}}
        if caption:
            body["caption"] = caption
        if album:
            body["media_group_id"] = album
        return await self.send(**body)

    def new(self) -> list[dict[str, Any]]:
        messages = self.sandbox.messages(self.id)
        fresh, self.seen = messages[self.seen :], len(messages)
        return fresh

    def button_message(self, data: str) -> dict[str, Any]:
        for message in reversed(self.sandbox.messages(self.id)):
            if data in button_data(message):
                return message
        raise AssertionError(f"no message with button {data!r}")

    async def press(self, data: str, *, message_id: int | None = None) -> list[dict[str, Any]]:
        if message_id is None:
            message_id = self.button_message(data)["message_id"]
        update = self.sandbox.press_button(self.id, self.id, message_id, data, force=True)
        await self.settle()
        self.last_answer = self.sandbox.callback_answers.get(update["callback_query"]["id"], {})
        return self.new()

    async def press_label(self, label: str) -> list[dict[str, Any]]:
        for message in reversed(self.sandbox.messages(self.id)):
            for text, data in buttons(message):
                if text == label:
                    return await self.press(data, message_id=message["message_id"])
        raise AssertionError(f"no button labelled {label!r}")

    def draft(self) -> tuple[str, dict[str, Any]] | None:
        rows = query(self.db, "SELECT step, data FROM draft WHERE citizen_id = ?", (self.id,))
        return (rows[0][0], json.loads(rows[0][1])) if rows else None

    def step(self) -> str | None:
        draft = self.draft()
        return draft[0] if draft else None


def buttons(message: dict[str, Any]) -> list[tuple[str, str]]:
    markup = message.get("reply_markup") or {}
    rows = markup.get("inline_keyboard") or []
    return [(b["text"], b.get("callback_data", "")) for row in rows for b in row]


def button_data(message: dict[str, Any]) -> list[str]:
    return [data for _, data in buttons(message)]


def reply_keys(message: dict[str, Any]) -> list[dict[str, Any]]:
    markup = message.get("reply_markup") or {}
    return [key if isinstance(key, dict) else {"text": key}
            for row in markup.get("keyboard") or [] for key in row]  # fmt: skip


def texts_of(messages: list[dict[str, Any]]) -> str:
    return "\n".join(m.get("text") or "" for m in messages)


def category_ids(db_path: Path) -> dict[str, int]:
    return dict(query(db_path, "SELECT code, id FROM category"))


async def fill_to_description(c: Citizen, kind: str, domain: str, cat: str) -> None:
    """New request → kind → domain → category (no questions asked by these categories)."""
    ids = category_ids(c.db)
    await c.say(c.t.gettext("New request"))
    await c.press(f"in:k:{kind}")
    await c.press(f"in:d:{ids[domain]}")
    await c.press(f"in:c:{ids[cat]}")


DESCRIPTIONS = {
    "en": "The radiators in our flat have been cold for three days.",
    "zh_Hans": "我家暖气已经三天不热了，室内很冷。",
    "zh_Hant": "我家暖氣已經三天不熱了，室內很冷。",
    "ru": "Батареи в квартире холодные уже три дня.",
}


@pytest.mark.parametrize("language", list(LANGUAGE_CODES))
async def test_whole_conversation(sandbox: Sandbox, db_path: Path, language: str) -> None:
    async with intake_bot(sandbox, db_path):
        c = Citizen(sandbox, db_path, 5000 + len(language), language)
        t = c.t
        [welcome] = await c.say("/start")
        menu = [k["text"] for k in reply_keys(welcome)]
        assert menu[:4] == [t.gettext("New request"), t.gettext("My requests"),
                            t.gettext("Track a request"), t.gettext("Help")]  # fmt: skip
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
        assert buttons(done) == [(t.gettext("Follow this request"), f"case:{tracking}")]
        assert c.draft() is None
        staff = sandbox.config.staff_group_id
        card = format_tracking_number(tracking)
        await wait_until(
            lambda: any(card in (m.get("text") or "") for m in sandbox.messages(staff)),
            10,
            "the staff chat's new-case card",
        )


async def test_double_submit_files_one_case(sandbox: Sandbox, db_path: Path) -> None:
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
        assert query(db_path, "SELECT count(*), max(anonymous) FROM service_case") == [(1, 1)]
        answer = sandbox.callback_answers[second["callback_query"]["id"]]
        assert answer.get("text") == "Already submitted."
        assert len([m for m in c.new() if "Tracking number" in (m.get("text") or "")]) == 1
