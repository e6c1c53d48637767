"""Tests for kps_analysis.balance: flow balance, conversion rates, queue projections."""

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from kps_analysis import balance, periods
from kps_analysis.balance import (
    QueueProjection,
    conversion_rates,
    flow_balance,
    naive_flows,
    project_chain,
    project_queue,
)


def chain_frame(clinic="a", weeks=6, start="2024-01-01"):
    """Weekly frame that obeys both conservation identities exactly."""
    p = pd.period_range(start, periods=weeks, freq="W-SUN")
    ref = np.array([30, 32, 28, 35, 30, 31], dtype=float)[:weeks]
    fwd = np.array([2, 1, 0, 3, 2, 1], dtype=float)[:weeks]
    rem = np.array([1, 0, 1, 0, 0, 1], dtype=float)[:weeks]
    nv = np.array([25, 26, 27, 24, 30, 28], dtype=float)[:weeks]
    pnv = np.array([0, 2, 0, 0, 1, 0], dtype=float)[:weeks]
    dec = np.array([10, 12, 9, 11, 10, 12], dtype=float)[:weeks]
    ops = np.array([8, 9, 10, 12, 9, 8], dtype=float)[:weeks]
    pops = np.array([1, 0, 0, 0, 2, 0], dtype=float)[:weeks]
    rt = np.array([0, 1, 0, 0, 0, 1], dtype=float)[:weeks]
    q1 = 200 + np.cumsum(ref - fwd - rem - nv - pnv)
    q2 = 80 + np.cumsum(dec - ops - pops - rt)
    return pd.DataFrame({"clinic": clinic, "period": p, "referrals_in": ref, "referrals_forwarded": fwd,
                         "removals_new_visit_other": rem, "new_visits": nv, "purchased_new_visits": pnv,
                         "treatment_decisions": dec, "operations_elective": ops, "purchased_operations": pops,
                         "removals_treatment_other": rt, "queue_new_visit": q1, "queue_treatment": q2})


# ----------------------------------------------------------------------------- flow_balance
def test_flow_balance_hand_calculation():
    w = chain_frame()
    b = flow_balance(w, window_weeks=3)
    assert list(b.columns) == ["clinic", "period", "stage", "inflow", "outflow", "net", "net_rolling",
                               "queue", "queue_change", "residual"]
    assert b["stage"].tolist()[:2] == ["new_visit", "treatment"]
    nv = b[b.stage == "new_visit"].reset_index(drop=True)
    tr = b[b.stage == "treatment"].reset_index(drop=True)
    # week 1: in = 30 - 2 = 28, out = 25 + 0 + 1 = 26, net = 2
    assert (nv.loc[0, "inflow"], nv.loc[0, "outflow"], nv.loc[0, "net"]) == (28.0, 26.0, 2.0)
    # week 2: in = 31, out = 26 + 2 + 0 = 28, net 3; week 3: 28 - 28 = 0 -> rolling mean (2+3+0)/3
    assert nv.loc[2, "net_rolling"] == pytest.approx(5 / 3)
    assert nv["net_rolling"].iloc[:2].isna().all()
    # treatment week 1: 10 - (8 + 1 + 0) = 1
    assert tr.loc[0, "net"] == 1.0
    # the data obey the identities: residual 0 from the second week on
    assert b["residual"].iloc[2:].to_numpy() == pytest.approx(0.0)
    assert np.isnan(nv.loc[0, "residual"]) and np.isnan(tr.loc[0, "residual"])  # no previous week


def test_flow_balance_residual_flags_unreported_removals():
    w = chain_frame().drop(columns=["removals_new_visit_other"])
    b = flow_balance(w, window_weeks=2)
    nv = b[b.stage == "new_visit"].reset_index(drop=True)
    # removals are missing from the data: the queue fell by them more than the balance says
    assert nv["residual"].iloc[1:].tolist() == [-0.0, -1.0, -0.0, -0.0, -1.0]


def test_flow_balance_missing_stage_and_gaps():
    w = chain_frame().drop(columns=["treatment_decisions", "operations_elective"])
    b = flow_balance(w, window_weeks=2)
    assert b["stage"].unique().tolist() == ["new_visit"]
    gap = chain_frame().drop(index=2)  # week 3 missing
    g = flow_balance(gap, window_weeks=2)
    nv = g[g.stage == "new_visit"].reset_index(drop=True)
    assert np.isnan(nv.loc[2, "net_rolling"]) and np.isnan(nv.loc[2, "queue_change"])
    assert nv.loc[3, "net_rolling"] == pytest.approx((nv.loc[2, "net"] + nv.loc[3, "net"]) / 2)
    with pytest.raises(ValueError, match="stage"):
        flow_balance(w[["clinic", "period", "referrals_in"]])
    with pytest.raises(ValueError, match="window_weeks"):
        flow_balance(chain_frame(), window_weeks=0)


def test_flow_balance_many_clinics_equal_single():
    a, b = chain_frame("a"), chain_frame("b", weeks=5)
    b["referrals_in"] = b["referrals_in"] * 2
    both = flow_balance(pd.concat([b, a]), window_weeks=2)
    for clinic, frame in (("a", a), ("b", b)):
        one = flow_balance(frame, window_weeks=2)
        got = both[both.clinic == clinic].reset_index(drop=True)
        pd.testing.assert_frame_equal(got, one, check_dtype=False)


# ----------------------------------------------------------------------------- conversion_rates
def test_conversion_rates_hand_made():
    p = pd.period_range("2024-01-01", periods=3, freq="W-SUN")
    w = pd.DataFrame({"clinic": "a", "period": p,
                      "referrals_in": [40.0, 60.0, 100.0], "referrals_forwarded": [4.0, 6.0, 0.0],
                      "new_visits": [20.0, 30.0, 50.0], "treatment_decisions": [5.0, 10.0, 5.0],
                      "return_visits": [40.0, 30.0, 50.0], "no_shows": [3.0, 2.0, 5.0],
                      "bed_days": [30.0, 20.0, np.nan], "operations_elective": [8.0, 6.0, 4.0],
                      "operations_acute": [2.0, 4.0, 1.0]})
    r = conversion_rates(w, window_weeks=3).iloc[0]
    assert r["weeks"] == 3
    assert r["forwarded_share"] == pytest.approx(10 / 200)
    assert r["decisions_per_new_visit"] == pytest.approx(20 / 100)
    assert r["return_visits_per_new_visit"] == pytest.approx(120 / 100)
    # week 3 has no bed days reported: left out of numerator and denominator
    assert r["bed_days_per_operation"] == pytest.approx(50 / 20)
    assert r["no_show_rate"] == pytest.approx(10 / (100 + 120 + 10))
    # trailing window of 2 weeks
    r2 = conversion_rates(w, window_weeks=2).iloc[0]
    assert r2["decisions_per_new_visit"] == pytest.approx(15 / 80)
    assert r2["first_period"] == p[1] and r2["last_period"] == p[2]


def test_conversion_rates_zero_denominator_and_groups():
    p = pd.period_range("2024-01-01", periods=2, freq="W-SUN")
    w = pd.DataFrame({"clinic": ["a", "a", "b", "b"], "group": "g", "period": list(p) * 2,
                      "new_visits": [0.0, 0.0, 10.0, 10.0], "treatment_decisions": [0.0, 0.0, 3.0, 5.0]})
    with pytest.warns(UserWarning, match="denominator 0"):
        r = conversion_rates(w, window_weeks=2)
    assert list(r["clinic"]) == ["a", "b"] and "group" in r.columns
    assert np.isnan(r.loc[0, "decisions_per_new_visit"])
    assert r.loc[1, "decisions_per_new_visit"] == pytest.approx(0.4)
    assert r["bed_days_per_operation"].isna().all()  # measures absent: NaN, no error
    with pytest.warns(UserWarning, match="history"):
        conversion_rates(w[w.clinic == "b"], window_weeks=52)


# ----------------------------------------------------------------------------- project_queue
def test_project_queue_hand_calculation():
    r = project_queue(100, np.full(4, 30.0), 25)
    assert isinstance(r, QueueProjection)
    assert r.queue.tolist() == [105.0, 110.0, 115.0, 120.0]
    assert r.outflow.tolist() == [25.0] * 4 and r.unused_production.tolist() == [0.0] * 4


def test_project_queue_floors_at_zero_and_reports_unused():
    # opening 10, inflow 5/week, production 20/week: week 1 clears 15, 5 unused; then 5 per week
    r = project_queue(10, [5, 5, 5], 20)
    assert r.queue.tolist() == [0.0, 0.0, 0.0]
    assert r.outflow.tolist() == [15.0, 5.0, 5.0]
    assert r.unused_production.tolist() == [5.0, 15.0, 15.0]
    # external purchases come after in-house production
    r = project_queue(10, [5, 5], 12, external=[6, 6])
    assert r.outflow.tolist() == [12.0, 5.0] and r.external.tolist() == [3.0, 0.0]
    assert r.unused_external.tolist() == [3.0, 6.0] and r.queue.tolist() == [0.0, 0.0]
    # queue refills after running empty
    r = project_queue(0, [0, 10, 30], 20)
    assert r.queue.tolist() == [0.0, 0.0, 10.0]


def loop_reference(q0, inflow, production, external):
    """Week-by-week reference implementation of the recursion."""
    n, t = inflow.shape
    q = q0.astype(float).copy()
    queue, out, ext = np.zeros((n, t)), np.zeros((n, t)), np.zeros((n, t))
    for k in range(t):
        avail = q + inflow[:, k]
        out[:, k] = np.minimum(production[:, k], avail)
        ext[:, k] = np.minimum(external[:, k], avail - out[:, k])
        q = avail - out[:, k] - ext[:, k]
        queue[:, k] = q
    return queue, out, ext


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 6), st.integers(1, 30), st.data())
def test_project_queue_conserves_patients(n, t, data):
    values = st.floats(min_value=0, max_value=200, allow_nan=False)
    q0 = data.draw(hnp.arrays(float, n, elements=values))
    inflow = data.draw(hnp.arrays(float, (n, t), elements=values))
    production = data.draw(hnp.arrays(float, (n, t), elements=values))
    external = data.draw(hnp.arrays(float, (n, t), elements=st.floats(0, 50)))
    r = project_queue(q0, inflow, production, external)
    assert r.queue.shape == (n, t)
    closing = q0 + inflow.sum(axis=1) - r.outflow.sum(axis=1) - r.external.sum(axis=1)
    assert r.queue[:, -1] == pytest.approx(closing, abs=1e-6)
    assert (r.queue >= 0).all() and (r.unused_production >= -1e-9).all() and (r.unused_external >= -1e-9).all()
    assert (r.outflow <= production + 1e-9).all() and (r.external <= external + 1e-9).all()
    # equal to the week-by-week recursion, and to per-clinic calls
    queue, out, ext = loop_reference(q0, inflow, production, external)
    assert r.queue == pytest.approx(queue, abs=1e-6)
    assert r.outflow == pytest.approx(out, abs=1e-6) and r.external == pytest.approx(ext, abs=1e-6)
    for i in range(n):
        one = project_queue(q0[i], inflow[i], production[i], external[i])
        assert one.queue.shape == (t,)
        assert one.queue == pytest.approx(r.queue[i], abs=1e-9)
        assert one.unused_production == pytest.approx(r.unused_production[i], abs=1e-9)


def test_project_queue_labelled_input():
    periods = pd.period_range("2025-01-06", periods=3, freq="W-SUN")
    idx = pd.MultiIndex.from_product([["b", "a"], periods], names=["clinic", "period"])
    inflow = pd.Series([30.0, 30, 30, 5, 5, 5], index=idx)
    production = pd.Series([25.0, 25, 25, 20, 20, 20], index=idx)
    opening = pd.Series({"a": 10.0, "b": 100.0})
    out = project_queue(opening, inflow, production)
    assert list(out.columns) == ["clinic", "period", "opening", "inflow", "production", "outflow",
                                 "unused_production", "external", "external_outflow", "unused_external", "queue"]
    a = out[out.clinic == "a"]
    b = out[out.clinic == "b"]
    assert b["queue"].tolist() == [105.0, 110.0, 115.0] and b["opening"].tolist() == [100.0, 105.0, 110.0]
    assert a["queue"].tolist() == [0.0, 0.0, 0.0] and a["unused_production"].tolist() == [5.0, 15.0, 15.0]
    assert isinstance(out["period"].dtype, pd.PeriodDtype)
    # a wide frame (clinics x periods) gives the same
    wide = project_queue(opening, inflow.unstack(), 25.0)
    assert wide[wide.clinic == "b"]["queue"].tolist() == [105.0, 110.0, 115.0]
    with pytest.raises(ValueError, match="opening_queue"):
        project_queue(pd.Series({"a": 1.0}), inflow, production)
    with pytest.raises(ValueError, match="production"):
        project_queue(opening, inflow, production.iloc[:-1])


def test_project_queue_bad_input():
    with pytest.raises(ValueError, match="inflow"):
        project_queue(10, [5, -1], 3)
    with pytest.raises(ValueError, match="production"):
        project_queue(10, [5, 5], [3, np.nan])
    with pytest.raises(ValueError, match="opening_queue"):
        project_queue(-1, [5, 5], 3)
    with pytest.raises(ValueError, match="broadcast"):
        project_queue([1, 2, 3], np.ones((2, 4)), 1)
    with pytest.raises(ValueError, match="week axis"):
        project_queue(1, 2, 3)


# ----------------------------------------------------------------------------- project_chain
def test_chain_treatment_is_the_bottleneck():
    # first stage balanced: 30 referrals, 30 new visits per week; decision rate 0.4 -> 12
    # decisions per week; 9 operations per week: the treatment queue grows 3 per week
    c = project_chain(120, 40, np.full(8, 30.0), 30, 9, 0.4)
    nv = c[c.stage == "new_visit"]
    tr = c[c.stage == "treatment"]
    assert nv["queue"].tolist() == [120.0] * 8 and nv["load"].tolist() == [1.0] * 8
    assert tr["inflow"].to_numpy() == pytest.approx(12.0)
    assert tr["queue"].to_numpy() == pytest.approx(40 + 3 * np.arange(1, 9))
    assert tr["queue"].iloc[-1] - 40 == pytest.approx(8 * (30 * 0.4 - 9))  # 24 patients more
    assert tr["load"].to_numpy() == pytest.approx(12 / 9)
    assert set(c["bottleneck"]) == {"treatment"}


def test_chain_first_stage_bottleneck_starves_the_second():
    c = project_chain(50, 20, [40, 40], 30, 20, 0.5)
    assert c["bottleneck"].unique().tolist() == ["new_visit"]
    tr = c[c.stage == "treatment"]
    assert tr["inflow"].tolist() == [15.0, 15.0] and tr["unused_production"].tolist() == [0.0, 0.0]
    assert tr["queue"].tolist() == [15.0, 10.0]
    balanced = project_chain(50, 20, [30, 30], 30, 15, 0.5)
    assert balanced["bottleneck"].unique().tolist() == ["none"]


def test_chain_many_clinics_and_labels():
    periods = pd.period_range("2025-01-06", periods=4, freq="W-SUN")
    idx = pd.MultiIndex.from_product([["a", "b"], periods], names=["clinic", "period"])
    referrals = pd.Series(np.r_[np.full(4, 30.0), np.full(4, 50.0)], index=idx)
    rate = pd.Series({"a": 0.5, "b": 0.2})
    out = project_chain(pd.Series({"a": 100.0, "b": 10.0}), 50.0, referrals, 30.0, 10.0, rate,
                        external_operations=pd.Series(2.0, index=idx))
    assert len(out) == 2 * 4 * 2
    a_one = project_chain(100.0, 50.0, np.full(4, 30.0), 30.0, 10.0, 0.5, external_operations=2.0)
    got = out[out.clinic == "a"].drop(columns=["clinic", "period"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, a_one.drop(columns=["clinic", "period"]), check_dtype=False)
    b = out[out.clinic == "b"]
    assert b["bottleneck"].unique().tolist() == ["new_visit"]  # 50 referrals vs 30 visits
    assert b[b.stage == "new_visit"]["queue"].tolist() == [30.0, 50.0, 70.0, 90.0]


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 4), st.integers(1, 20), st.data())
def test_chain_conserves_patients(n, t, data):
    values = st.floats(min_value=0, max_value=100)
    arrs = [data.draw(hnp.arrays(float, (n, t), elements=values)) for _ in range(3)]
    rate = data.draw(hnp.arrays(float, n, elements=st.floats(0, 1)))
    c = project_chain(np.full(n, 20.0), np.full(n, 5.0), arrs[0], arrs[1], arrs[2], rate)
    for stage, q0 in (("new_visit", 20.0), ("treatment", 5.0)):
        s = c[c.stage == stage]
        last = s.groupby("clinic")["queue"].last().to_numpy()
        flows = s.groupby("clinic")[["inflow", "outflow", "external_outflow"]].sum()
        assert last == pytest.approx(q0 + flows["inflow"] - flows["outflow"] - flows["external_outflow"], abs=1e-6)
    first = c[c.stage == "new_visit"]["outflow"].to_numpy().reshape(n, t)
    second = c[c.stage == "treatment"]["inflow"].to_numpy().reshape(n, t)
    assert second == pytest.approx(first * rate[:, None])


# ----------------------------------------------------------------------------- months
def _conserving_weeks(n_weeks=60, seed=0):
    """Weekly frame of two clinics whose queues follow their flows exactly (residual 0)."""
    rng = np.random.default_rng(seed)
    p = pd.period_range("2024-01-01", periods=n_weeks, freq="W-SUN")
    parts = []
    for clinic in ("a", "b"):
        ref = rng.poisson(30, n_weeks).astype(float)
        fwd = rng.binomial(ref.astype(int), 0.1).astype(float)
        seen = rng.poisson(26, n_weeks).astype(float)
        queue = 200 + np.cumsum(ref - fwd - seen)
        parts.append(pd.DataFrame({"clinic": clinic, "period": p, "referrals_in": ref, "referrals_forwarded": fwd,
                                   "new_visits": seen, "queue_new_visit": queue}))
    return pd.concat(parts, ignore_index=True)


def test_flow_balance_conserves_patients_month_by_month():
    # weeks that conserve patients, summed to months (periods.to_monthly: flows split by
    # days and rounded to whole patients each, queues at the month's end): inflow - outflow
    # over each month = the change of the queue between month ends, up to the rounding of
    # the three flows (a month taken for 4 or 5 weeks would be off by a week's ~30)
    w = _conserving_weeks(seed=3)
    m = periods.to_monthly(w)
    fb = balance.flow_balance(m, window_weeks=4)
    nv = fb[fb["stage"] == "new_visit"]
    assert nv["residual"].dropna().abs().max() <= 2.0  # four roundings of at most half a patient
    # the 4-week window is one month, so the rolling net of a month is its own net
    assert nv["residual"].notna().sum() == 2 * (m["period"].nunique() - 1)
    assert np.allclose(nv["net_rolling"], nv["net"])
    # 13 weeks = 91 days = 3 months, never 13 months
    three = balance.flow_balance(m, window_weeks=13)
    a = three[(three["clinic"] == "a") & (three["stage"] == "new_visit")].reset_index(drop=True)
    assert a["net_rolling"].isna().tolist()[:3] == [True, True, False]
    assert a.loc[2, "net_rolling"] == pytest.approx(a.loc[0:2, "net"].mean())
    r = balance.conversion_rates(m)
    assert "months" in r.columns and "weeks" not in r.columns and (r["months"] == 12).all()


def _reference_naive_flows(weekly, stage="new_visit", horizon_weeks=12, trend_weeks=13):
    """The first implementation of naive_flows (pandas groupby on string keys), kept as the reference."""
    inflow, minus, own = (("referrals_in", ["referrals_forwarded", "removals_new_visit_other"], "new_visits")
                          if stage == "new_visit" else ("treatment_decisions", ["removals_treatment_other"],
                                                        "operations_elective"))
    frame = weekly.groupby(["clinic", "period"], observed=True, as_index=False).sum(numeric_only=True, min_count=1)
    net = frame[inflow].fillna(0.0)
    for col in minus:
        if col in frame.columns:
            net = net - frame[col].fillna(0.0)
    frame = frame.assign(_in=net.clip(lower=0.0), _cap=frame[own].fillna(0.0)).sort_values(["clinic", "period"])
    g = frame.groupby("clinic")
    n, pos = g["period"].transform("size"), g.cumcount()
    last = n - 1
    short = n < 52 + trend_weeks
    frame, pos, last = frame[~short], pos[~short], last[~short]
    sums = frame.assign(_r=pos > last - trend_weeks, _y=(pos > last - trend_weeks - 52) & (pos <= last - 52))
    r_in = sums[sums["_r"]].groupby("clinic")[["_in", "_cap"]].sum()
    y_in = sums[sums["_y"]].groupby("clinic")[["_in", "_cap"]].sum()
    ratio = (r_in / y_in.where(y_in > 0)).fillna(1.0)
    out = []
    for k in range(1, horizon_weeks + 1):
        src = sums[pos == last - 52 + k]
        out.append(pd.DataFrame({"clinic": src["clinic"].to_numpy(), "week_ahead": k,
                                 "period": (src["period"] + 52).to_numpy(),
                                 "inflow": src["_in"].to_numpy() * ratio.loc[src["clinic"], "_in"].to_numpy(),
                                 "capacity": src["_cap"].to_numpy() * ratio.loc[src["clinic"], "_cap"].to_numpy()}))
    result = pd.concat(out, ignore_index=True).assign(stage=stage)
    return result[["clinic", "stage", "week_ahead", "period", "inflow", "capacity"]].sort_values(
        ["clinic", "week_ahead"]).reset_index(drop=True)


@pytest.mark.parametrize("case", range(6))
def test_naive_flows_equals_the_pandas_reference_to_the_bit(case):
    # the array version gives the rows and numbers of the groupby version it replaced
    rng = np.random.default_rng(case)
    n_c, n_w = int(rng.integers(1, 8)), int(rng.integers(66, 120))
    p = pd.period_range("2023-01-02", periods=n_w, freq="W-SUN")
    f = pd.DataFrame({"clinic": np.repeat([f"c{i}" for i in rng.permutation(n_c)], n_w), "period": np.tile(p, n_c)})
    for col in ("referrals_in", "new_visits", "treatment_decisions", "operations_elective"):
        f[col] = rng.poisson(25, len(f)) * rng.uniform(0.5, 1.5)
    f["referrals_forwarded"] = rng.poisson(2, len(f)).astype(float)
    f = f.sample(frac=0.97 if case % 2 else 1.0, random_state=case)
    if case % 3 == 1:
        f = pd.concat([f.assign(group="x"), f.assign(group="y", referrals_in=f["referrals_in"] / 3)])
    for stage in ("new_visit", "treatment"):
        for horizon in (1, 12, 52):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                expected = _reference_naive_flows(f, stage, horizon)
                got = naive_flows(f, stage=stage, horizon_weeks=horizon)
            # to the bit on pandas 2 (whose grouped sums are Kahan-compensated, as cumsum_rows);
            # pandas 3 sums groups otherwise, which moves the last bit of a ratio
            exact = pd.__version__.startswith("2.")
            pd.testing.assert_frame_equal(got, expected, check_exact=exact, rtol=1e-12, check_dtype=False)


def test_naive_flows_on_months_by_hand():
    # two years of months, 10 referrals a month the first year and 12 the second, 20 the
    # last three: trend 3 months (13 weeks) = 60 / 30 = 2; 12 weeks ahead = 3 months, each
    # the same month a year earlier (January-March 2024: 12) times 2 = 24; the months
    # keep their days
    p = pd.period_range("2023-01", periods=24, freq="M")
    m = pd.DataFrame({"clinic": "a", "period": p, "referrals_in": np.r_[[10.0] * 12, [12.0] * 9, [20.0] * 3],
                      "new_visits": 8.0})
    f = naive_flows(m, horizon_weeks=12, trend_weeks=13)
    assert f["period_ahead"].tolist() == [1, 2, 3] and "week_ahead" not in f.columns
    assert f["period"].astype(str).tolist() == ["2025-01", "2025-02", "2025-03"]
    assert f["period_days"].tolist() == [31, 28, 31]
    assert np.allclose(f["inflow"], 24.0) and np.allclose(f["capacity"], 8.0)
    # a year of months is too short for the same month a year earlier plus the trend
    with pytest.warns(UserWarning, match="under 15 months"):
        assert naive_flows(m.iloc[:14]).empty
