"""The Bot API's own HTTP client (bot.bot_http) against real servers on this machine: kept-alive
connections, answers in chunks or cut off by "Connection: close", a server that closes an idle
connection, answers too late or cut short, a port nobody listens on, and HTTPS that checks the
certificate (a self-signed one made with openssl for the test)."""

from __future__ import annotations

import asyncio
import json
import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from aiohttp import web
from telegram.error import NetworkError, TimedOut

from bot.bot_http import BotApiClient, ConnectTimedOut
from tests.harness import free_port

OK = b'{"ok":true,"result":{"message_id":7}}'
Answer = Callable[[int, bytes], Awaitable[bytes | None]]  # (call number, request) → raw answer


def plain(body: bytes, *headers: str) -> bytes:
    extra = "".join(f"{h}\r\n" for h in headers)
    return f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n{extra}\r\n".encode() + body


def client(port: int, **kwargs: object) -> BotApiClient:
    settings: dict[str, object] = {"limit": 4, "connect_timeout": 2.0, "read_timeout": 5.0}
    settings.update(kwargs)
    return BotApiClient(f"http://127.0.0.1:{port}", **settings)  # type: ignore[arg-type]


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def serving(handler: Handler) -> AsyncIterator[int]:
    """A TCP server on a free port running `handler` for each connection; its port. On the
    way out every connection is closed and every handler ended, so none outlives the test."""
    running: set[asyncio.Task[object]] = set()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        running.add(task)
        try:
            await handler(reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
            running.discard(task)

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        server.close()
        for task in list(running):
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        await server.wait_closed()


@asynccontextmanager
async def scripted(answer: Answer) -> AsyncIterator[tuple[int, list[int]]]:
    """A server speaking HTTP by hand: `answer` gives each call's raw answer (None: close the
    connection without one). Yields its port and the connections made so far."""
    connections = [0]
    calls = 0

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal calls
        connections[0] += 1
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            body = await reader.readexactly(length)
            calls += 1
            raw = await answer(calls, head + body)
            if raw is None:
                return
            writer.write(raw)
            await writer.drain()

    async with serving(serve) as port:
        yield port, connections


async def test_calls_share_one_kept_connection() -> None:
    seen: list[tuple[str, str, object, str]] = []

    async def method(request: web.Request) -> web.Response:
        peer = request.transport.get_extra_info("peername") if request.transport else None
        seen.append((request.path, request.host, await request.json(), str(peer)))
        return web.json_response({"ok": True, "result": len(seen)})

    app = web.Application()
    app.router.add_post("/bot123:SECRET/{method}", method)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        api = client(port)
        for n in range(1, 6):
            body = json.dumps({"chat_id": 1, "text": f"你好 {n}"}, ensure_ascii=False).encode()
            status, answer = await api.post("/bot123:SECRET/sendMessage", body)
            assert status == 200
            assert json.loads(answer) == {"ok": True, "result": n}
        assert [s[2] for s in seen] == [{"chat_id": 1, "text": f"你好 {n}"} for n in range(1, 6)]
        assert {s[1] for s in seen} == {f"127.0.0.1:{port}"}  # the Host header
        assert len({s[3] for s in seen}) == 1  # one connection, kept alive
        api.close()
    finally:
        await runner.cleanup()


async def test_chunks_and_connection_close() -> None:
    async def answer(call: int, request: bytes) -> bytes | None:
        if call == 1:  # in chunks, with an extension and a trailer
            return (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                b"5;note=x\r\n"
                + OK[:5]
                + b"\r\n"
                + f"{len(OK) - 5:x}".encode()
                + b"\r\n"
                + OK[5:]
                + b"\r\n0\r\nX-Trailer: 1\r\n\r\n"
            )
        if call == 2:  # the server will close this connection after it
            return plain(OK, "Connection: close")
        return plain(b'{"ok":true,"result":3}')

    async with scripted(answer) as (port, connections):
        api = client(port)
        assert await api.post("/bot1/sendMessage", b"{}") == (200, OK)
        assert await api.post("/bot1/sendMessage", b"{}") == (200, OK)
        assert connections[0] == 1
        assert await api.post("/bot1/sendMessage", b"{}") == (200, b'{"ok":true,"result":3}')
        assert connections[0] == 2  # "Connection: close" was heeded: a new one
        api.close()


async def test_a_connection_closed_while_idle_is_not_used_again() -> None:
    closed: list[int] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
        await reader.readexactly(length)
        writer.write(plain(OK))  # no "Connection: close", yet it closes, as idle ones do
        await writer.drain()
        writer.close()
        closed.append(1)

    async with serving(serve) as port:
        api = client(port)
        for _ in range(3):
            assert await api.post("/bot1/getMe", b"{}") == (200, OK)
            await asyncio.sleep(0.05)  # the server's FIN arrives while the connection waits
        assert len(closed) == 3  # each call found the last connection closed and made one
        api.close()


async def test_an_answer_too_late_times_out_and_its_connection_is_dropped() -> None:
    async def answer(call: int, request: bytes) -> bytes | None:
        if call == 1:
            await asyncio.sleep(1.0)  # past the client's wait; the answer comes all the same
        return plain(f'{{"ok":true,"result":{call}}}'.encode())

    async with scripted(answer) as (port, connections):
        api = client(port, read_timeout=0.2)
        with pytest.raises(TimedOut) as late:
            await api.post("/bot1/sendMessage", b"{}")
        assert not isinstance(late.value, ConnectTimedOut)  # it may have been delivered
        # The late answer must never be read as the next call's.
        assert await api.post("/bot1/sendMessage", b"{}", read_timeout=5.0) == (
            200,
            b'{"ok":true,"result":2}',
        )
        assert connections[0] == 2
        api.close()


async def test_an_answer_cut_short_and_a_port_nobody_listens_on() -> None:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + OK)  # 100 promised
        await writer.drain()
        writer.close()

    async with serving(serve) as port:
        api = client(port)
        with pytest.raises(NetworkError) as broke:
            await api.post("/bot1:SECRET/sendMessage", b"{}")
        assert not isinstance(broke.value, TimedOut)  # it broke off; it did not time out
        assert "SECRET" not in str(broke.value)  # the path holds the token: never in an error
    nobody = client(free_port())
    with pytest.raises(NetworkError) as refused:
        await nobody.post("/bot1/getMe", b"{}")
    assert not isinstance(refused.value, TimedOut)


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for localhost and its key, made by openssl for this test."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            str(shutil.which("openssl")),
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


async def test_https_checks_the_certificate(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    served = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    served.load_cert_chain(cert, key)

    async def method(request: web.Request) -> web.Response:
        return web.json_response({"ok": True, "result": await request.json()})

    app = web.Application()
    app.router.add_post("/bot1/{method}", method)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "localhost", port, ssl_context=served).start()
    try:
        trusting = ssl.create_default_context(cafile=str(cert))
        api = BotApiClient(
            f"https://localhost:{port}",
            limit=2,
            connect_timeout=5.0,
            read_timeout=5.0,
            ssl_context=trusting,
        )
        assert await api.post("/bot1/getMe", b'{"a":1}') == (
            200,
            b'{"ok": true, "result": {"a": 1}}',
        )
        api.close()
        # The system's authorities do not know this certificate: no call is made.
        stranger = BotApiClient(
            f"https://localhost:{port}", limit=2, connect_timeout=5.0, read_timeout=5.0
        )
        with pytest.raises(NetworkError, match="certificate"):
            await stranger.post("/bot1/getMe", b"{}")
    finally:
        await runner.cleanup()


async def test_a_handshake_that_never_ends_is_a_connect_timeout() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # accepts the connection and never says a word

    async with serving(silent) as port:
        api = BotApiClient(
            f"https://127.0.0.1:{port}", limit=2, connect_timeout=0.3, read_timeout=5.0
        )
        with pytest.raises(ConnectTimedOut):  # nothing was sent: safe to try again
            await api.post("/bot1/sendMessage", b"{}")


async def test_bytes_left_on_a_connection_are_never_the_next_answer() -> None:
    """A 408 a server sends before it drops an idle connection, and what an answer holds past
    its length, must not be read as the next call's answer: such a connection is not used
    again."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        await reader.readexactly(int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0]))
        if b"/late408" in head:
            writer.write(plain(OK))
            await writer.drain()
            await asyncio.sleep(0.05)  # then, idle, the server gives up on it
            writer.write(b"HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\n\r\n")
        else:
            writer.write(plain(OK) + b"HTTP/1.1 500 Stray\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        await reader.read()  # keeps the connection open until the client closes it

    async with serving(serve) as port:
        api = client(port)
        assert await api.post("/bot1/late408", b"{}") == (200, OK)
        await asyncio.sleep(0.2)
        assert await api.post("/bot1/next", b"{}") == (200, OK)  # not the 408
        assert await api.post("/bot1/next", b"{}") == (200, OK)  # not the stray 500
        api.close()
