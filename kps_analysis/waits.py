"""Waiting-time distributions, guarantee compliance and waiting-time-band projections.

Two families of functions:

* The stock-and-flow projection of patients by waiting-time band of the R package
  NHSRtt (NHS BNSSG Analytics): :func:`calibrate_bands` estimates per-band renege and
  capacity parameters from consecutive snapshots (``calibrate_capacity_renege_params``),
  :func:`project_bands` rolls the waiting list forward under projected referrals and
  capacity (``apply_params_to_projections``), and :func:`capacity_for_target` finds the
  constant capacity that meets a guarantee target by a given period (in the spirit of
  ``optimise_capacity``). The semantics are NHSRtt's so results can be compared.
* Distributions from a waiting snapshot (one row per patient, as
  ``kps_analysis.data.waiting_snapshot`` gives): counts per waiting-time band,
  percentiles and the share over the guarantee limit (:func:`wait_distribution`,
  :func:`wait_summary`), and the same summary from aggregated band counts
  (:func:`wait_summary_from_bands`).

Bands are numbered 0..M: band b holds patients who have waited b to b+1 periods (weeks
or months); band M is open-ended (M periods or more). Each period every patient still
waiting moves up one band; band M keeps its patients.

References
----------
.. [1] NHS BNSSG Analytics, NHSRtt: modelling waiting times using a stock and flow
   method, R package 0.3.x. https://github.com/nhs-bnssg-analytics/NHSRtt
   (R/modelling.R: ``calibrate_capacity_renege_params``, ``apply_params_to_projections``;
   R/utils.R: ``calculate_timestep_transitions``, ``calculate_incompletes``,
   ``redistribute_incompletes_evenly``, ``redistribute_incompletes_optimally``).
.. [2] Hälso- och sjukvårdslagen (2017:30) 9 kap. and Hälso- och
   sjukvårdsförordningen (2017:80) 6 kap.: the care guarantee (90 days to a first visit
   in specialised care and 90 days from the decision to treatment).
"""

from __future__ import annotations

import functools
import warnings

import numpy as np
import pandas as pd
from scipy import optimize

from .balance import clinic_period_sums, cumsum_rows
from .periods import period_lengths
from .stages import stage as stage_spec

__all__ = [
    "REDISTRIBUTION_METHODS",
    "AGGREGATE_CLASSES",
    "aggregate_classes",
    "over_reported",
    "project_bands",
    "calibrate_bands",
    "capacity_for_target",
    "wait_distribution",
    "wait_summary",
    "wait_summary_from_bands",
    "waiting_from_aggregates",
    "projection_keys",
    "ahead_column",
    "flow_period_days",
    "as_week_ahead",
    "as_period_ahead",
    "ProjectionState",
    "project_breaches",
    "renamed_keyword",
]

#: Ways of handling treatments and reneges that exceed the patients in a band.
REDISTRIBUTION_METHODS = ("none", "evenly", "prioritise_long_waiters")

#: The standard waiting-time bands of Swedish reporting [days]: 0-30, 31-60, 61-90,
#: 91-180, >180. Edges are half-open in continuous days: [0, 31), [31, 61), ...
STANDARD_BAND_EDGES = (0, 31, 61, 91, 181)
STANDARD_BAND_LABELS = ("0-30", "31-60", "61-90", "91-180", ">180")


# ============================================================================= helpers
def renamed_keyword(old: str, new: str):
    """Decorator: accept keyword ``old`` as a deprecated alias of ``new`` (DeprecationWarning).

    The guarantee limit is called ``guarantee_days`` everywhere; public functions that
    took ``limit_days`` keep it this way so that users' notebooks keep working.

    Examples
    --------
    >>> @renamed_keyword("limit_days", "guarantee_days")
    ... def f(*, guarantee_days=90):
    ...     return guarantee_days
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     f(limit_days=30), w[0].category.__name__
    (30, 'DeprecationWarning')
    """
    def wrap(func):
        @functools.wraps(func)
        def inner(*args, **kwargs):
            if old in kwargs:
                if new in kwargs:
                    raise TypeError(f"{func.__name__}() got both {old!r} and its new name {new!r}")
                warnings.warn(f"{func.__name__}: the keyword {old!r} is deprecated, use {new!r}",
                              DeprecationWarning, stacklevel=2)
                kwargs[new] = kwargs.pop(old)
            return func(*args, **kwargs)
        return inner
    return wrap


def _vector(value, name, *, length=None, min_length=1):
    """A 1-d float array from array-like ``value``; ValueError naming ``name`` otherwise."""
    if isinstance(value, (pd.Series, pd.Index)):
        arr = value.to_numpy(dtype="float64", na_value=np.nan)
    else:
        try:
            arr = np.asarray(value, dtype="float64")
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be numeric") from None
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if length is not None and len(arr) != length:
        raise ValueError(f"{name} must have length {length}, got {len(arr)}")
    if len(arr) < min_length:
        raise ValueError(f"{name} must have at least {min_length} values, got {len(arr)}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite numbers (no NaN)")
    return arr


def _matrix(value, name, *, shape=None):
    if isinstance(value, pd.DataFrame):
        arr = value.to_numpy(dtype="float64", na_value=np.nan)
    else:
        try:
            arr = np.asarray(value, dtype="float64")
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be numeric") from None
    if arr.ndim != 2:
        raise ValueError(f"{name} must be two-dimensional (periods x bands), got shape {arr.shape}")
    if shape is not None and arr.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite numbers (no NaN)")
    return arr


def _redistribute_evenly(x):
    """NHSRtt ``redistribute_incompletes_evenly`` on one period's band vector.

    If the total is negative, every band is set to 0 (flagged). Otherwise, repeatedly:
    the sum of the negative bands is taken off the positive bands in equal parts and the
    negative bands are set to 0, until no band is negative. Bands at exactly 0 receive
    nothing. The total is unchanged.
    """
    x = x.copy()
    if x.sum() < 0:
        return np.zeros_like(x), True
    while np.any(x < 0):
        negative = x < 0
        total_negative = x[negative].sum()
        x[negative] = 0.0
        positive = x > 0
        n_positive = int(positive.sum())
        if n_positive == 0:  # only reachable through rounding; R divides by 0 and stops
            break
        x[positive] += total_negative / n_positive
    return x, False


def _redistribute_long_waiters(x):
    """NHSRtt ``redistribute_incompletes_optimally`` on one period's band vector.

    The surplus (minus the sum of the negative bands) is taken off the positive bands
    from the longest-waiting band downwards, each band down to 0, until the surplus is
    used up; the surplus left over (if the positive bands could not absorb it) is put
    back on the originally negative bands in proportion to their deficits, so those
    stay negative. The total is unchanged.
    """
    x = x.copy()
    negative = x < 0
    total_surplus = -x[negative].sum()
    if total_surplus > 0:
        positive = np.where(x > 0, x, 0.0)
        # patients in the bands above each band (longer waiters), cumulated from the top
        above = np.concatenate([np.cumsum(positive[::-1])[::-1][1:], [0.0]])
        taken = np.clip(total_surplus - above, 0.0, positive)
        remaining = max(total_surplus - positive.sum(), 0.0)
        x = x - taken
        x[negative] = remaining * (x[negative] / total_surplus) + 0.0  # + 0.0: no -0.0
        return x, bool(remaining > 0)
    return x, False


def _redistribute(x, method):
    if method == "none":
        return x, False
    if method == "evenly":
        return _redistribute_evenly(x)
    return _redistribute_long_waiters(x)


def _check_method(redistribution):
    if redistribution not in REDISTRIBUTION_METHODS:
        raise ValueError(f"redistribution must be one of {REDISTRIBUTION_METHODS}, got {redistribution!r}")


def _project(incomplete, referrals, capacity, renege_param, capacity_param, method):
    """Core of :func:`project_bands` on validated arrays; returns (T x B arrays, flags)."""
    n_periods, n_bands = len(referrals), len(incomplete)
    inflow = np.empty((n_periods, n_bands))
    treatments = np.empty((n_periods, n_bands))
    reneges = np.empty((n_periods, n_bands))
    incompletes = np.empty((n_periods, n_bands))
    flagged = np.zeros(n_periods, dtype=bool)
    stock = incomplete
    for t in range(n_periods):  # a recurrence: each period starts from the last one
        node = np.empty(n_bands)
        node[0] = referrals[t]            # referrals enter band 0
        node[1:] = stock[:-1]             # everyone still waiting moves up one band ...
        node[-1] += stock[-1]             # ... and the open-ended last band keeps its own
        ren = renege_param * node
        numerator = capacity_param * node
        with np.errstate(divide="ignore", invalid="ignore"):
            treat = capacity[t] * (numerator / numerator.sum())
        treat[np.isnan(treat)] = 0.0      # all capacity params 0 (0/0): no treatments
        stock, flagged[t] = _redistribute(node - treat - ren, method)
        inflow[t], treatments[t], reneges[t], incompletes[t] = node, treat, ren, stock
    return inflow, treatments, reneges, incompletes, flagged


def _validate_projection_inputs(incomplete, referrals, capacity, renege_param, capacity_param, redistribution):
    _check_method(redistribution)
    incomplete = _vector(incomplete, "incomplete", min_length=2)
    n_bands = len(incomplete)
    referrals = _vector(referrals, "referrals")
    capacity = _vector(capacity, "capacity")
    if len(capacity) != len(referrals):
        raise ValueError(f"capacity and referrals must be the same length, got {len(capacity)} "
                         f"and {len(referrals)}")
    renege_param = _vector(renege_param, "renege_param", length=n_bands)
    capacity_param = _vector(capacity_param, "capacity_param", length=n_bands)
    for name, arr in (("incomplete", incomplete), ("referrals", referrals), ("capacity", capacity)):
        if np.any(arr < 0):
            raise ValueError(f"{name} must all be greater than or equal to zero")
    return incomplete, referrals, capacity, renege_param, capacity_param


# ============================================================================= projection
def project_bands(incomplete, referrals, capacity, renege_param, capacity_param, *,
                  redistribution: str = "evenly") -> pd.DataFrame:
    """Project the waiting list by waiting-time band (NHSRtt ``apply_params_to_projections``).

    For each future period t = 1..T, with ``I[b]`` the patients in band b at the end of
    the previous period:

    * inflow: ``n[0] = referrals[t]``; ``n[b] = I[b-1]`` for 1 <= b < M;
      ``n[M] = I[M-1] + I[M]`` (the open-ended last band keeps its patients)
      [patients];
    * reneges (patients leaving the list untreated): ``r[b] = renege_param[b] * n[b]``;
    * treatments: the period's capacity shared out in proportion to
      ``capacity_param[b] * n[b]``:
      ``tr[b] = capacity[t] * capacity_param[b] * n[b] / sum_k(capacity_param[k] * n[k])``
      (0 in every band when that sum is 0/0);
    * still waiting: ``I'[b] = n[b] - tr[b] - r[b]``, then the surplus where a band
      goes negative (more treatments and reneges than patients) is handled by
      ``redistribution``:

      - ``"none"``: left as is (bands may be negative);
      - ``"evenly"``: the negative bands are set to 0 and their total taken in equal
        parts off the positive bands, repeated until none is negative; if the whole
        list is negative every band is set to 0 (with a warning; the period's
        treatments are then not reduced, so patients are not conserved in it);
      - ``"prioritise_long_waiters"``: the surplus treats the longest waiters first:
        taken off the positive bands from band M downwards; surplus left when every
        positive band is empty stays on the originally negative bands in proportion
        (they stay negative, with a warning).

      The reported ``treatments`` and ``reneges`` are those calculated before the
      redistribution, as in NHSRtt. No rounding is applied.

    In every period where the redistribution does not zero the list,
    ``sum(incompletes[t-1]) + referrals[t] - sum(treatments[t]) - sum(reneges[t]) =
    sum(incompletes[t])``.

    Parameters
    ----------
    incomplete : array-like of float, length M+1 (M >= 1)
        Patients waiting per band 0..M at the start (end of period 0); band M is
        open-ended [patients].
    referrals : array-like of float, length T
        New patients per future period [patients/period].
    capacity : array-like of float, length T
        Treatments (patients taken off the list) per future period [patients/period].
    renege_param : array-like of float, length M+1
        Share of each band's inflow that leaves untreated per period, as calibrated by
        :func:`calibrate_bands` [-]. Negative values (real data can give them) are
        used with a warning.
    capacity_param : array-like of float, length M+1
        Relative weight of each band's inflow in the sharing of capacity [-]; negative
        values are used with a warning.
    redistribution : {"none", "evenly", "prioritise_long_waiters"}, default "evenly"
        What to do with bands that would go negative (see above).

    Returns
    -------
    DataFrame
        One row per period and band, sorted by period then band: ``period`` (1..T),
        ``band`` (0..M), ``treatments``, ``reneges``, ``incompletes`` (waiting at the
        end of the period, after redistribution) [patients], and ``inflow`` (n[b]
        above) [patients].

    Raises
    ------
    ValueError
        If lengths do not match (``capacity`` vs ``referrals``; ``renege_param`` or
        ``capacity_param`` vs ``incomplete``), fewer than two bands are given, counts
        are negative or not finite, or ``redistribution`` is unknown.

    Warns
    -----
    UserWarning
        For negative parameters, and for periods where the redistribution could not
        absorb the surplus.

    Examples
    --------
    Two bands (under / over one period waited), 10 and 5 waiting, 8 referrals and
    capacity 6 in one period, renege 0.1 and capacity param 0.5 in both bands:
    inflow (8, 10 + 5) = (8, 15); reneges (0.8, 1.5); weights 0.5 * (8, 15) = (4, 7.5),
    so treatments 6 * (4, 7.5) / 11.5 = (2.087, 3.913); still waiting
    (8 - 2.087 - 0.8, 15 - 3.913 - 1.5) = (5.113, 9.587).

    >>> p = project_bands([10, 5], [8], [6], [0.1, 0.1], [0.5, 0.5])
    >>> p[["band", "treatments", "incompletes"]].round(3).to_dict("list")
    {'band': [0, 1], 'treatments': [2.087, 3.913], 'incompletes': [5.113, 9.587]}

    References
    ----------
    NHSRtt ``apply_params_to_projections`` (R/modelling.R) and ``calculate_incompletes``,
    ``redistribute_incompletes_evenly``, ``redistribute_incompletes_optimally``
    (R/utils.R), nhs-bnssg-analytics/NHSRtt.
    """
    incomplete, referrals, capacity, renege_param, capacity_param = _validate_projection_inputs(
        incomplete, referrals, capacity, renege_param, capacity_param, redistribution)
    for name, arr in (("renege_param", renege_param), ("capacity_param", capacity_param)):
        if np.any(arr < 0):
            warnings.warn(f"{name} has negative values (bands {np.flatnonzero(arr < 0).tolist()}): "
                          "they add patients instead of removing them; check the calibration data",
                          stacklevel=2)
    inflow, treatments, reneges, incompletes, flagged = _project(
        incomplete, referrals, capacity, renege_param, capacity_param, redistribution)
    if flagged.any():
        periods = (np.flatnonzero(flagged) + 1).tolist()
        what = ("every band was set to 0" if redistribution == "evenly"
                else "negative bands remain")
        warnings.warn(f"treatments and reneges exceed the patients waiting in periods {periods}: "
                      f"{what}", stacklevel=2)
    n_periods, n_bands = incompletes.shape
    return pd.DataFrame({
        "period": np.repeat(np.arange(1, n_periods + 1), n_bands),
        "band": np.tile(np.arange(n_bands), n_periods),
        "treatments": treatments.ravel(),
        "reneges": reneges.ravel(),
        "incompletes": incompletes.ravel(),
        "inflow": inflow.ravel(),
    })


# ============================================================================= calibration
def _uplift_negative_reneges(inflow, waiting, reneges):
    """NHSRtt ``redistribute_negative_reneges`` (R/modelling.R), vectorised.

    The compartments of a cohort (same period - band) are visited from the latest to
    the earliest; at each step every compartment of the cohort has the adjustment
    accumulated so far added to its inflow and to its waiting count, and a compartment
    with negative reneges has its own inflow raised by minus its reneges. Net effect, as
    in R: each compartment of a cohort is raised by U = sum_k adj_k * pos_k (pos_k the
    position of compartment k within the cohort, 0 for its earliest observed one) in
    inflow and waiting, plus its own adjustment in inflow, so negative reneges become 0
    and the others are unchanged.
    """
    n_periods, n_bands = inflow.shape
    period = np.arange(1, n_periods + 1)[:, None] * np.ones((1, n_bands), dtype=int)
    band = np.ones((n_periods, 1), dtype=int) * np.arange(n_bands)[None, :]
    cohort = period - band                      # the clock-start period
    first_band = np.maximum(0, 1 - cohort)      # earliest band observed (first period is 1)
    position = band - first_band
    adjustment = np.where(reneges < 0, -reneges, 0.0)
    offset = cohort - cohort.min()
    uplift = np.bincount(offset.ravel(), weights=(adjustment * position).ravel(),
                         minlength=offset.max() + 1)[offset]
    return inflow + uplift + adjustment, waiting + uplift


def calibrate_bands(incompletes, treatments, referrals, *, redistribute_m0_reneges: bool = True,
                    allow_negative_params: bool = True, full_breakdown: bool = False) -> pd.DataFrame:
    """Renege and capacity parameters per waiting-time band from consecutive snapshots.

    NHSRtt ``calibrate_capacity_renege_params``. For each observed period t = 1..T and
    band b, with ``I[t, b]`` the patients waiting at the end of period t (t = 0 is the
    snapshot before the first period):

    * inflow ``n[t, 0] = referrals[t]``, ``n[t, b] = I[t-1, b-1]`` for 1 <= b < M,
      ``n[t, M] = I[t-1, M-1] + I[t-1, M]`` [patients];
    * reneges (deduced) ``r[t, b] = n[t, b] - treatments[t, b] - I[t, b]``;
    * with ``redistribute_m0_reneges``: negative reneges in band 0 are taken as
      unrecorded referrals: ``n[t, 0]`` is raised by ``-r[t, 0]`` and ``r[t, 0]`` set to 0;
    * without ``allow_negative_params``: negative reneges are removed by raising the
      inflow and waiting counts of the same cohort (patients with the same clock start)
      as NHSRtt's ``redistribute_negative_reneges`` does, and negative treatments set
      to 0;
    * ``renege_param[t, b] = r / n`` and ``capacity_param[t, b] = treatments / n``.

    The parameters returned are the means over the periods, a parameter being 0 where
    the inflow is 0.

    Parameters
    ----------
    incompletes : array-like, shape (T+1, M+1)
        Patients waiting per band at the end of periods 0..T (rows) [patients].
    treatments : array-like, shape (T, M+1)
        Completed pathways (treated, or the next step done) per band in periods 1..T,
        the band being the time waited at completion [patients/period].
    referrals : array-like, length T
        New patients in periods 1..T [patients/period].
    redistribute_m0_reneges : bool, default True
        Whether negative band-0 reneges count as unrecorded referrals.
    allow_negative_params : bool, default True
        Keep negative parameters (with a warning) rather than remove them.
    full_breakdown : bool, default False
        Return the per-period values instead of the means.

    Returns
    -------
    DataFrame
        ``band``, ``renege_param``, ``capacity_param`` [-]; with ``full_breakdown``
        one row per period and band with ``period``, ``band``, ``inflow``,
        ``treatments``, ``waiting``, ``reneges`` [patients] and the two parameters.

    Raises
    ------
    ValueError
        If shapes do not match or values are not finite.

    Warns
    -----
    UserWarning
        If a mean parameter is negative (rounded to 8 decimals), as NHSRtt does.

    Examples
    --------
    Two bands, one period: 10 and 5 waiting before, 8 referrals, 2 and 3 treated, 5 and
    10 waiting after. Band 0: inflow 8, reneges 8 - 2 - 5 = 1; band 1: inflow
    10 + 5 = 15, reneges 15 - 3 - 10 = 2.

    >>> calibrate_bands([[10, 5], [5, 10]], [[2, 3]], [8]).round(4).to_dict("list")
    {'band': [0, 1], 'renege_param': [0.125, 0.1333], 'capacity_param': [0.25, 0.2]}

    References
    ----------
    NHSRtt ``calibrate_capacity_renege_params`` and ``redistribute_negative_reneges``
    (R/modelling.R), ``calculate_timestep_transitions`` (R/utils.R).
    """
    incompletes = _matrix(incompletes, "incompletes")
    n_periods, n_bands = incompletes.shape[0] - 1, incompletes.shape[1]
    if n_periods < 1:
        raise ValueError("incompletes must have at least two rows (snapshots at the end of periods 0 and 1)")
    if n_bands < 2:
        raise ValueError("incompletes must have at least two bands (columns)")
    treatments = _matrix(treatments, "treatments", shape=(n_periods, n_bands))
    referrals = _vector(referrals, "referrals", length=n_periods)

    inflow = np.empty((n_periods, n_bands))
    inflow[:, 0] = referrals
    inflow[:, 1:] = incompletes[:-1, :-1]
    inflow[:, -1] += incompletes[:-1, -1]
    waiting = incompletes[1:].copy()
    treated = treatments.copy()
    reneges = inflow - treated - waiting

    if redistribute_m0_reneges:
        shortfall = np.where(reneges[:, 0] < 0, -reneges[:, 0], 0.0)
        inflow[:, 0] += shortfall
        reneges[:, 0] += shortfall
    if not allow_negative_params:
        inflow, waiting = _uplift_negative_reneges(inflow, waiting, reneges)
        reneges = inflow - treated - waiting
        treated = np.maximum(treated, 0.0)

    with np.errstate(divide="ignore", invalid="ignore"):
        renege_param = reneges / inflow
        capacity_param = treated / inflow

    if full_breakdown:
        return pd.DataFrame({
            "period": np.repeat(np.arange(1, n_periods + 1), n_bands),
            "band": np.tile(np.arange(n_bands), n_periods),
            "inflow": inflow.ravel(), "treatments": treated.ravel(), "waiting": waiting.ravel(),
            "reneges": reneges.ravel(), "renege_param": renege_param.ravel(),
            "capacity_param": capacity_param.ravel(),
        })

    empty = inflow == 0
    renege_param = np.where(empty, 0.0, renege_param)
    capacity_param = np.where(empty, 0.0, capacity_param)
    out = pd.DataFrame({"band": np.arange(n_bands), "renege_param": renege_param.mean(axis=0),
                        "capacity_param": capacity_param.mean(axis=0)})
    if (out["renege_param"].round(8) < 0).any():
        warnings.warn("negative renege parameters present, investigate raw data", stacklevel=2)
    if (out["capacity_param"].round(8) < 0).any():
        warnings.warn("negative capacity parameters present, investigate raw data", stacklevel=2)
    return out


# ============================================================================= capacity for target
def capacity_for_target(incomplete, referrals, renege_param, capacity_param, *, limit_band: int,
                        target_share: float = 0.9, by_period: int | None = None,
                        redistribution: str = "evenly", xtol: float = 1e-6) -> float:
    """Constant capacity per period that brings the share within the limit to target.

    Finds c such that, projecting with :func:`project_bands` and ``capacity = c`` in
    every period, the share of waiting patients in bands below ``limit_band`` at the end
    of period ``by_period`` equals ``target_share``:

    ``share_within(c) = sum(I[by_period, b < limit_band]) / sum(I[by_period, :])`` [-]

    An empty list counts as share 1. The root is found with Brent's method
    (``scipy.optimize.brentq``) between 0 and the capacity that treats everyone in
    one period (all waiting plus all referrals). With weekly bands (band b = waited b
    to b+1 weeks), the 90-day guarantee is ``limit_band=13``: bands 0..12 hold waits
    under 91 days, i.e. at most 90 days.

    Like NHSRtt's ``optimise_capacity`` (which searches a capacity profile for a target
    proportion in the bands at or above ``target_bin``), but with a constant capacity.

    Parameters
    ----------
    incomplete : array-like of float, length M+1
        Patients waiting per band at the start [patients].
    referrals : array-like of float, length T
        Referrals per future period [patients/period].
    renege_param, capacity_param : array-like of float, length M+1
        Band parameters, as for :func:`project_bands` [-].
    limit_band : int
        First band over the limit (1..M) [bands].
    target_share : float, default 0.9
        Share of waiting patients within the limit to reach, in (0, 1] [-].
    by_period : int, optional
        Period (1..T) at which the target must hold; default the last [periods].
    redistribution : str, default "evenly"
        As for :func:`project_bands`.
    xtol : float, default 1e-6
        Absolute tolerance of the capacity [patients/period].

    Returns
    -------
    float
        The capacity [patients/period]; 0.0 if the target holds without any capacity,
        NaN (with a warning) if even the upper bound does not reach it.

    Raises
    ------
    ValueError
        For bad projection inputs (as :func:`project_bands`), ``limit_band`` outside
        1..M, ``target_share`` outside (0, 1] or ``by_period`` outside 1..T.

    Examples
    --------
    Three bands, 100 waiting in each, 50 referrals a period, no reneges, capacity
    weighted towards long waiters (0.2, 0.5, 1): by period 3 a capacity of about 126
    patients/period leaves 90 % of the list in bands 0-1. (With equal weights only an
    empty list reaches 90 %: the open-ended band keeps its share.)

    >>> c = capacity_for_target([100, 100, 100], [50] * 3, [0, 0, 0], [0.2, 0.5, 1.0],
    ...                         limit_band=2, target_share=0.9)
    >>> round(c, 1)
    126.2

    References
    ----------
    NHSRtt ``optimise_capacity`` (R/optimiser.R); Brent, R. P. (1973), Algorithms for
    Minimization without Derivatives.
    """
    incomplete, referrals, _, renege_param, capacity_param = _validate_projection_inputs(
        incomplete, referrals, np.zeros(len(np.atleast_1d(referrals))), renege_param, capacity_param,
        redistribution)
    n_bands, n_periods = len(incomplete), len(referrals)
    if int(limit_band) != limit_band or not 1 <= limit_band <= n_bands - 1:
        raise ValueError(f"limit_band must be a whole number between 1 and {n_bands - 1}, got {limit_band!r}")
    if not 0 < target_share <= 1:
        raise ValueError(f"target_share must be in (0, 1], got {target_share!r}")
    if by_period is None:
        by_period = n_periods
    if int(by_period) != by_period or not 1 <= by_period <= n_periods:
        raise ValueError(f"by_period must be a whole number between 1 and {n_periods}, got {by_period!r}")
    referrals = referrals[: int(by_period)]
    limit_band = int(limit_band)

    def gap(c):
        state = _project(incomplete, referrals, np.full(len(referrals), c), renege_param,
                         capacity_param, redistribution)[3][-1]
        total = state.sum()
        share = 1.0 if total <= 0 else state[:limit_band].sum() / total
        return share - target_share

    if gap(0.0) >= 0:
        return 0.0
    upper = float(incomplete.sum() + referrals.sum())
    if gap(upper) < 0:
        warnings.warn(f"the target share {target_share} is not reached by period {by_period} "
                      f"even with capacity {upper:g} per period", stacklevel=2)
        return float("nan")
    return float(optimize.brentq(gap, 0.0, upper, xtol=xtol))


# ============================================================================= distributions
def _group_keys(frame, by):
    if by is None:
        by = ["clinic"] + [c for c in ("group", "stage") if c in frame.columns]
    else:
        by = [by] if isinstance(by, str) else list(by)
    missing = [c for c in by if c not in frame.columns]
    if missing:
        raise ValueError(f"by: columns {missing} are not in the frame")
    return by


def _band_edges(bands, max_weeks):
    """Lower edges (days) and labels of the bands; the last band is open-ended."""
    if bands == "standard":
        return np.array(STANDARD_BAND_EDGES, dtype=float), list(STANDARD_BAND_LABELS)
    if bands == "weekly":
        if int(max_weeks) != max_weeks or max_weeks < 1:
            raise ValueError(f"max_weeks must be a whole number >= 1, got {max_weeks!r}")
        starts = 7 * np.arange(int(max_weeks) + 1)
        labels = [f"{s}-{s + 6}" for s in starts[:-1]] + [f">={starts[-1]}"]
        return starts.astype(float), labels
    raise ValueError(f"bands must be 'standard' or 'weekly', got {bands!r}")


def _included(snapshot):
    for col in ("wait_days", "patient_chosen_wait"):
        if col not in snapshot.columns:
            raise ValueError(f"snapshot: column {col!r} is missing")
    days = snapshot["wait_days"].to_numpy(dtype="float64", na_value=np.nan)
    if np.any(days < 0):
        raise ValueError("snapshot: wait_days must be >= 0")
    chosen = snapshot["patient_chosen_wait"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    return days, chosen


def wait_distribution(snapshot: pd.DataFrame, *, bands: str = "standard", by=None,
                      max_weeks: int = 52) -> pd.DataFrame:
    """Patients waiting per waiting-time band, per clinic and stage.

    Counts the patients of a waiting snapshot by time waited, leaving out those who chose
    to wait longer (``patient_chosen_wait``), as the national guarantee measurement does.

    Bands: ``"standard"`` 0-30, 31-60, 61-90, 91-180 and >180 days; ``"weekly"`` 0-6,
    7-13, ... days up to ``max_weeks`` weeks, the last band open-ended. A band's
    ``band_start_days`` and ``band_end_days`` are half-open edges in continuous days
    (a wait of d whole days lies in [d, d + 1)); the last band ends at ``inf``.

    Parameters
    ----------
    snapshot : DataFrame
        One row per waiting patient with ``wait_days`` [days], ``patient_chosen_wait``
        (bool) and the grouping columns (as ``kps_analysis.data.waiting_snapshot``).
    bands : {"standard", "weekly"}, default "standard"
        Band set.
    by : str or list of str, optional
        Grouping columns; default ``clinic``, then ``group`` and ``stage`` when present.
    max_weeks : int, default 52
        Weekly bands: the open-ended last band starts at this many weeks [weeks].

    Returns
    -------
    DataFrame
        The ``by`` columns, ``band`` (label), ``band_start_days``, ``band_end_days``
        [days] and ``patients`` [patients]; every band for every group, zeros included.

    Raises
    ------
    ValueError
        If a required column is missing, ``bands`` is unknown or ``wait_days`` is negative.

    Examples
    --------
    >>> s = pd.DataFrame({"clinic": "a", "stage": "new_visit",
    ...                   "wait_days": [5, 40, 95, 200, 120],
    ...                   "patient_chosen_wait": [False, False, False, False, True]})
    >>> wait_distribution(s)["patients"].tolist()
    [1, 1, 0, 1, 1]

    References
    ----------
    SKR, Väntetider i vården (the national waiting-time reporting; waits chosen by the
    patient are excluded).
    """
    keys = _group_keys(snapshot, by)
    starts, labels = _band_edges(bands, max_weeks)
    days, chosen = _included(snapshot)
    keep = ~chosen & ~np.isnan(days)
    band_index = np.searchsorted(starts, days[keep], side="right") - 1
    groups = snapshot.loc[keep, keys].reset_index(drop=True)
    groups["_band"] = band_index
    counts = groups.groupby(keys + ["_band"], sort=True).size()
    all_groups = snapshot[keys].drop_duplicates().sort_values(keys)
    index = pd.MultiIndex.from_frame(all_groups.loc[all_groups.index.repeat(len(starts))].assign(
        _band=np.tile(np.arange(len(starts)), len(all_groups))))
    counts = counts.reindex(index, fill_value=0)
    out = counts.rename("patients").reset_index()
    band = out.pop("_band").to_numpy()
    ends = np.append(starts[1:], np.inf)
    out.insert(len(keys), "band", np.asarray(labels, dtype=object)[band])
    out["band"] = out["band"].astype(str)
    out.insert(len(keys) + 1, "band_start_days", starts[band])
    out.insert(len(keys) + 2, "band_end_days", ends[band])
    out["patients"] = out["patients"].astype("int64")
    return out.reset_index(drop=True)


@renamed_keyword("limit_days", "guarantee_days")
def wait_summary(snapshot: pd.DataFrame, *, guarantee_days: float = 90, percentiles=(50, 90),
                 by=None) -> pd.DataFrame:
    """Waiting-time percentiles and the share over the guarantee limit, per group.

    ``share_over_limit = count(wait_days > guarantee_days) / count(all)`` [-], over the
    patients who did not choose to wait longer; percentiles by linear interpolation
    between the ordered waits (``pandas.Series.quantile``).

    Parameters
    ----------
    snapshot : DataFrame
        One row per waiting patient with ``wait_days`` [days], ``patient_chosen_wait``
        and the grouping columns.
    guarantee_days : float, default 90
        The guarantee limit; waits strictly over it count as over [days].
    percentiles : sequence of float, default (50, 90)
        Percentiles to report, each in [0, 100] [%].
    by : str or list of str, optional
        Grouping columns; default ``clinic``, then ``group`` and ``stage`` when present.

    Returns
    -------
    DataFrame
        The ``by`` columns, ``waiting`` (included patients), ``excluded_chosen``
        (patients who chose to wait) [patients], ``mean_wait_days``, ``p50_days``,
        ``p90_days`` (one per percentile) [days], ``over_limit`` [patients] and
        ``share_over_limit`` [-] (NaN where nobody is included).

    Raises
    ------
    ValueError
        If a required column is missing, a percentile is outside [0, 100] or
        ``wait_days`` is negative.

    Examples
    --------
    >>> s = pd.DataFrame({"clinic": "a", "stage": "treatment",
    ...                   "wait_days": [10, 20, 30, 100, 400],
    ...                   "patient_chosen_wait": [False, False, False, False, True]})
    >>> r = wait_summary(s)
    >>> r[["waiting", "p50_days", "over_limit", "share_over_limit"]].to_dict("records")
    [{'waiting': 4, 'p50_days': 25.0, 'over_limit': 1, 'share_over_limit': 0.25}]

    References
    ----------
    SKR, Väntetider i vården; Hälso- och sjukvårdsförordningen (2017:80) 6 kap.
    """
    keys = _group_keys(snapshot, by)
    qs = _percentiles(percentiles)
    days, chosen = _included(snapshot)
    frame = snapshot[keys].reset_index(drop=True)
    frame["_days"] = days
    frame["_chosen"] = chosen
    frame["_over"] = days > guarantee_days
    base = frame.groupby(keys, sort=True)
    out = base["_chosen"].sum().rename("excluded_chosen").astype("int64").to_frame()
    included = frame[~frame["_chosen"] & frame["_days"].notna()]
    grouped = included.groupby(keys, sort=True)
    out["waiting"] = grouped.size().reindex(out.index, fill_value=0).astype("int64")
    out["mean_wait_days"] = grouped["_days"].mean().reindex(out.index)
    for q in qs:
        out[f"p{q:g}_days"] = grouped["_days"].quantile(q / 100).reindex(out.index)
    out["over_limit"] = grouped["_over"].sum().reindex(out.index, fill_value=0).astype("int64")
    with np.errstate(invalid="ignore", divide="ignore"):
        out["share_over_limit"] = np.where(out["waiting"] > 0, out["over_limit"] / out["waiting"], np.nan)
    out = out.reset_index()
    first = keys + ["waiting", "excluded_chosen"]
    return out[first + [c for c in out.columns if c not in first]]


def _percentiles(percentiles):
    qs = [float(p) for p in np.atleast_1d(percentiles)]
    if any(not 0 <= q <= 100 for q in qs):
        raise ValueError(f"percentiles must be between 0 and 100, got {percentiles!r}")
    return qs


def wait_summary_from_bands(band_counts: pd.DataFrame, *, guarantee_days: float = 90, percentiles=(50, 90),
                            by=None) -> pd.DataFrame:
    """Percentiles and share over the limit estimated from aggregated band counts.

    For data that only have counts per waiting-time band (as :func:`wait_distribution`
    gives, or a report's table). Within a band, waits are taken as uniform over
    [``band_start_days``, ``band_end_days``): a percentile is interpolated linearly in
    the band where the cumulative count crosses it, and a band straddling the limit
    counts as over in proportion to its part beyond ``guarantee_days + 1`` (a wait of d whole
    days is over when d > limit, i.e. d >= limit + 1). With the standard or weekly bands
    and a 90-day limit no band straddles the limit, so ``over_limit`` is exact. A
    percentile in the open-ended last band is reported as that band's start (a lower
    bound), with a warning.

    Parameters
    ----------
    band_counts : DataFrame
        The ``by`` columns, ``band_start_days``, ``band_end_days`` (``inf`` for an open
        last band) [days] and ``patients`` [patients].
    guarantee_days : float, default 90
        The guarantee limit [days].
    percentiles : sequence of float, default (50, 90)
        Percentiles to estimate [%].
    by : str or list of str, optional
        Grouping columns; default ``clinic``, then ``group`` and ``stage`` when present.

    Returns
    -------
    DataFrame
        The ``by`` columns, ``waiting`` [patients], ``p50_days``, ``p90_days`` ... [days],
        ``over_limit`` [patients] and ``share_over_limit`` [-].

    Raises
    ------
    ValueError
        If a required column is missing, counts are negative or a percentile is outside
        [0, 100].

    Warns
    -----
    UserWarning
        If a percentile falls in an open-ended band, or an open-ended band starts at or
        below the limit.

    Examples
    --------
    20 patients in 0-30 days, 10 in 31-60, 10 in 91-180: the median (rank 20 of 40) is
    at the top of the first band, 31.0; the 90th percentile (rank 36) lies 6/10 into
    the band [91, 181), 91 + 0.6 * 90 = 145.0; 10 of 40 are over 90 days.

    >>> b = pd.DataFrame({"clinic": "a", "band_start_days": [0, 31, 61, 91, 181],
    ...                   "band_end_days": [31, 61, 91, 181, float("inf")],
    ...                   "patients": [20, 10, 0, 10, 0]})
    >>> wait_summary_from_bands(b)[["p50_days", "p90_days", "share_over_limit"]].to_dict("records")
    [{'p50_days': 31.0, 'p90_days': 145.0, 'share_over_limit': 0.25}]

    References
    ----------
    Standard grouped-data percentile interpolation; SKR, Väntetider i vården.
    """
    for col in ("band_start_days", "band_end_days", "patients"):
        if col not in band_counts.columns:
            raise ValueError(f"band_counts: column {col!r} is missing")
    keys = _group_keys(band_counts, by)
    qs = _percentiles(percentiles)
    frame = band_counts.sort_values(keys + ["band_start_days"]).reset_index(drop=True)
    start = frame["band_start_days"].to_numpy(dtype="float64")
    end = frame["band_end_days"].to_numpy(dtype="float64")
    count = frame["patients"].to_numpy(dtype="float64", na_value=0.0)
    if np.any(count < 0):
        raise ValueError("band_counts: patients must be >= 0")
    group_id = frame.groupby(keys, sort=False).ngroup().to_numpy()
    n_groups = group_id.max() + 1 if len(group_id) else 0
    total = np.bincount(group_id, weights=count, minlength=n_groups)
    cum = frame.assign(_c=count).groupby(keys, sort=False)["_c"].cumsum().to_numpy()
    before = cum - count

    threshold = guarantee_days + 1
    open_band = ~np.isfinite(end)
    if np.any(open_band & (start < threshold) & (count > 0)):
        warnings.warn("an open-ended band starts within the limit: all of it counts as over", stacklevel=2)
    width = np.where(open_band, np.inf, end - start)
    with np.errstate(invalid="ignore", divide="ignore"):
        over_part = np.where(open_band, 1.0, np.clip((end - np.maximum(start, threshold)) / width, 0.0, 1.0))
    over_part = np.where(open_band & (start < threshold), 1.0, over_part)
    over = np.bincount(group_id, weights=count * over_part, minlength=n_groups)

    out = frame[keys].drop_duplicates().reset_index(drop=True)
    out["waiting"] = total
    in_open = False
    for q in qs:
        rank = (q / 100) * total[group_id]
        # the first band (with patients) where the cumulative count reaches the rank
        hit = (cum >= rank) & (count > 0)
        hit_first = hit & (pd.Series(hit).groupby(group_id).cumsum().to_numpy() == 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            value = np.where(open_band, start, start + (rank - before) / count * (end - start))
        in_open |= bool(np.any(hit_first & open_band))
        result = np.full(n_groups, np.nan)
        result[group_id[hit_first]] = value[hit_first]
        out[f"p{q:g}_days"] = result
    if in_open:
        warnings.warn("a percentile falls in an open-ended band: its start is reported (a lower bound)",
                      stacklevel=2)
    out["over_limit"] = over
    with np.errstate(invalid="ignore", divide="ignore"):
        out["share_over_limit"] = np.where(total > 0, over / total, np.nan)
    return out


# ------------------------------------------------------------------ breach projection
def projection_keys(flows: pd.DataFrame, waiting: pd.DataFrame) -> list[str]:
    """The series of a breach projection: ``clinic``, and ``group``/``stage`` where both frames have them.

    Examples
    --------
    >>> projection_keys(pd.DataFrame(columns=["clinic", "stage"]), pd.DataFrame(columns=["clinic"]))
    ['clinic']
    """
    return [k for k in ("clinic", "group", "stage") if k in flows.columns and (k in waiting.columns or k == "clinic")]


#: The serving classes of a waiting list rebuilt from aggregates (:func:`aggregate_classes`):
#: the patients within the limit, then those the data report over it (sorted as text, the
#: order :func:`kps_analysis.planning.project_plan` serves priorities in).
AGGREGATE_CLASSES = ("unknown", "unknown_over_limit")


def over_reported(weekly: pd.DataFrame, stage: str) -> set:
    """The clinics whose weekly data report how many wait over the limit at ``stage``
    (``waiting_over_90_<stage>`` has a value): the ``reported`` of :func:`aggregate_classes`."""
    col = f"waiting_over_90_{stage}"
    return set(weekly.loc[weekly[col].notna(), "clinic"].astype(str)) if col in weekly.columns else set()


def aggregate_classes(wait_days, guarantee_days: float = 90, *, reported=None, clinic=None) -> np.ndarray:
    """The serving class of each row of a waiting list rebuilt from aggregates
    (:func:`waiting_from_aggregates`): ``"unknown"`` within ``guarantee_days``, and
    ``"unknown_over_limit"`` beyond it [days], for the clinics whose data report the count
    over the limit (``reported``, a set of clinic ids matched against ``clinic``; default: every
    row). Without that count the rebuilt list is first in, first out and anyone it places past
    the limit is a guess: served oldest first as before.

    Weekly aggregates give no medical priority, but a reported over-90 count that stays
    week after week while the clinic serves more than arrive says those patients are not
    served longest wait first (they wait for a reason the data do not show). Served
    strictly oldest first they would all go in the plan's first week, and the plan would
    show nobody over the limit beside the data's 39; as a class served after the others
    they stay until they are bought or the queue within the limit is served, as patients
    of a low priority do in a patient-level extract.

    Examples
    --------
    >>> aggregate_classes(np.array([0, 90, 91, 120])).tolist()
    ['unknown', 'unknown', 'unknown_over_limit', 'unknown_over_limit']
    """
    over = np.asarray(wait_days, dtype=float) > np.floor(float(guarantee_days))
    if reported is not None and clinic is not None:
        over &= np.isin(np.asarray(clinic, dtype=object).astype(str), list(reported))
    return np.where(over, AGGREGATE_CLASSES[1], AGGREGATE_CLASSES[0]).astype(object)


def waiting_from_aggregates(weekly: pd.DataFrame, *, stage: str = "new_visit",
                            guarantee_days: int = 90) -> pd.DataFrame:
    """Reconstruct who is waiting, by days waited, from weekly aggregates.

    When only weekly totals exist, the waiting list at the end of the latest week is
    rebuilt from the arrival history: each week's arrivals are spread evenly over its
    seven days (day ``d`` = waited ``d`` days at the latest week's end), and

    * the ``queue - over_90`` patients within the limit are the most recent arrivals
      (ages 0, 1, 2, ... days: longest-wait-first serving leaves the newest waiting);
    * the ``over_90`` patients beyond it (``waiting_over_90_<stage>`` when reported)
      are the most recent arrivals older than ``guarantee_days`` (ages 91, 92, ... days).

    Without an over-90 column, everyone is taken from the most recent arrivals (pure
    first in, first out). Arrivals are ``referrals_in - referrals_forwarded`` for the
    first-visit stage and ``treatment_decisions`` for the treatment stage.

    Parameters
    ----------
    weekly : DataFrame
        Canonical weekly frame: ``clinic``, ``period`` (W-SUN), the stage's queue and
        arrival columns, optionally its over-90 column [patients, patients/week].
    stage : {"new_visit", "treatment"}
        Which queue.
    guarantee_days : int
        The limit the over-90 column refers to [days].

    Returns
    -------
    DataFrame
        ``clinic``, ``stage``, ``wait_days`` [days], ``patients`` (may be fractional)
        [patients]: one row per clinic and day waited with patients > 0.

    Raises
    ------
    ValueError
        If ``stage`` is unknown or its columns are missing.

    Examples
    --------
    Queue 10; arrivals 7 per week (1 a day): the last week's 7 (0-6 days) and the 3
    newest of the week before (7, 8 and 9 days).

    >>> p = pd.period_range("2024-01-01", periods=3, freq="W-SUN")
    >>> w = pd.DataFrame({"clinic": "a", "period": p, "referrals_in": [7.0] * 3,
    ...                   "queue_new_visit": [5.0, 8.0, 10.0]})
    >>> r = waiting_from_aggregates(w)
    >>> round(float(r["patients"].sum()), 6), int(r["wait_days"].max())
    (10.0, 9)
    """
    spec = stage_spec(stage)
    queue_col, arrivals, minus, over_col = spec.queue, spec.inflow, list(spec.inflow_minus), spec.over_limit
    missing = [c for c in (queue_col, arrivals) if c not in weekly.columns]
    if missing:
        raise ValueError(f"weekly: missing column(s) {', '.join(missing)} for stage {stage!r}")
    has_over = over_col in weekly.columns
    columns = [arrivals, queue_col] + [c for c in minus if c in weekly.columns] + ([over_col] if has_over else [])
    sums = clinic_period_sums(weekly, columns)
    code, first = sums.code, sums.first
    n_c = len(sums.clinics)
    inflow = np.nan_to_num(sums.values[arrivals])
    for col in minus:
        if col in sums.values:
            inflow = inflow - np.nan_to_num(sums.values[col])
    # the arrivals of a period are spread evenly over its days (7 for a week, 28-31 for a month)
    period_days = _period_days(sums.ordinal, sums.freq)
    inflow = np.clip(inflow, 0.0, None) / period_days
    # the latest reported queue (and over-90 count) of each clinic: its last non-missing value
    queue = np.nan_to_num(_last_valid(sums.values[queue_col], first))
    over = np.nan_to_num(_last_valid(sums.values[over_col], first)) if has_over else None

    # one row per clinic, one column per day waited at the latest period's end (newest first):
    # day d (from the end) of a period whose newer periods hold D days sits in column D + d
    total = np.add.reduceat(period_days, first[:-1]) if n_c else np.zeros(0, dtype=np.int64)
    grid = _arrivals_by_day(inflow, period_days, code, first, total)
    width, length = grid.shape[1], total
    patients = np.zeros_like(grid)

    def fill(part: np.ndarray, target: np.ndarray) -> np.ndarray:
        # the newest arrivals first, up to the target: ``before`` = arrivals newer than a day
        before = cumsum_rows(part) - part
        return np.minimum(np.maximum(target[:, None] - before, 0.0), part)

    if over is None:  # pure first in, first out: the queue is the newest arrivals
        patients = fill(grid, queue)
    else:  # within the limit: the newest; beyond it: the newest of those older than the limit
        split = int(min(max(np.floor(guarantee_days) + 1, 0), width))
        patients[:, :split] = fill(grid[:, :split], np.maximum(queue - over, 0.0))
        patients[:, split:] = fill(grid[:, split:], over)
    inside = np.arange(width)[None, :] < length[:, None]
    rows, days = np.nonzero((patients > 0) & inside)
    return pd.DataFrame({"clinic": sums.clinics[rows], "stage": stage,
                         "wait_days": days.astype(np.int64), "patients": patients[rows, days]})


def _arrivals_by_day(inflow: np.ndarray, period_days: np.ndarray, code: np.ndarray, first: np.ndarray,
                     total: np.ndarray) -> np.ndarray:
    """Arrivals per day [patients/day], one row per clinic, one column per day before the latest period's end.

    Column 0 is the newest day; day ``d`` (from the end) of a period whose newer periods
    (of the clinic's rows, gaps not counted) hold ``D`` days sits in column ``D + d``;
    zero beyond a clinic's history. ``inflow`` is per row (sorted by clinic, then
    period) and already per day; ``total`` is each clinic's days. When every period
    has the same days (weeks), each row's value is repeated over its block of columns
    (no per-day index arrays: about 20 times faster for 1,000 clinics' five years).
    """
    n_c = len(first) - 1
    n_rows = np.diff(first)
    if len(period_days) and np.all(period_days == period_days[0]):
        newest_first = np.zeros((n_c, int(n_rows.max())))
        newest_first[code, first[1:][code] - 1 - np.arange(len(code))] = inflow
        return np.repeat(newest_first, int(period_days[0]), axis=1)
    newer = total[code] - (np.cumsum(period_days) - np.repeat(np.cumsum(period_days)[first[:-1]] -
                                                                 period_days[first[:-1]], n_rows))
    grid = np.zeros((n_c, int(total.max()) if n_c else 0))
    row = np.repeat(np.arange(len(code)), period_days)
    day = np.arange(len(row)) - np.repeat(np.cumsum(period_days) - period_days, period_days)
    grid[code[row], newer[row] + day] = inflow[row]
    return grid


def _period_days(ordinal: np.ndarray, freq) -> np.ndarray:
    """Calendar days of each period given by its ordinal (7 for a week, 28-31 for a month) [days]."""
    if len(ordinal) == 0:
        return np.zeros(0, dtype=np.int64)
    if pd.Period(ordinal=0, freq=freq).freqstr.startswith("W"):
        return np.full(len(ordinal), 7, dtype=np.int64)
    return period_lengths(pd.PeriodIndex.from_ordinals(ordinal, freq=freq)).astype(np.int64)


def _last_valid(values: np.ndarray, first: np.ndarray) -> np.ndarray:
    """Per clinic (rows ``first[i]:first[i+1]``, in period order): the last non-NaN value, else NaN."""
    n = len(first) - 1
    if n == 0:
        return np.zeros(0)
    position = np.where(np.isnan(values), -1, np.arange(len(values)))
    last = np.maximum.reduceat(position, first[:-1])
    found = last >= first[:-1]
    return np.where(found, values[np.where(found, last, 0)], np.nan)


def ahead_column(flows: pd.DataFrame) -> str:
    """The column that numbers the coming periods: ``week_ahead`` (weeks) or ``period_ahead`` (months).

    Weekly flows number their weeks ``week_ahead`` (1..H); monthly flows their months
    ``period_ahead`` (with ``period_days``, the days of each month). A frame with
    neither is refused.

    Examples
    --------
    >>> ahead_column(pd.DataFrame(columns=["clinic", "period_ahead"]))
    'period_ahead'
    """
    if "week_ahead" in flows.columns:
        return "week_ahead"
    if "period_ahead" in flows.columns:
        return "period_ahead"
    raise ValueError("flows: missing column 'week_ahead' (or 'period_ahead')")


def as_week_ahead(flows: pd.DataFrame) -> tuple[pd.DataFrame, bool]:
    """Monthly flows (``period_ahead``) numbered as ``week_ahead`` for the period-generic engine.

    The guarantee engine (:class:`ProjectionState`) numbers the coming periods
    ``week_ahead`` and takes their lengths from ``period_days`` (or ``period``): a monthly
    frame is renamed, with ``period_days`` added from its periods, and ``True`` says so,
    so the caller names its result's column ``period_ahead`` again
    (:func:`as_period_ahead`). A weekly frame is returned as it is, with ``False``.

    Examples
    --------
    >>> f = pd.DataFrame({"clinic": "a", "period_ahead": [1],
    ...                   "period": pd.period_range("2024-02", periods=1, freq="M")})
    >>> g, monthly = as_week_ahead(f)
    >>> monthly, g.columns.tolist(), g["period_days"].tolist()
    (True, ['clinic', 'week_ahead', 'period', 'period_days'], [29])
    """
    if "period_ahead" not in flows.columns or "week_ahead" in flows.columns:
        return flows, False
    out = flows.rename(columns={"period_ahead": "week_ahead"})
    if "period_days" not in out.columns:
        out = out.assign(period_days=flow_period_days(out))
    return out, True


def as_period_ahead(frame: pd.DataFrame, monthly: bool) -> pd.DataFrame:
    """The inverse of :func:`as_week_ahead` on a result: ``week_ahead`` back to ``period_ahead`` (and
    ``decide_by_week`` to ``decide_by_period``) when the flows were monthly."""
    if not monthly:
        return frame
    return frame.rename(columns={"week_ahead": "period_ahead", "decide_by_week": "decide_by_period"})


def flow_period_days(flows: pd.DataFrame) -> np.ndarray:
    """Days of each row's period in a flows frame: ``period_days``, else the ``period``'s calendar days, else 7 [days].

    Examples
    --------
    >>> f = pd.DataFrame({"period": pd.period_range("2024-01", periods=3, freq="M")})
    >>> flow_period_days(f).tolist()
    [31, 29, 31]
    """
    if "period_days" in flows.columns:
        days = pd.to_numeric(flows["period_days"], errors="coerce").to_numpy(dtype=float)
    elif "period" in flows.columns and isinstance(flows["period"].dtype, pd.PeriodDtype):
        index = pd.PeriodIndex(flows["period"].array)
        days = np.where(index.isna(), np.nan, period_lengths(index)).astype(float)
    else:
        return np.full(len(flows), 7, dtype=np.int64)
    if np.any(np.isnan(days)) or np.any(days < 1) or np.any(days != np.round(days)):
        raise ValueError("flows: period_days must be whole days >= 1 in every row")
    return days.astype(np.int64)


class ProjectionState:
    """Who waits, by series × priority × entry day, and the flows per period, as arrays.

    The set-up shared by :func:`project_breaches` and the least-purchase search of
    :mod:`kps_analysis.capacity`: entry-day index ``i`` is day ``i - max_age`` (0 =
    today), so a patient's wait at the end of period k is ``max_age + D_k - i`` with
    ``D_k`` the days of periods 1..k (7k for weeks; the months' own lengths for
    months); the service order is priority, then entry day (oldest first). All series
    must have periods of the same lengths (:func:`project_breaches` splits them).
    """

    def __init__(self, waiting: pd.DataFrame, flows: pd.DataFrame, *, order: str, renege_rate_per_week: float,
                 arrival_priority_share=None):
        if order not in ("priority", "fifo"):
            raise ValueError(f"order must be 'priority' or 'fifo', got {order!r}")
        if not 0 <= renege_rate_per_week < 1:
            raise ValueError(f"renege_rate_per_week must be in [0, 1), got {renege_rate_per_week!r}")
        for col in ("clinic", "wait_days"):
            if col not in waiting.columns:
                raise ValueError(f"waiting: missing column {col!r}")
        ahead = ahead_column(flows)
        for col in ("clinic", "inflow", "capacity"):
            if col not in flows.columns:
                raise ValueError(f"flows: missing column {col!r}")
        keys = projection_keys(flows, waiting)
        flows = flows.assign(_days=flow_period_days(flows))
        if "external" not in flows.columns:
            flows["external"] = 0.0
        if (flows[["inflow", "capacity", "external"]].to_numpy(dtype=float) < 0).any():
            raise ValueError("flows: inflow, capacity and external must be non-negative")

        wait = waiting.copy()
        if "patients" not in wait.columns:
            wait["patients"] = 1.0
        if "patient_chosen_wait" in wait.columns:
            wait = wait[~wait["patient_chosen_wait"].fillna(False).astype(bool)]
        use_priority = order == "priority" and "priority" in wait.columns
        wait["_p"] = wait["priority"].astype(str) if use_priority else "all"
        priorities = sorted(wait["_p"].unique()) if len(wait) else ["all"]

        series = flows[keys].drop_duplicates().sort_values(keys).reset_index(drop=True)
        series["_s"] = np.arange(len(series))
        n_s, n_p = len(series), len(priorities)
        horizon = int(flows[ahead].max())
        # days of each coming period, the same for every series
        per_k = flows.groupby(ahead)["_days"].agg(["min", "max"]).reindex(np.arange(1, horizon + 1))
        if (per_k["min"] != per_k["max"]).any():
            raise ValueError("flows: the series have periods of different lengths (weekly and monthly, "
                             "or months not aligned); project them separately")
        days = per_k["max"].fillna(7).to_numpy(dtype=np.int64)
        offset = np.concatenate([[0], np.cumsum(days)])
        wait = wait.merge(series, on=keys, how="inner")
        max_age = int(wait["wait_days"].max()) if len(wait) else 0
        n_e = max_age + 1 + int(offset[-1])  # entry days: index i <-> day (i - max_age); 0 = today
        state = np.zeros((n_s, n_p, n_e))
        p_index = {p: i for i, p in enumerate(priorities)}
        np.add.at(state, (wait["_s"].to_numpy(dtype=np.int64), wait["_p"].map(p_index).to_numpy(dtype=np.int64),
                          max_age - wait["wait_days"].to_numpy(dtype=int)), wait["patients"].to_numpy(float))

        # priority mix of arrivals
        if arrival_priority_share is not None:
            mix = np.array([float(arrival_priority_share.get(p, 0.0)) for p in priorities])
            if mix.sum() <= 0:
                raise ValueError("arrival_priority_share must have a positive share")
            mix = np.tile(mix / mix.sum(), (n_s, 1))
        else:
            recent = state[:, :, max(0, max_age - 28):max_age + 1].sum(axis=2)
            every = state.sum(axis=2)
            base = np.where(recent.sum(axis=1, keepdims=True) > 0, recent, every)
            total = base.sum(axis=1, keepdims=True)
            mix = np.where(total > 0, base / np.where(total > 0, total, 1), 1.0 / n_p)

        grid = series[keys + ["_s"]].merge(pd.DataFrame({ahead: np.arange(1, horizon + 1)}), how="cross")
        f = grid.merge(flows[keys + [ahead, "inflow", "capacity", "external"]], on=keys + [ahead],
                       how="left").sort_values(["_s", ahead])
        self.keys, self.ahead, self.frame, self.state, self.mix = keys, ahead, f, state, mix
        self.n_s, self.n_p, self.n_e, self.max_age, self.horizon = n_s, n_p, n_e, max_age, horizon
        self.days, self.offset = days, offset
        # the weekly renege rate over each period: the same share leaves every 7 days
        self.renege = np.where(days == 7, renege_rate_per_week, 1.0 - (1.0 - renege_rate_per_week) ** (days / 7.0))
        self.inflow = f["inflow"].fillna(0.0).to_numpy().reshape(n_s, horizon)
        self.capacity = f["capacity"].fillna(0.0).to_numpy().reshape(n_s, horizon)
        self.external = f["external"].fillna(0.0).to_numpy().reshape(n_s, horizon)

    def arrive(self, k: int) -> None:
        """Period k's arrivals join the queue, spread evenly over the period's days."""
        first, last = self.max_age + int(self.offset[k]) + 1, self.max_age + int(self.offset[k + 1])
        self.state[:, :, first:last + 1] += (self.inflow[:, k][:, None] * self.mix)[:, :, None] / self.days[k]

    def age_at_end(self, k: int) -> np.ndarray:
        """Days waited at the end of period k, per entry day [days]."""
        return (self.max_age + int(self.offset[k + 1])) - np.arange(self.n_e)


def _one_period_length_signature(flows: pd.DataFrame, keys: list[str], ahead: str, days: np.ndarray) -> bool:
    """Whether every series surely has the same periods' lengths signature, on integer codes.

    True when the days of all periods are the same and every series (rows with a
    missing key or period number left out, as a groupby leaves them) counts the same
    number of distinct coming periods; False when that is not shown (then the
    signatures are compared as strings). No Python-level loop over the series.
    """
    codes = [pd.factorize(flows[k], use_na_sentinel=True)[0] for k in keys]
    steps, n_steps = pd.factorize(flows[ahead], use_na_sentinel=True)
    keep = (steps >= 0) & np.logical_and.reduce([c >= 0 for c in codes])
    if not keep.any():
        return True
    if np.any(days[keep] != days[keep][0]):
        return False
    series = np.zeros(int(keep.sum()), dtype=np.int64)
    for c in codes:  # one small integer per combination of the keys
        c = c[keep]
        series = pd.factorize(series * (int(c.max()) + 1) + c)[0]
    pairs = np.unique(series * len(n_steps) + steps[keep])
    periods_per_series = np.bincount(pairs // len(n_steps))
    return bool(periods_per_series.min() == periods_per_series.max())


def _split_by_period_lengths(flows: pd.DataFrame) -> list[pd.DataFrame]:
    """The flows in parts whose series share their periods' lengths (one part when all do)."""
    ahead = ahead_column(flows)
    keys = [k for k in ("clinic", "group", "stage") if k in flows.columns]
    days = flow_period_days(flows)
    if _one_period_length_signature(flows, keys, ahead, days):
        return [flows]
    days = pd.Series(days, index=flows.index)
    signature = (days.astype(str).groupby([flows[k] for k in keys] + [flows[ahead]], sort=True).first()
                 .groupby(level=list(range(len(keys)))).agg(",".join))
    if signature.nunique() <= 1:
        return [flows]
    label = pd.MultiIndex.from_frame(flows[keys]) if len(keys) > 1 else pd.Index(flows[keys[0]])
    sig = signature.reindex(label).to_numpy()
    return [flows[sig == s] for s in pd.unique(sig)]


@renamed_keyword("limit_days", "guarantee_days")
def project_breaches(waiting: pd.DataFrame, flows: pd.DataFrame, *, guarantee_days: float = 90,
                     order: str = "priority", renege_rate_per_week: float = 0.0,
                     arrival_priority_share=None) -> pd.DataFrame:
    """Project, period by period, how many waiting patients will be past the guarantee limit.

    Each future period ``k`` (1..H, weeks or months): the period's arrivals join the
    queue (spread evenly over its days: 7 for a week, 28-31 for a month); then
    ``capacity + external`` patients are served, by medical priority and within a
    priority longest wait first (``order="priority"``), or longest wait first
    regardless of priority (``order="fifo"``); then a share ``renege_rate_per_week`` of
    those still waiting leaves (compounded over a month's days). At the period's end,
    ``over_limit`` counts the patients who have waited more than ``guarantee_days``:

        queue[k] = queue[k-1] + inflow[k] - served[k] - reneged[k]     [patients]
        served[k] = min(capacity[k] + external[k], queue[k-1] + inflow[k])

    Patients who chose to wait longer (``patient_chosen_wait``) are left out, as in the
    national measurement. Vectorised over all clinic × stage series at once.

    Parameters
    ----------
    waiting : DataFrame
        Who waits now: ``clinic``, optional ``group``/``stage``/``priority``,
        ``wait_days`` [days] and ``patients`` [patients] (if absent, each row is one
        patient, as from :func:`kps_analysis.data.waiting_snapshot`), optional
        ``patient_chosen_wait``. See also :func:`waiting_from_aggregates`.
    flows : DataFrame
        Per series and future period: the same key columns, ``week_ahead`` (1..H) for
        weeks or ``period_ahead`` for months (then the months' lengths come from
        ``period_days`` [days] or the ``period`` column), ``inflow``
        [patients/period], ``capacity`` [patients/period] and optionally ``external``
        (purchased care, served the same way) [patients/period]. Series whose
        periods differ in length are projected separately.
    guarantee_days : float
        Guarantee limit; waits strictly longer count as over [days].
    order : {"priority", "fifo"}
        Serving order.
    renege_rate_per_week : float
        Share of the waiting who leave the list each week without care [1/week].
    arrival_priority_share : mapping, optional
        Priority mix of new arrivals, e.g. ``{"1": 0.2, "2": 0.5, "3": 0.3}``; default:
        the mix among each series' patients who have waited 28 days or less.

    Returns
    -------
    DataFrame
        Key columns, ``week_ahead`` (``period_ahead`` and ``period_days`` for months),
        ``inflow``, ``served``, ``unused_capacity``, ``reneged`` [patients/period],
        ``queue`` and ``over_limit`` [patients] (expected values; may be fractional).

    Raises
    ------
    ValueError
        For an unknown ``order``, negative flows or rate, or missing columns.

    Examples
    --------
    40 patients waited 80 days, 40 waited 10; capacity 10 a week, no arrivals. Served
    longest wait first, after two weeks 20 of the 80-day group remain at 94 days.

    >>> wait = pd.DataFrame({"clinic": "a", "wait_days": [80, 10], "patients": [40, 40]})
    >>> flows = pd.DataFrame({"clinic": "a", "week_ahead": [1, 2], "inflow": 0.0, "capacity": 10.0})
    >>> project_breaches(wait, flows, order="fifo")[["week_ahead", "queue", "over_limit"]].values.tolist()
    [[1.0, 70.0, 0.0], [2.0, 60.0, 20.0]]

    References
    ----------
    Hälso- och sjukvårdslagen (2017:30) 9 kap. 1 §, the care guarantee; Little, J.D.C.
    (1961) for queue = arrivals × wait.
    """
    parts = _split_by_period_lengths(flows) if isinstance(flows, pd.DataFrame) and len(flows) else [flows]
    if len(parts) > 1:  # e.g. monthly clinics whose months are not the same: each set on its own
        return pd.concat([project_breaches(waiting, part, guarantee_days=guarantee_days, order=order,
                                           renege_rate_per_week=renege_rate_per_week,
                                           arrival_priority_share=arrival_priority_share) for part in parts],
                         ignore_index=True)
    ps = ProjectionState(waiting, flows, order=order, renege_rate_per_week=renege_rate_per_week,
                         arrival_priority_share=arrival_priority_share)
    n_s, n_p, n_e, horizon = ps.n_s, ps.n_p, ps.n_e, ps.horizon
    service = ps.capacity + ps.external
    out = {k: np.zeros((n_s, horizon)) for k in ("served", "unused_capacity", "reneged", "queue", "over_limit")}
    for k in range(horizon):
        ps.arrive(k)
        flat = ps.state.reshape(n_s, n_p * n_e)  # service order: priority, then oldest entry
        before = np.cumsum(flat, axis=1) - flat
        served = np.clip(service[:, k][:, None] - before, 0.0, flat)
        flat -= served
        out["served"][:, k] = served.sum(axis=1)
        out["unused_capacity"][:, k] = service[:, k] - out["served"][:, k]
        if renege_rate_per_week:
            gone = flat * ps.renege[k]
            flat -= gone
            out["reneged"][:, k] = gone.sum(axis=1)
        ps.state = flat.reshape(n_s, n_p, n_e)
        out["queue"][:, k] = ps.state.sum(axis=(1, 2))
        out["over_limit"][:, k] = ps.state[:, :, ps.age_at_end(k) > guarantee_days].sum(axis=(1, 2))
    keys, f, inflow, ahead = ps.keys, ps.frame, ps.inflow, ps.ahead
    result = f[keys + [ahead]].reset_index(drop=True).copy()
    result[ahead] = result[ahead].astype(float)
    if ahead == "period_ahead":
        result["period_days"] = np.tile(ps.days, n_s)
    result["inflow"] = inflow.ravel()
    for name, values in out.items():
        result[name] = np.round(values.ravel(), 9)
    return result
