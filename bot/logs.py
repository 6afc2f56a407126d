"""Logging: stdlib, %-style, and never the bot token (it is part of every Bot API URL)."""

from __future__ import annotations

import logging
import re

TOKEN_PATTERN = re.compile(r"(bot)?\d{5,}:[A-Za-z0-9_-]{20,}|\d+:SANDBOX")
REDACTED = "<token>"


def redact(text: str) -> str:
    return TOKEN_PATTERN.sub(REDACTED, text)


class RedactTokens(logging.Filter):
    """Replace anything shaped like a bot token in a record: its message and arguments, the
    traceback it carries (an exception's message or a URL in it often holds the token), and
    its stack information.

    The traceback is formatted here, once, and kept as the record's exc_text, which every
    Formatter prints instead of formatting the exception again.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if TOKEN_PATTERN.search(message):
            record.msg = redact(message)
            record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = _FORMATTER.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


_FORMATTER = logging.Formatter()


def setup_logging(level: str | int = "INFO", process: str = "") -> None:
    """Log to stderr at `level`, tokens redacted; `process` names a helper process (the
    sender's) in each of its lines."""
    handler = logging.StreamHandler()
    label = f" [{process}]" if process else ""
    handler.setFormatter(
        logging.Formatter(f"%(asctime)s %(levelname)s{label} %(name)s: %(message)s")
    )
    handler.addFilter(RedactTokens())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx and httpcore log every request line, and the URL holds the token.
    for noisy in ("httpx", "httpcore", "aiohttp.access", "tortoise", "aiosqlite"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
