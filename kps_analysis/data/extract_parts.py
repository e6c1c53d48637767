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
import os
import re
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from . import files
from .cells import _STR_DTYPE, MIX1, TEXT_DTYPE, hash_texts, mix64
from .derive import PeriodCounts, periods_from_waiting_list
from .errors import DataError, _shown
from .files import (
    CsvStreamError,
    FileTable,
    check_parquet_file,
    check_regular_file,
    csv_head,
    decode_text,
    few_valued_text_columns,
    header_roles,
    header_row_index,
    is_present,
    iter_csv_blocks,
    load_table,
    release_memory,
    sniff_separator,
)
from .headers import EXTRACT_LOOKUP, PERIOD_ROLES, WEEKLY_LOOKUP
from .schema import EXTRACT_COLUMNS
from .waiting_list import ExtractNotes, extract_layout, parse_extract

__all__ = ["aggregate_waiting_list", "periods_from_waiting_list", "extract_or_aggregate", "PeriodCounts",
           "iter_waiting_list"]

CHUNK_ROWS = 250_000
"""Rows read and checked at a time by :func:`aggregate_waiting_list` [rows].  A quarter of a
million keeps the peak within twice DuckDB's for the same aggregation (1.55x on 10 M rows;
a million rows: 2.85x, for about a third less time); see ``benchmarks/README.md`` (extract)."""

# ============================================================================ reading in parts
def _header_index(raw: pd.DataFrame) -> int:
    """Position of the header row among the first rows (:func:`~kps_analysis.data.files.header_row_index`
    with the referral date as the anchor)."""
    at = header_row_index(raw, EXTRACT_LOOKUP, ("referral_date",))
    return 0 if at is None else at


class _Source:
    """An extract file as parts: ``layout`` (from the header and the first rows) and
    :meth:`parts` yielding ``(data, rows)`` with only the columns the layout uses."""

    def __init__(self, path: Path, *, chunk_rows: int, sheet=None, max_bytes=None, layout_kw=None):
        self.path = path
        self.chunk_rows = max(int(chunk_rows), 1)
        self.layout_kw = layout_kw or {}
        check_regular_file(path, max_bytes)
        suffix = path.suffix.lower()
        self.kind = "whole"
        if suffix in (".parquet", ".pq"):
            self._open_parquet()
        elif suffix in (".csv", ".txt", ".tsv", ".tab") and self._open_csv():
            pass
        else:  # a workbook, or a CSV Arrow cannot stream: read whole (the general reader's checks)
            table = load_table(path, sheet=sheet, lookup=EXTRACT_LOOKUP, anchors=("referral_date",),
                                   dictionary=True, max_bytes=max_bytes)
            self._whole = table
            self.layout = extract_layout(table, **self.layout_kw, stacklevel=5)

    # -- Parquet
    def _open_parquet(self):
        path = self.path
        check_parquet_file(path)
        try:
            self._dictionary = few_valued_text_columns(path)
            parquet = pq.ParquetFile(path)
            names = [str(n) for n in parquet.schema_arrow.names]
            first = next(parquet.iter_batches(batch_size=min(self.chunk_rows, 5000)), None)
        except Exception as exc:  # pyarrow raises ArrowInvalid, OSError and others
            raise DataError(f"cannot read as Parquet: {exc}", path=path) from None
        sample = self._pandas(first) if first is not None else pd.DataFrame(columns=range(len(names)))
        sample.columns = range(len(names))
        self.kind = "parquet"
        self.layout = extract_layout(FileTable(path, names, sample, np.arange(2, len(sample) + 2), ","),
                                         **self.layout_kw, stacklevel=5)
        self._names = names

    @staticmethod
    def _pandas(batch) -> pd.DataFrame:
        def mapper(t):
            return TEXT_DTYPE if t in (pa.string(), pa.large_string()) else None
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
        if os.stat(self.path).st_size < files.ARROW_CSV_MIN_BYTES:
            return False
        head = csv_head(self.path)
        if head is None:
            return False
        sep, width, raw, self._encoding = head
        if raw.empty:
            return False
        at = _header_index(raw)
        headers = ["" if not is_present(c) else str(c).strip() for c in raw.iloc[at]]
        sample = raw.iloc[at + 1:].reset_index(drop=True).astype(TEXT_DTYPE)
        self.kind = "csv"
        self._sep, self._width, self._header_at = sep, width, at
        self.layout = extract_layout(
            FileTable(self.path, headers, sample, np.arange(at + 2, at + 2 + len(sample)), ".", at + 1),
            **self.layout_kw, stacklevel=5)
        return True

    def _csv_parts(self):
        positions = self._used_positions()
        try:
            yield from iter_csv_blocks(self.path, sep=self._sep, width=self._width, encoding=self._encoding,
                                       skip_rows=self._header_at + 1, block_rows=self.chunk_rows,
                                       columns=positions)
        except CsvStreamError as exc:
            raise _ArrowGaveUp(str(exc)) from None

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
                     layout_kw={"clinic": clinic, "today": today, "future_tolerance_days": future_tolerance_days,
                                "plausible_from": plausible_from, "warn": False})
    notes = ExtractNotes()
    for data, rows in source.parts():
        yield parse_extract(source.layout, data, rows, notes).frame()


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
        h = hash_texts(parts.pid)
        referred = parts.dates["referral_date"].view(np.int64)
        h ^= referred.view(np.uint64) * MIX1
        c_codes, c_texts = parts.clinic
        clinic_hash = hash_texts(pd.Series(np.asarray(c_texts, dtype=object), dtype=TEXT_DTYPE))
        return mix64(h ^ clinic_hash[c_codes])

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
    kw = {"clinic": clinic, "today": today, "future_tolerance_days": future_tolerance_days,
          "plausible_from": plausible_from}
    return _in_parts(Path(path), chunk_rows=chunk_rows, sheet=sheet, max_bytes=max_bytes, layout_kw=kw,
                     run=lambda source: _aggregate(source, freq=freq, start=start, end=end, return_rows=return_rows))


def _in_parts(path: Path, *, chunk_rows, sheet, max_bytes, layout_kw, run):
    """``run(source)`` of the file's :class:`_Source`; again on the file read whole by the
    general reader (in parts) when Arrow's streaming reader gives up part-way."""
    source = _Source(path, chunk_rows=chunk_rows, sheet=sheet, max_bytes=max_bytes, layout_kw=layout_kw)
    try:
        return run(source)
    except _ArrowGaveUp:
        with warnings.catch_warnings():  # the layout's warnings were given once already
            warnings.simplefilter("ignore")
            source = _Source(path, chunk_rows=chunk_rows, sheet=sheet, max_bytes=max_bytes, layout_kw=layout_kw)
        source.kind = "whole"
        source._whole = load_table(path, sheet=sheet, lookup=EXTRACT_LOOKUP, anchors=("referral_date",),
                                   dictionary=True, max_bytes=max_bytes)
        return run(source)


def _aggregate(source: _Source, *, freq, start, end, return_rows, each=None):
    """Read, check and count every part of ``source``; with ``each``, hand every part to
    ``each(parts, group=...)`` instead of counting it and return whether the result is
    grouped (the file has a group column with a value)."""
    layout = source.layout
    counts = PeriodCounts(freq, name=str(layout.path))
    notes = ExtractNotes()
    duplicates = _Duplicates() if layout.pid_pos is not None else None
    has_group = "group" in layout.roles
    # a part whose clinic (group) cells are all empty, where another part has some: the
    # whole read refuses the first empty cell; so do the parts, at the end
    empty_part = {"clinic": None, "group": None}
    filled = {"clinic": False, "group": False}
    rows_read = 0
    try:
        for data, rows in source.parts():
            parts = parse_extract(layout, data, rows, notes)
            del data
            if not len(parts):
                continue
            for role, given in (("clinic", parts.clinic_given), ("group", parts.group is not None)):
                if role in layout.roles:
                    filled[role] |= given
                    if not given and empty_part[role] is None:
                        empty_part[role] = int(parts.rows[0])
            (each or counts.add_parts)(parts, group=has_group)
            if duplicates is not None:
                duplicates.add(parts)
            rows_read += len(parts)
            del parts
            release_memory()
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
    if each is not None:
        return grouped
    if has_group and not grouped:
        counts.keys = ["clinic"]
    frame = counts.frame(start=start, end=end)
    return (frame, rows_read) if return_rows else frame


class ClinicExtract:
    """One clinic's extract read in parts: its counts and the rows still waiting at the end.

    What ``kps run`` needs of a patient-level extract, without the whole frame: the weekly
    flows and queues (:meth:`weekly`) and the rows of the patients still waiting after the
    extract's latest date (:attr:`waiting`), from which :func:`~kps_analysis.data.waiting_snapshot`
    at the end of the data (or later) gives what it gives on the whole extract.  The clinic
    is selected as :func:`~kps_analysis.data.load_clinic_data` selects it: a file of one
    clinic under another label is that clinic's; a file of several is filtered to it.

    Attributes
    ----------
    waiting : pandas.DataFrame
        Canonical extract rows still waiting at the end (if none, the clinic's last row, so
        that a clinic with an extract is seen to have one); personal data.
    rows : int
        The clinic's rows in the file. [rows]
    """

    def __init__(self, clinic: str, counts: PeriodCounts, waiting: pd.DataFrame, rows: int):
        self.clinic, self._counts, self.waiting, self.rows = clinic, counts, waiting, rows

    def weekly(self, *, start=None) -> pd.DataFrame:
        """The clinic's weekly flows and queues, as :func:`~kps_analysis.data.weekly_from_waiting_list`
        of its rows (``start``: first week, default its first referral week)."""
        frame = self._counts.frame(start=start)
        if len(frame) and not (frame["clinic"] == self.clinic).all():  # the file's other label
            frame.loc[:, "clinic"] = self.clinic
        return frame


class _ClinicSelection:
    """Counts and waiting rows of the rows labelled ``clinic`` and, while the file holds a
    single label, of every row (the file may be this clinic's under another label)."""

    def __init__(self, clinic: str, freq: str, name: str):
        self.clinic = clinic
        self.labels: set = set()
        self.mine = PeriodCounts(freq, name=name)
        self.every = PeriodCounts(freq, name=name)
        self.waiting = {"mine": [], "every": []}
        self.last = {"mine": None, "every": None}
        self.rows = {"mine": 0, "every": 0}
        self.valued = {"mine": set(), "every": set()}  # text columns with a value in some row

    def add(self, parts, *, group: bool) -> None:
        codes, texts = parts.clinic
        codes = np.where(codes < 0, codes + len(texts), codes)
        used = np.flatnonzero(np.bincount(codes, minlength=len(texts)))
        self.labels.update(str(texts[u]) for u in used)
        is_mine = np.array([str(x) == self.clinic for x in texts], dtype=bool)[codes]
        waiting = parts.waiting_at_end()
        for name, counts, keep in (("mine", self.mine, is_mine), ("every", self.every, None)):
            if name == "every" and len(self.labels) > 1:
                self.every = None  # several clinics: the rows labelled `clinic` are its rows
                continue
            part = parts if keep is None or keep.all() else parts.take(keep)
            if not len(part):
                continue
            counts.add_parts(part, group=group)
            self.rows[name] += len(part)
            self.waiting[name].append(part.take(waiting if keep is None or keep.all() else waiting[keep]).frame())
            self.last[name] = part.take(np.arange(len(part)) == len(part) - 1).frame()
            for column, (c, table) in (("priority", part.priority), ("removal_reason", part.reason)):
                c = np.where(c < 0, c + len(table), c)
                if any(table[u] is not None for u in np.unique(c)):
                    self.valued[name].add(column)

    def result(self, path: Path, grouped: bool) -> ClinicExtract:
        if self.clinic in self.labels or len(self.labels) != 1:
            if self.clinic not in self.labels and self.labels:
                held = ", ".join(_shown(v) for v in sorted(self.labels)[:10])
                raise DataError(f"no rows for clinic {self.clinic!r}; the file holds {held}", path=path)
            name, counts = "mine", self.mine
        else:
            name, counts = "every", self.every
        if not grouped:
            counts.keys = ["clinic"]
        frames = self.waiting[name] or ([self.last[name]] if self.last[name] is not None else [])
        waiting = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(EXTRACT_COLUMNS))
        for column in self.valued[name]:  # typed as the whole extract types them (parts may hold no value)
            waiting[column] = waiting[column].astype(object).astype(_STR_DTYPE)
        if name == "every" and len(waiting):  # the file is this clinic's, under another label
            waiting = waiting.assign(clinic=self.clinic)
        return ClinicExtract(self.clinic, counts, waiting, self.rows[name])


def read_clinic_extract(path, *, clinic, sheet=None, today=None, future_tolerance_days=7, plausible_from=None,
                        max_bytes=None, chunk_rows: int = CHUNK_ROWS) -> ClinicExtract:
    """One clinic's weekly counts and still-waiting rows of an extract, read in parts.

    Every part is checked as :func:`~kps_analysis.data.read_waiting_list` checks the whole
    file (the errors and warnings of :func:`aggregate_waiting_list`); memory is bounded by
    the part, the clinic's counts and its waiting patients, not by the file.

    Parameters
    ----------
    path : str or path-like
        CSV, XLSX or Parquet extract.
    clinic : str
        The clinic's id (also the label of a file without a clinic column).
    sheet, today, future_tolerance_days, plausible_from, max_bytes
        As :func:`~kps_analysis.data.read_waiting_list`.
    chunk_rows : int
        Rows read and checked at a time. [rows]

    Returns
    -------
    ClinicExtract

    Raises
    ------
    DataError
        As :func:`~kps_analysis.data.read_waiting_list`; or the file holds several clinics,
        none of them ``clinic``.
    """
    def run(source):
        selection = _ClinicSelection(str(clinic), "W", str(source.layout.path))
        grouped = _aggregate(source, freq="W", start=None, end=None, return_rows=False, each=selection.add)
        return selection.result(source.layout.path, grouped)

    kw = {"clinic": clinic, "today": today, "future_tolerance_days": future_tolerance_days,
          "plausible_from": plausible_from}
    return _in_parts(Path(path), chunk_rows=chunk_rows, sheet=sheet, max_bytes=max_bytes, layout_kw=kw, run=run)


def _confirm_duplicates(source: _Source, candidates: np.ndarray) -> None:
    """Read the candidate rows again and raise the duplicate error if any is a true duplicate."""
    layout = source.layout
    picked = []
    for data, rows in source.parts():
        parts = parse_extract(layout, data, rows, ExtractNotes())
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
        extract = header_roles(cells, EXTRACT_LOOKUP)
        weekly = header_roles(cells, WEEKLY_LOOKUP)
        if "referral_date" in extract and not any(r in PERIOD_ROLES for r in weekly):
            return "extract"
        if any(r in PERIOD_ROLES for r in weekly):
            return "aggregate"
    return "aggregate"


def _header_rows(path: Path) -> list[list]:
    suffix = path.suffix.lower()
    check_regular_file(path)
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
    text = decode_text(head, path) if head else ""
    lines = text.splitlines()[:30]
    sample = [line for line in lines if line.strip()]
    if not sample:
        return []
    if re.match(r"[ \t]*sep=(.)", lines[0], flags=re.IGNORECASE):
        sep = re.match(r"[ \t]*sep=(.)", lines[0], flags=re.IGNORECASE).group(1)
        lines = lines[1:]
    else:
        sep, _ = sniff_separator(sample)
    return [list(r) for r in csv.reader(lines, delimiter=sep)]
