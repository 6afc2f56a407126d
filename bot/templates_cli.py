"""`minsheng templates load FILE`: load the reply templates (答复模板), checked whole first."""

from __future__ import annotations

import argparse
from typing import Any

from bot.file_load_cli import add_load_parser, load_file
from bot.settings import Settings
from storage.reply_templates import TemplateFileInvalid, load_templates


def add_templates_parser(sub: Any) -> None:
    """The `templates` command and its options, each with its help."""
    add_load_parser(
        sub,
        "templates",
        help="the reply templates (答复模板) staff fill in, and the automatic first replies",
        description="Load reply templates from a TOML file (storage/sample_templates.toml "
        "shows the shape). The whole file is checked first: a bad file (an unknown "
        "placeholder or category, say) changes nothing and each problem names its line. "
        "Changed templates get a new version; codes left out become inactive.",
        action="load: add or update the templates",
        file="a reply-template TOML file",
    )


async def run_templates_command(args: argparse.Namespace, settings: Settings) -> int:
    """Load the file into the settings' database; 2 (nothing changed) when it is refused."""
    return await load_file(
        args.file, settings, load_templates, TemplateFileInvalid, "reply templates"
    )
