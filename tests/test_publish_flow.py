"""Publishing end to end: the citizen's consent in the chat (the summary's toggle, then "My
requests"), staff publishing an answered case from the dashboard with its personal data taken
out, Open311 showing it to anyone, and each way it leaves every public surface: Unpublish on
the dashboard, and the citizen withdrawing the consent in the chat. A case whose citizen did
not agree has no Publish form and is never listed. Run with -s to read the chat in English and
Chinese."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from bot.sandbox import Sandbox
from storage.lifecycle import accept_case, submit_reply
from storage.tracking import format_tracking_number
from tests.databases import Database
from tests.duplicates_desk import to_summary
from tests.following import Desk
from tests.harness import query, webhook_bot, webhook_settings
from tests.intake_desk import Citizen, buttons
from tests.staff_desk import ADMIN, HANDLER, add_team
from tests.web_desk import browser, csrf_of, get, post, sign_in_link

SECRET = "publish-flow-secret"
ALICE, BOB = 7_731_104_001, 7_731_104_002
NAME, PHONE, PLACE = "王小明", "139 4517 2863", "幸福小区3栋2单元502室"
ALICE_SAYS = (
    f"我是{NAME}，电话{PHONE}，住{PLACE}。物业强制要求先交清供暖费才给开阀，不交就不供热。"
)
BOB_SAYS = "供暖费发票一直没有开出来，去营业厅也说系统故障，什么时候能补开？"
ANSWER = "经核实，物业不得以未交费为由停止供热，已责令其今日开阀。"
PUBLIC_TITLE = "供暖费：物业要求先交费才开阀"
PUBLIC_TEXT = (
    "居民反映物业要求先交清供暖费才给开阀。经核实，物业不得以未交费为由停止供热，已责令开阀。"
)
PHOTO = "AgADpublishFlowPhoto1"


@pytest.fixture
async def web_desk(sandbox: Sandbox, db_path: Database) -> AsyncIterator[tuple[Desk, str]]:
    settings = webhook_settings(
        sandbox,
        db_path,
        SECRET,
        MINSHENG_ADMIN_IDS=str(ADMIN),
        MINSHENG_FLOOD_MESSAGES="10000",
        MINSHENG_OPEN311_READS_PER_MINUTE="1000",
    )
    async with webhook_bot(settings, sandbox, db_path) as runtime:
        yield Desk(sandbox, runtime, db_path), f"http://{settings.webhook_listen}"


def show(who: str, messages: list[dict[str, Any]]) -> None:
    """The chat as the citizen reads it (pytest -s)."""
    for message in messages:
        print(f"  bot → {who}: {message.get('text')!r}")
        for label, data in buttons(message):
            print(f"      [{label}] ({data})")


def consent(db_path: Database, citizen: int) -> list[tuple[str, int, object]]:
    return query(
        db_path,
        "SELECT tracking, publish_consent, published_at FROM service_case WHERE citizen_id = ?",
        (citizen,),
    )


def label_of(c: Citizen, data: str) -> str:
    return next(label for label, d in buttons(c.button_message(data)) if d == data)


async def file_with_consent(c: Citizen, text: str, *, agree: bool) -> str:
    """A request through the chat; the summary's toggle pressed when `agree`; its number."""
    await to_summary(c, text)
    assert label_of(c, "in:pub") == c.t.gettext("Publish without my name: No")  # the default
    if agree:
        before = buttons(c.button_message("in:pub"))
        pressed = await c.press("in:pub")
        assert pressed == []  # the buttons change in place, nothing new is sent
        assert label_of(c, "in:pub") == c.t.gettext("Publish without my name: Yes")
        after = buttons(c.button_message("in:pub"))
        # Drawn again from the draft (the pressed keyboard never reaches the handler): every
        # other button as it was, in its place.
        assert [d for _, d in after] == [d for _, d in before]
        assert [b for b in after if b[1] != "in:pub"] == [b for b in before if b[1] != "in:pub"]
        assert (c.draft() or ("", {}))[1]["publish"] is True
    show("citizen", c.sandbox.messages(c.id)[-2:])
    print(f"  toast: {c.last_answer.get('text')!r}" if agree else "")
    done = await c.press("in:submit")
    if any(data == "in:file" for message in done for _, data in buttons(message)):
        done = await c.press("in:file")  # offered a similar request to join: file it anyway
    show("citizen", done)
    rows = consent(c.db, c.id)
    [(tracking, agreed, _)] = [r for r in rows if format_tracking_number(r[0]) in done[0]["text"]]
    assert agreed == int(agree)
    return tracking


async def open_details(c: Citizen, tracking: str) -> dict[str, Any]:
    """My requests → the request: its details (the message with the consent button)."""
    show("citizen", await c.say(c.t.gettext("My requests")))
    [details] = await c.press(f"case:{tracking}")
    show("citizen", [details])
    return details


@pytest.mark.parametrize("language", ["en", "zh_Hans"])
async def test_consent_in_the_chat_and_under_my_requests(
    web_desk: tuple[Desk, str], language: str
) -> None:
    """No by default; the toggle says Yes and the case is saved with the consent; under My
    requests the citizen withdraws it and gives it again, each recorded as an event."""
    d, _ = web_desk
    c = Citizen(d.sandbox, d.db_path, ALICE, language)
    t = c.t
    print(f"\n--- {language}: consent at the summary")
    tracking = await file_with_consent(c, ALICE_SAYS, agree=True)
    print(f"--- {language}: My requests, withdraw, allow again")
    details = await open_details(c, tracking)
    assert t.gettext(
        "Publication: you agreed that staff may publish this request and its answer "
        "without your name."
    ) in str(details["text"])
    assert (t.gettext("Withdraw my consent to publish"), f"pub:n:{tracking}") in buttons(details)
    assert await c.press(f"pub:n:{tracking}") == []  # the details are redrawn in place
    print(f"  toast: {c.last_answer.get('text')!r}")
    edited = c.button_message(f"pub:y:{tracking}")
    show("citizen", [edited])
    assert edited["message_id"] == details["message_id"]
    assert t.gettext("Publication: private. You have not agreed to publish this request.") in (
        str(edited["text"])
    )
    assert consent(d.db_path, ALICE)[0][1] == 0
    await c.press(f"pub:y:{tracking}")
    print(f"  toast: {c.last_answer.get('text')!r}")
    assert consent(d.db_path, ALICE)[0][1] == 1
    # Someone else's number in the button's data: the same "not found", nothing changes.
    other = Citizen(d.sandbox, d.db_path, BOB, language)
    d.sandbox.press_button(BOB, BOB, 1, f"pub:n:{tracking}", force=True)
    await other.settle()
    assert consent(d.db_path, ALICE)[0][1] == 1
    kinds = query(
        d.db_path,
        "SELECT e.kind FROM case_event e JOIN service_case c ON c.id = e.case_id"
        " WHERE c.tracking = ? AND e.kind LIKE 'consent%' ORDER BY e.id",
        (tracking,),
    )
    assert kinds == [("consent_withdrawn",), ("consent_given",)]


async def answer(d: Desk, tracking: str) -> None:
    now, zone = d.runtime.services.clock.now(), d.runtime.services.settings.zone
    await accept_case(tracking, "heating-company", by=ADMIN, now=now, zone=zone)
    await submit_reply(tracking, ANSWER, by=ADMIN, now=now)


async def open311(base: str, path: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as stranger:
        return await get(stranger, f"{base}/open311/v2/{path}")


async def listed(base: str) -> list[str]:
    status, body = await open311(base, "requests.json?start_date=2000-01-01T00:00:00Z")
    assert status == 200, body
    return [request["service_request_id"] for request in json.loads(body)]


async def test_publish_unpublish_and_withdraw(web_desk: tuple[Desk, str]) -> None:
    """Alice agreed (under My requests), Bob did not (at the summary); both are answered.
    Bob's case has no Publish form and never shows. Alice's draft highlights her phone number
    and address; publishing is refused until the phone number is gone, then Open311 shows the
    staff's title and text (none of hers), with the ticked photo kept for the board. Unpublish
    takes it off (audited); published again, Alice's withdrawal in the chat takes it off at
    once."""
    d, base = web_desk
    await add_team(d)
    d.sandbox.world.store_file("photo", b"\xff\xd8publish-flow-photo", file_id=PHOTO)
    alice = Citizen(d.sandbox, d.db_path, ALICE, "en")
    bob = Citizen(d.sandbox, d.db_path, BOB, "en")
    # Alice's request has a photo; she agrees to publish it later, under My requests.
    mine = (await d.file_case(ALICE, text=ALICE_SAYS, photos=(PHOTO,))).tracking
    await open_details(alice, mine)
    await alice.press(f"pub:y:{mine}")
    theirs = await file_with_consent(bob, BOB_SAYS, agree=False)
    await answer(d, mine)
    await answer(d, theirs)
    number, bobs = format_tracking_number(mine), format_tracking_number(theirs)
    async with await browser(await sign_in_link(d, HANDLER)) as handler:
        _, page = await get(handler, f"{base}/web/case/{bobs}")
        assert 'name="public_text"' not in page
        assert "The citizen did not agree to publish this request" in page
        status, _ = await post(
            handler,
            f"{base}/web/publication/{bobs}",
            {"csrf": csrf_of(page), "public_title": "t", "public_text": "t", "do": "publish"},
        )
        assert status == 409
        _, page = await get(handler, f"{base}/web/case/{number}")
        token = csrf_of(page)
        assert "<mark>139 4517 2863</mark>" in page
        assert "must be removed before publishing" in page
        assert "<mark>幸福小区</mark>" in page or "幸福小区</mark>" in page
        assert f'src="/web/case/{number}/photo/0"' in page  # a thumbnail to tick
        # Alice wrote in Chinese: the drafted title is Chinese throughout, for an English reader.
        assert f'value="供暖费缴纳与计费：我是{NAME}' in page
        draft = re.search(r'name="public_text"[^>]*>([^<]*)</textarea>', page)
        assert draft is not None
        form = {"csrf": token, "public_title": PUBLIC_TITLE, "do": "publish", "photo": "0"}
        status, _ = await post(
            handler, f"{base}/web/publication/{number}", {**form, "public_text": draft.group(1)}
        )
        assert status == 422
        assert number not in await listed(base)
        status, _ = await post(
            handler, f"{base}/web/publication/{number}", {**form, "public_text": PUBLIC_TEXT}
        )
        assert status == 200
        assert query(
            d.db_path, "SELECT public_photos FROM service_case WHERE tracking = ?", (mine,)
        ) == [(json.dumps([PHOTO]),)]
        assert await listed(base) == [number]
        status, body = await open311(base, f"requests/{number}.json")
        assert status == 200
        [shown] = json.loads(body)
        assert shown["description"] == f"{PUBLIC_TITLE}\n\n{PUBLIC_TEXT}"
        for private in (NAME, "13945172863", "4517", PLACE, "幸福小区", "3栋"):
            assert private not in body
        unpublish = f"{base}/web/publication/{number}/unpublish"
        status, _ = await post(handler, unpublish, {"csrf": token, "confirm": "yes"})
        assert status == 200
        assert await listed(base) == []
        assert (await open311(base, f"requests/{number}.json"))[0] == 404
        status, _ = await post(
            handler, f"{base}/web/publication/{number}", {**form, "public_text": PUBLIC_TEXT}
        )
        assert await listed(base) == [number]
    details = await open_details(alice, mine)
    assert "Publication: published without your name" in str(details["text"])
    await alice.press(f"pub:n:{mine}")
    assert alice.last_answer.get("text") == "Your request was taken off the public board."
    assert await listed(base) == []
    assert (await open311(base, f"requests/{number}.json"))[0] == 404
    assert theirs not in json.dumps(await listed(base))
    events = query(
        d.db_path,
        "SELECT e.kind, e.actor, e.actor_id FROM case_event e JOIN service_case c"
        " ON c.id = e.case_id WHERE c.tracking = ? AND e.kind LIKE '%publish%' ORDER BY e.id",
        (mine,),
    )
    assert events == [
        ("published", "staff", HANDLER),
        ("unpublished", "staff", HANDLER),
        ("published", "staff", HANDLER),
        ("unpublished", "citizen", ALICE),
    ]
