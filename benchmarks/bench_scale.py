"""Scale: a 10-million-row patient-level extract, and the batch runner.

``aggregation``: a synthetic extract of N rows (Parquet) is read with
``data.read_waiting_list`` (validation included), aggregated to weekly series with
``data.weekly_from_waiting_list`` and to a waiting snapshot with ``data.waiting_snapshot``;
the baseline is the same weekly aggregation written plainly in pandas (a groupby per flow,
and one boolean count per week for each queue), timed in the same run on the same rows.
The two results are checked equal.

``batch``: the clinic report for C clinics (copies of the demo clinics) with 1 and with 2
workers, and a papermill run of an empty notebook (the floor set by kernel start and
rendering), giving the overhead per clinic beyond the kernel's start and the speed-up of
2 workers.

``region``: a whole region (C clinics, e.g. 300) run end to end by the command users run,
``kps run --workers N``, region overview included; the per-clinic times come from the
run's ``manifest.json`` and are set against the empty notebook's.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from kps_analysis import data

RESULTS = Path(__file__).parent / "results"


def synthetic_extract(rows: int, *, clinics: int = 20, seed: int = 7) -> pd.DataFrame:
    """A valid canonical extract: referral, first visit, decision, treatment, removals."""
    rng = np.random.default_rng(seed)
    start = np.datetime64("2019-01-07")
    ref = start + rng.integers(0, 7 * 400, rows).astype("timedelta64[D]")
    wait1 = rng.exponential(45, rows).astype(int)
    seen = rng.random(rows) < 0.9
    visit = np.where(seen, ref + wait1.astype("timedelta64[D]"), np.datetime64("NaT"))
    decided = seen & (rng.random(rows) < 0.4)
    decision = np.where(decided, visit, np.datetime64("NaT"))
    wait2 = rng.exponential(60, rows).astype(int)
    treated = decided & (rng.random(rows) < 0.9)
    treatment = np.where(treated, decision + wait2.astype("timedelta64[D]"), np.datetime64("NaT"))
    removed = ~seen & (rng.random(rows) < 0.5)
    removal = np.where(removed, ref + rng.integers(0, 60, rows).astype("timedelta64[D]"), np.datetime64("NaT"))
    today = np.datetime64("2026-11-22")
    for arr in (visit, decision, treatment, removal):
        arr[arr > today] = np.datetime64("NaT")
    decision[np.isnat(visit)] = np.datetime64("NaT")
    treatment[np.isnat(decision)] = np.datetime64("NaT")
    return pd.DataFrame({
        "patient_id": np.char.add("P", np.char.zfill(np.arange(rows).astype(str), 8)),
        "clinic": np.char.add("c", np.char.zfill((np.arange(rows) % clinics).astype(str), 3)),
        "priority": rng.choice(["1", "2", "3"], rows, p=[0.2, 0.5, 0.3]),
        "referral_date": ref.astype("datetime64[ns]"), "first_visit_date": visit.astype("datetime64[ns]"),
        "decision_date": decision.astype("datetime64[ns]"), "treatment_date": treatment.astype("datetime64[ns]"),
        "removal_date": removal.astype("datetime64[ns]"),
        "removal_reason": np.where(removed, "declined", None),
        "external": np.zeros(rows, dtype=bool), "patient_chosen_wait": np.zeros(rows, dtype=bool),
    })


def plain_pandas_weekly(extract: pd.DataFrame, weeks: pd.PeriodIndex) -> pd.DataFrame:
    """The weekly referrals, first visits and both queues, written plainly in pandas."""
    out = []
    never = pd.Timestamp.max
    for clinic, g in extract.groupby("clinic"):
        week = lambda col, g=g: g[col].dt.to_period("W-SUN")  # noqa: E731
        frame = pd.DataFrame(index=weeks)
        frame["referrals_in"] = week("referral_date").value_counts().reindex(weeks, fill_value=0)
        frame["new_visits"] = week("first_visit_date").value_counts().reindex(weeks, fill_value=0)
        leave1 = g[["first_visit_date", "removal_date"]].min(axis=1).fillna(never)
        leave2 = g[["treatment_date", "removal_date"]].min(axis=1).fillna(never)
        q1, q2 = [], []
        for w in weeks:
            end = w.end_time.normalize()
            q1.append(int(((g["referral_date"] <= end) & (leave1 > end)).sum()))
            q2.append(int(((g["decision_date"] <= end) & (leave2 > end)).sum()))
        frame["queue_new_visit"], frame["queue_treatment"] = q1, q2
        out.append(frame.reset_index(names="period").assign(clinic=clinic))
    return pd.concat(out, ignore_index=True)


def aggregation(rows: int = 10_000_000) -> dict:
    extract = synthetic_extract(rows)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "extract.parquet"
        extract.to_parquet(path, index=False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t0 = time.perf_counter()
            read = data.read_waiting_list(path, today="2026-11-23")
            t_read = time.perf_counter() - t0
    t0 = time.perf_counter()
    weekly = data.weekly_from_waiting_list(read, end="2026-11-22")
    t_weekly = time.perf_counter() - t0
    t0 = time.perf_counter()
    snap = data.waiting_snapshot(read, "2026-11-22")
    t_snap = time.perf_counter() - t0
    weeks = pd.period_range(weekly["period"].min(), weekly["period"].max(), freq="W-SUN")
    t0 = time.perf_counter()
    plain = plain_pandas_weekly(extract, weeks)
    t_plain = time.perf_counter() - t0
    cols = ["referrals_in", "new_visits", "queue_new_visit", "queue_treatment"]
    merged = weekly.merge(plain, on=["clinic", "period"], suffixes=("", "_plain"))
    for c in cols:
        assert np.array_equal(merged[c].to_numpy(float), merged[f"{c}_plain"].to_numpy(float)), c
    return {"rows": rows, "clinics": int(extract["clinic"].nunique()), "weeks": len(weeks),
            "read_parquet_validated_seconds": round(t_read, 2), "weekly_seconds": round(t_weekly, 2),
            "snapshot_seconds": round(t_snap, 2), "snapshot_patients": len(snap),
            "plain_pandas_weekly_seconds": round(t_plain, 2),
            "speedup_plain_over_package": round(t_plain / t_weekly, 1)}


def _timed_run(**kw) -> float:
    from kps_analysis import batch

    t0 = time.perf_counter()
    result = batch.run(**kw)
    assert result.exit_code == 0, [r.error for r in result.failed]
    return time.perf_counter() - t0


def batch_runs(clinics: int = 20) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        demo_data, params, empty = _region_setup(tmp, clinics)
        t_empty = _empty_notebook_seconds(tmp, empty)
        common = {"data_dir": demo_data, "parameters_dir": params}
        t1 = _timed_run(out_dir=tmp / "o1", workers=1, **common)
        t2 = _timed_run(out_dir=tmp / "o2", workers=2, **common)
    return {"clinics": clinics, "empty_notebook_seconds": round(t_empty, 2),
            "one_worker_seconds": round(t1, 1), "two_workers_seconds": round(t2, 1),
            "per_clinic_seconds_1_worker": round(t1 / clinics, 2),
            "per_clinic_over_empty_notebook": round(t1 / clinics / t_empty, 1),
            "speedup_2_workers_over_1": round(t1 / t2, 2)}


def _region_setup(tmp: Path, clinics: int) -> tuple[Path, Path, Path]:
    """Copies of the demo clinics' parameter files as ``c000``… and an empty notebook."""
    import nbformat

    from kps_analysis.demo import ensure_demo_data

    root = Path(__file__).resolve().parent.parent
    demo_data = ensure_demo_data(tmp / "demo")
    params = tmp / "parameters"
    (params / "clinics").mkdir(parents=True)
    shutil.copy(root / "parameters" / "defaults.yaml", params)
    sources = sorted((root / "parameters" / "clinics").glob("*.yaml"))
    for i in range(clinics):
        shutil.copy(sources[i % len(sources)], params / "clinics" / f"c{i:03d}.yaml")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("clinic_id = ''", metadata={"tags": ["parameters"]})]
    nb.metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    empty = tmp / "empty.ipynb"
    nbformat.write(nb, empty)
    return demo_data, params, empty


def _empty_notebook_seconds(tmp: Path, empty: Path, repeat: int = 3) -> float:
    """The floor: papermill run + HTML export of a one-cell notebook (median of ``repeat``)."""
    import papermill as pm

    from kps_analysis.batch import render_html

    times = []
    for i in range(repeat):
        t0 = time.perf_counter()
        pm.execute_notebook(str(empty), str(tmp / f"empty_out{i}.ipynb"), parameters={"clinic_id": "x"},
                            kernel_name="python3", progress_bar=False, log_output=False)
        render_html(tmp / f"empty_out{i}.ipynb", tmp / f"empty{i}.html")
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def region_run(clinics: int = 300, workers: int = 2) -> dict:
    """A whole region end to end with the command users run: ``kps run --workers N``.

    C clinics (copies of the demo clinics) run by the ``kps`` command line in a
    subprocess, region overview included. Reported: wall time, the mean per-clinic time
    measured inside the workers (from ``manifest.json``), the overhead per clinic beyond
    an empty notebook's kernel start and rendering [seconds], and their ratio.
    """
    import subprocess
    import sys

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        demo_data, params, empty = _region_setup(tmp, clinics)
        t_empty = _empty_notebook_seconds(tmp, empty)
        out = tmp / "out"
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "kps_analysis", "run", "--workers", str(workers),
                               "--data", str(demo_data), "--parameters", str(params),
                               "--out", str(out)], capture_output=True, text=True)
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            raise RuntimeError(f"kps run exited {proc.returncode}: {proc.stderr[-2000:]}")
        manifest = json.loads(next(out.glob("*/manifest.json")).read_text())
    per_clinic = np.array([c["seconds"] for c in manifest["clinics"].values()])
    ok = sum(c["status"] == "ok" for c in manifest["clinics"].values())
    region = manifest.get("region_overview") or {}
    return {"clinics": clinics, "workers": workers, "ok": ok, "wall_seconds": round(wall, 1),
            "wall_per_clinic_seconds": round(wall / clinics, 2),
            "clinic_seconds_mean": round(float(per_clinic.mean()), 2),
            "clinic_seconds_p95": round(float(np.percentile(per_clinic, 95)), 2),
            "empty_notebook_seconds": round(t_empty, 2),
            "overhead_per_clinic_beyond_kernel_seconds": round(float(per_clinic.mean()) - t_empty, 2),
            "clinic_over_empty_notebook": round(float(per_clinic.mean()) / t_empty, 1),
            "region_overview_seconds": region.get("seconds")}


def run(*, rows: int = 10_000_000, clinics: int = 20, parts=("aggregation", "batch"),
        workers: int = 2) -> dict:
    result = {"benchmark": "scale"}
    if "region" in parts:
        result["region"] = region_run(clinics, workers)
    if "aggregation" in parts:
        result["aggregation"] = aggregation(rows)
    if "batch" in parts:
        result["batch"] = batch_runs(clinics)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "scale.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    return result
