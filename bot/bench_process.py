"""What a benchmarked process spent, read from /proc: CPU, peak memory, its children, and the
PostgreSQL server's backends; and stopping it."""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path


def cpu_seconds(pid: int) -> float:
    """User and system CPU the process has used so far (NaN once it is gone)."""
    return cpu_seconds_of(Path(f"/proc/{pid}/stat"))


def cpu_seconds_of(stat: Path) -> float:
    """User and system CPU from a /proc stat file (NaN once its process is gone)."""
    try:
        fields = stat.read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return float("nan")


def thread_cpu_seconds(pid: int) -> float:
    """User and system CPU of the process's main thread (its event loop) so far."""
    return cpu_seconds_of(Path(f"/proc/{pid}/task/{pid}/stat"))


def peak_rss_mb(pid: int) -> float:
    """The most memory the process has held at once (VmHWM), in MB (NaN once it is gone)."""
    return _kb_as_mb(Path(f"/proc/{pid}/status"), "VmHWM:", float("nan"))


def _kb_as_mb(path: Path, field: str, missing: float) -> float:
    """A "Name: N kB" line of a /proc file, in MB; `missing` without the file or the line."""
    try:
        for line in path.read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return missing


async def stopped(process: asyncio.subprocess.Process) -> None:
    """Stop the bot's process if it still runs: SIGTERM, then SIGKILL after 30 s."""
    if process.returncode is None:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), timeout=30)
        except TimeoutError:
            process.kill()
            await process.wait()


def tree_cpu_seconds(pid: int) -> float:
    """CPU the process and its children (the bot's sender process) have used so far."""
    spent = (cpu_seconds(member) for member in process_tree(pid))
    return sum(seconds for seconds in spent if seconds == seconds)  # NaN: gone meanwhile


def rss_mb(pid: int) -> float:
    """The memory the process holds now (VmRSS), in MB (0 once it is gone)."""
    return _kb_as_mb(Path(f"/proc/{pid}/status"), "VmRSS:", 0.0)


def pss_mb(pid: int) -> float:
    """The process's proportional share of memory, in MB: its own pages, and each page it
    shares with n processes as 1/n (0 once it is gone)."""
    return _kb_as_mb(Path(f"/proc/{pid}/smaps_rollup"), "Pss:", 0.0)


class PeakMemory:
    """The most memory the bot's processes held at once while it runs: the sum of their PSS,
    so the modules a forked sender shares with the bot count once. Start with `watch()`;
    `peak` holds the figure so far.

    The kernel takes about 20 ms to add up one process's PSS (it walks every page table), and
    that is CPU the bot does not get on a small machine. So PSS is read when the processes'
    summed RSS, which costs nothing to read, stands higher than ever before (at most once a
    `settle` seconds), at least every `every_pss` seconds, and at the end; RSS is looked at
    every `every` seconds."""

    def __init__(
        self, pid: int, every: float = 0.1, settle: float = 1.0, every_pss: float = 10.0
    ) -> None:
        self._pid = pid
        self._every = every
        self._settle = settle
        self._every_pss = every_pss
        self.peak = 0.0
        self.pss_reads = 0
        self._rss_high = 0.0  # the highest summed RSS seen so far
        self._pss_read_at = -float("inf")  # loop time of the last PSS read
        self._higher_since_read = False  # RSS rose past its high after the last PSS read
        self._task: asyncio.Task[None] | None = None

    def watch(self) -> PeakMemory:
        self._task = asyncio.create_task(self._sample())
        return self

    def sample(self) -> float:
        """Read the PSS of every process of the tree now; the peak so far."""
        self.pss_reads += 1
        self.peak = max(self.peak, sum(pss_mb(member) for member in process_tree(self._pid)))
        return self.peak

    async def stop(self) -> float:
        """Stop sampling, after a last sample if it still ran; the peak."""
        task, self._task = self._task, None
        if task is None:
            return self.peak
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return self.sample()

    def _due(self, now: float) -> bool:
        """Whether PSS is to be read now, after a look at RSS."""
        rss = sum(rss_mb(member) for member in process_tree(self._pid))
        if rss > self._rss_high:
            self._rss_high = rss
            self._higher_since_read = True
        since = now - self._pss_read_at
        return (self._higher_since_read and since >= self._settle) or since >= self._every_pss

    async def _sample(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if self._due(loop.time()):
                self._higher_since_read = False
                self._pss_read_at = loop.time()
                # Reading smaps takes the kernel a while: not on the loop the citizens run on.
                await asyncio.to_thread(self.sample)
            await asyncio.sleep(self._every)


def process_tree(pid: int) -> list[int]:
    """`pid` and its descendants (a `--workers` parent and the processes it started)."""
    tree, index = [pid], 0
    while index < len(tree):
        current = tree[index]
        index += 1
        with contextlib.suppress(OSError, ValueError):
            path = Path(f"/proc/{current}/task/{current}/children")
            tree.extend(int(child) for child in path.read_text().split())
    return tree


def postgres_cpu() -> dict[int, tuple[float, str]]:
    """Every `postgres` process on this machine: its CPU seconds so far and its title (a
    backend's says whose and which database: `postgres: user database host state`)."""
    found: dict[int, tuple[float, str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() != "postgres":
                continue
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        cpu = cpu_seconds(int(entry.name))
        if cpu == cpu:  # not NaN: it was still there
            found[int(entry.name)] = (cpu, title)
    return found


def postgres_spent(
    before: dict[int, tuple[float, str]], after: dict[int, tuple[float, str]], database: str
) -> tuple[float, float] | None:
    """CPU seconds the server spent between the two looks: all of it, and this database's
    backends'. A process that ended in between is left out (its CPU is no longer shown)."""
    if not after:
        return None  # the server runs elsewhere: nothing to see from here
    total = own = 0.0
    for pid, (cpu, title) in after.items():
        spent = cpu - before.get(pid, (0.0, ""))[0]
        total += spent
        if database and title.split()[2:3] == [database]:
            own += spent
    return total, own


def machine_busy_seconds() -> float:
    """CPU seconds this machine's cores have spent busy since boot, whoever used them: beside
    a run's own processes it shows what else ran meanwhile."""
    try:
        fields = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    except (OSError, ValueError):
        return float("nan")
    idle = fields[3] + fields[4]  # idle and iowait
    return (sum(fields) - idle) / os.sysconf("SC_CLK_TCK")
