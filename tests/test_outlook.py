"""The coming weeks on the demo region: need, capacity, gap, purchase, plan, follow-up."""

import warnings

import numpy as np
import openpyxl
import pandas as pd
import pytest

from kps_analysis import outlook, parameters, plan, summary

ROOT = __import__("pathlib").Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def region(demo_region):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = demo_region  # demo.generate(end="2026-11-22") (tests/conftest.py)
        params = [parameters.load_parameters(c, ROOT / "parameters")
                  for c in parameters.list_clinics(ROOT / "parameters")]
        return data, params, outlook.clinic_outlook(data.weekly, data.waiting_list, params)


def test_backlog_clinic_needs_purchase_and_balanced_does_not(region):
    _, _, o = region
    h = outlook.headline_figures(o).set_index("clinic")
    assert h.loc["uro", "purchase_need_12w"] > 50
    assert h.loc["uro", "purchase_cost_12w"] > 0
    assert h.loc["gyn", "purchase_need_12w"] == 0
    assert h.loc["ort_syd", "purchase_need_12w"] == 0  # the clinic with spare capacity
    assert set(h["escalation"]) <= {"green", "yellow", "red"}


def test_gap_is_need_minus_capacity_and_headline_sums_it(region):
    _, _, o = region
    assert np.allclose(o.gap["gap"], o.gap["need"] - o.gap["capacity"])
    h = outlook.headline_figures(o).set_index("clinic")
    assert h.loc["uro", "capacity_gap_12w"] == pytest.approx(o.gap.loc[o.gap.clinic == "uro", "gap"].sum())


def test_guarantee_purchase_keeps_everyone_within_the_limit(region):
    _, _, o = region
    g = o.purchase[o.purchase["policy"] == "guarantee"]
    assert (g["over_limit"] <= 1e-9).all()
    assert (g["purchase"] >= 0).all()


def test_summary_carries_every_headline_column(region):
    data, _, o = region
    h = summary.headline(data.weekly, breaches=summary.projected_breaches(data.weekly, data.waiting_list),
                         outlook=outlook.headline_figures(o))
    assert list(h.columns[:8]) == list(summary.HEADLINE_COLUMNS)
    assert h[list(summary.HEADLINE_COLUMNS)].drop(columns="escalation").notna().all().all()


def test_plan_xlsx_holds_the_same_numbers_as_the_plan(region, tmp_path):
    data, params, o = region
    uro = [p for p in params if p.clinic_id == "uro"]
    weekly = data.weekly[data.weekly["clinic"] == "uro"]
    one = outlook.clinic_outlook(weekly, data.waiting_list[data.waiting_list["clinic"] == "uro"], uro)
    production = outlook.production_plan(weekly, uro, one)
    assert len(production) == 52 and (production["status"] == "fixed").sum() == 12
    path = plan.export_plan_xlsx(production, tmp_path / "plan.xlsx", tables={"Glapp": one.gap})
    sheet = pd.DataFrame(openpyxl.load_workbook(path)["Produktionsplan"].values)
    header = list(sheet.iloc[0])
    body = sheet.iloc[1:].reset_index(drop=True)
    column = [c for c in header if "nybesök" in str(c).lower() and "plan" in str(c).lower()][0]
    assert body[header.index(column)].astype(float).tolist() == production["planned_new_visits"].tolist()


def test_scenarios_change_what_they_should(region):
    data, params, _ = region
    uro = [p for p in params if p.clinic_id == "uro"]
    s = outlook.scenario_comparison(data.weekly[data.weekly["clinic"] == "uro"],
                                    data.waiting_list[data.waiting_list["clinic"] == "uro"], uro).set_index("scenario")
    assert s.loc["inflow_plus_10", "inflow"] == pytest.approx(1.1 * s.loc["baseline", "inflow"])
    assert s.loc["longer_summer_closure", "capacity"] < s.loc["baseline", "capacity"]
    assert s.loc["extra_theatre_sessions", "purchase_need"] < s.loc["baseline", "purchase_need"]


def test_clinic_outlook_says_monthly_clinics_are_planned_by_the_planning_model():
    p = pd.period_range("2024-01", periods=3, freq="M")
    m = pd.DataFrame({"clinic": "a", "period": p, "referrals_in": 10.0, "new_visits": 10.0, "queue_new_visit": 5.0})
    with pytest.raises(ValueError, match="monthly clinic is planned by kps_analysis.planning"):
        outlook.clinic_outlook(m, None, [])
