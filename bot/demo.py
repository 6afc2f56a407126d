"""`minsheng demo`: the bot, a local Telegram sandbox and its web chat page, on SQLite."""

from __future__ import annotations

import logging

from bot.runtime import Runtime
from bot.sandbox import Sandbox, SandboxConfig
from bot.settings import load_settings

log = logging.getLogger(__name__)

DEMO_STAFF_ID = 9001


async def run_demo(host: str, port: int, database_url: str) -> None:
    config = SandboxConfig()
    sandbox = Sandbox(config)
    base = await sandbox.start(host, port)
    settings = load_settings(
        env_file=None,
        bot_token=config.token,
        bot_api_url=sandbox.api_url,
        bot_file_url=sandbox.file_url,
        database_url=database_url,
        admin_ids=(DEMO_STAFF_ID,),
        staff_chat_id=config.staff_group_id,
        poll_timeout=10,
    )
    try:
        runtime = await Runtime.start(settings)
        print(f"\n  Minsheng demo is running: open {base}/ in a browser.")
        print(f"  Citizen pane: user 1001. Staff pane: admin {DEMO_STAFF_ID}. Ctrl-C stops.\n",
              flush=True)
        await runtime.run_polling()
    finally:
        await sandbox.stop()
