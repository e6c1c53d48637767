"""Reading weekly or monthly aggregate files into the canonical weekly frame.

Part of :mod:`kps_analysis.data`; see its docstring for the canonical frames.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from .cells import _NA_TEXT, _NA_WORDS, _TOTAL_TEXT, _distinct_texts, _mask, _one_text, _parse_numbers, _texts
from .errors import DataError, _period_labels, _period_words, _raise_first, _shown
from .files import _empty_rows, _map_columns, _refuse_unknown_table, _shown_headers, is_present, load_table
from .headers import _WEEKLY_SPELLING, PERIOD_ROLES, WEEKLY_LOOKUP, _header_hints
from .period_labels import _parse_periods
from .schema import COUNT_MEASURES, MAX_COUNT_PER_PERIOD, MEASURES, PLAUSIBLE_FROM


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
    table = load_table(path, sheet=sheet, lookup=WEEKLY_LOOKUP, anchors=PERIOD_ROLES, max_bytes=max_bytes)
    roles, unknown, personal = _map_columns(table, WEEKLY_LOOKUP)
    for pos in personal:
        warnings.warn(f"{path}: column {table.headers[pos]!r} looks like personal identity numbers "
                      "and was dropped", stacklevel=2)
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

    data, rows = table.data, table.rows
    keep = ~_empty_rows(data)
    data, rows = data.loc[keep].reset_index(drop=True), rows[keep]
    if not len(data):
        raise DataError(f"no data rows below the header (row {table.header_row})" + table.sheet_hint(), path=path)

    def header(role):
        return table.headers[roles[role]]

    # rows that are totals, not periods
    total = np.zeros(len(data), dtype=bool)
    for role in (kind, "clinic", "group"):
        if role in roles:
            total |= _mask(_texts(data[roles[role]], lower=True).isin(_TOTAL_TEXT))
    if total.any():
        warnings.warn(f"{path}: {int(total.sum())} total row(s) dropped (rows "
                      f"{', '.join(str(r) for r in rows[total][:5])})", stacklevel=2)
        data, rows = data.loc[~total].reset_index(drop=True), rows[~total]

    pcol = data[roles[kind]]
    ptext = _texts(pcol)
    _raise_first(_mask(ptext == ""), lambda i: _no_period_reason(data.iloc[i], [roles[m] for m in measures],
                                                                 table.headers),
                 path=path, column=header(kind), rows=rows)
    years = None
    if "year" in roles:
        years = _texts(data[roles["year"]]).str.replace(r"^(\d{4})(?:[.,]0+)?$", r"\1", regex=True)
        bad = (years != "") & ~years.str.fullmatch(r"\d{4}")
        _raise_first(_mask(bad), lambda i: f"{_shown(years.iloc[i])} is not a year", path=path,
                     column=header("year"), rows=rows)
    periods = _parse_periods(pcol, kind, years=years, path=path, column=header(kind), rows=rows)
    earliest = pd.Timestamp(plausible_from if plausible_from is not None else PLAUSIBLE_FROM).normalize()
    _raise_first(_mask(periods.end_time < earliest),
                 lambda i: f"{_period_words(periods[i])} ends before {earliest.date()} (the earliest plausible "
                 "date, parameter plausible_from)", path=path, column=header(kind), rows=rows)

    out = {}
    fallback = clinic if clinic is not None else path.stem
    for role in ("clinic", "group"):
        if role not in roles:
            continue
        codes, texts = _distinct_texts(data[roles[role]])  # a few names, each read once
        empty = (texts == "")[codes]
        if empty.all():
            continue
        _raise_first(empty, lambda i: f"empty {role} cell", path=path, column=header(role), rows=rows)
        out[role] = texts[codes]
    clinics = out.get("clinic", np.full(len(data), str(fallback), dtype=object))
    frame = pd.DataFrame({"clinic": pd.Series(clinics, dtype=object).astype(str)})
    if "group" in out:
        frame["group"] = pd.Series(out["group"], dtype=object).astype(str)
    frame["period"] = periods
    most = float(MAX_COUNT_PER_PERIOD if max_count_per_period is None else max_count_per_period)
    for m in measures:
        values = _parse_numbers(data[roles[m]], decimal=table.decimal, path=path, column=header(m),
                                rows=rows, integer=m in COUNT_MEASURES)
        _raise_first(values > most, lambda i: f"{values[i]:g} is more than the plausible maximum of {most:g} "
                     "per period (parameter max_count_per_period)", path=path, column=header(m), rows=rows)
        frame[m] = values

    findings = []
    labels = None
    for m in measures:  # words that mean "no value" ('saknas') are read as not reported: say so
        pos = roles[m]
        if pd.api.types.is_numeric_dtype(data[pos].dtype) or pd.api.types.is_bool_dtype(data[pos].dtype):
            continue
        words = _texts(data[pos], lower=True)
        said = _mask(words.isin(_NA_WORDS))
        if said.any():
            idx = np.flatnonzero(said)
            labels = _period_labels(frame["period"]) if labels is None else labels
            shown = sorted(set(_texts(data[pos]).iloc[idx]))
            message = (f"{', '.join(repr(w) for w in shown)} read as not reported (row"
                       f"{'s' if idx.size > 1 else ''} {', '.join(str(r) for r in rows[idx][:10])}"
                       f"{', ...' if idx.size > 10 else ''})")
            warnings.warn(f"{path}: column {header(m)!r}: {message}", stacklevel=2)
            findings.append({"severity": "warning", "clinic": frame["clinic"].iloc[idx[0]],
                             "period": labels[idx[0]], "column": header(m), "message": message})
    for pos in unknown:
        values = _texts(data[pos])
        filled = values[values != ""]
        if filled.empty:
            continue
        numeric = filled.str.fullmatch(r"-?[\d .,']+").mean()
        if numeric >= 0.5:
            message = (f"column {table.headers[pos]!r} is not a known measure and was left out "
                       f"(header row {table.header_row}; rename it to a canonical name to use it)"
                       + _header_hints([table.headers[pos]], WEEKLY_LOOKUP, _WEEKLY_SPELLING,
                                       roles=MEASURES, taken=tuple(roles)))
            warnings.warn(f"{path}: {message}", stacklevel=2)
            findings.append({"severity": "warning", "clinic": None, "period": None,
                             "column": table.headers[pos], "message": message})

    keys = ["clinic"] + (["group"] if "group" in frame.columns else [])
    dup = frame.duplicated(keys + ["period"], keep=False).to_numpy()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        same = np.ones(len(frame), dtype=bool)
        for k in keys + ["period"]:
            same &= _mask(frame[k] == frame[k].iloc[i])
        who = ", ".join(f"{k} {_shown(frame[k].iloc[i])}" for k in keys)
        raise DataError(f"duplicate rows for {who}", path=path, column=header(kind),
                        row=rows[same], period=frame["period"].iloc[i])
    frame = frame.sort_values(keys + ["period"], kind="mergesort").reset_index(drop=True)
    frame.attrs["source"] = str(path)
    frame.attrs["findings"] = findings
    return frame


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
