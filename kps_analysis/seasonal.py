"""Seasonal views of weekly series, seasonal profiles and periodisation of annual volumes.

* :func:`year_over_year`: the same weeks of previous years side by side.
* :func:`seasonal_profile`: each clinic's weekly (ISO week 1-53) or monthly (1-12)
  profile, estimated from history: production dips in February, around Easter, over the
  summer and at Christmas.
* :func:`periodise`: break an annual volume (the care agreement, *vårdöverenskommelse*,
  or *prestationsbudget*) down to the ISO weeks or months of a year, in whole numbers
  that add up exactly to the annual volume (*periodisering*).

How the profile is estimated (all steps vectorised over clinics with ``groupby``):

1. Working days (default): each period's value is divided by its working days
   (:func:`kps_analysis.calendar.working_days`: Monday-Friday that are neither public
   holidays nor Midsummer/Christmas/New Year's Eve), giving a rate per working day.
   This is how the profile copes with Easter moving between weeks 12 and 17 (and with
   Ascension Day, the National Day, Christmas falling on different weekdays): a week
   that lost Good Friday is not mistaken for a seasonally low week, and when the
   profile is applied (:func:`periodise`) each week of the target year is multiplied
   back by *its own* working days. The factors are therefore "relative production per
   working day". What working days cannot capture is reduced staffing around a holiday
   on the remaining days (e.g. the Easter school break); that part of the Easter effect
   is averaged over the weeks Easter has fallen in.
2. Each year's level is the mean rate over its periods; a year enters only when it
   covers at least ``min_coverage`` of its periods, has a positive level and is not in
   ``exclude_years`` (e.g. 2020).
3. Each period's relative value (rate / year level) is combined across years with the
   median (default; robust to a single odd year once there are three or more years) or
   the mean.
4. The factors are normalised to mean 1 over ISO weeks 1-52 (or months 1-12). With
   fewer than ``min_years`` usable years the profile is shrunk towards 1 (flat) in
   proportion, ``factor = 1 + (n_years / min_years) * (raw - 1)``, with a warning.
5. Week 53 is not estimated from data (few years have it, and it is always the week
   around New Year): its factor is the mean of the factors of weeks 52 and 1. Week-53
   values in the history still count towards their year's level.

A week never observed in a usable year gets its factor by linear interpolation between
its neighbours (cyclically, week 52 being next to week 1).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from kps_analysis import calendar as _cal
from kps_analysis.periods import unit_of

__all__ = ["year_over_year", "seasonal_profile", "periodise", "PERIODS_PER_YEAR", "DAYS_PER_MONTH",
           "period_kind", "period_length_days", "periods_for_days", "periods_for_weeks", "summer_months"]

#: Periods in a year: 52 ISO weeks (53 in some years), 12 months [periods/year].
PERIODS_PER_YEAR = {"W": 52, "M": 12}
_FREQS = PERIODS_PER_YEAR

#: The mean calendar month [days]: 365.25 / 12.
DAYS_PER_MONTH = 365.25 / 12


def period_kind(periods, name: str = "period") -> str:
    """``"W"`` (ISO weeks) or ``"M"`` (months): the kind of period of a frame's ``period`` column.

    The one-letter code of :func:`kps_analysis.periods.unit_of` (``"week"``/``"month"``),
    as ``freq`` of :func:`seasonal_profile` and :func:`periodise` takes it.

    Parameters
    ----------
    periods : Series, PeriodIndex or PeriodDtype
        Periods of one frequency (W-SUN or M).
    name : str
        What to call them in an error message.

    Raises
    ------
    ValueError
        If they are not pandas Periods of W-SUN or M.

    Examples
    --------
    >>> period_kind(pd.period_range("2024-01", periods=2, freq="M"))
    'M'
    """
    dtype = periods if isinstance(periods, pd.PeriodDtype) else getattr(periods, "dtype", None)
    if not isinstance(dtype, pd.PeriodDtype):
        raise ValueError(f"{name}: must hold pandas Periods (W-SUN or M), got {dtype}")
    try:
        return "W" if unit_of(pd.PeriodIndex([], freq=dtype.freq)) == "week" else "M"
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None


def period_length_days(kind: str) -> float:
    """Length of a period of kind ``"W"`` or ``"M"``: 7, or the mean month, 365.25 / 12 [days].

    >>> period_length_days("W"), round(period_length_days("M"), 4)
    (7.0, 30.4375)
    """
    return 7.0 if _check_freq(kind) == "W" else DAYS_PER_MONTH


def periods_for_days(days: float, kind: str, *, minimum: int = 1) -> int:
    """A span given in days as a whole number of periods, by days: ``round(days / period length)``.

    Windows and horizons are given in days or weeks; on monthly data they become months
    by their length in days, never one month per week (4 weeks = 28 days = 1 month,
    13 weeks = 91 days = 3 months, 52 weeks = 364 days = 12 months). At least ``minimum``.

    Parameters
    ----------
    days : float
        The span [days].
    kind : {"W", "M"}
        Kind of period.
    minimum : int
        Least number of periods returned [periods].

    Returns
    -------
    int
        [periods]

    Examples
    --------
    >>> periods_for_days(91, "W"), periods_for_days(91, "M"), periods_for_days(28, "M")
    (13, 3, 1)
    """
    if not np.isfinite(days) or days < 0:
        raise ValueError(f"days must be a number >= 0, got {days!r}")
    return max(int(minimum), int(np.floor(days / period_length_days(kind) + 0.5)))


def periods_for_weeks(weeks: float, kind: str, *, minimum: int = 1) -> int:
    """A span given in weeks as a whole number of periods, by days (see :func:`periods_for_days`).

    Weekly data: the weeks themselves. Monthly data: ``round(7 · weeks / 30.44)`` months.

    >>> periods_for_weeks(12, "W"), periods_for_weeks(12, "M"), periods_for_weeks(52, "M")
    (12, 3, 12)
    """
    return periods_for_days(7.0 * weeks, kind, minimum=minimum)


def summer_months(first_week: int = 27, last_week: int = 32, *, year: int = 2025) -> tuple[int, ...]:
    """The months that the summer weeks cover by most of their days, as month numbers.

    A month counts as a summer month when at least half of its days fall in the ISO
    weeks ``first_week``..``last_week`` of ``year`` (weeks 27-32 are 30 June - 10 August
    in 2025: July; the default weeks never hold half of June or August).

    Examples
    --------
    >>> summer_months(), summer_months(23, 35)
    ((7,), (6, 7, 8))
    """
    start = pd.Timestamp.fromisocalendar(int(year), int(first_week), 1)
    end = pd.Timestamp.fromisocalendar(int(year), int(last_week), 7)
    days = pd.date_range(start, end, freq="D")
    counts = pd.Series(1, index=days.month).groupby(level=0).sum()
    return tuple(int(m) for m, n in counts.items()
                 if n >= pd.Period(year=year, month=int(m), freq="M").days_in_month / 2)
_ESTIMATORS = ("median", "mean")


def year_over_year(frame: pd.DataFrame, measure: str, *, years: int = 3) -> pd.DataFrame:
    """Arrange a measure by year and week (or month), for the latest ``years`` years.

    A controller compares this year's week 12 with week 12 of the two previous years;
    this gives one row per clinic, ISO year and ISO week (1-53) so the years can be
    drawn on one week axis. Monthly data give one row per calendar year and month
    (1-12) instead. The latest year is the year of each clinic's last period, which
    may be incomplete.

    Parameters
    ----------
    frame : DataFrame
        Canonical long frame with ``clinic``, ``period`` (W-SUN or M) and ``measure``.
    measure : str
        Column to arrange [count per period].
    years : int
        How many years, the latest included [years].

    Returns
    -------
    DataFrame
        Columns ``clinic``, ``year``, ``week`` (ISO week; ``month`` for monthly data),
        ``value`` [count per week or month]; when the frame has a ``group`` column the
        values are summed over groups.

    Raises
    ------
    ValueError
        If ``measure`` is not a column or ``years`` < 1.

    Examples
    --------
    >>> periods = pd.period_range("2023-01-02", "2024-01-14", freq="W-SUN")
    >>> f = pd.DataFrame({"clinic": "a", "period": periods, "new_visits": range(len(periods))})
    >>> yoy = year_over_year(f, "new_visits", years=2)
    >>> yoy[yoy.week == 1][["year", "value"]].to_dict("list")
    {'year': [2023, 2024], 'value': [0.0, 52.0]}
    """
    if measure not in frame.columns:
        raise ValueError(f"measure {measure!r} is not a column of the frame")
    if years < 1:
        raise ValueError(f"years must be at least 1, got {years}")
    kind = period_kind(frame["period"], "frame")
    sums = frame.groupby(["clinic", "period"], as_index=False, observed=True)[measure].sum(min_count=1)
    index = pd.PeriodIndex(sums["period"].array)
    year, season = _season_of(index, kind)
    column = "week" if kind == "W" else "month"
    out = pd.DataFrame({
        "clinic": sums["clinic"].to_numpy(),
        "year": year.astype(int),
        column: season.astype(int),
        "value": sums[measure].astype(float).to_numpy(),
    })
    last_year = out.groupby("clinic")["year"].transform("max")
    out = out[out["year"] > last_year - years]
    return out.sort_values(["clinic", "year", column]).reset_index(drop=True)


# ----------------------------------------------------------------------------- helpers
def _keys(frame: pd.DataFrame) -> list[str]:
    return ["clinic", "group"] if "group" in frame.columns else ["clinic"]


def _check_freq(freq) -> str:
    if freq not in _FREQS:
        raise ValueError(f"freq must be 'W' (ISO weeks) or 'M' (months), got {freq!r}")
    return freq


def _period_freq(periods: pd.Series, name: str) -> str:
    """'W' or 'M' from a Series of pandas Periods; ValueError otherwise."""
    if not isinstance(periods.dtype, pd.PeriodDtype):
        raise ValueError(f"{name}: column 'period' must hold pandas Periods (W-SUN or M), got {periods.dtype}")
    freqstr = pd.PeriodIndex(periods.array).freqstr
    if freqstr == _cal.WEEK_FREQ:
        return "W"
    if freqstr in ("M", "ME"):
        return "M"
    raise ValueError(f"{name}: periods must be weekly ({_cal.WEEK_FREQ}) or monthly (M), got {freqstr!r}")


def _per_key_and_period(history: pd.DataFrame, keys: list[str], measure: str) -> pd.DataFrame:
    """``measure`` summed per key and period (groups summed; NaN when nothing is reported), in
    order of first appearance; a frame that already has one row per clinic and period is
    only copied (factorized codes find that out without grouping on the clinic names)."""
    data = history[keys + ["period", measure]].astype({measure: "float64"})
    if keys == ["clinic"] and len(data) and not data["clinic"].isna().any():
        codes = pd.factorize(data["clinic"])[0].astype(np.int64)
        ordinal = pd.PeriodIndex(data["period"].array).asi8
        order = np.lexsort((ordinal, codes))
        c, o = codes[order], ordinal[order]
        if not np.any((c[1:] == c[:-1]) & (o[1:] == o[:-1])):
            return data.reset_index(drop=True)
    return (data.groupby(keys + ["period"], dropna=False, sort=False, observed=True)[measure]
            .sum(min_count=1).reset_index())


def _key_ids(frame: pd.DataFrame, keys: list[str]) -> tuple[np.ndarray, pd.DataFrame]:
    """Integer id per row for the key combination, and the key table (row i = id i)."""
    if keys == ["clinic"] and not frame["clinic"].isna().any():  # sorted codes, as ngroup(sort=True)
        codes, uniques = pd.factorize(frame["clinic"], sort=True)
        return codes.astype(np.int64), pd.DataFrame({"clinic": np.asarray(uniques, dtype=object)})
    ids = frame.groupby(keys, dropna=False, sort=True).ngroup().to_numpy()
    table = frame[keys].assign(_kid=ids).drop_duplicates("_kid").sort_values("_kid")
    return ids, table[keys].reset_index(drop=True)


def _season_of(periods: pd.PeriodIndex, freq: str) -> tuple[np.ndarray, np.ndarray]:
    """(year, season) of each period: ISO year and ISO week, or calendar year and month."""
    if freq == "W":
        iso = periods.start_time.isocalendar()
        return iso["year"].to_numpy(dtype=np.int64), iso["week"].to_numpy(dtype=np.int64)
    return np.asarray(periods.year, dtype=np.int64), np.asarray(periods.month, dtype=np.int64)


def _circular_fill(matrix: np.ndarray) -> np.ndarray:
    """Fill NaN by linear interpolation along each row, treating the row as a cycle.

    Rows that are entirely NaN are left NaN.
    """
    if not np.isnan(matrix).any():
        return matrix
    n = matrix.shape[1]
    tripled = pd.DataFrame(np.hstack([matrix, matrix, matrix]))
    filled = tripled.interpolate(axis=1, limit_area="inside").to_numpy()
    return filled[:, n:2 * n]


def _weekly_to_monthly(data: pd.DataFrame, keys: list[str], measure: str) -> pd.DataFrame:
    """Weekly counts to calendar months, splitting each week by its working days.

    A week's value is spread over its working days (over its 7 days when it has none);
    a month is reported only when every ISO week overlapping it is reported.
    """
    weeks = pd.PeriodIndex(data["period"].unique())
    starts = np.asarray(weeks.start_time.normalize(), dtype="datetime64[D]")
    days = (starts[:, None] + np.arange(7)).ravel()
    day_periods = pd.PeriodIndex(pd.DatetimeIndex(days.astype("datetime64[ns]")), freq="D")
    flags = _cal.working_days(day_periods).to_numpy(dtype=float).reshape(len(weeks), 7)
    per_week = flags.sum(axis=1, keepdims=True)
    weight = np.where(per_week > 0, flags / np.where(per_week > 0, per_week, 1), 1 / 7)
    months = pd.PeriodIndex(pd.DatetimeIndex(days.astype("datetime64[ns]")), freq="M")
    shares = (pd.DataFrame({"period": weeks.repeat(7), "month": months, "share": weight.ravel()})
              .groupby(["period", "month"], as_index=False, sort=False)["share"].sum())
    # number of ISO weeks that overlap each month
    month_index = pd.PeriodIndex(shares["month"].unique())
    first_week = pd.PeriodIndex(month_index.start_time, freq=_cal.WEEK_FREQ).asi8
    last_week = pd.PeriodIndex(month_index.end_time.normalize(), freq=_cal.WEEK_FREQ).asi8
    expected = pd.Series(last_week - first_week + 1, index=month_index, name="expected")

    merged = data.merge(shares, on="period", how="inner")
    merged["part"] = merged[measure] * merged["share"]
    monthly = merged.groupby(keys + ["month"], dropna=False, sort=False).agg(
        value=("part", "sum"), reported=(measure, "count")).reset_index()
    complete = monthly["reported"].to_numpy() == expected.reindex(pd.PeriodIndex(monthly["month"])).to_numpy()
    out = monthly[keys].copy()
    out["period"] = monthly["month"].to_numpy()
    out[measure] = np.where(complete, monthly["value"].to_numpy(dtype=float), np.nan)
    return out


def _as_year(year) -> int:
    if isinstance(year, (bool, np.bool_)) or np.ndim(year) != 0:
        raise ValueError(f"year must be one whole year, got {year!r}")
    try:
        as_float = float(year)
    except (TypeError, ValueError):
        raise ValueError(f"year must be one whole year, got {year!r}") from None
    if not np.isfinite(as_float) or as_float != int(as_float) or not 1678 < as_float < 2261:
        raise ValueError(f"year must be a whole year in 1679..2260, got {year!r}")
    return int(as_float)


def _year_periods(year: int, freq: str) -> tuple[pd.PeriodIndex, np.ndarray]:
    """All ISO weeks (52 or 53) or the 12 months of ``year``, with their season numbers."""
    if freq == "W":
        n = int(_cal.weeks_in_year(year))
        seasons = np.arange(1, n + 1)
        return pd.PeriodIndex(_cal.period_from_iso(np.full(n, year), seasons)), seasons
    return pd.period_range(f"{year}-01", periods=12, freq="M"), np.arange(1, 13)


def _largest_remainder(totals: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Whole numbers proportional to ``weights`` (rows) that add up to ``totals`` exactly.

    Each row gets the floor of its exact share; the units left over go, one each, to the
    periods with the largest fractional parts (ties: the earlier period first).
    """
    row_sum = weights.sum(axis=1, keepdims=True)
    safe = np.where(row_sum > 0, row_sum, 1.0)
    exact = totals[:, None] * weights / safe
    base = np.floor(exact)
    fraction = exact - base
    left = np.clip(totals - base.sum(axis=1), 0, weights.shape[1]).astype(np.int64)
    order = np.argsort(-fraction, axis=1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.broadcast_to(np.arange(weights.shape[1]), order.shape).copy(), axis=1)
    return (base + (rank < left[:, None])).astype(np.int64)


# ----------------------------------------------------------------------------- profile
def seasonal_profile(history: pd.DataFrame, *, measure: str, freq: str | None = None, exclude_years=(),
                     min_years: int = 2, working_days: bool = True, estimator: str = "median",
                     min_coverage: float = 0.9) -> pd.DataFrame:
    """Seasonal profile per clinic (and group): one factor per ISO week or month, mean 1.

    For each clinic, year *y* and period *p* (ISO week or month)::

        rate[y, p]     = value[y, p] / working_days[p]          [count/working day]
        level[y]       = mean over p of rate[y, p]              [count/working day]
        relative[y, p] = rate[y, p] / level[y]                  [-]
        raw[s]         = median (or mean) over usable years of relative[y, s]
        factor[s]      = raw[s] / mean(raw[1..52])              [-]

    so that the factors of weeks 1-52 (months 1-12) average exactly 1. With
    ``working_days=False`` the rate is the value itself and the factor is a relative
    weekly (monthly) volume. Week 53 gets ``(factor[52] + factor[1]) / 2``. To spread a
    volume over a year, weight each period by ``factor[s] * working_days[p]`` and
    normalise over the year (:func:`periodise` does this).

    Parameters
    ----------
    history : DataFrame
        Canonical long frame: ``clinic``, optional ``group``, ``period`` (W-SUN or M)
        and the ``measure`` column; several rows for the same clinic, group and period
        are summed. NaN = not reported.
    measure : str
        Column to profile, e.g. ``"new_visits"`` or ``"referrals_in"`` [count/period].
    freq : {"W", "M"}, optional
        ``"W"``: ISO weeks 1-53 (needs weekly history); ``"M"``: months 1-12 (monthly
        history, or weekly history split into months by working days). Default: the
        history's own kind of period (weeks for weekly, months for monthly history).
    exclude_years : iterable of int, optional
        Years left out of the estimate, e.g. ``(2020,)`` [ISO year for "W", calendar
        year for "M"].
    min_years : int, optional
        Usable years needed for a full-strength profile; with fewer the profile is
        shrunk towards flat and a warning is given. Default 2 [years].
    working_days : bool, optional
        Divide by working days before averaging (default True; use the same setting in
        :func:`periodise`).
    estimator : {"median", "mean"}, optional
        How the years are combined for each period; default ``"median"``.
    min_coverage : float, optional
        Share of a year's periods that must be reported for the year to be usable,
        0 < min_coverage <= 1; default 0.9 (47 of 52 weeks, 11 of 12 months) [-].

    Returns
    -------
    DataFrame
        Columns ``clinic``, [``group``], ``measure`` (str), ``season`` (int: ISO week
        1-53 or month 1-12) and ``factor`` (float) [-], one row per clinic (group) and
        season. ``frame.attrs`` records ``freq`` and ``working_days``.

    Raises
    ------
    ValueError
        If a column is missing, the measure is not numeric or negative, ``freq`` or
        ``estimator`` is unknown, weekly profiles are asked of monthly history, or
        ``min_years`` / ``min_coverage`` are out of range.

    Warns
    -----
    UserWarning
        When a clinic has fewer than ``min_years`` usable years (its profile is flatter).

    See Also
    --------
    periodise : spread an annual volume by the profile.

    Examples
    --------
    Two years where the summer weeks 27-32 run at twice the rate of the other weeks
    (ignoring holidays, ``working_days=False``): the year level is
    (46·10 + 6·20)/52 = 580/52, so an ordinary week gets 10·52/580 = 0.897 and a
    summer week 20·52/580 = 1.793:

    >>> weeks = pd.period_range("2022-01-03", "2023-12-31", freq="W-SUN")
    >>> summer = _cal.is_summer_week(weeks)
    >>> h = pd.DataFrame({"clinic": "a", "period": weeks, "new_visits": np.where(summer, 20.0, 10.0)})
    >>> p = seasonal_profile(h, measure="new_visits", working_days=False)
    >>> d = p[p.season.isin([1, 30, 53])].round(3).to_dict("list")
    >>> d["season"], d["factor"]
    ([1, 30, 53], [0.897, 1.793, 0.897])
    >>> d["clinic"], d["measure"]
    (['a', 'a', 'a'], ['new_visits', 'new_visits', 'new_visits'])
    >>> round(float(p[p.season <= 52].factor.mean()), 12)
    1.0

    References
    ----------
    .. [1] SKR / Nationellt kunskapsstöd, Kapacitets- och produktionsstyrning (KPS):
       periodisering av produktionsbudget per vecka.
    """
    freq, exclude = _check_profile_args(history, measure, freq, estimator, min_years, min_coverage, exclude_years)
    keys = _keys(history)
    history_freq = _period_freq(history["period"], "history")
    if history_freq == "M" and freq == "W":
        raise ValueError("history is monthly: a weekly profile (freq='W') needs weekly history")
    data = _per_key_and_period(history, keys, measure)
    if history_freq == "W" and freq == "M":
        data = _weekly_to_monthly(data, keys, measure)

    n_seasons = _FREQS[freq]
    kid, key_table = _key_ids(data, keys)
    n_keys = len(key_table)
    usable_rows = _usable_relative_rates(data, kid, measure, freq, working_days, min_coverage, exclude)
    factor, n_years = _season_factors(usable_rows, n_keys, n_seasons, freq, estimator, min_years)

    short = n_years < min_years
    if short.any():
        labels = [" / ".join(str(v) for v in row) for row in key_table[short].itertuples(index=False)]
        shown = ", ".join(f"{lab} ({n})" for lab, n in zip(labels[:5], n_years[short][:5]))
        more = f" and {len(labels) - 5} more" if len(labels) > 5 else ""
        warnings.warn(f"seasonal_profile({measure!r}): fewer than {min_years} usable years for "
                      f"{shown}{more}; the profile is shrunk towards flat in proportion",
                      UserWarning, stacklevel=2)

    n_out = factor.shape[1]
    out = key_table.loc[np.repeat(np.arange(n_keys), n_out)].reset_index(drop=True)
    out["measure"] = measure
    out["season"] = np.tile(np.arange(1, n_out + 1, dtype=np.int64), n_keys)
    out["factor"] = factor.ravel()
    out.attrs = {"freq": freq, "working_days": bool(working_days)}
    return out


def _check_profile_args(history, measure: str, freq, estimator: str, min_years, min_coverage: float,
                        exclude_years) -> tuple[str, list[int]]:
    """:func:`seasonal_profile`'s arguments checked; returns the frequency ("W"/"M") and the years left out."""
    if not isinstance(history, pd.DataFrame):
        raise ValueError(f"history must be a DataFrame, got {type(history).__name__}")
    if freq is None and isinstance(history, pd.DataFrame) and "period" in history.columns:
        freq = _period_freq(history["period"], "history")
    freq = _check_freq(freq)
    missing = [c for c in ("clinic", "period", measure) if c not in history.columns]
    if missing:
        raise ValueError(f"history lacks column(s) {missing} (measure={measure!r})")
    if estimator not in _ESTIMATORS:
        raise ValueError(f"estimator must be one of {_ESTIMATORS}, got {estimator!r}")
    if isinstance(min_years, bool) or not isinstance(min_years, (int, np.integer)) or min_years < 1:
        raise ValueError(f"min_years must be a whole number >= 1, got {min_years!r}")
    if not 0 < min_coverage <= 1:
        raise ValueError(f"min_coverage must lie in (0, 1], got {min_coverage!r}")
    values = history[measure]
    if pd.api.types.is_bool_dtype(values.dtype) or not pd.api.types.is_numeric_dtype(values.dtype):
        raise ValueError(f"measure {measure!r} must be numeric, got dtype {values.dtype}")
    if (values < 0).any():
        raise ValueError(f"measure {measure!r} has negative values; counts must be >= 0")
    try:
        exclude = [int(y) for y in np.atleast_1d(np.asarray(exclude_years, dtype=np.int64))]
    except (TypeError, ValueError):
        raise ValueError(f"exclude_years must be whole years, got {exclude_years!r}") from None
    return freq, exclude


def _usable_relative_rates(data: pd.DataFrame, kid: np.ndarray, measure: str, freq: str, working_days: bool,
                           min_coverage: float, exclude: list) -> pd.DataFrame:
    """Per key, year and season the rate relative to its year's mean rate, usable years only [-].

    A year is usable when it covers ``min_coverage`` of its periods, has a positive level
    and is not left out; columns ``kid``, ``year``, ``season``, ``rate``, ``relative``.
    """
    n_seasons = _FREQS[freq]
    periods = pd.PeriodIndex(data["period"].array)
    uniq = periods.unique()
    year_u, season_u = _season_of(uniq, freq)
    wd_u = _cal.working_days(uniq).to_numpy(dtype=float) if working_days else np.ones(len(uniq))
    pos = uniq.get_indexer(periods)
    year, season, wd = year_u[pos], season_u[pos], wd_u[pos]

    value = data[measure].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(wd > 0, value / np.where(wd > 0, wd, 1.0), np.nan)

    frame = pd.DataFrame({"kid": kid, "year": year, "season": season, "rate": rate})
    # one integer per key and year (the same groups, rows in the same order: the same means to the bit)
    year_code, years = pd.factorize(year_u)
    key_year = kid.astype(np.int64) * max(len(years), 1) + year_code[pos]
    by_year = frame["rate"].groupby(key_year, sort=False)
    n_obs = by_year.transform("count").to_numpy()
    level = by_year.transform("mean").to_numpy()
    expected = (np.asarray(_cal.weeks_in_year(year_u))[pos] if freq == "W" and len(uniq)
                else _cal.weeks_in_year(year) if freq == "W" else np.full(len(year), 12))
    usable = ((n_obs / np.maximum(expected, 1) >= min_coverage) & (level > 0)
              & ~np.isin(year, exclude) & np.isfinite(rate))
    frame["relative"] = rate / np.where(level > 0, level, np.nan)
    return frame[usable & (season <= n_seasons)]


def _season_factors(usable_rows: pd.DataFrame, n_keys: int, n_seasons: int, freq: str, estimator: str,
                    min_years: int) -> tuple[np.ndarray, np.ndarray]:
    """Factor per key and season, mean 1 (shrunk towards 1 with fewer than ``min_years``), and the usable years."""
    # grouped on one integer per key and season (key * (n_seasons + 1) + season): the same groups
    kid = usable_rows["kid"].to_numpy(dtype=np.int64)
    season = usable_rows["season"].to_numpy(dtype=np.int64)
    raw_long = usable_rows["relative"].groupby(kid * (n_seasons + 1) + season, sort=False).agg(estimator)
    group = raw_long.index.to_numpy(dtype=np.int64)
    raw = np.full((n_keys, n_seasons), np.nan)
    raw[group // (n_seasons + 1), group % (n_seasons + 1) - 1] = raw_long.to_numpy()
    year = usable_rows["year"].to_numpy(dtype=np.int64)
    span = int(year.max() - year.min()) + 1 if len(year) else 1
    key_years = np.unique(kid * span + (year - year.min() if len(year) else year)) // span
    n_years = np.bincount(key_years, minlength=n_keys)

    raw = _circular_fill(raw)
    mean_raw = raw.mean(axis=1, keepdims=True)
    ok = np.isfinite(mean_raw) & (mean_raw > 0)
    normalised = np.where(ok, raw / np.where(ok, mean_raw, 1.0), 1.0)
    strength = np.minimum(n_years / min_years, 1.0)[:, None]
    factor = 1.0 + strength * (normalised - 1.0)
    if freq == "W":
        factor = np.hstack([factor, (factor[:, [51]] + factor[:, [0]]) / 2])
    return factor, n_years


# ----------------------------------------------------------------------------- periodise
def _profile_matrix(profile: pd.DataFrame, freq: str, measure, working_days: bool):
    """Key table and factor matrix (keys x 53 or 12) from a long profile frame."""
    if not isinstance(profile, pd.DataFrame):
        raise ValueError(f"profile must be a long DataFrame (clinic, season, factor), got {type(profile).__name__}")
    missing = [c for c in ("clinic", "season", "factor") if c not in profile.columns]
    if missing:
        raise ValueError(f"profile lacks column(s) {missing}")
    if "measure" in profile.columns:
        measures = profile["measure"].dropna().unique()
        if measure is not None:
            profile = profile[profile["measure"] == measure]
            if profile.empty:
                raise ValueError(f"profile has no rows for measure {measure!r} (it has {list(measures)})")
        elif len(measures) > 1:
            raise ValueError(f"profile holds several measures {list(measures)}: pass measure=")
    recorded_freq = profile.attrs.get("freq")
    if recorded_freq is not None and recorded_freq != freq:
        raise ValueError(f"profile is {'weekly' if recorded_freq == 'W' else 'monthly'} "
                         f"(freq={recorded_freq!r}) but freq={freq!r} was asked for")
    recorded = profile.attrs.get("working_days")
    if recorded is not None and bool(recorded) != bool(working_days):
        warnings.warn(f"profile was estimated with working_days={recorded} but periodise uses "
                      f"working_days={working_days}; holidays will be counted "
                      f"{'twice' if working_days else 'not at all'}", UserWarning, stacklevel=3)
    keys = _keys(profile)
    n_seasons = 53 if freq == "W" else 12
    season = pd.to_numeric(profile["season"], errors="coerce").to_numpy(dtype=float)
    if np.isnan(season).any() or (season != np.floor(season)).any() or (season < 1).any() or (season > n_seasons).any():
        raise ValueError(f"profile: season must be whole numbers 1..{n_seasons} for freq={freq!r}")
    factor = pd.to_numeric(profile["factor"], errors="coerce").to_numpy(dtype=float)
    if not np.isfinite(factor).all() or (factor < 0).any():
        raise ValueError("profile: factor must be finite and >= 0")
    kid, key_table = _key_ids(profile, keys)
    season = season.astype(np.int64)
    if pd.Series(kid * 100 + season).duplicated().any():
        raise ValueError("profile has more than one factor for the same clinic (group) and season")
    matrix = np.full((len(key_table), n_seasons), np.nan)
    matrix[kid, season - 1] = factor
    if freq == "W":
        matrix[:, 52] = np.where(np.isnan(matrix[:, 52]), (matrix[:, 51] + matrix[:, 0]) / 2, matrix[:, 52])
    needed = matrix[:, :52] if freq == "W" else matrix
    if np.isnan(needed).any():
        row = int(np.flatnonzero(np.isnan(needed).any(axis=1))[0])
        lacking = (np.flatnonzero(np.isnan(needed[row])) + 1).tolist()
        raise ValueError(f"profile lacks season(s) {lacking[:10]} for {dict(key_table.iloc[row])}")
    return key_table, matrix


def _volume_table(annual_volume, key_table):
    """(table of keys or None, volumes float array) from scalar / Series / DataFrame input."""
    if isinstance(annual_volume, pd.DataFrame):
        if "clinic" not in annual_volume.columns:
            raise ValueError("annual_volume: a DataFrame needs a 'clinic' column")
        keys = _keys(annual_volume)
        if "volume" in annual_volume.columns:
            column = "volume"
        else:
            numeric = [c for c in annual_volume.columns if c not in keys
                       and pd.api.types.is_numeric_dtype(annual_volume[c].dtype)]
            if len(numeric) != 1:
                raise ValueError("annual_volume: a DataFrame needs a 'volume' column "
                                 f"(or exactly one numeric column), got {list(annual_volume.columns)}")
            column = numeric[0]
        table = annual_volume[keys].reset_index(drop=True)
        volumes = annual_volume[column]
    elif isinstance(annual_volume, pd.Series):
        names = [n if n is not None else "clinic" for n in annual_volume.index.names]
        if annual_volume.index.nlevels == 1:
            names = ["clinic"]
        elif names[:2] != ["clinic", "group"] or annual_volume.index.nlevels != 2:
            raise ValueError("annual_volume: a Series must be indexed by clinic, or by (clinic, group)")
        table = pd.DataFrame({name: annual_volume.index.get_level_values(i)
                              for i, name in enumerate(names)})
        volumes = annual_volume
    else:
        if np.ndim(annual_volume) != 0:
            raise ValueError("annual_volume must be a number, a Series keyed by clinic or a DataFrame")
        table = None if key_table is None else key_table.copy()
        volumes = np.full(1 if key_table is None else len(key_table), annual_volume, dtype=object)
    if isinstance(volumes, pd.Series):
        if pd.api.types.is_bool_dtype(volumes.dtype) or not pd.api.types.is_numeric_dtype(volumes.dtype):
            raise ValueError(f"annual_volume must be numeric, got dtype {volumes.dtype}")
        volumes = volumes.to_numpy(dtype=float)
    else:
        try:
            if isinstance(annual_volume, (bool, np.bool_)):
                raise TypeError
            volumes = volumes.astype(float)
        except (TypeError, ValueError):
            raise ValueError(f"annual_volume must be a number, got {annual_volume!r}") from None
    if not np.isfinite(volumes).all() or (volumes < 0).any():
        raise ValueError("annual_volume must be finite and >= 0 [count/year]")
    if table is not None and table.duplicated().any():
        raise ValueError("annual_volume has more than one volume for the same clinic (group)")
    return table, volumes


def periodise(annual_volume, year, *, profile: pd.DataFrame | None = None, freq: str = "W",
              working_days: bool = True, measure: str | None = None) -> pd.DataFrame:
    """Break an annual volume down to the ISO weeks or months of a year, in whole numbers.

    Each period *p* of the year gets a weight and an exact share of the volume::

        weight[p] = factor[season(p)] * working_days[p]        (working_days=True)
        exact[p]  = volume * weight[p] / sum over the year of weight
        volume[p] = floor(exact[p]) + 1 for the (volume - sum floor) periods with the
                    largest fractional parts (largest-remainder rounding) [count/period]

    so the periods add up *exactly* to the annual volume. ``working_days`` are those of
    :func:`kps_analysis.calendar.working_days` for the given year (a week with Good
    Friday gets 4/5 of an ordinary week's share under a flat profile).

    Parameters
    ----------
    annual_volume : number, Series or DataFrame
        The volume for the whole year, e.g. the care agreement: a number (applied to
        every clinic of ``profile``, or to one unnamed clinic without a profile), a
        Series indexed by ``clinic`` (or by ``clinic`` and ``group``), or a DataFrame
        with ``clinic``, [``group``] and ``volume`` [count/year]. Non-integers are
        rounded with a warning.
    year : int
        The ISO year (``freq="W"``: 52 or 53 weeks) or calendar year (``"M"``) [year].
    profile : DataFrame, optional
        Long profile from :func:`seasonal_profile` (``clinic``, [``group``],
        [``measure``], ``season``, ``factor``); default flat (factor 1). A weekly
        profile without week 53 gets ``(factor[52] + factor[1]) / 2`` for it. When
        ``annual_volume`` is per clinic only, a profile per group is refused.
    freq : {"W", "M"}, optional
        ISO weeks (default) or calendar months.
    working_days : bool, optional
        Weight each period by its working days (default True). Use the setting the
        profile was estimated with.
    measure : str, optional
        Which measure of a profile that holds several [-].

    Returns
    -------
    DataFrame
        ``clinic``, [``group``], ``period`` (W-SUN or M Period), ``volume`` (int64)
        [count/period]; one row per clinic (group) and period of the year.

    Raises
    ------
    ValueError
        For a negative, NaN or non-numeric volume, a year that is not a whole number,
        an unknown ``freq``, a profile with negative factors, missing seasons or no row
        for a clinic of ``annual_volume``, or all-zero weights with a positive volume.

    See Also
    --------
    seasonal_profile : estimate the profile from history.

    Examples
    --------
    A flat profile in 2024 (52 weeks, 250 working days after holidays): week 12 has 5
    working days, Easter week 13 has 4 (Good Friday), Christmas week 52 has 2:

    >>> w = periodise(2500, 2024)
    >>> int(w.volume.sum()), len(w)
    (2500, 52)
    >>> w.volume.iloc[[11, 12, 51]].tolist()
    [50, 40, 20]

    Months, two clinics at once with their own volumes:

    >>> m = periodise(pd.Series({"a": 1200, "b": 13}), 2024, freq="M", working_days=False)
    >>> m.groupby("clinic").volume.sum().to_dict()
    {'a': 1200, 'b': 13}
    >>> m[m.clinic == "b"].volume.tolist()
    [2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]
    """
    year = _as_year(year)
    freq = _check_freq(freq)
    periods, seasons = _year_periods(year, freq)
    wd = _cal.working_days(periods).to_numpy(dtype=float) if working_days else np.ones(len(periods))

    if profile is None:
        key_table, matrix = None, np.ones((1, 53 if freq == "W" else 12))
    else:
        key_table, matrix = _profile_matrix(profile, freq, measure, working_days)

    table, volumes = _volume_table(annual_volume, key_table)
    whole = np.rint(volumes)
    if not np.allclose(volumes, whole, rtol=0, atol=1e-9):
        warnings.warn("annual_volume is not a whole number; it is rounded to the nearest whole number",
                      UserWarning, stacklevel=2)
    volumes = whole

    if key_table is None:
        rows = np.zeros(len(volumes), dtype=np.int64)
    else:
        profile_keys = list(key_table.columns)
        if table is None:
            rows = np.arange(len(key_table))
        else:
            if "group" in profile_keys and "group" not in table.columns:
                raise ValueError("profile is per group but annual_volume is per clinic: give volumes "
                                 "per (clinic, group) or a profile per clinic")
            lookup = key_table.assign(_row=np.arange(len(key_table)))
            joined = table[profile_keys].merge(lookup, on=profile_keys, how="left")
            if joined["_row"].isna().any():
                lacking = table.loc[joined["_row"].isna().to_numpy(), profile_keys].drop_duplicates()
                raise ValueError(f"profile has no factors for {lacking.to_dict('records')[:5]}")
            rows = joined["_row"].to_numpy(dtype=np.int64)

    weights = matrix[rows][:, seasons - 1] * wd[None, :]
    empty = (weights.sum(axis=1) <= 0) & (volumes > 0)
    if empty.any():
        raise ValueError("profile and working days give zero weight to every period of the year, "
                         "so a positive annual_volume cannot be spread")
    result = _largest_remainder(volumes, weights)

    n_rows, n_periods = result.shape
    if table is None:
        out = pd.DataFrame({"clinic": pd.Series([None] * (n_rows * n_periods), dtype=object)})
    else:
        out = table.loc[np.repeat(np.arange(n_rows), n_periods)].reset_index(drop=True)
    out["period"] = periods.take(np.tile(np.arange(n_periods), n_rows))
    out["volume"] = result.ravel()
    return out
