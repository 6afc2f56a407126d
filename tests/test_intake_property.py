"""Random conversations from three citizens against one running bot: whatever they send or press
(stale or forged buttons included), no update fails, every case has a tracking number, and every
draft is at a step that exists."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.sandbox import Sandbox
from storage.drafts import Step
from tests.databases import Database
from tests.harness import query
from tests.intake_desk import Citizen, button_data, intake_bot

USERS = (5601, 5602, 5603)
LANGUAGES = ("en", "zh_Hans", "ru")
WORDS = [
    "New request",
    "新建诉求",
    "Новое обращение",
    "/start",
    "/cancel",
    "/help",
    "/language",
    "/start track-ABCD",
    "Help",
    "Skip",
    "Stay anonymous",
    "12",
    "2025-01-05",
    "x",
    "The street lamp outside number 7 has been broken for a week.",
    "楼道里起火了，有人受伤",
]
DATA = [
    "in:k:complaint",
    "in:k:suggestion",
    "in:d:1",
    "in:c:2",
    "in:a:0",
    "in:back",
    "in:skip",
    "in:done",
    "in:notem",
    "in:e:photos",
    "in:e:category",
    "in:submit",
    "in:cancel",
    "in:go",
    "in:drop",
    "lang:ru",
    "lang:en",
    "case:AAAAAAAAAAAA",
]

texts = st.sampled_from(WORDS) | st.text(min_size=1, max_size=40).filter(lambda s: s.strip())
shown = st.integers(min_value=0, max_value=20)  # the n-th button now on the screen
media = st.sampled_from(
    ["photo", "album", "sticker", "voice", "location", "own_contact", "other_contact", "forward"]
)
actions = st.tuples(
    st.integers(min_value=0, max_value=len(USERS) - 1),
    st.one_of(
        # Twice: the sensible next step for where the citizen is, so that requests get filed.
        st.tuples(st.just("advance"), st.integers(min_value=0, max_value=2)),
        st.tuples(st.just("advance"), st.integers(min_value=0, max_value=2)),
        st.tuples(st.just("text"), texts),
        st.tuples(st.just("press"), shown),
        st.tuples(st.just("forge"), st.sampled_from(DATA) | st.text(max_size=70)),
        st.tuples(st.just("media"), media),
    ),
)


@pytest.fixture
async def bot(sandbox: Sandbox, db_path: Database) -> AsyncIterator[list[Citizen]]:
    async with intake_bot(sandbox, db_path):
        yield [
            Citizen(sandbox, db_path, uid, lang)
            for uid, lang in zip(USERS, LANGUAGES, strict=True)
        ]


ANSWERS = ("12", "2025-01-05", "ACME Ltd")


async def advance(c: Citizen, arg: int) -> None:
    """What a citizen filing a request would do next at their step."""
    step = c.step()
    last = c.sandbox.messages(c.id)[-1:] or [{}]
    shown = [d for d in button_data(last[0]) if d.startswith("in:")]
    if step is None:
        c._push(text=c.t.gettext("New request"))
    elif step == "summary":
        c.sandbox.press_button(c.id, c.id, last[0]["message_id"], "in:submit", force=True)
    elif step in ("kind", "domain", "category") or (step == "question" and shown):
        data = shown[arg % len(shown)] if shown else "in:back"
        c.sandbox.press_button(c.id, c.id, last[0].get("message_id", 1), data, force=True)
    elif step == "question":
        c._push(text=ANSWERS[arg])
    elif step == "description":
        c._push(text="The lamp in front of house 7 has been dark for a week.")
    elif step == "photos":
        c.sandbox.press_button(c.id, c.id, last[0].get("message_id", 1), "in:done", force=True)
    elif step == "location":
        c._push(location={"latitude": 45.75, "longitude": 126.6})
    elif step == "contact":
        c._push(contact={"phone_number": "+8613800000000", "user_id": c.id})
    else:
        c._push(text="/cancel")


async def act(c: Citizen, action: tuple[str, Any]) -> None:
    verb, arg = action
    if verb == "advance":
        await advance(c, arg)
    elif verb == "text":
        c._push(text=arg)
    elif verb == "press":
        on_screen = [
            (m["message_id"], d)
            for m in c.sandbox.messages(c.id)[-4:]
            for d in button_data(m)
            if d
        ]
        if on_screen:
            message_id, data = on_screen[arg % len(on_screen)]
            c.sandbox.press_button(c.id, c.id, message_id, data, force=True)
    elif verb == "forge":
        last = c.sandbox.messages(c.id)
        message_id = last[-1]["message_id"] if last else 1
        c.sandbox.press_button(c.id, c.id, message_id, arg, force=True)
    else:
        c._push(**MEDIA[arg](c))
    await c.settle()


MEDIA = {
    "photo": lambda c: {"photo": {}, "caption": "Broken lamp on the corner, see photo"},
    "album": lambda c: {"photo": {}, "media_group_id": "album-7"},
    "sticker": lambda c: {"sticker": {"file_id": "sticker"}},
    "voice": lambda c: {"voice": {"file_id": "voice"}},
    "location": lambda c: {"location": {"latitude": 45.75, "longitude": 126.6}},
    "own_contact": lambda c: {"contact": {"phone_number": "+861380000", "user_id": c.id}},
    "other_contact": lambda c: {"contact": {"phone_number": "+861390000", "user_id": 1}},
    "forward": lambda c: {"text": "a forwarded complaint text", "forward_from": {"id": 9}},
}


@pytest.mark.slow
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(actions, min_size=1, max_size=20))
async def test_random_conversations_keep_the_invariants(
    bot: list[Citizen], db_path: Database, steps: list[tuple[int, tuple[str, Any]]]
) -> None:
    for who, action in steps:
        await act(bot[who], action)
    assert query(db_path, "SELECT count(*) FROM inbox_update WHERE status = 'failed'") == [(0,)]
    no_number = "SELECT count(*) FROM service_case WHERE tracking IS NULL OR tracking = ''"
    assert query(db_path, no_number) == [(0,)]
    steps_now = {row[0] for row in query(db_path, "SELECT step FROM draft")}
    assert steps_now <= {str(step) for step in Step}
