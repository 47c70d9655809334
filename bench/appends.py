#!/usr/bin/python3
"""make bench-appends: what an ensemble's appends cost (issue 23 item 6).

One run of R small realizations (default N = 500, nev = 4, R = 3000; BENCH_APPENDS="N nev R") into a
new file, one rank, one thread. Prints the bytes the run wrote (the kernel's count of blocks written,
getrusage ru_oublock x 512, what `/usr/bin/time -f %O` reports) against the final file's size, and
the Write stage's seconds (every append, every fold and the last fold, from -log_view) against the
wall time. Targets: bytes written <= 3 x the file, the Write stage <= 10% of the wall time.
KHGPS_BIN=path measures another binary (an older khgps, side by side)."""
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
N, nev, R = (int(v) for v in os.environ.get("BENCH_APPENDS", "500 4 3000").split())
tmp = tempfile.mkdtemp(prefix="khgps-bench-appends-", dir=os.environ.get("BENCH_DIR", None))
out = os.path.join(tmp, "appends.h5")
cmd = [os.environ.get("KHGPS_BIN", os.path.join(ROOT, "bin", "khgps")), "-khgps_N", str(N), "-khgps_nev", str(nev), "-khgps_realizations", str(R),
       "-khgps_output", out, "-log_view"]
env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_oublock
t0 = time.time()
p = subprocess.run(cmd, capture_output=True, text=True, env=env)
wall = time.time() - t0
blocks = resource.getrusage(resource.RUSAGE_CHILDREN).ru_oublock - before
if p.returncode:
    print(p.stderr[-2000:], file=sys.stderr)
    sys.exit(1)
size = os.path.getsize(out)
m = re.search(r"^\s*\d+:\s+Write:\s+([0-9.e+-]+)", p.stdout, re.M)
write = float(m.group(1)) if m else float("nan")
m = re.search(r"^\s*\d+:\s+Main Stage:\s+([0-9.e+-]+)", p.stdout, re.M)
print(f"bench/appends.py: N = {N}, nev = {nev}, {R} realizations, one rank, one thread")
print(f"  final file {size / 1e6:.1f} MB; bytes written {blocks * 512 / 1e6:.1f} MB = {blocks * 512 / size:.2f} x the file (target <= 3)")
print(f"  wall {wall:.1f} s; Write stage {write:.2f} s = {100 * write / wall:.1f}% of the wall time (target <= 10%)")
shutil.rmtree(tmp)
