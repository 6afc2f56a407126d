"""Open311 GeoReport v2 under /open311/v2/: how the desk's other channels file and follow requests.

Discovery, services, service definitions, and requests (list, one by id, and filing one with an
API key). JSON only; errors in the spec's shape, `[{"code": 400, "description": "..."}]`.
A filed request enters the same workflow as one from the chat, with its channel recorded.
The OpenAPI document of this interface is served at /open311/v2/openapi.json.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.open311_filing import Filing, FilingRefused, parse_filing
from bot.open311_schema import openapi_document
from storage.apikeys import key_holder
from storage.open311 import RequestFilter, requests, service_definition, services
from storage.tracking import canonical_or_none

if TYPE_CHECKING:
    from bot.runtime import Runtime

PREFIX = "/open311/v2"
KEY_HEADER = "X-Api-Key"  # the key may come as a header instead of the api_key field
MAX_BODY = 64 * 1024  # form fields only; photos are not taken through this interface
_RUNTIME: web.AppKey[Runtime] = web.AppKey("open311_runtime")


def add_open311_routes(app: web.Application, runtime: Runtime) -> None:
    app[_RUNTIME] = runtime
    routes = app.router
    routes.add_get(f"{PREFIX}/discovery.json", discovery)
    routes.add_get(f"{PREFIX}/services.json", list_services)
    routes.add_get(f"{PREFIX}/services/{{code}}.json", define_service)
    routes.add_get(f"{PREFIX}/requests.json", list_requests)
    routes.add_post(f"{PREFIX}/requests.json", file_request)
    routes.add_get(f"{PREFIX}/requests/{{id}}.json", one_request)
    routes.add_get(f"{PREFIX}/openapi.json", openapi)
    routes.add_get(f"{PREFIX}/{{rest:.*}}", not_found)  # other methods: aiohttp's 405


def error(status: int, description: str) -> web.Response:
    return web.json_response([{"code": status, "description": description}], status=status)


def _language(request: web.Request) -> str:
    return request.app[_RUNTIME].services.settings.default_language


def _now(request: web.Request) -> datetime:
    return request.app[_RUNTIME].services.clock.now()


async def discovery(request: web.Request) -> web.Response:
    base = f"{request.scheme}://{request.host}{PREFIX}"
    return web.json_response(
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
                    "formats": ["application/json"],
                }
            ],
        }
    )


async def list_services(request: web.Request) -> web.Response:
    return web.json_response(await services(_language(request)))


async def define_service(request: web.Request) -> web.Response:
    found = await service_definition(request.match_info["code"], _language(request))
    if found is None:
        return error(404, "service_code not found")
    return web.json_response(found)


async def list_requests(request: web.Request) -> web.Response:
    try:
        wanted = _filter(request.query)
    except ValueError as bad:
        return error(400, str(bad))
    found = await requests(wanted, _language(request), now=_now(request))
    return web.json_response(found)


async def one_request(request: web.Request) -> web.Response:
    number = canonical_or_none(request.match_info["id"])
    if number is None:
        return error(404, "service_request_id not found")
    found = await requests(RequestFilter(ids=[number]), _language(request), now=_now(request))
    if not found:
        return error(404, "service_request_id not found")
    return web.json_response(found)


async def file_request(request: web.Request) -> web.Response:
    if request.content_length is not None and request.content_length > MAX_BODY:
        return error(413, "request body too large")
    try:
        form = await request.post()
    except (ValueError, web.HTTPException):
        return error(400, "the body must be application/x-www-form-urlencoded or multipart")
    fields = {key: value for key, value in form.items() if isinstance(value, str)}
    runtime = request.app[_RUNTIME]
    key = request.headers.get(KEY_HEADER) or fields.get("api_key", "")
    channel = await key_holder(key, now=_now(request))
    if channel is None:
        return error(403, "api_key missing or not valid")
    try:
        filing: Filing = await parse_filing(fields)
        filed = await filing.submit(runtime.services, key_name=channel)
    except FilingRefused as refused:
        return error(refused.status, str(refused))
    return web.json_response(
        [{"service_request_id": filed, "service_notice": "", "account_id": None}], status=201
    )


async def openapi(request: web.Request) -> web.Response:
    return web.json_response(openapi_document(), dumps=lambda doc: json.dumps(doc, indent=1))


async def not_found(request: web.Request) -> web.Response:
    return error(404, "no such resource: GeoReport v2 here speaks JSON (*.json)")


def _filter(query: Any) -> RequestFilter:
    ids = []
    for raw in _split(query.get("service_request_id")):
        number = canonical_or_none(raw)
        if number is not None:
            ids.append(number)
        elif len(raw) > 32:
            raise ValueError("service_request_id is not a request id")
    statuses = _split(query.get("status"))
    if any(s not in ("open", "closed") for s in statuses):
        raise ValueError("status must be open, closed or both")
    start, end = _date(query, "start_date"), _date(query, "end_date")
    if start and end and start > end:
        raise ValueError("start_date is after end_date")
    wanted_ids = ids if query.get("service_request_id") else ()
    if query.get("service_request_id") and not ids:
        wanted_ids = ["-"]  # ids were asked for and none can exist: an empty answer
    return RequestFilter(
        ids=wanted_ids, service_code=query.get("service_code") or None, statuses=statuses,
        start=start, end=end,
    )  # fmt: skip


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _date(query: Any, name: str) -> datetime | None:
    raw = query.get(name)
    if raw is None:
        return None
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{name} must be a W3C date-time, e.g. 2026-11-01T00:00:00Z") from None
    if parsed.tzinfo is None:
        raise ValueError(f"{name} needs a time zone, e.g. 2026-11-01T00:00:00Z")
    return parsed

