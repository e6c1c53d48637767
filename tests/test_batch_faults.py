"""Batch faults: `kps run` fails well (issue 12, item 4) and resumes what was cut off.

Each test names a fault and asserts its exact behaviour: the exit status, the one line it
prints, what is left on disk. Where a test needs a kernel it runs a stand-in report template
(:func:`batch_helpers.quick_notebook`); the tests that start kernels or clusters are marked slow. Split
from ``test_batch.py`` (the end-to-end reports) so the two halves run on separate test
workers.
"""

import html
import json
import os
import re
import shutil
from pathlib import Path

import pytest
from batch_helpers import STEP_LINE, Page, clinic_lines, quick_notebook, small_region

from kps_analysis import batch, cli

ROOT = Path(__file__).resolve().parent.parent
PARAMS = ROOT / "parameters"
slow = pytest.mark.slow


@slow
def test_killed_run_is_left_incomplete_and_resume_finishes_only_the_missing(tmp_path, demo_dir_current):
    import signal
    import subprocess
    import sys
    import time


    data = demo_dir_current
    out = tmp_path / "out"
    previous = out / "20000101-000000"  # an earlier run's folder must stay untouched
    previous.mkdir(parents=True)
    (previous / "index.html").write_text("earlier run")
    notebook = quick_notebook(tmp_path / "quick.ipynb")
    cmd = [sys.executable, "-m", "kps_analysis", "run", "--clinic", "hud", "--clinic", "gyn",
           "--workers", "1", "--data", str(data), "--parameters", str(PARAMS), "--out", str(out),
           "--notebook", str(notebook)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 240
    while time.time() < deadline and not list(out.glob(".*.partial/*/status.json")):
        time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGKILL)  # the whole run: runner, worker, kernel
    proc.wait()
    partial = list(out.glob(".*.partial"))
    assert len(partial) == 1, "the killed run is recognisable as incomplete"
    spec = json.loads((partial[0] / "run.json").read_text())
    assert spec["status"] == "running" and spec["clinics"] == ["hud", "gyn"]
    finished = [p.parent.name for p in partial[0].glob("*/status.json")]
    assert len(finished) == 1
    first_report = partial[0] / finished[0] / "report.html"
    stamp = first_report.stat().st_mtime_ns
    assert (previous / "index.html").read_text() == "earlier run"

    result = batch.run(out_dir=out, resume=True, workers=1, notebook=notebook)
    assert result.exit_code == 0
    assert [r.clinic_id for r in result.results] == ["hud", "gyn"]
    assert not list(out.glob(".*.partial"))
    assert (result.run_dir / finished[0] / "report.html").stat().st_mtime_ns == stamp  # not re-run
    assert all((result.run_dir / c / "report.html").exists() for c in ("hud", "gyn"))
    assert (previous / "index.html").read_text() == "earlier run"
    with pytest.raises(batch.ConfigurationError, match="no interrupted run"):
        batch.run(out_dir=out, resume=True)


@slow
def test_a_raising_and_a_hanging_clinic_fail_alone(tmp_path, demo_dir_current):
    params = tmp_path / "parameters"
    shutil.copytree(PARAMS, params)
    defaults = params / "defaults.yaml"
    defaults.write_text(re.sub(r"(?m)^timeout_minutes:.*$", "timeout_minutes: 0.1", defaults.read_text()))
    notebook = quick_notebook(tmp_path / "faulty.ipynb", "import os, pathlib, time\n"
                               "from IPython.display import Markdown, display\n"
                               "display(Markdown('## Sammanfattning'))\n"
                               "pathlib.Path(output_dir, 'blas.txt').write_text(os.environ['OPENBLAS_NUM_THREADS'])\n"
                               "if clinic_id == 'hud':\n    time.sleep(600)\n"
                               "if clinic_id == 'gyn':\n    raise RuntimeError('gyn is broken')\n")

    lines = []
    result = batch.run(clinics=["hud", "gyn", "uro"], data_dir=demo_dir_current,
                       parameters_dir=params, out_dir=tmp_path / "out", workers=2, notebook=notebook,
                       progress=lines.append)
    status = {r.clinic_id: (r.status, r.error or "") for r in result.results}
    assert status["uro"] == ("ok", "")
    assert status["gyn"][0] == "failed" and "RuntimeError: gyn is broken" in status["gyn"][1]
    assert status["hud"][0] == "failed" and "timed out" in status["hud"][1]
    assert result.exit_code == 1
    assert max(r.seconds for r in result.results) < 120  # the hang was cut off

    # a failure is a short page saying what to do; its stack trace is in run.log (issue 13, item 3)
    page_text = (result.run_dir / "gyn" / "report.html").read_text(encoding="utf-8")
    page = Page(page_text)
    assert "Traceback" not in page_text and "File " not in page_text and "\x1b" not in page_text
    assert "RuntimeError: gyn is broken" in page.visible
    assert "Vad misslyckades" in page.visible and "Gör så här" in page.visible
    assert "analysen: avsnittet ”Sammanfattning” (kodcell 2 i rapportmallen)" in page.visible
    assert "kps run --clinic gyn" in page.visible and '<html lang="sv">' in page_text
    assert "raise RuntimeError" in (result.run_dir / "gyn" / "run.log").read_text(encoding="utf-8")
    assert "timeout_minutes" in Page((result.run_dir / "hud" / "report.html").read_text(encoding="utf-8")).visible
    assert not (result.run_dir / "uro" / "run.log").exists()
    index = Page((result.run_dir / "index.html").read_text(encoding="utf-8"))
    assert index.visible.index("Urologiska") > max(index.visible.index(n) for n in ("Hudkliniken", "Gynekologiska"))
    manifest = json.loads((result.run_dir / "manifest.json").read_text())
    assert manifest["clinics"]["gyn"]["step"] == "analysis" and manifest["clinics"]["hud"]["step"] == "timeout"
    # one BLAS thread in every kernel (issue 15, item 2); the steps named, the time left per clinic
    assert {(result.run_dir / c / "blas.txt").read_text() for c in ("hud", "gyn", "uro")} == {"1"}
    assert [STEP_LINE.match(x).group(1) for x in lines if STEP_LINE.match(x)] == ["notebooks", "index"]
    finished = clinic_lines("\n".join(lines))
    # the time left in seconds, or minutes on a loaded machine (batch._duration)
    assert re.fullmatch(r"\[1/3\] \w+ .*; about \d+ (s|min) left", finished[0])
    assert finished[2].startswith("[3/3]")


@slow
def test_dask_scheduler_runs_the_clinics(tmp_path, demo_dir_current):
    distributed = pytest.importorskip("distributed")

    # one worker process runs both clinics in turn (an unreachable scheduler:
    # test_an_unreachable_scheduler_ends_in_one_line_and_leaves_nothing)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        result = batch.run(clinics=["hud", "gyn"], data_dir=demo_dir_current, parameters_dir=PARAMS,
                           out_dir=tmp_path / "out", scheduler=cluster.scheduler_address,
                           notebook=quick_notebook(tmp_path / "quick.ipynb", "pass"))
    assert result.exit_code == 0
    assert all((result.run_dir / c / "report.ipynb").exists() for c in ("hud", "gyn"))
    manifest = json.loads((result.run_dir / "manifest.json").read_text())
    assert manifest["executor"].startswith("dask:tcp://127.0.0.1")


def _partial_run(out, run_id="20990101-000000", lock=None):
    partial = out / f".{run_id}.partial"
    partial.mkdir(parents=True)
    (partial / "run.json").write_text(json.dumps({
        "run_id": run_id, "status": "running", "clinics": ["hud"], "data_dir": str(out),
        "parameters_dir": str(PARAMS), "started": "2099-01-01T00:00:00+00:00"}))
    (partial / "hud").mkdir()
    (partial / "hud" / "report.ipynb").write_text("being written")
    if lock is not None:
        (partial / "lock.json").write_text(json.dumps(lock))
    return partial


def test_resume_of_a_live_run_is_refused_naming_it(tmp_path, capsys):
    import socket
    import subprocess
    import sys

    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        partial = _partial_run(tmp_path / "out", lock={"pid": live.pid, "host": socket.gethostname()})
        before = sorted(p.relative_to(partial) for p in partial.rglob("*"))
        for argv in (["--resume"], ["--resume", "20990101-000000"]):
            code = cli.main(["run", *argv, "--out", str(tmp_path / "out")])
            err = capsys.readouterr().err
            assert code == 2
            assert err.count("\n") == 1
            assert err.startswith(f"kps run: run 20990101-000000 is in use by process {live.pid} on "
                                  f"{socket.gethostname()}")
        # nothing taken over: the clinic being written is still there, the lock is the live run's
        assert sorted(p.relative_to(partial) for p in partial.rglob("*")) == before
        assert (partial / "hud" / "report.ipynb").read_text() == "being written"
        assert json.loads((partial / "lock.json").read_text())["pid"] == live.pid
    finally:
        live.kill()
        live.wait()


def test_a_lock_of_another_host_is_respected_and_a_dead_pid_is_stale(tmp_path):
    import subprocess
    import sys

    other = _partial_run(tmp_path / "a", lock={"pid": 1, "host": "another-host.example"})
    with pytest.raises(batch.ConfigurationError, match="in use by process 1 on another-host.example"):
        batch._acquire_lock(other, "20990101-000000")

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    import socket

    stale = _partial_run(tmp_path / "b", lock={"pid": gone.pid, "host": socket.gethostname()})
    path = batch._acquire_lock(stale, "20990101-000000")
    assert json.loads(path.read_text())["pid"] == __import__("os").getpid()
    batch._release_lock(path)
    assert not path.exists()


def test_bare_resume_skips_folders_that_never_were_a_run(tmp_path, capsys):
    out = tmp_path / "out"
    (out / ".20990101-000001.partial").mkdir(parents=True)  # no run spec: never a run
    assert cli.main(["run", "--resume", "--out", str(out)]) == 2
    assert capsys.readouterr().err == f"kps run: no interrupted run (.<run-id>.partial) under {out}\n"


def _quiet_run_args(tmp_path, data, notebook_code="pass"):
    return ["run", "--clinic", "hud", "--data", str(data),
            "--parameters", str(PARAMS), "--out", str(tmp_path / "out"), "--workers", "1",
            "--notebook", str(quick_notebook(tmp_path / "quick.ipynb", notebook_code))]


def _left_in(out):
    return sorted(p.name for p in out.iterdir()) if out.exists() else []


def test_disk_full_at_the_start_ends_in_one_line_and_leaves_nothing(tmp_path, capsys, monkeypatch, demo_dir_current):
    import errno

    args = _quiet_run_args(tmp_path, demo_dir_current)

    def full(path, data):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(batch, "_write_json", full)
    assert cli.main(args) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1
    assert re.fullmatch(r"kps run: no space left on the device: .*/run\.json; run \d{8}-\d{6} abandoned, "
                        r"its folder was removed", err[0]), err
    assert _left_in(tmp_path / "out") == []  # no .partial for --resume to pick up


def test_read_only_out_ends_in_one_line(tmp_path, capsys, monkeypatch, demo_dir_current):
    import errno
    import pathlib

    args = _quiet_run_args(tmp_path, demo_dir_current)
    out = tmp_path / "out"
    real_mkdir = pathlib.Path.mkdir

    def read_only(self, *a, **kw):
        if str(self).startswith(str(out)):
            raise OSError(errno.EROFS, "Read-only file system", str(self))
        return real_mkdir(self, *a, **kw)

    monkeypatch.setattr(pathlib.Path, "mkdir", read_only)
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert err == f"kps run: cannot prepare the run under {out}: read-only file system: {out}\n"
    assert not out.exists()


@pytest.mark.skipif(__import__("os").geteuid() == 0 if hasattr(__import__("os"), "geteuid") else True,
                    reason="root writes into a read-only folder")
def test_a_read_only_out_folder_ends_in_one_line(tmp_path, capsys, demo_dir_current):
    args = _quiet_run_args(tmp_path, demo_dir_current)
    out = tmp_path / "out"
    out.mkdir()
    out.chmod(0o555)
    try:
        assert cli.main(args) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"kps run: cannot create the run folder under {out}: permission denied")
        assert err.count("\n") == 1 and _left_in(out) == []
    finally:
        out.chmod(0o755)


def test_an_unreachable_scheduler_ends_in_one_line_and_leaves_nothing(tmp_path, capsys, demo_dir_current):
    pytest.importorskip("distributed")
    args = _quiet_run_args(tmp_path, demo_dir_current) + ["--scheduler", "tcp://127.0.0.1:9"]
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("kps run: cannot reach the Dask scheduler at tcp://127.0.0.1:9: ")
    assert err.count("\n") == 1
    assert _left_in(tmp_path / "out") == []
    assert cli.main(["run", "--resume", "--out", str(tmp_path / "out")]) == 2  # nothing to resume


@slow
def test_disk_full_at_the_end_ends_in_one_line_and_leaves_nothing(tmp_path, capsys, monkeypatch, demo_dir_current):
    import errno

    def full(run_dir, *a, **kw):
        raise OSError(errno.ENOSPC, "No space left on device", str(run_dir / "index.html"))

    monkeypatch.setattr(batch, "write_index", full)
    assert cli.main(_quiet_run_args(tmp_path, demo_dir_current)) == 2
    err = clinic_lines(capsys.readouterr().err)
    assert err[0].startswith("[1/1] hud ok")
    assert len(err) == 2 and "Traceback" not in err[1]
    assert re.fullmatch(r"kps run: no space left on the device: .*/index\.html; run \d{8}-\d{6} abandoned, "
                        r"its folder was removed", err[1]), err
    assert _left_in(tmp_path / "out") == []


@slow
def test_a_dead_worker_fails_only_its_clinic(tmp_path, demo_dir_current):
    """The kernel of gyn kills its worker process (as the OOM killer would): the pool is
    recreated, hud and uro finish, gyn fails with a message, and the run is complete."""

    notebook = quick_notebook(tmp_path / "killer.ipynb", "import os, signal, time\n"
                               "if clinic_id == 'gyn':\n    os.kill(os.getppid(), signal.SIGKILL)\n"
                               "time.sleep(2)\n")
    result = batch.run(clinics=["hud", "gyn", "uro"], data_dir=demo_dir_current,
                       parameters_dir=PARAMS, out_dir=tmp_path / "out", workers=2, notebook=notebook)
    status = {r.clinic_id: (r.status, r.error) for r in result.results}
    assert status == {"hud": ("ok", None), "uro": ("ok", None), "gyn": ("failed", batch.WORKER_DIED)}
    assert result.exit_code == 1
    manifest = json.loads((result.run_dir / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    assert {c: v["status"] for c, v in manifest["clinics"].items()} == {"hud": "ok", "gyn": "failed", "uro": "ok"}
    assert json.loads((result.run_dir / "gyn" / "status.json").read_text())["error"] == batch.WORKER_DIED
    assert all((result.run_dir / c / "report.html").exists() for c in ("hud", "uro"))
    assert "worker process running this clinic died" in html.unescape(
        (result.run_dir / "index.html").read_text(encoding="utf-8"))
    assert not (result.run_dir / "lock.json").exists()


def _alive(pid):
    return batch._process_alive(pid)


@slow
def test_killing_the_parent_takes_its_workers_and_kernels_with_it(tmp_path, demo_dir_current):
    import signal
    import subprocess
    import sys
    import time

    args = _quiet_run_args(tmp_path, demo_dir_current, "import os, pathlib, time\n"
                           "pathlib.Path(output_dir, '..', '..', 'pids').write_text(f'{os.getppid()} {os.getpid()}')\n"
                           "time.sleep(120)\n"
                           "pathlib.Path(output_dir, 'late').write_text('written after the parent died')\n")
    proc = subprocess.Popen([sys.executable, "-m", "kps_analysis", *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    pids = tmp_path / "out" / "pids"
    try:
        deadline = time.time() + 120
        while time.time() < deadline and not pids.exists():
            time.sleep(0.3)
        worker, kernel = map(int, pids.read_text().split())
        assert _alive(worker) and _alive(kernel)
        os.kill(proc.pid, signal.SIGKILL)  # the kps process only
        proc.wait()
        deadline = time.time() + 15
        while time.time() < deadline and (_alive(worker) or _alive(kernel)):
            time.sleep(0.3)
        assert not _alive(worker), "the worker outlived the kps process"
        assert not _alive(kernel), "the kernel outlived its worker"
        partial = list((tmp_path / "out").glob(".*.partial"))
        assert len(partial) == 1 and not list(partial[0].glob("*/status.json"))
        assert not list(partial[0].rglob("late"))
        # its lock is stale now: the run can be resumed (here: just the lock is taken over)
        lock = batch._acquire_lock(partial[0], partial[0].name)
        batch._release_lock(lock)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


@slow
def test_a_failing_region_overview_fails_the_run(tmp_path, capsys, demo_dir_current):
    # the stand-in template writes a summary.csv; the project's own region overview fails on it
    code = ("import pathlib\np = pathlib.Path(output_dir, 'tables')\np.mkdir(exist_ok=True)\n"
            "(p / 'summary.csv').write_text('clinic\\n' + clinic_id + '\\n')\n")
    project = tmp_path / "project"
    (project / "parameters").mkdir(parents=True)
    (project / "notebooks").mkdir()
    shutil.copy(PARAMS / "defaults.yaml", project / "parameters")
    quick_notebook(project / "notebooks" / "region_overview.ipynb",
                    "from IPython.display import Markdown, display\n"
                    "display(Markdown('## Regionen totalt'))\nraise KeyError('period_ahead')\n")
    assert cli.main(_quiet_run_args(tmp_path, demo_dir_current, code) + ["--project", str(project)]) == 1
    captured = capsys.readouterr()
    assert "failed: region overview: " in captured.err
    assert re.match(r"1/1 clinics ok, region overview FAILED\. Report index: ", captured.out)
    run_dir = next(p for p in (tmp_path / "out").iterdir() if p.name[0].isdigit())
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["clinics"]["hud"]["status"] == "ok"
    assert manifest["region_overview"]["status"] == "failed"
    index = Page((run_dir / "index.html").read_text(encoding="utf-8"))
    assert "Regionöversikt: misslyckades" in index.visible
    page = (run_dir / "region" / "overview.html").read_text(encoding="utf-8")  # what to do, no stack trace
    assert "Regionöversikten kunde inte tas fram" in page and "Traceback" not in page
    assert "KeyError: &#39;period_ahead&#39;" in page or "KeyError: 'period_ahead'" in html.unescape(page)
    assert "avsnittet ”Regionen totalt”" in html.unescape(page)
    assert "Traceback" in (run_dir / "region" / "run.log").read_text(encoding="utf-8")


@slow
def test_dask_worker_loss_has_a_timeout_and_leaves_nothing_unfinished(tmp_path, capsys, demo_dir_current):
    distributed = pytest.importorskip("distributed")
    args = _quiet_run_args(tmp_path, demo_dir_current)
    with distributed.LocalCluster(n_workers=0, processes=True, dashboard_address=None) as cluster:
        code = cli.main(args + ["--scheduler", cluster.scheduler_address, "--worker-timeout", "3"])
    err = "".join(line + "\n" for line in clinic_lines(capsys.readouterr().err))
    assert code == 2
    assert re.fullmatch(r"kps run: run \d{8}-\d{6}: no Dask worker for 3 s; 1 clinic\(s\) not run; "
                        r"nothing was finished, its folder was removed\n", err), err
    assert _left_in(tmp_path / "out") == []


@slow
def test_dask_never_reruns_or_rewrites_a_finished_clinic(tmp_path, demo_dir_current):
    """hud finishes; then gyn's kernel kills its Dask worker each time it runs. The nanny
    restarts the worker (which held hud's result): hud is not run or written again, gyn
    fails after Dask's allowed failures."""
    distributed = pytest.importorskip("distributed")
    notebook = quick_notebook(tmp_path / "killer.ipynb", "import os, signal, time\n"
                               "if clinic_id == 'gyn':\n    time.sleep(5)\n    os.kill(os.getppid(), signal.SIGKILL)\n")
    import time

    reported, reported_at = [], {}

    class Log(list):
        def append(self, line):
            if STEP_LINE.match(line):  # the named steps: not a clinic's line
                return
            reported_at.setdefault(line.split()[1], time.time())
            super().append(line)

    reported = Log()
    import dask

    # one retry instead of Dask's default three: the same path (worker lost, task rescheduled, then
    # failed as a suspicious task), in half the time
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}), \
            distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=True,
                                     dashboard_address=None) as cluster:
        result = batch.run(clinics=["hud", "gyn"], data_dir=demo_dir_current,
                           parameters_dir=PARAMS, out_dir=tmp_path / "out", scheduler=cluster.scheduler_address,
                           notebook=notebook, worker_timeout=60, progress=reported.append)
    status = {r.clinic_id: r.status for r in result.results}
    assert status == {"hud": "ok", "gyn": "failed"}
    assert reported[0].startswith("[1/2] hud ok")
    assert json.loads((result.run_dir / "hud" / "status.json").read_text())["status"] == "ok"
    # nothing in hud's folder was written after hud was reported finished
    newest = max(p.stat().st_mtime for p in (result.run_dir / "hud").rglob("*"))
    assert newest <= reported_at["hud"]
    assert "died" in result.failed[0].error


def test_the_render_step_runs_only_for_a_template_that_shows_stored_sections(tmp_path):
    """kps run draws a clinic's sections once for a template that shows them (fragments.show);
    a user's own template or a stand-in is run without that work (issue 15: no work done twice)."""
    assert batch.shows_stored_sections(ROOT / "notebooks" / "clinic_report.ipynb")
    assert not batch.shows_stored_sections(quick_notebook(tmp_path / "own.ipynb", "print(clinic_id)"))
    assert batch.shows_stored_sections(tmp_path / "missing.ipynb")  # papermill reports the problem
    job = {"model_dir": str(tmp_path / "model"), "render": False}
    assert batch._render_step(job, tmp_path) is None and not (tmp_path / "model").exists()



@slow
def test_a_clinic_that_fails_in_a_reused_kernel_leaves_the_next_a_new_one(tmp_path, demo_dir_current):
    """The local workers show their clinics in one kernel, reset before each (issue 15); a clinic
    whose notebook fails takes its kernel with it, and nothing of a clinic is left for the next.
    The template shows stored sections (``fragments.show(``), so the worker renders them first
    and the kernel is reused, as for the kit's own template."""
    import nbformat

    params = small_region(tmp_path / "parameters", ("gyn", "hud", "uro"))
    notebook = tmp_path / "reuse.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell('clinic_id = "x"\nparameters_dir = ""\ndata_dir = ""\noutput_dir = ""\n'
                                  'run_id = ""\nmodel_dir = ""', metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(
            "import os, pathlib  # the stored sections are not shown here: fragments.show(...)\n"
            "pathlib.Path(output_dir, 'kernel.txt').write_text(f\"{os.getpid()} {'secret' in globals()} \"\n"
            "                                                  f\"{pathlib.Path.cwd().name == clinic_id == "
            "pathlib.Path(output_dir).resolve().name}\")\n"
            "secret = clinic_id\n"
            "if clinic_id == 'hud':\n    raise RuntimeError('hud is broken')\n"),
    ]
    nb.metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                   "language_info": {"name": "python"}}
    nbformat.write(nb, notebook)

    result = batch.run(clinics=["gyn", "hud", "uro"], data_dir=demo_dir_current, parameters_dir=params,
                       out_dir=tmp_path / "out", workers=1, notebook=notebook)
    status = {r.clinic_id: r.status for r in result.results}
    assert status == {"gyn": "ok", "hud": "failed", "uro": "ok"} and result.exit_code == 1
    assert all(r.render_seconds is not None for r in result.results)   # rendered: a reused kernel
    seen = {c: (result.run_dir / c / "kernel.txt").read_text().split() for c in ("gyn", "hud", "uro")}
    assert seen["gyn"][0] == seen["hud"][0] != seen["uro"][0]   # hud in gyn's kernel, uro in a new one
    assert {c: v[1:] for c, v in seen.items()} == {c: ["False", "True"] for c in seen}
