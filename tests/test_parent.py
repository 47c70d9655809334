"""The parent-temperature campaign's infrastructure (issue 27, item 4): digests keep the thermal
start's parent_* per realization and refuse another temperature or start; runs/parent.sh DRY=1
prints its plan; analysis/khgps_parent.py writes its table deterministically from any subset of
the campaign's digests. Tiny runs (N = 60, a few realizations, a few hundred sweeps)."""
import glob
import os
import shutil
import subprocess

import h5py
import numpy as np

from common import ROOT, TMP, check, done, out, run

from khgps import digest as kd  # noqa: E402

PY = "/usr/bin/python3"
PARENT = kd.PARENT_COLUMNS
R, N = 4, 60
base = ["-khgps_N", str(N), "-khgps_J", "0.4", "-khgps_h", "0.01", "-khgps_kappa0", "1", "-khgps_nev", "5",
        "-khgps_realizations", str(R), "-tao_type", "bncg"]


def thermal(T, name, sweeps=200):
    f = out(name)
    run(base + ["-khgps_start", "thermal", "-khgps_parent_temperature", str(T), "-khgps_equilibration_sweeps",
                str(sweeps), "-khgps_output", f])
    return f


def digest(*args):
    return subprocess.run([PY, os.path.join(ROOT, "analysis", "khgps_digest.py"), *args], capture_output=True,
                          text=True, cwd=ROOT)


camp = out("parent")
point = "J0.4_h0.01_k1"
f1 = thermal(0.1, "t01.h5")
f0 = out("zero.h5")
run(base + ["-khgps_start", "zero", "-khgps_output", f0])
d1 = os.path.join(camp, "T0.1", point, f"N{N}.h5")
d0 = os.path.join(camp, "zero", point, f"N{N}.h5")
check(digest("update", d1, f1).returncode == 0 and digest("update", d0, f0).returncode == 0, "digests made")

# ---- parent columns equal to the run file's, NaN for x = 0 ----------------------------------
dg = kd.read(d1)
with h5py.File(f1, "r") as f:
    att = {int(k): dict(g.attrs) for k, g in f["realizations"].items()}
ok = len(dg) == R and all(dg.cols[c][i] == float(att[int(r)][c]) for c in PARENT for i, r in enumerate(dg.cols["realization"]))
check(ok, "thermal digest: parent_* columns equal to the run file's attributes")
with h5py.File(d1, "r") as f:
    check(all(c in f for c in PARENT), "thermal digest: parent_* datasets written")
check(np.all(dg.cols["parent_sweeps"] == 200) and np.all(np.isfinite(dg.cols["parent_drift"])), "parent_sweeps and parent_drift kept")
z = kd.read(d0)
with h5py.File(d0, "r") as f:
    check(not any(c in f for c in PARENT), "x = 0 digest: no parent_* datasets (layout as before)")
check(all(np.isnan(z.cols[c]).all() for c in PARENT), "x = 0 digest: parent_* read as NaN")
# the committed digests (no parent_*) read as NaN and are rewritten with the same datasets
old = sorted(glob.glob(os.path.join(ROOT, "results", "tail", "*", "N*.h5")))[:1] + \
    sorted(glob.glob(os.path.join(ROOT, "results", "paper", "*", "N*.h5")))[:1]
for p in old:
    d = kd.read(p)
    kd.write(d, out("rt.h5"))
    e = kd.read(out("rt.h5"))
    with h5py.File(p, "r") as a, h5py.File(out("rt.h5"), "r") as b:
        same_keys = sorted(a.keys()) == sorted(b.keys())
    check(all(np.isnan(d.cols[c]).all() for c in PARENT) and same_keys and
          all(np.array_equal(d.cols[k], e.cols[k], equal_nan=True) for k in d.cols),
          f"{os.path.relpath(p, ROOT)}: reads (parent_* NaN), rewrites with the same datasets and columns")
# adding the same file again changes nothing
before = open(d1, "rb").read()
p = digest("update", d1, f1)
check(p.returncode == 0 and "(0 new)" in p.stdout and open(d1, "rb").read() == before, "re-adding a run file: 0 new, digest unchanged")
# rows() round trip (as khgps_tail joins digests)
j = kd.Digest(dg.params, dg.nev)
j.add(list(dg.rows()), "rows")
check(all(np.array_equal(j.cols[c], dg.cols[c], equal_nan=True) for c in PARENT), "Digest.rows() carries parent_*")

# ---- refusals ------------------------------------------------------------------------------
f2 = thermal(0.05, "t005.h5")
p = digest("update", d1, f2)
check(p.returncode == 1 and "parent_temperature 0.1 vs 0.05" in p.stderr, "a digest refuses a run file of another T_p", p.stderr)
p = digest("update", d1, f0)
check(p.returncode == 1 and "start thermal vs zero" in p.stderr, "a thermal digest refuses an x = 0 run file", p.stderr)
f3 = thermal(0.1, "t01_s300.h5", sweeps=300)
p = digest("update", d1, f3)
check(p.returncode == 1 and "equilibration_sweeps 200 vs 300" in p.stderr, "a digest refuses another sweep count", p.stderr)
check(open(d1, "rb").read() == before, "a refused update leaves the digest")

# ---- runs/parent.sh DRY=1 --------------------------------------------------------------------
env = dict(os.environ, DRY="1", NP="2", RESULTS=camp, OUT=out("runs"), N=str(N), R="10", POINTS="0.4:0.01:1 0.1:0.01:1",
           TEMPS="0.1 0.01")
p = subprocess.run(["bash", os.path.join(ROOT, "runs", "parent.sh")], capture_output=True, text=True, env=env)
lines = p.stdout.splitlines()
check(p.returncode == 0 and len([l for l in lines if " -> " in l]) == 6 and "expected time" in lines[-1],
      "runs/parent.sh DRY=1: a plan of 6 digests and the expected time", p.stdout + p.stderr)
check(any("T_p = 0.1, 10000 sweeps" in l and f"{R} done, {10 - R} to run" in l and "median of" in l for l in lines)
      and any("T_p = 0.01, 40000 sweeps" in l and "0 done" in l and "model" in l for l in lines)
      and any("x = 0 (reference)" in l and "0.4:0.01:1" in l and f"{R} done" in l for l in lines),
      "runs/parent.sh DRY=1: sweeps by T_p, resumes from the digests, median or model cost", p.stdout)
check(not os.path.exists(out("runs")) and sorted(os.listdir(camp)) == ["T0.1", "zero"], "runs/parent.sh DRY=1 runs nothing")
# the plan file (the default campaign's form): its lines in its order, each with its own sweeps
plan = out("parent.plan")
with open(plan, "w") as fh:
    fh.write("# J h kappa0 start sweeps\n0.4 0.01 1 zero 0\n\n0.4 0.01 1 0.01 12345\n0.4 0.01 1 0.1 10000\n")
envp = {k: v for k, v in env.items() if k not in ("POINTS", "TEMPS")}
p = subprocess.run(["bash", os.path.join(ROOT, "runs", "parent.sh")], capture_output=True, text=True, env=dict(envp, PLAN=plan))
lines = [l for l in p.stdout.splitlines() if " -> " in l]
check(p.returncode == 0 and len(lines) == 3 and "x = 0 (reference)" in lines[0] and "T_p = 0.01, 12345 sweeps" in lines[1]
      and "0.4:0.01:1" in lines[1] and "T_p = 0.1, 10000 sweeps" in lines[2] and f"{R} done" in lines[2],
      "runs/parent.sh DRY=1 PLAN=FILE: the file's digests in its order, with its sweeps", p.stdout + p.stderr)
for bad, why, what in (("0.1 0.01 1 0.1 0\n", "needs sweeps > 0", "a thermal start without sweeps"),
                       ("0.1 0.01 1 zero 5\n", "takes 0 sweeps", "the reference with sweeps"),
                       ("0.1 0.01 1 hot 100\n", "not a temperature", "a start that is no temperature"),
                       ("0.1 0.01 1 0.1 100 x\n", "more than five fields", "six fields"),
                       ("0.1 0.01 k 0.1 100\n", "not a point", "a point that is no number")):
    with open(plan, "w") as fh:
        fh.write("0.1 0.01 1 zero 0\n" + bad)
    p = subprocess.run(["bash", os.path.join(ROOT, "runs", "parent.sh")], capture_output=True, text=True, env=dict(envp, PLAN=plan))
    check(p.returncode == 2 and why in p.stderr and p.stderr.count("\n") == 1 and " -> " not in p.stdout,
          f"runs/parent.sh: a plan line with {what} is refused in one line, before any plan", p.stderr)
p = subprocess.run(["bash", os.path.join(ROOT, "runs", "parent.sh")], capture_output=True, text=True, env=dict(envp, PLAN=out("none.plan")))
check(p.returncode == 2 and "no plan file" in p.stderr, "runs/parent.sh: a missing plan file is refused", p.stderr)
p = subprocess.run(["bash", os.path.join(ROOT, "runs", "parent.sh")], capture_output=True, text=True, env=dict(envp, RESULTS=out("empty")))
check(p.returncode == 0 and sum(1 for l in p.stdout.splitlines() if " -> " in l) == 16,
      "runs/parent.sh DRY=1: the committed runs/parent.plan reads (16 digests)", p.stdout + p.stderr)

# ---- analysis/khgps_parent.py ---------------------------------------------------------------


def parent(*args):
    return subprocess.run([PY, os.path.join(ROOT, "analysis", "khgps_parent.py"), *args], capture_output=True, text=True, cwd=ROOT)


p1 = parent("--campaign", camp, "--csv", out("a.csv"), "--figure", out("a.png"))
p2 = parent("--campaign", camp, "--csv", out("b.csv"), "--figure", "")
check(p1.returncode == 0 and p2.returncode == 0 and open(out("a.csv")).read() == open(out("b.csv")).read()
      and os.path.getsize(out("a.png")) > 0, "khgps_parent.py: csv written, the same twice; figure written", p1.stderr + p2.stderr)
import csv  # noqa: E402
rows = list(csv.DictReader(open(out("a.csv"))))
check([(r["start"], r["T_p"]) for r in rows] == [("zero", "0"), ("thermal", "0.1")], "khgps_parent.py: one row per start, reference first")
t = rows[1]
pe = np.array([float(att[k]["parent_energy"]) for k in sorted(att)])
check(int(t["realizations"]) == R and np.isclose(float(t["e_parent"]), pe.mean(), rtol=1e-9)
      and np.isclose(float(t["e_IS"]), dg.cols["energy"].mean() / N, rtol=1e-9)
      and np.isclose(float(t["de_IS"]), (dg.cols["energy"] - z.cols["energy"]).mean() / N, rtol=1e-6, atol=1e-15)
      and t["sweeps"] == "200" and 0.3 < float(t["acceptance"]) < 0.6 and rows[0]["e_parent"] == "",
      "khgps_parent.py: e_parent, e_IS = energy / N, paired de_IS, sweeps, acceptance", str(t))
dz = np.array([float(att[k]["parent_drift"]) for k in sorted(att)])
check(np.isclose(float(t["drift_mean"]), dz.mean(), rtol=1e-9, atol=1e-12)
      and np.isclose(float(t["drift_mean_err"]), dz.std(ddof=1) / np.sqrt(len(dz)), rtol=1e-9)
      and np.isclose(float(t["drift_frac"]), np.mean(np.abs(dz) > 3)) and rows[0]["drift_mean"] == "",
      "khgps_parent.py: drift_mean and its error, drift_frac, from the chains' parent_drift", str(t))
# a partial campaign: the thermal digest alone
shutil.rmtree(os.path.join(camp, "zero"))
p = parent("--campaign", camp, "--csv", out("c.csv"), "--figure", out("c.png"))
rows = list(csv.DictReader(open(out("c.csv")))) if p.returncode == 0 else []
check(len(rows) == 1 and rows[0]["paired"] == "0" and rows[0]["de_IS"] == "", "khgps_parent.py: a partial campaign (no reference)", p.stderr)
# a digest in another temperature's folder is refused
os.makedirs(os.path.join(camp, "T0.2", point))
shutil.copy(d1, os.path.join(camp, "T0.2", point, f"N{N}.h5"))
p = parent("--campaign", camp, "--csv", out("d.csv"), "--figure", "")
check(p.returncode == 1 and "T0.2" in p.stderr, "khgps_parent.py: a digest in another T_p's folder is refused", p.stderr)

# ---- the Arrhenius fit ln A_g = a - c/T_p against numpy's weighted polyfit ---------------------
from khgps import parent as kpar  # noqa: E402

rng = np.random.default_rng(5)
Ts = np.array([1.0, 0.5, 0.3, 0.2, 0.1])


def synth(c, noise):
    A = 40.0 * np.exp(-c / Ts) * np.exp(noise * rng.standard_normal(len(Ts)))
    rows = [dict(h=0.01, J=0.4, kappa0=1.0, N=2000, start="thermal", T_p=float(T), A_g=float(a), A_g_err=0.05 * float(a))
            for T, a in zip(Ts, A)]
    return rows + [dict(h=0.01, J=0.4, kappa0=1.0, N=2000, start="zero", T_p=0.0, A_g=30.0, A_g_err=1.5)]


f = kpar.arrhenius(synth(0.3, 0.0))
check(len(f) == 1 and abs(f[0]["c"] - 0.3) < 1e-10 and f[0]["chi2_dof"] < 1e-18 and f[0]["temperatures"] == 5
      and np.isclose(f[0]["A_g_low_over_zero"], 40 * np.exp(-3) / 30, rtol=1e-12)
      and np.isclose(f[0]["A_g_low_over_zero_err"], f[0]["A_g_low_over_zero"] * np.hypot(0.05, 0.05), rtol=1e-12),
      "arrhenius: an exact exp(-c/T_p) gives c back, chi2 0, and the ratio of the lowest T_p to x = 0", str(f))
rows = synth(0.3, 0.05)
f = kpar.arrhenius(rows)[0]
th = [r for r in rows if r["start"] == "thermal"]
coef, cov = np.polyfit(1 / Ts, np.log([r["A_g"] for r in th]), 1, w=1 / np.array([r["A_g_err"] / r["A_g"] for r in th]),
                       cov="unscaled")
resid = np.log([r["A_g"] for r in th]) - np.polyval(coef, 1 / Ts)
check(np.isclose(f["c"], -coef[0], rtol=1e-9) and np.isclose(f["c_err"], np.sqrt(cov[0, 0]), rtol=1e-9)
      and np.isclose(f["chi2_dof"], np.sum((resid / 0.05) ** 2) / 3, rtol=1e-9),
      "arrhenius: c, its error and chi2/dof equal numpy's weighted polyfit on noisy data", f"{f} {coef} {cov}")
check(kpar.arrhenius(synth(0.3, 0.0)[:1]) == [], "arrhenius: one T_p gives no fit")

# ---- the committed table, fit and figure are what khgps.parent remakes from the committed digests --
tracked = subprocess.run(["git", "ls-files", "results/parent"], capture_output=True, text=True, cwd=ROOT)
files = (tracked.stdout.split() if tracked.returncode == 0 and tracked.stdout.strip() else
         [os.path.relpath(q, ROOT) for q in glob.glob(os.path.join(ROOT, "results", "parent", "*", "*", "*.h5"))])
mine = out("committed")
for q in files:
    os.makedirs(os.path.join(mine, os.path.dirname(q)), exist_ok=True)
    shutil.copy(os.path.join(ROOT, q), os.path.join(mine, q))
p = subprocess.run([PY, "-m", "khgps.parent", "--campaign", os.path.join(mine, "results", "parent"), "--csv", out("r.csv"),
                    "--fit-csv", out("rf.csv"), "--figure", ""], capture_output=True, text=True, cwd=ROOT,
                   env=dict(os.environ, PYTHONPATH=os.path.join(ROOT, "analysis")))
check(p.returncode == 0 and len(files) >= 2
      and open(out("r.csv")).read() == open(os.path.join(ROOT, "results", "parent.csv")).read()
      and open(out("rf.csv")).read() == open(os.path.join(ROOT, "results", "parent_fit.csv")).read(),
      f"results/parent.csv and results/parent_fit.csv are what khgps.parent remakes from the {len(files)} committed digests",
      p.stderr[-300:])
done()
