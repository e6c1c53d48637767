"""The table-file contract of a clinic run: the tables written under ``<clinic>/tables/``
(:data:`TABLE_FILES`), the production plan's columns, and reading the previous run's
plan back (documented in outputs/README.md).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .files import write_table
from .formatting import MONTH_LABEL
from .labels import label
from .suppression import snapshot_shown, suppress_tables
from .tables import finding_message

#: The tables a clinic run writes under ``tables/`` (the contract the index, the region
#: overview and other tools read; documented in outputs/README.md).
TABLE_FILES = ("summary", "week_changes", "weekly", "data_quality", "queue_production_ratio", "stage_loads",
               "forecast_referrals", "forecast_accuracy", "production_plan", "plan_history", "purchase_need",
               "capacity_gap", "capacity_check", "projected_breaches", "monte_carlo", "plan_vs_outcome", "scenarios",
               "flows", "moves")


#: Production-plan columns for tables and the workbook, in order.
PLAN_COLUMNS = ("clinic", "stage", "period_ahead", "period", "month", "fixed", "origin", "inflow", "capacity",
                "own_production", "purchase", "purchase_beyond_fixed", "order_by_period", "within_lead_time",
                "moved_in", "moved_out",
                "queue_start", "queue_end", "breaches_if_nothing_bought", "breaches_before_purchase",
                "breaches_after_purchase", "share_within_guarantee", "gap", "unused_capacity", "agreement",
                "cost_external_sek", "cost_internal_sek")


def plan_export_table(plan: pd.DataFrame) -> pd.DataFrame:
    """The production plan as written to ``tables/production_plan.csv`` (whole patients, documented columns)."""
    out = plan.copy()
    for col in ("moved_in", "moved_out", "purchase_beyond_fixed"):
        if col not in out.columns:
            out[col] = 0.0
    for col in ("inflow", "own_production", "purchase", "purchase_beyond_fixed", "queue_start", "queue_end",
                "breaches_if_nothing_bought", "breaches_before_purchase", "breaches_after_purchase", "moved_in",
                "moved_out"):
        out[col] = np.round(out[col].astype(float))
    for col in ("capacity", "gap", "unused_capacity"):
        out[col] = np.round(out[col].astype(float), 1)
    out["share_within_guarantee"] = np.round(out["share_within_guarantee"].astype(float), 4)
    return out[[c for c in PLAN_COLUMNS if c in out.columns]]


def previous_kind(table: pd.DataFrame) -> str | None:
    """``"W"`` or ``"M"``: whether a previous run's table holds weeks (``2026-W49``,
    ``2026-11-30/2026-12-06``) or months (``2026-12``) in ``period``; None when it holds
    neither (no period given).

    >>> previous_kind(pd.DataFrame({"period": ["2026-W49", "2026-W50"]}))
    'W'
    >>> previous_kind(pd.DataFrame({"period": ["2026-12"]}))
    'M'
    """
    text = table["period"].dropna().astype(str)
    text = text[text != ""]
    if text.empty:
        return None
    return "M" if text.str.fullmatch(MONTH_LABEL).all() else "W"


def read_previous(tables_dir, kind: str | None = None) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """The previous run's ``production_plan`` and ``plan_history`` tables of a clinic, or None each.

    ``tables_dir`` is the previous run's ``<clinic>/tables`` folder; an empty path or a
    missing file (the first run) gives None. ``kind`` (``"W"`` or ``"M"``, the clinic's
    periods now): a table in the other kind of period (the clinic's data went from weeks
    to months or back) gives None too, as a first run: fixed weeks cannot be kept as
    months, nor months as weeks (:func:`previous_kind`).
    """
    if not tables_dir:
        return None, None
    out = []
    for name, needed in (("production_plan", {"clinic", "stage", "period", "own_production", "purchase", "fixed"}),
                         ("plan_history", {"clinic", "stage", "period", "planned_own"})):
        path = Path(tables_dir) / f"{name}.csv"
        if not path.is_file():
            out.append(None)
            continue
        try:
            table = pd.read_csv(path)
        except pd.errors.EmptyDataError:  # an empty table of an earlier version
            out.append(None)
            continue
        if table.empty:
            out.append(None)
            continue
        if not needed <= set(table.columns):
            raise ValueError(f"{path}: not a {name} table (needs columns {', '.join(sorted(needed))})")
        if kind is not None and previous_kind(table) not in (None, kind):
            table = None   # the previous run planned in the other kind of period
        out.append(table)
    return out[0], out[1]


def write_clinic_tables(output_dir, model, *, headline, changes, weekly, findings, ratios, loads, accuracy,
                        scenarios, language: str = "sv", limit: int = 5, shown=None) -> None:
    """Write a clinic's result tables and ``plan.xlsx``, every number from its planning model.

    Files (:data:`TABLE_FILES`, each ``tables/<name>.csv``, written atomically, the machine
    contract, and beside it ``tables/<name>.xlsx`` for Excel in the report language,
    :func:`kps_analysis.workbook.write_table_xlsx`, suppressed counts as ``dolt``):
    ``production_plan`` is :func:`plan_export_table`; ``purchase_need`` the plan's weeks
    with ``policy = "guarantee"``; ``capacity_gap`` the plan's need, capacity and gap;
    ``projected_breaches`` its breaches before and after purchase; ``monte_carlo`` the
    purchase quantiles. No table has a row per patient. Counts of patients observed in the
    waiting list follow the report's suppression rule with ``limit``
    (:func:`kps_analysis.report.suppress_tables`; ``shown`` the report's
    :func:`snapshot_shown`, computed here from ``model`` when not given); the model's
    projections are exact.
    """
    from ..plan import export_plan_xlsx
    from ..planning import purchase_by_month
    from ..workbook import write_table_xlsx

    tables = Path(output_dir) / "tables"
    production_plan = plan_export_table(model.plan)
    plan = model.plan
    need = plan["own_production"] + plan["purchase"]
    out = {
        "summary": headline, "week_changes": changes, "weekly": weekly, "data_quality": findings,
        "queue_production_ratio": ratios, "stage_loads": loads,
        "forecast_referrals": model.forecasts.get("referrals_in", pd.DataFrame()), "forecast_accuracy": accuracy,
        "production_plan": production_plan, "plan_history": model.history,
        "purchase_need": production_plan.assign(policy="guarantee")[
            ["clinic", "stage", "period_ahead", "period", "month", "policy", "purchase", "order_by_period",
             "cost_external_sek", "cost_internal_sek"]],
        "capacity_gap": plan[["clinic", "stage", "period_ahead", "period", "capacity"]].assign(
            need=need, gap=plan["gap"]),
        "capacity_check": model.capacity_check,
        "projected_breaches": production_plan[["clinic", "stage", "period_ahead", "period",
                                               "breaches_if_nothing_bought", "breaches_after_purchase"]],
        "monte_carlo": model.uncertainty, "plan_vs_outcome": model.follow_up, "scenarios": scenarios,
        "flows": model.flows, "moves": model.moves if len(model.moves) else pd.DataFrame(
            columns=["clinic_from", "clinic_to", "stage", "period_ahead", "period", "patients", "saving_sek"]),
    }
    if shown is None:
        shown = snapshot_shown(model, headline, weekly=weekly[weekly["clinic"] == headline["clinic"].iloc[0]]
                               if "clinic" in weekly else weekly, limit=limit)
    out.update(suppress_tables(out, shown, limit=limit))
    for name in TABLE_FILES:
        write_table(out[name], tables / f"{name}.csv")
        table = out[name]
        if name == "data_quality" and "message" in table.columns and len(table):
            # Excel's copy in the report language, as the report shows it (the CSV keeps the validation's words)
            table = table.assign(message=table["message"].map(lambda m: finding_message(m, language)))
        write_table_xlsx(table, tables / f"{name}.xlsx", language=language)
    history = model.history
    if history.empty and "period" in plan.columns:   # no passed period yet: headed in the plan's periods
        history = history.astype({"period": plan["period"].dtype})
    export_plan_xlsx(production_plan, Path(output_dir) / "plan.xlsx",
                     tables={label('sheet.purchase_by_month', language): purchase_by_month(plan),
                             label("sheet.capacity", language): model.capacity_check,
                             label("sheet.plan_against_outcome", language): history,
                             label("sheet.follow_up", language): model.follow_up},
                     language=language)
