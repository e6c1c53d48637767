"""Weekly CSV: a large weekly/monthly aggregate file read and validated, time and peak memory.

``kps validate FILE`` on a weekly CSV is :func:`kps_analysis.data.read_weekly` then
:func:`kps_analysis.data.validate`.  This benchmark writes a synthetic weekly CSV as a
region's reporting system exports it (Swedish Excel: ``;`` separator, decimal comma, UTF-8
with BOM; one row per clinic and ISO week, 14 measures; about 130 bytes a row) of a given
size, then reads and validates it in a fresh subprocess that reports its wall time and its
peak resident memory (``VmHWM``, the high-water mark of the resident set).

Usage::

    python -m benchmarks.bench_weekly_csv --megabytes 200 [--keep FILE]

Figures (2 shared cores) are in ``benchmarks/README.md`` (extract part) or the report of
the change that added this file.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

HEADER = ("Klinik;Vecka;Remisser in;Vidarebefordrade remisser;Nybesök;Återbesök;Behandlingsbeslut;"
          "Elektiva operationer;Akuta operationer;Vårddagar;Väntande nybesök;Väntande behandling;"
          "Väntat över 90 dagar nybesök;Väntat över 90 dagar behandling;Köpt vård nybesök;Lediga tider")
WEEKS = pd.period_range("2015-01-05", "2026-11-22", freq="W-SUN")  # 620 ISO weeks


def write_weekly_csv(path: Path, megabytes: float, *, seed: int = 1) -> int:
    """Write a weekly CSV of about ``megabytes`` MB; return its number of data rows.

    Clinics ``K00001``, ``K00002`` ... each report every week of :data:`WEEKS`; counts
    are Poisson draws around a clinic's level, bed days with one decimal (decimal comma).
    """
    rng = np.random.default_rng(seed)
    labels = np.array([f"{p.start_time.isocalendar()[0]}-W{p.start_time.isocalendar()[1]:02d}" for p in WEEKS])
    target = megabytes * 1e6
    rows = 0
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        f.write(HEADER + "\r\n")
        clinic = 0
        while f.tell() < target:
            clinic += 1
            n = len(WEEKS)
            level = rng.uniform(5, 200)
            counts = rng.poisson(level * np.array([1.0, 0.05, 0.9, 1.5, 0.4, 0.35, 0.1, 0, 8, 3, 0.5,
                                                   0.3, 0.05, 0.2])[:, None], size=(14, n))
            bed = np.round(rng.gamma(4, level / 2, size=n), 1)
            cols = [np.full(n, f"K{clinic:05d}"), labels] + [c.astype(str) for c in counts[:7]]
            cols += [np.char.replace(bed.astype(str), ".", ","), *(c.astype(str) for c in counts[8:])]
            f.write("\r\n".join(";".join(r) for r in zip(*cols)) + "\r\n")
            rows += n
    return rows


_CHILD = """
import json, sys, time, warnings
t0 = time.perf_counter()
from kps_analysis.data import read_weekly, validate
warnings.simplefilter("ignore")
t1 = time.perf_counter()
frame = read_weekly(sys.argv[1])
t2 = time.perf_counter()
findings = validate(frame, source=sys.argv[1])
t3 = time.perf_counter()
peak = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(json.dumps({"rows": len(frame), "findings": len(findings), "read_s": t2 - t1, "validate_s": t3 - t2,
                  "peak_mb": peak / 1024, "by_severity": findings["severity"].value_counts().to_dict()}))
"""


def measure(path: Path) -> dict:
    """Read and validate ``path`` in a fresh interpreter: rows, findings, seconds, peak MB."""
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", _CHILD, str(path)], capture_output=True, text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["wall_s"] = time.perf_counter() - start
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=200.0)
    parser.add_argument("--keep", type=Path, help="write the CSV here (and reuse it if it exists)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp) / "weekly_large.csv"
        if not path.exists():
            rows = write_weekly_csv(path, args.megabytes)
            print(f"wrote {path} ({os.path.getsize(path) / 1e6:.0f} MB, {rows:,} rows)")
        result = measure(path)
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
