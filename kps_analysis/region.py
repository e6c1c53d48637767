"""A clinic's region: the clinics planned with it, and their one planning model.

A clinic's plan depends on the other clinics of its region in two ways: its demand
forecast pools model choice, seasonal factors and interval calibration over the clinics
it can compare (:func:`kps_analysis.planning.region_forecasts`), and the moves of common
waiting lists shift patients between clinics' plans (:func:`kps_analysis.planning.region_moves`).
So the region is always planned whole: ``kps run`` for every clinic, ``kps run --clinic X``
and ``kps run --resume`` for the clinics they report, and the clinic notebook run on its
own in JupyterLab (:func:`clinic_model`) all call :func:`compute` on every clinic of the
parameter folder, and a clinic's report shows the same numbers whichever way it was made.

The region is the clinics of ``<parameters>/clinics`` whose parameters load and whose data
can be read; one that cannot is left out of every run alike (its own report says why).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

__all__ = ["RegionInputs", "clinics_of", "read_inputs", "compute", "clinic_model", "cache_key", "CACHE_KEEP"]

#: How many region models :func:`clinic_model` keeps in ``<outputs>/.model-cache`` (the newest).
CACHE_KEEP = 3


@dataclass
class RegionInputs:
    """What the region's planning pass reads: the clinics whose data could be read."""

    params: list                                    #: their loaded parameters, in the folder's order
    weekly: pd.DataFrame                            #: canonical long frame [patients per period]
    waiting_list: pd.DataFrame | None = None        #: patient-level extracts of those that have one
    fixed_plans: pd.DataFrame | None = None         #: the previous runs' production plans
    histories: pd.DataFrame | None = None           #: the previous runs' plan histories
    unreadable: list = field(default_factory=list)  #: clinics whose data could not be read
    #: clinics whose previous plan was in the other kind of period (weeks, now months): planned as a first run
    previous_dropped: list = field(default_factory=list)


def clinics_of(parameters_dir, given: Mapping | None = None) -> list:
    """The parameters of every clinic of the region, in ``kps list`` order.

    Parameters
    ----------
    parameters_dir : path
        The parameter folder (``defaults.yaml`` and ``clinics/``).
    given : mapping clinic id -> Parameters, optional
        Parameters already loaded (they are used as they are, not read again).

    Returns
    -------
    list of Parameters
        One per clinic whose parameters load; a clinic whose parameters are invalid is left
        out (``kps run`` reports it, and a region run plans without it too).
    """
    from .parameters import ParameterError, list_clinics, load_parameters

    given = dict(given or {})
    out = []
    for clinic_id in list_clinics(parameters_dir):
        if clinic_id in given:
            out.append(given.pop(clinic_id))
            continue
        try:
            out.append(load_parameters(clinic_id, parameters_dir))
        except ParameterError:
            continue
    return out + list(given.values())   # given clinics outside the folder (a test's own), last


def _load(job):
    """:func:`kps_analysis.data.load_clinic` of ``(params, data_dir)`` (for an executor): the
    clinic's data, or None when they cannot be read (its own report says why)."""
    from .data import load_clinic

    params, data_dir = job
    try:
        return load_clinic(params, data_dir)
    except Exception:  # noqa: BLE001 - reported by the clinic's own report, which loads the same files
        return None


def read_inputs(params_list: Iterable, data_dir, previous: Mapping | None = None, *,
                mapper: Callable = map) -> RegionInputs:
    """Read the region's data and its previous plans.

    Parameters
    ----------
    params_list : iterable of Parameters
        The region's clinics (:func:`clinics_of`).
    data_dir : path
        The data folder.
    previous : mapping clinic id -> path, optional
        Each clinic's previous run ``<clinic>/tables`` folder (its fixed plan is kept); a
        missing entry, None or an unreadable table: no previous plan.
    mapper : callable
        ``map`` or an executor's ``map``: the clinics' files are read on its processes.

    Returns
    -------
    RegionInputs
    """
    from .report_plan import read_previous

    params_list = list(params_list)
    previous = dict(previous or {})
    weekly, extracts, params, plans, histories, unreadable, dropped = [], [], [], [], [], [], []
    for p, clinic in zip(params_list, mapper(_load, [(p, data_dir) for p in params_list])):
        if clinic is None:
            unreadable.append(p.clinic_id)
            continue
        weekly.append(clinic.weekly)
        if clinic.waiting_list is not None:
            extracts.append(clinic.waiting_list)
        params.append(p)
        tables = previous.get(p.clinic_id)
        if tables:
            try:   # a previous plan in the other kind of period (weeks, now months) is not kept
                plan, history = read_previous(tables, kind=_kind_of(clinic.weekly))
                if plan is None and previous_dropped(tables, clinic.weekly):
                    dropped.append(p.clinic_id)
            except (OSError, ValueError):
                plan = history = None
            plans += [plan] if plan is not None else []
            histories += [history] if history is not None else []

    def cat(frames):
        return pd.concat(frames, ignore_index=True) if frames else None

    return RegionInputs(params=params, weekly=cat(weekly) if weekly else pd.DataFrame(columns=["clinic", "period"]),
                        waiting_list=cat(extracts), fixed_plans=cat(plans), histories=cat(histories),
                        unreadable=unreadable, previous_dropped=dropped)


def previous_dropped(tables, weekly: pd.DataFrame) -> bool:
    """True when a clinic's previous plan (its previous run's ``tables`` folder) is in the other
    kind of period than its data now (weeks, now months, or back), so that it is not kept and
    the clinic is planned as a first run (:func:`kps_analysis.report_plan.read_previous`).
    False without a previous plan, or with one that is kept. An unreadable folder: False
    (it is not kept either, as a first run)."""
    from .report_plan import read_previous

    if not tables:
        return False
    try:
        return read_previous(tables)[0] is not None and read_previous(tables, kind=_kind_of(weekly))[0] is None
    except (OSError, ValueError):
        return False


def _kind_of(weekly: pd.DataFrame) -> str | None:
    """``"W"`` or ``"M"``: the clinic's periods now (None when it has none)."""
    from .seasonal import period_kind

    try:
        return period_kind(weekly["period"]) if len(weekly) else None
    except (KeyError, ValueError):
        return None


def compute(inputs: RegionInputs, *, report: Iterable | None = None, executor=None, parts_hint: int = 0):
    """The region's planning model and the report's analytics, for every clinic at once.

    :func:`kps_analysis.planning.plan_region` over all the clinics of ``inputs`` (forecasts
    pooled, moves between them), then :func:`kps_analysis.analytics.compute`: the analyses
    that pool over clinics (:data:`kps_analysis.analytics.POOLED`) for all of them, the
    others for the clinics of ``report`` only.

    Parameters
    ----------
    inputs : RegionInputs
    report : iterable of str, optional
        The clinics whose reports are made (default: all).
    executor : concurrent.futures.Executor, optional
        Runs the forecasts, chunks and analyses on its processes; no number depends on it.
    parts_hint : int
        Chunks of clinics (the number of processes).

    Returns
    -------
    (PlanningModel, dict name -> DataFrame)
        The model of every clinic that could be planned (the others named with their error
        in ``model.settings.attrs["failed"]``), and the analytics (long frames by ``clinic``).
    """
    from . import analytics
    from .planning import plan_region

    model = plan_region(inputs.weekly, inputs.waiting_list, inputs.params, fixed_plans=inputs.fixed_plans,
                        histories=inputs.histories, executor=executor, parts_hint=parts_hint)
    planned = set(model.settings["clinic"])
    wanted = planned if report is None else planned & set(map(str, report))

    def of(ids, names):
        ps = [p for p in inputs.params if p.clinic_id in ids]
        if not ps:
            return {}
        return analytics.compute(inputs.weekly[inputs.weekly["clinic"].isin(ids)], ps, model, names=names,
                                 executor=executor, parts_hint=parts_hint)

    if wanted == planned:
        return model, of(planned, None)
    rest = [n for n in analytics.ANALYSES if n not in analytics.POOLED]
    frames = {**of(planned, list(analytics.POOLED)), **of(wanted, rest)}
    return model, frames


def _stat(path) -> str:
    try:
        st = Path(path).stat()
    except OSError:
        return f"{path}:missing"
    return f"{path}:{st.st_size}:{st.st_mtime_ns}"


def cache_key(region: list, data_dir, previous: Mapping, *, today=None) -> str:
    """The key of a region's planning model in the model cache (:func:`clinic_model`).

    Everything the model rests on: the package's code (its modules' sizes and times), every
    clinic's parameters (their hash), its data files and its previous tables (size and
    modification time, so a large extract is not read to be hashed), and the run date
    (the data's freshness is measured on it). Any change gives another key.
    """
    import hashlib

    from . import __version__
    from .data import DataError, checked_data_path

    digest = hashlib.sha256(__version__.encode())
    for module in sorted(Path(__file__).resolve().parent.rglob("*.py")):
        digest.update(_stat(module).encode())
    digest.update(str(pd.Timestamp(today or "today").date()).encode())
    for p in region:
        digest.update(f"|{p.clinic_id}:{p.hash}".encode())
        for key in ("weekly", "waiting_list"):
            rel = p.data.to_dict().get(key)
            if rel:
                try:
                    digest.update(_stat(checked_data_path(data_dir, rel, key=key)).encode())
                except (DataError, OSError):
                    digest.update(f"{key}:unreadable".encode())
        tables = previous.get(p.clinic_id)
        if tables:
            for name in ("production_plan.csv", "plan_history.csv"):
                digest.update(_stat(Path(tables) / name).encode())
    return digest.hexdigest()[:20]


def _cached(folder: Path, params, data_dir):
    """The clinic's model and analytics from a cached region (``folder``): its model and the pooled
    analyses as the region computed them, the clinic's own analyses computed here."""
    from . import analytics
    from .data import load_clinic
    from .store import read_analytics, read_model

    part = folder / params.clinic_id
    model, frames = read_model(part), read_analytics(part)
    rest = [n for n in analytics.ANALYSES if n not in analytics.POOLED]
    clinic = load_clinic(params, data_dir)
    frames.update(analytics.compute(clinic.weekly, [params], model, names=rest))
    return model, {name: frame[frame["clinic"] == params.clinic_id].reset_index(drop=True)
                   for name, frame in frames.items() if "clinic" in frame.columns}


def _store_region(root: Path, key: str, model, frames: dict) -> None:
    """Cache a region's model (every clinic's part, and the pooled analyses) as ``root/key``,
    atomically (a folder renamed into place), keeping the newest :data:`CACHE_KEEP`."""
    import os
    import shutil
    import tempfile

    from . import analytics
    from .store import write_analytics, write_model

    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".partial-", dir=root))
    try:
        pooled = {n: f for n, f in frames.items() if n in analytics.POOLED}
        for clinic in model.settings["clinic"].astype(str).unique():
            write_model(model.for_clinic(clinic), tmp / clinic)
            write_analytics(pooled, tmp / clinic, clinic)
        os.replace(tmp, root / key)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        return
    import time

    kept = sorted((d for d in root.iterdir() if d.is_dir() and not d.name.startswith(".")),
                  key=lambda d: d.stat().st_mtime, reverse=True)
    stale = [d for d in root.iterdir() if d.name.startswith(".partial-") and time.time() - d.stat().st_mtime > 3600]
    for old in kept[CACHE_KEEP:] + stale:   # the oldest regions, and folders an interrupted write left
        shutil.rmtree(old, ignore_errors=True)


def clinic_model(params, parameters_dir, data_dir, previous_tables="", *, cache_dir=None):
    """One clinic's planning model and pooled analytics, planned with its region (the notebook
    run on its own): the same numbers as the region's ``kps run`` report of the clinic.

    Parameters
    ----------
    params : Parameters
        The clinic's loaded parameters.
    parameters_dir : path
        The parameter folder: its clinics are the region.
    data_dir : path
        The data folder.
    previous_tables : path, optional
        The clinic's previous run ``<clinic>/tables`` folder: its fixed plan is kept, and the
        other clinics' fixed plans are read from the same run.
    cache_dir : path, optional
        Where planned regions are kept (:func:`cache_key`; default the environment's
        ``KPS_MODEL_CACHE``, else ``<outputs>/.model-cache`` beside the parameter folder;
        ``False``: no cache). Opening a second clinic of the same
        region, or the same clinic again, reads the region's model instead of planning it
        again (only the clinic's own analyses are computed): the same numbers, since every
        input of the model is in the key.

    Returns
    -------
    (PlanningModel, dict name -> DataFrame)
        The clinic's part of the region's model, and its analytics
        (:func:`kps_analysis.analytics.compute`; those of :data:`kps_analysis.analytics.POOLED`
        pooled over the region as in ``kps run``).

    Raises
    ------
    ValueError
        The clinic's previous tables are not such tables, or it could not be planned (the reason).
    """
    from .report_plan import read_previous

    read_previous(previous_tables)   # the clinic's own previous tables: a clear error if they are not
    run = Path(previous_tables).parent.parent if previous_tables else None
    region = clinics_of(parameters_dir, {params.clinic_id: params})
    previous = {p.clinic_id: run / p.clinic_id / "tables" for p in region if run is not None}
    if previous_tables:
        previous[params.clinic_id] = Path(previous_tables)
    import os

    cache_dir = cache_dir if cache_dir is not None else os.environ.get("KPS_MODEL_CACHE") or None
    root = None if cache_dir is False else Path(cache_dir) if cache_dir else \
        Path(parameters_dir).resolve().parent / "outputs" / ".model-cache"
    key = cache_key(region, data_dir, previous) if root is not None else ""
    if root is not None and (root / key / params.clinic_id / "settings.parquet").is_file():
        try:
            os.utime(root / key)   # the newest used are the ones kept
            return _cached(root / key, params, data_dir)
        except (OSError, ValueError, KeyError):
            pass   # a cache that cannot be read is planned again
    inputs = read_inputs(region, data_dir, previous)
    if params.clinic_id in inputs.unreadable:
        from .data import load_clinic

        load_clinic(params, data_dir)   # raises the data's own error
    model, frames = compute(inputs, report=[params.clinic_id])
    failed = (model.settings.attrs.get("failed") or {}) if len(model.settings) else {}
    if params.clinic_id in failed:
        raise ValueError(f"{params.clinic_id}: the planning model could not be made: {failed[params.clinic_id]}")
    if root is not None:
        _store_region(root, key, model, frames)
    cid = params.clinic_id
    own = {name: frame[frame["clinic"] == cid].reset_index(drop=True) for name, frame in frames.items()
           if "clinic" in frame.columns}
    # as the batch's stored model (store.read_model), without the aggregated waiting list: the report's
    # suppression rule then sees the same model whether it was planned here, read from the cache or stored
    return replace(model.for_clinic(cid), waiting=pd.DataFrame()), own
