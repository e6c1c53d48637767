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
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

__all__ = ["RegionInputs", "clinics_of", "read_inputs", "compute", "clinic_model"]


@dataclass
class RegionInputs:
    """What the region's planning pass reads: the clinics whose data could be read."""

    params: list                                    #: their loaded parameters, in the folder's order
    weekly: pd.DataFrame                            #: canonical long frame [patients per period]
    waiting_list: pd.DataFrame | None = None        #: patient-level extracts of those that have one
    fixed_plans: pd.DataFrame | None = None         #: the previous runs' production plans
    histories: pd.DataFrame | None = None           #: the previous runs' plan histories
    unreadable: list = field(default_factory=list)  #: clinics whose data could not be read


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
    weekly, extracts, params, plans, histories, unreadable = [], [], [], [], [], []
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
            try:
                plan, history = read_previous(tables)
            except (OSError, ValueError):
                plan = history = None
            plans += [plan] if plan is not None else []
            histories += [history] if history is not None else []

    def cat(frames):
        return pd.concat(frames, ignore_index=True) if frames else None

    return RegionInputs(params=params, weekly=cat(weekly) if weekly else pd.DataFrame(columns=["clinic", "period"]),
                        waiting_list=cat(extracts), fixed_plans=cat(plans), histories=cat(histories),
                        unreadable=unreadable)


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


def clinic_model(params, parameters_dir, data_dir, previous_tables=""):
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
    inputs = read_inputs(region, data_dir, previous)
    if params.clinic_id in inputs.unreadable:
        from .data import load_clinic

        load_clinic(params, data_dir)   # raises the data's own error
    model, frames = compute(inputs, report=[params.clinic_id])
    failed = (model.settings.attrs.get("failed") or {}) if len(model.settings) else {}
    if params.clinic_id in failed:
        raise ValueError(f"{params.clinic_id}: the planning model could not be made: {failed[params.clinic_id]}")
    cid = params.clinic_id
    own = {name: frame[frame["clinic"] == cid].reset_index(drop=True) for name, frame in frames.items()
           if "clinic" in frame.columns}
    return model.for_clinic(cid), own
