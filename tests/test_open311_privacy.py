"""Open311 and publication by consent, end to end over real HTTP on the webhook server: what a
stranger reads (published requests only, their public text and note), what a partner's scoped
key reads (status only), the consent parameter, control characters, quotas, and dates that
cannot be represented."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import aiohttp

from bot.clock import ManualClock
from bot.sandbox import Sandbox
from storage.case_views import Location, NewCase
from storage.claims import file_for_caller
from storage.lifecycle import accept_case, submit_reply
from storage.models import CaseKind
from storage.publication import Publication, publish
from storage.tracking import format_tracking_number
from tests.databases import Database
from tests.following import Desk
from tests.harness import query, webhook_bot, webhook_settings
from tests.open311_desk import (
    DESCRIPTION,
    SECRET,
    as_xml_texts,
    base_url,
    issued_key,
    listing,
    operator,
)

ADMIN = 73_001
# What one citizen told the desk, and what staff answered them: none of it is the public's.
PLANTED = (
    "Zhang Sanfeng",
    "13912345678",
    "Lotus Lane",
    "39.9123",
    "116.3891",
    "Li Si",
    "13800001111",
)
CITIZEN_TEXT = "Zhang Sanfeng here, 13912345678: the lamp outside Flat 7, 12 Lotus Lane is out."
ANSWER = "Dear Zhang Sanfeng, Li Si (13800001111) replaces the lamp at 12 Lotus Lane tomorrow."
PUBLIC_TITLE = "Street lights: a lamp is out"
PUBLIC_TEXT = "A street light on a residential lane is out."
PUBLIC_NOTE = "The lamp was replaced."
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
SUFFIXES = ("json", "xml")  # every read, in both formats


async def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, str, Any]:
    """Status, the body as text (to search all of it), and the Retry-After header."""
    async with aiohttp.ClientSession() as http, http.get(url, headers=headers) as answer:
        return answer.status, await answer.text(), answer.headers.get("Retry-After")


async def post(url: str, form: dict[str, str]) -> tuple[int, Any, str | None]:
    """A filing, form-encoded by hand (aiohttp's own form refuses control characters)."""
    body = urlencode(form).encode()
    async with aiohttp.ClientSession() as http, http.post(url, data=body, headers=FORM) as answer:
        return answer.status, await answer.json(), answer.headers.get("Retry-After")


def cases(db_path: Database) -> int:
    return int(query(db_path, "SELECT count(*) FROM service_case")[0][0])


async def answer_as_admin(number: str, runtime: Any) -> None:
    """The admin accepts the case and answers the citizen (no review for an admin)."""
    now, zone = runtime.services.clock.now(), runtime.services.settings.zone
    await accept_case(number, "urban-management", by=ADMIN, now=now, zone=zone)
    await submit_reply(number, ANSWER, by=ADMIN, now=now)


async def test_phone_and_filed_requests_without_consent_stay_private(
    sandbox: Sandbox, db_path: Database
) -> None:
    """A phone case the caller did not agree to publish, an Open311 filing without consent, and
    a consented one that staff have not published yet: 404 by number, absent from every list."""
    settings = webhook_settings(sandbox, db_path, SECRET, MINSHENG_ADMIN_IDS=str(ADMIN))
    async with webhook_bot(settings, sandbox, db_path) as runtime:
        key = await issued_key("web-form")
        base = base_url(settings)
        phone, _ = await file_for_caller(
            NewCase(
                citizen_id=None,
                kind=CaseKind.REPORT,
                category_code="urban.street-lights",
                text=CITIZEN_TEXT,
                photos=(),
                location=Location(None, None, "12 Lotus Lane"),
                answers={},
                phone="13912345678",
                anonymous=False,
            ),
            by=ADMIN,
            now=runtime.services.clock.now(),
            zone=settings.zone,
            staff_chat_id=None,
        )
        numbers = [format_tracking_number(phone.tracking)]
        for consent in ("false", "true"):
            status, filed, _ = await post(
                f"{base}/requests.json",
                {
                    "api_key": key,
                    "service_code": "urban.street-lights",
                    "description": CITIZEN_TEXT,
                    "consent_to_publish": consent,
                },
            )
            assert status == 201, filed
            numbers.append(filed[0]["service_request_id"])
        for number, suffix in itertools.product(numbers, SUFFIXES):
            status, body, _ = await fetch(f"{base}/requests/{number}.{suffix}")
            assert status == 404, body
        today = datetime.now(UTC).date().isoformat()
        since = "?start_date=2000-01-01T00:00:00Z"
        walks = (
            "",
            f"?end_date={today}T23:59:59Z",
            since,
            f"?service_request_id={','.join(numbers)}",
            f"{since}&end_date=2999-01-01T00:00:00Z&status=open",
        )
        for walk, suffix in itertools.product(walks, SUFFIXES):
            status, body, _ = await fetch(f"{base}/requests.{suffix}{walk}")
            assert (status, listing(body, suffix)) == (200, []), (walk, body)


async def test_published_request_shows_only_its_public_text(
    sandbox: Sandbox, db_path: Database
) -> None:
    """The filer agreed and staff published a public text and note: that is all the public
    reads. The citizen's words, place and phone, and the staff's answer (with a name and a
    phone number), appear nowhere in the body, read by number or in a list."""
    settings = webhook_settings(sandbox, db_path, SECRET, MINSHENG_ADMIN_IDS=str(ADMIN))
    async with webhook_bot(settings, sandbox, db_path) as runtime:
        key = await issued_key("web-form")
        base = base_url(settings)
        status, filed, _ = await post(
            f"{base}/requests.json",
            {
                "api_key": key,
                "service_code": "urban.street-lights",
                "description": CITIZEN_TEXT,
                "address_string": "Flat 7, 12 Lotus Lane",
                "lat": "39.9123",
                "long": "116.3891",
                "phone": "13912345678",
                "consent_to_publish": "true",
            },
        )
        assert status == 201, filed
        number = filed[0]["service_request_id"]
        await answer_as_admin(number, runtime)
        await publish(
            number,
            Publication(PUBLIC_TITLE, PUBLIC_TEXT, PUBLIC_NOTE),
            by=ADMIN,
            now=runtime.services.clock.now(),
        )
        status, body, _ = await fetch(f"{base}/requests/{number}.json")
        assert status == 200, body
        [request] = json.loads(body)
        # GeoReport has no title: the public title is the description's first paragraph.
        assert request["description"] == f"{PUBLIC_TITLE}\n\n{PUBLIC_TEXT}"
        assert request["status_notes"] == PUBLIC_NOTE
        assert request["status"] == "closed"  # answered
        assert (request["address"], request["lat"], request["long"]) == (None, None, None)
        reads = [body]
        status, body, _ = await fetch(f"{base}/requests/{number}.xml")
        assert status == 200, body
        assert listing(body, "xml") == [as_xml_texts(request)]  # what JSON shows, no more
        reads.append(body)
        walks = (
            "",
            "?start_date=2000-01-01T00:00:00Z&end_date=2999-01-01T00:00:00Z",
            f"?service_request_id={number}",
        )
        for walk, suffix in itertools.product(walks, SUFFIXES):
            status, body, _ = await fetch(f"{base}/requests.{suffix}{walk}")
            assert status == 200
            assert PUBLIC_TEXT in body
            reads.append(body)
        for body in reads:
            for planted in PLANTED:
                assert planted not in body, (planted, body)


async def test_a_scoped_key_reads_the_status_of_private_requests(
    sandbox: Sandbox, db_path: Database
) -> None:
    """A partner's key with the read_private scope reads a chat request's status, dates,
    category and department, and nothing of its text, place or answer. A key without the scope
    reads only what the public reads (404); a key that is not valid is refused (403)."""
    settings = webhook_settings(sandbox, db_path, SECRET, MINSHENG_ADMIN_IDS=str(ADMIN))
    async with webhook_bot(settings, sandbox, db_path) as runtime:
        partner = await operator(db_path, "apikey", "add", "partner", "--read-private")
        plain = await issued_key("web-form")
        listed = await operator(db_path, "apikey", "list")
        assert "partner\tactive\tnever used\t10/minute\t500/day\tread-private" in listed
        case = await Desk(sandbox, runtime, db_path).file_case(
            4343,
            text=CITIZEN_TEXT,
            category="urban.street-lights",
            location=Location(39.9123, 116.3891, "12 Lotus Lane"),
        )
        number = format_tracking_number(case.tracking)
        await answer_as_admin(number, runtime)
        url = f"{base_url(settings)}/requests/{number}.json"
        status, body, _ = await fetch(url, {"X-Api-Key": partner})
        assert status == 200, body
        [request] = json.loads(body)
        assert request["status"] == "closed"
        assert request["service_code"] == "urban.street-lights"
        assert request["agency_responsible"]
        assert request["requested_datetime"]
        for field in ("description", "status_notes", "address", "lat", "long", "media_url"):
            assert request[field] is None, field
        for planted in PLANTED:
            assert planted not in body, planted
        status, body, _ = await fetch(url.replace(".json", ".xml"), {"X-Api-Key": partner})
        assert status == 200, body
        assert listing(body, "xml") == [as_xml_texts(request)]
        for planted in PLANTED:
            assert planted not in body, planted
        status, body, _ = await fetch(f"{url}?api_key={partner}")
        assert status == 200
        status, body, _ = await fetch(url, {"X-Api-Key": plain})
        assert status == 404, body
        status, body, _ = await fetch(url, {"X-Api-Key": partner[:-2] + "xx"})
        assert status == 403, body


async def test_the_consent_parameter(sandbox: Sandbox, db_path: Database) -> None:
    """consent_to_publish=true records the filer's consent; without it, or false, the request
    is private; any other value is refused and nothing is filed."""
    settings = webhook_settings(sandbox, db_path, SECRET)
    async with webhook_bot(settings, sandbox, db_path):
        key = await issued_key("web-form")
        url = f"{base_url(settings)}/requests.json"
        good = {"api_key": key, "service_code": "urban.street-lights", "description": DESCRIPTION}
        for extra, consent in (
            ({"consent_to_publish": "true"}, 1),
            ({}, 0),
            ({"consent_to_publish": "false"}, 0),
        ):
            status, filed, _ = await post(url, {**good, **extra})
            assert status == 201, filed
            tracking = filed[0]["service_request_id"].replace("-", "")
            assert query(
                db_path, "SELECT publish_consent FROM service_case WHERE tracking = ?", (tracking,)
            ) == [(consent,)]
        status, body, _ = await post(url, {**good, "consent_to_publish": "yes"})
        assert status == 400
        assert "consent_to_publish" in body[0]["description"]
        assert cases(db_path) == 3


async def test_control_characters_in_a_filing(sandbox: Sandbox, db_path: Database) -> None:
    """Control characters are refused in every field (12 NUL bytes are no description); format
    characters such as a right-to-left override are stripped; only visible characters count
    towards the description's minimum."""
    settings = webhook_settings(sandbox, db_path, SECRET)
    async with webhook_bot(settings, sandbox, db_path):
        key = await issued_key("web-form")
        url = f"{base_url(settings)}/requests.json"
        good = {"api_key": key, "service_code": "urban.street-lights", "description": DESCRIPTION}
        refused = [
            ({**good, "description": "\x00" * 12}, "description"),
            ({**good, "description": DESCRIPTION + "\x1b[2J"}, "description"),
            ({**good, "address_string": "Lotus\x00Lane"}, "address_string"),
            ({**good, "phone": "139\x0712345678"}, "phone"),
            ({**good, "attribute[x]\x00": "1"}, "control character"),
            ({**good, "description": "\u200b" * 12}, "description"),  # invisible: stripped
            ({**good, "description": "a\u0301" * 5 + " " * 10}, "description"),  # 5 visible
        ]
        for form, named in refused:
            status, body, _ = await post(url, form)
            assert status == 400, (form, body)
            assert named in body[0]["description"], body
        assert cases(db_path) == 0
        tricked = "\u202e" + DESCRIPTION + "\u2066\u200f"
        status, filed, _ = await post(
            url, {**good, "description": tricked, "address_string": "12\u202e Lotus Lane"}
        )
        assert status == 201, filed
        assert query(db_path, "SELECT text, address FROM service_case") == [
            (DESCRIPTION, "12 Lotus Lane")
        ]
        status, filed, _ = await post(url, {**good, "description": "Line one\r\nline two."})
        assert status == 201, filed
        assert ("Line one\nline two.",) in query(db_path, "SELECT text FROM service_case")


def half_past_a_minute() -> ManualClock:
    """A clock 20 seconds into a minute, moved only by the test: no window ends by itself."""
    return ManualClock(datetime.now(UTC).replace(second=20, microsecond=0))


async def test_a_key_files_at_most_its_quota_a_minute(sandbox: Sandbox, db_path: Database) -> None:
    """Past a key's filings a minute: 429 in the spec's shape, Retry-After until the minute
    ends, nothing filed; the next minute it files again."""
    clock = half_past_a_minute()
    settings = webhook_settings(sandbox, db_path, SECRET)
    async with webhook_bot(settings, sandbox, db_path, clock):
        key = await issued_key("web-form", per_minute=2)
        url = f"{base_url(settings)}/requests.json"
        good = {"api_key": key, "service_code": "urban.street-lights", "description": DESCRIPTION}
        for _ in range(2):
            status, filed, _ = await post(url, good)
            assert status == 201, filed
        status, body, retry_after = await post(url, good)
        assert status == 429
        assert body == [{"code": 429, "description": body[0]["description"]}]
        assert retry_after == "40"
        assert cases(db_path) == 2
        clock.advance(timedelta(seconds=40))
        status, filed, _ = await post(url, good)
        assert status == 201, filed
        assert cases(db_path) == 3


async def test_a_key_files_at_most_its_quota_a_day(sandbox: Sandbox, db_path: Database) -> None:
    """Past a key's filings a day: 429 with Retry-After until the day ends (UTC), also in the
    next minutes; nothing filed, and the refused attempt does not use the minute's quota."""
    clock = half_past_a_minute()
    settings = webhook_settings(sandbox, db_path, SECRET)
    async with webhook_bot(settings, sandbox, db_path, clock):
        key = await issued_key("web-form", per_minute=3, per_day=2)
        url = f"{base_url(settings)}/requests.json"
        good = {"api_key": key, "service_code": "urban.street-lights", "description": DESCRIPTION}
        for _ in range(2):
            status, filed, _ = await post(url, good)
            assert status == 201, filed
        for _ in range(2):
            status, body, retry_after = await post(url, good)
            assert status == 429, body
            midnight = datetime.combine(
                clock.now().date() + timedelta(days=1), datetime.min.time(), UTC
            )
            assert retry_after == str(int((midnight - clock.now()).total_seconds()))
            clock.advance(timedelta(minutes=1))
        assert cases(db_path) == 2
        minute = query(
            db_path,
            "SELECT count FROM quota_use WHERE subject LIKE 'key:%:minute' ORDER BY window_start",
        )
        assert minute == [(2,)]  # the refused ones counted in no window


async def test_reads_are_limited_per_address(sandbox: Sandbox, db_path: Database) -> None:
    """Unauthenticated reads past MINSHENG_OPEN311_READS_PER_MINUTE from one address get 429
    with Retry-After; a key's reads are counted apart; the address is stored only hashed."""
    clock = half_past_a_minute()
    settings = webhook_settings(sandbox, db_path, SECRET, MINSHENG_OPEN311_READS_PER_MINUTE="3")
    async with webhook_bot(settings, sandbox, db_path, clock):
        key = await issued_key("portal")
        base = base_url(settings)
        for path in ("discovery.json", "services.json", "requests.json"):
            status, body, _ = await fetch(f"{base}/{path}")
            assert status == 200, body
        status, body, retry_after = await fetch(f"{base}/requests.json")
        assert status == 429
        assert json.loads(body)[0]["code"] == 429
        assert retry_after == "40"
        status, body, retry_after = await fetch(f"{base}/requests.xml")
        assert (status, retry_after) == (429, "40")
        assert listing(body, "xml")[0]["code"] == "429"
        status, answer, _ = await post(f"{base}/requests.json", {"description": DESCRIPTION})
        assert status == 429, answer  # a stranger's filing attempts count with their reads
        status, body, _ = await fetch(f"{base}/requests.json", {"X-Api-Key": key})
        assert status == 200, body
        subjects = [row[0] for row in query(db_path, "SELECT subject FROM quota_use")]
        assert subjects
        assert not any("127.0.0.1" in subject for subject in subjects)
        clock.advance(timedelta(seconds=40))
        status, body, _ = await fetch(f"{base}/requests.json")
        assert status == 200, body


async def test_dates_that_cannot_be_represented(sandbox: Sandbox, db_path: Database) -> None:
    """A date at the edge of the calendar is a 400 that says so, never a server error."""
    settings = webhook_settings(sandbox, db_path, SECRET)
    async with webhook_bot(settings, sandbox, db_path):
        url = f"{base_url(settings)}/requests.json"
        for bad in (
            "end_date=0001-01-01T00:00:00-23:59",
            "end_date=0001-01-01T00:00:00Z",
            "start_date=9999-12-31T23:59:59-23:59",
            "end_date=9999-12-31T23:00:00-23:59",
            "start_date=0001-01-01T00:00:00%2B23:59",
        ):
            status, body, _ = await fetch(f"{url}?{bad}")
            assert status == 400, (bad, body)
            assert "outside the dates" in body, body
        status, body, _ = await fetch(f"{url}?end_date=9999-12-31T23:59:59Z")
        assert (status, body) == (200, "[]")
