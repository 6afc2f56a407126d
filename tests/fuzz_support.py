"""What the HTTP fuzz test shares: a request described as data (so Hypothesis can draw, shrink and
print it), sent byte for byte over a raw socket (headers that are not UTF-8, bodies of any
shape), and a fingerprint of the database to prove that a refused request changed nothing."""

from __future__ import annotations

import asyncio
import contextlib
import re
import sqlite3
from dataclasses import dataclass, field
from urllib.parse import quote, quote_from_bytes, urlencode

from tests.databases import Database

# Stand-ins, replaced when the request is sent by what the running server issued. Letters only,
# so that they read the same once percent-encoded, JSON-encoded or put in a multipart body.
COOKIE, CSRF, NUMBER = "zqCOOKIEzq", "zqCSRFzq", "zqNUMBERzq"
KEY, SESSION = "zqKEYzq", "zqSESSIONzq"

# A refusal is audited and a quota counts what it refuses, by design: those rows may grow on a
# 4xx (and a staff member's refused action may be an "authz_denied" event). Nothing else may.
AUDIT_TABLES = ("access_denial", "quota_use")


@dataclass(frozen=True)
class Call:
    """One request: a route of the surface, values for its path parameters, the query string,
    the cookie, a form (fields, or raw bytes) and any other header."""

    route: int | str = 0  # an index into the surface's routes, or "METHOD /path/{template}"
    params: dict[str, str] = field(default_factory=dict)
    query: str = ""
    cookie: str | bytes | None = None
    form: dict[str, str] | bytes | None = None
    headers: tuple[tuple[str, str | bytes], ...] = ()


@dataclass
class Target:
    """The running server and what it issued (substituted for the stand-ins)."""

    host: str
    port: int
    db_path: Database
    issued: dict[str, str]

    def fill(self, value: str | bytes) -> bytes:
        raw = value.encode("utf-8", "surrogatepass") if isinstance(value, str) else value
        for stand_in, real in self.issued.items():
            raw = raw.replace(stand_in.encode(), real.encode())
        return raw


def path_of(template: str, params: dict[str, str], target: Target) -> bytes:
    """The route's path with each {name} filled from params (or params["*"]), percent-encoded."""

    def value(found: re.Match[str]) -> str:
        raw = params.get(found.group(1), params.get("*", "0"))
        return quote_from_bytes(target.fill(raw), safe="")

    return re.sub(r"\{(\w+)[^}]*\}", value, template).encode()


def form_body(form: dict[str, str] | bytes | None, target: Target) -> bytes:
    if form is None:
        return b""
    if isinstance(form, bytes):
        return target.fill(form)
    return target.fill(urlencode(form, quote_via=quote))


async def send(
    target: Target, method: str, path: bytes, call: Call, body: bytes
) -> tuple[int, bytes]:
    """Send the request as bytes; the status and the rest of the answer (headers and body)."""
    lines = [
        method.encode()
        + b" "
        + path
        + (b"?" + target.fill(call.query) if call.query else b"")
        + b" HTTP/1.1",
        f"Host: {target.host}:{target.port}".encode(),
        b"Connection: close",
        b"Content-Length: " + str(len(body)).encode(),
    ]
    if call.form is not None and not any(
        name.lower() == "content-type" for name, _ in call.headers
    ):
        lines.append(b"Content-Type: application/x-www-form-urlencoded")
    if call.cookie is not None:
        lines.append(b"Cookie: minsheng_session=" + target.fill(call.cookie))
    lines += [name.encode() + b": " + target.fill(value) for name, value in call.headers]
    reader, writer = await asyncio.open_connection(target.host, target.port)
    try:
        writer.write(b"\r\n".join(lines) + b"\r\n\r\n" + body)
        await writer.drain()
        status_line, rest = await asyncio.wait_for(reader.readline(), 60), b""
        with contextlib.suppress(ConnectionError, TimeoutError):
            rest = await asyncio.wait_for(reader.read(), 60)  # until the server closes
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
    parts = status_line.split()
    assert len(parts) >= 2, f"no HTTP answer: {status_line!r}"
    return int(parts[1]), rest


def fingerprint(db_path: Database) -> list[tuple[object, ...]]:
    """Row count and highest row id of every table (audit tables aside, a staff member's
    refused actions aside), the AUTOINCREMENT counters (PostgreSQL's sequences), and each
    case's status and version."""
    found: list[tuple[object, ...]] = []
    for table in db_path.tables():
        if table in AUDIT_TABLES:
            continue
        where = " WHERE kind != 'authz_denied'" if table == "case_event" else ""
        if db_path.path is None:
            has_id = any(name == "id" for name, _ in db_path.columns(table))
            sql = f'SELECT count(*), {"max(id)" if has_id else "0"} FROM "{table}"{where}'  # noqa: S608
            found.append((table, *db_path.query(sql)[0]))
            continue
        try:
            row = db_path.query(f'SELECT count(*), max(rowid) FROM "{table}"{where}')  # noqa: S608
        except sqlite3.OperationalError:  # a table without rowid
            row = db_path.query(f'SELECT count(*), 0 FROM "{table}"{where}')  # noqa: S608
        found.append((table, *row[0]))
    if db_path.path is None:
        counters = "SELECT replace(sequencename, '_id_seq', ''), last_value FROM pg_sequences"
    else:
        counters = "SELECT name, seq FROM sqlite_sequence"
    found += sorted(
        row for row in db_path.query(counters) if row[0] not in (*AUDIT_TABLES, "case_event")
    )
    found += db_path.query("SELECT id, status, version FROM service_case ORDER BY id")
    return found


async def exchange(
    target: Target, method: str, template: str, call: Call, *, reports: tuple[int, ...] = ()
) -> tuple[int, bytes]:
    """Send the call; no 5xx (but the `reports` a health probe answers with by design), and a
    4xx leaves the database as it was. What `send` returns."""
    path, body = path_of(template, call.params, target), form_body(call.form, target)
    before = fingerprint(target.db_path)
    status, answer = await send(target, method, path, call, body)
    shown = f"{method} {path.decode(errors='replace')[:200]} ({call!r:.600})"
    assert status < 500 or status in reports, f"{status} for {shown}"
    if 400 <= status < 500:
        assert fingerprint(target.db_path) == before, f"refused ({status}) yet changed: {shown}"
    return status, answer
