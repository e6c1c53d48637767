"""Extract: a patient-level waiting-list extract aggregated to weekly series, against DuckDB.

A synthetic extract of N rows (20 clinics, referrals over 400 weeks, written as Parquet
in pieces of a million rows, so that even 100 M rows are made in bounded memory; CSV too
with ``--extract-format csv``) is aggregated to the weekly flows and queues
(:data:`kps_analysis.data.DERIVED_MEASURES`) three ways, each in its own fresh
subprocess that reports its wall time and its peak resident memory (``VmHWM``):

* ``package``: :func:`kps_analysis.extract.aggregate_waiting_list`, reading in parts with
  every check of :func:`kps_analysis.data.read_waiting_list` (dates, order, priorities,
  duplicate ids ...);
* ``duckdb``: DuckDB's plain SQL for the same aggregation (one ``UNION ALL`` of the
  events per clinic and week, a ``GROUP BY``, cumulative sums as window functions), no
  checks: the baseline;
* ``whole`` (``--whole``; skipped above 20 M rows): the whole-frame path,
  ``weekly_from_waiting_list(read_waiting_list(file))``.

Runs are interleaved (duckdb, package, whole, then again in the other order) and the
medians give the ratios package/duckdb in time and peak memory, measured in the same
run.  The results are checked equal, measure by measure, clinic by clinic, week by week.
DuckDB is needed for the baseline only (``pip install duckdb``); the package does not
use it.

:func:`clinic_run` measures ``kps run``'s data stage (``load_clinic_data``) on a one-clinic
extract, read whole and in parts (the patients still waiting kept for the snapshot):
``python -c "from benchmarks.bench_extract import clinic_run; clinic_run(3_000_000)"``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

RESULTS = Path(__file__).parent / "results"
TODAY = "2026-11-23"
END = "2026-11-22"  # the last week: ISO week 2026-W47
PIECE_ROWS = 1_000_000

MEASURES = ("referrals_in", "referrals_forwarded", "removals_new_visit_other", "new_visits",
            "treatment_decisions", "removals_treatment_other", "operations_elective", "queue_new_visit",
            "queue_treatment", "waiting_over_90_new_visit", "waiting_over_90_treatment",
            "purchased_new_visits", "purchased_operations")

# DuckDB's plain SQL: every event of a row as (clinic, week, kind); counts per clinic,
# week and kind; queues as running sums of joins minus leaves.  Weeks are numbered from
# Monday 1970-01-05 (week 0), as the package numbers them.
DUCKDB_SQL = """
WITH d AS (
  SELECT clinic,
    (datediff('day', DATE '1970-01-05', CAST(referral_date AS DATE)) // 7) AS w_ref,
    (datediff('day', DATE '1970-01-05', CAST(first_visit_date AS DATE)) // 7) AS w_vis,
    (datediff('day', DATE '1970-01-05', CAST(decision_date AS DATE)) // 7) AS w_dec,
    (datediff('day', DATE '1970-01-05', CAST(treatment_date AS DATE)) // 7) AS w_trt,
    (datediff('day', DATE '1970-01-05', CAST(removal_date AS DATE)) // 7) AS w_rem,
    coalesce(removal_reason = 'forwarded', false) AS fwd,
    coalesce(CAST(external AS BOOLEAN), false) AS ext,
    coalesce(CAST(patient_chosen_wait AS BOOLEAN), false) AS chosen
  FROM {source}
), q AS (
  SELECT *, least(w_vis, w_rem) AS out_new,
    CASE WHEN w_dec IS NOT NULL AND least(w_trt, w_rem) IS NOT NULL
         THEN greatest(least(w_trt, w_rem), w_dec) END AS out_trt
  FROM d
), ev AS (
  SELECT clinic, w_ref AS week, 0 AS m FROM q
  UNION ALL SELECT clinic, w_dec, 1 FROM q WHERE w_dec IS NOT NULL
  UNION ALL SELECT clinic, w_rem, CASE WHEN w_vis IS NULL THEN (CASE WHEN fwd THEN 2 ELSE 3 END)
                                       WHEN w_dec IS NOT NULL AND w_trt IS NULL THEN 4 ELSE 5 END
            FROM q WHERE w_rem IS NOT NULL
  UNION ALL SELECT clinic, w_vis, CASE WHEN ext AND w_dec IS NULL THEN 7 ELSE 6 END FROM q WHERE w_vis IS NOT NULL
  UNION ALL SELECT clinic, w_trt, CASE WHEN ext THEN 9 ELSE 8 END FROM q WHERE w_trt IS NOT NULL
  UNION ALL SELECT clinic, out_new, 10 FROM q WHERE out_new IS NOT NULL
  UNION ALL SELECT clinic, out_trt, 11 FROM q WHERE out_trt IS NOT NULL
  UNION ALL SELECT clinic, w_ref + 13, 12 FROM q WHERE NOT chosen
  UNION ALL SELECT clinic, greatest(out_new, w_ref + 13), 13 FROM q WHERE NOT chosen AND out_new IS NOT NULL
  UNION ALL SELECT clinic, w_dec + 13, 14 FROM q WHERE NOT chosen AND w_dec IS NOT NULL
  UNION ALL SELECT clinic, greatest(out_trt, w_dec + 13), 15 FROM q WHERE NOT chosen AND out_trt IS NOT NULL
), c AS (
  SELECT clinic, week,
    count(*) FILTER (m = 0) AS n0, count(*) FILTER (m = 1) AS n1, count(*) FILTER (m = 2) AS n2,
    count(*) FILTER (m = 3) AS n3, count(*) FILTER (m = 4) AS n4, count(*) FILTER (m = 6) AS n6,
    count(*) FILTER (m = 7) AS n7, count(*) FILTER (m = 8) AS n8, count(*) FILTER (m = 9) AS n9,
    count(*) FILTER (m = 10) AS n10, count(*) FILTER (m = 11) AS n11, count(*) FILTER (m = 12) AS n12,
    count(*) FILTER (m = 13) AS n13, count(*) FILTER (m = 14) AS n14, count(*) FILTER (m = 15) AS n15
  FROM ev WHERE week <= {last} GROUP BY clinic, week
), g AS (
  SELECT clinic, unnest(range(min(w_ref), {last} + 1)) AS week FROM d GROUP BY clinic
), j AS (
  SELECT g.clinic, g.week, coalesce(n0, 0) n0, coalesce(n1, 0) n1, coalesce(n2, 0) n2, coalesce(n3, 0) n3,
    coalesce(n4, 0) n4, coalesce(n6, 0) n6, coalesce(n7, 0) n7, coalesce(n8, 0) n8, coalesce(n9, 0) n9,
    coalesce(n10, 0) n10, coalesce(n11, 0) n11, coalesce(n12, 0) n12, coalesce(n13, 0) n13,
    coalesce(n14, 0) n14, coalesce(n15, 0) n15
  FROM g LEFT JOIN c USING (clinic, week)
)
SELECT clinic, week,
  n0 AS referrals_in, n2 AS referrals_forwarded, n3 AS removals_new_visit_other, n6 AS new_visits,
  n1 AS treatment_decisions, n4 AS removals_treatment_other, n8 AS operations_elective,
  sum(n0 - n10) OVER w AS queue_new_visit, sum(n1 - n11) OVER w AS queue_treatment,
  sum(n12 - n13) OVER w AS waiting_over_90_new_visit, sum(n14 - n15) OVER w AS waiting_over_90_treatment,
  n7 AS purchased_new_visits, n9 AS purchased_operations
FROM j
WINDOW w AS (PARTITION BY clinic ORDER BY week ROWS UNBOUNDED PRECEDING)
ORDER BY clinic, week
"""


def _last_week() -> int:
    day = int(np.datetime64(END, "D").astype(np.int64))
    return (day - 4) // 7


def write_extract(path: Path, rows: int, *, fmt: str = "parquet", clinics: int = 20, seed: int = 7) -> Path:
    """A valid synthetic extract of ``rows`` rows, written a million rows at a time.

    Each piece comes from ``bench_scale.synthetic_extract`` (its own seed; every patient
    id unique over the file; removal reasons forwarded, declined or empty; 5 % external,
    3 % patient-chosen waits).
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from .bench_scale import synthetic_extract

    writer = None
    done = 0
    piece = 0
    try:
        while done < rows:
            n = min(PIECE_ROWS, rows - done)
            frame = synthetic_extract(n, clinics=clinics, seed=seed + piece)
            rng = np.random.default_rng(seed + 10_000 + piece)
            frame["patient_id"] = np.char.add("P", np.char.zfill(np.arange(done, done + n).astype(str), 9))
            removed = frame["removal_date"].notna().to_numpy()
            frame["removal_reason"] = np.where(removed, np.where(rng.random(n) < 0.3, "forwarded", "declined"), None)
            frame["external"] = rng.random(n) < 0.05
            frame["patient_chosen_wait"] = rng.random(n) < 0.03
            table = pa.Table.from_pandas(frame, preserve_index=False)
            if fmt == "parquet":
                if writer is None:
                    writer = pq.ParquetWriter(path, table.schema)
                writer.write_table(table)
            else:
                with open(path, "ab") as f:
                    pacsv.write_csv(table, f, write_options=pacsv.WriteOptions(include_header=piece == 0))
            done += n
            piece += 1
    finally:
        if writer is not None:
            writer.close()
    return path


# ---------------------------------------------------------------- the measured tasks (in a subprocess)
def _peak_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM"):
                return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _task(name: str, path: str, out: str, chunk_rows: int) -> dict:
    t0 = time.perf_counter()
    if name == "duckdb":
        import duckdb

        source = f"read_parquet('{path}')" if path.endswith(".parquet") else f"read_csv('{path}', header=true)"
        con = duckdb.connect()
        frame = con.execute(DUCKDB_SQL.format(source=source, last=_last_week())).df()
        rows = None
    else:
        import warnings

        warnings.simplefilter("ignore")
        if name == "package":
            from kps_analysis.extract import aggregate_waiting_list

            frame, rows = aggregate_waiting_list(path, today=TODAY, end=END, chunk_rows=chunk_rows,
                                                 max_bytes=10**13, return_rows=True)
        else:
            from kps_analysis import data

            extract = data.read_waiting_list(path, today=TODAY, max_bytes=10**13)
            rows = len(extract)
            frame = data.weekly_from_waiting_list(extract, end=END)
            del extract
        # week numbers as DuckDB's (Monday 1970-01-05 = 0)
        start = frame["period"].dt.start_time.to_numpy().astype("datetime64[D]").astype(np.int64)
        frame = frame.drop(columns="period").assign(week=(start - 4) // 7)
    seconds = time.perf_counter() - t0
    frame[["clinic", "week", *MEASURES]].to_parquet(out, index=False)
    return {"task": name, "seconds": seconds, "peak_mb": _peak_mb(), "rows": rows}


def _run_task(name: str, path: Path, tmp: Path, chunk_rows: int) -> tuple[dict, pd.DataFrame]:
    out = tmp / f"{name}.parquet"
    proc = subprocess.run([sys.executable, "-m", "benchmarks.bench_extract", name, str(path), str(out),
                           str(chunk_rows)], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parent.parent)
    if proc.returncode != 0:
        raise RuntimeError(f"{name} failed: {proc.stderr[-3000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    return result, pd.read_parquet(out)


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    key = ["clinic", "week"]
    a = a.sort_values(key).reset_index(drop=True)
    b = b.sort_values(key).reset_index(drop=True)
    assert a[key].astype(str).equals(b[key].astype(str)), "different clinics or weeks"
    for m in MEASURES:
        assert np.array_equal(a[m].to_numpy(np.float64), b[m].to_numpy(np.float64)), m


def run(*, rows: int = 10_000_000, repeat: int = 2, fmt: str = "parquet", whole: bool = True,
        extract_file: str | None = None, chunk_rows: int | None = None) -> dict:
    """Time and peak memory of the package against DuckDB's plain SQL, in one run."""
    from kps_analysis.extract import CHUNK_ROWS

    chunk_rows = chunk_rows or CHUNK_ROWS
    whole = whole and rows <= 20_000_000
    tasks = ["duckdb", "package"] + (["whole"] if whole else [])
    with tempfile.TemporaryDirectory(prefix="kps-bench-extract-") as tmp:
        tmp = Path(tmp)
        if extract_file:
            path = Path(extract_file)
            if not path.exists():
                t0 = time.perf_counter()
                write_extract(path, rows, fmt=fmt)
                print(f"wrote {path} ({rows:,} rows) in {time.perf_counter() - t0:.0f} s", flush=True)
        else:
            path = write_extract(tmp / f"extract.{fmt}", rows, fmt=fmt)
        measured: dict[str, list] = {t: [] for t in tasks}
        frames = {}
        for r in range(repeat):
            for name in (tasks if r % 2 == 0 else tasks[::-1]):
                result, frame = _run_task(name, path, tmp, chunk_rows)
                measured[name].append(result)
                frames[name] = frame
                print(json.dumps(result), flush=True)
        for name in tasks[1:]:
            _same(frames["duckdb"], frames[name])
        size_mb = path.stat().st_size / 1e6

    def median(name, field):
        return float(np.median([m[field] for m in measured[name]]))

    summary = {"benchmark": "extract", "rows": rows, "format": fmt, "file_mb": round(size_mb, 1),
               "chunk_rows": chunk_rows, "repeat": repeat, "cpus": os.cpu_count(),
               "load_average": [round(x, 1) for x in os.getloadavg()], "results_equal": True}
    for name in tasks:
        summary[f"{name}_seconds"] = round(median(name, "seconds"), 2)
        summary[f"{name}_peak_mb"] = round(median(name, "peak_mb"), 0)
    for name in tasks[1:]:
        summary[f"{name}_over_duckdb_time"] = round(median(name, "seconds") / median("duckdb", "seconds"), 2)
        summary[f"{name}_over_duckdb_memory"] = round(median(name, "peak_mb") / median("duckdb", "peak_mb"), 2)
    summary["runs"] = measured
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"extract_{rows}_{fmt}.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps({k: v for k, v in summary.items() if k != "runs"}, indent=2))
    return summary


def _clinic_task(how: str, folder: str) -> dict:
    """``kps run``'s data stage for one clinic of an extract (clinic ``c000``): read whole
    (``whole``) or in parts keeping the patients still waiting (``parts``)."""
    import warnings

    from kps_analysis.data import clinic, load_clinic_data, waiting_snapshot

    warnings.simplefilter("ignore")
    if how == "whole":
        clinic.STREAMED_EXTRACT_MIN_BYTES = 10**15
    t0 = time.perf_counter()
    data = load_clinic_data({"waiting_list": "extract.parquet"}, folder, clinic="c000", max_bytes=10**13)
    snap = waiting_snapshot(data.waiting_list, data.weekly["period"].max().end_time.normalize())
    seconds = time.perf_counter() - t0
    return {"task": f"clinic-{how}", "seconds": round(seconds, 1), "peak_mb": round(_peak_mb()),
            "weekly_rows": len(data.weekly), "extract_rows_kept": len(data.waiting_list), "waiting": len(snap),
            "weekly_sum": float(data.weekly.drop(columns=["clinic", "period"]).sum().sum())}


def clinic_run(rows: int = 3_000_000) -> list[dict]:
    """``load_clinic_data`` of a one-clinic extract of ``rows`` rows, whole and in parts,
    each in a fresh subprocess: seconds, peak resident memory, rows kept (equal counts)."""
    with tempfile.TemporaryDirectory() as tmp:
        write_extract(Path(tmp) / "extract.parquet", rows, clinics=1)
        results = []
        for how in ("whole", "parts"):
            proc = subprocess.run([sys.executable, "-m", "benchmarks.bench_extract", "clinic", how, tmp],
                                  capture_output=True, text=True, check=True,
                                  cwd=Path(__file__).resolve().parent.parent)
            results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
            print(json.dumps(results[-1]), flush=True)
    assert results[0]["weekly_sum"] == results[1]["weekly_sum"] and results[0]["waiting"] == results[1]["waiting"]
    return results


if __name__ == "__main__":
    if sys.argv[1] == "clinic":  # python -m benchmarks.bench_extract clinic whole|parts FOLDER
        print(json.dumps(_clinic_task(sys.argv[2], sys.argv[3])))
    else:  # one measured task: python -m benchmarks.bench_extract TASK FILE OUT CHUNK_ROWS
        task, file, out, chunk = sys.argv[1:5]
        print(json.dumps(_task(task, file, out, int(chunk))))
