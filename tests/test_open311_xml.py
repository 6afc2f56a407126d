"""Open311 GeoReport v2 in XML, end to end over real HTTP on the webhook server (a real SQLite
file, the sandbox as Telegram): every resource as the spec's examples show it (declaration,
content type, element names and nesting), with the same content as its JSON twin; a public text
with < & and Chinese escaped and read back; filing with a key; errors in XML with the JSON
statuses; and a third-party client from PyPI, `georeport`, reading services, a definition, one
request and a list in XML (and the same through JSON)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
from georeport import GeoReport  # type: ignore[import-untyped]  # ships no types

from bot.sandbox import Sandbox
from storage.lifecycle import accept_case, submit_reply
from storage.publication import Publication, publish
from tests.databases import Database
from tests.harness import query, webhook_bot, webhook_settings
from tests.open311_desk import (
    DESCRIPTION,
    SECRET,
    as_xml_texts,
    base_url,
    from_xml,
    issued_key,
    listing,
    xml_root,
)

ADMIN = 74_001
DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>'
XML_TYPE = "text/xml; charset=utf-8"
JSON_TYPE = "application/json; charset=utf-8"
# The spec's elements, in the order of its examples (wiki.open311.org/GeoReport_v2).
SERVICE = ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"]
ATTRIBUTE = [
    "variable",
    "code",
    "datatype",
    "required",
    "datatype_description",
    "order",
    "description",
]
REQUEST = [
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
]
TITLE = "东门路灯 <3号楼> 不亮"
TEXT = '小区东门 <3号楼> 的路灯 & 围墙灯都不亮，晚上 "很暗"。'
NOTE = "已更换灯泡 & 线路 <已检查>。"
DEPARTMENT = "市城市管理局"  # urban-management, in the desk's default language (zh_Hans)


async def get(url: str) -> tuple[int, str, bytes]:
    """Status, content type (with charset) and body."""
    async with aiohttp.ClientSession() as http, http.get(url) as answer:
        return answer.status, answer.headers.get("Content-Type", ""), await answer.read()


async def post(
    url: str, form: dict[str, str], headers: dict[str, str] | None = None
) -> tuple[int, str, bytes]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(url, data=form, headers=headers) as answer,
    ):
        return answer.status, answer.headers.get("Content-Type", ""), await answer.read()


def is_subsequence(wanted: list[str], tags: list[str]) -> bool:
    """The spec's elements all there, in its order (an extension may add others)."""
    found = iter(tags)
    return all(tag in found for tag in wanted)


async def same_in_both(base: str, resource: str, root: str) -> Any:
    """GET the resource as .xml and .json: the XML is the spec's document `root`, says what
    the JSON says, and is served as text/xml in UTF-8 with the declaration. The XML root."""
    status, kind, body = await get(f"{base}/{resource}.xml")
    assert (status, kind) == (200, XML_TYPE), body[:300]
    assert body.startswith(DECLARATION), body[:100]
    element = xml_root(body)
    assert element.tag == root
    status, _, twin = await get(f"{base}/{resource}.json")
    assert status == 200
    assert from_xml(element) == as_xml_texts(json.loads(twin)), resource
    return element


async def published_pair(base: str, runtime: Any) -> list[str]:
    """Two requests filed through POST requests.xml (the key once as a header, once as a
    field with the other fields FixMyStreet's client posts), answered and published with texts
    holding < & " and Chinese; their numbers."""
    key = await issued_key("web-form")
    numbers = []
    fixmystreet = {"api_key": key, "jurisdiction_id": "minsheng", "first_name": "", "email": ""}
    for extra, headers in (({}, {"X-Api-Key": key}), (fixmystreet, None)):
        form = {
            "service_code": "urban.street-lights",
            "description": DESCRIPTION,
            "consent_to_publish": "true",
            **extra,
        }
        status, kind, body = await post(f"{base}/requests.xml", form, headers)
        assert (status, kind) == (201, XML_TYPE), body
        created = xml_root(body)
        assert created.tag == "service_requests"
        [request] = created
        assert request.tag == "request"
        assert [c.tag for c in request] == ["service_request_id", "service_notice", "account_id"]
        numbers.append(request.findtext("service_request_id") or "")
    now, zone = runtime.services.clock.now(), runtime.services.settings.zone
    for number in numbers:
        await accept_case(number, "urban-management", by=ADMIN, now=now, zone=zone)
        await submit_reply(number, "灯泡已于今天更换。", by=ADMIN, now=now)
        await publish(number, Publication(TITLE, TEXT, NOTE), by=ADMIN, now=now)
    return numbers


def xml_desk(sandbox: Sandbox, db_path: Database) -> Any:
    return webhook_settings(
        sandbox,
        db_path,
        SECRET,
        MINSHENG_ADMIN_IDS=str(ADMIN),
        MINSHENG_DEFAULT_LANGUAGE="zh_Hans",
    )


async def test_every_resource_as_the_spec_shows_it(sandbox: Sandbox, db_path: Database) -> None:
    """Discovery, services, two definitions (one with a value list) and the empty list of
    requests: the spec's names and nesting, the same content as JSON, Chinese in UTF-8."""
    settings = xml_desk(sandbox, db_path)
    async with webhook_bot(settings, sandbox, db_path):
        base = base_url(settings)
        discovery = await same_in_both(base, "discovery", "discovery")
        [endpoint] = discovery.findall("endpoints/endpoint")
        assert endpoint.findtext("specification") == "http://wiki.open311.org/GeoReport_v2"
        assert endpoint.findtext("url") == base
        assert [f.text for f in endpoint.findall("formats/format")] == [
            "text/xml",
            "application/json",
        ]
        services = await same_in_both(base, "services", "services")
        assert all(s.tag == "service" for s in services)
        assert all([c.tag for c in s] == SERVICE for s in services)
        by_code = {s.findtext("service_code"): s for s in services}
        assert by_code["heating.no-heat"].findtext("metadata") == "true"
        assert by_code["noise.construction"].findtext("service_name") == "建筑施工噪声"
        assert by_code["noise.construction"].findtext("group") == "噪声扰民"
        definition = await same_in_both(base, "services/noise.construction", "service_definition")
        assert [c.tag for c in definition] == ["service_code", "attributes"]
        [attribute] = definition.findall("attributes/attribute")
        assert [c.tag for c in attribute] == [*ATTRIBUTE, "values"]
        assert attribute.findtext("datatype") == "singlevaluelist"
        assert attribute.findtext("required") == "true"
        assert attribute.findtext("description") == "噪声主要在什么时段？"
        values = attribute.findall("values/value")
        assert [[c.tag for c in v] for v in values] == [["key", "name"]] * 3
        assert [v.findtext("key") for v in values] == ["day", "evening", "night"]
        assert values[0].findtext("name") == "白天（6:00—18:00）"
        heating = await same_in_both(base, "services/heating.no-heat", "service_definition")
        numbers = {a.findtext("code"): a for a in heating.findall("attributes/attribute")}
        assert numbers["indoor_temp"].findtext("datatype") == "number"
        assert numbers["indoor_temp"].find("values") is None  # values only for a list
        requests = await same_in_both(base, "requests", "service_requests")
        assert list(requests) == []


async def test_a_published_request_in_xml(sandbox: Sandbox, db_path: Database) -> None:
    """Filed through POST requests.xml, answered, published: read by number and in the list,
    its public text escaped (&lt; &amp;) and read back whole, the department named in
    agency_responsible in the desk's language, everything as the JSON says it."""
    settings = xml_desk(sandbox, db_path)
    async with webhook_bot(settings, sandbox, db_path) as runtime:
        base = base_url(settings)
        first, second = await published_pair(base, runtime)
        channels = query(db_path, "SELECT channel FROM service_case ORDER BY id")
        assert channels == [("open311",), ("open311",)]
        status, _, raw = await get(f"{base}/requests/{first}.xml")
        assert status == 200
        print(raw.decode())  # to read by eye with -s
        assert "&lt;3号楼&gt;".encode() in raw
        assert " &amp; 围墙灯".encode() in raw
        shown = await same_in_both(base, f"requests/{first}", "service_requests")
        [request] = shown
        assert request.tag == "request"
        tags = [c.tag for c in request]
        assert is_subsequence(REQUEST, tags), tags
        assert TEXT in (request.findtext("description") or "")
        assert request.findtext("status_notes") == NOTE
        assert request.findtext("agency_responsible") == DEPARTMENT
        assert request.findtext("status") == "closed"
        for place in ("address", "lat", "long", "media_url"):
            assert request.findtext(place) == "", place  # an empty element: not shown
        listed = await same_in_both(base, "requests", "service_requests")
        assert [r.findtext("service_request_id") for r in listed] == [second, first]
        status, _, raw = await get(f"{base}/requests.json")
        assert json.loads(raw)[0]["agency_responsible"] == DEPARTMENT


async def test_errors_in_xml(sandbox: Sandbox, db_path: Database) -> None:
    """Every refusal of an .xml path is <errors><error><code/><description/></error></errors>
    with the status JSON answers; nothing is filed. A format that is not served (.yaml) is a
    404 that names the two that are."""
    settings = xml_desk(sandbox, db_path)
    async with webhook_bot(settings, sandbox, db_path):
        base = base_url(settings)
        key = await issued_key("hotline")
        good = {"api_key": key, "service_code": "urban.street-lights", "description": DESCRIPTION}
        filings: list[tuple[dict[str, str], int, str]] = [
            ({k: v for k, v in good.items() if k != "api_key"}, 403, "api_key"),
            ({**good, "service_code": "no.such"}, 404, "service_code"),
            ({**good, "description": "短"}, 400, "description"),
            ({**good, "attribute[colour]": "<red>"}, 400, "attribute[colour]"),
        ]
        for form, expected, named in filings:
            for suffix, answered_as in (("xml", XML_TYPE), ("json", JSON_TYPE)):
                status, kind, body = await post(f"{base}/requests.{suffix}", form)
                assert (status, kind) == (expected, answered_as), (suffix, form, body)
                [refusal] = listing(body, suffix)
                assert str(refusal["code"]) == str(expected)
                assert named in refusal["description"]
        assert query(db_path, "SELECT count(*) FROM service_case") == [(0,)]
        reads = [
            ("services/no.such.xml", 404, "service_code"),
            ("requests/ABCD-EFGH-JKMN.xml", 404, "service_request_id"),
            ("requests/not-a-number.xml", 404, "service_request_id"),
            ("requests.xml?status=pending", 400, "status"),
            ("requests.xml?start_date=yesterday", 400, "start_date"),
            (f"requests.xml?api_key={key}x", 403, "api_key"),
            ("no-such-thing.xml", 404, "XML (*.xml) and JSON (*.json)"),
        ]
        for path, expected, named in reads:
            status, kind, body = await get(f"{base}/{path}")
            assert (status, kind) == (expected, XML_TYPE), (path, body)
            root = xml_root(body)
            assert root.tag == "errors"
            [error] = root
            assert [c.tag for c in error] == ["code", "description"]
            assert error.findtext("code") == str(expected)
            assert named in (error.findtext("description") or ""), body
        status, kind, body = await get(f"{base}/services.yaml")
        assert (status, kind) == (404, JSON_TYPE)
        assert "XML (*.xml) and JSON (*.json)" in json.loads(body)[0]["description"]


async def test_the_georeport_client_reads_xml(sandbox: Sandbox, db_path: Database) -> None:
    """`georeport` (PyPI) with output_format="xml" parses Minsheng's XML with xmltodict: the
    services, a service definition, one request and the list, as its JSON mode reads them."""
    settings = xml_desk(sandbox, db_path)
    async with webhook_bot(settings, sandbox, db_path) as runtime:
        base = base_url(settings)
        first, second = await published_pair(base, runtime)
        in_xml, in_json = GeoReport(base, output_format="xml"), GeoReport(base)

        def read(client: GeoReport) -> tuple[Any, Any, Any, Any]:
            return (
                client.get_service_list(),
                client.get_service_definition("noise.construction"),
                client.get_service_request(first),
                client.get_service_requests(status="closed"),
            )

        services, definition, request, requests = await asyncio.to_thread(read, in_xml)
        j_services, j_definition, j_request, j_requests = await asyncio.to_thread(read, in_json)
        assert [s["service_code"] for s in services] == [s["service_code"] for s in j_services]
        assert services == as_xml_texts(j_services)
        assert definition["service_code"] == "noise.construction"
        # xmltodict makes a lone item a dict, several a list: the client hands that on.
        attribute = definition["attributes"]["attribute"]
        assert attribute == as_xml_texts(j_definition["attributes"][0]) | {
            "values": {"value": as_xml_texts(j_definition["attributes"][0]["values"])}
        }
        assert request["service_request_id"] == first
        assert request == as_xml_texts(j_request)
        assert TEXT in request["description"]
        assert request["agency_responsible"] == DEPARTMENT
        assert [r["service_request_id"] for r in requests] == [second, first]
        assert requests == as_xml_texts(j_requests)
