"""What the Open311 tests share: the webhook secret, the base URL, the operator's command, and
a key issued in the test's own process (for tests whose subject is not the command)."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime
from typing import Any

from storage.apikeys import add_key
from tests.databases import Database

SECRET = "open311-secret"
DESCRIPTION = "路灯不亮已经一周了，晚上走路很危险，请尽快修理。"


def base_url(settings: Any) -> str:
    return f"http://{settings.webhook_listen}/open311/v2"


async def operator(db_path: Database, *args: str) -> str:
    """Run `minsheng ARGS` as the operator would, on the bot's database; its output."""
    env = {
        **os.environ,
        "MINSHENG_DATABASE_URL": db_path.url,
        "MINSHENG_BOT_TOKEN": "1:x",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    return out.decode().strip()


async def issued_key(
    name: str, *, per_minute: int | None = None, per_day: int | None = None
) -> str:
    """A key as `minsheng apikey add NAME` issues it (storage.apikeys.add_key), without starting
    a process: the in-process bot's database is this process's (tests/test_open311 runs the
    command itself)."""
    return await add_key(name, now=datetime.now(UTC), per_minute=per_minute, per_day=per_day)
