"""Validate the forecasts on real healthcare activity series the project does not ship.

``python -m benchmarks forecast-real --data FILE [FILE ...] [--before 2020-03]
[--horizon 12] [--origins 8] [--history 0,24] [--country GB] [--exclude 2020-03:2021-06]``

``FILE`` is a long CSV with the columns ``series`` (or ``clinic``), ``period`` (``YYYY-MM``
for monthly series, ``YYYY-Www`` for ISO weeks) and ``value`` (a non-negative count).
All series of a file are forecast together, as the clinics of one region are: at each
rolling origin (``--origins``, spread over the last two seasons before ``--before``,
the last one ``--horizon`` periods before the end) the history up to the origin is
forecast ``--horizon`` periods ahead and scored on the held-out actuals. ``--history``
lists the history lengths to test: ``0`` = all of it, ``24`` = only the 24 periods up to
each origin (a clinic with two years of data).

Methods: ``seasonal_naive`` (same period last year, the benchmark), ``hw_damped`` (a
plain damped Holt-Winters fitted by statsmodels on the raw counts: additive damped
trend, multiplicative season, estimated initial states), ``auto`` of
:func:`kps_analysis.forecast.forecast_demand` and, for the pooling test, ``auto`` without
pooled seasonality (``auto_own_season``, short histories only). With statsforecast installed, its
``AutoETS`` is measured as well (``sf_autoets``).

Scores, per series then averaged over the series of a data set: MASE (mean absolute
error over the origins' in-sample seasonal-naive mean absolute error, the scale from
the history the forecast saw); coverage of the 80 % and 95 % intervals pooled over all
held-out periods, overall and per lead-time bucket (a quarter season).

For ``auto`` the interval of each series' 12-month total
(:func:`kps_analysis.forecast.interval_of_sum`) is scored against the actual total too.

The data are read from wherever the user put them; nothing is downloaded and
nothing is written but the result JSON in ``benchmarks/results/``. Run it with one
BLAS thread (``OPENBLAS_NUM_THREADS=1``, as ``kps run`` does): the ETS fits' optimiser
is about four times slower with several threads on a busy machine.
"""

from __future__ import annotations

import json
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from kps_analysis import calendar as _cal
from kps_analysis import forecast

METHODS = ("seasonal_naive", "hw_damped", "auto", "auto_own_season")


def load_long(path: str | Path) -> pd.DataFrame:
    """Read a long CSV (``series``/``clinic``, ``period``, ``value``) into ``clinic``, ``period``, ``activity``.

    Monthly labels (``2019-04``) become ``M`` periods, ISO weeks (``2019-W14``) ``W-SUN``
    periods. Raises ``ValueError`` naming the file and column when a column is missing
    or a label cannot be read.
    """
    path = Path(path)
    frame = pd.read_csv(path, dtype={"period": str})
    key = "series" if "series" in frame.columns else "clinic"
    missing = [c for c in (key, "period", "value") if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {missing}; expected series, period, value")
    labels = frame["period"].str.strip()
    try:
        if labels.str.contains("W", case=False).any():
            periods = _cal.parse_iso_week(labels.tolist())
        else:
            periods = pd.PeriodIndex(labels, freq="M")
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{path}: column 'period': {exc}") from None
    return pd.DataFrame({"clinic": frame[key].astype(str), "period": periods,
                         "activity": pd.to_numeric(frame["value"], errors="raise").astype(float)})


def _exclude(text: str | None):
    if not text:
        return None
    return [tuple(part.split(":")) for part in text.split(",")]


def _hw_damped(hist: pd.DataFrame, horizon: int, m: int) -> pd.DataFrame:
    """The baseline: statsmodels' damped Holt-Winters on the raw counts, per series."""
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    rows = []
    for clinic, g in hist.groupby("clinic", sort=True):
        g = g.sort_values("period")
        y = g["activity"].to_numpy(float)
        last = g["period"].iloc[-1]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                fit = ExponentialSmoothing(y, trend="add", damped_trend=True,
                                           seasonal="mul" if (y > 0).all() else "add",
                                           seasonal_periods=m, initialization_method="estimated").fit()
                mean = np.maximum(np.asarray(fit.forecast(horizon), float), 0)
            except (ValueError, np.linalg.LinAlgError):
                i = np.arange(1, horizon + 1)
                mean = y[len(y) - 1 + i - m * np.ceil(i / m).astype(int)]
        rows.append(pd.DataFrame({"clinic": clinic, "period": pd.period_range(last + 1, periods=horizon,
                                                                             freq=last.freq),
                                  "mean": mean}))
    return pd.concat(rows, ignore_index=True)


def _sf_autoets(hist: pd.DataFrame, horizon: int, m: int) -> pd.DataFrame | None:
    """statsforecast's AutoETS (if installed), for the comparison in the README."""
    try:
        from statsforecast import StatsForecast
        from statsforecast.models import AutoETS
    except ImportError:
        return None
    df = pd.DataFrame({"unique_id": hist["clinic"], "ds": hist["period"].dt.to_timestamp(),
                       "y": hist["activity"].to_numpy(float)})
    freq = "MS" if hist["period"].dtype.freq.freqstr.startswith("M") else "W-MON"
    sf = StatsForecast(models=[AutoETS(season_length=m)], freq=freq, n_jobs=1)
    fc = sf.forecast(df=df, h=horizon, level=[80, 95])
    fc = fc.reset_index() if "unique_id" not in fc.columns else fc
    pf = hist["period"].dtype.freq
    out = pd.DataFrame({"clinic": fc["unique_id"].astype(str),
                        "period": pd.PeriodIndex(pd.to_datetime(fc["ds"]), freq=pf),
                        "mean": np.maximum(fc["AutoETS"].to_numpy(float), 0)})
    for lv in (80, 95):
        out[f"lo_{lv}"] = fc[f"AutoETS-lo-{lv}"].to_numpy(float)
        out[f"hi_{lv}"] = fc[f"AutoETS-hi-{lv}"].to_numpy(float)
    return out


def _origins(frame: pd.DataFrame, horizon: int, n: int, m: int) -> list:
    last = frame["period"].max()
    hi = last - horizon
    lo = hi - (2 * m - horizon) if 2 * m > horizon else hi
    k = np.unique(np.round(np.linspace(0, (hi - lo).n, n)).astype(int))
    return [lo + int(j) for j in k]


def backtest_file(frame: pd.DataFrame, *, horizon: int, origins: int, history: int,
                  country: str, exclude=None, methods=METHODS) -> pd.DataFrame:
    """Forecasts of every method at every origin, joined with the actuals and scales."""
    freq = frame["period"].dtype.freq
    m = 52 if freq.freqstr.startswith("W") else 12
    actual = frame.rename(columns={"activity": "actual"})
    pieces, seconds, sums = [], {}, []
    for origin in _origins(frame, horizon, origins, m):
        hist = frame[frame["period"] <= origin]
        if history:
            hist = hist[hist["period"] > origin - history]
        # in-sample seasonal-naive scale of the history the forecast saw
        wide = hist.pivot_table(index="period", columns="clinic", values="activity", aggfunc="sum").sort_index()
        scale = (wide - wide.shift(m)).abs().mean().rename("scale")
        for meth in methods:
            if meth == "auto_own_season" and not history:
                continue   # the pooling test is for short histories
            t0 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if meth == "hw_damped":
                    fc = _hw_damped(hist, horizon, m)
                elif meth == "sf_autoets":
                    fc = _sf_autoets(hist, horizon, m)
                    if fc is None:
                        continue
                else:
                    kw = {"pool_seasonality": False} if meth == "auto_own_season" else {}
                    fc = forecast.forecast_demand(
                        hist, measure="activity", horizon=horizon, exclude=exclude, country=country,
                        method="auto" if meth.startswith("auto") else meth, **kw)
            seconds[meth] = seconds.get(meth, 0.0) + time.perf_counter() - t0
            res = fc.merge(actual, on=["clinic", "period"]).merge(scale, left_on="clinic", right_index=True)
            res["step"] = (pd.PeriodIndex(res["period"]).asi8 - origin.ordinal).astype(int)
            res["method"] = meth
            res["origin"] = str(origin)
            pieces.append(res)
            if meth == "auto":   # the interval of the horizon's total (issue 14 item 3)
                tot = forecast.interval_of_sum(fc).merge(
                    fc.merge(actual, on=["clinic", "period"]).groupby("clinic", as_index=False)
                    .agg(actual=("actual", "sum"), k=("actual", "size")), on="clinic")
                sums.append(tot[tot["k"] == horizon].assign(origin=str(origin)))
    out = pd.concat(pieces, ignore_index=True)
    out.attrs["seconds"] = seconds
    out.attrs["sums"] = pd.concat(sums, ignore_index=True) if sums else None
    return out


def summarise(res: pd.DataFrame, *, m: int) -> dict:
    """Mean MASE over the series, and coverage overall and per lead-time bucket (and of
    the horizon's totals by :func:`kps_analysis.forecast.interval_of_sum`, for ``auto``)."""
    tot = res.attrs.get("sums")
    res = res.assign(ase=(res["mean"] - res["actual"]).abs() / res["scale"].where(res["scale"] > 0))
    size = max(1, m // 4)
    res["bucket"] = ((res["step"] - 1) // size * size + 1).astype(str) + "-" + \
        ((res["step"] - 1) // size * size + size).astype(str)
    out = {}
    for meth, g in res.groupby("method", sort=False):
        per = g.groupby("clinic")["ase"].mean()
        row = {"mean_mase": round(float(per.mean()), 3), "median_mase": round(float(per.median()), 3)}
        if "lo_80" in g.columns and g["lo_80"].notna().any():
            for lv in (80, 95):
                inside = (g["actual"] >= g[f"lo_{lv}"]) & (g["actual"] <= g[f"hi_{lv}"])
                row[f"coverage_{lv}"] = round(float(inside.mean()), 3)
                row[f"coverage_{lv}_by_lead"] = {b: round(float(v), 3) for b, v in
                                                 inside.groupby(g["bucket"], sort=False).mean().items()}
        out[meth] = row
    if tot is not None and len(tot) and "auto" in out:
        for lv in (80, 95):
            inside = (tot["actual"] >= tot[f"lo_{lv}"]) & (tot["actual"] <= tot[f"hi_{lv}"])
            out["auto"][f"coverage_{lv}_of_sums"] = round(float(inside.mean()), 3)
        out["auto"]["sums_scored"] = int(len(tot))
    return out


def run(*, data, horizon: int = 12, origins: int = 8, before: str | None = None,
        exclude: str | None = None, history: str = "0,24", country: str = "SE",
        methods=METHODS) -> dict:
    files = [data] if isinstance(data, (str, Path)) else list(data)
    methods = tuple(methods)
    try:
        import statsforecast  # noqa: F401
        methods = methods + ("sf_autoets",)
    except ImportError:
        pass
    results = []
    for path in files:
        frame = load_long(path)
        if before:
            frame = frame[frame["period"] < pd.Period(before, freq=frame["period"].dtype.freq)]
        m = 52 if frame["period"].dtype.freq.freqstr.startswith("W") else 12
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            series = [(g["activity"].to_numpy(float),
                       forecast._days(pd.PeriodIndex(g["period"]), "working", country),
                       forecast._days(pd.PeriodIndex(g["period"]), "calendar", country),
                       g["activity"].isna().to_numpy()) for _, g in frame.groupby("clinic")]
        basis = forecast._day_basis("activity", series, m)
        for hist_len in (int(x) for x in str(history).split(",")):
            t0 = time.perf_counter()
            res = backtest_file(frame, horizon=horizon, origins=origins, history=hist_len,
                                country=country, exclude=_exclude(exclude), methods=methods)
            summ = summarise(res, m=m)
            best = min(summ["seasonal_naive"]["mean_mase"], summ["hw_damped"]["mean_mase"])
            entry = {"data": Path(path).name, "series": int(frame["clinic"].nunique()),
                     "periods": [str(frame["period"].min()), str(frame["period"].max())],
                     "history": hist_len or "all", "day_basis": basis[0], "basis_from": basis[1],
                     "seconds": {k: round(v, 1) for k, v in res.attrs["seconds"].items()},
                     "wall_seconds": round(time.perf_counter() - t0, 1),
                     "auto_over_best_baseline": round(summ["auto"]["mean_mase"] / best, 3),
                     "methods": summ}
            results.append(entry)
            print(json.dumps(entry, indent=1))
    result = {"benchmark": "forecast-real", "horizon": horizon, "origins": origins, "before": before,
              "country": country, "exclude": exclude, "cases": results}
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "forecast_real.json").write_text(json.dumps(result, indent=2))
    print(table(result))
    return result


def table(result: dict) -> str:
    """The README's table: one row per data set and history."""
    lines = ["| data set | history | day basis | seasonal naive | damped HW | auto | auto, own season only "
             "| auto / better baseline | auto coverage 80 % | auto coverage 95 % "
             "| 12-month totals 80 % / 95 % |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for c in result["cases"]:
        mm = c["methods"]
        get = lambda k, mm=mm: mm[k]["mean_mase"] if k in mm else float("nan")  # noqa: E731
        lines.append(f"| {c['data']} ({c['series']}) | {c['history']} | {c['day_basis']} ({c['basis_from']}) "
                     f"| {get('seasonal_naive'):.3f} | {get('hw_damped'):.3f} | **{get('auto'):.3f}** "
                     f"| {get('auto_own_season'):.3f} | {c['auto_over_best_baseline']:.3f} "
                     f"| {mm['auto']['coverage_80']:.2f} | {mm['auto']['coverage_95']:.2f} "
                     f"| {mm['auto'].get('coverage_80_of_sums', float('nan')):.2f} / "
                     f"{mm['auto'].get('coverage_95_of_sums', float('nan')):.2f} |")
    if result["cases"]:
        buckets = list(result["cases"][0]["methods"]["auto"]["coverage_80_by_lead"])
        lines += ["", "| data set | history | " + " | ".join(f"lead {b}" for b in buckets) + " |",
                  "| --- | --- | " + " | ".join("---" for _ in buckets) + " |"]
    for c in result["cases"]:
        a = c["methods"]["auto"]
        lines.append(f"| {c['data']} | {c['history']} | " + " | ".join(
            f"{a['coverage_80_by_lead'][b]:.2f} / {a['coverage_95_by_lead'][b]:.2f}"
            for b in a["coverage_80_by_lead"]) + " |")
    return "\n".join(lines)
