"""The feature handlers' group, asked only where a handler can take the update.

python-telegram-bot asks each handler of a group in turn whether it takes an update, and the
first that does answers. Our group holds about eighty, so every update asked dozens that could
never take it: each pressed button every command, each message every button (in the intake
bench's profile, asking was about 7 % of the loop thread). What a handler can take follows from
its kind:
- a CallbackQueryHandler, only a pressed button (it asks for `update.callback_query`);
- a MessageHandler, only a message: python-telegram-bot's filters let no other update through;
- a CommandHandler, only a message whose text opens with one of its commands, and its filters
  are message filters too.
`Routed` keeps the group's order and, for each update, asks only the handlers that can take it;
a handler of any other kind is always asked. The first that takes it answers, as before.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, cast

from telegram import Message, MessageEntity, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler

from bot.context import MinshengApp, MinshengContext

Handler = BaseHandler[Any, Any, Any]


async def _not_called(update: Update, context: MinshengContext) -> None:
    """Routed answers through the handler it found, never through a callback of its own."""


class Routed(BaseHandler[Update, MinshengContext, None]):
    """One group's handlers in their order, asked only where they can take the update."""

    def __init__(self, handlers: Sequence[Handler]) -> None:
        super().__init__(_not_called)
        self.handlers = tuple(handlers)
        self._pressed = tuple(
            h for h in handlers if not isinstance(h, MessageHandler | CommandHandler)
        )
        self._messages = tuple(
            h for h in handlers if not isinstance(h, CallbackQueryHandler | CommandHandler)
        )
        known = {c for h in handlers if isinstance(h, CommandHandler) for c in h.commands}
        self._commands = {
            command: tuple(
                h
                for h in handlers
                if not isinstance(h, CallbackQueryHandler)
                and (not isinstance(h, CommandHandler) or command in h.commands)
            )
            for command in known
        }

    def _askable(self, update: Update) -> tuple[Handler, ...]:
        if update.callback_query is not None:
            return self._pressed
        command = _command(update.effective_message)
        # A command no handler knows is a message like any other to them all.
        return self._messages if command is None else self._commands.get(command, self._messages)

    def check_update(self, update: object) -> tuple[Handler, object] | None:
        if not isinstance(update, Update):
            return None
        for handler in self._askable(update):
            check = handler.check_update(update)
            if not (check is None or check is False):
                return handler, check
        return None

    async def handle_update(
        self,
        update: Update,
        application: Any,
        check_result: object,
        context: MinshengContext,
    ) -> None:
        handler, check = cast(tuple[Handler, object], check_result)  # what check_update gave
        await handler.handle_update(update, application, check, context)


def _command(message: Message | None) -> str | None:
    """The command a message opens with, as CommandHandler reads it (lower case, without the
    bot's name); None if it opens with none."""
    if message is None or not message.entities or not message.text:
        return None
    first = message.entities[0]
    if first.type != MessageEntity.BOT_COMMAND or first.offset != 0:
        return None
    return message.text[1 : first.length].split("@")[0].lower()


def registered(app: MinshengApp) -> Iterator[Handler]:
    """Every handler of the application, group by group, those inside a Routed group too."""
    for group in sorted(app.handlers):
        for handler in app.handlers[group]:
            if isinstance(handler, Routed):
                yield from handler.handlers
            else:
                yield handler
