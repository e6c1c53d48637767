"""ISO weeks, a country's holidays, working and calendar days, seasons.

The one home of the calendar: every module that needs to know how many days a
period holds, which days are off or what the holiday seasons are called asks here.

Planning in Swedish care runs on ISO weeks (Monday to Sunday, week 1 is the week with
the year's first Thursday, so some years have a week 53) and on months for budgets.
Weekly periods are pandas ``Period`` objects with freq ``W-SUN``: a ``W-SUN`` period
ends on a Sunday and so covers exactly one ISO week; monthly periods have freq ``M``.

**Calendar of a region.** A region is a country (ISO 3166-1 alpha-2 code, ``"SE"`` by
default) and optionally a subdivision (``"ENG"`` of ``"GB"``); the parameters'
``country`` and ``subdivision``.  Its days off come from the `holidays
<https://python-holidays.readthedocs.io>`_ package (``holidays.country_holidays``):
the public holidays, plus the package's ``de_facto`` category where the country has
one.  For Sweden that category holds the three days that are no public holidays by law
but on which a hospital runs as on a holiday (Midsommarafton, Julafton, Nyårsafton;
``holidays`` >= 0.88).  Sundays are left out of the lists (Sunday is no working day
anyway).

**Days per period.** Elective, booked activity follows the *working days* (Monday to
Friday that are no day off: :func:`working_days`); acute and emergency activity and
occupied beds follow the *calendar days* (:func:`calendar_days`).  Which measure
follows which is :data:`MEASURE_DAY_BASIS`, the one registry (:func:`day_basis`,
:func:`measure_days`).

**Seasons.** :func:`seasons` gives the named holiday seasons of a year in the calendar
in use (Swedish: sportlov, påsk, midsommar, sommar, jul; British: Easter, summer,
Christmas), in Swedish or English, so a report speaks of the seasons of its data.

All functions are pure and vectorised over periods; the holiday lists (a few dozen
dates per year) are built once per region and span of years and cached.
"""

from __future__ import annotations

import datetime as _dt
import functools
import types
import warnings
from collections.abc import Mapping

import holidays as _holidays
import numpy as np
import pandas as pd
from dateutil.easter import easter as _easter

__all__ = [
    "WEEK_FREQ",
    "MONTH_FREQ",
    "DEFAULT_COUNTRY",
    "MEASURE_DAY_BASIS",
    "WORKING_DAY_MEASURES",
    "CALENDAR_DAY_MEASURES",
    "DAY_BASES",
    "SEASON_NAMES",  # noqa: F822 - given by the module's __getattr__, from the translation catalogue
    "iso_week_periods",
    "iso_week_label",
    "period_from_iso",
    "parse_iso_week",
    "weeks_in_year",
    "is_summer_week",
    "easter_sunday",
    "check_region",
    "holidays_of",
    "swedish_holidays",
    "working_days",
    "working_days_in",
    "calendar_days",
    "period_days",
    "day_basis",
    "measure_days",
    "default_summer_weeks",
    "seasons",
    "season_names",
    "season_phrase",
    "season_of",
    "period_end",
    "data_age_days",
]

WEEK_FREQ = "W-SUN"
"""The pandas period frequency of an ISO week (Monday..Sunday)."""

MONTH_FREQ = "M"
"""The pandas period frequency of a calendar month."""

DEFAULT_COUNTRY = "SE"
"""The calendar used when none is given: Sweden."""

#: Oldest ``holidays`` release that files Sweden's Midsommarafton, Julafton and
#: Nyårsafton under the ``de_facto`` category (vacanza/holidays#3138).
_HOLIDAYS_WITH_SE_DE_FACTO = "0.88"


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


def iso_year_week(periods) -> tuple[np.ndarray, np.ndarray]:
    """ISO year and ISO week of weekly periods, as integer arrays [ISO year, ISO week 1-53].

    The same numbers as pandas' ``start_time.isocalendar()`` (tested over every week
    1678-2261), computed from the periods' ordinals in arrays: a week's ISO week is its
    Thursday's week of the Thursday's year. pandas builds a frame of timestamps for it,
    a few milliseconds a call, which the forecasts' hundreds of calls per run paid.

    Parameters
    ----------
    periods : PeriodIndex, Series or list of Period
        Weekly (``W-SUN``) periods, none missing. [ISO week]

    Returns
    -------
    (ndarray, ndarray)
        ISO year and ISO week, int64, same length and order.

    Examples
    --------
    >>> year, week = iso_year_week(pd.period_range("2020-12-28", periods=2, freq="W-SUN"))
    >>> year.tolist(), week.tolist()
    ([2020, 2021], [53, 1])
    """
    index = _week_index(periods)
    if index.hasnans:
        raise ValueError("periods: a missing week (NaT) has no ISO week")
    monday = index.asi8.astype(np.int64) * 7 - 10     # days since 1970-01-01 (W-SUN ordinal 0: 1969-12-22..28)
    thursday = monday + 3
    year = thursday.astype("datetime64[D]").astype("datetime64[Y]")
    week = (thursday - year.astype("datetime64[D]").astype(np.int64)) // 7 + 1
    return year.astype(np.int64) + 1970, week.astype(np.int64)


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
    if index.hasnans:
        iso = index.start_time.isocalendar()
        year, week = iso["year"].to_numpy(dtype=np.int64), iso["week"].to_numpy(dtype=np.int64)
    else:
        year, week = iso_year_week(index)
    labels = [f"{y:04d}-W{w:02d}" for y, w in zip(year.tolist(), week.tolist())]
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


# ----------------------------------------------------------------------------- Easter
def easter_sunday(years):
    """Easter Sunday of the Gregorian calendar (``dateutil.easter.easter``).

    Parameters
    ----------
    years : int or array-like of int
        Calendar years, 1678..2261. [year]

    Returns
    -------
    pandas.Timestamp or pandas.DatetimeIndex
        A Timestamp for a scalar year, else a DatetimeIndex (datetime64[ns]).

    Raises
    ------
    ValueError
        If a year is no whole year in 1678..2261 (the message names ``years``).

    Examples
    --------
    >>> easter_sunday(2024)
    Timestamp('2024-03-31 00:00:00')
    >>> [str(d.date()) for d in easter_sunday([2019, 2025])]
    ['2019-04-21', '2025-04-20']
    """
    scalar = np.ndim(years) == 0
    y = _as_years(years)
    index = pd.DatetimeIndex([_easter(int(v)) for v in y.ravel()]).astype("datetime64[ns]")
    return index[0] if scalar else index


# ----------------------------------------------------------------------------- regions
def check_region(country=DEFAULT_COUNTRY, subdivision=None) -> tuple:
    """The region's codes as the ``holidays`` package knows them, or a clear error.

    Parameters
    ----------
    country : str, optional
        ISO 3166-1 alpha-2 code (``"SE"``, ``"GB"``, ``"NO"``), any case; a subdivision
        may follow a hyphen (``"GB-SCT"``) when ``subdivision`` is not given.
    subdivision : str, optional
        Code or name of a subdivision of the country (``"ENG"``, ``"England"``,
        ``"SCT"``); ``None`` for the whole country.

    Returns
    -------
    (str, str or None)
        Upper-case country code and the subdivision's code (``"England"`` ->
        ``"ENG"``).

    Raises
    ------
    ValueError
        For an unknown country (with the closest known codes) or a subdivision the
        country does not have (with the ones it has).

    Examples
    --------
    >>> check_region("gb", "england"), check_region("GB-SCT"), check_region()
    (('GB', 'ENG'), ('GB', 'SCT'), ('SE', None))
    >>> check_region("XX")
    Traceback (most recent call last):
    ...
    ValueError: country 'XX' is not an ISO 3166 country code the holidays package knows (e.g. 'SE', 'GB', 'NO')
    """
    if not isinstance(country, str) or not country.strip():
        raise ValueError(f"country must be an ISO 3166 code such as 'SE' or 'GB', got {country!r}")
    if subdivision is not None and (not isinstance(subdivision, str) or not subdivision.strip()):
        raise ValueError(f"subdivision must be a code such as 'ENG', or None, got {subdivision!r}")
    code, _, tail = country.strip().partition("-")
    code = code.upper()
    if tail:
        if subdivision is not None and subdivision.strip().upper() != tail.strip().upper():
            raise ValueError(f"country {country!r} names subdivision {tail!r} but subdivision is "
                             f"{subdivision!r}")
        subdivision = tail
    return _check_region(code, None if subdivision is None else subdivision.strip())


@functools.lru_cache(maxsize=256)
def _check_region(code: str, subdivision) -> tuple:
    known = _holidays.list_supported_countries(include_aliases=True)
    if code not in known:
        raise ValueError(f"country {code!r} is not an ISO 3166 country code the holidays package knows "
                         f"(e.g. 'SE', 'GB', 'NO')")
    if subdivision is None:
        return code, None
    cls = _holidays.country_holidays(code)
    codes = [str(s) for s in getattr(cls, "subdivisions", ())]
    aliases = {str(k).casefold(): str(v) for k, v in (getattr(cls, "subdivisions_aliases", {}) or {}).items()}
    by_fold = {c.casefold(): c for c in codes}
    wanted = subdivision.casefold()
    if wanted in by_fold:
        return code, by_fold[wanted]
    if wanted in aliases:
        return code, aliases[wanted]
    if not codes:
        raise ValueError(f"country {code!r} has no subdivisions in the holidays package; leave "
                         f"subdivision out, got {subdivision!r}")
    shown = ", ".join(codes[:20]) + (", ..." if len(codes) > 20 else "")
    raise ValueError(f"subdivision {subdivision!r} is not a subdivision of {code} (known: {shown})")


def _holiday_language(cls, language) -> str | None:
    """The ``holidays`` language code nearest to a report language (``sv``, ``en``)."""
    supported = tuple(getattr(cls, "supported_languages", ()) or ())
    if language is None:
        return None
    lang = str(language)
    if lang in supported:
        return lang
    stem = lang.split("_")[0].lower()
    for candidate in (f"{stem}_GB", f"{stem}_US", stem):
        if candidate in supported:
            return candidate
    matches = [s for s in supported if s.split("_")[0].lower() == stem]
    return matches[0] if matches else None  # None: the country's own language


def _region_holidays(code: str, subdivision, years: list, language) -> tuple:
    """(public, de_facto) mappings date -> name from ``holidays`` (Sundays included)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        probe = _holidays.country_holidays(code, subdiv=subdivision)
        lang = _holiday_language(probe, language)
        supported = set(getattr(probe, "supported_categories", ("public",)) or ("public",))
        public = dict(_holidays.country_holidays(code, subdiv=subdivision, years=years, language=lang))
        if code == "SE" and "de_facto" not in supported:
            raise ValueError(
                f"the installed holidays {getattr(_holidays, '__version__', '?')} lacks Sweden's de-facto "
                f"days off (Midsommarafton, Julafton, Nyårsafton: category 'de_facto'); install holidays>="
                f"{_HOLIDAYS_WITH_SE_DE_FACTO} (pip install -U holidays)")
        de_facto = {}
        if "de_facto" in supported:
            de_facto = dict(_holidays.country_holidays(code, subdiv=subdivision, years=years, language=lang,
                                                       categories=("de_facto",)))
    return public, de_facto


def holidays_of(years, *, country=DEFAULT_COUNTRY, subdivision=None, language="sv") -> pd.DataFrame:
    """A region's days off: public holidays and de-facto holidays, without Sundays.

    ``public``: the country's (and subdivision's) public holidays in ``holidays``,
    substitute days ("observed") included.  ``de_facto``: the package's ``de_facto``
    category where the country has one (Sweden: Midsommarafton, Julafton,
    Nyårsafton), days that are no public holiday by law but on which elective care is
    closed; a date in both is ``de_facto``.  Days falling on a Sunday are left out in
    both kinds (Christmas Eve 2023); Saturdays are kept.

    Parameters
    ----------
    years : int or array-like of int
        Calendar years. [year]
    country : str, optional
        ISO 3166 code, default ``"SE"`` (see :func:`check_region`).
    subdivision : str, optional
        Subdivision code (``"ENG"``, ``"SCT"``), default none.
    language : str, optional
        Language of the names: ``"sv"`` (default) or ``"en"`` (or a ``holidays``
        code such as ``"en_US"``); a language the country's list lacks gives its
        own language.

    Returns
    -------
    pandas.DataFrame
        Columns ``date`` (datetime64[ns]), ``name`` (str), ``kind`` (``"public"`` or
        ``"de_facto"``), sorted by date; one row per date.

    Raises
    ------
    ValueError
        For an unknown country or subdivision, or years outside 1678..2261.

    Examples
    --------
    England 2024: Easter Monday and the August bank holiday are days off:

    >>> h = holidays_of(2024, country="GB", subdivision="ENG", language="en")
    >>> h.loc[h["date"].dt.month.isin([4, 8]), "name"].tolist()
    ['Easter Monday', 'Late Summer Bank Holiday']
    >>> s = holidays_of(2024, language="en")
    >>> s.loc[s["kind"] == "de_facto", "name"].tolist()
    ['Midsummer Eve', 'Christmas Eve', "New Year's Eve"]
    """
    code, subdiv = check_region(country, subdivision)
    years_arr = np.unique(_as_years(years))
    if years_arr.size == 0:
        return pd.DataFrame({"date": pd.Series([], dtype="datetime64[ns]"), "name": pd.Series([], dtype=str),
                             "kind": pd.Series([], dtype=str)})
    public, de_facto = _region_holidays(code, subdiv, [int(y) for y in years_arr], language)
    rows = [(d, str(n), "public") for d, n in public.items() if d not in de_facto]
    rows += [(d, str(n), "de_facto") for d, n in de_facto.items()]
    rows = [r for r in rows if r[0].weekday() != 6]
    frame = pd.DataFrame({
        "date": pd.to_datetime(pd.Series([r[0] for r in rows], dtype=object)).astype("datetime64[ns]"),
        "name": pd.Series([r[1] for r in rows], dtype=str),
        "kind": pd.Series([r[2] for r in rows], dtype=str)})
    return frame.sort_values("date", kind="stable").reset_index(drop=True)


def swedish_holidays(years, *, language="sv") -> pd.DataFrame:
    """Swedish public holidays and de-facto days off, without Sundays.

    :func:`holidays_of` with ``country="SE"``: the public holidays of ``holidays.Sweden``
    and its ``de_facto`` category (Midsommarafton, Julafton, Nyårsafton).

    Parameters
    ----------
    years : int or array-like of int
        Calendar years. [year]
    language : str, optional
        ``"sv"`` (default) or ``"en"`` / ``"en_US"``.

    Returns
    -------
    pandas.DataFrame
        ``date``, ``name``, ``kind`` as :func:`holidays_of`.

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
    return holidays_of(years, country="SE", language=language)


# ----------------------------------------------------------------------------- days per period
@functools.lru_cache(maxsize=128)
def _days_off(code: str, subdivision, first_year: int, last_year: int) -> np.ndarray:
    """The region's days off (Mon-Sat) of the years, a read-only datetime64[ns] array.

    Cached: building the ``holidays`` lists costs milliseconds, and forecasts and plans
    ask for the same region and years many times.
    """
    off = holidays_of(np.arange(first_year, last_year + 1), country=code, subdivision=subdivision,
                      language=None)["date"].to_numpy()
    off.setflags(write=False)
    return off


def working_days(periods, *, country=DEFAULT_COUNTRY, subdivision=None) -> pd.Series:
    """Working days per period: Monday to Friday that are no day off in the region.

    A day off is a public or de-facto holiday of :func:`holidays_of`.  A daily calendar
    covering all periods is built once and summed per period, so the cost does not grow
    with the number of periods beyond a ``groupby``.

    Parameters
    ----------
    periods : PeriodIndex, Series or list of Period
        Periods of one frequency, ``W-SUN`` (ISO weeks) or ``M`` (months); duplicates
        and gaps are allowed. [period]
    country : str, optional
        ISO 3166 code, default ``"SE"``; ``"GB-ENG"`` form allowed.
    subdivision : str, optional
        Subdivision code (``"ENG"``), default none.

    Returns
    -------
    pandas.Series
        Index = the given periods (as a PeriodIndex, same order), values = working
        days, int64, name ``"working_days"``. [days]

    Raises
    ------
    ValueError
        If ``periods`` are not Periods, or the country or subdivision is unknown.

    Examples
    --------
    Easter week 2024-W13 (Good Friday 29 March) and Christmas week 2024-W52 (24, 25,
    26 December off) in Sweden; Ascension week 2026-W20 in Sweden and England:

    >>> weeks = period_from_iso([2024, 2024, 2024], [12, 13, 52])
    >>> working_days(weeks).tolist()
    [5, 4, 2]
    >>> w20 = period_from_iso(2026, 20)
    >>> working_days([w20]).item(), working_days([w20], country="GB", subdivision="ENG").item()
    (4, 5)
    >>> working_days(pd.period_range("2024-12", periods=1, freq="M")).item()  # 22 Mon-Fri - 4
    18
    """
    code, subdiv = check_region(country, subdivision)
    index = _as_period_index(periods)
    if len(index) == 0:
        return pd.Series([], index=index, dtype=np.int64, name="working_days")
    valid = index[~index.isna()]
    if len(valid) == 0:
        return pd.Series(0, index=index, dtype=np.int64, name="working_days")
    days = pd.date_range(valid.start_time.min().normalize(), valid.end_time.max().normalize(), freq="D")
    off = _days_off(code, subdiv, int(days[0].year), int(days[-1].year))
    flags = pd.Series(((days.day_of_week < 5) & ~days.isin(off)).astype(np.int64), index=days)
    per_period = flags.groupby(flags.index.to_period(index.freq)).sum()
    result = per_period.reindex(index, fill_value=0).astype(np.int64)
    result.index = index
    result.name = "working_days"
    return result


def working_days_in(periods, *, country=DEFAULT_COUNTRY, subdivision=None) -> pd.Series:
    """Working days per period in a country's calendar: :func:`working_days`.

    Kept for callers that name the country with its subdivision after a hyphen
    (``"GB-SCT"``), which :func:`working_days` accepts too.

    Parameters
    ----------
    periods : PeriodIndex, Series or list of Period
        Periods of one frequency (``W-SUN`` or ``M``). [period]
    country : str, optional
        ISO 3166 code, optionally ``-SUBDIVISION``; default ``"SE"``.
    subdivision : str, optional
        Subdivision code, default none.

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
    return working_days(periods, country=country, subdivision=subdivision)


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
    >>> calendar_days(period_from_iso([2024], [1])).item()
    7
    """
    index = _as_period_index(periods)
    days = ((index.end_time.normalize() - index.start_time.normalize()).days + 1).to_numpy()
    values = np.where(index.isna(), 0, days).astype(np.int64)
    return pd.Series(values, index=index, name="calendar_days")


#: The day bases a measure can follow.
DAY_BASES = ("working", "calendar")

#: Which days each flow measure follows: ``"working"`` (elective, booked activity and
#: what arrives on working days: referrals, visits, decisions, elective operations,
#: purchases, plans) or ``"calendar"`` (acute and emergency activity and occupied beds,
#: which run every day). Queues (stocks) are counted at the end of a period and have
#: no day basis. The one registry: forecasts, plans and capacity read it here.
MEASURE_DAY_BASIS = types.MappingProxyType({
    "referrals_in": "working",
    "referrals_forwarded": "working",
    "removals_new_visit_other": "working",
    "new_visits": "working",
    "return_visits": "working",
    "emergency_visits": "calendar",
    "treatment_decisions": "working",
    "removals_treatment_other": "working",
    "operations_elective": "working",
    "operations_acute": "calendar",
    "bed_days": "calendar",
    "purchased_new_visits": "working",
    "purchased_operations": "working",
    "planned_new_visits": "working",
    "planned_operations": "working",
    "no_shows": "working",
    "available_slots": "working",
})

#: Measures that follow the working days (:data:`MEASURE_DAY_BASIS`).
WORKING_DAY_MEASURES = frozenset(m for m, b in MEASURE_DAY_BASIS.items() if b == "working")
#: Measures that follow the calendar days (:data:`MEASURE_DAY_BASIS`).
CALENDAR_DAY_MEASURES = frozenset(m for m, b in MEASURE_DAY_BASIS.items() if b == "calendar")


def day_basis(measure: str, *, default: str = "working") -> str:
    """The days a measure follows: ``"working"`` or ``"calendar"`` (:data:`MEASURE_DAY_BASIS`).

    Parameters
    ----------
    measure : str
        A measure name (``"new_visits"``, ``"emergency_visits"``).
    default : {"working", "calendar"}, optional
        The basis of a measure the registry does not list (default working days).

    Returns
    -------
    str

    Raises
    ------
    ValueError
        If ``default`` is no day basis.

    Examples
    --------
    >>> day_basis("operations_elective"), day_basis("operations_acute"), day_basis("my_measure")
    ('working', 'calendar', 'working')
    """
    if default not in DAY_BASES:
        raise ValueError(f"default must be one of {DAY_BASES}, got {default!r}")
    return MEASURE_DAY_BASIS.get(measure, default)


def period_days(periods, basis: str = "working", *, country=DEFAULT_COUNTRY, subdivision=None) -> pd.Series:
    """Days per period on a day basis: :func:`working_days` or :func:`calendar_days`.

    Parameters
    ----------
    periods : PeriodIndex, Series or list of Period
        Periods of one frequency (``W-SUN`` or ``M``). [period]
    basis : {"working", "calendar"}, optional
        Which days to count (default working days).
    country, subdivision : str, optional
        The region's calendar (see :func:`check_region`); only working days use it.

    Returns
    -------
    pandas.Series
        Index = the given periods, values = days, int64. [days]

    Raises
    ------
    ValueError
        For an unknown basis, country or subdivision.

    Examples
    --------
    >>> june = pd.period_range("2024-06", periods=1, freq="M")
    >>> period_days(june).item(), period_days(june, "calendar").item()
    (18, 30)
    """
    if basis == "calendar":
        return calendar_days(periods)
    if basis == "working":
        return working_days(periods, country=country, subdivision=subdivision)
    raise ValueError(f"basis must be one of {DAY_BASES}, got {basis!r}")


def measure_days(periods, measure: str, *, country=DEFAULT_COUNTRY, subdivision=None) -> pd.Series:
    """Days per period that a measure's volume follows (:func:`day_basis`).

    Parameters
    ----------
    periods : PeriodIndex, Series or list of Period
        Periods of one frequency (``W-SUN`` or ``M``). [period]
    measure : str
        Measure name; one the registry does not list counts working days.
    country, subdivision : str, optional
        The region's calendar (see :func:`check_region`).

    Returns
    -------
    pandas.Series
        Index = the given periods, values = days, int64. [days]

    Examples
    --------
    Christmas week 2024-W52 in Sweden: two working days for elective operations, seven
    days for acute ones:

    >>> w52 = [period_from_iso(2024, 52)]
    >>> measure_days(w52, "operations_elective").item(), measure_days(w52, "operations_acute").item()
    (2, 7)
    """
    return period_days(periods, day_basis(measure), country=country, subdivision=subdivision)


# ----------------------------------------------------------------------------- seasons
#: The holiday seasons' keys; their names are the translation catalogue's ``season.<key>``.
_SEASON_KEYS = ("sports_holiday", "easter", "midsummer", "summer", "christmas")


def __getattr__(name: str):
    """``SEASON_NAMES``: the names of the holiday seasons, by key and report language
    (``{"easter": {"sv": "påsk", "en": "Easter"}, ...}``, read-only): the translation catalogue's
    ``season.<key>`` (:mod:`kps_analysis.report.labels`), read when first asked for (the report
    package reads this module)."""
    if name == "SEASON_NAMES":
        from .report.labels import TEXTS

        globals()[name] = names = types.MappingProxyType({k: dict(TEXTS[f"season.{k}"]) for k in _SEASON_KEYS})
        return names
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# Typical summer holiday weeks [ISO weeks] where the country's (or subdivision's)
# holidays are the summer's main dip: Sweden's industrial holiday and school summer
# (early July to mid August), England's and Wales's school summer holidays (late July
# to the first days of September), Scotland's (early July to mid August), Northern
# Ireland's (July and August); Norway's and Denmark's common holiday (fellesferie,
# industriferie) and school summer (early July to mid August), Finland's July. Approximate:
# a region sets its own in ``summer``.
_SUMMER_WEEKS = {("SE", None): (27, 32), ("GB", None): (30, 35), ("GB", "ENG"): (30, 35),
                 ("GB", "WLS"): (30, 35), ("GB", "SCT"): (27, 32), ("GB", "NIR"): (27, 35),
                 ("NO", None): (27, 32), ("DK", None): (27, 32), ("FI", None): (27, 31)}
# Sweden's sports holiday (sportlov) is one week in ISO weeks 7-10, by county.
_SPORTS_HOLIDAY_WEEKS = {"SE": (7, 10)}


def default_summer_weeks(country=DEFAULT_COUNTRY, subdivision=None):
    """The usual summer holiday weeks of a region, or None where none is on record.

    Parameters
    ----------
    country, subdivision : str, optional
        The region (see :func:`check_region`).

    Returns
    -------
    (int, int) or None
        First and last ISO week, inclusive: Sweden 27-32, England and Wales 30-35,
        Scotland 27-32, Northern Ireland 27-35, Norway and Denmark 27-32, Finland 27-31.
        [ISO week]

    Examples
    --------
    >>> default_summer_weeks(), default_summer_weeks("GB", "ENG"), default_summer_weeks("DE")
    ((27, 32), (30, 35), None)
    """
    code, subdiv = check_region(country, subdivision)
    return _SUMMER_WEEKS.get((code, subdiv), _SUMMER_WEEKS.get((code, None)))


def _summer(code, subdiv, summer):
    if summer is None:
        return default_summer_weeks(code, subdiv)
    try:
        first, last = ((int(summer["first_week"]), int(summer["last_week"])) if isinstance(summer, Mapping)
                       else (int(summer[0]), int(summer[1])))
    except (KeyError, IndexError, TypeError, ValueError):
        raise ValueError(f"summer must be (first_week, last_week) or a mapping with those keys, "
                         f"got {summer!r}") from None
    if not 1 <= first <= last <= 53:
        raise ValueError(f"summer must be (first_week, last_week) with 1 <= first <= last <= 53, got {summer!r}")
    return first, last


def _language_key(language) -> str:
    lang = str(language or "sv").split("_")[0].lower()
    if lang not in ("sv", "en"):
        raise ValueError(f"language must be 'sv' or 'en', got {language!r}")
    return lang


def _iso_span(year: int, first: int, last: int) -> tuple:
    n = int(weeks_in_year(year))
    first, last = min(first, n), min(last, n)
    return (period_from_iso(year, first).start_time.normalize(),
            period_from_iso(year, last).end_time.normalize())


def seasons(years, *, country=DEFAULT_COUNTRY, subdivision=None, language="sv", summer=None) -> pd.DataFrame:
    """The named holiday seasons of the years in a region's calendar.

    Each season is a span of days in which elective production dips:

    * ``sports_holiday`` (Sweden only): ISO weeks 7-10, the county's sportlov week
      falls in them;
    * ``easter``: Good Friday to Easter Monday (Easter Sunday from
      :func:`easter_sunday`), where the region has a holiday in those days;
    * ``midsummer`` (where the region has holidays between 19 and 26 June, as Sweden
      and Finland): from the first to the last of them;
    * ``summer``: the ISO weeks ``summer`` (default :func:`default_summer_weeks`;
      no summer season for a region without one on record and none given);
    * ``christmas``: 24 December to the last holiday on 1-6 January of the next year
      (Trettondedag jul in Sweden, 1 January in England, 2 January in Scotland),
      where 25 December is a holiday.

    Parameters
    ----------
    years : int or array-like of int
        Calendar years (the ISO year for the week spans). [year]
    country, subdivision : str, optional
        The region (see :func:`check_region`); default Sweden.
    language : {"sv", "en"}, optional
        Language of the names (:data:`SEASON_NAMES`).
    summer : (int, int) or mapping, optional
        First and last ISO week of the summer (the parameters' ``summer``). [ISO week]

    Returns
    -------
    pandas.DataFrame
        ``year``, ``season`` (key), ``name``, ``start``, ``end`` (datetime64[ns], first
        and last day, inclusive), sorted by start.

    Raises
    ------
    ValueError
        For an unknown region, language or a summer outside weeks 1-53.

    Examples
    --------
    >>> s = seasons(2024)
    >>> s["name"].tolist()
    ['sportlov', 'påsk', 'midsommar', 'sommar', 'jul']
    >>> s.loc[s["season"] == "easter", ["start", "end"]].iloc[0].dt.strftime("%d %b").tolist()
    ['29 Mar', '01 Apr']
    >>> seasons(2024, country="GB", subdivision="ENG", language="en")["name"].tolist()
    ['Easter', 'summer', 'Christmas']
    """
    code, subdiv = check_region(country, subdivision)
    from .report.labels import label  # the translation catalogue (the report package reads this module)

    lang = _language_key(language)
    summer_weeks = _summer(code, subdiv, summer)
    years_arr = np.unique(_as_years(years))
    rows = []
    if years_arr.size:
        span = [int(y) for y in range(int(years_arr.min()), int(years_arr.max()) + 2)]
        public, de_facto = _region_holidays(code, subdiv, span, None)
        off = {*public, *de_facto}
        for year in (int(y) for y in years_arr):
            if code in _SPORTS_HOLIDAY_WEEKS:
                rows.append((year, "sports_holiday", *_iso_span(year, *_SPORTS_HOLIDAY_WEEKS[code])))
            sunday = _easter(year)
            easter_days = [sunday + _dt.timedelta(days=k) for k in (-3, -2, 1)]
            if any(d in off for d in easter_days):
                rows.append((year, "easter", pd.Timestamp(sunday - _dt.timedelta(days=2)),
                             pd.Timestamp(sunday + _dt.timedelta(days=1))))
            june = sorted(d for d in off if d.year == year and d.month == 6 and 19 <= d.day <= 26)
            if june:
                rows.append((year, "midsummer", pd.Timestamp(june[0]), pd.Timestamp(june[-1])))
            if summer_weeks is not None:
                rows.append((year, "summer", *_iso_span(year, *summer_weeks)))
            if _dt.date(year, 12, 25) in off:
                january = [d for d in off if d.year == year + 1 and d.month == 1 and d.day <= 6]
                end = max(january) if january else _dt.date(year + 1, 1, 1)
                rows.append((year, "christmas", pd.Timestamp(year, 12, 24), pd.Timestamp(end)))
    frame = pd.DataFrame(rows, columns=["year", "season", "start", "end"])
    frame["year"] = frame["year"].astype(np.int64)
    frame["start"] = pd.to_datetime(frame["start"]).astype("datetime64[ns]")
    frame["end"] = pd.to_datetime(frame["end"]).astype("datetime64[ns]")
    frame.insert(2, "name", pd.Series([label(f"season.{k}", lang) for k in frame["season"]], dtype=object))
    return frame.sort_values(["start", "season"], kind="stable").reset_index(drop=True)


def season_names(*, country=DEFAULT_COUNTRY, subdivision=None, language="sv", summer=None) -> list:
    """The names of a region's holiday seasons, in the order of the year.

    Parameters
    ----------
    country, subdivision : str, optional
        The region (see :func:`check_region`).
    language : {"sv", "en"}, optional
        Language of the names.
    summer : (int, int) or mapping, optional
        The summer weeks, as :func:`seasons`. [ISO week]

    Returns
    -------
    list of str

    Examples
    --------
    >>> season_names()
    ['sportlov', 'påsk', 'midsommar', 'sommar', 'jul']
    >>> season_names(country="GB", subdivision="SCT", language="en")
    ['Easter', 'summer', 'Christmas']
    """
    return list(dict.fromkeys(seasons(2025, country=country, subdivision=subdivision, language=language,
                                      summer=summer)["name"]))


def season_phrase(*, country=DEFAULT_COUNTRY, subdivision=None, language="sv", summer=None) -> str:
    """The season names as a phrase for report text: ``"sportlov, påsk, midsommar, sommar och jul"``.

    Parameters
    ----------
    country, subdivision : str, optional
        The region (see :func:`check_region`).
    language : {"sv", "en"}, optional
        Language of the names and of the conjunction (och / and).
    summer : (int, int) or mapping, optional
        The summer weeks, as :func:`seasons`. [ISO week]

    Returns
    -------
    str
        Empty for a region without named seasons.

    Examples
    --------
    >>> season_phrase(country="GB", subdivision="ENG", language="en")
    'Easter, summer and Christmas'
    """
    from .report.labels import label  # the translation catalogue (here: the report package reads the calendar)

    names = season_names(country=country, subdivision=subdivision, language=language, summer=summer)
    if len(names) <= 1:
        return "".join(names)
    word = label("list.and", _language_key(language))
    return ", ".join(names[:-1]) + word + names[-1]


def season_of(periods, *, country=DEFAULT_COUNTRY, subdivision=None, summer=None) -> pd.Series:
    """The holiday season each period overlaps (its key), or ``""`` for none.

    A period that overlaps two seasons (a month with Easter and Midsummer cannot, a
    December with Christmas can only overlap one) gets the one that starts first.

    Parameters
    ----------
    periods : PeriodIndex, Series or list of Period
        Periods of one frequency (``W-SUN`` or ``M``). [period]
    country, subdivision : str, optional
        The region (see :func:`check_region`).
    summer : (int, int) or mapping, optional
        The summer weeks, as :func:`seasons`. [ISO week]

    Returns
    -------
    pandas.Series
        Index = the given periods, values = season keys of :data:`SEASON_NAMES` or
        ``""``, name ``"season"``.

    Examples
    --------
    >>> season_of(period_from_iso([2024] * 4, [9, 13, 20, 28])).tolist()
    ['sports_holiday', 'easter', '', 'summer']
    >>> season_of(period_from_iso([2024] * 2, [9, 28]), country="GB", subdivision="ENG").tolist()
    ['', '']
    """
    index = _as_period_index(periods)
    out = np.full(len(index), "", dtype=object)
    valid = ~np.asarray(index.isna())
    if valid.any():
        starts = index[valid].start_time.normalize().to_numpy()
        ends = index[valid].end_time.normalize().to_numpy()
        years = np.arange(int(pd.Timestamp(starts.min()).year) - 1, int(pd.Timestamp(ends.max()).year) + 1)
        table = seasons(years, country=country, subdivision=subdivision, summer=summer, language="en")
        got = np.full(valid.sum(), "", dtype=object)
        for s_start, s_end, key in zip(table["start"].to_numpy()[::-1], table["end"].to_numpy()[::-1],
                                       table["season"].to_numpy()[::-1]):
            got[(starts <= s_end) & (ends >= s_start)] = key  # reverse order: the earliest wins
        out[valid] = got
    return pd.Series(out, index=index, name="season", dtype=object)


# ----------------------------------------------------------------------------- freshness
def period_end(periods) -> pd.DatetimeIndex:
    """The last day of each period (a Sunday for an ISO week, the month's last day).

    Parameters
    ----------
    periods : PeriodIndex, Series or list of Period
        Periods (``W-SUN`` or ``M``). [period]

    Returns
    -------
    pandas.DatetimeIndex
        Midnight of the last day, datetime64[ns]. [date]

    Examples
    --------
    >>> [str(d.date()) for d in period_end(pd.period_range("2024-02", periods=1, freq="M"))]
    ['2024-02-29']
    """
    index = _as_period_index(periods)
    return pd.DatetimeIndex(index.end_time.normalize()).astype("datetime64[ns]")


def data_age_days(last_period, as_of) -> int:
    """Days from the end of the last period of data to a date (the run date).

    ``age = as_of − last day of last_period`` [days]; 0 or less while the period is not
    over.  Data are stale when the age exceeds the parameters' ``stale_after_days``
    (weekly) or ``stale_after_days_monthly`` (monthly).

    Parameters
    ----------
    last_period : pandas.Period
        The latest period with data (``W-SUN`` or ``M``). [period]
    as_of : date-like
        The date to measure to, usually the run date. [date]

    Returns
    -------
    int
        [days]

    Raises
    ------
    ValueError
        If ``last_period`` is no Period or ``as_of`` no date.

    Examples
    --------
    Data to ISO week 2022-W50 (ends Sunday 18 December 2022) run on 1 March 2026, and
    monthly data to January 2026 run on 17 March 2026:

    >>> data_age_days(period_from_iso(2022, 50), "2026-03-01")
    1169
    >>> data_age_days(pd.Period("2026-01", "M"), "2026-03-17")
    45
    """
    if not isinstance(last_period, pd.Period):
        raise ValueError(f"last_period must be a pandas Period (W-SUN or M), got {type(last_period).__name__}")
    try:
        day = pd.Timestamp(as_of).normalize()
    except (TypeError, ValueError) as exc:
        raise ValueError(f"as_of must be a date, got {as_of!r}: {exc}") from None
    return int((day - last_period.end_time.normalize()).days)
