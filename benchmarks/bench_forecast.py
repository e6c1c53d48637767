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
            kw = {"measure": "referrals_in", "exclude": [2020]}
            times = {m: _time(lambda m=m, frame=frame, kw=kw: forecast.forecast_demand(
                frame, horizon=52, method=m, **kw)) for m in ("seasonal_naive", "profile", "ets", "auto")}
            times["backtest"] = _time(lambda frame=frame, kw=kw: forecast.backtest(
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


def profile_auto(clinics: int = 50, years: int = 5) -> dict:
    """What dominates ``auto``: cProfile shares of its parts on synthetic clinics.

    ``python -m benchmarks forecast-profile --forecast-clinics 50``. Reported as the
    share of the profiled time spent in (cumulative) ``forecast._auto`` (the model
    choice and its calibration), ``forecast._ets`` (ETS fits and forecasts), ``forecast._profile_factors``
    (seasonal-profile estimates) and ``calendar.working_days``.
    """
    import cProfile
    import pstats

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = synthetic_region(clinics, years)
        prof = cProfile.Profile()
        prof.enable()
        forecast.forecast_demand(frame, measure="referrals_in", horizon=52, method="auto", exclude=[2020])
        prof.disable()
    stats = pstats.Stats(prof)
    wanted = {("forecast.py", "_auto"), ("forecast.py", "_ets"), ("forecast.py", "_profile_factors"),
              ("calendar.py", "working_days")}
    shares = {}
    for (path, _line, name), row in stats.stats.items():
        key = (Path(path).name, name)
        if key in wanted and "kps_analysis" in path:
            shares[f"{key[0][:-3]}.{name}"] = round(row[3] / stats.total_tt, 2)
    result = {"benchmark": "forecast-profile", "clinics": clinics,
              "profiled_seconds": round(stats.total_tt, 2), "share_of_auto": shares}
    print(json.dumps(result, indent=2))
    return result
