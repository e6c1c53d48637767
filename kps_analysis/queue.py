"""Queueing-theory measures for a waiting list, and the queue-to-production ratio.

The first six functions have the same definitions, argument names and defaults as the
NHS-R community's R package NHSRwaitinglist (``calc_queue_load``,
``calc_target_mean_wait``, ``calc_target_queue_size``, ``calc_target_capacity``,
``calc_relief_capacity``, ``calc_waiting_list_pressure``; version 0.1.2), so that a
result can be compared one to one with the R package and with the white paper it
implements (Fong et al. 2022). They are element-wise: each argument may be a scalar, a
numpy array or a pandas Series ("numeric"); a scalar gives a float, an array an array
and a Series a Series with its index kept. Rates (``demand``, ``capacity``) and times
(``target_wait``, ``mean_wait``, ``time_to_target``) must use the same time unit, for
example patients/week and weeks.

Differences from the R package, deliberate: impossible input is refused with a
``ValueError`` that names the argument (negative demand, capacity or queue size, a target
wait or factor that is not positive); the R package only checks that arguments are
numeric. A zero capacity or production gives a warning (an infinite load, an undefined
ratio) instead of a silent ``Inf``.

The köproduktionskvot (queue-to-production ratio) is the Swedish regions' everyday
measure: patients waiting divided by production per period, read as "weeks (or months)
of production waiting", i.e. an estimate of the waiting time by Little's law.
:func:`queue_production_ratio_frame` computes it for many clinics at once from a
canonical long frame.

References
----------
.. [1] NHS-R community, NHSRwaitinglist: Waiting List Metrics Using Queuing Theory,
   R package 0.1.2 (CRAN, 2025). https://github.com/nhs-r-community/NHSRwaitinglist
.. [2] Fong, K., Lacy, A., Walton, N. (2022). Understanding and managing waiting
   lists: a queueing approach. medRxiv, doi:10.1101/2022.08.23.22279117.
.. [3] Little, J. D. C. (1961). A proof for the queuing formula L = λW.
   Operations Research 9(3), 383-387.
.. [4] Kingman, J. F. C. (1961). The single server queue in heavy traffic.
   Mathematical Proceedings of the Cambridge Philosophical Society 57(4), 902-904.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from .seasonal import period_kind, periods_for_weeks

__all__ = [
    "WEEKS_PER_MONTH",
    "queue_load",
    "target_mean_wait",
    "target_queue_size",
    "target_capacity",
    "relief_capacity",
    "waiting_list_pressure",
    "queue_production_ratio",
    "queue_production_ratio_frame",
    "mean_wait_for_share_within",
    "queue_for_share_within",
]

#: Weeks in the mean calendar month (365.25 / 12 days / 7), to express rates per month
#: from weekly data and per week from monthly data by days.
WEEKS_PER_MONTH = 365.25 / 12 / 7

DAYS_PER_WEEK = 7


# ----------------------------------------------------------------------------- helpers
def _numeric(value, name):
    """Return ``value`` as float64 (Series kept as Series, array-likes as ndarray).

    Raises a ValueError naming ``name`` when the value is not numeric (strings, booleans,
    dates); NaN passes through (not reported).
    """
    if isinstance(value, pd.Series):
        if pd.api.types.is_bool_dtype(value.dtype) or not pd.api.types.is_numeric_dtype(value.dtype):
            raise ValueError(f"{name} must be numeric, got a Series of dtype {value.dtype}")
        return value.astype("float64")
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be numeric, got a boolean")
    arr = np.asarray(value)
    if arr.dtype.kind == "O":  # e.g. a list holding None: numbers only
        try:
            arr = arr.astype("float64")
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be numeric, got {value!r}") from None
    if arr.dtype.kind not in "iuf":
        raise ValueError(f"{name} must be numeric, got {value!r}")
    arr = arr.astype("float64")
    if arr.ndim == 0:
        return np.float64(arr)
    return arr


def _values(x):
    return x.to_numpy(dtype="float64") if isinstance(x, pd.Series) else np.asarray(x, dtype="float64")


def _check_lower(x, name, low, *, strict, unit=""):
    """Raise ValueError naming ``name`` if any value is below (or at, when strict) ``low``."""
    v = _values(x)
    bad = v <= low if strict else v < low
    if np.any(bad):
        first = v[bad].flat[0] if v.ndim else float(v)
        relation = "greater than" if strict else "greater than or equal to"
        raise ValueError(f"{name} must be {relation} {low:g}{unit}; got {first:g}")


def _where(cond, a, b):
    """np.where that keeps a Series condition's index."""
    if isinstance(cond, pd.Series):
        return pd.Series(np.where(cond.to_numpy(), _values(a) if isinstance(a, pd.Series) else a,
                                  _values(b) if isinstance(b, pd.Series) else b), index=cond.index)
    return np.where(cond, a, b)


def _result(x):
    """A 0-d result as a Python float; arrays and Series unchanged."""
    if isinstance(x, pd.Series):
        return x
    arr = np.asarray(x)
    if arr.ndim == 0:
        return float(arr)
    return arr


# ----------------------------------------------------------------------------- NHSRwaitinglist
def queue_load(demand, capacity):
    """Queue load: arrivals per patient leaving the list.

    ``queue_load = demand / capacity`` [-]

    Below 1 the waiting list is stable; at or above 1 it grows without bound (NHSRwaitinglist,
    "Fact 2"). Same as ``NHSRwaitinglist::calc_queue_load``.

    Parameters
    ----------
    demand : numeric
        Rate of additions to the list (referrals) [patients/time unit].
    capacity : numeric
        Rate of removals from the list (operations, visits) in the same unit
        [patients/time unit].

    Returns
    -------
    numeric
        The load [-]; ``inf`` where capacity is 0 and demand positive, NaN where both are 0.

    Raises
    ------
    ValueError
        If ``demand`` or ``capacity`` is not numeric or is negative.

    Warns
    -----
    UserWarning
        If any capacity is 0.

    Examples
    --------
    30 referrals a week against 27 removals a week (the white paper's ENT list):

    >>> round(queue_load(30, 27), 4)
    1.1111

    References
    ----------
    NHSRwaitinglist ``calc_queue_load`` (R/calc_queue_load.R).
    """
    demand = _numeric(demand, "demand")
    capacity = _numeric(capacity, "capacity")
    _check_lower(demand, "demand", 0, strict=False)
    _check_lower(capacity, "capacity", 0, strict=False)
    if np.any(_values(capacity) == 0):
        warnings.warn("capacity is 0 for some values: the queue load is infinite there", stacklevel=2)
    with np.errstate(divide="ignore", invalid="ignore"):
        return _result(demand / capacity)


def target_mean_wait(target_wait, factor=4):
    """Mean wait that makes a waiting-time target (almost) always met.

    ``target_mean_wait = target_wait / factor`` [time unit]

    For a list whose waiting times are roughly exponential, a mean wait of a quarter of the
    target (factor 4) leaves about 1.8 % of patients beyond the target (e^-4); a sixth
    (factor 6) about 0.25 % (e^-6). Same as ``NHSRwaitinglist::calc_target_mean_wait``.

    Parameters
    ----------
    target_wait : numeric
        The waiting-time target, e.g. 90 days or 13 weeks [time unit].
    factor : numeric, default 4
        Divisor of the target; 4 to 6 are usual [-].

    Returns
    -------
    numeric
        Target mean wait [time unit].

    Raises
    ------
    ValueError
        If ``target_wait`` or ``factor`` is not numeric or not positive.

    Examples
    --------
    A 52-week target gives a mean of 13 weeks with factor 4:

    >>> target_mean_wait(52)
    13.0
    >>> round(target_mean_wait(52, 6), 2)
    8.67

    References
    ----------
    NHSRwaitinglist ``calc_target_mean_wait`` (R/calc_target_mean_wait.R); Fong et al. (2022).
    """
    target_wait = _numeric(target_wait, "target_wait")
    factor = _numeric(factor, "factor")
    _check_lower(target_wait, "target_wait", 0, strict=True)
    _check_lower(factor, "factor", 0, strict=True)
    return _result(target_wait / factor)


def target_queue_size(demand, target_wait, factor=4):
    """Queue size at which the target mean wait holds (Little's law).

    ``target_queue_size = demand * target_wait / factor`` [patients]

    Little's law, L = λW, with W the target mean wait (:func:`target_mean_wait`). Applies
    when capacity exceeds demand (a stable list). Same as
    ``NHSRwaitinglist::calc_target_queue_size``.

    Parameters
    ----------
    demand : numeric
        Rate of additions to the list [patients/time unit].
    target_wait : numeric
        The waiting-time target in the same time unit [time unit].
    factor : numeric, default 4
        Divisor of the target giving the mean wait [-].

    Returns
    -------
    numeric
        Target queue size [patients].

    Raises
    ------
    ValueError
        If an argument is not numeric, ``demand`` is negative or ``target_wait`` or
        ``factor`` is not positive.

    Examples
    --------
    30 patients/week and a 52-week target: 30 * 52 / 4 = 390 patients.

    >>> target_queue_size(30, 52)
    390.0
    >>> round(target_queue_size(30, 50, 6), 6)
    250.0

    References
    ----------
    NHSRwaitinglist ``calc_target_queue_size`` (R/calc_target_queue_size.R); Little (1961).
    """
    demand = _numeric(demand, "demand")
    _check_lower(demand, "demand", 0, strict=False)
    mean_wait = target_mean_wait(target_wait, factor)
    return _result(demand * mean_wait)


def target_capacity(demand, target_wait, factor=4, cv_demand=1, cv_capacity=1):
    """Capacity that keeps the mean wait at target despite variability (Kingman).

    ``target_capacity = demand + (cv_demand**2 + cv_capacity**2) / 2 * factor / target_wait``
    [patients/time unit]

    From Kingman's heavy-traffic formula for the G/G/1 queue, mean wait ≈
    (ca² + cs²)/2 · 1/(capacity − demand); solving for capacity at mean wait
    target_wait / factor. With Poisson arrivals and exponential service (both cv = 1)
    the extra capacity is factor / target_wait. Same as
    ``NHSRwaitinglist::calc_target_capacity``.

    Parameters
    ----------
    demand : numeric
        Rate of additions to the list [patients/time unit].
    target_wait : numeric
        The waiting-time target [time unit].
    factor : numeric, default 4
        Divisor of the target giving the mean wait [-].
    cv_demand : numeric, default 1
        Coefficient of variation of the time between arrivals [-].
    cv_capacity : numeric, default 1
        Coefficient of variation of the time between removals [-].

    Returns
    -------
    numeric
        Required capacity [patients/time unit].

    Raises
    ------
    ValueError
        If an argument is not numeric, ``demand`` or a cv is negative, or ``target_wait``
        or ``factor`` is not positive.

    Examples
    --------
    30 patients/week, 52-week target, factor 3, cvs 1.1 and 1.2:
    30 + (1.21 + 1.44) / 2 * 3 / 52 = 30.0764 (NHSRwaitinglist's own test value).

    >>> round(target_capacity(30, 52, 3, 1.1, 1.2), 6)
    30.076442

    References
    ----------
    NHSRwaitinglist ``calc_target_capacity`` (R/calc_target_capacity.R); Kingman (1961).
    """
    demand = _numeric(demand, "demand")
    target_wait = _numeric(target_wait, "target_wait")
    factor = _numeric(factor, "factor")
    cv_demand = _numeric(cv_demand, "cv_demand")
    cv_capacity = _numeric(cv_capacity, "cv_capacity")
    _check_lower(demand, "demand", 0, strict=False)
    _check_lower(target_wait, "target_wait", 0, strict=True)
    _check_lower(factor, "factor", 0, strict=True)
    _check_lower(cv_demand, "cv_demand", 0, strict=False)
    _check_lower(cv_capacity, "cv_capacity", 0, strict=False)
    return _result(demand + ((cv_demand**2 + cv_capacity**2) / 2) * (factor / target_wait))


def relief_capacity(demand, queue_size, target_queue_size, time_to_target=26, *,
                    num_referrals=0, cv_demand=0):
    """Capacity that brings the queue down to its target size in a given time.

    ``relief_capacity = demand + (queue_size - target_queue_size) / time_to_target``
    [patients/time unit]

    Needed when the queue is more than twice its target size. When ``num_referrals`` > 0
    the demand is first raised to allow for its estimation error, as NHSRwaitinglist
    0.1.2 does: if ``e = 2 * demand * cv_demand / sqrt(num_referrals)`` < 1, demand
    becomes ``demand / (1 - e)`` (element-wise). Same as
    ``NHSRwaitinglist::calc_relief_capacity``.

    Parameters
    ----------
    demand : numeric
        Rate of additions to the list [patients/time unit].
    queue_size : numeric
        Patients on the list now [patients].
    target_queue_size : numeric
        Patients on the list wanted at ``time_to_target`` [patients].
    time_to_target : numeric, default 26
        Time to reach the target, in the unit of the demand rate [time unit].
    num_referrals : numeric, default 0
        Number of referrals the demand was estimated from; 0 = no adjustment [patients].
    cv_demand : numeric, default 0
        Coefficient of variation of demand used in the adjustment [-].

    Returns
    -------
    numeric
        Required capacity [patients/time unit].

    Raises
    ------
    ValueError
        If an argument is not numeric, ``demand``, a queue size, ``num_referrals`` or
        ``cv_demand`` is negative, or ``time_to_target`` is not positive.

    Examples
    --------
    The NHSRwaitinglist vignette: demand 30/week, queue 1200, target 390, in 26 weeks:
    30 + (1200 - 390) / 26 = 61.15 patients/week.

    >>> round(relief_capacity(30, 1200, 390, 26), 2)
    61.15

    References
    ----------
    NHSRwaitinglist ``calc_relief_capacity`` (R/calc_relief_capacity.R) and its vignette
    "Walkthrough of waiting list functions"; Fong et al. (2022).
    """
    demand = _numeric(demand, "demand")
    queue_size = _numeric(queue_size, "queue_size")
    target_queue_size = _numeric(target_queue_size, "target_queue_size")
    time_to_target = _numeric(time_to_target, "time_to_target")
    num_referrals = _numeric(num_referrals, "num_referrals")
    cv_demand = _numeric(cv_demand, "cv_demand")
    _check_lower(demand, "demand", 0, strict=False)
    _check_lower(queue_size, "queue_size", 0, strict=False)
    _check_lower(target_queue_size, "target_queue_size", 0, strict=False)
    _check_lower(time_to_target, "time_to_target", 0, strict=True)
    _check_lower(num_referrals, "num_referrals", 0, strict=False)
    _check_lower(cv_demand, "cv_demand", 0, strict=False)
    if np.any(_values(num_referrals) > 0):
        with np.errstate(divide="ignore", invalid="ignore"):
            error = 2 * demand * cv_demand / np.sqrt(num_referrals)
            adjust = (num_referrals > 0) & (error < 1)
            demand = demand / _where(adjust, 1 - error, 1.0)
    return _result(demand + (queue_size - target_queue_size) / time_to_target)


def waiting_list_pressure(mean_wait, target_wait):
    """Waiting-list pressure: twice the mean wait over the target.

    ``pressure = 2 * mean_wait / target_wait`` [-]

    Below 1 the list is likely to meet its target; above 1 it will most likely miss it.
    Comparable across lists with different targets. Same as
    ``NHSRwaitinglist::calc_waiting_list_pressure``.

    Parameters
    ----------
    mean_wait : numeric
        Mean waiting time of the patients on the list [time unit].
    target_wait : numeric
        The waiting-time target in the same unit [time unit].

    Returns
    -------
    numeric
        The pressure [-].

    Raises
    ------
    ValueError
        If an argument is not numeric, ``mean_wait`` is negative or ``target_wait`` is
        not positive.

    Examples
    --------
    The white paper's list: mean wait 63 weeks, target 52 weeks:

    >>> round(waiting_list_pressure(63, 52), 4)
    2.4231

    References
    ----------
    NHSRwaitinglist ``calc_waiting_list_pressure`` (R/calc_waiting_list_pressure.R).
    """
    mean_wait = _numeric(mean_wait, "mean_wait")
    target_wait = _numeric(target_wait, "target_wait")
    _check_lower(mean_wait, "mean_wait", 0, strict=False)
    _check_lower(target_wait, "target_wait", 0, strict=True)
    return _result(2 * mean_wait / target_wait)


# ----------------------------------------------------------------------------- köproduktionskvot
def queue_production_ratio(queue, production):
    """Köproduktionskvot: patients waiting per unit of production per period.

    ``ratio = queue / production`` [periods]

    With the queue counted at the end of a period and production the patients taken off
    the list per period (in-house and purchased), the ratio reads "how many periods of
    production are waiting", an estimate of the mean wait by Little's law. The time unit
    of the result is that of ``production`` (patients/week gives weeks).

    Parameters
    ----------
    queue : numeric
        Patients waiting [patients].
    production : numeric
        Patients taken off the list per period [patients/period].

    Returns
    -------
    numeric
        The ratio [periods]; NaN (not ``inf``) where production is 0.

    Raises
    ------
    ValueError
        If an argument is not numeric or negative.

    Warns
    -----
    UserWarning
        If any production is 0 (the ratio is undefined there and set to NaN).

    Examples
    --------
    420 patients waiting for a first visit, 60 first visits a week: 7 weeks of production.

    >>> queue_production_ratio(420, 60)
    7.0

    References
    ----------
    Little (1961); Sveriges Kommuner och Regioner (SKR), kapacitets- och
    produktionsstyrning (köproduktionskvot).
    """
    queue = _numeric(queue, "queue")
    production = _numeric(production, "production")
    _check_lower(queue, "queue", 0, strict=False)
    _check_lower(production, "production", 0, strict=False)
    zero = _values(production) == 0
    if np.any(zero):
        warnings.warn("production is 0 for some values: the queue-to-production ratio is "
                      "undefined there and set to NaN", stacklevel=2)
    if isinstance(production, pd.Series):
        safe = production.where(production != 0)
    else:
        safe = np.where(production == 0, np.nan, production)
    return _result(queue / safe)


def queue_production_ratio_frame(weekly: pd.DataFrame, *, queue: str = "queue_new_visit",
                                 production: str | Sequence[str] = ("new_visits", "purchased_new_visits"),
                                 window_weeks: int = 4, per: str = "week") -> pd.DataFrame:
    """Köproduktionskvot per clinic and period from a canonical long frame.

    ``ratio[t] = queue[t] / mean(production[t - w + 1 .. t])`` [weeks or months]

    The queue is the stock at the end of period t; production is the sum of the
    ``production`` columns in each period (in-house and purchased care: both empty the
    queue), averaged over a trailing window of ``w`` periods so that one short week
    (a holiday) does not make the ratio jump. The first ``w - 1`` periods of each clinic
    have no full window and give NaN. Computed per ``clinic`` (and ``group`` when
    present) with a groupby, so one call serves any number of clinics.

    Defaults: the new-visit queue against first visits including purchased first visits
    (``production=("new_visits", "purchased_new_visits")``); for the treatment queue pass
    ``queue="queue_treatment", production=("operations_elective", "purchased_operations")``.
    A window of 4 weeks (about a month) smooths single weeks but still follows the
    season. For monthly frames the window is converted by days,
    ``round(7 · window_weeks / 30.44)`` months (at least 1: 4 weeks = 1 month). A
    ratio in the other unit than the data's (weeks from monthly data, months from
    weekly data) divides the queue by the window's production per day times the days
    of the unit (7 for a week, 30.44 for a month), so a 31-day month is not a 28-day one.

    Parameters
    ----------
    weekly : DataFrame
        Canonical long frame: ``clinic``, optional ``group``, ``period`` (weekly W-SUN
        or monthly M, every period present), the ``queue`` column and the
        ``production`` columns [patients, patients/period].
    queue : str, default "queue_new_visit"
        Stock column: patients waiting at the end of the period [patients].
    production : str or sequence of str, default ("new_visits", "purchased_new_visits")
        Flow columns summed into production per period. Missing columns are ignored with
        a warning (at least one must be present); in a row, NaN counts as 0 when
        another column is reported, and the sum is NaN when none is [patients/period].
    window_weeks : int, default 4
        Length of the trailing averaging window [weeks].
    per : {"week", "month"}, default "week"
        Time unit of the ratio; converted by days (a mean month is 30.44 days) [-].

    Returns
    -------
    DataFrame
        ``clinic``, [``group``], ``period``, ``queue`` [patients],
        ``production_per_week`` or ``production_per_month`` (the window mean)
        [patients/week or /month], and ``queue_production_ratio_weeks`` or
        ``queue_production_ratio_months`` [weeks or months]; sorted by clinic, group and
        period.

    Raises
    ------
    ValueError
        If a required column is missing, ``per`` is unknown, ``window_weeks`` < 1, the
        periods are neither weekly nor monthly, or counts are negative.

    Warns
    -----
    UserWarning
        If production columns are missing, a clinic has gaps between periods, or the
        window-mean production is 0 (ratio NaN).

    Examples
    --------
    >>> periods = pd.period_range("2024-01-01", periods=5, freq="W-SUN")
    >>> f = pd.DataFrame({"clinic": "a", "period": periods,
    ...                   "queue_new_visit": [400.0, 410, 420, 430, 440],
    ...                   "new_visits": [50.0, 60, 40, 50, 60],
    ...                   "purchased_new_visits": [10.0, 0, 10, 10, 0]})
    >>> r = queue_production_ratio_frame(f)
    >>> r["queue_production_ratio_weeks"].round(3).tolist()
    [nan, nan, nan, 7.478, 7.652]

    Production is 60, 60, 50, 60, 60 a week (new visits plus purchased); week 4 has the
    window weeks 1-4, mean 57.5, so 430 / 57.5 = 7.478 weeks; week 5 has weeks 2-5, mean
    57.5, so 440 / 57.5 = 7.652 weeks.

    References
    ----------
    Little (1961); SKR, kapacitets- och produktionsstyrning.
    """
    if not isinstance(weekly, pd.DataFrame):
        raise ValueError("weekly must be a pandas DataFrame")
    if per not in ("week", "month"):
        raise ValueError(f"per must be 'week' or 'month', got {per!r}")
    if int(window_weeks) != window_weeks or window_weeks < 1:
        raise ValueError(f"window_weeks must be a whole number >= 1, got {window_weeks!r}")
    for col in ("clinic", "period", queue):
        if col not in weekly.columns:
            name = "queue" if col == queue else "weekly"
            raise ValueError(f"{name}: column {col!r} is missing from the frame")
    cols = (production,) if isinstance(production, str) else tuple(production)
    present = [c for c in cols if c in weekly.columns]
    missing = [c for c in cols if c not in weekly.columns]
    if not present:
        raise ValueError(f"production: none of the columns {list(cols)} is in the frame")
    if missing:
        warnings.warn(f"production columns {missing} are missing and count as 0", stacklevel=2)
    if not isinstance(weekly["period"].dtype, pd.PeriodDtype):
        raise ValueError("weekly: column 'period' must hold pandas Periods (freq W-SUN or M)")
    kind = period_kind(weekly["period"], "weekly")
    window = periods_for_weeks(int(window_weeks), kind)  # by days: 4 weeks = 1 month

    keys = ["clinic"] + (["group"] if "group" in weekly.columns else [])
    # sorted by keys and period on integer codes (not the strings): one pass for any number of clinics
    codes = [pd.factorize(weekly[k], sort=True)[0] for k in keys]
    index_all = pd.PeriodIndex(weekly["period"].array)
    order = np.lexsort([index_all.asi8] + codes[::-1])
    frame = weekly[keys + ["period", queue] + [c for c in present if c != queue]].take(order).reset_index(drop=True)
    prod = frame[present].astype("float64").sum(axis=1, min_count=1)
    _check_lower(prod, "production", 0, strict=False)
    _check_lower(frame[queue].astype("float64"), "queue", 0, strict=False)

    gid = np.zeros(len(frame), dtype=np.int64)
    for c in codes:
        gid = gid * (int(c.max()) + 2 if len(c) else 1) + c[order] + 1
    index = index_all[order]
    ordinal = index.asi8
    same = np.r_[False, gid[1:] == gid[:-1]]  # the row before is of the same clinic (group)
    if np.any(same & (np.r_[0, np.diff(ordinal)] > 1)):
        warnings.warn("some clinics have gaps between periods; the trailing window counts "
                      "rows, not calendar periods", stacklevel=2)
    start = np.flatnonzero(~same)
    position = np.arange(len(frame)) - np.repeat(start, np.diff(np.r_[start, len(frame)]))

    def trailing(values: pd.Series, how: str) -> pd.Series:
        # the sum of the window's rows, NaN unless the window holds ``window`` rows of the
        # clinic (and none is NaN), as ``groupby(...).rolling(window, min_periods=window)``
        x = values.to_numpy(dtype=float)
        total = np.zeros(len(x))
        for lag in range(window):
            total[lag:] += x[:len(x) - lag] if lag else x
        total = np.where(position >= window - 1, total, np.nan)
        return pd.Series(total / window if how == "mean" else total, index=frame.index)

    if (kind == "W") == (per == "week"):  # the data's own unit: the mean of the window's periods
        prod_per_unit = trailing(prod, "mean")
    else:  # the other unit, by days: production per day over the window × days of the unit
        days = pd.Series((index.end_time.normalize() - index.start_time.normalize()).days + 1,
                         index=frame.index, dtype="float64")
        unit_days = 7.0 if per == "week" else 7.0 * WEEKS_PER_MONTH
        prod_per_unit = trailing(prod, "sum") / trailing(days, "sum") * unit_days
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ratio = queue_production_ratio(frame[queue].astype("float64"), prod_per_unit)
    if (prod_per_unit == 0).any():
        warnings.warn("production is 0 over a whole window for some periods: the ratio is "
                      "NaN there", stacklevel=2)
    suffix = "weeks" if per == "week" else "months"
    out = frame[keys + ["period"]].copy()
    out["queue"] = frame[queue].astype("float64")
    out[f"production_per_{per}"] = prod_per_unit
    out[f"queue_production_ratio_{suffix}"] = ratio
    return out


# ----------------------------------------------------------------------------- guarantee link
def mean_wait_for_share_within(guarantee_days, share):
    """Mean wait at which a given share of patients waits within the limit.

    ``mean_wait = guarantee_days / -ln(1 - share)`` [days]

    Assumes exponentially distributed waiting times (memoryless, as in an M/M/1 queue
    served in order), for which P(wait <= limit) = 1 - exp(-limit / mean). Factor 4 of
    NHSRwaitinglist (:func:`target_mean_wait`) corresponds to share 1 - e^-4 = 0.9817.

    Parameters
    ----------
    guarantee_days : numeric
        The guarantee limit, e.g. 90 [days].
    share : numeric
        Share of patients to wait within the limit, strictly between 0 and 1 [-].

    Returns
    -------
    numeric
        The mean wait [days].

    Raises
    ------
    ValueError
        If an argument is not numeric, ``guarantee_days`` is not positive or ``share`` is
        not strictly between 0 and 1.

    Examples
    --------
    98 % within 90 days: 90 / -ln(0.02) = 90 / 3.912 = 23.006 days.

    >>> round(mean_wait_for_share_within(90, 0.98), 3)
    23.006

    References
    ----------
    Little (1961); NHSRwaitinglist ``calc_target_mean_wait`` (the factor 4 rule).
    """
    guarantee_days = _numeric(guarantee_days, "guarantee_days")
    share = _numeric(share, "share")
    _check_lower(guarantee_days, "guarantee_days", 0, strict=True)
    _check_lower(share, "share", 0, strict=True)
    if np.any(_values(share) >= 1):
        raise ValueError("share must be less than 1 (a share of 1 needs a mean wait of 0)")
    return _result(guarantee_days / -np.log1p(-share))


def queue_for_share_within(demand_per_week, guarantee_days, share):
    """Queue size at which a given share of patients waits within the limit.

    ``queue = demand_per_week / 7 * guarantee_days / -ln(1 - share)`` [patients]

    Little's law (queue = arrival rate x mean wait) at the mean wait of
    :func:`mean_wait_for_share_within`, assuming exponential waiting times and a list in
    equilibrium (production equal to demand).

    Parameters
    ----------
    demand_per_week : numeric
        Additions to the list [patients/week].
    guarantee_days : numeric
        The guarantee limit [days].
    share : numeric
        Share of patients to wait within the limit, strictly between 0 and 1 [-].

    Returns
    -------
    numeric
        The queue size [patients].

    Raises
    ------
    ValueError
        If an argument is not numeric, demand is negative, ``guarantee_days`` is not positive
        or ``share`` is not strictly between 0 and 1.

    Examples
    --------
    70 referrals a week (10 a day), 98 % within 90 days: 10 * 23.006 = 230.06 patients.

    >>> round(queue_for_share_within(70, 90, 0.98), 2)
    230.06

    References
    ----------
    Little (1961).
    """
    demand_per_week = _numeric(demand_per_week, "demand_per_week")
    _check_lower(demand_per_week, "demand_per_week", 0, strict=False)
    mean_wait = mean_wait_for_share_within(guarantee_days, share)
    return _result(demand_per_week / DAYS_PER_WEEK * mean_wait)
