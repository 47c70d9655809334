#!/usr/bin/python3
"""The straightforward numpy/scipy pipeline of issue 6, the speed reference for khgps:
one realization of the KHGPS model

    H = 1/2 sum kappa_i x_i^2 + A/24 sum x_i^4 + 1/2 x.Jx - h sum x_i

drawn with numpy's default_rng (kappa uniform on [kappa_min, kappa0]; J symmetric Gaussian,
variance J^2/N, zero diagonal -- the same model as khgps, though not its Philox draws), minimized
from x = 0 with scipy.optimize.minimize(method="L-BFGS-B"), then the lowest nev eigenpairs of the
Hessian M = J + diag(kappa + A x^2/2) with scipy.linalg.eigh(subset_by_index=[0, nev-1]): values
and vectors (with participation ratios), what khgps computes; --values-only for the values alone.

Gradient tolerance: the same as khgps, ||grad H||_2 <= gtol = 1e-10 sqrt(N). scipy's own `gtol`
bounds the max-norm of the projected gradient, so it is set to gtol/sqrt(N), which implies the
2-norm criterion (||g||_2 <= sqrt(N) ||g||_inf); with the default --stop l2 a callback also stops
L-BFGS at the first iterate whose 2-norm is <= gtol (khgps's criterion exactly; no extra
evaluation: the gradient of the accepted iterate is the last one computed). ftol = 0, so that
L-BFGS-B's relative-energy-decrease test does not end the run early. Near gtol an L-BFGS step
lowers H by only a few ulps of |H| (~ |g|^2 / lambda_min), and L-BFGS-B then stops on "no
decrease" (REL_REDUCTION_OF_F) or a failed line search with |g|_2 still above gtol (seen at
N = 2000 and 4000); it is restarted from where it stopped, up to --restarts times, and the
evaluations of all runs are counted. A run still above gtol is reported (converged: false).

    /usr/bin/python3 bench/reference_numpy.py --N 8000 --J 0.1 --h 0.01 --kappa0 1 --nev 100 --seed 1 --json

Prints the wall time per stage (draw, minimize, eigenpairs), the number of function (and
gradient) evaluations, the final gradient 2-norm, the lowest eigenvalue and the peak resident
memory (getrusage ru_maxrss); with --json a final line with one JSON object."""
import argparse
import json
import os
import resource
import sys
import time

import numpy as np
import scipy
import scipy.linalg
import scipy.optimize

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from roofline import blas_info  # noqa: E402


class _Converged(Exception):
    pass


def draw(N, J, kappa0, kappa_min, seed):
    rng = np.random.default_rng(seed)
    kappa = kappa_min + (kappa0 - kappa_min) * rng.random(N)
    G = rng.standard_normal((N, N))
    Jm = G + G.T  # variance 2 off the diagonal
    del G
    Jm *= J / np.sqrt(2.0 * N)  # variance J^2 / N
    np.fill_diagonal(Jm, 0.0)
    return kappa, Jm


def minimize(Jm, kappa, A, h, gtol, stop="l2", maxcor=10, restarts=5):
    """L-BFGS-B from x = 0. Near gtol the energy decrease per step (~ |g|^2 / lambda_min) is only
    a few ulps of |H|, so L-BFGS-B may end on "REL_REDUCTION_OF_F" or "ABNORMAL_TERMINATION_IN_LNSRCH"
    with |g|_2 still above gtol; it is then restarted from where it stopped (fresh memory), at most
    `restarts` times. Evaluations and iterations are summed over the runs."""
    N = len(kappa)
    st = dict(nfev=0, nit=0, x=None, g=None)

    def fg(x):
        st["nfev"] += 1
        Jx = Jm @ x
        x2 = x * x
        e = x @ (0.5 * Jx + 0.5 * kappa * x + (A / 24.0) * x2 * x - h)
        g = Jx + kappa * x + (A / 6.0) * x2 * x - h
        st["x"], st["g"] = x.copy(), g
        return e, g

    def callback(xk):
        st["nit"] += 1
        if stop == "l2" and st["x"] is not None and np.array_equal(xk, st["x"]) and np.linalg.norm(st["g"]) <= gtol:
            raise _Converged

    x, messages, runs = np.zeros(N), [], 0
    for runs in range(1, restarts + 2):
        try:
            res = scipy.optimize.minimize(fg, x, jac=True, method="L-BFGS-B", callback=callback,
                                          options=dict(gtol=gtol / np.sqrt(N), ftol=0.0, maxcor=maxcor,
                                                       maxiter=1000000, maxfun=1000000))
            x = res.x
            messages.append(str(res.message))
        except _Converged:
            x = st["x"]
            messages.append("gradient 2-norm <= gtol (callback)")
            break
        if np.array_equal(x, st["x"]):
            gn = np.linalg.norm(st["g"])
        else:
            gn = np.linalg.norm(fg(x)[1])
        if gn <= gtol:
            break
    # the final energy and gradient norm, once more outside the solver (one matvec, not counted)
    Jx = Jm @ x
    g = Jx + kappa * x + (A / 6.0) * x**3 - h
    e = x @ (0.5 * Jx + 0.5 * kappa * x + (A / 24.0) * x**3 - h)
    return x, dict(nfev=st["nfev"], nit=st["nit"], runs=runs, gnorm=float(np.linalg.norm(g)), energy=float(e),
                   message="; ".join(messages))


def eigenpairs(Jm, kappa, A, x, nev, inplace=False, vectors=True):
    """The lowest nev eigenvalues and, with vectors (the default, what khgps computes), their
    eigenvectors and participation ratios (sum v^2)^2 / (N sum v^4)."""
    if inplace:  # the Hessian in J's storage, factored in place
        Jm[np.diag_indices_from(Jm)] += kappa + 0.5 * A * x**2
        H = Jm
    else:  # as one would write it
        H = Jm + np.diag(kappa + 0.5 * A * x**2)
    if not vectors:
        return scipy.linalg.eigh(H, eigvals_only=True, subset_by_index=[0, nev - 1], overwrite_a=inplace, check_finite=False), None
    w, V = scipy.linalg.eigh(H, subset_by_index=[0, nev - 1], overwrite_a=inplace, check_finite=False)
    pr = (V**2).sum(axis=0) ** 2 / (len(x) * (V**4).sum(axis=0))
    return w, pr


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--N", type=int, default=8000)
    ap.add_argument("--J", type=float, default=0.1)
    ap.add_argument("--h", type=float, default=0.01)
    ap.add_argument("--A", type=float, default=1.0)
    ap.add_argument("--kappa0", type=float, default=1.0)
    ap.add_argument("--kappa_min", type=float, default=0.0)
    ap.add_argument("--nev", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--gtol", type=float, default=None, help="||grad H||_2 tolerance (default 1e-10 sqrt(N), as khgps)")
    ap.add_argument("--stop", choices=("l2", "scipy"), default="l2",
                    help="l2: also stop at ||g||_2 <= gtol via a callback; scipy: only scipy's max-norm gtol/sqrt(N)")
    ap.add_argument("--maxcor", type=int, default=10, help="L-BFGS memory (scipy's default 10)")
    ap.add_argument("--restarts", type=int, default=5, help="restart L-BFGS-B from where it stopped above gtol")
    ap.add_argument("--inplace", action="store_true", help="form the Hessian in J's storage, eigh(overwrite_a=True)")
    ap.add_argument("--values-only", action="store_true", help="eigenvalues only (khgps computes eigenpairs: the default compares like with like)")
    ap.add_argument("--json", action="store_true", help="end with one JSON line")
    a = ap.parse_args(argv)
    N = a.N
    gtol = 1e-10 * np.sqrt(N) if a.gtol is None else a.gtol
    if not 1 <= a.nev <= N:
        ap.error("nev must be in [1, N]")
    threads, blas = blas_info()

    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # interpreter, numpy, scipy
    t0 = time.perf_counter()
    kappa, Jm = draw(N, a.J, a.kappa0, a.kappa_min, a.seed)
    t1 = time.perf_counter()
    x, r = minimize(Jm, kappa, a.A, a.h, gtol, a.stop, a.maxcor, a.restarts)
    t2 = time.perf_counter()
    w, pr = eigenpairs(Jm, kappa, a.A, x, a.nev, a.inplace, not a.values_only)
    t3 = time.perf_counter()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux

    out = dict(pipeline="numpy/scipy", N=N, J=a.J, h=a.h, A=a.A, kappa0=a.kappa0, kappa_min=a.kappa_min, nev=a.nev,
               seed=a.seed, gtol=gtol, stop=a.stop, maxcor=a.maxcor, inplace=a.inplace, eigenvectors=not a.values_only,
               time_draw=t1 - t0, time_minimize=t2 - t1, time_eigenpairs=t3 - t2, time_total=t3 - t0,
               nfev=r["nfev"], nit=r["nit"], lbfgs_runs=r["runs"], gnorm=r["gnorm"], converged=bool(r["gnorm"] <= gtol),
               lbfgs_message=r["message"], energy=r["energy"], lowest_eigenvalue=float(w[0]),
               minimum=bool(r["gnorm"] <= gtol and w[0] > 0), peak_rss_bytes=rss, peak_rss_over_8N2=rss / (8.0 * N * N),
               rss_before_draw_bytes=rss0,
               threads=threads, blas=blas, numpy=np.__version__, scipy=scipy.__version__)
    print(f"numpy/scipy pipeline: N = {N}, J = {a.J}, h = {a.h}, kappa0 = {a.kappa0}, nev = {a.nev}, seed = {a.seed}, "
          f"{threads} BLAS thread(s)")
    print(f"  draw       {out['time_draw']:8.2f} s")
    print(f"  minimize   {out['time_minimize']:8.2f} s  L-BFGS-B: {r['nfev']} evaluations, {r['nit']} iterations, "
          f"{r['runs']} run(s), "
          f"|grad H|_2 = {r['gnorm']:.2e} (gtol {gtol:.2e}{'' if out['converged'] else ', NOT reached'}); {r['message']}")
    print(f"  eigenpairs {out['time_eigenpairs']:8.2f} s  lowest {a.nev} {'eigenvalues' if pr is None else 'eigenpairs'} (eigh, evr): lowest {w[0]:.6e}")
    print(f"  total      {out['time_total']:8.2f} s   peak RSS {rss / 2**20:.0f} MiB = "
          f"{out['peak_rss_over_8N2']:.2f} x 8N^2 ({rss0 / 2**20:.0f} MiB before the draw)")
    if not out["minimum"]:
        print("  WARNING: not a minimum to gtol (gradient above gtol or lowest eigenvalue <= 0)")
    if a.json:
        print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
