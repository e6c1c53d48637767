"""The report's analytics beside the planning model: computed once for every clinic of a run.

A clinic report shows, besides its planning model (:mod:`kps_analysis.planning`), views of
its own history: the changes since last period, the köproduktionskvot over time, the
seasonal profiles, the year-over-year curves, the flow balance and conversion rates, the
forecast's backtest and the data-quality findings. ``kps run`` computes them for all
clinics at once (:func:`compute`: one call per analysis over the long frame, grouped only
by what the parameters make differ), stores each clinic's part beside its model
(:func:`kps_analysis.store.write_analytics`) and the notebook only reads and shows them.
Run on its own, the notebook gets the same frames from the same call
(:func:`kps_analysis.region.clinic_model`: the analyses of :data:`POOLED` over the region,
the others for its clinic).

Each entry of :data:`ANALYSES` names the package function that makes it; every frame is
long, keyed by ``clinic``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping

import pandas as pd

__all__ = ["ANALYSES", "compute", "compute_one"]


def _get(p, key, default=None):
    try:
        value = p.get(key) if isinstance(p, Mapping) else getattr(p, key, default)
    except (KeyError, AttributeError):
        value = None
    return default if value is None else value


def _clinic_id(p) -> str:
    return str(getattr(p, "clinic_id", None) or (p.get("clinic") if isinstance(p, Mapping) else "") or "")


def _changes(weekly, p, model=None):
    from .summary import week_changes

    return week_changes(weekly, window_weeks=int(_get(p, "ratio_window_weeks", 4)))


def _ratios(weekly, p, model=None):
    from .summary import ratio_by_stage

    return ratio_by_stage(weekly, window_weeks=int(_get(p, "ratio_window_weeks", 4)))


def _seasonal(weekly, p, model=None):
    from .summary import seasonal_profiles

    return seasonal_profiles(weekly, exclude_years=tuple(_get(p, "history_exclude_years", ()) or ()))


def _year_over_year(weekly, p, model=None):
    from .seasonal import year_over_year
    from .summary import situation_measures

    parts = []
    for measure in situation_measures(weekly):
        yoy = year_over_year(weekly, measure, years=3)
        parts.append(yoy.assign(measure=measure) if "measure" not in yoy.columns else yoy)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["clinic", "measure"])


def _flow(weekly, p, model=None):
    from .balance import flow_balance

    return flow_balance(weekly, window_weeks=int(_get(p, "ratio_window_weeks", 4)))


def _rates(weekly, p, model=None):
    from .balance import conversion_rates

    return conversion_rates(weekly)


def _findings(weekly, p, model=None):
    """:func:`kps_analysis.data.validate` per clinic (a blank column is a finding of the clinic
    whose file has it, whatever the others have), the freshness of its data (a warning
    when they end more than ``stale_after_days`` before the run date, with both dates) and
    the capacity check's findings (resources against demonstrated production beyond the
    tolerance, :func:`kps_analysis.planning.capacity_basis`)."""
    from .data import validate
    from .report import format_against, format_count, label

    lang = "en" if str(_get(p, "language", "sv")) == "en" else "sv"   # the report's language
    parts = [validate(g.dropna(axis=1, how="all"), source=str(cid),
                      plausible_from=_get(p, "plausible_from"), max_count_per_period=_get(p, "max_count_per_period"))
             for cid, g in weekly.groupby("clinic", sort=False)]
    if model is not None and "stale" in model.settings.columns:
        fresh = model.settings.drop_duplicates("clinic")
        fresh = fresh[fresh["stale"].astype("boolean").fillna(False).astype(bool)]
        if len(fresh):
            parts.append(pd.DataFrame({
                "severity": "warning", "clinic": fresh["clinic"].to_numpy(), "period": None, "column": "period",
                "message": [label("finding.stale", lang, end=pd.Timestamp(e).date(), days=int(a),
                                  start=pd.Timestamp(s).date())
                            for e, a, s in zip(fresh["data_end"], fresh["data_age_days"], fresh["plan_start"])]}))
    if model is not None and len(model.capacity_check) and "finding" in model.capacity_check.columns:
        # the capacity check's finding is a data-quality finding too (the capacity section says so)
        found = model.capacity_check[model.capacity_check["finding"].astype(bool)]
        if len(found):
            parts.append(pd.DataFrame({
                "severity": "warning", "clinic": found["clinic"].to_numpy(), "period": None, "column": "resources",
                "message": [label("finding.capacity", lang, stage=label(f"value.stage.{s}", lang),
                                  resources=format_count(r, language=lang, decimals=1),
                                  shown=format_count(d, language=lang, decimals=1),
                                  diff=format_against(100 * (r / d - 1) if d > 0 else float("nan"), 100 * t,
                                                      language=lang),
                                  tolerance=f"{100 * t:g}")
                            for s, r, d, t in zip(found["stage"], found["resources_per_week"],
                                                  found["demonstrated_per_week"], found["tolerance"])]}))
    if model is not None:
        parts.append(_unplanned_stages(weekly, model, lang))
    parts = [f for f in parts if len(f)]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=["severity", "clinic", "period", "column", "message"])


def _unplanned_stages(weekly: pd.DataFrame, model, lang: str) -> pd.DataFrame:
    """A stage the clinic has (resources or production of it, :attr:`capacity_check`) that its
    plan lacks because the data lack its inflow or queue columns: a warning naming them
    (without it the operations left the plan, the purchase and the agreement without a word)."""
    from .data.headers import HEADER_ALIASES
    from .report import format_count, label
    from .stages import STAGES

    check, plan = model.capacity_check, model.plan
    if not len(check) or not {"clinic", "stage"} <= set(check.columns):
        return pd.DataFrame()
    planned = set(zip(plan["clinic"].astype(str), plan["stage"].astype(str))) if len(plan) else set()
    has = check[["resources_per_week", "demonstrated_per_week"]].fillna(0.0).max(axis=1) > 0
    here = set(weekly["clinic"].astype(str))
    rows = []
    for r, used in zip(check.itertuples(index=False), has):   # a row per clinic and stage: a handful
        if not used or str(r.clinic) not in here or (str(r.clinic), str(r.stage)) in planned or r.stage not in STAGES:
            continue
        spec = STAGES[r.stage]
        own = weekly[weekly["clinic"].astype(str) == str(r.clinic)]
        missing = [c for c in (spec.inflow, spec.queue, spec.own)
                   if c not in own.columns or own[c].isna().all()]
        if not missing:
            continue
        shown = r.demonstrated_per_week if r.demonstrated_per_week == r.demonstrated_per_week else r.resources_per_week
        stage = label(f"value.stage.{r.stage}", lang).lower()
        # the header a file gives the column (the kit's first spelling, as the demo files have it) and its id
        named = ", ".join(f"{HEADER_ALIASES[c][0]} ({c})" if c in HEADER_ALIASES else c for c in missing)
        rows.append({"severity": "warning", "clinic": r.clinic, "period": None, "column": ", ".join(missing),
                     "message": label("finding.stage_not_planned", lang, stage=stage, columns=named,
                                      shown=format_count(shown, language=lang, decimals=1))})
    return pd.DataFrame(rows)


#: How far ahead the report's accuracy backtest scores the referral forecast [weeks]: a quarter
#: (13 weeks; 3 months on monthly data, :func:`accuracy_horizon`).
ACCURACY_WEEKS = 13


def accuracy_horizon(weekly: pd.DataFrame) -> int:
    """The accuracy backtest's horizon in the data's periods: :data:`ACCURACY_WEEKS` weeks, or
    as many months by days (3) [periods].

    >>> w = pd.DataFrame({"period": pd.period_range("2026-01", periods=3, freq="M")})
    >>> weeks = w.assign(period=pd.period_range("2026-01-05", periods=3, freq="W-SUN"))
    >>> accuracy_horizon(w), accuracy_horizon(weeks)
    (3, 13)
    """
    from .seasonal import period_kind, periods_for_weeks

    try:
        kind = period_kind(weekly["period"]) if len(weekly) else "W"
    except (KeyError, ValueError):
        kind = "W"
    return periods_for_weeks(ACCURACY_WEEKS, kind)


def _accuracy(weekly, p, model=None):
    """The backtest of the referral forecast the plan rests on: its chosen method against
    the seasonal naive, a quarter ahead (:func:`accuracy_horizon`) from 4 origins [WAPE]."""
    from .forecast import backtest_origin

    jobs = _accuracy_jobs(weekly, p, model)
    if jobs is None:
        return pd.DataFrame(columns=["clinic", "method", "horizon", "wape", "n"])
    return _accuracy_table([[backtest_origin(j) for j in origins] for origins in jobs])


def _accuracy_jobs(weekly, p, model=None) -> list | None:
    """The accuracy backtest as :func:`kps_analysis.forecast.backtest_jobs`, one list of origin jobs
    per method the clinics' forecasts chose (None: no referral forecast to score)."""
    from .forecast import backtest_jobs, method_of

    fc = model.forecasts.get("referrals_in") if model is not None else None
    if fc is None or not len(fc) or "referrals_in" not in weekly.columns:
        return None
    chosen = fc.drop_duplicates("clinic").set_index("clinic")["model"].map(method_of)
    levels = tuple(_get(_get(p, "forecast", {}) or {}, "levels", (80, 95)))
    horizon = accuracy_horizon(weekly)
    return [backtest_jobs(weekly[weekly["clinic"].isin(clinics.index)], measure="referrals_in", horizon=horizon,
                          origins=4, methods=(method, "seasonal_naive"), levels=levels,
                          exclude=tuple(_get(p, "history_exclude_years", ()) or ()))
            for method, clinics in chosen.groupby(chosen)]


def _accuracy_table(done: list) -> pd.DataFrame:
    """The accuracy frame of the origins' results, per method (:func:`_accuracy_jobs` order)."""
    from .forecast import backtest_table

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parts = [backtest_table(results) for results in done if results]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


#: name -> function(frame, parameters, model) of the analyses a clinic report shows.
ANALYSES: dict[str, Callable] = {
    "changes": _changes,
    "ratios": _ratios,
    "seasonal": _seasonal,
    "year_over_year": _year_over_year,
    "flow": _flow,
    "rates": _rates,
    "findings": _findings,
    "accuracy": _accuracy,
}


#: The analyses whose result for a clinic depends on the other clinics of the call (the backtest
#: refits the forecast method, which pools its model choice and seasonal factors over them):
#: :func:`compute` runs them on each group of alike clinics whole, never in chunks.
POOLED = ("accuracy",)


def compute_one(name: str, weekly: pd.DataFrame, params, model=None) -> pd.DataFrame:
    """One analysis (:data:`ANALYSES`) of clinics that share their parameters' settings."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ANALYSES[name](weekly, params, model)


def _origin_job(job):
    """One origin of the accuracy backtest (for an executor); None when it fails."""
    from .forecast import backtest_origin

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return backtest_origin(job)
    except (ValueError, KeyError, TypeError):
        return None


def _any_job(job):
    """:func:`compute`'s jobs on one executor: ``("origin", job)`` or ``("chunk", job)``."""
    kind, payload = job
    return _origin_job(payload) if kind == "origin" else _compute_job(payload)


def _compute_job(job) -> dict:
    """:func:`compute` of one chunk of alike clinics (for an executor)."""
    part, ps, sub_model, names = job
    out = {}
    for name in names:
        try:
            out[name] = compute_one(name, part, ps[0], sub_model)
        except (ValueError, KeyError, TypeError):
            continue
    return out


def compute(weekly: pd.DataFrame, params_list, model=None, *, names=None, executor=None,
            parts_hint: int = 0) -> dict[str, pd.DataFrame]:
    """Every analysis for every clinic, one call per analysis and group of alike clinics.

    Clinics are grouped by their period (weeks or months), the measures their data have
    and those ever above zero (each group sees only its own columns, as each clinic's
    file, so a visits-only clinic gets no operations profile) and by the settings the
    analyses read (``ratio_window_weeks``, ``history_exclude_years``, ``plausible_from``,
    ``max_count_per_period``, forecast levels); each group is one call, so the cost grows
    with the number of groups, not clinics. An analysis that fails for a group leaves
    that group out of its frame (its report says the section could not be made); the
    others are unaffected.

    Parameters
    ----------
    weekly : DataFrame
        Canonical long frame of the clinics (weeks or months).
    params_list : list of Parameters
        The clinics' loaded parameters.
    model : PlanningModel, optional
        The clinics' planning model (the backtest scores the method it chose).
    names : iterable of str, optional
        The analyses to compute; default all.
    executor : concurrent.futures.Executor, optional
        Runs the chunks (``parts_hint`` chunks of each group of alike clinics; the analyses of
        :data:`POOLED` on each group whole) on its processes; the result does not depend on it.

    Returns
    -------
    dict name -> DataFrame
        Long frames keyed by ``clinic``.
    """
    from .periods import one_period_type as _one_period_type

    names = list(ANALYSES) if names is None else list(names)
    groups: dict[tuple, list] = {}
    kind = weekly.groupby("clinic")["period"].first().map(lambda v: getattr(v, "freqstr", ""))
    # the columns each clinic's own file has (a region's frame gives every clinic every column)
    values = weekly.drop(columns=["clinic", "period"]).select_dtypes("number")
    has = values.notna().groupby(weekly["clinic"]).any()
    active = (values.fillna(0) != 0).groupby(weekly["clinic"]).any()   # analyses skip never-active measures
    columns = {cid: frozenset(has.columns[row]) for cid, row in zip(has.index, has.to_numpy())}
    signature = {cid: (columns[cid], frozenset(active.columns[row])) for cid, row in
                 zip(active.index, active.to_numpy())}
    for p in params_list:
        cid = _clinic_id(p)
        key = (kind.get(cid, ""), signature.get(cid), _get(p, "ratio_window_weeks", 4),
               tuple(_get(p, "history_exclude_years", ()) or ()),
               str(_get(p, "plausible_from")), _get(p, "max_count_per_period"),
               tuple(_get(_get(p, "forecast", {}) or {}, "levels", (80, 95))))
        groups.setdefault(key, []).append(p)
    # the analyses that pool over the clinics of a call (the backtest: its forecasts' model choice and
    # seasonal factors) take each group whole: the accuracy backtest as one job per origin (the origins
    # are independent), first (the longest jobs); the others go in chunks. So no number depends on how
    # many chunks (workers) a run has, and the backtest of a large group still uses every process.
    parted = [n for n in names if n not in POOLED]
    jobs, chunks, origins = [], [], []   # origins: per group, per chosen method, the positions of its jobs
    for ps in groups.values():
        ids = [_clinic_id(p) for p in ps]

        def part_of(some, ids=ids):
            part = weekly[weekly["clinic"].isin(some)]
            return _one_period_type(part[[c for c in part.columns
                                          if c in ("clinic", "period") or c in columns.get(ids[0], ())]])

        if "accuracy" in names:
            try:
                per_method = _accuracy_jobs(part_of(ids), ps[0],
                                            model.for_clinics(ids) if model is not None else None)
            except (ValueError, KeyError, TypeError):
                per_method = None
            slots = []
            for method_jobs in per_method or []:
                slots.append(list(range(len(jobs), len(jobs) + len(method_jobs))))
                jobs += [("origin", j) for j in method_jobs]
            origins.append(slots)
        size = max(1, -(-len(ps) // parts_hint)) if parts_hint else len(ps)
        # the chunks of one report language each: the findings' messages are in the clinic's own
        # language (these analyses are per clinic, so how the clinics are chunked changes no number)
        by_language: dict[str, list] = {}
        for p in ps:
            by_language.setdefault("en" if str(_get(p, "language", "sv")) == "en" else "sv", []).append(p)
        for same in by_language.values() if parted else ():
            for i in range(0, len(same), size):
                chunk = same[i:i + size]
                some = [_clinic_id(p) for p in chunk]
                chunks.append(("chunk", (part_of(some), chunk,
                                         model.for_clinics(some) if model is not None else None, parted)))
    jobs += chunks                    # the backtest's origins (the longest jobs) first
    run = executor.map if executor is not None else map
    out: dict[str, list] = {n: [] for n in names}
    results = list(run(_any_job, jobs))
    for (kind, _), done in zip(jobs, results):
        if kind == "chunk":
            for name, frame in done.items():
                out[name].append(frame)
    for slots in origins:   # a group whose backtest failed at any origin is left out, as before
        done = [[results[k] for k in positions] for positions in slots]
        if any(r is None for method in done for r in method):
            continue
        try:
            frame = _accuracy_table(done)
        except (ValueError, KeyError, TypeError):
            continue
        out["accuracy"].append(frame)
    result = {}
    for name, frames in out.items():
        frames = [f for f in frames if f is not None and len(f.columns)]
        result[name] = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["clinic"])
    return result
