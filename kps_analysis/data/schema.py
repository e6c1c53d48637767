"""The canonical schema: measure columns, extract columns, codes and default limits.

Part of :mod:`kps_analysis.data`; see its docstring for the canonical frames.
"""

from __future__ import annotations

import datetime as _dt

import numpy as np
import pandas as pd

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

DATE_COLUMNS = ("referral_date", "first_visit_date", "decision_date", "treatment_date", "removal_date")
_WEEK_FREQ = "W-SUN"
_GUARANTEE_DAYS = 90
_NEVER = np.int64(2**40)  # day number standing for "no date" (far beyond any real date)


def sorted_canonical(frame: pd.DataFrame, keys) -> pd.DataFrame:
    """``frame`` sorted by ``keys`` and ``period`` (stable), with a fresh index.

    A frame already in that order (as readers and exports write it) is returned as it
    is, without the copy a sort makes: a large frame is not held twice.

    Parameters
    ----------
    frame : pandas.DataFrame
        A canonical frame.
    keys : list of str
        ``["clinic"]`` or ``["clinic", "group"]``.

    Returns
    -------
    pandas.DataFrame
        Equal to ``frame.sort_values(keys + ["period"], kind="mergesort").reset_index(drop=True)``.

    Examples
    --------
    >>> f = pd.DataFrame({"clinic": ["b", "a", "a"], "period": pd.PeriodIndex(["2024-02", "2024-02", "2024-01"],
    ...                                                                       freq="M")})
    >>> sorted_canonical(f, ["clinic"])["clinic"].tolist()
    ['a', 'a', 'b']
    """
    columns = list(keys) + ["period"]
    if not _in_order(frame, columns):
        frame = frame.sort_values(columns, kind="mergesort")
    return frame.reset_index(drop=True)


def _in_order(frame: pd.DataFrame, columns) -> bool:
    """True when the rows are in ascending order of ``columns`` (compared in pandas' sort
    order: codes of the sorted distinct values; a missing value counts as out of order)."""
    if len(frame) < 2:
        return True
    equal = np.ones(len(frame) - 1, dtype=bool)  # pairs (i - 1, i) equal in the columns so far
    for c in columns:
        codes, _ = pd.factorize(frame[c], sort=True)
        step = np.diff(codes)
        if (codes < 0).any() or (equal & (step < 0)).any():
            return False
        equal &= step == 0
    return True
