"""Core analytics for many clinics at once versus a per-clinic Python loop.

The same package functions (köproduktionskvot per stage, headline, seasonal profiles,
flow balance, conversion rates, coming flows and the breach projection from
aggregates) are called once on a long frame of N clinics × Y years of weekly data, and
once per clinic in a loop; the loop is timed on a sample of clinics and scaled to N.
Reported, wall (``perf_counter``) and CPU (``process_time``) seconds alike: the
vectorised pass (the median of ``repeat`` passes) and the loop, the ratio loop /
vectorised, seconds per 1,000 clinic-years of weekly data (the issue's target: at most
1 s), each section's seconds, and the load average before and after (on a shared
2-core machine the wall seconds grow with the load, the CPU seconds hardly).

``--baseline DIR``: the same vectorised pass of another tree of the package (e.g. the
commit before a speed-up, unpacked with ``git archive COMMIT | tar -x -C DIR``), timed in
subprocesses interleaved with this tree's, ``--repeat`` times each: the speed-up measured
in one run, whatever the machine's load.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from kps_analysis import balance, summary


def synthetic_region(clinics: int, years: int, *, seed: int = 1) -> pd.DataFrame:
    """Weekly aggregates of ``clinics`` synthetic clinics over ``years`` years (random, seasonal)."""
    rng = np.random.default_rng(seed)
    periods = pd.period_range(end=pd.Timestamp("2026-11-22"), periods=52 * years, freq="W-SUN")
    n, t = clinics, len(periods)
    week = periods.start_time.isocalendar().week.to_numpy()
    season = np.where((week >= 27) & (week <= 32), 0.5, 1.0)
    base = rng.uniform(10, 200, size=(n, 1))
    ref = rng.poisson(base * (0.9 + 0.1 * season))
    cap = rng.poisson(base * rng.uniform(0.9, 1.1, size=(n, 1)) * season)
    queue = np.maximum(0, 5 * base + np.cumsum(ref - cap, axis=1))
    dec = rng.binomial(cap, 0.4)
    ops = rng.poisson(np.maximum(dec.mean(axis=1, keepdims=True), 1) * season)
    qt = np.maximum(0, 3 * base + np.cumsum(dec - ops, axis=1))
    frame = pd.DataFrame({
        "clinic": np.repeat([f"c{i:05d}" for i in range(n)], t),
        "period": np.tile(periods, n),
        "referrals_in": ref.ravel().astype(float),
        "new_visits": cap.ravel().astype(float),
        "queue_new_visit": queue.ravel().astype(float),
        "waiting_over_90_new_visit": np.floor(0.05 * queue).ravel(),
        "treatment_decisions": dec.ravel().astype(float),
        "operations_elective": ops.ravel().astype(float),
        "queue_treatment": qt.ravel().astype(float),
        "waiting_over_90_treatment": np.floor(0.08 * qt).ravel(),
    })
    return frame


def analyse(weekly: pd.DataFrame, timings: dict | None = None, cpu_timings: dict | None = None) -> dict:
    """Everything the core sections compute for a set of clinics.

    Each section's wall seconds are added into ``timings`` and its CPU seconds of this
    process (``time.process_time``: what the machine's load does not inflate) into
    ``cpu_timings``.
    """
    out = {}
    steps = [
        ("flows", lambda: summary.coming_flows(weekly, horizon_weeks=12)),
        ("breaches", lambda: summary.projected_breaches(weekly, None, horizon_weeks=12)),
        ("ratios", lambda: summary.ratio_by_stage(weekly)),
        ("headline", lambda: summary.headline(weekly, breaches=out["breaches"])),
        ("profiles", lambda: summary.seasonal_profiles(weekly)),
        ("balance", lambda: balance.flow_balance(weekly)),
        ("rates", lambda: balance.conversion_rates(weekly)),
        ("loads", lambda: balance.stage_loads(out["flows"])),
    ]
    for name, step in steps:
        t0, c0 = time.perf_counter(), time.process_time()
        out[name] = step()
        if timings is not None:
            timings[name] = timings.get(name, 0.0) + time.perf_counter() - t0
        if cpu_timings is not None:
            cpu_timings[name] = cpu_timings.get(name, 0.0) + time.process_time() - c0
    return out


_TIMED = """
import json, sys, time, warnings
warnings.simplefilter("ignore")
sys.path.insert(0, {root!r})
from benchmarks import bench_core
weekly = bench_core.synthetic_region({clinics}, {years})
bench_core.analyse(weekly[weekly["clinic"] == weekly["clinic"].iloc[0]])  # imports and caches
t0, c0 = time.perf_counter(), time.process_time()
bench_core.analyse(weekly)
print(json.dumps([time.perf_counter() - t0, time.process_time() - c0]))
"""


def _timed_in(root: Path, clinics: int, years: int) -> tuple[float, float]:
    """The vectorised pass of the package tree at ``root``, in a fresh interpreter: (wall, CPU) [s]."""
    proc = subprocess.run([sys.executable, "-c", _TIMED.format(root=str(root), clinics=clinics, years=years)],
                          capture_output=True, text=True, cwd=root,
                          env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin", "OPENBLAS_NUM_THREADS": "1"})
    if proc.returncode != 0:
        raise RuntimeError(f"the pass in {root} failed: {proc.stderr[-1500:]}")
    wall, cpu = json.loads(proc.stdout.strip().splitlines()[-1])
    return float(wall), float(cpu)


def compare(baseline: Path, *, clinics: int = 1000, years: int = 5, repeat: int = 3) -> dict:
    """This tree's vectorised pass against ``baseline``'s, interleaved, ``repeat`` times each (wall and CPU) [s]."""
    here = Path(__file__).resolve().parent.parent
    times = {"baseline": [], "this_tree": []}
    for _ in range(repeat):
        times["baseline"].append(_timed_in(Path(baseline).resolve(), clinics, years))
        times["this_tree"].append(_timed_in(here, clinics, years))
    wall = {k: statistics.median(t[0] for t in v) for k, v in times.items()}
    cpu = {k: statistics.median(t[1] for t in v) for k, v in times.items()}
    return {"baseline": str(baseline), "repeat": repeat,
            "baseline_seconds": [round(t[0], 2) for t in times["baseline"]],
            "this_tree_seconds": [round(t[0], 2) for t in times["this_tree"]],
            "baseline_cpu_seconds": [round(t[1], 2) for t in times["baseline"]],
            "this_tree_cpu_seconds": [round(t[1], 2) for t in times["this_tree"]],
            "speedup_median": round(wall["baseline"] / wall["this_tree"], 2),
            "speedup_median_cpu": round(cpu["baseline"] / cpu["this_tree"], 2)}


def _load() -> float:
    """The machine's load average over the last minute (NaN where the system does not say)."""
    try:
        return round(os.getloadavg()[0], 1)
    except OSError:
        return float("nan")


def run(*, clinics: int = 1000, years: int = 5, loop_sample: int = 100, baseline=None, repeat: int = 3,
        passes: int | None = None) -> dict:
    """Time the vectorised pass (``passes`` times, default ``repeat``) and the per-clinic loop, in one run.

    Wall seconds (``time.perf_counter``) and this process's CPU seconds
    (``time.process_time``) of each; the ratio loop / vectorised from the medians;
    seconds per 1,000 clinic-years (the target: at most 1 s); the load average around
    the run (a 2-core machine at load 8 stretches the wall seconds, not the CPU seconds).
    """
    weekly = synthetic_region(clinics, years)
    passes = max(1, repeat if passes is None else passes)
    load_before = _load()
    walls, cpus, sections, cpu_sections = [], [], [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        analyse(weekly[weekly["clinic"] == weekly["clinic"].iloc[0]])  # imports and caches
        for _ in range(passes):
            wall_s, cpu_s = {}, {}
            t0, c0 = time.perf_counter(), time.process_time()
            together = analyse(weekly, wall_s, cpu_s)
            walls.append(time.perf_counter() - t0)
            cpus.append(time.process_time() - c0)
            sections.append(wall_s)
            cpu_sections.append(cpu_s)

        sample = sorted(weekly["clinic"].unique())[: min(loop_sample, clinics)]
        by_clinic = dict(list(weekly[weekly["clinic"].isin(sample)].groupby("clinic")))
        t0, c0 = time.perf_counter(), time.process_time()
        for c in sample:
            alone = analyse(by_clinic[c])
        loop = (time.perf_counter() - t0) * clinics / len(sample)
        loop_cpu = (time.process_time() - c0) * clinics / len(sample)
    load_after = _load()
    # the loop's last clinic gives the same headline as the vectorised call
    check = together["headline"].set_index("clinic").loc[sample[-1], "queue_production_ratio_weeks"]
    assert np.isclose(check, alone["headline"]["queue_production_ratio_weeks"].iloc[0], equal_nan=True)
    vectorised, vectorised_cpu = statistics.median(walls), statistics.median(cpus)
    typical = int(np.argsort(walls)[len(walls) // 2])  # the pass whose wall time is the median (upper)
    per_1000 = clinics * years / 1000
    result = {
        "benchmark": "core", "clinics": clinics, "years": years, "rows": len(weekly),
        "clinic_years": clinics * years, "passes": passes,
        "load_average_before_after": [load_before, load_after],
        "vectorised_seconds": round(vectorised, 2), "vectorised_cpu_seconds": round(vectorised_cpu, 2),
        "vectorised_seconds_each": [round(t, 2) for t in walls],
        "vectorised_cpu_seconds_each": [round(t, 2) for t in cpus],
        "seconds_per_1000_clinic_years": round(vectorised / per_1000, 3),
        "cpu_seconds_per_1000_clinic_years": round(vectorised_cpu / per_1000, 3),
        "target_at_most_1_s_per_1000_clinic_years": {"wall": bool(vectorised / per_1000 <= 1.0),
                                                     "cpu": bool(vectorised_cpu / per_1000 <= 1.0)},
        "sections_seconds": {k: round(v, 2) for k, v in sorted(sections[typical].items(), key=lambda kv: -kv[1])},
        "sections_cpu_seconds": {k: round(v, 2)
                                 for k, v in sorted(cpu_sections[typical].items(), key=lambda kv: -kv[1])},
        "loop_seconds_scaled": round(loop, 2), "loop_cpu_seconds_scaled": round(loop_cpu, 2),
        "loop_sample": len(sample),
        "speedup_loop_over_vectorised": round(loop / vectorised, 1),
        "speedup_loop_over_vectorised_cpu": round(loop_cpu / vectorised_cpu, 1),
    }
    if baseline:
        result["baseline"] = compare(Path(baseline), clinics=clinics, years=years, repeat=repeat)
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "core.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    return result
