"""SLEPc's lowest eigenvalues against a LAPACK full diagonalization (numpy eigh) of the Hessian
rebuilt from the saved realization, and the minimum itself against the model's gradient.
(bncg and blmvm may end in different local minima of this glassy landscape: each is checked
as a minimum on its own; their agreement where the minimum is unique is in test_noninteracting.)"""
import numpy as np

from common import check, done, gradient, hessian, load, out, run

for (N, J, h, kappa0, tao) in [(300, 0.3, 0.01, 1.0, "bncg"), (300, 0.3, 0.01, 1.0, "blmvm"), (257, 1.0, 0.05, 2.0, "bncg")]:
    f = out(f"lapack_{N}_{J}_{tao}.h5")
    nev = 40
    run(["-khgps_N", str(N), "-khgps_J", str(J), "-khgps_h", str(h), "-khgps_kappa0", str(kappa0), "-khgps_nev", str(nev),
         "-tao_type", tao, "-khgps_save_couplings", "-khgps_output", f])
    d = load(f)
    tag = f"N={N} J={J} h={h} kappa0={kappa0} {tao}"
    check(d["root"]["tao_type"] == tao, f"{tag}: -tao_type reaches TAO and is recorded")
    M = hessian(d)
    w = np.linalg.eigh(M)[0]
    eig = d["eigenvalues"]
    err = np.max(np.abs(eig - w[:nev]) / np.abs(w[:nev])) if len(eig) == nev else np.inf
    check(err < 1e-10, f"{tag}: lowest {nev} eigenvalues = LAPACK eigh to 1e-10 relative", f"max rel err {err:.2e}")
    g = np.linalg.norm(gradient(d))
    check(g <= d["params"]["gtol"], f"{tag}: gradient at the saved x* vanishes (|g| = {g:.1e} <= gtol)", f"|g| {g:.2e}")
    check(abs(g - d["gradient_norm"]) < 1e-12, f"{tag}: recorded gradient norm matches numpy", f"{g} vs {d['gradient_norm']}")
    check(w[0] > 0 and d["status_name"] == "minimum", f"{tag}: positive definite Hessian, status minimum")
    # participation ratios from LAPACK's eigenvectors (well separated low modes)
    v = np.linalg.eigh(M)[1][:, :nev]
    pr = (np.sum(v**2, 0) ** 2) / (N * np.sum(v**4, 0))
    gap = np.minimum(np.diff(w[: nev + 1])[:nev], np.r_[np.inf, np.diff(w[:nev])])
    ok = gap > 1e-6
    err = np.max(np.abs(pr[ok] - d["participation_ratio"][ok]))
    check(err < 1e-6, f"{tag}: participation ratios = LAPACK eigenvectors'", f"max abs err {err:.2e}")
done()
