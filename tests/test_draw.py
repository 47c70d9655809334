"""The couplings' vector draw (src/kernels/draw.c) gives the scalar path's couplings bit for bit.

* tests/bin/test_draw: Philox4x64-10 on AVX-512 and AVX2 = Random123's philox4x64 on random
  counters and keys; the couplings of every path = the scalar path's at N = 2 ... 1003 (odd, even,
  not multiples of the vector width), three seeds and realizations, as columns, rows, dense row
  blocks (as on 1, 2, 3 ranks) and the thermal chain's J; the vector double values within 1/64 of
  the error bound that sends a lane to the scalar path; 4 x 10^6 counters at a large column.
* Full runs (N = 301, 2 realizations, J saved): the scalar path (KHGPS_DRAW=scalar), AVX2
  (KHGPS_DRAW=avx2) and the default (AVX-512 where the processor has it, also with -khgps_avx512 0)
  give the same J, kappa, x*, eigenvalues and counts bit for bit on 1 rank (packed) and in 2
  groups; on 2 ranks (ScaLAPACK, the dense row blocks) the default = the scalar path on 2 ranks,
  and J and kappa = 1 rank's.
* With KHGPS_BEFORE=<a khgps binary from before the vector draw>: the same runs (1 and 2 ranks)
  with it give the same file contents bit for bit (otherwise SKIP)."""
import os
import subprocess

import h5py
import numpy as np

from common import MPIEXEC, ROOT, check, done, out, run, skip

BIN = os.path.join(ROOT, "tests", "bin", "test_draw")
p = subprocess.run([BIN, "-n", "4000000"], capture_output=True, text=True, cwd=ROOT)
print(p.stdout, end="")
check(p.returncode == 0 and "FAIL:" not in p.stdout, "tests/bin/test_draw ran, no failure", p.stderr[-300:])


def contents(path):
    """Every dataset and every attribute but times of every realization, as bytes."""
    d = {}
    with h5py.File(path, "r") as f:
        for r, g in f["realizations"].items():
            for k in g:
                d[(r, k)] = np.asarray(g[k][()]).tobytes()
            for k, v in g.attrs.items():
                if "time" not in k and k != "ranks":
                    d[(r, k)] = np.asarray(v).tobytes()
    return d


base = ["-khgps_N", "301", "-khgps_realizations", "2", "-khgps_first", "4", "-khgps_seed", "9",
        "-khgps_nev", "10", "-khgps_save_couplings", "-khgps_overwrite"]
cases = {"scalar": ({"KHGPS_DRAW": "scalar"}, [], 1), "avx2": ({"KHGPS_DRAW": "avx2"}, [], 1),
         "default": ({}, [], 1), "default -khgps_avx512 0": ({}, ["-khgps_avx512", "0"], 1),
         "default, 2 ranks": ({}, [], 2), "scalar, 2 ranks": ({"KHGPS_DRAW": "scalar"}, [], 2),
         "default, 2 groups": ({}, ["-khgps_groups", "2"], 2)}
res = {}
for name, (env, extra, np_) in cases.items():
    f = out(name.replace(" ", "_").replace(",", "") + ".h5")
    run(base + extra + ["-khgps_output", f], np_=np_, env=dict(env, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1"))
    res[name] = contents(f)
ref, ref2 = res["scalar"], res["scalar, 2 ranks"]
check(any(k[1] == "J" for k in ref), "the scalar run saved J")
for name, d in res.items():
    r = ref2 if "2 ranks" in name else ref
    if d is r:
        continue
    diff = [k for k in r if d.get(k) != r[k]]
    check(not diff and d.keys() == r.keys(), f"full run, {name} = {'2 ranks, ' if r is ref2 else ''}scalar draw, bit for bit ({len(r)} datasets and attributes)", str(diff[:5]))
# across rank counts the storage (packed against ScaLAPACK) changes the sums, not the couplings
same = [k for k in ref if k[1] in ("J", "kappa") and ref2.get(k) == ref[k]]
check(len(same) == 4, f"J and kappa on 2 ranks = 1 rank bit for bit ({len(same)} of 4)")
before = os.environ.get("KHGPS_BEFORE")
if before and os.access(before, os.X_OK):
    for np_, r in ((1, ref), (2, ref2)):
        f = out(f"before_{np_}.h5")
        cmd = ([*MPIEXEC, "-n", str(np_)] if np_ > 1 else []) + [before] + base + ["-khgps_output", f]
        q = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1"))
        d = contents(f) if q.returncode == 0 else {}
        diff = [k for k in r if d.get(k) != r[k]]
        check(q.returncode == 0 and not diff, f"{np_} rank(s): the binary before the vector draw ({before}) = this one, bit for bit", str(diff[:5]) + q.stderr[-200:])
else:
    skip("the binary before the vector draw", "KHGPS_BEFORE not set")
done()
