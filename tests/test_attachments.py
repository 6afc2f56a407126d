"""Voice, video and documents end to end: sent in the intake conversation and as an addition,
refused politely past their limits, passed to the staff chat by file_id, and played on the
dashboard's case page through its own route (never Telegram's URL, which holds the token)."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from bot.sandbox import Sandbox
from storage.tracking import format_tracking_number
from tests.databases import Database
from tests.following import Desk
from tests.harness import query, webhook_bot, webhook_settings
from tests.intake_desk import Citizen, fill_to_description
from tests.staff_desk import ADMIN, SUPERVISOR, add_team
from tests.web_desk import OTHER, SECRET, browser, get, sign_in_link

VOICE = b"OggS\x00\x02voice-of-a-neighbour"
VIDEO = b"\x00\x00\x00\x18ftypmp42noise-at-night"
PDF = b"%PDF-1.4\n% the heating company's notice\n"
FILER = 72_010


@pytest.fixture
async def web_desk(sandbox: Sandbox, db_path: Database) -> AsyncIterator[tuple[Desk, str]]:
    settings = webhook_settings(
        sandbox,
        db_path,
        SECRET,
        MINSHENG_ADMIN_IDS=str(ADMIN),
        MINSHENG_FLOOD_MESSAGES="10000",
    )
    async with webhook_bot(settings, sandbox, db_path) as runtime:
        yield Desk(sandbox, runtime, db_path), f"http://{settings.webhook_listen}"


def _file(data: bytes, **spec: Any) -> dict[str, Any]:
    return {"data_base64": base64.b64encode(data).decode(), **spec}


async def _file_a_request(c: Citizen) -> list[str]:
    """A request with a voice message, a video and a PDF, and the refusals on the way."""
    await fill_to_description(c, "complaint", "heating", "heating.fees")
    await c.say("The heating bill doubled this winter without any explanation.")
    answers = await c.send(voice=_file(VOICE, duration=42))
    answers += await c.send(voice=_file(VOICE, duration=301))  # over five minutes
    answers += await c.send(video=_file(VIDEO, file_size=21 * 1024 * 1024))  # over 20 MB
    answers += await c.send(video=_file(VIDEO, duration=7))
    answers += await c.send(document=_file(b"PK\x03\x04", mime_type="application/zip"))
    answers += await c.send(
        document=_file(PDF, mime_type="application/pdf", file_name="notice.pdf")
    )
    await c.press("in:done")
    await c.say(c.t.gettext("Skip"))
    await c.say(c.t.gettext("Stay anonymous"))
    await c.press("in:submit")
    return [m["text"] for m in answers]


async def _add_button(c: Citizen, tracking: str) -> list[dict[str, Any]]:
    """Add information, as pressed under the citizen's view of the case."""
    last = c.sandbox.messages(c.id)[-1]["message_id"]
    return await c.press(f"add:{tracking}", message_id=last)


def _case_files(db_path: Database) -> tuple[str, list[dict[str, Any]]]:
    rows = query(db_path, "SELECT tracking, attachments FROM service_case")
    tracking, stored = rows[-1]
    return tracking, stored if isinstance(stored, list) else json.loads(stored)


async def test_files_reach_the_staff_chat_and_play_on_the_dashboard(
    web_desk: tuple[Desk, str],
) -> None:
    """A citizen sends a voice message, a video and a PDF at the photos step; one voice message
    too long, one video too large and a ZIP file are refused, each saying why. Staff receive
    the three by file_id (sendVoice, sendVideo, sendDocument); the case page plays voice and
    video from the dashboard's own route, which gives the bytes with their type to staff who
    may see the case and nothing to anyone else; Telegram's token is nowhere in the page."""
    d, base = web_desk
    await add_team(d)
    c = Citizen(d.sandbox, d.db_path, FILER, "en")
    answers = await _file_a_request(c)
    assert answers == [
        "File 1 of 5 received. Send more or press Done.",
        "Sorry, this voice message is longer than 5 minutes, so I did not keep it. Please send "
        "a shorter one (several short ones are fine), or type the main points.",
        "Sorry, this file is larger than 20 MB, so I did not keep it. Please send a shorter "
        "video or a smaller file.",
        "File 2 of 5 received. Send more or press Done.",
        "Sorry, I can take documents only as PDF files or pictures (JPEG, PNG or WebP), so I "
        "did not keep this one. A photo of the paper is fine too.",
        "File 3 of 5 received. Send more or press Done.",
    ]
    tracking, stored = _case_files(d.db_path)
    assert [(f["kind"], f.get("duration")) for f in stored] == [
        ("voice", 42),
        ("video", 7),
        ("document", None),
    ]
    number = format_tracking_number(tracking)
    staff = d.sandbox.messages(d.staff)
    sent = {m["method"]: m for m in staff if m["method"] in ("sendVoice", "sendVideo")}
    sent |= {m["method"]: m for m in staff if m["method"] == "sendDocument"}
    assert sent["sendVoice"]["voice"] == stored[0]["file_id"]
    assert sent["sendVoice"]["caption"] == f"Request {number}: Voice message, 0:42"
    assert sent["sendVideo"]["video"] == stored[1]["file_id"]
    assert sent["sendDocument"]["document"] == stored[2]["file_id"]
    assert sent["sendDocument"]["caption"] == f"Request {number}: Document: notice.pdf"

    async with await browser(await sign_in_link(d, SUPERVISOR)) as supervisor:
        status, page = await get(supervisor, f"{base}/web/case/{number}")
        assert status == 200
        assert f'<audio controls preload="metadata" src="/web/case/{number}/file/0"' in page
        assert f'<video controls preload="metadata" src="/web/case/{number}/file/1"' in page
        assert f'<a href="/web/case/{number}/file/2">Open the file</a>' in page
        assert "Voice message, 0:42" in page
        assert d.sandbox.config.token not in page
        assert "/file/bot" not in page
        for index, body, kind in ((0, VOICE, "audio/ogg"), (1, VIDEO, "video/mp4")):
            async with supervisor.get(f"{base}/web/case/{number}/file/{index}") as answer:
                assert answer.status == 200
                assert answer.headers["Content-Type"] == kind
                assert await answer.read() == body
        async with supervisor.get(f"{base}/web/case/{number}/file/2") as answer:
            assert answer.headers["Content-Type"] == "application/pdf"
            assert answer.headers["Content-Disposition"] == 'attachment; filename="file-3.pdf"'
            assert await answer.read() == PDF
        status, _ = await get(supervisor, f"{base}/web/case/{number}/file/3")
        assert status == 404
    added = await d.say(ADMIN, f"/staff add {OTHER} handler gas-company", 2)
    assert "gas-company" in added["text"]
    async with await browser(await sign_in_link(d, OTHER)) as other:
        status, _ = await get(other, f"{base}/web/case/{number}/file/0")
        assert status == 404  # another department's case: as if it did not exist
    async with aiohttp.ClientSession() as stranger:
        status, _ = await get(stranger, f"{base}/web/case/{number}/file/0")
        assert status == 401


async def test_an_addition_brings_a_voice_message_in_chinese(web_desk: tuple[Desk, str]) -> None:
    """A video sent as the description is answered with "words first, files next" in the
    citizen's language; a voice message over five minutes is refused at the photos step.
    After filing, the citizen adds a voice message with the Add information button; staff are
    told and receive it by file_id, the case lists it. Another over five minutes, added the
    same way, is refused and kept nowhere."""
    d, _ = web_desk
    c = Citizen(d.sandbox, d.db_path, FILER + 1, "zh_Hans")
    await fill_to_description(c, "complaint", "heating", "heating.fees")
    early = await c.send(video=_file(VIDEO, duration=7), caption="楼下夜里很吵，视频在这里。")
    assert [m["text"] for m in early] == [
        "请先用文字简单描述一下问题；下一步就可以发送语音、视频和文件。"
    ]
    await c.say("今年冬天暖气费翻了一倍，没有任何解释。")
    answers = await c.send(voice=_file(VOICE, duration=400))
    assert [m["text"] for m in answers] == [
        "抱歉，这条语音超过 5 分钟，没有保存。请发送短一些的语音（可以分几条发送），"
        "或用文字写下要点。"
    ]
    await c.press("in:skip")
    await c.say(c.t.gettext("Skip"))
    await c.say(c.t.gettext("Stay anonymous"))
    await c.press("in:submit")
    tracking, stored = _case_files(d.db_path)
    assert stored == []
    number = format_tracking_number(tracking)
    prompt = await _add_button(c, tracking)
    assert "语音" in prompt[-1]["text"]
    done = await c.send(voice=_file(VOICE, duration=65))
    assert done[-1]["text"] == f"已补充到诉求 {number}。承办部门会在您的诉求中看到。"
    await _add_button(c, tracking)
    refused = await c.send(voice=_file(VOICE, duration=301))
    assert refused[-1]["text"].startswith("抱歉，这条语音超过 5 分钟")
    _, stored = _case_files(d.db_path)
    assert [(f["kind"], f["duration"]) for f in stored] == [("voice", 65)]
    staff = d.sandbox.messages(d.staff)
    told = f"The citizen added to request {number}:\n\n(1 file, sent below)"
    assert [m["text"] for m in staff if (m["text"] or "").startswith("The citizen")] == [told]
    voices = [m for m in staff if m["method"] == "sendVoice"]
    assert [m["voice"] for m in voices] == [stored[0]["file_id"]]
    assert voices[0]["caption"] == f"Request {number}: Voice message, 1:05"
