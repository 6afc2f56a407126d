"""What the `kb load FILE` and `templates load FILE` commands share: a `<name> load FILE`
parser, and loading a file checked whole first (exit 2 and nothing changed when it is refused,
each problem on its line)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.settings import Settings
from storage.db import close_database, open_database

EXIT_REFUSED = 2
Loader = Callable[..., Awaitable[object]]  # (path, *, default_language, now) -> its report


def add_load_parser(
    sub: Any, name: str, *, help: str, description: str, action: str, file: str
) -> None:
    """The `<name> load FILE` command, each part with its help."""
    parser = sub.add_parser(name, help=help, description=description)
    parser.add_argument("action", choices=("load",), help=action)
    parser.add_argument("file", type=Path, help=file)


async def load_file(
    file: Path, settings: Settings, load: Loader, refused: type[Exception], loaded: str
) -> int:
    """Load `file` into the settings' database with `load`; 2 (nothing changed) when it raises
    `refused` (its text names each problem) or cannot be read. `loaded` names what was loaded
    in the line printed after."""
    await open_database(settings.database_url, ready_level=logging.DEBUG)
    try:
        report = await load(
            file, default_language=settings.default_language, now=datetime.now(UTC)
        )
    except refused as exc:
        print(f"minsheng: {file} was not loaded, nothing changed:\n{exc}", file=sys.stderr)
        return EXIT_REFUSED
    except OSError as exc:
        print(f"minsheng: cannot read {file}: {exc.strerror}", file=sys.stderr)
        return EXIT_REFUSED
    finally:
        await close_database()
    print(f"{loaded} loaded from {file}: {report}")
    return 0
