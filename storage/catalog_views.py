"""The catalogue as its readers see it: frozen views of departments and categories, made from
rows read with the ORM's `values()`, never ORM rows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from storage.catalog_checks import localized


@dataclass(frozen=True)
class DepartmentView:
    id: int
    code: str
    names: Mapping[str, str]
    parent_code: str | None
    active: bool
    review_required: bool

    def name(self, lang: str) -> str:
        return localized(self.names, lang)


@dataclass(frozen=True)
class Choice:
    code: str
    names: Mapping[str, str]

    def name(self, lang: str) -> str:
        return localized(self.names, lang)


@dataclass(frozen=True)
class Question:
    """One of a category's own typed fields (later an Open311 service attribute)."""

    code: str
    type: str  # number | date | choice | text
    required: bool
    prompts: Mapping[str, str]
    min: float | None = None
    max: float | None = None
    choices: tuple[Choice, ...] = ()
    labels: Mapping[str, str] | None = None  # short, for summaries; optional in a catalogue

    def prompt(self, lang: str) -> str:
        return localized(self.prompts, lang)

    def label(self, lang: str) -> str:
        """The short name of the answer ("Cold since"); without one, the prompt less its "?"."""
        if self.labels:
            return localized(self.labels, lang)
        return self.prompt(lang).strip().rstrip("?？:：").rstrip()


@dataclass(frozen=True)
class CategoryView:
    id: int
    code: str
    names: Mapping[str, str]
    domain_code: str | None  # None: this is a domain
    department_code: str | None  # the default department; None for domains and emergencies
    time_limit_hours: int | None
    time_limit_working_days: int | None
    location_required: bool
    emergency: bool
    questions: tuple[Question, ...]
    sort: int
    active: bool

    @property
    def is_domain(self) -> bool:
        return self.domain_code is None

    def name(self, lang: str) -> str:
        return localized(self.names, lang)


CATEGORY_COLUMNS = (
    "id",
    "code",
    "names",
    "parent__code",
    "department__code",
    "time_limit_hours",
    "time_limit_working_days",
    "location_required",
    "emergency",
    "questions",
    "sort",
    "active",
)


def category_view(row: dict[str, Any]) -> CategoryView:
    questions = tuple(
        Question(
            code=q["code"],
            type=q["type"],
            required=q["required"],
            prompts=q["prompt"],
            min=q.get("min"),
            max=q.get("max"),
            choices=tuple(Choice(c["code"], c["names"]) for c in q.get("choices", [])),
            labels=q.get("label"),
        )
        for q in row["questions"]
    )
    return CategoryView(
        id=row["id"],
        code=row["code"],
        names=row["names"],
        domain_code=row["parent__code"],
        department_code=row["department__code"],
        time_limit_hours=row["time_limit_hours"],
        time_limit_working_days=row["time_limit_working_days"],
        location_required=row["location_required"],
        emergency=row["emergency"],
        questions=questions,
        sort=row["sort"],
        active=row["active"],
    )


DEPARTMENT_COLUMNS = ("id", "code", "names", "parent__code", "active", "review_required")


def department_view(row: dict[str, Any]) -> DepartmentView:
    return DepartmentView(
        id=row["id"],
        code=row["code"],
        names=row["names"],
        parent_code=row["parent__code"],
        active=row["active"],
        review_required=row["review_required"],
    )
