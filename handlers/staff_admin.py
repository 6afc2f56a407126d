"""Staff management: `/staff add|remove|list`, for admins, in the staff chat or a private chat.

Who may manage staff is decided in storage (storage.staff), never here: a handler only parses,
calls the operation and words the outcome. Staff speak their own language, like citizens.
"""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import CommandHandler

from bot.context import MinshengApp, MinshengContext
from bot.i18n import Translator
from handlers.common import send, user_of, who
from handlers.staff_kit import not_allowed, staff_filter
from handlers.staff_menu import queue_member_menus
from storage.catalog import DepartmentNotFound
from storage.staff import (
    StaffAction,
    StaffDepartmentRequired,
    StaffLastAdmin,
    StaffNotAuthorized,
    StaffNotFound,
    StaffRole,
    StaffView,
    add_staff,
    authorize,
    list_staff,
    remove_staff,
)

COMMANDS = ("staff",)


def role_name(t: Translator, role: StaffRole) -> str:
    names = {
        StaffRole.HANDLER: t.gettext("handler"),
        StaffRole.SUPERVISOR: t.gettext("supervisor"),
        StaffRole.ADMIN: t.gettext("admin"),
    }
    return names[role]


def usage(t: Translator) -> str:
    return t.gettext(
        "Usage: /staff add <user id> <role> [department code], /staff remove <user id>, "
        "/staff list. Roles: handler, supervisor, admin. In the staff chat you may also reply "
        "to a member's message with /staff add <role> [department code]."
    )


def member_line(t: Translator, member: StaffView) -> str:
    line = f"• {member.user_id} — {role_name(t, member.role)}"
    return f"{line} — {member.department_code}" if member.department_code else line


def target_of(update: Update, args: list[str]) -> tuple[int, list[str]] | None:
    """The user an add/remove names (by id, or the sender of the replied-to message)."""
    message = update.effective_message
    replied = message.reply_to_message if message is not None else None
    if args and args[0].isdigit():
        return int(args[0]), args[1:]
    if replied is not None and replied.from_user is not None and not replied.from_user.is_bot:
        return replied.from_user.id, args
    return None


async def on_staff(update: Update, context: MinshengContext) -> None:
    """Manage the staff list (admins only): add, remove or list members."""
    _, t = await who(update, context)
    admin, now = user_of(update).id, context.services.clock.now()
    try:
        await authorize(admin, StaffAction.MANAGE_STAFF, None, now=now)
    except StaffNotAuthorized:
        await send(update, context, not_allowed(t))
        return
    args = list(context.args or [])
    command, rest = (args[0].lower(), args[1:]) if args else ("", [])
    if command == "list":
        members = await list_staff()
        await send(
            update,
            context,
            "\n".join([t.gettext("Staff:")] + [member_line(t, m) for m in members]),
        )
        return
    target = target_of(update, rest) if command in ("add", "remove") else None
    if target is None:
        await send(update, context, usage(t))
        return
    await send(update, context, await change(t, command, *target, by=admin, now=now))
    # Their private chat's command menu follows the change (queued once per change, if any).
    await queue_member_menus(
        context.services.catalogs,
        context.services.settings.staff_chat_id,
        now=now,
        user_ids=[target[0]],
    )


async def change(t: Translator, command: str, user_id: int, rest: list[str], **by: Any) -> str:
    """Add or remove one member; the answer in words, whatever happened."""
    department = rest[1] if command == "add" and len(rest) > 1 else None
    try:
        if command == "remove":
            await remove_staff(user_id, **by)
            return t.gettext("{user} is no longer staff.", user=user_id)
        if not rest or rest[0].lower() not in tuple(StaffRole):
            return usage(t)
        member = await add_staff(user_id, StaffRole(rest[0].lower()), department, **by)
    except StaffNotAuthorized:
        return not_allowed(t)
    except StaffDepartmentRequired:
        return t.gettext("A handler needs a department: add its code after the role.")
    except DepartmentNotFound:
        return t.gettext("There is no active department with the code {code}.", code=department)
    except StaffNotFound:
        return t.gettext("{user} is not staff.", user=user_id)
    except StaffLastAdmin:
        return t.gettext("That would leave the desk without an admin; nothing was changed.")
    return t.gettext("Done: {member}", member=member_line(t, member))


def handlers(app: MinshengApp) -> list[CommandHandler[MinshengContext, None]]:
    """The staff-management commands, for register()."""
    return [CommandHandler("staff", on_staff, filters=staff_filter(app))]
