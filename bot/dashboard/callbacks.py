"""Callbacks (回访) on the dashboard: the list of answers waiting for one (/web/callbacks), the
case page's callback block, and a try recorded (POST /web/callback/<number>).

Storage decides who may record (the case's department, supervisors over it, admins) and what
a try may say (storage.callbacks); a form that does not hang together is shown again with one
line saying what is missing. Recording from the list ("Not reached") or the case page returns
to where it was sent from.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from aiohttp import web

from bot.dashboard.pages import expired_page, message_page, posted_form, refused_page, render
from bot.dashboard.session import RUNTIME, csrf_ok
from bot.dashboard.views import _render_case, _viewable, staff_only
from bot.i18n import Translator
from bot.texts.cases import category_name, department_name, when
from bot.texts.refusals import refusal, shown
from storage.callback_queue import CALLBACK_TRIES, callback_lines
from storage.callbacks import (
    CallbackRefused,
    CallbackReport,
    record_callback,
)
from storage.case_views import CaseNotFound
from storage.lifecycle import CaseChangedMeanwhile
from storage.models import RatingSatisfaction, RatingSolved
from storage.queue import reach_of
from storage.staff import StaffNotAuthorized, StaffView


def _now(request: web.Request) -> datetime:
    return request.app[RUNTIME].services.clock.now()


@staff_only
async def callback_list(
    request: web.Request, staff: StaffView, t: Translator
) -> web.StreamResponse:
    """The answers in the staff member's reach whose callback is due, longest waiting first."""
    zone = request.app[RUNTIME].services.settings.zone
    lines = await callback_lines(await reach_of(staff.user_id), _now(request))
    rows = [
        {
            "number": shown(line.tracking),
            "category": await category_name(line.category_code, t.language),
            "department": await department_name(line.department_code, t),
            "answered": when(line.answered_at, zone, t.language),
            "due": when(line.callback_due_at, zone, t.language),
            "channel": line.channel,
            "tries": line.failed_tries,
        }
        for line in lines
    ]
    done = request.query.get("done", "")[:20]
    flash = t.gettext("The callback on {number} is recorded.", number=shown(done)) if done else ""
    return render(
        request,
        "callbacks.html",
        t,
        staff,
        title=t.gettext("Callbacks"),
        rows=rows,
        tries=CALLBACK_TRIES,
        flash=flash,
    )


def report_of(form: dict[str, str]) -> CallbackReport:
    """The form as a report; ValueError (naming the field) when a choice is missing or odd."""
    reached = form.get("reached", "")
    if reached not in ("yes", "no"):
        raise ValueError("reached")
    solved, satisfaction = form.get("solved", ""), form.get("satisfaction", "")
    yes = reached == "yes"
    report = CallbackReport(
        reached=yes,
        method=form.get("method", ""),
        note=form.get("note", "").strip(),
        solved=RatingSolved(solved) if yes and solved in set(RatingSolved) else None,
        satisfaction=(
            RatingSatisfaction(satisfaction)
            if yes and satisfaction in set(RatingSatisfaction)
            else None
        ),
        reopen=yes and form.get("reopen") == "yes",
    )
    return report.checked()


def problem_line(t: Translator, field: str) -> str:
    lines = {
        "reached": t.gettext("Please say whether the citizen was reached."),
        "method": t.gettext("Please say how the citizen was contacted."),
        "rating": t.gettext("The citizen was reached: please give both of their answers."),
        "reopen": t.gettext("A request is reopened only when the citizen is unsatisfied."),
        "note": t.gettext("The comment may have at most 1000 characters."),
    }
    return lines.get(field, t.gettext("Please fill in the form."))


def refused_line(t: Translator, number: str, error: CallbackRefused) -> str:
    lines = {
        "not_answered": t.gettext("Request {number} is not waiting for a rating.", number=number),
        "rated": t.gettext("This answer to {number} is already rated.", number=number),
        "tries_used": t.gettext(
            "All {tries} tries on {number} are used.", tries=CALLBACK_TRIES, number=number
        ),
        "too_late": t.gettext(
            "The answer to {number} is more than 7 days old: it can no longer be reopened. "
            "Record the rating without reopening.",
            number=number,
        ),
    }
    return lines[error.why]


@staff_only
async def record(request: web.Request, staff: StaffView, t: Translator) -> web.StreamResponse:
    """One try recorded; back to the list or the case page."""
    number = shown(request.match_info["number"])
    form = {k: str(v) for k, v in (await posted_form(request, t, staff)).items()}
    if not csrf_ok(request, form.get("csrf", "")):
        return await expired_page(request, t, staff)
    line, status = "", 200
    try:
        report = report_of(form)
        services = request.app[RUNTIME].services
        await record_callback(
            number,
            report,
            by=staff.user_id,
            now=_now(request),
            staff_chat_id=services.settings.staff_chat_id,
        )
    except (StaffNotAuthorized, CaseNotFound):
        return await refused_page(request, t, staff)
    except ValueError as problem:
        line, status = problem_line(t, str(problem)), 400
    except CallbackRefused as refused:
        line, status = refused_line(t, number, refused), 409
    except CaseChangedMeanwhile as changed:
        line, status = refusal(t, number, changed), 409
    if status != 200:
        case = await _viewable(request, staff, number)
        if case is None:
            return await message_page(request, t, staff, t.gettext("Not recorded"), line, status)
        return await _render_case(request, staff, t, case, line, error=True, status=status)
    if form.get("back") == "list":
        raise web.HTTPSeeOther("/web/callbacks?" + urlencode({"done": number}))
    raise web.HTTPSeeOther(f"/web/case/{number}?callback=recorded#callback")


def routes(app: web.Application) -> None:
    app.router.add_get("/web/callbacks", callback_list)
    app.router.add_post("/web/callback/{number}", record)
