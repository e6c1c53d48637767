"""The planning model in months as in weeks, on partial data, and on stale data.

Hand cases fix what a month means (arrivals spread over its days, the guarantee in days,
horizons and lead time in weeks turned into the months that start within them); the demo
summed to months is planned end to end and held against the same clinic in weeks; a region
that mixes weekly and monthly clinics plans each apart and never moves patients between a
week and a month.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kps_analysis import periods, planning
from kps_analysis.planning import Assumptions, assumptions_frame, project_plan

ROOT = Path(__file__).resolve().parents[1]
END = "2026-11-29"


def _monthly_flows(months=4, inflow=0.0, capacity=0.0, start="2027-01"):
    p = pd.period_range(start, periods=months, freq="M")
    return pd.DataFrame({"clinic": "a", "stage": "treatment", "period_ahead": np.arange(1, months + 1),
                         "period": p, "period_days": periods.period_lengths(p), "inflow": inflow,
                         "capacity": capacity})


# ---------------------------------------------------------------- hand cases in months
def test_month_hand_case_buy_the_ten_in_the_first_month():
    """10 patients at 80 days, nothing produced: all pass 90 days within January (31 days)."""
    wait = pd.DataFrame({"clinic": "a", "stage": "treatment", "wait_days": [80], "patients": [10.0]})
    plan = project_plan(wait, _monthly_flows(), assumptions_frame([Assumptions("a", lead_time_weeks=0)]))
    assert plan["purchase"].tolist() == [10.0, 0.0, 0.0, 0.0]
    assert plan["breaches_after_purchase"].max() == 0
    assert plan["period_days"].tolist() == [31, 28, 31, 30]


def test_month_lead_time_of_four_weeks_blocks_the_first_month_only():
    wait = pd.DataFrame({"clinic": "a", "stage": "treatment", "wait_days": [80], "patients": [10.0]})
    plan = project_plan(wait, _monthly_flows(), assumptions_frame([Assumptions("a", lead_time_weeks=4)]))
    assert plan["within_lead_time"].tolist() == [True, False, False, False]
    assert plan["purchase"].tolist() == [0.0, 10.0, 0.0, 0.0]
    assert plan["breaches_after_purchase"].tolist()[0] == 10.0
    # ordered by the first month (start of February less 28 days = 4 January)
    assert plan["order_by_period"].tolist()[1] == 1
    assert str(plan["order_by_date"].iloc[1].date()) == "2027-01-04"


def test_month_arrivals_are_spread_over_the_days_of_the_month():
    """One arrival a day in January, none produced: at the end of April (day 120) those who
    came on days 1-29 have waited more than 90 days: 29 patients, by hand."""
    flows = _monthly_flows(inflow=[31.0, 0.0, 0.0, 0.0])
    empty = pd.DataFrame({"clinic": ["a"], "stage": ["treatment"], "wait_days": [0], "patients": [0.0]})
    plan = project_plan(empty, flows, assumptions_frame([Assumptions("a", lead_time_weeks=0)]))
    assert plan["breaches_if_nothing_bought"].tolist() == [0.0, 0.0, 0.0, 29.0]


def test_months_and_weeks_of_a_horizon_given_in_weeks():
    months = periods.plan_periods(pd.Period("2026-10", "M"), 52)
    assert len(months) == 12 and str(months[0]) == "2026-11"
    assert periods.periods_within(months, 12).sum() == 3          # the fixed part: 3 months
    weeks = periods.plan_periods(pd.Period("2026-11-23", "W-SUN"), 52)
    assert len(weeks) == 52 and periods.periods_within(weeks, 12).sum() == 12


def test_mixed_period_lengths_in_one_call_are_refused():
    f = pd.concat([_monthly_flows(), _monthly_flows().assign(clinic="b", period_days=7)])
    wait = pd.DataFrame({"clinic": "a", "stage": "treatment", "wait_days": [0], "patients": [1.0]})
    with pytest.raises(ValueError, match="separate calls"):
        project_plan(wait, f, assumptions_frame([Assumptions("a"), Assumptions("b")]))


def test_to_monthly_keeps_the_totals_of_whole_months():
    w = pd.DataFrame({"clinic": "a", "period": pd.period_range("2027-01-04", periods=9, freq="W-SUN"),
                      "new_visits": [3.0, 5, 7, 2, 9, 4, 6, 1, 8], "queue_new_visit": np.arange(9.0)})
    m = periods.to_monthly(w)
    # 2027-01-04 .. 2027-03-07: February is the one whole month; January starts mid-month
    assert m["period"].astype(str).tolist() == ["2027-02"]
    # February = Feb 1-28: weeks 5-8 exactly (Mon 1 Feb to Sun 28 Feb)
    assert m["new_visits"].tolist() == [9.0 + 4 + 6 + 1]
    assert m["queue_new_visit"].tolist() == [7.0]


# ---------------------------------------------------------------- the demo in months
@pytest.fixture(scope="module")
def demo_frames(demo_dir):
    from kps_analysis import data, parameters

    src = demo_dir  # the demo ending END (tests/conftest.py)
    ps = {c: parameters.load_parameters(c, ROOT / "parameters") for c in ("onh", "ort_syd", "ort_nord")}
    weekly = {c: data.load_clinic_data(p.data.to_dict(), src, clinic=c).weekly for c, p in ps.items()}
    return ps, weekly


def _monthly(weekly: pd.DataFrame, clinic: str) -> pd.DataFrame:
    m = periods.to_monthly(weekly)
    return m.assign(clinic=clinic)


def test_a_monthly_clinic_is_planned_in_months_and_agrees_with_its_weeks(demo_frames):
    ps, weekly = demo_frames
    w = weekly["onh"]
    m = _monthly(w.drop(columns=["planned_new_visits", "planned_operations"], errors="ignore"), "onh")
    by_month = planning.plan_clinics(m, None, [ps["onh"]], runs=50, as_of="2026-12-01", with_scenarios=False)
    by_week = planning.plan_clinics(w, None, [ps["onh"]], runs=50, as_of="2026-12-01", with_scenarios=False)
    plan = by_month.plan
    assert set(plan["period"].astype(str)) >= {"2026-11", "2027-10"} and plan["period_ahead"].max() == 12
    assert (plan["period_days"] >= 28).all()
    # the flow identity per month, in whole patients
    for _, s in plan.groupby("stage"):
        s = s.sort_values("period_ahead")
        assert np.allclose(s["queue_end"], s["queue_start"] + s["inflow"] - s["own_production"] - s["purchase"])
        assert (s["own_production"] <= s["capacity"] + 1e-9).all()
    assert plan.loc[plan["fixed"], "period_ahead"].max() == 3
    assert (plan.loc[plan["within_lead_time"], "purchase"] == 0).all()
    fig = by_month.figures.iloc[0]
    assert fig["period_unit"] == "month" and str(fig["data_end"].date()) == "2026-10-31"
    assert str(fig["plan_start"].date()) == "2026-11-01" and not fig["stale"]
    # the same clinic in weeks: a year's inflow and capacity within 10 % (the months' year
    # starts a month earlier, so not equal)
    for col in ("inflow", "capacity"):
        month_year = plan.groupby("stage")[col].sum()
        week_year = by_week.plan.groupby("stage")[col].sum()
        assert np.allclose(month_year, week_year, rtol=0.10), (col, month_year, week_year)
    # demonstrated capacity on a week's footing agrees between the two
    cm = by_month.capacity_check.set_index("stage")["demonstrated_per_week"]
    cw = by_week.capacity_check.set_index("stage")["demonstrated_per_week"]
    assert np.allclose(cm, cw.reindex(cm.index), rtol=0.15)


def test_a_region_mixing_weeks_and_months_plans_each_apart(demo_frames):
    ps, weekly = demo_frames
    # ort_nord (buys) in months, ort_syd (spare capacity) in weeks: same pool, never matched
    mixed = pd.concat([_monthly(weekly["ort_nord"], "ort_nord"), weekly["ort_syd"]], ignore_index=True)
    model = planning.plan_region(mixed, None, [ps["ort_nord"], ps["ort_syd"]], runs=30, as_of="2026-12-01")
    units = model.figures.set_index("clinic")["period_unit"]
    assert units.to_dict() == {"ort_nord": "month", "ort_syd": "week"}
    assert model.moves.empty
    one = model.for_clinic("ort_nord")
    assert isinstance(one.plan["period"].dtype, pd.PeriodDtype) and periods.unit_of(one.plan["period"]) == "month"
    # both in weeks: the same pool does find moves (so the test above can fail)
    weeks = pd.concat([weekly["ort_nord"], weekly["ort_syd"]], ignore_index=True)
    both = planning.plan_region(weeks, None, [ps["ort_nord"], ps["ort_syd"]], runs=30, as_of="2026-12-01")
    assert not both.moves.empty


def test_stale_data_are_a_finding_and_the_plan_starts_after_them(demo_frames):
    ps, weekly = demo_frames
    old = weekly["onh"][weekly["onh"]["period"] <= pd.Period("2022-06-05", "W-SUN")]
    model = planning.plan_clinics(old, None, [ps["onh"]], runs=20, as_of="2026-12-01", with_scenarios=False)
    fig = model.figures.iloc[0]
    assert bool(fig["stale"]) and fig["data_age_days"] > 1600
    assert str(model.plan["period"].min()) == "2022-06-06/2022-06-12"


@pytest.mark.parametrize("keep", [
    ["queue_new_visit", "queue_treatment", "waiting_over_90_new_visit", "waiting_over_90_treatment"],
    ["operations_elective", "operations_acute"],
])
def test_partial_measures_give_a_model_not_an_error(demo_frames, keep):
    ps, weekly = demo_frames
    w = weekly["onh"][["clinic", "period"] + keep]
    model = planning.plan_clinics(w, None, [ps["onh"]], runs=20, as_of="2026-12-01")
    assert len(model.figures) == 1
    assert model.plan.empty                     # no inflow measure: nothing to plan on
    assert model.figures.iloc[0]["period_unit"] == "week"


def test_a_clinic_that_cannot_be_planned_leaves_the_others_planned(demo_frames):
    ps, weekly = demo_frames
    bad = {**ps["ort_syd"].to_dict(), "clinic": "ort_syd", "serving_order": "lottery"}
    both = pd.concat([weekly["onh"], weekly["ort_syd"]], ignore_index=True)
    model = planning.plan_region(both, None, [ps["onh"], bad], runs=10, as_of="2026-12-01")
    assert set(model.figures["clinic"]) == {"onh"}
    assert "lottery" in model.settings.attrs["failed"]["ort_syd"]


def test_months_of_zeros_in_a_monthly_queue_are_a_finding():
    from kps_analysis import data

    q = np.full(24, 20000.0)
    q[10:12] = 0                                    # two months of zero list size
    f = pd.DataFrame({"clinic": "a", "period": pd.period_range("2020-01", periods=24, freq="M"),
                      "queue_new_visit": q})
    found = data.validate(f, source="x")
    assert len(found) == 1 and "2 months of zeros (2020-11..2020-12)" in found["message"].iloc[0]


def test_plan_history_of_a_monthly_clinic_reads_its_earlier_plan_in_months():
    """A monthly clinic's second run: the previous plan's fixed months (as its table holds
    them, "2026-10") are compared with the months that have passed, last year 12 months back.
    Read as weeks, the comparison failed and the clinic's whole run with it."""
    months = pd.period_range("2025-01", "2026-11", freq="M")
    w = pd.DataFrame({"clinic": "m", "period": months, "new_visits": np.arange(len(months), dtype=float) + 100})
    prev = pd.DataFrame({"clinic": "m", "stage": "new_visit", "period": ["2026-10", "2026-11", "2026-12"],
                         "fixed": [True, True, True], "own_production": [120.0, 125.0, 130.0],
                         "purchase": [0.0, 2.0, 0.0], "agreement": [118.0, 118.0, 118.0]})
    h = planning.plan_history(w, prev)
    assert h["period"].astype(str).tolist() == ["2026-10", "2026-11"]        # December has not passed
    assert h["actual_own"].tolist() == [121.0, 122.0]
    assert h["last_year"].tolist() == [109.0, 110.0]                         # October and November 2025
    assert h["deviation_pct"].round(2).tolist() == [round(100 * (121 - 120) / 120, 2),
                                                     round(100 * (122 - 125) / 125, 2)]
