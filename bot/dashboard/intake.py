"""The "new case" form for call-takers: what a caller says, filed as a case of channel "phone".

The caller is told the tracking number and a one-time claim code, shown once on the page that
confirms the filing; with both they link the case to their Telegram account (/claim). The case
is private unless the call-taker ticks that the caller agreed to publish it; even then only a
public text that staff approve is published (storage.publication).
"""

from __future__ import annotations

from aiohttp import web

from bot.dashboard.intake_answers import (
    Answer,
    answer_from_articles,
    filed_after_offer,
    with_suggestion_script,
)
from bot.dashboard.intake_answers import routes as answer_routes
from bot.dashboard.pages import (
    category_choices,
    expired_page,
    posted_form,
    render,
)
from bot.dashboard.session import RUNTIME, csrf_ok
from bot.dashboard.views import staff_only
from bot.i18n import Translator
from bot.texts.cases import kind_name
from storage.cases import (
    ADDRESS_MAX,
    DESCRIPTION_MAX,
    DESCRIPTION_MIN,
    CategoryUnavailable,
    FieldOutOfLimits,
    Location,
    NewCase,
)
from storage.catalog import CategoryNotFound
from storage.claims import NotStaff, file_for_caller
from storage.models import CaseKind
from storage.staff import StaffView
from storage.tracking import format_tracking_number

PHONE_MAX = 32
_FIELDS = ("kind", "category", "text", "address", "phone", "consent")


@staff_only
async def new_case(request: web.Request, staff: StaffView, t: Translator) -> web.StreamResponse:
    form = dict.fromkeys(_FIELDS, "")
    filed = None
    flash = ""
    status = 200
    if request.method == "POST":
        posted = await posted_form(request, t, staff)
        form = {key: str(posted.get(key, "")).strip() for key in _FIELDS}
        if not csrf_ok(request, str(posted.get("csrf", ""))):
            return await expired_page(request, t, staff)
        action = str(posted.get("action", ""))
        if action in ("find", "answered"):  # the knowledge base, before any case is filed
            chosen = str(posted.get("article", "")) if action == "answered" else None
            answer = await answer_from_articles(request, staff, t, form["text"], chosen)
            if answer.done:
                form = dict.fromkeys(_FIELDS, "")
            return await _page(request, t, staff, form, answer=answer)
        problem = _problem(form)
        if problem is None:
            services = request.app[RUNTIME].services
            new = NewCase(
                citizen_id=None,
                kind=CaseKind(form["kind"]),
                category_code=form["category"],
                text=form["text"],
                photos=(),
                location=Location(None, None, form["address"]) if form["address"] else None,
                answers={},
                phone=form["phone"] or None,
                anonymous=not form["phone"],
                publish_consent=form["consent"] == "yes",
            )
            try:
                case, code = await file_for_caller(
                    new,
                    by=staff.user_id,
                    now=services.clock.now(),
                    zone=services.settings.zone,
                    staff_chat_id=services.settings.staff_chat_id,
                )
            except (CategoryNotFound, CategoryUnavailable):
                problem = "category"
            except FieldOutOfLimits as refused:
                problem = refused.field  # "text" or "address", as the form names them
            except NotStaff:
                raise web.HTTPSeeOther("/web/") from None
            else:
                filed = {"number": format_tracking_number(case.tracking), "code": code}
                if posted.get("looked") == "1":  # articles were offered, and filed anyway
                    await filed_after_offer(request, staff, t, new, case.tracking)
                form = dict.fromkeys(_FIELDS, "")
        if problem is not None:
            flash, status = _problem_line(t, problem), 400
    return await _page(request, t, staff, form, filed=filed, flash=flash, status=status)


async def _page(
    request: web.Request,
    t: Translator,
    staff: StaffView,
    form: dict[str, str],
    *,
    filed: dict[str, str] | None = None,
    flash: str = "",
    status: int = 200,
    answer: Answer | None = None,
) -> web.Response:
    if answer is not None:
        flash, status = answer.line, answer.status
    return with_suggestion_script(
        render(
            request,
            "new_case.html",
            t,
            staff,
            status=status,
            title=t.gettext("New case by phone"),
            form=form,
            filed=filed,
            flash=flash,
            flash_error=status >= 400,
            answered=answer is not None and answer.done,
            suggestions=answer.suggestions if answer is not None else [],
            kinds=[(kind.value, kind_name(t, kind)) for kind in CaseKind],
            categories=await category_choices(t.language),
        )
    )


def _problem(form: dict[str, str]) -> str | None:
    if form["kind"] not in set(CaseKind):
        return "kind"
    if not DESCRIPTION_MIN <= len(form["text"]) <= DESCRIPTION_MAX:
        return "text"
    if len(form["address"]) > ADDRESS_MAX:
        return "address"
    if len(form["phone"]) > PHONE_MAX:
        return "phone"
    if not form["category"]:
        return "category"
    return None


def _problem_line(t: Translator, problem: str) -> str:
    lines = {
        "kind": t.gettext("Please choose the kind of request."),
        "category": t.gettext("Please choose a category."),
        "text": t.gettext(
            "Please write what the caller says: {min} to {max} characters.",
            min=DESCRIPTION_MIN,
            max=DESCRIPTION_MAX,
        ),
        "address": t.gettext(
            "The address is too long: at most {max} characters.", max=ADDRESS_MAX
        ),
        "phone": t.gettext(
            "The phone number is too long: at most {max} characters.", max=PHONE_MAX
        ),
    }
    return lines[problem]


def routes(app: web.Application) -> None:
    app.router.add_get("/web/new", new_case)
    app.router.add_post("/web/new", new_case)
    answer_routes(app)  # the suggestions the phone page's script asks for, and the script
