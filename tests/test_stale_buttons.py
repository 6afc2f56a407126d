"""Issue 13, item 10: once a case moves, the staff chat's earlier buttons on it are edited away
(or down to what still applies), whoever moved it and however: a command, another message's
button, the dashboard. Walked through the sandbox with the staff chat in English and Chinese."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.sandbox import Sandbox
from storage.staff import StaffRole, add_staff
from storage.tracking import format_tracking_number
from tests.databases import Database
from tests.following import Desk, buttons, desk
from tests.harness import eventually, query
from tests.intake_desk import Citizen
from tests.staff_desk import ADMIN, CITIZEN, HANDLER, SUPERVISOR

LABELS = {
    "en": {
        "card": ["Accept as proposed", "Accept", "Reject", "Details"],
        "details": ["Details"],
        "routed": ["Sign for", "Send back", "Take"],
        "signed": ["Send back", "Take"],
        "extension": ["Grant", "Refuse"],
        "review": ["Approve", "Return"],
    },
    "zh_Hans": {
        "card": ["按建议受理", "受理", "不予受理", "详情"],
        "details": ["详情"],
        "routed": ["签收", "退单", "承办"],
        "signed": ["退单", "承办"],
        "extension": ["批准", "不批准"],
        "review": ["通过", "退回"],
    },
}
UNRECORDED = "SELECT count(*) FROM outbox_message WHERE about IS NOT NULL AND message_id IS NULL"


def labels(message: dict[str, Any]) -> list[str]:
    return [label for label, _ in buttons(message)]


async def staff_message(d: Desk, number: str, words: str, after: int = 0) -> dict[str, Any]:
    """The staff chat's first message on the case after message `after` whose text holds
    `words`, once its id is stored."""

    def found() -> dict[str, Any] | None:
        return next(
            (
                m
                for m in d.sandbox.messages(d.staff)
                if m["message_id"] > after
                and number in (m.get("text") or "")
                and words in (m.get("text") or "")
            ),
            None,
        )

    message = await eventually(found, 10, what=f"the staff chat's message {words!r}")
    await eventually(lambda: query(d.db_path, UNRECORDED)[0][0] == 0, 10, what="ids recorded")
    return dict(message)


async def now_shows(d: Desk, message: dict[str, Any], wanted: list[str]) -> None:
    def current() -> dict[str, Any]:
        return next(
            m for m in d.sandbox.messages(d.staff) if m["message_id"] == message["message_id"]
        )

    await eventually(lambda: labels(current()) == wanted, 10, what=f"buttons {wanted}")


@pytest.mark.parametrize("language", ["en", "zh_Hans"])
async def test_buttons_go_once_the_case_moves(
    sandbox: Sandbox, db_path: Database, language: str
) -> None:
    words = LABELS[language]
    env = {"MINSHENG_ADMIN_IDS": str(ADMIN), "MINSHENG_DEFAULT_LANGUAGE": language}
    async with desk(sandbox, db_path, **env) as d:
        now = datetime.now(UTC)
        await add_staff(SUPERVISOR, StaffRole.SUPERVISOR, None, by=ADMIN, now=now)
        await add_staff(HANDLER, StaffRole.HANDLER, "heating-company", by=ADMIN, now=now)
        case = await d.file_case(CITIZEN, notify_staff=True)
        number = format_tracking_number(case.tracking)
        card = await staff_message(d, number, "")
        assert labels(card) == words["card"]

        # Routed by command: the card keeps Details alone; the routing notice comes.
        await d.say(SUPERVISOR, f"/assign {number} heating-company", 1)
        await now_shows(d, card, words["details"])
        routed = await staff_message(d, number, "", after=card["message_id"])
        assert labels(routed) == words["routed"]

        # Signed for by command: Send back is all that still applies.
        await d.say(HANDLER, f"/sign {number}", 1)
        await now_shows(d, routed, words["signed"])

        # More time asked, then granted by command: Grant · Refuse go.
        await d.say(HANDLER, f"/extend {number} 2 Parts on order", 2)
        asked = await staff_message(d, number, "Parts on order", after=routed["message_id"])
        assert labels(asked) == words["extension"]
        await d.say(SUPERVISOR, f"/grant {number}", 2)
        await now_shows(d, asked, [])

        # A reply to review: worked now, so Send back goes too; approved, Approve · Return go.
        await d.say(HANDLER, f"/reply {number} The engineer fixed the valve today.", 3)
        review = await staff_message(d, number, "The engineer fixed the valve today.")
        assert labels(review) == words["review"]
        await now_shows(d, routed, [])
        await d.say(SUPERVISOR, f"/approve {number}", 3)
        await now_shows(d, review, [])

        for message in d.sandbox.messages(d.staff):
            head = (message.get("text") or "").split("\n")[0]
            print(f"{head[:70]}  {labels(message)}  edits: {len(message['edits'])}")


async def test_a_case_its_citizen_withdraws_loses_its_buttons(
    sandbox: Sandbox, db_path: Database
) -> None:
    """/forget withdraws the citizen's open cases: Accept · Reject and Sign for · Send back go
    from the staff chat at once (pressing them would be refused anyway)."""
    async with desk(sandbox, db_path, MINSHENG_ADMIN_IDS=str(ADMIN)) as d:
        now = datetime.now(UTC)
        await add_staff(SUPERVISOR, StaffRole.SUPERVISOR, None, by=ADMIN, now=now)
        new = await d.file_case(CITIZEN, notify_staff=True)
        routed = await d.file_case(CITIZEN, notify_staff=True, text="The lift has been broken.")
        new_card = await staff_message(d, format_tracking_number(new.tracking), "")
        routed_number = format_tracking_number(routed.tracking)
        routed_card = await staff_message(d, routed_number, "")
        await d.say(SUPERVISOR, f"/assign {routed_number} heating-company", 1)
        notice = await staff_message(d, routed_number, "", after=routed_card["message_id"])
        assert labels(notice) == LABELS["en"]["routed"]

        citizen = Citizen(sandbox, db_path, CITIZEN, "en")
        asked = await citizen.say("/forget")
        yes = next(data for m in asked for _, data in buttons(m) if data.startswith("forget:yes:"))
        await citizen.press(yes, message_id=asked[-1]["message_id"])

        await now_shows(d, new_card, LABELS["en"]["details"])
        await now_shows(d, notice, [])
