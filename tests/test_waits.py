"""Tests for kps_analysis.waits: NHSRtt band projection and calibration, wait distributions.

Parity with NHSRtt (nhs-bnssg-analytics/NHSRtt) is checked three ways:
1. its own published expectation for ``apply_params_to_projections``
   (tests/testthat/test-modelling.R, "apply_params_to_projections functionality",
   set.seed(1234)); the random inputs of that test are recovered exactly from the
   published output (see ``test_project_bands_matches_nhsrtt_published_numbers``);
2. its own expectations for ``calculate_incompletes`` (tests/testthat/test-utils.R);
3. small cases computed by hand following R/modelling.R and R/utils.R, and
   line-by-line transliterations of the R loops compared with the vectorised code.
"""

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from kps_analysis import waits as w
from kps_analysis.waits import project_breaches, waiting_from_aggregates

# ----------------------------------------------------------------------------- NHSRtt published
# tests/testthat/test-modelling.R (NHSRtt 0.3.x), "apply_params_to_projections functionality"
NHSRTT_RENEGE = [0.37640166060088, -2.06558994698596, -4.2180808626746, -4.25999018821329, -4.32030318523386]
NHSRTT_CAPACITY = [0.5196652828326, 2.55465828915496, 4.3484007188955, 4.38332515684441, 4.43358598769489]
NHSRTT_TREATMENTS = [
    20.04122796, 27.63423362, 42.12923285, 81.22443171, 155.9708739,
    5.118400036, 13.59862424, 31.91646707, 49.0484251, 279.3180835,
    1.156504437, 3.510835114, 15.87698091, 37.56314012, 390.8925394,
    0.2095794, 0.594326398, 3.071035894, 13.99962849, 382.1254298]
NHSRTT_RENEGES = [
    154.3246808, -237.5428439, -434.4623289, -839.2180671, -1615.793391,
    164.111124, -486.7234099, -1370.490791, -2110.114129, -12048.53131,
    162.6055174, -551.0384133, -2989.602255, -7086.420979, -73939.51857,
    175.0267722, -554.0696711, -3434.775038, -15687.34635, -429331.8355]
NHSRTT_INCOMPLETES = [
    235.6340912, 324.9086103, 495.333096, 954.9936354, 1833.822517,
    266.7704759, 708.7588769, 1663.482934, 2556.3988, 14558.02938,
    268.2379782, 814.2980541, 3682.484151, 8712.340773, 90663.0542,
    289.7636484, 821.7133229, 4246.002057, 19355.83087, 528325.105]


def test_project_bands_matches_nhsrtt_published_numbers():
    # The R test draws capacity, referrals (sample(300:500, 4)) and incompletes_t0
    # (sample(100:200, 5)) with set.seed(1234). They follow from its published output:
    #   referrals[t]   = reneges[t, band 0] / renege_param[0]   -> 410, 436, 432, 465
    #   capacity[t]    = sum_b calculated_treatments[t, b]        -> 327, 379, 449, 400
    #   t0[0], t0[1], t0[2] = reneges[1, b] / renege_param[b] for b = 1, 2, 3 -> 115, 103, 197
    #   t0[3] + t0[4]  = reneges[1, 4] / renege_param[4]          -> 374 (only the sum matters:
    #                    both enter the open-ended band 4 in period 1)
    rec_ref = np.array(NHSRTT_RENEGES).reshape(4, 5)[:, 0] / NHSRTT_RENEGE[0]
    rec_cap = np.array(NHSRTT_TREATMENTS).reshape(4, 5).sum(axis=1)
    np.testing.assert_allclose(rec_ref, [410, 436, 432, 465], atol=1e-5)
    np.testing.assert_allclose(rec_cap, [327, 379, 449, 400], atol=1e-5)
    with pytest.warns(UserWarning, match="renege_param has negative values"):
        p = w.project_bands([115, 103, 197, 200, 174], [410, 436, 432, 465], [327, 379, 449, 400],
                            NHSRTT_RENEGE, NHSRTT_CAPACITY)  # default redistribution "evenly", as R
    assert p["period"].tolist() == [t for t in range(1, 5) for _ in range(5)]
    assert p["band"].tolist() == list(range(5)) * 4
    np.testing.assert_allclose(p["treatments"], NHSRTT_TREATMENTS, rtol=1e-8)
    np.testing.assert_allclose(p["reneges"], NHSRTT_RENEGES, rtol=1e-8)
    np.testing.assert_allclose(p["incompletes"], NHSRTT_INCOMPLETES, rtol=1e-8)
    # the split of the 374 between bands 3 and 4 at the start does not matter
    with pytest.warns(UserWarning):
        p2 = w.project_bands([115, 103, 197, 0, 374], [410, 436, 432, 465], [327, 379, 449, 400],
                             NHSRTT_RENEGE, NHSRTT_CAPACITY)
    np.testing.assert_allclose(p2["incompletes"], p["incompletes"])


def test_zero_capacity_params_give_no_nan():
    # NHSRtt test: "functions when all capacity parameters are 0" (0/0 treatments -> 0)
    with pytest.warns(UserWarning):
        p = w.project_bands([115, 103, 197, 200, 174], [410, 436, 432, 465], [327, 379, 449, 400],
                            NHSRTT_RENEGE, [0] * 5)
    assert not p.isna().any().any()
    assert (p["treatments"] == 0).all()


# tests/testthat/test-utils.R: calculate_incompletes(inflow, reneges, treatments, method)
RT_INFLOW = np.array([11, 20, 20, 12, 16.0])
RT_RENEGES = np.array([6, 7, 7, 9, 9.0])


def test_redistribution_matches_nhsrtt_tests():
    before = RT_INFLOW - RT_RENEGES - np.array([9, 9, 9, 2, 7.0])  # = (-4, 4, 4, 1, 0)
    np.testing.assert_array_equal(before, [-4, 4, 4, 1, 0])
    # "none": unchanged (R expects c(-4, 4, 4, 1, 0))
    np.testing.assert_array_equal(w._redistribute(before, "none")[0], [-4, 4, 4, 1, 0])
    # "prioritise_long_waiters": R expects c(0, 4, 1, 0, 0): surplus 4 taken from band 4 (0),
    # band 3 (1 -> 0, 3 left), band 2 (4 -> 1, 0 left); nothing left for band 0 -> 0
    np.testing.assert_array_equal(w._redistribute(before, "prioritise_long_waiters")[0], [0, 4, 1, 0, 0])
    # sums kept (R: "total number of incompletes remains the same")
    other = RT_INFLOW - RT_RENEGES - np.array([9, 9, 9, 9, 7.0])
    assert w._redistribute(other, "prioritise_long_waiters")[0].sum() == pytest.approx(other.sum())
    # "evenly" on c(1, 2, 3, -1, 5, -4): R checks sum kept and min >= 0. By hand:
    # negatives total -5 -> (1, 2, 3, 0, 5, 0), 4 positive bands get -1.25 -> (-0.25, 0.75,
    # 1.75, 0, 3.75, 0); again -0.25 over 3 bands -> (0, 2/3, 5/3, 0, 11/3, 0)
    out, flagged = w._redistribute(np.array([1, 2, 3, -1, 5, -4.0]), "evenly")
    np.testing.assert_allclose(out, [0, 2 / 3, 5 / 3, 0, 11 / 3, 0])
    assert not flagged and out.sum() == pytest.approx(6)
    # R (one version warns): a negative total sets every band to 0
    out, flagged = w._redistribute(np.arange(-5, 3, dtype=float), "evenly")
    assert flagged and (out == 0).all()


# ----------------------------------------------------------------------------- R transliterations
def _r_redistribute_optimally(x):
    """Line-by-line transliteration of NHSRtt R/utils.R redistribute_incompletes_optimally."""
    x = list(map(float, x))
    total = abs(sum(v for v in x if v < 0))
    idx = [v < 0 for v in x]
    surplus = total
    if total > 0:
        for i in reversed(range(len(x))):
            if x[i] > 0 and surplus > 0:
                n = min(x[i], surplus)
                x[i] -= n
                surplus -= n
        for i in range(len(x)):
            if idx[i]:
                x[i] = surplus * (x[i] / total)
    return np.array(x)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(min_value=-100, max_value=100, allow_nan=False), min_size=2, max_size=8))
def test_property_long_waiters_equals_r_loop(values):
    x = np.array(values)
    np.testing.assert_allclose(w._redistribute_long_waiters(x)[0], _r_redistribute_optimally(x), atol=1e-9)


def _r_uplift(inflow, waiting, reneges):
    """Transliteration of NHSRtt R/modelling.R redistribute_negative_reneges (periods 1..T)."""
    n_periods, n_bands = inflow.shape
    inflow, waiting = inflow.copy(), waiting.copy()
    for start in range(1 - (n_bands - 1), n_periods + 1):      # min(period) - max(band) .. max(period)
        rows = [(p, p - start) for p in range(start, n_periods + 1)]   # months_waited_id = row_number - 1
        rows = [(p, b) for p, b in rows if 1 <= p <= n_periods and 0 <= b < n_bands]  # inner_join
        cumulative = 0.0
        for i in reversed(range(len(rows))):
            for p, b in rows:                                   # mutate(across(...)): every row
                inflow[p - 1, b] += cumulative
                waiting[p - 1, b] += cumulative
            p, b = rows[i]
            if reneges[p - 1, b] < 0:
                adjustment = abs(reneges[p - 1, b])
                inflow[p - 1, b] += adjustment
                cumulative += adjustment
    return inflow, waiting


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 5), st.integers(2, 5), st.data())
def test_property_uplift_equals_r_loop(n_periods, n_bands, data):
    vals = st.floats(min_value=0, max_value=100, allow_nan=False)
    inflow = np.array(data.draw(st.lists(vals, min_size=n_periods * n_bands, max_size=n_periods * n_bands))
                      ).reshape(n_periods, n_bands)
    waiting = np.array(data.draw(st.lists(vals, min_size=n_periods * n_bands, max_size=n_periods * n_bands))
                       ).reshape(n_periods, n_bands)
    reneges = np.array(data.draw(st.lists(st.floats(-50, 50), min_size=n_periods * n_bands,
                                          max_size=n_periods * n_bands))).reshape(n_periods, n_bands)
    got = w._uplift_negative_reneges(inflow, waiting, reneges)
    want = _r_uplift(inflow, waiting, reneges)
    np.testing.assert_allclose(got[0], want[0], atol=1e-7)
    np.testing.assert_allclose(got[1], want[1], atol=1e-7)


# ----------------------------------------------------------------------------- hand calculation
# Three bands (0, 1, open-ended 2), three periods, following R/modelling.R
# apply_params_to_projections: node_inflow (shift up one band, band 2 = old 1 + old 2,
# referrals into band 0), reneges = renege_param * node_inflow, calculated_treatments =
# capacity * capacity_param * node_inflow / sum(capacity_param * node_inflow) (NaN -> 0),
# incompletes = calculate_incompletes(node_inflow, reneges, treatments, method) (R/utils.R).
HAND = {"incomplete": [10, 6, 4], "referrals": [8, 8, 8], "capacity": [20, 20, 20],
            "renege_param": [0, 0.1, 0.2], "capacity_param": [0, 1, 3]}


def test_hand_case_evenly():
    with pytest.warns(UserWarning, match=r"periods \[2\]"):
        p = w.project_bands(**HAND, redistribution="evenly")
    t = {k: p[p.period == k].reset_index(drop=True) for k in (1, 2, 3)}
    # Period 1: inflow (8, 10, 6 + 4) = (8, 10, 10); reneges (0, 1, 2);
    # weights (0, 10, 30), sum 40 -> treatments 20 * (0, 10, 30) / 40 = (0, 5, 15);
    # before redistribution (8 - 0 - 0, 10 - 5 - 1, 10 - 15 - 2) = (8, 4, -7);
    # evenly: -7 off the two positive bands, -3.5 each -> (4.5, 0.5, 0)
    np.testing.assert_allclose(t[1]["inflow"], [8, 10, 10])
    np.testing.assert_allclose(t[1]["reneges"], [0, 1, 2])
    np.testing.assert_allclose(t[1]["treatments"], [0, 5, 15])
    np.testing.assert_allclose(t[1]["incompletes"], [4.5, 0.5, 0])
    # Period 2: inflow (8, 4.5, 0.5 + 0) = (8, 4.5, 0.5); reneges (0, 0.45, 0.1);
    # weights (0, 4.5, 1.5), sum 6 -> treatments (0, 15, 5);
    # before (8, 4.5 - 15 - 0.45, 0.5 - 5 - 0.1) = (8, -10.95, -4.6), total -7.55 < 0
    # -> every band 0 (R: sum(incomplete_counts) < 0 branch), with a warning
    np.testing.assert_allclose(t[2]["inflow"], [8, 4.5, 0.5])
    np.testing.assert_allclose(t[2]["reneges"], [0, 0.45, 0.1])
    np.testing.assert_allclose(t[2]["treatments"], [0, 15, 5])
    np.testing.assert_allclose(t[2]["incompletes"], [0, 0, 0])
    # Period 3: inflow (8, 0, 0); weights all 0 -> 0/0 -> treatments 0 (R: is.na -> 0);
    # incompletes (8, 0, 0)
    np.testing.assert_allclose(t[3]["treatments"], [0, 0, 0])
    np.testing.assert_allclose(t[3]["incompletes"], [8, 0, 0])


def test_hand_case_prioritise_long_waiters():
    with pytest.warns(UserWarning, match="negative bands remain"):
        p = w.project_bands(**HAND, redistribution="prioritise_long_waiters")
    t = {k: p[p.period == k].reset_index(drop=True) for k in (1, 2, 3)}
    # Period 1: before (8, 4, -7) as above; surplus 7 taken from the top: band 2 is the
    # negative one, band 1 gives 4 (-> 0, 3 left), band 0 gives 3 (-> 5); none left,
    # band 2 = 0 * (-7 / 7) = 0 -> (5, 0, 0)
    np.testing.assert_allclose(t[1]["incompletes"], [5, 0, 0])
    # Period 2: inflow (8, 5, 0 + 0); reneges (0, 0.5, 0); weights (0, 5, 0) -> treatments
    # (0, 20, 0); before (8, 5 - 20 - 0.5, 0) = (8, -15.5, 0); surplus 15.5: band 0 gives 8,
    # 7.5 left -> band 1 = 7.5 * (-15.5 / 15.5) = -7.5 -> (0, -7.5, 0)
    np.testing.assert_allclose(t[2]["treatments"], [0, 20, 0])
    np.testing.assert_allclose(t[2]["incompletes"], [0, -7.5, 0])
    # Period 3: inflow (8, 0, -7.5 + 0); reneges (0, 0, -1.5); weights (0, 0, -22.5) ->
    # treatments 20 * (0, 0, 1) = (0, 0, 20); before (8, 0, -7.5 - 20 + 1.5) = (8, 0, -26);
    # surplus 26: band 0 gives 8, 18 left -> (0, 0, -18)
    np.testing.assert_allclose(t[3]["inflow"], [8, 0, -7.5])
    np.testing.assert_allclose(t[3]["treatments"], [0, 0, 20])
    np.testing.assert_allclose(t[3]["incompletes"], [0, 0, -18])


def test_hand_case_none_first_period():
    p = w.project_bands(**HAND, redistribution="none")
    np.testing.assert_allclose(p[p.period == 1]["incompletes"], [8, 4, -7])  # no redistribution


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("kwargs, name", [
    ({"capacity": [20, 20]}, "capacity"),
    ({"renege_param": [0, 0.1]}, "renege_param"),
    ({"capacity_param": [0, 1, 3, 4]}, "capacity_param"),
    ({"referrals": [8, -1, 8]}, "referrals"),
    ({"capacity": [20, -20, 20]}, "capacity"),
    ({"incomplete": [10]}, "incomplete"),
    ({"incomplete": [10, np.nan, 4]}, "incomplete"),
    ({"incomplete": [[10, 6, 4]]}, "incomplete"),
    ({"redistribution": "proportional"}, "redistribution"),
])
def test_project_bands_bad_input(kwargs, name):
    args = {**HAND, **kwargs}
    with pytest.raises(ValueError, match=name):
        w.project_bands(**args)


def test_negative_params_warn_not_refuse():
    with pytest.warns(UserWarning, match="capacity_param"):
        p = w.project_bands([10, 5], [8], [6], [0.1, 0.1], [-0.5, 0.5])
    assert len(p) == 2


# ----------------------------------------------------------------------------- properties
params01 = st.floats(min_value=0, max_value=1)
counts = st.floats(min_value=0, max_value=500)


@st.composite
def scenarios(draw):
    n_bands = draw(st.integers(2, 6))
    n_periods = draw(st.integers(1, 6))
    return {
        "incomplete": draw(st.lists(counts, min_size=n_bands, max_size=n_bands)),
        "referrals": draw(st.lists(counts, min_size=n_periods, max_size=n_periods)),
        "capacity": draw(st.lists(counts, min_size=n_periods, max_size=n_periods)),
        "renege_param": draw(st.lists(params01, min_size=n_bands, max_size=n_bands)),
        "capacity_param": draw(st.lists(params01, min_size=n_bands, max_size=n_bands)),
    }


def _project_quiet(s, method):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return w.project_bands(**s, redistribution=method)


@settings(max_examples=150, deadline=None)
@given(scenarios(), st.sampled_from(w.REDISTRIBUTION_METHODS))
def test_property_conservation(s, method):
    p = _project_quiet(s, method)
    n_periods = len(s["referrals"])
    totals = p.groupby("period")[["treatments", "reneges", "incompletes", "inflow"]].sum()
    previous = np.concatenate([[sum(s["incomplete"])], totals["incompletes"].to_numpy()[:-1]])
    before = totals["inflow"] - totals["treatments"] - totals["reneges"]
    for t in range(n_periods):
        scale = 1 + abs(previous[t]) + s["referrals"][t] + s["capacity"][t]
        if method == "evenly" and before.iloc[t] < 0:
            # the list would go negative: NHSRtt empties every band instead
            assert (p[p.period == t + 1]["incompletes"] == 0).all()
            continue
        lhs = previous[t] + s["referrals"][t] - totals["treatments"].iloc[t] - totals["reneges"].iloc[t]
        assert lhs == pytest.approx(totals["incompletes"].iloc[t], abs=1e-9 * scale * 10)


@settings(max_examples=150, deadline=None)
@given(scenarios())
def test_property_no_negative_band_evenly(s):
    p = _project_quiet(s, "evenly")
    assert (p["incompletes"] >= -1e-9 * (1 + p["inflow"].abs().max())).all()


@settings(max_examples=150, deadline=None)
@given(scenarios())
def test_property_no_negative_band_long_waiters_when_list_not_exhausted(s):
    p = _project_quiet(s, "prioritise_long_waiters")
    before = (p["inflow"] - p["treatments"] - p["reneges"]).groupby(p["period"]).sum()
    exhausted = before[before < 0].index
    assume(len(exhausted) == 0)
    assert (p["incompletes"] >= -1e-9 * (1 + p["inflow"].abs().max())).all()


@settings(max_examples=100, deadline=None)
@given(scenarios())
def test_property_calibration_recovers_parameters(s):
    # project without redistribution, then calibrate on the projected snapshots:
    # renege_param is recovered exactly; capacity_param up to a factor per period
    # (capacity[t] / sum(c * n)), the same in every band.
    p = _project_quiet(s, "none")
    n_bands = len(s["incomplete"])
    snaps = np.vstack([s["incomplete"], p["incompletes"].to_numpy().reshape(-1, n_bands)])
    tr = p["treatments"].to_numpy().reshape(-1, n_bands)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        full = w.calibrate_bands(snaps, tr, s["referrals"], redistribute_m0_reneges=False, full_breakdown=True)
    scale = 1 + np.abs(snaps).max() + max(s["referrals"]) + max(s["capacity"])
    np.testing.assert_allclose(full["inflow"], p["inflow"], rtol=1e-9, atol=1e-9 * scale)
    ok = np.abs(full["inflow"].to_numpy()) > 1e-3 * scale
    np.testing.assert_allclose(full["renege_param"].to_numpy()[ok],
                               np.tile(s["renege_param"], len(s["referrals"]))[ok], atol=1e-6)
    c = np.tile(s["capacity_param"], len(s["referrals"]))
    keep = ok & (c > 0.01)
    ratio = full["capacity_param"].to_numpy()[keep] / c[keep]
    per = full["period"].to_numpy()[keep]
    for t in np.unique(per):
        r = ratio[per == t]
        np.testing.assert_allclose(r, r[0], rtol=1e-6, atol=1e-9)


# ----------------------------------------------------------------------------- calibration by hand
def test_calibrate_hand_two_bands_two_periods():
    # Snapshots (end of periods 0, 1, 2) for bands 0 and 1 (open-ended):
    inc = [[10, 5],
           [6, 12],
           [7, 14]]
    treated = [[2, 3],
               [1, 2]]
    refs = [8, 9]
    # Period 1: inflow (8, 10 + 5) = (8, 15); reneges (8 - 2 - 6, 15 - 3 - 12) = (0, 0)
    # Period 2: inflow (9, 6 + 12) = (9, 18); reneges (9 - 1 - 7, 18 - 2 - 14) = (1, 2)
    full = w.calibrate_bands(inc, treated, refs, full_breakdown=True)
    np.testing.assert_allclose(full["inflow"], [8, 15, 9, 18])
    np.testing.assert_allclose(full["reneges"], [0, 0, 1, 2])
    # renege params (0, 0, 1/9, 2/18), capacity params (2/8, 3/15, 1/9, 2/18); means:
    # band 0 renege (0 + 1/9) / 2 = 0.055556, capacity (0.25 + 1/9) / 2 = 0.180556
    # band 1 renege (0 + 1/9) / 2 = 0.055556, capacity (0.2 + 1/9) / 2 = 0.155556
    out = w.calibrate_bands(inc, treated, refs)
    assert out["band"].tolist() == [0, 1]
    np.testing.assert_allclose(out["renege_param"], [1 / 18, 1 / 18])
    np.testing.assert_allclose(out["capacity_param"], [(0.25 + 1 / 9) / 2, (0.2 + 1 / 9) / 2])


def test_calibrate_negative_reneges_options():
    # Period 1, band 0: 8 referrals, 2 treated, 7 still waiting -> reneges 8 - 2 - 7 = -1
    inc = [[10, 5], [7, 12]]
    treated = [[2, 3]]
    # redistribute_m0_reneges: the missing referral is added: inflow 9, reneges 0
    out = w.calibrate_bands(inc, treated, [8], full_breakdown=True)
    assert out.loc[0, "inflow"] == 9 and out.loc[0, "reneges"] == 0
    # without it the negative parameter stays, with NHSRtt's warning
    with pytest.warns(UserWarning, match="negative renege parameters present"):
        out = w.calibrate_bands(inc, treated, [8], redistribute_m0_reneges=False)
    assert out.loc[0, "renege_param"] == pytest.approx(-1 / 8)
    # allow_negative_params=False: the cohort is uplifted (R redistribute_negative_reneges)
    # cohort of band 0 in period 1 has one compartment (position 0): its own inflow + 1
    out = w.calibrate_bands(inc, treated, [8], redistribute_m0_reneges=False, allow_negative_params=False,
                            full_breakdown=True)
    assert out.loc[0, "inflow"] == 9 and out.loc[0, "reneges"] == 0
    # band 1 of period 1 (inflow 15, treated 3, waiting 12) is untouched: reneges 0
    assert out.loc[1, "inflow"] == 15 and out.loc[1, "reneges"] == 0


def test_calibrate_bad_input():
    with pytest.raises(ValueError, match="treatments"):
        w.calibrate_bands([[10, 5], [6, 12]], [[2, 3], [1, 1]], [8])
    with pytest.raises(ValueError, match="referrals"):
        w.calibrate_bands([[10, 5], [6, 12]], [[2, 3]], [8, 9])
    with pytest.raises(ValueError, match="incompletes"):
        w.calibrate_bands([[10, 5]], [[2, 3]], [8])
    with pytest.raises(ValueError, match="incompletes"):
        w.calibrate_bands([[10], [6]], [[2]], [8])


# ----------------------------------------------------------------------------- capacity for target
def test_capacity_for_target_meets_target():
    inc, refs, r, c = [100, 100, 100], [50] * 3, [0, 0, 0], [0.2, 0.5, 1.0]
    cap = w.capacity_for_target(inc, refs, r, c, limit_band=2, target_share=0.9)
    p = w.project_bands(inc, refs, [cap] * 3, r, c)
    last = p[p.period == 3]["incompletes"].to_numpy()
    assert last[:2].sum() / last.sum() == pytest.approx(0.9, abs=1e-6)
    # a little less capacity misses the target
    p = w.project_bands(inc, refs, [cap - 1] * 3, r, c)
    last = p[p.period == 3]["incompletes"].to_numpy()
    assert last[:2].sum() / last.sum() < 0.9
    # by an earlier period needs more capacity
    assert w.capacity_for_target(inc, refs, r, c, limit_band=2, target_share=0.9, by_period=2) > cap


def test_capacity_for_target_edges():
    # already within target without capacity -> 0
    assert w.capacity_for_target([100, 0, 0], [10], [0, 0, 0], [1, 1, 1], limit_band=2, target_share=0.5) == 0.0
    with pytest.raises(ValueError, match="limit_band"):
        w.capacity_for_target([1, 2, 3], [1], [0, 0, 0], [1, 1, 1], limit_band=3)
    with pytest.raises(ValueError, match="target_share"):
        w.capacity_for_target([1, 2, 3], [1], [0, 0, 0], [1, 1, 1], limit_band=2, target_share=1.5)
    with pytest.raises(ValueError, match="by_period"):
        w.capacity_for_target([1, 2, 3], [1], [0, 0, 0], [1, 1, 1], limit_band=2, by_period=2)
    with pytest.raises(ValueError, match="redistribution"):
        w.capacity_for_target([1, 2, 3], [1], [0, 0, 0], [1, 1, 1], limit_band=2, redistribution="x")


def test_capacity_for_target_unreachable_warns_nan():
    # all capacity params 0: capacity treats nobody, the share stays 10 / 110
    with pytest.warns(UserWarning, match="not reached"):
        out = w.capacity_for_target([0, 0, 100], [10], [0, 0, 0], [0, 0, 0], limit_band=1,
                                    target_share=0.99)
    assert math.isnan(out)


# ----------------------------------------------------------------------------- distributions
def _snapshot():
    return pd.DataFrame({
        "clinic": ["a"] * 6 + ["b"] * 3,
        "priority": ["1", "2", "3", "3", "2", "1", "2", "2", "3"],
        "stage": ["new_visit"] * 4 + ["treatment"] * 2 + ["new_visit"] * 3,
        "wait_days": [0, 30, 31, 91, 181, 90, 60, 61, 400],
        "patient_chosen_wait": [False, False, False, True, False, False, False, False, False],
    })


def test_wait_distribution_standard_bands():
    d = w.wait_distribution(_snapshot())
    assert list(d.columns) == ["clinic", "stage", "band", "band_start_days", "band_end_days", "patients"]
    a_new = d[(d.clinic == "a") & (d.stage == "new_visit")]
    # waits 0, 30 -> 0-30; 31 -> 31-60; 91 excluded (patient chose to wait)
    assert a_new["band"].tolist() == ["0-30", "31-60", "61-90", "91-180", ">180"]
    assert a_new["patients"].tolist() == [2, 1, 0, 0, 0]
    a_tr = d[(d.clinic == "a") & (d.stage == "treatment")]
    assert a_tr["patients"].tolist() == [0, 0, 1, 0, 1]  # 90 -> 61-90, 181 -> >180
    b = d[d.clinic == "b"]
    assert b["patients"].tolist() == [0, 1, 1, 0, 1]  # 60, 61, 400
    assert d["band_end_days"].iloc[4] == np.inf


def test_wait_distribution_weekly_and_by():
    d = w.wait_distribution(_snapshot(), bands="weekly", max_weeks=13, by="clinic")
    a = d[d.clinic == "a"].set_index("band")["patients"]
    assert len(a) == 14 and a.index[-1] == ">=91"
    # clinic a included waits 0, 30, 31, 181, 90: 0 -> 0-6, 30 -> 28-34 (week 4),
    # 31 -> 28-34, 90 -> 84-90 (week 12), 181 -> >=91
    assert a["0-6"] == 1 and a["28-34"] == 2 and a["84-90"] == 1 and a[">=91"] == 1
    assert a.sum() == 5


def test_wait_summary_by_hand():
    s = w.wait_summary(_snapshot())
    a_new = s[(s.clinic == "a") & (s.stage == "new_visit")].iloc[0]
    # included 0, 30, 31 (91 chosen): median 30, p90 = 30 + 0.8 * (31 - 30) = 30.8
    assert a_new["waiting"] == 3 and a_new["excluded_chosen"] == 1
    assert a_new["p50_days"] == 30 and a_new["p90_days"] == pytest.approx(30.8)
    assert a_new["over_limit"] == 0 and a_new["share_over_limit"] == 0
    b = s[s.clinic == "b"].iloc[0]
    # 60, 61, 400: one of three over 90 days
    assert b["share_over_limit"] == pytest.approx(1 / 3) and b["mean_wait_days"] == pytest.approx(521 / 3)
    with pytest.raises(ValueError, match="percentiles"):
        w.wait_summary(_snapshot(), percentiles=(50, 120))
    with pytest.raises(ValueError, match="wait_days"):
        w.wait_summary(_snapshot().drop(columns="wait_days"))


def test_wait_summary_from_bands_consistent_with_raw():
    snap = _snapshot()
    for bands in ("standard", "weekly"):
        counts = w.wait_distribution(snap, bands=bands)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est = w.wait_summary_from_bands(counts)
        raw = w.wait_summary(snap)
        merged = raw.merge(est, on=["clinic", "stage"], suffixes=("", "_bands"))
        # the 90-day limit is a band edge in both band sets: the count over it is exact
        np.testing.assert_array_equal(merged["over_limit"], merged["over_limit_bands"])
        np.testing.assert_allclose(merged["share_over_limit"], merged["share_over_limit_bands"])
        np.testing.assert_array_equal(merged["waiting"], merged["waiting_bands"])


def test_wait_summary_from_bands_open_band_warns():
    b = pd.DataFrame({"clinic": "a", "band_start_days": [0, 181], "band_end_days": [181, np.inf],
                      "patients": [1, 9]})
    with pytest.warns(UserWarning, match="open-ended"):
        out = w.wait_summary_from_bands(b)
    assert out.loc[0, "p90_days"] == 181  # lower bound: the band's start


# ---------------------------------------------------------------- breach projection


def _flows(clinic, inflow, capacity, external=None):
    h = len(inflow)
    f = pd.DataFrame({"clinic": clinic, "week_ahead": np.arange(1, h + 1),
                      "inflow": np.asarray(inflow, float), "capacity": np.asarray(capacity, float)})
    if external is not None:
        f["external"] = np.asarray(external, float)
    return f


def test_breaches_fifo_by_hand():
    # 40 waited 80 days, 40 waited 10 days; 10 served a week; no arrivals.
    # week 1: serve 10 of the 80-day group -> 30 at 87 days, 40 at 17 -> 0 over 90
    # week 2: serve 10 more -> 20 at 94 days (> 90) -> 20 over
    # week 3: serve 10 -> 10 at 101 days -> 10 over
    wait = pd.DataFrame({"clinic": "a", "wait_days": [80, 10], "patients": [40.0, 40.0]})
    r = project_breaches(wait, _flows("a", [0, 0, 0], [10, 10, 10]), order="fifo")
    assert r["queue"].tolist() == [70.0, 60.0, 50.0]
    assert r["over_limit"].tolist() == [0.0, 20.0, 10.0]
    assert r["served"].tolist() == [10.0, 10.0, 10.0]


def test_priority_serves_urgent_before_long_waiters():
    # 10 priority-3 patients at 85 days, 10 priority-1 at 5 days, capacity 10/week.
    wait = pd.DataFrame({"clinic": "a", "priority": ["3", "1"], "wait_days": [85, 5], "patients": [10.0, 10.0]})
    flows = _flows("a", [0, 0], [10, 10])
    by_priority = project_breaches(wait, flows, order="priority")
    fifo = project_breaches(wait, flows, order="fifo")
    assert by_priority["over_limit"].tolist() == [10.0, 0.0]  # the priority-3 ten pass 90 days in week 1
    assert fifo["over_limit"].tolist() == [0.0, 0.0]


def test_constant_inflow_above_capacity_breaches_start_when_oldest_pass_90():
    # FIFO queue of 85 daily cohorts (ages 0..84 days) of 100/7 patients; 100 arrive a
    # week, 90 are served. 90 a week clears 6.3 cohorts a week, so the oldest remaining
    # cohort ages by 7 - 6.3 = 0.7 days a week. By hand:
    # after 9 weeks 810 served = cohorts 84..29 (800) + 10 of cohort 28, whose remaining
    # 100/7 - 10 = 4.2857 patients have waited 28 + 63 = 91 > 90 days;
    # after 10 weeks 900 served = cohorts 84..22; cohort 21 has waited 21 + 70 = 91 days.
    wait = pd.DataFrame({"clinic": "a", "wait_days": np.arange(0, 85), "patients": 100.0 / 7})
    r = project_breaches(wait, _flows("a", [100] * 12, [90] * 12), order="fifo")
    assert np.allclose(np.diff(r["queue"]), 10.0)
    assert (r["over_limit"].iloc[:8] == 0).all()
    assert np.isclose(r["over_limit"].iloc[8], 100 / 7 - 10)
    assert np.isclose(r["over_limit"].iloc[9], 100 / 7)
    assert np.allclose(np.diff(r["over_limit"].iloc[9:]), 10.0)


def test_external_purchase_serves_like_capacity():
    wait = pd.DataFrame({"clinic": "a", "wait_days": [80], "patients": [30.0]})
    r = project_breaches(wait, _flows("a", [0, 0], [10, 10], external=[5, 5]), order="fifo")
    assert r["served"].tolist() == [15.0, 15.0]
    assert r["over_limit"].tolist() == [0.0, 0.0]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(0, 400), min_size=1, max_size=6),
    st.lists(st.tuples(st.floats(0, 80), st.floats(0, 80)), min_size=1, max_size=8),
    st.floats(0, 0.2),
)
def test_breach_projection_conserves_patients(ages, flows, renege):
    wait = pd.DataFrame({"clinic": "a", "wait_days": ages, "patients": 3.0})
    f = _flows("a", [x for x, _ in flows], [c for _, c in flows])
    r = project_breaches(wait, f, order="fifo", renege_rate_per_week=renege)
    opening = wait["patients"].sum()
    closing = opening + r["inflow"].cumsum() - r["served"].cumsum() - r["reneged"].cumsum()
    assert np.allclose(closing, r["queue"], atol=1e-6)
    assert (r["over_limit"] <= r["queue"] + 1e-9).all()
    assert (r[["served", "unused_capacity", "queue", "over_limit"]] >= -1e-9).all().all()


def test_many_clinics_equal_one_by_one():
    rng = np.random.default_rng(1)
    waits_, flows_ = [], []
    for c in "abc":
        waits_.append(pd.DataFrame({"clinic": c, "wait_days": rng.integers(0, 200, 50), "patients": 1.0}))
        flows_.append(_flows(c, rng.uniform(0, 20, 6), rng.uniform(0, 20, 6)))
    together = project_breaches(pd.concat(waits_), pd.concat(flows_), order="fifo")
    for wt, f in zip(waits_, flows_):
        alone = project_breaches(wt, f, order="fifo")
        part = together[together["clinic"] == wt["clinic"].iloc[0]].reset_index(drop=True)
        pd.testing.assert_frame_equal(part, alone)


def test_waiting_from_aggregates_rebuilds_the_queue_from_latest_arrivals():
    p = pd.period_range("2024-01-01", periods=4, freq="W-SUN")
    w = pd.DataFrame({"clinic": "a", "period": p, "referrals_in": [10.0, 10.0, 10.0, 14.0],
                      "referrals_forwarded": [0.0, 0.0, 0.0, 7.0], "queue_new_visit": [9.0, 9.0, 9.0, 12.0]})
    r = waiting_from_aggregates(w)
    # net arrivals last week 7 (ages 0-6 days), then 5 of the week before (ages 7-13)
    assert np.isclose(r["patients"].sum(), 12.0)
    assert np.isclose(r.loc[r["wait_days"] <= 6, "patients"].sum(), 7.0)
    assert np.isclose(r.loc[r["wait_days"].between(7, 13), "patients"].sum(), 5.0)
    with pytest.raises(ValueError, match="stage"):
        waiting_from_aggregates(w, stage="x")


def _reference_waiting_from_aggregates(weekly, stage="new_visit", guarantee_days=90):
    """The first implementation (pandas groupby and sort on string keys), kept as the reference."""
    queue_col, arrivals, minus = (("queue_new_visit", "referrals_in", ["referrals_forwarded"]) if stage == "new_visit"
                                  else ("queue_treatment", "treatment_decisions", []))
    over_col = f"waiting_over_90_{stage}"
    frame = weekly.groupby(["clinic", "period"], observed=True, as_index=False).sum(numeric_only=True, min_count=1)
    inflow = frame[arrivals].fillna(0.0)
    for col in minus:
        if col in frame.columns:
            inflow = inflow - frame[col].fillna(0.0)
    frame = frame.assign(_in=inflow.clip(lower=0.0))
    frame = frame.sort_values(["clinic", "period"], ascending=[True, False]).reset_index(drop=True)
    k = frame.groupby("clinic").cumcount().to_numpy()
    queue = frame.groupby("clinic")[queue_col].transform("first").fillna(0.0).to_numpy()
    over = (frame.groupby("clinic")[over_col].transform("first").fillna(0.0).to_numpy()
            if over_col in frame.columns else np.full(len(frame), np.nan))
    days = pd.DataFrame({"clinic": np.repeat(frame["clinic"].to_numpy(), 7),
                         "wait_days": (7 * np.repeat(k, 7) + np.tile(np.arange(7), len(frame))),
                         "_in": np.repeat(frame["_in"].to_numpy() / 7.0, 7),
                         "_queue": np.repeat(queue, 7), "_over": np.repeat(over, 7)})
    fifo = np.isnan(days["_over"].to_numpy())
    old = (days["wait_days"].to_numpy() > guarantee_days) & ~fifo
    part = np.where(fifo, 0, np.where(old, 2, 1))
    within = (days["_queue"] - days["_over"]).clip(lower=0)
    target = np.where(fifo, days["_queue"], np.where(old, days["_over"], within))
    days = days.assign(_part=part, _target=target).sort_values(["clinic", "_part", "wait_days"])
    before = days.groupby(["clinic", "_part"])["_in"].cumsum() - days["_in"]
    days["patients"] = (days["_target"] - before).clip(lower=0.0).clip(upper=days["_in"])
    out = days[days["patients"] > 0].assign(stage=stage)
    return out[["clinic", "stage", "wait_days", "patients"]].sort_values(["clinic", "wait_days"]).reset_index(drop=True)


@pytest.mark.parametrize("case", range(8))
def test_waiting_from_aggregates_equals_the_pandas_reference_to_the_bit(case):
    # the array version (integer codes, one grid of clinics x days) gives the same rows and
    # the same numbers, bit for bit, as the groupby version it replaced: unsorted rows,
    # missing weeks, groups (several rows per clinic and week), missing queues, with and
    # without the over-90 column, whole and fractional limits
    rng = np.random.default_rng(case)
    n_c, n_w = int(rng.integers(1, 12)), int(rng.integers(1, 60))
    p = pd.period_range("2023-01-02", periods=n_w, freq="W-SUN")
    f = pd.DataFrame({"clinic": np.repeat([f"c{i}" for i in rng.permutation(n_c)], n_w), "period": np.tile(p, n_c)})
    for col in ("referrals_in", "treatment_decisions"):
        f[col] = rng.poisson(20, len(f)).astype(float)
    f["referrals_forwarded"] = rng.poisson(2, len(f)).astype(float)
    f["queue_new_visit"] = rng.uniform(0, 400, len(f)).round(1)
    f["queue_treatment"] = rng.uniform(0, 200, len(f)).round(1)
    if case % 2:
        f["waiting_over_90_new_visit"] = np.floor(f["queue_new_visit"] * rng.uniform(0, 0.3))
        f["waiting_over_90_treatment"] = np.floor(f["queue_treatment"] * rng.uniform(0, 0.3))
    f = f.sample(frac=0.9 if case % 3 else 1.0, random_state=case)
    if case % 4 == 1:
        f = pd.concat([f.assign(group="x"), f.assign(group="y", referrals_in=f["referrals_in"] / 3)])
    if case % 4 == 2:
        f.loc[f.sample(frac=0.3, random_state=1).index, "queue_new_visit"] = np.nan
    for stage in ("new_visit", "treatment"):
        for limit in (90, 45.5):
            expected = _reference_waiting_from_aggregates(f, stage, limit)
            got = waiting_from_aggregates(f, stage=stage, guarantee_days=limit)
            pd.testing.assert_frame_equal(got, expected, check_exact=True, check_dtype=False)


def test_waiting_from_aggregates_spreads_a_month_over_its_days():
    # monthly data: January's 31 arrivals are 1 a day, February's 29 (2024) 1 a day; a
    # queue of 40 is February's 29 (0-28 days) and the newest 11 of January (29-39 days)
    p = pd.period_range("2024-01", periods=2, freq="M")
    m = pd.DataFrame({"clinic": "a", "period": p, "referrals_in": [31.0, 29.0], "queue_new_visit": [10.0, 40.0]})
    r = waiting_from_aggregates(m)
    assert r["wait_days"].tolist() == list(range(40))
    assert np.allclose(r["patients"], 1.0)
    # weekly data are the special case of 7-day periods: 4 weeks of 7 arrivals, queue 10
    w = pd.DataFrame({"clinic": "a", "period": pd.period_range("2024-01-01", periods=4, freq="W-SUN"),
                      "referrals_in": 7.0, "queue_new_visit": 10.0})
    assert waiting_from_aggregates(w)["wait_days"].tolist() == list(range(10))


def test_breach_projection_with_nobody_waiting_now():
    wait = pd.DataFrame({"clinic": pd.Series([], dtype=str), "wait_days": pd.Series([], dtype=float),
                         "patients": pd.Series([], dtype=float)})
    r = project_breaches(wait, _flows("a", [14, 14], [7, 7]), order="fifo")
    assert r["queue"].tolist() == [7.0, 14.0]
    assert r["over_limit"].tolist() == [0.0, 0.0]


def _reference_split_by_period_lengths(flows):
    """The string-signature version (a groupby joining each series' period lengths), kept as the reference."""
    ahead = w.ahead_column(flows)
    keys = [k for k in ("clinic", "group", "stage") if k in flows.columns]
    days = pd.Series(w.flow_period_days(flows), index=flows.index)
    signature = (days.astype(str).groupby([flows[k] for k in keys] + [flows[ahead]], sort=True).first()
                 .groupby(level=list(range(len(keys)))).agg(",".join))
    if signature.nunique() <= 1:
        return [flows]
    label = pd.MultiIndex.from_frame(flows[keys]) if len(keys) > 1 else pd.Index(flows[keys[0]])
    sig = signature.reindex(label).to_numpy()
    return [flows[sig == s] for s in pd.unique(sig)]


def test_split_by_period_lengths_equals_the_string_signature_reference():
    """The integer-code check gives the same parts as joining every series' lengths as strings."""
    rng = np.random.default_rng(0)
    for trial in range(300):
        n = int(rng.integers(1, 40))
        f = pd.DataFrame({"clinic": rng.choice(["a", "b", None, "c"], n), "stage": rng.choice(["x", "y"], n),
                          "week_ahead": rng.choice([1.0, 2.0, 3.0, np.nan], n)})
        if trial % 2:  # months: some of other lengths
            f = f.rename(columns={"week_ahead": "period_ahead"})
            f["period_days"] = rng.choice([7, 7, 7, 30] if trial % 4 == 1 else [31], n)
        got, expected = w._split_by_period_lengths(f), _reference_split_by_period_lengths(f)
        assert len(got) == len(expected)
        for g, e in zip(got, expected):
            pd.testing.assert_frame_equal(g, e)


def test_patients_the_aggregates_report_over_the_limit_are_not_all_served_first():
    """kir, onh and hud (weekly aggregates) reported 39, 36 and 29 patients over 90 days,
    week after week, yet the plan served them all in its first week and showed nobody over
    the limit if nothing was bought. By hand: 7 arrive and 7 are served a week, the queue is
    10 of whom 2 have waited over 90 days; the 7 served are the 7 oldest within the limit,
    so the 2 stay over it, as the data show them staying (conservation: 10 + 7 − 7 = 10)."""
    import numpy as np

    from kps_analysis.summary import projected_breaches
    from kps_analysis.waits import aggregate_classes

    p = pd.period_range("2025-01-06", periods=80, freq="W-SUN")
    weekly = pd.DataFrame({"clinic": "a", "period": p, "referrals_in": 7.0, "new_visits": 7.0,
                           "queue_new_visit": 10.0, "waiting_over_90_new_visit": 2.0})
    out = projected_breaches(weekly, horizon_weeks=4)
    assert out["queue"].tolist() == [10.0] * 4
    assert out["over_limit"].tolist() == [2.0] * 4
    assert aggregate_classes(np.array([90, 91])).tolist() == ["unknown", "unknown_over_limit"]



def test_only_clinics_that_report_the_count_over_the_limit_get_the_served_after_class():
    """Without an over-90 column the rebuilt list is first in, first out: anyone it places past
    the limit is a guess, served oldest first as before."""
    import numpy as np

    from kps_analysis.waits import aggregate_classes, over_reported

    p = pd.period_range("2025-01-06", periods=3, freq="W-SUN")
    weekly = pd.DataFrame({"clinic": ["a"] * 3 + ["b"] * 3, "period": list(p) * 2,
                           "waiting_over_90_treatment": [2.0, 2.0, 2.0, np.nan, np.nan, np.nan]})
    assert over_reported(weekly, "treatment") == {"a"} and over_reported(weekly, "new_visit") == set()
    classes = aggregate_classes(np.array([95, 95, 10]), reported={"a"}, clinic=np.array(["a", "b", "a"]))
    assert classes.tolist() == ["unknown_over_limit", "unknown", "unknown"]
