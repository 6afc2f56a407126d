"""The bench's PostgreSQL side: is the server usable, and databases made for one run and dropped.

The database named in the given URL is only connected to, never written: each configuration
gets a database of its own, created on that server (the role needs CREATEDB) and dropped
afterwards, even when the run fails.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

from storage.config import asyncpg_dsn, on_postgres


class BenchRefused(Exception):
    """The bench cannot run with these arguments or this server (the message says why)."""


def _database_url(server: str, name: str) -> str:
    return urlunsplit(urlsplit(server)._replace(path=f"/{name}"))


def shown(server: str) -> str:
    """The server's URL without its password, for the report."""
    parts = urlsplit(server)
    host = parts.hostname or ""
    netloc = f"{parts.username}@{host}" if parts.username else host
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


def _no_createdb(server: str) -> str:
    return (
        f"the role of {shown(server)} may not create databases: the bench makes throwaway "
        "ones and drops them (it needs the CREATEDB right: ALTER ROLE … CREATEDB)"
    )


async def check_server(server: str, workers: int) -> None:
    """Refuse early, before minutes of measuring: a PostgreSQL URL, asyncpg, CREATEDB."""
    if workers < 1:
        raise BenchRefused("--workers must be at least 1")
    if not on_postgres(server):
        raise BenchRefused(
            "--workers needs --database postgres://… (several processes share a "
            "PostgreSQL database; a SQLite file serves one)"
        )
    try:
        # deferred: asyncpg is the optional [postgres] extra
        import asyncpg  # type: ignore[import-untyped]
    except ImportError:
        raise BenchRefused("--workers needs asyncpg: pip install 'minsheng[postgres]'") from None
    try:
        connection = await asyncpg.connect(asyncpg_dsn(server))
    except (OSError, asyncpg.PostgresError) as exc:
        raise BenchRefused(f"cannot connect to {shown(server)}: {exc}") from None
    try:
        may_create = await connection.fetchval(
            "SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user"
        )
    finally:
        await connection.close()
    if not may_create:
        raise BenchRefused(_no_createdb(server))


async def _admin(server: str, statement: str) -> None:
    # deferred: asyncpg is the optional [postgres] extra
    import asyncpg

    connection = await asyncpg.connect(asyncpg_dsn(server))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@contextlib.asynccontextmanager
async def throwaway_database(server: str, created: list[str]) -> AsyncIterator[str]:
    """A new, empty database on `server` (its name appended to `created`), dropped after."""
    name = f"minsheng_bench_{secrets.token_hex(6)}"
    # deferred: asyncpg is the optional [postgres] extra
    import asyncpg

    try:
        await _admin(server, f'CREATE DATABASE "{name}"')
    except asyncpg.InsufficientPrivilegeError:
        raise BenchRefused(_no_createdb(server)) from None
    created.append(name)
    try:
        yield _database_url(server, name)
    finally:
        await _admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
