"""The paper reproduction (analysis/khgps_paper.py): the A_g estimators on synthetic spectra (pure
omega^4, an omega^4 regime that ends at a known omega_x, another exponent, an incomplete spectrum),
the omega_x rule on partial averages of non-interacting oscillators with known omega_x, the claims
on synthetic tables with known exponents, and `make paper` on tests/data/paper twice (identical
outputs, equal to the committed expected table), and a small synthetic campaign over every regime end to
end. No khgps binary needed; about 30 s on a loaded 2-core machine."""
import filecmp
import math
import os
import subprocess

import numpy as np
from scipy import integrate

from common import ROOT, TMP, check, done  # noqa: E402

from khgps import digest as kd  # noqa: E402
from khgps import paper as kp  # noqa: E402

PY = "/usr/bin/python3"
rng = np.random.default_rng(24)


def spectra(N, A, omega_x, R, nev=100, beta=4.0):
    """R realizations' lowest nev frequencies of N oscillators whose modes are a Poisson process of
    intensity N D(omega), D = A omega^beta below omega_x and A omega_x^(beta-1) omega above (linear)."""
    k = beta + 1.0
    L_x = N * A * omega_x**k / k
    out = []
    for _ in range(R):
        E = np.cumsum(rng.exponential(size=nev))
        lo = E <= L_x
        w = np.empty(nev)
        w[lo] = (k * E[lo] / (N * A)) ** (1.0 / k)
        w[~lo] = np.sqrt(omega_x**2 + 2.0 * (E[~lo] - L_x) / (N * A * omega_x ** (beta - 1)))
        out.append(w)
    return out


# 1. A_g estimators on synthetic spectra
N = 2000
for A, R in ((300.0, 400), (60.0, 400)):
    om = spectra(N, A, 10.0, R)  # omega^4 throughout the computed range
    wmin = np.array([o[0] for o in om])
    s = kp.softest_estimator(wmin, N)
    check(abs(s["A_g"] - A) < 3 * s["A_g_err"] and abs(s["beta"] - 4) < 3 * s["beta_err"],
          f"softest mode, pure omega^4: A_g={A:g} and beta=4 recovered",
          f"(A_g {s['A_g']:.4g} +- {s['A_g_err']:.3g}, beta {s['beta']:.3f} +- {s['beta_err']:.3f})")
    print(f"  softest mode, pure omega^4, A_g={A:g}: {s['A_g']:.4g} +- {s['A_g_err']:.3g}, beta {s['beta']:.3f} +- {s['beta_err']:.3f}")
    top = min(o[-1] for o in om)
    c = kp.count_estimator(om, N, 0.5 * top)
    check(c["complete"] and abs(c["A_g"] - A) < 3 * c["A_g_err"] and abs(c["beta"] - 4) < 3 * c["beta_err"],
          f"count below omega_c, pure omega^4: A_g={A:g} and beta=4 recovered",
          f"(A_g {c['A_g']:.4g} +- {c['A_g_err']:.3g}, beta {c['beta']:.3f} +- {c['beta_err']:.3f}, {c['modes']} modes)")
    print(f"  count, pure omega^4, A_g={A:g}, omega_c={0.5 * top:.4g}: {c['A_g']:.4g} +- {c['A_g_err']:.3g}, "
          f"beta {c['beta']:.3f} +- {c['beta_err']:.3f} ({c['modes']} modes)")

# the omega^4 regime ends at omega_x = 0.12, below most softest modes' reach (weak regime)
A, wx = 2000.0, 0.12
om = spectra(N, A, wx, 400)
wmin = np.array([o[0] for o in om])
e = kp.choose_estimator(wmin, om, N, wx)
check(e["estimator"] == "count" and abs(e["cutoff"] - 0.5 * wx) < 1e-12,
      "omega^4 up to a known omega_x: the count estimator is chosen, cutoff omega_x/2",
      f"({e['estimator']}, cutoff {e['cutoff']}, q95 omega_min {e['omega_min_q95']:.4g})")
check(abs(e["A_g"] - A) < 3 * e["A_g_err"] and abs(e["beta"] - 4) < 3 * e["beta_err"],
      "omega^4 up to a known omega_x: count recovers A_g and beta = 4",
      f"(A_g {e['A_g']:.4g} +- {e['A_g_err']:.3g}, beta {e['beta']:.3f} +- {e['beta_err']:.3f})")
print(f"  omega^4 up to omega_x={wx}, A_g={A:g}: count {e['A_g']:.4g} +- {e['A_g_err']:.3g} "
      f"(beta {e['beta']:.3f} +- {e['beta_err']:.3f}, {e['count']['modes']} modes); softest mode "
      f"{e['softest']['A_g']:.4g} +- {e['softest']['A_g_err']:.3g}")
A2, wx2 = 50.0, 0.12  # softest modes mostly above omega_x: the softest mode is biased, the count is not
om2 = spectra(N, A2, wx2, 400)
e2 = kp.choose_estimator(np.array([o[0] for o in om2]), om2, N, wx2)
check(abs(e2["softest"]["A_g"] - A2) > 3 * e2["softest"]["A_g_err"],
      "omega_min above omega_x: the softest-mode A_g is biased (why the count estimator exists)",
      f"(softest {e2['softest']['A_g']:.4g} +- {e2['softest']['A_g_err']:.3g} vs {A2:g})")
check(e2["estimator"] == "none" or abs(e2["A_g"] - A2) < 3 * e2["A_g_err"],
      "omega_min above omega_x: the chosen estimator is unbiased or none (too few modes)",
      f"({e2['estimator']}: {e2['A_g']} +- {e2['A_g_err']}, {e2['count']['modes']} modes)")
print(f"  omega^4 up to omega_x={wx2}, A_g={A2:g}: softest mode {e2['softest']['A_g']:.4g} +- "
      f"{e2['softest']['A_g_err']:.3g}; chosen {e2['estimator']} ({e2['count']['modes']} modes below omega_x/2)")

# another exponent: D = A omega^3 -> the free beta of the count is 3, not 4
om3 = spectra(N, 300.0, 10.0, 300, beta=3.0)
c3 = kp.count_estimator(om3, N, 0.5 * min(o[-1] for o in om3))
check(abs(c3["beta"] - 3) < 3 * c3["beta_err"] and abs(c3["beta"] - 4) > 3 * c3["beta_err"],
      "count estimator: free beta = 3 recovered (and 4 excluded)", f"(beta {c3['beta']:.3f} +- {c3['beta_err']:.3f})")
print(f"  D = A omega^3: count beta {c3['beta']:.3f} +- {c3['beta_err']:.3f}")
# an incomplete spectrum: a realization whose top computed frequency is below the cutoff
short = [o.copy() for o in om[:50]]
short[7] = short[7][:3]
ci = kp.count_estimator(short, N, 1.01 * short[7][-1])
check(not ci["complete"] and not np.isfinite(ci["A_g"]), "count estimator: a spectrum incomplete below the cutoff gives no A_g")

# 2. omega_x from partial averages of non-interacting oscillators (kappa x + x^3/6 = h)


def x_of(kappa, h):
    """The root of kappa x + x^3/6 = h (x > 0), vectorized by Newton from a safe start."""
    x = np.minimum((6 * h) ** (1 / 3), h / np.maximum(kappa, 1e-300))
    for _ in range(60):
        x -= (kappa * x + x**3 / 6 - h) / (kappa + x**2 / 2)
    return x


def true_omega_x(h):
    """omega_x^2 = C/P: P = x(0)^2, C = int_0^inf x(kappa)^2 dkappa (the asymptotes' intersection)."""
    P = (6 * h) ** (2 / 3)
    C = integrate.quad(lambda k: x_of(np.array([k]), h)[0] ** 2, 0, np.inf, limit=200)[0]
    return math.sqrt(C / P)


found = {}
for h in (0.003, 0.01, 0.03):
    Nx, R = 2000, 40
    nb = len(kd.KAPPA_EDGES) - 1
    x2k, nk = np.zeros((R, nb)), np.zeros((R, nb))
    for r in range(R):
        kap = rng.uniform(0, 1, Nx)
        b = kd.kappa_bins({"kappa0": 1.0}, kap, x_of(kap, h))
        x2k[r], nk[r] = b["x2_kappa"], b["n_kappa"]
    pa = kp.partial_average_of_bins(x2k, nk, Nx, 1.0)
    om, err, P, kc, m = kp.omega_x_of_partial(pa, 1.0)
    tw = true_omega_x(h)
    found[h] = om
    check(abs(om - tw) < 3 * err and abs(om / tw - 1) < 0.08, f"omega_x rule: non-interacting oscillators at h={h:g} (known omega_x {tw:.4f})",
          f"(found {om:.4f} +- {err:.4f}; within 3 errors and 8% asked)")
    print(f"  omega_x at h={h:g}: found {om:.4f} +- {err:.4f}, known {tw:.4f} ({100 * (om / tw - 1):+.1f}%)")
hh = np.array(sorted(found))
slope = np.polyfit(np.log(hh), np.log([found[h] for h in hh]), 1)[0]
check(abs(slope - 1 / 3) < 0.02, "omega_x rule: omega_x ~ h^(1/3) over h = 0.003 ... 0.03", f"(slope {slope:.4f})")
print(f"  omega_x ~ h^{slope:.4f}")

# <x*^2> of the uncoupled model (the reference of the <x*^2> ~ h^(4/3) claim): its small-h limit
# h^(4/3) (6^(1/3) + 6^(4/3)/12) in closed form (u = x h^(-1/3): int_0^inf u^2 dk = int (1 + u^3/3) du
# over u in [0, 6^(1/3)]), and a sample mean of the vectorized roots above at finite h.
lim = 6 ** (1 / 3) + 6 ** (4 / 3) / 12
q = kp.x2_uncoupled(1e-7, 1.0) / 1e-7 ** (4 / 3)
check(abs(q / lim - 1) < 1e-3, "<x*^2> of the uncoupled model: small-h limit h^(4/3) (6^(1/3) + 6^(4/3)/12)",
      f"({q:.6f} against {lim:.6f})")
kap = rng.uniform(0, 2, 400000)
mc = np.mean(x_of(kap, 0.1) ** 2)
qq = kp.x2_uncoupled(0.1, 2.0)
check(abs(qq - mc) < 4 * np.std(x_of(kap, 0.1) ** 2) / math.sqrt(kap.size), "<x*^2> of the uncoupled model at h = 0.1, kappa0 = 2: quadrature = sample mean",
      f"({qq:.6g} against {mc:.6g})")

# 3. claims on synthetic tables with known exponents
points = [(J, 0.01, 1.0) for J in (0.03, 0.05, 0.07, 0.1, 0.15, 0.2, 0.3, 0.4, 0.6, 1.0, 1.6, 3.2)]
points += [(J, 0.01, k0) for k0 in (0.5, 2.0) for J in (0.1, 0.2, 0.4, 1.0)]
points += [(0.03, 0.003, 1.0), (0.05, 0.003, 1.0), (0.1, 0.003, 1.0), (0.05, 0.03, 1.0), (0.07, 0.03, 1.0),
           (0.1, 0.03, 1.0), (0.2, 0.03, 1.0), (0.1, 0.1, 1.0), (0.15, 0.1, 1.0), (0.3, 0.1, 1.0),
           (0.03, 0.03, 1.0), (0.03, 0.1, 1.0), (0.03, 0.3, 1.0)]
rel = 0.01


def table(noise=True):
    rows = []
    for J, h, k0 in points:
        wx = max(1.1 * h ** (1 / 3), 0.9 * J ** (7 / 8) * k0 ** (-3 / 8))
        aw = math.exp(2.0 - 0.1 * k0 * h ** (2 / 3) / J**2) / (k0**0.5 * h ** (2 / 3) * J)
        ai = 0.7 / (k0 * wx**3)
        x2 = 0.3 * J if J / k0 >= 1.5 else 0.5 * wx**4 / k0
        reg = kp.regime({"h": h, "J": J, "kappa0": k0})
        ag = aw if reg == "weak" else ai if reg == "intermediate" else min(aw, ai)
        r = {"h": h, "J": J, "kappa0": k0, "N": 2000, "omega_x": wx, "A_g": ag, "x2_mean": x2,
             "beta": 4.0, "estimator": "count"}
        for key, ek in (("omega_x", "omega_x_err"), ("A_g", "A_g_err"), ("x2_mean", "x2_err")):
            r[ek] = rel * r[key]
            if noise:
                r[key] *= math.exp(rel * rng.standard_normal())
        r["beta_err"] = 0.2
        if noise:
            r["beta"] += 0.2 * rng.standard_normal()
        rows.append(r)
    return rows


expected = {"free beta": 4.0, "omega_x ~ h^a": 1 / 3, "<x*^2> ~ h^a": 4 / 3, "J^a kappa0^b, intermediate regime (1.5": 7 / 8,
            "intermediate regime: b": -3 / 8, "(omega_x^4/kappa0)^a": 1.0, "(kappa0 omega_x^3)^a": -1.0,
            "A_g ~ J^a": -21 / 8, "J >> kappa0": 1.0, "Eq. 3": -0.1}
cl = kp.claims(table())
for c in cl:
    key = [k for k in expected if k in c["claim"]]
    if not key:
        continue
    want = expected[key[0]]
    check(np.isfinite(c["value"]) and abs(c["value"] - want) < 3 * c["err"] and c["verdict"] == "agrees within 2 sigma",
          f"claims on a synthetic table: {c['claim'][:60]} = {want:.4g} recovered, verdict 'agrees'",
          f"({c['value']:.4g} +- {c['err']:.3g}, {c['verdict']})")
pk = [c for c in cl if c["claim"].startswith("A_g peak")][0]
check(np.isfinite(pk["value"]) and pk["verdict"] != "cannot tell at this size", "claims: the A_g peak is located",
      f"({pk['value']} {pk['verdict']})")
print("  synthetic claims table:\n" + kp.claims_markdown(cl))
# the convergence table: a point at two sizes, the pull by the larger size's estimator
two = [dict(r) for r in table(noise=False) if r["J"] == 0.1 and r["h"] == 0.01 and r["kappa0"] == 1.0]
big = dict(two[0], N=4000, realizations=200, estimator="softest", A_g=130.0, A_g_err=5.0, A_g_softest=130.0, A_g_softest_err=5.0)
two[0].update(realizations=400, A_g=90.0, A_g_err=3.0, A_g_count=90.0, A_g_count_err=3.0, A_g_softest=110.0, A_g_softest_err=12.0)
cm = kp.convergence_markdown(two + [big])
want_pull = (130.0 - 110.0) / math.hypot(5.0, 12.0)
check(f"| {want_pull:+.2f} (softest: 110 +- 12)" in cm and cm.count("| J=0.1 h=0.01 k0=1 |") == 2,
      "convergence in N: one line per size, the pull by the larger N's estimator", cm[-400:])
check(kp.convergence_markdown(table(noise=False)) == "", "convergence in N: nothing for a table of one size per point")

# wrong exponents are found out: omega_x ~ J^0.6 in the intermediate regime
bad = table(noise=False)
for r in bad:
    if kp.regime(r) == "intermediate":
        r["omega_x"] = 0.9 * r["J"] ** 0.6 * r["kappa0"] ** (-3 / 8)
cb = [c for c in kp.claims(bad) if "J^a kappa0^b, intermediate regime (1.5" in c["claim"]][0]
check(abs(cb["value"] - 0.6) < 1e-6 and cb["verdict"] == "differs", "claims: a wrong exponent (0.6 for 7/8) differs",
      f"({cb['value']} {cb['verdict']})")
few = kp.claims(table()[:3])
check(all(c["verdict"] == "cannot tell at this size" for c in few if not c["claim"].startswith("D(omega)")),
      "claims: with three J points at h = 0.01 every fit says 'cannot tell at this size'")

# 4. `make paper` on tests/data/paper, twice, into TMP: identical outputs, equal to the committed table
data = os.path.join(ROOT, "tests", "data", "paper")
outs = []
for run in ("a", "b"):
    d = os.path.join(TMP, run)
    os.makedirs(d)
    p = subprocess.run([PY, os.path.join(ROOT, "analysis", "khgps_paper.py"), data, "--csv", os.path.join(d, "paper.csv"),
                        "--claims", os.path.join(d, "paper_claims.md"), "--figures", d], capture_output=True, text=True)
    check(p.returncode == 0, f"khgps_paper.py on tests/data/paper (run {run}) exits 0", p.stderr[-400:])
    outs.append(d)
check(filecmp.cmp(os.path.join(outs[0], "paper.csv"), os.path.join(outs[1], "paper.csv"), shallow=False) and
      filecmp.cmp(os.path.join(outs[0], "paper_claims.md"), os.path.join(outs[1], "paper_claims.md"), shallow=False),
      "two runs give identical paper.csv and paper_claims.md")
check(filecmp.cmp(os.path.join(outs[0], "paper.csv"), os.path.join(data, "expected_paper.csv"), shallow=False),
      "the remade table equals the committed tests/data/paper/expected_paper.csv")
check(all(os.path.getsize(os.path.join(outs[0], f"paper_fig{i}.png")) > 10000 for i in range(2, 7)),
      "figures paper_fig2.png ... paper_fig6.png written")
rows = kp.read_csv(os.path.join(outs[0], "paper.csv"))
check(len(rows) == 3 and all(r["realizations"] == 24 for r in rows), "the table has one row per (point, N)")

# 5. every regime and figure path: a small synthetic campaign (all kinds of points, 6 realizations,
#    one saddle, two sizes at one point) runs end to end
camp = os.path.join(TMP, "campaign")
cpts = [(0.03, 0.003, 1.0), (0.03, 0.01, 1.0), (0.03, 0.03, 1.0), (0.03, 0.1, 1.0), (0.05, 0.01, 1.0), (0.1, 0.01, 1.0),
        (0.2, 0.01, 1.0), (0.3, 0.01, 1.0), (0.4, 0.01, 1.0), (0.6, 0.01, 1.0), (1.0, 0.01, 1.0), (1.6, 0.01, 1.0),
        (3.2, 0.01, 1.0), (0.4, 0.01, 0.5), (0.4, 0.01, 2.0), (1.0, 0.01, 2.0)]
for J, h, k0 in cpts:
    for Nc in ((500, 1000) if J == 0.1 else (500,)):
        wx = max(h ** (1 / 3), 0.9 * J ** (7 / 8) * k0 ** (-3 / 8))
        prm = {"N": Nc, "kappa0": k0, "kappa_min": 0.0, "J": J, "h": h, "A": 1.0, "seed": 1, "nev": 40, "sparse": 0,
               "connectivity": 0.0, "tao_type": "bncg", "polish_its": 1, "x0_amplitude": 0.0}
        dg = kd.Digest(prm, 40)
        rws = []
        for i, w in enumerate(spectra(Nc, 0.7 / (k0 * wx**3), wx, 6, nev=40)):
            kap = rng.uniform(0, k0, Nc)
            rws.append({"realization": i, "status": 2 if i == 5 else 0, "nconv": 40, "tao_iterations": 9, "energy": -1.0,
                        "time": 1.0, "x2_mean": 0.0, "eigenvalues": w**2, "participation_ratio": np.full(40, 0.1),
                        **kd.kappa_bins(prm, kap, x_of(kap, wx**3))})
            rws[-1]["x2_mean"] = float(rws[-1]["x2_kappa"].sum() / Nc)
        dg.add(rws, "synthetic")
        kd.write(dg, os.path.join(camp, f"J{J:g}_h{h:g}_k{k0:g}", f"N{Nc}.h5"))
p = subprocess.run([PY, os.path.join(ROOT, "analysis", "khgps_paper.py"), camp, "--csv", os.path.join(camp, "p.csv"),
                    "--claims", os.path.join(camp, "c.md"), "--figures", camp], capture_output=True, text=True)
check(p.returncode == 0, "a synthetic campaign over every regime runs end to end", p.stderr[-600:])
if p.returncode == 0:
    rows = kp.read_csv(os.path.join(camp, "p.csv"))
    with open(os.path.join(camp, "c.md")) as fh:
        md = fh.read()
    check(len(rows) == len(cpts) + 1 and all(r["realizations"] == 5 and r["left_out"] == 1 for r in rows)
          and sum(1 for ln in md.split("## Convergence")[0].splitlines() if ln.startswith("| ")) == 1 + 11
          and len(kp.claims(rows)) == 11 and sum(1 for ln in md.split("## Convergence")[-1].splitlines() if ln.startswith("| ")) == 1 + 2,
          "its table: one row per (point, N), the saddle left out; eleven claims; the point at two sizes in the convergence table")
    check(os.path.getsize(os.path.join(camp, "paper_convergence.png")) > 10000, "its convergence figure (A_g against N) written")

# 5. the committed results are what the code remakes from the committed digests, exactly
d = os.path.join(TMP, "committed")
os.makedirs(d)
p = subprocess.run([PY, os.path.join(ROOT, "analysis", "khgps_paper.py"), os.path.join(ROOT, "results", "paper"),
                    "--csv", os.path.join(d, "paper.csv"), "--claims", os.path.join(d, "paper_claims.md")], capture_output=True, text=True)
check(p.returncode == 0 and filecmp.cmp(os.path.join(d, "paper.csv"), os.path.join(ROOT, "results", "paper.csv"), shallow=False)
      and filecmp.cmp(os.path.join(d, "paper_claims.md"), os.path.join(ROOT, "results", "paper_claims.md"), shallow=False),
      "results/paper.csv and results/paper_claims.md are what khgps_paper.py remakes from results/paper, exactly", p.stderr[-300:])
p = subprocess.run([PY, os.path.join(ROOT, "analysis", "khgps_tail.py"), "--campaign", os.path.join(ROOT, "results", "tail"),
                    "--csv", os.path.join(d, "tail.csv")], capture_output=True, text=True)
check(p.returncode == 0 and filecmp.cmp(os.path.join(d, "tail.csv"), os.path.join(ROOT, "results", "tail.csv"), shallow=False),
      "results/tail.csv is what khgps_tail.py remakes from results/tail, exactly", p.stderr[-300:])
done()
