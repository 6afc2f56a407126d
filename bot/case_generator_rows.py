"""The generated desk's rows in bulk: the catalogue's leaf categories read back, staff and
citizens, tracking numbers without a set of those given out, and the writer that inserts a
chunk of cases with their events and ratings in one transaction."""

from __future__ import annotations

import json
import random
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.case_generator_choices import LANGUAGES, NAMES, cumulative
from bot.case_generator_times import DAY, HOUR
from storage.tracking import ALPHABET, BASE, LENGTH, RANDOM_SYMBOLS

CHUNK = 50_000  # cases per transaction
FIRST_CITIZEN = 7_000_000_000
FIRST_STAFF = 9_000_000_000
ADMIN_ID = FIRST_STAFF


@dataclass(frozen=True)
class CategoryRow:
    id: int
    code: str
    domain: str
    name: str  # zh_Hans
    department_id: int
    limit_seconds: float


def utc_text(ts: float) -> str:
    """A POSIX time as Tortoise writes an aware datetime into SQLite: `isoformat(" ")`."""
    return datetime.fromtimestamp(ts, UTC).isoformat(" ")


def utc_or_none(ts: float | None) -> str | None:
    return None if ts is None else utc_text(ts)


def categories(db: sqlite3.Connection) -> list[CategoryRow]:
    """The leaf categories one can file under, each with its department and time limit."""
    rows = db.execute(
        "SELECT c.id, c.code, p.code, c.names, COALESCE(c.department_id, p.department_id),"
        " c.time_limit_hours, c.time_limit_working_days"
        " FROM category c JOIN category p ON p.id = c.parent_id"
        " WHERE c.active AND NOT c.emergency"
    ).fetchall()
    found = []
    for cid, code, domain, names, department_id, hours, days in rows:
        if department_id is None:
            department_id = db.execute("SELECT id FROM department ORDER BY id").fetchone()[0]
        # Working days as calendar time: five working days are about a week.
        limit = hours * HOUR if hours else (days or 5) * DAY * 7 / 5
        found.append(
            CategoryRow(cid, code, domain, json.loads(names)["zh_Hans"], department_id, limit)
        )
    return found


class TrackingNumbers:
    """Valid tracking numbers, distinct by construction: the case id through an affine
    permutation of the app's 31**11 numbers, spelled and checked as storage.tracking does. No
    set of numbers given out is kept, so memory stays flat whatever the count."""

    SPACE = BASE**RANDOM_SYMBOLS
    CHECK_INVERSE = pow(LENGTH, -1, BASE)

    def __init__(self, rng: random.Random) -> None:
        self.scale = rng.randrange(1, self.SPACE)
        if self.scale % BASE == 0:  # coprime with 31**11: a permutation
            self.scale += 1
        self.shift = rng.randrange(self.SPACE)

    def next(self, case_id: int) -> str:
        n = (self.scale * case_id + self.shift) % self.SPACE
        symbols, partial = [], 0
        for weight in range(1, LENGTH):
            n, value = divmod(n, BASE)
            symbols.append(ALPHABET[value])
            partial += weight * value
        symbols.append(ALPHABET[(-partial * self.CHECK_INVERSE) % BASE])
        return "".join(symbols)


class Writer:
    """Buffers rows and writes them with executemany, one transaction per chunk."""

    def __init__(self, db: sqlite3.Connection, next_case: int) -> None:
        self.db = db
        self.case_id = next_case
        self.cases: list[tuple[Any, ...]] = []
        self.events: list[tuple[Any, ...]] = []
        self.ratings: list[tuple[Any, ...]] = []
        self.disputes: list[tuple[Any, ...]] = []
        self.event_count = 0
        self.rating_count = 0

    def flush(self) -> None:
        db = self.db
        db.execute("BEGIN")
        db.executemany(
            "INSERT INTO service_case (id, tracking, citizen_id, kind, category_id, department_id,"
            " proposed_department_id, status, text, photos, latitude, longitude, address, answers,"
            " phone, anonymous, channel, created_at, accepted_at, due_at, answered_at, closed_at,"
            " reopen_count, transfer_count, repeat, signed_at, sign_due_at, route_by_hand,"
            " accept_due_at, first_answered_at, urgent, paused_at, extension_count,"
            " extension_pending, due_reminded_at, escalated_at, accept_escalated_at, supporters,"
            " duplicate_of_id, version, updated_at, publish_consent, attachments, public_title,"
            " public_text, public_note, published_at, published_by) VALUES"
            " (?,?,?,?,?,?,?,?,?,'[]',NULL,NULL,?,'{}',NULL,?,'telegram',?,?,?,?,?,?,0,0,?,?,0,"
            "?,?,0,?,0,0,?,?,?,0,?,?,?,?,'[]',?,?,?,?,?)",
            self.cases,
        )
        db.executemany(
            "INSERT INTO case_event (case_id, kind, actor, actor_id, payload, public, created_at)"
            " VALUES (?,?,?,?,?,?,?)",
            self.events,
        )
        db.executemany(
            "INSERT INTO case_rating (case_id, solved, satisfaction, comment, rated_at,"
            " citizen_id) VALUES (?,?,?,NULL,?,?)",
            self.ratings,
        )
        db.executemany(
            "INSERT INTO rating_dispute (case_id, department_id, reason, text, filed_by, filed_at,"
            " status, decided_by, decided_at) VALUES (?,?,?,'',?,?,?,?,?)",
            self.disputes,
        )
        db.execute("COMMIT")
        self.event_count += len(self.events)
        self.rating_count += len(self.ratings)
        self.cases.clear()
        self.events.clear()
        self.ratings.clear()
        self.disputes.clear()


def secondary_indexes(db: sqlite3.Connection, tables: tuple[str, ...]) -> list[tuple[str, str]]:
    marks = ",".join("?" * len(tables))
    return db.execute(
        f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"  # noqa: S608
        f" AND tbl_name IN ({marks})",
        tables,
    ).fetchall()


def ensure_staff(db: sqlite3.Connection, start_ts: float) -> dict[int, int]:
    """An admin and one handler per department (ids from FIRST_STAFF); department → handler."""
    at = utc_text(start_ts)
    departments = [row[0] for row in db.execute("SELECT id FROM department ORDER BY id")]
    people = [(ADMIN_ID, "admin", None)] + [(FIRST_STAFF + d, "handler", d) for d in departments]
    db.execute("BEGIN")
    db.executemany(
        "INSERT OR IGNORE INTO citizen (id, language, language_chosen, first_name, phone, blocked,"
        " unreachable, created_at, updated_at) VALUES (?, 'zh_Hans', 1, ?, NULL, 0, 0, ?, ?)",
        [(uid, f"staff{uid - FIRST_STAFF}", at, at) for uid, _, _ in people],
    )
    db.executemany(
        "INSERT OR IGNORE INTO staff (user_id, role, department_id, active, added_by, created_at,"
        " updated_at) VALUES (?, ?, ?, 1, NULL, ?, ?)",
        [(uid, role, d, at, at) for uid, role, d in people],
    )
    db.execute("COMMIT")
    return {d: FIRST_STAFF + d for d in departments}


def ensure_citizens(
    db: sqlite3.Connection, count: int, start_ts: float, rng: random.Random
) -> int:
    """Citizens FIRST_CITIZEN.. (count of them); the first id."""
    languages, cum = cumulative(LANGUAGES)
    at = utc_text(start_ts)
    for first in range(0, count, CHUNK):  # a chunk at a time: memory stays flat
        rows = [
            (
                FIRST_CITIZEN + i,
                rng.choices(languages, cum_weights=cum)[0],
                rng.choice(NAMES),
                at,
                at,
            )
            for i in range(first, min(count, first + CHUNK))
        ]
        db.execute("BEGIN")
        db.executemany(
            "INSERT OR IGNORE INTO citizen (id, language, language_chosen, first_name, phone,"
            " blocked, unreachable, created_at, updated_at) VALUES (?, ?, 1, ?, NULL, 0, 0, ?, ?)",
            rows,
        )
        db.execute("COMMIT")
    return FIRST_CITIZEN
