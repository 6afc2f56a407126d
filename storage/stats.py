"""The desk's figures for a period: counted by the database, never by loading cases.

`compute_stats` answers for the cases received (created) in [start, end): the counts per lead
department and the median and 90th percentile of the time to the first answer, overall and per
department, from storage.stats_counts, which reads the period's cases from one covering index.
README.md ("Figures") defines every figure exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from tortoise.transactions import in_transaction

from storage.catalog import DepartmentNotFound
from storage.catalog_checks import as_code
from storage.models import Department, Staff, StaffRole
from storage.staff import (
    StaffAction,
    StaffNotAuthorized,
    _subtree,
    check,
    check_is_staff,
    record_denial,
)
from storage.stats_counts import OPEN_UNANSWERED as OPEN_UNANSWERED
from storage.stats_counts import Marks, period_figures

# The score that ranks departments: weights of the rates it averages (README "Figures").
SCORE_WEIGHTS = {
    "on_time_completion_rate": 0.3,
    "response_rate": 0.2,
    "resolution_rate": 0.25,
    "satisfaction_rate": 0.25,
}


def _rate(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


@dataclass(frozen=True)
class Figures:
    """Counts for one set of cases; each rate is None when its denominator is zero."""

    received: int = 0
    accepted: int = 0
    sign_counted: int = 0  # signed for, or unsigned past sign_due_at
    signed_on_time: int = 0
    response_counted: int = 0  # first answer given, or none yet and past due_at
    responded_on_time: int = 0
    answered: int = 0  # has a first answer
    completion_base: int = 0  # accepted and not merged into another case
    completed: int = 0  # closed
    completion_counted: int = 0  # closed with a due date, or unanswered past it
    completed_on_time: int = 0
    rated: int = 0
    resolved: int = 0  # solved or partly
    satisfied: int = 0  # satisfied or basically satisfied
    reopened: int = 0
    proposals_accepted: int = 0  # routed into the department proposed at filing (属地)
    proposals_changed: int = 0  # routed elsewhere, at acceptance or by a transfer
    disputed: int = 0  # rated, the rating covered by a granted dispute (差评复核): not counted
    called_back: int = 0  # answered and rated (chat or callback), or a callback tried (回访)
    median_answer_hours: float | None = None
    p90_answer_hours: float | None = None

    @property
    def acceptance_rate(self) -> float | None:
        return _rate(self.accepted, self.received)

    @property
    def on_time_sign_rate(self) -> float | None:
        return _rate(self.signed_on_time, self.sign_counted)

    @property
    def response_rate(self) -> float | None:
        return _rate(self.responded_on_time, self.response_counted)

    @property
    def resolution_rate(self) -> float | None:
        return _rate(self.resolved, self.rated_counted)

    @property
    def completion_rate(self) -> float | None:
        return _rate(self.completed, self.completion_base)

    @property
    def on_time_completion_rate(self) -> float | None:
        return _rate(self.completed_on_time, self.completion_counted)

    @property
    def satisfaction_rate(self) -> float | None:
        return _rate(self.satisfied, self.rated_counted)

    @property
    def rated_counted(self) -> int:
        """Ratings the resolution and satisfaction rates count: not those disputes took out."""
        return self.rated - self.disputed

    @property
    def callback_rate(self) -> float | None:
        return _rate(self.called_back, self.answered)

    @property
    def feedback_rate(self) -> float | None:
        return _rate(self.rated, self.answered)

    @property
    def reopen_rate(self) -> float | None:
        return _rate(self.reopened, self.answered)

    @property
    def score(self) -> float | None:
        """The weighted mean of the ranking rates that have a denominator (0..100)."""
        parts = [(w, getattr(self, name)) for name, w in SCORE_WEIGHTS.items()]
        present = [(w, v) for w, v in parts if v is not None]
        if not present:
            return None
        return float(100 * sum(w * v for w, v in present) / sum(w for w, _ in present))


_COUNTS = tuple(f for f in Figures.__dataclass_fields__ if not f.endswith("_hours"))


@dataclass(frozen=True)
class DepartmentStats:
    code: str | None  # None: cases not yet assigned to a department
    figures: Figures
    rank: int | None  # by score, best first; None when there is no score (or no department)


@dataclass(frozen=True)
class Stats:
    start: datetime
    end: datetime
    department_code: str | None
    total: Figures
    departments: tuple[DepartmentStats, ...] = field(default=())


async def scope_ids(department_code: str | None) -> list[int] | None:
    """The department and its subtree, by id; None for every department."""
    if department_code is None:
        return None
    dept_id = await department_id(department_code)
    if dept_id is None:
        raise DepartmentNotFound(department_code)
    return sorted(await _subtree(dept_id))


async def department_id(code: str) -> int | None:
    row = await Department.filter(code=as_code(code)).first().values("id")
    return None if row is None else int(row["id"])


def scope_sql(ids: list[int] | None) -> tuple[str, list[int]]:
    """A WHERE fragment for cases of these departments (unassigned ones by proposal)."""
    if ids is None:
        return "", []
    marks = ", ".join("?" for _ in ids)
    # The unary plus keeps SQLite on the created_at index (the period is the narrow part):
    # without it, it scans the department's cases of every year (457 ms → 52 ms on 1M cases).
    return (
        f" AND (+c.department_id IN ({marks}) OR (c.department_id IS NULL"
        f" AND c.proposed_department_id IN ({marks})))",
        [*ids, *ids],
    )


def _figures(counts: dict[str, int], marks: Marks | None) -> Figures:
    median, p90 = marks if marks is not None else (None, None)
    return Figures(**counts, median_answer_hours=median, p90_answer_hours=p90)


async def compute_stats(
    start: datetime,
    end: datetime,
    department_code: str | None = None,
    *,
    now: datetime | None = None,
) -> Stats:
    """The figures of the cases received in [start, end), in a department's subtree or all.

    `now` decides which open cases are already late (default: the wall clock). Raises
    DepartmentNotFound for an unknown code. The caller checks access (see `report_scope`).
    """
    now = now or datetime.now(UTC)
    async with in_transaction():
        ids = await scope_ids(department_code)
        found = await period_figures(start, end, ids, now)
        codes = dict(await Department.all().values_list("id", "code"))
    total_counts = {k: sum(c[k] for c in found.counts.values()) for k in _COUNTS}
    total = _figures(total_counts, found.overall)
    rows = [
        (codes.get(d) if d is not None else None, _figures(c, found.marks.get(d)))
        for d, c in found.counts.items()
    ]
    return Stats(start, end, department_code, total, rank_departments(rows))


def rank_departments(rows: list[tuple[str | None, Figures]]) -> tuple[DepartmentStats, ...]:
    """Departments by score (best first), then by volume and code; unscored ones last."""

    def key(row: tuple[str | None, Figures]) -> tuple[int, float, int, str]:
        code, figures = row
        score = figures.score if code is not None else None
        return (score is None, -(score or 0.0), -figures.received, code or "~")

    ranked, rank = [], 0
    for code, figures in sorted(rows, key=key):
        scored = code is not None and figures.score is not None
        rank += scored
        ranked.append(DepartmentStats(code, figures, rank if scored else None))
    return tuple(ranked)


async def report_scope(user_id: int, department_code: str | None, *, now: datetime) -> str | None:
    """Whom a report may cover: the department asked for, or the caller's whole reach.

    Supervisors and admins only (StaffAction.REPORTS). A supervisor limited to a subtree gets
    their own subtree when they name none, and is refused one outside it. Raises
    StaffNotAuthorized (audited) and DepartmentNotFound.
    """
    try:
        async with in_transaction():
            row = (
                await Staff.filter(user_id=user_id, active=True)
                .first()
                .values("role", "department__code", "department_id")
            )
            restricted = (
                row is not None
                and StaffRole(row["role"]) is StaffRole.SUPERVISOR
                and row["department_id"] is not None
            )
            if department_code is None and restricted and row is not None:
                department_code = row["department__code"]
            dept_id = None
            if department_code is not None:
                # Who may not see reports learns nothing, not even which codes exist.
                await check_is_staff(user_id, StaffAction.REPORTS, None)
                dept_id = await department_id(department_code)
                if dept_id is None:
                    raise DepartmentNotFound(department_code)
            await check(user_id, StaffAction.REPORTS, (dept_id,))
            return department_code
    except StaffNotAuthorized as denied:
        await record_denial(denied, now=now)
        raise
