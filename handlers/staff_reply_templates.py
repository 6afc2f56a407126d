"""A reply or question from a template (答复模板): `/reply <number> t:<code>` and
`/ask <number> t:<code>`, shown for editing first.

    /reply N t:code ──▶ draft (the filled text) ──Send──▶ submitted as any reply (review, the
    /ask N t:code        │                         │      perfunctory check: "template:<code>"),
         │               │                         └────▶ or asked as any question
         │               └──Edit──▶ the text as a command to copy, change and send
         └── t: alone, or an unknown code ──▶ the codes that fit the case

/reply takes the "answered" and "rejected" templates, /ask the "asked" ones. A reply draft's
first line ends with the case number, so in the staff chat a Telegram reply to it with the
changed text is a reply to the case too (handlers.staff_work_reply); a question draft's does
not (a reply to it must not become an answer). Send fills the template again from storage (the
button carries the code, never the text). Every step is authorized by storage for the case:
staff of another department learn nothing of it.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CommandHandler, filters

from bot.context import MinshengApp, MinshengContext
from bot.delivery import TEXT_LIMIT, split_text, utf16_length
from bot.i18n import Translator
from bot.texts.refusals import refusal
from bot.texts.reply_templates import case_language, fill, outcome_name
from handlers.buttons import NUMBER_GROUP, ButtonHandler
from handlers.common import answer_button, send, user_of, who
from handlers.reply_submission import submit
from handlers.staff_kit import mark_pressed, outcome, pressed, shown, staff_filter, stamp
from storage.case_views import CaseNotFound, CaseView
from storage.cases import case_by_tracking
from storage.lifecycle import ask_citizen
from storage.reply_templates import REPLY_OUTCOMES, TemplateView, templates_for
from storage.staff import StaffAction, StaffNotAuthorized, authorize
from storage.tracking import canonical_or_none

PREFIX = "t:"
COMMAND = re.compile(r"^/(?:reply|ask)(?:@\w+)?\s+\S+\s+t:", re.IGNORECASE)
# rt:<r reply | a ask>:<s send | e edit>:<number>:<code>
BUTTON_PATTERN = re.compile(rf"^rt:([ra]):([se]):{NUMBER_GROUP}:([a-z0-9.-]{{1,40}})\Z")
EXCERPT = 60


@dataclass(frozen=True)
class Use:
    """What a template is used for: the command, its letter in button data, the outcomes it
    offers, and the staff action storage authorizes."""

    command: str
    letter: str
    outcomes: Sequence[str]
    action: StaffAction


REPLY = Use("reply", "r", REPLY_OUTCOMES, StaffAction.REPLY)
ASK = Use("ask", "a", ("asked",), StaffAction.ASK)
USES = {use.letter: use for use in (REPLY, ASK)}


async def for_case(
    update: Update, context: MinshengContext, t: Translator, number: str, use: Use
) -> CaseView | None:
    """The case, once this staff member may act on it; None once the refusal is told."""
    try:
        now = context.services.clock.now()
        await authorize(user_of(update).id, use.action, number, now=now)
        return await case_by_tracking(canonical_or_none(number) or number)
    except (StaffNotAuthorized, CaseNotFound) as refused:
        await send(update, context, refusal(t, number, refused))
    return None


async def filled(context: MinshengContext, view: TemplateView, case: CaseView) -> str:
    """The template in the case's citizen's language, filled in."""
    settings = context.services.settings
    default = settings.default_language
    language = await case_language(case, default)
    return await fill(view, case, language=language, default=default, zone=settings.zone)


async def on_template_command(update: Update, context: MinshengContext) -> None:
    """/reply or /ask <number> t:<code>: the filled template with Send and Edit, or the codes."""
    _, t = await who(update, context)
    message = update.effective_message
    use = ASK if message is not None and (message.text or "").lower().startswith("/ask") else REPLY
    args = list(context.args or [])
    number, code = args[0], args[1][len(PREFIX) :].lower()
    if (case := await for_case(update, context, t, number, use)) is None:
        return
    fitting = await templates_for(case.category_code, use.outcomes)
    view = next((v for v in fitting if v.code == code), None)
    if view is None:
        await send(update, context, listing(t, case, fitting, code, use))
        return
    number = shown(case.tracking)
    lines = [
        t.gettext("Draft reply to {number}", number=number)
        if use is REPLY
        else t.gettext("Draft question for {number}:", number=number),
        t.gettext("From the template “{code}”: send it as it is, or edit it first.", code=code),
        "",
        await filled(context, view, case),
    ]
    if len(args) > 2:
        lines += ["", t.gettext("The words after the code were left out: edit to add them.")]
    await send(update, context, "\n".join(lines)[:4096], markup=draft_keyboard(t, case, code, use))


def draft_keyboard(t: Translator, case: CaseView, code: str, use: Use) -> InlineKeyboardMarkup:
    data = f"{case.tracking}:{code}"
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(t.gettext("Send"), callback_data=f"rt:{use.letter}:s:{data}"),
                InlineKeyboardButton(t.gettext("Edit"), callback_data=f"rt:{use.letter}:e:{data}"),
            ]
        ]
    )


def listing(
    t: Translator, case: CaseView, fitting: list[TemplateView], code: str, use: Use
) -> str:
    """The templates that fit the case, one per line as `t:<code>` and how it begins."""
    number = shown(case.tracking)
    lines = []
    if code:
        line = t.gettext("There is no template “{code}” for {number}.", code=code, number=number)
        lines.append(line)
    if not fitting:
        lines.append(t.gettext("No template fits request {number}.", number=number))
        return "\n".join(lines)
    lines.append(
        t.gettext("Templates for {number}: send /reply {number} t:<code>", number=number)
        if use is REPLY
        else t.gettext("Templates for {number}: send /ask {number} t:<code>", number=number)
    )
    for view in fitting:
        body = " ".join(view.texts.get(t.language, next(iter(view.texts.values()), "")).split())
        cut = body if len(body) <= EXCERPT else body[: EXCERPT - 1] + "…"
        lines.append(f"t:{view.code} · {outcome_name(t, view.outcome)} · {cut}")
    return "\n".join(lines)[:4096]


async def on_draft_button(update: Update, context: MinshengContext) -> None:
    """Send or Edit pressed on a draft: the template is filled in again from storage."""
    if (got := await pressed(update, context, BUTTON_PATTERN)) is None:
        return
    found, t = got
    await answer_button(update, context)
    use, tracking, code = USES[found.group(1)], found.group(3), found.group(4)
    if (case := await for_case(update, context, t, tracking, use)) is None:
        return
    fitting = await templates_for(case.category_code, use.outcomes)
    view = next((v for v in fitting if v.code == code), None)
    if view is None:  # made inactive since the draft was shown
        await send(update, context, listing(t, case, fitting, code, use))
        return
    text = await filled(context, view, case)
    if found.group(2) == "e":
        await send_editable(update, context, t, case, text, use)
    elif await sent(update, context, t, case, text, use):
        name = user_of(update).first_name
        await mark_pressed(update, context, t.gettext("Sent by {name}", name=name))


async def sent(
    update: Update, context: MinshengContext, t: Translator, case: CaseView, text: str, use: Use
) -> bool:
    """Send the filled template as the reply or the question; whether it went."""
    if use is REPLY:
        return await submit(update, context, t, case.tracking, text) is not None
    asked = await outcome(
        update,
        context,
        t,
        case.tracking,
        lambda: ask_citizen(case.tracking, text, **stamp(context, update)),
        lambda done: t.gettext(
            "Your question on {number} was sent to the citizen.", number=shown(done.tracking)
        ),
    )
    return asked is not None


async def send_editable(
    update: Update, context: MinshengContext, t: Translator, case: CaseView, text: str, use: Use
) -> None:
    """The text as a command to copy, change and send (a block Telegram copies in one tap)."""
    command = f"/{use.command} {shown(case.tracking)} {text}"
    how = (
        t.gettext(
            "Copy the command below, change the text and send it: what you send goes to the "
            "citizen instead of the template. In the staff chat you may also reply to the draft "
            "with the changed text."
        )
        if use is REPLY
        else t.gettext(
            "Copy the command below, change the text and send it: what you send goes to the "
            "citizen instead of the template."
        )
    )
    # Cut as Telegram counts (the text shown, in UTF-16 units) before escaping: cutting the
    # escaped markup could lose its closing </pre>.
    room = TEXT_LIMIT - utf16_length(f"{how}\n\n")
    shown_command = split_text(command, room)[0]
    body = f"{html.escape(how)}\n\n<pre>{html.escape(shown_command)}</pre>"
    await send(update, context, body, parse_mode="HTML")


def handlers(app: MinshengApp) -> list[Any]:
    """/reply and /ask with a template (before the plain ones) and the draft's buttons."""
    with_template = staff_filter(app) & filters.Regex(COMMAND)
    return [
        CommandHandler(("reply", "ask"), on_template_command, filters=with_template),
        ButtonHandler(on_draft_button, pattern=BUTTON_PATTERN),
    ]
