"""The dashboard's routes: sign-in and out, the queue, a case, its actions, phone intake.

Every route but sign-in asks who is signed in (bot.dashboard.session) and reads their role
afresh; every POST checks the CSRF token first. Case actions call the same storage operations
as the bot's commands, which authorize in storage: the dashboard adds no rule of its own.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from urllib.parse import urlencode

from aiohttp import web

from bot.dashboard.actions import ACTIONS, DONE, done_key, done_line, offered_actions, run_action
from bot.dashboard.callback_form import callback_block
from bot.dashboard.case_facts import answers, case_facts, heading, timeline_rows
from bot.dashboard.case_files import file_items
from bot.dashboard.handler_filter import handler_options, wanted_handler
from bot.dashboard.kb_picker import picker
from bot.dashboard.pages import (
    category_choices,
    department_choices,
    expired_page,
    message_page,
    posted_form,
    refused_page,
    render,
    translator_for,
)
from bot.dashboard.publication_form import publication_block
from bot.dashboard.session import (
    RUNTIME,
    clear_session_cookie,
    csrf_ok,
    current_staff,
    session_id,
    set_session_cookie,
)
from bot.dashboard.template_picker import template_picker, with_picker_script
from bot.i18n import Translator
from bot.texts import maps
from bot.texts.cases import description, erased, excerpt, when
from bot.texts.refusals import REFUSALS, refusal
from bot.texts.timeline import staff_status_name
from storage.case_search import CaseFilter, search_cases
from storage.case_views import CaseNotFound, CaseView
from storage.cases import audit_trail, case_by_tracking
from storage.knowledge import articles_to_review
from storage.models import CaseStatus
from storage.staff import StaffAction, StaffNotAuthorized, StaffView, authorize
from storage.stats_series import catalogue_names, name_in
from storage.tracking import format_tracking_number
from storage.web_access import end_session, redeem_login

EXCERPT = 80


def _now(request: web.Request) -> datetime:
    return request.app[RUNTIME].services.clock.now()


async def signed_in(request: web.Request) -> tuple[StaffView, Translator] | web.Response:
    """The staff member and their translator, or the page that says to sign in (401)."""
    staff = await current_staff(request)
    t = await translator_for(request, staff)
    if staff is None:
        return await message_page(
            request,
            t,
            None,
            t.gettext("Please sign in"),
            t.gettext(
                "Ask the bot for /web: it sends you a sign-in link, valid for 10 minutes "
                "and good for one use."
            ),
            401,
        )
    return staff, t


StaffRoute = Callable[[web.Request, StaffView, Translator], Awaitable[web.StreamResponse]]


def staff_only(view: StaffRoute) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """A route for signed-in staff: everyone else gets the sign-in page (401)."""

    @functools.wraps(view)
    async def route(request: web.Request) -> web.StreamResponse:
        who = await signed_in(request)
        if isinstance(who, web.Response):
            return who
        return await view(request, *who)

    return route


async def login(request: web.Request) -> web.StreamResponse:
    session = await redeem_login(request.query.get("t", ""), now=_now(request))
    if session is None:
        t = await translator_for(request, None)
        return await message_page(
            request,
            t,
            None,
            t.gettext("This link does not work"),
            t.gettext("Sign-in links work once, for 10 minutes. Ask the bot for /web again."),
            403,
        )
    redirect = web.HTTPSeeOther("/web/")
    set_session_cookie(request, redirect, session)
    raise redirect


async def logout(request: web.Request) -> web.StreamResponse:
    form = await posted_form(request, await translator_for(request, None), None)
    session = session_id(request)
    if session is not None and csrf_ok(request, str(form.get("csrf", ""))):
        await end_session(session, now=_now(request))
    redirect = web.HTTPSeeOther("/web/")
    clear_session_cookie(redirect)
    raise redirect


@staff_only
async def queue(request: web.Request, staff: StaffView, t: Translator) -> web.StreamResponse:
    zone = request.app[RUNTIME].services.settings.zone
    form = {
        key: request.query.get(key, "")
        for key in ("status", "department", "category", "overdue", "repeat", "q", "handler")
    }
    status = form["status"]
    wanted = CaseFilter(
        status=CaseStatus(status) if status in set(CaseStatus) else None,
        open_only=status == "",
        department=form["department"] or None,
        category=form["category"] or None,
        overdue=form["overdue"] == "1",
        repeat=form["repeat"] == "1",
        text=form["q"],
        handler=wanted_handler(form["handler"], staff),
    )
    try:
        page = int(request.query.get("page", "1"))
    except ValueError:
        page = 1
    try:
        listing = await search_cases(staff.user_id, wanted, page, now=_now(request))
    except StaffNotAuthorized:
        return await refused_page(request, t, staff)
    department_names, category_names = await catalogue_names()
    today = _now(request).astimezone(zone).date()
    to_review = await articles_to_review(today, department_code=staff.department_code)
    rows = [
        {
            "number": format_tracking_number(row.tracking),
            "status": staff_status_name(t, row.status),
            "category": name_in(category_names, row.category_code, t.language),
            "department": (
                name_in(department_names, row.department_code, t.language)
                if row.department_code
                else t.gettext("not yet assigned")
            ),
            "excerpt": erased(t) if row.erased else excerpt(row.text, EXCERPT),
            "due": when(row.due_at, zone, t.language) if row.due_at else "",
            "repeat": row.repeat,
            "urgent": row.urgent,
        }
        for row in listing.rows
    ]

    def page_link(number: int) -> str:
        return "/web/?" + urlencode({**{k: v for k, v in form.items() if v}, "page": number})

    return render(
        request,
        "queue.html",
        t,
        staff,
        title=t.gettext("Queue"),
        form=form,
        rows=rows,
        listing=listing,
        page_link=page_link,
        statuses=[(s.value, staff_status_name(t, s)) for s in CaseStatus],
        departments=await department_choices(t.language),
        categories=await category_choices(t.language),
        kb_review=len(to_review),
        handlers=await handler_options(t, staff),
    )


@staff_only
async def case_page(request: web.Request, staff: StaffView, t: Translator) -> web.StreamResponse:
    number = request.match_info["number"]
    case = await _viewable(request, staff, number)
    if case is None:
        return await refused_page(request, t, staff)
    done = request.query.get("done", "")
    flash = done_line(t, done, number) if done in DONE else ""
    chosen = request.query.get("kb", "")[:64]  # an article to quote in the reply box
    return await _render_case(request, staff, t, case, flash, chosen=chosen)


async def _render_case(
    request: web.Request,
    staff: StaffView,
    t: Translator,
    case: CaseView,
    flash: str,
    *,
    error: bool = False,
    status: int = 200,
    chosen: str = "",
    posted: Mapping[str, str] | None = None,
) -> web.Response:
    settings = request.app[RUNTIME].services.settings
    zone = settings.zone
    number = format_tracking_number(case.tracking)
    map_link = None
    place = case.location
    if place and place.latitude is not None and place.longitude is not None:
        map_link = maps.map_link(place.latitude, place.longitude, settings.map_links, number)
    photos = [f"/web/case/{number}/photo/{i}" for i in range(len(case.photos))]
    page = render(
        request,
        "case.html",
        t,
        staff,
        status=status,
        title=number,
        heading=heading(t, case),
        number=number,
        facts=await case_facts(t, case, zone),
        answers=await answers(t, case),
        text=description(case, t),
        map_link=map_link,
        photos=photos,
        files=file_items(t, number, case),
        flash=flash,
        flash_error=error,
        timeline=await timeline_rows(t, case, await audit_trail(case.tracking), zone),
        departments=await department_choices(t.language),
        current_department=case.department_code or case.proposed_department_code or "",
        offered=offered_actions(case.status),
        publication=await publication_block(t, staff.user_id, case, zone, posted),
        callback=await callback_block(request, t, staff, case),
        **await picker(case, t.language, settings.default_language, chosen)
        | await template_picker(
            case, t, settings.default_language, zone, request.query.get("tpl", "")[:40]
        ),  # a reply template chosen (?tpl=) fills the reply box instead of an article
    )
    return with_picker_script(page)  # the template picker fills the box in place


@staff_only
async def case_action(request: web.Request, staff: StaffView, t: Translator) -> web.StreamResponse:
    number, action = request.match_info["number"], request.match_info["action"]
    form = {key: str(value) for key, value in (await posted_form(request, t, staff)).items()}
    if not csrf_ok(request, form.get("csrf", "")):
        return await expired_page(request, t, staff)
    if action not in ACTIONS:
        raise web.HTTPNotFound()
    try:
        result = await run_action(action, number, form, staff, request.app[RUNTIME].services)
    except REFUSALS as refused:
        case = await _viewable(request, staff, number)
        if case is None:
            return await refused_page(request, t, staff)
        status = 403 if isinstance(refused, StaffNotAuthorized) else 409
        return await _render_case(
            request, staff, t, case, refusal(t, number, refused), error=True, status=status
        )
    except ValueError:
        case = await _viewable(request, staff, number)
        if case is None:
            return await refused_page(request, t, staff)
        return await _render_case(
            request, staff, t, case, t.gettext("Please fill in the form."), error=True, status=400
        )
    done = done_key(action, result)
    raise web.HTTPSeeOther(f"/web/case/{number}?" + urlencode({"done": done}))


@staff_only
async def photo(request: web.Request, staff: StaffView, t: Translator) -> web.StreamResponse:
    """A case's photo, fetched from Telegram through the bot (the file URL holds the token)."""
    case = await _viewable(request, staff, request.match_info["number"])
    index = int(request.match_info["index"])
    if case is None or index >= len(case.photos):
        raise web.HTTPNotFound()
    bot = request.app[RUNTIME].bot
    file = await bot.get_file(case.photos[index])
    data = bytes(await file.download_as_bytearray())
    return web.Response(body=data, headers=photo_headers(data))


# What a photo's first bytes say it is. Anything else is served as a download, never as
# something a browser might render (a citizen's "photo" can be any file Telegram accepted).
IMAGE_SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def photo_headers(data: bytes) -> dict[str, str]:
    """The type the bytes are (images only), no sniffing, no scripts, no copies kept."""
    kind = next((kind for magic, kind in IMAGE_SIGNATURES if data.startswith(magic)), None)
    if kind is None and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        kind = "image/webp"
    headers = {
        "Content-Type": kind or "application/octet-stream",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "no-store",
    }
    if kind is None:
        headers["Content-Disposition"] = 'attachment; filename="photo"'
    return headers


async def _viewable(request: web.Request, staff: StaffView, number: str) -> CaseView | None:
    """The case if this staff member may see it (checked in storage, audited), else None."""
    try:
        await authorize(staff.user_id, StaffAction.VIEW, number, now=_now(request))
        return await case_by_tracking(number)
    except (StaffNotAuthorized, CaseNotFound):
        return None


def routes(app: web.Application) -> None:
    app.router.add_get("/web/login", login)
    app.router.add_post("/web/logout", logout)
    app.router.add_get("/web/", queue)
    app.router.add_get(r"/web/case/{number}", case_page)
    app.router.add_post(r"/web/case/{number}/{action}", case_action)
    app.router.add_get(r"/web/case/{number}/photo/{index:\d{1,2}}", photo)
