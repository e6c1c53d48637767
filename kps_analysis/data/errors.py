"""DataError and the helpers that word a finding: file, column, row, period; never a personal cell.

Part of :mod:`kps_analysis.data`; see its docstring for the canonical frames.
"""

from __future__ import annotations

import os
import re

import numpy as np
import pandas as pd

from ..calendar import iso_week_label


# ============================================================================ errors
class DataError(ValueError):
    """An input file (or frame) that cannot be used.

    ``str(error)`` names the file when known, then the column, the row(s) (1-based as a
    spreadsheet shows them, the header being row 1) or the week, then what is wrong.

    Parameters
    ----------
    message : str
        What is wrong.
    path : str or path-like, optional
        The file (or another source name).
    column : str, optional
        The column as it is spelled in the file.
    row : int or sequence of int, optional
        Spreadsheet row number(s).
    period : pandas.Period or str, optional
        The week or month concerned.

    Examples
    --------
    >>> str(DataError("'x' is not a number", path="a.csv", column="Nybesök", row=3))
    "a.csv, column 'Nybesök', row 3: 'x' is not a number"
    """

    __module__ = "kps_analysis.data"  # its public home (tracebacks and pickles name it there)

    def __init__(self, message, *, path=None, column=None, row=None, period=None):
        self.reason = str(message)
        self.path = path
        self.column = column
        self.row = row
        self.period = period
        super().__init__(self._compose())

    def _compose(self) -> str:
        where = []
        if self.path is not None:
            where.append(os.fspath(self.path) if isinstance(self.path, os.PathLike) else str(self.path))
        if self.column is not None:
            where.append(f"column {str(self.column)!r}")
        if self.row is not None:
            rows = [int(r) for r in np.atleast_1d(self.row)]
            shown = ", ".join(str(r) for r in rows[:10]) + (", ..." if len(rows) > 10 else "")
            where.append(("row " if len(rows) == 1 else "rows ") + shown)
        if self.period is not None:
            where.append(_period_words(self.period))
        return (", ".join(where) + ": " if where else "") + self.reason

    def __reduce__(self):
        return (_restore_data_error, (self.reason, self.path, self.column, self.row, self.period))


def _restore_data_error(reason, path, column, row, period):
    return DataError(reason, path=path, column=column, row=row, period=period)


_LONG_DIGITS = re.compile(r"\d{10,}")


def _shown(value, *, limit: int = 24, hidden: str = "the cell") -> str:
    """A cell's text quoted for a message, unless it might be personal data.

    Only cells of columns that hold no personal data (counts, period labels, codes)
    come here; dates, ids and free text of an extract are never quoted.  Even so, a
    text longer than ``limit`` characters, holding an e-mail address or ten digits in a
    row once spaces and dashes are dropped (a personal identity number, a phone number)
    is not quoted: the message says "the cell" instead.

    Examples
    --------
    >>> _shown("12 st"), _shown("tolvan 19121212-1212")
    ("'12 st'", 'the cell')
    """
    text = str(value)
    if len(text) > limit or "@" in text or _LONG_DIGITS.search(re.sub(r"[\s\-+./]", "", text)):
        return hidden
    return repr(text)


def _period_words(period) -> str:
    if isinstance(period, pd.Period):
        if period.freqstr.startswith("W"):
            return f"week {iso_week_label([period])[0]}"
        if period.freqstr.startswith("M"):
            return f"month {period.strftime('%Y-%m')}"
        return f"period {period}"
    text = str(period)
    return f"week {text}" if re.fullmatch(r"\d{4}-W\d{2}", text) else f"period {text}"


def _period_labels(periods) -> np.ndarray:
    """Readable labels: ISO weeks as '2024-W05', months as '2024-01' (worked out once per
    distinct period)."""
    index = pd.PeriodIndex(periods)
    if len(index) == 0:
        return np.array([], dtype=object)
    codes, uniques = pd.factorize(index)
    if len(uniques) < len(index):
        return np.append(_period_labels(uniques), None).astype(object)[codes]
    if index.freqstr.startswith("W"):
        return np.asarray(iso_week_label(index), dtype=object)
    if index.freqstr.startswith("M"):
        return np.asarray(index.strftime("%Y-%m"), dtype=object)
    return np.asarray(index.astype(str), dtype=object)


def _raise_first(bad, reason, *, path, column, rows, period=None):
    """Raise a DataError for the first True of ``bad``; ``reason(i)`` gives the text."""
    bad = np.asarray(bad, dtype=bool)
    if not bad.any():
        return
    idx = np.flatnonzero(bad)
    i = int(idx[0])
    more = f" ({idx.size - 1} more row{'s' if idx.size > 2 else ''} like it)" if idx.size > 1 else ""
    raise DataError(reason(i) + more, path=path, column=column, row=int(rows[i]),
                    period=None if period is None else period(i))
