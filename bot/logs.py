"""Logging: stdlib, %-style, and never the bot token (it is part of every Bot API URL)."""

from __future__ import annotations

import logging
import re

TOKEN_PATTERN = re.compile(r"(bot)?\d{5,}:[A-Za-z0-9_-]{20,}|\d+:SANDBOX")


class RedactTokens(logging.Filter):
    """Replace anything shaped like a bot token in a record's message and arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if TOKEN_PATTERN.search(message):
            record.msg = TOKEN_PATTERN.sub("<token>", message)
            record.args = None
        return True


def setup_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactTokens())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx and httpcore log every request line, and the URL holds the token.
    for noisy in ("httpx", "httpcore", "aiohttp.access", "tortoise", "aiosqlite"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
