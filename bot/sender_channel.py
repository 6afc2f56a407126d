"""The pipes between the bot's process and its sender's (bot.sender_process, bot.sender_child):
messages framed by their length, each a pickled tuple whose first item names it.

Both ends are this program, started by the bot itself, so pickle carries the send results as
they are. A write never blocks and never tears a frame: asyncio's pipe transport buffers it.
"""

from __future__ import annotations

import asyncio
import os
import pickle
import struct
from enum import StrEnum
from typing import Any

HEADER = struct.Struct("!I")
LIMIT = 64 * 1024 * 1024  # a frame's bytes, at most: a batch of results is far smaller


class Say(StrEnum):
    """What a message is, its first item."""

    # From the bot's process to the sender's.
    START = "start"  # (START, settings, log level): the database is migrated; begin
    WAKE = "wake"  # rows were committed: read them
    RECORDED = "recorded"  # the oldest batch of results not yet acknowledged is committed
    DRAIN = "drain"  # (DRAIN, seconds): stop sending as usual, send what is queued, then end
    # From the sender's process to the bot's.
    RESULTS = "results"  # (RESULTS, [SendResult, ...]): record these, then say RECORDED
    BEAT = "beat"  # (BEAT, seconds since the sender last went round its loop)
    TOPIC_LOST = "topic_lost"  # (TOPIC_LOST, chat id, thread id, deleted)


class ChannelClosed(Exception):
    """The other process closed its end (it ended, or is ending)."""


class Channel:
    """One process's two ends: frames in from `reader`, frames out through `writer`."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        reading: asyncio.BaseTransport,
        writer: asyncio.WriteTransport,
    ) -> None:
        self._reader = reader
        self._reading = reading  # closed with the channel: uvloop keeps it open at EOF
        self._writer = writer

    @classmethod
    async def open(cls, read_fd: int, write_fd: int) -> Channel:
        """Wrap the two pipe ends (file descriptors this process owns) on the running loop."""
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=LIMIT)
        reading, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(read_fd, "rb", buffering=0)
        )
        writer, _ = await loop.connect_write_pipe(
            asyncio.BaseProtocol, os.fdopen(write_fd, "wb", buffering=0)
        )
        return cls(reader, reading, writer)

    def send(self, kind: Say, *items: Any) -> None:
        """Queue one frame; nothing when the other end is gone (its EOF tells the reader)."""
        if self._writer.is_closing():
            return
        data = pickle.dumps((kind.value, *items), protocol=pickle.HIGHEST_PROTOCOL)
        self._writer.write(HEADER.pack(len(data)) + data)

    async def receive(self) -> tuple[Any, ...]:
        """The next frame; ChannelClosed at the end of the pipe."""
        try:
            (size,) = HEADER.unpack(await self._reader.readexactly(HEADER.size))
            if size > LIMIT:
                raise ChannelClosed(f"a frame of {size} bytes")
            message = pickle.loads(await self._reader.readexactly(size))  # noqa: S301 - our own
        except asyncio.IncompleteReadError as exc:
            raise ChannelClosed from exc
        if not isinstance(message, tuple) or not message:
            raise ChannelClosed(f"not a message: {type(message).__name__}")
        return message

    @property
    def backed_up(self) -> bool:
        """Frames wait in this process for the other to read them."""
        return self._writer.get_write_buffer_size() > 0

    def close(self) -> None:
        self._writer.close()
        self._reading.close()
