"""The words of the reports: the /stats summary with its ranking table, and the weekly digest.

HTML (parse_mode) for the table's monospace block; every name from the catalogue is escaped.
`minsheng report` prints the same text without the markup.
"""

from __future__ import annotations

import html
import unicodedata
from typing import Any

from bot.i18n import Translator
from storage.stats import Figures, Stats
from storage.stats_series import name_in

RANKED_ROWS = 20
NAME_COLUMNS = 20  # the department's column in the ranking, in monospace columns


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def hours(t: Translator, value: float | None) -> str:
    return "—" if value is None else t.gettext("{hours} h", hours=f"{value:.1f}")


def summary_lines(f: Figures, t: Translator) -> list[str]:
    """One line per figure, as README.md ("Figures") defines them."""
    return [
        t.gettext("Received: {count}", count=f.received),
        t.gettext("Accepted: {count} ({rate})", count=f.accepted, rate=pct(f.acceptance_rate)),
        t.gettext(
            "Signed for on time: {rate} ({count} of {total})",
            rate=pct(f.on_time_sign_rate),
            count=f.signed_on_time,
            total=f.sign_counted,
        ),
        t.gettext(
            "Answered within the limit: {rate} ({count} of {total})",
            rate=pct(f.response_rate),
            count=f.responded_on_time,
            total=f.response_counted,
        ),
        t.gettext(
            "Resolved: {rate} ({count} of {total} rated)",
            rate=pct(f.resolution_rate),
            count=f.resolved,
            total=f.rated_counted,
        ),
        t.gettext("Completed: {count} ({rate})", count=f.completed, rate=pct(f.completion_rate)),
        t.gettext(
            "Completed on time: {rate} ({count} of {total})",
            rate=pct(f.on_time_completion_rate),
            count=f.completed_on_time,
            total=f.completion_counted,
        ),
        t.gettext(
            "Satisfied: {rate} ({count} of {total} rated)",
            rate=pct(f.satisfaction_rate),
            count=f.satisfied,
            total=f.rated_counted,
        ),
        t.gettext(
            "Feedback: {rate} ({count} of {total} answered)",
            rate=pct(f.feedback_rate),
            count=f.rated,
            total=f.answered,
        ),
        t.gettext(
            "Reopened: {rate} ({count} of {total} answered)",
            rate=pct(f.reopen_rate),
            count=f.reopened,
            total=f.answered,
        ),
        t.gettext(
            "Callback rate: {rate} ({count} of {total} answered)",
            rate=pct(f.callback_rate),
            count=f.called_back,
            total=f.answered,
        ),
        t.gettext("Disputes granted: {count}", count=f.disputed),
        t.gettext(
            "Routing proposals: {accepted} accepted as proposed, {changed} changed",
            accepted=f.proposals_accepted,
            changed=f.proposals_changed,
        ),
        t.gettext(
            "Time to first answer: median {median}, 90% within {p90}",
            median=hours(t, f.median_answer_hours),
            p90=hours(t, f.p90_answer_hours),
        ),
    ]


def _columns(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in text)


def fit(text: str, columns: int) -> str:
    """`text` cut and padded to `columns` monospace columns (a Chinese character takes two)."""
    if _columns(text) > columns:
        while _columns(text) + 1 > columns:
            text = text[:-1]
        text += "…"
    return text + " " * (columns - _columns(text))


def ranking_table(
    stats: Stats, names: dict[str, Any] | None = None, language: str = "en"
) -> list[str]:
    """Rank, department, score, received, completed on time, satisfied: monospace rows; the
    departments by name in `language` when `names` (storage.stats_series.catalogue_names)."""
    rows = []
    for d in stats.departments[:RANKED_ROWS]:
        f = d.figures
        score = "—" if d.rank is None or f.score is None else f"{f.score:.1f}"
        name = name_in(names, d.code, language) if names is not None else d.code or "—"
        rows.append(
            f"{d.rank or '':>2} {fit(name, NAME_COLUMNS)} {score:>5} {f.received:>6} "
            f"{pct(f.on_time_completion_rate):>6} {pct(f.satisfaction_rate):>6}"
        )
    return rows


def stats_text(
    stats: Stats,
    period: str,
    t: Translator,
    department_name: str | None,
    *,
    markup: bool = True,
    names: dict[str, Any] | None = None,
) -> str:
    """The /stats answer: the figures of a period, then the department ranking (by name when
    given the departments' `names`, storage.stats_series.catalogue_names()[0])."""
    if department_name is None:
        head = t.gettext("Figures for {period}", period=period)
    else:
        head = t.gettext(
            "Figures for {period}, {department}",
            period=period,
            department=html.escape(department_name) if markup else department_name,
        )
    if stats.total.received == 0:
        return f"{head}\n{t.gettext('No requests were received in this period.')}"
    legend = t.gettext(
        "Departments by score (rank, department, score, received, completed on time, satisfied):"
    )
    table = "\n".join(ranking_table(stats, names, t.language))
    block = f"<pre>{html.escape(table)}</pre>" if markup else table
    bold = f"<b>{head}</b>" if markup else head
    return "\n".join([bold, *summary_lines(stats.total, t), "", legend, block])


def _change(count: int, previous: int, t: Translator) -> str:
    if previous == 0:
        return t.gettext("new") if count else "±0%"
    return f"{(count - previous) / previous * 100:+.0f}%"


def digest_text(
    facts: dict[str, Any],
    t: Translator,
    names: tuple[dict[str, Any], dict[str, Any]],
    titles: dict[str, str] | None = None,
) -> str:
    """The weekly digest (民声摘报) from its facts, in HTML; `titles` of the articles by code."""
    departments, categories = names
    lang = t.language

    def dept(code: str | None) -> str:
        return html.escape(name_in(departments, code, lang))

    def cat(code: str | None) -> str:
        return html.escape(name_in(categories, code, lang))

    received, previous = int(facts["received"]), int(facts["previous"])
    title = t.gettext(
        "Weekly digest, {first_day} to {last_day}",
        first_day=facts["first_day"],
        last_day=facts["last_day"],
    )
    lines = [
        f"<b>{title}</b>",
        t.gettext(
            "Received: {count} (week before: {previous}, {change})",
            count=received,
            previous=previous,
            change=_change(received, previous, t),
        ),
        "",
        t.gettext("Top categories:"),
    ]
    lines += [
        t.gettext(
            "• {category}: {count} (week before: {previous})",
            category=cat(code),
            count=n,
            previous=before,
        )
        for code, n, before in facts["categories"]
    ]
    lines += ["", t.gettext("Rising topics:")]
    lines += [
        t.gettext(
            "• {topic}: {count} requests (about {baseline} a week before)",
            topic=html.escape(term),
            count=n,
            baseline=f"{base:.1f}",
        )
        for term, n, base in facts["topics"]
    ] or [t.gettext("None this week.")]
    for key, title, named in (
        ("overdue_departments", t.gettext("Overdue now, by department:"), dept),
        ("overdue_categories", t.gettext("Overdue now, by category:"), cat),
        ("unsatisfied_departments", t.gettext("Unsatisfied ratings, by department:"), dept),
        ("unsatisfied_categories", t.gettext("Unsatisfied ratings, by category:"), cat),
    ):
        if facts.get(key):
            lines += ["", title]
            lines += [
                "• " + t.gettext("{name}: {count}", name=named(code), count=n)
                for code, n in facts[key]
            ]
    if facts.get("ranking"):
        lines += ["", t.gettext("Department ranking:")]
        lines += [
            t.gettext(
                "{rank}. {department}: score {score}, completed on time {on_time}, "
                "satisfied {satisfied}",
                rank=rank,
                department=dept(code),
                score=score,
                on_time=pct(on_time),
                satisfied=pct(satisfied),
            )
            for code, rank, score, _received, on_time, satisfied in facts["ranking"]
        ]
    if facts.get("disputes"):
        lines += ["", t.gettext("Disputed ratings, by department:")]
        lines += [
            "• "
            + t.gettext(
                "{name}: {filed} filed, {granted} granted, {refused} refused",
                name=dept(code),
                filed=filed,
                granted=granted,
                refused=refused,
            )
            for code, filed, granted, refused in facts["disputes"]
        ]
    if facts.get("to_review"):
        lines += ["", t.gettext("Knowledge-base articles past their review-by date:")]
        lines += [
            t.gettext(
                "• {title} ({code}), {department}: review by {date}",
                title=html.escape((titles or {}).get(code) or code),
                code=html.escape(code),
                department=dept(department),
                date=review_by,
            )
            for code, review_by, department in facts["to_review"]
        ]
    return "\n".join(lines)
