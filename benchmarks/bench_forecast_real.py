"""Validate the forecasts on real healthcare activity series the project does not ship.

``python -m benchmarks forecast-real --data FILE [--before 2020-03] [--horizon 12]
[--origins 8] [--exclude 2020-03:2021-06]``

``FILE`` is a long CSV with the columns ``series`` (or ``clinic``), ``period`` (``YYYY-MM``
for monthly series, ``YYYY-Www`` for ISO weeks) and ``value`` (a non-negative count).
Each series is backtested as one clinic with :func:`kps_analysis.forecast.backtest`:
rolling origins spread over the last two seasons before ``--before`` (default: the
end of the data), every method of :func:`forecast_demand` at the same origins, and the
seasonal naive as the benchmark. Reported per method: the median MASE over the
series, the share of series where the method beats the seasonal naive (lower MASE),
the geometric mean over the series of MASE / seasonal-naive MASE (below 1: better
than the benchmark), and the pooled coverage of the 80 % and 95 % intervals.

The data are read from wherever the user put them; nothing is downloaded and
nothing is written but the result JSON in ``benchmarks/results/``.
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

METHODS = ("seasonal_naive", "profile", "ets", "combo", "auto")


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


def summarise(bt: pd.DataFrame, methods=METHODS) -> dict:
    """Median MASE, share beating the seasonal naive and pooled coverage per method."""
    allb = bt[bt["horizon"] == "all"]
    naive = allb[allb["method"] == "seasonal_naive"].set_index("clinic")["mase"]
    out = {}
    for meth in methods:
        rows = allb[allb["method"] == meth].set_index("clinic")
        if rows.empty:
            continue
        beats = (rows["mase"] < naive.reindex(rows.index)).mean()
        ratio = rows["mase"] / naive.reindex(rows.index)
        ratio = ratio[np.isfinite(ratio) & (ratio > 0)]
        w = rows["n"].to_numpy(float)
        out[meth] = {"median_mase": round(float(rows["mase"].median()), 3),
                     "share_beating_seasonal_naive": round(float(beats), 2),
                     "geomean_mase_over_seasonal_naive": round(float(np.exp(np.log(ratio).mean())), 3),
                     "coverage_80": round(float(np.average(rows["coverage_80"], weights=w)), 3),
                     "coverage_95": round(float(np.average(rows["coverage_95"], weights=w)), 3),
                     "median_wape": round(float(rows["wape"].median()), 3)}
    return out


def run(*, data: str, horizon: int = 12, origins: int = 8, before: str | None = None,
        exclude: str | None = None, methods=METHODS) -> dict:
    frame = load_long(data)
    if before:
        frame = frame[frame["period"] < pd.Period(before, freq=frame["period"].dtype.freq)]
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bt = forecast.backtest(frame, measure="activity", horizon=horizon, origins=origins,
                               methods=methods, exclude=_exclude(exclude))
    seconds = time.perf_counter() - t0
    per_series = (bt[bt["horizon"] == "all"].pivot(index="clinic", columns="method", values="mase")
                  .round(3)[list(methods)])
    result = {"benchmark": "forecast-real", "data": Path(data).name, "series": int(frame["clinic"].nunique()),
              "periods": [str(frame["period"].min()), str(frame["period"].max())],
              "horizon": horizon, "origins": origins, "exclude": exclude,
              "seconds": round(seconds, 1), "methods": summarise(bt, methods),
              "mase_per_series": per_series.to_dict(orient="index")}
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / f"forecast_real_{Path(data).stem}.json").write_text(json.dumps(result, indent=2))
    print(json.dumps({k: v for k, v in result.items() if k != "mase_per_series"}, indent=2))
    print(per_series.to_string())
    return result
