"""The case page's reply-template picker: choose a template and it fills the reply box.

Without JavaScript, a GET form (`?tpl=<code>`) reloads the case page with the template filled
in for the case, in its citizen's language, in the reply text area. With it, a small script
(served from here; the case page's CSP allows scripts from this origin only) fills the box in
place from the option's filled text. Either way the staff member adapts and sends it as any
reply (review, and the perfunctory mark of a template sent with nothing added). Only the
templates that fit the case's category are offered, its own first.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from bot.dashboard.pages import HEADERS
from bot.i18n import Translator
from bot.texts.reply_templates import case_language, fill, outcome_name, text_language
from storage.case_views import CaseView
from storage.reply_templates import REPLY_OUTCOMES, TemplateView, templates_for

SCRIPT = (Path(__file__).parent / "template_picker.js").read_text(encoding="utf-8")
SCRIPT_PATH = "/web/template-picker.js"
CSP = HEADERS["Content-Security-Policy"] + "; script-src 'self'"
LABEL_LENGTH = 48  # characters of a template's first words in the picker
_GREETING = re.compile(r"[^:：]{0,80}[:：]\s*")


async def template_picker(
    case: CaseView, t: Translator, default: str, zone: ZoneInfo, chosen: str
) -> dict[str, Any]:
    """The picker's choices ((code, label, filled text)), its category's own first, and the
    reply box's text when one was chosen."""
    fitting = await templates_for(case.category_code, REPLY_OUTCOMES)
    language = await case_language(case, default)
    choices = []
    for view in fitting:
        words = await _first_words(view, case, t.language, default, zone)
        label = f"{words} — {outcome_name(t, view.outcome)} · {view.code}"
        text = await fill(view, case, language=language, default=default, zone=zone)
        choices.append((view.code, label + (" ★" if view.category_code else ""), text))
    found: dict[str, Any] = {"tpl_choices": choices, "tpl_chosen": "", "tpl_script": SCRIPT_PATH}
    for code, _, text in choices:
        if code == chosen:
            found |= {"tpl_chosen": chosen, "reply_text": text}
    return found


async def _first_words(
    view: TemplateView, case: CaseView, language: str, default: str, zone: ZoneInfo
) -> str:
    """What the template says, for the staff member who picks it: its first words in their
    language, after the greeting that only names the request ("Regarding {number}: ")."""
    lang = text_language(view, language, default)
    said = view.texts.get(lang, "")
    greeting = _GREETING.match(said)
    if greeting and "{number}" in greeting.group(0):
        said = said[greeting.end() :]
    filled = await fill(
        replace(view, texts={lang: said}), case, language=lang, default=default, zone=zone
    )
    flat = " ".join(filled.split())
    if len(flat) <= LABEL_LENGTH:
        return flat
    cut = flat[: LABEL_LENGTH - 1]
    if " " in cut[LABEL_LENGTH // 2 :]:  # a language with spaces: end on a whole word
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:，；：") + "…"


def with_picker_script(response: web.Response) -> web.Response:
    """The case page may run the picker's script, from this origin."""
    response.headers["Content-Security-Policy"] = CSP
    return response


async def script(request: web.Request) -> web.StreamResponse:
    return web.Response(
        text=SCRIPT,
        content_type="text/javascript",
        charset="utf-8",
        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
    )


def routes(app: web.Application) -> None:
    app.router.add_get(SCRIPT_PATH, script)
