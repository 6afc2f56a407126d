"""Telegram glue: every handler of the bot is added here, in the order that decides who answers.

Each feature lives in its own module (start, help, language, fallback, ...); this module only
wires them to the updates they serve.
"""

from __future__ import annotations

from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.context import MinshengApp
from bot.i18n import COMMAND_MENU_CODES, Catalogs
from handlers.buttons import ButtonHandler, on_expired_button
from handlers.errors import on_error
from handlers.fallback import NOT_TEXT, on_not_text, on_text, on_unknown_command
from handlers.help import on_help
from handlers.language import CHOICE_PATTERN, on_choice, on_language
from handlers.menu import commands, help_label, label_filter, language_label
from handlers.start import on_start

# Citizens are served in private chats, and only new messages act: an edited message must never
# run a command again (an edit of "/start" or of a menu button does nothing).
CITIZEN = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE


def register(app: MinshengApp, catalogs: Catalogs | None = None) -> None:
    """Add every handler and the error handler; `catalogs` gives the menu labels to match."""
    catalogs = catalogs or Catalogs()
    # One group on purpose: python-telegram-bot runs at most one handler per group, the first
    # that matches, and each update must get exactly one answer. So the order below is the
    # priority: specific before general, and the catch-alls last.
    app.add_handlers(
        [
            # Commands before free text: "/help" is text too.
            CommandHandler("start", on_start, filters=CITIZEN),
            CommandHandler("help", on_help, filters=CITIZEN),
            CommandHandler("language", on_language, filters=CITIZEN),
            # Main menu buttons, matched in every language (old keyboards keep old labels).
            MessageHandler(CITIZEN & label_filter(catalogs, help_label), on_help),
            MessageHandler(CITIZEN & label_filter(catalogs, language_label), on_language),
            # Inline buttons: each feature's own pattern first; any other data is forged or
            # stale and gets "expired" from the catch-all, which must stay after all of them.
            ButtonHandler(on_choice, pattern=CHOICE_PATTERN),
            CallbackQueryHandler(on_expired_button),
            # Whatever no feature claimed. Commands before text, as above.
            MessageHandler(CITIZEN & filters.COMMAND, on_unknown_command),
            MessageHandler(CITIZEN & filters.TEXT, on_text),
            MessageHandler(CITIZEN & NOT_TEXT, on_not_text),
            # Not handled, by design: groups and channels, edited messages, service messages,
            # and updates without a user. They get no answer.
        ]
    )
    app.add_error_handler(on_error)


def command_menus(catalogs: Catalogs) -> dict[str, list[tuple[str, str]]]:
    """setMyCommands menus by Telegram language_code; "" is the menu for everyone else."""
    menus = {"": commands(catalogs.get(catalogs.default_language))}
    for language, code in COMMAND_MENU_CODES.items():
        menus[code] = commands(catalogs.get(language))
    return menus
