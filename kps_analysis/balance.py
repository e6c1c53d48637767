"""Balance between inflow and outflow along the flow chain, and queue projections.

The elective flow of a clinic is a chain of two queues (docs/architecture.md)::

    referrals in - forwarded --> [first-visit queue] --> new visits
        new visits x decision rate --> [treatment queue] --> operations

A queue grows when its inflow exceeds its outflow. A plan that balances the first
stage but not the second only moves the queue inside the clinic (*inre köer*): the
new visits get done, but the decisions they produce wait for an operation instead.

* :func:`flow_balance`: observed inflow, outflow and net balance per stage and week,
  with a trailing-window balance and, where the queue is reported, the reconciliation
  residual (change in queue minus net balance) as a data check.
* :func:`conversion_rates`: the chain's rates from history (share forwarded, decisions
  per new visit, return visits per new visit, bed days per operation, no-show rate).
* :func:`project_queue`: the queue week by week for a given inflow and production,
  many clinics at once, with the production left unused when the queue runs empty.
* :func:`project_chain`: both stages jointly, with the bottleneck stage per week.

Units: queues are stocks [patients]; inflows, production and purchases are flows per
period [patients/week] (or per month for monthly frames; the arithmetic is the same).
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np
import pandas as pd

from .seasonal import PERIODS_PER_YEAR, period_kind, periods_for_weeks
from .stages import STAGES
from .stages import stage as stage_spec

__all__ = ["STAGES", "RATE_STAGES", "flow_balance", "conversion_rates", "QueueProjection", "project_queue",
           "project_chain", "naive_flows", "coming_flows", "stage_loads", "ClinicPeriodSums", "clinic_period_sums",
           "cumsum_rows"]

#: The rates of :func:`conversion_rates`: (numerator columns, denominator columns).
_RATES = {
    "forwarded_share": (("referrals_forwarded",), ("referrals_in",)),
    "decisions_per_new_visit": (("treatment_decisions",), ("new_visits",)),
    "return_visits_per_new_visit": (("return_visits",), ("new_visits",)),
    "bed_days_per_operation": (("bed_days",), ("operations_elective", "operations_acute")),
    "no_show_rate": (("no_shows",), ("new_visits", "return_visits", "no_shows")),
}

#: The stage a rate of :func:`conversion_rates` belongs to, where it is not the first visit's:
#: a clinic without that stage (no operations) has no such rate to show.
RATE_STAGES = {"decisions_per_new_visit": "treatment", "bed_days_per_operation": "treatment"}

# ----------------------------------------------------------------------------- helpers
def _keys(frame: pd.DataFrame) -> list[str]:
    return ["clinic", "group"] if "group" in frame.columns else ["clinic"]


def _check_weekly(weekly, name="weekly") -> None:
    if not isinstance(weekly, pd.DataFrame):
        raise ValueError(f"{name} must be a canonical long DataFrame, got {type(weekly).__name__}")
    missing = [c for c in ("clinic", "period") if c not in weekly.columns]
    if missing:
        raise ValueError(f"{name} lacks column(s) {missing}")
    if not isinstance(weekly["period"].dtype, pd.PeriodDtype):
        raise ValueError(f"{name}: column 'period' must hold pandas Periods (W-SUN or M), got {weekly['period'].dtype}")


def _check_window(window, name) -> int:
    if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or window < 1:
        raise ValueError(f"{name} must be a whole number of weeks >= 1, got {window!r}")
    return int(window)


def _window_periods(weekly: pd.DataFrame, window_weeks, name: str) -> tuple[int, str]:
    """A window given in weeks as periods of the frame, by days (4 weeks = 1 month), and the kind."""
    window = _check_window(window_weeks, name)
    kind = period_kind(weekly["period"], "weekly") if len(weekly) else "W"
    return periods_for_weeks(window, kind), kind


def _sorted(weekly: pd.DataFrame, keys: list[str]) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Frame sorted by keys and period, with an integer group id and the period ordinals.

    Sorted on integer codes of the keys (not the strings), stably, as
    ``sort_values(keys + ["period"], kind="stable")``; a missing key sorts last.
    """
    codes = []
    for k in keys:
        c, uniques = pd.factorize(weekly[k], sort=True)
        codes.append(np.where(c < 0, len(uniques), c))  # NaN last, as sort_values puts it
    ordinal_all = pd.PeriodIndex(weekly["period"].array).asi8
    order = np.lexsort([ordinal_all] + codes[::-1])
    frame = weekly.take(order).reset_index(drop=True)
    gid = np.zeros(len(frame), dtype=np.int64)
    for c in codes:
        gid = gid * (int(c.max()) + 1 if len(c) else 1) + c[order]
    gid = np.unique(gid, return_inverse=True)[1].astype(np.int64)
    return frame, gid, ordinal_all[order]


class ClinicPeriodSums(NamedTuple):
    """Measures summed per clinic and period, as arrays sorted by clinic, then period.

    See :func:`clinic_period_sums`.
    """

    clinics: np.ndarray          #: clinic labels, sorted; row r belongs to clinics[code[r]]
    code: np.ndarray             #: clinic index of each row (int64)
    ordinal: np.ndarray          #: period ordinal of each row (int64), ascending within a clinic
    freq: object                 #: the periods' frequency (W-SUN or M)
    first: np.ndarray            #: clinic i holds rows first[i]:first[i+1] (len = clinics + 1)
    values: dict                 #: column -> float array of the sums (NaN where nothing was reported)


def clinic_period_sums(frame: pd.DataFrame, columns) -> ClinicPeriodSums:
    """Sum measures per clinic and period (over groups), as numpy arrays sorted by clinic and period.

    The arrays behind the per-clinic calculations: integer codes instead of string keys,
    so that many clinics are handled in one pass. A sum over rows that are all missing
    is NaN (as ``groupby(...).sum(min_count=1)``); periods of a clinic with no row are
    absent (no gap filling).

    Parameters
    ----------
    frame : DataFrame
        Long frame with ``clinic``, ``period`` and ``columns`` [patients/period or patients].
    columns : sequence of str
        Measures to sum; every one must be a column of ``frame``.

    Returns
    -------
    ClinicPeriodSums

    Examples
    --------
    >>> p = pd.Period("2024-01", freq="M")
    >>> f = pd.DataFrame({"clinic": ["b", "a", "a", "a"], "period": [p, p + 1, p, p + 1],
    ...                   "x": [1.0, 2.0, 3.0, np.nan]})
    >>> s = clinic_period_sums(f, ["x"])
    >>> s.clinics.tolist(), s.code.tolist(), s.first.tolist(), s.values["x"].tolist()
    (['a', 'b'], [0, 0, 1], [0, 2, 3], [3.0, 2.0, 1.0])
    """
    columns = list(columns)
    index = pd.PeriodIndex(frame["period"].array) if len(frame) else pd.PeriodIndex([], freq="W-SUN")
    codes, uniques = pd.factorize(frame["clinic"], sort=True)
    ordinal = index.asi8
    keep = (codes >= 0) & ~np.asarray(index.isna())  # a row without clinic or period belongs to none
    order = np.lexsort((ordinal, codes))
    order = order[keep[order]]
    code, ordinal = codes[order].astype(np.int64), ordinal[order]
    new = np.ones(len(code), dtype=bool)
    new[1:] = (code[1:] != code[:-1]) | (ordinal[1:] != ordinal[:-1])
    starts = np.flatnonzero(new)
    values = {}
    for col in columns:
        x = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float)[order]
        if len(starts) == len(x):
            values[col] = x
        else:
            seen = ~np.isnan(x)
            total = np.add.reduceat(np.where(seen, x, 0.0), starts) if len(x) else x
            count = np.add.reduceat(seen.astype(np.int64), starts) if len(x) else x
            values[col] = np.where(count > 0, total, np.nan)
    code, ordinal = code[starts], ordinal[starts]
    first = np.searchsorted(code, np.arange(len(uniques) + 1))
    return ClinicPeriodSums(np.asarray(uniques, dtype=object), code, ordinal, index.freq, first, values)


def cumsum_rows(matrix: np.ndarray) -> np.ndarray:
    """Cumulative sum along each row with Kahan compensation, as pandas' grouped cumsum and sum.

    A loop over the columns, each step vectorised over the rows (one row per clinic):
    round-off does not grow with the length of the history, and the result is the one
    ``groupby(...).cumsum()`` gives, to the last bit.

    Examples
    --------
    >>> cumsum_rows(np.array([[1.0, 2.0, 3.0], [0.1, 0.2, 0.3]])).round(12).tolist()
    [[1.0, 3.0, 6.0], [0.1, 0.3, 0.6]]
    """
    out = np.empty_like(matrix)
    total = np.zeros(matrix.shape[0])
    carry = np.zeros(matrix.shape[0])
    for j in range(matrix.shape[1]):
        y = matrix[:, j] - carry
        t = total + y
        carry = (t - total) - y
        total = t
        out[:, j] = t
    return out


def _trailing_sum(values: np.ndarray, gid: np.ndarray, ordinal: np.ndarray, window: int) -> np.ndarray:
    """Sum over the trailing ``window`` rows of the same group, cumulatively.

    NaN unless the window holds ``window`` consecutive periods of the group, all
    reported. ``gid`` and ``ordinal`` must be sorted (group, then period).
    """
    n = len(values)
    valid = ~np.isnan(values)
    cs = np.concatenate([[0.0], np.cumsum(np.where(valid, values, 0.0))])
    cn = np.concatenate([[0], np.cumsum(valid)])
    idx = np.arange(n)
    start = idx - window + 1
    inside = start >= 0
    start_c = np.where(inside, start, 0)
    same = inside & (gid[start_c] == gid) & (ordinal - ordinal[start_c] == window - 1)
    total = cs[idx + 1] - cs[start_c]
    count = cn[idx + 1] - cn[start_c]
    return np.where(same & (count == window), total, np.nan)


def _column(frame: pd.DataFrame, name: str, *, fill: bool) -> np.ndarray:
    """A measure as float array; absent -> 0 (fill) or NaN; NaN -> 0 when fill."""
    if name not in frame.columns:
        return np.zeros(len(frame)) if fill else np.full(len(frame), np.nan)
    values = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float)
    return np.nan_to_num(values, nan=0.0) if fill else values


# ----------------------------------------------------------------------------- flow balance
def flow_balance(weekly: pd.DataFrame, *, window_weeks: int = 4) -> pd.DataFrame:
    """Inflow, outflow and net balance per stage of the flow chain, per clinic and period.

    For each clinic (group), period *t* (a week or a month) and stage::

        first-visit queue:  inflow  = referrals_in - referrals_forwarded
                            outflow = new_visits + purchased_new_visits
                                      + removals_new_visit_other
        treatment queue:    inflow  = treatment_decisions
                            outflow = operations_elective + purchased_operations
                                      + removals_treatment_other
        net[t]         = inflow[t] - outflow[t]                          [patients/period]
        net_rolling[t] = mean of net over periods t-window+1 .. t        [patients/period]
        queue_change   = queue[t] - queue[t-1]                           [patients]
        residual       = queue_change - net                              [patients]

    A positive net balance means the queue grows. The residual is 0 for data derived
    from a patient-level extract (the conservation identity); on reported aggregates a
    non-zero residual points to registration gaps or removals that are not reported.

    Parameters
    ----------
    weekly : DataFrame
        Canonical long frame: ``clinic``, [``group``], ``period`` (weekly W-SUN or
        monthly M) and the measures above [count/period]. A stage is reported when its ``required`` measures
        (:data:`kps_analysis.stages.STAGES`: referrals_in and new_visits; treatment_decisions and
        operations_elective) are columns; the other flow measures count as 0 when absent
        or NaN. The queues (``queue_new_visit``, ``queue_treatment``) are optional.
    window_weeks : int, optional
        Length of the trailing window, the current period included; default 4 [weeks].
        On monthly data it is converted by days (4 weeks = 1 month, 13 weeks = 3 months).
        The rolling value is NaN until the window holds that many consecutive, reported
        periods.

    Returns
    -------
    DataFrame
        ``clinic``, [``group``], ``period``, ``stage`` ("new_visit" | "treatment"),
        ``inflow``, ``outflow``, ``net``, ``net_rolling`` [patients/period], ``queue``,
        ``queue_change``, ``residual`` [patients] (NaN where the queue is not reported
        or the previous week is missing); sorted by clinic, [group], period, stage.

    Raises
    ------
    ValueError
        If ``weekly`` is not a canonical frame, no stage can be formed, or
        ``window_weeks`` < 1.

    Examples
    --------
    Referrals 30/week, 2 forwarded, 25 new visits and 1 removal: the first-visit queue
    grows by 30 - 2 - 25 - 1 = 2 per week; the reported queue agrees (residual 0):

    >>> p = pd.period_range("2024-01-01", periods=3, freq="W-SUN")
    >>> w = pd.DataFrame({"clinic": "a", "period": p, "referrals_in": 30.0,
    ...                   "referrals_forwarded": 2.0, "new_visits": 25.0,
    ...                   "removals_new_visit_other": 1.0, "queue_new_visit": [100.0, 102, 104]})
    >>> b = flow_balance(w, window_weeks=2)
    >>> b[["inflow", "outflow", "net", "net_rolling", "residual"]].to_dict("list")  # doctest: +NORMALIZE_WHITESPACE
    {'inflow': [28.0, 28.0, 28.0], 'outflow': [26.0, 26.0, 26.0], 'net': [2.0, 2.0, 2.0],
     'net_rolling': [nan, 2.0, 2.0], 'residual': [nan, 0.0, 0.0]}

    References
    ----------
    .. [1] Sveriges Kommuner och Regioner (SKR), Kapacitets- och produktionsstyrning:
       balans mellan inflöde och produktion.
    """
    _check_weekly(weekly)
    window, _ = _window_periods(weekly, window_weeks, "window_weeks")
    keys = _keys(weekly)
    stages = [s for s, spec in STAGES.items() if all(c in weekly.columns for c in spec.required)]
    if not stages:
        needed = " or ".join(str(list(spec.required)) for spec in STAGES.values())
        raise ValueError(f"weekly has no complete stage of the flow chain: needs columns {needed}")
    frame, gid, ordinal = _sorted(weekly, keys)
    previous_ok = np.concatenate([[False], (gid[1:] == gid[:-1]) & (np.diff(ordinal) == 1)])

    parts = []
    for stage in stages:  # two stages at most; each is vectorised over all clinics and weeks
        spec = STAGES[stage]
        inflow = _column(frame, spec.inflow, fill=False)
        inflow = inflow - sum((_column(frame, c, fill=True) for c in spec.inflow_minus), np.zeros(len(frame)))
        outflow = sum(_column(frame, c, fill=(c not in spec.required)) for c in spec.outflow)
        net = inflow - outflow
        queue = _column(frame, spec.queue, fill=False)
        change = np.where(previous_ok, queue - np.concatenate([[np.nan], queue[:-1]]), np.nan)
        part = frame[keys + ["period"]].copy()
        part["stage"] = stage
        part["inflow"] = inflow
        part["outflow"] = outflow
        part["net"] = net
        part["net_rolling"] = _trailing_sum(net, gid, ordinal, window) / window
        part["queue"] = queue
        part["queue_change"] = change
        part["residual"] = change - net
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(keys + ["period", "stage"], kind="stable").reset_index(drop=True)


# ----------------------------------------------------------------------------- conversion rates
def conversion_rates(weekly: pd.DataFrame, *, window_weeks: int = 52) -> pd.DataFrame:
    """Conversion rates of the flow chain per clinic, as ratios of sums over a trailing window.

    Over the last ``window_weeks`` weeks of each clinic's history, using only the weeks
    in which every measure of the rate is reported::

        forwarded_share             = sum referrals_forwarded / sum referrals_in     [-]
        decisions_per_new_visit     = sum treatment_decisions / sum new_visits       [decisions/visit]
        return_visits_per_new_visit = sum return_visits / sum new_visits             [visits/visit]
        bed_days_per_operation      = sum bed_days
                                      / sum (operations_elective + operations_acute) [days/operation]
        no_show_rate                = sum no_shows
                                      / sum (new_visits + return_visits + no_shows)  [-]

    A ratio of sums weights busy weeks by their volume, unlike a mean of weekly
    ratios, and is defined when a single week has a zero denominator. The bed days
    per operation is the average length of stay (*medelvårdtid*) including acute
    operations.

    Parameters
    ----------
    weekly : DataFrame
        Canonical long frame: ``clinic``, [``group``], ``period`` and any of the
        measures above [count/week]. A rate whose measures are not all columns is NaN.
    window_weeks : int, optional
        Trailing window ending at each clinic's last period; default 52 [weeks]
        (12 months on monthly data: the window is converted by days).

    Returns
    -------
    DataFrame
        One row per clinic (group): ``clinic``, [``group``], ``first_period``,
        ``last_period`` (the window), ``weeks`` (``months`` for monthly data: periods
        of history in the window)
        and the five rates above.

    Raises
    ------
    ValueError
        If ``weekly`` is not a canonical frame or ``window_weeks`` < 1.

    Warns
    -----
    UserWarning
        When a denominator sums to 0 over the window (the rate is NaN), or a clinic
        has less history than the window.

    Examples
    --------
    Two weeks: 40 and 60 new visits, 10 and 20 decisions -> 30 / 100 = 0.3 decisions
    per new visit (the mean of the weekly ratios would be 0.29):

    >>> p = pd.period_range("2024-01-01", periods=2, freq="W-SUN")
    >>> w = pd.DataFrame({"clinic": "a", "period": p, "new_visits": [40.0, 60.0],
    ...                   "treatment_decisions": [10.0, 20.0], "referrals_in": [50.0, 50.0],
    ...                   "referrals_forwarded": [5.0, 0.0]})
    >>> r = conversion_rates(w, window_weeks=2)
    >>> r[["weeks", "forwarded_share", "decisions_per_new_visit"]].to_dict("records")
    [{'weeks': 2, 'forwarded_share': 0.05, 'decisions_per_new_visit': 0.3}]
    """
    _check_weekly(weekly)
    window, kind = _window_periods(weekly, window_weeks, "window_weeks")
    unit = "weeks" if kind == "W" else "months"
    keys = _keys(weekly)
    frame, gid, ordinal = _sorted(weekly, keys)
    last = pd.Series(ordinal).groupby(gid).transform("max").to_numpy()
    first_seen = pd.Series(ordinal).groupby(gid).transform("min").to_numpy()
    inside = ordinal > last - window
    sub = frame.loc[inside, keys + ["period"]].reset_index(drop=True)
    sub_gid = gid[inside]
    n_groups = int(gid.max()) + 1 if len(gid) else 0

    head = sub.groupby(sub_gid, sort=True).agg(first_period=("period", "min"), last_period=("period", "max"),
                                                weeks=("period", "size"))
    out = sub.groupby(sub_gid, sort=True)[keys].first().join(head)
    out["weeks"] = out["weeks"].astype(np.int64)
    out = out.rename(columns={"weeks": unit})

    short = pd.Series(last - first_seen + 1 < window).groupby(gid).first()
    if short.any():
        names = out.loc[short[short].index, "clinic"].astype(str).tolist()
        warnings.warn(f"conversion_rates: less than {window} {unit} of history for {names[:5]}"
                      f"{' and more' if len(names) > 5 else ''}; rates use the {unit} there are",
                      UserWarning, stacklevel=2)

    zero = []
    for rate, (num_cols, den_cols) in _RATES.items():  # five named rates, each vectorised over clinics
        if not all(c in frame.columns for c in num_cols + den_cols):
            out[rate] = np.nan
            continue
        num = sum(_column(frame, c, fill=False) for c in num_cols)[inside]
        den = sum(_column(frame, c, fill=False) for c in den_cols)[inside]
        used = ~np.isnan(num) & ~np.isnan(den)
        num_sum = np.bincount(sub_gid[used], weights=num[used], minlength=n_groups)
        den_sum = np.bincount(sub_gid[used], weights=den[used], minlength=n_groups)
        with np.errstate(divide="ignore", invalid="ignore"):
            value = np.where(den_sum > 0, num_sum / np.where(den_sum > 0, den_sum, 1.0), np.nan)
        present = np.bincount(sub_gid[used], minlength=n_groups) > 0
        bad = (present & (den_sum <= 0))[out.index.to_numpy()]
        if bad.any():
            zero.append(f"{rate} ({', '.join(out.loc[bad, 'clinic'].astype(str).unique()[:5])})")
        out[rate] = value[out.index.to_numpy()]
    if zero:
        warnings.warn(f"conversion_rates: denominator 0 over the window for {'; '.join(zero)}; "
                      "those rates are NaN", UserWarning, stacklevel=2)
    return out.reset_index(drop=True)


# ----------------------------------------------------------------------------- projection
class QueueProjection(NamedTuple):
    """Result of :func:`project_queue` for array input; every field has the shape of the
    broadcast inputs (clinics x weeks, or weeks).

    Attributes
    ----------
    queue : ndarray
        Queue at the end of each week [patients].
    outflow : ndarray
        Patients actually seen in-house, min(production, opening + inflow) [patients/week].
    external : ndarray
        Patients actually sent to external providers [patients/week].
    unused_production : ndarray
        In-house production not used because the queue ran empty [patients/week].
    unused_external : ndarray
        Purchased volume not used because the queue ran empty [patients/week].
    """

    queue: np.ndarray
    outflow: np.ndarray
    external: np.ndarray
    unused_production: np.ndarray
    unused_external: np.ndarray


def _is_labelled(x) -> bool:
    return isinstance(x, pd.DataFrame) or (isinstance(x, pd.Series) and x.index.nlevels == 2)


def _wide(x, name) -> pd.DataFrame:
    """Labelled time input -> wide frame (index clinic, columns period)."""
    if isinstance(x, pd.DataFrame):
        return x
    return x.unstack(level=1)


def _check_values(arr: np.ndarray, name: str) -> np.ndarray:
    if arr.dtype.kind == "b" or arr.dtype.kind not in "iuf":
        try:
            arr = arr.astype(float)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be numeric") from None
    arr = arr.astype(float)
    if np.isnan(arr).any():
        raise ValueError(f"{name} has missing values (NaN); give a value for every clinic and week")
    if (arr < 0).any():
        raise ValueError(f"{name} must be >= 0, got {arr[arr < 0].flat[0]:g}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} must be finite")
    return arr


def _prepare(time_inputs: dict, clinic_inputs: dict):
    """Align inputs to (clinics x weeks) arrays.

    ``time_inputs`` vary by week: scalar, 1-D (weeks), 2-D (clinics x weeks), a Series
    indexed by (clinic, period) or a wide DataFrame (index clinic, columns period).
    ``clinic_inputs`` are per clinic: scalar, 1-D (clinics) or a Series indexed by
    clinic (a Series indexed by (clinic, period) or a DataFrame is moved to the time
    inputs). Returns (clinics or None, periods or None, dict of 2-D arrays, squeeze).
    """
    time_inputs = dict(time_inputs)
    clinic_inputs = dict(clinic_inputs)
    for name in list(clinic_inputs):
        value = clinic_inputs[name]
        if _is_labelled(value) or np.ndim(value) == 2:
            time_inputs[name] = clinic_inputs.pop(name)
    labelled = [n for n, v in time_inputs.items() if _is_labelled(v)]
    arrays = {}
    if labelled:
        wides = {n: _wide(time_inputs[n], n) for n in labelled}
        clinics = wides[labelled[0]].index
        periods = wides[labelled[0]].columns
        for w in list(wides.values())[1:]:
            clinics = clinics.union(w.index)
            periods = periods.union(w.columns)
        for name, value in time_inputs.items():
            if name in wides:
                aligned = wides[name].reindex(index=clinics, columns=periods)
                values = aligned.to_numpy(dtype=float, na_value=np.nan)
                if np.isnan(values).any():
                    i, j = np.argwhere(np.isnan(values))[0]
                    raise ValueError(f"{name} has no value for clinic {clinics[i]!r}, period {periods[j]}")
                arrays[name] = values
            else:
                arrays[name] = (np.asarray(value, dtype=float) if not isinstance(value, pd.Series)
                                else value.to_numpy(dtype=float))
        for name, value in clinic_inputs.items():
            if isinstance(value, pd.Series):
                aligned = value.reindex(clinics)
                if aligned.isna().any():
                    raise ValueError(f"{name} has no value for clinic {aligned.index[aligned.isna()][0]!r}")
                arrays[name] = aligned.to_numpy(dtype=float)[:, None]
            else:
                arr = np.asarray(value, dtype=float)
                arrays[name] = arr[:, None] if arr.ndim == 1 else arr
        shape = (len(clinics), len(periods))
        squeeze = False
    else:
        clinics = periods = None
        for name, value in time_inputs.items():
            arr = np.asarray(value.to_numpy() if isinstance(value, pd.Series) else value)
            if arr.ndim > 2:
                raise ValueError(f"{name} must be scalar, 1-D (weeks) or 2-D (clinics x weeks), got {arr.ndim}-D")
            arrays[name] = arr
        for name, value in clinic_inputs.items():
            arr = np.asarray(value.to_numpy() if isinstance(value, pd.Series) else value)
            if arr.ndim > 1:
                raise ValueError(f"{name} must be scalar or 1-D (one value per clinic), got {arr.ndim}-D")
            arrays[name] = arr[:, None] if arr.ndim == 1 else arr
        if all(np.ndim(arrays[n]) == 0 for n in time_inputs):
            raise ValueError(f"at least one of {list(time_inputs)} must have a week axis (1-D or 2-D)")
        squeeze = all(np.ndim(arrays[n]) <= 1 for n in time_inputs) and all(
            np.ndim(clinic_inputs[n]) == 0 for n in clinic_inputs)
        for name in time_inputs:
            if np.ndim(arrays[name]) == 1:
                arrays[name] = arrays[name][None, :]
        try:
            shape = np.broadcast_shapes(*(np.shape(a) for a in arrays.values()))
        except ValueError:
            shapes = {n: np.shape(a) for n, a in arrays.items()}
            raise ValueError(f"inputs do not broadcast to (clinics x weeks): {shapes}") from None
        shape = tuple(shape) if len(shape) == 2 else (1,) * (2 - len(shape)) + tuple(shape)
    out = {}
    for name, arr in arrays.items():
        arr = _check_values(np.asarray(arr), name)
        try:
            out[name] = np.broadcast_to(arr, shape).astype(float)
        except ValueError:
            raise ValueError(f"{name} of shape {arr.shape} does not fit (clinics x weeks) = {shape}") from None
    return clinics, periods, out, squeeze


def _project(opening: np.ndarray, inflow: np.ndarray, production: np.ndarray, external: np.ndarray) -> dict:
    """The queue recursion for (clinics x weeks) arrays, cumulatively (no loop over weeks).

    With S[t] = Q[0] + cumsum(inflow - production - external), the queue floored at 0
    is Q[t] = S[t] - min(0, min over k <= t of S[k]) (the Lindley / Skorokhod
    reflection), which equals the recursion Q[t] = max(0, Q[t-1] + in - out - ext).
    """
    q0 = opening[:, 0]
    s = q0[:, None] + np.cumsum(inflow - production - external, axis=1)
    floor = np.minimum(np.minimum.accumulate(s, axis=1), 0.0)
    queue = np.maximum(s - floor, 0.0)
    start = np.concatenate([q0[:, None], queue[:, :-1]], axis=1)
    available = start + inflow
    served = np.clip(available - queue, 0.0, production + external)  # = min(capacity, available)
    outflow = np.minimum(production, served)                           # in-house first
    external_done = served - outflow
    return {"opening": start, "inflow": inflow, "production": production, "outflow": outflow,
            "unused_production": production - outflow, "external": external,
            "external_outflow": external_done, "unused_external": external - external_done,
            "queue": queue}


def _long(result: dict, clinics, periods, columns) -> pd.DataFrame:
    n, t = result["queue"].shape
    clinic_labels = np.arange(n) if clinics is None else np.asarray(clinics)
    period_labels = np.arange(1, t + 1) if periods is None else np.asarray(periods)
    frame = pd.DataFrame({"clinic": np.repeat(clinic_labels, t), "period": np.tile(period_labels, n)})
    if periods is not None and isinstance(periods, pd.PeriodIndex):
        frame["period"] = pd.PeriodIndex(np.tile(period_labels, n), freq=periods.freq)
    for c in columns:
        frame[c] = result[c].ravel()
    return frame


_QUEUE_COLUMNS = ["opening", "inflow", "production", "outflow", "unused_production", "external",
                  "external_outflow", "unused_external", "queue"]


def project_queue(opening_queue, inflow, production, external=0):
    """Project a queue week by week, floored at zero, for many clinics at once.

    For each clinic and week *t* (in-house production first, then purchases)::

        available[t] = Q[t-1] + inflow[t]                                  [patients]
        outflow[t]   = min(production[t], available[t])                    [patients/week]
        external[t]  = min(external_planned[t], available[t] - outflow[t]) [patients/week]
        Q[t]         = max(0, Q[t-1] + inflow[t] - production[t] - external_planned[t])
        unused_production[t] = production[t] - outflow[t]                  [patients/week]

    so patients are conserved: opening + sum(inflow) - sum(outflow) - sum(external)
    = closing queue. Computed cumulatively, Q[t] = S[t] - min(0, min_k<=t S[k]) with
    S[t] = Q[0] + cumsum(inflow - production - external), with no loop over weeks.

    Parameters
    ----------
    opening_queue : number, 1-D array or Series
        Patients waiting at the start (end of the last observed week), per clinic;
        a Series is indexed by clinic [patients].
    inflow : number, array or labelled
        Patients joining the queue per week: 1-D (weeks), 2-D (clinics x weeks), a
        Series indexed by (clinic, period), or a wide DataFrame (index clinic, columns
        period) [patients/week].
    production : same as inflow
        Patients the clinic can take off the queue per week (capacity or plan)
        [patients/week].
    external : same as inflow, optional
        Patients planned to be sent to external providers per week; default 0
        [patients/week].

    Returns
    -------
    QueueProjection or DataFrame
        For array input a :class:`QueueProjection` (``queue``, ``outflow``,
        ``external``, ``unused_production``, ``unused_external``), each clinics x weeks
        (1-D when every input is a scalar or 1-D). When any of ``inflow``,
        ``production``, ``external`` is labelled (Series by clinic and period, or wide
        DataFrame), a long DataFrame with ``clinic``, ``period``, ``opening``,
        ``inflow``, ``production``, ``outflow``, ``unused_production``, ``external``
        (planned), ``external_outflow`` (done), ``unused_external`` [patients/week]
        and ``queue`` (end of week) [patients].

    Raises
    ------
    ValueError
        Negative, NaN or non-numeric input (the message names the argument), shapes
        that do not broadcast, a labelled input lacking a clinic or week, or no
        argument with a week axis.

    Examples
    --------
    Opening queue 100, inflow 30/week, production 25/week: the queue grows 5 per week.

    >>> project_queue(100, [30, 30, 30], 25).queue.tolist()
    [105.0, 110.0, 115.0]

    Production larger than the queue: the queue floors at 0 and the rest is unused.

    >>> r = project_queue(10, [5, 5], 20)
    >>> r.queue.tolist(), r.outflow.tolist(), r.unused_production.tolist()
    ([0.0, 0.0], [15.0, 5.0], [5.0, 15.0])

    References
    ----------
    .. [1] Lindley, D. V. (1952). The theory of queues with a single server.
       Mathematical Proceedings of the Cambridge Philosophical Society 48(2), 277-289.
    """
    clinics, periods, arrays, squeeze = _prepare(
        {"inflow": inflow, "production": production, "external": external}, {"opening_queue": opening_queue})
    result = _project(arrays["opening_queue"], arrays["inflow"], arrays["production"], arrays["external"])
    if clinics is not None:
        return _long(result, clinics, periods, _QUEUE_COLUMNS)
    fields = {"queue": "queue", "outflow": "outflow", "external": "external_outflow",
              "unused_production": "unused_production", "unused_external": "unused_external"}
    values = {k: (result[v][0] if squeeze else result[v]) for k, v in fields.items()}
    return QueueProjection(**values)


def project_chain(opening_new_visit, opening_treatment, referrals, new_visit_production,
                  operation_production, decision_rate, *, external_new_visits=0,
                  external_operations=0) -> pd.DataFrame:
    """Project the first-visit and treatment queues jointly and name the bottleneck stage.

    Stage 1 (first-visit queue) is :func:`project_queue` with the referrals as inflow.
    The in-house new visits it actually produces feed stage 2 (treatment queue)::

        decisions[t] = decision_rate * new_visits_done[t]                [patients/week]
        load[t]      = inflow[t] / (production[t] + external[t])         [-]
        bottleneck   = the stage with the highest load, if that load > 1, else "none"

    A load above 1 means the stage cannot keep up and its queue grows (once it has
    patients). External first visits leave the chain (the other provider takes the
    patient on), as in the canonical data, where ``purchased_new_visits`` are first
    visits without an in-house decision. Balancing the first stage alone moves the
    queue inside the clinic, to the treatment queue (*inre köer*).

    Parameters
    ----------
    opening_new_visit, opening_treatment : number, 1-D array or Series by clinic
        Patients waiting for a first visit / for treatment at the start [patients].
    referrals : number, array or labelled (see :func:`project_queue`)
        Referrals joining the first-visit queue, net of those forwarded
        [patients/week].
    new_visit_production : number, array or labelled
        New visits the clinic can do per week [patients/week].
    operation_production : number, array or labelled
        Operations (treatments) the clinic can do per week [patients/week].
    decision_rate : number, 1-D array / Series by clinic, or 2-D / labelled by week
        Treatment decisions per in-house new visit (:func:`conversion_rates`
        ``decisions_per_new_visit``) [decisions/visit].
    external_new_visits, external_operations : number, array or labelled, optional
        Purchased first visits / operations per week; default 0 [patients/week].

    Returns
    -------
    DataFrame
        Long frame, one row per clinic, week and stage ("new_visit", "treatment"):
        ``clinic``, ``period`` (labels from labelled input; else clinic 0..n-1 and
        week 1..T), ``stage``, the columns of :func:`project_queue` (``opening``,
        ``inflow``, ``production``, ``outflow``, ``unused_production``, ``external``,
        ``external_outflow``, ``unused_external``, ``queue``), ``queue_change``
        (queue - opening) [patients], ``load`` [-] and ``bottleneck`` (the week's
        bottleneck stage, the same on both rows of a clinic and week).

    Raises
    ------
    ValueError
        As :func:`project_queue`, naming the argument.

    Examples
    --------
    The first stage is balanced (30 in, 30 seen); half of those seen are decided for
    an operation (15/week) but only 10 operations a week are done: the treatment
    queue grows 5 per week and is the bottleneck.

    >>> c = project_chain(100, 50, [30, 30], 30, 10, 0.5)
    >>> cols = ["period", "stage", "inflow", "queue", "load", "bottleneck"]
    >>> c[cols].to_dict("list")  # doctest: +NORMALIZE_WHITESPACE
    {'period': [1, 1, 2, 2], 'stage': ['new_visit', 'treatment', 'new_visit', 'treatment'],
     'inflow': [30.0, 15.0, 30.0, 15.0], 'queue': [100.0, 55.0, 100.0, 60.0], 'load': [1.0, 1.5, 1.0, 1.5],
     'bottleneck': ['treatment', 'treatment', 'treatment', 'treatment']}
    """
    clinics, periods, arrays, _ = _prepare(
        {"referrals": referrals, "new_visit_production": new_visit_production,
         "operation_production": operation_production, "external_new_visits": external_new_visits,
         "external_operations": external_operations},
        {"opening_new_visit": opening_new_visit, "opening_treatment": opening_treatment,
         "decision_rate": decision_rate})
    first = _project(arrays["opening_new_visit"], arrays["referrals"], arrays["new_visit_production"],
                     arrays["external_new_visits"])
    decisions = arrays["decision_rate"] * first["outflow"]
    second = _project(arrays["opening_treatment"], decisions, arrays["operation_production"],
                      arrays["external_operations"])
    loads = []
    for res in (first, second):  # the two stages
        capacity = res["production"] + res["external"]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            load = np.where(capacity > 0, res["inflow"] / np.where(capacity > 0, capacity, 1.0),
                            np.where(res["inflow"] > 0, np.inf, 0.0))
        res["load"] = load
        res["queue_change"] = res["queue"] - res["opening"]
        loads.append(load)
    names = np.array(["new_visit", "treatment"])
    stacked = np.stack(loads)
    worst = names[np.argmax(stacked, axis=0)]
    bottleneck = np.where(stacked.max(axis=0) > 1, worst, "none").ravel()
    columns = _QUEUE_COLUMNS + ["queue_change", "load"]
    parts = []
    for stage, res in zip(names, (first, second)):
        part = _long(res, clinics, periods, columns)
        part.insert(2, "stage", str(stage))
        part["bottleneck"] = bottleneck
        part["_order"] = 0 if stage == "new_visit" else 1
        parts.append(part.reset_index().rename(columns={"index": "_row"}))
    out = pd.concat(parts, ignore_index=True).sort_values(["_row", "_order"], kind="stable")
    out["bottleneck"] = out["bottleneck"].astype(str)
    return out.drop(columns=["_row", "_order"]).reset_index(drop=True)


def naive_flows(weekly: pd.DataFrame, *, stage: str = "new_visit", horizon_weeks: int = 12,
                trend_weeks: int = 13) -> pd.DataFrame:
    """Inflow and own capacity for the coming periods "if nothing changes" (seasonal naive).

    The same period one year earlier (52 weeks, or 12 months), scaled by the recent trend:

        inflow[k]   = net_inflow[T + k - P] · (Σ net_inflow over the last ``trend`` periods /
                      Σ net_inflow over the same periods a year earlier)   [patients/period]
        capacity[k] = own_production[T + k - P] · (the same ratio for production)

    where ``P`` is 52 (weeks) or 12 (months), ``net_inflow = in - in_minus - other
    removals`` of the stage (see :data:`kps_analysis.stages.STAGES`) and
    ``own_production`` the stage's in-house production (new visits, elective
    operations): what the clinic would face and produce without purchase. On monthly
    data the horizon and the trend window, given in weeks, become months by their days
    (12 weeks = 3 months, 13 weeks = 3 months). This is the baseline of the breach
    projection until the forecast and capacity models replace it.

    Parameters
    ----------
    weekly : DataFrame
        Canonical weekly (W-SUN) or monthly (M) frame, at least a year plus the trend
        window per clinic.
    stage : {"new_visit", "treatment"}
        Which queue.
    horizon_weeks : int
        How far ahead, at most 52 [weeks] (in months on monthly data: converted by days).
    trend_weeks : int
        Window of the trend ratio [weeks] (converted by days on monthly data).

    Returns
    -------
    DataFrame
        ``clinic``, ``stage``, ``week_ahead`` (1..H), ``period`` (the future week),
        ``inflow``, ``capacity`` [patients/week]. Monthly data give ``period_ahead``
        (1..H months) and ``period_days`` (the month's days) instead of ``week_ahead``,
        with ``inflow`` and ``capacity`` in [patients/month]. Clinics without the
        stage's columns or with too short a history are left out (with a warning for
        the latter).

    Examples
    --------
    >>> p = pd.period_range("2023-01-02", periods=70, freq="W-SUN")
    >>> w = pd.DataFrame({"clinic": "a", "period": p, "referrals_in": np.r_[[10.0] * 52, [12.0] * 18],
    ...                   "new_visits": 9.0})
    >>> f = naive_flows(w, horizon_weeks=2)
    >>> f[["week_ahead", "inflow", "capacity"]].values.tolist()
    [[1.0, 12.0, 9.0], [2.0, 12.0, 9.0]]

    Monthly: 12 weeks ahead are 3 months and the 13-week trend window 3 months: the last
    three months (15 + 16 + 17 = 48) against the same months a year earlier (3 + 4 + 5 =
    12) give a ratio of 4, so July 2024 is July 2023's 6 × 4 = 24:

    >>> m = pd.DataFrame({"clinic": "a", "period": pd.period_range("2023-01", periods=18, freq="M"),
    ...                   "referrals_in": np.arange(18.0), "new_visits": 9.0})
    >>> naive_flows(m)[["period_ahead", "period", "period_days", "inflow"]].astype(str).values.tolist()
    [['1', '2024-07', '31', '24.0'], ['2', '2024-08', '31', '28.0'], ['3', '2024-09', '30', '32.0']]
    """
    spec = stage_spec(stage)
    if not 1 <= horizon_weeks <= 52:
        raise ValueError(f"horizon_weeks must be between 1 and 52, got {horizon_weeks!r}")
    kind = period_kind(weekly["period"], "weekly") if "period" in weekly.columns and len(weekly) else "W"
    ahead = "week_ahead" if kind == "W" else "period_ahead"
    columns = ["clinic", "stage", ahead, "period"] + ([] if kind == "W" else ["period_days"]) + ["inflow", "capacity"]
    if not all(c in weekly.columns for c in spec.required):
        return pd.DataFrame(columns=columns)
    year = PERIODS_PER_YEAR[kind]
    trend = periods_for_weeks(trend_weeks, kind)
    horizon = min(periods_for_weeks(horizon_weeks, kind), year)
    minus = [c for c in spec.inflow_minus + (spec.other_removals,) if c in weekly.columns]
    sums = clinic_period_sums(weekly, [spec.inflow, spec.own] + minus)
    net = np.nan_to_num(sums.values[spec.inflow])
    for col in minus:
        net = net - np.nan_to_num(sums.values[col])
    net = np.clip(net, 0.0, None)
    cap = np.nan_to_num(sums.values[spec.own])
    first, n = sums.first[:-1], np.diff(sums.first)
    short = n < year + trend
    if short.any():
        unit = "weeks" if kind == "W" else "months"
        warnings.warn(f"naive_flows: clinics with under {year + trend} {unit} of history left out: "
                      f"{sorted(sums.clinics[short].tolist())}", stacklevel=2)
    keep = np.flatnonzero(~short)
    if len(keep) == 0:
        return pd.DataFrame(columns=columns)
    last = first[keep] + n[keep] - 1  # row of each kept clinic's latest period
    recent = last[:, None] - trend + 1 + np.arange(trend)[None, :]
    ago = recent - year
    with np.errstate(divide="ignore", invalid="ignore"):
        # the sums in period order with Kahan compensation, as pandas sums a group
        y_in = cumsum_rows(net[ago])[:, -1]
        ratio_in = np.where(y_in > 0, cumsum_rows(net[recent])[:, -1] / np.where(y_in > 0, y_in, 1.0), 1.0)
        y_cap = cumsum_rows(cap[ago])[:, -1]
        ratio_cap = np.where(y_cap > 0, cumsum_rows(cap[recent])[:, -1] / np.where(y_cap > 0, y_cap, 1.0), 1.0)
    k = np.arange(1, horizon + 1)
    src = (last - year)[:, None] + k[None, :]  # the same period a year before each coming one
    future = pd.PeriodIndex.from_ordinals((sums.ordinal[src] + year).ravel(), freq=sums.freq)
    out = pd.DataFrame({
        "clinic": np.repeat(sums.clinics[keep], horizon),
        "stage": stage,
        ahead: np.tile(k, len(keep)),
        "period": future,
        "inflow": (net[src] * ratio_in[:, None]).ravel(),
        "capacity": (cap[src] * ratio_cap[:, None]).ravel(),
    })
    if kind != "W":
        out["period_days"] = np.asarray(future.days_in_month, dtype=np.int64)
    return out[columns]


def coming_flows(weekly: pd.DataFrame, *, horizon_weeks: int = 12) -> pd.DataFrame:
    """Inflow and own capacity of both stages for the coming periods, if nothing changes.

    :func:`naive_flows` for each stage the clinics run (a stage
    whose own production is zero throughout, e.g. operations at a visits-only clinic,
    is left out), concatenated: ``clinic``, ``stage``, ``week_ahead``, ``period``,
    ``inflow``, ``capacity`` [patients/week]; monthly data give ``period_ahead`` and
    ``period_days`` instead of ``week_ahead``, flows in [patients/month], and
    ``horizon_weeks`` in months by days (12 weeks = 3 months).
    """
    parts = []
    for stage, spec in STAGES.items():
        own = spec.own
        if own not in weekly.columns:
            continue
        active = weekly.groupby("clinic")[own].transform("sum") > 0
        flows = naive_flows(weekly[active], stage=stage, horizon_weeks=horizon_weeks)
        if len(flows):
            parts.append(flows)
    if not parts:
        return naive_flows(weekly.iloc[:0], horizon_weeks=horizon_weeks)  # the columns, no rows
    return pd.concat(parts, ignore_index=True)


def stage_loads(flows: pd.DataFrame) -> pd.DataFrame:
    """Load per stage over the coming weeks, and which stage is the bottleneck.

        load = Σ inflow / Σ capacity over the weeks in ``flows``     [-]

    A load above 1 means own capacity falls short of the inflow: the plan buys the rest or
    the queue grows; the stage with the highest load above 1 is the bottleneck (inre kö:
    balancing one stage but not the next only moves the queue inside the clinic).

    Parameters
    ----------
    flows : DataFrame
        ``clinic``, ``stage``, ``inflow`` and ``capacity`` per week [patients/week]
        (e.g. :func:`naive_flows` of both stages, concatenated, or the weeks of a plan).

    Returns
    -------
    DataFrame
        ``clinic``, ``stage``, ``inflow``, ``capacity`` (sums) [patients], ``load`` [-],
        ``inflow_minus_capacity`` [patients], ``bottleneck`` (bool); of a plan's weeks
        (``period_ahead``, ``queue_start``, ``queue_end``) also the plan's ``queue_change``
        over them [patients] (the purchase and the moves included, so not inflow − capacity).

    Examples
    --------
    >>> f = pd.DataFrame({"clinic": "a", "stage": ["new_visit", "treatment"],
    ...                   "inflow": [100.0, 60.0], "capacity": [100.0, 50.0]})
    >>> stage_loads(f)[["stage", "load", "bottleneck"]].values.tolist()
    [['new_visit', 1.0, False], ['treatment', 1.2, True]]
    """
    for col in ("clinic", "stage", "inflow", "capacity"):
        if col not in flows.columns:
            raise ValueError(f"flows: missing column {col!r}")
    out = flows.groupby(["clinic", "stage"], as_index=False)[["inflow", "capacity"]].sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        out["load"] = np.where(out["capacity"] > 0, out["inflow"] / out["capacity"].where(out["capacity"] > 0), np.inf)
    out["inflow_minus_capacity"] = out["inflow"] - out["capacity"]
    if {"period_ahead", "queue_start", "queue_end"} <= set(flows.columns):
        ends = flows.sort_values("period_ahead").groupby(["clinic", "stage"])
        change = (ends["queue_end"].last() - ends["queue_start"].first()).rename("queue_change").reset_index()
        out = out.merge(change, on=["clinic", "stage"], how="left")
    top = out.groupby("clinic")["load"].transform("max")
    out["bottleneck"] = (out["load"] == top) & (out["load"] > 1)
    # on a tie the earlier stage of the flow is the bottleneck
    first = out[out["bottleneck"]].groupby("clinic").head(1).index
    out["bottleneck"] = out.index.isin(first)
    return out
