"""Runs that do not reach a true minimum say so and are recorded as such.

Saddle: with h = 0, x = 0 is a stationary point (grad H = 0 there) and TAO stops at once; with
J large against kappa0 the Hessian J + diag(kappa) has negative eigenvalues (semicircle of
radius 2J), so the point is a saddle. Not converged: TAO stopped after 3 iterations, no polish."""
import numpy as np

from common import check, done, hessian, load, out, run

N = 200
for n, polish in ((1, 1), (1, 0), (2, 1)):
    f = out(f"saddle_{n}_{polish}.h5")
    p = run(["-khgps_N", str(N), "-khgps_J", "1.0", "-khgps_h", "0", "-khgps_kappa0", "1", "-khgps_nev", "10",
             "-khgps_polish_its", str(polish), "-khgps_save_couplings", "-khgps_output", f], np_=n)
    d = load(f)
    w = np.linalg.eigh(hessian(d))[0]
    tag = f"saddle at x = 0, h = 0, {n} rank(s), {polish} Newton step(s)"
    check(np.all(d["x"] == 0) and w[0] < 0, f"{tag}: the stationary point x = 0 is indeed a saddle (numpy lowest {w[0]:.3f})")
    check(d["status_name"] == "saddle" and d["status"] == 2, f"{tag}: recorded as saddle", f"status {d['status_name']}")
    check(d["cholesky_ok"] == 0, f"{tag}: the Cholesky factorization ({'Newton' if polish else 'eigensolver'}) reported it")
    check("WARNING" in p.stdout and "saddle" in p.stdout, f"{tag}: the run says so")
    if n == 1:  # dense: an indefinite (sytrf) factorization still gives the 10 eigenvalues nearest 0
        e = d["eigenvalues"]
        near0 = np.sort(w[np.argsort(np.abs(w))[:10]])
        check(len(e) == 10 and np.allclose(e, near0, rtol=1e-10) and e[0] < 0, f"{tag}: the eigenvalues nearest 0, negative ones included, are recorded ({e[0]:.4f})")

f = out("notconv.h5")
p = run(["-khgps_N", str(N), "-khgps_J", "0.3", "-khgps_nev", "10", "-tao_max_it", "3", "-khgps_polish_its", "0", "-khgps_output", f])
d = load(f)
check(d["status_name"] == "not_converged" and d["status"] == 1, "TAO stopped after 3 iterations: recorded as not_converged", d["status_name"])
check(d["tao_iterations"] == 3 and d["tao_reason"] < 0 and d["gradient_norm"] > d["params"]["gtol"], "not_converged: TAO's reason and gradient norm recorded",
      f"{d['tao_iterations']} {d['tao_reason_name']} {d['gradient_norm']}")
check("WARNING" in p.stdout and "not_converged" in p.stdout, "not_converged: the run says so")
# a TAO stop short of the minimum that the Newton polish rescues: a true minimum (|g| <= gtol), the
# same point and lowest eigenvalue as the uninterrupted run; without the polish it stays not_converged
full, short, rescued = out("full.h5"), out("short.h5"), out("rescued.h5")
common_args = ["-khgps_N", str(N), "-khgps_J", "0.3", "-khgps_nev", "10"]
run(common_args + ["-khgps_output", full])
run(common_args + ["-tao_max_it", "30", "-khgps_polish_its", "0", "-khgps_output", short])
run(common_args + ["-tao_max_it", "30", "-khgps_polish_its", "6", "-khgps_output", rescued])
a, b, c = load(full), load(short), load(rescued)
check(b["status_name"] == "not_converged" and b["gradient_norm"] > b["params"]["gtol"],
      f"30 TAO its, no polish: not_converged (|g| = {b['gradient_norm']:.1e})")
check(c["status_name"] == "minimum" and c["tao_iterations"] == 30 and c["polish_steps"] >= 1 and c["gradient_norm"] <= c["params"]["gtol"],
      f"30 TAO its + Newton: rescued to a minimum, |g| = {c['gradient_norm']:.1e} <= gtol after {c['polish_steps']} step(s)", c["status_name"])
dx = np.max(np.abs(c["x"] - a["x"]))
de = abs(c["lowest_eigenvalue"] / a["lowest_eigenvalue"] - 1)
check(dx < 1e-10 and de < 1e-10, f"rescued: the uninterrupted run's minimum (|dx| {dx:.1e}, lowest eigenvalue to {de:.1e})")
done()
