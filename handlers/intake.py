"""Filing a request: the entry ("New request"), intake's buttons, the summary's Submit and Edit,
Cancel, and "continue or discard?" when a command interrupts a request in progress.

The conversation's state is the citizen's Draft row (storage.drafts), never process memory; the
steps and their prompts are in intake_prompts, the step callbacks in intake_choose and
intake_details. Typed messages reach a step through handlers.steps.route_step.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.context import MinshengContext
from bot.i18n import Translator
from bot.texts.cases import when
from handlers.buttons import query_of
from handlers.case_card import case_data
from handlers.common import answer_button, send, user_of, who
from handlers.duplicates import join, offer_similar
from handlers.intake_choose import (
    go_back,
    pick_category,
    pick_choice,
    pick_domain,
    pick_kind,
    skip_question,
)
from handlers.intake_data import ACTION_STEPS, EDITS, data, parse
from handlers.intake_details import not_an_emergency, photos_done
from handlers.intake_prompts import ask, go, inline
from handlers.intake_publish import toggle_publish
from handlers.intake_unsure import not_sure, pick_suggested, show_list
from handlers.menu import main_menu
from handlers.rating_reopen import reason_cancelled
from storage.attachments import attachments_from_json
from storage.case_views import CategoryUnavailable
from storage.cases import (
    CaseKind,
    CaseLimitReached,
    CaseView,
    CitizenBlocked,
    FieldOutOfLimits,
    Location,
    NewCase,
    submit_case,
)
from storage.catalog import CategoryNotFound, category
from storage.drafts import INTAKE_STEPS, DraftView, Step, current_draft, discard_draft, set_draft
from storage.knowledge import filed
from storage.tracking import format_tracking_number

Button = Callable[[Update, MinshengContext, Translator, DraftView, str], Awaitable[str]]


async def on_new_request(update: Update, context: MinshengContext) -> None:
    """Start a new request at its first step: what kind of request it is."""
    citizen, t = await who(update, context)
    draft = await set_draft(citizen.id, Step.KIND, {}, now=context.services.clock.now())
    await ask(update, context, t, draft)


async def on_cancel(update: Update, context: MinshengContext) -> None:
    """/cancel: discard the request in progress (or whatever step the citizen was on)."""
    citizen, t = await who(update, context)
    draft = await current_draft(citizen.id)
    await discard_draft(citizen.id)
    if draft is not None and draft.step is Step.REOPEN_REASON:
        await reason_cancelled(update, context, draft)
    if draft is None:
        text = t.gettext("There is nothing to cancel.")
    elif draft.step in INTAKE_STEPS:
        text = t.gettext("Your unfinished request was discarded; nothing was filed.")
    else:
        text = t.gettext("Cancelled.")
    await send(update, context, text, markup=main_menu(t))


async def ask_continue_or_discard(update: Update, context: MinshengContext) -> None:
    """A command arrived in the middle of a request: keep going, or drop it?"""
    _, t = await who(update, context)
    text = t.gettext("You have a request in progress. Continue it, or discard it?")
    rows = [[(t.gettext("Continue"), data("go")), (t.gettext("Discard"), data("drop"))]]
    await send(update, context, text, markup=inline(rows))


async def on_intake_button(update: Update, context: MinshengContext) -> None:
    """Any intake button: checked against the draft's step, then handed to its action."""
    query = query_of(update)
    action = parse(query.data)
    _, t = await who(update, context)
    draft = await current_draft(user_of(update).id)
    if action is not None and action.verb == "submit" and draft is None:
        await answer_button(update, context, t.gettext("Already submitted."))
        return
    if action is None or draft is None or draft.step not in ACTION_STEPS[action.verb]:
        await answer_button(update, context, t.gettext("This button has expired."))
        return
    notice = await BUTTONS[action.verb](update, context, t, draft, action.arg)
    await answer_button(update, context, notice)


async def resume(
    update: Update, context: MinshengContext, t: Translator, draft: DraftView, arg: str
) -> str:
    await ask(update, context, t, draft)
    return ""


async def drop(
    update: Update, context: MinshengContext, t: Translator, draft: DraftView, arg: str
) -> str:
    await discard_draft(draft.citizen_id)
    text = t.gettext("Your unfinished request was discarded; nothing was filed.")
    await send(update, context, text, markup=main_menu(t))
    return ""


async def edit(
    update: Update, context: MinshengContext, t: Translator, draft: DraftView, arg: str
) -> str:
    step = EDITS[arg]
    changes: dict[str, object] = {"editing": True}
    if arg == "photos":
        changes["photos"] = []  # the citizen sends the photos they want again
        changes["attachments"] = []  # and the files
    if arg == "answers":
        changes["q"] = 0
        if not (await category(str(draft.data.get("category")))).questions:
            return t.gettext("This button has expired.")
    await go(update, context, t, draft, step, **changes)
    return ""


async def submit(
    update: Update, context: MinshengContext, t: Translator, draft: DraftView, arg: str
) -> str:
    """Submit: first the open requests like this one, to join instead (if there are any)."""
    if await offer_similar(update, context, t, draft):
        return ""
    return await file_anyway(update, context, t, draft, arg)


async def file_anyway(
    update: Update, context: MinshengContext, t: Translator, draft: DraftView, arg: str
) -> str:
    settings = context.services.settings
    try:
        case = await submit_case(
            new_case(draft),
            now=context.services.clock.now(),
            zone=settings.zone,
            daily_limit=settings.cases_per_day,
            staff_chat_id=settings.staff_chat_id,
            calendar=context.services.calendar,
            accept_hours=settings.accept_limit_hours,
            duplicate_distance_m=settings.duplicate_distance_m,
        )
    except CaseLimitReached as limit:
        n = limit.limit
        await send(
            update,
            context,
            t.ngettext(
                "You have reached the limit of {n} new request a day; please submit this one "
                "tomorrow. It is kept until then.",
                "You have reached the limit of {n} new requests a day; please submit this one "
                "tomorrow. It is kept until then.",
                n,
            ),
        )
        return ""
    except CitizenBlocked:
        await send(
            update,
            context,
            t.gettext(
                "Sorry, this desk cannot take new requests from "
                "you. Please call 12345 if you need help."
            ),
        )
        return ""
    except (CategoryUnavailable, CategoryNotFound):
        await send(
            update,
            context,
            t.gettext("That category is no longer available; please choose another."),
        )
        await go(update, context, t, draft, Step.DOMAIN, editing=True)
        return ""
    except FieldOutOfLimits as refused:
        # A draft kept from before the limits changed: that detail is asked for again.
        step = Step.DESCRIPTION if refused.field == "text" else Step.LOCATION
        await go(update, context, t, draft, step, editing=True)
        return ""
    await discard_draft(draft.citizen_id)
    if isinstance(offer := draft.data.get("kb_offer"), int):  # articles were offered first
        await filed(offer, case.tracking, now=context.services.clock.now())
    await confirm(update, context, t, case)
    return ""


async def skip(
    update: Update, context: MinshengContext, t: Translator, draft: DraftView, arg: str
) -> str:
    if draft.step is Step.QUESTION:
        return await skip_question(update, context, t, draft, arg)
    return await photos_done(update, context, t, draft, arg)


def new_case(draft: DraftView) -> NewCase:
    d = draft.data
    place = d.get("location") if isinstance(d.get("location"), dict) else None
    location = None
    if place is not None:
        location = Location(place.get("lat"), place.get("lon"), place.get("address"))
    return NewCase(
        citizen_id=draft.citizen_id,
        kind=CaseKind(d["kind"]),
        category_code=d["category"],
        text=d["description"],
        photos=tuple(d.get("photos") or ()),
        attachments=attachments_from_json(d.get("attachments")),
        location=location,
        answers=dict(d.get("answers") or {}),
        phone=d.get("phone"),
        anonymous=bool(d.get("anonymous")),
        publish_consent=bool(d.get("publish")),
    )


async def confirm(update: Update, context: MinshengContext, t: Translator, case: CaseView) -> None:
    """The answer in the same breath: the number, the category, and when an answer is due."""
    name = (await category(case.category_code)).name(t.language)
    lines = [
        t.gettext("Your request has been submitted."),
        t.gettext("Tracking number: {number}", number=format_tracking_number(case.tracking)),
        t.gettext("Category: {category}", category=name),
    ]
    if case.due_at is not None:
        due = when(case.due_at, context.services.settings.zone, t.language)
        lines.append(t.gettext("An answer is due by {due}.", due=due))
    lines.append(t.gettext("Keep the number: it lets you follow the request."))
    # Not through inline(): its cache would keep every new tracking number in memory.
    progress = InlineKeyboardButton(
        t.gettext("See its progress"), callback_data=case_data(case.tracking)
    )
    button = InlineKeyboardMarkup([[progress]])
    await send(update, context, "\n".join(lines), markup=button)


BUTTONS: dict[str, Button] = {
    "k": pick_kind,
    "d": pick_domain,
    "c": pick_category,
    "a": pick_choice,
    "back": go_back,
    "skip": skip,
    "done": photos_done,
    "notem": not_an_emergency,
    "e": edit,
    "submit": submit,
    "j": join,
    "file": file_anyway,
    "pub": toggle_publish,
    "cancel": drop,
    "go": resume,
    "drop": drop,
    "guess": not_sure,
    "s": pick_suggested,
    "list": show_list,
}
