"""Reply templates (答复模板) end to end: the file refused whole, `/reply N t:<code>` filled in
the citizen's language and sent after Send or after an edit, the list of codes, the automatic
first reply at acceptance (once), and a template sent with nothing added marked for review.
The real bot over the sandbox, on a real database."""

from __future__ import annotations

import html
import json
import re
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.sandbox import Sandbox
from bot.texts.cases import when
from storage.catalog import SAMPLE_CATALOG
from storage.citizens import choose_language
from storage.lifecycle import accept_case
from storage.reply_templates import SAMPLE_TEMPLATES, TemplateFileInvalid, load_templates
from storage.routing import send_back
from storage.tracking import format_tracking_number
from tests.databases import Database
from tests.following import OPEN_SENDS, Desk, buttons
from tests.harness import eventually, execute, query, webhook_bot, webhook_settings
from tests.staff_desk import ADMIN, CITIZEN, HANDLER, SUPERVISOR, add_team
from tests.test_cli_commands import minsheng
from tests.web_desk import browser, csrf_of, get, post, sign_in_link

SECRET = "reply-templates-secret"
FIXED_ZH = "已对您所在楼栋的暖气进行排气并调整立管平衡"


@pytest.fixture
async def desk(sandbox: Sandbox, db_path: Database) -> AsyncIterator[Desk]:
    settings = webhook_settings(sandbox, db_path, SECRET, MINSHENG_ADMIN_IDS=str(ADMIN))
    async with webhook_bot(settings, sandbox, db_path) as runtime:
        await load_templates(SAMPLE_TEMPLATES, default_language="en", now=datetime.now(UTC))
        yield Desk(sandbox, runtime, db_path)


async def said(d: Desk, user_id: int, text: str) -> dict[str, Any]:
    return await d.say(user_id, text, len(d.sandbox.messages(user_id)) + 1)


async def accepted_case(
    d: Desk, category: str = "heating.no-heat", language: str = "en"
) -> tuple[str, str]:
    """A case of `category`, of a citizen reading `language`, accepted into the heating
    company: its (canonical, shown) number."""
    case = await d.file_case(CITIZEN, category=category)
    await choose_language(CITIZEN, language)
    zone = d.runtime.services.settings.zone
    await accept_case(case.tracking, "heating-company", by=ADMIN, now=datetime.now(UTC), zone=zone)
    await eventually(lambda: not query(d.db_path, OPEN_SENDS), 10, what="the notices sent")
    return case.tracking, format_tracking_number(case.tracking)


def review_mark(d: Desk, tracking: str) -> Any:
    rows = query(
        d.db_path,
        "SELECT e.payload FROM case_event e JOIN service_case c ON c.id = e.case_id "
        "WHERE c.tracking = ? AND e.kind IN ('reply_submitted', 'answered') ORDER BY e.id",
        (tracking,),
    )
    payload = rows[-1][0]
    return json.loads(payload) if isinstance(payload, str) else payload


async def test_a_bad_file_is_refused_whole(desk: Desk, tmp_path: Path) -> None:
    """An unknown placeholder, an unknown category and a placeholder with a format spec or a
    conversion are named with their lines; nothing of the file is written (the sample stays as
    it was)."""
    before = query(desk.db_path, "SELECT code, version FROM reply_template ORDER BY code")
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[[template]]\ncode = "fine"\noutcome = "answered"\n[template.text]\n'
        'en = "Done: {number}."\n'
        '\n[[template]]\ncode = "typo"\noutcome = "answered"\n[template.text]\n'
        'en = "Answered by {departmant}."\n'
        '\n[[template]]\ncode = "lost"\ncategory = "heating.no-such"\noutcome = "asked"\n'
        '[template.text]\nen = "Where?"\n'
        '\n[[template]]\ncode = "huge"\noutcome = "answered"\n[template.text]\n'
        'en = "Done: {number:>300000000}."\nru = "Готово: {number!r}."\n',
        encoding="utf-8",
    )
    with pytest.raises(TemplateFileInvalid) as refused:
        await load_templates(bad, default_language="en", now=datetime.now(UTC))
    message = str(refused.value)
    assert (
        f"{bad}:7: template 'typo': text.en unknown placeholder(s) {{departmant}} "
        "(known: {number}, {department}, {due}, {category})"
    ) in message
    assert f"{bad}:13: template 'lost': category 'heating.no-such' is not a category" in message
    for lang in ("en", "ru"):  # a format spec or a conversion: a 300 MB text, quotes
        assert (
            f"{bad}:20: template 'huge': text.{lang} has a placeholder with a format or "
            "conversion after its name (such as {number:>10} or {number!r}); write the name "
            "alone, as {number}"
        ) in message
    assert query(desk.db_path, "SELECT code, version FROM reply_template ORDER BY code") == before


async def test_reply_from_a_template_send_and_edit(desk: Desk) -> None:
    """`/reply N t:` lists the codes fitting the case; an unknown code lists them too; a known
    one shows the draft, filled in the citizen's language (zh_Hans), with Send and Edit. Send
    submits it (marked: a template with nothing added); after the reviewer returns it, Edit
    gives the command to copy, and the changed text is sent instead, unmarked."""
    d = desk
    await add_team(d)
    tracking, number = await accepted_case(d, language="zh_Hans")
    listed = await said(d, HANDLER, f"/reply {number} t:")
    print("\n--- /reply t: ---\n" + listed["text"])
    assert listed["text"].startswith(f"Templates for {number}: send /reply {number} t:<code>")
    lines = listed["text"].splitlines()
    assert lines[1].startswith("t:heating.no-heat.fixed · answer · Regarding")
    assert any(line.startswith("t:answered.general · answer") for line in lines)
    assert not any("noise" in line or "asked." in line for line in lines)  # other category, /ask
    unknown = await said(d, HANDLER, f"/reply {number} t:no-such")
    assert unknown["text"].startswith(f"There is no template “no-such” for {number}.\nTemplates")
    denied = await said(d, CITIZEN, f"/reply {number} t:heating.no-heat.fixed")
    assert denied["text"] == "抱歉，您无权进行此操作。"  # the citizen reads Chinese

    draft = await said(d, HANDLER, f"/reply {number} t:heating.no-heat.fixed")
    print("--- draft ---\n" + draft["text"])
    assert draft["text"].startswith(f"Draft reply to {number}\n")
    assert f"关于您的诉求（编号{number}）：市热力集团{FIXED_ZH}" in draft["text"]
    assert "{" not in draft["text"]
    data = f"{tracking}:heating.no-heat.fixed"
    assert buttons(draft) == [("Send", f"rt:r:s:{data}"), ("Edit", f"rt:r:e:{data}")]
    count = len(d.sandbox.messages(HANDLER))
    sent = await d.press(HANDLER, draft, f"rt:r:s:{data}", count + 1)
    assert sent["text"] == f"Your reply to {number} was sent for review."
    mark = review_mark(d, tracking)
    assert mark["perfunctory"] is True
    assert mark["signs"] == ["template:heating.no-heat.fixed"]
    card = (await d.sandbox.wait_for_messages(d.staff, 2, timeout=10))[-1]["text"]
    print("--- review card ---\n" + card)
    assert "⚠ Looks perfunctory: the template “heating.no-heat.fixed” with nothing added" in card
    await said(d, SUPERVISOR, f"/return {number} Say when the engineer came")

    count = len(d.sandbox.messages(HANDLER))
    d.sandbox.press_button(HANDLER, HANDLER, draft["message_id"], f"rt:r:e:{data}")
    edit = (await d.sandbox.wait_for_messages(HANDLER, count + 1, timeout=10))[-1]
    print("--- edit ---\n" + edit["text"])
    assert edit["text"].startswith("Copy the command below, change the text and send it")
    command = edit["text"].split("\n\n", 1)[1]
    assert command.startswith(f"/reply {number} 关于您的诉求")
    changed = command + "\n\n工程师已于周二上门复测，室温21℃。"  # a paragraph of their own
    citizen_count = len(d.sandbox.messages(CITIZEN))
    assert (await said(d, HANDLER, changed))[
        "text"
    ] == f"Your reply to {number} was sent for review."
    mark = review_mark(d, tracking)
    assert mark["perfunctory"] is False
    await said(d, SUPERVISOR, f"/approve {number}")
    told = (await d.sandbox.wait_for_messages(CITIZEN, citizen_count + 1, timeout=10))[-1]
    print("--- the citizen ---\n" + told["text"])
    assert FIXED_ZH in told["text"]
    assert "。\n\n工程师已于周二上门复测" in told["text"]  # the paragraphs kept


async def test_the_automatic_first_reply_once(desk: Desk) -> None:
    """A case of a category with an automatic first reply gets it at acceptance, filled in
    the citizen's language with the due date in the desk's zone, instead of the standard
    line; it does not answer the case. Sent back and accepted again: the standard line."""
    d = desk
    count = len(d.sandbox.messages(CITIZEN))
    tracking, number = await accepted_case(d, language="zh_Hans")
    told = (await d.sandbox.wait_for_messages(CITIZEN, count + 1, timeout=10))[-1]["text"]
    print("\n--- automatic first reply ---\n" + told)
    due = query(d.db_path, "SELECT due_at FROM service_case WHERE tracking = ?", (tracking,))
    status = query(d.db_path, "SELECT status FROM service_case WHERE tracking = ?", (tracking,))
    zone = d.runtime.services.settings.zone
    due_at = datetime.fromisoformat(str(due[0][0]).replace(" ", "T"))
    due_at = due_at if due_at.tzinfo else due_at.replace(tzinfo=UTC)
    assert told == (
        f"您反映的供暖不热问题（编号{number}）已受理，市热力集团将安排人员上门测温，"
        f"预计于{when(due_at, zone, 'zh_Hans')}前答复。请关好门窗，如方便请记录室内温度。"
    )
    assert status[0][0] == "accepted"
    await send_back(tracking, "Not ours", by=ADMIN, now=datetime.now(UTC))
    count = len(d.sandbox.messages(CITIZEN))
    zone = d.runtime.services.settings.zone
    await accept_case(tracking, "heating-company", by=ADMIN, now=datetime.now(UTC), zone=zone)
    again = (await d.sandbox.wait_for_messages(CITIZEN, count + 1, timeout=10))[-1]["text"]
    assert "已受理，暖气公司将安排人员上门测温" not in again
    other = await d.file_case(CITIZEN, category="heating.fees")  # no automatic reply there
    count = len(d.sandbox.messages(CITIZEN))
    await accept_case(
        other.tracking, "heating-company", by=ADMIN, now=datetime.now(UTC), zone=zone
    )
    plain = (await d.sandbox.wait_for_messages(CITIZEN, count + 1, timeout=10))[-1]["text"]
    assert "测温" not in plain


async def test_english_draft_and_a_reply_with_words_added(desk: Desk) -> None:
    """In English: the draft is in the citizen's English; a reply that adds to a template is
    not marked, the bare template typed by hand is."""
    d = desk
    await add_team(d)
    tracking, number = await accepted_case(d)
    draft = await said(d, HANDLER, f"/reply {number} t:heating.no-heat.temperature")
    assert "There is no template" in draft["text"]  # a question: it is not a /reply template
    draft = await said(d, HANDLER, f"/reply {number} t:answered.general")
    print("\n--- English draft ---\n" + draft["text"])
    body = draft["text"].split("\n\n", 1)[1]
    assert body.startswith(f"Regarding your request {number} (No heating or radiators not warm):")
    assert (await said(d, HANDLER, f"/reply {number} {body}"))["text"].endswith("for review.")
    assert review_mark(d, tracking)["signs"] == ["template:answered.general"]
    await said(d, SUPERVISOR, f"/return {number} Say what was done")
    # In the staff chat, a Telegram reply to the draft is the changed text.
    count = len(d.sandbox.messages(d.staff))
    d.sandbox.send_text(HANDLER, f"/reply {number} t:answered.general", chat_id=d.staff)
    group_draft = (await d.sandbox.wait_for_messages(d.staff, count + 1, timeout=10))[-1]
    assert group_draft["text"].startswith(f"Draft reply to {number}\n")
    changed = body + " The radiator valve on the third floor was replaced."
    reply_to = {"reply_to_message_id": group_draft["message_id"]}
    d.sandbox.send_text(HANDLER, changed, chat_id=d.staff, **reply_to)
    told = await d.sandbox.wait_for_messages(d.staff, count + 2, timeout=10)
    assert any(m["text"] == f"Your reply to {number} was sent for review." for m in told)
    mark = review_mark(d, tracking)
    assert mark["perfunctory"] is False
    assert "third floor" in mark["text"]


async def test_the_dashboard_picker_fills_the_reply_box(
    sandbox: Sandbox, db_path: Database
) -> None:
    """The case page offers the templates fitting the case (its category's first, marked ★);
    choosing one (a GET round trip, no script needed) fills the reply box in the citizen's
    language; posting it as it is marks the reply for the reviewer."""
    settings = webhook_settings(sandbox, db_path, SECRET, MINSHENG_ADMIN_IDS=str(ADMIN))
    async with webhook_bot(settings, sandbox, db_path) as runtime:
        await load_templates(SAMPLE_TEMPLATES, default_language="en", now=datetime.now(UTC))
        d, base = Desk(sandbox, runtime, db_path), f"http://{settings.webhook_listen}"
        await add_team(d)
        tracking, number = await accepted_case(d, language="zh_Hans")
        async with await browser(await sign_in_link(d, HANDLER)) as handler:
            status, page = await get(handler, f"{base}/web/case/{number}")
            assert status == 200
            option = re.search(
                r'<option value="heating.no-heat.fixed"[^>]*>([^<]*)</option>', page
            )
            assert option
            # What it says, in the staff member's language, the code after it.
            assert option.group(1) == (
                "City Heating Company bled the radiators and… — answer · heating.no-heat.fixed ★"
            )
            general = re.search(r'<option value="answered.general"[^>]*>([^<]*)</option>', page)
            assert general
            assert general.group(1).startswith("City Heating Company has looked into it")
            assert general.group(1).endswith(" — answer · answered.general")
            assert page.index("heating.no-heat.fixed") < page.index('value="answered.general"')
            assert "noise.construction" not in page
            url = f"{base}/web/case/{number}?tpl=heating.no-heat.fixed"
            status, page = await get(handler, url)
            found = re.search(r'<textarea id="reply-text"[^>]*>([^<]*)</textarea>', page)
            assert found
            text = html.unescape(found.group(1))
            assert text.startswith(f"关于您的诉求（编号{number}）：")
            assert FIXED_ZH in text
            form = {"csrf": csrf_of(page), "text": text}
            await post(handler, f"{base}/web/case/{number}/reply", form)
        assert review_mark(d, tracking)["signs"] == ["template:heating.no-heat.fixed"]


async def test_a_question_from_a_template(desk: Desk) -> None:
    """`/ask N t:` lists the question templates; Send asks the citizen (the case awaits them),
    in their language; the draft is no card: a Telegram reply to it is not taken as a reply."""
    d = desk
    await add_team(d)
    tracking, number = await accepted_case(d, language="ru")
    listed = await said(d, HANDLER, f"/ask {number} t:")
    assert listed["text"].startswith(f"Templates for {number}: send /ask {number} t:<code>")
    assert [line.split(" · ")[0] for line in listed["text"].splitlines()[1:]] == [
        "t:heating.no-heat.temperature",
        "t:asked.address",
    ]
    draft = await said(d, HANDLER, f"/ask {number} t:heating.no-heat.temperature")
    print("\n--- question draft ---\n" + draft["text"])
    assert draft["text"].startswith(f"Draft question for {number}:\n")
    assert f"Чтобы проверить обращение {number}, сообщите" in draft["text"]
    count = len(d.sandbox.messages(CITIZEN))
    data = f"rt:a:s:{tracking}:heating.no-heat.temperature"
    done = await d.press(HANDLER, draft, data, len(d.sandbox.messages(HANDLER)) + 1)
    assert done["text"] == f"Your question on {number} was sent to the citizen."
    asked = (await d.sandbox.wait_for_messages(CITIZEN, count + 1, timeout=10))[-1]["text"]
    assert f"Чтобы проверить обращение {number}, сообщите" in asked
    status = query(d.db_path, "SELECT status FROM service_case WHERE tracking = ?", (tracking,))
    assert status == [("awaiting_citizen",)]


BAD_AUTOS = """\
[[template]]
code = "heat.first"
category = "heating.no-heat"
outcome = "received"
auto = true
[template.text]
en = "Received {number}."

[[template]]
code = "heat.first.again"
category = "heating.no-heat"
outcome = "received"
auto = true
[template.text]
en = "Received {number}, due {due}."

[[template]]
code = "heat.done"
outcome = "answered"
auto = true
[template.text]
zh_Hans = "已处理 {number}。"
"""


def test_templates_load_as_an_operator_runs_it(tmp_path: Path) -> None:
    """`minsheng templates load`: the sample loads (and again, unchanged); a bad file is refused
    with exit 2, each problem on its line, and nothing changes."""
    desk = tmp_path / "desk.sqlite3"
    url = f"sqlite://{desk}"
    assert minsheng(tmp_path, "migrate", database=url).returncode == 0
    assert minsheng(tmp_path, "catalog", "load", str(SAMPLE_CATALOG), database=url).returncode == 0
    loaded = minsheng(tmp_path, "templates", "load", str(SAMPLE_TEMPLATES), database=url)
    assert loaded.returncode == 0, loaded
    assert "15 templates created, 0 updated, 0 unchanged; made inactive: none" in loaded.stdout
    again = minsheng(tmp_path, "templates", "load", str(SAMPLE_TEMPLATES), database=url)
    assert "0 templates created, 0 updated, 15 unchanged" in again.stdout
    bad = tmp_path / "bad.toml"
    bad.write_text(BAD_AUTOS, encoding="utf-8")
    refused = minsheng(tmp_path, "templates", "load", str(bad), database=url)
    print(refused.stderr)
    assert refused.returncode == 2
    assert f"minsheng: {bad} was not loaded, nothing changed:" in refused.stderr
    assert (
        f"{bad}:9: heating.no-heat has two automatic first replies: 'heat.first' and "
        "'heat.first.again'"
    ) in refused.stderr
    assert f"{bad}:17: template 'heat.done': auto = true is only for outcome \"received\"" in (
        refused.stderr
    )
    assert f"{bad}:17: template 'heat.done': text has none in the desk's language en" in (
        refused.stderr
    )
    with sqlite3.connect(desk) as con:
        count = con.execute("SELECT count(*), max(version) FROM reply_template").fetchone()
    assert count == (15, 1)


LONG_QUOTES = """\
[[template]]
code = "heat.quoted"
category = "heating.no-heat"
outcome = "answered"
[template.text]
en = '''{number}: {quotes}'''
"""


async def test_a_long_template_full_of_quotes_is_edited_whole(desk: Desk, tmp_path: Path) -> None:
    """Edit on a long template full of `"` and `<` (six and four characters once escaped) gives
    the whole command in one block: cut as Telegram counts before escaping, the closing </pre>
    is never lost (Telegram would refuse the message, the bot resend it as raw markup). A text
    stored with a format spec (saved before they were refused) is filled by the name alone."""
    d = desk
    await add_team(d)
    tracking, number = await accepted_case(d)
    quotes = '"<' * 1490
    file = tmp_path / "quoted.toml"
    file.write_text(LONG_QUOTES.replace("{quotes}", quotes), encoding="utf-8")
    await load_templates(file, default_language="en", now=datetime.now(UTC))
    draft = await said(d, HANDLER, f"/reply {number} t:heat.quoted")
    count = len(d.sandbox.messages(HANDLER))
    edit = await d.press(HANDLER, draft, f"rt:r:e:{tracking}:heat.quoted", count + 1)
    assert edit["text"].startswith("Copy the command below")
    command = edit["text"].split("\n\n", 1)[1]
    assert command == f"/reply {number} {number}: {quotes}"
    assert "&quot;" not in edit["text"]
    assert "<pre>" not in edit["text"]
    pre = [e for e in edit.get("entities", []) if e["type"] == "pre"]
    assert len(pre) == 1
    assert pre[0]["length"] == len(command)

    await execute(
        d.db_path,
        "UPDATE reply_template SET texts = ? WHERE code = ?",
        (json.dumps({"en": "Done: {number:>100000}!"}), "heat.quoted"),
    )
    draft = await said(d, HANDLER, f"/reply {number} t:heat.quoted")
    assert draft["text"].endswith(f"\n\nDone: {number}!")
