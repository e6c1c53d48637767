"""Headline figures, and their agreement between patient-level and aggregated data on the demo."""

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kps_analysis import balance, data, periods, seasonal, summary, waits


@pytest.fixture(scope="module")
def region(demo_region):
    return demo_region  # demo.generate(end="2026-11-22") (tests/conftest.py)


def test_headline_by_hand():
    p = pd.period_range("2024-01-01", periods=5, freq="W-SUN")
    w = pd.DataFrame({"clinic": "a", "period": p,
                      "queue_new_visit": [50.0, 60, 70, 80, 90], "new_visits": [10.0, 10, 20, 20, 30],
                      "waiting_over_90_new_visit": [0.0, 0, 0, 0, 9],
                      "queue_treatment": [40.0] * 5, "operations_elective": [5.0] * 5,
                      "waiting_over_90_treatment": [1.0] * 5})
    h = summary.headline(w, window_weeks=4)
    # first visit: 90 / mean(10, 20, 20, 30) = 90 / 20 = 4.5 weeks; treatment: 40 / 5 = 8 weeks
    assert h.loc[0, "queue_production_ratio_weeks_new_visit"] == 4.5
    assert h.loc[0, "queue_production_ratio_weeks_treatment"] == 8.0
    assert h.loc[0, "queue_production_ratio_weeks"] == 8.0  # the worse stage
    assert h.loc[0, "share_over_90_days"] == pytest.approx(10 / 130)
    assert h.loc[0, "queue_change_1w"] == (90 + 40) - (80 + 40)  # what changed since last week
    assert np.isnan(h.loc[0, "projected_breaches_12w"])
    assert list(h.columns[:8]) == list(summary.HEADLINE_COLUMNS)


def test_ratio_and_share_from_extract_equal_aggregates(region):
    pl = sorted(region.waiting_list["clinic"].unique())
    end = region.weekly["period"].max()
    derived = data.weekly_from_waiting_list(region.waiting_list, end=end.end_time.normalize())
    agg = region.weekly[region.weekly["clinic"].isin(pl)]
    extra = [c for c in agg.columns if c not in derived.columns]
    from_extract = derived.merge(agg[["clinic", "period"] + extra], on=["clinic", "period"])
    a = summary.headline(from_extract).set_index("clinic")
    b = summary.headline(agg).set_index("clinic")
    cols = ["queue_production_ratio_weeks", "share_over_90_days"]
    pd.testing.assert_frame_equal(a[cols], b[cols])
    # The snapshot counts the same patients: over 90 days exactly as the aggregates, and
    # the waiting list = included + those who chose to wait (left out of guarantee measures).
    snap = data.waiting_snapshot(region.waiting_list, end.end_time.normalize())
    s = waits.wait_summary(snap, by="clinic").set_index("clinic")
    assert (s["over_limit"] == b["waiting_over_90"]).all()
    assert ((s["waiting"] + s["excluded_chosen"]) == b[["queue_new_visit", "queue_treatment"]].sum(axis=1)).all()


def test_breach_projection_from_extract_and_aggregates_agree(region):
    pl = sorted(region.waiting_list["clinic"].unique())
    end = region.weekly["period"].max()
    snap = data.waiting_snapshot(region.waiting_list, end.end_time.normalize())
    for stage in ("new_visit", "treatment"):
        flows = balance.naive_flows(region.weekly, stage=stage)
        flows = flows[flows["clinic"].isin(pl)]
        from_patients = waits.project_breaches(snap[snap["stage"] == stage], flows, order="fifo")
        rebuilt = waits.waiting_from_aggregates(region.weekly[region.weekly["clinic"].isin(pl)], stage=stage)
        from_totals = waits.project_breaches(rebuilt, flows, order="fifo")
        x = from_patients.groupby("clinic")["queue"].first()
        y = from_totals.groupby("clinic")["queue"].first()
        chosen = snap[(snap["stage"] == stage) & snap["patient_chosen_wait"]].groupby("clinic").size()
        assert np.allclose(x + chosen.reindex(x.index, fill_value=0), y)  # same queue, chosen waits aside
        x12 = from_patients[from_patients["week_ahead"] == 12].set_index("clinic")["over_limit"]
        y12 = from_totals[from_totals["week_ahead"] == 12].set_index("clinic")["over_limit"]
        assert (abs(x12 - y12) <= np.maximum(10, 0.2 * x12)).all(), (stage, x12, y12)


def test_backlog_clinic_rises_and_balanced_clinic_does_not(region):
    weekly = region.weekly
    from kps_analysis.queue import queue_production_ratio_frame

    r = queue_production_ratio_frame(weekly, queue="queue_treatment",
                                     production=["operations_elective", "purchased_operations"])
    r["year"] = r["period"].dt.start_time.dt.year
    yearly = r.groupby(["clinic", "year"])["queue_production_ratio_weeks"].mean().unstack()
    assert yearly.loc["uro", 2026] > 1.3 * yearly.loc["uro", 2024]
    assert abs(yearly.loc["gyn", 2026] / yearly.loc["gyn", 2024] - 1) < 0.25
    breaches = summary.projected_breaches(weekly, region.waiting_list)
    h = summary.headline(weekly, breaches=breaches).set_index("clinic")
    assert h.loc["uro", "projected_breaches_12w"] > 100
    assert h.loc["gyn", "projected_breaches_12w"] < 0.1 * h.loc["uro", "projected_breaches_12w"]
    assert h.loc["uro", "share_over_90_days"] > 3 * h.loc["gyn", "share_over_90_days"]


def test_situation_measures_leave_out_what_a_clinic_lacks(region):
    hud = region.weekly[region.weekly["clinic"] == "hud"]
    assert "operations_elective" not in summary.situation_measures(hud)
    assert summary.situation_measures(region.weekly[region.weekly["clinic"] == "uro"])[:2] == [
        "referrals_in", "new_visits"]


# ------------------------------------------------------------------ what changed since last week
def test_week_changes_by_hand():
    p = pd.period_range("2024-01-01", periods=12, freq="W-SUN")
    rng = np.random.default_rng(1)
    queue = 200 + rng.integers(-2, 3, 12).astype(float)
    queue[-1] = queue[-2] + 40          # a jump of 40: far beyond the usual ±4
    w = pd.DataFrame({"clinic": "a", "period": p, "queue_new_visit": queue,
                      "new_visits": [20.0] * 12, "referrals_in": [20.0] * 11 + [21.0]})
    c = summary.week_changes(w).set_index("measure")
    assert list(c.index) == ["referrals_in", "new_visits", "queue_new_visit", "queue_production_ratio_weeks"]
    q = c.loc["queue_new_visit"]
    assert (q["last_week"], q["this_week"], q["change"]) == (queue[-2], queue[-1], 40.0)
    assert q["usual"] == pytest.approx(queue[-5:-1].mean())
    assert q["unusual"] and q["direction"] == "up"
    # referrals: +1 after ten weeks of no change at all -> sd 0 -> unusual; production flat -> same
    assert c.loc["new_visits", "direction"] == "same" and not c.loc["new_visits", "unusual"]
    # the ratio: queue / mean production of 4 weeks = queue / 20 [weeks]
    assert c.loc["queue_production_ratio_weeks", "this_week"] == pytest.approx(queue[-1] / 20)
    assert c.loc["queue_production_ratio_weeks", "change"] == pytest.approx(40 / 20)


def test_week_changes_gap_and_clinics(region):
    weekly = region.weekly
    c = summary.week_changes(weekly)
    assert sorted(c["clinic"].unique()) == sorted(weekly["clinic"].unique())
    # conservation: change = this week - last week, and the latest week of each clinic
    np.testing.assert_allclose(c["change"], c["this_week"] - c["last_week"])
    latest = weekly.groupby("clinic")["period"].max()
    assert (c["period"] == c["clinic"].map(latest)).all()
    # a visits-only clinic has no treatment measures
    assert "queue_treatment" not in set(c.loc[c.clinic == "hud", "measure"])
    # the week before missing: no last week, no change, never "unusual"
    one = weekly[weekly.clinic == "gyn"]
    gap = one[one["period"] != one["period"].max() - 1]
    g = summary.week_changes(gap)
    assert g["last_week"].isna().all() and g["change"].isna().all() and not g["unusual"].any()
    # the headline's queue change is the sum of the two queue changes
    h = summary.headline(weekly).set_index("clinic")["queue_change_1w"]
    queues = c[c.measure.isin(["queue_new_visit", "queue_treatment"])].groupby("clinic")["change"].sum()
    np.testing.assert_allclose(queues.sort_index(), h.loc[queues.index].sort_index())


def test_changes_table_suppresses_small_counts():
    from kps_analysis import report

    c = pd.DataFrame({"measure": ["waiting_over_90", "queue_new_visit"], "this_week": [3.0, 120.0],
                      "last_week": [1.0, 100.0], "change": [2.0, 20.0], "usual": [1.5, 99.0],
                      "unusual": [False, False], "direction": ["up", "up"]})
    t = report.changes_table(c, limit=5, language="sv")
    assert t.iloc[0].tolist()[:3] == ["<5", "<5", "<5"]      # a change between small counts reveals them
    assert t.iloc[1].tolist()[:3] == ["100", "120", "+20"]


# ----------------------------------------------------------------------------- months
def test_headline_on_months_by_hand():
    # a month's köproduktionskvot: the month's queue over its production (March 2024: 310 /
    # 155 = 2 months), in weeks by days: 155 in 31 days is 35 a week, 310 / 35 = 8.857
    # weeks; the 4-week window is one month (28 days), never 4 months
    p = pd.period_range("2024-01", periods=3, freq="M")
    m = pd.DataFrame({"clinic": "a", "period": p, "queue_new_visit": [200.0, 290.0, 310.0],
                      "new_visits": [124.0, 116.0, 155.0], "waiting_over_90_new_visit": [0.0, 0.0, 31.0]})
    h = summary.headline(m)
    assert h.loc[0, "queue_production_ratio_weeks"] == pytest.approx(310 / (155 / 31 * 7))
    assert h.loc[0, "share_over_90_days"] == pytest.approx(0.1)
    assert h.loc[0, "queue_change_1p"] == 20.0  # since last month
    assert np.isnan(h.loc[0, "queue_change_1w"])  # monthly data cannot tell last week's change
    r = summary.ratio_by_stage(m)
    assert r["queue_production_ratio_weeks"].tolist() == pytest.approx(
        [200 / (124 / 31 * 7), 290 / (116 / 29 * 7), 310 / (155 / 31 * 7)])
    c = summary.week_changes(m)
    q = c[c["measure"] == "queue_new_visit"].iloc[0]
    assert (q["last_period"], q["this_period"], q["change"]) == (290.0, 310.0, 20.0)
    # the usual level: the mean of the months before (up to four, as the report says), not last month
    assert q["usual"] == pytest.approx((200 + 290) / 2)
    # the report's queue change is the month's (its one-week change is unknown), not "–" or unchanged
    from kps_analysis.report_plan import queue_change

    assert queue_change(h.iloc[0]) == 20.0


def test_monthly_demo_agrees_with_weekly_demo(region):
    # the same clinics as months (periods.to_monthly: weeks split by days) give the weekly figures back:
    # the köproduktionskvot within 3 %, the share over 90 days within 1 % (the month ends on
    # a Sunday here; to_monthly keeps the queues' identity in whole patients), and the
    # breaches 12 weeks ahead within 10 % of the weekly projection 3 months ahead
    weekly = region.weekly[region.weekly["period"] <= pd.Period("2026-05-31", "W-SUN")]
    monthly = periods.to_monthly(weekly)
    assert monthly["period"].max() == pd.Period("2026-05", "M")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        hw = summary.headline(weekly, breaches=summary.projected_breaches(weekly)).set_index("clinic")
        bm = summary.projected_breaches(monthly)
        hm = summary.headline(monthly, breaches=bm).set_index("clinic")
    assert bm["period_ahead"].max() == 3 and set(bm["period_days"]) == {30, 31}
    np.testing.assert_allclose(hm["queue_production_ratio_weeks"], hw["queue_production_ratio_weeks"], rtol=0.03)
    np.testing.assert_allclose(hm["share_over_90_days"], hw["share_over_90_days"], rtol=0.01)
    big = hw["projected_breaches_12w"] > 20
    np.testing.assert_allclose(hm.loc[big, "projected_breaches_12w"], hw.loc[big, "projected_breaches_12w"],
                               rtol=0.10)
    # seasonal profiles by month, 12 factors averaging 1; year over year by month
    prof = summary.seasonal_profiles(monthly)
    assert set(prof["season"]) == set(range(1, 13))
    assert np.allclose(prof.groupby(["clinic", "measure"])["factor"].mean(), 1.0)


# ----------------------------------------------------------------------------- real monthly data
REAL = (Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"
        / "diagnostics_scotland_december_2022.csv")


@pytest.fixture(scope="module")
def scotland_mri():
    """Public Health Scotland, diagnostic waiting times (Open Government Licence v3.0; see
    ../shared/data/real/README.md): MRI's waiting list by wait band at each month end,
    2019-03 .. 2022-12, as the bands (from 0-7 to 85-91 days, then 92 and over, or the
    92-182 .. 365+ split where only that is given)."""
    if not REAL.exists():
        pytest.skip(f"the real data file is not beside the repository ({REAL})")
    raw = pd.read_csv(REAL)
    mri = raw[raw["DiagnosticTestDescription"] == "Magnetic Resonance Imaging"].copy()
    mri["period"] = pd.to_datetime(mri["MonthEnding"].astype(str)).dt.to_period("M")
    band = mri["WaitingTime"].str.replace("days", " days").str.split().str[0]
    split = ["92-182", "183-273", "274-364", "365"]
    assert band.notna().all()
    # one band table per month: the split bands where "92 and over" is not given
    bands = []
    for period, g in mri.groupby("period"):
        b = g["WaitingTime"].str.replace("days", " days").str.split().str[0]
        has_whole = (b == "92").any() and g.loc[b == "92", "NumberOnList"].notna().any()
        keep = g[(b != "Total") & (~b.isin(split) if has_whole else b != "92")]
        kb = keep["WaitingTime"].str.replace("days", " days").str.split().str[0]
        start = kb.str.split("-").str[0].astype(float)
        end = kb.str.split("-").str[1].astype(float).add(1).fillna(np.inf)
        bands.append(pd.DataFrame({"clinic": "mri", "period": period, "band_start_days": start.to_numpy(),
                                   "band_end_days": end.to_numpy(), "patients": keep["NumberOnList"].to_numpy()}))
    return pd.concat(bands, ignore_index=True).dropna(subset=["patients"])


def test_real_monthly_waiting_list_by_hand(scotland_mri):
    # the kit's monthly frame from the bands: queue = all bands, over 90 = the bands from 92 days
    bands = scotland_mri
    monthly = bands.groupby(["clinic", "period"], as_index=False).apply(
        lambda g: pd.Series({"queue_new_visit": g["patients"].sum(),
                             "waiting_over_90_new_visit": g.loc[g["band_start_days"] >= 92, "patients"].sum()}),
        include_groups=False)
    assert len(monthly) >= 40 and str(monthly["period"].dtype) == "period[M]"
    last, before = monthly.iloc[-1], monthly.iloc[-2]
    assert str(last["period"]) == "2022-12"
    h = summary.headline(monthly).iloc[0]
    # a queue-only unit: no production, so no köproduktionskvot; the share and the change by hand
    assert np.isnan(h["queue_production_ratio_weeks"])
    assert h["share_over_90_days"] == pytest.approx(last["waiting_over_90_new_visit"] / last["queue_new_visit"])
    assert h["queue_change_1p"] == pytest.approx(last["queue_new_visit"] - before["queue_new_visit"])
    assert np.isnan(h["queue_change_1w"])
    c = summary.week_changes(monthly)
    q = c[c["measure"] == "queue_new_visit"].iloc[0]
    assert (q["this_period"], q["last_period"]) == (last["queue_new_visit"], before["queue_new_visit"])
    # the band summary of December 2022 with the limit at the bands' edge (over 91 days =
    # 92 days or more) gives the same share exactly
    dec = bands[bands["period"] == bands["period"].max()]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = waits.wait_summary_from_bands(dec, guarantee_days=91).iloc[0]
    assert s["share_over_limit"] == pytest.approx(h["share_over_90_days"])
    # the same months a year apart, by month
    yoy = seasonal.year_over_year(monthly, "queue_new_visit")
    assert set(yoy["month"]) == set(range(1, 13)) and yoy["year"].max() == 2022
