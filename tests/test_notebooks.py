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
    if name == "clinic_report.ipynb":
        _assert_accessible(out, tmp_path / "report.html", "sv")
        _assert_prints_on_a4(tmp_path / "report.html", tmp_path)


def _assert_prints_on_a4(page, tmp_path):
    """Printed by Chromium (as a reader would), the report is A4 pages, several of them."""
    import subprocess

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("needs chromium (installed by .ci/run)")
    pdf = tmp_path / "report.pdf"
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
                    f"--user-data-dir={tmp_path / 'profile'}", f"--print-to-pdf={pdf}", page.as_uri()],
                   check=True, timeout=120, capture_output=True)
    data = pdf.read_bytes()
    boxes = set(re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", data))
    assert boxes and all(abs(float(w) - 595) < 1.5 and abs(float(h) - 842) < 1.5 for w, h in boxes), boxes
    assert len(re.findall(rb"/Type\s*/Page\b", data)) >= 6


def test_report_notebooks_only_show():
    """One package call per section: under 40 lines of code, none over 100 characters (issue 17)."""
    for name in ("clinic_report.ipynb", "region_overview.ipynb"):
        nb = nbformat.read(NOTEBOOKS / name, as_version=4)
        lines = [ln for c in nb.cells if c.cell_type == "code" for ln in c.source.splitlines() if ln.strip()]
        assert len(lines) < 40, (name, len(lines))
        assert max(map(len, lines)) <= 100, name
        calls = [ln for ln in lines if ln.startswith(("sections.show(", "fragments.show("))]
        assert len(calls) >= 6 and all(ln.count("(") == 1 for ln in calls), name


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
    for heading in ("## Key figures and escalation", "## Queue-to-production ratio", "## Forecast of the inflow",
                    "## Data quality"):
        assert heading in text
    assert "## Nyckeltal" not in text and "Beslut denna" not in text
    _assert_accessible(out, tmp_path / "report.html", "en")


def _assert_accessible(notebook, html_path, language):
    """The rendered report (as ``kps run`` renders it) declares its language, every figure
    says in words what it shows, every table has a caption and header scopes, no trace."""
    from bs4 import BeautifulSoup

    from kps_analysis.batch import render_html

    render_html(notebook, html_path, title="t", language="sv" if language == "en" else "en")  # the page's own wins
    soup = BeautifulSoup(html_path.read_text(encoding="utf-8"), "html.parser")
    assert soup.html["lang"] == language
    images = soup.find_all("img")
    assert len(images) >= 8
    for img in images:
        alt = img.get("alt", "")
        assert len(alt) > 40 and "No description" not in alt, alt
        assert any(ch.isdigit() for ch in alt), alt  # it gives the numbers the figure shows
    tables = soup.select("main table")
    assert len(tables) >= 8
    for table in tables:
        assert table.caption is not None and table.caption.get_text(strip=True), str(table)[:200]
        assert all(th.get("scope") in ("col", "row") for th in table.find_all("th")), str(table)[:300]
    assert "Traceback" not in soup.get_text()
    assert soup.select_one("nav.kps-toc") is not None
    first = soup.select_one("section.kps-first-screen")
    assert first is not None and first.find_next("nav", class_="kps-toc") is not None
    css = " ".join(s.get_text() for s in soup.find_all("style"))
    assert "size: A4" in css and "counter(page)" in css and "@top-center" in css


def test_the_report_kernel_imports_neither_pandas_nor_matplotlib_to_show_stored_sections(tmp_path):
    """Render many (issue 15): the notebook's module for stored sections is light, and it
    falls back to computing the clinic when nothing is stored."""
    import subprocess
    import sys

    from kps_analysis import fragments

    fragments.write(tmp_path, "uro", "r1", {"title": [{"data": {"text/html": "<h1>t</h1>"}, "metadata": {}}]})
    code = ("import sys\nfrom kps_analysis import fragments\n"
            f"ctx = fragments.load('uro', model_dir={str(tmp_path)!r})\n"
            "fragments.show('title', ctx)\nfragments.write_tables(ctx)\n"
            "assert isinstance(ctx, fragments.Stored)\n"
            "assert not {'pandas', 'matplotlib', 'numpy'} & set(sys.modules), sorted(sys.modules)\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
    assert fragments.read(tmp_path, "hud") is None  # another clinic's sections are never shown
    assert fragments.read(tmp_path / "none", "uro") is None
