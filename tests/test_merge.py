"""khgps-merge on the inputs of a large job array (issues 22 and 25). Every error is one line
`khgps-merge: error: ...`, exit 1, nothing written; each case checks the exit code and the first
words of the message.

* 300 one-realization inputs under `ulimit -n 64`: merged, equal to the unsplit run realization by
  realization (every dataset and attribute).
* Onto a full disk (a small tmpfs, as root): "disk full", not a damaged input.
* A FIFO or a folder as input, a FIFO as output: refused before opening, no hang.
* A realization lacking any attribute khgps requires (the list is read from src/record.c here, so
  that a new field there must be added to the merge's list) or kappa, x, a per-pair array:
  refused, naming the realization and what is missing; the optional factor_precision is not needed.
* Usage errors: one line, exit 1.
* /params compared key by key: a different gtol, a key present in one input only: the key named.
* --expect FIRST-LAST: realizations missing at either end and between are named, with and
  without --check; without --expect the same inputs merge (gaps reported)."""
import os
import re
import resource
import shutil
import stat
import subprocess

import h5py
import numpy as np

from common import ROOT, TMP, check, done, out, run, skip

MERGE = os.path.join(ROOT, "scripts", "khgps-merge")
R = 300


def merge(args, nofile=None, timeout=120):
    """(exit code, stdout, stderr lines); nofile: the `ulimit -n` of the merge."""
    pre = (lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))) if nofile else None
    try:
        p = subprocess.run([MERGE] + args, capture_output=True, text=True, timeout=timeout, preexec_fn=pre)
    except subprocess.TimeoutExpired:
        return "timeout", "", ["(hung)"]
    return p.returncode, p.stdout, [l for l in p.stderr.splitlines() if l.strip()]


def refused(res, start, *needles):
    """Exit 1 with exactly one stderr line that starts with `khgps-merge: error: START` and holds the needles."""
    rc, _, err = res
    return rc == 1 and len(err) == 1 and err[0].startswith("khgps-merge: error: " + start) and all(n in err[0] for n in needles)


def temps(path):
    d, b = os.path.split(path)
    return [x for x in os.listdir(d) if x.startswith(f".{b}.") and x.endswith(".part")]


def realizations(path):
    with h5py.File(path, "r") as f:
        return {int(k): ({d: g[d][()] for d in g}, {a: g.attrs[a] for a in g.attrs}) for k, g in f["realizations"].items()}


def equal(a, b):
    return (a[0].keys() == b[0].keys() and all(np.array_equal(a[0][k], b[0][k]) for k in a[0])
            and a[1].keys() == b[1].keys() and all(np.array_equal(a[1][k], b[1][k]) for k in a[1]))


# --- one run of R small realizations, split into R one-realization files (h5py copies the groups)
whole = out("whole.h5")
run(["-khgps_N", "20", "-khgps_nev", "2", "-khgps_J", "0.3", "-khgps_realizations", str(R), "-khgps_output", whole])
split = os.path.join(TMP, "split")
os.mkdir(split)
blocks = []
with h5py.File(whole, "r") as f:
    for name in f["realizations"]:
        blocks.append(os.path.join(split, f"block{name}.h5"))
        with h5py.File(blocks[-1], "w") as g:
            for k, v in f.attrs.items():
                g.attrs[k] = v
            f.copy(f["params"], g, "params")
            f.copy(f["realizations"][name], g.create_group("realizations"), name)
want = realizations(whole)

# --- 1. more inputs than ulimit -n
m = out("merged300.h5")
res = merge([m] + blocks, nofile=64)
check(res[0] == 0 and not res[2] and "wrote" in res[1], f"{R} inputs under ulimit -n 64: merged, exit 0", str(res)[:400])
got = realizations(m) if os.path.exists(m) else {}
check(sorted(got) == sorted(want) and all(equal(got[k], want[k]) for k in want),
      f"{R} inputs under ulimit -n 64: the merge equals the unsplit run, realization by realization")

# --- 2. onto a full disk (a tmpfs of 1 MiB, and one of 90% of the merged file's size)
disk = os.path.join(TMP, "disk")
os.mkdir(disk)
for size, what in (("1M", "too small for the datasets"), (f"{int(0.9 * os.path.getsize(whole)) // 4096 * 4}k", "a little smaller than the merged file")):
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", disk], capture_output=True).returncode:
        skip(f"merge onto a full disk ({what})", "needs root to mount a small tmpfs")
        continue
    try:
        target = os.path.join(disk, "m.h5")
        res = merge([target, whole])
        check(refused(res, "disk full") and not os.path.exists(target) and not temps(target),
              f"merge onto a tmpfs of {size} ({what}): 'disk full', exit 1, nothing left", str(res)[:400])
        check("damaged" not in " ".join(res[2]), f"tmpfs of {size}: not blamed on a damaged input")
    finally:
        subprocess.run(["umount", disk])

# --- 3. non-regular inputs and outputs: refused before opening (a FIFO would hang)
fifo = out("fifo")
os.mkfifo(fifo)
res = merge([out("m_fifo.h5"), blocks[0], fifo], timeout=30)
check(refused(res, fifo + " is a FIFO, not a regular file") and not os.path.exists(out("m_fifo.h5")), "a FIFO input: refused in one line, no hang", str(res)[:300])
res = merge(["--check", blocks[0], fifo], timeout=30)
check(refused(res, fifo + " is a FIFO"), "--check with a FIFO input: refused in one line, no hang", str(res)[:300])
res = merge([out("m_dir.h5"), blocks[0], split], timeout=30)
check(refused(res, split + " is a folder, not a regular file"), "a folder as input: refused in one line", str(res)[:300])
res = merge([fifo, blocks[0]], timeout=30)
check(refused(res, fifo + " exists and is not a regular file") and stat.S_ISFIFO(os.stat(fifo).st_mode), "a FIFO as output: refused in one line, left as it is", str(res)[:300])
res = merge([out("m_nothere.h5"), blocks[0], out("nothere.h5")])
check(refused(res, out("nothere.h5") + ": cannot read it"), "a missing input: one line", str(res)[:300])

# --- 4. every attribute and dataset khgps requires (the list from src/record.c, as khgps reads it)
src = open(os.path.join(ROOT, "src", "record.c")).read()
table = src[src.index("KhgpsRecordScalars[] = {"):src.index("KhgpsRecordNScalars")]
scalars = [(m.group(1), m.group(2)) for m in re.finditer(r"^\s*(SCALAR|ENUM)\([^\"]*\"(\w+)\"", table, re.M)]
optional = {name for kind, name in scalars if kind == "ENUM" and re.search(rf"ENUM\(\w+, \"{name}\", \w+, PETSC_TRUE\)", table)}
required = [name for _, name in scalars if name not in optional] + ["status_name", "tao_reason_name"]
check(len(required) >= 18 and "tao_reason_name" in required, f"src/record.c lists {len(required)} required attributes", str(required))
three = blocks[:3]


def edited(tag, edit):
    path = out(f"edit_{tag}.h5")
    shutil.copy(blocks[1], path)
    with h5py.File(path, "r+") as h:
        edit(h["realizations/000001"] if "params" not in tag else h)
    return path


for a in required:
    path = edited(f"attr_{a}", lambda g: g.attrs.__delitem__(a))
    res = merge([out(f"m_attr_{a}.h5"), blocks[0], path, blocks[2]])
    check(refused(res, f"{path}: /realizations/000001 is not a complete realization (no attribute {a})") and not os.path.exists(out(f"m_attr_{a}.h5")),
          f"a realization without attribute {a}: refused, naming the realization and {a}", str(res)[:300])
for a in sorted(optional):
    path = edited(f"opt_{a}", lambda g: g.attrs.__delitem__(a))
    res = merge([out(f"m_opt_{a}.h5"), blocks[0], path])
    check(res[0] == 0, f"a realization without the optional {a} (older khgps files): merged", str(res)[:300])
for d in ("kappa", "x", "eigenvalues", "participation_ratio", "residual"):
    path = edited(f"dset_{d}", lambda g: g.__delitem__(d))
    res = merge(["--check", blocks[0], path])
    check(refused(res, f"{path}: /realizations/000001 is not a complete realization (no dataset {d})"), f"a realization without dataset {d}: refused, named", str(res)[:300])


def short_eig(g):
    e = g["eigenvalues"][()]
    del g["eigenvalues"]
    g["eigenvalues"] = e[:-1]


path = edited("short_eig", short_eig)
res = merge(["--check", path])
check(refused(res, f"{path}: /realizations/000001 is not a complete realization (dataset eigenvalues is not 2 reals)"),
      "eigenvalues shorter than nconv: refused, named", str(res)[:300])

# --- 5. usage errors: one line, exit 1
for what, args in (("no arguments", []), ("an unknown option", ["--bogus", out("x.h5"), blocks[0]]), ("--expect without a value", ["--check", "--expect"]),
                   ("--expect 9-3", ["--check", "--expect", "9-3", blocks[0]]), ("--expect abc", ["--check", "--expect", "abc", blocks[0]]),
                   ("only an output", [out("lonely.h5")])):
    res = merge(args)
    check(res[0] == 1 and len(res[2]) == 1 and res[2][0].startswith("khgps-merge: error:"), f"usage error ({what}): one line, exit 1", str(res)[:300])
res = merge(["--help"])
check(res[0] == 0 and "--expect" in res[1], "--help: exit 0, documents --expect")

# --- 6. /params compared key by key
for tag, edit, key in (("params_gtol", lambda h: h["params"].attrs.__setitem__("gtol", 1e-3), "gtol"),
                       ("params_new", lambda h: h["params"].attrs.__setitem__("eps_tol", 1e-9), "eps_tol"),
                       ("params_gone", lambda h: h["params"].attrs.__delitem__("polish_its"), "polish_its"),
                       ("params_type", lambda h: h["params"].attrs.__setitem__("tao_type", "bnls"), "tao_type")):
    path = edited(tag, edit)
    res = merge([out(f"m_{tag}.h5"), blocks[0], path])
    check(refused(res, f"{path} and {blocks[0]} differ in /params {key}") and not os.path.exists(out(f"m_{tag}.h5")),
          f"/params differing in {key} ({tag.split('_')[1]}): refused, {key} named", str(res)[:300])

# --- 7. --expect: missing at either end and between
some = blocks[5:100] + blocks[110:290]
for extra in ([out("m_expect.h5")], ["--check"]):
    res = merge(["--expect", f"0-{R - 1}"] + extra + some)
    check(refused(res, f"25 of the expected realizations 0-{R - 1} missing: 0-4, 100-109, 290-299") and not os.path.exists(out("m_expect.h5")),
          f"--expect 0-{R - 1}{' --check' if extra == ['--check'] else ''}: the missing first, middle and last blocks named, exit 1", str(res)[:300])
res = merge(["--expect", "5-99", out("m_expect_ok.h5")] + blocks[5:100])
check(res[0] == 0 and "all present" in res[1] and len(realizations(out("m_expect_ok.h5"))) == 95, "--expect 5-99 with all of them: merged, exit 0", str(res)[:300])
res = merge([out("m_gaps.h5")] + some)
check(res[0] == 0 and "gaps: 100-109" in res[1], "without --expect the same inputs merge, the inner gap reported", str(res)[:300])

# --- a duplicate with different results is still a conflict (opened again to compare)
path = edited("conflict", lambda g: g["x"].__setitem__(0, g["x"][0] + 1e-12))
res = merge(["--check"] + blocks[:3] + [path])
check(refused(res, f"CONFLICT: realization 1 in {blocks[1]} and {path} differs"), "a duplicate with different x: CONFLICT, exit 1", str(res)[:300])
res = merge(["--check"] + blocks[:3] + [blocks[1]])
check(res[0] == 0 and "duplicate realization 1" in res[1], "an identical duplicate: kept once, exit 0", str(res)[:300])
# --- the same realizations saved with other -khgps_save_modes K (0, 1, 2): duplicates, kept once;
# modes that differ on their common rows are a conflict
mk = {K: out(f"modes{K}.h5") for K in (0, 1, 2)}
for K, path in mk.items():
    run(["-khgps_N", "20", "-khgps_nev", "2", "-khgps_J", "0.3", "-khgps_realizations", "3", "-khgps_save_modes", str(K), "-khgps_output", path])
res = merge([out("m_modes.h5"), mk[2], mk[0], mk[1]])
with h5py.File(out("m_modes.h5"), "r") as f:
    kept = f["realizations/000000/modes"].shape if res[0] == 0 else None
check(res[0] == 0 and res[1].count("duplicate realization") == 6 and kept == (2, 20),
      "one run saved with -khgps_save_modes 2, 0 and 1: the same realizations, kept once (the first input's 2 modes)", str(res)[:300])
with h5py.File(mk[1], "r+") as f:
    f["realizations/000001/modes"][0, 0] += 1e-3
res = merge(["--check", mk[2], mk[1]])
check(refused(res, f"CONFLICT: realization 1 in {mk[2]} and {mk[1]} differs"), "modes that differ on the common rows: CONFLICT, exit 1", str(res)[:300])
done()
