"""What-if scenarios and Monte Carlo runs over the forecast's uncertainty.

* :func:`scenario_table`: the named scenarios of the clinic parameters as one frame.
* :func:`apply_scenario`: one scenario's changes to the inputs (inflow, own capacity,
  purchase prices), with the arithmetic written out below.
* :func:`run_scenarios`: every scenario through need -> gap -> purchase -> breaches,
  side by side (one row per clinic and scenario, the baseline first).
* :func:`monte_carlo`: inflow paths drawn from the forecast intervals (runs × weeks
  arrays, seeded), giving the probability that no patient passes the guarantee limit
  within the horizon with the planned capacity, and the purchase volume needed at
  50/80/95 % confidence.

The inputs travel together in a :class:`ScenarioInputs` (flows per clinic, stage and
week ahead; the waiting list; prices; resources; closures; common-waiting-list pools),
built from loaded parameters by :func:`inputs_from_parameters`. All calculations are
vectorised over clinics; the only loops are over scenarios (a handful), weeks of an
AR(1) draw and chunks of Monte Carlo runs.

Units: inflow, capacity and purchase [patients/week]; waits [days]; prices and costs
[SEK]; changes in per cent [%].
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping
from typing import NamedTuple

import numpy as np
import pandas as pd

from kps_analysis import calendar as _cal
from kps_analysis.capacity import capacity_gap, capacity_need, closure_shares, resources_frame
from kps_analysis.purchase import prices_frame, purchase_need
from kps_analysis.stages import STAGE_NAMES
from kps_analysis.waits import as_week_ahead, project_breaches

__all__ = [
    "SCENARIO_FIELDS",
    "ScenarioInputs",
    "MonteCarloResult",
    "scenario_table",
    "inputs_from_parameters",
    "apply_scenario",
    "run_scenarios",
    "monte_carlo",
]

#: The fields of a scenario (``scenarios.<name>.*`` in the clinic parameters); each
#: defaults to 0 = no change.
SCENARIO_FIELDS = (
    "inflow_change_pct",                # [%] change of inflow, every stage
    "summer_closure_extra_weeks",       # [weeks] the summer reduction extended (negative: shortened)
    "extra_theatre_sessions_per_week",  # [sessions/week] added to the normal week
    "extra_new_visit_slots_per_week",   # [slots/week] added to the normal week
    "moved_patients_per_week",          # [patients/week] moved to the other clinics of the pool
    "purchase_price_change_pct",        # [%] change of the external purchase prices
)

_FLOW_COLUMNS = ("clinic", "stage", "week_ahead", "inflow", "capacity")
_BOUND_PREFIXES = ("lo_", "hi_")


# ----------------------------------------------------------------------------- inputs
@dataclasses.dataclass(frozen=True, eq=False)
class ScenarioInputs:
    """Everything a scenario changes or is evaluated on, for one or many clinics.

    Attributes
    ----------
    flows : DataFrame
        ``clinic``, ``stage`` (``"new_visit"``/``"treatment"``), ``week_ahead`` (1..H),
        ``inflow`` and ``capacity`` (own capacity) [patients/week]; optionally
        ``period`` (W-SUN, needed for the calendar-dependent scenario fields),
        ``external`` (planned purchase) and the inflow's interval bounds ``lo_80``,
        ``hi_80``, ``lo_95``, ``hi_95`` [patients/week] (needed by :func:`monte_carlo`).
        :func:`kps_analysis.summary.coming_flows` has this shape.
    waiting : DataFrame, optional
        Who waits now: ``clinic``, ``stage``, ``wait_days`` [days], ``patients``
        [patients] (or one row per patient), optional ``priority``, as
        :func:`kps_analysis.waits.project_breaches` takes it.
    prices : DataFrame, optional
        ``clinic``, ``stage``, ``price_external_sek``, ``price_internal_sek`` [SEK/patient].
    resources : DataFrame, optional
        ``clinic``, ``operations_per_session`` [operations/session], ``no_show_rate``
        [share 0-1]: what an extra theatre session or new-visit slot yields.
    closures : DataFrame, optional
        ``clinic``, ``start``, ``end`` (dates, inclusive), ``capacity_share`` [share 0-1].
    pools : Series, optional
        ``region_pool`` by clinic: clinics that share a common waiting list.
    summer_weeks : tuple of int
        First and last ISO week of the summer period; a closure that overlaps them is
        the summer closure [ISO week].
    """

    flows: pd.DataFrame
    waiting: pd.DataFrame | None = None
    prices: pd.DataFrame | None = None
    resources: pd.DataFrame | None = None
    closures: pd.DataFrame | None = None
    pools: pd.Series | None = None
    summer_weeks: tuple = (27, 32)


class MonteCarloResult(NamedTuple):
    """Result of :func:`monte_carlo`; unpacks as ``summary, runs``.

    Attributes
    ----------
    summary : DataFrame
        One row per clinic and stage.
    runs : DataFrame
        One row per clinic, stage and run.
    """

    summary: pd.DataFrame
    runs: pd.DataFrame


def _check_frame(frame, name: str, columns) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"{name} must be a DataFrame, got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} lacks column(s) {missing}")


def _check_flows(flows, name="inputs.flows") -> None:
    if "period_ahead" in flows.columns and "week_ahead" not in flows.columns and name == "inputs.flows":
        raise ValueError(f"{name}: scenarios change weekly resources (sessions and slots per week, closure "
                         "weeks) and run on weekly flows (week_ahead); monthly flows (period_ahead) are not "
                         "supported: run the scenarios on the clinic's weekly data")
    _check_frame(flows, name, _FLOW_COLUMNS)
    unknown = sorted(set(flows["stage"].astype(str)) - set(STAGE_NAMES))
    if unknown:
        raise ValueError(f"{name}: unknown stage(s) {unknown} (expected {list(STAGE_NAMES)})")
    values = flows[["inflow", "capacity"]].to_numpy(dtype=float)
    if not np.isfinite(values).all() or (values < 0).any():
        raise ValueError(f"{name}: inflow and capacity must be finite and >= 0 [patients/week]")
    if flows.duplicated(["clinic", "stage", "week_ahead"]).any():
        raise ValueError(f"{name} has more than one row for the same clinic, stage and week_ahead")


def _params_list(params_list):
    return [params_list] if isinstance(params_list, Mapping) else list(params_list)


def scenario_table(params_list) -> pd.DataFrame:
    """The named scenarios of loaded clinic parameters, one row per scenario and clinic.

    Parameters
    ----------
    params_list : Parameters or iterable of Parameters
        Loaded clinic parameters (:func:`kps_analysis.parameters.load_parameters`).

    Returns
    -------
    DataFrame
        ``scenario``, ``clinic``, ``description`` and the :data:`SCENARIO_FIELDS`
        (0 where not given) [%, weeks, sessions/week, slots/week, patients/week].

    Examples
    --------
    >>> from pathlib import Path
    >>> import kps_analysis
    >>> from kps_analysis.parameters import load_parameters
    >>> folder = Path(kps_analysis.__file__).resolve().parents[1] / "parameters"
    >>> t = scenario_table(load_parameters("ort_nord", folder))
    >>> t[["scenario", "inflow_change_pct", "moved_patients_per_week"]].values.tolist()
    [['inflow_plus_10', 10.0, 0.0], ['longer_summer_closure', 0.0, 0.0], ['move_to_ort_syd', 0.0, 5.0]]
    """
    rows = []
    for p in _params_list(params_list):
        for name, spec in (p.get("scenarios") or {}).items():
            row = {"scenario": name, "clinic": p.clinic_id, "description": spec.get("description") or ""}
            row.update({f: float(spec.get(f) or 0.0) for f in SCENARIO_FIELDS})
            rows.append(row)
    return pd.DataFrame(rows, columns=["scenario", "clinic", "description", *SCENARIO_FIELDS])


def inputs_from_parameters(params_list, flows: pd.DataFrame, waiting: pd.DataFrame | None = None) -> ScenarioInputs:
    """Build :class:`ScenarioInputs` from loaded clinic parameters (unpacked at the boundary).

    Prices from :func:`kps_analysis.purchase.prices_frame` (``prices.*``), resources,
    closures and pools (``region_pool``) from
    :func:`kps_analysis.capacity.resources_frame`, the summer weeks from ``summer``.

    Parameters
    ----------
    params_list : Parameters or iterable of Parameters
        Loaded clinic parameters.
    flows : DataFrame
        See :class:`ScenarioInputs` [patients/week].
    waiting : DataFrame, optional
        See :class:`ScenarioInputs`.

    Returns
    -------
    ScenarioInputs

    Examples
    --------
    >>> from pathlib import Path
    >>> import kps_analysis
    >>> from kps_analysis.parameters import load_parameters
    >>> folder = Path(kps_analysis.__file__).resolve().parents[1] / "parameters"
    >>> f = pd.DataFrame({"clinic": "ort_nord", "stage": "treatment", "week_ahead": [1], "inflow": 20.0,
    ...                   "capacity": 18.0})
    >>> i = inputs_from_parameters(load_parameters("ort_nord", folder), f)
    >>> i.prices[["stage", "price_external_sek"]].values.tolist()
    [['new_visit', 2400.0], ['treatment', 85000.0]]
    >>> i.pools.to_dict(), i.summer_weeks, len(i.closures)
    ({'ort_nord': 'ortopedi'}, (27, 32), 3)
    """

    plist = _params_list(params_list)
    resources, closures = resources_frame(plist)
    summers = {(int(p["summer"]["first_week"]), int(p["summer"]["last_week"])) for p in plist}
    if len(summers) > 1:
        raise ValueError(f"params_list: the clinics have different summer weeks {sorted(summers)}; "
                         f"run them separately")
    pools = resources.set_index("clinic")["region_pool"].dropna().astype(object)
    return ScenarioInputs(flows=flows, waiting=waiting, prices=prices_frame(plist), resources=resources,
                          closures=closures, pools=pools.rename("region_pool"),
                          summer_weeks=summers.pop() if summers else (27, 32))


# ----------------------------------------------------------------------------- applying one scenario
def _scenario_fields(scenario, clinics) -> pd.DataFrame:
    """The scenario's fields per clinic (index = clinics, columns = SCENARIO_FIELDS), 0 = no change."""
    clinics = pd.Index(clinics)
    fields = pd.DataFrame(0.0, index=clinics, columns=list(SCENARIO_FIELDS))
    if scenario is None:
        return fields
    if isinstance(scenario, pd.DataFrame):
        if "clinic" not in scenario.columns:
            raise ValueError("scenario: a DataFrame needs a 'clinic' column (one row per clinic)")
        if scenario["clinic"].duplicated().any():
            raise ValueError("scenario has more than one row for the same clinic")
        given = [f for f in SCENARIO_FIELDS if f in scenario.columns]
        raw = scenario.set_index("clinic")[given]
        table = raw.apply(pd.to_numeric, errors="coerce")
        bad = table.isna() & raw.notna()
        if bad.to_numpy().any():
            column = bad.any()[bad.any()].index[0]
            raise ValueError(f"scenario: {column!r} must be a number, got {raw.loc[bad[column], column].iloc[0]!r}")
        table = table.fillna(0.0)
        table = table.reindex(clinics).fillna(0.0)
        fields[given] = table.to_numpy(dtype=float)
    elif isinstance(scenario, Mapping):
        unknown = [k for k in scenario if k not in SCENARIO_FIELDS and k not in ("description", "scenario", "clinic")]
        if unknown:
            raise ValueError(f"scenario: unknown key(s) {unknown} (known: {list(SCENARIO_FIELDS)})")
        for f in SCENARIO_FIELDS:
            value = scenario.get(f)
            if value is None:
                continue
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
                raise ValueError(f"scenario: {f!r} must be a number, got {value!r}")
            fields[f] = float(value)
    else:
        raise ValueError(f"scenario must be a mapping or a DataFrame, got {type(scenario).__name__}")
    values = fields.to_numpy(dtype=float)
    if not np.isfinite(values).all():
        raise ValueError("scenario: every field must be a finite number")
    for f in ("inflow_change_pct", "purchase_price_change_pct"):
        if (fields[f] < -100).any():
            raise ValueError(f"scenario: {f!r} must be >= -100 [%], got {fields[f].min()}")
    weeks = fields["summer_closure_extra_weeks"]
    if (weeks != np.round(weeks)).any():
        raise ValueError(f"scenario: 'summer_closure_extra_weeks' must be whole weeks, "
                         f"got {weeks[weeks != np.round(weeks)].iloc[0]}")
    return fields


def _closure_table(closures: pd.DataFrame) -> pd.DataFrame:
    _check_frame(closures, "inputs.closures", ("clinic", "start", "end", "capacity_share"))
    out = closures[["clinic", "start", "end", "capacity_share"]].copy()
    out["start"] = pd.to_datetime(out["start"]).dt.normalize()
    out["end"] = pd.to_datetime(out["end"]).dt.normalize()
    share = out["capacity_share"].to_numpy(dtype=float)
    if not np.isfinite(share).all() or (share < 0).any() or (share > 1).any():
        raise ValueError("inputs.closures: capacity_share must lie in 0..1 [share]")
    return out


def _availability(closures: pd.DataFrame | None, clinics: np.ndarray, periods: pd.PeriodIndex):
    """Working days per week and each clinic's closure availability in each week.

    ``availability[c, w]`` = mean over the working days of week ``w`` of the capacity share
    on that day (1 outside closures; 1 in a week without working days) [share 0-1]: the
    day-weighted share of :func:`kps_analysis.capacity.capacity_from_resources`.
    """
    return closure_shares(np.asarray(clinics, dtype=object).astype(str), periods, closures)


def _summer_extended(closures: pd.DataFrame, weeks_by_clinic: pd.Series, summer_weeks) -> tuple[pd.DataFrame, list]:
    """Closures with each clinic's summer closure(s) extended by ``7 × weeks`` days at the end."""
    first, last = int(summer_weeks[0]), int(summer_weeks[1])
    out = closures.copy()
    n = weeks_by_clinic.reindex(out["clinic"]).fillna(0.0).to_numpy()
    summer = np.zeros(len(out), dtype=bool)
    if len(out):
        for side in ("start", "end"):  # the summer of the ISO year of the start, and of the end
            year = out[side].dt.isocalendar()["year"].to_numpy(dtype=np.int64)
            lo = pd.PeriodIndex(_cal.period_from_iso(year, np.full(len(year), first))).start_time
            hi = pd.PeriodIndex(_cal.period_from_iso(year, np.full(len(year), last))).end_time.normalize()
            summer |= (out["start"].to_numpy() <= hi.to_numpy()) & (out["end"].to_numpy() >= lo.to_numpy())
    change = summer & (n != 0)
    out.loc[change, "end"] = out.loc[change, "end"] + pd.to_timedelta(7 * n[change], unit="D")
    asked = weeks_by_clinic[weeks_by_clinic != 0].index
    without = sorted(set(asked) - set(out.loc[summer, "clinic"]), key=str)
    return out[out["end"] >= out["start"]], without  # shortened by more than its length: gone


def apply_scenario(inputs: ScenarioInputs, scenario, *, moved_stage: str = "treatment") -> ScenarioInputs:
    """Apply one what-if scenario to the inputs: changed inflow, own capacity and prices.

    Per clinic ``c``, stage ``s`` and week ``k`` (``wd`` = working days of the week,
    ``A`` = the closure availability of the week, the mean capacity share over its
    working days, ``A'`` the same with the summer closure extended)::

        inflow'[s,k]   = inflow[s,k] · (1 + inflow_change_pct/100)
                         - moved[c] + received[c]    (on the ``moved_stage`` only)
        capacity'[s,k] = capacity[s,k] · A'[k] / A[k]
                         + extra[s] · yield[s] · wd[k]/5 · A'[k]            [patients/week]
        extra, yield   = extra_new_visit_slots_per_week, 1 - no_show_rate     (new_visit)
                         extra_theatre_sessions_per_week, operations_per_session (treatment)
        price'         = price_external · (1 + purchase_price_change_pct/100)   [SEK]

    ``summer_closure_extra_weeks`` = n moves the end of the clinic's summer closure (the
    closure overlapping ISO weeks ``summer_weeks``) by 7·n days: the n weeks after it
    get the closure's capacity share (negative n: its last weeks get full capacity).
    Moved patients go, split equally, to the other clinics of the same ``pools`` entry
    present in the flows (``received``); without one they simply leave the clinic's
    list. Inflow bounds (``lo_*``, ``hi_*``) are scaled and shifted like the inflow;
    inflow and capacity are kept >= 0 (with a warning when a move empties the inflow).

    Parameters
    ----------
    inputs : ScenarioInputs
        The baseline.
    scenario : mapping, DataFrame or None
        The fields of :data:`SCENARIO_FIELDS` (missing = 0): a mapping (e.g.
        ``params.scenarios.inflow_plus_10``) applied to every clinic, or a frame with
        ``clinic`` and the fields, one row per clinic (clinics not in it unchanged);
        None = the baseline.
    moved_stage : {"treatment", "new_visit"}, optional
        The queue patients are moved from (a clinic without a treatment stage moves
        first-visit patients).

    Returns
    -------
    ScenarioInputs
        A copy with ``flows`` (``inflow``, bounds, ``capacity``) and ``prices``
        (``price_external_sek``) changed.

    Raises
    ------
    ValueError
        For an unknown field, a change below -100 %, a fractional number of weeks, a
        calendar-dependent field without ``flows.period``, extra sessions or slots
        without ``inputs.resources``, a summer extension without ``inputs.closures``,
        or a shortened closure with ``capacity_share`` 0 (the full week's capacity is
        unknown).

    Examples
    --------
    10 % more inflow, two extra theatre sessions of 2.5 operations in a normal week
    (5 working days, no closure): 100 -> 110 patients, 20 -> 25 operations:

    >>> f = pd.DataFrame({"clinic": "a", "stage": "treatment", "week_ahead": [1],
    ...                   "period": [pd.Period("2025-03-03", "W-SUN")], "inflow": 100.0, "capacity": 20.0})
    >>> r = pd.DataFrame({"clinic": ["a"], "operations_per_session": [2.5], "no_show_rate": [0.05]})
    >>> s = apply_scenario(ScenarioInputs(f, resources=r),
    ...                    {"inflow_change_pct": 10, "extra_theatre_sessions_per_week": 2})
    >>> s.flows[["inflow", "capacity"]].round(9).values.tolist()
    [[110.0, 25.0]]
    """
    if not isinstance(inputs, ScenarioInputs):
        raise ValueError(f"inputs must be ScenarioInputs, got {type(inputs).__name__}")
    if moved_stage not in STAGE_NAMES:
        raise ValueError(f"moved_stage must be one of {list(STAGE_NAMES)}, got {moved_stage!r}")
    _check_flows(inputs.flows)
    flows = inputs.flows.copy()
    clinics = pd.Index(pd.unique(flows["clinic"]))
    fields = _scenario_fields(scenario, clinics)
    row_fields = fields.reindex(flows["clinic"])
    bounds = [c for c in flows.columns if c.startswith(_BOUND_PREFIXES)]
    inflow_cols = ["inflow", *bounds]

    # -- inflow: proportional change, then moves within the pool
    factor = 1.0 + row_fields["inflow_change_pct"].to_numpy() / 100.0
    for col in inflow_cols:
        flows[col] = flows[col].to_numpy(dtype=float) * factor
    if (fields["moved_patients_per_week"] != 0).any():
        _move_inflow(flows, inputs, fields["moved_patients_per_week"], clinics, inflow_cols, moved_stage)
    # -- capacity: the summer closure extended, extra sessions and slots
    changes = fields[["extra_new_visit_slots_per_week", "extra_theatre_sessions_per_week",
                      "summer_closure_extra_weeks"]]
    if (changes != 0).any().any():
        _change_capacity(flows, inputs, fields, clinics)
    prices = _scenario_prices(inputs.prices, fields["purchase_price_change_pct"])
    return dataclasses.replace(inputs, flows=flows, prices=prices)


def _move_inflow(flows: pd.DataFrame, inputs: ScenarioInputs, moved: pd.Series, clinics: pd.Index,
                 inflow_cols: list, moved_stage: str) -> None:
    """Move ``moved`` patients a week per clinic to the others of its pool (in place, on the moved stage)."""
    has_stage = flows.groupby("clinic", observed=True)["stage"].agg(lambda s: moved_stage in set(s))
    target = np.where(has_stage.reindex(clinics).to_numpy(dtype=bool), moved_stage,
                      "new_visit" if moved_stage == "treatment" else "treatment")
    target = pd.Series(target, index=clinics)
    received = pd.Series(0.0, index=clinics)
    if inputs.pools is not None and len(inputs.pools):
        pool = inputs.pools.reindex(clinics)
        size = pool.map(pool.value_counts())
        others = (size - 1).where(pool.notna(), 0).fillna(0).to_numpy(dtype=float)
        share = pd.Series(np.where(others > 0, moved.to_numpy() / np.where(others > 0, others, 1.0), 0.0),
                          index=clinics)
        pool_total = share.groupby(pool).transform("sum").reindex(clinics).fillna(0.0)
        received = (pool_total - share).where(pool.notna(), 0.0)
    delta = (received - moved).reindex(flows["clinic"]).to_numpy()
    on_stage = flows["stage"].astype(str).to_numpy() == target.reindex(flows["clinic"]).to_numpy()
    before = flows["inflow"].to_numpy(dtype=float)
    if (on_stage & (before + delta < -1e-9)).any():
        warnings.warn("apply_scenario: more patients moved than arrive in some weeks; the inflow is "
                      "set to 0 there", UserWarning, stacklevel=3)
    for col in inflow_cols:
        flows[col] = np.where(on_stage, np.maximum(flows[col].to_numpy(dtype=float) + delta, 0.0),
                              flows[col].to_numpy(dtype=float))


def _change_capacity(flows: pd.DataFrame, inputs: ScenarioInputs, fields: pd.DataFrame, clinics: pd.Index) -> None:
    """Scale the capacity by the extended summer closure and add extra sessions and slots (in place)."""
    extra_slots = fields["extra_new_visit_slots_per_week"]
    extra_sessions = fields["extra_theatre_sessions_per_week"]
    summer_weeks = fields["summer_closure_extra_weeks"]
    if "period" not in flows.columns:
        raise ValueError("inputs.flows needs a 'period' column (ISO weeks) for extra slots, extra sessions "
                         "or a changed summer closure")
    periods = pd.PeriodIndex(flows["period"].array)
    uniq = periods.unique()
    closures = None if inputs.closures is None else _closure_table(inputs.closures)
    wd, avail_old = _availability(closures, clinics.to_numpy(), uniq)
    avail_new = avail_old
    if (summer_weeks != 0).any():
        if closures is None:
            raise ValueError("inputs.closures is needed for summer_closure_extra_weeks")
        extended, without = _summer_extended(closures, summer_weeks, inputs.summer_weeks)
        if without:
            warnings.warn(f"apply_scenario: no summer closure for {without}; summer_closure_extra_weeks "
                          f"has no effect there", UserWarning, stacklevel=3)
        _, avail_new = _availability(extended, clinics.to_numpy(), uniq)
    ci = clinics.get_indexer(flows["clinic"])
    wi = uniq.get_indexer(periods)
    a_old, a_new = avail_old[ci, wi], avail_new[ci, wi]
    cap = flows["capacity"].to_numpy(dtype=float)
    reopened = (a_old <= 0) & (a_new > 0) & np.isfinite(cap)
    if reopened.any():
        raise ValueError("scenario: summer_closure_extra_weeks shortens a closure with capacity_share 0; the "
                         "capacity of the reopened week is unknown (give a capacity without the closure)")
    ratio = np.where(a_old > 0, a_new / np.where(a_old > 0, a_old, 1.0), 1.0)
    extra = np.zeros(len(flows))
    if (extra_slots != 0).any() or (extra_sessions != 0).any():
        stage = flows["stage"].astype(str).to_numpy()
        extra = (_extra_capacity(inputs, clinics, flows["clinic"], stage, extra_slots, extra_sessions)
                 * wd[wi] / 5.0 * a_new)
    flows["capacity"] = np.maximum(cap * ratio + extra, 0.0)


def _extra_capacity(inputs: ScenarioInputs, clinics: pd.Index, row_clinic: pd.Series, stage: np.ndarray,
                    extra_slots: pd.Series, extra_sessions: pd.Series) -> np.ndarray:
    """Patients a week the extra slots (net of no-shows) or sessions give per flow row, in a full week."""
    if inputs.resources is None:
        raise ValueError("inputs.resources (operations_per_session, no_show_rate) is needed for extra "
                         "theatre sessions or new-visit slots")
    res = inputs.resources.set_index("clinic").reindex(clinics)
    no_show = res["no_show_rate"].fillna(0.0) if "no_show_rate" in res.columns else pd.Series(0.0, clinics)
    per_session = (res["operations_per_session"] if "operations_per_session" in res.columns
                   else pd.Series(np.nan, clinics))
    lacking = clinics[(extra_sessions != 0).to_numpy() & per_session.isna().to_numpy()]
    if len(lacking):
        raise ValueError(f"inputs.resources: operations_per_session is missing for {list(lacking)[:5]}, "
                         f"needed for extra theatre sessions")
    slot_yield = (extra_slots * (1.0 - no_show)).reindex(row_clinic).to_numpy()
    session_yield = (extra_sessions * per_session.fillna(0.0)).reindex(row_clinic).to_numpy()
    return np.where(stage == "new_visit", slot_yield, session_yield)


def _scenario_prices(prices: pd.DataFrame | None, change: pd.Series) -> pd.DataFrame | None:
    """The external prices changed by ``purchase_price_change_pct`` per clinic [SEK/patient]."""
    if prices is not None and (change != 0).any():
        _check_frame(prices, "inputs.prices", ("clinic", "price_external_sek"))
        prices = prices.copy()
        f = 1.0 + change.reindex(prices["clinic"]).fillna(0.0).to_numpy() / 100.0
        prices["price_external_sek"] = prices["price_external_sek"].to_numpy(dtype=float) * f
    return prices


# ----------------------------------------------------------------------------- evaluation
def _purchase(waiting, flows, prices, *, policy, guarantee_days, order):
    """purchase.purchase_need for flows, with the prices attached."""
    return purchase_need(waiting, flows, policy=policy, prices=prices, guarantee_days=guarantee_days,
                                       order=order)


def _gap(waiting, flows, *, guarantee_days, order, clear_by_weeks):
    """capacity.capacity_gap(capacity_need(...), capacity) per series and week."""
    need = capacity_need(flows[["clinic", "stage", "week_ahead", "inflow"]], waiting=waiting,
                                       clear_by=clear_by_weeks, guarantee_days=guarantee_days, order=order)
    return capacity_gap(need, flows[["clinic", "stage", "week_ahead", "capacity"]])


def _evaluate(inputs: ScenarioInputs, *, horizon_weeks: int, guarantee_days: float, order: str,
              policy: str, clear_by_weeks: int) -> pd.DataFrame:
    """Per clinic: inflow, capacity, capacity gap, breaches without purchase, purchase need and cost."""
    flows = inputs.flows[inputs.flows["week_ahead"] <= horizon_weeks].copy()
    flows["external"] = 0.0
    out = flows.groupby("clinic", observed=True)[["inflow", "capacity"]].sum()
    breaches = project_breaches(inputs.waiting, flows, guarantee_days=guarantee_days, order=order)
    last = breaches["week_ahead"] == breaches.groupby(["clinic", "stage"], observed=True)["week_ahead"].transform("max")
    out["breaches"] = breaches[last].groupby("clinic", observed=True)["over_limit"].sum()
    out["breaches_max"] = (breaches.groupby(["clinic", "week_ahead"], observed=True)["over_limit"].sum()
                           .groupby(level="clinic", observed=True).max())
    gap = _gap(inputs.waiting, flows, guarantee_days=guarantee_days, order=order, clear_by_weeks=clear_by_weeks)
    out["capacity_gap"] = gap.groupby("clinic", observed=True)["gap"].sum()
    buy = _purchase(inputs.waiting, flows.drop(columns="external"), inputs.prices, policy=policy,
                    guarantee_days=guarantee_days, order=order)
    buy = buy[buy["week_ahead"] <= horizon_weeks]
    out["purchase_need"] = buy.groupby("clinic", observed=True)["purchase"].sum()
    out["purchase_cost_sek"] = buy.groupby("clinic", observed=True)["cost_external_sek"].sum(min_count=1)
    return out.reset_index()


def _scenario_specs(scenarios) -> list[tuple[str, str, object]]:
    """(name, description, spec) per scenario from a scenario_table frame or a mapping."""
    if isinstance(scenarios, pd.DataFrame):
        _check_frame(scenarios, "scenarios", ("scenario", "clinic"))
        specs = []
        for name, rows in scenarios.groupby("scenario", sort=False):
            text = (rows["description"].dropna().astype(str) if "description" in rows.columns
                    else pd.Series([], dtype=str))
            specs.append((str(name), "; ".join(pd.unique(text[text != ""])), rows))
        return specs
    if isinstance(scenarios, Mapping):
        return [(str(name), str((spec or {}).get("description") or ""), spec) for name, spec in scenarios.items()]
    raise ValueError(f"scenarios must be a scenario_table DataFrame or a mapping of name -> fields, "
                     f"got {type(scenarios).__name__}")


def run_scenarios(inputs: ScenarioInputs, scenarios, *, horizon_weeks: int = 12, guarantee_days: float = 90,
                  order: str = "fifo", policy: str = "guarantee", baseline: bool = True,
                  moved_stage: str = "treatment", clear_by_weeks: int | None = None) -> pd.DataFrame:
    """Run each scenario through need -> gap -> purchase -> breaches, side by side.

    For each scenario (after :func:`apply_scenario`) and clinic, over weeks
    1..``horizon_weeks``::

        inflow        = Σ inflow over stages and weeks                     [patients]
        capacity      = Σ own capacity                                     [patients]
        capacity_gap  = Σ (need - capacity) of capacity.capacity_gap, the need being
                        the inflow plus the backlog above the target queue spread
                        over ``clear_by_weeks`` (capacity.capacity_need)   [patients]
        breaches      = patients past ``guarantee_days`` at the end of the horizon with
                        own capacity only (nothing bought), waits.project_breaches
        breaches_max  = the largest such number at the end of any week of the horizon
        purchase_need = Σ purchase of purchase.purchase_need (``policy``)  [patients]
        purchase_cost_sek = Σ its cost at the (scenario's) contract prices [SEK]

    and the change of breaches, purchase need and cost against the baseline.

    Parameters
    ----------
    inputs : ScenarioInputs
        The baseline; ``waiting`` is required.
    scenarios : DataFrame or mapping
        :func:`scenario_table` output (one row per scenario and clinic: a scenario
        defined for one clinic still shows its effect on the others of the pool), or a
        mapping name -> fields applied to every clinic.
    horizon_weeks : int, optional
        Weeks summed, default 12 [weeks].
    guarantee_days : float, optional
        Guarantee limit [days].
    order : {"fifo", "priority"}, optional
        Serving order of the projections.
    policy : {"guarantee", "target"}, optional
        Purchase policy of :func:`kps_analysis.purchase.purchase_need`.
    baseline : bool, optional
        Include the unchanged inputs as scenario ``"baseline"`` (first).
    moved_stage : str, optional
        See :func:`apply_scenario`.
    clear_by_weeks : int, optional
        Weeks in which the capacity need clears the backlog above the target queue;
        default the horizon [weeks].

    Returns
    -------
    DataFrame
        One row per scenario and clinic: ``scenario``, ``description``, ``clinic``,
        ``horizon_weeks``, ``inflow``, ``capacity``, ``capacity_gap``, ``breaches``,
        ``breaches_max``, ``purchase_need`` [patients], ``purchase_cost_sek`` [SEK], and
        ``breaches_change``, ``purchase_need_change``, ``purchase_cost_change_sek``
        against the baseline (NaN without one).

    Raises
    ------
    ValueError
        For inputs without ``waiting``, a horizon beyond the flows, or invalid scenarios.

    Examples
    --------
    30 patients at 85 days, capacity 10 a week, 7 referrals a week (1 a day), 1,000 SEK
    per bought visit. Without purchase 20 are past 90 days at the end of week 1; the
    guarantee policy buys exactly those 20 (20,000 SEK). Five more slots a week (no
    no-shows) leave 15 to buy; a 50 % dearer contract costs 30,000 SEK for the same 20:

    >>> w = pd.DataFrame({"clinic": "a", "stage": "new_visit", "wait_days": [85], "patients": [30.0]})
    >>> f = pd.DataFrame({"clinic": "a", "stage": "new_visit", "week_ahead": [1, 2, 3],
    ...                   "period": pd.period_range("2025-03-03", periods=3, freq="W-SUN"),
    ...                   "inflow": 7.0, "capacity": 10.0})
    >>> prices = pd.DataFrame({"clinic": ["a"], "stage": ["new_visit"], "price_external_sek": [1000.0]})
    >>> res = pd.DataFrame({"clinic": ["a"], "no_show_rate": [0.0]})
    >>> t = run_scenarios(ScenarioInputs(f, waiting=w, prices=prices, resources=res),
    ...                   {"more_slots": {"extra_new_visit_slots_per_week": 5},
    ...                    "dearer": {"purchase_price_change_pct": 50}}, horizon_weeks=3)
    >>> for row in t[["scenario", "capacity", "breaches_max", "purchase_need", "purchase_cost_sek"]].values.tolist():
    ...     print(row)
    ['baseline', 30.0, 20.0, 20.0, 20000.0]
    ['more_slots', 45.0, 15.0, 15.0, 15000.0]
    ['dearer', 30.0, 20.0, 20.0, 30000.0]
    """
    if not isinstance(inputs, ScenarioInputs):
        raise ValueError(f"inputs must be ScenarioInputs, got {type(inputs).__name__}")
    if inputs.waiting is None:
        raise ValueError("inputs.waiting is needed to run scenarios (who waits now)")
    _check_flows(inputs.flows)
    if isinstance(horizon_weeks, bool) or not isinstance(horizon_weeks, (int, np.integer)) or horizon_weeks < 1:
        raise ValueError(f"horizon_weeks must be a whole number >= 1, got {horizon_weeks!r}")
    if horizon_weeks > inputs.flows["week_ahead"].max():
        raise ValueError(f"horizon_weeks ({horizon_weeks}) is beyond the flows "
                         f"({int(inputs.flows['week_ahead'].max())} weeks)")
    clear = int(horizon_weeks) if clear_by_weeks is None else clear_by_weeks
    if isinstance(clear, bool) or not isinstance(clear, (int, np.integer)) or clear < 1:
        raise ValueError(f"clear_by_weeks must be a whole number >= 1, got {clear_by_weeks!r}")
    specs = _scenario_specs(scenarios)
    if baseline:
        specs = [("baseline", "", None)] + [s for s in specs if s[0] != "baseline"]
    parts = []
    for name, description, spec in specs:
        applied = apply_scenario(inputs, spec, moved_stage=moved_stage)
        result = _evaluate(applied, horizon_weeks=int(horizon_weeks), guarantee_days=guarantee_days, order=order,
                           policy=policy, clear_by_weeks=clear)
        parts.append(result.assign(scenario=name, description=description))
    table = pd.concat(parts, ignore_index=True)
    table["horizon_weeks"] = int(horizon_weeks)
    base = table[table["scenario"] == "baseline"].set_index("clinic") if baseline else None
    for col, new in (("breaches", "breaches_change"), ("purchase_need", "purchase_need_change"),
                     ("purchase_cost_sek", "purchase_cost_change_sek")):
        ref = base[col].reindex(table["clinic"]).to_numpy() if base is not None else np.nan
        table[new] = table[col].to_numpy(dtype=float) - ref
    columns = ["scenario", "description", "clinic", "horizon_weeks", "inflow", "capacity", "capacity_gap",
               "breaches", "breaches_max", "purchase_need", "purchase_cost_sek", "breaches_change",
               "purchase_need_change", "purchase_cost_change_sek"]
    return table[columns]


# ----------------------------------------------------------------------------- Monte Carlo
def _z_of(level: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(0.5 + level / 200.0))


def _draws(rng: np.random.Generator, n_clinics: int, runs: int, weeks: int, autocorrelation: float) -> np.ndarray:
    """Standard normal draws (clinics × runs × weeks), AR(1) over weeks with the given correlation."""
    e = rng.standard_normal((n_clinics, runs, weeks))
    if autocorrelation == 0 or weeks < 2:
        return e
    z = np.empty_like(e)
    z[:, :, 0] = e[:, :, 0]
    scale = np.sqrt(1.0 - autocorrelation ** 2)
    for k in range(1, weeks):
        z[:, :, k] = autocorrelation * z[:, :, k - 1] + scale * e[:, :, k]
    return z


def _sample_inflow(mean, lo, hi, z, *, level: float, distribution: str) -> np.ndarray:
    """Inflow paths from the interval at ``level``: arrays (series × weeks) and draws (series × runs × weeks)."""
    zl = _z_of(level)
    mean, lo, hi = mean[:, None, :], lo[:, None, :], hi[:, None, :]
    if distribution == "normal":
        sigma = (hi - lo) / (2.0 * zl)
        return np.maximum(mean + sigma * z, 0.0)
    # lognormal with the same mean: log-sd from the interval's log-width
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.where(lo > 0, np.log(hi / lo) / (2.0 * zl),
                     np.where(mean > 0, np.log(np.maximum(hi, mean) / mean) / zl, 0.0))
        s = np.nan_to_num(s, nan=0.0, posinf=0.0)
        mu = np.log(np.where(mean > 0, mean, 1.0)) - s ** 2 / 2.0
        return np.where(mean > 0, np.exp(mu + s * z), 0.0)


def monte_carlo(waiting: pd.DataFrame, flows: pd.DataFrame, *, runs: int = 1000, seed: int = 2019,
                level: float = 80, distribution: str = "normal", confidence=(50, 80, 95),
                guarantee_days: float = 90, order: str = "fifo", tolerance: float = 0.5,
                autocorrelation: float = 0.0, purchase: bool = True, prices: pd.DataFrame | None = None,
                chunk_runs: int = 250) -> MonteCarloResult:
    """Monte Carlo over the inflow forecast's uncertainty: breach probability and purchase need.

    For each run ``r``, clinic ``c``, stage ``s`` and week ``k`` (``z`` standard normal,
    the same for every stage of a clinic in a run and week; AR(1) over the weeks with
    ``autocorrelation`` ρ: ``z[k] = ρ·z[k-1] + sqrt(1-ρ²)·e[k]``)::

        normal:    inflow = max(mean + σ·z, 0),   σ = (hi - lo) / (2·z_L)
        lognormal: inflow = exp(μ + s·z),         s = ln(hi/lo) / (2·z_L),
                                                  μ = ln(mean) - s²/2   (same mean)

    with ``lo``/``hi`` the ``lo_<level>``/``hi_<level>`` bounds and ``z_L`` the standard
    normal quantile of the level (1.2816 for 80 %, 1.9600 for 95 %). Each path is
    projected with the planned capacity (``capacity`` + ``external``) by
    :func:`kps_analysis.waits.project_breaches`, all runs at once (the run is a key of
    the projection). Then::

        p_no_breach   = share of runs where over_limit <= tolerance in every week
        purchase_pXX  = the XX % quantile over runs of Σ_k purchase (guarantee policy of
                        :func:`kps_analysis.purchase.purchase_need`): the volume that
                        suffices in XX % of the futures                    [patients]

    Zero-width intervals give every run the deterministic answer. Served longest wait
    first, a patient who arrives in the horizon passes 90 days only after 13 weeks, so
    the inflow's uncertainty shows in the answer only with a horizon beyond the
    guarantee limit (e.g. 26 weeks) or with ``order="priority"``; within 12 weeks the
    breaches come from the patients waiting now.

    Parameters
    ----------
    waiting : DataFrame
        Who waits now (``clinic``, ``stage``, ``wait_days``, ``patients`` or one row per
        patient, optional ``priority``) [days, patients].
    flows : DataFrame
        ``clinic``, ``stage``, ``week_ahead``, ``inflow`` (the forecast mean),
        ``lo_<level>``, ``hi_<level>``, ``capacity``, optional ``external`` (planned
        purchase) [patients/week].
    runs : int, optional
        Number of paths (parameter ``simulation.runs``) [runs].
    seed : int, optional
        Random seed (parameter ``simulation.seed``): the same seed gives the same numbers.
    level : float, optional
        Which interval the spread is read from [%].
    distribution : {"normal", "lognormal"}, optional
        Shape of the weekly inflow around the mean.
    confidence : iterable of float, optional
        Confidence levels of the purchase volume [%].
    guarantee_days : float, optional
        Guarantee limit [days].
    order : {"fifo", "priority"}, optional
        Serving order.
    tolerance : float, optional
        Expected patients over the limit still counted as none (the projection is in
        expected, fractional patients) [patients].
    autocorrelation : float, optional
        Week-to-week correlation of the draws, -1 < ρ < 1; 0 = independent weeks [-].
    purchase : bool, optional
        Also compute the purchase need per run (needs :mod:`kps_analysis.purchase`).
    prices : DataFrame, optional
        Prices passed to the purchase need (``clinic``, ``stage``, ``price_external_sek``,
        ``price_internal_sek``) [SEK/patient].
    chunk_runs : int, optional
        Runs projected together (memory bound) [runs].

    Returns
    -------
    MonteCarloResult
        ``summary``: one row per clinic and stage: ``clinic``, ``stage``, ``runs``,
        ``p_no_breach`` (this stage), ``p_no_breach_clinic`` (every stage of the clinic
        at once), ``mean_over_limit_end`` [patients], ``purchase_mean`` and
        ``purchase_p<XX>`` per confidence level [patients] (NaN when ``purchase`` is
        False). ``runs``: one row per clinic, stage and run: ``run``, ``inflow`` (Σ over
        the weeks), ``max_over_limit``, ``over_limit_end``, ``purchase`` [patients].

    Raises
    ------
    ValueError
        For missing columns (the interval bounds included), runs < 1, a level or
        confidence outside (0, 100), an unknown distribution, or |ρ| >= 1.

    Examples
    --------
    40 patients who waited 80 days, capacity 10 a week, inflow 5 ± nothing: every run
    is the deterministic one, and the 80-day group is served within four weeks:

    >>> w = pd.DataFrame({"clinic": "a", "stage": "new_visit", "wait_days": [80], "patients": [40.0]})
    >>> f = pd.DataFrame({"clinic": "a", "stage": "new_visit", "week_ahead": [1, 2, 3, 4],
    ...                   "inflow": 5.0, "lo_80": 5.0, "hi_80": 5.0, "capacity": 10.0})
    >>> mc = monte_carlo(w, f, runs=20, purchase=False)
    >>> mc.summary[["p_no_breach", "mean_over_limit_end"]].values.tolist()
    [[0.0, 0.0]]
    >>> mc.runs["max_over_limit"].unique().tolist()
    [20.0]
    """
    confidence = _check_monte_carlo_args(runs, level, confidence, distribution, autocorrelation, tolerance,
                                         chunk_runs)
    lname = f"{level:g}".replace(".", "_")
    lo_col, hi_col = f"lo_{lname}", f"hi_{lname}"
    flows, monthly = as_week_ahead(flows)  # months: each its own days in the projection
    _check_flows(flows, "flows")
    _check_frame(flows, "flows", (lo_col, hi_col))
    _check_frame(waiting, "waiting", ("clinic", "stage", "wait_days"))
    series, mat = _flow_matrices(flows, lo_col, hi_col, monthly)
    horizon = mat["inflow"].shape[1]

    clinics = pd.Index(pd.unique(series["clinic"]))
    rng = np.random.default_rng(seed)
    z = _draws(rng, len(clinics), int(runs), horizon, float(autocorrelation))[clinics.get_indexer(series["clinic"])]
    paths = _sample_inflow(mat["inflow"], mat[lo_col], mat[hi_col], z, level=level, distribution=distribution)
    wait = _waiting_by_series(waiting, series)
    run_parts = []
    for first in range(0, int(runs), int(chunk_runs)):
        ids = np.arange(first, min(first + int(chunk_runs), int(runs)))
        run_parts.append(_project_runs(ids, series, mat, paths, wait, monthly=monthly, guarantee_days=guarantee_days,
                                       order=order, purchase=purchase, prices=prices))
    per_run = pd.concat(run_parts, ignore_index=True).rename(columns={"group": "run"})
    per_run["run"] = per_run["run"].astype(np.int64)
    per_run = per_run.sort_values(["clinic", "stage", "run"], kind="stable").reset_index(drop=True)
    return MonteCarloResult(*_monte_carlo_summary(per_run, tolerance, confidence, purchase))


def _check_monte_carlo_args(runs, level, confidence, distribution, autocorrelation, tolerance,
                            chunk_runs) -> tuple[float, ...]:
    """:func:`monte_carlo`'s scalar arguments checked; returns the confidence levels as floats [%]."""
    if isinstance(runs, bool) or not isinstance(runs, (int, np.integer)) or runs < 1:
        raise ValueError(f"runs must be a whole number >= 1, got {runs!r}")
    if not 0 < level < 100:
        raise ValueError(f"level must lie in (0, 100) [%], got {level!r}")
    confidence = tuple(float(c) for c in confidence)
    if any(not 0 < c < 100 for c in confidence):
        raise ValueError(f"confidence levels must lie in (0, 100) [%], got {confidence!r}")
    if distribution not in ("normal", "lognormal"):
        raise ValueError(f"distribution must be 'normal' or 'lognormal', got {distribution!r}")
    if not -1 < autocorrelation < 1:
        raise ValueError(f"autocorrelation must lie in (-1, 1), got {autocorrelation!r}")
    if tolerance < 0:
        raise ValueError(f"tolerance must be >= 0 [patients], got {tolerance!r}")
    if isinstance(chunk_runs, bool) or not isinstance(chunk_runs, (int, np.integer)) or chunk_runs < 1:
        raise ValueError(f"chunk_runs must be a whole number >= 1, got {chunk_runs!r}")
    return confidence


def _flow_matrices(flows: pd.DataFrame, lo_col: str, hi_col: str, monthly: bool) -> tuple[pd.DataFrame, dict]:
    """The series (clinic, stage) and their flows as (n_series, H) arrays, weeks without a row 0 [patients/week]."""
    f = flows.sort_values(["clinic", "stage", "week_ahead"], kind="stable").reset_index(drop=True)
    series = f[["clinic", "stage"]].drop_duplicates().reset_index(drop=True)
    horizon = int(f["week_ahead"].max())
    grid = series.merge(pd.DataFrame({"week_ahead": np.arange(1, horizon + 1)}), how="cross")
    cols = (["inflow", lo_col, hi_col, "capacity"] + (["external"] if "external" in f.columns else [])
            + (["period_days"] if monthly else []))
    full = grid.merge(f[["clinic", "stage", "week_ahead", *cols]], on=["clinic", "stage", "week_ahead"], how="left")
    n_s = len(series)
    mat = {c: full[c].fillna(0.0).to_numpy(dtype=float).reshape(n_s, horizon) for c in cols}
    if ((mat[lo_col] > mat["inflow"] + 1e-9) | (mat[hi_col] < mat["inflow"] - 1e-9)).any():
        raise ValueError(f"flows: {lo_col} <= inflow <= {hi_col} must hold")
    return series, mat


def _waiting_by_series(waiting: pd.DataFrame, series: pd.DataFrame) -> pd.DataFrame:
    """Who waits now, summed to (clinic, stage, [priority], wait_days), chosen waits left out [patients]."""
    wait = waiting.copy()
    if "patients" not in wait.columns:
        wait["patients"] = 1.0
    if "patient_chosen_wait" in wait.columns:
        wait = wait[~wait["patient_chosen_wait"].fillna(False).astype(bool)]
    wkeys = ["clinic", "stage"] + (["priority"] if "priority" in wait.columns else []) + ["wait_days"]
    wait = wait.groupby(wkeys, as_index=False, observed=True)["patients"].sum()
    wait = wait.merge(series, on=["clinic", "stage"], how="inner")
    return wait


def _project_runs(ids: np.ndarray, series: pd.DataFrame, mat: dict, paths: np.ndarray, wait: pd.DataFrame, *,
                  monthly: bool, guarantee_days: float, order: str, purchase: bool, prices) -> pd.DataFrame:
    """Project the runs ``ids`` at once (the run is the ``group`` key): per series and run the totals."""
    n_s, horizon = mat["inflow"].shape
    n_r = len(ids)
    long = pd.DataFrame({
        "clinic": np.repeat(series["clinic"].to_numpy(), n_r * horizon),
        "stage": np.repeat(series["stage"].to_numpy(), n_r * horizon),
        "group": np.tile(np.repeat(ids, horizon), n_s),
        "week_ahead": np.tile(np.arange(1, horizon + 1), n_s * n_r),
        "inflow": paths[:, ids, :].ravel(),
        "capacity": np.repeat(mat["capacity"][:, None, :], n_r, axis=1).ravel(),
        "external": (np.repeat(mat["external"][:, None, :], n_r, axis=1).ravel()
                     if "external" in mat else 0.0),
    })
    if monthly:
        long["period_days"] = np.repeat(mat["period_days"][:, None, :], n_r, axis=1).ravel().astype(np.int64)
    w_runs = wait.merge(pd.DataFrame({"group": ids}), how="cross")
    proj = project_breaches(w_runs, long, guarantee_days=guarantee_days, order=order)
    g = proj.groupby(["clinic", "stage", "group"], observed=True, sort=False)
    res = g.agg(inflow=("inflow", "sum"), max_over_limit=("over_limit", "max")).reset_index()
    end = proj[proj["week_ahead"] == horizon].set_index(["clinic", "stage", "group"])["over_limit"]
    res["over_limit_end"] = end.reindex(pd.MultiIndex.from_frame(res[["clinic", "stage", "group"]])).to_numpy()
    res["purchase"] = np.nan
    if purchase:
        buy = _purchase(w_runs, long.drop(columns="external"), prices, policy="guarantee",
                        guarantee_days=guarantee_days, order=order)
        total = buy.groupby(["clinic", "stage", "group"], observed=True)["purchase"].sum()
        res["purchase"] = total.reindex(pd.MultiIndex.from_frame(res[["clinic", "stage", "group"]])).fillna(
            0.0).to_numpy()
    return res


def _monte_carlo_summary(per_run: pd.DataFrame, tolerance: float, confidence: tuple, purchase: bool):
    """``(summary, runs)`` of :class:`MonteCarloResult` from the per-run totals."""
    per_run["_ok"] = per_run["max_over_limit"] <= tolerance
    clinic_ok = per_run.groupby(["clinic", "run"], observed=True)["_ok"].all()
    g = per_run.groupby(["clinic", "stage"], observed=True, sort=False)
    summary = g.agg(runs=("run", "size"), p_no_breach=("_ok", "mean"),
                    mean_over_limit_end=("over_limit_end", "mean"), purchase_mean=("purchase", "mean")).reset_index()
    by_clinic = clinic_ok.groupby(level="clinic").mean()
    summary["p_no_breach_clinic"] = summary["clinic"].map(by_clinic).to_numpy(dtype=float)
    for c in confidence:
        name = f"purchase_p{c:g}".replace(".", "_")
        if purchase:
            q = g["purchase"].quantile(c / 100.0, interpolation="higher")
            summary[name] = q.reindex(pd.MultiIndex.from_frame(summary[["clinic", "stage"]])).to_numpy()
        else:
            summary[name] = np.nan
    summary["p_no_breach"] = summary["p_no_breach"].astype(float)
    order_cols = ["clinic", "stage", "runs", "p_no_breach", "p_no_breach_clinic", "mean_over_limit_end",
                  "purchase_mean"] + [c for c in summary.columns if c.startswith("purchase_p")]
    per_run = per_run.drop(columns="_ok")[["clinic", "stage", "run", "inflow", "max_over_limit",
                                           "over_limit_end", "purchase"]]
    return summary[order_cols], per_run
