"""Demand forecasts with prediction intervals, and rolling-origin backtests.

* :func:`forecast_demand`: point forecasts and prediction intervals per clinic and
  future period (weekly ``W-SUN`` or monthly ``M``) by seasonal naive, seasonal profile
  × level and damped trend, or seasonal exponential smoothing (Holt-Winters with a
  damped trend); ``method="auto"`` picks per clinic by a short rolling-origin backtest.
* :func:`backtest`: rolling-origin evaluation (MASE, sMAPE, bias, interval coverage).
* :func:`adjust_forecast`: scenario adjustments on top of a forecast.

Working days (:func:`kps_analysis.calendar.working_days`) enter the ``profile`` and
``ets`` methods: both model the rate per working day, so a week with two public
holidays is forecast lower than a full week. The ``seasonal_naive`` method is the plain
benchmark "same period last year" (``season_length`` periods back) and ignores them.

The per-clinic computations are small numpy operations; the loop is over clinics
(never over rows). ETS fitting (statsmodels) dominates the run time.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from kps_analysis import calendar as _cal
from kps_analysis import seasonal as _seasonal

__all__ = ["forecast_demand", "backtest", "adjust_forecast", "METHODS"]

METHODS = ("seasonal_naive", "profile", "ets", "combo", "auto")
_SEASON = {"W": 52, "M": 12}
_N_SIM = 500


# ----------------------------------------------------------------------------- helpers
def _freq_of(periods: pd.Series) -> str:
    dtype = periods.dtype
    if not isinstance(dtype, pd.PeriodDtype):
        raise ValueError(f"history['period'] must hold pandas Periods (W-SUN or M), got {dtype}")
    code = dtype.freq.freqstr
    if code.startswith("W"):
        if code != "W-SUN":
            raise ValueError(f"history['period'] weekly periods must be W-SUN, got {code}")
        return "W"
    if code in ("M", "ME"):
        return "M"
    raise ValueError(f"history['period'] must be weekly (W-SUN) or monthly (M), got {code}")


def _pfreq(freq: str) -> str:
    return "W-SUN" if freq == "W" else "M"


def _season_index(periods: pd.PeriodIndex, freq: str) -> np.ndarray:
    if freq == "W":
        return np.asarray(periods.start_time.isocalendar().week, dtype=int)
    return np.asarray(periods.month, dtype=int)


def _iso_year(periods: pd.PeriodIndex, freq: str) -> np.ndarray:
    if freq == "W":
        return np.asarray(periods.start_time.isocalendar().year, dtype=int)
    return np.asarray(periods.year, dtype=int)


def _check_levels(levels) -> tuple:
    try:
        lv = tuple(sorted(float(x) for x in levels))
    except TypeError:
        raise ValueError(f"levels must be an iterable of numbers in (0, 100), got {levels!r}") from None
    if not lv or any(not 0 < x < 100 for x in lv) or len(set(lv)) != len(lv):
        raise ValueError(f"levels must be distinct numbers in (0, 100), got {levels!r}")
    return lv


def _lname(level: float) -> str:
    return str(int(level)) if float(level).is_integer() else str(level).replace(".", "_")


def _exclude_mask(periods: pd.PeriodIndex, freq: str, exclude) -> np.ndarray:
    mask = np.zeros(len(periods), dtype=bool)
    if exclude is None:
        return mask
    if isinstance(exclude, tuple) and all(isinstance(x, (int, np.integer)) for x in exclude):
        exclude = list(exclude)  # a tuple of years, e.g. from the parameters (2020,)
    elif isinstance(exclude, (int, np.integer, tuple)) and not isinstance(exclude, bool):
        exclude = [exclude]
    years = _iso_year(periods, freq)
    for item in exclude:
        if isinstance(item, (int, np.integer)) and not isinstance(item, bool):
            mask |= years == int(item)
        elif isinstance(item, (tuple, list)) and len(item) == 2:
            try:
                lo, hi = (_to_period(x, freq) for x in item)
            except (ValueError, TypeError):
                raise ValueError(f"exclude: cannot read period pair {item!r}") from None
            mask |= (periods >= lo) & (periods <= hi)
        else:
            raise ValueError(f"exclude items must be years or (start, end) pairs, got {item!r}")
    return mask


def _to_period(x, freq: str) -> pd.Period:
    if isinstance(x, pd.Period):
        return x.asfreq(_pfreq(freq)) if x.freqstr != _pfreq(freq) else x
    if isinstance(x, str) and "-W" in x.upper():
        return _cal.parse_iso_week([x])[0] if freq == "W" else pd.Period(
            _cal.parse_iso_week([x])[0].start_time, freq="M")
    return pd.Period(x, freq=_pfreq(freq))


@dataclass
class _Series:
    clinic: str
    periods: pd.PeriodIndex   # contiguous, first..last reported period
    y: np.ndarray             # cleaned values (exclusions replaced, gaps filled)
    wd: np.ndarray            # working days per period [days]
    season: np.ndarray        # ISO week 1-53 or month 1-12
    filled: np.ndarray        # True where y was excluded or unreported and estimated
    future: pd.PeriodIndex
    wd_future: np.ndarray
    season_future: np.ndarray

    def head(self, n: int, horizon: int) -> "_Series":
        """The first n periods as history, the following ``horizon`` as future."""
        allp = self.periods.append(self.future)
        wd = np.concatenate([self.wd, self.wd_future])
        se = np.concatenate([self.season, self.season_future])
        fut = pd.period_range(self.periods[n - 1] + 1, periods=horizon, freq=self.periods.freq)
        k = min(len(allp), n + horizon)
        wdf = np.concatenate([wd[n:k], _cal.working_days(fut[k - n:]).to_numpy(float)])
        freq = "W" if self.periods.freqstr.startswith("W") else "M"
        sef = np.concatenate([se[n:k], _season_index(fut[k - n:], freq)])
        return _Series(self.clinic, self.periods[:n], self.y[:n], self.wd[:n], self.season[:n],
                       self.filled[:n], fut, wdf, sef)


def _fill_from_years(y: np.ndarray, bad: np.ndarray, m: int) -> np.ndarray:
    """Replace y[bad] by the mean of the same period in the nearest good years."""
    out = np.where(bad, np.nan, y)
    good = out.copy()
    n = len(y)
    idx = np.flatnonzero(bad)
    for k in (1, 2, 3):
        rem = idx[~np.isfinite(out[idx])]
        if len(rem) == 0:
            break
        vals = []
        for j in (rem - k * m, rem + k * m):
            ok = (j >= 0) & (j < n)
            v = np.full(len(rem), np.nan)
            v[ok] = good[j[ok]]
            vals.append(v)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            out[rem] = np.nanmean(np.vstack(vals), axis=0)
    if not np.isfinite(out).all():
        out = pd.Series(out).interpolate(limit_direction="both").to_numpy()
        if not np.isfinite(out).all():
            out = np.nan_to_num(out)
    return out


def _prepare(history, measure, horizon, exclude, freq_hint=None):
    if not isinstance(history, pd.DataFrame):
        raise ValueError(f"history must be a DataFrame, got {type(history).__name__}")
    missing = [c for c in ("clinic", "period", measure) if c not in history.columns]
    if missing:
        raise ValueError(f"history lacks column(s) {missing} (measure={measure!r})")
    vals = history[measure]
    if pd.api.types.is_bool_dtype(vals.dtype) or not pd.api.types.is_numeric_dtype(vals.dtype):
        raise ValueError(f"measure {measure!r} must be numeric, got dtype {vals.dtype}")
    if (vals < 0).any():
        raise ValueError(f"measure {measure!r} has negative values; counts must be >= 0")
    freq = _freq_of(history["period"])
    data = (history[["clinic", "period", measure]].astype({measure: "float64"})
            .groupby(["clinic", "period"], sort=True, observed=True)[measure]
            .sum(min_count=1).reset_index())
    data = data[data[measure].notna()]
    if data.empty:
        raise ValueError(f"history has no reported values of {measure!r}")
    pf = _pfreq(freq)
    first = pd.PeriodIndex(data["period"]).min()
    last = pd.PeriodIndex(data["period"]).max()
    allp = pd.period_range(first, last + horizon, freq=pf)
    wd_all = _cal.working_days(allp).to_numpy(dtype=float)
    se_all = _season_index(allp, freq)
    excl_all = _exclude_mask(allp, freq, exclude)
    m = _SEASON[freq]
    out, n_excl, n_gap = [], 0, 0
    for clinic, g in data.groupby("clinic", sort=True):
        p = pd.PeriodIndex(g["period"])
        i0 = allp.get_loc(p.min())
        i1 = allp.get_loc(p.max())
        y = np.full(i1 - i0 + 1, np.nan)
        y[np.asarray(allp[i0:i1 + 1].get_indexer(p))] = g[measure].to_numpy(float)
        excl = excl_all[i0:i1 + 1]
        bad = excl | ~np.isfinite(y)
        n_excl += int((excl & np.isfinite(y)).sum())
        n_gap += int((~np.isfinite(y) & ~excl).sum())
        if bad.any():
            y = _fill_from_years(y, bad, m)
        fut = pd.period_range(allp[i1] + 1, periods=horizon, freq=pf)
        j = slice(i1 + 1, i1 + 1 + horizon)
        out.append(_Series(str(clinic), allp[i0:i1 + 1], y, wd_all[i0:i1 + 1], se_all[i0:i1 + 1],
                           bad, fut, wd_all[j], se_all[j]))
    if n_excl:
        warnings.warn(f"forecast: {n_excl} excluded period value(s) of {measure!r} replaced by the "
                      "mean of the same period in the surrounding years before fitting",
                      UserWarning, stacklevel=3)
    if n_gap:
        warnings.warn(f"forecast: {n_gap} unreported period(s) of {measure!r} filled from the same "
                      "period in the surrounding years (or interpolated) before fitting",
                      UserWarning, stacklevel=3)
    return freq, out


def _profile_factors(series: list, freq: str) -> dict:
    frame = pd.concat([pd.DataFrame({"clinic": s.clinic, "period": s.periods, "y": s.y})
                       for s in series], ignore_index=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prof = _seasonal.seasonal_profile(frame, measure="y", freq=freq, min_years=2,
                                          working_days=True)
    out = {}
    size = 54 if freq == "W" else 13
    for clinic, g in prof.groupby("clinic", sort=False):
        f = np.ones(size)
        f[g["season"].to_numpy(int)] = g["factor"].to_numpy(float)
        f = np.where(np.isfinite(f) & (f > 0), f, 1.0)
        out[str(clinic)] = f
    return out


# ----------------------------------------------------------------------------- methods
def _q(levels):
    return [((100 - lv) / 200, (100 + lv) / 200) for lv in levels]


def _naive(s: _Series, h: int, m: int, levels):
    y = s.y
    n = len(y)
    i = np.arange(1, h + 1)
    k = np.ceil(i / m).astype(int)
    src = n - 1 + i - m * k
    mean = y[src]
    err = np.where(s.filled[m:] | s.filled[:-m], np.nan, y[m:] - y[:-m])
    err = err[np.isfinite(err)]
    bounds = []
    for ql, qh in _q(levels):
        lo_q, hi_q = (np.quantile(err, [ql, qh]) if len(err) else (0.0, 0.0))
        sc = np.sqrt(k)
        bounds.append((mean + lo_q * sc, mean + hi_q * sc))
    return mean, bounds


def _line_end(d: np.ndarray, w: int):
    """Least-squares line through the last ``w`` finite values of d: (level at end, slope)."""
    x = np.arange(len(d) - w, len(d), dtype=float)
    dw = d[-w:]
    ok = np.isfinite(dw)
    if ok.sum() < 3:
        lvl = float(np.nanmean(dw)) if ok.any() else 0.0
        return lvl, 0.0
    xs, ds = x[ok], dw[ok]
    xm = xs.mean()
    sxx = ((xs - xm) ** 2).sum()
    b = float(((xs - xm) * (ds - ds.mean())).sum() / sxx) if sxx > 0 else 0.0
    return float(ds.mean() + b * (len(d) - 1 - xm)), b


def _profile_path(d: np.ndarray, h: int, m: int) -> np.ndarray:
    """Damped-trend extrapolation of the deseasonalised rate, h periods ahead."""
    level, b = _line_end(d, min(len(d), 2 * m))
    phi = m / (m + 1.0)
    steps = np.arange(1, h + 1)
    return np.maximum(level + b * phi * (1 - phi ** steps) / (1 - phi), 0.0)


def _profile(s: _Series, h: int, m: int, levels, factors: np.ndarray, intervals: bool = True):
    base = s.wd * factors[s.season]
    with np.errstate(divide="ignore", invalid="ignore"):
        d = np.where(base > 0, s.y / base, np.nan)
    d_fit = np.where(s.filled, np.nan, d)
    n = len(d)
    mean = _profile_path(d_fit, h, m) * factors[s.season_future] * s.wd_future
    if not intervals:
        return mean, []
    # empirical h-step errors (log ratio actual / forecast) from in-sample origins
    first = max(m, n - 1 - 3 * m)
    origins = np.arange(first, n - 1)
    hh = min(h, 2 * m)
    err = np.full((len(origins), hh), np.nan)
    for r, u in enumerate(origins):
        k = min(hh, n - 1 - u)
        path = _profile_path(d_fit[:u + 1], k, m)
        with np.errstate(divide="ignore", invalid="ignore"):
            err[r, :k] = np.log(d_fit[u + 1:u + 1 + k] / path)
    # the profile factors are estimated from the same years (each from K yearly values,
    # by the median): inflate the in-sample errors to out-of-sample size,
    # var_out / var_in ~ (1 + 1.57/K) / (1 - 1/K)   (1.57 = efficiency loss of a median)
    n_years = max(n / m, 2.0)
    inflate = math.sqrt((1 + 1.57 / n_years) / (1 - 1 / n_years))
    err = err * inflate
    size = max(1, m // 4)
    bounds = [(np.empty(h), np.empty(h)) for _ in levels]
    prev = [(0.0, 0.0)] * len(levels)
    for start in range(0, h, size):
        blk = err[:, min(start, hh - 1 - (hh - 1) % size):min(start + size, hh)]
        e = blk[np.isfinite(blk)]
        if len(e) < 10:
            e = err[np.isfinite(err)]
        for j, (ql, qh) in enumerate(_q(levels)):
            lo_q, hi_q = np.quantile(e, [ql, qh]) if len(e) >= 2 else (0.0, 0.0)
            lo_q, hi_q = min(lo_q, prev[j][0]), max(hi_q, prev[j][1])  # never narrower
            prev[j] = (lo_q, hi_q)
            sl = slice(start, start + size)
            bounds[j][0][sl] = mean[sl] * np.exp(lo_q)
            bounds[j][1][sl] = mean[sl] * np.exp(hi_q)
    return mean, bounds


def _ets(s: _Series, h: int, m: int, levels, seed: int = 2019, intervals: bool = True):
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    wbar = float(np.mean(s.wd[s.wd > 0])) if (s.wd > 0).any() else 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        adj = np.where(s.wd > 0, s.y / s.wd * wbar, np.nan)
    adj = pd.Series(adj).interpolate(limit_direction="both").to_numpy()
    seasonal = "mul" if (adj > 0).all() else "add"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = ExponentialSmoothing(adj, trend="add", damped_trend=True, seasonal=seasonal,
                                     seasonal_periods=m, initialization_method="heuristic")
        res = model.fit(use_brute=False)
        name = f"ets(A,Ad,{'M' if seasonal == 'mul' else 'A'})"
        if not intervals:
            return np.asarray(res.forecast(h), dtype=float) * (s.wd_future / wbar), [], name
        sims = res.simulate(h, repetitions=_N_SIM, error="mul" if seasonal == "mul" else "add",
                            anchor="end", random_state=seed)
    sims = np.asarray(sims).reshape(h, -1)
    scale = (s.wd_future / wbar)[:, None]
    sims = np.maximum(sims, 0.0) * scale
    mean = np.asarray(res.forecast(h), dtype=float) * scale[:, 0]
    bounds = []
    for ql, qh in _q(levels):
        bounds.append((np.quantile(sims, ql, axis=1), np.quantile(sims, qh, axis=1)))
    return mean, bounds, name


def _mean_method(s: _Series, h: int, m: int, levels):
    y = s.y[-min(len(s.y), m):]
    mu = float(np.mean(y)) if len(y) else 0.0
    err = y - mu
    mean = np.full(h, mu)
    bounds = []
    for ql, qh in _q(levels):
        lo_q, hi_q = np.quantile(err, [ql, qh]) if len(err) > 1 else (0.0, 0.0)
        infl = math.sqrt(1 + 1 / max(len(y), 1))
        bounds.append((mean + lo_q * infl, mean + hi_q * infl))
    return mean, bounds


def _finish(mean, bounds):
    mean = np.maximum(np.nan_to_num(np.asarray(mean, float)), 0.0)
    out, prev_lo, prev_hi = [], mean, mean
    for lo, hi in bounds:
        lo = np.minimum(np.maximum(np.nan_to_num(lo), 0.0), prev_lo)
        hi = np.maximum(np.nan_to_num(hi), prev_hi)
        out.append((lo, hi))
        prev_lo, prev_hi = lo, hi
    return mean, out


def _mase(actual, fc, scale):
    return float(np.mean(np.abs(actual - fc)) / scale) if scale > 0 else np.nan


def _naive_scale(y, m):
    e = np.abs(y[m:] - y[:-m])
    e = e[np.isfinite(e)]
    return float(e.mean()) if len(e) else np.nan


def _run_method(s, method, h, m, levels, factors, freq, intervals: bool = True):
    """Mean and interval bounds of one method; ``intervals=False`` skips the bounds
    (returned empty), which the model choice does not need."""
    if method == "seasonal_naive":
        mean, b = _naive(s, h, m, levels)
        return mean, b, "seasonal_naive"
    if method == "profile":
        f = factors if factors is not None else _profile_factors([s], freq)[s.clinic]
        mean, b = _profile(s, h, m, levels, f, intervals=intervals)
        return mean, b, "profile"
    if method == "ets":
        return _ets(s, h, m, levels, intervals=intervals)
    if method == "combo":
        m1, b1, _ = _run_method(s, "profile", h, m, levels, factors, freq)
        m2, b2, name2 = _ets(s, h, m, levels)
        m1, b1 = _finish(m1, b1)
        m2, b2 = _finish(m2, b2)
        bounds = [((l1 + l2) / 2, (u1 + u2) / 2) for (l1, u1), (l2, u2) in zip(b1, b2)]
        return (m1 + m2) / 2, bounds, f"combo(profile,{name2})"
    if method == "mean":
        mean, b = _mean_method(s, h, m, levels)
        return mean, b, "mean"
    raise ValueError(f"method must be one of {METHODS}, got {method!r}")


_AUTO_ORIGINS = 6
_AUTO_MARGIN = 0.10


def _choose(s, h, m, levels, freq, n_origins=None, margin=None):
    """Pick a model per clinic by the mean MASE over in-sample rolling origins.

    Candidates: profile, ETS and their combination (the average of the two forecasts).
    The seasonal naive is the benchmark the models must beat, not a candidate: picked
    by a short in-sample backtest it often "won" on a run of quiet years and then lost
    out of sample (measured during development on real A&E series: median MASE 1.37
    with it as a candidate, 1.13 without; benchmarks/README.md). The origins are spread over the
    last two seasons of the history (``n_origins``, 6 by default, fewer when the
    history is short), so the choice sees every time of year. Combinations are hard to
    beat out of sample (the M3/M4 competitions) and a choice between close candidates
    is noise, so the combination is kept unless another candidate's mean MASE is lower
    by more than ``margin`` (10 %) *and* it is the better one at most of the origins.
    """
    n_origins = _AUTO_ORIGINS if n_origins is None else n_origins
    margin = _AUTO_MARGIN if margin is None else margin
    n = len(s.y)
    # the held-out stretch: the horizon, at most a season, shorter when the history is
    # short (each origin keeps two seasons to fit on); too short to judge -> combination
    hb = min(h, m, n - 2 * m - 1)
    if hb < max(2, m // 4):
        return "combo"
    step = max(1, (2 * m - hb) // max(n_origins - 1, 1))
    names = ("profile", "ets", "combo")
    errs = {k: [] for k in names}
    failed = set()
    cuts = [c for c in (n - hb - j * step for j in range(n_origins)) if c >= 2 * m + 1]
    subs = [replace(s.head(cut, hb), clinic=str(j)) for j, cut in enumerate(cuts)]
    # the seasonal profile of every origin's history in one vectorised call
    try:
        factors = _profile_factors(subs, freq) if subs else {}
    except ValueError:
        factors = {}
    for cut, sub in zip(cuts, subs):
        actual, scale = s.y[cut:cut + hb], _naive_scale(sub.y, m)
        fcs = {}
        for method in ("profile", "ets"):
            if method in failed:
                continue
            try:
                fcs[method] = np.maximum(_run_method(sub, method, hb, m, levels, factors.get(sub.clinic),
                                                     freq, intervals=False)[0], 0)
            except Exception:  # a failed fit disqualifies the method
                failed.add(method)
        if "profile" in fcs and "ets" in fcs:
            fcs["combo"] = (fcs["profile"] + fcs["ets"]) / 2
        for method in names:
            errs[method].append(_mase(actual, fcs[method], scale) if method in fcs else np.nan)
    if "ets" in failed or "profile" in failed:
        failed.add("combo")
    table = {k: np.asarray(v, float) for k, v in errs.items()
             if v and k not in failed and np.all(np.isfinite(v))}
    if not table:
        return "combo" if "combo" not in failed else "seasonal_naive"  # the benchmark as a last resort
    scores = {k: float(v.mean()) for k, v in table.items()}
    best = min(scores, key=scores.get)
    if "combo" in scores and best != "combo":
        wins = float(np.mean(table[best] < table["combo"]))
        if scores[best] >= (1 - margin) * scores["combo"] or wins <= 0.5:
            return "combo"
    return best


# ----------------------------------------------------------------------------- public
def forecast_demand(history: pd.DataFrame, *, measure: str, horizon: int, levels=(80, 95),
                    method: str = "auto", exclude=None, season_length: int | None = None
                    ) -> pd.DataFrame:
    """Forecast a demand measure per clinic with prediction intervals.

    Methods (per clinic; ``m`` = season length, 52 weeks or 12 months):

    * ``"seasonal_naive"``: ``mean[T+i] = y[T+i-m*k]``, ``k = ceil(i/m)`` (same period
      last year); interval = mean + empirical quantiles of the in-sample seasonal-naive
      errors ``y[t] - y[t-m]`` × ``sqrt(k)`` [count/period].
    * ``"profile"``: rate per working day ``d[t] = y[t] / (working_days[t] · f[season])``
      with the clinic's seasonal profile ``f`` (:func:`kps_analysis.seasonal.seasonal_profile`);
      a straight line fitted to ``d`` over the last two seasons, its trend damped with
      ``phi = m/(m+1)`` per period; ``mean = d̂ · f · working_days`` of each future
      period. Intervals: empirical quantiles of the in-sample log residuals combined
      with the standard error of the fitted level.
    * ``"ets"``: Holt-Winters exponential smoothing (statsmodels), additive damped trend,
      multiplicative seasonality (additive if any value is 0), fitted to the working-day
      adjusted series; intervals from 500 simulated future paths.
    * ``"combo"``: the average of the ``profile`` and ``ets`` forecasts and of their
      interval bounds (quantile averaging).
    * ``"auto"``: per clinic, the in-sample MASE of ``profile``, ``ets`` and ``combo`` over
      six rolling origins spread over the last two seasons of the history; the
      combination is kept unless another model's mean MASE is more than 10 % lower
      and it is the better one at most origins (a choice from a few origins is noisy).
      The seasonal naive is the benchmark, not a candidate; it is used when the models
      cannot be fitted. With less than a season to hold out, the combination is used.

    Fallbacks, each with a warning: fewer than two seasons of history -> seasonal naive
    (one season or more) or the mean of the history; a series with more than 30 % zero
    periods -> the mean of the last season; periods in ``exclude`` are replaced by the
    mean of the same period in the surrounding years before any fitting; unreported
    periods are filled the same way. Forecasts are never negative, ``lo <= mean <= hi``
    and wider levels give wider intervals.

    Parameters
    ----------
    history : DataFrame
        Long frame with ``clinic``, ``period`` (W-SUN or M) and ``measure``; rows of
        the same clinic and period (e.g. several groups) are summed [count/period].
    measure : str
        Column to forecast, e.g. ``"referrals_in"`` [count/period].
    horizon : int
        Number of future periods per clinic [weeks or months].
    levels : iterable of float, optional
        Interval coverage levels in percent, default ``(80, 95)`` [%].
    method : {"auto", "seasonal_naive", "profile", "ets", "combo"}, optional
        Forecast method; default ``"auto"``.
    exclude : iterable, optional
        Anomalous periods to disregard: years (``2020``; ISO year for weekly data) or
        ``(start, end)`` period pairs (``("2020-03", "2020-06")``).
    season_length : int, optional
        Periods per season; default 52 (weekly) or 12 (monthly) [periods].

    Returns
    -------
    DataFrame
        One row per clinic and future period: ``clinic``, ``period``, ``mean``,
        ``lo_<level>``, ``hi_<level>`` for each level, ``model`` (method used)
        [count/period].

    Raises
    ------
    ValueError
        If a column is missing, the measure is not numeric or negative, periods are not
        W-SUN/M Periods, ``horizon`` is not a positive whole number, ``levels`` are not
        in (0, 100) or ``method`` is unknown.

    Examples
    --------
    Three years of a monthly series that is 10 every month except 20 each December:
    the seasonal naive forecast for the next December is last December's 20, and
    the in-sample errors are all 0, so the intervals collapse on the mean:

    >>> months = pd.period_range("2021-01", "2023-12", freq="M")
    >>> h = pd.DataFrame({"clinic": "a", "period": months,
    ...                   "referrals_in": [20.0 if p.month == 12 else 10.0 for p in months]})
    >>> fc = forecast_demand(h, measure="referrals_in", horizon=12, method="seasonal_naive")
    >>> fc.iloc[[0, 11]][["mean", "lo_95", "hi_95"]].to_dict("list")
    {'mean': [10.0, 20.0], 'lo_95': [10.0, 20.0], 'hi_95': [10.0, 20.0]}
    >>> str(fc["period"].iloc[11]), fc["model"].iloc[11]
    ('2024-12', 'seasonal_naive')

    References
    ----------
    .. [1] Hyndman, R.J. & Athanasopoulos, G. (2021) Forecasting: principles and
       practice, 3rd ed., OTexts (seasonal naive, ETS, MASE, prediction intervals).
    """
    if isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer)) or horizon < 1:
        raise ValueError(f"horizon must be a whole number >= 1, got {horizon!r}")
    horizon = int(horizon)
    lv = _check_levels(levels)
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    freq, series = _prepare(history, measure, horizon, exclude)
    m = _SEASON[freq] if season_length is None else int(season_length)
    if m < 2:
        raise ValueError(f"season_length must be >= 2, got {season_length!r}")
    # seasonal profiles of all clinics in one vectorised call (profile, combo, auto)
    factors = _profile_factors(series, freq) if method in ("profile", "combo", "auto") else {}
    short, sparse, failed_fits, rows = [], [], [], []
    for s in series:
        n = len(s.y)
        zero_share = float(np.mean(s.y <= 0)) if n else 1.0
        use = method
        if zero_share > 0.3:
            use = "mean"
            sparse.append(s.clinic)
        elif n < 2 * m + 1 and method != "seasonal_naive":
            use = "seasonal_naive" if n >= m + 1 else "mean"
            short.append(f"{s.clinic} ({n} periods -> {use})")
        elif n < m + 1:
            use = "mean"
            short.append(f"{s.clinic} ({n} periods -> mean)")
        elif use == "auto":
            use = _choose(s, horizon, m, lv, freq)
        try:
            mean, bounds, name = _run_method(s, use, horizon, m, lv, factors.get(s.clinic), freq)
        except (ValueError, np.linalg.LinAlgError, FloatingPointError) as exc:
            if use in ("seasonal_naive", "mean"):
                raise
            fallback = "seasonal_naive" if n >= m + 1 else "mean"
            failed_fits.append(f"{s.clinic} ({use}: {exc} -> {fallback})")
            mean, bounds, name = _run_method(s, fallback, horizon, m, lv, None, freq)
        mean, bounds = _finish(mean, bounds)
        cols = {"clinic": s.clinic, "period": s.future, "mean": mean}
        for level, (lo, hi) in zip(lv, bounds):
            cols[f"lo_{_lname(level)}"] = lo
            cols[f"hi_{_lname(level)}"] = hi
        cols["model"] = name
        rows.append(pd.DataFrame(cols))
    if short:
        warnings.warn("forecast: less than two seasons of history for " + ", ".join(short),
                      UserWarning, stacklevel=2)
    if failed_fits:
        warnings.warn("forecast: the model could not be fitted for " + ", ".join(failed_fits),
                      UserWarning, stacklevel=2)
    if sparse:
        warnings.warn("forecast: intermittent or zero series (over 30 % zero periods) forecast by "
                      "the mean of the last season: " + ", ".join(sparse), UserWarning, stacklevel=2)
    out = pd.concat(rows, ignore_index=True)
    out["clinic"] = out["clinic"].astype(str)
    out["model"] = out["model"].astype(str)
    return out


def _origin_periods(history, origins, horizon, m, freq):
    last = pd.PeriodIndex(history["period"]).max()
    first = pd.PeriodIndex(history["period"]).min()
    if isinstance(origins, (int, np.integer)) and not isinstance(origins, bool):
        if origins < 1:
            raise ValueError(f"origins must be >= 1 or a list of periods, got {origins!r}")
        hi = last - horizon
        lo = min(last - 2 * m, hi)
        if hi <= first:
            raise ValueError(f"origins: history too short for a backtest with horizon={horizon}")
        lo = max(lo, first + 1)
        ords = np.unique(np.round(np.linspace(0, (hi - lo).n, int(origins))).astype(int))
        return [lo + int(k) for k in ords]
    try:
        out = [_to_period(o, freq) for o in origins]
    except (TypeError, ValueError):
        raise ValueError(f"origins must be an int or a list of periods, got {origins!r}") from None
    if not out:
        raise ValueError("origins is empty")
    bad = [str(o) for o in out if o < first or o >= last]
    if bad:
        raise ValueError(f"origins {bad} lie outside the history ({first} .. {last} exclusive)")
    return out


def backtest(history: pd.DataFrame, *, measure: str, horizon: int, origins,
             methods=("seasonal_naive", "profile", "ets"), levels=(80, 95), exclude=None,
             bucket_size: int | None = None) -> pd.DataFrame:
    """Rolling-origin backtest of :func:`forecast_demand` per clinic and method.

    For each origin ``o`` the history up to and including ``o`` is forecast ``horizon``
    periods ahead and compared with the held-out actuals::

        mase     = mean |F - A| / scale,  scale = mean |y[t] - y[t-m]| over the history
                   up to the origin (in-sample seasonal-naive error)            [-]
        smape    = mean 2 |F - A| / (|F| + |A|)   (0 when both are 0)       [-, 0..2]
        wape     = Σ |F - A| / Σ A   ("on average x % off")                  [-]
        bias     = sum (F - A) / sum A       (> 0: forecasts too high)          [-]
        coverage_<level> = share of actuals inside [lo, hi]                    [-]

    Parameters
    ----------
    history : DataFrame
        Long frame ``clinic``, ``period`` (W-SUN or M), ``measure`` [count/period].
    measure : str
        Column to forecast [count/period].
    horizon : int
        Periods ahead forecast at each origin [weeks or months].
    origins : int or list of Period-like
        Number of origins spaced evenly over the last two seasons (the last one
        ``horizon`` periods before the end), or explicit origin periods.
    methods : iterable of str, optional
        Methods of :func:`forecast_demand` to evaluate (``"auto"`` allowed).
    levels : iterable of float, optional
        Interval levels [%].
    exclude : iterable, optional
        Anomaly periods as in :func:`forecast_demand`; also left out of the scoring.
    bucket_size : int, optional
        Width of the lead-time buckets; default a quarter season (13 weeks, 3 months)
        [periods].

    Returns
    -------
    DataFrame
        ``clinic``, ``method``, ``horizon`` (bucket label such as ``"1-13"``, or
        ``"all"``), ``mase``, ``smape``, ``wape``, ``bias``, ``coverage_<level>`` per level and
        ``n`` (forecast-actual pairs scored).

    Raises
    ------
    ValueError
        For bad arguments (as :func:`forecast_demand`) or origins outside the history.

    Examples
    --------
    A monthly series with a perfectly repeating pattern: the seasonal naive forecast
    is exact, so MASE cannot be scaled (the in-sample naive error is 0) and sMAPE,
    bias are 0 with every actual covered:

    >>> months = pd.period_range("2019-01", "2023-12", freq="M")
    >>> h = pd.DataFrame({"clinic": "a", "period": months, "referrals_in": months.month * 1.0})
    >>> bt = backtest(h, measure="referrals_in", horizon=6, origins=2, methods=["seasonal_naive"])
    >>> bt[bt.horizon == "all"][["smape", "bias", "coverage_80", "n"]].to_dict("list")
    {'smape': [0.0], 'bias': [0.0], 'coverage_80': [1.0], 'n': [12]}
    """
    if isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer)) or horizon < 1:
        raise ValueError(f"horizon must be a whole number >= 1, got {horizon!r}")
    lv = _check_levels(levels)
    if isinstance(methods, str):
        methods = (methods,)
    for meth in methods:
        if meth not in METHODS:
            raise ValueError(f"methods: unknown method {meth!r}; choose from {METHODS}")
    if not isinstance(history, pd.DataFrame):
        raise ValueError(f"history must be a DataFrame, got {type(history).__name__}")
    missing = [c for c in ("clinic", "period", measure) if c not in history.columns]
    if missing:
        raise ValueError(f"history lacks column(s) {missing} (measure={measure!r})")
    if history[measure].notna().sum() == 0:
        raise ValueError(f"history has no reported values of {measure!r}")
    freq = _freq_of(history["period"])
    m = _SEASON[freq]
    size = int(bucket_size) if bucket_size else max(1, m // 4)
    actual = (history[["clinic", "period", measure]].astype({measure: "float64"})
              .groupby(["clinic", "period"], sort=False, observed=True)[measure]
              .sum(min_count=1).reset_index())
    actual["clinic"] = actual["clinic"].astype(str)
    all_p = pd.PeriodIndex(actual["period"])
    actual = actual[~_exclude_mask(all_p, freq, exclude) & actual[measure].notna().to_numpy()]
    lagged = actual.assign(period=actual["period"] + m).rename(columns={measure: "_lag"})
    pairs = actual.merge(lagged, on=["clinic", "period"])
    pairs["_ae"] = (pairs[measure] - pairs["_lag"]).abs()

    pieces, seen = [], set()
    for origin in _origin_periods(history, origins, int(horizon), m, freq):
        hist = history[history["period"] <= origin]
        scale = (pairs[pairs["period"] <= origin].groupby("clinic")["_ae"].mean()
                 .rename("_scale").reset_index())
        for meth in methods:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                fc = forecast_demand(hist, measure=measure, horizon=int(horizon), levels=lv,
                                     method=meth, exclude=exclude)
            for wmsg in caught:
                seen.add((str(wmsg.message), wmsg.category))
            res = fc.merge(actual, on=["clinic", "period"]).merge(scale, on="clinic", how="left")
            res["step"] = (pd.PeriodIndex(res["period"]).asi8 - origin.ordinal).astype(int)
            res["method"] = meth
            pieces.append(res)
    for msg, cat in sorted(seen, key=lambda x: x[0]):
        warnings.warn(msg, cat, stacklevel=2)
    res = pd.concat(pieces, ignore_index=True)
    f, a = res["mean"].to_numpy(float), res[measure].to_numpy(float)
    err = f - a
    res["_mase"] = np.abs(err) / res["_scale"].where(res["_scale"] > 0)
    den = np.abs(f) + np.abs(a)
    res["_smape"] = np.where(den > 0, 2 * np.abs(err) / np.where(den > 0, den, 1), 0.0)
    res["_err"] = err
    res["_abs"] = np.abs(err)
    res["_act"] = a
    cov_cols = []
    for level in lv:
        name = f"coverage_{_lname(level)}"
        res[name] = ((a >= res[f"lo_{_lname(level)}"].to_numpy()) &
                     (a <= res[f"hi_{_lname(level)}"].to_numpy())).astype(float)
        cov_cols.append(name)
    lo_b = (res["step"] - 1) // size * size + 1
    res["horizon"] = lo_b.astype(str) + "-" + np.minimum(lo_b + size - 1, int(horizon)).astype(str)
    both = pd.concat([res, res.assign(horizon="all")], ignore_index=True)
    g = both.groupby(["clinic", "method", "horizon"], sort=False)
    out = g.agg(mase=("_mase", "mean"), smape=("_smape", "mean"), _err=("_err", "sum"),
                _abs=("_abs", "sum"), _act=("_act", "sum"), n=("_err", "size"),
                **{c: (c, "mean") for c in cov_cols}).reset_index()
    out["bias"] = out["_err"] / out["_act"].where(out["_act"] > 0)
    out["wape"] = out["_abs"] / out["_act"].where(out["_act"] > 0)
    out = out[["clinic", "method", "horizon", "mase", "smape", "wape", "bias"] + cov_cols + ["n"]]
    out["horizon"] = out["horizon"].astype(str)
    out["method"] = out["method"].astype(str)
    order = {k: i for i, k in enumerate(methods)}
    out = out.assign(_o=out["method"].map(order), _h=out["horizon"].eq("all"),
                     _s=out["horizon"].str.split("-").str[0].replace("all", "0").astype(int))
    return (out.sort_values(["clinic", "_o", "_h", "_s"]).drop(columns=["_o", "_h", "_s"])
            .reset_index(drop=True))


def adjust_forecast(forecast: pd.DataFrame, *, change_pct: float = 0, from_period=None,
                    extra_per_period: float = 0, growth_pct_per_year: float = 0) -> pd.DataFrame:
    """Scenario adjustments on top of a forecast (mean and every interval bound).

    For each clinic, with ``t`` = years from the clinic's first forecast period to the
    start of the period::

        factor = (1 + change_pct/100 if period >= from_period else 1)
                 × (1 + growth_pct_per_year/100) ** t                           [-]
        value' = max(value × factor + extra_per_period, 0)                     [count/period]

    applied to ``mean`` and every ``lo_*``/``hi_*`` column (a known extra referral
    source is added as a certain amount, so it shifts the interval).

    Parameters
    ----------
    forecast : DataFrame
        Output of :func:`forecast_demand` (``clinic``, ``period``, ``mean``, bounds).
    change_pct : float, optional
        Percentage change in inflow from ``from_period`` on, e.g. ``-10`` [%].
    from_period : Period-like, optional
        First period the change applies to; default the whole forecast.
    extra_per_period : float, optional
        Patients added every period (a new referral source) [count/period].
    growth_pct_per_year : float, optional
        Compound growth, e.g. population growth [%/year].

    Returns
    -------
    DataFrame
        A copy of ``forecast`` with adjusted values; ``model`` gets ``"+scenario"``.

    Raises
    ------
    ValueError
        If the frame lacks ``clinic``/``period``/``mean`` or a change makes the factor
        negative (``change_pct < -100``).

    Examples
    --------
    A 10 % rise from the second month plus 5 referrals a month:

    >>> fc = pd.DataFrame({"clinic": "a", "period": pd.period_range("2025-01", periods=2, freq="M"),
    ...                    "mean": [100.0, 100.0], "lo_80": [90.0, 90.0], "hi_80": [110.0, 110.0],
    ...                    "model": "profile"})
    >>> adj = adjust_forecast(fc, change_pct=10, from_period="2025-02", extra_per_period=5)
    >>> adj[["mean", "lo_80"]].round(6).to_dict("list")
    {'mean': [105.0, 115.0], 'lo_80': [95.0, 104.0]}
    """
    if not isinstance(forecast, pd.DataFrame):
        raise ValueError(f"forecast must be a DataFrame, got {type(forecast).__name__}")
    missing = [c for c in ("clinic", "period", "mean") if c not in forecast.columns]
    if missing:
        raise ValueError(f"forecast lacks column(s) {missing}")
    if change_pct < -100:
        raise ValueError(f"change_pct must be >= -100, got {change_pct!r}")
    if growth_pct_per_year <= -100:
        raise ValueError(f"growth_pct_per_year must be > -100, got {growth_pct_per_year!r}")
    out = forecast.copy()
    periods = pd.PeriodIndex(out["period"])
    freq = _freq_of(out["period"])
    factor = np.ones(len(out))
    if change_pct:
        on = np.ones(len(out), dtype=bool) if from_period is None else \
            np.asarray(periods >= _to_period(from_period, freq))
        factor = np.where(on, factor * (1 + change_pct / 100), factor)
    if growth_pct_per_year:
        start = pd.Series(periods.start_time, index=out.index)
        t0 = start.groupby(out["clinic"]).transform("min")
        years = ((start - t0).dt.days / 365.25).to_numpy()
        factor = factor * (1 + growth_pct_per_year / 100) ** years
    cols = ["mean"] + [c for c in out.columns if c.startswith(("lo_", "hi_"))]
    for c in cols:
        out[c] = np.maximum(out[c].to_numpy(float) * factor + float(extra_per_period), 0.0)
    if "model" in out.columns and (change_pct or extra_per_period or growth_pct_per_year):
        out["model"] = out["model"].astype(str) + "+scenario"
    return out


def method_of(model: str) -> str:
    """The ``method`` name that reproduces a forecast's ``model`` label (for :func:`backtest`).

    Examples
    --------
    >>> method_of("combo(profile,ets(A,Ad,M))")
    'combo'
    >>> method_of("seasonal_naive")
    'seasonal_naive'
    """
    name = str(model).split("(")[0].split("+")[0]
    return name if name in METHODS else "auto"
