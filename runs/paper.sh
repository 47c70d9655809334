#!/usr/bin/env bash
# The paper's parameter space at converged size (issue 24): one digest per (point, N) under
# results/paper/, made by runs/tail.sh (the same digests, resumable from the committed ones).
#
#   runs/paper.sh [PHASE ...]          PHASE: 2000 | 4000 | 8000 (default: all three, in that order)
#
# Phase 2000: every point at N = 2000 (400 realizations); phase 4000: every point at N = 4000 (200);
# phase 8000: six points spread over the regimes at N = 8000 (100). Points (J h kappa0): the J series
# at h = 0.01, kappa0 = 1 (Figs. 5, 6), kappa0 = 0.5 and 2 (Figs. 2, 5), the weak regime at
# h = 0.003, 0.03, 0.1 (Fig. 4, Eq. 3) and Fig. 3's h series at J = 0.03.
# The protocol is fixed here (PROTOCOL below), whatever khgps's default becomes: a digest never mixes
# minimizers (its /params holds the protocol and khgps_digest.py refuses a mismatch).
# Environment: as runs/tail.sh (NP, NEV, OUT, RESULTS, KHGPS_BIN, DRY=1 prints the plan and the
# expected time only); POINTS="J:h:k ..." restricts the points.
set -euo pipefail
cd "$(dirname "$0")/.."
PROTOCOL="-tao_type bncg"
jseries="0.03:0.01:1 0.05:0.01:1 0.07:0.01:1 0.1:0.01:1 0.15:0.01:1 0.2:0.01:1 0.3:0.01:1 0.4:0.01:1 0.6:0.01:1 1.0:0.01:1 1.6:0.01:1 3.2:0.01:1"
kappa0="0.1:0.01:0.5 0.2:0.01:0.5 0.4:0.01:0.5 1.0:0.01:0.5 0.1:0.01:2 0.2:0.01:2 0.4:0.01:2 1.0:0.01:2"
weak="0.03:0.003:1 0.05:0.003:1 0.1:0.003:1 0.05:0.03:1 0.07:0.03:1 0.1:0.03:1 0.2:0.03:1 0.1:0.1:1 0.15:0.1:1 0.3:0.1:1"
hseries="0.03:0.03:1 0.03:0.1:1 0.03:0.3:1"   # with 0.03:0.003:1 and 0.03:0.01:1 above: h = 0.003 ... 0.3
large="0.05:0.01:1 0.1:0.01:1 0.4:0.01:1 1.6:0.01:1 0.15:0.1:1 0.4:0.01:2"   # N = 8000
ALL=${POINTS:-"$jseries $kappa0 $weak $hseries"}
export RESULTS=${RESULTS:-results/paper} OUT=${OUT:-runs/out/paper} THREADS_FROM=${THREADS_FROM:-8000}
phases=${*:-"2000 4000 8000"}
for ph in $phases; do
  case $ph in
    2000) pts=$ALL; counts="2000:400" ;;
    4000) pts=$ALL; counts="4000:200" ;;
    8000) pts=${POINTS:-$large}; counts="8000:100" ;;
    *) echo "runs/paper.sh: error: unknown phase $ph (2000, 4000 or 8000)" >&2; exit 2 ;;
  esac
  for pt in $pts; do
    IFS=: read -r J H K0 <<<"$pt"
    echo "=== runs/paper.sh: phase N = $ph: J=$J h=$H kappa0=$K0 ($(date -u +%H:%M:%S))"
    SIZES=$ph COUNTS=$counts EXTRA="$PROTOCOL ${EXTRA:-}" runs/tail.sh "$J" "$H" "$K0"
  done
done
