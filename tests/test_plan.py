"""Tests for kps_analysis.plan: the rolling production plan, its xlsx template and follow-up."""

import warnings

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kps_analysis import calendar as cal
from kps_analysis.plan import (
    PLAN_COLUMNS,
    agreement_volumes,
    escalation_status,
    export_plan_xlsx,
    plan_vs_outcome,
    rolling_plan,
)
from kps_analysis.seasonal import periodise

VOL = pd.DataFrame({"clinic": ["a"], "new_visits": [2500], "operations": [1000]})


def weeks(start, n):
    return pd.period_range(start, periods=n, freq="W-SUN")


# ----------------------------------------------------------------------------- rolling_plan
def test_flat_2024_by_working_days_hand_numbers():
    # 2024 has 250 working days: 10 new visits and 4 operations per working day.
    # W12: 5 days; W13: Good Friday; W14: Easter Monday; W15: 5 days.
    p = rolling_plan(VOL, "2024-W12", fixed_weeks=2, horizon_weeks=4)
    assert list(p.columns) == list(PLAN_COLUMNS)
    assert p["working_days"].tolist() == [5, 4, 4, 5]
    assert p["planned_new_visits"].tolist() == [50.0, 40.0, 40.0, 50.0]
    assert p["planned_operations"].tolist() == [20.0, 16.0, 16.0, 20.0]
    assert p["status"].tolist() == ["fixed", "fixed", "planned", "planned"]
    assert p["origin"].tolist() == ["agreement"] * 4
    assert p["cum_planned_operations"].tolist() == [20.0, 36.0, 52.0, 72.0]
    assert list(cal.iso_week_label(p["period"])) == ["2024-W12", "2024-W13", "2024-W14", "2024-W15"]
    # no capacity or purchase given: their columns exist and are NaN
    assert p[["capacity_new_visits", "purchase_operations", "margin_new_visits"]].isna().all().all()


def test_default_horizon_twelve_fixed_forty_planned():
    p = rolling_plan(VOL, pd.Period("2026-03-02", "W-SUN"))
    assert len(p) == 52 and p["week_ahead"].tolist() == list(range(1, 53))
    assert (p["status"] == "fixed").sum() == 12 and (p["status"] == "planned").sum() == 40
    assert p.loc[p.week_ahead == 12, "status"].item() == "fixed"
    assert p.loc[p.week_ahead == 13, "status"].item() == "planned"


@settings(max_examples=25, deadline=None)
@given(new=st.integers(0, 50_000), ops=st.integers(0, 5_000), year=st.integers(2019, 2030))
def test_a_whole_iso_year_adds_up_to_the_agreement(new, ops, year):
    vol = pd.DataFrame({"clinic": ["x"], "new_visits": [new], "operations": [ops]})
    n = int(cal.weeks_in_year(year))
    p = rolling_plan(vol, cal.period_from_iso(year, 1), fixed_weeks=12, horizon_weeks=n)
    assert p["planned_new_visits"].sum() == new
    assert p["planned_operations"].sum() == ops
    assert (p["planned_new_visits"] >= 0).all()
    assert p["cum_planned_new_visits"].iloc[-1] == new


def test_plan_across_the_year_boundary_uses_each_years_breakdown_and_volume():
    vol = pd.DataFrame({"clinic": ["a", "a"], "year": [2024, 2025], "new_visits": [2500, 5000],
                        "operations": [0, 0]})
    p = rolling_plan(vol, "2024-W50", fixed_weeks=2, horizon_weeks=6)
    w24 = periodise(2500, 2024).set_index("period")["volume"]
    w25 = periodise(5000, 2025).set_index("period")["volume"]
    expected = [w24.get(per, np.nan) if per in w24.index else w25[per] for per in p["period"]]
    assert p["planned_new_visits"].tolist() == [float(v) for v in expected]
    # 2024-W52: 23 Dec (Mon), 24-26 Dec off, 27 Dec: 2 working days at 10/day
    assert p.loc[p.period == cal.period_from_iso(2024, 52), "planned_new_visits"].item() == 20.0
    assert p["planned_operations"].eq(0).all()
    with pytest.raises(ValueError, match="no row for ISO year 2026"):
        rolling_plan(vol, "2025-W50", horizon_weeks=6, fixed_weeks=1)


def test_profile_per_clinic_and_measure_vectorised():
    # clinic a: weeks 27-32 at half rate for operations only; clinic b: no profile -> flat + warning
    season = np.arange(1, 54)
    prof = pd.concat([
        pd.DataFrame({"clinic": "a", "measure": "operations_elective", "season": season,
                      "factor": np.where((season >= 27) & (season <= 32), 0.5, 1.0)}),
        pd.DataFrame({"clinic": "a", "measure": "new_visits", "season": season, "factor": 1.0}),
    ])
    vol = pd.DataFrame({"clinic": ["a", "b"], "new_visits": [2500, 2500], "operations": [1000, 1000]})
    with pytest.warns(UserWarning) as record:
        p = rolling_plan(vol, cal.period_from_iso(2024, 1), horizon_weeks=52, profile=prof)
    messages = {str(w.message) for w in record}
    assert any("no seasonal profile of 'operations_elective' for ['b']" in m for m in messages)
    assert any("no seasonal profile of 'new_visits' for ['b']" in m for m in messages)
    a, b = p[p.clinic == "a"].set_index("period"), p[p.clinic == "b"].set_index("period")
    assert a["planned_operations"].sum() == 1000 and b["planned_operations"].sum() == 1000
    w28, w34 = cal.period_from_iso(2024, 28), cal.period_from_iso(2024, 34)
    # both weeks have 5 working days; the summer week gets half of a normal one (± rounding)
    assert abs(a.loc[w28, "planned_operations"] - a.loc[w34, "planned_operations"] / 2) <= 1
    assert b.loc[w28, "planned_operations"] == b.loc[w34, "planned_operations"]
    assert (a["planned_new_visits"] == b["planned_new_visits"]).all()


def test_previous_fixed_weeks_are_kept_and_revise_recomputes():
    p = rolling_plan(VOL, "2024-W12", fixed_weeks=2, horizon_weeks=4)
    cut = VOL.assign(new_visits=2000)  # 8 per working day
    q = rolling_plan(cut, "2024-W13", fixed_weeks=2, horizon_weeks=3, previous=p)
    assert q["planned_new_visits"].tolist() == [40.0, 32.0, 40.0]
    assert q["origin"].tolist() == ["previous", "agreement", "agreement"]
    r = rolling_plan(cut, "2024-W13", fixed_weeks=2, horizon_weeks=3, previous=p, revise=True)
    assert r["planned_new_visits"].tolist() == [32.0, 32.0, 40.0]
    assert r["origin"].tolist() == ["agreement"] * 3
    # a planned (not fixed) week of the previous plan is not kept
    s = rolling_plan(cut, "2024-W14", fixed_weeks=2, horizon_weeks=2, previous=p)
    assert s["planned_new_visits"].tolist() == [32.0, 40.0]


def test_explicit_revision_changes_only_the_given_cells():
    p = rolling_plan(VOL, "2024-W12", fixed_weeks=2, horizon_weeks=4)
    rev = pd.DataFrame({"clinic": ["a"], "period": [cal.period_from_iso(2024, 13)],
                        "planned_new_visits": [35.0], "planned_operations": [np.nan]})
    q = rolling_plan(VOL, "2024-W13", fixed_weeks=2, horizon_weeks=3, previous=p, revision=rev)
    assert q["planned_new_visits"].tolist() == [35.0, 40.0, 50.0]
    assert q["planned_operations"].tolist() == [16.0, 16.0, 20.0]  # NaN = unchanged
    assert q["origin"].tolist() == ["revision", "agreement", "agreement"]
    assert q["cum_planned_new_visits"].tolist() == [35.0, 75.0, 125.0]
    outside = rev.assign(period=[cal.period_from_iso(2025, 13)])
    with pytest.warns(UserWarning, match="outside the plan"):
        rolling_plan(VOL, "2024-W13", fixed_weeks=2, horizon_weeks=3, revision=outside)


def test_capacity_and_purchase_columns():
    from kps_analysis.capacity import capacity_from_resources

    res = pd.DataFrame({"clinic": ["a"], "new_visit_slots_per_week": [50.0], "return_visit_slots_per_week": [80.0],
                        "theatre_sessions_per_week": [9.0], "operations_per_session": [2.5],
                        "no_show_rate": [0.04]})
    periods = weeks("2024-03-18", 4)
    cap = capacity_from_resources(res, periods)
    buy = pd.DataFrame({"clinic": "a", "stage": ["new_visit", "treatment", "treatment"],
                        "week_ahead": [1, 1, 3], "purchase": [2.0, 1.0, 3.0],
                        "cost_external_sek": [4800.0, 85000.0, 255000.0]})
    p = rolling_plan(VOL, periods[0], fixed_weeks=2, horizon_weeks=4, capacity=cap, purchase=buy)
    # 48 new visits a normal week (50 slots, 4 % no-shows), 22.5 operations; Easter weeks 4/5 of it
    assert p["capacity_new_visits"].round(6).tolist() == [48.0, 38.4, 38.4, 48.0]
    assert p["capacity_operations"].round(6).tolist() == [22.5, 18.0, 18.0, 22.5]
    assert p["capacity_return_visits"].round(6).tolist() == [76.8, 61.44, 61.44, 76.8]
    assert p["margin_operations"].round(6).tolist() == [2.5, 2.0, 2.0, 2.5]
    assert p["margin_new_visits"].round(6).tolist() == [-2.0, -1.6, -1.6, -2.0]
    # weeks up to the last one in the purchase frame: a missing row is 0; week 4 is not covered
    assert p["purchase_new_visits"].tolist()[:3] == [2.0, 0.0, 0.0] and np.isnan(p["purchase_new_visits"].iloc[3])
    assert p["purchase_operations"].tolist()[:3] == [1.0, 0.0, 3.0]
    assert p["purchase_cost_sek"].tolist()[:3] == [89800.0, 0.0, 255000.0]
    assert p["cum_purchase_operations"].tolist()[:3] == [1.0, 1.0, 4.0]
    assert np.isnan(p["cum_purchase_operations"].iloc[3])
    assert p["cum_capacity_operations"].round(6).tolist() == [22.5, 40.5, 58.5, 81.0]
    # by period instead of week_ahead gives the same
    q = rolling_plan(VOL, periods[0], fixed_weeks=2, horizon_weeks=4,
                     purchase=buy.assign(period=periods[buy["week_ahead"] - 1]).drop(columns="week_ahead"))
    pd.testing.assert_series_equal(p["purchase_operations"], q["purchase_operations"])


def test_purchase_need_output_goes_into_the_plan():
    from kps_analysis.purchase import purchase_need

    periods = weeks("2024-03-18", 4)
    # 30 patients at 85 days, 10 served a week: the guarantee buys 20 in week 1
    wait = pd.DataFrame({"clinic": "a", "stage": "new_visit", "wait_days": [85], "patients": [30.0]})
    flows = pd.DataFrame({"clinic": "a", "stage": "new_visit", "week_ahead": [1, 2, 3, 4], "period": periods,
                          "inflow": 7.0, "capacity": 10.0})
    need = purchase_need(wait, flows, prices=pd.DataFrame({"clinic": ["a"], "stage": ["new_visit"],
                                                           "price_external_sek": [1000.0]}))
    p = rolling_plan(VOL, periods[0], fixed_weeks=2, horizon_weeks=4, purchase=need)
    assert p["purchase_new_visits"].tolist() == [20.0, 0.0, 0.0, 0.0]
    assert p["purchase_cost_sek"].tolist() == [20000.0, 0.0, 0.0, 0.0]
    assert p["purchase_operations"].isna().all()
    both = pd.concat([need, need.assign(policy="target")])
    with pytest.raises(ValueError, match="several policies"):
        rolling_plan(VOL, periods[0], horizon_weeks=4, fixed_weeks=2, purchase=both)


def test_a_demo_clinic_plan_from_its_parameters():
    from pathlib import Path

    from kps_analysis.capacity import capacity_from_resources, resources_frame
    from kps_analysis.parameters import load_parameters

    params = load_parameters("ort_nord", Path(__file__).resolve().parents[1] / "parameters")
    periods = pd.period_range(cal.period_from_iso(2026, 10), periods=params.planning_horizon_weeks, freq="W-SUN")
    cap = capacity_from_resources(resources_frame(params), periods)
    p = rolling_plan(agreement_volumes(params), periods[0], capacity=cap,
                     fixed_weeks=params.fixed_horizon_weeks, horizon_weeks=params.planning_horizon_weeks)
    assert (p["status"] == "fixed").sum() == 12 and len(p) == 52
    # the rest of 2026 (weeks 10-53) gets its share of the agreement; the summer closure
    # (weeks 27-32, 40 % kept) shows in the capacity
    assert p.loc[p.period.dt.year == 2026, "planned_operations"].sum() < 1000
    by_week = p.set_index("period")
    w26, w28 = cal.period_from_iso(2026, 26), cal.period_from_iso(2026, 28)
    assert by_week.loc[w28, "capacity_operations"] == pytest.approx(0.4 * by_week.loc[w26, "capacity_operations"])


def test_expected_inflow_from_a_forecast():
    periods = weeks("2024-03-18", 3)
    fc = pd.DataFrame({"clinic": "a", "period": periods, "mean": [101.0, 95.5, 99.0], "lo_80": 90.0})
    p = rolling_plan(VOL, periods[0], horizon_weeks=3, fixed_weeks=1, inflow=fc)
    assert p["expected_referrals_in"].tolist() == [101.0, 95.5, 99.0]


def test_agreement_volumes_from_parameters():
    from pathlib import Path

    from kps_analysis.parameters import load_parameters

    folder = Path(__file__).resolve().parents[1] / "parameters"
    ps = [load_parameters(c, folder) for c in ("ort_nord", "hud")]
    v = agreement_volumes(ps)
    assert v.to_dict("list") == {"clinic": ["ort_nord", "hud"], "new_visits": [2200.0, 3350.0],
                                 "operations": [1000.0, 0.0]}
    p = rolling_plan(v, "2026-W10")
    assert p.groupby("clinic")["planned_operations"].sum().to_dict()["hud"] == 0


@pytest.mark.parametrize("kwargs, match", [
    ({"annual_volume": VOL.drop(columns="operations")}, "annual_volume lacks column"),
    ({"annual_volume": VOL.assign(new_visits=-1)}, "annual_volume: 'new_visits' must be finite and >= 0"),
    ({"annual_volume": pd.concat([VOL, VOL])}, "more than one row per clinic"),
    ({"start": pd.Period("2024-03", "M")}, "start must be an ISO week"),
    ({"start": "not a week"}, "start must be an ISO week"),
    ({"fixed_weeks": 13, "horizon_weeks": 12}, "fixed_weeks must be between 0 and 12"),
    ({"horizon_weeks": 0}, "horizon_weeks must be between"),
    ({"fixed_weeks": 2.5}, "fixed_weeks must be a whole number"),
    ({"capacity": pd.DataFrame({"clinic": ["a"], "period": weeks("2024-03-18", 1), "x": [1.0]})},
     "capacity needs one of"),
    ({"purchase": pd.DataFrame({"clinic": ["a"], "stage": ["treatment"], "purchase": [1.0]})},
     "purchase needs a 'period' or a 'week_ahead'"),
])
def test_impossible_input_names_the_argument(kwargs, match):
    args = {"annual_volume": VOL, "start": "2024-W12"}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        rolling_plan(args.pop("annual_volume"), args.pop("start"), **args)


# ----------------------------------------------------------------------------- export
def _sheet_rows(path, sheet):
    ws = openpyxl.load_workbook(path)[sheet]
    rows = [[c.value for c in row] for row in ws.iter_rows()]
    return rows[0], rows[1:]


def test_xlsx_opens_and_holds_the_same_numbers(tmp_path):
    from kps_analysis.capacity import capacity_from_resources

    res = pd.DataFrame({"clinic": ["a"], "new_visit_slots_per_week": [50.0], "return_visit_slots_per_week": [80.0],
                        "theatre_sessions_per_week": [9.0], "operations_per_session": [2.5],
                        "no_show_rate": [0.04]})
    vol = pd.DataFrame({"clinic": ["a", "b"], "new_visits": [2500, 1300], "operations": [1000, 0]})
    plan = rolling_plan(vol, "2024-W50", fixed_weeks=3, horizon_weeks=8,
                        capacity=capacity_from_resources(res, weeks("2024-12-09", 8)))
    follow = plan_vs_outcome(plan.head(3), plan.head(3)[["clinic", "period"]].assign(new_visits=[49.0, 50.0, 18.0]))
    path = export_plan_xlsx(plan, tmp_path / "out" / "plan.xlsx", tables={"Uppföljning": follow})
    assert path.exists() and not [p for p in path.parent.iterdir() if p.name.startswith(".")]
    assert openpyxl.load_workbook(path).sheetnames == ["Produktionsplan", "Uppföljning"]
    header, rows = _sheet_rows(path, "Produktionsplan")
    # the week as ISO year, week number and its Monday (a date), not text (kps_analysis.workbook)
    assert header[:8] == ["Klinik", "År", "Vecka", "Veckan börjar", "Veckor framåt", "Status", "Ursprung",
                          "Arbetsdagar"]
    assert "Planerade nybesök" in header and "Kapacitet operationer" in header
    assert len(rows) == len(plan) == 16
    col = {h: i for i, h in enumerate(header)}
    assert [(r[col["År"]], r[col["Vecka"]]) for r in rows[:4]] == [(2024, 50), (2024, 51), (2024, 52), (2025, 1)]
    assert [r[col["Status"]] for r in rows[:4]] == ["Fastställd"] * 3 + ["Preliminär"]
    for name, column in (("Planerade nybesök", "planned_new_visits"), ("Planerade operationer", "planned_operations"),
                         ("Kapacitet nybesök", "capacity_new_visits"),
                         ("Ackumulerat planerade nybesök", "cum_planned_new_visits")):
        got = np.array([np.nan if r[col[name]] is None else r[col[name]] for r in rows], dtype=float)
        # equal to the precision Excel keeps (15 significant digits)
        np.testing.assert_allclose(got, plan[column].to_numpy(dtype=float), rtol=1e-14, atol=0)
    _, rows = _sheet_rows(path, "Uppföljning")  # the current year, wide: group titles, then the header
    fh, frows = rows[0], rows[1:]
    assert "Nybesök: utfall" in fh and "Nybesök: ack. avvikelse %" in fh and "Nybesök: status" in fh
    assert [r[fh.index("Nybesök: utfall")] for r in frows] == [49.0, 50.0, 18.0]


def test_xlsx_in_english_and_bad_sheet_names(tmp_path):
    plan = rolling_plan(VOL, "2024-W12", fixed_weeks=1, horizon_weeks=2)
    path = export_plan_xlsx(plan, tmp_path / "p.xlsx", language="en")
    header, rows = _sheet_rows(path, "Production plan")
    assert header[:6] == ["Clinic", "Year", "Week", "Week starts", "Weeks ahead", "Status"]
    assert rows[1][5] == "Planned"
    with pytest.raises(ValueError, match="language"):
        export_plan_xlsx(plan, tmp_path / "p.xlsx", language="de")
    with pytest.raises(ValueError, match="1-31 characters"):
        export_plan_xlsx(plan, tmp_path / "p.xlsx", tables={"x" * 32: plan})
    with pytest.raises(ValueError, match="used twice"):
        export_plan_xlsx(plan, tmp_path / "p.xlsx", tables={"Produktionsplan": plan})


# ----------------------------------------------------------------------------- plan vs outcome
def frames(actual, plan=100.0, start="2025-01-06", measure="new_visits", plan_col="planned_new_visits"):
    per = weeks(start, len(actual))
    p = pd.DataFrame({"clinic": "a", "period": per, plan_col: plan})
    a = pd.DataFrame({"clinic": "a", "period": per, measure: np.asarray(actual, dtype=float)})
    return p, a


def test_status_and_levels_by_hand():
    # accumulated: 96/100 = -4 % green; 188/200 = -6 % yellow; 277/300 = -7.67 % yellow;
    # 357/400 = -10.75 % red (division); then 437, 517, 597 of 500, 600, 700: -12.6, -13.8,
    # -14.7 %: red in weeks 4-7, the fourth consecutive red (week 7) goes to the region
    p, a = frames([96, 92, 89, 80, 80, 80, 80])
    f = plan_vs_outcome(p, a)
    assert f["cum_actual"].tolist() == [96.0, 188.0, 277.0, 357.0, 437.0, 517.0, 597.0]
    assert f["cum_deviation"].tolist() == [-4.0, -12.0, -23.0, -43.0, -63.0, -83.0, -103.0]
    assert f["cum_deviation_pct"].round(4).tolist() == [-4.0, -6.0, round(-2300 / 300, 4), -10.75, -12.6,
                                                        round(-8300 / 600, 4), round(-10300 / 700, 4)]
    assert f["status"].tolist() == ["green", "yellow", "yellow", "red", "red", "red", "red"]
    assert f["red_weeks"].tolist() == [0, 0, 0, 1, 2, 3, 4]
    assert f["level"].tolist() == ["unit", "clinic", "clinic", "division", "division", "division", "region"]
    assert f["deviation"].tolist() == [-4.0, -8.0, -11.0, -20.0, -20.0, -20.0, -20.0]
    assert f["deviation_pct"].tolist() == [-4.0, -8.0, -11.0, -20.0, -20.0, -20.0, -20.0]


def test_thresholds_are_inclusive_and_overproduction_counts():
    p, a = frames([105, 110, 95])  # +5 %, +7.5 %, +3.33 %
    f = plan_vs_outcome(p, a, yellow_pct=5, red_pct=7.5)
    assert f["status"].tolist() == ["yellow", "red", "green"]
    assert f["red_weeks"].tolist() == [0, 1, 0]  # a green breaks the run


def test_red_run_resets_and_limits_from_parameters():
    p, a = frames([80, 80, 80, 120, 120, 120, 80])
    f = plan_vs_outcome(p, a, yellow_pct=5, red_pct=10, red_weeks_to_region=3)
    # accumulated -20, -20, -20, -10, -4, 0, -2.86 %
    assert f["status"].tolist() == ["red", "red", "red", "red", "green", "green", "green"]
    assert f["level"].tolist() == ["division", "division", "region", "region", "unit", "unit", "unit"]


def test_last_year_from_history_and_accumulation_per_iso_year():
    # history 2024-W50..2025-W03 (7 weeks); plan 2024-W50..2025-W03; last year's
    # same weeks are in the actual frame too (2023-W50..2024-W03 at 90 a week)
    hist = pd.DataFrame({"clinic": "a", "period": weeks("2023-12-11", 7), "new_visits": 90.0})
    per = weeks("2024-12-09", 7)
    p = pd.DataFrame({"clinic": "a", "period": per, "planned_new_visits": 100.0})
    a = pd.concat([hist, pd.DataFrame({"clinic": "a", "period": per, "new_visits": 99.0})], ignore_index=True)
    f = plan_vs_outcome(p, a)
    assert len(f) == 7  # only weeks with a plan
    assert f["year"].tolist() == [2024, 2024, 2024, 2025, 2025, 2025, 2025]
    assert f["last_year"].tolist() == [90.0] * 7
    assert f["vs_last_year"].tolist() == [9.0] * 7
    assert f["vs_last_year_pct"].tolist() == [10.0] * 7
    # accumulation restarts in ISO week 1 of 2025
    assert f["cum_plan"].tolist() == [100.0, 200.0, 300.0, 100.0, 200.0, 300.0, 400.0]
    assert f["cum_last_year"].tolist() == [90.0, 180.0, 270.0, 90.0, 180.0, 270.0, 360.0]
    # the same with last year passed separately
    g = plan_vs_outcome(p, a[a.period >= per[0]], last_year=hist)
    pd.testing.assert_frame_equal(f, g)
    # without last year's data: NaN
    h = plan_vs_outcome(p, a[a.period >= per[0]])
    assert h["last_year"].isna().all() and h["cum_last_year"].isna().all()


def test_week_53_compares_with_week_52():
    p, a = frames([100.0], start="2020-12-28")  # 2020-W53
    hist = pd.DataFrame({"clinic": "a", "period": [cal.period_from_iso(2019, 52)], "new_visits": [50.0]})
    f = plan_vs_outcome(p, a, last_year=hist)
    assert f["week"].item() == 53 and f["last_year"].item() == 50.0


def test_several_clinics_and_measures_missing_weeks_and_zero_plan():
    per = weeks("2025-01-06", 3)
    p = pd.DataFrame({"clinic": np.repeat(["a", "b"], 3), "period": list(per) * 2,
                      "planned_new_visits": [100.0] * 6, "planned_operations": [10.0, 10, 10, 0, 0, 0],
                      "expected_referrals_in": np.nan})
    a = pd.DataFrame({"clinic": np.repeat(["a", "b"], 3), "period": list(per) * 2,
                      "new_visits": [100.0, np.nan, 100.0, 90.0, 90.0, 90.0],
                      "operations_elective": [10.0, 10, 10, 0, 0, 1], "referrals_in": 120.0})
    f = plan_vs_outcome(p, a)
    assert set(f["measure"]) == {"new_visits", "operations_elective"}  # no inflow plan -> left out
    an = f[(f.clinic == "a") & (f.measure == "new_visits")]
    assert an["cum_plan"].tolist() == [100.0, 100.0, 200.0]  # the unreported week is skipped
    assert np.isnan(an["deviation"].iloc[1]) and an["status"].tolist() == ["green"] * 3
    bo = f[(f.clinic == "b") & (f.measure == "operations_elective")]
    assert bo["cum_deviation_pct"].iloc[:2].tolist() == [0.0, 0.0]  # 0 of 0
    assert np.isnan(bo["cum_deviation_pct"].iloc[2]) and bo["status"].isna().iloc[2]
    esc = escalation_status(f)
    assert esc.set_index("clinic")["status"].to_dict() == {"a": "green", "b": "red"}
    assert esc.set_index("clinic").loc["b", "measure"] == "new_visits"


def test_inflow_is_followed_against_the_expected_referrals():
    p, a = frames([112.0, 112.0], plan=100.0, measure="referrals_in", plan_col="expected_referrals_in")
    f = plan_vs_outcome(p, a)
    assert f["measure"].unique().tolist() == ["referrals_in"]
    assert f["status"].tolist() == ["red", "red"]
    # inflow does not drive the clinic's escalation by default
    assert escalation_status(f)["status"].isna().all()


@pytest.mark.parametrize("kwargs, match", [
    ({"yellow_pct": 10, "red_pct": 5}, "yellow_pct and red_pct"),
    ({"red_weeks_to_region": 0}, "red_weeks_to_region"),
    ({"measures": {"x": "y"}}, "share no measure"),
])
def test_follow_up_bad_input(kwargs, match):
    p, a = frames([100.0])
    with pytest.raises(ValueError, match=match):
        plan_vs_outcome(p, a, **kwargs)


def test_follow_up_bad_frames():
    p, a = frames([100.0, 100.0])
    with pytest.raises(ValueError, match="plan has more than one row"):
        plan_vs_outcome(pd.concat([p, p]), a)
    with pytest.raises(ValueError, match="actual lacks column"):
        plan_vs_outcome(p, a.drop(columns="clinic"))
    with pytest.raises(ValueError, match="both be weekly"):  # months against weeks
        plan_vs_outcome(p.assign(period=pd.period_range("2025-01", periods=2, freq="M")), a)
    with pytest.raises(ValueError, match="ISO weeks"):
        plan_vs_outcome(p.assign(period=pd.period_range("2025-01-01", periods=2, freq="D")), a)


def test_no_common_week_warns_and_gives_an_empty_frame():
    p, _ = frames([100.0])
    _, a = frames([100.0], start="2026-01-05")
    with pytest.warns(UserWarning, match="share no clinic and week"):
        f = plan_vs_outcome(p, a)
    assert f.empty and "status" in f.columns
    assert escalation_status(f).empty


def test_plan_then_follow_up_end_to_end():
    plan = rolling_plan(VOL, "2024-W12", fixed_weeks=4, horizon_weeks=8)
    actual = plan[["clinic", "period"]].assign(new_visits=plan["planned_new_visits"] * 0.93,
                                               operations_elective=plan["planned_operations"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        f = plan_vs_outcome(plan, actual)
    nv = f[f.measure == "new_visits"]
    assert np.allclose(nv["cum_deviation_pct"], -7.0) and (nv["status"] == "yellow").all()
    esc = escalation_status(f)
    assert esc[["status", "level", "measure"]].values.tolist() == [["yellow", "clinic", "new_visits"]]


def test_plan_vs_outcome_month_by_month():
    # plan 300 new visits a month, actual 290, 270, 240: accumulated -10/300, -40/600 and
    # -100/900 = -3.3 %, -6.7 %, -11.1 %: green, yellow, red; last year the same months
    # (12 periods back); 4 weeks of red = 1 month, so the first red month goes to the region
    p = pd.DataFrame({"clinic": "a", "period": pd.period_range("2026-01", periods=3, freq="M"),
                      "planned_new_visits": 300.0})
    a = p[["clinic", "period"]].assign(new_visits=[290.0, 270.0, 240.0])
    ly = pd.DataFrame({"clinic": "a", "period": pd.period_range("2025-01", periods=3, freq="M"),
                       "new_visits": [280.0, 280.0, 280.0]})
    f = plan_vs_outcome(p, a, last_year=ly)
    assert f["month"].tolist() == [1, 2, 3] and "week" not in f.columns
    assert f["cum_deviation"].tolist() == [-10.0, -40.0, -100.0]
    assert f["status"].tolist() == ["green", "yellow", "red"]
    assert f["last_year"].tolist() == [280.0, 280.0, 280.0]
    assert f["red_months"].tolist() == [0, 0, 1] and f["level"].tolist()[-1] == "region"
    with pytest.raises(ValueError, match="both be weekly"):
        plan_vs_outcome(p, a.assign(period=pd.period_range("2026-01-05", periods=3, freq="W-SUN")))


def test_rolling_plan_says_where_monthly_plans_come_from():
    vol = pd.DataFrame({"clinic": ["a"], "new_visits": [100.0], "operations": [10.0]})
    with pytest.raises(ValueError, match="monthly clinic's plan comes from the planning model"):
        rolling_plan(vol, pd.Period("2026-11", "M"))
