"""The board's pages: rendering, the visitor's language, and the words of its facts.

Plain server-rendered HTML (jinja2, every value escaped), no JavaScript, no cookies. The
language is `?lang=` when it names one of the desk's languages, else the browser's
Accept-Language, else the desk's default; links keep a chosen `?lang=`.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from aiohttp import web
from babel.dates import format_date
from jinja2 import Environment, FileSystemLoader, select_autoescape

from bot.i18n import Translator, guess_language
from bot.settings import LANGUAGES
from bot.texts.ratings import satisfaction_labels

if TYPE_CHECKING:
    from bot.runtime import Runtime

RUNTIME: web.AppKey[Runtime] = web.AppKey("board_runtime")
TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html", "xml"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
HEADERS = {
    "Cache-Control": "no-cache",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'",
}
LANGUAGE_NAMES = {"en": "English", "zh_Hans": "简体中文", "zh_Hant": "繁體中文", "ru": "Русский"}


def chosen_language(request: web.Request) -> str | None:
    """The language the visitor picked with `?lang=`, if it is one of ours: our own codes
    (`zh_Hans`) or a tag as the page's hreflang spells it (`zh-Hans`, `zh-TW`, any case)."""
    wanted = request.query.get("lang", "")[:35]
    found = wanted if wanted in LANGUAGES else guess_language(wanted, "")
    return found if found in LANGUAGES else None


def visitor_language(request: web.Request) -> str:
    """`?lang=`, else the first of Accept-Language's languages (by weight) that we speak."""
    default = request.app[RUNTIME].services.settings.default_language
    if chosen := chosen_language(request):
        return chosen
    weighted = []
    for position, part in enumerate(request.headers.get("Accept-Language", "").split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        try:
            weight = float(params.strip().removeprefix("q=")) if params else 1.0
        except ValueError:
            weight = 0.0
        if tag and weight > 0:
            weighted.append((-weight, position, tag.strip()))
    for _, _, tag in sorted(weighted):
        if found := guess_language(tag, ""):
            return found
    return default


def translator(request: web.Request) -> Translator:
    return request.app[RUNTIME].services.catalogs.get(visitor_language(request))


def link(request: web.Request, path: str, **params: Any) -> str:
    """A board address keeping the visitor's chosen language unless `lang` names another one;
    empty parameters left out."""
    wanted = {k: v for k, v in params.items() if v not in ("", None)}
    if "lang" not in wanted and (chosen := chosen_language(request)):
        wanted["lang"] = chosen
    return path + ("?" + urlencode(wanted) if wanted else "")


def day(moment: datetime | None, request: web.Request, language: str) -> str:
    if moment is None:
        return ""
    zone = request.app[RUNTIME].services.settings.zone
    return format_date(moment.astimezone(zone), "medium", locale=language)


def satisfaction(t: Translator, value: str | None) -> str:
    return satisfaction_labels(t).get(value, "") if value else ""


def render(
    request: web.Request, template: str, t: Translator, *, status: int = 200, **context: Any
) -> web.Response:
    languages = [
        (code, name, link(request, request.path, **{**_kept(request), "lang": code}))
        for code, name in LANGUAGE_NAMES.items()
    ]
    page = TEMPLATES.get_template(template).render(
        gettext=t.gettext,
        lang_tag=t.language.replace("_", "-"),
        language=t.language,
        languages=languages,
        home=link(request, "/board/"),
        feed=link(request, "/board/feed.xml"),
        **context,
    )
    return web.Response(
        text=page, status=status, content_type="text/html", charset="utf-8", headers=HEADERS
    )


def _kept(request: web.Request) -> dict[str, str]:
    return {k: v for k, v in request.query.items() if k in ("q", "category", "department", "page")}


def not_found(request: web.Request) -> web.Response:
    """The one page for every number that is not a published case (no hint of which)."""
    t = translator(request)
    return render(
        request,
        "message.html",
        t,
        status=404,
        title=t.gettext("No such case"),
        message=t.gettext("There is no published case with this number."),
    )


def too_many(request: web.Request, retry_after: int) -> web.Response:
    """More pages than a visitor may read a minute: 429, and when to come back."""
    t = translator(request)
    page = render(
        request,
        "message.html",
        t,
        status=429,
        title=t.gettext("Too many pages at once"),
        message=t.gettext(
            "Please wait {seconds} seconds before reading more of the board.", seconds=retry_after
        ),
    )
    page.headers["Retry-After"] = str(retry_after)
    return page
