"""Run the benchmarks: ``python -m benchmarks [name ...] [--clinics N] [--years Y]``."""

import argparse
import sys

from . import bench_core, bench_extract, bench_forecast, bench_forecast_real, bench_purchase, bench_region, bench_scale


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks")
    p.add_argument("names", nargs="*", default=["core"],
                   help=("benchmarks to run: core, region, planning, notebook, notebook-standalone, extract, forecast, "
                         "forecast-profile, forecast-real, purchase, scale-aggregation, scale-batch, scale-region"))
    p.add_argument("--clinics", type=int, default=1000)
    p.add_argument("--years", type=int, default=5)
    p.add_argument("--loop-sample", type=int, default=100,
                   help="clinics timed in the per-clinic loop (scaled up to --clinics)")
    p.add_argument("--baseline", help="'core', 'planning': another tree of the package to time against "
                                      "(interleaved)")
    p.add_argument("--region-clinics", type=int, default=20, help="clinics in 'region'")
    p.add_argument("--clinic", default="uro", help="'notebook': the demo clinic whose report is timed")
    p.add_argument("--forecast-clinics", type=int, default=500, help="synthetic clinics in 'forecast'")
    p.add_argument("--rows", type=int, default=10_000_000, help="extract rows in 'scale-aggregation' and 'extract'")
    p.add_argument("--repeat", type=int, default=2, help="'extract' and 'core --baseline': interleaved runs of each")
    p.add_argument("--extract-format", default="parquet", choices=("parquet", "csv"), help="'extract': file format")
    p.add_argument("--extract-file", help="'extract': reuse (or write once) the extract at this path")
    p.add_argument("--chunk-rows", type=int, help="'extract': rows read at a time by the package")
    p.add_argument("--no-whole", action="store_true", help="'extract': skip the whole-frame path")
    p.add_argument("--batch-clinics", type=int, default=20, help="clinics in 'scale-batch' and 'scale-region'")
    p.add_argument("--workers", type=int, default=2, help="workers in 'scale-region'")
    p.add_argument("--data", nargs="+", help="long CSV file(s) (series, period, value) for 'forecast-real'")
    p.add_argument("--horizon", type=int, default=12, help="periods ahead in 'forecast-real'")
    p.add_argument("--origins", type=int, default=8, help="backtest origins in 'forecast-real'")
    p.add_argument("--before", help="'forecast-real': use only periods before this one, e.g. 2020-03")
    p.add_argument("--history", default="0,24",
                   help="'forecast-real': history lengths to test, 0 = all, e.g. 0,24")
    p.add_argument("--country", default="SE", help="'forecast-real': holiday calendar, e.g. SE, GB-ENG, GB-SCT")
    p.add_argument("--exclude", help="'forecast-real': anomaly periods START:END[,START:END], e.g. 2020-03:2021-06")
    args = p.parse_args(argv)
    for name in args.names:
        if name == "core":
            bench_core.run(clinics=args.clinics, years=args.years, loop_sample=args.loop_sample,
                           baseline=args.baseline, repeat=args.repeat)
        elif name in ("region", "notebook", "notebook-standalone", "planning"):
            bench_region.run(parts=(name,), clinics=args.region_clinics, workers=args.workers, clinic=args.clinic,
                             baseline=args.baseline)
        elif name.startswith("scale"):
            parts = ("aggregation", "batch") if name == "scale" else (name.split("-", 1)[1],)
            bench_scale.run(rows=args.rows, clinics=args.batch_clinics, parts=parts, workers=args.workers)
        elif name == "extract":
            bench_extract.run(rows=args.rows, repeat=args.repeat, fmt=args.extract_format, whole=not args.no_whole,
                              extract_file=args.extract_file, chunk_rows=args.chunk_rows)
        elif name == "purchase":
            bench_purchase.run(clinics=50, weeks=52, pool_size=5, move_cost_sek=500.0, seed=1)
        elif name == "forecast-real":
            if not args.data:
                print("forecast-real needs --data FILE (a long CSV: series, period, value)", file=sys.stderr)
                return 2
            bench_forecast_real.run(data=args.data, horizon=args.horizon, origins=args.origins,
                                    before=args.before, exclude=args.exclude, history=args.history,
                                    country=args.country)
        elif name == "forecast-profile":
            bench_forecast.profile_auto(clinics=min(args.forecast_clinics, 50), years=args.years)
        elif name == "forecast":
            bench_forecast.run(clinics=args.forecast_clinics, years=args.years)
        else:
            print(f"unknown benchmark {name!r}", file=sys.stderr)
            return 2
    return 0


raise SystemExit(main())
