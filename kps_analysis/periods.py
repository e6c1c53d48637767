"""Weeks and months: the two planning periods, their lengths, horizons and conversion.

Data come weekly (ISO weeks, pandas ``Period`` freq ``W-SUN``) or monthly (``M``). The
planning model works on whichever the clinic's data have, and never takes a month for a
week: horizons, lead times and fixed periods are given in weeks in the parameters and
turned into periods by days (:func:`periods_within`), and every flow is counted per period
(a ``period_days`` column says how long each period is).

* :func:`unit_of`: ``"week"`` or ``"month"`` for periods;
* :func:`period_lengths`: days per period [days];
* :func:`periods_within`: which periods of a plan start within a span given in weeks;
* :func:`plan_periods`: the plan's periods after the latest data period;
* :func:`to_monthly`: a weekly frame as months (flows split by days, whole numbers that add up;
  stocks as at the month's last Sunday), e.g. to try the monthly path on weekly data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["unit_of", "period_lengths", "periods_within", "plan_periods", "one_period_type", "to_monthly"]


def unit_of(periods) -> str:
    """``"week"`` (W-SUN) or ``"month"`` (M) for a Period, PeriodIndex or Period series.

    Raises
    ------
    ValueError
        For anything else (the message names the frequency found).

    Examples
    --------
    >>> unit_of(pd.period_range("2027-01", periods=2, freq="M")), unit_of(pd.Period("2026-11-30", "W-SUN"))
    ('month', 'week')
    """
    freq = getattr(getattr(periods, "dtype", None), "freq", None) or getattr(periods, "freq", None)
    text = getattr(freq, "freqstr", str(freq))
    if text.startswith("W"):
        return "week"
    if text.startswith("M"):
        return "month"
    raise ValueError(f"periods must be weeks (W-SUN) or months (M), got freq {text!r}")


def period_lengths(periods) -> np.ndarray:
    """Length of each period in calendar days [days]: 7 for an ISO week, 28-31 for a month.

    Examples
    --------
    >>> period_lengths(pd.period_range("2027-01", periods=3, freq="M")).tolist()
    [31, 28, 31]
    >>> period_lengths(pd.period_range("2026-11-30", periods=2, freq="W-SUN")).tolist()
    [7, 7]
    """
    index = pd.PeriodIndex(periods)
    return ((index.end_time.normalize() - index.start_time.normalize()).days + 1).to_numpy(int)


def periods_within(periods, weeks: float) -> np.ndarray:
    """Which periods of a plan lie within its first ``weeks`` weeks: those that start before
    ``7 · weeks`` days have passed since the first period's start [bool per period].

    One rule for weeks and months, so a horizon given in weeks never takes a month for a
    week: 12 weeks (84 days) are 12 weeks or the 3 months that start within them; 52 weeks
    are 52 weeks or 12 months; a lead time of 4 weeks (28 days) blocks weeks 1-4 or the
    first month.

    Examples
    --------
    >>> periods_within(pd.period_range("2027-01", periods=5, freq="M"), 12).tolist()
    [True, True, True, False, False]
    >>> int(periods_within(pd.period_range("2026-11-30", periods=60, freq="W-SUN"), 52).sum())
    52
    """
    index = pd.PeriodIndex(periods)
    if len(index) == 0:
        return np.zeros(0, bool)
    start = (index.start_time.normalize() - index[0].start_time.normalize()).days.to_numpy()
    return start < 7.0 * float(weeks)


def plan_periods(last, horizon_weeks: float) -> pd.PeriodIndex:
    """The plan's periods: from the one after ``last`` (the latest data period) over
    ``horizon_weeks`` weeks [weeks or months, as ``last``].

    Examples
    --------
    >>> p = plan_periods(pd.Period("2026-10", "M"), 52)
    >>> len(p), str(p[0]), str(p[-1])
    (12, '2026-11', '2027-10')
    """
    n = int(np.ceil(7.0 * horizon_weeks / 28.0)) + 2 if unit_of(last) == "month" else int(horizon_weeks)
    candidates = pd.period_range(last + 1, periods=max(n, 1), freq=last.freq)
    return candidates[periods_within(candidates, horizon_weeks)]


def one_period_type(frame: pd.DataFrame, what: str = "weekly") -> pd.DataFrame:
    """``frame`` with its ``period`` column as one Period dtype.

    A region's frame that mixes weekly and monthly clinics holds Period objects (``object``
    dtype); the part of one kind is typed again (``W-SUN`` or ``M``) for the functions that
    need a Period dtype.

    Raises
    ------
    ValueError
        When the frame still mixes weeks and months (the message names ``what``).

    Examples
    --------
    >>> mixed = pd.DataFrame({"period": [pd.Period("2027-01", "M"), pd.Period("2027-02", "M")]}, dtype=object)
    >>> str(one_period_type(mixed)["period"].dtype)
    'period[M]'
    """
    if frame.empty or "period" not in frame.columns or isinstance(frame["period"].dtype, pd.PeriodDtype):
        return frame
    freqs = {getattr(v, "freqstr", None) for v in frame["period"].dropna().unique()}
    if len(freqs) != 1 or None in freqs:
        raise ValueError(f"{what}: the clinics planned together must all have weekly or all monthly periods "
                         f"(found {sorted(str(f) for f in freqs)}); plan_region plans them apart")
    return frame.assign(period=pd.PeriodIndex(frame["period"].array, freq=freqs.pop()))


def to_monthly(weekly: pd.DataFrame, *, flows=None, stocks=None) -> pd.DataFrame:
    """A weekly frame as calendar months, per clinic.

    Flows (counts during a period) are split over the months by calendar days and made
    whole so that the months add up exactly: with ``C(t)`` the clinic's running total at
    day ``t`` (linear within a week), ``month[m] = round(C(end of m)) - round(C(end of
    m-1))`` [count/month]. Stocks (queues, counts over 90 days, measured at a period's
    end) are taken at the month's last day, linear between the two Sundays around it
    [patients]; a queue with its flows (:data:`kps_analysis.data.CONSERVATION_IDENTITIES`)
    then keeps its identity in whole patients: its month-end value is the first month's
    plus the months' rounded net flows, plus whatever the weekly data themselves did not
    conserve (rounded). Only months the weeks cover completely are returned.

    Parameters
    ----------
    weekly : DataFrame
        Canonical weekly frame: ``clinic``, ``period`` (W-SUN), measure columns.
    flows, stocks : sequence of str, optional
        The flow and stock columns; default :data:`kps_analysis.data.FLOW_MEASURES` and
        :data:`kps_analysis.data.STOCK_MEASURES` present in the frame.

    Returns
    -------
    DataFrame
        ``clinic``, ``period`` (M), the same measure columns.

    Examples
    --------
    Four weeks of 7 a week from Monday 2027-02-01 fill February 2027 exactly:

    >>> w = pd.DataFrame({"clinic": "a", "period": pd.period_range("2027-02-01", periods=4, freq="W-SUN"),
    ...                   "new_visits": 7.0, "queue_new_visit": [10.0, 11.0, 12.0, 13.0]})
    >>> to_monthly(w)[["period", "new_visits", "queue_new_visit"]].astype(str).values.tolist()
    [['2027-02', '28.0', '13.0']]
    """
    from .data import CONSERVATION_IDENTITIES, FLOW_MEASURES, STOCK_MEASURES

    if unit_of(weekly["period"]) != "week":
        raise ValueError("to_monthly: the frame's periods must be ISO weeks (W-SUN)")
    flows = [c for c in (FLOW_MEASURES if flows is None else flows) if c in weekly.columns]
    stocks = [c for c in (STOCK_MEASURES if stocks is None else stocks) if c in weekly.columns]
    w = weekly.groupby(["clinic", "period"], as_index=False, sort=True)[flows + stocks].sum(min_count=1)
    parts = []
    for clinic, g in w.groupby("clinic", sort=False):     # per clinic: arrays over its weeks and months
        index = pd.PeriodIndex(g["period"].array)
        first_day = index.start_time.normalize()
        last_day = index.end_time.normalize()
        months = pd.period_range(first_day.min().to_period("M"), last_day.max().to_period("M"), freq="M")
        month_end = months.end_time.normalize()
        complete = (months.start_time >= first_day.min()) & (month_end <= last_day.max())
        out = pd.DataFrame({"clinic": clinic, "period": months})
        if flows:
            x = g[flows].to_numpy(float)                                   # weeks × flows
            cum = np.vstack([np.zeros((1, len(flows))), np.cumsum(np.nan_to_num(x), axis=0)])
            k = np.searchsorted(last_day.to_numpy(), month_end.to_numpy(), side="left")  # week holding the month end
            k_in = np.minimum(k, len(g) - 1)
            days_in = np.clip((month_end - first_day[k_in]).days.to_numpy() + 1, 0, 7) / 7.0
            part = np.where((k < len(g))[:, None], np.nan_to_num(x)[k_in] * days_in[:, None], 0.0)
            at_end = cum[k] + part                                         # running total at each month end
            start_total = np.vstack([np.zeros((1, len(flows))), np.round(at_end[:-1] + 1e-9)])
            values = np.round(at_end + 1e-9) - start_total
            exact = pd.DataFrame(at_end - np.vstack([np.zeros((1, len(flows))), at_end[:-1]]), columns=flows)
            ends = last_day.to_period("M")
            reported = pd.DataFrame(~np.isnan(x), columns=flows).groupby(np.asarray(ends)).any()
            reported = reported.reindex(months, fill_value=False).to_numpy(bool)
            out[flows] = np.where(reported, values, np.nan)
        if stocks:
            y = g[stocks].to_numpy(float)                                  # weeks × stocks, at Sundays
            k = np.searchsorted(last_day.to_numpy(), month_end.to_numpy(), side="left")
            k_in = np.minimum(k, len(g) - 1)
            frac = np.clip((month_end - first_day[k_in]).days.to_numpy() + 1, 0, 7)[:, None] / 7.0
            prev = np.where((k_in > 0)[:, None], y[np.maximum(k_in - 1, 0)], np.nan)
            at_end = np.where(frac >= 1.0, y[k_in], prev + (y[k_in] - prev) * frac)
            at_end[k >= len(g)] = np.nan
            out[stocks] = np.round(at_end + 1e-9)
            for stock, (ins, outs) in CONSERVATION_IDENTITIES.items():
                if stock not in stocks or not all(c in flows for c in ins + outs):
                    continue
                net = (out[list(ins)].sum(axis=1, min_count=1) - out[list(outs)].sum(axis=1, min_count=1)).to_numpy()
                net_exact = (exact[list(ins)].sum(axis=1) - exact[list(outs)].sum(axis=1)).to_numpy()
                level = at_end[:, stocks.index(stock)]
                ok = complete & ~np.isnan(level) & ~np.isnan(net)
                if not ok.any():
                    continue
                i0 = int(np.flatnonzero(ok)[0])

                def since_first(x, ok=ok, i0=i0):
                    x = np.where(ok, x, 0.0)
                    return np.cumsum(x) - np.cumsum(x)[i0]

                # what the weeks themselves did not conserve (0 for conserving data), kept
                residual = np.round(level - (level[i0] + since_first(net_exact)) + 1e-6)
                derived = np.round(level[i0] + 1e-9) + since_first(net) + residual
                out[stock] = np.where(ok, derived, out[stock].to_numpy(float))
        parts.append(out[complete])
    if not parts:
        return pd.DataFrame(columns=["clinic", "period"] + flows + stocks)
    result = pd.concat(parts, ignore_index=True)
    result["period"] = pd.PeriodIndex(result["period"], freq="M")
    return result
