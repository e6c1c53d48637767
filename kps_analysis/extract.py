"""Patient-level waiting-list extracts at national scale: read in parts, aggregated in bounded memory.

:func:`kps_analysis.data.read_waiting_list` reads a whole extract into one frame, one
row per referral (it needs about 340 bytes per row).  A register extract of 100 million
rows does not fit that way, and needs no such frame to be aggregated:
:func:`aggregate_waiting_list` streams the file in parts of ``chunk_rows`` rows
(Parquet row batches with only the columns used, a large UTF-8 or Windows-1252 CSV through
Arrow's streaming reader), checks every part with the same code and the same messages as
:func:`~kps_analysis.data.read_waiting_list`, and adds each part's counts per clinic (and
group) and period to a small grid (:class:`PeriodCounts`).  Memory is bounded by the
part size and the grid (clinics x periods), not by the file.  The duplicate check
(one patient id twice for one clinic and referral date) spills a 64-bit hash and the
row number of each row to temporary files in 64 buckets and compares bucket by bucket;
a repeated hash (a duplicate, or a collision) is confirmed exactly by a second read of
the rows concerned.

Counting is exact and equal to :func:`~kps_analysis.data.weekly_from_waiting_list` on the
whole frame (which uses the same :class:`PeriodCounts`); periods are ISO weeks (``W``)
or calendar months (``M``).  :func:`extract_or_aggregate` tells an extract from a
weekly/monthly aggregate file by its header, for ``kps validate FILE``.

Why Arrow and numpy rather than DuckDB: measured in ``benchmarks/bench_extract.py``
(figures in ``benchmarks/README.md``).
"""

from __future__ import annotations

import csv
import codecs
import os
import re
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from . import data as _d
from .data import DataError

__all__ = ["aggregate_waiting_list", "periods_from_waiting_list", "extract_or_aggregate", "PeriodCounts",
           "iter_waiting_list"]

CHUNK_ROWS = 250_000
"""Rows read and checked at a time by :func:`aggregate_waiting_list` [rows].  A quarter of a
million keeps the peak within twice DuckDB's for the same aggregation (1.55x on 10 M rows;
a million rows: 2.85x, for about a third less time); see ``benchmarks/README.md`` (extract)."""

_NEVER = _d._NEVER  # day number standing for "no date"
_NEVER_P = np.int64(2**40)  # period number standing for "never"
_GUARANTEE_DAYS = _d._GUARANTEE_DAYS  # waiting more than this counts [days]

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
        reported by :meth:`frame`, as :func:`~kps_analysis.data.weekly_from_waiting_list` does.
        """
        _d._require(frame, ("clinic", "referral_date"), self.name)
        n = len(frame)
        days = [_d._days(frame, c, self.name) for c in _d._DATE_COLUMNS]
        ref, vis, dec, trt, rem = days
        missing = ref == _NEVER
        self._missing_referrals += int(missing.sum())
        latest = np.where(trt != _NEVER, trt, np.where(dec != _NEVER, dec, np.where(vis != _NEVER, vis, ref)))
        bad = (vis < ref) | (dec < vis) | (trt < dec) | (rem < latest)
        if bad.any():
            self._bad_order += int(bad.sum())
            if self._first_bad is None:
                idx = np.flatnonzero(bad)
                problems = _d._order_problems({c: x[idx] for c, x in zip(_d._DATE_COLUMNS, days)})
                (column, message), mask = next((k, v) for k, v in problems.items() if v.any())
                self._first_bad = (column, message, offset + int(idx[np.flatnonzero(mask)[0]]))
        code = self._key_codes(frame)
        self.rows += n
        if self._missing_referrals or self._bad_order or not n:
            return  # the result is refused anyway; keep checking the rest
        self.add_days(code, ref, vis, dec, trt, rem, forwarded=_d._equals(frame, "removal_reason", "forwarded"),
                      external=_d._flag(frame, "external"), chosen=_d._flag(frame, "patient_chosen_wait"))

    def add_parts(self, parts, *, group: bool) -> None:
        """Add rows read and checked by the extract reader (``data._ExtractParts``).

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
        for col in _d._DATE_COLUMNS:
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
        :func:`~kps_analysis.data.weekly_from_waiting_list` documents.
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
            last = int(self._period_of_day(_d._as_day(end, "end", end=True)))
        first_all = self.first_referral if self.first_referral is not None else last
        if start is not None:
            first_all = int(self._period_of_day(_d._as_day(start, "start", end=False)))
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
            frame["period"] = _d._weeks_from_days((7 * ordinals + 4).astype("datetime64[D]"))
        else:
            frame["period"] = pd.PeriodIndex.from_ordinals(ordinals, freq="M")
        for m in _d.DERIVED_MEASURES:
            frame[m] = result[m][key_of_row, col + 1].astype(np.float64)
        return frame

    def _period_of_day(self, day) -> int:
        return int(_period_of_days(np.array([day], dtype=np.int64), self.freq)[0])


def periods_from_waiting_list(extract: pd.DataFrame, *, freq: str = "W", start=None, end=None,
                              chunk_rows: int = 2_000_000) -> pd.DataFrame:
    """Weekly or monthly flows and queues derived exactly from an extract frame.

    :func:`~kps_analysis.data.weekly_from_waiting_list` with ``freq="W"``; with
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
        :data:`~kps_analysis.data.DERIVED_MEASURES` [patients/period; queues: patients].

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
    _d._require(extract, ("clinic", "referral_date"), "extract")
    counts = PeriodCounts(freq)
    step = max(int(chunk_rows), 1)
    for lo in range(0, len(extract), step):
        counts.add(extract.iloc[lo:lo + step], offset=lo)
    if not len(extract):
        counts.add(extract)
    return counts.frame(start=start, end=end)


# ============================================================================ reading in parts
def _header_index(raw: pd.DataFrame) -> int:
    """Position of the header row among the first rows, by the rule of ``data._load_table``:
    the first row with two known headers, one of them the referral date; else the row
    with the most known headers; else the first non-empty row."""
    first_nonempty, most_known = None, (1, None)
    for i in range(min(30, raw.shape[0])):
        cells = list(raw.iloc[i])
        if first_nonempty is None and any(_d._present(c) for c in cells):
            first_nonempty = i
        roles = _d._header_roles(cells, _d._EXTRACT_LOOKUP)
        known = sum(r is not None for r in roles)
        if known >= 2 and "referral_date" in roles:
            return i
        if known > most_known[0]:
            most_known = (known, i)
    return most_known[1] if most_known[1] is not None else (first_nonempty or 0)


def _csv_head(path: Path):
    """``(separator, width, head rows as text cells, encoding)`` of a UTF-8 or Windows-1252
    CSV file that Arrow can stream, or None (UTF-16, a ``sep=`` line, a file of another kind)."""
    with open(path, "rb") as f:
        head = f.read(262_144)
    if not head or _d._file_kind(head[:8]) is not None:
        return None
    body = head[len(codecs.BOM_UTF8):] if head.startswith(codecs.BOM_UTF8) else head
    if b"\x00" in body or head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return None
    encoding = "utf8"
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(body) - 3:  # Swedish Excel's "CSV (semicolon)": Windows-1252
            if head.startswith(codecs.BOM_UTF8):
                return None
            text, encoding = body.decode("cp1252", errors="replace"), "cp1252"
        else:
            text = body[:exc.start].decode("utf-8")
    if re.match(r"[ \t]*sep=", text[:20], flags=re.IGNORECASE):
        return None
    lines = text.splitlines()[:-1] if len(head) == 262_144 else text.splitlines()
    sample = [line for line in lines[:300] if line.strip()][:200]
    if not sample:
        return None
    sep, width = _d._sniff_separator(sample)
    cells = list(csv.reader(lines[:30], delimiter=sep))
    raw = pd.DataFrame([r + [""] * (width - len(r)) for r in cells], dtype=object) if cells else pd.DataFrame()
    return sep, width, raw, encoding


class _Source:
    """An extract file as parts: ``layout`` (from the header and the first rows) and
    :meth:`parts` yielding ``(data, rows)`` with only the columns the layout uses."""

    def __init__(self, path: Path, *, chunk_rows: int, sheet=None, max_bytes=None, layout_kw=None):
        self.path = path
        self.chunk_rows = max(int(chunk_rows), 1)
        self.layout_kw = layout_kw or {}
        _d._check_regular_file(path, max_bytes)
        suffix = path.suffix.lower()
        self.kind = "whole"
        if suffix in (".parquet", ".pq"):
            self._open_parquet()
        elif suffix in (".csv", ".txt", ".tsv", ".tab") and self._open_csv():
            pass
        else:  # a workbook, or a CSV Arrow cannot stream: read whole (the general reader's checks)
            table = _d._load_table(path, sheet=sheet, lookup=_d._EXTRACT_LOOKUP, anchors=("referral_date",),
                                   dictionary=True, max_bytes=max_bytes)
            self._whole = table
            self.layout = _d._extract_layout(table, **self.layout_kw, stacklevel=5)

    # -- Parquet
    def _open_parquet(self):
        path = self.path
        size = path.stat().st_size
        with path.open("rb") as f:
            head = f.read(4096)
            f.seek(max(size - 4, 0))
            tail = f.read(4)
        if not head:
            raise DataError("the file is empty", path=path)
        if not head.startswith(b"PAR1"):
            kind = _d._file_kind(head) or ("a text file (CSV?)" if _d._looks_like_text(head) else None)
            what = f"this is {kind}, not" if kind else "this is not"
            raise DataError(f"{what} a Parquet file; rename it to what it is", path=path)
        if tail != b"PAR1":
            raise DataError("the Parquet file is incomplete (it ends before its footer: cut short while "
                            "copying or writing?); copy or export it again", path=path)
        try:
            self._dictionary = _d._few_valued_text_columns(path)
            parquet = pq.ParquetFile(path)
            names = [str(n) for n in parquet.schema_arrow.names]
            first = next(parquet.iter_batches(batch_size=min(self.chunk_rows, 5000)), None)
        except Exception as exc:  # pyarrow raises ArrowInvalid, OSError and others
            raise DataError(f"cannot read as Parquet: {exc}", path=path) from None
        sample = self._pandas(first) if first is not None else pd.DataFrame(columns=range(len(names)))
        sample.columns = range(len(names))
        self.kind = "parquet"
        self.layout = _d._extract_layout(_d._Table(path, names, sample, np.arange(2, len(sample) + 2), ","),
                                         **self.layout_kw, stacklevel=5)
        self._names = names

    @staticmethod
    def _pandas(batch) -> pd.DataFrame:
        def mapper(t):
            return _d._TEXT_DTYPE if t in (pa.string(), pa.large_string()) else None
        return batch.to_pandas(types_mapper=mapper)

    def _used_positions(self) -> list[int]:
        used = set(self.layout.roles.values())
        if self.layout.pid_pos is not None:
            used.add(self.layout.pid_pos)
        return sorted(used)

    def _parquet_parts(self):
        positions = self._used_positions()
        names = [self._names[p] for p in positions]
        try:
            # pre_buffer would keep the raw bytes of every row group read: memory growing with the file
            parquet = pq.ParquetFile(self.path, read_dictionary=[n for n in self._dictionary if n in names],
                                     pre_buffer=False)
            batches = parquet.iter_batches(batch_size=self.chunk_rows, columns=names)
            row = 2
            for batch in batches:
                frame = self._pandas(batch)
                frame.columns = positions
                yield frame, np.arange(row, row + len(frame))
                row += len(frame)
        except (pa.ArrowException, OSError) as exc:
            raise DataError(f"cannot read as Parquet: {exc}", path=self.path) from None

    # -- CSV
    def _open_csv(self) -> bool:
        if os.stat(self.path).st_size < _d._ARROW_CSV_MIN_BYTES:
            return False
        head = _csv_head(self.path)
        if head is None:
            return False
        sep, width, raw, self._encoding = head
        if raw.empty:
            return False
        at = _header_index(raw)
        headers = ["" if not _d._present(c) else str(c).strip() for c in raw.iloc[at]]
        sample = raw.iloc[at + 1:].reset_index(drop=True).astype(_d._TEXT_DTYPE)
        self.kind = "csv"
        self._sep, self._width, self._header_at = sep, width, at
        self.layout = _d._extract_layout(
            _d._Table(self.path, headers, sample, np.arange(at + 2, at + 2 + len(sample)), ".", at + 1),
            **self.layout_kw, stacklevel=5)
        return True

    def _csv_parts(self):
        positions = self._used_positions()
        names = [str(i) for i in range(self._width)]
        try:
            reader = pacsv.open_csv(
                self.path,
                read_options=pacsv.ReadOptions(column_names=names, skip_rows=self._header_at + 1,
                                               block_size=1 << 23, encoding=self._encoding),
                parse_options=pacsv.ParseOptions(delimiter=self._sep, ignore_empty_lines=False),
                convert_options=pacsv.ConvertOptions(
                    column_types={n: pa.string() for n in names}, include_columns=[names[p] for p in positions],
                    strings_can_be_null=False, quoted_strings_can_be_null=False))
            row = self._header_at + 2
            pending = []
            size = 0
            for batch in reader:
                pending.append(batch)
                size += batch.num_rows
                if size >= self.chunk_rows:
                    yield self._csv_frame(pending, positions, row)
                    row += size
                    pending, size = [], 0
            if pending:
                yield self._csv_frame(pending, positions, row)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, UnicodeDecodeError) as exc:
            raise _ArrowGaveUp(str(exc)) from None

    def _csv_frame(self, batches, positions, row):
        frame = self._pandas(pa.Table.from_batches(batches))
        frame.columns = positions
        return frame, np.arange(row, row + len(frame))

    def parts(self):
        if self.kind == "parquet":
            yield from self._parquet_parts()
        elif self.kind == "csv":
            yield from self._csv_parts()
        else:
            table = self._whole
            for lo in range(0, len(table.data), self.chunk_rows):
                yield (table.data.iloc[lo:lo + self.chunk_rows].reset_index(drop=True),
                       table.rows[lo:lo + self.chunk_rows])


class _ArrowGaveUp(Exception):
    """Arrow's streaming CSV reader cannot read the file (blank lines, rows of unequal width,
    an open quote): it is read again whole by the general reader, which says what is wrong."""


def iter_waiting_list(path, *, clinic=None, sheet=None, today=None, future_tolerance_days=7,
                      plausible_from=None, max_bytes=None, chunk_rows: int = CHUNK_ROWS):
    """Parts of a waiting-list extract, each read and checked as :func:`~kps_analysis.data.read_waiting_list`.

    A generator of canonical extract frames of at most ``chunk_rows`` rows, in file
    order (``patient_id`` as in the file: ids that look like personnummer are *not*
    replaced here, so never let a part leave the process).  Checks that need the whole
    file (the duplicate check, the warnings' counts, "no data rows") are
    :func:`aggregate_waiting_list`'s.  Parameters as :func:`~kps_analysis.data.read_waiting_list`.
    """
    source = _Source(Path(path), chunk_rows=chunk_rows, sheet=sheet, max_bytes=max_bytes,
                     layout_kw=dict(clinic=clinic, today=today, future_tolerance_days=future_tolerance_days,
                                    plausible_from=plausible_from, warn=False))
    notes = _d._ExtractNotes()
    for data, rows in source.parts():
        yield _d._parse_extract(source.layout, data, rows, notes).frame()


class _Duplicates:
    """The duplicate check of :func:`~kps_analysis.data.read_waiting_list` over parts, in
    bounded memory: a 64-bit hash of (clinic, referral date, patient id) and the row of
    every row, spilled to temporary files in 64 buckets by the hash's top bits."""

    BUCKETS = 64

    def __init__(self):
        self._dir = tempfile.TemporaryDirectory(prefix="kps-duplicates-")
        self._files = [open(os.path.join(self._dir.name, f"{b:02d}.bin"), "wb") for b in range(self.BUCKETS)]

    @staticmethod
    def hashes(parts) -> np.ndarray:
        """64-bit hashes of (clinic text, referral date, patient id) of read rows (``data._ExtractParts``)."""
        h = _d._hash_texts(parts.pid)
        referred = parts.dates["referral_date"].view(np.int64)
        h ^= referred.view(np.uint64) * _d._MIX1
        c_codes, c_texts = parts.clinic
        clinic_hash = _d._hash_texts(pd.Series(np.asarray(c_texts, dtype=object), dtype=_d._TEXT_DTYPE))
        return _d._mix(h ^ clinic_hash[c_codes])

    def add(self, parts) -> None:
        h = self.hashes(parts)
        pairs = np.empty((len(h), 2), dtype=np.uint64)
        pairs[:, 0] = h
        pairs[:, 1] = parts.rows.astype(np.uint64)
        bucket = (h >> np.uint64(58)).astype(np.uint8)
        order = np.argsort(bucket, kind="stable")  # a radix sort for 8-bit keys
        bounds = np.searchsorted(bucket[order], np.arange(self.BUCKETS + 1))
        pairs = pairs[order]
        for b in range(self.BUCKETS):
            if bounds[b + 1] > bounds[b]:
                pairs[bounds[b]:bounds[b + 1]].tofile(self._files[b])

    def candidate_rows(self) -> np.ndarray:
        """Spreadsheet rows whose hash occurs more than once (sorted; none, as a rule)."""
        for f in self._files:
            f.close()
        found = []
        for b in range(self.BUCKETS):
            pairs = np.fromfile(os.path.join(self._dir.name, f"{b:02d}.bin"), dtype=np.uint64).reshape(-1, 2)
            if len(pairs) < 2:
                continue
            h = pairs[:, 0]
            order = np.argsort(h)
            s = h[order]
            same = np.zeros(len(s), dtype=bool)
            eq = s[1:] == s[:-1]
            same[1:] |= eq
            same[:-1] |= eq
            if same.any():
                found.append(pairs[order[same], 1].astype(np.int64))
        self._dir.cleanup()
        return np.sort(np.concatenate(found)) if found else np.zeros(0, dtype=np.int64)

    def close(self):
        for f in self._files:
            f.close()
        self._dir.cleanup()


def aggregate_waiting_list(path, *, freq: str = "W", start=None, end=None, clinic=None, sheet=None, today=None,
                           future_tolerance_days=7, plausible_from=None, max_bytes=None,
                           chunk_rows: int = CHUNK_ROWS, return_rows: bool = False):
    """Weekly or monthly flows and queues of an extract file, read in parts in bounded memory.

    Equal to ``periods_from_waiting_list(read_waiting_list(path, ...), freq=freq,
    start=start, end=end)`` (and so, weekly, to :func:`~kps_analysis.data.weekly_from_waiting_list`),
    with the same checks, errors and warnings, without ever holding the whole extract:
    memory grows with ``chunk_rows`` and with clinics x periods, not with the file.  A
    Parquet file is read in row batches of the columns used; a UTF-8 CSV file of 16 MB
    or more through Arrow's streaming CSV reader; a workbook, a smaller CSV file or one in
    another encoding is read whole by the general reader and counted in parts.

    Parameters
    ----------
    path : str or path-like
        CSV, XLSX or Parquet extract (headers as :data:`~kps_analysis.data.EXTRACT_ALIASES`).
    freq : {"W", "M"}
        ISO weeks or calendar months.
    start, end : date-like, Period or label, optional
        First and last period (default: each clinic's first referral period; the period
        of the latest date). [date]
    clinic, sheet, today, future_tolerance_days, plausible_from, max_bytes
        As :func:`~kps_analysis.data.read_waiting_list`.
    chunk_rows : int
        Rows read and checked at a time. [rows]
    return_rows : bool
        Also return the number of extract rows read (``(frame, rows)``).

    Returns
    -------
    pandas.DataFrame
        ``clinic`` (``group``), ``period`` and :data:`~kps_analysis.data.DERIVED_MEASURES`
        [patients/period; queues: patients].

    Raises
    ------
    DataError
        As :func:`~kps_analysis.data.read_waiting_list` (file, column and row; never a
        cell's content).  The first problem in file order is reported; a count of "more
        rows like it" counts those of the part it was found in.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> file = pathlib.Path(tempfile.mkdtemp()) / "uro.csv"
    >>> _ = file.write_text("Löpnummer;Remissdatum;Besöksdatum;Beslut om operation;Operationsdatum\\n"
    ...                     "A1;2024-01-02;2024-01-10;2024-01-10;2024-01-20\\nA2;2024-01-03;;;\\n",
    ...                     encoding="utf-8")
    >>> weekly = aggregate_waiting_list(file, today="2024-03-01", chunk_rows=1)
    >>> weekly[["referrals_in", "new_visits", "operations_elective", "queue_new_visit"]].values.tolist()
    [[2.0, 0.0, 0.0, 2.0], [0.0, 1.0, 0.0, 1.0], [0.0, 0.0, 1.0, 1.0]]
    """
    path = Path(path)
    kw = dict(clinic=clinic, today=today, future_tolerance_days=future_tolerance_days,
              plausible_from=plausible_from)
    source = _Source(path, chunk_rows=chunk_rows, sheet=sheet, max_bytes=max_bytes, layout_kw=kw)
    try:
        return _aggregate(source, freq=freq, start=start, end=end, return_rows=return_rows)
    except _ArrowGaveUp:
        with warnings.catch_warnings():  # the layout's warnings were given once already
            warnings.simplefilter("ignore")
            source = _Source(path, chunk_rows=chunk_rows, sheet=sheet, max_bytes=max_bytes, layout_kw=kw)
        source.kind = "whole"
        source._whole = _d._load_table(path, sheet=sheet, lookup=_d._EXTRACT_LOOKUP, anchors=("referral_date",),
                                       dictionary=True, max_bytes=max_bytes)
        return _aggregate(source, freq=freq, start=start, end=end, return_rows=return_rows)


def _release_memory() -> None:
    """Give the memory freed by a part back to the system: Arrow's pool keeps freed
    blocks, and glibc's malloc keeps the freed heap of numpy's arrays of a part's length
    (its mmap threshold grows with the arrays freed), so without this the resident size
    grows part after part although nothing is held."""
    try:
        pa.default_memory_pool().release_unused()
    except AttributeError:  # pyarrow before 13
        pass
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _libc():
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        libc.malloc_trim  # glibc only
        return libc
    except (OSError, AttributeError):
        return None


_LIBC = _libc()


def _aggregate(source: _Source, *, freq, start, end, return_rows):
    layout = source.layout
    counts = PeriodCounts(freq, name=str(layout.path))
    notes = _d._ExtractNotes()
    duplicates = _Duplicates() if layout.pid_pos is not None else None
    has_group = "group" in layout.roles
    # a part whose clinic (group) cells are all empty, where another part has some: the
    # whole read refuses the first empty cell; so do the parts, at the end
    empty_part = {"clinic": None, "group": None}
    filled = {"clinic": False, "group": False}
    rows_read = 0
    try:
        for data, rows in source.parts():
            parts = _d._parse_extract(layout, data, rows, notes)
            del data
            if not len(parts):
                continue
            for role, given in (("clinic", parts.clinic_given), ("group", parts.group is not None)):
                if role in layout.roles:
                    filled[role] |= given
                    if not given and empty_part[role] is None:
                        empty_part[role] = int(parts.rows[0])
            counts.add_parts(parts, group=has_group)
            if duplicates is not None:
                duplicates.add(parts)
            rows_read += len(parts)
            del parts
            _release_memory()
        for role in ("clinic", "group"):
            if filled[role] and empty_part[role] is not None:
                raise DataError(f"empty {role} cell", path=layout.path, column=layout.header(role),
                                row=empty_part[role])
    except BaseException:
        if duplicates is not None:
            duplicates.close()
        raise
    if not rows_read:
        if duplicates is not None:
            duplicates.close()
        raise DataError(f"no data rows below the header (row {layout.header_row})", path=layout.path)
    if duplicates is not None:
        candidates = duplicates.candidate_rows()
        if candidates.size:
            _confirm_duplicates(source, candidates)
    notes.warn(layout, stacklevel=4)
    grouped = has_group and filled["group"]
    if has_group and not grouped:
        counts.keys = ["clinic"]
    frame = counts.frame(start=start, end=end)
    return (frame, rows_read) if return_rows else frame


def _confirm_duplicates(source: _Source, candidates: np.ndarray) -> None:
    """Read the candidate rows again and raise the duplicate error if any is a true duplicate."""
    layout = source.layout
    picked = []
    for data, rows in source.parts():
        parts = _d._parse_extract(layout, data, rows, _d._ExtractNotes())
        take = np.isin(parts.rows, candidates)
        if take.any():
            frame = parts.frame()
            part = frame.loc[take, ["clinic", "referral_date", "patient_id"]].astype(
                {"clinic": object, "patient_id": object}).reset_index(drop=True)
            part["row"] = parts.rows[take]
            picked.append(part)
    if not picked:
        return
    rows = pd.concat(picked, ignore_index=True)
    dup = rows.duplicated(["clinic", "referral_date", "patient_id"], keep=False).to_numpy()
    if not dup.any():
        return  # a hash collision only
    first = rows[dup].iloc[0]
    same = (dup & (rows["clinic"] == first["clinic"]).to_numpy()
            & (rows["referral_date"] == first["referral_date"]).to_numpy()
            & (rows["patient_id"] == first["patient_id"]).to_numpy())
    raise DataError("the same patient id occurs more than once for one clinic and referral date",
                    path=layout.path, column=layout.headers[layout.pid_pos], row=rows.loc[same, "row"].to_numpy())


# ============================================================================ what a file is
def extract_or_aggregate(path) -> str:
    """``"extract"`` when a file's header is a waiting-list extract's, else ``"aggregate"``.

    Reads only the header (and first rows) of a CSV, a workbook's first rows or a
    Parquet file's schema.  An extract has a referral date column and no period column
    (week, month) of a weekly/monthly file; a file that cannot be told apart is taken
    for an aggregate file, whose reader then says what is wrong.
    """
    path = Path(path)
    try:
        headers_rows = _header_rows(path)
    except Exception:  # the reader that follows says what is wrong with the file
        return "aggregate"
    for cells in headers_rows:
        extract = _d._header_roles(cells, _d._EXTRACT_LOOKUP)
        weekly = _d._header_roles(cells, _d._WEEKLY_LOOKUP)
        if "referral_date" in extract and not any(r in _d._PERIOD_ROLES for r in weekly):
            return "extract"
        if any(r in _d._PERIOD_ROLES for r in weekly):
            return "aggregate"
    return "aggregate"


def _header_rows(path: Path) -> list[list]:
    suffix = path.suffix.lower()
    _d._check_regular_file(path)
    if suffix in (".parquet", ".pq"):
        return [[str(n) for n in pq.read_schema(path).names]]
    if suffix in (".xlsx", ".xlsm"):
        import openpyxl

        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        try:
            return [list(r) for r in book.worksheets[0].iter_rows(min_row=1, max_row=30, values_only=True)]
        finally:
            book.close()
    with open(path, "rb") as f:
        head = f.read(65_536)
    text = _d._decode(head, path) if head else ""
    lines = text.splitlines()[:30]
    sample = [line for line in lines if line.strip()]
    if not sample:
        return []
    if re.match(r"[ \t]*sep=(.)", lines[0], flags=re.IGNORECASE):
        sep = re.match(r"[ \t]*sep=(.)", lines[0], flags=re.IGNORECASE).group(1)
        lines = lines[1:]
    else:
        sep, _ = _d._sniff_separator(sample)
    return [list(r) for r in csv.reader(lines, delimiter=sep)]
