"""One generated case's whole life: drawn in advance, written as far as it got by `end`."""

from __future__ import annotations

import json
import random
from bisect import bisect
from datetime import datetime
from typing import Any

from bot.case_generator_choices import (
    ANSWERS,
    ASK,
    DISPUTE_OUTCOMES,
    DISPUTE_REASONS,
    DISPUTED_SHARE,
    ENGLISH_PUBLIC,
    IMPACT,
    KINDS,
    PLACES,
    PUBLIC_PLACES,
    PUBLISHED_SHARE,
    SATISFACTION,
    SINCE,
    SOLVED,
    cumulative,
)
from bot.case_generator_rows import ADMIN_ID, CategoryRow, Writer, utc_or_none, utc_text
from bot.case_generator_sweeps import sweep_marks
from bot.case_generator_times import DAY, HOUR, ZONE


class CaseLife:
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
        self.kinds = cumulative(KINDS)
        self.solved = cumulative(SOLVED)
        self.satisfaction = {k: cumulative(v) for k, v in SATISFACTION.items()}
        self.outcomes = cumulative(DISPUTE_OUTCOMES)
        self.recent_ids: list[int] = []  # for merges: a few earlier cases

    def _pick(self, table: tuple[list[str], list[float]]) -> str:
        names, cum = table
        return names[bisect(cum, self.rng.random() * cum[-1])]

    def _text(self, cat: CategoryRow) -> str:
        r = self.rng
        return (
            f"{r.choice(PLACES)}{cat.name}，{r.choice(SINCE)}，{r.choice(IMPACT)}，{r.choice(ASK)}"
        )

    def write(self, w: Writer, tracking: str, citizen: int, created: float) -> None:
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
                            if happy == "unsatisfied" and r.random() < DISPUTED_SHARE:
                                self._dispute(w, case_id, cat.department_id, handler, t_close)
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
                utc_or_none(accepted),
                utc_or_none(due),
                utc_or_none(answered),
                utc_or_none(closed),
                0,
                utc_or_none(signed),
                utc_or_none(sign_due),
                utc_text(accept_due),
                utc_or_none(first_answer),
                utc_or_none(paused),
                *self._sweep_marks(events, first_event, case_id, status, marks),
                duplicate_of,
                version,
                utc_text(last),
                0 if public[0] is None else 1,
                *public,
            )
        )

    def _dispute(
        self, w: Writer, case_id: int, department: int, handler: int | None, rated: float
    ) -> None:
        """The department disputes the unsatisfied rating; a supervisor decides within days."""
        r = self.rng
        filed = rated + r.uniform(HOUR, 2 * DAY)
        if handler is None or filed > self.end:
            return
        reason = r.choice(DISPUTE_REASONS)
        status, decided = self._pick(self.outcomes), filed + r.uniform(HOUR, 3 * DAY)
        if decided > self.end:
            status = "pending"
        w.events.append(
            (
                case_id,
                "dispute_filed",
                "staff",
                handler,
                f'{{"reason":"{reason}"}}',
                0,
                utc_text(filed),
            )
        )
        decider: tuple[int | None, str | None] = (None, None)
        if status != "pending":
            decider = (ADMIN_ID, utc_text(decided))
            decision = f'{{"reason":"{reason}","status":"{status}"}}'
            w.events.append(
                (case_id, "dispute_decided", "staff", ADMIN_ID, decision, 0, decider[1])
            )
        w.disputes.append(
            (case_id, department, reason, handler, utc_text(filed), status, *decider)
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
