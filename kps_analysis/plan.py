"""The rolling production plan (*rullande produktionsplan*) and plan-versus-outcome follow-up.

* :func:`rolling_plan`: the weekly production plan from a given week: the first
  ``fixed_weeks`` (default 12) are *fixed* (fastställd plan: kept from the previous plan,
  changed only by an explicit revision), the rest up to ``horizon_weeks`` (default 52)
  are *planned* (preliminary, recomputed every week). The planned volumes are the care
  agreement's annual volume (*vårdöverenskommelse*, *prestationsbudget*) broken down to
  ISO weeks by the clinic's seasonal profile and working days
  (:func:`kps_analysis.seasonal.periodise`), side by side with own capacity and the
  planned external purchase, with accumulated columns.
* :func:`export_plan_xlsx`: the plan as the clinic's planning template (``.xlsx``,
  Swedish headers, ISO week labels), with optional extra sheets.
* :func:`plan_vs_outcome`: follow-up (*plan mot utfall*) per week and accumulated over
  the year: planned versus actual production and inflow, the same weeks last year,
  deviations in numbers and per cent, and the escalation status of *nivåvis
  produktionsstyrning* (green stays with the unit, yellow goes to the clinic, red to
  the division, a red lasting four weeks or more to the region).
* :func:`escalation_status`: one status per clinic (its latest week, worst production
  measure) for the headline ``escalation`` column of ``summary.csv``.

Everything is per clinic and vectorised over clinics (``groupby``/merges on
``clinic``); the only loops are over the (one to three) ISO years the plan spans and
its two production measures.

Units: planned volumes, capacity and purchase are counts per ISO week
[visits/week, operations/week]; costs in SEK; deviations in the measure's unit and in
per cent of the plan.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd

from kps_analysis import calendar as _cal
from kps_analysis import seasonal as _seasonal
from kps_analysis.stages import STAGES

__all__ = [
    "PLAN_COLUMNS",
    "FOLLOW_UP_MEASURES",
    "STATUS_LEVELS",
    "agreement_volumes",
    "rolling_plan",
    "export_plan_xlsx",
    "plan_vs_outcome",
    "escalation_status",
]

#: Columns of :func:`rolling_plan`, in order.
PLAN_COLUMNS = (
    "clinic", "period", "week_ahead", "status", "origin", "working_days",
    "expected_referrals_in",
    "planned_new_visits", "planned_operations",
    "capacity_new_visits", "capacity_return_visits", "capacity_operations",
    "margin_new_visits", "margin_operations",
    "purchase_new_visits", "purchase_operations", "purchase_cost_sek",
    "cum_planned_new_visits", "cum_planned_operations",
    "cum_capacity_new_visits", "cum_capacity_operations",
    "cum_purchase_new_visits", "cum_purchase_operations",
)

#: Plan column -> (annual-volume column, seasonal-profile measure it is spread by).
_PLANNED = {
    "planned_new_visits": ("new_visits", "new_visits"),
    "planned_operations": ("operations", "operations_elective"),
}

#: Capacity column of :func:`kps_analysis.capacity.capacity_from_resources` -> plan column.
_CAPACITY = {
    "new_visit_capacity": "capacity_new_visits",
    "return_visit_capacity": "capacity_return_visits",
    "operation_capacity": "capacity_operations",
}

#: Stage of :func:`kps_analysis.purchase.purchase_need` -> plan column.
_PURCHASE = {name: spec.purchase for name, spec in STAGES.items()}

#: Follow-up measures: actual (canonical) column -> plan column it is compared with.
FOLLOW_UP_MEASURES = {
    "new_visits": "planned_new_visits",
    "operations_elective": "planned_operations",
    "referrals_in": "expected_referrals_in",
}

#: Escalation status -> the level that handles it (nivåvis produktionsstyrning); a red
#: lasting ``red_weeks_to_region`` weeks or more goes on to ``"region"``.
STATUS_LEVELS = {"green": "unit", "yellow": "clinic", "red": "division"}

_STATUS_RANK = {"green": 0, "yellow": 1, "red": 2}
_LEVEL_RANK = {"unit": 0, "clinic": 1, "division": 2, "region": 3}


# ----------------------------------------------------------------------------- helpers
def _as_week(value, name: str) -> pd.Period:
    """A W-SUN Period from a Period, a date or an ISO week label ("2026-W05")."""
    if isinstance(value, pd.Period):
        if value.freqstr != _cal.WEEK_FREQ:
            monthly = ("; the rolling plan is weekly: a monthly clinic's plan comes from the planning "
                       "model (kps_analysis.planning)") if value.freqstr in ("M", "ME") else ""
            raise ValueError(f"{name} must be an ISO week ({_cal.WEEK_FREQ} Period) or a date, "
                             f"got a {value.freqstr} Period{monthly}")
        return value
    try:
        if isinstance(value, str) and ("W" in value.upper()[4:] or "V" in value.upper()[4:]):
            return _cal.parse_iso_week([value])[0]
        return pd.Timestamp(value).to_period(_cal.WEEK_FREQ)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an ISO week (Period, date or '2026-W05'), got {value!r}") from None


def _whole(value, name: str, low: int, high: int | None = None) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f">= {low}"
        raise ValueError(f"{name} must be {bound}, got {value!r}")
    return int(value)


def _check_frame(frame, name: str, columns) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"{name} must be a DataFrame, got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} lacks column(s) {missing}")


def _check_weekly_periods(frame: pd.DataFrame, name: str) -> None:
    dtype = frame["period"].dtype
    if not isinstance(dtype, pd.PeriodDtype) or dtype.freq.freqstr != _cal.WEEK_FREQ:
        raise ValueError(f"{name}: column 'period' must hold ISO weeks ({_cal.WEEK_FREQ} Periods), got {dtype}")


def _period_kind(frame: pd.DataFrame, name: str) -> str:
    """"W" (ISO weeks) or "M" (months) of a frame's ``period`` column; ValueError naming the frame otherwise."""
    try:
        return _seasonal.period_kind(frame["period"], name)
    except ValueError:
        raise ValueError(f"{name}: column 'period' must hold ISO weeks ({_cal.WEEK_FREQ}) or months (M) "
                         f"Periods, got {frame['period'].dtype}") from None


def _iso_year_week(periods) -> tuple[np.ndarray, np.ndarray]:
    return _cal.iso_year_week(pd.PeriodIndex(periods))


def _profile_for(profile: pd.DataFrame | None, measure: str, clinics, volumes: np.ndarray) -> pd.DataFrame | None:
    """The profile rows of one measure, with flat rows added for clinics that lack one."""
    if profile is None:
        return None
    _check_frame(profile, "profile", ("clinic", "season", "factor"))
    if "group" in profile.columns:
        raise ValueError("profile: the plan is per clinic; give a profile per clinic (without 'group')")
    sub = profile
    if "measure" in profile.columns:
        sub = profile[profile["measure"] == measure]
    sub = sub[["clinic", "season", "factor"]]
    have = set(sub["clinic"])
    lacking = [c for c in clinics if c not in have]
    if lacking:
        needed = [c for c, v in zip(clinics, volumes) if c in lacking and v > 0]
        if needed:
            warnings.warn(f"rolling_plan: no seasonal profile of {measure!r} for {needed[:5]}"
                          f"{' and more' if len(needed) > 5 else ''}; their volume is spread by "
                          f"working days only (flat profile)", UserWarning, stacklevel=4)
        flat = pd.DataFrame({"clinic": np.repeat(np.asarray(lacking, dtype=object), 53),
                             "season": np.tile(np.arange(1, 54), len(lacking)), "factor": 1.0})
        sub = pd.concat([sub, flat], ignore_index=True)
    sub = sub.copy()
    sub.attrs = {"freq": "W"}
    return sub


def agreement_volumes(params_list) -> pd.DataFrame:
    """The care-agreement volumes of loaded clinic parameters as a frame.

    Unpacks ``annual_volume.new_visits`` and ``annual_volume.operations`` of each
    :class:`kps_analysis.parameters.Parameters` at the boundary, so that
    :func:`rolling_plan` never sees a parameter object.

    Parameters
    ----------
    params_list : Parameters or iterable of Parameters
        Loaded clinic parameters (:func:`kps_analysis.parameters.load_parameters`).

    Returns
    -------
    DataFrame
        ``clinic``, ``new_visits`` [visits/year], ``operations`` [operations/year].

    Examples
    --------
    >>> from pathlib import Path
    >>> import kps_analysis
    >>> from kps_analysis.parameters import load_parameters
    >>> folder = Path(kps_analysis.__file__).resolve().parents[1] / "parameters"
    >>> agreement_volumes(load_parameters("ort_nord", folder)).to_dict("records")
    [{'clinic': 'ort_nord', 'new_visits': 2200.0, 'operations': 1000.0}]
    """
    if isinstance(params_list, Mapping):
        params_list = [params_list]
    rows = [{"clinic": p.clinic_id, "new_visits": float(p["annual_volume"]["new_visits"]),
             "operations": float(p["annual_volume"]["operations"])} for p in params_list]
    return pd.DataFrame(rows, columns=["clinic", "new_visits", "operations"])


# ----------------------------------------------------------------------------- rolling plan
def rolling_plan(annual_volume: pd.DataFrame, start, *, profile: pd.DataFrame | None = None,
                 capacity: pd.DataFrame | None = None, purchase: pd.DataFrame | None = None,
                 inflow: pd.DataFrame | None = None, previous: pd.DataFrame | None = None,
                 revise: bool = False, revision: pd.DataFrame | None = None,
                 fixed_weeks: int = 12, horizon_weeks: int = 52,
                 working_days: bool = True) -> pd.DataFrame:
    """The rolling weekly production plan: fixed weeks, planned weeks, capacity and purchase.

    For each clinic and ISO week ``p`` of the plan (``week_ahead`` = 1 for ``start``)::

        planned[p]  = periodise(annual volume of ISO year(p))[p]         [count/week]
                      (seasonal factor × working days, whole numbers that add up
                      exactly to the annual volume over the ISO year)
        status[p]   = "fixed"   if week_ahead <= fixed_weeks            (fastställd)
                      "planned" otherwise                                (preliminär)
        margin[p]   = capacity[p] - planned[p]                           [count/week]
        cum_x[p]    = Σ x over week_ahead 1..p                           [count]

    A fixed week of ``previous`` (an earlier plan) keeps its planned volumes unless
    ``revise=True`` (``origin="previous"``); a week entering the fixed part takes the
    freshly periodised volume (``origin="agreement"``). Rows of ``revision`` then set
    the volumes they give explicitly (``origin="revision"``), fixed or not. So the
    fixed part changes only by explicit revision.

    Parameters
    ----------
    annual_volume : DataFrame
        ``clinic``, ``new_visits`` [visits/year], ``operations`` [operations/year] (the
        care agreement, e.g. :func:`agreement_volumes`); with a ``year`` column (ISO
        year), one row per clinic and year the plan touches, else the same volume every
        year.
    start : Period, date or str
        The first week of the plan, ``week_ahead = 1`` (usually the week after the
        latest reported week) [ISO week].
    profile : DataFrame, optional
        Weekly seasonal profiles (:func:`kps_analysis.seasonal.seasonal_profile`,
        ``clinic``, [``measure``], ``season``, ``factor``). New visits use the
        ``new_visits`` profile, operations the ``operations_elective`` one (a profile
        without ``measure`` serves both); a clinic without one gets a flat profile
        with a warning. Default: flat (working days only).
    capacity : DataFrame, optional
        Own capacity per week, as :func:`kps_analysis.capacity.capacity_from_resources`:
        ``clinic``, ``period``, ``new_visit_capacity``, ``return_visit_capacity``,
        ``operation_capacity`` [count/week] (any subset; rows of several groups summed).
    purchase : DataFrame, optional
        Planned external purchase, as :func:`kps_analysis.purchase.purchase_need`
        (one policy): ``clinic``, ``stage`` (``"new_visit"``/``"treatment"``),
        ``period`` or ``week_ahead`` (aligned with the plan's), ``purchase``
        [count/week] and optionally ``cost_external_sek`` [SEK/week]. Up to a clinic's
        last week in the frame a missing row means no purchase; later weeks are NaN.
    inflow : DataFrame, optional
        Expected referrals, e.g. a :func:`kps_analysis.forecast.forecast_demand` of
        ``referrals_in``: ``clinic``, ``period``, ``mean`` [referrals/week]; shown as
        ``expected_referrals_in`` and followed up by :func:`plan_vs_outcome`.
    previous : DataFrame, optional
        The previous plan (output of this function): its ``"fixed"`` weeks are kept.
    revise : bool, optional
        Recompute the fixed weeks from the agreement instead of keeping ``previous``.
    revision : DataFrame, optional
        Explicit changes: ``clinic``, ``period`` and ``planned_new_visits`` and/or
        ``planned_operations`` (NaN = unchanged) [count/week]. Rows for weeks outside
        the plan are ignored with a warning.
    fixed_weeks : int, optional
        Length of the fixed part, default 12 (``fixed_horizon_weeks``) [weeks].
    horizon_weeks : int, optional
        Length of the whole plan, default 52 (``planning_horizon_weeks``) [weeks].
    working_days : bool, optional
        Weight weeks by their working days when periodising (as the profile) [-].

    Returns
    -------
    DataFrame
        The columns of :data:`PLAN_COLUMNS`, one row per clinic and week, sorted by
        clinic and ``week_ahead``: ``clinic``, ``period`` (W-SUN), ``week_ahead``
        (1..H), ``status`` (``"fixed"``/``"planned"``), ``origin``
        (``"agreement"``/``"previous"``/``"revision"``), ``working_days`` [days],
        ``expected_referrals_in``, ``planned_*``, ``capacity_*``, ``margin_*``,
        ``purchase_*`` [count/week], ``purchase_cost_sek`` [SEK/week] and the
        accumulated ``cum_*`` [count]. Inputs not given leave their columns NaN.

    Raises
    ------
    ValueError
        For a missing column, a negative volume, a ``start`` that is not a week,
        ``fixed_weeks`` not in 0..``horizon_weeks``, a year of the plan without a
        volume, or duplicate weeks in ``previous``/``revision``.

    See Also
    --------
    kps_analysis.seasonal.periodise : the breakdown of the annual volume.
    plan_vs_outcome : follow-up of the plan.

    Examples
    --------
    2500 new visits and 1000 operations a year, flat profile, 2024 (250 working days:
    10 visits and 4 operations per working day). Weeks 12-15: Good Friday (week 13)
    and Easter Monday (week 14) take a day each:

    >>> vol = pd.DataFrame({"clinic": ["a"], "new_visits": [2500], "operations": [1000]})
    >>> p = rolling_plan(vol, "2024-W12", fixed_weeks=2, horizon_weeks=4)
    >>> rows = p[["week_ahead", "status", "working_days", "planned_new_visits", "planned_operations"]].values.tolist()
    >>> rows[:2]
    [[1, 'fixed', 5, 50.0, 20.0], [2, 'fixed', 4, 40.0, 16.0]]
    >>> rows[2:]
    [[3, 'planned', 4, 40.0, 16.0], [4, 'planned', 5, 50.0, 20.0]]
    >>> p["cum_planned_new_visits"].tolist()
    [50.0, 90.0, 130.0, 180.0]

    A week later the agreement is cut to 2000 visits; the fixed week 13 keeps its 40,
    week 14 (new in the fixed part) and 15 get the new breakdown (8 per working day):

    >>> vol2 = vol.assign(new_visits=2000)
    >>> q = rolling_plan(vol2, "2024-W13", fixed_weeks=2, horizon_weeks=3, previous=p)
    >>> q[["week_ahead", "origin", "planned_new_visits"]].values.tolist()
    [[1, 'previous', 40.0], [2, 'agreement', 32.0], [3, 'agreement', 40.0]]
    """
    _check_frame(annual_volume, "annual_volume", ("clinic", "new_visits", "operations"))
    start = _as_week(start, "start")
    horizon_weeks = _whole(horizon_weeks, "horizon_weeks", 1, 520)
    fixed_weeks = _whole(fixed_weeks, "fixed_weeks", 0, horizon_weeks)
    volumes, by_year = _checked_volumes(annual_volume)
    periods = pd.period_range(start, periods=horizon_weeks, freq=_cal.WEEK_FREQ)
    clinics = sorted(volumes["clinic"].unique(), key=str)
    agreed = _agreed_volumes(volumes, by_year, periods, clinics, profile, working_days)
    plan = _plan_grid(clinics, periods, volumes["clinic"].dtype, agreed, fixed_weeks)
    origin = np.full(len(plan), "agreement", dtype=object)
    if previous is not None and not revise:
        origin = _keep_previous_fixed(plan, origin, previous)
    if revision is not None:
        origin = _apply_revision(plan, origin, revision)
    plan["origin"] = origin.astype(str)
    plan["working_days"] = _cal.working_days(pd.PeriodIndex(plan["period"].array)).to_numpy(dtype=np.int64)
    _add_inflow_and_capacity(plan, inflow, capacity)
    for col in (*_PURCHASE.values(), "purchase_cost_sek"):
        plan[col] = np.nan
    if purchase is not None:
        _add_purchase(plan, purchase)
    plan["margin_new_visits"] = plan["capacity_new_visits"] - plan["planned_new_visits"]
    plan["margin_operations"] = plan["capacity_operations"] - plan["planned_operations"]
    return _accumulated(plan)[list(PLAN_COLUMNS)]


def _checked_volumes(annual_volume: pd.DataFrame) -> tuple[pd.DataFrame, bool]:
    """The annual volumes as floats, checked (finite, >= 0, one row per clinic [and year]); whether by year."""
    volumes = annual_volume.copy()
    for col in ("new_visits", "operations"):
        values = pd.to_numeric(volumes[col], errors="coerce").to_numpy(dtype=float)
        if not np.isfinite(values).all() or (values < 0).any():
            raise ValueError(f"annual_volume: {col!r} must be finite and >= 0 [count/year]")
        volumes[col] = values
    by_year = "year" in volumes.columns
    keys = ["clinic", "year"] if by_year else ["clinic"]
    if volumes.duplicated(keys).any():
        raise ValueError(f"annual_volume has more than one row per {' and '.join(keys)}")
    return volumes, by_year


def _agreed_volumes(volumes: pd.DataFrame, by_year: bool, periods: pd.PeriodIndex, clinics: list, profile,
                    working_days: bool) -> pd.DataFrame:
    """The agreement periodised over each ISO year the plan touches: ``clinic``, ``period``, ``planned_*``."""
    iso_year, _ = _iso_year_week(periods)
    parts = []
    for year in np.unique(iso_year):
        year_vol = volumes[volumes["year"] == year] if by_year else volumes
        if by_year:
            lacking = sorted(set(clinics) - set(year_vol["clinic"]), key=str)
            if lacking:
                raise ValueError(f"annual_volume has no row for ISO year {int(year)} for clinic(s) {lacking[:5]}")
        columns = {}
        for plan_col, (vol_col, measure) in _PLANNED.items():
            table = year_vol[["clinic", vol_col]].rename(columns={vol_col: "volume"})
            prof = _profile_for(profile, measure, list(table["clinic"]), table["volume"].to_numpy())
            spread = _seasonal.periodise(table, int(year), profile=prof, working_days=working_days)
            columns[plan_col] = spread.set_index(["clinic", "period"])["volume"]
        parts.append(pd.DataFrame(columns))
    return pd.concat(parts).reset_index()


def _plan_grid(clinics: list, periods: pd.PeriodIndex, clinic_dtype, agreed: pd.DataFrame,
               fixed_weeks: int) -> pd.DataFrame:
    """One row per clinic and week of the plan with the agreed volumes and the status (fixed/planned)."""
    horizon_weeks = len(periods)
    grid = pd.DataFrame({
        "clinic": np.repeat(np.asarray(clinics, dtype=object), horizon_weeks),
        "period": periods.take(np.tile(np.arange(horizon_weeks), len(clinics))),
        "week_ahead": np.tile(np.arange(1, horizon_weeks + 1, dtype=np.int64), len(clinics)),
    })
    grid["clinic"] = grid["clinic"].astype(clinic_dtype)
    plan = grid.merge(agreed, on=["clinic", "period"], how="left")
    for col in _PLANNED:
        plan[col] = plan[col].astype(float)
    plan["status"] = np.where(plan["week_ahead"].to_numpy() <= fixed_weeks, "fixed", "planned")
    return plan


def _keep_previous_fixed(plan: pd.DataFrame, origin: np.ndarray, previous: pd.DataFrame) -> np.ndarray:
    """Keep the fixed weeks of ``previous`` in ``plan`` (in place); returns the new origin per row."""
    _check_frame(previous, "previous", ("clinic", "period", "status", *_PLANNED))
    _check_weekly_periods(previous, "previous")
    kept = previous.loc[previous["status"] == "fixed", ["clinic", "period", *_PLANNED]]
    if kept.duplicated(["clinic", "period"]).any():
        raise ValueError("previous has more than one fixed row for the same clinic and week")
    merged = plan[["clinic", "period"]].merge(kept, on=["clinic", "period"], how="left")
    keep = (plan["status"].to_numpy() == "fixed") & merged[list(_PLANNED)].notna().all(axis=1).to_numpy()
    for col in _PLANNED:
        plan[col] = np.where(keep, merged[col].to_numpy(dtype=float), plan[col].to_numpy())
    return np.where(keep, "previous", origin)


def _apply_revision(plan: pd.DataFrame, origin: np.ndarray, revision: pd.DataFrame) -> np.ndarray:
    """Set the volumes ``revision`` gives explicitly in ``plan`` (in place); returns the new origin per row."""
    _check_frame(revision, "revision", ("clinic", "period"))
    _check_weekly_periods(revision, "revision")
    given = [c for c in _PLANNED if c in revision.columns]
    if not given:
        raise ValueError(f"revision needs planned_new_visits and/or planned_operations, "
                         f"got {list(revision.columns)}")
    if revision.duplicated(["clinic", "period"]).any():
        raise ValueError("revision has more than one row for the same clinic and week")
    values = revision[["clinic", "period", *given]].copy()
    for col in given:
        v = pd.to_numeric(values[col], errors="coerce").to_numpy(dtype=float)
        if (v < 0).any():
            raise ValueError(f"revision: {col!r} must be >= 0 [count/week]")
        values[col] = v
    inside = values.merge(plan[["clinic", "period"]], on=["clinic", "period"], how="inner")
    if len(inside) < len(values):
        warnings.warn(f"rolling_plan: {len(values) - len(inside)} revision row(s) lie outside the plan "
                      f"and are ignored", UserWarning, stacklevel=3)
    merged = plan[["clinic", "period"]].merge(values, on=["clinic", "period"], how="left")
    changed = np.zeros(len(plan), dtype=bool)
    for col in given:
        new = merged[col].to_numpy(dtype=float)
        has = ~np.isnan(new)
        plan[col] = np.where(has, new, plan[col].to_numpy())
        changed |= has
    return np.where(changed, "revision", origin)


def _add_inflow_and_capacity(plan: pd.DataFrame, inflow: pd.DataFrame | None,
                             capacity: pd.DataFrame | None) -> None:
    """Add the expected referrals and the own capacity per clinic and week to ``plan`` (in place; NaN if none)."""
    plan["expected_referrals_in"] = np.nan
    if inflow is not None:
        _check_frame(inflow, "inflow", ("clinic", "period", "mean"))
        exp = inflow.groupby(["clinic", "period"], as_index=False, observed=True)["mean"].sum(min_count=1)
        plan["expected_referrals_in"] = plan[["clinic", "period"]].merge(
            exp, on=["clinic", "period"], how="left")["mean"].to_numpy(dtype=float)
    for col in _CAPACITY.values():
        plan[col] = np.nan
    if capacity is not None:
        _check_frame(capacity, "capacity", ("clinic", "period"))
        present = [c for c in _CAPACITY if c in capacity.columns]
        if not present:
            raise ValueError(f"capacity needs one of {list(_CAPACITY)}, got {list(capacity.columns)}")
        cap = capacity.groupby(["clinic", "period"], as_index=False, observed=True)[present].sum(min_count=1)
        merged = plan[["clinic", "period"]].merge(cap, on=["clinic", "period"], how="left")
        for col in present:
            plan[_CAPACITY[col]] = merged[col].to_numpy(dtype=float)


def _add_purchase(plan: pd.DataFrame, purchase: pd.DataFrame) -> None:
    """Add the planned purchase and its cost to ``plan`` (in place); within a clinic's span a missing row is 0."""
    _check_frame(purchase, "purchase", ("clinic", "stage", "purchase"))
    if "policy" in purchase.columns and purchase["policy"].nunique() > 1:
        raise ValueError(f"purchase holds several policies {sorted(purchase['policy'].unique())}: "
                         f"pass the one the plan follows")
    on = "period" if "period" in purchase.columns else "week_ahead"
    if on not in purchase.columns:
        raise ValueError("purchase needs a 'period' or a 'week_ahead' column")
    buy = purchase.assign(_cost=purchase["cost_external_sek"] if "cost_external_sek" in purchase.columns
                          else np.nan)
    if on == "week_ahead":
        buy = buy.assign(week_ahead=pd.to_numeric(buy["week_ahead"]).astype(np.int64))
    wide = buy.pivot_table(index=["clinic", on], columns="stage", values="purchase", aggfunc="sum",
                           observed=True)
    cost = buy.groupby(["clinic", on], observed=True)["_cost"].sum(min_count=1)
    wide = wide.join(cost).reset_index()
    merged = plan[["clinic", on]].merge(wide, on=["clinic", on], how="left")
    # inside the span the purchase frame covers for a clinic, a missing row is no purchase
    last = buy.groupby("clinic", observed=True)[on].max()
    within = (plan[on] <= plan["clinic"].map(last)).fillna(False).to_numpy(dtype=bool)
    for stage, col in _PURCHASE.items():
        if stage in merged.columns:
            has = plan["clinic"].isin(buy.loc[buy["stage"] == stage, "clinic"]).to_numpy()
            values = merged[stage].to_numpy(dtype=float)
            plan[col] = np.where(within & has & np.isnan(values), 0.0, values)
    cost = merged["_cost"].to_numpy(dtype=float)
    priced = plan["clinic"].isin(buy.loc[buy["_cost"].notna(), "clinic"]).to_numpy()
    plan["purchase_cost_sek"] = np.where(within & priced & np.isnan(cost), 0.0, cost)


def _accumulated(plan: pd.DataFrame) -> pd.DataFrame:
    """The plan sorted by clinic and week with the accumulated ``cum_*`` columns [count]."""
    plan = plan.sort_values(["clinic", "week_ahead"], kind="stable").reset_index(drop=True)
    clinic_of = plan["clinic"]
    for col in ("planned_new_visits", "planned_operations", "capacity_new_visits", "capacity_operations",
                "purchase_new_visits", "purchase_operations"):
        # NaN from the first missing week on (an accumulated total with a hole is no total)
        total = plan[col].fillna(0.0).groupby(clinic_of, sort=False, observed=True).cumsum()
        holes = plan[col].isna().astype(int).groupby(clinic_of, sort=False, observed=True).cumsum()
        plan[f"cum_{col}"] = total.where(holes == 0)
    return plan


# ----------------------------------------------------------------------------- export
def __getattr__(name: str):
    """``PLAN_SHEET``: the name of the plan's sheet in the planning workbook
    (:func:`export_plan_xlsx`), ``{"sv": ..., "en": ...}``: the translation catalogue's
    "sheet.production_plan" (:mod:`kps_analysis.report.labels`), read when first asked for."""
    if name == "PLAN_SHEET":
        from .report.labels import TEXTS

        globals()[name] = sheet = dict(TEXTS["sheet.production_plan"])
        return sheet
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def export_plan_xlsx(plan: pd.DataFrame, path, *, tables: Mapping[str, pd.DataFrame] | None = None,
                     language: str = "sv"):
    """Write the plan as the clinic's planning workbook, an ``.xlsx`` file (atomically).

    Sheet ``"Produktionsplan"`` (English: ``"Production plan"``) holds the plan, one row
    per clinic (stage) and week: headers and category values in the language
    (``Klinik``, ``Steg`` = ``Nybesök``, ``Status`` = ``Fastställd``/``Preliminär``),
    the week as ``År``, ``Vecka`` (ISO week number) and ``Veckan börjar`` (a date; a
    monthly plan has ``Månad`` as a date), number formats (whole patients with a
    thousands separator, kr, per cent as fractions), widths, a frozen header row and an
    Excel table with filters; the accumulated own production, purchase, cost and care
    agreement are formulas per clinic and stage (:func:`kps_analysis.workbook.plan_sheet`).
    The numbers are those of ``plan``, unrounded. Each entry of ``tables`` becomes one
    more sheet, laid out by what it is (:func:`kps_analysis.workbook.sheet_for`): a
    :func:`plan_vs_outcome` follow-up as the current year, wide, with its accumulations as
    formulas; a plan history or a purchase per month with theirs; any other table with
    translated headers and formats.

    Parameters
    ----------
    plan : DataFrame
        Output of :func:`rolling_plan` or the planning model's plan (any subset of their
        columns) [patients/week, SEK].
    path : path-like
        The ``.xlsx`` file to write; its folder is created if needed.
    tables : mapping of str to DataFrame, optional
        Extra sheets by name (at most 31 characters, not the plan sheet's name).
    language : {"sv", "en"}, optional
        Language of headers, values and sheet name; default Swedish.

    Returns
    -------
    pathlib.Path
        The written file.

    Raises
    ------
    ValueError
        For an unknown ``language``, a ``plan`` without ``clinic``/``period``, or a
        sheet name that is empty, too long or used twice.

    Examples
    --------
    >>> import tempfile, openpyxl
    >>> vol = pd.DataFrame({"clinic": ["a"], "new_visits": [2500], "operations": [1000]})
    >>> p = rolling_plan(vol, "2024-W12", fixed_weeks=2, horizon_weeks=4)
    >>> with tempfile.TemporaryDirectory() as d:
    ...     ws = openpyxl.load_workbook(export_plan_xlsx(p, f"{d}/plan.xlsx"))["Produktionsplan"]
    ...     header, first, frozen = [c.value for c in ws[1]][:5], [c.value for c in ws[2]][:5], ws.freeze_panes
    >>> header
    ['Klinik', 'År', 'Vecka', 'Veckan börjar', 'Veckor framåt']
    >>> first, frozen
    (['a', 2024, 12, datetime.datetime(2024, 3, 18, 0, 0), 1], 'E2')
    """
    from kps_analysis import workbook as _workbook
    from kps_analysis.report.labels import label

    if language not in ("sv", "en"):
        raise ValueError(f"language must be 'sv' or 'en', got {language!r}")
    _check_frame(plan, "plan", ("clinic", "period"))
    sheets = [_workbook.plan_sheet(plan, language=language, name=label("sheet.production_plan", language))]
    for name, table in (tables or {}).items():
        if not isinstance(name, str) or not name.strip() or len(name) > 31:
            raise ValueError(f"tables: sheet name {name!r} must be 1-31 characters")
        if name in {s.name for s in sheets}:
            raise ValueError(f"tables: sheet name {name!r} is used twice")
        if not isinstance(table, pd.DataFrame):
            raise ValueError(f"tables[{name!r}] must be a DataFrame, got {type(table).__name__}")
        sheets.append(_workbook.sheet_for(table, name, language=language))
    return _workbook.write_workbook(sheets, path, language=language)


# ----------------------------------------------------------------------------- follow-up
def _last_year_periods(periods: pd.PeriodIndex) -> pd.PeriodIndex:
    """The same ISO week one ISO year earlier (week 53 -> week 52 in a 52-week year)."""
    year, week = _iso_year_week(periods)
    prior = year - 1
    week = np.minimum(week, np.asarray(_cal.weeks_in_year(prior)))
    return pd.PeriodIndex(_cal.period_from_iso(prior, week))


def _pct(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """100 · numerator / denominator; 0 when both are 0, NaN when only the denominator is."""
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = np.where(denominator != 0, 100.0 * numerator / np.where(denominator != 0, denominator, 1.0), np.nan)
    return np.where((denominator == 0) & (numerator == 0), 0.0, pct)


def plan_vs_outcome(plan: pd.DataFrame, actual: pd.DataFrame, *, last_year: pd.DataFrame | None = None,
                    yellow_pct: float = 5, red_pct: float = 10, measures: Mapping[str, str] | None = None,
                    red_weeks_to_region: int = 4) -> pd.DataFrame:
    """Follow-up (*plan mot utfall*): plan against actual, week by week and year to date.

    Monthly plan and actual (both freq M) are followed month by month the same way: the
    same month a year earlier, the calendar year's months accumulated, a ``month``
    column instead of ``week``, and ``red_months`` (consecutive red months; the
    ``red_weeks_to_region`` weeks become months by days, 4 weeks = 1 month) instead of
    ``red_weeks``.

    Per clinic, measure and week ``p`` present in both ``plan`` and ``actual``::

        deviation        = actual - plan                                   [count/week]
        deviation_pct    = 100 · (actual - plan) / plan                    [%]
        last_year        = actual of the same ISO week one ISO year earlier [count/week]
        vs_last_year_pct = 100 · (actual - last_year) / last_year          [%]
        cum_x[p]         = Σ x over the weeks of the ISO year up to p in which
                           both plan and actual are reported               [count]
        cum_deviation_pct = 100 · (cum_actual - cum_plan) / cum_plan       [%]

    and the escalation status from the accumulated deviation (nivåvis
    produktionsstyrning; limits ``escalation.yellow_deviation_pct`` and
    ``escalation.red_deviation_pct`` of the parameters)::

        status = "green"  if |cum_deviation_pct| <  yellow_pct     level "unit"
                 "yellow" if yellow_pct <= |.|  <  red_pct          level "clinic"
                 "red"    if |.| >= red_pct                         level "division"
        a red that has lasted ``red_weeks_to_region`` consecutive weeks or more
        (this week included)                                        level "region"

    A deviation either way counts (over-production is a planning error too, and more
    inflow than expected a risk). A per cent of a zero plan is NaN (0 when the actual
    is 0 as well), and the status is then missing.

    Parameters
    ----------
    plan : DataFrame
        ``clinic``, ``period`` (W-SUN) and the plan columns of ``measures``, e.g. the
        fixed weeks of successive :func:`rolling_plan` outputs, or the periodised
        agreement for the year; one row per clinic and week.
    actual : DataFrame
        Canonical weekly frame (``clinic``, ``period``, ``new_visits``,
        ``operations_elective``, ``referrals_in``, ...); rows of groups are summed.
        Also the source of last year's values when it reaches back that far.
    last_year : DataFrame, optional
        Canonical weekly frame of earlier weeks, used (with ``actual``) for the same
        weeks last year.
    yellow_pct, red_pct : float, optional
        Escalation limits, 0 <= yellow_pct < red_pct [%].
    measures : mapping, optional
        Actual column -> plan column; default :data:`FOLLOW_UP_MEASURES` (new visits,
        elective operations, referrals against ``expected_referrals_in``). A measure
        whose columns are absent, or whose plan is entirely missing, is left out.
    red_weeks_to_region : int, optional
        Consecutive red weeks after which the region is involved [weeks].

    Returns
    -------
    DataFrame
        One row per clinic, measure and week: ``clinic``, ``period``, ``year``,
        ``week`` (ISO), ``measure`` (the actual column), ``plan``, ``actual``,
        ``deviation``, ``deviation_pct``, ``last_year``, ``vs_last_year``,
        ``vs_last_year_pct``, ``cum_plan``, ``cum_actual``, ``cum_deviation``,
        ``cum_deviation_pct``, ``cum_last_year``, ``cum_vs_last_year_pct``,
        ``status`` (green/yellow/red), ``red_weeks`` (consecutive red weeks),
        ``level`` (unit/clinic/division/region).

    Raises
    ------
    ValueError
        For missing ``clinic``/``period`` columns, non-weekly periods, duplicate plan
        weeks, no measure present in both frames, or limits out of order.

    Warns
    -----
    UserWarning
        When plan and actual have no clinic and week in common (the result is empty).

    Examples
    --------
    Plan 100 new visits a week; actual 96, 92, 89: accumulated 96/100, 188/200,
    277/300, i.e. -4 %, -6 % and -7.67 %: green, yellow, yellow.

    >>> p = pd.DataFrame({"clinic": "a", "period": pd.period_range("2025-01-06", periods=3, freq="W-SUN"),
    ...                   "planned_new_visits": 100.0})
    >>> a = p[["clinic", "period"]].assign(new_visits=[96.0, 92.0, 89.0])
    >>> f = plan_vs_outcome(p, a)
    >>> f[["week", "cum_deviation", "status", "level"]].values.tolist()
    [[2, -4.0, 'green', 'unit'], [3, -12.0, 'yellow', 'clinic'], [4, -23.0, 'yellow', 'clinic']]
    >>> f["cum_deviation_pct"].round(2).tolist()
    [-4.0, -6.0, -7.67]
    """
    kind, used, red_to_region = _follow_up_inputs(plan, actual, last_year, yellow_pct, red_pct, measures,
                                                  red_weeks_to_region)
    long = _follow_up_long(plan, actual, last_year, used, kind)
    _add_deviations(long)
    _add_status(long, yellow_pct, red_pct, red_to_region, kind)
    order = {m: i for i, m in enumerate(used)}
    long = long.assign(_m=long["measure"].map(order)).sort_values(["clinic", "_m", "period"], kind="stable")
    return long.drop(columns="_m").reset_index(drop=True)


def _follow_up_inputs(plan, actual, last_year, yellow_pct, red_pct, measures, red_weeks_to_region):
    """:func:`plan_vs_outcome`'s inputs checked: ``(kind, used, red_to_region)``.

    ``kind`` "W" or "M"; ``used`` the measures followed up (actual column -> plan
    column); ``red_to_region`` the red periods before the region is told [weeks or months].
    """
    _check_frame(plan, "plan", ("clinic", "period"))
    _check_frame(actual, "actual", ("clinic", "period"))
    kind = _period_kind(plan, "plan")
    if _period_kind(actual, "actual") != kind:
        raise ValueError("plan and actual must both be weekly (W-SUN) or both monthly (M)")
    if not (0 <= yellow_pct < red_pct):
        raise ValueError(f"yellow_pct and red_pct must satisfy 0 <= yellow_pct < red_pct, got {yellow_pct}, {red_pct}")
    red_weeks_to_region = _whole(red_weeks_to_region, "red_weeks_to_region", 1)
    red_to_region = red_weeks_to_region if kind == "W" else _seasonal.periods_for_weeks(red_weeks_to_region, "M")
    measures = dict(FOLLOW_UP_MEASURES if measures is None else measures)
    used = {m: c for m, c in measures.items()
            if m in actual.columns and c in plan.columns and plan[c].notna().any()}
    if not used:
        raise ValueError(f"plan and actual share no measure of {measures} (plan column -> actual column)")
    if plan.duplicated(["clinic", "period"]).any():
        raise ValueError("plan has more than one row for the same clinic and week")
    if last_year is not None:
        _check_frame(last_year, "last_year", ("clinic", "period"))
        if _period_kind(last_year, "last_year") != kind:
            raise ValueError("last_year must have the same kind of periods as actual (weeks or months)")
    return kind, used, red_to_region


def _follow_up_long(plan, actual, last_year, used, kind) -> pd.DataFrame:
    """One row per clinic, measure and period both frames have: plan, actual and last year's value."""
    sources = [actual] if last_year is None else [actual, last_year]
    history = pd.concat([s[["clinic", "period"] + [m for m in used if m in s.columns]] for s in sources],
                        ignore_index=True)
    history = history.groupby(["clinic", "period"], as_index=False, observed=True).sum(min_count=1)
    observed = actual[["clinic", "period", *used]].groupby(["clinic", "period"], as_index=False,
                                                           observed=True).sum(min_count=1)
    base = plan[["clinic", "period", *set(used.values())]].merge(observed, on=["clinic", "period"], how="inner")
    base = base.sort_values(["clinic", "period"], kind="stable").reset_index(drop=True)
    if base.empty:
        warnings.warn("plan_vs_outcome: plan and actual share no clinic and week; nothing to follow up",
                      UserWarning, stacklevel=3)
    index = pd.PeriodIndex(base["period"].array) if len(base) else pd.PeriodIndex([], freq=plan["period"].dtype.freq)
    previous = base[["clinic"]].assign(period=_last_year_periods(index) if kind == "W" else index - 12)
    previous = previous.merge(history, on=["clinic", "period"], how="left")

    n = len(base)
    if kind == "W":
        year, week = _iso_year_week(index)
    else:
        year, week = np.asarray(index.year, dtype=np.int64), np.asarray(index.month, dtype=np.int64)
    season = "week" if kind == "W" else "month"
    long = pd.DataFrame({
        "clinic": np.tile(base["clinic"].to_numpy(), len(used)),
        "period": index.take(np.tile(np.arange(n), len(used))),
        "year": np.tile(year, len(used)),
        season: np.tile(week, len(used)),
        "measure": np.repeat(list(used), n),
        "plan": np.concatenate([base[c].to_numpy(dtype=float) for c in used.values()]),
        "actual": np.concatenate([base[m].to_numpy(dtype=float) for m in used]),
        "last_year": np.concatenate([previous[m].to_numpy(dtype=float) if m in previous.columns
                                     else np.full(n, np.nan) for m in used]),
    })
    long["clinic"] = long["clinic"].astype(base["clinic"].dtype)
    return long


def _add_deviations(long: pd.DataFrame) -> None:
    """Add the deviations from plan and last year, per period and accumulated over the year (in place)."""
    plan_v, act_v, ly_v = (long[c].to_numpy() for c in ("plan", "actual", "last_year"))
    long["deviation"] = act_v - plan_v
    long["deviation_pct"] = _pct(act_v - plan_v, plan_v)
    long["vs_last_year"] = act_v - ly_v
    long["vs_last_year_pct"] = _pct(act_v - ly_v, ly_v)

    both = ~np.isnan(plan_v) & ~np.isnan(act_v)
    acc = pd.DataFrame({"p": np.where(both, plan_v, 0.0), "a": np.where(both, act_v, 0.0),
                        "ly": np.where(both, ly_v, 0.0), "miss": (both & np.isnan(ly_v)).astype(int),
                        "n": both.astype(int)})
    groups = [long["clinic"], long["measure"], long["year"]]
    cum = acc.groupby(groups, sort=False, observed=True).cumsum()
    reported = cum["n"].to_numpy() > 0
    cum_plan = np.where(reported, cum["p"].to_numpy(), np.nan)
    cum_act = np.where(reported, cum["a"].to_numpy(), np.nan)
    cum_ly = np.where(reported & (cum["miss"].to_numpy() == 0), np.nan_to_num(cum["ly"].to_numpy()), np.nan)
    long["cum_plan"] = cum_plan
    long["cum_actual"] = cum_act
    long["cum_deviation"] = cum_act - cum_plan
    long["cum_deviation_pct"] = _pct(cum_act - cum_plan, cum_plan)
    long["cum_last_year"] = cum_ly
    long["cum_vs_last_year_pct"] = _pct(cum_act - cum_ly, cum_ly)


def _add_status(long: pd.DataFrame, yellow_pct: float, red_pct: float, red_to_region: int, kind: str) -> None:
    """Add the status (green/yellow/red), the run of red periods and the escalation level (in place)."""
    dev = np.abs(long["cum_deviation_pct"].to_numpy())
    known = ~np.isnan(dev)
    red = known & (dev >= red_pct)
    yellow = known & ~red & (dev >= yellow_pct)
    status = np.select([red, yellow, known], ["red", "yellow", "green"], default="")
    # consecutive red weeks: length of the current run of reds within clinic and measure
    runs = pd.Series(~red).groupby([long["clinic"], long["measure"]], sort=False, observed=True).cumsum()
    streak = pd.Series(red.astype(int)).groupby([long["clinic"], long["measure"], runs],
                                                sort=False, observed=True).cumsum().to_numpy()
    level = np.select([red & (streak >= red_to_region), red, yellow, known],
                      ["region", "division", "clinic", "unit"], default="")
    long["status"] = np.where(status == "", None, status.astype(object))
    long["red_weeks" if kind == "W" else "red_months"] = streak.astype(np.int64)
    long["level"] = np.where(level == "", None, level.astype(object))


def escalation_status(follow_up: pd.DataFrame, *,
                      measures=("new_visits", "operations_elective")) -> pd.DataFrame:
    """One escalation status per clinic: the worst production measure at its latest week.

    For the headline ``escalation`` column of ``summary.csv``: among ``measures``, at
    the clinic's latest week in ``follow_up``, the most severe status (red > yellow >
    green) and the highest level it goes to (region > division > clinic > unit).

    Parameters
    ----------
    follow_up : DataFrame
        Output of :func:`plan_vs_outcome`.
    measures : iterable of str, optional
        The measures that decide the status; default the production measures (new
        visits and elective operations; inflow is shown but not escalated).

    Returns
    -------
    DataFrame
        ``clinic``, ``period`` (latest week), ``status``, ``level``, ``measure`` (the one
        that decides), ``cum_deviation_pct`` [%] of that measure; status and level are
        missing when no measure could be assessed.

    Examples
    --------
    >>> p = pd.DataFrame({"clinic": "a", "period": pd.period_range("2025-01-06", periods=2, freq="W-SUN"),
    ...                   "planned_new_visits": 100.0, "planned_operations": 10.0})
    >>> a = p[["clinic", "period"]].assign(new_visits=[99.0, 98.0], operations_elective=[9.0, 8.0])
    >>> escalation_status(plan_vs_outcome(p, a))[["clinic", "status", "level", "measure"]].values.tolist()
    [['a', 'red', 'division', 'operations_elective']]
    """
    _check_frame(follow_up, "follow_up", ("clinic", "period", "measure", "status", "level", "cum_deviation_pct"))
    sub = follow_up[follow_up["measure"].isin(list(measures))]
    latest = sub.groupby("clinic", observed=True)["period"].transform("max")
    sub = sub[sub["period"] == latest].copy()
    sub["_s"] = sub["status"].map(_STATUS_RANK).fillna(-1)
    sub["_l"] = sub["level"].map(_LEVEL_RANK).fillna(-1)
    sub = sub.sort_values(["clinic", "_s", "_l", "cum_deviation_pct"], ascending=[True, False, False, False],
                          key=lambda s: s.abs() if s.name == "cum_deviation_pct" else s, kind="stable")
    out = sub.drop_duplicates("clinic")[["clinic", "period", "status", "level", "measure", "cum_deviation_pct"]]
    return out.reset_index(drop=True)
