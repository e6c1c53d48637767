"""The batch runner: one papermill run of the clinic report per clinic, HTML export,
``index.html`` and ``manifest.json``.

This is the only module that knows about papermill and nbconvert. It passes only
identifiers and paths to a notebook; the notebook loads parameters and data through
the same loader an interactive user calls.

Layout of one run (see DESIGN.md section 5)::

    <out>/<run-id>/index.html
    <out>/<run-id>/manifest.json
    <out>/<run-id>/<clinic-id>/report.html, report.ipynb, tables/*.csv, plan.xlsx
    <out>/<run-id>/region/overview.html

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
import errno
import hashlib
import json
import multiprocessing
import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.parse
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Sequence

import pandas as pd

from . import __version__
from .report import add_table_of_contents, escape_text, format_count, label

__all__ = [
    "ClinicResult",
    "RunResult",
    "ConfigurationError",
    "project_root",
    "run",
    "run_clinic",
    "render_html",
    "write_index",
]

from .summary import HEADLINE_COLUMNS as _SUMMARY_COLUMNS

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


def project_root() -> Path:
    """The folder holding ``notebooks/`` and ``parameters/``.

    The current directory when it has a ``notebooks/clinic_report.ipynb``, otherwise the
    checkout the package was installed from (editable install).
    """
    here = Path.cwd()
    if (here / "notebooks" / "clinic_report.ipynb").exists():
        return here
    return Path(__file__).resolve().parent.parent


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


def _new_run_id(out_root: Path) -> str:
    base = datetime.now().strftime("%Y%m%d-%H%M%S")
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


def render_html(notebook_path: Path, html_path: Path, *, title: str | None = None,
                language: str = "sv") -> Path:
    """Render an executed notebook to a self-contained HTML report without code.

    Uses the ``kps_report`` template (the JupyterLab look without any script from a
    CDN), inlines images (matplotlib outputs are already base64 PNG), hides inputs and
    prompts, and adds a table of contents. Written atomically.
    """
    import nbformat
    from nbconvert import HTMLExporter

    from .report import atomic_path

    nb = nbformat.read(notebook_path, as_version=4)
    _clean_for_report(nb)
    if title:
        nb.metadata["title"] = title
    exporter = HTMLExporter(
        template_name="kps_report",
        extra_template_basedirs=[str(Path(__file__).parent / "templates")],
    )
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    exporter.embed_images = True
    body, _ = exporter.from_notebook_node(nb, resources={"language_code": language})
    body = add_table_of_contents(body, title=label("contents", language))
    with atomic_path(html_path) as tmp:
        tmp.write_text(body, encoding="utf-8")
    return html_path


def run_clinic(job: dict) -> ClinicResult:
    """Run the report notebook for one clinic (in a worker process) and render it.

    ``job`` holds only identifiers and paths: ``clinic_id``, ``name``, ``notebook``,
    ``clinic_dir``, ``parameters_dir``, ``data_dir``, ``run_id``, ``timeout_seconds``,
    ``language``. Never raises: a failure is returned as ``status="failed"`` with the
    error text; the executed notebook is kept for diagnosis.
    """
    import papermill as pm

    start = time.perf_counter()
    clinic_dir = Path(job["clinic_dir"])
    finished = _finished_clinic(clinic_dir)
    if finished is not None:  # e.g. a Dask task run again after its worker was lost
        return finished
    clinic_dir.mkdir(parents=True, exist_ok=True)
    executed = clinic_dir / "report.ipynb"
    error = None
    # The kernel's and papermill's own stderr chatter goes to a log beside the report
    # (kept only when the clinic fails), so the batch prints one line per clinic.
    log_path = clinic_dir / "run.log"
    log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    saved_stderr = os.dup(2)
    os.dup2(log_fd, 2)
    try:
        pm.execute_notebook(
            job["notebook"],
            str(executed),
            parameters={
                "clinic_id": job["clinic_id"],
                "parameters_dir": job["parameters_dir"],
                "data_dir": job["data_dir"],
                "output_dir": str(clinic_dir),
                "run_id": job["run_id"],
                **{k: job[k] for k in ("model_dir", "previous_tables") if job.get(k)},
            },
            kernel_name="python3",
            progress_bar=False,
            log_output=False,
            cwd=str(clinic_dir),
            execution_timeout=job.get("timeout_seconds"),
        )
    except Exception as exc:  # noqa: BLE001 - any failure of one clinic is reported, not raised
        error = _describe_error(exc)
    finally:
        os.dup2(saved_stderr, 2)
        os.close(saved_stderr)
        os.close(log_fd)
    if error is None:
        log_path.unlink(missing_ok=True)
    if executed.exists():
        try:
            render_html(executed, clinic_dir / "report.html",
                        title=f"{job.get('name') or job['clinic_id']}", language=job.get("language", "sv"))
        except Exception as exc:  # noqa: BLE001
            error = error or _one_line(f"HTML export failed: {exc}")
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
    )
    _write_json(clinic_dir / "status.json", asdict(result))  # last: marks the clinic as finished
    return result


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
            futures = {pool.submit(run_clinic, job): job for job in batch}
            for fut in cf.as_completed(futures):
                job = futures[fut]
                try:
                    yield job, fut.result()
                except cf.process.BrokenProcessPool:
                    broken.append(job)
                except Exception as exc:  # noqa: BLE001 - a failure in the worker fails one clinic
                    yield job, _failed(job["clinic_id"], job["name"], _describe_error(exc))
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
    """A clinic failed outside its worker: its ``status.json`` is written here."""
    result = _failed(job["clinic_id"], job["name"], error)
    clinic_dir = Path(job["clinic_dir"])
    clinic_dir.mkdir(parents=True, exist_ok=True)
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


def _write_json(path: Path, data: dict) -> None:
    from .report import atomic_path

    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str), encoding="utf-8")


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


def _read_spec(partial: Path) -> dict | None:
    try:
        spec = json.loads((partial / RUN_SPEC).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return spec if isinstance(spec, dict) and {"run_id", "clinics", "data_dir", "parameters_dir", "started"} <= set(spec) else None


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


def run(
    *,
    clinics: Sequence[str] | None = None,
    data_dir: str | os.PathLike | None = None,
    parameters_dir: str | os.PathLike = "parameters",
    out_dir: str | os.PathLike = "outputs",
    workers: int | None = None,
    notebook: str | os.PathLike | None = None,
    progress: Callable[[str], None] | None = None,
    resume: str | bool = False,
    scheduler: str | None = None,
    worker_timeout: float = 120.0,
) -> RunResult:
    """Run the clinic report for every (or the given) clinic and write one run folder.

    Parameters
    ----------
    clinics : sequence of str, optional
        Clinic ids (file stems in ``parameters/clinics``); all when omitted.
    data_dir : path, optional
        Folder with the clinics' input files. Omitted: the embedded synthetic demo data,
        generated into ``<out_dir>/demo-data`` when missing or stale.
    parameters_dir : path
        Folder with ``defaults.yaml`` and ``clinics/``.
    out_dir : path
        The run folder is created under it.
    workers : int, optional
        Clinics run in parallel [processes]; default: number of CPUs.
    notebook : path, optional
        Report template; default ``notebooks/clinic_report.ipynb``.
    progress : callable, optional
        Called with one line of text per finished clinic.
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
    root = project_root()
    out_root = Path(out_dir).resolve()
    notebook = Path(notebook) if notebook else root / "notebooks" / "clinic_report.ipynb"
    if not notebook.exists():
        raise ConfigurationError(f"report notebook not found: {notebook}")
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

                data_dir = ensure_demo_data(out_root / "demo-data")
            started = datetime.now(timezone.utc)
        data_dir = Path(data_dir).resolve()
        if not data_dir.is_dir():
            raise ConfigurationError(f"data folder not found: {data_dir}")
        if not resume:
            out_root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigurationError(f"cannot prepare the run under {out_root}: {_io_problem(exc)}") from None
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
            partial, run_id = _new_partial(out_root)
            lock = _acquire_lock(partial, run_id)
            _write_json(partial / RUN_SPEC, {
                "run_id": run_id, "status": "running", "clinics": selected, "data_dir": str(data_dir),
                "parameters_dir": str(parameters_dir), "started": started.isoformat(timespec="seconds")})
        result = _run_in(partial, run_id, selected, started, root=root, out_root=out_root, data_dir=data_dir,
                         parameters_dir=parameters_dir, notebook=notebook, resume=bool(resume),
                         workers=workers, client=client, scheduler=scheduler,
                         worker_timeout=worker_timeout, progress=progress)
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


def _new_partial(out_root: Path) -> tuple[Path, str]:
    """Create ``<out_root>/.<run-id>.partial`` for a new run (never an existing one)."""
    for _ in range(100):
        run_id = _new_run_id(out_root)
        partial = out_root / f".{run_id}.partial"
        try:
            partial.mkdir()
        except FileExistsError:  # another run started in the same second
            time.sleep(0.01)
            continue
        return partial, run_id
    raise ConfigurationError(f"cannot find a free run id under {out_root}")


def _run_in(partial: Path, run_id: str, selected: list[str], started: datetime, *, root: Path, out_root: Path,
            data_dir: Path, parameters_dir: Path, notebook: Path, resume: bool, workers: int | None, client,
            scheduler: str | None, worker_timeout: float, progress: Callable[[str], None]) -> RunResult:
    """Run the clinics into the locked folder ``partial`` and finish the run."""
    from .data import DataError, checked_data_path
    from .parameters import ParameterError, load_parameters

    # Validate every clinic's parameters before any kernel starts.
    jobs, results, param_info, inputs, clinic_params = [], [], {}, {}, {}
    for clinic_id in selected:
        kept = _finished_clinic(partial / clinic_id) if resume else None
        if kept is not None:
            results.append(kept)
            progress(f"{clinic_id}: kept from the interrupted run ({kept.status})")
        elif (partial / clinic_id).exists():
            shutil.rmtree(partial / clinic_id)  # half-written by the interrupted run
        try:
            params = load_parameters(clinic_id, parameters_dir)
        except ParameterError as exc:
            if kept is None:
                results.append(_failed(clinic_id, "", str(exc)))
                progress(f"{clinic_id}: failed before start: {exc}")
            continue
        param_info[clinic_id] = {
            "hash": params.hash,
            "files": {str(p): _sha256(Path(p)) for p in params.source_files},
        }
        for key in ("weekly", "waiting_list"):
            rel = params.data.to_dict().get(key)
            if not rel:
                continue
            try:  # only files inside the data folder are hashed (a link out of it is refused)
                path = checked_data_path(data_dir, rel, key=key)
            except (DataError, OSError):
                continue
            inputs[str(path)] = _sha256(path)
        if kept is not None:
            continue
        clinic_params[clinic_id] = params
        jobs.append({
            "clinic_id": clinic_id,
            "name": params.name,
            "notebook": str(notebook),
            "clinic_dir": str(partial / clinic_id),
            "parameters_dir": str(parameters_dir),
            "data_dir": str(data_dir),
            "run_id": run_id,
            "timeout_seconds": max(1, round(params.timeout_minutes * 60)),
            "language": params.language,
        })

    n_workers = max(1, min(workers or os.cpu_count() or 1, len(jobs) or 1))
    if jobs and _takes_model(notebook):
        _plan_region(jobs, clinic_params, data_dir, out_root, run_id, progress, workers=n_workers)
    done = len(results)
    total = len(selected)
    running = _execute_dask(client, jobs, worker_timeout) if client is not None else _execute_local(jobs, n_workers)
    for job, res in running if jobs else ():
        results.append(res)
        done += 1
        state = "ok" if res.status == "ok" else f"FAILED: {res.error}"
        progress(f"[{done}/{total}] {res.clinic_id} {state} ({res.seconds:.1f} s)")
    missing = sorted(set(selected) - {r.clinic_id for r in results})
    if missing:  # never finalise a run with clinics unrun: --resume must be able to redo them
        raise RunInterrupted(f"clinic(s) {', '.join(missing)} not run")

    region = None
    if any(r.status == "ok" and (partial / r.clinic_id / "tables" / "summary.csv").exists() for r in results):
        region = _run_region(root, partial, run_id, parameters_dir)
    elif any(r.status == "ok" for r in results):  # a report template that writes no tables
        region = {"status": "skipped", "error": "no clinic wrote tables/summary.csv"}
    if region and region.get("status") == "failed":
        progress(f"region overview FAILED: {region.get('error')}")
    order = {c: i for i, c in enumerate(selected)}
    results.sort(key=lambda r: order[r.clinic_id])
    finished = datetime.now(timezone.utc)
    manifest = {
        "run_id": run_id,
        "package": "kps-analysis",
        "package_version": __version__,
        "git_commit": _git_commit(root),
        "started": started.isoformat(timespec="seconds"),
        "finished": finished.isoformat(timespec="seconds"),
        "data_dir": str(data_dir),
        "parameters_dir": str(parameters_dir),
        "parameters": param_info,
        "inputs": inputs,
        "clinics": {r.clinic_id: {"status": r.status, "seconds": r.seconds, "error": r.error}
                    for r in results},
        "region_overview": region,
        "executor": f"dask:{scheduler}" if scheduler else f"processes:{n_workers}",
        "status": "complete",
    }
    write_index(partial, run_id, results, language=_language(parameters_dir), region=region)
    _write_json(partial / "manifest.json", manifest)
    spec = json.loads((partial / RUN_SPEC).read_text(encoding="utf-8"))
    _write_json(partial / RUN_SPEC, spec | {"status": "complete", "finished": manifest["finished"]})
    final = out_root / run_id
    os.replace(partial, final)
    return RunResult(run_id=run_id, run_dir=final, results=results, region=region)


def _takes_model(notebook: Path) -> bool:
    """True when the report template has a ``model_dir`` parameter (a custom one may not)."""
    try:
        import papermill as pm

        return "model_dir" in pm.inspect_notebook(str(notebook))
    except Exception:  # noqa: BLE001 - an unreadable template fails in its own run, with its message
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
                 progress: Callable[[str], None], *, workers: int = 1) -> None:
    """Compute once: every clinic's planning model in one pass, stored for its notebook to show.

    Loads each clinic's data, finds the previous run's plan (its fixed weeks are kept),
    runs :func:`kps_analysis.planning.plan_region` over all clinics at once (moves of
    common waiting lists in both plans) and writes each clinic's part with
    :func:`kps_analysis.store.write_model`; the job then carries ``model_dir`` (and
    ``previous_tables``). A clinic whose data cannot be read is left to its notebook,
    which reports the problem; if the region's pass fails, every notebook computes its
    own clinic (one line says so).
    """
    import pandas as pd

    from .data import load_clinic
    from .planning import plan_region
    from .report_plan import read_previous
    from .store import write_model

    weekly, extracts, params, plans, histories = [], [], [], [], []
    for job in jobs:
        p = clinic_params[job["clinic_id"]]
        try:
            clinic = load_clinic(p, data_dir)
        except Exception:  # noqa: BLE001 - the clinic's notebook reports its own data problem
            continue
        weekly.append(clinic.weekly)
        if clinic.waiting_list is not None:
            extracts.append(clinic.waiting_list)
        params.append(p)
        previous = _previous_tables(out_root, run_id, p.clinic_id)
        if previous is not None:
            job["previous_tables"] = str(previous)
            try:
                plan, history = read_previous(previous)
            except (OSError, ValueError):
                plan = history = None
            plans += [plan] if plan is not None else []
            histories += [history] if history is not None else []
    if not params:
        return
    progress(f"planning model: {len(params)} clinic(s) in one pass")
    parts = min(workers, len(params))
    try:
        pool = _local_pool(parts) if parts > 1 else None
        try:
            model = plan_region(pd.concat(weekly, ignore_index=True),
                                pd.concat(extracts, ignore_index=True) if extracts else None, params,
                                fixed_plans=pd.concat(plans, ignore_index=True) if plans else None,
                                histories=pd.concat(histories, ignore_index=True) if histories else None,
                                executor=pool, parts_hint=parts)
        finally:
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
        planned = set(model.settings["clinic"])
        for job in jobs:
            if job["clinic_id"] in planned:
                folder = Path(job["clinic_dir"]) / "model"
                write_model(model.for_clinic(job["clinic_id"]), folder)
                job["model_dir"] = str(folder)
    except Exception as exc:  # noqa: BLE001 - each notebook then computes its own clinic
        progress(f"planning model of the region failed ({_one_line(_describe_error(exc), 200)}); "
                 "each clinic is planned on its own")
        for job in jobs:
            job.pop("model_dir", None)


def _run_region(root: Path, run_dir: Path, run_id: str, parameters_dir: Path) -> dict:
    """Run ``notebooks/region_overview.ipynb`` on the run's clinic tables -> ``region/overview.html``.

    A failure here is recorded in the manifest and the index and fails the run (exit
    status 1); it does not fail the clinics.
    """
    notebook = root / "notebooks" / "region_overview.ipynb"
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
    return {"status": "failed", "error": error, "seconds": round(time.perf_counter() - start, 2)}


def _region_job(job: dict) -> dict:
    import papermill as pm

    region_dir = Path(job["run_dir"]) / "region"
    region_dir.mkdir(parents=True, exist_ok=True)
    executed = region_dir / "overview.ipynb"
    start = time.perf_counter()
    log_fd = os.open(region_dir / "run.log", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    saved = os.dup(2)
    os.dup2(log_fd, 2)
    error = None
    try:
        pm.execute_notebook(job["notebook"], str(executed),
                            parameters={"run_dir": job["run_dir"], "language": job["language"],
                                        "parameters_dir": job["parameters_dir"]},
                            kernel_name="python3", progress_bar=False, log_output=False, cwd=str(region_dir))
        render_html(executed, region_dir / "overview.html", title="Regionöversikt", language=job["language"])
    except Exception as exc:  # noqa: BLE001 - reported in the manifest
        error = _describe_error(exc)
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(log_fd)
    if error is None:
        (region_dir / "run.log").unlink(missing_ok=True)
    return {"status": "ok" if error is None else "failed", "error": error,
            "seconds": round(time.perf_counter() - start, 2)}


def _language(parameters_dir: Path) -> str:
    """The report language of ``defaults.yaml``, read through the bounded parameter loader."""
    try:
        from .parameters import region_settings

        return region_settings(parameters_dir)["language"]
    except Exception:  # noqa: BLE001 - the index falls back to Swedish
        return "sv"


def _headline_cell(key: str, value, language: str) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "–"
    if key == "escalation":
        return f'<span class="status-{escape_text(value)}">{escape_text(value)}</span>'
    if key == "share_over_90_days":
        return format_count(100 * float(value), language=language, decimals=1) + " %"
    if key == "queue_production_ratio_weeks":
        return format_count(float(value), language=language, decimals=1)
    return format_count(float(value), language=language)


def write_index(run_dir: Path, run_id: str, results: Sequence[ClinicResult], *,
                language: str = "sv", region: dict | None = None) -> Path:
    """Write ``index.html``: every clinic with its status, headline figures and a link,
    and the region overview (its link, or its failure).

    Self-contained (inline style only, no script), so it opens offline. Every text that
    comes from parameters, data or an error goes through :func:`report.escape_text`;
    links are built from URL-quoted clinic ids.
    """
    from .report import atomic_path

    rows = []
    for r in results:
        name = escape_text(r.name or r.clinic_id)
        link = (f'<a href="{urllib.parse.quote(r.clinic_id, safe="")}/report.html">{name}</a>'
                if (run_dir / r.clinic_id / "report.html").exists() else name)
        status = label("ok" if r.status == "ok" else "failed", language)
        cells = "".join(f"<td>{_headline_cell(k, r.summary.get(k), language)}</td>" for k in HEADLINE_COLUMNS)
        err = f'<div class="err">{escape_text(r.error)}</div>' if r.error else ""
        row_class = "ok" if r.status == "ok" else "failed"
        rows.append(f'<tr class="{row_class}"><td>{link}{err}</td><td><code>{escape_text(r.clinic_id)}</code></td>'
                    f"<td>{status}</td>{cells}</tr>")
    head = "".join(f"<th>{escape_text(label(k, language))}</th>" for k in HEADLINE_COLUMNS)
    n_failed = sum(r.status != "ok" for r in results)
    overview = ""
    if region and region.get("status") == "failed":
        overview = (f'<p class="failed">{escape_text(label("region_overview", language))}: '
                    f'{escape_text(label("failed", language))}'
                    f'<span class="err"> {escape_text(region.get("error"))}</span></p>')
    elif (run_dir / "region" / "overview.html").exists():
        overview = f'<p><a href="region/overview.html">{escape_text(label("region_overview", language))}</a></p>'
    title = f"{escape_text(label('run_title', language))} {escape_text(run_id)}"
    page = f"""<!DOCTYPE html>
<html lang="{escape_text(language)}"><head><meta charset="utf-8">
<title>{title}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; }}
table {{ border-collapse: collapse; }} th, td {{ border: 1px solid #bbb; padding: 4px 8px; text-align: left; }}
tr.failed td, p.failed {{ background: #f8cfcf; }} .err {{ font-size: 85%; color: #700; }}
.status-green {{ background: #d7f0d7; }} .status-yellow {{ background: #fff1b8; }} .status-red {{ background: #f8cfcf; }}
</style></head><body>
<h1>{title}</h1>
<p>{len(results) - n_failed} / {len(results)} {label('ok', language)}{'' if not n_failed else f', {n_failed} ' + label('failed', language)}.</p>
{overview}
<table><thead><tr><th>{label('clinic', language)}</th><th>id</th><th>{label('status', language)}</th>{head}</tr></thead>
<tbody>{''.join(rows)}</tbody></table>
<p><small>kps-analysis {__version__} · <a href="manifest.json">manifest.json</a></small></p>
</body></html>
"""
    path = run_dir / "index.html"
    with atomic_path(path) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return path


def result_table(results: Sequence[ClinicResult]) -> pd.DataFrame:
    """The run's results as a frame (one row per clinic), e.g. for printing."""
    return pd.DataFrame([asdict(r) | {"summary": None} for r in results]).drop(columns="summary")
