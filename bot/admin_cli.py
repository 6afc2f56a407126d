"""`minsheng staff …` and `minsheng apikey …`: the operator's commands on the database.

The operator holds the database, so these need no Telegram account; staff changes are recorded
as made by the first admin of MINSHENG_ADMIN_IDS (who is made an admin first, as at start-up),
so the audit trail always names a person. An API key is printed once and never again; it has a
quota of filings a minute and a day, and with --read-private it reads the status of private
cases (for a partner system).
"""

from __future__ import annotations

import argparse
import logging
import sys

from tortoise.transactions import in_transaction

from bot.clock import SystemClock
from bot.i18n import Catalogs
from bot.settings import Settings
from handlers.staff_menu import queue_member_menus
from storage.apikeys import (
    ApiKeyNameTaken,
    ApiKeyNotFound,
    add_key,
    default_quota,
    list_keys,
    revoke_key,
)
from storage.catalog import DepartmentNotFound
from storage.db import close_database, open_database
from storage.models import StaffRole
from storage.staff import (
    StaffDepartmentRequired,
    StaffLastAdmin,
    StaffNotFound,
    add_staff,
    ensure_admins,
    list_staff,
    remove_staff,
)

EXIT_REFUSED = 1
EXIT_SETTINGS = 2


def add_admin_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    staff = sub.add_parser("staff", help="add, remove or list staff members")
    staff_actions = staff.add_subparsers(dest="action", required=True)
    add = staff_actions.add_parser("add", help="make a Telegram user staff")
    add.add_argument("user_id", type=int, help="their numeric Telegram user id")
    add.add_argument("role", choices=[r.value for r in StaffRole], help="what they may do")
    add.add_argument("department", nargs="?", help="department code (handlers: required)")
    remove = staff_actions.add_parser("remove", help="take a user off the staff")
    remove.add_argument("user_id", type=int, help="their numeric Telegram user id")
    staff_actions.add_parser("list", help="the active staff")
    keys = sub.add_parser("apikey", help="API keys for Open311 clients")
    key_actions = keys.add_subparsers(dest="action", required=True)
    key_add = key_actions.add_parser("add", help="issue a key (printed once)")
    key_add.add_argument("name", help="who holds it, e.g. web-form")
    per_minute, per_day = default_quota()
    key_add.add_argument(
        "--per-minute",
        type=_positive,
        default=per_minute,
        help=f"filings a minute (default {per_minute})",
    )
    key_add.add_argument(
        "--per-day", type=_positive, default=per_day, help=f"filings a day (default {per_day})"
    )
    key_add.add_argument(
        "--read-private",
        action="store_true",
        help="may read the status (no text, notes or place) of private cases",
    )
    key_revoke = key_actions.add_parser("revoke", help="revoke a key")
    key_revoke.add_argument("name", help="the name the key was issued under")
    key_actions.add_parser("list", help="the keys: name, state, last use, quota, scope")


def _positive(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise argparse.ArgumentTypeError("at least 1")
    return value


async def run_admin_command(args: argparse.Namespace, settings: Settings) -> int:
    await open_database(settings.database_url, ready_level=logging.DEBUG)
    try:
        if args.command == "staff":
            return await _staff(args, settings)
        return await _apikey(args)
    finally:
        await close_database()


async def _staff(args: argparse.Namespace, settings: Settings) -> int:
    now = SystemClock().now()
    if args.action == "list":
        for member in await list_staff():
            department = member.department_code or "-"
            print(f"{member.user_id}\t{member.role.value}\t{department}")
        return 0
    if not settings.admin_ids:
        print(
            "minsheng: set MINSHENG_ADMIN_IDS: staff changes are made as its first admin",
            file=sys.stderr,
        )
        return EXIT_SETTINGS
    by = min(settings.admin_ids)
    await ensure_admins(settings.admin_ids, now=now)
    try:
        # The change and the member's new command menus commit together; the running bot's
        # sender sends the menus (handlers.staff_menu), no restart needed.
        async with in_transaction():
            if args.action == "add":
                member = await add_staff(
                    args.user_id, StaffRole(args.role), args.department, by=by, now=now
                )
            else:
                member = await remove_staff(args.user_id, by=by, now=now)
            catalogs = Catalogs(settings.default_language)
            changed = [args.user_id, *settings.admin_ids]
            await queue_member_menus(catalogs, settings.staff_chat_id, now=now, user_ids=changed)
    except StaffDepartmentRequired:
        return _refuse("a handler needs a department code")
    except DepartmentNotFound as missing:
        return _refuse(f"no active department {missing}")
    except StaffNotFound:
        return _refuse(f"{args.user_id} is not staff")
    except StaffLastAdmin:
        return _refuse("that would leave no admin")
    state = "active" if member.active else "removed"
    print(f"{member.user_id}\t{member.role.value}\t{member.department_code or '-'}\t{state}")
    return 0


async def _apikey(args: argparse.Namespace) -> int:
    if args.action == "list":
        keys = await list_keys()
        if not keys:
            print("no API keys yet: issue one with `minsheng apikey add NAME`")
        for key in keys:
            used = key.last_used_at.isoformat() if key.last_used_at else "never used"
            scope = "read-private" if key.read_private else "public"
            print(
                f"{key.name}\t{'active' if key.active else 'revoked'}\t{used}\t"
                f"{key.per_minute}/minute\t{key.per_day}/day\t{scope}"
            )
        return 0
    if args.action == "revoke":
        try:
            await revoke_key(args.name)
        except ApiKeyNotFound:
            return _refuse(f"no active key named {args.name}")
        print(f"revoked {args.name}")
        return 0
    try:
        issued = await add_key(
            args.name,
            now=SystemClock().now(),
            read_private=args.read_private,
            per_minute=args.per_minute,
            per_day=args.per_day,
        )
    except ValueError as bad:
        return _refuse(str(bad))
    except ApiKeyNameTaken:
        return _refuse(f"a key named {args.name} exists (names are never reused)")
    print(issued)
    print(f"(key for {args.name}: shown only now; send it as the api_key field)", file=sys.stderr)
    return 0


def _refuse(why: str) -> int:
    print(f"minsheng: {why}; nothing changed", file=sys.stderr)
    return EXIT_REFUSED
