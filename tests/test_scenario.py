"""Tests for kps_analysis.scenario: what-if scenarios and Monte Carlo runs."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kps_analysis import calendar as cal
from kps_analysis.capacity import capacity_by_stage, capacity_from_resources
from kps_analysis.purchase import purchase_need
from kps_analysis.queue import queue_for_share_within
from kps_analysis.scenario import (
    SCENARIO_FIELDS,
    ScenarioInputs,
    apply_scenario,
    inputs_from_parameters,
    monte_carlo,
    run_scenarios,
    scenario_table,
)
from kps_analysis.waits import project_breaches

PARAMETERS = Path(__file__).resolve().parents[1] / "parameters"

RES = pd.DataFrame({"clinic": ["a"], "new_visit_slots_per_week": [50.0], "return_visit_slots_per_week": [80.0],
                    "theatre_sessions_per_week": [9.0], "operations_per_session": [2.5], "no_show_rate": [0.04]})
SUMMER = pd.DataFrame({"clinic": ["a", "a"], "start": pd.to_datetime(["2026-06-29", "2026-12-21"]),
                       "end": pd.to_datetime(["2026-08-09", "2027-01-06"]), "capacity_share": [0.4, 0.6]})
# ISO weeks 2026-W25 (Midsummer Eve on Friday) .. 2026-W36
WEEKS = pd.period_range("2026-06-15", periods=12, freq="W-SUN")


def capacity_flows(resources=RES, closures=SUMMER, periods=WEEKS, inflow=50.0):
    """Flows whose capacity is capacity_from_resources by stage."""
    by = capacity_by_stage(capacity_from_resources(resources, periods, closures=closures))
    by["week_ahead"] = by.groupby(["clinic", "stage"]).cumcount() + 1
    by["inflow"] = inflow
    return by[["clinic", "stage", "week_ahead", "period", "inflow", "capacity"]]


def week(n):
    return cal.period_from_iso(2026, n)


# ----------------------------------------------------------------------------- apply_scenario: inflow
def test_ten_per_cent_more_inflow_is_exactly_ten_per_cent_more():
    f = capacity_flows().assign(lo_80=40.0, hi_80=61.0)
    f["inflow"] = np.linspace(30, 70, len(f))
    s = apply_scenario(ScenarioInputs(f), {"inflow_change_pct": 10})
    np.testing.assert_allclose(s.flows["inflow"], f["inflow"] * 1.1, rtol=1e-15)
    np.testing.assert_allclose(s.flows["lo_80"], 44.0)
    np.testing.assert_allclose(s.flows["hi_80"], 67.1)
    pd.testing.assert_series_equal(s.flows["capacity"], f["capacity"])
    assert s.flows["inflow"].sum() == pytest.approx(1.1 * f["inflow"].sum(), rel=1e-14)
    # the input is not changed; -100 % empties the inflow
    assert f["lo_80"].eq(40.0).all()
    assert apply_scenario(ScenarioInputs(f), {"inflow_change_pct": -100}).flows["inflow"].eq(0).all()


def test_baseline_and_zero_scenario_change_nothing():
    f = capacity_flows()
    inputs = ScenarioInputs(f, resources=RES, closures=SUMMER)
    for spec in (None, {}, dict.fromkeys(SCENARIO_FIELDS, 0), {"description": "nothing"}):
        out = apply_scenario(inputs, spec)
        pd.testing.assert_frame_equal(out.flows, f)


# ----------------------------------------------------------------------------- apply_scenario: capacity
def test_longer_summer_closure_lowers_capacity_in_exactly_the_extra_week():
    f = capacity_flows()
    s = apply_scenario(ScenarioInputs(f, closures=SUMMER), {"summer_closure_extra_weeks": 1})
    changed = s.flows.loc[~np.isclose(s.flows["capacity"], f["capacity"]), "period"].unique()
    assert list(changed) == [week(33)]
    w33 = f["period"] == week(33)
    # a full week (5 working days) at 40 % of normal: 48 × 0.4 new visits, 22.5 × 0.4 operations
    np.testing.assert_allclose(s.flows.loc[w33, "capacity"], [48 * 0.4, 22.5 * 0.4])
    np.testing.assert_allclose(s.flows.loc[w33, "capacity"], f.loc[w33, "capacity"] * 0.4)
    # the same as capacity recomputed with the closure ending a week later
    longer = SUMMER.assign(end=pd.to_datetime(["2026-08-16", "2027-01-06"]))
    np.testing.assert_allclose(s.flows["capacity"], capacity_flows(closures=longer)["capacity"], rtol=1e-12)


@pytest.mark.parametrize("weeks, end", [(2, "2026-08-23"), (-1, "2026-08-02"), (-2, "2026-07-26")])
def test_summer_closure_extended_or_shortened_equals_recomputed_capacity(weeks, end):
    f = capacity_flows()
    s = apply_scenario(ScenarioInputs(f, closures=SUMMER), {"summer_closure_extra_weeks": weeks})
    moved = SUMMER.assign(end=pd.to_datetime([end, "2027-01-06"]))
    np.testing.assert_allclose(s.flows["capacity"], capacity_flows(closures=moved)["capacity"], rtol=1e-12)
    assert (~np.isclose(s.flows["capacity"], f["capacity"])).sum() == 2 * abs(weeks)


def test_a_closure_shortened_by_more_than_its_length_is_gone():
    s = apply_scenario(ScenarioInputs(capacity_flows(), closures=SUMMER), {"summer_closure_extra_weeks": -8})
    np.testing.assert_allclose(s.flows["capacity"], capacity_flows(closures=SUMMER.iloc[[1]])["capacity"],
                               rtol=1e-12)


def test_a_closure_ending_midweek_is_extended_day_by_day():
    # ends Wednesday 5 August (W32): W32 has 3 closed of 5 days; one week more closes
    # W32 completely and Mon-Wed of W33
    mid = SUMMER.assign(end=pd.to_datetime(["2026-08-05", "2027-01-06"]))
    s = apply_scenario(ScenarioInputs(capacity_flows(closures=mid), closures=mid), {"summer_closure_extra_weeks": 1})
    later = mid.assign(end=pd.to_datetime(["2026-08-12", "2027-01-06"]))
    np.testing.assert_allclose(s.flows["capacity"], capacity_flows(closures=later)["capacity"], rtol=1e-12)
    nv = s.flows[(s.flows.stage == "new_visit")].set_index("period")["capacity"]
    assert nv[week(32)] == pytest.approx(48 * 0.4)
    assert nv[week(33)] == pytest.approx(48 * (3 * 0.4 + 2) / 5)


def test_summer_closure_needs_closures_and_cannot_reopen_a_full_closure():
    f = capacity_flows()
    with pytest.raises(ValueError, match="inputs.closures"):
        apply_scenario(ScenarioInputs(f), {"summer_closure_extra_weeks": 1})
    shut = SUMMER.assign(capacity_share=[0.0, 0.6])
    with pytest.raises(ValueError, match="capacity_share 0"):
        apply_scenario(ScenarioInputs(capacity_flows(closures=shut), closures=shut),
                       {"summer_closure_extra_weeks": -1})
    # extending a full closure is fine: the extra week is closed
    s = apply_scenario(ScenarioInputs(capacity_flows(closures=shut), closures=shut),
                       {"summer_closure_extra_weeks": 1})
    assert s.flows.loc[s.flows.period == week(33), "capacity"].eq(0).all()
    # only the summer closure moves; a clinic without one is warned about
    winter = SUMMER.iloc[[1]]
    with pytest.warns(UserWarning, match="no summer closure for \\['a'\\]"):
        s = apply_scenario(ScenarioInputs(f, closures=winter), {"summer_closure_extra_weeks": 1})
    pd.testing.assert_series_equal(s.flows["capacity"], f["capacity"])
    with pytest.raises(ValueError, match="whole weeks"):
        apply_scenario(ScenarioInputs(f, closures=SUMMER), {"summer_closure_extra_weeks": 1.5})


@pytest.mark.parametrize("spec, key, value", [
    ({"extra_theatre_sessions_per_week": 2}, "theatre_sessions_per_week", 11.0),
    ({"extra_theatre_sessions_per_week": -3}, "theatre_sessions_per_week", 6.0),
    ({"extra_new_visit_slots_per_week": 10}, "new_visit_slots_per_week", 60.0),
])
def test_extra_sessions_and_slots_equal_recomputed_capacity_in_every_week(spec, key, value):
    # holiday weeks (Midsummer) and closure weeks get their share of the extra too
    f = capacity_flows()
    s = apply_scenario(ScenarioInputs(f, resources=RES, closures=SUMMER), spec)
    expected = capacity_flows(resources=RES.assign(**{key: value}))
    np.testing.assert_allclose(s.flows["capacity"], expected["capacity"], rtol=1e-12)


def test_two_extra_sessions_by_hand():
    # 2 sessions × 2.5 operations = 5 more a full week; Midsummer week (4 days) 4;
    # summer weeks 5 × 0.4 = 2; new visits unchanged
    f = capacity_flows()
    s = apply_scenario(ScenarioInputs(f, resources=RES, closures=SUMMER), {"extra_theatre_sessions_per_week": 2})
    diff = (s.flows["capacity"] - f["capacity"]).round(9)
    tr = s.flows["stage"] == "treatment"
    assert diff[~tr].eq(0).all()
    by_week = dict(zip(s.flows.loc[tr, "period"], diff[tr]))
    assert by_week[week(25)] == 4.0 and by_week[week(26)] == 5.0
    assert by_week[week(27)] == 2.0 and by_week[week(32)] == 2.0 and by_week[week(33)] == 5.0


def test_extra_capacity_needs_resources_and_period():
    f = capacity_flows()
    with pytest.raises(ValueError, match="inputs.resources"):
        apply_scenario(ScenarioInputs(f), {"extra_new_visit_slots_per_week": 1})
    with pytest.raises(ValueError, match="operations_per_session is missing"):
        apply_scenario(ScenarioInputs(f, resources=RES.assign(operations_per_session=np.nan)),
                       {"extra_theatre_sessions_per_week": 1})
    with pytest.raises(ValueError, match="'period' column"):
        apply_scenario(ScenarioInputs(f.drop(columns="period"), resources=RES), {"extra_new_visit_slots_per_week": 1})


# ----------------------------------------------------------------------------- apply_scenario: moves, prices
def pool_flows():
    rows = []
    for c in ("a", "b", "c"):
        for stage in ("new_visit", "treatment"):
            rows.append(pd.DataFrame({"clinic": c, "stage": stage, "week_ahead": [1, 2], "inflow": [20.0, 3.0],
                                      "capacity": 15.0}))
    rows.append(pd.DataFrame({"clinic": "d", "stage": "new_visit", "week_ahead": [1, 2], "inflow": 20.0,
                              "capacity": 15.0}))
    return pd.concat(rows, ignore_index=True)


def inflow_of(flows, clinic, stage):
    return flows[(flows.clinic == clinic) & (flows.stage == stage)]["inflow"].tolist()


def test_moved_patients_go_to_the_other_clinics_of_the_pool():
    f = pool_flows()
    pools = pd.Series({"a": "ort", "b": "ort", "d": "ort"})
    scen = pd.DataFrame({"clinic": ["a"], "moved_patients_per_week": [5.0]})
    with pytest.warns(UserWarning, match="more patients moved than arrive"):
        s = apply_scenario(ScenarioInputs(f, pools=pools), scen).flows
    assert inflow_of(s, "a", "treatment") == [15.0, 0.0]  # 3 - 5 is clipped at 0
    assert inflow_of(s, "a", "new_visit") == [20.0, 3.0]
    # b and d share the 5 (2.5 each); d has no treatment stage, so it takes first visits
    assert inflow_of(s, "b", "treatment") == [22.5, 5.5]
    assert inflow_of(s, "d", "new_visit") == [22.5, 22.5]
    assert inflow_of(s, "c", "treatment") == [20.0, 3.0]  # not in the pool
    # without pools the patients only leave; receiving (negative) adds
    s = apply_scenario(ScenarioInputs(f), {"moved_patients_per_week": -4}).flows
    assert inflow_of(s, "c", "treatment") == [24.0, 7.0]
    s = apply_scenario(ScenarioInputs(f), {"moved_patients_per_week": 2}, moved_stage="new_visit").flows
    assert inflow_of(s, "a", "new_visit") == [18.0, 1.0] and inflow_of(s, "a", "treatment") == [20.0, 3.0]


def test_two_clinics_moving_both_ways_net_out():
    f = pool_flows()
    pools = pd.Series({"a": "ort", "b": "ort"})
    scen = pd.DataFrame({"clinic": ["a", "b"], "moved_patients_per_week": [2.0, 2.0]})
    s = apply_scenario(ScenarioInputs(f, pools=pools), scen).flows
    assert inflow_of(s, "a", "treatment") == [20.0, 3.0] and inflow_of(s, "b", "treatment") == [20.0, 3.0]


def test_purchase_price_change():
    prices = pd.DataFrame({"clinic": ["a", "a", "b"], "stage": ["new_visit", "treatment", "new_visit"],
                           "price_external_sek": [2000.0, 80000.0, 1500.0], "price_internal_sek": 1.0})
    f = pool_flows()
    s = apply_scenario(ScenarioInputs(f, prices=prices),
                       pd.DataFrame({"clinic": ["a"], "purchase_price_change_pct": [20.0]}))
    assert s.prices["price_external_sek"].tolist() == [2400.0, 96000.0, 1500.0]
    assert s.prices["price_internal_sek"].tolist() == [1.0, 1.0, 1.0]
    assert prices["price_external_sek"].tolist() == [2000.0, 80000.0, 1500.0]


@pytest.mark.parametrize("spec, match", [
    ({"inflow_chnage_pct": 10}, "unknown key"),
    ({"inflow_change_pct": -101}, "'inflow_change_pct' must be >= -100"),
    ({"purchase_price_change_pct": -200}, "'purchase_price_change_pct' must be >= -100"),
    ({"inflow_change_pct": "ten"}, "must be a number"),
    ({"inflow_change_pct": np.nan}, "finite"),
    ("inflow_plus_10", "mapping or a DataFrame"),
    (pd.DataFrame({"clinic": ["a", "a"], "inflow_change_pct": [1, 2]}), "more than one row"),
    (pd.DataFrame({"clinic": ["a"], "inflow_change_pct": ["ten"]}), "'inflow_change_pct' must be a number"),
])
def test_bad_scenarios_raise(spec, match):
    with pytest.raises(ValueError, match=match):
        apply_scenario(ScenarioInputs(pool_flows()), spec)


def test_bad_inputs_raise():
    f = pool_flows()
    with pytest.raises(ValueError, match="inputs must be ScenarioInputs"):
        apply_scenario(f, {})
    with pytest.raises(ValueError, match="inputs.flows lacks column"):
        apply_scenario(ScenarioInputs(f.drop(columns="capacity")), {})
    with pytest.raises(ValueError, match="unknown stage"):
        apply_scenario(ScenarioInputs(f.assign(stage="x")), {})
    with pytest.raises(ValueError, match="finite and >= 0"):
        apply_scenario(ScenarioInputs(f.assign(inflow=-1.0)), {})
    with pytest.raises(ValueError, match="moved_stage"):
        apply_scenario(ScenarioInputs(f), {}, moved_stage="ward")


# ----------------------------------------------------------------------------- parameters
def test_scenarios_and_inputs_from_the_parameter_files():
    from kps_analysis.parameters import load_parameters

    ps = [load_parameters(c, PARAMETERS) for c in ("ort_nord", "hud")]
    t = scenario_table(ps)
    assert list(t.columns) == ["scenario", "clinic", "description", *SCENARIO_FIELDS]
    row = t[(t.clinic == "hud") & (t.scenario == "extra_new_visit_slots")].iloc[0]
    assert row["extra_new_visit_slots_per_week"] == 10.0 and row["inflow_change_pct"] == 0.0
    f = capacity_flows()
    i = inputs_from_parameters(ps, f)
    assert i.pools.to_dict() == {"ort_nord": "ortopedi"}
    assert set(i.closures["clinic"]) == {"ort_nord", "hud"}
    assert i.prices.set_index(["clinic", "stage"]).loc[("hud", "new_visit"), "price_external_sek"] == 1600.0
    # a scenario row applies to its clinic only
    fl = pd.DataFrame({"clinic": ["ort_nord", "hud"], "stage": "new_visit", "week_ahead": 1, "inflow": 100.0,
                       "capacity": 50.0})
    s = apply_scenario(inputs_from_parameters(ps, fl), t[t.scenario == "inflow_plus_10"])
    assert s.flows["inflow"].round(9).tolist() == [110.0, 110.0]
    s = apply_scenario(inputs_from_parameters(ps, fl), t[(t.scenario == "inflow_plus_10") & (t.clinic == "hud")])
    assert s.flows["inflow"].round(9).tolist() == [100.0, 110.0]


# ----------------------------------------------------------------------------- run_scenarios
def small_inputs():
    w = pd.DataFrame({"clinic": "a", "stage": "new_visit", "wait_days": [85], "patients": [30.0]})
    f = pd.DataFrame({"clinic": "a", "stage": "new_visit", "week_ahead": [1, 2, 3],
                      "period": pd.period_range("2025-03-03", periods=3, freq="W-SUN"), "inflow": 7.0,
                      "capacity": 10.0})
    prices = pd.DataFrame({"clinic": ["a"], "stage": ["new_visit"], "price_external_sek": [1000.0],
                           "price_internal_sek": [800.0]})
    res = pd.DataFrame({"clinic": ["a"], "operations_per_session": [np.nan], "no_show_rate": [0.0]})
    return ScenarioInputs(f, waiting=w, prices=prices, resources=res)


def test_run_scenarios_by_hand():
    # 30 patients at 85 days, 10 served a week: 20 are past 90 days at the end of week 1,
    # 10 at the end of week 2, none at week 3. The guarantee buys the 20 in week 1.
    t = run_scenarios(small_inputs(), {
        "inflow_plus_10": {"inflow_change_pct": 10, "description": "10 % fler remisser"},
        "more_slots": {"extra_new_visit_slots_per_week": 5},
        "dearer": {"purchase_price_change_pct": 50},
    }, horizon_weeks=3)
    assert t["scenario"].tolist() == ["baseline", "inflow_plus_10", "more_slots", "dearer"]
    assert t["description"].tolist() == ["", "10 % fler remisser", "", ""]
    by = t.set_index("scenario")
    assert by.loc["baseline", "inflow"] == 21.0
    assert by.loc["inflow_plus_10", "inflow"] == pytest.approx(23.1)
    assert by["capacity"].tolist() == [30.0, 30.0, 45.0, 30.0]
    assert by["breaches_max"].tolist() == [20.0, 20.0, 15.0, 20.0]
    assert by["breaches"].tolist() == [0.0, 0.0, 0.0, 0.0]  # at the end of week 3
    assert by["purchase_need"].tolist() == [20.0, 20.0, 15.0, 20.0]
    assert by["purchase_cost_sek"].tolist() == [20000.0, 20000.0, 15000.0, 30000.0]
    assert by["purchase_need_change"].tolist() == [0.0, 0.0, -5.0, 0.0]
    assert by["purchase_cost_change_sek"].tolist() == [0.0, 0.0, -5000.0, 10000.0]
    # capacity gap: inflow + backlog above the target queue cleared over the horizon, minus capacity
    target = queue_for_share_within(7.0, 90, 0.95)
    backlog = max(0.0, 30 - target)
    assert by.loc["baseline", "capacity_gap"] == pytest.approx(21 + backlog - 30)
    assert by.loc["more_slots", "capacity_gap"] == pytest.approx(21 + backlog - 45)


def test_run_scenarios_breaches_at_the_horizon_and_without_baseline():
    # two weeks: with 10 a week, 10 are still past 90 days at the end of week 2; with 15
    # a week, 15 are past at the end of week 1 and none at week 2
    t = run_scenarios(small_inputs(), {"more_slots": {"extra_new_visit_slots_per_week": 5}}, horizon_weeks=2)
    assert t["breaches"].tolist() == [10.0, 0.0] and t["breaches_max"].tolist() == [20.0, 15.0]
    assert t["breaches_change"].tolist() == [0.0, -10.0]
    t = run_scenarios(small_inputs(), {"more_slots": {"extra_new_visit_slots_per_week": 5}}, horizon_weeks=2,
                      baseline=False)
    assert t["scenario"].tolist() == ["more_slots"]
    assert np.isnan(t["purchase_need_change"].item())


def test_run_scenarios_pool_moves_and_the_region_total():
    # two clinics of one pool; a moves 5 treatment patients a week to b
    rows = []
    for c, inflow, cap in (("a", 30.0, 25.0), ("b", 20.0, 30.0)):
        rows.append(pd.DataFrame({"clinic": c, "stage": "treatment", "week_ahead": range(1, 5), "inflow": inflow,
                                  "capacity": cap}))
    f = pd.concat(rows, ignore_index=True)
    w = pd.DataFrame({"clinic": ["a", "b"], "stage": "treatment", "wait_days": [10, 10], "patients": [50.0, 5.0]})
    inputs = ScenarioInputs(f, waiting=w, pools=pd.Series({"a": "ort", "b": "ort"}))
    table = pd.DataFrame({"scenario": ["move"], "clinic": ["a"], "description": ["flytt"],
                          "moved_patients_per_week": [5.0]})
    t = run_scenarios(inputs, table, horizon_weeks=4)
    by = t.set_index(["scenario", "clinic"])["inflow"]
    assert by[("move", "a")] == 100.0 and by[("move", "b")] == 100.0
    assert t.groupby("scenario")["inflow"].sum().to_dict() == {"baseline": 200.0, "move": 200.0}
    assert t["purchase_cost_sek"].isna().all()  # no prices given


def test_run_scenarios_bad_input():
    inputs = small_inputs()
    with pytest.raises(ValueError, match="inputs.waiting"):
        run_scenarios(ScenarioInputs(inputs.flows), {})
    with pytest.raises(ValueError, match="beyond the flows"):
        run_scenarios(inputs, {}, horizon_weeks=4)
    with pytest.raises(ValueError, match="horizon_weeks"):
        run_scenarios(inputs, {}, horizon_weeks=0)
    with pytest.raises(ValueError, match="scenarios must be"):
        run_scenarios(inputs, ["x"], horizon_weeks=3)


# ----------------------------------------------------------------------------- Monte Carlo
H = 20
QUEUE = pd.DataFrame({"clinic": "a", "stage": "new_visit", "wait_days": np.arange(0, 81), "patients": 10.0})


def mc_flows(capacity=70.0, spread=15.0, inflow=70.0):
    return pd.DataFrame({"clinic": "a", "stage": "new_visit", "week_ahead": np.arange(1, H + 1), "inflow": inflow,
                         "lo_80": inflow - spread, "hi_80": inflow + spread, "capacity": capacity})


def test_zero_uncertainty_equals_the_deterministic_answer():
    # two clinics, both stages, a horizon past the guarantee so new arrivals matter
    wait = pd.concat([QUEUE, QUEUE.assign(clinic="b"), QUEUE.assign(stage="treatment", patients=3.0)],
                     ignore_index=True)
    f = pd.concat([mc_flows(64.0, 0.0), mc_flows(75.0, 0.0).assign(clinic="b"),
                   mc_flows(18.0, 0.0, inflow=20.0).assign(stage="treatment")], ignore_index=True)
    mc = monte_carlo(wait, f, runs=7, seed=3)
    det = project_breaches(wait, f, order="fifo")
    det_max = det.groupby(["clinic", "stage"])["over_limit"].max()
    buy = purchase_need(wait, f).groupby(["clinic", "stage"])["purchase"].sum()
    s = mc.summary.set_index(["clinic", "stage"])
    for key in det_max.index:
        runs = mc.runs[(mc.runs.clinic == key[0]) & (mc.runs.stage == key[1])]
        np.testing.assert_allclose(runs["max_over_limit"], det_max[key])
        assert s.loc[key, "p_no_breach"] == float(det_max[key] <= 0.5)
        for col in ("purchase_mean", "purchase_p50", "purchase_p80", "purchase_p95"):
            assert s.loc[key, col] == pytest.approx(buy[key])
    assert s.loc[("a", "new_visit"), "purchase_p95"] > 0  # the case is not trivial
    assert s.loc[("b", "new_visit"), "p_no_breach"] == 1.0
    # the clinic is breach-free only if every stage is
    assert s.loc[("a", "treatment"), "p_no_breach_clinic"] == min(s.loc[("a", "new_visit"), "p_no_breach"],
                                                                  s.loc[("a", "treatment"), "p_no_breach"])


def test_probability_is_monotone_in_capacity():
    p, p80 = [], []
    for capacity in (58.0, 61.0, 64.0, 67.0, 70.0):
        s = monte_carlo(QUEUE, mc_flows(capacity), runs=150, seed=11).summary.iloc[0]
        p.append(s["p_no_breach"])
        p80.append(s["purchase_p80"])
    assert p == sorted(p) and p[0] == 0.0 and p[-1] == 1.0 and 0 < p[2] < 1
    assert p80 == sorted(p80, reverse=True) and p80[-1] == 0.0
    # the same runs: with more capacity no run has more patients over the limit
    lo = monte_carlo(QUEUE, mc_flows(64.0), runs=50, seed=5, purchase=False).runs
    hi = monte_carlo(QUEUE, mc_flows(66.0), runs=50, seed=5, purchase=False).runs
    assert (hi["max_over_limit"].to_numpy() <= lo["max_over_limit"].to_numpy() + 1e-9).all()


def test_reproducible_with_the_seed():
    a = monte_carlo(QUEUE, mc_flows(64.0), runs=20, seed=2019)
    b = monte_carlo(QUEUE, mc_flows(64.0), runs=20, seed=2019, chunk_runs=7)
    pd.testing.assert_frame_equal(a.summary, b.summary)
    pd.testing.assert_frame_equal(a.runs, b.runs)
    c = monte_carlo(QUEUE, mc_flows(64.0), runs=20, seed=2020, purchase=False)
    assert not np.allclose(a.runs["inflow"], c.runs["inflow"])


def test_sampled_inflow_has_the_forecast_spread():
    # 80 % interval 100 ± 20: sigma = 20 / 1.2816 per week; two independent weeks
    f = pd.DataFrame({"clinic": "a", "stage": "new_visit", "week_ahead": [1, 2], "inflow": 100.0, "lo_80": 80.0,
                      "hi_80": 120.0, "capacity": 1000.0})
    w = QUEUE.head(1)
    sigma = 20 / 1.2815515655446004
    r = monte_carlo(w, f, runs=2500, seed=1, purchase=False).runs["inflow"]
    assert r.mean() == pytest.approx(200, rel=0.01)
    assert r.std() == pytest.approx(np.sqrt(2) * sigma, rel=0.05)
    # AR(1) with rho 0.8: var of the two-week sum = 2 sigma² (1 + rho)
    r = monte_carlo(w, f, runs=2500, seed=1, purchase=False, autocorrelation=0.8).runs["inflow"]
    assert r.std() == pytest.approx(np.sqrt(2 * 1.8) * sigma, rel=0.05)
    # lognormal keeps the mean and is never negative
    r = monte_carlo(w, f, runs=2500, seed=1, purchase=False, distribution="lognormal").runs["inflow"]
    assert r.mean() == pytest.approx(200, rel=0.01) and (r > 0).all()
    # the 95 % bounds can be used instead
    from scipy.stats import norm

    half = 20 * norm.ppf(0.975) / norm.ppf(0.9)
    g = f.assign(lo_95=100 - half, hi_95=100 + half)
    r95 = monte_carlo(w, g, runs=200, seed=1, purchase=False, level=95).runs["inflow"]
    r80 = monte_carlo(w, f, runs=200, seed=1, purchase=False).runs["inflow"]
    np.testing.assert_allclose(r95, r80, rtol=1e-12)


@pytest.mark.parametrize("kwargs, match", [
    ({"runs": 0}, "runs"),
    ({"level": 100}, "level"),
    ({"confidence": (50, 100)}, "confidence"),
    ({"distribution": "poisson"}, "distribution"),
    ({"autocorrelation": 1.0}, "autocorrelation"),
    ({"tolerance": -1}, "tolerance"),
    ({"level": 95}, "flows lacks column"),
])
def test_monte_carlo_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        monte_carlo(QUEUE, mc_flows(), **kwargs)


def test_monte_carlo_bounds_must_enclose_the_mean():
    with pytest.raises(ValueError, match="lo_80 <= inflow <= hi_80"):
        monte_carlo(QUEUE, mc_flows().assign(lo_80=80.0), runs=2)


def test_monte_carlo_on_months_follows_the_deterministic_monthly_projection():
    # no uncertainty (lo = hi = inflow): every run is the deterministic projection, in months
    # of their own days: 10 patients at 70 days pass 90 days in February 2024 (29 days)
    from kps_analysis.scenario import monte_carlo
    from kps_analysis.waits import project_breaches

    wait = pd.DataFrame({"clinic": "a", "stage": "new_visit", "wait_days": [70, 10], "patients": [10.0, 5.0]})
    months = pd.DataFrame({"clinic": "a", "stage": "new_visit", "period_ahead": [1, 2],
                           "period": pd.period_range("2024-02", periods=2, freq="M"),
                           "inflow": 0.0, "lo_80": 0.0, "hi_80": 0.0, "capacity": 0.0})
    mc = monte_carlo(wait, months, runs=5, purchase=True)
    det = project_breaches(wait, months[["clinic", "stage", "period_ahead", "period", "inflow", "capacity"]])
    assert det["over_limit"].tolist() == [10.0, 10.0]
    s = mc.summary.iloc[0]
    assert s["p_no_breach"] == 0.0 and s["mean_over_limit_end"] == pytest.approx(10.0)
    assert s["purchase_mean"] == pytest.approx(10.0)
    with pytest.raises(ValueError, match="monthly flows"):
        from kps_analysis.scenario import ScenarioInputs, run_scenarios
        run_scenarios(ScenarioInputs(flows=months, waiting=wait), [])
