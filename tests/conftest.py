"""Shared fixtures: every end-to-end test gets its own sandbox and database (a copy of a
database migrated once per test run: a SQLite file, or on the PostgreSQL pass a database)."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright

from bot.sandbox import Sandbox
from tests.databases import (
    ON_POSTGRES,
    Database,
    build_postgres_template,
    build_template,
    copy_database,
    drop_database,
    new_database,
    postgres_copy,
    storage_context,
)
from tests.harness import sandbox_config

# The suite starts the bot as a child process some eighty times, and each worker imports every
# module: without bytecode caches (PYTHONDONTWRITEBYTECODE, set on some machines) each of them
# compiles the whole project anew, about half a minute of CPU in all. The suite keeps them.
sys.dont_write_bytecode = False
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)

# Half of a test's time is spent waiting (on the sandbox's pacing, a child process, a socket):
# `-n auto` runs two workers per core so that one works while the other waits.
WORKERS_PER_CORE = 2


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    return WORKERS_PER_CORE * (os.cpu_count() or 1)


# The fixtures that give a test a database of its own (`served`: tests/test_http_fuzz.py's
# server, one for the module); on the PostgreSQL pass, the tests that use one of them run.
USES_DATABASE = {"db", "db_path", "served", "postgres_url"}

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
async def chromium() -> AsyncIterator[Browser]:
    """Debian's Chromium, headless, for Playwright (which then downloads no browser)."""
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    assert executable, "Debian's chromium must be installed (.ci/run installs it)"
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=executable, headless=True)
        try:
            yield browser
        finally:
            await browser.close()


@pytest.fixture(scope="session")
def database_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The migrated database every test starts from (each xdist worker builds its own)."""
    return build_template(tmp_path_factory.mktemp("template") / "minsheng.sqlite3")


@pytest.fixture(scope="session")
def postgres_template(worker_id: str) -> str:
    """On the PostgreSQL pass: the migrated template database of this worker."""
    return build_postgres_template(worker_id)


@pytest.fixture
def db_path(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """The end-to-end tests' database, which the bot under test opens by its URL: a SQLite
    file, or (MINSHENG_TEST_DATABASE_URL) a PostgreSQL database of the test's own."""
    database = new_database(request, tmp_path)
    try:
        yield database
    finally:
        drop_database(database)


@pytest.fixture
def sqlite_file(tmp_path: Path, database_template: Path) -> Path:
    """A migrated SQLite file of the test's own, on either pass (a desk to move, for example)."""
    return copy_database(database_template, tmp_path / "desk.sqlite3")


@pytest.fixture
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[None]:
    """For the storage tests: Tortoise on a migrated database of the test's own, a SQLite file
    or (MINSHENG_TEST_DATABASE_URL) a PostgreSQL database (a module that needs rows in it
    overrides this fixture, asking for it by the same name)."""
    if ON_POSTGRES:
        template = request.getfixturevalue("postgres_template")
        async with postgres_copy(template) as url, storage_context(url):
            yield
        return
    database_template = request.getfixturevalue("database_template")
    database = copy_database(database_template, tmp_path / "storage.sqlite3")
    async with storage_context(f"sqlite://{database}"):
        yield


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """The URL of a new, empty PostgreSQL database (not migrated), dropped afterwards; without
    MINSHENG_TEST_DATABASE_URL the test is skipped (it runs on the PostgreSQL pass)."""
    if not ON_POSTGRES:
        pytest.skip("needs PostgreSQL: set MINSHENG_TEST_DATABASE_URL=postgres://…")
    async with postgres_copy(None) as url:
        yield url


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The long tests first: the run should not end waiting for one that started last. On the
    PostgreSQL pass, only the tests that use a database run (the others ran on SQLite's), and
    those about SQLite's files (marked `sqlite_only`) are skipped with their reason."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
    if not ON_POSTGRES:
        return
    kept = [item for item in items if USES_DATABASE & set(getattr(item, "fixturenames", ()))]
    config.hook.pytest_deselected(items=[item for item in items if item not in kept])
    items[:] = kept
    for item in kept:
        marker = item.get_closest_marker("sqlite_only")
        if marker is not None:
            item.add_marker(pytest.mark.skip(reason=f"SQLite only: {marker.kwargs['reason']}"))
