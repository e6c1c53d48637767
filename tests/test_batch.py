"""End to end: `kps run` on the demo region (papermill, nbconvert), offline HTML, failures.

The tests that start Jupyter kernels are marked slow; the demo region is run once per
session (module fixture) and shared by the assertions; escaping is tested here too. The
batch-fault tests (locks, dead workers, full disks, resume) are in ``test_batch_faults.py``.
"""

import html
import json
import os
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from batch_helpers import Page, small_region

from kps_analysis import batch, cli
from kps_analysis.parameters import list_clinics

ROOT = Path(__file__).resolve().parent.parent
PARAMS = ROOT / "parameters"
slow = pytest.mark.slow
IMAGES = re.compile(r'(data:image/(?:png|svg\+xml);base64,|"image/png":\s*")[A-Za-z0-9+/=\\n]+')


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
    # no absolute path (where the analyst keeps the files, under which user) in the shared run folder
    for name in ("manifest.json", "run.json", "index.html"):
        text = (run_dir / name).read_text(encoding="utf-8")
        assert str(ROOT) not in text and str(Path.home()) + "/" not in text, name


@slow
def test_every_output_of_a_run_states_the_runs_start(demo_run):
    """One time for a run everywhere: its id is its start in UTC to the second, and the index, the
    region overview and every report state that minute (a report drawn a minute later said so)."""
    from datetime import datetime, timezone

    _, run_dir = demo_run
    started = datetime.fromisoformat(json.loads((run_dir / "manifest.json").read_text())["started"])
    started = started.astimezone(timezone.utc)
    assert run_dir.name == started.strftime("%Y%m%d-%H%M%S")
    stamp = started.strftime("%Y-%m-%d %H:%M UTC")
    pages = [run_dir / "index.html", run_dir / "region" / "overview.html", *sorted(run_dir.glob("*/report.html"))]
    assert len(pages) >= 10
    for page in pages:
        text = html.unescape(page.read_text(encoding="utf-8"))
        assert set(re.findall(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC", text)) == {stamp}, page


@slow
def test_reports_are_self_contained_and_hide_code(demo_run):
    _, run_dir = demo_run
    for page in [run_dir / "index.html", *run_dir.glob("*/report.html")]:
        text = page.read_text(encoding="utf-8")
        loaded = re.findall(r'(?:src|href)\s*=\s*["\'](https?:[^"\']*)', text)
        assert loaded == [], f"{page} loads {loaded[:3]}"
        assert "<script src" not in text
        if page.name == "report.html":
            assert text.count('src="data:image/svg+xml;base64') >= 3
            assert "load_parameters" not in text  # code hidden
            assert "kps-toc" in text


@slow
def test_a_clinic_without_operations_shows_no_treatment_rates(demo_run):
    """hud (dermatology) reports zeros for decisions and operations: its report shows no
    'decisions per first visit 0,00' (a stage it does not have), uro's shows its rate."""
    _, run_dir = demo_run
    rate = "Behandlingsbeslut per nybesök"
    assert rate not in (run_dir / "hud" / "report.html").read_text(encoding="utf-8")
    hud = (run_dir / "hud" / "report.html").read_text(encoding="utf-8")
    assert "Återbesök per nybesök" in hud
    assert "kön till nybesök, det enda steget i klinikens flöde" in hud   # the balance names its one queue
    assert rate in (run_dir / "uro" / "report.html").read_text(encoding="utf-8")


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
    assert 'src="data:image/svg+xml;base64' in page
    summaries = report.read_clinic_tables(run_dir, "summary")
    assert len(summaries) == len(list_clinics(PARAMS))
    totals = summary.region_totals(summaries).iloc[0]
    assert totals["queue_new_visit"] == sum(
        pd.read_csv(p)["queue_new_visit"].sum() for p in run_dir.glob("*/tables/summary.csv"))
    # the overview shows the region's total first-visit queue, formatted the Swedish way
    assert report.format_count(totals["queue_new_visit"]) in page
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["region_overview"]["status"] == "ok"
    # the later moves' saving is "another" only after a saving within the fixed weeks
    if "ändrar inte den kostnaden" in page:
        assert "sparar ytterligare" not in page
    # a clinic of weekly totals is told why it buys its reported over-limit patients; one with a
    # patient-level waiting list is not
    assert "Veckosummor" in (run_dir / "hud" / "report.html").read_text(encoding="utf-8")
    assert "Veckosummor" not in (run_dir / "uro" / "report.html").read_text(encoding="utf-8")


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


@slow
def test_compute_once_the_region_model_is_stored_and_the_next_run_keeps_the_fixed_weeks(demo_run, tmp_path):
    """kps run plans every clinic in one pass (the demo run: each clinic drawn from its stored
    model, test_every_demo_clinic_has_a_report), and the next run keeps the previous run's
    fixed weeks; the moves of a common waiting list are in both plans."""
    _, first_dir = demo_run
    out = tmp_path / "out"  # the demo run's two tables as the previous run of a new output folder
    for clinic in ("ort_nord", "ort_syd"):
        shutil.copytree(first_dir / clinic / "tables", out / first_dir.name / clinic / "tables")
    # the two alone (cheaper to plan than the region; the previous plan is the region's)
    params = small_region(tmp_path / "parameters", ("ort_nord", "ort_syd"))
    second = batch.run(clinics=["ort_nord", "ort_syd"], data_dir=first_dir.parent / "demo-data", out_dir=out,
                       parameters_dir=params, workers=2)
    assert second.exit_code == 0
    plans = {c: pd.read_csv(second.run_dir / c / "tables" / "production_plan.csv") for c in ("ort_nord", "ort_syd")}
    before = pd.read_csv(first_dir / "ort_nord" / "tables" / "production_plan.csv")
    kept = plans["ort_nord"][plans["ort_nord"]["origin"] == "previous"]
    assert len(kept) == int(plans["ort_nord"]["fixed"].sum()) > 0
    merged = kept.merge(before, on=["stage", "period"], suffixes=("", "_before"))
    assert (merged["own_production"] == merged["own_production_before"]).all()
    # moves out of one plan are moves into the other, week by week
    out_ = plans["ort_nord"].groupby(["stage", "period"])["moved_out"].sum()
    in_ = plans["ort_syd"].groupby(["stage", "period"])["moved_in"].sum()
    assert out_.sum() == in_.sum()
    assert (out_.reindex(in_.index).fillna(0) == in_).all()


def _same_tables(reference: Path, other: Path, clinic: str) -> None:
    tables = sorted((reference / "tables").glob("*.csv"))
    assert len(tables) >= 15
    for table in tables:
        assert table.read_bytes() == (other / "tables" / table.name).read_bytes(), f"{clinic}: {table.name} differs"


def _report_text(run_dir: Path, clinic: str) -> str:
    """A clinic's report.html without what differs between two runs of the same inputs: the run
    id, the run's time and the injected parameters cell's random id."""
    text = (run_dir / clinic / "report.html").read_text(encoding="utf-8").replace(run_dir.name, "RUN")
    text = re.sub(r'id="cell-id=[0-9a-f]+"', 'id="cell-id"', text)
    return re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", "TIME", text)


@slow
def test_a_run_of_some_clinics_reports_them_as_the_region_run_does(demo_run, tmp_path):
    """`kps run --clinic ort_nord --clinic gyn` plans the whole region (the forecasts pool over
    its clinics, ort_nord moves patients to ort_syd), so every table of the two equals the
    region run's: gyn's purchase was 4 patients alone against 6 in the region, and ort_nord
    alone had no moves.

    The reports too, to the byte but for the run's id and time: on one worker gyn is shown in
    the kernel that showed ort_nord (reset, :func:`batch._warm_kernel`), in the region run
    (2 workers, the clinics in order) gyn was the first clinic of its worker's new kernel and
    ort_nord came sixth."""
    _, first_dir = demo_run
    result = batch.run(clinics=["ort_nord", "gyn"], data_dir=first_dir.parent / "demo-data", parameters_dir=PARAMS,
                       out_dir=tmp_path / "out", workers=1)
    assert result.exit_code == 0
    for clinic in ("ort_nord", "gyn"):
        _same_tables(first_dir / clinic, result.run_dir / clinic, clinic)
        assert _report_text(result.run_dir, clinic) == _report_text(first_dir, clinic), clinic
    assert len(pd.read_csv(result.run_dir / "ort_nord" / "tables" / "moves.csv")) > 0
    # the manifest names the clinics planned together and hashes all their inputs
    manifest = json.loads((result.run_dir / "manifest.json").read_text())
    assert set(manifest["clinics"]) == {"ort_nord", "gyn"}
    assert manifest["planned_with"] == list_clinics(PARAMS)
    assert set(manifest["parameters"]) == set(list_clinics(PARAMS))
    assert any("ort_syd" in path for path in manifest["inputs"])


@slow
def test_the_notebook_run_on_its_own_shows_the_region_runs_numbers(demo_run, tmp_path):
    """In JupyterLab (no stored model) the clinic is planned with its region through the same
    call as kps run: the tables it writes equal the region run's, moves and pooled
    forecast and backtest included."""
    from kps_analysis import sections

    _, first_dir = demo_run
    ctx = sections.load("ort_nord", PARAMS, first_dir.parent / "demo-data", tmp_path / "ort_nord")
    sections.write_tables(ctx)
    _same_tables(first_dir / "ort_nord", tmp_path / "ort_nord", "ort_nord")


@slow
def test_a_clinic_opened_again_reads_its_region_from_the_model_cache(demo_run, tmp_path, monkeypatch):
    """The notebook on its own plans the whole region (16-18 s for the demo); the second clinic
    opened, or the same one again, reads the region's model from the cache: the same numbers,
    and a changed input plans again."""
    import shutil

    from kps_analysis import region
    from kps_analysis.parameters import load_parameters

    _, first_dir = demo_run
    data = first_dir.parent / "demo-data"
    cache = tmp_path / "cache"
    small = tmp_path / "region"   # a region of three clinics (two with a common waiting list): cheaper to plan
    shutil.copytree(PARAMS, small)
    for f in (small / "clinics").glob("*.yaml"):
        if f.stem not in ("ort_nord", "ort_syd", "gyn"):
            f.unlink()
    params = load_parameters("ort_nord", small)
    fresh_model, fresh = region.clinic_model(params, small, data, cache_dir=cache)
    stored = [d for d in cache.iterdir() if d.is_dir()]
    assert len(stored) == 1 and (stored[0] / "gyn" / "plan.parquet").is_file()   # every clinic of the region

    def planned_again(*a, **k):
        raise AssertionError("planned again although the region's model is in the cache")

    with monkeypatch.context() as m:
        m.setattr(region, "compute", planned_again)
        for clinic in ("ort_nord", "gyn"):
            model, frames = region.clinic_model(load_parameters(clinic, small), small, data, cache_dir=cache)
            assert set(model.plan["clinic"]) == {clinic}
    model, frames = region.clinic_model(params, small, data, cache_dir=cache)
    for name in ("plan", "figures", "moves", "uncertainty", "follow_up", "capacity_check"):
        pd.testing.assert_frame_equal(getattr(model, name).reset_index(drop=True),
                                      getattr(fresh_model, name).reset_index(drop=True), check_dtype=False,
                                      check_categorical=False, obj=name)
    assert set(frames) == set(fresh)
    for name in fresh:
        pd.testing.assert_frame_equal(frames[name], fresh[name], check_dtype=False, obj=name)
    # another input, another key: a changed parameter of any clinic of the region is planned again
    assert region.cache_key(region.clinics_of(PARAMS), data, {}) == region.cache_key(region.clinics_of(PARAMS),
                                                                                     data, {})
    other = tmp_path / "params"
    shutil.copytree(PARAMS, other)
    gyn = other / "clinics" / "gyn.yaml"
    gyn.write_text(gyn.read_text(encoding="utf-8") + "\npurchase_lead_time_weeks: 3\n", encoding="utf-8")
    assert region.cache_key(region.clinics_of(other), data, {}) != region.cache_key(region.clinics_of(PARAMS),
                                                                                    data, {})


# ----------------------------------------------------------------- failures, index, sharing, progress (issues 13, 16)


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
        summary = {} if esc is None else {"escalation": esc, "projected_breaches_peak_12w": breaches,
                                          "share_over_90_days": 0.1, "period": "2026-W48"}
        return batch.ClinicResult(clinic_id=cid, status=status, name=name, error=error, summary=summary,
                                  step=None if status == "ok" else "data")
    return [r("a", "Alfa", "green", 50), r("b", "Beta", "yellow", 1), r("c", "Cesar", "red", 0),
            r("d", "Delta", "green", 0), r("e", "Echo", status="failed", error="e.csv: rad 3"),
            r("f", "Foxtrot", "yellow", 30)]


def test_the_index_ranks_and_shows_the_peak_over_90_days_as_the_report_does():
    """gyn's report said 20 patients over 90 days within 12 weeks if nothing is bought (the
    peak); the index showed 0 (week 12 alone) under a like label and ranked gyn as if it had
    none. The index, its order and the overview now take the report's figure."""
    low_at_12 = {"escalation": "yellow", "projected_breaches_12w": 0.0, "projected_breaches_peak_12w": 20.0}
    steady = {"escalation": "yellow", "projected_breaches_12w": 5.0, "projected_breaches_peak_12w": 5.0}
    rs = [batch.ClinicResult("b", "ok", name="B", summary=steady),
          batch.ClinicResult("a", "ok", name="A", summary=low_at_12)]
    assert [r.clinic_id for r in batch.need_order(rs)] == ["a", "b"]
    assert "projected_breaches_peak_12w" in batch._headline_columns()
    assert "projected_breaches_12w" not in batch._headline_columns()
    # first visits and operations never one count: uro's "Köpbehov 406" was 158 + 248
    assert {"purchase_new_visits_12w", "purchase_operations_12w"} <= set(batch._headline_columns())
    assert not {"purchase_need_12w", "capacity_gap_12w"} & set(batch._headline_columns())


def test_index_is_ordered_by_need_and_speaks_the_page_language(tmp_path):
    results = _results()
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "report.html").write_text("")
    path = batch.write_index(tmp_path, "20261201-060000", results, language="sv", region_name="Region Exempel",
                             started=batch.datetime(2026, 12, 1, 6, 0, tzinfo=batch.timezone.utc))
    text = path.read_text(encoding="utf-8")
    page = Page(re.sub(r"(?s)<style>.*</style>", "", text))
    assert '<html lang="sv">' in text
    # failed first, then red, yellow (most breaches first), then the rest by breaches
    names = ["Echo", "Cesar", "Foxtrot", "Beta", "Alfa", "Delta"]
    assert [page.visible.index(n) for n in names] == sorted(page.visible.index(n) for n in names)
    assert "Region Exempel" in page.visible and "vecka 48, 2026" in page.visible and "2026-12-01" in page.visible
    assert "röd" in page.visible and "gul" in page.visible and "grön" in page.visible
    assert "yellow" not in page.visible and "red " not in page.visible
    assert '<th scope="col">' in text and "<caption>" in text
    assert [a["href"] for t, a in page.tags if t == "a"][0] == "c/report.html"
    english = Page(re.sub(r"(?s)<style>.*</style>", "", batch.write_index(tmp_path, "r", results, language="en")
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
    runs = Page((out / "index.html").read_text(encoding="utf-8"))
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




@pytest.mark.parametrize("source, tagged, expected", [
    ('clinic_id = "uro"\nmodel_dir = ""\n', True, True),
    ('clinic_id = "uro"\nmodel_dir: str = ""\n', True, True),
    ('clinic_id = "uro"\n# model_dir = ""\n', True, False),           # a comment is no parameter
    ('model_dir = ""\n', False, False),                               # not the parameters cell
    ('model_dir = (\n', True, False),                                 # a cell that does not parse
])
def test_takes_model_reads_the_parameters_cell_as_papermill_does(tmp_path, source, tagged, expected):
    """The batch stores a model only for a template that takes ``model_dir``; read without
    importing papermill, the same answer as papermill's own inspection."""
    import papermill as pm

    cell = {"cell_type": "code", "execution_count": None, "metadata": {"tags": ["parameters"] if tagged else []},
            "outputs": [], "source": source}
    path = tmp_path / "template.ipynb"
    path.write_text(json.dumps({"cells": [cell], "metadata": {"kernelspec": {"name": "python3", "language": "python",
                                                                            "display_name": "Python 3"}},
                                "nbformat": 4, "nbformat_minor": 5}), encoding="utf-8")
    assert batch.takes_model(path) is expected
    if "(" not in source:
        assert ("model_dir" in pm.inspect_notebook(str(path))) is expected
    (tmp_path / "broken.ipynb").write_text("{not json", encoding="utf-8")
    assert batch.takes_model(tmp_path / "broken.ipynb") is False


def test_a_section_that_could_not_be_shown_keeps_the_log_it_points_to(tmp_path, capsys):
    """The report says "the error is in the run's log" in place of a failed section; the log
    was deleted for a clinic that finished. The batch now reads the failed sections from what
    sections._failed writes to the log, keeps the log and names them."""
    from kps_analysis import sections

    sections._RECORDED, saved = [], sections._RECORDED
    try:
        sections._failed("seasonal", "sv", ValueError("cannot convert NaN to integer"))
    finally:
        sections._RECORDED = saved
    log = tmp_path / "run.log"
    log.write_text("papermill chatter\n" + capsys.readouterr().err, encoding="utf-8")
    assert batch._failed_sections(log) == ["seasonal"]
    assert batch._failed_sections(tmp_path / "missing.log") == []


def test_the_index_says_which_clinics_have_data_out_of_date(tmp_path):
    """kir's data ended six weeks early: its report warned on the first screen, the index and
    overview said nothing. The index row now says so, and names sections that could not be shown."""
    stale = batch.ClinicResult("kir", "ok", name="Kirurgi", summary={
        "escalation": "green", "stale": True, "data_end": "2026-10-18", "data_age_days": 45})
    broken = batch.ClinicResult("onh", "ok", name="ÖNH", summary={"escalation": "green"},
                                failed_sections=["situation"])
    page = html.unescape(batch.write_index(tmp_path, "r", [stale, broken], language="sv").read_text(encoding="utf-8"))
    assert "Inaktuella data: till och med 2026-10-18, 45 dagar före körningen." in page
    assert "1 avsnitt kunde inte visas (se run.log)." in page


def test_status_and_manifest_files_are_strict_json(tmp_path):
    """status.json held bare NaN (a clinic's figure not computed): strict JSON readers refuse it."""
    def refuse(name):
        raise ValueError(f"not JSON: {name}")

    batch._write_json(tmp_path / "status.json", {"summary": {"purchase_need_12w": float("nan"), "n": 3.0},
                                                 "list": [float("inf")]})
    data = json.loads((tmp_path / "status.json").read_text(encoding="utf-8"), parse_constant=refuse)
    assert data == {"summary": {"purchase_need_12w": None, "n": 3.0}, "list": [None]}


def test_the_index_shows_the_operations_bought_as_whole_patients():
    """"purchase_operations_12w" holds the letters "ratio" (ope-ratio-ns): it is a count, not a ratio
    with a decimal (the index showed uro's 248 operations as "248,0", the overview as 248)."""
    from kps_analysis.report.tables import headline_table

    assert batch._headline_cell("purchase_operations_12w", 248.0, "sv")["text"] == "248"
    assert batch._headline_cell("queue_production_ratio_weeks", 19.7, "sv")["text"] == "19,7"
    row = pd.DataFrame({"clinic": ["uro"], "purchase_operations_12w": [248.0], "queue_production_ratio_weeks": [19.7]})
    assert headline_table(row).iloc[:, 0].tolist() == ["248", "19,7"]


@slow
def test_a_reused_kernel_starts_each_clinic_empty_in_its_folder(tmp_path, monkeypatch):
    """A local worker shows its clinics in one kernel (issue 15: a new kernel per clinic cost
    0.8-0.9 s of its 1.3-1.5 s notebook); before each clinic the kernel's namespace is emptied,
    its execution counts start at 1 and it works in the clinic's folder. After
    ``KERNEL_REUSE_LIMIT`` clinics, or when it died, a new kernel is started."""
    monkeypatch.setattr(batch, "KERNEL_REUSE_LIMIT", 2)
    folders = [tmp_path / name for name in ("a", "b", "c", "d")]
    for folder in folders:
        folder.mkdir()

    def run(warm, code):   # through the client the notebook is run with
        reply = warm["kc"].execute_interactive(code, timeout=60, output_hook=lambda msg: None, user_expressions={
            "cwd": "__import__('os').getcwd()", "left": "'secret' in globals()",
            "count": "get_ipython().execution_count"})
        return {k: eval(v["data"]["text/plain"]) for k, v in reply["content"]["user_expressions"].items()}

    try:
        first = batch._warm_kernel(folders[0])
        assert set(first) == {"km", "kc"}   # papermill's arguments beside the kit's engine (run_clinic)
        assert run(first, "secret = 'clinic a'") == {"cwd": str(folders[0]), "left": True, "count": 2}
        again = batch._warm_kernel(folders[1])
        assert again["km"] is first["km"] and again["kc"] is first["kc"]
        assert run(again, "1") == {"cwd": str(folders[1]), "left": False, "count": 2}
        fresh = batch._warm_kernel(folders[2])          # the limit of 2 clinics was reached
        assert fresh["km"] is not first["km"] and not first["km"].is_alive()
        fresh["km"].shutdown_kernel(now=True)           # a kernel that died is replaced
        last = batch._warm_kernel(folders[3])
        assert last["km"] is not fresh["km"] and run(last, "1")["cwd"] == str(folders[3])
    finally:
        batch._drop_kernel()
    assert batch._KERNEL["km"] is None
