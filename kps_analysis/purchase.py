"""External purchase need and its cost; the cost-minimising regional allocation.

What the clinic cannot produce itself, in time, must be bought from another provider
(*köpt vård*) or moved to another hospital of the region with spare capacity (a common
waiting list, *gemensam väntelista*). The question (docs/architecture.md):

* :func:`purchase_need`: per series (clinic × stage) and week, how many patients must
  be bought, at contract price and against the in-house unit cost, under two policies:

  - ``"guarantee"``: the least purchase so that the projected number of patients past
    the guarantee limit (:func:`kps_analysis.waits.project_breaches` with the purchase
    as ``external``) is zero, or at most ``tolerated``, at the end of every week;
  - ``"target"``: the purchase that brings the queue to the target queue size by a
    given week and holds it there (the sustainable level).

* :func:`optimise_region`: across the clinics of a ``region_pool`` (the same care),
  own production up to each clinic's capacity, moves of patients between hospitals
  and external purchase, minimising cost subject to the guarantee (a linear programme
  solved by HiGHS through :func:`scipy.optimize.linprog`; whole patients come out of
  the same programme, a network matrix), with the capacities that bind and their
  shadow prices.

Helpers: :func:`guarantee_inputs` (who waits now and the coming flows, for many
clinics from the canonical data), :func:`prices_frame` (contract prices and internal
unit costs from parameters), :func:`purchase_by_month` (the monthly view).

Units: purchases, production and moves are flows [patients/week]; queues and
over-limit counts are stocks [patients]; prices [SEK/patient]; costs [SEK].

References
----------
.. [1] Hälso- och sjukvårdslagen (2017:30) 9 kap. 1 § and Hälso- och
   sjukvårdsförordningen (2017:80) 6 kap.: the care guarantee; a region that cannot
   give care in time must offer it from another provider at its own cost.
.. [2] Huangfu, Q. & Hall, J.A.J. (2018) Parallelizing the dual revised simplex
   method. Mathematical Programming Computation 10, 119-142 (HiGHS).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import optimize, sparse

from .balance import coming_flows
from .capacity import least_extra_service, per_series
from .data import waiting_snapshot
from .queue import queue_for_share_within
from .seasonal import periods_for_weeks
from .waits import (
    aggregate_classes,
    as_period_ahead,
    as_week_ahead,
    over_reported,
    project_breaches,
    projection_keys,
    renamed_keyword,
    waiting_from_aggregates,
)

__all__ = [
    "POLICIES",
    "prices_frame",
    "guarantee_inputs",
    "purchase_need",
    "purchase_by_month",
    "RegionPlan",
    "optimise_region",
]

#: Purchase policies of :func:`purchase_need`.
POLICIES = ("guarantee", "target")

#: Tie-breaking cost terms of :func:`optimise_region`, relative to the mean price: own
#: capacity used early, purchases and moves late, no move without need.
_EPS = 1e-5
_EPS_WEEK = 1e-6

#: The series keys of :func:`optimise_region`.
_REGION_KEYS = ["clinic", "stage"]

#: Parameter keys of the contract prices and internal unit costs per stage.
_PRICE_KEYS = {
    "new_visit": ("purchase_new_visit_sek", "internal_new_visit_sek"),
    "treatment": ("purchase_operation_sek", "internal_operation_sek"),
}
PRICE_KEYS = _PRICE_KEYS  # public: the planning model reads prices with the same keys


# ============================================================================= inputs
def prices_frame(params_list) -> pd.DataFrame:
    """Contract prices and internal unit costs of loaded clinic parameters, one row per clinic and stage.

    Parameters
    ----------
    params_list : Parameters or iterable of Parameters
        Loaded parameters (:func:`kps_analysis.parameters.load_parameters`); any mapping
        with ``prices`` and a ``clinic_id`` attribute or ``clinic`` key works.

    Returns
    -------
    DataFrame
        ``clinic``, ``stage`` ("new_visit", "treatment"), ``price_external_sek``
        (contract price of one patient bought), ``price_internal_sek`` (internal unit
        cost) [SEK/patient]; NaN where not given (e.g. operations of a visits-only clinic).

    Raises
    ------
    ValueError
        If a clinic has no id or no ``prices``.

    Examples
    --------
    >>> p = {"clinic": "uro", "prices": {"purchase_new_visit_sek": 2300, "internal_new_visit_sek": 2000,
    ...      "purchase_operation_sek": 40000, "internal_operation_sek": 34000}}
    >>> prices_frame([p])[["stage", "price_external_sek", "price_internal_sek"]].values.tolist()
    [['new_visit', 2300.0, 2000.0], ['treatment', 40000.0, 34000.0]]
    """
    if isinstance(params_list, Mapping):
        params_list = [params_list]
    rows = []
    for p in params_list:
        clinic = getattr(p, "clinic_id", None) or (p.get("clinic") if isinstance(p, Mapping) else None)
        if not clinic:
            raise ValueError("params_list: every element needs a clinic id (clinic_id attribute or 'clinic' key)")
        prices = p.get("prices") if isinstance(p, Mapping) else None
        if prices is None:
            raise ValueError(f"params_list: clinic {clinic!r} has no 'prices'")
        for stage, (ext, internal) in _PRICE_KEYS.items():
            rows.append({"clinic": str(clinic), "stage": stage,
                         "price_external_sek": _float_or_nan(prices.get(ext)),
                         "price_internal_sek": _float_or_nan(prices.get(internal))})
    out = pd.DataFrame(rows, columns=["clinic", "stage", "price_external_sek", "price_internal_sek"])
    return out.astype({"price_external_sek": float, "price_internal_sek": float})


def _float_or_nan(value) -> float:
    return np.nan if value is None else float(value)


def _price_arrays(prices, series: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """External and internal price per series from the accepted ``prices`` forms."""
    n = len(series)
    if prices is None:
        return np.full(n, np.nan), np.full(n, np.nan)
    if isinstance(prices, pd.DataFrame):
        for col in ("stage", "price_external_sek"):
            if col not in prices.columns:
                raise ValueError(f"prices: missing column {col!r}")
        on = [k for k in ("clinic", "stage") if k in prices.columns and k in series.columns]
        cols = on + ["price_external_sek"] + (["price_internal_sek"] if "price_internal_sek" in prices.columns
                                              else [])
        merged = series[[k for k in ("clinic", "stage") if k in series.columns]].merge(
            prices[cols].drop_duplicates(on), on=on, how="left")
        ext = merged["price_external_sek"].to_numpy(dtype=float)
        internal = merged["price_internal_sek"].to_numpy(dtype=float) if "price_internal_sek" in merged \
            else np.full(n, np.nan)
    elif isinstance(prices, Mapping):
        if any(k in prices for k in ("purchase_new_visit_sek", "purchase_operation_sek")):
            stage = series["stage"] if "stage" in series.columns else pd.Series("new_visit", index=series.index)
            ext = np.array([_float_or_nan(prices.get(_PRICE_KEYS.get(s, ("", ""))[0])) for s in stage])
            internal = np.array([_float_or_nan(prices.get(_PRICE_KEYS.get(s, ("", ""))[1])) for s in stage])
        else:  # clinic -> parameter-style mapping
            frame = prices_frame([{"clinic": c, "prices": v} for c, v in prices.items()])
            return _price_arrays(frame, series)
    else:
        try:
            ext = np.full(n, float(prices))
        except (TypeError, ValueError):
            raise ValueError("prices must be a DataFrame, a mapping of parameter prices or a number") from None
        internal = np.full(n, np.nan)
    if np.any(ext[np.isfinite(ext)] < 0) or np.any(internal[np.isfinite(internal)] < 0):
        raise ValueError("prices must not be negative")
    return ext, internal


def guarantee_inputs(weekly: pd.DataFrame, waiting_list: pd.DataFrame | None = None, *,
                     horizon_weeks: int = 12) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Who waits now and the coming weeks' inflow and own capacity, for many clinics at once.

    The inputs of :func:`purchase_need` and :func:`optimise_region` from canonical data,
    as :func:`kps_analysis.summary.projected_breaches` builds them: the waiting list at
    the end of the latest week from the patient-level extract where given
    (:func:`kps_analysis.data.waiting_snapshot`), otherwise reconstructed from the weekly
    aggregates (:func:`kps_analysis.waits.waiting_from_aggregates`); inflow and own
    capacity per stage from :func:`kps_analysis.balance.coming_flows` (same weeks last
    year, scaled by the recent trend).

    Parameters
    ----------
    weekly : DataFrame
        Canonical weekly frame of one or many clinics.
    waiting_list : DataFrame, optional
        Canonical patient-level extract of (some of) the clinics.
    horizon_weeks : int
        Weeks ahead [weeks].

    Returns
    -------
    (DataFrame, DataFrame)
        ``waiting``: ``clinic``, ``stage``, ``priority`` (for aggregate clinics
        :func:`kps_analysis.waits.aggregate_classes`),
        ``wait_days`` [days], ``patients`` [patients], ``patient_chosen_wait``;
        ``flows``: ``clinic``, ``stage``, ``week_ahead``, ``period``, ``inflow``,
        ``capacity`` [patients/week].
    """
    flows = coming_flows(weekly, horizon_weeks=horizon_weeks)
    patient_clinics = set(waiting_list["clinic"].unique()) if waiting_list is not None else set()
    parts = []
    for stage in ("new_visit", "treatment"):
        clinics = set(flows.loc[flows["stage"] == stage, "clinic"])
        agg = sorted(clinics - patient_clinics)
        if agg:
            w = waiting_from_aggregates(weekly[weekly["clinic"].isin(agg)], stage=stage)
            # those the data report over the limit are served after the others (waits.aggregate_classes)
            parts.append(w.assign(priority=aggregate_classes(w["wait_days"], reported=over_reported(weekly, stage),
                                                             clinic=w["clinic"]), patient_chosen_wait=False))
        pl = sorted(clinics & patient_clinics)
        if pl:
            last = weekly.loc[weekly["clinic"].isin(pl), "period"].max()
            snap = waiting_snapshot(waiting_list[waiting_list["clinic"].isin(pl)], last.end_time.normalize())
            snap = snap[snap["stage"] == stage]
            parts.append(snap.assign(patients=1.0)[["clinic", "stage", "priority", "wait_days", "patients",
                                                    "patient_chosen_wait"]])
    columns = ["clinic", "stage", "priority", "wait_days", "patients", "patient_chosen_wait"]
    waiting = (pd.concat([p[columns] for p in parts], ignore_index=True) if parts
               else pd.DataFrame(columns=columns))
    waiting["patient_chosen_wait"] = waiting["patient_chosen_wait"].astype(bool)
    return waiting, flows.reset_index(drop=True)


# ============================================================================= purchase need
def _week_month(periods: pd.Series) -> pd.Series:
    """Month of each period: a week belongs to the month of its Thursday (as ISO weeks to years)."""
    index = pd.PeriodIndex(periods.array)
    if index.freqstr == "M":
        return pd.Series(index, index=periods.index)
    return pd.Series((index.start_time + pd.Timedelta(days=3)).to_period("M"), index=periods.index)


@renamed_keyword("limit_days", "guarantee_days")
def purchase_need(waiting: pd.DataFrame, flows: pd.DataFrame, *, policy: str = "guarantee",
                  guarantee_days: float = 90, tolerated: float = 0, order: str = "fifo", target_queue=None,
                  target_by_week: int | None = None, target_share: float = 0.95, prices=None,
                  renege_rate_per_week: float = 0.0, arrival_priority_share=None, lead_time_weeks: int = 0,
                  whole_patients: bool = False) -> pd.DataFrame:
    """External purchase per series and week: the least that keeps the guarantee, or that holds the target queue.

    **guarantee** (``policy="guarantee"``): week by week, buy exactly the patients who
    would otherwise be past the limit at the end of the week (with ``order="fifo"``
    they are the oldest, so the purchase serves just them). Given own ``capacity`` and
    the purchases of earlier weeks, ``purchase[k]`` is the least for which

        over_limit[k] <= tolerated        (waits.project_breaches, external = purchase)

    so it is minimal week by week: one patient less in any week leaves one more over the
    limit in that week. With ``order="fifo"``, no reneging and a queue that does not
    run empty, the cumulative purchase has a closed form:

        Σ_{j<=k} purchase[j] = max_{i<=k} max(0, due[i] − Σ_{j<=i} capacity[j] − tolerated)

    where ``due[i]`` is the patients (now waiting or arriving) who would have waited
    more than ``guarantee_days`` by the end of week i [patients].

    **target** (``policy="target"``): bring the queue to ``target_queue`` by week
    ``target_by_week`` and hold it, with ``Q`` the queue at the start of week k:

        purchase[k] = max(0, inflow[k] − capacity[k] + (Q − target_queue) / max(1, target_by_week − k + 1))
        Q'          = max(0, Q + inflow[k] − capacity[k] − purchase[k]) · (1 − renege)   [patients/week]

    Both policies report the projection with the purchase as ``external``
    (:func:`kps_analysis.waits.project_breaches`): ``served``, ``queue`` and
    ``over_limit``; costs are the purchase times the contract price
    (``cost_external_sek``) and what the same volume would cost in-house
    (``cost_internal_sek``).

    Parameters
    ----------
    waiting : DataFrame
        Who waits now: ``clinic``, optional ``group``/``stage``/``priority``,
        ``wait_days`` [days] and ``patients`` [patients] (one row per patient if
        absent), optional ``patient_chosen_wait`` (left out, as nationally measured).
    flows : DataFrame
        Per series and future week: key columns, ``week_ahead`` (1..H), optional
        ``period``, ``inflow`` and own ``capacity`` [patients/week].
    policy : {"guarantee", "target"}
        Which purchase to compute.
    guarantee_days : float
        Guarantee limit; strictly longer waits count as over [days].
    tolerated : float
        Patients allowed over the limit at the end of each week (guarantee policy)
        [patients].
    order : {"fifo", "priority"}
        Serving order of own capacity and purchase: longest wait first (the order
        that needs the least purchase to keep a single limit, i.e. earliest due date
        first), or by medical priority, then longest wait. With ``"priority"`` the
        purchase is served in that order too, so it must reach past every patient of
        a higher priority still waiting before the one about to breach: the
        least *service* in that model, often far more than the breaching patients.
    target_queue : number, Series by clinic, or DataFrame, optional
        Target queue (frame column ``target_queue``); default the queue at which
        ``target_share`` wait within ``guarantee_days`` at the mean inflow
        (:func:`kps_analysis.queue.queue_for_share_within`) [patients].
    target_by_week : int, optional
        Week by which the target is reached; default 12 (or the horizon if shorter)
        [weeks].
    target_share : float
        Share within the limit for the default target queue [share 0-1].
    prices : DataFrame, mapping or number, optional
        :func:`prices_frame` output (``clinic``, ``stage``, ``price_external_sek``,
        ``price_internal_sek``), a parameter ``prices`` mapping applied to every clinic
        (or a mapping clinic -> such mapping), or one external price for all
        [SEK/patient]. Without prices the costs are NaN.
    renege_rate_per_week : float
        Share of those waiting who leave untreated each week [1/week].
    arrival_priority_share : mapping, optional
        Priority mix of arrivals (see :func:`kps_analysis.waits.project_breaches`).
    lead_time_weeks : int
        Weeks needed to arrange a purchase; ``decide_by_week = week_ahead −
        lead_time_weeks`` (0 or less: already late) [weeks].
    whole_patients : bool
        Round each week's purchase up to whole patients (still the least whole number).

    Returns
    -------
    DataFrame
        One row per series and week: key columns, ``week_ahead``, ``period`` and
        ``month`` (when ``flows`` has ``period``; a week counts to the month of its
        Thursday), ``policy``, ``inflow``, ``capacity``, ``purchase``, ``served``
        [patients/week], ``queue``, ``over_limit`` [patients], ``cost_external_sek``,
        ``cost_internal_sek`` [SEK], ``decide_by_week`` [weeks] and, for the target
        policy, ``target_queue`` [patients].

    Raises
    ------
    ValueError
        For an unknown ``policy`` or ``order``, negative flows, ``tolerated`` or
        prices, ``target_by_week`` < 1, or missing columns.

    Examples
    --------
    Inflow 100 and own capacity 90 a week, the queue at its target of 300: the target
    policy buys the 10 a week that capacity lacks, at 2,300 SEK each (23,000 SEK a week).

    >>> wait = pd.DataFrame({"clinic": "a", "wait_days": [10], "patients": [300.0]})
    >>> flows = pd.DataFrame({"clinic": "a", "week_ahead": [1, 2, 3], "inflow": 100.0, "capacity": 90.0})
    >>> r = purchase_need(wait, flows, policy="target", target_queue=300, prices=2300)
    >>> r[["purchase", "cost_external_sek", "queue"]].values.tolist()
    [[10.0, 23000.0, 300.0], [10.0, 23000.0, 300.0], [10.0, 23000.0, 300.0]]

    The guarantee policy, the same flows, 50 patients at 85 days: own capacity serves
    the 50 in week 1 (longest wait first), the newer patients stay within 90 days, so
    nothing is bought.

    >>> wait = pd.DataFrame({"clinic": "a", "wait_days": [85], "patients": [50.0]})
    >>> purchase_need(wait, flows)["purchase"].tolist()
    [0.0, 0.0, 0.0]
    """
    flows, monthly, keys, lead_time_weeks, target_by_week = _check_purchase_inputs(
        waiting, flows, policy, order, lead_time_weeks, target_by_week)
    series, grid, inflow, capacity = _series_grid(flows, keys)
    n_s, horizon = inflow.shape
    if policy == "guarantee":
        extra = least_extra_service(waiting, grid, guarantee_days=guarantee_days, tolerated=float(tolerated),
                                    order=order, renege_rate_per_week=renege_rate_per_week,
                                    arrival_priority_share=arrival_priority_share, whole_patients=whole_patients)
        purchase = grid[keys + ["week_ahead"]].merge(extra, on=keys + ["week_ahead"], how="left")["extra"]
        purchase = purchase.fillna(0.0).to_numpy()
        target = None
    else:
        days = (grid["period_days"].to_numpy(dtype=float).reshape(n_s, horizon) if "period_days" in grid.columns
                else np.full((n_s, horizon), 7.0))
        renege = 1.0 - (1.0 - renege_rate_per_week) ** (days[0] / 7.0) if monthly else renege_rate_per_week
        purchase, target = _target_purchase(waiting, series, keys, inflow, capacity, target_queue=target_queue,
                                            target_by_week=target_by_week, target_share=target_share,
                                            guarantee_days=guarantee_days, renege=renege,
                                            whole_patients=whole_patients, days=days)
        purchase = purchase.ravel()

    return _purchase_frame(waiting, grid, series, keys, purchase, target, policy=policy, monthly=monthly,
                           guarantee_days=guarantee_days, order=order, renege_rate_per_week=renege_rate_per_week,
                           arrival_priority_share=arrival_priority_share, prices=prices,
                           lead_time_weeks=lead_time_weeks)


def _check_purchase_inputs(waiting: pd.DataFrame, flows: pd.DataFrame, policy: str, order: str, lead_time_weeks,
                           target_by_week):
    """:func:`purchase_need`'s inputs checked; ``(flows, monthly, keys, lead_time, target_by)`` in its periods.

    Monthly flows are planned in the same steps, each month its own days: spans given in
    weeks (``lead_time_weeks``, ``target_by_week``) become months.
    """
    if policy not in POLICIES:
        raise ValueError(f"policy must be one of {POLICIES}, got {policy!r}")
    if order not in ("priority", "fifo"):
        raise ValueError(f"order must be 'priority' or 'fifo', got {order!r}")
    if not isinstance(lead_time_weeks, (int, np.integer)) or lead_time_weeks < 0:
        raise ValueError(f"lead_time_weeks must be a whole number >= 0, got {lead_time_weeks!r}")
    flows, monthly = as_week_ahead(flows)  # months: the same steps, each month its own days
    if monthly:  # spans given in weeks become months by days
        lead_time_weeks = periods_for_weeks(lead_time_weeks, "M", minimum=0)
        if target_by_week is not None and isinstance(target_by_week, (int, np.integer)) and target_by_week >= 1:
            target_by_week = periods_for_weeks(target_by_week, "M")
    for col in ("clinic", "week_ahead", "inflow", "capacity"):
        if col not in flows.columns:
            raise ValueError(f"flows: missing column {col!r}")
    if "wait_days" not in waiting.columns or "clinic" not in waiting.columns:
        raise ValueError("waiting: needs columns 'clinic' and 'wait_days'")
    keys = projection_keys(flows, waiting)
    if flows.duplicated(keys + ["week_ahead"]).any():
        raise ValueError(f"flows: one row per {' × '.join(keys)} and week_ahead expected")
    if (flows[["inflow", "capacity"]].to_numpy(dtype=float) < 0).any():
        raise ValueError("flows: inflow and capacity must be non-negative")
    if (flows["week_ahead"] < 1).any():
        raise ValueError("flows: week_ahead must start at 1")
    return flows, monthly, keys, lead_time_weeks, target_by_week


def _series_grid(flows: pd.DataFrame, keys: list) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray, np.ndarray]:
    """``(series, grid, inflow, capacity)``: the series, their grid × weeks 1..H, (n_s, H) arrays [patients/week]."""
    # a complete grid of series × weeks 1..H (missing weeks: no inflow, no capacity)
    series = flows[keys].drop_duplicates().sort_values(keys).reset_index(drop=True)
    horizon = int(flows["week_ahead"].max())
    grid = series.merge(pd.DataFrame({"week_ahead": np.arange(1, horizon + 1)}), how="cross")
    extra_cols = [c for c in ("period", "period_days") if c in flows.columns]
    grid = grid.merge(flows[keys + ["week_ahead", "inflow", "capacity"] + extra_cols], on=keys + ["week_ahead"],
                      how="left")
    grid["inflow"] = grid["inflow"].astype(float).fillna(0.0)
    grid["capacity"] = grid["capacity"].astype(float).fillna(0.0)
    grid = grid.sort_values(keys + ["week_ahead"]).reset_index(drop=True)
    n_s = len(series)
    inflow = grid["inflow"].to_numpy().reshape(n_s, horizon)
    capacity = grid["capacity"].to_numpy().reshape(n_s, horizon)
    return series, grid, inflow, capacity


def _purchase_frame(waiting, grid, series, keys, purchase, target, *, policy, monthly, guarantee_days, order,
                    renege_rate_per_week, arrival_priority_share, prices, lead_time_weeks) -> pd.DataFrame:
    """:func:`purchase_need`'s frame: the projection with the purchase as external service, costs, the deadline."""
    sid = np.repeat(np.arange(len(series)), len(grid) // len(series)) if len(series) else np.zeros(0, int)
    grid["external"] = purchase
    projected = project_breaches(waiting, grid[keys + ["week_ahead", "inflow", "capacity", "external"]
                                               + [c for c in ("period_days",) if c in grid.columns]],
                                 guarantee_days=guarantee_days, order=order, renege_rate_per_week=renege_rate_per_week,
                                 arrival_priority_share=arrival_priority_share)
    projected["week_ahead"] = projected["week_ahead"].astype(int)
    out = grid.drop(columns=["external"]).merge(
        projected[keys + ["week_ahead", "served", "queue", "over_limit"]], on=keys + ["week_ahead"], how="left")
    out["purchase"] = purchase
    ext_price, int_price = _price_arrays(prices, series)
    out["cost_external_sek"] = purchase * ext_price[sid]
    out["cost_internal_sek"] = purchase * int_price[sid]
    out["policy"] = policy
    out["decide_by_week"] = out["week_ahead"] - int(lead_time_weeks)
    if target is not None:
        out["target_queue"] = target[sid]
    if "period" in out.columns and out["period"].notna().all():
        out["month"] = _week_month(out["period"])
    columns = (keys + ["week_ahead"] + [c for c in ("period", "month") if c in out.columns]
               + ["policy", "inflow", "capacity", "purchase", "served", "queue", "over_limit",
                  "cost_external_sek", "cost_internal_sek", "decide_by_week"]
               + (["target_queue"] if target is not None else []))
    if monthly:
        columns.insert(columns.index("policy"), "period_days")
    return as_period_ahead(out[columns], monthly)


def _target_purchase(waiting, series, keys, inflow, capacity, *, target_queue, target_by_week, target_share,
                     guarantee_days, renege, whole_patients, days=None):
    """Purchase of the target policy per series and period (arrays n_series × H) and the target per series.

    ``days``: each period's days (7 for weeks); the target queue takes the inflow per week,
    ``inflow · 7 / days``, whatever the period. ``renege`` is per period.
    """
    n_s, horizon = inflow.shape
    wait = waiting
    if "patient_chosen_wait" in wait.columns:
        wait = wait[~wait["patient_chosen_wait"].fillna(False).astype(bool)]
    wait = wait.assign(patients=wait["patients"] if "patients" in wait.columns else 1.0)
    queue = np.nan_to_num(per_series(wait, series, keys, "patients", "waiting"))
    if target_queue is None:
        per_week = inflow if days is None or np.all(days == 7) else inflow * 7.0 / days  # [patients/week]
        target = np.asarray(queue_for_share_within(per_week.mean(axis=1), guarantee_days, target_share), dtype=float)
    else:
        target = per_series(target_queue, series, keys, "target_queue", "target_queue")
        if np.any(np.isnan(target)) or np.any(target < 0):
            raise ValueError("target_queue must be given (>= 0) for every series")
    if target_by_week is None:
        target_by_week = min(12, horizon)
    if not isinstance(target_by_week, (int, np.integer)) or target_by_week < 1:
        raise ValueError(f"target_by_week must be a whole number >= 1, got {target_by_week!r}")
    if target_by_week > horizon:
        warnings.warn(f"target_by_week ({target_by_week}) lies beyond the horizon ({horizon} weeks)", stacklevel=3)
    purchase = np.zeros((n_s, horizon))
    q = queue.astype(float)
    for k in range(horizon):  # the queue of each week follows from the last one
        weeks_left = max(1, target_by_week - k)
        p = np.maximum(0.0, inflow[:, k] - capacity[:, k] + (q - target) / weeks_left)
        p = np.where(p < 1e-9, 0.0, p)
        if whole_patients:
            p = np.ceil(p - 1e-9)
        purchase[:, k] = p
        q = np.maximum(0.0, q + inflow[:, k] - capacity[:, k] - p) * (1.0 - (renege[k] if np.ndim(renege) else renege))
    return purchase, target


def purchase_by_month(need: pd.DataFrame) -> pd.DataFrame:
    """Monthly totals of a purchase need: the view the region budgets in.

    Parameters
    ----------
    need : DataFrame
        :func:`purchase_need` output with a ``month`` column.

    Returns
    -------
    DataFrame
        Key columns (``clinic``, ``group``, ``stage`` as present), ``policy``,
        ``month``, ``purchase`` [patients/month], ``cost_external_sek``,
        ``cost_internal_sek`` [SEK/month], ``weeks`` (weeks of the horizon counted in
        the month).

    Raises
    ------
    ValueError
        If ``need`` has no ``month`` (``flows`` without ``period``).

    Examples
    --------
    >>> n = pd.DataFrame({"clinic": "a", "stage": "treatment", "policy": "guarantee",
    ...                   "month": pd.PeriodIndex(["2026-12", "2026-12", "2027-01"], freq="M"),
    ...                   "purchase": [10.0, 12.0, 5.0], "cost_external_sek": [1.0, 2.0, 3.0],
    ...                   "cost_internal_sek": [0.5, 1.0, 1.5]})
    >>> purchase_by_month(n)[["month", "purchase", "weeks"]].astype(str).values.tolist()
    [['2026-12', '22.0', '2'], ['2027-01', '5.0', '1']]
    """
    if "month" not in need.columns:
        raise ValueError("need: no 'month' column (give flows a 'period' column)")
    keys = [k for k in ("clinic", "group", "stage", "policy") if k in need.columns]
    out = need.groupby(keys + ["month"], as_index=False, sort=True).agg(
        purchase=("purchase", "sum"), cost_external_sek=("cost_external_sek", "sum"),
        cost_internal_sek=("cost_internal_sek", "sum"), weeks=("purchase", "size"))
    return out


# ============================================================================= regional optimisation
def _pair_moves(plan: pd.DataFrame) -> pd.DataFrame:
    """Who moved patients to whom: the pool's moves out and in of each week, paired in clinic order.

    The programme moves patients through the pool's common list (out of one clinic's list,
    into another's capacity); with one move cost for every pair any pairing costs the
    same, so the moves out and in are matched first-fit in the order of the clinics.
    """
    cols = ["clinic_from", "clinic_to", "stage", "week_ahead", "patients"]
    part = plan[["_block", "clinic", "stage", "week_ahead", "moved_out", "moved_in"]]
    out = part[part["moved_out"] > 0].copy()
    inn = part[part["moved_in"] > 0].copy()
    if out.empty or inn.empty:
        return pd.DataFrame(columns=cols).astype({"week_ahead": int, "patients": float})
    for frame, col in ((out, "moved_out"), (inn, "moved_in")):
        frame["_hi"] = frame.groupby(["_block", "week_ahead"])[col].cumsum()
        frame["_lo"] = frame["_hi"] - frame[col]
    pairs = out.merge(inn, on=["_block", "week_ahead"], suffixes=("_from", "_to"))
    pairs["patients"] = (np.minimum(pairs["_hi_from"], pairs["_hi_to"])
                         - np.maximum(pairs["_lo_from"], pairs["_lo_to"])).clip(lower=0.0)
    pairs = pairs[pairs["patients"] > 1e-9]
    moves = pd.DataFrame({"clinic_from": pairs["clinic_from"].to_numpy(), "clinic_to": pairs["clinic_to"].to_numpy(),
                          "stage": pairs["stage_from"].to_numpy(), "week_ahead": pairs["week_ahead"].to_numpy(),
                          "patients": pairs["patients"].to_numpy()})
    return moves.sort_values(["stage", "week_ahead", "clinic_from", "clinic_to"]).reset_index(drop=True)


class RegionPlan(NamedTuple):
    """Result of :func:`optimise_region`.

    Attributes
    ----------
    plan : DataFrame
        Per clinic, stage and week: ``pool``, ``week_ahead``, [``period``], ``inflow``,
        ``capacity``, ``own`` (own patients served with own capacity), ``moved_in``
        (other clinics' patients served here), ``moved_out`` (own patients served at
        another clinic of the pool), ``purchased``, ``served`` (= own + moved_out +
        purchased, this clinic's list) [patients/week], ``due`` (patients who must have
        been served by the week's end), ``queue``, ``over_limit`` (check by
        :func:`kps_analysis.waits.project_breaches`, longest wait first) [patients],
        ``cost_purchase_sek``, ``cost_move_sek`` (moves out of this clinic) [SEK],
        ``capacity_shadow_price_sek`` [SEK/patient].
    moves : DataFrame
        ``clinic_from``, ``clinic_to``, ``stage``, ``week_ahead``, ``patients`` (rows
        with patients > 0; the pool's moves out and in of a week paired first-fit in
        clinic order) [patients/week].
    binding : DataFrame
        The capacity constraints that bind with a cost: ``clinic``, ``stage``,
        ``week_ahead``, ``capacity``, ``used`` [patients/week],
        ``shadow_price_sek`` (cost saved by one more patient of capacity
        [SEK/patient]), sorted by shadow price.
    total_cost_sek : float
        Purchases at contract price plus moves [SEK].
    status : str
        The solver's message.
    """

    plan: pd.DataFrame
    moves: pd.DataFrame
    binding: pd.DataFrame
    total_cost_sek: float
    status: str


def _due_and_available(waiting, series, keys, inflow, guarantee_days):
    """Patients due (over the limit unless served) and available by the end of each week, per series."""
    n_s, horizon = inflow.shape
    wait = waiting
    if "patient_chosen_wait" in wait.columns:
        wait = wait[~wait["patient_chosen_wait"].fillna(False).astype(bool)]
    wait = wait.assign(patients=wait["patients"] if "patients" in wait.columns else 1.0)
    wait = wait.merge(series.assign(_s=np.arange(n_s)), on=[k for k in keys if k in wait.columns], how="inner")
    ages = wait["wait_days"].to_numpy(dtype=int)
    max_age = int(ages.max()) if len(ages) else 0
    hist = np.zeros((n_s, max_age + 2))
    np.add.at(hist, (wait["_s"].to_numpy(dtype=np.int64), ages), wait["patients"].to_numpy(dtype=float))
    tail = np.cumsum(hist[:, ::-1], axis=1)[:, ::-1]  # tail[:, a] = patients who have waited a days or more
    weeks = np.arange(1, horizon + 1)
    first_over = np.clip(np.floor(guarantee_days - 7 * weeks).astype(int) + 1, 0, max_age + 1)  # w + 7k > limit
    due_now = tail[:, first_over]
    # arrivals of week j, spread over its 7 days, are 7(k-j)+d days old (d = 0..6) at the end of week k
    lag = weeks[:, None] - weeks[None, :]
    share = ((7 * lag[:, :, None] + np.arange(7)[None, None, :]) > guarantee_days).mean(axis=2) * (lag >= 0)
    due = due_now + inflow @ share.T
    available = tail[:, 0][:, None] + np.cumsum(inflow, axis=1)
    return due, available


def _pool_labels(pools, clinics: pd.Series) -> np.ndarray:
    if pools is None:
        return np.full(len(clinics), "region", dtype=object)
    if isinstance(pools, pd.DataFrame):
        col = "region_pool" if "region_pool" in pools.columns else "pool" if "pool" in pools.columns else None
        if col is None or "clinic" not in pools.columns:
            raise ValueError("pools: a frame needs 'clinic' and 'region_pool' (or 'pool') columns")
        pools = pools.drop_duplicates("clinic").set_index("clinic")[col]
    mapping = pd.Series(pools, dtype=object) if not isinstance(pools, pd.Series) else pools.astype(object)
    label = clinics.map(mapping).to_numpy(dtype=object, copy=True)  # pandas 3: a read-only view otherwise
    alone = pd.isna(label)
    label[alone] = "__alone__" + clinics.to_numpy(dtype=object)[alone]  # a clinic without a pool is its own
    return label


def optimise_region(waiting: pd.DataFrame, flows: pd.DataFrame, *, pools=None, prices=None,
                    move_cost_sek: float = 0.0, guarantee_days: float = 90, tolerated: float = 0,
                    integer: bool = False, time_limit_seconds: float | None = None) -> RegionPlan:
    """Own production, moves between hospitals and external purchase at least cost, keeping the guarantee.

    A linear programme over every pool (clinics with the same ``region_pool``: the same
    care, a common waiting list), stage and week k = 1..H; a series i is a (clinic,
    stage) pair, and patients move only between series of the same pool and stage:

    variables (all >= 0) [patients/week]
        ``own[i,k]`` i's patients served with i's capacity; ``out[i,k]`` i's patients
        served at another hospital of the pool; ``in[j,k]`` other clinics' patients
        served with j's capacity; ``buy[i,k]`` i's patients bought externally;
        ``S[i,k]`` i's patients served (in any way) by the end of week k [patients].
    minimise [SEK]
        ``Σ price_i · buy[i,k] + move_cost · Σ out[i,k]``
    subject to
        ``S[i,k] = S[i,k−1] + own[i,k] + out[i,k] + buy[i,k]``  (S[i,0] = 0)
        ``Σ_{i in pool} out[i,k] = Σ_{j in pool} in[j,k]``       (the common list)
        ``own[j,k] + in[j,k] <= capacity[j,k]``                  (capacity; shadow price)
        ``due[i,k] − tolerated <= S[i,k] <= available[i,k]``     (the guarantee; nobody
        served before arriving)

    ``due[i,k]`` counts i's patients (waiting now, or arriving, spread evenly over the
    days of their week) who would have waited more than ``guarantee_days`` at the end of
    week k; ``available[i,k]`` those on the list by then. Serving longest wait first,
    the guarantee holds exactly when the cumulative service reaches the due patients,
    so the plan keeps :func:`kps_analysis.waits.project_breaches` (``order="fifo"``,
    capacity = ``own``, external = moved out + bought) at most ``tolerated`` over the
    limit every week (``plan.over_limit`` is that check). With one move cost for every
    pair of hospitals the pooled moves are exact; the programme grows linearly with the
    clinics (not with their pairs), and the moves are paired clinic to clinic afterwards.
    Ties are broken by tiny cost terms (10⁻⁵ of the mean price): own capacity is used
    as early as possible, purchases as late as possible, and nobody is moved without
    need; with a single clinic the purchase equals :func:`purchase_need` (guarantee,
    FIFO). Shadow prices are the HiGHS duals of the capacity rows (what one more
    patient of capacity in that clinic and week would save), accurate to those terms.
    Patients who chose to wait are left out, as in the national measurement; reneging
    is not modelled.

    Parameters
    ----------
    waiting : DataFrame
        Who waits now: ``clinic``, ``stage`` (if ``flows`` has it), ``wait_days``
        [days], ``patients`` [patients] (one row per patient if absent), optional
        ``patient_chosen_wait``.
    flows : DataFrame
        ``clinic``, optional ``stage``, ``week_ahead`` (1..H), optional ``period``,
        ``inflow`` and own ``capacity`` [patients/week].
    pools : mapping, Series or DataFrame, optional
        Pool of each clinic (``{clinic: pool}``, or a frame with ``clinic`` and
        ``region_pool`` such as :func:`kps_analysis.capacity.resources_frame` gives);
        a clinic without a pool is optimised alone. Default: all clinics one pool.
    prices : DataFrame, mapping or number, optional
        External contract prices as for :func:`purchase_need` [SEK/patient]. Without
        prices every purchase costs 1 (the number bought is minimised) and
        ``move_cost_sek`` is read in the same unit; costs are then NaN.
    move_cost_sek : float
        Cost of moving one patient to another hospital of the pool (travel,
        administration) [SEK/patient].
    guarantee_days : float
        Guarantee limit [days].
    tolerated : float
        Patients allowed over the limit at the end of each week, per series [patients].
    integer : bool
        Whole patients served, moved and bought: arrivals and cumulative capacity are
        rounded down (a capacity of 22.5 a week gives 22, 23, 22, 23, ...) and the due
        patients up, and the programme is solved by the dual simplex. Its
        constraint matrix is the incidence matrix of a network (every variable has at
        most one +1 and one −1), totally unimodular, so the vertex found is whole and
        optimal among whole-number plans without branch and bound (a mixed-integer
        solve, ``scipy.optimize.milp``, is the fallback should round-off break it).
    time_limit_seconds : float, optional
        Solver time limit [s].

    Returns
    -------
    RegionPlan
        ``plan``, ``moves``, ``binding``, ``total_cost_sek``, ``status``.

    Raises
    ------
    ValueError
        For missing columns, negative flows or costs, a ``group`` column (sum groups
        first), missing prices of a series, or an infeasible or failed solve.

    Examples
    --------
    Clinic a has 20 patients at 85 days and no capacity; b has 30 free slots a week.
    Moving (100 SEK) is cheaper than buying (1,000 SEK): all 20 go to b in week 1.

    >>> wait = pd.DataFrame({"clinic": ["a"], "wait_days": [85], "patients": [20.0]})
    >>> flows = pd.DataFrame({"clinic": ["a", "b"], "week_ahead": 1, "inflow": 0.0, "capacity": [0.0, 30.0]})
    >>> r = optimise_region(wait, flows, prices=1000, move_cost_sek=100)
    >>> r.plan[["clinic", "moved_out", "moved_in", "purchased"]].round(6).values.tolist()
    [['a', 20.0, 0.0, 0.0], ['b', 0.0, 20.0, 0.0]]
    >>> round(r.total_cost_sek, 6)
    2000.0
    """
    waiting, flows = _check_region_inputs(waiting, flows, move_cost_sek, tolerated)
    g = _region_grid(waiting, flows, guarantee_days, tolerated, integer)
    pool = _pool_labels(pools, g.series["clinic"])
    block = pd.Series(list(zip(pool, g.series["stage"]))).factorize()[0]
    ext_price, priced = _region_prices(prices, g.series, g.due, tolerated)
    lp = _region_programme(g, block, ext_price, move_cost_sek)
    res, duals = _solve_region(lp, integer, time_limit_seconds)
    return _region_result(g, lp, res, duals, pool, block, ext_price, priced, move_cost_sek, guarantee_days)


def _check_region_inputs(waiting: pd.DataFrame, flows: pd.DataFrame, move_cost_sek: float,
                         tolerated: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`optimise_region`'s inputs checked; ``(waiting, flows)`` with a ``stage`` ("all" if none)."""
    if "period_ahead" in flows.columns and "week_ahead" not in flows.columns:
        raise ValueError("flows: optimise_region plans weeks (week_ahead); monthly flows (period_ahead) are "
                         "planned by the planning model (kps_analysis.planning), which moves patients per month")
    for col in ("clinic", "week_ahead", "inflow", "capacity"):
        if col not in flows.columns:
            raise ValueError(f"flows: missing column {col!r}")
    for col in ("clinic", "wait_days"):
        if col not in waiting.columns:
            raise ValueError(f"waiting: missing column {col!r}")
    if "group" in flows.columns:
        raise ValueError("flows: optimise_region works per clinic and stage; sum the groups first")
    if not np.isfinite(move_cost_sek) or move_cost_sek < 0:
        raise ValueError(f"move_cost_sek must be a number >= 0, got {move_cost_sek!r}")
    if not np.isfinite(tolerated) or tolerated < 0:
        raise ValueError(f"tolerated must be a number >= 0, got {tolerated!r}")
    if (flows[["inflow", "capacity"]].to_numpy(dtype=float) < 0).any():
        raise ValueError("flows: inflow and capacity must be non-negative")
    flows = flows.copy()
    if "stage" not in flows.columns:
        flows["stage"] = "all"
        waiting = waiting.assign(stage="all")
    elif "stage" not in waiting.columns:
        raise ValueError("waiting: missing column 'stage' (flows has stages)")
    if flows.duplicated(_REGION_KEYS + ["week_ahead"]).any():
        raise ValueError("flows: one row per clinic × stage and week_ahead expected")
    return waiting, flows


class _RegionGrid(NamedTuple):
    """Series (clinic × stage) by week of :func:`optimise_region`, with the service bounds."""

    series: pd.DataFrame  # clinic, stage; one row per series
    grid: pd.DataFrame  # series × week_ahead (and period), sorted
    extra_cols: list  # ["period"] if the flows have it
    waiting: pd.DataFrame  # clinic as str
    inflow: np.ndarray  # (n_s, H) [patients/week]
    cap: np.ndarray  # (n_s, H) [patients/week]
    due: np.ndarray  # (n_s, H) [patients]
    available: np.ndarray  # (n_s, H) [patients]
    lower: np.ndarray  # bounds of the cumulative service S (n_s, H) [patients]
    upper: np.ndarray
    cap_bound: np.ndarray  # capacity rows' bound (n_s, H) [patients/week]


def _region_grid(waiting: pd.DataFrame, flows: pd.DataFrame, guarantee_days: float, tolerated: float,
                 integer: bool) -> _RegionGrid:
    """Inflow and capacity per series and week, the due and available patients and the bounds of S."""
    keys = _REGION_KEYS
    series = flows[keys].drop_duplicates().sort_values(keys).reset_index(drop=True)
    series["clinic"] = series["clinic"].astype(str)
    n_s = len(series)
    horizon = int(flows["week_ahead"].max())
    grid = series.merge(pd.DataFrame({"week_ahead": np.arange(1, horizon + 1)}), how="cross")
    extra_cols = ["period"] if "period" in flows.columns else []
    grid = grid.merge(flows.assign(clinic=flows["clinic"].astype(str))[keys + ["week_ahead", "inflow", "capacity"]
                                                                       + extra_cols],
                      on=keys + ["week_ahead"], how="left").sort_values(keys + ["week_ahead"]).reset_index(drop=True)
    inflow = grid["inflow"].astype(float).fillna(0.0).to_numpy().reshape(n_s, horizon)
    cap = grid["capacity"].astype(float).fillna(0.0).to_numpy().reshape(n_s, horizon)
    waiting = waiting.assign(clinic=waiting["clinic"].astype(str))
    due, available = _due_and_available(waiting, series, keys, inflow, guarantee_days)
    lower = np.minimum(np.maximum(due - tolerated, 0.0), available)
    upper, cap_bound = available, cap
    if integer:  # whole patients: due rounds up, arrivals and cumulative capacity down
        lower = np.ceil(lower - 1e-9)
        upper = np.maximum(np.floor(available + 1e-9), lower)
        cap_bound = np.diff(np.floor(np.cumsum(cap, axis=1) + 1e-9), axis=1, prepend=0.0)
    return _RegionGrid(series, grid, extra_cols, waiting, inflow, cap, due, available, lower, upper, cap_bound)


def _region_prices(prices, series: pd.DataFrame, due: np.ndarray, tolerated: float) -> tuple[np.ndarray, bool]:
    """External price per series [SEK/patient] (1 without prices) and whether prices were given."""
    ext_price, _ = _price_arrays(prices, series)
    priced = prices is not None
    if not priced:
        ext_price = np.ones(len(series))
    if np.any(np.isnan(ext_price)):
        missing = series[np.isnan(ext_price) & (due[:, -1] - tolerated > 1e-9)]
        if len(missing):
            raise ValueError(f"prices: no external price for {missing.to_dict('records')[:3]}")
    return np.nan_to_num(ext_price, nan=0.0), priced


class _RegionProgramme(NamedTuple):
    """The linear programme of :func:`optimise_region` (scipy's ``linprog`` form)."""

    c: np.ndarray
    a_eq: sparse.csr_matrix
    b_eq: np.ndarray
    a_ub: sparse.csr_matrix
    b_ub: np.ndarray
    lb: np.ndarray
    ub: np.ndarray
    offsets: tuple  # first variable of own, buy, S, out, in
    mv: np.ndarray  # series that can move patients (in a pool with others)
    scale: float  # the mean price the costs are divided by [SEK/patient]


def _region_programme(g: _RegionGrid, block: np.ndarray, ext_price: np.ndarray,
                      move_cost_sek: float) -> _RegionProgramme:
    """Costs, flow and pool equalities, capacity rows and bounds; variables (series or mover) × week."""
    n_s, H = g.inflow.shape
    sizes = np.bincount(block)
    mv = np.flatnonzero(sizes[block] > 1)  # series that can move patients (in a pool with others)
    n_mv = len(mv)
    mv_blocks, mv_block = np.unique(block[mv], return_inverse=True)
    n_b = len(mv_blocks)
    # ---- variables, each (series or mover) × week: own | buy | S | out | in
    k = np.arange(H)
    o_own, o_buy, o_cum, o_out, o_in = 0, n_s * H, 2 * n_s * H, 3 * n_s * H, 3 * n_s * H + n_mv * H
    n_var = o_in + n_mv * H
    scale = float(np.mean(ext_price[ext_price > 0])) if np.any(ext_price > 0) else 1.0
    late = (H - 1 - k) * _EPS_WEEK  # buying and moving a week later is a hair cheaper
    c = np.zeros(n_var)
    c[o_own:o_buy] = np.tile(-_EPS * (1.0 + k[::-1] / H), n_s)  # own capacity used, the earlier the better
    c[o_buy:o_cum] = (ext_price[:, None] / scale * (1.0 + late)[None, :]).ravel()
    c[o_out:o_in] = np.tile(move_cost_sek / scale * (1.0 + late) + _EPS, n_mv)
    c[o_in:] = _EPS

    def var(offset, n):  # variable index per (series or mover) × week
        return offset + np.arange(n)[:, None] * H + k[None, :]

    rows = np.arange(n_s * H).reshape(n_s, H)
    # flow rows i*H+k:  S[i,k] − S[i,k−1] − own[i,k] − buy[i,k] − out[i,k] = 0
    # pool rows b*H+k:  Σ_{i in b} out[i,k] − Σ_{j in b} in[j,k] = 0
    prow = n_s * H + mv_block[:, None] * H + k[None, :]
    r_eq = [rows, rows[:, 1:], rows, rows, rows[mv], prow, prow]
    c_eq = [var(o_cum, n_s), var(o_cum, n_s)[:, :-1], var(o_own, n_s), var(o_buy, n_s), var(o_out, n_mv),
            var(o_out, n_mv), var(o_in, n_mv)]
    v_eq = [1.0, -1.0, -1.0, -1.0, -1.0, 1.0, -1.0]
    a_eq = sparse.csr_matrix((np.concatenate([np.full(r.size, v) for r, v in zip(r_eq, v_eq)]),
                              (np.concatenate([r.ravel() for r in r_eq]), np.concatenate([x.ravel() for x in c_eq]))),
                             shape=(n_s * H + n_b * H, n_var))
    b_eq = np.zeros(n_s * H + n_b * H)
    # capacity rows j*H+k:  own[j,k] + in[j,k] <= capacity[j,k]
    a_ub = sparse.csr_matrix((np.ones(n_s * H + n_mv * H),
                              (np.concatenate([rows.ravel(), rows[mv].ravel()]),
                               np.concatenate([var(o_own, n_s).ravel(), var(o_in, n_mv).ravel()]))),
                             shape=(n_s * H, n_var))
    lb = np.zeros(n_var)
    ub = np.full(n_var, np.inf)
    lb[o_cum:o_out] = g.lower.ravel()
    ub[o_cum:o_out] = g.upper.ravel()
    return _RegionProgramme(c, a_eq, b_eq, a_ub, g.cap_bound.ravel(), lb, ub, (o_own, o_buy, o_cum, o_out, o_in),
                            mv, scale)


def _solve_region(lp: _RegionProgramme, integer: bool, time_limit_seconds: float | None):
    """HiGHS's solution of the programme and the duals of the capacity rows (None after branch and bound)."""
    o_own, _, o_cum, o_out, _ = lp.offsets
    options = {} if time_limit_seconds is None else {"time_limit": float(time_limit_seconds)}
    # every column has at most one +1 and one −1 (an incidence matrix: totally unimodular),
    # so with whole-number bounds the simplex vertex is whole: no branch and bound needed
    res = optimize.linprog(lp.c, A_ub=lp.a_ub, b_ub=lp.b_ub, A_eq=lp.a_eq, b_eq=lp.b_eq,
                           bounds=np.column_stack([lp.lb, lp.ub]), method="highs-ds" if integer else "highs",
                           options=options)
    if res.x is None or res.status != 0:
        raise ValueError(f"optimise_region: the programme could not be solved ({res.message})")
    duals = getattr(getattr(res, "ineqlin", None), "marginals", None)
    if integer:
        if np.max(np.abs(res.x - np.rint(res.x)), initial=0.0) > 1e-6:  # not expected; then branch and bound
            integrality = np.zeros(len(lp.c))
            integrality[o_own:o_cum] = 1
            integrality[o_out:] = 1
            res = optimize.milp(lp.c, integrality=integrality, bounds=optimize.Bounds(lp.lb, lp.ub),
                                constraints=[optimize.LinearConstraint(lp.a_eq, lp.b_eq, lp.b_eq),
                                             optimize.LinearConstraint(lp.a_ub, -np.inf, lp.b_ub)],
                                options={"time_limit": 60.0, **options})
            if res.x is None:
                raise ValueError(f"optimise_region: the integer programme could not be solved ({res.message})")
            duals = None
        res.x = np.rint(res.x)
    return res, duals


def _region_result(g: _RegionGrid, lp: _RegionProgramme, res, duals, pool: np.ndarray, block: np.ndarray,
                   ext_price: np.ndarray, priced: bool, move_cost_sek: float, guarantee_days: float) -> RegionPlan:
    """The plan per series and week (checked by ``project_breaches``), the moves and the binding capacities."""
    keys = _REGION_KEYS
    n_s, H = g.inflow.shape
    o_own, o_buy, o_cum, o_out, o_in = lp.offsets
    mv, n_mv = lp.mv, len(lp.mv)
    x = np.where(np.abs(res.x) < 1e-7, 0.0, res.x)  # solver round-off
    own = x[o_own:o_buy].reshape(n_s, H)
    buy = x[o_buy:o_cum].reshape(n_s, H)
    cum = res.x[o_cum:o_out].reshape(n_s, H)
    moved_out = np.zeros((n_s, H))
    moved_in = np.zeros((n_s, H))
    moved_out[mv] = x[o_out:o_in].reshape(n_mv, H)
    moved_in[mv] = x[o_in:].reshape(n_mv, H)

    plan = g.grid[keys + ["week_ahead"] + g.extra_cols].copy()
    plan.insert(1, "pool", np.repeat(np.where(pd.Series(pool).str.startswith("__alone__"), pd.NA, pool), H))
    plan["inflow"], plan["capacity"] = g.inflow.ravel(), g.cap.ravel()
    plan["own"], plan["moved_in"], plan["moved_out"], plan["purchased"] = (own.ravel(), moved_in.ravel(),
                                                                          moved_out.ravel(), buy.ravel())
    plan["served"] = (own + moved_out + buy).ravel()
    plan["due"] = g.due.ravel()
    plan["queue"] = np.maximum(g.available - cum, 0.0).ravel()
    check = project_breaches(g.waiting, plan[keys + ["week_ahead", "inflow"]].assign(
        capacity=own.ravel(), external=(moved_out + buy).ravel()), guarantee_days=guarantee_days, order="fifo")
    check["week_ahead"] = check["week_ahead"].astype(int)
    plan = plan.merge(check[keys + ["week_ahead", "over_limit"]], on=keys + ["week_ahead"], how="left")
    plan["cost_purchase_sek"] = (buy * ext_price[:, None]).ravel() if priced else np.nan
    plan["cost_move_sek"] = (moved_out * move_cost_sek).ravel() if priced else np.nan
    shadow = (-np.asarray(duals) * lp.scale).reshape(n_s, H) if duals is not None else np.full((n_s, H), np.nan)
    plan["capacity_shadow_price_sek"] = shadow.ravel()

    move_frame = _pair_moves(plan.assign(_block=np.repeat(block, H)))
    threshold = 0.01 * float(np.min(ext_price[ext_price > 0])) if np.any(ext_price > 0) else 0.01
    binding = plan[["clinic", "stage", "week_ahead", "capacity"]].assign(
        used=(own + moved_in).ravel(), shadow_price_sek=shadow.ravel())
    binding = binding[binding["shadow_price_sek"] > threshold].sort_values(
        ["shadow_price_sek", "clinic", "week_ahead"], ascending=[False, True, True]).reset_index(drop=True)
    total = float((buy * ext_price[:, None]).sum() + moved_out.sum() * move_cost_sek) if priced else np.nan
    return RegionPlan(plan=plan, moves=move_frame, binding=binding, total_cost_sek=total, status=str(res.message))
