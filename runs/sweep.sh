#!/usr/bin/env bash
# The paper's parameter sets as resumable khgps runs, one file per parameter point.
#
#   runs/sweep.sh SWEEP [laptop|paper]        SWEEP: fig2 | weak | jseries | all
#
#   fig2     D(omega) at h = 0.01 for several (J, kappa0)                      (paper Fig. 2)
#   weak     weak interactions: several h at kappa0 = 1, J = 0.03             (Figs. 3, 4)
#   jseries  h = 0.01, kappa0 = 1, J from weak to J >> kappa0                (Figs. 5, 6)
#
# laptop: options/laptop.opts (N = 1000), R = 200 realizations per point, all local cores as
#         groups of one rank: minutes per point on 2 cores. Output runs/out/laptop/.
# paper:  options/paper.opts (N = 16000), R = 1150 per point: for a cluster; better as job-array
#         blocks (runs/slurm_array.sbatch) merged with scripts/khgps-merge. Output runs/out/paper/.
# Environment: NP (MPI ranks, default: cores), R (realizations per point), EXTRA (more options).
# Interrupted? Run the same command again: each file resumes where it stopped.
set -euo pipefail
cd "$(dirname "$0")/.."
sweep=${1:?usage: runs/sweep.sh fig2|weak|jseries|all [laptop|paper]}
size=${2:-laptop}
case $size in
  laptop) opts=options/laptop.opts; R=${R:-200} ;;
  paper)  opts=options/paper.opts;  R=${R:-1150} ;;
  *) echo "runs/sweep.sh: size must be laptop or paper" >&2; exit 2 ;;
esac
NP=${NP:-$(nproc)}
MPI=(mpiexec -n "$NP" --oversubscribe); [ "$(id -u)" = 0 ] && MPI+=(--allow-run-as-root)
groups=$NP; [ "$size" = paper ] && groups=1   # paper size: all ranks on one realization (distributed dense)
# one-rank groups: one BLAS thread per rank, or the ranks' threads fight over the cores
[ "$groups" -gt 1 ] && export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1} OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
out=runs/out/$size; mkdir -p "$out"
make -s bin/khgps

point() { # J h kappa0
  local f; f=$(printf '%s/J%s_h%s_k%s.h5' "$out" "$1" "$2" "$3")
  echo "== $sweep/$size: J=$1 h=$2 kappa0=$3 -> $f"
  "${MPI[@]}" bin/khgps -options_file "$opts" -khgps_J "$1" -khgps_h "$2" -khgps_kappa0 "$3" \
    -khgps_realizations "$R" -khgps_groups "$groups" -khgps_output "$f" ${EXTRA:-}
}
fig2()    { for Jk in "0.05 1" "0.1 1" "0.3 1" "0.1 0.5" "0.3 2"; do set -- $Jk; point "$1" 0.01 "$2"; done; }
weak()    { for h in 0.003 0.01 0.03 0.1 0.3; do point 0.03 "$h" 1; done; }
jseries() { for J in 0.03 0.05 0.1 0.2 0.4 0.8 1.6 3.2; do point "$J" 0.01 1; done; }
case $sweep in
  fig2|weak|jseries) $sweep ;;
  all) fig2; weak; jseries ;;
  *) echo "runs/sweep.sh: unknown sweep $sweep" >&2; exit 2 ;;
esac
