"""SLURM for real (issue 25): the job scripts on a one-node SLURM started here (scripts/slurm-local.sh).

Runs as root where slurm-wlm and munge are installed or installable (scripts/install-deps.sh slurm),
else prints `SKIP: slurm: <reason>` and exits 0. The cluster lives in a temporary state folder on
free ports, is stopped at the end (also on failure) and its folder removed; the test's TMP is
removed when every check passed, else kept and named with the daemons' logs in it (common.done).
2.5-4.5 minutes on 2 shared cores; the cases run side by side on the node's CPUs:
  (a) runs/slurm_sweep.sh: an array of 3 blocks of 2 realizations (N = 200, nev 10) and its
      dependent merge job: the merged file equals an unsplit local run bit for bit;
  (b) runs/slurm_array.sbatch: one task requeued from outside (scontrol requeue) in the middle of
      its block resumes its file; the result equals a local run bit for bit;
  (c) one task whose block (N = 2000, about 75 s of one core's work, measured here) outlasts a
      one-minute time limit: SIGTERM (--signal=TERM@10) stops khgps before the kill (exit 143, its
      one-line stop message), what it leaves (FILE and FILE.pending) reads whole, the task requeues
      itself and finishes; no TIMEOUT; the realizations where it stopped and resumed equal a local
      run bit for bit;
  (d) a 2-rank task through srun with PMIx (-khgps_groups 2): ran on 2 ranks, equals a 1-rank local
      run bit for bit."""
import glob
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

from common import KHGPS, ROOT, TMP, check, done  # noqa: E402

os.environ["HDF5_USE_FILE_LOCKING"] = "FALSE"  # read block files while khgps appends
import h5py  # noqa: E402
from khgps import io as khgps_io  # noqa: E402  (a run file and its log FILE.pending)
import numpy as np  # noqa: E402


def skip_all(why):
    print(f"SKIP: slurm: {why}", flush=True)
    shutil.rmtree(TMP, ignore_errors=True)
    sys.exit(0)


if os.geteuid() != 0:
    skip_all("needs root (SlurmUser=root, munged's key)")


def have_slurm():
    return all(os.access(p, os.X_OK) for p in ("/usr/sbin/slurmctld", "/usr/sbin/slurmd", "/usr/sbin/munged")) \
        and shutil.which("sbatch") is not None


if not have_slurm():
    p = subprocess.run(["bash", "scripts/install-deps.sh", "slurm"], cwd=ROOT, capture_output=True, text=True)
    if p.returncode != 0 or not have_slurm():
        skip_all("slurm-wlm and munge are not installed and not installable"
                 + (f": {p.stderr.strip().splitlines()[-1]}" if p.stderr.strip() else " (KHGPS_NO_INSTALL=1?)"))
if not os.access(KHGPS, os.X_OK):
    skip_all("no bin/khgps (make all)")

T0 = time.time()
STATE = tempfile.mkdtemp(prefix="khgps-slurm-test-")
WORK = os.path.join(TMP, "slurm")
os.makedirs(WORK)


def free_port_pair():
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port >= 65000:
            continue
        try:
            with socket.socket() as s:
                s.bind(("127.0.0.1", port + 1))
            return port
        except OSError:
            continue
    raise RuntimeError("no two free ports")


ENV = dict(os.environ, KHGPS_SLURM_DIR=STATE, KHGPS_SLURM_PORT=str(free_port_pair()),
           SLURM_CONF=os.path.join(STATE, "slurm.conf"))
for k in ("SLURM_JOB_ID", "SLURM_JOBID", "SBATCH_PARTITION", "SBATCH_ACCOUNT", "N", "NEV", "J", "H", "K0", "R",
          "BLOCK", "FIRST", "NGROUPS", "OPTS", "EXTRA", "OUTDIR", "POINT", "KHGPS_BIN", "KHGPS_ROOT", "LAUNCH",
          "SRUN_MPI", "MAX_REQUEUE", "NTASKS", "CPUS", "MEM", "TIME", "SIGNAL", "SBATCH_ARGS", "DRY"):
    ENV.pop(k, None)


def sh(cmd, env=None, check_rc=True, timeout=120):
    p = subprocess.run(cmd, cwd=ROOT, env=dict(ENV, **(env or {})), capture_output=True, text=True, timeout=timeout)
    if check_rc and p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited with {p.returncode}:\n{p.stdout}{p.stderr}")
    return p


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def realizations(path):
    """{index: (x, eigenvalues, energy)} of a khgps file and its log (FILE.pending)."""
    return {int(d["realization"]): (d["x"], d["eigenvalues"], d["energy"])
            for _, d in khgps_io.realizations(path, minima_only=False)}


def same(a, b, idx):
    """The realizations idx of a and b ({index: (x, eigenvalues, energy)}) are equal bit for bit."""
    bad = [i for i in idx if i not in a or i not in b or not (
        np.array_equal(a[i][0], b[i][0]) and np.array_equal(a[i][1], b[i][1]) and a[i][2] == b[i][2])]
    return not bad, bad


def local(name, args):
    """A local unsplit run (one rank, one thread) of the same options: its realizations."""
    path = os.path.join(WORK, name)
    subprocess.run([KHGPS, *args, "-khgps_output", path], cwd=ROOT, check=True, capture_output=True,
                   env=dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1"))
    return realizations(path)


def jobcomp():
    return read(os.path.join(STATE, "log", "jobcomp.log"))


def queue_empty():
    return sh(["squeue", "-h", "-o", "%i"]).stdout.strip() == ""


def submit_ids(text):
    """'POINT: array 12 (3 tasks), merge 13 -> FILE' -> (12, 13)"""
    m = re.search(r"array (\d+) \(\d+ tasks\), merge (\d+)", text)
    return (m.group(1), m.group(2)) if m else (None, None)


common = ["-options_file", "options/paper.opts", "-khgps_kappa0", "1", "-khgps_h", "0.01"]
try:
    sh(["scripts/slurm-local.sh", "start"], timeout=300)
    check("idle" in sh(["sinfo", "-h", "-N", "-o", "%T"]).stdout, "slurm-local.sh start: one idle node")
    st = sh(["scripts/slurm-local.sh", "start"], timeout=60)
    check(st.returncode == 0 and "idle" in st.stderr, "slurm-local.sh start again: a no-op, the node idle")

    # (c): a block of about 75 s of one core's work, measured here before any job runs (khgps' own
    # "done: ..., T s" of 3 realizations at N = 2000)
    p = subprocess.run([KHGPS, *common, "-khgps_N", "2000", "-khgps_nev", "10", "-khgps_J", "0.1", "-khgps_first", "1000",
                        "-khgps_realizations", "3", "-khgps_output", os.path.join(WORK, "c-speed.h5")],
                       cwd=ROOT, check=True, capture_output=True, text=True, env=dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1"))
    m = re.search(r"done: .*?, ([0-9.]+) s;", p.stdout + p.stderr)
    c_per = max(float(m.group(1)) / 3 if m else 1.0, 0.05)
    c_R = max(20, min(400, int(75 / c_per)))
    print(f"test_slurm: (c) {c_per:.2f} s per realization at N = 2000 here: a block of {c_R} (~75 s)", flush=True)
    sweep_env = dict(NTASKS="1", MEM="1G", TIME="5", MERGE_MEM="1G", MERGE_TIME="5")
    # (d) first: it needs both CPUs; then (a), (b) and (c) share them
    d_out = os.path.join(WORK, "d")
    two = (os.cpu_count() or 1) >= 2
    d_array = None
    if not two:
        print("SKIP: slurm: (d) 2 ranks through srun (one CPU here)", flush=True)
    else:
        p = sh(["runs/slurm_sweep.sh", "0.2:0.01:1"],
               env=dict(sweep_env, N="200", NEV="10", R="4", BLOCK="4", NTASKS="2", NGROUPS="2", OUTDIR=d_out))
        d_array, d_merge = submit_ids(p.stdout)
    a_out = os.path.join(WORK, "a")
    p = sh(["runs/slurm_sweep.sh", "0.1:0.01:1"], env=dict(sweep_env, N="200", NEV="10", R="6", BLOCK="2", OUTDIR=a_out))
    a_array, a_merge = submit_ids(p.stdout)
    check(a_array is not None and a_merge is not None, "(a) runs/slurm_sweep.sh: one array and one merge job", p.stdout + p.stderr)
    c_out = os.path.join(WORK, "c")
    p = sh(["runs/slurm_sweep.sh", "0.1:0.01:1"],
           env=dict(sweep_env, N="2000", NEV="10", R=str(c_R), BLOCK=str(c_R), TIME="1", SIGNAL="TERM@10", OUTDIR=c_out))
    c_array, c_merge = submit_ids(p.stdout)
    b_out = os.path.join(WORK, "b")
    os.makedirs(b_out)
    b_R = 20
    p = sh(["sbatch", "--parsable", "--array=0", "--ntasks=1", "--mem=1G", "--time=5", f"--chdir={ROOT}",
            f"--output={b_out}/khgps-%A_%a.log", "runs/slurm_array.sbatch"],
           env=dict(N="1000", NEV="10", J="0.3", BLOCK=str(b_R), OUTDIR=b_out))
    b_job = p.stdout.strip().split(";")[0]
    b_log = os.path.join(b_out, f"khgps-{b_job}_0.log")
    b_file = os.path.join(b_out, "N1000_J0.3_h0.01_k1.block000.h5")
    c_snap = os.path.join(WORK, "c-stopped.h5")

    # watch: requeue (b) after its 3rd realization; copy (c)'s file when the task stops and requeues itself
    b_requeued_at, c_snapped = None, False
    deadline = time.time() + 420
    tick = 0
    while time.time() < deadline:
        tick += 1
        if b_requeued_at is None and os.path.exists(b_file):
            try:
                n = len(realizations(b_file))
            except (OSError, KeyError):
                n = 0
            if n >= 3:
                sh(["scontrol", "requeue", f"{b_job}_0"])
                b_requeued_at = n
        logs = glob.glob(os.path.join(c_out, "logs", f"*-{c_array}_0.log"))
        if not c_snapped and logs and "requeueing to continue" in read(logs[0]):
            f = glob.glob(os.path.join(c_out, "*.block000.h5"))
            if f:
                shutil.copyfile(f[0], c_snap)
                if os.path.exists(f[0] + ".pending"):
                    shutil.copyfile(f[0] + ".pending", c_snap + ".pending")
                c_snapped = True
        if tick % 10 == 0 and queue_empty():
            break
        time.sleep(0.2)
    check(queue_empty(), f"all jobs ended within 7 minutes ({time.time() - T0:.0f} s)", sh(["squeue"]).stdout)
    comp = jobcomp()

    # (a)
    merged = os.path.join(a_out, "N200_J0.1_h0.01_k1.h5")
    check(re.search(rf"JobId={a_merge} .*JobState=COMPLETED", comp) is not None and os.path.exists(merged),
          "(a) the merge job ran after the array and wrote the merged file", read(glob.glob(os.path.join(a_out, "logs", "*merge*"))[0]) if glob.glob(os.path.join(a_out, "logs", "*merge*")) else "")
    if os.path.exists(merged):
        m = realizations(merged)
        ref = local("a-ref.h5", common + ["-khgps_N", "200", "-khgps_nev", "10", "-khgps_J", "0.1", "-khgps_realizations", "6"])
        ok, bad = same(m, ref, range(6))
        check(sorted(m) == list(range(6)) and ok, "(a) 3 blocks of 2 merged = an unsplit local run of 6 realizations, bit for bit (x, eigenvalues, energy)", f"differ: {bad}, have {sorted(m)}")
        logs = sorted(glob.glob(os.path.join(a_out, "logs", f"*-{a_array}_*.log")))
        check(len(logs) == 3 and all("done:" in read(x) for x in logs), "(a) 3 task logs where --output put them (folder made before sbatch), each done")

    # (b)
    blog = read(b_log)
    check(b_requeued_at is not None and 0 < b_requeued_at < b_R, f"(b) requeued from outside in the middle of the block ({b_requeued_at} of {b_R} done)")
    m_ = re.search(r"resuming .*: it holds (\d+) realization", blog)
    check("restart 1" in blog and m_ is not None and int(m_.group(1)) >= (b_requeued_at or 0),
          f"(b) the requeued task resumed its file ({m_.group(1) if m_ else '?'} realizations kept)", blog[-2000:])
    if os.path.exists(b_file):
        got = realizations(b_file)
        ref = local("b-ref.h5", common + ["-khgps_N", "1000", "-khgps_nev", "10", "-khgps_J", "0.3", "-khgps_realizations", str(b_R)])
        ok, bad = same(got, ref, range(b_R))
        check(sorted(got) == list(range(b_R)) and ok, f"(b) after the requeue: {b_R} realizations = a local run, bit for bit", f"differ: {bad}")

    # (c)
    logs = glob.glob(os.path.join(c_out, "logs", f"*-{c_array}_0.log"))
    clog = read(logs[0]) if logs else ""
    for line in clog.splitlines():  # the timeline, for the record
        if line.startswith("slurm_array:") or "CANCELLED" in line:
            print(f"test_slurm: (c) {line}", flush=True)
    ts = [time.strptime(m_.group(1), "%H:%M:%S") for m_ in re.finditer(r"^slurm_array: (\d\d:\d\d:\d\d) ", clog, re.M)]
    secs = [t.tm_hour * 3600 + t.tm_min * 60 + t.tm_sec for t in ts]
    ran = sum(b - a for a, b in zip(secs[0::2], secs[1::2]))
    print(f"test_slurm: (c) the block ran {ran} s in {len(secs) // 2} start(s) of a one-minute limit", flush=True)
    stops = clog.count("khgps stopped (exit 143) before the time limit")
    check(stops >= 1, f"(c) the time-limit signal stopped khgps with exit 143 and the task requeued itself ({stops} time(s))", clog[-3000:])
    check("DUE TO TIME LIMIT" not in clog and not re.search(rf"JobId=\d+ .*JobState=TIMEOUT.*ArrayJobId={c_array} ", comp),
          "(c) never killed by the time limit (no TIMEOUT)")
    if subprocess.run("grep -q 'stopped by ' src/*.c", shell=True, cwd=ROOT).returncode == 0:
        said = re.findall(r"^khgps: stopped by SIGTERM after \d+ of \d+ realizations; .*(?:holds them; run again to continue|is as it was; run again to start)$", clog, re.M)
        check(stops >= 1 and len(said) >= stops, f"(c) khgps' one-line stop message at each stop ({len(said)} of {stops})", clog[-3000:])
    else:
        print("SKIP: slurm: (c) khgps' one-line stop message (khgps does not print it yet: src/ has no 'stopped by')", flush=True)
    if c_snapped:
        # whole: FILE opens, and FILE with its log (FILE.pending, which a stop leaves; khgps folds it
        # into FILE at the next run's end) reads as complete realizations
        why = ""
        try:
            snap = realizations(c_snap)
            k = len(snap)
            whole = all(len(v[0]) == 2000 and len(v[1]) == 10 for v in snap.values())
            with h5py.File(c_snap, "r") as f:
                in_file = len(f.get("realizations", {}))
        except Exception as e:  # noqa: BLE001
            k, in_file, whole, why = -1, -1, False, f"{type(e).__name__}: {e}"
        check(whole and 0 < k < c_R,
              f"(c) what the stop left is whole and partial: {k} of {c_R} realizations ({in_file} in FILE, "
              f"{k - in_file} in FILE.pending)", why)
    else:
        check(False, "(c) the file left by the stop was seen")
    held = [int(x) for x in re.findall(r"resuming .*: it holds (\d+) realization", clog)]
    cmerged = glob.glob(os.path.join(c_out, "N2000_*.h5"))
    cm = [x for x in cmerged if ".block" not in x]
    if cm and held:
        got = realizations(cm[0])
        idx = sorted({0, c_R - 1} | {i for k in held for i in (k - 1, k) if 0 <= i < c_R})
        ref = {}
        for i in idx:
            ref.update(local(f"c-ref{i}.h5", common + ["-khgps_N", "2000", "-khgps_nev", "10", "-khgps_J", "0.1", "-khgps_first", str(i), "-khgps_realizations", "1"]))
        ok, bad = same(got, ref, idx)
        check(sorted(got) == list(range(c_R)) and ok,
              f"(c) requeued to the end and merged: {c_R} realizations; those before and after each stop ({idx}) = a local run, bit for bit", f"differ: {bad}")
    else:
        check(False, "(c) the task finished after its requeue and the merge job wrote the point", clog[-3000:])

    # (d)
    dm = os.path.join(d_out, "N200_J0.2_h0.01_k1.h5")
    dlog = read((glob.glob(os.path.join(d_out, "logs", f"*-{d_array}_0.log")) or [""])[0]) if d_array else ""
    if not two:
        pass
    elif os.path.exists(dm):
        with h5py.File(dm, "r") as f:
            size = int(f.attrs.get("mpi_size", 0))
        got = realizations(dm)
        ref = local("d-ref.h5", common + ["-khgps_N", "200", "-khgps_nev", "10", "-khgps_J", "0.2", "-khgps_realizations", "4"])
        ok, bad = same(got, ref, range(4))
        check(size == 2 and "2 group(s) of 1 rank(s)" in dlog and sorted(got) == list(range(4)) and ok,
              "(d) a 2-rank task through srun --mpi=pmix (-khgps_groups 2) = a 1-rank local run, bit for bit", f"mpi_size {size}, differ {bad}\n{dlog[-2000:]}")
    else:
        check(False, "(d) a 2-rank task through srun --mpi=pmix wrote its point", dlog[-2000:])
except Exception as e:  # report, then stop the cluster
    check(False, f"test_slurm: {type(e).__name__}: {e}")
finally:
    try:
        p = sh(["scripts/slurm-local.sh", "stop"], check_rc=False, timeout=120)
        st = sh(["scripts/slurm-local.sh", "status"], check_rc=False, timeout=60)
        check(p.returncode == 0 and st.returncode != 0 and "running (pid" not in st.stdout, "slurm-local.sh stop: its daemons stopped", st.stdout)
    finally:
        import common
        if common._failed:  # like every test: TMP kept and named (common.done); the daemons' logs in it
            shutil.copytree(os.path.join(STATE, "log"), os.path.join(TMP, "slurm-logs"), dirs_exist_ok=True)
        shutil.rmtree(STATE, ignore_errors=True)
print(f"test_slurm: {time.time() - T0:.0f} s", flush=True)
done()  # removes TMP when every check passed
