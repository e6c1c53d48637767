"""Files of a report run: atomic writing of result tables (CSV, xlsx) and reading a run's
tables back.

This module and :mod:`kps_analysis.batch` are the only places that write files for a
report; every writer here is atomic (write to a temporary file in the same folder,
then ``os.replace``), so an interrupted run never leaves a half-written table over a
good one.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from .formatting import period_labels


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


def read_clinic_tables(run_dir: str | os.PathLike, name: str) -> pd.DataFrame:
    """Concatenate ``<run_dir>/<clinic>/tables/<name>.csv`` of every clinic in a run.

    The region overview reads the clinics' result tables this way (aggregates only).
    Clinics without the table (a failed run) are skipped.
    """
    paths = sorted(Path(run_dir).glob(f"*/tables/{name}.csv"))
    if not paths:
        return pd.DataFrame()
    return pd.concat([pd.read_csv(p) for p in paths], ignore_index=True)


def latest_run(out_root: str | os.PathLike) -> Path:
    """The newest complete run folder under ``out_root`` (by name, which starts with the time)."""
    runs = sorted(p for p in Path(out_root).iterdir()
                  if p.is_dir() and (p / "manifest.json").exists() and not p.name.startswith("."))
    if not runs:
        raise FileNotFoundError(f"no complete run under {out_root}")
    return runs[-1]
