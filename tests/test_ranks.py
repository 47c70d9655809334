"""One realization on 1, 2, 3 and 4 MPI ranks (2-4: J drawn into ScaLAPACK, the Hessian in its place).

kappa and J are drawn from counters (seed, realization, i, j), never from the rank: they must be
equal bit for bit. x*, the energy and the eigenvalues differ only through the order of floating
point sums, which the stopping tolerance bounds (docs/design.md, "Rank independence"):
  |x_a - x_b|_inf <= (|g_a| + |g_b|) / lambda_min + 1e-13 |x|_inf
  |lambda_a - lambda_b| <= A |x|_inf |x_a - x_b|_inf + 2 eps_tol |lambda|   (eps_tol = 1e-12)
  |E_a - E_b| <= N eps_mach sum_i |terms_i| + (|g_a| + |g_b|) |dx|   (worst-case summation)"""
import numpy as np

from common import check, done, load, out, run

for (N, J, h) in [(301, 0.3, 0.01), (200, 1.2, 0.1)]:
    files = {}
    for n in (1, 2, 3, 4):
        files[n] = out(f"ranks_{N}_{n}.h5")
        run(["-khgps_N", str(N), "-khgps_J", str(J), "-khgps_h", str(h), "-khgps_nev", "30", "-khgps_seed", "7",
             "-khgps_realization", "3", "-khgps_save_couplings", "-khgps_output", files[n]], np_=n)
    d = {n: load(files[n], realization=3) for n in files}
    for n in (2, 3, 4):
        a, b = d[1], d[n]
        tag = f"N={N} J={J}: np=1 vs np={n}"
        check(b["root"]["mpi_size"] == n and b["root"]["hessian_mat_type"] == "scalapack", f"{tag}: ran on {n} ranks with a ScaLAPACK Hessian")
        check(np.array_equal(a["kappa"], b["kappa"]), f"{tag}: kappa identical bit for bit")
        check(np.array_equal(a["J"], b["J"]), f"{tag}: J identical bit for bit")
        lam = min(a["eigenvalues"][0], b["eigenvalues"][0])
        xmax = np.max(np.abs(a["x"]))
        dxb = (a["gradient_norm"] + b["gradient_norm"]) / lam + 1e-13 * xmax
        dx = np.max(np.abs(a["x"] - b["x"]))
        check(dx <= dxb, f"{tag}: |dx*| = {dx:.1e} within the bound {dxb:.1e}", "")
        x, Ap, hp = a["x"], a["params"]["A"], a["params"]["h"]
        terms = np.abs(0.5 * x * (a["J"] @ x)) + 0.5 * a["kappa"] * x**2 + Ap * x**4 / 24 + np.abs(hp * x)
        Eb = N * np.finfo(float).eps * terms.sum() + (a["gradient_norm"] + b["gradient_norm"]) * dxb
        dE = abs(a["energy"] - b["energy"])
        check(dE <= Eb, f"{tag}: energy difference {dE:.1e} within the summation bound {Eb:.1e}")
        ea, eb = a["eigenvalues"], b["eigenvalues"]
        lb = a["params"]["A"] * xmax * dxb + 2e-12 * np.abs(ea)
        check(len(ea) == len(eb) and np.all(np.abs(ea - eb) <= lb), f"{tag}: eigenvalues within the bound",
              f"max diff {np.max(np.abs(ea - eb)):.2e}, bound {np.min(lb):.2e}")
        check(a["status_name"] == b["status_name"] == "minimum", f"{tag}: both minima")
done()
