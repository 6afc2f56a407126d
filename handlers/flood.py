"""The gate in front of every citizen update: floods slowed down, blocked citizens told once.

Runs in its own handler group before the others (see register()). When it stops an update, no
feature sees it: the update is still marked done, so it is not retried.

A flood (RELIABILITY row 32): more than `flood_messages` updates from one private chat within
`flood_seconds`, counted in the inbox up to the update at hand. The first update over the limit
gets one polite "please slow down"; the notice carries a dedupe key per window, so however the
burst is split between workers or replays, the outbox keeps one. Blocked citizens: one notice
ever (its dedupe key), then silence.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from telegram import Update
from telegram.ext import ApplicationHandlerStop

from bot.context import MinshengContext
from bot.i18n import Translator
from handlers.rendered import Rendered
from storage.flood import gate_state
from storage.notice_queue import notify
from storage.staff import staff_member

log = logging.getLogger(__name__)

# Before the features' group 0.
GATE_GROUP = -1
# A blocked citizen may still see and erase what is kept about them.
PRIVACY_COMMANDS = ("/privacy", "/mydata", "/forget")
PRIVACY_BUTTONS = ("forget:yes:", "forget:no:")  # then the question's one-time value


def _privacy_request(update: Update) -> bool:
    if update.callback_query is not None:
        return (update.callback_query.data or "").startswith(PRIVACY_BUTTONS)
    text = (update.message.text or "") if update.message else ""
    word = text.split(maxsplit=1)[0].split("@")[0].lower() if text.strip() else ""
    return word in PRIVACY_COMMANDS


async def on_any_update(update: Update, context: MinshengContext) -> None:
    """Let the update through, or stop it (slow down, or blocked) before any feature."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None or chat.type != chat.PRIVATE:
        return  # staff groups and channels are not citizens' chats
    settings = context.services.settings
    window = timedelta(seconds=settings.flood_seconds)
    state = await gate_state(chat.id, update.update_id, user.id, window=window)
    if state.received_at is None:  # not from the inbox (a test's process_update): let it be
        return
    now = context.services.clock.now()
    # Staff working fast are not a flood; asked only past the limit, so it costs nothing else.
    if state.recent > settings.flood_messages and await staff_member(user.id) is None:
        if state.recent == settings.flood_messages + 1:
            bucket = int(state.received_at.timestamp() // settings.flood_seconds)
            log.info("chat %s is flooding: slowed down", chat.id)
            await notify(
                chat.id, "citizen_slow_down", {}, now=now, dedupe_key=f"flood:{chat.id}:{bucket}"
            )
        raise ApplicationHandlerStop
    if state.blocked and not _privacy_request(update):
        await notify(user.id, "citizen_blocked", {}, now=now, dedupe_key=f"blocked:{user.id}")
        raise ApplicationHandlerStop


async def render_slow_down(params: dict[str, Any], t: Translator) -> Rendered:
    """ "citizen_slow_down": the one notice of a flood window."""
    text = t.gettext(
        "You are sending messages very fast, so I have skipped some of them. "
        "Please wait a few seconds, then send one message at a time."
    )
    return Rendered("sendMessage", {"text": text})


async def render_blocked(params: dict[str, Any], t: Translator) -> Rendered:
    """ "citizen_blocked": told once; after it, the bot stays silent to them."""
    text = t.gettext(
        "The desk's staff have restricted this account, so it cannot file new "
        "requests here. Please call the 12345 hotline if you need help. "
        "You will still hear about requests you filed before."
    )
    return Rendered("sendMessage", {"text": text})
