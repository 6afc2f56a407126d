"""The rating message read as the citizen reads it, step by step, in English and Simplified
Chinese: each press writes its text and buttons afresh, the end shows what was chosen, comments
fit the rating, and a reopen asks for the reason before the case goes back.

Run with -s to see the conversation, message by message."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.sandbox import Sandbox
from storage.citizens import choose_language
from storage.lifecycle import accept_case, submit_reply
from storage.tracking import format_tracking_number
from tests.databases import Database
from tests.following import Desk, buttons
from tests.harness import eventually, query
from tests.test_rating import ADMIN, CITIZEN, OTHER, REPLY, press, rating_desk, ratings, status

PRAISE_ZH = ("办理及时，很有帮助", "答复清楚明白", "态度热情耐心")
REASON_ZH = "暖气还是不热，晚上只有十五度。"
REASON_EN = "The radiators are still cold at night."


async def answered_in(d: Desk, language: str) -> tuple[str, dict[str, Any]]:
    """A case of CITIZEN's, who reads `language`, answered by an admin (no review); the
    answer's message."""
    now = datetime.now(UTC)
    case = await d.file_case(CITIZEN, at=now)
    await choose_language(CITIZEN, language)
    zone = d.runtime.services.settings.zone
    await accept_case(case.tracking, "heating-company", by=ADMIN, now=now, zone=zone)
    await submit_reply(case.tracking, REPLY, by=ADMIN, now=now)
    return case.tracking, (await d.sandbox.wait_for_messages(CITIZEN, 2, timeout=10))[-1]


def show(step: str, message: dict[str, Any]) -> dict[str, Any]:
    """Print the message as the citizen sees it (pytest -s), and give back how it reads now
    (the sandbox's record changes with the next edit)."""
    print(f"\n── {step} " + "─" * max(0, 60 - len(step)))
    print(message.get("text"))
    for label, data in buttons(message):
        print(f"   [ {label} ]  ({data})")
    return dict(message)


def tail(message: dict[str, Any]) -> str:
    """The text under the answer: what was chosen, and the question of the step."""
    return str(message["text"]).split(f"{REPLY}\n\n", 1)[1]


def labels(message: dict[str, Any]) -> list[str]:
    return [label for label, _ in buttons(message)]


# What the satisfied path reads like, step by step: the answer's head and question, then the
# tail under the answer after Solved, Satisfied and "Quick and helpful", with each step's buttons.
SATISFIED_PATH = {
    "en": (
        "The answer to your request {number}:",
        "Was your problem solved?",
        [
            (
                "Your rating: Solved\nHow satisfied are you with how your request was handled?",
                ["Satisfied", "Basically satisfied", "Unsatisfied"],
            ),
            (
                "Your rating: Solved · Satisfied\n"
                "Thank you! Would you like to add a comment? Choose one, or press Skip.",
                ["Quick and helpful", "A clear answer", "Polite and attentive", "Skip"],
            ),
            (
                "Your rating: Solved · Satisfied · “Quick and helpful”\n"
                "Thank you for your feedback.",
                [],
            ),
        ],
    ),
    "zh_Hans": (
        "您的诉求 {number} 的答复：",
        "您的问题解决了吗？",
        [
            ("您的评价：已解决\n您对这次办理满意吗？", ["满意", "基本满意", "不满意"]),
            (
                "您的评价：已解决、满意\n谢谢！想再留一句评语吗？请选择一项，或点“跳过”。",
                [*PRAISE_ZH, "跳过"],
            ),
            ("您的评价：已解决、满意；评语：“办理及时，很有帮助”\n感谢您的反馈。", []),
        ],
    ),
}


@pytest.mark.parametrize("language", ["en", "zh_Hans"])
async def test_each_step_asks_its_own_question(
    sandbox: Sandbox, db_path: Database, language: str
) -> None:
    async with rating_desk(sandbox, db_path) as d:
        tracking, answer = await answered_in(d, language)
        head, question, steps = SATISFIED_PATH[language]
        head = head.format(number=format_tracking_number(tracking))
        show(f"the answer ({language})", answer)
        assert answer["text"] == f"{head}\n\n{REPLY}\n\n{question}"
        presses = [
            f"rt:s:{tracking}:solved",
            f"rt:f:{tracking}:satisfied",
            f"rt:c:{tracking}:quick",
        ]
        seen = [question]
        for data, (expected, expected_labels) in zip(presses, steps, strict=True):
            step = show(data, await d.press_edit(CITIZEN, answer, data))
            assert step["text"].startswith(f"{head}\n\n{REPLY}\n\n")
            assert (tail(step), labels(step)) == (expected, expected_labels)
            seen.append(tail(step))
        # Every press rewrote the text (editMessageText, not the buttons alone): the message's
        # earlier texts are the earlier steps, in order.
        assert [tail({"text": text}) for text in step["edits"]] == seen[:-1]
        # Pressed again: nothing changes.
        again = await press(d, CITIZEN, answer["message_id"], f"rt:s:{tracking}:partly")
        assert again == (
            "Your rating was already recorded." if language == "en" else "您的评价已记录。"
        )
        assert ratings(db_path) == [("solved", "satisfied", "Quick and helpful", CITIZEN)]


async def test_unsatisfied_gets_complaints_and_reopens_with_a_reason_in_chinese(
    sandbox: Sandbox, db_path: Database
) -> None:
    async with rating_desk(sandbox, db_path) as d:
        tracking, answer = await answered_in(d, "zh_Hans")
        number = format_tracking_number(tracking)
        show("答复", answer)
        assert answer["text"] == f"您的诉求 {number} 的答复：\n\n{REPLY}\n\n您的问题解决了吗？"

        second = show("未解决", await d.press_edit(CITIZEN, answer, f"rt:s:{tracking}:not_solved"))
        assert tail(second) == "您的评价：未解决\n您对这次办理满意吗？"
        assert labels(second) == ["满意", "基本满意", "不满意"]

        third = show("不满意", await d.press_edit(CITIZEN, answer, f"rt:f:{tracking}:unsatisfied"))
        assert tail(third) == (
            "您的评价：未解决、不满意\n"
            "很抱歉，这次答复没能帮到您。问题出在哪里？请选择一项，或点“跳过”。\n"
            "如需部门重新办理，请点“重新办理此诉求”。"
        )
        assert labels(third) == [
            "重新办理此诉求",
            "问题仍未解决",
            "答复不够清楚",
            "办理时间太长",
            "跳过",
        ]
        assert not set(PRAISE_ZH) & set(labels(third))
        # Praise forged after "unsatisfied" is not kept.
        assert await press(d, CITIZEN, answer["message_id"], f"rt:c:{tracking}:quick") == (
            "此按钮已失效。"
        )
        assert ratings(db_path) == [("not_solved", "unsatisfied", None, CITIZEN)]

        fourth = show(
            "问题仍未解决", await d.press_edit(CITIZEN, answer, f"rt:c:{tracking}:still")
        )
        assert tail(fourth) == (
            "您的评价：未解决、不满意；评语：“问题仍未解决”\n"
            "如需部门重新办理，请点“重新办理此诉求”。"
        )
        assert buttons(fourth) == [("重新办理此诉求", f"rt:r:{tracking}")]

        asked = show("重新办理此诉求", await d.press_edit(CITIZEN, answer, f"rt:r:{tracking}"))
        assert tail(asked) == (
            "您的评价：未解决、不满意；评语：“问题仍未解决”\n"
            "为什么需要重新办理？请用一条消息说明原因。"
            "如不需要重新办理，请点“取消”或发送 /cancel。"
        )
        assert buttons(asked) == [("取消", f"rt:k:{tracking}")]
        assert status(db_path, tracking) == "answered"
        # Cancel: back as it was, nothing reopened; then Reopen again.
        kept = show("取消", await d.press_edit(CITIZEN, answer, f"rt:k:{tracking}"))
        assert (tail(kept), buttons(kept)) == (tail(fourth), buttons(fourth))
        assert query(db_path, "SELECT count(*) FROM draft") == [(0,)]
        await d.press_edit(CITIZEN, answer, f"rt:r:{tracking}")
        # Someone else's forged press neither reopens nor waits for their reason.
        assert await press(d, OTHER, 1, f"rt:r:{tracking}") == "This request cannot be rated now."
        assert query(db_path, "SELECT citizen_id FROM draft") == [(CITIZEN,)]

        staff_before = len(sandbox.messages(d.staff))
        sandbox.send_text(CITIZEN, REASON_ZH)
        told = show(
            "重新办理的通知", (await sandbox.wait_for_messages(CITIZEN, 3, timeout=10))[-1]
        )
        assert told["text"] == f"您的诉求 {number} 已重新办理。"
        await eventually(lambda: buttons(current(sandbox, answer)) == [], 10, what="the edit")
        end = show("原因已发送", current(sandbox, answer))
        assert tail(end) == (
            "您的评价：未解决、不满意；评语：“问题仍未解决”\n"
            f"您已申请重新办理此诉求，部门将重新办理。您的理由：“{REASON_ZH}”"
        )
        assert buttons(end) == []
        staff = await sandbox.wait_for_messages(d.staff, staff_before + 1, timeout=10)
        show("staff chat", staff[-1])
        assert staff[-1]["text"] == (
            f"Request {number} was reopened by the citizen, who was not satisfied with the answer."
            f" Their reason: “{REASON_ZH}”"
        )
        assert query(db_path, "SELECT status, reopen_count FROM service_case") == [
            ("in_progress", 1)
        ]
        # The reason is in the case's timeline, after the reopening, as the citizen's words.
        kinds = query(
            db_path,
            "SELECT kind, actor FROM case_event WHERE kind IN ('reopened', 'citizen_added') "
            "ORDER BY id",
        )
        assert kinds == [("reopened", "citizen"), ("citizen_added", "citizen")]
        shown = show("/case", await d.say(ADMIN, f"/case {number}", 1))["text"]
        assert f"added information: {REASON_ZH}" in shown
        assert "reopened the request, not satisfied with the answer" in shown
        # A second press or a second message reopens nothing more.
        assert await press(d, CITIZEN, answer["message_id"], f"rt:r:{tracking}") == (
            "此诉求现在无法评价。"
        )
        sandbox.send_text(CITIZEN, "还有一件事")
        await sandbox.wait_for_messages(CITIZEN, 4, timeout=10)
        assert query(db_path, "SELECT reopen_count FROM service_case") == [(1,)]
        added = "SELECT count(*) FROM case_event WHERE kind IN ('reopened', 'citizen_added')"
        assert query(db_path, added) == [(2,)]


async def test_the_reason_step_says_what_it_needs_and_takes_a_reply(
    sandbox: Sandbox, db_path: Database
) -> None:
    async with rating_desk(sandbox, db_path) as d:
        tracking, answer = await answered_in(d, "en")
        await d.press_edit(CITIZEN, answer, f"rt:s:{tracking}:partly")
        third = await d.press_edit(CITIZEN, answer, f"rt:f:{tracking}:unsatisfied")
        assert labels(third) == [
            "Reopen this request",
            "The problem is still there",
            "The answer was unclear",
            "It took too long",
            "Skip",
        ]
        asked = show("Reopen", await d.press_edit(CITIZEN, answer, f"rt:r:{tracking}"))
        assert tail(asked) == (
            "Your rating: Partly · Unsatisfied\n"
            "Why should the department work on it again? Send the reason in one message. "
            "To keep the request as it is, press Cancel or send /cancel."
        )
        # A sticker is not a reason; /cancel keeps the request as it is.
        sandbox.send_text(CITIZEN, "", sticker={"file_size": 2048})
        need = show("a sticker", (await sandbox.wait_for_messages(CITIZEN, 3, timeout=10))[-1])
        assert need["text"] == (
            "Please send the reason as a text message, or send /cancel to keep the request as it "
            "is."
        )
        assert (await d.say(CITIZEN, "/cancel", 4))["text"] == "Cancelled."
        assert status(db_path, tracking) == "answered"
        # The rating message no longer asks for the reason, as after the Cancel button.
        await eventually(
            lambda: "Why should" not in current(sandbox, answer)["text"], 10, what="the edit"
        )
        assert tail(current(sandbox, answer)).startswith("Your rating: Partly · Unsatisfied")
        # Reopen again; a reply to the rating message is the reason (not an addition).
        assert await press(d, CITIZEN, answer["message_id"], f"rt:r:{tracking}") == ""
        assert query(db_path, "SELECT step FROM draft") == [("reopen_reason",)]
        sandbox.send_text(CITIZEN, REASON_EN, reply_to_message_id=answer["message_id"])
        await eventually(lambda: status(db_path, tracking) == "in_progress", 10, what="reopen")
        await eventually(lambda: buttons(current(sandbox, answer)) == [], 10, what="the edit")
        end = show("reason sent", current(sandbox, answer))
        assert tail(end) == (
            "Your rating: Partly · Unsatisfied\n"
            "You reopened this request. The department will work on it again. "
            f"Your reason: “{REASON_EN}”"
        )
        texts = query(db_path, "SELECT payload FROM case_event WHERE kind = 'citizen_added'")
        assert len(texts) == 1
        assert REASON_EN in texts[0][0]


def current(sandbox: Sandbox, message: dict[str, Any]) -> dict[str, Any]:
    return next(m for m in sandbox.messages(CITIZEN) if m["message_id"] == message["message_id"])
