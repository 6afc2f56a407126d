"""What intake says at each step: the prompt and its keyboard, sent again whenever re-asked.

KIND → DOMAIN ⇄ CATEGORY → QUESTION (each of the category's own, if any) → DESCRIPTION
     → PHOTOS → LOCATION → CONTACT → SUMMARY → (submit: a case; cancel: nothing)
At Submit, open requests like this one are offered to join instead (handlers.duplicates).
"Not sure" at DOMAIN or CATEGORY: DESCRIPTION first, then SUGGEST (handlers.intake_suggest).
DOMAIN and CATEGORY have Back; SUMMARY's Edit jumps to a step and comes back after it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import lru_cache

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    Update,
)

from bot.context import MinshengContext
from bot.i18n import Translator
from handlers.common import send
from handlers.intake_data import KINDS, data, save
from handlers.intake_suggest import ask_described_first, ask_suggest, unsure_button
from handlers.intake_summary import kind_name, publish_explained, publish_label, summary_text
from handlers.menu import main_menu
from storage.attachments import FILE_MAX_BYTES, VOICE_MAX_SECONDS
from storage.cases import DESCRIPTION_MAX, DESCRIPTION_MIN
from storage.catalog import EmergencyInfo, Question, categories_of, category, domains
from storage.drafts import DraftView, Step

MAX_PHOTOS = 5
DATE_EXAMPLE = "2025-01-31"  # the form intake_choose.parse_date reads in every language
Ask = Callable[[Update, MinshengContext, Translator, DraftView], Awaitable[None]]


def inline(rows: list[list[tuple[str, str]]]) -> InlineKeyboardMarkup:
    return _keyboard(tuple(tuple(row) for row in rows))


@lru_cache(maxsize=256)  # frozen objects: one serves all messages with these buttons (~25 µs each)
def _keyboard(rows: tuple[tuple[tuple[str, str], ...], ...]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=cb) for label, cb in row] for row in rows]
    )


def back_row(t: Translator) -> list[tuple[str, str]]:
    return [(t.gettext("« Back"), data("back"))]


def skip_label(t: Translator) -> str:
    return t.gettext("Skip")


def anonymous_label(t: Translator) -> str:
    return t.gettext("Stay anonymous")


def emergency_text(t: Translator, info: EmergencyInfo) -> str:
    lines = "\n".join(f"☎ {n.number} — {n.name(t.language)}" for n in info.numbers)
    return t.gettext(
        "This desk is not for emergencies. If life, health or property is in danger right now, "
        "call at once:\n{numbers}",
        numbers=lines,
    )


async def ask_kind(update: Update, context: MinshengContext, t: Translator, d: DraftView) -> None:
    rows = [[(kind_name(t, k), data("k", k)) for k in KINDS[:2]]]
    rows.append([(kind_name(t, k), data("k", k)) for k in KINDS[2:]])
    text = t.gettext(
        "What would you like to send: a complaint, a report, an inquiry or a suggestion?"
    )
    await send(update, context, text, markup=inline(rows))


async def ask_domain(
    update: Update, context: MinshengContext, t: Translator, d: DraftView
) -> None:
    areas = await domains()
    rows = [[(a.name(t.language), data("d", a.id))] for a in areas]
    text = t.gettext("What is it about? Choose an area.")
    await send(update, context, text, markup=inline([*rows, [*back_row(t), unsure_button(t)]]))


async def ask_category(
    update: Update, context: MinshengContext, t: Translator, d: DraftView
) -> None:
    cats = await categories_of(str(d.data.get("domain")))
    rows = [[(c.name(t.language), data("c", c.id))] for c in cats]
    text = t.gettext("Which of these fits best?")
    await send(update, context, text, markup=inline([*rows, [*back_row(t), unsure_button(t)]]))


async def current_question(d: DraftView) -> Question | None:
    questions = (await category(str(d.data.get("category")))).questions
    index = int(d.data.get("q", 0))
    return questions[index] if index < len(questions) else None


async def ask_question(
    update: Update, context: MinshengContext, t: Translator, d: DraftView
) -> None:
    question = await current_question(d)
    if question is None:
        return
    rows = []
    if question.type == "choice":
        rows = [[(c.name(t.language), data("a", i))] for i, c in enumerate(question.choices)]
    if not question.required:
        rows.append([(skip_label(t), data("skip"))])
    text = question.prompt(t.language)
    if question.type == "date":  # the format is said with the question, not after a slip
        text += "\n" + date_format_hint(t)
    await send(update, context, text, markup=inline(rows) if rows else None)


def date_format_hint(t: Translator) -> str:
    return t.gettext(
        "Please write the date as year-month-day, for example {example}.", example=DATE_EXAMPLE
    )


async def ask_description(
    update: Update, context: MinshengContext, t: Translator, d: DraftView
) -> None:
    if d.data.get("guess"):  # "Not sure" of the category: the description comes first
        await ask_described_first(update, context, t, d)
        return
    text = t.gettext(
        "Please describe the matter in your own words: what happened, where and since when "
        "({min} to {max} characters). You may also send a photo with the description as its "
        "caption.",
        min=DESCRIPTION_MIN,
        max=DESCRIPTION_MAX,
    )
    await send(update, context, text)


async def ask_photos(
    update: Update, context: MinshengContext, t: Translator, d: DraftView
) -> None:
    text = t.gettext(
        "You may send up to {limit} photos of the problem, and voice messages (up to {minutes} "
        "minutes), videos (up to {mb} MB) or documents (PDF or pictures); press Done when you "
        "have sent them, or Skip.",
        limit=MAX_PHOTOS,
        minutes=VOICE_MAX_SECONDS // 60,
        mb=FILE_MAX_BYTES // (1024 * 1024),
    )
    rows = [[(t.gettext("Done"), data("done")), (skip_label(t), data("skip"))]]
    await send(update, context, text, markup=inline(rows))


async def ask_location(
    update: Update, context: MinshengContext, t: Translator, d: DraftView
) -> None:
    share = KeyboardButton(t.gettext("📍 Share my location"), request_location=True)
    if d.data.get("location_required"):
        text = t.gettext(
            "Where is it? This kind of request needs a place: share your location "
            "with the button below, or type the address."
        )
        keys = [[share]]
    else:
        text = t.gettext(
            "Where is it? Share your location with the button below, type the "
            "address, or press Skip."
        )
        keys = [[share], [KeyboardButton(skip_label(t))]]
    markup = ReplyKeyboardMarkup(keys, resize_keyboard=True, one_time_keyboard=True)
    await send(update, context, text, markup=markup)


async def ask_contact(
    update: Update, context: MinshengContext, t: Translator, d: DraftView
) -> None:
    share = KeyboardButton(t.gettext("📱 Share my phone number"), request_contact=True)
    keys = [[share], [KeyboardButton(anonymous_label(t))]]
    markup = ReplyKeyboardMarkup(keys, resize_keyboard=True, one_time_keyboard=True)
    text = t.gettext(
        "How may staff reach you? Share your phone number with the button below, "
        "or stay anonymous: staff will still answer you here."
    )
    await send(update, context, text, markup=markup)


async def ask_summary(
    update: Update, context: MinshengContext, t: Translator, d: DraftView
) -> None:
    # The summary holds what the citizen typed: plain text, no parse_mode, so it stays data.
    await send(update, context, await summary_text(t, d), markup=main_menu(t))
    question = t.gettext("Is everything right? Submit it, change a part, or cancel.")
    question = "\n\n".join((question, publish_explained(t)))
    await send(update, context, question, markup=summary_keyboard(t, d))


def summary_keyboard(t: Translator, d: DraftView) -> InlineKeyboardMarkup:
    """The summary's buttons: change a part, the publish toggle as the draft has it, submit."""
    e = "e"
    rows = [
        [
            (t.gettext("Edit kind"), data(e, "kind")),
            (t.gettext("Edit category"), data(e, "category")),
        ],
        [
            (t.gettext("Edit description"), data(e, "description")),
            (t.gettext("Edit photos and files"), data(e, "photos")),
        ],
        [
            (t.gettext("Edit place"), data(e, "location")),
            (t.gettext("Edit contact"), data(e, "contact")),
        ],
    ]
    if d.data.get("answers"):
        rows.insert(1, [(t.gettext("Edit answers"), data(e, "answers"))])
    rows.append([(publish_label(t, bool(d.data.get("publish"))), data("pub"))])
    rows.append([(t.gettext("✅ Submit"), data("submit")), (t.gettext("Cancel"), data("cancel"))])
    return inline(rows)


ASKS: dict[Step, Ask] = {
    Step.KIND: ask_kind,
    Step.DOMAIN: ask_domain,
    Step.CATEGORY: ask_category,
    Step.QUESTION: ask_question,
    Step.DESCRIPTION: ask_description,
    Step.PHOTOS: ask_photos,
    Step.LOCATION: ask_location,
    Step.CONTACT: ask_contact,
    Step.SUMMARY: ask_summary,
    Step.SUGGEST: ask_suggest,
}


async def ask(update: Update, context: MinshengContext, t: Translator, draft: DraftView) -> None:
    """Send the prompt and keyboard of the draft's step (again)."""
    asker = ASKS.get(draft.step)
    if asker is not None:
        await asker(update, context, t, draft)


async def go(
    update: Update,
    context: MinshengContext,
    t: Translator,
    draft: DraftView,
    step: Step,
    **changes: object,
) -> DraftView:
    """Move the draft to `step` (with changes) and ask it; reaching the summary ends an edit."""
    if step is Step.SUMMARY:
        changes["editing"] = None
        changes["similar"] = None  # an offer of similar requests is made afresh at Submit
    moved = await save(context, draft, step, **changes)
    await ask(update, context, t, moved)
    return moved
