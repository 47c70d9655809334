#!/usr/bin/env bash
# The low-frequency tail campaign: one parameter point (J, h, kappa0) over a ladder of sizes N, one
# resumable run file per N, and a compact digest per N (results/) that is the durable record.
#
#   runs/tail.sh J h kappa0                 e.g. runs/tail.sh 0.1 0.01 1
#
# Default ladder (realizations per N, nev = 100): 1000:2000 2000:1000 4000:400 8000:150 16000:50.
# Environment:
#   SIZES="1000 2000"        only these N (in this order); N = 32000 is known (25 realizations)
#   COUNTS="1000:3000 ..."   realizations wanted per N (overrides the defaults for those N)
#   NEV=100                  eigenpairs per realization
#   NP=<cores>               cores to use: one-rank groups of 1 thread below THREADS_FROM,
#   THREADS_FROM=8000        one rank with NP threads from this N on
#   OUT=runs/out/tail        run files OUT/J<J>_h<h>_k<kappa0>/N<N>.h5 (large: not committed)
#   RESULTS=results/tail     digests  RESULTS/J<J>_h<h>_k<kappa0>/N<N>.h5 (small: commit them)
#   KHGPS_BIN=bin/khgps      the program (default: built here with make)
#   EXTRA="..."              more khgps options (e.g. -khgps_seed 2 starts another ensemble)
#   DRY=1                    print the plan and the expected time, run nothing
#
# Interrupted, or on another machine with only results/ from git? Run the same command again: the
# digest's next realization index is where each N continues (-khgps_first), and a run file left
# here resumes. While a size runs, its digest is refreshed every 10 minutes and at the end.
# Then: PYTHONPATH=analysis /usr/bin/python3 -m khgps.tail RESULTS/J<J>_h<h>_k<kappa0>/N*.h5 (table, figure).
set -euo pipefail
cd "$(dirname "$0")/.."
usage() { echo "usage: runs/tail.sh J h kappa0   (environment: SIZES COUNTS NEV NP THREADS_FROM OUT RESULTS KHGPS_BIN EXTRA DRY)" >&2; exit 2; }
[ $# -eq 3 ] || usage
J=$1 H=$2 K0=$3
num='^[0-9]*\.?[0-9]+([eE][-+]?[0-9]+)?$'
for v in "$J" "$H" "$K0"; do [[ $v =~ $num ]] || { echo "runs/tail.sh: error: not a number: $v" >&2; exit 2; }; done
PY=/usr/bin/python3
export PYTHONPATH=analysis${PYTHONPATH:+:$PYTHONPATH}   # the analysis package khgps
NP=${NP:-$(nproc)}
NEV=${NEV:-100}
THREADS_FROM=${THREADS_FROM:-8000}
OUT=${OUT:-runs/out/tail}
RESULTS=${RESULTS:-results/tail}
SIZES=${SIZES:-"1000 2000 4000 8000 16000"}
declare -A R=([1000]=2000 [2000]=1000 [4000]=400 [8000]=150 [16000]=50 [32000]=25)
for nr in ${COUNTS:-}; do R[${nr%%:*}]=${nr##*:}; done
for N in $SIZES; do
  [[ $N =~ ^[0-9]+$ && -n ${R[$N]:-} ]] || { echo "runs/tail.sh: error: no realization count for N = $N (COUNTS=\"$N:R\")" >&2; exit 2; }
done
if [ -z "${KHGPS_BIN:-}" ]; then make -s bin/khgps; KHGPS_BIN=bin/khgps; fi
point=$(printf 'J%s_h%s_k%s' "$J" "$H" "$K0")
mkdir -p "$OUT/$point" "$RESULTS/$point"
MPI=(mpiexec -n "$NP" --oversubscribe); [ "$(id -u)" = 0 ] && MPI+=(--allow-run-as-root)
digest() { $PY -m khgps.digest "$@"; }

# The plan: what each N still needs, and the expected time (the digest's median seconds per
# realization where it has some, else a cost model c0 + a N^2 + b N^3 per core).
plan=()
for N in $SIZES; do
  d=$RESULTS/$point/N$N.h5 f=$OUT/$point/N$N.h5
  [ -f "$f" ] && digest update "$d" "$f" >/dev/null
  if [ -f "$f" ] && ! $PY -c 'import h5py, sys; sys.exit("tao_type" not in h5py.File(sys.argv[1], "r")["params"].attrs)' "$f" 2>/dev/null; then
    mv "$f" "${f%.h5}.pre-protocol.h5"   # a run file of before 2026-12-05 (no protocol): in the digest; continue in a new one
  fi
  first=$(digest next "$d")
  plan+=("$N ${R[$N]} $first")
done
$PY - "$NP" "$THREADS_FROM" "$RESULTS/$point" "${plan[@]}" <<'EOF'
import os, sys
from khgps import digest as kd
np_, threads_from, folder = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
total = 0.0
print(f"runs/tail.sh: {folder}: {np_} cores")
for item in sys.argv[4:]:
    N, want, first = map(int, item.split())
    left = max(0, want - first)
    path = os.path.join(folder, f"N{N}.h5")
    t, how = kd.seconds_per_realization(path)
    threads = N >= threads_from
    if t is None:  # seconds per realization on one core (this project's measurements, generic BLAS)
        t = 0.1 + 4.4e-8 * N**2 + 2.0e-11 * N**3
        if threads:
            t /= np_
    wall = left * t if threads else left * t / np_
    total += wall
    mode = f"1 rank x {np_} threads" if threads else f"{np_} groups x 1 thread"
    print(f"  N = {N:6d}: {want} wanted, {first} done, {left} to run ({mode}), "
          f"{t:.2f} s per realization ({how}): {wall / 60:.1f} min")
print(f"runs/tail.sh: expected time {total / 60:.1f} min")
EOF
[ "${DRY:-0}" = 1 ] && exit 0

for item in "${plan[@]}"; do
  set -- $item; N=$1 want=$2 first=$3
  d=$RESULTS/$point/N$N.h5 f=$OUT/$point/N$N.h5
  left=$((want - first))
  if [ "$left" -le 0 ]; then echo "== N = $N: $first of $want done"; continue; fi
  echo "== N = $N: realizations $first..$((want - 1)) -> $f (digest $d)"
  opts=(-khgps_N "$N" -khgps_J "$J" -khgps_h "$H" -khgps_kappa0 "$K0" -khgps_nev "$NEV"
        -khgps_first "$first" -khgps_realizations "$left" -khgps_output "$f")
  if [ "$N" -ge "$THREADS_FROM" ] || [ "$NP" -eq 1 ]; then
    OMP_NUM_THREADS=$NP "$KHGPS_BIN" "${opts[@]}" ${EXTRA:-} &
  else
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 "${MPI[@]}" "$KHGPS_BIN" "${opts[@]}" -khgps_groups "$NP" ${EXTRA:-} &
  fi
  pid=$!
  trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; [ -f "$f" ] && digest update "$d" "$f"; exit 130' INT TERM
  ticks=0
  while kill -0 "$pid" 2>/dev/null; do
    sleep 5; ticks=$((ticks + 1))
    if [ $((ticks % 120)) -eq 0 ] && [ -f "$f" ]; then digest update "$d" "$f" || true; fi
  done
  rc=0; wait "$pid" || rc=$?
  trap - INT TERM
  [ -f "$f" ] && digest update "$d" "$f"
  [ "$rc" -eq 0 ] || { echo "runs/tail.sh: khgps exited with $rc at N = $N" >&2; exit "$rc"; }
done
echo "runs/tail.sh: done: $RESULTS/$point"
