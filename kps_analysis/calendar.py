"""ISO weeks, Swedish public holidays and working days.

Planning in Swedish care runs on ISO weeks (Monday to Sunday, week 1 is the week with
the year's first Thursday, so some years have a week 53) and on months for budgets.
Weekly periods are pandas ``Period`` objects with freq ``W-SUN``: a ``W-SUN`` period
ends on a Sunday and so covers exactly one ISO week.

Holidays come from the `holidays <https://python-holidays.readthedocs.io>`_ package
(``holidays.Sweden``), without Sundays (Easter Sunday and Whit Sunday are Sundays
anyway, and some versions list *every* Sunday as a holiday).  Three days that are not
public holidays by law but on which a hospital runs as on a holiday are added as
``kind="de_facto"``: Midsummer Eve (the Friday between 19 and 25 June), Christmas Eve
(24 December) and New Year's Eve (31 December).

All functions are pure and vectorised.
"""

from __future__ import annotations

import functools

import datetime as _dt
import warnings

import holidays as _holidays
import numpy as np
import pandas as pd

__all__ = [
    "iso_week_periods",
    "iso_week_label",
    "period_from_iso",
    "parse_iso_week",
    "swedish_holidays",
    "working_days",
    "working_days_in",
    "calendar_days",
    "weeks_in_year",
    "is_summer_week",
    "easter_sunday",
]

WEEK_FREQ = "W-SUN"
"""The pandas period frequency of an ISO week (Monday..Sunday)."""

_DE_FACTO_NAMES = {
    "sv": ("Midsommarafton", "Julafton", "Nyårsafton"),
    "en": ("Midsummer Eve", "Christmas Eve", "New Year's Eve"),
}


# ----------------------------------------------------------------------------- helpers
def _as_period_index(periods, name="periods") -> pd.PeriodIndex:
    """Coerce Period-like input (PeriodIndex, Series of periods, list) to a PeriodIndex."""
    if isinstance(periods, pd.Period):
        periods = [periods]
    try:
        if isinstance(periods, pd.Series):
            index = pd.PeriodIndex(periods.array)
        else:
            index = pd.PeriodIndex(periods)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be pandas Periods (W-SUN or M), got {type(periods).__name__}: {exc}") from exc
    return index


def _week_index(periods, name="periods") -> pd.PeriodIndex:
    index = _as_period_index(periods, name)
    if len(index) and index.freqstr != WEEK_FREQ:
        raise ValueError(f"{name} must have freq {WEEK_FREQ!r} (ISO weeks), got {index.freqstr!r}")
    return index


def _as_years(years, name="years") -> np.ndarray:
    arr = np.atleast_1d(np.asarray(years))
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        as_int = arr.astype(np.int64) if np.issubdtype(arr.dtype, np.floating) else None
        if as_int is None or not np.array_equal(as_int, arr):
            raise ValueError(f"{name} must be whole years, got {years!r}")
        arr = as_int
    arr = arr.astype(np.int64)
    if arr.size and (arr.min() < 1678 or arr.max() > 2261):
        raise ValueError(f"{name} must lie in 1678..2261 (the range of datetime64[ns]), got {years!r}")
    return arr


def _midsummer_eve(years: np.ndarray) -> np.ndarray:
    """Friday between 19 and 25 June, as datetime64[D]."""
    june19 = (years - 1970).astype("datetime64[Y]").astype("datetime64[M]") + 5
    june19 = june19.astype("datetime64[D]") + 18
    weekday = (june19.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday (3)
    return june19 + (4 - weekday) % 7


# ----------------------------------------------------------------------------- weeks
def iso_week_periods(start, end) -> pd.PeriodIndex:
    """Every ISO week (``W-SUN`` period) that touches the dates ``start`` .. ``end``.

    Parameters
    ----------
    start, end : date-like
        First and last date (inclusive); any day of a week selects that week. [date]

    Returns
    -------
    pandas.PeriodIndex
        Consecutive ``W-SUN`` periods, Monday..Sunday.

    Raises
    ------
    ValueError
        If ``end`` lies before ``start``.

    Examples
    --------
    31 Dec 2020 (Thursday) is in ISO week 2020-W53, 4 Jan 2021 starts 2021-W01:

    >>> weeks = iso_week_periods("2020-12-30", "2021-01-04")
    >>> list(iso_week_label(weeks))
    ['2020-W53', '2021-W01']
    >>> str(weeks[0].start_time.date()), str(weeks[0].end_time.date())
    ('2020-12-28', '2021-01-03')
    """
    first = pd.Timestamp(start)
    last = pd.Timestamp(end)
    if last < first:
        raise ValueError(f"end ({last.date()}) lies before start ({first.date()})")
    return pd.period_range(first.to_period(WEEK_FREQ), last.to_period(WEEK_FREQ), freq=WEEK_FREQ)


def iso_week_label(periods) -> pd.Index:
    """ISO week labels ``"YYYY-Www"`` of weekly periods (ISO year, not calendar year).

    Parameters
    ----------
    periods : PeriodIndex, Series or list of Period
        Weekly (``W-SUN``) periods. [ISO week]

    Returns
    -------
    pandas.Index
        Strings such as ``"2024-W05"``, same length and order.

    Examples
    --------
    >>> list(iso_week_label(pd.period_range("2024-01-29", periods=2, freq="W-SUN")))
    ['2024-W05', '2024-W06']
    >>> list(iso_week_label([pd.Period("2025-12-29", "W-SUN")]))  # Monday 29 Dec 2025
    ['2026-W01']
    """
    index = _week_index(periods)
    iso = index.start_time.isocalendar()
    year = iso["year"].to_numpy(dtype=np.int64)
    week = iso["week"].to_numpy(dtype=np.int64)
    labels = [f"{y:04d}-W{w:02d}" for y, w in zip(year, week)]
    if not labels:
        return pd.Index([], dtype=object, name=index.name)
    return pd.Index(labels, name=index.name)


def period_from_iso(year, week):
    """The ``W-SUN`` period of ISO week ``week`` of ISO year ``year``.

    Monday of ISO week 1 = 4 January minus its weekday; week *w* starts 7·(w − 1) days
    later.

    Parameters
    ----------
    year : int or array-like of int
        ISO year. [year]
    week : int or array-like of int
        ISO week number, 1..52 or 1..53 in a year with 53 weeks. [week]

    Returns
    -------
    pandas.Period or pandas.PeriodIndex
        A Period for scalar input, else a PeriodIndex.

    Raises
    ------
    ValueError
        If a week number does not exist in its year (e.g. week 53 of 2021).

    Examples
    --------
    >>> period_from_iso(2020, 53)
    Period('2020-12-28/2021-01-03', 'W-SUN')
    >>> list(iso_week_label(period_from_iso([2024, 2026], [5, 1])))
    ['2024-W05', '2026-W01']
    """
    scalar = np.ndim(year) == 0 and np.ndim(week) == 0
    years, weeks = np.broadcast_arrays(_as_years(year, "year"), np.atleast_1d(np.asarray(week)))
    if weeks.size and not np.issubdtype(weeks.dtype, np.integer):
        if not np.array_equal(weeks, np.floor(weeks)):
            raise ValueError(f"week must be whole week numbers, got {week!r}")
    weeks = weeks.astype(np.int64)
    bad = (weeks < 1) | (weeks > weeks_in_year(years))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"week {weeks[i]} does not exist in ISO year {years[i]} "
                         f"(it has {int(weeks_in_year(years[i]))} weeks)")
    jan4 = (years - 1970).astype("datetime64[Y]").astype("datetime64[D]") + 3
    weekday = (jan4.astype(np.int64) + 3) % 7  # Monday = 0
    monday = jan4 - weekday + 7 * (weeks - 1)
    index = pd.PeriodIndex(pd.DatetimeIndex(monday.astype("datetime64[ns]")), freq=WEEK_FREQ)
    return index[0] if scalar else index


def parse_iso_week(labels) -> pd.PeriodIndex:
    """Parse ISO week labels (``"2024-W05"``, ``"2024W5"``, ``"2024 v 5"``) to periods.

    Parameters
    ----------
    labels : str or array-like of str
        Year, an optional separator, ``W`` or ``V`` (Swedish *vecka*), the week number.

    Returns
    -------
    pandas.PeriodIndex
        ``W-SUN`` periods.

    Raises
    ------
    ValueError
        If a label cannot be read or the week does not exist; the message quotes it.

    Examples
    --------
    >>> list(iso_week_label(parse_iso_week(["2024-W05", "2020 v 53", "2021W1"])))
    ['2024-W05', '2020-W53', '2021-W01']
    """
    values = pd.Series(np.atleast_1d(np.asarray(labels, dtype=object)), dtype=object).astype(str)
    parts = values.str.strip().str.extract(r"^(\d{4})\s*-?\s*[WwVv]\s*(\d{1,2})$")
    unread = parts[0].isna()
    if unread.any():
        raise ValueError(f"labels: cannot read {values[unread].iloc[0]!r} as an ISO week (expected e.g. '2024-W05')")
    return pd.PeriodIndex(period_from_iso(parts[0].astype(np.int64).to_numpy(), parts[1].astype(np.int64).to_numpy()))


def weeks_in_year(year):
    """Number of ISO weeks in ISO year ``year`` (52 or 53).

    A year has 53 weeks when it starts on a Thursday, or is a leap year starting on a
    Wednesday; equivalently when ``p(year) == 4`` or ``p(year - 1) == 3`` with
    ``p(y) = (y + y//4 - y//100 + y//400) mod 7``.

    Parameters
    ----------
    year : int or array-like of int
        ISO year. [year]

    Returns
    -------
    int or numpy.ndarray
        52 or 53, same shape as ``year``. [weeks]

    Examples
    --------
    >>> weeks_in_year(2020), weeks_in_year(2021)
    (53, 52)
    >>> weeks_in_year([2015, 2019, 2026]).tolist()
    [53, 52, 53]
    """
    scalar = np.ndim(year) == 0
    years = _as_years(year, "year")

    def p(y):
        return (y + y // 4 - y // 100 + y // 400) % 7

    result = np.where((p(years) == 4) | (p(years - 1) == 3), 53, 52)
    if isinstance(year, pd.Series):
        return pd.Series(result, index=year.index, name=year.name)
    return int(result[0]) if scalar else result.reshape(np.shape(year))


def is_summer_week(periods, *, first_week=27, last_week=32) -> np.ndarray:
    """True for ISO weeks ``first_week`` .. ``last_week`` (the Swedish summer period).

    Parameters
    ----------
    periods : PeriodIndex, Series or list of Period
        Weekly (``W-SUN``) periods. [ISO week]
    first_week, last_week : int, optional
        Summer weeks, inclusive; default 27..32 (early July to mid August). [ISO week]

    Returns
    -------
    numpy.ndarray of bool
        One flag per period.

    Raises
    ------
    ValueError
        If ``periods`` are not weekly or ``first_week > last_week``.

    Examples
    --------
    >>> is_summer_week(pd.period_range("2024-06-24", periods=10, freq="W-SUN")).astype(int).tolist()
    [0, 1, 1, 1, 1, 1, 1, 0, 0, 0]
    """
    if not 1 <= first_week <= last_week <= 53:
        raise ValueError(f"first_week and last_week must satisfy 1 <= first_week <= last_week <= 53, "
                         f"got {first_week}, {last_week}")
    index = _week_index(periods)
    week = index.start_time.isocalendar()["week"].to_numpy(dtype=np.int64)
    return (week >= first_week) & (week <= last_week)


# ----------------------------------------------------------------------------- holidays
def easter_sunday(years):
    """Easter Sunday (Gregorian computus, anonymous Gregorian algorithm).

    Parameters
    ----------
    years : int or array-like of int
        Calendar years. [year]

    Returns
    -------
    pandas.Timestamp or pandas.DatetimeIndex
        A Timestamp for a scalar year, else a DatetimeIndex (datetime64[ns]).

    Examples
    --------
    >>> easter_sunday(2024)
    Timestamp('2024-03-31 00:00:00')
    >>> [str(d.date()) for d in easter_sunday([2019, 2025])]
    ['2019-04-21', '2025-04-20']
    """
    scalar = np.ndim(years) == 0
    y = _as_years(years)
    a = y % 19
    b, c = y // 100, y % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month = (h + ell - 7 * m + 114) // 31
    day = (h + ell - 7 * m + 114) % 31 + 1
    first_of_month = ((y - 1970).astype("datetime64[Y]").astype("datetime64[M]") + (month - 1)).astype("datetime64[D]")
    dates = first_of_month + (day - 1)
    index = pd.DatetimeIndex(dates.astype("datetime64[ns]"))
    return index[0] if scalar else index


def swedish_holidays(years, *, language="sv") -> pd.DataFrame:
    """Swedish public holidays (without Sundays) and the de-facto days off.

    ``public``: ``holidays.Sweden`` with every Sunday removed (Sunday is not a working
    day anyway).  ``de_facto``: Midsummer Eve (Friday 19-25 June), Christmas Eve and
    New Year's Eve, which are not public holidays by law but on which elective care is
    closed; whatever category the installed ``holidays`` version files them under, they
    are reported here as ``de_facto`` only.  Days falling on a Sunday are left out in
    both kinds (Christmas Eve 2023 is not listed); Saturdays are kept.

    Parameters
    ----------
    years : int or array-like of int
        Calendar years. [year]
    language : str, optional
        Language of the names, as ``holidays`` understands it (``"sv"`` default,
        ``"en_US"``).

    Returns
    -------
    pandas.DataFrame
        Columns ``date`` (datetime64[ns]), ``name`` (str), ``kind`` (``"public"`` or
        ``"de_facto"``), sorted by date; one row per date.

    Examples
    --------
    >>> h = swedish_holidays(2024, language="en_US")
    >>> h.loc[h["kind"] == "de_facto", "date"].dt.strftime("%m-%d").tolist()
    ['06-21', '12-24', '12-31']
    >>> int((h["kind"] == "public").sum())  # 11 public holidays on Mon..Sat in 2024
    11
    >>> h.loc[h["date"] == "2024-03-29", "name"].item()
    'Good Friday'
    """
    years_arr = np.unique(_as_years(years))
    columns = {"date": pd.Series([], dtype="datetime64[ns]"), "name": pd.Series([], dtype=str),
               "kind": pd.Series([], dtype=str)}
    if years_arr.size == 0:
        return pd.DataFrame(columns)
    year_list = [int(y) for y in years_arr]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        public = _holidays.Sweden(years=year_list, language=language)
        try:
            de_facto_named = dict(_holidays.Sweden(years=year_list, language=language, categories=("de_facto",)))
        except (TypeError, ValueError, NotImplementedError, AttributeError):  # old holidays without categories
            de_facto_named = {}
    fallback = _DE_FACTO_NAMES["sv" if str(language).lower().startswith("sv") else "en"]

    eves = np.concatenate([
        _midsummer_eve(years_arr),
        (years_arr - 1970).astype("datetime64[Y]").astype("datetime64[D]") + np.where(
            _is_leap(years_arr), 358, 357),  # 24 December
        (years_arr - 1970).astype("datetime64[Y]").astype("datetime64[D]") + np.where(
            _is_leap(years_arr), 365, 364),  # 31 December
    ])
    eve_dates = [_dt.date.fromisoformat(str(d)) for d in eves]
    eve_names = [de_facto_named.get(d, n) for d, n in zip(eve_dates, np.repeat(fallback, len(years_arr)))]
    eve_set = set(eve_dates)

    pub = [(d, n) for d, n in public.items() if d.weekday() != 6 and d not in eve_set]
    eve = [(d, n) for d, n in zip(eve_dates, eve_names) if d.weekday() != 6]
    dates = [d for d, _ in pub] + [d for d, _ in eve]
    names = [str(n) for _, n in pub] + [str(n) for _, n in eve]
    kinds = ["public"] * len(pub) + ["de_facto"] * len(eve)
    frame = pd.DataFrame({"date": pd.to_datetime(pd.Series(dates, dtype=object)).astype("datetime64[ns]"),
                          "name": pd.Series(names, dtype=str), "kind": pd.Series(kinds, dtype=str)})
    return frame.sort_values("date", kind="stable").reset_index(drop=True)


def _is_leap(years: np.ndarray) -> np.ndarray:
    return ((years % 4 == 0) & (years % 100 != 0)) | (years % 400 == 0)


# ----------------------------------------------------------------------------- working days
@functools.lru_cache(maxsize=64)
def _days_off(first_year: int, last_year: int) -> np.ndarray:
    """The (de-facto) holidays of the years, as a read-only datetime64[ns] array (cached:
    building ``holidays.Sweden`` costs about 0.1 s, and forecasts ask for the same years
    many times)."""
    off = swedish_holidays(np.arange(first_year, last_year + 1))["date"].to_numpy()
    off.setflags(write=False)
    return off


def _daily_working_flags(first, last) -> pd.Series:
    """Series over every day first..last: 1 for Mon-Fri days that are no (de-facto) holiday."""
    days = pd.date_range(first, last, freq="D")
    off = _days_off(int(days[0].year), int(days[-1].year))
    working = (days.day_of_week < 5) & ~days.isin(off)
    return pd.Series(working.astype(np.int64), index=days)


def working_days(periods) -> pd.Series:
    """Working days (Mon-Fri that are neither public nor de-facto holidays) per period.

    A daily calendar covering all periods is built once and summed per period, so the
    cost does not grow with the number of periods beyond a ``groupby``.

    Parameters
    ----------
    periods : PeriodIndex, Series or list of Period
        Periods of one frequency, typically ``W-SUN`` (ISO weeks) or ``M`` (months);
        duplicates and gaps are allowed. [period]

    Returns
    -------
    pandas.Series
        Index = the given periods (as a PeriodIndex, same order), values = working
        days, int64, name ``"working_days"``. [days]

    Raises
    ------
    ValueError
        If ``periods`` are not Periods.

    Examples
    --------
    Easter week 2024-W13 (Good Friday 29 March) and Christmas week 2024-W52 (24, 25,
    26 December off):

    >>> weeks = period_from_iso([2024, 2024, 2024], [12, 13, 52])
    >>> working_days(weeks).tolist()
    [5, 4, 2]
    >>> working_days(pd.period_range("2024-12", periods=1, freq="M")).item()  # 22 Mon-Fri - 4
    18
    """
    index = _as_period_index(periods)
    if len(index) == 0:
        return pd.Series([], index=index, dtype=np.int64, name="working_days")
    valid = index[~index.isna()]
    if len(valid) == 0:
        return pd.Series(0, index=index, dtype=np.int64, name="working_days")
    first = valid.start_time.min().normalize()
    last = valid.end_time.max().normalize()
    flags = _daily_working_flags(first, last)
    per_period = flags.groupby(flags.index.to_period(index.freq)).sum()
    result = per_period.reindex(index, fill_value=0).astype(np.int64)
    result.index = index
    result.name = "working_days"
    return result


# ----------------------------------------------------------------------------- other countries
def _country_code(country) -> tuple:
    if not isinstance(country, str) or not country.strip():
        raise ValueError(f"country must be an ISO 3166 code such as 'SE' or 'GB-SCT', got {country!r}")
    code, _, subdiv = country.strip().upper().partition("-")
    return code, (subdiv or None)


@functools.lru_cache(maxsize=64)
def _country_days_off(country: str, first_year: int, last_year: int) -> np.ndarray:
    """Public holidays of ``country`` (``holidays.country_holidays``) as a read-only
    datetime64[ns] array (cached like :func:`_days_off`)."""
    code, subdiv = _country_code(country)
    try:
        cal = _holidays.country_holidays(code, subdiv=subdiv, years=range(first_year, last_year + 1))
    except NotImplementedError:
        raise ValueError(f"country {country!r} is not known to the holidays package") from None
    off = pd.to_datetime(pd.Series(sorted(cal.keys()), dtype=object)).to_numpy("datetime64[ns]")
    off.setflags(write=False)
    return off


def working_days_in(periods, *, country="SE") -> pd.Series:
    """Working days per period in a country's calendar: Mon-Fri that are no public holiday.

    ``country="SE"`` is :func:`working_days` (Swedish public holidays plus the de-facto
    days off: Midsummer, Christmas and New Year's Eve). Any other code is looked up in
    the ``holidays`` package (``holidays.country_holidays``), with an optional
    subdivision after a hyphen: ``"NO"``, ``"DK"``, ``"GB-SCT"`` (Scotland),
    ``"GB-ENG"`` (England).

    Parameters
    ----------
    periods : PeriodIndex, Series or list of Period
        Periods of one frequency (``W-SUN`` or ``M``). [period]
    country : str, optional
        ISO 3166 country code, optionally ``-SUBDIVISION``; default ``"SE"``.

    Returns
    -------
    pandas.Series
        Index = the given periods, values = working days, int64. [days]

    Raises
    ------
    ValueError
        If ``periods`` are not Periods or the country is unknown.

    Examples
    --------
    December 2024 in Sweden (22 weekdays, 24-26 and 31 December off) and in Scotland
    (25 and 26 December, and St Andrew's Day observed on Monday 2 December):

    >>> dec = pd.period_range("2024-12", periods=1, freq="M")
    >>> working_days_in(dec).item(), working_days_in(dec, country="GB-SCT").item()
    (18, 19)
    """
    code, subdiv = _country_code(country)
    if code == "SE" and subdiv is None:
        return working_days(periods)
    index = _as_period_index(periods)
    valid = index[~index.isna()]
    if len(valid) == 0:
        return pd.Series(0, index=index, dtype=np.int64, name="working_days")
    days = pd.date_range(valid.start_time.min().normalize(), valid.end_time.max().normalize(), freq="D")
    off = _country_days_off(str(country).strip().upper(), int(days[0].year), int(days[-1].year))
    flags = pd.Series(((days.day_of_week < 5) & ~days.isin(off)).astype(np.int64), index=days)
    per_period = flags.groupby(flags.index.to_period(index.freq)).sum()
    result = per_period.reindex(index, fill_value=0).astype(np.int64)
    result.index = index
    result.name = "working_days"
    return result


def calendar_days(periods) -> pd.Series:
    """Calendar days per period: 7 for an ISO week, 28-31 for a month.

    Parameters
    ----------
    periods : PeriodIndex, Series or list of Period
        Periods of one frequency. [period]

    Returns
    -------
    pandas.Series
        Index = the given periods, values = days, int64, name ``"calendar_days"``. [days]

    Examples
    --------
    >>> calendar_days(pd.period_range("2024-01", periods=3, freq="M")).tolist()
    [31, 29, 31]
    """
    index = _as_period_index(periods)
    days = ((index.end_time.normalize() - index.start_time.normalize()).days + 1).to_numpy()
    values = np.where(index.isna(), 0, days).astype(np.int64)
    return pd.Series(values, index=index, name="calendar_days")
