"""/web: a staff member asks for a one-time sign-in link to the dashboard.

The link is sent only in a private chat: in the staff group anyone could open it first. It works
once, for 10 minutes (storage.web_access); its outbox row is secret, so the stored copy of the
link is scrubbed once sent. A non-staff user gets the one not-allowed line and the denial is
audited like any other staff command.
"""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import CommandHandler

from bot.context import MinshengApp, MinshengContext
from bot.dashboard.address import dashboard_url
from handlers.common import chat_of, send, user_of, who
from handlers.staff_kit import not_allowed, staff_filter
from storage.outbox import enqueue
from storage.staff import StaffAction, StaffNotAuthorized, check_is_staff, record_denial
from storage.web_access import LINK_LIFETIME, NotStaff, issue_login

COMMANDS = ("web",)


async def on_web(update: Update, context: MinshengContext) -> None:
    """Send a staff member a one-time sign-in link to the dashboard, in a private chat only."""
    _, t = await who(update, context)
    user_id, now = user_of(update).id, context.services.clock.now()
    try:
        await check_is_staff(user_id, StaffAction.VIEW, None)
    except StaffNotAuthorized as denied:
        await record_denial(denied, now=now)
        await send(update, context, not_allowed(t))
        return
    if chat_of(update).type != ChatType.PRIVATE:
        await send(
            update,
            context,
            t.gettext(
                "Please ask me for /web in a private chat: a sign-in link must not be seen by "
                "others."
            ),
        )
        return
    try:
        token = await issue_login(user_id, now=now)
    except NotStaff:
        await send(update, context, not_allowed(t))
        return
    link = f"{dashboard_url(context.services.settings)}/web/login?t={token}"
    minutes = int(LINK_LIFETIME.total_seconds() // 60)
    text = t.ngettext(
        "Your sign-in link to the dashboard, good for one use within {minutes} minute:\n{link}",
        "Your sign-in link to the dashboard, good for one use within {minutes} minutes:\n{link}",
        minutes,
        minutes=minutes,
        link=link,
    )
    # Marked secret: the outbox keeps the link only until it has been sent.
    await enqueue(
        user_id,
        "sendMessage",
        {"text": text, "link_preview_options": {"is_disabled": True}},
        now=now,
        update_id=update.update_id,
        secret=True,
    )


def handlers(app: MinshengApp) -> list[Any]:
    return [CommandHandler("web", on_web, filters=staff_filter(app))]
