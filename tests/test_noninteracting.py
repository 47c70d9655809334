"""J = 0: every oscillator is alone. x_i solves kappa_i x + A x^3/6 = h (the root reached from
x = 0) and the eigenvalues are exactly kappa_i + A x_i^2/2, each mode on one oscillator."""
import numpy as np
from scipy.optimize import brentq

from common import check, done, load, out, run

for (N, h, kmin, A, nev, tao) in [(400, 0.01, 0.0, 1.0, 60, "bncg"), (400, 0.01, 0.0, 1.0, 60, "blmvm"),
                                  (300, 0.3, 0.2, 2.0, 40, "bncg"), (250, -0.05, 0.0, 1.0, 30, "bncg")]:
    f = out(f"j0_{N}_{tao}.h5")
    run(["-khgps_N", str(N), "-khgps_J", "0", "-khgps_h", str(h), "-khgps_kappa_min", str(kmin),
         "-khgps_A", str(A), "-khgps_nev", str(nev), "-tao_type", tao, "-khgps_polish_its", "0" if tao == "blmvm" else "1",
         "-khgps_output", f])
    d = load(f)
    k, x = d["kappa"], d["x"]
    # the root reached from 0 lies between 0 and h/kappa (or the cubic bound): bracket it independently
    roots = np.array([brentq(lambda y: ki * y + A * y**3 / 6 - h, min(0, np.sign(h) * 10), max(0, np.sign(h) * 10), xtol=1e-15, rtol=1e-15)
                      for ki in k])
    tag = f"N={N} h={h} kappa_min={kmin} A={A} {tao}"
    # stated bound: |x_i - root_i| <= |g_i| / (smallest curvature) <= |g|_2 / min(kappa + A x^2/2)
    bound = 2 * d["gradient_norm"] / np.min(k + 0.5 * A * x**2) + 1e-13 * np.max(np.abs(roots))
    err = np.max(np.abs(x - roots))
    check(err <= bound, f"J=0 {tag}: x_i is the root of kappa x + A x^3/6 = h", f"max err {err:.2e} > bound {bound:.2e}")
    if tao == "bncg":
        check(err < 1e-12, f"J=0 {tag}: after the Newton polish x* is exact to rounding", f"max err {err:.2e}")
    check(np.all(np.sign(x) == np.sign(h)), f"J=0 {tag}: root reached from 0 has the sign of h")
    exact = np.sort(k + 0.5 * A * x**2)[:nev]
    eig = d["eigenvalues"]
    err = np.max(np.abs(eig - exact) / exact) if len(eig) == nev else np.inf
    check(err < 1e-10, f"J=0 {tag}: eigenvalues are kappa_i + A x_i^2/2", f"max rel err {err:.2e}")
    pr = d["participation_ratio"]
    check(np.allclose(pr, 1.0 / N, rtol=1e-8), f"J=0 {tag}: every mode sits on one oscillator (P = 1/N)", f"{pr[:3]}")
    E = np.sum(0.5 * k * roots**2 + A * roots**4 / 24 - h * roots)
    check(abs(d["energy"] - E) <= 1e-12 * abs(E) + 1e-14, f"J=0 {tag}: energy is the sum of single-oscillator energies", f"{d['energy']} vs {E}")
    check(d["status_name"] == "minimum", f"J=0 {tag}: status minimum")
done()
