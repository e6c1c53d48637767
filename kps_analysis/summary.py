"""Headline figures of a clinic: the one-screen summary and ``tables/summary.csv``.

The columns are a contract (DESIGN.md section 5): ``clinic``,
``queue_production_ratio_weeks``, ``share_over_90_days``, ``projected_breaches_12w``,
``capacity_gap_12w``, ``purchase_need_12w``, ``purchase_cost_12w``, ``escalation``.
A figure whose analysis has not been run is NaN (shown as "–"), never a guess.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .queue import queue_production_ratio_frame

__all__ = ["HEADLINE_COLUMNS", "STAGES", "headline", "situation_measures"]

HEADLINE_COLUMNS = (
    "clinic",
    "queue_production_ratio_weeks",
    "share_over_90_days",
    "projected_breaches_12w",
    "capacity_gap_12w",
    "purchase_need_12w",
    "purchase_cost_12w",
    "escalation",
)

#: The two queues of the flow chain: queue column, production columns that empty it,
#: and the column counting those waiting over 90 days.
STAGES = {
    "new_visit": ("queue_new_visit", ("new_visits", "purchased_new_visits"), "waiting_over_90_new_visit"),
    "treatment": ("queue_treatment", ("operations_elective", "purchased_operations"), "waiting_over_90_treatment"),
}


def headline(weekly: pd.DataFrame, *, window_weeks: int = 4) -> pd.DataFrame:
    """One row per clinic of headline figures at each clinic's latest week.

    ``queue_production_ratio_weeks`` is the köproduktionskvot of the worse of the two
    stages (first visit, treatment): queue at the end of the latest week divided by the
    mean weekly production (own plus purchased) over the trailing ``window_weeks``,
    i.e. how many weeks of production are waiting. ``share_over_90_days`` is the share
    of all waiting patients (both stages) who have waited more than 90 days at that
    week's end (patients who chose to wait longer are not counted as over 90 days).

    Parameters
    ----------
    weekly : DataFrame
        Canonical weekly long frame (``clinic``, ``period`` and the stage columns that
        exist for the clinic; a visits-only clinic has no treatment stage).
    window_weeks : int
        Trailing window of the production average [weeks].

    Returns
    -------
    DataFrame
        ``HEADLINE_COLUMNS`` plus ``period`` (the latest week), per-stage ratios
        ``queue_production_ratio_weeks_new_visit`` / ``_treatment`` [weeks], the queues
        ``queue_new_visit``, ``queue_treatment`` and ``waiting_over_90`` [patients].
        Figures of analyses not yet run are NaN.

    Examples
    --------
    >>> p = pd.period_range("2024-01-01", periods=4, freq="W-SUN")
    >>> w = pd.DataFrame({"clinic": "a", "period": p, "queue_new_visit": [100.0] * 4,
    ...                   "new_visits": [20.0] * 4, "purchased_new_visits": [5.0] * 4,
    ...                   "waiting_over_90_new_visit": [0, 0, 0, 10.0]})
    >>> h = headline(w)
    >>> float(h.loc[0, "queue_production_ratio_weeks"]), float(h.loc[0, "share_over_90_days"])
    (4.0, 0.1)
    """
    if "clinic" not in weekly.columns or "period" not in weekly.columns:
        raise ValueError("weekly must have 'clinic' and 'period' columns")
    totals = weekly.groupby(["clinic", "period"], as_index=False, observed=True).sum(
        numeric_only=True, min_count=1)
    last = totals.groupby("clinic")["period"].transform("max") == totals["period"]
    out = totals.loc[last, ["clinic", "period"]].reset_index(drop=True)

    ratio_cols, queue_cols, over_cols = [], [], []
    for stage, (queue_col, production, over_col) in STAGES.items():
        if queue_col not in totals.columns or not any(c in totals.columns for c in production):
            continue
        ratios = queue_production_ratio_frame(
            totals, queue=queue_col, production=[c for c in production if c in totals.columns],
            window_weeks=window_weeks)
        latest = ratios.merge(out[["clinic", "period"]], on=["clinic", "period"])
        name = f"queue_production_ratio_weeks_{stage}"
        out = out.merge(latest[["clinic", "queue_production_ratio_weeks"]].rename(
            columns={"queue_production_ratio_weeks": name}), on="clinic", how="left")
        ratio_cols.append(name)
        queue_cols.append(queue_col)
        if over_col in totals.columns:
            over_cols.append(over_col)

    at_last = totals.loc[last].set_index("clinic")
    for col in queue_cols:
        out[col] = out["clinic"].map(at_last[col])
    out["queue_production_ratio_weeks"] = out[ratio_cols].max(axis=1, skipna=True) if ratio_cols else np.nan
    waiting = out[queue_cols].sum(axis=1, min_count=1) if queue_cols else pd.Series(np.nan, index=out.index)
    over = (at_last[over_cols].sum(axis=1, min_count=1).reindex(out["clinic"]).to_numpy()
            if over_cols else np.full(len(out), np.nan))
    out["waiting_over_90"] = over
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(waiting.to_numpy(dtype=float) > 0, over / waiting.to_numpy(dtype=float), np.nan)
    out["share_over_90_days"] = share
    for col in ("projected_breaches_12w", "capacity_gap_12w", "purchase_need_12w", "purchase_cost_12w"):
        out[col] = np.nan
    out["escalation"] = None
    first = list(HEADLINE_COLUMNS) + ["period"]
    return out[first + [c for c in out.columns if c not in first]]


def situation_measures(weekly: pd.DataFrame) -> list[str]:
    """The measures of the "where are we" section that the clinic actually reports.

    Inflow, production and queue per stage, in flow order, leaving out measures that
    are absent or never above zero (a visits-only clinic has no operations).

    Examples
    --------
    >>> w = pd.DataFrame({"referrals_in": [3.0], "new_visits": [2.0], "operations_elective": [0.0]})
    >>> situation_measures(w)
    ['referrals_in', 'new_visits']
    """
    order = ["referrals_in", "new_visits", "queue_new_visit", "operations_elective", "queue_treatment"]
    return [m for m in order if m in weekly.columns and (weekly[m].fillna(0) > 0).any()]
