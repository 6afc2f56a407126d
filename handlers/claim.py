"""/claim NUMBER CODE: a caller whose case was filed by phone makes it theirs in the bot.

Both the tracking number and the one-time claim code are needed (storage.claims); a wrong pair
gets one answer whatever was wrong, and counts against the same hourly limit as looking up
numbers that are not one's own.
"""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import CommandHandler, filters

from bot.context import MinshengApp, MinshengContext
from handlers.common import send, user_of, who
from handlers.tracking import LOOKUP_LIMIT
from storage.claims import ClaimRefused, claim_case
from storage.following import failed_lookups
from storage.tracking import canonical_or_none, format_tracking_number

PRIVATE = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE & filters.User(allow_empty=True)


async def on_claim(update: Update, context: MinshengContext) -> None:
    """Link a case filed by phone to the citizen who gives its number and claim code."""
    citizen, t = await who(update, context)
    now = context.services.clock.now()
    args = context.args or []
    if len(args) < 2:
        usage = t.gettext(
            "To follow a request that was filed for you by phone, send /claim with its number "
            "and the claim code you were given, e.g. /claim ABCD-EFGH-JKMN K7QX2M9P."
        )
        await send(update, context, usage)
        return
    if await failed_lookups(citizen.id, now=now) > LOOKUP_LIMIT:
        await send(
            update,
            context,
            t.gettext(
                "You have looked up many numbers that are not yours in the last hour. "
                "Please try again later, or open your requests under My requests."
            ),
        )
        return
    refused = t.gettext(
        "That number and claim code do not match a request waiting to be claimed. Please "
        "check both; each code works once."
    )
    number = canonical_or_none(" ".join(args[:-1]))
    if number is None:
        await send(update, context, refused)
        return
    try:
        await claim_case(number, args[-1], citizen_id=user_of(update).id, now=now)
    except ClaimRefused:
        await send(update, context, refused)
        return
    await send(
        update,
        context,
        t.gettext(
            "Request {number} is now yours: you will be told of every step, and you can follow it "
            "under My requests.",
            number=format_tracking_number(number),
        ),
    )


def handlers(app: MinshengApp) -> list[Any]:
    return [CommandHandler("claim", on_claim, filters=PRIVATE)]
