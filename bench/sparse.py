#!/usr/bin/python3
"""make bench-sparse: the sparse eigensolvers side by side, and 2 ranks against 1.

One realization of options/sparse.opts (c = 20, J = 0.1, h = 0.01, kappa0 = 1, 100 eigenpairs) at
N = BENCH_SPARSE_N (default 100000; 1000000 is the issue's size, ~7 min on 2 ranks and ~11 on 1),
one thread per rank, each run in a new file:
  * the default, Krylov-Schur on the Chebyshev polynomial of M, on 1 and on 2 ranks;
  * Krylov-Schur on M itself (-khgps_filter_degree 0 -eps_smallest_real -eps_tol 1e-10), 2 ranks
    (BENCH_SPARSE_KS=0 skips it: at N = 1e6 it takes ~15 min).
Prints wall time per stage, the products with M and orthogonalizations (-log_view), peak memory,
the lowest eigenvalue, the largest residual, and the speed-ups. Results in bench/last_sparse.json."""
import json
import os
import re
import subprocess
import sys
import tempfile

import h5py

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MPI = ["mpiexec", "--oversubscribe"] + (["--allow-run-as-root"] if os.geteuid() == 0 else [])
TMP = tempfile.mkdtemp(prefix="khgps-bench-sparse-")


def event(log, name):
    """(count, seconds) of a -log_view event, summed over stages."""
    n, t = 0, 0.0
    for line in open(log):
        if line.startswith(name + " "):
            f = line.split()
            n, t = n + int(f[1]), t + float(f[3])
    return n, t


def run(N, np_, label, extra, degree):
    f, log = os.path.join(TMP, f"{label}_{np_}.h5"), os.path.join(TMP, f"{label}_{np_}.log")
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    cmd = ([*MPI, "-n", str(np_)] if np_ > 1 else []) + [os.path.join(ROOT, "bin", "khgps"), "-options_file", "options/sparse.opts",
                                                     "-khgps_N", str(N), "-khgps_output", f, "-log_view", ":" + log] + extra
    print(f"bench-sparse: N = {N}, {label}, np = {np_} ...", flush=True)
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    if p.returncode:
        sys.exit(f"bench-sparse: khgps failed:\n{p.stdout}\n{p.stderr}")
    rss = float(re.search(r"peak resident memory (\d+) MiB \(largest rank\), (\d+) MiB", p.stdout).group(2))
    with h5py.File(f) as h:
        g = h["realizations/000000"]
        r = {k: float(g.attrs[k]) for k in ("time_draw", "time_minimize", "time_spectrum", "lowest_eigenvalue")}
        r["status"] = g.attrs["status_name"].decode()
        r["nconv"] = int(g.attrs["nconv"])
        r["max_residual"] = float(g["residual"][:].max()) if r["nconv"] else float("nan")
        r["tao_iterations"] = int(g.attrs["tao_iterations"])
        r["x_sha256"] = __import__("hashlib").sha256(g["x"][:].tobytes()).hexdigest()
    r["time"] = r["time_draw"] + r["time_minimize"] + r["time_spectrum"]
    r["rss_MiB"] = rss
    # PETSc logs a MatMult inside another (the filter's products inside the EPS's product with the
    # polynomial) once, as the outer one: each filter application is degree products with M
    nf = event(log, "KhgpsFilterApply")[0]
    r["products"] = event(log, "MatMult")[0] - nf + nf * degree
    r["orthogonalizations"], r["time_ortho"] = event(log, "BVOrthogonalizeV")
    r["label"], r["np"] = label, np_
    return r


def main():
    N = int(os.environ.get("BENCH_SPARSE_N", "100000"))
    deg = int(re.search(r"^-khgps_filter_degree\s+(\d+)", open(os.path.join(ROOT, "options", "sparse.opts")).read(), re.M).group(1))
    ks = os.environ.get("BENCH_SPARSE_KS", "1") != "0"
    runs = [run(N, 2, "filter", [], deg), run(N, 1, "filter", [], deg)]
    if ks:
        runs.append(run(N, 2, "ks-on-M", ["-khgps_filter_degree", "0", "-eps_smallest_real", "-eps_tol", "1e-10"], 0))
    print(f"\n  N = {N}, c = 20, 100 eigenpairs, one thread per rank, filter degree {deg}")
    print(f"  {'':18s} {'np':>3s} {'draw':>7s} {'minimize':>9s} {'spectrum':>9s} {'total':>8s} {'memory':>9s} {'products':>9s} {'orthog.':>14s} {'lowest':>13s} {'max resid':>9s}")
    for r in runs:
        print(f"  {r['label']:18s} {r['np']:3d} {r['time_draw']:7.1f} {r['time_minimize']:9.1f} {r['time_spectrum']:9.1f} {r['time']:8.1f} {r['rss_MiB']:6.0f} MiB"
              f" {r['products']:9d} {r['orthogonalizations']:6d} {r['time_ortho']:6.1f} s {r['lowest_eigenvalue']:13.6e} {r['max_residual']:9.1e}"
              + ("" if r["status"] == "minimum" and r["nconv"] == 100 else f"  ({r['status']}, {r['nconv']} pairs)"))
    f2, f1 = runs[:2]
    print(f"  filter np=2 over np=1: {f1['time'] / f2['time']:.2f}x in all, {f1['time_minimize'] / f2['time_minimize']:.2f}x on the minimization,"
          f" {f1['time_spectrum'] / f2['time_spectrum']:.2f}x on the spectrum"
          + ("" if abs(f1["lowest_eigenvalue"] - f2["lowest_eigenvalue"]) <= 1e-8 * abs(f2["lowest_eigenvalue"]) else "  (the rank counts reached different minima)"))
    print(f"  x* on 1 and 2 ranks: " + ("identical bit for bit" if f1["x_sha256"] == f2["x_sha256"] else "DIFFERENT")
          + f" ({f2['tao_iterations']} and {f1['tao_iterations']} TAO iterations)")
    if ks:
        print(f"  filter against Krylov-Schur on M (np=2): {runs[2]['time_spectrum'] / f2['time_spectrum']:.2f}x on the spectrum")
    out = os.path.join(ROOT, "bench", "last_sparse.json")
    with open(out, "w") as fh:
        json.dump({"N": N, "runs": runs}, fh, indent=1)
    print(f"\nbench-sparse: results in {out}")


if __name__ == "__main__":
    main()
