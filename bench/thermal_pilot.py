"""Pilot of the thermal start (issue 27.5): inherent structures of parents at T_p against the
start from x = 0, at small cost. One khgps run per T_p (one rank), then a table of the parent's
energy, <x^2>, acceptance and drift diagnostic, e_IS = H(x*)/N, the lowest eigenvalue, and the
chain's seconds per sweep.
  /usr/bin/python3 bench/thermal_pilot.py [--N 500] [--R 20] [--sweeps 20000] [--out DIR]"""
import argparse
import os
import subprocess
import sys

import h5py
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ap = argparse.ArgumentParser()
ap.add_argument("--N", type=int, default=500)
ap.add_argument("--R", type=int, default=20)
ap.add_argument("--sweeps", type=int, default=20000)
ap.add_argument("--temps", default="0.5,0.1,0.03,0.01")
ap.add_argument("--h", default="0.01")
ap.add_argument("--J", default="0.1")
ap.add_argument("--kappa0", default="1")
ap.add_argument("--seed", default="11")
ap.add_argument("--out", default=os.path.join(ROOT, "runs", "out", "thermal_pilot"))
a = ap.parse_args()
os.makedirs(a.out, exist_ok=True)
base = [os.path.join(ROOT, "bin", "khgps"), "-khgps_N", str(a.N), "-khgps_h", a.h, "-khgps_J", a.J, "-khgps_kappa0", a.kappa0,
        "-khgps_nev", "20", "-khgps_seed", a.seed, "-khgps_realizations", str(a.R)]
rows = []
for T in ["zero"] + a.temps.split(","):
    f = os.path.join(a.out, f"pilot_{T}.h5")
    extra = [] if T == "zero" else ["-khgps_start", "thermal", "-khgps_parent_temperature", T, "-khgps_equilibration_sweeps", str(a.sweeps)]
    subprocess.run(base + extra + ["-khgps_output", f], check=True, stdout=subprocess.DEVNULL,
                   env=dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1"))
    with h5py.File(f, "r") as h:
        g = [h["realizations"][k] for k in sorted(h["realizations"])]
        at = lambda n: np.array([x.attrs[n] for x in g], dtype=float)  # noqa: E731
        rows.append((T, at("energy") / a.N, at("lowest_eigenvalue"), at("status"),
                     *(at(n) for n in ("parent_energy", "parent_x2", "parent_acceptance", "parent_drift", "time_parent")),
                     np.array([x["eigenvalues"][()][:20] for x in g])))


def ms(v):
    return f"{v.mean():.5f} ± {v.std(ddof=1) / np.sqrt(len(v)):.5f}"


print(f"N = {a.N}, h = {a.h}, J = {a.J}, kappa0 = {a.kappa0}, {a.R} realizations per start, {a.sweeps} sweeps "
      f"(adapt {a.sweeps // 4}, measured {a.sweeps // 2})")
print("| start | parent H/N | parent <x^2> | acceptance | drift z (mean, max abs) | e_IS | lowest eigenvalue (median, min) | eigenvalues < 0.01 per realization | s/sweep |")
print("|---|---|---|---|---|---|---|---|---|")
for (T, eis, low, st, pe, px, acc, dr, tp, eig) in rows:
    th = T != "zero"
    print(f"| {'T_p = ' + T if th else 'x = 0'} | {ms(pe) if th else '-'} | {ms(px) if th else '-'} | {acc.mean():.3f} | "
          f"{f'{dr.mean():+.2f}, {np.abs(dr).max():.2f}' if th else '-'} | {ms(eis)} | {np.median(low):.2e}, {low.min():.2e} | "
          f"{np.mean(np.sum(eig < 0.01, axis=1)):.2f} | {f'{np.mean(tp) / a.sweeps:.2e}' if th else '-'} |"
          + ("" if np.all(st == 0) else f" ({int(np.sum(st != 0))} not minima)"))
sys.stdout.flush()
