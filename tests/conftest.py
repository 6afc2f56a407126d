"""Shared fixtures: every end-to-end test gets its own sandbox and SQLite file."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.sandbox import Sandbox
from tests.harness import sandbox_config

# python-telegram-bot 22 warns on integer time periods (RetryAfter) unless asked for timedeltas.
os.environ["PTB_TIMEDELTA"] = "1"


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    box = Sandbox(sandbox_config())
    await box.start()
    try:
        yield box
    finally:
        await box.stop()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "minsheng.sqlite3"
