#!/usr/bin/env bash
# khgps test runner: every tests/test_*.py (Debian's /usr/bin/python3) and the derivative checks
# on 1, 2 and 3 ranks. Each check prints PASS:/FAIL:; skips (SKIP:) are listed; the last line is "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
PY=/usr/bin/python3
export PYTHONPATH=analysis${PYTHONPATH:+:$PYTHONPATH}   # the analysis package khgps
MPI=(mpiexec --oversubscribe); [ "$(id -u)" = 0 ] && MPI+=(--allow-run-as-root)
logdir=$(mktemp -d -t khgps-tests-XXXXXX); log=$logdir/tests.log
pass=0; fail=0
skips=$logdir/skips
: > "$skips"
record() { # name, command...
  local name=$1; shift
  local t0=$SECONDS out rc
  out=$("$@" 2>&1); rc=$?
  echo "$out" >> "$log"
  local p f
  p=$(grep -c '^PASS: ' <<<"$out"); f=$(grep -c '^FAIL: ' <<<"$out")
  grep '^FAIL: ' <<<"$out"
  grep '^SKIP: ' <<<"$out" >> "$skips"
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then  # crashed before reporting: one failure, show why
    f=1; echo "FAIL: $name exited with $rc"; tail -n 15 <<<"$out"
  fi
  pass=$((pass + p)); fail=$((fail + f))
  printf '%-28s %3d passed, %d failed  (%ds)\n' "$name" "$p" "$f" $((SECONDS - t0))
}
for n in 1 2 3; do
  record "derivatives np=$n" "${MPI[@]}" -n $n tests/bin/test_derivatives -khgps_N 61 -khgps_J 0.8 -khgps_h 0.2 -khgps_A 1.3
done
record "derivatives packed" tests/bin/test_derivatives -khgps_N 61 -khgps_J 0.8 -khgps_h 0.2 -khgps_A 1.3 -packed
record "derivatives sparse np=2" "${MPI[@]}" -n 2 tests/bin/test_derivatives -khgps_N 61 -khgps_J 0.8 -khgps_h 0.2 -khgps_coupling sparse -khgps_connectivity 6
for t in tests/test_*.py; do
  record "$(basename "$t" .py)" $PY "$t"
done
[ -s "$skips" ] && { echo "skipped ($(wc -l < "$skips")):"; sed 's/^SKIP: /  /' "$skips"; }
if [ "$fail" -eq 0 ]; then
  rm -rf "$logdir"  # all passed: nothing left behind (each test removed its own folder)
else
  echo "full log kept: $log (the failed tests' temporary folders are named in it)"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
