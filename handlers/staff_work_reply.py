"""Replying to a case from the staff chat: answer the bot's card of a case with text.

A Telegram reply (text, not a command) to one of the bot's messages in the staff chat whose
first line ends with a case number (the new-case card, "New request 7KQM-3XNA-R9TD") is as
`/reply <number> <text>`: it goes to review, or straight to the citizen where no review is
needed (handlers.reply_submission.submit). A reply to any other message is left alone.
Photos are not taken this way yet.
"""

from __future__ import annotations

from typing import Any

from telegram import Message, Update
from telegram.ext import MessageHandler, filters

from bot.context import MinshengApp, MinshengContext
from bot.staff_topics import is_staff_chat
from handlers.common import who
from handlers.reply_submission import submit
from storage.tracking import LENGTH, canonical_or_none


class StaffChatOnly(filters.MessageFilter):
    """The staff chat named in the settings (read when an update comes); never a private chat,
    where a citizen's reply to the bot adds to their own case."""

    def __init__(self, app: MinshengApp) -> None:
        super().__init__(name="StaffChatOnly")
        self._app = app

    def filter(self, message: Message) -> bool:
        return is_staff_chat(self._app.bot_data, message.chat.id)  # or a department's own


def named_case(message: Message | None) -> str | None:
    """The case number on the first line of a bot message, or None."""
    if message is None or message.from_user is None or not message.from_user.is_bot:
        return None
    # A card's title ends with the number ("New request 7KQM-3XNA-R9TD"); the bot's one-line
    # answers mention numbers mid-sentence ("Your reply to … was sent for review.").
    words = (message.text or message.caption or "").split("\n", 1)[0].split()
    if not words or len(words[-1]) < LENGTH:
        return None
    return canonical_or_none(words[-1])


async def on_card_reply(update: Update, context: MinshengContext) -> None:
    """Text replying to a case's card: submit it as the reply to that case."""
    message = update.effective_message
    tracking = named_case(message.reply_to_message if message is not None else None)
    if message is None or tracking is None or not (message.text or "").strip():
        return
    _, t = await who(update, context)
    await submit(update, context, t, tracking, message.text or "")


def handlers(app: MinshengApp) -> list[Any]:
    """The staff chat's reply-to-card handler, for register()."""
    replies = (
        StaffChatOnly(app)
        & filters.UpdateType.MESSAGE
        & filters.User(allow_empty=True)
        & filters.REPLY
        & filters.TEXT
        & ~filters.COMMAND
    )
    return [MessageHandler(replies, on_card_reply)]
