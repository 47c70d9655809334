"""The tail analysis (analysis/khgps_tail.py), the digests (analysis/khgps_digest.py) and the campaign
command (runs/tail.sh): synthetic softest-mode samples with known A_g and beta, the N-scaling of
<omega_min>, the local exponent, grouping of mixed input, and a small real ladder end to end."""
import json
import math
import os
import shutil
import subprocess

import h5py
import numpy as np

from common import KHGPS, ROOT, TMP, check, done, run  # noqa: E402

from khgps import digest as kd  # noqa: E402
from khgps import spectra as ka  # noqa: E402
from khgps import tail as kt  # noqa: E402

PY = "/usr/bin/python3"
rng = np.random.default_rng(20261205)


def draw_wmin(N, A, beta, R):
    """R lowest frequencies with P(omega_min > w) = exp(-N A w^k / k), k = beta + 1."""
    k = beta + 1.0
    return (k * rng.exponential(size=R) / (N * A)) ** (1.0 / k)


# 1. softest-mode maximum likelihood recovers known A and beta within its errors
for N, A, beta in ((1000, 50.0, 4.0), (4000, 50.0, 4.0), (16000, 20.0, 4.0), (2000, 5.0, 2.0), (8000, 20.0, 3.0)):
    w = draw_wmin(N, A, beta, 1500)
    f = kt.softest_mode_fit(w, N)
    check(abs(f["beta"] - beta) < 3 * f["beta_err"] and abs(f["A"] - A) < 3 * f["A_err"],
          f"softest mode, free beta: N={N} A={A} beta={beta} recovered",
          f"(beta {f['beta']:.3f} +- {f['beta_err']:.3f}, A {f['A']:.4g} +- {f['A_err']:.3g})")
    g = kt.softest_mode_fit(w, N, beta=beta)
    check(abs(g["A"] - A) < 3 * g["A_err"], f"softest mode, beta fixed at {beta}: A recovered",
          f"({g['A']:.4g} +- {g['A_err']:.3g} vs {A})")
# the quoted errors are the spread of the estimates (calibration over 300 samples of 300)
est = np.array([[v for v in kt.softest_mode_fit(draw_wmin(4000, 30.0, 4.0, 300), 4000).values()] for _ in range(300)])
A_s, A_e, b_s, b_e = est[:, 0], est[:, 1], est[:, 2], est[:, 3]
check(0.8 < b_s.std() / b_e.mean() < 1.25 and 0.8 < A_s.std() / A_e.mean() < 1.25,
      "softest mode: quoted errors match the spread of the estimates",
      f"(beta: spread {b_s.std():.3f}, quoted {b_e.mean():.3f}; A: {A_s.std():.3g}, {A_e.mean():.3g})")
cover = np.mean(np.abs(b_s - 4.0) < b_e)
check(0.58 < cover < 0.78, f"softest mode: beta within 1 sigma in {cover:.0%} of samples (68% expected)")
# a wrong exponent is detected: beta = 2 data exclude 4
w2 = draw_wmin(4000, 5.0, 2.0, 1500)
f2 = kt.softest_mode_fit(w2, 4000)
check(abs(f2["beta"] - 4.0) > 5 * f2["beta_err"], "softest mode: beta = 2 data exclude beta = 4",
      f"({f2['beta']:.3f} +- {f2['beta_err']:.3f})")

# 2. the N-scaling of <omega_min> recovers a known exponent (and tells 2 from 4)
Ns = [1000, 2000, 4000, 8000, 16000]
for beta in (4.0, 2.0):
    means, errs = [], []
    for N in Ns:
        w = draw_wmin(N, 10.0, beta, 800)
        means.append(w.mean())
        errs.append(w.std(ddof=1) / math.sqrt(len(w)))
    s = kt.size_scaling(Ns, means, errs)
    other = 2.0 if beta == 4.0 else 4.0
    check(abs(s["beta"] - beta) < 3 * s["beta_err"] and abs(s["beta"] - other) > 3 * s["beta_err"],
          f"N-scaling: beta = {beta:g} recovered and {other:g} excluded", f"({s['beta']:.3f} +- {s['beta_err']:.3f})")
s1 = kt.size_scaling([1000], [0.1], [0.01])
check(np.isnan(s1["beta"]), "N-scaling: one size gives no exponent")


# 3. local exponent of the cumulative count on synthetic spectra with D = A omega^3
def synthetic_digest(N, A, beta, R, nev, first=0, wc=0.4, params=None):
    """A digest of R synthetic realizations: a Poisson process of intensity N A omega^beta on
    [0, wc] per realization (eigenvalues omega^2), the lowest nev kept."""
    p = {"N": N, "kappa0": 1.0, "kappa_min": 0.0, "J": 0.1, "h": 0.01, "A": 1.0, "seed": 1, "nev": nev,
         "sparse": 0, "connectivity": 20.0}
    p.update(params or {})
    d = kd.Digest(p, nev)
    rows = []
    for r in range(R):
        n = rng.poisson(N * A * wc ** (beta + 1) / (beta + 1))
        om = np.sort(wc * rng.random(n) ** (1.0 / (beta + 1)))[:nev]
        rows.append({"realization": first + r, "status": 0, "nconv": len(om), "tao_iterations": 100, "energy": -1.0,
                     "time": 0.1, "x2_mean": 0.02, "eigenvalues": om**2, "participation_ratio": np.full(len(om), 0.1)})
    d.add(rows, "synthetic")
    return d


d3 = synthetic_digest(2000, 30.0, 3.0, 400, 200)
le = kt.local_exponent(kt.run_of_digest(d3, ["synthetic"]), seed=1)
inside = np.mean((le["lo"] <= 3.0) & (3.0 <= le["hi"]))
mid = np.average(le["beta"], weights=1.0 / np.maximum(le["hi"] - le["lo"], 1e-9) ** 2)
check(len(le["beta"]) >= 4 and abs(mid - 3.0) < 0.25 and inside >= 0.5,
      f"local exponent: D ~ omega^3 gives {mid:.2f} ({len(le['beta'])} points, truth inside the band at {inside:.0%})")
d5 = synthetic_digest(2000, 30.0, 5.0, 400, 200)
le5 = kt.local_exponent(kt.run_of_digest(d5, ["synthetic"]), seed=1)
mid5 = np.average(le5["beta"], weights=1.0 / np.maximum(le5["hi"] - le5["lo"], 1e-9) ** 2)
check(abs(mid5 - 5.0) < 0.4 and abs(mid5 - mid) > 1.0, f"local exponent: D ~ omega^5 gives {mid5:.2f}, distinct from omega^3")

# 4. mixed input is grouped by N; overlaps are used once; another point is refused
tdir = os.path.join(TMP, "tail-group")
os.makedirs(tdir, exist_ok=True)
a = synthetic_digest(200, 40.0, 4.0, 10, 30)
b = kd.Digest(a.params, 30)
b.add(list(a.rows())[5:10], "copy")
b.add([{"realization": 10 + i, "status": 1, "nconv": 0, "tao_iterations": 9, "energy": 0.0, "time": 0.1,
        "x2_mean": 0.0, "eigenvalues": np.empty(0), "participation_ratio": np.empty(0)} for i in range(5)], "not converged")
c = synthetic_digest(400, 40.0, 4.0, 7, 30)
for name, d in (("a200.h5", a), ("b200.h5", b), ("c400.h5", c)):
    kd.write(d, os.path.join(tdir, name))
sizes = kt.group_by_size([os.path.join(tdir, n) for n in ("c400.h5", "a200.h5", "b200.h5")])
check(list(sizes) == [200, 400] and len(sizes[200][0]) == 15 and len(sizes[400][0]) == 7,
      "grouping: files of N = 200 (overlapping) and 400 given in any order are grouped by N",
      f"({[(N, len(d)) for N, (d, _) in sizes.items()]})")
res = kt.analyze_point(sizes, n_boot=50)
r200 = res["sizes"][0]
check(r200["realizations"] == 10 and r200["left_out"] == {"not_converged": 5},
      "grouping: non-minima are left out and reported", f"({r200['realizations']}, {r200['left_out']})")
other = synthetic_digest(200, 40.0, 4.0, 5, 30, params={"h": 0.3})
kd.write(other, os.path.join(tdir, "other.h5"))
p = subprocess.run([PY, os.path.join(ROOT, "analysis", "khgps_tail.py"), os.path.join(tdir, "a200.h5"),
                    os.path.join(tdir, "other.h5")], capture_output=True, text=True)
check(p.returncode == 1 and p.stderr.count("\n") == 1 and "khgps_tail: error:" in p.stderr and "h 0.01 vs 0.3" in p.stderr,
      "grouping: another parameter point is refused in one line", repr(p.stderr[-300:]))
bad = kd.read(os.path.join(tdir, "a200.h5"))
bad.eigenvalues[3, 1] *= 1.01
kd.write(bad, os.path.join(tdir, "bad200.h5"))
try:
    kt.group_by_size([os.path.join(tdir, "a200.h5"), os.path.join(tdir, "bad200.h5")])
    check(False, "grouping: a realization with two different spectra is refused")
except kd.DigestError as e:
    check("realization 3" in str(e), "grouping: a realization with two different spectra is refused", str(e))

# 4b. the K lowest modes: joint maximum likelihood over all N (a Poisson process of intensity N A omega^beta)
kr = np.random.default_rng(24)
COUNTS = {1000: 2000, 2000: 1000, 4000: 400, 8000: 150, 16000: 50}  # the campaign's
pure = {N: kt.synthetic_modes(kr, N, R, 20.0, 4.0, 64) for N, R in COUNTS.items()}
lad = kt.k_modes_ladder(pure)
f1 = lad["fits"][0]
for f in lad["fits"]:
    d1 = math.sqrt(max(f1["beta_err"] ** 2 - f["beta_err"] ** 2, 0.0))
    check(abs(f["beta"] - 4.0) < 3 * f["beta_err"] and abs(f["A"] - 20.0) < 3 * f["A_err"]
          and (f["K"] == 1 or abs(f["beta"] - f1["beta"]) < 3 * d1)
          and all(abs(q["sigma"]) < 3.5 for q in f["per_N"].values()),
          f"K modes, pure omega^4: K = {f['K']} recovers beta and A" + (", agrees with K = 1" if f["K"] > 1 else "") + ", A_N flat",
          f"(beta {f['beta']:.3f} +- {f['beta_err']:.3f}, A {f['A']:.3g} +- {f['A_err']:.2g}, "
          f"A_N sigmas {[round(q['sigma'], 1) for q in f['per_N'].values()]})")
check(lad["K"] >= 16 and lad["fits"][-1]["K"] == 64 and lad["fits"][-1]["beta_err"] < 0.01,
      f"K modes, pure omega^4: the K rule goes on to K = {lad['K']} (>= 16), the error at K = 64 below 0.01")
check(f1["beta_err"] < 0.1 and abs(f1["beta_err"] - kt.k_modes_fit(pure, 1)["beta_err"]) == 0,
      f"K modes: the campaign's counts give beta +- {f1['beta_err']:.3f} (< 0.1) already at K = 1")
# the quoted errors (inverse observed information) are the spread of the estimates
small = COUNTS
est = []
for _ in range(100):
    f = kt.k_modes_fit({N: kt.synthetic_modes(kr, N, R, 20.0, 4.0, 4) for N, R in small.items()}, 4)
    est.append((f["beta"], f["beta_err"], f["A"], f["A_err"]))
est = np.array(est)
cover = np.mean(np.abs(est[:, 0] - 4.0) < est[:, 1])
check(0.8 < est[:, 0].std() / est[:, 1].mean() < 1.25 and 0.8 < est[:, 2].std() / est[:, 3].mean() < 1.25
      and 0.55 < cover < 0.8,
      f"K modes: quoted errors match the spread (beta {est[:, 0].std():.3f} vs {est[:, 1].mean():.3f}, A "
      f"{est[:, 2].std():.3g} vs {est[:, 3].mean():.3g}), beta within 1 sigma in {cover:.0%}")
# an omega^4 regime that ends at omega_x (linear D above): the K rule stops before the K-th mode passes it
wx = 0.3
cross = {N: kt.synthetic_modes(kr, N, R, 20.0, 4.0, 64, omega_x=wx) for N, R in COUNTS.items()}
lc = kt.k_modes_ladder(cross)
c = lc["chosen"]
below = np.mean(cross[1000][:, lc["K"] - 1] < wx)
last = lc["fits"][-1]
# (the 2.5-sigma stop lets through a bias of about 1 sigma on average at this omega_x: docs/design.md)
check(lc["K"] <= 8 and below > 0.7 and abs(c["beta"] - 4.0) < 4 * c["beta_err"] and (4.0 - last["beta"]) > 10 * last["beta_err"],
      f"K modes, omega^4 up to omega_x = {wx}: the K rule stops at K = {lc['K']} (K-th mode below omega_x in "
      f"{below:.0%} at N = 1000), beta {c['beta']:.3f} +- {c['beta_err']:.3f}; K = 64 gives {last['beta']:.2f}",
      f"(z {[None if z is None else round(z, 1) for z in lc['z']]})")
# the softest mode at K = 1 and the K-mode fit with one N agree with softest_mode_fit
one = {4000: pure[4000]}
g = kt.k_modes_fit(one, 1)
h = kt.softest_mode_fit(pure[4000][:, 0], 4000)
check(abs(g["beta"] - h["beta"]) < 1e-8 and abs(g["A"] - h["A"]) < 1e-8 * h["A"]
      and abs(g["beta_err"] - h["beta_err"]) < 1e-6 and abs(g["A_err"] - h["A_err"]) < 1e-6 * h["A_err"],
      "K modes: K = 1 at one N is the softest-mode Weibull maximum likelihood (values and errors)")

# 5. a small real ladder end to end: runs/tail.sh, digests, the analysis, continuation
out, res_dir = os.path.join(TMP, "tail-out"), os.path.join(TMP, "tail-results")
env = dict(os.environ, SIZES="200 400", COUNTS="200:40 400:24", NEV="30", NP="2", OUT=out, RESULTS=res_dir,
           KHGPS_BIN=KHGPS)
p = subprocess.run(["bash", "runs/tail.sh", "0.2", "0.01", "1"], cwd=ROOT, env=dict(env, DRY="1"), capture_output=True, text=True)
check(p.returncode == 0 and "expected time" in p.stdout and not os.path.exists(os.path.join(out, "J0.2_h0.01_k1", "N200.h5")),
      "campaign: DRY=1 prints the plan and the expected time and runs nothing", p.stdout[-300:] + p.stderr[-300:])
p = subprocess.run(["bash", "runs/tail.sh", "0.2", "0.01", "1"], cwd=ROOT, env=env, capture_output=True, text=True)
pt = "J0.2_h0.01_k1"
check(p.returncode == 0 and p.stdout.find("expected time") < p.stdout.find("== N = 200"),
      "campaign: runs/tail.sh runs the ladder, the expected time first", (p.stdout + p.stderr)[-600:])
digests = [os.path.join(res_dir, pt, f"N{N}.h5") for N in (200, 400)]
runfiles = [os.path.join(out, pt, f"N{N}.h5") for N in (200, 400)]
p = subprocess.run([PY, "analysis/khgps_tail.py", *digests, "--json", "--figure", os.path.join(TMP, "tail.png"),
                    "--csv", os.path.join(TMP, "tail.csv")], cwd=ROOT, capture_output=True, text=True)
ok = p.returncode == 0
js = json.loads(p.stdout.strip().splitlines()[-1]) if ok else {}
check(ok and [s["N"] for s in js["sizes"]] == [200, 400] and "beta" in js["scaling"] and "beta_err" in js["scaling"],
      "campaign analysis: --json's last line has the sizes and the scaling", p.stderr[-300:])
for N, f, s in zip((200, 400), runfiles, js.get("sizes", [])):
    with h5py.File(f, "r") as fh:  # independent: the run file through h5py alone
        w = np.array([math.sqrt(g["eigenvalues"][0]) for g in fh["realizations"].values() if g.attrs["status"] == 0])
    ag = 5 * len(w) / (N * np.sum(w**5))
    check(s["realizations"] == len(w) and abs(s["omega_min_mean"] - w.mean()) < 1e-12 * w.mean()
          and abs(s["omega_min_err"] - w.std(ddof=1) / math.sqrt(len(w))) < 1e-9 * s["omega_min_err"]
          and abs(s["A_g"] - ag) < 1e-10 * ag,
          f"campaign analysis N={N}: realizations, <omega_min> and A_g equal the run file's direct numbers",
          f"({s.get('realizations')} vs {len(w)}, {s.get('omega_min_mean')} vs {w.mean()}, {s.get('A_g')} vs {ag})")
p2 = subprocess.run([PY, "analysis/khgps_tail.py", *runfiles, "--json"], cwd=ROOT, capture_output=True, text=True)
js2 = json.loads(p2.stdout.strip().splitlines()[-1]) if p2.returncode == 0 else {}
same = js2 and all(abs(x[k] - y[k]) <= 1e-12 * abs(x[k]) for x, y in zip(js["sizes"], js2["sizes"])
                   for k in ("omega_min_mean", "A_g", "beta")) and \
    all(abs(x["window"]["A_g"] - y["window"]["A_g"]) <= 1e-12 * x["window"]["A_g"] for x, y in zip(js["sizes"], js2["sizes"]))
check(bool(same), "campaign analysis: the digests give the run files' numbers (window fit included)")
with open(os.path.join(TMP, "tail.csv")) as fh:
    head = fh.readline().strip().split(",")
check(head[:12] == ["J", "h", "kappa0", "N", "realizations", "left_out", "omega_min_mean", "omega_min_err", "A_g",
                    "A_g_err", "beta", "beta_err"] and os.path.getsize(os.path.join(TMP, "tail.png")) > 20000,
      "campaign analysis: the table's columns and the figure")
# continuation on "another machine": only the digests are left; the ladder grows to 50 at N = 200
shutil.rmtree(out)
p = subprocess.run(["bash", "runs/tail.sh", "0.2", "0.01", "1"], cwd=ROOT, env=dict(env, SIZES="200", COUNTS="200:50"),
                   capture_output=True, text=True)
d = kd.read(digests[0])
check(p.returncode == 0 and "realizations 40..49" in p.stdout and list(d.cols["realization"]) == list(range(50)),
      "campaign: continues from the digest's next realization (40..49), each realization once",
      (p.stdout + p.stderr)[-400:])
single = os.path.join(TMP, "tail-single.h5")
run(["-khgps_N", "200", "-khgps_J", "0.2", "-khgps_h", "0.01", "-khgps_kappa0", "1", "-khgps_nev", "30",
     "-khgps_first", "45", "-khgps_output", single], env={"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"})
with h5py.File(single, "r") as fh:
    lam = fh["realizations/000045/eigenvalues"][()]
i45 = int(np.flatnonzero(d.cols["realization"] == 45)[0])
check(lam[0] == d.cols["lowest_eigenvalue"][i45] and np.array_equal(kd._round32(lam[1:]), d.eigenvalues[i45, 1: len(lam)]),
      "campaign: a continued realization equals the same realization computed alone (bit for bit)")
p = subprocess.run(["bash", "runs/tail.sh", "0.2", "0.01"], cwd=ROOT, env=env, capture_output=True, text=True)
q = subprocess.run(["bash", "runs/tail.sh", "0.2", "x", "1"], cwd=ROOT, env=env, capture_output=True, text=True)
check(p.returncode == 2 and q.returncode == 2 and "not a number" in q.stderr, "campaign: bad arguments exit 2")
done()
