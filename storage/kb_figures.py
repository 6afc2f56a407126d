"""The knowledge base's figures for a period (README "Figures"): the instant-answer rate, the
most used articles and the gaps.

- deflections: offers decided "answered" in [start, end) (chat and phone): questions answered
  with no case;
- inquiries filed: cases of kind "inquiry" received in [start, end);
- instant-answer rate (即时答复率): deflections / (deflections + inquiries filed);
- most used: the articles opened or answering most often in the period's offers;
- gaps: the articles most often offered to a question that was then filed anyway.

Only the codes columns of the period's offers are read (one query); they carry no words.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from storage.models import Case, CaseKind, KbOffer

SHOWN = 3


@dataclass(frozen=True)
class KbFigures:
    deflections: int = 0
    inquiries_filed: int = 0
    most_used: list[tuple[str, int]] = field(default_factory=list)  # (code, uses), top first
    gaps: list[tuple[str, int]] = field(default_factory=list)  # (code, filed anyway), top first

    @property
    def instant_answer_rate(self) -> float | None:
        total = self.deflections + self.inquiries_filed
        return self.deflections / total if total else None


def _top(counts: Counter[str]) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:SHOWN]


async def kb_figures(start: datetime, end: datetime) -> KbFigures:
    """The knowledge-base figures for offers decided, and inquiries received, in [start, end)."""
    rows = await KbOffer.filter(decided_at__gte=start, decided_at__lt=end).values_list(
        "outcome", "offered", "opened", "answered_by"
    )
    used: Counter[str] = Counter()
    gaps: Counter[str] = Counter()
    deflections = 0
    for outcome, offered, opened, answered_by in rows:
        touched = set(opened)
        if answered_by:
            touched.add(answered_by)
        used.update(touched)
        if outcome == "answered":
            deflections += 1
        elif outcome == "filed":
            gaps.update(set(offered))
    inquiries = await Case.filter(
        kind=CaseKind.INQUIRY, created_at__gte=start, created_at__lt=end
    ).count()
    return KbFigures(
        deflections=deflections, inquiries_filed=inquiries, most_used=_top(used), gaps=_top(gaps)
    )
