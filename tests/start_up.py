"""Starting `python -m bot` in an empty folder with only the given settings."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from tests.harness import (
    ROOT,
)


async def start_up(workdir: Path, command: str, env: dict[str, str]) -> tuple[int, str, str]:
    """`python -m bot <command>` in an empty folder (no developer .env), with only ``env``."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        command,
        cwd=workdir,
        env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT), **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=30)
    return process.returncode or 0, out.decode(), err.decode()
