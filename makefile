# khgps makefile: builds bin/khgps with the PETSc/SLEPc conf files.
# Cluster use: make PETSC_DIR=... PETSC_ARCH=... SLEPC_DIR=... (and KHGPS_NO_INSTALL=1 to skip apt).
PETSC_DIR ?= /usr/lib/petsc
SLEPC_DIR ?= /usr/lib/slepc
export PETSC_DIR SLEPC_DIR

ifeq ($(wildcard $(SLEPC_DIR)/lib/slepc/conf/slepc_variables),)
# PETSc/SLEPc not installed yet: every target first runs the installer, then make re-reads this file.
all run test bench bench-sparse bench-kernels bench-appends figures tail paper khgps: deps
	@test -f $(SLEPC_DIR)/lib/slepc/conf/slepc_variables || { echo "makefile: no SLEPc at SLEPC_DIR=$(SLEPC_DIR)" >&2; exit 1; }
	@$(MAKE) --no-print-directory $(MAKECMDGOALS)
deps:
	bash scripts/install-deps.sh
.PHONY: all run test bench bench-sparse bench-kernels bench-appends figures tail paper parent khgps deps
else
include $(SLEPC_DIR)/lib/slepc/conf/slepc_variables

KHGPS_VERSION := $(shell git describe --always --dirty --tags 2>/dev/null || echo unknown)
SRC      := $(wildcard src/*.c src/kernels/*.c)
OBJ      := $(patsubst src/%.c,obj/%.o,$(SRC))
LIBOBJ   := $(filter-out obj/main.o,$(OBJ))
CFLAGS   += -O2 -fopenmp -Wall -Wextra -Wno-unused-parameter
CPPFLAGS += -Iinclude -DKHGPS_VERSION='"$(KHGPS_VERSION)"'
MPIEXEC_FLAGS ?= $(if $(filter 0,$(shell id -u)),--allow-run-as-root,) --oversubscribe
export MPIEXEC_FLAGS
PY := /usr/bin/python3

all: bin/khgps tests/bin/test_derivatives tests/bin/test_repro tests/bin/test_thermal_chain tests/bin/test_draw

deps:
	bash scripts/install-deps.sh

obj/%.o: src/%.c $(wildcard include/*.h src/kernels/*.h) | obj
	@mkdir -p $(dir $@)
	$(PCC) $(PCC_FLAGS) $(CFLAGS) $(SLEPC_CC_INCLUDES) $(PETSC_CCPPFLAGS) -c $< -o $@
obj/version.stamp: FORCE | obj
	@echo '$(KHGPS_VERSION)' | cmp -s - $@ || echo '$(KHGPS_VERSION)' > $@
obj/io.o: obj/version.stamp
obj tests/bin bin runs/out:
	mkdir -p $@

bin/khgps: $(OBJ) | bin
	$(CLINKER) -fopenmp -o $@ $^ $(SLEPC_EPS_LIB)

tests/bin/test_derivatives: tests/test_derivatives.c $(LIBOBJ) $(wildcard include/*.h) | tests/bin
	$(PCC) $(PCC_FLAGS) $(CFLAGS) $(SLEPC_CC_INCLUDES) $(PETSC_CCPPFLAGS) -c $< -o obj/test_derivatives.o
	$(CLINKER) -fopenmp -o $@ obj/test_derivatives.o $(LIBOBJ) $(SLEPC_EPS_LIB)

tests/bin/test_thermal_chain: tests/test_thermal_chain.c $(LIBOBJ) $(wildcard include/*.h) | tests/bin
	$(PCC) $(PCC_FLAGS) $(CFLAGS) $(SLEPC_CC_INCLUDES) $(PETSC_CCPPFLAGS) -c $< -o obj/test_thermal_chain.o
	$(CLINKER) -fopenmp -o $@ obj/test_thermal_chain.o $(LIBOBJ) $(SLEPC_EPS_LIB)

tests/bin/test_draw: tests/test_draw.c $(LIBOBJ) $(wildcard include/*.h src/kernels/*.h) | tests/bin
	$(PCC) $(PCC_FLAGS) $(CFLAGS) $(SLEPC_CC_INCLUDES) $(PETSC_CCPPFLAGS) -c $< -o obj/test_draw.o
	$(CLINKER) -fopenmp -o $@ obj/test_draw.o $(LIBOBJ) $(SLEPC_EPS_LIB)

tests/bin/test_repro: tests/test_repro.c $(LIBOBJ) $(wildcard include/*.h) | tests/bin
	$(PCC) $(PCC_FLAGS) $(CFLAGS) $(SLEPC_CC_INCLUDES) $(PETSC_CCPPFLAGS) -c $< -o obj/test_repro.o
	$(CLINKER) -fopenmp -o $@ obj/test_repro.o $(LIBOBJ) $(SLEPC_EPS_LIB)

# The default job: a small ensemble (options/quick.opts, N = 2000, 10 realizations) shared out over
# all cores (one-rank groups), its file and a plot. Resumable: run it again to continue or replot.
NP ?= $(shell nproc)
run: deps all | runs/out
	$(if $(filter 1,$(NP)),,OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 )mpiexec $(MPIEXEC_FLAGS) -n $(NP) bin/khgps -options_file options/quick.opts \
	  -khgps_realizations 10 -khgps_groups $(NP) -khgps_output runs/out/quick.h5 $(ARGS)
	$(PY) analysis/plot_spectrum.py runs/out/quick.h5 -o runs/out/quick.png

test: deps all
	bash tests/run.sh

# Speed and memory against the numpy/scipy reference (BENCH_N="4000 8000 16000" for more sizes).
bench: deps all
	$(PY) bench/bench.py

# khgps' own kernels against the library routines on the same data (bench/kernels.c; -n N -reps R via KERNELS_ARGS).
bench/bin/kernels: bench/kernels.c $(LIBOBJ) $(wildcard include/*.h) | bench/bin
	$(PCC) $(PCC_FLAGS) $(CFLAGS) $(SLEPC_CC_INCLUDES) $(PETSC_CCPPFLAGS) -c $< -o obj/bench_kernels.o
	$(CLINKER) -fopenmp -o $@ obj/bench_kernels.o $(LIBOBJ) $(SLEPC_EPS_LIB)
bench/bin:
	mkdir -p $@
bench-kernels: deps all bench/bin/kernels
	bench/bin/kernels $(KERNELS_ARGS)

# What appends cost: bytes written against the file, the Write stage against the wall time (BENCH_APPENDS="N nev R").
bench-appends: deps all
	$(PY) bench/appends.py

# The sparse eigensolvers and 2 ranks against 1 (BENCH_SPARSE_N=1000000 for the issue's size).
bench-sparse: deps all
	$(PY) bench/sparse.py

# The tail campaign's table and figure from its digests (runs/tail.sh J h kappa0 makes them).
tail: deps
	$(PY) analysis/khgps_tail.py --campaign results/tail --csv results/tail.csv --figure figures/tail.png

# The paper reproduced from the paper campaign's digests (runs/paper.sh makes them): table, claims, Figs. 2-6.
paper: deps
	$(PY) analysis/khgps_paper.py results/paper --csv results/paper.csv --claims results/paper_claims.md --figures figures

# The parent-temperature campaign's table and figure from its digests (runs/parent.sh makes them).
parent: deps
	$(PY) analysis/khgps_parent.py --campaign results/parent --csv results/parent.csv --figure figures/parent.png

# The paper's figures from the runs/ sweeps (runs/sweep.sh all laptop first).
figures: deps
	$(PY) analysis/khgps_figures.py --runs-dir runs/out/laptop --out-dir figures

clean:
	rm -rf obj bin tests/bin bench/bin

.PHONY: all deps run test bench bench-sparse bench-kernels bench-appends figures tail paper parent FORCE
endif
