"""Headline figures of a clinic: the one-screen summary and ``tables/summary.csv``.

The columns are a contract (outputs/README.md, via docs/architecture.md): ``clinic``,
``queue_production_ratio_weeks``, ``share_over_90_days``, ``projected_breaches_12w``,
``capacity_gap_12w``, ``purchase_need_12w``, ``purchase_cost_12w``, ``escalation``.
A figure whose analysis has not been run is NaN (shown as "–"), never a guess.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .balance import coming_flows
from .purchase import guarantee_inputs
from .queue import mean_wait_for_share_within, queue_production_ratio_frame, waiting_list_pressure
from .seasonal import period_kind, periods_for_weeks, seasonal_profile
from .stages import STAGES
from .waits import ahead_column, project_breaches, renamed_keyword

__all__ = ["HEADLINE_COLUMNS", "STAGES", "clinic_period_totals", "headline", "ratio_by_stage", "guarantee_ratio_weeks",
           "situation_measures", "projected_breaches", "coming_flows", "seasonal_profiles", "region_totals",
           "region_purchase_by_month", "CHANGE_MEASURES", "week_changes"]

#: The patients over 90 days that the report's key figure, the index and the region overview show and
#: rank by: the peak within the fixed weeks if nothing is bought [patients] (``projected_breaches_12w``,
#: the count in the last fixed week, stays in ``summary.csv`` as its contract).
PEAK_BREACHES = "projected_breaches_peak_12w"

HEADLINE_COLUMNS = (
    "clinic",
    "queue_production_ratio_weeks",
    "share_over_90_days",
    "projected_breaches_12w",
    "capacity_gap_12w",
    "purchase_need_12w",
    "purchase_cost_12w",
    "escalation",
)

def clinic_period_totals(weekly: pd.DataFrame) -> pd.DataFrame:
    """The measures summed per clinic and period (over groups), sorted by clinic and period.

    ``weekly.groupby(["clinic", "period"]).sum(numeric_only=True, min_count=1)`` as a
    frame; a frame that already has one row per clinic and period (no ``group``) is only
    sorted, on integer codes, which for many clinics is several times faster than
    grouping on the clinic names.

    Examples
    --------
    >>> p = pd.Period("2024-01", "M")
    >>> f = pd.DataFrame({"clinic": ["b", "a", "a"], "period": [p, p + 1, p], "x": [1.0, 2.0, 3.0]})
    >>> clinic_period_totals(f).values.tolist()
    [['a', Period('2024-01', 'M'), 3.0], ['a', Period('2024-02', 'M'), 2.0], ['b', Period('2024-01', 'M'), 1.0]]
    """
    numeric = [c for c in weekly.columns if c not in ("clinic", "period")
               and pd.api.types.is_numeric_dtype(weekly[c]) and not pd.api.types.is_bool_dtype(weekly[c])]
    plain = ("group" not in weekly.columns and all(weekly[c].dtype in (np.float64, np.int64) for c in numeric)
             and isinstance(weekly["period"].dtype, pd.PeriodDtype) and not weekly["clinic"].isna().any())
    if plain and len(weekly):
        codes, _ = pd.factorize(weekly["clinic"], sort=True)
        ordinal = pd.PeriodIndex(weekly["period"].array).asi8
        order = np.lexsort((ordinal, codes))
        c, o = codes[order], ordinal[order]
        if not np.any((c[1:] == c[:-1]) & (o[1:] == o[:-1])):  # one row per clinic and period
            return weekly.take(order)[["clinic", "period"] + numeric].reset_index(drop=True)
    return weekly.groupby(["clinic", "period"], as_index=False, observed=True).sum(numeric_only=True, min_count=1)


def headline(weekly: pd.DataFrame, *, window_weeks: int = 4,
             breaches: pd.DataFrame | None = None, outlook: pd.DataFrame | None = None,
             guarantee_days: float = 90) -> pd.DataFrame:
    """One row per clinic of headline figures at each clinic's latest week.

    ``queue_production_ratio_weeks`` is the köproduktionskvot of the worse of the two
    stages (first visit, treatment): queue at the end of the latest week divided by the
    mean weekly production (own plus purchased) over the trailing ``window_weeks``,
    i.e. how many weeks of production are waiting. ``share_over_90_days`` is the share
    of all waiting patients (both stages) who have waited more than 90 days at that
    week's end (patients who chose to wait longer are not counted as over 90 days).

    Parameters
    ----------
    weekly : DataFrame
        Canonical weekly (W-SUN) or monthly (M) long frame (``clinic``, ``period`` and
        the stage columns that exist for the clinic; a visits-only clinic has no
        treatment stage). On monthly data the ratio is still in weeks (the queue over
        the production per day times 7).
    window_weeks : int
        Trailing window of the production average [weeks] (converted by days to months
        on monthly data: 4 weeks = 1 month).
    breaches : DataFrame, optional
        :func:`projected_breaches` output; ``projected_breaches_12w`` is the sum over
        stages of ``over_limit`` in its last week ahead [patients].
    outlook : DataFrame, optional
        :func:`kps_analysis.outlook.headline_figures` output: fills ``capacity_gap_12w``,
        ``purchase_need_12w``, ``purchase_cost_12w`` and ``escalation`` (and adds
        ``escalation_level``).
    guarantee_days : float
        The target wait of ``waiting_list_pressure`` [days].

    Returns
    -------
    DataFrame
        ``HEADLINE_COLUMNS`` plus ``period`` (the latest week), per-stage ratios
        ``queue_production_ratio_weeks_new_visit`` / ``_treatment`` [weeks], the queues
        ``queue_new_visit``, ``queue_treatment`` and ``waiting_over_90`` [patients],
        ``queue_change_1p`` (both queues now minus a period earlier: what changed since
        the last week, or month for monthly data) and ``queue_change_1w`` (the same for
        weekly data; NaN for monthly data, which cannot tell a week's change) [patients].
        Figures of analyses not yet run are NaN.

    Examples
    --------
    >>> p = pd.period_range("2024-01-01", periods=4, freq="W-SUN")
    >>> w = pd.DataFrame({"clinic": "a", "period": p, "queue_new_visit": [100.0] * 4,
    ...                   "new_visits": [20.0] * 4, "purchased_new_visits": [5.0] * 4,
    ...                   "waiting_over_90_new_visit": [0, 0, 0, 10.0]})
    >>> h = headline(w)
    >>> float(h.loc[0, "queue_production_ratio_weeks"]), float(h.loc[0, "share_over_90_days"])
    (4.0, 0.1)
    """
    if "clinic" not in weekly.columns or "period" not in weekly.columns:
        raise ValueError("weekly must have 'clinic' and 'period' columns")
    totals = clinic_period_totals(weekly)
    last = totals.groupby("clinic")["period"].transform("max") == totals["period"]
    out = totals.loc[last, ["clinic", "period"]].reset_index(drop=True)

    ratios = ratio_by_stage(totals, window_weeks=window_weeks)
    latest = ratios.merge(out[["clinic", "period"]], on=["clinic", "period"])
    wide = latest.pivot(index="clinic", columns="stage", values="queue_production_ratio_weeks")
    ratio_cols, queue_cols, over_cols = [], [], []
    for stage, spec in STAGES.items():
        queue_col, over_col = spec.queue, spec.over_limit
        # a queue-only unit (a waiting list without production data) still has its queue
        # and its share over 90 days, only no köproduktionskvot
        queue_only = queue_col in totals.columns and not any(c in totals.columns for c in spec.production)
        if stage not in wide.columns and not queue_only:
            continue
        if stage in wide.columns:
            name = f"queue_production_ratio_weeks_{stage}"
            out[name] = out["clinic"].map(wide[stage])
            ratio_cols.append(name)
        queue_cols.append(queue_col)
        if over_col in totals.columns:
            over_cols.append(over_col)

    at_last = totals.loc[last].set_index("clinic")
    for col in queue_cols:
        out[col] = out["clinic"].map(at_last[col])
    out["queue_production_ratio_weeks"] = out[ratio_cols].max(axis=1, skipna=True) if ratio_cols else np.nan
    waiting = out[queue_cols].sum(axis=1, min_count=1) if queue_cols else pd.Series(np.nan, index=out.index)
    over = (at_last[over_cols].sum(axis=1, min_count=1).reindex(out["clinic"]).to_numpy()
            if over_cols else np.full(len(out), np.nan))
    out["waiting_over_90"] = over
    # what changed since last week: the waiting list (both stages) against the week before
    if queue_cols:
        waiting_all = totals[queue_cols].sum(axis=1, min_count=1)
        previous = totals.assign(_w=waiting_all).sort_values(["clinic", "period"]).groupby("clinic")["_w"].nth(-2)
        prev = totals.loc[previous.index, ["clinic"]].assign(_w=previous.to_numpy()).set_index("clinic")["_w"]
        now = out[queue_cols].sum(axis=1, min_count=1).to_numpy()
        out["queue_change_1p"] = now - out["clinic"].map(prev).to_numpy()
    else:
        out["queue_change_1p"] = np.nan
    # since last week: known only from weekly data (a month's change is not a week's)
    weekly_data = len(totals) == 0 or period_kind(totals["period"], "weekly") == "W"
    out["queue_change_1w"] = out["queue_change_1p"] if weekly_data else np.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(waiting.to_numpy(dtype=float) > 0, over / waiting.to_numpy(dtype=float), np.nan)
    out["share_over_90_days"] = share
    # NHSRwaitinglist's waiting-list pressure, 2 · mean wait / target wait, with the mean
    # wait estimated by Little's law as the köproduktionskvot [weeks] × 7 [days/week]
    ratio_days = out["queue_production_ratio_weeks"].to_numpy(dtype=float) * 7.0
    out["waiting_list_pressure"] = np.where(np.isnan(ratio_days), np.nan,
                                            waiting_list_pressure(np.nan_to_num(ratio_days), guarantee_days))
    if breaches is not None and len(breaches):
        ahead = ahead_column(breaches)
        last_week = breaches[breaches[ahead] == breaches[ahead].max()]
        out["projected_breaches_12w"] = out["clinic"].map(last_week.groupby("clinic")["over_limit"].sum())
    else:
        out["projected_breaches_12w"] = np.nan
    for col in ("capacity_gap_12w", "purchase_need_12w", "purchase_cost_12w"):
        out[col] = np.nan
    out["escalation"] = None
    if outlook is not None and len(outlook):
        figures = outlook.set_index("clinic")
        for col in ("capacity_gap_12w", "purchase_need_12w", "purchase_cost_12w", "escalation", "escalation_level"):
            if col in figures.columns:
                out[col] = out["clinic"].map(figures[col])
    first = list(HEADLINE_COLUMNS) + ["period"]
    return out[first + [c for c in out.columns if c not in first]]


#: Measures of "what changed since last week", in report order (``waiting_over_90`` is
#: both stages together, ``queue_production_ratio_weeks`` the worse stage's ratio).
CHANGE_MEASURES = ("referrals_in", "new_visits", "treatment_decisions", "operations_elective",
                   "queue_new_visit", "queue_treatment", "waiting_over_90", "queue_production_ratio_weeks")


def week_changes(weekly: pd.DataFrame, *, usual_weeks: int = 4, spread_weeks: int = 52,
                 window_weeks: int = 4, threshold: float = 2.0) -> pd.DataFrame:
    """What changed since last week (or month): each clinic's latest period against the one before.

    For each clinic, measure (:data:`CHANGE_MEASURES` present in ``weekly``) and the
    clinic's latest week ``t``::

        change  = x[t] - x[t-1]                                    [patients or weeks]
        usual   = mean of x[t-usual_weeks .. t-1]                  [patients or weeks]
        unusual = |change| > threshold × sd of the week-on-week changes
                  over the ``spread_weeks`` weeks before t          (a 2-sigma change)

    ``last_period`` is NaN when the period before is not reported (a gap), and
    ``unusual`` is False when fewer than 8 earlier changes exist to judge by. On monthly
    data the changes are month on month, the spread window becomes months by its days
    (52 weeks = 12 months) and the usual level is the mean of as many months before as
    ``usual_weeks`` says weeks (four months, as the report says: by days it would be the
    one month before, the same number as ``last_period``). A measure that is
    never above zero for a clinic (treatment at a visits-only clinic) is left out.

    Parameters
    ----------
    weekly : DataFrame
        Canonical long frame (``clinic``, ``period`` W-SUN or M, measures).
    usual_weeks : int
        Weeks before ``t`` whose mean is the usual level [weeks].
    spread_weeks : int
        Weeks of week-on-week changes that define a usual change [weeks].
    window_weeks : int
        Production window of the köproduktionskvot [weeks].
    threshold : float
        A change larger than this many standard deviations is unusual [-].

    Returns
    -------
    DataFrame
        ``clinic``, ``period`` (the latest period), ``measure``, ``this_period``,
        ``last_period``, ``change``, ``usual``, ``unusual`` (bool), ``direction``
        ("up", "down" or "same"), and ``this_week``/``last_week``: the same values
        under their old names (deprecated: read ``this_period``/``last_period``).

    Examples
    --------
    Ten quiet weeks with a queue of 100 ± 1, then a jump to 130:

    >>> p = pd.period_range("2024-01-01", periods=11, freq="W-SUN")
    >>> w = pd.DataFrame({"clinic": "a", "period": p,
    ...                   "queue_new_visit": [100.0, 101, 100, 101, 100, 101, 100, 101, 100, 101, 130]})
    >>> c = week_changes(w).iloc[0]
    >>> c["measure"], [float(c[k]) for k in ("last_period", "this_period", "change", "usual")], bool(c["unusual"])
    ('queue_new_visit', [101.0, 130.0, 29.0, 100.5], True)
    """
    if "clinic" not in weekly.columns or "period" not in weekly.columns:
        raise ValueError("weekly must have 'clinic' and 'period' columns")
    totals = clinic_period_totals(weekly)
    over = [c for c in ("waiting_over_90_new_visit", "waiting_over_90_treatment") if c in totals.columns]
    if over:
        totals["waiting_over_90"] = totals[over].sum(axis=1, min_count=1)
    ratios = ratio_by_stage(totals, window_weeks=window_weeks)
    if len(ratios):
        worst = ratios.groupby(["clinic", "period"], observed=True)["queue_production_ratio_weeks"].max()
        totals = totals.merge(worst.reset_index(), on=["clinic", "period"], how="left")
    measures = [m for m in CHANGE_MEASURES if m in totals.columns]
    columns = ["clinic", "period", "measure", "this_period", "last_period", "change", "usual", "unusual",
               "direction", "this_week", "last_week"]
    if not measures:
        return pd.DataFrame(columns=columns)
    kind = period_kind(totals["period"], "weekly") if len(totals) else "W"
    usual_n, spread_n = int(usual_weeks), periods_for_weeks(spread_weeks, kind)
    long = (totals.melt(id_vars=["clinic", "period"], value_vars=measures, var_name="measure", value_name="x")
            .sort_values(["clinic", "measure", "period"], kind="stable").reset_index(drop=True))
    # a measure the clinic never has (treatment at a visits-only clinic) is left out
    long = long[long.groupby(["clinic", "measure"], sort=False)["x"].transform("max") > 0].reset_index(drop=True)
    g = long.groupby(["clinic", "measure"], sort=False)
    ordinal = pd.Series(pd.PeriodIndex(long["period"]).asi8, index=long.index)  # weeks since epoch
    gap = ordinal.groupby([long["clinic"], long["measure"]], sort=False).diff().to_numpy(dtype=float)
    prev = g["x"].shift(1).where(gap == 1)
    long["last_period"] = prev
    long["change"] = long["x"] - prev
    long["usual"] = g["x"].transform(lambda x: x.shift(1).rolling(usual_n, min_periods=1).mean())
    spread = long.groupby(["clinic", "measure"], sort=False)["change"].transform(
        lambda c: c.shift(1).rolling(spread_n, min_periods=8).std())
    long["unusual"] = (long["change"].abs() > threshold * spread).fillna(False).astype(bool)
    latest = long.groupby("clinic")["period"].transform("max") == long["period"]
    out = long[latest].rename(columns={"x": "this_period"})
    out["this_week"], out["last_week"] = out["this_period"], out["last_period"]  # the old names
    out["direction"] = np.select([out["change"] > 0, out["change"] < 0], ["up", "down"], "same")
    order = {m: i for i, m in enumerate(CHANGE_MEASURES)}
    out = out.assign(_o=out["measure"].map(order)).sort_values(["clinic", "_o"]).drop(columns="_o")
    return out[columns].reset_index(drop=True)


def ratio_by_stage(weekly: pd.DataFrame, *, window_weeks: int = 4) -> pd.DataFrame:
    """Köproduktionskvot per clinic, week and stage (first visit, treatment), long format.

    For each stage whose queue and production columns exist,
    :func:`kps_analysis.queue.queue_production_ratio_frame` with the stage's own plus
    purchased production; stages a clinic does not run (production never above zero,
    e.g. operations at a visits-only clinic) are left out for that clinic.

    Parameters
    ----------
    weekly : DataFrame
        Canonical weekly frame.
    window_weeks : int
        Trailing window of the production average [weeks].

    Returns
    -------
    DataFrame
        ``clinic``, ``period``, ``stage``, ``queue`` [patients], ``production_per_week``
        [patients/week], ``queue_production_ratio_weeks`` [weeks].

    Examples
    --------
    >>> p = pd.period_range("2024-01-01", periods=2, freq="W-SUN")
    >>> w = pd.DataFrame({"clinic": "a", "period": p, "queue_new_visit": [30.0, 40.0],
    ...                   "new_visits": [10.0, 10.0], "queue_treatment": [0.0, 0.0],
    ...                   "operations_elective": [0.0, 0.0]})
    >>> ratio_by_stage(w, window_weeks=2)[["stage", "queue_production_ratio_weeks"]].values.tolist()
    [['new_visit', nan], ['new_visit', 4.0]]
    """
    totals = clinic_period_totals(weekly)
    parts = []
    for stage, spec in STAGES.items():
        queue_col = spec.queue
        cols = [c for c in spec.production if c in totals.columns]
        if queue_col not in totals.columns or not cols:
            continue
        codes, _ = pd.factorize(totals["clinic"])
        per_clinic = np.bincount(codes, weights=np.nan_to_num(totals[cols].to_numpy(dtype=float)).sum(axis=1))
        active = pd.Series(per_clinic[codes] > 0, index=totals.index)
        if not active.any():
            continue
        r = queue_production_ratio_frame(totals.loc[active.to_numpy(), ["clinic", "period", queue_col, *cols]],
                                         queue=queue_col, production=cols,
                                         window_weeks=window_weeks)
        parts.append(r.assign(stage=stage))
    if not parts:
        return pd.DataFrame(columns=["clinic", "period", "stage", "queue", "production_per_week",
                                     "queue_production_ratio_weeks"])
    out = pd.concat(parts, ignore_index=True)
    return out[["clinic", "period", "stage", "queue", "production_per_week", "queue_production_ratio_weeks"]]


def guarantee_ratio_weeks(guarantee_days: float = 90, share: float = 0.95) -> float:
    """The köproduktionskvot that matches the guarantee target [weeks].

    With exponentially distributed waits, a share ``share`` waits within ``guarantee_days``
    when the mean wait is ``guarantee_days / -ln(1 - share)``
    (:func:`kps_analysis.queue.mean_wait_for_share_within`); by Little's law the mean
    wait equals queue / throughput, i.e. the ratio, here in weeks.

    Examples
    --------
    >>> round(guarantee_ratio_weeks(90, 0.95), 2)
    4.29
    """
    return float(mean_wait_for_share_within(guarantee_days, share)) / 7.0


def situation_measures(weekly: pd.DataFrame) -> list[str]:
    """The measures of the "where are we" section that the clinic actually reports.

    Inflow, production and queue per stage, in flow order, leaving out measures that
    are absent or never above zero (a visits-only clinic has no operations).

    Examples
    --------
    >>> w = pd.DataFrame({"referrals_in": [3.0], "new_visits": [2.0], "operations_elective": [0.0]})
    >>> situation_measures(w)
    ['referrals_in', 'new_visits']
    """
    order = ["referrals_in", "new_visits", "queue_new_visit", "operations_elective", "queue_treatment"]
    return [m for m in order if m in weekly.columns and (weekly[m].fillna(0) > 0).any()]


@renamed_keyword("limit_days", "guarantee_days")
def projected_breaches(weekly: pd.DataFrame, waiting_list: pd.DataFrame | None = None, *,
                       horizon_weeks: int = 12, guarantee_days: float = 90) -> pd.DataFrame:
    """Patients past the guarantee limit week by week ahead if nothing changes and nothing is bought.

    Per clinic and stage: who waits now (the patient-level snapshot at the end of the
    latest week when ``waiting_list`` is given, served by priority then longest wait;
    otherwise the first-in-first-out reconstruction from the weekly aggregates,
    :func:`kps_analysis.waits.waiting_from_aggregates`), the coming weeks' inflow and
    own capacity from :func:`kps_analysis.balance.naive_flows` (same weeks last year,
    scaled by the recent trend), projected with :func:`kps_analysis.waits.project_breaches`.

    Parameters
    ----------
    weekly : DataFrame
        Canonical weekly frame of one or many clinics.
    waiting_list : DataFrame, optional
        Canonical patient-level extract of (some of) the clinics.
    horizon_weeks : int
        Weeks ahead [weeks].
    guarantee_days : float
        Guarantee limit [days].

    Returns
    -------
    DataFrame
        ``clinic``, ``stage``, ``week_ahead`` (monthly data: ``period_ahead`` and
        ``period_days``), ``inflow``, ``served`` [patients/period], ``queue``,
        ``over_limit`` [patients] and ``source`` ("patient-level" or "aggregates").
        On monthly data ``horizon_weeks`` becomes months by days (12 weeks = 3 months).
    """
    waiting, flows = guarantee_inputs(weekly, waiting_list, horizon_weeks=horizon_weeks)
    if flows.empty:
        ahead = "period_ahead" if "period_ahead" in flows.columns else "week_ahead"
        return pd.DataFrame(columns=["clinic", "stage", ahead, "inflow", "served", "queue",
                                     "over_limit", "source"])
    # aggregate clinics: within the limit first in, first out, the reported over-limit patients after
    # them (waits.aggregate_classes)
    out = project_breaches(waiting, flows, guarantee_days=guarantee_days, order="priority")
    patient_clinics = set(waiting_list["clinic"].unique()) if waiting_list is not None else set()
    out["source"] = np.where(out["clinic"].isin(patient_clinics), "patient-level", "aggregates")
    return out.sort_values(["clinic", "stage", ahead_column(out)]).reset_index(drop=True)


def seasonal_profiles(weekly: pd.DataFrame, *, exclude_years=()) -> pd.DataFrame:
    """Weekly seasonal profiles of inflow and production (the measures the clinic runs).

    :func:`kps_analysis.seasonal.seasonal_profile` of ``referrals_in``, ``new_visits``
    and ``operations_elective`` (where reported and above zero), concatenated:
    ``clinic``, ``measure``, ``season`` (ISO week), ``factor`` [-, mean 1].
    """
    parts = [seasonal_profile(weekly, measure=m, exclude_years=tuple(exclude_years))
             for m in ("referrals_in", "new_visits", "operations_elective")
             if m in weekly.columns and (weekly[m].fillna(0) > 0).any()]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=["clinic", "measure", "season", "factor"])


def region_totals(summaries: pd.DataFrame) -> pd.DataFrame:
    """Region totals of the clinics' headline counts [patients].

    Sums of ``queue_new_visit``, ``queue_treatment``, ``waiting_over_90`` and
    ``projected_breaches_12w`` and ``projected_breaches_peak_12w`` (each clinic's peak; the
    overview's figure) over the clinics (a clinic without a stage counts 0), and
    the region's share over 90 days = Σ over 90 / Σ waiting counted against the guarantee
    (``waiting_counted`` of the planning model where present: chosen waits left out, as
    in every clinic's share; else the queues).

    Examples
    --------
    >>> s = pd.DataFrame({"clinic": ["a", "b"], "queue_new_visit": [100.0, 50.0],
    ...                   "queue_treatment": [50.0, float("nan")], "waiting_over_90": [15.0, 0.0],
    ...                   "projected_breaches_12w": [4.0, 1.0]})
    >>> region_totals(s).iloc[0].to_dict()  # doctest: +NORMALIZE_WHITESPACE
    {'clinics': 2.0, 'queue_new_visit': 150.0, 'queue_treatment': 50.0, 'waiting_over_90': 15.0,
     'projected_breaches_12w': 5.0, 'share_over_90_days': 0.075}
    """
    cols = [c for c in ("queue_new_visit", "queue_treatment", "waiting_over_90", "projected_breaches_12w",
                        PEAK_BREACHES) if c in summaries.columns]
    totals = summaries[cols].sum(min_count=0)
    out = {"clinics": float(len(summaries))} | {c: float(totals[c]) for c in cols}
    if "waiting_counted" in summaries.columns:
        # the planning model's definition: patients who chose to wait longer left out of both
        waiting = float(summaries["waiting_counted"].sum())
    else:
        waiting = sum(out.get(c, 0.0) for c in ("queue_new_visit", "queue_treatment"))
    out["share_over_90_days"] = out.get("waiting_over_90", np.nan) / waiting if waiting else np.nan
    flags = [f"{c}_suppressed" for c in cols if f"{c}_suppressed" in summaries.columns]
    if flags:  # a clinic's count hidden by the suppression rule is not in the sums above: say so
        hidden = summaries[flags].fillna(False).astype(bool).any(axis=1)
        out["clinics_with_hidden_counts"] = float(hidden.sum())
    return pd.DataFrame([out])


def region_purchase_by_month(purchases: pd.DataFrame) -> pd.DataFrame:
    """The region's purchase need and cost per month and policy, summed over clinics.

    ``purchases`` is the clinics' ``purchase_need.csv`` tables concatenated
    (:func:`kps_analysis.purchase.purchase_need` output with ``month``).

    Returns
    -------
    DataFrame
        ``month``, ``policy``, ``purchase`` [patients], ``cost_external_sek``,
        ``cost_internal_sek`` [SEK], ``clinics`` (clinics that buy that month).

    Examples
    --------
    >>> p = pd.DataFrame({"clinic": ["a", "b", "a"], "month": ["2026-12"] * 3,
    ...                   "policy": "guarantee", "purchase": [2.0, 3.0, 0.0],
    ...                   "cost_external_sek": [20.0, 30.0, 0.0], "cost_internal_sek": [10.0, 15.0, 0.0]})
    >>> region_purchase_by_month(p).iloc[0].to_dict()  # doctest: +NORMALIZE_WHITESPACE
    {'month': '2026-12', 'policy': 'guarantee', 'purchase': 5.0, 'cost_external_sek': 50.0,
     'cost_internal_sek': 25.0, 'clinics': 2}
    """
    buying = purchases.assign(_buys=purchases["clinic"].where(purchases["purchase"] > 0))
    out = buying.groupby(["month", "policy"], as_index=False).agg(
        purchase=("purchase", "sum"), cost_external_sek=("cost_external_sek", "sum"),
        cost_internal_sek=("cost_internal_sek", "sum"), clinics=("_buys", "nunique"))
    return out.sort_values(["policy", "month"]).reset_index(drop=True)
