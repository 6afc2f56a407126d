"""The case page's Publish and Unpublish: staff publish what the public may read of a case.

POST /web/publication/<number> with do=check shows the case page again with the texts sent and
their highlight; with do=publish it publishes them (storage.publication authorizes, checks the
consent, the answer and the texts, and records it), or shows the page again with what refused.
POST /web/publication/<number>/unpublish (confirmed, a reason optional) takes it off at once.
"""

from __future__ import annotations

import re

from aiohttp import web

from bot.dashboard.pages import expired_page, message_page, posted_form, refused_page
from bot.dashboard.session import RUNTIME, csrf_ok
from bot.dashboard.views import _render_case, _viewable, staff_only
from bot.i18n import Translator
from bot.texts.refusals import shown
from storage.case_views import CaseNotFound
from storage.publication import (
    PUBLIC_NOTE_MAX,
    PUBLIC_TEXT_MAX,
    PUBLIC_TITLE_MAX,
    REASON_MAX,
    CaseNotAnswered,
    ConsentMissing,
    PersonalDataLeft,
    Publication,
    PublicTextInvalid,
    publish,
    unpublish,
)
from storage.staff import StaffNotAuthorized, StaffView

FIELDS = ("public_title", "public_text", "public_note")
PHOTO_INDEX = re.compile(r"[0-9]{1,2}")  # a ticked photo's index among the case's photos


@staff_only
async def publish_case(
    request: web.Request, staff: StaffView, t: Translator
) -> web.StreamResponse:
    """Check the texts again, or publish them; then back to the case page."""
    number = request.match_info["number"]
    form = await posted_form(request, t, staff)
    if not csrf_ok(request, str(form.get("csrf", ""))):
        return await expired_page(request, t, staff)
    sent = {name: str(form.get(name, "")) for name in FIELDS}
    ticked = [str(i) for i in form.getall("photo", []) if PHOTO_INDEX.fullmatch(str(i))]
    sent["photos"] = ",".join(ticked)
    if form.get("do") == "check":
        return await _again(request, staff, t, number, sent, "", 200)
    wanted = Publication(
        sent["public_title"], sent["public_text"], sent["public_note"], [int(i) for i in ticked]
    )
    try:
        await publish(
            number, wanted, by=staff.user_id, now=request.app[RUNTIME].services.clock.now()
        )
    except (StaffNotAuthorized, CaseNotFound):
        return await refused_page(request, t, staff)
    except ConsentMissing:
        line = t.gettext(
            "The citizen did not agree to publish request {number}: it stays private.",
            number=shown(number),
        )
        return await message_page(request, t, staff, t.gettext("Not published"), line, 409)
    except CaseNotAnswered:
        line = t.gettext(
            "Request {number} has no answer yet: it cannot be published.", number=shown(number)
        )
        return await _again(request, staff, t, number, sent, line, 409)
    except PersonalDataLeft:
        line = t.gettext(
            "Not published: the texts still hold a phone number or an ID number (marked below)."
        )
        return await _again(request, staff, t, number, sent, line, 422)
    except PublicTextInvalid as invalid:
        return await _again(request, staff, t, number, sent, _invalid_line(t, invalid.field), 400)
    raise web.HTTPSeeOther(f"/web/case/{shown(number)}#publication")


@staff_only
async def unpublish_case(
    request: web.Request, staff: StaffView, t: Translator
) -> web.StreamResponse:
    """Take the case off every public surface (confirmed), then back to its page."""
    number = request.match_info["number"]
    form = await posted_form(request, t, staff)
    if not csrf_ok(request, str(form.get("csrf", ""))):
        return await expired_page(request, t, staff)
    if form.get("confirm") != "yes":
        line = t.gettext("Please tick the box to confirm.")
        return await _again(request, staff, t, number, None, line, 400)
    try:
        await unpublish(
            number,
            str(form.get("reason", "")),
            by=staff.user_id,
            now=request.app[RUNTIME].services.clock.now(),
        )
    except (StaffNotAuthorized, CaseNotFound):
        return await refused_page(request, t, staff)
    except PublicTextInvalid:
        return await _again(request, staff, t, number, None, _invalid_line(t, "reason"), 400)
    raise web.HTTPSeeOther(f"/web/case/{shown(number)}#publication")


async def _again(
    request: web.Request,
    staff: StaffView,
    t: Translator,
    number: str,
    sent: dict[str, str] | None,
    line: str,
    status: int,
) -> web.StreamResponse:
    """The case page again, with the texts sent in the form and, if any, why they were refused."""
    case = await _viewable(request, staff, number)
    if case is None:
        return await refused_page(request, t, staff)
    return await _render_case(
        request, staff, t, case, line, error=bool(line), status=status, posted=sent
    )


def _invalid_line(t: Translator, field: str) -> str:
    if field == "public_title":
        return t.gettext(
            "The public title must be given, with at most {max} characters and no control "
            "characters.",
            max=PUBLIC_TITLE_MAX,
        )
    if field == "public_note":
        return t.gettext(
            "The public note may have at most {max} characters and no control characters.",
            max=PUBLIC_NOTE_MAX,
        )
    if field == "reason":
        return t.gettext(
            "The reason may have at most {max} characters and no control characters.",
            max=REASON_MAX,
        )
    return t.gettext(
        "The public text must be given, with at most {max} characters and no control characters.",
        max=PUBLIC_TEXT_MAX,
    )


def routes(app: web.Application) -> None:
    app.router.add_post("/web/publication/{number}", publish_case)
    app.router.add_post("/web/publication/{number}/unpublish", unpublish_case)
