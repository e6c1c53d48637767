"""Validating a canonical weekly frame: findings naming clinic, period and column.

Part of :mod:`kps_analysis.data`; see its docstring for the canonical frames.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from .derive import _require
from .errors import DataError, _period_labels
from .schema import (
    CONSERVATION_IDENTITIES,
    COUNT_MEASURES,
    MAX_COUNT_PER_PERIOD,
    MEASURES,
    PLAUSIBLE_FROM,
    sorted_canonical,
)

# ============================================================================ validation
_FINDING_COLUMNS = ("severity", "clinic", "period", "column", "message")
# Zeros are suspicious in activity and queues; not in the 90-day counts (a clinic may
# catch up), free slots (fully booked) or plans (planned closures).
_ZERO_RUN_MEASURES = tuple(m for m in MEASURES if not m.startswith(("waiting_over_90", "planned_"))
                           and m != "available_slots")


def validate(frame, *, source=None, today=None, tolerance=0.5, min_zero_run=3, zero_median=5.0,
             plausible_from=None, max_count_per_period=None) -> pd.DataFrame:
    """Data-quality findings for a canonical weekly or monthly frame.

    Errors: duplicate rows (same clinic, group and period), negative counts, non-whole
    counts (all measures but ``bed_days``), outcome values in periods that start after
    ``today`` (``planned_*`` may lie in the future), periods that end before
    ``plausible_from``, counts above ``max_count_per_period``, and a measure column
    with no value in any row (a blank column would pass unnoticed here and fail the
    analyses that need it).  Warnings: missing periods (gaps in
    each clinic's sequence), queues that do not reconcile with inflow and outflow (when
    every column of an identity in :data:`CONSERVATION_IDENTITIES` is present: the
    change in queue differs from inflow - outflow by more than ``tolerance``), runs of at
    least ``min_zero_run`` zero periods in an activity measure or queue whose median is
    above ``zero_median`` (possible registration gaps; runs within ISO weeks 26-34 or
    July, the summer closure, are not reported; the 90-day counts, free slots and plans
    may well be zero), and the findings the reader recorded in
    ``frame.attrs["findings"]`` (unknown columns).

    Parameters
    ----------
    frame : pandas.DataFrame
        Canonical frame (``clinic``, optional ``group``, ``period``, measures).
    source : str or path-like, optional
        Name of the data source, kept in ``findings.attrs["source"]``.
    today : date-like, optional
        Reference date for "in the future" (default: today). [date]
    tolerance : float, default 0.5
        Allowed difference in the conservation check. [patients]
    min_zero_run : int, default 3
        Shortest run of zeros reported [weeks]; monthly data: the months these weeks
        span, at least one (a month of zeros is already a gap). [weeks]
    zero_median : float, default 5
        Runs of zeros are reported only for measures whose median exceeds this.
        [count/period]
    plausible_from : date-like, optional
        Earliest plausible date (default :data:`PLAUSIBLE_FROM`, 1990-01-01). [date]
    max_count_per_period : float, optional
        Largest plausible count (default :data:`MAX_COUNT_PER_PERIOD`). [count/period]

    Returns
    -------
    pandas.DataFrame
        ``severity`` ("error" | "warning"), ``clinic``, ``period`` (label such as
        ``"2024-W05"`` or ``"2024-01"``; None for whole-file findings), ``column``,
        ``message``; errors first.

    Raises
    ------
    ValueError
        If ``frame`` lacks ``clinic`` or ``period`` or ``period`` is not a Period column.

    Examples
    --------
    >>> frame = pd.DataFrame({"clinic": "A",
    ...     "period": pd.PeriodIndex(["2024-01-07", "2024-01-14", "2024-01-28"], freq="W-SUN"),
    ...     "new_visits": [10.0, -2.0, 12.0]})
    >>> validate(frame, today="2024-06-01")[["severity", "period", "column"]].values.tolist()
    [['error', '2024-W02', 'new_visits'], ['warning', '2024-W03', 'period']]
    """
    rows = _SortedRows.of(frame)
    limits = {"most": float(MAX_COUNT_PER_PERIOD if max_count_per_period is None else max_count_per_period),
              "earliest": pd.Timestamp(plausible_from if plausible_from is not None else PLAUSIBLE_FROM).normalize(),
              "today": pd.Timestamp(today if today is not None else pd.Timestamp.today()).normalize()}
    found = [*_duplicates_and_gaps(rows), *_value_findings(rows, limits["most"]),
             *_early_and_future(rows, limits["earliest"], limits["today"]),
             *_conservation_findings(rows, tolerance),
             *_zero_run_findings(rows, min_zero_run=min_zero_run, zero_median=zero_median)]
    found += [pd.DataFrame([{k: item.get(k) for k in _FINDING_COLUMNS}])
              for item in frame.attrs.get("findings", []) or []]
    return _findings_frame(found, source)


@dataclasses.dataclass
class _SortedRows:
    """A canonical frame sorted by clinic (group) and period, with what every check uses.

    ``same_key[i]``: row i has the clinic (and group) of row i - 1; ``step[i]``: periods
    from row i - 1 to row i (0 for the first row); ``labels``: period labels;
    ``prefix[i]``: "group <name>: " or "".
    """

    data: pd.DataFrame
    keys: list
    measures: list
    labels: np.ndarray
    weekly: bool
    prefix: _GroupPrefix
    same_key: np.ndarray
    step: np.ndarray

    @classmethod
    def of(cls, frame) -> _SortedRows:
        """Check the frame's shape (``ValueError``), sort it, work out the shared arrays."""
        _require(frame, ("clinic", "period"), "frame")
        if not isinstance(frame["period"].dtype, pd.PeriodDtype):
            raise ValueError("frame: column 'period' must hold pandas Periods (W-SUN or M)")
        keys = ["clinic"] + (["group"] if "group" in frame.columns else [])
        data = sorted_canonical(frame, keys)
        group_text = (data["group"].astype(str).to_numpy(dtype=object) if "group" in data.columns
                      else np.full(len(data), "", dtype=object))
        ordinal = data["period"].array.asi8
        same_key = np.zeros(len(data), dtype=bool)
        if len(data):
            same_key[1:] = np.all([_same_as_previous(data[k]) for k in keys], axis=0)
        step = np.zeros(len(data), dtype=np.int64)
        step[1:] = ordinal[1:] - ordinal[:-1]
        return cls(data, keys, [m for m in MEASURES if m in frame.columns], _period_labels(data["period"]),
                   data["period"].dtype.freq.freqstr.startswith("W"), _GroupPrefix(group_text), same_key, step)

    @property
    def unit(self) -> str:
        return "week" if self.weekly else "month"

    def values(self, column: str) -> np.ndarray:
        """A measure column as float64, missing as NaN [count/period]."""
        return self.data[column].to_numpy(dtype=float, na_value=np.nan)

    def prefixed(self, text):
        """A message function: the row's group prefix, then ``text`` (a str or a function of the row)."""
        return lambda idx: [self.prefix[i] + (text(i) if callable(text) else text) for i in idx]

    def findings(self, mask, severity, column, message) -> list[pd.DataFrame]:
        """Findings for the rows of ``mask`` (a list of none or one frame); ``message``: text,
        an array, or a function of the row positions giving their texts (worked out for
        those rows only)."""
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return []
        idx = np.flatnonzero(mask)
        if callable(message):
            message = np.asarray(message(idx), dtype=object)
        elif not isinstance(message, str):
            message = np.asarray(message, dtype=object)[idx]
        return [pd.DataFrame({
            "severity": severity,
            "clinic": self.data["clinic"].to_numpy(dtype=object)[idx],
            "period": self.labels[idx],
            "column": column if isinstance(column, str) else np.asarray(column, dtype=object)[idx],
            "message": message,
        })]


def _same_as_previous(values: pd.Series) -> np.ndarray:
    """``values[1:] == values[:-1]`` element by element, compared as codes of the distinct
    values (a column of texts is not turned into millions of Python strings)."""
    codes = pd.factorize(values)[0]
    same = codes[1:] == codes[:-1]
    missing = np.flatnonzero((codes[1:] < 0) | (codes[:-1] < 0))
    if missing.size:  # missing values compare as numpy compares them (None == None, NaN != NaN)
        objects = values.iloc[np.union1d(missing, missing + 1)]
        lookup = dict(zip(objects.index, objects.to_numpy(dtype=object)))
        index = values.index
        same[missing] = [lookup[index[i + 1]] == lookup[index[i]] for i in missing]
    return same


def _duplicates_and_gaps(rows: _SortedRows) -> list[pd.DataFrame]:
    """Errors for duplicate rows (same clinic, group and period); warnings for missing periods."""
    data, unit, step = rows.data, rows.unit, rows.step
    dup = data.duplicated(rows.keys + ["period"], keep="first").to_numpy()
    found = rows.findings(dup, "error", "period", rows.prefixed(f"duplicate row for this {unit}"))
    gap = rows.same_key & (step > 1)
    if gap.any():
        idx = np.flatnonzero(gap)
        first_missing = _period_labels(pd.PeriodIndex(data["period"].iloc[idx - 1]) + 1)
        last_missing = _period_labels(pd.PeriodIndex(data["period"].iloc[idx]) - 1)
        found.append(pd.DataFrame({
            "severity": "warning",
            "clinic": data["clinic"].to_numpy(dtype=object)[idx],
            "period": first_missing,
            "column": "period",
            "message": [f"{p}{unit} {a} missing" if m == 1 else f"{p}{m} {unit}s missing ({a}..{b})"
                        for p, m, a, b in zip(rows.prefix[idx], step[idx] - 1, first_missing, last_missing)],
        }))
    return found


def _value_findings(rows: _SortedRows, most: float) -> list[pd.DataFrame]:
    """Errors for negative and non-whole counts, counts above ``most`` [count/period] and
    measure columns with no value in any row."""
    found = []
    for m in rows.measures:
        v = rows.values(m)
        found += rows.findings(v < 0, "error", m, rows.prefixed(lambda i, v=v: f"negative count {v[i]:g}"))
        if m in COUNT_MEASURES:
            frac = np.isfinite(v) & (np.abs(v - np.round(v)) > 1e-9)
            found += rows.findings(frac, "error", m, rows.prefixed(lambda i, v=v: f"{v[i]:g} is not a whole number"))
    for m in rows.measures:
        v = rows.values(m)
        found += rows.findings(v > most, "error", m, rows.prefixed(
            lambda i, v=v: f"{v[i]:g} is more than the plausible maximum of {most:g} "
                           f"per {rows.unit} (parameter max_count_per_period)"))
        if len(v) and np.isnan(v).all():
            found.append(pd.DataFrame([{"severity": "error", "clinic": None, "period": None, "column": m,
                                        "message": "the column has no value in any row (every cell is blank): "
                                                   "fill it in or delete the column"}]))
    return found


def _early_and_future(rows: _SortedRows, earliest: pd.Timestamp, today: pd.Timestamp) -> list[pd.DataFrame]:
    """Errors for periods that end before ``earliest`` and periods that start after ``today``
    with outcome values (``planned_*`` may lie in the future)."""
    data, unit = rows.data, rows.unit
    if not len(data):
        return []
    early = (data["period"].dt.end_time < earliest).to_numpy()
    found = rows.findings(early, "error", "period", rows.prefixed(
        f"{unit} ends before {earliest.date()} (the earliest plausible date, parameter plausible_from)"))
    outcome = [m for m in rows.measures if not m.startswith("planned_")]
    if not outcome:
        return found
    starts = data["period"].dt.start_time.to_numpy()
    future = (starts > today.to_datetime64()) & data[outcome].notna().any(axis=1).to_numpy()
    return found + rows.findings(future, "error", "period",
                                 rows.prefixed(f"{unit} lies after {today.date()} but has outcome values"))


def _conservation_findings(rows: _SortedRows, tolerance: float) -> list[pd.DataFrame]:
    """Warnings where a queue's change differs from inflow - outflow by more than
    ``tolerance`` [patients] (identities of :data:`CONSERVATION_IDENTITIES` whose every column
    is present)."""
    found = []
    data = rows.data
    for queue, (inflow, outflow) in CONSERVATION_IDENTITIES.items():
        if not all(c in data.columns for c in (queue, *inflow, *outflow)):
            continue
        q = rows.values(queue)
        net = data[list(inflow)].to_numpy(dtype=float, na_value=np.nan).sum(axis=1) \
            - data[list(outflow)].to_numpy(dtype=float, na_value=np.nan).sum(axis=1)
        change = np.full(len(data), np.nan)
        change[1:] = q[1:] - q[:-1]
        diff = change - net
        bad = rows.same_key & (rows.step == 1) & np.isfinite(diff) & (np.abs(diff) > tolerance)
        if bad.any():
            msg = np.empty(len(data), dtype=object)
            msg[bad] = [f"{p}queue changed by {c:+g} but inflow - outflow = {f:+g} (difference {d:+g})"
                        for p, c, f, d in zip(rows.prefix[bad], change[bad], net[bad], diff[bad])]
            found += rows.findings(bad, "warning", queue, msg)
    return found


def _zero_run_findings(rows: _SortedRows, *, min_zero_run: int, zero_median: float) -> list[pd.DataFrame]:
    """Warnings for runs of at least ``min_zero_run`` zero weeks [weeks] (monthly data: the
    months these weeks span) in a measure whose median is above ``zero_median``
    [count/period], outside the summer closure (ISO weeks 26-34, July)."""
    data, unit, labels = rows.data, rows.unit, rows.labels
    measures = [m for m in rows.measures if m in _ZERO_RUN_MEASURES]
    if not measures or not len(data):
        return []
    if rows.weekly:
        iso_week = data["period"].dt.start_time.dt.isocalendar()["week"].to_numpy(dtype=np.int64)
        summer = (iso_week >= 26) & (iso_week <= 34)
    else:
        summer = data["period"].dt.month.to_numpy() == 7
    # the run length is given in weeks: for months, the months those weeks span (3 weeks:
    # one month of zeros is already a gap in a monthly file)
    min_run = min_zero_run if rows.weekly else max(1, int(np.ceil(min_zero_run * 7 / 30.4375)))
    key_id = np.cumsum(~rows.same_key)
    found = []
    for m in measures:
        v = rows.values(m)
        median = pd.Series(v).groupby(key_id).transform("median").to_numpy()
        zero = (v == 0) & (median > zero_median)
        if not zero.any():
            continue
        starts_run = zero & ~(np.concatenate([[False], zero[:-1]]) & rows.same_key & (rows.step == 1))
        run = pd.DataFrame({"run": np.cumsum(starts_run)[zero], "i": np.flatnonzero(zero), "summer": summer[zero]})
        agg = run.groupby("run").agg(first=("i", "min"), last=("i", "max"), n=("i", "size"),
                                     summer=("summer", "all"))
        agg = agg[(agg["n"] >= min_run) & ~agg["summer"]]
        if agg.empty:
            continue
        mask = np.zeros(len(data), dtype=bool)
        mask[agg["first"].to_numpy()] = True
        msg = np.empty(len(data), dtype=object)
        msg[agg["first"].to_numpy()] = [
            f"{rows.prefix[f]}{n} {unit}s of zeros ({labels[f]}..{labels[last]}) where the median is "
            f"{median[f]:g}: possible registration gap"
            for f, last, n in zip(agg["first"], agg["last"], agg["n"])]
        found += rows.findings(mask, "warning", m, msg)
    return found


def _findings_frame(found: list[pd.DataFrame], source) -> pd.DataFrame:
    """The findings as one frame of :data:`_FINDING_COLUMNS`, errors first (stable)."""
    if found:
        findings = pd.concat([f.astype(object) for f in found], ignore_index=True)
        order = findings["severity"].map({"error": 0, "warning": 1}).to_numpy()
        findings = findings.iloc[np.argsort(order, kind="mergesort")].reset_index(drop=True)
    else:
        findings = pd.DataFrame({c: pd.Series([], dtype=object) for c in _FINDING_COLUMNS})
    findings = findings[list(_FINDING_COLUMNS)]
    findings.attrs["source"] = None if source is None else str(source)
    return findings


class _GroupPrefix:
    """``prefix[i]``: "group <name>: " for a row with a group, else "" (also for an index
    array or mask: an object array), worked out only for the rows asked for."""

    def __init__(self, group_text: np.ndarray) -> None:
        self.group_text = group_text

    def __getitem__(self, i):
        if np.ndim(i) == 0:
            g = self.group_text[i]
            return f"group {g}: " if g != "" else ""
        picked = self.group_text[i]
        return np.array([f"group {g}: " if g != "" else "" for g in picked], dtype=object)


def raise_for_errors(findings, source=None, *, max_listed=10):
    """Raise one :class:`DataError` summarising the errors among ``findings``.

    Parameters
    ----------
    findings : pandas.DataFrame
        Output of :func:`validate`.
    source : str or path-like, optional
        File or source named in the message (default: ``findings.attrs["source"]``).
    max_listed : int, default 10
        Errors spelled out in the message; the rest are counted.

    Returns
    -------
    pandas.DataFrame
        ``findings`` unchanged when there is no error (warnings do not raise).

    Raises
    ------
    DataError
        When at least one finding has severity ``"error"``.

    Examples
    --------
    >>> findings = pd.DataFrame({"severity": ["error"], "clinic": ["A"], "period": ["2024-W02"],
    ...                          "column": ["new_visits"], "message": ["negative count -2"]})
    >>> raise_for_errors(findings, "a.csv")
    Traceback (most recent call last):
    ...
    kps_analysis.data.DataError: a.csv: 1 error: A 2024-W02 new_visits: negative count -2
    """
    if source is None:
        source = findings.attrs.get("source")
    errors = findings[findings["severity"] == "error"]
    if errors.empty:
        return findings
    items = []
    for row in errors.head(max_listed).itertuples(index=False):
        where = " ".join(str(x) for x in (row.clinic, row.period, row.column) if x is not None and x == x)
        items.append(f"{where}: {row.message}" if where else str(row.message))
    more = f"; and {len(errors) - max_listed} more" if len(errors) > max_listed else ""
    raise DataError(f"{len(errors)} error{'s' if len(errors) > 1 else ''}: " + "; ".join(items) + more,
                    path=source)
