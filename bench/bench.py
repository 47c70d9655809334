#!/usr/bin/python3
"""make bench: khgps against the numpy/scipy reference pipeline, side by side on this machine.

For each N (default 4000 8000; BENCH_N="4000 8000 16000" for more), one realization at
h = 0.01, J = 0.1, kappa0 = 1, nev = 100, gradient tolerance 1e-10 sqrt(N) on both sides:
  * khgps on 1 rank (packed storage, OpenBLAS threads) and on 2 ranks (ScaLAPACK, 1 thread each),
  * bench/reference_numpy.py (L-BFGS-B from x = 0, then scipy.linalg.eigh of the lowest 100
    eigenpairs),
khgps np=1 and the reference alternating BENCH_REPEAT times (default 2; each side's fastest run is
compared, since this shared machine's noise only ever adds time), and the machine's dense matvec bandwidth and DGEMM rate (bench/roofline.py). Prints wall time per
stage, peak memory against 8N^2, the speed ratio, and the roofline ratio
  time / (matvecs x 8N^2 / bandwidth + factorizations x N^3/3 / DGEMM rate)
where matvecs counts J x products and factor solves from -log_view, each weighted by what it has
to move: a J x product on the packed path reads the float32 triangle (2N^2 bytes), a dense row-split
J 8N^2 bytes, a single-vector factor solve 8N^2 bytes (two passes over the N^2/2 factor); a block
solve of b right-hand sides costs the larger of a pass over the factor and 2N^2 b / DGEMM rate.

Factor precision (issue 18): khgps np=1 runs with -khgps_factor_precision double and single side
by side (BENCH_PRECISIONS="double single"; the float32 factor's runs are compared at the same
-eps_tol, and their largest relative residual and eigenvalue difference to double are printed).
BLAS core: every run (khgps and the reference) gets OPENBLAS_CORETYPE=$BENCH_CORETYPE (default
SkylakeX: OpenBLAS's AVX-512 kernels; BENCH_CORETYPE=env leaves the environment's setting), and the
core khgps recorded (root attribute blas_core) is printed. BENCH_NP2=0 skips the 2-rank runs."""
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import h5py

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PY = "/usr/bin/python3"
MPI = ["mpiexec", "--oversubscribe"] + (["--allow-run-as-root"] if os.geteuid() == 0 else [])
TMP = None  # made by main(), so that importing this module (bench/targets.py) makes no folder


def last_json(out):
    return json.loads([l for l in out.splitlines() if l.startswith("{")][-1])


def log_count(log, event, stage=None):
    """Count of an event in a -log_view file (summed over stages, or in one stage)."""
    n, cur = 0, None
    for line in open(log):
        m = re.match(r"--- Event Stage \d+: (\w+)", line)
        if m:
            cur = m.group(1)
        elif line.startswith(event + " ") and (stage is None or cur == stage):
            n += int(line.split()[1])
    return n


CORETYPE = os.environ.get("BENCH_CORETYPE", "SkylakeX")


def bench_env():
    env = dict(os.environ)
    if CORETYPE != "env":
        env["OPENBLAS_CORETYPE"] = CORETYPE
    return env


def run_khgps(N, np_, roof, rep=0, prec="double"):
    f, log = os.path.join(TMP, f"k{N}_{np_}_{rep}_{prec}.h5"), os.path.join(TMP, f"k{N}_{np_}_{rep}_{prec}.log")  # a new file each run (khgps resumes an existing one)
    env = bench_env()
    if np_ > 1:
        env["OPENBLAS_NUM_THREADS"] = env["OMP_NUM_THREADS"] = "1"
    cmd = ([*MPI, "-n", str(np_)] if np_ > 1 else []) + [os.path.join(ROOT, "bin", "khgps"), "-khgps_N", str(N), "-khgps_J", "0.1", "-khgps_h", "0.01",
                                                     "-khgps_kappa0", "1", "-khgps_nev", "100", "-khgps_output", f, "-log_view", ":" + log,
                                                     "-khgps_factor_precision", prec]
    t0 = time.time()
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    wall = time.time() - t0
    if p.returncode:
        sys.exit(f"bench: khgps failed:\n{p.stdout}\n{p.stderr}")
    rss = float(re.search(r"peak resident memory (\d+) MiB \(largest rank\), (\d+) MiB", p.stdout).group(2))
    with h5py.File(f) as h:
        g = h["realizations/000000"]
        st = {k: float(g.attrs[k]) for k in ("time_draw", "time_minimize", "time_spectrum")}
        lowest, status, fevals = float(g.attrs["lowest_eigenvalue"]), g.attrs["status_name"].decode(), int(g.attrs["tao_function_evaluations"])
        eig, resid, fprec = g["eigenvalues"][()], g["residual"][()], g.attrs["factor_precision"].decode()
        core = h.attrs["blas_core"].decode()
    with h5py.File(f) as h:
        b = int(h.attrs.get("block_size", 0))
    # what each stage has to move or compute, at the machine's measured ceilings:
    #   J x products: the float32 triangle (2N^2 bytes) on the packed path, a dense row-split J (8N^2) on more ranks
    #   single factor solves (SLEPc shift-invert): two passes over the N^2/2 factor (8N^2 bytes)
    #   block solves of b right-hand sides: a pass over the factor or 2N^2 b flops, whichever is slower
    #   factorizations: N^3/3 flops
    bw, fl = roof["bandwidth_GBs"] * 1e9, roof["dgemm_GFLOPs"] * 1e9
    jx = log_count(log, "KhgpsJx") or log_count(log, "MatMult", "Minimize")
    jxbytes = (2.0 if np_ == 1 else 8.0) * N * N
    jxblock = log_count(log, "KhgpsJxBlock")  # calls of up to 100 columns, four per pass
    single = log_count(log, "PCApply", "Spectrum") if not b else 0
    blocks = log_count(log, "BlkSolve")
    nfact = log_count(log, "KhgpsFactor") or log_count(log, "KhgpsFactorF32") or log_count(log, "MatCholFctrNum", "Spectrum") or log_count(log, "PCSetUp", "Spectrum")
    t = sum(st.values())
    model = (jx * jxbytes + single * 8.0 * N * N + jxblock * 25 * 2.0 * N * N) / bw + blocks * max(8.0 * N * N / bw, 2.0 * N * N * b / fl) + nfact * N**3 / 3 / fl
    solves = single + blocks * b
    return dict(time=t, wall=wall, rss_MB=rss, lowest=lowest, status=status, fevals=fevals, jx=jx, solves=solves, blocks=blocks, factorizations=nfact, roofline=t / model,
                eig=eig.tolist(), max_resid=float(resid.max()), factor_precision=fprec, blas_core=core, **st)


def blocks(k):
    return f" in {k['blocks']} blocks" if k["blocks"] else ""


def main():
    global TMP
    TMP = tempfile.mkdtemp(prefix="khgps-bench-")
    Ns = [int(n) for n in os.environ.get("BENCH_N", "4000 8000").split()]
    repeat = int(os.environ.get("BENCH_REPEAT", "2"))
    print("bench: measuring this machine (bench/roofline.py) ...", flush=True)
    roof = last_json(subprocess.run([PY, os.path.join(ROOT, "bench", "roofline.py"), "--json"], capture_output=True, text=True, check=True, env=bench_env()).stdout)
    roof = {"bandwidth_GBs": roof["matvec_GBps"], "dgemm_GFLOPs": roof["dgemm_GFLOPs"]}
    print(f"bench: dense matvec {roof['bandwidth_GBs']:.1f} GB/s, DGEMM {roof['dgemm_GFLOPs']:.1f} GFLOP/s")
    precs = os.environ.get("BENCH_PRECISIONS", "double single").split()
    np2 = os.environ.get("BENCH_NP2", "1") != "0"
    print(f"bench: OPENBLAS_CORETYPE={CORETYPE if CORETYPE != 'env' else os.environ.get('OPENBLAS_CORETYPE', '(unset)')} on both sides; khgps np=1 factor precisions: {' '.join(precs)}")
    rows = []
    for N in Ns:
        # khgps np=1 (each precision) and the numpy/scipy reference alternate, BENCH_REPEAT times each
        # (default 2), and each side's fastest run is the one compared: this machine is shared, and
        # noise only adds time
        k1s, refs = {pr: [] for pr in precs}, []
        for rep in range(repeat):
            for pr in precs:
                print(f"bench: N = {N}: khgps np=1 {pr} (run {rep + 1} of {repeat}) ...", flush=True)
                k1s[pr].append(run_khgps(N, 1, roof, rep, pr))
            print(f"bench: N = {N}: numpy/scipy reference (run {rep + 1} of {repeat}) ...", flush=True)
            refs.append(last_json(subprocess.run([PY, os.path.join(ROOT, "bench", "reference_numpy.py"), "--N", str(N), "--J", "0.1", "--h", "0.01", "--kappa0", "1",
                                                  "--nev", "100", "--seed", "1", "--json"], capture_output=True, text=True, check=True, env=bench_env()).stdout))
        k2 = None
        if np2:
            print(f"bench: N = {N}: khgps np=2 ...", flush=True)
            k2 = run_khgps(N, 2, roof)
        k1 = {}
        for pr in precs:
            k1[pr] = min(k1s[pr], key=lambda k: k["time"])
            k1[pr]["runs"] = [k["time"] for k in k1s[pr]]
        ref = min(refs, key=lambda r: r["time_total"])
        ref["runs"] = [r["time_total"] for r in refs]
        rows.append((N, k1, k2, ref))
        mat = 8.0 * N * N / 2**20
        tr = ref["time_total"]
        print(f"\n  N = {N} (8N^2 = {mat:.0f} MiB); BLAS core (khgps' blas_core): {k1[precs[0]]['blas_core']}")
        print(f"  {'':24s} {'draw':>7s} {'minimize':>9s} {'spectrum':>9s} {'total':>8s} {'memory':>12s} {'roofline':>9s}")
        named = [(f"khgps np=1 {pr}", k1[pr]) for pr in precs] + ([("khgps np=2 (scalapack)", k2)] if k2 else [])
        for name, k in named:
            print(f"  {name:24s} {k['time_draw']:7.2f} {k['time_minimize']:9.2f} {k['time_spectrum']:9.2f} {k['time']:8.2f} {k['rss_MB'] / mat:8.2f}x8N2 {k['roofline']:9.2f}"
                  f"   ({k['jx']} J x, {k['solves']} solves{blocks(k)}, {k['factorizations']} factorizations, {k['status']}, factor {k['factor_precision']}, max residual {k['max_resid']:.1e})")
        print(f"  {'numpy/scipy':24s} {ref['time_draw']:7.2f} {ref['time_minimize']:9.2f} {ref['time_eigenpairs']:9.2f} {tr:8.2f} {ref['peak_rss_over_8N2']:8.2f}x8N2"
              f"   ({ref['nfev']} evaluations, {'minimum' if ref['minimum'] else 'NOT a minimum'})")
        if repeat > 1:
            print("  runs (s): " + ";  ".join(f"khgps np=1 {pr} " + ", ".join(f"{t:.2f}" for t in k1[pr]["runs"]) for pr in precs)
                  + f";  numpy/scipy {', '.join(f'{t:.2f}' for t in ref['runs'])}  (the fastest of each is compared)")
        print("  speed ratio numpy/khgps: " + ", ".join(f"np=1 {pr} {tr / k1[pr]['time']:.2f}" for pr in precs) + (f", np=2 {tr / k2['time']:.2f}" if k2 else ""))
        if "double" in k1 and "single" in k1:
            a, b = k1["double"], k1["single"]
            ea, eb = a["eig"], b["eig"]
            dif = max(abs(x - y) / abs(x) for x, y in zip(ea, eb)) if len(ea) == len(eb) else float("inf")
            print(f"  single against double: {a['time'] / b['time']:.2f}x faster (spectrum {a['time_spectrum'] / b['time_spectrum']:.2f}x), memory {b['rss_MB'] / mat:.2f} x 8N^2,"
                  f" eigenvalues equal to {dif:.1e} relative, largest residual {b['max_resid']:.1e} (double {a['max_resid']:.1e})")
    out = os.path.join(ROOT, "bench", "last.json")
    with open(out, "w") as fh:
        json.dump({"roofline": roof, "coretype": CORETYPE, "runs": [dict(N=N, khgps_np1=a, khgps_np2=b, numpy=c) for N, a, b, c in rows]}, fh, indent=1)
    print(f"\nbench: results in {out}")


if __name__ == "__main__":
    main()
