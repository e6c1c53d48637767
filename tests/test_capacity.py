"""Tests for kps_analysis.capacity: capacity from resources and calendar, capacity need, gap."""

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kps_analysis import calendar as cal
from kps_analysis import capacity as cp
from kps_analysis.parameters import list_clinics, load_parameters
from kps_analysis.queue import queue_for_share_within

PARAMETERS = Path(__file__).resolve().parents[1] / "parameters"


def week(iso_year, iso_week):
    return cal.period_from_iso(iso_year, iso_week)


def resources(**over):
    base = {"clinic": ["a"], "new_visit_slots_per_week": [50.0], "return_visit_slots_per_week": [80.0],
            "theatre_sessions_per_week": [9.0], "operations_per_session": [2.5], "no_show_rate": [0.04]}
    base.update({k: [v] for k, v in over.items()})
    return pd.DataFrame(base)


# ----------------------------------------------------------------------------- resources_frame
@pytest.fixture(scope="module")
def params():
    return [load_parameters(c, PARAMETERS) for c in list_clinics(PARAMETERS)]


def test_resources_frame_from_the_parameter_files(params):
    res, closures = cp.resources_frame(params)
    assert res["clinic"].tolist() == ["gyn", "hud", "kir", "ogon", "onh", "ort_nord", "ort_syd", "uro"]
    row = res.set_index("clinic").loc["ort_nord"]
    assert row["region_pool"] == "ortopedi" and row["theatre_sessions_per_week"] == 9.0
    assert row["minutes_per_operation"] == 110.0 and row["doctors_fte"] == 14.0
    assert pd.isna(res.set_index("clinic").loc["hud", "operations_per_session"])
    assert pd.isna(res.set_index("clinic").loc["uro", "region_pool"])
    nord = closures[closures["clinic"] == "ort_nord"]
    assert len(nord) == 3 and nord["capacity_share"].tolist() == [0.4, 0.6, 0.4]
    assert nord["start"].iloc[0] == pd.Timestamp("2026-06-29") and nord["end"].iloc[0] == pd.Timestamp("2026-08-09")


def test_resources_frame_needs_an_id_and_resources():
    with pytest.raises(ValueError, match="params_list"):
        cp.resources_frame([{"resources": {}}])
    with pytest.raises(ValueError, match="resources"):
        cp.resources_frame([{"clinic": "a"}])


# ----------------------------------------------------------------------------- capacity_from_resources
def test_normal_holiday_and_closure_weeks_by_hand(params):
    # ort_nord: 63 new-visit slots, 4 % no-shows -> 60.48 a normal week; 9 sessions x 2.5 = 22.5 operations.
    # Christmas closure 2026-12-21..2027-01-06 at 60 %:
    #   2026-W52 (21-27 Dec): 24, 25, 26 Dec off -> 3 working days, all closed: 60.48 * 3/5 * 0.6 = 21.7728
    #   2026-W53 (28 Dec-3 Jan): 31 Dec, 1 Jan off -> 3 working days, closed: 21.7728
    #   2027-W01 (4-10 Jan): 6 Jan off -> 4 working days, 4 and 5 Jan closed, 7 and 8 open:
    #        share (0.6 + 0.6 + 1 + 1) / 4 = 0.8 -> 60.48 * 4/5 * 0.8 = 38.7072
    # summer 2026-W28 at 40 %: 60.48 * 0.4 = 24.192 new visits, 22.5 * 0.4 = 9 operations
    frames = cp.resources_frame([p for p in params if p.clinic_id == "ort_nord"])
    weeks = pd.PeriodIndex([week(2026, 27), week(2026, 28), week(2026, 47), week(2026, 52), week(2026, 53),
                            week(2027, 1)])
    cap = cp.capacity_from_resources(frames, weeks)
    assert cap["working_days"].tolist() == [5, 5, 5, 3, 3, 4]
    np.testing.assert_allclose(cap["capacity_share"], [0.4, 0.4, 1.0, 0.6, 0.6, 0.8])
    np.testing.assert_allclose(cap["new_visit_capacity"], [24.192, 24.192, 60.48, 21.7728, 21.7728, 38.7072])
    np.testing.assert_allclose(cap["return_visit_capacity"],
                               np.array([24.192, 24.192, 60.48, 21.7728, 21.7728, 38.7072]) * 80 / 63)
    np.testing.assert_allclose(cap["operation_capacity"], [9.0, 9.0, 22.5, 8.1, 8.1, 14.4])
    assert set(cap["binding"]) == {"theatre"}


def test_capacity_from_resources_follows_the_clinics_calendar():
    """Working days are the clinic's country's (2027, by hand): a Scottish clinic works Swedish
    Midsummer Eve (25 Jun) and Easter Monday (29 Mar, no Scottish bank holiday) but not the
    Spring bank holiday (31 May) or St Andrew's Day (30 Nov); Norway closes Maundy Thursday
    (25 Mar) besides Good Friday, and 17 May. It was planned on Swedish holidays whatever
    its country."""
    weeks = pd.PeriodIndex([week(2027, 13), week(2027, 12), week(2027, 20), week(2027, 22), week(2027, 25),
                            week(2027, 48)])
    days = {c: cp.capacity_from_resources(resources(), weeks, country=c)["working_days"].tolist()
            for c in ("SE", "GB-SCT", "NO")}
    assert days["SE"] == [4, 4, 5, 5, 4, 5]         # Easter Monday; Good Friday; -; -; Midsummer Eve; -
    assert days["GB-SCT"] == [5, 4, 5, 4, 5, 4]     # -; Good Friday; -; Spring bank holiday; -; St Andrew's
    assert days["NO"] == [4, 3, 4, 5, 5, 5]         # Easter Monday; Maundy Thursday, Good Friday; 17 May
    cap = cp.capacity_from_resources(resources(), weeks, country="GB-SCT")
    np.testing.assert_allclose(cap["new_visit_capacity"], 48 * np.array(days["GB-SCT"]) / 5)


def test_a_week_partly_closed_gets_the_working_day_weighted_share():
    # closed (share 0) Wednesday to Sunday of 2024-W12: 2 of 5 working days open -> 40 %
    closures = pd.DataFrame({"clinic": ["a"], "start": [pd.Timestamp("2024-03-20")],
                             "end": [pd.Timestamp("2024-03-24")], "capacity_share": [0.0]})
    cap = cp.capacity_from_resources(resources(), pd.PeriodIndex([week(2024, 12), week(2024, 13)]),
                                     closures=closures)
    np.testing.assert_allclose(cap["capacity_share"], [0.4, 1.0])
    np.testing.assert_allclose(cap["new_visit_capacity"], [48 * 0.4, 48 * 4 / 5])


def test_overlapping_closures_keep_the_lower_share():
    closures = pd.DataFrame({"clinic": "a", "start": pd.to_datetime(["2024-03-18", "2024-03-20"]),
                             "end": pd.to_datetime(["2024-03-22", "2024-03-22"]), "capacity_share": [0.5, 0.0]})
    cap = cp.capacity_from_resources(resources(), pd.PeriodIndex([week(2024, 12)]), closures=closures)
    assert cap["capacity_share"].item() == pytest.approx((0.5 + 0.5) / 5)


def test_staff_minutes_bind_when_the_doctors_time_is_short():
    # 14 FTE * 40 h * 60 min * 0.1 = 3360 minutes; visits 50*30 + 80*20 = 3100 -> 260 / 110 = 2.3636 operations
    r = resources(minutes_per_operation=110.0, minutes_per_new_visit=30.0, minutes_per_return_visit=20.0,
                  doctors_fte=14.0)
    cap = cp.capacity_from_resources(r, pd.PeriodIndex([week(2024, 12)]), elective_share_of_fte=0.1)
    assert cap["binding"].item() == "staff"
    assert cap["operation_capacity"].item() == pytest.approx(260 / 110)
    assert cap["operation_capacity_theatre"].item() == pytest.approx(22.5)
    default = cp.capacity_from_resources(r, pd.PeriodIndex([week(2024, 12)]))  # 40 %: 13440 minutes
    assert default["binding"].item() == "theatre"
    assert default["operation_capacity_staff"].item() == pytest.approx((13440 - 3100) / 110)


def test_clinic_without_theatre_and_monthly_periods():
    r = resources(theatre_sessions_per_week=0.0, operations_per_session=np.nan)
    months = pd.period_range("2024-12", periods=1, freq="M")  # 18 working days
    cap = cp.capacity_from_resources(r, months)
    assert cap["binding"].item() == "none" and cap["operation_capacity"].item() == 0.0
    assert cap["new_visit_capacity"].item() == pytest.approx(48 * 18 / 5)
    assert cp.capacity_by_stage(cap)["stage"].tolist() == ["new_visit"]


def test_many_clinics_at_once_equal_one_by_one():
    r = pd.concat([resources(), resources(new_visit_slots_per_week=70.0, no_show_rate=0.1).assign(clinic="b")],
                  ignore_index=True)
    closures = pd.DataFrame({"clinic": ["b"], "start": [pd.Timestamp("2024-07-01")],
                             "end": [pd.Timestamp("2024-08-04")], "capacity_share": [0.5]})
    weeks = cal.iso_week_periods("2024-06-17", "2024-08-18")
    together = cp.capacity_from_resources(r, weeks, closures=closures)
    for clinic in ("a", "b"):
        alone = cp.capacity_from_resources(r[r["clinic"] == clinic], weeks, closures=closures)
        pd.testing.assert_frame_equal(together[together["clinic"] == clinic].reset_index(drop=True), alone)
    b = together[together["clinic"] == "b"]
    assert b["new_visit_capacity"].min() == pytest.approx(70 * 0.9 * 0.5)


@pytest.mark.parametrize("change, name", [
    ({"no_show_rate": 1.0}, "no_show_rate"),
    ({"new_visit_slots_per_week": -1.0}, "new_visit_slots_per_week"),
    ({"operations_per_session": np.nan}, "operations_per_session"),
])
def test_impossible_resources_raise_naming_the_key(change, name):
    with pytest.raises(ValueError, match=name):
        cp.capacity_from_resources(resources(**change), pd.PeriodIndex([week(2024, 12)]))


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="theatre_sessions_per_week"):
        cp.capacity_from_resources(resources().drop(columns="theatre_sessions_per_week"), [week(2024, 12)])
    with pytest.raises(ValueError, match="periods"):
        cp.capacity_from_resources(resources(), ["not a period"])
    bad = pd.DataFrame({"clinic": ["a"], "start": [pd.Timestamp("2024-03-18")], "end": [pd.Timestamp("2024-03-19")],
                        "capacity_share": [1.5]})
    with pytest.raises(ValueError, match="capacity_share"):
        cp.capacity_from_resources(resources(), [week(2024, 12)], closures=bad)
    with pytest.raises(ValueError, match="elective_share_of_fte"):
        cp.capacity_from_resources(resources(), [week(2024, 12)], elective_share_of_fte=2)


@settings(max_examples=30, deadline=None)
@given(st.floats(0, 500), st.floats(0, 0.9), st.floats(0, 1))
def test_capacity_scales_with_slots_and_never_exceeds_a_normal_week(slots, no_show, share):
    weeks = cal.iso_week_periods("2024-03-11", "2024-04-07")
    closures = pd.DataFrame({"clinic": ["a"], "start": [pd.Timestamp("2024-03-20")],
                             "end": [pd.Timestamp("2024-03-28")], "capacity_share": [share]})
    cap = cp.capacity_from_resources(resources(new_visit_slots_per_week=slots, no_show_rate=no_show), weeks,
                                     closures=closures)
    normal = slots * (1 - no_show)
    assert (cap["new_visit_capacity"] <= normal + 1e-9).all() and (cap["new_visit_capacity"] >= 0).all()
    assert cap["capacity_share"].between(0, 1).all()
    np.testing.assert_allclose(cap["new_visit_capacity"],
                               normal * cap["working_days"] / 5 * cap["capacity_share"], atol=1e-9)


# ----------------------------------------------------------------------------- capacity_need
def flows(n=6, inflow=100.0):
    return pd.DataFrame({"clinic": "a", "week_ahead": np.arange(1, n + 1), "inflow": inflow})


def test_need_clears_the_backlog_then_holds_the_target():
    # 100 + (500 - 300) / 4 = 150 for 4 weeks, then 100
    need = cp.capacity_need(flows(), 500, target_queue=300, clear_by=4)
    assert need["need"].tolist() == [150.0] * 4 + [100.0] * 2
    assert need["backlog"].iloc[0] == 200 and need["stage"].iloc[0] == "new_visit"


def test_need_below_target_is_the_inflow():
    need = cp.capacity_need(flows(), 100, target_queue=300, clear_by=4)
    assert need["need"].tolist() == [100.0] * 6 and need["backlog"].iloc[0] == 0


def test_need_band_from_forecast_bounds_and_default_target():
    periods = pd.period_range("2026-11-23", periods=4, freq="W-SUN")
    fc = pd.DataFrame({"clinic": "a", "period": periods, "mean": 70.0, "lo_80": 60.0, "hi_80": 85.0,
                       "lo_95": 50.0, "hi_95": 95.0})
    need = cp.capacity_need(fc, 600, clear_by=periods[1].end_time, guarantee_days=90,
                            target_share_within_guarantee=0.95)
    target = queue_for_share_within(70.0, 90, 0.95)  # 70/7 * 90/-ln(0.05) = 300.42
    assert need["target_queue"].iloc[0] == pytest.approx(target)
    assert need["weeks_to_clear"].iloc[0] == 2
    relief = (600 - target) / 2
    np.testing.assert_allclose(need["need"], [70 + relief] * 2 + [70.0] * 2)
    np.testing.assert_allclose(need["need_lo"], [60 + relief] * 2 + [60.0] * 2)
    np.testing.assert_allclose(need["need_hi"], [85 + relief] * 2 + [85.0] * 2)
    wide = cp.capacity_need(fc, 600, clear_by=2, level=95)
    assert wide["need_hi"].iloc[-1] == 95.0
    assert need["week_ahead"].tolist() == [1, 2, 3, 4]


def test_need_per_clinic_and_stage_with_a_queue_frame():
    f = pd.concat([flows(2).assign(stage=s, clinic=c) for c in ("a", "b") for s in ("new_visit", "treatment")])
    q = pd.DataFrame({"clinic": ["a", "a", "b", "b"], "stage": ["new_visit", "treatment"] * 2,
                      "queue": [400.0, 200.0, 100.0, 500.0]})
    need = cp.capacity_need(f, q, target_queue=200, clear_by=2)
    got = need[need["week_ahead"] == 1].set_index(["clinic", "stage"])["need"]
    assert got.to_dict() == {("a", "new_visit"): 200.0, ("a", "treatment"): 100.0,
                             ("b", "new_visit"): 100.0, ("b", "treatment"): 250.0}


def test_guarantee_view_sees_each_patient_just_in_time():
    # 100/7 patients per day of waiting 0..84 days, 100 arrivals a week (100/7 a day), no own production:
    # the patients over 90 days at the end of week k are those who arrived at least 91 days before:
    # 100/7 * (7k - 6) in all, so the least cumulative production is 100k - 600/7: week 1 needs 100/7,
    # every later week 100 (this week's newly due day-cohorts).
    waiting = pd.DataFrame({"clinic": "a", "wait_days": np.arange(85), "patients": 100 / 7})
    need = cp.capacity_need(flows(5), None, waiting=waiting, target_queue=0, clear_by=5)
    np.testing.assert_allclose(need["need_guarantee"], [100 / 7, 100, 100, 100, 100])
    assert need["queue_now"].iloc[0] == pytest.approx(85 * 100 / 7)


def test_need_errors_name_the_argument():
    with pytest.raises(ValueError, match="queue_now"):
        cp.capacity_need(flows(), None)
    with pytest.raises(ValueError, match="clear_by"):
        cp.capacity_need(flows(), 10, target_queue=0, clear_by=0)
    with pytest.raises(ValueError, match="inflow"):
        cp.capacity_need(flows().rename(columns={"inflow": "x"}), 10)
    with pytest.raises(ValueError, match="queue_now"):
        cp.capacity_need(flows(), -1, target_queue=0)
    with pytest.warns(UserWarning, match="clear_by"):
        cp.capacity_need(flows(3), 500, target_queue=0, clear_by=10)


# ----------------------------------------------------------------------------- capacity_gap
def test_gap_from_resources_capacity_by_period():
    periods = pd.PeriodIndex([week(2026, 51), week(2026, 52)])
    need = pd.DataFrame({"clinic": "a", "stage": ["new_visit"] * 2 + ["treatment"] * 2, "period": list(periods) * 2,
                         "week_ahead": [1, 2, 1, 2], "need": [50.0, 50.0, 20.0, 20.0],
                         "need_lo": [45.0, 45.0, 18.0, 18.0], "need_hi": [60.0, 60.0, 25.0, 25.0]})
    cap = cp.capacity_from_resources(resources(), periods)  # W51: 48 and 22.5; W52: 3 days: 28.8 and 13.5
    gap = cp.capacity_gap(need, cap)
    np.testing.assert_allclose(gap["capacity"], [48.0, 28.8, 22.5, 13.5])
    np.testing.assert_allclose(gap["gap"], [2.0, 21.2, -2.5, 6.5])
    np.testing.assert_allclose(gap["gap_lo"], [-3.0, 16.2, -4.5, 4.5])
    np.testing.assert_allclose(gap["gap_hi"], [12.0, 31.2, 2.5, 11.5])
    assert gap["binding"].tolist() == ["visit_slots", "visit_slots", "theatre", "theatre"]


def test_gap_of_the_guarantee_view_and_missing_weeks():
    need = pd.DataFrame({"clinic": "a", "stage": "new_visit", "week_ahead": [1, 2, 3], "need": 10.0,
                         "need_guarantee": [0.0, 5.0, 30.0]})
    cap = pd.DataFrame({"clinic": "a", "stage": "new_visit", "week_ahead": [1, 2], "capacity": 12.0})
    gap = cp.capacity_gap(need, cap)
    assert gap["gap"].tolist()[:2] == [-2.0, -2.0] and np.isnan(gap["gap"].iloc[2])
    assert gap["gap_guarantee"].tolist()[:2] == [-12.0, -7.0]
    with pytest.raises(ValueError, match="period"):
        cp.capacity_gap(need.drop(columns="week_ahead"), cap)


def test_need_gap_chain_on_naive_flows():
    from kps_analysis import demo
    from kps_analysis.balance import naive_flows

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        weekly = demo.generate(end="2021-06-27").weekly
    weekly = weekly[weekly["clinic"].isin(["gyn", "uro"])]
    f = naive_flows(weekly, stage="treatment", horizon_weeks=4)
    last = weekly[weekly["period"] == weekly["period"].max()].rename(columns={"queue_treatment": "queue"})
    need = cp.capacity_need(f, last[["clinic", "queue"]], clear_by=4)
    gap = cp.capacity_gap(need, f[["clinic", "stage", "week_ahead", "capacity"]])
    assert len(gap) == 8
    np.testing.assert_allclose(gap["gap"], gap["need"] - gap["capacity"])
    assert (gap["need"] >= gap["inflow"] - 1e-12).all()


def test_capacity_need_on_months_converts_by_days():
    # 3 months of 310 referrals in 31-day months (70 a week): the default target queue is the
    # weekly one's (70 a week); the backlog is cleared within 12 weeks = 3 months, not 12
    months = pd.DataFrame({"clinic": "a", "stage": "new_visit", "period_ahead": [1, 2, 3],
                           "period": pd.PeriodIndex(["2025-07", "2025-08", "2025-10"], freq="M"),
                           "inflow": [310.0, 310.0, 310.0]})
    weeks = pd.DataFrame({"clinic": "a", "stage": "new_visit", "week_ahead": range(1, 13), "inflow": 70.0})
    nm = cp.capacity_need(months, queue_now=1000.0, clear_by=12)
    nw = cp.capacity_need(weeks, queue_now=1000.0, clear_by=12)
    assert nm["target_queue"].iloc[0] == pytest.approx(nw["target_queue"].iloc[0])
    assert nm["periods_to_clear"].tolist() == [3.0, 3.0, 3.0]
    backlog = 1000.0 - nw["target_queue"].iloc[0]
    assert nm["need"].tolist() == pytest.approx([310.0 + backlog / 3] * 3)
    assert nm["period_days"].tolist() == [31, 31, 31] and "week_ahead" not in nm.columns
    gap = cp.capacity_gap(nm, nm[["clinic", "stage", "period_ahead"]].assign(capacity=300.0))
    assert gap["period_ahead"].tolist() == [1, 2, 3]


def test_capacity_from_resources_per_month_is_its_weeks_by_working_days():
    # a month's capacity is the normal week's times its working days / 5: May 2025 has 22
    # weekdays, less 1 May, Ascension Day (29 May) = 20 working days = 4 normal weeks
    res = pd.DataFrame({"clinic": ["a"], "new_visit_slots_per_week": [50.0], "return_visit_slots_per_week": [0.0],
                        "theatre_sessions_per_week": [2.0], "operations_per_session": [4.0], "no_show_rate": [0.0]})
    month = cp.capacity_from_resources(res, pd.period_range("2025-05", periods=1, freq="M"))
    weeks = cp.capacity_from_resources(res, pd.period_range("2025-04-28", "2025-06-01", freq="W-SUN"))
    assert month["working_days"].iloc[0] == 20
    assert month["new_visit_capacity"].iloc[0] == pytest.approx(50.0 * 20 / 5)
    assert month["operation_capacity"].iloc[0] == pytest.approx(8.0 * 20 / 5)
    # the weeks that hold May's days give the same total when split by working days
    assert weeks["working_days"].sum() >= month["working_days"].iloc[0]
