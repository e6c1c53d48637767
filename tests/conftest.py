"""Shared, session-scoped fixtures: the demo region is generated once per test session.

Generating the demo region takes seconds (writing its files more); before these fixtures
several modules each generated the same data. Every fixture here is read-only for the
tests that use it: a test that changes the data copies it first (``shutil.copytree``,
``frame.copy()``).

- :func:`demo_dir` - the demo data folder at the golden end date :data:`GOLDEN_END`
  (the golden tables of tests/data/ are computed from it).
- :func:`demo_dir_current` - the demo data folder at the default end (the latest complete
  ISO week, as ``kps run`` writes it); the same folder as :func:`demo_dir` when that week
  is the golden one.
- :func:`demo_region` - :func:`kps_analysis.demo.generate` ending 2026-11-22 (2026-W47),
  in memory.
- :func:`golden_demo_model` - the planning model of the 8 demo clinics at :data:`GOLDEN_END`
  (200 Monte Carlo runs, seed 2019), as the golden tables need it.

Fast loop for contributors: ``pytest -m "not slow" -x`` (see the README).
"""

from __future__ import annotations

import os

# One BLAS thread per test process (as `make test` and kps run's workers set it, before numpy
# loads): the test processes run side by side, where BLAS threads only contend for the cores.
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import pandas as pd  # noqa: E402
import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
#: The fixed last week of the demo data for the golden tables (Sunday of 2026-W48).
GOLDEN_END = "2026-11-29"
#: The last week of the in-memory demo region (Sunday of 2026-W47).
REGION_END = "2026-11-22"


def _demo_folder(factory: pytest.TempPathFactory, end) -> Path:
    """The demo data folder ending in the ISO week of ``end``: one folder per week per session."""
    from kps_analysis import demo

    sunday = pd.Timestamp(end).to_period("W-SUN").end_time.date()
    return demo.ensure_demo_data(factory.getbasetemp() / f"demo-data-{sunday}", end=sunday)


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory) -> Path:
    """The demo data folder ending :data:`GOLDEN_END`; read-only (copy it to change it)."""
    return _demo_folder(tmp_path_factory, GOLDEN_END)


@pytest.fixture(scope="session")
def demo_dir_current(tmp_path_factory) -> Path:
    """The demo data folder ending the latest complete ISO week (``ensure_demo_data``'s
    default, what ``kps run`` uses); read-only (copy it to change it)."""
    from kps_analysis import demo

    return _demo_folder(tmp_path_factory, demo._default_end())


@pytest.fixture(scope="session")
def demo_region():
    """``demo.generate(end=REGION_END)``: the demo region in memory; do not change its frames."""
    from kps_analysis import demo

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return demo.generate(end=REGION_END)


@pytest.fixture(scope="session")
def golden_demo_model(demo_dir):
    """``(weekly, parameters, model)`` of the 8 demo clinics at :data:`GOLDEN_END`:
    ``planning.plan_clinics`` with 200 runs, seed 2019 (the golden tables' model)."""
    from kps_analysis import data, parameters, planning

    clinics = [p.stem for p in sorted((ROOT / "parameters" / "clinics").glob("*.yaml"))]
    ps = [parameters.load_parameters(c, ROOT / "parameters") for c in clinics]
    weekly, extracts = [], []
    for p in ps:
        cd = data.load_clinic_data(p.data.to_dict(), demo_dir, clinic=p.clinic_id)
        weekly.append(cd.weekly)
        if cd.waiting_list is not None:
            extracts.append(cd.waiting_list)
    weekly = pd.concat(weekly, ignore_index=True)
    extract = pd.concat(extracts, ignore_index=True) if extracts else None
    model = planning.plan_clinics(weekly, extract, ps, runs=200, seed=2019)
    return weekly, ps, model
