"""Open311 GeoReport v2, end to end: the webhook server's /open311/v2/ over real HTTP, a real
SQLite file, the sandbox as Telegram. Filing with a key issued by `minsheng apikey add`; the
filed request reaches the staff chat as any case does; a request that is not published is not
read without a key (tests/test_open311_privacy.py has the rest of publication by consent)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import aiohttp

from bot.sandbox import Sandbox
from storage.case_views import Location
from storage.tracking import format_tracking_number
from tests.databases import Database
from tests.following import Desk
from tests.harness import query, webhook_bot, webhook_settings
from tests.open311_desk import DESCRIPTION, SECRET, base_url, operator


async def call(method: str, url: str, data: dict[str, str] | None = None) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as http, http.request(method, url, data=data) as answer:
        return answer.status, await answer.json(content_type=None)


async def test_services_and_definitions(sandbox: Sandbox, db_path: Database) -> None:
    """The categories are the services; a category's questions are its attributes."""
    settings = webhook_settings(sandbox, db_path, SECRET)
    async with webhook_bot(settings, sandbox, db_path):
        base = base_url(settings)
        status, discovery = await call("GET", f"{base}/discovery.json")
        assert status == 200
        assert discovery["endpoints"][0]["specification"] == "http://wiki.open311.org/GeoReport_v2"
        status, found = await call("GET", f"{base}/services.json")
        codes = {s["service_code"]: s for s in found}
        assert status == 200
        assert "heating.no-heat" in codes
        assert codes["heating.no-heat"]["metadata"] is True
        assert not any(code.startswith("emergency") for code in codes)  # never filed
        status, definition = await call("GET", f"{base}/services/heating.no-heat.json")
        assert status == 200
        attributes = {a["code"]: a for a in definition["attributes"]}
        assert attributes["indoor_temp"]["datatype"] == "number"
        assert attributes["indoor_temp"]["required"] is True
        status, missing = await call("GET", f"{base}/services/no-such-thing.json")
        assert status == 404
        assert missing[0]["code"] == 404
        status, other = await call("GET", f"{base}/requests.yaml")  # XML and JSON only
        assert status == 404
        assert other[0]["code"] == 404


async def test_file_and_follow_a_request(sandbox: Sandbox, db_path: Database) -> None:
    """A request filed with a key is a case: a tracking number, the staff chat's card, the
    channel recorded. It is private (filed without consent): not read without a key, while a
    partner's key with the read_private scope reads its status by number and with filters."""
    settings = webhook_settings(sandbox, db_path, SECRET)
    async with webhook_bot(settings, sandbox, db_path):
        key = await operator(db_path, "apikey", "add", "web-form")
        partner = await operator(db_path, "apikey", "add", "partner", "--read-private")
        base = base_url(settings)
        form = {
            "api_key": key,
            "service_code": "urban.street-lights",
            "description": DESCRIPTION,
            "lat": "39.9087",
            "long": "116.3975",
            "phone": "+86 10 1234 5678",
        }
        status, filed = await call("POST", f"{base}/requests.json", form)
        assert status == 201, filed
        number = filed[0]["service_request_id"]
        canonical = number.replace("-", "")
        [(channel, phone, citizen, consent)] = query(
            db_path,
            "SELECT channel, phone, citizen_id, publish_consent FROM service_case"
            " WHERE tracking = ?",
            (canonical,),
        )
        assert (channel, phone, citizen, consent) == ("open311", "+86 10 1234 5678", None, 0)
        await sandbox.wait_for_messages(sandbox.config.staff_group_id, 1, timeout=10)
        status, _ = await call("GET", f"{base}/requests/{number}.json")
        assert status == 404
        status, listed = await call("GET", f"{base}/requests.json")
        assert (status, listed) == (200, [])
        status, [request] = await call("GET", f"{base}/requests/{number}.json?api_key={partner}")
        assert status == 200
        assert request["status"] == "open"
        assert request["service_code"] == "urban.street-lights"
        assert request["description"] is None
        assert "phone" not in request
        assert request["lat"] is None
        mine = f"api_key={partner}"
        status, listed = await call("GET", f"{base}/requests.json?status=open&{mine}")
        assert [r["service_request_id"] for r in listed] == [number]
        status, listed = await call("GET", f"{base}/requests.json?status=closed&{mine}")
        assert status == 200
        assert listed == []
        water = f"{base}/requests.json?service_code=water.outage&{mine}"
        status, listed = await call("GET", water)
        assert listed == []


async def test_chat_requests_are_not_read_without_a_key(
    sandbox: Sandbox, db_path: Database
) -> None:
    """A request filed in the chat is private: without a key it is a 404 by its number, in the
    spec's shape, like an unknown id, and absent from every list, also walked back by end_date."""
    settings = webhook_settings(sandbox, db_path, SECRET)
    async with webhook_bot(settings, sandbox, db_path) as runtime:
        desk = Desk(sandbox, runtime, db_path)
        case = await desk.file_case(
            4242,
            text="My neighbour Wang Wei at flat 12 plays drums at night.",
            location=Location(39.9, 116.4, "Flat 12, Dongcheng"),
        )
        base = base_url(settings)
        number = format_tracking_number(case.tracking)
        status, found = await call("GET", f"{base}/requests/{number}.json")
        status_unknown, missing = await call("GET", f"{base}/requests/ABCD-EFGH-JKMN.json")
        assert (status, status_unknown) == (404, 404)
        assert found == [{"code": 404, "description": missing[0]["description"]}]
        walks = [
            "",
            f"?service_request_id={number}",
            "?end_date=2999-01-01T00:00:00Z",
            "?start_date=2000-01-01T00:00:00Z&end_date=2999-01-01T00:00:00Z",
            f"?end_date={datetime.now(UTC).date().isoformat()}T23:59:59Z",
        ]
        for walk in walks:
            status, listed = await call("GET", f"{base}/requests.json{walk}")
            assert (status, listed) == (200, []), walk


async def test_bad_filings_change_nothing(sandbox: Sandbox, db_path: Database) -> None:
    """Key missing or wrong (403), unknown service (404), oversized or malformed fields (400),
    a revoked key (403): each an error in the spec's shape, and no case is filed."""
    settings = webhook_settings(sandbox, db_path, SECRET)
    async with webhook_bot(settings, sandbox, db_path):
        key = await operator(db_path, "apikey", "add", "hotline")
        base = f"{base_url(settings)}/requests.json"
        good = {"api_key": key, "service_code": "urban.street-lights", "description": DESCRIPTION}
        cases: list[tuple[dict[str, str], int, str]] = [
            ({k: v for k, v in good.items() if k != "api_key"}, 403, "api_key"),
            ({**good, "api_key": key[:-1] + "x"}, 403, "api_key"),
            ({**good, "service_code": "no.such"}, 404, "service_code"),
            ({**good, "description": "短"}, 400, "description"),
            ({**good, "description": "长" * 3001}, 400, "description"),
            ({**good, "lat": "39.9"}, 400, "lat and long"),
            ({**good, "lat": "91", "long": "116"}, 400, "lat must be"),
            ({**good, "address_string": "x" * 301}, 400, "address_string"),
            ({**good, "phone": "call me maybe"}, 400, "phone"),
            ({**good, "service_code": "heating.no-heat"}, 400, "attribute[indoor_temp]"),
            (
                {
                    **good,
                    "service_code": "heating.no-heat",
                    "attribute[indoor_temp]": "99",
                    "attribute[since]": "2026-11-20",
                },
                400,
                "attribute[indoor_temp]",
            ),
            ({**good, "attribute[colour]": "red"}, 400, "attribute[colour]"),
        ]
        for form, expected, names in cases:
            status, body = await call("POST", base, form)
            assert status == expected, (form, body)
            assert body[0]["code"] == expected, body
            assert names in body[0]["description"], body
        status, body = await call("POST", base, {**good, "description": "x" * 70_000})
        assert status == 413
        assert query(db_path, "SELECT count(*) FROM service_case") == [(0,)]
        await operator(db_path, "apikey", "revoke", "hotline")
        status, body = await call("POST", base, good)
        assert status == 403
        assert query(db_path, "SELECT count(*) FROM service_case") == [(0,)]


async def test_filters_are_checked(sandbox: Sandbox, db_path: Database) -> None:
    settings = webhook_settings(sandbox, db_path, SECRET)
    async with webhook_bot(settings, sandbox, db_path):
        base = f"{base_url(settings)}/requests.json"
        for bad in (
            "status=pending",
            "start_date=yesterday",
            "start_date=2026-11-01T00:00:00",
            "start_date=2026-11-02T00:00:00Z&end_date=2026-11-01T00:00:00Z",
        ):
            status, body = await call("GET", f"{base}?{bad}")
            assert (status, body[0]["code"]) == (400, 400), bad
        today = datetime.now(UTC).date().isoformat()
        status, body = await call("GET", f"{base}?start_date={today}T00:00:00Z")
        assert status == 200
        assert body == []
