"""Tortoise configuration: one app, its models and its migrations package.

`TORTOISE_ORM` serves the `tortoise` command line (makemigrations); the runtime builds its own
config from the settings with `tortoise_config(url)`.
"""

from __future__ import annotations

import os
from typing import Any

from tortoise.backends.base.config_generator import expand_db_url

DEFAULT_URL = "sqlite://var/minsheng.sqlite3"

# Durability and concurrency for SQLite; Tortoise passes URL query parameters on as PRAGMAs.
# secure_delete: what /forget and retention overwrite or delete is zeroed in the file, not left
# readable in free pages.
SQLITE_PRAGMAS = {
    "journal_mode": "WAL",
    "synchronous": "FULL",
    "busy_timeout": "10000",
    "secure_delete": "ON",
}


def with_sqlite_pragmas(url: str) -> str:
    """Add our PRAGMAs to a SQLite URL unless the operator set them already."""
    if not url.startswith("sqlite://"):
        return url
    present = url.partition("?")[2]
    extra = [f"{k}={v}" for k, v in SQLITE_PRAGMAS.items() if f"{k}=" not in present]
    if not extra:
        return url
    joiner = "&" if "?" in url else "?"
    return url + joiner + "&".join(extra)


POSTGRES_SCHEMES = ("postgres://", "postgresql://", "asyncpg://")  # as Tortoise reads them


def on_postgres(url: str) -> bool:
    """Whether a database URL names PostgreSQL (several processes may then share it)."""
    return url.startswith(POSTGRES_SCHEMES)


def asyncpg_dsn(url: str) -> str:
    """The URL in the form asyncpg.connect takes (it knows no `asyncpg://` scheme)."""
    return "postgresql://" + url.split("://", 1)[1]


async def keep_session(_connection: Any) -> None:
    """What asyncpg's pool does to a connection handed back, beyond rolling back a transaction
    left open (which it always does): nothing. Its default resets the session (advisory locks,
    cursors, LISTEN, settings), one more round trip after every query, and our pooled
    connections keep no session state: their advisory locks are transaction-level, and LISTEN
    has a connection of its own (bot.cluster)."""


# The pool's sessions on PostgreSQL. No JIT: it pays off for long analytical queries, and
# compiles a desk's /stats for a month (tens of sums over a month of cases) in 0.1–0.3 s each
# time once the table is large enough for the planner's costs to pass jit_above_cost.
POSTGRES_SESSION = {"jit": "off"}


# Tortoise's SQLite client, with the pipeline's transactions on the event loop's thread.
SQLITE_ENGINE = "storage.sqlite_client"


def database_connection(url: str) -> dict[str, Any]:
    """The desk's connection as Tortoise takes it: engine and credentials."""
    if not on_postgres(url):
        config = expand_db_url(with_sqlite_pragmas(url))
        config["engine"] = SQLITE_ENGINE
        return config
    config = expand_db_url(url)
    config["credentials"]["reset"] = keep_session
    config["credentials"]["server_settings"] = dict(POSTGRES_SESSION)
    return config


def tortoise_config(url: str) -> dict[str, Any]:
    return {
        "connections": {"default": database_connection(url)},
        "apps": {
            "minsheng": {
                "models": ["storage.models", "storage.desk_models"],
                "default_connection": "default",
                "migrations": "storage.migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


TORTOISE_ORM = tortoise_config(os.environ.get("MINSHENG_DATABASE_URL", DEFAULT_URL))
