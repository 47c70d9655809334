"""The thermal start (issue 27): x sampled from exp(-H/T) by khgps' Metropolis chain (src/thermal.c),
then minimized.
(a) J = 0: each oscillator alone; the parent <x^2> and H/N at T against the 1-D quadratures of
    exp(-v(x)/T), v = kappa x^2/2 + A x^4/24 - h x, for the realization's own kappa_i; the error
    from the spread over realizations, and the recorded batch-means errors checked as honest.
(b) two oscillators with J_12 != 0: the final states of many chains (tests/bin/test_thermal_chain,
    the sample the minimizer starts from) against the 2-D quadrature of <x1^2>, <x2^2>, <x1 x2>,
    <x1>, <H>; and khgps itself at N = 2 (J from the file) on <x^2> and H/N.
(c) N = 50, J > 0: an independent numpy Metropolis sampler (Gaussian proposals, parallel chains,
    H from scratch) on the couplings saved with -khgps_save_couplings agrees on <x^2> and H/N.
(d) bit for bit: 1 rank and 2 ranks give the same parent and x*; a resumed run equals an
    uninterrupted one; random starts (-khgps_x0_amplitude, -khgps_start random) unchanged.
(e) a resume with another temperature is refused naming it; options without effect are refused."""
import os
import subprocess

import h5py
import numpy as np

from common import KHGPS, MPIEXEC, ROOT, check, done, load, out, run

PARENT = ["parent_energy", "parent_energy_error", "parent_x2", "parent_x2_error", "parent_acceptance", "parent_drift", "parent_sweeps"]


def records(path):
    """Every realization of a file: {index: {attribute: value, 'x': ..., 'kappa': ..., 'J': ...}}."""
    res = {}
    with h5py.File(path, "r") as f:
        for k, g in f["realizations"].items():
            d = dict(g.attrs)
            for name in ("x", "kappa", "J"):
                if name in g:
                    d[name] = g[name][()]
            res[int(k)] = d
    return res


def exact_1d(kappa, A, h, T):
    """<x^2> and <v> of exp(-v/T) per oscillator (trapezoid on a grid: the integrand is smooth and
    decays faster than exponentially, so the rule converges spectrally)."""
    xmax = 2.0 * ((24 * 60 * T / A) ** 0.25 + (6 * abs(h) / A) ** (1 / 3))  # v/T > 60 beyond
    x = np.linspace(-xmax, xmax, 8001)
    v = 0.5 * kappa[:, None] * x**2 + A * x**4 / 24 - h * x
    w = np.exp(-(v - v.min(axis=1, keepdims=True)) / T)
    Z = w.sum(axis=1)
    return (w * x**2).sum(axis=1) / Z, (w * v).sum(axis=1) / Z


# ---- (a) J = 0 against the 1-D quadratures --------------------------------------------------
R = 8
for (T, h, kmin) in [(0.5, 0.01, 0.0), (0.05, 0.01, 0.0), (0.05, 0.3, 0.2), (0.005, -0.1, 0.0)]:
    f = out(f"j0_T{T}_h{h}.h5")
    run(["-khgps_N", "300", "-khgps_J", "0", "-khgps_h", str(h), "-khgps_kappa_min", str(kmin), "-khgps_nev", "3",
         "-khgps_start", "thermal", "-khgps_parent_temperature", str(T), "-khgps_equilibration_sweeps", "1000",
         "-khgps_realizations", str(R), "-khgps_seed", "5", "-khgps_output", f])
    rec = records(f)
    tag = f"(a) J=0 N=300 T={T} h={h} kappa_min={kmin}"
    for q, qi in (("parent_x2", 0), ("parent_energy", 1)):
        d, z = [], []
        for r in rec.values():
            ex = exact_1d(r["kappa"], 1.0, h, T)[qi].mean()
            d.append(r[q] - ex)
            z.append((r[q] - ex) / r[q + "_error"])
        d, z = np.array(d), np.array(z)
        err = d.std(ddof=1) / np.sqrt(R)
        check(abs(d.mean()) < 4 * err, f"{tag}: {q} matches the quadrature over {R} realizations",
              f"mean deviation {d.mean():.3e}, error {err:.3e}")
        check(np.mean(z**2) < 3.0 and np.max(np.abs(z)) < 5, f"{tag}: {q}'s recorded batch-means error is honest",
              f"mean z^2 {np.mean(z**2):.2f}, max |z| {np.max(np.abs(z)):.2f}")
    acc = np.array([r["parent_acceptance"] for r in rec.values()])
    check(np.all((acc > 0.3) & (acc < 0.6)), f"{tag}: acceptance adapted near 0.45", f"{acc.min():.2f}..{acc.max():.2f}")
    check(all(r["parent_sweeps"] == 1000 for r in rec.values()), f"{tag}: parent_sweeps recorded")
    check(all(r["status"] == 0 for r in rec.values()), f"{tag}: every realization a minimum")


# ---- (b) two oscillators -------------------------------------------------------------------
def exact_2d(k1, k2, J12, A, h, T):
    g = np.linspace(-7, 7, 1401)
    X1, X2 = np.meshgrid(g, g, indexing="ij")
    H = 0.5 * k1 * X1**2 + 0.5 * k2 * X2**2 + A / 24 * (X1**4 + X2**4) - h * (X1 + X2) + J12 * X1 * X2
    w = np.exp(-(H - H.min()) / T)
    Z = w.sum()
    return [(w * v).sum() / Z for v in (X1**2, X2**2, X1 * X2, H, X1)]


chain = os.path.join(ROOT, "tests", "bin", "test_thermal_chain")
for (k1, k2, J12, h, T) in [(0.7, 0.4, 0.5, 0.1, 0.3), (0.2, 0.9, -0.6, 0.0, 0.1)]:
    p = subprocess.run([chain, "-k1", str(k1), "-k2", str(k2), "-J12", str(J12), "-h", str(h), "-T", str(T), "-chains", "20000"],
                       capture_output=True, text=True)
    v = [float(t) for t in p.stdout.split()]
    ex = exact_2d(k1, k2, float(np.float32(J12)), 1.0, h, T)
    tag = f"(b) N=2 k=({k1},{k2}) J12={J12} h={h} T={T}"
    for q, name in enumerate(["<x1^2>", "<x2^2>", "<x1 x2>", "<H>", "<x1>"]):
        m, se = v[2 * q], v[2 * q + 1]
        check(abs(m - ex[q]) < 4 * se, f"{tag}: final states of 20000 chains: {name} = exact", f"{m:.5f} +- {se:.5f} vs {ex[q]:.5f}")

f = out("n2.h5")
R2 = 16
run(["-khgps_N", "2", "-khgps_nev", "1", "-khgps_J", "0.8", "-khgps_kappa_min", "0.3", "-khgps_h", "0.05",
     "-khgps_start", "thermal", "-khgps_parent_temperature", "0.2", "-khgps_equilibration_sweeps", "40000",
     "-khgps_realizations", str(R2), "-khgps_save_couplings", "-khgps_output", f])
rec = records(f)
for q, qi in (("parent_x2", None), ("parent_energy", 3)):
    z = []
    for r in rec.values():
        ex = exact_2d(r["kappa"][0], r["kappa"][1], r["J"][0, 1], 1.0, 0.05, 0.2)
        e = 0.5 * (ex[0] + ex[1]) if qi is None else ex[3] / 2
        z.append((r[q] - e) / r[q + "_error"])
    z = np.array(z)
    check(np.mean(z**2) < 3.0 and np.max(np.abs(z)) < 5, f"(b) khgps N=2 J=0.8 T=0.2: {q} = 2-D quadrature in {R2} realizations",
          f"mean z^2 {np.mean(z**2):.2f}, max |z| {np.max(np.abs(z)):.2f}")


# ---- (c) N = 50, J > 0: an independent numpy sampler -----------------------------------------
def numpy_sampler(J, kappa, A, h, T, chains=128, burn=300, sweeps=700, seed=1):
    """Metropolis, Gaussian proposals of fixed width, `chains` independent chains in parallel,
    sites in a random order per sweep, H/N and <x^2> computed from scratch after each sweep."""
    rng = np.random.default_rng(seed)
    N = len(kappa)
    x = np.zeros((chains, N))
    sig = 0.8 * np.sqrt(T / (kappa + np.sqrt(A * T / 2) + 2 * np.sqrt(np.sum(J**2, axis=1))))
    eh, xh = [], []
    for t in range(burn + sweeps):
        for i in rng.permutation(N):
            d = sig[i] * rng.standard_normal(chains)
            xi = x[:, i]
            y = xi + d
            fi = x @ J[:, i]
            dv = fi * d + 0.5 * kappa[i] * (y**2 - xi**2) + A / 24 * (y**4 - xi**4) - h * d
            ok = rng.random(chains) < np.exp(-np.maximum(dv, 0) / T)
            x[ok, i] = y[ok]
        if t >= burn:
            E = 0.5 * np.einsum("ci,ij,cj->c", x, J, x) + (0.5 * kappa * x**2 + A / 24 * x**4 - h * x).sum(axis=1)
            eh.append(E / N)
            xh.append((x**2).mean(axis=1))
    eh, xh = np.array(eh).mean(axis=0), np.array(xh).mean(axis=0)  # per-chain time averages
    return (eh.mean(), eh.std(ddof=1) / np.sqrt(chains)), (xh.mean(), xh.std(ddof=1) / np.sqrt(chains))


# a convex H (kappa_min > 2J: unimodal) at T = 0.2, and kappa_min = 0 at T = 0.5; at T = 0.2 with
# kappa_min = 0 some realizations are glassy already at N = 50 (basins the parallel chains do not
# leave within their sweeps), which would test the reference, not khgps
for (T, h, kmin, k0, real) in [(0.2, 0.05, 0.9, 1.5, 0), (0.5, 0.05, 0.0, 1.0, 1)]:
    f = out(f"n50_{T}.h5")
    run(["-khgps_N", "50", "-khgps_nev", "5", "-khgps_J", "0.4", "-khgps_h", str(h), "-khgps_kappa_min", str(kmin), "-khgps_kappa0", str(k0),
         "-khgps_start", "thermal", "-khgps_parent_temperature", str(T), "-khgps_equilibration_sweeps", "100000",
         "-khgps_realization", str(real), "-khgps_save_couplings", "-khgps_output", f])
    r = records(f)[real]
    (e, ee), (x2, xe) = numpy_sampler(r["J"], r["kappa"], 1.0, h, T, seed=real + 1)
    for q, m, se in (("parent_energy", e, ee), ("parent_x2", x2, xe)):
        diff, err = r[q] - m, np.hypot(r[q + "_error"], se)
        check(abs(diff) < 4 * err, f"(c) N=50 J=0.4 kappa in [{kmin}, {k0}] T={T}: khgps {q} = numpy sampler's",
              f"{r[q]:.5f} +- {r[q + '_error']:.5f} vs {m:.5f} +- {se:.5f}")
    check(abs(r["parent_drift"]) < 4, f"(c) T={T}: drift diagnostic small ({r['parent_drift']:.2f})")

# ---- (d) bit for bit: ranks, groups, resume ---------------------------------------------------
BASE = ["-khgps_N", "120", "-khgps_nev", "5", "-khgps_J", "0.3", "-khgps_start", "thermal", "-khgps_parent_temperature", "0.05",
        "-khgps_equilibration_sweeps", "300", "-khgps_seed", "3"]
one, two, grp = out("d1.h5"), out("d2.h5"), out("dg.h5")
run(BASE + ["-khgps_realizations", "4", "-khgps_output", one])
run(BASE + ["-khgps_realizations", "4", "-khgps_groups", "2", "-khgps_output", grp], np_=2)
a, g = records(one), records(grp)
check(all(np.array_equal(a[k]["x"], g[k]["x"]) and all(a[k][q] == g[k][q] for q in PARENT) for k in a),
      "(d) 1 rank vs 2 ranks (two groups): parent statistics and x* identical bit for bit")
# one group of 2 ranks (ScaLAPACK): the parent sample itself (no minimization steps) is identical
s1, s2 = out("s1.h5"), out("s2.h5")
NOMIN = ["-tao_max_it", "0", "-khgps_polish_its", "0", "-khgps_realizations", "2"]
run(BASE + NOMIN + ["-khgps_output", s1])
run(BASE + NOMIN + ["-khgps_output", s2], np_=2)
b1, b2 = records(s1), records(s2)
check(all(np.array_equal(b1[k]["x"], b2[k]["x"]) and all(b1[k][q] == b2[k][q] for q in PARENT) for k in b1),
      "(d) 1 rank vs 2 ranks (one ScaLAPACK group): the thermal sample identical bit for bit")
check(all(np.any(b1[k]["x"] != 0) for k in b1), "(d) with -tao_max_it 0 x is the thermal sample (not zero)")
# ... and the minimized x* on one ScaLAPACK group of 2 ranks: the same parent bit for bit, x* within
# test_ranks.py's bound (TAO's sums differ in order across storages, as from any start)
sc = out("sc2.h5")
run(BASE + ["-khgps_realizations", "2", "-khgps_output", sc], np_=2)
e2 = records(sc)
for k in e2:
    lam = min(a[k]["lowest_eigenvalue"], e2[k]["lowest_eigenvalue"])
    bound = (a[k]["gradient_norm"] + e2[k]["gradient_norm"]) / lam + 1e-13 * np.max(np.abs(a[k]["x"]))
    dx = np.max(np.abs(a[k]["x"] - e2[k]["x"]))
    check(all(a[k][q] == e2[k][q] for q in PARENT) and dx <= bound,
          f"(d) realization {k}, 1 rank vs one group of 2 (ScaLAPACK): the same parent, |dx*| = {dx:.1e} within {bound:.1e}")
# resume: 2 realizations, then 4 on the same file
res = out("resumed.h5")
run(BASE + ["-khgps_realizations", "2", "-khgps_output", res])
run(BASE + ["-khgps_realizations", "4", "-khgps_output", res])
c = records(res)
check(sorted(c) == [0, 1, 2, 3] and all(np.array_equal(a[k]["x"], c[k]["x"]) and all(a[k][q] == c[k][q] for q in PARENT) for k in a),
      "(d) a resumed run equals an uninterrupted one bit for bit")
# the random start is unchanged: -khgps_x0_amplitude alone and -khgps_start random give the same x*
r1, r2 = out("r1.h5"), out("r2.h5")
RB = ["-khgps_N", "80", "-khgps_nev", "3", "-khgps_x0_amplitude", "0.7", "-tao_max_it", "0", "-khgps_polish_its", "0"]
run(RB + ["-khgps_output", r1])
run(RB + ["-khgps_start", "random", "-khgps_output", r2])
u1, u2 = load(r1), load(r2)
check(np.array_equal(u1["x"], u2["x"]) and u1["params"]["start"] == b"random", "(d) -khgps_x0_amplitude alone is -khgps_start random, same x")
check(np.all(np.abs(u1["x"]) <= 0.7) and np.std(u1["x"]) > 0.3, "(d) the random start is uniform in [-a, a]")


# ---- (e) refusals ---------------------------------------------------------------------------
def refused(what, args, needle, np_=1):
    cmd = ([*MPIEXEC, "-n", str(np_)] if np_ > 1 else []) + [KHGPS] + args
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    lines = [l for l in p.stderr.splitlines() if l.strip() and (l.startswith("khgps") or "PETSC ERROR" in l)]
    check(p.returncode == 2 and len(lines) == 1 and lines[0].startswith("khgps: error: ") and needle in lines[0],
          f"(e) {what}: refused in one line naming {needle}", f"rc {p.returncode} stderr {p.stderr[:400]!r}")
    return p


i = BASE.index("-khgps_parent_temperature")
refused("resume with another temperature", BASE[:i + 1] + ["0.1"] + BASE[i + 2:] + ["-khgps_realizations", "5", "-khgps_output", res],
        "parent_temperature")
check(len(records(res)) == 4, "(e) the refused resume left the file as it was")
i = BASE.index("-khgps_equilibration_sweeps")
refused("resume with another sweep count", BASE[:i + 1] + ["400"] + BASE[i + 2:] + ["-khgps_realizations", "5", "-khgps_output", res],
        "equilibration_sweeps")
refused("resume of a thermal file from zero", ["-khgps_N", "120", "-khgps_nev", "5", "-khgps_J", "0.3", "-khgps_seed", "3", "-khgps_realizations", "5", "-khgps_output", res], "start")
SMALL = ["-khgps_N", "40", "-khgps_nev", "3", "-khgps_output", out("never.h5")]
refused("a temperature with start zero", SMALL + ["-khgps_parent_temperature", "0.1"], "-khgps_parent_temperature is for -khgps_start thermal")
refused("sweeps with a random start", SMALL + ["-khgps_x0_amplitude", "0.5", "-khgps_equilibration_sweeps", "100"], "-khgps_equilibration_sweeps is for -khgps_start thermal")
refused("start thermal without a temperature", SMALL + ["-khgps_start", "thermal"], "needs -khgps_parent_temperature")
refused("a temperature <= 0", SMALL + ["-khgps_start", "thermal", "-khgps_parent_temperature", "0"], "-khgps_parent_temperature 0")
refused("an absurd temperature", SMALL + ["-khgps_start", "thermal", "-khgps_parent_temperature", "1e249"], "-khgps_parent_temperature 1e+249: the parent's energy")
refused("start thermal with an amplitude", SMALL + ["-khgps_start", "thermal", "-khgps_parent_temperature", "0.1", "-khgps_x0_amplitude", "0.2"], "-khgps_x0_amplitude")
refused("start random without an amplitude", SMALL + ["-khgps_start", "random"], "-khgps_start random needs -khgps_x0_amplitude")
refused("start zero with an amplitude", SMALL + ["-khgps_start", "zero", "-khgps_x0_amplitude", "0.2"], "-khgps_start zero")
refused("an unknown start", SMALL + ["-khgps_start", "hot"], "hot")
refused("adapt + measure > sweeps", SMALL + ["-khgps_start", "thermal", "-khgps_parent_temperature", "0.1", "-khgps_equilibration_sweeps", "100",
                                             "-khgps_adapt_sweeps", "60", "-khgps_measure_sweeps", "50"], "-khgps_adapt_sweeps 60")
refused("thermal with sparse couplings", SMALL + ["-khgps_coupling", "sparse", "-khgps_connectivity", "5", "-khgps_start", "thermal",
                                                  "-khgps_parent_temperature", "0.1"], "dense couplings")
check(not os.path.exists(out("never.h5")), "(e) refused runs wrote nothing")
done()
