"""The codebase's shape: functions a reader can hold in their head (issue 17, item 4).

A function over :data:`MAX_LINES` lines of code (docstring, comment and blank lines not
counted) must say in its docstring why it must be long (a sentence containing "must be
long"), or be split into named steps (validate inputs -> compute -> build the frame).
:data:`KNOWN_LONG` lists the functions that are over the limit today; the test fails for any
new one and for a listed one that has been split (so that the list only shrinks).
"""
from __future__ import annotations

import ast
import io
import tokenize
from pathlib import Path

import kps_analysis

PACKAGE = Path(kps_analysis.__file__).parent
MAX_LINES = 80

#: Functions over the limit, to be split (file relative to the package, name): none since 2026-12-01,
#: when the last 21 were split into named steps (issue 17, item 4). Keep it empty.
KNOWN_LONG: set[str] = set()


def _code_line_numbers(source: str) -> set[int]:
    """Line numbers that hold a code token (not a comment, not blank)."""
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
            tokenize.ENDMARKER}
    lines: set[int] = set()
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type not in skip:
            lines.update(range(tok.start[0], tok.end[0] + 1))
    return lines


def function_lengths(source: str) -> dict[str, tuple[int, str]]:
    """Per function name: (lines of code without docstring and comments, docstring).

    >>> function_lengths('def f(x):\\n    \"\"\"Doc.\"\"\"\\n    # a comment\\n\\n    return x\\n')
    {'f': (2, 'Doc.')}
    """
    code = _code_line_numbers(source)
    out = {}
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        doc = ast.get_docstring(node) or ""
        first = node.body[0]
        doc_lines = (range(first.lineno, first.end_lineno + 1) if doc and isinstance(first, ast.Expr)
                     else range(0))
        n = sum(1 for ln in range(node.lineno, node.end_lineno + 1) if ln in code and ln not in doc_lines)
        name = node.name
        if name in out:   # a nested or redefined function of the same name: keep the longer
            n = max(n, out[name][0])
        out[name] = (n, doc)
    return out


def _long_functions() -> dict[str, int]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        for name, (n, doc) in function_lengths(path.read_text(encoding="utf-8")).items():
            if n > MAX_LINES and "must be long" not in doc:
                found[f"{rel}::{name}"] = n
    return found


def test_function_length_counts_code_only():
    source = "def g():\n" + '    """Doc\n\n    more doc.\n    """\n' + "    x = 1  # note\n" * 3 + "    # only\n"
    assert function_lengths(source)["g"][0] == 4   # the def line and three statements


def test_no_new_long_functions():
    found = _long_functions()
    new = {k: v for k, v in found.items() if k not in KNOWN_LONG}
    assert not new, (f"functions over {MAX_LINES} lines of code; split them into named steps or say in the "
                     f"docstring why they must be long: {new}")


def test_known_long_list_only_shrinks():
    split = sorted(KNOWN_LONG - set(_long_functions()))
    assert not split, f"no longer over {MAX_LINES} lines (or moved): remove them from KNOWN_LONG: {split}"


def test_the_architecture_page_names_every_module():
    """docs/architecture.md's layout table has a row for every module of the package (issue 17, item 6)."""
    page = (PACKAGE.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    layout = page[page.index("## Package layout"):page.index("## The public API")]
    missing = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if "__pycache__" in rel or (path.name == "__init__.py" and path.parent != PACKAGE):
            continue  # a subpackage's row names its folder
        if f"`{rel}`" not in layout and not (path.parent == PACKAGE and f"`{path.name}`" in layout):
            missing.append(rel)
    folders = {p.parent.relative_to(PACKAGE).as_posix() + "/" for p in PACKAGE.rglob("__init__.py")
               if p.parent != PACKAGE}
    missing += [f for f in sorted(folders) if f"`{f}`" not in layout]
    assert missing == [], "add a row to docs/architecture.md's 'Package layout' for these"


def test_docstrings_point_inside_the_repository():
    """No module cites a document outside the repository (issue 17, item 6): the shared
    DOMAIN/DESIGN/STYLE pages are not shipped; docs/architecture.md is."""
    outside = [p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*.py")
               if "__pycache__" not in p.parts
               and any(s in p.read_text(encoding="utf-8") for s in ("../shared", "DOMAIN.md", "DESIGN.md", "STYLE.md"))]
    assert outside == []
