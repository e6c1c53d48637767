"""The planning model: one per clinic, behind every number of a report.

A clinic's report, its tables, ``plan.xlsx``, the run's ``index.html`` and the region
overview all show numbers of one model per clinic, so that they cannot disagree
(docs/architecture.md, "one model, one truth"). The model holds every planning assumption in one
place (:class:`Assumptions`) and projects the waiting list cohort by cohort (medical
priority × day of entry) week by week:

1. **who waits now** (:func:`kps_analysis.purchase.guarantee_inputs`): the
   patient-level snapshot at the end of the latest week where an extract exists, else
   the reconstruction from the weekly aggregates; ages beyond the guarantee are
   clipped to ``guarantee_days + 7`` (they are over the limit whatever their exact
   age), so no input can make the projection's cost grow;
2. **inflow per stage and week**: the demand forecast
   (:func:`kps_analysis.forecast.forecast_demand`) of ``referrals_in`` (less the
   share forwarded elsewhere over the last year) for the first visit and of
   ``treatment_decisions`` for treatment, with its intervals;
3. **one capacity per stage and week** (:func:`capacity_basis`): from the resources
   parameters (:func:`kps_analysis.capacity.capacity_from_resources`, working days and
   closures) where given, always held against the production the clinic has
   demonstrated (:func:`demonstrated_capacity`); without resources the demonstrated
   capacity with the seasonal profile of production;
4. **the serving order**: medical priority, then longest wait (``"priority"``, how
   clinics book), or longest wait first (``"fifo"``); own production, purchase and the
   Monte Carlo all use it;
5. **each week** (:func:`project_plan`): the week's arrivals join the queue; own
   production serves ``min(capacity, queue)`` whole patients in the serving order
   (in a fixed week, what the fixed plan said); then the patients who would be past
   the guarantee at the week's end are bought, as a whole number and oldest first,
   from the first week a purchase can arrive (``purchase_lead_time_weeks``); each
   purchase carries the week by which it must be ordered.

The flow identity holds in every week and stage::

    queue_end[k] = queue_end[k-1] + inflow[k] - own_production[k] - purchase[k]  [patients]

(with the region's moves, :func:`apply_moves`, ``+ moved_in[k] - moved_out[k]``; patients
received are the receiver's own production)

in whole patients (the forecast inflow and the capacity are made whole by rounding their
running totals, :func:`whole`), and the capacity gap is the production needed to keep the guarantee minus capacity::

    gap[k] = own_production[k] + purchase[k] - capacity[k]                      [patients/week]

**Weeks or months.** The model plans in the periods of the clinic's data: ISO weeks, or
calendar months (:mod:`kps_analysis.periods`). Cohorts are kept by day of entry either way;
a period's arrivals are spread over its ``period_days`` days; horizons, the fixed part
and the purchase lead time are given in weeks and cover the periods that start within
them (12 weeks = 12 weeks or 3 months). A region that mixes weekly and monthly clinics
plans each kind apart (:func:`plan_region`); their figures over the fixed horizon sit
side by side and moves between clinics are only matched within the same calendar period.

Units: flows [patients/period] (a week or a month, as the data; ``period_days`` says which);
queues and breaches [patients]; prices [SEK/patient]; costs [SEK]; waits [days]. Everything is
vectorised over clinic × stage series (and, for the Monte Carlo, over runs).

References
----------
.. [1] Hälso- och sjukvårdslagen (2017:30) 9 kap. 1 §: the care guarantee.
.. [2] Sveriges Kommuner och Regioner (SKR), Kapacitets- och produktionsstyrning: each
   level hands the level below a production plan in balance with its capacity.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from .periods import one_period_type as _one_period_type
from .periods import period_lengths, periods_within
from .periods import plan_periods as _plan_periods
from .periods import unit_of as _freq_name
from .purchase import PRICE_KEYS as _PRICE_KEYS  # the parameter keys of prices, one home
from .stages import STAGES

__all__ = [
    "ORDERS",
    "STAGE_MEASURES",
    "Assumptions",
    "PlanningModel",
    "assumptions_frame",
    "demonstrated_capacity",
    "capacity_basis",
    "inflow_forecast",
    "project_plan",
    "simulate_plan",
    "escalation",
    "plan_clinics",
    "headline_figures",
    "purchase_by_month",
    "headline",
    "scenarios",
    "region_moves",
    "transfer_costs",
    "plan_history",
    "apply_moves",
    "plan_region",
    "region_forecasts",
    "forecasts_of",
    "follow_up_levels",
    "known_queues",
    "AT_RISK",
    "call_key",
    "as_weeks",
    "as_periods",
    "freshness",
    "ESCALATION_RULE",  # noqa: F822 - given by the module's __getattr__, from the translation catalogue
]

#: Serving orders of the model: medical priority then longest wait, or longest wait first.
ORDERS = ("priority", "fifo")

#: Per stage: inflow measure, the measure subtracted from it, own production measure
#: (a view of the stage registry :data:`kps_analysis.stages.STAGES`).
STAGE_MEASURES = {
    name: (s.inflow, s.inflow_minus[0] if s.inflow_minus else None, s.own) for name, s in STAGES.items()
}


# ============================================================================ periods
def as_periods(values, freq: str = "W-SUN") -> pd.PeriodIndex:
    """Periods from Periods or their text as tables hold them: weeks (``2026-W49``,
    ``2026-11-30/2026-12-06``) or months (``2026-12``).

    Examples
    --------
    >>> list(as_periods(pd.Series(["2026-12", "2027-01"]), "M").astype(str))
    ['2026-12', '2027-01']
    >>> p = as_periods(pd.Series(["2026-12", None]), "ME")
    >>> str(p[0]), bool(pd.isna(p[1]))
    ('2026-12', True)
    """
    weeks = str(getattr(freq, "freqstr", freq)).upper().startswith("W")    # "W-SUN"; months "M" or "ME"
    if isinstance(values, pd.PeriodIndex) or isinstance(getattr(values, "dtype", None), pd.PeriodDtype):
        return pd.PeriodIndex(values, freq="W-SUN" if weeks else "M")
    text = pd.Series(values)
    given = text.notna() & ~text.astype(str).isin(["", "None", "NaT", "nan"])
    if given.all():
        return as_weeks(text) if weeks else pd.PeriodIndex(text.astype(str).str.slice(0, 7), freq="M")
    out = pd.Series(pd.NaT, index=text.index, dtype="period[W-SUN]" if weeks else "period[M]")
    if given.any():               # a finding of the whole file has no period: kept empty
        out[given] = as_periods(text[given], freq)
    return pd.PeriodIndex(out)


def freshness(weekly: pd.DataFrame, as_of, *, stale_after_days: float = 14.0) -> pd.DataFrame:
    """How old each clinic's data are on the run date, and whether that is a finding.

    ``data_end`` is the last day of the clinic's latest period (Sunday of its last week,
    or the month's last day); ``data_age_days = as_of - data_end`` [days]; the data are
    ``stale`` when that exceeds ``stale_after_days`` [days] (for monthly data give the
    monthly limit, :func:`kps_analysis.parameters.freshness_limit_days`). The plan always
    starts with the period after ``data_end``: the report states both dates.

    Parameters
    ----------
    weekly : DataFrame
        Canonical frame (``clinic``, ``period`` weeks or months).
    as_of : date-like
        The run date.
    stale_after_days : float or mapping clinic -> float
        Allowed age [days].

    Returns
    -------
    DataFrame
        ``clinic``, ``data_end`` (Timestamp), ``plan_start`` (Timestamp),
        ``data_age_days`` [days], ``stale`` (bool), ``period_unit`` ("week" or "month").

    Examples
    --------
    >>> w = pd.DataFrame({"clinic": "a", "period": pd.period_range("2022-01", periods=3, freq="M")})
    >>> freshness(w, "2026-12-01", stale_after_days=60)[["data_age_days", "stale"]].values.tolist()
    [[1706, True]]
    """
    as_of = pd.Timestamp(as_of).normalize()
    last = weekly.groupby("clinic", sort=True)["period"].max()
    if last.empty:
        return pd.DataFrame(columns=["clinic", "data_end", "plan_start", "data_age_days", "stale", "period_unit"])
    index = pd.PeriodIndex(last.to_numpy())
    unit = _freq_name(index)
    end = index.end_time.normalize()
    age = (as_of - end).days.to_numpy()
    allowed = (last.index.map(stale_after_days) if isinstance(stale_after_days, Mapping)
               else np.full(len(last), float(stale_after_days)))
    allowed = np.asarray(allowed, float)
    return pd.DataFrame({"clinic": last.index, "data_end": end, "plan_start": end + pd.Timedelta(days=1),
                         "data_age_days": age, "stale": age > allowed, "period_unit": unit})



# ============================================================================ assumptions
@dataclass(frozen=True)
class Assumptions:
    """The planning assumptions of one clinic, in one place.

    Attributes
    ----------
    clinic : str
    guarantee_days : float
        Care-guarantee limit; strictly longer waits are breaches [days].
    target_share : float
        Share of the waiting (chosen waits excluded) to be within the limit [share 0-1].
    lead_time_weeks : int
        Weeks needed to arrange a purchase: nothing can be bought for weeks
        1..lead_time_weeks [weeks].
    order : str
        Serving order, ``"priority"`` or ``"fifo"``.
    horizon_weeks : int
        Weeks of the plan [weeks].
    fixed_weeks : int
        Weeks of the fixed part of the plan [weeks].
    capacity_tolerance : float
        Relative difference between resources and demonstrated capacity beyond which
        it is a data-quality finding [share].
    prices : mapping
        ``stage -> (external, internal)`` [SEK/patient], NaN where not given.
    """

    clinic: str
    guarantee_days: float = 90.0
    target_share: float = 0.95
    lead_time_weeks: int = 4
    order: str = "priority"
    horizon_weeks: int = 52
    fixed_weeks: int = 12
    capacity_tolerance: float = 0.15
    prices: Mapping = field(default_factory=dict)
    yellow_pct: float = 5.0
    red_pct: float = 10.0


def _get(p, key, default=None):
    try:
        value = p.get(key) if isinstance(p, Mapping) else getattr(p, key, default)
    except (KeyError, AttributeError):
        value = None
    return default if value is None else value


def _country(p) -> str:
    """The clinic's calendar as one code: ``"SE"``, or country and subdivision ``"GB-ENG"``
    (:func:`kps_analysis.parameters.calendar_region`; the calendar functions take either)."""
    from .parameters import calendar_region

    try:
        region = calendar_region(p if isinstance(p, Mapping) else p.to_dict())
    except (AttributeError, TypeError):
        region = {"country": str(_get(p, "country", "SE") or "SE"), "subdivision": _get(p, "subdivision")}
    return region["country"] + (f"-{region['subdivision']}" if region.get("subdivision") else "")


def _clinic_id(p) -> str:
    clinic = getattr(p, "clinic_id", None) or (p.get("clinic") if isinstance(p, Mapping) else None)
    if not clinic:
        raise ValueError("params_list: every element needs a clinic id (clinic_id attribute or 'clinic' key)")
    return str(clinic)


def assumptions_of(p, *, order: str = "priority", capacity_tolerance: float = 0.15) -> Assumptions:
    """The :class:`Assumptions` of one clinic's loaded parameters (defaults where absent)."""
    prices = _get(p, "prices", {}) or {}
    esc = _get(p, "escalation", {}) or {}
    table = {stage: (float(prices.get(e, np.nan) if prices.get(e) is not None else np.nan),
                     float(prices.get(i, np.nan) if prices.get(i) is not None else np.nan))
             for stage, (e, i) in _PRICE_KEYS.items()}
    return Assumptions(
        clinic=_clinic_id(p), guarantee_days=float(_get(p, "guarantee_days", 90)),
        target_share=float(_get(p, "target_share_within_guarantee", 0.95)),
        lead_time_weeks=int(_get(p, "purchase_lead_time_weeks", 4)),
        order=str(_get(p, "serving_order", order)),
        horizon_weeks=int(_get(p, "planning_horizon_weeks", 52)),
        fixed_weeks=int(_get(p, "fixed_horizon_weeks", 12)),
        capacity_tolerance=float(_get(p, "capacity_tolerance_pct", capacity_tolerance * 100)) / 100.0,
        prices=table,
        yellow_pct=float(_get(esc, "yellow_deviation_pct", 5)), red_pct=float(_get(esc, "red_deviation_pct", 10)))


def assumptions_frame(assumptions) -> pd.DataFrame:
    """The assumptions of many clinics as one frame, one row per clinic and stage.

    Returns
    -------
    DataFrame
        ``clinic``, ``stage``, ``guarantee_days`` [days], ``target_share`` [share],
        ``lead_time_weeks`` [weeks], ``order``, ``horizon_weeks``, ``fixed_weeks``
        [weeks], ``capacity_tolerance`` [share], ``price_external_sek``,
        ``price_internal_sek`` [SEK/patient].

    Examples
    --------
    >>> a = Assumptions("a", prices={"new_visit": (2300.0, 2000.0), "treatment": (40000.0, 34000.0)})
    >>> assumptions_frame([a])[["stage", "price_external_sek"]].values.tolist()
    [['new_visit', 2300.0], ['treatment', 40000.0]]
    """
    rows = []
    for a in assumptions:
        if a.order not in ORDERS:
            raise ValueError(f"order of clinic {a.clinic!r} must be one of {ORDERS}, got {a.order!r}")
        if a.lead_time_weeks < 0:
            raise ValueError(f"lead_time_weeks of clinic {a.clinic!r} must be >= 0")
        for stage in STAGE_MEASURES:
            ext, internal = a.prices.get(stage, (np.nan, np.nan))
            rows.append({"clinic": a.clinic, "stage": stage, "guarantee_days": a.guarantee_days,
                         "target_share": a.target_share, "lead_time_weeks": a.lead_time_weeks,
                         "order": a.order, "horizon_weeks": a.horizon_weeks, "fixed_weeks": a.fixed_weeks,
                         "capacity_tolerance": a.capacity_tolerance, "price_external_sek": ext,
                         "price_internal_sek": internal})
    return pd.DataFrame(rows)


# ============================================================================ capacity
def _stage_totals(weekly: pd.DataFrame) -> pd.DataFrame:
    return weekly.groupby(["clinic", "period"], observed=True, as_index=False).sum(numeric_only=True, min_count=1)


def _normal_weeks(periods: pd.Series, *, summer=None, country: str = "SE") -> np.ndarray:
    """Periods at normal staffing: weeks with five working days outside summer (the region's
    usual summer weeks, :func:`kps_analysis.calendar.default_summer_weeks`; none on record:
    ISO weeks 27-35) and Christmas/New Year; months other than January, July, August and December."""
    from .calendar import default_summer_weeks, working_days

    if summer is None:
        summer = default_summer_weeks(*(country.split("-", 1) if "-" in country else (country,))) or (27, 35)

    index = pd.PeriodIndex(periods.array)
    if _freq_name(index) == "month":
        return ~np.isin(index.month, (1, 7, 8, 12))
    wd = working_days(index, country=country).to_numpy(dtype=float)
    week = (index.start_time + pd.Timedelta(days=3)).isocalendar().week.to_numpy()
    holiday = ((week >= summer[0]) & (week <= summer[1])) | (week >= 51) | (week <= 1)
    return (wd >= 5) & ~holiday


def demonstrated_capacity(weekly: pd.DataFrame, *, weeks: int = 8, country: str = "SE") -> pd.DataFrame:
    """Production the clinic has demonstrated in a normal week, per stage.

    For each clinic and stage, the mean own production (new visits; elective
    operations) over the last ``weeks`` weeks at normal staffing (five working days,
    outside ISO weeks 27-32 and 51-1), and over the same number of normal weeks a year
    earlier. A clinic with a queue produces at its capacity, so this is the capacity it
    has shown it has [patients/week]. Monthly data: the normal months (not January, July,
    August or December) within the same span (at least two), each month's production
    put on a week's footing by its working days: ``x · 5 / working_days`` [patients/week].

    Parameters
    ----------
    weekly : DataFrame
        Canonical weekly or monthly frame (``clinic``, ``period`` W-SUN or M, production
        columns).
    weeks : int
        Normal weeks averaged [weeks] (monthly data: ``max(2, round(weeks · 7 / 30.4))``
        months).
    country : str
        Calendar of the working days (monthly data) [ISO 3166 code].

    Returns
    -------
    DataFrame
        ``clinic``, ``stage``, ``demonstrated_per_week`` (recent) and
        ``demonstrated_last_year_per_week`` [patients/week]; stages a clinic never
        produces are left out.

    Examples
    --------
    >>> p = pd.period_range("2024-03-04", periods=10, freq="W-SUN")
    >>> w = pd.DataFrame({"clinic": "a", "period": p, "new_visits": 40.0})
    >>> float(demonstrated_capacity(w, weeks=4)["demonstrated_per_week"].iloc[0])
    40.0
    """
    from .calendar import working_days

    totals = _stage_totals(weekly).sort_values(["clinic", "period"])
    rows = []
    if totals.empty:
        return pd.DataFrame(columns=["clinic", "stage", "demonstrated_per_week", "demonstrated_last_year_per_week"])
    monthly = _freq_name(totals["period"]) == "month"
    normal = _normal_weeks(totals["period"], country=country)
    year, n = (12, max(2, int(round(weeks * 7 / 30.4375)))) if monthly else (52, weeks)
    if monthly:   # a month's production on a week's footing [patients/week]
        wd = working_days(pd.PeriodIndex(totals["period"].array), country=country).to_numpy(float)
        to_week = np.where(wd > 0, 5.0 / np.where(wd > 0, wd, 1.0), np.nan)
    else:
        to_week = np.ones(len(totals))
    ordinal = pd.PeriodIndex(totals["period"].array).asi8
    age = totals["clinic"].map(pd.Series(ordinal, index=totals.index).groupby(totals["clinic"]).max()).to_numpy() \
        - ordinal
    for stage, (_, _, own) in STAGE_MEASURES.items():
        if own not in totals.columns:
            continue
        sub = totals.assign(_x=totals[own].to_numpy(float) * to_week, _normal=normal, _age=age)
        sub = sub[sub["_normal"] & sub["_x"].notna()]
        recent = sub[sub["_age"] < year].groupby("clinic").tail(n)
        year_ago = sub[(sub["_age"] >= year) & (sub["_age"] < 2 * year)].groupby("clinic").tail(n)
        r = recent.groupby("clinic")["_x"].mean()
        y = year_ago.groupby("clinic")["_x"].mean()
        active = totals.groupby("clinic")[own].sum() > 0
        for clinic in r.index[r.index.isin(active[active].index)]:
            rows.append({"clinic": clinic, "stage": stage, "demonstrated_per_week": float(r[clinic]),
                         "demonstrated_last_year_per_week": float(y.get(clinic, np.nan))})
    return pd.DataFrame(rows, columns=["clinic", "stage", "demonstrated_per_week",
                                       "demonstrated_last_year_per_week"])


def capacity_basis(weekly: pd.DataFrame, params_list, periods: pd.PeriodIndex, *, tolerance=0.15,
                   demonstrated: pd.DataFrame | None = None, country: str = "SE"
                   ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The one capacity per clinic, stage and period (week or month) the model plans on, and its check.

    Where a clinic's parameters give ``resources``, capacity comes from them
    (:func:`kps_analysis.capacity.capacity_from_resources`: slots, theatre sessions,
    staff, working days, closures). It is always compared with the demonstrated
    capacity (:func:`demonstrated_capacity`)::

        deviation = resources_normal_week / demonstrated_per_week - 1     [share]

    and ``|deviation| > tolerance`` is a data-quality finding. Without resources the
    basis is the demonstrated capacity, shaped by the period's working days and the
    seasonal profile of production (estimated per working day):
    ``demonstrated · working_days / 5 · f[season] / mean f[normal periods]`` [patients/period].

    Parameters
    ----------
    weekly : DataFrame
        Canonical weekly frame.
    params_list : list of Parameters or mappings
        Loaded parameters (``resources`` and ``closures`` optional).
    periods : PeriodIndex
        The plan's periods (W-SUN weeks or M months, as the data).
    tolerance : float or mapping clinic -> float
        Allowed relative difference [share].
    demonstrated : DataFrame, optional
        :func:`demonstrated_capacity` output (computed when absent).

    Returns
    -------
    (DataFrame, DataFrame)
        ``capacity``: ``clinic``, ``stage``, ``period``, ``capacity`` [patients/period],
        ``basis`` ("resources" or "demonstrated"); ``check``: one row per clinic and
        stage with ``resources_per_week`` (normal week, NaN without resources),
        ``demonstrated_per_week``, ``demonstrated_last_year_per_week``
        [patients/week], ``deviation`` [share], ``basis``, ``finding`` (bool).
    """
    from .capacity import capacity_by_stage, capacity_from_resources, resources_frame

    periods = pd.PeriodIndex(periods)
    params_list = list(params_list)
    demo = demonstrated_capacity(weekly, country=country) if demonstrated is None else demonstrated
    with_res = [p for p in params_list if _get(p, "resources")]
    parts, normal_rows = [], []
    if with_res:
        cap = capacity_from_resources(resources_frame(with_res), periods, country=country)
        by_stage = capacity_by_stage(cap)
        parts.append(by_stage[["clinic", "stage", "period", "capacity"]].assign(basis="resources"))
        # a normal week: the capacity with full working days and no closure
        res, _ = resources_frame(with_res)
        normal = capacity_from_resources(res, pd.period_range("2025-03-10", periods=1, freq="W-SUN"), country=country)
        for stage, col in ((name, s.capacity) for name, s in STAGES.items()):
            normal_rows.append(normal[["clinic"]].assign(stage=stage, resources_per_week=normal[col].to_numpy()))
    without = [_clinic_id(p) for p in params_list if not _get(p, "resources")]
    if without:
        parts.append(_demonstrated_periods(weekly[weekly["clinic"].isin(without)], demo[demo["clinic"].isin(without)],
                                           periods, country=country))
    capacity = (pd.concat(parts, ignore_index=True) if parts
                else pd.DataFrame(columns=["clinic", "stage", "period", "capacity", "basis"]))
    check = demo.merge(pd.concat(normal_rows, ignore_index=True) if normal_rows
                       else pd.DataFrame(columns=["clinic", "stage", "resources_per_week"]),
                       on=["clinic", "stage"], how="left")
    with np.errstate(divide="ignore", invalid="ignore"):
        check["deviation"] = check["resources_per_week"] / check["demonstrated_per_week"] - 1.0
    tol = check["clinic"].map(tolerance) if isinstance(tolerance, Mapping) else tolerance
    check["basis"] = np.where(check["resources_per_week"].notna(), "resources", "demonstrated")
    check["finding"] = (check["deviation"].abs() > tol).fillna(False).astype(bool)
    check["tolerance"] = tol
    return capacity.reset_index(drop=True), check


def _demonstrated_periods(weekly: pd.DataFrame, demo: pd.DataFrame, periods: pd.PeriodIndex, *,
                          country: str = "SE") -> pd.DataFrame:
    """Demonstrated capacity per future period: ``demonstrated_per_week · working_days / 5 ·
    f[season] / mean f[normal periods]`` with the production's seasonal profile per working
    day (ISO week or month) [patients/period]."""
    from .calendar import working_days
    from .seasonal import seasonal_profile

    parts = []
    monthly = _freq_name(periods) == "month"
    season_no = periods.month.to_numpy() if monthly else \
        (periods.start_time + pd.Timedelta(days=3)).isocalendar().week.to_numpy()
    wd = working_days(periods, country=country).to_numpy(float)
    normal = _normal_weeks(pd.Series(periods), country=country)
    for stage, (_, _, own) in STAGE_MEASURES.items():
        d = demo[demo["stage"] == stage]
        if d.empty:
            continue
        sub = weekly[weekly["clinic"].isin(d["clinic"])]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                prof = seasonal_profile(sub, measure=own, freq="M" if monthly else "W")
            except ValueError:   # too little history for a profile: flat
                prof = pd.DataFrame(columns=["clinic", "season", "factor"])
        for clinic, level in zip(d["clinic"], d["demonstrated_per_week"]):
            f = prof[prof["clinic"] == clinic].set_index("season")["factor"]
            factor = f.reindex(season_no).fillna(1.0).to_numpy() if len(f) else np.ones(len(periods))
            base = factor[normal].mean() if normal.any() and factor[normal].mean() > 0 else 1.0
            parts.append(pd.DataFrame({"clinic": clinic, "stage": stage, "period": periods,
                                       "capacity": level * wd / 5.0 * factor / base, "basis": "demonstrated"}))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=["clinic", "stage", "period", "capacity", "basis"])


# ============================================================================ inflow
def inflow_forecast(weekly: pd.DataFrame, *, horizon_weeks: int, method: str = "auto", levels=(80, 95),
                    exclude=(2020,), forecasts: Mapping | None = None, periods: int | None = None,
                    country: str = "SE") -> pd.DataFrame:
    """Inflow per clinic, stage and future period (week or month) from the demand forecast.

    First visit: the forecast of ``referrals_in`` times one minus the share forwarded
    elsewhere over the last 52 weeks; treatment: the forecast of
    ``treatment_decisions``. Intervals are scaled the same way.

    Parameters
    ----------
    weekly : DataFrame
        Canonical weekly frame.
    horizon_weeks : int
        Weeks ahead [weeks]; for weekly data also the number of periods.
    method, levels, exclude, country
        Passed to :func:`kps_analysis.forecast.forecast_demand`.
    periods : int, optional
        Number of future periods [weeks or months, as the data]; default ``horizon_weeks``
        (weekly data; monthly callers give the months within the horizon, see
        :func:`periods_within`).
    forecasts : dict measure -> DataFrame, optional
        Forecasts already made, reused as they are; the forecasts this call makes are
        added to it, so the report shows the very forecast the plan rests on.

    Returns
    -------
    DataFrame
        ``clinic``, ``stage``, ``period_ahead``, ``period``, ``inflow`` (mean),
        ``lo_<level>``, ``hi_<level>`` [patients/period].
    """
    from .forecast import forecast_demand

    n_periods = int(horizon_weeks if periods is None else periods)

    forecasts = {} if forecasts is None else forecasts
    totals = _stage_totals(weekly)
    parts = []
    for stage, (measure, minus, own) in STAGE_MEASURES.items():
        if measure not in totals.columns or own not in totals.columns:
            continue
        # a clinic plans a stage it produces and whose inflow it reports (a region's frame gives
        # every clinic every column, blank where its own file has none)
        active = (totals.groupby("clinic")[own].sum() > 0) & totals[measure].notna().groupby(totals["clinic"]).any()
        clinics = active[active].index
        if len(clinics) == 0:
            continue
        fc = forecasts.get(measure)
        if fc is None or not set(clinics) <= set(fc["clinic"]):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fc = forecast_demand(weekly[weekly["clinic"].isin(clinics)], measure=measure,
                                     horizon=n_periods, levels=tuple(levels), method=method,
                                     exclude=tuple(exclude), country=country)
            forecasts[measure] = fc
        fc = fc[fc["clinic"].isin(clinics)].copy()
        share = pd.Series(1.0, index=clinics)
        if minus and minus in totals.columns:
            year = 12 if _freq_name(totals["period"]) == "month" else 52         # the last year [periods]
            recent = totals[totals["clinic"].isin(clinics)].sort_values("period").groupby("clinic").tail(year)
            sums = recent.groupby("clinic")[[measure, minus]].sum()
            share = (1.0 - sums[minus] / sums[measure].where(sums[measure] > 0)).fillna(1.0).clip(0.0, 1.0)
        scale = fc["clinic"].map(share).to_numpy()
        out = fc[["clinic", "period"]].copy()
        out["stage"] = stage
        out["period_ahead"] = out.groupby("clinic").cumcount() + 1
        out["inflow"] = np.clip(fc["mean"].to_numpy(float), 0, None) * scale
        for col in fc.columns:
            if col.startswith(("lo_", "hi_")):
                out[col] = np.clip(fc[col].to_numpy(float), 0, None) * scale
        parts.append(out[out["period_ahead"] <= n_periods])
    if not parts:
        return pd.DataFrame(columns=["clinic", "stage", "period_ahead", "period", "inflow"])
    return pd.concat(parts, ignore_index=True)[lambda f: ["clinic", "stage", "period_ahead", "period", "inflow"]
                                               + [c for c in f.columns if c.startswith(("lo_", "hi_"))]]


def as_weeks(values) -> pd.PeriodIndex:
    """Weeks from Periods or their text as tables hold them: ISO ``2026-W49`` or ``2026-11-30/2026-12-06``.

    Examples
    --------
    >>> list(as_weeks(pd.Series(["2026-W49", "2026-12-07/2026-12-13"])).astype(str))
    ['2026-11-30/2026-12-06', '2026-12-07/2026-12-13']
    """
    import datetime as dt

    if isinstance(values, (pd.PeriodIndex,)) or isinstance(getattr(values, "dtype", None), pd.PeriodDtype):
        return pd.PeriodIndex(values, freq="W-SUN")
    text = pd.Series(values).astype(str)
    iso = text.str.extract(r"^(\d{4})-W(\d{1,2})$")
    days = [dt.date.fromisocalendar(int(y), int(w), 1).isoformat() if isinstance(y, str) else t.split("/")[0]
            for y, w, t in zip(iso[0], iso[1], text)]
    return pd.PeriodIndex(pd.to_datetime(days), freq="W-SUN")


def whole(x: np.ndarray) -> np.ndarray:
    """Whole numbers per row whose running totals are the rounded running totals of ``x``.

    ``out[:, k] = round(Σ_{j<=k} x[:, j]) - round(Σ_{j<k} x[:, j])``, so the total over
    any leading run of periods is exact to the rounding of its sum [patients].

    Examples
    --------
    >>> whole(np.array([[0.4, 0.4, 0.4, 0.4]])).tolist()
    [[0.0, 1.0, 0.0, 1.0]]
    """
    c = np.round(np.cumsum(np.asarray(x, dtype=float), axis=-1) + 1e-9)
    return np.diff(c, axis=-1, prepend=0.0)


# ============================================================================ projection
@dataclass
class _Arrays:
    keys: pd.DataFrame          # one row per series: clinic, stage (, run)
    state: np.ndarray           # series × priority × entry day [patients]
    mix: np.ndarray             # series × priority: arrivals' priority mix [share]
    inflow: np.ndarray          # series × week [patients/week]
    capacity: np.ndarray        # series × week [patients/week]
    limit: np.ndarray           # series [days]
    buy_from: np.ndarray        # series: first period index (0-based) a purchase can arrive
    fixed_own: np.ndarray       # series × week, NaN where not fixed [patients/week]
    fixed_buy: np.ndarray       # series × week, NaN where not fixed [patients/week]
    max_age: int
    chosen: np.ndarray          # series: patients who chose to wait [patients]
    days: np.ndarray            # period: length [days] (7 for weeks, 28-31 for months)
    starts: np.ndarray          # period: first day, counted from the plan's start [days]


def _arrays(waiting: pd.DataFrame, flows: pd.DataFrame, settings: pd.DataFrame, *, order: str,
            fixed: pd.DataFrame | None = None) -> _Arrays:
    """Who waits and the flows per period as arrays, one series per clinic × stage."""
    keys = flows[["clinic", "stage"]].drop_duplicates().sort_values(["clinic", "stage"]).reset_index(drop=True)
    n_s = len(keys)
    horizon = int(flows["period_ahead"].max()) if len(flows) else 0
    sid = keys.reset_index().rename(columns={"index": "_s"})
    set_ = keys.merge(settings, on=["clinic", "stage"], how="left")
    limit = set_["guarantee_days"].fillna(90.0).to_numpy(float)
    days = np.full(horizon, 7, dtype=int)
    if "period_days" in flows.columns and len(flows):
        d = flows.groupby("period_ahead")["period_days"].agg(["min", "max"]).reindex(range(1, horizon + 1))
        if (d["min"] != d["max"]).any():
            raise ValueError("flows: periods of different lengths in one plan (weeks and months?); plan weekly "
                             "and monthly clinics in separate calls (plan_region does)")
        days = d["max"].fillna(7).to_numpy(int)
    starts = np.concatenate([[0], np.cumsum(days)[:-1]]).astype(int) if horizon else np.zeros(0, int)
    # a purchase arrives at the earliest in the first period that starts after the lead time
    lead_days = 7.0 * set_["lead_time_weeks"].fillna(0).to_numpy(float)
    buy_from = np.searchsorted(starts, lead_days, side="left").astype(int)
    wait = waiting.merge(sid, on=["clinic", "stage"], how="inner")
    if "patients" not in wait.columns:
        wait = wait.assign(patients=1.0)
    chosen_mask = wait["patient_chosen_wait"].fillna(False).astype(bool).to_numpy() \
        if "patient_chosen_wait" in wait.columns else np.zeros(len(wait), bool)
    chosen = np.bincount(wait["_s"].to_numpy(int)[chosen_mask], weights=wait["patients"].to_numpy(float)[chosen_mask],
                         minlength=n_s)
    wait = wait[~chosen_mask]
    use_priority = order == "priority" and "priority" in wait.columns
    pr = wait["priority"].astype(str) if use_priority else pd.Series("all", index=wait.index)
    priorities = sorted(pr.unique()) if len(wait) else ["all"]
    n_p = len(priorities)
    # ages beyond the limit are all breaches; clip so the state's size is bounded
    cap_age = int(np.ceil(limit.max() if n_s else 90)) + 7
    age = np.clip(wait["wait_days"].to_numpy(float), 0, cap_age).astype(int)
    max_age = cap_age
    n_e = max_age + 1 + int(days.sum())
    state = np.zeros((n_s, n_p, n_e))
    p_index = {p: i for i, p in enumerate(priorities)}
    np.add.at(state, (wait["_s"].to_numpy(np.int64), pr.map(p_index).to_numpy(np.int64), max_age - age),
              wait["patients"].to_numpy(float))
    recent = state[:, :, max(0, max_age - 28):max_age + 1].sum(axis=2)
    every = state.sum(axis=2)
    base = np.where(recent.sum(axis=1, keepdims=True) > 0, recent, every)
    total = base.sum(axis=1, keepdims=True)
    mix = np.where(total > 0, base / np.where(total > 0, total, 1), 1.0 / n_p)
    grid = sid.merge(pd.DataFrame({"period_ahead": np.arange(1, horizon + 1)}), how="cross")
    f = grid.merge(flows, on=["clinic", "stage", "period_ahead"], how="left").sort_values(["_s", "period_ahead"])
    # whole patients: running totals rounded, so a plan's totals are exact and the flow
    # identity holds in whole numbers
    inflow = whole(f["inflow"].astype(float).fillna(0.0).to_numpy().reshape(n_s, horizon))
    capacity = whole(f["capacity"].astype(float).fillna(0.0).to_numpy().reshape(n_s, horizon))
    fixed_own = np.full((n_s, horizon), np.nan)
    fixed_buy = np.full((n_s, horizon), np.nan)
    if fixed is not None and len(fixed) and "period" in f.columns:
        # the clinic's own plan before the region's moves (apply_moves adds them again): patients
        # received are not its own queue's, patients moved out were to be bought
        fixed = fixed.assign(
            own_production=(fixed["own_production"] - (fixed["moved_in"].fillna(0.0) if "moved_in" in fixed
                                                        else 0.0)).clip(lower=0.0),
            purchase=fixed["purchase"] + (fixed["moved_out"].fillna(0.0) if "moved_out" in fixed else 0.0))
        on = f[["clinic", "stage", "period"]].reset_index(drop=True).merge(
            fixed[["clinic", "stage", "period", "own_production", "purchase"]], on=["clinic", "stage", "period"],
            how="left")
        fixed_own = on["own_production"].to_numpy(float).reshape(n_s, horizon)
        fixed_buy = on["purchase"].to_numpy(float).reshape(n_s, horizon)
    return _Arrays(keys, state, mix, inflow, capacity, limit, buy_from, fixed_own, fixed_buy, max_age, chosen,
                   days, starts)


#: State cells [patients per series, priority and entry day] :func:`_run` projects at a time (2 MB):
#: a period's dozen passes over them stay in the processor's caches. Measured on the demo region's
#: Monte Carlo (300 runs × 15 series × 52 weeks): all at once 8.1-8.6 s, blocks of 2^17 cells
#: 5.1 s, 2^18 4.8 s, 2^19 4.7 s, 2^16 6.0 s, 2^14 10 s (the numpy calls' own cost).
_RUN_BLOCK_CELLS = 2 ** 18


def _rows(a: _Arrays, sl: slice) -> _Arrays:
    """The series ``sl`` of the arrays (views)."""
    return _Arrays(keys=a.keys.iloc[sl], state=a.state[sl], mix=a.mix[sl], inflow=a.inflow[sl],
                   capacity=a.capacity[sl], limit=a.limit[sl], buy_from=a.buy_from[sl], fixed_own=a.fixed_own[sl],
                   fixed_buy=a.fixed_buy[sl], max_age=a.max_age, chosen=a.chosen[sl], days=a.days,
                   starts=a.starts)


def _run(a: _Arrays, *, purchase: bool = True, inflow: np.ndarray | None = None,
         capacity: np.ndarray | None = None, fixed_buy: np.ndarray | None = None, top_up: bool = False) -> dict:
    """Project the arrays period by period; returns series × period arrays (see :func:`project_plan`).

    ``top_up``: in a fixed period the patients past the limit that the fixed purchase leaves are
    bought on top of it (``beyond_fixed``) once a purchase can arrive; without it the fixed
    purchase stands as it is (the Monte Carlo's test of the plan's purchase).

    The series do not depend on each other, so a few at a time (:data:`_RUN_BLOCK_CELLS`) are
    projected over the whole horizon: the same arithmetic on each series, the same bits, with
    the cells in the cache (the Monte Carlo's runs took 1.75× as long all at once).
    """
    inflow = a.inflow if inflow is None else inflow
    capacity = a.capacity if capacity is None else capacity
    fixed_buy = a.fixed_buy if fixed_buy is None else fixed_buy
    n_s, n_p, n_e = a.state.shape
    step = max(1, _RUN_BLOCK_CELLS // max(1, n_p * n_e))
    if n_s <= step:
        return _run_block(a, purchase, inflow, capacity, fixed_buy, top_up)
    parts = [_run_block(_rows(a, slice(lo, lo + step)), purchase, inflow[lo:lo + step], capacity[lo:lo + step],
                        fixed_buy[lo:lo + step], top_up) for lo in range(0, n_s, step)]
    return {k: np.concatenate([part[k] for part in parts]) for k in parts[0]}


def _serve(live: np.ndarray, per_p: np.ndarray, own: np.ndarray) -> None:
    """Serve ``own`` patients of each series in the serving order, in place: priority, then oldest
    entry first [patients].

    ``live`` is series × priority × entry day, ``per_p`` its sums over the days, ``own`` the
    patients served per series. Cell by cell ``served = clip(own - before, 0, live)``, with
    ``before`` the patients of earlier priorities and earlier entry days. A priority whose
    running total is within ``own`` is served whole (emptied), the priorities after the first
    that is not are not reached, so only that one's cells are computed: a third of the
    Monte Carlo's passes over the cells, where every priority's were.
    """
    n_s, n_p, _ = live.shape
    ahead = np.cumsum(per_p, axis=1)
    whole_p = ahead <= own[:, None]                     # priorities served whole (a prefix of each series)
    live[whole_p] = 0.0
    first = whole_p.sum(axis=1)                         # the priority the last served patient is in
    part = np.flatnonzero(first < n_p)
    if not len(part):
        return
    p = first[part]
    cells = live[part, p]                               # series × entry day of that priority (a copy)
    served = np.cumsum(cells, axis=1)
    served -= cells
    served += (ahead - per_p)[part, p][:, None]
    np.subtract(own[part][:, None], served, out=served)
    np.clip(served, 0.0, cells, out=served)
    cells -= served
    live[part, p] = cells


def _run_block(a: _Arrays, purchase: bool, inflow: np.ndarray, capacity: np.ndarray, fixed_buy: np.ndarray,
               top_up: bool) -> dict:
    """:func:`_run` of a few series (the period loop)."""
    state = a.state.copy()
    n_s, n_p, n_e = state.shape
    horizon = inflow.shape[-1]
    out = {k: np.zeros((n_s, horizon)) for k in ("own_production", "purchase", "queue_end", "breaches_before",
                                                  "breaches_after", "unused_capacity", "beyond_fixed")}
    for k in range(horizon):
        first, last = a.max_age + a.starts[k] + 1, a.max_age + a.starts[k] + a.days[k]
        state[:, :, first:last + 1] += (inflow[:, k][:, None] * a.mix)[:, :, None] / float(a.days[k])
        live = state[:, :, :last + 1]                                    # entries up to today (a view)
        per_p = live.sum(axis=2)                                         # series × priority
        queue = per_p.sum(axis=1)
        own = np.minimum(np.floor(capacity[:, k] + 1e-9), np.floor(queue + 1e-9))
        fixed_k = a.fixed_own[:, k] if a.fixed_own.shape[-1] > k else np.full(n_s, np.nan)
        own = np.where(np.isnan(fixed_k), own, np.minimum(fixed_k, np.floor(queue + 1e-9)))
        _serve(live, per_p, own)
        age = last - np.arange(last + 1)                                 # days waited at the period's end
        over_mask = age[None, :] > a.limit[:, None]                      # series × entry day
        by_day = live.sum(axis=1)                                        # series × entry day
        over = (by_day * over_mask).sum(axis=1)
        breach = np.ceil(over - 1e-6).clip(min=0)
        if purchase:
            buy = np.where(k >= a.buy_from, breach, 0.0)
            fb = fixed_buy[:, k] if fixed_buy.shape[-1] > k else np.full(n_s, np.nan)
            buy = np.where(np.isnan(fb), buy, np.maximum(fb, buy) if top_up else fb)
            buy = np.minimum(buy, np.floor(by_day.sum(axis=1) + 1e-9))
            if top_up:
                out["beyond_fixed"][:, k] = np.where(np.isnan(fb), 0.0, np.maximum(buy - np.nan_to_num(fb), 0.0))
            cum = np.cumsum(by_day, axis=1) - by_day                     # oldest first
            take = np.clip(buy[:, None] - cum, 0.0, by_day)
            with np.errstate(invalid="ignore", divide="ignore"):
                keep = np.where(by_day > 0, 1.0 - take / np.where(by_day > 0, by_day, 1.0), 1.0)
            # keep is 1 exactly after the last entry day anybody is bought from: those cells stay as they are
            bought = np.flatnonzero((take > 0).any(axis=0))
            if len(bought):
                live[:, :, :bought[-1] + 1] *= keep[:, None, :bought[-1] + 1]
            by_day = by_day - take
        else:
            buy = np.zeros(n_s)
        after = (by_day * over_mask).sum(axis=1)
        out["own_production"][:, k] = own
        out["unused_capacity"][:, k] = np.maximum(np.floor(capacity[:, k] + 1e-9) - own, 0.0)
        out["purchase"][:, k] = buy
        out["queue_end"][:, k] = by_day.sum(axis=1)
        out["breaches_before"][:, k] = breach
        out["breaches_after"][:, k] = np.ceil(after - 1e-6).clip(min=0)
    return out


def project_plan(waiting: pd.DataFrame, flows: pd.DataFrame, settings: pd.DataFrame, *, order: str = "priority",
                 fixed: pd.DataFrame | None = None) -> pd.DataFrame:
    """The production plan: own production, purchase, queue and breaches per series and week.

    Each week k, for every clinic × stage series at once: arrivals (``inflow``) join
    the queue, spread over the week's days with the priority mix of recent entries;
    own production serves ``min(capacity, queue)`` whole patients (in a fixed week the
    fixed plan's own production) in the serving ``order``; the patients who would then
    be past ``guarantee_days`` at the week's end are bought, oldest first and rounded up
    to whole patients, if week k is after ``lead_time_weeks`` (in a fixed week, the
    fixed purchase, and on top of it the patients it would leave past the limit:
    ``purchase_beyond_fixed``, since the guarantee is not kept by a plan). Patients who
    chose to wait longer are not counted.

        queue_end[k] = queue_end[k-1] + inflow[k] - own_production[k] - purchase[k]
        gap[k]       = own_production[k] + purchase[k] - capacity[k]

    ``breaches_if_nothing_bought`` is the same projection without any purchase.

    Parameters
    ----------
    waiting : DataFrame
        Who waits now: ``clinic``, ``stage``, ``wait_days`` [days], ``patients``
        [patients], optional ``priority``, ``patient_chosen_wait``.
    flows : DataFrame
        ``clinic``, ``stage``, ``period_ahead`` (1..H), optional ``period``, ``inflow``,
        ``capacity`` [patients/week].
    settings : DataFrame
        :func:`assumptions_frame` output (``guarantee_days``, ``lead_time_weeks``,
        prices per clinic and stage).
    order : {"priority", "fifo"}
        Serving order.
    fixed : DataFrame, optional
        A fixed plan: ``clinic``, ``stage``, ``period``, ``own_production``,
        ``purchase`` [patients/week], kept as they are in its weeks (:func:`plan_clinics`
        first brings a fixed plan the capacity no longer carries down to it,
        :func:`fixed_above_capacity`).

    Returns
    -------
    DataFrame
        ``clinic``, ``stage``, ``period_ahead``, (``period``), ``inflow``, ``capacity``,
        ``own_production``, ``purchase``, ``unused_capacity``, ``gap`` [patients/week],
        ``queue_start``, ``queue_end``, ``breaches_if_nothing_bought``,
        ``breaches_before_purchase``, ``breaches_after_purchase`` [patients],
        ``share_within_guarantee`` [share 0-1], ``order_by_period`` [period_ahead; <= 0:
        already late], ``within_lead_time`` (bool), ``cost_external_sek``,
        ``cost_internal_sek`` [SEK].

    Raises
    ------
    ValueError
        For an unknown ``order``, negative flows or missing columns.

    Examples
    --------
    The hand case: 20 priority-1 patients waiting 0 days and 10 priority-3 patients
    waiting 88 days, own capacity 10 a week, no arrivals, no lead time. Priority 1 is
    served first, so the 10 priority-3 patients would breach in week 1: buy exactly them.

    >>> wait = pd.DataFrame({"clinic": "a", "stage": "treatment", "priority": ["1", "3"],
    ...                      "wait_days": [0, 88], "patients": [20.0, 10.0]})
    >>> flows = pd.DataFrame({"clinic": "a", "stage": "treatment", "period_ahead": [1, 2, 3],
    ...                       "inflow": 0.0, "capacity": 10.0})
    >>> s = assumptions_frame([Assumptions("a", lead_time_weeks=0)])
    >>> p = project_plan(wait, flows, s)
    >>> p[["own_production", "purchase", "queue_end", "breaches_after_purchase"]].values.tolist()
    [[10.0, 10.0, 10.0, 0.0], [10.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]]
    """
    if order not in ORDERS:
        raise ValueError(f"order must be one of {ORDERS}, got {order!r}")
    for col in ("clinic", "stage", "period_ahead", "inflow", "capacity"):
        if col not in flows.columns:
            raise ValueError(f"flows: missing column {col!r}")
    for col in ("clinic", "stage", "wait_days"):
        if col not in waiting.columns:
            raise ValueError(f"waiting: missing column {col!r}")
    if (flows[["inflow", "capacity"]].to_numpy(float) < 0).any():
        raise ValueError("flows: inflow and capacity must be non-negative")
    a = _arrays(waiting, flows, settings, order=order, fixed=fixed)
    planned = _run(a, purchase=True, top_up=True)
    nothing = _run(a, purchase=False)
    n_s, horizon = a.inflow.shape
    out = a.keys.loc[np.repeat(np.arange(n_s), horizon)].reset_index(drop=True)
    out["period_ahead"] = np.tile(np.arange(1, horizon + 1), n_s)
    if "period" in flows.columns:
        out = out.merge(flows[["clinic", "stage", "period_ahead", "period"]], on=["clinic", "stage", "period_ahead"],
                        how="left")
    out["inflow"] = a.inflow.ravel()
    out["capacity"] = a.capacity.ravel()
    for name in ("own_production", "purchase", "unused_capacity"):
        out[name] = planned[name].ravel()
    out["gap"] = out["own_production"] + out["purchase"] - out["capacity"]
    queue0 = a.state.sum(axis=(1, 2))
    q_end = planned["queue_end"]
    out["queue_start"] = np.concatenate([queue0[:, None], q_end[:, :-1]], axis=1).ravel()
    out["queue_end"] = q_end.ravel()
    out["breaches_if_nothing_bought"] = nothing["breaches_before"].ravel()
    out["breaches_before_purchase"] = planned["breaches_before"].ravel()
    out["breaches_after_purchase"] = planned["breaches_after"].ravel()
    out["purchase_beyond_fixed"] = planned["beyond_fixed"].ravel()
    with np.errstate(invalid="ignore", divide="ignore"):
        out["share_within_guarantee"] = np.where(q_end > 0, 1.0 - planned["breaches_after"] / q_end, 1.0).ravel()
    out["period_days"] = np.tile(a.days, n_s)
    # the period by which a purchase must be ordered: the last one that starts at least the
    # lead time before it (weeks: k - lead weeks); <= 0: the order is already late
    lead = np.repeat(a.buy_from, horizon)
    lead_days = np.repeat(7.0 * a.keys.merge(settings, on=["clinic", "stage"], how="left")["lead_time_weeks"]
                          .fillna(0).to_numpy(float), horizon)
    order_day = np.tile(a.starts, n_s) - lead_days
    by_start = np.searchsorted(a.starts, np.maximum(order_day, 0), side="right")
    out["order_by_period"] = np.where(order_day >= 0, by_start, out["period_ahead"].to_numpy() - lead)
    out["within_lead_time"] = out["period_ahead"] <= lead
    if "period" in out.columns and out["period"].notna().all() and len(out):
        starts = pd.PeriodIndex(out["period"].array).start_time
        out["order_by_date"] = (starts - pd.to_timedelta(lead_days, unit="D")).normalize()
    prices = out[["clinic", "stage"]].merge(settings[["clinic", "stage", "price_external_sek",
                                                      "price_internal_sek"]], on=["clinic", "stage"], how="left")
    out["cost_external_sek"] = out["purchase"] * prices["price_external_sek"].to_numpy(float)
    out["cost_internal_sek"] = out["purchase"] * prices["price_internal_sek"].to_numpy(float)
    return out


# ============================================================================ uncertainty
def _production_cv(weekly: pd.DataFrame) -> pd.DataFrame:
    """How own production has varied against plan, per clinic and stage [share].

    Where planned volumes are reported (``planned_new_visits``, ``planned_operations``):
    the standard deviation of actual / planned over the last 52 weeks with a plan;
    otherwise the coefficient of variation of production over the last 26 weeks at
    normal staffing (monthly data: 12 months with a plan, at least 4; else 6 normal
    months). Clipped to 0.02-0.5.
    """
    totals = _stage_totals(weekly).sort_values(["clinic", "period"])
    if totals.empty:
        return pd.DataFrame(columns=["clinic", "stage", "production_cv"])
    year, half, need = (12, 6, 4) if _freq_name(totals["period"]) == "month" else (52, 26, 8)
    planned = {name: s.planned for name, s in STAGES.items()}
    rows = []
    for stage, (_, _, own) in STAGE_MEASURES.items():
        if own not in totals.columns:
            continue
        plan_col = planned[stage]
        for clinic, g in totals.groupby("clinic", sort=False):
            cv = np.nan
            if plan_col in g.columns:
                sub = g.tail(year)
                ok = (sub[plan_col] > 0) & sub[own].notna()
                if ok.sum() >= need:
                    cv = float((sub.loc[ok, own] / sub.loc[ok, plan_col]).std())
            if not np.isfinite(cv):
                x = g.loc[_normal_weeks(g["period"]), own].tail(half).dropna()
                cv = float(x.std() / x.mean()) if len(x) >= min(4, half) and x.mean() > 0 else 0.1
            rows.append({"clinic": clinic, "stage": stage, "production_cv": float(np.clip(cv, 0.02, 0.5))})
    return pd.DataFrame(rows, columns=["clinic", "stage", "production_cv"])


def simulate_plan(waiting: pd.DataFrame, flows: pd.DataFrame, settings: pd.DataFrame, plan: pd.DataFrame, *,
                  production_cv: pd.DataFrame | None = None, runs: int = 500, seed: int = 2019,
                  order: str = "priority", level: int = 80, autocorrelation: float = 0.5,
                  fixed_weeks: int = 12, chunk_cells: float = 2e7) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Monte Carlo of the plan: the chance that nobody breaches, and the purchase at 50/80/95 %.

    ``runs`` futures of the same model (:func:`project_plan`) over the whole horizon:

    * inflow per week drawn around the forecast mean with the spread of its
      ``level`` % interval, ``sd = (hi - lo) / (2 z)``, a common shock per run
      (``autocorrelation``) plus weekly noise, rounded to whole patients;
    * own production = the plan's capacity × (1 + cv · z), with ``cv`` how production
      has varied against plan (:func:`_production_cv`), never above the queue;
    * the same serving order.

    The runs of a few series at a time (``chunk_cells`` state cells at most), so memory
    is bounded for a region of hundreds of clinics; the draws do not depend on it.

    Two projections per run: with the plan's purchase as it stands (does anybody breach
    in a month that the plan had kept?), and with the purchase policy re-applied (what
    purchase this future needs).

    Returns
    -------
    (DataFrame, DataFrame)
        ``by_month``: ``clinic``, ``stage``, ``month``, ``p_no_breach`` [share 0-1]
        (runs in which nobody is past the guarantee in the month, with the plan's
        purchase), ``plan_breaches`` (the plan's own breaches after purchase in the month);
        ``purchase``: ``clinic``, ``stage``, ``purchase_plan`` (the plan's purchase in the
        first ``fixed_weeks``), ``purchase_p50``, ``purchase_p80``, ``purchase_p95``
        [patients], ``p_no_breach_fixed`` [share]: runs in which nobody is past the
        guarantee, with the plan's purchase, in the weeks after the lead time up to the
        fixed horizon (the weeks the purchase can still protect). ``purchase.attrs["clinic"]``
        holds the same per clinic (both stages together).
    """
    a = _arrays(waiting, flows, settings, order=order)
    n_s, horizon = a.inflow.shape
    if n_s == 0 or horizon == 0:          # nothing to plan (no inflow measure): empty, with columns
        return _empty_simulation()
    grid = a.keys.merge(pd.DataFrame({"period_ahead": np.arange(1, horizon + 1)}), how="cross")
    f = grid.merge(flows, on=["clinic", "stage", "period_ahead"], how="left")
    inflow, capacity = _simulated_futures(a, f, production_cv, runs=runs, level=level,
                                          autocorrelation=autocorrelation, seed=seed)
    planned_buy = a.keys.merge(plan[["clinic", "stage", "period_ahead", "purchase"]], on=["clinic", "stage"],
                               how="left").sort_values(["clinic", "stage", "period_ahead"])
    planned_buy = planned_buy["purchase"].to_numpy(float).reshape(n_s, horizon)
    n_fixed = int((a.starts < 7.0 * fixed_weeks).sum())            # periods in the fixed weeks
    breach, buys = _simulated_runs(a, inflow, capacity, planned_buy, n_fixed, chunk_cells)
    by_month = _no_breach_by_month(a, f, plan, breach)
    return by_month, _simulated_purchase(a, breach, buys, planned_buy, n_fixed)


def _empty_simulation() -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`simulate_plan`'s frames without rows (nothing to plan), with their columns."""
    purchase = pd.DataFrame(columns=["clinic", "stage", "purchase_plan", "purchase_p50", "purchase_p80",
                                     "purchase_p95", "p_no_breach_fixed"])
    purchase.attrs["clinic"] = pd.DataFrame(columns=["clinic", "p_no_breach_fixed", "purchase_p50",
                                                     "purchase_p80", "purchase_p95"])
    return pd.DataFrame(columns=["clinic", "stage", "month", "p_no_breach", "plan_breaches"]), purchase


def _simulated_futures(a: _Arrays, f: pd.DataFrame, production_cv: pd.DataFrame | None, *, runs: int, level: int,
                       autocorrelation: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Inflow and own production per run, series and period (runs, n_s, H), whole patients.

    Each clinic × stage series draws from its own random streams (:func:`series_draws`),
    so a clinic's simulation is the same whichever other clinics are planned with it (one
    clinic in JupyterLab, a whole region, in chunks over any number of workers) and
    whatever the horizon.
    """
    from scipy.stats import norm

    n_s, horizon = a.inflow.shape
    lo, hi = f"lo_{level}", f"hi_{level}"
    z = norm.ppf(0.5 + level / 200.0)
    if lo in f.columns and hi in f.columns:
        sd = ((f[hi] - f[lo]).astype(float).fillna(0.0).to_numpy() / (2 * z)).reshape(n_s, horizon)
    else:
        sd = np.sqrt(np.maximum(a.inflow, 0))
    cv = np.full(n_s, 0.1)
    if production_cv is not None and len(production_cv):
        cv = a.keys.merge(production_cv, on=["clinic", "stage"], how="left")["production_cv"].fillna(0.1).to_numpy()
    common, weekly_z, prod_z = series_draws(a.keys, runs, horizon, seed)
    shock = autocorrelation * common + np.sqrt(1 - autocorrelation ** 2) * weekly_z
    inflow = np.maximum(a.inflow[None] + sd[None] * shock, 0.0)
    inflow = whole(inflow)
    prod_z = np.clip(prod_z, -3, 3)
    capacity = whole(np.maximum(a.capacity[None] * (1 + cv[None, :, None] * prod_z), 0.0))
    return inflow, capacity


def series_draws(keys: pd.DataFrame, runs: int, horizon: int, seed: int) -> tuple[np.ndarray, np.ndarray,
                                                                                 np.ndarray]:
    """Standard normal draws of the Monte Carlo, each series from streams of its own.

    ``keys`` has one row per series (``clinic``, ``stage``). A series' streams are seeded
    with ``seed`` and a checksum (CRC-32) of its clinic and stage, one stream per kind of
    draw, and each stream is drawn period by period (all runs of a period, then the next
    period's), so the draws of a series depend on neither the other series nor, for its
    first periods, the horizon.

    Returns
    -------
    (ndarray, ndarray, ndarray)
        The common shock per run and series (runs, n_s, 1), the weekly inflow noise and
        the production noise (runs, n_s, horizon) [standard deviations].

    Examples
    --------
    >>> keys = pd.DataFrame({"clinic": ["a", "b"], "stage": ["treatment", "treatment"]})
    >>> both = series_draws(keys, 3, 4, 2019)[1]
    >>> bool((both[:, 1] == series_draws(keys.iloc[[1]], 3, 6, 2019)[1][:, 0, :4]).all())
    True
    """
    import zlib

    n_s = len(keys)
    common = np.empty((runs, n_s, 1))
    weekly_z, prod_z = np.empty((runs, n_s, horizon)), np.empty((runs, n_s, horizon))
    for i, (clinic, stage) in enumerate(keys[["clinic", "stage"]].astype(str).itertuples(index=False)):
        streams = np.random.SeedSequence([seed, zlib.crc32(f"{clinic}\x1f{stage}".encode())]).spawn(3)
        first, weekly, production = (np.random.default_rng(s) for s in streams)
        common[:, i, 0] = first.standard_normal(runs)
        weekly_z[:, i] = weekly.standard_normal((horizon, runs)).T
        prod_z[:, i] = production.standard_normal((horizon, runs)).T
    return common, weekly_z, prod_z


def _simulated_runs(a: _Arrays, inflow: np.ndarray, capacity: np.ndarray, planned_buy: np.ndarray, n_fixed: int,
                    chunk_cells: float) -> tuple[np.ndarray, np.ndarray]:
    """Breaches with the plan's purchase, and the purchase the policy needs in the fixed periods (runs, n_s, H)."""
    runs = inflow.shape[0]
    n_s, horizon = a.inflow.shape
    breach = np.zeros((runs, n_s, horizon))
    buys = np.zeros((runs, n_s, horizon))
    # runs stacked as series, a few clinic × stage series at a time so memory stays bounded
    step = max(1, int(chunk_cells // max(1, runs * a.state.shape[1] * a.state.shape[2])))
    for lo_s in range(0, n_s, step):
        sl = slice(lo_s, min(n_s, lo_s + step))
        k = sl.stop - sl.start
        rep = _Arrays(keys=a.keys.iloc[sl], state=np.tile(a.state[sl], (runs, 1, 1)),
                      mix=np.tile(a.mix[sl], (runs, 1)), inflow=inflow[:, sl].reshape(runs * k, horizon),
                      capacity=capacity[:, sl].reshape(runs * k, horizon),
                      limit=np.tile(a.limit[sl], runs), buy_from=np.tile(a.buy_from[sl], runs),
                      fixed_own=np.full((runs * k, horizon), np.nan), fixed_buy=np.full((runs * k, horizon), np.nan),
                      max_age=a.max_age, chosen=np.tile(a.chosen[sl], runs), days=a.days, starts=a.starts)
        with_plan = _run(rep, purchase=True, fixed_buy=np.tile(planned_buy[sl], (runs, 1)))
        breach[:, sl] = with_plan["breaches_after"].reshape(runs, k, horizon)
        # the purchase this future needs is reported over the fixed periods only
        policy = _run(rep, purchase=True, inflow=rep.inflow[:, :n_fixed], capacity=rep.capacity[:, :n_fixed])
        buys[:, sl, :n_fixed] = policy["purchase"].reshape(runs, k, n_fixed)
    return breach, buys


def _no_breach_by_month(a: _Arrays, f: pd.DataFrame, plan: pd.DataFrame, breach: np.ndarray) -> pd.DataFrame:
    """Per series and month: the share of runs nobody breaches in [0-1], and the plan's own breaches."""
    n_s, horizon = a.inflow.shape
    periods = f["period"] if "period" in f.columns else None
    months = (_month_of(pd.Series(periods.to_numpy())).to_numpy().reshape(n_s, horizon)[0]
              if periods is not None and periods.notna().all() else np.array(["all"] * horizon))
    rows = []
    plan_after = a.keys.merge(plan[["clinic", "stage", "period_ahead", "breaches_after_purchase"]],
                              on=["clinic", "stage"], how="left").sort_values(["clinic", "stage", "period_ahead"])
    plan_after = plan_after["breaches_after_purchase"].to_numpy(float).reshape(n_s, horizon)
    for m in pd.unique(months):
        sel = months == m
        ok = (breach[:, :, sel].max(axis=2) <= 0).mean(axis=0)
        for i, (clinic, stage) in enumerate(a.keys[["clinic", "stage"]].itertuples(index=False)):
            rows.append({"clinic": clinic, "stage": stage, "month": m, "p_no_breach": float(ok[i]),
                         "plan_breaches": float(plan_after[i, sel].max())})
    return pd.DataFrame(rows, columns=["clinic", "stage", "month", "p_no_breach", "plan_breaches"])


def _simulated_purchase(a: _Arrays, breach: np.ndarray, buys: np.ndarray, planned_buy: np.ndarray,
                        fixed: int) -> pd.DataFrame:
    """The purchase over the fixed periods at 50/80/95 % and the chance of no breach, per series and clinic."""
    runs = breach.shape[0]
    horizon = a.inflow.shape[1]
    total = buys[:, :, :fixed].sum(axis=2)
    q = np.percentile(total, [50, 80, 95], axis=0, method="higher")
    # weeks after the lead time up to the fixed horizon: what the planned purchase can still keep
    lead = a.buy_from
    window = (np.arange(horizon)[None, :] >= lead[:, None]) & (np.arange(horizon)[None, :] < fixed)
    in_window = np.where(window[None], breach, 0.0)
    ok_fixed = (in_window.max(axis=2) <= 0).mean(axis=0)
    purchase = a.keys.copy()
    purchase["purchase_plan"] = planned_buy[:, :fixed].sum(axis=1)
    purchase["purchase_p50"], purchase["purchase_p80"], purchase["purchase_p95"] = q
    purchase["p_no_breach_fixed"] = ok_fixed
    # the clinic as a whole: nobody breaches in any of its stages in the fixed weeks
    codes, clinics = pd.factorize(a.keys["clinic"])
    worst = np.zeros((runs, len(clinics)))
    np.maximum.at(worst.T, codes, in_window.max(axis=2).T)
    clinic_p = pd.DataFrame({"clinic": clinics, "p_no_breach_fixed": (worst <= 0).mean(axis=0)})
    clinic_q = pd.DataFrame(total.T).groupby(codes).sum().T.to_numpy()  # runs × clinic
    for name, pct in (("purchase_p50", 50), ("purchase_p80", 80), ("purchase_p95", 95)):
        clinic_p[name] = np.percentile(clinic_q, pct, axis=0, method="higher")
    purchase.attrs["clinic"] = clinic_p
    return purchase


def _month_of(periods: pd.Series) -> pd.Series:
    """Month of each week: the month of its Thursday (as ISO weeks belong to years); a month is its own."""
    if len(periods) == 0:
        return pd.Series(pd.PeriodIndex([], freq="M"), index=periods.index)
    index = pd.PeriodIndex(periods.array)
    if _freq_name(index) == "month":
        return pd.Series(index, index=periods.index)
    return pd.Series((index.start_time + pd.Timedelta(days=3)).to_period("M"), index=periods.index)


# ============================================================================ escalation
def __getattr__(name: str):
    """``ESCALATION_RULE``: the escalation rule as the report states it, ``{"sv": ..., "en": ...}``
    with ``{days}``, ``{miss}``, ``{red}``, ``{yellow}`` and ``{lead}`` to fill; the translation
    catalogue's "escalation_rule.text" (:mod:`kps_analysis.report.labels`), read when first asked
    for (the report package imports this module)."""
    if name == "ESCALATION_RULE":
        from .report.labels import TEXTS

        globals()[name] = rule = dict(TEXTS["escalation_rule.text"])
        return rule
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def escalation(figures: pd.DataFrame, settings: pd.DataFrame, production: pd.DataFrame | None = None
               ) -> pd.DataFrame:
    """Escalation status per clinic from the guarantee and the plan (:data:`ESCALATION_RULE`).

    ::

        missed  = share_over_90_days > 1 - target_share
        buys    = purchase_need_12w > 0 (what a fixed plan of an earlier run lacks included)
        late    = breaches_after_purchase_peak_12w > 0
        short   = -production_deviation_pct (outcome below plan this year), counted
                  only where missed, buys or late: a clinic keeping the guarantee with
                  spare capacity produces what its patients need             [%]
        red     = (missed and buys) or short >= red_pct                    -> "division"
        yellow  = missed or buys or late or short >= yellow_pct            -> "clinic"
        green   = otherwise                                                -> "unit"
        none    = nothing to judge the guarantee by: share_over_90_days,
                  purchase_need_12w and breaches_after_purchase_peak_12w all
                  missing (no waits, no waiting list, no stage planned; an
                  operations-only clinic)                                  -> none

    :func:`headline_figures` then raises a red to ``"region"`` where the counted shortfall
    has been red for the follow-up's ``red_weeks_to_region`` periods running
    (:func:`follow_up_levels`, :func:`kps_analysis.plan.plan_vs_outcome`).

    A clinic not assessed gets no status and no level (missing: ``None``, or NaN in a
    column of strings; the report shows "–", as for every figure not computed) and an
    empty reason: green would say its guarantee is kept, which nothing shows.

    Parameters
    ----------
    figures : DataFrame
        ``clinic``, ``share_over_90_days`` [share], ``purchase_need_12w`` [patients],
        ``breaches_after_purchase_peak_12w`` [patients].
    settings : DataFrame
        :func:`assumptions_frame` output (``target_share``; escalation limits in
        ``yellow_pct``/``red_pct`` when present) [share, %].
    production : DataFrame, optional
        ``clinic``, ``production_deviation_pct`` [%]: accumulated outcome against the
        plan this year (negative = below).

    Returns
    -------
    DataFrame
        ``clinic``, ``escalation`` (green/yellow/red; missing when not assessed),
        ``escalation_level`` (unit/clinic/division; missing when not assessed),
        ``escalation_reason`` (which conditions hold, comma-separated; empty when none).

    Examples
    --------
    >>> nan = float("nan")
    >>> f = pd.DataFrame({"clinic": ["a", "b", "c"], "share_over_90_days": [0.27, 0.0, nan],
    ...                   "purchase_need_12w": [200.0, 0.0, nan], "breaches_after_purchase_peak_12w": [50.0, 0.0, nan]})
    >>> s = pd.DataFrame({"clinic": ["a", "b", "c"], "target_share": 0.95})
    >>> e = escalation(f, s)
    >>> e.loc[:1, ["escalation", "escalation_level"]].values.tolist()
    [['red', 'division'], ['green', 'unit']]
    >>> bool(e.loc[2, ["escalation", "escalation_level"]].isna().all())  # c: nothing to judge by
    True
    """
    s = settings.drop_duplicates("clinic").set_index("clinic")
    f = figures.set_index("clinic")
    target = s["target_share"].reindex(f.index).fillna(0.95)
    yellow_pct = s["yellow_pct"].reindex(f.index).fillna(5.0) if "yellow_pct" in s else pd.Series(5.0, f.index)
    red_pct = s["red_pct"].reindex(f.index).fillna(10.0) if "red_pct" in s else pd.Series(10.0, f.index)
    missed = (f["share_over_90_days"] > 1 - target + 1e-12).fillna(False)
    buys = (f["purchase_need_12w"] > 0).fillna(False)
    late = (f["breaches_after_purchase_peak_12w"] > 0).fillna(False)
    short = pd.Series(0.0, index=f.index)
    if production is not None and len(production):
        short = -production.set_index("clinic")["production_deviation_pct"].reindex(f.index).fillna(0.0)
    # production below plan matters where the guarantee is at risk; a clinic that keeps it
    # with spare capacity produces what its patients need (its own finding, not an escalation)
    at_risk = missed | buys | late
    short = short.where(at_risk, 0.0)
    red = (missed & buys) | (short >= red_pct)
    yellow = ~red & (at_risk | (short >= yellow_pct))
    # nothing to judge the guarantee by (no waits, no plan): not assessed, rather than green
    assessed = f[["share_over_90_days", "purchase_need_12w", "breaches_after_purchase_peak_12w"]].notna().any(axis=1)
    status = np.where(assessed, np.select([red, yellow], ["red", "yellow"], "green"), None)
    level = np.where(assessed, np.select([red, yellow], ["division", "clinic"], "unit"), None)
    reasons = []
    for i in range(len(f)):
        r = [name for name, flag in (("target_missed", missed.iloc[i]), ("purchase_needed", buys.iloc[i]),
                                     ("breach_within_lead_time", late.iloc[i]),
                                     ("production_below_plan", short.iloc[i] >= yellow_pct.iloc[i])) if flag]
        reasons.append(",".join(r))
    return pd.DataFrame({"clinic": f.index, "escalation": status, "escalation_level": level,
                         "escalation_reason": reasons})


# ============================================================================ the model
@dataclass(frozen=True)
class PlanningModel:
    """The planning model of one or many clinics: every number a report shows.

    Frames are long, keyed by ``clinic`` (and ``stage``, ``period_ahead``/``period``).
    """

    settings: pd.DataFrame           #: :func:`assumptions_frame`: the assumptions, clinic × stage
    waiting: pd.DataFrame            #: who waits now, aggregated by clinic, stage, priority, days waited
    forecasts: dict                  #: measure -> :func:`kps_analysis.forecast.forecast_demand` output
    flows: pd.DataFrame              #: inflow (with intervals) and the one capacity, per week
    capacity_check: pd.DataFrame     #: resources against demonstrated capacity, per clinic and stage
    plan: pd.DataFrame               #: :func:`project_plan` output with ``fixed`` and ``agreement``
    uncertainty_by_month: pd.DataFrame  #: :func:`simulate_plan` chance of no breach per month
    uncertainty: pd.DataFrame        #: :func:`simulate_plan` purchase quantiles per clinic and stage
    follow_up: pd.DataFrame          #: :func:`kps_analysis.plan.plan_vs_outcome` output (planned volumes in the data)
    figures: pd.DataFrame            #: :func:`headline_figures`: one row per clinic
    history: pd.DataFrame = field(default_factory=pd.DataFrame)  #: :func:`plan_history`: fixed plans vs outcome
    moves: pd.DataFrame = field(default_factory=pd.DataFrame)    #: :func:`region_moves` in both clinics' plans
    scenarios: pd.DataFrame = field(default_factory=pd.DataFrame)  #: :func:`scenarios` beside the plan

    def for_clinic(self, clinic: str) -> PlanningModel:
        """The same model restricted to one clinic."""
        return self.for_clinics([clinic])

    def for_clinics(self, clinics) -> PlanningModel:
        """The same model restricted to some clinics (of one period kind: their ``period``
        columns typed again when the whole model mixes weekly and monthly clinics)."""
        clinics = list(clinics)

        def one(frame):
            if "clinic" not in frame.columns:
                return frame
            part = frame[frame["clinic"].isin(clinics)].reset_index(drop=True)
            try:
                return _one_period_type(part)
            except ValueError:
                return part
        unc = one(self.uncertainty)
        if "clinic" in self.uncertainty.attrs:
            unc.attrs["clinic"] = one(self.uncertainty.attrs["clinic"])
        return PlanningModel(settings=one(self.settings), waiting=one(self.waiting),
                             forecasts={k: one(v) for k, v in self.forecasts.items()}, flows=one(self.flows),
                             capacity_check=one(self.capacity_check), plan=one(self.plan),
                             uncertainty_by_month=one(self.uncertainty_by_month), uncertainty=unc,
                             follow_up=one(self.follow_up), figures=one(self.figures), history=one(self.history),
                             moves=self.moves[self.moves["clinic_from"].isin(clinics)
                                              | self.moves["clinic_to"].isin(clinics)].reset_index(drop=True)
                             if len(self.moves) else self.moves,
                             scenarios=one(self.scenarios))


def known_queues(weekly: pd.DataFrame, waiting_list: pd.DataFrame | None) -> pd.DataFrame:
    """The clinics and stages whose queue the data tell: a value in the stage's queue column
    (``queue_new_visit``, ``queue_treatment``), or the clinic's patient-level extract.

    A stage whose queue is unknown is not planned (:func:`plan_clinics`): planned from an
    empty queue it would say nobody waits and keep the guarantee, whatever the truth.

    Returns
    -------
    DataFrame
        ``clinic``, ``stage``: one row per known queue.
    """
    listed = set(waiting_list["clinic"].astype(str).unique()) if waiting_list is not None and len(waiting_list) \
        else set()
    rows = []
    clinics = weekly["clinic"].astype(str)
    for name, s in STAGES.items():
        have = set(clinics[weekly[s.queue].notna()].unique()) if s.queue in weekly.columns else set()
        rows += [(c, name) for c in sorted(have | (listed & set(clinics.unique())))]
    return pd.DataFrame(rows, columns=["clinic", "stage"])


def _waiting_now(weekly: pd.DataFrame, waiting_list: pd.DataFrame | None, stages: pd.DataFrame) -> pd.DataFrame:
    """Who waits at the end of each clinic's latest week, aggregated (no patient rows); ``stages``
    are the clinics' stages whose queue the data tell (:func:`known_queues`)."""
    from .data import waiting_snapshot
    from .waits import aggregate_classes, over_reported, waiting_from_aggregates

    patient_clinics = set(waiting_list["clinic"].unique()) if waiting_list is not None else set()
    parts = []
    for stage in STAGE_MEASURES:
        clinics = set(stages.loc[stages["stage"] == stage, "clinic"])
        agg = sorted(clinics - patient_clinics)   # their queue column has values (known_queues)
        if agg:
            w = waiting_from_aggregates(weekly[weekly["clinic"].isin(agg)], stage=stage)
            # those the data report over the limit are served after the others (waits.aggregate_classes)
            parts.append(w.assign(priority=aggregate_classes(w["wait_days"], reported=over_reported(weekly, stage),
                                                             clinic=w["clinic"]), patient_chosen_wait=False))
        pl = sorted(clinics & patient_clinics)
        for clinic in pl:
            last = weekly.loc[weekly["clinic"] == clinic, "period"].max()
            snap = waiting_snapshot(waiting_list[waiting_list["clinic"] == clinic], last.end_time.normalize())
            snap = snap[snap["stage"] == stage]
            parts.append(snap.assign(patients=1.0)[["clinic", "stage", "priority", "wait_days", "patients",
                                                    "patient_chosen_wait"]])
    columns = ["clinic", "stage", "priority", "wait_days", "patients", "patient_chosen_wait"]
    if not parts:
        return pd.DataFrame(columns=columns)
    waiting = pd.concat([p[columns] for p in parts], ignore_index=True)
    waiting["priority"] = waiting["priority"].astype(str)
    waiting["patient_chosen_wait"] = waiting["patient_chosen_wait"].fillna(False).astype(bool)
    return waiting.groupby(columns[:-2] + ["patient_chosen_wait"], as_index=False, observed=True)["patients"].sum()[
        columns]


def _reported_waits(weekly: pd.DataFrame) -> pd.DataFrame:
    """What each clinic's data report waiting at its latest period: ``waiting_reported`` (the
    queues, both stages) and ``waiting_over_90_reported`` [patients]; NaN where not reported."""
    queues = [c for c in ("queue_new_visit", "queue_treatment") if c in weekly.columns]
    overs = [c for c in ("waiting_over_90_new_visit", "waiting_over_90_treatment") if c in weekly.columns]
    last = weekly[weekly["period"] == weekly.groupby("clinic")["period"].transform("max")]
    out = pd.DataFrame({"clinic": last["clinic"].to_numpy()})
    out["waiting_reported"] = last[queues].sum(axis=1, min_count=1).to_numpy() if queues else np.nan
    out["waiting_over_90_reported"] = last[overs].sum(axis=1, min_count=1).to_numpy() if overs else np.nan
    return out.groupby("clinic", as_index=False).sum(min_count=1)


def _agreement(params_list, weekly: pd.DataFrame, periods: pd.PeriodIndex, exclude) -> pd.DataFrame:
    """The care agreement's annual volumes periodised to the plan's periods, per clinic and stage
    [patients/period]: weeks as the weekly plan (:func:`kps_analysis.plan.rolling_plan`), months
    by :func:`kps_analysis.seasonal.periodise` with the monthly profile of production."""
    from .plan import agreement_volumes, rolling_plan
    from .summary import seasonal_profiles

    with_volume = [p for p in params_list if _get(p, "annual_volume")]
    if not with_volume:
        return pd.DataFrame(columns=["clinic", "stage", "period", "agreement"])
    if _freq_name(periods) == "month":
        return _agreement_months(with_volume, weekly, periods, exclude)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        profile = seasonal_profiles(weekly[weekly["clinic"].isin([_clinic_id(p) for p in with_volume])],
                                    exclude_years=exclude)
        rp = rolling_plan(agreement_volumes(with_volume), periods[0], profile=profile, fixed_weeks=0,
                          horizon_weeks=len(periods))
    parts = [rp[["clinic", "period"]].assign(stage="new_visit", agreement=rp["planned_new_visits"]),
             rp[["clinic", "period"]].assign(stage="treatment", agreement=rp["planned_operations"])]
    return pd.concat(parts, ignore_index=True)


def _agreement_months(with_volume, monthly: pd.DataFrame, periods: pd.PeriodIndex, exclude) -> pd.DataFrame:
    """The care agreement per month: each calendar year's volume spread by working days and the
    clinic's monthly production profile (flat where there is too little history) [patients/month]."""
    from .plan import agreement_volumes
    from .seasonal import periodise, seasonal_profile

    volumes = agreement_volumes(with_volume)
    parts = []
    for stage, column, own in (("new_visit", "new_visits", "new_visits"),
                               ("treatment", "operations", "operations_elective")):
        vol = volumes.set_index("clinic")[column].dropna()
        vol = vol[vol > 0]
        if vol.empty:
            continue
        profile = None
        if own in monthly.columns:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    profile = seasonal_profile(monthly[monthly["clinic"].isin(vol.index)], measure=own, freq="M",
                                               exclude_years=tuple(exclude))
                except ValueError:
                    profile = None
        if profile is not None and not set(vol.index) <= set(profile["clinic"]):
            profile = None
        for year in sorted(set(periods.year)):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                spread = periodise(vol.round().astype(int), int(year), profile=profile, freq="M")
            spread = spread[spread["period"].isin(periods)]
            parts.append(spread.rename(columns={"volume": "agreement"}).assign(stage=stage)[
                ["clinic", "stage", "period", "agreement"]])
    if not parts:
        return pd.DataFrame(columns=["clinic", "stage", "period", "agreement"])
    out = pd.concat(parts, ignore_index=True)
    out["agreement"] = out["agreement"].astype(float)
    return out


def _production_deviation(follow_up: pd.DataFrame, history: pd.DataFrame | None = None) -> pd.DataFrame:
    """Accumulated own production against plan at each clinic's latest week, the worse stage [%].

    Against the fixed plans of earlier runs (:func:`plan_history`) where they exist, else
    against the planned volumes reported in the data (:func:`kps_analysis.plan.plan_vs_outcome`).
    """
    parts = []
    if history is not None and len(history):
        latest = history.groupby("clinic")["period"].transform("max") == history["period"]
        parts.append(history[latest].groupby("clinic")["cum_deviation_pct"].min())
    if follow_up is not None and len(follow_up):
        sub = follow_up[follow_up["measure"].isin(["new_visits", "operations_elective"])]
        latest = sub.groupby("clinic")["period"].transform("max") == sub["period"]
        parts.append(sub[latest].groupby("clinic")["cum_deviation_pct"].min())
    if not parts:
        return pd.DataFrame(columns=["clinic", "production_deviation_pct"])
    out = parts[0] if len(parts) == 1 else parts[0].combine_first(parts[1])
    return out.rename("production_deviation_pct").rename_axis("clinic").reset_index()


#: The escalation reasons that put a clinic's guarantee at risk (:func:`escalation`): only then does
#: its production below plan count in its escalation.
AT_RISK = ("target_missed", "purchase_needed", "breach_within_lead_time")


def follow_up_levels(follow_up: pd.DataFrame, escalations: pd.DataFrame,
                     history: pd.DataFrame | None = None) -> pd.DataFrame:
    """The follow-up's deviations as the clinic's escalation counts them (one escalation everywhere).

    :func:`kps_analysis.plan.plan_vs_outcome` gives every deviation its level by the limits
    alone (nivåvis produktionsstyrning). The clinic's escalation (:func:`escalation`) counts
    a deviation only where it is own production below plan (new visits, elective
    operations) of a clinic whose guarantee is at risk (:data:`AT_RISK`), and only when
    these planned volumes are the basis of its production deviation (no fixed plan of an
    earlier run, :func:`plan_history`). Any other deviation (inflow, production above plan,
    a clinic keeping the guarantee with spare capacity) is the unit's own finding.

    Returns
    -------
    DataFrame
        ``follow_up`` with ``level_if_at_risk`` (the level of the deviation by the limits alone,
        unit/clinic/division/region: where it would go were the guarantee at risk),
        ``counts_in_escalation`` (counted in the clinic's escalation) and ``level``
        set to the level it goes to: ``level_if_at_risk`` where counted, else ``"unit"``.
    """
    if follow_up is None or follow_up.empty or "level" not in follow_up.columns:
        return follow_up if follow_up is not None else pd.DataFrame()
    out = follow_up.copy()
    if "level_if_at_risk" not in out.columns:
        out["level_if_at_risk"] = out["level"]
    reasons = escalations.set_index("clinic")["escalation_reason"].fillna("").astype(str)
    at_risk = reasons.map(lambda r: any(x in r.split(",") for x in AT_RISK))
    with_history = set(history["clinic"]) if history is not None and len(history) else set()
    counted = (out["measure"].isin(["new_visits", "operations_elective"]).to_numpy()
               & (pd.to_numeric(out["cum_deviation_pct"], errors="coerce") < 0).to_numpy()
               & out["clinic"].map(at_risk).astype("boolean").fillna(False).to_numpy(bool)
               & ~out["clinic"].isin(with_history).to_numpy())
    out["counts_in_escalation"] = counted
    out["level"] = out["level_if_at_risk"].where(counted, np.where(out["level_if_at_risk"].isna(), None, "unit"))
    return out


def call_key(p) -> tuple:
    """The settings :func:`plan_clinics` applies to all clinics of one call, of one clinic.

    Calendar, serving order, planning and fixed horizon [weeks], the forecast's method,
    levels [%] and left-out years, the Monte Carlo's runs and seed, and the follow-up's
    yellow/red deviations [%]. Clinics that differ in any of them are planned in separate
    calls (:func:`plan_clinics` splits them itself, :func:`plan_region` chunks by it), so
    every clinic is planned on its own settings, whichever clinics it is planned with.
    """
    a = assumptions_of(p)
    sim = _get(p, "simulation", {}) or {}
    return (_country(p), a.order, a.horizon_weeks, a.fixed_weeks, _forecast_settings(p),
            int(_get(sim, "runs", 300)), int(_get(sim, "seed", 2019)), a.yellow_pct, a.red_pct)


def _forecast_settings(p, method=None, levels=None, exclude=None) -> tuple[str, tuple, tuple]:
    """Forecast method, interval levels [%] and excluded years: the arguments, else the parameters'."""
    fc_params = _get(p, "forecast", {}) or {}
    method = method or str(_get(fc_params, "method", "auto"))
    levels = tuple(levels or _get(fc_params, "levels", (80, 95)))
    exclude = tuple(exclude if exclude is not None else _get(p, "history_exclude_years", (2020,)))
    return method, levels, exclude


def _forecast_one(job) -> pd.DataFrame:
    """:func:`kps_analysis.forecast.forecast_demand` of one measure (for an executor)."""
    from .forecast import forecast_demand

    history, measure, horizon, levels, method, exclude, country = job
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return forecast_demand(history, measure=measure, horizon=horizon, levels=levels, method=method,
                               exclude=exclude, country=country)


def plan_clinics(weekly: pd.DataFrame, waiting_list: pd.DataFrame | None, params_list, *,
                 fixed_plan: pd.DataFrame | None = None, history: pd.DataFrame | None = None,
                 forecasts: Mapping | None = None,
                 runs: int | None = None, seed: int | None = None, method: str | None = None,
                 levels=None, exclude=None, with_scenarios: bool = True, as_of=None) -> PlanningModel:
    """The planning model of every clinic in ``params_list``, in one vectorised pass.

    Builds the assumptions (:func:`assumptions_of`), who waits now, the inflow forecast
    per stage (:func:`inflow_forecast`), the one capacity (:func:`capacity_basis`),
    projects the plan (:func:`project_plan`) over ``planning_horizon_weeks``, simulates
    its uncertainty (:func:`simulate_plan`), follows production up against the plan
    (:func:`kps_analysis.plan.plan_vs_outcome`) and derives the headline figures and
    the escalation (:func:`headline_figures`).

    Parameters
    ----------
    weekly : DataFrame
        Canonical weekly frame of the clinics.
    waiting_list : DataFrame or None
        Canonical patient-level extract of (some of) the clinics.
    params_list : Parameters or list of Parameters
        The clinics' loaded parameters.
    fixed_plan : DataFrame, optional
        The previous run's ``production_plan`` (``clinic``, ``stage``, ``period``,
        ``own_production``, ``purchase``, ``fixed``): its fixed weeks still ahead are
        kept as they are (unless the clinic's ``revise_fixed_plan`` is set), and its fixed
        weeks that have now passed join the plan history.
    history : DataFrame, optional
        The previous run's ``plan_history`` (:func:`plan_history`).
    forecasts : mapping measure -> DataFrame, optional
        Forecasts already made, reused. Clinics that differ in their call-wide settings
        (:func:`call_key`: serving order, horizons, forecast and simulation settings, the
        follow-up's deviations, the calendar) are planned in separate calls, each on its own.
    runs, seed : int, optional
        Monte Carlo runs and seed (default: the parameters' ``simulation``).
    method, levels, exclude : optional
        Forecast method, interval levels [%] and years left out (default: parameters).
    with_scenarios : bool
        Run the parameters' scenarios through the model (:func:`scenarios`).
    as_of : date-like, optional
        The run date the data's age is measured on (:func:`freshness`); default today.

    Returns
    -------
    PlanningModel
        Its ``settings`` also hold, per clinic, ``period_unit`` ("week" or "month"),
        ``fixed_periods`` and ``horizon_periods`` [periods], ``data_end``, ``plan_start``,
        ``data_age_days`` [days] and ``stale``.
    """
    params_list = list(params_list) if isinstance(params_list, (list, tuple)) else [params_list]
    keys = {}
    for p in params_list:
        keys.setdefault(call_key(p), []).append(p)
    if len(keys) > 1:   # clinics of different settings: each group planned on its own settings
        made = None if forecasts is not None else region_forecasts(weekly, params_list, method=method,
                                                                   levels=levels, exclude=exclude)
        kw = {"fixed_plan": fixed_plan, "history": history, "runs": runs, "seed": seed, "method": method,
              "levels": levels, "exclude": exclude, "with_scenarios": with_scenarios, "as_of": as_of}
        # the forecasts pooled as plan_region pools them (region_forecasts), each group given its own
        return _concat_models([plan_clinics(weekly, waiting_list, ps, **kw, forecasts=forecasts if made is None
                                            else forecasts_of(made, [_clinic_id(p) for p in ps]))
                               for ps in keys.values()])
    first = params_list[0]
    method, levels, exclude = _forecast_settings(first, method, levels, exclude)
    sim = _get(first, "simulation", {}) or {}
    runs = int(runs or _get(sim, "runs", 300))
    seed = int(seed if seed is not None else _get(sim, "seed", 2019))
    assumptions = [assumptions_of(p) for p in params_list]
    settings = assumptions_frame(assumptions)
    country = _country(first)
    settings = settings.assign(yellow_pct=settings["clinic"].map({a.clinic: a.yellow_pct for a in assumptions}),
                               red_pct=settings["clinic"].map({a.clinic: a.red_pct for a in assumptions}))
    clinics = [a.clinic for a in assumptions]
    weekly = _one_period_type(weekly[weekly["clinic"].isin(clinics)])
    horizon = max(a.horizon_weeks for a in assumptions)
    if weekly.empty:
        raise ValueError("plan_clinics: no data periods for the clinics")
    unit = _freq_name(weekly["period"])
    periods = _plan_periods(weekly["period"].max(), horizon)
    start = periods[0]

    used = dict(forecasts or {})
    inflow = inflow_forecast(weekly, horizon_weeks=horizon, method=method, levels=levels, exclude=exclude,
                             forecasts=used, periods=len(periods), country=country)
    used = {k: v[v["clinic"].isin(clinics)].reset_index(drop=True) for k, v in used.items()}
    flows, check = _planning_flows(inflow, weekly, params_list, assumptions, periods, country)
    # only a stage whose queue the data tell is planned (known_queues)
    known = known_queues(weekly, waiting_list)
    flows = flows.merge(known, on=["clinic", "stage"], how="inner") if len(flows) else flows
    settings["period_unit"] = unit
    settings = _with_data_age(settings, weekly, params_list, start, as_of)
    waiting = _waiting_now(weekly, waiting_list, flows[["clinic", "stage"]].drop_duplicates())
    order = assumptions[0].order
    fixed_plan, fixed = _fixed_ahead(fixed_plan, params_list, start)
    plan = project_plan(waiting, flows, settings, order=order, fixed=fixed)
    # a kept fixed plan that produces more than the capacity now gives: planned at the capacity (the report says so)
    above = fixed_above_capacity(fixed, plan, {a.clinic: a.capacity_tolerance for a in assumptions})
    if len(above):
        fixed = _fixed_within_capacity(fixed, plan, above["clinic"])
        plan = project_plan(waiting, flows, settings, order=order, fixed=fixed)
    settings = settings.merge(above.assign(fixed_above_capacity_first=above["fixed_above_capacity_first"].astype(str)),
                              on="clinic", how="left")
    settings["fixed_above_capacity"] = settings["fixed_above_capacity"].astype(float).fillna(0.0)
    n_fixed = {a.clinic: int(periods_within(periods, a.fixed_weeks).sum()) for a in assumptions}
    plan["fixed"] = plan["period_ahead"] <= plan["clinic"].map(n_fixed)
    settings["fixed_periods"] = settings["clinic"].map(n_fixed)          # [weeks or months]
    settings["horizon_periods"] = len(periods)                           # [weeks or months]
    plan = _with_origin_and_agreement(plan, fixed, params_list, weekly, periods, exclude)

    by_month, uncertainty = simulate_plan(waiting, flows, settings, plan, production_cv=_production_cv(weekly),
                                          runs=runs, seed=seed, order=order,
                                          fixed_weeks=min(a.fixed_weeks for a in assumptions))
    model = PlanningModel(settings=settings, waiting=waiting, forecasts=used,
                          flows=flows, capacity_check=check, plan=plan, uncertainty_by_month=by_month,
                          uncertainty=uncertainty, follow_up=_production_follow_up(weekly, assumptions[0]),
                          figures=pd.DataFrame(), history=plan_history(weekly, fixed_plan, history))
    figures = headline_figures(model)
    model = PlanningModel(**{**model.__dict__, "figures": figures,
                             "follow_up": follow_up_levels(model.follow_up, figures, model.history)})
    if not with_scenarios:
        return model
    return PlanningModel(**{**model.__dict__, "scenarios": scenarios(weekly, model, params_list)})


def _planning_flows(inflow: pd.DataFrame, weekly: pd.DataFrame, params_list, assumptions: list,
                    periods: pd.PeriodIndex, country: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The inflow forecast with the one capacity and each period's days; and the capacity check."""
    capacity, check = capacity_basis(weekly, params_list, periods, country=country,
                                     tolerance={a.clinic: a.capacity_tolerance for a in assumptions})
    flows = inflow.merge(capacity, on=["clinic", "stage", "period"], how="left")
    flows["capacity"] = flows["capacity"].astype(float).fillna(0.0)
    flows["basis"] = flows["basis"].fillna("none")
    flows["period_days"] = flows["period_ahead"].map(dict(zip(range(1, len(periods) + 1),
                                                              period_lengths(periods)))).astype("Int64")
    return flows, check


def _with_data_age(settings: pd.DataFrame, weekly: pd.DataFrame, params_list, start: pd.Period,
                   as_of) -> pd.DataFrame:
    """The settings with the reported waits and the data's age on ``as_of`` (default today) [days]."""
    from .parameters import freshness_limit_days

    settings = settings.merge(_reported_waits(weekly), on="clinic", how="left")
    fresh = freshness(weekly, pd.Timestamp.today() if as_of is None else as_of,
                      stale_after_days={_clinic_id(p): freshness_limit_days(p, start.freqstr) for p in params_list})
    return settings.merge(fresh.drop(columns="period_unit"), on="clinic", how="left")


def fixed_above_capacity(fixed: pd.DataFrame | None, plan: pd.DataFrame, tolerance=None) -> pd.DataFrame:
    """The clinics whose kept fixed plan (of an earlier run) plans more own production than the
    capacity now gives (resources cut since it was fixed), by more than the clinic tolerates.

    A clinic is above when in some kept period and stage::

        own_production − moved_in − capacity  >  max(1, tolerance · capacity)      [patients]

    (one patient: the whole-patient rounding of a capacity moves by one from run to run; the
    tolerance: ``capacity_tolerance``, the difference between resources and demonstrated
    production the clinic accepts). Within that the fixed plan is kept as it is, week to week.
    :func:`plan_clinics` plans an above clinic's kept periods at most at the capacity
    (:func:`_fixed_within_capacity`); the purchase is topped up where patients would pass the
    limit (``purchase_beyond_fixed``).

    Parameters
    ----------
    fixed : DataFrame or None
        The kept fixed rows (``clinic``, ``stage``, ``period``, ``own_production``
        [patients/period], optional ``moved_in``).
    plan : DataFrame
        ``clinic``, ``stage``, ``period``, ``capacity`` [patients/period]: the plan
        (:func:`project_plan`, whose capacity is in whole patients).
    tolerance : mapping of clinic to share, optional
        ``capacity_tolerance`` per clinic [share 0-1]; default 0.15.

    Returns
    -------
    DataFrame
        ``clinic``, ``fixed_above_capacity`` (Σ max(own − moved_in − capacity, 0) over its
        kept periods and stages [patients]), ``fixed_above_capacity_first`` (the first such
        period); only the clinics above.

    Examples
    --------
    >>> w = pd.period_range("2026-12-07", periods=3, freq="W-SUN")
    >>> fx = pd.DataFrame({"clinic": "a", "stage": "new_visit", "period": w, "own_production": [69.0, 53.0, 50.0]})
    >>> pl = pd.DataFrame({"clinic": "a", "stage": "new_visit", "period": w, "capacity": [52.0, 52.0, 52.0]})
    >>> fixed_above_capacity(fx, pl)[["clinic", "fixed_above_capacity"]].values.tolist()
    [['a', 18.0]]
    >>> len(fixed_above_capacity(fx.assign(own_production=[53.0, 53.0, 50.0]), pl))   # a rounding: kept
    0
    """
    cols = ["clinic", "fixed_above_capacity", "fixed_above_capacity_first"]
    if fixed is None or not len(fixed) or not len(plan):
        return pd.DataFrame(columns=cols)
    own = fixed["own_production"].astype(float) - (fixed["moved_in"].fillna(0.0) if "moved_in" in fixed else 0.0)
    rows = fixed[["clinic", "stage", "period"]].assign(_own=own.clip(lower=0.0).to_numpy()).merge(
        plan[["clinic", "stage", "period", "capacity"]], on=["clinic", "stage", "period"], how="inner")
    cap = rows["capacity"].astype(float).to_numpy()
    tol = rows["clinic"].map(dict(tolerance or {})).astype(float).fillna(0.15).to_numpy()
    rows["_over"] = np.clip(rows["_own"].to_numpy() - cap, 0.0, None)
    rows["_beyond"] = rows["_over"] > np.maximum(1.0, tol * cap) + 1e-9
    above = rows.groupby("clinic")["_beyond"].transform("any")
    rows = rows[above.to_numpy(bool) & (rows["_over"] > 0)]
    if rows.empty:
        return pd.DataFrame(columns=cols)
    out = rows.groupby("clinic", as_index=False).agg(fixed_above_capacity=("_over", "sum"),
                                                      fixed_above_capacity_first=("period", "min"))
    return out[cols]


def _fixed_within_capacity(fixed: pd.DataFrame, plan: pd.DataFrame, clinics) -> pd.DataFrame:
    """The kept fixed rows with the own production of ``clinics`` at most the plan's capacity
    (the patients received from other hospitals, ``moved_in``, on top as before) [patients/period]."""
    cap = fixed[["clinic", "stage", "period"]].merge(plan[["clinic", "stage", "period", "capacity"]],
                                                     on=["clinic", "stage", "period"], how="left")["capacity"]
    moved_in = fixed["moved_in"].fillna(0.0).to_numpy(float) if "moved_in" in fixed else 0.0
    limit = cap.astype(float).to_numpy() + moved_in
    lower = fixed["clinic"].isin(set(clinics)).to_numpy() & ~np.isnan(limit)
    own = fixed["own_production"].astype(float).to_numpy()
    return fixed.assign(own_production=np.where(lower, np.minimum(own, np.nan_to_num(limit)), own))


def _fixed_ahead(fixed_plan: pd.DataFrame | None, params_list, start: pd.Period):
    """``(fixed_plan, fixed)``: the previous plan (its passed fixed periods are followed up,
    :func:`plan_history`, also for a clinic that revises its plan) and its fixed rows ahead,
    without the clinics that revise it (``revise_fixed_plan``)."""
    fixed = None
    revise = {_clinic_id(p) for p in params_list if _get(p, "revise_fixed_plan", False)}
    if fixed_plan is not None and len(fixed_plan):
        fp = fixed_plan.copy()
        fp["period"] = as_periods(fp["period"], start.freqstr)
        fixed = fp[fp["fixed"].astype(bool) & (fp["period"] >= start) & ~fp["clinic"].astype(str).isin(revise)]
    return fixed_plan, fixed


def _with_origin_and_agreement(plan: pd.DataFrame, fixed: pd.DataFrame | None, params_list, weekly: pd.DataFrame,
                               periods: pd.PeriodIndex, exclude) -> pd.DataFrame:
    """The plan with ``origin`` (model or previous), the care agreement's volumes and the month."""
    plan["origin"] = "model"
    if fixed is not None and len(fixed):
        kept = plan[["clinic", "stage", "period"]].merge(fixed[["clinic", "stage", "period"]].assign(_k=True),
                                                        on=["clinic", "stage", "period"], how="left")["_k"]
        plan.loc[kept.eq(True).to_numpy(bool), "origin"] = "previous"
    plan = plan.merge(_agreement(params_list, weekly, periods, exclude), on=["clinic", "stage", "period"], how="left")
    plan["month"] = _month_of(plan["period"])
    return plan


def _production_follow_up(weekly: pd.DataFrame, first: Assumptions) -> pd.DataFrame:
    """Production against the production plan reported in ``weekly`` (empty without one).

    A measure a clinic neither plans nor produces (a dermatology clinic's operations, reported as
    zeros) is left out: a "green" row of 0 against 0 says nothing, and the follow-up sheet showed
    operations for a clinic that has none.
    """
    planned = [c for c in ("planned_new_visits", "planned_operations") if c in weekly.columns]
    if not (planned and weekly[planned].notna().any().any()):
        return pd.DataFrame()
    from .plan import plan_vs_outcome

    plan_hist = weekly.groupby(["clinic", "period"], as_index=False)[planned].sum(min_count=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = plan_vs_outcome(plan_hist, weekly, yellow_pct=first.yellow_pct, red_pct=first.red_pct)
    counts = [c for c in ("plan", "actual", "last_year") if c in out.columns]
    if not len(out) or not counts or "measure" not in out.columns:
        return out
    used = out[counts].fillna(0.0).abs().sum(axis=1).groupby([out["clinic"], out["measure"]]).transform("sum") > 0
    return out[used.to_numpy()].reset_index(drop=True)


def headline_figures(model: PlanningModel) -> pd.DataFrame:
    """The model's headline figures, one row per clinic (the ``summary.csv`` columns it owns).

    With ``F`` the fixed weeks (12) and sums over both stages::

        share_over_90_days        = waiting > guarantee_days / waiting, chosen waits
                                    left out of both (as nationally measured)     [share]
        projected_breaches_12w    = breaches_if_nothing_bought in week F          [patients]
        projected_breaches_peak_12w (and _week) = their peak over weeks 1..F     [patients]
        breaches_after_purchase_peak_12w = peak of breaches_after_purchase        [patients]
        purchase_beyond_fixed_12w = Σ_{k<=F} purchase_beyond_fixed: bought on top of a fixed
                                    plan of an earlier run that buys too little   [patients]
        capacity_gap_12w          = Σ_{k<=F} (own_production + purchase - capacity) [patients]
        purchase_need_12w         = Σ_{k<=F} purchase (and per stage)             [patients]
        purchase_cost_12w         = Σ_{k<=F} cost_external_sek (and per stage)    [SEK]
        first_order_by            = the week by which the first purchase must be ordered
        p_no_breach_12w           = Monte Carlo chance that nobody breaches in weeks 1..F
        escalation                = :func:`escalation`

    Returns
    -------
    DataFrame
        One row per clinic.
    """
    plan, settings, waiting = model.plan, model.settings, model.waiting
    if plan.empty:   # no clinic with a stage to plan: its empty columns typed as numbers (pandas 3: str)
        text = ("clinic", "stage", "period", "month", "origin", "order_by_date", "fixed", "within_lead_time")
        plan = plan.astype({c: float for c in plan.columns if c not in text})
    fixed_by = _fixed_periods_by_clinic(plan, settings)
    clinics = pd.Index(settings["clinic"].drop_duplicates(), name="clinic")
    out = pd.DataFrame(index=clinics)
    _add_waiting_shares(out, waiting, settings)
    head = plan[plan["period_ahead"] <= plan["clinic"].map(fixed_by).astype(float)]
    _add_fixed_period_figures(out, head, fixed_by)
    _add_clinic_settings_and_uncertainty(out, settings, model.uncertainty)
    if "waiting_reported" in settings.columns:
        _add_reported_waits(out, settings)
    deviation = _production_deviation(model.follow_up, model.history)
    esc = escalation(out.reset_index(), settings, deviation)
    # a counted shortfall red for red_weeks_to_region weeks running goes on to the region, as the
    # follow-up says (nivåvis produktionsstyrning): one escalation in the report, its tables and the index
    follow = follow_up_levels(model.follow_up, esc, model.history)
    if len(follow):
        latest = follow[follow["period"] == follow.groupby("clinic")["period"].transform("max")]
        raised = latest["counts_in_escalation"].astype(bool) & (latest["level"] == "region")
        to_region = latest[raised]["clinic"].unique()
        esc.loc[esc["clinic"].isin(to_region) & (esc["escalation"] == "red"), "escalation_level"] = "region"
    out = out.reset_index().merge(esc, on="clinic", how="left")
    out = out.merge(deviation, on="clinic", how="left")
    findings = model.capacity_check.groupby("clinic")["finding"].any()
    out["capacity_finding"] = out["clinic"].map(findings).astype("boolean").fillna(False).astype(bool)
    return out


def _fixed_periods_by_clinic(plan: pd.DataFrame, settings: pd.DataFrame) -> pd.Series:
    """The last fixed period ahead per clinic: weeks, or the months that start within the fixed weeks."""
    fixed_weeks = settings.drop_duplicates("clinic").set_index("clinic")["fixed_weeks"]
    if "fixed" in plan.columns:
        fixed_by = pd.to_numeric(plan[plan["fixed"].astype(bool)].groupby("clinic")["period_ahead"].max(),
                                 errors="coerce").reindex(fixed_weeks.index).astype(float).fillna(0.0)
    else:
        fixed_by = fixed_weeks.astype(float)
    return fixed_by


def _add_waiting_shares(out: pd.DataFrame, waiting: pd.DataFrame, settings: pd.DataFrame) -> None:
    """Add who waits now, over the limit and by choice, and the share over the limit (in place) [patients, share].

    ``waiting_chosen`` is NaN (unknown) for a clinic whose waiting list is rebuilt from its weekly
    totals: they do not say who chose to wait."""
    clinics = out.index
    limit = settings.drop_duplicates("clinic").set_index("clinic")["guarantee_days"]
    if len(waiting):
        w = waiting.assign(_limit=waiting["clinic"].map(limit))
        counted = w[~w["patient_chosen_wait"]]
        # the reconstructed waiting list's weights sum to whole queues up to float noise (574.9999999999999)
        total = counted.groupby("clinic")["patients"].sum().round(6)
        over = counted[counted["wait_days"] > counted["_limit"]].groupby("clinic")["patients"].sum().round(6)
        out["waiting_counted"] = total.reindex(clinics)
        out["waiting_over_90"] = over.reindex(clinics).fillna(0.0).where(out["waiting_counted"].notna())
        # a queue rebuilt from weekly totals (waits.aggregate_classes) does not tell who chose to wait:
        # unknown, not 0
        from .waits import AGGREGATE_CLASSES

        listed = w.loc[~w["priority"].astype(str).isin(AGGREGATE_CLASSES), "clinic"].unique()
        out["waiting_chosen"] = w[w["patient_chosen_wait"]].groupby("clinic")["patients"].sum().round(6).reindex(
            clinics).fillna(0.0).where(clinics.isin(listed))
        with np.errstate(invalid="ignore", divide="ignore"):
            out["share_over_90_days"] = (out["waiting_over_90"] / out["waiting_counted"].where(
                out["waiting_counted"] > 0))
    else:
        out["share_over_90_days"] = np.nan


def _add_fixed_period_figures(out: pd.DataFrame, head: pd.DataFrame, fixed_by: pd.Series) -> None:
    """Add the breaches, gap, moves, purchase and its cost over the fixed periods, the first order (in place)."""
    clinics = out.index
    by_week = head.groupby(["clinic", "period_ahead", "period"], as_index=False)[
        ["breaches_if_nothing_bought", "breaches_after_purchase"]].sum()
    last = by_week[by_week["period_ahead"] == by_week["clinic"].map(fixed_by).astype(float)]
    out["projected_breaches_12w"] = last.set_index("clinic")["breaches_if_nothing_bought"].reindex(clinics)
    for col, name in (("breaches_if_nothing_bought", "projected_breaches_peak_12w"),
                      ("breaches_after_purchase", "breaches_after_purchase_peak_12w")):
        idx = by_week.sort_values(["clinic", col, "period_ahead"], ascending=[True, False, True]).drop_duplicates(
            "clinic").set_index("clinic")
        out[name] = idx[col].reindex(clinics)
        out[name.replace("_12w", "_week")] = idx["period"].astype(str).where(idx[col] > 0).reindex(clinics)
    # bought on top of a fixed plan of an earlier run that would leave patients past the limit
    out["purchase_beyond_fixed_12w"] = (head.groupby("clinic")["purchase_beyond_fixed"].sum().reindex(clinics)
                                        .fillna(0.0).where(out["breaches_after_purchase_peak_12w"].notna())
                                        if "purchase_beyond_fixed" in head.columns else 0.0)
    sums = head.groupby("clinic")[["gap", "purchase", "cost_external_sek", "cost_internal_sek", "capacity",
                                   "own_production", "unused_capacity"]].sum(min_count=1)
    for col in ("moved_out", "moved_in"):
        out[f"{col}_12w"] = (head.groupby("clinic")[col].sum().reindex(clinics) if col in head.columns
                             else pd.Series(0.0, index=clinics))
    out["capacity_gap_12w"] = sums["gap"].reindex(clinics)
    out["purchase_need_12w"] = sums["purchase"].reindex(clinics)
    costs = head.groupby("clinic")["cost_external_sek"].sum(min_count=1)
    # no purchase costs nothing; a clinic with no stage planned has no figure at all (–, not 0)
    out["purchase_cost_12w"] = costs.reindex(clinics).where(out["purchase_need_12w"] > 0, 0.0).where(
        out["purchase_need_12w"].notna())
    out["purchase_cost_internal_12w"] = sums["cost_internal_sek"].reindex(clinics)
    for stage, name in (("new_visit", "new_visits"), ("treatment", "operations")):
        st = head[head["stage"] == stage].groupby("clinic")
        out[f"purchase_{name}_12w"] = st["purchase"].sum().reindex(clinics)
        out[f"purchase_cost_{name}_12w"] = st["cost_external_sek"].sum(min_count=1).reindex(clinics)
        out[f"capacity_{name}_12w"] = st["capacity"].sum().reindex(clinics)
    buying = head[head["purchase"] > 0].sort_values("period_ahead").drop_duplicates("clinic").set_index("clinic")
    order_period = buying["period"] - (buying["period_ahead"] - buying["order_by_period"])
    out["first_order_by"] = order_period.astype(str).reindex(clinics)
    out["first_order_late"] = (buying["order_by_period"] < 1).reindex(clinics, fill_value=False).astype(bool)
    if "order_by_date" in buying.columns:
        out["first_order_by_date"] = buying["order_by_date"].reindex(clinics)


def _add_clinic_settings_and_uncertainty(out: pd.DataFrame, settings: pd.DataFrame,
                                         uncertainty: pd.DataFrame | None) -> None:
    """Add the data's age and period unit, and the Monte Carlo figures of the fixed periods (in place)."""
    clinics = out.index
    per_clinic = settings.drop_duplicates("clinic").set_index("clinic")
    for col in ("period_unit", "data_end", "plan_start", "data_age_days", "stale"):
        if col in per_clinic.columns:
            out[col] = per_clinic[col].reindex(clinics)
    unc = uncertainty.attrs.get("clinic") if uncertainty is not None else None
    if unc is not None and len(unc):
        u = unc.set_index("clinic")
        out["p_no_breach_12w"] = u["p_no_breach_fixed"].reindex(clinics)
        for q in ("purchase_p50", "purchase_p80", "purchase_p95"):
            out[f"{q}_12w"] = u[q].reindex(clinics)


def _add_reported_waits(out: pd.DataFrame, settings: pd.DataFrame) -> None:
    """Give a clinic the model has no stage for the waits its data report (in place).

    A queue-only list keeps the waiting and those over 90 days at the latest period, so
    its escalation sees them.
    """
    clinics = out.index
    reported = settings.drop_duplicates("clinic").set_index("clinic")
    missing = out["share_over_90_days"].isna() if "share_over_90_days" in out else pd.Series(True, index=clinics)
    over = reported["waiting_over_90_reported"].reindex(clinics)
    total = reported["waiting_reported"].reindex(clinics)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = over / total.where(total > 0)
    out["share_over_90_days"] = out["share_over_90_days"].where(~missing, share)
    for col, src in (("waiting_over_90", over), ("waiting_counted", total)):
        out[col] = (out[col] if col in out else pd.Series(np.nan, index=clinics)).where(~missing, src)


def purchase_by_month(plan: pd.DataFrame) -> pd.DataFrame:
    """The plan's purchase per clinic, stage and month, with cost and order-by week.

    A plan with a ``fixed`` column has the month its fixed weeks end inside as two rows,
    the fixed weeks' and the rest (``fixed`` True/False), so the fixed rows add up to the
    fixed plan's purchase (the key figures) and no month mixes the two unmarked.

    Returns
    -------
    DataFrame
        ``clinic``, ``stage``, ``month``, ``purchase`` [patients], ``cost_external_sek``,
        ``cost_internal_sek`` [SEK], ``order_by`` (the earliest order-by week of the
        month's purchases), ``first_week``, ``until_week`` (and ``fixed``, and ``boundary``: the
        month the fixed weeks end inside, whose fixed row runs ``until_week`` the last fixed week
        and whose later row from ``first_week`` the first week after them).

    Examples
    --------
    >>> p = pd.DataFrame({"clinic": "a", "stage": "treatment", "period_ahead": [5, 6],
    ...                   "period": pd.period_range("2026-01-05", periods=2, freq="W-SUN"),
    ...                   "purchase": [3.0, 2.0], "cost_external_sek": [3.0, 2.0], "cost_internal_sek": [1.0, 1.0],
    ...                   "order_by_period": [1, 2]})
    >>> purchase_by_month(p)[["month", "purchase", "order_by"]].astype(str).values.tolist()
    [['2026-01', '5.0', '2025-12-08/2025-12-14']]
    """
    buy = plan[plan["purchase"] > 0].copy()
    keys = ["clinic", "stage", "month"] + (["fixed"] if "fixed" in plan.columns else [])
    cols = keys + ["purchase", "cost_external_sek", "cost_internal_sek", "order_by", "first_week", "until_week"]
    if buy.empty:   # typed as the plan's periods, so that an empty month's sheet is still headed in them
        typed = isinstance(plan["period"].dtype, pd.PeriodDtype) if "period" in plan.columns else False
        return pd.DataFrame(columns=cols).astype(
            {"month": "period[M]", "order_by": plan["period"].dtype, "first_week": plan["period"].dtype,
             "until_week": plan["period"].dtype} if typed else {})
    buy["month"] = _month_of(buy["period"]) if "month" not in buy.columns else buy["month"]
    buy["order_by"] = buy["period"] - (buy["period_ahead"] - buy["order_by_period"]).astype(int)
    if "fixed" in keys:
        buy["fixed"] = buy["fixed"].astype(bool)
    out = buy.groupby(keys, as_index=False, sort=False).agg(
        purchase=("purchase", "sum"), cost_external_sek=("cost_external_sek", "sum"),
        cost_internal_sek=("cost_internal_sek", "sum"), order_by=("order_by", "min"), first_week=("period", "min"),
        until_week=("period", "max"))
    if "fixed" in keys:
        # the month the fixed weeks end inside, named by the plan's weeks (not by the weeks bought in):
        # the fixed rows up to its last fixed week, the rest from its first week after them
        months = plan.assign(month=_month_of(plan["period"]) if "month" not in plan.columns else plan["month"],
                             fixed=plan["fixed"].astype(bool))
        ends = months.groupby(["clinic", "month", "fixed"])["period"].agg(["min", "max"]).reset_index()
        both = ends.groupby(["clinic", "month"])["fixed"].transform("nunique") > 1
        ends = ends[both]
        bound = out.merge(ends, on=["clinic", "month", "fixed"], how="left")
        out["boundary"] = bound["min"].notna().to_numpy()
        out["until_week"] = np.where(out["boundary"] & out["fixed"], bound["max"], out["until_week"])
        out["first_week"] = np.where(out["boundary"] & ~out["fixed"], bound["min"], out["first_week"])
        cols = cols + ["boundary"]
    order = ["clinic", "stage", "month"] + (["_later"] if "fixed" in keys else [])
    out = out.assign(_later=~out["fixed"]) if "fixed" in keys else out
    return out.sort_values(order, kind="stable")[cols].reset_index(drop=True)


def headline(weekly: pd.DataFrame, model: PlanningModel, *, window_weeks: int = 4) -> pd.DataFrame:
    """The headline row of each clinic: the data's figures and the model's, one row per clinic.

    :func:`kps_analysis.summary.headline` for what the data say now (queues, the
    köproduktionskvot, the change since last week), with every figure the planning model
    owns (:func:`headline_figures`: share over 90 days, breaches, gap, purchase, cost,
    escalation, ...) taken from the model, so ``summary.csv``, the report, the index and
    the region overview show the same numbers.
    """
    from .summary import HEADLINE_COLUMNS
    from .summary import headline as data_headline

    g = model.settings.drop_duplicates("clinic").set_index("clinic")["guarantee_days"]
    base = data_headline(weekly[weekly["clinic"].isin(g.index)], window_weeks=window_weeks,
                         guarantee_days=float(g.iloc[0]) if len(g) else 90.0)
    figures = model.figures.set_index("clinic")
    for col in figures.columns:
        base[col] = base["clinic"].map(figures[col])
    first = list(HEADLINE_COLUMNS) + ["period"]
    return base[first + [c for c in base.columns if c not in first]]


def _scenario_params(p: dict, spec: Mapping, summer=(27, 32)) -> dict:
    """A clinic's parameters with one scenario's changes applied (a new dict)."""
    import copy

    q = copy.deepcopy(p)
    res = q.get("resources")
    if res:
        res["new_visit_slots_per_week"] = float(res.get("new_visit_slots_per_week") or 0) + float(
            spec.get("extra_new_visit_slots_per_week") or 0)
        res["theatre_sessions_per_week"] = float(res.get("theatre_sessions_per_week") or 0) + float(
            spec.get("extra_theatre_sessions_per_week") or 0)
    extra = int(spec.get("summer_closure_extra_weeks") or 0)
    if extra and q.get("closures"):
        for c in q["closures"]:
            start = pd.Timestamp(str(c["start"]))
            if summer[0] <= start.isocalendar().week <= summer[1]:
                c["end"] = str((pd.Timestamp(str(c["end"])) + pd.Timedelta(days=7 * extra)).date())
    pct = float(spec.get("purchase_price_change_pct") or 0)
    if pct and q.get("prices"):
        for key in ("purchase_new_visit_sek", "purchase_operation_sek"):
            if q["prices"].get(key) is not None:
                q["prices"][key] = float(q["prices"][key]) * (1 + pct / 100)
    return q


def _summarise_scenario(clinic: str, name: str, text: str, plan: pd.DataFrame) -> dict:
    """One row of :func:`scenarios`: a plan's totals over its horizon [patients, SEK]."""
    by_week = plan.groupby("period_ahead")["breaches_if_nothing_bought"].sum()
    return {"clinic": clinic, "scenario": name, "description": text,
            "purchase": float(plan["purchase"].sum()),
            "cost_external_sek": float(plan["cost_external_sek"].sum(min_count=1)),
            "breaches_if_nothing_bought_peak": float(by_week.max()) if len(by_week) else 0.0,
            "own_production": float(plan["own_production"].sum())}


def _scenario_jobs(weekly: pd.DataFrame, model: PlanningModel, params_list) -> tuple[list, list, dict]:
    """Step 1 of :func:`scenarios`: the baseline rows, and every (clinic, scenario) as a series of its own.

    Each scenario gets a series id no clinic id can take (``clinic + "\\x1f" + n``); the series are
    grouped by what one planning call must share: country (calendar), serving order and plan
    periods. Returns (baseline rows, jobs, groups).
    """
    rows, jobs, groups = [], [], {}
    for p in params_list:
        clinic = _clinic_id(p)
        base = model.plan[model.plan["clinic"] == clinic]
        rows.append(_summarise_scenario(clinic, "baseline", "", base))
        specs = _get(p, "scenarios", {}) or {}
        if not specs or base.empty:      # nothing planned (no inflow measure): no what-if either
            continue
        d = p.to_dict() if hasattr(p, "to_dict") else dict(p)
        d["clinic"] = clinic
        flows = _one_period_type(model.flows[model.flows["clinic"] == clinic], "flows")
        waiting = model.waiting[model.waiting["clinic"] == clinic]
        own_weekly = _one_period_type(weekly[weekly["clinic"] == clinic])
        periods = pd.PeriodIndex(sorted(flows["period"].unique()))
        order = model.settings.loc[model.settings["clinic"] == clinic, "order"].iloc[0]
        # the fixed weeks kept from an earlier run stand in every scenario, as in the plan (its own
        # production; the purchase topped up where the scenario leaves patients past the limit)
        earlier = base[base["origin"].astype(str) == "previous"] if "origin" in base.columns else base.iloc[:0]
        earlier = earlier[[c for c in ("clinic", "stage", "period", "own_production", "purchase", "moved_in",
                                       "moved_out") if c in earlier.columns]]
        key = (_country(p), order, periods.freqstr, tuple(periods.asi8))
        for name, spec in specs.items():
            spec = dict(spec)
            sid = f"{clinic}\x1f{len(jobs)}"      # a series id no clinic id can take
            q = _scenario_params(d, spec)
            q["clinic"] = sid
            jobs.append({"clinic": clinic, "sid": sid, "name": name, "spec": spec})
            g = groups.setdefault(key, {"periods": periods, "q": [], "weekly": [], "flows": [], "waiting": [],
                                        "earlier": []})
            g["q"].append(q)
            g["weekly"].append(own_weekly.assign(clinic=sid))
            g["flows"].append(flows.drop(columns=["capacity", "basis"]).assign(
                clinic=sid, _inflow_factor=1 + float(spec.get("inflow_change_pct") or 0) / 100,
                _moved=float(spec.get("moved_patients_per_week") or 0)))
            g["waiting"].append(waiting.assign(clinic=sid))
            if len(earlier):
                g["earlier"].append(earlier.assign(clinic=sid))
    return rows, jobs, groups


def _plan_scenario_group(country: str, order: str, g: dict) -> dict:
    """Step 2 of :func:`scenarios`: one capacity and one plan for a group of scenario series.

    Returns each series' plan by its id, with ``_own_capacity`` [patients per period]: the
    clinic's own capacity before patients moved out (``moved_patients_per_week`` > 0) are
    served beyond it.
    """
    settings = assumptions_frame([assumptions_of(q) for q in g["q"]])
    cap, _ = capacity_basis(pd.concat(g["weekly"], ignore_index=True), g["q"], g["periods"], country=country)
    f = pd.concat(g["flows"], ignore_index=True).merge(cap, on=["clinic", "stage", "period"], how="left")
    f["capacity"] = f["capacity"].astype(float).fillna(0.0)
    f["inflow"] = f["inflow"] * f["_inflow_factor"]
    moved = f["_moved"].to_numpy(float)                                   # [patients/week]
    days = f["period_days"].astype(float).fillna(7.0).to_numpy() if "period_days" in f.columns else 7.0
    own_capacity = f["capacity"].to_numpy(float).copy()
    treat = (f["stage"] == "treatment").to_numpy()
    per_period = np.abs(moved) * days / 7.0
    # moved out: served beyond the clinic's own capacity (step 3); received: the other clinic's
    # patients join this clinic's queue, its own production
    f["capacity"] = f["capacity"].to_numpy(float) + np.where(treat & (moved > 0), per_period, 0.0)
    f["inflow"] = f["inflow"].to_numpy(float) + np.where(treat & (moved < 0), per_period, 0.0)
    f["_own_capacity"] = own_capacity
    plan = project_plan(pd.concat(g["waiting"], ignore_index=True),
                        f.drop(columns=["_inflow_factor", "_moved", "_own_capacity"]), settings, order=order,
                        fixed=pd.concat(g["earlier"], ignore_index=True) if g["earlier"] else None)
    own = f.set_index(["clinic", "stage", "period_ahead"])["_own_capacity"]
    plan["_own_capacity"] = own.reindex(pd.MultiIndex.from_frame(plan[["clinic", "stage", "period_ahead"]])).to_numpy()
    return {sid: part.reset_index(drop=True) for sid, part in plan.groupby("clinic", sort=False)}


def _scenario_on_moves(plan: pd.DataFrame, clinic: str, spec: Mapping, moves: pd.DataFrame) -> pd.DataFrame:
    """Step 3 of :func:`scenarios`: a scenario's plan with its own moves out and the region's moves."""
    if float(spec.get("moved_patients_per_week") or 0) > 0:
        # patients moved out are treated elsewhere: served beyond the clinic's own capacity, they
        # are not its own production (as the plan counts the region's moves: moved_out, not own)
        served = plan["own_production"].to_numpy(float)
        kept = np.where(plan["stage"].to_numpy() == "treatment",
                        np.minimum(served, np.floor(plan["_own_capacity"].to_numpy(float) + 1e-9)), served)
        plan = plan.assign(own_production=kept, moved_out=(plan["moved_out"] if "moved_out" in plan
                                                           else 0.0) + (served - kept))
    plan = plan.drop(columns="_own_capacity")
    if not len(moves):
        return plan
    # the region's moves stand in every scenario: the clinic's patients moved out as far as the
    # scenario still buys them, those it receives as far as its capacity is still unused
    at = plan.set_index(["stage", "period_ahead"])
    out_moves = moves[moves["clinic_from"] == clinic]
    in_moves = moves[moves["clinic_to"] == clinic]
    out_moves = out_moves.assign(patients=np.minimum(
        out_moves["patients"].to_numpy(float), at["purchase"].reindex(pd.MultiIndex.from_frame(
            out_moves[["stage", "period_ahead"]])).fillna(0).to_numpy()))
    in_moves = in_moves.assign(patients=np.minimum(
        in_moves["patients"].to_numpy(float), np.floor(at["unused_capacity"].reindex(
            pd.MultiIndex.from_frame(in_moves[["stage", "period_ahead"]])).fillna(0).to_numpy() + 1e-9)))
    return apply_moves(plan, pd.concat([out_moves, in_moves], ignore_index=True))


def scenarios(weekly: pd.DataFrame, model: PlanningModel, params_list) -> pd.DataFrame:
    """The clinics' what-if scenarios run through the same model as the plan, beside it.

    Each scenario of a clinic's parameters changes the model's inputs and nothing else:
    ``inflow_change_pct`` scales the inflow of both stages; ``extra_new_visit_slots_per_week``
    and ``extra_theatre_sessions_per_week`` add to the resources (capacity recomputed with
    working days and closures); ``summer_closure_extra_weeks`` lengthens the summer closures;
    ``moved_patients_per_week`` adds treatment capacity elsewhere (patients moved out);
    ``purchase_price_change_pct`` changes the contract prices. Who waits now, the serving
    order, the guarantee, the lead time and the region's moves out of the clinic (as far
    as a scenario still buys) are the plan's, so the baseline row is the plan.

    Every scenario of every clinic is planned at once: each (clinic, scenario) is one series
    of a single :func:`capacity_basis` and :func:`project_plan` call per calendar, serving
    order and plan periods (a scenario changes nothing that would couple it to another).

    Returns
    -------
    DataFrame
        ``clinic``, ``scenario`` ("baseline" first), ``description``, over the plan's
        horizon: ``purchase`` [patients], ``cost_external_sek`` [SEK],
        ``breaches_if_nothing_bought_peak`` [patients], ``own_production`` [patients],
        ``purchase_change`` (against the baseline) [patients].
    """
    params_list = list(params_list) if isinstance(params_list, (list, tuple)) else [params_list]
    rows, jobs, groups = _scenario_jobs(weekly, model, params_list)
    planned = {}
    for (country, order, _, _), g in groups.items():
        planned.update(_plan_scenario_group(country, order, g))
    by_clinic = {}
    for job in jobs:
        clinic, spec = job["clinic"], job["spec"]
        plan = _scenario_on_moves(planned[job["sid"]].assign(clinic=clinic), clinic, spec, model.moves)
        by_clinic.setdefault(clinic, []).append(
            _summarise_scenario(clinic, job["name"], str(spec.get("description") or job["name"]), plan))
    out = pd.DataFrame([r for base in rows for r in [base] + by_clinic.get(base["clinic"], [])])
    base = out[out["scenario"] == "baseline"].set_index("clinic")["purchase"]
    out["purchase_change"] = out["purchase"] - out["clinic"].map(base)
    return out


def transfer_costs(params_list) -> dict:
    """Cost of moving one patient, per (from clinic, to clinic) of the same ``region_pool`` [SEK/patient].

    A clinic's ``transfer_costs.<to>.per_patient_sek`` where given, else the region's
    ``transfer_cost_sek`` (0 when absent).

    Examples
    --------
    >>> ps = [{"clinic": "a", "region_pool": "ort", "transfer_cost_sek": 1500,
    ...        "transfer_costs": {"b": {"per_patient_sek": 4000}}},
    ...       {"clinic": "b", "region_pool": "ort", "transfer_cost_sek": 1500}]
    >>> transfer_costs(ps)
    {('a', 'b'): 4000.0, ('b', 'a'): 1500.0}
    """
    pools = {_clinic_id(p): (_get(p, "region_pool"), p) for p in params_list}
    out = {}
    for a, (pool_a, p) in pools.items():
        named = _get(p, "transfer_costs", {}) or {}
        for b, (pool_b, _) in pools.items():
            if a != b and pool_a and pool_a == pool_b:
                entry = named.get(b) if hasattr(named, "get") else None
                cost = _get(entry, "per_patient_sek") if entry is not None else None
                out[(a, b)] = float(cost if cost is not None else _get(p, "transfer_cost_sek", 0.0))
    return out


def region_moves(plans: pd.DataFrame, params_list, *,
                 transfer_cost_sek: float | Mapping | None = None) -> pd.DataFrame:
    """Moves between clinics of a common waiting list, on the clinics' own plans.

    Within each ``region_pool`` (clinics offering the same care), stage and period (the
    same calendar week, or month: a weekly and a monthly clinic are not matched): a
    clinic that buys patients (``purchase`` of its plan) may instead send them to a
    clinic whose plan leaves capacity unused that week (``unused_capacity``), when

        saving = price_external(sender) - price_internal(receiver) - transfer_cost > 0  [SEK/patient]

    Whole patients, the largest saving first, never more than the receiver's unused
    capacity or the sender's purchase, so both plans stay feasible: the receiver serves
    the moved patients with capacity its own queue does not need, the sender buys that
    many fewer.

    Parameters
    ----------
    plans : DataFrame
        The clinics' ``production_plan`` tables concatenated (``clinic``, ``stage``,
        ``period_ahead``, ``period``, ``purchase``, ``unused_capacity``).
    params_list : list of Parameters or mappings
        ``region_pool`` and ``prices`` of each clinic.
    transfer_cost_sek : float or mapping (from clinic, to clinic) -> float, optional
        Cost of moving one patient between the two hospitals (travel, coordination);
        default the parameters' (:func:`transfer_costs`) [SEK/patient].

    Returns
    -------
    DataFrame
        ``clinic_from``, ``clinic_to``, ``stage``, ``period_ahead``, ``period``,
        ``patients`` [patients], ``saving_sek`` [SEK].

    Examples
    --------
    >>> plans = pd.DataFrame({"clinic": ["a", "b"], "stage": "treatment", "period_ahead": 5, "period": "2027-W05",
    ...                       "purchase": [7.0, 0.0], "unused_capacity": [0.0, 4.6]})
    >>> ps = [{"clinic": "a", "region_pool": "ort", "prices": {"purchase_operation_sek": 40000}},
    ...       {"clinic": "b", "region_pool": "ort", "prices": {"internal_operation_sek": 30000}}]
    >>> moves = region_moves(plans, ps, transfer_cost_sek=2000)
    >>> moves[["clinic_from", "clinic_to", "patients", "saving_sek"]].values.tolist()
    [['a', 'b', 4.0, 32000.0]]
    """
    columns = ["clinic_from", "clinic_to", "stage", "period_ahead", "period", "patients", "saving_sek"]
    pools = {_clinic_id(p): _get(p, "region_pool") for p in params_list}
    if not isinstance(transfer_cost_sek, Mapping) and transfer_cost_sek is None:
        transfer_cost_sek = transfer_costs(params_list)
    prices = {a.clinic: a.prices for a in (assumptions_of(p) for p in params_list)}
    pooled = plans[plans["clinic"].map(pools).notna()]
    if pooled.empty:
        return pd.DataFrame(columns=columns)
    pooled = pooled.assign(_pool=pooled["clinic"].map(pools))
    senders = pooled[pooled["purchase"] > 0][["_pool", "stage", "period_ahead", "period", "clinic", "purchase"]]
    receivers = pooled[pooled["unused_capacity"] >= 1][["_pool", "stage", "period_ahead", "period", "clinic",
                                                         "unused_capacity"]]
    # the same calendar period: clinics whose plans start apart, or plan in weeks and in
    # months, are never matched period by period
    pairs = senders.merge(receivers, on=["_pool", "stage", "period_ahead", "period"], suffixes=("_from", "_to"))
    pairs = pairs[pairs["clinic_from"] != pairs["clinic_to"]]
    if pairs.empty:
        return pd.DataFrame(columns=columns)
    ext = np.array([prices[c].get(s, (np.nan, np.nan))[0] for c, s in zip(pairs["clinic_from"], pairs["stage"])])
    internal = np.array([prices[c].get(s, (np.nan, np.nan))[1] for c, s in zip(pairs["clinic_to"], pairs["stage"])])
    cost = np.array([float(transfer_cost_sek.get((a, b), 0.0)) if isinstance(transfer_cost_sek, Mapping)
                     else float(transfer_cost_sek) for a, b in zip(pairs["clinic_from"], pairs["clinic_to"])])
    pairs["saving"] = ext - np.nan_to_num(internal) - cost
    pairs = pairs[pairs["saving"] > 0].sort_values(["period_ahead", "saving"], ascending=[True, False])
    rows = []
    left_from, left_to = {}, {}
    for r in pairs.itertuples(index=False):  # greedy matching: few pairs per week and pool
        kf, kt = (r.clinic_from, r.stage, r.period_ahead), (r.clinic_to, r.stage, r.period_ahead)
        have = left_from.setdefault(kf, float(r.purchase))
        room = left_to.setdefault(kt, float(np.floor(r.unused_capacity + 1e-9)))
        n = float(min(have, room))
        if n < 1:
            continue
        left_from[kf] -= n
        left_to[kt] -= n
        rows.append({"clinic_from": r.clinic_from, "clinic_to": r.clinic_to, "stage": r.stage,
                     "period_ahead": int(r.period_ahead), "period": r.period, "patients": n,
                     "saving_sek": n * float(r.saving)})
    return pd.DataFrame(rows, columns=columns)


#: Per stage: own production and purchased production measures of the canonical data.
_OUTCOME = {"new_visit": ("new_visits", "purchased_new_visits"),
            "treatment": ("operations_elective", "purchased_operations")}


def plan_history(weekly: pd.DataFrame, previous_plan: pd.DataFrame | None,
                 previous_history: pd.DataFrame | None = None) -> pd.DataFrame:
    """Plan against outcome: the fixed weeks of earlier plans that have now passed, with what happened.

    Each run keeps the fixed weeks of the previous run's plan that now lie in the data
    (``period`` up to the latest reported week), adds them to the history the previous
    run carried (``previous_history``, earlier weeks), and compares every week with the
    data as they stand now::

        deviation_pct      = 100 · (actual_own − planned_own) / planned_own          [%]
        cum_*              = Σ over the ISO year up to the week                       [patients]
        cum_deviation_pct  = 100 · (cum_actual_own − cum_planned_own) / cum_planned_own
        vs_agreement_pct   = 100 · (cum_actual_own − cum_agreement) / cum_agreement
        vs_last_year_pct   = 100 · (cum_actual_own − cum_last_year) / cum_last_year

    Parameters
    ----------
    weekly : DataFrame
        Canonical weekly frame (``new_visits``, ``operations_elective`` and optionally
        ``purchased_*``).
    previous_plan : DataFrame or None
        The previous run's ``production_plan`` (``clinic``, ``stage``, ``period``,
        ``fixed``, ``own_production``, ``purchase``, ``agreement``).
    previous_history : DataFrame or None
        The previous run's ``plan_history`` (this function's output).

    Returns
    -------
    DataFrame
        One row per clinic, stage and week: ``clinic``, ``stage``, ``period``,
        ``planned_own``, ``planned_purchase``, ``agreement``, ``actual_own``,
        ``actual_purchased``, ``last_year`` [patients/week], ``deviation_pct``, and the
        year-to-date ``cum_planned_own``, ``cum_actual_own``, ``cum_agreement``,
        ``cum_last_year`` [patients], ``cum_deviation_pct``, ``vs_agreement_pct``,
        ``vs_last_year_pct`` [%]. Empty without a previous plan.

    Examples
    --------
    >>> w = pd.DataFrame({"clinic": "a", "period": pd.period_range("2026-11-02", periods=2, freq="W-SUN"),
    ...                   "new_visits": [38.0, 36.0]})
    >>> prev = pd.DataFrame({"clinic": "a", "stage": "new_visit", "period": ["2026-11-09/2026-11-15"],
    ...                      "fixed": [True], "own_production": [40.0], "purchase": [0.0], "agreement": [35.0]})
    >>> h = plan_history(w, prev)
    >>> h[["planned_own", "actual_own", "deviation_pct"]].values.tolist()
    [[40.0, 36.0, -10.0]]
    """
    columns = ["clinic", "stage", "period", "planned_own", "planned_purchase", "agreement", "actual_own",
               "actual_purchased", "last_year", "deviation_pct", "cum_planned_own", "cum_actual_own",
               "cum_agreement", "cum_last_year", "cum_deviation_pct", "vs_agreement_pct", "vs_last_year_pct"]
    parts = []
    if previous_history is not None and len(previous_history):
        parts.append(previous_history[["clinic", "stage", "period", "planned_own", "planned_purchase", "agreement"]])
    if previous_plan is not None and len(previous_plan):
        fp = previous_plan[previous_plan["fixed"].astype(str).str.lower().isin(["true", "1"])]
        agreement = fp["agreement"] if "agreement" in fp.columns else np.nan
        parts.append(pd.DataFrame({"clinic": fp["clinic"].astype(str), "stage": fp["stage"], "period": fp["period"],
                                   "planned_own": fp["own_production"].astype(float),
                                   "planned_purchase": fp["purchase"].astype(float), "agreement": agreement}))
    if not parts or weekly.empty:
        return pd.DataFrame(columns=columns)
    hist = pd.concat(parts, ignore_index=True)
    # the clinics' own periods (a monthly clinic's earlier plans are in months)
    monthly = _freq_name(pd.PeriodIndex(weekly["period"])) == "month"
    hist["period"] = as_periods(hist["period"], "M" if monthly else "W-SUN")
    last = _stage_totals(weekly).groupby("clinic")["period"].max()
    hist = hist[hist["period"] <= hist["clinic"].map(last)]
    hist = hist.drop_duplicates(["clinic", "stage", "period"], keep="first")  # the earliest plan of a week rules
    totals = _stage_totals(weekly).set_index(["clinic", "period"])
    index = pd.MultiIndex.from_arrays([hist["clinic"], hist["period"]])
    ly_index = pd.MultiIndex.from_arrays([hist["clinic"], hist["period"] - (12 if monthly else 52)])
    own = np.full(len(hist), np.nan)
    bought = np.zeros(len(hist))
    last_year = np.full(len(hist), np.nan)
    for stage, (own_col, buy_col) in _OUTCOME.items():
        sel = (hist["stage"] == stage).to_numpy()
        if own_col in totals.columns:
            own[sel] = totals[own_col].reindex(index[sel]).to_numpy(float)
            last_year[sel] = totals[own_col].reindex(ly_index[sel]).to_numpy(float)
        if buy_col in totals.columns:
            bought[sel] = totals[buy_col].reindex(index[sel]).fillna(0.0).to_numpy(float)
    hist = hist.assign(actual_own=own, actual_purchased=bought, last_year=last_year).sort_values(
        ["clinic", "stage", "period"]).reset_index(drop=True)
    pct = lambda a, b: np.where(b > 0, 100 * (a - b) / np.where(b > 0, b, 1), np.nan)  # noqa: E731
    hist["deviation_pct"] = pct(hist["actual_own"], hist["planned_own"])
    year = (pd.PeriodIndex(hist["period"]).start_time + pd.Timedelta(days=3)).isocalendar().year.to_numpy()
    g = hist.assign(_y=year).groupby(["clinic", "stage", "_y"])
    for col, name in (("planned_own", "cum_planned_own"), ("actual_own", "cum_actual_own"),
                      ("agreement", "cum_agreement"), ("last_year", "cum_last_year")):
        hist[name] = g[col].cumsum()
    hist["cum_deviation_pct"] = pct(hist["cum_actual_own"], hist["cum_planned_own"])
    hist["vs_agreement_pct"] = pct(hist["cum_actual_own"], hist["cum_agreement"])
    hist["vs_last_year_pct"] = pct(hist["cum_actual_own"], hist["cum_last_year"])
    return hist[columns]


def apply_moves(plan: pd.DataFrame, moves: pd.DataFrame) -> pd.DataFrame:
    """The clinics' plans with the moves between them in both plans.

    The sender's ``moved_out`` replaces as many of its bought patients (``purchase``
    and its cost fall by as many); the receiver's ``moved_in`` is served with capacity
    its own plan leaves unused: they are its own production (``own_production`` grows and
    ``unused_capacity`` falls by as many), so in every row::

        queue_end = queue_start + inflow + moved_in - own_production - purchase - moved_out
        own_production <= capacity                                          [patients/week]

    Parameters
    ----------
    plan : DataFrame
        :func:`project_plan` output of the clinics (with prices applied).
    moves : DataFrame
        :func:`region_moves` output.

    Returns
    -------
    DataFrame
        ``plan`` with ``moved_in``, ``moved_out`` [patients/week] and the purchase, its
        costs, the gap and the unused capacity adjusted.

    Examples
    --------
    >>> p = pd.DataFrame({"clinic": ["a", "b"], "stage": "treatment", "period_ahead": 5, "purchase": [7.0, 0.0],
    ...                   "unused_capacity": [0.0, 4.0], "cost_external_sek": [7.0, 0.0],
    ...                   "cost_internal_sek": [7.0, 0.0], "gap": [7.0, -4.0]})
    >>> m = pd.DataFrame({"clinic_from": ["a"], "clinic_to": ["b"], "stage": ["treatment"], "period_ahead": [5],
    ...                   "patients": [4.0]})
    >>> p["own_production"] = [10.0, 6.0]
    >>> apply_moves(p, m)[["purchase", "moved_out", "moved_in", "own_production", "unused_capacity"]].values.tolist()
    [[3.0, 4.0, 0.0, 10.0, 0.0], [0.0, 0.0, 4.0, 10.0, 0.0]]
    """
    out = plan.copy()
    key = ["clinic", "stage", "period_ahead"]
    out["moved_out"] = 0.0
    out["moved_in"] = 0.0
    if moves is None or moves.empty:
        return out
    gone = moves.groupby(["clinic_from", "stage", "period_ahead"])["patients"].sum().rename_axis(key)
    came = moves.groupby(["clinic_to", "stage", "period_ahead"])["patients"].sum().rename_axis(key)
    index = pd.MultiIndex.from_frame(out[key])
    moved_out = gone.reindex(index).fillna(0.0).to_numpy()
    moved_in = came.reindex(index).fillna(0.0).to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        unit_ext = np.where(out["purchase"] > 0, out["cost_external_sek"] / out["purchase"], 0.0)
        unit_int = np.where(out["purchase"] > 0, out["cost_internal_sek"] / out["purchase"], 0.0)
    out["moved_out"] = moved_out
    out["moved_in"] = moved_in
    out["purchase"] = out["purchase"] - moved_out
    out["cost_external_sek"] = out["purchase"] * np.nan_to_num(unit_ext)
    out["cost_internal_sek"] = out["purchase"] * np.nan_to_num(unit_int)
    out["unused_capacity"] = out["unused_capacity"] - moved_in
    if "own_production" in out.columns:   # the receiver treats them with its own staff
        out["own_production"] = out["own_production"] + moved_in
    if "purchase_beyond_fixed" in out.columns:   # what is still bought beyond a fixed plan after the moves
        out["purchase_beyond_fixed"] = np.minimum(out["purchase_beyond_fixed"], out["purchase"])
    out["gap"] = out["gap"] - moved_out + moved_in
    return out


def _concat_models(models: list) -> PlanningModel:
    """Several clinics' models (planned separately) as one."""
    def cat(frames):
        given = [f for f in frames if f is not None]
        full = [f.copy() for f in given if len(f)]
        for f in full:
            f.attrs = {}  # concat compares attrs, which may hold frames
        if full:
            return pd.concat(full, ignore_index=True)
        return given[0].iloc[:0].copy() if given else pd.DataFrame()  # empty, but with its columns

    forecasts = {}
    for m in models:
        for k, v in m.forecasts.items():
            forecasts[k] = cat([forecasts.get(k), v])
    unc = cat([m.uncertainty for m in models])
    unc.attrs["clinic"] = cat([m.uncertainty.attrs.get("clinic") for m in models])
    fields = {name: cat([getattr(m, name) for m in models])
              for name in ("settings", "waiting", "flows", "capacity_check", "plan", "uncertainty_by_month",
                           "follow_up", "figures", "history", "moves", "scenarios")}
    return PlanningModel(forecasts=forecasts, uncertainty=unc, **fields)


def _plan_chunk(job) -> PlanningModel:
    """:func:`plan_clinics` of one chunk of clinics, without scenarios (for an executor)."""
    weekly, waiting_list, params, fixed, history, kw = job
    return plan_clinics(weekly, waiting_list, params, fixed_plan=fixed, history=history, with_scenarios=False, **kw)


def _plan_chunk_safe(job):
    """:func:`_plan_chunk`, its failure returned instead of raised: ``(model, None)`` or ``(None, error)``."""
    try:
        return _plan_chunk(job), None
    except Exception as exc:  # noqa: BLE001 - a failing clinic must not stop the region's others
        return None, f"{type(exc).__name__}: {exc}"


def region_forecasts(weekly: pd.DataFrame, params_list, *, executor=None, method=None, levels=None,
                     exclude=None) -> dict:
    """The demand forecasts the clinics' plans rest on, each pooled over the clinics it can compare.

    One :func:`kps_analysis.forecast.forecast_demand` call per inflow measure and group of
    clinics with the same kind of period (weeks or months), calendar, forecast settings
    (method, levels [%], left-out years) and planning horizon [weeks]: the forecast pools
    its model choice, seasonal factors and interval calibration over the clinics of a
    call, so each clinic's forecast depends only on its group's data, never on which other
    clinics a run happens to plan. A clinic takes part in a measure's call when it produces
    that stage and reports its inflow.

    Parameters
    ----------
    weekly : DataFrame
        Canonical long frame of the clinics (weeks or months).
    params_list : list of Parameters
        The clinics' loaded parameters.
    executor : concurrent.futures.Executor, optional
        Runs the calls on its processes (one call per process).
    method, levels, exclude : optional
        Override the parameters' forecast settings for every clinic.

    Returns
    -------
    dict
        ``(measure, group) -> forecast_demand output`` [patients/period]; see :func:`forecasts_of`.
    """
    params_list = list(params_list) if isinstance(params_list, (list, tuple)) else [params_list]
    ends = weekly.groupby("clinic")["period"].max()
    kind = {}
    for p in params_list:
        cid = _clinic_id(p)
        kind[cid] = (_freq_name(ends[cid]) if cid in ends.index else "week", _country(p),
                     _forecast_settings(p, method, levels, exclude), assumptions_of(p).horizon_weeks)
    measures = [m for m, _, own in STAGE_MEASURES.values() if m in weekly.columns and own in weekly.columns]
    jobs = []
    for m in measures:
        own = next(o for mm, _, o in STAGE_MEASURES.values() if mm == m)
        active = (weekly.groupby("clinic")[own].sum() > 0) & weekly[m].notna().groupby(weekly["clinic"]).any()
        active_ids = set(active[active].index)
        for group in sorted(set(kind.values()), key=repr):
            unit, country, (f_method, f_levels, f_exclude), horizon = group
            ids = [c for c, k in kind.items() if k == group and c in active_ids]
            hist = _one_period_type(weekly[weekly["clinic"].isin(ids)])
            if len(hist):
                periods = horizon if unit == "week" else len(_plan_periods(hist["period"].max(), horizon))
                jobs.append(((m, group), (hist, m, periods, f_levels, f_method, f_exclude, country)))
    mapper = executor.map if executor is not None else map
    return dict(zip([k for k, _ in jobs], mapper(_forecast_one, [j for _, j in jobs])))


def forecasts_of(made: dict, clinics) -> dict:
    """The forecasts of :func:`region_forecasts` of some clinics (of one kind of period), as
    :func:`plan_clinics` takes them: measure -> frame of those clinics' rows."""
    ids = set(map(str, clinics))
    out = {}
    for (measure, _group), frame in made.items():
        rows = frame[frame["clinic"].astype(str).isin(ids)]
        if len(rows):
            out[measure] = rows if measure not in out else pd.concat([out[measure], rows], ignore_index=True)
    return out


def plan_region(weekly: pd.DataFrame, waiting_list: pd.DataFrame | None, params_list, *,
                fixed_plans: pd.DataFrame | None = None, histories: pd.DataFrame | None = None,
                transfer_cost_sek: float | Mapping | None = None, executor=None, parts_hint: int = 0,
                **kw) -> PlanningModel:
    """Every clinic's planning model in one pass, with the moves of common waiting lists in both plans.

    :func:`plan_clinics` for all clinics, then :func:`region_moves` on their plans and
    :func:`apply_moves`, and the headline figures recomputed, so a clinic's report, its
    tables and the region overview show the same moves and the purchase left after them.
    ``kps run`` calls this once for the whole region (compute once, render many), with its
    process pool as ``executor`` and ``parts_hint`` chunks of clinics (the chunks are planned
    apart, then the moves are found across all of them; the result does not depend on it).

    Returns
    -------
    PlanningModel
        With ``moves`` (:func:`region_moves` output) and plans holding ``moved_in``/``moved_out``.
        A clinic that cannot be planned is left out (its chunk is planned again clinic by
        clinic) and named with its error in ``model.settings.attrs["failed"]``; the others
        are planned as if it were not there.
    """
    params_list = list(params_list) if isinstance(params_list, (list, tuple)) else [params_list]
    # clinics whose data end in different periods start their plans in different periods (weekly
    # and monthly clinics, or clinics of different calendars, are planned apart); a large region
    # is planned in chunks of clinics, on an executor's processes where one is given
    ends = weekly.groupby("clinic")["period"].max()
    groups = {}
    for p in params_list:   # one kind of period and the same call-wide settings per chunk (call_key)
        key = (ends.get(_clinic_id(p)), call_key(p))
        groups.setdefault(key, []).append(p)
    chunks = []
    for ps in groups.values():
        size = max(1, int(np.ceil(len(ps) / max(1, parts_hint)))) if parts_hint else len(ps)
        chunks += [ps[i:i + size] for i in range(0, len(ps), size)]
    # the demand forecasts of the whole region first (a forecast pools what its clinics have in
    # common), one job per process; every chunk then plans on them
    made = None
    if "forecasts" not in kw:
        made = region_forecasts(weekly, params_list, executor=executor, method=kw.get("method"),
                                levels=kw.get("levels"), exclude=kw.get("exclude"))
    jobs = []
    for ps in chunks:
        ids = [_clinic_id(p) for p in ps]
        wl = waiting_list[waiting_list["clinic"].isin(ids)] if waiting_list is not None else None

        def pick(f, ids=ids):
            return f[f["clinic"].astype(str).isin(ids)] if f is not None and len(f) else None

        chunk_kw = kw if made is None else {**kw, "forecasts": forecasts_of(made, ids)}
        jobs.append((_one_period_type(weekly[weekly["clinic"].isin(ids)]), wl if wl is not None and len(wl) else None,
                     ps, pick(fixed_plans), pick(histories), chunk_kw))
    run = executor.map if executor is not None else map
    parts, failed = [], {}
    for job, (part, _error) in zip(jobs, run(_plan_chunk_safe, jobs)):
        if part is not None:
            parts.append(part)
            continue
        # a chunk failed: plan its clinics one by one, so one clinic's problem stays its own
        w, wl, ps, fixed, history, kw_ = job
        for p in ps:
            cid = _clinic_id(p)
            one = (w[w["clinic"] == cid], wl[wl["clinic"] == cid] if wl is not None else None, [p],
                   fixed[fixed["clinic"].astype(str) == cid] if fixed is not None else None,
                   history[history["clinic"].astype(str) == cid] if history is not None else None, kw_)
            model_one, error_one = _plan_chunk_safe(one)
            if model_one is not None:
                parts.append(model_one)
            else:
                failed[cid] = error_one
    if not parts:
        raise ValueError("plan_region: no clinic could be planned: "
                         + "; ".join(f"{c}: {e}" for c, e in failed.items()))
    chunks = [[p for p in ps if _clinic_id(p) not in failed] for ps in chunks]
    chunks = [ps for ps in chunks if ps]
    params_list = [p for p in params_list if _clinic_id(p) not in failed]
    model = parts[0] if len(parts) == 1 else _concat_models(parts)
    moves = region_moves(model.plan, params_list, transfer_cost_sek=transfer_cost_sek)
    plan = apply_moves(model.plan, moves)
    moved = PlanningModel(**{**model.__dict__, "plan": plan, "moves": moves})
    # the figures per chunk: its clinics share one kind of period (weeks or months)
    figures = pd.concat([headline_figures(moved.for_clinics([_clinic_id(p) for p in ps])) for ps in chunks],
                        ignore_index=True)
    moved = PlanningModel(**{**moved.__dict__, "figures": figures,
                             "follow_up": follow_up_levels(moved.follow_up, figures, moved.history)})
    out = replace(moved, scenarios=_chunked_scenarios(weekly, moved, params_list, chunks, executor))
    out.settings.attrs["failed"] = failed
    return out


def _chunked_scenarios(weekly: pd.DataFrame, model: PlanningModel, params_list, chunks, executor) -> pd.DataFrame:
    """:func:`scenarios` of the region's clinics (each clinic's own, on the region's moves),
    per chunk of clinics on the executor's processes when there is one, in the order of the
    clinics as one call gives them."""
    if executor is None or len(chunks) < 2:
        return scenarios(weekly, model, params_list)
    jobs = [(weekly[weekly["clinic"].isin(ids)], model.for_clinics(ids), ps)
            for ps in chunks for ids in [[_clinic_id(p) for p in ps]]]
    table = pd.concat(list(executor.map(_scenarios_chunk, jobs)), ignore_index=True)
    rank = {_clinic_id(p): i for i, p in enumerate(params_list)}
    return table.iloc[np.argsort(table["clinic"].map(rank).to_numpy(), kind="stable")].reset_index(drop=True)


def _scenarios_chunk(job) -> pd.DataFrame:
    """:func:`scenarios` of one chunk of clinics ``(weekly, model, params)`` (for an executor)."""
    weekly, model, params = job
    return scenarios(weekly, model, params)
