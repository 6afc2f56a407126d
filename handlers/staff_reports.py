"""Reports for supervisors and admins: /stats, /export and /digest, and their notices.

/stats answers at once with the figures and the department ranking, and queues a
"stats_charts" notice; /export queues a "stats_export" notice. Pictures and files are made when
the notice is sent (the outbox holds only the period and the department, never file bytes):
the charts are drawn and the CSV written from the database by the renderers below, in the
recipient's language, as one sendMediaGroup of three PNGs or one sendDocument. A period that
is over does not change, so drawing it a moment later shows the same figures; `now` travels in
the notice so that "late" means the same in the text and in the charts.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from telegram import InputFile, InputMediaPhoto, Update
from telegram.ext import CommandHandler

from bot.context import MinshengApp, MinshengContext
from bot.i18n import Translator
from bot.texts.charts import chart_pngs
from bot.texts.kb_figures import kb_text
from bot.texts.kb_staff import article_titles
from bot.texts.reports import digest_text, stats_text
from handlers.common import chat_of, send, user_of, who
from handlers.rendered import Rendered, notice_zone
from handlers.staff_kit import not_allowed, scope_kept_out, staff_filter, usage_or_denied
from storage.catalog import DepartmentNotFound
from storage.digest import digest_facts, last_full_week
from storage.export import count_cases, export_csv
from storage.kb_figures import kb_figures
from storage.notice_queue import notify
from storage.periods import Period, PeriodInvalid, days_period, looks_like_period, parse_period
from storage.sql import as_datetime
from storage.staff import StaffNotAuthorized
from storage.stats import compute_stats, report_scope
from storage.stats_series import catalogue_names, name_in

COMMANDS = ("stats", "digest", "export")


def stats_usage(t: Translator) -> str:
    return t.gettext("Usage: /stats [today|week|month|YYYY-MM|FROM..TO] [department code]")


def export_usage(t: Translator) -> str:
    return t.gettext("Usage: /export [today|week|month|YYYY-MM|FROM..TO] [department code]")


def period_and_department(context: MinshengContext) -> tuple[str | None, str | None] | None:
    """[period] [department], either may be left out; None when the words make no sense."""
    args = list(context.args or [])
    period = args.pop(0) if args and looks_like_period(args[0]) else None
    department = args.pop(0) if args else None
    return None if args else (period, department)


async def _scoped(
    update: Update, context: MinshengContext, t: Translator, usage: str
) -> tuple[Period, str | None] | None:
    """The period and the department the caller may see; answers and gives None otherwise."""
    now, zone = context.services.clock.now(), context.services.settings.zone
    words = period_and_department(context)
    try:
        period = parse_period(words[0], now=now, zone=zone) if words else None
    except PeriodInvalid:
        period = None
    if words is None or period is None:
        await usage_or_denied(update, context, t, usage)
        return None
    try:
        scope = await report_scope(user_of(update).id, words[1], now=now)
    except StaffNotAuthorized:
        await send(update, context, not_allowed(t))
        return None
    except DepartmentNotFound:
        await send(update, context, t.gettext("No department has the code {code}.", code=words[1]))
        return None
    if await scope_kept_out(update, context, t, scope):
        return None
    return period, scope


def _facts(period: Period, scope: str | None, now: datetime, **extra: Any) -> dict[str, Any]:
    return {
        "first_day": period.first_day.isoformat(),
        "last_day": period.last_day.isoformat(),
        "department": scope,
        "now": now.isoformat(),
        **extra,
    }


async def on_stats(update: Update, context: MinshengContext) -> None:
    """/stats [period] [department]: the figures and the ranking now, the charts just after."""
    _, t = await who(update, context)
    if (got := await _scoped(update, context, t, stats_usage(t))) is None:
        return
    period, scope = got
    now = context.services.clock.now()
    stats = await compute_stats(period.start, period.end, scope, now=now)
    departments, _ = await catalogue_names()
    name = name_in(departments, scope, t.language) if scope else None
    text = stats_text(stats, period.label, t, name, names=departments)
    if scope is None:  # the knowledge base serves the whole desk: its figures are desk-wide
        figures = await kb_figures(period.start, period.end)
        text += "\n\n" + kb_text(figures, await article_titles(t.language), t)
    await send(update, context, text, parse_mode="HTML")
    if stats.total.received:
        await notify(chat_of(update).id, "stats_charts", _facts(period, scope, now), now=now)


async def on_export(update: Update, context: MinshengContext) -> None:
    """/export [period] [department]: the period's requests as a CSV file (no personal data)."""
    _, t = await who(update, context)
    if (got := await _scoped(update, context, t, export_usage(t))) is None:
        return
    period, scope = got
    now = context.services.clock.now()
    if not await count_cases(period.start, period.end, scope):
        await send(update, context, t.gettext("No requests were received in this period."))
        return
    facts = _facts(period, scope, now, language=t.language)
    await notify(chat_of(update).id, "stats_export", facts, now=now)


async def on_digest(update: Update, context: MinshengContext) -> None:
    """/digest: last week's digest (民声摘报), now, for the caller's reach."""
    _, t = await who(update, context)
    now = context.services.clock.now()
    if context.args:
        await usage_or_denied(update, context, t, t.gettext("Usage: /digest"))
        return
    try:
        scope = await report_scope(user_of(update).id, None, now=now)
    except StaffNotAuthorized:
        await send(update, context, not_allowed(t))
        return
    if await scope_kept_out(update, context, t, scope):
        return
    period = last_full_week(now, context.services.settings.zone)
    facts = await digest_facts(
        period, now=now, zone=context.services.settings.zone, department_code=scope
    )
    text = digest_text(facts, t, await catalogue_names(), await article_titles(t.language))
    await send(update, context, text, parse_mode="HTML")


def _period(params: dict[str, Any]) -> Period:
    first, last = (date.fromisoformat(params[k]) for k in ("first_day", "last_day"))
    return days_period(first, last, notice_zone())


async def render_stats_charts(params: dict[str, Any], t: Translator) -> Rendered:
    """Three charts of a period as one album: per day, per category, rates per department."""
    period, scope = _period(params), params.get("department")
    pngs = await chart_pngs(period, scope, as_datetime(params["now"]), notice_zone(), t)
    captions = [
        t.gettext("Requests per day, {period}", period=period.label),
        t.gettext("Requests by category, {period}", period=period.label),
        t.gettext("Rates by department, {period}", period=period.label),
    ]
    media = [
        InputMediaPhoto(png, caption=caption, filename=f"chart{n}.png")
        for n, (png, caption) in enumerate(zip(pngs, captions, strict=True))
    ]
    return Rendered("sendMediaGroup", {"media": media})


async def render_stats_export(params: dict[str, Any], t: Translator) -> Rendered:
    """The CSV file of a period, with its count in the caption."""
    period, scope = _period(params), params.get("department")
    rows: list[int] = [0]
    data = await export_csv(
        period.start,
        period.end,
        scope,
        language=str(params.get("language") or t.language),
        zone=notice_zone(),
        progress=lambda n: rows.__setitem__(0, n),
    )
    name = f"minsheng-{period.label.replace('..', '_')}.csv"
    caption = t.gettext(
        "Requests received in {period}: {count}", period=period.label, count=rows[0]
    )
    return Rendered(
        "sendDocument", {"document": InputFile(data, filename=name), "caption": caption}
    )


async def render_weekly_digest(params: dict[str, Any], t: Translator) -> Rendered:
    """The weekly digest (民声摘报) in the staff chat."""
    text = digest_text(params, t, await catalogue_names(), await article_titles(t.language))
    return Rendered("sendMessage", {"text": text, "parse_mode": "HTML"})


def handlers(app: MinshengApp) -> list[Any]:
    """The report commands, for register()."""
    staff = staff_filter(app)
    return [
        CommandHandler("stats", on_stats, filters=staff),
        CommandHandler("export", on_export, filters=staff),
        CommandHandler("digest", on_digest, filters=staff),
    ]
