"""kps_analysis.store: a clinic's planning model written once and read back identical."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kps_analysis import planning, store
from kps_analysis.planning import Assumptions


def _model():
    wait = pd.DataFrame({"clinic": ["a", "a", "b"], "stage": "treatment", "priority": ["1", "3", "2"],
                         "wait_days": [0, 88, 40], "patients": [20.0, 10.0, 5.0]})
    periods = pd.period_range("2027-01-04", periods=4, freq="W-SUN")
    flows = pd.concat([pd.DataFrame({"clinic": c, "stage": "treatment", "period_ahead": np.arange(1, 5),
                                     "period": periods, "inflow": 3.0, "capacity": 10.0}) for c in "ab"])
    settings = planning.assumptions_frame([Assumptions("a", lead_time_weeks=0), Assumptions("b")])
    plan = planning.project_plan(wait, flows, settings)
    by_month, unc = planning.simulate_plan(wait, flows, settings, plan, runs=20)
    model = planning.PlanningModel(settings=settings, waiting=wait, forecasts={"referrals_in": flows},
                                   flows=flows, capacity_check=pd.DataFrame({"clinic": ["a"], "x": [1.0]}),
                                   plan=plan, uncertainty_by_month=by_month, uncertainty=unc,
                                   follow_up=pd.DataFrame(), figures=pd.DataFrame({"clinic": ["a", "b"]}))
    return model


def test_a_stored_model_reads_back_identical(tmp_path):
    one = _model().for_clinic("a")
    store.write_model(one, tmp_path / "m")
    back = store.read_model(tmp_path / "m")
    pd.testing.assert_frame_equal(back.plan, one.plan.reset_index(drop=True))
    assert isinstance(back.plan["period"].dtype, pd.PeriodDtype)
    pd.testing.assert_frame_equal(back.uncertainty.attrs["clinic"], one.uncertainty.attrs["clinic"])
    assert set(back.forecasts) == {"referrals_in"}
    assert back.waiting.empty  # the waiting list is patient-level: never stored
    assert not list((tmp_path / "m").glob(".*tmp"))


def test_a_missing_model_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="no stored planning model"):
        store.read_model(tmp_path / "nothing")
