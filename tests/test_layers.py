"""The layers' dependencies point one way: storage/ knows nothing of Telegram, HTTP, handlers or
the runtime, so it stays true with another messenger (STYLE.md, "Layers")."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN_IN_STORAGE = ("telegram", "aiohttp", "handlers", "bot", "httpx")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize(
    "path", sorted((ROOT / "storage").rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT))
)
def test_storage_imports_no_outer_layer(path: Path) -> None:
    bad = {
        name for name in imported_modules(path)
        if name.split(".")[0] in FORBIDDEN_IN_STORAGE
    }  # fmt: skip
    assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


def test_the_check_sees_imports() -> None:
    sample = ROOT / "handlers" / "common.py"
    assert "telegram" in imported_modules(sample)
