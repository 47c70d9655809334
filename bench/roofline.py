#!/usr/bin/python3
"""This machine's dense-matrix ceilings, through numpy and the BLAS it is linked with:

* matvec bandwidth (GB/s): y = A @ x with A an N x N float64 matrix (default N = 8000, 512 MB, far
  beyond cache), 8 N^2 bytes / median time of the repeats;
* DGEMM rate (GFLOP/s): C = A @ B with N x N float64 matrices (default N = 4000), 2 N^3 / median time.

BLAS threads are left at their default; the count is reported (threadpoolctl if installed, else
OpenBLAS's own openblas_get_num_threads(), else os.cpu_count()).

    /usr/bin/python3 bench/roofline.py [--matvec-N 8000] [--gemm-N 4000] [--repeats 15] [--json]

The last line with --json is one JSON object: matvec_GBps, dgemm_GFLOPs, threads, ... ."""
import argparse
import ctypes
import json
import os
import statistics
import sys
import time

import numpy as np


def blas_info():
    """(threads, description) of the BLAS numpy uses, without changing anything."""
    try:
        import threadpoolctl  # noqa: F401

        info = [i for i in threadpoolctl.threadpool_info() if i.get("user_api") == "blas"]
        if info:
            return int(info[0]["num_threads"]), f"{info[0].get('internal_api')} {info[0].get('version')} (threadpoolctl)"
    except ImportError:
        pass
    # the shared objects this process has mapped: Debian's numpy links libblas.so.3, an
    # alternative that points at OpenBLAS (pthread), the reference BLAS or another
    try:
        with open("/proc/self/maps") as f:
            libs = {line.split()[-1] for line in f if ".so" in line and ("blas" in line or "lapack" in line)}
        libs = sorted(libs, key=lambda l: (0 if "openblas" in l else 1 if "libblas" in l else 2, l))
        for lib in libs:
            try:
                so = ctypes.CDLL(lib)
                n = so.openblas_get_num_threads()
                cfg = ctypes.c_char_p
                so.openblas_get_config.restype = cfg
                return int(n), f"{so.openblas_get_config().decode()} ({os.path.realpath(lib)})"
            except (OSError, AttributeError):
                continue
        if libs:
            return os.cpu_count(), "non-OpenBLAS: " + ", ".join(os.path.realpath(l) for l in libs)
    except OSError:
        pass
    return os.cpu_count(), "unknown BLAS (os.cpu_count())"


def median_time(f, repeats, warmup=1):
    for _ in range(warmup):
        f()
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts), min(ts), max(ts)


def matvec_bandwidth(N=8000, repeats=15, seed=0):
    """GB/s of y = A @ x (8 N^2 bytes of A per product; x and y are negligible)."""
    rng = np.random.default_rng(seed)
    A = rng.random((N, N))
    x = rng.random(N)
    y = np.empty(N)
    med, lo, hi = median_time(lambda: np.dot(A, x, out=y), repeats, warmup=2)
    return 8.0 * N * N / med / 1e9, med, lo, hi


def dgemm_rate(N=4000, repeats=3, seed=0):
    """GFLOP/s of C = A @ B (2 N^3 flops)."""
    rng = np.random.default_rng(seed)
    A, B = rng.random((N, N)), rng.random((N, N))
    C = np.empty((N, N))
    med, lo, hi = median_time(lambda: np.matmul(A, B, out=C), repeats, warmup=1)
    return 2.0 * N**3 / med / 1e9, med, lo, hi


def measure(matvec_N=8000, gemm_N=4000, repeats=15, gemm_repeats=3):
    threads, blas = blas_info()
    bw, t_mv, t_mv_lo, t_mv_hi = matvec_bandwidth(matvec_N, repeats)
    gf, t_mm, t_mm_lo, t_mm_hi = dgemm_rate(gemm_N, gemm_repeats)
    return dict(matvec_GBps=bw, dgemm_GFLOPs=gf, matvec_N=matvec_N, gemm_N=gemm_N, matvec_time=t_mv,
                matvec_time_min=t_mv_lo, matvec_time_max=t_mv_hi, matvec_repeats=repeats, dgemm_time=t_mm,
                dgemm_time_min=t_mm_lo, dgemm_time_max=t_mm_hi, dgemm_repeats=gemm_repeats, threads=threads,
                blas=blas, cpu_count=os.cpu_count(), numpy=np.__version__)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--matvec-N", type=int, default=8000)
    ap.add_argument("--gemm-N", type=int, default=4000)
    ap.add_argument("--repeats", type=int, default=15, help="matvec repeats (median)")
    ap.add_argument("--gemm-repeats", type=int, default=3, help="DGEMM repeats (median)")
    ap.add_argument("--json", action="store_true", help="end with one JSON line")
    a = ap.parse_args(argv)
    r = measure(a.matvec_N, a.gemm_N, a.repeats, a.gemm_repeats)
    print(f"BLAS: {r['blas']}, {r['threads']} thread(s), {r['cpu_count']} CPUs")
    print(f"matvec bandwidth: {r['matvec_GBps']:.1f} GB/s (N = {a.matvec_N}, median {1e3 * r['matvec_time']:.2f} ms "
          f"of {a.repeats}, range {1e3 * r['matvec_time_min']:.2f}-{1e3 * r['matvec_time_max']:.2f} ms)")
    print(f"DGEMM rate:       {r['dgemm_GFLOPs']:.1f} GFLOP/s (N = {a.gemm_N}, median {r['dgemm_time']:.3f} s "
          f"of {a.gemm_repeats}, range {r['dgemm_time_min']:.3f}-{r['dgemm_time_max']:.3f} s)")
    if a.json:
        print(json.dumps(r), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
