"""Capacity from resources and the calendar, the production needed to meet the target, and the gap.

Three questions of capacity and production control (KPS; see docs/architecture.md):

* :func:`capacity_from_resources`: what can the clinic produce per week? A normal week's
  slots and theatre sessions (the parameter file's ``resources``), scaled by the week's
  working days (Swedish holidays, :func:`kps_analysis.calendar.working_days`), by the
  planned closures (summer, Christmas; day-weighted for a week partly closed) and, for
  visits, by the no-show rate; operations limited by theatre sessions or, where
  standard times and doctors are given, by the doctors' time (the binding resource).
* :func:`capacity_need`: what must it produce per week to meet the target? Clear the
  backlog above the target queue by a given week, then hold the target (the queue
  view, with the band that follows from the forecast interval); and the least
  production per week that keeps every patient within the guarantee limit (the
  guarantee view, from the waiting-time distribution).
* :func:`capacity_gap`: need minus capacity per week and stage, with its band and the
  resource that binds.

Frames are long: one row per ``clinic`` (and ``stage``) and week; every function works
for one clinic or for hundreds at once. Units: capacities and needs are flows
[patients/week] (per month for monthly periods); queues are stocks [patients].

References
----------
.. [1] Sveriges Kommuner och Regioner (SKR), Kapacitets- och produktionsstyrning i
   hälso- och sjukvården (KPS): forecast the need, compare with the capacity, plan
   production week by week.
.. [2] Hälso- och sjukvårdslagen (2017:30) 9 kap. 1 §, the care guarantee (90 days).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import sparse

from . import calendar as cal
from .queue import queue_for_share_within
from .seasonal import period_kind, periods_for_weeks
from .stages import STAGES
from .waits import ProjectionState, as_period_ahead, as_week_ahead, flow_period_days

__all__ = [
    "RESOURCE_KEYS",
    "ResourceFrames",
    "resources_frame",
    "capacity_from_resources",
    "capacity_by_stage",
    "capacity_need",
    "capacity_gap",
    "closure_shares",
    "per_series",
    "least_extra_service",
]

#: Resource keys of a clinic parameter file (``resources.*``), in the order of the frame.
RESOURCE_KEYS = (
    "new_visit_slots_per_week",
    "return_visit_slots_per_week",
    "theatre_sessions_per_week",
    "operations_per_session",
    "minutes_per_operation",
    "minutes_per_new_visit",
    "minutes_per_return_visit",
    "no_show_rate",
    "doctors_fte",
)
_REQUIRED = ("new_visit_slots_per_week", "return_visit_slots_per_week", "theatre_sessions_per_week",
             "no_show_rate")


class ResourceFrames(NamedTuple):
    """The resources of many clinics as frames (see :func:`resources_frame`).

    Unpacks as ``resources, closures = resources_frame(params)``.
    """

    resources: pd.DataFrame
    closures: pd.DataFrame


# ============================================================================= parameters
def resources_frame(params_list) -> ResourceFrames:
    """The ``resources`` and ``closures`` of loaded clinic parameters, as two frames.

    The boundary between parameter files and the capacity formulas, so a notebook makes
    one call: ``capacity_from_resources(resources_frame(ps), periods)`` (the closures
    travel with the frames); ``resources, closures = resources_frame(ps)`` unpacks them.

    Parameters
    ----------
    params_list : Parameters or iterable of Parameters
        Loaded parameters (:func:`kps_analysis.parameters.load_parameters`), one per
        clinic; any mapping with ``resources`` (and optional ``closures``,
        ``region_pool``) and a ``clinic_id`` attribute or ``clinic`` key works.

    Returns
    -------
    ResourceFrames
        ``resources``: one row per clinic with ``clinic``, ``region_pool`` (NA if
        none) and the keys of :data:`RESOURCE_KEYS` (NaN where not given) [per week,
        minutes, share, FTE]; ``closures``: one row per closure with ``clinic``,
        ``start``, ``end`` (datetime64, inclusive), ``capacity_share`` [share 0-1],
        ``label``.

    Raises
    ------
    ValueError
        If a clinic has no ``resources`` or no id.

    Examples
    --------
    >>> p = {"clinic": "a", "resources": {"new_visit_slots_per_week": 50, "return_visit_slots_per_week": 80,
    ...      "theatre_sessions_per_week": 9, "operations_per_session": 2.5, "no_show_rate": 0.04},
    ...      "closures": [{"start": "2026-06-29", "end": "2026-08-09", "capacity_share": 0.4}]}
    >>> r, c = resources_frame([p])
    >>> r[["clinic", "theatre_sessions_per_week"]].values.tolist(), c["capacity_share"].tolist()
    ([['a', 9.0]], [0.4])
    """
    if isinstance(params_list, Mapping):
        params_list = [params_list]
    rows, closures = [], []
    for p in params_list:
        clinic = getattr(p, "clinic_id", None) or (p.get("clinic") if isinstance(p, Mapping) else None)
        if not clinic:
            raise ValueError("params_list: every element needs a clinic id (clinic_id attribute or 'clinic' key)")
        res = p.get("resources") if isinstance(p, Mapping) else None
        if res is None:
            raise ValueError(f"params_list: clinic {clinic!r} has no 'resources'")
        row = {"clinic": str(clinic), "region_pool": p.get("region_pool") or pd.NA}
        for key in RESOURCE_KEYS:
            value = res.get(key)
            row[key] = np.nan if value is None else float(value)
        rows.append(row)
        for c in p.get("closures") or ():
            closures.append({"clinic": str(clinic), "start": pd.Timestamp(str(c["start"])),
                             "end": pd.Timestamp(str(c["end"])), "capacity_share": float(c["capacity_share"]),
                             "label": c.get("label") or ""})
    resources = pd.DataFrame(rows, columns=["clinic", "region_pool", *RESOURCE_KEYS])
    closure_frame = pd.DataFrame(closures, columns=["clinic", "start", "end", "capacity_share", "label"])
    closure_frame["start"] = pd.to_datetime(closure_frame["start"])
    closure_frame["end"] = pd.to_datetime(closure_frame["end"])
    closure_frame["capacity_share"] = closure_frame["capacity_share"].astype("float64")
    return ResourceFrames(resources, closure_frame)


# ============================================================================= capacity
def closure_shares(clinics: np.ndarray, periods: pd.PeriodIndex, closures: pd.DataFrame | None,
                   country: str = cal.DEFAULT_COUNTRY):
    """Working days and working-day-weighted closure share per clinic × period (2 arrays).

    Working days are Monday-Friday that are no public or de-facto holiday in ``country``
    (``"SE"``, or country and subdivision ``"GB-SCT"``, :func:`kps_analysis.calendar.holidays_of`).
    """
    first = periods.start_time.min().normalize()
    last = periods.end_time.max().normalize()
    days = pd.date_range(first, last, freq="D")
    code, subdivision = cal.check_region(country)
    off = cal.holidays_of(np.arange(days[0].year, days[-1].year + 1), country=code, subdivision=subdivision)["date"]
    working = np.asarray((days.day_of_week < 5) & ~days.isin(off), dtype=float)
    n_c, n_d = len(clinics), len(days)
    share = np.ones((n_c, n_d))
    if closures is not None and len(closures):
        for col in ("clinic", "start", "end", "capacity_share"):
            if col not in closures.columns:
                raise ValueError(f"closures: missing column {col!r}")
        cs = closures[closures["clinic"].astype(str).isin(set(clinics))]
        s_share = cs["capacity_share"].to_numpy(dtype=float)
        if np.any(~np.isfinite(s_share)) or np.any((s_share < 0) | (s_share > 1)):
            raise ValueError("closures: capacity_share must lie in [0, 1]")
        start = (pd.to_datetime(cs["start"]).to_numpy().astype("datetime64[D]")
                 - np.datetime64(first.date(), "D")).astype(np.int64)
        end = (pd.to_datetime(cs["end"]).to_numpy().astype("datetime64[D]")
               - np.datetime64(first.date(), "D")).astype(np.int64)
        if np.any(end < start):
            raise ValueError("closures: end lies before start")
        start, end = np.clip(start, 0, n_d), np.clip(end, -1, n_d - 1)
        length = np.maximum(end - start + 1, 0)
        c_idx = pd.Index(clinics).get_indexer(cs["clinic"].astype(str))
        rep = np.repeat(np.arange(len(cs)), length)
        day = start[rep] + (np.arange(length.sum()) - np.repeat(np.cumsum(length) - length, length))
        np.minimum.at(share, (c_idx[rep], day), s_share[rep])  # overlapping closures: the lower share
    unique = periods.unique().sort_values()
    pos = unique.get_indexer(days.to_period(periods.freq))
    keep = pos >= 0
    onehot = sparse.csr_matrix((working[keep], (np.flatnonzero(keep), pos[keep])), shape=(n_d, len(unique)))
    wd = np.asarray(onehot.sum(axis=0)).ravel()
    kept = np.asarray((sparse.csr_matrix(share) @ onehot).todense()) if n_c else np.zeros((0, len(unique)))
    with np.errstate(divide="ignore", invalid="ignore"):
        weighted = np.where(wd > 0, kept / np.where(wd > 0, wd, 1.0), 1.0)
    idx = unique.get_indexer(periods)
    return wd[idx], weighted[:, idx]


def capacity_from_resources(resources, periods, *, closures=None, hours_per_fte_week: float = 40.0,
                            elective_share_of_fte: float = 0.4, country: str = cal.DEFAULT_COUNTRY) -> pd.DataFrame:
    """Producible new visits, return visits and operations per clinic and period (week or month).

    For each clinic and period, with ``wd`` the working days of the period (Mon-Fri
    that are no public or de-facto holiday) and ``share`` the closure share (the
    ``capacity_share`` of the closures covering each working day, averaged over the
    period's working days; 1 where no closure; a week partly closed gets the
    day-weighted share):

        scale                 = wd / 5 · share                                   [-]
        new_visit_capacity    = new_visit_slots_per_week · scale · (1 − no_show_rate)
        return_visit_capacity = return_visit_slots_per_week · scale · (1 − no_show_rate)
        operation_capacity    = min(theatre, staff)                   [patients/period]
        theatre               = theatre_sessions_per_week · operations_per_session · scale
        staff                 = (doctors_fte · hours_per_fte_week · 60 · elective_share_of_fte
                                 − new_visit_slots · minutes_per_new_visit
                                 − return_visit_slots · minutes_per_return_visit)
                                / minutes_per_operation · scale

    ``staff`` is the operations the doctors' elective time leaves after the booked visit
    slots (no-shows occupy their slot); it is computed only where ``doctors_fte`` and
    all three standard times are given (NaN otherwise, and theatre binds). ``binding``
    names the resource that limits operations: ``"theatre"``, ``"staff"``, or
    ``"none"`` for a clinic without theatre sessions. A monthly period works the same
    way (``wd / 5`` normal weeks).

    Parameters
    ----------
    resources : DataFrame or ResourceFrames
        One row per clinic: ``clinic`` and the resource keys (:data:`RESOURCE_KEYS`;
        ``operations_per_session``, the minutes and ``doctors_fte`` optional)
        [per normal week, minutes, share 0-1, FTE]. A :class:`ResourceFrames` (from
        :func:`resources_frame`) brings its closures along.
    periods : PeriodIndex or list of Period
        Weeks (``W-SUN``) or months (``M``), the same for every clinic [period].
    closures : DataFrame, optional
        Planned reductions: ``clinic``, ``start``, ``end`` (inclusive dates),
        ``capacity_share`` (share of normal capacity kept, 0 = closed) [share 0-1].
        Overlapping closures of a clinic: the lower share counts.
    hours_per_fte_week : float
        Hours of one full-time doctor per normal week [hours/week].
    country : str, optional
        The clinics' calendar (``"SE"``, ``"NO"``, ``"GB-SCT"``): its public and de-facto
        holidays are no working days.
    elective_share_of_fte : float
        Share of a doctor's time available for elective visits and operations (the
        rest goes to emergencies, wards, on-call, administration) [share 0-1].

    Returns
    -------
    DataFrame
        One row per clinic and period: ``clinic``, ``period``, ``working_days``
        [days], ``capacity_share`` [share 0-1], ``new_visit_capacity``,
        ``return_visit_capacity``, ``operation_capacity``,
        ``operation_capacity_theatre``, ``operation_capacity_staff`` [patients/period:
        per week for weekly periods, per month for monthly ones], ``binding`` (str).

    Raises
    ------
    ValueError
        If a required resource column is missing, a value is negative, a no-show rate
        is not in [0, 1), theatre sessions are given without operations per session,
        a closure is malformed, or ``periods`` are not Periods.

    Examples
    --------
    50 new-visit slots, 4 % no-shows, 9 sessions × 2.5 operations: a normal week
    (2024-W12) gives 50 · 0.96 = 48 new visits and 22.5 operations; Easter week
    (2024-W13, 4 working days) 48 · 4/5 = 38.4 and 18.

    >>> r = pd.DataFrame({"clinic": ["a"], "new_visit_slots_per_week": [50.0],
    ...                   "return_visit_slots_per_week": [80.0], "theatre_sessions_per_week": [9.0],
    ...                   "operations_per_session": [2.5], "no_show_rate": [0.04]})
    >>> weeks = pd.PeriodIndex([pd.Period("2024-03-18", "W-SUN"), pd.Period("2024-03-25", "W-SUN")])
    >>> cap = capacity_from_resources(r, weeks)
    >>> cap[["working_days", "new_visit_capacity", "operation_capacity"]].round(6).values.tolist()
    [[5.0, 48.0, 22.5], [4.0, 38.4, 18.0]]
    """
    if isinstance(resources, ResourceFrames):
        if closures is None:
            closures = resources.closures
        resources = resources.resources
    if not isinstance(resources, pd.DataFrame):
        raise ValueError("resources must be a DataFrame (one row per clinic) or ResourceFrames")
    missing = [c for c in ("clinic", *_REQUIRED) if c not in resources.columns]
    if missing:
        raise ValueError(f"resources: missing column(s) {', '.join(missing)}")
    if resources["clinic"].duplicated().any():
        raise ValueError("resources: one row per clinic expected (duplicated clinic)")
    if not 0 <= elective_share_of_fte <= 1:
        raise ValueError(f"elective_share_of_fte must lie in [0, 1], got {elective_share_of_fte!r}")
    if hours_per_fte_week <= 0:
        raise ValueError(f"hours_per_fte_week must be positive, got {hours_per_fte_week!r}")
    try:
        index = pd.PeriodIndex(periods) if not isinstance(periods, pd.Series) else pd.PeriodIndex(periods.array)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"periods must be pandas Periods (W-SUN or M): {exc}") from None
    if len(index) == 0:
        raise ValueError("periods must not be empty")

    def col(name):
        if name not in resources.columns:
            return np.full(len(resources), np.nan)
        return pd.to_numeric(resources[name], errors="coerce").to_numpy(dtype=float)

    values = {k: col(k) for k in RESOURCE_KEYS}
    for k, v in values.items():
        if np.any(v < 0):
            raise ValueError(f"resources: {k} must not be negative")
    for k in _REQUIRED:
        if np.any(np.isnan(values[k])):
            raise ValueError(f"resources: {k} must be given for every clinic")
    no_show = values["no_show_rate"]
    if np.any(no_show >= 1):
        raise ValueError("resources: no_show_rate must lie in [0, 1)")
    sessions = values["theatre_sessions_per_week"]
    per_session = values["operations_per_session"]
    if np.any((sessions > 0) & np.isnan(per_session)):
        raise ValueError("resources: operations_per_session is required where theatre_sessions_per_week > 0")

    clinics = resources["clinic"].astype(str).to_numpy()
    wd, share = closure_shares(clinics, index, closures, country)
    scale = (wd / 5.0)[None, :] * share  # clinic × period
    nv_slots, rv_slots = values["new_visit_slots_per_week"], values["return_visit_slots_per_week"]
    theatre = np.where(sessions > 0, sessions * np.nan_to_num(per_session), 0.0)
    minutes = (values["doctors_fte"] * hours_per_fte_week * 60.0 * elective_share_of_fte
               - nv_slots * values["minutes_per_new_visit"] - rv_slots * values["minutes_per_return_visit"])
    with np.errstate(divide="ignore", invalid="ignore"):
        staff = np.maximum(minutes, 0.0) / values["minutes_per_operation"]  # NaN where data are missing
    operations = np.where(np.isnan(staff), theatre, np.minimum(theatre, staff))
    binding = np.where(sessions <= 0, "none", np.where(~np.isnan(staff) & (staff < theatre), "staff", "theatre"))

    n_c, n_p = len(clinics), len(index)
    out = pd.DataFrame({
        "clinic": np.repeat(clinics, n_p),
        "period": index[np.tile(np.arange(n_p), n_c)],
        "working_days": np.tile(wd, n_c).astype(float),
        "capacity_share": share.ravel(),
        "new_visit_capacity": ((nv_slots * (1 - no_show))[:, None] * scale).ravel(),
        "return_visit_capacity": ((rv_slots * (1 - no_show))[:, None] * scale).ravel(),
        "operation_capacity": (operations[:, None] * scale).ravel(),
        "operation_capacity_theatre": (theatre[:, None] * scale).ravel(),
        "operation_capacity_staff": (staff[:, None] * scale).ravel(),
        "binding": np.repeat(binding, n_p).astype(str),
    })
    out["clinic"] = out["clinic"].astype(str)
    return out


def capacity_by_stage(capacity: pd.DataFrame) -> pd.DataFrame:
    """Capacity per stage of the flow chain, long: the shape :func:`capacity_gap` and purchase use.

    ``new_visit`` ← ``new_visit_capacity`` (binding ``"visit_slots"``);
    ``treatment`` ← ``operation_capacity`` (binding as given: theatre/staff/none).

    Parameters
    ----------
    capacity : DataFrame
        Output of :func:`capacity_from_resources` [patients/week].

    Returns
    -------
    DataFrame
        ``clinic``, ``stage``, ``period``, ``capacity`` [patients/week], ``binding``;
        a clinic without theatre sessions has no ``treatment`` rows.

    Examples
    --------
    >>> c = pd.DataFrame({"clinic": "a", "period": pd.period_range("2024-01-01", periods=1, freq="W-SUN"),
    ...                   "new_visit_capacity": 48.0, "operation_capacity": 22.5, "binding": "theatre"})
    >>> capacity_by_stage(c)[["stage", "capacity", "binding"]].values.tolist()
    [['new_visit', 48.0, 'visit_slots'], ['treatment', 22.5, 'theatre']]
    """
    nv_col, tr_col = STAGES["new_visit"].capacity, STAGES["treatment"].capacity
    missing = [c for c in ("clinic", "period", nv_col, tr_col) if c not in capacity.columns]
    if missing:
        raise ValueError(f"capacity: missing column(s) {', '.join(missing)}")
    binding = capacity["binding"].astype(str) if "binding" in capacity.columns else pd.Series("theatre",
                                                                                              index=capacity.index)
    nv = pd.DataFrame({"clinic": capacity["clinic"].astype(str), "stage": "new_visit", "period": capacity["period"],
                       "capacity": capacity[nv_col].astype(float), "binding": "visit_slots",
                       "_o": 0})
    tr = pd.DataFrame({"clinic": capacity["clinic"].astype(str), "stage": "treatment", "period": capacity["period"],
                       "capacity": capacity[tr_col].astype(float), "binding": binding.to_numpy(),
                       "_o": 1})
    tr = tr[binding.to_numpy() != "none"]
    out = pd.concat([nv.reset_index(), tr.reset_index()], ignore_index=True)
    out = out.sort_values(["index", "_o"], kind="stable").drop(columns=["index", "_o"]).reset_index(drop=True)
    out["stage"] = out["stage"].astype(str)
    out["binding"] = out["binding"].astype(str)
    return out


# ============================================================================= need
def _series_keys(frame: pd.DataFrame) -> list[str]:
    return [c for c in ("clinic", "group", "stage") if c in frame.columns]


def _with_week_ahead(frame: pd.DataFrame, keys: list[str], name: str) -> pd.DataFrame:
    if "week_ahead" in frame.columns:
        return frame
    if "period" not in frame.columns:
        raise ValueError(f"{name}: needs a 'week_ahead' or a 'period' column")
    frame = frame.sort_values(keys + ["period"], kind="stable")
    return frame.assign(week_ahead=frame.groupby(keys, sort=False).cumcount() + 1)


def per_series(value, series: pd.DataFrame, keys: list[str], column: str, name: str) -> np.ndarray:
    """A per-series value from a scalar, a Series indexed by clinic, or a frame with keys + column."""
    if value is None:
        return np.full(len(series), np.nan)
    if isinstance(value, pd.DataFrame):
        if column not in value.columns:
            raise ValueError(f"{name}: missing column {column!r}")
        on = [k for k in keys if k in value.columns]
        if "clinic" not in on:
            raise ValueError(f"{name}: missing column 'clinic'")
        agg = value.groupby(on, as_index=False)[column].sum(min_count=1)
        return series[keys].merge(agg, on=on, how="left")[column].to_numpy(dtype=float)
    if isinstance(value, (pd.Series, Mapping)):
        s = pd.Series(value)
        return series["clinic"].map(s).to_numpy(dtype=float)
    try:
        return np.full(len(series), float(value))
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, a Series by clinic or a frame") from None


def _bound_columns(frame: pd.DataFrame, level) -> tuple[str | None, str | None]:
    if level is not None:
        lo, hi = f"lo_{level:g}" if isinstance(level, (int, float)) else f"lo_{level}", None
        hi = "hi" + lo[2:]
        if lo in frame.columns and hi in frame.columns:
            return lo, hi
    levels = sorted(c[3:] for c in frame.columns if c.startswith("lo_") and f"hi_{c[3:]}" in frame.columns)
    if not levels:
        return None, None
    return f"lo_{levels[0]}", f"hi_{levels[0]}"


def capacity_need(inflow: pd.DataFrame, queue_now=None, *, target_queue=None, clear_by=12,
                  guarantee_days: float = 90, target_share_within_guarantee: float = 0.95, level=80,
                  stage: str = "new_visit", waiting: pd.DataFrame | None = None, order: str = "fifo",
                  renege_rate_per_week: float = 0.0) -> pd.DataFrame:
    """Production per week needed to meet the target queue, and to keep every patient within the limit.

    Queue view (clear the backlog above the target queue by week ``clear_by``, then hold
    the target), per series (clinic [× group] × stage) and week ``t`` = 1..H:

        backlog   = max(0, queue_now − target_queue)                             [patients]
        need[t]   = inflow[t] + backlog / clear_by      for t <= clear_by
                    inflow[t]                           for t >  clear_by      [patients/week]

    ``need_lo``/``need_hi`` use the forecast's interval bounds instead of the mean
    inflow. The default target queue is the queue at which
    ``target_share_within_guarantee`` of patients wait at most ``guarantee_days``
    (:func:`kps_analysis.queue.queue_for_share_within`, at the mean inflow over the
    horizon; Little's law with exponential waits).

    Guarantee view (when ``waiting`` is given): ``need_guarantee[t]`` is the least
    production in week t such that no patient has waited more than ``guarantee_days``
    at the end of any week, week by week (the engine of
    :func:`kps_analysis.purchase.purchase_need`, guarantee policy, with no own capacity): with
    ``order="fifo"`` the cumulative production is the running maximum of the patients
    who would otherwise be over the limit, i.e. each patient is seen just in time.

    Parameters
    ----------
    inflow : DataFrame
        Forecast per series and week: ``clinic``, optional ``group``/``stage``
        (default ``stage``), ``week_ahead`` or ``period``, the mean inflow as ``mean``
        (as :func:`kps_analysis.forecast.forecast_demand`) or ``inflow`` (as
        :func:`kps_analysis.balance.naive_flows`), optional ``lo_<level>``/``hi_<level>``
        [patients/week].
    queue_now : number, Series by clinic, or DataFrame, optional
        Patients waiting now: a frame with the key columns and ``queue``; default the
        sum of ``waiting`` [patients].
    target_queue : number, Series by clinic, or DataFrame, optional
        Target queue size (frame column ``target_queue``) [patients].
    clear_by : int, date-like or Period
        Weeks to clear the backlog, or the week by which it is cleared [weeks].
    guarantee_days : float
        Guarantee limit [days].
    target_share_within_guarantee : float
        Share of patients to wait within the limit, for the default target [share 0-1].
    level : int, optional
        Interval level for ``need_lo``/``need_hi`` (e.g. 80: ``lo_80``/``hi_80``);
        the narrowest available if absent [%].
    stage : str
        Stage of ``inflow`` when it has no ``stage`` column.
    waiting : DataFrame, optional
        Who waits now (``clinic``, [``stage``, ``priority``], ``wait_days``,
        ``patients``), as for :func:`kps_analysis.waits.project_breaches`.
    order : {"fifo", "priority"}
        Serving order of the guarantee view.
    renege_rate_per_week : float
        Share of the waiting who leave untreated each week (guarantee view) [1/week].

    Returns
    -------
    DataFrame
        Key columns, ``week_ahead``, ``period`` (if given), ``inflow``, ``inflow_lo``,
        ``inflow_hi`` [patients/week], ``queue_now``, ``target_queue``, ``backlog``
        [patients], ``weeks_to_clear`` [weeks], ``need``, ``need_lo``, ``need_hi``
        and, with ``waiting``, ``need_guarantee`` [patients/week].

    Raises
    ------
    ValueError
        For missing columns, negative inflow or queue, ``clear_by`` before the first
        week, or no queue (neither ``queue_now`` nor ``waiting``).

    Examples
    --------
    Inflow 100 a week, 500 waiting, target 300, cleared in 4 weeks:
    100 + (500 − 300) / 4 = 150 a week for 4 weeks, then 100.

    >>> f = pd.DataFrame({"clinic": "a", "week_ahead": range(1, 7), "inflow": 100.0})
    >>> capacity_need(f, 500, target_queue=300, clear_by=4)["need"].tolist()
    [150.0, 150.0, 150.0, 150.0, 100.0, 100.0]
    """
    frame, keys, monthly, mean, lo, hi = _inflow_series(inflow, stage, level)
    days = frame["period_days"].to_numpy(dtype=float) if monthly else np.full(len(frame), 7.0)
    series = frame[keys].drop_duplicates().reset_index(drop=True)
    sid = frame[keys].merge(series.reset_index(), on=keys, how="left")["index"].to_numpy()
    queue = _queue_now(queue_now, waiting, series, keys)
    # the target queue takes the inflow per week, whatever the period: inflow · 7 / days
    mean_by_series = (np.bincount(sid, weights=mean * 7.0 / days if monthly else mean, minlength=len(series))
                      / np.bincount(sid, minlength=len(series)))
    target = _target_queue(target_queue, mean_by_series, series, keys, guarantee_days, target_share_within_guarantee)
    weeks = _weeks_to_clear(clear_by, frame, monthly)

    backlog = np.maximum(queue - target, 0.0)
    relief = np.where(frame["week_ahead"].to_numpy() <= weeks, backlog[sid] / weeks, 0.0)
    out = frame[keys + ["week_ahead"] + (["period"] if "period" in frame.columns else [])].copy()
    out["inflow"], out["inflow_lo"], out["inflow_hi"] = mean, lo, hi
    out["queue_now"], out["target_queue"], out["backlog"] = queue[sid], target[sid], backlog[sid]
    out["weeks_to_clear"] = float(weeks)
    out["need"], out["need_lo"], out["need_hi"] = mean + relief, lo + relief, hi + relief
    if waiting is not None:
        out = _with_need_guarantee(out, waiting, frame, keys, days if monthly else None, guarantee_days=guarantee_days,
                                   order=order, renege_rate_per_week=renege_rate_per_week)
    unit = "months" if monthly else "weeks"
    if weeks > out["week_ahead"].max():
        warnings.warn(f"clear_by ({weeks} {unit}) lies beyond the horizon ({out['week_ahead'].max()} {unit}): "
                      "the backlog is not cleared within it", stacklevel=2)
    if monthly:
        out.insert(out.columns.get_loc("week_ahead") + 1, "period_days", days.astype(np.int64))
        out = out.rename(columns={"weeks_to_clear": "periods_to_clear"})
    return as_period_ahead(out.reset_index(drop=True), monthly)


def _inflow_series(inflow: pd.DataFrame, stage: str, level):
    """:func:`capacity_need`'s inflow checked and sorted per series and week.

    Returns ``(frame, keys, monthly, mean, lo, hi)``: the inflow and its interval bounds
    at ``level`` (the mean without them) per row [patients/period].
    """
    if not isinstance(inflow, pd.DataFrame):
        raise ValueError("inflow must be a DataFrame")
    mean_col = "mean" if "mean" in inflow.columns else "inflow" if "inflow" in inflow.columns else None
    if mean_col is None or "clinic" not in inflow.columns:
        raise ValueError("inflow: needs 'clinic' and a 'mean' or 'inflow' column")
    frame = inflow.copy()
    if "stage" not in frame.columns:
        frame["stage"] = stage
    keys = _series_keys(frame)
    frame, monthly = as_week_ahead(frame)
    if not monthly and "week_ahead" not in frame.columns and "period" in frame.columns and len(frame):
        monthly = period_kind(frame["period"], "inflow") == "M"
        if monthly:
            frame = frame.assign(period_days=flow_period_days(frame))
    frame = _with_week_ahead(frame, keys, "inflow")
    frame = frame.sort_values(keys + ["week_ahead"], kind="stable").reset_index(drop=True)
    mean = frame[mean_col].to_numpy(dtype=float)
    if np.any(mean < 0):
        raise ValueError("inflow: the inflow must not be negative")
    lo_col, hi_col = _bound_columns(frame, level)
    lo = frame[lo_col].to_numpy(dtype=float) if lo_col else mean
    hi = frame[hi_col].to_numpy(dtype=float) if hi_col else mean
    return frame, keys, monthly, mean, lo, hi


def _queue_now(queue_now, waiting: pd.DataFrame | None, series: pd.DataFrame, keys: list) -> np.ndarray:
    """The queue now per series, from ``queue_now`` or counted in ``waiting`` [patients]."""
    if queue_now is None:
        if waiting is None:
            raise ValueError("queue_now: give the current queue (or waiting)")
        w = waiting.assign(patients=waiting["patients"] if "patients" in waiting.columns else 1.0)
        queue = per_series(w, series, keys, "patients", "waiting")
        queue = np.nan_to_num(queue)
    else:
        queue = per_series(queue_now, series, keys, "queue", "queue_now")
    if np.any(np.isnan(queue)):
        raise ValueError("queue_now: no queue for some series: "
                         f"{series[np.isnan(queue)].to_dict('records')[:3]}")
    if np.any(queue < 0):
        raise ValueError("queue_now must not be negative")
    return queue


def _target_queue(target_queue, mean_by_series: np.ndarray, series: pd.DataFrame, keys: list,
                  guarantee_days: float, share: float) -> np.ndarray:
    """The target queue per series: given, or the one served within the guarantee at ``share`` [patients]."""
    if target_queue is None:
        target = queue_for_share_within(mean_by_series, guarantee_days, share)
        target = np.asarray(target, dtype=float)
    else:
        target = per_series(target_queue, series, keys, "target_queue", "target_queue")
        if np.any(np.isnan(target)) or np.any(target < 0):
            raise ValueError("target_queue must be given (>= 0) for every series")
    return target


def _weeks_to_clear(clear_by, frame: pd.DataFrame, monthly: bool) -> int:
    """The periods in which the backlog is cleared: ``clear_by`` weeks (as months if monthly) or up to a date."""
    if isinstance(clear_by, (int, np.integer)) and not isinstance(clear_by, bool):
        weeks = periods_for_weeks(int(clear_by), "M") if monthly and clear_by >= 1 else int(clear_by)
    else:
        if "period" not in frame.columns:
            raise ValueError("clear_by: a date needs a 'period' column in inflow")
        first = frame["period"].min()
        try:
            target_period = pd.Period(clear_by, freq=first.freq) if not isinstance(clear_by, pd.Period) \
                else clear_by.asfreq(first.freq)
        except (TypeError, ValueError):
            raise ValueError(f"clear_by must be a number of weeks or a date, got {clear_by!r}") from None
        weeks = (target_period - first).n + 1
    if weeks < 1:
        raise ValueError(f"clear_by must be at least one week ahead, got {clear_by!r}")
    return weeks


def _with_need_guarantee(out: pd.DataFrame, waiting: pd.DataFrame, frame: pd.DataFrame, keys: list,
                         days: np.ndarray | None, *, guarantee_days: float, order: str,
                         renege_rate_per_week: float) -> pd.DataFrame:
    """``out`` with ``need_guarantee``: the least production that keeps every patient within the limit."""
    mean = out["inflow"].to_numpy()
    monthly = days is not None
    if "stage" not in waiting.columns:
        if frame["stage"].nunique() > 1:
            raise ValueError("waiting: needs a 'stage' column when inflow has several stages")
        waiting = waiting.assign(stage=frame["stage"].iloc[0])
    flows = out[keys + ["week_ahead"]].assign(inflow=mean, capacity=0.0)
    if monthly:
        flows["period_days"] = days.astype(np.int64)
    extra = least_extra_service(waiting, flows, guarantee_days=guarantee_days, tolerated=0.0, order=order,
                                renege_rate_per_week=renege_rate_per_week)
    out = out.merge(extra.rename(columns={"extra": "need_guarantee"}), on=keys + ["week_ahead"], how="left")
    out["need_guarantee"] = out["need_guarantee"].fillna(0.0)
    return out


# ============================================================================= guarantee engine
def least_extra_service(waiting: pd.DataFrame, flows: pd.DataFrame, *, guarantee_days: float = 90,
                         tolerated: float = 0.0, order: str = "fifo", renege_rate_per_week: float = 0.0,
                         arrival_priority_share=None, whole_patients: bool = False) -> pd.DataFrame:
    """Least service beyond ``capacity`` per series and week so that at most ``tolerated`` are over the limit.

    The week-by-week state of :func:`kps_analysis.waits.project_breaches` (same arrivals
    by day and priority mix, same serving order, same reneging), with, in every week k,
    the least total service ``s*`` for which the patients over the limit at the week's
    end are at most ``tolerated``: in the serving order (cells ``i`` with ``a_i``
    patients, ``o_i`` = 1 if over the limit at the week's end), the over-limit patients
    left after serving ``s`` are ``R(s) = Σ_i o_i · max(0, min(a_i, end_i − s))``, a
    non-increasing piecewise-linear function; ``s*`` is the first point where
    ``R(s) · (1 − renege) <= tolerated``; the extra service is ``max(0, s* − capacity)``.
    Periods may be weeks (``week_ahead``) or months (``period_ahead``, lengths from
    ``period_days`` or ``period``), as in :func:`kps_analysis.waits.project_breaches`.
    Returns ``keys``, ``week_ahead`` (or ``period_ahead``), ``extra`` [patients/period].
    """
    if not np.isfinite(tolerated) or tolerated < 0:
        raise ValueError(f"tolerated must be a number >= 0, got {tolerated!r}")
    if not guarantee_days > 0:
        raise ValueError(f"guarantee_days must be positive, got {guarantee_days!r}")
    ps = ProjectionState(waiting, flows.drop(columns="external", errors="ignore"), order=order,
                         renege_rate_per_week=renege_rate_per_week,
                         arrival_priority_share=arrival_priority_share)
    n_s, n_p, n_e, horizon = ps.n_s, ps.n_p, ps.n_e, ps.horizon
    keys, f, capacity = ps.keys, ps.frame, ps.capacity

    rows = np.arange(n_s)
    extra = np.zeros((n_s, horizon))
    for k in range(horizon):  # a recurrence: each period starts from the last one
        allowed = tolerated / (1.0 - ps.renege[k])  # over-limit left before reneging
        ps.arrive(k)
        flat = ps.state.reshape(n_s, n_p * n_e)
        over = np.tile(ps.age_at_end(k) > guarantee_days, n_p)
        oa = flat * over
        tail = np.cumsum(oa[:, ::-1], axis=1)[:, ::-1]
        after = np.concatenate([tail[:, 1:], np.zeros((n_s, 1))], axis=1)  # over-limit strictly after a cell
        end = np.cumsum(flat, axis=1)
        # round-off (below the 1e-9 that project_breaches rounds to) is not a patient over the limit
        j = np.argmax(after <= allowed + 1e-9, axis=1)  # the last cell is always True
        s_star = np.where(tail[:, 0] > allowed + 1e-9, end[rows, j] - (allowed - after[rows, j]), 0.0)
        need = np.maximum(s_star - capacity[:, k], 0.0)
        need = np.where(need < 1e-9, 0.0, need)
        if whole_patients:
            need = np.ceil(need - 1e-9)
        extra[:, k] = need
        service = capacity[:, k] + need
        before = end - flat
        served = np.clip(service[:, None] - before, 0.0, flat)
        flat = flat - served
        if renege_rate_per_week:
            flat = flat * (1.0 - ps.renege[k])
        ps.state = flat.reshape(n_s, n_p, n_e)
    out = f[keys + [ps.ahead]].reset_index(drop=True).copy()
    out["extra"] = extra.ravel()
    return out


# ============================================================================= gap
def capacity_gap(need: pd.DataFrame, capacity: pd.DataFrame) -> pd.DataFrame:
    """Capacity gap per series and week: need minus capacity, with its band and the binding resource.

        gap    = need    − capacity                                        [patients/week]
        gap_lo = need_lo − capacity,  gap_hi = need_hi − capacity
        gap_guarantee = need_guarantee − capacity   (when the guarantee view is given)

    A positive gap is production missing (to be found, moved or bought); negative is
    spare capacity.

    Parameters
    ----------
    need : DataFrame
        :func:`capacity_need` output (``clinic``, ``stage``, ``week_ahead`` and/or
        ``period``, ``need``, optional ``need_lo``, ``need_hi``, ``need_guarantee``)
        [patients/week].
    capacity : DataFrame
        Either :func:`capacity_from_resources` output (wide, by period) or a long
        frame with ``clinic``, ``stage``, ``period`` or ``week_ahead``, ``capacity``
        and optional ``binding`` [patients/week].

    Returns
    -------
    DataFrame
        The rows of ``need`` with ``need``, ``need_lo``, ``need_hi``, ``capacity``,
        ``gap``, ``gap_lo``, ``gap_hi`` [patients/week], ``binding`` and, when given,
        ``need_guarantee`` and ``gap_guarantee``. Weeks without capacity data get NaN
        capacity and gap.

    Raises
    ------
    ValueError
        For missing columns or no common week column.

    Examples
    --------
    >>> need = pd.DataFrame({"clinic": "a", "stage": "treatment", "week_ahead": [1, 2], "need": [25.0, 20.0]})
    >>> cap = pd.DataFrame({"clinic": "a", "stage": "treatment", "week_ahead": [1, 2], "capacity": 22.5,
    ...                     "binding": "theatre"})
    >>> capacity_gap(need, cap)[["gap", "binding"]].values.tolist()
    [[2.5, 'theatre'], [-2.5, 'theatre']]
    """
    for col in ("clinic", "need"):
        if col not in need.columns:
            raise ValueError(f"need: missing column {col!r}")
    if "capacity" not in capacity.columns:
        capacity = capacity_by_stage(capacity)
    if "clinic" not in capacity.columns:
        raise ValueError("capacity: missing column 'clinic'")
    need = need.copy()
    if "stage" not in need.columns:
        need["stage"] = "new_visit"
    on = [k for k in ("clinic", "group", "stage") if k in need.columns and k in capacity.columns]
    if "period" in need.columns and "period" in capacity.columns:
        time = "period"
    elif "week_ahead" in need.columns and "week_ahead" in capacity.columns:
        time = "week_ahead"
    elif "period_ahead" in need.columns and "period_ahead" in capacity.columns:
        time = "period_ahead"
    else:
        raise ValueError("need and capacity need a common 'period', 'week_ahead' or 'period_ahead' column")
    cols = on + [time, "capacity"] + (["binding"] if "binding" in capacity.columns else [])
    cap = capacity[cols].groupby(on + [time], as_index=False).agg(
        {"capacity": "sum", **({"binding": "first"} if "binding" in cols else {})})
    drop = [c for c in ("capacity", "binding", "gap", "gap_lo", "gap_hi", "gap_guarantee") if c in need.columns]
    out = need.drop(columns=drop).merge(cap, on=on + [time], how="left")
    for c in ("need_lo", "need_hi"):
        if c not in out.columns:
            out[c] = out["need"]
    out["gap"] = out["need"] - out["capacity"]
    out["gap_lo"] = out["need_lo"] - out["capacity"]
    out["gap_hi"] = out["need_hi"] - out["capacity"]
    if "need_guarantee" in out.columns:
        out["gap_guarantee"] = out["need_guarantee"] - out["capacity"]
    if "binding" not in out.columns:
        out["binding"] = "capacity"
    out["binding"] = out["binding"].fillna("unknown").astype(str)
    return out
