"""Report helpers: the words of a report (sv default, en), number formatting, small-number
suppression, tables, sentences, markup and atomic writing of result tables.

One concept per module; every name is re-exported here, so ``from kps_analysis.report
import label`` and ``report.protect_counts`` work as they always have:

=================  =====================================================================
module             concept
=================  =====================================================================
``labels``         the translation catalogue (:data:`LABELS`, :data:`TEXTS`, :func:`label`)
``section_texts``  section headings and explanations (:data:`SECTIONS`, :func:`section`)
``formatting``     numbers and periods as text (:func:`format_count`, :func:`period_name`)
``markup``         escaping user text, the table of contents, accessible HTML tables
``suppression``    the small-number rule (:func:`protect_counts`) and where it applies
``tables``         a clinic's figures as report tables
``region``         the region overview's tables and sentences
``sentences``      title, provenance footer, the forecast in words
``files``          atomic writing of tables; reading a run's tables back
``plan``           the planning model's tables and sentences (also ``kps_analysis.report_plan``)
``outputs``        the table-file contract of a clinic run (also ``kps_analysis.report_plan``)
=================  =====================================================================

``plan`` and ``outputs`` are not re-exported here (``plan.plan_table`` and
``plan.purchase_table`` are the planning model's, not :func:`tables.plan_table`); import
them as ``kps_analysis.report.plan`` or through ``kps_analysis.report_plan``.
"""

from __future__ import annotations

from .files import atomic_path, latest_run, read_clinic_tables, write_excel, write_table
from .formatting import (
    data_period,
    format_against,
    format_count,
    format_share,
    format_signed,
    period_kind,
    period_labels,
    period_name,
)
from .labels import (
    LABELS,
    PERIOD_WORDS,
    STAGE_NAMES,
    STATUS_WORDS,
    TEXTS,
    label,
    measure_label,
    period_word,
    stage_names,
    status_word,
)
from .markup import TOC_SLOT, add_table_of_contents, escape_text, html_table
from .region import moves_table, region_cost_text, region_purchase_table, region_table
from .section_texts import SECTIONS, section
from .sentences import forecast_text, provenance_markdown, run_started, title_markdown
from .suppression import (
    STOCK_COLUMNS,
    Shown,
    headline_shown,
    plan_shown,
    protect_counts,
    protect_snapshot,
    share_text,
    snapshot_shown,
    suppress_small,
    suppress_tables,
    wait_summary_shown,
)
from .tables import (
    changes_table,
    finding_message,
    findings_table,
    follow_up_table,
    headline_table,
    load_table,
    monte_carlo_table,
    plan_table,
    purchase_table,
    rates_table,
    scenario_report_table,
    wait_summary_table,
    wait_table,
)

__all__ = [
    # labels and texts
    "LABELS", "TEXTS", "STATUS_WORDS", "STAGE_NAMES", "PERIOD_WORDS", "SECTIONS", "label", "measure_label",
    "status_word", "stage_names", "period_word", "section",
    # formatting
    "format_count", "format_signed", "format_against", "format_share", "period_labels", "period_kind", "period_name",
    "data_period",
    # markup
    "escape_text", "add_table_of_contents", "TOC_SLOT", "html_table",
    # suppression
    "suppress_small", "suppress_tables", "protect_counts", "protect_snapshot", "Shown", "STOCK_COLUMNS",
    "share_text", "wait_summary_shown", "headline_shown", "snapshot_shown", "plan_shown",
    # files
    "atomic_path", "write_table", "write_excel", "read_clinic_tables", "latest_run",
    # sentences
    "provenance_markdown", "title_markdown", "forecast_text", "run_started",
    # tables
    "headline_table", "wait_table", "changes_table", "finding_message", "findings_table", "wait_summary_table",
    "load_table",
    "rates_table", "purchase_table", "plan_table", "follow_up_table", "scenario_report_table", "monte_carlo_table",
    # region
    "region_table", "region_purchase_table", "region_cost_text", "moves_table",
]
