"""The ``kps`` command line: ``run``, ``validate``, ``demo``, ``list``.

Exit status: 0 success, 1 when any clinic (or input) failed, 2 for a usage or
configuration error.

``kps`` works from any folder: the project folder (``parameters/``, ``notebooks/``,
``outputs/``) is ``--project DIR``, else the nearest folder from the current one up that
holds ``parameters/defaults.yaml``, else the demo parameters and notebooks shipped in the
package (then the run is written under ``./outputs``). ``--parameters`` and ``--out``
override the project's folders.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import __version__


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kps", description="kps-analysis: capacity and production planning")
    p.add_argument("--version", action="version", version=f"kps-analysis {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    project = argparse.ArgumentParser(add_help=False)
    project.add_argument("--project", metavar="DIR",
                         help="project folder with parameters/ (and notebooks/, outputs/); default: the nearest "
                              "one from the current folder up, else the demo project shipped with the package")
    parameters = argparse.ArgumentParser(add_help=False)
    parameters.add_argument("--parameters", metavar="DIR",
                            help="parameter folder; default: the project's parameters/")

    r = sub.add_parser("run", parents=[project, parameters],
                       help="run the clinic reports (default: every clinic on the demo data)")
    r.add_argument("--clinic", action="append", metavar="ID", help="clinic id (repeatable); default all")
    r.add_argument("--data", metavar="DIR", help="input data folder; default: the synthetic demo data")
    r.add_argument("--out", metavar="DIR",
                   help="the run folder is created under DIR; default: the project's outputs/ (./outputs "
                        "with the packaged demo project)")
    r.add_argument("--workers", type=int, metavar="N", help="clinics in parallel; default: number of CPUs")
    r.add_argument("--notebook", metavar="PATH",
                   help="report template to run per clinic; default: the project's "
                        "notebooks/clinic_report.ipynb, else the packaged one")
    r.add_argument("--scheduler", metavar="ADDRESS",
                   help="run the clinics on a Dask distributed cluster (e.g. tcp://host:8786)")
    r.add_argument("--worker-timeout", type=float, default=120.0, metavar="SECONDS",
                   help="with --scheduler: give up after this long without any Dask worker (default 120)")
    r.add_argument("--resume", nargs="?", const=True, default=False, metavar="RUN_ID",
                   help="finish an interrupted run (the newest, or RUN_ID): only the missing clinics run")

    v = sub.add_parser("validate", parents=[project, parameters],
                       help="check parameters and input data; runs nothing")
    v.add_argument("--data", metavar="DIR", help="input data folder; default: the synthetic demo data")
    v.add_argument("files", nargs="*", metavar="FILE",
                   help="data files to check on their own: weekly/monthly aggregates or patient-level "
                        "waiting-list extracts (told apart by their headers)")

    d = sub.add_parser("demo", help="write the synthetic demo data")
    d.add_argument("--out", metavar="DIR", default="outputs/demo-data", help="target folder")

    sub.add_parser("list", parents=[project, parameters], help="list the clinics found in the parameter folder")
    return p


def _err(text: str) -> None:
    print(text, file=sys.stderr)


def _progress(line: str) -> None:
    """A progress line on stderr that leaves a tqdm bar below it intact."""
    from tqdm import tqdm

    tqdm.write(line, file=sys.stderr)


def cmd_run(args) -> int:
    """``kps run``: every (or the named) clinic's report, the region overview and the index.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line (``--clinic``, ``--data``, ``--parameters``, ``--out``,
        ``--workers``, ``--resume``, ``--scheduler``, ...).

    Returns
    -------
    int
        The exit status: 0 every clinic succeeded, 1 any failed, 2 a usage or configuration
        error (one line on stderr; :func:`kps_analysis.batch.run`).
    """
    # One BLAS thread in this process too (before numpy loads; a value the user set is kept):
    # with --workers 1 the planning pass computes here, beside the notebook kernels.
    for key in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(key, "1")
    from .batch import ConfigurationError, run

    if args.workers is not None and args.workers < 1:
        _err("kps run: --workers must be at least 1")
        return 2
    if not args.worker_timeout > 0:
        _err("kps run: --worker-timeout must be a positive number of seconds")
        return 2
    try:
        result = run(
            clinics=args.clinic, data_dir=args.data, parameters_dir=args.parameters,
            out_dir=args.out, workers=args.workers, progress=_progress, resume=args.resume,
            scheduler=args.scheduler, notebook=args.notebook, worker_timeout=args.worker_timeout,
            project=args.project, progress_bar=None,
        )
    except ConfigurationError as exc:  # also RunInterrupted: a full disk, no worker, ...
        _err(" ".join(f"kps run: {exc}".split()))
        return 2
    for r in result.failed:
        _err(f"failed: {r.clinic_id}: {r.error}")
    if result.region_failed:
        _err(f"failed: region overview: {result.region.get('error')}")
    ok = len(result.results) - len(result.failed)
    region = ", region overview FAILED" if result.region_failed else ""
    print(f"{ok}/{len(result.results)} clinics ok{region}. Report index: {result.run_dir / 'index.html'}")
    return result.exit_code


def cmd_validate(args) -> int:
    """``kps validate``: check data files or the clinics' data and parameters without running.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line: files to check, or ``--clinic``/all clinics with their folders.

    Returns
    -------
    int
        0 when nothing is an error (warnings allowed), 1 when any finding is an error, 2 for
        a usage or configuration error. Findings name file, column and row, never a cell's content.
    """
    import warnings

    from .data import DataError, load_clinic, read_weekly, validate
    from .extract import aggregate_waiting_list, extract_or_aggregate
    from .parameters import ParameterError, list_clinics, load_parameters

    warnings.simplefilter("ignore")  # reader warnings are repeated as findings below
    status = 0
    for f in args.files:
        try:
            if extract_or_aggregate(f) == "extract":
                # a patient-level extract: read in parts (any size), checked, counted per week
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    frame, patients = aggregate_waiting_list(f, return_rows=True)
                frame.attrs["findings"] = [_reader_finding(w.message, f) for w in caught
                                           if issubclass(w.category, UserWarning)]
                findings = validate(frame, source=f)
                what = (f"waiting-list extract, {patients} referrals -> {len(frame)} clinic-weeks "
                        f"({frame['clinic'].nunique()} clinic(s))")
                status = max(status, _print_findings(f, findings, len(frame), what=what))
                continue
            frame = read_weekly(f)
            findings = validate(frame, source=f)
        except DataError as exc:
            _err(f"error: {exc}")
            status = 1
            continue
        status = max(status, _print_findings(f, findings, len(frame)))
    if args.files and args.data is None:
        return status

    params_dir = Path(args.parameters)
    if not (params_dir / "defaults.yaml").exists():
        _err(f"kps validate: {params_dir / 'defaults.yaml'}: parameter defaults not found")
        return 2
    if args.data is None:
        from .demo import ensure_demo_data

        # the demo data where `kps run` makes them: the project's outputs/demo-data
        data_dir = ensure_demo_data(params_dir.resolve().parent / "outputs" / "demo-data")
    else:
        data_dir = Path(args.data)
    from .sections import available

    for clinic_id in list_clinics(params_dir):
        # the data stage of `kps run` (parameters, the clinic's files with its input limits),
        # then the checks and the sections the report will hold
        try:
            params = load_parameters(clinic_id, params_dir)
            data = load_clinic(params, data_dir)
            findings = validate(data.weekly, source=clinic_id, plausible_from=params.plausible_from,
                                max_count_per_period=params.max_count_per_period)
            stale = _stale_finding(clinic_id, data.weekly, params)
            if len(stale):
                import pandas as pd

                findings = pd.concat([f for f in (findings, stale) if len(f)], ignore_index=True)
        except (ParameterError, DataError) as exc:
            _err(f"error: {clinic_id}: {exc}")
            status = 1
            continue
        status = max(status, _print_findings(clinic_id, findings, len(data.weekly)))
        _print_sections(available(data.weekly, params, data.waiting_list), params)
    return status


def _print_sections(table, params) -> None:
    """Which report sections a clinic's data and parameters support, and what the others need."""
    lang = "en" if getattr(params, "language", "sv") == "en" else "sv"
    have = table[table["available"]]
    print(f"  sections: {len(have)} of {len(table)} in the report")
    missing = table[~table["available"]]
    text = missing[f"sentence_{lang}"]
    for sentence, part in missing.groupby(text, sort=False):      # one line per reason
        print(f"  without {', '.join(part['section'])}: {sentence}")


def _reader_finding(message, path) -> dict:
    """A reader's warning ('FILE: 3 row(s) without priority ...') as a warning finding.

    The readers' warnings name files, columns and rows, never a cell's content."""
    text = str(message)
    prefix = f"{path}: "
    return {"severity": "warning", "clinic": None, "period": None, "column": None,
            "message": text[len(prefix):] if text.startswith(prefix) else text}


def _stale_finding(clinic_id: str, weekly, params):
    """The report's data-freshness warning (:func:`kps_analysis.planning.freshness` with the
    clinic's ``stale_after_days``, today as the run date), so validate warns as the run does."""
    import pandas as pd

    from .parameters import freshness_limit_days
    from .planning import freshness

    columns = ["severity", "clinic", "period", "column", "message"]
    if not len(weekly) or "period" not in weekly.columns:
        return pd.DataFrame(columns=columns)
    unit = weekly["period"].dtype.freq.freqstr if hasattr(weekly["period"].dtype, "freq") else "W-SUN"
    fresh = freshness(weekly, pd.Timestamp.today(), stale_after_days=freshness_limit_days(params, unit))
    fresh = fresh[fresh["stale"].astype(bool)]
    return pd.DataFrame({"severity": "warning", "clinic": clinic_id, "period": None, "column": "period",
                         "message": [f"the data end {pd.Timestamp(e).date()}, {int(a)} days before today: the plan "
                                     "would start in the past; newer data would move it to today"
                                     for e, a in zip(fresh["data_end"], fresh["data_age_days"])]},
                        columns=columns)


def _print_findings(source, findings, n_rows: int, *, what: str | None = None) -> int:
    """Print a file's (or clinic's) findings; 1 if any is an error, else 0.

    ``what`` describes the data instead of "N rows" (an extract: referrals and clinic-weeks).
    Findings hold counts, period labels, column names and row numbers only."""
    errors = findings[findings["severity"] == "error"] if len(findings) else findings
    described = what if what is not None else f"{n_rows} rows"
    print(f"{source}: {described}, {len(errors)} errors, {len(findings) - len(errors)} warnings")
    for row in findings.itertuples(index=False):
        where = " ".join(str(x) for x in (row.clinic, row.period, row.column) if x is not None and x == x)
        print(f"  {row.severity}: {where + ': ' if where else ''}{row.message}")
    return 1 if len(errors) else 0


def cmd_demo(args) -> int:
    """``kps demo``: write the synthetic demo region's data files into ``--out``; returns 0."""
    from .demo import ensure_demo_data

    out = ensure_demo_data(Path(args.out))
    print(f"Synthetic demo data written to {out}")
    return 0


def cmd_list(args) -> int:
    """``kps list``: the clinics of ``--parameters``, one line each (id and name; a clinic
    whose file cannot be used says why instead of its name).

    Returns
    -------
    int
        0, or 2 when the ``clinics`` folder is missing (one line on stderr).
    """
    from .parameters import ParameterError, list_clinics, load_parameters

    params_dir = Path(args.parameters)
    if not (params_dir / "clinics").is_dir():
        _err(f"kps list: {params_dir / 'clinics'}: folder not found")
        return 2
    for clinic_id in list_clinics(params_dir):
        try:
            name = load_parameters(clinic_id, params_dir).name
        except ParameterError as exc:
            name = f"(invalid: {exc})"
        print(f"{clinic_id}\t{name}")
    return 0


def _resolve_project(args) -> int | None:
    """Fill in ``args.parameters`` from the project (:func:`kps_analysis.batch.project_root`)
    for validate and list; 2 when ``--project`` is no project folder."""
    if args.command not in ("validate", "list") or args.parameters is not None:
        return None
    from .batch import ConfigurationError, project_root

    try:
        args.parameters = str(project_root(args.project) / "parameters")
    except ConfigurationError as exc:
        _err(f"kps {args.command}: {exc}")
        return 2
    return None


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``kps`` and ``python -m kps_analysis``; returns the exit status."""
    args = _parser().parse_args(argv)
    status = _resolve_project(args)
    if status is not None:
        return status
    return {"run": cmd_run, "validate": cmd_validate, "demo": cmd_demo, "list": cmd_list}[args.command](args)
