"""Run files that survive their users (issue 15): one writer per file, files respected, resume and
merge that validate what they read, sparse couplings right for tiny c.

* Two runs on one file: the second stops before any work (exit 2, one line naming host and pid);
  started together (several trials, 1 and 2 ranks) no finished realization is ever lost.
* A write-protected run file is refused and left as it was (mode too); a symbolic link is written
  through (the link stays); a user's own FILE.part is never touched; an append that fails (file
  size limit: as a full disk) leaves the file as it was, no temporary file, exit 2.
* A temporary file left by a killed run (named in the lock file) is removed by the next holder.
* Resume and merge refuse damaged realization groups (no x, x of the wrong shape, no status_name,
  names `1` and 20 digits), naming the group; the merge never tracebacks, writes nothing, and
  takes the same lock as khgps.
* Sparse couplings for c = 1e-9 and c = 0.1: the number of couplings as expected (Poisson), and
  the uncoupled limit's minimum solves kappa x + A x^3/6 = h site by site."""
import fcntl
import glob
import hashlib
import os
import resource
import shutil
import socket
import subprocess
import time

import h5py
import numpy as np

from common import KHGPS, MPIEXEC, ROOT, check, done, load, out, run

MERGE = os.path.join(ROOT, "scripts", "khgps-merge")
BASE = ["-khgps_N", "300", "-khgps_J", "0.3", "-khgps_nev", "10", "-khgps_seed", "5"]


def sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def held(path):
    with h5py.File(path, "r") as f:
        return sorted(int(k) for k in f.get("realizations", {}))


def one_line(p, needle=""):
    """khgps's own stderr is one line `khgps: error: ...` (mpiexec's banners around it are its own)."""
    mine = [l for l in p.stderr.splitlines() if l.startswith("khgps")]
    return (len(mine) == 1 and mine[0].startswith("khgps: error:") and needle in mine[0]
            and "PETSC ERROR" not in p.stderr and "Traceback" not in p.stderr)


def temps(path):
    d, b = os.path.split(path)
    return glob.glob(os.path.join(d, f".{b}.*.part"))


def cmd(args, np_=1):
    return ([*MPIEXEC, "-n", str(np_)] if np_ > 1 else []) + [KHGPS] + args


ENV = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")

# --- 1. one writer per file: a held lock refuses a second run, naming the holder
f = out("locked.h5")
run(BASE + ["-khgps_realizations", "2", "-khgps_output", f])
before = sha(f)
lockname = os.path.join(os.path.dirname(f), ".locked.h5.lock")
check(os.path.exists(lockname), "the lock file sits beside the run file")
fd = os.open(lockname, os.O_RDWR)
fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
os.ftruncate(fd, 0)
os.pwrite(fd, b"khgps host=elsewhere pid=4242\n", 0)
for np_ in (1, 2):
    p = run(BASE + ["-khgps_realizations", "4", "-khgps_output", f], np_=np_, check_rc=False)
    check(p.returncode == 2 and one_line(p, "elsewhere") and "4242" in p.stderr and "[1/" not in p.stdout,
          f"{np_} rank(s): a file locked by another run is refused before any work, holder named, exit 2", f"rc {p.returncode} {p.stderr[:300]!r} {p.stdout[:200]!r}")
    check(sha(f) == before, f"{np_} rank(s): the locked file is untouched")
m = out("merge_locked.h5")
shutil.copy(f, out("locked_copy.h5"))
mlock = os.path.join(os.path.dirname(m), ".merge_locked.h5.lock")
fd2 = os.open(mlock, os.O_RDWR | os.O_CREAT)
fcntl.flock(fd2, fcntl.LOCK_EX | fcntl.LOCK_NB)
os.pwrite(fd2, b"khgps host=elsewhere pid=4243\n", 0)
q = subprocess.run([MERGE, m, out("locked_copy.h5")], capture_output=True, text=True)
check(q.returncode == 1 and "being written by another run" in q.stderr and "4243" in q.stderr and not os.path.exists(m),
      "khgps-merge refuses an output that a run holds, naming it", q.stdout + q.stderr)
os.close(fd2)
os.close(fd)  # the lock goes with the holder
p = run(BASE + ["-khgps_realizations", "4", "-khgps_output", f])
check(held(f) == [0, 1, 2, 3], "once the holder is gone the next run takes the lock and continues")

# --- started together: no finished realization is lost (several trials, 1 and 2 ranks)
for trial, (npa, npb) in enumerate([(1, 1), (1, 1), (1, 1), (2, 1), (1, 2)]):
    g = out(f"race{trial}.h5")
    a = subprocess.Popen(cmd(BASE + ["-khgps_first", "0", "-khgps_realizations", "6", "-khgps_groups", str(npa), "-khgps_output", g], npa), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV, cwd=ROOT)
    b = subprocess.Popen(cmd(BASE + ["-khgps_first", "6", "-khgps_realizations", "6", "-khgps_groups", str(npb), "-khgps_output", g], npb), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV, cwd=ROOT)
    ra, rb = a.communicate(), b.communicate()
    want = (list(range(0, 6)) if a.returncode == 0 else []) + (list(range(6, 12)) if b.returncode == 0 else [])
    got = held(g) if os.path.exists(g) else []
    refused = [(r, s) for r, s in ((a.returncode, ra[1]), (b.returncode, rb[1])) if r != 0]
    print(f"race {trial}: exit codes {a.returncode}, {b.returncode}; file holds {got}")
    check(all(r == 2 and "being written by another run" in s for r, s in refused) and set(want) <= set(got) and got,
          f"race {trial} ({npa}+{npb} ranks): every run that exited 0 has all its realizations in the file; a refused one exited 2 naming the other",
          f"rc {a.returncode}/{b.returncode}, file {got}, stderr {ra[1][-200:]!r} {rb[1][-200:]!r}")
    check(not temps(g), f"race {trial}: no temporary file left")

# --- 6. files respected
ro = out("readonly.h5")
run(BASE + ["-khgps_realizations", "1", "-khgps_output", ro])
os.chmod(ro, 0o444)
before = sha(ro)
for extra in ([], ["-khgps_overwrite"]):
    p = run(BASE + ["-khgps_realizations", "2", "-khgps_output", ro] + extra, check_rc=False)
    check(p.returncode == 2 and one_line(p, "write-protected"), f"a write-protected run file is refused{' (with -khgps_overwrite)' if extra else ''}", p.stderr[:300])
    check(sha(ro) == before and (os.stat(ro).st_mode & 0o777) == 0o444, "the write-protected file is untouched, mode 444 kept")
os.chmod(ro, 0o644)

target, link = out("target.h5"), out("link.h5")
run(BASE + ["-khgps_realizations", "1", "-khgps_output", target])
os.symlink(os.path.basename(target), link)
run(BASE + ["-khgps_realizations", "3", "-khgps_output", link])
check(os.path.islink(link) and held(target) == [0, 1, 2], "a symbolic link is written through: the link stays, its target holds the realizations")
dangling = out("dangling.h5")
os.symlink("nowhere.h5", dangling)
p = run(BASE + ["-khgps_output", dangling], check_rc=False)
check(p.returncode == 2 and one_line(p, "symbolic link") and os.path.islink(dangling), "a dangling symbolic link is refused and left", p.stderr[:300])

mine = out("mine.h5")
with open(mine + ".part", "w") as fh:
    fh.write("a user's own file")
run(BASE + ["-khgps_realizations", "2", "-khgps_output", mine])
check(open(mine + ".part").read() == "a user's own file" and held(mine) == [0, 1], "a user's own FILE.part is never touched")

# a failed append (a file size limit, as a full disk, set once the run holds the file): the file as
# it was, no temporary file, exit 2
BIG = ["-khgps_N", "1500", "-khgps_J", "0.3", "-khgps_nev", "10", "-khgps_seed", "5"]
full = out("full.h5")
run(BIG + ["-khgps_realizations", "1", "-khgps_output", full])
before, size = sha(full), os.path.getsize(full)
flock_file = os.path.join(os.path.dirname(full), ".full.h5.lock")
os.unlink(flock_file)
a = subprocess.Popen(["bash", "-c", "trap '' XFSZ; exec \"$@\"", "x", KHGPS] + BIG + ["-khgps_realizations", "3", "-khgps_output", full],
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV, cwd=ROOT)
t0 = time.time()
while time.time() - t0 < 20 and not (os.path.exists(flock_file) and b"pid=" in open(flock_file, "rb").read()):
    time.sleep(0.002)
resource.prlimit(a.pid, resource.RLIMIT_FSIZE, (size + 4096, size + 4096))  # room for the copy, not for the new realization
ra = a.communicate()
check(a.returncode == 2 and one_line(type("P", (), {"stderr": ra[1]})(), "cannot add realization") and "keeps the realizations it held" in ra[1],
      "a failed append: one line, exit 2", f"rc {a.returncode} {ra[1][:400]!r}")
check(sha(full) == before and not temps(full), "a failed append: the file as it was, its temporary file removed")
p = run(BIG + ["-khgps_realizations", "3", "-khgps_output", full])
check(held(full) == [0, 1, 2], "after a failed append a rerun continues")

# a temporary file left by a killed run (named in the lock file) is removed by the next holder
stale = out("stale.h5")
run(BASE + ["-khgps_realizations", "1", "-khgps_output", stale])
leftover = os.path.join(os.path.dirname(stale), ".stale.h5.AbC123.part")
with open(leftover, "w") as fh:
    fh.write("half-written")
with open(os.path.join(os.path.dirname(stale), ".stale.h5.lock"), "w") as fh:
    fh.write(f"khgps host={socket.gethostname()} pid=999999 part=.stale.h5.AbC123.part\n")
run(BASE + ["-khgps_realizations", "2", "-khgps_output", stale])
check(not os.path.exists(leftover) and held(stale) == [0, 1], "a killed run's temporary file is removed by the next run")

# --- 7/8. resume and merge validate every realization group
good = out("good.h5")
run(BASE + ["-khgps_realizations", "3", "-khgps_output", good])


def damaged(what, edit):
    path = out(f"damaged_{what.replace(' ', '_')}.h5")
    shutil.copy(good, path)
    with h5py.File(path, "r+") as h:
        edit(h)
    return path


def no_x(h):
    del h["realizations/000001/x"]


def short_x(h):
    x = h["realizations/000001/x"][()]
    del h["realizations/000001/x"]
    h["realizations/000001/x"] = x[:-1]


def no_status_name(h):
    del h["realizations/000001"].attrs["status_name"]


def no_status(h):
    del h["realizations/000001"].attrs["status"]


def name_1(h):
    h.move("realizations/000001", "realizations/1")


def name_20(h):
    h.move("realizations/000001", "realizations/99999999999999999999")


def as_dataset(h):
    del h["realizations"]
    h["realizations"] = np.arange(3)


cases = [("no x", no_x, "000001"), ("short x", short_x, "000001"), ("no status_name", no_status_name, "000001"),
         ("no status", no_status, "000001"), ("name 1", name_1, "/realizations/1 "), ("name 20 digits", name_20, "99999999999999999999"),
         ("realizations a dataset", as_dataset, "realizations")]
for what, edit, needle in cases:
    path = damaged(what, edit)
    before = sha(path)
    p = run(BASE + ["-khgps_realizations", "5", "-khgps_output", path], check_rc=False)
    check(p.returncode == 2 and one_line(p, needle), f"resume refuses a file with {what}, naming it, exit 2", p.stderr[:300])
    m = out(f"merged_{what.replace(' ', '_')}.h5")
    t0 = time.time()
    q = subprocess.run([MERGE, m, good, path], capture_output=True, text=True)
    errs = [l for l in q.stderr.splitlines() if l.strip()]
    check(q.returncode == 1 and errs and all(l.startswith("khgps-merge: error:") for l in errs) and needle.strip() in q.stderr
          and "Traceback" not in q.stderr and not os.path.exists(m) and not temps(m) and time.time() - t0 < 30,
          f"merge refuses a file with {what}: one line per problem, exit 1, nothing written", q.stderr[:400])
    check(sha(path) == before, f"{what}: the damaged file untouched by resume and merge")

for what, args in (("an output in a missing folder", [out("nofolder/m.h5"), good]), ("a missing input", [out("m_missing.h5"), out("nothere.h5")])):
    q = subprocess.run([MERGE] + args, capture_output=True, text=True)
    check(q.returncode == 1 and "Traceback" not in q.stderr and q.stderr.startswith("khgps-merge: error:") and not os.path.exists(args[0]),
          f"merge with {what}: one line, exit 1", q.stderr[:300])
# a killed merge's temporary file is removed by the next merge (and by khgps)
m = out("merged_after_kill.h5")
left = os.path.join(os.path.dirname(m), ".merged_after_kill.h5.Zz9Yx8.part")
with open(left, "w") as fh:
    fh.write("x" * 1000)
with open(os.path.join(os.path.dirname(m), ".merged_after_kill.h5.lock"), "w") as fh:
    fh.write("khgps-merge host=h pid=999999 part=.merged_after_kill.h5.Zz9Yx8.part\n")
q = subprocess.run([MERGE, m, good], capture_output=True, text=True)
check(q.returncode == 0 and not os.path.exists(left) and held(m) == [0, 1, 2] and not temps(m), "a killed merge's temporary file is removed by the next merge", q.stdout + q.stderr)

# a merge stopped (SIGTERM) while it writes: nothing written, its temporary file removed
bigin, mb = out("merge_big_in.h5"), out("merge_big.h5")
run(["-khgps_N", "2000", "-khgps_nev", "4", "-khgps_realizations", "2", "-khgps_save_couplings", "-khgps_output", bigin])
for delay in (0.2, 0.8):
    q = subprocess.Popen([MERGE, mb, bigin], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(delay)
    q.send_signal(15)
    qo, qe = q.communicate()
    whole = os.path.exists(mb) and held(mb) == [0, 1]
    check(q.returncode in (0, 1, -15) and "Traceback" not in qe and (whole or not os.path.exists(mb))
          and (q.returncode != 1 or "interrupted" in qe or whole),
          f"merge stopped after {delay} s: the output whole or absent, never half-written; no traceback",
          f"rc {q.returncode}, output exists {os.path.exists(mb)}, stderr {qe[-300:]!r}")
    check(not temps(mb), f"merge stopped after {delay} s: no temporary file left")
    if os.path.exists(mb):
        os.unlink(mb)

# damaged bytes anywhere in a file (a damaged B-tree, heap or string type): the merge never prints a
# traceback, exits 0 or 1 and leaves no temporary file (the HDF5 library may even crash: reported too)
rng = np.random.default_rng(7)
data = open(good, "rb").read()
fuzzed, mf, problems = out("fuzzed.h5"), out("merge_fuzzed.h5"), []
for trial in range(30):
    b = bytearray(data)
    for i in rng.integers(0, len(b), size=int(rng.choice([1, 4, 16, 64]))):
        b[i] = int(rng.integers(0, 256))
    open(fuzzed, "wb").write(b)
    q = subprocess.run([MERGE, "--overwrite", mf, fuzzed], capture_output=True)
    e = q.stderr.decode(errors="replace")
    if q.returncode not in (0, 1) or any(not l.startswith("khgps-merge") for l in e.splitlines()) or temps(mf):
        problems.append((trial, q.returncode, e[-200:]))
check(not problems, "30 files with damaged bytes: the merge exits 0 or 1, in its own lines only, no temporary file", str(problems[:3]))

# --- 5. sparse couplings for tiny c: the expected number, and the uncoupled limit
for c, N in ((1e-9, 2000), (0.1, 2000)):
    s = out(f"sparse_{c}.h5")
    run(["-khgps_N", str(N), "-khgps_coupling", "sparse", "-khgps_connectivity", str(c), "-khgps_J", "0.5", "-khgps_h", "0.05",
         "-khgps_nev", "4", "-khgps_save_couplings", "-khgps_output", s])
    d = load(s)
    npairs = np.count_nonzero(np.triu(d["J"], 1))
    mean = c * (N - 1) / 2  # pairs i < j, each with probability c/N
    check(abs(npairs - mean) <= 5 * np.sqrt(mean) + 1, f"c = {c}: {npairs} couplings, expected {mean:.3g} (Poisson)")
    check(np.abs(d["J"]).max() <= 6 * 0.5 / np.sqrt(c) + 1e-300, f"c = {c}: every coupling within 6 sigma of N(0, J^2/c)", f"max {np.abs(d['J']).max():.3g}")
    if c < 1e-6:  # uncoupled: each x_i solves kappa_i x + A x^3/6 = h (one real root, x > 0)
        k, x = d["kappa"], d["x"]
        check(np.allclose(k * x + x**3 / 6, 0.05, atol=1e-12, rtol=0) and d["status_name"] == "minimum",
              "c = 1e-9: the minimum is the uncoupled one, site by site", f"{np.abs(k * x + x**3 / 6 - 0.05).max():.2e}")

# --- 9. options files and -help
hp = out("helped.h5")
p = run(["-khgps_N", "500", "-help", "-khgps_output", hp], check_rc=False)
check(p.returncode == 0 and "-khgps_N" in p.stdout and "realization(s) to compute" not in p.stdout and not os.path.exists(hp), "-help prints the options and exits 0 without running", f"rc {p.returncode}")
gt = [l for l in p.stdout.splitlines() if "-khgps_gtol" in l]
check(gt and f"{1e-10 * np.sqrt(500):g}" in gt[0], "-help shows gtol's real default 1e-10 sqrt(N)", gt[0] if gt else "")
nv = [l for l in p.stdout.splitlines() if "-khgps_nev " in l]
check(nv and "<now 100 " in nv[0], "-help shows nev's real default", nv[0] if nv else "")
bad = out("garbled.opts")
with open(bad, "w") as fh:
    fh.write('garbage "unterminated\n')
for np_ in (1, 2):
    for what, name in (("missing", out("nowhere.opts")), ("garbled", bad)):
        p = run(["-options_file", name, "-khgps_output", out("o.h5")], np_=np_, check_rc=False)
        check(p.returncode == 2 and one_line(p) and "Traceback" not in p.stderr and "PETSC ERROR" not in p.stderr,
              f"{np_} rank(s): a {what} options file: one line, exit 2", p.stderr[:300])
done()
