"""The previous run's plan is kept only in the kind of period the clinic plans in now.

A clinic whose data went from weeks to months (or back) between two runs in the same
output folder: the weekly run's fixed weeks cannot be read as months (``2026-W49`` is no
month; this failed every clinic's run), and months must not be read as weeks (``2026-12``
read as the week of 1 December put a month's production into one week, silently).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from kps_analysis import parameters, region
from kps_analysis.report_plan import read_previous

ROOT = Path(__file__).resolve().parent.parent


def _previous(folder: Path, periods: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    n = len(periods)
    pd.DataFrame({"clinic": "hud", "stage": "new_visit", "period": periods, "fixed": [True] * n,
                  "own_production": [350.0] * n, "purchase": [0.0] * n, "agreement": [280.0] * n}
                 ).to_csv(folder / "production_plan.csv", index=False)
    pd.DataFrame({"clinic": "hud", "stage": "new_visit", "period": periods[:1], "planned_own": [350.0]}
                 ).to_csv(folder / "plan_history.csv", index=False)
    return folder


def test_read_previous_keeps_only_the_same_kind_of_period(tmp_path):
    months = _previous(tmp_path / "m", ["2026-12", "2027-01"])
    weeks = _previous(tmp_path / "w", ["2026-W49", "2026-W50"])
    assert read_previous(months, kind="W") == (None, None)
    assert read_previous(weeks, kind="M") == (None, None)
    plan, history = read_previous(months, kind="M")
    assert list(plan["period"]) == ["2026-12", "2027-01"] and len(history) == 1
    plan, _ = read_previous(weeks, kind="W")
    assert list(plan["period"]) == ["2026-W49", "2026-W50"]
    plan, _ = read_previous(weeks)          # no kind given: as before
    assert len(plan) == 2


def test_a_weekly_clinic_does_not_keep_a_monthly_plan(tmp_path, demo_dir):
    """hud plans in weeks: last run's plan in months is left out (planned as a first run),
    last run's plan in weeks is kept."""
    p = parameters.load_parameters("hud", ROOT / "parameters")
    months = _previous(tmp_path / "m", ["2026-12", "2027-01"])
    inputs = region.read_inputs([p], demo_dir, {"hud": months})
    assert inputs.fixed_plans is None and inputs.histories is None
    assert inputs.previous_dropped == ["hud"]     # kps run says so in its progress
    weeks = _previous(tmp_path / "w", ["2026-W49", "2026-W50"])
    inputs = region.read_inputs([p], demo_dir, {"hud": weeks})
    assert len(inputs.fixed_plans) == 2 and len(inputs.histories) == 1
    assert inputs.previous_dropped == []


def test_the_report_says_the_previous_plan_was_not_kept(tmp_path, demo_dir, monkeypatch):
    """kps run printed that hud's monthly plan of last run is not kept; the report a manager reads
    said nothing, and its plan simply differed from last week's fixed plan."""
    from kps_analysis import data, planning, sections

    p = parameters.load_parameters("hud", ROOT / "parameters")
    hud = planning.plan_clinics(data.load_clinic(p, demo_dir).weekly, None, [p], runs=5, with_scenarios=False)
    # the clinic planned alone (its region's plan is not what this test is about): a few seconds, not the region's
    monkeypatch.setattr(region, "clinic_model", lambda *a, **k: (hud, {}))

    months = _previous(tmp_path / "m", ["2026-12", "2027-01"])
    weeks = _previous(tmp_path / "w", ["2026-W49", "2026-W50"])
    weekly = pd.DataFrame({"clinic": "hud", "period": pd.period_range("2026-11-02", periods=3, freq="W-SUN")})
    assert region.previous_dropped(months, weekly) and not region.previous_dropped(weeks, weekly)
    assert not region.previous_dropped("", weekly) and not region.previous_dropped(tmp_path / "none", weekly)
    ctx = sections.load("hud", ROOT / "parameters", demo_dir, previous_tables=str(months))
    assert ctx.previous_dropped
    sections._RECORDED = []
    try:
        sections._plan(ctx)
        texts = [o["data"].get("text/markdown", "") for o in sections._RECORDED]
    finally:
        sections._RECORDED = None
    assert any("Förra körningens plan var i månader, men data är nu i veckor" in t for t in texts), texts


def test_the_plan_section_says_the_fixed_plan_was_above_the_capacity_now():
    """kir's report showed own production 69 against a capacity of 52 in every fixed week, under a
    text saying own production is never above the capacity, without a word on why."""
    from types import SimpleNamespace

    from kps_analysis import sections

    settings = pd.DataFrame({"clinic": ["kir", "kir"], "stage": ["new_visit", "treatment"],
                             "guarantee_days": [90.0, 90.0], "fixed_above_capacity": [262.0, 262.0],
                             "fixed_above_capacity_first": ["2026-11-30/2026-12-06"] * 2})
    ctx = SimpleNamespace(language="sv", kind="week", model=SimpleNamespace(settings=settings))
    assert sections._fixed_above_capacity(ctx) == {"n": "262", "first": "v. 49 2026", "days": "90"}
    ctx.model.settings = settings.assign(fixed_above_capacity=0.0)
    assert sections._fixed_above_capacity(ctx) == {}
    ctx.model.settings = settings.drop(columns=["fixed_above_capacity", "fixed_above_capacity_first"])
    assert sections._fixed_above_capacity(ctx) == {}   # a model stored before this was measured
