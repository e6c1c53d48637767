# Two commands do all the set-up (see README.md):
#   make run    set up .venv if missing, run every demo clinic end to end
#   make test   set up .venv if missing, run the test suite
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test venv bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(PY) -m kps_analysis run $(ARGS)

# The suite on TEST_WORKERS test processes (pytest-xdist), each taking a whole test file at a
# time so that a module's fixtures (the demo region's run) are built once; TEST_WORKERS=0: one process.
# One BLAS thread per process, as kps run's workers have: the test processes run side by side, and
# BLAS threads on the small matrices of the forecasts only contend for the cores.
TEST_WORKERS ?= 2
BLAS_ONE := OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
test: $(STAMP)
	$(BLAS_ONE) $(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile $(ARGS)

bench: $(STAMP)
	$(PY) -m benchmarks $(ARGS)

clean:
	rm -rf $(VENV) build *.egg-info
