"""The requests the HTTP fuzz test draws, for Hypothesis: hostile text, webhook bodies, pages
and actions of the dashboard, Open311 reads and filings. Values the running server issues (a
case number, the session cookie, a CSRF token, an API key) appear as stand-ins (fuzz_support)."""

from __future__ import annotations

import json
from dataclasses import replace
from urllib.parse import quote, quote_from_bytes, urlencode

from hypothesis import strategies as st

from tests.fuzz_support import COOKIE, CSRF, KEY, NUMBER, SESSION, Call

NASTY = [
    "",
    " ",
    "\x00" * 12,
    "\u202eevil\u202c" * 4,
    "\u2066\u2067" * 8,
    "\ud7ff",
    "名字🙂",
    "é" * 3,
    "x" * 5000,
    "名" * 3000,
    "9999-12",
    "9999-12-31..9999-12-31",
    "0000-00",
    "0001-01-01T00:00:00-23:59",
    "9999-12-31T23:59:59+23:59",
    "9999-12-31T23:59:59-23:59",
    "+10000-01-01T00:00:00Z",
    "-0001-01-01T00:00:00Z",
    "2026-02-30T00:00:00Z",
    "1e400",
    "-1",
    "nan",
    "inf",
    str(10**30),
    str(-(10**30)),
    "%FF",
    "../../../etc/passwd",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "\\u0000",
    "null",
    "[]",
    "{}",
]
texts = st.one_of(st.sampled_from(NASTY), st.text(max_size=40))
# What an HTTP client can put in a header line: anything but the line's own end.
header_texts = texts.map(lambda s: s.replace("\r", "").replace("\n", ""))
header_bytes = st.binary(min_size=1, max_size=24).map(
    lambda b: b.replace(b"\r", b"").replace(b"\n", b"") or b"\xff"
)


def multipart(fields: dict[str, str]) -> tuple[bytes, tuple[tuple[str, str], ...]]:
    """A multipart/form-data body of the fields (names and values as they are) and its header."""
    body = b"".join(
        b'--fz\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n'
        % (name.encode("utf-8", "replace"), value.encode("utf-8", "replace"))
        for name, value in fields.items()
    )
    return body + b"--fz--\r\n", (("Content-Type", "multipart/form-data; boundary=fz"),)


# -- the webhook -------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
update_ids = st.one_of(st.integers(), st.sampled_from([10**30, -(10**30), 2**63, 2**63 - 1, -1]))
updates = st.fixed_dictionaries(
    {"update_id": update_ids},
    optional={
        "message": json_values,
        "callback_query": json_values,
        "edited_message": json_values,
        "my_chat_member": json_values,
    },
)
DEEP = b"[" * 100_000 + b"]" * 100_000
bodies = st.one_of(
    json_values.map(lambda v: json.dumps(v).encode()),
    updates.map(lambda v: json.dumps(v).encode()),
    st.integers(min_value=1, max_value=200_000).map(lambda n: b"[" * n + b"]" * n),
    st.binary(max_size=200),
    st.sampled_from(
        [
            b"",
            b"{",
            b"\xff\xfe",
            b'{"update_id": 1e400}',
            b'{"update_id": NaN}',
            b'{"update_id": true}',
            b"[]",
            b'"an update"',
            b"42",
            DEEP,
            b'{"update_id": 1, "message": ' * 5000 + b"1" + b"}" * 5000,
        ]
    ),
)


# -- the dashboard, and anything else the app serves --------------------------------------------


def encoded(fields: dict[str, str]) -> str:
    return urlencode(fields, quote_via=quote)


path_params = st.fixed_dictionaries(
    {
        "number": st.one_of(st.just(NUMBER), st.just(NUMBER), texts),
        "action": st.one_of(
            st.sampled_from(
                [
                    "reply",
                    "ask",
                    "note",
                    "assign",
                    "transfer",
                    "close",
                    "reject",
                    "merge",
                    "publish",
                ]
            ),
            texts,
        ),
        "index": st.one_of(st.sampled_from(["0", "1", "99"]), texts),
        "n": st.sampled_from(["0", "1", "2", "9"]),
        "code": st.one_of(st.sampled_from(["heating.fees", "heating.no-heat"]), texts),
        "id": st.one_of(st.just(NUMBER), texts),
        "*": texts,
    }
)
PAGE_KEYS = [
    "status",
    "department",
    "category",
    "overdue",
    "repeat",
    "q",
    "page",
    "period",
    "t",
    "done",
]
page_queries = st.one_of(
    st.dictionaries(st.sampled_from(PAGE_KEYS) | texts, texts, max_size=4).map(encoded),
    st.sampled_from(
        [
            "period=9999-12",
            "period=9999-12-31..9999-12-31",
            "period=0001-01",
            "q=%FF%FE",
            "page=99999999999999999999999",
            "page=-1",
            "status=%00",
        ]
    ),
)
# Signed in as the handler half the time; else signed out, or a cookie forged every way.
cookies = st.one_of(
    st.just(COOKIE),
    st.just(COOKIE),
    st.just(COOKIE),
    st.just(COOKIE),
    st.just(COOKIE),
    st.none(),
    header_texts,
    header_bytes,
    header_texts.map(lambda mac: f"{SESSION}.{mac}"),
    st.sampled_from([f"{SESSION}.\u00e9\u00e9", f"{SESSION}." + "0" * 64, "x" * 8000]),
)
FORM_KEYS = [
    "text",
    "reason",
    "department",
    "into",
    "kind",
    "category",
    "address",
    "phone",
    "public_title",
    "public_text",
    "public_note",
    "photo",
    "do",
    "confirm",
    "consent",
    "days",
]


@st.composite
def page_calls(draw: st.DrawFn) -> Call:
    """A page or an action: any route, path, query and cookie; a form (with the session's
    CSRF token, a wrong one or none) as a urlencoded or multipart body, or raw bytes."""
    call = Call(
        route=draw(st.integers(0, 10_000)),
        params=draw(path_params),
        query=draw(page_queries),
        cookie=draw(cookies),
    )
    shape = draw(st.sampled_from(["fields", "fields", "multipart", "raw", "none"]))
    if shape == "none":
        return call
    if shape == "raw":
        return replace(call, form=draw(st.binary(max_size=200)))
    fields = draw(st.dictionaries(st.sampled_from(FORM_KEYS) | texts, texts, max_size=5))
    csrf = draw(st.one_of(st.just(CSRF), st.just(CSRF), texts, st.none()))
    fields = fields if csrf is None else {"csrf": csrf, **fields}
    if shape == "fields":
        return replace(call, form=fields)
    body, headers = multipart(fields)
    return replace(call, form=body, headers=headers)


# -- Open311 -----------------------------------------------------------------------------------

DESCRIPTION = "路灯不亮已经一周了，晚上走路很危险，请尽快修理。"
dates = st.one_of(
    st.sampled_from(
        [
            "0001-01-01T00:00:00-23:59",
            "9999-12-31T23:59:59+23:59",
            "0001-01-01",
            "9999-12-31T23:59:59-23:59",
            "+10000-01-01T00:00:00Z",
            "2026-13-01T00:00Z",
            "2026-02-30T00:00:00Z",
            "-2026-01-01T00:00:00Z",
            "2026-01-01T25:00:00Z",
        ]
    ),
    st.builds(
        lambda moment, zone: moment.isoformat() + zone,
        st.datetimes(),
        st.sampled_from(["Z", "+23:59", "-23:59", "+00:00", "", "+24:00"]),
    ),
)
READ_KEYS = [
    "start_date",
    "end_date",
    "status",
    "service_code",
    "service_request_id",
    "api_key",
    "jurisdiction_id",
    "page",
    "page_size",
    "lat",
    "long",
]
read_queries = st.one_of(
    st.dictionaries(
        st.sampled_from(READ_KEYS) | texts, st.one_of(dates, texts, st.just(NUMBER)), max_size=4
    ).map(encoded),
    st.sampled_from(
        [
            "end_date=%FF%FE",
            "start_date=%00",
            "service_request_id=" + "A," * 3000,
            "status=open&status=closed&status=\u00e9",
        ]
    ),
)
read_calls = st.builds(
    Call,
    route=st.integers(0, 10_000),
    params=path_params,
    query=read_queries,
    headers=st.one_of(st.just(()), header_bytes.map(lambda key: (("X-Api-Key", key),))),
)


VALID_FILING = {
    "api_key": KEY,
    "service_code": "urban.street-lights",
    "description": DESCRIPTION,
    "lat": "45.75",
    "long": "126.63",
}
HOSTILE = {
    "api_key": texts,
    "service_code": st.one_of(
        st.sampled_from(["heating.no-heat", "heating.fees", "emergency.fire"]), texts
    ),
    "description": st.one_of(
        texts,
        st.sampled_from(
            [
                "\x00" * 12,
                "\u202e" * 12 + "abc",
                DESCRIPTION + "\x07",
                "\u200b" * 20,
                " " * 20,
                "\u202e" + DESCRIPTION,
                "x" * 70_000,
                "\r\n" * 10,
            ]
        ),
    ),
    "lat": st.one_of(texts, st.floats().map(str)),
    "long": st.one_of(texts, st.floats().map(str)),
    "address_string": texts,
    "phone": texts,
    "email": texts,
    "first_name": texts,
    "attribute[indoor_temp]": texts,
    "media_url": texts,
    "device_id": texts,
}


@st.composite
def filings(draw: st.DrawFn) -> Call:
    """A valid filing with a few fields made hostile, dropped or added, in one of the bodies a
    client might send."""
    fields = dict(VALID_FILING)
    for name in draw(st.lists(st.sampled_from(sorted(HOSTILE)), max_size=3, unique=True)):
        fields[name] = draw(HOSTILE[name])
    for name in draw(st.lists(st.sampled_from(sorted(VALID_FILING)), max_size=1)):
        fields.pop(name, None)
    fields.update(draw(st.dictionaries(texts, texts, max_size=1)))
    shape = draw(st.sampled_from(["form", "form", "form", "bytes", "json", "multipart", "raw"]))
    route = "POST /open311/v2/requests.json"
    if shape == "form":
        return Call(route=route, form=fields)
    if shape == "raw":
        return Call(route=route, form=draw(st.binary(max_size=300)))
    if shape == "bytes":  # a urlencoded form with one value that is not UTF-8
        name = draw(st.sampled_from(sorted(fields)))
        raw = draw(st.binary(min_size=1, max_size=30))
        body = urlencode({k: v for k, v in fields.items() if k != name}, quote_via=quote)
        return Call(route=route, form=f"{body}&{quote(name)}={quote_from_bytes(raw)}".encode())
    if shape == "json":  # values of any JSON type, not only strings
        typed = {k: draw(st.one_of(st.just(v), json_values)) for k, v in fields.items()}
        body, headers = json.dumps(typed).encode(), (("Content-Type", "application/json"),)
    else:
        body, headers = multipart(fields)
    return Call(route=route, form=body, headers=headers)
