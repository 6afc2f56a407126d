"""The layers' dependencies point one way: storage/ knows nothing of Telegram, HTTP, handlers or
the runtime, so it stays true with another messenger (STYLE.md, "Layers").

And the project's modules import each other without circles, at the top of the file: an import
inside a function is allowed only with a `# deferred: <why>` comment on the line above it or on
its own line (a heavy dependency that one feature alone needs). Imports under
`if TYPE_CHECKING:` are for annotations only and never run, so they draw no arrow."""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN_IN_STORAGE = ("telegram", "aiohttp", "handlers", "bot", "httpx")
PACKAGES = ("bot", "handlers", "storage")
DEFERRED = "# deferred:"


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
    bad = {name for name in imported_modules(path) if name.split(".")[0] in FORBIDDEN_IN_STORAGE}
    assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


def _words_and_outer_surfaces() -> list[Path]:
    bot = ROOT / "bot"
    return sorted(
        [
            *(bot / "dashboard").rglob("*.py"),
            *(bot / "texts").rglob("*.py"),
            bot / "reports_cli.py",
            *bot.glob("open311*.py"),
        ]
    )


@pytest.mark.parametrize(
    "path", _words_and_outer_surfaces(), ids=lambda p: str(p.relative_to(ROOT))
)
def test_the_web_the_cli_and_the_words_import_no_telegram_glue(path: Path) -> None:
    """The dashboard, the report CLI, Open311 and the shared words (bot/texts) find their words
    in bot/texts, never in handlers/; and bot/texts stays true with another messenger."""
    forbidden = ("handlers", "telegram") if "texts" in path.parts else ("handlers",)
    bad = {name for name in imported_modules(path) if name.split(".")[0] in forbidden}
    assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


def test_the_check_sees_imports() -> None:
    sample = ROOT / "handlers" / "common.py"
    assert "telegram" in imported_modules(sample)


@dataclass(frozen=True)
class Import:
    module: str  # as written, made absolute
    names: tuple[str, ...]  # what `from module import ...` takes; empty for `import module`
    line: int
    in_function: bool
    deferred: bool


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_modules() -> dict[str, Path]:
    return {
        module_name(path): path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
    }


def _type_checking_only(node: ast.AST) -> bool:
    if not isinstance(node, ast.If):
        return False
    test = node.test
    name = test.attr if isinstance(test, ast.Attribute) else getattr(test, "id", None)
    return name == "TYPE_CHECKING"


def imports_in(source: str, module: str, *, package: bool = False) -> Iterator[Import]:
    """Every import that runs in `module`'s source, with where it sits."""
    lines = source.splitlines()
    home = module.split(".") if package else module.split(".")[:-1]

    def marked(line: int) -> bool:
        return DEFERRED in lines[line - 1] or (line > 1 and DEFERRED in lines[line - 2])

    def walk(node: ast.AST, in_function: bool) -> Iterator[Import]:
        for child in ast.iter_child_nodes(node):
            if _type_checking_only(child):
                continue
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield Import(alias.name, (), child.lineno, in_function, marked(child.lineno))
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    parent = home[: len(home) - child.level + 1]
                    base = ".".join([*parent, base] if base else parent)
                names = tuple(alias.name for alias in child.names)
                yield Import(base, names, child.lineno, in_function, marked(child.lineno))
            inner = isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            yield from walk(child, in_function or inner)

    yield from walk(ast.parse(source), False)


def import_graph() -> dict[str, set[str]]:
    """Project module -> the project modules it imports (a name taken from a package that is
    one of its modules counts as that module)."""
    modules = project_modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        source = path.read_text(encoding="utf-8")
        for found in imports_in(source, name, package=path.name == "__init__.py"):
            targets = [f"{found.module}.{n}" for n in found.names] or [found.module]
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    graph[name].add(target)
    return graph


def cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """The groups of modules that import each other in a loop (strongly connected components
    of more than one module, Tarjan's algorithm), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def test_no_module_imports_itself_round_a_circle() -> None:
    found = cycles(import_graph())
    assert found == [], "modules that import each other in a loop: " + "; ".join(
        " <-> ".join(group) for group in found
    )


def test_imports_sit_at_the_top_unless_deferred_with_a_reason() -> None:
    inside = [
        f"{path.relative_to(ROOT)}:{found.line} imports {found.module}"
        for name, path in project_modules().items()
        for found in imports_in(
            path.read_text(encoding="utf-8"), name, package=path.name == "__init__.py"
        )
        if found.in_function and not found.deferred
    ]
    assert inside == [], f"move to the top, or mark '{DEFERRED} <why>': {inside}"


def test_the_checks_see_cycles_and_imports_in_functions() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from bot.runtime import Runtime\n"
        "def f():\n"
        "    from . import sibling\n"
        "    # deferred: heavy\n"
        "    import matplotlib\n"
    )
    found = list(imports_in(source, "handlers.feature"))
    assert [(i.module, i.names, i.in_function, i.deferred) for i in found] == [
        ("typing", ("TYPE_CHECKING",), False, False),
        ("handlers", ("sibling",), True, False),
        ("matplotlib", (), True, True),
    ]
    graph = import_graph()
    assert "handlers.steps" in graph["handlers"]
    assert "storage.outbox" in graph["storage.notice_queue"]


def test_the_readme_lists_every_module() -> None:
    """The README's module map stays true to the house: a new or renamed module is listed."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [
        str(path.relative_to(ROOT))
        for path in project_modules().values()
        if path.name not in ("__init__.py", "__main__.py")
        and "migrations" not in path.parts
        and f"`{path.relative_to(ROOT)}`" not in readme
    ]
    assert not missing, f"not in the README's module map: {missing}"
