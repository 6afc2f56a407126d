"""Reading a submitted form: a body that cannot be read is the sender's fault (a 400), not ours."""

from __future__ import annotations

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from multidict import MultiDictProxy

Form = MultiDictProxy[str | bytes | bytearray | web.FileField]


class FormUnreadable(Exception):
    """The body is not a readable form: bad encoding, a broken multipart part, a wrong type."""


async def read_form(request: web.Request) -> Form:
    try:
        return await request.post()
    except (ValueError, HttpProcessingError) as error:  # UnicodeDecodeError is a ValueError
        raise FormUnreadable(type(error).__name__) from error
