"""Report helpers: labels (Swedish default, English), number formatting, small-number
suppression, provenance, table of contents, and atomic writing of result tables.

This module and :mod:`kps_analysis.batch` are the only places that write files for a
report; every writer here is atomic (write to a temporary file in the same folder,
then ``os.replace``), so an interrupted run never leaves a half-written table over a
good one.
"""

from __future__ import annotations

import html
import os
import re
import secrets
from collections.abc import Iterable, Mapping
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "LABELS",
    "label",
    "measure_label",
    "format_count",
    "format_signed",
    "stage_names",
    "suppress_small",
    "suppress_tables",
    "protect_counts",
    "protect_snapshot",
    "Shown",
    "atomic_path",
    "write_table",
    "write_excel",
    "provenance_markdown",
    "add_table_of_contents",
    "escape_text",
]

#: Labels used in reports, keyed by identifier, per language ("sv" default, "en").
LABELS: dict[str, dict[str, str]] = {
    # measures (canonical column names)
    "referrals_in": {"sv": "Remisser in", "en": "Referrals in"},
    "referrals_forwarded": {"sv": "Vidarebefordrade remisser", "en": "Referrals forwarded"},
    "removals_new_visit_other": {"sv": "Avförda ur nybesökskö", "en": "Other removals, first-visit queue"},
    "new_visits": {"sv": "Nybesök", "en": "New visits"},
    "return_visits": {"sv": "Återbesök", "en": "Return visits"},
    "emergency_visits": {"sv": "Akuta besök", "en": "Emergency visits"},
    "treatment_decisions": {"sv": "Behandlingsbeslut", "en": "Decisions to treat"},
    "removals_treatment_other": {"sv": "Avförda ur behandlingskö", "en": "Other removals, treatment queue"},
    "operations_elective": {"sv": "Elektiva operationer", "en": "Elective operations"},
    "operations_acute": {"sv": "Akuta operationer", "en": "Acute operations"},
    "bed_days": {"sv": "Vårddagar", "en": "Bed days"},
    "queue_new_visit": {"sv": "Väntande nybesök", "en": "Waiting for first visit"},
    "queue_treatment": {"sv": "Väntande behandling", "en": "Waiting for treatment"},
    "queue_return_unbooked": {"sv": "Ej bokade återbesök", "en": "Unbooked return visits"},
    "waiting_over_90_new_visit": {"sv": "Väntat över 90 dagar, nybesök", "en": "Waited over 90 days, first visit"},
    "waiting_over_90_treatment": {"sv": "Väntat över 90 dagar, behandling", "en": "Waited over 90 days, treatment"},
    "purchased_new_visits": {"sv": "Köpt vård, nybesök", "en": "Purchased first visits"},
    "purchased_operations": {"sv": "Köpt vård, operationer", "en": "Purchased operations"},
    "planned_new_visits": {"sv": "Planerade nybesök", "en": "Planned new visits"},
    "planned_operations": {"sv": "Planerade operationer", "en": "Planned operations"},
    "no_shows": {"sv": "Uteblivna besök", "en": "No-shows"},
    "available_slots": {"sv": "Lediga tider", "en": "Available slots"},
    # words and headings
    "clinic": {"sv": "Klinik", "en": "Clinic"},
    "clinics": {"sv": "Antal kliniker", "en": "Clinics"},
    "clinics_with_hidden_counts": {"sv": "Kliniker vars små tal är dolda (ingår inte i summorna)",
                                   "en": "Clinics whose small counts are hidden (not in the sums)"},
    "week": {"sv": "Vecka", "en": "Week"},
    "month": {"sv": "Månad", "en": "Month"},
    "year": {"sv": "År", "en": "Year"},
    "status": {"sv": "Status", "en": "Status"},
    "ok": {"sv": "klar", "en": "done"},
    "failed": {"sv": "misslyckades", "en": "failed"},
    "report": {"sv": "Rapport", "en": "Report"},
    "region_overview": {"sv": "Regionöversikt", "en": "Region overview"},
    "run_title": {"sv": "KPS-körning", "en": "KPS run"},
    "suppressed": {"sv": "<{limit}", "en": "<{limit}"},
    "queue_production_ratio_weeks": {"sv": "Köproduktionskvot (veckor)", "en": "Queue-to-production ratio (weeks)"},
    "share_over_90_days": {"sv": "Andel väntat över 90 dagar", "en": "Share waited over 90 days"},
    "projected_breaches_12w": {"sv": "Beräknat antal över 90 dagar om 12 veckor", "en": "Projected over 90 days in 12 weeks"},
    "capacity_gap_12w": {"sv": "Kapacitetsglapp 12 veckor", "en": "Capacity gap, 12 weeks"},
    "purchase_need_12w": {"sv": "Köpbehov 12 veckor", "en": "Purchase need, 12 weeks"},
    "purchase_cost_12w": {"sv": "Kostnad köpt vård 12 veckor (kr)", "en": "Purchase cost, 12 weeks (SEK)"},
    "purchase_new_visits_12w": {"sv": "Köp nybesök 12 veckor", "en": "Buy first visits, 12 weeks"},
    "purchase_operations_12w": {"sv": "Köp operationer 12 veckor", "en": "Buy operations, 12 weeks"},
    "escalation": {"sv": "Eskalering", "en": "Escalation"},
    "queue_production_ratio_weeks_new_visit": {"sv": "Köproduktionskvot nybesök (veckor)",
                                               "en": "Queue-to-production ratio, first visit (weeks)"},
    "queue_production_ratio_weeks_treatment": {"sv": "Köproduktionskvot behandling (veckor)",
                                               "en": "Queue-to-production ratio, treatment (weeks)"},
    "waiting_over_90": {"sv": "Väntat över 90 dagar", "en": "Waited over 90 days"},
    "waiting_list_pressure": {"sv": "Väntelistetryck", "en": "Waiting-list pressure"},
    "queue_change_1w": {"sv": "Förändring av kön sedan förra veckan", "en": "Change in the queue since last week"},
    "escalation_level": {"sv": "Eskaleras till", "en": "Escalated to"},
    "error": {"sv": "Fel", "en": "Error"},
    "provenance": {"sv": "Om rapporten", "en": "About this report"},
    "contents": {"sv": "Innehåll", "en": "Contents"},
}


STATUS_WORDS = {
    "sv": {"green": "grön", "yellow": "gul", "red": "röd", "unit": "enheten", "clinic": "kliniken",
           "division": "divisionen", "region": "regionen"},
    "en": {"green": "green", "yellow": "yellow", "red": "red", "unit": "unit", "clinic": "clinic",
           "division": "division", "region": "region"},
}


def status_word(value, language: str = "sv") -> str:
    """Escalation status or level in the report language ("yellow" -> "gul").

    Examples
    --------
    >>> status_word("yellow"), status_word("division"), status_word(None)
    ('gul', 'divisionen', '–')
    """
    if not isinstance(value, str):
        return "–"
    return STATUS_WORDS["en" if language == "en" else "sv"].get(value, value)


def label(key: str, language: str = "sv") -> str:
    """Return the report label of ``key`` in ``language``.

    Unknown keys are returned unchanged, so a new measure never breaks a report.

    Parameters
    ----------
    key : str
        Identifier, e.g. a canonical measure name.
    language : {"sv", "en"}
        Report language.

    Returns
    -------
    str

    Examples
    --------
    >>> label("new_visits")
    'Nybesök'
    >>> label("new_visits", "en")
    'New visits'
    """
    if language not in ("sv", "en"):
        raise ValueError(f"language must be 'sv' or 'en', got {language!r}")
    entry = LABELS.get(key)
    if entry is None:
        return key
    return entry.get(language, entry["sv"])


def measure_label(columns: Iterable[str], language: str = "sv") -> dict[str, str]:
    """Mapping ``column -> label`` for renaming a table's columns for a report.

    Examples
    --------
    >>> measure_label(["clinic", "new_visits"])
    {'clinic': 'Klinik', 'new_visits': 'Nybesök'}
    """
    return {c: label(c, language) for c in columns}


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
    """
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "–"
    text = f"{value:,.{decimals}f}"
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


#: Stage names in reports.
STAGE_NAMES = {"sv": {"new_visit": "Nybesök", "treatment": "Behandling"},
               "en": {"new_visit": "First visit", "treatment": "Treatment"}}


def stage_names(stages: pd.Series, language: str = "sv") -> pd.Series:
    """Stage identifiers (``new_visit``, ``treatment``) as report words; others unchanged."""
    return stages.map(STAGE_NAMES["sv" if language == "sv" else "en"]).fillna(stages)


def suppress_small(
    table: pd.DataFrame, columns: Iterable[str], *, limit: int = 5, language: str = "sv"
) -> pd.DataFrame:
    """Replace counts below ``limit`` (but above zero) by the text ``"<limit"``.

    Small counts in shared reports can identify patients; this is the usual
    statistical-disclosure rule (Socialstyrelsen suppresses counts below 5). Zeros are
    shown, since a zero reveals nobody. The input is not modified.

    Parameters
    ----------
    table : DataFrame
        Table to be shown.
    columns : iterable of str
        Count columns to suppress [patients].
    limit : int
        Counts ``0 < x < limit`` are suppressed [patients]. ``limit=0`` disables.

    Returns
    -------
    DataFrame
        A copy with the suppressed columns as text.

    Examples
    --------
    >>> t = pd.DataFrame({"clinic": ["a", "b", "c"], "n": [0, 3, 12]})
    >>> suppress_small(t, ["n"])["n"].tolist()
    ['0', '<5', '12']
    """
    out = table.copy()
    if limit <= 0:
        return out
    for col in columns:
        values = pd.to_numeric(out[col], errors="coerce")
        small = (values > 0) & (values < limit)
        text = values.map(lambda v: format_count(v, language=language))
        out[col] = text.where(~small, label("suppressed", language).format(limit=limit))
    return out


#: Standard waiting-time bands of the snapshot (as :func:`kps_analysis.waits.wait_distribution`):
#: lower edges [days] and labels; the bands over the guarantee start after ``guarantee_days``.
_BAND_STARTS = (0, 31, 61, 91, 181)


class Shown(dict):
    """What a report may show of each count of a snapshot: ``cell -> (lo, hi)`` [patients].

    ``lo == hi``: shown exactly; ``(1, limit - 1)`` for a suppressed count (``"<limit"``);
    any other interval: a count widened to the range it could have given everything else
    shown (``"22–25"``). Built by :func:`protect_counts`; ``suppressed`` names the
    counts below the limit, ``limit`` is the limit used.
    """

    limit: int = 5
    suppressed: frozenset = frozenset()

    def exact(self, cell) -> bool:
        """True when ``cell`` is shown as its exact value (absent cells count as exact)."""
        lo, hi = self.get(cell, (0.0, 0.0))
        return cell not in self.suppressed and lo == hi

    def text(self, cell, value=None, *, language: str = "sv") -> str:
        """The cell as report text: ``"123"``, ``"<5"`` or ``"120–123"``; ``value`` if not a cell."""
        if cell not in self:
            return format_count(value, language=language)
        lo, hi = self[cell]
        if cell in self.suppressed:
            return label("suppressed", language).format(limit=self.limit)
        if lo == hi:
            return format_count(lo, language=language)
        return f"{format_count(lo, language=language)}–{format_count(hi, language=language)}"


def _propagate(bounds: dict, relations) -> dict:
    """Narrow interval bounds through ``total = sum(parts)`` relations to a fixed point."""
    b = dict(bounds)
    for _ in range(50):
        changed = False
        for total, parts in relations:
            lo_sum = sum(b[p][0] for p in parts)
            hi_sum = sum(b[p][1] for p in parts)
            t_lo, t_hi = max(b[total][0], lo_sum), min(b[total][1], hi_sum)
            if (t_lo, t_hi) != b[total]:
                b[total], changed = (t_lo, t_hi), True
            for p in parts:
                others_lo, others_hi = lo_sum - b[p][0], hi_sum - b[p][1]
                p_lo, p_hi = max(b[p][0], b[total][0] - others_hi, 0.0), min(b[p][1], b[total][1] - others_lo)
                if (p_lo, p_hi) != b[p]:
                    lo_sum += p_lo - b[p][0]
                    hi_sum += p_hi - b[p][1]
                    b[p], changed = (p_lo, p_hi), True
        if not changed:
            break
    return b


def protect_counts(values: Mapping[str, float], relations, *, limit: int = 5, anchors=(), keep=(),
                   hidden=()) -> Shown:
    """The suppression rule of every report, table and workbook: small counts and their complements.

    The rule (one rule, used for every count of patients observed in the data):

    1. **Primary suppression**: a count of 1 to ``limit - 1`` patients is shown as
       ``"<limit"`` (``"<5"``). Zero is shown: it reveals nobody.
    2. **Complementary suppression**: where shown counts add up (``total = part + part
       + ...``: a queue and its counted and chosen parts, a stage total and its waiting-time
       bands, both stages and their sum), a suppressed count must not follow from the
       others. Whenever the shown counts would pin a suppressed count to one value, one more
       count of the same relation is *widened* to the range that the other shown counts
       allow, e.g. a queue of 26 with 2 chosen waits and 24 counted against the guarantee
       is shown as "25–28", the chosen waits as "<5" (the counted queue is the anchor the
       plan starts from, so it stays exact). The count widened is the one that disturbs
       least: never an anchor (a count published exactly elsewhere, such as the plan's
       starting queue), a headline figure in ``keep`` only when no other count is left
       to widen; first a count that frees the suppressed one on its own (else the first
       pair that does), in the order: fewest relations, then largest. A widened range is computed
       from the shown counts only (never from the true value), so it tells nothing that
       the other figures did not already tell.

    Parameters
    ----------
    values : mapping of str to float
        Every count of the snapshot by name [patients].
    relations : iterable of (str, sequence of str)
        ``(total, parts)``: ``values[total] == sum(values[p] for p in parts)``.
    limit : int, default 5
        Counts ``0 < x < limit`` are suppressed [patients]; 0 turns the rule off.
    anchors : iterable of str
        Counts that are published exactly elsewhere and may not be widened.
    keep : iterable of str
        Headline counts widened only when no other count will do.
    hidden : iterable of str
        Counts never shown on their own (implicit subtotals): protected like the others
        when small, otherwise free (they never pin another count).

    Returns
    -------
    Shown
        ``cell -> (lo, hi)`` for every name in ``values``.

    Examples
    --------
    >>> s = protect_counts({"queue": 26, "counted": 24, "chosen": 2}, [("queue", ["counted", "chosen"])],
    ...                    anchors=["counted"])
    >>> [s.text(c) for c in ("queue", "counted", "chosen")]
    ['25–28', '24', '<5']
    """
    relations = [(t, list(p)) for t, p in relations]
    anchors, keep, hidden = set(anchors), set(keep), set(hidden)
    values = {k: float(v) for k, v in values.items() if v is not None and v == v}
    relations = [(t, [p for p in ps if p in values]) for t, ps in relations if t in values]
    shown = Shown()
    shown.limit = limit
    if limit <= 0:
        shown.update({k: (v, v) for k, v in values.items()})
        return shown
    small = {k for k, v in values.items() if 0 < v < limit}
    widened: set = set()
    n_rel = {k: sum(k == t or k in ps for t, ps in relations) for k in values}

    def bounds(extra=()):
        out = {}
        for k, v in values.items():
            if k in small:
                out[k] = (1.0, float(limit - 1))
            elif k in widened or k in hidden or k in extra:
                out[k] = (0.0, float("inf"))
            else:
                out[k] = (v, v)
        return _propagate(out, relations)

    for _ in range(len(values) + 1):
        b = bounds()
        pinned = [k for k in sorted(small) if b[k][0] >= b[k][1]]
        if not pinned:
            break
        # the relations linked to the pinned count through counts that are not exact
        loose = small | widened | hidden
        reach, frontier = set(), {pinned[0]}
        while frontier:
            reach |= frontier
            nxt = set()
            for t, ps in relations:
                cells = {t, *ps}
                if cells & frontier:
                    nxt |= {c for c in cells if c in loose} - reach
            frontier = nxt
        candidates = {c for t, ps in relations if {t, *ps} & reach for c in (t, *ps)
                      if c not in loose and c not in anchors}
        if not candidates:
            break
        ranked = sorted(candidates, key=lambda c: (c in keep, n_rel[c], -values[c], c))
        # the first count that frees the pinned one on its own, else the first in rank
        others = [c for c in ranked if c not in keep][:20]

        def frees(*cells, pinned=pinned):
            lo, hi = bounds(cells)[pinned[0]]
            return lo < hi

        # one count that frees it, else the first pair that does, else the first in rank
        single = [c for c in others if frees(c)]
        pair = [] if single else [(a, b) for i, a in enumerate(others) for b in others[i + 1:] if frees(a, b)][:1]
        widened.update(single[:1] or (pair[0] if pair else (others or ranked)[:1]))
    # widen no more than needed: give back every widened count that nothing needs
    for c in sorted(widened, key=lambda c: (values[c] == 0, -values[c]), reverse=True):
        widened.discard(c)
        b = bounds()
        if any(b[k][0] >= b[k][1] for k in small):
            widened.add(c)
    b = bounds()
    for k, v in values.items():
        shown[k] = (1.0, float(limit - 1)) if k in small else b[k] if k in widened else (v, v)
    shown.suppressed = frozenset(small)
    return shown


def protect_snapshot(waiting: pd.DataFrame | None, *, queues: Mapping[str, float] | None = None,
                     guarantee_days: float = 90, limit: int = 5) -> Shown:
    """The clinic's waiting-list snapshot under the suppression rule (:func:`protect_counts`).

    One call gives what every table, figure and file of a clinic may show of the counts
    of patients waiting now, so they all show the same thing. Cells, per stage ``s``
    (``new_visit``, ``treatment``)::

        queue:s   = counted:s + chosen:s          (the queue of the weekly data, incl. chosen waits)
        counted:s = under:s + over:s              (counted against the guarantee; the plan's start: anchor)
        under:s   = band:s:0 + band:s:31 + band:s:61      (waited at most ``guarantee_days``)
        over:s    = band:s:91 + band:s:181                (waited longer)
        chosen, over, counted, queue = the sums over the stages

    ``over`` (the share over 90 days) is widened only when nothing else will do.

    Parameters
    ----------
    waiting : DataFrame or None
        Who waits now, aggregated (``PlanningModel.waiting``): ``stage``, ``wait_days``
        [days], ``patients`` [patients], ``patient_chosen_wait``; one clinic. Without
        ``patients`` each row is one patient (:func:`kps_analysis.data.waiting_snapshot`).
    queues : mapping of str to float, optional
        The queue per stage in the weekly data (``queue_new_visit``, ``queue_treatment``
        of the headline) [patients].
    guarantee_days : float, default 90
        The guarantee limit [days].
    limit : int, default 5
        The suppression limit [patients].

    Returns
    -------
    Shown
    """
    values, relations = {}, []
    stages = []
    if waiting is not None and len(waiting):
        w = waiting
        days = w["wait_days"].to_numpy(float)
        chosen = w["patient_chosen_wait"].astype(bool).to_numpy() if "patient_chosen_wait" in w else np.zeros(len(w), bool)
        n = w["patients"].to_numpy(float) if "patients" in w else np.ones(len(w))  # a snapshot: one row each
        stage_of = w["stage"].astype(str).to_numpy() if "stage" in w else np.full(len(w), "new_visit")
        starts = np.array(_BAND_STARTS, float)
        band = np.searchsorted(starts, days, side="right") - 1
        for s in dict.fromkeys(stage_of):
            m = stage_of == s
            stages.append(s)
            counted = m & ~chosen
            values[f"chosen:{s}"] = n[m & chosen].sum()
            values[f"counted:{s}"] = n[counted].sum()
            values[f"over:{s}"] = n[counted & (days > guarantee_days)].sum()
            values[f"under:{s}"] = values[f"counted:{s}"] - values[f"over:{s}"]
            under, over = [], []
            for i, start in enumerate(_BAND_STARTS):
                name = f"band:{s}:{start}"
                values[name] = n[counted & (band == i)].sum()
                (over if start > guarantee_days else under).append(name)
            relations += [(f"counted:{s}", [f"under:{s}", f"over:{s}"]), (f"under:{s}", under),
                          (f"over:{s}", over)]
        for key in ("chosen", "counted", "over"):
            values[key] = sum(values[f"{key}:{s}"] for s in stages)
            relations.append((key, [f"{key}:{s}" for s in stages]))
    for s, q in (queues or {}).items():
        if q is None or q != q:
            continue
        values[f"queue:{s}"] = float(q)
        if f"counted:{s}" in values:
            relations.append((f"queue:{s}", [f"counted:{s}", f"chosen:{s}"]))
    qs = [f"queue:{s}" for s in (queues or {}) if f"queue:{s}" in values]
    if qs:
        values["queue"] = sum(values[q] for q in qs)
        relations.append(("queue", qs))
    anchors = [k for k in values if k.startswith("counted")]
    return protect_counts(values, relations, limit=limit, anchors=anchors, keep=["over"],
                          hidden=[k for k in values if k.startswith("under")])



def _hide(table: pd.DataFrame, col: str, mask) -> None:
    """Blank ``table[col]`` where ``mask`` and flag it in ``<col>_suppressed`` (in place)."""
    if col not in table.columns:
        return
    mask = pd.Series(mask, index=table.index).fillna(False).astype(bool)
    flag = f"{col}_suppressed"
    table[flag] = (table[flag].astype(bool) if flag in table.columns else False) | mask
    table[col] = table[col].astype(float).where(~mask)


#: Columns of the machine-readable tables that are counts of patients observed in the
#: waiting list (stocks, not flows or model projections): suppressed by the rule.
STOCK_COLUMNS = ("queue_new_visit", "queue_treatment", "queue_return_unbooked", "waiting_over_90_new_visit",
                 "waiting_over_90_treatment", "waiting_over_90", "waiting_counted", "waiting_chosen")


def suppress_tables(tables: Mapping[str, pd.DataFrame], shown: Shown, *, limit: int = 5) -> dict:
    """The clinic's result tables with the suppression rule applied, for ``tables/*.csv``.

    A suppressed or widened count becomes NaN with ``True`` in a ``<column>_suppressed``
    column beside it (every table that has such a column gets the flag column, so the
    schema does not depend on the data). Applied to:

    - ``summary``: the queues, ``waiting_counted``, ``waiting_chosen``,
      ``waiting_over_90`` by ``shown``; ``share_over_90_days`` when its count is
      protected; ``queue_change_1w`` and the köproduktionskvot of a widened queue.
    - ``weekly``: the stock columns (:data:`STOCK_COLUMNS`) below the limit in every week;
      the latest week by ``shown``, and there the other removals of a stage whose queue is
      widened (queue of last week + the week's flows would give it back).
    - ``week_changes``: the stock measures (this and last week, the change).
    - ``queue_production_ratio``: ``queue`` below the limit, the latest week's by
      ``shown``, and the ratio wherever its queue is blank.

    Model projections (the plan, purchase, breaches, Monte Carlo) are left exact.
    """
    out = {k: v.copy() for k, v in tables.items()}

    def small(s):
        v = pd.to_numeric(s, errors="coerce")
        return (v > 0) & (v < limit)

    def hidden(cell):
        return cell in shown and not shown.exact(cell)

    if limit <= 0:
        return out
    s = out.get("summary")
    if s is not None and len(s):
        for col, cell in (("queue_new_visit", "queue:new_visit"), ("queue_treatment", "queue:treatment"),
                          ("waiting_counted", "counted"), ("waiting_chosen", "chosen"), ("waiting_over_90", "over"),
                          ("share_over_90_days", "over"), ("queue_change_1w", "queue"), ("queue_change_1p", "queue"),
                          ("queue_production_ratio_weeks_new_visit", "queue:new_visit"),
                          ("queue_production_ratio_weeks_treatment", "queue:treatment")):
            if cell in shown:
                _hide(s, col, [hidden(cell)] * len(s))
            elif col in STOCK_COLUMNS:
                _hide(s, col, small(s[col]) if col in s else False)
        _hide(s, "queue_production_ratio_weeks", [hidden("queue:new_visit") or hidden("queue:treatment")] * len(s))
    w = out.get("weekly")
    if w is not None and len(w):
        last = w["period"] == w.groupby("clinic")["period"].transform("max")
        for col in STOCK_COLUMNS:
            if col in w:
                _hide(w, col, small(w[col]))
        for stage, removal in (("new_visit", "removals_new_visit_other"), ("treatment", "removals_treatment_other")):
            for col, cell in ((f"queue_{stage}", f"queue:{stage}"), (f"waiting_over_90_{stage}", f"over:{stage}")):
                if col in w and cell in shown:
                    _hide(w, col, last & hidden(cell))
            _hide(w, removal, last & hidden(f"queue:{stage}"))
    c = out.get("week_changes")
    if c is not None and len(c):
        cells = {"queue_new_visit": "queue:new_visit", "queue_treatment": "queue:treatment", "waiting_over_90": "over"}
        stock = c["measure"].isin(list(cells))
        # this_period/last_period and their old names this_week/last_week hold the same counts
        now = c["this_period"] if "this_period" in c else c["this_week"]
        then = c["last_period"] if "last_period" in c else c["last_week"]
        this = stock & (small(now) | c["measure"].map(lambda m: hidden(cells.get(m, ""))))
        before = stock & small(then)
        ratio = (c["measure"] == "queue_production_ratio_weeks") & (hidden("queue:new_visit")
                                                                    or hidden("queue:treatment"))
        for col in ("this_period", "this_week"):
            _hide(c, col, this | ratio)
        for col in ("last_period", "last_week"):
            _hide(c, col, before)
        _hide(c, "change", this | before | ratio)
    r = out.get("queue_production_ratio")
    if r is not None and len(r) and "queue" in r:
        last = r["period"] == r.groupby(["clinic", "stage"])["period"].transform("max")
        gone = small(r["queue"]) | (last & r["stage"].map(lambda st: hidden(f"queue:{st}")))
        _hide(r, "queue", gone)
        _hide(r, "queue_production_ratio_weeks", gone)
    return out

@contextmanager
def atomic_path(path: str | os.PathLike):
    """Context manager yielding a temporary path that replaces ``path`` on success.

    The temporary file lives in the same folder, so the final ``os.replace`` is atomic
    on POSIX and Windows: readers see either the old file or the complete new one.
    On an exception the temporary file is removed and ``path`` is untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Created with mode 0666 less the umask, as an ordinary file (0644 under umask 022):
    # mkstemp's 0600 would make every report private to its writer.
    for _ in range(100):
        tmp = path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        except FileExistsError:
            continue
        break
    else:
        raise FileExistsError(f"{path.parent}: no free temporary name for {path.name}")
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_table(table: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write ``table`` as a UTF-8 CSV (comma separated, decimal point) atomically.

    Periods are written as their ISO label (``2024-W05`` for weeks, ``2024-05`` for
    months), so that the file reads back with :func:`kps_analysis.data.read_weekly`;
    floats are rounded to 6 decimals.
    """
    out = table.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.PeriodDtype):
            out[col] = period_labels(out[col])
        elif pd.api.types.is_float_dtype(out[col]):
            out[col] = out[col].round(6)  # expected values: 6 decimals is beyond any count's precision
    with atomic_path(path) as tmp:
        out.to_csv(tmp, index=False)
    return Path(path)


def write_excel(tables: Mapping[str, pd.DataFrame], path: str | os.PathLike) -> Path:
    """Write several tables as sheets of one ``.xlsx`` file, atomically (openpyxl)."""
    with atomic_path(path) as tmp:
        with pd.ExcelWriter(tmp, engine="openpyxl") as writer:
            for name, table in tables.items():
                out = table.copy()
                for col in out.columns:
                    if isinstance(out[col].dtype, pd.PeriodDtype):
                        out[col] = period_labels(out[col])
                out.to_excel(writer, sheet_name=name[:31], index=False)
    return Path(path)


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
        start = periods.dt.start_time
        iso = start.dt.isocalendar()
        # text operations only, so an empty column works the same on every pandas version
        return iso["year"].astype(str) + "-W" + iso["week"].astype(str).str.zfill(2)
    return periods.astype(str)


#: Characters that are markup in HTML or Markdown (nbconvert's Markdown passes raw HTML
#: through and makes links of ``[x](javascript:...)``), written as numeric character
#: references, which both read as the plain character.
_MARKUP = {ord(c): f"&#{ord(c)};" for c in "\\`*_{}[]()#+-.!|~<>&\"'$=:"}
_LINE_BREAKS = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")


def escape_text(text) -> str:
    """User text (a clinic's name, hospital, label, description, an error message) made
    inert for HTML and for Markdown rendered to HTML: the one escaping path of every
    report, ``index.html`` and the region overview.

    Every character that is markup in either language becomes a numeric character
    reference, so the text reads the same but nothing in it is a tag, an attribute, a
    link, emphasis or a code span; line breaks and control characters become one space
    (no new Markdown block can start). ``None`` gives "".

    Examples
    --------
    >>> escape_text('<img src=x onerror="alert(1)">')
    '&#60;img src&#61;x onerror&#61;&#34;alert&#40;1&#41;&#34;&#62;'
    >>> escape_text("Öron-, näs- och hals\\n# rubrik")
    'Öron&#45;, näs&#45; och hals &#35; rubrik'
    """
    if text is None:
        return ""
    return _LINE_BREAKS.sub(" ", str(text)).strip().translate(_MARKUP)


def provenance_markdown(
    *,
    clinic_id: str,
    clinic_name: str,
    parameter_hash: str,
    package_version: str,
    data_period: tuple[str, str] | None,
    run_id: str,
    language: str = "sv",
    now: datetime | None = None,
) -> str:
    """The provenance footer of a report, as Markdown.

    Examples
    --------
    >>> print(provenance_markdown(clinic_id="uro", clinic_name="Urologi",
    ...       parameter_hash="abc123", package_version="0.1.0",
    ...       data_period=("2019-W02", "2026-W47"), run_id="r1",
    ...       now=datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)))  # doctest: +NORMALIZE_WHITESPACE
    *Klinik:* Urologi (<code>uro</code>) · *Parametrar:* <code>abc123</code> · *kps-analysis:* 0.1.0 ·
    *Dataperiod:* 2019-W02 – 2026-W47 · *Körning:* <code>r1</code>, 2026-11-23 08:00 UTC ·
    Syntetiska demodata eller regionens data enligt parameterfilen; inga patientuppgifter visas.
    """
    now = now or datetime.now(timezone.utc)
    stamp = now.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    period = f"{data_period[0]} – {data_period[1]}" if data_period else "–"
    if language == "en":
        words = ("Clinic", "Parameters", "Data period", "Run",
                 "Synthetic demo data or the region's data as set in the parameter file; no patient details are shown.")
    else:
        words = ("Klinik", "Parametrar", "Dataperiod", "Körning",
                 "Syntetiska demodata eller regionens data enligt parameterfilen; inga patientuppgifter visas.")
    return (
        f"*{words[0]}:* {escape_text(clinic_name)} (<code>{escape_text(clinic_id)}</code>) · "
        f"*{words[1]}:* <code>{parameter_hash}</code> · "
        f"*kps-analysis:* {package_version} ·\n*{words[2]}:* {period} · "
        f"*{words[3]}:* <code>{escape_text(run_id)}</code>, {stamp} ·\n{words[4]}"
    )


_HEADING = re.compile(r'<h([23]) id="([^"]+)"[^>]*>(.*?)</h\1>', re.S)


def add_table_of_contents(page: str, *, title: str = "Innehåll") -> str:
    """Insert a table of contents (``<nav class="kps-toc">``) after ``<main>``.

    It lists the page's ``<h2>`` and ``<h3>`` headings (nbconvert gives them ids), so
    the reader can jump to a section; it is hidden when printed. It replaces the page's
    :data:`TOC_SLOT` when there is one (the clinic report's first screen puts it after the
    verdict and the decision), else it comes first. A page without ``<main>`` or without
    headings is returned unchanged.

    Examples
    --------
    >>> page = '<main><h2 id="a">Läget</h2><h3 id="b">Kö</h3></main>'
    >>> "href=\\"#a\\"" in add_table_of_contents(page)
    True
    """
    items = []
    for level, anchor, inner in _HEADING.findall(page):
        # the heading's text only: tags dropped, references read, then escaped again
        text = html.unescape(re.sub(r"<[^>]+>", "", inner)).replace("¶", "")
        indent = ' style="margin-left:1.5em"' if level == "3" else ""
        items.append(f'<li{indent}><a href="#{escape_text(html.unescape(anchor))}">{escape_text(text)}</a></li>')
    if not items or "<main>" not in page:
        return page
    nav = (f'<nav class="kps-toc" aria-label="{escape_text(title)}"><strong>{escape_text(title)}</strong>'
           f'<ol>{"".join(items)}</ol></nav>')
    if TOC_SLOT in page:  # the report's first screen says where the contents go (after the decision)
        return page.replace(TOC_SLOT, nav, 1)
    return page.replace("<main>", "<main>" + nav, 1)


#: Where :func:`add_table_of_contents` puts the contents when a page has it (else first in ``<main>``).
TOC_SLOT = '<div class="kps-toc-slot"></div>'



#: Section headings and the plain-language explanations a clinic manager reads.
SECTIONS: dict[str, dict[str, str]] = {
    "key_figures": {
        "sv": "## Nyckeltal och eskalering\nAlla nyckeltal ur planeringsmodellen, med enhet. Kapacitetsglappet "
              "mäts mot det som behövs för att hålla vårdgarantin, inte mot en målkö.",
        "en": "## Key figures and escalation\nEvery key figure of the planning model, with its unit. The capacity "
              "gap is measured against what keeping the care guarantee needs, not against a target queue.",
    },
    "summary": {
        "sv": "## Sammanfattning\nDe viktigaste talen för kliniken den senaste veckan.",
        "en": "## Summary\nThe clinic's headline figures for the latest week.",
    },
    "changes": {
        "sv": "### Vad har ändrats sedan förra veckan\nDen senaste veckan jämförd med veckan före och med "
              "snittet för de fyra veckorna dessförinnan. En förändring markeras som ovanligt stor när den är "
              "mer än dubbelt så stor som den vanliga veckoförändringen (två standardavvikelser det senaste året).",
        "en": "### What changed since last week\nThe latest week against the week before and against the mean "
              "of the four weeks before it. A change is marked unusually large when it is more than twice the "
              "usual week-on-week change (two standard deviations over the past year).",
    },
    "situation": {
        "sv": "## Läget vecka för vecka\nInflöde (remisser), produktion och kö per vecka i år, "
              "med samma veckor de två föregående åren bredvid. Det skuggade fältet är sommarveckorna 27–32.",
        "en": "## The situation week by week\nInflow (referrals), production and queue per week this year, "
              "with the same weeks of the two previous years beside them. The shaded band is summer weeks 27-32.",
    },
    "waits": {
        "sv": "## Väntetider\nHur länge de som väntar just nu har väntat, i dagar. Randiga staplar till "
              "höger om den streckade linjen har passerat vårdgarantins gräns. Patienter som själva valt att vänta längre räknas inte mot garantin.",
        "en": "## Waiting times\nHow long the patients waiting now have waited, in days. Hatched bars right of "
              "the dashed line are past the care-guarantee limit. Patients who chose to wait longer do not count against the guarantee.",
    },
    "waits_missing": {
        "sv": "*Kliniken levererar bara veckosummor, inte en väntelista per patient, så fördelningen kan inte visas.*",
        "en": "*The clinic delivers weekly totals only, not a patient-level list, so the distribution cannot be shown.*",
    },
    "ratio": {
        "sv": "## Köproduktionskvot\nKön delad med produktionen per vecka: hur många veckors produktion som "
              "väntar, alltså ungefär hur länge en ny patient får vänta (Littles lag). Produktionen är ett "
              "glidande medel över de senaste veckorna, köpt vård inräknad. Den röda streckade linjen är 90 dagars "
              "produktion: ligger kurvan över linjen väntar även den som tas i turordning längre än vårdgarantin. "
              "Under linjen kan patienter ändå passera gränsen (prioriteringar, ojämna flöden); om vård behöver "
              "köpas avgör planeringsmodellen (avsnitten nedan). En enstaka topp (en sommarvecka nästan utan "
              "produktion) skärs av och skrivs ut, så att den inte plattar till resten.",
        "en": "## Queue-to-production ratio\nThe queue divided by weekly production: how many weeks of "
              "production are waiting, roughly how long a new patient will wait (Little's law). Production is "
              "a trailing average, purchased care included. The red dashed line is 90 days of production: above "
              "it even a patient served in turn waits longer than the care guarantee. Below it patients may still "
              "pass the limit (priorities, uneven flows); whether care must be bought is the planning model's "
              "answer (the sections below). A single peak (a summer week with almost no production) is cut and "
              "its value written out, so that it does not flatten the rest.",
    },
    "seasonal": {
        "sv": "## Säsongsmönster\nHur en vanlig vecka ser ut under året, räknat ur tidigare år (avvikande år "
              "som pandemiåret 2020 är uteslutna). 1 är en genomsnittlig vecka; 0,5 betyder halva den vanliga "
              "volymen. Produktionen sjunker mer än remisserna under {seasons}, och då "
              "växer kön.",
        "en": "## Seasonal pattern\nWhat a normal week looks like over the year, from earlier years (outlier "
              "years such as the pandemic year 2020 left out). 1 is an average week; 0.5 means half the usual "
              "volume. Production drops more than referrals over {seasons}, and then the queue grows.",
    },
    "balance": {
        "sv": "## Balans mellan in- och utflöde\nSkillnaden mellan vad som kommer in och vad som går ut per vecka, för kön till nybesök och kön till behandling (glidande medel). Över noll växer kön. Tabellen visar belastningen de kommande 12 veckorna i planeringsmodellen (prognosens inflöde delat med den kapacitet planen bygger på): steget med högst belastning över 1 är flaskhalsen, där en inre kö byggs upp.",
        "en": "## Balance of inflow and outflow\nThe difference between what comes in and what goes out per week, for the first-visit and the treatment queue (moving average). Above zero the queue grows. The table shows the load of the coming 12 weeks in the planning model (the forecast inflow divided by the capacity the plan rests on): the stage with the highest load above 1 is the bottleneck, where an internal queue builds up.",
    },
    "breaches": {
        "sv": "### Hur många passerar 90 dagar de kommande veckorna?\nPlaneringsmodellen: prognosens inflöde, den egna kapaciteten nedan och patienterna i tur och ordning efter medicinsk prioritet och väntetid. Randiga staplar: antal som vid veckans slut har väntat över 90 dagar om ingen vård köps. Svarta staplar: med det planerade köpet. Köpt vård kan tas emot först efter ledtiden (skuggat), så de som passerar gränsen dessförinnan kan bara hjälpas med egna extra insatser eller flytt.",
        "en": "### How many will pass 90 days in the coming weeks?\nThe planning model: the forecast inflow, the own capacity below and patients taken by medical priority, then waiting time. Hatched bars: patients who have waited over 90 days at the end of each week if no care is bought. Black bars: with the planned purchase. Purchased care can start only after the lead time (shaded), so those who pass the limit before then can only be helped by extra own sessions or a move.",
    },
    "quality": {
        "sv": "## Datakvalitet\nKontroller av indata: saknade veckor, dubbletter, negativa tal och köer som inte "
              "går ihop med in- och utflödet. Fel bör rättas i källsystemet.",
        "en": "## Data quality\nChecks of the input: missing weeks, duplicates, negative counts and queues that do not "
              "reconcile with inflow and outflow. Errors should be corrected at the source.",
    },
    "quality_ok": {"sv": "*Inga anmärkningar.*", "en": "*No findings.*"},
    "provenance": {"sv": "## Om rapporten", "en": "## About this report"},
}


def section(key: str, language: str = "sv", *, country: str = "SE", subdivision: str | None = None) -> str:
    """Markdown of a report section's heading and explanation.

    Texts that name the year's holiday seasons name those of the clinic's calendar
    (``country``, ``subdivision``: :func:`kps_analysis.calendar.season_phrase`).

    Examples
    --------
    >>> section("summary").splitlines()[0]
    '## Sammanfattning'
    """
    text = SECTIONS[key][language if language in ("sv", "en") else "sv"]
    if "{seasons}" in text:   # the calendar's own seasons
        from .calendar import season_phrase

        phrase = season_phrase(country=country, subdivision=subdivision, language=language if language == "en" else "sv")
        text = text.replace("{seasons}", phrase or ("helger och semestrar" if language != "en" else "holidays"))
    return text


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


def title_markdown(name: str, hospital: str | None, periods: pd.Series, *, language: str = "sv") -> str:
    """The report title: clinic name, hospital and the latest week of data.

    Examples
    --------
    >>> title_markdown("Urologi", "Norra sjukhuset",
    ...                pd.Series(pd.period_range("2026-11-16", periods=1, freq="W-SUN")))
    '# Urologi\\nNorra sjukhuset · data till och med vecka 2026-W47'

    Name and hospital are user text: :func:`escape_text` makes any markup in them inert.
    """
    last = data_period(periods)
    until = (("data till och med vecka" if language == "sv" else "data up to week") + f" {last[1]}"
             if last else "")
    parts = [p for p in (escape_text(hospital), until) if p]
    return f"# {escape_text(name)}\n" + " · ".join(parts)


def headline_table(headline: pd.DataFrame, *, language: str = "sv") -> pd.DataFrame:
    """The one-clinic headline figures as a two-column table (label, formatted value).

    Shares are shown in per cent, the queue-to-production ratio with one decimal,
    counts and SEK as whole numbers; a figure not computed is shown as "–".
    """
    row = headline.iloc[0]
    values = []
    for key, val in row.items():
        if key in ("clinic", "period"):
            continue
        if key in ("escalation", "escalation_level"):
            text = status_word(val, language)
        elif isinstance(val, str) or val is None:
            text = val or "–"
        elif key.startswith("share"):
            text = format_count(100 * float(val), language=language, decimals=1) + " %"
        elif "ratio" in key or "pressure" in key:
            text = format_count(float(val), language=language, decimals=1)
        elif key == "queue_change_1w":
            text = format_signed(val, language=language)
        else:
            text = format_count(float(val), language=language)
        values.append((label(key, language), text))
    head = ("Mått", "Värde") if language == "sv" else ("Measure", "Value")
    return pd.DataFrame(values, columns=list(head)).set_index(head[0])


def wait_table(bands: pd.DataFrame, *, limit: int = 5, language: str = "sv", shown: Shown | None = None,
               guarantee_days: float = 90) -> pd.DataFrame:
    """Waiting-time bands for a shared report under the suppression rule (:func:`protect_counts`).

    ``shown`` is the clinic's :func:`protect_snapshot` (so the bands agree with every other
    table); without it the bands are protected against their stage's total and its
    parts within and beyond ``guarantee_days``.
    """
    cols = [c for c in ("stage", "band", "patients") if c in bands.columns]
    if shown is None:
        shown = protect_snapshot(bands.assign(wait_days=bands["band_start_days"], patient_chosen_wait=False),
                                 guarantee_days=guarantee_days, limit=limit)
    table = bands[cols].copy()
    stage = bands["stage"].astype(str) if "stage" in bands.columns else pd.Series("new_visit", index=bands.index)
    cells = "band:" + stage + ":" + bands["band_start_days"].astype(int).astype(str)
    table["patients"] = [shown.text(c, v, language=language) for c, v in zip(cells, bands["patients"])]
    if "stage" in cols:
        table["stage"] = stage_names(table["stage"], language)
    names = {"stage": "Steg" if language == "sv" else "Stage",
             "band": "Väntetid (dagar)" if language == "sv" else "Waiting time (days)",
             "patients": "Patienter" if language == "sv" else "Patients"}
    return table.rename(columns=names).set_index(names["stage"] if "stage" in cols else names["band"])


#: Change measures that are counts of the waiting list now, and their snapshot cell.
_CHANGE_CELLS = {"queue_new_visit": "queue:new_visit", "queue_treatment": "queue:treatment", "waiting_over_90": "over"}


def changes_table(changes: pd.DataFrame, *, limit: int = 5, language: str = "sv",
                  shown: Shown | None = None) -> pd.DataFrame:
    """What changed since last week (:func:`kps_analysis.summary.week_changes`) for a report.

    One row per measure: last week, this week, the change (with its sign) and the usual
    level (mean of the four weeks before); a change beyond two standard deviations of
    the usual week-on-week changes is marked. Counts below ``limit`` are suppressed
    ("<5"), and so is a change between two such counts, since it would reveal them. With
    the clinic's ``shown`` snapshot (:func:`protect_snapshot`), a queue widened by the
    suppression rule is shown as its range, with the change as a range, and the
    köproduktionskvot of that week is not shown (times production it is the queue).

    Examples
    --------
    >>> c = pd.DataFrame({"measure": ["queue_new_visit"], "this_week": [130.0], "last_week": [101.0],
    ...                   "change": [29.0], "usual": [100.5], "unusual": [True], "direction": ["up"]})
    >>> changes_table(c, language="en").iloc[0].tolist()
    ['101', '130', '+29', '100', 'unusually large increase']
    """
    sv = language == "sv"
    head = (["Mått", "Förra veckan", "Denna vecka", "Förändring", "Snitt fyra veckor före", "Anmärkning"] if sv
            else ["Measure", "Last week", "This week", "Change", "Mean of the four weeks before", "Note"])
    rows = []
    for r in changes.itertuples(index=False):
        ratio = r.measure == "queue_production_ratio_weeks"
        dec = 1 if ratio else 0

        def fmt(v, ratio=ratio, dec=dec):
            if v is not None and v == v and not ratio and limit > 0 and 0 < abs(v) < limit:
                return label("suppressed", language).format(limit=limit)
            return format_count(v, language=language, decimals=dec)

        hidden = not ratio and limit > 0 and any(0 < abs(v) < limit for v in (r.this_week, r.last_week)
                                                 if v == v and v is not None)
        note = ""
        if bool(r.unusual):
            note = ({"up": "ovanligt stor ökning", "down": "ovanligt stor minskning"} if sv
                    else {"up": "unusually large increase", "down": "unusually large decrease"}).get(r.direction, "")
        this_week, change = fmt(r.this_week), (label("suppressed", language).format(limit=limit) if hidden
                                               else format_signed(r.change, language=language, decimals=dec))
        cell = _CHANGE_CELLS.get(r.measure)
        queues_exact = shown is None or all(shown.exact(c) for c in ("queue:new_visit", "queue:treatment"))
        if shown is not None and cell in shown and not shown.exact(cell):
            # this week's count is protected: the change would give it back from last week's
            this_week = shown.text(cell, language=language)
            lo, hi = shown[cell]
            change = "–" if hidden or r.last_week != r.last_week else (
                f"{format_signed(lo - r.last_week, language=language)} – {format_signed(hi - r.last_week, language=language)}")
            note = ""
        elif ratio and not queues_exact:
            this_week, change, note = "–", "–", ""  # the ratio times production gives the queue back
        rows.append([label(r.measure, language), fmt(r.last_week), this_week, change, fmt(r.usual), note])
    return pd.DataFrame(rows, columns=head).set_index(head[0])


def findings_table(findings: pd.DataFrame, *, language: str = "sv", max_rows: int = 30) -> pd.DataFrame:
    """Data-quality findings for the report: errors first, at most ``max_rows`` rows."""
    order = findings.assign(_e=(findings["severity"] != "error")).sort_values(["_e"], kind="stable")
    table = order.drop(columns="_e").head(max_rows).copy()
    for col in table.columns:
        if isinstance(table[col].dtype, pd.PeriodDtype):
            table[col] = period_labels(table[col])
    return table.set_index("severity")


def share_text(shown: Shown, cell: str, denominator, value, *, ratio: bool = False, language: str = "sv") -> str:
    """A share [%] of a protected count: exact, or the range its count's range allows.

    ``value`` is the count of ``cell`` (or the share itself with ``ratio=True``) and
    ``denominator`` the exact count it is divided by; a share whose count is suppressed or
    widened would reveal it, so it is shown as the range of shares of the count's range
    (``"0,5–2,0 %"``).
    """
    if value is None or value != value or denominator is None or denominator != denominator or denominator <= 0:
        return "–"
    if cell in shown and not shown.exact(cell):
        lo, hi = shown[cell]
        return (f"{format_count(100 * lo / denominator, language=language, decimals=1)}–"
                f"{format_count(100 * hi / denominator, language=language, decimals=1)} %")
    share = value if ratio else value / denominator
    return format_count(100 * share, language=language, decimals=1) + " %"


def _summary_shown(summary: pd.DataFrame, *, limit: int) -> Shown:
    """The snapshot's counts as far as a wait summary knows them (counted, chosen, over per stage)."""
    values, relations = {}, []
    stages = [str(s) for s in summary.get("stage", pd.Series(["new_visit"] * len(summary)))]
    for s, r in zip(stages, summary.itertuples(index=False)):
        values[f"counted:{s}"] = r.waiting
        values[f"chosen:{s}"] = getattr(r, "excluded_chosen", 0)
        if hasattr(r, "over_limit"):
            values[f"over:{s}"] = r.over_limit
    for key in ("chosen", "over", "counted"):
        parts = [f"{key}:{s}" for s in stages if f"{key}:{s}" in values]
        if parts:
            values[key] = sum(values[p] for p in parts)
            relations.append((key, parts))
    return protect_counts(values, relations, limit=limit, anchors=[k for k in values if k.startswith("counted")],
                          keep=["over"])


def wait_summary_table(summary: pd.DataFrame, *, limit: int = 5, language: str = "sv",
                       shown: Shown | None = None) -> pd.DataFrame:
    """Waiting-time summary per stage for a report (from :func:`waits.wait_summary`).

    Shows the patients who count against the guarantee and those who chose to wait
    longer (together they are the queue in the summary), the median and 90th
    percentile wait [days] and the share over the guarantee limit [%], one row per
    stage. Counts follow the suppression rule (:func:`protect_counts`; ``shown`` is the
    clinic's :func:`protect_snapshot`, so the table agrees with the headline): the
    counted queue is exact (the plan starts from it), a small number of chosen waits is
    "<5", and a share whose count is protected is shown as a range.

    Examples
    --------
    >>> s = pd.DataFrame({"stage": ["new_visit"], "waiting": [427], "excluded_chosen": [34],
    ...                   "p50_days": [45.0], "p90_days": [94.0], "share_over_limit": [0.112]})
    >>> wait_summary_table(s, language="en").iloc[0].tolist()
    ['427', '34', '45', '94', '11.2 %']
    """
    sv = language == "sv"

    if shown is None:
        shown = _summary_shown(summary, limit=limit)
    rows = []
    for r in summary.itertuples(index=False):
        stage = str(getattr(r, "stage", "new_visit"))
        over = getattr(r, "over_limit", None)
        rows.append({
            ("Steg" if sv else "Stage"): STAGE_NAMES["sv" if sv else "en"].get(stage, stage),
            ("Väntande som räknas mot garantin" if sv else "Waiting, counted against the guarantee"):
                shown.text(f"counted:{stage}", r.waiting, language=language),
            ("Har valt att vänta längre" if sv else "Chose to wait longer"):
                shown.text(f"chosen:{stage}", getattr(r, "excluded_chosen", 0), language=language),
            ("Median (dagar)" if sv else "Median (days)"): format_count(r.p50_days, language=language),
            ("90:e percentil (dagar)" if sv else "90th percentile (days)"): format_count(r.p90_days, language=language),
            ("Andel över gränsen" if sv else "Share over limit"):
                share_text(shown, f"over:{stage}", r.waiting, r.share_over_limit if over is None else over,
                           ratio=over is None, language=language),
        })
    return pd.DataFrame(rows).set_index("Steg" if sv else "Stage")


def load_table(loads: pd.DataFrame, *, language: str = "sv") -> pd.DataFrame:
    """Stage loads (:func:`kps_analysis.balance.stage_loads`) for a report."""
    sv = language == "sv"
    return pd.DataFrame({
        ("Steg" if sv else "Stage"): stage_names(loads["stage"], language),
        ("Inflöde" if sv else "Inflow"): loads["inflow"].map(lambda v: format_count(v, language=language)),
        ("Egen kapacitet" if sv else "Own capacity"): loads["capacity"].map(lambda v: format_count(v, language=language)),
        ("Belastning" if sv else "Load"): loads["load"].map(lambda v: format_count(v, language=language, decimals=2)),
        ("Flaskhals" if sv else "Bottleneck"): loads["bottleneck"].map({True: "ja" if sv else "yes", False: ""}),
    }).set_index("Steg" if sv else "Stage")


def rates_table(rates: pd.DataFrame, *, language: str = "sv") -> pd.DataFrame:
    """Conversion rates of the flow chain (:func:`kps_analysis.balance.conversion_rates`)."""
    sv = language == "sv"
    names = {
        "forwarded_share": "Andel remisser vidarebefordrade" if sv else "Share of referrals forwarded",
        "decisions_per_new_visit": "Behandlingsbeslut per nybesök" if sv else "Decisions to treat per first visit",
        "return_visits_per_new_visit": "Återbesök per nybesök" if sv else "Return visits per first visit",
        "bed_days_per_operation": "Vårddagar per operation (medelvårdtid)" if sv else "Bed days per operation",
        "no_show_rate": "Andel uteblivna besök" if sv else "No-show rate",
    }
    row = rates.iloc[0]
    values = [(text, format_count(row[key], language=language, decimals=2))
              for key, text in names.items() if key in rates.columns and pd.notna(row[key])]
    head = ("Senaste 52 veckorna" if sv else "Latest 52 weeks", "")
    return pd.DataFrame(values, columns=[head[0], "Värde" if sv else "Value"]).set_index(head[0])


def read_clinic_tables(run_dir: str | os.PathLike, name: str) -> pd.DataFrame:
    """Concatenate ``<run_dir>/<clinic>/tables/<name>.csv`` of every clinic in a run.

    The region overview reads the clinics' result tables this way (aggregates only).
    Clinics without the table (a failed run) are skipped.
    """
    paths = sorted(Path(run_dir).glob(f"*/tables/{name}.csv"))
    if not paths:
        return pd.DataFrame()
    return pd.concat([pd.read_csv(p) for p in paths], ignore_index=True)


def region_table(summaries: pd.DataFrame, *, language: str = "sv", order: str = "pressure") -> pd.DataFrame:
    """The region's clinics formatted for a report; the queue's change since last week
    is shown with its sign.

    ``order="pressure"`` ranks them by waiting-list pressure (köproduktionskvot when it
    is missing), highest first; ``order="given"`` keeps the rows as given (the region
    overview orders them by need: escalation, then projected breaches).
    """
    cols = [c for c in ("clinic", "waiting_list_pressure", "queue_production_ratio_weeks", "share_over_90_days",
                        "queue_new_visit", "queue_treatment", "queue_change_1w", "waiting_over_90",
                        "projected_breaches_12w",
                        "purchase_need_12w", "purchase_new_visits_12w", "purchase_operations_12w",
                        "purchase_cost_12w", "escalation")
            if c in summaries.columns]
    key = "waiting_list_pressure" if "waiting_list_pressure" in cols else "queue_production_ratio_weeks"
    table = summaries[cols] if order == "given" else summaries[cols].sort_values(key, ascending=False)
    table = table.reset_index(drop=True)
    out = pd.DataFrame(index=table.index)
    for col in cols:
        if col == "clinic":
            out[label(col, language)] = table[col]
        elif col == "escalation":
            out[label(col, language)] = table[col].map(lambda v: status_word(v, language))
        elif col.startswith("share"):
            out[label(col, language)] = table[col].map(lambda v: format_count(100 * v, language=language, decimals=1) + " %")
        elif col.startswith("queue_production_ratio") or "pressure" in col:
            out[label(col, language)] = table[col].map(lambda v: format_count(v, language=language, decimals=1))
        elif col == "queue_change_1w":
            out[label(col, language)] = table[col].map(lambda v: format_signed(v, language=language))
        else:
            out[label(col, language)] = table[col].map(lambda v: format_count(v, language=language))
    return out.set_index(label("clinic", language))


def region_purchase_table(monthly: pd.DataFrame, *, language: str = "sv") -> pd.DataFrame:
    """The region's purchase per month (:func:`kps_analysis.summary.region_purchase_by_month`)."""
    sv = language == "sv"
    names = {"guarantee": "vårdgaranti" if sv else "guarantee", "target": "målnivå" if sv else "target"}
    rows = monthly.assign(policy=monthly["policy"].map(names).fillna(monthly["policy"]))
    return pd.DataFrame({
        label("month", language): rows["month"].astype(str),
        ("Policy"): rows["policy"],
        ("Köpbehov" if sv else "Purchase need"): rows["purchase"].map(lambda v: format_count(v, language=language)),
        ("Kostnad köpt vård (kr)" if sv else "Cost purchased (SEK)"):
            rows["cost_external_sek"].map(lambda v: format_count(v, language=language)),
        ("Kostnad i egen regi (kr)" if sv else "Cost in-house (SEK)"):
            rows["cost_internal_sek"].map(lambda v: format_count(v, language=language)),
        ("Kliniker som köper" if sv else "Clinics buying"): rows["clinics"],
    }).set_index(label("month", language))


SECTIONS.update({
    "region_title": {"sv": "# Regionöversikt", "en": "# Region overview"},
    "region_totals": {
        "sv": "## Regionen totalt\nSumma över klinikerna senaste veckan: väntande, väntat över 90 dagar och "
              "beräknat antal över 90 dagar om 12 veckor om inget köps.",
        "en": "## The region in total\nSums over the clinics for the latest week: waiting, waited over 90 days, "
              "and projected over 90 days in 12 weeks if nothing is bought.",
    },
    "region_ranking": {
        "sv": "## Klinikerna efter behov\nRöd eskalering först, sedan gul och grön; inom varje färg flest beräknade "
              "patienter över 90 dagar om inget köps. Köpen är planeringsmodellens svar för varje klinik, nybesök "
              "och operationer var för sig. Diagrammet visar köproduktionskvoten i samma ordning; den röda linjen är 90 dagars produktion: en "
              "klinik till höger om den håller inte vårdgarantin ens om patienterna tas i turordning. Mörka randiga "
              "staplar: kliniker som behöver köpa vård enligt planen.",
        "en": "## Clinics by need\nRed escalation first, then yellow and green; within each colour the most "
              "patients projected over 90 days if nothing is bought. The purchases are the planning model's answer "
              "for each clinic, first visits and operations apart. The chart shows the queue-to-production ratio in the same order; the red line "
              "is 90 days of production: a clinic beyond it misses the guarantee even serving patients in turn. "
              "Dark hatched bars: clinics that must buy care in the plan.",
    },
    "region_purchase": {
        "sv": "## Köpt vård i regionen per månad\nSumman av klinikernas köp och kostnad de kommande 12 veckorna (den "
              "fastställda planen), nybesök och operationer var för sig.",
        "en": "## Purchased care in the region per month\nThe clinics' purchases and their cost over the coming 12 "
              "weeks (the fixed plan), first visits and operations apart.",
    },
    "region_gap": {
        "sv": "## Kapacitetsglapp per klinik och vecka\nBehov minus egen kapacitet (båda stegen) de kommande veckorna: "
              "rött = behovet är större än kapaciteten, blått = ledig kapacitet som kan ta emot patienter från andra "
              "sjukhus (gemensamma väntelistor).",
        "en": "## Capacity gap per clinic and week\nNeed minus own capacity (both stages) over the coming weeks: red = "
              "need above capacity, blue = spare capacity that could take patients from other hospitals (common "
              "waiting lists).",
    },
})


def latest_run(out_root: str | os.PathLike) -> Path:
    """The newest complete run folder under ``out_root`` (by name, which starts with the time)."""
    runs = sorted(p for p in Path(out_root).iterdir()
                  if p.is_dir() and (p / "manifest.json").exists() and not p.name.startswith("."))
    if not runs:
        raise FileNotFoundError(f"no complete run under {out_root}")
    return runs[-1]


SECTIONS.update({
    "forecast": {
        "sv": "## Prognos för inflödet\nRemisser per vecka de kommande 52 veckorna. Den streckade linjen är "
              "den mest sannolika nivån; de skuggade fälten visar osäkerheten: utfallet bör hamna i det mörkare "
              "fältet ungefär 4 veckor av 5 och i det ljusare 19 veckor av 20. Prognosen tar hänsyn till "
              "säsong, trend och helgdagar (en vecka med två röda dagar får färre remisser).",
        "en": "## Forecast of the inflow\nReferrals per week for the coming 52 weeks. The dashed line is the most "
              "likely level; the shaded bands show the uncertainty: the outcome should fall in the darker band "
              "about 4 weeks in 5 and in the lighter one 19 weeks in 20. The forecast accounts for season, "
              "trend and public holidays (a week with two public holidays gets fewer referrals).",
    },
})

_MODEL_WORDS = {
    "sv": {"seasonal_naive": "samma vecka i fjol", "profile": "säsongsprofil × nivå och trend",
           "ets": "exponentiell utjämning med säsong (ETS)", "combo": "medelvärdet av säsongsprofil och ETS",
           "mean": "medelvärdet senaste året", "auto": "automatiskt val"},
    "en": {"seasonal_naive": "the same week last year", "profile": "seasonal profile × level and trend",
           "ets": "exponential smoothing with season (ETS)", "combo": "the mean of seasonal profile and ETS",
           "mean": "the mean of the latest year", "auto": "automatic choice"},
}


def forecast_text(forecast: pd.DataFrame, accuracy: pd.DataFrame, *, language: str = "sv") -> str:
    """The forecast's model and its backtest accuracy in words, for one clinic.

    ``accuracy`` is :func:`kps_analysis.forecast.backtest` output with the model's method
    and ``seasonal_naive``; the sentence uses the weighted absolute percentage error
    (``wape``) over all horizons and the empirical coverage of the widest interval.

    Examples
    --------
    >>> fc = pd.DataFrame({"model": ["combo(profile,ets(A,Ad,M))"]})
    >>> acc = pd.DataFrame({"method": ["combo", "seasonal_naive"], "horizon": ["all", "all"],
    ...                     "wape": [0.061, 0.08], "coverage_95": [0.94, 0.9], "n": [52, 52]})
    >>> forecast_text(fc, acc)  # doctest: +NORMALIZE_WHITESPACE
    'Modell: medelvärdet av säsongsprofil och ETS. Provad på de senaste två åren var prognosen
    13 veckor framåt i genomsnitt 6 % fel (att jämföra med 8 % för samma vecka i fjol); utfallet
    låg inom det ljusare fältet 94 % av veckorna.'
    """
    from .forecast import method_of

    words = _MODEL_WORDS["sv" if language != "en" else "en"]
    label_ = str(forecast["model"].iloc[0])
    method = method_of(label_)
    chosen = label_.endswith(" [auto]")
    model = label_.removesuffix(" [auto]")
    rows = accuracy[accuracy["horizon"] == "all"].set_index("method")
    base = model.split("(")[0]
    if base == "combo" and "seasonal_naive" in model:
        name = ("the mean of the same week last year, seasonal profile and ETS" if language == "en" else
                "medelvärdet av samma vecka i fjol, säsongsprofil och ETS")
    else:
        name = words.get(base, words.get(method, model))
    if chosen:
        name += (" (chosen automatically by a backtest on the history)" if language == "en" else
                 " (valt automatiskt genom test på historiken)")
    if method not in rows.index:
        return f"Modell: {name}." if language != "en" else f"Model: {name}."
    own = rows.loc[method]
    cov_cols = sorted(c for c in rows.columns if c.startswith("coverage_"))
    cover = own[cov_cols[-1]] if cov_cols else float("nan")
    naive = rows["wape"].get("seasonal_naive", float("nan"))
    pct = lambda v: format_count(100 * v, language=language)  # noqa: E731
    if language == "en":
        text = (f"Model: {name}. Tested on the past two years, the forecast 13 weeks ahead was on average "
                f"{pct(own['wape'])} % off (against {pct(naive)} % for the same week last year); the outcome "
                f"fell within the lighter band {pct(cover)} % of the weeks.")
    else:
        text = (f"Modell: {name}. Provad på de senaste två åren var prognosen 13 veckor framåt i genomsnitt "
                f"{pct(own['wape'])} % fel (att jämföra med {pct(naive)} % för samma vecka i fjol); utfallet "
                f"låg inom det ljusare fältet {pct(cover)} % av veckorna.")
    return text


SECTIONS.update({
    "capacity": {
        "sv": "## Kapacitet mot behov\nTabellen: kapaciteten enligt resursparametrarna (mottagningstider, operationssalar, personal) bredvid det kliniken faktiskt har producerat under normala veckor, och vilken av dem planen bygger på. En skillnad över toleransen är en datakvalitetsfråga: stäm av parametrarna. Figuren: egen kapacitet per vecka (helgdagar och planerade neddragningar syns som dippar) mot det som behöver produceras för att ingen ska vänta över 90 dagar (egen produktion plus köp). Kapacitetsglappet är behovet minus kapaciteten, i patienter; det skuggade fältet köps.",
        "en": "## Capacity against need\nThe table: capacity from the resources parameters (slots, theatre sessions, staff) beside what the clinic has actually produced in normal weeks, and which of them the plan rests on. A difference beyond the tolerance is a data-quality finding: check the parameters. The figure: own capacity per week (holidays and planned closures show as dips) against what must be produced so that nobody waits over 90 days (own production plus purchase). The capacity gap is need minus capacity, in patients; the shaded area is bought.",
    },
    "purchase": {
        "sv": "## Köpt vård\nDet minsta antal hela patienter per månad som måste köpas av andra vårdgivare för att ingen ska vänta över 90 dagar, i samma turordning som den egna produktionen (de som annars skulle passera gränsen köps). Nybesök och operationer var för sig, med kostnaden jämfört med samma volym i egen regi och veckan då köpet senast måste beställas (ledtiden).",
        "en": "## Purchased care\nThe least number of whole patients per month that must be bought from other providers so that nobody waits over 90 days, in the same order as own production (those who would otherwise pass the limit are bought). First visits and operations apart, with the cost against the same volume in-house and the week by which the purchase must be ordered (the lead time).",
    },
    "plan": {
        "sv": "## Rullande produktionsplan\nPer vecka och steg: inflöde enligt prognosen, egen kapacitet, planerad egen produktion (aldrig över kapaciteten), köp, kön vid veckans slut och hur många som då har väntat över 90 dagar. De första 12 veckorna är fastställda: nästa körning behåller dem om de inte revideras. Hela planen (52 veckor, med vårdöverenskommelsens volym bredvid) finns i `plan.xlsx` och `tables/production_plan.csv`.",
        "en": "## Rolling production plan\nPer week and stage: forecast inflow, own capacity, planned own production (never above capacity), purchase, the queue at the week's end and how many have then waited over 90 days. The first 12 weeks are fixed: the next run keeps them unless they are revised. The whole plan (52 weeks, with the care agreement's volume beside it) is in `plan.xlsx` and `tables/production_plan.csv`.",
    },
    "follow_up": {
        "sv": "## Plan mot utfall\nProduktion och inflöde hittills i år mot plan och mot samma period i fjol. "
              "Avvikelser över gränserna eskaleras en nivå upp (grön: enheten, gul: kliniken, röd: divisionen; "
              "röd fyra veckor i rad: regionen).",
        "en": "## Plan against outcome\nProduction and inflow so far this year against plan and the same period "
              "last year. Deviations beyond the limits go one level up (green: unit, yellow: clinic, red: "
              "division; red four weeks running: region).",
    },
    "scenarios": {
        "sv": "## Scenarier\nVad händer under det kommande året om förutsättningarna ändras? Varje scenario räknas i samma planeringsmodell som planen (samma kö, turordning, vårdgaranti och ledtid); bara det scenariot ändrar skiljer. Första raden är planen.",
        "en": "## Scenarios\nWhat happens over the coming year if conditions change? Each scenario runs through the same planning model as the plan (the same queue, order, guarantee and lead time); only what the scenario changes differs. The first row is the plan.",
    },
})


def purchase_table(monthly: pd.DataFrame, *, language: str = "sv") -> pd.DataFrame:
    """Purchase per month, the guarantee and target policies side by side, with costs.

    ``monthly`` is :func:`kps_analysis.purchase.purchase_by_month` output for one clinic.
    """
    sv = language == "sv"
    names = {"guarantee": "Vårdgaranti" if sv else "Guarantee", "target": "Målnivå" if sv else "Target"}
    stages = {"new_visit": "Nybesök" if sv else "First visits", "treatment": "Operationer" if sv else "Operations"}
    t = monthly.groupby(["month", "policy", "stage"], as_index=False)[
        ["purchase", "cost_external_sek", "cost_internal_sek"]].sum()
    wide = t.pivot_table(index="month", columns=["policy", "stage"], values=["purchase", "cost_external_sek"],
                         aggfunc="sum", fill_value=0.0)
    out = pd.DataFrame(index=wide.index.astype(str))
    for policy in ("guarantee", "target"):
        for stage in ("new_visit", "treatment"):
            if ("purchase", policy, stage) in wide.columns:
                out[f"{names[policy]}: {stages[stage]}"] = [format_count(v, language=language)
                                                            for v in wide[("purchase", policy, stage)]]
        cost = wide["cost_external_sek"][policy].sum(axis=1) if policy in wide["cost_external_sek"].columns.get_level_values(0) else None
        if cost is not None:
            out[f"{names[policy]}: {'kostnad (kr)' if sv else 'cost (SEK)'}"] = [format_count(v, language=language) for v in cost]
    out.index.name = label("month", language)
    return out


def plan_table(plan: pd.DataFrame, *, weeks: int = 12, language: str = "sv") -> pd.DataFrame:
    """The first ``weeks`` of the production plan for the report (ISO week labels)."""
    sv = language == "sv"
    cols = {"period": label("week", language), "status": "Status",
            "planned_new_visits": label("planned_new_visits", language),
            "capacity_new_visits": "Kapacitet nybesök" if sv else "Capacity, first visits",
            "planned_operations": label("planned_operations", language),
            "capacity_operations": "Kapacitet operationer" if sv else "Capacity, operations",
            "purchase_operations": "Köp operationer" if sv else "Purchase, operations"}
    part = plan[plan["week_ahead"] <= weeks][[c for c in cols if c in plan.columns]].copy()
    part["period"] = period_labels(part["period"])
    part["status"] = part["status"].map({"fixed": "fastställd" if sv else "fixed",
                                         "planned": "preliminär" if sv else "planned"})
    for c in part.columns[2:]:
        part[c] = part[c].map(lambda v: format_count(v, language=language))
    return part.rename(columns=cols).set_index(label("week", language))


def follow_up_table(follow_up: pd.DataFrame, *, language: str = "sv") -> pd.DataFrame:
    """Year-to-date plan against outcome at the latest week, one row per measure."""
    sv = language == "sv"
    if follow_up.empty:
        return pd.DataFrame()
    last = follow_up[follow_up["period"] == follow_up["period"].max()]
    rows = []
    for r in last.itertuples(index=False):
        rows.append({
            ("Mått" if sv else "Measure"): label(r.measure, language),
            ("Plan hittills i år" if sv else "Plan, year to date"): format_count(r.cum_plan, language=language),
            ("Utfall hittills i år" if sv else "Actual, year to date"): format_count(r.cum_actual, language=language),
            ("Avvikelse %" if sv else "Deviation %"): format_count(r.cum_deviation_pct, language=language, decimals=1),
            ("Mot i fjol %" if sv else "Against last year %"): format_count(r.cum_vs_last_year_pct, language=language, decimals=1),
            "Status": status_word(r.status, language),
            ("Nivå" if sv else "Level"): status_word(r.level, language),
        })
    return pd.DataFrame(rows).set_index("Mått" if sv else "Measure")


def scenario_report_table(scenarios: pd.DataFrame, *, language: str = "sv") -> pd.DataFrame:
    """Scenarios side by side for one clinic: purchase need, cost and breaches against the baseline."""
    sv = language == "sv"
    out = pd.DataFrame({
        ("Scenario"): scenarios["description"].where(scenarios["description"].astype(str) != "",
                                                     "Nuläge" if sv else "Baseline"),
        ("Köpbehov" if sv else "Purchase need"): scenarios["purchase_need"].map(lambda v: format_count(v, language=language)),
        ("Kostnad (kr)" if sv else "Cost (SEK)"): scenarios["purchase_cost_sek"].map(lambda v: format_count(v, language=language)),
        ("Över 90 dagar utan köp" if sv else "Over 90 days without purchase"):
            scenarios["breaches"].map(lambda v: format_count(v, language=language)),
        ("Ändring köpbehov" if sv else "Change in purchase"):
            scenarios["purchase_need_change"].map(lambda v: format_count(v, language=language)),
    })
    return out.set_index("Scenario")


SECTIONS.update({
    "region_moves": {
        "sv": "## Flytta patienter eller köpa vård?\nKliniker som erbjuder samma vård (t.ex. de två ortopedklinikerna) "
              "kan dela väntelista. Den billigaste planen för regionen som håller vårdgarantin: egen produktion upp "
              "till kapaciteten, patienter flyttade till sjukhus med ledig kapacitet, och köpt vård för resten.",
        "en": "## Move patients or buy care?\nClinics offering the same care (e.g. the two orthopaedic clinics) can "
              "share a waiting list. The region's cheapest plan that keeps the guarantee: own production up to "
              "capacity, patients moved to hospitals with spare capacity, and purchased care for the rest.",
    },
})


def region_cost_text(optimised_sek: float, separate_sek: float, *, language: str = "sv") -> str:
    """One sentence comparing the regional plan's cost with the clinics' separate purchases.

    Examples
    --------
    >>> region_cost_text(900.0, 1000.0)
    'Gemensam planering kostar 900 kr de kommande 12 veckorna mot 1\\xa0000 kr om varje klinik köper för sig (100 kr mindre).'
    """
    saving = separate_sek - optimised_sek
    a, b, c = (format_count(v, language=language) for v in (optimised_sek, separate_sek, saving))
    if language == "en":
        return (f"Planning together costs SEK {a} over the coming 12 weeks against SEK {b} if every clinic buys "
                f"on its own (SEK {c} less).")
    return (f"Gemensam planering kostar {a} kr de kommande 12 veckorna mot {b} kr om varje klinik köper för sig "
            f"({c} kr mindre).")


def moves_table(moves: pd.DataFrame, *, language: str = "sv") -> pd.DataFrame:
    """Suggested moves between hospitals (:func:`kps_analysis.outlook.move_summary`)."""
    sv = language == "sv"
    if moves.empty:
        return pd.DataFrame({("Förslag" if sv else "Suggestion"): ["Inga flyttar behövs." if sv else "No moves needed."]})
    stages = {"new_visit": "nybesök" if sv else "first visit", "treatment": "behandling" if sv else "treatment"}
    return pd.DataFrame({
        ("Från" if sv else "From"): moves["clinic_from"],
        ("Till" if sv else "To"): moves["clinic_to"],
        ("Steg" if sv else "Stage"): moves["stage"].map(stages).fillna(moves["stage"]),
        ("Patienter" if sv else "Patients"): moves["patients"].map(lambda v: format_count(v, language=language)),
        ("Första veckan" if sv else "First week"): moves["first_week"],
    }).set_index("Från" if sv else "From")


SECTIONS.update({
    "monte_carlo": {
        "sv": "### Hur säkert är köpbehovet?\nPlanen räknas om i många tänkbara framtider: inflödet varierar inom prognosens osäkerhet och den egna produktionen som den historiskt har varierat mot plan (sjukfrånvaro, strykningar). Första tabellen: planerat köp de kommande 12 veckorna, köp som räcker i 50, 80 och 95 % av framtiderna, och chansen att ingen passerar 90 dagar med det planerade köpet under veckorna efter ledtiden. Andra tabellen: samma chans per månad (första månaden ligger inom ledtiden).",
        "en": "### How certain is the purchase need?\nThe plan is recomputed over many possible futures: inflow varies within the forecast's uncertainty and own production as it has varied against plan (sick leave, cancellations). First table: the planned purchase over the coming 12 weeks, the purchase that suffices in 50, 80 and 95 % of futures, and the chance that nobody passes 90 days with the planned purchase in the weeks after the lead time. Second table: the same chance per month (the first month lies within the lead time).",
    },
})


def monte_carlo_table(summary_frame: pd.DataFrame, *, language: str = "sv") -> pd.DataFrame:
    """Monte Carlo summary per stage (:func:`kps_analysis.scenario.monte_carlo`) for a report."""
    sv = language == "sv"
    out = pd.DataFrame({
        ("Steg" if sv else "Stage"): stage_names(summary_frame["stage"], language),
        ("Sannolikhet att ingen passerar 90 dagar" if sv else "Probability nobody passes 90 days"):
            summary_frame["p_no_breach"].map(lambda v: format_count(100 * v, language=language) + " %"),
    })
    for q in (50, 80, 95):
        col = f"purchase_p{q}"
        if col in summary_frame.columns:
            out[(f"Köp för {q} % säkerhet" if sv else f"Purchase for {q} % certainty")] = \
                summary_frame[col].map(lambda v: format_count(v, language=language))
    return out.set_index("Steg" if sv else "Stage")


# ============================================================================ periods in words
#: The period of a clinic's data in words, per language: (singular, plural, definite, short).
PERIOD_WORDS = {
    "week": {"sv": ("vecka", "veckor", "veckan", "v."), "en": ("week", "weeks", "the week", "wk")},
    "month": {"sv": ("månad", "månader", "månaden", ""), "en": ("month", "months", "the month", "")},
}


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


def period_word(kind: str, language: str = "sv", *, plural: bool = False, definite: bool = False) -> str:
    """The period word of a report: vecka/veckor/veckan or månad/månader/månaden (sv, en).

    Every text, axis and table label that names a period goes through this, so a
    monthly clinic's report says months everywhere and a weekly one weeks.

    Examples
    --------
    >>> period_word("week"), period_word("month", plural=True), period_word("month", "en", definite=True)
    ('vecka', 'månader', 'the month')
    """
    words = PERIOD_WORDS["month" if kind == "month" else "week"]["en" if language == "en" else "sv"]
    return words[2] if definite else words[1] if plural else words[0]


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
    p = period
    if not isinstance(p, pd.Period):
        text = str(period)
        try:
            if re.fullmatch(r"\d{4}-W\d{2}", text):
                p = pd.Period(pd.Timestamp.fromisocalendar(int(text[:4]), int(text[6:]), 1), freq="W-SUN")
            elif re.fullmatch(r"\d{4}-\d{2}", text):
                p = pd.Period(text, freq="M")
            else:
                p = pd.Period(text.split("/")[0], freq="W-SUN")
        except (ValueError, TypeError):
            return text
    sv = language != "en"
    if period_kind(p) == "month":
        name = _SV_MONTHS[p.month - 1] if sv else p.start_time.strftime("%b")
        return f"{name} {p.year}" if year else name
    iso = p.start_time.isocalendar()
    word = "v." if sv else "wk"
    return f"{word} {iso.week} {iso.year}" if year else f"{word} {iso.week}"


_SV_MONTHS = ("jan", "feb", "mar", "apr", "maj", "jun", "jul", "aug", "sep", "okt", "nov", "dec")


# ============================================================================ accessible tables
_TH = re.compile(r"<th(?=[\s>])(?![^>]*\bscope=)([^>]*)>")


def html_table(table: pd.DataFrame, caption: str, *, index: bool = True, periods: bool = False) -> str:
    """A report table as accessible HTML: a ``<caption>`` and ``scope`` on every header cell.

    Column headers get ``scope="col"``, row headers (the index) ``scope="row"``; the
    caption is user-visible text (escaped). Values are shown as they are (the report's
    tables are already formatted text). ``periods=True`` marks a table whose row headers
    are periods (``v. 49 2026``): the report's print style keeps them on one line.

    Examples
    --------
    >>> t = pd.DataFrame({"Värde": ["12"]}, index=pd.Index(["Kö"], name="Mått"))
    >>> out = html_table(t, "Nyckeltal")
    >>> "<caption>Nyckeltal</caption>" in out, 'scope="col"' in out, 'scope="row"' in out
    (True, True, True)
    """
    classes = "kps-table kps-period-rows" if periods else "kps-table"
    body = table.to_html(index=index, border=0, classes=classes, escape=True, na_rep="–")
    head, sep, rest = body.partition("</thead>")
    if sep:
        head = _TH.sub(r'<th scope="col"\1>', head)
        rest = _TH.sub(r'<th scope="row"\1>', rest)
        body = head + sep + rest
    else:
        body = _TH.sub(r'<th scope="col"\1>', body)
    return re.sub(r"(<table[^>]*>)", lambda m: f"{m.group(1)}<caption>{escape_text(caption)}</caption>", body,
                  count=1)
