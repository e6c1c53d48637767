"""End to end: `kps run` on inputs that are not the demo's: a broken clinic beside a sound one,
and every user text holding markup (escaping in the report, the index and the region overview).

Split from ``test_batch.py`` so that the test processes share the slow end-to-end runs
(pytest-xdist gives each file to one process). These runs plan a region of only the clinics
they need (:func:`batch_helpers.small_region`).
"""

import html
import shutil

import pandas as pd
import pytest
from batch_helpers import Page, small_region

from kps_analysis import batch

slow = pytest.mark.slow


@slow
def test_a_broken_clinic_fails_alone(tmp_path, demo_dir_current):

    data = tmp_path / "data"
    shutil.copytree(demo_dir_current, data)
    params = small_region(tmp_path / "parameters", ("hud", "gyn"))
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



# --- Batch faults: hostile text, dead workers, locks, full disks (issue 12) -------------------

HOSTILE = ["<script>alert(1)</script>", "<img src=x onerror=alert(2)>", "[klicka](javascript:alert(3))",
           '"><svg onload=alert(4)>', "*fet* `kod` $x$ & _kursiv_", "rad ett\n\n<iframe src=javascript:alert(5)>"]


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
        page = Page(path.read_text(encoding="utf-8"))
        assert page.live_markup() == [], name
        for text in HOSTILE:  # shown as the very text, one line
            assert " ".join(text.split()) in page.visible, (name, text)
    report_page = Page(pages["report"].read_text(encoding="utf-8"))
    toc = [t for t, a in report_page.tags if t == "nav"]
    assert toc == ["nav"]  # the table of contents was built from the hostile heading, inertly
    index = Page(pages["index"].read_text(encoding="utf-8"))
    hrefs = [a["href"] for t, a in index.tags if t == "a"]
    assert "%3Cimg%20src%3Dx%20onerror%3Dalert%282%29%3E/report.html" in hrefs  # ids quoted in links


def test_escape_text_is_the_one_path():
    from kps_analysis import report

    assert report.escape_text("<b>") == "&#60;b&#62;"
    assert report.escape_text(None) == ""
    assert report.escape_text("Ögon\n- lista") == "Ögon &#45; lista"
    assert "<" not in report.title_markdown("<b>", "<i>", pd.Series([], dtype="period[W-SUN]"))


@slow
def test_a_run_whose_every_text_parameter_holds_markup_shows_it_inert(tmp_path, demo_dir_current):
    """The real report template and region overview on a clinic whose name, hospital,
    division, specialty, closure labels and scenario descriptions hold markup."""
    import yaml


    params = small_region(tmp_path / "parameters", ("uro",))
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
        page = Page(page_path.read_text(encoding="utf-8"))
        assert page.live_markup() == [], page_path
    report_page = Page((result.run_dir / "uro" / "report.html").read_text(encoding="utf-8"))
    assert HOSTILE[0] in report_page.visible and HOSTILE[1] in report_page.visible  # name and hospital, as text


