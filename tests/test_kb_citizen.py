"""The knowledge base on the citizen's side, end to end through the sandbox: a question answered
by an article with no case filed (and /stats counting it), "File my request anyway" filing a
case that notes the articles offered, a zh_Hant question finding a zh_Hans-only article from
free text, and forged or stale buttons changing nothing. Run with -s to read the conversations.
"""

# ruff: noqa: E501 (an article's body is one long line in its file)

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.sandbox import Sandbox
from storage.kb_load import SAMPLE_KNOWLEDGE, load_knowledge
from storage.knowledge import answered, filed, open_offer
from storage.tracking import format_tracking_number
from tests.databases import Database
from tests.duplicates_desk import dup_desk
from tests.following import Desk, buttons
from tests.harness import query, webhook_bot, webhook_settings
from tests.intake_desk import Citizen, category_ids
from tests.staff_desk import ADMIN
from tests.web_desk import SECRET, browser, get, sign_in_link

ALICE, BOB, CHEN = 75_001, 75_002, 75_003

# An article in English and Simplified Chinese only: a zh_Hant reader must find it all the same.
HANS_ONLY = """\
[[article]]
code = "heating-season"
categories = ["heating.connection", "heating.no-heat"]
department = "heating-company"
review_by = 2027-09-30
[article.title]
en = "When does the heating season start and end?"
zh_Hans = "供暖期从什么时候开始，到什么时候结束？"
[article.body]
en = "The city's heating season runs from 20 October to 20 April of the next year. If the average outdoor temperature falls below 5 °C for five days in a row before 20 October, the heating company starts early, and it may extend the season in a cold April; any change is announced on the city's website and in the Chengshi Tong app at least three days ahead. The first days are for filling and testing the pipes, so radiators may be lukewarm for up to 72 hours after the start: bleed the air from your radiator if it stays cold at the top."
zh_Hans = "本市供暖期为每年10月20日至次年4月20日。如10月20日前连续5天日平均气温低于5摄氏度，热力集团会提前供暖；4月天气偏冷时也可能延长供暖，调整情况至少提前3天在市政府网站和“城市通”App公布。开始供暖后的头几天是注水试压阶段，72小时内暖气可能不够热；如果暖气片上半截一直发凉，可先打开放气阀排气。"
[article.keywords]
en = ["heating season", "heating start", "when heating", "heating on", "heating off", "radiators"]
zh_Hans = ["供暖", "暖气", "来暖气", "供暖时间", "什么时候供暖", "停暖", "开栓", "供热"]
"""


def show(who: str, messages: list[dict[str, Any]]) -> None:
    """Print what a chat received, buttons included, to read the conversation by eye."""
    for message in messages:
        print(f"--- to {who}:\n{message.get('text', '')}")
        for label, data in buttons(message):
            print(f"    [{label}]  {data}")


def offer_id(message: dict[str, Any]) -> str:
    return next(data.split(":")[2] for _, data in buttons(message) if data.startswith("kq:"))


def cases(db: Database) -> list[tuple[Any, ...]]:
    return query(db, "SELECT tracking, kind FROM service_case ORDER BY id")


def offers(db: Database) -> list[tuple[Any, ...]]:
    return query(
        db, "SELECT citizen_id, channel, outcome, answered_by, case_id FROM kb_offer ORDER BY id"
    )


async def to_description(c: Citizen, kind: str, domain: str, category: str) -> None:
    ids = category_ids(c.db)
    await c.say(c.t.gettext("New request"))
    await c.press(f"in:k:{kind}")
    await c.press(f"in:d:{ids[domain]}")
    await c.press(f"in:c:{ids[category]}")
    assert c.step() == "description"


async def test_a_question_answered_by_an_article_files_nothing_and_counts(
    sandbox: Sandbox, db_path: Database
) -> None:
    async with dup_desk(sandbox, db_path):
        await load_knowledge(SAMPLE_KNOWLEDGE, default_language="en", now=datetime.now(UTC))
        alice = Citizen(sandbox, db_path, ALICE, "zh_Hans")
        await to_description(alice, "inquiry", "heating", "heating.fees")
        [offer] = await alice.say("取暖费一平米多少钱？交晚了会罚钱吗")
        show("Alice (zh_Hans)", [offer])
        number = offer_id(offer)
        assert offer["text"].startswith("以下知识库文章可能已经解答了您的问题。")
        assert buttons(offer)[0] == ("📄 供暖费怎么收、在哪里交？", f"kq:o:{number}:0")
        assert buttons(offer)[-2:] == [
            ("这解答了我的问题", f"kq:y:{number}"),
            ("仍然提交诉求", f"kq:f:{number}"),
        ]
        assert alice.step() == "description"

        [opened] = await alice.press(f"kq:o:{number}:0")
        show("Alice", [opened])
        assert opened["text"].startswith(
            "供暖费怎么收、在哪里交？\n\n居民供暖费按房产证上的建筑面积收取"
        )
        assert any(e["type"] == "bold" for e in opened.get("entities", []))
        assert buttons(opened)[:2] == [("👍", f"kq:u:{number}:0"), ("👎", f"kq:d:{number}:0")]
        await alice.press(f"kq:u:{number}:0")
        assert alice.last_answer.get("text") == "感谢您的反馈。"
        await alice.press(f"kq:d:{number}:0", message_id=opened["message_id"])  # the old message
        assert alice.last_answer.get("text") == "您已经评价过这篇文章。"
        assert query(
            db_path,
            "SELECT helpful, not_helpful FROM kb_article WHERE code = ?",
            ("heating-fees",),
        ) == [(1, 0)]

        [again] = await alice.press(f"kq:o:{number}:0", message_id=offer["message_id"])
        assert buttons(again) == [
            ("这解答了我的问题", f"kq:y:{number}:0"),
            ("仍然提交诉求", f"kq:f:{number}"),
        ]
        [thanks] = await alice.press(f"kq:y:{number}:0", message_id=opened["message_id"])
        show("Alice", [thanks])
        # Decided: no message of the offer keeps a decision button (📄 neither); the article,
        # rated already, keeps none (test_file_anyway… shows 👍 / 👎 kept while not rated).
        now = {m["message_id"]: m for m in sandbox.messages(ALICE)}
        assert buttons(now[offer["message_id"]]) == []
        assert buttons(now[opened["message_id"]]) == []
        assert buttons(now[again["message_id"]]) == []
        assert thanks["text"].startswith("很高兴能帮到您。这次没有登记诉求，因此没有工单编号。")
        assert alice.draft() is None
        assert cases(db_path) == []
        assert offers(db_path) == [(ALICE, "intake", "answered", "heating-fees", None)]
        # The decision is taken once: "File anyway" on the old offer has expired.
        await alice.press(f"kq:f:{number}", message_id=offer["message_id"])
        assert alice.last_answer.get("text") == "此按钮已失效。"
        assert cases(db_path) == []

        admin = Citizen(sandbox, db_path, ADMIN, "en")
        stats = await admin.say("/stats")
        show("the admin", stats)
        text = stats[-1]["text"]
        assert (
            "Instant-answer rate: 100.0% (answered by an article: 1; inquiries filed: 0)" in text
        )
        assert (
            "Most used articles:\n1. How much is the heating fee and how do I pay it? (1)" in text
        )


async def test_file_anyway_goes_on_and_the_case_notes_the_articles_offered(
    sandbox: Sandbox, db_path: Database
) -> None:
    async with dup_desk(sandbox, db_path):
        await load_knowledge(SAMPLE_KNOWLEDGE, default_language="en", now=datetime.now(UTC))
        bob = Citizen(sandbox, db_path, BOB, "en")
        await to_description(bob, "complaint", "heating", "heating.fees")
        [offer] = await bob.say(
            "The property company wants the heating fee for the whole year before it opens the "
            "valve. How much is the heating fee per square metre, and who do I pay it to?"
        )
        show("Bob (en)", [offer])
        number = offer_id(offer)
        shown = [d for _, d in buttons(offer) if d.startswith("kq:o:")]
        assert buttons(offer)[-1] == ("File my request anyway", f"kq:f:{number}")
        [opened] = await bob.press(f"kq:o:{number}:0")
        asked = await bob.press(f"kq:f:{number}", message_id=opened["message_id"])
        show("Bob", asked)
        now = {m["message_id"]: m for m in sandbox.messages(BOB)}
        assert buttons(now[offer["message_id"]]) == []  # 📄 does not reopen it any more
        assert buttons(now[opened["message_id"]]) == [
            ("👍", f"kq:u:{number}:0"),
            ("👎", f"kq:d:{number}:0"),
        ]
        assert bob.step() == "photos"
        await bob.press("in:skip")
        await bob.say(bob.t.gettext("Skip"))
        await bob.say(bob.t.gettext("Stay anonymous"))
        done = await bob.press("in:submit")
        show("Bob", done)
        [(tracking, kind)] = cases(db_path)
        assert kind == "complaint"
        assert offers(db_path)[0][4] is not None, tracking
        [(payload,)] = query(
            db_path,
            "SELECT e.payload FROM case_event e JOIN service_case c ON c.id = e.case_id "
            "WHERE e.kind = 'kb_offered' AND NOT e.public",
        )
        codes = json.loads(payload)["offered"]
        assert codes[0] == "heating-fees"
        assert len(codes) == len(shown)
        assert offers(db_path)[0][2] == "filed"
        admin = Citizen(sandbox, db_path, ADMIN, "en")
        # Staff read the offer as a sentence, the articles by their titles; the citizen never.
        [card] = await admin.say(f"/case {format_tracking_number(tracking)}")
        show("the admin", [card])
        assert (
            "The knowledge base offered: “How much is the heating fee and how do I pay it?”; "
            in card["text"]
        )
        assert (
            "the citizen opened: “How much is the heating fee and how do I pay it?”; the request "
            "was filed anyway" in card["text"]
        )
        assert "kb_offered" not in card["text"]
        status = await bob.say(f"/status {format_tracking_number(tracking)}")
        assert "knowledge base" not in " ".join(m["text"] for m in status)
        text = (await admin.say("/stats"))[0]["text"]
        assert "Gaps (articles most often followed by “File my request anyway”):\n1. " in text


async def test_a_zh_hant_question_finds_a_zh_hans_article_from_free_text(
    sandbox: Sandbox, db_path: Database, tmp_path: Path
) -> None:
    async with dup_desk(sandbox, db_path):
        file = tmp_path / "kb.toml"
        file.write_text(HANS_ONLY, encoding="utf-8")
        await load_knowledge(file, default_language="en", now=datetime.now(UTC))
        chen = Citizen(sandbox, db_path, CHEN, "zh_Hant")
        [offer] = await chen.say("請問今年暖氣從幾號開始供應？")
        show("Chen (zh_Hant)", [offer])
        number = offer_id(offer)
        assert offer["text"].startswith("以下知識庫文章可能解答您的問題。")
        assert buttons(offer) == [
            ("📄 供暖期从什么时候开始，到什么时候结束？", f"kq:o:{number}:0"),
            ("這解答了我的問題", f"kq:y:{number}"),
            ("新建訴求", f"kq:s:{number}"),
        ]
        [opened] = await chen.press(f"kq:o:{number}:0")
        show("Chen", [opened])
        assert opened["text"].startswith(
            "這篇文章沒有您所用語言的版本，以下以中文（簡體）顯示。\n\n供暖期从什么时候开始"
        )
        assert "本市供暖期为每年10月20日至次年4月20日。" in opened["text"]
        started = await chen.press(f"kq:s:{number}")
        show("Chen", started)
        assert chen.step() == "kind"
        assert offers(db_path) == [(CHEN, "text", None, None, None)]


async def test_forged_and_stale_offer_buttons_change_nothing(
    sandbox: Sandbox, db_path: Database
) -> None:
    async with dup_desk(sandbox, db_path):
        await load_knowledge(SAMPLE_KNOWLEDGE, default_language="en", now=datetime.now(UTC))
        alice = Citizen(sandbox, db_path, ALICE, "en")
        await to_description(alice, "inquiry", "heating", "heating.fees")
        [offer] = await alice.say("How much do I have to pay for heating per square metre?")
        number = offer_id(offer)
        bob = Citizen(sandbox, db_path, BOB, "ru")
        await bob.say("/start")
        mine = bob.sandbox.messages(BOB)[-1]["message_id"]
        for forged in (f"kq:y:{number}", f"kq:f:{number}", f"kq:o:{number}:0", f"kq:u:{number}:0"):
            await bob.press(forged, message_id=mine)
            assert bob.last_answer.get("text") == "Эта кнопка устарела.", forged
        await alice.press(f"kq:o:{number}:7", message_id=offer["message_id"])  # no such article
        assert alice.last_answer.get("text") == "This button has expired."
        assert offers(db_path) == [(ALICE, "intake", None, None, None)]
        assert query(db_path, "SELECT sum(helpful) FROM kb_article") == [(0,)]
        assert alice.step() == "description"
        # A new description is taken as it is; the offer's "File anyway" is then stale.
        await alice.say("And is there a discount for paying early?")
        assert alice.step() == "photos"
        await alice.press(f"kq:f:{number}", message_id=offer["message_id"])
        assert alice.last_answer.get("text") == "This button has expired."
        assert alice.step() == "photos"
        assert cases(db_path) == []


async def test_the_dashboard_statistics_show_the_knowledge_base_figures(
    sandbox: Sandbox, db_path: Database
) -> None:
    settings = webhook_settings(sandbox, db_path, SECRET, MINSHENG_ADMIN_IDS=str(ADMIN))
    async with webhook_bot(settings, sandbox, db_path) as runtime:
        d, base = Desk(sandbox, runtime, db_path), f"http://{settings.webhook_listen}"
        now = datetime.now(UTC)
        await load_knowledge(SAMPLE_KNOWLEDGE, default_language="en", now=now)
        for outcome in ("answered", "answered", "filed"):
            offer = await open_offer(
                "intake", ["heating-fees", "water-bills"], language="en", now=now, citizen_id=ALICE
            )
            if outcome == "answered":
                await answered(offer, "heating-fees", now=now, citizen_id=ALICE)
            else:
                await filed(offer, (await d.file_case(ALICE)).tracking, now=now)
        async with await browser(await sign_in_link(d, ADMIN)) as admin:
            status, page = await get(admin, f"{base}/web/stats?period=month")
        assert status == 200
        assert "<h2>Knowledge base</h2>" in page
        assert '<td>Instant-answer rate</td><td class="value">100.0%</td>' in page
        assert '<td class="muted">2 of 2</td>' in page
        assert "How much is the heating fee and how do I pay it? " in page
        gaps = page.split("Gaps: articles most often followed by")[1]
        assert 'water-bills</span></td><td class="value">1</td>' in gaps
