"""Patient-level waiting-list extracts at national scale: read in parts, aggregated in bounded memory.

The public face of :mod:`kps_analysis.data.extract_parts` (where the code lives, beside the
other readers): :func:`aggregate_waiting_list` streams an extract of any size in parts,
checked as :func:`kps_analysis.data.read_waiting_list` checks a whole one, and counts the
weekly or monthly flows and queues (:class:`PeriodCounts`); :func:`iter_waiting_list` yields
its parts as canonical frames; :func:`extract_or_aggregate` tells an extract from a
weekly/monthly aggregate file by its header, for ``kps validate FILE``.

Why Arrow and numpy rather than DuckDB: measured in ``benchmarks/bench_extract.py``
(figures in ``benchmarks/README.md``).
"""

from __future__ import annotations

from .data.derive import PeriodCounts, periods_from_waiting_list
from .data.extract_parts import CHUNK_ROWS, aggregate_waiting_list, extract_or_aggregate, iter_waiting_list

__all__ = ["aggregate_waiting_list", "periods_from_waiting_list", "extract_or_aggregate", "PeriodCounts",
           "iter_waiting_list", "CHUNK_ROWS"]
