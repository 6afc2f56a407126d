"""The sender in a process of its own, so that a desk on SQLite uses a second core.

The bot's event loop thread is the limit of a busy desk: taking updates in, handling them and
sending the answers all ran on it. Here the sending runs in a second process, which reads the
outbox (SQLite lets readers beside the writer) and sends as bot.sender always has. It writes
nothing: its outcomes, and a forum topic found lost, go back through a pipe to the bot's
process, which records them (bot.sender_process) and acknowledges each batch. A batch counts
as recorded only once acknowledged, so a crash of either process re-sends at most the sends
made but not yet recorded, as before.

It is forked before the bot's event loop starts, so it shares the memory of the modules both
import; one started again after a crash runs `python -m bot.sender_child`. It dies with the
bot's process (PR_SET_PDEATHSIG, and the end of the pipe), and leaves SIGTERM and Ctrl-C to
the bot, which tells it when to send what is left and end.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import gc
import logging
import os
import signal
import sys
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from telegram import Bot

from bot import event_loop
from bot.clock import SystemClock
from bot.context import Services
from bot.i18n import Catalogs
from bot.logs import setup_logging
from bot.metrics import Metrics
from bot.ratelimit import SendLimiter
from bot.sender import Sender, desk_sender, remember_recent_sends
from bot.sender_channel import Channel, ChannelClosed, Say
from bot.settings import Settings
from bot.transport import AiohttpRequest
from bot.waiting import wait_any
from storage.db import close_database, open_database
from storage.outbox import SendResult
from storage.sqlite_client import on_loop

log = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1
PR_SET_NAME = 15
NAME = "minsheng-sender"  # in ps and top (the command line stays the bot's when forked)
BEAT_EVERY = 1.0  # seconds between the sender's pulses sent to the bot's process (/healthz)


@dataclass(frozen=True)
class SenderEnds:
    """A sender's process as the bot's process holds it: its pid and the bot's pipe ends."""

    pid: int
    read_fd: int  # what the sender reports
    write_fd: int  # what the bot tells it


def fork_sender() -> SenderEnds:
    """Fork the sender's process; call before any event loop or thread is started."""
    parent = os.getpid()
    down_read, down_write = os.pipe()
    up_read, up_write = os.pipe()
    for stream in (sys.stdout, sys.stderr):
        stream.flush()  # else both processes would write what is buffered
    # The modules' objects are the bulk of both processes: kept out of the collector's
    # passes, their pages stay shared.
    gc.collect()
    gc.freeze()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child's coverage is not collected
        code = 1
        try:
            os.close(down_write)
            os.close(up_read)
            code = serve(down_read, up_write, parent)
        finally:
            logging.shutdown()
            os._exit(code)
    os.close(down_read)
    os.close(up_write)
    return SenderEnds(pid, up_read, down_write)


def spawn_sender() -> SenderEnds:
    """Start a sender's process from a running bot (after the last one died)."""
    down_read, down_write = os.pipe()
    up_read, up_write = os.pipe()
    for fd in (down_read, up_write):
        os.set_inheritable(fd, True)
    argv = [sys.executable, "-m", "bot.sender_child", str(down_read), str(up_write)]
    try:
        pid = os.posix_spawn(sys.executable, [*argv, str(os.getpid())], os.environ)
    finally:
        os.close(down_read)
        os.close(up_write)
    return SenderEnds(pid, up_read, down_write)


def serve(read_fd: int, write_fd: int, parent: int) -> int:
    """The sender's process: send until the bot says to end; its exit status."""
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, signal.SIG_IGN)  # the bot's to handle: it tells this one
    _die_with(parent)
    setup_logging(logging.getLogger().level, process="sender")
    try:
        return event_loop.run(_serve(read_fd, write_fd))
    except BaseException:
        log.critical("the sender's process failed", exc_info=True)
        return 1


def _die_with(parent: int) -> None:
    """Be killed when the bot's process ends, however it ends (Linux); elsewhere the end of
    the pipe ends this process. Named, so that ps and top tell it from the bot."""
    name = ctypes.util.find_library("c")
    if name is not None and sys.platform.startswith("linux"):
        libc = ctypes.CDLL(name, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        libc.prctl(PR_SET_NAME, NAME.encode())
    if os.getppid() != parent:  # it ended before the line above
        os._exit(0)


async def _serve(read_fd: int, write_fd: int) -> int:
    channel = await Channel.open(read_fd, write_fd)
    try:
        message = await channel.receive()
    except ChannelClosed:
        return 0  # the bot ended before it started (a setting refused, a port in use)
    if message[0] != Say.START:
        log.error("the sender's process was told %r before starting", message[0])
        return 1
    settings: Settings = message[1]
    logging.getLogger().setLevel(message[2])  # the bot's --log-level
    await open_database(settings.database_url, run_migrations=False, ready_level=logging.DEBUG)
    try:
        with on_loop():  # reads on the loop's thread, as the bot's sender made them
            await _send(channel, settings)
    finally:
        await close_database()
    return 0


async def _send(channel: Channel, settings: Settings) -> None:
    services = Services(
        settings, Catalogs(settings.default_language), SystemClock(), settings.calendar()
    )
    request = AiohttpRequest.for_sending(settings)
    bot = Bot(
        settings.token(),
        base_url=settings.bot_api_url,
        base_file_url=settings.file_url,
        request=request,
        get_updates_request=AiohttpRequest(connection_limit=1),  # never used
    )
    # Not bot.initialize(): its getMe would end this process while Telegram cannot be reached,
    # and the sender needs no bot user, only its connections.
    await request.initialize()
    limiter = SendLimiter.from_settings(settings)
    await remember_recent_sends(limiter, services.clock.now())  # a process before this one's
    acks = _Acknowledgements(channel)

    async def topic_lost(chat_id: int, thread_id: int, deleted: bool) -> None:
        channel.send(Say.TOPIC_LOST, chat_id, thread_id, deleted)

    def sender() -> Sender:
        return desk_sender(
            services, bot, limiter, metrics=Metrics(), record=acks.record, topic_lost=topic_lost
        )

    listening = _Listener(channel, acks, sender())
    listener = asyncio.create_task(listening.run())
    stop = asyncio.Event()
    running = asyncio.create_task(listening.sender.run(stop))
    beating = asyncio.create_task(_beat(channel, listening.sender.metrics, stop))
    told = await listening.told
    if told is None:
        return  # the bot's process is gone: nothing could be recorded any more
    # DRAIN: the bot's grace period counts from now; the sends under way finish within it.
    deadline = asyncio.get_running_loop().time() + float(told[1])
    listening.sender.stop_wait = min(listening.sender.stop_wait, float(told[1]) / 2)
    stop.set()
    await asyncio.gather(running, beating)
    draining = listening.sender = sender()
    await draining.drain(deadline)
    listener.cancel()
    await request.shutdown()


class _Acknowledgements:
    """Batches of results sent to the bot's process, each waiting for its RECORDED."""

    def __init__(self, channel: Channel) -> None:
        self._channel = channel
        self._waiting: deque[asyncio.Future[None]] = deque()

    async def record(self, results: Sequence[SendResult]) -> None:
        recorded = asyncio.get_running_loop().create_future()
        self._waiting.append(recorded)
        self._channel.send(Say.RESULTS, list(results))
        await recorded

    def recorded(self) -> None:
        if self._waiting:
            self._waiting.popleft().set_result(None)

    def lost(self) -> None:
        while self._waiting:
            self._waiting.popleft().set_exception(ChannelClosed())


class _Listener:
    """What the bot's process tells the sender's: wakes and acknowledgements as they come; the
    DRAIN (or the pipe's end, None) in `told`."""

    def __init__(self, channel: Channel, acks: _Acknowledgements, sender: Sender) -> None:
        self._channel = channel
        self._acks = acks
        self.sender = sender  # the one woken: the drain's, once the bot is stopping
        self.told: asyncio.Future[tuple[Any, ...] | None] = (
            asyncio.get_running_loop().create_future()
        )

    async def run(self) -> None:
        try:
            await self._listen()
        finally:  # the pipe's end, or a frame that could not be read
            self._acks.lost()
            self._tell(None)

    async def _listen(self) -> None:
        while True:
            try:
                message = await self._channel.receive()
            except ChannelClosed:
                return
            if message[0] == Say.WAKE:
                self.sender.wake()
            elif message[0] == Say.RECORDED:
                self._acks.recorded()
            elif message[0] == Say.DRAIN:
                self._tell(message)

    def _tell(self, message: tuple[Any, ...] | None) -> None:
        if not self.told.done():
            self.told.set_result(message)


async def _beat(channel: Channel, metrics: Metrics, stop: asyncio.Event) -> None:
    """Tell the bot's process how long ago the sender last went round its loop."""
    while not stop.is_set():
        channel.send(Say.BEAT, metrics.beat_age("sender"))
        await wait_any(stop, seconds=BEAT_EVERY)


def main(argv: Sequence[str]) -> int:
    """`python -m bot.sender_child READ_FD WRITE_FD PARENT_PID`, as spawn_sender starts it."""
    os.umask(0o077)
    read_fd, write_fd, parent = (int(arg) for arg in argv)
    return serve(read_fd, write_fd, parent)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
