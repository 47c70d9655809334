"""Chebyshev-filtered subspace iteration (-khgps_eigensolver chfsi) on the sparse Hessian.

* the lowest eigenvalues equal LAPACK eigvalsh of the saved Hessian to 1e-8, every reported
  relative residual is below the tolerance (-eps_tol, 1e-10 for sparse couplings);
* the same eigenvalues (1e-8) and participation ratios on 1, 2 and 3 ranks (the random start
  block is keyed by global row and column, not by rank);
* the same pairs as the Krylov-Schur path (the EPS);
* an iteration limit that stops it early reports fewer pairs (nconv < nev), all converged."""
import numpy as np

from common import check, done, hessian, load, out, run

N, c, J, nev = 2000, 8.0, 0.3, 20
base = ["-khgps_coupling", "sparse", "-khgps_connectivity", str(c), "-khgps_N", str(N), "-khgps_J", str(J), "-khgps_nev", str(nev)]
r = {}
for n in (1, 2, 3):
    f = out(f"chf_r{n}.h5")
    run(base + ["-khgps_eigensolver", "chfsi", "-khgps_save_couplings", "-khgps_output", f], np_=n)
    r[n] = load(f)
a = r[1]
check(a["root"]["eigensolver"] == "chfsi" and a["root"]["eps_type"] == "khgps-chfsi", "the file names the eigensolver (chfsi)")
w = np.linalg.eigvalsh(hessian(a))[:nev]
for n in (1, 2, 3):
    e = r[n]["eigenvalues"]
    err = np.max(np.abs(e - w) / w) if len(e) == nev else np.inf
    check(err < 1e-8 and r[n]["status_name"] == "minimum", f"np={n}: {nev} lowest eigenvalues = LAPACK eigvalsh to {err:.1e}")
    res = r[n]["residual"]
    check(len(res) == nev and res.max() <= 1e-10, f"np={n}: relative residuals <= 1e-10 (largest {res.max():.1e})")
for n in (2, 3):
    de = np.max(np.abs(r[n]["eigenvalues"] - a["eigenvalues"]) / a["eigenvalues"])
    dp = np.max(np.abs(r[n]["participation_ratio"] - a["participation_ratio"]))
    check(de < 1e-8 and dp < 1e-6, f"np=1 vs np={n}: eigenvalues equal to {de:.1e}, participation ratios to {dp:.1e}")

fk = out("chf_ks.h5")  # the Krylov-Schur default
run(base + ["-khgps_output", fk], np_=2)
k = load(fk)
de = np.max(np.abs(k["eigenvalues"] - a["eigenvalues"]) / a["eigenvalues"])
dp = np.max(np.abs(k["participation_ratio"] - a["participation_ratio"]))
check(k["root"]["eigensolver"] == "slepc" and de < 1e-8 and dp < 1e-6, f"chfsi = Krylov-Schur: eigenvalues to {de:.1e}, participation ratios to {dp:.1e}")

# other degree / guard / chunk width: the same pairs
fo = out("chf_opts.h5")
run(base + ["-khgps_eigensolver", "chfsi", "-khgps_chfsi_degree", "7", "-khgps_chfsi_guard", "13", "-khgps_chfsi_block", "5", "-khgps_output", fo])
o = load(fo)
de = np.max(np.abs(o["eigenvalues"] - a["eigenvalues"]) / a["eigenvalues"])
check(de < 1e-8, f"degree 7, guard 13, chunks of 5: the same eigenvalues ({de:.1e})")

# an iteration limit: fewer pairs, honestly reported
fm = out("chf_maxit.h5")
p = run(base + ["-khgps_eigensolver", "chfsi", "-khgps_chfsi_max_its", "10", "-khgps_output", fm])
m = load(fm)
m.setdefault("eigenvalues", np.array([]))
m.setdefault("residual", np.array([0.0]))
ok = 0 < m["nconv"] < nev and len(m["eigenvalues"]) == m["nconv"] and m["residual"].max() <= 1e-10
check(ok and "only" in p.stdout, f"-khgps_chfsi_max_its 10: {m['nconv']} of {nev} pairs (some, not all) reported, converged, a warning says so")
if m["nconv"]:
    err = np.max(np.abs(m["eigenvalues"] - w[:m["nconv"]]) / w[:m["nconv"]])
    check(err < 1e-8, f"-khgps_chfsi_max_its 10: the pairs reported are the lowest ({err:.1e})")
done()
