"""The board's routes: the list with its search and filters, a case, its ticked photos, the feed.

Only published cases exist here (storage.board reads through published_cases()); any other
number, a photo staff did not tick, a number that is no number: the same 404 page.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiohttp import web
from telegram.error import BadRequest, TelegramError

from bot.board.pages import (
    HEADERS,
    RUNTIME,
    chosen_language,
    day,
    link,
    not_found,
    render,
    satisfaction,
    too_many,
    translator,
)
from bot.client_address import address_hash, keep_address_key
from bot.dashboard.pages import category_choices, department_choices
from bot.dashboard.views import photo_headers
from storage.board import (
    MAX_PAGE,
    BoardCaseNotFound,
    board_case,
    board_feed,
    board_page,
    board_photo,
)
from storage.quota import MINUTE, QuotaExceeded, Window, spend
from storage.stats_series import catalogue_names, name_in
from storage.tracking import format_tracking_number

if TYPE_CHECKING:
    from bot.runtime import Runtime

FILTERS = ("q", "category", "department")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def add_board_routes(app: web.Application, runtime: Runtime) -> None:
    app[RUNTIME] = runtime
    keep_address_key(app, runtime.services.settings.token())  # visitors count as keyed hashes
    app.router.add_get("/board", to_board)
    app.router.add_get("/board/", counted(listing))
    app.router.add_get("/board/feed.xml", counted(feed))
    app.router.add_get("/board/{number}", counted(case_page))
    app.router.add_get(r"/board/{number}/photo/{index:\d{1,2}}", counted(photo))


def counted(handler: Handler) -> Handler:
    """A page read, counted against its visitor's address (MINSHENG_BOARD_READS_PER_MINUTE,
    in the database, so that every worker counts alike); 429 past the limit."""

    @functools.wraps(handler)
    async def read(request: web.Request) -> web.StreamResponse:
        services = request.app[RUNTIME].services
        window = Window("minute", MINUTE, services.settings.board_reads_per_minute)
        try:
            await spend(f"addr:{address_hash(request)}:board", [window], now=services.clock.now())
        except QuotaExceeded as exceeded:
            return too_many(request, exceeded.retry_after)
        return await handler(request)

    return read


async def to_board(request: web.Request) -> web.StreamResponse:
    raise web.HTTPMovedPermanently(link(request, "/board/"))


async def listing(request: web.Request) -> web.StreamResponse:
    """Published cases newest first, a page at a time, searched and filtered."""
    t = translator(request)
    form = {key: request.query.get(key, "")[:100] for key in FILTERS}
    try:
        number = int(request.query.get("page", "1"))
    except ValueError:
        number = 1
    page = await board_page(
        form["q"], number, category=form["category"] or None, department=form["department"] or None
    )
    departments, categories = await catalogue_names()
    rows = [
        {
            "link": link(request, f"/board/{format_tracking_number(row.tracking)}"),
            "number": format_tracking_number(row.tracking),
            "title": row.title,
            "excerpt": row.excerpt,
            "category": name_in(categories, row.category_code, t.language),
            "department": name_in(departments, row.department_code, t.language),
            "filed": day(row.created_at, request, t.language),
        }
        for row in page.rows
    ]
    return render(
        request,
        "list.html",
        t,
        title=t.gettext("Answered requests"),
        form=form,
        rows=rows,
        searched=any(form.values()),
        newer=link(request, "/board/", **form, page=page.page - 1) if page.page > 1 else "",
        older=link(request, "/board/", **form, page=page.page + 1)
        if page.has_next and page.page < MAX_PAGE
        else "",
        categories=await category_choices(t.language),
        departments=await department_choices(t.language),
        chosen_lang=chosen_language(request) or "",
    )


async def case_page(request: web.Request) -> web.StreamResponse:
    """One published case: its public title and text, the answer, who answered and when."""
    try:
        case = await board_case(request.match_info["number"])
    except BoardCaseNotFound:
        return not_found(request)
    t = translator(request)
    departments, categories = await catalogue_names()
    number = format_tracking_number(case.tracking)
    return render(
        request,
        "case.html",
        t,
        title=case.title,
        number=number,
        case=case,
        category=name_in(categories, case.category_code, t.language),
        department=name_in(departments, case.department_code, t.language),
        filed=day(case.created_at, request, t.language),
        answered=day(case.answered_at, request, t.language),
        published=day(case.published_at, request, t.language),
        satisfaction=satisfaction(t, case.satisfaction),
        photos=[f"/board/{number}/photo/{i}" for i in range(case.photos)],
    )


async def photo(request: web.Request) -> web.StreamResponse:
    """A photo staff ticked for publication, fetched from Telegram (the token stays here)."""
    try:
        file_id = await board_photo(request.match_info["number"], int(request.match_info["index"]))
        file = await request.app[RUNTIME].bot.get_file(file_id)
        data = bytes(await file.download_as_bytearray())
    except BoardCaseNotFound:
        return not_found(request)
    except (BadRequest, TelegramError):  # Telegram no longer has it
        return not_found(request)
    headers = photo_headers(data)
    if "Content-Disposition" in headers:  # not a picture: not shown to the public at all
        return not_found(request)
    return web.Response(body=data, headers=headers)


async def feed(request: web.Request) -> web.StreamResponse:
    """An Atom feed of the latest published cases."""
    t = translator(request)
    base = f"{request.scheme}://{request.host}"
    departments, categories = await catalogue_names()
    entries = [
        {
            "id": f"{base}/board/{format_tracking_number(case.tracking)}",
            "url": base + link(request, f"/board/{format_tracking_number(case.tracking)}"),
            "title": case.title,
            "updated": (case.published_at or case.created_at).isoformat(),
            "text": case.text,
            "note": case.note or "",
            "category": name_in(categories, case.category_code, t.language),
            "department": name_in(departments, case.department_code, t.language),
        }
        for case in await board_feed()
    ]
    body = render(
        request, "feed.xml", t, base=base, entries=entries, updated=_latest(entries)
    ).text
    return web.Response(
        text=body,
        content_type="application/atom+xml",
        charset="utf-8",
        headers={k: v for k, v in HEADERS.items() if k != "X-Frame-Options"},
    )


def _latest(entries: list[dict[str, str]]) -> str:
    return max((e["updated"] for e in entries), default="1970-01-01T00:00:00+00:00")
