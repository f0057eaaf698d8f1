"""The import graph of every module: no cycle anywhere, and no import that climbs (docs/architecture.md).

Every ``import`` counts, at module level, inside functions and under ``TYPE_CHECKING`` alike: a lazy import
still ties two modules together. Importing ``a.b.c`` also runs ``a/__init__`` and ``a/b/__init__``, so those are
edges too. The throwaway-module tests copy the tree, add one bad module, and show that the check catches it.
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("include", "crawlers", "embedding", "training", "benchmarks", "dags")

# Rooms from the bottom up: a module may import its own room and rooms of a lower rank, never a room of its
# own rank or above. Longest prefix wins.
RANKS: dict[str, int] = {
    "include.core": 0,
    "include.quality": 1,
    "include.synth": 1,
    "training": 2,
    "crawlers": 2,
    "include.reports": 2,
    "embedding": 3,
    "include.trends": 4,
    "include.ops": 5,
    "include.demo": 4,
    "benchmarks": 6,
    "dags": 7,
    "include": -1,  # the bare package: a docstring that every room's import runs, importing nothing itself
}


def modules(root: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every ``.py`` of the project's packages under ``root``."""
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def import_graph(root: Path) -> dict[str, set[str]]:
    """Module -> the project modules it imports (with the packages whose ``__init__`` each import runs)."""
    mods = modules(root)

    def targets(name: str) -> set[str]:
        parts = name.split(".")
        return {".".join(parts[:i]) for i in range(1, len(parts) + 1) if ".".join(parts[:i]) in mods}

    graph: dict[str, set[str]] = {}
    for name, path in mods.items():
        out: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    out |= targets(alias.name)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                out |= targets(node.module)
                for alias in node.names:
                    out |= targets(f"{node.module}.{alias.name}")
        out.discard(name)
        # a module's own parent packages are already running when it runs: no edge back to them
        graph[name] = {t for t in out if not name.startswith(t + ".")}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def room(module: str) -> str:
    """The room a module lives in: the longest prefix of :data:`RANKS`."""
    parts = module.split(".")
    for i in range(len(parts), 0, -1):
        if ".".join(parts[:i]) in RANKS:
            return ".".join(parts[:i])
    raise AssertionError(f"{module} lives in no room of RANKS")


def climbs(graph: dict[str, set[str]]) -> list[str]:
    """Every import of a room of the same or a higher rank than the importer's own room."""
    bad = []
    for module, imported in sorted(graph.items()):
        own = room(module)
        for target in sorted(imported):
            other = room(target)
            if other != own and RANKS[other] >= RANKS[own]:
                bad.append(f"{module} ({own}, rank {RANKS[own]}) imports {target} ({other}, rank {RANKS[other]})")
    return bad


def test_the_tree_has_no_import_cycle():
    assert cycles(import_graph(REPO)) == []


def test_no_import_climbs():
    assert climbs(import_graph(REPO)) == []


def test_include_holds_rooms_only():
    flat = sorted(p.name for p in (REPO / "include").glob("*.py") if p.name != "__init__.py")
    assert flat == []
    assert import_graph(REPO)["include"] == set()
    rooms = sorted(p.name for p in (REPO / "include").iterdir() if p.is_dir() and p.name != "__pycache__")
    assert rooms == sorted(r.split(".")[1] for r in RANKS if r.startswith("include."))
    for name in rooms:  # every room says what it holds and what it may import
        doc = ast.get_docstring(ast.parse((REPO / "include" / name / "__init__.py").read_text()))
        assert doc and "import" in doc, f"include/{name}/__init__.py needs a docstring naming what it may import"


def test_no_benchmark_lives_in_a_stage_package():
    stray = [str(p.relative_to(REPO)) for pkg in PACKAGES[:4] for p in (REPO / pkg).rglob("*benchmark*.py")]
    assert stray == []


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    for package in PACKAGES:
        shutil.copytree(REPO / package, root / package, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return root


def test_a_throwaway_cycle_is_caught(tmp_path):
    root = _copy(tmp_path)
    (root / "embedding" / "throwaway.py").write_text("from embedding.index import CatalogIndex\n")
    index = root / "embedding" / "index.py"
    index.write_text(index.read_text() + "\n\ndef _late():\n    from embedding import throwaway  # noqa\n")
    found = cycles(import_graph(root))
    assert found == [["embedding.index", "embedding.throwaway"]]


def test_a_throwaway_climbing_import_is_caught(tmp_path):
    root = _copy(tmp_path)
    (root / "include" / "core" / "throwaway.py").write_text(
        "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    from include.ops.status import main\n"
    )
    (root / "training" / "throwaway.py").write_text("import crawlers.crawl\n")
    found = climbs(import_graph(root))
    assert found == [
        "include.core.throwaway (include.core, rank 0) imports include.ops (include.ops, rank 5)",
        "include.core.throwaway (include.core, rank 0) imports include.ops.status (include.ops, rank 5)",
        "training.throwaway (training, rank 2) imports crawlers (crawlers, rank 2)",
        "training.throwaway (training, rank 2) imports crawlers.crawl (crawlers, rank 2)",
    ]
    assert cycles(import_graph(root)) == []
