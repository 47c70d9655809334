#!/usr/bin/env bash
# A campaign on SLURM in one command: for each parameter point, a job array of blocks of
# realizations (runs/slurm_array.sbatch) and a merge job that runs when every block has finished
# (--dependency=afterok:<array>) and joins them into one file with scripts/khgps-merge.
#
#   runs/slurm_sweep.sh POINT...          POINT: J:h:kappa0 (e.g. 0.1:0.01:1), or a set of
#                                         runs/sweep.sh: fig2 | weak | jseries | all
#
# Files: OUTDIR/POINT.block<iii>.h5 (one per array task, resumable), OUTDIR/POINT.h5 (merged),
# OUTDIR/logs/ (the jobs' logs; created here before sbatch, so that slurmd can open them).
# POINT is J<J>_h<h>_k<kappa0>, with N<N>_ before it when N is set.
# Environment (paper defaults):
#   OPTS=options/paper.opts  N NEV   options file; system size and eigenpairs that win over it
#   R=1150 BLOCK=50 FIRST=0          realizations per point, per array task; the first index
#   NTASKS=4 CPUS=1 MEM=8G           ranks per task, CPUs (threads) per rank, memory per task
#   NGROUPS=1                         -khgps_groups (1: all ranks on one realization)
#   TIME=12:00:00 SIGNAL=TERM@60     per task: time limit, and the signal before it (khgps stops
#                                    cleanly, the task requeues itself and resumes its file)
#   MAX_REQUEUE=20                   self-requeues per task at most
#   OUTDIR=runs/out/paper  EXTRA     output folder; more khgps options
#   KHGPS_BIN=bin/khgps              the program (built beforehand: make)
#   SBATCH_ARGS                      more sbatch options for all jobs (e.g. "--partition=p
#                                    --account=a"); sbatch's own SBATCH_* variables work too
#   MERGE_TIME=1:00:00 MERGE_MEM=4G  the merge job
#   DRY=1                            print the sbatch commands, submit nothing
# Each submission prints "POINT: array <id> (<tasks> tasks), merge <id> -> OUTDIR/POINT.h5".
# Run the same command again after a failure: finished blocks are skipped by khgps (resumed files).
#
#   runs/slurm_sweep.sh --merge OUT FIRST LAST BLOCK...   (the merge job itself) merge the blocks
#     into OUT and fail (exit 1) unless OUT holds every realization FIRST..LAST.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
me=runs/slurm_sweep.sh

merge() { # OUT FIRST LAST BLOCK...
  local out=$1 first=$2 last=$3; shift 3
  echo "$me: $(date -u +%H:%M:%S) merging $# blocks into $out (expect $first-$last)"
  if scripts/khgps-merge --help 2>&1 | grep -q -- '--expect'; then
    scripts/khgps-merge --overwrite --expect "$first-$last" "$out" "$@"
    return
  fi
  # scripts/khgps-merge without --expect (older checkouts): merge, then count here
  scripts/khgps-merge --overwrite "$out" "$@"
  /usr/bin/python3 - "$out" "$first" "$last" <<'EOF'
import sys
import h5py
out, first, last = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with h5py.File(out, "r") as f:
    have = {int(k) for k in f["realizations"]}
missing = sorted(set(range(first, last + 1)) - have)
if missing:
    print(f"runs/slurm_sweep.sh: error: {out} lacks {len(missing)} of the realizations {first}-{last} "
          f"(first missing: {missing[:10]})")
    sys.exit(1)
print(f"runs/slurm_sweep.sh: {out} holds all {last - first + 1} realizations {first}-{last}")
EOF
}

if [ "${1:-}" = --merge ]; then
  shift
  [ $# -ge 4 ] || { echo "usage: $me --merge OUT FIRST LAST BLOCK..." >&2; exit 2; }
  merge "$@"
  exit
fi

usage() { echo "usage: $me POINT...   (POINT: J:h:kappa0, or fig2 | weak | jseries | all; see the head of $me)" >&2; exit 2; }
[ $# -ge 1 ] || usage
OPTS=${OPTS:-options/paper.opts}
R=${R:-1150}; BLOCK=${BLOCK:-50}; FIRST=${FIRST:-0}
NTASKS=${NTASKS:-4}; CPUS=${CPUS:-1}; MEM=${MEM:-8G}; NGROUPS=${NGROUPS:-1}
TIME=${TIME:-12:00:00}; SIGNAL=${SIGNAL:-TERM@60}
OUTDIR=${OUTDIR:-runs/out/paper}
MERGE_TIME=${MERGE_TIME:-1:00:00}; MERGE_MEM=${MERGE_MEM:-4G}
num='^[0-9]*\.?[0-9]+([eE][-+]?[0-9]+)?$'
for v in "$R" "$BLOCK" "$FIRST" "$NTASKS" "$CPUS" "$NGROUPS"; do
  [[ $v =~ ^[0-9]+$ ]] || { echo "$me: error: not a whole number: $v" >&2; exit 2; }
done
{ [ "$BLOCK" -ge 1 ] && [ "$R" -ge 1 ]; } || { echo "$me: error: R and BLOCK must be at least 1" >&2; exit 2; }
[ -f "$OPTS" ] || { echo "$me: error: no options file $OPTS" >&2; exit 2; }
[ "${DRY:-0}" = 1 ] || command -v sbatch >/dev/null || { echo "$me: error: no sbatch here (scripts/slurm-local.sh start for a one-machine SLURM)" >&2; exit 2; }

points=()
for p in "$@"; do
  case $p in
    fig2)    for Jk in "0.05 1" "0.1 1" "0.3 1" "0.1 0.5" "0.3 2"; do read -r J K0 <<<"$Jk"; points+=("$J:0.01:$K0"); done ;;
    weak)    for h in 0.003 0.01 0.03 0.1 0.3; do points+=("0.03:$h:1"); done ;;
    jseries) for J in 0.03 0.05 0.1 0.2 0.4 0.8 1.6 3.2; do points+=("$J:0.01:1"); done ;;
    all)     exec "$0" fig2 weak jseries ;;
    *:*:*)   IFS=: read -r J H K0 <<<"$p"
             for v in "$J" "$H" "$K0"; do [[ $v =~ $num ]] || { echo "$me: error: not a number in $p: $v" >&2; exit 2; }; done
             points+=("$p") ;;
    *) usage ;;
  esac
done

KHGPS_BIN=${KHGPS_BIN:-bin/khgps}
if [ "${DRY:-0}" != 1 ]; then
  [ -x "$KHGPS_BIN" ] || { echo "$me: error: no $KHGPS_BIN: build it first (make; on a cluster see README, Install)" >&2; exit 2; }
  mkdir -p "$OUTDIR/logs"
fi
tasks=$(( (R + BLOCK - 1) / BLOCK ))
last=$((FIRST + R - 1))
run() { if [ "${DRY:-0}" = 1 ]; then printf '%q ' "$@" >&2; echo >&2; echo DRY; else "$@"; fi; }
for p in "${points[@]}"; do
  IFS=: read -r J H K0 <<<"$p"
  point=${N:+N${N}_}J${J}_h${H}_k${K0}
  blocks=()
  for ((i = 0; i < tasks; i++)); do blocks+=("$OUTDIR/$point.block$(printf %03d "$i").h5"); done
  # shellcheck disable=SC2086
  # the task's settings travel in the environment (--export=ALL): no quoting of commas needed
  aid=$(run env KHGPS_ROOT="$ROOT" KHGPS_BIN="$KHGPS_BIN" OPTS="$OPTS" J="$J" H="$H" K0="$K0" R="$R" BLOCK="$BLOCK" \
        FIRST="$FIRST" NGROUPS="$NGROUPS" OUTDIR="$OUTDIR" POINT="$point" N="${N:-}" NEV="${NEV:-}" EXTRA="${EXTRA:-}" \
        MAX_REQUEUE="${MAX_REQUEUE:-20}" \
        sbatch --parsable ${SBATCH_ARGS:-} --job-name="khgps-$point" --chdir="$ROOT" --export=ALL \
        --array="0-$((tasks - 1))" --ntasks="$NTASKS" --cpus-per-task="$CPUS" --mem="$MEM" \
        --time="$TIME" --signal="$SIGNAL" --output="$OUTDIR/logs/$point-%A_%a.log" \
        runs/slurm_array.sbatch)
  aid=${aid%%;*}
  # shellcheck disable=SC2086
  mid=$(run sbatch --parsable ${SBATCH_ARGS:-} --job-name="khgps-merge-$point" --chdir="$ROOT" \
        --dependency="afterok:$aid" --kill-on-invalid-dep=yes --ntasks=1 --mem="$MERGE_MEM" \
        --time="$MERGE_TIME" --output="$OUTDIR/logs/$point-merge-%j.log" \
        --wrap="exec runs/slurm_sweep.sh --merge $(printf '%q ' "$OUTDIR/$point.h5" "$FIRST" "$last" "${blocks[@]}")")
  mid=${mid%%;*}
  echo "$point: array $aid ($tasks tasks), merge $mid -> $OUTDIR/$point.h5"
done
