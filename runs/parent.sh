#!/usr/bin/env bash
# Glasses from a parent temperature (issue 27, item 4): each realization sampled at T_p by Metropolis
# (-khgps_start thermal), then minimized; the soft-mode tail and the minima's energy against T_p,
# with the x = 0 start as reference. One resumable digest per (T_p, point, N), made by runs/tail.sh:
#
#   results/parent/T<T_p>/J<J>_h<h>_k<kappa0>/N<N>.h5     thermal start at T_p
#   results/parent/zero/J<J>_h<h>_k<kappa0>/N<N>.h5        x = 0 start (the reference)
#
#   runs/parent.sh                 the campaign of runs/parent.plan, in its order
#   DRY=1 runs/parent.sh           the plan and the expected time only
#
# runs/parent.plan holds one line per digest: J h kappa0 start sweeps (start "zero" with 0 sweeps
# for the reference, else T_p with the chain's -khgps_equilibration_sweeps; adapt S/4 and measure
# S/2, khgps's defaults). The sweeps per T_p come from the pilots in docs/benchmarks.md: at J = 0.1
# 10000 sweeps equilibrate down to T_p = 0.03 (N = 500), 40000 reach 0.003; at J = 0.4 (N = 2000)
# 10000 hold at T_p = 0.3 and not at 0.03. N = 2000, 400 realizations per (point, T_p). The
# protocol is explicit (PROTOCOL below, with the start), so each digest's /params fixes the
# temperature and sweeps: khgps_digest.py refuses to mix another T_p, start or sweep count into it.
# Environment:
#   PLAN=runs/parent.plan                  the plan file
#   TEMPS="..." POINTS="J:h:kappa0 ..."    instead of the plan: the grid of every T_p at every point
#                                          (the reference first; TEMPS default 1.0 0.3 0.1 0.03 0.01
#                                          0.003, POINTS default 0.1:0.01:1 0.4:0.01:1), with
#   SWEEPS_HIGH=10000 SWEEPS_LOW=40000 T_LOW=0.03   sweeps: SWEEPS_HIGH for T_p >= T_LOW, else SWEEPS_LOW
#   REF=0                                  drops the x = 0 reference
#   N=2000  R=400                          size and realizations per (point, T_p)
#   NP, NEV, KHGPS_BIN, EXTRA (more khgps options)  as runs/tail.sh
#   RESULTS=results/parent  OUT=runs/out/parent    digests / run files (RESULTS/T<T_p>/..., OUT/T<T_p>/...)
# Interrupted? Run the same command again: every digest continues from its next realization.
# Then: make parent  (khgps.parent, analysis/khgps/parent.py: results/parent.csv, figures/parent.png).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=/usr/bin/python3
export PYTHONPATH=analysis${PYTHONPATH:+:$PYTHONPATH}   # the analysis package khgps
PROTOCOL="-tao_type bncg"
N=${N:-2000} R=${R:-400}
SWEEPS_HIGH=${SWEEPS_HIGH:-10000} SWEEPS_LOW=${SWEEPS_LOW:-40000} T_LOW=${T_LOW:-0.03}
NP=${NP:-$(nproc)}
RESULTS=${RESULTS:-results/parent} OUT=${OUT:-runs/out/parent}
PLAN=${PLAN:-runs/parent.plan}
num='^[0-9]*\.?[0-9]+([eE][-+]?[0-9]+)?$'
[[ $N =~ ^[0-9]+$ && $R =~ ^[0-9]+$ ]] || { echo "runs/parent.sh: error: N and R must be integers" >&2; exit 2; }
sweeps() { $PY -c 'import sys; t, lo, a, b = map(float, sys.argv[1:]); print(int(a if t >= lo else b))' "$1" "$T_LOW" "$SWEEPS_HIGH" "$SWEEPS_LOW"; }
digest() { $PY -m khgps.digest "$@"; }
point() { # J h kappa0 -> J:h:kappa0, or an error
  for v in "$1" "$2" "$3"; do [[ $v =~ $num ]] || { echo "runs/parent.sh: error: not a point: $1:$2:$3" >&2; exit 2; }; done
  echo "$1:$2:$3"
}

# What runs: "T S J:h:kappa0" per digest (T = zero for the x = 0 reference, S the sweeps), in order:
# the grid TEMPS x POINTS (sweeps by the T_LOW rule) when either is set, else the plan file.
entries=()
if [ -n "${TEMPS:-}${POINTS:-}" ]; then
  TEMPS=${TEMPS:-"1.0 0.3 0.1 0.03 0.01 0.003"} POINTS=${POINTS:-"0.1:0.01:1 0.4:0.01:1"}
  for t in $TEMPS; do [[ $t =~ $num ]] || { echo "runs/parent.sh: error: not a temperature: $t" >&2; exit 2; }; done
  list=(zero $TEMPS)
  for T in "${list[@]}"; do
    if [ "$T" = zero ]; then S=0; else S=$(sweeps "$T"); fi
    for pt in $POINTS; do IFS=: read -r J H K0 <<<"$pt"; entries+=("$T $S $(point "$J" "$H" "$K0")"); done
  done
else
  [ -f "$PLAN" ] || { echo "runs/parent.sh: error: no plan file $PLAN (PLAN=FILE, or TEMPS/POINTS for a grid)" >&2; exit 2; }
  ln=0
  bad() { echo "runs/parent.sh: error: $PLAN:$ln: $1 (a line is: J h kappa0 zero|T_p sweeps)" >&2; exit 2; }
  while read -r J H K0 T S extra; do
    ln=$((ln + 1))
    [[ -z ${J:-} || $J == \#* ]] && continue
    [ -z "${extra:-}" ] || bad "more than five fields"
    [[ ${S:-} =~ ^[0-9]+$ ]] || bad "sweeps must be an integer"
    if [ "$T" = zero ]; then [ "$S" = 0 ] || bad "the x = 0 start takes 0 sweeps"
    else [[ $T =~ $num ]] || bad "not a temperature: $T"; [ "$S" -gt 0 ] || bad "a thermal start needs sweeps > 0"; fi
    entries+=("$T $S $(point "$J" "$H" "$K0")")
  done < "$PLAN"
fi
[ "${REF:-1}" = 1 ] || { kept=(); for e in "${entries[@]}"; do [[ $e == zero\ * ]] || kept+=("$e"); done; entries=("${kept[@]}"); }

# The plan: per (T_p, point) the realizations left and the expected time (the digest's median
# seconds per realization where it has >= 3, else the pilot's cost model: 5e-4 s per sweep at
# N = 2000, scaling as N^2, plus 1.5 s per realization for draw, minimization and spectrum).
plan=()
for e in "${entries[@]}"; do
  set -- $e; T=$1 S=$2 pt=$3
  IFS=: read -r J H K0 <<<"$pt"
  sub=T$T; [ "$T" = zero ] && sub=zero
  d=$RESULTS/$sub/$(printf 'J%s_h%s_k%s' "$J" "$H" "$K0")/N$N.h5
  plan+=("$T $S $pt $(digest next "$d") $d")
done
$PY - "$NP" "$N" "$R" "${plan[@]}" <<'PYEOF'
import sys
from khgps import digest as kd
np_, N, R = map(int, sys.argv[1:4])
total = 0.0
print(f"runs/parent.sh: N = {N}, {R} realizations per (T_p, point), {np_} cores")
for item in sys.argv[4:]:
    T, S, pt, first, path = item.split()
    S, first = int(S), int(first)
    left = max(0, R - first)
    t, how = kd.seconds_per_realization(path)
    if t is None:
        t = 5e-4 * S * (N / 2000) ** 2 + 1.5
    wall = left * t / np_
    total += wall
    start = "x = 0 (reference)" if T == "zero" else f"T_p = {T}, {S} sweeps"
    print(f"  {start:28s} J:h:k0 = {pt:12s}: {first} done, {left} to run, {t:.1f} s per realization ({how}): "
          f"{wall / 3600:.2f} h -> {path}")
print(f"runs/parent.sh: expected time {total / 3600:.1f} h")
PYEOF
[ "${DRY:-0}" = 1 ] && exit 0

for item in "${plan[@]}"; do
  set -- $item; T=$1 S=$2 pt=$3
  IFS=: read -r J H K0 <<<"$pt"
  if [ "$T" = zero ]; then start="-khgps_start zero"; sub=zero
  else start="-khgps_start thermal -khgps_parent_temperature $T -khgps_equilibration_sweeps $S"; sub=T$T; fi
  echo "=== runs/parent.sh: $sub J=$J h=$H kappa0=$K0 ($(date -u +%H:%M:%S))"
  SIZES=$N COUNTS=$N:$R NP=$NP RESULTS=$RESULTS/$sub OUT=$OUT/$sub EXTRA="$PROTOCOL $start ${EXTRA:-}" \
    runs/tail.sh "$J" "$H" "$K0"
done
echo "runs/parent.sh: done: $RESULTS"
