"""The main menu (a reply keyboard) and the command list, each built in one place to grow."""

from __future__ import annotations

from collections.abc import Callable

from telegram import ReplyKeyboardMarkup
from telegram.ext import filters

from bot.i18n import Catalogs, Translator
from bot.settings import LANGUAGES


def help_label(t: Translator) -> str:
    return t.gettext("Help")


def language_label(t: Translator) -> str:
    return t.gettext("Language")


def my_requests_label(t: Translator) -> str:
    return t.gettext("My requests")


def track_label(t: Translator) -> str:
    return t.gettext("Track a request")


def new_request_label(t: Translator) -> str:
    return t.gettext("New request")


def main_menu(t: Translator) -> ReplyKeyboardMarkup:
    """The reply keyboard shown with the welcome; new features add their buttons here."""
    return ReplyKeyboardMarkup(
        [
            [new_request_label(t), my_requests_label(t), track_label(t), help_label(t)],
            [language_label(t)],
        ],
        resize_keyboard=True,
        is_persistent=True,
    )


def label_filter(catalogs: Catalogs, label: Callable[[Translator], str]) -> filters.BaseFilter:
    """A button's text in every language: a keyboard sent before a switch keeps its old labels."""
    return filters.Text(sorted({label(catalogs.get(language)) for language in LANGUAGES}))


def commands(t: Translator) -> list[tuple[str, str]]:
    """The commands citizens may use, with their descriptions, in the order menus show them.

    Every button of the main menu has its command: New request /new, My requests /my,
    Track a request /status, Help /help, Language /language.
    """
    return [
        ("start", t.gettext("Welcome and main menu")),
        ("new", t.gettext("File a new request")),
        ("my", t.gettext("Your requests and where they stand")),
        ("help", t.gettext("What this desk does and how to use it")),
        ("language", t.gettext("Choose your language")),
        ("cancel", t.gettext("Discard the request you are filling in")),
        ("status", t.gettext("Follow a request by its tracking number")),
        ("claim", t.gettext("Follow a request that was filed for you by phone")),
        ("privacy", t.gettext("What we keep about you, and why")),
        ("mydata", t.gettext("Get everything we keep about you")),
        ("forget", t.gettext("Erase your personal data")),
    ]


def command_lines(t: Translator) -> str:
    return "\n".join(f"/{name} — {description}" for name, description in commands(t))
