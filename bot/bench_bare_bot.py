"""A bare python-telegram-bot that answers every message straight from its handler.

`minsheng bench` runs it beside the real pipeline, through the same sandbox, as the ceiling:
no storage, no inbox, no outbox. With `--transport default` it is python-telegram-bot exactly as
its builder sets it up (httpx, one update at a time).
"""

from __future__ import annotations

import argparse
import logging

from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from bot import event_loop
from bot.transport import AiohttpRequest


async def answer(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    """Reply at once."""
    if update.effective_message is not None:
        await update.effective_message.reply_text("ok")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bot.bench_bare_bot")
    parser.add_argument("--api-url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--transport", choices=("aiohttp", "default"), default="aiohttp")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    event_loop.install()  # the loop the pipeline runs on, so that both sides compare
    builder = Application.builder().token(args.token).base_url(args.api_url)
    if args.transport == "aiohttp":
        builder = builder.request(AiohttpRequest()).get_updates_request(AiohttpRequest())
    app = builder.build()
    app.add_handler(MessageHandler(filters.ALL, answer))
    app.run_polling(timeout=10, allowed_updates=Update.ALL_TYPES, close_loop=True)


if __name__ == "__main__":
    main()
