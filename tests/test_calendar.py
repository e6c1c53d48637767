"""Tests for kps_analysis.calendar: ISO weeks, a region's holidays, working days, seasons."""

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


def test_iso_year_week_is_pandas_isocalendar_for_every_week_pandas_can_hold():
    weeks = pd.period_range("1678-01-10", "2261-12-01", freq="W-SUN")
    iso = weeks.start_time.isocalendar()
    year, week = cal.iso_year_week(weeks)
    assert np.array_equal(year, iso["year"].to_numpy(np.int64))
    assert np.array_equal(week, iso["week"].to_numpy(np.int64))
    assert week.max() == 53 and (week[year == 2026] == 53).any() and not (week[year == 2021] == 53).any()


def test_iso_year_week_refuses_a_missing_week_and_months():
    with pytest.raises(ValueError, match="missing week"):
        cal.iso_year_week(pd.PeriodIndex([pd.Period("2026-01-05", "W-SUN"), pd.NaT], freq="W-SUN"))
    with pytest.raises(ValueError, match="W-SUN"):
        cal.iso_year_week(pd.period_range("2026-01", periods=2, freq="M"))


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


@given(st.integers(min_value=1950, max_value=2100))
@settings(max_examples=50, deadline=None)
def test_easter_sunday_agrees_with_the_holidays_package(year):
    # easter_sunday is dateutil's; the holidays package computes Good Friday on its own
    import holidays

    good_friday = [d for d, n in holidays.country_holidays("GB", years=year).items() if n == "Good Friday"]
    assert [cal.easter_sunday(year).date() - dt.timedelta(days=2)] == good_friday


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


# ----------------------------------------------------------------------------- other calendars
def _off(frame):
    return set(_dates(frame))


def test_england_2024_holidays_by_hand():
    h = cal.holidays_of(2024, country="GB", subdivision="ENG", language="en")
    # the eight bank holidays of England and Wales in 2024 (gov.uk), all on weekdays
    assert _dates(h) == ["2024-01-01", "2024-03-29", "2024-04-01", "2024-05-06", "2024-05-27", "2024-08-26",
                         "2024-12-25", "2024-12-26"]
    assert set(h["kind"]) == {"public"}
    assert "2024-06-21" not in _dates(h) and "2024-05-09" not in _dates(h)  # Midsummer Eve, Ascension


def test_england_working_days_easter_august_midsummer_ascension():
    weeks = cal.period_from_iso([2024, 2024, 2024, 2026, 2024], [14, 35, 25, 20, 52])
    # 2024-W14: Easter Monday 1/4 -> 4; W35: August bank holiday 26/8 -> 4; W25 (Midsummer Eve in
    # Sweden) and 2026-W20 (Ascension 14/5 in Sweden) -> 5 in England; W52: 25 and 26 Dec -> 3
    assert cal.working_days(weeks, country="GB", subdivision="ENG").tolist() == [4, 4, 5, 5, 3]
    assert cal.working_days(weeks).tolist() == [4, 5, 4, 4, 2]  # Sweden, unchanged
    # the hyphen form and working_days_in give the same
    assert cal.working_days_in(weeks, country="GB-ENG").equals(
        cal.working_days(weeks, country="GB", subdivision="ENG"))


def test_england_and_scotland_monthly_working_days_by_hand():
    months = pd.period_range("2024-01", "2024-12", freq="M")
    eng = cal.working_days(months, country="GB", subdivision="ENG")
    # 2024 has 262 weekdays (366 days from a Monday: 52 weeks + Mon, Tue), England has 8 bank
    # holidays on weekdays -> 254; May: 23 weekdays - 6 and 27 May = 21; June: 20 weekdays, none off
    assert eng.sum() == 254
    assert eng.loc[pd.Period("2024-05", "M")] == 21 and eng.loc[pd.Period("2024-06", "M")] == 20
    sct = cal.working_days(months, country="GB", subdivision="SCT")
    # Scotland: 2 January and the first Monday of August (5/8) off, Easter Monday and 26/8 not;
    # St Andrew's Day (Sat 30/11) observed on Monday 2/12
    assert sct.loc[pd.Period("2024-01", "M")] == 23 - 2
    assert sct.loc[pd.Period("2024-04", "M")] == 22
    assert sct.loc[pd.Period("2024-08", "M")] == 22 - 1
    assert sct.loc[pd.Period("2024-12", "M")] == 22 - 3
    # Sweden's months, unchanged: 251 in 2024, June 18
    se = cal.working_days(months)
    assert se.sum() == 251 and se.loc[pd.Period("2024-06", "M")] == 18


def test_monthly_working_days_sum_to_the_weekly_days_of_the_same_dates():
    # months and weeks count the same days: over whole years aligned on both (2024-01-01 is a
    # Monday and 2024-12-29 a Sunday; the two days 30-31 Dec are counted by hand)
    weeks = cal.iso_week_periods("2024-01-01", "2024-12-29")
    months = pd.period_range("2024-01", "2024-12", freq="M")
    for region in [("SE", None), ("GB", "ENG"), ("GB", "SCT"), ("NO", None)]:
        w = cal.working_days(weeks, country=region[0], subdivision=region[1]).sum()
        m = cal.working_days(months, country=region[0], subdivision=region[1]).sum()
        tail = 2 - (region[0] == "SE")  # Mon 30 and Tue 31 Dec: Nyårsafton off in Sweden
        assert m == w + tail, region


def test_check_region_errors_are_clear():
    with pytest.raises(ValueError, match="country 'XX' is not an ISO 3166 country code"):
        cal.check_region("XX")
    with pytest.raises(ValueError, match=r"'LDN' is not a subdivision of GB \(known: ENG, NIR, SCT, WLS\)"):
        cal.check_region("GB", "LDN")
    with pytest.raises(ValueError, match="country 'SE' has no subdivisions"):
        cal.check_region("SE", "AB")
    with pytest.raises(ValueError, match="country must be an ISO 3166 code"):
        cal.check_region(False)  # YAML's unquoted NO
    with pytest.raises(ValueError, match="names subdivision"):
        cal.check_region("GB-SCT", "ENG")
    with pytest.raises(ValueError, match="country 'XX'"):
        cal.working_days(cal.period_from_iso([2024], [1]), country="XX")
    assert cal.check_region("gb", "Northern Ireland") == ("GB", "NIR")


def test_old_holidays_without_swedish_eves_is_a_clear_error(monkeypatch):
    import holidays

    # as holidays < 0.88: Sweden without the de_facto category
    monkeypatch.setattr(type(holidays.country_holidays("SE")), "supported_categories", ("public",))
    with pytest.raises(ValueError, match=r"holidays>=0\.88"):
        cal.holidays_of(1999)  # a year no test caches


# ----------------------------------------------------------------------------- day basis
def test_measure_registry_covers_every_flow_measure():
    from kps_analysis import data

    assert set(cal.MEASURE_DAY_BASIS) == set(data.FLOW_MEASURES)
    assert not set(cal.MEASURE_DAY_BASIS) & set(data.STOCK_MEASURES)
    assert cal.CALENDAR_DAY_MEASURES == {"emergency_visits", "operations_acute", "bed_days"}
    assert {"new_visits", "return_visits", "operations_elective", "treatment_decisions",
            "referrals_in"} <= cal.WORKING_DAY_MEASURES
    assert not cal.WORKING_DAY_MEASURES & cal.CALENDAR_DAY_MEASURES
    with pytest.raises(TypeError):
        cal.MEASURE_DAY_BASIS["new_visits"] = "calendar"  # read-only registry


def test_forecast_day_basis_agrees_with_the_registry():
    # forecast.py keeps its own sets until it reads the registry: they must not disagree
    from kps_analysis import forecast

    assert forecast.CALENDAR_DAY_MEASURES <= cal.CALENDAR_DAY_MEASURES
    assert forecast.WORKING_DAY_MEASURES <= cal.WORKING_DAY_MEASURES


def test_measure_days_and_period_days():
    weeks = cal.period_from_iso([2024, 2024], [52, 25])
    # Christmas week: 2 working days, 7 calendar days; Midsummer week: 4 (Sweden), 5 (England)
    assert cal.measure_days(weeks, "new_visits").tolist() == [2, 4]
    assert cal.measure_days(weeks, "bed_days").tolist() == [7, 7]
    assert cal.measure_days(weeks, "new_visits", country="GB", subdivision="ENG").tolist() == [3, 5]
    feb = pd.period_range("2024-02", periods=1, freq="M")
    assert cal.period_days(feb, "calendar").item() == 29 and cal.period_days(feb).item() == 21
    assert cal.day_basis("queue_new_visit", default="calendar") == "calendar"
    with pytest.raises(ValueError, match="basis"):
        cal.period_days(feb, "hours")


# ----------------------------------------------------------------------------- seasons
def test_swedish_seasons_2024_by_hand():
    s = cal.seasons(2024).set_index("season")
    assert s["name"].tolist() == ["sportlov", "påsk", "midsommar", "sommar", "jul"]
    spans = {k: (str(r.start.date()), str(r.end.date())) for k, r in s.iterrows()}
    assert spans == {"sports_holiday": ("2024-02-12", "2024-03-10"),  # ISO weeks 7-10
                     "easter": ("2024-03-29", "2024-04-01"),  # Good Friday .. Easter Monday
                     "midsummer": ("2024-06-21", "2024-06-22"),
                     "summer": ("2024-07-01", "2024-08-11"),  # ISO weeks 27-32
                     "christmas": ("2024-12-24", "2025-01-06")}  # Julafton .. Trettondedag jul
    assert cal.seasons(2024, language="en")["name"].tolist() == [
        "sports holiday", "Easter", "Midsummer", "summer", "Christmas"]


def test_british_seasons_never_speak_of_the_sports_holiday():
    for sub in ("ENG", "WLS", "SCT", "NIR"):
        s = cal.seasons(range(2020, 2031), country="GB", subdivision=sub, language="sv")
        assert set(s["season"]) == {"easter", "summer", "christmas"}, sub
        assert "sportlov" not in set(s["name"]) and "midsommar" not in set(s["name"])
    eng = cal.seasons(2024, country="GB", subdivision="ENG", language="en").set_index("season")
    assert str(eng.loc["christmas", "end"].date()) == "2025-01-01"
    assert str(eng.loc["summer", "start"].date()) == "2024-07-22"  # ISO week 30
    sct = cal.seasons(2024, country="GB", subdivision="SCT", language="en").set_index("season")
    assert str(sct.loc["christmas", "end"].date()) == "2025-01-02"  # 2 January is a holiday
    assert cal.season_phrase(country="GB", subdivision="ENG", language="en") == "Easter, summer and Christmas"
    assert cal.season_phrase() == "sportlov, påsk, midsommar, sommar och jul"
    # the region's summer weeks (the parameters' summer) replace the default
    assert str(cal.seasons(2024, summer=(28, 31)).set_index("season").loc["summer", "start"].date()) == \
        "2024-07-08"


def test_seasons_of_a_country_without_a_summer_on_record():
    s = cal.seasons(2024, country="DE", language="en")
    assert s["season"].tolist() == ["easter", "christmas"]
    assert cal.default_summer_weeks("DE") is None and cal.default_summer_weeks("GB") == (30, 35)
    with pytest.raises(ValueError, match="language"):
        cal.seasons(2024, language="de")
    with pytest.raises(ValueError, match="summer"):
        cal.seasons(2024, summer=(40, 30))
    with pytest.raises(ValueError, match="summer"):
        cal.seasons(2024, summer={"first": 27})


def test_seasons_take_the_parameters_summer():
    from pathlib import Path

    from kps_analysis.parameters import load_parameters

    p = load_parameters("gyn", Path(__file__).resolve().parents[1] / "parameters")
    s = cal.seasons(2026, summer=p.summer).set_index("season")
    assert cal.iso_week_label([s.loc["summer", "start"].to_period("W-SUN")]).tolist() == [
        f"2026-W{p.summer.first_week}"]


def test_season_of_weeks_and_months():
    weeks = cal.iso_week_periods("2024-01-01", "2024-12-29")
    se = cal.season_of(weeks)
    assert se.index.equals(weeks)
    counts = se.value_counts().to_dict()
    # sportlov 4 weeks, Easter 2 (Good Friday in W13, Easter Monday in W14), Midsummer 1,
    # summer 6, Christmas 2 (W52 and W1 of the year holding 1-6 January 2024, i.e. the
    # Christmas of 2023 reaching into W01)
    assert counts == {"": 52 - 4 - 2 - 1 - 6 - 2, "sports_holiday": 4, "easter": 2, "midsummer": 1,
                      "summer": 6, "christmas": 2}
    months = cal.season_of(pd.period_range("2024-01", "2024-12", freq="M"), country="GB", subdivision="ENG")
    assert months.tolist() == ["christmas", "", "easter", "easter", "", "", "summer", "summer", "summer", "",
                               "", "christmas"]


# ----------------------------------------------------------------------------- freshness
def test_data_age_days_by_hand():
    # week 2022-W50 ends Sunday 18 December 2022; to 1 March 2026: the rest of December 2022,
    # 2023, 2024 (a leap year), 2025, January, February and 1 March 2026
    assert cal.data_age_days(cal.period_from_iso(2022, 50), "2026-03-01") == 13 + 365 + 366 + 365 + 31 + 28 + 1
    assert cal.data_age_days(pd.Period("2026-02", "M"), dt.date(2026, 2, 20)) == -8  # month not over
    assert cal.data_age_days(pd.Period("2026-02", "M"), "2026-02-28") == 0
    assert [str(d.date()) for d in cal.period_end(cal.period_from_iso([2024], [1]))] == ["2024-01-07"]
    with pytest.raises(ValueError, match="last_period"):
        cal.data_age_days("2024-W01", "2024-02-01")


def test_the_nordic_neighbours_have_a_summer_the_season_text_names():
    """A Norwegian clinic's season text read "påsk och jul": no summer on record, while its
    normal weeks left out weeks 27-35 as summer all the same."""
    from kps_analysis.calendar import default_summer_weeks, season_phrase

    assert default_summer_weeks("NO") == (27, 32) and default_summer_weeks("DK") == (27, 32)
    assert default_summer_weeks("FI") == (27, 31)
    assert season_phrase(country="NO") == "påsk, sommar och jul"
    assert "sommar" in season_phrase(country="DK") and "midsommar" in season_phrase(country="FI")
