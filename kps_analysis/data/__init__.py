"""Reading, mapping and validating clinic data: the canonical schema.

Every analysis in the package works on *canonical* frames, and this module is the only
place that knows about files.  It reads

* **weekly or monthly aggregates** (:func:`read_weekly`): CSV as Swedish Excel writes it
  (``;`` separator, decimal comma, UTF-8 with BOM, cp1252 or UTF-16 "Unicode text"),
  CSV with ``,`` and English names, XLSX and Parquet;
* **patient-level waiting-list extracts** (:func:`read_waiting_list`), one row per
  referral, from which :func:`weekly_from_waiting_list` derives the weekly flows and
  queues exactly, and :func:`waiting_snapshot` the waiting times on a given day.

Column headers are matched after normalising case, whitespace, punctuation and the
Swedish letters (``"Väntande nybesök"``, ``"VANTANDE_NYBESOK"`` and ``"väntande
nybesök "`` are the same header); see :data:`HEADER_ALIASES` and
:data:`EXTRACT_ALIASES`.  A file the readers cannot use raises :class:`DataError`, whose
message names the file, the column and the row (1-based as a spreadsheet shows it, the
header being row 1) or the week.

The canonical weekly frame is long: one row per ``clinic``, optional ``group`` and
``period`` (pandas ``Period``, freq ``W-SUN`` for ISO weeks or ``M`` for months) with
float64 measure columns (:data:`MEASURES`; NaN = not reported).  Queues
(:data:`STOCK_MEASURES`) are counted at the end of the period, the other measures
(:data:`FLOW_MEASURES`) during it.  For data derived from an extract two conservation
identities hold exactly, week by week::

    queue_new_visit[t] - queue_new_visit[t-1] = referrals_in - referrals_forwarded
        - removals_new_visit_other - new_visits - purchased_new_visits
    queue_treatment[t] - queue_treatment[t-1] = treatment_decisions
        - operations_elective - purchased_operations - removals_treatment_other

Patient-level data is personal data: a column that looks like a Swedish personal
identity number (*personnummer*) is never carried into a result, and error messages
name rows, never patient identifiers.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import datetime as _dt
import difflib
import io
import os
import re
import stat
import unicodedata
import warnings
from collections import Counter
from collections.abc import Mapping
from pathlib import Path, PurePosixPath, PureWindowsPath

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from ..calendar import iso_week_label, weeks_in_year

__all__ = [
    "load_clinic",
    "MEASURES",
    "FLOW_MEASURES",
    "STOCK_MEASURES",
    "DERIVED_MEASURES",
    "COUNT_MEASURES",
    "EXTRACT_COLUMNS",
    "PRIORITIES",
    "REMOVAL_REASONS",
    "HEADER_ALIASES",
    "EXTRACT_ALIASES",
    "PERSONAL_ID_HEADERS",
    "CONSERVATION_IDENTITIES",
    "DataError",
    "ClinicData",
    "normalise_header",
    "read_weekly",
    "read_waiting_list",
    "weekly_from_waiting_list",
    "periods_from_waiting_list",
    "PeriodCounts",
    "waiting_snapshot",
    "validate",
    "raise_for_errors",
    "load_clinic_data",
    "checked_data_path",
    "MAX_FILE_BYTES",
    "PLAUSIBLE_FROM",
    "MAX_COUNT_PER_PERIOD",
]

# ============================================================================ schema
MEASURES = (
    "referrals_in",
    "referrals_forwarded",
    "removals_new_visit_other",
    "new_visits",
    "return_visits",
    "emergency_visits",
    "treatment_decisions",
    "removals_treatment_other",
    "operations_elective",
    "operations_acute",
    "bed_days",
    "queue_new_visit",
    "queue_treatment",
    "queue_return_unbooked",
    "waiting_over_90_new_visit",
    "waiting_over_90_treatment",
    "purchased_new_visits",
    "purchased_operations",
    "planned_new_visits",
    "planned_operations",
    "no_shows",
    "available_slots",
)
"""Canonical measure columns, in canonical order."""

STOCK_MEASURES = (
    "queue_new_visit",
    "queue_treatment",
    "queue_return_unbooked",
    "waiting_over_90_new_visit",
    "waiting_over_90_treatment",
)
"""Measures counted at the end of a period (Sunday 24:00 / month end)."""

FLOW_MEASURES = tuple(m for m in MEASURES if m not in STOCK_MEASURES)
"""Measures counted during a period."""

DERIVED_MEASURES = (
    "referrals_in",
    "referrals_forwarded",
    "removals_new_visit_other",
    "new_visits",
    "treatment_decisions",
    "removals_treatment_other",
    "operations_elective",
    "queue_new_visit",
    "queue_treatment",
    "waiting_over_90_new_visit",
    "waiting_over_90_treatment",
    "purchased_new_visits",
    "purchased_operations",
)
"""Measures :func:`weekly_from_waiting_list` derives from a patient-level extract."""

COUNT_MEASURES = tuple(m for m in MEASURES if m != "bed_days")
"""Measures that must be whole numbers (``bed_days`` may hold decimals)."""

CONSERVATION_IDENTITIES = {
    "queue_new_visit": (
        ("referrals_in",),
        ("referrals_forwarded", "removals_new_visit_other", "new_visits", "purchased_new_visits"),
    ),
    "queue_treatment": (
        ("treatment_decisions",),
        ("operations_elective", "purchased_operations", "removals_treatment_other"),
    ),
}
"""Queue -> (inflow columns, outflow columns): change in queue = sum(in) - sum(out)."""

EXTRACT_COLUMNS = (
    "patient_id",
    "clinic",
    "group",
    "priority",
    "referral_date",
    "first_visit_date",
    "decision_date",
    "treatment_date",
    "removal_date",
    "removal_reason",
    "external",
    "patient_chosen_wait",
)
"""Columns of the canonical waiting-list extract (``group`` optional)."""

PRIORITIES = ("1", "2", "3")
"""Valid medical priority codes (1 = most urgent)."""

REMOVAL_REASONS = ("forwarded", "declined", "other")
"""Canonical removal reasons."""

MAX_FILE_BYTES = 2_000_000_000
"""Largest input file the readers open by default [bytes] (parameter ``max_file_megabytes``)."""

PLAUSIBLE_FROM = _dt.date(1990, 1, 1)
"""Earliest plausible date in input data by default (parameter ``plausible_from``)."""

MAX_COUNT_PER_PERIOD = 1_000_000.0
"""Largest plausible count in a weekly or monthly file by default [count/period]
(parameter ``max_count_per_period``)."""

_DATE_COLUMNS = ("referral_date", "first_visit_date", "decision_date", "treatment_date", "removal_date")
_WEEK_FREQ = "W-SUN"
_GUARANTEE_DAYS = 90

# ============================================================================ headers
_ID_HEADERS: dict[str, tuple[str, ...]] = {
    "clinic": ("Klinik", "Klinik-id", "Verksamhet", "Verksamhetsområde", "Clinic", "Clinic id",
               "Department", "Specialty clinic"),
    "group": ("Grupp", "Team", "Vårdteam", "Diagnosgrupp", "Diagnos", "Åtgärdsgrupp",
              "Operationsgrupp", "Undergrupp", "Sektion", "Enhet", "Mottagning", "Group",
              "Team name", "Diagnosis group", "Procedure group", "Subgroup", "Section", "Unit"),
    "period:week": ("Vecka", "Veckonummer", "Veckonr", "Vecka nr", "År-vecka", "ISO-vecka",
                    "Veckostart", "Vecka start", "Vecka slut", "Week", "Week number", "Week no",
                    "ISO week", "Year-week", "Week start", "Week starting", "Week beginning",
                    "Week ending", "Week end"),
    "period:month": ("Månad", "Månadsnummer", "År-månad", "Month", "Month number", "Year-month"),
    "period": ("Period", "Tidsperiod", "Datum", "Date"),
    "year": ("År", "Year", "ISO-år", "ISO year"),
}

_MEASURE_HEADERS: dict[str, tuple[str, ...]] = {
    "referrals_in": ("Remisser in", "Inkomna remisser", "Remisser", "Remissinflöde", "Nya remisser",
                     "Antal remisser", "Remisser inkomna", "Ankomna remisser", "Referrals in",
                     "Referrals", "Referrals received", "New referrals", "Referral inflow"),
    "referrals_forwarded": ("Vidarebefordrade remisser", "Vidarebefordrade", "Remisser vidarebefordrade",
                            "Vidareremitterade", "Referrals forwarded", "Forwarded referrals",
                            "Forwarded"),
    "removals_new_visit_other": ("Avförda ur nybesökskö", "Avförda nybesökskö", "Avförda nybesök",
                                 "Avförda före nybesök", "Övriga avförda nybesök",
                                 "Removals new visit", "Removals before first visit",
                                 "Removed before first visit"),
    "new_visits": ("Nybesök", "Nya besök", "Förstabesök", "Första besök", "Nybesök egen regi",
                   "New visits", "First visits", "First appointments", "New appointments"),
    "return_visits": ("Återbesök", "Return visits", "Follow-up visits", "Follow ups"),
    "emergency_visits": ("Akuta besök", "Akutbesök", "Emergency visits", "Acute visits",
                         "Urgent visits"),
    "treatment_decisions": ("Behandlingsbeslut", "Beslut om behandling", "Beslutade behandlingar",
                            "Operationsbeslut", "Treatment decisions", "Decisions to treat",
                            "Decision to treat"),
    "removals_treatment_other": ("Avförda ur behandlingskö", "Avförda behandlingskö",
                                 "Avförda behandling", "Övriga avförda behandling",
                                 "Removals treatment", "Removals from treatment queue"),
    "operations_elective": ("Elektiva operationer", "Operationer", "Elektiva ingrepp",
                            "Operationer elektiva", "Operationer egen regi", "Elective operations",
                            "Operations", "Elective surgery", "Elective procedures"),
    "operations_acute": ("Akuta operationer", "Akutoperationer", "Akuta ingrepp", "Operationer akuta",
                         "Acute operations", "Emergency operations", "Emergency surgery"),
    "bed_days": ("Vårddagar", "Vårddygn", "Beläggningsdagar", "Bed days", "Inpatient days"),
    "queue_new_visit": ("Väntande nybesök", "Väntande", "Kö nybesök", "Nybesökskö",
                        "Väntande på nybesök", "Väntelista nybesök", "Kö", "Queue new visit",
                        "Waiting new visit", "Waiting first visit", "New visit queue", "Queue"),
    "queue_treatment": ("Väntande behandling", "Kö behandling", "Behandlingskö", "Väntande operation",
                        "Väntande operationer", "Operationskö", "Kö operation",
                        "Väntande på behandling", "Queue treatment", "Waiting treatment",
                        "Treatment queue", "Waiting for treatment", "Waiting operation"),
    "queue_return_unbooked": ("Ej bokade återbesök", "Obokade återbesök", "Återbesök ej bokade",
                              "Väntande återbesök", "Återbesökskö", "Planeringslista återbesök",
                              "Unbooked return visits", "Return visits unbooked"),
    "waiting_over_90_new_visit": ("Väntat över 90 dagar nybesök", "Väntat >90 dagar nybesök",
                                  "Väntat mer än 90 dagar nybesök", "Över 90 dagar nybesök",
                                  "Nybesök över 90 dagar", "Väntande nybesök över 90 dagar",
                                  "Waiting over 90 days new visit", "Over 90 days new visit",
                                  "New visit over 90 days"),
    "waiting_over_90_treatment": ("Väntat över 90 dagar behandling", "Väntat >90 dagar behandling",
                                  "Väntat mer än 90 dagar behandling", "Över 90 dagar behandling",
                                  "Behandling över 90 dagar", "Väntande behandling över 90 dagar",
                                  "Väntat över 90 dagar operation", "Waiting over 90 days treatment",
                                  "Over 90 days treatment", "Treatment over 90 days"),
    "purchased_new_visits": ("Köpt vård nybesök", "Köpt vård", "Köpta nybesök", "Externa nybesök",
                             "Nybesök köpt vård", "Purchased new visits", "External new visits",
                             "Outsourced new visits"),
    "purchased_operations": ("Köpt vård operationer", "Köpta operationer", "Externa operationer",
                             "Operationer köpt vård", "Köpt vård behandling", "Purchased operations",
                             "External operations", "Outsourced operations"),
    "planned_new_visits": ("Planerade nybesök", "Plan nybesök", "Nybesök plan", "Planned new visits",
                           "Plan new visits"),
    "planned_operations": ("Planerade operationer", "Plan operationer", "Operationer plan",
                           "Planned operations", "Plan operations"),
    "no_shows": ("Uteblivna besök", "Uteblivna", "Uteblivit", "Uteblivna patienter", "No shows",
                 "No-show", "Did not attend", "DNA"),
    "available_slots": ("Lediga tider", "Obokade tider", "Lediga", "Outnyttjade tider",
                        "Available slots", "Free slots", "Unbooked slots", "Unused slots"),
}

HEADER_ALIASES: dict[str, tuple[str, ...]] = {**_ID_HEADERS, **_MEASURE_HEADERS}
"""Column role -> accepted headers of weekly/monthly files (the canonical name is always
accepted too).  Roles: ``clinic``, ``group``, ``period:week``, ``period:month``,
``period`` (weekly or monthly, decided from the labels), ``year`` (with week or month
numbers in the period column) and every name in :data:`MEASURES`."""

EXTRACT_ALIASES: dict[str, tuple[str, ...]] = {
    "patient_id": ("Patient-id", "Patientid", "Patient", "Pat-id", "Löpnummer", "Löpnr", "Id",
                   "Pseudonym", "Pseudonymiserat id", "Patient ID", "Record id"),
    "clinic": _ID_HEADERS["clinic"],
    "group": _ID_HEADERS["group"],
    "priority": ("Prioritet", "Prio", "Medicinsk prioritet", "Prioritetsgrupp", "Prioritetsgrad",
                 "Priority", "Clinical priority"),
    "referral_date": ("Remissdatum", "Remissankomstdatum", "Remiss ankomstdatum", "Ankomstdatum",
                      "Remiss inkom", "Inkomstdatum", "Remiss ankommen", "Ankomstdatum remiss",
                      "Registreringsdatum", "Vårdbegäran datum", "Referral date", "Referral received",
                      "Date referred", "Referral received date"),
    "first_visit_date": ("Besöksdatum", "Nybesöksdatum", "Nybesök datum", "Datum nybesök",
                         "Första besök", "Förstabesöksdatum", "Första besöksdatum", "Besök datum",
                         "Datum första besök", "First visit date", "Visit date", "First visit",
                         "First appointment"),
    "decision_date": ("Beslutsdatum", "Beslut om operation", "Beslut om behandling", "Behandlingsbeslut",
                      "Behandlingsbeslutsdatum", "Datum behandlingsbeslut", "Beslut datum",
                      "Datum beslut", "Operationsbeslut", "Operationsbeslutsdatum", "Beslut om op",
                      "Op-beslut", "Decision date", "Decision to treat date", "Decision to treat",
                      "Treatment decision date"),
    "treatment_date": ("Behandlingsdatum", "Operationsdatum", "Op-datum", "Opdatum", "Åtgärdsdatum",
                       "Datum behandling", "Datum operation", "Opererad", "Opererad datum",
                       "Treatment date", "Operation date", "Surgery date"),
    "removal_date": ("Avförd datum", "Avförandedatum", "Avförd", "Datum avförd", "Borttagen datum",
                     "Avregistrerad", "Avregistreringsdatum", "Removal date", "Removed date",
                     "Date removed"),
    "removal_reason": ("Avförandeorsak", "Avförd orsak", "Avförd anledning", "Orsak avförd",
                       "Orsak avförande", "Orsak", "Avförandekod", "Avregistreringsorsak",
                       "Removal reason", "Reason removed", "Reason"),
    "external": ("Extern", "Externt", "Köpt vård", "Köpt", "Extern vårdgivare", "External",
                 "Purchased", "Outsourced"),
    "patient_chosen_wait": ("Patientvald väntan", "Patientvald väntetid", "Patientvald", "PVV",
                            "Patient chosen wait", "Patient choice"),
}
"""Column -> accepted headers of waiting-list extracts (canonical names accepted too).

A column headed ``Personnummer`` (or another of :data:`PERSONAL_ID_HEADERS`) is accepted
too: it is never carried into a result; without a patient id column its numbers become
pseudonyms (``P0000001``...) for the duplicate check only."""

_PERSONAL_ID_HEADERS = ("Personnummer", "Personnr", "Pnr", "Person nr", "Samordningsnummer",
                        "Reservnummer", "Personal identity number", "Person number", "SSN")
PERSONAL_ID_HEADERS = _PERSONAL_ID_HEADERS
"""Headers of personal identity number columns: read only as pseudonyms, never carried."""

_PERIOD_ROLES = ("period:week", "period:month", "period")


def normalise_header(name) -> str:
    """Normalise a column header for matching: case, spaces, punctuation, å/ä/ö.

    Letters are case-folded and stripped of diacritics (å, ä -> a; ö -> o), and every
    character that is not a letter or digit is dropped.

    Parameters
    ----------
    name : object
        A header cell. [text]

    Returns
    -------
    str
        The normalised key.

    Examples
    --------
    >>> normalise_header(" Väntat >90 dagar, NYBESÖK ")
    'vantat90dagarnybesok'
    >>> normalise_header("queue_new_visit") == normalise_header("Queue new-visit")
    True
    """
    text = unicodedata.normalize("NFKD", str(name)).casefold()
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.replace("ø", "o").replace("æ", "ae").replace("ß", "ss")
    return re.sub(r"[^0-9a-z]+", "", text)


def _build_lookup(*tables: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
    lookup: dict[str, str] = {}
    for table in tables:
        for role, aliases in table.items():
            names = aliases if ":" in role else (role, *aliases)
            for alias in names:
                key = normalise_header(alias)
                if lookup.setdefault(key, role) != role:
                    raise RuntimeError(f"header alias {alias!r} means both {lookup[key]} and {role}")
    return lookup


_WEEKLY_LOOKUP = _build_lookup(HEADER_ALIASES)
_EXTRACT_LOOKUP = _build_lookup(EXTRACT_ALIASES)
_PERSONAL_KEYS = frozenset(normalise_header(h) for h in _PERSONAL_ID_HEADERS)


def _build_spelling(*tables: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
    """Normalised header -> the header as written in the alias table (for suggestions)."""
    spelling: dict[str, str] = {}
    for table in tables:
        for role, aliases in table.items():
            for alias in (aliases if ":" in role else (*aliases, role)):
                spelling.setdefault(normalise_header(alias), alias)
    return spelling


_WEEKLY_SPELLING = _build_spelling(HEADER_ALIASES)
_EXTRACT_SPELLING = _build_spelling(EXTRACT_ALIASES)
_MOJIBAKE = re.compile("\u00c3[\u0080-\u00bf\u2026\u201e\u2013\u0161\u0152\u2020\u02c6]|\u00e2\u20ac")


_GARBLED_NOTE = (" (headers such as 'NybesÃ¶k' are garbled: the file was saved twice in different "
                 "encodings; export it again as 'CSV UTF-8')")


def _close_header(header, lookup, spelling, *, roles=None, taken=()):
    """The accepted header closest to a misspelt one ('Nybeök' -> 'Nybesök'), or None.

    ``roles`` limits the candidates to some column roles; ``taken`` leaves out roles the
    file already has.
    """
    key = normalise_header(header)
    if len(key) < 4:
        return None
    keys = [k for k in spelling if lookup.get(k) not in taken and (roles is None or lookup.get(k) in roles)]
    match = difflib.get_close_matches(key, keys, n=1, cutoff=0.8)
    return spelling[match[0]] if match else None


def _header_hints(headers, lookup, spelling, **kw) -> str:
    """'; did you mean 'Vecka' for 'Veckka'?' for the misspelt ones among ``headers``."""
    pairs = [(h, _close_header(h, lookup, spelling, **kw)) for h in headers]
    if len(pairs) == 1:
        shown = [repr(s) for _, s in pairs if s is not None]
    else:
        shown = [f"{s!r} for {h!r}" for h, s in pairs if s is not None]
    text = f"; did you mean {', '.join(shown)}?" if shown else ""
    if any(_MOJIBAKE.search(str(h)) for h in headers):
        text += _GARBLED_NOTE
    return text


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


# ============================================================================ file tables
@dataclasses.dataclass
class _Table:
    path: Path
    headers: list  # header text per column position
    data: pd.DataFrame  # columns 0..n-1, one row per data row
    rows: np.ndarray  # spreadsheet row number of each data row
    decimal: str  # the file's decimal mark, breaks the tie for '1,234' / '1.234'
    header_row: int = 1  # spreadsheet row number of the header
    sheets: tuple = ()  # the sheets of a workbook read at its first sheet by default, if more than one

    def sheet_hint(self) -> str:
        """'; the workbook has sheets ...' when the first of several sheets was read by default."""
        if len(self.sheets) < 2:
            return ""
        names = ", ".join(_shown(n, limit=40) for n in self.sheets[:20])
        return (f" (the first sheet was read; the workbook has sheets {names}: name the one with the data "
                "in the clinic parameter data.sheet)")


# Leading bytes of file formats that are not text, to name what a mislabelled file is.
_MAGIC = (
    (b"PK\x03\x04", "an Excel workbook (.xlsx) or another zip archive"),
    (bytes.fromhex("d0cf11e0a1b11ae1"), "an old Excel workbook (.xls) or a password-protected one"),
    (b"PAR1", "a Parquet file"),
    (b"%PDF", "a PDF document"),
)


def _file_kind(head: bytes):
    """What a file is by its first bytes ('an Excel workbook ...'), or None."""
    return next((kind for magic, kind in _MAGIC if head.startswith(magic)), None)


def _looks_like_text(head: bytes) -> bool:
    if head.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return True
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:  # not merely a character cut at the end of the sample
            return False
    return True


def _decode(raw: bytes, path: Path) -> str:
    """Text of a CSV file: UTF-8 (BOM or not), UTF-16 (BOM or not), else cp1252/latin-1."""
    if raw.startswith(codecs.BOM_UTF8):
        try:
            return raw[len(codecs.BOM_UTF8):].decode("utf-8")
        except UnicodeDecodeError:
            raw = raw[len(codecs.BOM_UTF8):]
    for bom, encoding in ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if raw.startswith(bom):
            try:
                return raw[len(bom):].decode(encoding)
            except UnicodeDecodeError as exc:
                raise DataError(f"cannot decode the file as UTF-16: {exc}", path=path) from None
    sample = raw[:4096]
    if sample and sample.count(b"\x00") >= len(sample) // 4:
        encoding = "utf-16-be" if sample[:1] == b"\x00" else "utf-16-le"
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError as exc:
            raise DataError(f"cannot decode the file as UTF-16: {exc}", path=path) from None
    for encoding in ("utf-8", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")


def _sniff_separator(lines: list[str]) -> tuple[str, int]:
    """The separator (tab, ';', ',' or '|') splitting the lines most consistently, and the widest row.

    Each separator is tried with quoted cells and without (a quote that is never closed
    swallows the lines after it, which would make the right separator look wrong).
    """
    best = None
    for order, sep in enumerate(("\t", ";", ",", "|")):
        for quoting in (csv.QUOTE_MINIMAL, csv.QUOTE_NONE):
            try:
                counts = [len(row) for row in csv.reader(lines, delimiter=sep, quoting=quoting)]
            except csv.Error:
                continue
            if not counts:
                continue
            mode, freq = Counter(counts).most_common(1)[0]
            if mode < 2:
                continue
            key = (freq, -order)
            if best is None or key > best[0]:
                best = (key, sep, max(counts))
    if best is None:
        return ",", 1
    return best[1], best[2]


_ARROW_CSV_MIN_BYTES = 16_000_000


def _read_csv_arrow(path: Path):
    """A large UTF-8 CSV file read by Arrow's CSV reader into Arrow-backed text columns
    (in parallel, about the file's size in memory); None when the file is anything
    else (another encoding, an Excel "sep=" line, a blank line, rows of unequal width,
    a quotation mark never closed): the general reader then reads it and says what is
    wrong."""
    with open(path, "rb") as f:
        head = f.read(262_144)
    if _file_kind(head[:8]) is not None:
        return None
    body = head[len(codecs.BOM_UTF8):] if head.startswith(codecs.BOM_UTF8) else head
    if b"\x00" in body or head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(body) - 3:
            return None
        text = body[:exc.start].decode("utf-8")
    if re.match(r"[ \t]*sep=", text[:20], flags=re.IGNORECASE):
        return None
    lines = text.splitlines()[:-1] if len(head) == 262_144 else text.splitlines()  # the last may be cut
    sample = [line for line in lines[:300] if line.strip()][:200]
    if not sample:
        return None
    sep, width = _sniff_separator(sample)
    names = [str(i) for i in range(width)]
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(column_names=names, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(delimiter=sep, ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False))
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, UnicodeDecodeError):
        return None
    raw = table.to_pandas(types_mapper=lambda t: _TEXT_DTYPE if t == pa.string() else None)
    raw.columns = range(width)
    return raw, np.arange(1, len(raw) + 1), ("." if sep == "," else ",")


def _read_csv_table(path: Path) -> tuple[pd.DataFrame, np.ndarray, str]:
    """Cells of a CSV file as text, one row per line (blank lines kept, so that row
    numbers are the spreadsheet's), the line numbers, and the file's decimal mark.

    A large UTF-8 file is read by Arrow (:func:`_read_csv_arrow`) when it can be."""
    if os.stat(path).st_size >= _ARROW_CSV_MIN_BYTES:
        fast = _read_csv_arrow(path)
        if fast is not None:
            return fast
    raw_bytes = path.read_bytes()
    kind = _file_kind(raw_bytes[:8])
    if kind is not None:
        raise DataError(f"this is {kind}, not a text (CSV) file; give the file the ending of what it is "
                        "(.xlsx, .parquet) or export it again as CSV", path=path)
    text = _decode(raw_bytes, path)
    match = re.match(r"[ \t]*sep=(.)[ \t]*\r?\n", text[:20], flags=re.IGNORECASE)
    if match:  # Excel's "sep=;" hint line (Excel hides it, so it does not count as a row)
        text = text[match.end():]
    sample = [line for line in text[:200_000].splitlines()[:300] if line.strip()][:200]
    if match:
        sep = match.group(1)
        width = max([len(r) for r in csv.reader(sample, delimiter=sep)] or [1])
    else:
        sep, width = _sniff_separator(sample)
    try:
        raw = pd.read_csv(io.StringIO(text), sep=sep, header=None, names=range(width), dtype=str,
                          keep_default_na=False, na_filter=False, skip_blank_lines=False,
                          engine="c")
    except (pd.errors.ParserError, ValueError) as exc:
        if "EOF inside string" in str(exc):  # a quote opens a cell and is never closed
            lines = text.splitlines()
            odd = next((i for i, line in enumerate(lines) if line.count('"') % 2), None)
            if odd is not None:
                before = lines[odd][:_last_odd_quote(lines[odd])]
                cell = max(1, len(next(csv.reader([before], delimiter=sep, quoting=csv.QUOTE_NONE), [])))
                raise DataError(f'cell {cell} of the row opens a quotation mark (") that is never closed',
                                path=path, row=odd + 1) from None
        raise DataError(f"cannot read as CSV with separator {sep!r}: {exc}", path=path) from None
    return raw.fillna(""), np.arange(1, len(raw) + 1), ("." if sep == "," else ",")


def _last_odd_quote(line: str) -> int:
    """Position of the quote in ``line`` that is left open (the last unpaired one)."""
    positions = [i for i, c in enumerate(line) if c == '"']
    return positions[-1] if positions else 0


def _read_xlsx_table(path: Path, sheet) -> tuple[pd.DataFrame, np.ndarray, str, tuple]:
    import openpyxl

    with path.open("rb") as f:
        head = f.read(4096)
    if not head:
        raise DataError("the file is empty", path=path)
    if not head.startswith(b"PK\x03\x04"):
        kind = _file_kind(head)
        if kind is None and _looks_like_text(head):
            kind = "a text file (CSV?)"
        what = f"this is {kind}, not" if kind else "this is not"
        raise DataError(f"{what} an Excel workbook (.xlsx); rename it to what it is, or open it in Excel "
                        "and save it as .xlsx", path=path)
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken workbook
        raise DataError(f"cannot open as an Excel workbook: {exc}", path=path) from None
    try:
        names = tuple(book.sheetnames)
        if sheet is None:
            ws = book.worksheets[0]
        elif isinstance(sheet, int) and not isinstance(sheet, bool):
            if not 0 <= sheet < len(names):
                raise DataError(f"no sheet number {sheet} (counting from 0); the workbook has {len(names)} "
                                f"sheet(s): {', '.join(_shown(n, limit=40) for n in names[:20])}", path=path)
            ws = book.worksheets[sheet]
        else:
            if str(sheet) not in names:
                raise DataError(f"no sheet {_shown(sheet, limit=40)}; the workbook has sheet(s) "
                                f"{', '.join(_shown(n, limit=40) for n in names[:20])}", path=path)
            ws = book[str(sheet)]
        ws.reset_dimensions()  # some writers store wrong dimensions
        rows = [tuple(r) for r in ws.iter_rows(min_row=1, values_only=True)]
    finally:
        book.close()
    width = max([len(r) for r in rows] or [0])
    raw = pd.DataFrame([r + (None,) * (width - len(r)) for r in rows], columns=range(width), dtype=object)
    return raw, np.arange(1, len(raw) + 1), ",", (names if sheet is None else ())


def _header_roles(cells, lookup) -> list:
    return [lookup.get(normalise_header(c)) if _present(c) else None for c in cells]


def _present(value) -> bool:
    if value is None:
        return False
    if isinstance(value, float) and value != value:
        return False
    return str(value).strip() != ""


def _few_valued_text_columns(path: Path) -> list[str]:
    """Text columns of a large Parquet file whose first rows repeat a few values.

    Reading them dictionary-encoded (pandas categoricals) saves decoding millions of
    strings; the cells are the same either way.
    """
    try:
        parquet = pq.ParquetFile(path)
        if parquet.metadata.num_rows < _DICTIONARY_MIN_ROWS:
            return []
        names = [field.name for field in parquet.schema_arrow
                 if pa.types.is_string(field.type) or pa.types.is_large_string(field.type)]
        if not names or len(set(names)) != len(names):
            return []
        batch = next(parquet.iter_batches(batch_size=_DICTIONARY_SAMPLE, columns=names))
        return [name for name in names
                if pc.count_distinct(batch.column(name), mode="all").as_py() <= 0.05 * batch.num_rows]
    except Exception:  # the actual read reports what is wrong with the file
        return []


_DICTIONARY_MIN_ROWS = 200_000
_DICTIONARY_SAMPLE = 20_000


def _check_regular_file(path: Path, max_bytes=None) -> int:
    """The size of ``path`` [bytes]; DataError if it is missing, not a regular file (a
    folder, a named pipe, a socket, a device: never opened, so nothing blocks or reads
    without end) or larger than ``max_bytes`` (default :data:`MAX_FILE_BYTES`)."""
    limit = MAX_FILE_BYTES if max_bytes is None else int(max_bytes)
    try:
        info = os.stat(path)  # follows links: the file that would be opened
    except FileNotFoundError:
        raise DataError("file not found", path=path) from None
    except OSError as exc:
        raise DataError(f"cannot read the file: {exc.strerror or type(exc).__name__}", path=path) from None
    if stat.S_ISDIR(info.st_mode):
        raise DataError("is a folder, not a file", path=path)
    if not stat.S_ISREG(info.st_mode):
        raise DataError("is not a regular file (a named pipe, socket or device?); it was not opened", path=path)
    if info.st_size > limit:
        raise DataError(f"the file holds {info.st_size / 1e6:,.0f} MB, more than the limit of {limit / 1e6:,.0f} MB "
                        "(parameter max_file_megabytes); split the file or raise the limit", path=path)
    return info.st_size


def _load_table(path: Path, *, sheet, lookup, anchors, dictionary: bool = False, max_bytes=None) -> _Table:
    """Read a CSV/XLSX/Parquet file into a table of cells; find the header row.

    With ``dictionary``, text columns of a large Parquet file that hold few distinct
    values may come as categoricals (same cells).
    """
    _check_regular_file(path, max_bytes)
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        size = path.stat().st_size
        with path.open("rb") as f:
            head = f.read(4096)
            f.seek(max(size - 4, 0))
            tail = f.read(4)
        if not head:
            raise DataError("the file is empty", path=path)
        if not head.startswith(b"PAR1"):
            kind = _file_kind(head) or ("a text file (CSV?)" if _looks_like_text(head) else None)
            what = f"this is {kind}, not" if kind else "this is not"
            raise DataError(f"{what} a Parquet file; rename it to what it is", path=path)
        if tail != b"PAR1":
            raise DataError("the Parquet file is incomplete (it ends before its footer: cut short while "
                            "copying or writing?); copy or export it again", path=path)
        few_valued = _few_valued_text_columns(path) if dictionary else []
        frame = None
        if few_valued:
            try:
                frame = pd.read_parquet(path, read_dictionary=few_valued)
            except Exception:  # read again plainly: that read names the problem
                frame = None
        if frame is None:
            try:
                frame = pd.read_parquet(path)
            except Exception as exc:  # pyarrow raises ArrowInvalid, OSError and others
                raise DataError(f"cannot read as Parquet: {exc}", path=path) from None
        headers = [str(c) for c in frame.columns]
        data = frame.set_axis(range(frame.shape[1]), axis=1).reset_index(drop=True)
        return _Table(path, headers, data, np.arange(2, len(data) + 2), ",")
    sheets = ()
    if suffix in (".csv", ".txt", ".tsv", ".tab"):
        raw, rownums, decimal = _read_csv_table(path)
    elif suffix in (".xlsx", ".xlsm"):
        raw, rownums, decimal, sheets = _read_xlsx_table(path, sheet)
    elif suffix == ".xls":
        raise DataError("old Excel .xls files cannot be read; save the sheet as .xlsx or CSV", path=path)
    else:
        raise DataError(f"unknown file type {suffix!r}; expected .csv, .xlsx or .parquet", path=path)
    hint = _Table(path, [], raw, np.zeros(0), ",", sheets=sheets).sheet_hint()
    if raw.shape[0] == 0:
        raise DataError("the file is empty" + hint, path=path)
    header_at = 0
    first_nonempty = None
    most_known = (1, None)  # the row with the most known headers, if no row has an anchor
    for i in range(min(30, raw.shape[0])):
        cells = list(raw.iloc[i])
        if first_nonempty is None and any(_present(c) for c in cells):
            first_nonempty = i
        roles = _header_roles(cells, lookup)
        known = sum(r is not None for r in roles)
        if known >= 2 and any(r in anchors for r in roles):
            header_at = i
            break
        if known > most_known[0]:
            most_known = (known, i)
    else:
        if first_nonempty is None and _empty_rows(raw).all():
            raise DataError("the file is empty (no cell holds a value)" + hint, path=path)
        header_at = most_known[1] if most_known[1] is not None else (first_nonempty or 0)
    headers = ["" if not _present(c) else str(c).strip() for c in raw.iloc[header_at]]
    data = raw.iloc[header_at + 1:].reset_index(drop=True)
    return _Table(path, headers, data, rownums[header_at + 1:], decimal, int(rownums[header_at]), sheets)


def _shown_headers(headers, *, at_most: int = 20) -> str:
    """The header names of a table for a message (each at most 40 characters)."""
    named = [h for h in headers if h]
    text = ", ".join(_shown(h, limit=40) for h in named[:at_most]) or "none"
    return text + (f" and {len(named) - at_most} more" if len(named) > at_most else "")


def _refuse_unknown_table(table: _Table, roles, personal, unknown_headers, lookup, spelling, examples) -> None:
    """DataError, quoting nothing of the file, when no header is known or close to a known one.

    Such a file is not a table of this kit (a system file behind a link, a letter): its
    first line is content, not header names, so it is not shown.
    """
    if roles or personal or any(_close_header(h, lookup, spelling) for h in unknown_headers):
        return
    raise DataError(f"not a recognised table: no cell in the first rows is a known column header (expected "
                    f"e.g. {examples}); the file's content is not shown" + table.sheet_hint(), path=table.path)


def _map_columns(table: _Table, lookup) -> tuple[dict, list, list]:
    """Column role -> position; unknown positions; personal-id positions."""
    roles: dict[str, int] = {}
    unknown, personal = [], []
    for pos, header in enumerate(table.headers):
        if not header:
            continue
        key = normalise_header(header)
        if key in _PERSONAL_KEYS:
            personal.append(pos)
            continue
        role = lookup.get(key)
        if role is None:
            unknown.append(pos)
            continue
        if role in roles:
            raise DataError(f"columns {table.headers[roles[role]]!r} and {header!r} both mean "
                            f"{role!r}; keep one", path=table.path, column=header, row=table.header_row)
        roles[role] = pos
    return roles, unknown, personal


def _typed(dtype) -> bool:
    """Cells of this dtype are empty exactly when missing (no text to strip)."""
    return (pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype)
            or pd.api.types.is_bool_dtype(dtype) or isinstance(dtype, pd.PeriodDtype))


def _empty_rows(data: pd.DataFrame) -> np.ndarray:
    n = len(data)
    empty = np.ones(n, dtype=bool)
    # Cheap columns first; each later column is looked at only in the rows still empty.
    order = sorted(data.columns, key=lambda pos: not _typed(data[pos].dtype))
    for pos in order:
        idx = np.flatnonzero(empty)
        if idx.size == 0:
            break
        values = data[pos] if idx.size == n else data[pos].iloc[idx]
        empty[idx] = _is_empty(values)
    return empty


# ============================================================================ cell parsing
_NA_TEXT = frozenset({"", "-", "–", "—", "..", "na", "n/a", "nan", "null", "none", "#n/a", "saknas"})
_NA_WORDS = _NA_TEXT - {"", "-", "–", "—", ".."}  # read as missing, with a finding
_TOTAL_TEXT = frozenset({"total", "totalt", "summa", "sum", "totalsumma", "grand total", "samtliga"})


def _one_text(value) -> str:
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        if value != value:
            return ""
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    if isinstance(value, (_dt.datetime, _dt.date, np.datetime64)):
        stamp = pd.Timestamp(value)
        return "" if stamp is pd.NaT else stamp.strftime("%Y-%m-%d")
    return str(value)


def _mask(values) -> np.ndarray:
    """A boolean numpy array from a bool/boolean Series or array (NA -> False)."""
    if isinstance(values, (pd.Series, pd.Index)):
        return values.to_numpy(dtype=bool, na_value=False)
    return np.asarray(values, dtype=bool)


_TEXT_DTYPE = pd.StringDtype("pyarrow")  # vectorised string operations (pyarrow compute)
_SPACES = "[ \t\r\n\f\v\u00a0\u202f\u2009]"  # literal characters: pyarrow's RE2 runs it
_ODD_SPACE = "[\t\r\n\f\v\u00a0\u202f\u2009]|  "


def _texts(values: pd.Series, *, lower: bool = False, squeeze: bool = True) -> pd.Series:
    """Cells as stripped text (string dtype, '' when empty); dates as YYYY-MM-DD.

    Whole numbers lose their '.0'; with ``squeeze``, runs of white space (no-break
    spaces too) become one space.
    """
    dtype = values.dtype
    if isinstance(dtype, pd.PeriodDtype):
        out = values.astype(str).where(values.notna(), "")
    elif pd.api.types.is_datetime64_any_dtype(dtype):
        out = values.dt.strftime("%Y-%m-%d").where(values.notna(), "")
    elif pd.api.types.is_bool_dtype(dtype):
        out = values.map({True: "true", False: "false"}).where(values.notna(), "")
    elif pd.api.types.is_numeric_dtype(dtype):
        v = values.to_numpy(dtype=float, na_value=np.nan)
        whole = np.isfinite(v) & (v == np.round(v))
        text = np.where(whole, np.where(whole, v, 0).astype(np.int64).astype(str), v.astype(str))
        out = pd.Series(np.where(np.isnan(v), "", text), index=values.index)
    elif isinstance(dtype, pd.StringDtype):
        out = values
    else:
        obj = values.to_numpy(dtype=object)
        if pd.api.types.infer_dtype(obj, skipna=True) in ("string", "empty"):
            out = pd.Series(obj, index=values.index)
        else:
            out = pd.Series(obj, index=values.index).map(_one_text)
    out = out.astype(_TEXT_DTYPE).fillna("")
    if squeeze:
        odd = _mask(out.str.contains(_ODD_SPACE, regex=True))
        if odd.any():
            out = out.where(~odd, out.str.replace(_SPACES + "+", " ", regex=True))
    out = out.str.strip()
    return out.str.lower() if lower else out


_STR_DTYPE = pd.Series([""], dtype=object).astype(str).dtype  # what .astype(str) gives


def _distinct_texts(values: pd.Series, *, lower: bool = False, squeeze: bool = True):
    """``_texts`` worked out once per distinct cell: ``(codes, texts)``.

    ``texts`` is an object array whose last entry is ``""`` (for missing cells, code -1)
    and ``_texts(values, ...)`` equals ``texts[codes]`` cell by cell.  Object columns
    holding anything but strings are not grouped (``True == 1`` but they read
    differently): each cell is its own entry then.
    """
    dtype = values.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        codes = values.cat.codes.to_numpy()
        uniques = pd.Series(values.cat.categories.to_numpy(dtype=object), dtype=object)
    elif dtype == object and pd.api.types.infer_dtype(values.to_numpy(dtype=object), skipna=True) \
            not in ("string", "empty"):
        codes = np.arange(len(values))
        uniques = values.reset_index(drop=True)
    else:
        codes, found = pd.factorize(values)
        uniques = pd.Series(found)
    texts = _texts(uniques, lower=lower, squeeze=squeeze).to_numpy(dtype=object)
    return codes.astype(np.intp), np.append(texts, "").astype(object)


def _column_texts(values: pd.Series, *, lower: bool = False, squeeze: bool = True) -> pd.Series:
    """``_texts``, by distinct value for a categorical column."""
    if not isinstance(values.dtype, pd.CategoricalDtype):
        return _texts(values, lower=lower, squeeze=squeeze)
    codes, texts = _distinct_texts(values, lower=lower, squeeze=squeeze)
    return _take_texts(codes, texts, dtype=_TEXT_DTYPE)


def _take_texts(codes: np.ndarray, table, *, dtype=_STR_DTYPE) -> pd.Series:
    """``table[codes]`` (None -> missing) as a string Series, taken in Arrow."""
    table = pd.array(np.asarray(table, dtype=object), dtype=dtype)
    codes = np.asarray(codes, dtype=np.intp)
    codes = np.where(codes < 0, codes + len(table), codes)
    return pd.Series(table.take(codes))


_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: well spread 64-bit values (uint64 wraps around)."""
    x = x ^ (x >> np.uint64(30))
    x = x * _MIX1
    x = x ^ (x >> np.uint64(27))
    x = x * _MIX2
    return x ^ (x >> np.uint64(31))


def _hash_texts(texts: pd.Series) -> np.ndarray:
    """A 64-bit hash of each string (equal strings, equal hashes; missing -> as '')."""
    arrow = pa.array(texts.astype(_TEXT_DTYPE).array)
    if isinstance(arrow, pa.ChunkedArray):
        arrow = arrow.combine_chunks()
    arrow = pc.fill_null(arrow, "").cast(pa.large_string())
    n = len(arrow)
    buffers = arrow.buffers()
    offsets = np.frombuffer(buffers[1], dtype=np.int64, count=n + 1, offset=arrow.offset * 8)
    data = np.frombuffer(buffers[2], dtype=np.uint8) if buffers[2] is not None else np.zeros(0, np.uint8)
    padded = np.zeros(len(data) + 8, dtype=np.uint8)
    padded[:len(data)] = data
    words = np.ndarray(shape=(len(data) + 1,), dtype="<u8", buffer=padded, strides=(1,))  # unaligned
    starts = offsets[:-1]
    lengths = offsets[1:] - starts
    h = lengths.view(np.uint64) * _MIX1
    shortest, longest = (int(lengths.min()), int(lengths.max())) if n else (0, 0)
    last = len(words) - 1
    for k in range(0, longest, 8):
        word = words[np.minimum(starts + k, last) if k + 8 > shortest else starts + k]
        if k + 8 > shortest:  # mask the bytes beyond each string's end
            rest = np.clip(lengths - k, 0, 8).astype(np.uint64)
            word &= np.where(rest == 8, np.uint64(2**64 - 1),
                             np.left_shift(np.uint64(1), np.uint64(8) * np.minimum(rest, np.uint64(7))) - np.uint64(1))
        h = (h ^ word) * _MIX2  # a bijection of the word, given h: distinct tails stay distinct
    return _mix(h)


def _duplicate_rows(clinic_codes: np.ndarray, days: np.ndarray, pid: pd.Series) -> np.ndarray:
    """Rows whose (clinic, referral date, patient id) occurs more than once (keep=False).

    A hash of the three finds the candidates in one sort; the candidates (none, as a
    rule) are compared exactly.
    """
    n = len(pid)
    h = _hash_texts(pid)
    h ^= np.asarray(days, dtype=np.int64).view(np.uint64) * _MIX1
    h = (h ^ np.asarray(clinic_codes, dtype=np.int64).view(np.uint64)) * _MIX2
    ordered = np.sort(h)
    repeated = ordered[1:][ordered[1:] == ordered[:-1]]
    dup = np.zeros(n, dtype=bool)
    if repeated.size == 0:
        return dup
    idx = np.flatnonzero(np.isin(h, repeated))
    key = pd.DataFrame({"c": clinic_codes[idx], "d": days[idx], "p": pid.iloc[idx].to_numpy(dtype=object)})
    dup[idx] = key.duplicated(keep=False).to_numpy()
    return dup


def _is_empty(values: pd.Series) -> np.ndarray:
    if _typed(values.dtype):
        return _mask(values.isna())
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes, texts = _distinct_texts(values)
        return (texts == "")[codes]
    return _mask(_texts(values) == "")


_PLAIN_MIN_ROWS = 1000


def _plain_numbers(values: pd.Series):
    """Counts as float64 (NaN where empty) when every cell is empty or a plain whole
    number ('123', '-4'), worked out in Arrow; None otherwise (then the general reading
    with decimal commas, thousands separators and messages applies)."""
    try:
        if isinstance(values.dtype, pd.StringDtype):
            arr = pa.array(values.astype(_TEXT_DTYPE).array)
        else:
            arr = pa.array(values.to_numpy(dtype=object), type=pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError):
        return None
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    arr = pc.utf8_trim_whitespace(pc.fill_null(arr, ""))
    empty = pc.equal(arr, "")
    if not pc.all(pc.or_(pc.match_substring_regex(arr, r"^-?[0-9]{1,15}$"), empty)).as_py():
        return None
    whole = pc.cast(pc.if_else(empty, pa.scalar(None, pa.string()), arr), pa.int64())
    return np.asarray(whole.to_numpy(zero_copy_only=False), dtype=np.float64)


def _parse_numbers(values: pd.Series, *, decimal: str, path, column, rows, integer: bool) -> np.ndarray:
    """Counts as float64 (NaN where empty); DataError for text, negatives, decimals."""
    n = len(values)
    if pd.api.types.is_bool_dtype(values.dtype):
        _raise_first(np.ones(n, bool), lambda i: "true/false is not a count", path=path, column=column,
                     rows=rows)
    plain = None if pd.api.types.is_numeric_dtype(values.dtype) or n < _PLAIN_MIN_ROWS else _plain_numbers(values)
    if pd.api.types.is_numeric_dtype(values.dtype):
        numbers = values.to_numpy(dtype=float, na_value=np.nan)
        text = None
    elif plain is not None:
        numbers, text = plain, None
    else:
        obj = values.to_numpy(dtype=object)
        if pd.api.types.infer_dtype(obj, skipna=True) in ("string", "empty"):
            is_num = np.zeros(n, dtype=bool)
        else:
            is_num = np.fromiter((isinstance(v, (int, float, np.integer, np.floating))
                                  and not isinstance(v, (bool, np.bool_)) for v in obj), dtype=bool, count=n)
        numbers = np.full(n, np.nan)
        if is_num.any():
            numbers[is_num] = obj[is_num].astype(float)
        text = _texts(values).where(~is_num, "")
        clean = text.str.replace(r"[ ']", "", regex=True).str.replace("\u2212", "-", regex=False)
        empty = clean.str.lower().isin(_NA_TEXT)
        has_c = clean.str.contains(",", regex=False)
        has_p = clean.str.contains(".", regex=False)
        comma_last = clean.str.rfind(",") > clean.str.rfind(".")
        both = has_c & has_p
        thousands_c = clean.str.fullmatch(r"-?\d{1,3}(?:,\d{3})+") & (decimal == ".")
        thousands_p = clean.str.fullmatch(r"-?\d{1,3}(?:\.\d{3})+") & (decimal == ",")
        out = clean.copy()
        sel = both & comma_last
        out = out.where(~sel, clean.str.replace(".", "", regex=False).str.replace(",", ".", regex=False))
        sel = both & ~comma_last
        out = out.where(~sel, clean.str.replace(",", "", regex=False))
        sel = has_c & ~has_p
        out = out.where(~(sel & thousands_c), clean.str.replace(",", "", regex=False))
        out = out.where(~(sel & ~thousands_c), clean.str.replace(",", ".", regex=False))
        sel = has_p & ~has_c & thousands_p
        out = out.where(~sel, clean.str.replace(".", "", regex=False))
        parsed = pd.to_numeric(out.where(~empty & ~pd.Series(is_num, index=out.index), None), errors="coerce")
        parsed = parsed.to_numpy(dtype=float, na_value=np.nan)
        unread = ~_mask(empty) & ~is_num & (np.isnan(parsed) | ~np.isfinite(parsed))
        _raise_first(unread, lambda i: f"{_shown(text.iloc[i])} is not a number", path=path, column=column, rows=rows)
        numbers = np.where(is_num, numbers, parsed)

    def shown(i):
        return _shown(text.iloc[i]) if text is not None and text.iloc[i] else f"{numbers[i]:g}"

    _raise_first(np.isinf(numbers), lambda i: "infinite value", path=path, column=column, rows=rows)
    _raise_first(numbers < 0, lambda i: f"negative count {numbers[i]:g}", path=path, column=column, rows=rows)
    if integer:
        frac = np.abs(numbers - np.round(numbers)) > 1e-9 * np.maximum(1.0, np.abs(numbers))
        _raise_first(frac, lambda i: f"{shown(i)} is not a whole number (counts are whole numbers)",
                     path=path, column=column, rows=rows)
    return numbers.astype(np.float64)


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
    if isinstance(values.dtype, pd.PeriodDtype) or len(values) < _PLAIN_MIN_ROWS:
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
    labels and ``expand`` the label of each row (errors name rows of ``rows``)."""

    def fail(bad, reason, **_):
        if expand is None:
            return _raise_first(bad, reason, path=path, column=column, rows=rows)
        bad = np.asarray(bad, dtype=bool)
        if bad.any():
            _raise_first(bad[expand], lambda i: reason(int(expand[i])), path=path, column=column, rows=rows)

    n = len(values)
    if isinstance(values.dtype, pd.PeriodDtype):
        freq = values.dtype.freq.freqstr
        if freq == _WEEK_FREQ or (freq.startswith("M") and kind != "period:week"):
            return pd.PeriodIndex(values)
        return pd.PeriodIndex(values.dt.start_time.dt.to_period("M" if kind == "period:month" else _WEEK_FREQ))
    text = _texts(values, lower=True)
    if years is not None:
        short = text.str.fullmatch(rf"(?:{_WEEK_WORD} *)?\d{{1,2}}|[a-zåäö]+\.?")
        fail(_mask(short & (years == "")), lambda i: "no year for this period",
                     path=path, column=column, rows=rows)
        text = text.where(~short, years + " " + text.str.replace(r"^(\d{1,2})$", r"-\1", regex=True))
        text = text.str.replace(r"^(\d{4}) -(\d{1,2})$", r"\1-\2", regex=True)
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

    unread = ~(is_week | is_month_name | is_num | is_date)
    fail(unread, lambda i: f"cannot read {_shown(text.iloc[i])} as a "
                 f"{'week' if kind == 'period:week' else 'month' if kind == 'period:month' else 'week or month'}"
                 " (e.g. '2024-W05', '2024-01')", path=path, column=column, rows=rows)

    if kind == "period:week":
        freq = "W"
        fail(is_month_name, lambda i: f"{_shown(text.iloc[i])} is a month, but the column holds weeks",
                     path=path, column=column, rows=rows)
    elif kind == "period:month":
        freq = "M"
        fail(is_week, lambda i: f"{_shown(text.iloc[i])} is a week, but the column holds months",
                     path=path, column=column, rows=rows)
    else:
        if is_week.any() and is_month_name.any():
            fail(is_month_name, lambda i: f"{_shown(text.iloc[i])} is a month, but other rows hold weeks",
                         path=path, column=column, rows=rows)
        if is_week.any():
            freq = "W"
        elif is_month_name.any():
            freq = "M"
        elif is_num.any():
            freq = "W" if (n_all[is_num] > 12).any() else "M"
            if freq == "M":  # numbers 1-12 only: months if written as months (2024-05), else no guess
                as_month = _mask(text.str.fullmatch(r"\d{4}[-/]\d{2}"))
                fail(is_num & ~as_month,
                             lambda i: f"{_shown(text.iloc[i])} could be a week or a month (the numbers go no "
                             "higher than 12); write weeks as '2024-W05' and months as '2024-05', or name the "
                             "column 'Vecka' or 'Månad'", path=path, column=column, rows=rows)
        else:
            days = pd.to_datetime(pd.DataFrame({"year": y_all[is_date], "month": n_all[is_date],
                                                "day": d_all[is_date]}), errors="coerce")
            distinct = days.dropna().drop_duplicates().sort_values()
            month_like = distinct.dt.is_month_start.all() or distinct.dt.is_month_end.all()
            freq = "M" if len(distinct) >= 2 and month_like and (distinct.diff().dt.days.dropna() >= 28).all() else "W"
        if freq == "M":
            fail(is_week, lambda i: f"{_shown(text.iloc[i])} is a week, but other rows hold months",
                         path=path, column=column, rows=rows)

    fail((y_all < 1900) | (y_all > 2200), lambda i: f"year {y_all[i]} in {_shown(text.iloc[i])} is out of range",
                 path=path, column=column, rows=rows)
    date_days = np.zeros(n, dtype="datetime64[D]")
    if is_date.any():
        stamps = pd.to_datetime(pd.DataFrame({"year": y_all, "month": np.where(is_date, n_all, 1),
                                              "day": np.where(is_date, d_all, 1)}), errors="coerce")
        fail(is_date & _mask(stamps.isna()), lambda i: f"{_shown(text.iloc[i])} is not a valid date",
                     path=path, column=column, rows=rows)
        date_days = stamps.to_numpy(dtype="datetime64[D]")
    if freq == "W":
        nums = is_week | is_num
        fail(nums & ((n_all < 1) | (n_all > 53)), lambda i: f"{_shown(text.iloc[i])}: there is no week {n_all[i]}",
                     path=path, column=column, rows=rows)
        n_weeks = np.asarray(weeks_in_year(np.where(nums, y_all, 2000)))
        fail(nums & (n_all > n_weeks),
                     lambda i: f"{_shown(text.iloc[i])}: week {n_all[i]} does not exist in {y_all[i]} "
                     f"({y_all[i]} has {n_weeks[i]} ISO weeks)", path=path, column=column, rows=rows)
        mondays = np.where(nums, _mondays(y_all, np.where(nums, n_all, 1)), date_days)
        return _weeks_from_days(mondays)
    nums = is_month_name | is_num
    fail(nums & ((n_all < 1) | (n_all > 12)), lambda i: f"{_shown(text.iloc[i])}: there is no month {n_all[i]}",
                 path=path, column=column, rows=rows)
    first = pd.to_datetime(pd.DataFrame({"year": y_all, "month": np.where(nums, n_all, 1), "day": 1}))
    first = np.where(nums, first.to_numpy(dtype="datetime64[D]"), date_days)
    return pd.DatetimeIndex(first.astype("datetime64[ns]")).to_period("M")


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
    table = _load_table(path, sheet=sheet, lookup=_WEEKLY_LOOKUP, anchors=_PERIOD_ROLES, max_bytes=max_bytes)
    roles, unknown, personal = _map_columns(table, _WEEKLY_LOOKUP)
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
    _refuse_unknown_table(table, roles, personal, unknown_headers, _WEEKLY_LOOKUP, _WEEKLY_SPELLING,
                          "'Vecka', 'Nybesök', 'Väntande nybesök'")
    shown_headers = _shown_headers(table.headers)
    if kind is None:
        raise DataError(f"no week or month column in the header (row {table.header_row}; expected e.g. "
                        f"'Vecka', 'Week', 'Månad', 'Month'); columns found: {shown_headers}"
                        + _header_hints(unknown_headers, _WEEKLY_LOOKUP, _WEEKLY_SPELLING,
                                        roles=_PERIOD_ROLES) + table.sheet_hint(), path=path)
    measures = [m for m in MEASURES if m in roles]
    if not measures:
        raise DataError(f"no measure column in the header (row {table.header_row}; expected e.g. "
                        f"'Remisser in', 'Nybesök', 'Väntande nybesök'); columns found: {shown_headers}"
                        + _header_hints(unknown_headers, _WEEKLY_LOOKUP, _WEEKLY_SPELLING,
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
                       + _header_hints([table.headers[pos]], _WEEKLY_LOOKUP, _WEEKLY_SPELLING,
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
    filled = [(pos, _one_text(v).strip()) for pos, v in cells.items() if _present(v)]
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


# ============================================================================ read_waiting_list
_PNR = re.compile(r"(?:19|20)?\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]|[6-8]\d|9[01])[-+]?\d{4}")
_DATE_FORMATS = (
    (r"\d{4}-\d{1,2}-\d{1,2}", "%Y-%m-%d"),
    (r"\d{4}/\d{1,2}/\d{1,2}", "%Y/%m/%d"),
    (r"\d{4}\.\d{1,2}\.\d{1,2}", "%Y.%m.%d"),
    (r"\d{8}", "%Y%m%d"),
    (r"\d{6}", "%y%m%d"),
    (r"\d{1,2}\.\d{1,2}\.\d{4}", "%d.%m.%Y"),
    (r"\d{1,2}/\d{1,2}/\d{4}", "%d/%m/%Y"),
    (r"\d{1,2}/\d{1,2} \d{4}", "%d/%m %Y"),
    (r"\d{1,2}-\d{1,2}-\d{4}", "%d-%m-%Y"),
)
_TRUE_TEXT = frozenset({"1", "ja", "j", "yes", "y", "true", "sant", "x", "extern", "externt", "köpt",
                        "köpt vård"})
_FALSE_TEXT = frozenset({"", "0", "nej", "n", "no", "false", "falskt", "intern", "internt", "egen regi"})
_REASONS = {
    "forwarded": ("forwarded", "vidarebefordrad", "vidarebefordrade", "vidarebefordran",
                  "vidareremitterad", "remitteradvidare", "skickadvidare", "overford", "overflyttad"),
    "declined": ("declined", "avbojd", "avbojt", "avboj", "avbojer", "patientenavbojer", "patientavbojer",
                 "tackatnej", "tackarnej", "refused"),
    "other": ("other", "annan", "annat", "ovrigt", "ovrig", "ovriga", "avliden", "deceased",
              "felregistrerad", "ejaktuell", "ingenatgard"),
}
_REASON_LOOKUP = {normalise_header(v): k for k, vs in _REASONS.items() for v in vs}


def _looks_personal(values: pd.Series) -> bool:
    """True when most of the first 1000 filled cells look like personnummer."""
    sample = _texts(values.iloc[:5000])
    sample = sample[sample != ""].iloc[:1000]
    if sample.empty:
        return False
    return bool(sample.str.fullmatch(_PNR.pattern).mean() >= 0.5)


def _day_numbers(texts: np.ndarray, fmt: str, days: np.ndarray) -> np.ndarray:
    """Fill the NaT of ``days`` from year-first ``texts`` in ``fmt`` read with :mod:`datetime` (any year 1-9999)."""
    import datetime as dt

    out = days.copy()
    for i in np.flatnonzero(np.isnat(days)):
        try:
            out[i] = np.datetime64(dt.datetime.strptime(str(texts[i]), fmt).date(), "D")
        except ValueError:  # not a calendar date (2024-02-30)
            pass
    return out


def _parse_dates(values: pd.Series, *, path, column, rows, earliest=None, latest=None,
                 latest_words: str = "") -> np.ndarray:
    """Dates (datetime64[ns], time of day dropped; NaT where empty); DataError otherwise.

    Dates are read and checked as day numbers first, so that a year such as 0001 or
    9999 (beyond the nanosecond range of pandas) is refused instead of wrapping round
    to another century; with ``earliest`` / ``latest`` (datetime64[D]) a date outside
    them is refused.  A cell's text is never quoted: it may be personal.
    """
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        s = values
        if getattr(s.dt, "tz", None) is not None:
            s = s.dt.tz_localize(None)
        days = s.to_numpy(dtype="datetime64[D]")  # exact for any unit: no overflow
    else:
        # Text: every distinct cell is read once (a column holds a few thousand dates).
        codes, texts = _distinct_texts(values, lower=True, squeeze=False)
        text = pd.Series(texts, dtype=_TEXT_DTYPE)
        if _mask(text.str.contains(":", regex=False)).any():
            text = text.str.replace(r"[ t]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?$", "", regex=True)
        out = np.full(len(text), np.datetime64("NaT"), dtype="datetime64[D]")
        empty = _mask(text.isin(_NA_TEXT))
        todo = ~empty
        invalid = np.zeros(len(text), dtype=bool)
        for pattern, fmt in _DATE_FORMATS:  # the common format first; each later one sees the rest
            if not todo.any():
                break
            idx = np.flatnonzero(todo)
            sub = text.iloc[idx]
            hit = _mask(sub.str.fullmatch(pattern))
            if not hit.any():
                continue
            rows_hit = idx[hit]
            parsed = pd.to_datetime(sub[hit], format=fmt, errors="coerce")
            days_hit = parsed.to_numpy(dtype="datetime64[D]")
            if fmt.startswith("%Y") and np.isnat(days_hit).any():
                # beyond pandas' nanosecond range (years before 1677 or after 2262): read the
                # calendar date as a day number, so 0001-01-01 is a date the window refuses
                days_hit = _day_numbers(sub[hit].to_numpy(dtype=object), fmt, days_hit)
            out[rows_hit] = days_hit
            invalid[rows_hit] = np.isnat(days_hit)
            todo[rows_hit] = False
        _raise_first(todo[codes], lambda i: "not a date (expected e.g. 2024-01-31)", path=path, column=column,
                     rows=rows)
        _raise_first(invalid[codes], lambda i: "not a valid calendar date", path=path, column=column, rows=rows)
        days = out[codes]
    if earliest is not None:
        _raise_first(days < earliest, lambda i: f"a date before {earliest} (the earliest plausible date, "
                     "parameter plausible_from)", path=path, column=column, rows=rows)
    if latest is not None:
        _raise_first(days > latest, lambda i: latest_words or f"a date after {latest}", path=path,
                     column=column, rows=rows)
    # beyond what pandas holds in nanoseconds (years 1677-2262), whatever the limits
    _raise_first((days < _NS_FIRST_DAY) | (days > _NS_LAST_DAY), lambda i: "a date outside the years 1678-2261",
                 path=path, column=column, rows=rows)
    return days.astype("datetime64[ns]")


_NS_FIRST_DAY = np.datetime64("1678-01-01", "D")
_NS_LAST_DAY = np.datetime64("2261-12-31", "D")


def _parse_bools(values: pd.Series, *, path, column, rows) -> np.ndarray:
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.fillna(False).to_numpy(dtype=bool)
    if pd.api.types.is_numeric_dtype(values.dtype):
        v = values.to_numpy(dtype=float, na_value=np.nan)
        _raise_first(~np.isnan(v) & (v != 0) & (v != 1), lambda i: f"{v[i]:g} is not yes/no (1/0)",
                     path=path, column=column, rows=rows)
        return v == 1
    codes, texts = _distinct_texts(values, lower=True, squeeze=False)
    text = pd.Series(texts, dtype=_TEXT_DTYPE).str.replace(r"^([01])[.,]0+$", r"\1", regex=True)
    yes = _mask(text.isin(_TRUE_TEXT))
    no = _mask(text.isin(_FALSE_TEXT | _NA_TEXT))
    _raise_first((~yes & ~no)[codes], lambda i: f"{_shown(text.iloc[codes[i]])} is not yes/no (Ja/Nej, 1/0)",
                 path=path, column=column, rows=rows)
    return yes[codes]


def _parse_priorities(values: pd.Series, *, path, column, rows, notes=None) -> tuple[np.ndarray, np.ndarray]:
    """``(codes, table)``: the priority of each row is ``table[codes]`` (None if empty).

    Rows without a priority are counted in ``notes`` (:class:`_ExtractNotes`), or warned of."""
    codes, texts = _distinct_texts(values, lower=True, squeeze=False)
    text = pd.Series(texts, dtype=_TEXT_DTYPE)
    text = text.str.replace(r"^(?:prioritet|priority|prio|p) *\.? *", "", regex=True)
    text = text.str.replace(r"^(\d+)(?:[.,]0+)?$", r"\1", regex=True)
    empty = _mask(text.isin(_NA_TEXT))
    valid = _mask(text.isin(PRIORITIES))
    _raise_first((~valid & ~empty)[codes], lambda i: f"unknown priority code {_shown(_texts(values.iloc[[i]]).iloc[0], limit=8, hidden='(not shown)')} "
                 f"(expected {', '.join(PRIORITIES)})", path=path, column=column, rows=rows)
    empty_rows = int(np.count_nonzero(empty[codes]))
    if notes is not None:
        notes.no_priority += empty_rows
    elif empty_rows:
        warnings.warn(f"{path}: {empty_rows} row(s) without priority in column {column!r}",
                      stacklevel=3)
    return codes, np.where(valid, text.to_numpy(dtype=object), None)


def _parse_reasons(values: pd.Series, *, path, column, rows, notes=None) -> tuple[np.ndarray, np.ndarray]:
    """``(codes, table)``: the reason of each row is ``table[codes]`` (None if empty).

    A reason not recognised is read as ``"other"`` with a warning that counts the rows
    and names the first; the text is free text (it may name a patient) and is not shown.
    With ``notes`` (:class:`_ExtractNotes`) the counts go there instead of a warning.
    """
    cell_codes, texts = _distinct_texts(values)
    text_codes, uniques = pd.factorize(texts)  # distinct cells may read alike
    codes = text_codes[cell_codes]
    used = np.bincount(codes, minlength=len(uniques)) > 0  # categories no row holds are left out
    keys = [normalise_header(u) for u in uniques]
    mapped = []
    unknown = np.zeros(len(uniques), dtype=bool)
    for i, (u, k) in enumerate(zip(uniques, keys)):
        if u.lower() in _NA_TEXT:
            mapped.append(None)
        elif k in _REASON_LOOKUP:
            mapped.append(_REASON_LOOKUP[k])
        else:
            mapped.append("other")
            unknown[i] = used[i]
    if unknown.any() and notes is not None:
        odd = unknown[codes]
        if notes.odd_reason_first is None:
            notes.odd_reason_first = int(rows[np.flatnonzero(odd)[0]])
        notes.odd_reason_rows += int(odd.sum())
        notes.odd_reason_texts.update(keys[i] for i in np.flatnonzero(unknown))
    elif unknown.any():
        odd = unknown[codes]
        warnings.warn(f"{path}: column {column!r}: {int(odd.sum())} row(s) with a removal reason not "
                      f"recognised ({int(unknown.sum())} different text(s), not shown) read as 'other' "
                      f"(first: row {rows[np.flatnonzero(odd)[0]]})", stacklevel=3)
    return codes, np.array(mapped, dtype=object)


class _ExtractNotes:
    """Counts behind an extract's warnings, summed over the parts of a file read in parts
    (:mod:`kps_analysis.extract`), so that the warnings are those of one whole read."""

    def __init__(self):
        self.no_priority = 0  # rows without a priority [rows]
        self.odd_reason_rows = 0  # rows whose removal reason is not recognised [rows]
        self.odd_reason_texts: set = set()  # their distinct texts (normalised; never shown)
        self.odd_reason_first = None  # spreadsheet row of the first
        self.orphans = 0  # rows with a removal reason but no removal date [rows]
        self.orphan_first = None

    def warn(self, layout: _ExtractLayout, stacklevel: int = 3) -> None:
        """The warnings of the whole file, in the order a whole read gives them."""
        path = layout.path
        if self.no_priority:
            warnings.warn(f"{path}: {self.no_priority} row(s) without priority in column "
                          f"{layout.header('priority')!r}", stacklevel=stacklevel)
        if self.odd_reason_rows:
            warnings.warn(f"{path}: column {layout.header('removal_reason')!r}: {self.odd_reason_rows} row(s) "
                          f"with a removal reason not recognised ({len(self.odd_reason_texts)} different "
                          f"text(s), not shown) read as 'other' (first: row {self.odd_reason_first})",
                          stacklevel=stacklevel)
        if self.orphans:
            warnings.warn(f"{path}: {self.orphans} row(s) have a removal reason but no removal date "
                          f"(first: row {self.orphan_first})", stacklevel=stacklevel)


_ROLE_WORDS = {
    "patient_id": "patient id", "clinic": "clinic", "group": "group", "priority": "priority",
    "referral_date": "referral date", "first_visit_date": "first visit date", "decision_date": "decision date",
    "treatment_date": "treatment date", "removal_date": "removal date", "removal_reason": "removal reason",
    "external": "external (purchased care)", "patient_chosen_wait": "patient-chosen wait",
}

# A "without" order problem: the role whose date is missing (the column an error names).
_MISSING_ROLE = {
    "decision to treat without a first visit": "first_visit_date",
    "treatment without a decision to treat": "decision_date",
}


def accepted_extract_headers(role: str) -> str:
    """The headers accepted for an extract column, quoted for a message.

    Examples
    --------
    >>> accepted_extract_headers("patient_chosen_wait")
    "'Patientvald väntan', 'Patientvald väntetid', 'Patientvald', 'PVV', 'Patient chosen wait', 'Patient choice', 'patient_chosen_wait'"
    """
    return ", ".join(repr(h) for h in (*EXTRACT_ALIASES[role], role))


@dataclasses.dataclass
class _ExtractLayout:
    """What the header of an extract says: which column holds what, and the checks' limits."""

    path: Path
    headers: list  # header text per column position
    roles: dict  # column role -> position
    header_row: int  # spreadsheet row of the header
    fallback: str  # the clinic of a file without a clinic column
    pid_pos: object  # position of the patient ids (a personnummer column when there is no id column), or None
    pseudonyms: bool  # the ids look like personnummer: replaced by pseudonyms
    unknown: list  # headers not recognised (not personal either), as written
    earliest: np.datetime64  # earliest plausible date [day]
    latest: np.datetime64  # latest accepted date [day]
    latest_words: str

    def header(self, role: str) -> str:
        return self.headers[self.roles[role]]

    def column_name(self, role: str) -> str:
        return self.header(role) if role in self.roles else role

    def absent(self, role: str) -> str:
        """'the file has no decision date column (accepted headers: ...)', naming unknown headers."""
        text = f"the file has no {_ROLE_WORDS[role]} column (accepted headers: {accepted_extract_headers(role)})"
        if self.unknown:
            text += (f"; column(s) not recognised: {_shown_headers(self.unknown)}"
                     + _header_hints(self.unknown, _EXTRACT_LOOKUP, _EXTRACT_SPELLING, roles=(role,)))
        return text


def _extract_layout(table: _Table, *, clinic=None, today=None, future_tolerance_days=7,
                    plausible_from=None, warn: bool = True, stacklevel: int = 3) -> _ExtractLayout:
    """Map an extract's header to its columns; refuse a file without a referral date column.

    ``table.data`` is the whole file or its first rows: columns that look like
    personnummer are found there.  Warns (unless ``warn`` is false) of personal columns
    dropped, ids replaced by pseudonyms and headers not recognised.
    """
    path = table.path
    roles, unknown, personal = _map_columns(table, _EXTRACT_LOOKUP)
    data = table.data
    for pos in unknown:
        if _looks_personal(data[pos]):
            personal.append(pos)
    unknown_headers = [table.headers[p] for p in unknown if p not in personal]
    if "referral_date" not in roles:
        _refuse_unknown_table(table, roles, personal, unknown_headers, _EXTRACT_LOOKUP, _EXTRACT_SPELLING,
                              "'Remissdatum', 'Löpnummer', 'Prioritet'")
        shown_headers = _shown_headers(table.headers)
        raise DataError(f"no referral date column in the header (row {table.header_row}; accepted headers: "
                        f"{accepted_extract_headers('referral_date')}); columns found: {shown_headers}"
                        + _header_hints(unknown_headers, _EXTRACT_LOOKUP, _EXTRACT_SPELLING, roles=("referral_date",)),
                        path=path)
    pid_pos, pseudonyms = roles.get("patient_id"), False
    if pid_pos is not None:
        pseudonyms = _looks_personal(data[pid_pos])
    elif personal:
        pid_pos, pseudonyms = personal[0], True
    if warn:
        if personal:
            used = " (the first as pseudonyms, for the duplicate check only)" if pid_pos in personal else ""
            warnings.warn(f"{path}: column(s) {[table.headers[p] for p in personal]} look like personal "
                          f"identity numbers and were dropped{used}", stacklevel=stacklevel)
        if pseudonyms and pid_pos not in personal:
            warnings.warn(f"{path}: column {table.headers[pid_pos]!r} looks like personal identity numbers; "
                          "replaced by pseudonyms", stacklevel=stacklevel)
        if unknown_headers:
            warnings.warn(f"{path}: column(s) {_shown_headers(unknown_headers)} not recognised and left out "
                          "(the accepted headers are listed in the README, 'The waiting-list extract')"
                          + _header_hints(unknown_headers, _EXTRACT_LOOKUP, _EXTRACT_SPELLING, taken=tuple(roles)),
                          stacklevel=stacklevel)
    reference = pd.Timestamp(today if today is not None else pd.Timestamp.today()).normalize()
    earliest = np.datetime64(pd.Timestamp(plausible_from if plausible_from is not None else PLAUSIBLE_FROM)
                             .date(), "D")
    latest = np.datetime64((reference + pd.Timedelta(days=int(future_tolerance_days))).date(), "D")
    return _ExtractLayout(path, list(table.headers), roles, table.header_row,
                          str(clinic if clinic is not None else path.stem), pid_pos, pseudonyms, unknown_headers,
                          earliest, latest, f"a date more than {future_tolerance_days} days after "
                                            f"{reference.date()} (the run date)")


@dataclasses.dataclass
class _ExtractParts:
    """Rows of an extract read and checked, before they become a frame: what
    :func:`read_waiting_list` makes its frame of, and what the counting in parts
    (:mod:`kps_analysis.extract`) counts without building one."""

    rows: np.ndarray  # spreadsheet row of each row
    pid: object  # the patient ids as text (a string Series), or None
    clinic: tuple  # (codes, texts): the clinic of row i is texts[codes[i]]
    clinic_given: bool  # False: no clinic column, or every cell of it empty (the fallback clinic)
    group: object  # (codes, texts), or None when there is no group column or every cell is empty
    dates: dict  # column -> datetime64[ns] array (NaT where empty)
    priority: tuple  # (codes, table), table entries texts or None
    reason: tuple  # (codes, table), table entries canonical reasons or None
    flags: dict  # "external", "patient_chosen_wait" -> bool array

    def __len__(self) -> int:
        return len(self.rows)

    def frame(self) -> pd.DataFrame:
        """The canonical extract frame of these rows (ids as in the file)."""
        out: dict[str, object] = {}
        if self.pid is None:
            out["patient_id"] = pd.Series(np.char.add("R", np.char.zfill(self.rows.astype(str), 7)).astype(object),
                                          dtype=object).astype(str)
        else:
            out["patient_id"] = self.pid.astype(_TEXT_DTYPE).reset_index(drop=True).astype(_STR_DTYPE)
        out["clinic"] = _take_texts(*self.clinic)
        if self.group is not None:
            out["group"] = _take_texts(*self.group)
        out["priority"] = _codes_column(*self.priority)
        for col in _DATE_COLUMNS:
            out[col] = pd.Series(self.dates[col], dtype="datetime64[ns]")
        out["removal_reason"] = _codes_column(*self.reason)
        out["external"] = pd.Series(self.flags["external"], dtype=bool)
        out["patient_chosen_wait"] = pd.Series(self.flags["patient_chosen_wait"], dtype=bool)
        frame = pd.DataFrame(out)
        for col in ("priority", "removal_reason"):
            frame[col] = frame[col].infer_objects()
            if frame[col].isna().all():
                frame[col] = frame[col].astype(object)
        return frame


def _parse_extract(layout: _ExtractLayout, data: pd.DataFrame, rows: np.ndarray, notes: _ExtractNotes) -> _ExtractParts:
    """Rows of an extract (the whole file or a part of it) read and checked.

    Empty rows are left out.  The patient ids are the file's (never pseudonyms:
    :func:`read_waiting_list` makes those for the whole file).  ``data`` may hold only
    the columns of ``layout.roles`` and ``layout.pid_pos`` (by position): a row is then
    empty when those cells are.  Raises :class:`DataError` naming file, column and row,
    as :func:`read_waiting_list`; counts behind warnings go to ``notes``.
    """
    path, roles, header = layout.path, layout.roles, layout.header
    keep = ~_empty_rows(data)
    if not keep.all():
        data, rows = data.loc[keep].reset_index(drop=True), rows[keep]
    n = len(data)
    pid = None
    if layout.pid_pos is not None:
        pid = _column_texts(data[layout.pid_pos], squeeze=False)
        _raise_first(_mask(pid == ""), lambda i: "empty patient id", path=path,
                     column=layout.headers[layout.pid_pos], rows=rows)
    # clinic and group as codes into a table of their few distinct texts
    clinic_codes, clinic_table = np.zeros(n, dtype=np.intp), np.array([layout.fallback], dtype=object)
    clinic_given = False
    if "clinic" in roles:
        codes, texts = _distinct_texts(data[roles["clinic"]])
        empty = (texts == "")[codes]
        if not empty.all():
            _raise_first(empty, lambda i: "empty clinic cell", path=path, column=header("clinic"), rows=rows)
            clinic_codes, clinic_table, clinic_given = codes, texts, True
    groups = None
    if "group" in roles:
        codes, texts = _distinct_texts(data[roles["group"]])
        empty = (texts == "")[codes]
        if not empty.all():
            _raise_first(empty, lambda i: "empty group cell", path=path, column=header("group"), rows=rows)
            groups = (codes, texts)

    dates = {}
    for col in _DATE_COLUMNS:
        if col in roles:
            dates[col] = _parse_dates(data[roles[col]], path=path, column=header(col), rows=rows,
                                      earliest=layout.earliest, latest=layout.latest,
                                      latest_words=layout.latest_words)
        else:
            dates[col] = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    _raise_first(np.isnat(dates["referral_date"]), lambda i: "no referral date", path=path,
                 column=header("referral_date"), rows=rows)

    # dates are whole days here, so nanoseconds order them as day numbers do (NaT: missing);
    # a "without" names the column the date is missing from, or says the file has none
    problems = _order_problems({c: dates[c].view(np.int64) for c in _DATE_COLUMNS},
                               never=np.iinfo(np.int64).min)
    for (col, message), bad in problems.items():
        missing = _MISSING_ROLE.get(message)
        if missing is None:
            _raise_first(bad, lambda i, m=message: m, path=path, column=layout.column_name(col), rows=rows)
        elif missing in roles:
            _raise_first(bad, lambda i, m=message, c=col: f"{m} (the cell is empty; column {header(c)!r} "
                         "has a date)", path=path, column=header(missing), rows=rows)
        else:
            _raise_first(bad, lambda i, m=message, r=missing: f"{m}: {layout.absent(r)}", path=path,
                         column=layout.column_name(col), rows=rows)

    no_codes, no_table = np.zeros(n, dtype=np.intp), np.array([None], dtype=object)
    priority = (_parse_priorities(data[roles["priority"]], path=path, column=header("priority"), rows=rows,
                                  notes=notes)
                if "priority" in roles else (no_codes, no_table))
    reason = (_parse_reasons(data[roles["removal_reason"]], path=path, column=header("removal_reason"), rows=rows,
                             notes=notes)
              if "removal_reason" in roles else (no_codes, no_table))
    orphan = pd.notna(reason[1])[reason[0]] & np.isnat(dates["removal_date"])
    if orphan.any():
        if notes.orphan_first is None:
            notes.orphan_first = int(rows[np.flatnonzero(orphan)[0]])
        notes.orphans += int(orphan.sum())
    flags = {}
    for col in ("external", "patient_chosen_wait"):
        flags[col] = (_parse_bools(data[roles[col]], path=path, column=header(col), rows=rows)
                      if col in roles else np.zeros(n, dtype=bool))

    return _ExtractParts(rows, pid, (clinic_codes, clinic_table), clinic_given, groups, dates, priority, reason,
                         flags)


def read_waiting_list(path, *, clinic=None, sheet=None, today=None, future_tolerance_days=7,
                      plausible_from=None, max_bytes=None) -> pd.DataFrame:
    """Read a patient-level waiting-list extract (one row per referral).

    Swedish or English headers, as hospitals' systems export them
    (:data:`EXTRACT_ALIASES`: ``Löpnummer``/``Patient-id``, ``Remissdatum``/
    ``Ankomstdatum``, ``Besöksdatum``, ``Beslutsdatum``/``Beslut om operation``,
    ``Behandlingsdatum``/``Operationsdatum``, ``Avförd``/``Avförd datum``,
    ``Avförd orsak``, ``Prioritet``, ``Extern``/``Köpt vård``, ``Patientvald väntan``;
    the README lists them all).  Dates are read explicitly
    (``2024-01-31``, ``2024/01/31``, ``20240131``, ``240131``, ``31.01.2024``,
    ``31/1 2024``; a time of day is dropped).  A column that looks like personal identity
    numbers (*personnummer*, ``YYYYMMDD-XXXX``) or is headed ``Personnummer`` is dropped
    with a warning; if it is the patient id column (or there is no other), the ids are
    replaced by pseudonyms (``P0000001``...).  A header not recognised is warned of and
    its column left out.  For a file too large for memory,
    :func:`kps_analysis.extract.aggregate_waiting_list` reads it in parts with the same
    checks.

    Parameters
    ----------
    path : str or path-like
        CSV, XLSX or Parquet file.
    clinic : str, optional
        Clinic for a file without a ``Klinik`` column (default: the file stem).
    sheet : str or int, optional
        Worksheet of an XLSX file (default: the first).
    today : date-like, optional
        Reference date for the future-date check (default: today). [date]
    future_tolerance_days : int, default 7
        Dates up to this many days after ``today`` are accepted (booked times within the
        current week). [days]
    plausible_from : date-like, optional
        Earliest plausible date (default :data:`PLAUSIBLE_FROM`, 1990-01-01); an earlier
        date is an error. [date]
    max_bytes : int, optional
        Largest file opened (default :data:`MAX_FILE_BYTES`). [bytes]

    Returns
    -------
    pandas.DataFrame
        :data:`EXTRACT_COLUMNS` (``group`` only when the file has one), dates as
        ``datetime64[ns]``, in file order.

    Raises
    ------
    DataError
        Naming file, column and row: no referral date column or no data rows (naming the
        header row and the accepted headers); an unreadable date or priority; a first visit,
        decision, treatment or removal before the referral; a decision without a first
        visit or before it; a treatment without a decision or before it (a date missing
        names the column it is missing from, or says that the file has no such column and
        which headers were not recognised); a removal before
        the first visit, decision or treatment; a date before ``plausible_from`` or more
        than ``future_tolerance_days`` in the future; the same patient id twice for one
        clinic and referral date.  The file itself: not found, not a regular file (a
        pipe or a device is never opened), larger than ``max_bytes``, empty or of another
        kind.  The text of a date, id or free-text cell is never quoted (it may be
        personal data): the message names the column and the row.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> file = pathlib.Path(tempfile.mkdtemp()) / "gyn.csv"
    >>> _ = file.write_text("Löpnummer;Prioritet;Remissdatum;Besöksdatum\\n"
    ...                     "A1;Prio 2;2024-01-03;2024-02-01\\nA2;1;2024-01-08;\\n", encoding="utf-8")
    >>> extract = read_waiting_list(file, today="2024-03-01")
    >>> extract["priority"].tolist(), extract["first_visit_date"].isna().tolist()
    (['2', '1'], [False, True])
    """
    path = Path(path)
    table = _load_table(path, sheet=sheet, lookup=_EXTRACT_LOOKUP, anchors=("referral_date",), dictionary=True,
                        max_bytes=max_bytes)
    layout = _extract_layout(table, clinic=clinic, today=today, future_tolerance_days=future_tolerance_days,
                             plausible_from=plausible_from)
    notes = _ExtractNotes()
    if not (~_empty_rows(table.data)).any():
        raise DataError(f"no data rows below the header (row {table.header_row})", path=path)
    parts = _parse_extract(layout, table.data, table.rows, notes)
    rows, frame = parts.rows, parts.frame()
    notes.warn(layout)
    if layout.pid_pos is not None:
        pid = frame["patient_id"]
        if layout.pseudonyms:
            codes, _ = pd.factorize(pid)
            frame["patient_id"] = pd.Series(np.char.add("P", np.char.zfill((codes + 1).astype(str), 7))
                                            .astype(object)).astype(_TEXT_DTYPE).astype(_STR_DTYPE)
        same_text = pd.factorize(frame["clinic"])[0]  # equal clinic text, equal code
        referred = frame["referral_date"].to_numpy(dtype="datetime64[ns]").view(np.int64)
        pid = frame["patient_id"].astype(_TEXT_DTYPE)
        dup = _duplicate_rows(same_text, referred, pid)
        if dup.any():
            i = int(np.flatnonzero(dup)[0])
            same = dup & (same_text == same_text[i]) & (referred == referred[i])
            same[same] = _mask(pid[same] == pid.iloc[i])
            raise DataError("the same patient id occurs more than once for one clinic and referral date",
                            path=path, column=layout.headers[layout.pid_pos], row=rows[same])
    frame.attrs["source"] = str(path)
    return frame


def _codes_column(codes: np.ndarray, table: np.ndarray) -> pd.Series:
    """``table[codes]`` (texts or None) as ``pd.Series(..., dtype=object).infer_objects()`` gives it."""
    codes = np.where(codes < 0, codes + len(table), codes)
    used = np.bincount(codes, minlength=len(table)) > 0
    if all(table[k] is None for k in np.flatnonzero(used)):
        return pd.Series(np.full(len(codes), None, dtype=object), dtype=object)
    return _take_texts(codes, table)


def _dt_days(values: np.ndarray) -> np.ndarray:
    """datetime64 array -> day numbers since 1970-01-01, missing -> _NEVER."""
    arr = np.asarray(values).astype("datetime64[D]")
    return np.where(np.isnat(arr), _NEVER, arr.astype(np.int64))


def _order_problems(days: Mapping[str, np.ndarray], never=None) -> dict:
    """Masks of rows whose dates are in an impossible order, keyed by (column, message).

    ``days`` maps each date column to day numbers, ``never`` (default ``_NEVER``) where
    missing.  These are exactly the orders under which the conservation identities would fail.
    """
    never = _NEVER if never is None else never
    ref, vis, dec, trt, rem = (days[c] for c in _DATE_COLUMNS)
    has_vis, has_dec, has_trt, has_rem = (d != never for d in (vis, dec, trt, rem))
    return {
        ("first_visit_date", "first visit before the referral"): has_vis & (vis < ref),
        ("decision_date", "decision before the referral"): has_dec & (dec < ref),
        ("treatment_date", "treatment before the referral"): has_trt & (trt < ref),
        ("removal_date", "removal before the referral"): has_rem & (rem < ref),
        ("decision_date", "decision to treat without a first visit"): has_dec & ~has_vis,
        ("decision_date", "decision to treat before the first visit"): has_dec & has_vis & (dec < vis),
        ("treatment_date", "treatment without a decision to treat"): has_trt & ~has_dec,
        ("treatment_date", "treatment before the decision to treat"): has_trt & has_dec & (trt < dec),
        ("removal_date", "removal before the first visit"): has_rem & has_vis & (rem < vis),
        ("removal_date", "removal before the decision to treat"): has_rem & has_dec & (rem < dec),
        ("removal_date", "removal before the treatment"): has_rem & has_trt & (rem < trt),
    }


# ============================================================================ derivation
_NEVER = np.int64(2**40)  # day number standing for "no date" (far beyond any real date)


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
        days = [_days(frame, c, self.name) for c in _DATE_COLUMNS]
        ref, vis, dec, trt, rem = days
        missing = ref == _NEVER
        self._missing_referrals += int(missing.sum())
        latest = np.where(trt != _NEVER, trt, np.where(dec != _NEVER, dec, np.where(vis != _NEVER, vis, ref)))
        bad = (vis < ref) | (dec < vis) | (trt < dec) | (rem < latest)
        if bad.any():
            self._bad_order += int(bad.sum())
            if self._first_bad is None:
                idx = np.flatnonzero(bad)
                problems = _order_problems({c: x[idx] for c, x in zip(_DATE_COLUMNS, days)})
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
        for col in _DATE_COLUMNS:
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
    vis, dec, trt, rem = (_days(extract, c) for c in _DATE_COLUMNS[1:])
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
    _require(frame, ("clinic", "period"), "frame")
    if not isinstance(frame["period"].dtype, pd.PeriodDtype):
        raise ValueError("frame: column 'period' must hold pandas Periods (W-SUN or M)")
    keys = ["clinic"] + (["group"] if "group" in frame.columns else [])
    measures = [m for m in MEASURES if m in frame.columns]
    data = frame.sort_values(keys + ["period"], kind="mergesort").reset_index(drop=True)
    labels = _period_labels(data["period"])
    weekly = data["period"].dtype.freq.freqstr.startswith("W")
    unit = "week" if weekly else "month"
    found: list[pd.DataFrame] = []

    def add(mask, severity, column, message):
        """Findings for the rows of ``mask``; ``message``: text, an array, or a function of
        the row positions giving their texts (worked out for those rows only)."""
        mask = np.asarray(mask, dtype=bool)
        if mask.any():
            idx = np.flatnonzero(mask)
            if callable(message):
                message = np.asarray(message(idx), dtype=object)
            elif not isinstance(message, str):
                message = np.asarray(message, dtype=object)[idx]
            found.append(pd.DataFrame({
                "severity": severity,
                "clinic": data["clinic"].to_numpy(dtype=object)[idx],
                "period": labels[idx],
                "column": column if isinstance(column, str) else np.asarray(column, dtype=object)[idx],
                "message": message,
            }))

    def prefixed(text):
        """A message function: the row's group prefix, then ``text`` (a str or a function of the row)."""
        return lambda idx: [prefix[i] + (text(i) if callable(text) else text) for i in idx]

    group_text = (data["group"].astype(str).to_numpy(dtype=object) if "group" in data.columns
                  else np.full(len(data), "", dtype=object))
    prefix = _GroupPrefix(group_text)
    ordinal = data["period"].array.asi8
    same_key = np.zeros(len(data), dtype=bool)
    if len(data):
        same_key[1:] = np.all([data[k].to_numpy()[1:] == data[k].to_numpy()[:-1] for k in keys], axis=0)

    # duplicates
    dup = data.duplicated(keys + ["period"], keep="first").to_numpy()
    add(dup, "error", "period", prefixed(f"duplicate row for this {unit}"))
    # missing periods
    step = np.zeros(len(data), dtype=np.int64)
    step[1:] = ordinal[1:] - ordinal[:-1]
    gap = same_key & (step > 1)
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
                        for p, m, a, b in zip(prefix[idx], step[idx] - 1, first_missing, last_missing)],
        }))
    # negative and non-whole counts
    for m in measures:
        v = data[m].to_numpy(dtype=float, na_value=np.nan)
        neg = v < 0
        add(neg, "error", m, prefixed(lambda i, v=v: f"negative count {v[i]:g}"))
        if m in COUNT_MEASURES:
            frac = np.isfinite(v) & (np.abs(v - np.round(v)) > 1e-9)
            add(frac, "error", m, prefixed(lambda i, v=v: f"{v[i]:g} is not a whole number"))
    # implausible counts, blank columns
    most = float(MAX_COUNT_PER_PERIOD if max_count_per_period is None else max_count_per_period)
    for m in measures:
        v = data[m].to_numpy(dtype=float, na_value=np.nan)
        big = v > most
        add(big, "error", m, prefixed(lambda i, v=v: f"{v[i]:g} is more than the plausible maximum of {most:g} "
                                      f"per {unit} (parameter max_count_per_period)"))
        if len(v) and np.isnan(v).all():
            found.append(pd.DataFrame([{"severity": "error", "clinic": None, "period": None, "column": m,
                                        "message": "the column has no value in any row (every cell is blank): "
                                                   "fill it in or delete the column"}]))
    # implausibly early periods
    if len(data):
        earliest = pd.Timestamp(plausible_from if plausible_from is not None else PLAUSIBLE_FROM).normalize()
        early = (data["period"].dt.end_time < earliest).to_numpy()
        add(early, "error", "period", prefixed(f"{unit} ends before {earliest.date()} (the earliest plausible "
                                               "date, parameter plausible_from)"))
    # conservation
    for queue, (inflow, outflow) in CONSERVATION_IDENTITIES.items():
        if not all(c in data.columns for c in (queue, *inflow, *outflow)):
            continue
        q = data[queue].to_numpy(dtype=float, na_value=np.nan)
        net = data[list(inflow)].to_numpy(dtype=float, na_value=np.nan).sum(axis=1) \
            - data[list(outflow)].to_numpy(dtype=float, na_value=np.nan).sum(axis=1)
        change = np.full(len(data), np.nan)
        change[1:] = q[1:] - q[:-1]
        diff = change - net
        bad = same_key & (step == 1) & np.isfinite(diff) & (np.abs(diff) > tolerance)
        if bad.any():
            msg = np.empty(len(data), dtype=object)
            msg[bad] = [f"{p}queue changed by {c:+g} but inflow - outflow = {f:+g} (difference {d:+g})"
                        for p, c, f, d in zip(prefix[bad], change[bad], net[bad], diff[bad])]
            add(bad, "warning", queue, msg)
    # future periods
    reference = pd.Timestamp(today if today is not None else pd.Timestamp.today()).normalize()
    outcome = [m for m in measures if not m.startswith("planned_")]
    if outcome and len(data):
        starts = data["period"].dt.start_time.to_numpy()
        filled = data[outcome].notna().any(axis=1).to_numpy()
        future = (starts > reference.to_datetime64()) & filled
        if future.any():
            add(future, "error", "period", prefixed(f"{unit} lies after {reference.date()} but has outcome values"))
    # runs of zeros
    if measures and len(data):
        if weekly:
            iso_week = data["period"].dt.start_time.dt.isocalendar()["week"].to_numpy(dtype=np.int64)
            summer = (iso_week >= 26) & (iso_week <= 34)
        else:
            summer = data["period"].dt.month.to_numpy() == 7
        key_id = np.cumsum(~same_key)
        for m in [m for m in measures if m in _ZERO_RUN_MEASURES]:
            v = data[m].to_numpy(dtype=float, na_value=np.nan)
            median = pd.Series(v).groupby(key_id).transform("median").to_numpy()
            zero = (v == 0) & (median > zero_median)
            if not zero.any():
                continue
            starts_run = zero & ~(np.concatenate([[False], zero[:-1]]) & same_key & (step == 1))
            run_id = np.cumsum(starts_run)
            run = pd.DataFrame({"run": run_id[zero], "i": np.flatnonzero(zero), "summer": summer[zero]})
            agg = run.groupby("run").agg(first=("i", "min"), last=("i", "max"), n=("i", "size"),
                                         summer=("summer", "all"))
            # the run length is given in weeks: for months, the months those weeks span (3 weeks:
            # one month of zeros is already a gap in a monthly file)
            min_run = min_zero_run if weekly else max(1, int(np.ceil(min_zero_run * 7 / 30.4375)))
            agg = agg[(agg["n"] >= min_run) & ~agg["summer"]]
            if agg.empty:
                continue
            mask = np.zeros(len(data), dtype=bool)
            mask[agg["first"].to_numpy()] = True
            msg = np.empty(len(data), dtype=object)
            msg[agg["first"].to_numpy()] = [
                f"{prefix[f]}{n} {unit}s of zeros ({labels[f]}..{labels[last]}) where the median is "
                f"{median[f]:g}: possible registration gap"
                for f, last, n in zip(agg["first"], agg["last"], agg["n"])]
            add(mask, "warning", m, msg)
    for item in frame.attrs.get("findings", []) or []:
        found.append(pd.DataFrame([{k: item.get(k) for k in _FINDING_COLUMNS}]))

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


# ============================================================================ clinic data
@dataclasses.dataclass(frozen=True, eq=False)
class ClinicData:
    """A clinic's canonical data: the weekly (or monthly) frame and the extract, if any.

    Attributes
    ----------
    weekly : pandas.DataFrame
        Canonical frame (``clinic``, optional ``group``, ``period``, measures).
    waiting_list : pandas.DataFrame or None
        Canonical extract (personal data: never show it in a report), or None.
    """

    weekly: pd.DataFrame
    waiting_list: pd.DataFrame | None = None


_DATA_FILE_KEYS = ("weekly", "waiting_list")
_DATA_KEYS = (*_DATA_FILE_KEYS, "sheet")


def checked_data_path(data_dir, relative, *, key: str = "weekly", max_bytes=None) -> Path:
    """The path of a data file named in a clinic's parameters, checked to stay in its folder.

    ``relative`` (a clinic parameter ``data.weekly`` or ``data.waiting_list``) must be a
    relative path without ``..``; resolved (every symbolic link followed, a linked
    sub-folder too) it must lie inside ``data_dir`` resolved, and be a regular file of
    at most ``max_bytes``.  Nothing is opened: a named pipe or a device is refused
    without blocking.  Files a user names on the command line are not bound to a folder;
    this check is for files reached through parameters.

    Parameters
    ----------
    data_dir : str or path-like
        The data folder.
    relative : str or path-like
        The file name as the parameter file gives it.
    key : str, default "weekly"
        The parameter key, named in messages (``data.<key>``).
    max_bytes : int, optional
        Largest file accepted (default :data:`MAX_FILE_BYTES`). [bytes]

    Returns
    -------
    pathlib.Path
        ``data_dir / relative`` (as named, for messages; it resolves inside the folder).

    Raises
    ------
    DataError
        Naming the file and the key; the message never says where a link leads.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "hud.csv").write_text("Vecka,Nybesök\\n2024-W05,40\\n", encoding="utf-8")
    >>> checked_data_path(folder, "hud.csv") == folder / "hud.csv"
    True
    >>> (folder / "link.csv").symlink_to("/etc/hostname")
    >>> checked_data_path(folder, "link.csv")
    Traceback (most recent call last):
    ...
    kps_analysis.data.DataError: .../link.csv: data.weekly leads outside the data folder (through a symbolic link); copy the file into the data folder
    """
    data_dir = Path(data_dir)
    if not isinstance(relative, (str, os.PathLike)):
        raise DataError(f"data.{key} must be a file name, got {type(relative).__name__}", path=data_dir)
    text = os.fspath(relative)
    posix, win = PurePosixPath(text), PureWindowsPath(text)
    if posix.is_absolute() or win.is_absolute() or win.drive or text.startswith(("/", "\\")):
        raise DataError(f"data.{key} = {text!r}: absolute paths are not allowed; give a path relative "
                        "to the data folder", path=data_dir)
    if ".." in posix.parts or ".." in win.parts:
        raise DataError(f"data.{key} = {text!r}: '..' is not allowed (the file must lie inside the data "
                        "folder)", path=data_dir)
    path = data_dir / text
    if not os.path.lexists(path):
        raise DataError(f"file not found (named by the clinic parameter data.{key})", path=path)
    try:
        root = data_dir.resolve(strict=True)
        target = path.resolve(strict=True)
    except (OSError, RuntimeError):  # a dangling link, a loop of links
        raise DataError(f"file not found (named by the clinic parameter data.{key}; a symbolic link that "
                        "leads nowhere?)", path=path) from None
    if target != root and root not in target.parents:
        raise DataError(f"data.{key} leads outside the data folder (through a symbolic link); copy the file "
                        "into the data folder", path=path)
    _check_regular_file(path, max_bytes)
    return path


def _select_clinic(frame: pd.DataFrame, clinic: str, path: Path) -> pd.DataFrame:
    values = pd.unique(frame["clinic"].to_numpy(dtype=object))
    if clinic in values:
        return frame if len(values) == 1 else frame[frame["clinic"] == clinic].reset_index(drop=True)
    if len(values) == 1:  # the file is this clinic's, under another label
        return frame.assign(clinic=clinic)
    if len(values) == 0:
        return frame
    held = ", ".join(_shown(v) for v in sorted(map(str, values))[:10])
    raise DataError(f"no rows for clinic {clinic!r}; the file holds {held}", path=path)


def _to_clinic_level(frame: pd.DataFrame) -> pd.DataFrame:
    measures = [m for m in MEASURES if m in frame.columns]
    return (frame.groupby(["clinic", "period"], sort=True)[measures].sum(min_count=1).reset_index())


def load_clinic_data(data_spec, data_dir, *, clinic, plausible_from=None, max_count_per_period=None,
                     max_bytes=None) -> ClinicData:
    """Load one clinic's data files as named in its parameter file.

    Weekly measures derived from the waiting-list extract
    (:func:`weekly_from_waiting_list`, from the weekly file's first week on when there is
    one, since an extract's early weeks are often incomplete) take precedence; the other
    measures (and weeks the extract does not cover) come from the weekly file, merged on clinic (and group,
    when both have one; otherwise the grouped frame is summed to clinic level) and
    period.  A file that holds a single clinic under another label is relabelled to
    ``clinic``; a file with several clinics is filtered to ``clinic``.

    Parameters
    ----------
    data_spec : mapping
        The clinic parameter ``data``: ``{"weekly": file, "waiting_list": file}``, at
        least one, paths relative to ``data_dir`` (a Parameters object with
        ``to_dict()`` works too), and optionally ``"sheet"``: the worksheet of XLSX files.
    data_dir : str or path-like
        The data folder; every file must resolve inside it (:func:`checked_data_path`).
    clinic : str
        Clinic id.
    plausible_from : date-like, optional
        Earliest plausible date (parameter ``plausible_from``; default
        :data:`PLAUSIBLE_FROM`). [date]
    max_count_per_period : float, optional
        Largest plausible count in the weekly file (parameter ``max_count_per_period``;
        default :data:`MAX_COUNT_PER_PERIOD`). [count/period]
    max_bytes : int, optional
        Largest file opened (parameter ``max_file_megabytes`` times 1,000,000; default
        :data:`MAX_FILE_BYTES`). [bytes]

    Returns
    -------
    ClinicData
        ``weekly`` (canonical frame) and ``waiting_list`` (extract or None).

    Raises
    ------
    DataError
        For an unknown key, no file, an absolute path or one with ``..``, a path that
        leads out of ``data_dir`` through a symbolic link, a file that is not a regular
        file or too large, a missing or unusable file, a monthly file beside an extract,
        or no rows for ``clinic``.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "hud.csv").write_text("Vecka,Nybesök\\n2024-W05,40\\n", encoding="utf-8")
    >>> data = load_clinic_data({"weekly": "hud.csv"}, folder, clinic="hud")
    >>> data.weekly[["clinic", "new_visits"]].values.tolist(), data.waiting_list is None
    ([['hud', 40.0]], True)
    """
    data_dir = Path(data_dir)
    spec = data_spec.to_dict() if hasattr(data_spec, "to_dict") else data_spec
    if not isinstance(spec, Mapping):
        raise DataError(f"data must be a mapping such as {{'weekly': 'file.csv'}}, got {spec!r}", path=data_dir)
    unknown = sorted(set(spec) - set(_DATA_KEYS))
    if unknown:
        raise DataError(f"unknown data key(s) {unknown}; expected {list(_DATA_KEYS)}", path=data_dir)
    sheet = spec.get("sheet")
    if sheet is not None and not isinstance(sheet, (str, int)):
        raise DataError(f"data.sheet must be a sheet name, got {type(sheet).__name__}", path=data_dir)
    files = {k: checked_data_path(data_dir, v, key=k, max_bytes=max_bytes)
             for k, v in spec.items() if k in _DATA_FILE_KEYS and v not in (None, "")}
    if not files:
        raise DataError("data names no file; give 'weekly' and/or 'waiting_list'", path=data_dir)
    clinic = str(clinic)
    weekly = waiting = None
    if "weekly" in files:
        weekly = _select_clinic(read_weekly(files["weekly"], clinic=clinic, sheet=sheet,
                                            plausible_from=plausible_from,
                                            max_count_per_period=max_count_per_period, max_bytes=max_bytes),
                                clinic, files["weekly"])
    if "waiting_list" in files:
        waiting = _select_clinic(read_waiting_list(files["waiting_list"], clinic=clinic, sheet=sheet,
                                                   plausible_from=plausible_from, max_bytes=max_bytes),
                                 clinic, files["waiting_list"])
    if waiting is None or (len(waiting) == 0 and weekly is not None):
        return ClinicData(weekly.reset_index(drop=True), waiting)
    if weekly is None:
        return ClinicData(weekly_from_waiting_list(waiting), waiting)
    if not weekly["period"].dtype.freq.freqstr.startswith("W"):
        raise DataError("the file holds months, but the waiting list gives weeks; give a weekly file",
                        path=files["weekly"])
    # The weekly file sets the first week: an extract's early weeks are often incomplete
    # (patients who left before the extract's first date are missing from it).
    derived = weekly_from_waiting_list(waiting, start=weekly["period"].min() if len(weekly) else None)
    if ("group" in derived.columns) != ("group" in weekly.columns):
        derived = _to_clinic_level(derived) if "group" in derived.columns else derived
        weekly = _to_clinic_level(weekly) if "group" in weekly.columns else weekly
    keys = ["clinic"] + (["group"] if "group" in derived.columns else []) + ["period"]
    merged = derived.set_index(keys).combine_first(weekly.set_index(keys)).reset_index()
    measures = [m for m in MEASURES if m in merged.columns]
    merged = merged[keys + measures].sort_values(keys, kind="mergesort").reset_index(drop=True)
    merged[measures] = merged[measures].astype(np.float64)
    merged.attrs["findings"] = list(weekly.attrs.get("findings", []))
    return ClinicData(merged, waiting)


def load_clinic(params, data_dir) -> ClinicData:
    """Load one clinic's data with the input limits of its parameters: the one call of every caller.

    :func:`load_clinic_data` with ``data``, ``plausible_from``, ``max_count_per_period`` and
    ``max_file_megabytes`` of the clinic's loaded parameters, so ``kps validate``, the
    batch's planning pass and the report notebook read the same files the same way.

    Parameters
    ----------
    params : Parameters
        The clinic's loaded parameters (:func:`kps_analysis.parameters.load_parameters`).
    data_dir : str or path-like
        The data folder.

    Returns
    -------
    ClinicData
    """
    def get(key):
        try:
            return params.get(key) if hasattr(params, "get") else getattr(params, key, None)
        except (KeyError, AttributeError):
            return None

    megabytes = get("max_file_megabytes")
    return load_clinic_data(params.data.to_dict(), data_dir, clinic=params.clinic_id,
                            plausible_from=get("plausible_from"), max_count_per_period=get("max_count_per_period"),
                            max_bytes=int(float(megabytes) * 1_000_000) if megabytes else None)
