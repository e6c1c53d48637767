"""Deterministic synthetic demo data for the fictional "Region Exempel".

Eight clinics are simulated patient by patient through the care chain
*referral -> first visit -> (decision to treat at the visit) -> operation*, week by week:
arrivals are Poisson with a trend, Swedish seasonality and the 2020 pandemic dip;
capacity per week follows the working days (``kps_analysis.calendar``), the sports
holiday, Easter, the summer closure and Christmas; each week the queue is served by
medical priority, then longest wait.  A share of referrals is forwarded within days,
some patients leave the list (declined, other), a few choose to wait, some miss their
appointment, and clinics with long waits buy care externally.

The simulation keeps its own weekly books (counts of events per week and the queue
at each Sunday 24:00); for the four patient-level clinics the same patients are
returned as a waiting-list extract, from which ``kps_analysis.data`` derives the same
weekly numbers independently (a test compares the two).

=========  ==========================================  =====================================
clinic     profile                                     files
=========  ==========================================  =====================================
ort_nord   summer queue peaks, buys operations         waiting list (parquet) + activity csv
ort_syd    spare capacity                              weekly csv
ogon       high volume (cataract), buys when waits     waiting list (parquet) + activity csv
           build up
kir        general surgery, roughly in balance         weekly xlsx
onh        ear-nose-throat, visit heavy                weekly csv
gyn        in balance                                  waiting list (parquet) + activity csv
uro        growing backlog (demand outgrows capacity)  waiting list (parquet) + activity csv
hud        dermatology, visits only                    weekly csv
=========  ==========================================  =====================================

The data are synthetic: no real patient or clinic is described.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd

from . import calendar as cal

__all__ = ["CLINICS", "DEMO_VERSION", "DemoData", "generate", "write", "ensure_demo_data"]

DEMO_VERSION = "1"
"""Version of the generator; bump it whenever the generated numbers change."""

REGION_NAME = "Region Exempel"
STAMP_FILE = ".demo_stamp.json"

_GUARANTEE_DAYS = 90
_WARMUP_WEEKS = 104  # simulated before the start week so that the queues are in a steady state
_HORIZON_END = "2035-12-30"  # week-level random series are drawn up to here: history is stable
_REFERENCE_YEARS = (2019, 2025)  # seasonal factors are normalised to mean 1 over these ISO years
_TREND_ORIGIN = pd.Timestamp("2019-01-07")


@dataclasses.dataclass(frozen=True)
class _Profile:
    """Simulation parameters of one demo clinic (rates per week at the 2019 level)."""

    name: str
    level: str  # "patient": waiting-list extract + activity file; "aggregate": weekly file only
    weekly_file: str
    waiting_list_file: str | None
    description: str
    referrals_per_week: float  # annual mean in 2019 [referrals/week]
    referral_growth: float  # [1/year]
    forward_share: float  # share of referrals forwarded within days [-]
    decision_share: float  # share of first visits with a decision to treat [-]
    visit_capacity: float  # effective visit capacity / first-visit demand, 2019 [-]
    visit_growth: float  # [1/year]
    operation_capacity: float  # operation capacity / decisions, 2019 [-]
    operation_growth: float  # [1/year]
    summer_depth: float  # capacity factor in the deepest summer weeks (ISO 28-31) [-]
    backlog_weeks_new_visit: float = 2.5  # production control: target of bookable waiting [weeks of demand]
    backlog_weeks_treatment: float = 3.0  # [weeks of demand]
    flex_min: float = 0.85  # the least / most capacity production control can plan [-]
    flex_max: float = 1.12
    demand_noise: float = 0.025  # weekly innovation of the AR(1) log-demand drift [-]
    operation_change: tuple | None = None  # (date, factor): a lasting step in operation capacity
    control_gain: float = 0.4  # plan change per relative deviation of the backlog from target [-]
    no_show_share: float = 0.04
    priority_shares: tuple = (0.15, 0.35, 0.50)
    renege_new_visit: float = 0.004  # [1/week]
    renege_treatment: float = 0.003  # [1/week]
    chosen_wait_share: float = 0.05  # of priority-3 patients [-]
    booking_spread_days: float = 25.0  # booking order = waiting time + exponential spread [days]
    purchase_new_visits_max: int = 0  # [visits/week]
    purchase_operations_max: int = 0  # [operations/week]
    purchase_threshold_days: int = 75  # buy for patients who waited longer than this [days]
    purchase_trigger: int = 20  # ... once at least this many wait longer [patients]
    return_visit_ratio: float = 1.5  # return visits per new visit [-]
    emergency_visits_per_week: float = 10.0
    acute_operations_per_week: float = 3.0
    los_elective_days: float = 2.0  # average length of stay [days]
    los_acute_days: float = 4.0  # [days]


_PROFILES: dict[str, _Profile] = {
    "ort_nord": _Profile(
        "Ortopedi, Norra sjukhuset", "patient", "ort_nord_activity.csv", "ort_nord_waiting_list.parquet",
        "orthopaedics; deep summer closure gives queue peaks after the summer; buys operations",
        referrals_per_week=45, referral_growth=0.02, forward_share=0.08, decision_share=0.45,
        visit_capacity=1.0, visit_growth=0.02, operation_capacity=1.0, operation_growth=0.02,
        summer_depth=0.15, backlog_weeks_new_visit=5.0, backlog_weeks_treatment=7.0, flex_max=1.08,
        purchase_operations_max=3, purchase_threshold_days=100, purchase_trigger=8, return_visit_ratio=1.6,
        emergency_visits_per_week=25, acute_operations_per_week=12, los_elective_days=2.5, los_acute_days=5.0),
    "ort_syd": _Profile(
        "Ortopedi, Södra sjukhuset", "aggregate", "ort_syd_weekly.csv", None,
        "orthopaedics with spare capacity (could take patients from ort_nord)",
        referrals_per_week=35, referral_growth=0.01, forward_share=0.05, decision_share=0.42,
        visit_capacity=1.22, visit_growth=0.01, operation_capacity=1.25, operation_growth=0.01,
        summer_depth=0.40, flex_min=1.0, flex_max=1.0, return_visit_ratio=1.5,
        emergency_visits_per_week=15, acute_operations_per_week=6, los_elective_days=2.5, los_acute_days=5.0),
    "ogon": _Profile(
        "Ögonkliniken", "patient", "ogon_activity.csv", "ogon_waiting_list.parquet",
        "ophthalmology, high volume (cataract); buys visits and operations when waits build up",
        referrals_per_week=142, referral_growth=0.03, forward_share=0.03, decision_share=0.72,
        visit_capacity=1.0, visit_growth=0.022, operation_capacity=1.0, operation_growth=0.022,
        summer_depth=0.30, backlog_weeks_new_visit=3.0, backlog_weeks_treatment=3.5, flex_max=1.08,
        purchase_new_visits_max=8, purchase_operations_max=15, purchase_threshold_days=80, purchase_trigger=40,
        return_visit_ratio=1.2, emergency_visits_per_week=40, acute_operations_per_week=2,
        los_elective_days=0.05, los_acute_days=1.0),
    "kir": _Profile(
        "Allmänkirurgi", "aggregate", "kir_weekly.xlsx", None,
        "general surgery, roughly in balance, many acute operations",
        referrals_per_week=60, referral_growth=0.015, forward_share=0.06, decision_share=0.40,
        visit_capacity=1.0, visit_growth=0.015, operation_capacity=1.0, operation_growth=0.015,
        summer_depth=0.35, backlog_weeks_new_visit=5.0, backlog_weeks_treatment=6.0, return_visit_ratio=1.3,
        emergency_visits_per_week=60, acute_operations_per_week=30, los_elective_days=2.0, los_acute_days=4.5),
    "onh": _Profile(
        "Öron-näsa-hals", "aggregate", "onh_weekly.csv", None,
        "ear, nose and throat; visit heavy, few operations",
        referrals_per_week=50, referral_growth=0.02, forward_share=0.04, decision_share=0.20,
        visit_capacity=1.0, visit_growth=0.02, operation_capacity=1.0, operation_growth=0.02,
        summer_depth=0.35, backlog_weeks_new_visit=6.0, backlog_weeks_treatment=5.0, return_visit_ratio=1.1,
        emergency_visits_per_week=30, acute_operations_per_week=3, los_elective_days=0.8, los_acute_days=2.5),
    "gyn": _Profile(
        "Gynekologi", "patient", "gyn_activity.csv", "gyn_waiting_list.parquet",
        "gynaecology, in balance",
        referrals_per_week=55, referral_growth=0.01, forward_share=0.04, decision_share=0.30,
        visit_capacity=1.0, visit_growth=0.01, operation_capacity=1.0, operation_growth=0.01,
        summer_depth=0.35, backlog_weeks_new_visit=3.5, backlog_weeks_treatment=4.5, control_gain=0.8,
        demand_noise=0.012,
        flex_min=0.8, flex_max=1.2, return_visit_ratio=1.4,
        emergency_visits_per_week=20, acute_operations_per_week=5, los_elective_days=1.5, los_acute_days=3.0),
    "uro": _Profile(
        "Urologi", "patient", "uro_activity.csv", "uro_waiting_list.parquet",
        "urology, growing backlog: demand grows faster than capacity, and a surgeon left in August 2024",
        referrals_per_week=32, referral_growth=0.045, forward_share=0.04, decision_share=0.45,
        visit_capacity=1.0, visit_growth=0.03, operation_capacity=1.0, operation_growth=0.02,
        operation_change=("2024-08-19", 0.94),
        summer_depth=0.35, backlog_weeks_new_visit=4.0, backlog_weeks_treatment=5.0, flex_max=1.10,
        return_visit_ratio=1.8,
        emergency_visits_per_week=12, acute_operations_per_week=4, los_elective_days=2.0, los_acute_days=4.0),
    "hud": _Profile(
        "Hudkliniken", "aggregate", "hud_weekly.csv", None,
        "dermatology, visits only (no decisions to treat, no operations)",
        referrals_per_week=70, referral_growth=0.02, forward_share=0.10, decision_share=0.0,
        visit_capacity=1.0, visit_growth=0.02, operation_capacity=0.0, operation_growth=0.0,
        summer_depth=0.40, backlog_weeks_new_visit=5.0, return_visit_ratio=2.0,
        emergency_visits_per_week=8, acute_operations_per_week=0, los_elective_days=0.0, los_acute_days=0.0),
}

CLINICS: Mapping[str, Mapping] = MappingProxyType({
    cid: MappingProxyType({
        "name": p.name,
        "level": p.level,
        "data": MappingProxyType({**({"waiting_list": p.waiting_list_file} if p.waiting_list_file else {}),
                                  "weekly": p.weekly_file}),
        "description": p.description,
    })
    for cid, p in _PROFILES.items()
})
"""The demo clinics: id -> name, level ("patient"|"aggregate"), data files, description.

``data`` has the shape of a clinic parameter file's ``data`` mapping
(``{"waiting_list": file, "weekly": file}``; aggregate clinics have ``weekly`` only).
"""

# Canonical measure order (the same names as kps_analysis.data.MEASURES).
_MEASURES = (
    "referrals_in", "referrals_forwarded", "removals_new_visit_other", "new_visits", "return_visits",
    "emergency_visits", "treatment_decisions", "removals_treatment_other", "operations_elective",
    "operations_acute", "bed_days", "queue_new_visit", "queue_treatment", "queue_return_unbooked",
    "waiting_over_90_new_visit", "waiting_over_90_treatment", "purchased_new_visits",
    "purchased_operations", "planned_new_visits", "planned_operations", "no_shows", "available_slots",
)
_DERIVABLE = (
    "referrals_in", "referrals_forwarded", "removals_new_visit_other", "new_visits", "purchased_new_visits",
    "treatment_decisions", "operations_elective", "purchased_operations", "removals_treatment_other",
    "queue_new_visit", "queue_treatment", "waiting_over_90_new_visit", "waiting_over_90_treatment",
)
_ACTIVITY = tuple(m for m in _MEASURES if m not in _DERIVABLE)

_SWEDISH_HEADERS = {
    "clinic": "Klinik", "group": "Grupp", "period": "Vecka",
    "referrals_in": "Remisser in", "referrals_forwarded": "Vidarebefordrade remisser",
    "removals_new_visit_other": "Avförda ur nybesökskö", "new_visits": "Nybesök", "return_visits": "Återbesök",
    "emergency_visits": "Akuta besök", "treatment_decisions": "Behandlingsbeslut",
    "removals_treatment_other": "Avförda ur behandlingskö", "operations_elective": "Elektiva operationer",
    "operations_acute": "Akuta operationer", "bed_days": "Vårddagar", "queue_new_visit": "Väntande nybesök",
    "queue_treatment": "Väntande behandling", "queue_return_unbooked": "Ej bokade återbesök",
    "waiting_over_90_new_visit": "Väntat över 90 dagar nybesök",
    "waiting_over_90_treatment": "Väntat över 90 dagar behandling",
    "purchased_new_visits": "Köpt vård nybesök", "purchased_operations": "Köpt vård operationer",
    "planned_new_visits": "Planerade nybesök", "planned_operations": "Planerade operationer",
    "no_shows": "Uteblivna besök", "available_slots": "Lediga tider",
}

_EXTRACT_COLUMNS = ("patient_id", "clinic", "priority", "referral_date", "first_visit_date", "decision_date",
                    "treatment_date", "removal_date", "removal_reason", "external", "patient_chosen_wait")
_REASONS = np.array([None, "forwarded", "declined", "other"], dtype=object)


@dataclasses.dataclass(frozen=True, eq=False)
class DemoData:
    """The generated demo region.

    Attributes
    ----------
    clinics : pandas.DataFrame
        One row per clinic: ``clinic``, ``name``, ``level`` ("patient"|"aggregate"),
        ``weekly_file``, ``waiting_list_file`` (NA for aggregate clinics), ``description``.
    weekly : pandas.DataFrame
        Canonical weekly frame: ``clinic``, ``period`` (W-SUN) and every measure, for all
        eight clinics, from the start week to the end week. [counts/week; queues at
        Sunday 24:00]
    waiting_list : pandas.DataFrame
        Canonical waiting-list extract of the four patient-level clinics (every referral
        from two years before the start week, so the start week already has steady queues).
    seed : int
        The random seed the data were generated with.
    """

    clinics: pd.DataFrame
    weekly: pd.DataFrame
    waiting_list: pd.DataFrame
    seed: int = 2019


# ----------------------------------------------------------------------------- calendar
@dataclasses.dataclass(frozen=True)
class _Weeks:
    periods: pd.PeriodIndex
    monday: np.ndarray  # day number (days since 1970-01-01) of each Monday
    iso_week: np.ndarray
    working_days: np.ndarray
    workday_offsets: np.ndarray  # (n, 5) offsets 0..6 of the working days, padded
    n_workdays: np.ndarray  # like working_days, but at least 1 (Mon-Fri fallback)
    easter_week: np.ndarray  # the week containing Good Friday
    after_easter_week: np.ndarray
    years: np.ndarray  # years since the trend origin [years]


def _weeks(first: pd.Period, last: pd.Period) -> _Weeks:
    periods = pd.period_range(first, last, freq=cal.WEEK_FREQ)
    mondays = periods.start_time
    monday = (mondays.to_numpy().astype("datetime64[D]").astype(np.int64))
    iso = mondays.isocalendar()
    iso_week = iso["week"].to_numpy(dtype=np.int64)
    iso_year = iso["year"].to_numpy(dtype=np.int64)
    wd = cal.working_days(periods).to_numpy()
    days = pd.date_range(mondays[0], periods[-1].end_time.normalize(), freq="D")
    off = cal.swedish_holidays(np.arange(days[0].year, days[-1].year + 1))["date"]
    flags = np.asarray((days.day_of_week < 5) & ~days.isin(off)).reshape(-1, 7)
    # offsets of working days first (stable sort keeps them in weekday order); fallback Mon-Fri
    flags = np.where(flags.any(axis=1, keepdims=True), flags, np.arange(7) < 5)
    offsets = np.argsort(~flags, axis=1, kind="stable")[:, :5]
    n_workdays = flags.sum(axis=1)
    good_friday = (cal.easter_sunday(np.unique(iso_year)) - pd.Timedelta(days=2)).to_period(cal.WEEK_FREQ)
    easter_week = periods.isin(good_friday)
    after_easter_week = np.r_[False, easter_week[:-1]]
    years = ((mondays - _TREND_ORIGIN).days.to_numpy() / 365.25)
    return _Weeks(periods, monday, iso_week, wd, offsets, n_workdays, easter_week, after_easter_week, years)


def _capacity_season(weeks: _Weeks, summer_depth: float) -> np.ndarray:
    """Capacity factor per week, before working days: sportlov, Easter, summer, Christmas [-]."""
    w = weeks.iso_week
    d = summer_depth
    summer = {25: 0.97, 26: 0.85, 27: 1 - 0.7 * (1 - d), 28: d, 29: d, 30: d, 31: d, 32: 1 - 0.6 * (1 - d),
              33: 0.85, 34: 0.95}
    other = {8: 0.82, 9: 0.92, 51: 0.92, 52: 0.65, 53: 0.65, 1: 0.75}
    table = np.ones(54)
    for week, factor in {**other, **summer}.items():
        table[week] = factor
    factor = table[w]
    factor = factor * np.where(weeks.easter_week, 0.85, 1.0) * np.where(weeks.after_easter_week, 0.93, 1.0)
    return factor * weeks.working_days / 5


def _referral_season(weeks: _Weeks) -> np.ndarray:
    """Referral factor per week: dips less than capacity [-]."""
    table = np.ones(54)
    for week, factor in {8: 0.95, 27: 0.85, 28: 0.78, 29: 0.75, 30: 0.75, 31: 0.78, 32: 0.88,
                         52: 0.8, 53: 0.8, 1: 0.85}.items():
        table[week] = factor
    return table[weeks.iso_week] * (0.55 + 0.45 * weeks.working_days / 5)


def _pandemic(weeks: _Weeks) -> tuple[np.ndarray, np.ndarray]:
    """Referral and production factors of the 2020-2021 pandemic [-]."""
    knots = np.array(["2020-03-02", "2020-03-16", "2020-04-06", "2020-05-25", "2020-08-31", "2020-11-16",
                      "2021-01-11", "2021-03-01", "2021-06-07"], dtype="datetime64[D]").astype(np.int64)
    referral = np.array([1.0, 0.72, 0.53, 0.58, 0.88, 0.88, 0.90, 0.95, 1.0])
    production = np.array([1.0, 0.65, 0.47, 0.52, 0.85, 0.80, 0.82, 0.92, 1.0])
    return np.interp(weeks.monday, knots, referral), np.interp(weeks.monday, knots, production)


# ----------------------------------------------------------------------------- simulation
@dataclasses.dataclass(frozen=True)
class _WeekSeries:
    """Week-level series of one clinic over the whole horizon (drawn from a stream of their own)."""

    arrivals: np.ndarray  # referrals [patients/week]
    ref_season: np.ndarray  # referral season factor, mean 1 over the reference years [-]
    visit_demand: np.ndarray  # first-visit demand at the trend level [patients/week]
    op_demand: np.ndarray  # operation demand at the trend level [patients/week]
    visit_base: np.ndarray  # visit slots before production control, incl. those lost to no-shows [slots/week]
    op_base: np.ndarray  # operation capacity before production control [operations/week]
    prod_pandemic: np.ndarray  # production factor of the pandemic [-]
    visit_noise: np.ndarray  # [-]
    op_noise: np.ndarray  # [-]
    activity_noise: np.ndarray  # (6, n) standard normal draws for the activity measures
    emergency: np.ndarray  # [visits/week]
    acute: np.ndarray  # [operations/week]


def _week_series(p: _Profile, weeks: _Weeks, reference: _Weeks, rng_w: np.random.Generator) -> _WeekSeries:
    """Demand, capacity and noise of one clinic per week; draws from ``rng_w`` in a fixed order."""
    n_h = len(weeks.periods)
    ref_pandemic, prod_pandemic = _pandemic(weeks)
    # seasonal factors have mean 1 over the reference years, whatever weeks are simulated
    ref_season = _referral_season(weeks) / _referral_season(reference).mean()
    ar = np.empty(n_h)
    innovations = rng_w.standard_normal(n_h) * p.demand_noise
    ar[0] = innovations[0] / np.sqrt(1 - 0.9 ** 2)
    for i in range(1, n_h):  # AR(1) drift in demand, week-level (cheap)
        ar[i] = 0.9 * ar[i - 1] + innovations[i]
    lam = (p.referrals_per_week * (1 + p.referral_growth) ** weeks.years * ref_season * ref_pandemic
           * np.exp(ar))
    arrivals = rng_w.poisson(lam)

    cap_season = _capacity_season(weeks, p.summer_depth) / _capacity_season(reference, p.summer_depth).mean()
    # demand of each stage at the trend level (no season, no noise) [patients/week]
    visit_demand = p.referrals_per_week * (1 + p.referral_growth) ** weeks.years * (1 - p.forward_share)
    op_demand = visit_demand * p.decision_share
    demand_2019 = p.referrals_per_week * (1 - p.forward_share)  # at the trend origin
    visit_base = (p.visit_capacity * demand_2019 * (1 + p.visit_growth) ** weeks.years
                  / (1 - p.no_show_share) * cap_season)  # slots, including those lost to no-shows
    op_base = (p.operation_capacity * demand_2019 * p.decision_share * (1 + p.operation_growth) ** weeks.years
               * cap_season)
    if p.operation_change is not None:
        change_day = np.datetime64(p.operation_change[0], "D").astype(np.int64)
        op_base = op_base * np.where(weeks.monday >= change_day, p.operation_change[1], 1.0)
    visit_noise = 1 + 0.05 * rng_w.standard_normal(n_h)
    op_noise = 1 + 0.06 * rng_w.standard_normal(n_h)
    activity_noise = rng_w.standard_normal((6, n_h))
    growth = (1 + p.referral_growth) ** weeks.years
    emergency = rng_w.poisson(p.emergency_visits_per_week * growth * np.exp(0.05 * activity_noise[1]))
    acute = rng_w.poisson(p.acute_operations_per_week * growth * np.exp(0.05 * activity_noise[2]))
    return _WeekSeries(arrivals, ref_season, visit_demand, op_demand, visit_base, op_base, prod_pandemic,
                       visit_noise, op_noise, activity_noise, emergency, acute)


def _patient_draws(p: _Profile, weeks: _Weeks, arrivals: np.ndarray, n_sim: int, seed: int, k: int):
    """Uniforms and integers per patient, drawn per 52-week block from a stream of its own.

    So a later end leaves the earlier patients as they were. Returns ``(u, extra, op_extra,
    chosen_delay, spread)``: ``u`` rows 0 referral day, 1 priority, 2 chosen, 3 forwarded,
    4 visit day, 5 decision, 6 operation day, 7 removal day; ``extra`` rows 0 visit lead
    [days], 1 forwarding delay; ``op_extra`` [days]; ``chosen_delay`` [days] and ``spread``
    [days] for the visit (row 0) and the operation (row 1).
    """
    n = int(arrivals[:n_sim].sum())
    block_of_week = (weeks.monday - weeks.monday[0]) // 364  # 52-week blocks, drawn whole
    per_block = np.bincount(block_of_week, weights=arrivals).astype(np.int64)[:block_of_week[n_sim - 1] + 1]
    u, extra, op_extra, chosen_delay, spread = [], [], [], [], []
    for block, size in enumerate(per_block):
        rng_p = np.random.default_rng([seed, k, 3, block])
        u.append(rng_p.random((8, size)))
        extra.append(rng_p.integers(0, 8, (2, size)))
        op_extra.append(rng_p.integers(0, 15, size))
        chosen_delay.append(rng_p.integers(90, 200, (2, size)))
        spread.append(rng_p.exponential(p.booking_spread_days, (2, size)).astype(np.int64))
    u, extra, chosen_delay, spread = (np.concatenate(a, axis=1)[:, :n] for a in (u, extra, chosen_delay, spread))
    return u, extra, np.concatenate(op_extra)[:n], chosen_delay, spread


class _ClinicRun:
    """The state of one clinic's simulation: its patients, queues and weekly books.

    Built from the week-level series and the patient draws; :meth:`week` advances one
    week, drawing from ``rng`` (the queue-dependent stream) in a fixed order.
    """

    _VISIT_LEAD = np.array([0, 2, 14, 28])  # by priority 1..3 [days]
    _OP_LEAD = np.array([0, 3, 21, 35])  # [days]

    def __init__(self, p: _Profile, weeks: _Weeks, series: _WeekSeries, draws, n_sim: int,
                 rng: np.random.Generator):
        """Every referral of the first ``n_sim`` weeks, with its attributes; empty queues."""
        self.p, self.weeks, self.s, self.rng = p, weeks, series, rng
        u, extra, self.op_extra, self.chosen_delay, spread = draws
        self.u, self.spread = u, spread
        arrivals = series.arrivals[:n_sim]
        n = int(arrivals.sum())
        first = np.r_[0, np.cumsum(arrivals)]
        week_of = np.repeat(np.arange(n_sim), arrivals)
        self.ref = weeks.monday[week_of] + weeks.workday_offsets[
            week_of, (u[0, :n] * weeks.n_workdays[week_of]).astype(np.int64)]
        pri_cum = np.cumsum(p.priority_shares)[:-1]
        self.pri = (1 + (u[1, :n, None] > pri_cum).sum(axis=1)).astype(np.int8)
        self.chosen = (self.pri == 3) & (u[2, :n] < p.chosen_wait_share)
        # earliest bookable day, and the booking order within a priority (day number; lower = earlier)
        self.ready = self.ref + self._VISIT_LEAD[self.pri] + extra[0, :n] + self.chosen * self.chosen_delay[0, :n]
        self.key = self.ref + spread[0, :n]
        forwarded = u[3, :n] < p.forward_share
        self.rm = np.where(forwarded, np.minimum(self.ref + extra[1, :n] % 5, weeks.monday[week_of] + 6), -1)
        self.reason = np.where(forwarded, 1, 0).astype(np.int8)
        self.decides = u[5, :n] < p.decision_share
        self.fv = np.full(n, -1, np.int64)
        self.tr = np.full(n, -1, np.int64)
        self.decided = np.zeros(n, bool)
        self.external = np.zeros(n, bool)
        self.stay = np.flatnonzero(~forwarded)  # who joins the new-visit queue, in arrival order
        self.stay_first = np.searchsorted(self.stay, first)
        self.books = {m: np.zeros(n_sim, np.int64) for m in _DERIVABLE}
        self.books["referrals_in"] = arrivals.astype(np.int64)
        self.books["referrals_forwarded"] = np.bincount(week_of[forwarded], minlength=n_sim)
        self.books["no_shows_new"] = np.zeros(n_sim, np.int64)
        self.books["available_slots"] = np.zeros(n_sim, np.int64)
        self.visit_plan = np.zeros(n_sim)
        self.op_plan = np.zeros(n_sim)
        self.flex_visit = self.flex_op = 1.0
        self.queue_nv = np.empty(0, np.int64)
        self.queue_tr = np.empty(0, np.int64)

    def workday(self, w: int, ids: np.ndarray, which: int) -> np.ndarray:
        """A working day of week ``w`` for each patient, from their uniform ``u[which]`` [day number]."""
        weeks = self.weeks
        return weeks.monday[w] + weeks.workday_offsets[w, (self.u[which, ids] * weeks.n_workdays[w]).astype(np.int64)]

    def leave(self, queue: np.ndarray, w: int, hazard: float) -> tuple[np.ndarray, int]:
        """Patients leaving ``queue`` in week ``w`` (declined, other): the queue left and how many left."""
        gone = self.rng.random(queue.size) < hazard
        ids = queue[gone]
        self.rm[ids] = self.workday(w, ids, 7)  # any working day of the week (they waited since an earlier week)
        self.reason[ids] = np.where(self.rng.random(ids.size) < 0.6, 2, 3)  # declined, other
        return queue[~gone], ids.size

    def first_visits(self, w: int, d6: int, visit_cap: int) -> np.ndarray:
        """Book week ``w``'s visits by priority, then longest wait; returns who decided to be treated."""
        p, rng, books = self.p, self.rng, self.books
        unfilled = int(rng.binomial(visit_cap, 0.015))  # late cancellations nobody could take
        eligible = self.queue_nv[self.ready[self.queue_nv] <= d6]
        booked = min(visit_cap - unfilled, eligible.size)
        slot = eligible[np.lexsort((self.key[eligible], self.pri[eligible]))[:booked]]
        no_show = rng.random(booked) < p.no_show_share
        self.ready[slot[no_show]] = d6 + 1 + rng.integers(0, 14, int(no_show.sum()))
        seen = slot[~no_show]
        self.fv[seen] = np.maximum(self.workday(w, seen, 4), self.ref[seen])
        d_ids = seen[self.decides[seen]]
        self.decided[d_ids] = True
        self.ready[d_ids] = (self.fv[d_ids] + self._OP_LEAD[self.pri[d_ids]] + self.op_extra[d_ids]
                             + self.chosen[d_ids] * self.chosen_delay[1, d_ids])
        self.key[d_ids] = self.fv[d_ids] + self.spread[1, d_ids]
        books["new_visits"][w] = seen.size
        books["treatment_decisions"][w] = d_ids.size
        books["no_shows_new"][w] = booked - seen.size
        books["available_slots"][w] = visit_cap - booked
        self.queue_nv = self.queue_nv[self.fv[self.queue_nv] < 0]
        return d_ids

    def purchase(self, queue: np.ndarray, w: int, d6: int, since: np.ndarray, done: np.ndarray, which: int,
                 most: int) -> tuple[np.ndarray, int]:
        """External purchase for the longest waiters (waiting since ``since``), at most ``most`` a week.

        Only once ``purchase_trigger`` patients wait beyond the threshold; sets ``done`` (the
        day of the visit or operation) of those bought; returns the queue left and how many.
        """
        p = self.p
        cand = queue[(d6 - since[queue] > p.purchase_threshold_days) & ~self.chosen[queue]
                     & (self.ready[queue] <= d6)]
        if cand.size < p.purchase_trigger:
            cand = cand[:0]
        buy = cand[np.argsort(since[cand], kind="stable")[:most]]
        done[buy] = np.maximum(self.workday(w, buy, which), since[buy])
        self.external[buy] = True
        return queue[done[queue] < 0], buy.size

    def operations(self, w: int, d6: int, op_cap: int, d_ids: np.ndarray) -> None:
        """Week ``w``'s treatment queue: leavers, this week's decisions, operations by priority, purchases."""
        p, books = self.p, self.books
        queue_tr, books["removals_treatment_other"][w] = self.leave(self.queue_tr, w, p.renege_treatment)
        queue_tr = np.concatenate([queue_tr, d_ids])
        eligible = queue_tr[self.ready[queue_tr] <= d6]
        done = eligible[np.lexsort((self.key[eligible], self.pri[eligible]))[:op_cap]]
        self.tr[done] = np.maximum(self.workday(w, done, 6), self.fv[done])
        books["operations_elective"][w] = done.size
        queue_tr = queue_tr[self.tr[queue_tr] < 0]
        if p.purchase_operations_max:
            queue_tr, books["purchased_operations"][w] = self.purchase(
                queue_tr, w, d6, self.fv, self.tr, 6, p.purchase_operations_max)
        self.queue_tr = queue_tr

    def close_week(self, w: int, d6: int) -> None:
        """Stocks at Sunday 24:00, then next week's plan from the bookable backlog (production control)."""
        p, s, books = self.p, self.s, self.books
        queue_nv, queue_tr = self.queue_nv, self.queue_tr
        books["queue_new_visit"][w] = queue_nv.size
        books["queue_treatment"][w] = queue_tr.size
        books["waiting_over_90_new_visit"][w] = np.count_nonzero(
            (self.ref[queue_nv] < d6 - _GUARANTEE_DAYS) & ~self.chosen[queue_nv])
        books["waiting_over_90_treatment"][w] = np.count_nonzero(
            (self.fv[queue_tr] < d6 - _GUARANTEE_DAYS) & ~self.chosen[queue_tr])
        backlog = (np.count_nonzero(self.ready[queue_nv] <= d6 + 7)
                   / max(p.backlog_weeks_new_visit * s.visit_demand[w], 1.0))
        self.flex_visit = min(max(1 + p.control_gain * (backlog - 1), p.flex_min), p.flex_max)
        backlog = (np.count_nonzero(self.ready[queue_tr] <= d6 + 7)
                   / max(p.backlog_weeks_treatment * s.op_demand[w], 1.0))
        self.flex_op = min(max(1 + p.control_gain * (backlog - 1), p.flex_min), p.flex_max)

    def week(self, w: int) -> None:
        """Simulate week ``w``: leavers and arrivals, visits, purchases, operations, stocks, next plan."""
        p, s, books = self.p, self.s, self.books
        d6 = self.weeks.monday[w] + 6
        # patients leaving the new-visit queue (those waiting since an earlier week), then arrivals
        self.queue_nv, books["removals_new_visit_other"][w] = self.leave(self.queue_nv, w, p.renege_new_visit)
        self.queue_nv = np.concatenate([self.queue_nv, self.stay[self.stay_first[w]:self.stay_first[w + 1]]])
        # capacity planned by production control
        self.visit_plan[w] = round(s.visit_base[w] * self.flex_visit)
        self.op_plan[w] = round(s.op_base[w] * self.flex_op)
        visit_cap = max(0, round(self.visit_plan[w] * s.prod_pandemic[w] * s.visit_noise[w]))
        op_cap = max(0, round(self.op_plan[w] * s.prod_pandemic[w] * s.op_noise[w]))
        d_ids = self.first_visits(w, d6, visit_cap)
        if p.purchase_new_visits_max:  # external purchase of first visits for long waiters
            self.queue_nv, books["purchased_new_visits"][w] = self.purchase(
                self.queue_nv, w, d6, self.ref, self.fv, 4, p.purchase_new_visits_max)
        self.operations(w, d6, op_cap, d_ids)
        self.close_week(w, d6)


def _simulate_clinic(p: _Profile, weeks: _Weeks, reference: _Weeks, n_sim: int, seed: int, k: int):
    """Simulate one clinic over the first ``n_sim`` weeks; returns (books, patients, plans).

    ``books``: weekly counts kept by the simulation itself (flows of the week, queues at
    Sunday 24:00); ``patients``: one entry per referral (day numbers, -1 = no event);
    ``plans``: planned capacity and the week-level noise for the activity measures.
    """
    rng_w = np.random.default_rng([seed, k, 1])  # week-level series over the whole horizon
    rng = np.random.default_rng([seed, k, 2])  # draws that depend on the queue, week by week
    s = _week_series(p, weeks, reference, rng_w)
    run = _ClinicRun(p, weeks, s, _patient_draws(p, weeks, s.arrivals, n_sim, seed, k), n_sim, rng)
    for w in range(n_sim):
        run.week(w)

    patients = {"ref": run.ref, "pri": run.pri, "chosen": run.chosen, "fv": run.fv, "tr": run.tr, "rm": run.rm,
                "reason": run.reason, "decided": run.decided, "external": run.external}
    plans = {"visit_plan": run.visit_plan, "op_plan": run.op_plan, "noise": s.activity_noise[:, :n_sim],
             "years": weeks.years[:n_sim], "ref_season": s.ref_season[:n_sim],
             "visit_demand": s.visit_demand[:n_sim], "emergency": s.emergency[:n_sim].astype(float),
             "acute": s.acute[:n_sim].astype(float)}
    return run.books, patients, plans


def _activity(p: _Profile, books: dict, plans: dict) -> dict:
    """The weekly measures the waiting-list extract cannot give, from the simulation."""
    z = plans["noise"]
    new_visits = books["new_visits"].astype(float)
    return_visits = np.rint(new_visits * p.return_visit_ratio * np.exp(0.08 * z[0]))
    emergency = plans["emergency"]
    acute = plans["acute"]
    bed_days = np.round((books["operations_elective"] * p.los_elective_days + acute * p.los_acute_days)
                        * np.exp(0.08 * z[3]), 1)
    # unbooked return visits: a stock that swells after the summer and Christmas
    season = np.convolve(1 / plans["ref_season"].clip(0.5), np.ones(6) / 6, mode="full")[:len(new_visits)]
    unbooked = np.rint(p.return_visit_ratio * plans["visit_demand"] * 2.0 * season ** 3
                       * np.exp(0.1 * z[4]))
    no_shows = books["no_shows_new"] + np.rint(return_visits * p.no_show_share * np.exp(0.3 * z[5]))
    return {
        "return_visits": return_visits,
        "emergency_visits": emergency,
        "operations_acute": acute,
        "bed_days": bed_days,
        "queue_return_unbooked": unbooked,
        "planned_new_visits": plans["visit_plan"],
        "planned_operations": plans["op_plan"],
        "no_shows": no_shows.astype(float),
        "available_slots": books["available_slots"].astype(float),
    }


def _default_end() -> pd.Timestamp:
    """The Sunday that ends the latest complete ISO week (today, if today is a Sunday).

    A region's weekly extract on a Monday holds the weeks up to yesterday; the week in
    progress is not reported yet.
    """
    today = _dt.date.today()
    return pd.Timestamp(today - _dt.timedelta(days=(today.weekday() + 1) % 7))


def _fingerprint() -> str:
    """The generator's version and a hash of this file: any change to the code regenerates."""
    import hashlib

    return f"{DEMO_VERSION}-{hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12]}"


def _extract(clinic: str, k: int, patients: dict) -> pd.DataFrame:
    """The canonical waiting-list extract of one simulated clinic (one row per referral)."""
    def dates(days):
        out = days.astype("datetime64[D]").astype("datetime64[ns]")
        out[days < 0] = np.datetime64("NaT")
        return out

    n = patients["ref"].size
    fv = dates(patients["fv"])
    reasons = _REASONS[patients["reason"]]
    reasons = np.where(pd.isna(reasons), np.nan, reasons).astype(object)
    # pseudonymous ids: "P", the clinic's number, the arrival number (6 digits): unique in the region
    ids = np.char.add("P", (k * 1_000_000 + np.arange(1, n + 1)).astype(str))
    return pd.DataFrame({
        "patient_id": pd.Series(ids, dtype=object).astype(str),
        "clinic": pd.Series([clinic] * n, dtype=object).astype(str),
        "priority": pd.Series(patients["pri"].astype(str), dtype=object).astype(str),
        "referral_date": dates(patients["ref"]),
        "first_visit_date": fv,
        "decision_date": np.where(patients["decided"], fv, np.datetime64("NaT")).astype("datetime64[ns]"),
        "treatment_date": dates(patients["tr"]),
        "removal_date": dates(patients["rm"]),
        "removal_reason": pd.Series(reasons),
        "external": patients["external"],
        "patient_chosen_wait": patients["chosen"],
    })


def generate(*, seed=2019, start="2019-01-07", end=None) -> DemoData:
    """Simulate the demo region week by week.

    Parameters
    ----------
    seed : int, optional
        Random seed; the same seed, start and end give bit-for-bit the same data.
    start : date-like, optional
        First week of the weekly frame (any day of it). The simulation starts 104 weeks
        earlier so that the queues are already in a steady state. [date]
    end : date-like, optional
        Last week (any day of it); default the latest complete ISO week (ending last Sunday).
        Weeks before ``end`` do not change when ``end`` moves forward (up to 2035). [date]

    Returns
    -------
    DemoData
        ``clinics`` (metadata), ``weekly`` (every measure, all eight clinics, weeks
        ``start``..``end``), ``waiting_list`` (the extract of the four patient-level
        clinics: every referral from 104 weeks before ``start`` to ``end``).

    Raises
    ------
    ValueError
        If ``end`` lies before ``start``.

    Examples
    --------
    >>> demo = generate(end="2019-03-31")
    >>> demo.weekly["period"].min(), demo.weekly["period"].max()
    (Period('2019-01-07/2019-01-13', 'W-SUN'), Period('2019-03-25/2019-03-31', 'W-SUN'))
    >>> demo.weekly.groupby("clinic").size().unique().tolist()  # 2019-W02..W13
    [12]
    """
    start_week = pd.Timestamp(start).to_period(cal.WEEK_FREQ)
    end_week = (_default_end() if end is None else pd.Timestamp(end)).to_period(cal.WEEK_FREQ)
    if end_week < start_week:
        raise ValueError(f"end ({end_week}) lies before start ({start_week})")
    first_week = start_week - _WARMUP_WEEKS
    horizon = max(end_week, pd.Timestamp(_HORIZON_END).to_period(cal.WEEK_FREQ))
    weeks = _weeks(first_week, horizon)
    reference = _weeks(cal.period_from_iso(_REFERENCE_YEARS[0], 1),
                       cal.period_from_iso(_REFERENCE_YEARS[1], cal.weeks_in_year(_REFERENCE_YEARS[1])))
    n_sim = (end_week - first_week).n + 1
    out = slice(_WARMUP_WEEKS, n_sim)
    periods = weeks.periods[out]

    weekly_parts, extract_parts, meta = [], [], []
    for k, (clinic, p) in enumerate(_PROFILES.items(), start=1):
        books, patients, plans = _simulate_clinic(p, weeks, reference, n_sim, int(seed), k)
        activity = _activity(p, books, plans)
        columns = {m: books[m][out].astype(float) for m in _DERIVABLE}
        columns.update({m: v[out] for m, v in activity.items()})
        weekly_parts.append(pd.DataFrame({
            "clinic": pd.Series([clinic] * len(periods), dtype=object).astype(str),
            "period": pd.Series(periods),
            **{m: np.asarray(columns[m], dtype=np.float64) for m in _MEASURES},
        }))
        if p.level == "patient":  # everyone referred during the simulation (from 104 weeks before start)
            extract_parts.append(_extract(clinic, k, patients))
        meta.append({"clinic": clinic, "name": p.name, "level": p.level, "weekly_file": p.weekly_file,
                     "waiting_list_file": p.waiting_list_file, "description": p.description})

    weekly = pd.concat(weekly_parts, ignore_index=True)
    waiting_list = pd.concat(extract_parts, ignore_index=True)
    waiting_list = waiting_list.sort_values(["clinic", "referral_date", "patient_id"], kind="stable",
                                            ignore_index=True)
    clinics = pd.DataFrame(meta)
    return DemoData(clinics=clinics, weekly=weekly, waiting_list=waiting_list, seed=int(seed))


# ----------------------------------------------------------------------------- files
def _swedish(frame: pd.DataFrame, measures) -> pd.DataFrame:
    out = pd.DataFrame({"Klinik": frame["clinic"].to_numpy(),
                        "Vecka": np.asarray(cal.iso_week_label(frame["period"]))})
    for m in measures:
        values = pd.Series(frame[m].to_numpy(dtype=np.float64))
        if m == "bed_days":
            out[_SWEDISH_HEADERS[m]] = values.round(1)
        else:
            out[_SWEDISH_HEADERS[m]] = values.round().astype("Int64")
    return out


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Swedish Excel export style: UTF-8 with BOM, ';', decimal comma, CRLF."""
    frame.to_csv(path, sep=";", decimal=",", index=False, encoding="utf-8-sig", lineterminator="\r\n")


_README = """{region} - syntetiska demodata / synthetic demo data
============================================================

Alla filer i den här mappen är SYNTETISKA. De är framtagna av kps_analysis.demo
(generatorversion {version}, slumpfrö {seed}, veckor {first}..{last}) och beskriver
ingen verklig patient, klinik eller region.

All files in this folder are SYNTHETIC, generated by kps_analysis.demo (generator
version {version}, seed {seed}, weeks {first}..{last}). They describe no real
patient, clinic or region. Patient ids (P + 7 digits) are made-up labels.
The waiting-list extracts (*.parquet) hold every referral from {extract_first}
on, two years before the weekly files begin, so that the queues are full from the start.

Files:
{files}
"""


def write(out_dir, *, end=None, data: DemoData | None = None) -> list[Path]:
    """Write the demo files into ``out_dir`` (created if missing; files overwritten).

    Files: ``<clinic>_waiting_list.parquet`` and ``<clinic>_activity.csv`` for the
    patient-level clinics (ort_nord, ogon, gyn, uro); ``<clinic>_weekly.csv`` (ort_syd,
    onh, hud) and ``kir_weekly.xlsx`` with every measure for the aggregate clinics;
    ``README.txt`` saying the data are synthetic. CSVs are Swedish Excel exports
    (UTF-8 with BOM, ``;``, decimal comma, Swedish headers, ``Vecka`` as ``2024-W05``).

    Parameters
    ----------
    out_dir : path-like
        Target folder.
    end : date-like, optional
        Last week, passed to :func:`generate` when ``data`` is not given. [date]
    data : DemoData, optional
        Already generated data to write.

    Returns
    -------
    list of pathlib.Path
        The data files written (README.txt last).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if data is None:
        data = generate(end=end)
    written: list[Path] = []
    for row in data.clinics.itertuples(index=False):
        weekly = data.weekly[data.weekly["clinic"] == row.clinic]
        if row.level == "patient":
            extract = data.waiting_list[data.waiting_list["clinic"] == row.clinic].reset_index(drop=True)
            path = out_dir / row.waiting_list_file
            extract.loc[:, list(_EXTRACT_COLUMNS)].to_parquet(path, index=False)
            written.append(path)
            path = out_dir / row.weekly_file
            _write_csv(_swedish(weekly, _ACTIVITY), path)
            written.append(path)
        else:
            table = _swedish(weekly, _MEASURES)
            path = out_dir / row.weekly_file
            if path.suffix.lower() == ".xlsx":
                table.to_excel(path, index=False, sheet_name="Veckodata", engine="openpyxl")
            else:
                _write_csv(table, path)
            written.append(path)
    labels = cal.iso_week_label(pd.PeriodIndex(data.weekly["period"].agg(["min", "max"])))
    files = "\n".join(f"  {p.name}" for p in written)
    readme = out_dir / "README.txt"
    extract_first = (str(data.waiting_list["referral_date"].min().date()) if len(data.waiting_list) else "-")
    readme.write_text(_README.format(region=REGION_NAME, version=DEMO_VERSION, seed=data.seed,
                                     first=labels[0], last=labels[1],
                                     files=files, extract_first=extract_first), encoding="utf-8")
    written.append(readme)
    return written


def _expected_files() -> list[str]:
    names = []
    for p in _PROFILES.values():
        names += [f for f in (p.waiting_list_file, p.weekly_file) if f]
    return names + ["README.txt"]


def _is_current(out_dir: Path, end_label: str) -> bool:
    try:
        stamp = json.loads((out_dir / STAMP_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if stamp.get("generator_version") != _fingerprint() or stamp.get("end_week") != end_label:
        return False
    return all((out_dir / name).is_file() for name in _expected_files())


class _Lock:
    """An exclusive advisory lock on a sibling file (POSIX); a no-op where unavailable."""

    def __init__(self, path: Path):
        self.path = path
        self.handle = None

    def __enter__(self):
        try:
            import fcntl
        except ImportError:  # Windows: no lock; the rename below is still all-or-nothing
            return self
        self.handle = open(self.path, "a+")
        fcntl.flock(self.handle, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        if self.handle is not None:
            import fcntl

            fcntl.flock(self.handle, fcntl.LOCK_UN)
            self.handle.close()
        return False


def ensure_demo_data(out_dir, *, end=None) -> Path:
    """Make sure ``out_dir`` holds the current demo data; (re)write it if missing or stale.

    The data are stale when the stamp file (``.demo_stamp.json``: generator version and
    end week) is missing, names another version or another end week (a new ISO week has
    begun), or a file is missing. New data are written into a temporary sibling folder
    that is then renamed into place, so readers never see a half-written folder.

    Parameters
    ----------
    out_dir : path-like
        The demo data folder. It belongs to the demo: a stale one is replaced whole.
    end : date-like, optional
        Last week; default the latest complete ISO week. [date]

    Returns
    -------
    pathlib.Path
        ``out_dir``.

    Raises
    ------
    ValueError
        If ``out_dir`` exists, holds files and has no stamp (it is not a demo folder, and
        would otherwise be replaced).
    """
    out_dir = Path(out_dir)
    end_ts = _default_end() if end is None else pd.Timestamp(end)
    end_label = cal.iso_week_label([end_ts.to_period(cal.WEEK_FREQ)])[0]
    if _is_current(out_dir, end_label):
        return out_dir
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with _Lock(out_dir.parent / f".{out_dir.name}.lock"):
        if _is_current(out_dir, end_label):  # another process wrote it meanwhile
            return out_dir
        if out_dir.exists() and not (out_dir / STAMP_FILE).exists() and any(out_dir.iterdir()):
            raise ValueError(f"out_dir {out_dir} holds files but no {STAMP_FILE}: not a demo data folder, "
                             "refusing to replace it")
        tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
        tmp.chmod(0o755)  # mkdtemp makes it private; the data folder is an ordinary one
        try:
            write(tmp, end=end_ts)
            (tmp / STAMP_FILE).write_text(json.dumps({"generator_version": _fingerprint(), "end_week": end_label,
                                                      "seed": 2019}, indent=2) + "\n", encoding="utf-8")
            old = None
            if out_dir.exists():
                old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=out_dir.parent))
                old.rmdir()
                os.replace(out_dir, old)
            os.replace(tmp, out_dir)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
    return out_dir
