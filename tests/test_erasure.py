"""/forget in storage: the citizen's words leave their cases, the inbox and the outbox in one
transaction (or the case texts stay, where the law says so), and only a confirmation that
carries the open question's one-time value erases anything."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from tortoise.transactions import in_transaction

from storage.case_views import CaseNotFound
from storage.cases import add_information, case_by_tracking, case_of_citizen, submit_case
from storage.catalog import SAMPLE_CATALOG, load_catalog
from storage.erasure import ERASED
from storage.models import (
    Actor,
    Case,
    Citizen,
    Event,
    InboxStatus,
    InboxUpdate,
    OutboxMessage,
    OutboxStatus,
    Rating,
    RatingSatisfaction,
    RatingSolved,
)
from storage.outbox import collected_outbox, enqueue
from storage.privacy import (
    ForgetNotConfirmed,
    ask_to_forget,
    cancel_forget,
    confirm_forget,
    forget_citizen,
    open_forget_question,
)
from storage.tracking import format_tracking_number
from tests.case_fixtures import ALICE, BOB, FRIDAY_EVENING, SHANGHAI, STAFF_CHAT, new_case

LATER = FRIDAY_EVENING + timedelta(days=3)
STREET = "Heping Road 3, flat 12"
ADDED = "Qiaolin gate code 4471"
ANSWERED = "Flat 1702, ask for Alicia Zhelobova"
COMMENT = "Alicia says the engineer was rude"


@pytest.fixture
async def db(db: None) -> None:
    await load_catalog(SAMPLE_CATALOG)
    for user_id, name in ((ALICE, "Alicia"), (BOB, "Bob")):
        await Citizen.create(id=user_id, language="en", first_name=name, phone="+8613955550199")


async def file(citizen_id: int) -> str:
    case = await submit_case(
        new_case(citizen_id),
        now=FRIDAY_EVENING,
        zone=SHANGHAI,
        daily_limit=5,
        staff_chat_id=STAFF_CHAT,
    )
    return case.tracking


async def said_everything(tracking: str) -> None:
    """An addition, an answer to a staff question, and a rated answer with a comment."""
    await add_information(
        tracking, ALICE, text=ADDED, photos=("p-9",), now=FRIDAY_EVENING, staff_chat_id=STAFF_CHAT
    )
    case_id = (await Case.get(tracking=tracking)).id
    await Event.create(
        case_id=case_id,
        kind="citizen_answered",
        actor=Actor.CITIZEN,
        actor_id=ALICE,
        payload={"text": ANSWERED},
        public=True,
        created_at=FRIDAY_EVENING,
    )
    await Event.create(
        case_id=case_id,
        kind="rating_comment",
        actor=Actor.CITIZEN,
        actor_id=ALICE,
        payload={"comment": COMMENT},
        created_at=FRIDAY_EVENING,
    )
    await Rating.create(
        case_id=case_id,
        solved=RatingSolved.PARTLY,
        rated_at=FRIDAY_EVENING,
        satisfaction=RatingSatisfaction.BASIC,
        comment=COMMENT,
        citizen_id=ALICE,
    )


update_ids = iter(range(500, 10_000))


async def inbox(chat: int, payload: dict[str, Any], status: InboxStatus, **more: Any) -> int:
    row = await InboxUpdate.create(
        update_id=more.pop("update_id", next(update_ids)),
        chat_key=chat,
        payload=payload,
        status=status,
        received_at=FRIDAY_EVENING,
        **more,
    )
    return row.id


async def outbox(
    chat: int | None, method: str, payload: dict[str, Any], status: OutboxStatus, **more: Any
) -> int:
    row = await OutboxMessage.create(
        chat_id=chat,
        method=method,
        payload=payload,
        status=status,
        next_attempt_at=FRIDAY_EVENING,
        created_at=FRIDAY_EVENING,
        **more,
    )
    return row.id


async def payload_of(model: type[InboxUpdate] | type[OutboxMessage], row_id: int) -> Any:
    return (await model.get(id=row_id)).payload


async def test_forget_erases_the_citizen_from_the_inbox_and_the_outbox(db: None) -> None:
    mine, bobs = await file(ALICE), await file(BOB)
    card = f"New request {format_tracking_number(mine)}\nWhere: {STREET}\n\nCold radiators"
    me = {"id": ALICE, "first_name": "Alicia"}
    contact = {"message": {"from": me, "contact": {"phone_number": "+8613955550199"}}}
    handled = await inbox(ALICE, contact, InboxStatus.DONE, update_id=300)
    failed = await inbox(ALICE, {"message": {"from": me}}, InboxStatus.FAILED, error="Alicia")
    current = await inbox(
        ALICE, {"callback_query": {"from": me}}, InboxStatus.PENDING, update_id=301
    )
    later = await inbox(ALICE, {"message": {"from": me, "text": "hi"}}, InboxStatus.PENDING)
    pressed = {"callback_query": {"data": f"st:acc:{mine}", "message": {"text": card}}}
    staff_press = await inbox(STAFF_CHAT, pressed, InboxStatus.DONE)
    typed = {"message": {"text": f"/case {mine.lower()}"}}  # as a person types it
    staff_typed = await inbox(STAFF_CHAT, typed, InboxStatus.DONE)
    staff_waiting = await inbox(STAFF_CHAT, pressed, InboxStatus.PENDING)
    bob_row = await inbox(BOB, {"message": {"text": f"/status {bobs}"}}, InboxStatus.DONE)

    summary = await outbox(
        ALICE, "sendMessage", {"text": STREET}, OutboxStatus.SENT, message_id=55
    )
    unsent = await outbox(
        ALICE,
        "notice",
        {"kind": "case_answered", "params": {"tracking": mine, "text": "We fixed it"}},
        OutboxStatus.PENDING,
    )
    edited = await outbox(STAFF_CHAT, "editMessageText", {"text": card}, OutboxStatus.SENT)
    spaced = " ".join(mine[i : i + 4] for i in range(0, 12, 4))
    listed = await outbox(
        STAFF_CHAT, "sendMessage", {"text": f"{spaced}: {STREET}"}, OutboxStatus.SENT
    )
    toast = await outbox(
        None, "answerCallbackQuery", {"text": "Alicia"}, OutboxStatus.SENT, update_id=300
    )
    digest_facts = {"kind": "weekly_digest", "params": {"trackings": [mine, bobs]}}
    digest = await outbox(STAFF_CHAT, "notice", digest_facts, OutboxStatus.PENDING)
    bob_sent = await outbox(
        BOB, "sendMessage", {"text": f"Your request {bobs}"}, OutboxStatus.SENT
    )
    notices = await OutboxMessage.filter(chat_id=STAFF_CHAT, method="notice").order_by("id")
    about_mine = [n.id for n in notices if n.payload["params"].get("tracking") == mine]
    assert len(about_mine) == 2  # the new-case card and its photos, not sent yet

    await forget_citizen(ALICE, now=LATER, update_id=301)

    for row in (handled, failed, current, staff_press, staff_typed):
        assert await payload_of(InboxUpdate, row) == ERASED, row
    assert (await InboxUpdate.get(id=failed)).error is None
    # Not handled yet: each must still be handled once (retention purges them later).
    assert (await payload_of(InboxUpdate, later))["message"]["text"] == "hi"
    assert await payload_of(InboxUpdate, staff_waiting) == pressed
    assert await payload_of(InboxUpdate, bob_row) == {"message": {"text": f"/status {bobs}"}}

    for row in (summary, edited, listed, toast, unsent):
        assert await payload_of(OutboxMessage, row) == ERASED, row
    sent = await OutboxMessage.get(id=summary)
    assert (sent.status, sent.chat_id, sent.message_id) == (OutboxStatus.SENT, ALICE, 55)
    for row in (unsent, *about_mine):  # waiting to be sent: dropped
        dropped = await OutboxMessage.get(id=row)
        assert (dropped.status, dropped.payload) == (OutboxStatus.FAILED, ERASED)
    # A digest merely naming the case still goes out; Bob's messages are his.
    assert (await OutboxMessage.get(id=digest)).payload == digest_facts
    assert (await OutboxMessage.get(id=digest)).status is OutboxStatus.PENDING
    assert await payload_of(OutboxMessage, bob_sent) == {"text": f"Your request {bobs}"}


async def test_forget_erases_what_the_citizen_said_and_keeps_the_figures(db: None) -> None:
    mine, bobs = await file(ALICE), await file(BOB)
    await said_everything(mine)
    before = await case_by_tracking(mine)

    await forget_citizen(ALICE, now=LATER)

    after = await case_by_tracking(mine)
    assert (after.text, after.answers, after.photos, after.location) == ("", {}, (), None)
    assert (after.phone, after.citizen_id, after.erased_at) == (None, None, LATER)
    assert (after.kind, after.category_code, after.created_at, after.due_at) == (
        before.kind,
        before.category_code,
        before.created_at,
        before.due_at,
    )
    words = await Event.filter(
        case__tracking=mine, kind__in=("citizen_added", "citizen_answered", "rating_comment")
    )
    assert [e.payload for e in words] == [ERASED] * 3
    rating = await Rating.get(case__tracking=mine)
    assert (rating.solved, rating.satisfaction, rating.comment, rating.citizen_id) == (
        RatingSolved.PARTLY,
        RatingSatisfaction.BASIC,
        None,
        None,
    )
    assert (await case_by_tracking(bobs)).text == before.text  # Bob's words are his


async def test_keeping_case_records_keeps_the_words_but_not_the_person(db: None) -> None:
    mine = await file(ALICE)
    await said_everything(mine)
    await inbox(ALICE, {"message": {"text": STREET}}, InboxStatus.DONE)
    await outbox(ALICE, "sendMessage", {"text": STREET}, OutboxStatus.SENT)
    before = await case_by_tracking(mine)

    await forget_citizen(ALICE, now=LATER, keep_case_texts=True)

    after = await case_by_tracking(mine)
    assert (after.text, after.answers, after.photos, after.location) == (
        before.text,
        before.answers,
        before.photos,
        before.location,
    )
    assert (after.phone, after.citizen_id, after.erased_at) == (None, None, None)
    added = await Event.get(case__tracking=mine, kind="citizen_added")
    assert added.payload == {"text": ADDED, "photos": ["p-9"]}
    answered = await Event.get(case__tracking=mine, kind="citizen_answered")
    assert answered.payload == {"text": ANSWERED}
    # Contact data, the rating comment and the raw messages go all the same.
    assert (await Event.get(case__tracking=mine, kind="rating_comment")).payload == ERASED
    assert (await Rating.get(case__tracking=mine)).comment is None
    assert await InboxUpdate.filter(chat_key=ALICE).values_list("payload", flat=True) == [ERASED]
    assert await OutboxMessage.filter(chat_id=ALICE).values_list("payload", flat=True) == [ERASED]
    citizen = await Citizen.get(id=ALICE)
    assert (citizen.first_name, citizen.phone) == ("", None)


async def test_only_the_open_questions_value_confirms(db: None) -> None:
    mine = await file(ALICE)
    first = await ask_to_forget(ALICE)
    second = await ask_to_forget(ALICE)  # /forget again: the first question's buttons expire
    assert first != second
    assert len(f"forget:yes:{second}".encode()) <= 64
    assert await open_forget_question(ALICE) == second
    for wrong in (first, "", "0" * 32, second.upper()):
        with pytest.raises(ForgetNotConfirmed):
            await confirm_forget(ALICE, wrong, now=LATER, keep_case_texts=False)
    assert (await case_of_citizen(mine, ALICE)).text  # nothing erased
    await cancel_forget(ALICE, first)  # a stale "no" leaves the open question alone
    assert await open_forget_question(ALICE) == second

    report = await confirm_forget(ALICE, second, now=LATER, keep_case_texts=False)
    assert report.cases_anonymized == 1
    with pytest.raises(CaseNotFound):
        await case_of_citizen(mine, ALICE)
    assert await open_forget_question(ALICE) is None
    events = await Event.all().count()
    with pytest.raises(ForgetNotConfirmed):  # replayed
        await confirm_forget(ALICE, second, now=LATER, keep_case_texts=False)
    assert await Event.all().count() == events

    third = await ask_to_forget(BOB)
    await cancel_forget(BOB, third)
    assert await open_forget_question(BOB) is None
    with pytest.raises(ForgetNotConfirmed):
        await confirm_forget(BOB, third, now=LATER, keep_case_texts=False)


async def test_forget_reaches_what_its_own_transaction_handled_before_it(db: None) -> None:
    """The dispatcher handles a chat's updates in order, several in one transaction: a /status
    just before the confirmation is pending still, and its answer not written yet."""
    mine, bobs = await file(ALICE), await file(BOB)
    dashed = format_tracking_number(mine)
    sibling = await inbox(ALICE, {"message": {"text": f"/status {dashed}"}}, InboxStatus.PENDING)
    await inbox(
        ALICE, {"callback_query": {"data": "forget:yes"}}, InboxStatus.PENDING, update_id=302
    )
    later = await inbox(ALICE, {"message": {"text": "hello again"}}, InboxStatus.PENDING)
    async with in_transaction(), collected_outbox():
        await enqueue(ALICE, "sendMessage", {"text": f"You wrote: {STREET}"}, now=LATER)
        await enqueue(STAFF_CHAT, "sendMessage", {"text": f"{dashed}: {STREET}"}, now=LATER)
        await enqueue(STAFF_CHAT, "sendMessage", {"text": f"Bob's {bobs}"}, now=LATER)
        await forget_citizen(ALICE, now=LATER, update_id=302)
        await enqueue(ALICE, "sendMessage", {"text": "Done: erased."}, now=LATER)
    assert await payload_of(InboxUpdate, sibling) == ERASED
    assert (await payload_of(InboxUpdate, later))["message"]["text"] == "hello again"
    rows = await OutboxMessage.filter(update_id__isnull=True, method="sendMessage").order_by("id")
    assert [(r.chat_id, r.status, r.payload) for r in rows] == [
        (ALICE, OutboxStatus.FAILED, ERASED),
        (STAFF_CHAT, OutboxStatus.FAILED, ERASED),
        (STAFF_CHAT, OutboxStatus.PENDING, {"text": f"Bob's {bobs}"}),
        (ALICE, OutboxStatus.PENDING, {"text": "Done: erased."}),
    ]
