"""Tests for kps_analysis.purchase: purchase need (guarantee and target policies), regional optimisation."""

import itertools
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kps_analysis import purchase as pu
from kps_analysis.capacity import resources_frame
from kps_analysis.parameters import list_clinics, load_parameters
from kps_analysis.queue import queue_for_share_within
from kps_analysis.waits import project_breaches

PARAMETERS = Path(__file__).resolve().parents[1] / "parameters"
C = 100 / 7  # patients per day at an inflow of 100 a week


def flows(capacity, inflow=100.0, clinic="a"):
    capacity = np.asarray(capacity, dtype=float)
    return pd.DataFrame({"clinic": clinic, "week_ahead": np.arange(1, len(capacity) + 1),
                         "inflow": inflow, "capacity": capacity})


def steady_waiting(oldest=84, clinic="a"):
    """100/7 patients for each day waited 0..oldest: the list of an inflow of 100 a week."""
    return pd.DataFrame({"clinic": clinic, "wait_days": np.arange(oldest + 1), "patients": C})


# ----------------------------------------------------------------------------- target policy
def test_target_policy_queue_at_target_buys_what_capacity_lacks():
    # inflow 100, capacity 90, queue 300 = target: buy 100 - 90 + (300 - 300)/w = 10 a week,
    # at 2,300 SEK a visit 23,000 SEK a week (in-house 2,000 SEK: 20,000 SEK)
    wait = pd.DataFrame({"clinic": "a", "wait_days": [10], "patients": [300.0]})
    prices = {"purchase_new_visit_sek": 2300, "internal_new_visit_sek": 2000}
    r = pu.purchase_need(wait, flows([90.0] * 6), policy="target", target_queue=300, prices=prices)
    assert r["purchase"].tolist() == [10.0] * 6
    assert r["cost_external_sek"].tolist() == [23000.0] * 6
    assert r["cost_internal_sek"].tolist() == [20000.0] * 6
    np.testing.assert_allclose(r["queue"], 300.0)
    assert (r["policy"] == "target").all()
    assert r["target_queue"].tolist() == [300.0] * 6


def test_target_policy_capacity_above_inflow_buys_nothing():
    wait = pd.DataFrame({"clinic": "a", "wait_days": [10], "patients": [300.0]})
    r = pu.purchase_need(wait, flows([110.0] * 6), policy="target", target_queue=300, prices=2300)
    assert r["purchase"].tolist() == [0.0] * 6 and r["cost_external_sek"].sum() == 0
    np.testing.assert_allclose(r["queue"], [290, 280, 270, 260, 250, 240])


def test_target_policy_clears_a_backlog_by_the_week_then_holds():
    # queue 400, target 300 by week 4: 100 - 90 + 100/4 = 35 a week for 4 weeks, then 10
    wait = pd.DataFrame({"clinic": "a", "wait_days": [10], "patients": [400.0]})
    r = pu.purchase_need(wait, flows([90.0] * 6), policy="target", target_queue=300, target_by_week=4)
    np.testing.assert_allclose(r["purchase"], [35, 35, 35, 35, 10, 10])
    np.testing.assert_allclose(r["queue"], [375, 350, 325, 300, 300, 300])


def test_target_policy_around_a_summer_closure():
    # capacity 45 in weeks 5-8: 100 - 45 = 55 a week there, 10 around it (queue at target throughout)
    wait = pd.DataFrame({"clinic": "a", "wait_days": [10], "patients": [300.0]})
    cap = [90.0] * 4 + [45.0] * 4 + [90.0] * 4
    r = pu.purchase_need(wait, flows(cap), policy="target", target_queue=300)
    assert r["purchase"].tolist() == [10.0] * 4 + [55.0] * 4 + [10.0] * 4


def test_target_policy_default_target_is_the_queue_for_the_share_within():
    wait = pd.DataFrame({"clinic": "a", "wait_days": [10], "patients": [1000.0]})
    r = pu.purchase_need(wait, flows([90.0] * 3), policy="target", target_by_week=3)
    target = queue_for_share_within(100.0, 90, 0.95)  # 100/7 * 90 / -ln(0.05) = 429.2
    assert r["target_queue"].iloc[0] == pytest.approx(target)
    np.testing.assert_allclose(r["purchase"], 10 + (1000 - target) / 3)


# ----------------------------------------------------------------------------- guarantee policy
def test_guarantee_fifo_nothing_until_the_oldest_would_pass_90_days_then_10_a_week():
    # 100/7 patients per day waited 0..84 days (1214.3 in all), inflow 100 a week (100/7 a day),
    # own capacity 90 a week, longest wait first. By the end of week k the patients who would have
    # waited over 90 days are those who had waited 91 - 7k days or more at the start:
    #     due[k] = 100/7 * (84 - (91 - 7k) + 1) = 100/7 * (7k - 6) = 100k - 600/7   [patients]
    # Own capacity has served 90k of them, so the least cumulative purchase is
    #     B[k] = max(0, 100k - 600/7 - 90k) = max(0, 10k - 85.714)
    # zero for k <= 8 (10 * 8 = 80 < 85.714: the oldest still waiting has waited 90 days at the end of
    # week 8, not more), first positive in week 9: 90 - 85.714 = 30/7 = 4.2857, then 10 a week.
    r = pu.purchase_need(steady_waiting(), flows([90.0] * 12), prices=2300)
    expected = [0.0] * 8 + [30 / 7, 10.0, 10.0, 10.0]
    np.testing.assert_allclose(r["purchase"], expected, atol=1e-9)
    np.testing.assert_allclose(r["cost_external_sek"], np.array(expected) * 2300, atol=1e-6)
    assert (r["over_limit"] <= 1e-9).all()
    # without purchase the same projection breaches from week 9 on: 30/7, then +10 a week
    plain = project_breaches(steady_waiting(), flows([90.0] * 12), order="fifo")
    np.testing.assert_allclose(plain["over_limit"], np.cumsum(expected), atol=1e-6)


def test_guarantee_capacity_110_buys_nothing():
    r = pu.purchase_need(steady_waiting(), flows([110.0] * 12))
    assert (r["purchase"] == 0).all()


def test_guarantee_around_a_four_week_summer_closure():
    # capacity 45 in weeks 5-8. Cumulative capacity S = 90, 180, 270, 360, 405, 450, 495, 540, 630, ...;
    # due[k] - S[k] = 100k - 85.714 - S[k] = -75.7, -65.7, -55.7, -45.7, 9.286, 64.29, 119.29, 174.29,
    # 184.29, 194.29, 204.29, 214.29; the running maximum (from 0) gives the cumulative purchase, so
    # weekly: nothing in weeks 1-4, 65/7 = 9.2857 in week 5, 55 in weeks 6-8, then 10 a week after the
    # closure (the oldest still waiting are at the limit from then on).
    cap = [90.0] * 4 + [45.0] * 4 + [90.0] * 4
    r = pu.purchase_need(steady_waiting(), flows(cap))
    np.testing.assert_allclose(r["purchase"], [0, 0, 0, 0, 65 / 7, 55, 55, 55, 10, 10, 10, 10], atol=1e-9)
    assert (r["over_limit"] <= 1e-9).all()


def test_guarantee_tolerated_level():
    # tolerating 5 over the limit shifts the cumulative purchase down by 5: week 9 gives 30/7 - 5 < 0 -> 0,
    # week 10: 14.2857 - 5 = 9.2857, then 10
    r = pu.purchase_need(steady_waiting(), flows([90.0] * 12), tolerated=5)
    np.testing.assert_allclose(r["purchase"], [0.0] * 9 + [65 / 7, 10, 10], atol=1e-9)
    assert r["over_limit"].max() == pytest.approx(5.0)


def test_guarantee_whole_patients_are_the_least_whole_number():
    r = pu.purchase_need(steady_waiting(), flows([90.0] * 12), whole_patients=True)
    # week 9: ceil(4.2857) = 5; week 10: due 14.29 more minus the 0.71 bought ahead -> ceil(9.29) = 10
    assert r["purchase"].tolist() == [0.0] * 8 + [5.0, 10.0, 10.0, 10.0]
    assert (r["over_limit"] <= 1e-9).all()
    less = flows([90.0] * 12).assign(external=r["purchase"].to_numpy() - np.eye(12)[8])
    assert project_breaches(steady_waiting(), less, order="fifo")["over_limit"].iloc[8] > 0


def _minus(flows_frame, purchase, week, delta):
    ext = purchase.copy()
    ext[week] -= delta
    return flows_frame.assign(external=ext)


def test_buying_one_less_in_any_week_breaches_the_hand_case():
    f = flows([90.0] * 4 + [45.0] * 4 + [90.0] * 4)
    r = pu.purchase_need(steady_waiting(), f)
    p = r["purchase"].to_numpy()
    for k in np.flatnonzero(p > 0):
        delta = min(1.0, p[k])
        over = project_breaches(steady_waiting(), _minus(f, p, k, delta), order="fifo")["over_limit"]
        assert over.iloc[k] == pytest.approx(delta)  # exactly the patients not bought are over


@st.composite
def cases(draw):
    horizon = draw(st.integers(1, 8))
    n_rows = draw(st.integers(1, 12))
    waiting = pd.DataFrame({
        "clinic": "a",
        "wait_days": draw(st.lists(st.integers(0, 120), min_size=n_rows, max_size=n_rows)),
        "patients": draw(st.lists(st.floats(0.5, 40), min_size=n_rows, max_size=n_rows)),
        "priority": draw(st.lists(st.sampled_from(["1", "2", "3"]), min_size=n_rows, max_size=n_rows)),
    })
    f = pd.DataFrame({"clinic": "a", "week_ahead": np.arange(1, horizon + 1),
                      "inflow": draw(st.lists(st.floats(0, 60), min_size=horizon, max_size=horizon)),
                      "capacity": draw(st.lists(st.floats(0, 60), min_size=horizon, max_size=horizon))})
    return waiting, f


@settings(max_examples=25, deadline=None)
@given(cases(), st.sampled_from(["fifo", "priority"]), st.sampled_from([0.0, 3.0]), st.sampled_from([0.0, 0.05]))
def test_guarantee_purchase_is_the_least_week_by_week(case, order, tolerated, renege):
    waiting, f = case
    r = pu.purchase_need(waiting, f, order=order, tolerated=tolerated, renege_rate_per_week=renege)
    p = r["purchase"].to_numpy()
    assert (p >= 0).all()
    assert (r["over_limit"] <= tolerated + 1e-6).all()  # enough ...
    for k in np.flatnonzero(p > 1e-6):  # ... and the least: one less (or all of it) breaches that week
        delta = min(1.0, p[k])
        over = project_breaches(waiting, _minus(f, p, k, delta), order=order, renege_rate_per_week=renege)
        assert over["over_limit"].iloc[k] > tolerated + 1e-9
        if order == "fifo":
            assert over["over_limit"].iloc[k] == pytest.approx(tolerated + delta * (1 - renege), abs=1e-6)


@settings(max_examples=25, deadline=None)
@given(cases(), st.sampled_from(["guarantee", "target"]))
def test_purchase_is_zero_when_capacity_covers_everything(case, policy):
    waiting, f = case
    everything = waiting["patients"].sum() + f["inflow"].sum()
    r = pu.purchase_need(waiting, f.assign(capacity=everything), policy=policy, target_queue=0)
    assert (r["purchase"] == 0).all()


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(1000, 1800), min_size=1, max_size=10), st.sampled_from([0.0, 50.0]))
def test_fifo_cumulative_purchase_has_the_closed_form(capacity, tolerated):
    # 200 patients for each day waited 0..100 (20,200 in all: the queue never runs empty here);
    # due[k] = 200 * (100 - (91 - 7k) + 1) = 200 * (10 + 7k); arrivals are not due within 10 weeks
    waiting = pd.DataFrame({"clinic": "a", "wait_days": np.arange(101), "patients": 200.0})
    k = np.arange(1, len(capacity) + 1)
    due = 200.0 * (10 + 7 * k)
    closed = np.maximum.accumulate(np.maximum(due - np.cumsum(capacity) - tolerated, 0.0))
    r = pu.purchase_need(waiting, flows(capacity, inflow=100.0), tolerated=tolerated)
    np.testing.assert_allclose(np.cumsum(r["purchase"]), closed, atol=1e-6)


# ----------------------------------------------------------------------------- frames, prices, months
def test_many_series_at_once_and_months():
    periods = pd.period_range("2026-11-23", periods=6, freq="W-SUN")
    f = pd.concat([flows([90.0] * 6, clinic=c).assign(stage=s, period=periods)
                   for c in ("a", "b") for s in ("new_visit", "treatment")], ignore_index=True)
    w = pd.concat([steady_waiting(90, clinic=c).assign(stage=s)
                   for c in ("a", "b") for s in ("new_visit", "treatment")])
    prices = pd.DataFrame({"clinic": ["a", "a", "b", "b"], "stage": ["new_visit", "treatment"] * 2,
                           "price_external_sek": [2000.0, 40000.0, 2100.0, 41000.0],
                           "price_internal_sek": [1800.0, 35000.0, 1900.0, 36000.0]})
    r = pu.purchase_need(w, f, prices=prices, lead_time_weeks=4)
    alone = pu.purchase_need(steady_waiting(90), flows([90.0] * 6))
    for _, part in r.groupby(["clinic", "stage"]):
        np.testing.assert_allclose(part["purchase"], alone["purchase"])
    assert r["month"].astype(str).tolist()[:6] == ["2026-11", "2026-12", "2026-12", "2026-12", "2026-12", "2026-12"]
    # 2026-W53 (28 Dec - 3 Jan): its Thursday is 31 December -> December
    assert str(pu._week_month(pd.Series([pd.Period("2026-12-28", "W-SUN")])).iloc[0]) == "2026-12"
    assert r["decide_by_week"].tolist()[:3] == [-3, -2, -1]
    tr_b = r[(r["clinic"] == "b") & (r["stage"] == "treatment")]
    np.testing.assert_allclose(tr_b["cost_external_sek"], tr_b["purchase"] * 41000)
    monthly = pu.purchase_by_month(r)
    assert monthly["purchase"].sum() == pytest.approx(r["purchase"].sum())
    assert set(monthly["weeks"]) == {1, 5}


def test_prices_from_the_parameter_files():
    ps = [load_parameters(c, PARAMETERS) for c in ("hud", "uro")]
    prices = pu.prices_frame(ps)
    assert prices.set_index(["clinic", "stage"]).loc[("uro", "treatment"), "price_external_sek"] == 40000
    assert np.isnan(prices.set_index(["clinic", "stage"]).loc[("hud", "treatment"), "price_external_sek"])


def test_bad_inputs_raise_naming_the_argument():
    w, f = steady_waiting(), flows([90.0] * 3)
    with pytest.raises(ValueError, match="policy"):
        pu.purchase_need(w, f, policy="cheapest")
    with pytest.raises(ValueError, match="order"):
        pu.purchase_need(w, f, order="random")
    with pytest.raises(ValueError, match="tolerated"):
        pu.purchase_need(w, f, tolerated=-1)
    with pytest.raises(ValueError, match="flows"):
        pu.purchase_need(w, f.assign(capacity=-1.0))
    with pytest.raises(ValueError, match="target_by_week"):
        pu.purchase_need(w, f, policy="target", target_by_week=0)
    with pytest.raises(ValueError, match="prices"):
        pu.purchase_need(w, f, prices="cheap")
    with pytest.raises(ValueError, match="capacity"):
        pu.purchase_need(w, f.drop(columns="capacity"))


# ----------------------------------------------------------------------------- optimise_region
def two_clinics(cap_b, waiting_a=20.0, weeks=1):
    wait = pd.DataFrame({"clinic": ["a"], "wait_days": [85], "patients": [waiting_a]})
    f = pd.DataFrame({"clinic": np.repeat(["a", "b"], weeks), "week_ahead": np.tile(np.arange(1, weeks + 1), 2),
                      "inflow": 0.0, "capacity": np.r_[np.zeros(weeks), np.full(weeks, cap_b)]})
    return wait, f


def test_moves_before_buying_when_moving_is_cheaper():
    wait, f = two_clinics(30.0)
    r = pu.optimise_region(wait, f, prices=1000, move_cost_sek=100)
    assert r.total_cost_sek == pytest.approx(20 * 100)
    assert r.moves[["clinic_from", "clinic_to", "patients"]].values.tolist() == [["a", "b", 20.0]]
    assert r.plan["purchased"].sum() == 0 and (r.plan["over_limit"] == 0).all()


def test_buys_when_moving_costs_more_than_buying():
    wait, f = two_clinics(30.0)
    r = pu.optimise_region(wait, f, prices=1000, move_cost_sek=1500)
    assert r.total_cost_sek == pytest.approx(20 * 1000)
    assert r.moves.empty and r.plan.set_index("clinic").loc["a", "purchased"] == pytest.approx(20)


def test_capacity_is_respected_and_the_binding_capacities_are_priced():
    # b has 12 free slots: move 12 (100 SEK each), buy 8 (1000 SEK each) = 9,200 SEK.
    # One more slot at b saves 1000 - 100 = 900 SEK, one at a saves a purchase: 1000 SEK.
    wait, f = two_clinics(12.0)
    r = pu.optimise_region(wait, f, prices=1000, move_cost_sek=100)
    plan = r.plan.set_index("clinic")
    assert r.total_cost_sek == pytest.approx(9200)
    assert plan.loc["b", "moved_in"] == pytest.approx(12) and plan.loc["a", "purchased"] == pytest.approx(8)
    assert (r.plan["own"] + r.plan["moved_in"] <= r.plan["capacity"] + 1e-9).all()
    shadow = r.binding.set_index("clinic")["shadow_price_sek"]
    assert shadow["a"] == pytest.approx(1000, rel=1e-3) and shadow["b"] == pytest.approx(900, rel=1e-3)
    assert r.binding["clinic"].tolist() == ["a", "b"]


def test_clinics_in_different_pools_do_not_share():
    wait, f = two_clinics(30.0)
    r = pu.optimise_region(wait, f, pools={"a": "ortopedi", "b": "urologi"}, prices=1000)
    assert r.moves.empty and r.total_cost_sek == pytest.approx(20000)
    r = pu.optimise_region(wait, f, pools=pd.DataFrame({"clinic": ["a", "b"], "region_pool": ["x", "x"]}),
                           prices=1000)
    assert r.total_cost_sek == pytest.approx(0) and r.moves["patients"].sum() == pytest.approx(20)


def test_one_clinic_alone_buys_what_the_guarantee_policy_buys():
    f = flows([90.0] * 4 + [45.0] * 4 + [90.0] * 4)
    greedy = pu.purchase_need(steady_waiting(), f, prices=1000)
    r = pu.optimise_region(steady_waiting(), f, prices=1000)
    np.testing.assert_allclose(r.plan["purchased"], greedy["purchase"], atol=1e-6)
    np.testing.assert_allclose(r.plan["own"], f["capacity"], atol=1e-6)  # own capacity used in full
    assert r.total_cost_sek == pytest.approx(greedy["cost_external_sek"].sum())


def test_optimiser_matches_brute_force_on_a_small_region():
    # a: 3 patients at 84 days (due in week 1), 2 at 77 (week 2), 1 at 70 (week 3); b: 1, 2, 2.
    # capacities a (1, 2, 0), b (2, 0, 3); prices a 1000, b 1500 SEK; a move 300 SEK.
    # Brute force: every whole number of a's patients served at b and b's at a in each week (within
    # capacity); given those, each list's least purchase is the guarantee policy's (longest wait first).
    wait = pd.DataFrame({"clinic": ["a"] * 3 + ["b"] * 3, "wait_days": [84, 77, 70] * 2,
                         "patients": [3.0, 2.0, 1.0, 1.0, 2.0, 2.0]})
    cap_a, cap_b = np.array([1.0, 2.0, 0.0]), np.array([2.0, 0.0, 3.0])
    prices, move = {"a": 1000.0, "b": 1500.0}, 300.0
    combos = [(np.array(ab), np.array(ba))
              for ab in itertools.product(*[range(int(c) + 1) for c in cap_b])
              for ba in itertools.product(*[range(int(c) + 1) for c in cap_a])]
    frames, waits = [], []
    for n, (ab, ba) in enumerate(combos):  # a's list: own = cap_a - ba, plus ab served at b
        frames += [flows(cap_a - ba + ab, 0.0, f"{n}|a"), flows(cap_b - ab + ba, 0.0, f"{n}|b")]
        waits.append(wait.assign(clinic=f"{n}|" + wait["clinic"]))
    r = pu.purchase_need(pd.concat(waits), pd.concat(frames, ignore_index=True))
    r["combo"] = r["clinic"].str.split("|").str[0].astype(int)
    r["cost"] = r["purchase"] * r["clinic"].str.split("|").str[1].map(prices)
    cost = r.groupby("combo")["cost"].sum().sort_index().to_numpy()
    cost = cost + move * np.array([ab.sum() + ba.sum() for ab, ba in combos])
    best = cost.min()

    f = pd.concat([flows(cap_a, 0.0, "a"), flows(cap_b, 0.0, "b")], ignore_index=True)
    price_frame = pd.DataFrame({"clinic": ["a", "b"], "stage": "all", "price_external_sek": [1000.0, 1500.0]})
    lp = pu.optimise_region(wait, f, prices=price_frame, move_cost_sek=move)
    whole = pu.optimise_region(wait, f, prices=price_frame, move_cost_sek=move, integer=True)
    # a case where both moving and buying matter
    assert lp.moves["patients"].sum() > 0 and lp.plan["purchased"].sum() > 0
    assert lp.total_cost_sek == pytest.approx(best)
    assert whole.total_cost_sek == pytest.approx(best)
    assert (lp.plan["over_limit"] <= 1e-9).all()


def test_integer_plan_is_whole_and_not_cheaper_than_the_linear_one():
    wait = pd.DataFrame({"clinic": ["a", "b"], "wait_days": [60, 30], "patients": [300.0, 100.0]})
    f = pd.concat([flows([22.5] * 8, 31.3, "a"), flows([38.7] * 8, 25.1, "b")], ignore_index=True)
    lin = pu.optimise_region(wait, f, prices=1000, move_cost_sek=50)
    whole = pu.optimise_region(wait, f, prices=1000, move_cost_sek=50, integer=True)
    for col in ("own", "moved_in", "moved_out", "purchased"):
        np.testing.assert_allclose(whole.plan[col], np.rint(whole.plan[col]))
    assert whole.total_cost_sek >= lin.total_cost_sek - 1e-6
    assert (lin.plan["over_limit"] <= 1e-6).all()


def test_without_prices_the_number_bought_is_minimised():
    wait, f = two_clinics(12.0)
    r = pu.optimise_region(wait, f)
    assert np.isnan(r.total_cost_sek) and r.plan["purchased"].sum() == pytest.approx(8)


def test_optimise_region_bad_inputs():
    wait, f = two_clinics(12.0)
    with pytest.raises(ValueError, match="move_cost_sek"):
        pu.optimise_region(wait, f, move_cost_sek=-1)
    with pytest.raises(ValueError, match="group"):
        pu.optimise_region(wait, f.assign(group="x"))
    with pytest.raises(ValueError, match="prices"):
        pu.optimise_region(wait, f, prices=pd.DataFrame({"clinic": ["b"], "stage": "all",
                                                          "price_external_sek": [1.0]}))


# ----------------------------------------------------------------------------- the demo region
@pytest.fixture(scope="module")
def region(demo_region):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = demo_region  # demo.generate(end="2026-11-22") (tests/conftest.py)
        waiting, coming = pu.guarantee_inputs(data.weekly, data.waiting_list, horizon_weeks=12)
    params = [load_parameters(c, PARAMETERS) for c in list_clinics(PARAMETERS)]
    return waiting, coming, pu.prices_frame(params), resources_frame(params).resources


def test_demo_backlog_clinic_buys_the_balanced_one_does_not(region):
    waiting, coming, prices, _ = region
    need = pu.purchase_need(waiting, coming, prices=prices)  # guarantee policy, 12 weeks
    total = need.groupby("clinic")["purchase"].sum()
    assert total["uro"] > 50 and total["gyn"] == 0
    assert need.loc[need["clinic"] == "uro", "cost_external_sek"].sum() > 1e6
    assert (need["over_limit"] <= 1e-6).all()
    assert need["week_ahead"].max() == 12 and need["month"].notna().all()


def test_demo_orthopaedics_buy_less_together_than_apart(region):
    waiting, coming, prices, resources = region
    ort = ["ort_nord", "ort_syd"]
    apart = pu.purchase_need(waiting[waiting["clinic"].isin(ort)], coming[coming["clinic"].isin(ort)], prices=prices)
    together = pu.optimise_region(waiting[waiting["clinic"].isin(ort)], coming[coming["clinic"].isin(ort)],
                                  pools=resources, prices=prices)
    assert apart["purchase"].sum() > 0
    assert together.plan["purchased"].sum() < apart["purchase"].sum()
    assert together.total_cost_sek < apart["cost_external_sek"].sum()
    assert set(together.moves["clinic_to"]) <= {"ort_syd", "ort_nord"} and len(together.moves)
    assert (together.plan["own"] + together.plan["moved_in"] <= together.plan["capacity"] + 1e-6).all()
    assert (together.plan["over_limit"] <= 1e-6).all()


def test_demo_region_optimum_is_never_dearer_than_the_clinics_alone(region):
    waiting, coming, prices, resources = region
    apart = pu.purchase_need(waiting, coming, prices=prices)
    plan = pu.optimise_region(waiting, coming, pools=resources, prices=prices)
    assert plan.total_cost_sek <= apart["cost_external_sek"].sum() + 1e-6
    assert plan.plan.loc[plan.plan["clinic"] == "uro", "purchased"].sum() == pytest.approx(
        apart.loc[apart["clinic"] == "uro", "purchase"].sum())  # uro has no pool: the same alone


# ----------------------------------------------------------------------------- months
def test_purchase_need_on_months_steps_by_each_months_days():
    # 10 patients have waited 70 days on 1 February 2024; no arrivals, no own capacity.
    # Weekly they pass 90 days in week 3 (70 + 21 = 91); monthly, at the end of February
    # (29 days: 99 days) -> all 10 bought in month 1; with 10 own slots that month, none
    wait = pd.DataFrame({"clinic": "a", "wait_days": [70], "patients": [10.0]})
    months = pd.DataFrame({"clinic": "a", "period_ahead": [1, 2],
                           "period": pd.period_range("2024-02", periods=2, freq="M"), "inflow": 0.0, "capacity": 0.0})
    need = pu.purchase_need(wait, months, policy="guarantee", lead_time_weeks=4)
    assert need["period_ahead"].tolist() == [1, 2] and "week_ahead" not in need.columns
    assert need["period_days"].tolist() == [29, 31]
    assert need["purchase"].tolist() == [10.0, 0.0]
    assert need["decide_by_period"].tolist() == [0, 1]  # 4 weeks = 28 days = 1 month of lead time
    # 20 days in: a 29-day month takes them to 90 days exactly, not over: nothing to buy in
    # month 1, all 10 in month 2 (120 days)
    need = pu.purchase_need(wait.assign(wait_days=61), months, policy="guarantee")
    assert need["purchase"].tolist() == [0.0, 10.0]
    weeks = pd.DataFrame({"clinic": "a", "week_ahead": [1, 2, 3], "inflow": 0.0, "capacity": 0.0})
    assert pu.purchase_need(wait, weeks, policy="guarantee")["purchase"].tolist() == [0.0, 0.0, 10.0]
    # the target policy's default target queue takes the inflow per week: 310 a month of 31
    # days is 70 a week, as 70 a week is on weekly flows
    m1 = months.iloc[:1].assign(period=pd.Period("2024-01", "M"), inflow=310.0, capacity=310.0)
    w1 = weeks.iloc[:1].assign(inflow=70.0, capacity=70.0)
    tm = pu.purchase_need(wait, m1, policy="target")["target_queue"].iloc[0]
    tw = pu.purchase_need(wait, w1, policy="target")["target_queue"].iloc[0]
    assert tm == pytest.approx(tw)


def test_optimise_region_says_months_are_planned_elsewhere():
    wait = pd.DataFrame({"clinic": "a", "wait_days": [70], "patients": [10.0]})
    months = pd.DataFrame({"clinic": "a", "period_ahead": [1], "inflow": 0.0, "capacity": 0.0})
    with pytest.raises(ValueError, match="monthly flows"):
        pu.optimise_region(wait, months)
