#!/usr/bin/python3
"""An independent check of a tail campaign's digest: the same realizations (seed, index) computed by
the numpy/scipy implementation of the model in tests/reference_model.py (its own Philox draws,
L-BFGS-B and Newton minimization, LAPACK eigh), compared realization by realization and as an
ensemble (<omega_min>, A_g and beta from the softest mode).

  /usr/bin/python3 bench/tail_reference.py results/tail/J0.1_h0.01_k1/N1000.h5 [--count 100]

Both minimize from x = 0, with different minimizers (TAO bncg against L-BFGS-B): in a glassy
landscape they may end in different minima of the same H. Where the energies agree to 1e-9
relative they found the same minimum, and the lowest eigenvalues must agree to 1e-8; the ensemble
numbers must agree within their errors either way."""
import argparse
import math
import os
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "analysis"))
sys.path.insert(0, os.path.join(ROOT, "tests"))
from khgps import digest as kd  # noqa: E402
from khgps import tail as kt  # noqa: E402
import reference_model as rm  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("digest")
    ap.add_argument("--count", type=int, default=100, help="realizations to recompute (the first ones)")
    a = ap.parse_args(argv)
    d = kd.read(a.digest)
    p = d.params
    N = d.N
    idx = [i for i in range(len(d)) if d.cols["status"][i] == 0][: a.count]
    same, dlam, w_ref, w_kh, t0 = 0, [], [], [], time.time()
    for n, i in enumerate(idx):
        k = int(d.cols["realization"][i])
        m = rm.Model(N, J=float(p["J"]), h=float(p["h"]), A=float(p["A"]), kappa0=float(p["kappa0"]),
                     kappa_min=float(p.get("kappa_min", 0.0)), seed=int(p["seed"]), realization=k)
        r = m.minimize()
        lam = m.lowest_eigenvalues(r["x"], 1)[0]
        w_ref.append(math.sqrt(max(lam, 0)))
        w_kh.append(math.sqrt(d.cols["lowest_eigenvalue"][i]))
        if abs(r["energy"] - d.cols["energy"][i]) <= 1e-9 * abs(r["energy"]):
            same += 1
            dlam.append(abs(lam - d.cols["lowest_eigenvalue"][i]) / lam)
        if (n + 1) % 10 == 0:
            print(f"  {n + 1}/{len(idx)} realizations, {time.time() - t0:.0f} s", file=sys.stderr, flush=True)
    w_ref, w_kh = np.array(w_ref), np.array(w_kh)
    print(f"{a.digest}: N = {N}, J = {p['J']:g}, h = {p['h']:g}, kappa0 = {p['kappa0']:g}: {len(idx)} realizations")
    print(f"  same minimum (energy to 1e-9): {same} of {len(idx)}; there max |d lambda_min|/lambda_min = "
          f"{max(dlam) if dlam else float('nan'):.2e}")
    for name, w in (("khgps", w_kh), ("reference", w_ref)):
        f4 = kt.softest_mode_fit(w, N, beta=4.0)
        ff = kt.softest_mode_fit(w, N)
        print(f"  {name:9s} <omega_min> = {w.mean():.5f} +- {w.std(ddof=1) / math.sqrt(len(w)):.5f}   "
              f"A_g = {f4['A']:.4g} +- {f4['A_err']:.2g}   beta = {ff['beta']:.3f} +- {ff['beta_err']:.3f}")
    diff = w_kh.mean() - w_ref.mean()
    err = math.sqrt(w_kh.var(ddof=1) / len(w_kh) + w_ref.var(ddof=1) / len(w_ref))
    print(f"  difference of <omega_min>: {diff:.5f} ({diff / err:+.2f} sigma, unpaired)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
