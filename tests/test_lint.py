"""The codebase stays lint-clean and packaged whole (issue 17, items 1 and 3).

``ruff`` is part of the ``test`` extra, so ``make test`` runs the same check a contributor
runs by hand (``.venv/bin/ruff check kps_analysis tests benchmarks``), with the rules of
``[tool.ruff]`` in ``pyproject.toml``.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _ruff() -> list[str] | None:
    """The ruff command of this environment (the test extra installs it), or None."""
    beside = Path(sys.executable).with_name("ruff")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("ruff")
    return [found] if found else None


def test_ruff_check_is_clean():
    ruff = _ruff()
    if ruff is None:
        pytest.skip("ruff is not installed (pip install -e '.[test]')")
    done = subprocess.run([*ruff, "check", "--no-cache", "--output-format", "concise",
                           "kps_analysis", "tests", "benchmarks"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-1000:]


def test_every_subpackage_is_in_the_wheel():
    """Each folder of the package with an ``__init__.py`` is listed in pyproject's packages."""
    if sys.version_info < (3, 11):
        pytest.skip("tomllib is in the standard library from Python 3.11")
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
                 ["tool"]["setuptools"]["packages"])
    package = ROOT / "kps_analysis"
    found = {".".join(init.parent.relative_to(ROOT).parts) for init in package.rglob("__init__.py")
             if "__pycache__" not in init.parts}
    assert found - listed == set(), "add these to [tool.setuptools].packages in pyproject.toml"
