#!/usr/bin/python3
"""make bench-targets: the speed issue's targets, each measured side by side and set against its figure.

  T1  N = 8000, nev = 100: khgps np=1 against the numpy/scipy pipeline (bench/reference_numpy.py),
      the fastest of BENCH_REPEAT runs each (default 2), alternating.              target >= 10x
  T2  N = 16000, nev = 100: wall time of one realization (seed 1, realization 0) with this build
      against BENCH_BASELINE (a khgps binary of the day the issue was filed), alternating, fastest
      of BENCH_REPEAT each; the lowest eigenvalue must agree.                       target <= 0.55x
  T3  TAO iterations per realization, mean over realizations 0..R-1: N = 16000 (BENCH_R16, default
      3) against N = 2000 (BENCH_R2, default 20), nev = 4.                          target <= 1.5x
  T4  peak resident memory of T1's khgps run over 8 N^2 bytes.                    target <= 1.05
  (appends: make bench-appends.)
Every run gets OPENBLAS_CORETYPE=$BENCH_CORETYPE (default SkylakeX; "env" leaves the environment's),
both sides alike; the BLAS core khgps recorded is printed. The table goes to bench/targets.json too.
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

from bench import CORETYPE, bench_env as env  # bench/bench.py: OPENBLAS_CORETYPE=$BENCH_CORETYPE on every run

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PY = "/usr/bin/python3"
TMP = tempfile.mkdtemp(prefix="khgps-targets-")
REPEAT = int(os.environ.get("BENCH_REPEAT", "2"))
MODEL = ["-khgps_J", "0.1", "-khgps_h", "0.01", "-khgps_kappa0", "1", "-khgps_seed", "1"]


def khgps(binary, N, nev, R=1, tag=""):
    """One khgps run into a new file: wall seconds, peak RSS (MiB), the file's per-realization attributes."""
    f = os.path.join(TMP, f"{os.path.basename(binary)}_{N}_{nev}_{R}_{tag}_{time.time_ns()}.h5")
    cmd = [binary, "-khgps_N", str(N), "-khgps_nev", str(nev), "-khgps_realizations", str(R), "-khgps_output", f, *MODEL]
    t0 = time.time()
    p = subprocess.run(cmd, capture_output=True, text=True, env=env(), cwd=ROOT)
    wall = time.time() - t0
    if p.returncode:
        sys.exit(f"bench-targets: {' '.join(cmd)} failed:\n{p.stdout}\n{p.stderr}")
    rss = float(re.search(r"peak resident memory (\d+) MiB \(largest rank\)", p.stdout).group(1))
    with h5py.File(f) as h:
        gs = [h["realizations"][k] for k in sorted(h["realizations"])]
        attrs = {k: np.array([float(g.attrs[k]) for g in gs]) for k in ("tao_iterations", "lowest_eigenvalue", "time_draw", "time_minimize", "time_spectrum")}
        core = h.attrs["blas_core"].decode() if "blas_core" in h.attrs else "?"
    os.remove(f)
    return dict(wall=wall, rss_MiB=rss, core=core, **{k: v.tolist() for k, v in attrs.items()})


def row(name, value, target, ok, detail):
    print(f"  {name:4s} {value:>10s}   target {target:9s} {'met' if ok else 'NOT met':8s} {detail}", flush=True)
    return dict(name=name, value=value, target=target, met=bool(ok), detail=detail)


def main():
    binary = os.path.join(ROOT, "bin", "khgps")
    base = os.environ.get("BENCH_BASELINE", "")
    print(f"bench-targets: OPENBLAS_CORETYPE={CORETYPE} on both sides; {REPEAT} runs per side, the fastest compared", flush=True)
    rows = []
    # T1 and T4
    ks, refs = [], []
    for rep in range(REPEAT):
        print(f"bench-targets: T1 N = 8000 khgps (run {rep + 1}) ...", flush=True)
        ks.append(khgps(binary, 8000, 100, tag=f"t1_{rep}"))
        print(f"bench-targets: T1 N = 8000 numpy/scipy (run {rep + 1}) ...", flush=True)
        out = subprocess.run([PY, os.path.join(ROOT, "bench", "reference_numpy.py"), "--N", "8000", "--J", "0.1", "--h", "0.01", "--kappa0", "1", "--nev", "100",
                              "--seed", "1", "--json"], capture_output=True, text=True, check=True, env=env()).stdout
        refs.append(json.loads([l for l in out.splitlines() if l.startswith("{")][-1]))
    for r in ks:  # the realization's time (its stages, as the reference's time_total), not the process's set-up
        r["stages"] = r["time_draw"][0] + r["time_minimize"][0] + r["time_spectrum"][0]
    k = min(ks, key=lambda r: r["stages"])
    r = min(refs, key=lambda r: r["time_total"])
    print("\n  target     measured")
    rows.append(row("T1", f"{r['time_total'] / k['stages']:.2f}x", ">= 10x", r["time_total"] / k["stages"] >= 10,
                    f"khgps {k['stages']:.2f} s (draw {k['time_draw'][0]:.2f}, minimize {k['time_minimize'][0]:.2f}, spectrum {k['time_spectrum'][0]:.2f}; "
                    f"process {k['wall']:.2f} s), numpy/scipy {r['time_total']:.2f} s; blas_core {k['core']}"))
    mem = k["rss_MiB"] * 2**20 / (8.0 * 8000**2)
    rows.append(row("T4", f"{mem:.2f}", "<= 1.05", mem <= 1.05, f"peak RSS {k['rss_MiB']:.0f} MiB at N = 8000 (8N^2 = {8 * 8000**2 / 2**20:.0f} MiB)"))
    # T2
    if base:
        new, old = [], []
        for rep in range(REPEAT):
            print(f"bench-targets: T2 N = 16000 this build / baseline (run {rep + 1}) ...", flush=True)
            new.append(khgps(binary, 16000, 100, tag=f"t2n_{rep}"))
            old.append(khgps(base, 16000, 100, tag=f"t2o_{rep}"))
        a, b = min(new, key=lambda r: r["wall"]), min(old, key=lambda r: r["wall"])
        same = abs(a["lowest_eigenvalue"][0] - b["lowest_eigenvalue"][0]) <= 1e-8 * abs(b["lowest_eigenvalue"][0])
        rows.append(row("T2", f"{a['wall'] / b['wall']:.2f}x", "<= 0.55x", a["wall"] / b["wall"] <= 0.55 and same,
                        f"{a['wall']:.1f} s against {b['wall']:.1f} s ({base}); TAO its {a['tao_iterations'][0]:.0f} / {b['tao_iterations'][0]:.0f}; "
                        f"lowest eigenvalue {'equal' if same else 'DIFFERS'} ({a['lowest_eigenvalue'][0]:.6e} / {b['lowest_eigenvalue'][0]:.6e})"))
    else:
        print("  T2   skipped: set BENCH_BASELINE to the binary to compare with")
    # T3
    r2, r16 = int(os.environ.get("BENCH_R2", "20")), int(os.environ.get("BENCH_R16", "3"))
    print(f"bench-targets: T3 TAO iterations, N = 2000 ({r2} realizations) and N = 16000 ({r16}) ...", flush=True)
    s, l = khgps(binary, 2000, 4, r2, "t3s"), khgps(binary, 16000, 4, r16, "t3l")
    ratio = np.mean(l["tao_iterations"]) / np.mean(s["tao_iterations"])
    rows.append(row("T3", f"{ratio:.2f}x", "<= 1.5x", ratio <= 1.5,
                    f"mean TAO its {np.mean(l['tao_iterations']):.0f} at N = 16000 against {np.mean(s['tao_iterations']):.0f} at N = 2000"))
    out = os.path.join(ROOT, "bench", "targets.json")
    with open(out, "w") as fh:
        json.dump(dict(coretype=CORETYPE, baseline=base, rows=rows), fh, indent=1)
    print(f"\nbench-targets: {sum(r['met'] for r in rows)} of {len(rows)} met; table in {out}")


if __name__ == "__main__":
    main()
