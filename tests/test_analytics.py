"""The report's analytics computed once for many clinics equal each clinic's own.

``kps run`` computes them for the whole region (grouped by alike settings, in chunks on a
pool); a notebook run on its own computes them for its clinic. Both must show the same
numbers, and a clinic's stored part must read back as written.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from kps_analysis import analytics, planning, store

ROOT = Path(__file__).resolve().parents[1]
CHEAP = [n for n in analytics.ANALYSES if n != "accuracy"]


@pytest.fixture(scope="module")
def region(demo_dir):
    from kps_analysis import data, parameters

    src = demo_dir  # the demo ending 2026-11-29 (tests/conftest.py)
    ps = [parameters.load_parameters(c, ROOT / "parameters") for c in ("onh", "hud", "ort_syd")]
    weekly = pd.concat([data.load_clinic(p, src).weekly for p in ps], ignore_index=True)
    model = planning.plan_clinics(weekly, None, ps, runs=20, with_scenarios=False, as_of="2026-12-01")
    return weekly, ps, model


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    a, b = a.reset_index(drop=True), b.reset_index(drop=True)
    keys = [c for c in ("clinic", "period", "stage", "measure", "season", "year", "method", "horizon")
            if c in a.columns]
    pd.testing.assert_frame_equal(a.sort_values(keys).reset_index(drop=True),
                                  b.sort_values(keys).reset_index(drop=True), check_dtype=False)


def test_the_region_at_once_equals_each_clinic_alone(region):
    weekly, ps, model = region
    together = analytics.compute(weekly, ps, model, names=CHEAP, parts_hint=2)
    for p in ps:
        alone = analytics.compute(weekly[weekly["clinic"] == p.clinic_id], [p], model.for_clinic(p.clinic_id),
                                  names=CHEAP)
        for name in CHEAP:
            mine = together[name][together[name]["clinic"] == p.clinic_id] if len(together[name]) else together[name]
            if len(alone[name]) or len(mine):
                _same(mine, alone[name])
    assert len(together["ratios"]) and set(together["ratios"]["clinic"]) == {"onh", "hud", "ort_syd"}


def test_the_backtest_does_not_depend_on_the_number_of_chunks(region):
    """The forecast accuracy pools over the clinics of a call (the method refitted at each
    origin chooses its model and seasonal factors over them): ``kps run`` with 1 or with 2
    workers must show a clinic the same accuracy. Chunks used to split its group and change it."""
    from concurrent.futures import ThreadPoolExecutor

    weekly, ps, model = region
    one = analytics.compute(weekly, ps, model, names=["accuracy"])["accuracy"]
    with ThreadPoolExecutor(2) as pool:
        chunked = analytics.compute(weekly, ps, model, names=["accuracy", "ratios"], executor=pool, parts_hint=3)
    assert len(one) and set(one["clinic"]) == {"onh", "hud", "ort_syd"}
    _same(chunked["accuracy"], one)
    assert set(chunked["ratios"]["clinic"]) == {"onh", "hud", "ort_syd"}


def test_stale_data_are_a_finding_with_both_dates(region):
    weekly, ps, _ = region
    old = weekly[(weekly["clinic"] == "onh") & (weekly["period"] <= pd.Period("2022-06-05", "W-SUN"))]
    model = planning.plan_clinics(old, None, [ps[0]], runs=10, with_scenarios=False, as_of="2026-12-01")
    found = analytics.compute(old, [ps[0]], model, names=["findings"])["findings"]
    text = " ".join(found["message"])
    assert "2022-06-05" in text and "2022-06-06" in text and "dagar före körningen" in text  # the report's words


def test_a_clinics_part_is_stored_and_read_back(region, tmp_path):
    weekly, ps, model = region
    frames = analytics.compute(weekly, ps, model, names=["ratios", "changes"])
    store.write_analytics(frames, tmp_path, "hud")
    back = store.read_analytics(tmp_path)
    assert set(back) == {"ratios", "changes"}
    _same(back["ratios"], frames["ratios"][frames["ratios"]["clinic"] == "hud"])
    assert store.read_analytics(tmp_path / "none") == {}


def test_a_capacity_finding_is_a_data_quality_finding(golden_demo_model):
    """uro's capacity section flags its resources (38 new visits a normal week) as more than 15 %
    below what it has produced, and calls it a data-quality question; its data-quality section
    said "no findings". The finding is now among them, with both figures."""
    weekly, ps, model = golden_demo_model
    uro = [p for p in ps if p.clinic_id == "uro"]
    found = analytics.compute(weekly[weekly["clinic"] == "uro"], uro, model.for_clinic("uro"),
                              names=["findings"])["findings"]
    rows = found[found["column"] == "resources"]
    check = model.capacity_check[(model.capacity_check["clinic"] == "uro") & model.capacity_check["finding"]]
    assert len(rows) == len(check) > 0
    assert f"{check['resources_per_week'].iloc[0]:.1f}".replace(".", ",") in rows["message"].iloc[0]  # sv report


def test_a_stage_the_data_cannot_plan_is_a_finding(region):
    """onh's data without its treatment columns (decisions, queue): the plan has no operations,
    and the data-quality findings say which columns are missing (the report said 'Inga
    anmärkningar' while the operations left the plan, the purchase and the agreement)."""
    weekly, ps, _ = region
    onh = weekly[weekly["clinic"] == "onh"].drop(columns=["treatment_decisions", "queue_treatment"])
    onh = onh.dropna(axis=1, how="all")
    model = planning.plan_clinics(onh, None, ps[:1], runs=20, with_scenarios=False, as_of="2026-12-01")
    assert set(model.plan["stage"]) == {"new_visit"}
    found = analytics.compute_one("findings", onh, ps[0], model)
    note = found[found["message"].str.contains("planeras inte")]
    assert len(note) == 1, found
    assert "treatment_decisions" in note["column"].iloc[0] and "queue_treatment" in note["column"].iloc[0]
    assert "operationer" in note["message"].iloc[0]
    # the columns as a file heads them (the user's file has Swedish headers), beside their ids
    assert "Behandlingsbeslut (treatment_decisions)" in note["message"].iloc[0], note["message"].iloc[0]
    # with its columns, no such finding
    whole = analytics.compute_one("findings", weekly[weekly["clinic"] == "onh"], ps[0], region[2])
    assert not whole["message"].str.contains("planeras inte").any()


def test_findings_are_in_each_clinics_language_whoever_it_is_computed_with(golden_demo_model):
    """kir with ``language: en`` planned with Swedish clinics: its English report's data quality
    read "Nybesök: kapaciteten enligt resurserna, 52,2 en normal vecka ..." (the call's first
    clinic's language)."""
    from kps_analysis.parameters import Parameters

    weekly, ps, model = golden_demo_model
    english = [Parameters({**p.to_dict(), "language": "en"}, clinic_id=p.clinic_id) if p.clinic_id == "uro" else p
               for p in ps]
    both = analytics.compute(weekly, english, model, names=["findings"])["findings"]
    swedish = analytics.compute(weekly, ps, model, names=["findings"])["findings"]
    uro = both[(both["clinic"] == "uro") & (both["column"] == "resources")]
    assert len(uro) and uro["message"].str.contains("capacity from the resources").all(), uro["message"].tolist()
    others = both[both["clinic"] != "uro"]
    assert not others["message"].str.contains("capacity from the resources").any()
    # the same findings, only the words differ
    key = ["clinic", "column", "severity"]
    pd.testing.assert_frame_equal(both[key].sort_values(key).reset_index(drop=True),
                                  swedish[key].sort_values(key).reset_index(drop=True))
