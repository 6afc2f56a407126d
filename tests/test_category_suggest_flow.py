"""Category suggestion end to end: the real bot against the sandbox, on a real database.

A citizen not sure of the category presses "Not sure" at the area list, describes the matter,
gets the three categories it reads as, picks one, and the case is filed in it. A citizen who
picks a category their words do not fit gets their choice; the staff card names the one the
description reads as, and the routing proposal stays the chosen category's. In English and
Chinese; with -s the conversations print message by message.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.sandbox import Sandbox
from storage.case_views import DESCRIPTION_MAX, DESCRIPTION_MIN
from tests.databases import Database
from tests.harness import query
from tests.intake_desk import (
    Citizen,
    buttons,
    category_ids,
    fill_to_description,
    intake_bot,
    texts_of,
)

DESCRIBED = {
    "en": "The lift in our block has been out of order for ten days; old people are stuck.",
    "zh_Hans": "我们楼的电梯已经坏了一个星期，八十多岁的老人下不了楼。",
}
MISFILED = {  # filed under "water bills", written about a cold flat
    "en": "Our radiators have been cold for a week and it is 14 degrees in the flat.",
    "zh_Hans": "这几天暖气冰凉，屋里只有十四度，老人孩子冻得受不了。",
}


def show(who: str, messages: list[dict[str, Any]]) -> None:
    for message in messages:
        labels = " | ".join(label for label, _ in buttons(message))
        print(f"  {who}: {message.get('text')}" + (f"\n      [{labels}]" if labels else ""))


async def finish(c: Citizen) -> list[dict[str, Any]]:
    """Photos skipped, place typed, anonymous, submitted."""
    t = c.t
    show("bot", await c.press("in:skip"))
    show("bot", await c.say("Heping Road 3"))
    show("bot", await c.say(t.gettext("Stay anonymous")))
    return await c.press("in:submit")


@pytest.mark.parametrize("language", ["en", "zh_Hans"])
async def test_not_sure_suggests_three_categories_and_files_in_the_one_picked(
    sandbox: Sandbox, db_path: Database, language: str
) -> None:
    async with intake_bot(sandbox, db_path):
        c = Citizen(sandbox, db_path, 6100 + len(language), language)
        t = c.t
        print(f"\n[{language}] Not sure → description → three categories → pick")
        await c.say(t.gettext("New request"))
        [areas] = await c.press("in:k:complaint")
        assert (t.gettext("🤔 Not sure"), "in:guess") in buttons(areas)
        asked = await c.press("in:guess")
        show("bot", asked)
        assert c.step() == "description"
        assert asked[-1]["text"] == t.gettext(
            "Describe the matter in your own words and I will suggest the categories that fit: "
            "what happened, where and since when ({min} to {max} characters). You may also send "
            "a photo with the description as its caption.",
            min=DESCRIPTION_MIN,
            max=DESCRIPTION_MAX,
        )
        print(f"  citizen: {DESCRIBED[language]}")
        offered = await c.say(DESCRIBED[language])
        show("bot", offered)
        suggestions = offered[-1]
        assert suggestions["text"] == t.gettext(
            "These categories fit your description best. Choose one, or pick from the whole list."
        )
        choices = buttons(suggestions)
        assert len(choices) == 4  # three categories and the way back to the list
        assert choices[-1] == (t.gettext("None of these: show the list"), "in:list")
        lift = category_ids(db_path)["property.lifts"]
        assert f"in:s:{lift}" in [data for _, data in choices[:3]]
        print(f"  citizen presses: {dict((d, label) for label, d in choices)[f'in:s:{lift}']}")
        photos = await c.press(f"in:s:{lift}")
        show("bot", photos)
        assert c.step() == "photos"  # no questions in this category; the description is in
        done = await finish(c)
        show("bot", done)
        assert t.gettext("Your request has been submitted.") in texts_of(done)
        [(code, text, suggested)] = query(
            db_path,
            "SELECT k.code, c.text, c.suggested_category_id FROM service_case c"
            " JOIN category k ON k.id = c.category_id",
        )
        assert (code, text, suggested) == ("property.lifts", DESCRIBED[language], None)


async def test_none_of_these_goes_back_to_the_list_and_the_description_is_kept(
    sandbox: Sandbox, db_path: Database
) -> None:
    async with intake_bot(sandbox, db_path):
        c = Citizen(sandbox, db_path, 6201, "en")
        await c.say(c.t.gettext("New request"))
        await c.press("in:k:report")
        ids = category_ids(db_path)
        await c.press(f"in:d:{ids['property']}")
        await c.press("in:guess")  # from the category list too
        offered = await c.say(DESCRIBED["en"])
        [areas] = await c.press("in:list")
        assert areas["text"] == c.t.gettext("What is it about? Choose an area.")
        await c.press(f"in:d:{ids['property']}")
        await c.press(f"in:c:{ids['property.lifts']}")
        assert c.step() == "photos"  # the description given first is not asked again
        draft = c.draft()
        assert draft is not None
        assert draft[1]["description"] == DESCRIBED["en"]
        old = offered[-1]["message_id"]  # a suggestion pressed once the list was shown
        stale = await c.press(f"in:s:{ids['water.bills']}", message_id=old)
        assert stale == []
        assert c.last_answer.get("text") == c.t.gettext("This button has expired.")


@pytest.mark.parametrize("language", ["en", "zh_Hans"])
async def test_the_staff_card_names_the_category_the_description_reads_as(
    sandbox: Sandbox, db_path: Database, language: str
) -> None:
    # The staff chat speaks the desk's default language: here the citizen's.
    async with intake_bot(sandbox, db_path, MINSHENG_DEFAULT_LANGUAGE=language):
        c = Citizen(sandbox, db_path, 6300 + len(language), language)
        await fill_to_description(c, "complaint", "water", "water.bills")
        await c.say(MISFILED[language])
        await finish(c)
        staff = sandbox.config.staff_group_id
        card = next(m for m in sandbox.messages(staff) if "💡" in (m.get("text") or ""))
        print(f"\n[{language}] the staff card:\n{card['text']}")
        ids = category_ids(db_path)
        [(chosen, suggested, proposed)] = query(
            db_path,
            "SELECT c.category_id, c.suggested_category_id, d.code FROM service_case c"
            " JOIN department d ON d.id = c.proposed_department_id",
        )
        assert (chosen, suggested) == (ids["water.bills"], ids["heating.no-heat"])
        assert proposed == "water-company"  # the routing is the chosen category's
        names = dict(query(db_path, "SELECT code, names FROM category"))
        domain, leaf = (
            json.loads(names[code])[language] for code in ("heating", "heating.no-heat")
        )
        expected = c.t.gettext(
            "💡 Suggested category: {category}",
            category=f"{domain} › {leaf}",
        )
        assert card["text"].endswith(expected)


async def test_not_sure_when_editing_the_category_ranks_the_description_at_once(
    sandbox: Sandbox, db_path: Database
) -> None:
    async with intake_bot(sandbox, db_path):
        c = Citizen(sandbox, db_path, 6401, "en")
        await fill_to_description(c, "complaint", "water", "water.bills")
        await c.say(MISFILED["en"])
        await c.press("in:skip")
        await c.say("Heping Road 3")
        await c.say(c.t.gettext("Stay anonymous"))
        await c.press("in:e:category")
        [offered] = await c.press("in:guess")  # the description is in: no prompt for it
        no_heat = category_ids(db_path)["heating.no-heat"]
        assert buttons(offered)[0][1] == f"in:s:{no_heat}"
        await c.press(f"in:s:{no_heat}")
        await c.say("15")  # the category's own questions: indoor temperature, cold since
        summary = await c.say("2025-01-06")
        assert c.step() == "summary"
        assert "Heating › No heating or radiators not warm" in texts_of(summary)
