"""Reading patient-level waiting-list extracts into the canonical extract frame.

Part of :mod:`kps_analysis.data`; see its docstring for the canonical frames.
"""

from __future__ import annotations

import dataclasses
import re
import warnings
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from .cells import (
    _NA_TEXT,
    _STR_DTYPE,
    TEXT_DTYPE,
    _column_texts,
    _distinct_texts,
    _duplicate_rows,
    _mask,
    _take_texts,
    _texts,
)
from .errors import DataError, _raise_first, _shown
from .files import FileTable, _empty_rows, _map_columns, _refuse_unknown_table, _shown_headers, load_table
from .headers import _EXTRACT_SPELLING, EXTRACT_ALIASES, EXTRACT_LOOKUP, _header_hints, normalise_header
from .schema import _NEVER, DATE_COLUMNS, PLAUSIBLE_FROM, PRIORITIES

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
        text = pd.Series(texts, dtype=TEXT_DTYPE)
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
    text = pd.Series(texts, dtype=TEXT_DTYPE).str.replace(r"^([01])[.,]0+$", r"\1", regex=True)
    yes = _mask(text.isin(_TRUE_TEXT))
    no = _mask(text.isin(_FALSE_TEXT | _NA_TEXT))
    _raise_first((~yes & ~no)[codes], lambda i: f"{_shown(text.iloc[codes[i]])} is not yes/no (Ja/Nej, 1/0)",
                 path=path, column=column, rows=rows)
    return yes[codes]


def _parse_priorities(values: pd.Series, *, path, column, rows, notes=None) -> tuple[np.ndarray, np.ndarray]:
    """``(codes, table)``: the priority of each row is ``table[codes]`` (None if empty).

    Rows without a priority are counted in ``notes`` (:class:`ExtractNotes`), or warned of."""
    codes, texts = _distinct_texts(values, lower=True, squeeze=False)
    text = pd.Series(texts, dtype=TEXT_DTYPE)
    text = text.str.replace(r"^(?:prioritet|priority|prio|p) *\.? *", "", regex=True)
    text = text.str.replace(r"^(\d+)(?:[.,]0+)?$", r"\1", regex=True)
    empty = _mask(text.isin(_NA_TEXT))
    valid = _mask(text.isin(PRIORITIES))
    _raise_first((~valid & ~empty)[codes], lambda i: "unknown priority code "
                 f"{_shown(_texts(values.iloc[[i]]).iloc[0], limit=8, hidden='(not shown)')} "
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
    With ``notes`` (:class:`ExtractNotes`) the counts go there instead of a warning.
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


class ExtractNotes:
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
    "'Patientvald väntan', 'Patientvald väntetid', 'Patientvald', 'PVV', ..., 'patient_chosen_wait'"
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
                     + _header_hints(self.unknown, EXTRACT_LOOKUP, _EXTRACT_SPELLING, roles=(role,)))
        return text


def extract_layout(table: FileTable, *, clinic=None, today=None, future_tolerance_days=7,
                    plausible_from=None, warn: bool = True, stacklevel: int = 3) -> _ExtractLayout:
    """Map an extract's header to its columns; refuse a file without a referral date column.

    ``table.data`` is the whole file or its first rows: columns that look like
    personnummer are found there.  Warns (unless ``warn`` is false) of personal columns
    dropped, ids replaced by pseudonyms and headers not recognised.
    """
    path = table.path
    roles, unknown, personal = _map_columns(table, EXTRACT_LOOKUP)
    data = table.data
    for pos in unknown:
        if _looks_personal(data[pos]):
            personal.append(pos)
    unknown_headers = [table.headers[p] for p in unknown if p not in personal]
    if "referral_date" not in roles:
        _refuse_unknown_table(table, roles, personal, unknown_headers, EXTRACT_LOOKUP, _EXTRACT_SPELLING,
                              "'Remissdatum', 'Löpnummer', 'Prioritet'")
        shown_headers = _shown_headers(table.headers)
        raise DataError(f"no referral date column in the header (row {table.header_row}; accepted headers: "
                        f"{accepted_extract_headers('referral_date')}); columns found: {shown_headers}"
                        + _header_hints(unknown_headers, EXTRACT_LOOKUP, _EXTRACT_SPELLING, roles=("referral_date",)),
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
                          + _header_hints(unknown_headers, EXTRACT_LOOKUP, _EXTRACT_SPELLING, taken=tuple(roles)),
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

    def take(self, keep: np.ndarray) -> _ExtractParts:
        """The rows where ``keep`` (a boolean mask) is true, in order."""
        idx = np.flatnonzero(keep)
        return dataclasses.replace(
            self, rows=self.rows[idx], pid=None if self.pid is None else self.pid.iloc[idx].reset_index(drop=True),
            clinic=(self.clinic[0][idx], self.clinic[1]),
            group=None if self.group is None else (self.group[0][idx], self.group[1]),
            dates={c: d[idx] for c, d in self.dates.items()}, priority=(self.priority[0][idx], self.priority[1]),
            reason=(self.reason[0][idx], self.reason[1]), flags={k: v[idx] for k, v in self.flags.items()})

    def waiting_at_end(self) -> np.ndarray:
        """Rows still waiting after their last date: referred and neither seen nor removed,
        or decided and neither treated nor removed (waiting on any day on or after the
        extract's latest date)."""
        vis, dec, trt, rem = (np.isnat(self.dates[c]) for c in DATE_COLUMNS[1:])
        return (vis & rem) | (~dec & trt & rem)

    def frame(self) -> pd.DataFrame:
        """The canonical extract frame of these rows (ids as in the file)."""
        out: dict[str, object] = {}
        if self.pid is None:
            out["patient_id"] = pd.Series(np.char.add("R", np.char.zfill(self.rows.astype(str), 7)).astype(object),
                                          dtype=object).astype(str)
        else:
            out["patient_id"] = self.pid.astype(TEXT_DTYPE).reset_index(drop=True).astype(_STR_DTYPE)
        out["clinic"] = _take_texts(*self.clinic)
        if self.group is not None:
            out["group"] = _take_texts(*self.group)
        out["priority"] = _codes_column(*self.priority)
        for col in DATE_COLUMNS:
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


def parse_extract(layout: _ExtractLayout, data: pd.DataFrame, rows: np.ndarray, notes: ExtractNotes) -> _ExtractParts:
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
    for col in DATE_COLUMNS:
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
    problems = _order_problems({c: dates[c].view(np.int64) for c in DATE_COLUMNS},
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
    table = load_table(path, sheet=sheet, lookup=EXTRACT_LOOKUP, anchors=("referral_date",), dictionary=True,
                        max_bytes=max_bytes)
    layout = extract_layout(table, clinic=clinic, today=today, future_tolerance_days=future_tolerance_days,
                             plausible_from=plausible_from)
    notes = ExtractNotes()
    if not (~_empty_rows(table.data)).any():
        raise DataError(f"no data rows below the header (row {table.header_row})", path=path)
    parts = parse_extract(layout, table.data, table.rows, notes)
    rows, frame = parts.rows, parts.frame()
    notes.warn(layout)
    if layout.pid_pos is not None:
        pid = frame["patient_id"]
        if layout.pseudonyms:
            codes, _ = pd.factorize(pid)
            frame["patient_id"] = pd.Series(np.char.add("P", np.char.zfill((codes + 1).astype(str), 7))
                                            .astype(object)).astype(TEXT_DTYPE).astype(_STR_DTYPE)
        same_text = pd.factorize(frame["clinic"])[0]  # equal clinic text, equal code
        referred = frame["referral_date"].to_numpy(dtype="datetime64[ns]").view(np.int64)
        pid = frame["patient_id"].astype(TEXT_DTYPE)
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
    ref, vis, dec, trt, rem = (days[c] for c in DATE_COLUMNS)
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
