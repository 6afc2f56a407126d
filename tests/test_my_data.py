"""/mydata end to end through the sandbox, in English and Chinese: a summary in the citizen's
language (their requests with numbers and status, what is kept, for how long), then the whole
export as a JSON document with keys a person reads, without internal fields (review flags, photo
ids, notes, staff ids) and without anyone else's data (a follower of their request, the text of
a request they support)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.sandbox import Sandbox
from bot.sweeps import DRAFT_DISCARD_AFTER
from bot.texts.cases import category_name, status_name
from bot.texts.my_data import DRAFT_DAYS
from storage.case_views import Location
from storage.citizens import touch_citizen
from storage.followers import follow
from storage.lifecycle import accept_case, submit_reply
from storage.models import Case, CaseStatus, Citizen, Event
from storage.publication import Publication, publish, unpublish
from storage.queue import add_note
from storage.rating import add_comment, rate_satisfaction, rate_solved
from storage.status_read import citizen_case_status
from storage.tracking import format_tracking_number, new_tracking_number
from tests.databases import Database
from tests.following import desk
from tests.intake_desk import Citizen as Person
from tests.staff_desk import ADMIN

ASKER, NEIGHBOUR = 77_001, 77_002
T0 = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
PHONE = "13912345678"
PLACE = Location(45.7512, 126.6301, "Guangming Road 88, unit 4")
ANSWER = "Fixed."  # short: the desk marks it perfunctory (an internal flag)
NOTE = "internal: the caller is the building manager's cousin"
NEIGHBOURS_TEXT = "Neighbour's own complaint about the lift in block 9, flat 2"
RETENTION = 12


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def keys(value: Any) -> set[str]:
    """Every key at any depth of a JSON value."""
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in keys(v)}
    return set()


@pytest.mark.parametrize("language", ["en", "zh_Hans", "zh_Hant", "ru"])
async def test_mydata_is_a_summary_and_a_readable_file(
    sandbox: Sandbox, db_path: Database, language: str
) -> None:
    async with desk(
        sandbox,
        db_path,
        MINSHENG_ADMIN_IDS=str(ADMIN),
        MINSHENG_RETENTION_DAYS=str(RETENTION),
    ) as d:
        zone = d.runtime.services.settings.zone
        await touch_citizen(ASKER, first_name="Li", guessed_language=language)
        await Citizen.filter(id=ASKER).update(phone=PHONE)
        asker = Person(sandbox, db_path, ASKER, language)
        t = asker.t
        mine = await d.file_case(
            ASKER, at=at(0), photos=("photo-secret-id",), location=PLACE, phone=PHONE
        )
        theirs = await d.file_case(NEIGHBOUR, at=at(1), text=NEIGHBOURS_TEXT)
        ids = {c.tracking: (await Case.get(tracking=c.tracking)).id for c in (mine, theirs)}
        await follow(ids[mine.tracking], NEIGHBOUR, at(2))  # the neighbour follows mine
        await follow(ids[theirs.tracking], ASKER, at(3))  # and I support theirs
        await accept_case(mine.tracking, "heating-company", by=ADMIN, now=at(5), zone=zone)
        await add_note(mine.tracking, NOTE, by=ADMIN, now=at(6))
        await submit_reply(mine.tracking, ANSWER, by=ADMIN, now=at(10), min_length=40)
        # The citizen agreed to publish; staff published a text of their own.
        await Case.filter(id=ids[mine.tracking]).update(publish_consent=True)
        public = Publication("Heating fees", "A resident asks about the fee.", "Explained", [])
        await publish(mine.tracking, public, by=ADMIN, now=at(11))
        # The answer's review flags stay with staff; the citizen's history carries its text only.
        timeline = (await citizen_case_status(mine.tracking, ASKER)).timeline
        answered = [e for e in timeline if e.kind == "answered"]
        assert [e.payload for e in answered] == [{"text": ANSWER}]
        flags = (await Event.get(case_id=ids[mine.tracking], kind="answered")).payload
        assert flags["perfunctory"] is True  # there to be left out
        await rate_solved(mine.tracking, ASKER, "solved", now=at(20))
        await rate_satisfaction(mine.tracking, ASKER, "basic", now=at(21))
        await add_comment(mine.tracking, ASKER, "Quick and helpful", now=at(22))
        stranger = format_tracking_number(new_tracking_number())
        await asker.say(f"/status {stranger}")  # a number that is not theirs

        summary, document = await asker.say("/mydata")
        text = summary["text"]
        print(f"--- {language} ---\n{text}\n")  # read by eye with -s
        number = format_tracking_number(mine.tracking)
        category = await category_name("heating.fees", t.language)
        assert text.startswith(t.gettext("What this desk keeps about you:"))
        assert f"• {number} · {category} · {status_name(t, CaseStatus.CLOSED)} · " in text
        assert (
            t.ngettext(
                "• You support {count} request filed by someone else.",
                "• You support {count} requests filed by someone else.",
                1,
                count=1,
            )
            in text
        )
        assert t.gettext("How long it is kept:") in text
        kept = t.ngettext(
            "• Our copies of your messages with the bot, and the numbers you looked up: "
            "deleted {days} day after they were handled.",
            "• Our copies of your messages with the bot, and the numbers you looked up: "
            "deleted {days} days after they were handled.",
            RETENTION,
            days=RETENTION,
        )
        assert kept in text
        published = t.gettext("Published on the public board, without your name.")
        agreed = t.gettext("You agreed to publish it without your name; not published yet.")
        # The line under the request says what became of the consent.
        lines = text.split("\n")
        row = next(i for i, line in enumerate(lines) if line.startswith(f"• {number} "))
        assert lines[row + 1] == f"  {published}"
        assert agreed not in text

        assert document["method"] == "sendDocument"
        assert document["chat_id"] == ASKER
        stored = sandbox.world.files[document["document"]]
        assert (stored.file_name or "").endswith(".json")
        raw = (stored.data or b"").decode()
        print(raw)
        export = json.loads(raw)
        assert set(export) == {
            "exported_at",
            "about_you",
            "requests",
            "requests_you_support",
            "request_being_written",
            "numbers_you_looked_up",
        }
        assert export["about_you"]["telegram_user_id"] == ASKER
        assert export["about_you"]["phone"] == PHONE
        [request] = export["requests"]
        assert request["tracking_number"] == number
        assert request["description"] == mine.text
        assert request["status"] == status_name(t, CaseStatus.CLOSED)
        assert request["place"]["address"] == PLACE.address
        assert request["photos_attached"] == 1
        assert request["answer"] == ANSWER
        assert request["your_rating"] == {
            "solved": t.gettext("Solved"),
            "satisfaction": t.gettext("Basically satisfied"),
            "comment": t.gettext("Quick and helpful"),
        }
        assert request["due_by"] is None  # answered and closed: no due date
        assert request["publication"] == {
            "you_agreed_to_publish_without_your_name": True,
            "published": True,
            "public_title": "Heating fees",
            "public_text": "A resident asks about the fee.",
            "public_answer": "Explained",
        }
        assert [h["what_happened"] for h in request["history"]][-1] == t.gettext(
            "Closed after your rating."
        )
        assert export["requests_you_support"] == [
            {
                "tracking_number": format_tracking_number(theirs.tracking),
                "since": at(3).astimezone(zone).isoformat(timespec="minutes"),
            }
        ]
        assert [n["tracking_number"] for n in export["numbers_you_looked_up"]] == [stranger]

        # Nothing internal, nothing of anyone else.
        internal = {"perfunctory", "signs", "direct", "actor", "payload", "photos", "id"}
        assert not keys(export) & internal
        for secret in ("photo-secret-id", NOTE, str(ADMIN), str(NEIGHBOUR), NEIGHBOURS_TEXT):
            assert secret not in raw
            assert secret not in text

        # Taken off the board, the consent stands: the summary says it is not published now.
        assert await unpublish(mine.tracking, "", by=ADMIN, now=at(30))
        summary, _ = await asker.say("/mydata")
        assert f"  {agreed}" in summary["text"]
        assert published not in summary["text"]


def test_the_summary_says_the_draft_period_the_sweep_keeps() -> None:
    assert timedelta(days=DRAFT_DAYS) == DRAFT_DISCARD_AFTER
