"""Demand forecasts with prediction intervals, and rolling-origin backtests.

* :func:`forecast_demand`: point forecasts and prediction intervals per clinic and
  future period (weekly ``W-SUN`` or monthly ``M``) by seasonal naive, seasonal profile
  × level and damped trend, or seasonal exponential smoothing (Holt-Winters with a
  damped trend); ``method="auto"`` picks one model for the clinics of a call by an
  in-sample rolling-origin backtest and calibrates its intervals on that backtest's errors.
* :func:`backtest`: rolling-origin evaluation (MASE, sMAPE, bias, interval coverage).
* :func:`adjust_forecast`: scenario adjustments on top of a forecast.
* :func:`interval_of_sum`: intervals of a quarter's or a year's total, consistent with
  the period intervals.

Days: the ``profile`` and ``ets`` methods model the rate per day, on working days
(elective, booked activity: a week with two public holidays is forecast lower) or on
calendar days (acute and emergency activity, occupied beds, referrals that arrive every
day), decided per measure from the history with a documented default
(``day_basis``), in the calendar of ``country`` (:func:`kps_analysis.calendar.working_days_in`).
The ``seasonal_naive`` method is the plain benchmark "same period last year"
(``season_length`` periods back) and ignores them.

Seasonality is estimated per clinic and shrunk towards the profile pooled over the
clinics of the same call, so that a clinic with two years of history borrows from the
others (``pool_seasonality``).

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

__all__ = ["forecast_demand", "backtest", "backtest_jobs", "backtest_origin", "backtest_table",
           "adjust_forecast", "interval_of_sum", "method_of", "METHODS",
           "WORKING_DAY_MEASURES", "CALENDAR_DAY_MEASURES"]

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
    """ISO week (1-53) of weekly periods, month (1-12) of monthly ones."""
    if freq == "W":
        return _cal.iso_year_week(periods)[1].astype(int)
    return np.asarray(periods.month, dtype=int)


def _iso_year(periods: pd.PeriodIndex, freq: str) -> np.ndarray:
    """ISO year of weekly periods, calendar year of monthly ones."""
    if freq == "W":
        return _cal.iso_year_week(periods)[0].astype(int)
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
    wd: np.ndarray            # days per period on the series' day basis [days]
    season: np.ndarray        # ISO week 1-53 or month 1-12
    filled: np.ndarray        # True where y was excluded or unreported and estimated
    future: pd.PeriodIndex
    wd_future: np.ndarray
    season_future: np.ndarray
    basis: str = "working"    # "working" or "calendar" days
    country: str = "SE"

    def head(self, n: int, horizon: int) -> _Series:
        """The first n periods as history, the following ``horizon`` as future."""
        allp = self.periods.append(self.future)
        wd = np.concatenate([self.wd, self.wd_future])
        se = np.concatenate([self.season, self.season_future])
        fut = pd.period_range(self.periods[n - 1] + 1, periods=horizon, freq=self.periods.freq)
        k = min(len(allp), n + horizon)
        wdf = np.concatenate([wd[n:k], _days(fut[k - n:], self.basis, self.country)])
        freq = "W" if self.periods.freqstr.startswith("W") else "M"
        sef = np.concatenate([se[n:k], _season_index(fut[k - n:], freq)])
        return _Series(self.clinic, self.periods[:n], self.y[:n], self.wd[:n], self.season[:n],
                       self.filled[:n], fut, wdf, sef, self.basis, self.country)


# ----------------------------------------------------------------------------- day basis
#: Measures whose volume follows the working days (elective, booked activity) and
#: those that arrive every day (acute, emergency, occupied beds): the calendar's one
#: registry (:data:`kps_analysis.calendar.MEASURE_DAY_BASIS`), the documented default
#: when the history cannot tell (see :func:`_day_basis`).
WORKING_DAY_MEASURES = _cal.WORKING_DAY_MEASURES
CALENDAR_DAY_MEASURES = _cal.CALENDAR_DAY_MEASURES
DAY_BASES = ("auto", "working", "calendar")


def _days(periods, basis: str, country: str) -> np.ndarray:
    """Working or calendar days per period in the region ``country`` ("SE", "GB-ENG") [days]."""
    if len(periods) == 0:
        return np.zeros(0)
    return _cal.period_days(periods, basis, country=country).to_numpy(float)


def _day_basis(measure: str, raw: list, m: int) -> tuple:
    """Working or calendar days for ``measure``, from the history when it can tell.

    Year-on-year log changes of the volume and of the working days, both relative to
    the calendar days, pooled over the clinics (each demeaned, so trends drop out)::

        z = log(y[t] / y[t-m]) - log(cal[t] / cal[t-m])
        x = log(wd[t] / wd[t-m]) - log(cal[t] / cal[t-m])
        beta = Σ x z / Σ x²      (1: volume follows working days, 0: calendar days)

    ``beta`` more than two standard errors above 0.5 -> working days, below ->
    calendar days; otherwise the documented default of the measure. ``raw`` holds
    (y, working days, calendar days, filled) per clinic.
    """
    default = _cal.day_basis(measure)
    xs, zs = [], []
    for y, wd, cd, filled in raw:
        if len(y) <= m + 2:
            continue
        lw, lc, ly = np.log(np.maximum(wd, 0.5)), np.log(cd), np.log(y + 0.5)
        x = (lw[m:] - lw[:-m]) - (lc[m:] - lc[:-m])
        z = (ly[m:] - ly[:-m]) - (lc[m:] - lc[:-m])
        ok = ~(filled[m:] | filled[:-m]) & np.isfinite(z)
        if ok.sum() < 3:
            continue
        x, z = x[ok] - x[ok].mean(), z[ok] - z[ok].mean()
        mad = np.median(np.abs(z)) * 1.4826
        if mad > 0:
            z = np.clip(z, -4 * mad, 4 * mad)  # a strike or an outbreak does not decide
        xs.append(x)
        zs.append(z)
    if not xs:
        return default, "default"
    x, z = np.concatenate(xs), np.concatenate(zs)
    sxx = float((x * x).sum())
    if len(x) < 12 or sxx < 1e-4:
        return default, "default"
    beta = float((x * z).sum() / sxx)
    se = float(np.sqrt(np.mean((z - beta * x) ** 2) / sxx))
    if beta - 2 * se > 0.5:
        return "working", "data"
    if beta + 2 * se < 0.5:
        return "calendar", "data"
    return default, "default"


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


def _prepare(history, measure, horizon, exclude, *, day_basis="auto", country="SE", m=None):
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
    if day_basis not in DAY_BASES:
        raise ValueError(f"day_basis must be one of {DAY_BASES}, got {day_basis!r}")
    try:
        wd_all = _days(allp, "working", country)
    except ValueError as exc:
        raise ValueError(f"country: {exc}") from None
    cd_all = _days(allp, "calendar", country)
    se_all = _season_index(allp, freq)
    excl_all = _exclude_mask(allp, freq, exclude)
    m = _SEASON[freq] if m is None else m
    out, raw, n_excl, n_gap = [], [], 0, 0
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
                           bad, fut, wd_all[j], se_all[j], "working", country))
        raw.append((y, wd_all[i0:i1 + 1], cd_all[i0:i1 + 1], bad))
    basis = day_basis if day_basis != "auto" else _day_basis(measure, raw, _SEASON[freq])[0]
    if basis == "calendar":
        for s in out:
            i0 = allp.get_loc(s.periods[0])
            i1 = i0 + len(s.periods)
            s.wd, s.wd_future, s.basis = cd_all[i0:i1], cd_all[i1:i1 + horizon], "calendar"
    if n_excl:
        warnings.warn(f"forecast: {n_excl} excluded period value(s) of {measure!r} replaced by the "
                      "mean of the same period in the surrounding years before fitting",
                      UserWarning, stacklevel=3)
    if n_gap:
        warnings.warn(f"forecast: {n_gap} unreported period(s) of {measure!r} filled from the same "
                      "period in the surrounding years (or interpolated) before fitting",
                      UserWarning, stacklevel=3)
    return freq, out


#: Own-history weight of a seasonal factor estimated from K years: K / (K + _POOL_K0).
_POOL_K0 = 1.0


def _profile_factors(series: list, freq: str, *, pool: bool = True) -> dict:
    """Seasonal factors per clinic (index = ISO week 1-53 or month 1-12; mean 1).

    Own factors by classical decomposition of the rate per day of the series' basis:
    ``ratio[t] = rate[t] / centred moving average over a season``, the median of the
    ratios of each week or month (``K`` of them); for three seasons of history or less,
    a least-squares fit of ``log rate = level + trend · t + season`` instead (every
    observation counts, ``K`` = observations of the week or month). Where three or more clinics in the call
    have a ratio for every week or month, a pooled profile (the median of theirs) is formed,
    and each clinic's factor is ``exp(w log own + (1 - w) log pooled)`` with
    ``w = K / (K + 1)``: a clinic with one year of history takes half its seasonality
    from the others, one with seven years 7/8 from its own. Without a pool the own
    factors are used as they are (none: flat).
    """
    M = _SEASON[freq]
    size = 54 if freq == "W" else 13
    ids, seasons, ratios = [], [], []
    w = np.r_[0.5, np.ones(M - 1), 0.5] / M
    short_fits = {}
    for i, s in enumerate(series):
        n = len(s.y)
        if n < M + 2:
            continue
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.where(s.wd > 0, s.y / s.wd, np.nan)
        if not np.isfinite(r).all():
            r = pd.Series(r).interpolate(limit_direction="both").to_numpy()
        if n <= 3 * M:
            # a short history: log rate = level + trend + season, by least squares,
            # so every observed week or month counts (a moving average would lose one
            # season of the few there are)
            ok = ~s.filled & (r > 0)
            seas = np.unique(s.season[ok])
            if ok.sum() < len(seas) + 3:
                continue
            t = np.arange(n, dtype=float)[ok]
            X = np.column_stack([t - t.mean()] + [(s.season[ok] == k).astype(float) for k in seas])
            coef = np.linalg.lstsq(X, np.log(r[ok]), rcond=None)[0]
            eff = coef[1:] - coef[1:].mean()
            short_fits[i] = (seas, eff, np.array([(s.season[ok] == k).sum() for k in seas], float))
            continue
        trend = np.convolve(r, w, "valid")
        sl = slice(M // 2, M // 2 + len(trend))
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = r[sl] / trend
        ok = (trend > 0) & ~s.filled[sl] & np.isfinite(ratio) & (ratio > 0)
        ids.append(np.full(int(ok.sum()), i))
        seasons.append(s.season[sl][ok])
        ratios.append(ratio[ok])
    own = np.zeros((len(series), size))
    count = np.zeros((len(series), size))
    if ids:
        frame = pd.DataFrame({"i": np.concatenate(ids), "s": np.concatenate(seasons),
                              "r": np.log(np.concatenate(ratios))})
        if len(frame):
            g = frame.groupby(["i", "s"])["r"].agg(["median", "size"])
            ii, ss = g.index.get_level_values(0).to_numpy(), g.index.get_level_values(1).to_numpy()
            own[ii, ss] = g["median"].to_numpy()
            count[ii, ss] = g["size"].to_numpy()
    for i, (seas, eff, cnt) in short_fits.items():
        own[i, seas] = eff
        count[i, seas] = cnt
    core = slice(1, 53) if freq == "W" else slice(1, 13)
    good = (count[:, core] >= 1).all(axis=1)
    if pool and good.sum() >= 3:
        pooled = np.median(own[good], axis=0)
        wgt = count / (count + _POOL_K0)
        lf = wgt * own + (1 - wgt) * pooled
    else:
        lf = np.where(count > 0, own, 0.0)
    if freq == "W":
        lf[:, 53] = np.where(count[:, 53] > 0, lf[:, 53], (lf[:, 52] + lf[:, 1]) / 2)
    lf = lf - lf[:, core].mean(axis=1, keepdims=True)
    lf[:, 0] = 0.0
    f = np.exp(lf)
    return {s.clinic: f[i] for i, s in enumerate(series)}


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


def _ETS_INIT(m: int) -> str:
    """Monthly (and shorter) seasons: initial states estimated with the parameters, from a
    brute-force start (on real monthly series 3 % lower MASE than the heuristic start,
    and without the brute start the estimate often ends in a poor local optimum);
    weekly: 52 initial seasonal states would make each fit about 10 times slower, so the
    heuristic start."""
    return "estimated" if m <= 12 else "heuristic"


def _hw_min(m: int) -> int:
    """Shortest history [periods] for the damped Holt-Winters of the counts: two seasons
    with estimated initial states (monthly, as the benchmark), two seasons and two
    periods with the heuristic start (weekly)."""
    return 2 * m if _ETS_INIT(m) == "estimated" else 2 * m + 2


def _hw_forecast(res, h: int) -> np.ndarray:
    """``res.forecast(h)`` of a fitted damped Holt-Winters (statsmodels ``ExponentialSmoothing``
    with an additive damped trend and a multiplicative, additive or no season) [count/period].

    statsmodels' forecast runs its recursion again over the whole history in a Python loop of
    numpy scalars (in a profile of the demo's planning pass, about a tenth of the fits' time;
    the backtests fit about 40 models a clinic). This runs the same recursion, the same operations in the same
    order on the same parameters, with Python floats, and so gives the same bits (tested
    against statsmodels on random series). Any other model (Box-Cox, bias removal, another
    trend) is left to statsmodels.
    """
    model, p = res.model, res.params
    if (p.get("use_boxcox") or p.get("remove_bias") or not model.damped_trend or model.trend != "add"
            or model.seasonal not in ("mul", "add", None)):
        return np.asarray(res.forecast(h), dtype=float)
    y = np.asarray(model.endog, dtype=float).squeeze()
    alpha, beta, phi = p["smoothing_level"], p["smoothing_trend"], p["damping_trend"]
    ya = (alpha * y).tolist()
    ac, bc, phi_f = float(1 - alpha), float(1 - beta), float(phi)
    beta_f = float(beta)
    lv, tr = float(p["initial_level"]), float(p["initial_trend"])
    n, seasonal = len(ya), model.seasonal
    if seasonal is None:
        for k in range(n):
            d = tr * phi_f
            new = ya[k] + ac * (lv + d)
            tr = beta_f * (new - lv) + bc * d
            lv = new
    else:
        m, gamma = int(model.seasonal_periods), p["smoothing_seasonal"]
        yg, gc, g = (gamma * y).tolist(), float(1 - gamma), float(gamma)
        a = float(alpha)
        sea = [float(v) for v in np.asarray(p["initial_seasons"], dtype=float)] + [0.0] * n
        for k in range(n):
            d = tr * phi_f
            t = lv + d
            if seasonal == "mul":
                new = ya[k] / sea[k] + ac * t
                sea[k + m] = yg[k] / t + gc * sea[k]
            else:
                new = ya[k] - a * sea[k] + ac * t
                sea[k + m] = yg[k] - g * t + gc * sea[k]
            tr = beta_f * (new - lv) + bc * d
            lv = new
    phi_h = np.cumsum(np.repeat(phi, h + 1) ** np.arange(1, h + 1 + 1))
    trend = np.add(lv, np.multiply(tr, phi_h[:h]))
    if seasonal is None:
        return trend
    # the season of each step ahead as statsmodels takes it: the recursion's own states up to
    # m - 1 steps ahead, then the states of the last season before the end, repeated
    steps = np.arange(n, n + h)
    index = np.where(steps <= n + m - 2, steps, (n - 1) + (steps - (n + m - 1)) % m)
    season = np.asarray(sea, dtype=float)[index]
    return trend * season if seasonal == "mul" else trend + season


class _FittedParams:
    """What :func:`_ets` reads of a fit that needs no intervals: the model and its parameters
    (``params`` as statsmodels' results hold them), without statsmodels' results object."""

    def __init__(self, model, params: dict):
        self.model, self.params, self._results = model, params, self


def _params_only_model():
    """statsmodels' ``ExponentialSmoothing`` whose ``fit`` returns :class:`_FittedParams`.

    ``fit`` ends by running the smoothing recursion once more over the whole history in a
    Python loop of numpy scalars (``_predict``) to build its results (fitted values, states,
    information criteria, a parameter table): in a profile of a region's planning pass, a
    third of a fit's time. A point forecast needs only the parameters, which that final pass
    copies from the optimiser's result; this class takes them as it does (the same
    operations: the initial trend is stored damped and read back divided by the damping),
    so every parameter, and every forecast from them (:func:`_hw_forecast`), has the same
    bits (tested against statsmodels). Fits for simulated intervals use statsmodels' own class.
    """
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    class ParamsOnly(ExponentialSmoothing):
        def _predict(self, h=None, smoothing_level=None, smoothing_trend=None, smoothing_seasonal=None,
                     initial_level=None, initial_trend=None, damping_trend=None, initial_seasons=None,
                     use_boxcox=None, lamda=None, remove_bias=None, is_optimized=None):
            if (h != 0 or use_boxcox or remove_bias or not self.damped_trend or self.trend != "add"
                    or self.seasonal not in ("mul", "add", None)):
                return super()._predict(h, smoothing_level, smoothing_trend, smoothing_seasonal, initial_level,
                                        initial_trend, damping_trend, initial_seasons, use_boxcox, lamda,
                                        remove_bias, is_optimized)
            m = self.seasonal_periods if self.has_seasonal else 0
            lvls, b, s = np.zeros(1), np.zeros(1), np.zeros(self.nobs + m + 1)
            lvls[0], b[0] = initial_level, initial_trend
            s[:m] = initial_seasons
            phi = damping_trend
            b[0] = b[0] * phi   # statsmodels stores the initial trend damped (its ``dampen``) ...
            self.params = {
                "smoothing_level": smoothing_level, "smoothing_trend": smoothing_trend,
                "smoothing_seasonal": smoothing_seasonal, "damping_trend": phi,
                "initial_level": lvls[0], "initial_trend": b[0] / phi if phi > 0 else 0,   # ... and reads it back
                "initial_seasons": s[:m], "use_boxcox": use_boxcox, "lamda": None, "remove_bias": remove_bias,
            }
            return _FittedParams(self, self.params)

    return ParamsOnly


def _ets(s: _Series, h: int, m: int, levels, seed: int = 2019, intervals: bool = True,
         factors=None, raw: bool | None = None, warm: dict | None = None):
    """Damped Holt-Winters (statsmodels) of the day-adjusted series, or of the raw counts.

    ``raw=None`` (default): the raw counts when the series is on calendar days (the
    multiplicative season then carries the month lengths; on real A&E series this
    scored 0.782 against 0.791 day-adjusted, and it is then the benchmark model
    itself), the rate per working day otherwise. ``raw=True``: always the raw counts
    (the benchmark "damped Holt-Winters" of issue 14). A short history (less than two
    seasons and two periods) is always modelled per day and deseasonalised by
    ``factors``.

    ``warm``: a dict kept by the caller for one series across the backtest's origins
    (longest history first). The first seasonal fit with estimated initial states
    stores its parameters there; later fits start from them instead of the brute-force
    grid (the initial states belong to the same first periods; on one core the grid is
    about three quarters of a fit's time).
    """
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    short = len(s.y) < (_hw_min(m) if raw else 2 * m + 2)
    if raw is None:
        raw = s.basis == "calendar"
    if raw and not short:
        adj = pd.Series(s.y).interpolate(limit_direction="both").to_numpy(float)
        scale_f = np.ones(h)
    else:
        wbar = float(np.mean(s.wd[s.wd > 0])) if (s.wd > 0).any() else 1.0
        with np.errstate(divide="ignore", invalid="ignore"):
            adj = np.where(s.wd > 0, s.y / s.wd * wbar, np.nan)
        adj = pd.Series(adj).interpolate(limit_direction="both").to_numpy()
        scale_f = s.wd_future / wbar
    if short:  # too short for its own seasonal states: level and trend of the series
        # deseasonalised by the (pooled) seasonal factors
        f = np.ones(54) if factors is None else factors
        adj = adj / f[s.season]
        scale_f = scale_f * f[s.season_future]
        seasonal = None
    else:
        seasonal = "mul" if (adj > 0).all() else "add"
    if not intervals:
        ExponentialSmoothing = _params_only_model()   # noqa: N806 - the same class, without its results
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if short:
            model = ExponentialSmoothing(adj, trend="add", damped_trend=True,
                                         initialization_method="estimated")
        else:
            model = ExponentialSmoothing(adj, trend="add", damped_trend=True, seasonal=seasonal,
                                         seasonal_periods=m, initialization_method=_ETS_INIT(m))
        res = None
        key = seasonal
        if warm is not None and key in warm and not short:
            try:   # a warm start: the parameters of the same series' longer history
                res = model.fit(start_params=warm[key], use_brute=False)
            except (ValueError, np.linalg.LinAlgError):
                res = None
        if res is None:
            res = model.fit(use_brute=_ETS_INIT(m) == "estimated")
        if warm is not None and not short and _ETS_INIT(m) == "estimated" and key not in warm:
            pr = res.params
            warm[key] = np.r_[[pr["smoothing_level"], pr["smoothing_trend"], pr["smoothing_seasonal"],
                               pr["initial_level"], pr["initial_trend"], pr["damping_trend"]],
                              np.asarray(pr["initial_seasons"], float)]
        name = (f"ets(A,Ad,{'N' if short else 'M' if seasonal == 'mul' else 'A'}"
                f"{';counts' if raw and not short else ''})")
        if not intervals:
            return _hw_forecast(res, h) * scale_f, [], name
        sims = res.simulate(h, repetitions=_N_SIM, error="mul" if seasonal == "mul" else "add",
                            anchor="end", random_state=seed)
    sims = np.asarray(sims).reshape(h, -1)
    scale = scale_f[:, None]
    sims = np.maximum(sims, 0.0) * scale
    mean = _hw_forecast(res, h) * scale[:, 0]
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
        return _ets(s, h, m, levels, intervals=intervals, factors=factors)
    if method == "combo":
        m1, b1, _ = _run_method(s, "profile", h, m, levels, factors, freq)
        m2, b2, name2 = _ets(s, h, m, levels, factors=factors)
        m1, b1 = _finish(m1, b1)
        m2, b2 = _finish(m2, b2)
        bounds = [((l1 + l2) / 2, (u1 + u2) / 2) for (l1, u1), (l2, u2) in zip(b1, b2)]
        return (m1 + m2) / 2, bounds, f"combo(profile,{name2})"
    if method == "mean":
        mean, b = _mean_method(s, h, m, levels)
        return mean, b, "mean"
    raise ValueError(f"method must be one of {METHODS}, got {method!r}")


_AUTO_ORIGINS = 6
_AUTO_MARGIN = 0.10      # the seasonal naive only when this much better than every model
_HW_MARGIN = 0.10        # a model other than the benchmark only when this much better than it
_CANDIDATES = ("seasonal_naive", "hw", "profile", "ets", "combo", "combo3")
_NEEDS = {"seasonal_naive": set(), "hw": {"hw"}, "profile": {"profile"}, "ets": {"ets"},
          "combo": {"profile", "ets"}, "combo3": {"profile", "ets"}}


def _naive_mean(y: np.ndarray, h: int, m: int) -> np.ndarray:
    i = np.arange(1, h + 1)
    return y[len(y) - 1 + i - m * np.ceil(i / m).astype(int)]


def _points(s: _Series, h: int, m: int, f: np.ndarray, want=_CANDIDATES, warm=None) -> dict:
    """Point forecasts of the candidates in ``want`` (an ETS that cannot be fitted is left out).

    ``hw`` is the benchmark of issue 14, a damped Holt-Winters of the raw counts (needs
    two seasons and two periods); on calendar days it is the ``ets`` candidate itself
    (fitted once). ``_ets_name`` and ``_hw_name`` hold the fitted models' labels.
    """
    need = set().union(*(_NEEDS[c] for c in want))
    out = {"seasonal_naive": _naive_mean(s.y, h, m)}
    if "profile" in need:
        out["profile"] = np.maximum(_profile(s, h, m, (), f, intervals=False)[0], 0.0)
    same = s.basis == "calendar" and len(s.y) >= 2 * m + 2   # ets is then hw itself
    if "hw" in need and same:
        need.add("ets")
    for key, raw in (("ets", None), ("hw", True)):
        if key not in need or (key == "hw" and len(s.y) < _hw_min(m)):
            continue
        if key == "hw" and same:
            if "ets" in out:
                out["hw"], out["_hw_name"] = out["ets"], out["_ets_name"]
            continue
        try:
            e, _, name = _ets(s, h, m, (), intervals=False, factors=f, raw=raw,
                              warm=None if warm is None else warm.setdefault(key, {}))
        except (ValueError, np.linalg.LinAlgError, FloatingPointError):
            continue
        if np.all(np.isfinite(e)):
            out[key], out[f"_{key}_name"] = np.maximum(e, 0.0), name
    if "ets" in out and "profile" in out:
        out["combo"] = (out["profile"] + out["ets"]) / 2
        out["combo3"] = (out["seasonal_naive"] + out["profile"] + out["ets"]) / 3
    return out


def _choose(pooled: dict, benchmark: bool = True) -> str | None:
    """The candidate taken for a call, from the candidates' pooled in-sample MASE.

    The better of the two benchmarks (the seasonal naive and the damped Holt-Winters of
    the counts) unless a model beats it out of the sample it was fitted on: the damped
    Holt-Winters gives way only to a model more than ``_HW_MARGIN`` (10 %) better (on
    the real A&E series the profile-based models were 2-9 % better than it in the
    in-sample backtest and 1-3 % worse in the following year: a smaller lead is not
    evidence), the seasonal naive is taken only when it is more than ``_AUTO_MARGIN``
    (10 %) better than every model (on short histories, where the naive is known to be
    poor, a close call goes to the models). Ties go to the combinations.

    ``benchmark=False`` (series on working days): the damped Holt-Winters of the counts,
    if scored, is an ordinary candidate, taken only when it is the best. ``_auto`` does
    not fit it there: counts of elective, booked activity carry the holidays (Easter
    moves, a holiday falls on a weekday or not), which its fixed season cannot follow,
    and the day-adjusted ``ets`` is its counterpart. On the demo region's weekly
    referrals it was within 10 % in-sample, then lost to the seasonal naive out of
    sample, and fitting it made ``auto`` 2.5 times as slow.

    >>> _choose({"seasonal_naive": 1.2, "hw": 0.80, "profile": 0.85, "ets": 0.79,
    ...          "combo": 0.75, "combo3": 0.9})
    'hw'
    >>> _choose({"seasonal_naive": 1.2, "hw": 0.80, "profile": 0.85, "ets": 0.79,
    ...          "combo": 0.70, "combo3": 0.9})
    'combo'
    >>> _choose({"seasonal_naive": 1.2, "hw": 0.80, "profile": 0.85, "ets": 0.79,
    ...          "combo": 0.75, "combo3": 0.9}, benchmark=False)
    'combo'
    >>> _choose({"seasonal_naive": 0.7, "profile": 0.85, "ets": 0.79, "combo": 0.8, "combo3": 0.9})
    'seasonal_naive'
    """
    finite = {c: v for c, v in pooled.items() if np.isfinite(v)}
    models = [c for c in ("combo", "combo3", "ets", "profile") if c in finite]
    if not models:
        return None
    best = min(models, key=lambda c: finite[c])
    if "hw" in finite and finite[best] >= (1 - (_HW_MARGIN if benchmark else 0.0)) * finite["hw"]:
        best = "hw"
    if "seasonal_naive" in finite and finite["seasonal_naive"] < (1 - _AUTO_MARGIN) * finite[best]:
        best = "seasonal_naive"
    return best


def _equicorrelation(z: list) -> float:
    """Common correlation of standardised errors across lead times, from backtest rows.

    Under equicorrelation ``rho`` the mean of a row of ``L`` unit errors has second
    moment ``rho + (1 - rho) / L``; pooled over the rows (origins) of all clinics,
    ``rho = (mean(L · rowmean²) / mean(z²) - 1) / (L̄ - 1)`` (raw moments, so a persistent
    bias counts as common error), clipped to [0, 1]; 1 when nothing can be estimated.

    >>> rng = np.random.default_rng(1)
    >>> common = rng.normal(size=(4000, 1))
    >>> z = np.sqrt(0.6) * common + np.sqrt(0.4) * rng.normal(size=(4000, 12))
    >>> round(_equicorrelation([z]), 1)
    0.6
    """
    num, den, lsum, rows = 0.0, 0.0, 0.0, 0
    for mat in z:
        ok = np.isfinite(mat)
        cnt = ok.sum(axis=1)
        use = cnt >= 2
        if not use.any():
            continue
        v = np.where(ok, mat, 0.0)[use]
        c = cnt[use]
        num += float((v.sum(axis=1) ** 2 / c).sum())
        den += float((v ** 2).sum())
        lsum += float(c.sum())
        rows += int(use.sum())
    if rows == 0 or den <= 0:
        return 1.0
    lbar = lsum / rows
    ratio = (num / rows) / (den / lsum)
    return float(np.clip((ratio - 1) / max(lbar - 1, 1e-9), 0.0, 1.0))


def _origins_of(n: int, h: int, m: int) -> tuple:
    """Held-out length and origin cuts of the in-sample backtest of one series."""
    avail = n - (m + 2)           # periods beyond the shortest history a model is fitted on
    hb, k = min(h, m), _AUTO_ORIGINS
    if avail < hb + k - 1:        # a short history: fewer origins, a shorter stretch
        k = 4
        hb = min(hb, avail - (k - 1))
    if hb < max(2, m // 4):
        return 0, []
    step = max(1, min((2 * m - hb) // (k - 1), (avail - hb) // (k - 1)))
    return hb, [n - hb - j * step for j in range(k)]


def _auto(series: list, h: int, m: int, levels, freq: str, pool: bool, factors: dict) -> dict:
    """``method="auto"`` for the clinics of one call: choice and calibrated intervals.

    1. An in-sample rolling-origin backtest per clinic (six origins over the last two
       seasons; four, over a shorter stretch, for a short history): the seasonal naive,
       the damped Holt-Winters of the counts (``hw``, the benchmark; on calendar days,
       where it is the ``ets`` fit itself, and where every origin has two seasons of
       history), profile, ETS and their combinations, each origin's
       seasonal factors pooled over the clinics' histories at that origin. ETS fits
       after the longest origin's start from its parameters (``warm``).
    2. The choice (:func:`_choose`), one model for the measure from the mean MASE over
       the clinics of the call (a choice pooled over many clinics is far less noisy
       than one per clinic: on real series, letting a clinic keep its own in-sample best
       lost out of sample): the better benchmark unless a model beats it by more than
       10 % (calendar days; on working days the best candidate). A clinic whose ETS
       cannot be fitted takes its own best. On calendar days, where the
       benchmark can be fitted to the whole history but not backtested (two to about
       four seasons), the forecast is the mean of the choice and the benchmark (a hedge:
       on real 24-month histories it was better than either, 0.97 against 1.02 and
       1.03 on the NHS England A&E series); its intervals are the union of the choice's
       calibrated band around the choice's forecast and around the hedged one (the
       hedged band alone covered 69 % for 80 % there).
    3. The intervals: the chosen candidate's log errors ``e = log((A+1)/(F+1))`` at the
       origins, per lead time; each clinic's errors divided by its own error scale
       (root mean square, leaving the origin out), pooled over the clinics per lead-time
       bucket (a quarter season); the conformal quantiles of that pool times the
       clinic's own scale give ``(F+1) exp(s q) - 1``. Beyond the backtest's stretch the
       quantiles grow with the square root of the lead time.

    Returns clinic -> (mean, bounds, model name, rho) for the clinics it could backtest
    (``rho``: the errors' common correlation across lead times, :func:`_equicorrelation`).
    """
    plans = {i: _origins_of(len(s.y), h, m) for i, s in enumerate(series)}
    plans = {i: p for i, p in plans.items() if p[1]}
    if not plans:
        return {}
    fcs, acts = _backtest_points(series, plans, m, freq, pool)
    score = _backtest_scores(series, plans, fcs, acts, m)
    chosen, pooled, bench = _chosen_models(series, plans, score)
    scales, quant, rho, size = _calibration(plans, fcs, acts, chosen, m, levels)
    out = {}
    for i, pick in chosen.items():
        s = series[i]
        f = factors.get(s.clinic)
        f = f if f is not None else np.ones(54)
        mean, bounds, name = _calibrated_forecast(s, h, m, levels, f, pick, hedge=bench and "hw" not in pooled,
                                                  hb=plans[i][0], quant=quant, scale=scales[i], size=size)
        out[s.clinic] = (mean, bounds, name, rho)
    return out


def _backtest_points(series: list, plans: dict, m: int, freq: str, pool: bool) -> tuple[dict, dict]:
    """Point forecasts of every candidate and the actuals at each origin: ``(fcs, acts)`` per series.

    Each origin's seasonal factors are pooled over the clinics' histories at that origin;
    ETS fits after the longest origin's start from its parameters (``warm``).
    """
    fcs = {i: {c: [] for c in _CANDIDATES} for i in plans}
    acts = {i: [] for i in plans}
    warm = {i: {} for i in plans}   # ETS parameters of the longest history, per series and model
    for j in range(_AUTO_ORIGINS):
        members = [i for i in plans if j < len(plans[i][1])]
        if not members:
            break
        subs = [replace(series[i].head(plans[i][1][j], plans[i][0]), clinic=str(i)) for i in members]
        fj = _profile_factors(subs, freq, pool=pool)
        for i, sub in zip(members, subs):
            hb, cuts = plans[i]
            a = series[i].y[cuts[j]:cuts[j] + hb].copy()
            a[series[i].filled[cuts[j]:cuts[j] + hb]] = np.nan
            acts[i].append(a)
            hw = series[i].basis == "calendar" and cuts[-1] >= _hw_min(m)
            pts = _points(sub, hb, m, fj[sub.clinic],
                          want=_CANDIDATES if hw else _CANDIDATES[:1] + _CANDIDATES[2:], warm=warm[i])
            for c in _CANDIDATES:
                fcs[i][c].append(pts.get(c, np.full(hb, np.nan)))
    return fcs, acts


def _backtest_scores(series: list, plans: dict, fcs: dict, acts: dict, m: int) -> dict:
    """Mean MASE per series and candidate over the origins (scaled by the seasonal naive's error) [-]."""
    score, table = {}, {}
    for i in plans:
        s = series[i]
        y = np.where(s.filled, np.nan, s.y)
        scale = _naive_scale(y, m)
        if not scale > 0:
            scale = max(float(np.nanmean(np.abs(y))), 1e-9)
        A = np.vstack(acts[i])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)   # a candidate missing at an origin
            table[i] = {c: np.nanmean(np.abs(np.vstack(fcs[i][c]) - A), axis=1) / scale
                        for c in _CANDIDATES}
        score[i] = {c: float(np.mean(v)) for c, v in table[i].items()}
    return score


def _chosen_models(series: list, plans: dict, score: dict) -> tuple[dict, dict, bool]:
    """``(chosen, pooled, bench)``: the model per series, the pooled scores and whether on calendar days."""
    # the damped Holt-Winters needs two seasons and two periods at every origin: it is a
    # candidate of the call only where every clinic whose ETS could be fitted has it;
    # a clinic whose ETS cannot be fitted is left out of the pool
    cands = list(_CANDIDATES)
    if not all(np.isfinite(score[i]["hw"]) for i in plans if np.isfinite(score[i]["ets"])):
        cands.remove("hw")
    usable = [i for i in plans if all(np.isfinite(score[i][c]) for c in cands)]
    pooled = {c: float(np.mean([score[i][c] for i in usable])) for c in cands} if usable else {}
    bench = all(series[i].basis == "calendar" for i in plans)
    glob = _choose(pooled, bench)
    chosen = {}
    for i in plans:
        own = {c: v for c, v in score[i].items() if np.isfinite(v)}
        chosen[i] = glob if glob in own else (_choose(own, bench) or "seasonal_naive")
    return chosen, pooled, bench


def _calibration(plans: dict, fcs: dict, acts: dict, chosen: dict, m: int, levels):
    """``(scales, quant, rho, size)``: standardised log errors pooled over the clinics per lead-time bucket.

    ``scales`` per series (root mean square log error), ``quant`` per bucket the conformal
    quantile pairs per level, ``rho`` the errors' common correlation, ``size`` the
    bucket length (a quarter season) [periods].
    """
    size = max(1, m // 4)
    scales, pool_z, zs = {}, {}, []
    for i in plans:
        e = np.log((np.vstack(acts[i]) + 1) / (np.vstack(fcs[i][chosen[i]]) + 1))
        sq = np.nansum(e ** 2, axis=1)
        cnt = np.isfinite(e).sum(axis=1)
        scales[i] = math.sqrt(sq.sum() / max(cnt.sum(), 1))
        loo = np.sqrt((sq.sum() - sq) / np.maximum(cnt.sum() - cnt, 1))
        with np.errstate(divide="ignore", invalid="ignore"):
            z = e / loo[:, None]
        for k in range(e.shape[1]):
            v = z[:, k]
            pool_z.setdefault(k // size, []).append(v[np.isfinite(v)])
        zs.append(z)
    rho = _equicorrelation(zs)
    pool_z = {b: np.concatenate(v) for b, v in pool_z.items()}
    quant = {}
    for b, z in pool_z.items():
        qs = []
        for lo_p, hi_p in _q(levels):
            nz = len(z)
            if nz < 2:
                qs.append((0.0, 0.0))
                continue
            qs.append((float(np.quantile(z, max(0.0, 1 - (1 - lo_p) * (nz + 1) / nz)))
                       if nz else 0.0,
                       float(np.quantile(z, min(1.0, hi_p * (nz + 1) / nz)))))
        quant[b] = qs
    return scales, quant, rho, size


def _calibrated_forecast(s: _Series, h: int, m: int, levels, f: np.ndarray, pick: str, *, hedge: bool, hb: int,
                         quant: dict, scale: float, size: int):
    """``(mean, bounds, name)`` of one series: the chosen model's forecast (hedged with the benchmark where
    it could not be backtested) and its calibrated band, growing with the square root of the lead time."""
    pts = _points(s, h, m, f, want=(pick,))
    if pick not in pts:
        pick = "profile"
        pts = _points(s, h, m, f, want=(pick,))
    mean = own_mean = pts[pick]
    name = {"seasonal_naive": "seasonal_naive", "profile": "profile",
            "ets": pts.get("_ets_name", "ets"), "hw": pts.get("_hw_name", "ets"),
            "combo": f"combo(profile,{pts.get('_ets_name', 'ets')})",
            "combo3": f"combo(seasonal_naive,profile,{pts.get('_ets_name', 'ets')})"}[pick]
    if hedge and pick != "hw" and len(s.y) >= _hw_min(m):
        # the benchmark can be fitted but not backtested (about two to four seasons
        # of history): hedge with it, the mean of the choice and the benchmark
        hw = _points(s, h, m, f, want=("hw",))
        if "hw" in hw:
            mean = (mean + hw["hw"]) / 2
            inner = name[6:-1] if name.startswith("combo(") else name
            name = f"combo({inner},{hw['_hw_name']})"
    name += " [auto]"
    step = np.arange(1, h + 1)
    bucket = np.minimum((step - 1) // size, max(quant))
    grow = np.sqrt(np.maximum(step / hb, 1.0))
    bounds = []
    for j in range(len(levels)):
        lo_q = np.array([min(quant[b][j][0], 0.0) for b in bucket]) * grow
        hi_q = np.array([max(quant[b][j][1], 0.0) for b in bucket]) * grow
        # the calibrated band of the choice; for the hedge its union with the same
        # band around the hedged mean (the errors calibrated are the choice's)
        lo = np.minimum((own_mean + 1) * np.exp(scale * lo_q), (mean + 1) * np.exp(scale * lo_q))
        hi = np.maximum((own_mean + 1) * np.exp(scale * hi_q), (mean + 1) * np.exp(scale * hi_q))
        bounds.append((lo - 1, hi - 1))
    return mean, bounds, name


# ----------------------------------------------------------------------------- public
def forecast_demand(history: pd.DataFrame, *, measure: str, horizon: int, levels=(80, 95),
                    method: str = "auto", exclude=None, season_length: int | None = None,
                    country: str = "SE", day_basis: str = "auto", pool_seasonality: bool = True
                    ) -> pd.DataFrame:
    """Forecast a demand measure per clinic with prediction intervals.

    Methods (per clinic; ``m`` = season length, 52 weeks or 12 months):

    * ``"seasonal_naive"``: ``mean[T+i] = y[T+i-m*k]``, ``k = ceil(i/m)`` (same period
      last year); interval = mean + empirical quantiles of the in-sample seasonal-naive
      errors ``y[t] - y[t-m]`` × ``sqrt(k)`` [count/period].
    * ``"profile"``: rate per day ``d[t] = y[t] / (days[t] · f[season])`` (working or
      calendar days, see ``day_basis``) with the clinic's seasonal factors ``f``
      (its own, shrunk towards those pooled over the clinics of the call); a straight
      line fitted to ``d`` over the last two seasons, its trend damped with
      ``phi = m/(m+1)`` per period; ``mean = d̂ · f · days`` of each future period.
      Intervals: empirical quantiles of the in-sample log residuals combined with the
      standard error of the fitted level.
    * ``"ets"``: Holt-Winters exponential smoothing (statsmodels), additive damped trend,
      multiplicative seasonality (additive if any value is 0), fitted to the day-adjusted
      series; with less than two seasons and two periods of history, a damped Holt
      model (level and trend) of the series divided by its seasonal factors
      (``ets(A,Ad,N)``). Intervals from 500 simulated future paths.
    * ``"combo"``: the average of the ``profile`` and ``ets`` forecasts and of their
      interval bounds (quantile averaging).
    * ``"auto"``: an in-sample rolling-origin backtest of every clinic (six origins over
      the last two seasons; four over a shorter stretch when the history is short) of
      the seasonal naive, the damped Holt-Winters of the counts (the benchmark,
      ``ets(A,Ad,M;counts)``; on calendar days, where ``ets`` is fitted to the counts
      and is that model), ``profile``, ``ets``, ``combo`` and the average of the
      naive, profile and ETS. On calendar days the better benchmark is used for all
      clinics of the call unless a model's mean MASE over them is more than 10 % lower
      (then that model); on working days the candidate with the lowest mean MASE (the
      counts' Holt-Winters cannot follow moving holidays); the seasonal naive only
      when it is more than 10 % better than every model.
      On calendar days with two to about four seasons, too few to backtest the
      benchmark, the mean of the choice and the benchmark. Intervals are calibrated on the chosen model's
      backtest errors: log errors per lead time, each clinic's divided by its own
      scale, pooled over the clinics, conformal quantiles (see ``_auto``); the errors'
      correlation across lead times goes to ``attrs["error_correlation"]`` (clinic ->
      rho, for :func:`interval_of_sum`). The label in
      ``model`` ends in `` [auto]``. With too little history to hold out a quarter
      season (less than about two seasons), the combination with its own intervals.

    Fallbacks, each with a warning: fewer than two seasons of history -> level and
    trend of the series with its seasonality shrunk towards the pooled one (at least a
    season and two periods), the seasonal naive (a season and one period) or the mean
    of the history; a series with more than 30 % zero
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
    country : str, optional
        The holiday calendar for working days: ``"SE"`` (default, with the Swedish
        de-facto days off) or any ISO code the ``holidays`` package knows, with an
        optional subdivision (``"NO"``, ``"GB-SCT"``).
    day_basis : {"auto", "working", "calendar"}, optional
        What the volume scales with. ``"auto"`` (default): tested on the history of all
        clinics in the call (year-on-year changes regressed on the working days'; a
        slope clearly above 0.5 means working days, clearly below calendar days);
        otherwise the documented default of the measure: calendar days for
        ``emergency_visits``, ``operations_acute`` and ``bed_days``
        (:data:`CALENDAR_DAY_MEASURES`), working days for every other measure.
    pool_seasonality : bool, optional
        Shrink each clinic's seasonal factors towards the median profile of the clinics
        in the call, with weight ``1 / (K + 1)`` for ``K`` years of own history (default
        True).

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
        in (0, 100), ``method`` or ``day_basis`` is unknown, or ``country`` is not a
        country the ``holidays`` package knows.

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
    freq, series = _prepare(history, measure, horizon, exclude, day_basis=day_basis, country=country)
    m = _SEASON[freq] if season_length is None else int(season_length)
    if m < 2:
        raise ValueError(f"season_length must be >= 2, got {season_length!r}")
    # seasonal profiles of all clinics in one vectorised call, pooled over the clinics
    factors = (_profile_factors(series, freq, pool=pool_seasonality)
               if method in ("profile", "ets", "combo", "auto") else {})
    short, sparse, failed_fits, uses = [], [], [], {}
    for s in series:
        n = len(s.y)
        zero_share = float(np.mean(s.y <= 0)) if n else 1.0
        use = method
        if zero_share > 0.3:
            use = "mean"
            sparse.append(s.clinic)
        elif n < m + 1:
            use = "mean"
            short.append(f"{s.clinic} ({n} periods -> mean)")
        elif n < m + 2 and method != "seasonal_naive":
            use = "seasonal_naive"
            short.append(f"{s.clinic} ({n} periods -> seasonal_naive)")
        elif n < 2 * m + 1 and method != "seasonal_naive":
            short.append(f"{s.clinic} ({n} periods -> {method} on level and trend, "
                         "seasonality pooled with the other clinics)")
        uses[s.clinic] = use
    auto = {}
    if method == "auto":
        todo = [s for s in series if uses[s.clinic] == "auto"]
        auto = _auto(todo, horizon, m, lv, freq, pool_seasonality, factors)
    rows, corr = [], {}
    for s in series:
        n = len(s.y)
        use = uses[s.clinic]
        if s.clinic in auto:
            mean, bounds, name, corr[s.clinic] = auto[s.clinic]
        else:
            use = "combo" if use == "auto" else use   # too short to backtest
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
    if corr:
        out.attrs["error_correlation"] = corr
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
             bucket_size: int | None = None, country: str = "SE", day_basis: str = "auto"
             ) -> pd.DataFrame:
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
    country, day_basis : str, optional
        Passed to :func:`forecast_demand`.

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
    jobs = backtest_jobs(history, measure=measure, horizon=horizon, origins=origins, methods=methods,
                         levels=levels, exclude=exclude, country=country, day_basis=day_basis)
    return backtest_table(list(map(backtest_origin, jobs)), bucket_size=bucket_size)


def backtest_jobs(history: pd.DataFrame, *, measure: str, horizon: int, origins,
                  methods=("seasonal_naive", "profile", "ets"), levels=(80, 95), exclude=None,
                  country: str = "SE", day_basis: str = "auto") -> list:
    """:func:`backtest` as independent jobs, one per origin, for an executor.

    The origins of a rolling-origin backtest do not depend on each other (each refits the
    methods on the history up to it, pooled over the clinics of the call), so a large
    call runs them on several processes: ``backtest_table(list(executor.map(backtest_origin,
    backtest_jobs(...))))`` is :func:`backtest`, number for number. Arguments as :func:`backtest`
    (``bucket_size`` goes to :func:`backtest_table`); they are checked here.

    Returns
    -------
    list
        One picklable job per origin, in the origins' order.
    """
    lv, methods = _check_backtest_args(history, measure, horizon, levels, methods)
    freq = _freq_of(history["period"])
    m = _SEASON[freq]
    return [(history, measure, int(horizon), origin, tuple(methods), lv, exclude, country, day_basis)
            for origin in _origin_periods(history, origins, int(horizon), m, freq)]


def backtest_origin(job) -> tuple:
    """One origin of :func:`backtest_jobs`: its scored forecasts of every method and the warnings
    they raised, ``(frames, warnings, job)``."""
    history, measure, horizon, origin, methods, lv, exclude, country, day_basis = job
    freq = _freq_of(history["period"])
    actual, pairs = _scored_actuals(history, measure, freq, _SEASON[freq], exclude)
    hist = history[history["period"] <= origin]
    scale = (pairs[pairs["period"] <= origin].groupby("clinic")["_ae"].mean()
             .rename("_scale").reset_index())
    pieces, seen = [], set()
    for meth in methods:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fc = forecast_demand(hist, measure=measure, horizon=horizon, levels=lv,
                                 method=meth, exclude=exclude, country=country,
                                 day_basis=day_basis)
        for wmsg in caught:
            seen.add((str(wmsg.message), wmsg.category))
        res = fc.merge(actual, on=["clinic", "period"]).merge(scale, on="clinic", how="left")
        res["step"] = (pd.PeriodIndex(res["period"]).asi8 - origin.ordinal).astype(int)
        res["method"] = meth
        pieces.append(res)
    return pieces, seen, job


def backtest_table(done: list, *, bucket_size: int | None = None) -> pd.DataFrame:
    """The :func:`backtest` table of its origins' results (:func:`backtest_origin` of every job of
    one :func:`backtest_jobs` call, in its order); the origins' warnings are raised once each."""
    if not done:
        raise ValueError("backtest_table: no origin to score")
    _, _, first = done[0]
    history, measure, horizon, _, methods, lv = first[:6]
    m = _SEASON[_freq_of(history["period"])]
    size = int(bucket_size) if bucket_size else max(1, m // 4)
    pieces, seen = [], set()
    for frames, warned, _job in done:
        pieces += frames
        seen |= warned
    for msg, cat in sorted(seen, key=lambda x: x[0]):
        warnings.warn(msg, cat, stacklevel=2)
    res = pd.concat(pieces, ignore_index=True)
    cov_cols = _add_errors(res, measure, lv, size, int(horizon))
    return _backtest_table(res, cov_cols, methods)


def _check_backtest_args(history, measure: str, horizon, levels, methods):
    """:func:`backtest`'s arguments checked; returns the levels [%] and the methods (a str as a 1-tuple)."""
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
    return lv, methods


def _scored_actuals(history: pd.DataFrame, measure: str, freq: str, m: int,
                    exclude) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(actual, pairs)``: the reported values per clinic and period (anomalies left out) and their
    seasonal-naive absolute errors ``_ae`` (the MASE scale) [count/period]."""
    actual = (history[["clinic", "period", measure]].astype({measure: "float64"})
              .groupby(["clinic", "period"], sort=False, observed=True)[measure]
              .sum(min_count=1).reset_index())
    actual["clinic"] = actual["clinic"].astype(str)
    all_p = pd.PeriodIndex(actual["period"])
    actual = actual[~_exclude_mask(all_p, freq, exclude) & actual[measure].notna().to_numpy()]
    lagged = actual.assign(period=actual["period"] + m).rename(columns={measure: "_lag"})
    pairs = actual.merge(lagged, on=["clinic", "period"])
    pairs["_ae"] = (pairs[measure] - pairs["_lag"]).abs()
    return actual, pairs


def _add_errors(res: pd.DataFrame, measure: str, lv: tuple, size: int, horizon: int) -> list:
    """Add each pair's scaled, symmetric and absolute errors, coverage and lead-time bucket (in place).

    Returns the coverage columns.
    """
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
    res["horizon"] = lo_b.astype(str) + "-" + np.minimum(lo_b + size - 1, horizon).astype(str)
    return cov_cols


def _backtest_table(res: pd.DataFrame, cov_cols: list, methods) -> pd.DataFrame:
    """The scores per clinic, method and lead-time bucket (and ``"all"``), sorted as the methods given."""
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


def interval_of_sum(forecast: pd.DataFrame, *, every: str | None = None, correlation=None,
                    n_paths: int = 4000, seed: int = 2019) -> pd.DataFrame:
    """Mean and prediction intervals of the sum of forecast periods (a quarter, a year).

    Consistent with the period intervals: each period's forecast distribution is the
    one its own intervals describe (the quantiles ``lo``/``mean``/``hi`` at the levels'
    probabilities, joined linearly on the normal-score scale, the outer segments
    extended), and the periods' errors are tied by a Gaussian copula with one common
    correlation ``rho`` between any two periods of a clinic::

        z[t] = sqrt(rho) · c + sqrt(1 - rho) · e[t],   c, e[t] ~ N(0, 1)
        Y[t] = Q_t(Φ(z[t]))          (Q_t: period t's quantile function)  [count/period]
        sum  = Σ_t Y[t] over the group, its quantiles at the levels       [count]

    ``rho = 1`` makes the sum's bounds the sums of the periods' bounds; ``rho = 0``
    (independent periods) gives the narrowest. By default ``rho`` is the one
    ``forecast_demand(method="auto")`` estimated from its backtest errors
    (``forecast.attrs["error_correlation"]``, per clinic; see ``_equicorrelation``),
    otherwise 1 (the sums of the bounds: never too narrow).

    Parameters
    ----------
    forecast : DataFrame
        Output of :func:`forecast_demand`: ``clinic``, ``period`` (W-SUN or M),
        ``mean``, ``lo_<level>``, ``hi_<level>`` [count/period].
    every : {None, "Q", "Y"}, optional
        Sum per calendar quarter or year (a week counts where it starts), or, by
        default, over all periods of each clinic's forecast.
    correlation : float or dict, optional
        ``rho`` in [0, 1] for all clinics, or clinic -> rho; default as above [-].
    n_paths : int, optional
        Simulated paths per clinic (the common factor stratified, so that ``rho = 1``
        is exact up to the grid) [-].
    seed : int, optional
        Random seed; the same seed gives the same bounds.

    Returns
    -------
    DataFrame
        ``clinic``, ``period`` (the quarter or year as a Period, or ``"all"``),
        ``n_periods``, ``mean`` (sum of the means), ``lo_<level>``, ``hi_<level>``
        [count per quarter, year or horizon].

    Raises
    ------
    ValueError
        If columns are missing, the bounds are not nested around the mean, ``every``
        is unknown or a correlation lies outside [0, 1].

    Examples
    --------
    Two months whose errors move together (``rho = 1``): the sum's bounds are the sums
    of the bounds:

    >>> fc = pd.DataFrame({"clinic": "a", "period": pd.period_range("2025-01", periods=2, freq="M"),
    ...                    "mean": [100.0, 200.0], "lo_80": [90.0, 180.0], "hi_80": [110.0, 220.0]})
    >>> s = interval_of_sum(fc, correlation=1.0)
    >>> s[["n_periods", "mean"]].to_dict("list"), round(s["lo_80"].item()), round(s["hi_80"].item())
    ({'n_periods': [2], 'mean': [300.0]}, 270, 330)
    """
    if not isinstance(forecast, pd.DataFrame):
        raise ValueError(f"forecast must be a DataFrame, got {type(forecast).__name__}")
    missing = [c for c in ("clinic", "period", "mean") if c not in forecast.columns]
    if missing:
        raise ValueError(f"forecast lacks column(s) {missing}")
    lv = sorted({c[3:] for c in forecast.columns if c.startswith("lo_")} &
                {c[3:] for c in forecast.columns if c.startswith("hi_")},
                key=lambda x: float(x.replace("_", ".")))
    if not lv:
        raise ValueError("forecast has no lo_<level>/hi_<level> interval columns")
    if every not in (None, "Q", "Y"):
        raise ValueError(f"every must be None, 'Q' or 'Y', got {every!r}")
    freq = _freq_of(forecast["period"])
    from scipy.stats import norm

    # knots: probabilities of the bounds (outermost first) and the mean as the median
    probs = ([(100 - float(x.replace("_", "."))) / 200 for x in reversed(lv)] + [0.5] +
             [(100 + float(x.replace("_", "."))) / 200 for x in lv])
    cols = [f"lo_{x}" for x in reversed(lv)] + ["mean"] + [f"hi_{x}" for x in lv]
    g = norm.ppf(probs)
    vals = forecast[cols].to_numpy(float)
    if not np.isfinite(vals).all() or (np.diff(vals, axis=1) < -1e-9 * np.abs(vals[:, 1:]).max()).any():
        raise ValueError("forecast: the bounds must be finite and nested around the mean "
                         "(lo_95 <= lo_80 <= mean <= hi_80 <= hi_95)")
    periods = pd.PeriodIndex(forecast["period"])
    if every is None:
        key = np.full(len(forecast), "all", dtype=object)
    else:
        start = periods.to_timestamp(how="start") if freq == "W" else periods.start_time
        key = np.asarray(pd.PeriodIndex(start, freq=every).astype(str), dtype=object)
    attrs = forecast.attrs.get("error_correlation", {}) if correlation is None else correlation
    rng = np.random.default_rng(seed)
    n = int(n_paths)
    rows = []
    clinics = forecast["clinic"].astype(str).to_numpy()
    for clinic in pd.unique(clinics):
        sel = np.flatnonzero(clinics == clinic)
        rho = attrs.get(clinic, 1.0) if isinstance(attrs, dict) else attrs
        rho = float(rho)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"correlation for {clinic!r} must lie in [0, 1], got {rho!r}")
        v = vals[sel]                                     # periods x knots
        common = norm.ppf((rng.permutation(n) + 0.5) / n)[:, None]
        z = math.sqrt(rho) * common + math.sqrt(1 - rho) * rng.standard_normal((n, len(sel)))
        seg = np.clip(np.searchsorted(g, z) - 1, 0, len(g) - 2)          # knot segment
        slope = np.diff(v, axis=1) / np.diff(g)                           # periods x segments
        t = np.arange(len(sel))
        y = np.maximum(v[t, seg] + (z - g[seg]) * slope[t, seg], 0.0)     # paths x periods
        for k in pd.unique(key[sel]):
            cols_k = key[sel] == k
            tot = y[:, cols_k].sum(axis=1)
            row = {"clinic": clinic, "period": k if every is None else pd.Period(k, freq=every),
                   "n_periods": int(cols_k.sum()), "mean": float(v[cols_k, len(lv)].sum())}
            for x in lv:
                level = float(x.replace("_", "."))
                lo, hi = np.quantile(tot, [(100 - level) / 200, (100 + level) / 200])
                row[f"lo_{x}"] = min(float(lo), row["mean"])
                row[f"hi_{x}"] = max(float(hi), row["mean"])
            rows.append(row)
    return pd.DataFrame(rows)


def method_of(model: str) -> str:
    """The ``method`` name that reproduces a forecast's ``model`` label (for :func:`backtest`).

    Examples
    --------
    >>> method_of("combo(profile,ets(A,Ad,M))")
    'combo'
    >>> method_of("seasonal_naive")
    'seasonal_naive'

    A model chosen by ``method="auto"`` carries `` [auto]``: its intervals are calibrated
    by the choice's backtest, so ``auto`` is what reproduces it:

    >>> method_of("combo(profile,ets(A,Ad,M)) [auto]")
    'auto'
    """
    if str(model).endswith("[auto]"):
        return "auto"
    name = str(model).split("(")[0].split("+")[0]
    return name if name in METHODS else "auto"
