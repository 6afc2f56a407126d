"""Every HTTP surface fuzzed with Hypothesis (issue 10): the webhook, the dashboard (and whatever
else the web app serves) and Open311, on the real app factory (`bot.web.make_web_app`) served by
aiohttp's test server, over a real database (a SQLite file, or PostgreSQL's).

No request may get a 5xx, and a request refused with a 4xx changes nothing in the database
(tests/fuzz_support.fingerprint). Requests are written byte for byte: header values that are
not UTF-8, bodies that are JSON lists or strings or 100,000 levels deep, update ids SQLite
cannot hold, dates no calendar has, control characters and right-to-left overrides, oversized
forms. The server's workers are not started: nothing but the request under test writes.
tests/test_open311_schema.py covers what the OpenAPI document allows; this covers the rest.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestServer
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.runtime import Runtime
from bot.sandbox import Sandbox
from bot.web import make_web_app
from storage.apikeys import add_key
from storage.case_views import Location
from storage.db import close_database
from storage.models import ApiKey, StaffRole
from storage.staff import add_staff
from storage.tracking import format_tracking_number
from storage.web_access import issue_login
from tests.databases import drop_database, new_database
from tests.following import Desk
from tests.fuzz_strategies import (
    DEEP,
    DESCRIPTION,
    VALID_FILING,
    bodies,
    encoded,
    filings,
    header_bytes,
    header_texts,
    multipart,
    page_calls,
    read_calls,
)
from tests.fuzz_support import COOKIE, CSRF, KEY, NUMBER, SESSION, Call, Target, exchange, send
from tests.harness import query, sandbox_config, webhook_settings

SECRET = "fuzz-secret"
ADMIN, HANDLER, CITIZEN = 79_001, 79_002, 79_003
# One server for the module (its fixture is module-scoped, so the function-scoped-fixture check
# does not apply); derandomized, so every run sends the same requests.
FUZZ = settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
pytestmark = pytest.mark.asyncio(loop_scope="module")
BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
ACTION, NOTE = "POST /web/case/{number}/{action}", {"number": NUMBER, "action": "note"}
LIST, FILE = "GET /open311/v2/requests.json", "POST /open311/v2/requests.json"


class Served(Target):
    routes: dict[str, list[tuple[str, str]]]  # surface -> (method, path template)

    def route(self, surface: str, chosen: int | str) -> tuple[str, str]:
        found = self.routes[surface]
        if isinstance(chosen, int):
            return found[chosen % len(found)]
        method, template = chosen.split(" ", 1)
        assert (method, template) in found, f"{chosen} is not served"
        return method, template


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Served]:
    """The web app of `minsheng webhook`, once for the module, with a handler signed in, a case
    of their department with a photo and a place, and an Open311 key; quotas are out of the
    way, so that the fuzzing reaches past them."""
    db_path = new_database(request, tmp_path_factory.mktemp("fuzz"))
    sandbox = Sandbox(sandbox_config())
    await sandbox.start()
    env = {"MINSHENG_ADMIN_IDS": str(ADMIN), "MINSHENG_OPEN311_READS_PER_MINUTE": "100000"}
    config = webhook_settings(sandbox, db_path, SECRET, **env)
    runtime = await Runtime.start(config)
    now = datetime.now(UTC)
    try:
        await add_staff(HANDLER, StaffRole.HANDLER, "heating-company", by=ADMIN, now=now)
        photo = sandbox.world.store_file("photo", b"\xff\xd8fuzzed-photo").file_id
        case = await Desk(sandbox, runtime, db_path).file_case(
            CITIZEN, photos=(photo,), location=Location(45.75, 126.63, "Building 3")
        )
        key = await add_key("fuzz", now=now)
        await ApiKey.filter(name="fuzz").update(per_minute=100_000, per_day=100_000)
        app = make_web_app(runtime, config.secret())
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        target = Served(
            "127.0.0.1",
            server.port or 0,
            db_path,
            {NUMBER: format_tracking_number(case.tracking), KEY: key},
        )
        target.routes = surfaces(app, config.webhook_path)
        await sign_in(target, await issue_login(HANDLER, now=now))
        yield target
        await server.close()
    finally:
        await runtime.app.shutdown()  # not Runtime.shutdown: it would handle the fuzzed updates
        await close_database()
        await sandbox.stop()
        drop_database(db_path)


def surfaces(app: Any, webhook: str) -> dict[str, list[tuple[str, str]]]:
    """Every route the app serves, by surface: a route added later is fuzzed too."""
    found: dict[str, list[tuple[str, str]]] = {"webhook": [], "open311": [], "dashboard": []}
    for route in app.router.routes():
        template = route.resource.canonical
        name = (
            "webhook"
            if template == webhook
            else "open311"
            if template.startswith("/open311/")
            else "dashboard"
        )
        found[name].append((route.method, template))
    return found


async def sign_in(target: Served, token: str) -> None:
    """Through the sign-in link, as a browser would: the cookie, then a page's CSRF token."""
    status, answer = await send(target, "GET", b"/web/login", Call(query=f"t={token}"), b"")
    cookie = re.search(rb"minsheng_session=([^;\s]+)", answer)
    assert status == 303, answer[:500]
    assert cookie, answer[:500]
    target.issued[COOKIE] = cookie.group(1).decode()
    target.issued[SESSION] = target.issued[COOKIE].rpartition(".")[0]
    _, page = await send(target, "GET", b"/web/", Call(cookie=COOKIE), b"")
    csrf = re.search(rb'name="csrf" value="([^"]+)"', page)
    assert csrf, page[:500]
    target.issued[CSRF] = csrf.group(1).decode()


# -- the webhook -------------------------------------------------------------------------------


def hook(body: bytes, secret: str | bytes | None = SECRET) -> Call:
    headers: tuple[tuple[str, str | bytes], ...] = (("Content-Type", "application/json"),)
    if secret is not None:
        headers += (("X-Telegram-Bot-Api-Secret-Token", secret),)
    return Call(form=body, headers=headers)


@FUZZ
@given(secret=st.one_of(st.none(), header_texts, header_bytes), body=bodies)
@example(secret=b"\xff\xfe\xfd", body=b'{"update_id": 1}')
@example(secret="s\u00e9cret", body=b'{"update_id": 2}')
@example(secret=None, body=b'{"update_id": 3}')
async def test_the_webhook_without_its_secret(
    served: Served, secret: str | bytes | None, body: bytes
) -> None:
    """No secret, a wrong one, one that is not UTF-8: refused (4xx), whatever the body."""
    method, template = served.route("webhook", 0)
    status, _ = await exchange(served, method, template, hook(body, secret))
    assert 400 <= status < 500, f"{status}: an update without the secret was taken"


@FUZZ
@given(body=bodies)
@example(body=b"[1, 2, 3]")
@example(body=b'"an update"')
@example(body=DEEP)
@example(body=json.dumps({"update_id": 10**30, "message": {"text": "hi"}}).encode())
@example(body=json.dumps({"update_id": -5}).encode())
async def test_the_webhook_with_its_secret(served: Served, body: bytes) -> None:
    """Lists, strings, numbers, deep nesting, update ids SQLite cannot hold, random JSON and
    bytes, random update-like objects: stored or refused, never a 5xx (Telegram would retry a
    5xx for a day)."""
    method, template = served.route("webhook", 0)
    await exchange(served, method, template, hook(body))


# -- the dashboard, and anything else the app serves --------------------------------------------


@settings(FUZZ, max_examples=150)
@given(call=page_calls())
@example(call=Call(route="GET /web/", cookie=f"{SESSION}.\u00e9\u00e9"))
@example(call=Call(route="GET /web/", cookie=b"\xff\xfe.\xff"))
@example(call=Call(route=ACTION, params=NOTE, cookie=COOKIE, form={"csrf": "\u00e9t\u00e9"}))
@example(call=Call(route="POST /web/logout", form=b"csrf=\xd1\xed"))
@example(
    call=Call(route="POST /web/logout", form=multipart({"\x1f": "x"})[0], headers=multipart({})[1])
)
@example(
    call=Call(
        route=ACTION,
        params=NOTE,
        cookie=COOKIE,
        headers=multipart({})[1],
        form=multipart({"csrf": CSRF, "te\x00xt": "x"})[0],
    )
)
@example(call=Call(route="GET /web/stats", query="period=9999-12", cookie=COOKIE))
@example(call=Call(route="GET /web/", query=f"category={'x' * 65}", cookie=COOKIE))
@example(call=Call(route="GET /web/", query=f"department={'x' * 65}", cookie=COOKIE))
@example(
    call=Call(
        route="POST /web/new",
        cookie=COOKIE,
        form={"csrf": CSRF, "category": "x" * 65, "text": "A tree fell on the road."},
    )
)
@example(call=Call(route="GET /web/stats", query="period=9999-12-31..9999-12-31", cookie=COOKIE))
async def test_the_dashboard(served: Served, call: Call) -> None:
    """Every route, signed in as a handler or not, with forged cookies and CSRF tokens."""
    method, template = served.route("dashboard", call.route)
    if method != "POST":
        call = replace(call, form=None)
    elif template == "/web/logout":  # the session lives on: its token is never sent here
        form = call.form
        stale = (
            {**form, "csrf": "stale"}
            if isinstance(form, dict)
            else (form or b"").replace(CSRF.encode(), b"stale")
        )
        call = replace(call, form=stale)
    # /healthz says 503 when the bot cannot work, as here, where its workers are not started.
    reports = (503,) if template == "/healthz" else ()
    await exchange(served, method, template, call, reports=reports)


# -- Open311 -----------------------------------------------------------------------------------


@settings(FUZZ, max_examples=120)
@given(call=read_calls)
@example(call=Call(route=LIST, query="end_date=0001-01-01T00:00:00-23:59"))
@example(call=Call(route=LIST, query=encoded({"start_date": "9999-12-31T23:59:59-23:59"})))
@example(call=Call(route="GET /open311/v2/services/{code}.json", params={"code": "x" * 65}))
@example(call=Call(route=LIST, query=encoded({"service_code": "x" * 65})))
async def test_open311_reads(served: Served, call: Call) -> None:
    """Every read, with dates no calendar has, bytes that are not UTF-8, keys that are not."""
    routes = [r for r in served.routes["open311"] if r[0] != "POST"]
    method, template = (
        served.route("open311", call.route)
        if isinstance(call.route, str)
        else routes[call.route % len(routes)]
    )
    await exchange(served, method, template, call)


@settings(FUZZ, max_examples=120)
@given(call=filings())
@example(call=Call(route=FILE, form={**VALID_FILING, "description": "\x00" * 12}))
@example(
    call=Call(
        route=FILE,
        form={
            **VALID_FILING,
            "description": "\u202e" + DESCRIPTION,
            "address_string": "Gate\u202e 3",
        },
    )
)
@example(call=Call(route=FILE, form=b"description=" + b"x" * 2_000_000))
@example(
    call=Call(
        route=FILE, form=multipart({**VALID_FILING, "\x1f": "x"})[0], headers=multipart({})[1]
    )
)
async def test_open311_filings(served: Served, call: Call) -> None:
    """Near-valid filings in every body shape; what is filed holds no control characters or
    direction overrides, and has ten visible characters at least."""
    method, template = served.route("open311", str(call.route))
    status, answer = await exchange(served, method, template, call)
    if status == 201:
        filed = json.loads(answer.partition(b"\r\n\r\n")[2])[0]["service_request_id"]
        [(text, address)] = query(
            served.db_path,
            "SELECT text, address FROM service_case WHERE tracking = ?",
            (filed.replace("-", ""),),
        )
        for kept in (text, address or ""):
            controls = [c for c in kept if unicodedata.category(c) == "Cc" and c not in "\t\n"]
            assert not controls, f"filed with control characters: {kept!r:.200}"
            assert not BIDI.search(kept), f"filed with direction overrides: {kept!r:.200}"
        visible = sum(
            1 for c in text if not c.isspace() and unicodedata.category(c)[0] not in "CMZ"
        )
        assert visible >= 10, f"filed with {visible} visible characters: {text!r:.200}"
