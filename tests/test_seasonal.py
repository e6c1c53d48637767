"""Tests for kps_analysis.seasonal: seasonal profiles and periodisation."""

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kps_analysis import calendar as cal
from kps_analysis.seasonal import periodise, seasonal_profile, year_over_year


def weekly_history(start="2021-01-04", end="2023-12-31", clinic="a", rate=None, working_days=False):
    """Weekly frame: 10 per week (or per 2 working days) outside summer, twice that in weeks 27-32."""
    weeks = pd.period_range(start, end, freq="W-SUN")
    summer = cal.is_summer_week(weeks)
    value = np.where(summer, 20.0, 10.0) if rate is None else np.asarray(rate, dtype=float)
    if working_days:
        value = value / 5 * cal.working_days(weeks).to_numpy()
    return pd.DataFrame({"clinic": clinic, "period": weeks, "new_visits": value})


def factors(profile, clinic="a"):
    p = profile[profile["clinic"] == clinic]
    return dict(zip(p["season"], p["factor"]))


# ----------------------------------------------------------------------------- seasonal_profile
def test_summer_twice_as_high_known_factors():
    # level per year = (46*10 + 6*20)/52 = 580/52 -> ordinary 520/580, summer 1040/580
    f = factors(seasonal_profile(weekly_history(), measure="new_visits", working_days=False))
    assert f[10] == pytest.approx(520 / 580)
    assert f[27] == pytest.approx(1040 / 580) and f[32] == pytest.approx(1040 / 580)
    assert f[33] == pytest.approx(520 / 580)
    assert f[27] / f[10] == pytest.approx(2.0)
    assert np.mean([f[w] for w in range(1, 53)]) == pytest.approx(1.0)


def test_week_53_is_mean_of_weeks_52_and_1():
    rate = np.arange(1, 158, dtype=float) % 52 + 5  # not flat
    h = weekly_history("2021-01-04", "2023-12-31", rate=rate[:156])
    f = factors(seasonal_profile(h, measure="new_visits", working_days=False))
    assert set(f) == set(range(1, 54))
    assert f[53] == pytest.approx((f[52] + f[1]) / 2)


def test_working_days_remove_easter_and_christmas():
    # production is 2 per working day all year, plus double in summer: the holiday weeks
    # (Easter, Ascension, Christmas, which move between years) must not show as dips.
    h = weekly_history("2019-01-07", "2024-12-29", working_days=True)
    f = factors(seasonal_profile(h, measure="new_visits"))
    m = (46 + 12) / 52
    assert f[13] == pytest.approx(1 / m) and f[16] == pytest.approx(1 / m)
    assert f[52] == pytest.approx(1 / m) and f[30] == pytest.approx(2 / m)
    # without the working-day adjustment Christmas week 52 looks like a dip
    g = factors(seasonal_profile(h, measure="new_visits", working_days=False))
    assert g[52] < 0.7 * g[10]


def test_exclude_years_removes_outlier_year():
    clean = pd.concat([weekly_history("2018-01-01", "2019-12-29"), weekly_history("2021-01-04", "2022-01-02")])
    outlier = weekly_history("2019-12-30", "2021-01-03")  # ISO year 2020, 53 weeks
    iso_week = outlier["period"].dt.start_time.dt.isocalendar()["week"].to_numpy()
    outlier["new_visits"] = np.where((iso_week >= 12) & (iso_week <= 25), 1.0, outlier["new_visits"])
    history = pd.concat([clean, outlier], ignore_index=True)
    kept = seasonal_profile(history, measure="new_visits", working_days=False, estimator="mean")
    dropped = seasonal_profile(history, measure="new_visits", working_days=False, exclude_years=[2020])
    expected = seasonal_profile(clean, measure="new_visits", working_days=False)
    assert dropped["factor"].to_numpy() == pytest.approx(expected["factor"].to_numpy())
    assert factors(kept)[15] < 0.8 * factors(expected)[15]  # the outlier does pull the mean down
    # the median over 4 years is robust to the one outlier year as well
    median = seasonal_profile(history, measure="new_visits", working_days=False)
    assert factors(median)[15] == pytest.approx(factors(expected)[15], rel=0.1)


def test_too_few_years_warns_and_flattens():
    one_year = weekly_history("2022-01-03", "2023-01-01")
    with pytest.warns(UserWarning, match="fewer than 2 usable years"):
        p = seasonal_profile(one_year, measure="new_visits", working_days=False)
    f = factors(p)
    # half-way to flat: 1 + (1/2) * (raw - 1)
    assert f[10] == pytest.approx(1 + 0.5 * (520 / 580 - 1))
    assert f[30] == pytest.approx(1 + 0.5 * (1040 / 580 - 1))
    # no complete year at all: flat profile, still no crash
    with pytest.warns(UserWarning):
        flat = seasonal_profile(weekly_history("2022-01-03", "2022-06-26"), measure="new_visits")
    assert flat["factor"].to_numpy() == pytest.approx(1.0)


def test_incomplete_year_is_not_used():
    h = pd.concat([weekly_history("2021-01-04", "2023-01-01"),
                   weekly_history("2023-01-02", "2023-04-30").assign(new_visits=100.0)])
    f = factors(seasonal_profile(h, measure="new_visits", working_days=False))
    assert f[10] == pytest.approx(520 / 580)


def test_monthly_from_monthly_history():
    months = pd.period_range("2021-01", "2023-12", freq="M")
    value = np.where(months.month == 7, 20.0, 10.0)
    h = pd.DataFrame({"clinic": "a", "period": months, "new_visits": value})
    f = factors(seasonal_profile(h, measure="new_visits", freq="M", working_days=False))
    assert set(f) == set(range(1, 13))
    assert f[7] == pytest.approx(12 * 20 / 130) and f[1] == pytest.approx(12 * 10 / 130)


def test_monthly_from_weekly_history_flat_per_working_day():
    h = weekly_history("2021-01-04", "2023-12-31", rate=np.full(156, 10.0), working_days=True)
    p = seasonal_profile(h, measure="new_visits", freq="M")
    assert p["factor"].to_numpy() == pytest.approx(1.0)
    assert p["season"].tolist() == list(range(1, 13))


def test_weekly_profile_from_monthly_history_is_refused():
    months = pd.period_range("2021-01", "2023-12", freq="M")
    h = pd.DataFrame({"clinic": "a", "period": months, "new_visits": 1.0})
    with pytest.raises(ValueError, match="weekly"):
        seasonal_profile(h, measure="new_visits", freq="W")


def test_groups_and_many_clinics_equal_single_calls():
    a = weekly_history(clinic="a")
    b = weekly_history(clinic="b", rate=np.linspace(5, 15, 156))
    both = pd.concat([a.assign(group="g1"), a.assign(group="g2", new_visits=a.new_visits * 3), b.assign(group="g1")])
    p = seasonal_profile(both, measure="new_visits")
    assert list(p.columns) == ["clinic", "group", "measure", "season", "factor"]
    assert len(p) == 3 * 53
    single = seasonal_profile(b, measure="new_visits")
    got = p[(p.clinic == "b")]["factor"].to_numpy()
    assert got == pytest.approx(single["factor"].to_numpy())
    g1 = p[(p.clinic == "a") & (p.group == "g1")]["factor"].to_numpy()
    g2 = p[(p.clinic == "a") & (p.group == "g2")]["factor"].to_numpy()
    assert g1 == pytest.approx(g2)  # same shape, three times the level


def test_profile_bad_input():
    h = weekly_history()
    with pytest.raises(ValueError, match="measure"):
        seasonal_profile(h, measure="no_such")
    with pytest.raises(ValueError, match="freq"):
        seasonal_profile(h, measure="new_visits", freq="Q")
    with pytest.raises(ValueError, match="negative"):
        seasonal_profile(h.assign(new_visits=-1.0), measure="new_visits")
    with pytest.raises(ValueError, match="min_years"):
        seasonal_profile(h, measure="new_visits", min_years=0)
    with pytest.raises(ValueError, match="estimator"):
        seasonal_profile(h, measure="new_visits", estimator="mode")


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(min_value=0.0, max_value=500.0), min_size=156, max_size=156),
       st.sampled_from(["W", "M"]), st.booleans())
def test_profile_averages_to_one(values, freq, working_days):
    h = weekly_history("2021-01-04", "2023-12-31", rate=values)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p = seasonal_profile(h, measure="new_visits", freq=freq, working_days=working_days)
    cycle = p[p["season"] <= (52 if freq == "W" else 12)]["factor"]
    assert cycle.mean() == pytest.approx(1.0)
    assert (p["factor"] >= 0).all()


# ----------------------------------------------------------------------------- periodise
@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=2015, max_value=2035),
       st.sampled_from(["W", "M"]), st.booleans())
def test_periodise_sums_exactly(volume, year, freq, working_days):
    out = periodise(volume, year, freq=freq, working_days=working_days)
    assert out["volume"].dtype == np.int64
    assert int(out["volume"].sum()) == volume
    assert (out["volume"] >= 0).all()
    assert len(out) == (cal.weeks_in_year(year) if freq == "W" else 12)
    # largest remainder: every period within 1 of its exact share
    periods = pd.PeriodIndex(out["period"])
    w = cal.working_days(periods).to_numpy(float) if working_days else np.ones(len(out))
    exact = volume * w / w.sum()
    assert np.all(np.abs(out["volume"].to_numpy() - exact) < 1)


@settings(max_examples=30, deadline=None)
@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=2015, max_value=2035),
       st.lists(st.floats(min_value=0.01, max_value=5.0), min_size=52, max_size=52))
def test_periodise_with_profile_sums_exactly(volume, year, factor):
    profile = pd.DataFrame({"clinic": "a", "season": np.arange(1, 53), "factor": factor})
    out = periodise(volume, year, profile=profile)
    assert int(out["volume"].sum()) == volume and (out["volume"] >= 0).all()
    periods = pd.PeriodIndex(out["period"])
    week = np.asarray(periods.start_time.isocalendar()["week"], dtype=int)
    f = np.append(factor, (factor[51] + factor[0]) / 2)[week - 1]  # week 53 = mean of 52 and 1
    w = f * cal.working_days(periods).to_numpy(float)
    assert np.all(np.abs(out["volume"].to_numpy() - volume * w / w.sum()) < 1)


def test_periodise_53_week_year():
    out = periodise(5300, 2020, working_days=False)
    assert len(out) == 53 and (out["volume"] == 100).all()
    assert list(cal.iso_week_label(pd.PeriodIndex(out["period"]))[[0, 52]]) == ["2020-W01", "2020-W53"]


def test_week_with_two_public_holidays_gets_less():
    # 2025-W52: 24 Dec (de facto), 25 and 26 Dec (public) -> 2 working days; W10 has 5
    out = periodise(2500, 2025)
    labels = list(cal.iso_week_label(pd.PeriodIndex(out["period"])))
    vol = dict(zip(labels, out["volume"]))
    hol = cal.swedish_holidays(2025)
    christmas = hol[(hol["date"] >= "2025-12-22") & (hol["date"] <= "2025-12-28") & (hol["kind"] == "public")]
    assert len(christmas) == 2
    assert vol["2025-W52"] < vol["2025-W10"]
    total_wd = cal.working_days(pd.PeriodIndex(out["period"])).sum()
    assert vol["2025-W10"] == pytest.approx(2500 * 5 / total_wd, abs=1)
    assert vol["2025-W52"] == pytest.approx(2500 * 2 / total_wd, abs=1)
    flat = periodise(2600, 2025, working_days=False)
    assert (flat["volume"] == 50).all()


def test_periodise_largest_remainder_by_hand():
    # 10 over 12 months, flat: 10/12 = 0.833 each -> floor 0, the ten largest remainders
    # (all equal: the first ten months) get 1
    out = periodise(10, 2024, freq="M", working_days=False)
    assert out["volume"].tolist() == [1] * 10 + [0, 0]
    # 14 with factors 2:1:1:...: January exact = 14*2/13 = 2.154, the others 14/13 = 1.077;
    # floors 2 + 11*1 = 13, the one unit left goes to January's larger remainder 0.154
    prof = pd.DataFrame({"clinic": "a", "season": range(1, 13), "factor": [2.0] + [1.0] * 11})
    out = periodise(14, 2024, profile=prof, freq="M", working_days=False)
    assert out["volume"].tolist() == [3] + [1] * 11
    assert out["clinic"].unique().tolist() == ["a"]


def test_periodise_monthly_working_days():
    out = periodise(1200, 2024, freq="M")
    wd = cal.working_days(pd.period_range("2024-01", periods=12, freq="M")).to_numpy()
    assert out["volume"].sum() == 1200
    assert out["volume"].to_numpy() == pytest.approx(1200 * wd / wd.sum(), abs=1)
    assert out["period"].dt.month.tolist() == list(range(1, 13))


def test_periodise_many_clinics_equals_single_calls():
    a = weekly_history(clinic="a")
    b = weekly_history(clinic="b", rate=np.linspace(5, 15, 156))
    profile = seasonal_profile(pd.concat([a, b]), measure="new_visits")
    volumes = pd.Series({"a": 12345, "b": 678}, name="volume")
    many = periodise(volumes, 2026, profile=profile)
    for clinic in ("a", "b"):
        one = periodise(int(volumes[clinic]), 2026, profile=profile[profile.clinic == clinic])
        got = many[many.clinic == clinic].reset_index(drop=True)
        assert got["volume"].tolist() == one["volume"].tolist()
        assert (got["period"] == one["period"]).all()
        assert one["clinic"].unique().tolist() == [clinic]
    frame = periodise(volumes.rename_axis("clinic").reset_index(), 2026, profile=profile)
    assert frame["volume"].tolist() == many["volume"].tolist()
    # a summer week gets more than an ordinary week, as the profile says
    wk = many[many.clinic == "a"]["volume"].to_numpy()
    assert wk[29] > 1.5 * wk[9]


def test_periodise_bad_input():
    with pytest.raises(ValueError, match="annual_volume"):
        periodise(-1, 2024)
    with pytest.raises(ValueError, match="annual_volume"):
        periodise(float("nan"), 2024)
    with pytest.raises(ValueError, match="year"):
        periodise(100, 2024.5)
    with pytest.raises(ValueError, match="freq"):
        periodise(100, 2024, freq="D")
    profile = pd.DataFrame({"clinic": "a", "season": np.arange(1, 53), "factor": 1.0})
    with pytest.raises(ValueError, match="no factors"):
        periodise(pd.Series({"zz": 5}), 2024, profile=profile)
    with pytest.raises(ValueError, match="season"):
        periodise(100, 2024, profile=profile, freq="M")
    with pytest.raises(ValueError, match="factor"):
        periodise(100, 2024, profile=profile.assign(factor=-1.0))
    with pytest.warns(UserWarning, match="whole"):
        out = periodise(100.4, 2024)
    assert out["volume"].sum() == 100


def test_periodise_warns_on_working_day_mismatch():
    p = seasonal_profile(weekly_history(), measure="new_visits", working_days=False)
    with pytest.warns(UserWarning, match="working_days"):
        periodise(100, 2024, profile=p, working_days=True)
    with pytest.raises(ValueError, match="freq"):
        periodise(100, 2024, profile=p, freq="M", working_days=False)


def test_year_over_year_unchanged():
    periods = pd.period_range("2023-01-02", "2024-01-14", freq="W-SUN")
    f = pd.DataFrame({"clinic": "a", "period": periods, "new_visits": range(len(periods))})
    yoy = year_over_year(f, "new_visits", years=1)
    assert yoy["year"].unique().tolist() == [2024]


# ----------------------------------------------------------------------------- months
def test_spans_in_weeks_become_periods_by_days():
    from kps_analysis.seasonal import period_kind, periods_for_days, periods_for_weeks, summer_months

    # weeks stay weeks; months by days: 4 weeks (28 d) = 1, 12 weeks (84 d) = 3, 13 (91 d) = 3,
    # 26 (182 d) = 6, 52 (364 d) = 12 months - never a month per week
    assert [periods_for_weeks(w, "W") for w in (1, 4, 12, 52)] == [1, 4, 12, 52]
    assert [periods_for_weeks(w, "M") for w in (1, 4, 12, 13, 26, 52)] == [1, 1, 3, 3, 6, 12]
    assert periods_for_days(90, "M") == 3 and periods_for_days(0, "M", minimum=0) == 0
    with pytest.raises(ValueError, match="days"):
        periods_for_days(-1, "M")
    assert period_kind(pd.Series(pd.period_range("2024-01", periods=2, freq="M"))) == "M"
    with pytest.raises(ValueError, match="Periods"):
        period_kind(pd.Series([1, 2]))
    # summer weeks 27-32 (30 June - 10 August 2025) cover most of July only; 26-35 July and August
    assert summer_months() == (7,) and summer_months(26, 35) == (7, 8)


def test_year_over_year_by_month_for_monthly_data():
    p = pd.period_range("2023-01", periods=24, freq="M")
    f = pd.DataFrame({"clinic": "a", "period": p, "new_visits": np.arange(24.0)})
    yoy = year_over_year(f, "new_visits", years=2)
    assert list(yoy.columns) == ["clinic", "year", "month", "value"]
    assert yoy[yoy["month"] == 3]["value"].tolist() == [2.0, 14.0]
    # the profile's kind follows the history: months give 12 factors averaging 1
    prof = seasonal_profile(f.assign(new_visits=np.tile(np.r_[[8.0] * 6, [12.0] * 6], 2)),
                               measure="new_visits", working_days=False)
    assert prof["season"].tolist() == list(range(1, 13))
    assert prof["factor"].tolist() == pytest.approx([0.8] * 6 + [1.2] * 6)
