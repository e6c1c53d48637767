"""Regional purchase optimisation: solve time and cost against the clinics buying alone.

Two regions:

* the demo region (8 clinics, the two orthopaedic clinics in the pool "ortopedi"),
  inputs from :func:`kps_analysis.purchase.guarantee_inputs` (waiting list now, coming
  inflow and own capacity) over the fixed 12 weeks and over 52 weeks, prices and pools
  from ``parameters/``;
* ``clinics`` synthetic clinics × ``weeks`` weeks × 2 stages (random waiting lists,
  inflow, a summer dip in capacity), in pools of ``pool_size`` clinics and in one pool
  of all of them.

For each: the per-clinic guarantee policy (:func:`kps_analysis.purchase.purchase_need`,
longest wait first, every clinic on its own: the baseline), the regional linear
programme (:func:`kps_analysis.purchase.optimise_region`) and its whole-patient
variant, with seconds, purchase volume and cost (synthetic moves cost ``move_cost_sek``
a patient; the demo's none); the ratio is regional cost / cost alone. The benchmark
asserts that a single-clinic programme reproduces the policy's cost and that no plan
leaves a patient over the limit.
"""

from __future__ import annotations

import json
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from kps_analysis import purchase

PARAMETERS = Path(__file__).resolve().parents[1] / "parameters"


def synthetic_region(clinics: int, weeks: int, *, seed: int = 1):
    """Waiting lists, flows and prices of ``clinics`` synthetic clinics (two stages each)."""
    rng = np.random.default_rng(seed)
    names = np.array([f"c{i:03d}" for i in range(clinics)])
    week = np.arange(1, weeks + 1)
    season = np.where((week % 52 >= 30) & (week % 52 <= 35), 0.5, 1.0)
    flows, waiting = [], []
    for stage, size, _price in (("new_visit", 1.0, 2000.0), ("treatment", 0.4, 40000.0)):
        base = rng.uniform(10, 150, clinics) * size
        ratio = rng.uniform(0.8, 1.1, clinics)  # capacity / inflow: the region is a little short
        flows.append(pd.DataFrame({
            "clinic": np.repeat(names, weeks), "stage": stage, "week_ahead": np.tile(week, clinics),
            "inflow": rng.poisson(np.repeat(base, weeks)).astype(float),
            "capacity": (base * ratio)[:, None].repeat(weeks, axis=1).ravel() * np.tile(season, clinics),
        }))
        ages = np.arange(120)
        decay = rng.uniform(20, 60, clinics)
        queue = base * rng.uniform(3, 12, clinics)
        share = np.exp(-ages[None, :] / decay[:, None])
        waiting.append(pd.DataFrame({
            "clinic": np.repeat(names, len(ages)), "stage": stage, "wait_days": np.tile(ages, clinics),
            "patients": (share / share.sum(axis=1, keepdims=True) * queue[:, None]).ravel(),
        }))
    markup = rng.uniform(0.8, 1.2, clinics)
    prices = pd.DataFrame({"clinic": np.repeat(names, 2), "stage": ["new_visit", "treatment"] * clinics,
                           "price_external_sek": np.tile([2000.0, 40000.0], clinics) * np.repeat(markup, 2)})
    return pd.concat(waiting, ignore_index=True), pd.concat(flows, ignore_index=True), prices, names


def _timed(fn, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, round(time.perf_counter() - t0, 3)


def compare(waiting, flows, prices, pools, move_cost_sek: float = 0.0) -> dict:
    """Per-clinic guarantee policy vs the regional programme (linear and whole patients)."""
    alone, t_alone = _timed(purchase.purchase_need, waiting, flows, prices=prices)
    plan, t_lp = _timed(purchase.optimise_region, waiting, flows, pools=pools, prices=prices,
                        move_cost_sek=move_cost_sek)
    whole, t_int = _timed(purchase.optimise_region, waiting, flows, pools=pools, prices=prices,
                          move_cost_sek=move_cost_sek, integer=True)
    assert plan.plan["over_limit"].max() <= 1e-6 and whole.plan["over_limit"].max() <= 1e-6
    cost_alone = float(alone["cost_external_sek"].sum())
    return {
        "series": int(flows[["clinic", "stage"]].drop_duplicates().shape[0]),
        "weeks": int(flows["week_ahead"].max()),
        "alone_seconds": t_alone, "alone_purchase": round(float(alone["purchase"].sum()), 1),
        "alone_cost_sek": round(cost_alone),
        "regional_seconds": t_lp, "regional_purchase": round(float(plan.plan["purchased"].sum()), 1),
        "regional_moved": round(float(plan.plan["moved_out"].sum()), 1),
        "move_cost_sek": move_cost_sek, "regional_cost_sek": round(plan.total_cost_sek),
        "regional_whole_seconds": t_int, "regional_whole_cost_sek": round(whole.total_cost_sek),
        "cost_ratio_regional_over_alone": round(plan.total_cost_sek / cost_alone, 3) if cost_alone else None,
        "binding_capacities": int(len(plan.binding)),
    }


def demo_region(horizon_weeks: int) -> dict:
    from kps_analysis import demo
    from kps_analysis.capacity import resources_frame
    from kps_analysis.parameters import list_clinics, load_parameters

    data = demo.generate(end="2026-11-22")
    waiting, flows = purchase.guarantee_inputs(data.weekly, data.waiting_list, horizon_weeks=horizon_weeks)
    params = [load_parameters(c, PARAMETERS) for c in list_clinics(PARAMETERS)]
    prices = purchase.prices_frame(params)
    pools = resources_frame(params).resources
    result = compare(waiting, flows, prices, pools)
    alone = purchase.purchase_need(waiting, flows, prices=prices)
    plan = purchase.optimise_region(waiting, flows, pools=pools, prices=prices)
    result["purchase_by_clinic_alone"] = {c: round(float(v), 1) for c, v in
                                          alone.groupby("clinic")["purchase"].sum().items()}
    result["purchase_by_clinic_regional"] = {c: round(float(v), 1) for c, v in
                                             plan.plan.groupby("clinic")["purchased"].sum().items()}
    return result


def run(*, clinics: int = 50, weeks: int = 52, pool_size: int = 5, move_cost_sek: float = 500.0,
        seed: int = 1) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = {"benchmark": "purchase",
                  "demo_12_weeks": demo_region(12), "demo_52_weeks": demo_region(52)}
        waiting, flows, prices, names = synthetic_region(clinics, weeks, seed=seed)
        # one clinic alone: the programme reproduces the guarantee policy
        one = flows["clinic"] == names[0]
        single = compare(waiting[waiting["clinic"] == names[0]], flows[one], prices, None)
        assert abs(single["regional_cost_sek"] - single["alone_cost_sek"]) <= 1 + 1e-6 * single["alone_cost_sek"]
        pools = {c: f"pool{i // pool_size}" for i, c in enumerate(names)}
        result[f"synthetic_{clinics}x{weeks}_pools_of_{pool_size}"] = compare(waiting, flows, prices, pools,
                                                                               move_cost_sek)
        result[f"synthetic_{clinics}x{weeks}_one_pool"] = compare(waiting, flows, prices, None, move_cost_sek)
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "purchase.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    run()
