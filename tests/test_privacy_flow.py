"""Privacy end to end (RELIABILITY row 38): /privacy, /mydata only to the asker, /forget with
consent: open requests withdrawn, personal data erased, the requests kept without a name."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from bot.sandbox import Sandbox
from storage.cases import DESCRIPTION_MAX, Location
from storage.tracking import format_tracking_number
from tests.databases import Database
from tests.following import Desk, buttons, desk
from tests.harness import eventually, execute, query

ASKER, NEIGHBOUR = 72_001, 72_002
EXPIRED = "This button has expired."


async def pressed(d: Desk, message: dict[str, Any], data: str) -> str:
    """Press a button (any data) on one of ASKER's messages; the text it was answered with."""
    update = d.sandbox.press_button(ASKER, ASKER, message["message_id"], data, force=True)
    query_id = update["callback_query"]["id"]
    answers = d.sandbox.callback_answers
    answer = await eventually(lambda: answers.get(query_id), 10, what="the button's answer")
    return str(answer.get("text") or "")


def erasures(db_path: Database) -> int:
    sql = "SELECT count(*) FROM case_event WHERE kind = 'personal_data_erased'"
    return int(query(db_path, sql)[0][0])


async def test_privacy_and_the_export_go_only_to_the_asker(
    sandbox: Sandbox, db_path: Database
) -> None:
    async with desk(sandbox, db_path) as d:
        noise = "Noise from the bar at 12 Elm St "
        mine = await d.file_case(ASKER, text=noise + "x" * (DESCRIPTION_MAX - len(noise)))
        theirs = await d.file_case(NEIGHBOUR, text="Neighbour's secret complaint")
        notice = await d.say(ASKER, "/privacy", 1)
        assert notice["text"].startswith("What this desk keeps about you, and why:")
        summary = await d.say(ASKER, "/mydata", 2)
        document = (await sandbox.wait_for_messages(ASKER, 3, timeout=10))[-1]
        assert summary["text"].startswith("What this desk keeps about you:")
        assert f"• {format_tracking_number(mine.tracking)} · " in summary["text"]
        assert document["method"] == "sendDocument"
        data = sandbox.world.files[document["document"]].data or b""
        export = json.loads(data)
        assert [r["tracking_number"] for r in export["requests"]] == [
            format_tracking_number(mine.tracking)
        ]
        assert export["requests"][0]["description"] == mine.text  # whole, in one file
        assert export["about_you"]["telegram_user_id"] == ASKER
        everything = summary["text"] + data.decode()
        assert format_tracking_number(theirs.tracking) not in everything
        assert theirs.tracking not in everything
        assert "secret" not in everything
        assert sandbox.messages(NEIGHBOUR) == []


async def test_forget_with_consent(sandbox: Sandbox, db_path: Database) -> None:
    async with desk(sandbox, db_path) as d:
        case = await d.file_case(
            ASKER, location=Location(45.7, 126.6, "5 Pine St"), phone="+86 139 1111 2222"
        )
        question = await d.say(ASKER, "/forget", 1)
        assert "will be withdrawn (closed) first" in question["text"]
        yes, no = [data for _, data in buttons(question)]
        assert re.fullmatch(r"forget:yes:[0-9a-f]{32}", yes)
        assert no == yes.replace("yes", "no", 1)  # both bound to this question
        typed = await d.say(ASKER, "yes", 2)  # consent is given with the buttons only
        assert typed["text"] == "Please answer with the buttons: erase, or keep."
        assert [data for _, data in buttons(typed)] == [yes, no]  # the same question
        kept = await d.press(ASKER, question, no, 3)
        assert kept["text"] == "Nothing was erased."
        assert query(db_path, "SELECT citizen_id FROM service_case")[0][0] == ASKER
        assert await pressed(d, question, yes) == "This button has expired."  # said no to it
        question = await d.say(ASKER, "/forget", 4)
        done = await d.press(ASKER, question, buttons(question)[0][1], 5)
        assert done["text"] == (
            "Done: your personal data is erased. Requests withdrawn: 1. Requests kept without "
            "your name for the city's figures: 1."
        )
        row = query(
            db_path, "SELECT citizen_id, status, phone, address, latitude, text FROM service_case"
        )[0]
        assert row == (None, "closed", None, None, None, "")
        assert query(db_path, "SELECT phone, first_name FROM citizen WHERE id = ?", (ASKER,)) == [
            (None, "")
        ]
        # The case is no longer theirs: its number now reads as not found.
        gone = await d.say(ASKER, f"/status {case.tracking}", 6)
        assert gone["text"].startswith("I found no request of yours")


async def test_a_forged_stale_or_replayed_confirmation_erases_nothing(
    sandbox: Sandbox, db_path: Database
) -> None:
    async with desk(sandbox, db_path) as d:
        await d.file_case(ASKER, phone="+86 139 1111 2222")
        first = await d.say(ASKER, "/forget", 1)
        second = await d.say(ASKER, "/forget", 2)  # asked again: the first buttons expire
        stale, yes = buttons(first)[0][1], buttons(second)[0][1]
        assert stale != yes
        forged = [
            "forget:yes",
            f"forget:yes:{'0' * 32}",
            stale,
            yes.upper(),
            f"{yes}0",
            f"forget:yes:{yes[-32:-1]}",
        ]
        for data in forged:
            assert await pressed(d, second, data) == EXPIRED, data
        assert query(db_path, "SELECT citizen_id, phone FROM service_case") == [
            (ASKER, "+86 139 1111 2222")
        ]
        assert erasures(db_path) == 0
        assert len(sandbox.messages(ASKER)) == 2  # the toasts only
        done = await d.press(ASKER, second, yes, 3)
        assert done["text"].startswith("Done: your personal data is erased.")
        assert erasures(db_path) == 1
        assert await pressed(d, second, yes) == EXPIRED  # replayed: spent
        assert erasures(db_path) == 1
        assert len(sandbox.messages(ASKER)) == 3


VARIANTS = {
    # language: (says case texts are erased, says they are kept by law, retention, question)
    "en": (
        "from your requests what you wrote, your answers, the places and the photos",
        "This desk must keep its case records by law.",
        "are deleted 45 days after they were handled",
        "stay in its records",
    ),
    "zh_Hans": (
        "以及您诉求中您写的内容、您的回答、地点和照片",
        "本服务台依法须保存工单档案。",
        "在处理完毕 45 天后删除",
        "会保留在档案中",
    ),
}


@pytest.mark.parametrize("keep", [False, True])
@pytest.mark.parametrize("language", ["en", "zh_Hans"])
async def test_privacy_says_which_rules_apply(
    sandbox: Sandbox, db_path: Database, language: str, keep: bool
) -> None:
    erased, kept, retention, question_kept = VARIANTS[language]
    code = {"en": "en", "zh_Hans": "zh-hans"}[language]
    env = {"MINSHENG_KEEP_CASE_RECORDS": str(keep).lower(), "MINSHENG_RETENTION_DAYS": "45"}
    async with desk(sandbox, db_path, **env) as d:
        notice = (await d.say(ASKER, "/privacy", 1, language_code=code))["text"]
        assert retention in notice
        assert (kept in notice, erased in notice) == (keep, not keep)
        question = (await d.say(ASKER, "/forget", 2, language_code=code))["text"]
        assert (question_kept in question) == keep


async def test_a_blocked_citizen_may_still_erase_their_data(
    sandbox: Sandbox, db_path: Database
) -> None:
    async with desk(sandbox, db_path) as d:
        await d.file_case(ASKER)
        await execute(db_path, "UPDATE citizen SET blocked = TRUE WHERE id = ?", (ASKER,))
        question = await d.say(ASKER, "/forget", 1)
        done = await d.press(ASKER, question, buttons(question)[0][1], 2)
        assert done["text"].startswith("Done: your personal data is erased.")
        assert erasures(db_path) == 1
