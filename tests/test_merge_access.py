"""Merging across departments, end to end: a supervisor limited to one department may merge only
between cases of that department, whichever way round and by whichever way in (the /merge
command, the staff card's button, the dashboard). A refusal changes nothing, is audited when it
is a denial, and reads the same whether the other case is missing, has ended or is not theirs,
so it tells them nothing about cases elsewhere.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.i18n import Catalogs
from bot.sandbox import Sandbox
from bot.texts.refusals import merge_refusal
from storage.lifecycle import MergeRefused, accept_case, close_case, submit_reply
from storage.tracking import format_tracking_number, new_tracking_number
from tests.databases import Database
from tests.following import Desk, desk
from tests.harness import query, webhook_bot, webhook_settings
from tests.staff_desk import ADMIN, press
from tests.web_desk import SECRET, browser, csrf_of, get, post, sign_in_link

HEAT_SUPERVISOR = 76_001  # a supervisor limited to the heating company
HEAT_FILER, GAS_FILER = 76_101, 76_102
FLASH = re.compile(r'<div class="flash error" role="status">(.*?)</div>', re.S)
EN = Catalogs().get("en")


def refused(number: str, into: str) -> str:
    """The one refusal, as the English catalogue words it."""
    return merge_refusal(EN, MergeRefused(number, into))


def shape(text: str, *numbers: str) -> str:
    """A refusal with its numbers taken out: what must be the same for every reason."""
    for number in numbers:
        text = text.replace(format_tracking_number(number), "N")
    return text


def state(db_path: Database) -> list[Any]:
    """Every case's status and version, the followers, and the notices: what a merge changes."""
    return [
        query(
            db_path,
            "SELECT tracking, status, version, duplicate_of_id, supporters "
            "FROM service_case ORDER BY id",
        ),
        query(db_path, "SELECT case_id, citizen_id FROM case_follower ORDER BY id"),
        query(
            db_path,
            "SELECT count(*) FROM outbox_message WHERE chat_id IN (?, ?)",
            (HEAT_FILER, GAS_FILER),
        ),
    ]


def denials(db_path: Database) -> list[tuple[Any, ...]]:
    return query(
        db_path,
        "SELECT user_id, action, tracking, reason FROM access_denial "
        "WHERE action = 'merge' ORDER BY id",
    )


async def cases(d: Desk) -> dict[str, str]:
    """Two open heating cases, a closed one, an open gas case, and a number nobody has."""
    now, zone = datetime.now(UTC), d.runtime.services.settings.zone
    found = {}
    for name, filer, department in (
        ("heat", HEAT_FILER, "heating-company"),
        ("heat2", HEAT_FILER, "heating-company"),
        ("heat_closed", HEAT_FILER, "heating-company"),
        ("gas", GAS_FILER, "gas-company"),
    ):
        case = await d.file_case(filer, notify_staff=name == "heat")
        await accept_case(case.tracking, department, by=ADMIN, now=now, zone=zone)
        found[name] = case.tracking
    await submit_reply(found["heat_closed"], "Done.", by=ADMIN, now=now)
    await close_case(found["heat_closed"], by=ADMIN, now=now)
    found["missing"] = new_tracking_number()
    return found


async def say(d: Desk, user_id: int, text: str) -> str:
    count = len(d.sandbox.messages(user_id))
    return str((await d.say(user_id, text, count + 1)).get("text") or "")


async def heat_supervisor(d: Desk) -> None:
    added = await say(d, ADMIN, f"/staff add {HEAT_SUPERVISOR} supervisor heating-company")
    assert added.startswith("Done:")


async def test_merge_across_departments_by_command_and_button(
    sandbox: Sandbox, db_path: Database
) -> None:
    async with desk(sandbox, db_path, MINSHENG_ADMIN_IDS=str(ADMIN)) as d:
        await heat_supervisor(d)
        c = await cases(d)
        before = state(db_path)
        heat, gas = c["heat"], c["gas"]
        # Into another department's case, another department's case into theirs, into a case
        # that has ended, into one that does not exist, into itself: one answer.
        tries = [
            (heat, gas),
            (gas, heat),
            (heat, c["heat_closed"]),
            (heat, c["missing"]),
            (heat, heat),
        ]
        for number, into in tries:
            shown = (format_tracking_number(number), format_tracking_number(into))
            answer = await say(d, HEAT_SUPERVISOR, f"/merge {shown[0]} {shown[1]}")
            assert answer == refused(number, into), (number, into)
        assert len({shape(refused(n, i), n, i) for n, i in tries}) == 1
        assert state(db_path) == before
        # The staff card's button, forged or not, both ways round.
        card = next(
            m for m in sandbox.messages(d.staff) if (m.get("text") or "").startswith("New request")
        )
        for number, into in ((heat, gas), (gas, heat), (heat, c["missing"])):
            answer = await press(d, HEAT_SUPERVISOR, card, f"st:mrg:{number}:{into}")
            assert answer == refused(number, into), (number, into)
        assert state(db_path) == before
        # Each denial is in the access log, named by the case that was not theirs.
        denied = (HEAT_SUPERVISOR, "merge", gas, "department")
        assert denials(db_path) == [denied] * 4
        # Within their department the merge goes through.
        merged = await say(d, HEAT_SUPERVISOR, f"/merge {c['heat2']} {heat}")
        assert merged == (
            f"Request {format_tracking_number(c['heat2'])} was merged into "
            f"{format_tracking_number(heat)}."
        )


@pytest.fixture
async def web_desk(sandbox: Sandbox, db_path: Database) -> AsyncIterator[tuple[Desk, str]]:
    settings = webhook_settings(sandbox, db_path, SECRET, MINSHENG_ADMIN_IDS=str(ADMIN))
    async with webhook_bot(settings, sandbox, db_path) as runtime:
        yield Desk(sandbox, runtime, db_path), f"http://{settings.webhook_listen}"


async def test_merge_across_departments_on_the_dashboard(web_desk: tuple[Desk, str]) -> None:
    d, base = web_desk
    await heat_supervisor(d)
    c = await cases(d)
    heat, gas = c["heat"], c["gas"]
    before = state(d.db_path)
    async with await browser(await sign_in_link(d, HEAT_SUPERVISOR)) as staff:
        status, page = await get(staff, f"{base}/web/case/{format_tracking_number(heat)}")
        assert status == 200
        token = csrf_of(page)
        answers = []
        for into in (gas, c["heat_closed"], c["missing"]):
            status, page = await post(
                staff,
                f"{base}/web/case/{heat}/merge",
                {"csrf": token, "into": format_tracking_number(into)},
            )
            found = FLASH.search(page)
            assert found, page
            assert found.group(1) == refused(heat, into)
            answers.append((status, shape(found.group(1), heat, into)))
        assert answers == [(409, shape(refused(heat, gas), heat, gas))] * 3
        # Another department's case into theirs: refused as opening that case is.
        opened, _ = await get(staff, f"{base}/web/case/{format_tracking_number(gas)}")
        status, _ = await post(
            staff,
            f"{base}/web/case/{gas}/merge",
            {"csrf": token, "into": format_tracking_number(heat)},
        )
        assert status == opened == 403
    assert state(d.db_path) == before
    assert [row[2:] for row in denials(d.db_path)] == [(gas, "department")] * 2
