"""Every notebook runs top to bottom with its defaults (papermill, offline), and in English."""

import re
import shutil
from pathlib import Path

import nbformat
import papermill as pm
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
pytestmark = pytest.mark.slow


def _errors(path):
    nb = nbformat.read(path, as_version=4)
    return [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]


@pytest.mark.parametrize("name", ["explore.ipynb", "clinic_report.ipynb"])
def test_notebook_runs_with_its_defaults(tmp_path, name):
    out = tmp_path / name
    pm.execute_notebook(str(NOTEBOOKS / name), str(out), kernel_name="python3", cwd=str(NOTEBOOKS),
                        progress_bar=False, log_output=False)
    assert _errors(out) == []


def test_notebooks_are_committed_without_outputs_and_with_a_parameters_cell():
    for path in NOTEBOOKS.glob("*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert all(not c.get("outputs") and c.get("execution_count") is None for c in code), path
        assert any("parameters" in c.metadata.get("tags", []) for c in code), path
        assert not any(re.search(r"^\s*(def|class) ", c.source, re.M) for c in code), f"logic in {path}"


def test_clinic_report_in_english(tmp_path):
    params = tmp_path / "parameters"
    shutil.copytree(ROOT / "parameters", params)
    defaults = params / "defaults.yaml"
    defaults.write_text(re.sub(r"(?m)^language:.*$", "language: en", defaults.read_text()))
    out = tmp_path / "report.ipynb"
    pm.execute_notebook(str(NOTEBOOKS / "clinic_report.ipynb"), str(out), kernel_name="python3",
                        cwd=str(NOTEBOOKS), progress_bar=False, log_output=False,
                        parameters={"clinic_id": "gyn", "parameters_dir": str(params)})
    assert _errors(out) == []
    text = out.read_text(encoding="utf-8")
    for heading in ("## Summary", "## Queue-to-production ratio", "## Forecast of the inflow", "## Data quality"):
        assert heading in text
    assert "## Sammanfattning" not in text
