"""/mydata in words: a summary in the citizen's language, and the full export as a JSON document.

The summary says what is kept (their requests, with numbers and status), and for how long. The
document holds it all, under keys a person can read ("requests", "tracking_number",
"submitted_at", "description"), with statuses, categories and event sentences in the citizen's
language and times in the desk's zone. Both are made from storage.data_export.HeldData, which
holds nothing of anyone else.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date

from bot.i18n import Translator
from bot.texts.cases import (
    answer_lines,
    category_name,
    department_name,
    description,
    kind_name,
    status_name,
    when,
)
from bot.texts.citizen_case import (
    AWAITING_ANSWER,
    ENDINGS,
    event_sentence,
    latest,
    rating_labels,
    rating_of_answer,
)
from bot.texts.ratings import shown_comment
from storage.data_export import HeldData, OwnCase
from storage.drafts import DraftView
from storage.tracking import format_tracking_number

SUMMARY_CASES = 20  # requests listed in the summary; the document holds all of them
DRAFT_DAYS = 7  # an unsent request is deleted after this many days (bot.sweeps)


def _day(moment: datetime, zone: ZoneInfo, language: str) -> str:
    return format_date(moment.astimezone(zone), "medium", locale=language)


def _iso(moment: datetime | None, zone: ZoneInfo) -> str | None:
    return None if moment is None else moment.astimezone(zone).isoformat(timespec="minutes")


def language_name(code: str, t: Translator) -> str:
    """A language's name in the reader's language ("Chinese (Simplified)", "中文 (简体)")."""
    try:
        name = str(Locale.parse(code).get_display_name(t.language) or code)
    except (ValueError, LookupError):
        return code
    # Babel writes "中文 (简体)"; Chinese text takes full-width brackets.
    return name.replace(" (", "（").replace(")", "）") if t.language.startswith("zh") else name


async def summary_text(
    data: HeldData,
    t: Translator,
    zone: ZoneInfo,
    *,
    retention_days: int,
    keep_case_records: bool,
) -> str:
    """What is kept about the citizen and for how long, in one message."""
    lines = [
        t.gettext("What this desk keeps about you:"),
        t.gettext(
            "• You: {name}, Telegram user id {user}, language: {language}.",
            name=data.first_name or "—",
            user=data.user_id,
            language=language_name(data.language, t),
        ),
    ]
    if data.phone:
        lines.append(t.gettext("• Your phone number: {phone}.", phone=data.phone))
    lines.append("")
    lines += await _requests_lines(data, t, zone)
    if data.supported or data.draft is not None or data.lookups:
        lines.append("")
    if data.supported:
        count = len(data.supported)
        lines.append(
            t.ngettext(
                "• You support {count} request filed by someone else.",
                "• You support {count} requests filed by someone else.",
                count,
                count=count,
            )
        )
    if data.draft is not None:
        lines.append(t.gettext("• A request you have started but not sent yet."))
    if data.lookups:
        count = len(data.lookups)
        lines.append(
            t.ngettext(
                "• {count} number you looked up that is not yours.",
                "• {count} numbers you looked up that are not yours.",
                count,
                count=count,
            )
        )
    lines += ["", *_kept_for(t, retention_days, keep_case_records), ""]
    lines.append(
        t.gettext(
            "Everything, in full, is in the file below (JSON: any text editor opens it). "
            "/forget erases your personal data."
        )
    )
    return "\n".join(lines)


async def _requests_lines(data: HeldData, t: Translator, zone: ZoneInfo) -> list[str]:
    if not data.cases:
        return [t.gettext("You have not filed any request.")]
    count = len(data.cases)
    lines = [t.ngettext("Your request ({count}):", "Your requests ({count}):", count, count=count)]
    newest = list(reversed(data.cases))
    for own in newest[:SUMMARY_CASES]:
        case = own.case
        lines.append(
            t.gettext(
                "• {number} · {category} · {status} · filed {date}",
                number=format_tracking_number(case.tracking),
                category=await category_name(case.category_code, t.language),
                status=status_name(t, case.status),
                date=_day(case.created_at, zone, t.language),
            )
        )
        if own.publicity.published:
            lines.append("  " + t.gettext("Published on the public board, without your name."))
        elif own.publicity.consent:
            said = t.gettext("You agreed to publish it without your name; not published yet.")
            lines.append("  " + said)
    if count > SUMMARY_CASES:
        more = count - SUMMARY_CASES
        lines.append(
            t.ngettext(
                "…and {count} older request, in the file.",
                "…and {count} older requests, in the file.",
                more,
                count=more,
            )
        )
    return lines


def _kept_for(t: Translator, days: int, keep_case_records: bool) -> list[str]:
    if keep_case_records:
        requests = t.gettext(
            "• Your requests and their history: in the desk's records, as the law requires; "
            "/forget removes your name and phone number from them."
        )
    else:
        requests = t.gettext(
            "• Your requests and their history: until you erase them with /forget; then each "
            "keeps only its category, department, dates, status and answer, without your name."
        )
    return [
        t.gettext("How long it is kept:"),
        requests,
        t.ngettext(
            "• Our copies of your messages with the bot, and the numbers you looked up: "
            "deleted {days} day after they were handled.",
            "• Our copies of your messages with the bot, and the numbers you looked up: "
            "deleted {days} days after they were handled.",
            days,
            days=days,
        ),
        t.ngettext(
            "• A request you started but did not send: deleted {days} day after your last change.",
            "• A request you started but did not send: deleted {days} days after your last "
            "change.",
            DRAFT_DAYS,
            days=DRAFT_DAYS,
        ),
    ]


async def export_document(
    data: HeldData, t: Translator, zone: ZoneInfo, *, now: datetime
) -> dict[str, Any]:
    """Everything held about the citizen, JSON-able, with keys a person can read."""
    return {
        "exported_at": _iso(now, zone),
        "about_you": {
            "telegram_user_id": data.user_id,
            "first_name": data.first_name,
            "language": language_name(data.language, t),
            "phone": data.phone,
            "first_contact_at": _iso(data.first_contact_at, zone),
            "barred_from_filing": data.blocked,
        },
        "requests": [await _request(own, t, zone) for own in data.cases],
        "requests_you_support": [
            {"tracking_number": format_tracking_number(number), "since": _iso(at, zone)}
            for number, at in data.supported
        ],
        "request_being_written": await _draft(data.draft, t, zone),
        "numbers_you_looked_up": [
            {"tracking_number": format_tracking_number(number), "at": _iso(at, zone)}
            for number, at in data.lookups
        ],
    }


async def _request(own: OwnCase, t: Translator, zone: ZoneInfo) -> dict[str, Any]:
    case, timeline = own.case, list(own.timeline)
    place = case.location
    answer = latest(timeline, "answered", "reopened")
    rated = rating_of_answer(timeline)
    ending = latest(timeline, *ENDINGS) if not case.is_open else None
    return {
        "tracking_number": format_tracking_number(case.tracking),
        "kind": kind_name(t, case.kind),
        "category": await category_name(case.category_code, t.language),
        "department": await department_name(case.department_code, t),
        "status": status_name(t, case.status),
        "submitted_at": _iso(case.created_at, zone),
        "due_by": _iso(case.due_at, zone) if case.status in AWAITING_ANSWER else None,
        "description": description(case, t),
        "answers_to_questions": [line.removeprefix("• ") for line in await answer_lines(case, t)],
        "place": None
        if place is None
        else {"address": place.address, "latitude": place.latitude, "longitude": place.longitude},
        "phone": case.phone,
        "anonymous": case.anonymous,
        "photos_attached": len(case.photos),
        "files_attached": len(case.attachments),
        "answer": str(answer.payload.get("text") or "")
        if answer is not None and answer.kind == "answered"
        else None,
        "your_rating": None
        if rated is None
        else {
            **rating_labels(t, rated),
            "comment": None if own.comment is None else shown_comment(t, own.comment),
        },
        "outcome": None if ending is None else await event_sentence(t, ending, zone, None),
        "publication": {
            "you_agreed_to_publish_without_your_name": own.publicity.consent,
            "published": own.publicity.published,
            "public_title": own.publicity.title,
            "public_text": own.publicity.text,
            "public_answer": own.publicity.note,
        },
        "history": [
            {
                "at": _iso(event.created_at, zone),
                "what_happened": await event_sentence(t, event, zone, None),
            }
            for event in timeline
        ],
    }


async def _draft(draft: DraftView | None, t: Translator, zone: ZoneInfo) -> dict[str, Any] | None:
    if draft is None:
        return None
    d = draft.data
    place = d.get("location") if isinstance(d.get("location"), dict) else None
    code = d.get("category")
    return {
        "last_changed_at": _iso(draft.updated_at, zone),
        "category": await category_name(str(code), t.language) if code else None,
        "description": d.get("description"),
        "place": None
        if place is None
        else {
            "address": place.get("address"),
            "latitude": place.get("lat"),
            "longitude": place.get("lon"),
        },
        "phone": d.get("phone"),
        "photos_attached": len(d.get("photos") or ()),
    }


def export_file(document: dict[str, Any]) -> bytes:
    """The document as the file the citizen receives: UTF-8 JSON, indented, no escapes."""
    return json.dumps(document, ensure_ascii=False, indent=2).encode()


def export_file_name(now: datetime, zone: ZoneInfo) -> str:
    return f"my-data-{now.astimezone(zone).date().isoformat()}.json"


def when_exported(now: datetime, zone: ZoneInfo, t: Translator) -> str:
    return t.gettext("Your data as of {time}.", time=when(now, zone, t.language))
