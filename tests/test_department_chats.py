"""A chat per department instead of topics, end to end: the catalogue names a department's own
chat (`chat_id`), its cards go there and only there, its buttons and staff commands work
there; and what the 20-a-minute group limit makes of 60 cards for three departments, in topics
of one forum (one budget) or in three chats (a budget each), printed."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.sandbox import FaultConfig, Sandbox
from bot.sandbox.forum import Forum
from bot.staff_topics import refresh_department_chats
from storage.catalog import SAMPLE_CATALOG, load_catalog
from storage.catalog_checks import CatalogInvalid
from storage.catalog_file import read_catalog_file
from storage.models import Case, Department
from storage.tracking import format_tracking_number
from tests.databases import Database
from tests.following import Desk, desk
from tests.harness import eventually
from tests.staff_desk import ADMIN, CITIZEN, HANDLER, SUPERVISOR, add_team, answer_of
from tests.staff_topics_desk import CATEGORY, GAS, HEAT, WATER, forum, show, topics_opened

HEAT_CHAT = -1003000000003
CHATS = {HEAT: HEAT_CHAT, WATER: -1003000000004, GAS: -1003000000005}
CARDS_EACH = 20


def catalogue_with(tmp_path: Path, **places: str) -> Path:
    """The sample catalogue, with `key = value` lines added to some departments."""
    text = SAMPLE_CATALOG.read_text(encoding="utf-8")
    for code, line in places.items():
        text = text.replace(f'code = "{code}"\n', f'code = "{code}"\n{line}\n', 1)
    path = tmp_path / "catalog.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_catalogue_names_a_topic_or_a_chat_not_both(tmp_path: Path) -> None:
    spec = read_catalog_file(
        catalogue_with(tmp_path, **{HEAT: f"chat_id = {HEAT_CHAT}", WATER: "topic_id = 12"})
    )
    places = {d.code: (d.topic_id, d.chat_id) for d in spec.departments}
    assert places[HEAT] == (None, HEAT_CHAT)
    assert places[WATER] == (12, None)
    assert places[GAS] == (None, None)
    both = catalogue_with(tmp_path, **{HEAT: f"chat_id = {HEAT_CHAT}\ntopic_id = 3"})
    with pytest.raises(CatalogInvalid, match="name one place for its cards, not both"):
        read_catalog_file(both)
    wrong = catalogue_with(tmp_path, **{HEAT: "chat_id = 5", WATER: 'topic_id = "x"'})
    with pytest.raises(CatalogInvalid) as problems:
        read_catalog_file(wrong)
    assert "chat_id must be a group's id (negative), got 5" in str(problems.value)
    assert "topic_id must be a positive message_thread_id, got 'x'" in str(problems.value)


async def test_a_department_chat_gets_its_cards_and_its_commands_work_there(
    sandbox: Sandbox, db_path: Database, tmp_path: Path
) -> None:
    async with desk(sandbox, db_path, MINSHENG_ADMIN_IDS=str(ADMIN)) as d:
        await load_catalog(catalogue_with(tmp_path, **{HEAT: f"chat_id = {HEAT_CHAT}"}))
        await refresh_department_chats(d.runtime.app.bot_data)  # each process does it, 5 s
        await add_team(d)
        heat = await d.file_case(CITIZEN, category=CATEGORY[HEAT], notify_staff=True)
        water = await d.file_case(CITIZEN + 1, category=CATEGORY[WATER], notify_staff=True)
        [card] = await sandbox.wait_for_messages(HEAT_CHAT, 1, timeout=10)
        number = format_tracking_number(heat.tracking)
        assert card["text"].startswith(f"New request {number}")
        # The staff group has the other department's card, and nothing of this one.
        await eventually(
            lambda: any(
                format_tracking_number(water.tracking) in (m["text"] or "")
                for m in sandbox.messages(d.staff)
            ),
            10,
            what="the water card in the staff group",
        )
        assert not any(number in (m["text"] or "") for m in sandbox.messages(d.staff))
        other = format_tracking_number(water.tracking)
        assert not any(other in (m["text"] or "") for m in sandbox.messages(HEAT_CHAT))

        # Staff commands work there: a handler asks for the queue, and is answered there.
        sandbox.send_text(HANDLER, "/queue", chat_id=HEAT_CHAT)
        answered = await sandbox.wait_for_messages(HEAT_CHAT, 2, timeout=10)
        assert answered[-1]["text"].startswith("To work on now (your department")
        # And the card's buttons: Accept.
        pressed = sandbox.press_button(SUPERVISOR, HEAT_CHAT, card["message_id"], card_accept(d))
        assert await answer_of(sandbox, pressed) == ""
        await eventually(lambda: sandbox.messages(HEAT_CHAT)[0]["edits"], 10, what="an edit")
        show(sandbox, HEAT_CHAT)
        show(sandbox, d.staff)


WATER_WORDS = "The tap water in our building has been brown since Monday."
REACHES_FURTHER = (
    "This chat belongs to one department, and what you asked for reaches further, so it is not "
    "shown here. Ask in a private chat with the bot or in the staff group."
)
KEPT_OUT = (
    "Request {number} is not a case of this chat's department, so it is not shown here. Ask "
    "for it in a private chat with the bot or in the staff group."
)


async def test_a_department_chat_is_shown_no_other_departments_case(
    sandbox: Sandbox, db_path: Database, tmp_path: Path
) -> None:
    """/case, Details and /queue in the heating company's own chat: its own case is shown, the
    water company's is not (not even to an unrestricted supervisor), and nothing of it reaches
    the chat; the supervisor's queue reaches further, so it is not listed there."""
    async with desk(sandbox, db_path, MINSHENG_ADMIN_IDS=str(ADMIN)) as d:
        await load_catalog(catalogue_with(tmp_path, **{HEAT: f"chat_id = {HEAT_CHAT}"}))
        await refresh_department_chats(d.runtime.app.bot_data)
        await add_team(d)
        heat = await d.file_case(CITIZEN, category=CATEGORY[HEAT], notify_staff=True)
        water = await d.file_case(
            CITIZEN + 1, text=WATER_WORDS, category=CATEGORY[WATER], notify_staff=True
        )
        [card] = await sandbox.wait_for_messages(HEAT_CHAT, 1, timeout=10)
        theirs = format_tracking_number(water.tracking)

        sandbox.send_text(SUPERVISOR, f"/case {theirs}", chat_id=HEAT_CHAT)
        [refused] = (await sandbox.wait_for_messages(HEAT_CHAT, 2, timeout=10))[1:]
        assert refused["text"] == KEPT_OUT.format(number=theirs)
        # In private the same supervisor is shown it.
        shown_privately = await d.say(SUPERVISOR, f"/case {theirs}", 1)
        assert WATER_WORDS in shown_privately["text"]

        # Its own case is shown in full there.
        ours = format_tracking_number(heat.tracking)
        sandbox.send_text(SUPERVISOR, f"/case {ours}", chat_id=HEAT_CHAT)
        shown = (await sandbox.wait_for_messages(HEAT_CHAT, 3, timeout=10))[-1]
        assert shown["text"].startswith(f"New request {ours}")
        assert "Timeline:" in shown["text"]

        # The heating case is transferred to the water company: Details pressed on its old
        # card in the heating chat shows nothing.
        water_id = (await Department.get(code=WATER)).id
        await Case.filter(tracking=heat.tracking).update(department_id=water_id)
        details = f"st:det:{heat.tracking}"
        pressed = sandbox.press_button(SUPERVISOR, HEAT_CHAT, card["message_id"], details)
        assert await answer_of(sandbox, pressed) == KEPT_OUT.format(number=ours)

        # The supervisor's queue reaches every department: not listed in the heating chat.
        sandbox.send_text(SUPERVISOR, "/queue open", chat_id=HEAT_CHAT)
        answer = (await sandbox.wait_for_messages(HEAT_CHAT, 4, timeout=10))[-1]
        assert answer["text"].startswith("This chat belongs to one department")
        # The handler's queue holds the heating company's cases alone: listed.
        sandbox.send_text(HANDLER, "/queue", chat_id=HEAT_CHAT)
        answer = (await sandbox.wait_for_messages(HEAT_CHAT, 5, timeout=10))[-1]
        assert answer["text"].startswith("To work on now (your department")
        # The desk's figures, its digest, its file and the disputes in the supervisor's reach
        # reach further too; the heating company's own figures may be shown.
        for n, command in enumerate(("/stats month", "/digest", "/export month", "/disputes")):
            sandbox.send_text(SUPERVISOR, command, chat_id=HEAT_CHAT)
            answer = (await sandbox.wait_for_messages(HEAT_CHAT, 6 + n, timeout=10))[-1]
            assert answer["text"] == REACHES_FURTHER, command
        sandbox.send_text(SUPERVISOR, f"/stats month {HEAT}", chat_id=HEAT_CHAT)
        answer = (await sandbox.wait_for_messages(HEAT_CHAT, 10, timeout=10))[-1]
        assert answer["text"] != REACHES_FURTHER
        texts = [m["text"] or m["caption"] or "" for m in sandbox.messages(HEAT_CHAT)]
        assert not any(WATER_WORDS in text for text in texts)
        assert not any(theirs in text for text in texts if not text.startswith("Request"))
        show(sandbox, HEAT_CHAT)


async def test_a_department_chat_the_bot_was_removed_from_sends_to_the_staff_group(
    sandbox: Sandbox, db_path: Database, tmp_path: Path
) -> None:
    async with desk(sandbox, db_path, MINSHENG_ADMIN_IDS=str(ADMIN)) as d:
        await load_catalog(catalogue_with(tmp_path, **{HEAT: f"chat_id = {HEAT_CHAT}"}))
        await refresh_department_chats(d.runtime.app.bot_data)
        sandbox.faults = FaultConfig(blocked_users={HEAT_CHAT})  # Telegram answers Forbidden
        cases = [
            await d.file_case(CITIZEN + n, category=CATEGORY[HEAT], notify_staff=True)
            for n in range(2)
        ]
        await eventually(lambda: len(sandbox.messages(d.staff)) >= 3, 15, what="the cards")
        texts = [m["text"].split("\n")[0] for m in sandbox.messages(d.staff)]
        for case in cases:
            number = format_tracking_number(case.tracking)
            assert sum(text.startswith(f"New request {number}") for text in texts) == 1
        told = [text for text in texts if text.startswith("The bot can no longer write")]
        assert told == [
            "The bot can no longer write to the chat of City Heating Company (it was removed "
            "from it, or the chat is gone), so that department's cards come here instead. Add "
            "the bot to the chat again, or name another chat in the catalogue."
        ]
        assert sandbox.messages(HEAT_CHAT) == []
        show(sandbox, d.staff)


def card_accept(d: Desk) -> str:
    card = d.sandbox.messages(HEAT_CHAT)[0]
    return str(card["reply_markup"]["inline_keyboard"][0][0]["callback_data"])


async def drain(d: Desk, sandbox: Sandbox) -> tuple[float, float, list[int]]:
    """File CARDS_EACH cases for each of three departments. In Telegram seconds (the sandbox's
    clock times its time scale): from the first card to the last, and from the last case filed
    to the last card; and the chat each card went to."""
    start = len(sandbox.world.events)
    for n in range(CARDS_EACH):
        for k, code in enumerate(CATEGORY):
            await d.file_case(CITIZEN + 3 * n + k, category=CATEGORY[code], notify_staff=True)
    filed = sandbox.world.now()

    def cards() -> list[dict[str, object]]:
        events = list(sandbox.world.events)[start:]
        return [e["message"] for e in events if e["kind"] == "message"]

    await eventually(lambda: len(cards()) >= 3 * CARDS_EACH, 60, what="every card")
    sent = cards()
    at = [float(str(m["at"])) for m in sent]
    scale = sandbox.config.time_scale
    chats = [int(str(m["chat_id"])) for m in sent]
    return (max(at) - min(at)) * scale, max(0.0, max(at) - filed) * scale, chats


async def test_sixty_cards_in_topics_share_the_group_limit_in_chats_they_do_not(
    sandbox: Sandbox, db_path: Database
) -> None:
    staff = forum(sandbox)
    async with desk(sandbox, db_path, MINSHENG_STAFF_TOPICS="1") as d:
        await topics_opened(db_path)
        in_topics, topics_after, chats = await drain(d, sandbox)
        assert set(chats) == {staff}
        for code, chat in CHATS.items():
            await Department.filter(code=code).update(chat_id=chat, topic_id=None)
        in_chats, chats_after, chats = await drain(d, sandbox)
        assert sorted(chats.count(chat) for chat in CHATS.values()) == [CARDS_EACH] * 3
    # Within the limits throughout: topics did not multiply the group's budget.
    assert sandbox.violations == []
    print(
        f"\n  {3 * CARDS_EACH} cards for 3 departments, in Telegram time (first card to last; "
        f"last case filed to last card):\n"
        f"    three topics of one forum (20 a minute for the whole group): "
        f"{in_topics:.0f} s; {topics_after:.0f} s\n"
        f"    three chats of their own (20 a minute each): {in_chats:.0f} s; {chats_after:.0f} s"
    )


async def test_a_topic_named_in_the_catalogue_is_used(
    sandbox: Sandbox, db_path: Database, tmp_path: Path
) -> None:
    staff = forum(sandbox)
    made_by_hand = Forum(sandbox.world).open_topic(staff, "Heating (by hand)", 0x6FB9F0, 0.0)
    thread = made_by_hand["message_thread_id"]
    async with desk(sandbox, db_path, MINSHENG_STAFF_TOPICS="1") as d:
        await topics_opened(db_path)
        await load_catalog(catalogue_with(tmp_path, **{HEAT: f"topic_id = {thread}"}))
        case = await d.file_case(CITIZEN, category=CATEGORY[HEAT], notify_staff=True)
        [card] = await sandbox.wait_for_messages(staff, 1, timeout=10)
        assert card["text"].startswith(f"New request {format_tracking_number(case.tracking)}")
        assert card["message_thread_id"] == thread
        # Loaded again without it, the department keeps the topic it has.
        await load_catalog(catalogue_with(tmp_path))
        assert (await Department.get(code=HEAT)).topic_id == thread
