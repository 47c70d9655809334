"""Sparse diluted couplings (-khgps_coupling sparse): pairs coupled with probability c/N by
counter-based geometric skips, J_ij = J/sqrt(c) z_ij with the dense model's z_ij.

* c = N couples every pair: exactly the dense model (same J bit for bit, same minimum, same
  eigenvalues to 1e-8) -- the dense model recovered as c -> N.
* the graph and the values: symmetric, zero diagonal, mean degree c (N-1)/N and variance J^2/c
  within sampling error; identical on 1, 2 and 3 ranks, minima within the pipeline's bound.
* the eigenpairs (the polynomial filter by default, Jacobi-Davidson from options) against LAPACK eigh
  of the saved Hessian.
* large c: <x*^2> agrees with the dense model's within statistical error over realizations."""
import numpy as np

from common import check, done, hessian, load, out, run

# c = N: the dense model exactly
N = 300
fs, fd = out("sp_full.h5"), out("sp_dense.h5")
run(["-khgps_coupling", "sparse", "-khgps_connectivity", str(N), "-khgps_N", str(N), "-khgps_J", "0.4", "-khgps_nev", "30", "-khgps_save_couplings", "-khgps_output", fs])
run(["-khgps_N", str(N), "-khgps_J", "0.4", "-khgps_nev", "30", "-khgps_save_couplings", "-khgps_output", fd])
s, d = load(fs), load(fd)
check(np.array_equal(s["J"], d["J"]), "c = N: the sparse J is the dense J bit for bit")
dx = np.max(np.abs(s["x"] - d["x"]))
check(dx < 1e-10, f"c = N: the same minimum (|dx| = {dx:.1e})")
de = np.max(np.abs(s["eigenvalues"] - d["eigenvalues"]) / d["eigenvalues"])
check(de < 1e-8, f"c = N: the same eigenvalues ({de:.1e} relative), by the sparse default (filtered Krylov-Schur) and by shift-invert Cholesky")

# the graph, on 1, 2, 3 ranks
N, c, J = 2000, 8.0, 0.3
files = {}
for n in (1, 2, 3):
    files[n] = out(f"sp_r{n}.h5")
    run(["-khgps_coupling", "sparse", "-khgps_connectivity", str(c), "-khgps_N", str(N), "-khgps_J", str(J), "-khgps_nev", "20",
         "-khgps_save_couplings", "-khgps_output", files[n]], np_=n)
r = {n: load(files[n]) for n in files}
Jm = r[1]["J"]
check(np.array_equal(Jm, Jm.T) and np.all(np.diag(Jm) == 0), "sparse J symmetric with zero diagonal")
deg = (Jm != 0).sum(1)
mean_deg, sd = deg.mean(), np.sqrt(2 * c / N)  # 2 x edges ~ Binomial: Var(mean degree) = 2c/N
check(abs(mean_deg - c * (N - 1) / N) < 5 * sd, f"mean degree {mean_deg:.3f} = c (N-1)/N = {c * (N - 1) / N:.3f} within 5 sigma")
vals = Jm[np.triu_indices(N, 1)]
vals = vals[vals != 0] / (J / np.sqrt(c))
check(abs(vals.var() - 1) < 5 * np.sqrt(2 / vals.size), f"nonzero J_ij have variance J^2/c ({vals.var():.3f})")
for n in (2, 3):
    a, b = r[1], r[n]
    check(np.array_equal(a["J"], b["J"]) and np.array_equal(a["kappa"], b["kappa"]), f"np=1 vs np={n}: the same graph and values bit for bit")
    lam = min(a["eigenvalues"][0], b["eigenvalues"][0])
    dxb = (a["gradient_norm"] + b["gradient_norm"]) / lam + 1e-13 * np.abs(a["x"]).max()
    check(np.abs(a["x"] - b["x"]).max() <= dxb, f"np=1 vs np={n}: x* within the bound {dxb:.1e}")
    de = np.max(np.abs(a["eigenvalues"] - b["eigenvalues"]) / a["eigenvalues"])
    check(de < 1e-8, f"np=1 vs np={n}: eigenvalues equal to {de:.1e}")
w = np.linalg.eigvalsh(hessian(r[1]))
e = r[1]["eigenvalues"]
err = np.max(np.abs(e - w[:20]) / w[:20])
check(err < 1e-8 and r[1]["status_name"] == "minimum", f"sparse: 20 lowest eigenvalues (filtered Krylov-Schur) = LAPACK eigh to {err:.1e}")
fj = out("sp_jd.h5")  # Jacobi-Davidson composed from options (composed on the command line) gives the same pairs
run(["-khgps_coupling", "sparse", "-khgps_connectivity", str(c), "-khgps_N", str(N), "-khgps_J", str(J), "-khgps_nev", "20", "-khgps_output", fj,
     "-eps_type", "jd", "-st_type", "precond", "-st_ksp_type", "gmres", "-st_ksp_max_it", "10", "-st_pc_type", "jacobi", "-eps_mpd", "40"])
jd = load(fj)
err = np.max(np.abs(jd["eigenvalues"] - w[:20]) / w[:20]) if len(jd["eigenvalues"]) == 20 else np.inf
check(err < 1e-8 and jd["root"]["eps_type"] == "jd", f"sparse: Jacobi-Davidson from options = LAPACK eigh to {err:.1e}")

# large c against the dense model: <x*^2> over realizations
N, R = 400, 12
x2 = {}
for name, extra in (("dense", []), ("sparse c=N/2", ["-khgps_coupling", "sparse", "-khgps_connectivity", str(N // 2)])):
    f = out(f"sp_x2_{len(x2)}.h5")
    run(extra + ["-khgps_N", str(N), "-khgps_J", "0.3", "-khgps_nev", "10", "-khgps_realizations", str(R), "-khgps_output", f])
    x2[name] = np.array([np.mean(load(f, k)["x"] ** 2) for k in range(R)])
a, b = x2["dense"], x2["sparse c=N/2"]
diff, err = abs(a.mean() - b.mean()), np.sqrt(a.var(ddof=1) / R + b.var(ddof=1) / R)
check(diff < 3 * err, f"<x*^2>: dense {a.mean():.4f} vs sparse c=N/2 {b.mean():.4f} agree within 3 sigma ({diff:.4f} < 3 x {err:.4f})")
done()
