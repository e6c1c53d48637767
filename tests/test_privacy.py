"""Privacy: a run built from an extract with identity numbers, names and small groups.

One clinic (gyn) is run end to end on the demo data with its waiting-list extract
changed: every patient id is a personal identity number (``19121212-1212`` style),
every row carries a name, exactly 2 patients waiting for a first visit chose to wait
longer, and exactly 3 patients waiting for treatment have waited 91-180 days (the
others of that band chose to wait). Then every file of the run (HTML, ipynb, CSV,
xlsx unzipped, JSON, logs) is scanned: no identifier or name, no table with a row per
patient, and no count below the suppression limit recoverable from shown totals and
parts (the rule of :func:`kps_analysis.report.protect_counts`).
"""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kps_analysis import batch, data

ROOT = Path(__file__).resolve().parent.parent
PARAMS = ROOT / "parameters"
slow = pytest.mark.slow
NAMES = ("Tolvan Tolvansson", "Greta Garbosson", "Sven Svensson-Kvist")
LIMIT = 5


def _identity(i: int) -> str:
    return f"19{12 + i % 80:02d}{1 + i % 12:02d}{1 + i % 28:02d}-{(1212 + i) % 10000:04d}"


@pytest.fixture(scope="module")
def small_run(tmp_path_factory, demo_dir_current):
    tmp = tmp_path_factory.mktemp("privacy")
    data_dir = tmp / "data"
    shutil.copytree(demo_dir_current, data_dir)  # a copy: the extract is changed below
    params = tmp / "parameters"
    shutil.copytree(PARAMS, params)
    path = data_dir / "gyn_waiting_list.parquet"
    w = pd.read_parquet(path)
    weekly = data.load_clinic_data({"weekly": "gyn_activity.csv", "waiting_list": "gyn_waiting_list.parquet"},
                                   data_dir, clinic="gyn").weekly
    at = weekly["period"].iloc[-1].end_time.normalize()
    far = pd.Timestamp("2262-01-01")
    gone_new = np.minimum(w["first_visit_date"].fillna(far), w["removal_date"].fillna(far))
    gone_trt = np.minimum(w["treatment_date"].fillna(far), w["removal_date"].fillna(far))
    new = (w["referral_date"] <= at) & (gone_new > at)
    trt = w["decision_date"].notna() & (w["decision_date"] <= at) & (gone_trt > at)
    trt_days = (at - w["decision_date"]).dt.days
    band = trt & (trt_days > 90) & (trt_days <= 180)
    assert new.sum() > 20 and band.sum() > 5, (new.sum(), band.sum())
    chosen = pd.Series(False, index=w.index)
    chosen[new[new].index[:2]] = True              # 2 chosen waits for a first visit
    chosen[band[band].index[3:]] = True            # 3 left in the treatment band 91-180 days
    w["patient_chosen_wait"] = chosen
    w["patient_id"] = [_identity(i) for i in range(len(w))]
    w["namn"] = [NAMES[i % len(NAMES)] for i in range(len(w))]
    w.to_parquet(path)
    result = batch.run(clinics=["gyn"], data_dir=data_dir, parameters_dir=params, out_dir=tmp / "out", workers=1)
    assert result.exit_code == 0, [r.error for r in result.results]
    return result.run_dir, int(new.sum()), int(trt.sum())


def _texts(run_dir: Path):
    """Every file of the run as text (xlsx: every part of the zip)."""
    for path in sorted(p for p in run_dir.rglob("*") if p.is_file()):
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as z:
                for name in z.namelist():
                    yield f"{path}:{name}", z.read(name).decode("utf-8", "replace")
        else:
            yield str(path), path.read_bytes().decode("utf-8", "replace")


def _tables(run_dir: Path):
    for path in sorted(run_dir.rglob("*.csv")):
        yield str(path), pd.read_csv(path)
    for path in sorted(run_dir.rglob("*.xlsx")):
        for name, sheet in pd.read_excel(path, sheet_name=None).items():
            yield f"{path}:{name}", sheet


@slow
def test_no_identifier_or_name_in_any_file(small_run):
    run_dir, _, _ = small_run
    files = list(_texts(run_dir))
    assert any(name.endswith("report.html") for name, _ in files)
    assert any(".xlsx:" in name for name, _ in files)
    ids = {_identity(i) for i in range(100_000)}
    ids |= {i.replace("-", "") for i in ids} | {i[2:] for i in ids}  # also without dash or century
    token = re.compile(r"(?<!\d)\d{6,8}-?\d{4}(?!\d)")
    dashed = re.compile(r"(?<!\d)(19|20)\d{6}[-+]\d{4}(?!\d)")
    for name, text in files:
        assert not dashed.search(text), f"{name}: {dashed.search(text).group(0)}"
        found = set(token.findall(text)) & ids
        assert not found, f"{name}: {sorted(found)[:3]}"
        for person in NAMES:
            assert person not in text and person.split()[1] not in text, f"{name}: {person}"


@slow
def test_no_table_has_a_row_per_patient(small_run):
    run_dir, waiting_new, waiting_trt = small_run
    personal = {"patient_id", "namn", "name", "referral_date", "decision_date", "first_visit_date",
                "treatment_date", "removal_date", "removal_reason", "wait_days"}
    for name, table in _tables(run_dir):
        assert not personal & {str(c).lower() for c in table.columns}, name
        assert len(table) not in (waiting_new, waiting_trt, waiting_new + waiting_trt), name


@slow
def test_no_small_count_is_recoverable_from_the_tables(small_run):
    run_dir, _, _ = small_run
    tables = run_dir / "gyn" / "tables"
    summary = pd.read_csv(tables / "summary.csv").iloc[0]
    plan = pd.read_csv(tables / "production_plan.csv")
    start = plan[plan["period_ahead"] == 1].set_index("stage")["queue_start"]
    # 2 chosen waits for a first visit: queue (incl. chosen) - counted queue (the plan's start) would give them
    assert np.isnan(summary["queue_new_visit"]) and summary["queue_new_visit_suppressed"]
    # ... and so would the total of chosen waits minus the treatment's (queue - plan start)
    chosen_trt = summary["queue_treatment"] - start["treatment"]
    assert np.isnan(summary["waiting_chosen"]) or np.isnan(chosen_trt)
    # the köproduktionskvot times production, last week's queue plus the week's flows,
    # and the week's change would each give the queue back
    assert np.isnan(summary["queue_production_ratio_weeks_new_visit"])
    assert np.isnan(summary["queue_change_1w"])
    weekly = pd.read_csv(tables / "weekly.csv")
    last = weekly.iloc[-1]
    assert np.isnan(last["queue_new_visit"]) and np.isnan(last["removals_new_visit_other"])
    changes = pd.read_csv(tables / "week_changes.csv").set_index("measure")
    assert np.isnan(changes.loc["queue_new_visit", "this_week"]) and np.isnan(changes.loc["queue_new_visit", "change"])
    ratios = pd.read_csv(tables / "queue_production_ratio.csv")
    latest = ratios[ratios["period"] == ratios["period"].max()].set_index("stage")
    assert np.isnan(latest.loc["new_visit", "queue"])
    # over 90 days: the clinic's total minus one stage's must not give the other stage's suppressed count
    total = summary["waiting_over_90"]
    for shown_stage, hidden_stage in (("new_visit", "treatment"), ("treatment", "new_visit")):
        a, b = last[f"waiting_over_90_{shown_stage}"], last[f"waiting_over_90_{hidden_stage}"]
        assert not (np.isfinite(total) and np.isfinite(a) and np.isnan(b) and 0 < total - a < LIMIT), hidden_stage
    # no observed stock column shows a count of 1-4 anywhere
    for name in ("summary", "weekly", "week_changes", "queue_production_ratio"):
        table = pd.read_csv(tables / f"{name}.csv")
        for col in ("queue_new_visit", "queue_treatment", "waiting_over_90_new_visit", "waiting_over_90_treatment",
                    "waiting_over_90", "waiting_chosen", "queue"):
            if col in table:
                v = table[col]
                assert not ((v > 0) & (v < LIMIT)).any(), f"{name}.{col}"


@slow
def test_no_small_count_is_recoverable_from_the_report(small_run):
    run_dir, _, _ = small_run
    page = (run_dir / "gyn" / "report.html").read_text(encoding="utf-8")
    weekly = pd.read_csv(run_dir / "gyn" / "tables" / "weekly.csv")
    plan = pd.read_csv(run_dir / "gyn" / "tables" / "production_plan.csv")
    counted = int(plan[(plan["period_ahead"] == 1) & (plan["stage"] == "new_visit")]["queue_start"].iloc[0])
    # the headline's queue for a first visit is a range that starts after the counted queue
    assert re.search(rf">{counted + 1}–{counted + LIMIT - 1}<", page), "queue for a first visit not a range"
    assert not np.isnan(weekly["queue_treatment"].iloc[-1])
