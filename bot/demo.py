"""`minsheng demo`: the bot, a local Telegram sandbox and its web chat page, on SQLite."""

from __future__ import annotations

import logging

from bot.runtime import Runtime
from bot.sandbox import Sandbox, SandboxConfig
from bot.settings import load_settings
from bot.web import serve_public_side
from storage.catalog import DepartmentNotFound
from storage.forum_topics import forget_topics
from storage.inbox import highest_update_id
from storage.kb_file import KbFileInvalid
from storage.kb_load import SAMPLE_KNOWLEDGE, kb_loaded, load_knowledge
from storage.outbox import forget_calls, highest_message_id
from storage.reply_templates import (
    SAMPLE_TEMPLATES,
    TemplateFileInvalid,
    load_templates,
    templates_loaded,
)
from storage.staff import StaffRole, add_staff, staff_changes

log = logging.getLogger(__name__)

DEMO_STAFF_ID = 9001
# A handler of the sample catalogue's heating company: their replies go to review, so the
# admin can walk the review gate (Approve · Return) too.
DEMO_HANDLER_ID = 9002
DEMO_HANDLER_DEPARTMENT = "heating-company"


async def run_demo(host: str, port: int, database_url: str) -> None:
    config = SandboxConfig()
    sandbox = Sandbox(config)
    base = await sandbox.start(host, port)
    settings = load_settings(
        env_file=None,
        bot_token=config.token,
        bot_api_url=sandbox.api_url,
        bot_file_url=sandbox.file_url,
        database_url=database_url,
        admin_ids=(DEMO_STAFF_ID,),
        staff_chat_id=config.staff_group_id,
        poll_timeout=10,
        # Open311 and the staff dashboard (/web in the staff pane sends the sign-in link).
        web_listen=f"{host}:{port + 1}",
    )
    config.time_zone = settings.timezone  # the web chat's times, as the bot's messages give them
    # MINSHENG_STAFF_TOPICS=1 minsheng demo: the staff group is a forum, a topic per department.
    config.staff_forum = settings.staff_topics
    try:
        runtime = await Runtime.start(settings)
    except BaseException:
        await sandbox.stop()
        raise
    try:
        async with runtime.closed_on_failure():
            await run_demo_desk(runtime, sandbox, base, host, port)
    finally:
        await sandbox.stop()


async def run_demo_desk(
    runtime: Runtime, sandbox: Sandbox, base: str, host: str, port: int
) -> None:
    """Ready the demo's desk, serve its web side, and poll until stopped."""
    # The sandbox starts empty, the database does not: carry on its update and message
    # numbers (a repeated update_id would be taken for a redelivery and skipped).
    sandbox.world.continue_after(await highest_update_id(), await highest_message_id())
    await add_demo_handler(runtime)
    await add_sample_articles(runtime)
    await add_sample_templates(runtime)
    # The sandbox starts empty, the database does not: send the command menus again.
    await forget_calls(("setMyCommands", "deleteMyCommands"))
    if runtime.services.settings.staff_topics:
        await forget_topics()  # its forum has no topics yet: the bot opens them again
    await runtime.queue_command_menus()
    async with serve_public_side(runtime):
        # Said once both ports listen: whoever reads it can open either page.
        print(f"\n  Minsheng demo is running: open {base}/ in a browser.")
        print(
            f"  Staff dashboard: http://{host}:{port + 1}/web/ (send /web in the staff pane's "
            f"private chat for a sign-in link); the public board of published answers at "
            f"http://{host}:{port + 1}/board/; Open311 at "
            f"http://{host}:{port + 1}/open311/v2/services.json"
        )
        print(
            f'  Citizen pane: user 1001. Staff pane: admin {DEMO_STAFF_ID} (tick "Staff group '
            f'chat" for the new-request cards); user {DEMO_HANDLER_ID} is a handler of '
            f"{DEMO_HANDLER_DEPARTMENT}. Ctrl-C stops.\n",
            flush=True,
        )
        await runtime.run_polling()


async def add_sample_articles(runtime: Runtime) -> None:
    """The sample knowledge base, when the demo's desk has no article yet.

    Only the demo loads it: its fees, dates and addresses are invented, and a real desk must
    not offer them to citizens (it loads its own with `minsheng kb load`).
    """
    if await kb_loaded():
        return
    settings = runtime.services.settings
    try:
        report = await load_knowledge(
            SAMPLE_KNOWLEDGE,
            default_language=settings.default_language,
            now=runtime.services.clock.now(),
        )
    except KbFileInvalid as exc:  # e.g. a catalogue of its own: the demo runs without articles
        log.warning("the sample knowledge base was not loaded: %s", exc)
        return
    log.info("sample knowledge base loaded: %s", report)


async def add_sample_templates(runtime: Runtime) -> None:
    """The sample reply templates, when the demo's desk has none yet (the demo only, like the
    articles: their facts are invented; a desk loads its own with `minsheng templates load`)."""
    if await templates_loaded():
        return
    settings = runtime.services.settings
    try:
        report = await load_templates(
            SAMPLE_TEMPLATES,
            default_language=settings.default_language,
            now=runtime.services.clock.now(),
        )
    except TemplateFileInvalid as exc:  # a catalogue of its own: the demo runs without them
        log.warning("the sample reply templates were not loaded: %s", exc)
        return
    log.info("sample reply templates loaded: %s", report)


async def add_demo_handler(runtime: Runtime) -> None:
    """Make the demo's handler staff once (kept as it is if the admin changed it since)."""
    if await staff_changes([DEMO_HANDLER_ID]):
        return
    try:
        await add_staff(
            DEMO_HANDLER_ID,
            StaffRole.HANDLER,
            DEMO_HANDLER_DEPARTMENT,
            by=DEMO_STAFF_ID,
            now=runtime.services.clock.now(),
        )
    except DepartmentNotFound:
        log.info("no %s department in this catalogue: no demo handler", DEMO_HANDLER_DEPARTMENT)
