"""The staff's command menus: in the staff chat, and in each staff member's private chat.

Telegram shows the menu of the narrowest scope that has one: a chat's own menu (per language,
then without one) wins over the all-private-chats menu the citizens get. So the staff chat gets
the staff commands, and each active member's private chat gets the citizens' commands followed
by the staff commands; a member taken off the staff gets their chat's menu deleted, which brings
the citizens' menu back.

The menus are outbox rows like the citizens' menu (never calls made inside a transaction):
queued at start-up and after `/staff add|remove`. Each row's dedupe key names the member's
staff row as it was last changed, so a restart queues nothing new, and every change queues once.

A staff command's name comes from its module's COMMANDS (gathered in handlers.STAFF_COMMANDS);
its description is one line of DESCRIPTIONS below, in the order the menu shows them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from bot.i18n import COMMAND_MENU_CODES, Catalogs, Translator
from handlers.menu import commands as citizen_commands
from storage.outbox import enqueue
from storage.staff import staff_changes

# Most used first: the desk's daily work, then routing, the review gate, ends, reports, people.
DESCRIPTIONS: dict[str, Callable[[Translator], str]] = {
    "queue": lambda t: t.gettext("Cases waiting: new, mine, department, overdue, review"),
    "case": lambda t: t.gettext("Show a case: card, timeline, internal notes"),
    "reply": lambda t: t.gettext("Answer the citizen (a supervisor reviews it first)"),
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
    "stats": lambda t: t.gettext("Figures per department and category"),
    "digest": lambda t: t.gettext("This week's digest of hot topics"),
    "export": lambda t: t.gettext("Export cases as a spreadsheet file"),
    "ban": lambda t: t.gettext("Stop a citizen from filing requests, with a reason"),
    "unban": lambda t: t.gettext("Let a banned citizen file requests again"),
    "staff": lambda t: t.gettext("Manage the staff: add, remove, list"),
    "web": lambda t: t.gettext("A one-time sign-in link to the web dashboard"),
}
# Served in private chats only (a sign-in link in the group could be opened by anyone first).
PRIVATE_ONLY = frozenset({"web"})

Menu = list[tuple[str, str]]


def staff_commands(t: Translator, *, group: bool = False) -> Menu:
    """The staff commands, in the menu's order (in a group: without the private-only ones)."""
    return [
        (name, describe(t))
        for name, describe in DESCRIPTIONS.items()
        if not (group and name in PRIVATE_ONLY)
    ]


def staff_chat_menus(catalogs: Catalogs) -> dict[str, Menu]:
    """The staff chat's menus by Telegram language_code ("" for every other language)."""
    return _by_code(catalogs, lambda t: staff_commands(t, group=True))


def member_menus(catalogs: Catalogs) -> dict[str, Menu]:
    """A staff member's private menus: what citizens have, then the staff commands."""
    return _by_code(catalogs, lambda t: citizen_commands(t) + staff_commands(t))


def _by_code(catalogs: Catalogs, menu: Callable[[Translator], Menu]) -> dict[str, Menu]:
    menus = {"": menu(catalogs.get(catalogs.default_language))}
    for language, code in COMMAND_MENU_CODES.items():
        menus[code] = menu(catalogs.get(language))
    return menus


def chat_scope(chat_id: int) -> dict[str, Any]:
    return {"type": "chat", "chat_id": chat_id}


async def queue_menus(
    scope_chat: int, menus: dict[str, Menu] | None, *, now: datetime, version: str
) -> None:
    """Queue one chat's menus (None: delete them), once per `version` and content."""
    codes = menus if menus is not None else dict.fromkeys(("", *COMMAND_MENU_CODES.values()))
    for code, menu in codes.items():
        params: dict[str, Any] = {"scope": chat_scope(scope_chat)}
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
        key = f"menu:{scope_chat}:{code}:{version}:{digest}"
        await enqueue(None, method, params, now=now, dedupe_key=key)


async def queue_member_menus(
    catalogs: Catalogs, *, now: datetime, user_ids: Iterable[int] | None = None
) -> None:
    """Each staff member's private menu as their staff row now stands (all, or `user_ids`)."""
    menus = member_menus(catalogs)
    for user_id, (active, changed_at) in (await staff_changes(user_ids)).items():
        version = changed_at.isoformat()
        await queue_menus(user_id, menus if active else None, now=now, version=version)


async def queue_staff_menus(
    catalogs: Catalogs, staff_chat_id: int | None, *, now: datetime
) -> None:
    """At start-up: the staff chat's menu, and every member's (removed ones: deleted)."""
    if staff_chat_id is not None:
        menus = staff_chat_menus(catalogs)
        await queue_menus(staff_chat_id, menus, now=now, version="chat")
    await queue_member_menus(catalogs, now=now)
