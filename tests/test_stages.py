"""The stage registry, and the package's import graph: no cycle, no private cross-module import."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from kps_analysis import balance, capacity, plan, summary
from kps_analysis.stages import STAGE_NAMES, STAGES, Stage, stage

PACKAGE = Path(__file__).resolve().parent.parent / "kps_analysis"


def _imports(path: Path) -> list[tuple[str, str]]:
    """(module imported, name imported) for every import of a package module, at any depth."""
    modules = {p.stem for p in PACKAGE.glob("*.py")} | {p.name for p in PACKAGE.iterdir() if p.is_dir()}
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1 and node.module:
                target = node.module.split(".")[0]
            elif node.level == 0 and (node.module or "").startswith("kps_analysis."):
                target = node.module.split(".")[1]
            elif node.level in (0, 1) and node.module in (None, "kps_analysis"):
                found += [(a.name, "") for a in node.names if a.name in modules]
                continue
            else:
                continue
            found += [(target, a.name) for a in node.names]
        elif isinstance(node, ast.Import):
            found += [(a.name.split(".")[1], "") for a in node.names if a.name.startswith("kps_analysis.")]
    return [(m, n) for m, n in found if m in modules and m != path.stem]


#: Known cycles (pairs of dotted module names): none. Keep it empty.
KNOWN_CYCLES: set[frozenset[str]] = set()
KNOWN_PRIVATE = {("extract", "data"), ("analytics", "planning")}


def _private_uses(path: Path) -> set[tuple[str, str]]:
    """(module, other module) where ``module`` uses a private name of ``other``: imported
    (``from .other import _x``) or reached through the module (``other._x``)."""
    modules = {p.stem for p in PACKAGE.glob("*.py")}
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = {(path.stem, m) for m, n in _imports(path) if n.startswith("_") and not n.startswith("__")}
    aliases = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and ((node.level == 1 and node.module is None)
                                                 or (node.level == 0 and node.module == "kps_analysis")):
            aliases |= {(a.asname or a.name): a.name for a in node.names if a.name in modules}
        elif isinstance(node, ast.Import):
            aliases |= {(a.asname or a.name): a.name.split(".")[1] for a in node.names
                        if a.name.startswith("kps_analysis.")}
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases
                and node.attr.startswith("_") and not node.attr.startswith("__")
                and aliases[node.value.id] != path.stem):
            found.add((path.stem, aliases[node.value.id]))
    return found


def _module_name(path: Path) -> str:
    """Dotted name of a package file below ``kps_analysis``: ``plan``, ``report.labels``, ``report``."""
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts) or "__init__"


def _module_graph() -> dict[str, set[str]]:
    """Every module of the package, subpackages' modules included, and the package modules it
    imports (at any depth: lazy imports count). ``from .report import label`` is an edge to the
    ``report`` package (its ``__init__``), ``from .report.labels import label`` one to
    ``report.labels``, ``from .report import labels`` one to ``report.labels`` too."""
    files = {_module_name(p): p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts}

    def known(name: str) -> str | None:
        parts = name.split(".")
        while parts and ".".join(parts) not in files:
            parts.pop()
        return ".".join(parts) or None

    graph = {}
    for name, path in files.items():
        here = name.split(".") if path.name == "__init__.py" and name != "__init__" else name.split(".")[:-1]
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = here[:len(here) - node.level + 1] + (node.module.split(".") if node.module else [])
                elif (node.module or "").startswith("kps_analysis"):
                    base = node.module.split(".")[1:]
                else:
                    continue
                for alias in node.names:
                    target = known(".".join(base + [alias.name])) or known(".".join(base))
                    found.add(target)
            elif isinstance(node, ast.Import):
                found |= {known(a.name.split(".", 1)[1]) for a in node.names if a.name.startswith("kps_analysis.")}
        graph[name] = found - {None, name, "__init__"}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as a path [a, b, ..., a], or None (depth-first search)."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(v):
        state[v] = 1
        stack.append(v)
        for w in sorted(graph.get(v, ())):
            if state.get(w) == 1:
                return stack[stack.index(w):] + [w]
            if w not in state:
                found = visit(w)
                if found:
                    return found
        state[v] = 2
        stack.pop()
        return None

    for v in sorted(graph):
        if v not in state:
            found = visit(v)
            if found:
                return found
    return None


def test_cycle_finder_finds_a_planted_cycle():
    # the check itself can fail: a -> b -> c -> a is reported, a DAG is not
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_package_import_graph_has_no_cycle():
    # every module, subpackages' too; imports inside functions count: a lazy import that
    # dodges a cycle is still one
    graph = _module_graph()
    assert "purchase" in graph["summary"] and "summary" not in graph["purchase"]
    assert "report.labels" in graph["plots"] and "data.extract_parts" in graph["extract"]  # the graph sees inside
    while (found := _cycle(graph)) is not None:
        assert frozenset(found[:2]) in KNOWN_CYCLES, f"import cycle: {' -> '.join(found)}"
        graph[found[0]] = graph[found[0]] - {found[1]}  # set the known one aside, look for others


def test_no_private_name_used_from_another_module():
    private = set().union(*(_private_uses(p) for p in PACKAGE.glob("*.py")))
    new = sorted(private - KNOWN_PRIVATE)
    assert new == [], f"private names used across modules (make them public): {new}"


def test_no_private_name_crosses_a_subpackage():
    """A subpackage's modules (data/, parameters/, report/) share underscore helpers among
    themselves (the package's internal API, not re-exported by its ``__init__``), but take no
    private name from outside their subpackage, and no module outside takes one of theirs."""
    crossing = []
    for path in PACKAGE.rglob("*.py"):
        if "__pycache__" in path.parts:
            continue
        inside = path.parent != PACKAGE
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom):
                continue
            sibling = inside and node.level == 1  # from .cells import _mask, inside data/
            if sibling or not (node.level or (node.module or "").startswith("kps_analysis")):
                continue
            if not inside and node.level == 1 and (PACKAGE / f"{(node.module or '').split('.')[0]}.py").exists():
                continue  # top-level to top-level: test_no_private_name_used_from_another_module
            crossing += [(_module_name(path), node.module, a.name) for a in node.names
                         if a.name.startswith("_") and not a.name.startswith("__")]
    assert crossing == [], f"private names taken across a subpackage's boundary (make them public): {crossing}"


def test_private_use_finder_finds_both_ways(tmp_path):
    f = tmp_path / "mod.py"
    f.write_text("from . import waits\nfrom .summary import _x\nwaits._hidden()\n", encoding="utf-8")
    assert _private_uses(f) == {("mod", "waits"), ("mod", "summary")}


def test_each_module_imports_alone_in_a_fresh_interpreter():
    # every module first in an interpreter with none of the package loaded: a cycle that
    # only bites in one import order shows up as an ImportError here
    names = sorted(n for n in (_module_name(p) for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)
                   if n != "__main__")
    script = (
        "import importlib, sys\n"
        f"for name in {names!r}:\n"
        "    for m in [m for m in sys.modules if m == 'kps_analysis' or m.startswith('kps_analysis.')]:\n"
        "        del sys.modules[m]\n"
        "    importlib.import_module('kps_analysis.' + name if name != '__init__' else 'kps_analysis')\n"
        "print('ok', len(sys.modules))\n")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.startswith("ok")


def test_registry_is_the_one_home_of_the_stages():
    assert STAGE_NAMES == ("new_visit", "treatment")
    assert balance.STAGES is STAGES and summary.STAGES is STAGES
    assert all(isinstance(s, Stage) and s.name == k for k, s in STAGES.items())
    nv, tr = STAGES["new_visit"], STAGES["treatment"]
    assert nv.production == ("new_visits", "purchased_new_visits")
    assert tr.outflow == ("operations_elective", "purchased_operations", "removals_treatment_other")
    assert nv.required == ("referrals_in", "new_visits")
    # the modules read their stage columns from it
    assert plan._PURCHASE == {"new_visit": "purchase_new_visits", "treatment": "purchase_operations"}
    c = capacity.capacity_by_stage(__import__("pandas").DataFrame(
        {"clinic": "a", "period": ["2026-01"], nv.capacity: [10.0], tr.capacity: [3.0]}))
    assert c["capacity"].tolist() == [10.0, 3.0]
    with pytest.raises(TypeError):
        STAGES["x"] = nv  # read-only
    with pytest.raises(ValueError, match="stage must be one of"):
        stage("operations")


def test_stage_columns_are_canonical_measures():
    # the registry names only columns the reader knows (or derives), so a typo cannot hide here
    from kps_analysis import data

    known = set(getattr(data, "MEASURES", ())) | set(getattr(data, "CANONICAL_MEASURES", ()))
    if not known:
        pytest.skip("data exposes no list of canonical measures")
    for s in STAGES.values():
        for col in (s.queue, s.over_limit, s.inflow, *s.inflow_minus, s.own, s.purchased, s.planned):
            assert col in known, col
