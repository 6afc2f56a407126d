"""The phone page's answers from the knowledge base: suggested as the call-taker types, and
"Answered on the call" (直接答复), which records the call as answered at once, with no case.

Without JavaScript, "Find answers" posts the form and the page comes back with what was typed
and the articles beside it. With it, a small script (served from here: the page's CSP allows
scripts from this origin only) posts to /web/kb-suggest as the clerk types and fills the same
list. What the caller says goes in the POST body, never in a URL (proxies and browser history
keep URLs), with the page's CSRF token; the route is staff-only and answers JSON only: a caller
who is not signed in gets 401, a missing or wrong token 403, and nothing is searched. A case
filed after articles were shown is recorded as an offer "filed anyway", naming the case
(storage.kb_offers.filed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.dashboard.pages import HEADERS, translator_for
from bot.dashboard.session import RUNTIME, csrf_ok, current_staff
from bot.forms import FormUnreadable, read_form
from bot.i18n import Translator
from storage.cases import NewCase
from storage.knowledge import ArticleView, answered_on_call, filed, open_offer, search
from storage.staff import StaffView

SUGGESTED = 5
QUERY_MIN, QUERY_MAX = 2, 3000
SCRIPT = (Path(__file__).parent / "kb_suggest.js").read_text(encoding="utf-8")
CSP = HEADERS["Content-Security-Policy"] + "; script-src 'self'; connect-src 'self'"
NO_STORE = {"Cache-Control": "no-store"}


@dataclass(frozen=True)
class Answer:
    """What the knowledge base gave for the call: the suggestions shown, the page's line, its
    status, and whether the call was recorded as answered (then the form is cleared)."""

    suggestions: list[dict[str, str]] = field(default_factory=list)
    line: str = ""
    status: int = 200
    done: bool = False


def _shown(view: ArticleView) -> dict[str, str]:
    return {"code": view.code, "title": view.title, "body": view.body}


async def suggestions(request: web.Request, text: str, language: str) -> list[ArticleView]:
    """The articles that may answer what the caller says, best first ([] for too little)."""
    if not QUERY_MIN <= len(text.strip()) <= QUERY_MAX:
        return []
    default = request.app[RUNTIME].services.settings.default_language
    return await search(text, language, default, limit=SUGGESTED)


async def answer_from_articles(
    request: web.Request, staff: StaffView, t: Translator, text: str, chosen: str | None
) -> Answer:
    """Find answers (`chosen` None), or record the call answered with the chosen article."""
    found = await suggestions(request, text, t.language)
    shown = [_shown(view) for view in found]
    if chosen is None:
        line = "" if found else t.gettext("No article fits what the caller says.")
        return Answer(shown, line)
    codes = [view.code for view in found]
    if chosen not in codes:
        return Answer(shown, t.gettext("Please choose the article that answered the caller."), 400)
    picked = next(view for view in found if view.code == chosen)
    await answered_on_call(
        codes,
        chosen,
        staff_id=staff.user_id,
        language=t.language,
        now=request.app[RUNTIME].services.clock.now(),
    )
    line = t.gettext(
        "Recorded: the call was answered on the spot with “{title}”. No case was filed.",
        title=picked.title,
    )
    return Answer([], line, 200, done=True)


async def filed_after_offer(
    request: web.Request, staff: StaffView, t: Translator, new: NewCase, tracking: str
) -> None:
    """The call-taker looked for answers and filed the case anyway: the articles the text
    brings are recorded as offered on the phone, and the offer as filed (a gap to fill)."""
    found = await suggestions(request, new.text, t.language)
    if not found:
        return
    now = request.app[RUNTIME].services.clock.now()
    offer = await open_offer(
        "phone",
        [view.code for view in found],
        language=t.language,
        now=now,
        staff_id=staff.user_id,
        kind=new.kind.value,
        category_code=new.category_code,
    )
    await filed(offer, tracking, now=now)


def with_suggestion_script(response: web.Response) -> web.Response:
    """The phone page may run its one script, from this origin, and fetch from it."""
    response.headers["Content-Security-Policy"] = CSP
    return response


async def suggest(request: web.Request) -> web.StreamResponse:
    """JSON for the script: the articles for the posted `q`, in the call-taker's language."""
    staff = await current_staff(request)
    if staff is None:
        return web.json_response({"error": "not signed in"}, status=401, headers=NO_STORE)
    try:
        form = await read_form(request)
    except FormUnreadable:
        return web.json_response({"error": "unreadable form"}, status=400, headers=NO_STORE)
    if not csrf_ok(request, str(form.get("csrf", ""))):
        return web.json_response({"error": "expired form"}, status=403, headers=NO_STORE)
    t = await translator_for(request, staff)
    found = await suggestions(request, str(form.get("q", ""))[:QUERY_MAX], t.language)
    body: list[dict[str, Any]] = [_shown(view) for view in found]
    return web.json_response(body, headers=NO_STORE)


async def script(request: web.Request) -> web.StreamResponse:
    return web.Response(
        text=SCRIPT,
        content_type="text/javascript",
        charset="utf-8",
        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
    )


def routes(app: web.Application) -> None:
    app.router.add_post("/web/kb-suggest", suggest)
    app.router.add_get("/web/static/kb-suggest.js", script)
