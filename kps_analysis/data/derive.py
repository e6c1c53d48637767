"""Deriving weekly/monthly flows, queues and waiting-time snapshots from an extract.

Part of :mod:`kps_analysis.data`; see its docstring for the canonical frames.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import DataError
from .period_labels import _parse_periods, _weeks_from_days
from .schema import _GUARANTEE_DAYS, _NEVER, DATE_COLUMNS, DERIVED_MEASURES
from .waiting_list import _order_problems

# ============================================================================ derivation


def _require(frame, columns, name):
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"{name} must be a pandas DataFrame, got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} lacks column(s) {missing}")


def _date_column(extract: pd.DataFrame, column: str, name: str = "extract") -> pd.Series:
    """An extract's date column as naive datetime64 (parsed if it is not yet)."""
    s = extract[column]
    if not pd.api.types.is_datetime64_any_dtype(s.dtype):
        try:
            s = pd.to_datetime(s)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{name}: column {column!r} is not dates: {exc}") from None
    if getattr(s.dt, "tz", None) is not None:
        s = s.dt.tz_localize(None)
    return s


def _days(extract: pd.DataFrame, column: str, name: str = "extract") -> np.ndarray:
    """Day numbers since 1970-01-01 (int64); missing dates -> _NEVER."""
    if column not in extract.columns:
        return np.full(len(extract), _NEVER, dtype=np.int64)
    arr = _date_column(extract, column, name).to_numpy(dtype="datetime64[D]")
    return np.where(np.isnat(arr), _NEVER, arr.astype(np.int64))


def _flag(extract: pd.DataFrame, column: str) -> np.ndarray:
    if column not in extract.columns:
        return np.zeros(len(extract), dtype=bool)
    s = extract[column]
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.fillna(False).to_numpy(dtype=bool)
    return s.fillna(0).astype(float).to_numpy() != 0


def _as_day(value, name: str, *, end: bool) -> np.int64:
    """A date-like, Period or ISO-week label -> day number (first/last day for periods)."""
    if isinstance(value, str):
        try:
            value = pd.Timestamp(value)
        except ValueError:
            try:
                value = _parse_periods(pd.Series([value]), "period", path=name, column=name,
                                       rows=np.array([1]))[0]
            except DataError as exc:
                raise ValueError(f"{name}: {exc.reason}") from None
    if isinstance(value, pd.Period):
        stamp = value.end_time if end else value.start_time
    else:
        try:
            stamp = pd.Timestamp(value)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{name}: cannot read {value!r} as a date: {exc}") from None
        if stamp is pd.NaT:
            raise ValueError(f"{name} is NaT")
    return np.int64(np.datetime64(stamp.normalize().date(), "D").astype(np.int64))


# ---------------------------------------------------------------------------- counting in parts
_NEVER_P = np.int64(2**40)  # period number standing for "never"

# The counts kept per clinic (and group) and period; queues are cumulative sums of joins
# minus leaves.  "long" = the 90-day counts: a patient joins them in the period holding
# day 91 of waiting and leaves with the queue (patient-chosen waits never join).
_COMPONENTS = ("ref", "dec", "rem_forwarded", "rem_new_other", "rem_treatment", "rem_after",
               "visit", "visit_external", "treated", "treated_external",
               "out_new", "out_treatment", "long_new", "long_new_out", "long_treatment", "long_treatment_out")
_C = {name: i for i, name in enumerate(_COMPONENTS)}


def _period_of_days(days: np.ndarray, freq: str) -> np.ndarray:
    """Period number of day numbers (days since 1970-01-01; ``_NEVER`` -> ``_NEVER_P``).

    Weeks: 0 = the ISO week of Monday 1970-01-05; months: 0 = January 1970 (pandas'
    monthly ordinals).

    Examples
    --------
    >>> _period_of_days(np.array([4, 10, 11, _NEVER]), "W").tolist()
    [0, 0, 1, 1099511627776]
    >>> _period_of_days(np.array([0, 31, 365]), "M").tolist()
    [0, 1, 12]
    """
    days = np.asarray(days, dtype=np.int64)
    never = days >= _NEVER
    if freq == "W":
        out = (days - 4) // 7
    else:
        safe = np.where(never, 0, days)
        out = safe.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    out[never] = _NEVER_P
    return out


def _check_freq(freq) -> str:
    f = str(freq).upper()
    if f in ("W", "W-SUN", "WEEK", "WEEKLY"):
        return "W"
    if f in ("M", "MS", "ME", "MONTH", "MONTHLY"):
        return "M"
    raise ValueError(f"freq must be 'W' (ISO weeks) or 'M' (months), got {freq!r}")


class PeriodCounts:
    """Weekly or monthly flows and queues of an extract, added up part by part.

    Each part (a frame of canonical extract rows) adds its events to a grid of counts
    per clinic (and group) and period (``np.bincount``); :meth:`frame` turns the grid into
    the canonical long frame (queues as cumulative sums).  The result does not depend
    on how the rows are split into parts: parts of any size, in any order, give the same
    frame as the whole extract at once.

    Parameters
    ----------
    freq : {"W", "M"}
        ISO weeks (``W-SUN`` periods) or calendar months.
    name : str
        Name of the input in messages.
    """

    def __init__(self, freq: str = "W", name: str = "extract"):
        self.freq = _check_freq(freq)
        self.name = name
        self.keys: list[str] | None = None  # "clinic" (and "group")
        self._codes: dict = {}  # key tuple -> row of the grid
        self._grid = np.zeros((len(_COMPONENTS), 0, 0), dtype=np.int64)
        self._lo = 0  # period number of the grid's first column
        self.first_referral = None  # earliest referral period
        self.last_event = None  # latest period of any date
        self.rows = 0
        self._missing_referrals = 0
        self._bad_order = 0
        self._first_bad = None  # (column, message, row index)

    # -- keys
    def _lookup(self, tuples) -> np.ndarray:
        """Grid rows of key tuples (new ones appended)."""
        table = np.empty(len(tuples), dtype=np.int64)
        for i, t in enumerate(tuples):
            table[i] = self._codes.setdefault(tuple(str(x) for x in t), len(self._codes))
        return table

    def _key_codes(self, frame: pd.DataFrame) -> np.ndarray:
        keys = ["clinic"] + (["group"] if "group" in frame.columns else [])
        self._set_keys(keys)
        combined = np.zeros(len(frame), dtype=np.int64)
        uniques = []
        for k in keys:
            c, u = pd.factorize(frame[k])
            if (c < 0).any():
                raise ValueError(f"{self.name}: column {k!r} has missing values")
            combined = combined * max(len(u), 1) + c
            uniques.append(np.asarray(u, dtype=object))
        return self._combine(combined, uniques)

    def _combine(self, combined: np.ndarray, uniques: list) -> np.ndarray:
        local, seen = pd.factorize(combined)
        rest = np.asarray(seen, dtype=np.int64)
        parts = []
        for u in reversed(uniques):
            parts.append(u[rest % len(u)])
            rest = rest // len(u)
        tuples = list(zip(*reversed(parts))) if parts else []
        if len(uniques) == 1:
            tuples = [(t[0], "") for t in tuples]
        return self._lookup(tuples)[local] if len(local) else np.zeros(0, dtype=np.int64)

    def _set_keys(self, keys: list) -> None:
        if self.keys is None:
            self.keys = keys
        elif keys != self.keys:
            raise ValueError(f"{self.name}: every part must have the columns {self.keys}")

    # -- adding
    def add(self, frame: pd.DataFrame, *, offset: int = 0) -> None:
        """Add a part of a canonical extract frame (``clinic``, ``referral_date`` required).

        ``offset`` is the index of the part's first row in the whole extract (for messages).
        Rows without a referral date or with dates in an impossible order are counted and
        reported by :meth:`frame`, as :func:`weekly_from_waiting_list` does.
        """
        _require(frame, ("clinic", "referral_date"), self.name)
        n = len(frame)
        days = [_days(frame, c, self.name) for c in DATE_COLUMNS]
        ref, vis, dec, trt, rem = days
        missing = ref == _NEVER
        self._missing_referrals += int(missing.sum())
        latest = np.where(trt != _NEVER, trt, np.where(dec != _NEVER, dec, np.where(vis != _NEVER, vis, ref)))
        bad = (vis < ref) | (dec < vis) | (trt < dec) | (rem < latest)
        if bad.any():
            self._bad_order += int(bad.sum())
            if self._first_bad is None:
                idx = np.flatnonzero(bad)
                problems = _order_problems({c: x[idx] for c, x in zip(DATE_COLUMNS, days)})
                (column, message), mask = next((k, v) for k, v in problems.items() if v.any())
                self._first_bad = (column, message, offset + int(idx[np.flatnonzero(mask)[0]]))
        code = self._key_codes(frame)
        self.rows += n
        if self._missing_referrals or self._bad_order or not n:
            return  # the result is refused anyway; keep checking the rest
        self.add_days(code, ref, vis, dec, trt, rem, forwarded=_equals(frame, "removal_reason", "forwarded"),
                      external=_flag(frame, "external"), chosen=_flag(frame, "patient_chosen_wait"))

    def add_parts(self, parts, *, group: bool) -> None:
        """Add rows read and checked by the extract reader (:class:`_ExtractParts`).

        ``group``: the result has a group column (the file has one); a part whose group
        cells are all empty counts under the group "" (the reader refuses such a file).
        """
        if not len(parts):
            return
        self._set_keys(["clinic", "group"] if group else ["clinic"])
        c_codes, c_texts = parts.clinic
        c_codes = np.where(c_codes < 0, c_codes + len(c_texts), c_codes)
        if parts.group is not None and group:
            g_codes, g_texts = parts.group
            g_codes = np.where(g_codes < 0, g_codes + len(g_texts), g_codes)
            code = self._combine(c_codes.astype(np.int64) * len(g_texts) + g_codes,
                                 [np.asarray(c_texts, dtype=object), np.asarray(g_texts, dtype=object)])
        else:
            used = np.flatnonzero(np.bincount(c_codes, minlength=len(c_texts)))  # texts no row holds: no key
            lut = np.zeros(len(c_texts), dtype=np.int64)
            lut[used] = self._lookup([(c_texts[u], "") for u in used])
            code = lut[c_codes]
        days = []
        for col in DATE_COLUMNS:
            d = parts.dates[col].astype("datetime64[D]")
            x = d.view(np.int64)
            days.append(np.where(np.isnat(d), _NEVER, x))
        r_codes, r_table = parts.reason
        forwarded = np.array([t == "forwarded" for t in r_table], dtype=bool)[r_codes]
        self.rows += len(parts)
        self.add_days(code, *days, forwarded=forwarded, external=parts.flags["external"],
                      chosen=parts.flags["patient_chosen_wait"])

    def add_days(self, code, ref, vis, dec, trt, rem, *, forwarded, external, chosen) -> None:
        """Add rows given as grid rows ``code`` and day numbers (``_NEVER`` = no date),
        in an order already checked (every date on or after the referral)."""
        freq, never = self.freq, _NEVER_P
        p_ref, p_vis, p_dec, p_trt, p_rem = (_period_of_days(x, freq) for x in (ref, vis, dec, trt, rem))
        lo = int(p_ref.min())
        latest = max(int(np.max(x, initial=-1, where=x != _NEVER)) for x in (ref, vis, dec, trt, rem))
        hi_dates = int(_period_of_days(np.array([latest]), freq)[0])
        self.first_referral = lo if self.first_referral is None else min(self.first_referral, lo)
        self.last_event = hi_dates if self.last_event is None else max(self.last_event, hi_dates)
        has_dec = dec != _NEVER
        wait = _GUARANTEE_DAYS + 1
        # every event falls on or after the referral; the 90-day counts up to 91 days after the latest date
        hi = max(hi_dates, int(_period_of_days(np.array([latest + wait]), freq)[0]))
        n_keys = len(self._codes)
        self._reserve(n_keys, lo, hi)
        width = hi - lo + 2  # the last column takes the events that never happen
        row = code * width - lo

        def count(name, period, category=None, n_cat=1):
            index = np.minimum(period, hi + 1)
            index += row
            if category is not None:
                index += category * (n_keys * width)
            counts = np.bincount(index, minlength=n_cat * n_keys * width).reshape(n_cat, n_keys, width)
            first = _C[name]
            self._grid[first:first + n_cat, :n_keys, lo - self._lo:hi - self._lo + 1] += counts[:, :, :-1]

        # one event array at a time, so that a part needs a few arrays of its length at once
        count("ref", p_ref)
        count("dec", p_dec)
        kind = np.where(vis == _NEVER, np.where(forwarded, 0, 1), np.where(has_dec & (trt == _NEVER), 2, 3))
        count("rem_forwarded", p_rem, kind, 4)
        del kind
        count("visit", p_vis, (external & ~has_dec).astype(np.int64), 2)
        count("treated", p_trt, external.astype(np.int64), 2)
        del p_ref
        out_new = np.minimum(p_vis, p_rem)
        count("out_new", out_new)
        long = np.where(chosen, never, _period_of_days(ref + wait, freq))
        count("long_new", long)
        np.maximum(long, out_new, out=long)
        count("long_new_out", long)
        del out_new, p_vis
        out_trt = np.minimum(p_trt, p_rem)
        np.maximum(out_trt, p_dec, out=out_trt)
        out_trt[~has_dec] = never
        count("out_treatment", out_trt)
        del p_trt, p_rem, p_dec
        long = np.where(chosen | ~has_dec, never, _period_of_days(np.where(has_dec, dec + wait, _NEVER), freq))
        count("long_treatment", long)
        np.maximum(long, out_trt, out=long)
        count("long_treatment_out", long)

    def _reserve(self, n_keys: int, lo: int, hi: int) -> None:
        grid = self._grid
        old_keys, old_width = grid.shape[1], grid.shape[2]
        if old_width == 0:
            new_lo, new_hi = lo, hi
        else:
            new_lo, new_hi = min(lo, self._lo), max(hi, self._lo + old_width - 1)
        if n_keys <= old_keys and new_lo == self._lo and new_hi - new_lo + 1 == old_width:
            return
        keys_cap = max(n_keys, 2 * old_keys if n_keys > old_keys else old_keys)
        new = np.zeros((len(_COMPONENTS), keys_cap, new_hi - new_lo + 1), dtype=np.int64)
        if old_width:
            new[:, :old_keys, self._lo - new_lo:self._lo - new_lo + old_width] = grid
        self._grid, self._lo = new, new_lo

    # -- result
    def frame(self, *, start=None, end=None) -> pd.DataFrame:
        """The canonical long frame: ``clinic`` (``group``), ``period`` and the derived measures.

        Rows run per clinic (and group) from its first referral period (or ``start``) to
        ``end`` (default: the period of the latest date), as
        :func:`weekly_from_waiting_list` documents.
        """
        if self._missing_referrals:
            raise ValueError(f"{self.name}: {self._missing_referrals} row(s) without referral_date")
        if self._bad_order:
            column, message, row = self._first_bad
            raise ValueError(f"{self.name}: {self._bad_order} row(s) with dates in an impossible order, e.g. "
                             f"{message} (column {column!r}, row index {row}); read the file with "
                             "read_waiting_list to see the rows")
        keys = self.keys or ["clinic"]
        if end is None:
            last = self.last_event if self.last_event is not None else 0
        else:
            last = int(self._period_of_day(_as_day(end, "end", end=True)))
        first_all = self.first_referral if self.first_referral is not None else last
        if start is not None:
            first_all = int(self._period_of_day(_as_day(start, "start", end=False)))
            if last < first_all:
                raise ValueError(f"end ({end}) lies before start ({start})")
        n_periods = max(last - first_all + 1, 0)
        # order the keys as sorted text (clinic, then group)
        tuples = list(self._codes)
        order = sorted(range(len(tuples)), key=lambda i: tuples[i])
        n_keys = len(order)
        grid = self._grid[:, order, :] if n_keys else np.zeros((len(_COMPONENTS), 0, 0), dtype=np.int64)
        # columns: everything before the first period, then one per period (later ones dropped)
        cols = np.zeros((len(_COMPONENTS), n_keys, n_periods + 1), dtype=np.int64)
        if grid.shape[2]:
            g_periods = self._lo + np.arange(grid.shape[2])
            before = g_periods < first_all
            cols[:, :, 0] = grid[:, :, before].sum(axis=2)
            inside = (g_periods >= first_all) & (g_periods <= last)
            cols[:, :, 1 + (g_periods[inside] - first_all)] = grid[:, :, inside]

        def c(name):
            return cols[_C[name]]

        def level(delta):  # cumulative sum along each row, the "before" column included
            return np.cumsum(delta, axis=-1)

        result = {
            "referrals_in": c("ref"),
            "referrals_forwarded": c("rem_forwarded"),
            "removals_new_visit_other": c("rem_new_other"),
            "new_visits": c("visit"),
            "treatment_decisions": c("dec"),
            "removals_treatment_other": c("rem_treatment"),
            "operations_elective": c("treated"),
            "queue_new_visit": level(c("ref") - c("out_new")),
            "queue_treatment": level(c("dec") - c("out_treatment")),
            "waiting_over_90_new_visit": level(c("long_new") - c("long_new_out")),
            "waiting_over_90_treatment": level(c("long_treatment") - c("long_treatment_out")),
            "purchased_new_visits": c("visit_external"),
            "purchased_operations": c("treated_external"),
        }
        if start is None and n_keys:
            seen = result["referrals_in"][:, 1:] > 0
            first_col = np.where(seen.any(axis=1), seen.argmax(axis=1), n_periods)
        else:
            first_col = np.zeros(n_keys, dtype=np.int64)
        lengths = n_periods - first_col
        total = int(lengths.sum())
        key_of_row = np.repeat(np.arange(n_keys), lengths)
        col = np.repeat(first_col - np.concatenate([[0], np.cumsum(lengths)])[:-1], lengths) + np.arange(total)
        key_values = np.array(tuples, dtype=object).reshape(len(tuples), 2)[order] if n_keys \
            else np.zeros((0, 2), dtype=object)
        frame = pd.DataFrame({k: pd.Series(key_values[key_of_row, j], dtype=object).astype(str)
                              for j, k in enumerate(keys)})
        ordinals = first_all + col
        if self.freq == "W":
            frame["period"] = _weeks_from_days((7 * ordinals + 4).astype("datetime64[D]"))
        else:
            frame["period"] = pd.PeriodIndex.from_ordinals(ordinals, freq="M")
        for m in DERIVED_MEASURES:
            frame[m] = result[m][key_of_row, col + 1].astype(np.float64)
        return frame

    def _period_of_day(self, day) -> int:
        return int(_period_of_days(np.array([day], dtype=np.int64), self.freq)[0])


def periods_from_waiting_list(extract: pd.DataFrame, *, freq: str = "W", start=None, end=None,
                              chunk_rows: int = 2_000_000) -> pd.DataFrame:
    """Weekly or monthly flows and queues derived exactly from an extract frame.

    :func:`weekly_from_waiting_list` with ``freq="W"``; with
    ``freq="M"`` the same definitions per calendar month (queues at the month's last
    day, the 90-day counts of those who have waited more than 90 days then).  The frame
    is counted ``chunk_rows`` rows at a time, so that the working arrays stay small.

    Parameters
    ----------
    extract : pandas.DataFrame
        Canonical extract (``clinic``, ``referral_date`` required).
    freq : {"W", "M"}
        ISO weeks or calendar months.
    start, end : date-like, Period or label, optional
        First and last period (default: each clinic's first referral period; the period
        of the latest date). [date]
    chunk_rows : int
        Rows counted at a time. [rows]

    Returns
    -------
    pandas.DataFrame
        ``clinic`` (``group``), ``period`` (``W-SUN`` or ``M``) and
        :data:`DERIVED_MEASURES` [patients/period; queues: patients].

    Examples
    --------
    >>> extract = pd.DataFrame({"clinic": ["A", "A"],
    ...     "referral_date": pd.to_datetime(["2024-01-02", "2024-01-30"]),
    ...     "first_visit_date": pd.to_datetime(["2024-02-10", None])})
    >>> monthly = periods_from_waiting_list(extract, freq="M", end="2024-05-31")
    >>> monthly["period"].astype(str).tolist()
    ['2024-01', '2024-02', '2024-03', '2024-04', '2024-05']
    >>> monthly["queue_new_visit"].tolist()
    [2.0, 1.0, 1.0, 1.0, 1.0]
    >>> monthly["waiting_over_90_new_visit"].tolist()  # 30 April: 91 days since 30 January
    [0.0, 0.0, 0.0, 1.0, 1.0]
    """
    _require(extract, ("clinic", "referral_date"), "extract")
    counts = PeriodCounts(freq)
    step = max(int(chunk_rows), 1)
    for lo in range(0, len(extract), step):
        counts.add(extract.iloc[lo:lo + step], offset=lo)
    if not len(extract):
        counts.add(extract)
    return counts.frame(start=start, end=end)


def weekly_from_waiting_list(extract, *, start=None, end=None) -> pd.DataFrame:
    """Weekly flows and queues derived exactly from a patient-level extract.

    With W an ISO week ending on Sunday ``end``:
    ``referrals_in`` = referrals in W; ``referrals_forwarded`` /
    ``removals_new_visit_other`` = removals in W before a first visit, reason
    ``"forwarded"`` / any other; ``new_visits`` = first visits in W except those bought
    externally without a decision; ``purchased_new_visits`` = those bought;
    ``treatment_decisions`` = decisions in W; ``operations_elective`` /
    ``purchased_operations`` = treatments in W after a decision, in-house / external;
    ``removals_treatment_other`` = removals in W after a decision without treatment;
    ``queue_new_visit`` = referred by ``end``, neither seen nor removed by ``end``;
    ``queue_treatment`` = decided by ``end``, neither treated nor removed by ``end``;
    ``waiting_over_90_*`` = those of the queue waiting more than 90 days at ``end``,
    excluding patient-chosen waits.  Hence, week by week,
    ``queue_new_visit[t] - queue_new_visit[t-1] = referrals_in - referrals_forwarded -
    removals_new_visit_other - new_visits - purchased_new_visits`` and
    ``queue_treatment[t] - queue_treatment[t-1] = treatment_decisions -
    operations_elective - purchased_operations - removals_treatment_other``.

    Computed without loops over patients or weeks: each event is binned to its week
    (``np.bincount``) and a queue is the cumulative sum of +1 in the week a patient
    joins and -1 in the week the patient leaves; for the 90-day counts the +1 falls in
    the week containing the 91st day of waiting.  The rows are counted in parts of two million
    (:class:`PeriodCounts`, which also counts months), so the working
    arrays stay small; ten million rows take seconds.

    Parameters
    ----------
    extract : pandas.DataFrame
        Canonical extract (:func:`read_waiting_list`): ``clinic``, ``referral_date``
        required; ``group``, the other date columns, ``removal_reason``, ``external``,
        ``patient_chosen_wait`` used when present.
    start : date-like, Period or ISO week label, optional
        First week (default: each clinic's first referral week); queues count the
        patients who joined earlier. [date]
    end : date-like, Period or ISO week label, optional
        Last week (default: the week of the latest date in the extract). [date]

    Returns
    -------
    pandas.DataFrame
        ``clinic``, ``group`` (if the extract has it), ``period`` (``W-SUN``) and
        :data:`DERIVED_MEASURES` as float64 [patients/week; queues: patients], one row
        per clinic (and group) and every week from its first week to ``end``.

    Raises
    ------
    ValueError
        If ``extract`` lacks ``clinic`` or ``referral_date``, has missing referral dates
        or clinics, dates in an impossible order, or ``end`` lies before ``start``.

    Examples
    --------
    Two patients referred in ISO week 2024-W01; one is seen in W02, the other still
    waits 13 weeks later (more than 90 days):

    >>> extract = pd.DataFrame({"clinic": ["A", "A"],
    ...     "referral_date": pd.to_datetime(["2024-01-02", "2024-01-03"]),
    ...     "first_visit_date": pd.to_datetime(["2024-01-10", None])})
    >>> weekly = weekly_from_waiting_list(extract, end="2024-04-07")
    >>> weekly["queue_new_visit"].tolist()[:3], weekly["new_visits"].tolist()[:3]
    ([2.0, 1.0, 1.0], [0.0, 1.0, 0.0])
    >>> weekly["waiting_over_90_new_visit"].tolist()[-2:]  # W13 ends 31 March: 88 days
    [0.0, 1.0]
    """
    return periods_from_waiting_list(extract, freq="W", start=start, end=end)


def _equals(extract: pd.DataFrame, column: str, value: str) -> np.ndarray:
    if column not in extract.columns:
        return np.zeros(len(extract), dtype=bool)
    return extract[column].eq(value).fillna(False).to_numpy(dtype=bool)


def waiting_snapshot(extract, at) -> pd.DataFrame:
    """Patients waiting at the end of day ``at``, with their waiting time so far.

    A patient waits for a first visit when referred on or before ``at`` and neither seen
    nor removed by ``at``; for treatment when decided on or before ``at`` and neither
    treated nor removed by ``at``.  ``wait_days = at - referral_date`` (first visit) or
    ``at - decision_date`` (treatment).

    Parameters
    ----------
    extract : pandas.DataFrame
        Canonical extract (:func:`read_waiting_list`).
    at : date-like or Period
        The day (a Period: its last day). [date]

    Returns
    -------
    pandas.DataFrame
        ``clinic``, ``group`` (if present), ``priority``, ``stage`` (``"new_visit"`` or
        ``"treatment"``), ``wait_days`` (int64) [days], ``patient_chosen_wait``; no
        patient identifiers.  Sorted by clinic, group, stage and longest wait first.

    Raises
    ------
    ValueError
        If ``extract`` lacks ``clinic`` or ``referral_date`` or ``at`` is not a date.

    Examples
    --------
    >>> extract = pd.DataFrame({"clinic": ["A", "A"], "priority": ["1", "2"],
    ...     "referral_date": pd.to_datetime(["2024-01-02", "2024-01-03"]),
    ...     "first_visit_date": pd.to_datetime(["2024-01-10", None])})
    >>> snap = waiting_snapshot(extract, "2024-04-02")
    >>> snap[["priority", "stage", "wait_days"]].values.tolist()
    [['2', 'new_visit', 90]]
    """
    _require(extract, ("clinic", "referral_date"), "extract")
    day = _as_day(at, "at", end=True)
    ref = _days(extract, "referral_date")
    vis, dec, trt, rem = (_days(extract, c) for c in DATE_COLUMNS[1:])
    waiting_new = (ref <= day) & (np.minimum(vis, rem) > day)
    waiting_trt = (dec <= day) & (np.minimum(trt, rem) > day)
    keys = ["clinic"] + (["group"] if "group" in extract.columns else [])
    parts = []
    for stage, mask, entry in (("new_visit", waiting_new, ref), ("treatment", waiting_trt, dec)):
        idx = np.flatnonzero(mask)
        part = extract[keys].iloc[idx].reset_index(drop=True)
        part["priority"] = (extract["priority"].iloc[idx].reset_index(drop=True)
                            if "priority" in extract.columns else pd.Series([None] * len(idx), dtype=object))
        part["stage"] = stage
        part["wait_days"] = (day - entry[idx]).astype(np.int64)
        part["patient_chosen_wait"] = _flag(extract, "patient_chosen_wait")[idx]
        parts.append(part)
    snap = pd.concat(parts, ignore_index=True)
    snap = snap.assign(_neg=-snap["wait_days"]).sort_values(keys + ["stage", "_neg"], kind="mergesort")
    return snap.drop(columns="_neg").reset_index(drop=True)
