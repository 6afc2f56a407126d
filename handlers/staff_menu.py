"""The staff's command menus: in the staff chat, and in each staff member's private chat.

Telegram shows the menu of the narrowest scope that has one: a chat member's own menu in a
group, then the chat's (per language, then without one), over the all-private-chats menu the
citizens get. Each member gets the commands their role may use (storage.staff.may): in their
private chat the citizens' commands followed by those, and in the staff chat a menu of their
own (scope chat_member). The staff chat's menu for anyone else is a handler's. A member taken
off the staff gets their menus deleted, which brings the citizens' (or the chat's) back.

The menus are outbox rows like the citizens' menu (never calls made inside a transaction):
queued at start-up, after `/staff add|remove`, and by `minsheng staff add|remove` in the same
transaction as the change (the running bot's sender sends them). Each row's dedupe key names
the member's staff row as it was last changed, so a restart queues nothing new, and every
change queues once.

A staff command's name comes from its module's COMMANDS (gathered in handlers.STAFF_COMMANDS);
its description is one line of DESCRIPTIONS below, in the order the menu shows them, and the
action it takes is in NEEDS.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from bot.i18n import COMMAND_MENU_CODES, Catalogs, Translator
from handlers.menu import commands as citizen_commands
from storage.models import StaffRole
from storage.outbox import enqueue
from storage.staff import StaffAction, StaffView, may, staff_changes

# Most used first: the desk's daily work, then routing, the review gate, ends, reports, people.
DESCRIPTIONS: dict[str, Callable[[Translator], str]] = {
    "queue": lambda t: t.gettext("What to work on now; or new, mine, overdue, review"),
    "case": lambda t: t.gettext("Show a case: card, timeline, internal notes"),
    "take": lambda t: t.gettext("Become the handler of a case of your department"),
    "give": lambda t: t.gettext("Make a colleague the handler of a case"),
    "reply": lambda t: t.gettext("Answer the citizen (a supervisor reviews it first)"),
    "kb": lambda t: t.gettext("Search the knowledge base; a reply can quote an article"),
    "ask": lambda t: t.gettext("Ask the citizen for more information"),
    "note": lambda t: t.gettext("Add an internal note to a case"),
    "assign": lambda t: t.gettext("Route a new case to a department"),
    "transfer": lambda t: t.gettext("Send a case on to another department, with a reason"),
    "sign": lambda t: t.gettext("Sign for a case routed to your department"),
    "sendback": lambda t: t.gettext("Return a misrouted case to the supervisors"),
    "cohandle": lambda t: t.gettext("Add a co-handling department to a case"),
    "urgent": lambda t: t.gettext("Mark a case urgent"),
    "extend": lambda t: t.gettext("Ask for more time on a case"),
    "grant": lambda t: t.gettext("Grant a department's request for more time"),
    "refuse": lambda t: t.gettext("Refuse a department's request for more time"),
    "approve": lambda t: t.gettext("Approve a reply waiting for review"),
    "return": lambda t: t.gettext("Return a reply waiting for review to its author"),
    "close": lambda t: t.gettext("Close a case"),
    "reject": lambda t: t.gettext("Do not accept a case, with a reason"),
    "merge": lambda t: t.gettext("Merge a case into another one"),
    "reopen": lambda t: t.gettext("Reopen a case"),
    "dispute": lambda t: t.gettext("Dispute an unsatisfied rating of your department's case"),
    "disputes": lambda t: t.gettext("Disputed ratings waiting for a decision"),
    "stats": lambda t: t.gettext("Figures per department and category"),
    "digest": lambda t: t.gettext("This week's digest of hot topics"),
    "export": lambda t: t.gettext("Export cases as a spreadsheet file"),
    "ban": lambda t: t.gettext("Stop a citizen from filing requests, with a reason"),
    "unban": lambda t: t.gettext("Let a banned citizen file requests again"),
    "staff": lambda t: t.gettext("Manage the staff: add, remove, list"),
    "web": lambda t: t.gettext("A one-time sign-in link to the web dashboard"),
}
# What each command does, as storage.staff decides who may: a role that may not gets no line.
NEEDS: dict[str, StaffAction] = {
    "queue": StaffAction.VIEW,
    "case": StaffAction.VIEW,
    "take": StaffAction.TAKE,
    "give": StaffAction.GIVE,
    "dispute": StaffAction.DISPUTE,
    "disputes": StaffAction.DECIDE_DISPUTE,
    "reply": StaffAction.REPLY,
    "kb": StaffAction.VIEW,
    "ask": StaffAction.ASK,
    "note": StaffAction.NOTE,
    "assign": StaffAction.ASSIGN,
    "transfer": StaffAction.TRANSFER,
    "sign": StaffAction.SIGN,
    "sendback": StaffAction.SEND_BACK,
    "cohandle": StaffAction.CO_HANDLE,
    "urgent": StaffAction.URGENT,
    "extend": StaffAction.REQUEST_EXTENSION,
    "grant": StaffAction.DECIDE_EXTENSION,
    "refuse": StaffAction.DECIDE_EXTENSION,
    "approve": StaffAction.APPROVE,
    "return": StaffAction.RETURN_REPLY,
    "close": StaffAction.CLOSE,
    "reject": StaffAction.REJECT,
    "merge": StaffAction.MERGE,
    "reopen": StaffAction.REOPEN,
    "stats": StaffAction.REPORTS,
    "digest": StaffAction.REPORTS,
    "export": StaffAction.REPORTS,
    "ban": StaffAction.BAN,
    "unban": StaffAction.BAN,
    "staff": StaffAction.MANAGE_STAFF,
    "web": StaffAction.VIEW,
}
# Served in private chats only (a sign-in link in the group could be opened by anyone first).
PRIVATE_ONLY = frozenset({"web"})
Menu = list[tuple[str, str]]


def staff_commands(t: Translator, member: StaffView | None, *, group: bool = False) -> Menu:
    """The staff commands the member may use (None: what every member may), in the menu's
    order (in a group: without the private-only ones)."""
    role = member.role if member is not None else StaffRole.HANDLER
    department = member.department_code if member is not None else None
    lines = []
    for name, describe in DESCRIPTIONS.items():
        if (group and name in PRIVATE_ONLY) or not may(role, NEEDS[name], department):
            continue
        if name == "reply" and role is not StaffRole.HANDLER:
            lines.append((name, t.gettext("Answer the citizen")))  # nobody reviews theirs
        else:
            lines.append((name, describe(t)))
    return lines


def staff_chat_menus(catalogs: Catalogs, member: StaffView | None = None) -> dict[str, Menu]:
    """The staff chat's menus by Telegram language_code ("" for every other language): a
    member's own, or (None) the chat's, for anyone without one."""
    return _by_code(catalogs, lambda t: staff_commands(t, member, group=True))


def member_menus(catalogs: Catalogs, member: StaffView) -> dict[str, Menu]:
    """A staff member's private menus: what citizens have, then the staff commands."""
    return _by_code(catalogs, lambda t: citizen_commands(t) + staff_commands(t, member))


def _by_code(catalogs: Catalogs, menu: Callable[[Translator], Menu]) -> dict[str, Menu]:
    menus = {"": menu(catalogs.get(catalogs.default_language))}
    for language, code in COMMAND_MENU_CODES.items():
        menus[code] = menu(catalogs.get(language))
    return menus


def chat_scope(chat_id: int, user_id: int | None = None) -> dict[str, Any]:
    """A chat's scope, or one member's in a group chat."""
    if user_id is None:
        return {"type": "chat", "chat_id": chat_id}
    return {"type": "chat_member", "chat_id": chat_id, "user_id": user_id}


async def queue_menus(
    scope_chat: int,
    menus: dict[str, Menu] | None,
    *,
    now: datetime,
    version: str,
    member: int | None = None,
) -> None:
    """Queue one chat's menus, or a `member`'s in it (None: delete them), once per `version`
    and content."""
    codes = menus if menus is not None else dict.fromkeys(("", *COMMAND_MENU_CODES.values()))
    for code, menu in codes.items():
        params: dict[str, Any] = {"scope": chat_scope(scope_chat, member)}
        if code:
            params["language_code"] = code
        method = "deleteMyCommands"
        if menu is not None:
            method = "setMyCommands"
            params["commands"] = [{"command": c, "description": d} for c, d in menu]
        # A stable digest (not hash(): it changes with every process), as for the citizens.
        digest = hashlib.sha256(
            json.dumps([method, params], sort_keys=True, ensure_ascii=False).encode()
        ).hexdigest()[:16]
        where = scope_chat if member is None else f"{scope_chat}/{member}"
        key = f"menu:{where}:{code}:{version}:{digest}"
        await enqueue(None, method, params, now=now, dedupe_key=key)


async def queue_member_menus(
    catalogs: Catalogs,
    staff_chat_id: int | None,
    *,
    now: datetime,
    user_ids: Iterable[int] | None = None,
) -> None:
    """Each staff member's menus as their staff row now stands (all, or `user_ids`): in their
    private chat, and theirs in the staff chat."""
    for user_id, (member, changed_at) in (await staff_changes(user_ids)).items():
        version = changed_at.isoformat()
        own = member_menus(catalogs, member) if member.active else None
        await queue_menus(user_id, own, now=now, version=version)
        if staff_chat_id is not None:
            in_chat = staff_chat_menus(catalogs, member) if member.active else None
            await queue_menus(staff_chat_id, in_chat, now=now, version=version, member=user_id)


async def queue_staff_menus(
    catalogs: Catalogs, staff_chat_id: int | None, *, now: datetime
) -> None:
    """At start-up: the staff chat's menu, and every member's (removed ones: deleted)."""
    if staff_chat_id is not None:
        menus = staff_chat_menus(catalogs)
        await queue_menus(staff_chat_id, menus, now=now, version="chat")
    await queue_member_menus(catalogs, staff_chat_id, now=now)
