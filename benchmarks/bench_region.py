"""A region's run and one clinic's notebook, each against the floor of empty notebooks.

``region``: N clinics (copies of the demo clinics' parameter files on the demo data, as
:func:`benchmarks.bench_scale._region_setup` makes them) run end to end by the command
users run, ``kps run --workers W`` (planning pass, notebooks, HTML, region overview), in a
subprocess; then N one-cell notebooks run through papermill and exported to HTML on W
worker processes (spawned, as the batch's), the floor a region cannot go below with
one notebook per clinic. Reported: both wall times, their ratio (the issue's target is
at most 1.5), and where the region run's time went, from the time stamps of its
progress lines (start-up and planning pass, notebooks, region overview).

``notebook``: one clinic's report, ``kps run --clinic X --workers 1``, against an empty
notebook's papermill run plus HTML export (median of three), both in this run; the
executed report's cells are ranked by the time papermill recorded for each, so the
cells that cost most are named (the notebook cell by cell).

``planning``: the region's planning pass alone (the clinics' data read and ``region.compute``
on a spawned pool of W, as ``kps run`` makes it) of this tree against ``--baseline`` (another tree of
the package), baseline, this, this, baseline in one run; wall and CPU a clinic (parent and pool).

``notebook-standalone``: the report template run on its own through papermill (as a user
runs it in JupyterLab: the planning model computed in the kernel), with the HTML export,
against the same empty notebook; cells ranked the same way.
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import multiprocessing
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .bench_scale import RESULTS, _empty_notebook_seconds, _region_setup


def _empty_run(args: tuple[str, str, str]) -> float:
    """One empty notebook through papermill and the HTML export (in a worker process)."""
    import papermill as pm

    from kps_analysis.batch import render_html

    empty, out_nb, out_html = args
    t0 = time.perf_counter()
    pm.execute_notebook(empty, out_nb, parameters={"clinic_id": "x"}, kernel_name="python3",
                        progress_bar=False, log_output=False)
    render_html(Path(out_nb), Path(out_html))
    return time.perf_counter() - t0


def empty_notebooks(empty: Path, out: Path, n: int, workers: int) -> float:
    """Wall time of ``n`` empty notebooks (papermill + HTML) on ``workers`` spawned processes [s]."""
    out.mkdir(parents=True, exist_ok=True)
    jobs = [(str(empty), str(out / f"e{i}.ipynb"), str(out / f"e{i}.html")) for i in range(n)]
    t0 = time.perf_counter()
    with cf.ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        list(pool.map(_empty_run, jobs))
    return time.perf_counter() - t0


def _kps_run(args: list[str]) -> tuple[float, list[tuple[float, str]], subprocess.CompletedProcess]:
    """``python -m kps_analysis run ARGS`` in a subprocess: wall time and its output lines, time-stamped."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "kps_analysis", "run", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, bufsize=1)
    lines = []
    for line in proc.stdout:
        lines.append((round(time.perf_counter() - t0, 2), line.rstrip()))
    proc.wait()
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        tail = "\n".join(text for _, text in lines[-20:])
        raise RuntimeError(f"kps run exited {proc.returncode}:\n{tail}")
    return wall, lines, proc


def _phases(lines: list[tuple[float, str]], wall: float) -> dict:
    """Seconds from the start to the first notebook, in the notebooks, and in the region overview."""
    first_nb = next((t for t, text in lines if text.startswith("notebooks:")), None)
    region = next((t for t, text in lines if text.startswith("region overview: running")), None)
    out = {}
    if first_nb is not None:
        out["start_and_planning_seconds"] = first_nb
    if first_nb is not None and region is not None:
        out["notebooks_seconds"] = round(region - first_nb, 2)
    if region is not None:
        out["region_overview_and_finish_seconds"] = round(wall - region, 2)
    return out


def region(clinics: int = 20, workers: int = 2) -> dict:
    """``kps run --workers W`` on ``clinics`` clinics against as many empty notebooks on W workers."""
    load_start = _load()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        demo_data, params, empty = _region_setup(tmp, clinics)
        out = tmp / "out"
        wall, lines, _ = _kps_run(["--workers", str(workers), "--data", str(demo_data),
                                   "--parameters", str(params), "--out", str(out)])
        manifest = json.loads(next(out.glob("*/manifest.json")).read_text())
        floor = empty_notebooks(empty, tmp / "empty", clinics, workers)
    seconds = [c["seconds"] for c in manifest["clinics"].values()]
    rendered = [c["render_seconds"] for c in manifest["clinics"].values() if c.get("render_seconds") is not None]
    ok = sum(c["status"] == "ok" for c in manifest["clinics"].values())
    return {"clinics": clinics, "workers": workers, "ok": ok,
            "region_run_seconds": round(wall, 1), "empty_notebooks_seconds": round(floor, 1),
            "region_over_empty_notebooks": round(wall / floor, 2),
            "clinic_in_worker_seconds_median": round(statistics.median(seconds), 2),
            "of_which_render_step_seconds_median": round(statistics.median(rendered), 2) if rendered else None,
            "load_start_end": [load_start, _load()],
            **_phases(lines, wall),
            "region_overview_seconds": (manifest.get("region_overview") or {}).get("seconds")}


def _cell_times(notebook: Path, top: int = 8) -> list[dict]:
    """The executed notebook's code cells by papermill's recorded duration, the costliest first."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    cells = []
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        duration = (cell.get("metadata", {}).get("papermill") or {}).get("duration")
        source = "".join(cell["source"]).strip().splitlines()
        first = next((s for s in source if s.strip() and not s.lstrip().startswith("#")), "")
        cells.append({"cell": i, "seconds": round(float(duration or 0.0), 2), "first_line": first[:90]})
    total = sum(c["seconds"] for c in cells)
    ranked = sorted(cells, key=lambda c: -c["seconds"])[:top]
    for c in ranked:
        c["share"] = round(c["seconds"] / total, 2) if total else None
    return ranked


def _papermill_html(notebook: Path, out_nb: Path, parameters: dict, cwd: Path | None = None) -> float:
    """One notebook through papermill and the HTML export, as a worker runs a clinic whose sections
    it rendered (the notebook written once, not after every cell; the same for the empty notebook) [s]."""
    import papermill as pm

    from kps_analysis.batch import render_html

    t0 = time.perf_counter()
    pm.execute_notebook(str(notebook), str(out_nb), parameters=parameters, kernel_name="python3",
                        progress_bar=False, log_output=False, cwd=str(cwd) if cwd else None,
                        request_save_on_cell_execute=False)
    render_html(out_nb, out_nb.with_suffix(".html"))
    return time.perf_counter() - t0


def notebook(clinic: str = "uro", repeat: int = 5) -> dict:
    """One clinic's report against an empty notebook.

    First the command users run, ``kps run --clinic X --workers 1`` (the planning pass, the
    worker's render step, the notebook, HTML, the region overview), with the clinic's
    seconds in its worker and of them its render step (from ``manifest.json``). Then the
    issue's measure, interleaved ``repeat`` times in this process: the report notebook
    showing the run's stored sections, papermill + HTML export, against a one-cell
    notebook's papermill + HTML export (medians).
    """
    load_start = _load()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        root = Path(__file__).resolve().parent.parent
        from kps_analysis.demo import ensure_demo_data

        demo_data = ensure_demo_data(tmp / "demo")
        _, _, empty = _region_setup(tmp / "setup", 1)
        out = tmp / "out"
        wall, lines, _ = _kps_run(["--clinic", clinic, "--workers", "1", "--data", str(demo_data),
                                   "--parameters", str(root / "parameters"), "--out", str(out)])
        run_dir = next(p for p in out.glob("*/manifest.json") if not p.parent.is_symlink()).parent
        manifest = json.loads((run_dir / "manifest.json").read_text())
        in_worker = manifest["clinics"][clinic]["seconds"]
        rendered = manifest["clinics"][clinic].get("render_seconds")
        cells = _cell_times(run_dir / clinic / "report.ipynb")
        # the run removed its model folder: the clinic's sections rendered again, as its worker did
        from kps_analysis import fragments, sections

        ctx = sections.load(clinic, str(root / "parameters"), str(demo_data), "", run_dir.name)
        fragments.write(tmp / "model", clinic, run_dir.name, sections.render(ctx))
        params = {"clinic_id": clinic, "parameters_dir": str(root / "parameters"), "data_dir": str(demo_data),
                  "output_dir": str(tmp / "again"), "run_id": run_dir.name, "model_dir": str(tmp / "model")}
        (tmp / "again").mkdir()
        t_empty, t_report = [], []
        for i in range(repeat):
            t_empty.append(_papermill_html(empty, tmp / f"empty{i}.ipynb", {"clinic_id": "x"}))
            t_report.append(_papermill_html(root / "notebooks" / "clinic_report.ipynb", tmp / f"report{i}.ipynb",
                                            params, cwd=tmp / "again"))
    e, r = statistics.median(t_empty), statistics.median(t_report)
    return {"clinic": clinic, "load_start_end": [load_start, _load()],
            "empty_notebook_seconds": [round(t, 2) for t in t_empty],
            "report_notebook_seconds": [round(t, 2) for t in t_report],
            "report_notebook_over_empty_notebook": round(r / e, 2),
            "clinic_in_worker_seconds": in_worker, "of_which_render_step_seconds": rendered,
            "clinic_in_worker_over_empty_notebook": round(in_worker / e, 1),
            "kps_run_one_clinic_seconds": round(wall, 1), **_phases(lines, wall),
            "costliest_cells": cells}


def _load() -> float:
    """The machine's 1-minute load average (other jobs skew every wall time here)."""
    import os

    return round(os.getloadavg()[0], 1)


def notebook_standalone(clinic: str = "uro", other: str = "gyn") -> dict:
    """The report template run on its own (as in JupyterLab: the model computed in the kernel),
    through papermill and the HTML export, against an empty notebook; cells ranked by time.

    Three runs on a fresh model cache (``KPS_MODEL_CACHE``, :func:`kps_analysis.region.clinic_model`):
    ``clinic`` cold (the region planned), ``clinic`` again and ``other`` (the region read from the
    cache, only the clinic's own analyses computed)."""
    import os

    import papermill as pm

    from kps_analysis.batch import render_html

    root = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        _, _, empty = _region_setup(tmp / "setup", 1)
        t_empty = _empty_notebook_seconds(tmp, empty)
        before = os.environ.get("KPS_MODEL_CACHE")
        os.environ["KPS_MODEL_CACHE"] = str(tmp / "cache")
        times, cells = {}, None
        try:
            for name, cid in (("cold", clinic), ("again", clinic), ("other_clinic", other)):
                out_nb = tmp / f"report_{name}.ipynb"
                t0 = time.perf_counter()
                pm.execute_notebook(str(root / "notebooks" / "clinic_report.ipynb"), str(out_nb),
                                    parameters={"clinic_id": cid, "parameters_dir": str(root / "parameters")},
                                    cwd=str(root / "notebooks"), kernel_name="python3", progress_bar=False,
                                    log_output=False)
                render_html(out_nb, tmp / f"report_{name}.html")
                times[name] = time.perf_counter() - t0
                cells = cells or _cell_times(out_nb)
        finally:
            if before is None:
                os.environ.pop("KPS_MODEL_CACHE", None)
            else:
                os.environ["KPS_MODEL_CACHE"] = before
    return {"clinic": clinic, "empty_notebook_seconds": round(t_empty, 2),
            "standalone_notebook_seconds": round(times["cold"], 2),
            "standalone_again_seconds": round(times["again"], 2),
            "standalone_other_clinic_seconds": round(times["other_clinic"], 2),
            "standalone_over_empty_notebook": round(times["cold"] / t_empty, 1),
            "again_over_empty_notebook": round(times["again"] / t_empty, 1),
            "other_clinic_over_empty_notebook": round(times["other_clinic"] / t_empty, 1),
            "costliest_cells_cold": cells}


_PLANNING = """
import concurrent.futures as cf, json, multiprocessing as mp, resource, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, {root!r})
from benchmarks.bench_scale import _region_setup
from kps_analysis import region

if __name__ == "__main__":
    data, params, _ = _region_setup(Path(tempfile.mkdtemp()), {clinics})
    ps = region.clinics_of(params)
    t0 = time.perf_counter()
    with cf.ProcessPoolExecutor({workers}, mp_context=mp.get_context("spawn")) as pool:
        inputs = region.read_inputs(ps, data, mapper=pool.map)
        region.compute(inputs, executor=pool, parts_hint={workers})
    wall = time.perf_counter() - t0
    cpu = sum(getattr(resource.getrusage(who), f) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
              for f in ("ru_utime", "ru_stime"))
    print(json.dumps([wall, cpu]))
"""


def _planning_in(root: Path, clinics: int, workers: int) -> tuple[float, float]:
    """The region's planning pass of the package tree at ``root`` in a fresh interpreter, as ``kps run``
    makes it (the clinics' data read and the region computed on a spawned pool): (wall, CPU) [s]."""
    env = {"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-c", _PLANNING.format(root=str(root), clinics=clinics, workers=workers)],
                          capture_output=True, text=True, cwd=root, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"the planning pass in {root} failed: {proc.stderr[-1500:]}")
    wall, cpu = json.loads(proc.stdout.strip().splitlines()[-1])
    return float(wall), float(cpu)


def planning(baseline: str | Path, clinics: int = 48, workers: int = 2) -> dict:
    """The region's planning pass (``region.read_inputs`` + ``region.compute`` on ``workers`` spawned
    processes, ``clinics`` copies of the demo clinics) of this tree against ``baseline``'s (another tree of
    the package, e.g. ``git archive <commit>``), run baseline, this, this, baseline: wall and CPU [s]."""
    here = Path(__file__).resolve().parent.parent
    base = Path(baseline).resolve()
    order = [("baseline", base), ("this_tree", here), ("this_tree", here), ("baseline", base)]
    times = {"baseline": [], "this_tree": []}
    for name, root in order:
        times[name].append(_planning_in(root, clinics, workers))
    wall = {k: statistics.mean(t[0] for t in v) for k, v in times.items()}
    cpu = {k: statistics.mean(t[1] for t in v) for k, v in times.items()}
    return {"clinics": clinics, "workers": workers, "baseline": str(base),
            **{f"{k}_seconds": [round(t[0], 1) for t in v] for k, v in times.items()},
            **{f"{k}_cpu_seconds_a_clinic": [round(t[1] / clinics, 3) for t in v] for k, v in times.items()},
            "this_over_baseline": round(wall["this_tree"] / wall["baseline"], 2),
            "this_over_baseline_cpu": round(cpu["this_tree"] / cpu["baseline"], 2)}


def run(*, parts=("notebook", "region"), clinics: int = 20, workers: int = 2, clinic: str = "uro",
        baseline: str | None = None) -> dict:
    result = {"benchmark": "region"}
    if "planning" in parts:
        if not baseline:
            raise SystemExit("planning needs --baseline TREE (another tree of the package, e.g. git archive)")
        result["planning"] = planning(baseline, clinics, workers)
    if "notebook" in parts:
        result["notebook"] = notebook(clinic)
    if "notebook-standalone" in parts:
        result["notebook_standalone"] = notebook_standalone(clinic)
    if "region" in parts:
        result["region"] = region(clinics, workers)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "region.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    return result
