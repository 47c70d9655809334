"""Ensembles: kill -9 at random moments and resume; groups; merge; files that must be refused.

* A run of R realizations killed with SIGKILL 6 times and resumed each time ends with exactly
  realizations first..first+R-1, once each, bit for bit equal to an uninterrupted run (same rank
  count); after every kill the file is readable, holds a prefix of them and every realization the
  killed run reported finished. The kills are set by the run's own progress lines (after 1-3
  reported realizations, plus a random part of one realization's time), not by the clock alone,
  so that their number does not depend on the machine's load.
* -khgps_groups 2 on 2 ranks gives the realizations of 1 rank within the pipeline's bound.
* khgps-merge detects gaps, duplicates and mismatched parameters.
* A corrupt, truncated or foreign file offered for resume or merge, or a rerun with other
  parameters: a clear error, and the file byte for byte as it was."""
import hashlib
import os
import random
import shutil
import signal
import subprocess
import time

import h5py
import numpy as np

from common import KHGPS, MPIEXEC, ROOT, check, done, out, run

from khgps import io as khgps_io  # noqa: E402

MERGE = os.path.join(ROOT, "scripts", "khgps-merge")
BASE = ["-khgps_N", "250", "-khgps_J", "0.3", "-khgps_nev", "20", "-khgps_seed", "11"]
FIRST, R = 3, 60
KEYS = ("kappa", "x", "eigenvalues", "participation_ratio", "residual")
ATTRS = ("energy", "gradient_norm", "tao_iterations", "status", "lowest_eigenvalue")


def sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def contents(path):
    """The realizations of a run file and of its log (FILE.pending), as every reader sees them."""
    return {int(d["realization"]): ({k: np.asarray(d[k]) for k in KEYS}, {a: d[a] for a in ATTRS})
            for _, d in khgps_io.realizations(path, minima_only=False)}


def equal(a, b):
    return all(np.array_equal(a[0][d], b[0][d]) for d in KEYS) and all(a[1][k] == b[1][k] for k in ATTRS)


ref = out("ens_ref.h5")
t0 = time.time()
run(BASE + ["-khgps_first", str(FIRST), "-khgps_realizations", str(R), "-khgps_output", ref])
T = time.time() - t0  # an uninterrupted run: the kill moments are drawn within what is left of it
want = contents(ref)
check(sorted(want) == list(range(FIRST, FIRST + R)), f"uninterrupted run holds realizations {FIRST}..{FIRST + R - 1}")

# --- kill -9 at moments set by the run's own progress, resume each time. Each of the KILLS runs
# is killed after it has reported j finished realizations (j drawn in 1..3), plus a random part of
# one realization's time (so that the kill lands anywhere in a realization: in the minimization,
# the spectrum or the append). The number of kills does not depend on the machine's speed: every
# run has at least 35 realizations left when it starts, so it is still working when it is killed.
rng = random.Random(20261125)
f = out("ens_killed.h5")
cmd = [KHGPS] + BASE + ["-khgps_first", str(FIRST), "-khgps_realizations", str(R), "-khgps_output", f]
KILLS, per = 6, T / R
kills, prefix_ok, reported_ok, still_running = 0, True, True, True
for attempt in range(KILLS):
    before = len(contents(f)) if os.path.exists(f) else 0
    j = rng.randint(1, 3)
    p = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    finished = 0
    for line in p.stdout:
        if line.startswith("khgps: [") and "] realization " in line:
            finished += 1  # printed once the realization is in the file
            if finished == j:
                break
    time.sleep(rng.uniform(0, per))
    still_running &= p.poll() is None
    p.send_signal(signal.SIGKILL)
    p.wait()
    p.stdout.close()
    kills += 1
    try:
        have = contents(f)
    except Exception as e:  # noqa: BLE001
        prefix_ok = False
        print(f"unreadable after kill {kills}: {e}")
        continue
    prefix_ok &= sorted(have) == list(range(FIRST, FIRST + len(have))) and all(equal(have[k], want[k]) for k in have)
    reported_ok &= len(have) >= before + j
    print(f"kill {kills}: after {j} reported realization(s) + up to {per:.2f} s; the file holds {len(have)}")
check(kills == KILLS and still_running, f"killed with SIGKILL {KILLS} times, each while the run was still working", f"(kills {kills}, still running {still_running})")
check(prefix_ok, "after every kill the file is readable and holds finished realizations only, each equal to the uninterrupted run")
check(reported_ok, "after every kill the file holds every realization the killed run reported finished")
p = run(BASE + ["-khgps_first", str(FIRST), "-khgps_realizations", str(R), "-khgps_output", f])  # the last resume, to the end
got = contents(f)
check(sorted(got) == sorted(want), f"resumed run ends with exactly realizations {FIRST}..{FIRST + R - 1}", f"{sorted(got)}")
check(all(equal(got[k], want[k]) for k in want if k in got), "every realization bit for bit equal to the uninterrupted run")
p = run(BASE + ["-khgps_first", str(FIRST), "-khgps_realizations", str(R), "-khgps_output", f])
check("0 realization(s) to compute" in p.stdout and contents(f).keys() == want.keys(), "a complete run re-run computes nothing and duplicates nothing")

# --- groups: 2 groups of 1 rank vs 1 rank, within the bound of test_ranks
g2 = out("ens_groups.h5")
run(BASE + ["-khgps_first", str(FIRST), "-khgps_realizations", "6", "-khgps_groups", "2", "-khgps_output", g2], np_=2)
got = contents(g2)
ok = sorted(got) == list(range(FIRST, FIRST + 6))
for k in got:
    a, b = want[k], got[k]
    lam = min(a[0]["eigenvalues"][0], b[0]["eigenvalues"][0])
    dxb = (a[1]["gradient_norm"] + b[1]["gradient_norm"]) / lam + 1e-13 * np.abs(a[0]["x"]).max()
    ok &= np.array_equal(a[0]["kappa"], b[0]["kappa"]) and np.abs(a[0]["x"] - b[0]["x"]).max() <= dxb
    ok &= np.all(np.abs(a[0]["eigenvalues"] - b[0]["eigenvalues"]) <= np.abs(a[0]["x"]).max() * dxb + 2e-12 * a[0]["eigenvalues"])
check(ok, "-khgps_groups 2 on 2 ranks: same realizations as 1 rank within the bound")
with h5py.File(g2, "r") as h:
    check(h.attrs["groups"] == 2 and h.attrs["mpi_size"] == 2, "groups and ranks recorded")

# --- merge: blocks of a job array
blocks = []
for k, (a, n) in enumerate([(0, 4), (4, 4), (10, 3)]):
    blocks.append(out(f"ens_block{k}.h5"))
    run(BASE + ["-khgps_first", str(a), "-khgps_realizations", str(n), "-khgps_output", blocks[-1]])
m = out("ens_merged.h5")
p = subprocess.run([MERGE, m] + blocks, capture_output=True, text=True)
check(p.returncode == 0 and "gaps: 8-9" in p.stdout, "merge reports the gap 8-9", p.stdout + p.stderr)
check(sorted(contents(m)) == [0, 1, 2, 3, 4, 5, 6, 7, 10, 11, 12], "merged file holds each realization once")
check(all(equal(contents(m)[k], want[k]) for k in range(FIRST, 8)), "merged realizations equal the single-run ones")
p = subprocess.run([MERGE, "--check", blocks[0], ref], capture_output=True, text=True)
check(p.returncode == 0 and "duplicate realization 3" in p.stdout and "identical" in p.stdout, "merge reports identical duplicates", p.stdout)
other = out("ens_otherJ.h5")
run(["-khgps_N", "250", "-khgps_J", "0.5", "-khgps_nev", "20", "-khgps_seed", "11", "-khgps_first", "20", "-khgps_realizations", "2", "-khgps_output", other])
m2 = out("ens_merged_bad.h5")
p = subprocess.run([MERGE, m2, blocks[0], other], capture_output=True, text=True)
check(p.returncode == 1 and "differ in /params J (0.5 vs 0.3)" in p.stderr and not os.path.exists(m2), "merge refuses mismatched parameters and writes nothing", p.stderr)
conflict = out("ens_conflict.h5")  # realization 0 of the same parameters, its x changed in the last bit
shutil.copy(blocks[0], conflict)
with h5py.File(conflict, "r+") as h:
    x = h["realizations/000000/x"]
    x[0] = np.nextafter(x[0], np.inf)
p = subprocess.run([MERGE, "--check", blocks[0], conflict], capture_output=True, text=True)
check(p.returncode == 1 and "CONFLICT: realization 0" in p.stderr, "merge detects a duplicate with different results", p.stdout + p.stderr)

# --- files that must be refused, and left as they were
truncated, garbage, foreign = out("ens_truncated.h5"), out("ens_garbage.h5"), out("ens_foreign.h5")
shutil.copy(ref, truncated)
with open(truncated, "r+b") as fh:
    fh.truncate(os.path.getsize(ref) // 2)
with open(garbage, "wb") as fh:
    fh.write(os.urandom(5000))
with h5py.File(foreign, "w") as h:
    h["data"] = np.arange(10)
for what, path in (("truncated", truncated), ("garbage", garbage), ("foreign HDF5", foreign)):
    before = sha(path)
    p = run(BASE + ["-khgps_realizations", "2", "-khgps_output", path], check_rc=False)
    lines = [l for l in p.stderr.splitlines() if l.strip()]
    check(p.returncode == 2 and len(lines) == 1 and lines[0].startswith("khgps: error:") and "left as it is" in lines[0],
          f"resume from a {what} file: one clear line, non-zero exit", p.stderr[:300])
    m3 = out("ens_m3.h5")
    q = subprocess.run([MERGE, m3, blocks[0], path], capture_output=True, text=True)
    check(q.returncode == 1 and "khgps-merge: error:" in q.stderr and not os.path.exists(m3), f"merge of a {what} file: refused, nothing written", q.stderr[:300])
    check(sha(path) == before, f"{what} file byte for byte as it was")
before = sha(ref)
p = run(BASE[:2] + ["-khgps_J", "0.31"] + BASE[4:] + ["-khgps_realizations", "2", "-khgps_output", ref], check_rc=False)
check(p.returncode == 2 and "J = 0.3, not 0.31" in p.stderr and sha(ref) == before, "rerun with another J: refused with the mismatch named, file untouched", p.stderr[:300])
p = run(BASE + ["-khgps_first", "0", "-khgps_realizations", "2", "-khgps_overwrite", "-khgps_output", garbage])
check(sorted(contents(garbage)) == [0, 1], "-khgps_overwrite starts over")
done()
