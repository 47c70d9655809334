#!/usr/bin/python3
"""The low-frequency tail of one parameter point over a ladder of sizes N.

  /usr/bin/python3 analysis/khgps_tail.py FILE... [--json] [--figure OUT.png] [--csv OUT.csv]
  /usr/bin/python3 analysis/khgps_tail.py --campaign results/tail [--csv results/tail.csv] [--figure figures/tail.png]

FILE: khgps run files or their digests (analysis/khgps_digest.py), any mix, of one parameter point
(J, h, kappa0, kappa_min, A) at one or several N; they are grouped by N (files of one N are joined,
a realization seen twice is used once). --campaign takes every point folder of a campaign
(runs/tail.sh: FOLDER/J<J>_h<h>_k<kappa0>/N<N>.h5) and writes one table and one figure (a row of
panels per point). Only realizations at a minimum with computed eigenvalues are used; the report
says how many were left out.

Per N:
  * <omega_min>: the mean lowest frequency with its standard error.
  * A_g from the softest mode (Lerner, Duering, Bouchbinder, PRL 117, 035501 (2016)): if
    D(omega) = A omega^beta per oscillator below omega_min's range and the soft modes are
    independent, P(omega_min > w) = exp(-N A w^(beta+1)/(beta+1)). At beta = 4 the maximum
    likelihood is A_g = 5 R / (N sum w^5), error A_g/sqrt(R); beta free is the Weibull maximum
    likelihood (shape k = beta + 1), errors from the inverse observed information.
  * The window fit of D(omega) (khgps_analysis.fit_power_law: [0, omega_c/2], A_g at beta = 4
    and the free beta, bootstrap errors over realizations).
  * The local exponent d ln C / d ln omega - 1 of the cumulative count C(omega) (modes below omega
    per oscillator), on a grid of the pooled frequencies where C doubles, up to the completeness
    cutoff, with 16-84% bootstrap bands over realizations.
Across N: beta from <omega_min> ~ N^(-1/(beta+1)), a weighted least-squares line of
ln <omega_min> against ln N (slope s = -1/(beta+1); its error scaled up by sqrt(chi^2/dof) when
that exceeds 1).
The K lowest modes (k_modes_fit, k_modes_ladder): one maximum likelihood over all realizations of
all N of beta and A, each realization's K lowest frequencies taken as the lowest K points of a
Poisson process of intensity N A omega^beta; K = 1, 2, 4, ... while beta(K) stays within 2.5 sigma
of beta(K/2); A_N per N at the joint beta. Table columns kmodes_* (the chosen K) and kmodes1_* (K = 1).

--json makes the last line one JSON object: {"sizes": [{"N", "realizations", "left_out",
"omega_min_mean", "omega_min_err", "A_g", "A_g_err", "beta", "beta_err", "A", "A_err",
"window": {...}}, ...], "scaling": {"beta", "beta_err", "slope", "slope_err", "chi2_dof", "pairs": [{"N1", "N2", "beta",
"beta_err"}, ...]}} (pairs: the same exponent between consecutive sizes)."""
import argparse
import csv
import glob
import json
import math
import os
import re
import sys

import numpy as np
from scipy import optimize

from . import digest as kd
from . import spectra as ka

POINT_KEYS = ("J", "h", "kappa0", "kappa_min", "A")


class TailError(Exception):
    pass


# ----------------------------------------------------------------------------------------------
# Reading: any mix of run files and digests, grouped by N


def read_any(path):
    """A Digest of a run file or digest file (DigestError if neither)."""
    if kd.is_digest(path):
        return kd.read(path)
    params, rows, version = kd.rows_of_run_file(path)
    d = kd.Digest(params, params["nev"])
    d.add(rows, path)
    if version:
        d.versions.add(version)
    return d


def group_by_size(paths):
    """{N: (Digest joined over the files of that N, [files])}. All files must be of one point."""
    sizes, ref = {}, None
    for p in paths:
        d = read_any(p)
        point = tuple(float(d.params.get(k, 0.0)) for k in POINT_KEYS)
        if ref is None:
            ref = (point, p)
        elif point != ref[0]:
            diff = ", ".join(f"{k} {a:g} vs {b:g}" for k, a, b in zip(POINT_KEYS, ref[0], point) if a != b)
            raise TailError(f"{p} is another parameter point than {ref[1]} ({diff}); one point per call")
        if d.N in sizes:
            joined, files = sizes[d.N]
            joined.merge(d.params, list(d.rows()), p)
            files.append(p)
        else:
            sizes[d.N] = (d, [p])
    if not sizes:
        raise TailError("no file given")
    return dict(sorted(sizes.items()))


def run_of_digest(d, files):
    """A khgps_analysis.Run of a digest's minima (kappa and x* are not kept: empty arrays), so that
    the D(omega) histogram and the window fit of khgps_analysis apply unchanged."""
    lam, pr, ids = [], [], []
    seed = int(d.params.get("seed", 0))
    for k, _, ev, p in d.spectra(minima_only=True):
        lam.append(ev)
        pr.append(p)
        ids.append((seed, k))
    R = len(ids)
    return ka.Run(params=dict(d.params), files=list(files), kappa=np.empty((R, 0)), x=np.empty((R, 0)),
                  eigenvalues=lam, participation=pr, ids=ids, status_counts=d.status_counts())


# ----------------------------------------------------------------------------------------------
# The softest mode: P(omega_min > w) = exp(-N A w^k / k), k = beta + 1


def _log_sum_pow(logw, k):
    """log sum_i w_i^k, computed stably."""
    a = k * logw
    m = a.max()
    return m + math.log(np.exp(a - m).sum())


def softest_mode_fit(w, N, beta=None):
    """Maximum likelihood of A (and beta, if None) from the lowest frequencies w of R
    realizations of N oscillators. Returns dict A, A_err, beta, beta_err (beta_err 0 if fixed)."""
    w = np.asarray(w, float)
    w = w[np.isfinite(w) & (w > 0)]
    R = len(w)
    nan = {"A": np.nan, "A_err": np.nan, "beta": np.nan if beta is None else float(beta), "beta_err": np.nan}
    if R < 2:
        return nan
    logw = np.log(w)
    S1 = logw.sum()
    if beta is not None:
        k = beta + 1.0
        A = k * R / N * math.exp(-_log_sum_pow(logw, k))
        return {"A": A, "A_err": A / math.sqrt(R), "beta": float(beta), "beta_err": 0.0}

    def score(k):  # d/dk of the profile log-likelihood, divided by R; decreasing in k
        a = k * logw
        e = np.exp(a - a.max())
        return 1.0 / k + S1 / R - (e * logw).sum() / e.sum()

    lo, hi = 1e-3, 1.0
    while score(hi) > 0:
        hi *= 2
        if hi > 1e4:
            return nan
    if score(lo) < 0:
        return nan
    k = optimize.brentq(score, lo, hi, xtol=1e-13, rtol=1e-13)
    logT = _log_sum_pow(logw, k)
    phi = math.log(R) - logT  # log theta, theta = N A / k = R / sum w^k
    a = k * logw
    e = np.exp(a - a.max())
    m1 = (e * logw).sum() / e.sum()
    m2 = (e * logw**2).sum() / e.sum()
    # observed information in (k, phi); theta sum w^k = R at the maximum
    H = np.array([[R / k**2 + R * m2, R * m1], [R * m1, R]])
    cov = np.linalg.inv(H)
    g = np.array([1.0 / k, 1.0])  # log A = log k + phi - log N
    A = k * math.exp(phi) / N
    return {"A": A, "A_err": A * math.sqrt(g @ cov @ g), "beta": k - 1.0, "beta_err": math.sqrt(cov[0, 0])}


# ----------------------------------------------------------------------------------------------
# The k lowest modes: a Poisson process of intensity N A omega^beta, jointly over realizations and N

K_LADDER = (1, 2, 4, 8, 16, 32, 64)
K_STOP_SIGMA = 2.5  # the K rule: stop when beta(K) leaves beta(K/2) by more than this many sigma


def lowest_modes(run, K):
    """[R, K] array of the K lowest frequencies of each realization (sorted), realizations with
    fewer than K positive eigenvalues left out."""
    rows = []
    for lam in run.eigenvalues:
        lam = np.asarray(lam, float)
        if len(lam) >= K and lam[K - 1] > 0 and lam[0] > 0:
            rows.append(np.sqrt(np.sort(lam[:K])))
    return np.array(rows).reshape(-1, K)


def k_modes_fit(samples, K):
    """Maximum likelihood of beta and A from the K lowest frequencies of every realization of
    every size: each realization is the lowest K points of a Poisson process of intensity
    N A omega^beta (Lambda(w) = N A w^(beta+1)/(beta+1)), log-likelihood per realization
    K log(N A) + beta sum_i log w_i - Lambda(w_K). samples: {N: [R, >=K] sorted frequencies}.
    One beta and one A for all N (the N-scaling and the shape of the K modes together).
    Errors: the inverse observed information in (beta, log A). Also per N: A_N at the joint beta
    (error A_N/sqrt(R_N K), beta fixed), and beta_N, A free per N (the shape of the K modes alone).
    Returns dict K, beta, beta_err, A, A_err, loglik, realizations, per_N {N: {...}}."""
    data = {N: np.asarray(W, float)[:, :K] for N, W in samples.items() if len(W)}
    nan = {"K": K, "beta": np.nan, "beta_err": np.nan, "A": np.nan, "A_err": np.nan, "per_N": {}, "realizations": 0}
    if not data:
        return nan
    logw = {N: np.log(W) for N, W in data.items()}
    nN = {N: W.shape[0] * K for N, W in data.items()}
    n = sum(nN.values())
    L = sum(lw.sum() for lw in logw.values())
    lwK = {N: lw[:, K - 1] for N, lw in logw.items()}

    def moments(k, Ns):  # log S and S'/S, S''/S with S(k) = sum_N N sum_r w_K^k
        a = np.concatenate([math.log(N) + k * lwK[N] for N in Ns])
        x = np.concatenate([lwK[N] for N in Ns])
        m = a.max()
        e = np.exp(a - m)
        s = e.sum()
        return m + math.log(s), (e * x).sum() / s, (e * x * x).sum() / s

    def solve(Ns):
        nn = sum(nN[N] for N in Ns)
        LL = sum(logw[N].sum() for N in Ns)

        def score(k):  # d/dk of the profile log-likelihood over n
            return 1.0 / k - moments(k, Ns)[1] + LL / nn

        lo, hi = 0.05, 2.0
        while score(hi) > 0:
            hi *= 2
            if hi > 1e3:
                return None
        if score(lo) < 0:
            return None
        k = optimize.brentq(score, lo, hi, xtol=1e-13, rtol=1e-13)
        logS, m1, m2 = moments(k, Ns)
        logA = math.log(nn * k) - logS  # theta = A/k: theta S = n at the maximum
        # observed information in (k, phi = log A); l = n phi + (k-1) L - e^phi S(k)/k + const
        I_kk = nn * (m2 - 2 * m1 / k + 2 / k**2)
        I_kp = nn * (m1 - 1 / k)
        H = np.array([[I_kk, I_kp], [I_kp, nn]])
        cov = np.linalg.inv(H)
        loglik = nn * logA + sum(nN[N] * math.log(N) for N in Ns) + (k - 1) * LL - nn
        return k, logA, cov, loglik

    r = solve(list(data))
    if r is None:
        return nan
    k, logA, cov, loglik = r
    A = math.exp(logA)
    out = {"K": K, "beta": k - 1.0, "beta_err": math.sqrt(cov[0, 0]), "A": A, "A_err": A * math.sqrt(cov[1, 1]),
           "loglik": loglik, "realizations": sum(W.shape[0] for W in data.values()), "per_N": {}}
    loglik_free = 0.0
    for N in data:
        S = math.exp(moments(k, [N])[0])
        AN = nN[N] * k / S
        q = {"A": AN, "A_err": AN / math.sqrt(nN[N]), "beta": np.nan, "beta_err": np.nan, "A_free": np.nan}
        rN = solve([N])
        if rN is not None:
            q.update(beta=rN[0] - 1.0, beta_err=math.sqrt(rN[2][0, 0]), A_free=math.exp(rN[1]))
            loglik_free += rN[3]
        q["sigma"] = (AN - A) / q["A_err"]
        out["per_N"][N] = q
    # A the same at every N (the N-scaling): chi^2 of A_N at the joint beta, and the likelihood ratio
    # against beta and A free per N
    out["A_chi2"] = float(sum(q["sigma"] ** 2 for q in out["per_N"].values()))
    out["A_dof"] = len(data) - 1
    out["lr_free"] = 2 * (loglik_free - loglik) if len(data) > 1 else np.nan
    return out


def k_modes_ladder(samples, Ks=K_LADDER, stop_sigma=K_STOP_SIGMA):
    """k_modes_fit for K = 1, 2, 4, ... (as far as every realization has K eigenvalues) and the K
    rule: K grows while beta(K) agrees with beta(K/2) within stop_sigma sigma of their difference
    (nested maximum-likelihood estimates under one power law: Var(beta_K/2 - beta_K) =
    Var(beta_K/2) - Var(beta_K)); the chosen K is the last before the first disagreement.
    Returns dict fits [k_modes_fit ...], z [None, z(2), z(4), ...], K, chosen (the fit at K)."""
    nmax = min(W.shape[1] for W in samples.values())
    fits, z = [], []
    for K in Ks:
        if K > nmax:
            break
        f = k_modes_fit(samples, K)
        if not np.isfinite(f["beta"]):
            break
        if fits:
            p = fits[-1]
            var = p["beta_err"] ** 2 - f["beta_err"] ** 2
            z.append((f["beta"] - p["beta"]) / math.sqrt(var) if var > 0 else np.inf)
        else:
            z.append(None)
        fits.append(f)
    chosen = 0
    for i in range(1, len(fits)):
        if abs(z[i]) > stop_sigma:
            break
        chosen = i
    return {"fits": fits, "z": z, "K": fits[chosen]["K"] if fits else 0, "chosen": fits[chosen] if fits else None}


def synthetic_modes(rng, N, R, A, beta, K, omega_x=math.inf):
    """[R, K] lowest frequencies of R realizations of a Poisson process of intensity N D(omega),
    D = A omega^beta below omega_x and A omega_x^(beta-1) omega (linear, continuous) above: unit
    Poisson arrivals E_1 < ... < E_K mapped through the inverse of Lambda(omega) = N int_0^omega D."""
    E = np.cumsum(rng.exponential(size=(R, K)), axis=1)
    k = beta + 1.0
    w = (k * E / (N * A)) ** (1.0 / k)
    if np.isfinite(omega_x):
        Lx = N * A * omega_x**k / k
        hi = E > Lx
        w[hi] = np.sqrt(omega_x**2 + 2 * (E[hi] - Lx) / (N * A * omega_x ** (beta - 1)))
    return w


# ----------------------------------------------------------------------------------------------
# Local exponent of the cumulative count


def local_exponent(run, m0=8, n_boot=200, seed=0):
    """d ln C / d ln omega - 1 of the cumulative count C(omega) per oscillator, between grid points
    omega_j = the (m0 2^j)-th lowest pooled frequency (below the completeness cutoff): Delta ln C is
    about ln 2 per step. Bands: 16-84% of a bootstrap over realizations on the same grid.
    Returns dict omega (geometric midpoints), beta, lo, hi, grid."""
    wc = ka.completeness_cutoff(run)
    oms = [om[om <= wc] for om in run.omegas()]
    pooled = np.sort(np.concatenate(oms))
    ranks = []
    m = m0
    while m <= len(pooled):
        ranks.append(m)
        m *= 2
    if len(pooled) and (not ranks or ranks[-1] < len(pooled)):
        ranks.append(len(pooled))
    grid = np.unique(pooled[np.array(ranks) - 1]) if ranks else np.empty(0)
    empty = {"omega": np.empty(0), "beta": np.empty(0), "lo": np.empty(0), "hi": np.empty(0), "grid": grid}
    if len(grid) < 2:
        return empty
    counts = np.array([np.searchsorted(np.sort(o), grid, side="right") for o in oms])  # [R, G]

    def exponents(c):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.diff(np.log(c)) / np.diff(np.log(grid)) - 1.0

    beta = exponents(counts.sum(0).astype(float))
    rng = np.random.default_rng(seed)
    R = len(oms)
    boots = np.array([exponents(counts[rng.integers(0, R, R)].sum(0).astype(float)) for _ in range(n_boot)])
    lo, hi = np.nanpercentile(boots, [16, 84], axis=0) if n_boot else (beta * np.nan, beta * np.nan)
    return {"omega": np.sqrt(grid[1:] * grid[:-1]), "beta": beta, "lo": lo, "hi": hi, "grid": grid}


# ----------------------------------------------------------------------------------------------
# Across N


def size_scaling(Ns, means, errs):
    """beta from <omega_min> ~ N^(-1/(beta+1)): weighted least squares of ln<omega_min> on ln N.
    Returns dict slope, slope_err, beta, beta_err, chi2_dof (NaNs with fewer than 2 sizes)."""
    Ns, means, errs = (np.asarray(a, float) for a in (Ns, means, errs))
    ok = np.isfinite(means) & np.isfinite(errs) & (errs > 0) & (means > 0)
    Ns, means, errs = Ns[ok], means[ok], errs[ok]
    out = {"slope": np.nan, "slope_err": np.nan, "beta": np.nan, "beta_err": np.nan, "chi2_dof": np.nan, "sizes": len(Ns)}
    if len(Ns) < 2:
        return out
    x, y, s = np.log(Ns), np.log(means), errs / means
    W = 1.0 / s**2
    X = np.column_stack([np.ones_like(x), x])
    cov = np.linalg.inv(X.T @ (W[:, None] * X))
    coef = cov @ (X.T @ (W * y))
    dof = len(x) - 2
    chi2 = float(np.sum(W * (y - X @ coef) ** 2))
    slope, slope_err = float(coef[1]), float(math.sqrt(cov[1, 1]))
    if dof > 0:
        out["chi2_dof"] = chi2 / dof
        slope_err *= max(1.0, math.sqrt(chi2 / dof))
    out.update(slope=slope, slope_err=slope_err)
    if slope < 0:
        out["beta"] = -1.0 / slope - 1.0
        out["beta_err"] = slope_err / slope**2
    return out


# ----------------------------------------------------------------------------------------------
# One point


def _f(v):
    return None if v is None or not np.isfinite(v) else float(v)


def analyze_point(sizes, n_boot=400, seed=0):
    """All numbers of one point: {'params', 'sizes': [per-N dicts], 'scaling', 'runs', 'local'}."""
    rows, runs, local = [], {}, {}
    params = None
    for N, (d, files) in sizes.items():
        params = params or d.params
        run = run_of_digest(d, files)
        counts = d.status_counts()
        used = run.n_spectra
        left = {k: v for k, v in counts.items() if k != "minimum" and v}
        no_pairs = run.n_ok - used
        if no_pairs:
            left["no_eigenvalues"] = no_pairs
        row = {"N": N, "realizations": used, "left_out": left, "files": files}
        if used >= 2:
            w = np.array([math.sqrt(max(lam[0], 0.0)) for lam in run.eigenvalues if len(lam)])
            row["omega_min_mean"] = float(w.mean())
            row["omega_min_err"] = float(w.std(ddof=1) / math.sqrt(len(w)))
            s4 = softest_mode_fit(w, N, beta=4.0)
            sf = softest_mode_fit(w, N)
            row.update(A_g=s4["A"], A_g_err=s4["A_err"], beta=sf["beta"], beta_err=sf["beta_err"],
                       A=sf["A"], A_err=sf["A_err"])
            x2 = d.cols["x2_mean"][(d.cols["status"] == 0)]
            row["x2_mean"] = float(x2.mean())
            row["x2_err"] = float(x2.std(ddof=1) / math.sqrt(len(x2))) if len(x2) > 1 else np.nan
            try:
                fit = ka.fit_power_law(run, n_boot=n_boot, seed=seed)
                row["window"] = {"wmin": fit.wmin, "wmax": fit.wmax, "cutoff": fit.cutoff, "modes": fit.n_modes,
                                 "A_g": fit.A_g, "A_g_err": fit.A_g_err, "beta": fit.beta, "beta_err": fit.beta_err,
                                 "errors": fit.error_method}
            except ValueError as e:
                row["window"] = {"error": str(e)}
            local[N] = local_exponent(run, seed=seed)
            runs[N] = run
        rows.append(row)
    ok = [r for r in rows if "omega_min_mean" in r]
    samples = {N: lowest_modes(run, min(len(lam) for lam in run.eigenvalues)) for N, run in runs.items()}
    kmodes = k_modes_ladder(samples) if samples and min(W.shape[1] for W in samples.values()) >= 1 else None
    scaling = size_scaling([r["N"] for r in ok], [r["omega_min_mean"] for r in ok], [r["omega_min_err"] for r in ok])
    scaling["pairs"] = []  # the same between consecutive sizes: how the exponent moves with N
    for r1, r2 in zip(ok, ok[1:]):
        sp = size_scaling([r1["N"], r2["N"]], [r1["omega_min_mean"], r2["omega_min_mean"]],
                          [r1["omega_min_err"], r2["omega_min_err"]])
        scaling["pairs"].append({"N1": r1["N"], "N2": r2["N"], "beta": sp["beta"], "beta_err": sp["beta_err"]})
    return {"params": params, "sizes": rows, "scaling": scaling, "runs": runs, "local": local, "kmodes": kmodes}


def point_label(p):
    return f"J={p['J']:g} h={p['h']:g} kappa0={p['kappa0']:g}"


def format_point(res):
    p = res["params"]
    fm = ka.fmt_pm
    out = [f"khgps tail: {point_label(p)}  (A={p['A']:g}, kappa_min={p.get('kappa_min', 0):g}, nev={int(p['nev'])})"]
    out.append(f"{'N':>6} {'R':>5} {'left out':>9}  {'<omega_min>':>18}  {'A_g (omega_min)':>22}  {'beta (omega_min)':>16}"
               f"  {'A_g (window)':>22}  {'beta (window)':>14}  window")
    for r in res["sizes"]:
        lo = sum(r["left_out"].values())
        if "omega_min_mean" not in r:
            out.append(f"{r['N']:>6} {r['realizations']:>5} {lo:>9}  (fewer than 2 realizations with eigenvalues)")
            continue
        w = r["window"]
        win = (f"{fm(w['A_g'], w['A_g_err']):>22}  {fm(w['beta'], w['beta_err']):>14}  [{w['wmin']:.3g}, {w['wmax']:.3g}]"
               f" {w['modes']} modes" if "A_g" in w else f"{'':>22}  {'':>14}  {w.get('error', '')}")
        out.append(f"{r['N']:>6} {r['realizations']:>5} {lo:>9}  {fm(r['omega_min_mean'], r['omega_min_err']):>18}"
                   f"  {fm(r['A_g'], r['A_g_err']):>22}  {fm(r['beta'], r['beta_err']):>16}  {win}")
        if r["left_out"]:
            out.append(f"{'':>6} left out: " + ", ".join(f"{k} {v}" for k, v in sorted(r["left_out"].items())))
    for N, le in res["local"].items():
        if len(le["beta"]):
            pts = "  ".join(f"{om:.3g}:{b:.2f}[{lo:.2f},{hi:.2f}]" for om, b, lo, hi in
                            zip(le["omega"], le["beta"], le["lo"], le["hi"]))
            out.append(f"local exponent N={N}: omega:beta[16%,84%]  {pts}")
    s = res["scaling"]
    if np.isfinite(s["beta"]):
        out.append(f"<omega_min> ~ N^({fm(s['slope'], s['slope_err'])}) over {s['sizes']} sizes: beta = "
                   f"{fm(s['beta'], s['beta_err'])}" + (f"  (chi2/dof {s['chi2_dof']:.2f})" if np.isfinite(s["chi2_dof"]) else ""))
        if len(s["pairs"]) > 1:
            out.append("  between consecutive sizes: " + ",  ".join(
                f"{q['N1']}-{q['N2']}: {fm(q['beta'], q['beta_err'])}" for q in s["pairs"]))
    else:
        out.append(f"<omega_min> against N: needs 2 sizes or more ({s['sizes']} usable)")
    km = res.get("kmodes")
    if km and km["fits"]:
        out.append("K lowest modes, joint maximum likelihood over all N (one beta, one A): K, beta, z = the step "
                   "from K/2 in sigma, chi2 of A_N at the joint beta against one A")
        for f, z in zip(km["fits"], km["z"]):
            out.append(f"  K={f['K']:<3d} beta {fm(f['beta'], f['beta_err']):>16}  z {'' if z is None else f'{z:+.1f}':>6}"
                       f"  A_N chi2 {f['A_chi2']:.1f}/{f['A_dof']}  " + "  ".join(
                           f"{N}: A {q['A']:.4g}({q['sigma']:+.1f}) beta {fm(q['beta'], q['beta_err'])}"
                           for N, q in f["per_N"].items()))
        c = km["chosen"]
        out.append(f"K rule (|z| <= {K_STOP_SIGMA:g}): K = {km['K']}, beta = {fm(c['beta'], c['beta_err'])}"
                   f" ({(c['beta'] - 4) / c['beta_err']:+.1f} sigma from 4), A_N chi2/dof {c['A_chi2']:.1f}/{c['A_dof']}")
    return "\n".join(out)


def json_of_point(res):
    sizes = []
    for r in res["sizes"]:
        d = {k: (_f(v) if isinstance(v, (float, np.floating)) else v) for k, v in r.items() if k not in ("files",)}
        if "window" in d:
            d["window"] = {k: (_f(v) if isinstance(v, (float, np.floating)) else v) for k, v in d["window"].items()}
        le = res["local"].get(r["N"])
        if le is not None:
            d["local_exponent"] = {k: [_f(v) for v in le[k]] for k in ("omega", "beta", "lo", "hi")}
        sizes.append(d)
    p = res["params"]
    km = res.get("kmodes")
    kj = None
    if km and km["fits"]:
        kj = {"K": km["K"], "z": [_f(z) if z is not None else None for z in km["z"]],
              "fits": [{"K": f["K"], "beta": _f(f["beta"]), "beta_err": _f(f["beta_err"]), "A": _f(f["A"]),
                        "A_err": _f(f["A_err"]), "A_chi2": _f(f["A_chi2"]),
                        "per_N": {str(N): {k: _f(v) for k, v in q.items()} for N, q in f["per_N"].items()}}
                       for f in km["fits"]]}
    return {"point": {k: float(p[k]) for k in POINT_KEYS if k in p}, "sizes": sizes, "kmodes": kj,
            "scaling": {k: (_f(v) if isinstance(v, float) else
                            [{kk: _f(vv) if isinstance(vv, float) else vv for kk, vv in q.items()} for q in v]
                            if k == "pairs" else v) for k, v in res["scaling"].items()}}


CSV_COLUMNS = ["J", "h", "kappa0", "N", "realizations", "left_out", "omega_min_mean", "omega_min_err",
               "A_g", "A_g_err", "beta", "beta_err", "window_wmax", "window_modes", "window_A_g",
               "window_A_g_err", "window_beta", "window_beta_err", "x2_mean", "x2_err",
               "scaling_beta", "scaling_beta_err",
               "kmodes_K", "kmodes_beta", "kmodes_beta_err", "kmodes_A", "kmodes_A_err", "kmodes_A_chi2_dof",
               "kmodes_A_N", "kmodes_A_N_err", "kmodes_A_N_sigma", "kmodes_beta_N", "kmodes_beta_N_err",
               "kmodes1_beta", "kmodes1_beta_err", "kmodes1_A_N", "kmodes1_A_N_err", "kmodes1_A_N_sigma"]


def csv_rows(res):
    p, s = res["params"], res["scaling"]
    out = []
    for r in res["sizes"]:
        w = r.get("window", {})
        row = {"J": p["J"], "h": p["h"], "kappa0": p["kappa0"], "N": r["N"], "realizations": r["realizations"],
               "left_out": sum(r["left_out"].values()),
               "window_wmax": w.get("wmax"), "window_modes": w.get("modes"), "window_A_g": w.get("A_g"),
               "window_A_g_err": w.get("A_g_err"), "window_beta": w.get("beta"), "window_beta_err": w.get("beta_err"),
               "scaling_beta": s["beta"], "scaling_beta_err": s["beta_err"]}
        for k in ("omega_min_mean", "omega_min_err", "A_g", "A_g_err", "beta", "beta_err", "x2_mean", "x2_err"):
            row[k] = r.get(k)
        km = res.get("kmodes")
        if km and km["fits"]:
            for pre, f in (("kmodes", km["chosen"]), ("kmodes1", km["fits"][0])):
                row[pre + "_beta"], row[pre + "_beta_err"] = f["beta"], f["beta_err"]
                q = f["per_N"].get(r["N"], {})
                row[pre + "_A_N"], row[pre + "_A_N_err"], row[pre + "_A_N_sigma"] = q.get("A"), q.get("A_err"), q.get("sigma")
                if pre == "kmodes":
                    row.update(kmodes_K=f["K"], kmodes_A=f["A"], kmodes_A_err=f["A_err"],
                               kmodes_A_chi2_dof=f["A_chi2"] / f["A_dof"] if f["A_dof"] else None,
                               kmodes_beta_N=q.get("beta"), kmodes_beta_N_err=q.get("beta_err"))
        out.append({k: ("" if v is None or (isinstance(v, float) and not np.isfinite(v)) else
                        (f"{v:.6g}" if isinstance(v, (float, np.floating)) else v)) for k, v in row.items()})
    return out


# ----------------------------------------------------------------------------------------------
# Figure


def draw_point(axes, res, n_bins_per_decade=6):
    """Five panels of one point: D(omega) per N, the local exponent per N, <omega_min> against N,
    A_g against N (softest mode at beta = 4; K lowest modes at the joint beta), beta against N
    (softest mode, K lowest modes per N, the joint K-mode fit and the <omega_min>(N) scaling)."""
    ax_d, ax_b, ax_w, ax_a, ax_e = axes
    colors = {}
    for N, run in res["runs"].items():
        d = ka.density_of_states(run, bins_per_decade=n_bins_per_decade)
        ok = d["counts"] > 0
        line = ax_d.errorbar(d["centers"][ok], d["D"][ok], yerr=d["err"][ok], fmt="o-", ms=3, lw=0.8,
                             capsize=0, label=f"N = {N} ({run.n_spectra})")
        colors[N] = line[0].get_color()
    ax_d.set_xscale("log")
    ax_d.set_yscale("log")
    xl, yl = ax_d.get_xlim(), ax_d.get_ylim()
    for pw, ls in ((4, "--"), (2, ":")):
        w = np.geomspace(*xl, 20)
        w0 = math.sqrt(xl[0] * xl[1])
        ax_d.plot(w, math.sqrt(yl[0] * yl[1]) * (w / w0) ** pw, ls, color="gray", lw=1, label=rf"$\omega^{pw}$")
    ax_d.set_xlim(xl)
    ax_d.set_ylim(yl)
    ax_d.set_xlabel(r"$\omega$")
    ax_d.set_ylabel(r"$D(\omega)$ per oscillator")
    ax_d.set_title(point_label(res["params"]), fontsize=9)
    ax_d.legend(fontsize=7)
    for N, le in res["local"].items():
        if len(le["beta"]):
            ax_b.plot(le["omega"], le["beta"], "o-", ms=3, lw=0.8, color=colors.get(N), label=f"N = {N}")
            ax_b.fill_between(le["omega"], le["lo"], le["hi"], color=colors.get(N), alpha=0.2, lw=0)
    for b in (2, 4):
        ax_b.axhline(b, color="gray", ls="--" if b == 4 else ":", lw=1)
    ax_b.set_xscale("log")
    ax_b.set_ylim(0, 7)
    ax_b.set_xlabel(r"$\omega$")
    ax_b.set_ylabel(r"local exponent $d\ln C/d\ln\omega - 1$")
    ok = [r for r in res["sizes"] if "omega_min_mean" in r]
    if ok:
        Ns = np.array([r["N"] for r in ok], float)
        m = np.array([r["omega_min_mean"] for r in ok])
        e = np.array([r["omega_min_err"] for r in ok])
        ax_w.errorbar(Ns, m, yerr=e, fmt="o", color="k", ms=4, capsize=2, label=r"$\langle\omega_{min}\rangle$")
        NN = np.geomspace(Ns.min() / 1.3, Ns.max() * 1.3, 20)
        for p, ls, lab in ((5, "--", r"$N^{-1/5}$ ($\omega^4$)"), (3, ":", r"$N^{-1/3}$ ($\omega^2$)")):
            ax_w.plot(NN, m[0] * (NN / Ns[0]) ** (-1.0 / p), ls, color="gray", lw=1, label=lab)
        s = res["scaling"]
        if np.isfinite(s["beta"]):
            c = math.exp(np.mean(np.log(m) - s["slope"] * np.log(Ns)))
            ax_w.plot(NN, c * NN ** s["slope"], "-", color="C3", lw=1,
                      label=rf"fit: $\beta$ = {s['beta']:.2f} $\pm$ {s['beta_err']:.2f}")
    ax_w.set_xscale("log")
    ax_w.set_yscale("log")
    ax_w.set_xlabel("N")
    ax_w.set_ylabel(r"$\langle\omega_{min}\rangle$")
    ax_w.legend(fontsize=7)
    draw_vs_size(ax_a, ax_e, res)


def draw_vs_size(ax_a, ax_e, res):
    """A_g and beta against N: the softest mode (the table's A_g, beta) and the K lowest modes."""
    ok = [r for r in res["sizes"] if "omega_min_mean" in r]
    km = res.get("kmodes")
    if not ok:
        return
    Ns = np.array([r["N"] for r in ok], float)
    ag = np.array([r["A_g"] for r in ok])
    age = np.array([r["A_g_err"] for r in ok])
    ax_a.errorbar(Ns, ag, yerr=age, fmt="o", color="k", ms=4, capsize=2, label=r"softest mode, $\beta$ = 4")
    wm = np.sum(ag / age**2) / np.sum(1 / age**2)
    chi2 = float(np.sum(((ag - wm) / age) ** 2))
    ax_a.axhline(wm, color="k", lw=0.8, ls="--", label=rf"weighted mean, $\chi^2$ = {chi2:.1f}/{len(ag) - 1}")
    ax_a.set_xscale("log")
    ax_a.set_xlabel("N")
    ax_a.set_ylabel(r"$A_g$ (softest mode, $\beta$ = 4)")
    if km and km["fits"]:
        c = km["chosen"]
        q = [c["per_N"][r["N"]] for r in ok if r["N"] in c["per_N"]]
        Nq = np.array([r["N"] for r in ok if r["N"] in c["per_N"]], float)
        tw = ax_a.twinx()
        tw.errorbar(Nq * 1.08, [v["A"] for v in q], yerr=[v["A_err"] for v in q], fmt="s", color="C3", ms=4,
                    capsize=2, label=rf"K = {c['K']} modes, $\beta$ = {c['beta']:.2f}, $\chi^2$ = {c['A_chi2']:.1f}/{c['A_dof']}")
        tw.axhline(c["A"], color="C3", lw=0.8, ls=":")
        tw.set_ylabel(rf"$A$ (K = {c['K']} lowest modes, $\beta$ = {c['beta']:.2f})", color="C3")
        tw.tick_params(axis="y", colors="C3")
        tw.legend(fontsize=7, loc="lower left")
    ax_a.legend(fontsize=7, loc="upper right")
    b = np.array([r["beta"] for r in ok])
    be = np.array([r["beta_err"] for r in ok])
    ax_e.errorbar(Ns, b, yerr=be, fmt="o", color="k", ms=4, capsize=2, label="softest mode (Weibull), per N")
    NN = np.array([Ns.min() / 1.3, Ns.max() * 1.3])
    s = res["scaling"]
    if np.isfinite(s["beta"]):
        ax_e.fill_between(NN, s["beta"] - s["beta_err"], s["beta"] + s["beta_err"], color="gray", alpha=0.25, lw=0,
                          label=rf"$\langle\omega_{{min}}\rangle(N)$: {s['beta']:.2f} $\pm$ {s['beta_err']:.2f}")
    if km and km["fits"]:
        c = km["chosen"]
        Nq = np.array(sorted(c["per_N"]), float)
        ax_e.errorbar(Nq * 1.08, [c["per_N"][N]["beta"] for N in sorted(c["per_N"])],
                      yerr=[c["per_N"][N]["beta_err"] for N in sorted(c["per_N"])], fmt="s", color="C3", ms=4,
                      capsize=2, label=f"K = {c['K']} modes, per N")
        ax_e.fill_between(NN, c["beta"] - c["beta_err"], c["beta"] + c["beta_err"], color="C3", alpha=0.3, lw=0,
                          label=rf"K = {c['K']} modes, all N: {c['beta']:.2f} $\pm$ {c['beta_err']:.2f}")
    ax_e.axhline(4, color="gray", ls="--", lw=1)
    ax_e.set_xscale("log")
    ax_e.set_xlim(NN)
    ax_e.set_xlabel("N")
    ax_e.set_ylabel(r"$\beta$")
    ax_e.legend(fontsize=7)


def save_figure(results, path):
    from . import plots as kp
    fig, axes = kp.plt.subplots(len(results), 5, figsize=(22, 3.8 * len(results)), squeeze=False)
    for row, res in zip(axes, results):
        draw_point(row, res)
    fig.tight_layout()
    kp.save(fig, path)


# ----------------------------------------------------------------------------------------------


def campaign_points(folder):
    """Point folders of a campaign: {folder/J*_h*_k*: [N*.h5 files]} sorted by (h, J, kappa0)."""
    out = {}
    for sub in sorted(glob.glob(os.path.join(folder, "J*_h*_k*"))):
        files = sorted(glob.glob(os.path.join(sub, "N*.h5")), key=lambda f: int(re.sub(r"\D", "", os.path.basename(f)) or 0))
        if files:
            out[sub] = files
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="*")
    ap.add_argument("--campaign", help="a campaign folder (results/tail): every point in it")
    ap.add_argument("--json", action="store_true", help="last line: one JSON object (with --campaign: a list)")
    ap.add_argument("--figure", help="PNG of D(omega), local exponent and <omega_min>(N)")
    ap.add_argument("--csv", help="table, one row per (point, N)")
    ap.add_argument("--bootstrap", type=int, default=400, help="bootstrap resamples of the window fit (default 400)")
    a = ap.parse_args(argv)
    if bool(a.files) == bool(a.campaign):
        ap.error("give run/digest files of one point, or --campaign FOLDER")
    try:
        if a.campaign:
            pts = campaign_points(a.campaign)
            if not pts:
                raise TailError(f"no point folder with N*.h5 under {a.campaign}")
            groups = list(pts.values())
        else:
            missing = [f for f in a.files if not os.path.isfile(f)]
            if missing:
                raise TailError(f"no such file: {', '.join(missing)}")
            groups = [a.files]
        results = [analyze_point(group_by_size(g), n_boot=a.bootstrap) for g in groups]
    except (TailError, kd.DigestError, ValueError) as e:
        print(f"khgps_tail: error: {e}", file=sys.stderr)
        return 1
    results.sort(key=lambda r: (r["params"]["h"], r["params"]["J"], r["params"]["kappa0"]))
    for i, res in enumerate(results):
        if i:
            print()
        print(format_point(res))
    if a.csv:
        with open(a.csv, "w", newline="") as fh:
            wr = csv.DictWriter(fh, CSV_COLUMNS)
            wr.writeheader()
            for res in results:
                wr.writerows(csv_rows(res))
        print(f"table: {a.csv}")
    if a.figure:
        from .plots import file_backend
        file_backend()
        save_figure(results, a.figure)
        print(f"figure: {a.figure}")
    if a.json:
        js = [json_of_point(r) for r in results]
        print(json.dumps(js if a.campaign else js[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
