"""Workbooks for analysts: ``plan.xlsx`` and an ``.xlsx`` beside each result table.

The result tables (``tables/*.csv``) are the machine contract of a run (outputs/README.md, see docs/architecture.md:
comma separated, decimal point, UTF-8, English identifiers as headers; the
index, the region overview, the next run and other tools read them). Swedish Excel
opens such a file as one column, so beside each ``<name>.csv`` this module writes
``<name>.xlsx``: the same rows with headers and category values in the report
language, real dates and ISO week numbers, number formats (whole patients with a
thousands separator, kr, per cent stored as fractions), column widths, a frozen header
row and an Excel table with filters. ``plan.xlsx`` is the clinic's planning workbook:
the production plan, the purchase per month, the capacity check, the plan history and
a wide follow-up of the current year, with formulas where an analyst extends a sheet
(accumulated plan and outcome, deviation = outcome − plan, accumulated deviation %).

Cells hold the numbers of the frames they are given, nothing recomputed; counts the
suppression rule hid (NaN with a ``<column>_suppressed`` flag, see
:func:`kps_analysis.report.suppress_tables`) are written as the text ``dolt``
(``hidden``), never in clear. Formula cells carry no cached value: Excel and
LibreOffice compute them when the file is opened (the workbook asks for a full
calculation on load).

Every writer is atomic (:func:`kps_analysis.report.atomic_path`).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import functools
import gc
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .report.formatting import MONTH_LABEL
from .report.labels import TEXTS, label

__all__ = ["HEADERS", "VALUES", "TABLE_TITLES", "NUMBER_FORMATS", "Sheet", "header", "value_text", "sheet_from_frame",
           "plan_sheet", "sheet_for", "purchase_month_sheet", "history_sheet", "follow_up_sheet", "write_workbook",
           "write_table_xlsx", "week_monday"]


def _pairs(prefix: str) -> dict[str, tuple[str, str]]:
    """The catalogue's texts under ``prefix`` (:data:`kps_analysis.report.labels.TEXTS`) as ``name -> (sv, en)``."""
    return {k[len(prefix):]: (v["sv"], v["en"]) for k, v in TEXTS.items() if k.startswith(prefix)}


#: Column identifier -> header (sv, en) of the result tables' and the plans' columns: the
#: catalogue's ``column.<id>`` (the measures' names come from :data:`kps_analysis.report.LABELS`).
HEADERS: dict[str, tuple[str, str]] = _pairs("column.")

#: Result table (``tables/<name>.csv``) -> sheet title of its ``.xlsx`` (sv, en): ``sheet_title.<name>``.
TABLE_TITLES: dict[str, tuple[str, str]] = _pairs("sheet_title.")

#: Headline stems with a horizon suffix (``_12w``, ``_fixed``): header (sv, en): ``stem.<name>``.
_STEMS: dict[str, tuple[str, str]] = _pairs("stem.")
_SUFFIXES = _pairs("suffix.")

#: Column -> code -> (sv, en): category values written in words: ``value.<column>.<code>``.
VALUES: dict[str, dict[str, tuple[str, str]]] = {}
for _key, _pair in _pairs("value.").items():
    VALUES.setdefault(_key.split(".", 1)[0], {})[_key.split(".", 1)[1]] = _pair
VALUES["escalation_level"] = VALUES["level"]
VALUES["level_if_at_risk"] = VALUES["level"]

#: Excel number formats per kind of column (codes in the file are locale-neutral: Swedish
#: Excel shows ``#,##0`` as ``1 234`` and ``0.0%`` as ``2,6 %``).
NUMBER_FORMATS = {
    "int": "#,##0", "dec1": "#,##0.0", "dec2": "#,##0.00", "kr_sv": '#,##0 "kr"', "kr_en": '#,##0 "SEK"',
    "share": "0.0%", "date": "yyyy-mm-dd", "month": "yyyy-mm", "number": "0", "text": "@",
}

_SHARES = {"share_within_guarantee", "share_over_90_days", "tolerance", "coverage_80", "coverage_95", "smape", "wape"}
_DEC2 = {"load", "mase", "bias", "waiting_list_pressure"}
#: Columns whose values are weeks (Period, ``2026-W49`` or ``2026-11-30/2026-12-06``) other than the row's period.
_WEEK_VALUED = {"first_order_by", "order_by", "first_week"}
_WEEK_VALUED_SUFFIX = "_week"
#: Deprecated column -> its period-generic name: the old one is left out of a sheet that has both.
_OLD_NAMES = {"this_week": "this_period", "last_week": "last_period", "queue_change_1w": "queue_change_1p"}


def _i(language: str) -> int:
    if language not in ("sv", "en"):
        raise ValueError(f"language must be 'sv' or 'en', got {language!r}")
    return 0 if language == "sv" else 1


def header(column: str, language: str = "sv") -> str:
    """The header of a result-table column in the report language.

    Looked up in :data:`HEADERS`, the report's :data:`kps_analysis.report.LABELS`, then as a headline stem with a
    horizon suffix
    (``purchase_need_12w`` -> "Köpbehov, 12 veckor"); an unknown column keeps its name.

    Examples
    --------
    >>> header("own_production"), header("cost_external_sek", "en"), header("purchase_need_fixed")
    ('Planerad egen produktion', 'Cost bought (SEK)', 'Köpbehov, fastställda perioden')
    """
    from . import report as _report

    i = _i(language)
    if column in HEADERS:
        return HEADERS[column][i]
    if column in _report.LABELS:
        return _report.LABELS[column][language]
    for suffix, words in _SUFFIXES.items():
        if column.endswith(suffix) and column[: -len(suffix)] in _STEMS:
            return _STEMS[column[: -len(suffix)]][i] + words[i]
    if column in _STEMS:
        return _STEMS[column][i]
    return column


def value_text(column: str, value, language: str = "sv"):
    """A category value in words (``new_visit`` -> "Nybesök"); other values unchanged.

    Examples
    --------
    >>> value_text("stage", "treatment"), value_text("measure", "new_visits", "en"), value_text("clinic", "uro")
    ('Operationer', 'New visits', 'uro')
    >>> value_text("escalation_reason", "target_missed,purchase_needed")
    'målet nås inte, köp behövs'
    """
    from . import report as _report

    i = _i(language)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if column == "measure":
        return _report.LABELS.get(value, {}).get(language, value)
    if column == "column":
        return header(str(value), language)
    if column == "method" and f"model.{value}" in _report.TEXTS:   # a forecast method, as the report names it
        text = _report.label(f"model.{value}", language)
        return text[:1].upper() + text[1:]
    words = VALUES.get(column)
    if words is None:
        return value
    if column == "escalation_reason" and isinstance(value, str):
        return ", ".join(words.get(v, (v, v))[i] for v in value.split(",") if v)
    return words[value][i] if value in words else value


#: Characters an XML worksheet cannot hold (openpyxl's ILLEGAL_CHARACTERS_RE).
_ILLEGAL = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")
#: Texts openpyxl stores as Excel errors (``openpyxl.cell.cell.ERROR_CODES``).
_ERROR_CODES = ('#NULL!', '#DIV/0!', '#VALUE!', '#REF!', '#NAME?', '#NUM!', '#N/A')
_ISO_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


def week_monday(value) -> _dt.date | None:
    """The Monday of an ISO week given as a Period, ``2026-W49`` or ``2026-11-30/2026-12-06``.

    Examples
    --------
    >>> week_monday("2026-W49"), week_monday("2026-11-30/2026-12-06")
    (datetime.date(2026, 11, 30), datetime.date(2026, 11, 30))
    >>> week_monday(pd.Period("2026-12-03", "W-SUN")), week_monday(None)
    (datetime.date(2026, 11, 30), None)
    """
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return None
    if isinstance(value, pd.Period):
        return value.start_time.date()
    text = str(value)
    m = _ISO_WEEK.match(text)
    if m:
        return _dt.date.fromisocalendar(int(m.group(1)), int(m.group(2)), 1)
    try:
        return pd.Timestamp(text.split("/")[0]).date()
    except ValueError:
        return None


@dataclass
class Sheet:
    """One worksheet: cell values, a kind per column, optional formula columns.

    ``frame`` holds the values (headers are the final header texts); ``kinds`` maps a
    header to a key of :data:`NUMBER_FORMATS` (or ``"kr"``, resolved by language);
    ``formulas`` maps a header to a template such as
    ``"={Utfall}{r}-{Plan}{r}"`` where ``{<header>}`` is that column's letter, ``{r}``
    the row and ``{first}`` the first data row (the column's cells in ``frame`` are
    ignored). ``groups`` puts a row of merged group titles above the header (header text
    -> group title). ``freeze_after`` is the last header of the frozen key columns.
    """

    name: str
    frame: pd.DataFrame
    kinds: dict = field(default_factory=dict)
    formulas: dict = field(default_factory=dict)
    groups: dict = field(default_factory=dict)
    table: str = "Tabell"
    freeze_after: str | None = None
    note: str | None = None
    status_columns: tuple = ()


def _float_kind(column: str, values: pd.Series) -> str:
    finite = values[np.isfinite(values)]
    if column in _DEC2:
        return "dec2"
    if len(finite) and np.allclose(finite, np.round(finite), rtol=0, atol=1e-9):
        return "int"
    return "dec1"


def _kind_of(column: str, series: pd.Series, columns) -> str:
    if column.endswith("_sek") or column.startswith("purchase_cost") or column == "saving_sek":
        return "kr"
    if column.endswith("_pct") or column in _SHARES or column.startswith("p_no_breach") or (
            column == "deviation" and "tolerance" in columns):
        return "share"
    if pd.api.types.is_bool_dtype(series):
        return "text"
    if pd.api.types.is_integer_dtype(series):
        return "int"
    if pd.api.types.is_float_dtype(series):
        return _float_kind(column, series.to_numpy(dtype=float))
    return "text"


def _freq(series: pd.Series) -> str:
    if isinstance(series.dtype, pd.PeriodDtype):
        return "M" if series.dtype.freq.freqstr.startswith("M") else "W"
    sample = series.dropna().astype(str)
    if len(sample) and sample.str.fullmatch(MONTH_LABEL).all():
        return "M"
    return "W"


def _month_first(value) -> _dt.date | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return None
    if isinstance(value, pd.Period):
        return value.start_time.date()
    try:
        return pd.Period(str(value), freq="M").start_time.date()
    except ValueError:
        return None


def _unique(names: list[str], ids: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    for n in names:
        seen[n] = seen.get(n, 0) + 1
    return [f"{n} ({c})" if seen[n] > 1 else n for n, c in zip(names, ids)]


@dataclass
class _Columns:
    """The columns of a sheet being built: identifier -> values, kind and header text, in order."""

    ids: list = field(default_factory=list)
    values: dict = field(default_factory=dict)
    kinds: dict = field(default_factory=dict)
    names: dict = field(default_factory=dict)

    def put(self, key: str, text: str, values, kind: str) -> None:
        self.ids.append(key)
        self.values[key] = list(values)
        self.kinds[key] = kind
        self.names[key] = text


def _kept_columns(table: pd.DataFrame, skip) -> list:
    """The columns a sheet shows: not skipped, no ``*_suppressed`` flags, no deprecated twin."""
    return [c for c in table.columns if c not in skip and not str(c).endswith("_suppressed")
            and _OLD_NAMES.get(c) not in table.columns]


def _put_period(cols: _Columns, s: pd.Series, language: str) -> None:
    """The row's period: year, ISO week and the week's Monday (weekly) or the month's first day."""
    if _freq(s) == "W":
        mondays = [week_monday(v) for v in s]
        iso = [d.isocalendar() if d else None for d in mondays]
        cols.put("year", header("year", language), [x[0] if x else None for x in iso], "number")
        cols.put("week", label("week", language), [x[1] if x else None for x in iso], "number")
        cols.put("period", label("workbook.week_starts", language), mondays, "date")
    else:
        cols.put("period", label("month", language), [_month_first(v) for v in s], "month")


def _order_week(period, ahead, order, monthly: bool):
    """The period to order in (``ahead - order`` periods before the row's), or None."""
    base = period if isinstance(period, pd.Period) else None
    if base is None:
        d = _month_first(period) if monthly else week_monday(period)
        base = None if d is None else pd.Period(d, freq="M" if monthly else "W-SUN")
    if base is None or pd.isna(ahead) or pd.isna(order):
        return None
    return base - int(ahead - order)


def _put_order_by(cols: _Columns, col: str, table: pd.DataFrame, ahead: str, language: str) -> None:
    """``order_by_week`` / ``order_by_period`` (periods ahead): the order period's first day
    (and its ISO week number beside it for weekly data)."""
    monthly = _freq(table["period"]) == "M"
    whens = [_order_week(p, a, o, monthly) for p, a, o in zip(table["period"], table[ahead], table[col])]
    mondays = [None if w is None else w.start_time.date() for w in whens]
    if monthly:
        cols.put(col, label("workbook.order_by_month", language), mondays, "month")
        return
    weeks = [None if w is None else w.start_time.isocalendar()[1] if w.freqstr.startswith("W") else None
             for w in whens]
    cols.put(col + ":week", label("workbook.order_by_week", language), weeks, "number")
    cols.put(col, label("workbook.order_by_week_starts", language), mondays, "date")


def _is_week_valued(col: str, s: pd.Series) -> bool:
    return col in _WEEK_VALUED or (col.endswith(_WEEK_VALUED_SUFFIX) and col not in ("last_week", "this_week")
                                   and (s.dtype == object or pd.api.types.is_string_dtype(s)
                                        or isinstance(s.dtype, pd.PeriodDtype)))


def _put_week_valued(cols: _Columns, col: str, s: pd.Series, language: str) -> None:
    """A column whose values are weeks (or months of a monthly plan): their first day as a date."""
    text = header(col, language)
    if _freq(s) == "M" or any(isinstance(v, pd.Period) and v.freqstr.startswith("M") for v in s):
        cols.put(col, text, [_month_first(v) for v in s], "month")  # a month of a monthly plan
    else:
        cols.put(col, f"{text} ({label('workbook.week_starts_lower', language)})", [week_monday(v) for v in s],
                 "date")


def _values_in_words(col: str, s: pd.Series, kind: str, hidden, language: str) -> list:
    """A value column's cells: booleans Ja/Nej, ``*_pct`` as fractions, category codes in
    words, and the text ``dolt`` where the suppression rule hid a count."""
    if pd.api.types.is_bool_dtype(s) or (s.dtype == object and len(s.dropna()) and all(
            isinstance(v, (bool, np.bool_)) for v in s.dropna())):
        yes, no = label("workbook.yes", language), label("workbook.no", language)
        values = [None if pd.isna(v) else (yes if v else no) for v in s.astype(object)]
    elif kind == "share" and col.endswith("_pct"):
        values = list(s.astype(float) / 100.0)
    elif kind == "text":
        objects = s.astype(object)
        words = {v: value_text(col, v, language) for v in pd.unique(objects.dropna())}
        values = [words.get(v, v) if v is not None and v == v else None for v in objects]
    else:
        values = list(s)
    if hidden.any():
        hidden_text = label("workbook.hidden", language)
        values = [hidden_text if h else v for v, h in zip(values, hidden)]
    return values


def _put_values(cols: _Columns, col: str, table: pd.DataFrame, ahead: str | None, language: str) -> None:
    """Any other column: its values in words under its header."""
    s = table[col]
    if pd.api.types.is_datetime64_any_dtype(s):
        stamps = s.dt.tz_localize(None) if getattr(s.dt, "tz", None) is not None else s
        cols.put(col, header(col, language), [None if pd.isna(v) else v.to_pydatetime() for v in stamps], "date")
        return
    kind = _kind_of(col, s, table.columns)
    flag = f"{col}_suppressed"
    hidden = (table[flag].fillna(False).astype(bool).to_numpy() if flag in table.columns
              else np.zeros(len(table), bool))
    text = header(col, language)
    if col == "deviation" and kind == "share":
        text = label("workbook.resources_against_demonstrated", language)
    cols.put(col, text, _values_in_words(col, s, kind, hidden, language), kind)
    if col == ahead:
        per = _freq(table["period"]) if "period" in table.columns else "W"
        cols.names[col] = label("workbook.weeks_ahead" if per == "W" else "workbook.months_ahead", language)


def sheet_from_frame(table: pd.DataFrame, name: str, *, language: str = "sv", table_name: str = "Tabell",
                     skip: tuple = ()) -> tuple[Sheet, dict]:
    """A result table as a :class:`Sheet`: headers and values in words, dates, kinds.

    The row's ``period`` becomes ``År``, ``Vecka`` (ISO) and ``Veckan börjar`` (the
    Monday, a date) for weekly data, or ``Månad`` (the month's first day, a date) for
    monthly data; ``month`` becomes a date; week-valued columns (``first_order_by``,
    ``*_week``) the Monday of that week; ``order_by_week`` / ``order_by_period``
    (periods ahead) the Monday of the order week beside its ISO week number;
    ``*_pct`` columns [%] become fractions with a % format; booleans Ja/Nej; a value the
    suppression rule hid (``<col>_suppressed`` true) the text ``dolt``; the flag
    columns themselves are left out, and so is a deprecated column beside its
    period-generic name (``this_week`` beside ``this_period``).

    Returns
    -------
    (Sheet, dict)
        The sheet and the map column identifier -> header used.
    """
    _i(language)  # a language other than sv and en is refused here
    cols = _Columns()
    freeze = None
    ahead = next((c for c in ("period_ahead", "week_ahead") if c in table.columns), None)
    monthly = "period" in table.columns and len(table) > 0 and _freq(table["period"]) == "M"
    for col in _kept_columns(table, skip):
        s = table[col]
        if col == "month" and monthly:
            continue  # a monthly table's period is its month: one "Månad" column, not two
        if col == "period":
            _put_period(cols, s, language)
            freeze = "period" if len(cols.ids) <= 6 else freeze  # key columns frozen only when they lead
        elif col in ("year", "week") and "period" in table.columns:
            continue  # the period's own year and week are written from it
        elif col == "month":
            cols.put(col, label("month", language), [_month_first(v) for v in s], "month")
        elif col in ("order_by_week", "order_by_period") and ahead and "period" in table.columns:
            _put_order_by(cols, col, table, ahead, language)
        elif _is_week_valued(col, s):
            _put_week_valued(cols, col, s, language)
        else:
            _put_values(cols, col, table, ahead, language)
    if monthly:   # a monthly clinic's rows are months: the words naming the row's period say so
        from .report.labels import ROW_PERIOD_WORDS

        pairs = ROW_PERIOD_WORDS["en" if language == "en" else "sv"]
        for key, text in list(cols.names.items()):
            for week_word, month_word in pairs:
                text = text.replace(week_word, month_word)
            cols.names[key] = text
    return _sheet_of(cols, len(table), name, table_name, freeze)


def _sheet_of(cols: _Columns, n: int, name: str, table_name: str, freeze: str | None) -> tuple[Sheet, dict]:
    """The :class:`Sheet` of the built columns (headers made unique) and the header map."""
    texts = _unique([cols.names[k] for k in cols.ids], cols.ids)
    frame = pd.DataFrame({t: cols.values[k] for t, k in zip(texts, cols.ids)}, index=range(n))
    mapping = dict(zip(cols.ids, texts))
    status = tuple(mapping[c] for c in ("status", "escalation") if c in mapping)
    return Sheet(name=name, frame=frame, kinds={mapping[k]: v for k, v in cols.kinds.items()},
                 table=table_name, freeze_after=mapping.get(freeze), status_columns=status), mapping


def _cum(value: str, keys: list[str], *, need: list[str] = ()) -> str:
    """SUMIFS over the rows so far with the same keys (and non-empty ``need`` columns)."""
    parts = [f"${{{value}}}${{first}}:{{{value}}}{{r}}"]
    for k in keys:
        parts.append(f"${{{k}}}${{first}}:{{{k}}}{{r}},{{{k}}}{{r}}")
    for c in need:
        parts.append(f'${{{c}}}${{first}}:{{{c}}}{{r}},"<>"')
    return "SUMIFS(" + ",".join(parts) + ")"


def _insert_after(sheet: Sheet, after: str, text: str, formula: str, kind: str) -> None:
    cols = list(sheet.frame.columns)
    pos = cols.index(after) + 1 if after in cols else len(cols)
    sheet.frame.insert(pos, text, [None] * len(sheet.frame))
    sheet.formulas[text] = formula
    sheet.kinds[text] = kind


def plan_sheet(plan: pd.DataFrame, *, language: str = "sv", name: str | None = None) -> Sheet:
    """The production plan (:func:`kps_analysis.report_plan.plan_export_table`, or
    :func:`kps_analysis.plan.rolling_plan` output) as a sheet, with accumulated columns as
    formulas per clinic and stage: own production, purchase, cost bought, the care
    agreement, and the plan against the agreement (accumulated own production −
    accumulated agreement) [patients].

    Parameters
    ----------
    plan : DataFrame
        One row per clinic, stage and period [patients/period, SEK].
    language : {"sv", "en"}, optional
        Language of headers and values; default Swedish.
    name : str, optional
        Sheet name (at most 31 characters); default the table's title in the language.

    Returns
    -------
    Sheet
        For :func:`write_workbook`.
    """
    sheet, m = sheet_from_frame(plan, name or TABLE_TITLES["production_plan"][_i(language)], language=language,
                                table_name="Produktionsplan")
    keys = [m[k] for k in ("clinic", "stage") if k in m]
    added = set()
    for col, text, kind in (("own_production", "workbook.accumulated_own_production", "int"),
                            ("purchase", "workbook.accumulated_purchase", "int"),
                            ("cost_external_sek", "workbook.accumulated_cost_bought_sek", "kr"),
                            ("agreement", "workbook.accumulated_care_agreement", "int")):
        if col in m and sheet.kinds.get(m[col]) != "text":
            _insert_after(sheet, m[col], label(text, language), "=" + _cum(m[col], keys), kind)
            added.add(col)
    # plan against the care agreement: only where the clinic has one (annual_volume)
    if {"own_production", "agreement"} <= added:
        acc_own = label("workbook.accumulated_own_production", language)
        acc_agr = label("workbook.accumulated_care_agreement", language)
        _insert_after(sheet, acc_agr, label("workbook.accumulated_plan_agreement", language),
                      f"={{{acc_own}}}{{r}}-{{{acc_agr}}}{{r}}", "int")
    return sheet


def purchase_month_sheet(table: pd.DataFrame, *, language: str = "sv", name: str | None = None) -> Sheet:
    """The purchase per month (:func:`kps_analysis.planning.purchase_by_month`) with the
    extra cost of buying (cost bought − the same volume in-house) as a formula [SEK].

    Parameters
    ----------
    table : DataFrame
        ``clinic``, ``stage``, ``month``, ``purchase`` [patients], costs [SEK], ``order_by``
        (a monthly plan's ``first_week``, ``until_week`` and ``boundary`` are left out: its
        rows are whole months, the ``Månad`` column already).
    language : {"sv", "en"}, optional
        Language of headers and values; default Swedish.
    name : str, optional
        Sheet name (at most 31 characters); default the table's title in the language.

    Returns
    -------
    Sheet
        For :func:`write_workbook`.
    """
    skip = ()
    if "first_week" in table.columns and _freq(table["first_week"]) == "M":
        # a monthly plan's rows are whole months: the first and last period bought are the row's month
        # and no fixed horizon ends inside a month, so these columns would only repeat "Månad" in weeks' words
        skip = ("first_week", "until_week", "boundary")
    sheet, m = sheet_from_frame(table, name or label("sheet.purchase_by_month", language), language=language,
                                table_name="Kop_per_manad", skip=skip)
    if "cost_external_sek" in m and "cost_internal_sek" in m:
        _insert_after(sheet, m["cost_internal_sek"], label("workbook.extra_cost_of_buying_sek", language),
                      f"={{{m['cost_external_sek']}}}{{r}}-{{{m['cost_internal_sek']}}}{{r}}", "kr")
    sheet.freeze_after = m.get("month", sheet.freeze_after)
    return sheet


def _pct_formula(a: str, b: str) -> str:
    """(a − b) / b as a fraction; empty where b is empty or not above 0."""
    return f'=IF(OR({{{b}}}{{r}}="",{{{a}}}{{r}}=""),"",IF({{{b}}}{{r}}>0,({{{a}}}{{r}}-{{{b}}}{{r}})/{{{b}}}{{r}},""))'


def history_sheet(history: pd.DataFrame, *, language: str = "sv", name: str | None = None) -> Sheet:
    """The plan history (:func:`kps_analysis.planning.plan_history`): the fixed plans of
    weeks that have passed against the outcome, per clinic and stage.

    Formulas reproduce the model's columns so that a row an analyst adds is followed up
    the same way: deviation = actual − plan [patients]; the accumulated fixed plan,
    actual, agreement and last year over the ISO year (``SUMIFS`` over the rows so far of
    the same clinic, stage and year; empty where the row's own value is empty, as the
    model's running sum); the deviation % of the week and accumulated, against the
    agreement and last year ((a − b) / b, empty unless b > 0) [fraction, % format].

    Parameters
    ----------
    history : DataFrame
        One row per clinic, stage and passed week [patients/week]; may be empty (a note says so).
    language : {"sv", "en"}, optional
        Language of headers and values; default Swedish.
    name : str, optional
        Sheet name (at most 31 characters); default the table's title in the language.

    Returns
    -------
    Sheet
        For :func:`write_workbook`.
    """
    sheet, m = sheet_from_frame(history, name or label("sheet.plan_against_outcome", language),
                                language=language, table_name="Plan_mot_utfall")
    keys = [m[k] for k in ("clinic", "stage", "period") if k in m]
    keys = [m["clinic"], m["stage"], m["year"]] if {"clinic", "stage", "year"} <= set(m) else keys[:2]
    for col, src in (("cum_planned_own", "planned_own"), ("cum_actual_own", "actual_own"),
                     ("cum_agreement", "agreement"), ("cum_last_year", "last_year")):
        if col in m and src in m:
            sheet.formulas[m[col]] = f'=IF({{{m[src]}}}{{r}}="","",' + _cum(m[src], keys) + ")"
            sheet.kinds[m[col]] = "int"
    if "actual_own" in m and "planned_own" in m:
        _insert_after(sheet, m["actual_own"], label("workbook.deviation_actual_plan", language),
                      f'=IF(OR({{{m["actual_own"]}}}{{r}}="",{{{m["planned_own"]}}}{{r}}=""),"",'
                      f'{{{m["actual_own"]}}}{{r}}-{{{m["planned_own"]}}}{{r}})', "int")
    for col, a, b in (("deviation_pct", "actual_own", "planned_own"),
                      ("cum_deviation_pct", "cum_actual_own", "cum_planned_own"),
                      ("vs_agreement_pct", "cum_actual_own", "cum_agreement"),
                      ("vs_last_year_pct", "cum_actual_own", "cum_last_year")):
        if col in m and a in m and b in m:
            sheet.formulas[m[col]] = _pct_formula(m[a], m[b])
            sheet.kinds[m[col]] = "share"
    if history.empty:
        sheet.note = label("workbook.no_history", language)
    return sheet


def follow_up_sheet(follow_up: pd.DataFrame, *, language: str = "sv", name: str | None = None,
                    year: int | None = None) -> Sheet:
    """Plan against outcome of the current year (:func:`kps_analysis.plan.plan_vs_outcome`), wide.

    One row per clinic and week (or month) of ``year`` (default: the latest year in the
    data), and per measure a block: plan and actual (values from the data), deviation
    = actual − plan, accumulated plan and actual over the year counting the weeks where
    both are reported (``SUMIFS`` over the rows so far, as the model), accumulated
    deviation and deviation % ((acc. actual − acc. plan) / acc. plan, a fraction), last
    year's actual and its accumulation, and the model's status. Earlier years stay in
    ``tables/plan_vs_outcome.csv``.

    Parameters
    ----------
    follow_up : DataFrame
        Long, one row per clinic, measure and week [count/week], ``status`` per row.
    language : {"sv", "en"}, optional
        Language of headers and values; default Swedish.
    name : str, optional
        Sheet name (at most 31 characters); default the table's title in the language.
    year : int, optional
        ISO year to show; default the latest in ``follow_up``.

    Returns
    -------
    Sheet
        For :func:`write_workbook`.
    """
    from . import report as _report

    _i(language)  # a language other than sv and en is refused
    name = name or label("sheet.follow_up", language)
    cols = ["clinic", "period", "measure", "plan", "actual", "last_year", "status"]
    if follow_up is None or follow_up.empty or not set(cols) <= set(follow_up.columns):
        sheet, _ = sheet_from_frame(pd.DataFrame({"clinic": pd.Series(dtype=object)}), name, language=language,
                                    table_name="Uppfoljning")
        sheet.note = label("workbook.no_follow_up", language)
        return sheet
    f = follow_up
    if "year" not in f.columns:
        f = f.assign(year=[d.isocalendar()[0] if d else None for d in map(week_monday, f["period"])])
    year = int(f["year"].max()) if year is None else int(year)
    f = f[f["year"] == year]
    rows = f[["clinic", "period"]].drop_duplicates().sort_values(["clinic", "period"]).reset_index(drop=True)
    base, m = sheet_from_frame(rows, name, language=language, table_name="Uppfoljning")
    frame = base.frame
    kinds = dict(base.kinds)
    formulas: dict[str, str] = {}
    groups: dict[str, str] = {}
    status_cols = []
    clinic = m["clinic"]
    words = {k: label(f"follow_up.{k}", language)
             for k in ("plan", "actual", "dev", "cplan", "cact", "cdev", "cpct", "ly", "cly", "status")}
    for measure, g in f.groupby("measure", sort=False):
        measure_name = _report.LABELS.get(measure, {}).get(language, measure)
        g = rows.merge(g, on=["clinic", "period"], how="left")
        h = {k: f"{measure_name}: {w}" for k, w in words.items()}
        frame[h["plan"]] = g["plan"].to_numpy()
        frame[h["actual"]] = g["actual"].to_numpy()
        frame[h["dev"]] = None
        frame[h["cplan"]] = None
        frame[h["cact"]] = None
        frame[h["cdev"]] = None
        frame[h["cpct"]] = None
        frame[h["ly"]] = g["last_year"].to_numpy()
        frame[h["cly"]] = None
        frame[h["status"]] = [value_text("status", v, language) for v in g["status"].astype(object)]
        status_cols.append(h["status"])
        for k in ("plan", "actual", "dev", "cplan", "cact", "cdev", "ly", "cly"):
            kinds[h[k]] = "int"
        kinds[h["cpct"]] = "share"
        kinds[h["status"]] = "text"
        both = [h["plan"], h["actual"]]
        formulas[h["dev"]] = f'=IF(OR({{{h["actual"]}}}{{r}}="",{{{h["plan"]}}}{{r}}=""),"",' \
                             f'{{{h["actual"]}}}{{r}}-{{{h["plan"]}}}{{r}})'
        any_both = "COUNTIFS(" + ",".join([f"${{{clinic}}}${{first}}:{{{clinic}}}{{r}},{{{clinic}}}{{r}}"] + [
            f'${{{c}}}${{first}}:{{{c}}}{{r}},"<>"' for c in both]) + ")"
        for key, src in (("cplan", "plan"), ("cact", "actual")):
            formulas[h[key]] = f'=IF({any_both}=0,"",' + _cum(h[src], [clinic], need=both) + ")"
        formulas[h["cdev"]] = f'=IF({{{h["cplan"]}}}{{r}}="","",{{{h["cact"]}}}{{r}}-{{{h["cplan"]}}}{{r}})'
        formulas[h["cpct"]] = (f'=IF({{{h["cplan"]}}}{{r}}="","",IF({{{h["cplan"]}}}{{r}}=0,'
                               f'IF({{{h["cact"]}}}{{r}}=0,0,""),({{{h["cact"]}}}{{r}}-{{{h["cplan"]}}}{{r}})'
                               f'/{{{h["cplan"]}}}{{r}}))')
        missing_ly = "COUNTIFS(" + ",".join([f"${{{clinic}}}${{first}}:{{{clinic}}}{{r}},{{{clinic}}}{{r}}"] + [
            f'${{{c}}}${{first}}:{{{c}}}{{r}},"<>"' for c in both] + [
            f'${{{h["ly"]}}}${{first}}:{{{h["ly"]}}}{{r}},""']) + ")"
        formulas[h["cly"]] = (f'=IF(OR({any_both}=0,{missing_ly}>0),"",' +
                              _cum(h["ly"], [clinic], need=both) + ")")
        for k in words:
            groups[h[k]] = measure_name
    return Sheet(name=name, frame=frame, kinds=kinds, formulas=formulas, groups=groups, table="Uppfoljning",
                 freeze_after=base.freeze_after, status_columns=tuple(status_cols))


def sheet_for(table: pd.DataFrame, name: str, *, language: str = "sv") -> Sheet:
    """The sheet of a planning table, chosen by its columns.

    A :func:`kps_analysis.plan.plan_vs_outcome` follow-up (``measure``, ``plan``,
    ``actual``) becomes :func:`follow_up_sheet` (the current year, wide); a
    :func:`kps_analysis.planning.plan_history` (``planned_own``) :func:`history_sheet`;
    a :func:`kps_analysis.planning.purchase_by_month` (``order_by``, ``month``)
    :func:`purchase_month_sheet`; a production plan (``own_production``, ``period``)
    :func:`plan_sheet`; anything else :func:`sheet_from_frame`.
    """
    cols = set(table.columns)
    stem = re.sub(r"[^A-Za-z0-9_]", "_", name)
    if {"measure", "plan", "actual"} <= cols:
        return follow_up_sheet(table, language=language, name=name)
    if "planned_own" in cols:
        return history_sheet(table, language=language, name=name)
    if {"order_by", "month", "purchase"} <= cols:
        return purchase_month_sheet(table, language=language, name=name)
    if {"own_production", "period", "stage"} <= cols:
        sheet = plan_sheet(table, language=language, name=name)
        sheet.table = stem
        return sheet
    return sheet_from_frame(table, name, language=language, table_name=stem)[0]


# ----------------------------------------------------------------------------- writing
def _cell(value):
    kind = type(value)
    if kind is float:  # the common cases first (a column's ``tolist()``), as below
        return value if math.isfinite(value) else None
    if kind is str or kind is int or value is None:
        return value
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return None if not np.isfinite(value) else float(value)
    if value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, pd.Period):
        return str(value)
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value


def _put(ws, row: int, column: int, value, *, formula: bool = False):
    """Write one cell; text is always text (a value starting with "=" is no formula, and
    characters XML cannot hold are dropped), only the sheet's own formulas are formulas."""
    if isinstance(value, str) and not formula:
        value = _ILLEGAL.sub("", value)
    c = ws.cell(row=row, column=column, value=value)
    if isinstance(value, str) and not formula and c.data_type == "f":
        c.data_type = "s"
    return c


def _render(template: str, letters: Mapping[str, str], row: int, first: int) -> str:
    def sub(match):
        key = match.group(1)
        if key == "r":
            return str(row)
        if key == "first":
            return str(first)
        return letters[key]

    return re.sub(r"\{([^{}]+)\}", sub, template)


def _write_group_titles(ws, sheet: Sheet, headers: list) -> None:
    """Row 1: each run of headers with the same group title under one merged, bold, centred title."""
    from openpyxl.styles import Alignment, Font

    j = 0
    while j < len(headers):
        title = sheet.groups.get(headers[j])
        k = j
        while k + 1 < len(headers) and title and sheet.groups.get(headers[k + 1]) == title:
            k += 1
        if title:
            _put(ws, 1, j + 1, title).font = Font(bold=True)
            ws.cell(row=1, column=j + 1).alignment = Alignment(horizontal="center")
            if k > j:
                ws.merge_cells(start_row=1, start_column=j + 1, end_row=1, end_column=k + 1)
        j = k + 1


#: Cells of a table's rows written as XML text by :func:`_raw_rows` (no cell objects) when the
#: fast writer saves the workbook; False: every cell an openpyxl cell (the tests compare both).
_RAW_CELLS = True

#: Value types :func:`_raw_rows` writes (after :func:`_cell`); a sheet with another is written cell by cell.
_RAW_TYPES = frozenset({float, int, bool, str, type(None), _dt.datetime, _dt.date})


def _write_cells(ws, sheet: Sheet, headers: list, letters: dict, top: int, first: int, language: str) -> list:
    """Bold wrapped headers in row ``top``, then every cell (values or the sheet's formulas)
    with its column's number format; returns the columns' values, for the widths."""
    from openpyxl.cell.cell import Cell
    from openpyxl.styles import Alignment, Font

    frame = sheet.frame
    bold, wrapped, right = Font(bold=True), Alignment(wrap_text=True, vertical="top"), Alignment(horizontal="right")
    for j, h in enumerate(headers):
        c = _put(ws, top, j + 1, h)
        c.font = bold
        c.alignment = wrapped
    formats = {h: NUMBER_FORMATS["kr_" + language] if k == "kr" else NUMBER_FORMATS.get(k)
               for h, k in sheet.kinds.items()}
    columns = [frame[h].tolist() for h in headers]
    specs = [(j + 1, sheet.formulas[h] if h in sheet.formulas else None,
              None if formats.get(h) == "@" else formats.get(h), columns[j]) for j, h in enumerate(headers)]
    if _RAW_CELLS and len(frame) and headers and _fast_writer() is not None and not ws.parent.iso_dates:
        rows = _raw_rows(ws, specs, letters, headers, first, len(frame), right)
        if rows is not None:
            ws._kps_rows = (first, rows, len(headers))
            return columns
    styled: dict = {}  # (column, type of value) -> the style of its first formatted cell, shared after it
    for r in range(len(frame)):
        row, cells = first + r, []
        for j, template, fmt, values in specs:
            value = _render(template, letters, row, first) if template is not None else _cell(values[r])
            key = (j, type(value))
            if isinstance(value, str):  # set as openpyxl's check_string would (the text is clean already)
                text, kind = value, "f"
                if template is None:
                    text = _ILLEGAL.sub("", value)[:32767]
                    kind = "e" if text in _ERROR_CODES else "s"
                c = Cell(ws, row=row, column=j, style_array=styled.get(key) if kind == "f" else None)
                c._value, c.data_type = text, kind
                if kind != "f" and fmt is not None:
                    c.alignment = right  # "dolt" in a number column
                    fmt = None
            elif value is None or fmt is None:
                c = Cell(ws, row=row, column=j, value=value)
                fmt = None
            else:
                c = Cell(ws, row=row, column=j, value=value, style_array=styled.get(key))
            if fmt is not None and key not in styled:
                c.number_format = fmt
                styled[key] = c._style
            cells.append(c)
        ws.append(cells)
    return columns


def _raw_rows(ws, specs: list, letters: dict, headers: list, first: int, n: int, right) -> list | None:
    """The ``<row>`` elements of a sheet's ``n`` table rows as XML text, byte for byte what
    :func:`_write_cells` makes through openpyxl's cells and :func:`_cell_xml` (issue 15: the cell
    objects were most of a clinic's 20 workbooks' time); None (nothing done) for a sheet holding
    a value this does not write (an Excel error code as text, a time of day, ...): it is then
    written cell by cell.

    The workbook's styles are registered in the order openpyxl's writer would: a cell object
    is made for the first cell of each column and kind of value, as :func:`_write_cells` makes
    them, and the style ids are taken in row order after those of the rows above the table.
    """
    from openpyxl.cell.cell import Cell
    from openpyxl.compat import safe_string
    from openpyxl.utils.datetime import to_excel

    for _j, template, _fmt, values in specs:
        if template is None and (not {type(v) for v in values} <= _RAW_TYPES
                                 or any(type(v) is str and _ILLEGAL.sub("", v)[:32767] in _ERROR_CODES
                                        for v in values)):
            return None
    book = ws.parent
    styles = book._cell_styles
    for sheet in book.worksheets:   # the ids the sheets before and the rows above take first, in writing order
        for (_row, _col), cell in sorted(sheet._cells.items()):
            if cell.has_style:
                styles.add(cell._style)
        if sheet is ws:
            break
    styled: dict = {}     # (column, type of value) -> the style array of its first formatted cell
    ids: dict = {}        # (column, type of value) -> its ' s="id"' (or "" without a style)
    right_style = None

    def style_of(key) -> str:   # the id taken at the first cell that shows it, as the writer takes it
        if key not in ids:
            array = styled.get(key)
            ids[key] = f' s="{styles.add(array)}"' if array is not None and any(array) else ""
        return ids[key]

    out = []
    for r in range(n):
        row = first + r
        cells = []
        for j, template, fmt, values in specs:
            value = _render(template, letters, row, first) if template is not None else _cell(values[r])
            kind_of = type(value)
            key = (j, kind_of)
            if kind_of is str:
                if template is not None:      # a formula, with its column's format
                    if fmt is not None and key not in styled:
                        c = Cell(ws, row=row, column=j)
                        c._value, c.data_type = value, "f"
                        c.number_format = fmt
                        styled[key] = c._style
                    cells.append(_c_xml(f"{letters[headers[j - 1]]}{row}", style_of(key), "f", value, book,
                                        to_excel, safe_string))
                    continue
                text = _ILLEGAL.sub("", value)[:32767]
                style = ""
                if fmt is not None:           # "dolt" in a number column: right-aligned, no format
                    if right_style is None:
                        c = Cell(ws, row=row, column=j)
                        c._value, c.data_type = text, "s"
                        c.alignment = right
                        right_style = f' s="{styles.add(c._style)}"' if any(c._style) else ""
                    style = right_style
                cells.append(_c_xml(f"{letters[headers[j - 1]]}{row}", style, "s", text, book, to_excel, safe_string))
                continue
            if value is None:
                continue                      # an empty cell without style is not written
            kind = "b" if kind_of is bool else "d" if kind_of in (_dt.datetime, _dt.date) else "n"
            if fmt is None:
                if kind == "d":
                    return None               # pragma: no cover - dates always have their kind's format
                style = ""
            else:
                if key not in styled:
                    c = Cell(ws, row=row, column=j, value=value)
                    c.number_format = fmt
                    styled[key] = c._style
                style = style_of(key)
            cells.append(_c_xml(f"{letters[headers[j - 1]]}{row}", style, kind, value, book, to_excel, safe_string))
        out.append(f'<row r="{row}">{"".join(cells)}</row>')
    return out


def _longest(sheet: Sheet, h: str, values: list) -> int:
    """Characters of the longest value a column shows, by its kind [characters]."""
    kind = sheet.kinds.get(h, "text")
    if kind in ("date",):
        return 10
    if kind == "month":
        return 7
    if kind == "text":
        return max([len(str(v)) for v in values[:2000] if v is not None] or [4])
    if h in sheet.formulas:
        return 9
    vals = [abs(float(v)) for v in values[:2000] if isinstance(v, (int, float, np.number))
            and not isinstance(v, bool) and np.isfinite(v)]
    big = max(vals) if vals else 0.0
    digits = len(f"{big:,.0f}") + (2 if kind in ("dec1", "dec2") else 0) + (3 if kind == "kr" else 0)
    return max(digits, 6 if kind == "share" else 3)


def _set_widths(ws, sheet: Sheet, headers: list, letters: dict, columns: list, top: int) -> float:
    """Column widths from the header (wrapped at up to 18 characters) and the longest value
    shown, the header row's height; returns the total width [characters]."""
    height, total = 1, 0.0
    for j, h in enumerate(headers):
        head = min(len(h), 18)
        width = min(max(_longest(sheet, h, columns[j]), head, 6) + 2, 50)
        ws.column_dimensions[letters[h]].width = width
        total += width
        height = max(height, math.ceil(len(h) / max(width - 2, 1)))
    ws.row_dimensions[top].height = 15 * min(height, 5)
    return total


def _add_table_and_colours(ws, sheet: Sheet, headers: list, letters: dict, top: int, first: int, end: int,
                           language: str) -> int:
    """The Excel table with filters, the frozen panes, green/yellow/red fills of the status
    columns and the note under the table; returns the first unfrozen column (1-based)."""
    from openpyxl.formatting.rule import FormulaRule
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.filters import AutoFilter
    from openpyxl.worksheet.table import Table, TableColumn, TableStyleInfo

    if headers:
        ref = f"A{top}:{get_column_letter(max(len(headers), 1))}{end}"
        # the columns and filter openpyxl's writer would make (it reads the whole range back for them)
        table = Table(displayName=sheet.table, ref=ref, autoFilter=AutoFilter(ref=ref), tableColumns=[
            TableColumn(id=j + 1, name=str(ws.cell(row=top, column=j + 1).value)) for j in range(len(headers))])
        table.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)
        ws.add_table(table)
    freeze_col = headers.index(sheet.freeze_after) + 2 if sheet.freeze_after in headers else 1
    ws.freeze_panes = ws.cell(row=first, column=freeze_col)
    colours = {"red": "F4B6B6", "yellow": "FFE699", "green": "C6E0B4"}
    for h in sheet.status_columns:
        if h not in letters or not len(sheet.frame):
            continue
        col = letters[h]
        for code, colour in colours.items():
            text = label(f"value.escalation.{code}", language)
            ws.conditional_formatting.add(
                f"{col}{first}:{col}{end}",
                FormulaRule(formula=[f'{col}{first}="{text}"'],
                            fill=PatternFill(start_color=colour, end_color=colour, fill_type="solid")))
    if sheet.note:
        _put(ws, end + 2, 1, sheet.note).font = Font(italic=True)
    return freeze_col


def _set_printing(ws, top: int, total: float, freeze_col: int) -> None:
    """Printed: A4 landscape, the header rows repeated on every page; one page wide when that
    keeps the text at least about half its size (A4 landscape holds ~130 characters), else
    across pages with the frozen key columns repeated on each."""
    from openpyxl.utils import get_column_letter

    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.print_title_rows = f"1:{top}"
    if total <= 260:
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
    elif freeze_col > 1:
        ws.print_title_cols = f"A:{get_column_letter(freeze_col - 1)}"


def _write_sheet(wb, sheet: Sheet, language: str) -> None:
    """One :class:`Sheet` as a worksheet of ``wb``: group titles, headers and cells, widths,
    the table, frozen panes and status colours, the print setup."""
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(sheet.name[:31])
    headers = [str(h) for h in sheet.frame.columns]
    letters = {h: get_column_letter(j + 1) for j, h in enumerate(headers)}
    top = 2 if sheet.groups else 1
    first = top + 1
    if sheet.groups:
        _write_group_titles(ws, sheet, headers)
    columns = _write_cells(ws, sheet, headers, letters, top, first, language)
    total = _set_widths(ws, sheet, headers, letters, columns, top)
    end = first + max(len(sheet.frame), 1) - 1
    freeze_col = _add_table_and_colours(ws, sheet, headers, letters, top, first, end, language)
    _set_printing(ws, top, total, freeze_col)


def _xml_text(text: str) -> str:
    """Text escaped as :mod:`xml.etree.ElementTree` escapes element text."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


def _cell_xml(cell, Cell, to_excel, safe_string):
    """A plain cell's ``<c>`` element as openpyxl's own writer (``etree_write_cell``) writes
    it, byte for byte; None for a cell that writer should write (rich text, array formulas,
    comments, hyperlinks, ISO or time-zone dates, errors, merged cells)."""
    if type(cell) is not Cell or cell._comment is not None or cell._hyperlink is not None:
        return None
    kind = cell.data_type
    if kind == "d" and (cell.parent.parent.iso_dates or getattr(cell._value, "tzinfo", None) is not None
                        or isinstance(cell._value, _dt.timedelta)):
        return None
    style = f' s="{cell.style_id}"' if cell.has_style else ""
    return _c_xml(cell.coordinate, style, kind, cell._value, cell.parent.parent, to_excel, safe_string)


def _c_xml(coordinate: str, style: str, kind: str, value, book, to_excel, safe_string):
    """The ``<c>`` element of a cell at ``coordinate`` with ``style`` (``' s="id"'`` or empty),
    openpyxl's data type ``kind`` and ``value`` (a date not in ISO form, without time zone);
    None for what openpyxl's own writer should write."""
    if kind == "d":
        kind, value = "n", to_excel(value, book.epoch)
    if kind == "n" or kind == "b":
        head = f'<c r="{coordinate}"{style} t="{kind}"'
    elif kind == "s" and isinstance(value, str):
        head = f'<c r="{coordinate}"{style} t="inlineStr"'
    elif kind == "f" and isinstance(value, str):
        head = f'<c r="{coordinate}"{style}'
    else:
        return None
    if value is None or value == "":
        return head + " />"
    if kind == "f":
        return f"{head}><f>{_xml_text(value[1:])}</f><v /></c>"
    if kind == "s":
        stripped = value.strip()
        space = ' xml:space="preserve"' if stripped and stripped != value else ""
        return f"{head}><is><t{space}>{_xml_text(value)}</t></is></c>"
    return f"{head}><v>{_xml_text(safe_string(value))}</v></c>"


@functools.lru_cache(maxsize=1)
def _fast_writer():
    """openpyxl's workbook writer with the cells' XML written by :func:`_cell_xml`: the same
    bytes, the save in half the time (most of it was openpyxl serialising each cell as an
    element tree). None where this openpyxl cannot take it (with lxml, openpyxl writes
    through lxml; other internals changed): then :func:`_save` is openpyxl's save.
    tests/test_workbook.py compares the two files byte for byte."""
    try:
        from xml.etree import ElementTree

        from openpyxl import LXML
        from openpyxl.cell.cell import Cell
        from openpyxl.comments.comment_sheet import CommentRecord
        from openpyxl.compat import safe_string
        from openpyxl.drawing.spreadsheet_drawing import SpreadsheetDrawing
        from openpyxl.utils import get_column_letter
        from openpyxl.utils.datetime import to_excel
        from openpyxl.worksheet._writer import WorksheetWriter, write_cell
        from openpyxl.worksheet.dimensions import SheetDimension
        from openpyxl.writer.excel import ExcelWriter
    except ImportError:  # pragma: no cover - another openpyxl
        return None
    if LXML:
        return None

    class SheetWriter(WorksheetWriter):
        # a sheet whose table rows are XML text already (_raw_rows): ws._kps_rows = (first row, rows, columns)
        def write_dimensions(self):
            raw = getattr(self.ws, "_kps_rows", None)
            if raw is None:
                return super().write_dimensions()
            first, rows, width = raw
            keys = [*self.ws._cells, (first, 1), (first + len(rows) - 1, width)]
            low, high = min(k[0] for k in keys), max(k[0] for k in keys)
            left, right = min(k[1] for k in keys), max(k[1] for k in keys)
            self.xf.send(SheetDimension(f"{get_column_letter(left)}{low}:{get_column_letter(right)}{high}").to_tree())

        def rows(self):
            rows = super().rows()
            raw = getattr(self.ws, "_kps_rows", None)
            if raw is None:
                return rows
            first, text, _ = raw
            last = first + len(text) - 1   # openpyxl's rows there hold only empty cells (the frozen pane's)
            kept = [(i, row) for i, row in rows if not first <= i <= last]
            return sorted(kept + [(first + k, row) for k, row in enumerate(text)], key=lambda pair: pair[0])

        def write_row(self, xf, row, row_idx):
            put = getattr(xf, "_file", None)
            if isinstance(row, str):   # a table row written by _raw_rows
                if put is None:  # pragma: no cover - another et_xmlfile
                    xf.write(ElementTree.fromstring(row))
                else:
                    put(row)
                return None
            if put is None:  # pragma: no cover - another et_xmlfile
                return super().write_row(xf, row, row_idx)
            attrs = {"r": f"{row_idx}"}
            attrs.update(self.ws.row_dimensions.get(row_idx, {}))
            with xf.element("row", attrs):
                for cell in row:  # as WorksheetWriter.write_row
                    if cell._comment is not None:
                        self.ws._comments.append(CommentRecord.from_cell(cell))
                    if cell._value is None and not cell.has_style and not cell._comment:
                        continue
                    text = _cell_xml(cell, Cell, to_excel, safe_string)
                    if text is None:
                        write_cell(xf, self.ws, cell, cell.has_style)
                    else:
                        put(text)

    class BookWriter(ExcelWriter):
        def write_worksheet(self, ws):
            ws._drawing = SpreadsheetDrawing()
            ws._drawing.charts = ws._charts
            ws._drawing.images = ws._images
            writer = SheetWriter(ws)
            writer.write()
            ws._rels = writer._rels
            self._archive.write(writer.out, ws.path[1:])
            self.manifest.append(ws)
            writer.cleanup()

    return BookWriter


def _save(wb, path) -> None:
    """``wb.save(path)``, the cells written by :func:`_fast_writer` where it can (as
    openpyxl's ``save_workbook``)."""
    writer = _fast_writer()
    if writer is None or wb.write_only:
        wb.save(path)
        return
    from zipfile import ZIP_DEFLATED, ZipFile

    wb.properties.modified = _dt.datetime.now(tz=_dt.timezone.utc).replace(tzinfo=None)
    with ZipFile(path, "w", ZIP_DEFLATED, allowZip64=True) as archive:
        writer(wb, archive).save()


@contextlib.contextmanager
def _gc_paused():
    """Python's cycle collector paused while a workbook is built and saved, then as it was.

    A clinic's workbooks hold some 50,000 cells, objects made in bursts; each burst set the
    collector walking every object of the process (the run's frames and models too): about
    0.3 s of the 1.0 s the demo clinic uro's 20 workbooks took. Nothing is kept longer than
    before: the workbook (sheets and cells refer to each other) is freed by the
    collector's next pass, as it was.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def write_workbook(sheets, path: str | os.PathLike, *, language: str = "sv") -> Path:
    """Write :class:`Sheet` objects as one ``.xlsx`` file, atomically.

    Each sheet gets bold wrapped headers (a row of merged group titles above them when
    the sheet has groups), number formats per column, widths, a frozen header row (and
    key columns), an Excel table with filters (table names made unique per workbook),
    green/yellow/red fills on status columns, and a print setup (A4 landscape, header
    rows repeated on every page; one page wide unless that shrinks the text below about
    half, else the key columns repeated on every page). Formula cells are computed by Excel
    when the file is opened.

    Parameters
    ----------
    sheets : iterable of Sheet
        In order; names 1-31 characters, each used once.
    path : path-like
        The ``.xlsx`` file; its folder is created if needed.
    language : {"sv", "en"}, optional
        Language of the amount format (``kr`` or ``SEK``) and the status colours' words.

    Returns
    -------
    pathlib.Path
        The written file.

    Raises
    ------
    ValueError
        For an unknown ``language`` or a sheet name that is empty, too long or used twice.
    """
    import openpyxl
    from openpyxl.workbook.properties import CalcProperties

    from .report import atomic_path

    _i(language)
    with _gc_paused():  # ~50,000 cell objects made and freed: see _gc_paused
        wb = openpyxl.Workbook()
        wb.remove(wb.active)
        names, tables = set(), set()
        for sheet in sheets:
            if not isinstance(sheet.name, str) or not sheet.name.strip() or len(sheet.name) > 31:
                raise ValueError(f"sheet name {sheet.name!r} must be 1-31 characters")
            if sheet.name in names:
                raise ValueError(f"sheet name {sheet.name!r} is used twice")
            names.add(sheet.name)
            base = re.sub(r"[^A-Za-z0-9_]", "_", sheet.table) or "Tabell"
            if not (base[0].isalpha() or base[0] == "_") or re.fullmatch(r"[A-Za-z]{1,3}\d+|[RrCc]", base):
                base = "T_" + base  # Excel refuses a table name that starts with a digit or reads as a cell
            name, k = base, 2
            while name.lower() in tables:
                name, k = f"{base}_{k}", k + 1
            tables.add(name.lower())
            sheet.table = name
            _write_sheet(wb, sheet, language)
        wb.calculation = CalcProperties(fullCalcOnLoad=True)
        with atomic_path(path) as tmp:
            _save(wb, tmp)
    return Path(path)


def write_table_xlsx(table: pd.DataFrame, path: str | os.PathLike, *, language: str = "sv",
                     sheet_name: str | None = None) -> Path:
    """One result table as an ``.xlsx`` for Swedish (or English) Excel, atomically.

    The same rows as the CSV written beside it (:func:`kps_analysis.report.write_table`),
    through :func:`sheet_from_frame` (headers and values in words, dates, formats,
    suppressed counts as ``dolt``) and :func:`write_workbook`.

    Parameters
    ----------
    table : DataFrame
        A result table as written to its CSV (after the suppression rule).
    path : path-like
        The ``.xlsx`` file; its stem names the sheet (:data:`TABLE_TITLES`) and the Excel table.
    language : {"sv", "en"}, optional
        Language of headers, values and sheet name; default Swedish.
    sheet_name : str, optional
        Sheet name instead of the table's title.

    Returns
    -------
    pathlib.Path
        The written file.

    Examples
    --------
    >>> import tempfile, openpyxl
    >>> t = pd.DataFrame({"clinic": ["uro"], "stage": ["new_visit"], "purchase": [3.0],
    ...                   "cost_external_sek": [6900.0], "share_within_guarantee": [0.9]})
    >>> with tempfile.TemporaryDirectory() as d:
    ...     ws = openpyxl.load_workbook(write_table_xlsx(t, f"{d}/t.xlsx")).active
    ...     [c.value for c in ws[1]], [c.value for c in ws[2]], ws["D2"].number_format  # doctest: +NORMALIZE_WHITESPACE
    (['Klinik', 'Steg', 'Köp', 'Kostnad köpt (kr)', 'Andel inom vårdgarantin'], ['uro', 'Nybesök', 3, 6900, 0.9],
     '#,##0 "kr"')
    """
    stem = Path(path).stem
    name = sheet_name or (TABLE_TITLES[stem][_i(language)] if stem in TABLE_TITLES else stem[:31] or "Tabell")
    with _gc_paused():
        sheet, _ = sheet_from_frame(table, name, language=language, table_name=stem)
        return write_workbook([sheet], path, language=language)
