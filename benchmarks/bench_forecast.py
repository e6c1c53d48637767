"""Forecasting and backtesting many clinics: time per clinic, and what dominates.

Runs ``forecast_demand(method="auto")`` (52 weeks ahead) and ``backtest`` (13 weeks,
4 origins, the chosen method against the seasonal naive) on the demo region and on N
synthetic clinics (``bench_core.synthetic_region``), and times each method on its own,
so the share of each in the total is measured in the same run.
"""

from __future__ import annotations

import json
import time
import warnings
from pathlib import Path

from kps_analysis import demo, forecast

from .bench_core import synthetic_region


def _time(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def run(*, clinics: int = 500, years: int = 5) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        region = demo.generate(end="2026-11-22").weekly
        synth = synthetic_region(clinics, years)
        result = {"benchmark": "forecast", "synthetic_clinics": clinics, "years": years}
        for name, frame in (("demo", region), ("synthetic", synth)):
            n = frame["clinic"].nunique()
            kw = dict(measure="referrals_in", exclude=[2020])
            times = {m: _time(lambda m=m: forecast.forecast_demand(frame, horizon=52, method=m, **kw))
                     for m in ("seasonal_naive", "profile", "ets", "auto")}
            times["backtest"] = _time(lambda: forecast.backtest(
                frame, horizon=13, origins=4, methods=("combo", "seasonal_naive"), **kw))
            result[name] = {"clinics": n,
                            "seconds": {k: round(v, 2) for k, v in times.items()},
                            "seconds_per_clinic": {k: round(v / n, 3) for k, v in times.items()},
                            "ets_share_of_auto": round(times["ets"] / times["auto"], 2),
                            "auto_over_seasonal_naive": round(times["auto"] / times["seasonal_naive"], 1)}
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "forecast.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    return result
