# khgps makefile: builds bin/khgps with the PETSc/SLEPc conf files.
# Cluster use: make PETSC_DIR=... PETSC_ARCH=... SLEPC_DIR=... (and KHGPS_NO_INSTALL=1 to skip apt).
PETSC_DIR ?= /usr/lib/petsc
SLEPC_DIR ?= /usr/lib/slepc
export PETSC_DIR SLEPC_DIR
PY := /usr/bin/python3
# The analysis package khgps (analysis/khgps/): python3 -m khgps.tail etc.
export PYTHONPATH := analysis$(if $(PYTHONPATH),:$(PYTHONPATH),)
.DEFAULT_GOAL := all

# Targets that need no compiler (the analysis scripts, clean) are the same with or without PETSc.
# The tail campaign's table and figure from its digests (runs/tail.sh J h kappa0 makes them).
tail:
	$(PY) -m khgps.tail --campaign results/tail --csv results/tail.csv --figure figures/tail.png

# The paper reproduced from the paper campaign's digests (runs/paper.sh makes them): table, claims, Figs. 2-6.
paper:
	$(PY) -m khgps.paper results/paper --csv results/paper.csv --claims results/paper_claims.md --figures figures

# The parent-temperature campaign's table and figure from its digests (runs/parent.sh makes them).
parent:
	$(PY) -m khgps.parent --campaign results/parent --csv results/parent.csv --fit-csv results/parent_fit.csv --figure figures/parent.png

# The paper's figures from your runs/ sweeps (runs/sweep.sh all laptop first), into runs/out/figures.
figures:
	$(PY) -m khgps.figures --runs-dir runs/out/laptop --out-dir runs/out/figures

# The C style: PETSc's .clang-format (clang-format 14) applied to the C sources (tests/test_style.py checks it).
style:
	git ls-files 'src/*.c' 'src/*.h' 'include/*.h' 'tests/*.c' 'bench/*.c' | xargs clang-format -i --style=file

# Everything the build and the benchmarks make (runs/out, the user's runs, stays).
clean:
	rm -rf obj bin tests/bin bench/bin bench/last.json bench/last_sparse.json bench/targets.json
	find analysis bench tests scripts -name __pycache__ -type d -prune -exec rm -rf {} +

# The package installer (scripts/install-deps.sh; KHGPS_NO_INSTALL=1 skips it): run and test call it
# (as .ci/run does before make test); the other targets expect the packages installed.
deps:
	bash scripts/install-deps.sh

.PHONY: tail paper parent figures style clean deps

ifeq ($(wildcard $(SLEPC_DIR)/lib/slepc/conf/slepc_variables),)
# PETSc/SLEPc not installed yet: every target first runs the installer, then make re-reads this file.
all format run test bench bench-sparse bench-kernels bench-appends bench-targets khgps: deps
	@test -f $(SLEPC_DIR)/lib/slepc/conf/slepc_variables || { echo "makefile: no SLEPc at SLEPC_DIR=$(SLEPC_DIR)" >&2; exit 1; }
	@$(MAKE) --no-print-directory $(MAKECMDGOALS)
.PHONY: all format run test bench bench-sparse bench-kernels bench-appends bench-targets khgps
else
include $(SLEPC_DIR)/lib/slepc/conf/slepc_variables

KHGPS_VERSION := $(shell git describe --always --dirty --tags 2>/dev/null || echo unknown)
SRC      := $(wildcard src/*.c src/kernels/*.c)
OBJ      := $(patsubst %.c,obj/%.o,$(SRC))
LIBOBJ   := $(filter-out obj/src/main.o,$(OBJ))
HEADERS  := $(wildcard include/*.h src/*.h src/kernels/*.h)
CFLAGS   += -O2 -fopenmp -Wall -Wextra -Wno-unused-parameter
CPPFLAGS += -Iinclude -DKHGPS_VERSION='"$(KHGPS_VERSION)"'
MPIEXEC_FLAGS ?= $(if $(filter 0,$(shell id -u)),--allow-run-as-root,) --oversubscribe
export MPIEXEC_FLAGS
# the programs besides bin/khgps: each is its one source file linked with the library objects
TESTS    := tests/bin/test_derivatives tests/bin/test_repro tests/bin/test_thermal_chain tests/bin/test_draw

all: bin/khgps $(TESTS) format

# One rule compiles every object: src/x.c -> obj/src/x.o, tests/x.c -> obj/tests/x.o, bench/x.c -> obj/bench/x.o.
obj/%.o: %.c $(HEADERS)
	@mkdir -p $(@D)
	$(PCC) $(PCC_FLAGS) $(CFLAGS) $(SLEPC_CC_INCLUDES) $(PETSC_CCPPFLAGS) -c $< -o $@
obj/version.stamp: FORCE
	@mkdir -p $(@D)
	@echo '$(KHGPS_VERSION)' | cmp -s - $@ || echo '$(KHGPS_VERSION)' > $@
obj/src/describe.o obj/src/main.o: obj/version.stamp

# One recipe links every program.
LINK = mkdir -p $(@D) && $(CLINKER) -fopenmp -o $@ $^ $(SLEPC_EPS_LIB)
.SECONDARY: # the objects of tests/ and bench/ are kept like the others
bin/khgps: $(OBJ)
	$(LINK)
tests/bin/%: obj/tests/%.o $(LIBOBJ)
	$(LINK)
bench/bin/%: obj/bench/%.o $(LIBOBJ)
	$(LINK)
runs/out:
	mkdir -p $@

bin/khgps-format: obj/src/tools/format_dump.o $(LIBOBJ)
	$(LINK)

# The run file's format from record.c's tables (analysis/khgps/format.json, committed; tests/test_format.py
# checks it against the binary). Rewritten only when it changes.
format: bin/khgps-format
	@bin/khgps-format > obj/format.json.new && { cmp -s obj/format.json.new analysis/khgps/format.json || cp obj/format.json.new analysis/khgps/format.json; }

# The default job: a small ensemble (options/quick.opts, N = 2000, 10 realizations) shared out over
# all cores (one-rank groups), its file and a plot. Resumable: run it again to continue or replot.
NP ?= $(shell nproc)
run: deps all | runs/out
	$(if $(filter 1,$(NP)),,OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 )mpiexec $(MPIEXEC_FLAGS) -n $(NP) bin/khgps -options_file options/quick.opts \
	  -khgps_realizations 10 -khgps_groups $(NP) -khgps_output runs/out/quick.h5 $(ARGS)
	$(PY) -m khgps.plot_spectrum runs/out/quick.h5 -o runs/out/quick.png

test: deps all
	bash tests/run.sh

# Speed and memory against the numpy/scipy reference (BENCH_N="4000 8000 16000" for more sizes).
bench: all
	$(PY) bench/bench.py

# khgps' own kernels against the library routines on the same data (bench/kernels.c; -n N -reps R via KERNELS_ARGS).
bench-kernels: all bench/bin/kernels
	bench/bin/kernels $(KERNELS_ARGS)

# What appends cost: bytes written against the file, the Write stage against the wall time (BENCH_APPENDS="N nev R").
bench-appends: all
	$(PY) bench/appends.py

# The sparse eigensolvers and 2 ranks against 1 (BENCH_SPARSE_N=1000000 for the issue's size).
bench-sparse: all
	$(PY) bench/sparse.py

# The speed issue's targets, each against its figure (BENCH_BASELINE=an older bin/khgps for T2).
bench-targets: all
	$(PY) bench/targets.py

.PHONY: all format run test bench bench-sparse bench-kernels bench-appends bench-targets FORCE
endif
