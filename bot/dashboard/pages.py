"""The dashboard's pages: rendering, the language of the staff member, and shared lookups.

Plain server-rendered HTML (jinja2, every value escaped), no JavaScript; the staff member's
language is the one they chose in the bot. Responses are never cached and never framed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web
from jinja2 import Environment, FileSystemLoader, select_autoescape

from bot.dashboard.session import RUNTIME, csrf_token
from bot.forms import Form, FormUnreadable, read_form
from bot.i18n import Translator
from storage.catalog import categories_of, departments, domains
from storage.citizens import citizen_language
from storage.staff import StaffView

TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'none'; img-src 'self'; media-src 'self'; "
    "style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
}


async def translator_for(request: web.Request, staff: StaffView | None) -> Translator:
    services = request.app[RUNTIME].services
    default = services.settings.default_language
    language = await citizen_language(staff.user_id, default) if staff else default
    return services.catalogs.get(language)


def staff_label(t: Translator, staff: StaffView) -> str:
    role = {
        "admin": t.gettext("admin"),
        "supervisor": t.gettext("supervisor"),
        "handler": t.gettext("handler"),
    }[staff.role.value]
    return t.gettext("{user_id} ({role})", user_id=staff.user_id, role=role)


def render(
    request: web.Request,
    template: str,
    t: Translator,
    staff: StaffView | None,
    *,
    status: int = 200,
    **context: Any,
) -> web.Response:
    page = TEMPLATES.get_template(template).render(
        gettext=t.gettext,
        ngettext=t.ngettext,
        lang_tag=t.language.replace("_", "-"),
        staff=staff,
        staff_label=staff_label(t, staff) if staff else "",
        csrf=csrf_token(request) if staff else "",
        **context,
    )
    return web.Response(
        text=page, status=status, content_type="text/html", charset="utf-8", headers=HEADERS
    )


async def message_page(
    request: web.Request,
    t: Translator,
    staff: StaffView | None,
    title: str,
    message: str,
    status: int,
) -> web.Response:
    return render(request, "message.html", t, staff, status=status, title=title, message=message)


async def expired_page(
    request: web.Request, t: Translator, staff: StaffView | None, status: int = 403
) -> web.Response:
    """A form that was stale, forged or unreadable: nothing was done; open the page again."""
    return await message_page(
        request,
        t,
        staff,
        t.gettext("Please try again"),
        t.gettext("The form had expired. Open the page again."),
        status,
    )


async def posted_form(request: web.Request, t: Translator, staff: StaffView | None) -> Form:
    """The submitted form; one whose body cannot be read is answered like an expired form."""
    try:
        return await read_form(request)
    except FormUnreadable:
        page = await expired_page(request, t, staff, 400)
        raise web.HTTPBadRequest(
            text=page.text, content_type="text/html", headers=HEADERS
        ) from None


async def department_choices(language: str) -> list[tuple[str, str]]:
    return [(d.code, d.name(language)) for d in await departments()]


async def category_choices(language: str) -> list[tuple[str, str]]:
    """Every fileable category as "Domain › Category", in the catalogue's order."""
    choices = []
    for domain in await domains():
        for leaf in await categories_of(domain.code):
            if leaf.active and not leaf.emergency:
                choices.append((leaf.code, f"{domain.name(language)} › {leaf.name(language)}"))
    return choices


async def refused_page(request: web.Request, t: Translator, staff: StaffView) -> web.Response:
    """What a staff member sees of a page or case that is not theirs to see (403)."""
    return await message_page(
        request,
        t,
        staff,
        t.gettext("Not available"),
        t.gettext("That is not available to you."),
        403,
    )
