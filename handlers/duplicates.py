"""Duplicates on the Telegram side: the offer to join a similar open request before filing, the
staff card's "Merge into N" buttons, and what a follower sees of a request they follow (their
notices: handlers.follower_notices).

    summary ──Submit──▶ similar open requests? ──no──▶ filed (as always)
                              │ yes: up to three, each with "Join", and "File mine anyway"
                              ├──Join N──▶ following N: nothing filed, the draft ends
                              └──File mine anyway──▶ filed

An offered request is someone else's: the offer names its category, status, age, supporters and
whether it is nearby, and a published request's public text; never its citizen's words or how
far away it is. The offer's buttons carry an index into the draft's list (`in:j:<i>`), never a
number from the client, so a forged or stale press can only name a request the citizen was shown.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.context import MinshengApp, MinshengContext
from bot.i18n import Translator
from bot.texts.cases import (
    category_name,
    department_name,
    event_name,
    short_category_name,
    status_name,
    when,
)
from bot.texts.citizen_case import AWAITING_ANSWER
from bot.texts.refusals import merge_refusal
from handlers.buttons import NUMBER_GROUP, ButtonHandler
from handlers.case_card import page_data
from handlers.common import answer_button, send, user_of
from handlers.intake_data import data, save
from handlers.menu import main_menu
from handlers.staff_kit import acted, mark_card, pressed
from storage.case_views import CaseClosed, CaseNotFound, EventView, Location
from storage.drafts import DraftView, discard_draft
from storage.duplicates import CaseAlreadyYours, SimilarCase, join_case, similar_open_cases
from storage.followers import FollowedCase
from storage.lifecycle import MergeRefused, merge_case
from storage.models import CaseStatus
from storage.tracking import format_tracking_number

MERGE_PATTERN = re.compile(rf"^st:mrg:{NUMBER_GROUP}:{NUMBER_GROUP}\Z")
TIMELINE_LIMIT = 20
# The events a follower sees by name: the request's moves. Not the other citizen's own doings
# (their additions, answers to questions, rating, withdrawal), nor the department's questions.
FOLLOWER_EVENTS = frozenset(
    {"submitted", "accepted", "answered", "closed", "rejected", "merged", "reopened", "joined"}
)


def merge_data(tracking: str, into: str) -> str:
    return f"st:mrg:{tracking}:{into}"  # 7 + 12 + 1 + 12 = 32 bytes


def others_status_name(t: Translator, status: CaseStatus) -> str:
    """A status as someone other than the request's citizen reads it ("waiting for you" is not
    for them)."""
    if status is CaseStatus.AWAITING_CITIZEN:
        return t.gettext("waiting for more information")
    return status_name(t, status)


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
    now = services.clock.now()
    similar = await similar_open_cases(
        str(draft.data.get("category")),
        str(draft.data.get("description", "")),
        _location(draft),
        now=now,
        distance_m=services.settings.duplicate_distance_m,
        exclude_citizen=draft.citizen_id,
    )
    if not similar:
        return False
    await save(context, draft, draft.step, similar=[s.tracking for s in similar])
    lines = [t.gettext("Other citizens have already reported something similar:")]
    rows = []
    for index, case in enumerate(similar):
        lines += ["", await offer_lines(case, t, now)]
        label = t.gettext("Join {number}", number=format_tracking_number(case.tracking))
        rows.append([InlineKeyboardButton(label, callback_data=data("j", index))])
    lines += [
        "",
        t.gettext(
            "If one of them is your problem too, join it: it counts one more supporter, and you "
            "will be told when it is accepted, answered and closed (the answer itself goes to the "
            "citizen who filed it). Otherwise file yours."
        ),
    ]
    rows.append([InlineKeyboardButton(t.gettext("File mine anyway"), callback_data=data("file"))])
    await send(update, context, "\n".join(lines), markup=InlineKeyboardMarkup(rows))
    return True


async def offer_lines(case: SimilarCase, t: Translator, now: datetime) -> str:
    """One offered request: number, category, supporters, nearby; status and age; and the
    public text if it is published. Nothing its citizen wrote, and no distance."""
    number = format_tracking_number(case.tracking)
    name = await short_category_name(case.category_code, t.language)
    count = case.supporters
    if case.nearby:
        head = t.ngettext(
            "{number} · {category} · {count} supporter · nearby",
            "{number} · {category} · {count} supporters · nearby",
            count,
            number=number,
            category=name,
            count=count,
        )
    else:
        head = t.ngettext(
            "{number} · {category} · {count} supporter",
            "{number} · {category} · {count} supporters",
            count,
            number=number,
            category=name,
            count=count,
        )
    status, days = others_status_name(t, case.status), max(0, (now - case.created_at).days)
    if days == 0:
        state = t.gettext("Status: {status} · filed less than a day ago", status=status)
    else:
        state = t.ngettext(
            "Status: {status} · filed {count} day ago",
            "Status: {status} · filed {count} days ago",
            days,
            status=status,
            count=days,
        )
    lines = [head, state]
    if case.public_text is not None:
        lines.append(f"“{case.public_text}”")
    return "\n".join(lines)


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
        await send(
            update,
            context,
            t.gettext("You already follow request {number}.", number=number),
            markup=main_menu(t),
        )
    return ""


# -- The staff card: possible duplicates, and Merge ------------------------------------------


def duplicate_rows(tracking: str, duplicates: list[str], t: Translator) -> list[list[Any]]:
    """A "Merge into N" button for each possible duplicate of the case (as dicts, for a card)."""
    return [
        [
            {
                "text": t.gettext("Merge into {number}", number=format_tracking_number(other)),
                "callback_data": merge_data(tracking, other),
            }
        ]
        for other in duplicates
    ]


def duplicate_line(duplicates: list[str], t: Translator) -> str:
    numbers = ", ".join(format_tracking_number(other) for other in duplicates)
    return t.gettext("Possible duplicate of: {numbers}", numbers=numbers)


async def on_merge(update: Update, context: MinshengContext) -> None:
    """Merge into N pressed: merge the card's case into N (storage checks who may, on both)."""
    if (got := await pressed(update, context, MERGE_PATTERN)) is None:
        return
    found, t = got
    tracking, into = found.group(1), found.group(2)
    act = merge_case(tracking, into, by=user_of(update).id, now=context.services.clock.now())
    try:
        case = await acted(update, context, act, t)
    except MergeRefused as refused:
        await answer_button(update, context, merge_refusal(t, refused))
        return
    if case is not None:
        done = t.gettext(
            "Merged by {name} into {number}",
            name=user_of(update).first_name,
            number=format_tracking_number(into),
        )
        await mark_card(update, context, case, t, done)


def handlers(app: MinshengApp) -> list[Any]:
    """The staff card's Merge buttons, for register() (before the "expired" catch-all)."""
    return [ButtonHandler(on_merge, pattern=MERGE_PATTERN)]


# -- What a follower sees -------------------------------------------------------------------


async def follower_card(
    case: FollowedCase, timeline: list[EventView], t: Translator, context: MinshengContext
) -> tuple[str, InlineKeyboardMarkup]:
    """What a follower sees of a request they joined: where it stands, not who wrote what."""
    zone = context.services.settings.zone
    lines = [
        t.gettext(
            "Request {number} (you follow it)", number=format_tracking_number(case.tracking)
        ),
        t.gettext("Status: {status}", status=others_status_name(t, case.status)),
        t.gettext(
            "Category: {category}", category=await category_name(case.category_code, t.language)
        ),
        t.gettext(
            "Department: {department}", department=await department_name(case.department_code, t)
        ),
        t.gettext("Filed: {date}", date=when(case.created_at, zone, t.language)),
    ]
    if case.due_at is not None and case.status in AWAITING_ANSWER:  # not once answered
        lines.append(t.gettext("Due by: {due}", due=when(case.due_at, zone, t.language)))
    lines.append(
        t.ngettext(
            "{count} supporter", "{count} supporters", case.supporters, count=case.supporters
        )
    )
    if case.public_text is not None:
        lines += ["", t.gettext("Public summary: {text}", text=case.public_text)]
    if case.public_note is not None:
        lines.append(t.gettext("Note from the department: {note}", note=case.public_note))
    lines += ["", t.gettext("What happened so far:")]
    lines += [
        f"• {when(event.created_at, zone, t.language)} — {event_name(t, event)}"
        for event in [e for e in timeline if e.kind in FOLLOWER_EVENTS][-TIMELINE_LIMIT:]
    ]
    back = InlineKeyboardButton(t.gettext("« My requests"), callback_data=page_data(0))
    return "\n".join(lines)[:4096], InlineKeyboardMarkup([[back]])
