"""The knowledge base on the dashboard: /web/kb lists the articles, /web/kb/<code> shows one
with its history, and its owning department (or a supervisor over it, or an admin) edits it.

Any staff member reads every article (they are the desk's answers, shown to citizens too).
Saving makes a new version (storage.knowledge.save_article, which authorizes: a staff member of
another department gets 403 and nothing changes); every POST checks the CSRF token first.
The form carries the version it was opened at: if someone saved meanwhile, the page answers
409, saves nothing, and keeps what the editor typed (now against the current version, so a
second save, after comparing, is a deliberate one).
Articles past their review-by date are listed first and flagged.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from aiohttp import web

from bot.dashboard.kb_forms import LANGUAGES, EditInvalid, edit_fields, read_edit
from bot.dashboard.pages import (
    department_choices,
    expired_page,
    message_page,
    posted_form,
    refused_page,
    render,
)
from bot.dashboard.session import RUNTIME, csrf_ok
from bot.dashboard.views import staff_only
from bot.i18n import Translator
from bot.texts.cases import when
from bot.texts.kb_staff import fallback_line, votes_line
from storage.kb_editing import article_texts, may_edit
from storage.knowledge import (
    KbArticleChanged,
    KbArticleNotFound,
    article,
    articles,
    revisions,
    save_article,
    search,
)
from storage.staff import StaffNotAuthorized, StaffView
from storage.stats_series import catalogue_names, name_in

LISTED = 200
QUERY_MAX = 100


def today(request: web.Request) -> date:
    """The desk's date now (review-by dates are the desk's calendar days)."""
    services = request.app[RUNTIME].services
    return services.clock.now().astimezone(services.settings.zone).date()


@staff_only
async def kb_list(request: web.Request, staff: StaffView, t: Translator) -> web.StreamResponse:
    """The articles: matching the words if any, of one department if chosen; past review first."""
    default = request.app[RUNTIME].services.settings.default_language
    form = {key: request.query.get(key, "")[:QUERY_MAX] for key in ("q", "department")}
    if form["q"].strip():
        found = await search(form["q"], t.language, default, limit=LISTED)
    else:
        found = await articles(t.language, default)
    if form["department"]:
        found = [view for view in found if view.department_code == form["department"]]
    day = today(request)
    if not form["q"].strip():  # a search keeps its ranking; the full list puts what is due first
        found.sort(key=lambda view: (view.review_by >= day, min(view.review_by, day), view.code))
    departments, _ = await catalogue_names()
    rows = [
        {
            "code": view.code,
            "title": view.title,
            "department": name_in(departments, view.department_code, t.language),
            "review_by": view.review_by.isoformat(),
            "overdue": view.review_by < day,
            "votes": votes_line(view, t),
        }
        for view in found
    ]
    return render(
        request,
        "kb_list.html",
        t,
        staff,
        title=t.gettext("Knowledge base"),
        form=form,
        rows=rows,
        overdue=sum(1 for row in rows if row["overdue"]),
        departments=await department_choices(t.language),
    )


@staff_only
async def kb_article(request: web.Request, staff: StaffView, t: Translator) -> web.StreamResponse:
    """One article in the reader's language, its history, and the edit form for its owners."""
    code = request.match_info["code"]
    saved = request.query.get("saved", "")
    flash = t.gettext("Saved as version {version}.", version=saved) if saved.isdigit() else ""
    return await _article_page(request, staff, t, code, flash=flash)


async def _article_page(
    request: web.Request,
    staff: StaffView,
    t: Translator,
    code: str,
    *,
    flash: str = "",
    status: int = 200,
    fields: dict[str, str] | None = None,
) -> web.Response:
    services = request.app[RUNTIME].services
    try:
        from_db = await article_texts(code)
        view = await article(code, t.language, services.settings.default_language)
        history = await revisions(code)
    except KbArticleNotFound:
        return await _not_found(request, t, staff)
    departments, categories = await catalogue_names()
    zone = services.settings.zone
    return render(
        request,
        "kb_article.html",
        t,
        staff,
        status=status,
        title=view.title or code,
        flash=flash,
        flash_error=status != 200,
        article=view,
        fallback=fallback_line(view, t),
        votes=votes_line(view, t),
        overdue=view.review_by < today(request),
        department=name_in(departments, view.department_code, t.language),
        categories=_listed(t, [name_in(categories, c, t.language) for c in view.categories]),
        history=[
            {
                "version": rev.version,
                "who": str(rev.by_staff) if rev.by_staff is not None else "—",
                "when": when(rev.created_at, zone, t.language),
                "source": _source(t, rev.source),
            }
            for rev in history
        ],
        editable=await may_edit(staff.user_id, code),
        languages=LANGUAGES,
        fields=fields or edit_fields(from_db),
    )


def _listed(t: Translator, names: list[str]) -> str:
    return ("、" if t.language.startswith("zh") else ", ").join(names)


def _source(t: Translator, source: str) -> str:
    if source == "dashboard":
        return t.gettext("edited on the dashboard")
    return t.gettext("loaded from a file")


async def _not_found(request: web.Request, t: Translator, staff: StaffView) -> web.Response:
    return await message_page(
        request,
        t,
        staff,
        t.gettext("Not found"),
        t.gettext("There is no article with this code."),
        404,
    )


@staff_only
async def kb_save(request: web.Request, staff: StaffView, t: Translator) -> web.StreamResponse:
    """Save the edit form as a new version (owners only: 403 and nothing saved otherwise)."""
    code = request.match_info["code"]
    form = {key: str(value) for key, value in (await posted_form(request, t, staff)).items()}
    if not csrf_ok(request, form.get("csrf", "")):
        return await expired_page(request, t, staff)
    try:
        edit = read_edit(form, request.app[RUNTIME].services.settings.default_language)
    except EditInvalid as invalid:
        line = invalid.line(t)
        return await _article_page(request, staff, t, code, flash=line, status=400, fields=form)
    try:
        version = await save_article(
            code,
            titles=edit.titles,
            bodies=edit.bodies,
            keywords=edit.keywords,
            review_by=edit.review_by,
            expected_version=edit.version,
            by=staff.user_id,
            now=request.app[RUNTIME].services.clock.now(),
        )
    except StaffNotAuthorized:
        return await refused_page(request, t, staff)
    except KbArticleNotFound:
        return await _not_found(request, t, staff)
    except KbArticleChanged as changed:
        line = t.gettext(
            "Someone else saved version {version} of this article while you were editing, so "
            "nothing was saved. Your text is kept below: compare it with the article above, "
            "then save again to replace that version.",
            version=changed.version,
        )
        kept = {**form, "version": str(changed.version)}
        return await _article_page(request, staff, t, code, flash=line, status=409, fields=kept)
    raise web.HTTPSeeOther(f"/web/kb/{code}?" + urlencode({"saved": version}))


def routes(app: web.Application) -> None:
    app.router.add_get("/web/kb", kb_list)
    app.router.add_get(r"/web/kb/{code:[a-z0-9][a-z0-9.-]{0,63}}", kb_article)
    app.router.add_post(r"/web/kb/{code:[a-z0-9][a-z0-9.-]{0,63}}", kb_save)
