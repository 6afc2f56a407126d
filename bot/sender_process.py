"""The bot's side of a sender in a process of its own (bot.sender_child): it wakes that process
when rows are committed, records what it sent and acknowledges each batch, opens the forum's
topics, and starts the process again when it dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Sequence

from bot.context import Services
from bot.sender_channel import Channel, ChannelClosed, Say
from bot.sender_child import SenderEnds, spawn_sender
from bot.staff_topics import TopicKeeper
from bot.waiting import wait_any
from storage.outbox import SendResult
from storage.send_results import record_results

log = logging.getLogger(__name__)

RESTART_PAUSE = 1.05  # seconds before a new sender: the per-chat second of the last one ends
LONGEST_PAUSE = 30.0  # the pause doubles while each new process dies young, up to this
YOUNG = 60.0  # seconds: a process that dies younger may die again for the same reason
RECORD_RETRY = 0.5  # seconds between tries to record a batch while the database fails
REAP_STEP = 0.05  # seconds between looks for the process's exit status


class SenderProcess:
    """Stands for the sender in the runtime: `wake`, `run` until the bot stops, `drain`."""

    def __init__(self, services: Services, topics: TopicKeeper, ends: SenderEnds) -> None:
        self._services = services
        self._topics = topics
        self._ends: SenderEnds | None = ends
        self._channel: Channel | None = None
        self._listening: asyncio.Task[None] | None = None
        self._waking = False

    def wake(self) -> None:
        """Rows were committed: the sender's process reads them. The wakes of one turn of the
        loop go as one, and none while the last still waits in the pipe."""
        if not self._waking:
            self._waking = True
            asyncio.get_running_loop().call_soon(self._send_wake)

    def _send_wake(self) -> None:
        self._waking = False
        if self._channel is not None and not self._channel.backed_up:
            self._channel.send(Say.WAKE)

    async def run(self, until: asyncio.Event) -> None:
        """Keep a sender's process running until `until` (the bot is stopping; the process
        sends on until `drain`)."""
        opening = asyncio.create_task(self._topics.ensure(until))
        stopping = asyncio.create_task(until.wait())
        loop = asyncio.get_running_loop()
        pause = RESTART_PAUSE
        try:
            while self._ends is not None:
                born = loop.time()
                listening = await self._start(self._ends)
                await asyncio.wait([listening, stopping], return_when=asyncio.FIRST_COMPLETED)
                if until.is_set():
                    break
                status = await self._reap()
                pause = RESTART_PAUSE if loop.time() - born > YOUNG else pause
                log.error(
                    "the sender's process ended (%s); starting another in %.2f s",
                    _exit_status(status),
                    pause,
                )
                self._ends = await _spawned_after(pause, until)
                pause = min(pause * 2, LONGEST_PAUSE)
        finally:
            stopping.cancel()
            await asyncio.gather(opening, stopping, return_exceptions=True)

    async def drain(self, deadline: float) -> None:
        """Have the sender's process send what is queued until the loop's time reaches
        `deadline`, record its outcomes, and end it (killed, if it has not ended by then)."""
        loop = asyncio.get_running_loop()
        if self._channel is not None and self._listening is not None:
            self._channel.send(Say.DRAIN, max(0.0, deadline - loop.time()))
            # Its last outcomes are recorded a moment after its last sends.
            done, _ = await asyncio.wait([self._listening], timeout=deadline - loop.time() + 2)
            if not done:
                log.warning("the sender's process did not end in time; stopping it")
                self._listening.cancel()
                await asyncio.gather(self._listening, return_exceptions=True)
        if self._ends is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._ends.pid, signal.SIGKILL)  # a no-op once it has ended
            await self._reap()

    async def _start(self, ends: SenderEnds) -> asyncio.Task[None]:
        channel = await Channel.open(ends.read_fd, ends.write_fd)
        channel.send(Say.START, self._services.settings, logging.getLogger().level)
        self._channel = channel
        self._listening = asyncio.create_task(self._listen(channel), name="sender-records")
        return self._listening

    async def _listen(self, channel: Channel) -> None:
        """Record what the sender's process reports until its end of the pipe closes."""
        try:
            while True:
                try:
                    message = await channel.receive()
                except ChannelClosed:
                    return
                if message[0] == Say.RESULTS:
                    await self._record(message[1])
                    channel.send(Say.RECORDED)
                elif message[0] == Say.BEAT and message[1] is not None:
                    self._services.metrics.beat("sender", ago=float(message[1]))
                elif message[0] == Say.TOPIC_LOST:
                    await self._topics.lost(*message[1:])
                    self.wake()  # the supervisors' notice was queued
        finally:
            channel.close()
            if self._channel is channel:
                self._channel = None

    async def _record(self, results: Sequence[SendResult]) -> None:
        """Store a batch, trying again while the database fails (its sender waits meanwhile:
        it sends no more than it may leave unrecorded)."""
        settings, clock = self._services.settings, self._services.clock
        while True:
            try:
                await record_results(
                    results, now=clock.now(), staff_chat_id=settings.staff_chat_id
                )
            except Exception:
                log.exception("recording send outcomes failed; will retry")
                await asyncio.sleep(RECORD_RETRY)
                continue
            self._services.metrics.sends_recorded(results)
            return

    async def _reap(self) -> int:
        """Wait for the process to end (its pipe has closed); its wait status."""
        if self._ends is None:
            return 0
        pid = self._ends.pid
        while True:
            try:
                done, status = os.waitpid(pid, os.WNOHANG)  # noqa: ASYNC222 - never blocks
            except ChildProcessError:
                self._ends = None
                return 0
            if done:
                self._ends = None  # its pid may be another process's from now on
                return status
            await asyncio.sleep(REAP_STEP)


async def _spawned_after(pause: float, until: asyncio.Event) -> SenderEnds | None:
    """A new sender's process after `pause` seconds (and again after each that could not
    start); None once `until` is set."""
    while not until.is_set():
        await wait_any(until, seconds=pause)
        if until.is_set():
            break
        try:
            return spawn_sender()
        except OSError:
            log.exception("could not start the sender's process; trying again")
    return None


def _exit_status(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by signal {os.WTERMSIG(status)}"
    return f"exit status {os.waitstatus_to_exitcode(status)}"
