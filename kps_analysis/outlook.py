"""The coming weeks of a clinic (or a region): need, own capacity, gap, purchase, follow-up.

One call that chains the analysis modules the way a production analyst reads them,
"what must we produce, can we, and what must we buy", for one or many clinics at once:

1. who waits now and the coming weeks' inflow: :func:`kps_analysis.purchase.guarantee_inputs`
   (the patient-level snapshot where it exists, else the reconstruction from the weekly
   aggregates; inflow per stage = the same weeks last year scaled by the recent trend),
   with the forecast model's relative uncertainty (:func:`kps_analysis.forecast.forecast_demand`
   of ``referrals_in`` / ``treatment_decisions``) as the inflow band;
2. own capacity per week from the parameters' resources, working days and closures
   (:func:`kps_analysis.capacity.capacity_from_resources`);
3. the need (clear the backlog above the target queue within the horizon, then hold it;
   and the least production that keeps every patient within the guarantee) and the gap
   (:func:`kps_analysis.capacity.capacity_need`, :func:`kps_analysis.capacity.capacity_gap`);
4. the purchase under the guarantee and the target policies
   (:func:`kps_analysis.purchase.purchase_need`), at contract prices against the in-house
   cost;
5. the follow-up of plan against outcome and the escalation status
   (:func:`kps_analysis.plan.plan_vs_outcome`, :func:`kps_analysis.plan.escalation_status`).

No formula lives here; every number comes from the tested functions named above.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import pandas as pd

from .capacity import capacity_by_stage, capacity_from_resources, capacity_gap, capacity_need, resources_frame
from .forecast import forecast_demand
from .plan import agreement_volumes, escalation_status, plan_vs_outcome, rolling_plan
from .purchase import guarantee_inputs, optimise_region, prices_frame, purchase_need
from .scenario import inputs_from_parameters, run_scenarios, scenario_table
from .seasonal import period_kind
from .stages import STAGES
from .summary import seasonal_profiles

__all__ = ["Outlook", "clinic_outlook", "headline_figures"]

@dataclass(frozen=True)
class Outlook:
    """The coming weeks, long frames keyed by ``clinic``, ``stage`` and ``week_ahead``."""

    waiting: pd.DataFrame       #: who waits now, by days waited (aggregated, no patient ids)
    flows: pd.DataFrame         #: inflow (with band) and own capacity per week
    capacity: pd.DataFrame      #: capacity_from_resources output per week
    need: pd.DataFrame          #: capacity_need output
    gap: pd.DataFrame           #: capacity_gap output
    purchase: pd.DataFrame      #: purchase_need output, both policies (column ``policy``)
    follow_up: pd.DataFrame     #: plan_vs_outcome output (empty without planned columns)
    escalation: pd.DataFrame    #: escalation_status output


def _inflow_band(weekly: pd.DataFrame, flows: pd.DataFrame, *, horizon_weeks: int, level: int,
                 exclude) -> pd.DataFrame:
    """Attach ``lo_<level>``/``hi_<level>`` to the flows: the forecast's relative band."""

    lo, hi = f"lo_{level}", f"hi_{level}"
    parts = []
    for stage, spec in STAGES.items():  # the stage's inflow forecast gives its band
        measure = spec.inflow
        sub = flows[flows["stage"] == stage]
        if sub.empty or measure not in weekly.columns:
            continue
        history = weekly[weekly["clinic"].isin(sub["clinic"].unique())]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fc = forecast_demand(history, measure=measure, horizon=horizon_weeks, levels=(level,),
                                 method="profile", exclude=exclude)
        mean = fc["mean"].where(fc["mean"] > 0)
        band = fc[["clinic", "period"]].assign(_lo=(fc[lo] / mean).fillna(1.0), _hi=(fc[hi] / mean).fillna(1.0))
        parts.append(sub.merge(band, on=["clinic", "period"], how="left"))
    out = pd.concat(parts, ignore_index=True) if parts else flows.assign(_lo=1.0, _hi=1.0)
    out[lo] = out["inflow"] * out["_lo"].fillna(1.0)
    out[hi] = out["inflow"] * out["_hi"].fillna(1.0)
    return out.drop(columns=["_lo", "_hi"]).rename(columns={"inflow": "mean"}).assign(
        inflow=lambda f: f["mean"])


def _as_list(params_list) -> list:
    return list(params_list) if isinstance(params_list, (list, tuple)) else [params_list]


def _with_own_capacity(flows: pd.DataFrame, params_list) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Replace the flows' capacity by the resources' capacity per stage and week.

    Returns the flows, :func:`kps_analysis.capacity.capacity_from_resources` output and
    its per-stage long form.
    """

    periods = pd.PeriodIndex(sorted(flows["period"].unique()), freq="W-SUN")
    capacity = capacity_from_resources(resources_frame(params_list), periods)
    by_stage = capacity_by_stage(capacity)
    own = flows.drop(columns="capacity").merge(by_stage[["clinic", "stage", "period", "capacity"]],
                                               on=["clinic", "stage", "period"], how="left")
    own["capacity"] = own["capacity"].fillna(0.0)
    return own, capacity, by_stage


def clinic_outlook(weekly: pd.DataFrame, waiting_list: pd.DataFrame | None, params_list, *,
                   horizon_weeks: int = 12, guarantee_days: float = 90,
                   target_share_within_guarantee: float = 0.95, level: int = 80,
                   yellow_pct: float = 5, red_pct: float = 10, exclude=(2020,)) -> Outlook:
    """Need, own capacity, gap, purchase and follow-up for the coming weeks.

    Parameters
    ----------
    weekly : DataFrame
        Canonical weekly frame of the clinics.
    waiting_list : DataFrame or None
        Canonical patient-level extract of (some of) the clinics.
    params_list : Parameters or list of Parameters
        The clinics' loaded parameters (resources, closures, prices).
    horizon_weeks : int
        Weeks ahead [weeks].
    guarantee_days : float
        Guarantee limit [days].
    target_share_within_guarantee : float
        Share to be within the limit: sets the target queue [share 0-1].
    level : int
        Interval level of the inflow band and the gap band [%].
    yellow_pct, red_pct : float
        Escalation limits of the follow-up [%].
    exclude : iterable of int
        Years left out of the forecast model (e.g. 2020).

    Returns
    -------
    Outlook
    """
    if "period" in weekly.columns and len(weekly) and period_kind(weekly["period"], "weekly") != "W":
        raise ValueError("weekly: clinic_outlook works on weekly data (capacity from resources per ISO week, "
                         "the weekly rolling plan); a monthly clinic is planned by kps_analysis.planning")

    params_list = _as_list(params_list)
    waiting, flows = guarantee_inputs(weekly, waiting_list, horizon_weeks=horizon_weeks)
    own, capacity, by_stage = _with_own_capacity(flows, params_list)
    banded = _inflow_band(weekly, own, horizon_weeks=horizon_weeks, level=level, exclude=tuple(exclude))
    need = capacity_need(banded, waiting=waiting, clear_by=horizon_weeks, guarantee_days=guarantee_days,
                         target_share_within_guarantee=target_share_within_guarantee, level=level)
    gap = capacity_gap(need, by_stage)
    prices = prices_frame(params_list)
    flows_own = banded[["clinic", "stage", "week_ahead", "period", "inflow", "capacity"]]
    purchase = pd.concat([
        purchase_need(waiting, flows_own, policy="guarantee", guarantee_days=guarantee_days, prices=prices),
        purchase_need(waiting, flows_own, policy="target", guarantee_days=guarantee_days, prices=prices,
                      target_share=target_share_within_guarantee),
    ], ignore_index=True)
    planned = [c for c in ("planned_new_visits", "planned_operations") if c in weekly.columns]
    if planned:
        plan = weekly.groupby(["clinic", "period"], as_index=False)[planned].sum(min_count=1)
        follow_up = plan_vs_outcome(plan, weekly, yellow_pct=yellow_pct, red_pct=red_pct)
        escalation = escalation_status(follow_up)
    else:
        follow_up = pd.DataFrame()
        escalation = pd.DataFrame(columns=["clinic", "status", "level"])
    return Outlook(waiting=waiting, flows=banded, capacity=capacity, need=need, gap=gap,
                   purchase=purchase, follow_up=follow_up, escalation=escalation)


def headline_figures(outlook: Outlook) -> pd.DataFrame:
    """The outlook's headline columns of ``summary.csv``, one row per clinic.

    ``capacity_gap_12w`` = Σ over the horizon and both stages of (need − capacity)
    [visits and operations]; ``purchase_need_12w`` and ``purchase_cost_12w`` = Σ of the
    guarantee policy's purchase [patients] and its cost at contract prices [SEK];
    ``escalation`` = the follow-up status (green/yellow/red).

    Examples
    --------
    >>> gap = pd.DataFrame({"clinic": ["a", "a"], "gap": [5.0, -2.0]})
    >>> pur = pd.DataFrame({"clinic": ["a", "a"], "policy": ["guarantee", "target"],
    ...                     "purchase": [3.0, 9.0], "cost_external_sek": [300.0, 900.0]})
    >>> esc = pd.DataFrame({"clinic": ["a"], "status": ["yellow"], "level": ["clinic"]})
    >>> o = Outlook(*(pd.DataFrame(),) * 4, gap=gap, purchase=pur, follow_up=pd.DataFrame(), escalation=esc)
    >>> headline_figures(o).iloc[0].to_dict()  # doctest: +NORMALIZE_WHITESPACE
    {'clinic': 'a', 'capacity_gap_12w': 3.0, 'purchase_need_12w': 3.0, 'purchase_cost_12w': 300.0,
     'escalation': 'yellow', 'escalation_level': 'clinic'}
    """
    gap = outlook.gap.groupby("clinic")["gap"].sum(min_count=1).rename("capacity_gap_12w")
    g = outlook.purchase[outlook.purchase["policy"] == "guarantee"].groupby("clinic")
    out = pd.concat([gap, g["purchase"].sum().rename("purchase_need_12w"),
                     g["cost_external_sek"].sum(min_count=1).rename("purchase_cost_12w")], axis=1)
    esc = outlook.escalation.set_index("clinic") if len(outlook.escalation) else pd.DataFrame(
        columns=["status", "level"])
    out["escalation"] = esc["status"].reindex(out.index).astype(object).where(lambda s: s.notna(), None)
    out["escalation_level"] = esc["level"].reindex(out.index).astype(object).where(lambda s: s.notna(), None)
    return out.rename_axis("clinic").reset_index().astype({"capacity_gap_12w": float})


def production_plan(weekly: pd.DataFrame, params_list, outlook: Outlook, *, forecast: pd.DataFrame | None = None,
                    exclude=(2020,), fixed_weeks: int = 12, horizon_weeks: int = 52) -> pd.DataFrame:
    """The rolling production plan from the week after the latest data.

    :func:`kps_analysis.plan.rolling_plan` with the care agreement's annual volumes
    (``annual_volume`` of the parameters) periodised by each clinic's seasonal profiles
    of new visits and operations (:func:`kps_analysis.summary.seasonal_profiles`) and
    working days, own capacity from the resources for the whole horizon, the guarantee
    policy's purchase of the outlook, and the referral forecast when given.
    """

    params_list = _as_list(params_list)
    start = weekly["period"].max() + 1
    periods = pd.period_range(start, periods=horizon_weeks, freq="W-SUN")
    capacity = capacity_from_resources(resources_frame(params_list), periods)
    profile = seasonal_profiles(weekly, exclude_years=exclude)
    guarantee = outlook.purchase[outlook.purchase["policy"] == "guarantee"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a visits-only clinic has no operations profile: flat
        return rolling_plan(agreement_volumes(params_list), start, profile=profile, capacity=capacity,
                            purchase=guarantee, inflow=forecast, fixed_weeks=fixed_weeks,
                            horizon_weeks=horizon_weeks)


def scenario_comparison(weekly: pd.DataFrame, waiting_list: pd.DataFrame | None, params_list, *,
                        horizon_weeks: int = 52, guarantee_days: float = 90) -> pd.DataFrame:
    """The clinics' named what-if scenarios side by side with the baseline.

    :func:`kps_analysis.scenario.run_scenarios` over ``horizon_weeks`` (default a year,
    so that a longer summer closure is inside it) on who waits now and the coming
    weeks' inflow (:func:`kps_analysis.purchase.guarantee_inputs`) with own capacity
    from the resources, for the scenarios named in the parameters.
    """

    params_list = _as_list(params_list)
    waiting, flows = guarantee_inputs(weekly, waiting_list, horizon_weeks=horizon_weeks)
    flows, _, _ = _with_own_capacity(flows, params_list)
    inputs = inputs_from_parameters(params_list, flows, waiting)
    return run_scenarios(inputs, scenario_table(params_list), horizon_weeks=horizon_weeks,
                         guarantee_days=guarantee_days)


def region_plan(waiting: pd.DataFrame, flows: pd.DataFrame, params_list, *, guarantee_days: float = 90,
                move_cost_sek: float = 0.0):
    """The region's cost-minimising plan: own production, moves between hospitals, purchase.

    :func:`kps_analysis.purchase.optimise_region` over the clinics' waiting lists and
    flows (the ``waiting_by_day`` and ``flows`` tables every clinic run writes), with the
    pools (``region_pool``: clinics offering the same care share a waiting list) and
    contract prices of the parameters. Returns the ``RegionPlan`` (plan, moves, binding,
    total cost).
    """

    params_list = _as_list(params_list)
    keep = [c for c in ("clinic", "stage", "week_ahead", "inflow", "capacity") if c in flows.columns]
    return optimise_region(waiting, flows[keep], pools=resources_frame(params_list).resources,
                           prices=prices_frame(params_list), move_cost_sek=move_cost_sek,
                           guarantee_days=guarantee_days)


def move_summary(moves: pd.DataFrame) -> pd.DataFrame:
    """Suggested moves summed over the weeks: from, to, stage, patients, first week.

    Examples
    --------
    >>> m = pd.DataFrame({"clinic_from": ["a", "a"], "clinic_to": ["b", "b"], "stage": "treatment",
    ...                   "week_ahead": [1, 2], "patients": [3.0, 2.0]})
    >>> move_summary(m).values.tolist()
    [['a', 'b', 'treatment', 5.0, 1]]
    """
    if moves.empty:
        return pd.DataFrame(columns=["clinic_from", "clinic_to", "stage", "patients", "first_week"])
    out = moves[moves["patients"] > 1e-9].groupby(["clinic_from", "clinic_to", "stage"], as_index=False).agg(
        patients=("patients", "sum"), first_week=("week_ahead", "min"))
    return out.sort_values("patients", ascending=False).reset_index(drop=True)
