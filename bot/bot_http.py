"""The outbox's and the poller's Bot API calls over HTTP/1.1 on asyncio's streams.

These calls are all alike: a POST of a JSON body to one host, answered with JSON (bot.bot_api).
aiohttp's client builds a request, a response, a payload, a writer task and a timer for each
one: about 140 µs of CPU, against 50 µs for the same POST on a kept-alive stream here, and a
filed request makes 22 calls (aiohttp was a fifth of the loop thread's samples during an
intake). So they go over a pool of kept-alive connections of their own; python-telegram-bot's
own calls (a file to upload, getMe) stay on aiohttp (bot.transport).

An answer is read by its Content-Length, in chunks, or to the end of the connection. A
connection is used again only after a whole answer that lets it be (HTTP/1.1, no
"Connection: close"), and only while the server has not closed it meanwhile. A call cancelled
or failed midway closes its connection. Failures come as python-telegram-bot's errors, as
bot.transport gives them: ConnectTimedOut when the connection could not be made in time
(nothing was sent), TimedOut when the answer did not come in time (Telegram may have done the
call), NetworkError for the rest. No error names the URL: it holds the bot's token.
"""

from __future__ import annotations

import asyncio
import re
import socket
import ssl
import time
from urllib.parse import urlsplit

import aiohappyeyeballs
from telegram.error import NetworkError, TimedOut

IDLE_FOR = 30.0  # seconds a connection may wait in the pool (servers drop idle ones in time)
HEAD_LIMIT = 64 * 1024  # the longest status line and headers taken
EYEBALLS_DELAY = 0.25  # seconds before the next address is tried beside a silent one (RFC 8305)
_CHUNK_SIZE = re.compile(rb"[0-9A-Fa-f]+")


class ConnectTimedOut(TimedOut):
    """The request never reached the server: retrying it cannot duplicate anything."""


class _Kept:
    """A connection and when it went back to the pool."""

    __slots__ = ("reader", "since", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer, self.since = reader, writer, 0.0

    def usable(self, now: float) -> bool:
        return (
            now - self.since < IDLE_FOR
            and _quiet(self.reader)  # nothing came while it waited, not even the server's end
            and not self.writer.is_closing()
        )

    def close(self) -> None:
        self.writer.close()


class BotApiClient:
    """POSTs to one origin (scheme, host and port), over at most `limit` connections."""

    def __init__(
        self,
        origin: str,
        *,
        limit: int,
        connect_timeout: float,
        read_timeout: float,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        url = urlsplit(origin)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError("the Bot API's address must be an http:// or https:// URL")
        self._https = url.scheme == "https"
        self._host = url.hostname
        self._port = url.port or (443 if self._https else 80)
        self._ssl = (ssl_context or ssl.create_default_context()) if self._https else None
        authority = self._host if ":" not in self._host else f"[{self._host}]"
        default_port = self._port == (443 if self._https else 80)
        self._authority = authority if default_port else f"{authority}:{self._port}"
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._slots = asyncio.Semaphore(limit)
        self._idle: list[_Kept] = []
        self._closed = False

    async def post(
        self, path: str, body: bytes, read_timeout: float | None = None
    ) -> tuple[int, bytes]:
        """POST `body` (JSON) to `path`; the answer's status and body."""
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self._authority}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode("latin-1")
        async with self._slots:
            kept = self._kept() or await self._connect()
            try:
                async with asyncio.timeout(read_timeout or self._read_timeout):
                    kept.writer.write(head + body)
                    status, answer, reusable = await _answer(kept.reader)
            except TimeoutError:
                kept.close()
                raise TimedOut("Timed out waiting for the answer") from None
            except (OSError, EOFError, ValueError, asyncio.LimitOverrunError) as exc:
                kept.close()  # (an answer cut short gives IncompleteReadError, an EOFError)
                broke = type(exc).__name__
                raise NetworkError(f"the Bot API's answer broke off: {broke}") from None
            except BaseException:  # cancelled: the answer may still come, never read it
                kept.close()
                raise
            if reusable and _quiet(kept.reader) and not self._closed:
                kept.since = time.monotonic()
                self._idle.append(kept)
            else:
                kept.close()
            return status, answer

    def _kept(self) -> _Kept | None:
        """The most recently used connection still open, closing the stale ones (the least
        recently used too, which a quiet hour would otherwise leave open for good)."""
        now = time.monotonic()
        while self._idle and not self._idle[0].usable(now):
            self._idle.pop(0).close()
        while self._idle:
            kept = self._idle.pop()
            if kept.usable(now):
                return kept
            kept.close()
        return None

    async def _connect(self) -> _Kept:
        """A new connection. Every address of the host is tried, the next one beside a silent
        one after EYEBALLS_DELAY (as aiohttp does): a broken IPv6 route must not cost the
        whole connect timeout."""
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self._connect_timeout):
                addresses = await loop.getaddrinfo(self._host, self._port, type=socket.SOCK_STREAM)
                sock = await aiohappyeyeballs.start_connection(
                    addresses, happy_eyeballs_delay=EYEBALLS_DELAY, interleave=1
                )
                reader, writer = await asyncio.open_connection(
                    sock=sock,
                    ssl=self._ssl,
                    server_hostname=self._host if self._ssl else None,
                    limit=HEAD_LIMIT,
                )
        except TimeoutError:
            raise ConnectTimedOut("Timed out connecting") from None
        except OSError as exc:  # refused, unreachable, a certificate not trusted
            raise NetworkError(f"could not connect to the Bot API: {exc}") from None
        return _Kept(reader, writer)

    def close(self) -> None:
        """Close the connections waiting in the pool; calls under way close theirs when done."""
        self._closed = True
        for kept in self._idle:
            kept.close()
        self._idle.clear()


async def _answer(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """The status, the body, and whether the connection may carry another request."""
    while True:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        version, status_text, *_ = [*lines[0].split(" ", 2), ""]
        status = int(status_text)
        if not 100 <= status < 200:  # an interim answer (100 Continue) has no body: read on
            break
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if colon:
            headers[name.strip().lower()] = value.strip()
    tokens = {t.strip().lower() for t in headers.get("connection", "").split(",")}
    reusable = version == "HTTP/1.1" and "close" not in tokens
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return status, await _chunked(reader), reusable
    if "content-length" in headers:
        return status, await reader.readexactly(int(headers["content-length"])), reusable
    if status in (204, 304):
        return status, b"", reusable
    return status, await reader.read(), False  # to the end of the connection


async def _chunked(reader: asyncio.StreamReader) -> bytes:
    parts = []
    while True:
        size = (await reader.readuntil(b"\r\n")).split(b";", 1)[0].strip()
        if not _CHUNK_SIZE.fullmatch(size):
            raise ValueError("a chunk's size is not a hexadecimal number")
        if not (length := int(size, 16)):
            break
        parts.append(await reader.readexactly(length))
        if await reader.readexactly(2) != b"\r\n":  # a miscounted chunk
            raise ValueError("a chunk is longer than its size")
    while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers, to the empty line
        pass
    return b"".join(parts)


def _quiet(reader: asyncio.StreamReader) -> bool:
    """Whether nothing is waiting to be read: not the server's end, and no bytes, such as a
    408 sent before an idle close or what an answer held beyond its length (they would be
    read as the next call's answer). StreamReader says so only through its buffer."""
    return not reader.at_eof() and not getattr(reader, "_buffer", b"")
