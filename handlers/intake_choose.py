"""Intake, choosing: kind, area (domain), category, and the category's own questions."""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable
from datetime import date

from telegram import Update

from bot.context import MinshengContext
from bot.i18n import Translator
from handlers.common import send, who
from handlers.intake_data import KINDS, after_details, message_of, moved
from handlers.intake_prompts import DATE_EXAMPLE, ask, current_question, emergency_text, go
from storage.catalog import Question, categories_of, domains, emergency_info
from storage.drafts import DraftView, Step

TEXT_ANSWER_MAX = 500


async def reask(
    update: Update, context: MinshengContext, draft: DraftView, hint: Callable[[Translator], str]
) -> None:
    """Say what the step needs instead, and ask the step again with its keyboard."""
    _, t = await who(update, context)
    await send(update, context, hint(t))
    await ask(update, context, t, draft)


async def not_a_button(update: Update, context: MinshengContext, draft: DraftView) -> None:
    """Free text or media where a button is expected: say so and show the keyboard again."""
    await reask(
        update,
        context,
        draft,
        lambda t: t.gettext(
            "That is not what I need here; please choose one of the buttons below."
        ),
    )


async def pick_kind(
    update: Update, context: MinshengContext, t: Translator, draft: DraftView, arg: str
) -> str:
    if arg not in KINDS:
        return t.gettext("This button has expired.")
    await go(update, context, t, draft, after_details(draft, Step.DOMAIN), kind=arg)
    return ""


async def pick_domain(
    update: Update, context: MinshengContext, t: Translator, draft: DraftView, arg: str
) -> str:
    chosen = next((d for d in await domains() if str(d.id) == arg), None)
    if chosen is None:
        return t.gettext("This button has expired.")
    await go(update, context, t, draft, Step.CATEGORY, domain=chosen.code)
    return ""


async def pick_category(
    update: Update, context: MinshengContext, t: Translator, draft: DraftView, arg: str
) -> str:
    cats = await categories_of(str(draft.data.get("domain")))
    chosen = next((c for c in cats if str(c.id) == arg), None)
    if chosen is None:
        return t.gettext("This button has expired.")
    if chosen.emergency:  # diverted, never filed: the citizen may pick another category
        await send(update, context, emergency_text(t, await emergency_info()))
        await ask(update, context, t, draft)
        return ""
    changes = {"category": chosen.code, "location_required": chosen.location_required}
    await next_question(update, context, t, draft, 0, answers={}, **changes)
    return ""


async def go_back(
    update: Update, context: MinshengContext, t: Translator, draft: DraftView, arg: str
) -> str:
    await go(update, context, t, draft, Step.KIND if draft.step is Step.DOMAIN else Step.DOMAIN)
    return ""


async def next_question(
    update: Update,
    context: MinshengContext,
    t: Translator,
    draft: DraftView,
    index: int,
    **changes: object,
) -> None:
    """Ask question `index` of the category, or go on when there are no more."""
    ahead = moved(draft, Step.QUESTION, q=index, **changes)
    if await current_question(ahead) is not None:
        await go(update, context, t, draft, Step.QUESTION, q=index, **changes)
        return
    # The description may be in already: given first by a citizen not sure of the category.
    natural = Step.PHOTOS if ahead.data.get("description") else Step.DESCRIPTION
    await go(update, context, t, draft, after_details(ahead, natural), q=None, **changes)


async def answer(
    update: Update, context: MinshengContext, t: Translator, draft: DraftView, value: object
) -> None:
    question = await current_question(draft)
    answers = dict(draft.data.get("answers") or {})
    if question is not None and value is not None:
        answers[question.code] = value
    await next_question(
        update, context, t, draft, int(draft.data.get("q", 0)) + 1, answers=answers
    )


async def pick_choice(
    update: Update, context: MinshengContext, t: Translator, draft: DraftView, arg: str
) -> str:
    question = await current_question(draft)
    if question is None or question.type != "choice" or int(arg) >= len(question.choices):
        return t.gettext("This button has expired.")
    await answer(update, context, t, draft, question.choices[int(arg)].code)
    return ""


async def skip_question(
    update: Update, context: MinshengContext, t: Translator, draft: DraftView, arg: str
) -> str:
    question = await current_question(draft)
    if question is None or question.required:
        return t.gettext("This button has expired.")
    await answer(update, context, t, draft, None)
    return ""


async def on_question_input(update: Update, context: MinshengContext, draft: DraftView) -> None:
    """A typed answer to one of the category's questions: checked by its type, or re-asked."""
    question = await current_question(draft)
    if question is None or question.type == "choice":
        await not_a_button(update, context, draft)
        return
    text = message_of(update).text
    if text is None:
        await wrong_answer(update, context, draft, question)
        return
    _, t = await who(update, context)
    today = context.services.clock.now().astimezone(context.services.settings.zone).date()
    value = parse_answer(question, text, today)
    if value is None:
        await wrong_answer(update, context, draft, question)
        return
    await answer(update, context, t, draft, value)


async def wrong_answer(
    update: Update, context: MinshengContext, draft: DraftView, question: Question
) -> None:
    _, t = await who(update, context)
    await send(update, context, wanted(t, question))
    await ask(update, context, t, draft)


def wanted(t: Translator, question: Question) -> str:
    """The "that is not what I need here" answer of each question type."""
    if question.type == "number" and question.min is not None and question.max is not None:
        return t.gettext(
            "That is not what I need here; please send a number from {min} to {max}.",
            min=f"{question.min:g}",
            max=f"{question.max:g}",
        )
    if question.type == "number":
        return t.gettext("That is not what I need here; please send a number.")
    if question.type == "date":
        return t.gettext(
            "That is not what I need here; please send a date that is not in the future, "
            "for example {example}.",
            example=DATE_EXAMPLE,
        )
    return t.gettext(
        "That is not what I need here; please send a short text (up to {limit} characters).",
        limit=TEXT_ANSWER_MAX,
    )


def parse_answer(question: Question, text: str, today: date) -> object | None:
    """The typed value of an answer, or None if it is not what the question takes."""
    folded = unicodedata.normalize("NFKC", text).strip()
    if question.type == "number":
        return parse_number(folded, question.min, question.max)
    if question.type == "date":
        parsed = parse_date(folded)
        return parsed.isoformat() if parsed and date(1900, 1, 1) <= parsed <= today else None
    if question.type == "text":
        return folded if 0 < len(folded) <= TEXT_ANSWER_MAX else None
    return None


def parse_number(text: str, low: float | None, high: float | None) -> int | float | None:
    cleaned = text.replace(" ", "").replace("\u00a0", "")
    if cleaned.count(",") == 1 and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")
    if not re.fullmatch(r"[-+]?[0-9]+(\.[0-9]+)?", cleaned):
        return None
    value = float(cleaned)
    if not math.isfinite(value):
        return None
    if (low is not None and value < low) or (high is not None and value > high):
        return None
    return int(value) if value.is_integer() else value


_YMD = re.compile(r"(\d{4})\s*[-./年]\s*(\d{1,2})\s*[-./月]\s*(\d{1,2})\s*日?")
_DMY = re.compile(r"(\d{1,2})[./](\d{1,2})[./](\d{4})")


def parse_date(text: str) -> date | None:
    """2025-01-31, 2025/1/31, 2025年1月31日, or the Russian 31.01.2025."""
    if match := _YMD.fullmatch(text):
        year, month, day = (int(g) for g in match.groups())
    elif match := _DMY.fullmatch(text):
        day, month, year = (int(g) for g in match.groups())
    else:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None
