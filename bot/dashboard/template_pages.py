"""Reply templates on the dashboard: /web/templates lists them, /web/templates/<code> shows one
in every language and, to those who may change it, the edit form.

Any staff member reads every template (they are the desk's words to citizens). Who edits is the
knowledge base's rule (storage.reply_templates.may_edit_template): the staff of the department
that handles the template's category, the supervisors over it, and the admins; a template of
any category, the admins and the supervisors of the whole desk. Saving is authorized again in
storage (403, nothing saved), every POST checks the CSRF token first, and the form carries the
version it was opened at: if someone saved meanwhile, the page answers 409 and keeps the text.
The file stays the source of truth: `minsheng templates load` replaces these edits.
"""

from __future__ import annotations

from urllib.parse import urlencode

from aiohttp import web

from bot.dashboard.kb_forms import LANGUAGES
from bot.dashboard.pages import expired_page, message_page, posted_form, refused_page, render
from bot.dashboard.session import RUNTIME, csrf_ok
from bot.dashboard.template_form import TemplateEditInvalid, edit_fields, read_template_edit
from bot.dashboard.template_picker import routes as picker_routes
from bot.dashboard.views import staff_only
from bot.i18n import Translator
from bot.texts.cases import when
from bot.texts.reply_templates import outcome_name, text_language
from storage.reply_template_file import PLACEHOLDERS
from storage.reply_templates import (
    ReplyTemplateChanged,
    ReplyTemplateNotFound,
    TemplateView,
    all_templates,
    may_edit_template,
    save_template,
    template,
)
from storage.staff import StaffNotAuthorized, StaffView
from storage.stats_series import catalogue_names, name_in

EXCERPT = 90
CODE_ROUTE = r"{code:[a-z0-9][a-z0-9.-]{0,39}}"


def outcome_label(t: Translator, view: TemplateView) -> str:
    return outcome_name(t, view.outcome, view.auto)


async def _category(t: Translator, view: TemplateView) -> str:
    if view.category_code is None:
        return t.gettext("Any category")
    _, categories = await catalogue_names()
    return name_in(categories, view.category_code, t.language)


@staff_only
async def template_list(
    request: web.Request, staff: StaffView, t: Translator
) -> web.StreamResponse:
    """Every template, active ones first: category, outcome, how its text begins."""
    default = request.app[RUNTIME].services.settings.default_language
    views = sorted(await all_templates(), key=lambda v: not v.active)
    rows = []
    for view in views:
        body = " ".join(view.texts.get(text_language(view, t.language, default), "").split())
        rows.append(
            {
                "code": view.code,
                "category": await _category(t, view),
                "outcome": outcome_label(t, view),
                "active": view.active,
                "excerpt": body if len(body) <= EXCERPT else body[: EXCERPT - 1] + "…",
            }
        )
    return render(
        request,
        "templates_list.html",
        t,
        staff,
        title=t.gettext("Reply templates"),
        rows=rows,
    )


@staff_only
async def template_page(
    request: web.Request, staff: StaffView, t: Translator
) -> web.StreamResponse:
    """One template in every language, and the edit form for those who may change it."""
    saved = request.query.get("saved", "")
    flash = t.gettext("Saved as version {version}.", version=saved) if saved.isdigit() else ""
    return await _page(request, staff, t, request.match_info["code"], flash=flash)


async def _page(
    request: web.Request,
    staff: StaffView,
    t: Translator,
    code: str,
    *,
    flash: str = "",
    status: int = 200,
    fields: dict[str, str] | None = None,
) -> web.Response:
    try:
        view = await template(code)
    except ReplyTemplateNotFound:
        return await _not_found(request, t, staff)
    zone = request.app[RUNTIME].services.settings.zone
    return render(
        request,
        "template_edit.html",
        t,
        staff,
        status=status,
        title=view.code,
        flash=flash,
        flash_error=status != 200,
        view=view,
        category=await _category(t, view),
        outcome=outcome_label(t, view),
        updated=when(view.updated_at, zone, t.language),
        updated_by=str(view.updated_by) if view.updated_by is not None else "",
        editable=await may_edit_template(staff.user_id, view),
        languages=LANGUAGES,
        placeholders=", ".join(f"{{{p}}}" for p in PLACEHOLDERS),
        fields=fields or edit_fields(view),
    )


async def _not_found(request: web.Request, t: Translator, staff: StaffView) -> web.Response:
    return await message_page(
        request,
        t,
        staff,
        t.gettext("Not found"),
        t.gettext("There is no reply template with this code."),
        404,
    )


@staff_only
async def template_save(
    request: web.Request, staff: StaffView, t: Translator
) -> web.StreamResponse:
    """Save the edit form as a new version (those who may edit only: 403 otherwise)."""
    code = request.match_info["code"]
    form = {key: str(value) for key, value in (await posted_form(request, t, staff)).items()}
    if not csrf_ok(request, form.get("csrf", "")):
        return await expired_page(request, t, staff)
    services = request.app[RUNTIME].services
    try:
        edit = read_template_edit(form, services.settings.default_language)
    except TemplateEditInvalid as invalid:
        return await _page(request, staff, t, code, flash=invalid.line(t), status=400, fields=form)
    try:
        version = await save_template(
            code,
            texts=edit.texts,
            active=edit.active,
            expected_version=edit.version,
            by=staff.user_id,
            now=services.clock.now(),
        )
    except StaffNotAuthorized:
        return await refused_page(request, t, staff)
    except ReplyTemplateNotFound:
        return await _not_found(request, t, staff)
    except ReplyTemplateChanged as changed:
        line = t.gettext(
            "Someone else saved version {version} of this template while you were editing, so "
            "nothing was saved. Your text is kept below: compare, then save again.",
            version=changed.version,
        )
        kept = {**form, "version": str(changed.version)}
        return await _page(request, staff, t, code, flash=line, status=409, fields=kept)
    raise web.HTTPSeeOther(f"/web/templates/{code}?" + urlencode({"saved": version}))


def routes(app: web.Application) -> None:
    picker_routes(app)  # the case page's picker script
    app.router.add_get("/web/templates", template_list)
    app.router.add_get(f"/web/templates/{CODE_ROUTE}", template_page)
    app.router.add_post(f"/web/templates/{CODE_ROUTE}", template_save)
