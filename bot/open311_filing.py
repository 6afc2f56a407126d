"""Filing a request through Open311: the form's fields checked, then the same submit_case.

Every field is checked before anything is written; a refusal names the field in the spec's error
shape (400), an unknown service_code is 404. Control characters are refused in every field and
format characters (right-to-left overrides among them) stripped (storage.plain_text); the
description's minimum counts visible characters. The request is filed without a Telegram
citizen, with its channel ("open311") and the key's name in the submitted event, so staff see
where it came from. It is private unless the filing says `consent_to_publish=true` (an
extension of the spec): then staff may publish a public text of it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from storage.cases import (
    ADDRESS_MAX,
    DESCRIPTION_MAX,
    DESCRIPTION_MIN,
    FieldOutOfLimits,
    Location,
    NewCase,
    submit_case,
)
from storage.models import CaseKind
from storage.open311 import OPEN311_CHANNEL, category_questions
from storage.plain_text import TextHasControls, clean_text, visible_length
from storage.tracking import format_tracking_number

if TYPE_CHECKING:
    from bot.context import Services

ANSWER_MAX = 500
_PHONE = re.compile(r"^\+?[0-9][0-9 ()-]{2,30}$")
_ATTRIBUTE = re.compile(r"^attribute\[([a-z0-9_.-]{1,64})\]$")
CONSENT_FIELD = "consent_to_publish"  # an extension: the filer agreed to publication
_CONSENT = {"true": True, "false": False}

# The operation's limits (storage.cases.FieldOutOfLimits), in the spec's field names.
_FIELD_REFUSALS = {
    "text": f"description is required, {DESCRIPTION_MIN}-{DESCRIPTION_MAX} characters"
    " (spaces and invisible characters do not count)",
    "address": f"address_string is longer than {ADDRESS_MAX} characters",
}


class FilingRefused(Exception):
    def __init__(self, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.status = status


@dataclass(frozen=True)
class Filing:
    service_code: str
    description: str
    location: Location | None
    answers: dict[str, Any]
    phone: str | None
    publish_consent: bool = False

    async def submit(self, services: Services, *, key_name: str) -> str:
        """File it; the formatted tracking number. FilingRefused naming a field out of limits."""
        settings = services.settings
        try:
            case = await submit_case(
                NewCase(
                    citizen_id=None,
                    kind=CaseKind.REPORT,
                    category_code=self.service_code,
                    text=self.description,
                    photos=(),
                    location=self.location,
                    answers=self.answers,
                    phone=self.phone,
                    anonymous=False,
                    channel=OPEN311_CHANNEL,
                    source=key_name,
                    publish_consent=self.publish_consent,
                ),
                now=services.clock.now(),
                zone=settings.zone,
                daily_limit=settings.cases_per_day,
                staff_chat_id=settings.staff_chat_id,
            )
        except FieldOutOfLimits as refused:
            raise FilingRefused(_FIELD_REFUSALS[refused.field]) from None
        return format_tracking_number(case.tracking)


async def parse_filing(raw: dict[str, str]) -> Filing:
    """The checked filing; FilingRefused naming the first field in error."""
    fields = _cleaned(raw)
    code = fields.get("service_code", "").strip()
    if not code:
        raise FilingRefused("service_code is required")
    questions = await category_questions(code)
    if questions is None:
        raise FilingRefused(f"service_code {code[:64]!r} not found", 404)
    description = fields.get("description", "").strip()
    if visible_length(description) < DESCRIPTION_MIN or len(description) > DESCRIPTION_MAX:
        raise FilingRefused(_FIELD_REFUSALS["text"])
    phone = fields.get("phone", "").strip() or None
    if phone is not None and not _PHONE.match(phone):
        raise FilingRefused("phone is not a telephone number")
    consent = _CONSENT.get(fields.get(CONSENT_FIELD, "false"))
    if consent is None:
        raise FilingRefused(f"{CONSENT_FIELD} must be true or false")
    return Filing(
        service_code=code,
        description=description,
        location=_location(fields),
        answers=_answers(fields, questions),
        phone=phone,
        publish_consent=consent,
    )


def _cleaned(fields: dict[str, str]) -> dict[str, str]:
    """Every field without format characters; FilingRefused for one with a control character
    in its name or its value."""
    cleaned = {}
    for name, value in fields.items():
        shown = name if len(name) <= 64 and name.isprintable() else "a field's name"
        try:
            cleaned[clean_text(name)] = clean_text(value)
        except TextHasControls as found:
            raise FilingRefused(f"{shown} holds a control character ({found})") from None
    return cleaned


def _location(fields: dict[str, str]) -> Location | None:
    lat, long = fields.get("lat", "").strip(), fields.get("long", "").strip()
    address = fields.get("address_string", "").strip() or None
    if address is not None and len(address) > ADDRESS_MAX:
        raise FilingRefused(_FIELD_REFUSALS["address"])
    if bool(lat) != bool(long):
        raise FilingRefused("lat and long are given together or not at all")
    latitude = longitude = None
    if lat:
        latitude, longitude = _coordinate(lat, "lat", 90), _coordinate(long, "long", 180)
    if latitude is None and address is None:
        return None
    return Location(latitude=latitude, longitude=longitude, address=address)


def _coordinate(raw: str, name: str, bound: float) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise FilingRefused(f"{name} must be a decimal number") from None
    if not math.isfinite(value) or abs(value) > bound:
        raise FilingRefused(f"{name} must be between -{bound:g} and {bound:g}")
    return value


def _answers(fields: dict[str, str], questions: list[dict[str, Any]]) -> dict[str, Any]:
    given = {}
    for key, value in fields.items():
        match = _ATTRIBUTE.match(key)
        if match:
            given[match.group(1)] = value.strip()
    known = {q["code"]: q for q in questions}
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise FilingRefused(f"attribute[{unknown[0]}] is not an attribute of this service")
    answers: dict[str, Any] = {}
    for code, question in known.items():
        raw = given.get(code, "")
        if not raw:
            if question.get("required"):
                raise FilingRefused(f"attribute[{code}] is required")
            continue
        answers[code] = _answer(code, question, raw)
    return answers


def _answer(code: str, question: dict[str, Any], raw: str) -> Any:
    kind = question["type"]
    if len(raw) > ANSWER_MAX:
        raise FilingRefused(f"attribute[{code}] is longer than {ANSWER_MAX} characters")
    if kind == "number":
        try:
            number = float(raw)
        except ValueError:
            raise FilingRefused(f"attribute[{code}] must be a number") from None
        low, high = question.get("min", -math.inf), question.get("max", math.inf)
        if not math.isfinite(number) or not low <= number <= high:
            raise FilingRefused(f"attribute[{code}] must be between {low} and {high}")
        return int(number) if number.is_integer() else number
    if kind == "date":
        try:
            return date.fromisoformat(raw[:10]).isoformat()
        except ValueError:
            raise FilingRefused(f"attribute[{code}] must be a date, YYYY-MM-DD") from None
    if kind == "choice":
        codes = [choice["code"] for choice in question.get("choices", [])]
        if raw not in codes:
            raise FilingRefused(f"attribute[{code}] must be one of {', '.join(codes)}")
    return raw
