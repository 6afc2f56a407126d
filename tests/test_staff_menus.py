"""Issue 13, item 9: each staff member's command menus list what their role may do, in their
private chat and in the staff chat, and follow a change of role made in the bot or with
`minsheng staff add|remove` while the bot runs (the menus commit with the change)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from typing import Any

from bot.sandbox import Sandbox
from tests.databases import Database
from tests.harness import bot_env, eventually
from tests.staff_desk import ADMIN, HANDLER, SUPERVISOR, add_team, staff_desk

LATER = 72_005  # made a supervisor of the heating company from the command line
HANDLER_COMMANDS = [
    "queue",
    "case",
    "take",
    "give",
    "reply",
    "kb",
    "ask",
    "note",
    "sign",
    "sendback",
    "extend",
    "dispute",
]
NEVER_FOR_HANDLERS = {"assign", "grant", "refuse", "approve", "close", "ban", "staff", "stats"}


def names(sandbox: Sandbox, key: str) -> list[str]:
    return [c["command"] for c in sandbox.commands.get(key, [])]


def described(sandbox: Sandbox, key: str) -> dict[str, str]:
    return {c["command"]: c["description"] for c in sandbox.commands.get(key, [])}


async def cli(sandbox: Sandbox, db_path: Database, *args: str) -> str:
    """`minsheng staff …` as the operator runs it, in a process of its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINSHENG_")}
    env.update(bot_env(sandbox, db_path, MINSHENG_ADMIN_IDS=str(ADMIN)))
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "bot", "staff", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


async def menu_of(sandbox: Sandbox, key: str, *, holds: str | None = None) -> list[str]:
    def ready() -> Any:
        found = names(sandbox, key)
        return found if found and (holds is None or holds in found) else None

    return list(await eventually(ready, 15, what=f"the menu {key}"))


async def test_each_role_gets_the_menu_of_what_it_may_do(
    sandbox: Sandbox, db_path: Database
) -> None:
    staff_chat = sandbox.config.staff_group_id
    async with staff_desk(sandbox, db_path) as d:
        await add_team(d)
        handler = await menu_of(sandbox, f"chat:{HANDLER}|")
        print("handler, private:", handler)
        assert [n for n in handler if n in HANDLER_COMMANDS] == HANDLER_COMMANDS
        assert "web" in handler
        assert not NEVER_FOR_HANDLERS & set(handler)
        in_group = await menu_of(sandbox, f"chat_member:{staff_chat}:{HANDLER}|")
        assert in_group == [n for n in handler if n in HANDLER_COMMANDS]
        # Anyone else in the staff chat sees what every member may do.
        assert names(sandbox, f"chat:{staff_chat}|") == in_group
        chinese = described(sandbox, f"chat:{HANDLER}|zh")
        print("handler, private, zh:", chinese)
        assert chinese["queue"] == "当前待办；或新件、我的、超期、待审核"
        assert chinese["reply"] == "答复群众（先经审核）"

        supervisor = await menu_of(sandbox, f"chat:{SUPERVISOR}|")
        assert {"assign", "grant", "approve", "close", "ban", "stats"} <= set(supervisor)
        assert "staff" not in supervisor
        assert described(sandbox, f"chat:{SUPERVISOR}|")["reply"] == "Answer the citizen"
        supervisor_in_group = await menu_of(sandbox, f"chat_member:{staff_chat}:{SUPERVISOR}|")
        assert "grant" in supervisor_in_group
        assert "web" not in supervisor_in_group
        admin = await menu_of(sandbox, f"chat:{ADMIN}|", holds="staff")
        assert {"staff", "ban", "grant"} <= set(admin)

        # The command line, while the bot runs: a supervisor of one department (who may not
        # ban: that names no case) gets their menus at once, and loses them when removed.
        print(await cli(sandbox, db_path, "add", str(LATER), "supervisor", "heating-company"))
        later = await menu_of(sandbox, f"chat:{LATER}|")
        assert "grant" in later
        assert not {"ban", "unban", "staff"} & set(later)
        assert "grant" in await menu_of(sandbox, f"chat_member:{staff_chat}:{LATER}|")
        # A handler promoted from the command line gets a supervisor's menu.
        await cli(sandbox, db_path, "add", str(HANDLER), "supervisor")
        promoted = await menu_of(sandbox, f"chat:{HANDLER}|", holds="grant")
        assert described(sandbox, f"chat:{HANDLER}|zh")["reply"] == "答复群众"
        assert "staff" not in promoted
        await cli(sandbox, db_path, "remove", str(LATER))
        await eventually(
            lambda: not any(str(LATER) in key for key in sandbox.commands),
            15,
            what="the removed member's menus deleted",
        )
