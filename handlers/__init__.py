"""Telegram glue: every handler of the bot is added here, in the order that decides who answers.

Each feature lives in its own module (start, help, language, fallback, ...); this module only
wires them to the updates they serve.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.context import MinshengApp
from bot.i18n import COMMAND_MENU_CODES, Catalogs
from handlers import (
    attribution,
    claim,
    deadlines,
    duplicates,
    kb_buttons,
    rating,
    staff_admin,
    staff_cases,
    staff_details,
    staff_disputes,
    staff_handlers,
    staff_kb,
    staff_proposal,
    staff_queue,
    staff_reply_templates,
    staff_reports,
    staff_review,
    staff_routing,
    staff_web,
    staff_work,
    staff_work_reply,
)
from handlers.add_info import on_add_button
from handlers.buttons import ButtonHandler, on_expired_button
from handlers.case_card import ADD_PATTERN, CASE_PATTERN, CONSENT_PATTERN, PAGE_PATTERN
from handlers.errors import on_error
from handlers.fallback import NOT_TEXT, on_unknown_command
from handlers.flood import GATE_GROUP, on_any_update
from handlers.help import on_help
from handlers.intake import on_cancel, on_intake_button, on_new_request
from handlers.intake_data import PATTERN as INTAKE_PATTERN
from handlers.language import CHOICE_PATTERN, on_choice, on_language
from handlers.menu import (
    commands,
    help_label,
    label_filter,
    language_label,
    my_requests_label,
    new_request_label,
    track_label,
)
from handlers.my_requests import on_case, on_my_requests, on_page
from handlers.privacy import FORGET_PATTERN, on_forget, on_forget_choice, on_mydata, on_privacy
from handlers.publish_consent import on_consent_button
from handlers.routing import Routed
from handlers.start import on_start
from handlers.steps import and_reask, guarded, route_reply, route_step
from handlers.tracking import on_status, on_track_button

# Citizens are served in private chats, and only new messages act: an edited message must never
# run a command again (an edit of "/start" or of a menu button does nothing), and a message must
# come from someone (filters.User with allow_empty matches any sender, never none).
CITIZEN = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE & filters.User(allow_empty=True)
# What a reply may add to a case: text, a photo, or a file (voice, video, audio, document).
REPLY_CONTENT = (
    filters.TEXT
    | filters.PHOTO
    | filters.VOICE
    | filters.VIDEO
    | filters.VIDEO_NOTE
    | filters.AUDIO
    | filters.Document.ALL
)

# Staff commands: not in the citizens' command menus.
STAFF_COMMANDS = (
    staff_admin.COMMANDS
    + staff_cases.COMMANDS
    + staff_work.COMMANDS
    + staff_queue.COMMANDS
    + deadlines.COMMANDS
    + staff_routing.COMMANDS
    + staff_reports.COMMANDS
    + staff_web.COMMANDS
    + staff_kb.COMMANDS
    + staff_handlers.COMMANDS
    + staff_disputes.COMMANDS
)


def register(app: MinshengApp, catalogs: Catalogs | None = None) -> None:
    """Add every handler and the error handler; `catalogs` gives the menu labels to match."""
    catalogs = catalogs or Catalogs()
    # Before anything else: a command or button with no person behind it (an anonymous group
    # admin, a message sent on behalf of a chat) is refused and stops there (RELIABILITY 19).
    app.add_handlers(attribution.handlers(app), group=attribution.ATTRIBUTION_GROUP)
    # The citizen gate, in a group of its own that runs before the one below: every citizen
    # update passes it (a flood is counted over all of them) and it can end an update there
    # (ApplicationHandlerStop) before any feature answers. It must not share the group below,
    # where only the first matching handler runs.
    app.add_handler(TypeHandler(Update, on_any_update), group=GATE_GROUP)
    # One group on purpose: python-telegram-bot runs at most one handler per group, the first
    # that matches, and each update must get exactly one answer. So the order below is the
    # priority: specific before general, and the catch-alls last. Routed asks, in that order,
    # only the handlers that can take the update (handlers.routing).
    app.add_handler(
        Routed(
            [
                # Staff first: their commands work in the staff chat and in private chats, so
                # they must come before the citizens' catch-alls (an unknown command, "expired"
                # buttons). Whoever sends them, storage decides whether they may (a citizen is
                # told no).
                *staff_admin.handlers(app),
                *staff_cases.handlers(app),
                *staff_proposal.handlers(),  # the card's Accept as proposed (属地)
                *staff_reply_templates.handlers(app),  # /reply N t:<code>: before the plain /reply
                *staff_work.handlers(app),
                *staff_review.handlers(),
                *staff_details.handlers(),
                *staff_work_reply.handlers(app),
                *staff_queue.handlers(app),
                *staff_reports.handlers(app),  # /stats, /export, /digest
                *duplicates.handlers(app),  # the new-case card's "Merge into N"
                *staff_routing.handlers(app),
                *deadlines.handlers(app),  # urgent, extensions (延期) and their buttons
                *staff_web.handlers(app),  # /web: a sign-in link to the dashboard
                *staff_kb.handlers(app),  # /kb: search the knowledge base, open an article
                *staff_handlers.handlers(app),  # /take, /give: a case's handler (承办人)
                *staff_disputes.handlers(app),  # /dispute, /disputes: rating review (差评复核)
                # Commands before free text: "/help" is text too.
                # guarded(): in the middle of a request, a command or menu button asks "continue or
                # discard?" instead of running; /language and /cancel act at once on purpose.
                CommandHandler("start", guarded(on_start), filters=CITIZEN),
                CommandHandler("help", guarded(on_help), filters=CITIZEN),
                CommandHandler("language", on_language, filters=CITIZEN),
                CommandHandler("cancel", on_cancel, filters=CITIZEN),
                # The main menu's buttons as commands (handlers.menu.commands lists them).
                CommandHandler("new", guarded(on_new_request), filters=CITIZEN),
                CommandHandler("my", guarded(on_my_requests), filters=CITIZEN),
                # Following requests: tracking, privacy.
                CommandHandler("status", on_status, filters=CITIZEN),
                CommandHandler("privacy", on_privacy, filters=CITIZEN),
                CommandHandler("mydata", on_mydata, filters=CITIZEN),
                CommandHandler("forget", on_forget, filters=CITIZEN),
                *claim.handlers(app),  # /claim: a case filed by phone becomes the caller's
                # Main menu buttons, matched in every language (old keyboards keep old labels).
                MessageHandler(
                    CITIZEN & label_filter(catalogs, new_request_label), guarded(on_new_request)
                ),
                MessageHandler(CITIZEN & label_filter(catalogs, help_label), guarded(on_help)),
                MessageHandler(CITIZEN & label_filter(catalogs, language_label), on_language),
                MessageHandler(
                    CITIZEN & label_filter(catalogs, my_requests_label), guarded(on_my_requests)
                ),
                MessageHandler(
                    CITIZEN & label_filter(catalogs, track_label), guarded(on_track_button)
                ),
                # Inline buttons: each feature's own pattern first; any other data is forged or
                # stale and gets "expired" from the catch-all, which must stay after all of them.
                # A new language re-asks the step of a request in progress, in that language.
                ButtonHandler(and_reask(on_choice), pattern=CHOICE_PATTERN),
                ButtonHandler(on_intake_button, pattern=INTAKE_PATTERN),
                ButtonHandler(on_page, pattern=PAGE_PATTERN),
                ButtonHandler(on_case, pattern=CASE_PATTERN),
                ButtonHandler(on_add_button, pattern=ADD_PATTERN),
                ButtonHandler(on_consent_button, pattern=CONSENT_PATTERN),
                ButtonHandler(on_forget_choice, pattern=FORGET_PATTERN),
                *rating.handlers(app),
                *kb_buttons.handlers(app),  # articles offered before a request (即时答复)
                CallbackQueryHandler(on_expired_button),
                # Whatever no feature claimed. Commands before text, as above.
                MessageHandler(CITIZEN & filters.COMMAND, on_unknown_command),
                # Text and media go to the step the citizen's draft is on (handlers.steps), and
                # to the no-conversation answers of handlers.fallback when there is none.
                # A reply to our message about a case adds to that case (others go on to the step).
                MessageHandler(CITIZEN & filters.REPLY & REPLY_CONTENT, route_reply),
                MessageHandler(CITIZEN & filters.TEXT, route_step),
                MessageHandler(CITIZEN & NOT_TEXT, route_step),
                # Not handled, by design: groups and channels, edited messages, service messages,
                # and updates without a user. They get no answer.
            ]
        )
    )
    app.add_error_handler(on_error)


def command_menus(catalogs: Catalogs) -> dict[str, list[tuple[str, str]]]:
    """setMyCommands menus by Telegram language_code; "" is the menu for everyone else."""
    menus = {"": commands(catalogs.get(catalogs.default_language))}
    for language, code in COMMAND_MENU_CODES.items():
        menus[code] = commands(catalogs.get(language))
    return menus
