"""The review gate's settings and what staff see, end to end through the sandbox: a department
without review answers the citizen at once (rating buttons and all), a supervisor's own reply
needs no review, the perfunctory marks follow MINSHENG_PERFUNCTORY_*, the new-case card's
Details button, and /case and /queue in words (en, zh_Hans) rather than stored codes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.sandbox import Sandbox
from storage.catalog import load_catalog
from storage.citizens import choose_language
from storage.lifecycle import accept_case, ask_citizen
from storage.models import Actor, Case, Event
from storage.tracking import format_tracking_number
from tests.databases import Database
from tests.following import Desk, buttons, desk
from tests.harness import query
from tests.review_desk import ANSWER, OTHER, review_card, status
from tests.staff_desk import (
    ADMIN,
    CITIZEN,
    DENIED,
    HANDLER,
    SUPERVISOR,
    add_team,
    answer_of,
    press,
    staff_desk,
)

SAMPLE = Path(__file__).resolve().parent.parent / "storage" / "sample_catalog.toml"


async def without_review(tmp_path: Path, department: str = "heating-company") -> None:
    """Reload the sample catalogue with `review_required = false` on one department."""
    header = f'code = "{department}"\n'
    text = SAMPLE.read_text(encoding="utf-8")
    assert text.count(header) == 1
    changed = tmp_path / "catalog.toml"
    changed.write_text(text.replace(header, header + "review_required = false\n"), "utf-8")
    await load_catalog(changed)


async def team_and_case(d: Desk, department: str = "heating-company") -> Any:
    """The team, a gas-company handler, and a case accepted into `department`."""
    await add_team(d)
    added = await d.say(ADMIN, f"/staff add {OTHER} handler gas-company", 2)
    assert added["text"] == f"Done: • {OTHER} — handler — gas-company"
    case = await d.file_case(CITIZEN)
    zone = d.runtime.services.settings.zone
    await accept_case(case.tracking, department, by=SUPERVISOR, now=datetime.now(UTC), zone=zone)
    return case


def answer_times(db_path: Database, tracking: str) -> tuple[Any, Any]:
    return query(
        db_path,
        "SELECT first_answered_at, answered_at FROM service_case WHERE tracking = ?",
        (tracking,),
    )[0]


def rating_buttons(tracking: str) -> list[tuple[str, str]]:
    return [
        ("Solved", f"rt:s:{tracking}:solved"),
        ("Partly", f"rt:s:{tracking}:partly"),
        ("Not solved", f"rt:s:{tracking}:not_solved"),
    ]


async def test_a_department_without_review_answers_at_once(
    sandbox: Sandbox, db_path: Database, tmp_path: Path
) -> None:
    async with staff_desk(sandbox, db_path) as d:
        await without_review(tmp_path)
        case = await team_and_case(d)
        number, tracking = format_tracking_number(case.tracking), case.tracking
        staff_before = len(sandbox.messages(d.staff))
        sent = await d.say(HANDLER, f"/reply {number} {ANSWER}", 1)
        assert sent["text"] == f"Your reply to {number} was sent to the citizen."
        # The citizen: "accepted", then the answer with its rating buttons, as after approval.
        answer = (await sandbox.wait_for_messages(CITIZEN, 2, timeout=10))[-1]
        assert answer["text"] == (
            f"The answer to your request {number}:\n\n{ANSWER}\n\nWas your problem solved?"
        )
        assert buttons(answer) == rating_buttons(tracking)
        assert status(db_path, tracking) == "answered"
        first, answered = answer_times(db_path, tracking)
        assert first is not None
        assert answered == first
        payload = query(db_path, "SELECT payload FROM case_event WHERE kind = 'answered'")
        assert json.loads(payload[0][0])["direct"] is True
        reviewed = "SELECT count(*) FROM case_event WHERE kind = 'reply_submitted'"
        assert query(db_path, reviewed) == [(0,)]
        # Nothing waits for review: no card in the staff chat, nothing to approve.
        assert len(sandbox.messages(d.staff)) == staff_before
        assert (await d.say(SUPERVISOR, f"/approve {number}", 1))["text"] == (
            f"That cannot be done to request {number} in its present state."
        )
        # The rating buttons work as after an approval.
        rated = await d.press_edit(CITIZEN, answer, f"rt:s:{tracking}:not_solved")
        assert rated["edits"]
        # Reopened and answered again: the first answer's time stays, the latest moves on.
        assert (await d.say(SUPERVISOR, f"/reopen {number}", 2))["text"] == (
            f"Request {number} was reopened."
        )
        await d.say(HANDLER, f"/reply {number} {ANSWER} We checked again today.", 2)
        await sandbox.wait_for_messages(CITIZEN, 4, timeout=10)  # "reopened", the answer
        again_first, again = answer_times(db_path, tracking)
        assert again_first == first
        assert again is not None
        assert again != first


async def test_review_stays_for_other_departments_and_not_for_supervisors(
    sandbox: Sandbox, db_path: Database, tmp_path: Path
) -> None:
    async with staff_desk(sandbox, db_path) as d:
        await without_review(tmp_path)  # the heating company only
        case = await team_and_case(d, "gas-company")
        number, tracking = format_tracking_number(case.tracking), case.tracking
        # The gas company's handler is reviewed as before; approval stamps the first answer.
        sent = await d.say(OTHER, f"/reply {number} {ANSWER}", 1)
        assert sent["text"] == f"Your reply to {number} was sent for review."
        await review_card(d, 2)  # the team's "Done" line, then the card
        assert status(db_path, tracking) == "in_progress"
        assert answer_times(db_path, tracking) == (None, None)
        await d.say(SUPERVISOR, f"/approve {number}", 1)
        first, answered = answer_times(db_path, tracking)
        assert first is not None
        assert answered == first
        # A supervisor's own reply needs no review, even where review is on.
        other = await d.file_case(CITIZEN)
        zone = d.runtime.services.settings.zone
        await accept_case(
            other.tracking, "gas-company", by=SUPERVISOR, now=datetime.now(UTC), zone=zone
        )
        own = format_tracking_number(other.tracking)
        replied = await d.say(SUPERVISOR, f"/reply {own} {ANSWER}", 2)
        assert replied["text"] == f"Your reply to {own} was sent to the citizen."
        assert status(db_path, other.tracking) == "answered"
        assert len(sandbox.messages(d.staff)) == 2  # no second review card


async def test_perfunctory_marks_follow_the_settings(sandbox: Sandbox, db_path: Database) -> None:
    phrases = json.dumps(["not our job", "不归我们管"], ensure_ascii=False)
    async with desk(
        sandbox,
        db_path,
        MINSHENG_ADMIN_IDS=str(ADMIN),
        MINSHENG_PERFUNCTORY_MIN_CHARS="50",
        MINSHENG_PERFUNCTORY_PHRASES=phrases,
    ) as d:
        case = await team_and_case(d)
        number = format_tracking_number(case.tracking)
        await d.say(HANDLER, f"/reply {number} Not our job, sorry.", 1)
        card = await review_card(d, 2)
        assert card["text"].endswith(
            "\n\n⚠ Looks perfunctory: shorter than 50 characters, “not our job”"
        )
        await d.say(SUPERVISOR, f"/return {number} Say who does it", 1)
        # The shipped phrases were replaced: this one no longer marks a long enough reply.
        long_enough = "Please ask another department; we forwarded your letter to them today."
        await d.say(HANDLER, f"/reply {number} {long_enough}", 2)
        plain = await review_card(d, 3)
        assert "⚠" not in plain["text"]
        await d.say(SUPERVISOR, f"/return {number} Say which one", 2)
        chinese = (
            "这件事不归我们管，请您直接联系小区物业公司处理，物业的电话已经在上一条消息里"
            "发给您了，谢谢您的理解和支持。"
        )
        await d.say(HANDLER, f"/reply {number} {chinese}", 3)
        marked = await review_card(d, 4)
        assert marked["text"].endswith("\n\n⚠ Looks perfunctory: “不归我们管”")
        flags = query(db_path, "SELECT payload FROM case_event WHERE kind = 'reply_submitted'")
        assert [json.loads(row[0])["signs"] for row in flags] == [
            ["short", "not our job"],
            [],
            ["不归我们管"],
        ]


async def test_details_button(sandbox: Sandbox, db_path: Database) -> None:
    async with staff_desk(sandbox, db_path) as d:
        await add_team(d)
        await d.say(ADMIN, f"/staff add {OTHER} handler gas-company", 2)
        case = await d.file_case(CITIZEN, notify_staff=True, photos=("photo-1", "photo-2"))
        tracking, number = case.tracking, format_tracking_number(case.tracking)
        await sandbox.wait_for_messages(d.staff, 4, timeout=10)  # "Done", card, two photos
        card = next(
            m for m in sandbox.messages(d.staff) if (m["text"] or "").startswith("New request")
        )
        assert buttons(card)[-1] == ("Details", f"st:det:{tracking}")
        assert all(len(data.encode()) <= 64 for _, data in buttons(card))
        secret = "The caller is the landlord's cousin"
        assert (await d.say(HANDLER, f"/note {number} {secret}", 1))["text"] == (
            f"Your note was added to {number}."
        )
        before = len(sandbox.messages(d.staff))
        # A handler of another department and a citizen forging the data: one line, audited.
        assert await press(d, OTHER, card, f"st:det:{tracking}") == DENIED
        forged = sandbox.press_button(CITIZEN, CITIZEN, 1, f"st:det:{tracking}", force=True)
        assert await answer_of(sandbox, forged) == DENIED
        assert query(db_path, "SELECT user_id, action, reason FROM access_denial") == [
            (OTHER, "view", "department"),
            (CITIZEN, "view", "not_staff"),
        ]
        # Data that does not fit: expired.
        for data in ("st:det:", f"st:det:{tracking}x", f"st:det:{tracking.lower()}"):
            assert await press(d, HANDLER, card, data) == "This button has expired."
        assert len(sandbox.messages(d.staff)) == before
        assert all(secret not in (m["text"] or "") for m in sandbox.messages(CITIZEN))
        # The department's handler: the details in the chat, notes and photos included.
        assert await press(d, HANDLER, card, f"st:det:{tracking}") == ""
        shown = await sandbox.wait_for_messages(d.staff, before + 3, timeout=10)
        details, *photos = shown[before:]
        lines = details["text"].split("\n")
        assert lines[0] == f"New request {number}"
        assert "Status: submitted" in lines
        # Filed anonymously (no phone): never shown by Telegram id.
        assert "anonymous citizen filed the request" in details["text"]
        assert str(CITIZEN) not in details["text"]
        assert f"staff member {HANDLER} added an internal note: {secret}" in details["text"]
        assert [p.get("photo") for p in photos] == ["photo-1", "photo-2"]
        assert photos[0].get("caption") == f"Photos of request {number}"
        # The card is left as it was: Details changes nothing.
        assert not card["edits"]
        assert status(db_path, tracking) == "submitted"


async def test_case_timeline_in_words(sandbox: Sandbox, db_path: Database) -> None:
    async with staff_desk(sandbox, db_path) as d:
        case = await team_and_case(d)
        number, tracking = format_tracking_number(case.tracking), case.tracking
        now = datetime.now(UTC)
        await ask_citizen(tracking, "Which flat?", by=HANDLER, now=now)
        await d.say(HANDLER, f"/reply {number} Done.", 1)  # refused: a question is open
        await d.say(HANDLER, f"/note {number} Phone first", 2)
        case_id = (await Case.get(tracking=tracking)).id
        await Event.create(
            case_id=case_id,
            kind="escalated",
            actor=Actor.SYSTEM,
            payload={},
            public=False,
            created_at=now,
        )
        await Event.create(
            case_id=case_id,
            kind="mystery_kind",
            actor=Actor.SYSTEM,
            payload={"detail": 7},
            public=False,
            created_at=now,
        )
        shown = (await d.say(SUPERVISOR, f"/case {number}", 1))["text"]
        timeline = shown.split("Timeline:\n", 1)[1].split("\n")
        assert "Status: waiting for the citizen" in shown
        expected = [
            "anonymous citizen filed the request",
            f"staff member {SUPERVISOR} accepted the request into City Heating Company, due by ",
            f"staff member {HANDLER} asked the citizen: Which flat?",
            f"staff member {HANDLER} added an internal note: Phone first",
            "Escalated to the supervisors: the time limit has passed",
            "the system: mystery_kind — detail: 7",  # a kind not named yet reads as its code
        ]
        assert len(timeline) == len(expected)
        for line, want in zip(timeline, expected, strict=True):
            assert line.startswith("• ")
            assert want in line.split(" — ", 1)[1], (line, want)
        for code in ("submitted", "accepted", "question", "note"):  # as codes were once shown
            assert f"— {code} (" not in shown, code
        assert "(staff " not in shown
        assert "(citizen " not in shown

        await choose_language(SUPERVISOR, "zh_Hans")
        chinese = (await d.say(SUPERVISOR, f"/case {number}", 2))["text"]
        assert "状态：待市民补充材料" in chinese
        assert "匿名市民提交了诉求" in chinese
        assert f"工作人员 {SUPERVISOR}受理了诉求，转交市热力集团，办理时限 " in chinese
        assert f"工作人员 {HANDLER}请市民补充：Which flat?" in chinese
        assert f"工作人员 {HANDLER}添加了内部备注：Phone first" in chinese
        assert "已超过办理时限，转督办" in chinese
        assert "系统：mystery_kind — detail: 7" in chinese


async def test_queue_statuses_in_words(sandbox: Sandbox, db_path: Database) -> None:
    async with staff_desk(sandbox, db_path) as d:
        case = await team_and_case(d)
        number = format_tracking_number(case.tracking)
        fresh = format_tracking_number((await d.file_case(CITIZEN)).tracking)
        await d.say(HANDLER, f"/ask {number} Which flat?", 1)
        mine = (await d.say(SUPERVISOR, "/queue open", 1))["text"].split("\n")
        fees = "Heating fees and billing"
        assert mine[1].startswith(f"{number} · waiting for the citizen · {fees} · ")
        assert mine[2].startswith(f"{fresh} · submitted · {fees} · ")
        await choose_language(SUPERVISOR, "zh_Hans")
        chinese = (await d.say(SUPERVISOR, "/queue open", 2))["text"].split("\n")
        assert chinese[1].startswith(f"{number} · 待市民补充材料 · 供暖费缴纳与计费 · ")
        assert chinese[2].startswith(f"{fresh} · 已提交 · 供暖费缴纳与计费 · ")
        assert "awaiting_citizen" not in "\n".join(chinese)
