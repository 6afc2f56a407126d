"""A topic per department, end to end through the sandbox: with MINSHENG_STAFF_TOPICS the bot
opens one topic per active department in the staff forum (once: not again after a restart), a
case's cards go to its department's topic, its buttons work there and answers stay in the
topic, the supervisors' notices stay in General; a closed topic's cards fall back to General
and a deleted one is opened anew, the supervisors told once; without the setting nothing
changes. Run with -s to read the staff group topic by topic."""

from __future__ import annotations

from bot.sandbox import FaultConfig, Sandbox
from storage.models import Department
from storage.tracking import format_tracking_number
from tests.databases import Database
from tests.following import buttons, desk
from tests.harness import eventually, query
from tests.staff_desk import ADMIN, CITIZEN, HANDLER, SUPERVISOR, add_team, edited, press
from tests.staff_topics_desk import (
    CATEGORY,
    GAS,
    HEAT,
    WATER,
    department_topics,
    forum,
    in_topic,
    show,
    topics_of,
    topics_opened,
    where,
)

TOPICS_ON = {"MINSHENG_ADMIN_IDS": str(ADMIN), "MINSHENG_STAFF_TOPICS": "1"}
ACTIVE = "SELECT count(*) FROM department WHERE active"


async def test_a_topic_per_department_opened_once_and_cards_land_in_it(
    sandbox: Sandbox, db_path: Database
) -> None:
    staff = forum(sandbox)
    async with desk(sandbox, db_path, **TOPICS_ON) as d:
        topics = await topics_opened(db_path)
        opened = topics_of(sandbox)
        assert len(opened) == len(topics) == query(db_path, ACTIVE)[0][0]
        assert sorted(opened) == sorted(topics.values())
        assert opened[topics[HEAT]]["name"] == "City Heating Company"  # the default language
        assert opened[topics[WATER]]["name"] == "City Water Supply Company"

        await add_team(d)  # said in General
        heat = await d.file_case(
            CITIZEN,
            category=CATEGORY[HEAT],
            photos=("SBX-photo-a", "SBX-photo-b"),
            notify_staff=True,
        )
        water = await d.file_case(CITIZEN + 1, category=CATEGORY[WATER], notify_staff=True)
        number = format_tracking_number(heat.tracking)
        await eventually(lambda: in_topic(sandbox, topics[WATER]), 10, what="the water card")
        card, *album = in_topic(sandbox, topics[HEAT])  # the card, then its photos
        assert card["text"].startswith(f"New request {number}")
        assert [m["photo"] for m in album] == ["SBX-photo-a", "SBX-photo-b"]
        [water_card] = in_topic(sandbox, topics[WATER])
        assert water_card["text"].startswith(
            f"New request {format_tracking_number(water.tracking)}"
        )
        assert not any("New request" in (m["text"] or "") for m in in_topic(sandbox, None))

        # Its buttons work in the topic: Accept, then the department.
        assert await press(d, SUPERVISOR, card, f"st:acc:{heat.tracking}") == ""
        offered = await edited(d, card["message_id"], 0)
        assert await press(d, SUPERVISOR, offered, buttons(offered)[0][1]) == ""
        done = await edited(d, card["message_id"], 1)
        assert done["text"].endswith("→ City Heating Company")
        assert where(done) == topics[HEAT]

        # The handler sends it back from the topic: the answer stays in the topic, the
        # supervisors are told in General (routing it again is theirs).
        general = len(in_topic(sandbox, None))
        sandbox.send_text(
            HANDLER, f"/sendback {number} not ours", chat_id=staff, message_thread_id=topics[HEAT]
        )
        await eventually(lambda: len(in_topic(sandbox, None)) > general, 10, what="sent back")
        [sent_back] = in_topic(sandbox, None)[general:]
        assert sent_back["text"].startswith(
            f"Request {number} was sent back by City Heating Company as misrouted."
        )
        answer = in_topic(sandbox, topics[HEAT])[-1]
        assert number in answer["text"]
        assert answer["message_id"] != card["message_id"]
        show(sandbox, staff)
    created = sandbox.stats["createForumTopic"]

    # A restart opens no topic again; the next heating card goes to the same topic.
    async with desk(sandbox, db_path, **TOPICS_ON) as d:
        again = await d.file_case(CITIZEN + 2, category=CATEGORY[HEAT], notify_staff=True)
        shown = format_tracking_number(again.tracking)
        await eventually(
            lambda: any(shown in (m["text"] or "") for m in in_topic(sandbox, topics[HEAT])),
            10,
            what="the card after the restart",
        )
        assert sandbox.stats["createForumTopic"] == created
        assert department_topics(db_path) == topics


async def test_a_closed_topic_falls_back_to_general_and_a_deleted_one_is_opened_anew(
    sandbox: Sandbox, db_path: Database
) -> None:
    staff = forum(sandbox)
    async with desk(sandbox, db_path, **TOPICS_ON) as d:
        topics = await topics_opened(db_path)
        # An administrator closes the heating topic: its cards come to General, and the
        # supervisors are told there once.
        topics_of(sandbox)[topics[HEAT]]["closed"] = True
        for n in range(2):
            await d.file_case(CITIZEN + n, category=CATEGORY[HEAT], notify_staff=True)
        await eventually(lambda: len(in_topic(sandbox, None)) >= 3, 10, what="two cards")
        general = [m["text"].split("\n")[0] for m in in_topic(sandbox, None)]
        closed = (
            "The topic of City Heating Company is closed, so its new cards come to this "
            "general topic instead. Reopen the topic to have them go there again."
        )
        assert general.count(closed) == 1
        assert sum(text.startswith("New request") for text in general) == 2
        assert department_topics(db_path)[HEAT] == topics[HEAT]  # kept: it may be reopened
        # Reopened: cards go there again.
        topics_of(sandbox)[topics[HEAT]]["closed"] = False
        await d.file_case(CITIZEN + 2, category=CATEGORY[HEAT], notify_staff=True)
        await eventually(lambda: in_topic(sandbox, topics[HEAT]), 10, what="the reopened topic")

        # The water topic is deleted: the card comes to General, a new topic is opened for
        # the department, the supervisors told once; the next card goes to the new topic.
        topics_of(sandbox)[topics[WATER]]["deleted"] = True
        before = len(in_topic(sandbox, None))
        await d.file_case(CITIZEN + 3, category=CATEGORY[WATER], notify_staff=True)
        await eventually(lambda: len(in_topic(sandbox, None)) >= before + 2, 10, what="notice")
        texts = [m["text"].split("\n")[0] for m in in_topic(sandbox, None)[before:]]
        assert texts[0].startswith("New request")
        assert texts[1] == (
            "The topic of City Water Supply Company was deleted. The bot opens a new topic "
            "for it; until then its cards come to this general topic."
        )
        renewed = await eventually(
            lambda: (
                (department_topics(db_path)[WATER] or 0) not in (0, topics[WATER])
                and department_topics(db_path)[WATER]
            ),
            10,
            what="the new water topic",
        )
        assert topics_of(sandbox)[renewed]["name"] == "City Water Supply Company"
        await d.file_case(CITIZEN + 4, category=CATEGORY[WATER], notify_staff=True)
        await eventually(lambda: in_topic(sandbox, renewed), 10, what="the new topic's card")
        assert department_topics(db_path)[GAS] == topics[GAS]  # the others untouched
        show(sandbox, staff)


async def test_case_and_details_asked_in_a_topic_answer_in_that_topic(
    sandbox: Sandbox, db_path: Database
) -> None:
    staff = forum(sandbox)
    async with desk(sandbox, db_path, **TOPICS_ON) as d:
        topics = await topics_opened(db_path)
        await add_team(d)
        heat = await d.file_case(
            CITIZEN, category=CATEGORY[HEAT], photos=("SBX-photo-a",), notify_staff=True
        )
        number = format_tracking_number(heat.tracking)
        await eventually(lambda: len(in_topic(sandbox, topics[HEAT])) >= 2, 10, what="the card")
        card = in_topic(sandbox, topics[HEAT])[0]
        general = len(in_topic(sandbox, None))

        # /case typed in the heating topic: the card, its timeline and its photo come there.
        sandbox.send_text(
            SUPERVISOR, f"/case {number}", chat_id=staff, message_thread_id=topics[HEAT]
        )
        await eventually(lambda: len(in_topic(sandbox, topics[HEAT])) >= 4, 10, what="/case")
        details, photo = in_topic(sandbox, topics[HEAT])[2:4]
        assert details["text"].startswith(f"New request {number}")
        assert "Timeline:" in details["text"]
        assert photo["photo"] == "SBX-photo-a"
        # Details pressed on the card in the topic: the same, in the topic.
        assert await press(d, SUPERVISOR, card, f"st:det:{heat.tracking}") == ""
        await eventually(lambda: len(in_topic(sandbox, topics[HEAT])) >= 6, 10, what="Details")
        details, photo = in_topic(sandbox, topics[HEAT])[4:6]
        assert details["text"].startswith(f"New request {number}")
        assert photo["photo"] == "SBX-photo-a"
        assert len(in_topic(sandbox, None)) == general  # nothing of it in General
        show(sandbox, staff)


async def test_a_deleted_topic_holds_no_card_back_while_telegram_paces_a_new_one(
    sandbox: Sandbox, db_path: Database
) -> None:
    staff = forum(sandbox)
    async with desk(sandbox, db_path, **TOPICS_ON) as d:
        topics = await topics_opened(db_path)
        topics_of(sandbox)[topics[WATER]]["deleted"] = True
        # Telegram answers "retry after 30 s" to every createForumTopic from now on.
        paced = frozenset({"createForumTopic"})
        sandbox.faults = FaultConfig(rate=1.0, kinds=("429",), retry_after=30, methods=paced)
        cases = [
            await d.file_case(CITIZEN + n, category=CATEGORY[WATER], notify_staff=True)
            for n in range(2)
        ]
        # Both cards and the supervisors' notice reach General without waiting for the topic.
        await eventually(lambda: len(in_topic(sandbox, None)) >= 3, 10, what="General")
        texts = [m["text"].split("\n")[0] for m in in_topic(sandbox, None)]
        for case in cases:
            assert f"New request {format_tracking_number(case.tracking)}" in texts
        assert sum(text.startswith("The topic of City Water Supply Company") for text in texts)
        assert department_topics(db_path)[WATER] is None  # still to be opened
        show(sandbox, staff)


async def test_without_the_setting_nothing_changes(sandbox: Sandbox, db_path: Database) -> None:
    staff = forum(sandbox)  # a forum, but the desk was not told to use topics
    async with desk(sandbox, db_path, MINSHENG_ADMIN_IDS=str(ADMIN)) as d:
        # Even a topic named for the department (as a catalogue may) is not used.
        await Department.filter(code=HEAT).update(topic_id=4242)
        await d.file_case(CITIZEN, category=CATEGORY[HEAT], notify_staff=True)
        [card] = await sandbox.wait_for_messages(staff, 1, timeout=10)
        assert card["text"].startswith("New request")
        assert where(card) is None
        assert "createForumTopic" not in sandbox.stats
        assert topics_of(sandbox) == {}


async def test_topics_asked_for_in_a_group_that_is_no_forum(
    sandbox: Sandbox, db_path: Database
) -> None:
    staff = sandbox.config.staff_group_id  # topics not turned on in the group
    async with desk(sandbox, db_path, **TOPICS_ON) as d:
        await eventually(lambda: sandbox.stats.get("createForumTopic"), 10, what="a try")
        await d.file_case(CITIZEN, category=CATEGORY[HEAT], notify_staff=True)
        [card] = await sandbox.wait_for_messages(staff, 1, timeout=10)
        assert card["text"].startswith("New request")
        assert where(card) is None  # as without the setting: the desk goes on
        assert sandbox.stats["createForumTopic"] == 1  # refused once, not tried for each
        assert not any(department_topics(db_path).values())
