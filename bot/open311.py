"""Open311 GeoReport v2 under /open311/v2/: how the desk's other channels file and follow requests.

Discovery, services, service definitions, and requests (list, one by id, and filing one with an
API key), each in XML (`.xml`, the spec's primary format: bot/open311_xml.py) and in JSON
(`.json`), from the same dictionaries. Errors in the spec's shape, in the format asked for:
`<errors><error><code>400</code><description>...` or `[{"code": 400, "description": "..."}]`.
A filed request enters the same workflow as one from the chat, with its channel recorded.
The OpenAPI document of the JSON interface is served at /open311/v2/openapi.json.

Reads show published requests only (storage.open311), unless a key with the read_private scope
is given. Every read is metered, a minute at a time: by its key when one is given, else by the
client's address, kept only as a keyed hash. The address is the peer's (request.remote): behind
a reverse proxy that is the proxy, whose X-Forwarded-For is not trusted. A key's filings have
their own quota (a minute and a day). Past a quota: 429 with Retry-After.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.client_address import address_hash, keep_address_key
from bot.forms import FormUnreadable, read_form
from bot.open311_filing import Filing, FilingRefused, parse_filing
from bot.open311_query import request_filter
from bot.open311_schema import openapi_document
from bot.open311_xml import CONTENT_TYPE, xml_document
from storage.apikeys import KeyHolder, key_holder
from storage.open311 import RequestFilter, requests, service_definition, services
from storage.quota import DAY, MINUTE, QuotaExceeded, Window, spend
from storage.tracking import canonical_or_none

if TYPE_CHECKING:
    from bot.runtime import Runtime

PREFIX = "/open311/v2"
KEY_HEADER = "X-Api-Key"  # the key may come as a header instead of the api_key field
MAX_BODY = 64 * 1024  # form fields only; photos are not taken through this interface
_RUNTIME: web.AppKey[Runtime] = web.AppKey("open311_runtime")
_HOLDER: web.RequestKey[KeyHolder] = web.RequestKey("open311_key_holder", KeyHolder)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def add_open311_routes(app: web.Application, runtime: Runtime) -> None:
    app[_RUNTIME] = runtime
    keep_address_key(app, runtime.services.settings.token())  # addresses count as keyed hashes
    routes = app.router
    for suffix in ("xml", "json"):
        routes.add_get(f"{PREFIX}/discovery.{suffix}", metered(discovery))
        routes.add_get(f"{PREFIX}/services.{suffix}", metered(list_services))
        routes.add_get(f"{PREFIX}/services/{{code}}.{suffix}", metered(define_service))
        routes.add_get(f"{PREFIX}/requests.{suffix}", metered(list_requests))
        routes.add_post(f"{PREFIX}/requests.{suffix}", file_request)
        routes.add_get(f"{PREFIX}/requests/{{id}}.{suffix}", metered(one_request))
    routes.add_get(f"{PREFIX}/openapi.json", metered(openapi))
    routes.add_get(f"{PREFIX}/{{rest:.*}}", metered(not_found))  # other methods: aiohttp's 405


def answer(
    request: web.Request, root: str, content: dict[str, Any] | list[Any], status: int = 200
) -> web.Response:
    """`content` in the format the path asks for: XML as the document `root`, else JSON."""
    if request.path.endswith(".xml"):
        body = xml_document(root, content)
        return web.Response(body=body, status=status, content_type=CONTENT_TYPE, charset="utf-8")
    return web.json_response(content, status=status)


def error(request: web.Request, status: int, description: str) -> web.Response:
    return answer(request, "errors", [{"code": status, "description": description}], status)


def too_many(request: web.Request, exceeded: QuotaExceeded, what: str) -> web.Response:
    window = exceeded.window
    refused = error(
        request,
        429,
        f"too many {what}: at most {window.limit} a {window.name}; "
        f"try again in {exceeded.retry_after} seconds",
    )
    refused.headers["Retry-After"] = str(exceeded.retry_after)
    return refused


def metered(handler: Handler) -> Handler:
    """A read, counted against its key or its client's address; 403 for a key not valid."""

    @functools.wraps(handler)
    async def read(request: web.Request) -> web.StreamResponse:
        now = _now(request)
        key = request.headers.get(KEY_HEADER) or request.query.get("api_key", "")
        holder = await key_holder(key, now=now) if key else None
        subject = f"key:{holder.id}:reads" if holder else f"addr:{address_hash(request)}"
        try:
            await spend(subject, _reads(request), now=now)
        except QuotaExceeded as exceeded:
            return too_many(request, exceeded, "reads")
        if key and holder is None:
            return error(
                request, 403, "api_key not valid (leave it out to read published requests)"
            )
        if holder is not None:
            request[_HOLDER] = holder
        return await handler(request)

    return read


def _reads(request: web.Request) -> list[Window]:
    """The window of a client's reads (and of a stranger's filing attempts)."""
    settings = request.app[_RUNTIME].services.settings
    return [Window("minute", MINUTE, settings.open311_reads_per_minute)]


def _private_status(request: web.Request) -> bool:
    holder = request.get(_HOLDER)  # set by `metered`
    return holder is not None and holder.read_private


def _language(request: web.Request) -> str:
    return request.app[_RUNTIME].services.settings.default_language


def _now(request: web.Request) -> datetime:
    return request.app[_RUNTIME].services.clock.now()


async def discovery(request: web.Request) -> web.Response:
    base = f"{request.scheme}://{request.host}{PREFIX}"
    return answer(
        request,
        "discovery",
        {
            "changeset": "2026-11-24T00:00:00Z",
            "contact": "",
            "key_service": "",
            "endpoints": [
                {
                    "specification": "http://wiki.open311.org/GeoReport_v2",
                    "url": base,
                    "changeset": "2026-11-24T00:00:00Z",
                    "type": "production",
                    "formats": ["text/xml", "application/json"],
                }
            ],
        },
    )


async def list_services(request: web.Request) -> web.Response:
    return answer(request, "services", await services(_language(request)))


async def define_service(request: web.Request) -> web.Response:
    found = await service_definition(request.match_info["code"], _language(request))
    if found is None:
        return error(request, 404, "service_code not found")
    return answer(request, "service_definition", found)


async def list_requests(request: web.Request) -> web.Response:
    try:
        wanted = request_filter(request.query)
    except ValueError as bad:
        return error(request, 400, str(bad))
    found = await requests(
        wanted, _language(request), now=_now(request), private_status=_private_status(request)
    )
    return answer(request, "service_requests", found)


async def one_request(request: web.Request) -> web.Response:
    number = canonical_or_none(request.match_info["id"])
    if number is None:
        return error(request, 404, "service_request_id not found")
    found = await requests(
        RequestFilter(ids=[number]),
        _language(request),
        now=_now(request),
        private_status=_private_status(request),
    )
    if not found:
        return error(request, 404, "service_request_id not found")
    return answer(request, "service_requests", found)


async def file_request(request: web.Request) -> web.Response:
    if request.content_length is not None and request.content_length > MAX_BODY:
        return error(request, 413, "request body too large")
    try:
        form = await read_form(request)
    except FormUnreadable:
        return error(
            request, 400, "the body must be application/x-www-form-urlencoded or multipart"
        )
    fields = {key: value for key, value in form.items() if isinstance(value, str)}
    runtime = request.app[_RUNTIME]
    key = request.headers.get(KEY_HEADER) or fields.get("api_key", "")
    holder = await key_holder(key, now=_now(request))
    if holder is None:
        try:  # counted as a read of the address: a stranger's tries are bounded too
            await spend(f"addr:{address_hash(request)}", _reads(request), now=_now(request))
        except QuotaExceeded as exceeded:
            return too_many(request, exceeded, "requests without a valid key")
        return error(request, 403, "api_key missing or not valid")
    quota = [Window("minute", MINUTE, holder.per_minute), Window("day", DAY, holder.per_day)]
    try:
        # Every filing attempt counts, refused or not: the quota bounds the work a key causes.
        await spend(f"key:{holder.id}", quota, now=_now(request))
    except QuotaExceeded as exceeded:
        return too_many(request, exceeded, "filings for this key")
    try:
        filing: Filing = await parse_filing(fields)
        filed = await filing.submit(runtime.services, key_name=holder.name)
    except FilingRefused as refused:
        return error(request, refused.status, str(refused))
    created = [{"service_request_id": filed, "service_notice": "", "account_id": None}]
    return answer(request, "service_requests", created, status=201)


async def openapi(request: web.Request) -> web.Response:
    return web.json_response(openapi_document(), dumps=lambda doc: json.dumps(doc, indent=1))


async def not_found(request: web.Request) -> web.Response:
    return error(
        request,
        404,
        "no such resource: GeoReport v2 here is served in XML (*.xml) and JSON (*.json), "
        "e.g. services.xml",
    )
