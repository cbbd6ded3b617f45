# EM Lab: one command per step.
#
#   make lab        JupyterLab on the labs (sets up .venv from the lock first)
#   make test       the whole test suite (same set-up first)
#   make release    regenerate notebooks/ (student release) from solutions/ with nbgrader
#   make run-sources [ASSIGNMENT=id]  run source notebooks and store their outputs (nbval compares them)
#   make autograde  [ASSIGNMENT=id] [STUDENT=id] [JOBS=n] [FORCE=1] [SHARD=k/n]  grade autograder/submitted/
#                   in the sandbox, verdicts judged outside the kernel; report in autograder/report/
#   make feedback   [ASSIGNMENT=id] [STUDENT=id]  feedback HTML without hidden tests, for every lab with
#                   graded work (the others skipped, saying so), and a page for each ungradable submission
#   make grades     autograder/grades.csv (nbgrader's export columns), autograder/lms.csv (one row
#                   per student, a column per assignment: Canvas/Moodle import) and the grade report
#                   autograder/report/grades.html (figures, failures per question, flagged, late)
#   make bench      [QUICK=1]  notebooks, grading throughput, reference EM vs scikit-learn -> bench/results.md
#   make clean      remove generated state (venv kept; `make distclean` removes it too)

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
READY := $(VENV)/.ready

# nbgrader (command line and JupyterLab extensions) reads autograder/nbgrader_config.py.
export JUPYTER_CONFIG_PATH := $(CURDIR)/autograder
export PYTHONNOUSERSITE := 1
# nbgrader's gradebook runs the venv's `alembic` command: the venv's bin comes first on PATH.
export PATH := $(BIN):$(PATH)
# Hidden test cells import the grading API (autograder/emlab_grader) inside the kernel.
export PYTHONPATH := $(CURDIR)/autograder

ASSIGNMENTS := $(notdir $(patsubst %/,%,$(sort $(dir $(wildcard solutions/*/*.ipynb)))))
ASSIGNMENT ?=
STUDENT ?=
NBGRADER := $(BIN)/python -m nbgrader
student_flag := $(if $(STUDENT),--student=$(STUDENT),)
JOBS ?=
targets := $(if $(ASSIGNMENT),$(ASSIGNMENT),$(ASSIGNMENTS))

.PHONY: lab test bench release run-sources autograde feedback grades student-bundle system-deps clean distclean venv

venv: $(READY)

# The virtual environment is rebuilt from scratch whenever the lock (or the package
# metadata) changes, so it never keeps a package the lock dropped.
$(READY): requirements.lock pyproject.toml
	@echo "== setting up $(VENV) from requirements.lock"
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	$(BIN)/python -m pip check
	touch $@

lab: $(READY)
	@mkdir -p autograder/exchange
	@$(BIN)/python -m autograder.launch_lab

# System packages the tests need: bubblewrap for the grading sandbox, Debian's chromium for
# the browser tests, PostgreSQL for the gradebook-at-scale test. Each entry is
# probe:package, the probe a command name or a path pattern. Installed with apt when
# missing and running as root; otherwise the command to run is printed (and with CI=true
# the tests that need them fail rather than skip).
SYSTEM_PACKAGES := bwrap:bubblewrap prlimit:util-linux setpriv:util-linux chromium:chromium \
  /usr/lib/postgresql/*/bin/initdb:postgresql
system-deps:
	@missing=""; for pair in $(SYSTEM_PACKAGES); do probe="$${pair%:*}"; \
	  command -v "$$probe" >/dev/null 2>&1 || compgen -G "$$probe" >/dev/null || missing="$$missing $${pair##*:}"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "== installing system packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else echo "!! missing system packages:$$missing (as root: apt-get install$$missing)"; fi; \
	fi

# Unit tests, the grading banks (real nbgrader autograde), the release check, nbval on every
# source notebook (stored outputs compared) and the browser tests, on both cores. Jupyter,
# IPython and matplotlib state goes to a temporary folder, never $HOME. Every kernel is
# single-threaded (BLAS too): the tests already run two at a time on two cores.
# nbval runs the source notebooks in the trusted kernel (emlab_judge.trusted_kernel, installed
# in the temporary JUPYTER_DATA_DIR): their hidden tests compare with the reference there.
test: $(READY) system-deps
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	export JUPYTER_CONFIG_DIR=$$tmp/config JUPYTER_DATA_DIR=$$tmp/data \
	  JUPYTER_RUNTIME_DIR=$$tmp/runtime IPYTHONDIR=$$tmp/ipython MPLCONFIGDIR=$$tmp/matplotlib \
	  OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1; \
	$(BIN)/python -m emlab_judge.trusted_kernel install >/dev/null || exit 1; \
	$(BIN)/python -m pytest -n 2 --dist loadfile --durations=15 \
	  --nbval --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-kernel-name emlab-trusted tests solutions

release: $(READY)
	@$(BIN)/python -m autograder.point_splits
	@for a in $(targets); do \
	  $(NBGRADER) generate_assignment "$$a" --force --log-level=WARN || exit 1; \
	done
	@$(BIN)/python -m autograder.readme_figures
	@echo "released: $(targets) -> notebooks/"

# Benchmark (not a test): prints a table and writes bench/results.md (+ bench/scaling.png).
bench: $(READY) system-deps
	$(BIN)/python -m bench $(if $(QUICK),--quick)

# Run source notebooks top to bottom and store their outputs (what nbval compares).
run-sources: $(READY)
	@$(BIN)/python -m autograder.run_source $(foreach a,$(targets),$(wildcard solutions/$(a)/*.ipynb))

# The grading harness (autograder/emlab_judge): each submission checked and repaired,
# graded by nbgrader with its kernel in a bubblewrap sandbox, judged outside the kernel.
autograde: $(READY) system-deps
	$(BIN)/python -m emlab_judge autograde $(if $(ASSIGNMENT),--assignment=$(ASSIGNMENT)) \
	  $(if $(STUDENT),--student=$(STUDENT)) $(if $(JOBS),--jobs=$(JOBS)) $(if $(FORCE),--force) \
	  $(if $(SHARD),--shard=$(SHARD))

feedback: $(READY)
	@$(BIN)/python -m emlab_judge feedback $(if $(ASSIGNMENT),--assignment=$(ASSIGNMENT)) $(student_flag)

grades: $(READY)
	$(BIN)/python -m emlab_judge grades

# The zip students get: release notebooks, data, emlab/, environment files, a README.
student-bundle: $(READY)
	$(BIN)/python -m autograder.student_bundle --out dist/emlab-student.zip

clean:
	rm -rf autograder/gradebook.db autograder/autograded autograder/feedback autograder/report \
	  autograder/.staging autograder/grades.csv autograder/lms.csv test-artifacts dist .pytest_cache
	find . -path ./.venv -prune -o \( -name __pycache__ -o -name .ipynb_checkpoints \) -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
