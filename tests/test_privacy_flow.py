"""Privacy end to end (RELIABILITY row 38): /privacy, /mydata only to the asker, /forget with
consent: open requests withdrawn, personal data erased, the requests kept without a name."""

from __future__ import annotations

import json
from pathlib import Path

from bot.sandbox import Sandbox
from storage.cases import Location
from tests.following import buttons, desk
from tests.harness import query

ASKER, NEIGHBOUR = 72_001, 72_002


async def test_privacy_and_the_export_go_only_to_the_asker(
    sandbox: Sandbox, db_path: Path
) -> None:
    async with desk(sandbox, db_path) as d:
        mine = await d.file_case(ASKER, text="Noise from the bar at 12 Elm St " + "x" * 3000)
        theirs = await d.file_case(NEIGHBOUR, text="Neighbour's secret complaint")
        notice = await d.say(ASKER, "/privacy", 1)
        assert notice["text"].startswith("What this desk keeps about you, and why:")
        await d.say(ASKER, "/mydata", 3)
        await sandbox.wait_for_messages(ASKER, 4, timeout=10)  # 3,000+ characters: two parts
        received = sandbox.messages(ASKER)[1:]
        assert received[0]["text"] == "Here is everything this desk keeps about you."
        assert all(len(m["text"]) <= 4096 for m in received)
        export = json.loads("".join(m["text"] for m in received[1:]))
        assert [case["tracking"] for case in export["cases"]] == [mine.tracking]
        assert export["citizen"]["id"] == ASKER
        everything = "".join(m["text"] for m in received)
        assert theirs.tracking not in everything
        assert "secret" not in everything
        assert sandbox.messages(NEIGHBOUR) == []


async def test_forget_with_consent(sandbox: Sandbox, db_path: Path) -> None:
    async with desk(sandbox, db_path) as d:
        case = await d.file_case(
            ASKER, location=Location(45.7, 126.6, "5 Pine St"), phone="+86 139 1111 2222"
        )
        question = await d.say(ASKER, "/forget", 1)
        assert "will be withdrawn (closed) first" in question["text"]
        assert [data for _, data in buttons(question)] == ["forget:yes", "forget:no"]
        typed = await d.say(ASKER, "yes", 2)  # consent is given with the buttons only
        assert typed["text"] == "Please answer with the buttons: erase, or keep."
        kept = await d.press(ASKER, question, "forget:no", 3)
        assert kept["text"] == "Nothing was erased."
        assert query(db_path, "SELECT citizen_id FROM service_case")[0][0] == ASKER
        done = await d.press(ASKER, question, "forget:yes", 4)
        assert done["text"] == (
            "Done: your personal data is erased. Requests withdrawn: 1. Requests kept without "
            "your name for the city's figures: 1."
        )
        row = query(
            db_path, "SELECT citizen_id, status, phone, address, latitude, text FROM service_case"
        )[0]
        assert row[:5] == (None, "closed", None, None, None)
        assert row[5] == "The radiators in our flat have been cold for three days."
        assert query(db_path, "SELECT phone, first_name FROM citizen WHERE id = ?", (ASKER,)) == [
            (None, "")
        ]
        # The case is no longer theirs: its number now reads as not found.
        gone = await d.say(ASKER, f"/status {case.tracking}", 5)
        assert gone["text"].startswith("I found no request of yours")
