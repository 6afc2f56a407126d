"""What the Open311 tests share: the webhook secret, the base URL, the operator's command, and
a key issued in the test's own process (for tests whose subject is not the command)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from datetime import UTC, datetime
from typing import Any
from xml.etree import ElementTree

from storage.apikeys import add_key
from tests.databases import Database

SECRET = "open311-secret"
DESCRIPTION = "路灯不亮已经一周了，晚上走路很危险，请尽快修理。"


def base_url(settings: Any) -> str:
    return f"http://{settings.webhook_listen}/open311/v2"


async def operator(db_path: Database, *args: str) -> str:
    """Run `minsheng ARGS` as the operator would, on the bot's database; its output."""
    env = {
        **os.environ,
        "MINSHENG_DATABASE_URL": db_path.url,
        "MINSHENG_BOT_TOKEN": "1:x",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    return out.decode().strip()


async def issued_key(
    name: str, *, per_minute: int | None = None, per_day: int | None = None
) -> str:
    """A key as `minsheng apikey add NAME` issues it (storage.apikeys.add_key), without starting
    a process: the in-process bot's database is this process's (tests/test_open311 runs the
    command itself)."""
    return await add_key(name, now=datetime.now(UTC), per_minute=per_minute, per_day=per_day)


# GeoReport v2's lists in XML: the wrapper and the name of each item.
XML_LISTS = {
    "services": "service",
    "attributes": "attribute",
    "values": "value",
    "service_requests": "request",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
}


def xml_root(body: str | bytes) -> ElementTree.Element:
    """Our own server's answer, parsed (it is not untrusted input to the test)."""
    return ElementTree.fromstring(body)  # noqa: S314


def from_xml(element: ElementTree.Element) -> Any:
    """An XML answer as the JSON it stands for, with texts for values: lists where the spec
    names items (each item checked to be named so), dicts elsewhere, None for an empty
    element."""
    children = list(element)
    item = XML_LISTS.get(element.tag)
    if item is not None:
        assert all(child.tag == item for child in children), (element.tag, children)
        return [from_xml(child) for child in children]
    if not children:
        return element.text
    tags = [child.tag for child in children]
    assert len(set(tags)) == len(tags), f"<{element.tag}> repeats a child: {tags}"
    return {child.tag: from_xml(child) for child in children}


def as_xml_texts(value: Any) -> Any:
    """A JSON answer as its XML must read: true/false, numbers as written, "" and null as an
    empty element."""
    if isinstance(value, dict):
        return {key: as_xml_texts(item) for key, item in value.items()}
    if isinstance(value, list):
        return [as_xml_texts(item) for item in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None or value == "":
        return None
    return str(value)


def listing(body: str | bytes, suffix: str) -> list[Any]:
    """A list answer (requests, services, errors) in either format, as JSON would give it
    (texts for values in XML)."""
    if suffix == "json":
        found = json.loads(body)
        assert isinstance(found, list), found
        return found
    found = from_xml(xml_root(body))
    assert isinstance(found, list), found
    return found
