"""The batch runner: one papermill run of the clinic report per clinic, HTML export,
``index.html`` and ``manifest.json``.

This is the only module that knows about papermill and nbconvert. It passes only
identifiers and paths to a notebook; the notebook loads parameters and data through
the same loader an interactive user calls.

Layout of one run (README "What a run writes")::

    <out>/<run-id>/index.html
    <out>/<run-id>/manifest.json
    <out>/<run-id>/<clinic-id>/report.html, report.ipynb, tables/*.csv, plan.xlsx
    <out>/<run-id>/region/overview.html
    <out>/index.html      every finished run, newest first
    <out>/latest          a symbolic link to the newest run (latest.html, a redirect, where
                          the file system has no symbolic links)

The project: ``--project DIR`` (or the nearest folder from the current one up that holds
``parameters/defaults.yaml``) gives the parameters, the report templates
(``notebooks/``, where the project has them) and ``outputs/``; without one, the demo
parameters and notebooks shipped inside the package (:func:`packaged_project`) and
``./outputs``.

Every page of a run that ``kps run`` writes itself (``index.html``, a failed clinic's
``report.html``, the outputs-level index) comes from the Jinja2 templates in
``kps_analysis/templates/index/``; a failure is a short page (what, in which step, the
message, what to do), its stack trace goes to ``run.log`` beside it.

Workers and notebook kernels compute with one BLAS thread each (``OMP_NUM_THREADS`` and
its kin set before numpy loads in them, unless the user set them): the small matrices of
the forecasts lose more to thread contention than they gain. A local worker shows its
clinics' notebooks (the kit's template, which displays the sections the worker rendered)
in one kernel, reset before each clinic and replaced after a failed clinic or
:data:`KERNEL_REUSE_LIMIT` clinics (:func:`_warm_kernel`); a user's own template, and a
Dask worker, start a new kernel per clinic.

A run is written into ``<out>/.<run-id>.partial`` and renamed into place when done, so
an interrupted run never leaves a half-written folder that looks complete, and a
previous run's folder is never touched.

Failing well:

- The run that owns a ``.partial`` folder holds its ``lock.json`` (process id, host); a
  second run or ``--resume`` on a live run is refused (exit 2) naming that process. A
  lock whose process is gone is stale and taken over.
- A clinic's ``status.json`` is written last; a finished clinic is never run or written
  again (checked on disk before running, so a Dask task rescheduled after a lost worker
  returns the stored result).
- A worker process that dies fails only its clinic: the local pool is recreated, the
  clinics that had not started go on, and those that were running are retried one at a
  time in a fresh worker (one whose worker dies again fails). Workers end themselves
  when the ``kps`` process that started them dies, and the notebook kernel follows its
  worker (ipykernel's parent poller).
- A full disk, a read-only output folder or an unreachable Dask scheduler ends the run
  with one line (exit 2) and no ``.partial`` folder that ``--resume`` would pick up.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import errno
import functools
import hashlib
import json
import math
import multiprocessing
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import traceback
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from . import __version__
from .report import add_table_of_contents, escape_text, format_count, format_share, label, status_word

__all__ = [
    "ClinicResult",
    "RunResult",
    "ConfigurationError",
    "find_project",
    "packaged_project",
    "project_root",
    "run",
    "run_clinic",
    "render_html",
    "write_failure_page",
    "write_index",
    "write_runs_index",
    "update_latest",
]

from .summary import HEADLINE_COLUMNS as _SUMMARY_COLUMNS
from .summary import PEAK_BREACHES as PEAK

#: The headline figures shown per clinic in ``index.html`` (``summary.csv`` columns).
HEADLINE_COLUMNS = tuple(c for c in _SUMMARY_COLUMNS if c != "clinic")


class ConfigurationError(Exception):
    """A usage or configuration error that stops the whole run (exit status 2)."""


class RunInterrupted(ConfigurationError):
    """The run could not go on (no Dask worker, a file system error): exit status 2.

    Its message is one line saying what happened to the run folder (removed, or left
    to ``kps run --resume``).
    """


@dataclass
class ClinicResult:
    """Outcome of one clinic's run."""

    clinic_id: str
    status: str  # "ok" | "failed"
    seconds: float = 0.0
    name: str = ""
    error: str | None = None
    summary: dict = field(default_factory=dict)
    step: str | None = None  # where a failure happened: parameters, data, analysis, timeout, worker, html
    render_seconds: float | None = None  # of ``seconds``: the sections drawn and tables written in the worker
    failed_sections: list = field(default_factory=list)  # report sections shown as "could not be shown" (run.log)


@dataclass
class RunResult:
    """Outcome of a batch run."""

    run_id: str
    run_dir: Path
    results: list[ClinicResult]
    region: dict | None = None  # the region overview's status, error and seconds

    @property
    def failed(self) -> list[ClinicResult]:
        return [r for r in self.results if r.status != "ok"]

    @property
    def region_failed(self) -> bool:
        return bool(self.region) and self.region.get("status") == "failed"

    @property
    def exit_code(self) -> int:
        return 1 if self.failed or self.region_failed else 0


def packaged_project() -> Path:
    """The defaults shipped with the package: ``notebooks/`` and ``parameters/`` (the demo region).

    In an installed wheel they are package data (``kps_analysis/project/``); in a checkout
    (an editable install, or the source folder on ``sys.path``) the checkout itself.
    """
    package = Path(__file__).resolve().parent
    shipped = package / "project"
    if (shipped / "notebooks" / "clinic_report.ipynb").is_file():
        return shipped
    return package.parent


def find_project(start: str | os.PathLike | None = None) -> Path | None:
    """The project folder for ``start`` (default: the current folder): the nearest of it
    and its parents that holds ``parameters/defaults.yaml``; None when there is none.
    """
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "parameters" / "defaults.yaml").is_file():
            return folder
    return None


def project_root(project: str | os.PathLike | None = None) -> Path:
    """The folder whose ``parameters/``, ``notebooks/`` and ``outputs/`` a run uses.

    ``project`` when given (it must hold ``parameters/defaults.yaml``), else
    :func:`find_project` from the current folder, else :func:`packaged_project`.

    Raises
    ------
    ConfigurationError
        When ``project`` is given and is no project folder.
    """
    if project is not None:
        folder = Path(project).resolve()
        if not (folder / "parameters" / "defaults.yaml").is_file():
            raise ConfigurationError(f"{folder}: not a project folder (no parameters/defaults.yaml)")
        return folder
    return find_project() or packaged_project()


def _template(root: Path, name: str) -> Path:
    """``notebooks/<name>`` of the project, or the packaged one when the project has none."""
    own = root / "notebooks" / name
    return own if own.is_file() else packaged_project() / "notebooks" / name


#: Thread-count variables of the BLAS/OpenMP libraries numpy and scipy may load.
BLAS_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                         "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")


@contextlib.contextmanager
def one_blas_thread():
    """Within the block, processes started from this one (workers, notebook kernels)
    compute with one BLAS thread; a variable the user set is kept. Restored afterwards.

    Set before numpy loads in the child: a worker or kernel of a run computes many small
    matrices (forecasts, the planning model) side by side with the other workers, where
    BLAS threads only contend for the cores (issue 15: forecast and backtest 1.55 s per
    clinic with the default threads, 0.52 s with one).
    """
    added = [k for k in BLAS_THREAD_VARIABLES if k not in os.environ]
    for key in added:
        os.environ[key] = "1"
    try:
        yield
    finally:
        for key in added:
            os.environ.pop(key, None)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _git_commit(root: Path) -> str | None:
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True, text=True, timeout=10, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def _new_run_id(out_root: Path, started: datetime | None = None) -> str:
    """A new run's id: its start in UTC to the second (``YYYYmmdd-HHMMSS``, as every output states
    the run's time, :func:`kps_analysis.report.run_started`), ``-2``... for another run of the same second."""
    base = (started or datetime.now(timezone.utc)).astimezone(timezone.utc).strftime("%Y%m%d-%H%M%S")
    run_id, n = base, 1
    while (out_root / run_id).exists() or (out_root / f".{run_id}.partial").exists():
        n += 1
        run_id = f"{base}-{n}"
    return run_id


def _clean_for_report(nb) -> None:
    """Drop cells tagged ``remove-cell`` (notes for the analyst) and stderr streams
    (warnings belong in the data-quality section), in place."""
    nb.cells = [c for c in nb.cells if "remove-cell" not in c.get("metadata", {}).get("tags", [])]
    for cell in nb.cells:
        if cell.get("cell_type") == "code":
            cell["outputs"] = [
                o for o in cell.get("outputs", [])
                if not (o.get("output_type") == "stream" and o.get("name") == "stderr")
            ]


@functools.lru_cache(maxsize=1)
def _html_exporter():
    """The report's HTML exporter, made once per process: a worker exports one clinic after
    another, and a new exporter compiled its Jinja templates again each time (0.19 s of a
    clinic's 0.3-0.4 s export). Each export passes its own notebook and resources."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        template_name="kps_report",
        extra_template_basedirs=[str(Path(__file__).parent / "templates")],
    )
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    exporter.embed_images = True
    return exporter


def render_html(notebook_path: Path, html_path: Path, *, title: str | None = None,
                language: str = "sv") -> Path:
    """Render an executed notebook to a self-contained HTML report without code.

    Uses the ``kps_report`` template (the JupyterLab look without any script from a
    CDN), inlines images (the report's figures are already base64 SVG), hides inputs and
    prompts, and adds a table of contents. Written atomically.
    """
    import nbformat

    from .report import atomic_path

    nb = nbformat.read(notebook_path, as_version=4)
    _clean_for_report(nb)
    if title:
        nb.metadata["title"] = title
    body, _ = _html_exporter().from_notebook_node(nb, resources={"language_code": language})
    body = add_table_of_contents(body, title=label("contents", language))
    with atomic_path(html_path) as tmp:
        tmp.write_text(body, encoding="utf-8")
    return html_path


#: Clinics one kernel of a local worker shows before it is replaced by a fresh one (bounds
#: what a long run could accumulate in one process; see :func:`_warm_kernel`).
KERNEL_REUSE_LIMIT = 40

#: Run in a reused kernel before each clinic's notebook: an empty namespace and execution
#: counts from 1 (as a new kernel has), the clinic's folder as the working directory, no
#: figure left open. The modules stay imported: that is the saving.
_KERNEL_RESET = """get_ipython().reset(new_session=True)
import os as _kps_os, sys as _kps_sys
_kps_os.chdir({cwd!r})
if "matplotlib.pyplot" in _kps_sys.modules:
    _kps_sys.modules["matplotlib.pyplot"].close("all")
del _kps_os, _kps_sys
"""

_KERNEL: dict = {"km": None, "kc": None, "clinics": 0, "finalizer": None}   # this worker's kernel, when reused


def _drop_kernel() -> None:
    """Shut this process's reused kernel down (it is started afresh when next needed)."""
    km, kc = _KERNEL["km"], _KERNEL["kc"]
    _KERNEL.update(km=None, kc=None, clinics=0)
    if kc is not None:
        with contextlib.suppress(Exception):
            kc.stop_channels()
    if km is not None:
        with contextlib.suppress(Exception):
            km.shutdown_kernel(now=True)


@functools.lru_cache(maxsize=1)
def _kit_engine() -> str:
    """The name of the papermill engine (registered once per process) ``kps run`` executes its
    notebooks with: nbclient's own, except that

    * papermill's record of the notebook's paths (``metadata.papermill.input_path`` and
      ``output_path``) keeps only the file names, so an executed notebook names no folder of
      the machine it ran on (a user name in a home folder); its parameters are paths relative
      to its own folder (:func:`_kernel_path`);
    * given a kernel client (``kc``, :func:`_warm_kernel`), it runs the notebook with it:
      nbclient's own engine starts a new client for every notebook, and each new client waits
      0.2 s for the kernel's output to go quiet (jupyter_client's ``wait_for_ready``), twice a
      clinic with the reset.
    """
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines
    from papermill.log import logger

    class KitEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False, stdout_file=None,
                                     stderr_file=None, start_timeout=60, execution_timeout=None, **kwargs):
            record = nb_man.nb.metadata.get("papermill", {})
            for key in ("input_path", "output_path"):
                if record.get(key):
                    record[key] = Path(str(record[key])).name
            kc = kwargs.pop("kc", None)
            if kc is None:
                return super().execute_managed_notebook(nb_man, kernel_name, log_output=log_output,
                                                        stdout_file=stdout_file, stderr_file=stderr_file,
                                                        start_timeout=start_timeout,
                                                        execution_timeout=execution_timeout, **kwargs)
            kwargs = {k: v for k, v in kwargs.items() if k not in ("input_path", "timeout", "startup_timeout")}
            client = PapermillNotebookClient(nb_man, timeout=execution_timeout, startup_timeout=start_timeout,
                                             kernel_name=kernel_name, log=logger, log_output=log_output,
                                             stdout_file=stdout_file, stderr_file=stderr_file, **kwargs)
            client.kc = kc   # not owned by the client (it was given the kernel manager): kept after the run
            return client.execute()

    papermill_engines.register("kps", KitEngine)
    return "kps"


def _kernel_path(path, cwd) -> str:
    """``path`` as a notebook's kernel working in ``cwd`` reaches it: relative to ``cwd`` (both
    resolved, so a folder reached through a link still resolves), so that the executed notebook's
    parameters name no folder of the machine; the absolute path where there is no relative one
    (another drive); empty stays empty."""
    if not path:
        return path
    try:
        return os.path.relpath(os.path.realpath(path), os.path.realpath(cwd))
    except ValueError:
        return str(path)


def _warm_kernel(cwd: Path, timeout: float = 60.0) -> dict:
    """Papermill's arguments to show the next clinic in this worker process's kernel, reset
    (``km``, ``kc``, for the kit's engine, :func:`_kit_engine`): started if there is none, it died, or it showed
    :data:`KERNEL_REUSE_LIMIT` clinics.

    Issue 15: a clinic's notebook and HTML export took 1.91 s (median, demo region) with a new
    kernel each, 0.68-0.76 s in a reused kernel with one client kept (benchmarks/README.md).
    Before each clinic the kernel runs :data:`_KERNEL_RESET`, so the notebook starts from an
    empty namespace in its own folder; only the kit's own template (which shows the sections
    the worker rendered) runs in a reused kernel, and a kernel whose clinic failed is never
    reused (:func:`run_clinic`). The kernel's own stderr (start-up chatter) goes nowhere; what
    its cells print is in the notebook as before.
    """
    from jupyter_client.manager import KernelManager

    km = _KERNEL["km"]
    if km is not None and (_KERNEL["clinics"] >= KERNEL_REUSE_LIMIT or not km.is_alive()):
        _drop_kernel()
        km = None
    if km is None:
        km = KernelManager(kernel_name="python3")
        with one_blas_thread():
            km.start_kernel(cwd=str(cwd), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _KERNEL["km"] = km
        if multiprocessing.parent_process() is not None and not _KERNEL.get("finalizer"):
            from multiprocessing import util  # a worker's exit runs its finalizers, not atexit

            _KERNEL["finalizer"] = util.Finalize(None, _drop_kernel, exitpriority=10)
        kc = km.client()
        kc.allow_stdin = False   # as nbclient's own clients: a cell asking for input fails, never waits
        kc.start_channels()
        _KERNEL["kc"] = kc
        kc.wait_for_ready(timeout=timeout)
    kc = _KERNEL["kc"]
    reply = kc.execute_interactive(_KERNEL_RESET.format(cwd=str(cwd)), store_history=False, timeout=timeout,
                                   output_hook=lambda msg: None)
    if reply["content"].get("status") != "ok":
        _drop_kernel()
        raise RuntimeError("the reused notebook kernel could not be reset")
    _KERNEL["clinics"] += 1
    return {"km": km, "kc": kc}


def _kernel_for(clinic_dir: Path) -> dict:
    """:func:`_warm_kernel` for a clinic, or ``{}`` (a new kernel, as before) when the reused one
    cannot be had; the reason goes to the clinic's log."""
    try:
        return _warm_kernel(clinic_dir)
    except Exception as exc:  # noqa: BLE001 - the clinic then runs in a new kernel
        _drop_kernel()
        print(f"kps run: the reused kernel could not be used ({_one_line(str(exc))}); a new one runs "
              "this clinic", file=sys.stderr)
        return {}


def run_clinic(job: dict, reuse_kernel: bool = False) -> ClinicResult:
    """Run the report notebook for one clinic (in a worker process) and render it.

    ``job`` holds only identifiers and paths: ``clinic_id``, ``name``, ``notebook``,
    ``clinic_dir``, ``parameters_dir``, ``data_dir``, ``run_id``, ``timeout_seconds``,
    ``language``. Never raises: a failure is returned as ``status="failed"`` with the
    error text and the step it happened in; ``report.html`` is then a short page saying
    what to do (:func:`write_failure_page`), the stack trace goes to ``run.log`` and the
    executed notebook is kept for diagnosis.

    ``reuse_kernel``: show the notebook in this process's kernel, reset, instead of a new
    kernel (:func:`_warm_kernel`; the local workers of ``kps run``), when the clinic's
    sections were rendered by the worker (the kit's template). A kernel whose clinic failed
    is shut down.
    """
    import papermill as pm

    start = time.perf_counter()
    clinic_dir = Path(job["clinic_dir"])
    finished = _finished_clinic(clinic_dir)
    if finished is not None:  # e.g. a Dask task run again after its worker was lost
        return finished
    clinic_dir.mkdir(parents=True, exist_ok=True)
    executed = clinic_dir / "report.ipynb"
    error = step = where = rendered = None
    # The kernel's and papermill's own stderr chatter goes to a log beside the report
    # (kept only when the clinic fails), so the batch prints one line per clinic.
    log_path = clinic_dir / "run.log"
    log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    saved_stderr = os.dup(2)
    os.dup2(log_fd, 2)
    try:
        rendered = _render_step(job, clinic_dir)
        warm = _kernel_for(clinic_dir) if reuse_kernel and rendered is not None else {}
        with one_blas_thread():  # the kernel inherits it (a Dask worker's kernel too)
            pm.execute_notebook(
                job["notebook"],
                str(executed),
                parameters={
                    "clinic_id": job["clinic_id"],
                    **{k: _kernel_path(job[k], clinic_dir) for k in ("parameters_dir", "data_dir")},
                    "output_dir": ".",
                    "run_id": job["run_id"],
                    **{k: _kernel_path(job[k], clinic_dir) for k in ("model_dir", "previous_tables") if job.get(k)},
                },
                engine_name=_kit_engine(),
                kernel_name="python3",
                progress_bar=False,
                log_output=False,
                cwd=str(clinic_dir),
                execution_timeout=job.get("timeout_seconds"),
                # a notebook that computes is saved after every cell (a timeout or a dead kernel leaves
                # the cells done for diagnosis); one that shows rendered sections is written once at the
                # end (or with its error): saving the growing notebook 20 times cost more than its cells
                request_save_on_cell_execute=rendered is None,
                **warm,
            )
    except Exception as exc:  # noqa: BLE001 - any failure of one clinic is reported, not raised
        if reuse_kernel:
            _drop_kernel()   # a kernel that failed a clinic (or timed out in it) is never reused
        error = _describe_error(exc)
        step, where = _notebook_step(exc, executed, job.get("language", "sv"))
        trace = exc
    finally:
        os.dup2(saved_stderr, 2)
        os.close(saved_stderr)
        os.close(log_fd)
    if error is None and executed.exists():
        try:
            render_html(executed, clinic_dir / "report.html",
                        title=f"{job.get('name') or job['clinic_id']}", language=job.get("language", "sv"))
        except Exception as exc:  # noqa: BLE001
            error, step, trace = _one_line(f"HTML export failed: {exc}"), "html", exc
    # a section that could not be shown names run.log, so the log is kept then (and the result says which)
    failed_sections = _failed_sections(log_path)
    if error is None and not failed_sections and (rendered is not None or not job.get("model_dir")):
        log_path.unlink(missing_ok=True)   # (a failed render step: kept too)
    summary = {}
    summary_path = clinic_dir / "tables" / "summary.csv"
    if error is None and summary_path.exists():
        summary = pd.read_csv(summary_path).iloc[0].to_dict()
    result = ClinicResult(
        clinic_id=job["clinic_id"],
        status="ok" if error is None else "failed",
        seconds=round(time.perf_counter() - start, 2),
        name=job.get("name", ""),
        error=error,
        summary=summary,
        step=step,
        render_seconds=rendered,
        failed_sections=failed_sections,
    )
    if error is not None:
        _log_trace(log_path, trace)
        write_failure_page(clinic_dir / "report.html", result, run_id=job["run_id"],
                           language=job.get("language", "sv"), where=where)
    _drop_model(job, clinic_dir)
    _write_json(clinic_dir / "status.json", asdict(result))  # last: marks the clinic as finished
    return result


_SECTION_FAILED = re.compile(r"kps report: section '([a-z_]+)' failed")


def _failed_sections(log_path: Path) -> list:
    """The report sections the clinic's log says could not be shown (:func:`kps_analysis.sections.show`)."""
    try:
        text = log_path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    return list(dict.fromkeys(_SECTION_FAILED.findall(text)))


def _render_step(job: dict, clinic_dir: Path) -> float | None:
    """Render many: the clinic's report sections drawn once in this worker (which has the
    package imported already) and stored beside its model, with its result tables
    (:func:`kps_analysis.fragments.render`); its notebook then only displays them.

    Only for a clinic with a stored model (``model_dir``). A failure is logged (stderr,
    the clinic's ``run.log``) and leaves the work to the notebook, which loads the clinic
    itself and reports any problem in its own step. Returns the seconds it took (None when
    there was nothing to render or it failed).
    """
    if not job.get("model_dir") or not job.get("render", True):
        return None
    from .fragments import render

    start = time.perf_counter()
    try:
        render(job["clinic_id"], job["parameters_dir"], job["data_dir"], str(clinic_dir), job["run_id"],
               job.get("previous_tables") or "", job["model_dir"])
    except Exception as exc:  # noqa: BLE001 - the notebook does the work and reports the problem
        print(f"kps run: rendering {job['clinic_id']} in the worker failed ({_one_line(_describe_error(exc))}); "
              "its notebook computes the report", file=sys.stderr)
        traceback.print_exception(exc, file=sys.stderr)
        return None
    return round(time.perf_counter() - start, 2)


def shows_stored_sections(notebook: str | os.PathLike) -> bool:
    """Whether a report template displays the sections ``kps run`` renders once per clinic
    (a code cell calls ``fragments.show``, as ``notebooks/clinic_report.ipynb`` does).

    A template that does not (a user's own, a test's stand-in) is run without the render
    step: drawing every section for a notebook that never shows them would be wasted work.
    An unreadable template counts as one that does (papermill then reports the problem).

    Examples
    --------
    >>> from pathlib import Path
    >>> shows_stored_sections(Path(__file__).parent.parent / "notebooks" / "clinic_report.ipynb")
    True
    """
    cells = _code_cells(notebook)
    return cells is None or any("fragments.show(" in source for source, _ in cells)


def _code_cells(notebook: str | os.PathLike) -> list[tuple[str, list]] | None:
    """A template's code cells as ``(source, tags)``, read as JSON (without papermill or
    nbformat); None when the file cannot be read as a notebook."""
    try:
        cells = json.loads(Path(notebook).read_text(encoding="utf-8")).get("cells", [])
        return [("".join(c.get("source", "")), list((c.get("metadata") or {}).get("tags") or []))
                for c in cells if isinstance(c, dict) and c.get("cell_type") == "code"]
    except (OSError, ValueError, AttributeError, TypeError):
        return None


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _drop_model(job: dict, clinic_dir: Path) -> None:
    """Remove the clinic's stored model (``model_dir``) once its notebook has run: it holds the
    waiting list's exact counts (every week's queues, the chosen waits), which the published
    tables and report show only under the suppression rule (outputs/README.md, "Small counts")."""
    folder = Path(job.get("model_dir") or "")
    if job.get("model_dir") and folder.parent == clinic_dir and folder.name == "model":
        shutil.rmtree(folder, ignore_errors=True)


def _log_trace(log_path: Path, exc: BaseException) -> None:
    """Append the stack trace of ``exc`` (the kernel's, for a notebook error) to ``log_path``."""
    lines = getattr(exc, "traceback", None)
    if isinstance(lines, list) and lines:  # papermill: the kernel's traceback, with colours
        text = "\n".join(_ANSI.sub("", str(line)) for line in lines)
    else:
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    try:
        with open(log_path, "a", encoding="utf-8") as fh:
            fh.write(f"\n--- {type(exc).__name__} ({datetime.now(timezone.utc).isoformat(timespec='seconds')})\n")
            fh.write(text.rstrip() + "\n")
    except OSError:
        pass  # the page and the manifest still say what failed


def _notebook_step(exc: BaseException, executed: Path, language: str) -> tuple[str, str | None]:
    """The step a notebook failure belongs to, and where in the report it happened.

    The step from the error's kind: ``data`` (a :class:`~kps_analysis.data.DataError`),
    ``parameters``, ``timeout``, else ``analysis``. Where: the report section whose
    heading the failing cell showed (or the last one before it), with the cell's number;
    the setup before the first section otherwise.
    """
    ename = str(getattr(exc, "ename", "") or type(exc).__name__)
    if "timeout" in ename.lower() or "timed out" in str(exc).lower():
        step = "timeout"
    elif ename.endswith("DataError"):
        step = "data"
    elif ename.endswith("ParameterError"):
        step = "parameters"
    else:
        step = "analysis"
    texts = _texts(language)
    try:
        import nbformat

        cells = nbformat.read(executed, as_version=4).cells
    except Exception:  # noqa: BLE001 - no notebook written (it failed to start)
        return step, None
    code = [c for c in cells if c.get("cell_type") == "code"
            and "injected-parameters" not in c.get("metadata", {}).get("tags", [])]  # the template's cells
    failing = next((i for i, c in enumerate(code)
                    if c.get("metadata", {}).get("papermill", {}).get("exception")
                    or any(o.get("output_type") == "error" for o in c.get("outputs", []))), None)
    if failing is None:
        return step, None
    heading = None
    for cell in reversed(code[: failing + 1]):
        for out in cell.get("outputs", []):
            text = out.get("data", {}).get("text/markdown", "") if out.get("output_type") == "display_data" else ""
            text = "".join(text) if isinstance(text, list) else text
            if text.lstrip().startswith("#"):
                heading = text.lstrip().splitlines()[0].lstrip("#").strip()
                break
        if heading:
            break
    cell_no = failing + 1
    if heading:
        return step, texts["where_section"].format(section=heading, cell=cell_no)
    return step, texts["where_setup"].format(cell=cell_no)


def _worker_init() -> None:
    """Initializer of every local worker process: end the worker when its parent dies.

    A daemon thread waits on the parent's sentinel (a pipe that closes when the parent
    process ends, on every platform ``multiprocessing`` supports) and also notices being
    re-parented (POSIX); then the worker exits at once, so a killed ``kps`` leaves no
    orphan that keeps writing. The notebook kernel exits with its worker.
    """
    parent = multiprocessing.parent_process()
    ppid = os.getppid()

    def watch():
        from multiprocessing.connection import wait

        while True:
            if parent is not None and wait([parent.sentinel], timeout=1.0):
                break
            if os.name == "posix" and os.getppid() != ppid:
                break
        os._exit(75)

    threading.Thread(target=watch, name="kps-parent-watch", daemon=True).start()


def _local_pool(n_workers: int) -> cf.ProcessPoolExecutor:
    return cf.ProcessPoolExecutor(max_workers=n_workers, mp_context=multiprocessing.get_context("spawn"),
                                  initializer=_worker_init)


WORKER_DIED = ("the worker process running this clinic died (killed, or out of memory) and died again "
               "when the clinic was retried alone; the clinic was not finished")


def _execute_local(jobs: list[dict], n_workers: int):
    """Run jobs in a local process pool; yield ``(job, ClinicResult)`` as each finishes.

    A dead worker breaks the whole pool (``BrokenProcessPool`` for every job in it). The
    pool is then recreated: clinics that finished meanwhile are read from disk, those
    that had not started go on in the new pool, and those that were running (their
    folder exists) are retried one at a time in a pool of one, so the clinic that kills
    its worker is the only one that fails.
    """
    waiting = list(jobs)
    suspects: list[dict] = []
    stalled = 0
    while waiting or suspects:
        alone = not waiting
        batch = [suspects.pop(0)] if alone else waiting
        waiting = []
        broken = []
        with _local_pool(1 if alone else min(n_workers, len(batch))) as pool:
            futures = {pool.submit(run_clinic, job, reuse_kernel=True): job for job in batch}
            for fut in cf.as_completed(futures):
                job = futures[fut]
                try:
                    yield job, fut.result()
                except cf.process.BrokenProcessPool:
                    broken.append(job)
                except Exception as exc:  # noqa: BLE001 - a failure in the worker fails one clinic
                    yield job, _record_failure(job, _describe_error(exc))
        progressed = len(broken) < len(batch)
        for job in broken:
            clinic_dir = Path(job["clinic_dir"])
            finished = _finished_clinic(clinic_dir)
            if finished is not None:
                yield job, finished
            elif alone:
                yield job, _record_failure(job, WORKER_DIED)
            elif clinic_dir.exists():
                suspects.append(job)
            else:
                waiting.append(job)
        stalled = 0 if progressed or suspects else stalled + 1
        if waiting and stalled >= 2:  # workers die before any clinic starts
            for job in waiting:
                yield job, _record_failure(job, "worker processes died before the clinic started")
            waiting = []


def _record_failure(job: dict, error: str) -> ClinicResult:
    """A clinic failed outside its worker (the worker died): its failure page and
    ``status.json`` are written here."""
    result = _failed(job["clinic_id"], job["name"], error)
    result.step = "worker"
    clinic_dir = Path(job["clinic_dir"])
    clinic_dir.mkdir(parents=True, exist_ok=True)
    write_failure_page(clinic_dir / "report.html", result, run_id=job["run_id"], language=job.get("language", "sv"))
    _write_json(clinic_dir / "status.json", asdict(result))
    return result


def _connect(scheduler: str):
    """A Dask client for ``scheduler``; ConfigurationError when Dask is missing or the
    scheduler cannot be reached (before anything is written)."""
    try:
        from distributed import Client
    except ImportError:
        raise ConfigurationError("--scheduler needs Dask: pip install 'kps-analysis[dask]'") from None
    try:
        return Client(scheduler, timeout="10s")
    except Exception as exc:  # noqa: BLE001 - OSError, TimeoutError, a bad address: all one message
        raise ConfigurationError(f"cannot reach the Dask scheduler at {scheduler}: {_one_line(str(exc))}") from None


def _execute_dask(client, jobs: list[dict], worker_timeout: float):
    """Run jobs on a Dask cluster; yield ``(job, ClinicResult)`` as each finishes.

    A task whose worker is lost is rescheduled by Dask (``run_clinic`` returns the stored
    result of a clinic that had finished); after Dask's allowed failures it fails its
    clinic. A result is released as soon as it is read, so a lost worker never makes
    Dask compute a finished clinic again. With no worker (or no scheduler) for
    ``worker_timeout`` seconds, raises :class:`RunInterrupted`.
    """
    from distributed import wait

    futures = {client.submit(run_clinic, job, key=f"kps-{job['run_id']}-{job['clinic_id']}", pure=False): job
               for job in jobs}
    pending = set(futures)
    alone_since = None
    while pending:
        try:
            done, not_done = wait(list(pending), timeout=2, return_when="FIRST_COMPLETED")
        except TimeoutError:
            done, not_done = set(), pending
        for fut in done:
            job = futures[fut]
            try:
                result = fut.result()
            except Exception as exc:  # noqa: BLE001 - a lost worker (KilledWorker) fails one clinic
                result = _finished_clinic(Path(job["clinic_dir"])) or _record_failure(job, _describe_error(exc))
            fut.release()
            yield job, result
        pending = set(not_done)
        if done or not pending:
            alone_since = None
            continue
        try:
            workers = len(client.nthreads())
        except Exception:  # noqa: BLE001 - the scheduler is gone: as good as no worker
            workers = 0
        if workers:
            alone_since = None
        elif alone_since is None:
            alone_since = time.monotonic()
        elif time.monotonic() - alone_since > worker_timeout:
            client.cancel(list(pending))
            raise RunInterrupted(f"no Dask worker for {worker_timeout:g} s; {len(pending)} clinic(s) not run")


RUN_SPEC = "run.json"


def _json_safe(value):
    """``value`` with every NaN or infinite number as None (null): JSON has no NaN, and a
    status.json with a bare ``NaN`` is refused by every strict reader."""
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return None if isinstance(value, float) and not math.isfinite(value) else value


def _write_json(path: Path, data: dict) -> None:
    from .report import atomic_path

    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(_json_safe(data), indent=2, ensure_ascii=False, default=str, allow_nan=False),
                       encoding="utf-8")


def _select_clinics(parameters_dir: Path, clinics: Sequence[str] | None) -> list[str]:
    from .parameters import list_clinics

    if not (parameters_dir / "defaults.yaml").exists():
        raise ConfigurationError(f"{parameters_dir / 'defaults.yaml'}: parameter defaults not found")
    available = list_clinics(parameters_dir)
    if clinics:
        unknown = [c for c in clinics if c not in available]
        if unknown:
            raise ConfigurationError(
                f"unknown clinic id(s) {', '.join(unknown)}; clinics in "
                f"{parameters_dir / 'clinics'}: {', '.join(available) or 'none'}")
        selected = list(dict.fromkeys(clinics))
    else:
        selected = available
    if not selected:
        raise ConfigurationError(f"no clinic parameter files in {parameters_dir / 'clinics'}")
    return selected


def _shared_name(path: Path, folder: Path) -> str:
    """A file as the run's shared files name it: relative to its data or parameter folder
    (``uro_activity.csv``, ``clinics/uro.yaml``), never the absolute path, which would tell
    whoever opens a shared report folder where the analyst keeps the files and under which user."""
    try:
        return Path(path).resolve().relative_to(Path(folder).resolve()).as_posix()
    except (ValueError, OSError):
        return Path(path).name


def _read_spec(partial: Path) -> dict | None:
    try:
        spec = json.loads((partial / RUN_SPEC).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    keys = {"run_id", "clinics", "data_dir", "parameters_dir", "started"}
    return spec if isinstance(spec, dict) and keys <= set(spec) else None


def _find_partial(out_root: Path, resume: str | bool) -> tuple[Path, dict]:
    """The interrupted run folder to resume and its run spec.

    The newest resumable one for ``resume=True``: a ``.<run-id>.partial`` folder with a
    readable run spec whose status is "running" (a folder without one was never a run).
    """
    if resume is True:
        candidates = sorted(out_root.glob(".*.partial"), reverse=True) if out_root.is_dir() else []
        for partial in candidates:
            spec = _read_spec(partial)
            if spec is not None and spec.get("status") == "running":
                return partial, spec
        raise ConfigurationError(f"no interrupted run (.<run-id>.partial) under {out_root}")
    partial = out_root / f".{resume}.partial"
    if not partial.is_dir():
        raise ConfigurationError(f"no interrupted run {resume!r} under {out_root}")
    spec = _read_spec(partial)
    if spec is None:
        raise ConfigurationError(f"{partial / RUN_SPEC}: no readable run spec; this folder cannot be resumed")
    if spec.get("status") != "running":
        raise ConfigurationError(f"run {resume!r} under {out_root} is {spec.get('status')!r}, not resumable")
    return partial, spec


LOCK = "lock.json"


def _process_start(pid: int) -> str | None:
    """When process ``pid`` started (clock ticks since boot, Linux), to tell a reused pid."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[-1].split()[19]


def _process_alive(pid: int, started: str | None = None) -> bool:
    """Whether process ``pid`` (of this host) still runs (a zombie does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:  # Windows: no such process
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except (OSError, IndexError):
        return True
    if state in ("Z", "X"):
        return False
    return started is None or _process_start(pid) in (None, started)


def _lock_holder(path: Path) -> dict | None:
    """The live run holding ``path``, or None when the lock is stale."""
    try:
        holder = json.loads(path.read_text(encoding="utf-8"))
        pid, host = int(holder["pid"]), str(holder["host"])
    except (OSError, ValueError, KeyError, TypeError):
        try:  # being written this instant, or left empty by a crash: stale after a minute
            return {"pid": "?", "host": "?"} if time.time() - path.stat().st_mtime < 60 else None
        except OSError:
            return None
    if host != socket.gethostname():
        return holder  # cannot look at another machine's processes: it may be running
    return holder if _process_alive(pid, holder.get("process_start")) else None


def _acquire_lock(partial: Path, run_id: str) -> Path:
    """Take the run folder's lock; ConfigurationError naming the live run that holds it."""
    path = partial / LOCK
    me = {"pid": os.getpid(), "host": socket.gethostname(), "process_start": _process_start(os.getpid()),
          "since": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    for _ in range(3):
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            holder = _lock_holder(path)
            if holder is not None:
                raise ConfigurationError(
                    f"run {run_id} is in use by process {holder.get('pid')} on {holder.get('host')}"
                    f"{' since ' + str(holder['since']) if holder.get('since') else ''}; wait for it to end "
                    f"(or, if that process is gone, delete {path})") from None
            path.unlink(missing_ok=True)  # stale: the run that held it is gone
            continue
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(me, fh)
        return path
    raise ConfigurationError(f"run {run_id}: another process keeps taking its lock {path}")


def _release_lock(path: Path | None) -> None:
    if path is None:
        return
    try:
        holder = json.loads(path.read_text(encoding="utf-8"))
        if holder.get("pid") == os.getpid() and holder.get("host") == socket.gethostname():
            path.unlink()
    except (OSError, ValueError, AttributeError):
        pass


def _abandon(partial: Path) -> str:
    """Remove a run folder that cannot be finished (best effort); say what became of it."""
    shutil.rmtree(partial, ignore_errors=True)
    if not partial.exists():
        return "its folder was removed"
    spare = partial.with_name(partial.name.removesuffix(".partial") + ".abandoned")
    try:
        os.replace(partial, spare)
        return f"its folder was left as {spare}"
    except OSError:
        return f"{partial} could not be removed"


def _io_problem(exc: OSError) -> str:
    """One line for a file-system error of the runner itself."""
    where = f": {exc.filename}" if exc.filename else ""
    what = {errno.ENOSPC: "no space left on the device", errno.EDQUOT: "disk quota exceeded",
            errno.EROFS: "read-only file system", errno.EACCES: "permission denied",
            errno.EPERM: "operation not permitted"}.get(exc.errno, exc.strerror or type(exc).__name__)
    return _one_line(f"{what}{where}")


def _finished_clinic(clinic_dir: Path) -> ClinicResult | None:
    """The result of a clinic that finished before the run was interrupted, else None."""
    try:
        data = json.loads((clinic_dir / "status.json").read_text(encoding="utf-8"))
        return ClinicResult(**data)
    except (OSError, ValueError, TypeError):
        return None


def _one_line(text: str, limit: int = 600) -> str:
    """``text`` on one line, at most ``limit`` characters (an error for index and manifest)."""
    import re

    text = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", str(text))  # ANSI colours of a kernel traceback
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _describe_error(exc: BaseException) -> str:
    """A one-line description of a notebook failure: the exception's own message (which
    the readers keep free of file content), never a traceback or a cell's source."""
    if "timeout" in type(exc).__name__.lower() or "timed out" in str(exc).lower():
        return _one_line(f"timed out: a step took longer than the clinic's time limit (timeout_minutes) ({exc})")
    ename = getattr(exc, "ename", None)
    evalue = getattr(exc, "evalue", None)
    if ename:
        return _one_line(f"{ename}: {evalue}")
    if type(exc).__name__ == "KilledWorker":
        return "the Dask workers running this clinic died every time it was tried; the clinic was not finished"
    return _one_line(f"{type(exc).__name__}: {exc}".strip())


def _failed(clinic_id: str, name: str, error: str) -> ClinicResult:
    return ClinicResult(clinic_id=clinic_id, status="failed", name=name, error=error)


@dataclass
class _Where:
    """What a run works on, resolved before anything is written (:func:`_locate`)."""

    root: Path
    out_root: Path
    notebook: Path
    parameters_dir: Path
    data_dir: Path
    selected: list
    started: datetime
    partial: Path | None = None  # the interrupted run's folder (``--resume``)
    spec: dict | None = None  # its run.json


def _locate(*, project, parameters_dir, out_dir, notebook, data_dir, clinics, resume,
            progress: Callable[[str], None]) -> _Where:
    """Resolve a run's project, folders, template and clinics (a resumed run's from its ``run.json``);
    the demo data are written when no data folder is given. Raises ConfigurationError."""
    root = project_root(project)
    own_project = project is not None or find_project() is not None
    if parameters_dir is None:
        parameters_dir = root / "parameters"
    if out_dir is None:
        out_dir = root / "outputs" if own_project else Path("outputs")
    out_root = Path(out_dir).resolve()
    notebook = Path(notebook) if notebook else _template(root, "clinic_report.ipynb")
    if not notebook.exists():
        raise ConfigurationError(f"report notebook not found: {notebook}")
    partial = spec = None
    try:
        if resume:
            partial, spec = _find_partial(out_root, resume)
            selected, started = list(spec["clinics"]), datetime.fromisoformat(spec["started"])
            data_dir, parameters_dir = Path(spec["data_dir"]), Path(spec["parameters_dir"])
            if not (parameters_dir / "defaults.yaml").exists():
                raise ConfigurationError(f"{parameters_dir / 'defaults.yaml'}: parameter defaults not found")
        else:
            parameters_dir = Path(parameters_dir).resolve()
            selected = _select_clinics(parameters_dir, clinics)
            if data_dir is None:
                from .demo import ensure_demo_data

                progress(f"demo data: {out_root / 'demo-data'} (written when missing or stale)")
                data_dir = ensure_demo_data(out_root / "demo-data")
            started = datetime.now(timezone.utc)
        data_dir = Path(data_dir).resolve()
        if not data_dir.is_dir():
            raise ConfigurationError(f"data folder not found: {data_dir}")
        if not resume:
            out_root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigurationError(f"cannot prepare the run under {out_root}: {_io_problem(exc)}") from None
    return _Where(root=root, out_root=out_root, notebook=notebook, parameters_dir=parameters_dir,
                  data_dir=data_dir, selected=selected, started=started, partial=partial, spec=spec)


def run(
    *,
    clinics: Sequence[str] | None = None,
    data_dir: str | os.PathLike | None = None,
    parameters_dir: str | os.PathLike | None = None,
    out_dir: str | os.PathLike | None = None,
    workers: int | None = None,
    notebook: str | os.PathLike | None = None,
    progress: Callable[[str], None] | None = None,
    resume: str | bool = False,
    scheduler: str | None = None,
    worker_timeout: float = 120.0,
    project: str | os.PathLike | None = None,
    progress_bar: bool | None = False,
) -> RunResult:
    """Run the clinic report for every (or the given) clinic and write one run folder.

    Parameters
    ----------
    clinics : sequence of str, optional
        Clinic ids (file stems in ``parameters/clinics``); all when omitted.
    data_dir : path, optional
        Folder with the clinics' input files. Omitted: the embedded synthetic demo data,
        generated into ``<out_dir>/demo-data`` when missing or stale.
    parameters_dir : path, optional
        Folder with ``defaults.yaml`` and ``clinics/``; default the project's
        ``parameters/`` (see ``project``).
    out_dir : path, optional
        The run folder is created under it; default the project's ``outputs/``, or
        ``./outputs`` when the packaged defaults are used.
    workers : int, optional
        Clinics run in parallel [processes]; default: number of CPUs.
    notebook : path, optional
        Report template; default the project's ``notebooks/clinic_report.ipynb``, else
        the packaged one.
    progress : callable, optional
        Called with one line of text per step (``<step>: ...``, :data:`STEPS`) and per
        finished clinic (with the time left).
    project : path, optional
        The project folder (``parameters/``, ``notebooks/``, ``outputs/``); default the
        nearest folder from the current one up that holds ``parameters/defaults.yaml``,
        else the packaged demo project (:func:`project_root`).
    progress_bar : bool or None
        A tqdm progress bar over the clinics on stderr; None: when stderr is a terminal.
    resume : bool or str
        Finish an interrupted run instead of starting a new one: ``True`` for the
        newest ``.<run-id>.partial`` folder under ``out_dir``, or its run id. Clinics
        with a ``status.json`` are kept as they are; only the missing ones run, with
        the clinics, data and parameter folders recorded when the run started. A run
        whose lock is held by a live process is refused.
    scheduler : str, optional
        Address of a Dask distributed scheduler to run the clinics on.
    worker_timeout : float
        With ``scheduler``: give up when the cluster has had no worker for this long
        [seconds]; the clinics not run are left to ``--resume``.

    Returns
    -------
    RunResult
        ``exit_code`` 0 when every clinic succeeded, 1 otherwise.

    Raises
    ------
    ConfigurationError
        For a usage or configuration error: nothing is run. Its subclass
        :class:`RunInterrupted` when the run cannot go on (a file-system error of the
        runner, no Dask worker): the message says whether the run folder was removed
        or left to ``--resume``.
    """
    progress = progress or (lambda line: None)
    where = _locate(project=project, parameters_dir=parameters_dir, out_dir=out_dir, notebook=notebook,
                    data_dir=data_dir, clinics=clinics, resume=resume, progress=progress)
    root, out_root, notebook, partial, spec = where.root, where.out_root, where.notebook, where.partial, where.spec
    selected, started, data_dir, parameters_dir = where.selected, where.started, where.data_dir, where.parameters_dir
    client = _connect(scheduler) if scheduler else None  # before anything is written

    new = not resume
    lock = None
    run_id = spec["run_id"] if resume else None
    if new:
        partial = None
    try:
        if resume:
            lock = _acquire_lock(partial, run_id)
        else:
            partial, run_id = _new_partial(out_root, started)
            lock = _acquire_lock(partial, run_id)
            _write_json(partial / RUN_SPEC, {
                "run_id": run_id, "status": "running", "clinics": selected, "data_dir": str(data_dir),
                "parameters_dir": str(parameters_dir), "started": started.isoformat(timespec="seconds")})
        with one_blas_thread():  # for the worker processes and kernels started from here on
            result = _run_in(partial, run_id, selected, started, root=root, out_root=out_root, data_dir=data_dir,
                             parameters_dir=parameters_dir, notebook=notebook, resume=bool(resume),
                             workers=workers, client=client, scheduler=scheduler,
                             worker_timeout=worker_timeout, progress=progress, progress_bar=progress_bar)
        _release_lock(result.run_dir / LOCK)
        lock = None
        return result
    except RunInterrupted as exc:
        finished = any((partial / c / "status.json").exists() for c in selected)
        if new and not finished:
            raise RunInterrupted(f"run {run_id}: {exc}; nothing was finished, {_abandon(partial)}") from None
        raise RunInterrupted(f"run {run_id}: {exc}; resume it with: kps run --resume {run_id}") from None
    except OSError as exc:
        if partial is None:
            raise RunInterrupted(f"cannot create the run folder under {out_root}: {_io_problem(exc)}") from None
        if new:
            raise RunInterrupted(f"{_io_problem(exc)}; run {run_id} abandoned, {_abandon(partial)}") from None
        raise RunInterrupted(f"{_io_problem(exc)}; run {run_id} stopped and left as it was, "
                             f"for kps run --resume {run_id} once the problem is fixed") from None
    finally:
        _release_lock(lock)
        if client is not None:
            client.close()


def _new_partial(out_root: Path, started: datetime | None = None) -> tuple[Path, str]:
    """Create ``<out_root>/.<run-id>.partial`` for a new run (never an existing one)."""
    for _ in range(100):
        run_id = _new_run_id(out_root, started)
        partial = out_root / f".{run_id}.partial"
        try:
            partial.mkdir()
        except FileExistsError:  # another run started in the same second
            time.sleep(0.01)
            continue
        return partial, run_id
    raise ConfigurationError(f"cannot find a free run id under {out_root}")


@dataclass
class _Prepared:
    """The clinics of a run after their parameters were validated (before any kernel starts)."""

    jobs: list = field(default_factory=list)  # clinics to run: identifiers and paths only
    results: list = field(default_factory=list)  # clinics already finished or failed before start
    param_info: dict = field(default_factory=dict)  # clinic -> parameter hash and file hashes
    inputs: dict = field(default_factory=dict)  # input file -> hash
    clinic_params: dict = field(default_factory=dict)  # clinic to run -> Parameters
    region_name: str | None = None


def _prepare(partial: Path, run_id: str, selected: list[str], *, resume: bool, parameters_dir: Path,
             data_dir: Path, notebook: Path, progress: Callable[[str], None]) -> _Prepared:
    """Validate every clinic's parameters, hash them and the inputs, and build the jobs.

    A clinic kept from an interrupted run is not run again; one whose parameters are
    invalid fails here with its page (step ``parameters``).
    """
    from .parameters import ParameterError, load_parameters

    prep = _Prepared()
    for clinic_id in selected:
        kept = _finished_clinic(partial / clinic_id) if resume else None
        if kept is not None:
            prep.results.append(kept)
            progress(f"{clinic_id}: kept from the interrupted run ({kept.status})")
        elif (partial / clinic_id).exists():
            shutil.rmtree(partial / clinic_id)  # half-written by the interrupted run
        try:
            params = load_parameters(clinic_id, parameters_dir)
        except ParameterError as exc:
            if kept is None:
                failed = _failed(clinic_id, "", str(exc))
                failed.step = "parameters"
                prep.results.append(failed)
                write_failure_page(partial / clinic_id / "report.html", failed, run_id=run_id,
                                   language=_language(parameters_dir))
                progress(f"{clinic_id}: failed before start: {exc}")
            continue
        prep.region_name = prep.region_name or (str(params.region_name) if params.region_name else None)
        _record_inputs(prep, params, data_dir, parameters_dir)
        if kept is not None:
            continue
        prep.clinic_params[clinic_id] = params
        prep.jobs.append({
            "clinic_id": clinic_id,
            "name": params.name,
            "notebook": str(notebook),
            "render": shows_stored_sections(notebook),
            "clinic_dir": str(partial / clinic_id),
            "parameters_dir": str(parameters_dir),
            "data_dir": str(data_dir),
            "run_id": run_id,
            "timeout_seconds": max(1, round(params.timeout_minutes * 60)),
            "language": params.language,
        })
    return prep


def _record_inputs(prep: _Prepared, params, data_dir: Path, parameters_dir: Path) -> None:
    """Record a clinic's parameter hash and the hashes of its parameter and data files (for the manifest)."""
    from .data import DataError, checked_data_path

    prep.param_info[params.clinic_id] = {
        "hash": params.hash,
        "files": {_shared_name(Path(p), parameters_dir): _sha256(Path(p)) for p in params.source_files},
    }
    for key in ("weekly", "waiting_list"):
        rel = params.data.to_dict().get(key)
        if not rel:
            continue
        try:  # only files inside the data folder are hashed (a link out of it is refused)
            path = checked_data_path(data_dir, rel, key=key)
        except (DataError, OSError):
            continue
        prep.inputs[_shared_name(path, data_dir)] = _sha256(path)


def _run_in(partial: Path, run_id: str, selected: list[str], started: datetime, *, root: Path, out_root: Path,
            data_dir: Path, parameters_dir: Path, notebook: Path, resume: bool, workers: int | None, client,
            scheduler: str | None, worker_timeout: float, progress: Callable[[str], None],
            progress_bar: bool | None = False) -> RunResult:
    """Run the clinics into the locked folder ``partial`` and finish the run: the named
    steps planning model, notebooks, region overview, index (:data:`STEPS`)."""
    prep = _prepare(partial, run_id, selected, resume=resume, parameters_dir=parameters_dir, data_dir=data_dir,
                    notebook=notebook, progress=progress)
    jobs, results = prep.jobs, prep.results
    n_workers = max(1, min(workers or os.cpu_count() or 1, len(jobs) or 1))
    planned_with: list = []
    if jobs and takes_model(notebook):
        planned_with = _plan_region(jobs, prep.clinic_params, data_dir, out_root, run_id, progress,
                                    workers=max(1, workers or os.cpu_count() or 1), parameters_dir=parameters_dir)
        for params in planned_with:   # the reports rest on the whole region's inputs: all recorded
            if params.clinic_id not in prep.param_info:
                _record_inputs(prep, params, data_dir, parameters_dir)
    if jobs:
        progress(f"notebooks: {len(jobs)} clinic(s) "
                 + (f"on the Dask cluster {scheduler}" if client is not None else f"on {n_workers} worker process(es)"))
        running = _execute_dask(client, jobs, worker_timeout) if client is not None else _execute_local(jobs, n_workers)
        _notebook_progress(running, results, len(results), len(selected), progress, progress_bar)
    missing = sorted(set(selected) - {r.clinic_id for r in results})
    if missing:  # never finalise a run with clinics unrun: --resume must be able to redo them
        raise RunInterrupted(f"clinic(s) {', '.join(missing)} not run")

    region = _region_step(root, partial, run_id, parameters_dir, results, progress)
    order = {c: i for i, c in enumerate(selected)}
    results.sort(key=lambda r: order[r.clinic_id])
    manifest = {
        "run_id": run_id,
        "package": "kps-analysis",
        "package_version": __version__,
        "git_commit": _git_commit(root),
        "started": started.isoformat(timespec="seconds"),
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "data_dir": Path(data_dir).name,
        "parameters_dir": Path(parameters_dir).name,
        "parameters": prep.param_info,
        "inputs": prep.inputs,
        "planned_with": [p.clinic_id for p in planned_with],
        "clinics": {r.clinic_id: {"status": r.status, "seconds": r.seconds, "error": r.error, "step": r.step,
                                  "render_seconds": r.render_seconds} for r in results},
        "region_overview": region,
        "executor": f"dask:{scheduler}" if scheduler else f"processes:{n_workers}",
        "python": sys.version.split()[0],
        "platform": sys.platform,
        "dependencies": dependency_versions(),
        "status": "complete",
    }
    language = _language(parameters_dir)
    progress("index: index.html, manifest.json")
    write_index(partial, run_id, results, language=language, region=region, region_name=prep.region_name,
                started=started)
    _write_json(partial / "manifest.json", manifest)
    spec = json.loads((partial / RUN_SPEC).read_text(encoding="utf-8"))
    # complete: nothing to resume, so the folders by name only, as in the manifest
    _write_json(partial / RUN_SPEC, spec | {key: manifest[key] for key in ("status", "finished", "data_dir",
                                                                           "parameters_dir")})
    final = out_root / run_id
    os.replace(partial, final)
    try:  # the stable link: a failure here leaves a complete run, only the link is stale
        update_latest(out_root, language=language)
    except OSError as exc:
        progress(f"index: outputs/latest not updated ({_io_problem(exc)})")
    except Exception as exc:  # noqa: BLE001 - the run is complete; only the link and the runs index are stale
        progress(f"index: outputs/latest not updated ({_one_line(_describe_error(exc), 200)})")
    return RunResult(run_id=run_id, run_dir=final, results=results, region=region)


def _region_step(root: Path, partial: Path, run_id: str, parameters_dir: Path, results: list,
                 progress: Callable[[str], None]) -> dict | None:
    """The region overview, when a clinic wrote its tables; its outcome (None: no clinic ok)."""
    region = None
    if any(r.status == "ok" and (partial / r.clinic_id / "tables" / "summary.csv").exists() for r in results):
        progress("region overview: running")
        region = _run_region(root, partial, run_id, parameters_dir)
    elif any(r.status == "ok" for r in results):  # a report template that writes no tables
        region = {"status": "skipped", "error": "no clinic wrote tables/summary.csv"}
    if region and region.get("status") == "failed":
        progress(f"region overview FAILED: {region.get('error')}")
    elif region and region.get("status") == "ok":
        progress(f"region overview: done ({region.get('seconds', 0):.1f} s)")
    return region


#: The named steps of a run, as its progress lines begin ("<step>: ...").
STEPS = ("demo data", "planning model", "analytics", "notebooks", "region overview", "index")


def _duration(seconds: float) -> str:
    """``seconds`` for a progress line: "40 s", "3 min", "1 h 05 min"."""
    seconds = max(0.0, float(seconds))
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60):02d} min"


def _notebook_progress(running, results: list, done: int, total: int, progress: Callable[[str], None],
                       progress_bar: bool | None) -> None:
    """Collect the clinics' results as they finish: one line each with the time left
    (from this run's pace), and a tqdm progress bar with its ETA on a terminal."""
    from tqdm.auto import tqdm

    first = done
    started = time.monotonic()
    with tqdm(total=total, initial=done, unit="clinic", desc="clinics", file=sys.stderr, dynamic_ncols=True,
              disable=None if progress_bar is None else not progress_bar, leave=True) as bar:
        for _job, res in running:
            results.append(res)
            done += 1
            bar.update(1)
            state = "ok" if res.status == "ok" else f"FAILED: {res.error}"
            if res.status == "ok" and res.failed_sections:
                state += (f", but {len(res.failed_sections)} section(s) could not be shown "
                          f"({', '.join(res.failed_sections)}; see {res.clinic_id}/run.log)")
            left = total - done
            eta = (time.monotonic() - started) / (done - first) * left
            progress(f"[{done}/{total}] {res.clinic_id} {state} ({res.seconds:.1f} s)"
                     + (f"; about {_duration(eta)} left" if left else ""))


def dependency_versions() -> dict[str, str | None]:
    """The installed versions of the package's dependencies (``manifest.json``), by name.

    From the installed distribution's requirements (``importlib.metadata``), extras
    left out; a dependency that is not installed is None.
    """
    from importlib import metadata

    try:
        requires = metadata.requires("kps-analysis") or []
    except metadata.PackageNotFoundError:  # the source folder on sys.path, not installed
        requires = []
    names = [re.split(r"[<>=!~ ;\[]", r, maxsplit=1)[0] for r in requires if "extra ==" not in r]
    names = names or ["numpy", "pandas", "scipy", "matplotlib", "seaborn", "statsmodels", "holidays", "openpyxl",
                      "pyarrow", "pyyaml", "papermill", "nbconvert", "nbformat", "ipykernel", "jinja2", "tqdm"]
    versions = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions



def takes_model(notebook: str | os.PathLike) -> bool:
    """Whether a report template has a ``model_dir`` parameter (a user's own may not), so
    that the batch's planning pass stores the model its notebooks load.

    The parameter is an assignment (``model_dir = ""``, annotated or not) at the top level
    of the cell tagged ``parameters``, as papermill reads it; the template is read as JSON
    and the cell parsed with :mod:`ast` (importing papermill for this took 1.5-2 s of every
    run's start). An unreadable template counts as one without (it fails in its own run,
    with papermill's message).

    Examples
    --------
    >>> from pathlib import Path
    >>> takes_model(Path(__file__).parent.parent / "notebooks" / "clinic_report.ipynb")
    True
    """
    import ast

    for source, tags in _code_cells(notebook) or []:
        if "parameters" not in tags:
            continue
        try:
            body = ast.parse(source).body
        except (SyntaxError, ValueError):
            return False
        for node in body:
            targets = node.targets if isinstance(node, ast.Assign) else \
                [node.target] if isinstance(node, ast.AnnAssign) else []
            if any(isinstance(t, ast.Name) and t.id == "model_dir" for t in targets):
                return True
    return False


def _previous_tables(out_root: Path, run_id: str, clinic_id: str) -> Path | None:
    """The clinic's ``tables`` folder of the newest earlier finished run that has a production plan."""
    try:
        runs = [p for p in out_root.iterdir()
                if p.is_dir() and not p.name.startswith(".") and p.name != run_id
                and (p / clinic_id / "tables" / "production_plan.csv").is_file()]
    except OSError:
        return None
    return max(runs, key=lambda p: p.name) / clinic_id / "tables" if runs else None


def _plan_region(jobs: list[dict], clinic_params: dict, data_dir: Path, out_root: Path, run_id: str,
                 progress: Callable[[str], None], *, workers: int = 1, parameters_dir: Path | None = None) -> list:
    """Compute once: the region's planning model in one pass, stored for each clinic's notebook to show.

    The region is every clinic of ``parameters_dir`` (:func:`kps_analysis.region.clinics_of`),
    whichever clinics the run reports (``--clinic``, ``--resume``): a clinic's forecast pools
    over the others and the moves of common waiting lists run between them, so a clinic's
    report shows the same numbers in a run of one clinic as in the region's. Reads each
    clinic's data and the previous run's plan (its fixed weeks are kept) on the pool, runs
    :func:`kps_analysis.region.compute` (:func:`kps_analysis.planning.plan_region` and the
    report's analyses, on the same pool) and writes each reported clinic's part with
    :func:`kps_analysis.store.write_model` and :func:`~kps_analysis.store.write_analytics`;
    the job then carries ``model_dir`` (and ``previous_tables``). A clinic whose data cannot
    be read is left to its notebook, which reports the problem; if the region's pass fails,
    every notebook computes its own clinic (one line says so).

    Returns the parameters of the clinics planned together (read and planned; empty when the
    pass did not run).
    """
    from . import region
    from .store import clinic_rows

    members = region.clinics_of(parameters_dir, clinic_params) if parameters_dir is not None \
        else list(clinic_params.values())
    parts = max(1, min(workers, len(members)))
    pool = _local_pool(parts) if parts > 1 else None
    planned: set = set()
    try:
        try:
            previous = {p.clinic_id: _previous_tables(out_root, run_id, p.clinic_id) for p in members}
            for job in jobs:
                if previous.get(job["clinic_id"]) is not None:
                    job["previous_tables"] = str(previous[job["clinic_id"]])
            # the clinics' data read on the pool's processes (reading is most of the parent's own work)
            inputs = region.read_inputs(members, data_dir, previous, mapper=pool.map if pool is not None else map)
            reported = [job["clinic_id"] for job in jobs]
            for clinic_id in inputs.previous_dropped:
                progress(f"planning model: {clinic_id}'s previous plan is in other periods than its data now "
                         "(weeks and months); its fixed plan is not kept, it is planned as a first run")
            if not set(reported) & {p.clinic_id for p in inputs.params}:
                return []
            others = len(inputs.params) - len(set(reported) & {p.clinic_id for p in inputs.params})
            progress(f"planning model: {len(inputs.params)} clinic(s) in one pass"
                     + (f" ({others} not reported here, planned for the region's forecasts and moves)"
                        if others else ""))
            model, frames = region.compute(inputs, report=reported, executor=pool, parts_hint=parts)
            for clinic_id, error in (model.settings.attrs.get("failed") or {}).items():
                if clinic_id in reported:
                    progress(f"planning model: {clinic_id} could not be planned ({_one_line(error, 200)}); "
                             "its notebook tries on its own")
            planned = set(model.settings["clinic"])
            # each clinic's part written on the pool (issue 15: 0.3-0.4 s a clinic, the parent's own
            # serial work while the cores waited: about 110 s of a 300-clinic region's planning pass)
            targets = [job for job in jobs if job["clinic_id"] in planned]
            parts = ((model.for_clinic(job["clinic_id"]), clinic_rows(frames, job["clinic_id"]),
                      str(Path(job["clinic_dir"]) / "model"), job["clinic_id"]) for job in targets)
            list((pool.map if pool is not None else map)(_write_clinic_model, parts))
        finally:
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
        for job in targets:
            job["model_dir"] = str(Path(job["clinic_dir"]) / "model")
        return [p for p in inputs.params if p.clinic_id in planned]
    except Exception as exc:  # noqa: BLE001 - each notebook then computes its own clinic
        progress(f"planning model of the region failed ({_one_line(_describe_error(exc), 200)}); "
                 "each clinic is planned on its own")
        for job in jobs:
            job.pop("model_dir", None)
        return []


def _write_clinic_model(args: tuple) -> None:
    """Write one clinic's planning model and analyses into its model folder (on the planning pool)."""
    from .store import write_analytics, write_model

    model, frames, folder, clinic = args
    write_model(model, folder)
    write_analytics(frames, folder, clinic)


def _run_region(root: Path, run_dir: Path, run_id: str, parameters_dir: Path) -> dict:
    """Run ``notebooks/region_overview.ipynb`` on the run's clinic tables -> ``region/overview.html``.

    A failure here is recorded in the manifest and the index and fails the run (exit
    status 1); it does not fail the clinics.
    """
    notebook = _template(root, "region_overview.ipynb")
    if not notebook.exists():
        return {"status": "skipped", "error": f"{notebook} not found"}
    job = {"notebook": str(notebook), "run_dir": str(run_dir), "run_id": run_id,
           "language": _language(parameters_dir), "parameters_dir": str(parameters_dir)}
    start = time.perf_counter()
    try:
        with _local_pool(1) as pool:
            return pool.submit(_region_job, job).result()
    except cf.process.BrokenProcessPool:
        error = "the worker process running the region overview died (killed, or out of memory)"
    except OSError:
        raise  # the runner's own file-system problem: ends the run
    except Exception as exc:  # noqa: BLE001 - reported in the manifest and the index
        error = _describe_error(exc)
    failed = ClinicResult(clinic_id="region", status="failed", error=error, step="region")
    write_failure_page(run_dir / "region" / "overview.html", failed, run_id=run_id, language=job["language"],
                       region=True)
    return {"status": "failed", "error": error, "seconds": round(time.perf_counter() - start, 2)}


def _region_job(job: dict) -> dict:
    """Run the region overview (in a worker process): ``region/overview.html``, or on a
    failure a short page saying what to do there and the stack trace in ``region/run.log``."""
    import papermill as pm

    region_dir = Path(job["run_dir"]) / "region"
    region_dir.mkdir(parents=True, exist_ok=True)
    executed = region_dir / "overview.ipynb"
    start = time.perf_counter()
    log_fd = os.open(region_dir / "run.log", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    saved = os.dup(2)
    os.dup2(log_fd, 2)
    error = trace = where = None
    try:
        _render_region_step(job)
        with one_blas_thread():
            pm.execute_notebook(job["notebook"], str(executed),
                                parameters={"run_dir": _kernel_path(job["run_dir"], region_dir),
                                            "language": job["language"],
                                            "parameters_dir": _kernel_path(job["parameters_dir"], region_dir)},
                                engine_name=_kit_engine(), kernel_name="python3", progress_bar=False,
                                log_output=False, cwd=str(region_dir))
        render_html(executed, region_dir / "overview.html", title=_texts(job["language"])["region_overview"],
                    language=job["language"])
    except Exception as exc:  # noqa: BLE001 - reported in the manifest
        error, trace = _describe_error(exc), exc
        where = _notebook_step(exc, executed, job["language"])[1]
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(log_fd)
    if error is None:
        (region_dir / "run.log").unlink(missing_ok=True)
    else:
        _log_trace(region_dir / "run.log", trace)
        failed = ClinicResult(clinic_id="region", status="failed", error=error, step="region")
        write_failure_page(region_dir / "overview.html", failed, run_id=job["run_id"], language=job["language"],
                           where=where, region=True)
    return {"status": "ok" if error is None else "failed", "error": error,
            "seconds": round(time.perf_counter() - start, 2)}


def _render_region_step(job: dict) -> None:
    """The overview's sections drawn in this process (:func:`kps_analysis.fragments.render_region`),
    so its notebook only shows them; a failure is logged and leaves the work to the notebook."""
    from .fragments import render_region

    try:
        render_region(job["run_dir"], job["parameters_dir"], job["language"], job["run_id"])
    except Exception as exc:  # noqa: BLE001 - the notebook does the work and reports the problem
        print(f"kps run: rendering the region overview failed ({_one_line(_describe_error(exc))}); "
              "its notebook computes it", file=sys.stderr)
        traceback.print_exception(exc, file=sys.stderr)


def _language(parameters_dir: Path) -> str:
    """The report language of ``defaults.yaml``, read through the bounded parameter loader."""
    try:
        from .parameters import region_settings

        return region_settings(parameters_dir)["language"]
    except Exception:  # noqa: BLE001 - the index falls back to Swedish
        return "sv"


#: The words of the pages a run writes itself (index, failure page, runs index): the name each
#: page reads -> its key in the translation catalogue (:mod:`kps_analysis.report.labels`: "index.*",
#: "runs.*", "failure.*", and a few of its LABELS); :func:`_texts` gives them in a language.
_TEXTS = {
    "run": "index.run", "clinic": "clinic", "status": "status", "ok": "ok", "failed": "failed",
    "region_overview": "region_overview", "run_title": "run_title", "caption": "index.caption",
    "order": "index.order", "monthly": "index.monthly", "lead": "index.lead", "counts": "index.counts",
    "stale": "index.stale", "sections_failed": "index.sections_failed",
    "counts_failed": "index.counts_failed", "week": "index.week", "no_data": "index.no_data",
    "failure_title": "failure.title", "region_failure_title": "failure.region_title", "what": "failure.what",
    "step": "failure.step", "message": "failure.message", "todo": "failure.todo", "details": "failure.details",
    "back": "failure.back", "what_clinic": "failure.what_clinic", "what_region": "failure.what_region",
    "details_log": "failure.details_log", "details_notebook": "failure.details_notebook",
    "where_section": "failure.where_section", "where_setup": "failure.where_setup",
    "runs_title": "runs.title", "runs_caption": "runs.caption", "latest": "runs.latest", "finished": "runs.finished",
    "clinics": "runs.clinics", "run_col": "runs.run", "region_ok": "ok", "region_none": "runs.region_none",
}
#: The steps a failure is told by (failure.step_<step>) and those with advice (failure.todo_<step>).
_FAILURE_STEPS = ("parameters", "data", "analysis", "timeout", "worker", "html", "region")
_TODO_STEPS = ("parameters", "data", "timeout", "worker", "analysis", "html", "region")


def _texts(language: str) -> dict:
    """The words of the run's own pages in ``language`` (any other than "en" is Swedish), by the
    names the pages read: placeholders unfilled, ``months`` the 12 month names in full,
    ``steps`` and ``todo_by_step`` by step."""
    lang = "en" if language == "en" else "sv"
    texts: dict = {name: label(key, lang) for name, key in _TEXTS.items()}
    texts["months"] = [label(f"index.month_{m}", lang) for m in range(1, 13)]
    texts["steps"] = {step: label(f"failure.step_{step}", lang) for step in _FAILURE_STEPS}
    texts["todo_by_step"] = {step: label(f"failure.todo_{step}", lang) for step in _TODO_STEPS}
    return texts


def _page_environment():
    """The Jinja2 environment of the run's own pages: every value made inert by
    :func:`kps_analysis.report.escape_text` (links built here are passed as markup)."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined
    from markupsafe import Markup

    def inert(value):
        return value if isinstance(value, Markup) else Markup(escape_text(value))

    return Environment(loader=FileSystemLoader(str(Path(__file__).parent / "templates" / "index")),
                       autoescape=True, finalize=inert, undefined=StrictUndefined,
                       trim_blocks=True, lstrip_blocks=True)


def _render_page(path: Path, template: str, **context) -> Path:
    """Render ``template`` with ``context`` to ``path``, atomically."""
    from .report import atomic_path

    page = _page_environment().get_template(template).render(version=__version__, **context)
    with atomic_path(path) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return path


def _link(*parts: str):
    """A relative link to ``parts`` (each URL-quoted), as markup for the templates."""
    from markupsafe import Markup

    return Markup("/".join(urllib.parse.quote(str(p), safe="") for p in parts))


def write_failure_page(path: Path, result: ClinicResult, *, run_id: str, language: str = "sv",
                       where: str | None = None, region: bool = False) -> Path:
    """Write the short page a user sees instead of a failed report: what failed, in which
    step, the message and what to do. No stack trace (that is in ``run.log``).

    Parameters
    ----------
    path : Path
        ``<clinic>/report.html`` (or ``region/overview.html`` with ``region=True``).
    result : ClinicResult
        The failed clinic (``error`` and ``step``); for the region, its id is "region".
    run_id : str
        The run, for the footer.
    language : {"sv", "en"}
        Page language.
    where : str, optional
        Where in the report template it failed (the section), added to the step.
    """
    t = _texts(language)
    step = result.step or ("region" if region else "analysis")
    name = result.name or result.clinic_id
    step_text = t["steps"].get(step, step) + (f": {where}" if where else "")
    notebook = "overview.ipynb" if region else "report.ipynb"
    details = " ".join(t[key].format(log="run.log", notebook=notebook)
                       for key, file in (("details_log", "run.log"), ("details_notebook", notebook))
                       if (path.parent / file).is_file())
    return _render_page(
        path, "failure.html.j2", lang=language, t=t,
        title=t["region_failure_title"] if region else t["failure_title"].format(name=name),
        what=t["what_region"] if region else t["what_clinic"].format(
            name=name if name == result.clinic_id else f"{name} ({result.clinic_id})"),
        step=step_text, message=result.error or "", todo=t["todo_by_step"].get(step, t["todo_by_step"]["analysis"]
                                                                             ).format(clinic=result.clinic_id),
        details=details,
        index_href=_link("..", "index.html"), run_id=run_id,
        when=datetime.now().astimezone().strftime("%Y-%m-%d %H:%M"))


def _period_text(label_text, language: str) -> str | None:
    """A period label of ``summary.csv`` in words: ``2026-W48`` -> "vecka 48, 2026", ``2026-11`` -> "november 2026"."""
    t = _texts(language)
    text = str(label_text or "")
    week = re.fullmatch(r"(\d{4})-W(\d{1,2})", text)
    if week:
        return t["week"].format(week=int(week.group(2)), year=week.group(1))
    month = re.fullmatch(r"(\d{4})-(\d{2})", text)
    if month and 1 <= int(month.group(2)) <= 12:
        return f"{t['months'][int(month.group(2)) - 1]} {month.group(1)}"
    return text or None


def _number(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if number != number else number


def _breaches(summary: dict) -> float:
    """The clinic's patients projected past the guarantee if nothing is bought: the peak within the
    fixed weeks (the report's key figure), else the count at their end."""
    for key in (PEAK, "projected_breaches_fixed", "projected_breaches_12w"):
        if _number(summary.get(key)) is not None:
            return _number(summary.get(key))
    return 0.0


_ESCALATION_RANK = {"red": 0, "yellow": 1}


def need_order(results: Sequence[ClinicResult]) -> list[ClinicResult]:
    """The clinics ordered by need: failed first (nothing is known of them), then escalation
    red, yellow, then the most patients projected past the guarantee if nothing is bought,
    then the rest; ties by name.

    Examples
    --------
    >>> rs = [ClinicResult("a", "ok", name="A", summary={"escalation": "green", "projected_breaches_12w": 9}),
    ...       ClinicResult("b", "ok", name="B", summary={"escalation": "yellow", "projected_breaches_12w": 1}),
    ...       ClinicResult("c", "ok", name="C", summary={"escalation": "red", "projected_breaches_12w": 0}),
    ...       ClinicResult("d", "ok", name="D", summary={"escalation": "green", "projected_breaches_12w": 0}),
    ...       ClinicResult("e", "failed", name="E")]
    >>> [r.clinic_id for r in need_order(rs)]
    ['e', 'c', 'b', 'a', 'd']
    """
    def key(r: ClinicResult):
        failed = r.status != "ok"
        rank = _ESCALATION_RANK.get(str(r.summary.get("escalation")), 2)
        return (not failed, rank, -_breaches(r.summary), (r.name or r.clinic_id).casefold(), r.clinic_id)

    return sorted(results, key=key)


def _headline_cell(key: str, value, language: str) -> dict:
    number = _number(value)
    if key == "escalation":
        if not isinstance(value, str):
            return {"text": "–", "css": None}
        return {"text": status_word(value, language), "css": f"status-{value}"}
    if number is None:
        return {"text": "–", "css": "num"}
    if key.startswith("share"):
        return {"text": format_share(number, language=language), "css": "num"}
    if "ratio" in key.split("_"):   # not "operations"
        return {"text": format_count(number, language=language, decimals=1), "css": "num"}
    return {"text": format_count(number, language=language), "css": "num"}


def write_index(run_dir: Path, run_id: str, results: Sequence[ClinicResult], *,
                language: str = "sv", region: dict | None = None, region_name: str | None = None,
                started: datetime | None = None) -> Path:
    """Write ``index.html``: every clinic with its status, headline figures and a link,
    ordered by need (:func:`need_order`), and the region overview (its link, or its failure).

    States the region, the data's last period (week or month, from the clinics'
    ``summary.csv``) and the run date; clinic names, words in the page's language
    (``lang`` too). Rendered from ``templates/index/index.html.j2``: self-contained
    (inline style, no script), so it opens offline; every text from parameters, data
    or an error goes through :func:`report.escape_text`, links are URL-quoted ids.
    Written atomically.
    """
    t = _texts(language)
    rows = []
    for r in need_order(results):
        rows.append({
            "name": r.name or r.clinic_id,
            "href": _link(r.clinic_id, "report.html") if (run_dir / r.clinic_id / "report.html").exists() else None,
            "status": t["ok"] if r.status == "ok" else t["failed"],
            "row_class": "ok" if r.status == "ok" else "failed",
            "error": r.error,
            "note": _row_note(r, t),
            "cells": [_headline_cell(k, r.summary.get(k), language) for k in _headline_columns()],
        })
    from .report.formatting import data_ends

    periods = data_ends(r.summary.get("period") for r in results if r.status == "ok")   # as the overview
    period = " / ".join(filter(None, (_period_text(p, language) for p in periods))) or t["no_data"]
    when = (started or datetime.now(timezone.utc)).astimezone(timezone.utc)   # UTC, as the reports and run id
    n_failed = sum(r.status != "ok" for r in results)
    counts = t["counts"].format(ok=len(results) - n_failed, total=len(results)) + (
        t["counts_failed"].format(n=n_failed) if n_failed else "") + "."
    region_page = run_dir / "region" / "overview.html"
    title = f"{t['run_title']} {run_id}" if not region_name else f"{region_name}: {t['run_title']} {run_id}"
    return _render_page(
        run_dir / "index.html", "index.html.j2", lang=language, t=t, title=title,
        lead=t["lead"].format(period=period, date=when.strftime("%Y-%m-%d %H:%M UTC")),
        counts=counts, rows=rows, headers=[label(k, language) for k in _headline_columns()],
        region_failed=bool(region) and region.get("status") == "failed",
        region_error=(region or {}).get("error"),
        region_href=_link("region", "overview.html") if region_page.exists() else None,
        monthly_note=t["monthly"].format(names=", ".join(r.name or r.clinic_id for r in results
                                                         if r.summary.get("period_unit") == "month"))
        if any(r.summary.get("period_unit") == "month" for r in results) else None,
        run_id=run_id)


def _row_note(r: ClinicResult, t: dict) -> str | None:
    """What a reader of the index must know of a finished clinic beside its figures: data out of
    date (as its report's first screen warns) and sections its report could not show."""
    notes = []
    if r.status == "ok" and str(r.summary.get("stale")).lower() in ("true", "1"):
        end = str(r.summary.get("data_end") or "")[:10]
        days = _number(r.summary.get("data_age_days"))
        notes.append(t["stale"].format(end=end, days=int(days) if days is not None else "?"))
    if r.status == "ok" and r.failed_sections:
        notes.append(t["sections_failed"].format(n=len(r.failed_sections)))
    return " ".join(notes) or None


def _headline_columns() -> tuple[str, ...]:
    """The headline figures of ``index.html``: the summary's contract (``summary.HEADLINE_COLUMNS``),
    the patients over 90 days as the report's key figure shows them (the peak within the fixed
    weeks if nothing is bought, not the count in its last week), and the purchase by kind as the
    report's cards and the region overview show it: first visits and operations are never one
    count (uro's 406 was 158 first visits and 248 operations), so neither are the capacity gap
    and the purchase need summed over both stages."""
    out = []
    for c in HEADLINE_COLUMNS:
        if c == "projected_breaches_12w":
            out.append(PEAK)
        elif c == "capacity_gap_12w":
            continue
        elif c == "purchase_need_12w":
            out += ["purchase_new_visits_12w", "purchase_operations_12w"]
        else:
            out.append(c)
    return tuple(out)


def _finished_runs(out_root: Path) -> list[Path]:
    """The finished run folders under ``out_root`` (a ``manifest.json``; no link), newest first."""
    try:
        runs = [p for p in out_root.iterdir() if not p.name.startswith(".") and not p.is_symlink()
                and p.is_dir() and (p / "manifest.json").is_file()]
    except OSError:
        return []
    return sorted(runs, key=lambda p: p.name, reverse=True)


def _utc_time(stamp) -> str:
    """An ISO time stamp of a manifest in UTC, to the minute, marked so ("" if unreadable): the time the
    run ids, the reports and the run's index give."""
    try:
        return datetime.fromisoformat(str(stamp)).astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return ""


def write_runs_index(out_root: Path, *, language: str = "sv") -> Path:
    """Write ``<out_root>/index.html``: every finished run, newest first, with its
    clinics' and the region overview's status, and a link to the latest. Atomic."""
    t = _texts(language)
    runs = []
    for folder in _finished_runs(out_root):
        try:
            manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            manifest = {}
        clinics = manifest.get("clinics") or {}
        failed = sum(1 for c in clinics.values() if isinstance(c, dict) and c.get("status") != "ok")
        region = (manifest.get("region_overview") or {}).get("status")
        runs.append({
            "run_id": folder.name, "href": _link(folder.name, "index.html"),
            "finished": _utc_time(manifest.get("finished")),
            "clinics": t["counts"].format(ok=len(clinics) - failed, total=len(clinics))
                       + (t["counts_failed"].format(n=failed) if failed else ""),
            "region": {"ok": t["region_ok"], "failed": t["failed"]}.get(region, t["region_none"]),
            "row_class": "failed" if failed or region == "failed" else "ok",
        })
    latest = _link("latest", "index.html") if (out_root / "latest").is_symlink() else (
        _link("latest.html") if (out_root / "latest.html").exists() else None)
    return _render_page(out_root / "index.html", "runs.html.j2", lang=language, t=t, runs=runs,
                        latest_href=latest if runs else None)


def update_latest(out_root: Path, *, language: str = "sv") -> Path | None:
    """Point ``<out_root>/latest`` at the newest finished run, and rewrite the runs index.

    A relative symbolic link, replaced atomically (a new link renamed over the old); where
    the file system or the user's rights allow none (Windows without developer mode),
    ``latest.html``, a page that redirects to the newest run, written atomically. An
    existing ``latest`` that is not a link (the user's own folder) is left alone. Returns
    the link (or page), None when there is no finished run.
    """
    runs = _finished_runs(out_root)
    if not runs:
        return None
    newest = runs[0].name
    link = out_root / "latest"
    made = None
    if not link.exists() or link.is_symlink():
        tmp = out_root / f".latest.{os.getpid()}.tmp"
        try:
            tmp.unlink(missing_ok=True)
            os.symlink(newest, tmp, target_is_directory=True)
            os.replace(tmp, link)
            made = link
        except (OSError, NotImplementedError):
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
    if made is None:
        made = _render_page(out_root / "latest.html", "latest.html.j2", lang=language, t=_texts(language),
                            href=_link(newest, "index.html"), run_id=newest)
    else:
        with contextlib.suppress(OSError):
            (out_root / "latest.html").unlink(missing_ok=True)  # a page left by an earlier fallback
    write_runs_index(out_root, language=language)
    return made


def result_table(results: Sequence[ClinicResult]) -> pd.DataFrame:
    """The run's results as a frame (one row per clinic), e.g. for printing."""
    return pd.DataFrame([asdict(r) | {"summary": None} for r in results]).drop(columns="summary")
