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
        "-khgps_nev", "10", "-khgps_seed", a.seed, "-khgps_realizations", str(a.R)]
rows = []
for T in ["zero"] + a.temps.split(","):
    f = os.path.join(a.out, f"pilot_{T}.h5")
    extra = [] if T == "zero" else ["-khgps_start", "thermal", "-khgps_parent_temperature", T, "-khgps_equilibration_sweeps", str(a.sweeps)]
    subprocess.run(base + extra + ["-khgps_output", f], check=True, stdout=subprocess.DEVNULL,
                   env=dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1"))
    with h5py.File(f, "r") as h:
        g = [h["realizations"][k] for k in sorted(h["realizations"])]
        d = {n: np.array([x.attrs[n] for x in g], dtype=float) for n in g[0].attrs if not isinstance(g[0].attrs[n], (str, bytes))}
        d["x"] = np.array([x["x"][()] for x in g])
        d["eig"] = np.array([x["eigenvalues"][()][:10] for x in g])
        rows.append((T, d))


def ms(v, k=5):
    return f"{v.mean():.{k}f} ± {v.std(ddof=1) / np.sqrt(len(v)):.{k}f}"


z0 = rows[0][1]
print(f"N = {a.N}, h = {a.h}, J = {a.J}, kappa0 = {a.kappa0}, seed {a.seed}, {a.R} realizations per start (the same "
      f"realizations: J and kappa shared), {a.sweeps} sweeps (adapt {a.sweeps // 4}, measured {a.sweeps // 2})")
print("| start | parent H/N | parent <x^2> | acceptance | drift z: mean, mean z^2, max abs | e_IS | e_IS - e_IS(x=0), paired (1e-6) | same minimum as x = 0 | lowest eigenvalue: median, min | s/sweep |")
print("|---|---|---|---|---|---|---|---|---|---|")
for (T, d) in rows:
    th = T != "zero"
    eis = d["energy"] / a.N
    de = (d["energy"] - z0["energy"]) / a.N * 1e6
    same = np.max(np.abs(d["x"] - z0["x"]), axis=1) < 1e-6
    low = d["lowest_eigenvalue"]
    dr = d.get("parent_drift", np.zeros(1))
    line = (f"| {'T_p = ' + T if th else 'x = 0'} | {ms(d['parent_energy']) if th else '-'} | {ms(d['parent_x2']) if th else '-'} | "
            f"{d['parent_acceptance'].mean():.3f} | " if th else "| x = 0 | - | - | - | ")
    line += (f"{dr.mean():+.2f}, {np.mean(dr**2):.2f}, {np.abs(dr).max():.2f} | " if th else "- | ")
    line += f"{ms(eis, 6)} | {ms(de, 2) if th else '-'} | {int(same.sum())}/{len(same)} | {np.median(low):.3e}, {low.min():.3e} | "
    line += f"{np.mean(d['time_parent']) / a.sweeps:.2e} |" if th else "- |"
    if np.any(d["status"] != 0):
        line += f" ({int(np.sum(d['status'] != 0))} not minima)"
    print(line)
sys.stdout.flush()
