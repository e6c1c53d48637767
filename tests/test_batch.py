"""End to end: `kps run` on the demo region (papermill, nbconvert), offline HTML, failures.

These tests start Jupyter kernels, so they take a minute; the demo region is run once
per session (module fixture) and shared by the assertions.
"""

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from kps_analysis import batch, cli
from kps_analysis.parameters import list_clinics

ROOT = Path(__file__).resolve().parent.parent
PARAMS = ROOT / "parameters"
pytestmark = pytest.mark.slow
IMAGES = re.compile(r'(data:image/png;base64,|"image/png":\s*")[A-Za-z0-9+/=\\n]+')


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("outputs")
    code = cli.main(["run", "--parameters", str(PARAMS), "--out", str(out), "--workers", "2"])
    runs = [p for p in out.iterdir() if p.is_dir() and not p.name.startswith(".") and p.name != "demo-data"]
    assert len(runs) == 1
    return code, runs[0]


def test_every_demo_clinic_has_a_report(demo_run):
    code, run_dir = demo_run
    clinics = list_clinics(PARAMS)
    assert code == 0
    assert len(clinics) >= 8
    index = (run_dir / "index.html").read_text(encoding="utf-8")
    for clinic in clinics:
        assert (run_dir / clinic / "report.html").stat().st_size > 20_000
        assert (run_dir / clinic / "report.ipynb").exists()
        assert f'href="{clinic}/report.html"' in index
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    assert {c: v["status"] for c, v in manifest["clinics"].items()} == {c: "ok" for c in clinics}
    assert manifest["inputs"] and all(len(h) == 64 for h in manifest["inputs"].values())
    assert not list(run_dir.parent.glob(".*.partial"))


def test_reports_are_self_contained_and_hide_code(demo_run):
    _, run_dir = demo_run
    for page in [run_dir / "index.html", *run_dir.glob("*/report.html")]:
        text = page.read_text(encoding="utf-8")
        loaded = re.findall(r'(?:src|href)\s*=\s*["\'](https?:[^"\']*)', text)
        assert loaded == [], f"{page} loads {loaded[:3]}"
        assert "<script src" not in text
        if page.name == "report.html":
            assert text.count('src="data:image/png;base64') >= 3
            assert "load_parameters" not in text  # code hidden
            assert "kps-toc" in text


def test_summary_tables_carry_the_headline_columns(demo_run):
    _, run_dir = demo_run
    from kps_analysis.summary import HEADLINE_COLUMNS

    for clinic in list_clinics(PARAMS):
        summary = pd.read_csv(run_dir / clinic / "tables" / "summary.csv")
        assert list(summary.columns[: len(HEADLINE_COLUMNS)]) == list(HEADLINE_COLUMNS)
        assert summary.loc[0, "clinic"] == clinic
        assert summary.loc[0, "queue_production_ratio_weeks"] > 0


def test_no_patient_identifiers_in_outputs(demo_run):
    _, run_dir = demo_run
    # demo patient ids, and personnummer (YYYYMMDD-XXXX / YYMMDD-XXXX with a valid date) as a token
    pattern = re.compile(r"\bP\d{7}\b|(?<![\d.])((19|20)?\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])[-+]\d{4}"
                         r"|(19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])\d{4})(?![\d.])")
    for path in run_dir.rglob("*"):
        if path.is_file() and path.suffix in {".html", ".csv", ".ipynb", ".json"}:
            text = path.read_text(encoding="utf-8", errors="replace")
            text = IMAGES.sub("", text)  # base64 pictures are not text
            assert not pattern.search(text), path


def test_a_broken_clinic_fails_alone(tmp_path):
    from kps_analysis.demo import ensure_demo_data

    data = tmp_path / "data"
    shutil.copytree(ensure_demo_data(tmp_path / "demo"), data)
    params = tmp_path / "parameters"
    shutil.copytree(PARAMS, params)
    broken = data / "hud_weekly.csv"
    lines = broken.read_text(encoding="utf-8-sig").splitlines()
    lines.insert(2, lines[1])  # a duplicated week
    broken.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")

    result = batch.run(clinics=["hud", "gyn"], data_dir=data, parameters_dir=params,
                       out_dir=tmp_path / "out", workers=2)
    assert result.exit_code == 1
    status = {r.clinic_id: r.status for r in result.results}
    assert status == {"hud": "failed", "gyn": "ok"}
    failed = result.failed[0]
    assert "hud_weekly.csv" in failed.error
    assert (result.run_dir / "hud" / "report.ipynb").exists()  # kept for diagnosis
    assert (result.run_dir / "gyn" / "report.html").exists()
    index = (result.run_dir / "index.html").read_text(encoding="utf-8")
    assert 'class="failed"' in index and "hud_weekly.csv" in index


def test_cli_exit_codes(tmp_path, capsys):
    assert cli.main(["run", "--parameters", str(PARAMS), "--clinic", "no_such_clinic",
                     "--out", str(tmp_path)]) == 2
    assert "no_such_clinic" in capsys.readouterr().err
    assert cli.main(["list", "--parameters", str(PARAMS)]) == 0
    assert "uro" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exc:
        cli.main(["run", "--bogus"])
    assert exc.value.code == 2


def test_region_overview_sums_the_clinics(demo_run):
    _, run_dir = demo_run
    from kps_analysis import report, summary

    page = (run_dir / "region" / "overview.html").read_text(encoding="utf-8")
    assert 'href="region/overview.html"' in (run_dir / "index.html").read_text(encoding="utf-8")
    assert 'src="data:image/png;base64' in page
    summaries = report.read_clinic_tables(run_dir, "summary")
    assert len(summaries) == len(list_clinics(PARAMS))
    totals = summary.region_totals(summaries).iloc[0]
    assert totals["queue_new_visit"] == sum(
        pd.read_csv(p)["queue_new_visit"].sum() for p in run_dir.glob("*/tables/summary.csv"))
    # the overview shows the region's total first-visit queue, formatted the Swedish way
    assert report.format_count(totals["queue_new_visit"]) in page
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["region_overview"]["status"] == "ok"


def test_killed_run_is_left_incomplete_and_resume_finishes_only_the_missing(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    from kps_analysis.demo import ensure_demo_data

    data = ensure_demo_data(tmp_path / "demo")
    out = tmp_path / "out"
    previous = out / "20000101-000000"  # an earlier run's folder must stay untouched
    previous.mkdir(parents=True)
    (previous / "index.html").write_text("earlier run")
    notebook = _quick_notebook(tmp_path / "quick.ipynb")
    cmd = [sys.executable, "-m", "kps_analysis", "run", "--clinic", "hud", "--clinic", "gyn",
           "--workers", "1", "--data", str(data), "--parameters", str(PARAMS), "--out", str(out),
           "--notebook", str(notebook)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 240
    while time.time() < deadline and not list(out.glob(".*.partial/*/status.json")):
        time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGKILL)  # the whole run: runner, worker, kernel
    proc.wait()
    partial = list(out.glob(".*.partial"))
    assert len(partial) == 1, "the killed run is recognisable as incomplete"
    spec = json.loads((partial[0] / "run.json").read_text())
    assert spec["status"] == "running" and spec["clinics"] == ["hud", "gyn"]
    finished = [p.parent.name for p in partial[0].glob("*/status.json")]
    assert len(finished) == 1
    first_report = partial[0] / finished[0] / "report.html"
    stamp = first_report.stat().st_mtime_ns
    assert (previous / "index.html").read_text() == "earlier run"

    result = batch.run(out_dir=out, resume=True, workers=1, notebook=notebook)
    assert result.exit_code == 0
    assert [r.clinic_id for r in result.results] == ["hud", "gyn"]
    assert not list(out.glob(".*.partial"))
    assert (result.run_dir / finished[0] / "report.html").stat().st_mtime_ns == stamp  # not re-run
    assert all((result.run_dir / c / "report.html").exists() for c in ("hud", "gyn"))
    assert (previous / "index.html").read_text() == "earlier run"
    with pytest.raises(batch.ConfigurationError, match="no interrupted run"):
        batch.run(out_dir=out, resume=True)


def _quick_notebook(path, code="import time\ntime.sleep(3)"):
    """A stand-in report template: the batch's parameters, then ``code`` (fast tests)."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell('clinic_id = "x"\nparameters_dir = ""\ndata_dir = ""\noutput_dir = ""\n'
                                  'run_id = ""', metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(code),
    ]
    nb.metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                   "language_info": {"name": "python"}}
    nbformat.write(nb, path)
    return path


def test_a_raising_and_a_hanging_clinic_fail_alone(tmp_path):
    params = tmp_path / "parameters"
    shutil.copytree(PARAMS, params)
    defaults = params / "defaults.yaml"
    defaults.write_text(re.sub(r"(?m)^timeout_minutes:.*$", "timeout_minutes: 0.1", defaults.read_text()))
    notebook = _quick_notebook(tmp_path / "faulty.ipynb", "import time\n"
                               "if clinic_id == 'hud':\n    time.sleep(600)\n"
                               "if clinic_id == 'gyn':\n    raise RuntimeError('gyn is broken')\n")
    from kps_analysis.demo import ensure_demo_data

    result = batch.run(clinics=["hud", "gyn", "uro"], data_dir=ensure_demo_data(tmp_path / "demo"),
                       parameters_dir=params, out_dir=tmp_path / "out", workers=2, notebook=notebook)
    status = {r.clinic_id: (r.status, r.error or "") for r in result.results}
    assert status["uro"] == ("ok", "")
    assert status["gyn"][0] == "failed" and "RuntimeError: gyn is broken" in status["gyn"][1]
    assert status["hud"][0] == "failed" and "timed out" in status["hud"][1]
    assert result.exit_code == 1
    assert max(r.seconds for r in result.results) < 120  # the hang was cut off


def test_dask_scheduler_runs_the_clinics(tmp_path):
    distributed = pytest.importorskip("distributed")
    from kps_analysis.demo import ensure_demo_data

    data = ensure_demo_data(tmp_path / "demo")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        result = batch.run(clinics=["hud", "gyn"], data_dir=data, parameters_dir=PARAMS,
                           out_dir=tmp_path / "out", scheduler=cluster.scheduler_address,
                           notebook=_quick_notebook(tmp_path / "quick.ipynb"))
    assert result.exit_code == 0
    assert all((result.run_dir / c / "report.ipynb").exists() for c in ("hud", "gyn"))
    manifest = json.loads((result.run_dir / "manifest.json").read_text())
    assert manifest["executor"].startswith("dask:tcp://127.0.0.1")
    with pytest.raises(batch.ConfigurationError, match="Dask scheduler"):
        batch.run(clinics=["hud"], data_dir=data, parameters_dir=PARAMS, out_dir=tmp_path / "out2",
                  scheduler="tcp://127.0.0.1:9")


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (installed by .ci/run)")
def test_reports_render_in_a_browser_with_the_network_off(demo_run, tmp_path):
    import subprocess

    import matplotlib.image as mpimg
    import numpy as np

    _, run_dir = demo_run
    pages = [run_dir / "index.html", run_dir / "region" / "overview.html", *sorted(run_dir.glob("*/report.html"))]
    blue = np.array([0, 114, 178]) / 255  # plots.COLOURS["inflow"]: present only where a figure is drawn
    red = np.array([192, 0, 0]) / 255  # plots.COLOURS["limit"]: the guarantee line in the overview's chart
    for i, page in enumerate(pages):
        shot = tmp_path / f"{i}.png"
        subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND",  # no network at all
             f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1200,9000",
             f"--screenshot={shot}", page.as_uri()],
            check=True, timeout=120, capture_output=True)
        image = mpimg.imread(shot)[:, :, :3]
        ink = (image < 0.85).any(axis=2).mean()  # share of the page that is not background
        assert ink > 0.002, f"{page} rendered blank ({ink:.4f})"
        if page.name != "index.html":
            colour, least = (red, 200) if page.name == "overview.html" else (blue, 2000)
            figure_pixels = (np.abs(image - colour).max(axis=2) < 0.08).sum()
            assert figure_pixels > least, f"{page}: figures missing ({figure_pixels} figure pixels)"
