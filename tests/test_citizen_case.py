"""The citizen's own case under /status, end to end through the sandbox, in English and Chinese:
every event in a sentence of its own (the department's question with its text, a transfer
without its reason), the answer and the outcome with the rating on an answered or closed case,
and no due date once the department has answered. Nothing internal reaches the citizen (notes,
staff ids, the reason of a transfer), and a follower still sees neither question nor answer.
"""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.sandbox import Sandbox
from bot.texts.cases import department_name, when
from bot.texts.citizen_case import event_sentence
from bot.texts.ratings import rating_line
from storage.case_views import EventView
from storage.citizen_timeline import CITIZEN_FACTS
from storage.citizens import touch_citizen
from storage.followers import follow
from storage.lifecycle import (
    accept_case,
    ask_citizen,
    citizen_answered,
    reject_case,
    submit_reply,
    transfer_case,
)
from storage.models import Case
from storage.queue import add_note
from storage.rating import add_comment, rate_satisfaction, rate_solved
from storage.tracking import format_tracking_number
from tests.databases import Database
from tests.following import desk
from tests.intake_desk import CATALOGS, Citizen
from tests.staff_desk import ADMIN

ALICE, BOB = 76_001, 76_002
T0 = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # a Tuesday, 09:00 in Shanghai
QUESTION = "Which floor is the flat on, and since when is the radiator cold?"
CITIZEN_REPLY = "Fourth floor, since Sunday night."
ANSWER = "The heating company replaced the valve on your riser; heating is back."
NOTE = "internal: caller sounded upset, check the riser valve"
TRANSFER_REASON = "misrouted: this is the housing bureau's riser"
REJECTION = "This concerns a private contract; please contact the court."
COMMENT = "Quick and helpful"
ROOT = Path(__file__).resolve().parent.parent


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


async def card(citizen: Citizen, tracking: str) -> str:
    await citizen.settle()
    citizen.new()  # the notices of the moves so far
    [message] = await citizen.say(f"/status {format_tracking_number(tracking)}")
    print(f"--- {citizen.language} ---\n{message['text']}\n")  # read by eye with -s
    return str(message["text"])


@pytest.mark.parametrize("language", ["en", "zh_Hans"])
async def test_every_step_of_a_case_reads_in_words(
    sandbox: Sandbox, db_path: Database, language: str
) -> None:
    async with desk(sandbox, db_path, MINSHENG_ADMIN_IDS=str(ADMIN)) as d:
        zone = d.runtime.services.settings.zone
        await touch_citizen(ALICE, first_name="Li", guessed_language=language)
        alice = Citizen(sandbox, db_path, ALICE, language)
        t = alice.t
        filed = await d.file_case(ALICE, at=at(0))
        tracking = filed.tracking
        await accept_case(tracking, "heating-company", by=ADMIN, now=at(5), zone=zone)
        await add_note(tracking, NOTE, by=ADMIN, now=at(6))
        await transfer_case(tracking, "housing-bureau", TRANSFER_REASON, by=ADMIN, now=at(7))
        await ask_citizen(tracking, QUESTION, by=ADMIN, now=at(10))
        housing = await department_name("housing-bureau", t)
        heating = await department_name("heating-company", t)
        due = (await Case.get(tracking=tracking)).due_at
        assert due is not None

        # Waiting for the citizen: the question itself, in a sentence and above the history.
        waiting = await card(alice, tracking)
        asked = t.gettext(
            "The department asked you for more information: {question}", question=QUESTION
        )
        assert f"{when(at(10), zone, language)} — {asked}" in waiting
        assert f"{t.gettext('The department is waiting for your answer to:')}\n{QUESTION}" in (
            waiting
        )
        assert t.gettext("Due by: {due}", due=when(due, zone, language)) in waiting
        assert (
            t.gettext(
                "Passed on to {department}, which handles it from now on.", department=housing
            )
            in waiting
        )
        assert (
            t.gettext(
                "Accepted by {department}; an answer is due by {due}.",
                department=heating,
                due=when(due, zone, language),
            )
            in waiting
        )
        assert t.gettext("Updated") not in waiting

        # Answered: the answer in full, a call to rate it, and no due date any more.
        await citizen_answered(tracking, ALICE, CITIZEN_REPLY, now=at(20))
        await submit_reply(tracking, ANSWER, by=ADMIN, now=at(30))
        answered = await card(alice, tracking)
        answer_head = t.gettext(
            "The department's answer ({date}):", date=when(at(30), zone, language)
        )
        assert f"{answer_head}\n{ANSWER}" in answered
        assert t.gettext(
            "Outcome: answered; please rate the answer with the buttons under it."
        ) in (answered)
        assert t.gettext("You answered: {text}", text=CITIZEN_REPLY) in answered
        assert t.gettext("Due by: {due}", due="") not in answered

        # Closed by the rating: the outcome and the rating as given, no due date.
        await rate_solved(tracking, ALICE, "solved", now=at(40))
        await rate_satisfaction(tracking, ALICE, "satisfied", now=at(41))
        await add_comment(tracking, ALICE, COMMENT, now=at(42))
        closed = await card(alice, tracking)
        lines = closed.split("\n")
        assert lines[1] == t.gettext("Status: {status}", status=t.gettext("closed"))
        assert t.gettext("Due by: {due}", due="") not in closed
        assert f"{answer_head}\n{ANSWER}" in closed
        outcome = t.gettext("Outcome: {outcome}", outcome=t.gettext("Closed after your rating."))
        assert f"{outcome}\n{rating_line(t, 'solved', 'satisfied', COMMENT)}" in closed
        history = lines[lines.index(t.gettext("What happened so far:")) + 1 :]
        # Then, after a blank line, whether the request may be published (bot.texts.publication).
        publication = t.gettext(
            "Publication: private. You have not agreed to publish this request."
        )
        assert history[-2:] == ["", publication]
        history = history[:-2]
        assert [line.split(" — ", 1)[1] for line in history] == [
            t.gettext("You filed the request."),
            t.gettext(
                "Accepted by {department}; an answer is due by {due}.",
                department=heating,
                due=when(due, zone, language),
            ),
            t.gettext(
                "Passed on to {department}, which handles it from now on.", department=housing
            ),
            asked,
            t.gettext("You answered: {text}", text=CITIZEN_REPLY),
            t.gettext("The department answered: {text}", text=ANSWER),
            t.gettext(
                "You rated the answer: {solved} · {satisfaction}.",
                solved=t.gettext("Solved"),
                satisfaction=t.gettext("Satisfied"),
            ),
            t.gettext("Closed after your rating."),
        ]
        # Nothing internal: the note, who acted, why it was passed on.
        for secret in (NOTE, TRANSFER_REASON, str(ADMIN)):
            assert secret not in closed

        # A follower of the same case reads neither the question nor the answer.
        await follow((await Case.get(tracking=tracking)).id, BOB, at(50))
        bob = Citizen(sandbox, db_path, BOB, language)
        theirs = await card(bob, tracking)
        for private in (QUESTION, CITIZEN_REPLY, ANSWER, COMMENT, NOTE, TRANSFER_REASON):
            assert private not in theirs
        assert t.gettext("Due by: {due}", due="") not in theirs  # closed: no due date either

        # The same, as a person reads it.
        assert LITERAL[language] in closed


LITERAL = {
    "en": (
        "Outcome: Closed after your rating.\nYour rating: Solved · Satisfied · “Quick and helpful”"
    ),
    "zh_Hans": "办理结果：您评价后已办结。\n您的评价：已解决、满意；评语：“办理及时，很有帮助”",
}


@pytest.mark.parametrize("language", ["en", "zh_Hans"])
async def test_a_rejected_case_shows_why_and_no_due_date(
    sandbox: Sandbox, db_path: Database, language: str
) -> None:
    async with desk(sandbox, db_path, MINSHENG_ADMIN_IDS=str(ADMIN)) as d:
        zone = d.runtime.services.settings.zone
        await touch_citizen(ALICE, first_name="Li", guessed_language=language)
        alice = Citizen(sandbox, db_path, ALICE, language)
        t = alice.t
        filed = await d.file_case(ALICE, at=at(0))
        assert filed.due_at is not None
        await reject_case(filed.tracking, REJECTION, by=ADMIN, now=at(5))
        rejected = await card(alice, filed.tracking)
        why = t.gettext("Not accepted. The reason: {reason}", reason=REJECTION)
        assert t.gettext("Outcome: {outcome}", outcome=why) in rejected
        assert f"{when(at(5), zone, language)} — {why}" in rejected
        assert when(filed.due_at, zone, language) not in rejected
        assert t.gettext("Due by: {due}", due="") not in rejected


def public_kinds() -> set[str]:
    """Every event kind that storage writes with public=True, read from its source."""
    kinds: set[str] = set()
    for path in (ROOT / "storage").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            public = {k.arg: k.value for k in node.keywords}.get("public")
            if not (isinstance(public, ast.Constant) and public.value is True):
                continue
            named = [k.value for k in node.keywords if k.arg == "kind"] + node.args[1:2]
            kinds |= {
                n.value for n in named if isinstance(n, ast.Constant) and isinstance(n.value, str)
            }
    return kinds


def test_every_event_the_citizen_sees_has_a_sentence() -> None:
    """A kind made public later must be given the facts the citizen may read (and a sentence:
    bot.texts.citizen_case reads "Updated" for a kind it does not know)."""
    kinds = public_kinds()
    assert {"submitted", "question", "answered", "closed"} <= kinds  # the reading works
    assert kinds <= set(CITIZEN_FACTS)


async def test_every_kind_the_citizen_sees_has_its_own_sentence() -> None:
    t = CATALOGS.get("zh_Hans")
    for kind in CITIZEN_FACTS:
        event = EventView(kind, "staff", {}, T0)
        said = await event_sentence(t, event, ZoneInfo("Asia/Shanghai"))
        assert said != t.gettext("Updated"), kind
