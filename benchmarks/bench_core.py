"""Core analytics for many clinics at once versus a per-clinic Python loop.

The same package functions (köproduktionskvot per stage, headline, seasonal profiles,
flow balance, conversion rates, coming flows and the breach projection from
aggregates) are called once on a long frame of N clinics × Y years of weekly data, and
once per clinic in a loop; the loop is timed on a sample of clinics and scaled to N.
Reported: seconds for each and the ratio loop / vectorised.
"""

from __future__ import annotations

import json
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


def analyse(weekly: pd.DataFrame) -> dict:
    """Everything the core sections compute for a set of clinics."""
    flows = summary.coming_flows(weekly, horizon_weeks=12)
    breaches = summary.projected_breaches(weekly, None, horizon_weeks=12)
    return {
        "ratios": summary.ratio_by_stage(weekly),
        "headline": summary.headline(weekly, breaches=breaches),
        "profiles": summary.seasonal_profiles(weekly),
        "balance": balance.flow_balance(weekly),
        "rates": balance.conversion_rates(weekly),
        "loads": balance.stage_loads(flows),
    }


def run(*, clinics: int = 1000, years: int = 5, loop_sample: int = 100) -> dict:
    weekly = synthetic_region(clinics, years)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        together = analyse(weekly)
        vectorised = time.perf_counter() - t0

        sample = sorted(weekly["clinic"].unique())[: min(loop_sample, clinics)]
        by_clinic = {c: f for c, f in weekly[weekly["clinic"].isin(sample)].groupby("clinic")}
        t0 = time.perf_counter()
        for c in sample:
            alone = analyse(by_clinic[c])
        loop = (time.perf_counter() - t0) * clinics / len(sample)
    # the loop's last clinic gives the same headline as the vectorised call
    check = together["headline"].set_index("clinic").loc[sample[-1], "queue_production_ratio_weeks"]
    assert np.isclose(check, alone["headline"]["queue_production_ratio_weeks"].iloc[0], equal_nan=True)
    result = {
        "benchmark": "core", "clinics": clinics, "years": years, "rows": len(weekly),
        "vectorised_seconds": round(vectorised, 2),
        "loop_seconds_scaled": round(loop, 2), "loop_sample": len(sample),
        "speedup_loop_over_vectorised": round(loop / vectorised, 1),
    }
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "core.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    return result
