"""Duplicates on the Telegram side: the offer to join a similar open request before filing, the
staff card's "Merge into N" buttons, a follower's view of a case, and their notices.

    summary ──Submit──▶ similar open requests? ──no──▶ filed (as always)
                              │ yes: up to three, each with "Join", and "File mine anyway"
                              ├──Join N──▶ following N: nothing filed, the draft ends
                              └──File mine anyway──▶ filed

The offer's buttons carry an index into the draft's list (`in:j:<i>`), never a number from the
client, so a forged or stale press can only name a request the citizen was shown.
"""

from __future__ import annotations

import re
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.context import MinshengApp, MinshengContext
from bot.i18n import Translator
from handlers.buttons import NUMBER_GROUP, ButtonHandler
from handlers.case_card import (
    case_data,
    category_name,
    department_name,
    event_name,
    page_data,
    short_category_name,
    status_name,
    when,
)
from handlers.common import send, user_of
from handlers.intake_data import data, save
from handlers.menu import main_menu
from handlers.notices import Rendered
from handlers.staff_cases import acted, mark_card, pressed
from storage.case_views import CaseClosed, CaseNotFound, CaseView, EventView, Location
from storage.drafts import DraftView, discard_draft
from storage.duplicates import CaseAlreadyYours, SimilarCase, join_case, similar_open_cases
from storage.lifecycle import merge_case
from storage.tracking import format_tracking_number

MERGE_PATTERN = re.compile(rf"^st:mrg:{NUMBER_GROUP}:{NUMBER_GROUP}\Z")
TIMELINE_LIMIT = 20


def merge_data(tracking: str, into: str) -> str:
    return f"st:mrg:{tracking}:{into}"  # 7 + 12 + 1 + 12 = 32 bytes


def _location(draft: DraftView) -> Location | None:
    place = draft.data.get("location")
    if not isinstance(place, dict) or place.get("lat") is None:
        return None
    return Location(float(place["lat"]), float(place["lon"]), place.get("address"))


async def offer_similar(
    update: Update, context: MinshengContext, t: Translator, draft: DraftView
) -> bool:
    """At Submit: show the open requests like this draft, if any (True: shown, not filed)."""
    services = context.services
    similar = await similar_open_cases(
        str(draft.data.get("category")), str(draft.data.get("description", "")), _location(draft),
        now=services.clock.now(), distance_m=services.settings.duplicate_distance_m,
        exclude_citizen=draft.citizen_id,
    )  # fmt: skip
    if not similar:
        return False
    await save(context, draft, draft.step, similar=[s.tracking for s in similar])
    lines = [t.gettext("Other citizens have already reported something similar:"), ""]
    rows = []
    for index, case in enumerate(similar):
        lines.append(await offer_line(case, t))
        label = t.gettext("Join {number}", number=format_tracking_number(case.tracking))
        rows.append([InlineKeyboardButton(label, callback_data=data("j", index))])
    lines += ["", t.gettext(
        "If one of them is your problem too, join it: you will be told of its every move, and "
        "it counts one more supporter. Otherwise file yours.")]  # fmt: skip
    rows.append([InlineKeyboardButton(t.gettext("File mine anyway"), callback_data=data("file"))])
    await send(update, context, "\n".join(lines), markup=InlineKeyboardMarkup(rows))
    return True


async def offer_line(case: SimilarCase, t: Translator) -> str:
    """One offered request: number, category, an excerpt, how far, how many support it."""
    number = format_tracking_number(case.tracking)
    name = await short_category_name(case.category_code, t.language)
    count = case.supporters + 1  # its own citizen, and those who joined
    if case.distance_m is None:
        head = t.ngettext(
            "{number} · {category} · {count} supporter",
            "{number} · {category} · {count} supporters",
            count, number=number, category=name, count=count,
        )  # fmt: skip
    else:
        head = t.ngettext(
            "{number} · {category} · {count} supporter · {metres} m away",
            "{number} · {category} · {count} supporters · {metres} m away",
            count, number=number, category=name, count=count, metres=round(case.distance_m),
        )  # fmt: skip
    return f"{head}\n“{case.excerpt}”"


async def join(
    update: Update, context: MinshengContext, t: Translator, draft: DraftView, arg: str
) -> str:
    """Join pressed: follow the shown request instead of filing; the draft ends."""
    shown = draft.data.get("similar")
    index = int(arg)
    if not isinstance(shown, list) or index >= len(shown):
        return t.gettext("This button has expired.")
    tracking = str(shown[index])
    try:
        _, joined = await join_case(tracking, draft.citizen_id, now=context.services.clock.now())
    except (CaseClosed, CaseNotFound, CaseAlreadyYours):
        await save(context, draft, draft.step, similar=None)
        return t.gettext("That request has ended meanwhile. Please press Submit again.")
    await discard_draft(draft.citizen_id)
    if not joined:
        number = format_tracking_number(tracking)
        await send(update, context, t.gettext("You already follow request {number}.",
                                              number=number), markup=main_menu(t))  # fmt: skip
    return ""


# -- The staff card: possible duplicates, and Merge ------------------------------------------


def duplicate_rows(tracking: str, duplicates: list[str], t: Translator) -> list[list[Any]]:
    """A "Merge into N" button for each possible duplicate of the case (as dicts, for a card)."""
    return [
        [{"text": t.gettext("Merge into {number}", number=format_tracking_number(other)),
          "callback_data": merge_data(tracking, other)}]
        for other in duplicates
    ]  # fmt: skip


def duplicate_line(duplicates: list[str], t: Translator) -> str:
    numbers = ", ".join(format_tracking_number(other) for other in duplicates)
    return t.gettext("Possible duplicate of: {numbers}", numbers=numbers)


async def on_merge(update: Update, context: MinshengContext) -> None:
    """Merge into N pressed: merge the card's case into N (storage checks who may)."""
    if (got := await pressed(update, context, MERGE_PATTERN)) is None:
        return
    found, t = got
    tracking, into = found.group(1), found.group(2)
    act = merge_case(tracking, into, by=user_of(update).id, now=context.services.clock.now())
    if (case := await acted(update, context, act, t)) is not None:
        done = t.gettext("Merged by {name} into {number}", name=user_of(update).first_name,
                         number=format_tracking_number(into))  # fmt: skip
        await mark_card(update, context, case, t, done)


def handlers(app: MinshengApp) -> list[Any]:
    """The staff card's Merge buttons, for register() (before the "expired" catch-all)."""
    return [ButtonHandler(on_merge, pattern=MERGE_PATTERN)]


# -- A follower's view and notices -------------------------------------------------------------


async def follower_card(
    case: CaseView, timeline: list[EventView], t: Translator, context: MinshengContext
) -> tuple[str, InlineKeyboardMarkup]:
    """What a follower sees of a case they joined: where it stands, not who wrote it."""
    zone = context.services.settings.zone
    lines = [
        t.gettext("Request {number} (you follow it)",
                  number=format_tracking_number(case.tracking)),
        t.gettext("Status: {status}", status=status_name(t, case.status)),
        t.gettext("Category: {category}",
                  category=await category_name(case.category_code, t.language)),
        t.gettext("Department: {department}",
                  department=await department_name(case.department_code, t)),
    ]  # fmt: skip
    if case.due_at is not None:
        lines.append(t.gettext("Due by: {due}", due=when(case.due_at, zone, t.language)))
    lines += ["", t.gettext("What happened so far:")]
    lines += [
        f"• {when(event.created_at, zone, t.language)} — {event_name(t, event)}"
        for event in timeline[-TIMELINE_LIMIT:]
        if event.kind not in ("citizen_added", "rated")  # the other citizen's own doings
    ]
    back = InlineKeyboardButton(t.gettext("« My requests"), callback_data=page_data(0))
    return "\n".join(lines), InlineKeyboardMarkup([[back]])


async def render_case_joined(params: dict[str, Any], t: Translator) -> Rendered:
    """ "case_joined" {tracking}: the citizen now follows the case instead of filing their own."""
    tracking = str(params["tracking"])
    text = t.gettext(
        "You joined request {number}; nothing new was filed. You will be told of its every "
        "move. Look it up any time with /status {number}.",
        number=format_tracking_number(tracking))  # fmt: skip
    label = t.gettext("Follow this request")
    markup = InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=case_data(tracking))]]
    )
    return Rendered("sendMessage", {"text": text, "reply_markup": markup.to_dict()})


async def render_followed_case_answered(params: dict[str, Any], t: Translator) -> Rendered:
    """ "followed_case_answered" {tracking, text}: the answer, for a follower (no rating)."""
    head = t.gettext("The answer to request {number}, which you follow:",
                     number=format_tracking_number(str(params["tracking"])))  # fmt: skip
    reply = str(params["text"])
    room = 4096 - len(head) - 2
    if len(reply) > room:
        reply = reply[: room - 1] + "…"
    return Rendered("sendMessage", {"text": f"{head}\n\n{reply}"})
