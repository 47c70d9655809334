"""Run files on a real cluster (issue 22) and appends that cost what they add (issue 23): paths of any
length on 1 and 2 ranks (no MPI-IO), one protocol per file (every setting that decides the minimum
compared on resume, what does not change results recorded per run), the log FILE.pending (a record
cut by a kill is ignored, the next run continues it, readers see it), messages that tell the truth
(a file held by another HDF5 program, a read-only file system, a parameter of the wrong type), and
signals (SIGTERM, SIGINT, SIGHUP at random moments on 1 and 2 ranks: one line, exit 128 + signal,
the file whole, no temporary file left, a rerun equal to an uninterrupted run bit for bit)."""
import glob
import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import time

import h5py
import numpy as np

from common import KHGPS, MPIEXEC, ROOT, TMP, check, done, out, run, skip  # noqa: E402

from khgps import io as khgps_io  # noqa: E402

BASE = ["-khgps_N", "60", "-khgps_J", "0.3", "-khgps_h", "0.05", "-khgps_nev", "4"]
os.environ.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")  # bit for bit across runs: one thread each


def sha(path):
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


def contents(path):
    """realization -> (x, eigenvalues, energy) over the file and its log."""
    return {d["realization"]: (np.asarray(d["x"]), np.asarray(d.get("eigenvalues", [])), d["energy"])
            for _, d in khgps_io.realizations(path, minima_only=False)}


def same(a, b):
    return sorted(a) == sorted(b) and all(np.array_equal(a[k][0], b[k][0]) and np.array_equal(a[k][1], b[k][1]) and a[k][2] == b[k][2] for k in a)


def leftovers(path):
    d, b = os.path.dirname(path), os.path.basename(path)
    return glob.glob(os.path.join(d, f".{b}.*.part")) + glob.glob(os.path.join(d, f"{b}.pending.*"))


def one_line(p, start):
    lines = [l for l in p.stderr.strip().splitlines() if l.startswith("khgps")]
    return len(lines) == 1 and lines[0].startswith(start)


# an uninterrupted reference
ref_file = out("ref.h5")
run(BASE + ["-khgps_realizations", "12", "-khgps_output", ref_file])
ref = contents(ref_file)
check(len(ref) == 12 and not os.path.exists(ref_file + ".pending"), "a finished run: FILE alone holds every realization (its log folded and removed)")

# long paths: 300 characters and more, on 1 and 2 ranks (the serial file needs no MPI-IO)
deep = TMP
while len(deep) < 300:
    deep = os.path.join(deep, "a_rather_long_folder_name_on_a_scratch_tree")
os.makedirs(deep, exist_ok=True)
for np_ in (1, 2):
    f = os.path.join(deep, f"run_np{np_}.h5")
    p = run(BASE + ["-khgps_realizations", "3", "-khgps_output", f, "-khgps_groups", str(np_)], np_=np_, check_rc=False)
    got = contents(f) if os.path.exists(f) else {}
    check(p.returncode == 0 and sorted(got) == [0, 1, 2] and all(np.array_equal(got[k][0], ref[k][0]) for k in got),
          f"an output path of {len(f)} characters on {np_} rank(s): written, the same realizations", p.stderr[-300:])

# one protocol per file: every setting that decides which minimum is found, or what counts as one
proto = out("proto.h5")
run(BASE + ["-khgps_realizations", "2", "-khgps_output", proto])
before = sha(proto)
for extra, key in ((["-khgps_gtol", "1e-6"], "gtol"), (["-khgps_polish_its", "0"], "polish_its"),
                   (["-tao_type", "blmvm"], "tao_type"), (["-tao_max_it", "50"], "tao_max_it"),
                   (["-eps_tol", "1e-9"], "eps_tol"), (["-tao_bncg_type", "hs"], "minimizer_options"),
                   (["-tao_gatol", "1e-7"], "tao_gatol")):
    p = run(BASE + ["-khgps_realizations", "4", "-khgps_output", proto] + extra, check_rc=False)
    check(p.returncode == 2 and one_line(p, "khgps: error:") and f" {key} " in p.stderr and sha(proto) == before,
          f"resume with another {key} ({' '.join(extra)}): refused in one line naming it, file untouched", p.stderr[-300:])
# what does not change results beyond rounding is accepted and recorded per run
p = run(BASE + ["-khgps_realizations", "4", "-khgps_output", proto, "-khgps_block_size", "8"], check_rc=False)
with h5py.File(proto, "r") as h:
    runs = sorted(h["runs"]) if "runs" in h else []
    per = [int(h["realizations"][k].attrs.get("run", -1)) for k in sorted(h["realizations"])]
    bs = [int(h["runs"][r].attrs.get("block_size", -1)) for r in runs]
check(p.returncode == 0 and runs == ["0000", "0001"] and per == [0, 0, 1, 1] and bs[1] == 8 and bs[0] != 8,
      "resume with another block size: accepted, each run in /runs with its settings, each realization names its run", f"{runs} {per} {bs}")

# the log: a record cut by a kill is ignored by readers; the next run cuts it back and continues
logf = out("log.h5")
run(BASE + ["-khgps_realizations", "3", "-khgps_output", logf])
with h5py.File(logf, "r") as h:
    log_id = h.attrs["log_id"]
# make a log as a killed run leaves it: a run stopped by SIGTERM after some records
pr = subprocess.Popen([KHGPS] + BASE + ["-khgps_realizations", "400", "-khgps_output", logf], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
t0 = time.time()
while time.time() - t0 < 60 and len(contents(logf)) < 6:
    time.sleep(0.05)
pr.send_signal(signal.SIGTERM)
_, err = pr.communicate()
n_before = len(contents(logf))
pending = logf + ".pending"
check(pr.returncode == 143 and os.path.exists(pending) and n_before >= 4 and "stopped by SIGTERM" in err, "a stopped run leaves its log; readers see its records", f"rc {pr.returncode} n {n_before} {err[-200:]}")
if os.path.exists(pending):
    size = os.path.getsize(pending)
    with open(pending, "ab") as fh:  # a record cut short, as a kill during its write leaves it
        fh.write(b"KHGPSREC" + (4000).to_bytes(8, "little") + b"\1" * 100)
    check(len(contents(logf)) == n_before, "a record cut short at the log's end is ignored by readers")
    run(BASE + ["-khgps_realizations", "400", "-khgps_output", logf])
    got = contents(logf)
    check(sorted(got) == list(range(400)) and same({k: got[k] for k in range(12)}, ref) and not os.path.exists(pending),
          "the next run cuts the record back, continues and folds: all realizations, equal to an uninterrupted run bit for bit")

# messages that tell the truth
held = out("held.h5")
run(BASE + ["-khgps_realizations", "1", "-khgps_output", held])
before = contents(held)
holder = subprocess.Popen([sys.executable, "-c", "import h5py, sys, time; f = h5py.File(sys.argv[1], 'r+'); print('open', flush=True); time.sleep(60)", held],
                          stdout=subprocess.PIPE, text=True)
holder.stdout.readline()
p = run(BASE + ["-khgps_realizations", "2", "-khgps_output", held], check_rc=False)
holder.kill()
holder.wait()
check(p.returncode == 2 and one_line(p, "khgps: error:") and "open for writing in another program" in p.stderr and "-khgps_overwrite" not in p.stderr,
      "a file held open for writing by another HDF5 program: its own line, no advice to overwrite", p.stderr[-300:])
check(same(contents(held), before) and not os.path.exists(held + ".pending"), "... and khgps wrote nothing")

typed = out("typed.h5")
run(BASE + ["-khgps_realizations", "1", "-khgps_output", typed])
with h5py.File(typed, "r+") as h:
    del h["params"].attrs["N"]
    h["params"].attrs["N"] = "60"
p = run(BASE + ["-khgps_realizations", "2", "-khgps_output", typed], check_rc=False)
check(p.returncode == 2 and "/params/N is not an integer" in p.stderr, "a parameter stored as a string: named as such (not 'N = 0')", p.stderr[-300:])

if os.geteuid() == 0 and shutil.which("mount"):
    mnt = out("ro_mount")
    os.makedirs(mnt)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", mnt], capture_output=True).returncode == 0:
        try:
            rof = os.path.join(mnt, "ro.h5")
            run(BASE + ["-khgps_realizations", "1", "-khgps_output", rof])
            subprocess.run(["mount", "-o", "remount,ro", mnt], check=True)
            p = run(BASE + ["-khgps_realizations", "2", "-khgps_output", rof], check_rc=False)
            check(p.returncode == 2 and one_line(p, "khgps: error:") and "read-only file system" in p.stderr and "chmod" not in p.stderr,
                  "a read-only file system: said so (not 'write-protected')", p.stderr[-300:])
        finally:
            subprocess.run(["umount", mnt], capture_output=True)
    else:
        skip("read-only file system", "cannot mount a tmpfs here")
else:
    skip("read-only file system", "needs root to mount a tmpfs")

# every -eps_type / -st_type combination either runs or is refused in one line before any work
for storage in ([], ["-khgps_coupling", "sparse", "-khgps_connectivity", "6", "-khgps_filter_degree", "0"]):
    bad = []
    for eps in ("krylovschur", "arnoldi", "lanczos", "gd", "jd", "rqcg", "lobpcg", "ciss", "lapack", "arpack", "power", "subspace", "lyapii"):
        for st in ([], ["-st_type", "shift"], ["-st_type", "precond"], ["-st_type", "cayley"]):
            p = run(BASE + storage + ["-eps_type", eps] + st, check_rc=False)
            if not ((p.returncode == 0 and "1 minimum" in p.stdout) or (p.returncode == 2 and one_line(p, f"khgps: error: -eps_type {eps}") and "realization 0:" not in p.stdout)):
                bad.append(f"{eps} {' '.join(st)}: rc {p.returncode} {p.stderr[-120:]}")
    check(not bad, f"every -eps_type with every -st_type on the {'sparse' if storage else 'packed'} storage: runs, or is refused in one line before work", "; ".join(bad)[:600])

# signals at random moments, 1 and 2 ranks: one line, exit 128 + signal, the file whole, no
# temporary file; a rerun equals the uninterrupted run bit for bit
rng = random.Random(22)
for trial, (np_, sig) in enumerate([(1, signal.SIGTERM), (1, signal.SIGINT), (1, signal.SIGHUP), (2, signal.SIGTERM), (1, signal.SIGTERM), (2, signal.SIGHUP)]):
    f = out(f"sig{trial}.h5")
    cmd = ([*MPIEXEC, "-n", str(np_)] if np_ > 1 else []) + [KHGPS] + BASE + ["-khgps_realizations", "12", "-khgps_output", f] + (["-khgps_groups", "2"] if np_ > 1 else [])
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    pr = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env, start_new_session=True)
    pr.stdout.readline()  # started (a signal before the program's main cannot be handled by it)
    time.sleep(rng.uniform(0.0, 2.0))
    os.killpg(pr.pid, sig)  # as a terminal or a batch system signals every task
    _, err = pr.communicate()
    lines = [l for l in err.splitlines() if l.startswith("khgps")]
    name = signal.Signals(sig).name
    finished = pr.returncode == 0
    if np_ == 1:
        ok = finished or (pr.returncode == 128 + sig and len(lines) == 1 and lines[0].startswith(f"khgps: stopped by {name}"))
    else:  # mpiexec passes SIGTERM on to the ranks and sets the exit code itself
        ok = finished or (pr.returncode != 0 and len(lines) <= 1 and all(l.startswith(f"khgps: stopped by {name}") or l.startswith("khgps: stopped by SIGTERM") for l in lines))
    held_now = contents(f) if os.path.exists(f) else {}
    ok &= all(np.array_equal(held_now[k][0], ref[k][0]) for k in held_now) and not leftovers(f)
    run(BASE + ["-khgps_realizations", "12", "-khgps_output", f])
    ok &= same(contents(f), ref)
    check(ok, f"{name} at a random moment on {np_} rank(s) (trial {trial}): {'finished first' if finished else f'exit {pr.returncode}, one line'}, file whole ({len(held_now)} held), no temporary file, rerun equal bit for bit",
          f"rc {pr.returncode} {lines} {leftovers(f)}")

done()
