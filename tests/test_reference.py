"""khgps against an independent implementation of the model (tests/reference_model.py, written from
the specification in numpy/scipy): Philox4x64-10 against Random123's known answers; kappa, J and
the random start equal to the independent draws bit for bit; at khgps's x* the independent
gradient vanishes and the independent Hessian is positive definite; energies agree; and where the
minimum is unique (kappa_min > 2J: H strictly convex) the independent L-BFGS + Newton
minimization from x = 0 reaches the same x* and the same lowest eigenvalues.

Bit-exactness of J: khgps calls glibc's log and sincos; the reference calls glibc's log, cos and
sin through Python's math module (one number at a time), and glibc's sincos returns exactly what
sin and cos return, so J must agree bit for bit. numpy's own ufuncs are checked as well: on this
machine (AVX2, no AVX-512) numpy 1.24 dispatches float64 log/sin/cos to glibc and agrees bit for
bit, but on an AVX-512 (SKX) machine it uses its SVML kernels, which may differ by a few ulp, so
that check allows 4 eps relative."""
import numpy as np

import reference_model as rm
from common import check, done, load, out, run

EPS = np.finfo(float).eps

# --- the generator itself -------------------------------------------------------------------
kat = rm.known_answers()
check(all(ok for ok, _, _ in kat), "Philox4x64-10 (numpy, 32-bit halves) = Random123 known-answer vectors",
      str([(hex(w[0]), hex(g[0])) for ok, w, g in kat if not ok]))
check(rm.numpy_philox_agrees(64), "Philox4x64-10 = numpy.random.Philox(counter - 1, key) on 64 random counters/keys")


def draws_checks(d, tag):
    p = d["params"]
    N, seed, real = int(p["N"]), int(p["seed"]), int(d["realization"])
    kappa = rm.draw_kappa(N, p["kappa0"], p["kappa_min"], seed, real)
    nd = int(np.sum(kappa != d["kappa"]))
    check(nd == 0, f"{tag}: kappa = independent draws bit for bit", f"{nd} of {N} differ")
    J = rm.draw_couplings(N, p["J"], seed, real, funcs="libm")
    nd = int(np.sum(J != d["J"]))
    check(nd == 0, f"{tag}: J = independent draws (glibc log/cos/sin) bit for bit", f"{nd} of {N * N} differ, "
          f"max rel {np.max(np.abs(J - d['J']) / np.maximum(np.abs(J), 1e-300)):.1e}")
    Jn = rm.draw_couplings(N, p["J"], seed, real, funcs="numpy")
    rel = np.max(np.abs(Jn - d["J"]) / np.maximum(np.abs(d["J"]), np.finfo(float).tiny))
    same = "bit for bit" if np.array_equal(Jn, d["J"]) else f"max rel {rel:.1e}"
    # numpy's log/cos/sin may differ from glibc's by an ulp of the double draw, which the float32
    # rounding of a coupling hides except at a rounding boundary (then one float32 ulp, 2^-24 rel)
    check(rel <= 2.0**-23, f"{tag}: J = independent draws with numpy's log/cos/sin ({same})", f"max rel {rel:.2e}")
    m = rm.Model.__new__(rm.Model)  # the independent model, with the independent draws
    m.N, m.h, m.A, m.kappa, m.J, m.nfev = N, p["h"], p["A"], kappa, J, 0
    return m


def minimum_checks(m, d, tag):
    p = d["params"]
    x = d["x"]
    g = np.linalg.norm(m.gradient(x))
    check(g <= p["gtol"], f"{tag}: independent gradient at khgps's x* vanishes (|g| = {g:.1e} <= gtol {p['gtol']:.1e})")
    Mx = m.hessian(x)
    w = np.linalg.eigvalsh(Mx)
    check(rm.is_positive_definite(Mx) and w[0] > 0, f"{tag}: independent Hessian at x* positive definite (Cholesky; "
          f"lowest eigenvalue {w[0]:.3e})")
    E = m.energy(x)
    err = abs(E - d["energy"]) / abs(E)
    check(err <= 1e-12, f"{tag}: energy = independent H(x*) to 1e-12 relative", f"{E!r} vs {d['energy']!r} ({err:.1e})")
    nev = len(d["eigenvalues"])
    err = np.max(np.abs(d["eigenvalues"] - w[:nev]) / np.abs(w[:nev]))
    check(err <= 1e-10, f"{tag}: khgps's lowest {nev} eigenvalues = independent Hessian's to 1e-10 relative", f"{err:.1e}")


# --- glassy case, odd N, the largest 32-bit seed 2^31 - 1 (khgps accepts any seed in [0, 2^63)), a nonzero realization
f = out("ref_glassy.h5")
run(["-khgps_N", "301", "-khgps_J", "0.3", "-khgps_h", "0.01", "-khgps_seed", "2147483647", "-khgps_realization", "3",
     "-khgps_nev", "20", "-khgps_save_couplings", "-khgps_output", f])
d = load(f, 3)
tag = "N=301 J=0.3 seed=2^31-1 realization=3"
check(d["status_name"] == "minimum", f"{tag}: khgps reports a minimum")
m = draws_checks(d, tag)
minimum_checks(m, d, tag)

# --- weak coupling (J = 0.02, h = 0.05): gapped, kappa_min = 0.2 > 2J >= |spectrum of J|, so H is
# strictly convex and the minimum unique; and gapless (kappa_min = 0), unique from x = 0 in practice
for (N, kmin, k0, A, seed, real) in [(400, 0.2, 1.5, 1.3, 5, 11), (250, 0.0, 1.0, 1.0, 3, 0)]:
    f = out(f"ref_weak_{N}.h5")
    run(["-khgps_N", str(N), "-khgps_J", "0.02", "-khgps_h", "0.05", "-khgps_kappa0", str(k0), "-khgps_kappa_min", str(kmin),
         "-khgps_A", str(A), "-khgps_seed", str(seed), "-khgps_realization", str(real), "-khgps_nev", "20",
         "-khgps_save_couplings", "-khgps_output", f])
    d = load(f, real)
    tag = f"N={N} J=0.02 h=0.05 kappa_min={kmin} seed={seed} realization={real}"
    check(d["status_name"] == "minimum", f"{tag}: khgps reports a minimum")
    m = draws_checks(d, tag)
    minimum_checks(m, d, tag)
    r = m.minimize()
    dx = np.max(np.abs(r["x"] - d["x"]))
    check(dx <= 1e-9, f"{tag}: independent L-BFGS + {r['newton_steps']} Newton from x = 0 reaches khgps's x* "
          f"(|dx|_inf = {dx:.1e} <= 1e-9)", f"|dx| {dx:.2e}, independent |g| {r['gnorm']:.1e}")
    nev = len(d["eigenvalues"])
    w = m.lowest_eigenvalues(r["x"], nev)
    err = np.max(np.abs(w - d["eigenvalues"]) / np.abs(w))
    check(err <= 1e-10, f"{tag}: lowest {nev} eigenvalues at the independent minimum = khgps's to 1e-10 relative "
          f"({err:.0e})", f"{err:.1e}")

# --- the random start (stream 2): stop TAO before its first step, no polish: x = x0 ----------
f = out("ref_x0.h5")
run(["-khgps_N", "50", "-khgps_seed", "9", "-khgps_realization", "2", "-khgps_x0_amplitude", "0.7", "-tao_max_it", "0",
     "-khgps_polish_its", "0", "-khgps_nev", "2", "-khgps_output", f])
d = load(f, 2)
x0 = rm.draw_x0(50, 0.7, 9, 2)
check(np.array_equal(d["x"], x0), "random start x0 (a = 0.7, seed 9, realization 2) = independent draws bit for bit",
      f"max diff {np.max(np.abs(d['x'] - x0)):.1e}")
done()
