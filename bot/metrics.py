"""The running bot's counters, kept in memory with prometheus-client, and the gauges beside them.

The hot path only adds to counters here: no database write, nothing awaited. Each runtime has
its own `Metrics` (on its Services) with a `CollectorRegistry` of its own, so two bots in one
process (the tests, the demo) never share counts; the library's global REGISTRY is never used.
Figures that live in the database (backlog, cases by status) are read by the /metrics view at
each scrape and handed to `Readings`, the registry's collector for them.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics
from prometheus_client.metrics_core import GaugeMetricFamily, Metric

from storage.outbox import Outcome, SendResult

# prometheus-client writes a `<name>_created` sample (the time of creation) beside each counter
# and histogram: series the README does not list and no alert needs. The switch is the library's
# global (no registry has one of its own), and this module is its only user in the process.
# The library leaves this one function unannotated.
disable_created_metrics()  # type: ignore[no-untyped-call]

# Seconds from an update's arrival to its handled transaction's commit.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

Labels = tuple[tuple[str, str], ...]
Gauges = Mapping[str, tuple[str, Mapping[Labels, float]]]  # name -> (help, {labels: value})


class Received(Protocol):
    """What the dispatcher knows of an update it handled."""

    @property
    def received_at(self) -> datetime | None: ...


class Readings:
    """The gauges read at scrape time (database, health probe), as a collector of the registry.

    The /metrics view hands them over with `show` and writes the registry out in the same step
    of the event loop (nothing awaited between), so two scrapes never mix their readings."""

    def __init__(self) -> None:
        self._gauges: Gauges = {}

    def show(self, gauges: Gauges) -> None:
        self._gauges = gauges

    def collect(self) -> Iterator[Metric]:
        for name, (about, readings) in self._gauges.items():
            names = [label for label, _ in next(iter(readings), ())]
            family = GaugeMetricFamily(name, about, labels=names)
            for labels, value in readings.items():
                family.add_metric([v for _, v in labels], value)
            yield family


class Metrics:
    """One runtime's counters and registry; `beats` is each worker's last loop (monotonic s)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.updates = _counter(
            self.registry,
            "minsheng_updates_handled_total",
            "Updates from Telegram handled, by outcome (done, or failed after a retry).",
            "outcome",
            ("done", "failed"),
        )
        self.sends = _counter(
            self.registry,
            "minsheng_outbox_sends_total",
            "Bot API calls made from the outbox, by outcome as recorded.",
            "outcome",
            sorted(o.value for o in Outcome),
        )
        self.failures = _counter(
            self.registry,
            "minsheng_outbox_failures_total",
            "Outbox rows given up, by reason.",
            "reason",
            ("gave_up", "refused", "render", "unreachable"),
        )
        self.retries = _counter(
            self.registry,
            "minsheng_outbox_retries_total",
            "Sends to be tried again, by reason (rate_limited is Telegram's 429).",
            "reason",
            ("error", "migrated", "rate_limited", "timeout"),
        )
        self.telegram_429 = Counter(
            "minsheng_telegram_429_total",
            "Answers 429 Too Many Requests (retry_after) seen by the sender.",
            registry=self.registry,
        )
        self.sweep_runs = _counter(
            self.registry, "minsheng_sweep_runs_total", "Sweep runs, by sweep.", "sweep", ()
        )
        self.sweep_failures = _counter(
            self.registry,
            "minsheng_sweep_failures_total",
            "Sweep runs that raised, by sweep.",
            "sweep",
            (),
        )
        self.latency = Histogram(
            "minsheng_update_latency_seconds",
            "From an update's arrival to the commit of its effects.",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.readings = Readings()
        self.registry.register(self.readings)
        self.beats: dict[str, float] = {}

    def beat(self, worker: str, ago: float = 0.0) -> None:
        """The worker went once more round its loop (`ago` seconds ago)."""
        self.beats[worker] = time.monotonic() - ago

    def beat_age(self, worker: str) -> float | None:
        at = self.beats.get(worker)
        return None if at is None else time.monotonic() - at

    def handled(self, items: Iterable[Received], now: datetime) -> None:
        """Updates whose effects just committed: count them and how long they took."""
        for item in items:
            self.updates.labels("done").inc()
            if item.received_at is not None:
                self.latency.observe(max(0.0, (now - item.received_at).total_seconds()))

    def failed_update(self) -> None:
        self.updates.labels("failed").inc()

    def sends_recorded(self, results: Sequence[SendResult]) -> None:
        """The outcomes of sends, once the outbox has recorded them (so never twice)."""
        for result in results:
            self.sends.labels(result.outcome.value).inc()
            reason = failure_reason(result)
            if result.outcome in (Outcome.FAILED, Outcome.UNREACHABLE):
                self.failures.labels(reason).inc()
            elif result.outcome is not Outcome.SENT:
                self.retries.labels(reason).inc()
                if reason == "rate_limited":
                    self.telegram_429.inc()

    def sweep_ran(self, name: str, *, ok: bool) -> None:
        self.sweep_runs.labels(name).inc()
        if not ok:
            self.sweep_failures.labels(name).inc()


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
    registry: CollectorRegistry, name: str, about: str, label: str, known: Iterable[str]
) -> Counter:
    counter = Counter(name, about, [label], registry=registry)
    for value in known:  # written at zero too, so rate() sees a series from its start
        counter.labels(value)
    return counter
