#!/bin/bash
# (bench/eigensolvers.sh: run from the project root; writes its files into the current folder)
# eigensolver comparisons through bin/khgps on the same realization; prints the Spectrum stage time
K=${KHGPS_BIN:-bin/khgps}
export OPENBLAS_CORETYPE=SkylakeX
run() { tag=$1; shift; /usr/bin/time -f "%e s wall, %M kB" timeout 400 $K "$@" -khgps_output $tag.h5 -khgps_overwrite -log_view :$tag.log > $tag.out 2> $tag.err; rc=$?
  sp=$(grep -E '^ +[0-9]+: +Spectrum:' $tag.log | awk '{print $3}'); low=$(grep -o 'lowest eigenvalue [0-9.e+-]*' $tag.out); conv=$(grep -o 'only [0-9]* of [0-9]*' $tag.out)
  echo "$tag rc=$rc spectrum=${sp}s $low $conv $(tail -1 $tag.err)"; }
D="-khgps_N 8000 -khgps_J 0.1 -khgps_h 0.01 -khgps_nev 100"
run dense_block $D
run dense_slepc_ks $D -khgps_eigensolver slepc
run dense_lobpcg $D -eps_type lobpcg -st_type precond -eps_smallest_real -eps_tol 1e-12 -eps_lobpcg_blocksize 100
S="-khgps_N 20000 -khgps_coupling sparse -khgps_connectivity 20 -khgps_J 0.1 -khgps_h 0.01 -khgps_nev 100"
run sparse_filter $S
run sparse_ks_on_M $S -khgps_filter_degree 0 -eps_ncv 200 -eps_mpd 100 -eps_tol 1e-10
cut=$(/work/main/bin/khgps $S -info 2>&1 | grep -o 'cut [0-9.e+-]*$' | head -1 | awk '{print $2}')
run sparse_stfilter $S -khgps_filter_degree 0 -st_type filter -eps_interval 1e-5,$cut -st_filter_range -0.1,1.3 -st_filter_degree 20 -eps_tol 1e-10
echo "cut=$cut"
