"""What no feature claimed: unknown commands, free text, and things the desk cannot read."""

from __future__ import annotations

from telegram import Message, MessageEntity, Update
from telegram.ext import filters

from bot.context import MinshengContext
from handlers.common import UpdateShapeError, send, who
from handlers.kb_offer import offer_for_text
from handlers.menu import command_lines, main_menu

# Telegram itself allows 4,096 characters; a round figure leaves room and is easy to state.
TEXT_LIMIT = 4000
# Unknown commands are echoed back; anything longer is cut so the echo stays one short line.
COMMAND_ECHO_LIMIT = 64

# What citizens may send that is not text. Service messages (a pin, a changed background) are
# left out on purpose: they are not something the citizen said to us.
NOT_TEXT = (
    filters.PHOTO
    | filters.Sticker.ALL
    | filters.VOICE
    | filters.AUDIO
    | filters.VIDEO
    | filters.VIDEO_NOTE
    | filters.ANIMATION
    | filters.Document.ALL
    | filters.POLL
    | filters.Dice.ALL
    | filters.CONTACT
    | filters.LOCATION
    | filters.VENUE
    | filters.STORY
)


def message_of(update: Update) -> Message:
    if update.message is None:
        raise UpdateShapeError("update has no new message")
    return update.message


def command_of(message: Message) -> str:
    """The command word as typed (it is user input), cut to a short line."""
    text = message.text or ""
    entity = next((e for e in message.entities if e.type == MessageEntity.BOT_COMMAND), None)
    command = text[: entity.length] if entity is not None and entity.offset == 0 else text
    if len(command) > COMMAND_ECHO_LIMIT:
        return command[: COMMAND_ECHO_LIMIT - 1] + "…"
    return command


async def on_unknown_command(update: Update, context: MinshengContext) -> None:
    """Say the command is unknown and list the ones that exist."""
    _, t = await who(update, context)
    text = t.gettext(
        "I don't know the command {command}. Here is what I can do:\n{commands}",
        command=command_of(message_of(update)),
        commands=command_lines(t),
    )
    await send(update, context, text)


async def on_text(update: Update, context: MinshengContext) -> None:
    """Offer the articles that answer free text, if any fit; else point it to the menu (first
    saying so if it is longer than the desk takes)."""
    length = len(message_of(update).text or "")
    _, t = await who(update, context)
    if length > TEXT_LIMIT:
        too_long = t.ngettext(
            "That message is too long ({length} character; the limit is {limit}).",
            "That message is too long ({length} characters; the limit is {limit}).",
            length,
            length=length,
            limit=TEXT_LIMIT,
        )
        await send(update, context, too_long)
    elif await offer_for_text(update, context, t, message_of(update).text or ""):
        return  # articles that may answer it, with "Start a request" (handlers.kb_offer)
    pointer = t.gettext("To send a request or ask something, please use the menu below.")
    await send(update, context, pointer, markup=main_menu(t))


async def on_not_text(update: Update, context: MinshengContext) -> None:
    """Say that only text is read here, and point to the menu."""
    _, t = await who(update, context)
    text = t.gettext("I can only read text here; please use the menu.")
    await send(update, context, text, markup=main_menu(t))
