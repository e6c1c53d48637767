"""A user's own data as it really comes, in one ``kps run`` beside a weekly demo clinic.

The corpus (built in a temporary project folder):

* ``onh``: the demo's weekly ENT clinic, as shipped;
* ``onh_man``: the same clinic summed to calendar months (a monthly BI export);
* ``mr_skottland``: Public Health Scotland's real monthly MRI waiting list by wait band
  (queue only, GB/Scotland calendar, data ending December 2022: stale on the run date);
* ``op_only``: operations only, weekly (no visits, no queue);
* ``onh_eng``: the weekly ENT data planned on the English calendar;
* ``minimal``: a clinic file with only a name and its data (no resources, agreement or
  prices);
* ``trasig``: a clinic whose data file does not exist (validate and run must agree).

Checked: every clinic validate passes also runs; the run's reports hold no stack trace;
the monthly report speaks of months and its numbers are its stored model's; the partial
clinics get the sections their data support and a sentence for the others; the stale clinic
says so; the English calendar never mentions Swedish holidays.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from kps_analysis import periods
from kps_analysis.calendar import iso_week_label

ROOT = Path(__file__).resolve().parents[1]
END = "2026-11-29"

pytestmark = pytest.mark.slow


def _scotland_mri(path: Path) -> None:
    """PHS diagnostics (OGL v3.0, see tests/data/README.md): MRI, the list size at each
    month end (the sum of its wait bands) and those waiting 92 days or more (the band "92 days
    and over", or its split bands where only they are given), in the kit's monthly format."""
    raw = pd.read_csv(ROOT / "tests" / "data" / "diagnostics_scotland_mri_2019_2022.csv")
    mri = raw[raw["DiagnosticTestDescription"] == "Magnetic Resonance Imaging"].assign(
        period=lambda f: pd.to_datetime(f["MonthEnding"].astype(str)).dt.to_period("M").astype(str))
    band = mri["WaitingTime"]
    under = mri[band.str.match(r"^\d+-\s*\d+\s*days$") & ~band.isin(
        ["92-182 days", "183-273 days", "274-364 days"])].groupby("period")["NumberOnList"].sum(min_count=1)
    over_whole = mri[band == "92 days and over"].groupby("period")["NumberOnList"].sum(min_count=1)
    over_split = mri[band.isin(["92-182 days", "183-273 days", "274-364 days", "365 days and over"])].groupby(
        "period")["NumberOnList"].sum(min_count=1)
    over = over_whole.combine_first(over_split).reindex(under.index)
    out = pd.DataFrame({"Klinik": "mr_skottland", "Månad": under.index,
                        "Väntande nybesök": (under + over).to_numpy(),
                        "Väntat över 90 dagar nybesök": over.to_numpy()}).dropna()
    assert len(out) >= 40                                           # 2019-03 .. 2022-12
    out.to_csv(path, sep=";", index=False, encoding="utf-8-sig")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, demo_dir):
    from kps_analysis import data

    base = tmp_path_factory.mktemp("corpus")
    src = demo_dir  # the demo ending END (tests/conftest.py); only copied from
    pdir, ddir = base / "parameters", base / "data"
    (pdir / "clinics").mkdir(parents=True)
    ddir.mkdir()
    defaults = yaml.safe_load((ROOT / "parameters" / "defaults.yaml").read_text(encoding="utf-8"))
    defaults["simulation"] = {**defaults.get("simulation", {}), "runs": 40}   # no assertion rests on the runs
    (pdir / "defaults.yaml").write_text(yaml.safe_dump(defaults, allow_unicode=True), encoding="utf-8")
    onh = yaml.safe_load((ROOT / "parameters" / "clinics" / "onh.yaml").read_text(encoding="utf-8"))
    shutil.copy(src / "onh_weekly.csv", ddir / "onh_weekly.csv")
    weekly = data.read_weekly(src / "onh_weekly.csv")

    def clinic(cid, spec):
        (pdir / "clinics" / f"{cid}.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")

    clinic("onh", onh)
    monthly = periods.to_monthly(weekly).assign(clinic="onh_man")
    monthly.assign(period=monthly["period"].astype(str)).to_csv(ddir / "onh_man_monthly.csv", index=False)
    clinic("onh_man", {**onh, "name": "ÖNH (månadsdata)", "data": {"weekly": "onh_man_monthly.csv"}})
    _scotland_mri(ddir / "mri_scotland.csv")
    clinic("mr_skottland", {"name": "MR-kameran, Skottland", "country": "GB", "subdivision": "SCT",
                            "data": {"weekly": "mri_scotland.csv"}})
    ops = weekly[["clinic", "period", "operations_elective", "operations_acute"]].assign(clinic="op_only")
    ops.assign(period=iso_week_label(ops["period"])).to_csv(ddir / "op_only.csv", index=False)
    clinic("op_only", {"name": "Dagkirurgin", "data": {"weekly": "op_only.csv"}})
    eng = weekly.assign(clinic="onh_eng")
    eng.assign(period=iso_week_label(eng["period"])).to_csv(ddir / "onh_eng.csv", index=False)
    clinic("onh_eng", {**onh, "name": "ENT, England", "country": "GB", "subdivision": "ENG",
                       "data": {"weekly": "onh_eng.csv"}})
    mini = weekly.assign(clinic="minimal")
    mini.assign(period=iso_week_label(mini["period"])).to_csv(ddir / "minimal.csv", index=False)
    clinic("minimal", {"name": "Minimal", "data": {"weekly": "minimal.csv"}})
    clinic("trasig", {"name": "Trasig", "data": {"weekly": "finns_inte.csv"}})
    return base, pdir, ddir


@pytest.fixture(scope="module")
def validated(corpus, capsys_module=None):
    import contextlib
    import io

    from kps_analysis import cli

    base, pdir, ddir = corpus
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = cli.main(["validate", "--data", str(ddir), "--parameters", str(pdir)])
    text = out.getvalue() + err.getvalue()
    return status, text


@pytest.fixture(scope="module")
def ran(corpus):
    from kps_analysis import batch

    base, pdir, ddir = corpus
    return batch.run(data_dir=ddir, parameters_dir=pdir, out_dir=base / "out", workers=2, notebook=None,
                     project=ROOT)


def _validate_ok(text: str) -> dict:
    """Per clinic: True when ``kps validate`` printed no error for it."""
    status = {}
    for cid in ("onh", "onh_man", "mr_skottland", "op_only", "onh_eng", "minimal", "trasig"):
        errors = re.search(rf"^error: {cid}\b", text, re.M) or re.search(
            rf"^{cid}: \d+ rows, [1-9]\d* errors", text, re.M)
        status[cid] = errors is None
    return status


def test_validate_predicts_run(validated, ran):
    status, text = validated
    ok_validate = _validate_ok(text)
    assert not ok_validate["trasig"], text          # the missing file is an error in both
    assert status != 0
    ok_run = {r.clinic_id: r.status == "ok" for r in ran.results}
    for cid, ok in ok_validate.items():
        if ok:
            assert ok_run.get(cid), f"{cid} validated clean but failed in run: {text}"
    assert not ok_run["trasig"]
    # validate says, per clinic, which sections the report will hold and what the others need
    assert text.count("  sections: ") == 6
    assert re.search(r"^mr_skottland: .*\n(  warning.*\n)*  sections: \d+ of \d+", text, re.M)


def test_every_clinic_but_the_broken_one_runs_and_no_page_shows_a_trace(ran):
    results = {r.clinic_id: r for r in ran.results}
    assert {c for c, r in results.items() if r.status == "ok"} == {
        "onh", "onh_man", "mr_skottland", "op_only", "onh_eng", "minimal"}
    index = (Path(ran.run_dir) / "index.html").read_text(encoding="utf-8")
    # says how months sit beside weeks, naming the monthly clinics (escaped text)
    assert "de 3 månader som börjar inom de 12 veckorna" in index and "ÖNH &#40;månadsdata&#41;" in index
    for html in Path(ran.run_dir).rglob("*.html"):
        text = html.read_text(encoding="utf-8")
        assert "Traceback" not in text and 'File "' not in text, html


def _report(ran, cid) -> str:
    return (Path(ran.run_dir) / cid / "report.html").read_text(encoding="utf-8")


def test_the_monthly_report_is_in_months_and_shows_its_model(ran):
    text = _report(ran, "onh_man")
    assert "månad" in text.lower()
    # the model folder is removed once the notebook ran (the Small-counts rule): the
    # published plan is the model's, in months, a year ahead
    assert not (Path(ran.run_dir) / "onh_man" / "model").exists()
    plan = pd.read_csv(Path(ran.run_dir) / "onh_man" / "tables" / "production_plan.csv")
    assert plan["period"].astype(str).str.fullmatch(r"\d{4}-\d{2}").all()  # months (2026-11), not weeks
    assert plan["period_ahead"].max() == 12
    # the plan's first month as the report names months everywhere ("nov 2026", also in the chance table)
    from kps_analysis.report import period_name

    first = str(plan.loc[plan["period_ahead"] == 1, "period"].iloc[0])
    assert period_name(first, "sv") in text
    # what a month's totals cannot show is said beside the breaches (a scenario of +10 % inflow bought
    # 53 more first visits on onh's weekly data, none on the same data in months: August's trough weeks)
    assert "Med månadsdata följs kön månad för månad" in text
    # the köproduktionskvot stays in weeks, the data it averages are months
    assert "glidande medel över de senaste månaderna" in text and "en sommarmånad med låg produktion" in text
    assert "Med månadsdata följs kön" not in _report(ran, "onh")


def test_the_monthly_workbook_heads_its_rows_as_months(ran):
    """plan.xlsx of a monthly clinic said "Första veckan", "Till och med veckan", "Fastställda
    veckor slutar i månaden" (purchase per month) and "År / Vecka / Veckan börjar" (plan against
    outcome, before any period has passed) over rows that are months."""
    import openpyxl

    wb = openpyxl.load_workbook(Path(ran.run_dir) / "onh_man" / "plan.xlsx", read_only=True)
    for title in ("Produktionsplan", "Köp per månad", "Plan mot utfall"):
        headers = [str(v) for v in next(wb[title].iter_rows(max_row=1, values_only=True)) if v is not None]
        assert "Månad" in headers, (title, headers)
        assert not [h for h in headers if "veck" in h.lower()], (title, headers)
    notes = [str(v) for row in wb["Plan mot utfall"].iter_rows(values_only=True) for v in row if v]
    assert not [n for n in notes if "vecka" in n.lower()], notes
    wb.close()


def test_the_region_overview_says_how_months_sit_beside_weeks(ran):
    """The index said that a monthly clinic's "12 weeks" are the 3 months starting within them; the
    overview, whose tables have the same columns, did not."""
    html = (Path(ran.run_dir) / "region" / "overview.html").read_text(encoding="utf-8")
    note = re.search(r"<em>[^<]*de 3 månader som börjar inom de 12 veckorna[^<]*</em>", html)
    assert note and "ÖNH (månadsdata)" in note[0], note   # the monthly clinics by name
    assert "Kliniker med månadsdata visas i ett eget diagram, per månad." in html
    assert "För kliniker med månadsdata är det den senaste månaden." in html


def test_partial_clinics_get_what_their_data_support(ran):
    from kps_analysis import sections

    queue_only = _report(ran, "mr_skottland")
    ops_only = _report(ran, "op_only")
    # the sentence of a section that needs what these clinics lack
    assert "behandlingsbeslut" in ops_only.lower() or "remisser" in ops_only.lower()
    assert "remisser" in queue_only.lower()
    # the queue-only list keeps what its data say (December 2022, by hand from PHS's bands:
    # 3,469 of 27,817 waited 92 days or more) and is escalated for it
    summary = pd.read_csv(Path(ran.run_dir) / "mr_skottland" / "tables" / "summary.csv").iloc[0]
    assert summary["share_over_90_days"] == pytest.approx(3469 / 27817, abs=1e-4)
    assert summary["escalation"] == "yellow"
    assert hasattr(sections, "available")


def test_stale_data_are_said_with_both_dates(ran):
    text = _report(ran, "mr_skottland")
    assert "Inaktuella data: de slutar 2022-12-31" in text and "planen börjar 2023-01-01" in text


def test_the_english_calendar_has_no_swedish_holidays(ran):
    text = _report(ran, "onh_eng").lower()
    for word in ("sportlov", "midsommar", "kristi himmelsfärd"):
        assert word not in text, word
