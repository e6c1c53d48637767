"""Tests for kps_analysis.calendar: ISO weeks, Swedish holidays, working days."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kps_analysis import calendar as cal


# ----------------------------------------------------------------------------- ISO weeks
@pytest.mark.parametrize("year, n", [(2015, 53), (2019, 52), (2020, 53), (2021, 52), (2024, 52),
                                     (2025, 52), (2026, 53), (2032, 53)])
def test_weeks_in_year_known_years(year, n):
    assert cal.weeks_in_year(year) == n
    # cross-check with the standard library: 28 December is always in the last ISO week
    assert dt.date(year, 12, 28).isocalendar()[1] == n


def test_weeks_in_year_shapes():
    arr = cal.weeks_in_year(np.array([2019, 2020, 2026]))
    assert isinstance(arr, np.ndarray) and arr.tolist() == [52, 53, 53]
    ser = cal.weeks_in_year(pd.Series([2020, 2021], index=["a", "b"]))
    assert ser.index.tolist() == ["a", "b"] and ser.tolist() == [53, 52]
    assert cal.weeks_in_year([[2020, 2021]]).shape == (1, 2)


def test_weeks_in_year_rejects_fractions():
    with pytest.raises(ValueError, match="year"):
        cal.weeks_in_year(2020.5)


@given(st.integers(min_value=1900, max_value=2200))
def test_weeks_in_year_matches_isocalendar(year):
    assert cal.weeks_in_year(year) == dt.date(year, 12, 28).isocalendar()[1]


def test_iso_week_periods_week_53():
    weeks = cal.iso_week_periods("2020-12-21", "2021-01-10")
    assert list(cal.iso_week_label(weeks)) == ["2020-W52", "2020-W53", "2021-W01"]
    assert weeks.freqstr == "W-SUN"
    assert weeks[1].start_time == pd.Timestamp("2020-12-28")
    assert weeks[1].end_time.normalize() == pd.Timestamp("2021-01-03")


def test_iso_week_periods_no_week_53_in_2021():
    weeks = cal.iso_week_periods("2021-12-27", "2022-01-03")
    assert list(cal.iso_week_label(weeks)) == ["2021-W52", "2022-W01"]


def test_iso_week_periods_bad_order():
    with pytest.raises(ValueError, match="end"):
        cal.iso_week_periods("2024-02-01", "2024-01-01")


def test_year_has_as_many_periods_as_weeks():
    for year, n in [(2019, 52), (2020, 53), (2026, 53)]:
        weeks = cal.iso_week_periods(cal.period_from_iso(year, 1).start_time,
                                     cal.period_from_iso(year, n).end_time)
        assert len(weeks) == n


def test_period_from_iso_and_label_round_trip():
    p = cal.period_from_iso(2024, 5)
    assert p == pd.Period("2024-01-29", "W-SUN")
    assert cal.period_from_iso(2026, 1).start_time == pd.Timestamp("2025-12-29")
    idx = cal.period_from_iso(np.array([2019, 2020, 2026]), np.array([2, 53, 53]))
    assert list(cal.iso_week_label(idx)) == ["2019-W02", "2020-W53", "2026-W53"]
    assert (cal.parse_iso_week(list(cal.iso_week_label(idx))) == idx).all()


@pytest.mark.parametrize("year, week", [(2021, 53), (2019, 53), (2024, 0), (2024, 54)])
def test_period_from_iso_rejects_missing_week(year, week):
    with pytest.raises(ValueError, match="week"):
        cal.period_from_iso(year, week)


def test_parse_iso_week_variants_and_errors():
    got = cal.parse_iso_week(["2024-W05", "2024W5", "2024 v 5", " 2024-w05 "])
    assert (got == pd.Period("2024-01-29", "W-SUN")).all()
    with pytest.raises(ValueError, match="2024-13"):
        cal.parse_iso_week(["2024-13"])


def test_iso_week_label_rejects_months():
    with pytest.raises(ValueError, match="W-SUN"):
        cal.iso_week_label(pd.period_range("2024-01", periods=2, freq="M"))


def test_is_summer_week():
    weeks = cal.iso_week_periods("2024-01-01", "2024-12-29")
    flags = cal.is_summer_week(weeks)
    assert flags.sum() == 6
    assert list(cal.iso_week_label(weeks[flags])) == [f"2024-W{w}" for w in range(27, 33)]
    assert cal.is_summer_week(weeks, first_week=28, last_week=31).sum() == 4
    with pytest.raises(ValueError, match="first_week"):
        cal.is_summer_week(weeks, first_week=33, last_week=27)


# ----------------------------------------------------------------------------- holidays
def test_easter_sunday_known_dates():
    assert cal.easter_sunday(2024) == pd.Timestamp("2024-03-31")
    got = cal.easter_sunday([2019, 2020, 2024, 2025, 2038])
    assert [str(d.date()) for d in got] == ["2019-04-21", "2020-04-12", "2024-03-31", "2025-04-20",
                                            "2038-04-25"]


@given(st.integers(min_value=1700, max_value=2200))
@settings(max_examples=50)
def test_easter_sunday_matches_dateutil(year):
    from dateutil.easter import easter

    assert cal.easter_sunday(year).date() == easter(year)


def _dates(frame, kind=None):
    if kind is not None:
        frame = frame[frame["kind"] == kind]
    return [str(d.date()) for d in frame["date"]]


def test_easter_dependent_holidays_2024_2025():
    public = set(_dates(cal.swedish_holidays([2024, 2025]), "public"))
    # Good Friday, Easter Monday, Ascension Day (Easter + 39 days)
    for day in ["2024-03-29", "2024-04-01", "2024-05-09", "2025-04-18", "2025-04-21", "2025-05-29"]:
        assert day in public
    # Easter Sunday and Whit Sunday are Sundays: not listed
    for day in ["2024-03-31", "2024-05-19", "2025-04-20", "2025-06-08"]:
        assert day not in public


def test_no_sundays_and_one_row_per_date():
    h = cal.swedish_holidays(range(2019, 2031))
    assert (h["date"].dt.day_of_week != 6).all()
    assert h["date"].is_unique
    assert h["date"].is_monotonic_increasing
    assert str(h["date"].dtype) == "datetime64[ns]"
    assert set(h["kind"]) == {"public", "de_facto"}


def test_public_holidays_2024_by_hand():
    h = cal.swedish_holidays(2024)
    assert _dates(h, "public") == ["2024-01-01", "2024-01-06", "2024-03-29", "2024-04-01", "2024-05-01",
                                   "2024-05-09", "2024-06-06", "2024-06-22", "2024-11-02", "2024-12-25",
                                   "2024-12-26"]


def test_de_facto_days():
    h = cal.swedish_holidays([2024, 2025, 2026], language="en_US")
    de_facto = h[h["kind"] == "de_facto"]
    assert _dates(de_facto) == ["2024-06-21", "2024-12-24", "2024-12-31", "2025-06-20", "2025-12-24",
                                "2025-12-31", "2026-06-19", "2026-12-24", "2026-12-31"]
    assert set(de_facto["name"]) == {"Midsummer Eve", "Christmas Eve", "New Year's Eve"}
    sv = cal.swedish_holidays(2024)
    assert set(sv.loc[sv["kind"] == "de_facto", "name"]) == {"Midsommarafton", "Julafton", "Nyårsafton"}


@given(st.integers(min_value=1953, max_value=2100))  # Midsummer Day on Sat 20-26 June since 1953
@settings(max_examples=30, deadline=None)
def test_midsummer_eve_is_friday_19_to_25_june(year):
    h = cal.swedish_holidays(year)
    june = h[(h["kind"] == "de_facto") & (h["date"].dt.month == 6)]["date"]
    assert len(june) == 1
    eve = june.iloc[0]
    assert eve.day_of_week == 4 and 19 <= eve.day <= 25
    # Midsummer Day (public) is the next day
    assert (eve + pd.Timedelta(days=1)) in set(h.loc[h["kind"] == "public", "date"])


def test_sunday_eves_are_left_out():
    h = cal.swedish_holidays(2023)  # 24 and 31 December 2023 are Sundays
    assert "2023-12-24" not in _dates(h) and "2023-12-31" not in _dates(h)
    assert _dates(h, "de_facto") == ["2023-06-23"]


def test_years_out_of_range():
    with pytest.raises(ValueError, match="years"):
        cal.easter_sunday(1500)


def test_empty_years():
    h = cal.swedish_holidays([])
    assert list(h.columns) == ["date", "name", "kind"] and len(h) == 0


# ----------------------------------------------------------------------------- working days
def test_working_days_easter_and_christmas_weeks_2024():
    weeks = cal.period_from_iso([2024, 2024, 2024, 2024, 2024, 2025], [12, 13, 14, 52, 1, 1])
    got = cal.working_days(weeks)
    # W12: plain week 5; W13: Good Friday 29/3 -> 4; W14: Easter Monday 1/4 -> 4;
    # W52: 24, 25, 26 Dec off -> Mon 23 and Fri 27 = 2; 2024-W01: New Year's Day -> 4;
    # 2025-W01 (30 Dec 2024 .. 5 Jan 2025): 31 Dec and 1 Jan off -> 3
    assert got.tolist() == [5, 4, 4, 2, 4, 3]
    assert got.index.equals(weeks)
    assert got.dtype == np.int64 and got.name == "working_days"


def test_working_days_midsummer_and_ascension_weeks():
    weeks = cal.period_from_iso([2024, 2024, 2024], [19, 23, 25])
    # W19: Ascension Thu 9 May -> 4; W23: National Day Thu 6 June -> 4; W25: Midsummer Eve Fri 21 June -> 4
    assert cal.working_days(weeks).tolist() == [4, 4, 4]


def test_working_days_months():
    months = pd.period_range("2024-01", "2024-12", freq="M")
    got = cal.working_days(months)
    # December 2024: 22 weekdays minus 24, 25, 26 and 31 December = 18
    assert got.loc[pd.Period("2024-12", "M")] == 18
    # April 2024: 22 weekdays minus Easter Monday = 21; June: 20 - National Day - Midsummer Eve = 18
    assert got.loc[pd.Period("2024-04", "M")] == 21
    assert got.loc[pd.Period("2024-06", "M")] == 18
    assert got.sum() == 251


def test_working_days_duplicates_gaps_and_input_types():
    weeks = cal.period_from_iso([2024, 2020, 2024], [52, 10, 52])
    assert cal.working_days(weeks).tolist() == [2, 5, 2]
    assert cal.working_days(pd.Series(weeks)).tolist() == [2, 5, 2]
    assert cal.working_days(list(weeks)).tolist() == [2, 5, 2]
    assert len(cal.working_days(pd.PeriodIndex([], freq="W-SUN"))) == 0
    with pytest.raises(ValueError, match="periods"):
        cal.working_days(["not a period"])


@given(st.integers(min_value=1990, max_value=2060))
@settings(max_examples=25, deadline=None)
def test_working_days_weeks_sum_to_daily_count(year):
    weeks = cal.iso_week_periods(cal.period_from_iso(year, 1).start_time,
                                 cal.period_from_iso(year, cal.weeks_in_year(year)).end_time)
    per_week = cal.working_days(weeks)
    assert ((per_week >= 0) & (per_week <= 5)).all()
    # the same days counted one by one
    days = pd.date_range(weeks[0].start_time, weeks[-1].end_time.normalize(), freq="D")
    off = set(cal.swedish_holidays([year - 1, year, year + 1])["date"])
    by_hand = sum(1 for d in days if d.day_of_week < 5 and d not in off)
    assert per_week.sum() == by_hand
    # each week has at least 2 working days (Christmas week is the worst case)
    assert per_week.min() >= 2


@given(st.integers(min_value=2000, max_value=2050))
@settings(max_examples=20, deadline=None)
def test_working_days_months_sum_to_year(year):
    months = pd.period_range(f"{year}-01", f"{year}-12", freq="M")
    total = cal.working_days(months).sum()
    year_total = cal.working_days(pd.PeriodIndex([pd.Period(str(year), "Y")])).item()
    assert total == year_total
    assert 245 <= total <= 254
