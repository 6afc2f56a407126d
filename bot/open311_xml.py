"""GeoReport v2 in XML, the format the spec makes primary (http://wiki.open311.org/GeoReport_v2).

The XML resources render the very dictionaries and lists the JSON resources render
(bot/open311.py), so the two formats cannot drift apart: a dictionary's keys become child
elements in their order, a list becomes one element per item named as the spec names them
(services/service, attributes/attribute, values/value, service_requests/request, errors/error,
endpoints/endpoint, formats/format), true and false are spelled so, and a missing value (JSON's
null) is an empty element, as in the spec's examples. ElementTree escapes < & and >; characters
XML 1.0 cannot hold at all (control characters, lone surrogates) become U+FFFD rather than
making the whole document unreadable.
"""

from __future__ import annotations

import re
from typing import Any
from xml.etree import ElementTree  # only builds and writes XML here; nothing is parsed

CONTENT_TYPE = "text/xml"  # the spec's; sent with charset=utf-8
# The spec asks for the declaration with encoding="UTF-8" before the root element.
_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
_ITEMS = {
    "services": "service",
    "attributes": "attribute",
    "values": "value",
    "service_requests": "request",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
}
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_document(root: str, content: dict[str, Any] | list[Any]) -> bytes:
    """`content` as the XML document `root`: a dictionary's keys are the root's children, a
    list's items are its items (`services`, `service_requests`, `errors`)."""
    element = ElementTree.Element(root)
    _fill(element, content)
    ElementTree.indent(element, space="  ")
    body: bytes = ElementTree.tostring(
        element, encoding="utf-8", xml_declaration=False, short_empty_elements=False
    )
    return _DECLARATION + body + b"\n"


def _fill(element: ElementTree.Element, content: Any) -> None:
    if isinstance(content, dict):
        for name, value in content.items():
            _fill(ElementTree.SubElement(element, name), value)
    elif isinstance(content, list):
        item = _ITEMS.get(element.tag)
        if item is None:
            raise ValueError(f"GeoReport v2 names no items of <{element.tag}>")
        for value in content:
            _fill(ElementTree.SubElement(element, item), value)
    elif content is not None:
        element.text = _text(content)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("\ufffd", str(value))
