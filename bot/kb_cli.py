"""`minsheng kb load FILE`: load the knowledge base from a file, checked whole first."""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.settings import Settings
from storage.db import close_database, open_database
from storage.kb_file import KbFileInvalid
from storage.kb_load import load_knowledge

EXIT_REFUSED = 2


def add_kb_parser(sub: Any) -> None:
    """The `kb` command and its options, each with its help."""
    kb = sub.add_parser(
        "kb",
        help="the knowledge base (知识库) of answers offered before a request is filed",
        description="Load articles from a TOML file (storage/sample_knowledge.toml shows the "
        "shape). The whole file is checked first: a bad file changes nothing and each problem "
        "names its line. Changed articles get a new version; codes left out become inactive.",
    )
    kb.add_argument("action", choices=("load",), help="load: add or update the articles of FILE")
    kb.add_argument("file", type=Path, help="a knowledge-base TOML file")


async def run_kb_command(args: argparse.Namespace, settings: Settings) -> int:
    """Load the file into the settings' database; 2 (nothing changed) when it is refused."""
    await open_database(settings.database_url, ready_level=logging.DEBUG)
    try:
        report = await load_knowledge(
            args.file, default_language=settings.default_language, now=datetime.now(UTC)
        )
    except KbFileInvalid as exc:
        print(f"minsheng: {args.file} was not loaded, nothing changed:\n{exc}", file=sys.stderr)
        return EXIT_REFUSED
    except OSError as exc:
        print(f"minsheng: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return EXIT_REFUSED
    finally:
        await close_database()
    print(f"knowledge base loaded from {args.file}: {report}")
    return 0
