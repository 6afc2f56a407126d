"""The running bot's counters, kept in memory and written out in Prometheus' text format.

The hot path only adds to integers here: no database write, no lock, no import of a client
library. Each runtime has its own `Metrics` (on its Services), so two bots in one process (the
tests, the demo) never share counts. Figures that live in the database (backlog, cases by
status) are read when scraped and passed to `render` as gauges.
"""

from __future__ import annotations

import bisect
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from storage.outbox import Outcome, SendResult

# Seconds from an update's arrival to its handled transaction's commit.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

Labels = tuple[tuple[str, str], ...]
Gauges = Mapping[str, tuple[str, Mapping[Labels, float]]]  # name -> (help, {labels: value})


class Received(Protocol):
    """What the dispatcher knows of an update it handled."""

    @property
    def received_at(self) -> datetime | None: ...


@dataclass
class Histogram:
    buckets: tuple[float, ...] = LATENCY_BUCKETS
    counts: list[int] = field(default_factory=lambda: [0] * (len(LATENCY_BUCKETS) + 1))
    total: float = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(self.buckets, value)] += 1
        self.total += value


@dataclass
class Metrics:
    """Counters by name and labels; `beats` is each worker's last loop (monotonic seconds)."""

    updates: Counter[str] = field(default_factory=Counter)  # outcome -> count
    latency: Histogram = field(default_factory=Histogram)
    sends: Counter[str] = field(default_factory=Counter)  # outcome -> count
    failures: Counter[str] = field(default_factory=Counter)  # reason -> count
    retries: Counter[str] = field(default_factory=Counter)  # reason -> count
    sweep_runs: Counter[str] = field(default_factory=Counter)
    sweep_failures: Counter[str] = field(default_factory=Counter)
    beats: dict[str, float] = field(default_factory=dict)
    cache: dict[str, tuple[float, object]] = field(default_factory=dict)

    def beat(self, worker: str) -> None:
        """The worker went once more round its loop."""
        self.beats[worker] = time.monotonic()

    def beat_age(self, worker: str) -> float | None:
        at = self.beats.get(worker)
        return None if at is None else time.monotonic() - at

    def handled(self, items: Iterable[Received], now: datetime) -> None:
        """Updates whose effects just committed: count them and how long they took."""
        for item in items:
            self.updates["done"] += 1
            if item.received_at is not None:
                self.latency.observe(max(0.0, (now - item.received_at).total_seconds()))

    def failed_update(self) -> None:
        self.updates["failed"] += 1

    def sends_recorded(self, results: Sequence[SendResult]) -> None:
        """The outcomes of sends, once the outbox has recorded them (so never twice)."""
        for result in results:
            self.sends[result.outcome.value] += 1
            reason = failure_reason(result)
            if result.outcome in (Outcome.FAILED, Outcome.UNREACHABLE):
                self.failures[reason] += 1
            elif result.outcome is not Outcome.SENT:
                self.retries[reason] += 1

    def sweep_ran(self, name: str, *, ok: bool) -> None:
        self.sweep_runs[name] += 1
        if not ok:
            self.sweep_failures[name] += 1

    def _counters(self) -> list[tuple[str, str, str | None, Counter[str], tuple[str, ...]]]:
        """(name, help, label, values, label values always written) of every counter."""
        limited = Counter({"": self.retries["rate_limited"]})
        return [
            (
                "minsheng_updates_handled_total",
                "Updates from Telegram handled, by outcome (done, or failed after a retry).",
                "outcome",
                self.updates,
                ("done", "failed"),
            ),
            (
                "minsheng_outbox_sends_total",
                "Bot API calls made from the outbox, by outcome as recorded.",
                "outcome",
                self.sends,
                tuple(o.value for o in Outcome),
            ),
            (
                "minsheng_outbox_failures_total",
                "Outbox rows given up, by reason.",
                "reason",
                self.failures,
                ("refused", "gave_up", "unreachable", "render"),
            ),
            (
                "minsheng_outbox_retries_total",
                "Sends to be tried again, by reason (rate_limited is Telegram's 429).",
                "reason",
                self.retries,
                ("rate_limited", "error", "timeout", "migrated"),
            ),
            (
                "minsheng_telegram_429_total",
                "Answers 429 Too Many Requests (retry_after) seen by the sender.",
                None,
                limited,
                ("",),
            ),
            ("minsheng_sweep_runs_total", "Sweep runs, by sweep.", "sweep", self.sweep_runs, ()),
            (
                "minsheng_sweep_failures_total",
                "Sweep runs that raised, by sweep.",
                "sweep",
                self.sweep_failures,
                (),
            ),
        ]

    def render(self, gauges: Gauges) -> str:
        """Everything, in the Prometheus text exposition format (version 0.0.4)."""
        out: list[str] = []
        for name, help_text, label, values, known in self._counters():
            _counter(out, name, help_text, label, values, known)
        _histogram(
            out,
            "minsheng_update_latency_seconds",
            "From an update's arrival to the commit of its effects.",
            self.latency,
        )
        for gauge, (about, readings) in gauges.items():
            out.append(f"# HELP {gauge} {about}")
            out.append(f"# TYPE {gauge} gauge")
            out.extend(f"{gauge}{_labels(labels)} {_number(v)}" for labels, v in readings.items())
        return "\n".join(out) + "\n"


def failure_reason(result: SendResult) -> str:
    """A short, bounded label for why a send did not land (never the error text itself)."""
    error = result.error or ""
    match result.outcome:
        case Outcome.UNREACHABLE:
            return "unreachable"
        case Outcome.FAILED if error.startswith("render:"):
            return "render"
        case Outcome.FAILED if error.startswith("gave up:"):
            return "gave_up"
        case Outcome.FAILED:
            return "refused"
        case Outcome.UNCERTAIN:
            return "timeout"
        case Outcome.MIGRATED:
            return "migrated"
        # delivery.classify keeps a 429's retry from counting as an attempt, and only a 429's.
        case Outcome.RETRY if not result.counts_as_attempt:
            return "rate_limited"
        case _:
            return "error"


def _counter(
    out: list[str],
    name: str,
    help_text: str,
    label: str | None,
    values: Counter[str],
    known: tuple[str, ...],
) -> None:
    out.append(f"# HELP {name} {help_text}")
    out.append(f"# TYPE {name} counter")
    # Known label values are written at zero too, so rate() sees a series from its start.
    for key in sorted(set(known) | set(values)):
        labels: Labels = ((label, key),) if label else ()
        out.append(f"{name}{_labels(labels)} {values[key]}")


def _histogram(out: list[str], name: str, help_text: str, histogram: Histogram) -> None:
    out.append(f"# HELP {name} {help_text}")
    out.append(f"# TYPE {name} histogram")
    running = 0
    for bound, count in zip((*histogram.buckets, float("inf")), histogram.counts, strict=True):
        running += count
        out.append(f'{name}_bucket{{le="{_number(bound)}"}} {running}')
    out.append(f"{name}_sum {_number(histogram.total)}")
    out.append(f"{name}_count {running}")


def _labels(labels: Labels) -> str:
    if not labels:
        return ""
    inner = ",".join(f'{k}="{_escape(v)}"' for k, v in labels)
    return "{" + inner + "}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    if value == float("inf"):
        return "+Inf"
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value))
