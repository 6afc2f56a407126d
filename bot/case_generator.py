"""Realistic cases in bulk: a desk's years of history in one SQLite file, for `minsheng bench`.

The file is migrated and its catalogue loaded exactly as the bot does at start-up; the cases are
then written with plain SQL in large transactions (the ORM would take hours for a million). Rows
look like the ones the app writes: datetimes as Tortoise stores them in SQLite (ISO-8601 text in
UTC with the offset), enums as their values, JSON compact, tracking numbers from the app's own
generator.

Each case lives a full life drawn in advance (submitted, accepted, signed for, maybe a question
to the citizen, answered, rated, closed; or rejected, or merged into an earlier one), and the
life is cut at `end`: what has not happened by then has not happened, so recent cases are still
open and late ones are overdue, as at a real desk.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import sqlite3
import time
from bisect import bisect
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import accumulate
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.case_generator_sweeps import sweep_marks
from storage.catalog import SAMPLE_CATALOG, catalog_loaded, load_catalog
from storage.db import close_database, open_database
from storage.tracking import ALPHABET, BASE, LENGTH, RANDOM_SYMBOLS

HOUR = 3600.0
DAY = 24 * HOUR
YEARS = 3
CHUNK = 50_000  # cases per transaction
FIRST_CITIZEN = 7_000_000_000
FIRST_STAFF = 9_000_000_000
ADMIN_ID = FIRST_STAFF
ZONE = ZoneInfo("Asia/Shanghai")

# Local hour of day → relative volume: quiet nights, morning and afternoon peaks.
HOURLY = (1, 1, 1, 1, 1, 2, 4, 8, 14, 18, 18, 15, 10, 12, 16, 16, 14, 11, 9, 8, 7, 5, 3, 2)
WEEKDAY = (1.0, 1.0, 0.95, 0.95, 0.9, 0.55, 0.5)  # Monday first
KINDS = (("complaint", 40), ("report", 30), ("inquiry", 22), ("suggestion", 8))
LANGUAGES = (("zh_Hans", 86), ("zh_Hant", 5), ("en", 6), ("ru", 3))
SOLVED = (("solved", 70), ("partly", 18), ("not_solved", 12))
SATISFACTION = {
    "solved": (("satisfied", 80), ("basic", 17), ("unsatisfied", 3)),
    "partly": (("satisfied", 25), ("basic", 50), ("unsatisfied", 25)),
    "not_solved": (("satisfied", 3), ("basic", 17), ("unsatisfied", 80)),
}
# Domains that follow the seasons: heating in the cold months, noise and rubbish in summer.
WINTER = {"heating": 6.0}
SUMMER = {"noise": 1.6, "environment": 1.3, "water": 1.2, "power": 1.3}

PLACES = (
    "东区和平街道幸福小区",
    "西区光明街道锦绣家园",
    "东区新华街道春晖苑",
    "西区金桥街道金桥花园",
    "人民路与解放路交叉口",
    "中山大道128号",
    "滨江路沿线",
    "火车站广场附近",
    "市第一中学门口",
    "建设路菜市场",
    "城南工业园",
    "东区新华街道南湖社区",
    "西区光明街道阳光城三期",
)
SINCE = (
    "已经三天了",
    "持续一周多了",
    "从昨天晚上开始",
    "反映过好几次",
    "这个月第二次了",
    "已经半个多月",
    "今天早上发现",
)
IMPACT = (
    "严重影响居民正常生活",
    "老人和孩子很不方便",
    "存在安全隐患",
    "周边商户也有意见",
    "晚上休息不好",
    "多次联系物业没有结果",
)
ASK = (
    "希望有关部门尽快处理。",
    "请尽快派人来看看。",
    "请相关部门给个说法。",
    "希望能给予答复。",
    "恳请领导重视。",
    "谢谢！",
)
ANSWERS = (
    "经核实，已安排工作人员现场处理，问题已解决。",
    "已联系相关单位，预计三个工作日内完成整改。",
    "您反映的问题已转交属地街道跟进，感谢您的监督。",
    "经调查，相关情况已依法处理，特此回复。",
)
# The public board: a share of answered cases published (the citizen agreed), with the texts
# staff would approve: the place down to its district, the answer as written.
PUBLISHED_SHARE = 0.12
PUBLIC_PLACES = ("东区和平街道", "西区光明街道", "东区新华街道", "西区金桥街道", "城南", "滨江路")
ENGLISH_PUBLIC = (
    ("Streetlight out near the school", "A streetlight near the school gate was out at night."),
    ("Radiators cold in an apartment block", "Residents reported cold radiators for three days."),
    ("Noise from a construction site", "Night-time construction noise kept residents awake."),
)
NAMES = ("王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "Anna", "Oleg", "Mary")


@dataclass(frozen=True)
class CategoryRow:
    id: int
    code: str
    domain: str
    name: str  # zh_Hans
    department_id: int
    limit_seconds: float


@dataclass(frozen=True)
class Generated:
    cases: int
    events: int
    ratings: int
    citizens: int
    seconds: float

    @property
    def cases_per_second(self) -> float:
        return self.cases / self.seconds if self.seconds else 0.0


def utc_text(ts: float) -> str:
    """A POSIX time as Tortoise writes an aware datetime into SQLite: `isoformat(" ")`."""
    return datetime.fromtimestamp(ts, UTC).isoformat(" ")


def _cumulative(pairs: tuple[tuple[str, float], ...]) -> tuple[list[str], list[float]]:
    return [name for name, _ in pairs], list(accumulate(weight for _, weight in pairs))


async def prepare(url: str) -> None:
    """Migrate and load the sample catalogue, as the bot does at its first start."""
    await open_database(url)
    try:
        if not await catalog_loaded():
            await load_catalog(SAMPLE_CATALOG)
    finally:
        await close_database()


def _categories(db: sqlite3.Connection) -> list[CategoryRow]:
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


def _hour_weights(start: float, hours: int) -> list[float]:
    """Relative volume of each hour of the span: day, week, a slow growth, and some noise."""
    rng = random.Random(7)  # noqa: S311 - made-up data, not secrets
    weights = []
    for h in range(hours):
        local = datetime.fromtimestamp(start + h * HOUR, ZONE)
        growth = 0.75 + 0.5 * h / hours
        weights.append(
            HOURLY[local.hour] * WEEKDAY[local.weekday()] * growth * rng.uniform(0.85, 1.15)
        )
    return weights


def _moments(rng: random.Random, weights: list[float], start: float, n: int) -> Iterator[float]:
    """`n` moments drawn from the hourly `weights`, yielded in order one at a time (nothing held
    but the weights): the order statistics of n uniforms, from the largest of the mirrored ones
    down (v_k = v_(k-1) · r^(1/(n-k+1))), mapped through the weights' piecewise-linear CDF."""
    total = sum(weights)
    hour, below = 0, 0.0  # the hour reached, and the weight of the hours before it
    v = 1.0
    for k in range(n):
        v *= (1.0 - rng.random()) ** (1.0 / (n - k))
        x = (1.0 - v) * total
        while hour < len(weights) - 1 and below + weights[hour] < x:
            below += weights[hour]
            hour += 1
        within = min(1.0, max(0.0, (x - below) / weights[hour]))
        yield start + (hour + within) * HOUR


class _TrackingNumbers:
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


class _Writer:
    """Buffers rows and writes them with executemany, one transaction per chunk."""

    def __init__(self, db: sqlite3.Connection, next_case: int) -> None:
        self.db = db
        self.case_id = next_case
        self.cases: list[tuple[Any, ...]] = []
        self.events: list[tuple[Any, ...]] = []
        self.ratings: list[tuple[Any, ...]] = []
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
        db.execute("COMMIT")
        self.event_count += len(self.events)
        self.rating_count += len(self.ratings)
        self.cases.clear()
        self.events.clear()
        self.ratings.clear()


def _secondary_indexes(db: sqlite3.Connection, tables: tuple[str, ...]) -> list[tuple[str, str]]:
    marks = ",".join("?" * len(tables))
    return db.execute(
        f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"  # noqa: S608
        f" AND tbl_name IN ({marks})",
        tables,
    ).fetchall()


def generate(
    path: Path,
    n: int,
    *,
    seed: int = 12345,
    end: datetime | None = None,
    progress: Callable[[int, float], None] | None = None,
) -> Generated:
    """Add `n` cases to the SQLite file at `path` (migrated, catalogue loaded: see prepare)."""
    started = time.perf_counter()
    rng = random.Random(seed)  # noqa: S311 - made-up data, not secrets
    end_ts = (end or datetime.now(UTC)).timestamp()
    start_ts = end_ts - YEARS * 365 * DAY
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("PRAGMA synchronous = OFF")
        db.execute("PRAGMA cache_size = -200000")
        categories = _categories(db)
        staff_by_department = _ensure_staff(db, start_ts)
        next_case = (db.execute("SELECT MAX(id) FROM service_case").fetchone()[0] or 0) + 1
        citizens = max(50, n // 3)
        first_citizen = _ensure_citizens(db, citizens, start_ts, rng)
        numbers = _TrackingNumbers(rng)
        # Rebuilding the secondary indexes once is far faster than keeping them up row by row.
        indexes = _secondary_indexes(db, ("service_case", "case_event", "case_rating"))
        for name, _ in indexes:
            db.execute(f'DROP INDEX "{name}"')
        try:
            writer = _Writer(db, next_case)
            hours = int((end_ts - start_ts) // HOUR)
            moments = _moments(rng, _hour_weights(start_ts, hours), start_ts, n)
            monthly = _monthly_category_weights(categories)
            life = _Life(rng, categories, monthly, staff_by_department, end_ts)
            for done, created in enumerate(moments, start=1):
                citizen = first_citizen + int(citizens * rng.random() ** 1.6)  # some file often
                life.write(writer, numbers.next(writer.case_id), citizen, created)
                if len(writer.cases) >= CHUNK:
                    writer.flush()
                    if progress:
                        progress(done, time.perf_counter() - started)
            writer.flush()
        finally:  # the schema is the migrations' again, whatever happened
            for _, sql in indexes:
                db.execute(sql)
        if progress:
            progress(n, time.perf_counter() - started)
        db.execute("PRAGMA synchronous = FULL")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return Generated(
            n, writer.event_count, writer.rating_count, citizens, time.perf_counter() - started
        )
    finally:
        db.close()


def _monthly_category_weights(categories: list[CategoryRow]) -> list[list[float]]:
    """Cumulative category weights for each calendar month (index 0: January)."""
    base = {cat.code: 1.0 + (hash_code(cat.code) % 5) for cat in categories}
    tables = []
    for month in range(1, 13):
        weights = []
        for cat in categories:
            w = base[cat.code]
            if month in (11, 12, 1, 2, 3):
                w *= WINTER.get(cat.domain, 1.0)
            elif cat.domain == "heating":
                w *= 0.15
            if month in (6, 7, 8):
                w *= SUMMER.get(cat.domain, 1.0)
            weights.append(w)
        tables.append(list(accumulate(weights)))
    return tables


def hash_code(text: str) -> int:
    """A stable small number from a code (Python's hash() changes between runs)."""
    return sum(ord(ch) * (i + 1) for i, ch in enumerate(text))


def _ensure_staff(db: sqlite3.Connection, start_ts: float) -> dict[int, int]:
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


def _ensure_citizens(
    db: sqlite3.Connection, count: int, start_ts: float, rng: random.Random
) -> int:
    """Citizens FIRST_CITIZEN.. (count of them); the first id."""
    languages, cum = _cumulative(LANGUAGES)
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


class _Life:
    """Draws one case's whole life and writes what of it happened by `end`."""

    def __init__(
        self,
        rng: random.Random,
        categories: list[CategoryRow],
        monthly: list[list[float]],
        handlers: dict[int, int],
        end: float,
    ) -> None:
        self.rng = rng
        self.categories = categories
        self.monthly = monthly
        self.handlers = handlers
        self.end = end
        self.kinds = _cumulative(KINDS)
        self.solved = _cumulative(SOLVED)
        self.satisfaction = {k: _cumulative(v) for k, v in SATISFACTION.items()}
        self.recent_ids: list[int] = []  # for merges: a few earlier cases

    def _pick(self, table: tuple[list[str], list[float]]) -> str:
        names, cum = table
        return names[bisect(cum, self.rng.random() * cum[-1])]

    def _text(self, cat: CategoryRow) -> str:
        r = self.rng
        return (
            f"{r.choice(PLACES)}{cat.name}，{r.choice(SINCE)}，{r.choice(IMPACT)}，{r.choice(ASK)}"
        )

    def write(self, w: _Writer, tracking: str, citizen: int, created: float) -> None:
        r, end = self.rng, self.end
        month = datetime.fromtimestamp(created, ZONE).month
        cum = self.monthly[month - 1]
        cat = self.categories[bisect(cum, r.random() * cum[-1])]
        kind = self._pick(self.kinds)
        case_id = w.case_id
        w.case_id += 1
        events = w.events
        first_event = len(events)
        handler = self.handlers.get(cat.department_id)
        submitted = f'{{"kind":"{kind}","category":"{cat.code}"}}'
        events.append((case_id, "submitted", "citizen", citizen, submitted, 1, utc_text(created)))
        accept_due = created + 2 * HOUR
        department = None
        accepted = signed = sign_due = paused = first_answer = answered = closed = None
        due = created + cat.limit_seconds  # set at submission, set afresh at acceptance
        duplicate_of = None
        status = "submitted"
        last = created
        version = 1
        fate = r.random()
        # Acceptance: most within the two hours, some late (nights and weekends).
        t_accept = created + r.expovariate(1 / (1.2 * HOUR))
        if r.random() < 0.1:
            t_accept += 6 * HOUR
        if fate < 0.03 and t_accept <= end:  # rejected (not the desk's business, spam)
            status, closed, last = "rejected", t_accept, t_accept
            events.append(
                (
                    case_id,
                    "rejected",
                    "staff",
                    handler,
                    '{"reason":"out_of_scope"}',
                    1,
                    utc_text(t_accept),
                )
            )
        elif fate < 0.045 and t_accept <= end and self.recent_ids:  # merged into an earlier one
            status, closed, last = "merged", t_accept, t_accept
            duplicate_of = r.choice(self.recent_ids)
            events.append((case_id, "merged", "staff", handler, "{}", 1, utc_text(t_accept)))
        elif t_accept <= end:
            status, department, accepted, last = "accepted", cat.department_id, t_accept, t_accept
            version += 1
            due = accepted + cat.limit_seconds
            sign_due = accepted + DAY
            events.append((case_id, "accepted", "staff", handler, "{}", 1, utc_text(accepted)))
            t_sign = accepted + r.expovariate(1 / (3 * HOUR))
            stuck = r.random() < 0.004  # forgotten: overdue for good
            if t_sign <= end:
                status, signed, last = "in_progress", t_sign, t_sign
                version += 1
                events.append((case_id, "signed", "staff", handler, "{}", 0, utc_text(signed)))
                work = cat.limit_seconds * (
                    r.uniform(0.1, 0.9) if r.random() < 0.86 else r.uniform(1.0, 2.5)
                )
                t_answer = signed + work
                if r.random() < 0.06:  # a question to the citizen: the clock stops meanwhile
                    t_ask = signed + work * 0.3
                    wait = r.expovariate(1 / DAY)
                    if t_ask <= end:
                        events.append(
                            (case_id, "question", "staff", handler, "{}", 1, utc_text(t_ask))
                        )
                        if t_ask + wait > end or stuck:
                            status, paused, last = "awaiting_citizen", t_ask, t_ask
                        else:
                            events.append(
                                (
                                    case_id,
                                    "citizen_answered",
                                    "citizen",
                                    citizen,
                                    "{}",
                                    1,
                                    utc_text(t_ask + wait),
                                )
                            )
                            due += wait
                            t_answer += wait
                            last = t_ask + wait
                        version += 2
                if status == "in_progress" and t_answer <= end and not stuck:
                    status, first_answer, answered, last = "answered", t_answer, t_answer, t_answer
                    version += 1
                    reply = json.dumps(
                        {"text": r.choice(ANSWERS)}, ensure_ascii=False, separators=(",", ":")
                    )
                    events.append(
                        (case_id, "answered", "staff", handler, reply, 1, utc_text(answered))
                    )
                    rated = r.random() < 0.82
                    t_close = answered + (r.expovariate(1 / (20 * HOUR)) if rated else 7 * DAY)
                    if t_close <= end:
                        status, closed, last = "closed", t_close, t_close
                        version += 1
                        if rated:
                            solved = self._pick(self.solved)
                            happy = self._pick(self.satisfaction[solved])
                            w.ratings.append((case_id, solved, happy, utc_text(t_close), citizen))
                            events.append(
                                (
                                    case_id,
                                    "rated",
                                    "citizen",
                                    citizen,
                                    f'{{"solved":"{solved}","satisfaction":"{happy}"}}',
                                    1,
                                    utc_text(t_close),
                                )
                            )
                            events.append(
                                (case_id, "closed", "citizen", citizen, "{}", 1, utc_text(t_close))
                            )
                        else:
                            events.append(
                                (case_id, "closed", "system", None, "{}", 1, utc_text(t_close))
                            )
        marks = (accept_due, accepted, due, paused, answered)
        if len(self.recent_ids) < 1000:
            self.recent_ids.append(case_id)
        elif r.random() < 0.01:
            self.recent_ids[r.randrange(1000)] = case_id
        text = self._text(cat)
        public = (None,) * 5
        if answered is not None and r.random() < PUBLISHED_SHARE and answered + DAY <= end:
            public = self._public(cat, answered + r.uniform(HOUR, DAY), handler)
        w.cases.append(
            (
                case_id,
                tracking,
                citizen,
                kind,
                cat.id,
                department,
                cat.department_id,
                status,
                text,
                None,
                1 if r.random() < 0.05 else 0,
                utc_text(created),
                _t(accepted),
                _t(due),
                _t(answered),
                _t(closed),
                0,
                _t(signed),
                _t(sign_due),
                utc_text(accept_due),
                _t(first_answer),
                _t(paused),
                *self._sweep_marks(events, first_event, case_id, status, marks),
                duplicate_of,
                version,
                utc_text(last),
                0 if public[0] is None else 1,
                *public,
            )
        )

    def _sweep_marks(
        self,
        events: list[tuple[Any, ...]],
        first_event: int,
        case_id: int,
        status: str,
        times: tuple[float, float | None, float, float | None, float | None],
    ) -> tuple[str | None, str | None, str | None]:
        """What the sweeps did to an open case by `end` (bot.case_generator_sweeps): its
        due_reminded_at, escalated_at and accept_escalated_at, and their events, in order."""
        found = sweep_marks(case_id, status, *times, self.end)
        if found.events:
            events.extend(found.events)
            events[first_event:] = sorted(events[first_event:], key=lambda e: e[6])
        return found.reminded, found.escalated, found.accept_escalated

    def _public(self, cat: CategoryRow, at: float, by: int | None) -> tuple[Any, ...]:
        """Title, text, note, when and by whom: a published case's public side."""
        r = self.rng
        if r.random() < 0.08:
            title, text = r.choice(ENGLISH_PUBLIC)
            return title, text, "Fixed; thank you for reporting it.", utc_text(at), by
        place = r.choice(PUBLIC_PLACES)
        text = f"居民反映{place}{cat.name}，{r.choice(SINCE)}，{r.choice(IMPACT)}。"
        return f"{place}{cat.name}", text, r.choice(ANSWERS), utc_text(at), by


def _t(ts: float | None) -> str | None:
    return None if ts is None else utc_text(ts)


def _rate(done: int, seconds: float) -> str:
    return f"{done:,} cases in {seconds:.1f} s ({done / seconds if seconds else math.inf:,.0f}/s)"


async def build(path: Path, n: int, *, seed: int = 12345, quiet: bool = False) -> Generated:
    """Migrate `path` the bot's way, load the catalogue, and add `n` cases, printing progress."""
    path.parent.mkdir(parents=True, exist_ok=True)
    await prepare(f"sqlite://{path}")

    reported = [0]

    def report(done: int, seconds: float) -> None:
        # The last call comes after the indexes are rebuilt, with the same count.
        what = "with indexes" if done == reported[0] else "generated"
        reported[0] = done
        if not quiet:
            print(f"  {what} {_rate(done, seconds)}", flush=True)

    return await asyncio.to_thread(generate, path, n, seed=seed, progress=report)
