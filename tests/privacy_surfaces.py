"""What the privacy walk plants and where it looks: the planted strings, a search that names the
surface and the string it found, everything one chat received, and every text value of every
table of the SQLite file."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from bot.sandbox import Sandbox
from tests.databases import Database
from tests.following import Desk
from tests.harness import BotProcess, bot_env, eventually, free_port, stop_bot


@dataclass(frozen=True)
class Needle:
    """One planted string: a label for the report and a pattern, matched case-insensitively.

    `digits` needles (phone numbers) are matched after the separators between digits are
    dropped, so "139 4517 2863", "139-4517-2863" and "+8613945172863" are all found."""

    label: str
    pattern: str
    digits: bool = False

    def found_in(self, text: str, digits_only: str) -> re.Match[str] | None:
        return re.search(self.pattern, digits_only if self.digits else text, re.IGNORECASE)


def literal(label: str, value: str) -> Needle:
    return Needle(label, re.escape(value))


def phone(label: str, digits: str) -> Needle:
    return Needle(label, re.escape(digits), digits=True)


def coordinate(label: str, whole: int, decimals: tuple[str, ...]) -> Needle:
    """A coordinate with four decimals or more, truncated or rounded, with a point or a comma."""
    return Needle(label, rf"(?<!\d){whole}[.,](?:{'|'.join(decimals)})")


_BETWEEN_DIGITS = re.compile(r"(?<=\d)[\s\-.()/]+(?=\d)")


@dataclass
class Findings:
    """Every hit on every surface, reported together at the end of the walk: one line per
    surface, naming what was found there, with a piece of the first hit."""

    hits: dict[str, list[str]] = field(default_factory=dict)
    context: dict[str, str] = field(default_factory=dict)

    def search(self, surface: str, content: str | bytes, needles: list[Needle]) -> None:
        text = content.decode("utf-8", "replace") if isinstance(content, bytes) else content
        digits_only = _BETWEEN_DIGITS.sub("", text)
        for needle in needles:
            found = needle.found_in(text, digits_only)
            if found is None:
                continue
            labels = self.hits.setdefault(surface, [])
            if needle.label not in labels:
                labels.append(needle.label)
            if surface not in self.context:
                source = digits_only if needle.digits else text
                start, end = max(0, found.start() - 50), min(len(source), found.end() + 50)
                self.context[surface] = source[start:end].replace("\n", " ")

    def problem(self, message: str) -> None:
        self.hits.setdefault(message, [])

    def report(self) -> str:
        lines = [f"{len(self.hits)} surfaces show what they must not:"]
        for surface, labels in self.hits.items():
            found = f": {', '.join(labels)} in …{self.context[surface]}…" if labels else ""
            lines.append(f"- {surface}{found}")
        return "\n".join(lines)


def file_data(sandbox: Sandbox, file_id: Any) -> str:
    """The bytes of a file the bot sent, as text (a CSV, or a photo's marker)."""
    stored = sandbox.world.files.get(file_id) if isinstance(file_id, str) else None
    return stored.data.decode("utf-8", "replace") if stored and stored.data else ""


def chat_content(sandbox: Sandbox, chat_id: int, since: int = 0) -> str:
    """Everything the bot sent to a chat from its `since`-th message on: texts, captions, every
    earlier version of an edited message, buttons (labels and data), places, files and their
    contents."""
    parts = []
    for record in sandbox.messages(chat_id)[since:]:
        parts.append(json.dumps(record, ensure_ascii=False, default=str))
        for key in ("photo", "document"):
            parts.append(file_data(sandbox, record.get(key)))
    return "\n".join(parts)


def button_answers(sandbox: Sandbox, user_id: int) -> str:
    """The texts the bot answered this user's button presses with (toasts and alerts)."""
    world = sandbox.world
    return "\n".join(
        json.dumps(answer, ensure_ascii=False)
        for callback_id, answer in world.callback_answers.items()
        if world.callbacks.get(callback_id, {}).get("user_id") == user_id
    )


def database_values(db_path: Database) -> list[tuple[str, str, Any]]:
    """(table, column, value) of every non-null value of every table, as SQLite holds it."""
    return [
        (table, column, value)
        for table in db_path.tables()
        for row in db_path.records(f'SELECT * FROM "{table}"')  # noqa: S608
        for column, value in row.items()
        if value is not None
    ]


def search_database(
    findings: Findings, db_path: Database, needles: list[Needle], points: list[float]
) -> None:
    """Every text (and blob) value of every column of every table, JSON columns included, for
    the needles; every real value for the planted coordinates (to 5e-5 degrees, ~5 m)."""
    for table, column, value in database_values(db_path):
        if isinstance(value, str | bytes):
            findings.search(f"database {table}.{column}", value, needles)
        elif isinstance(value, float) and any(abs(value - p) < 5e-5 for p in points):
            findings.problem(f"database {table}.{column}: the planted place ({value})")


@contextlib.asynccontextmanager
async def webhook_process(
    sandbox: Sandbox, db_path: Database, log: Path, secret: str, admin: int
) -> AsyncIterator[tuple[Desk, str, str]]:
    """`minsheng webhook` (a child process): the desk, the public and the operations address."""
    public, operations = f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"
    env = bot_env(
        sandbox,
        db_path,
        MINSHENG_WEBHOOK_URL=f"http://{public}/tg/hook",
        MINSHENG_WEBHOOK_LISTEN=public,
        MINSHENG_WEBHOOK_SECRET=secret,
        MINSHENG_HEALTH_LISTEN=operations,
        MINSHENG_ADMIN_IDS=str(admin),
        MINSHENG_FLOOD_MESSAGES="10000",
        # Every read of the walk is answered, none refused for the address's quota.
        MINSHENG_OPEN311_READS_PER_MINUTE="1000",
    )
    bot = BotProcess(env, log, command="webhook")
    bot.start()
    try:
        await eventually(
            lambda: sandbox.api.webhook is not None or bot.process.poll() is not None,
            60,
            what="the webhook set",
        )
        assert bot.process is not None
        assert bot.process.poll() is None, bot.log()[-3000:]
        # The bot runs in its own process: the desk drives it through the sandbox only.
        yield Desk(sandbox, None, db_path), public, operations  # type: ignore[arg-type]
    finally:
        await stop_bot(bot)


async def metrics(addresses: tuple[str, ...], findings: Findings, needles: list[Needle]) -> None:
    """/metrics, wherever it answers (the operations listener, or beside the webhook)."""
    answered = []
    async with aiohttp.ClientSession() as http:
        for address in addresses:
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(f"http://{address}/metrics") as answer:
                    if answer.status == 200:
                        answered.append(await answer.text())
    if not answered:
        findings.problem("/metrics answered on neither the public nor the operations address")
    findings.search("/metrics", "\n".join(answered), needles)
