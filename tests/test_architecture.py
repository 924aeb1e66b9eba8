"""The package's layout is its architecture: imports point down the layers, never up or round.

The layers, bottom to top, are written once in ``LAYERS``; ``docs/architecture.md`` explains
them. Every import in ``model/`` (at module level or inside a function) is read from the source
with ``ast``, so an import hidden in a function counts as much as one at the top.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "model"

#: Rank of each part of the package: a module may import its own part and parts of lower rank.
LAYERS = {
    "base": 0,
    "data": 1,
    "core": 2,
    "config": 3,
    "run": 4,
    "analysis": 5,
    "search": 5,
    "report": 6,
    "game": 7,
    "history": 7,
    "web": 8,
    "apps": 9,  # the command line launches every front end, the web server included
    "__main__": 10,  # ``python -m model``: runs apps.cli
}
#: The public face (``model/__init__.py``) may name anything; nothing inside imports it back
#: except for ``__version__``, which it defines before importing anything.
FACE = "model"
#: What the core must never import: it reads no files and parses nothing.
CORE_FORBIDDEN = ("yaml", "pydantic", "argparse", "pandas", "matplotlib", "pyarrow")
MAX_LINES = 600


def modules() -> dict[str, Path]:
    """Every module of the package by dotted name."""
    out = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def imports(name: str, path: Path) -> list[tuple[str, int]]:
    """The absolute names a module imports (``from . import x`` resolved), with their lines."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            found.append((mod, node.lineno))
            # 'from . import x' may name a submodule
            found += [(f"{mod}.{alias.name}", node.lineno) for alias in node.names]
    return found


def internal_graph() -> dict[str, set[tuple[str, int]]]:
    """Module -> the package's own modules it imports."""
    mods = modules()
    graph: dict[str, set[tuple[str, int]]] = {}
    for name, path in mods.items():
        edges = set()
        for target, line in imports(name, path):
            if target == name:
                continue
            if target in mods:
                edges.add((target, line))
        graph[name] = edges
    return graph


def part(module: str) -> str:
    """The layer a module belongs to: its first sub-package (or top-level module) name."""
    bits = module.split(".")
    return bits[1] if len(bits) > 1 else FACE


def test_every_part_has_a_layer():
    unknown = sorted({part(m) for m in modules()} - set(LAYERS) - {FACE})
    assert not unknown, f"parts of model/ with no layer in LAYERS: {unknown}"


def test_no_upward_or_sideways_import():
    bad = []
    for src, edges in internal_graph().items():
        if part(src) == FACE:
            continue
        for dst, line in edges:
            a, b = part(src), part(dst)
            if b == FACE:
                if dst == FACE and src != FACE:
                    continue  # 'from model import __version__' (checked below)
                bad.append(f"{src}:{line} imports the public face {dst}")
            elif a != b and LAYERS[b] >= LAYERS[a]:
                bad.append(f"{src}:{line} ({a}, layer {LAYERS[a]}) imports {dst} ({b}, layer {LAYERS[b]})")
    assert not bad, "imports that point up or sideways:\n" + "\n".join(sorted(bad))


def test_only_version_taken_from_the_face():
    bad = []
    for name, path in modules().items():
        if name == FACE:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (
                    (node.level == 0 and node.module == FACE)
                    or (node.level and not node.module and _resolves_to_face(name, path, node.level))):
                names = {a.name for a in node.names}
                if names - {"__version__"}:
                    bad.append(f"{name}:{node.lineno} takes {sorted(names)} from the package face")
    assert not bad, "\n".join(bad)


def _resolves_to_face(name: str, path: Path, level: int) -> bool:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    bits = package.split(".")
    return ".".join(bits[: len(bits) - level + 1]) == FACE


def test_no_import_circle():
    graph = {m: {d for d, _ in e} for m, e in internal_graph().items()}
    # submodule imports of a package's __init__ are the package exposing itself: not a circle
    state: dict[str, int] = {}
    stack: list[str] = []
    circles = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for d in sorted(graph.get(m, ())):
            if d.startswith(m + "."):
                continue
            if state.get(d) == 1:
                circles.append(stack[stack.index(d):] + [d])
            elif d not in state:
                visit(d)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)
    assert not circles, "import circles:\n" + "\n".join(" -> ".join(c) for c in circles)


def test_core_reads_no_files_and_parses_nothing():
    bad = []
    for name, path in modules().items():
        if part(name) != "core":
            continue
        for target, line in imports(name, path):
            if target.split(".")[0] in CORE_FORBIDDEN:
                bad.append(f"{name}:{line} imports {target}")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("name", sorted(modules()))
def test_no_file_over_the_limit(name):
    lines = modules()[name].read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_LINES, f"{name} has {lines} lines (limit {MAX_LINES}): it holds two ideas"
