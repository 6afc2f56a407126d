"""The OpenAPI 3.0 document of the Open311 GeoReport v2 interface (bot/open311.py).

Written by hand, beside the routes it describes; the schemathesis test runs it against the live
server, so a route and its description cannot drift apart unnoticed.
"""

from __future__ import annotations

from typing import Any

_TEXT = {"type": "string"}
_NULLABLE_TEXT = {"type": "string", "nullable": True}
_ERRORS = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["code", "description"],
        "properties": {"code": {"type": "integer"}, "description": _TEXT},
    },
}
_SERVICE = {
    "type": "object",
    "required": ["service_code", "service_name", "metadata", "type"],
    "properties": {
        "service_code": _TEXT,
        "service_name": _TEXT,
        "description": _TEXT,
        "metadata": {"type": "boolean"},
        "type": {"type": "string", "enum": ["realtime", "batch", "blackbox"]},
        "keywords": _TEXT,
        "group": _TEXT,
    },
}
_ATTRIBUTE = {
    "type": "object",
    "required": ["variable", "code", "datatype", "required", "order", "description"],
    "properties": {
        "variable": {"type": "boolean"},
        "code": _TEXT,
        "datatype": {
            "type": "string",
            "enum": ["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"],
        },
        "required": {"type": "boolean"},
        "datatype_description": _TEXT,
        "order": {"type": "integer"},
        "description": _TEXT,
        "values": {
            "type": "array",
            "items": {"type": "object", "properties": {"key": _TEXT, "name": _TEXT}},
        },
    },
}
_REQUEST = {
    "type": "object",
    "required": ["service_request_id", "status", "service_code", "requested_datetime"],
    "properties": {
        "service_request_id": _TEXT,
        "status": {"type": "string", "enum": ["open", "closed"]},
        "status_notes": _NULLABLE_TEXT,
        "service_name": _TEXT,
        "service_code": _TEXT,
        "description": _NULLABLE_TEXT,
        "agency_responsible": _NULLABLE_TEXT,
        "service_notice": _NULLABLE_TEXT,
        "requested_datetime": {"type": "string", "format": "date-time"},
        "updated_datetime": {"type": "string", "format": "date-time", "nullable": True},
        "expected_datetime": {"type": "string", "format": "date-time", "nullable": True},
        "address": _NULLABLE_TEXT,
        "address_id": _NULLABLE_TEXT,
        "zipcode": _NULLABLE_TEXT,
        "lat": {"type": "number", "nullable": True},
        "long": {"type": "number", "nullable": True},
        "media_url": _NULLABLE_TEXT,
    },
}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    return {str(code): _json(_ERRORS, "error") for code in codes}


def _limited() -> dict[str, Any]:
    """429: a quota is spent (reads a minute per client or key; a key's filings)."""
    answer = _json(_ERRORS, "too many requests: wait as long as Retry-After says")
    answer["headers"] = {
        "Retry-After": {
            "description": "seconds until the quota's window ends",
            "schema": {"type": "integer", "minimum": 1},
        },
    }
    return {"429": answer}


def _read(
    responses: dict[str, Any], parameters: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """A GET: metered, so it may also answer 429 (and 403 for a key that is not valid)."""
    key = _query(
        "api_key",
        "optional; the key may also come as the X-Api-Key header. A key with the read_private "
        "scope also reads the status of unpublished requests",
    )
    return {
        "parameters": [*(parameters or []), key],
        "responses": {**responses, **_errors(403), **_limited()},
    }


def _query(name: str, description: str, fmt: str | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    if fmt:
        schema["format"] = fmt
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


def _path(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def openapi_document() -> dict[str, Any]:
    requests = {"type": "array", "items": _REQUEST}
    filed = {
        "type": "array",
        "items": {
            "type": "object",
            "required": ["service_request_id"],
            "properties": {
                "service_request_id": _TEXT,
                "service_notice": _TEXT,
                "account_id": _NULLABLE_TEXT,
            },
        },
    }
    form = {
        "type": "object",
        "required": ["service_code", "description"],
        "properties": {
            "api_key": {"type": "string", "description": "the key, unless sent as X-Api-Key"},
            "service_code": _TEXT,
            "description": {"type": "string", "minLength": 10, "maxLength": 3000},
            "lat": _TEXT,
            "long": _TEXT,
            "address_string": _TEXT,
            "phone": _TEXT,
            "jurisdiction_id": _TEXT,
            "consent_to_publish": {
                "type": "string",
                "enum": ["true", "false"],
                "description": "an extension: the filer agrees that staff publish a public text "
                "of the request (default false: private)",
            },
        },
        "additionalProperties": {"type": "string"},
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Minsheng Open311 GeoReport v2",
            "version": "2",
            "description": "Requests of the desk's other channels. Dates are W3C date-times; "
            "service_request_id is the case's tracking number. Reads show published requests "
            "only (the filer agreed, and staff approved a public text, shown as description; "
            "status_notes is the public note); a key with the read_private scope also reads "
            "the status of the others. Reads are limited a minute per client address or key, "
            "filings a minute and a day per key: past a limit, 429 with Retry-After.",
        },
        "components": {
            "securitySchemes": {
                "header_key": {"type": "apiKey", "in": "header", "name": "X-Api-Key"},
            }
        },
        "paths": {
            "/open311/v2/discovery.json": {
                "get": _read({"200": _json({"type": "object"}, "discovery")})
            },
            "/open311/v2/services.json": {
                "get": _read({"200": _json({"type": "array", "items": _SERVICE}, "the services")})
            },
            "/open311/v2/services/{service_code}.json": {
                "get": _read(
                    {
                        "200": _json(
                            {
                                "type": "object",
                                "properties": {
                                    "service_code": _TEXT,
                                    "attributes": {"type": "array", "items": _ATTRIBUTE},
                                },
                            },
                            "the service's attributes",
                        ),
                        **_errors(404),
                    },
                    [_path("service_code")],
                )
            },
            "/open311/v2/requests.json": {
                "get": _read(
                    {"200": _json(requests, "published requests, newest first"), **_errors(400)},
                    [
                        _query("service_request_id", "comma-separated tracking numbers"),
                        _query("service_code", "one service"),
                        _query("start_date", "filed at or after", "date-time"),
                        _query("end_date", "filed at or before", "date-time"),
                        _query("status", "open, closed, or both comma-separated"),
                    ],
                ),
                "post": {
                    "requestBody": {
                        "required": True,
                        "content": {"application/x-www-form-urlencoded": {"schema": form}},
                    },
                    "security": [{"header_key": []}],
                    "responses": {
                        "201": _json(filed, "filed"),
                        **_errors(400, 403, 404, 413),
                        **_limited(),
                    },
                },
            },
            "/open311/v2/requests/{service_request_id}.json": {
                "get": _read(
                    {"200": _json(requests, "the request, if published"), **_errors(404)},
                    [_path("service_request_id")],
                )
            },
        },
    }
