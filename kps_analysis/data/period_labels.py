"""Reading period labels (ISO weeks, months, dates) into pandas periods.

Part of :mod:`kps_analysis.data`; see its docstring for the canonical frames.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from ..calendar import weeks_in_year
from . import cells
from .cells import _mask, _texts
from .errors import _raise_first, _shown
from .schema import _WEEK_FREQ

# ---------------------------------------------------------------------------- periods
_MONTHS = {
    "januari": 1, "jan": 1, "january": 1, "februari": 2, "feb": 2, "february": 2, "mars": 3,
    "mar": 3, "march": 3, "april": 4, "apr": 4, "maj": 5, "may": 5, "juni": 6, "jun": 6, "june": 6,
    "juli": 7, "jul": 7, "july": 7, "augusti": 8, "aug": 8, "august": 8, "september": 9, "sep": 9,
    "sept": 9, "oktober": 10, "okt": 10, "october": 10, "oct": 10, "november": 11, "nov": 11,
    "december": 12, "dec": 12,
}
_WEEK_WORD = r"(?:vecka|week|vk|wk|v|w)\.?"
_PERIOD_PATTERNS = {
    "week_a": rf"(?P<y>\d{{4}}) *[-/]? *{_WEEK_WORD} *(?P<w>\d{{1,2}})",
    "week_b": rf"{_WEEK_WORD} *(?P<w>\d{{1,2}}) *[-/,]? *(?P<y>\d{{4}})",
    "num6": r"(?P<y>\d{4})(?P<n>\d{2})",
    "num_sep": r"(?P<y>\d{4}) *[-/.] *(?P<n>\d{1,2})",
    "date_iso": r"(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})(?:[ t]\d{1,2}:\d{2}(?::\d{2}(?:\.\d*)?)?)?",
    "date_eu": r"(?P<d>\d{1,2})[./](?P<m>\d{1,2})[./](?P<y>\d{4})",
    "date8": r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})",
    "month_a": r"(?P<name>[a-zåäö]+)\.? *[-/]? *(?P<y>\d{4})",
    "month_b": r"(?P<y>\d{4}) *[-/]? *(?P<name>[a-zåäö]+)\.?",
}


def _mondays(years: np.ndarray, weeks: np.ndarray) -> np.ndarray:
    """Monday (datetime64[D]) of ISO week ``weeks`` of ISO year ``years``."""
    jan4 = (years - 1970).astype("datetime64[Y]").astype("datetime64[D]") + 3
    weekday = (jan4.astype(np.int64) + 3) % 7  # Monday = 0
    return jan4 - weekday + 7 * (weeks - 1)


def _weeks_from_days(days: np.ndarray) -> pd.PeriodIndex:
    return pd.DatetimeIndex(days.astype("datetime64[ns]")).to_period(_WEEK_FREQ)


def _parse_periods(values: pd.Series, kind: str, *, years=None, path, column, rows) -> pd.PeriodIndex:
    """Week or month labels -> PeriodIndex (W-SUN or M); ``kind`` from the header.

    Each distinct label (with its year) is read once: a file of millions of rows holds a
    few hundred weeks.  An error names the first row with the label.
    """
    if isinstance(values.dtype, pd.PeriodDtype) or len(values) < cells.PLAIN_MIN_ROWS:
        return _parse_period_labels(values, kind, years=years, path=path, column=column, rows=rows)
    key = values if years is None else _texts(values) + "\x1f" + years
    codes, uniques = pd.factorize(key, use_na_sentinel=False)
    first = np.full(len(uniques), len(codes), dtype=np.int64)
    np.minimum.at(first, codes, np.arange(len(codes)))
    labels = _parse_period_labels(values.iloc[first].reset_index(drop=True), kind,
                                  years=None if years is None else years.iloc[first].reset_index(drop=True),
                                  path=path, column=column, rows=rows, expand=codes)
    return labels[codes]


def _parse_period_labels(values: pd.Series, kind: str, *, years=None, path, column, rows,
                         expand=None) -> pd.PeriodIndex:
    """:func:`_parse_periods` of ``values``; with ``expand``, ``values`` are the distinct
    labels and ``expand`` the label of each row (errors name rows of ``rows``).

    Steps: the labels as text (with their years), what each label is (a week, a month's
    name, a number, a date), weeks or months for the column, then the periods.
    """

    def fail(bad, reason):
        if expand is None:
            return _raise_first(bad, reason, path=path, column=column, rows=rows)
        bad = np.asarray(bad, dtype=bool)
        if bad.any():
            _raise_first(bad[expand], lambda i: reason(int(expand[i])), path=path, column=column, rows=rows)

    if isinstance(values.dtype, pd.PeriodDtype):
        freq = values.dtype.freq.freqstr
        if freq == _WEEK_FREQ or (freq.startswith("M") and kind != "period:week"):
            return pd.PeriodIndex(values)
        return pd.PeriodIndex(values.dt.start_time.dt.to_period("M" if kind == "period:month" else _WEEK_FREQ))
    text = _texts(values, lower=True)
    if years is not None:
        short = text.str.fullmatch(rf"(?:{_WEEK_WORD} *)?\d{{1,2}}|[a-zåäö]+\.?")
        fail(_mask(short & (years == "")), lambda i: "no year for this period")
        text = text.where(~short, years + " " + text.str.replace(r"^(\d{1,2})$", r"-\1", regex=True))
        text = text.str.replace(r"^(\d{4}) -(\d{1,2})$", r"\1-\2", regex=True)
    labels = _Labels.read(text)
    fail(labels.unread, lambda i: f"cannot read {_shown(text.iloc[i])} as a "
         f"{'week' if kind == 'period:week' else 'month' if kind == 'period:month' else 'week or month'}"
         " (e.g. '2024-W05', '2024-01')")
    freq = _label_freq(labels, kind, fail)
    y_all, n_all = labels.year, labels.number
    fail((y_all < 1900) | (y_all > 2200), lambda i: f"year {y_all[i]} in {_shown(text.iloc[i])} is out of range")
    date_days = np.zeros(len(text), dtype="datetime64[D]")
    if labels.is_date.any():
        stamps = pd.to_datetime(pd.DataFrame({"year": y_all, "month": np.where(labels.is_date, n_all, 1),
                                              "day": np.where(labels.is_date, labels.day, 1)}), errors="coerce")
        fail(labels.is_date & _mask(stamps.isna()), lambda i: f"{_shown(text.iloc[i])} is not a valid date")
        date_days = stamps.to_numpy(dtype="datetime64[D]")
    if freq == "W":
        return _week_periods(labels, date_days, fail)
    nums = labels.is_month_name | labels.is_num
    fail(nums & ((n_all < 1) | (n_all > 12)), lambda i: f"{_shown(text.iloc[i])}: there is no month {n_all[i]}")
    first = pd.to_datetime(pd.DataFrame({"year": y_all, "month": np.where(nums, n_all, 1), "day": 1}))
    first = np.where(nums, first.to_numpy(dtype="datetime64[D]"), date_days)
    return pd.DatetimeIndex(first.astype("datetime64[ns]")).to_period("M")


@dataclasses.dataclass
class _Labels:
    """What each period label is, by :data:`_PERIOD_PATTERNS`: a week, a month's name, a
    number (``202405``, ``2024-05``: week or month), a date; its year, number (week, month)
    and day."""

    text: pd.Series
    is_week: np.ndarray
    is_month_name: np.ndarray
    is_num: np.ndarray
    is_date: np.ndarray
    year: np.ndarray
    number: np.ndarray
    day: np.ndarray

    @property
    def unread(self) -> np.ndarray:
        return ~(self.is_week | self.is_month_name | self.is_num | self.is_date)

    @classmethod
    def read(cls, text: pd.Series) -> _Labels:
        n = len(text)
        parts = {name: text.str.extract(rf"^{pattern}$") for name, pattern in _PERIOD_PATTERNS.items()}
        match = {name: _mask(frame.notna().all(axis=1)) if name not in ("month_a", "month_b")
                 else _mask(frame["y"].notna()) for name, frame in parts.items()}
        month_no = np.zeros(n, dtype=np.int64)
        for name in ("month_a", "month_b"):
            names = parts[name]["name"].map(_MONTHS)
            ok = match[name] & _mask(names.notna())
            month_no = np.where(ok, names.fillna(0).to_numpy(dtype=np.int64), month_no)
            match[name] = ok
        is_week = match["week_a"] | match["week_b"]
        is_month_name = match["month_a"] | match["month_b"]
        is_num = (match["num6"] | match["num_sep"]) & ~is_week
        is_date = (match["date_iso"] | match["date_eu"] | match["date8"]) & ~is_num
        y_all = np.zeros(n, dtype=np.int64)
        n_all = np.zeros(n, dtype=np.int64)
        d_all = np.zeros(n, dtype=np.int64)

        def take(name, field, target, mask):
            col = pd.to_numeric(parts[name][field], errors="coerce").fillna(0).to_numpy(dtype=np.int64)
            return np.where(mask, col, target)

        for name, field in (("week_a", "w"), ("week_b", "w"), ("num6", "n"), ("num_sep", "n")):
            m = match[name] & (is_week if name.startswith("week") else is_num)
            y_all = take(name, "y", y_all, m)
            n_all = take(name, field, n_all, m)
        for name in ("month_a", "month_b"):
            y_all = take(name, "y", y_all, match[name])
        n_all = np.where(is_month_name, month_no, n_all)
        for name in ("date_iso", "date_eu", "date8"):
            m = match[name] & is_date
            y_all = take(name, "y", y_all, m)
            n_all = take(name, "m", n_all, m)
            d_all = take(name, "d", d_all, m)
        return cls(text, is_week, is_month_name, is_num, is_date, y_all, n_all, d_all)


def _label_freq(labels: _Labels, kind: str, fail) -> str:
    """``"W"`` or ``"M"``: from the header's ``kind``, else from the labels (weeks if any
    label is a week, months if any names a month, numbers above 12 are weeks, dates the
    first or last of their months a month or more apart are months); ``fail`` for labels
    that do not fit, or numbers that could be either."""
    text, is_week, is_month_name, is_num = labels.text, labels.is_week, labels.is_month_name, labels.is_num
    if kind == "period:week":
        fail(is_month_name, lambda i: f"{_shown(text.iloc[i])} is a month, but the column holds weeks")
        return "W"
    if kind == "period:month":
        fail(is_week, lambda i: f"{_shown(text.iloc[i])} is a week, but the column holds months")
        return "M"
    if is_week.any() and is_month_name.any():
        fail(is_month_name, lambda i: f"{_shown(text.iloc[i])} is a month, but other rows hold weeks")
    if is_week.any():
        freq = "W"
    elif is_month_name.any():
        freq = "M"
    elif is_num.any():
        freq = "W" if (labels.number[is_num] > 12).any() else "M"
        if freq == "M":  # numbers 1-12 only: months if written as months (2024-05), else no guess
            as_month = _mask(text.str.fullmatch(r"\d{4}[-/]\d{2}"))
            fail(is_num & ~as_month,
                 lambda i: f"{_shown(text.iloc[i])} could be a week or a month (the numbers go no "
                 "higher than 12); write weeks as '2024-W05' and months as '2024-05', or name the "
                 "column 'Vecka' or 'Månad'")
    else:
        is_date = labels.is_date
        days = pd.to_datetime(pd.DataFrame({"year": labels.year[is_date], "month": labels.number[is_date],
                                            "day": labels.day[is_date]}), errors="coerce")
        distinct = days.dropna().drop_duplicates().sort_values()
        month_like = distinct.dt.is_month_start.all() or distinct.dt.is_month_end.all()
        freq = "M" if len(distinct) >= 2 and month_like and (distinct.diff().dt.days.dropna() >= 28).all() else "W"
    if freq == "M":
        fail(is_week, lambda i: f"{_shown(text.iloc[i])} is a week, but other rows hold months")
    return freq


def _week_periods(labels: _Labels, date_days: np.ndarray, fail) -> pd.PeriodIndex:
    """ISO weeks (``W-SUN``) of week and number labels (checked: week 1 to the year's last)
    and of dates (``date_days``: the week holding them)."""
    text, y_all, n_all = labels.text, labels.year, labels.number
    nums = labels.is_week | labels.is_num
    fail(nums & ((n_all < 1) | (n_all > 53)), lambda i: f"{_shown(text.iloc[i])}: there is no week {n_all[i]}")
    n_weeks = np.asarray(weeks_in_year(np.where(nums, y_all, 2000)))
    fail(nums & (n_all > n_weeks),
         lambda i: f"{_shown(text.iloc[i])}: week {n_all[i]} does not exist in {y_all[i]} "
         f"({y_all[i]} has {n_weeks[i]} ISO weeks)")
    mondays = np.where(nums, _mondays(y_all, np.where(nums, n_all, 1)), date_days)
    return _weeks_from_days(mondays)
