#!/usr/bin/env python3
"""Minimizers side by side (issue 23 items 1 and 2).

speed: TAO iterations, J x products and TaoSolve seconds of each minimizer on the same
realizations (the configurations interleaved per realization, so that a change in the machine's
load hits all of them alike), from khgps -khgps_minimizer_view lines. The spectrum is skipped in
effect (plain Krylov-Schur, one iteration): only the minimizer is measured.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python3 bench/minimizers.py speed --N 2000 8000 16000 --R 3

equiv: the same physics from two ensembles of the same realizations (khgps HDF5 files, one or more
per minimizer): two-sample KS test of the lowest frequency omega = sqrt(lowest eigenvalue), <x^2>
and energy per oscillator with standard errors, fraction of realizations at the same minimum.

    python3 bench/minimizers.py equiv --a eq_bncg_*.h5 --b eq_lmvm-diag_*.h5
"""
import argparse
import math
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KHGPS = os.environ.get("KHGPS", os.path.join(ROOT, "bin", "khgps"))  # a copy, so that a rebuild does not touch a running benchmark

CONFIGS = {
    "bncg": [],
    "blmvm": ["-tao_type", "blmvm"],
    "lmvm-diag": ["-khgps_minimizer", "lmvm-diag"],
    "ntr": ["-tao_type", "ntr"],
    "nls": ["-tao_type", "nls"],
}
LINE = re.compile(r"khgps minimizer: realization (\d+) (\S+).*: (\d+) its, (\d+) J x products .*\|grad H\| (\S+), (\S+), (\S+) s")


def physics(N, J):
    return ["-khgps_N", str(N), "-khgps_h", "0.01", "-khgps_J", str(J), "-khgps_kappa0", "1", "-khgps_A", "1", "-khgps_seed", "1"]


def speed(args):
    skip_spectrum = ["-khgps_nev", "1", "-khgps_polish_its", "0", "-st_type", "shift", "-eps_smallest_real", "-eps_max_it", "1"]
    rows = {}
    tmp = tempfile.mkdtemp(prefix="khgps-minbench-")
    blas = None
    for N in args.N:
        for r in range(args.first, args.first + args.R):
            for name in args.configs:
                f = os.path.join(tmp, f"{name}_{N}_{r}.h5")
                cmd = [KHGPS, *physics(N, args.J), *skip_spectrum, "-khgps_first", str(r), "-khgps_realizations", "1",
                       "-khgps_minimizer_view", "-khgps_output", f, *CONFIGS[name]]
                p = subprocess.run(cmd, capture_output=True, text=True)
                m = LINE.search(p.stdout)
                if p.returncode or not m:
                    print(f"{name} N={N} r={r}: failed\n{p.stdout}{p.stderr}", file=sys.stderr)
                    continue
                its, jx, t = int(m.group(3)), int(m.group(4)), float(m.group(7))
                rows.setdefault((N, name), []).append((its, jx, t))
                print(f"N={N} r={r} {name}: {its} its, {jx} J x, {t:.2f} s, {m.group(6)}", flush=True)
                if blas is None:
                    import h5py
                    with h5py.File(f, "r") as h:
                        blas = h.attrs.get("blas_core")
                        blas = blas.decode() if isinstance(blas, bytes) else blas
                os.remove(f)
    print(f"\nblas_core: {blas}\n")
    print("| N | minimizer | TAO its (per realization) | J x products (per realization) | mean J x | TaoSolve s (mean) | J x vs bncg |")
    print("|---|---|---|---|---|---|---|")
    for N in args.N:
        base = rows.get((N, "bncg"))
        for name in args.configs:
            v = rows.get((N, name))
            if not v:
                continue
            its = " ".join(str(a[0]) for a in v)
            jx = " ".join(str(a[1]) for a in v)
            mj = np.mean([a[1] for a in v])
            mt = np.mean([a[2] for a in v])
            rel = f"{mj / np.mean([a[1] for a in base]):.2f}" if base else ""
            print(f"| {N} | {name} | {its} | {jx} | {mj:.0f} | {mt:.2f} | {rel} |")


def load(files):
    """realization index -> (status, energy, lowest, x, kappa)"""
    import h5py
    out = {}
    for fn in files:
        with h5py.File(fn, "r") as f:
            for k, g in f["realizations"].items():
                out[int(k)] = (int(g.attrs["status"]) if not isinstance(g.attrs["status"], bytes) else g.attrs["status"],
                               float(g.attrs["energy"]), float(g.attrs["lowest_eigenvalue"]), g["x"][()],
                               int(g.attrs["tao_function_evaluations"]), int(g.attrs["tao_iterations"]))
    return out


def ks_2samp(a, b):
    """Two-sample Kolmogorov-Smirnov statistic and its asymptotic p-value (scipy's 'asymp')."""
    a, b = np.sort(a), np.sort(b)
    allv = np.concatenate([a, b])
    d = np.max(np.abs(np.searchsorted(a, allv, side="right") / len(a) - np.searchsorted(b, allv, side="right") / len(b)))
    en = math.sqrt(len(a) * len(b) / (len(a) + len(b)))
    lam = (en + 0.12 + 0.11 / en) * d
    p = 2 * sum((-1) ** (k - 1) * math.exp(-2 * k * k * lam * lam) for k in range(1, 101))
    return d, min(max(p, 0.0), 1.0)


def equiv(args):
    A, B = load(args.a), load(args.b)
    common = set(A) & set(B)
    for fn in args.restrict or []:  # only the realizations that another file holds too
        common &= set(load([fn]))
    common = sorted(common)
    ok = [k for k in common if A[k][0] == 0 and B[k][0] == 0]
    N = len(A[common[0]][3])
    print(f"realizations in both: {len(common)}; minimum in both: {len(ok)}; "
          f"status != minimum: {args.name_a} {sum(A[k][0] != 0 for k in common)}, {args.name_b} {sum(B[k][0] != 0 for k in common)}")
    res = {}
    for name, D in ((args.name_a, A), (args.name_b, B)):
        w = np.sqrt([D[k][2] for k in ok])
        x2 = np.array([np.mean(D[k][3] ** 2) for k in ok])
        e = np.array([D[k][1] / N for k in ok])
        res[name] = (w, x2, e)
        se = lambda v: np.std(v, ddof=1) / math.sqrt(len(v))
        print(f"{name}: TAO its {np.mean([D[k][5] for k in ok]):.1f}, objective+gradient evaluations (J x products) {np.mean([D[k][4] for k in ok]):.1f} per realization (mean)")
        print(f"{name}: <omega_min> {w.mean():.6f} +- {se(w):.6f}; <x^2> {x2.mean():.8f} +- {se(x2):.8f}; E/N {e.mean():.9f} +- {se(e):.9f}")
    wa, wb = res[args.name_a][0], res[args.name_b][0]
    d, p = ks_2samp(wa, wb)
    try:
        from scipy.stats import ks_2samp as sks
        s = sks(wa, wb)
        extra = f" (scipy: D {s.statistic:.4f}, p {s.pvalue:.3f})"
    except ImportError:
        extra = ""
    print(f"KS two-sample, omega_min: D = {d:.4f}, p = {p:.3f}{extra}")
    dinf = np.array([np.max(np.abs(A[k][3] - B[k][3])) for k in ok])
    de = np.array([abs(A[k][1] - B[k][1]) / N for k in ok])
    same = dinf < args.tol
    print(f"same minimum (|x_a - x_b|_inf < {args.tol:g}): {same.sum()} of {len(ok)} = {same.mean():.3f}")
    if (~same).any():
        print(f"  where different: E_a/N - E_b/N mean {np.mean([(A[k][1] - B[k][1]) / N for k, s in zip(ok, same) if not s]):.3e}, "
              f"|dE|/N median {np.median(de[~same]):.2e}, |x_a - x_b|_inf median {np.median(dinf[~same]):.2e}")
        lower = sum(A[k][1] < B[k][1] for k, s in zip(ok, same) if not s)
        print(f"  {args.name_a} lower in {lower} of {(~same).sum()}")
    dx2 = np.array([np.mean(A[k][3] ** 2) - np.mean(B[k][3] ** 2) for k in ok])
    print(f"paired <x^2> difference (a - b): {dx2.mean():.3e} +- {np.std(dx2, ddof=1) / math.sqrt(len(dx2)):.3e}")
    dd = np.array([(A[k][1] - B[k][1]) / N for k in ok])
    print(f"paired E/N difference (a - b): {dd.mean():.3e} +- {np.std(dd, ddof=1) / math.sqrt(len(dd)):.3e}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("speed")
    s.add_argument("--N", type=int, nargs="+", default=[2000])
    s.add_argument("--R", type=int, default=3)
    s.add_argument("--first", type=int, default=0)
    s.add_argument("--J", type=float, default=0.1)
    s.add_argument("--configs", nargs="+", default=["bncg", "blmvm", "lmvm-diag", "ntr"])
    e = sub.add_parser("equiv")
    e.add_argument("--a", nargs="+", required=True)
    e.add_argument("--b", nargs="+", required=True)
    e.add_argument("--name-a", default="bncg")
    e.add_argument("--name-b", default="lmvm-diag")
    e.add_argument("--tol", type=float, default=1e-6)
    e.add_argument("--restrict", nargs="+", help="only realizations also in these files")
    args = ap.parse_args()
    speed(args) if args.cmd == "speed" else equiv(args)


if __name__ == "__main__":
    main()
