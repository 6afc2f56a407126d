"""The case page's publication form: staff write or approve what the public may read of a case.

Shown when the citizen agreed to publish; the public text and the public note are all that
Open311 shows of the case (storage.publication authorizes, checks the consent and records it).
An empty public text withdraws the publication.
"""

from __future__ import annotations

from aiohttp import web

from bot.dashboard.pages import expired_page, message_page, posted_form, refused_page
from bot.dashboard.session import RUNTIME, csrf_ok
from bot.dashboard.views import staff_only
from bot.i18n import Translator
from bot.texts.refusals import shown
from storage.case_views import CaseNotFound
from storage.publication import (
    PUBLIC_NOTE_MAX,
    PUBLIC_TEXT_MAX,
    ConsentMissing,
    PublicTextInvalid,
    set_publication,
)
from storage.staff import StaffNotAuthorized, StaffView


@staff_only
async def publish(request: web.Request, staff: StaffView, t: Translator) -> web.StreamResponse:
    """Save the public text and note of a case, then back to its page."""
    number = request.match_info["number"]
    form = await posted_form(request, t, staff)
    if not csrf_ok(request, str(form.get("csrf", ""))):
        return await expired_page(request, t, staff)
    try:
        await set_publication(
            number,
            str(form.get("public_text", "")),
            str(form.get("public_note", "")),
            by=staff.user_id,
            now=request.app[RUNTIME].services.clock.now(),
        )
    except (StaffNotAuthorized, CaseNotFound):
        return await refused_page(request, t, staff)
    except ConsentMissing:
        return await message_page(
            request,
            t,
            staff,
            t.gettext("Not published"),
            t.gettext(
                "The citizen did not agree to publish request {number}: it stays private.",
                number=shown(number),
            ),
            409,
        )
    except PublicTextInvalid as invalid:
        return await message_page(
            request, t, staff, t.gettext("Not published"), _invalid_line(t, invalid.field), 400
        )
    raise web.HTTPSeeOther(f"/web/case/{shown(number)}#publication")


def _invalid_line(t: Translator, field: str) -> str:
    if field == "public_note":
        return t.gettext(
            "The public note may have at most {max} characters and no control characters.",
            max=PUBLIC_NOTE_MAX,
        )
    return t.gettext(
        "The public text may have at most {max} characters and no control characters.",
        max=PUBLIC_TEXT_MAX,
    )


def routes(app: web.Application) -> None:
    app.router.add_post("/web/publication/{number}", publish)
