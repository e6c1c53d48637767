"""Tables and sentences of the planning model for the clinic report, and the table-file contract.

Kept so that ``kps_analysis.report_plan`` keeps working: the code lives in
:mod:`kps_analysis.report.plan` (tables and sentences), :mod:`kps_analysis.report.outputs`
(the table-file contract) and :mod:`kps_analysis.report.suppression` (what the report may
show of the waiting-list counts).
"""

from __future__ import annotations

from .report.outputs import PLAN_COLUMNS, TABLE_FILES, plan_export_table, read_previous, write_clinic_tables
from .report.plan import (
    KEY_FIGURES,
    aggregate_order_text,
    capacity_check_table,
    escalation_text,
    history_table,
    key_figure_texts,
    key_figures_table,
    lead_time_text,
    moves_text,
    plan_table,
    purchase_table,
    queue_change,
    scenario_table,
    uncertainty_purchase_table,
    uncertainty_table,
    value_text,
    verdict,
)
from .report.suppression import headline_shown, snapshot_shown

__all__ = ["KEY_FIGURES", "aggregate_order_text", "key_figures_table", "key_figure_texts", "value_text", "verdict",
           "escalation_text", "capacity_check_table", "plan_table", "purchase_table", "lead_time_text",
           "uncertainty_table",
           "uncertainty_purchase_table", "plan_export_table", "read_previous", "history_table",
           "write_clinic_tables", "TABLE_FILES", "PLAN_COLUMNS", "moves_text", "scenario_table", "headline_shown",
           "snapshot_shown", "queue_change"]
