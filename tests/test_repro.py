"""Results that do not depend on the number of MPI ranks (src/repro.c).

* The reproducible reductions (tests/bin/test_repro: dot, tdot, mdot, norms 1/2/inf/1-and-2, the
  split-phase VecDotBegin/End and VecNormBegin/End, VecDotNorm2, y += a x and its relatives) on
  vectors spanning 2^-30..2^50: bit for bit the same on 1, 2 and 3 ranks, and within 2 ulp of the
  correctly rounded sum of the same terms (math.fsum). (PETSc's own dot, printed for comparison,
  gives a different value on each rank count: 7-10 ulp apart here.)
* Sparse couplings, end to end: x*, the energy, the gradient norms and TAO's iteration and
  evaluation counts are the same bit for bit on 1, 2 and 3 ranks (TAO's dot products are
  reproducible sums and J x adds each row in global column order); the eigenvalues, from the
  eigensolver's own sums, agree to 1e-10 (docs/design.md, "Rank independence")."""
import math
import os
import subprocess

import numpy as np

from common import MPIEXEC, ROOT, check, done, load, out, run

BIN = os.path.join(ROOT, "tests", "bin", "test_repro")
N = 100003


def entries(a, b):
    i = np.arange(N, dtype=np.uint64)
    k = (i * np.uint64(a)) % np.uint64(1048573)
    e = ((i * np.uint64(b)) % np.uint64(61)).astype(np.int64) - 30
    return np.ldexp(k.astype(np.float64) - 524288.0, e)


res = {}
for n in (1, 2, 3):
    p = subprocess.run([*MPIEXEC, "-n", str(n), BIN, "-n", str(N)], capture_output=True, text=True, cwd=ROOT)
    check(p.returncode == 0, f"test_repro on {n} rank(s) ran", p.stderr[-300:])
    res[n] = {l.split()[0]: [float.fromhex(v) for v in l.split()[1:]] for l in p.stdout.splitlines() if l.strip()}
names = [k for k in res[1] if k != "plaindot"]
for n in (2, 3):
    same = [k for k in names if res[n].get(k) == res[1][k]]
    check(len(same) == len(names), f"reductions on {n} ranks = 1 rank bit for bit ({len(same)} of {len(names)})",
          str({k: (res[1][k], res[n].get(k)) for k in names if k not in same}))

x, y = entries(2654435761, 7), entries(40503, 13)
z = y.copy()
z = z + 0.1 * x
z = z + 0.3 * y
z = x + (1.0 / 3.0) * z
z = -0.7 * x + 0.9 * z
exact = {  # products of these entries are exact, so fsum is the correctly rounded sum
    "dot": [math.fsum(x * y)], "tdot": [math.fsum(x * y)], "mdot": [math.fsum(x * y), math.fsum(x * x)],
    "norm1": [math.fsum(np.abs(x))], "norm2": [math.sqrt(math.fsum(x * x))], "norminf": [np.abs(y).max()],
    "norm12": [math.fsum(np.abs(y)), math.sqrt(math.fsum(y * y))], "dotsplit": [math.fsum(x * y)],
    "norm2split": [math.sqrt(math.fsum(y * y))], "dotnorm2": [math.fsum(x * y), math.fsum(y * y)],
    "axpy": [math.fsum(z * z)]}
print("(PETSc's own dot on 1, 2, 3 ranks: " + ", ".join(f"{abs(res[n]['plaindot'][0] - exact['dot'][0]) / math.ulp(exact['dot'][0]):.0f}" for n in (1, 2, 3)) + " ulp from the correctly rounded sum)")
for k, ref in exact.items():
    got = res[1][k]
    ulps = max(abs(g - r) / math.ulp(r) for g, r in zip(got, ref))
    check(ulps <= 2, f"{k} within 2 ulp of the correctly rounded sum ({ulps:.0f} ulp)", f"{got} vs {ref}")

# sparse couplings end to end on 1, 2 and 3 ranks
files = {}
for n in (1, 2, 3):
    files[n] = out(f"repro_{n}.h5")
    run(["-khgps_coupling", "sparse", "-khgps_connectivity", "6", "-khgps_N", "3000", "-khgps_J", "0.3",
         "-khgps_nev", "10", "-khgps_seed", "11", "-khgps_output", files[n]], np_=n)
r = {n: load(files[n]) for n in files}
for n in (2, 3):
    a, b = r[1], r[n]
    tag = f"sparse N=3000, np=1 vs np={n}"
    check(np.array_equal(a["x"], b["x"]), f"{tag}: x* identical bit for bit", f"max diff {np.abs(a['x'] - b['x']).max():.1e}")
    keys = ("energy", "gradient_norm_tao", "gradient_norm", "tao_iterations", "tao_function_evaluations", "polish_steps")
    same = [k for k in keys if a[k] == b[k]]
    check(len(same) == len(keys), f"{tag}: energy, gradient norms and TAO counts identical ({a['tao_iterations']} iterations)",
          str({k: (a[k], b[k]) for k in keys if k not in same}))
    de = np.max(np.abs(a["eigenvalues"] - b["eigenvalues"]) / a["eigenvalues"])
    check(de < 1e-10 and a["status_name"] == b["status_name"] == "minimum", f"{tag}: eigenvalues equal to {de:.1e}, both minima")
done()
