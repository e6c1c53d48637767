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

The package holds one concept per module; this ``__init__`` re-exports the public names,
so ``from kps_analysis.data import read_weekly`` and ``data.validate(...)`` keep working:

* :mod:`~kps_analysis.data.schema`: canonical columns, codes and default limits;
* :mod:`~kps_analysis.data.headers`: accepted headers and how headers are matched;
* :mod:`~kps_analysis.data.errors`: :class:`DataError` and how a finding is worded;
* :mod:`~kps_analysis.data.files`: opening files (checks, formats, decoding) into tables of cells;
* :mod:`~kps_analysis.data.cells`: reading cells (texts, missing markers, numbers);
* :mod:`~kps_analysis.data.period_labels`: reading period labels (weeks, months, dates);
* :mod:`~kps_analysis.data.weekly`: :func:`read_weekly`;
* :mod:`~kps_analysis.data.waiting_list`: :func:`read_waiting_list`;
* :mod:`~kps_analysis.data.derive`: :class:`PeriodCounts`, :func:`weekly_from_waiting_list`,
  :func:`waiting_snapshot`;
* :mod:`~kps_analysis.data.validation`: :func:`validate`, :func:`raise_for_errors`;
* :mod:`~kps_analysis.data.clinic`: :func:`checked_data_path`, :func:`load_clinic_data`,
  :func:`load_clinic`.
"""

from __future__ import annotations

from .clinic import ClinicData, checked_data_path, load_clinic, load_clinic_data
from .derive import PeriodCounts, periods_from_waiting_list, waiting_snapshot, weekly_from_waiting_list
from .errors import DataError
from .headers import EXTRACT_ALIASES, HEADER_ALIASES, PERSONAL_ID_HEADERS, normalise_header
from .schema import (
    CONSERVATION_IDENTITIES,
    COUNT_MEASURES,
    DERIVED_MEASURES,
    EXTRACT_COLUMNS,
    FLOW_MEASURES,
    MAX_COUNT_PER_PERIOD,
    MAX_FILE_BYTES,
    MEASURES,
    PLAUSIBLE_FROM,
    PRIORITIES,
    REMOVAL_REASONS,
    STOCK_MEASURES,
)
from .validation import raise_for_errors, validate
from .waiting_list import read_waiting_list
from .weekly import read_weekly

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
