"""A local stand-in for the Telegram Bot API, with a control API and a web chat page.

    sandbox = Sandbox(SandboxConfig(time_scale=20))
    base = await sandbox.start()            # http://127.0.0.1:<port>
    bot = telegram.Bot(sandbox.config.token, base_url=sandbox.api_url,
                       base_file_url=sandbox.file_url)
    sandbox.send_text(1001, "/start")       # a citizen writes
    await sandbox.wait_for_messages(1001, 1, timeout=5)

The web chat is served at ``base`` + "/"; the control API under "/control/".
"""

from bot.sandbox.app import Sandbox
from bot.sandbox.config import FaultConfig, SandboxConfig

__all__ = ["FaultConfig", "Sandbox", "SandboxConfig"]
