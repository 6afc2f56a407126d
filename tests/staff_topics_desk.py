"""What the department-topic tests share: a desk whose staff group is a forum, its topics as
the sandbox holds them, and where each message of the staff group went."""

from __future__ import annotations

from typing import Any

from bot.sandbox import Sandbox
from bot.sandbox.forum import make_forum
from tests.databases import Database
from tests.harness import eventually, query

TOPICS = "SELECT code, topic_id FROM department WHERE active ORDER BY id"
HEAT, WATER, GAS = "heating-company", "water-company", "gas-company"
CATEGORY = {HEAT: "heating.fees", WATER: "water.bills", GAS: "gas.bills"}


def forum(sandbox: Sandbox) -> int:
    """Turn the sandbox's staff group into a forum; its id."""
    staff = sandbox.config.staff_group_id
    make_forum(sandbox.world, staff)
    return staff


def topics_of(sandbox: Sandbox) -> dict[int, dict[str, Any]]:
    """The staff forum's topics by thread id, closed and deleted ones included."""
    return dict(sandbox.world.topics.get(sandbox.config.staff_group_id, {}))


def department_topics(db_path: Database) -> dict[str, int | None]:
    return {code: topic for code, topic in query(db_path, TOPICS)}


async def topics_opened(db_path: Database) -> dict[str, int]:
    """Once every active department has its topic: code -> thread id."""

    def opened() -> dict[str, int] | None:
        rows = department_topics(db_path)
        return {k: v for k, v in rows.items() if v is not None} if all(rows.values()) else None

    return await eventually(opened, 20, what="every department's topic")


def where(message: dict[str, Any]) -> int | None:
    return message.get("message_thread_id")


def in_topic(sandbox: Sandbox, thread: int | None) -> list[dict[str, Any]]:
    """The staff group's messages in one topic (None: General)."""
    staff = sandbox.config.staff_group_id
    return [m for m in sandbox.messages(staff) if where(m) == thread]


def show(sandbox: Sandbox, chat_id: int) -> None:
    """Print a chat message by message with its topic, for a reader running with -s."""
    names = {t: topic["name"] for t, topic in topics_of(sandbox).items()}
    for message in sandbox.messages(chat_id):
        topic = names.get(where(message) or 0, "General")
        text = (message["text"] or message["caption"] or message["method"]).split("\n")[0]
        print(f"  [{chat_id} · {topic}] {text}")
