"""End to end: `kps run` on the demo region (papermill, nbconvert), offline HTML, failures.

The tests that start Jupyter kernels are marked slow; the demo region is run once per
session (module fixture) and shared by the assertions. The batch-fault tests (escaping,
locks, dead workers, full disks) use a stand-in report template where they need a kernel.
"""

import html
import json
import os
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from kps_analysis import batch, cli
from kps_analysis.parameters import list_clinics

ROOT = Path(__file__).resolve().parent.parent
PARAMS = ROOT / "parameters"
slow = pytest.mark.slow
IMAGES = re.compile(r'(data:image/png;base64,|"image/png":\s*")[A-Za-z0-9+/=\\n]+')


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("outputs")
    old = os.umask(0o022)  # the usual umask: test_run_files_are_readable_by_others reads the modes
    try:
        code = cli.main(["run", "--parameters", str(PARAMS), "--out", str(out), "--workers", "2"])
    finally:
        os.umask(old)
    runs = [p for p in out.iterdir() if p.is_dir() and not p.name.startswith(".") and p.name != "demo-data"
            and not p.is_symlink()]
    assert len(runs) == 1
    return code, runs[0]


@slow
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
    assert {c: v["status"] for c, v in manifest["clinics"].items()} == dict.fromkeys(clinics, "ok")
    # render many (issue 15): the worker drew each clinic's sections once (the notebook showed them; the
    # model folder with them is gone once the notebook ran), and the overview's process drew the overview's
    for clinic in clinics:
        assert manifest["clinics"][clinic]["render_seconds"] > 0
        assert not (run_dir / clinic / "model").exists()
    stored = json.loads((run_dir / "region" / "fragments.json").read_text(encoding="utf-8"))
    assert stored["clinic_id"] == "region" and stored["run_id"] == run_dir.name
    assert manifest["inputs"] and all(len(h) == 64 for h in manifest["inputs"].values())
    assert not list(run_dir.parent.glob(".*.partial"))


@slow
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


@slow
def test_summary_tables_carry_the_headline_columns(demo_run):
    _, run_dir = demo_run
    from kps_analysis.summary import HEADLINE_COLUMNS

    for clinic in list_clinics(PARAMS):
        summary = pd.read_csv(run_dir / clinic / "tables" / "summary.csv")
        assert list(summary.columns[: len(HEADLINE_COLUMNS)]) == list(HEADLINE_COLUMNS)
        assert summary.loc[0, "clinic"] == clinic
        # the ratio is there, or suppressed (flagged) where it would give back a small count
        flag = summary.get("queue_production_ratio_weeks_suppressed", pd.Series([False])).fillna(False)
        assert summary.loc[0, "queue_production_ratio_weeks"] > 0 or bool(flag.iloc[0])


@slow
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


@slow
def test_a_broken_clinic_fails_alone(tmp_path, demo_dir_current):

    data = tmp_path / "data"
    shutil.copytree(demo_dir_current, data)
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
    assert 'class="failed"' in index and "hud_weekly.csv" in html.unescape(index)
    page = (result.run_dir / "hud" / "report.html").read_text(encoding="utf-8")  # what to do, no stack trace
    assert "Traceback" not in page and "hud_weekly.csv" in html.unescape(page) and "kps validate" in page
    assert "indata: inläsningen av parametrar och data" in html.unescape(page)
    assert "DataError" in (result.run_dir / "hud" / "run.log").read_text(encoding="utf-8")


def test_a_failing_render_step_leaves_the_clinic_to_its_notebook(tmp_path, capsys):
    """The worker's render step (issue 15) never fails a clinic: it says why in the log and
    writes no fragments, so the notebook loads the clinic itself and reports the problem."""
    job = {"clinic_id": "no_such_clinic", "parameters_dir": str(PARAMS), "data_dir": str(tmp_path), "run_id": "r",
           "model_dir": str(tmp_path / "model")}
    assert batch._render_step(job, tmp_path / "clinic") is None
    err = capsys.readouterr().err
    assert "rendering no_such_clinic in the worker failed" in err and "Traceback" in err
    assert not (tmp_path / "model" / "fragments.json").exists()
    assert batch._render_step({k: v for k, v in job.items() if k != "model_dir"}, tmp_path) is None


def test_cli_exit_codes(tmp_path, capsys):
    assert cli.main(["run", "--parameters", str(PARAMS), "--clinic", "no_such_clinic",
                     "--out", str(tmp_path)]) == 2
    assert "no_such_clinic" in capsys.readouterr().err
    assert cli.main(["list", "--parameters", str(PARAMS)]) == 0
    assert "uro" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exc:
        cli.main(["run", "--bogus"])
    assert exc.value.code == 2


@slow
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


@slow
def test_killed_run_is_left_incomplete_and_resume_finishes_only_the_missing(tmp_path, demo_dir_current):
    import os
    import signal
    import subprocess
    import sys
    import time


    data = demo_dir_current
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


@slow
def test_a_raising_and_a_hanging_clinic_fail_alone(tmp_path, demo_dir_current):
    params = tmp_path / "parameters"
    shutil.copytree(PARAMS, params)
    defaults = params / "defaults.yaml"
    defaults.write_text(re.sub(r"(?m)^timeout_minutes:.*$", "timeout_minutes: 0.1", defaults.read_text()))
    notebook = _quick_notebook(tmp_path / "faulty.ipynb", "import os, pathlib, time\n"
                               "from IPython.display import Markdown, display\n"
                               "display(Markdown('## Sammanfattning'))\n"
                               "pathlib.Path(output_dir, 'blas.txt').write_text(os.environ['OPENBLAS_NUM_THREADS'])\n"
                               "if clinic_id == 'hud':\n    time.sleep(600)\n"
                               "if clinic_id == 'gyn':\n    raise RuntimeError('gyn is broken')\n")

    lines = []
    result = batch.run(clinics=["hud", "gyn", "uro"], data_dir=demo_dir_current,
                       parameters_dir=params, out_dir=tmp_path / "out", workers=2, notebook=notebook,
                       progress=lines.append)
    status = {r.clinic_id: (r.status, r.error or "") for r in result.results}
    assert status["uro"] == ("ok", "")
    assert status["gyn"][0] == "failed" and "RuntimeError: gyn is broken" in status["gyn"][1]
    assert status["hud"][0] == "failed" and "timed out" in status["hud"][1]
    assert result.exit_code == 1
    assert max(r.seconds for r in result.results) < 120  # the hang was cut off

    # a failure is a short page saying what to do; its stack trace is in run.log (issue 13, item 3)
    page_text = (result.run_dir / "gyn" / "report.html").read_text(encoding="utf-8")
    page = _Page(page_text)
    assert "Traceback" not in page_text and "File " not in page_text and "\x1b" not in page_text
    assert "RuntimeError: gyn is broken" in page.visible
    assert "Vad misslyckades" in page.visible and "Gör så här" in page.visible
    assert "analysen: avsnittet ”Sammanfattning” (kodcell 2 i rapportmallen)" in page.visible
    assert "kps run --clinic gyn" in page.visible and '<html lang="sv">' in page_text
    assert "raise RuntimeError" in (result.run_dir / "gyn" / "run.log").read_text(encoding="utf-8")
    assert "timeout_minutes" in _Page((result.run_dir / "hud" / "report.html").read_text(encoding="utf-8")).visible
    assert not (result.run_dir / "uro" / "run.log").exists()
    index = _Page((result.run_dir / "index.html").read_text(encoding="utf-8"))
    assert index.visible.index("Urologiska") > max(index.visible.index(n) for n in ("Hudkliniken", "Gynekologiska"))
    manifest = json.loads((result.run_dir / "manifest.json").read_text())
    assert manifest["clinics"]["gyn"]["step"] == "analysis" and manifest["clinics"]["hud"]["step"] == "timeout"
    # one BLAS thread in every kernel (issue 15, item 2); the steps named, the time left per clinic
    assert {(result.run_dir / c / "blas.txt").read_text() for c in ("hud", "gyn", "uro")} == {"1"}
    assert [STEP_LINE.match(x).group(1) for x in lines if STEP_LINE.match(x)] == ["notebooks", "index"]
    clinic_lines = _clinic_lines("\n".join(lines))
    # the time left in seconds, or minutes on a loaded machine (batch._duration)
    assert re.fullmatch(r"\[1/3\] \w+ .*; about \d+ (s|min) left", clinic_lines[0])
    assert clinic_lines[2].startswith("[3/3]")


@slow
def test_dask_scheduler_runs_the_clinics(tmp_path, demo_dir_current):
    distributed = pytest.importorskip("distributed")

    # one worker process runs both clinics in turn (an unreachable scheduler:
    # test_an_unreachable_scheduler_ends_in_one_line_and_leaves_nothing)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        result = batch.run(clinics=["hud", "gyn"], data_dir=demo_dir_current, parameters_dir=PARAMS,
                           out_dir=tmp_path / "out", scheduler=cluster.scheduler_address,
                           notebook=_quick_notebook(tmp_path / "quick.ipynb", "pass"))
    assert result.exit_code == 0
    assert all((result.run_dir / c / "report.ipynb").exists() for c in ("hud", "gyn"))
    manifest = json.loads((result.run_dir / "manifest.json").read_text())
    assert manifest["executor"].startswith("dask:tcp://127.0.0.1")


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@slow
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


# --- Batch faults: hostile text, dead workers, locks, full disks (issue 12) -------------------

HOSTILE = ["<script>alert(1)</script>", "<img src=x onerror=alert(2)>", "[klicka](javascript:alert(3))",
           '"><svg onload=alert(4)>', "*fet* `kod` $x$ & _kursiv_", "rad ett\n\n<iframe src=javascript:alert(5)>"]


class _Page:
    """What a browser would make live in an HTML page: tags, attributes and visible text."""

    def __init__(self, page: str):
        from html.parser import HTMLParser

        self.tags, self.text = [], []
        outer = self

        class Parser(HTMLParser):
            def handle_starttag(self, tag, attrs):
                outer.tags.append((tag, dict(attrs)))

            def handle_data(self, data):
                outer.text.append(data)

        Parser(convert_charrefs=True).feed(page)
        self.visible = " ".join(" ".join(self.text).split())

    def live_markup(self) -> list:
        """Tags and attributes that could run script or load something."""
        bad = []
        for tag, attrs in self.tags:
            if tag in {"script", "iframe", "object", "embed", "svg", "math", "base", "form"}:
                bad.append(tag)
            for key, value in attrs.items():
                value = (value or "").strip().lower()
                if key.startswith("on") or value.startswith(("javascript:", "vbscript:")):
                    bad.append((tag, key, value))
                if key == "src" and not value.startswith("data:image/"):
                    bad.append((tag, key, value))
        return bad


def _hostile_report_notebook(path):
    """An executed report notebook whose every user text (name, hospital, clinic id, run id,
    scenario descriptions, findings, region clinic ids) holds markup, built with the same
    report functions the notebooks call."""
    import nbformat
    from IPython.display import Markdown

    from kps_analysis import report

    weeks = pd.Series(pd.period_range("2026-11-02", periods=3, freq="W-SUN"))
    text = " ".join(HOSTILE)
    md = [report.title_markdown(text, text, weeks), report.section("summary"),
          report.section("provenance"),
          report.provenance_markdown(clinic_id=HOSTILE[1], clinic_name=text, parameter_hash="abc",
                                     package_version="0.1.0", data_period=report.data_period(weeks),
                                     run_id=HOSTILE[0])]
    scenarios = pd.DataFrame({"description": HOSTILE, "purchase_need": 1.0, "purchase_cost_sek": 1.0,
                              "breaches": 0.0, "purchase_need_change": 0.0})
    summaries = pd.DataFrame({"clinic": HOSTILE, "queue_production_ratio_weeks": range(len(HOSTILE))})
    findings = pd.DataFrame({"severity": "error", "clinic": HOSTILE, "period": None, "column": HOSTILE,
                             "message": HOSTILE})
    moves = pd.DataFrame({"clinic_from": HOSTILE, "clinic_to": HOSTILE[::-1], "stage": "new_visit",
                          "patients": 10, "first_week": HOSTILE})
    tables = [report.scenario_report_table(scenarios), report.region_table(summaries),
              report.findings_table(findings), report.moves_table(moves)]
    outputs = [nbformat.v4.new_output("display_data", data={"text/markdown": m, "text/plain": repr(Markdown(m))})
               for m in md]
    outputs += [nbformat.v4.new_output("display_data", data={"text/html": t._repr_html_(), "text/plain": "t"})
                for t in tables]
    # a markdown cell with a heading, so the table of contents has a hostile entry too
    heading = "## " + report.escape_text(text)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(heading), nbformat.v4.new_code_cell("...", outputs=outputs)]
    nbformat.write(nb, path)
    return path


def test_every_user_text_is_inert_in_report_index_and_overview(tmp_path):
    """Issue 12, item 2: clinic name, hospital, ids, scenario descriptions, findings and
    errors holding markup are shown as text, never live, in a report and the region
    overview (both go through render_html and its markdown) and in index.html."""
    executed = _hostile_report_notebook(tmp_path / "report.ipynb")
    pages = {
        "report": batch.render_html(executed, tmp_path / "report.html", title=" ".join(HOSTILE)),
        "overview": batch.render_html(executed, tmp_path / "overview.html", title="Regionöversikt"),
    }
    results = [batch.ClinicResult(clinic_id=c, status="failed" if i % 2 else "ok", name=c, error=c,
                                  summary={"escalation": c}) for i, c in enumerate(HOSTILE)]
    (tmp_path / "region").mkdir()
    (tmp_path / HOSTILE[1]).mkdir()  # a clinic id is a file stem: this one can be a folder with a report
    (tmp_path / HOSTILE[1] / "report.html").write_text("")
    pages["index"] = batch.write_index(tmp_path, HOSTILE[0], results,
                                       region={"status": "failed", "error": " ".join(HOSTILE)})
    for name, path in pages.items():
        page = _Page(path.read_text(encoding="utf-8"))
        assert page.live_markup() == [], name
        for text in HOSTILE:  # shown as the very text, one line
            assert " ".join(text.split()) in page.visible, (name, text)
    report_page = _Page(pages["report"].read_text(encoding="utf-8"))
    toc = [t for t, a in report_page.tags if t == "nav"]
    assert toc == ["nav"]  # the table of contents was built from the hostile heading, inertly
    index = _Page(pages["index"].read_text(encoding="utf-8"))
    hrefs = [a["href"] for t, a in index.tags if t == "a"]
    assert "%3Cimg%20src%3Dx%20onerror%3Dalert%282%29%3E/report.html" in hrefs  # ids quoted in links


def test_escape_text_is_the_one_path():
    from kps_analysis import report

    assert report.escape_text("<b>") == "&#60;b&#62;"
    assert report.escape_text(None) == ""
    assert report.escape_text("Ögon\n- lista") == "Ögon &#45; lista"
    assert "<" not in report.title_markdown("<b>", "<i>", pd.Series([], dtype="period[W-SUN]"))


def _partial_run(out, run_id="20990101-000000", lock=None):
    partial = out / f".{run_id}.partial"
    partial.mkdir(parents=True)
    (partial / "run.json").write_text(json.dumps({
        "run_id": run_id, "status": "running", "clinics": ["hud"], "data_dir": str(out),
        "parameters_dir": str(PARAMS), "started": "2099-01-01T00:00:00+00:00"}))
    (partial / "hud").mkdir()
    (partial / "hud" / "report.ipynb").write_text("being written")
    if lock is not None:
        (partial / "lock.json").write_text(json.dumps(lock))
    return partial


def test_resume_of_a_live_run_is_refused_naming_it(tmp_path, capsys):
    import socket
    import subprocess
    import sys

    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        partial = _partial_run(tmp_path / "out", lock={"pid": live.pid, "host": socket.gethostname()})
        before = sorted(p.relative_to(partial) for p in partial.rglob("*"))
        for argv in (["--resume"], ["--resume", "20990101-000000"]):
            code = cli.main(["run", *argv, "--out", str(tmp_path / "out")])
            err = capsys.readouterr().err
            assert code == 2
            assert err.count("\n") == 1
            assert err.startswith(f"kps run: run 20990101-000000 is in use by process {live.pid} on "
                                  f"{socket.gethostname()}")
        # nothing taken over: the clinic being written is still there, the lock is the live run's
        assert sorted(p.relative_to(partial) for p in partial.rglob("*")) == before
        assert (partial / "hud" / "report.ipynb").read_text() == "being written"
        assert json.loads((partial / "lock.json").read_text())["pid"] == live.pid
    finally:
        live.kill()
        live.wait()


def test_a_lock_of_another_host_is_respected_and_a_dead_pid_is_stale(tmp_path):
    import subprocess
    import sys

    other = _partial_run(tmp_path / "a", lock={"pid": 1, "host": "another-host.example"})
    with pytest.raises(batch.ConfigurationError, match="in use by process 1 on another-host.example"):
        batch._acquire_lock(other, "20990101-000000")

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    import socket

    stale = _partial_run(tmp_path / "b", lock={"pid": gone.pid, "host": socket.gethostname()})
    path = batch._acquire_lock(stale, "20990101-000000")
    assert json.loads(path.read_text())["pid"] == __import__("os").getpid()
    batch._release_lock(path)
    assert not path.exists()


def test_bare_resume_skips_folders_that_never_were_a_run(tmp_path, capsys):
    out = tmp_path / "out"
    (out / ".20990101-000001.partial").mkdir(parents=True)  # no run spec: never a run
    assert cli.main(["run", "--resume", "--out", str(out)]) == 2
    assert capsys.readouterr().err == f"kps run: no interrupted run (.<run-id>.partial) under {out}\n"


def _quiet_run_args(tmp_path, data, notebook_code="pass"):
    return ["run", "--clinic", "hud", "--data", str(data),
            "--parameters", str(PARAMS), "--out", str(tmp_path / "out"), "--workers", "1",
            "--notebook", str(_quick_notebook(tmp_path / "quick.ipynb", notebook_code))]


def _left_in(out):
    return sorted(p.name for p in out.iterdir()) if out.exists() else []


def test_disk_full_at_the_start_ends_in_one_line_and_leaves_nothing(tmp_path, capsys, monkeypatch, demo_dir_current):
    import errno

    args = _quiet_run_args(tmp_path, demo_dir_current)

    def full(path, data):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(batch, "_write_json", full)
    assert cli.main(args) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1
    assert re.fullmatch(r"kps run: no space left on the device: .*/run\.json; run \d{8}-\d{6} abandoned, "
                        r"its folder was removed", err[0]), err
    assert _left_in(tmp_path / "out") == []  # no .partial for --resume to pick up


def test_read_only_out_ends_in_one_line(tmp_path, capsys, monkeypatch, demo_dir_current):
    import errno
    import pathlib

    args = _quiet_run_args(tmp_path, demo_dir_current)
    out = tmp_path / "out"
    real_mkdir = pathlib.Path.mkdir

    def read_only(self, *a, **kw):
        if str(self).startswith(str(out)):
            raise OSError(errno.EROFS, "Read-only file system", str(self))
        return real_mkdir(self, *a, **kw)

    monkeypatch.setattr(pathlib.Path, "mkdir", read_only)
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert err == f"kps run: cannot prepare the run under {out}: read-only file system: {out}\n"
    assert not out.exists()


@pytest.mark.skipif(__import__("os").geteuid() == 0 if hasattr(__import__("os"), "geteuid") else True,
                    reason="root writes into a read-only folder")
def test_a_read_only_out_folder_ends_in_one_line(tmp_path, capsys, demo_dir_current):
    args = _quiet_run_args(tmp_path, demo_dir_current)
    out = tmp_path / "out"
    out.mkdir()
    out.chmod(0o555)
    try:
        assert cli.main(args) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"kps run: cannot create the run folder under {out}: permission denied")
        assert err.count("\n") == 1 and _left_in(out) == []
    finally:
        out.chmod(0o755)


def test_an_unreachable_scheduler_ends_in_one_line_and_leaves_nothing(tmp_path, capsys, demo_dir_current):
    pytest.importorskip("distributed")
    args = _quiet_run_args(tmp_path, demo_dir_current) + ["--scheduler", "tcp://127.0.0.1:9"]
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("kps run: cannot reach the Dask scheduler at tcp://127.0.0.1:9: ")
    assert err.count("\n") == 1
    assert _left_in(tmp_path / "out") == []
    assert cli.main(["run", "--resume", "--out", str(tmp_path / "out")]) == 2  # nothing to resume


@slow
def test_disk_full_at_the_end_ends_in_one_line_and_leaves_nothing(tmp_path, capsys, monkeypatch, demo_dir_current):
    import errno

    def full(run_dir, *a, **kw):
        raise OSError(errno.ENOSPC, "No space left on device", str(run_dir / "index.html"))

    monkeypatch.setattr(batch, "write_index", full)
    assert cli.main(_quiet_run_args(tmp_path, demo_dir_current)) == 2
    err = _clinic_lines(capsys.readouterr().err)
    assert err[0].startswith("[1/1] hud ok")
    assert len(err) == 2 and "Traceback" not in err[1]
    assert re.fullmatch(r"kps run: no space left on the device: .*/index\.html; run \d{8}-\d{6} abandoned, "
                        r"its folder was removed", err[1]), err
    assert _left_in(tmp_path / "out") == []


@slow
def test_a_dead_worker_fails_only_its_clinic(tmp_path, demo_dir_current):
    """The kernel of gyn kills its worker process (as the OOM killer would): the pool is
    recreated, hud and uro finish, gyn fails with a message, and the run is complete."""

    notebook = _quick_notebook(tmp_path / "killer.ipynb", "import os, signal, time\n"
                               "if clinic_id == 'gyn':\n    os.kill(os.getppid(), signal.SIGKILL)\n"
                               "time.sleep(2)\n")
    result = batch.run(clinics=["hud", "gyn", "uro"], data_dir=demo_dir_current,
                       parameters_dir=PARAMS, out_dir=tmp_path / "out", workers=2, notebook=notebook)
    status = {r.clinic_id: (r.status, r.error) for r in result.results}
    assert status == {"hud": ("ok", None), "uro": ("ok", None), "gyn": ("failed", batch.WORKER_DIED)}
    assert result.exit_code == 1
    manifest = json.loads((result.run_dir / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    assert {c: v["status"] for c, v in manifest["clinics"].items()} == {"hud": "ok", "gyn": "failed", "uro": "ok"}
    assert json.loads((result.run_dir / "gyn" / "status.json").read_text())["error"] == batch.WORKER_DIED
    assert all((result.run_dir / c / "report.html").exists() for c in ("hud", "uro"))
    assert "worker process running this clinic died" in html.unescape(
        (result.run_dir / "index.html").read_text(encoding="utf-8"))
    assert not (result.run_dir / "lock.json").exists()


def _alive(pid):
    return batch._process_alive(pid)


@slow
def test_killing_the_parent_takes_its_workers_and_kernels_with_it(tmp_path, demo_dir_current):
    import os
    import signal
    import subprocess
    import sys
    import time

    args = _quiet_run_args(tmp_path, demo_dir_current, "import os, pathlib, time\n"
                           "pathlib.Path(output_dir, '..', '..', 'pids').write_text(f'{os.getppid()} {os.getpid()}')\n"
                           "time.sleep(120)\n"
                           "pathlib.Path(output_dir, 'late').write_text('written after the parent died')\n")
    proc = subprocess.Popen([sys.executable, "-m", "kps_analysis", *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    pids = tmp_path / "out" / "pids"
    try:
        deadline = time.time() + 120
        while time.time() < deadline and not pids.exists():
            time.sleep(0.3)
        worker, kernel = map(int, pids.read_text().split())
        assert _alive(worker) and _alive(kernel)
        os.kill(proc.pid, signal.SIGKILL)  # the kps process only
        proc.wait()
        deadline = time.time() + 15
        while time.time() < deadline and (_alive(worker) or _alive(kernel)):
            time.sleep(0.3)
        assert not _alive(worker), "the worker outlived the kps process"
        assert not _alive(kernel), "the kernel outlived its worker"
        partial = list((tmp_path / "out").glob(".*.partial"))
        assert len(partial) == 1 and not list(partial[0].glob("*/status.json"))
        assert not list(partial[0].rglob("late"))
        # its lock is stale now: the run can be resumed (here: just the lock is taken over)
        lock = batch._acquire_lock(partial[0], partial[0].name)
        batch._release_lock(lock)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


@slow
def test_a_failing_region_overview_fails_the_run(tmp_path, capsys, demo_dir_current):
    # the stand-in template writes a summary.csv; the project's own region overview fails on it
    code = ("import pathlib\np = pathlib.Path(output_dir, 'tables')\np.mkdir(exist_ok=True)\n"
            "(p / 'summary.csv').write_text('clinic\\n' + clinic_id + '\\n')\n")
    project = tmp_path / "project"
    (project / "parameters").mkdir(parents=True)
    (project / "notebooks").mkdir()
    shutil.copy(PARAMS / "defaults.yaml", project / "parameters")
    _quick_notebook(project / "notebooks" / "region_overview.ipynb",
                    "from IPython.display import Markdown, display\n"
                    "display(Markdown('## Regionen totalt'))\nraise KeyError('period_ahead')\n")
    assert cli.main(_quiet_run_args(tmp_path, demo_dir_current, code) + ["--project", str(project)]) == 1
    captured = capsys.readouterr()
    assert "failed: region overview: " in captured.err
    assert re.match(r"1/1 clinics ok, region overview FAILED\. Report index: ", captured.out)
    run_dir = next(p for p in (tmp_path / "out").iterdir() if p.name[0].isdigit())
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["clinics"]["hud"]["status"] == "ok"
    assert manifest["region_overview"]["status"] == "failed"
    index = _Page((run_dir / "index.html").read_text(encoding="utf-8"))
    assert "Regionöversikt: misslyckades" in index.visible
    page = (run_dir / "region" / "overview.html").read_text(encoding="utf-8")  # what to do, no stack trace
    assert "Regionöversikten kunde inte tas fram" in page and "Traceback" not in page
    assert "KeyError: &#39;period_ahead&#39;" in page or "KeyError: 'period_ahead'" in html.unescape(page)
    assert "avsnittet ”Regionen totalt”" in html.unescape(page)
    assert "Traceback" in (run_dir / "region" / "run.log").read_text(encoding="utf-8")


@slow
def test_dask_worker_loss_has_a_timeout_and_leaves_nothing_unfinished(tmp_path, capsys, demo_dir_current):
    distributed = pytest.importorskip("distributed")
    args = _quiet_run_args(tmp_path, demo_dir_current)
    with distributed.LocalCluster(n_workers=0, processes=True, dashboard_address=None) as cluster:
        code = cli.main(args + ["--scheduler", cluster.scheduler_address, "--worker-timeout", "3"])
    err = "".join(line + "\n" for line in _clinic_lines(capsys.readouterr().err))
    assert code == 2
    assert re.fullmatch(r"kps run: run \d{8}-\d{6}: no Dask worker for 3 s; 1 clinic\(s\) not run; "
                        r"nothing was finished, its folder was removed\n", err), err
    assert _left_in(tmp_path / "out") == []


@slow
def test_dask_never_reruns_or_rewrites_a_finished_clinic(tmp_path, demo_dir_current):
    """hud finishes; then gyn's kernel kills its Dask worker each time it runs. The nanny
    restarts the worker (which held hud's result): hud is not run or written again, gyn
    fails after Dask's allowed failures."""
    distributed = pytest.importorskip("distributed")
    notebook = _quick_notebook(tmp_path / "killer.ipynb", "import os, signal, time\n"
                               "if clinic_id == 'gyn':\n    time.sleep(5)\n    os.kill(os.getppid(), signal.SIGKILL)\n")
    import time

    reported, reported_at = [], {}

    class Log(list):
        def append(self, line):
            if STEP_LINE.match(line):  # the named steps: not a clinic's line
                return
            reported_at.setdefault(line.split()[1], time.time())
            super().append(line)

    reported = Log()
    import dask

    # one retry instead of Dask's default three: the same path (worker lost, task rescheduled, then
    # failed as a suspicious task), in half the time
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}), \
            distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=True,
                                     dashboard_address=None) as cluster:
        result = batch.run(clinics=["hud", "gyn"], data_dir=demo_dir_current,
                           parameters_dir=PARAMS, out_dir=tmp_path / "out", scheduler=cluster.scheduler_address,
                           notebook=notebook, worker_timeout=60, progress=reported.append)
    status = {r.clinic_id: r.status for r in result.results}
    assert status == {"hud": "ok", "gyn": "failed"}
    assert reported[0].startswith("[1/2] hud ok")
    assert json.loads((result.run_dir / "hud" / "status.json").read_text())["status"] == "ok"
    # nothing in hud's folder was written after hud was reported finished
    newest = max(p.stat().st_mtime for p in (result.run_dir / "hud").rglob("*"))
    assert newest <= reported_at["hud"]
    assert "died" in result.failed[0].error


@slow
def test_a_run_whose_every_text_parameter_holds_markup_shows_it_inert(tmp_path, demo_dir_current):
    """The real report template and region overview on a clinic whose name, hospital,
    division, specialty, closure labels and scenario descriptions hold markup."""
    import yaml


    params = tmp_path / "parameters"
    shutil.copytree(PARAMS, params)
    path = params / "clinics" / "uro.yaml"
    clinic = yaml.safe_load(path.read_text(encoding="utf-8"))
    texts = iter(HOSTILE * 10)
    for key in ("name", "hospital", "division", "specialty"):
        clinic[key] = next(texts)
    for closure in clinic.get("closures", []):
        closure["label"] = next(texts)
    for scenario in clinic.get("scenarios", {}).values():
        scenario["description"] = next(texts)
    path.write_text(yaml.safe_dump(clinic, allow_unicode=True), encoding="utf-8")

    result = batch.run(clinics=["uro"], data_dir=demo_dir_current, parameters_dir=params,
                       out_dir=tmp_path / "out", workers=1)
    assert result.exit_code == 0, [(r.clinic_id, r.error) for r in result.results] + [result.region]
    for page_path in (result.run_dir / "uro" / "report.html", result.run_dir / "index.html",
                      result.run_dir / "region" / "overview.html"):
        page = _Page(page_path.read_text(encoding="utf-8"))
        assert page.live_markup() == [], page_path
    report_page = _Page((result.run_dir / "uro" / "report.html").read_text(encoding="utf-8"))
    assert HOSTILE[0] in report_page.visible and HOSTILE[1] in report_page.visible  # name and hospital, as text


@slow
def test_compute_once_the_region_model_is_stored_and_the_next_run_keeps_the_fixed_weeks(tmp_path):
    """kps run plans every clinic in one pass, stores each clinic's model, and the next run
    keeps the previous run's fixed weeks; the moves of a common waiting list are in both plans."""
    out = tmp_path / "out"
    first = batch.run(clinics=["ort_nord", "ort_syd"], out_dir=out, workers=2)
    assert first.exit_code == 0
    for clinic, result in zip(("ort_nord", "ort_syd"), sorted(first.results, key=lambda r: r.clinic_id)):
        assert result.clinic_id == clinic and result.render_seconds is not None  # drawn from the stored model
        assert not (first.run_dir / clinic / "model").exists()  # removed once the notebook ran (Small counts)
    second = batch.run(clinics=["ort_nord", "ort_syd"], out_dir=out, workers=2)
    assert second.exit_code == 0
    plans = {c: pd.read_csv(second.run_dir / c / "tables" / "production_plan.csv") for c in ("ort_nord", "ort_syd")}
    before = pd.read_csv(first.run_dir / "ort_nord" / "tables" / "production_plan.csv")
    kept = plans["ort_nord"][plans["ort_nord"]["origin"] == "previous"]
    assert len(kept) == int(plans["ort_nord"]["fixed"].sum())
    merged = kept.merge(before, on=["stage", "period"], suffixes=("", "_before"))
    assert (merged["own_production"] == merged["own_production_before"]).all()
    # moves out of one plan are moves into the other, week by week
    out_ = plans["ort_nord"].groupby(["stage", "period"])["moved_out"].sum()
    in_ = plans["ort_syd"].groupby(["stage", "period"])["moved_in"].sum()
    assert out_.sum() == in_.sum()
    assert (out_.reindex(in_.index).fillna(0) == in_).all()


# ----------------------------------------------------------------- failures, index, sharing, progress (issues 13, 16)
STEP_LINE = re.compile(r"^({}): ".format("|".join(re.escape(s) for s in batch.STEPS)))


def _clinic_lines(err: str) -> list[str]:
    """stderr of ``kps run`` without the named steps' progress lines."""
    return [line for line in err.splitlines() if not STEP_LINE.match(line)]


def test_a_region_without_region_pool_plans_each_clinic_alone():
    """Issue 13: no clinic sets region_pool (the ordinary case). On pandas 3 the pool
    labels were a read-only view ("assignment destination is read-only")."""
    from kps_analysis.capacity import resources_frame
    from kps_analysis.parameters import load_parameters
    from kps_analysis.purchase import optimise_region

    pools = resources_frame([load_parameters(c, PARAMS) for c in ("uro", "hud")]).resources
    assert pools["region_pool"].isna().all()
    wait = pd.DataFrame({"clinic": ["uro"], "wait_days": [85], "patients": [20.0]})
    flows = pd.DataFrame({"clinic": ["uro", "hud"], "week_ahead": [1, 1], "inflow": 0.0, "capacity": [0.0, 30.0]})
    plan = optimise_region(wait, flows, pools=pools, prices=1000, move_cost_sek=100)
    # hud's spare capacity is not uro's to use: no common waiting list, so uro buys all 20
    assert plan.moves.empty and plan.total_cost_sek == pytest.approx(20 * 1000)


def _results():
    def r(cid, name, esc=None, breaches=None, status="ok", error=None):
        summary = {} if esc is None else {"escalation": esc, "projected_breaches_12w": breaches,
                                          "share_over_90_days": 0.1, "period": "2026-W48"}
        return batch.ClinicResult(clinic_id=cid, status=status, name=name, error=error, summary=summary,
                                  step=None if status == "ok" else "data")
    return [r("a", "Alfa", "green", 50), r("b", "Beta", "yellow", 1), r("c", "Cesar", "red", 0),
            r("d", "Delta", "green", 0), r("e", "Echo", status="failed", error="e.csv: rad 3"),
            r("f", "Foxtrot", "yellow", 30)]


def test_index_is_ordered_by_need_and_speaks_the_page_language(tmp_path):
    results = _results()
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "report.html").write_text("")
    path = batch.write_index(tmp_path, "20261201-060000", results, language="sv", region_name="Region Exempel",
                             started=batch.datetime(2026, 12, 1, 6, 0, tzinfo=batch.timezone.utc))
    text = path.read_text(encoding="utf-8")
    page = _Page(re.sub(r"(?s)<style>.*</style>", "", text))
    assert '<html lang="sv">' in text
    # failed first, then red, yellow (most breaches first), then the rest by breaches
    names = ["Echo", "Cesar", "Foxtrot", "Beta", "Alfa", "Delta"]
    assert [page.visible.index(n) for n in names] == sorted(page.visible.index(n) for n in names)
    assert "Region Exempel" in page.visible and "vecka 48, 2026" in page.visible and "2026-12-01" in page.visible
    assert "röd" in page.visible and "gul" in page.visible and "grön" in page.visible
    assert "yellow" not in page.visible and "red " not in page.visible
    assert '<th scope="col">' in text and "<caption>" in text
    assert [a["href"] for t, a in page.tags if t == "a"][0] == "c/report.html"
    english = _Page(re.sub(r"(?s)<style>.*</style>", "", batch.write_index(tmp_path, "r", results, language="en")
                           .read_text(encoding="utf-8")))
    assert "yellow" in english.visible and "gul" not in english.visible and "week 48, 2026" in english.visible


def test_index_comes_from_the_jinja_template():
    source = Path(batch.__file__).read_text(encoding="utf-8")
    write_index = source[source.index("def write_index("):source.index("def _headline_columns(")]
    assert "<table" not in write_index and "<tr" not in write_index  # the markup is in the template
    assert (Path(batch.__file__).parent / "templates" / "index" / "index.html.j2").is_file()


def _finished_run(out, run_id, status="ok"):
    folder = out / run_id
    folder.mkdir(parents=True)
    (folder / "index.html").write_text(run_id)
    (folder / "manifest.json").write_text(json.dumps({
        "run_id": run_id, "finished": "2026-12-01T06:00:00+00:00",
        "clinics": {"hud": {"status": status}, "uro": {"status": "ok"}}, "region_overview": {"status": "ok"}}))
    return folder


def test_latest_points_at_the_newest_finished_run(tmp_path, monkeypatch):
    out = tmp_path / "out"
    _finished_run(out, "20261124-060000")
    _finished_run(out, "20261201-060000", status="failed")
    (out / ".20261202-060000.partial").mkdir()  # running: not a finished run
    (out / "20261203-060000").mkdir()  # no manifest: never finished
    link = batch.update_latest(out)
    assert link == out / "latest" and link.is_symlink() and os.readlink(link) == "20261201-060000"
    assert (link / "index.html").read_text() == "20261201-060000"
    runs = _Page((out / "index.html").read_text(encoding="utf-8"))
    hrefs = [a["href"] for t, a in runs.tags if t == "a"]
    assert hrefs == ["latest/index.html", "20261201-060000/index.html", "20261124-060000/index.html"]
    assert "1 av 2 kliniker klara, 1 misslyckades" in runs.visible
    _finished_run(out, "20261208-060000")
    assert os.readlink(batch.update_latest(out)) == "20261208-060000"  # replaced, not nested
    assert not list(out.glob(".latest*"))
    # no symbolic links (Windows without the right): a page that redirects to the newest run
    monkeypatch.setattr(batch.os, "symlink", lambda *a, **k: (_ for _ in ()).throw(OSError(1, "not permitted")))
    (out / "latest").unlink()
    page = batch.update_latest(out)
    assert page == out / "latest.html"
    assert 'content="0; url=20261208-060000/index.html"' in page.read_text(encoding="utf-8")
    mine = out / "latest"
    mine.mkdir()  # the user's own folder named latest is left alone
    assert batch.update_latest(out) == out / "latest.html" and mine.is_dir() and not mine.is_symlink()


def test_kps_finds_its_project_or_uses_the_packaged_one(tmp_path, monkeypatch, capsys):
    packaged = batch.packaged_project()
    assert (packaged / "notebooks" / "clinic_report.ipynb").is_file()
    assert (packaged / "parameters" / "defaults.yaml").is_file()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert batch.find_project() is None and batch.project_root() == packaged
    assert cli.main(["list"]) == 0 and "uro\t" in capsys.readouterr().out  # the demo clinics
    project = tmp_path / "project"
    (project / "parameters" / "clinics").mkdir(parents=True)
    shutil.copy(PARAMS / "defaults.yaml", project / "parameters")
    shutil.copy(PARAMS / "clinics" / "hud.yaml", project / "parameters" / "clinics" / "mine.yaml")
    (project / "deep" / "er").mkdir(parents=True)
    assert cli.main(["list", "--project", str(project)]) == 0
    assert capsys.readouterr().out.startswith("mine\t")
    monkeypatch.chdir(project / "deep" / "er")  # found from a subfolder
    assert batch.find_project() == project.resolve()
    assert cli.main(["list"]) == 0 and capsys.readouterr().out.startswith("mine\t")
    assert cli.main(["list", "--project", str(elsewhere)]) == 2
    assert "not a project folder" in capsys.readouterr().err


@slow
def test_run_files_are_readable_by_others(demo_run):
    """Issue 16, item 6: under umask 022 (the demo run's) every file of a run is readable by
    others (the atomic writes made them 0600); outputs/latest points at the run, the
    outputs-level index lists it; the manifest records the dependencies' versions."""
    import stat

    _, run_dir = demo_run
    out = run_dir.parent
    for path in [run_dir, *run_dir.rglob("*"), out / "index.html"]:
        mode = path.stat().st_mode
        assert mode & stat.S_IROTH, f"{path} is not readable by others: {oct(mode)}"
        assert not path.is_dir() or mode & stat.S_IXOTH, path
    assert os.readlink(out / "latest") == run_dir.name
    assert f'href="{run_dir.name}/index.html"' in (out / "index.html").read_text(encoding="utf-8")
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["dependencies"]["pandas"] == pd.__version__
    assert set(manifest["dependencies"]) >= {"numpy", "papermill", "nbconvert", "jinja2", "tqdm"}
    index = (run_dir / "index.html").read_text(encoding="utf-8")
    assert "Region Exempel" in index and '<html lang="sv">' in index


def test_the_progress_bar_counts_the_clinics(capsys):
    lines = []
    results = [batch.ClinicResult(clinic_id=c, status="ok", seconds=1.0) for c in ("a", "b", "c")]
    batch._notebook_progress(((None, r) for r in results), [], 0, 3, lines.append, True)
    err = capsys.readouterr().err
    assert "3/3" in err and "clinic" in err  # tqdm's bar on stderr
    assert lines[0].startswith("[1/3] a ok (1.0 s); about ") and lines[-1] == "[3/3] c ok (1.0 s)"


def test_the_render_step_runs_only_for_a_template_that_shows_stored_sections(tmp_path):
    """kps run draws a clinic's sections once for a template that shows them (fragments.show);
    a user's own template or a stand-in is run without that work (issue 15: no work done twice)."""
    assert batch.shows_stored_sections(ROOT / "notebooks" / "clinic_report.ipynb")
    assert not batch.shows_stored_sections(_quick_notebook(tmp_path / "own.ipynb", "print(clinic_id)"))
    assert batch.shows_stored_sections(tmp_path / "missing.ipynb")  # papermill reports the problem
    job = {"model_dir": str(tmp_path / "model"), "render": False}
    assert batch._render_step(job, tmp_path) is None and not (tmp_path / "model").exists()
