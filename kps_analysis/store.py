"""The results of a run, stored once per clinic: compute once, render many.

``kps run`` computes every clinic's planning model in one pass
(:func:`kps_analysis.planning.plan_region`) and writes each clinic's part with
:func:`write_model` to ``<run>/<clinic>/model/`` as Parquet files; the clinic's notebook
reads it back with :func:`read_model` and only shows it. Run on its own (JupyterLab), the
notebook computes the same model for its one clinic through the same package call.

Files (one per :class:`kps_analysis.planning.PlanningModel` field; aggregates only, the
waiting list itself is not stored): ``settings``, ``flows``, ``capacity_check``, ``plan``,
``uncertainty_by_month``, ``uncertainty``, ``uncertainty_clinic``, ``follow_up``,
``figures``, ``history``, ``moves``, ``scenarios`` and ``forecast_<measure>``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from .planning import PlanningModel

__all__ = ["write_model", "read_model", "write_analytics", "read_analytics", "clinic_rows", "FRAMES"]

#: The model's frames stored per clinic (the waiting list is not: it is patient-level).
FRAMES = ("settings", "flows", "capacity_check", "plan", "uncertainty_by_month", "uncertainty", "follow_up",
          "figures", "history", "moves", "scenarios")


def _periods_typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns of Period objects (one clinic's part of a region that mixes weeks and months
    holds them as ``object``) as a Period dtype, which Parquet stores and reads back."""
    for col in frame.columns:
        values = frame[col]
        if values.dtype == object and len(values) and values.notna().any():
            given = values.dropna()
            if all(isinstance(v, pd.Period) for v in given) and len({v.freqstr for v in given}) == 1:
                frame[col] = pd.PeriodIndex(values.array, freq=given.iloc[0].freq) if values.notna().all() \
                    else pd.Series(pd.PeriodIndex([v if isinstance(v, pd.Period) else pd.NaT for v in values],
                                                  freq=given.iloc[0].freq), index=frame.index)
    return frame


def _write(frame: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    frame = _periods_typed(frame.copy())
    frame.attrs = {}
    frame.reset_index(drop=True).to_parquet(tmp, index=False)
    os.replace(tmp, path)


def write_model(model: PlanningModel, folder) -> Path:
    """Write one clinic's part of a planning model (``model.for_clinic(...)``) as Parquet files.

    Each file is written to a temporary name and renamed, so a reader never sees half a file.

    Parameters
    ----------
    model : PlanningModel
        The model, already restricted to one clinic.
    folder : path-like
        The folder to write (created if missing), e.g. ``<run>/<clinic>/model``.

    Returns
    -------
    pathlib.Path
        The folder.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name in FRAMES:
        frame = getattr(model, name)
        _write(frame if isinstance(frame, pd.DataFrame) else pd.DataFrame(), folder / f"{name}.parquet")
    clinic = model.uncertainty.attrs.get("clinic") if model.uncertainty is not None else None
    _write(clinic if clinic is not None else pd.DataFrame(), folder / "uncertainty_clinic.parquet")
    for measure, frame in model.forecasts.items():
        _write(frame, folder / f"forecast_{measure}.parquet")
    return folder


def read_model(folder) -> PlanningModel:
    """Read a clinic's planning model written by :func:`write_model`.

    Raises
    ------
    FileNotFoundError
        If the folder or one of its files is missing (the message names it).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no stored planning model (run `kps run`, or leave model_dir empty)")
    frames = {}
    for name in FRAMES:
        path = folder / f"{name}.parquet"
        if not path.is_file():
            raise FileNotFoundError(f"{path}: missing from the stored planning model")
        frames[name] = pd.read_parquet(path)
    unc = frames["uncertainty"]
    unc.attrs["clinic"] = pd.read_parquet(folder / "uncertainty_clinic.parquet")
    forecasts = {p.stem.removeprefix("forecast_"): pd.read_parquet(p)
                 for p in sorted(folder.glob("forecast_*.parquet"))}
    return PlanningModel(waiting=pd.DataFrame(), forecasts=forecasts, **frames)


def write_analytics(frames: dict, folder, clinic: str) -> Path:
    """Write one clinic's part of the run's analytics (:func:`kps_analysis.analytics.compute`)
    as ``analytics_<name>.parquet`` beside its model (each file atomically).

    Parameters
    ----------
    frames : dict name -> DataFrame
        The analytics of all clinics (long frames with a ``clinic`` column).
    folder : path-like
        The clinic's model folder.
    clinic : str
        The clinic whose rows are written.

    Returns
    -------
    pathlib.Path
        The folder.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, part in clinic_rows(frames, clinic).items():
        _write(part, folder / f"analytics_{name}.parquet")
    return folder


def clinic_rows(frames: dict, clinic: str) -> dict:
    """One clinic's rows of each of the run's analyses (:func:`write_analytics` writes them; a
    frame without a ``clinic`` column has none): name -> DataFrame."""
    return {name: frame[frame["clinic"] == clinic] if "clinic" in frame.columns else frame.iloc[:0]
            for name, frame in frames.items()}


def read_analytics(folder) -> dict:
    """The stored analytics of a clinic (:func:`write_analytics`): name -> DataFrame; empty
    when the folder holds none (a run of an older version, or a model written alone)."""
    folder = Path(folder)
    if not folder.is_dir():
        return {}
    return {p.stem.removeprefix("analytics_"): pd.read_parquet(p) for p in sorted(folder.glob("analytics_*.parquet"))}
