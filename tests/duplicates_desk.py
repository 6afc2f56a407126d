"""Similar requests for the duplicate tests: a first one, a similar one, a desk to file them."""

from __future__ import annotations

from typing import Any

from bot.sandbox import Sandbox
from tests.databases import Database
from tests.following import desk
from tests.intake_desk import Citizen, category_ids
from tests.staff_desk import ADMIN

FIRST = "幸福小区物业强制要求先交清供暖费才给开阀，不交就不供热。"
SIMILAR = "幸福小区物业说必须一次交清今年供暖费才给开阀门供热，这合理吗？"


def dup_desk(sandbox: Sandbox, db_path: Database, **env: str) -> Any:
    return desk(
        sandbox, db_path, MINSHENG_ADMIN_IDS=str(ADMIN), MINSHENG_FLOOD_MESSAGES="10000", **env
    )


async def to_summary(c: Citizen, text: str, location: dict[str, float] | None = None) -> None:
    """A heating-fees complaint up to its summary, through the conversation."""
    ids = category_ids(c.db)
    await c.say(c.t.gettext("New request"))
    await c.press("in:k:complaint")
    await c.press(f"in:d:{ids['heating']}")
    await c.press(f"in:c:{ids['heating.fees']}")
    await c.say(text)
    await c.press("in:skip")  # no photos
    if location is None:
        await c.say(c.t.gettext("Skip"))
    else:
        await c.send(location=location)
    await c.say(c.t.gettext("Stay anonymous"))
    assert c.step() == "summary"
