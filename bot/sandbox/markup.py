"""Formatted text as Telegram reads it: HTML into plain text plus entities.

Offsets and lengths of entities are in UTF-16 code units, as in the Bot API.
"""

from __future__ import annotations

import re
from typing import Any

from bot.sandbox.core import ApiError, bad_request

Entity = dict[str, Any]

_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^<>]*?)?)\s*/?>")
_ATTR = re.compile(r"""([a-zA-Z-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""")
_ENTITY = re.compile(r"&(lt|gt|amp|quot|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_HTML_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "code": "code",
    "pre": "pre",
    "a": "text_link",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _cannot_parse(detail: str) -> ApiError:
    return bad_request(f"can't parse entities: {detail}")


def _decode_entity(match: re.Match[str]) -> str:
    name = match.group(1)
    if name in _NAMED:
        return _NAMED[name]
    code = int(name[2:], 16) if name[1] in "xX" else int(name[1:])
    if not 0 < code <= 0x10FFFF:
        raise _cannot_parse(f"invalid character code {code}")
    return chr(code)


def _html_entity(tag: str, attrs: str, offset: int) -> Entity:
    kind = _HTML_TYPES[tag]
    entity: Entity = {"type": kind, "offset": offset, "length": 0}
    values = {
        m.group(1).lower(): m.group(2) or m.group(3) or m.group(4) or ""
        for m in _ATTR.finditer(attrs)
    }
    if tag == "a":
        url = values.get("href", "")
        if not url:
            raise _cannot_parse("can't find href of the link")
        entity["url"] = url
    elif tag == "span" and values.get("class") != "tg-spoiler":
        raise _cannot_parse('unsupported start tag "span"')
    elif tag == "blockquote" and "expandable" in attrs:
        entity["type"] = "expandable_blockquote"
    elif tag == "tg-emoji":
        entity["custom_emoji_id"] = values.get("emoji-id", "")
    elif tag == "code" and values.get("class", "").startswith("language-"):
        entity["language"] = values["class"][len("language-") :]
    return entity


def parse_html(source: str) -> tuple[str, list[Entity]]:
    """Plain text and entities of an HTML-formatted message; raises 400 when malformed."""
    out: list[str] = []
    offset = 0
    stack: list[tuple[str, Entity]] = []
    entities: list[Entity] = []
    pos = 0
    while pos < len(source):
        lt = source.find("<", pos)
        amp = source.find("&", pos)
        stop = min(x for x in (lt, amp, len(source)) if x >= 0)
        if stop > pos:
            chunk = source[pos:stop]
            out.append(chunk)
            offset += utf16_len(chunk)
            pos = stop
            continue
        if source[pos] == "&":
            match = _ENTITY.match(source, pos)
            if match is None:
                raise _cannot_parse(f"unsupported HTML entity at byte offset {pos}")
            char = _decode_entity(match)
            out.append(char)
            offset += utf16_len(char)
            pos = match.end()
            continue
        match = _TAG.match(source, pos)
        if match is None:
            raise _cannot_parse(f"unexpected end of name token at byte offset {pos}")
        closing, tag, attrs = match.group(1), match.group(2).lower(), match.group(3)
        if tag not in _HTML_TYPES:
            raise _cannot_parse(f'unsupported start tag "{tag}" at byte offset {pos}')
        if closing:
            if not stack or stack[-1][0] != tag:
                raise _cannot_parse(
                    f'unmatched end tag at byte offset {pos}, expected "</'
                    f'{stack[-1][0] if stack else ""}>", found "</{tag}>"'
                )
            _, entity = stack.pop()
            entity["length"] = offset - entity["offset"]
            if entity["type"] == "code" and stack and stack[-1][0] == "pre":
                stack[-1][1]["language"] = entity.get("language", "")
            elif entity["length"] > 0:
                entities.append(entity)
        else:
            stack.append((tag, _html_entity(tag, attrs, offset)))
        pos = match.end()
    if stack:
        raise _cannot_parse(f'can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def parse_text(source: str, parse_mode: str | None) -> tuple[str, list[Entity]]:
    """Apply ``parse_mode`` (HTML or none: the bot sends no other) to a text or caption."""
    mode = (parse_mode or "").lower()
    if mode == "html":
        return parse_html(source)
    if mode in ("", "none"):
        return source, []
    if mode == "markdown":
        # Legacy Markdown: keep the text readable without modelling its quirks.
        return re.sub(r"[*_`]", "", source), []
    raise bad_request(f"unsupported parse_mode {parse_mode}")
