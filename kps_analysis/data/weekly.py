"""Reading weekly or monthly aggregate files into the canonical weekly frame.

Part of :mod:`kps_analysis.data`; see its docstring for the canonical frames.
"""

from __future__ import annotations

import dataclasses
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from . import files
from .cells import (
    _NA_TEXT,
    _NA_WORDS,
    _TOTAL_TEXT,
    TEXT_DTYPE,
    _distinct_texts,
    _mask,
    _one_text,
    _parse_numbers,
    _texts,
)
from .errors import DataError, _period_labels, _period_words, _raise_first, _shown
from .files import (
    CsvStreamError,
    FileTable,
    _empty_rows,
    _map_columns,
    _refuse_unknown_table,
    _shown_headers,
    check_regular_file,
    csv_head,
    header_row_index,
    is_present,
    iter_csv_blocks,
    load_table,
    release_memory,
)
from .headers import _WEEKLY_SPELLING, PERIOD_ROLES, WEEKLY_LOOKUP, _header_hints
from .period_labels import _parse_period_labels, _parse_periods
from .schema import COUNT_MEASURES, MAX_COUNT_PER_PERIOD, MEASURES, PLAUSIBLE_FROM, sorted_canonical


# ============================================================================ read_weekly
def read_weekly(path, *, clinic=None, sheet=None, plausible_from=None, max_count_per_period=None,
                max_bytes=None) -> pd.DataFrame:
    """Read a weekly or monthly aggregate file into the canonical long frame.

    CSV (separator ``;``, ``,``, tab or ``|``; decimal comma or point; thousands separated by
    spaces; UTF-8 with or without BOM, cp1252 or UTF-16), XLSX (first sheet unless
    ``sheet``) and Parquet.  Headers are matched to the canonical names through
    :data:`HEADER_ALIASES`.  The period column may hold ISO weeks (``2024-W05``,
    ``2024W05``, ``2024 v5``, ``v5 2024``, ``202405``, ``2024-05`` under a week header,
    or dates: the ISO week containing them) or months (``2024-01``, ``jan 2024``,
    ``januari 2024``, dates); a header such as ``Vecka``/``Week`` or ``Månad``/``Month``
    says which, a neutral one (``Period``, ``Datum``) leaves it to the labels.  Week or
    month numbers with a separate ``År``/``Year`` column work too.  Rows labelled as
    totals (``Totalt``, ``Summa``) are dropped with a warning; a numeric column with an
    unknown header is left out with a warning (naming the accepted header it is closest
    to, if any), and words meaning "no value" in a count column (``saknas``, ``n/a``) are
    read as not reported with a warning; both are also listed in
    ``frame.attrs["findings"]``.

    A CSV file of :data:`~kps_analysis.data.files.ARROW_CSV_MIN_BYTES` (16 MB) or more is
    read by Arrow's streaming reader in blocks of :data:`BLOCK_ROWS` rows, so that memory is
    bounded by the frame returned and a block, not by the file's text: the frame, warnings
    and findings are those of the whole read; of an unusable file, the error found first in
    file order is raised, its "more rows like it" counting the rows of its block.

    Parameters
    ----------
    path : str or path-like
        The file (``.csv``, ``.txt``, ``.tsv``, ``.xlsx``, ``.xlsm``, ``.parquet``).
    clinic : str, optional
        Clinic for a file without a ``Klinik`` column (default: the file stem).
    sheet : str or int, optional
        Worksheet of an XLSX file (default: the first).
    plausible_from : date-like, optional
        Earliest plausible date (default :data:`PLAUSIBLE_FROM`, 1990-01-01): a period
        that ends before it is an error. [date]
    max_count_per_period : float, optional
        Largest plausible count (default :data:`MAX_COUNT_PER_PERIOD`); a larger one is
        an error. [count/period]
    max_bytes : int, optional
        Largest file opened (default :data:`MAX_FILE_BYTES`). [bytes]

    Returns
    -------
    pandas.DataFrame
        ``clinic``, optional ``group``, ``period`` (freq ``W-SUN`` or ``M``) and the
        measures found (float64, NaN = not reported) [count/period], sorted by clinic,
        group and period.

    Raises
    ------
    DataError
        When the file cannot be used: empty, of another kind than its ending says
        (a CSV named .xlsx), a truncated Parquet file, a quotation mark never closed, no
        period column, no measure, no data rows, a row without a week (a second header
        row, another separator), an unreadable week label, week 53 in a 52-week year,
        text, negative numbers or decimals in a count column, a count above
        ``max_count_per_period``, a period before ``plausible_from``, labels that could
        be weeks or months ('2024-5' under 'Period'), duplicate rows for a week; a file
        that is no regular file or larger than ``max_bytes``, or no table the kit knows
        (then nothing of its content is quoted).  The message names the file, the column
        and the row (header = row 1) or week; for a workbook whose first sheet was read
        by default, the other sheets.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> file = pathlib.Path(tempfile.mkdtemp()) / "ort_nord.csv"
    >>> _ = file.write_text("Vecka;Remisser in;Vårddagar\\n2024-W05;1 204;12,5\\n2024 v6;98;7\\n",
    ...                     encoding="utf-8-sig")
    >>> frame = read_weekly(file)
    >>> frame["referrals_in"].tolist(), frame["bed_days"].tolist()
    ([1204.0, 98.0], [12.5, 7.0])
    >>> frame["clinic"].iloc[0], str(frame["period"].iloc[0].start_time.date())
    ('ort_nord', '2024-01-29')
    """
    path = Path(path)
    most = float(MAX_COUNT_PER_PERIOD if max_count_per_period is None else max_count_per_period)
    earliest = pd.Timestamp(plausible_from if plausible_from is not None else PLAUSIBLE_FROM).normalize()
    streamed = _streamed_csv(path, max_bytes)
    if streamed is not None:
        try:
            return _weekly_frame(_read_blocks(_weekly_layout(streamed[0]), streamed[1], most=most,
                                              earliest=earliest), clinic)
        except CsvStreamError:
            pass  # Arrow gave up part-way (a blank line, an open quote): read whole, as a smaller file
    table = load_table(path, sheet=sheet, lookup=WEEKLY_LOOKUP, anchors=PERIOD_ROLES, max_bytes=max_bytes)
    parts = _read_blocks(_weekly_layout(table), iter([(table.data, table.rows)]), most=most, earliest=earliest)
    return _weekly_frame(parts, clinic)


BLOCK_ROWS = 100_000
"""Rows of a large CSV file (:data:`~kps_analysis.data.files.ARROW_CSV_MIN_BYTES` or more)
that :func:`read_weekly` reads and checks at a time [rows]: its memory is bounded by the
frame it returns and one block, not by the file's text (``benchmarks/bench_weekly_csv.py``)."""


def _streamed_csv(path: Path, max_bytes):
    """``(head table, blocks)`` for a large CSV file Arrow can stream, else None.

    The head table holds the header and the first rows (for the column checks); the
    blocks (:func:`~kps_analysis.data.files.iter_csv_blocks`) every data row below the header.
    """
    if path.suffix.lower() not in (".csv", ".txt", ".tsv", ".tab"):
        return None
    if check_regular_file(path, max_bytes) < files.ARROW_CSV_MIN_BYTES:
        return None
    head = csv_head(path)
    if head is None or head[2].empty:
        return None
    sep, width, raw, encoding = head
    at = header_row_index(raw, WEEKLY_LOOKUP, PERIOD_ROLES)
    if at is None:
        return None
    headers = ["" if not is_present(c) else str(c).strip() for c in raw.iloc[at]]
    sample = raw.iloc[at + 1:].reset_index(drop=True).astype(TEXT_DTYPE)
    table = FileTable(path, headers, sample, np.arange(at + 2, at + 2 + len(sample)),
                      "." if sep == "," else ",", at + 1)
    blocks = iter_csv_blocks(path, sep=sep, width=width, encoding=encoding, skip_rows=at + 1,
                             block_rows=BLOCK_ROWS)
    return table, blocks


@dataclasses.dataclass
class _WeeklyLayout:
    """The columns of a weekly file: role -> position, unknown positions, the period column's
    kind (``period:week``, ``period:month`` or ``period``) and the measures present."""

    table: FileTable  # the header (and, read whole, the data rows)
    roles: dict
    unknown: list
    kind: str
    measures: list

    @property
    def path(self) -> Path:
        return self.table.path

    def header(self, role: str) -> str:
        """The column's header as spelled in the file."""
        return self.table.headers[self.roles[role]]


def _weekly_layout(table: FileTable) -> _WeeklyLayout:
    """Check the header of a weekly file: a period column, a measure, no personal ids
    (dropped with a warning), a table the kit knows; DataError naming the columns found."""
    path = table.path
    roles, unknown, personal = _map_columns(table, WEEKLY_LOOKUP)
    for pos in personal:
        warnings.warn(f"{path}: column {table.headers[pos]!r} looks like personal identity numbers "
                      "and was dropped", stacklevel=3)
    found = [r for r in ("period:week", "period:month") if r in roles]
    if len(found) == 2:
        raise DataError(f"both {table.headers[roles['period:week']]!r} and "
                        f"{table.headers[roles['period:month']]!r} columns; keep one", path=path,
                        column=table.headers[max(roles['period:week'], roles['period:month'])],
                        row=table.header_row)
    kind = found[0] if found else ("period" if "period" in roles else None)
    unknown_headers = [table.headers[pos] for pos in unknown]
    _refuse_unknown_table(table, roles, personal, unknown_headers, WEEKLY_LOOKUP, _WEEKLY_SPELLING,
                          "'Vecka', 'Nybesök', 'Väntande nybesök'")
    shown_headers = _shown_headers(table.headers)
    if kind is None:
        raise DataError(f"no week or month column in the header (row {table.header_row}; expected e.g. "
                        f"'Vecka', 'Week', 'Månad', 'Month'); columns found: {shown_headers}"
                        + _header_hints(unknown_headers, WEEKLY_LOOKUP, _WEEKLY_SPELLING,
                                        roles=PERIOD_ROLES) + table.sheet_hint(), path=path)
    measures = [m for m in MEASURES if m in roles]
    if not measures:
        raise DataError(f"no measure column in the header (row {table.header_row}; expected e.g. "
                        f"'Remisser in', 'Nybesök', 'Väntande nybesök'); columns found: {shown_headers}"
                        + _header_hints(unknown_headers, WEEKLY_LOOKUP, _WEEKLY_SPELLING,
                                        roles=MEASURES) + table.sheet_hint(), path=path)
    return _WeeklyLayout(table, roles, unknown, kind, measures)


@dataclasses.dataclass
class _WeeklyParts:
    """What the blocks of a weekly file give, gathered for the frame.

    A file read in one block is checked in the order of its columns (period, clinic and
    group, measures), each check over the whole file.  A file read in several blocks has
    its period labels read once per distinct label at the end (weeks or months are decided
    from all of them) and its clinic and group cells checked at the end; the other checks
    are per block (an error's "more rows like it" counts the rows of its block).
    """

    layout: _WeeklyLayout
    most: float  # the plausible maximum count [count/period]
    earliest: pd.Timestamp  # the earliest plausible date
    only: bool = True  # one block: every check in the order of the whole file
    kept: int = 0  # rows that are not empty, totals included
    rows: list = dataclasses.field(default_factory=list)
    totals: list = dataclasses.field(default_factory=list)  # spreadsheet rows of total rows dropped
    periods: list = dataclasses.field(default_factory=list)  # PeriodIndex (one block) or label codes
    labels: dict = dataclasses.field(default_factory=dict)  # label key -> (code, label, year) at first sight
    ids: dict = dataclasses.field(default_factory=dict)  # clinic/group -> [per-block cell texts]
    values: dict = dataclasses.field(default_factory=dict)  # measure -> [per-block float64 arrays]
    na_words: dict = dataclasses.field(default_factory=dict)  # measure -> ([row positions], {words})
    unknown: dict = dataclasses.field(default_factory=dict)  # position -> [filled cells, numeric-looking]

    @property
    def n(self) -> int:
        """Rows gathered so far."""
        return sum(len(r) for r in self.rows)


def _read_blocks(layout: _WeeklyLayout, blocks, *, most: float, earliest: pd.Timestamp) -> _WeeklyParts:
    """Read every block of data rows (``(cells, spreadsheet rows)``) into a :class:`_WeeklyParts`,
    then the checks that need all of them."""
    parts = _WeeklyParts(layout, most, earliest)
    block = next(blocks, None)
    if block is None:  # a header and nothing below it
        _require_rows(parts)
    while block is not None:
        following = next(blocks, None)
        parts.only = parts.only and following is None and not parts.rows
        _read_block(parts, *block)
        block = following
        if not parts.only:
            release_memory()
    if not parts.only:
        _check_gathered(parts)
    return parts


def _read_block(parts: _WeeklyParts, data: pd.DataFrame, rows: np.ndarray) -> None:
    """Drop the empty and the total rows of a block, check and read its cells into ``parts``."""
    layout, path, roles, kind = parts.layout, parts.layout.path, parts.layout.roles, parts.layout.kind
    keep = ~_empty_rows(data)
    data, rows = data.loc[keep].reset_index(drop=True), rows[keep]
    parts.kept += len(data)
    if parts.only:
        _require_rows(parts)
    total = np.zeros(len(data), dtype=bool)
    for role in (kind, "clinic", "group"):
        if role in roles:
            total |= _mask(_texts(data[roles[role]], lower=True).isin(_TOTAL_TEXT))
    if total.any():
        parts.totals.append(rows[total])
        if parts.only:
            _warn_totals(parts)
        data, rows = data.loc[~total].reset_index(drop=True), rows[~total]
    _read_periods(parts, data, rows)
    for role in ("clinic", "group"):
        if role in roles:
            codes, texts = _distinct_texts(data[roles[role]])  # a few names, each read once
            parts.ids.setdefault(role, []).append(texts[codes])
            if parts.only:
                _check_ids(parts, role, rows)
    for m in layout.measures:
        values = _parse_numbers(data[roles[m]], decimal=layout.table.decimal, path=path, column=layout.header(m),
                                rows=rows, integer=m in COUNT_MEASURES)
        _raise_first(values > parts.most, lambda i, values=values: f"{values[i]:g} is more than the plausible "
                     f"maximum of {parts.most:g} per period (parameter max_count_per_period)", path=path,
                     column=layout.header(m), rows=rows)
        parts.values.setdefault(m, []).append(values)
    _note_words(parts, data, parts.n)
    parts.rows.append(rows)


def _require_rows(parts: _WeeklyParts) -> None:
    if not parts.kept:
        table = parts.layout.table
        raise DataError(f"no data rows below the header (row {table.header_row})" + table.sheet_hint(),
                        path=table.path)


def _warn_totals(parts: _WeeklyParts) -> None:
    dropped = np.concatenate(parts.totals)
    warnings.warn(f"{parts.layout.path}: {dropped.size} total row(s) dropped (rows "
                  f"{', '.join(str(r) for r in dropped[:5])})", stacklevel=5)


def _read_periods(parts: _WeeklyParts, data: pd.DataFrame, rows: np.ndarray) -> None:
    """Check a block's period (and year) cells; read the labels, or with several blocks
    number them (each distinct label read once, at the end)."""
    layout, path, roles, kind = parts.layout, parts.layout.path, parts.layout.roles, parts.layout.kind
    pcol = data[roles[kind]]
    _raise_first(_mask(_texts(pcol) == ""), lambda i: _no_period_reason(
        data.iloc[i], [roles[m] for m in layout.measures], layout.table.headers),
                 path=path, column=layout.header(kind), rows=rows)
    years = None
    if "year" in roles:
        years = _texts(data[roles["year"]]).str.replace(r"^(\d{4})(?:[.,]0+)?$", r"\1", regex=True)
        bad = (years != "") & ~years.str.fullmatch(r"\d{4}")
        _raise_first(_mask(bad), lambda i: f"{_shown(years.iloc[i])} is not a year", path=path,
                     column=layout.header("year"), rows=rows)
    if parts.only:
        periods = _parse_periods(pcol, kind, years=years, path=path, column=layout.header(kind), rows=rows)
        parts.periods.append(periods)
        _check_earliest(parts, periods, rows)
        return
    key = pcol if years is None else _texts(pcol) + "\x1f" + years
    codes, uniques = pd.factorize(key, use_na_sentinel=False)
    first = np.full(len(uniques), len(codes), dtype=np.int64)
    np.minimum.at(first, codes, np.arange(len(codes)))
    table = np.empty(len(uniques), dtype=np.int64)
    for k, (u, f) in enumerate(zip(uniques, first)):
        seen = parts.labels.setdefault(u, (len(parts.labels), pcol.iloc[f], None if years is None else years.iloc[f]))
        table[k] = seen[0]
    parts.periods.append(table[codes])


def _check_earliest(parts: _WeeklyParts, periods: pd.PeriodIndex, rows: np.ndarray) -> None:
    earliest = parts.earliest
    _raise_first(_mask(periods.end_time < earliest),
                 lambda i: f"{_period_words(periods[i])} ends before {earliest.date()} (the earliest plausible "
                 "date, parameter plausible_from)", path=parts.layout.path,
                 column=parts.layout.header(parts.layout.kind), rows=rows)


def _check_ids(parts: _WeeklyParts, role: str, rows: np.ndarray) -> None:
    """An empty clinic or group cell is an error, unless the whole column is empty (then unused)."""
    texts = parts.ids[role] = [np.concatenate(parts.ids[role])] if parts.ids[role] else []
    empty = (texts[0] == "") if texts else np.zeros(0, dtype=bool)
    if empty.all():
        del parts.ids[role]
        return
    _raise_first(empty, lambda i: f"empty {role} cell", path=parts.layout.path, column=parts.layout.header(role),
                 rows=rows)


def _check_gathered(parts: _WeeklyParts) -> None:
    """The checks of a file read in several blocks that need all its rows: data rows at
    all, the total rows dropped, the period labels, the clinic and group cells."""
    _require_rows(parts)
    if parts.totals:
        _warn_totals(parts)
    layout = parts.layout
    rows = np.concatenate(parts.rows) if parts.rows else np.zeros(0, dtype=np.int64)
    codes = np.concatenate(parts.periods) if parts.periods else np.zeros(0, dtype=np.int64)
    seen = sorted(parts.labels.values())
    labels = pd.Series([s[1] for s in seen], dtype=TEXT_DTYPE)
    years = None if "year" not in layout.roles else pd.Series([s[2] for s in seen], dtype=TEXT_DTYPE)
    distinct = _parse_period_labels(labels, layout.kind, years=years, path=layout.path,
                                    column=layout.header(layout.kind), rows=rows, expand=codes)
    periods = distinct[codes]
    parts.periods = [periods]
    _check_earliest(parts, periods, rows)
    for role in ("clinic", "group"):
        if role in parts.ids:
            _check_ids(parts, role, rows)
    parts.rows = [rows]


def _note_words(parts: _WeeklyParts, data: pd.DataFrame, offset: int) -> None:
    """Note a block's words meaning "no value" in count columns (``saknas``: read as not
    reported) and how numeric its unknown columns look; ``offset``: rows before the block."""
    roles = parts.layout.roles
    for m in parts.layout.measures:
        pos = roles[m]
        if pd.api.types.is_numeric_dtype(data[pos].dtype) or pd.api.types.is_bool_dtype(data[pos].dtype):
            continue
        said = _mask(_texts(data[pos], lower=True).isin(_NA_WORDS))
        if said.any():
            idx = np.flatnonzero(said)
            positions, words = parts.na_words.setdefault(m, ([], set()))
            positions.append(idx + offset)
            words.update(_texts(data[pos]).iloc[idx])
    for pos in parts.layout.unknown:
        values = _texts(data[pos])
        filled = values[values != ""]
        counts = parts.unknown.setdefault(pos, [0, 0])
        counts[0] += len(filled)
        counts[1] += int(filled.str.fullmatch(r"-?[\d .,']+").sum()) if len(filled) else 0


def _weekly_frame(parts: _WeeklyParts, clinic) -> pd.DataFrame:
    """The canonical frame of the gathered parts, with the reader's findings; DataError for
    duplicate rows."""
    layout, path = parts.layout, parts.layout.path
    rows = np.concatenate(parts.rows) if parts.rows else np.zeros(0, dtype=np.int64)
    fallback = clinic if clinic is not None else path.stem
    ids = {role: np.concatenate(texts) for role, texts in parts.ids.items() if texts}
    parts.ids.clear()  # each part is let go of once in the frame: the file is not held twice
    clinics = ids.pop("clinic", np.full(len(rows), str(fallback), dtype=object))
    frame = pd.DataFrame({"clinic": pd.Series(clinics, dtype=object).astype(str)})
    del clinics
    if "group" in ids:
        frame["group"] = pd.Series(ids.pop("group"), dtype=object).astype(str)
    frame["period"] = parts.periods.pop()
    for m in layout.measures:
        frame[m] = np.concatenate(parts.values.pop(m))
    if not parts.only:
        release_memory()
    findings = _reader_findings(parts, frame, rows)
    _refuse_duplicates(frame, layout, rows)
    keys = ["clinic"] + (["group"] if "group" in frame.columns else [])
    frame = sorted_canonical(frame, keys)
    frame.attrs["source"] = str(path)
    frame.attrs["findings"] = findings
    return frame


def _reader_findings(parts: _WeeklyParts, frame: pd.DataFrame, rows: np.ndarray) -> list[dict]:
    """Warnings (and findings) for words read as not reported and unknown numeric columns."""
    layout, path, table = parts.layout, parts.layout.path, parts.layout.table
    findings = []
    for m in layout.measures:
        if m not in parts.na_words:
            continue
        positions, words = parts.na_words[m]
        idx = np.concatenate(positions)
        message = (f"{', '.join(repr(w) for w in sorted(words))} read as not reported (row"
                   f"{'s' if idx.size > 1 else ''} {', '.join(str(r) for r in rows[idx][:10])}"
                   f"{', ...' if idx.size > 10 else ''})")
        warnings.warn(f"{path}: column {layout.header(m)!r}: {message}", stacklevel=4)
        findings.append({"severity": "warning", "clinic": frame["clinic"].iloc[idx[0]],
                         "period": _period_labels(frame["period"].iloc[idx[:1]])[0], "column": layout.header(m),
                         "message": message})
    for pos in layout.unknown:
        filled, numeric = parts.unknown.get(pos, (0, 0))
        if filled and numeric / filled >= 0.5:
            message = (f"column {table.headers[pos]!r} is not a known measure and was left out "
                       f"(header row {table.header_row}; rename it to a canonical name to use it)"
                       + _header_hints([table.headers[pos]], WEEKLY_LOOKUP, _WEEKLY_SPELLING,
                                       roles=MEASURES, taken=tuple(layout.roles)))
            warnings.warn(f"{path}: {message}", stacklevel=4)
            findings.append({"severity": "warning", "clinic": None, "period": None,
                             "column": table.headers[pos], "message": message})
    return findings


def _refuse_duplicates(frame: pd.DataFrame, layout: _WeeklyLayout, rows: np.ndarray) -> None:
    """DataError naming the rows of the first clinic (group) and period given twice."""
    keys = ["clinic"] + (["group"] if "group" in frame.columns else [])
    dup = frame.duplicated(keys + ["period"], keep=False).to_numpy()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        same = np.ones(len(frame), dtype=bool)
        for k in keys + ["period"]:
            same &= _mask(frame[k] == frame[k].iloc[i])
        who = ", ".join(f"{k} {_shown(frame[k].iloc[i])}" for k in keys)
        raise DataError(f"duplicate rows for {who}", path=layout.path, column=layout.header(layout.kind),
                        row=rows[same], period=frame["period"].iloc[i])


def _no_period_reason(cells: pd.Series, measure_positions, headers) -> str:
    """Why a row has no week: a second header row, another separator, or just none given."""
    filled = [(pos, _one_text(v).strip()) for pos, v in cells.items() if is_present(v)]
    if len(filled) == 1 and any(sep in filled[0][1] for sep in (";", ",", "\t", "|")):
        return (f"no week or month given; the row is one cell {_shown(filled[0][1], limit=60)}: it uses another "
                "separator than the header row")
    words = [(pos, text) for pos, text in filled if pos in measure_positions
             and not re.fullmatch(r"-?[\d\s.,']+", text) and text.lower() not in _NA_TEXT]
    if words and len(words) == len([p for p, _ in filled if p in measure_positions]):
        shown = ", ".join(f"{_shown(text)} under {headers[pos]!r}" for pos, text in words[:4])
        return (f"no week or month given, and text where counts belong ({shown}): is this a second "
                "header row (units, or the rest of a header split over two rows)? Put the whole header "
                "in one row and delete the other")
    return "no week or month given"
