"""The benchmarks' memory figure: the peak of a process tree's summed PSS, read rarely.

A child process holds 60 MB for a moment and lets it go; the sampler must see that peak while
it reads PSS (which costs the kernel a page-table walk) only when RSS stands at a new high."""

from __future__ import annotations

import asyncio
import sys

from bot.bench_process import PeakMemory, pss_mb

# Grows to about 60 MB in ten steps, holds it for a moment, lets it go, then idles.
GROWS_THEN_SHRINKS = """
import sys, time
held = []
for _ in range(10):
    held.append(bytearray(6 * 1024 * 1024))
    time.sleep(0.05)
time.sleep(1.5)
held.clear()
print("released", flush=True)
time.sleep(3)
"""


async def test_peak_memory_sees_a_passing_peak_with_few_pss_reads() -> None:
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", GROWS_THEN_SHRINKS, stdout=asyncio.subprocess.PIPE
    )
    try:
        memory = PeakMemory(child.pid).watch()
        assert child.stdout is not None
        assert await asyncio.wait_for(child.stdout.readline(), timeout=30) == b"released\n"
        await asyncio.sleep(1.5)  # the child holds little now
        idle = pss_mb(child.pid)
        peak = await memory.stop()
    finally:
        child.kill()
        await child.wait()
    assert peak >= idle + 50, (peak, idle)
    # RSS was looked at some thirty times; PSS only when RSS rose (at most once a second),
    # and once at the end.
    assert 2 <= memory.pss_reads <= 6, memory.pss_reads
