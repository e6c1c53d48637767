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
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import html
import json
import multiprocessing
import os
import shutil
import subprocess
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Sequence

import pandas as pd

from . import __version__
from .report import add_table_of_contents, format_count, label

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

    @property
    def failed(self) -> list[ClinicResult]:
        return [r for r in self.results if r.status != "ok"]

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0


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
            error = error or f"HTML export failed: {exc}"
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


def _execute(jobs: list[dict], n_workers: int, scheduler: str | None):
    """Run the clinic jobs in parallel; yield ``(job, ClinicResult)`` as each finishes.

    Local processes (spawned, so each kernel is started from a clean interpreter), or a
    Dask distributed cluster when ``scheduler`` is given. A worker that crashes fails
    its clinic only.
    """
    if not jobs:
        return
    if scheduler:
        try:
            from distributed import Client, as_completed
        except ImportError:
            raise ConfigurationError("--scheduler needs Dask: pip install 'kps-analysis[dask]'") from None
        try:
            client = Client(scheduler, timeout="10s")
        except OSError as exc:
            raise ConfigurationError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
        with client:
            futures = {client.submit(run_clinic, job, key=f"kps-{job['run_id']}-{job['clinic_id']}"): job
                       for job in jobs}
            for fut in as_completed(list(futures)):
                job = futures[fut]
                try:
                    yield job, fut.result()
                except Exception as exc:  # noqa: BLE001 - a lost worker fails one clinic
                    yield job, _failed(job["clinic_id"], job["name"], _describe_error(exc))
        return
    ctx = multiprocessing.get_context("spawn")
    with cf.ProcessPoolExecutor(max_workers=n_workers, mp_context=ctx) as pool:
        futures = {pool.submit(run_clinic, job): job for job in jobs}
        for fut in cf.as_completed(futures):
            job = futures[fut]
            try:
                yield job, fut.result()
            except Exception as exc:  # noqa: BLE001 - a crashed worker fails one clinic
                yield job, _failed(job["clinic_id"], job["name"], _describe_error(exc))


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


def _find_partial(out_root: Path, resume: str | bool) -> tuple[Path, dict]:
    """The interrupted run folder to resume and its run spec."""
    if resume is True:
        candidates = sorted(out_root.glob(".*.partial")) if out_root.is_dir() else []
        if not candidates:
            raise ConfigurationError(f"no interrupted run (.<run-id>.partial) under {out_root}")
        partial = candidates[-1]
    else:
        partial = out_root / f".{resume}.partial"
        if not partial.is_dir():
            raise ConfigurationError(f"no interrupted run {resume!r} under {out_root}")
    try:
        spec = json.loads((partial / RUN_SPEC).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"{partial / RUN_SPEC}: cannot read the run spec ({exc})") from None
    return partial, spec


def _finished_clinic(clinic_dir: Path) -> ClinicResult | None:
    """The result of a clinic that finished before the run was interrupted, else None."""
    try:
        data = json.loads((clinic_dir / "status.json").read_text(encoding="utf-8"))
        return ClinicResult(**data)
    except (OSError, ValueError, TypeError):
        return None


def _describe_error(exc: Exception) -> str:
    """A one-line description of a notebook failure (the user-facing error, not a trace)."""
    if "timeout" in type(exc).__name__.lower() or "timed out" in str(exc).lower():
        return f"timed out: a step took longer than the clinic's time limit (timeout_minutes) ({exc})"
    ename = getattr(exc, "ename", None)
    evalue = getattr(exc, "evalue", None)
    if ename:
        return f"{ename}: {evalue}"
    return f"{type(exc).__name__}: {exc}".strip()


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
        the clinics, data and parameter folders recorded when the run started.

    Returns
    -------
    RunResult
        ``exit_code`` 0 when every clinic succeeded, 1 otherwise.

    Raises
    ------
    ConfigurationError
        For a usage or configuration error: nothing is run.
    """
    from .parameters import ParameterError, load_parameters

    progress = progress or (lambda line: None)
    root = project_root()
    out_root = Path(out_dir).resolve()
    notebook = Path(notebook) if notebook else root / "notebooks" / "clinic_report.ipynb"
    if not notebook.exists():
        raise ConfigurationError(f"report notebook not found: {notebook}")
    if resume:
        partial, spec = _find_partial(out_root, resume)
        run_id, selected = spec["run_id"], list(spec["clinics"])
        data_dir, parameters_dir = Path(spec["data_dir"]), Path(spec["parameters_dir"])
        started = datetime.fromisoformat(spec["started"])
        if not (parameters_dir / "defaults.yaml").exists():
            raise ConfigurationError(f"{parameters_dir / 'defaults.yaml'}: parameter defaults not found")
    else:
        parameters_dir = Path(parameters_dir).resolve()
        selected = _select_clinics(parameters_dir, clinics)
        if data_dir is None:
            from .demo import ensure_demo_data

            data_dir = ensure_demo_data(out_root / "demo-data")
        out_root.mkdir(parents=True, exist_ok=True)
        run_id = _new_run_id(out_root)
        partial = out_root / f".{run_id}.partial"
        started = datetime.now(timezone.utc)
    data_dir = Path(data_dir).resolve()
    if not data_dir.is_dir():
        raise ConfigurationError(f"data folder not found: {data_dir}")
    if not resume:
        partial.mkdir()
        _write_json(partial / RUN_SPEC, {
            "run_id": run_id, "status": "running", "clinics": selected, "data_dir": str(data_dir),
            "parameters_dir": str(parameters_dir), "started": started.isoformat(timespec="seconds")})

    # Validate every clinic's parameters before any kernel starts.
    jobs, results, param_info, inputs = [], [], {}, {}
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
        for rel in params.data.to_dict().values():
            path = data_dir / rel
            if path.is_file():
                inputs[str(path)] = _sha256(path)
        if kept is not None:
            continue
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
    done = len(results)
    total = len(selected)
    for job, res in _execute(jobs, n_workers, scheduler):
        results.append(res)
        done += 1
        state = "ok" if res.status == "ok" else f"FAILED: {res.error}"
        progress(f"[{done}/{total}] {res.clinic_id} {state} ({res.seconds:.1f} s)")

    region = _run_region(root, partial, run_id, parameters_dir) if any(r.status == "ok" for r in results) else None
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
    write_index(partial, run_id, results, language=_language(parameters_dir))
    (partial / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False),
                                           encoding="utf-8")
    spec = json.loads((partial / RUN_SPEC).read_text(encoding="utf-8"))
    _write_json(partial / RUN_SPEC, spec | {"status": "complete", "finished": manifest["finished"]})
    final = out_root / run_id
    os.replace(partial, final)
    return RunResult(run_id=run_id, run_dir=final, results=results)


def _run_region(root: Path, run_dir: Path, run_id: str, parameters_dir: Path) -> dict:
    """Run ``notebooks/region_overview.ipynb`` on the run's clinic tables -> ``region/overview.html``.

    A failure here is recorded in the manifest; it does not fail the clinics.
    """
    notebook = root / "notebooks" / "region_overview.ipynb"
    if not notebook.exists():
        return {"status": "skipped", "error": f"{notebook} not found"}
    job = {"notebook": str(notebook), "run_dir": str(run_dir), "run_id": run_id,
           "language": _language(parameters_dir), "parameters_dir": str(parameters_dir)}
    ctx = multiprocessing.get_context("spawn")
    with cf.ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
        return pool.submit(_region_job, job).result()


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
    try:
        import yaml

        return (yaml.safe_load((parameters_dir / "defaults.yaml").read_text(encoding="utf-8"))
                or {}).get("language", "sv")
    except Exception:  # noqa: BLE001 - the index falls back to Swedish
        return "sv"


def _headline_cell(key: str, value, language: str) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "–"
    if key == "escalation":
        return f'<span class="status-{html.escape(str(value))}">{html.escape(str(value))}</span>'
    if key == "share_over_90_days":
        return format_count(100 * float(value), language=language, decimals=1) + " %"
    if key == "queue_production_ratio_weeks":
        return format_count(float(value), language=language, decimals=1)
    return format_count(float(value), language=language)


def write_index(run_dir: Path, run_id: str, results: Sequence[ClinicResult], *,
                language: str = "sv") -> Path:
    """Write ``index.html``: every clinic with its status, headline figures and a link.

    Self-contained (inline style only, no script), so it opens offline.
    """
    from .report import atomic_path

    rows = []
    for r in results:
        link = (f'<a href="{html.escape(r.clinic_id)}/report.html">{html.escape(r.name or r.clinic_id)}</a>'
                if (run_dir / r.clinic_id / "report.html").exists()
                else html.escape(r.name or r.clinic_id))
        status = label("ok" if r.status == "ok" else "failed", language)
        cells = "".join(f"<td>{_headline_cell(k, r.summary.get(k), language)}</td>" for k in HEADLINE_COLUMNS)
        err = f'<div class="err">{html.escape(r.error)}</div>' if r.error else ""
        rows.append(f'<tr class="{r.status}"><td>{link}{err}</td><td><code>{html.escape(r.clinic_id)}</code></td>'
                    f"<td>{status}</td>{cells}</tr>")
    head = "".join(f"<th>{html.escape(label(k, language))}</th>" for k in HEADLINE_COLUMNS)
    n_failed = sum(r.status != "ok" for r in results)
    overview = ""
    if (run_dir / "region" / "overview.html").exists():
        overview = f'<p><a href="region/overview.html">{label("region_overview", language)}</a></p>'
    page = f"""<!DOCTYPE html>
<html lang="{language}"><head><meta charset="utf-8">
<title>{label('run_title', language)} {html.escape(run_id)}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; }}
table {{ border-collapse: collapse; }} th, td {{ border: 1px solid #bbb; padding: 4px 8px; text-align: left; }}
tr.failed td {{ background: #f8cfcf; }} .err {{ font-size: 85%; color: #700; }}
.status-green {{ background: #d7f0d7; }} .status-yellow {{ background: #fff1b8; }} .status-red {{ background: #f8cfcf; }}
</style></head><body>
<h1>{label('run_title', language)} {html.escape(run_id)}</h1>
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
