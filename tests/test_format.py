#!/usr/bin/python3
"""The run file's format defined once (issue 26): src/record.c's tables are the definition;
analysis/khgps/format.json is generated from them (bin/khgps-format, `make format`) and committed.
Fails if anything drifts from the tables: format.json against the binary's output; the log header
(FILE.pending) the Python reader parses against format.json; the field lists of khgps_io,
khgps_digest, scripts/khgps-merge and the README's "Output" section; a run file and a log written by
bin/khgps against format.json. And -khgps_save_modes K: the saved modes are eigenvectors of
M = J + diag(kappa + A x^2/2) with the stored eigenvalues, unit norm, equal on 1, 2 and 3 ranks,
from every eigensolver; through the log as well; resume with another K; bad K refused."""
import importlib.machinery
import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import KHGPS, ROOT, check, done, hessian, load, out, run  # noqa: E402

sys.path.insert(0, os.path.join(ROOT, "analysis"))
import khgps_digest  # noqa: E402
import khgps_io  # noqa: E402
from khgps import format as kformat  # noqa: E402

loader = importlib.machinery.SourceFileLoader("khgps_merge", os.path.join(ROOT, "scripts", "khgps-merge"))
spec = importlib.util.spec_from_loader("khgps_merge", loader)
merge = importlib.util.module_from_spec(spec)
loader.exec_module(merge)

ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
BASE = ["-khgps_N", "60", "-khgps_nev", "8", "-khgps_J", "0.3", "-khgps_seed", "7"]

# --- 1. format.json is what the tables give -----------------------------------------------------
gen = subprocess.run([os.path.join(ROOT, "bin", "khgps-format")], capture_output=True, text=True)
committed = open(os.path.join(ROOT, "analysis", "khgps", "format.json")).read()
check(gen.returncode == 0 and gen.stdout == committed, "analysis/khgps/format.json equals bin/khgps-format's output (src/record.c's tables; `make format` rewrites it)",
      "(differs: run make format and commit it)")
fj = json.loads(committed)
check(fj["format"] == "khgps-1" and fj["pending_format"] == "khgps-pending-1" and fj["scalars"][-1]["name"] == "status",
      "format.json: the formats, and status last (it marks a group complete)")

# the table's names in record.c itself (a field added there without rebuilding shows here)
src = open(os.path.join(ROOT, "src", "record.c")).read()
table = src[src.index("KhgpsRecordScalars[] = {"): re.search(r"KhgpsRecordNScalars\s*=", src).start()]
c_scalars = re.findall(r'^\s*(?:SCALAR|OPTIONAL|ENUM)\([^,]+,\s*"([^"]+)"', table, re.M)
table = src[src.index("KhgpsRecordArrays[] = {"): re.search(r"KhgpsRecordNArrays\s*=", src).start()]
c_arrays = re.findall(r'^\s*(?:ARRAY|OPTIONAL_ARRAY32)\([^,]+,\s*"([^"]+)"', table, re.M)
check(c_scalars == list(kformat.SCALARS) and c_arrays == list(kformat.ARRAYS),
      "the fields of src/record.c's tables are format.json's, in order (else: rebuild, make format, commit)",
      f"{set(c_scalars) ^ set(kformat.SCALARS)} {set(c_arrays) ^ set(kformat.ARRAYS)}")

# --- 2. the log header, as the Python reader parses it --------------------------------------------
head, fields, arrays, enums = khgps_io.parse_layout(kformat.PENDING_LAYOUT)
letter = {s["name"]: "e" if s["enum"] else ("i" if s["type"] == "int" else "r") for s in kformat.SCALAR_FIELDS}
check(head == list(kformat.PENDING_HEAD) and fields == [(n, letter[n]) for n in kformat.SCALARS]
      and arrays == [(a["name"], a["length"]) for a in kformat.ARRAY_FIELDS],
      "khgps_io.parse_layout reads the table's log layout: head counts, scalars with their types in order, arrays with lengths")
check(enums.get("status") == kformat.STATUS_NAMES and all(enums.get(n) == dict(enumerate(v)) for n, v in kformat.ENUM_SCALARS.items()),
      "the log's enums are format.json's (status, the enum scalars)")

# --- 3. the readers and the docs know every field --------------------------------------------------
every = set(kformat.SCALARS) | set(kformat.NAMES)
check(set(merge.ATTRS) | set(merge.OPTIONAL) == every and not set(merge.ATTRS) & set(merge.OPTIONAL)
      and set(merge.ARRAYS) | set(merge.PAIRS) | set(merge.MODES) == set(kformat.ARRAYS),
      "khgps-merge checks every attribute (required or optional) and every dataset of the table")
check(set(khgps_digest.RUN_FIELDS) <= set(kformat.SCALARS) | set(kformat.ARRAYS)
      and list(khgps_digest.PARENT_COLUMNS) == [n for n in kformat.SCALARS if n.startswith("parent_")]
      and khgps_digest.STATUS_NAMES == kformat.STATUS_NAMES,
      "khgps_digest's run file fields exist in the table; its parent columns are the table's parent_* scalars")
readme = open(os.path.join(ROOT, "README.md")).read()
block = readme[readme.index("## Output (HDF5)"): readme.index("## Analysis and figures")]
words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", block))
missing = [n for n in list(every) + list(kformat.ARRAYS) if n not in words]
check(not missing, "README \"Output (HDF5)\" names every attribute and dataset of the table", str(missing))
documented = re.findall(r"^        ([A-Za-z_]+) +\[", block, re.M)
check(sorted(documented) == sorted(list(kformat.ARRAYS) + [kformat.COUPLINGS]),
      "README's dataset lines are exactly the table's arrays and J", str(documented))
design = open(os.path.join(ROOT, "docs", "design.md")).read()
check("analysis/khgps/format.json" in block and "analysis/khgps/format.json" in design,
      "README and docs/design.md point at the generated format.json")

# --- 4. a run file and its log, written by bin/khgps, against format.json --------------------------
a = out("a.h5")
run(BASE + ["-khgps_realizations", "2", "-khgps_save_modes", "3", "-khgps_save_couplings", "-khgps_output", a], env=ENV)
with h5py.File(a, "r") as f:
    g = f["realizations/000000"]
    attrs, dsets = set(g.attrs), {k: (g[k].dtype.name, g[k].shape) for k in g}
    N, nconv = int(f["params"].attrs["N"]), int(g.attrs["nconv"])
    runattrs = dict(f["runs/0000"].attrs)
counts = {"N": N, "nconv": nconv, "nmodes": 3}
check(attrs == every, "a run file's realization attributes are the table's scalars and names", str(attrs ^ every))
want = {n: (kformat.ARRAY_DTYPES[n], kformat.array_shape(n, counts)) for n in kformat.ARRAYS}
want["J"] = ("float64", (N, N))
check(dsets == want, "its datasets have the table's names, dtypes and shapes (modes float32 K x N)", f"{dsets} vs {want}")
check(int(runattrs.get("save_modes", -1)) == 3 and "save_modes" not in dict(h5py.File(a, "r")["params"].attrs),
      "save_modes is in the run's description (/runs/NNNN), not in /params")

# a log left by a stopped run: its header is the table's layout, its records carry the same fields
lg = out("log.h5")
pr = subprocess.Popen([KHGPS] + BASE + ["-khgps_realizations", "400", "-khgps_save_modes", "2", "-khgps_output", lg],
                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=dict(os.environ, **ENV))
t0 = time.time()
while time.time() - t0 < 60 and not (os.path.exists(lg + ".pending") and os.path.getsize(lg + ".pending") > 20000):
    time.sleep(0.05)
pr.send_signal(signal.SIGTERM)
pr.communicate()
with open(lg + ".pending", "rb") as fh:
    data = fh.read()
hdr = data[: data.find(b"\nend\n")].decode().split("\n")
check(hdr[0] == kformat.PENDING_FORMAT and tuple(hdr[2:]) == kformat.PENDING_LAYOUT, "FILE.pending's header states format.json's layout")
with h5py.File(lg, "r") as f:
    log_id = f.attrs["log_id"].decode() if isinstance(f.attrs["log_id"], bytes) else str(f.attrs["log_id"])
    infile = {int(k) for k in f.get("realizations", {})}
pend = {d["realization"]: d for kind, d in khgps_io.pending_entries(lg, log_id) if kind == "realization"}
r0 = next(iter(pend.values())) if pend else {}
check(len(pend) >= 2 and set(r0) == every | set(kformat.ARRAYS) and r0["modes"].dtype == np.float32 and r0["modes"].shape == (2, 60),
      "the log's records read by khgps_io carry every field of the table (modes 2 x N float32)", f"{len(pend)} {set(r0) ^ (every | set(kformat.ARRAYS))}")
# the same log as written by a khgps of another record layout (a field renamed in the header): the
# resume refuses it in one line and changes nothing (its realizations are never dropped)
ol = out("oldlayout.h5")
shutil.copy(lg, ol)
with open(ol + ".pending", "wb") as fh:
    fh.write(data[: data.find(b"\nend\n")] + b" x\nend\n" + data[data.find(b"\nend\n") + 5:])
before = (open(ol, "rb").read(), open(ol + ".pending", "rb").read())
p = run(BASE + ["-khgps_realizations", "400", "-khgps_save_modes", "2", "-khgps_output", ol], check_rc=False, env=ENV)
check(p.returncode == 2 and "record layout of another khgps version" in p.stderr and len(p.stderr.strip().splitlines()) == 1
      and (open(ol, "rb").read(), open(ol + ".pending", "rb").read()) == before,
      "a log of FILE in another record layout is refused on resume in one line, FILE and log unchanged", p.stderr.strip()[-200:])
run(BASE + ["-khgps_realizations", "400", "-khgps_save_modes", "2", "-khgps_output", lg], env=ENV)
same = True
with h5py.File(lg, "r") as f:
    for k, d in pend.items():
        if k not in infile:
            same &= np.array_equal(f[f"realizations/{k:06d}/modes"][()], d["modes"])
check(same and len(pend) > len(infile), "the modes read from the log equal the folded file's, bit for bit")

# --- 5. -khgps_save_modes: eigenvectors of M, rank-independent, every eigensolver -----------------
def modes_ok(path, K, what):
    ok, worst = True, 0.0
    with h5py.File(path, "r") as f:
        names = sorted(f["realizations"])
    for k in range(len(names)):
        d = load(path, k)
        M, v, lam = hessian(d), d["modes"].astype(float), d["eigenvalues"][:K]
        res = np.linalg.norm(M @ v.T - v.T * lam, axis=0) / np.linalg.norm(M, 2)
        worst = max(worst, res.max())
        ok &= v.shape == (K, d["params"]["N"]) and res.max() < 1e-6 and np.allclose(np.linalg.norm(v, axis=1), 1, atol=1e-6)
        ok &= np.allclose(v @ M @ v.T, np.diag(lam), atol=1e-6 * np.linalg.norm(M, 2))  # orthonormal, the stored eigenvalues
    check(ok, f"{what}: M v = lambda v with the stored eigenvalues (residual {worst:.1e} of ||M||), unit norm, orthogonal")


K = 4
files = {}
for np_ in (1, 2, 3):
    files[np_] = out(f"r{np_}.h5")
    run(BASE + ["-khgps_realizations", "3", "-khgps_save_modes", str(K), "-khgps_save_couplings", "-khgps_output", files[np_]], np_=np_, env=ENV)
modes_ok(files[1], K, "packed, block eigensolver, 1 rank")
modes_ok(files[2], K, "ScaLAPACK, SLEPc, 2 ranks")
for np_ in (2, 3):
    diff = max(np.abs(load(files[1], k)["modes"].astype(float) - load(files[np_], k)["modes"]).max() for k in range(3))
    check(diff < 1e-6, f"modes on {np_} ranks equal 1 rank's (float32, fixed sign: largest |diff| {diff:.1e})")
sl = out("slepc.h5")
run(BASE + ["-khgps_realizations", "2", "-khgps_save_modes", str(K), "-khgps_save_couplings", "-khgps_eigensolver", "slepc", "-khgps_output", sl], env=ENV)
modes_ok(sl, K, "packed, SLEPc Krylov-Schur")
diff = max(np.abs(load(files[1], k)["modes"].astype(float) - load(sl, k)["modes"]).max() for k in range(2))
check(diff < 1e-6, f"SLEPc's modes equal the block eigensolver's ({diff:.1e})")
si = out("single.h5")
run(BASE + ["-khgps_realizations", "2", "-khgps_save_modes", str(K), "-khgps_save_couplings", "-khgps_factor_precision", "single", "-khgps_output", si], env=ENV)
modes_ok(si, K, "packed, float32 factor (refined pairs)")
sp = out("sparse.h5")
run(["-khgps_N", "300", "-khgps_nev", "6", "-khgps_coupling", "sparse", "-khgps_connectivity", "8", "-khgps_J", "0.3",
     "-khgps_save_modes", "3", "-khgps_save_couplings", "-khgps_output", sp], env=ENV)
modes_ok(sp, 3, "sparse couplings, Chebyshev filter")
sp2 = out("sparse2.h5")
run(["-khgps_N", "300", "-khgps_nev", "6", "-khgps_coupling", "sparse", "-khgps_connectivity", "8", "-khgps_J", "0.3",
     "-khgps_save_modes", "3", "-khgps_output", sp2], np_=2, env=ENV)
diff = np.abs(load(sp, 0)["modes"].astype(float) - load(sp2, 0)["modes"]).max()
check(diff < 1e-6, f"sparse: 2 ranks equal 1 ({diff:.1e})")

# without the option nothing changes: no modes dataset; with K, the rest of the file is the same
z = out("zero.h5")
run(BASE + ["-khgps_realizations", "3", "-khgps_save_couplings", "-khgps_output", z], env=ENV)
ok = True
for k in range(3):
    dz, dk = load(z, k), load(files[1], k)
    ok &= "modes" not in dz and all(np.array_equal(dz[n], dk[n]) for n in ("x", "eigenvalues", "participation_ratio", "residual", "J"))
check(ok, "-khgps_save_modes 0 (the default) writes no modes; K > 0 leaves every other result bit for bit the same")

# resume with another K: accepted, each run's K recorded
rs = out("resume.h5")
run(BASE + ["-khgps_realizations", "1", "-khgps_save_modes", "2", "-khgps_output", rs], env=ENV)
p = run(BASE + ["-khgps_realizations", "2", "-khgps_save_modes", "5", "-khgps_output", rs], env=ENV, check_rc=False)
with h5py.File(rs, "r") as f:
    shapes = [f[f"realizations/{k:06d}/modes"].shape for k in range(2)] if p.returncode == 0 else []
    ks = [int(f[f"runs/{r}"].attrs["save_modes"]) for r in sorted(f["runs"])]
check(p.returncode == 0 and shapes == [(2, 60), (5, 60)] and ks == [2, 5], "a resume with another K is accepted; each run records its K", f"{shapes} {ks}")

# bad K: one line, exit 2, before any work
for bad in ("-1", "9", "1.5", "x"):
    p = run(BASE + ["-khgps_save_modes", bad, "-khgps_output", out("bad.h5")], check_rc=False)
    lines = [line for line in p.stderr.splitlines() if line.strip()]
    check(p.returncode == 2 and len(lines) == 1 and lines[0].startswith("khgps: error:") and "save_modes" in lines[0]
          and not os.path.exists(out("bad.h5")), f"-khgps_save_modes {bad} (nev 8) refused in one line, exit 2", p.stderr[-300:])
done()
