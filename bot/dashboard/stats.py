"""The dashboard's statistics page: the figures and charts of /stats, for a period and scope.

The same storage functions as the bot's /stats (storage.stats) decide who may see what: a
supervisor limited to a subtree sees that subtree; handlers see nothing.
"""

from __future__ import annotations

from urllib.parse import urlencode

from aiohttp import web

from bot.dashboard.chart_cache import ChartCache
from bot.dashboard.pages import department_choices, message_page, refused_page, render
from bot.dashboard.session import RUNTIME
from bot.dashboard.stats_table import figure_rows, kb_table, rank_rows
from bot.dashboard.views import staff_only
from bot.i18n import Translator
from bot.texts.charts import chart_pngs
from storage.catalog import DepartmentNotFound
from storage.periods import Period, PeriodInvalid, parse_period
from storage.staff import StaffNotAuthorized, StaffView
from storage.stats import compute_stats, report_scope
from storage.stats_series import catalogue_names, name_in


async def _scope(
    request: web.Request, staff: StaffView, t: Translator
) -> tuple[Period, str | None, dict[str, str]] | web.Response:
    """The period and the department asked for, if this staff member may see them."""
    services = request.app[RUNTIME].services
    now, zone = services.clock.now(), services.settings.zone
    form = {
        "period": request.query.get("period", "month")[:32],
        "department": request.query.get("department", "")[:64],
    }
    try:
        # Who may see reports is asked first: the period is no one else's business.
        scope = await report_scope(staff.user_id, form["department"] or None, now=now)
        period = parse_period(form["period"] or "month", now=now, zone=zone)
    except (StaffNotAuthorized, DepartmentNotFound):
        return await refused_page(request, t, staff)
    except PeriodInvalid:
        return await message_page(
            request,
            t,
            staff,
            t.gettext("Statistics"),
            t.gettext("Please give the period as today, week, month, YYYY-MM or FROM..TO."),
            400,
        )
    return period, scope, form


@staff_only
async def stats_page(request: web.Request, staff: StaffView, t: Translator) -> web.StreamResponse:
    scoped = await _scope(request, staff, t)
    if isinstance(scoped, web.Response):
        return scoped
    period, scope, form = scoped
    now = request.app[RUNTIME].services.clock.now()
    stats = await compute_stats(period.start, period.end, scope, now=now)
    departments, _ = await catalogue_names()
    name = name_in(departments, scope, t.language) if scope else None
    query = urlencode({k: v for k, v in form.items() if v})
    alts = [
        t.gettext("Requests per day, {period}", period=period.label),
        t.gettext("Requests by category, {period}", period=period.label),
        t.gettext("Rates by department, {period}", period=period.label),
    ]
    charts = (
        [{"src": f"/web/stats/chart/{n}.png?{query}", "alt": alt} for n, alt in enumerate(alts)]
        if stats.total.received
        else []
    )
    if name is None:
        heading = t.gettext("Figures for {period}", period=period.label)
    else:
        heading = t.gettext(
            "Figures for {period}, {department}", period=period.label, department=name
        )
    return render(
        request,
        "stats.html",
        t,
        staff,
        title=t.gettext("Statistics"),
        form=form,
        heading=heading,
        received=stats.total.received,
        figures=figure_rows(stats.total, t),
        ranking=rank_rows(stats, departments, t),
        charts=charts,
        departments=await department_choices(t.language),
        kb=await kb_table(period, scope, t),
    )


@staff_only
async def chart(request: web.Request, staff: StaffView, t: Translator) -> web.StreamResponse:
    scoped = await _scope(request, staff, t)
    if isinstance(scoped, web.Response):
        return scoped
    period, scope, _ = scoped
    services = request.app[RUNTIME].services

    async def draw() -> list[bytes]:
        return await chart_pngs(period, scope, services.clock.now(), services.settings.zone, t)

    key = (period.start, period.end, scope, t.language)
    pngs = await request.app[CHARTS].charts(key, draw)
    return web.Response(
        body=pngs[int(request.match_info["n"])],
        content_type="image/png",
        headers={"Cache-Control": "private, max-age=300"},
    )


CHARTS = web.AppKey("charts", ChartCache)


def routes(app: web.Application) -> None:
    app[CHARTS] = ChartCache(app[RUNTIME].services.clock.now)
    app.router.add_get("/web/stats", stats_page)
    app.router.add_get(r"/web/stats/chart/{n:[0-2]}.png", chart)
