"""Another citizen's view of a request that is not theirs, end to end through the sandbox: the
duplicate offer (from two points), joining, the notices of a followed request, its /status card,
and a merged request's citizen. They see the category, status, age, supporters, "nearby", and a
published request's public text and note; never the filer's words, place, contact, the staff's
answer or questions to the filer.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.sandbox import Sandbox
from bot.texts.cases import department_name, short_category_name
from storage.case_views import Location
from storage.lifecycle import (
    accept_case,
    ask_citizen,
    citizen_answered,
    close_case,
    merge_case,
    reject_case,
    reopen_case,
    submit_reply,
)
from storage.models import Case
from storage.tracking import format_tracking_number
from tests.databases import Database
from tests.duplicates_desk import FIRST, SIMILAR, dup_desk, to_summary
from tests.harness import query
from tests.intake_desk import Citizen
from tests.staff_desk import ADMIN

ALICE, BOB, CAROL = 75_001, 75_002, 75_003
NAME, PHONE, STREET = "王秀英", "13912345678", "光明路88号4单元502"
PLACE = Location(45.7512, 126.6301, "光明路88号")
# Alice's request names her, her phone and her flat; Bob's only shares the problem.
PLANTED_TEXT = f"{FIRST}我是{NAME}，电话{PHONE}，住{STREET}。"
POINTS = (
    {"latitude": 45.7520, "longitude": 126.6310},  # 113 m north-east of Alice
    {"latitude": 45.7505, "longitude": 126.6290},
)  # 115 m south-west
QUESTION = f"{NAME}女士，请问是{STREET}吗？"
CITIZEN_ANSWER = f"是的，我是{NAME}，{PHONE}。"
PRIVATE_ANSWER = f"{NAME}女士（{PHONE}）：物业已为{STREET}恢复供暖。"
REASON = f"Rejected for {NAME} ({PHONE}): handled by the court."
PUBLIC_TEXT = "Heating was withheld in a residential compound over unpaid fees."
PUBLIC_NOTE = "The property company has been told it may not withhold heating."
SECRETS = (
    NAME,
    PHONE,
    STREET,
    PLACE.address,
    "45.7512",
    "126.6301",
    PRIVATE_ANSWER,
    REASON,
    FIRST,
)
# A distance in metres, in English or Chinese ("113 m away", "相距 113 米").
METRES = re.compile(r"\d\s*(?:m\b|米|公尺)|m away")


def seen_by(sandbox: Sandbox, db_path: Database, chat: int) -> str:
    """Everything a chat received, as one string: texts, edits, buttons, button answers, and
    the outbox rows written for it (the facts of its notices)."""
    messages = sandbox.messages(chat)
    answers = [a for a in sandbox.callback_answers.values() if a.get("text")]
    rows = query(db_path, "SELECT payload FROM outbox_message WHERE chat_id = ?", (chat,))
    return json.dumps([messages, answers, rows], ensure_ascii=False)


def assert_nothing_of_alice(sandbox: Sandbox, db_path: Database, chat: int) -> None:
    seen = seen_by(sandbox, db_path, chat)
    leaked = [secret for secret in SECRETS if secret and secret in seen]
    assert leaked == [], f"chat {chat} received {leaked}"
    texts = [m.get("text") or "" for m in sandbox.messages(chat)]
    assert not [text for text in texts if METRES.search(text)], texts


async def publish(tracking: str, *, consent: bool) -> None:
    """What staff set when the citizen agreed to publish (the consent, the approved texts)."""
    await Case.filter(tracking=tracking).update(
        publish_consent=consent,
        public_text=PUBLIC_TEXT,
        public_note=PUBLIC_NOTE,
        published_at=datetime.now(UTC),
    )


def texts(messages: list[dict[str, Any]]) -> list[str]:
    return [str(m.get("text") or "") for m in messages]


@pytest.mark.parametrize("language", ["en", "zh_Hans"])
async def test_another_citizen_learns_nothing_of_the_filer(
    sandbox: Sandbox, db_path: Database, language: str
) -> None:
    async with dup_desk(sandbox, db_path) as d:
        alice = await d.file_case(ALICE, text=PLANTED_TEXT, location=PLACE)
        tracking, number = alice.tracking, format_tracking_number(alice.tracking)
        bob = Citizen(sandbox, db_path, BOB, language)
        t = bob.t
        # Two offers from two points around Alice: neither says how far she is.
        for point in POINTS:
            await to_summary(bob, SIMILAR, point)
            [offer] = await bob.press("in:submit")
            lines = offer["text"].split("\n")
            assert lines[2] == t.ngettext(
                "{number} · {category} · {count} supporter · nearby",
                "{number} · {category} · {count} supporters · nearby",
                1,
                number=number,
                category=await short_category_name("heating.fees", t.language),
                count=1,
            )
            assert lines[3] == t.gettext(
                "Status: {status} · filed less than a day ago", status=t.gettext("submitted")
            )
            assert_nothing_of_alice(sandbox, db_path, BOB)
            if point is POINTS[0]:
                await bob.press("in:cancel")
        [joined] = await bob.press("in:j:0")
        assert joined["text"].startswith(
            t.gettext(
                "You joined request {number}; nothing new was filed. You will be told when it is "
                "accepted, answered and closed. Look it up any time with /status {number}.",
                number=number,
            )[:20]
        )

        # Carol filed the same problem; it is merged into Alice's, so she follows it too.
        carol = await d.file_case(CAROL, text=SIMILAR)
        now = datetime.now(UTC)
        await merge_case(carol.tracking, tracking, by=ADMIN, now=now)
        zone = d.runtime.services.settings.zone
        await accept_case(tracking, "heating-company", by=ADMIN, now=now, zone=zone)
        await bob.settle()
        [accepted] = bob.new()
        heating = await department_name("heating-company", t)
        assert accepted["text"] == t.gettext(
            "Request {number}, which you follow, was accepted and passed to {department}.",
            number=number,
            department=heating,
        )

        # A question to Alice, and her answer, are hers alone.
        await ask_citizen(tracking, QUESTION, by=ADMIN, now=now)
        await citizen_answered(tracking, ALICE, CITIZEN_ANSWER, now=now)
        await bob.settle()
        assert bob.new() == []

        # The private answer: Bob hears that it was answered, not what; no rating buttons.
        await submit_reply(tracking, PRIVATE_ANSWER, by=ADMIN, now=now)
        await bob.settle()
        [answered] = bob.new()
        answered_line = t.gettext(
            "Request {number}, which you follow, was answered. The answer goes to the citizen "
            "who filed it; if your situation differs, file a request of your own.",
            number=number,
        )
        assert answered["text"] == answered_line
        assert not answered.get("reply_markup")
        # Not published (no consent): the note stays unpublished too.
        await publish(tracking, consent=False)
        await reopen_case(tracking, by=ADMIN, now=now)
        await submit_reply(tracking, PRIVATE_ANSWER, by=ADMIN, now=now)
        await bob.settle()
        assert texts(bob.new()) == [
            t.gettext(
                "Request {number}, which you follow, was reopened and is being worked on again.",
                number=number,
            ),
            answered_line,
        ]
        # Published: the public note goes along with the answer.
        await publish(tracking, consent=True)
        await reopen_case(tracking, by=ADMIN, now=now)
        await submit_reply(tracking, PRIVATE_ANSWER, by=ADMIN, now=now)
        await close_case(tracking, by=ADMIN, now=now)
        await bob.settle()
        note = t.gettext("Note from the department: {note}", note=PUBLIC_NOTE)
        assert texts(bob.new())[1:] == [
            f"{answered_line}\n\n{note}",
            t.gettext("Request {number}, which you follow, is closed.", number=number),
        ]

        # Bob's card of the request: where it stands, the public text and note, no more.
        [card] = await bob.say(f"/status {number}")
        assert card["text"].startswith(
            t.gettext("Request {number} (you follow it)", number=number)
        )
        assert t.gettext("Public summary: {text}", text=PUBLIC_TEXT) in card["text"]
        assert note in card["text"]
        assert t.ngettext("{count} supporter", "{count} supporters", 3, count=3) in card["text"]
        assert_nothing_of_alice(sandbox, db_path, BOB)

        # Carol was told of her own request's merge, then of Alice's moves as a follower.
        mine, into = format_tracking_number(carol.tracking), number
        carol_texts = texts(await sandbox.wait_for_messages(CAROL, 6, timeout=10))
        assert carol_texts[0] == (
            f"Your request {mine} was merged into request {into} about the same problem. You "
            f"now follow {into}: you will be told when it moves, and can look it up with "
            f"/status {into}."
        )
        assert carol_texts[1].startswith(f"Request {into}, which you follow, was accepted")
        assert_nothing_of_alice(sandbox, db_path, CAROL)


async def test_a_rejection_reaches_followers_without_its_reason(
    sandbox: Sandbox, db_path: Database
) -> None:
    async with dup_desk(sandbox, db_path) as d:
        alice = await d.file_case(ALICE, text=PLANTED_TEXT, location=PLACE)
        await publish(alice.tracking, consent=True)
        bob = Citizen(sandbox, db_path, BOB, "en")
        await to_summary(bob, SIMILAR)
        # The offer shows a published request's public text, never its citizen's words.
        [offer] = await bob.press("in:submit")
        number = format_tracking_number(alice.tracking)
        assert offer["text"].split("\n")[2:6] == [
            f"{number} · Heating fees and billing · 1 supporter",
            "Status: submitted · filed less than a day ago",
            f"“{PUBLIC_TEXT}”",
            "",
        ]
        await bob.press("in:j:0")
        await reject_case(alice.tracking, REASON, by=ADMIN, now=datetime.now(UTC))
        await bob.settle()
        assert texts(bob.new()) == [
            f"Request {number}, which you follow, was not accepted. If your problem remains, "
            f"file a request of your own.\n\nNote from the department: {PUBLIC_NOTE}"
        ]
        assert_nothing_of_alice(sandbox, db_path, BOB)
