"""Krylov-Schur on a Chebyshev polynomial of the sparse Hessian (filter.c; the sparse default).

* the pairs against LAPACK eigh of the saved Hessian (1e-10) and their residuals (<= 1e-9);
* the same pairs as Krylov-Schur on M itself (-khgps_filter_degree 0), for even and odd degrees;
* the interlacing cut is above the nev-th eigenvalue and the damped interval reaches the top of
  the spectrum (read from -info, checked against LAPACK); with J = 0 the bound is exact and the
  cut's margin still keeps all nev pairs;
* a cut given below the nev-th eigenvalue: only the pairs below it are kept (fewer than nev,
  a warning, nconv recorded), and they are LAPACK's lowest;
* 1, 2 and 3 ranks give the same pairs;
* bad compositions are refused in one line."""
import re

import numpy as np

from common import check, done, hessian, load, out, run

N, c, J, nev = 1500, 8.0, 0.3, 20
base = ["-khgps_coupling", "sparse", "-khgps_connectivity", str(c), "-khgps_N", str(N), "-khgps_J", str(J), "-khgps_nev", str(nev)]
f = out("flt.h5")
p = run(base + ["-khgps_save_couplings", "-khgps_output", f, "-info", ":sys"])
d = load(f)
w = np.linalg.eigvalsh(hessian(d))
e = d["eigenvalues"]
err = np.max(np.abs(e - w[:nev]) / np.abs(w[:nev])) if len(e) == nev else np.inf
check(err < 1e-10 and d["status_name"] == "minimum", f"filter (default): {nev} lowest eigenvalues = LAPACK eigh to {err:.1e}")
check(d["residual"].max() <= 1e-9, f"filter: residuals of M's pairs <= 1e-9 (max {d['residual'].max():.1e})")
m = re.search(r"damped interval \[([-0-9.e+]+), ([-0-9.e+]+)\] \(interlacing cut\)", p.stdout + p.stderr)
check(m is not None, "filter is the sparse default (its -info line is there)")
if m:
    a, b = float(m.group(1)), float(m.group(2))
    check(w[nev - 1] <= a < w[-1], f"interlacing cut {a:.4f} is above the {nev}th eigenvalue {w[nev - 1]:.4f}")
    check(b >= w[-1], f"damped interval reaches the top of the spectrum ({b:.4f} >= {w[-1]:.4f})")

# J = 0: M is diagonal, the interlacing bound is exactly the nev-th eigenvalue; the cut's margin
# keeps that pair (theta >= cosh 2) and all nev are found
g = out("flt_j0.h5")
run(["-khgps_coupling", "sparse", "-khgps_connectivity", str(c), "-khgps_N", str(N), "-khgps_J", "0", "-khgps_nev", str(nev), "-khgps_output", g])
z = load(g)
dz = np.sort(z["kappa"] + 0.5 * z["params"]["A"] * z["x"] ** 2)[:nev]
err = np.max(np.abs(z["eigenvalues"] - dz) / dz) if len(z["eigenvalues"]) == nev else np.inf
check(err < 1e-10, f"J = 0 (diagonal M, the bound exact): all {nev} pairs = the smallest diagonal entries to {err:.1e} (got {len(z['eigenvalues'])})")

for deg in (0, 7):
    g = out(f"flt_d{deg}.h5")
    run(base + ["-khgps_filter_degree", str(deg), "-khgps_output", g] + (["-eps_tol", "1e-11"] if deg == 0 else []))
    e2 = load(g)["eigenvalues"]
    de = np.max(np.abs(e2 - e) / np.abs(e)) if len(e2) == nev else np.inf
    what = "Krylov-Schur on M itself (degree 0)" if deg == 0 else "odd degree 7"
    check(de < 1e-10, f"filter vs {what}: the same eigenvalues to {de:.1e}")

# a cut below the nev-th eigenvalue: the pairs above it are not trusted
cut = 0.5 * (w[9] + w[10])
g = out("flt_low.h5")
p = run(base + ["-khgps_filter_cut", repr(cut), "-eps_max_it", "60", "-khgps_output", g])
lo = load(g)
k = len(lo["eigenvalues"])
ok = k == 10 and np.max(np.abs(lo["eigenvalues"] - w[:10]) / w[:10]) < 1e-10
check(ok and lo["nconv"] == 10, f"cut between the 10th and 11th eigenvalue: the 10 pairs below it kept and = LAPACK's (got {k})")
check("only 10 of 20 eigenpairs" in p.stdout, "cut too low: the run warns that fewer pairs converged")

# ranks
for n in (2, 3):
    g = out(f"flt_np{n}.h5")
    run(base + ["-khgps_output", g], np_=n)
    e2 = load(g)["eigenvalues"]
    de = np.max(np.abs(e2 - e) / np.abs(e)) if len(e2) == nev else np.inf
    check(de < 1e-8, f"filter: np=1 vs np={n} eigenvalues equal to {de:.1e}")

# bad compositions
for what, args, needle in [
    ("negative degree", ["-khgps_filter_degree", "-1"], "filter_degree"),
    ("filter with dense couplings", ["-khgps_coupling", "dense", "-khgps_filter_degree", "10"], "sparse couplings"),
    ("filter with a preconditioned ST", ["-khgps_filter_degree", "10", "-eps_type", "jd", "-st_type", "precond"], "filter_degree 0"),
    ("filter with another target", ["-eps_largest_magnitude"], "filter_degree 0"),
]:
    p = run(base + args + ["-khgps_output", out("flt_bad.h5"), "-khgps_overwrite"], check_rc=False)
    lines = [l for l in p.stderr.splitlines() if l.strip()]
    check(p.returncode == 2 and len(lines) == 1 and needle in lines[0], f"{what}: refused in one line", p.stderr[:300])
done()
