"""The privacy walk (issue 10), end to end: `minsheng webhook` as a child process against the
sandbox, on a real SQLite file, with its real log on stderr.

Citizen A files a request in the chat with a name, two phone numbers, a street address, a
shared location and a photo, and agrees at the summary that it may be published without her
name; a staff handler answers with a name and a phone number of their own, and publishes the
case with a text staff approved (the draft, holding A's words, is refused for its phone
numbers). Then everyone else looks wherever they can reach: Open311 and the public board
without a key, citizen B (offered A's case as a duplicate, joining it, told of its moves), a
handler of another department in the bot and on the dashboard, the CSV export, the bot's log
and /metrics. Nothing planted may show; Open311 and the board list the published case with the
approved text only. After A's /forget, the case is listed nowhere, and no text in any table of
the database may hold what A wrote.

Every hit on every surface is collected and reported at once, so one run shows all that leaks.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import pytest

from bot.sandbox import Sandbox
from storage.models import CaseStatus
from storage.queue import QueueFilter
from storage.tracking import format_tracking_number
from tests.databases import Database
from tests.duplicates_desk import to_summary
from tests.following import Desk
from tests.harness import eventually, query
from tests.intake_desk import Citizen, buttons, category_ids
from tests.open311_desk import operator
from tests.privacy_surfaces import (
    Findings,
    Needle,
    button_answers,
    chat_content,
    coordinate,
    literal,
    metrics,
    phone,
    search_database,
    webhook_process,
)
from tests.staff_desk import ADMIN, HANDLER, SUPERVISOR, add_team, answer_of
from tests.staff_talk import staff_says
from tests.web_desk import browser, sign_in_link

A_ID, B_ID, OTHER = 7_731_009_413, 7_731_009_527, 72_005  # OTHER: gas company's handler
NAME, PHONE, STREET = "Yevdokiya Zhelobova", "139-4517-2863", "88 Qiaolinwan Street"
CONTACT = "+86 138 0451 9372"
A_POINT = {"latitude": 45.751283, "longitude": 126.630947}
B_POINT = {"latitude": 45.751912, "longitude": 126.631634}  # 88 m from A
A_TEXT = f"{NAME}, {PHONE}, {STREET}: 幸福小区物业强制要求先交清供暖费才给开阀，不交就不供热。"
B_TEXT = "幸福小区物业说必须一次交清今年供暖费才给开阀门供热，这合理吗？"
A_ANSWER = f"Flat 1702 of {STREET}; ask for {NAME} on {PHONE} after six."
A_ADDITION = f"{NAME} again: the valve at {STREET} is still shut, ring {PHONE}."
STAFF_ANSWER = (
    "Engineer Bartholomew Quigley opens the valve tomorrow morning; reach him on "
    "186-0099-4321 if nobody is at home."
)
PHOTO_ID, PHOTO_MARKER = "AgADqzxValvePhoto7731", "QZX-PHOTO-OF-THE-SHUT-VALVE"
SECRET = "privacy-walk-secret"
# What staff approve for publication of A's case: nothing of A, nor of the engineer.
PUBLIC_TITLE = "Heating fees: the valve stays shut until the fees are paid"
PUBLIC_TEXT = (
    "A resident reports that the property company keeps the heating valve shut until this "
    "year's fees are paid. The heating company opens the valve; heating may not be withheld."
)
PUBLIC_NOTE = "The valve is opened."

CITIZEN_A = [
    literal("A's name", "Zhelobova"),
    literal("A's first name", "Yevdokiya"),
    phone("A's phone", "13945172863"),
    phone("A's contact phone", "13804519372"),
    literal("A's street address", "Qiaolinwan"),
    coordinate("A's latitude", 45, ("7512", "7513")),
    coordinate("A's longitude", 126, ("6309",)),
    literal("A's photo", PHOTO_ID),
    literal("A's photo bytes", PHOTO_MARKER),
]
STAFF = [
    literal("the staff answer's name", "Quigley"),
    literal("the staff answer's first name", "Bartholomew"),
    phone("the staff answer's phone", "18600994321"),
]
IDENTITY = [literal("A's Telegram id", str(A_ID))]
# Two offers from two points would place A: B may read "nearby", never metres (B reads English).
DISTANCE = Needle("a distance to A's place", r"\b\d+(?:[.,]\d+)?\s?k?m\b(?!\s*ago)")
PLANTED = CITIZEN_A + STAFF
# Words of A and of the staff answer that a search of the public board must not find A's case by.
PRIVATE_WORDS = ("Zhelobova", "Qiaolinwan", "13945172863", "Quigley")


def numbered(tracking: str) -> list[Needle]:
    """A's case number: it must not be listed where the case is not public or not theirs."""
    return [
        literal("A's case number", format_tracking_number(tracking)),
        literal("A's case number", tracking),
    ]


def status(db_path: Database, tracking: str) -> str:
    return str(
        query(db_path, "SELECT status FROM service_case WHERE tracking = ?", (tracking,))[0][0]
    )


async def reach(db_path: Database, tracking: str, wanted: str) -> None:
    await eventually(lambda: status(db_path, tracking) == wanted, 20, what=f"status {wanted}")


async def told(sandbox: Sandbox, user_id: int, count: int, findings: Findings, move: str) -> int:
    """Wait for a follower's notice of a move; a missing notice is reported, not fatal."""
    try:
        await sandbox.wait_for_messages(user_id, count + 1, timeout=20)
    except TimeoutError:
        findings.problem(f"citizen B, who follows A's case, was not told that it was {move}")
    return len(sandbox.messages(user_id))


async def file_as_a(a: Citizen) -> None:
    """A's request through the conversation: text, a photo, a shared place, the phone card."""
    ids = category_ids(a.db)
    a.sandbox.world.store_file("photo", f"\xff\xd8{PHOTO_MARKER}".encode(), file_id=PHOTO_ID)
    await a.say(a.t.gettext("New request"))
    await a.press("in:k:complaint")
    await a.press(f"in:d:{ids['heating']}")
    await a.press(f"in:c:{ids['heating.fees']}")
    await a.say(A_TEXT)
    await a.send(photo={"file_id": PHOTO_ID})
    await a.press("in:done")
    await a.send(location=A_POINT)
    await a.send(contact={"phone_number": CONTACT, "user_id": A_ID})
    assert a.step() == "summary", a.step()
    await a.press("in:pub")  # A agrees that her request may be published without her name
    await a.press("in:submit")


async def b_joins(b: Citizen) -> None:
    """B writes much the same from 88 m away, is offered A's case instead, and joins it."""
    await to_summary(b, B_TEXT, B_POINT)
    offer = await b.press("in:submit")
    joins = [data for m in offer for _, data in buttons(m) if data.startswith("in:j:")]
    assert joins, f"B was not offered A's case: {offer}"
    await b.press(joins[0])
    follows = "SELECT count(*) FROM case_follower WHERE citizen_id = ?"
    assert query(b.db, follows, (B_ID,)) == [(1,)], "B does not follow A's case"


async def other_in_the_bot(d: Desk, a: Citizen, tracking: str, findings: Findings) -> None:
    """A handler of another department asks for A's case in every way the bot offers."""
    number, sandbox = format_tracking_number(tracking), d.sandbox
    for command in (f"/case {number}", f"/case {tracking}"):
        before = len(sandbox.messages(OTHER))
        await staff_says(d, OTHER, command)
        await a.settle()  # every message the command brings, photos included
        findings.search(
            f"bot {command} (handler of another department)",
            chat_content(sandbox, OTHER, before),
            PLANTED + IDENTITY,
        )
    for which in QueueFilter:
        before = len(sandbox.messages(OTHER))
        await staff_says(d, OTHER, f"/queue {which}")
        await a.settle()
        findings.search(
            f"bot /queue {which} (handler of another department)",
            chat_content(sandbox, OTHER, before),
            PLANTED + IDENTITY + numbered(tracking),
        )
    before = len(sandbox.messages(OTHER))
    pressed = sandbox.press_button(OTHER, OTHER, 1, f"st:det:{tracking}", force=True)
    await answer_of(sandbox, pressed)
    card = next(
        m
        for m in sandbox.messages(d.staff)
        if f"st:det:{tracking}" in [data for _, data in buttons(m)]
    )
    in_group = len(sandbox.messages(d.staff))
    await answer_of(
        sandbox, sandbox.press_button(OTHER, d.staff, card["message_id"], f"st:det:{tracking}")
    )
    await a.settle()
    seen = (
        chat_content(sandbox, OTHER, before)
        + button_answers(sandbox, OTHER)
        + chat_content(sandbox, d.staff, in_group)
    )
    findings.search("bot Details button (handler of another department)", seen, PLANTED + IDENTITY)


async def other_on_the_dashboard(d: Desk, base: str, tracking: str, findings: Findings) -> None:
    number = format_tracking_number(tracking)
    async with await browser(await sign_in_link(d, OTHER)) as other:
        listings = [
            "/web/",
            "/web/?q=Yevdokiya",
            "/web/?department=heating-company",
            *(f"/web/?status={s.value}" for s in CaseStatus),
        ]
        for path in listings:
            async with other.get(base + path) as page:
                # The search form shows the query itself: "Yevdokiya" is looked for as the rest.
                shown = (await page.text()).replace("Yevdokiya", "")
            findings.search(
                f"dashboard {path} (handler of another department)",
                shown,
                PLANTED + IDENTITY + numbered(tracking),
            )
        for path in (
            f"/web/case/{number}",
            f"/web/case/{tracking}",
            f"/web/case/{number}/photo/0",
        ):
            async with other.get(base + path) as page:
                got, body = page.status, await page.read()
            if got < 400:
                findings.problem(f"dashboard {path}: a handler of another department got {got}")
            findings.search(
                f"dashboard {path} (handler of another department)", body, PLANTED + IDENTITY
            )


async def open311_without_a_key(
    base: str, tracking: str, findings: Findings, when: str, *, published: bool = False
) -> None:
    """Every unauthenticated read, the list walked back a year by end_date and start_date.

    Once staff published A's case it is listed, with the public texts staff approved: then it
    must be there (or the walk read nothing of it), and still nothing planted may show."""
    number, now = format_tracking_number(tracking), datetime.now(UTC)

    def stamp(moment: datetime) -> str:
        return f"{moment:%Y-%m-%dT%H:%M:%SZ}"

    reads = [
        "/requests.json",
        "/requests.json?status=open",
        "/requests.json?status=closed",
        "/requests.json?status=open,closed",
        "/requests.json?service_code=heating.fees",
        f"/requests.json?service_request_id={number}",
        f"/requests/{number}.json",
        f"/requests/{tracking}.json",
        "/services.json",
        "/services/heating.fees.json",
        "/discovery.json",
    ]
    # Not the number alone: a refusal may repeat the number it was asked for.
    listed = Needle(
        "A's case, listed", rf'(?:"service_request_id"\s*:\s*"|<service_request_id>){number}'
    )
    named = {path: path for path in reads}
    for weeks in range(0, 52, 13):
        end = now + timedelta(days=1) - timedelta(weeks=weeks)
        back = f"{weeks} weeks back"
        named[f"/requests.json?{urlencode({'end_date': stamp(end)})}"] = f"end_date {back}"
        window = {"start_date": stamp(end - timedelta(weeks=13)), "end_date": stamp(end)}
        named[f"/requests.json?{urlencode(window)}"] = f"start_date and end_date {back}"
    # Each read in XML too, the spec's primary format.
    named |= {path.replace(".json", ".xml", 1): f"{name}, XML" for path, name in named.items()}
    async with aiohttp.ClientSession() as http:
        for path, name in named.items():
            async with http.get(f"{base}/open311/v2{path}") as answer:
                body = await answer.read()
            if answer.status >= 500 or answer.status == 429:
                findings.problem(f"Open311 GET {name} answered {answer.status}, unsearched")
            needles = [*PLANTED, *IDENTITY, *([] if published else [listed])]
            findings.search(f"Open311 GET {name} (no key, {when})", body, needles)
            if published and path == f"/requests/{number}.json" and answer.status != 200:
                findings.problem(f"Open311 GET {name} ({when}): the published case is missing")


async def board_without_a_key(
    base: str, tracking: str, findings: Findings, when: str, *, published: bool = False
) -> None:
    """The public board: its list, searches (for A's words, the staff answer's and the approved
    text's), the case's page, its photo and the feed. Once published, A's case shows with the
    approved texts; before and after, its number answers 404 like any unknown one."""
    number = format_tracking_number(tracking)
    searches = [*PRIVATE_WORDS, "幸福小区", "供暖费", "valve"]
    reads: dict[tuple[str, tuple[str, ...]], str] = {
        ("/board/", ()): "the list",
        ("/board/feed.xml", ()): "the feed",
        (f"/board/{number}", ()): "A's case page",
        (f"/board/{tracking}", ()): "A's case page (undashed)",
        (f"/board/{number}/photo/0", ()): "A's photo",
    }
    for words in searches:
        reads[(f"/board/?{urlencode({'q': words})}", (words,))] = f"a search for {words}"
        query_zh = urlencode({"q": words, "lang": "zh_Hans"})
        reads[(f"/board/?{query_zh}", (words,))] = f"a search for {words}, in Chinese"
    async with aiohttp.ClientSession() as http:
        for (path, echoed), name in reads.items():
            async with http.get(f"{base}{path}") as answer:
                body = (await answer.read()).decode()
            if answer.status >= 500 or answer.status == 429:
                findings.problem(f"board GET {name} answered {answer.status}, unsearched")
            if answer.status == 404:  # the refusal's links repeat the path it was asked for
                echoed = (*echoed, number, tracking)
            for words in echoed:  # the page repeats the search typed: not a leak
                body = body.replace(words, "")
                if words in PRIVATE_WORDS and number in body:  # but finding A's case by it is
                    findings.problem(f"board {name} ({when}) finds A's case by {words}")
            needles = [*PLANTED, *IDENTITY, *([] if published else numbered(tracking))]
            findings.search(f"board {name} (no key, {when})", body, needles)
            if path == f"/board/{number}":
                if published and answer.status != 200:
                    findings.problem(f"board {name} ({when}): the published case is missing")
                if not published and answer.status != 404:
                    findings.problem(f"board {name} ({when}) answered {answer.status}, not 404")
            if published and name == "a search for valve" and number not in body:
                findings.problem(f"board {name} ({when}): the published case was not found")


async def publish_as_handler(d: Desk, base: str, tracking: str, findings: Findings) -> None:
    """The handler publishes A's answered case: the draft (A's words and the staff answer) is
    refused for its phone numbers; the text staff approved, with no photo ticked, is taken."""
    number = format_tracking_number(tracking)
    async with await browser(await sign_in_link(d, HANDLER)) as handler:
        async with handler.get(f"{base}/web/case/{number}") as page:
            shown = await page.text()
        token = re.search(r'name="csrf" value="([0-9a-f]+)"', shown)
        draft = re.search(r'name="public_text"[^>]*>([^<]*)</textarea>', shown)
        if token is None or draft is None or "<mark>" not in shown:
            findings.problem(f"the Publish form with its highlight is missing: {shown[-2000:]}")
            return
        form = {"csrf": token.group(1), "public_title": PUBLIC_TITLE, "do": "publish"}
        sent = {**form, "public_text": html.unescape(draft.group(1))}
        async with handler.post(f"{base}/web/publication/{number}", data=sent) as refused:
            if refused.status != 422:
                findings.problem(f"the draft with A's phone was not refused ({refused.status})")
        approved = {**form, "public_text": PUBLIC_TEXT, "public_note": PUBLIC_NOTE}
        async with handler.post(f"{base}/web/publication/{number}", data=approved) as done:
            if done.status != 200 or "Published on" not in await done.text():
                findings.problem(f"the approved text was not published ({done.status})")


async def export(d: Desk, tracking: str, tmp_path: Path, findings: Findings) -> None:
    """/export in the bot (as an admin) and `minsheng export`, for the days around today."""
    today = datetime.now(UTC).date()
    period = f"{today - timedelta(days=2)}..{today + timedelta(days=2)}"
    before = len(d.sandbox.messages(ADMIN))
    await staff_says(d, ADMIN, f"/export {period}")
    sent = chat_content(d.sandbox, ADMIN, before)
    shown = format_tracking_number(tracking)  # the CSV keeps the dashes (spreadsheets)
    if shown not in sent:  # the file lists A's case by its number, and nothing personal
        findings.problem(f"/export sent no CSV file with A's case: {sent[:300]}")
    findings.search("CSV export (/export in the bot)", sent, PLANTED + IDENTITY)
    out = tmp_path / "export.csv"
    await operator(d.db_path, "export", period, "--out", str(out))
    if shown not in out.read_text("utf-8"):
        findings.problem("`minsheng export` did not list A's case")
    findings.search("CSV export (minsheng export)", out.read_bytes(), PLANTED + IDENTITY)


@pytest.mark.slow
async def test_the_privacy_walk(sandbox: Sandbox, db_path: Database, tmp_path: Path) -> None:
    findings, log = Findings(), tmp_path / "bot.log"
    async with webhook_process(sandbox, db_path, log, SECRET, ADMIN) as (d, public, operations):
        await add_team(d)
        await staff_says(d, ADMIN, f"/staff add {OTHER} handler gas-company")
        a, b = Citizen(sandbox, db_path, A_ID, "en"), Citizen(sandbox, db_path, B_ID, "en")
        await file_as_a(a)
        [(tracking,)] = query(
            db_path, "SELECT tracking FROM service_case WHERE citizen_id = ?", (A_ID,)
        )
        number = format_tracking_number(tracking)
        await b_joins(b)
        seen_by_b = len(sandbox.messages(B_ID))

        # The case moves: accepted, a question answered by A, an addition, the staff answer.
        await staff_says(d, SUPERVISOR, f"/assign {number} heating-company")
        await reach(db_path, tracking, "accepted")
        seen_by_b = await told(sandbox, B_ID, seen_by_b, findings, "accepted")
        await staff_says(d, HANDLER, f"/ask {number} Which flat is it, exactly?")
        await a.settle()
        question = next(
            m for m in reversed(sandbox.messages(A_ID)) if "Which flat" in (m.get("text") or "")
        )
        await a.send(text=A_ANSWER, reply_to_message_id=question["message_id"])
        await reach(db_path, tracking, "in_progress")
        await a.press(f"add:{tracking}", message_id=sandbox.messages(A_ID)[-1]["message_id"])
        await a.say(A_ADDITION)
        await staff_says(d, HANDLER, f"/reply {number} {STAFF_ANSWER}")
        if status(db_path, tracking) != "answered":  # the handler's reply waits for review
            await staff_says(d, SUPERVISOR, f"/approve {number}")
        await reach(db_path, tracking, "answered")
        seen_by_b = await told(sandbox, B_ID, seen_by_b, findings, "answered")
        await a.settle()

        await board_without_a_key(f"http://{public}", tracking, findings, "not yet published")
        # A agreed: the handler publishes the case, with a text that holds nothing of A.
        await publish_as_handler(d, f"http://{public}", tracking, findings)
        # A handler of another department, while the case is open; then it is closed.
        await other_in_the_bot(d, a, tracking, findings)
        await other_on_the_dashboard(d, f"http://{public}", tracking, findings)
        await open311_without_a_key(
            f"http://{public}", tracking, findings, "answered, published", published=True
        )
        await board_without_a_key(
            f"http://{public}", tracking, findings, "answered, published", published=True
        )
        await staff_says(d, SUPERVISOR, f"/close {number}")
        await reach(db_path, tracking, "closed")
        await told(sandbox, B_ID, seen_by_b, findings, "closed")
        await b.say(f"/status {number}")
        await b.say(b.t.gettext("My requests"))
        await a.settle()
        findings.search(
            "citizen B's chat (offer, joining, notices, /status, My requests)",
            chat_content(sandbox, B_ID) + button_answers(sandbox, B_ID),
            [*PLANTED, *IDENTITY, DISTANCE],
        )
        await open311_without_a_key(
            f"http://{public}", tracking, findings, "closed, published", published=True
        )
        await export(d, tracking, tmp_path, findings)
        await metrics((operations, public), findings, [*PLANTED, *IDENTITY])

        # A asks to be forgotten, and confirms with the button the bot sends.
        asked = await a.say("/forget")
        confirm = [
            (m["message_id"], data)
            for m in asked
            for _, data in buttons(m)
            if data.startswith("forget:y")
        ]
        assert confirm, f"/forget offered no confirmation: {asked}"
        await a.press(confirm[0][1], message_id=confirm[0][0])
        erased = "SELECT count(*) FROM service_case WHERE citizen_id = ?"
        await eventually(
            lambda: query(db_path, erased, (A_ID,)) == [(0,)],
            20,
            what="A's case no longer linked to A",
        )
        await a.settle()
        # Forgetting withdraws the consent: the case is no longer listed anywhere.
        await open311_without_a_key(f"http://{public}", tracking, findings, "after /forget")
        await board_without_a_key(f"http://{public}", tracking, findings, "after /forget")

    if len(log.read_bytes()) < 100:
        findings.problem("the bot's log is empty: the surface went unsearched")
    findings.search(
        "the bot's log",
        log.read_bytes(),
        [*PLANTED, literal("the bot token", sandbox.config.token)],
    )
    search_database(findings, db_path, CITIZEN_A, [A_POINT["latitude"], A_POINT["longitude"]])
    assert not findings.hits, findings.report()
