"""Tests for kps_analysis.queue: NHSRwaitinglist formulas, köproduktionskvot, guarantee link.

Literal values marked "NHSRwaitinglist" are the R package's own expectations
(nhs-r-community/NHSRwaitinglist, tests/testthat/test-calc_*.R and the vignette
"Walkthrough of waiting list functions"); the others are hand calculations written out.
"""

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kps_analysis import queue as q

pos = st.floats(min_value=0.01, max_value=1e5, allow_nan=False, allow_infinity=False)
nonneg = st.floats(min_value=0.0, max_value=1e5, allow_nan=False, allow_infinity=False)


# ----------------------------------------------------------------------------- queue_load
def test_queue_load_hand_and_nhsr():
    assert q.queue_load(30, 27) == pytest.approx(30 / 27)
    assert q.queue_load(30, 27) == pytest.approx(1.11111111)  # NHSRwaitinglist
    np.testing.assert_allclose(q.queue_load(np.array([35, 30, 52]), np.array([27, 25, 42])),
                               [1.2962963, 1.2, 1.23809524], rtol=1e-7)  # NHSRwaitinglist


def test_queue_load_zero_capacity_warns_inf():
    with pytest.warns(UserWarning, match="capacity"):
        assert q.queue_load(5, 0) == math.inf


# ----------------------------------------------------------------------------- target_mean_wait
def test_target_mean_wait():
    assert q.target_mean_wait(52) == 13.0  # 52 / 4
    assert q.target_mean_wait(52, 6) == pytest.approx(8.6666667)  # NHSRwaitinglist
    np.testing.assert_allclose(q.target_mean_wait(np.array([35, 30, 52]), np.array([4, 4, 6])),
                               [8.75, 7.5, 8.6666667], rtol=1e-7)  # NHSRwaitinglist


# ----------------------------------------------------------------------------- target_queue_size
def test_target_queue_size():
    assert q.target_queue_size(30, 52) == 390.0  # 30 * 52 / 4
    assert q.target_queue_size(30, 50) == 375.0  # 30 * 50 / 4
    assert q.target_queue_size(30, 50, 6) == pytest.approx(250.0)  # 30 * 50 / 6
    np.testing.assert_allclose(q.target_queue_size([30, 30, 30], [52, 50, 50], [4, 4, 6]),
                               [390, 375, 250])  # NHSRwaitinglist


# ----------------------------------------------------------------------------- target_capacity
def test_target_capacity():
    # 30 + ((1.1^2 + 1.2^2) / 2) * (3 / 52) = 30 + 1.325 * 0.0576923 = 30.076442
    assert q.target_capacity(30, 52, 3, 1.1, 1.2) == pytest.approx(30 + ((1.1**2 + 1.2**2) / 2) * (3 / 52))
    assert q.target_capacity(30, 52, 3, 1.1, 1.2) == pytest.approx(30.076442, abs=1e-6)  # NHSRwaitinglist
    # defaults cv = 1, factor 4: 30 + (1 + 1) / 2 * 4 / 52 = 30.076923
    assert q.target_capacity(30, 52) == pytest.approx(30 + 4 / 52)
    np.testing.assert_allclose(
        q.target_capacity([30, 42, 35], [52, 65, 50], [3, 2, 1], [1.1, 1.2, 1.3], [1.4, 1.5, 1.6]),
        [30.0914423, 42.0567692, 35.0425], rtol=1e-8)  # NHSRwaitinglist (vector test, commented out in R)


# ----------------------------------------------------------------------------- relief_capacity
def test_relief_capacity_vignette():
    # The vignette: 30 + (1200 - 390) / 26 = 30 + 31.1538 = 61.15 patients/week
    assert q.relief_capacity(30, 1200, 390, 26) == pytest.approx(30 + (1200 - 390) / 26)
    assert round(q.relief_capacity(30, 1200, 390, 26), 2) == 61.15
    assert q.relief_capacity(30, 1200, 390) == pytest.approx(61.153846)  # default 26 weeks
    np.testing.assert_allclose(q.relief_capacity([30, 33, 35], [1200, 800, 250], [390, 200, 100], [26, 30, 15]),
                               [61.153846, 53, 45], rtol=1e-7)  # NHSRwaitinglist


def test_relief_capacity_referral_adjustment():
    # e = 2 * 30 * 0.1 / sqrt(100) = 0.6 < 1, demand 30 / 0.4 = 75; 75 + 810 / 26 = 106.1538
    assert q.relief_capacity(30, 1200, 390, 26, num_referrals=100, cv_demand=0.1) == pytest.approx(75 + 810 / 26)
    # e = 2 * 30 * 1 / 10 = 6 >= 1: no adjustment
    assert q.relief_capacity(30, 1200, 390, 26, num_referrals=100, cv_demand=1) == pytest.approx(30 + 810 / 26)
    # element-wise: only the first element is adjusted
    out = q.relief_capacity(np.array([30.0, 30.0]), 1200, 390, 26, num_referrals=np.array([100, 0]), cv_demand=0.1)
    np.testing.assert_allclose(out, [75 + 810 / 26, 30 + 810 / 26])


# ----------------------------------------------------------------------------- waiting_list_pressure
def test_waiting_list_pressure():
    assert q.waiting_list_pressure(63, 52) == pytest.approx(2 * 63 / 52)
    assert q.waiting_list_pressure(63, 52) == pytest.approx(2.42307692)  # NHSRwaitinglist
    np.testing.assert_allclose(q.waiting_list_pressure([63, 42, 55], [52, 24, 50]),
                               [2.42307692, 3.5, 2.2], rtol=1e-8)  # NHSRwaitinglist


# ----------------------------------------------------------------------------- shapes
ELEMENTWISE = [
    (q.queue_load, 2),
    (q.target_mean_wait, 1),
    (q.target_queue_size, 2),
    (q.target_capacity, 2),
    (q.relief_capacity, 4),
    (q.waiting_list_pressure, 2),
    (q.queue_production_ratio, 2),
    (q.mean_wait_for_share_within, 1),
    (q.queue_for_share_within, 2),
]


def _args(func, n, kind):
    base = [30.0, 52.0, 40.0, 26.0]
    if func is q.mean_wait_for_share_within:
        vals = [90.0]
        extra = [0.98]
    elif func is q.queue_for_share_within:
        vals = [70.0, 90.0]
        extra = [0.98]
    else:
        vals, extra = base[:n], []
    if kind == "scalar":
        return vals + extra
    if kind == "array":
        return [np.array([v, v * 2, v * 3]) for v in vals] + extra
    idx = pd.Index(["ort", "ogon", "kir"], name="clinic")
    return [pd.Series([v, v * 2, v * 3], index=idx) for v in vals] + extra


@pytest.mark.parametrize("func, n", ELEMENTWISE)
def test_shapes_preserved(func, n):
    scalar = func(*_args(func, n, "scalar"))
    assert isinstance(scalar, float)
    arr = func(*_args(func, n, "array"))
    assert isinstance(arr, np.ndarray) and arr.shape == (3,)
    ser = func(*_args(func, n, "series"))
    assert isinstance(ser, pd.Series) and list(ser.index) == ["ort", "ogon", "kir"]
    assert ser.index.name == "clinic"
    np.testing.assert_allclose(ser.to_numpy(), arr)
    assert arr[0] == pytest.approx(scalar)


def test_two_dimensional_array_shape():
    out = q.queue_load(np.full((2, 3), 30.0), 27)
    assert out.shape == (2, 3)


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("call, name", [
    (lambda: q.queue_load(-1, 27), "demand"),
    (lambda: q.queue_load(30, -27), "capacity"),
    (lambda: q.queue_load("30", 27), "demand"),
    (lambda: q.queue_load(30, True), "capacity"),
    (lambda: q.target_mean_wait(0), "target_wait"),
    (lambda: q.target_mean_wait(-52), "target_wait"),
    (lambda: q.target_mean_wait(52, 0), "factor"),
    (lambda: q.target_mean_wait("x", 4), "target_wait"),
    (lambda: q.target_queue_size(-30, 52), "demand"),
    (lambda: q.target_queue_size(30, 0), "target_wait"),
    (lambda: q.target_queue_size(30, 52, "x"), "factor"),
    (lambda: q.target_capacity(30, 0), "target_wait"),
    (lambda: q.target_capacity(30, 52, 4, -1, 1), "cv_demand"),
    (lambda: q.target_capacity(30, 52, 4, 1, -1), "cv_capacity"),
    (lambda: q.target_capacity(np.array([30, -1]), 52), "demand"),
    (lambda: q.relief_capacity(30, -1, 390, 26), "queue_size"),
    (lambda: q.relief_capacity(30, 1200, -390, 26), "target_queue_size"),
    (lambda: q.relief_capacity(30, 1200, 390, 0), "time_to_target"),
    (lambda: q.relief_capacity(30, 1200, 390, 26, num_referrals=-5), "num_referrals"),
    (lambda: q.waiting_list_pressure(-63, 52), "mean_wait"),
    (lambda: q.waiting_list_pressure(63, 0), "target_wait"),
    (lambda: q.queue_production_ratio(-1, 5), "queue"),
    (lambda: q.queue_production_ratio(1, -5), "production"),
    (lambda: q.mean_wait_for_share_within(0, 0.98), "guarantee_days"),
    (lambda: q.mean_wait_for_share_within(90, 1.0), "share"),
    (lambda: q.mean_wait_for_share_within(90, 0.0), "share"),
    (lambda: q.queue_for_share_within(-70, 90, 0.98), "demand_per_week"),
    (lambda: q.queue_load(pd.Series(["a", "b"]), 1), "demand"),
])
def test_bad_input_names_argument(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def test_nan_passes_through():
    out = q.target_queue_size(np.array([30.0, np.nan]), 52)
    assert out[0] == 390.0 and np.isnan(out[1])


# ----------------------------------------------------------------------------- köproduktionskvot
def test_queue_production_ratio_elementwise():
    assert q.queue_production_ratio(420, 60) == 7.0  # 420 / 60
    with pytest.warns(UserWarning, match="production is 0"):
        out = q.queue_production_ratio(pd.Series([100.0, 50.0], index=["a", "b"]),
                                       pd.Series([0.0, 25.0], index=["a", "b"]))
    assert np.isnan(out["a"]) and out["b"] == 2.0
    with pytest.warns(UserWarning):
        assert math.isnan(q.queue_production_ratio(10, 0))


def _weekly(n=6, clinics=("a", "b")):
    periods = pd.period_range("2024-01-01", periods=n, freq="W-SUN")
    rows = []
    for k, c in enumerate(clinics):
        for i, p in enumerate(periods):
            rows.append({"clinic": c, "period": p, "queue_new_visit": 100.0 * (k + 1) + 10 * i,
                         "new_visits": 20.0 + i, "purchased_new_visits": 5.0 * k})
    return pd.DataFrame(rows)


def test_frame_ratio_many_clinics_by_hand():
    w = _weekly()
    # shuffle rows: the function sorts by clinic and period itself
    out = q.queue_production_ratio_frame(w.sample(frac=1, random_state=1), window_weeks=3)
    assert list(out.columns) == ["clinic", "period", "queue", "production_per_week", "queue_production_ratio_weeks"]
    a = out[out.clinic == "a"].reset_index(drop=True)
    b = out[out.clinic == "b"].reset_index(drop=True)
    assert a["queue_production_ratio_weeks"].iloc[:2].isna().all()
    # clinic a, week 3 (i=2): queue 120, production 20, 21, 22 -> mean 21 -> 120 / 21
    assert a.loc[2, "queue_production_ratio_weeks"] == pytest.approx(120 / 21)
    # clinic b, week 6 (i=5): queue 250, production (23+5, 24+5, 25+5) -> mean 29 -> 250 / 29
    assert b.loc[5, "production_per_week"] == pytest.approx(29)
    assert b.loc[5, "queue_production_ratio_weeks"] == pytest.approx(250 / 29)


def test_frame_ratio_per_month_and_monthly_frame():
    w = _weekly(clinics=("a",))
    weeks = q.queue_production_ratio_frame(w, window_weeks=3)
    months = q.queue_production_ratio_frame(w, window_weeks=3, per="month")
    # by days: a mean month is 365.25 / 12 = 30.4375 days = 4.348 weeks
    np.testing.assert_allclose(months["queue_production_ratio_months"],
                               weeks["queue_production_ratio_weeks"] / (30.4375 / 7))
    np.testing.assert_allclose(months["production_per_month"], weeks["production_per_week"] * 30.4375 / 7)
    # a monthly frame: 4 weeks = 28 days -> a 1-month window; the month's köproduktionskvot
    # is the month's queue over the month's production: 520 / 100 = 5.2 months
    m = pd.DataFrame({"clinic": "a", "period": pd.period_range("2024-01", periods=2, freq="M"),
                      "queue_new_visit": [500.0, 520.0], "new_visits": [100.0, 100.0]})
    with pytest.warns(UserWarning, match="purchased_new_visits"):
        mm = q.queue_production_ratio_frame(m, per="month")
    assert mm["queue_production_ratio_months"].tolist() == [5.0, 5.2]
    with pytest.warns(UserWarning):
        mw = q.queue_production_ratio_frame(m, per="week")
    # in weeks, by days: January's 100 in 31 days = 22.58 a week, February's 100 in 29 days
    # (2024) = 24.14 a week: 500 / (100 / 31 * 7) and 520 / (100 / 29 * 7) weeks
    assert mw["production_per_week"].tolist() == pytest.approx([100 / 31 * 7, 100 / 29 * 7])
    assert mw["queue_production_ratio_weeks"].tolist() == pytest.approx([500 / (100 / 31 * 7),
                                                                          520 / (100 / 29 * 7)])
    # a 13-week window is 3 months (91 days), never 13 months
    m3 = pd.DataFrame({"clinic": "a", "period": pd.period_range("2024-01", periods=4, freq="M"),
                       "queue_new_visit": 300.0, "new_visits": [90.0, 120.0, 150.0, 60.0],
                       "purchased_new_visits": 0.0})
    r3 = q.queue_production_ratio_frame(m3, window_weeks=13, per="month")
    assert r3["queue_production_ratio_months"].isna().tolist() == [True, True, False, False]
    assert r3["queue_production_ratio_months"].iloc[2] == pytest.approx(300 / 120)  # mean(90, 120, 150)
    assert r3["queue_production_ratio_months"].iloc[3] == pytest.approx(300 / 110)  # mean(120, 150, 60)


def test_frame_ratio_groups_and_treatment_queue():
    w = _weekly(n=4, clinics=("a",))
    w = pd.concat([w.assign(group="x"), w.assign(group="y", new_visits=10.0)], ignore_index=True)
    w["queue_treatment"] = 40.0
    w["operations_elective"] = 8.0
    w["purchased_operations"] = np.nan  # not reported: counts as 0 beside the reported column
    out = q.queue_production_ratio_frame(w, queue="queue_treatment",
                                         production=("operations_elective", "purchased_operations"), window_weeks=2)
    assert list(out.columns[:3]) == ["clinic", "group", "period"]
    assert len(out) == 8
    assert out["queue_production_ratio_weeks"].dropna().eq(5.0).all()  # 40 / 8


def test_frame_ratio_zero_production_and_errors():
    w = _weekly(n=4, clinics=("a",))
    w["new_visits"] = 0.0
    w["purchased_new_visits"] = 0.0
    with pytest.warns(UserWarning, match="production is 0"):
        out = q.queue_production_ratio_frame(w, window_weeks=2)
    assert out["queue_production_ratio_weeks"].isna().all()
    assert not np.isinf(out["queue_production_ratio_weeks"]).any()
    with pytest.raises(ValueError, match="per"):
        q.queue_production_ratio_frame(_weekly(), per="day")
    with pytest.raises(ValueError, match="queue"):
        q.queue_production_ratio_frame(_weekly(), queue="queue_treatment")
    with pytest.raises(ValueError, match="production"):
        q.queue_production_ratio_frame(_weekly(), production=("operations_elective",))
    with pytest.raises(ValueError, match="window_weeks"):
        q.queue_production_ratio_frame(_weekly(), window_weeks=0)


def test_frame_ratio_warns_on_gaps():
    w = _weekly(n=6, clinics=("a",)).drop(index=2)
    with pytest.warns(UserWarning, match="gaps"):
        q.queue_production_ratio_frame(w)


# ----------------------------------------------------------------------------- guarantee link
def test_mean_wait_for_share_within_by_hand():
    # -ln(1 - 0.98) = -ln(0.02) = 3.912023; 90 / 3.912023 = 23.0060 days
    assert q.mean_wait_for_share_within(90, 0.98) == pytest.approx(90 / 3.912023005428146)
    assert round(q.mean_wait_for_share_within(90, 0.98), 3) == 23.006
    # factor 4 of NHSRwaitinglist <-> share 1 - e^-4 = 0.98168
    assert q.mean_wait_for_share_within(52, 1 - math.exp(-4)) == pytest.approx(q.target_mean_wait(52, 4))


def test_queue_for_share_within_by_hand():
    # 70 / 7 = 10 patients/day; 10 * 23.006 = 230.06 patients
    assert q.queue_for_share_within(70, 90, 0.98) == pytest.approx(10 * 90 / 3.912023005428146)


# ----------------------------------------------------------------------------- properties
@settings(max_examples=100, deadline=None)
@given(demand=pos, target_wait=pos, factor=st.floats(min_value=0.5, max_value=10))
def test_property_little_law_round_trip(demand, target_wait, factor):
    size = q.target_queue_size(demand, target_wait, factor)
    assert size * factor / demand == pytest.approx(target_wait, rel=1e-9)


@settings(max_examples=100, deadline=None)
@given(demand=nonneg, queue=nonneg, time=pos)
def test_property_relief_equals_demand_at_target(demand, queue, time):
    assert q.relief_capacity(demand, queue, queue, time) == pytest.approx(demand)


@settings(max_examples=100, deadline=None)
@given(demand=nonneg, target_wait=pos, factor=st.floats(min_value=0.5, max_value=10),
       cvd=st.floats(min_value=0, max_value=3), cvc=st.floats(min_value=0, max_value=3))
def test_property_target_capacity_at_least_demand(demand, target_wait, factor, cvd, cvc):
    assert q.target_capacity(demand, target_wait, factor, cvd, cvc) >= demand


@settings(max_examples=100, deadline=None)
@given(limit=pos, share=st.floats(min_value=0.01, max_value=0.999))
def test_property_exponential_share_round_trip(limit, share):
    mean = q.mean_wait_for_share_within(limit, share)
    assert 1 - math.exp(-limit / mean) == pytest.approx(share, rel=1e-9)


def test_no_warnings_in_ordinary_use():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        q.queue_production_ratio_frame(_weekly())
        q.relief_capacity(30, 1200, 390)
