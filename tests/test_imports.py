"""The package's import graph: no circle, and no import from a lower layer up to a higher one.

Every module is parsed, and every import of ``pytest_finetune`` counts: at top level,
inside functions, and under ``if TYPE_CHECKING:`` (a circle that only type checkers see
still ties the modules together). An import names the module it imports from; a name
imported from a package is the module of that name when there is one.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest_finetune

PACKAGE = Path(pytest_finetune.__file__).resolve().parent

#: Imports that close a circle on purpose, as (importer, imported), each with a comment
#: that says why (a lazy import that must run late, say). None today.
CIRCLES_ALLOWED: set[tuple[str, str]] = set()

#: What sits above the checks: they and what they call with their context never import it.
ABOVE_CHECKS = (
    "pytest_finetune.scan",
    "pytest_finetune.chunks",
    "pytest_finetune.lookahead",
    "pytest_finetune.pools",
    "pytest_finetune.config",
    "pytest_finetune.config_file",
    "pytest_finetune.lint",
    "pytest_finetune.nodes",
    "pytest_finetune.plugin",
    "pytest_finetune.plugin_options",
    "pytest_finetune.cli",
    "pytest_finetune.prepare",
    "pytest_finetune.outputs",
    "pytest_finetune.training",
)
BELOW_SCAN = (
    "pytest_finetune.checks",
    "pytest_finetune.conventions",
    "pytest_finetune.file_conventions",
    "pytest_finetune.splits",
    "pytest_finetune.training_file",
)

#: Of the checks, what the commands, ``prepare`` and the outputs may import: the registry
#: (the package itself re-exports it) and the check context, not a rule's module.
CHECKS_FOR_ALL = ("pytest_finetune.checks", "pytest_finetune.checks.registry")
CHECKS_FOR_ALL_CONTEXT = "pytest_finetune.checks.context"
#: Rule modules imported from above on purpose, each with why (importer prefix, imported).
RULES_ALLOWED = {
    # A fix of a leftover marker asks the check that finds it whether a turn ends in one.
    ("pytest_finetune.prepare.fixes.chat", "pytest_finetune.checks.chat.leftovers"),
}
#: The training half is for the ``finetune`` marker and its commands; ``jobs`` drives it.
TRAINING_ALLOWED = {"pytest_finetune.cli.jobs"}
#: The small helpers every layer shares (words of messages, measures of text, paths,
#: money, masking, cache keys): they sit at the bottom and import only each other.
HELPERS = (
    "pytest_finetune.money",
    "pytest_finetune.paths",
    "pytest_finetune.redact",
    "pytest_finetune.slots",
    "pytest_finetune.texts",
    "pytest_finetune.wording",
)


def _modules() -> dict[str, Path]:
    """Every module by name: its source, or the stub of a compiled one (``_native.pyi``)."""
    modules = {}
    for path in [*PACKAGE.rglob("*.py"), *PACKAGE.rglob("*.pyi")]:
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """The package's modules that ``name`` imports, wherever in it the import is."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base
                for alias in node.names
            ]
        else:
            continue
        for target in targets:
            module = target
            while module and module not in MODULES:
                module = module.rpartition(".")[0]
            if module.startswith("pytest_finetune") and module != name:
                found.add(module)
    return found


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected parts of ``graph`` with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            part = []
            while True:
                other = stack.pop()
                on_stack.discard(other)
                part.append(other)
                if other == node:
                    break
            if len(part) > 1:
                circles.append(sorted(part))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return circles


def _under(name: str, prefixes: tuple[str, ...] | set[str]) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


def test_the_graph_sees_every_kind_of_import():
    # The scan imports the checks at top level; a check imports its context for types
    # only; the training session imports the training run inside a function.
    assert "pytest_finetune.checks.registry" in GRAPH["pytest_finetune.scan"]
    assert "pytest_finetune.checks.context" in GRAPH["pytest_finetune.checks.registry"]
    assert "pytest_finetune.training.run" in GRAPH["pytest_finetune.training.session"]


def test_the_package_has_no_import_circle():
    graph = {
        name: {other for other in imported if (name, other) not in CIRCLES_ALLOWED}
        for name, imported in GRAPH.items()
    }
    assert _circles(graph) == []


def test_every_allowed_circle_still_exists():
    gone = [
        (importer, imported)
        for importer, imported in CIRCLES_ALLOWED
        if imported not in GRAPH[importer]
    ]
    assert gone == [], "these circles are gone: take them off CIRCLES_ALLOWED"


def test_the_checks_import_neither_the_scan_nor_the_configuration():
    upward = sorted(
        (name, other)
        for name, imported in GRAPH.items()
        if _under(name, BELOW_SCAN)
        for other in imported
        if _under(other, ABOVE_CHECKS)
    )
    assert upward == []


def test_commands_prepare_and_outputs_import_no_rule_and_no_training_module():
    above = ("pytest_finetune.cli", "pytest_finetune.prepare", "pytest_finetune.outputs")
    upward = sorted(
        (name, other)
        for name, imported in GRAPH.items()
        if _under(name, above)
        for other in imported
        if (
            _under(other, ("pytest_finetune.checks",))
            and other not in (*CHECKS_FOR_ALL, CHECKS_FOR_ALL_CONTEXT)
            and (name, other) not in RULES_ALLOWED
        )
        or (_under(other, ("pytest_finetune.training",)) and name not in TRAINING_ALLOWED)
    )
    assert upward == []


def test_the_shared_helpers_import_only_each_other():
    upward = sorted(
        (name, other) for name in HELPERS for other in GRAPH[name] if other not in HELPERS
    )
    assert upward == []
