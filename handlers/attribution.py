"""Every staff action has a person behind it (RELIABILITY row 19), checked before any feature.

In a group, an anonymous admin's message comes from Telegram's GroupAnonymousBot with the group
as `sender_chat`, and a message "sent as a channel" from Channel_Bot with the channel: neither
says who pressed send, so no role can be checked and no audit can name anyone. Such a command,
or reply to the bot, in the staff chat (and a button press claiming to come from one of those
ids, which only a forged update can do) is refused with one line in the chat's language,
recorded as an access denial (reason "anonymous"), and stopped here: no staff handler sees it.

Runs in its own handler group before the citizen gate, so it covers every staff command and
button, including ones added later, without each handler having to remember it.
"""

from __future__ import annotations

from telegram import Message, Update
from telegram.ext import ApplicationHandlerStop, BaseHandler

from bot.context import SERVICES_KEY, MinshengApp, MinshengContext, Services
from bot.i18n import Translator
from bot.staff_topics import is_staff_chat
from handlers.common import UpdateShapeError, answer_button, send
from storage.staff import record_unattributable

ATTRIBUTION_GROUP = -2  # before the citizen gate (handlers.flood.GATE_GROUP, -1)
GROUP_ANONYMOUS_BOT = 1_087_968_824  # from.id of an anonymous group admin's messages
CHANNEL_BOT = 136_817_688  # from.id of messages sent on behalf of a channel
NOBODY_IN_PARTICULAR = frozenset({GROUP_ANONYMOUS_BOT, CHANNEL_BOT})


def refusal(t: Translator) -> str:
    return t.gettext(
        "Please act from your own account: anonymous admins and messages sent on behalf of a "
        "channel or group cannot be told apart, so nothing was done."
    )


def anonymous(message: Message) -> bool:
    sender = message.from_user
    return message.sender_chat is not None or sender is None or sender.id in NOBODY_IN_PARTICULAR


def acts(message: Message, bot_id: int, bot_username: str | None) -> str | None:
    """What the message would ask of the bot: a command's name, "reply", or None (chatter)."""
    text = message.text or message.caption or ""
    entities = message.entities or message.caption_entities or ()
    if text.startswith("/") and any(e.type == "bot_command" and e.offset == 0 for e in entities):
        name, _, addressee = text.split(maxsplit=1)[0][1:].partition("@")
        if addressee and bot_username and addressee.lower() != bot_username.lower():
            return None  # another bot's command
        return name.lower()[:32] or None
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.id == bot_id:
        return "reply"
    return None


class Unattributable(BaseHandler[Update, MinshengContext, None]):
    """Matches an anonymous command or reply in the staff chat, or an anonymous button press."""

    def __init__(self, app: MinshengApp) -> None:
        super().__init__(on_unattributable)
        self._app = app

    def check_update(self, update: object) -> bool:
        if not isinstance(update, Update):
            return False
        query = update.callback_query
        if query is not None:
            return query.from_user.id in NOBODY_IN_PARTICULAR
        message = update.message  # new messages only: an edit never acts
        services = self._app.bot_data.get(SERVICES_KEY)
        if message is None or not isinstance(services, Services):
            return False
        if not is_staff_chat(self._app.bot_data, message.chat.id) or not anonymous(message):
            return False
        bot = self._app.bot
        return acts(message, bot.id, bot.username) is not None


async def on_unattributable(update: Update, context: MinshengContext) -> None:
    """Refuse, audit, and stop the update before any feature sees it."""
    settings = context.services.settings
    t = context.services.catalogs.get(settings.default_language)
    message, query = update.message, update.callback_query
    if query is not None:
        actor, what = query.from_user.id, "button"
    else:
        if message is None:
            raise UpdateShapeError("update has neither a message nor a button press")
        sender = message.from_user or message.sender_chat
        actor = sender.id if sender is not None else 0
        what = acts(message, context.bot.id, context.bot.username) or "message"
    await record_unattributable(actor, what, now=context.services.clock.now())
    if query is not None:
        await answer_button(update, context, refusal(t))
    else:
        await send(update, context, refusal(t))
    raise ApplicationHandlerStop


def handlers(app: MinshengApp) -> list[Unattributable]:
    """The one handler of ATTRIBUTION_GROUP, for register()."""
    return [Unattributable(app)]
