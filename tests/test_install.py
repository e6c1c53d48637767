"""Set-up anywhere (issue 16, item 7): the wheel holds everything ``kps run`` needs.

The wheel is built offline from a copy of the source (``pip wheel --no-deps
--no-build-isolation``), installed into a fresh virtual environment outside the checkout,
and ``kps run`` there runs one demo clinic from another folder, with the packaged demo
parameters and notebooks. No download: the fresh environment sees the test
environment's dependencies through a ``.pth`` file naming its site-packages (an editable
install of the checkout is no plain folder there, so ``kps_analysis`` comes from the wheel),
and their shared Jupyter files (nbconvert's templates) through ``JUPYTER_PATH``.
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ("kps_analysis", "notebooks", "parameters", "pyproject.toml", "README.md", "LICENSE")

pytestmark = pytest.mark.slow


def _setuptools_builds_the_licence_field() -> bool:
    try:
        from importlib.metadata import version

        return int(version("setuptools").split(".")[0]) >= 77
    except Exception:  # noqa: BLE001
        return False


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    if not _setuptools_builds_the_licence_field():
        pytest.skip("needs setuptools>=77 in the test environment (pip install -e '.[test]')")
    src = tmp_path_factory.mktemp("src")
    for name in SOURCE:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(path, src / name)
    dist = tmp_path_factory.mktemp("dist")
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                            "-q", "-w", str(dist), str(src)], capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr[-3000:]
    (found,) = dist.glob("kps_analysis-*.whl")
    return found


def test_the_wheel_holds_templates_notebooks_parameters_and_licence(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    needed = {
        "kps_analysis/templates/kps_report/index.html.j2", "kps_analysis/templates/kps_report/conf.json",
        "kps_analysis/templates/index/index.html.j2", "kps_analysis/templates/index/failure.html.j2",
        "kps_analysis/project/notebooks/clinic_report.ipynb", "kps_analysis/project/notebooks/region_overview.ipynb",
        "kps_analysis/project/parameters/defaults.yaml",
    }
    assert needed <= names, needed - names
    clinics = {Path(n).name for n in names if n.startswith("kps_analysis/project/parameters/clinics/")}
    assert clinics == {p.name for p in (ROOT / "parameters" / "clinics").glob("*.yaml")}
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    assert "License-Expression: MIT" in zipfile.ZipFile(wheel).read(metadata).decode()


def test_the_installed_wheel_runs_a_demo_clinic_from_another_folder(wheel, tmp_path):
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    scripts = env_dir / ("Scripts" if os.name == "nt" else "bin")
    python = scripts / ("python.exe" if os.name == "nt" else "python")
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    # the dependencies (and pip) of the test environment, without downloading anything
    Path(purelib, "test_environment.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    install = subprocess.run([str(python), "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)],
                             capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stderr[-3000:]
    where = subprocess.run([str(python), "-c", "import kps_analysis; print(kps_analysis.__file__)"],
                           capture_output=True, text=True, check=True, cwd=tmp_path).stdout.strip()
    assert Path(where).is_relative_to(env_dir), where  # the wheel, not the checkout

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    # nbconvert's and ipykernel's shared files (the lab template, the kernel spec) sit under the
    # prefix they were installed into: here the test environment's
    env["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(Path(sys.prefix) / "share" / "jupyter"),
                                                        os.environ.get("JUPYTER_PATH")]))
    kps = scripts / ("kps.exe" if os.name == "nt" else "kps")
    run = subprocess.run([str(kps), "run", "--clinic", "hud", "--workers", "1"], cwd=elsewhere, env=env,
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout + run.stderr[-3000:]
    out = elsewhere / "outputs"
    run_dir = out / "latest"
    assert (run_dir / "hud" / "report.html").stat().st_size > 20_000
    assert (run_dir / "region" / "overview.html").is_file()
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["clinics"]["hud"]["status"] == "ok" and manifest["region_overview"]["status"] == "ok"
    # the packaged demo parameters (the manifest names files relative to their folder, no absolute path)
    packaged = Path(where).parent
    hud_file = manifest["parameters"]["hud"]["files"]["clinics/hud.yaml"]
    assert any(hashlib.sha256(f.read_bytes()).hexdigest() == hud_file for f in packaged.rglob("hud.yaml"))
    assert str(tmp_path) not in (run_dir / "manifest.json").read_text(encoding="utf-8")
    assert str(ROOT) not in (run_dir / "hud" / "report.html").read_text(encoding="utf-8")
