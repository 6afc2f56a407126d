"""`minsheng kb load FILE`: load the knowledge base from a file, checked whole first."""

from __future__ import annotations

import argparse
from typing import Any

from bot.file_load_cli import add_load_parser, load_file
from bot.settings import Settings
from storage.kb_file import KbFileInvalid
from storage.kb_load import load_knowledge


def add_kb_parser(sub: Any) -> None:
    """The `kb` command and its options, each with its help."""
    add_load_parser(
        sub,
        "kb",
        help="the knowledge base (知识库) of answers offered before a request is filed",
        description="Load articles from a TOML file (storage/sample_knowledge.toml shows the "
        "shape). The whole file is checked first: a bad file changes nothing and each problem "
        "names its line. Changed articles get a new version; codes left out become inactive.",
        action="load: add or update the articles of FILE",
        file="a knowledge-base TOML file",
    )


async def run_kb_command(args: argparse.Namespace, settings: Settings) -> int:
    """Load the file into the settings' database; 2 (nothing changed) when it is refused."""
    return await load_file(args.file, settings, load_knowledge, KbFileInvalid, "knowledge base")
