"""The processes of one desk: each writes a heartbeat row, so any of them can say who runs.

/healthz shows this process and the others; the leader is the one that sends, sweeps and
polls (bot.leadership elects it; this table only reports it).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from storage.models import WorkerBeat
from storage.sql import as_datetime, as_json, fetch

BEAT_EVERY = 5.0  # seconds between a process's beats
ALIVE_WITHIN = 3 * BEAT_EVERY  # a process whose last beat is older is taken for stopped
GONE_AFTER = timedelta(days=1)  # a row not rewritten for this long is removed


async def beat(
    name: str, *, started_at: datetime, leader: bool, loops: dict[str, float | None], now: datetime
) -> None:
    """Write this process's row (made on its first beat)."""
    changed = await WorkerBeat.filter(name=name).update(beat_at=now, leader=leader, loops=loops)
    if not changed:
        await WorkerBeat.bulk_create(
            [
                WorkerBeat(
                    name=name, started_at=started_at, beat_at=now, leader=leader, loops=loops
                )
            ],
            ignore_conflicts=True,
        )
    await WorkerBeat.filter(beat_at__lt=now - GONE_AFTER).delete()


async def leave(name: str) -> None:
    """A process that stops cleanly takes its row away."""
    await WorkerBeat.filter(name=name).delete()


async def cluster(now: datetime) -> list[dict[str, Any]]:
    """Every process that beat in the last day, most recent first, with its beat's age and
    whether it is still alive (beat within ALIVE_WITHIN seconds)."""
    rows = await fetch(
        "SELECT name, started_at, beat_at, leader, loops FROM worker_beat ORDER BY beat_at DESC"
    )
    processes = []
    for row in rows:
        age = (now - as_datetime(row["beat_at"])).total_seconds()
        processes.append(
            {
                "name": row["name"],
                "alive": age <= ALIVE_WITHIN,
                "leader": bool(row["leader"]) and age <= ALIVE_WITHIN,
                "beat_age": round(age, 1),
                "started_at": as_datetime(row["started_at"]).isoformat(),
                "loops": as_json(row["loops"]),
            }
        )
    return processes
