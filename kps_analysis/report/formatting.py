"""Numbers and periods as report text: Swedish number format (space as thousands separator,
decimal comma), signed changes, ISO period labels and periods as a reader names them.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..calendar import WEEK_FREQ, iso_year_week
from .labels import label, month_name

#: A month's label as the tables hold it (``2026-12``); a week's is ``2026-W49`` or its dates.
MONTH_LABEL = r"\d{4}-\d{2}"

def format_count(value: float, *, language: str = "sv", decimals: int = 0) -> str:
    """Format a number the Swedish way (space as thousands separator, decimal comma).

    Parameters
    ----------
    value : float
        The number [any unit].
    language : {"sv", "en"}
        "sv" gives ``12 345,6``; "en" gives ``12,345.6``.
    decimals : int
        Decimals shown.

    Examples
    --------
    >>> format_count(12345.678, decimals=1) == "12\\u00a0345,7"  # non-breaking space
    True
    >>> format_count(12345.678, language="en", decimals=1)
    '12,345.7'
    >>> format_count(float("nan"))
    '–'
    >>> format_count(-4.8, decimals=1), format_count(-0.04, decimals=1)   # a real minus sign; no "−0,0"
    ('−4,8', '0,0')
    """
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "–"
    text = f"{value:,.{decimals}f}"
    if text.startswith("-"):
        digits = text[1:]
        text = digits if not digits.strip("0.,") else "\u2212" + digits
    if language == "sv":
        text = text.replace(",", "\u00a0").replace(".", ",")
    return text


def format_signed(value: float, *, language: str = "sv", decimals: int = 0) -> str:
    """A change with its sign: ``+12``, ``−7`` (a real minus sign), ``0``; NaN gives "–".

    Examples
    --------
    >>> format_signed(12.0), format_signed(-7.0), format_signed(0.0), format_signed(0.75, decimals=1)
    ('+12', '−7', '0', '+0,8')
    """
    if value is None or value != value:
        return "–"
    text = format_count(abs(float(value)), language=language, decimals=decimals)
    if round(abs(float(value)), decimals) == 0:
        return text
    return ("+" if value > 0 else "−") + text


def format_share(share: float, *, language: str = "sv") -> str:
    """A share [0-1] as a per cent with one decimal, or two where one decimal would show a
    whole per cent the share is not (5,04 % is over a 5 % target; "5,0 %" read as on it).

    The one format of a share in reports, tables, the index and the region overview.

    Examples
    --------
    >>> format_share(0.287), format_share(0.0504), format_share(0.05), format_share(0.0496)
    ('28,7 %', '5,04 %', '5,0 %', '4,96 %')
    """
    if share is None or share != share or abs(float(share)) == float("inf"):
        return "–"
    pct = 100 * float(share)
    near_whole = round(pct, 1) == round(pct) and round(pct, 2) != round(pct)
    return format_count(pct, language=language, decimals=2 if near_whole else 1) + " %"


def format_against(value: float, limit: float, *, language: str = "sv") -> str:
    """A signed per cent [%] set against a limit [%]: whole per cents, one decimal where the
    whole number would hide which side of the limit the value lies on (−15,4 % past a
    15 % tolerance read "−15 %, more than 15 %").

    Examples
    --------
    >>> format_against(-15.4, 15), format_against(-37.2, 15), format_against(14.6, 15)
    ('−15,4', '−37', '+14,6')
    """
    if value is None or value != value or abs(float(value)) == float("inf"):
        return "–"
    whole = round(abs(float(value)))
    near = limit is not None and limit == limit and whole == round(abs(float(limit)))
    decimals = 1 if near and abs(float(value)) != whole else 0
    return format_signed(value, language=language, decimals=decimals)


def period_labels(periods: pd.Series) -> pd.Series:
    """ISO labels for a Series of Periods: ``2024-W05`` (weeks) or ``2024-05`` (months).

    Examples
    --------
    >>> s = pd.Series(pd.period_range("2024-01-29", periods=2, freq="W-SUN"))
    >>> period_labels(s).tolist()
    ['2024-W05', '2024-W06']
    """
    freq = periods.dtype.freq.freqstr if isinstance(periods.dtype, pd.PeriodDtype) else ""
    if freq.startswith("W"):
        if freq != WEEK_FREQ or not len(periods) or periods.isna().any():
            iso = periods.dt.start_time.dt.isocalendar()
            # text operations only, so an empty column works the same on every pandas version
            return iso["year"].astype(str) + "-W" + iso["week"].astype(str).str.zfill(2)
        year, week = iso_year_week(pd.PeriodIndex(periods))
        return pd.Series([f"{y}-W{w:02d}" for y, w in zip(year.tolist(), week.tolist())], index=periods.index)
    return periods.astype(str)


def data_period(periods: pd.Series) -> tuple[str, str] | None:
    """First and last period of a data set as ISO labels, for the provenance footer.

    Examples
    --------
    >>> data_period(pd.Series(pd.period_range("2024-01-01", periods=3, freq="W-SUN")))
    ('2024-W01', '2024-W03')
    """
    if len(periods) == 0:
        return None
    ordered = pd.Series(sorted(periods.unique()), dtype=periods.dtype)
    labels = period_labels(ordered)
    return labels.iloc[0], labels.iloc[-1]


def period_kind(periods) -> str:
    """``"week"`` or ``"month"``: the kind of period of a Series/Index of Periods or a freq.

    Examples
    --------
    >>> period_kind(pd.Series(pd.period_range("2026-01", periods=2, freq="M")))
    'month'
    >>> period_kind("W-SUN")
    'week'
    """
    freq = periods
    if isinstance(getattr(periods, "dtype", None), pd.PeriodDtype):
        freq = periods.dtype.freq
    elif isinstance(periods, pd.Period):
        freq = periods.freq
    name = freq if isinstance(freq, str) else getattr(freq, "freqstr", str(freq))
    return "month" if name.upper().startswith("M") else "week"


def as_period(period) -> pd.Period | None:
    """A period or its text (``2026-W49``, ``2026-11-30/2026-12-06``, ``2026-12``) as a
    Period (weekly ``W-SUN`` or monthly); None for anything else.

    >>> as_period("2026-W49"), as_period("2026-12"), as_period("x")
    (Period('2026-11-30/2026-12-06', 'W-SUN'), Period('2026-12', 'M'), None)
    """
    if isinstance(period, pd.Period):
        return period
    if period is None or (isinstance(period, float) and np.isnan(period)):
        return None
    text = str(period)
    try:
        if re.fullmatch(r"\d{4}-W\d{2}", text):
            return pd.Period(pd.Timestamp.fromisocalendar(int(text[:4]), int(text[6:]), 1), freq="W-SUN")
        if re.fullmatch(MONTH_LABEL, text):
            return pd.Period(text, freq="M")
        return pd.Period(text.split("/")[0], freq="W-SUN")
    except (ValueError, TypeError):
        return None


def data_ends(periods) -> list:
    """The distinct last periods of a run's clinics (their ``summary.csv`` ``period``), in the
    order their last days fall (weeks and months together), for "data up to ..." on the index
    and the region overview: the same list on both.

    >>> data_ends(["2026-11", "2026-W48", "2026-W41", "2026-W48", None])
    ['2026-W41', '2026-W48', '2026-11']
    """
    texts = [str(p) for p in periods if p is not None and p == p and str(p) != ""]
    unique = list(dict.fromkeys(texts))
    ends = {t: as_period(t) for t in unique}
    return sorted(unique, key=lambda t: (ends[t] is None, ends[t].end_time if ends[t] is not None else 0, t))


def period_name(period, language: str = "sv", *, year: bool = True) -> str:
    """A period as a reader names it: ``"v. 49 2026"`` (ISO week) or ``"dec 2026"`` (month).

    Accepts a Period or its text (``2026-W49``, ``2026-11-30/2026-12-06``, ``2026-12``);
    anything else is returned as text; NaN/None gives "–".

    Examples
    --------
    >>> period_name(pd.Period("2026-12-02", freq="W-SUN")), period_name("2027-01", "en")
    ('v. 49 2026', 'Jan 2027')
    >>> period_name("2026-11-30/2026-12-06", year=False)
    'v. 49'
    """
    if period is None or (isinstance(period, float) and np.isnan(period)):
        return "–"
    p = as_period(period)
    if p is None:
        return str(period)
    if period_kind(p) == "month":
        name = month_name(p.month, language)
        return f"{name} {p.year}" if year else name
    iso = p.start_time.isocalendar()
    word = label("format.wk", language)
    return f"{word} {iso.week} {iso.year}" if year else f"{word} {iso.week}"

