#!/usr/bin/python3
"""The paper reproduced (issue 24): A_g, omega_x and <x*^2> per (point, N) from the digests of the
paper campaign (runs/paper.sh: FOLDER/J<J>_h<h>_k<kappa0>/N<N>.h5), the paper's claims tested
against them, and Figs. 2-6 redrawn from the digests alone.

  /usr/bin/python3 analysis/khgps_paper.py results/paper [--csv results/paper.csv]
        [--claims results/paper_claims.md] [--figures figures]      # figures/paper_fig2.png ... fig6

Works on any subset of the campaign (any points, any N); a claim without the points it needs says
"cannot tell at this size". Deterministic: no random numbers, fixed float formatting.

Per (point, N) (only realizations at a minimum; those with eigenvalues for the spectrum):

* Partial average (paper sec. 3): <x̄*^2>(kappa) = (kappa0/kappa) (1/N) sum_{i: kappa_i < kappa} x_i^2,
  per realization from the digest's kappa bins (x2_kappa, n_kappa) at the bin edges, averaged over
  realizations (error: std/sqrt(R)); edges with fewer than PA_MIN_COUNT oscillators pooled are dropped.
* omega_x: omega_x^2 = kappa_c, where the small-kappa plateau P (~ omega_x^2) and the large-kappa
  asymptote C/kappa (~ omega_x^4/kappa) intersect, kappa_c = C/P, both fitted on the data with
  khgps_analysis.crossover_fit (the partial average of P (1 + (kappa/kappa_1)^m)^(-2/m), m free).
  Defined only if kappa_c <= kappa0 and at least half a decade of data lies below it
  (kappa_c >= OMX_PLATEAU_SPAN x the lowest usable kappa). Error: delete-a-group jackknife over
  JK_GROUPS groups of realizations (realization index mod JK_GROUPS).
* A_g, with one of two estimators (column `estimator`):
  - "softest": the softest-mode maximum likelihood of khgps_tail (P(omega_min > w) =
    exp(-N A_g w^5/5)): A_g = 5 R/(N sum omega_min^5), error A_g/sqrt(R); free beta from the
    Weibull likelihood. Used when the omega^4 regime is known to contain the softest modes: the
    95% quantile of omega_min lies below omega_4 = OMEGA4_FRACTION x omega_x, or omega_x is not
    defined (strong interactions, omega_x^2 > kappa0).
  - "count": otherwise (weak interactions: the softest mode can lie above omega_x). With the
    cutoff omega_c = min(omega_4, omega_top), omega_top the completeness cutoff (the lowest, over
    realizations, of the largest computed frequency, so every realization's spectrum is complete
    below omega_c), A_g = 5 n_r(omega < omega_c)/(N omega_c^5) averaged over realizations, error
    std/sqrt(R). Free beta: maximum likelihood of n(omega) ~ omega^(beta+1) on the pooled modes
    below omega_c, beta + 1 = n/sum ln(omega_c/omega_i), error (beta+1)/sqrt(n). Needs at least
    COUNT_MIN_MODES modes pooled; else no A_g ("none"). (The CSV keeps both estimators' A_g.)
  beta is "consistent with 4" when |beta - 4| <= 2 errors.
* <x*^2>: mean over realizations of x2_mean, error std/sqrt(R).

Claims (results/paper_claims.md), per point the row of the largest N: weighted least squares of
logarithms with the per-point errors (an effective variance when the regressor holds a measured
omega_x), errors scaled by sqrt(chi2/dof) when it exceeds 1; "agrees within 2 sigma" when
|fit - paper| <= 2 errors, else "differs"; "cannot tell at this size" with fewer than 3 points (the
kappa0 exponent: 4; <x^2> ~ J: 2). Regimes: weak if y = J/(h^(1/3) kappa0^(1/2)) <= 0.7;
intermediate if 1.5 J_x <= J <= kappa0 with J_x = h^(8/21) kappa0^(3/7) (the paper's power laws with
unit prefactors); strong if J/kappa0 >= 1.5. Eq. 3 agrees when its slope is below 0 by 2 errors and
one line fits all h and kappa0 (chi2/dof <= 3), and needs two values of h. The A_g peak: the vertex
of a parabola in ln J through the largest A_g and its neighbours, over J_x where the intermediate
power law of omega_x(J) reaches the weak rows' mean omega_x; "O(1)" is taken as 1/3 ... 3.
"""
import argparse
import csv
import math
import os
import sys

import numpy as np

from . import digest as kd
from . import spectra as ka
from . import tail as kt

PA_MIN_COUNT = 50          # oscillators pooled below a kappa edge for it to enter the partial average
OMX_PLATEAU_SPAN = 10 ** 0.5
JK_GROUPS = 10
OMEGA4_FRACTION = 0.5      # the omega^4 regime is taken to end at omega_4 = 0.5 omega_x
SOFTEST_QUANTILE = 0.95
COUNT_MIN_MODES = 20
WEAK_Y_MAX = 0.7           # weak regime: y = J/(h^(1/3) kappa0^(1/2)) <= 0.7
INTER_JX_MIN = 1.5         # intermediate regime: J >= 1.5 J_x and J <= kappa0, J_x = h^(8/21) kappa0^(3/7)
STRONG_Z_MIN = 1.5         # J >> kappa0: J/kappa0 >= 1.5
CSV_COLUMNS = ["h", "J", "kappa0", "N", "realizations", "left_out", "A_g", "A_g_err", "estimator", "cutoff",
               "beta", "beta_err", "beta_is_4", "x2_mean", "x2_err", "omega_x", "omega_x_err",
               "omega_min_mean", "omega_min_q95", "omega_top", "A_g_softest", "A_g_softest_err",
               "A_g_count", "A_g_count_err", "count_modes"]


# ----------------------------------------------------------------------------------------------
# Estimators (library: arrays in, numbers out)


def partial_average_of_bins(x2_kappa, n_kappa, N, kappa0):
    """<x̄*^2>(kappa) at the kappa-bin edges from per-realization bin sums [R, nb] (digest layout).
    Returns dict kappa, xbar2, err (std/sqrt(R) over realizations), count (pooled oscillators below)."""
    x2 = np.asarray(x2_kappa, float)
    n = np.asarray(n_kappa, float)
    ok = ~np.isnan(n).any(1) & ~np.isnan(x2).any(1)
    x2, n = x2[ok], n[ok]
    kap = kd.KAPPA_EDGES[1:].copy() * kappa0
    kap[-1] = kappa0  # the last bin is [10^(-1/6), inf) x kappa0: it ends at kappa0
    R = len(x2)
    if R == 0:
        return {"kappa": np.empty(0), "xbar2": np.empty(0), "err": np.empty(0), "count": np.empty(0), "R": 0}
    per = np.cumsum(x2, axis=1) * (kappa0 / kap) / N  # [R, nb]
    mean = per.mean(0)
    err = per.std(0, ddof=1) / math.sqrt(R) if R > 1 else np.full(len(kap), np.nan)
    count = np.cumsum(n.sum(0))
    keep = (count >= PA_MIN_COUNT) & (mean > 0)
    return {"kappa": kap[keep], "xbar2": mean[keep], "err": err[keep], "count": count[keep], "R": R,
            "per": per[:, keep]}


def omega_x_of_curve(kappa, xbar2, err, kappa0):
    """omega_x from one partial-average curve: (omega_x or NaN, P, kappa_c, m). NaN when the
    crossover is not inside the data (see the module doc)."""
    kappa, xbar2 = np.asarray(kappa, float), np.asarray(xbar2, float)
    err = np.asarray(err, float)
    if len(kappa) < 6:
        return np.nan, np.nan, np.nan, np.nan
    e = np.where(np.isfinite(err) & (err > 0), err, 0.05 * xbar2)
    P, kc, m = ka.crossover_fit(kappa, xbar2, e)
    if not (np.isfinite(kc) and OMX_PLATEAU_SPAN * kappa[0] <= kc <= kappa0):
        return np.nan, P, kc, m
    return math.sqrt(kc), P, kc, m


def omega_x_of_partial(pa, kappa0, groups=JK_GROUPS):
    """omega_x with a delete-a-group jackknife error (groups of realizations by index mod groups).
    Returns (omega_x, err, P, kappa_c, m)."""
    om, P, kc, m = omega_x_of_curve(pa["kappa"], pa["xbar2"], pa["err"], kappa0)
    if not np.isfinite(om) or pa["R"] < 2 * groups:
        return om, np.nan, P, kc, m
    per, R = pa["per"], pa["R"]
    idx = np.arange(R)
    vals = []
    for g in range(groups):
        sub = per[idx % groups != g]
        o = omega_x_of_curve(pa["kappa"], sub.mean(0), sub.std(0, ddof=1) / math.sqrt(len(sub)), kappa0)[0]
        vals.append(o)
    vals = np.array(vals)
    if not np.isfinite(vals).all():
        return om, np.nan, P, kc, m
    return om, float(math.sqrt((groups - 1) / groups * np.sum((vals - vals.mean()) ** 2))), P, kc, m


def softest_estimator(omega_min, N):
    """A_g (beta = 4) and the free beta from the softest modes (khgps_tail.softest_mode_fit)."""
    s4 = kt.softest_mode_fit(omega_min, N, beta=4.0)
    sf = kt.softest_mode_fit(omega_min, N)
    return {"A_g": s4["A"], "A_g_err": s4["A_err"], "beta": sf["beta"], "beta_err": sf["beta_err"]}


def count_estimator(omegas, N, cutoff):
    """A_g = 5 n_r(omega < cutoff)/(N cutoff^5) averaged over realizations and the free beta of the
    pooled cumulative count below the cutoff. omegas: list of ascending frequency arrays, one per
    realization (the lowest nev). Returns dict A_g, A_g_err, beta, beta_err, modes, complete (every
    realization's largest computed frequency is above the cutoff; if not, A_g is NaN)."""
    out = {"A_g": np.nan, "A_g_err": np.nan, "beta": np.nan, "beta_err": np.nan, "modes": 0, "complete": False}
    if not omegas or not (cutoff > 0):
        return out
    tops = np.array([om[-1] if len(om) else 0.0 for om in omegas])
    out["complete"] = bool((tops >= cutoff).all())
    n_r = np.array([np.searchsorted(om, cutoff, side="left") for om in omegas], float)
    out["modes"] = int(n_r.sum())
    if not out["complete"] or len(omegas) < 2:
        return out
    a = 5.0 * n_r / (N * cutoff**5)
    out["A_g"] = float(a.mean())
    # std/sqrt(R) over realizations; with no mode at all, the Poisson error of one mode
    out["A_g_err"] = float(a.std(ddof=1) / math.sqrt(len(a)) if n_r.sum() else 5.0 / (N * cutoff**5) / len(a))
    low = np.concatenate([om[om < cutoff] for om in omegas])
    low = low[low > 0]
    if len(low) >= 2:
        k = len(low) / float(np.sum(np.log(cutoff / low)))
        out["beta"], out["beta_err"] = k - 1.0, k / math.sqrt(len(low))
    return out


def choose_estimator(omega_min, omegas, N, omega_x):
    """The rule of the module doc. Returns dict with estimator, cutoff, A_g, A_g_err, beta,
    beta_err and both estimators' results."""
    omega_min = np.asarray(omega_min, float)
    soft = softest_estimator(omega_min, N)
    top = float(min(om[-1] for om in omegas)) if omegas else np.nan
    om4 = OMEGA4_FRACTION * omega_x if np.isfinite(omega_x) else np.nan
    cut = float(min(om4, top)) if np.isfinite(om4) else top
    cnt = count_estimator(omegas, N, cut)
    q95 = float(np.quantile(omega_min, SOFTEST_QUANTILE)) if len(omega_min) else np.nan
    res = {"softest": soft, "count": cnt, "omega_top": top, "omega_min_q95": q95}
    if not np.isfinite(om4) or q95 <= om4:
        res.update(estimator="softest", cutoff=np.nan, **{k: soft[k] for k in ("A_g", "A_g_err", "beta", "beta_err")})
    elif np.isfinite(cnt["A_g"]) and cnt["modes"] >= COUNT_MIN_MODES:
        res.update(estimator="count", cutoff=cut, **{k: cnt[k] for k in ("A_g", "A_g_err", "beta", "beta_err")})
    else:
        res.update(estimator="none", cutoff=cut, A_g=np.nan, A_g_err=np.nan, beta=np.nan, beta_err=np.nan)
    return res


# ----------------------------------------------------------------------------------------------
# One digest


def analyze_digest(d):
    """All the numbers of one (point, N) digest: a dict (the CSV row's values, floats) plus
    'partial' (the partial average) and 'omegas' (frequencies per realization, for the figures)."""
    p = d.params
    N, k0 = d.N, float(p["kappa0"])
    mins = d.cols["status"] == 0
    omegas = [np.sqrt(np.clip(lam, 0.0, None)) for _, _, lam, _ in d.spectra(minima_only=True) if len(lam)]
    row = {"h": float(p["h"]), "J": float(p["J"]), "kappa0": k0, "N": N, "realizations": int(mins.sum()),
           "left_out": int(len(d) - len(omegas))}
    x2 = d.cols["x2_mean"][mins]
    row["x2_mean"] = float(x2.mean()) if len(x2) else np.nan
    row["x2_err"] = float(x2.std(ddof=1) / math.sqrt(len(x2))) if len(x2) > 1 else np.nan
    pa = partial_average_of_bins(d.x2_kappa[mins], d.n_kappa[mins], N, k0)
    om_x, om_x_err, P, kc, m = omega_x_of_partial(pa, k0) if pa["R"] else (np.nan,) * 5
    row.update(omega_x=om_x, omega_x_err=om_x_err)
    wmin = np.array([om[0] for om in omegas])
    row["omega_min_mean"] = float(wmin.mean()) if len(wmin) else np.nan
    if len(omegas) >= 2:
        est = choose_estimator(wmin, omegas, N, om_x)
        row.update({k: est[k] for k in ("A_g", "A_g_err", "estimator", "cutoff", "beta", "beta_err",
                                        "omega_top", "omega_min_q95")})
        row.update(A_g_softest=est["softest"]["A_g"], A_g_softest_err=est["softest"]["A_g_err"],
                   A_g_count=est["count"]["A_g"], A_g_count_err=est["count"]["A_g_err"],
                   count_modes=est["count"]["modes"])
    else:
        row.update(estimator="none")
    b, be = row.get("beta", np.nan), row.get("beta_err", np.nan)
    row["beta_is_4"] = ("yes" if abs(b - 4) <= 2 * be else "no") if np.isfinite(b) and np.isfinite(be) else ""
    row["partial"] = pa
    row["crossover"] = (P, kc, m)
    row["omegas"] = omegas
    return row


def analyze_campaign(folder):
    """Rows of every (point, N) digest under folder, sorted by (h, kappa0, J, N)."""
    rows = []
    for sub, files in kt.campaign_points(folder).items():
        for N, (d, _) in kt.group_by_size(files).items():
            rows.append(analyze_digest(d))
    rows.sort(key=lambda r: (r["h"], r["kappa0"], r["J"], r["N"]))
    return rows


def _fmt(v):
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    v = float(v)
    return "" if not math.isfinite(v) else f"{v:.6g}"


def write_csv(rows, path):
    with open(path, "w", newline="") as fh:
        wr = csv.DictWriter(fh, CSV_COLUMNS, lineterminator="\n")
        wr.writeheader()
        for r in rows:
            wr.writerow({k: _fmt(r.get(k)) for k in CSV_COLUMNS})


def read_csv(path):
    """Rows of a paper.csv as dicts of floats (strings kept for the estimator columns)."""
    out = []
    with open(path, newline="") as fh:
        for r in csv.DictReader(fh):
            out.append({k: (v if k in ("estimator", "beta_is_4") else (float(v) if v != "" else np.nan))
                        for k, v in r.items()})
    return out


# ----------------------------------------------------------------------------------------------
# Claims: fits across rows


def wls(X, y, sig):
    """Weighted least squares y ~ X coef with errors sig. Returns (coef, err, chi2, dof) with the
    errors of the fit itself (not scaled)."""
    X, y, sig = np.asarray(X, float), np.asarray(y, float), np.asarray(sig, float)
    W = 1.0 / sig**2
    A = X.T @ (W[:, None] * X)
    cov = np.linalg.inv(A)
    coef = cov @ (X.T @ (W * y))
    chi2 = float(np.sum(W * (y - X @ coef) ** 2))
    return coef, np.sqrt(np.diag(cov)), chi2, len(y) - X.shape[1]


def _scaled(err, chi2, dof):
    """Errors scaled by sqrt(chi2/dof) when that exceeds 1 (used for the verdicts)."""
    return err * max(1.0, math.sqrt(chi2 / dof)) if dof > 0 else err


def best_rows(rows):
    """Per point (h, J, kappa0): the row of the largest N."""
    best = {}
    for r in rows:
        key = (r["h"], r["J"], r["kappa0"])
        if key not in best or r["N"] > best[key]["N"]:
            best[key] = r
    return [best[k] for k in sorted(best)]


def regime(r):
    """'weak', 'intermediate', 'strong' or '' (the crossovers) by the module's stated rules."""
    h, J, k0 = r["h"], r["J"], r["kappa0"]
    y = J / (h ** (1 / 3) * k0**0.5)
    Jx = h ** (8 / 21) * k0 ** (3 / 7)
    if y <= WEAK_Y_MAX:
        return "weak"
    if J / k0 >= STRONG_Z_MIN:
        return "strong"
    if INTER_JX_MIN * Jx <= J <= k0:
        return "intermediate"
    return ""


def _ek(k):
    """The error column of a quantity column."""
    return "x2_err" if k == "x2_mean" else k + "_err"


def _ok(r, *keys):
    """The quantities are finite with finite positive errors."""
    return all(np.isfinite(r.get(k, np.nan)) and np.isfinite(r.get(_ek(k), np.nan)) and r[_ek(k)] > 0 for k in keys)


def _pts(sel):
    Ns = sorted({int(r["N"]) for r in sel})
    return len(sel), "N=" + ",".join(str(n) for n in Ns) if Ns else ""


def _verdict(value, err, paper, n, nmin):
    if n < nmin or not (np.isfinite(value) and np.isfinite(err)):
        return "cannot tell at this size"
    return "agrees within 2 sigma" if abs(value - paper) <= 2 * err + 1e-9 * abs(paper) else "differs"


def _claim(name, paper_txt, paper_val, value, err, chi2, dof, sel, nmin, verdict=None):
    n, Ns = _pts(sel)
    se = _scaled(err, chi2, dof) if np.isfinite(err) else err
    v = verdict or _verdict(value, se, paper_val, n, nmin)
    return {"claim": name, "paper": paper_txt, "paper_value": paper_val, "value": value, "err": se,
            "chi2_dof": chi2 / dof if dof > 0 else np.nan, "points": n, "N": Ns, "verdict": v}


def _slope_fit(sel, xkey, ykey, xfun=None, extra=None, xerr=None):
    """WLS of ln y on ln x (plus optional extra regressors, functions of the row). xerr(row): the
    error of ln x when x is itself measured (omega_x); then the effective variance
    sigma^2 = sigma_lny^2 + (slope sigma_lnx)^2 is iterated to convergence. Returns
    (coef, err, chi2, dof) or None with fewer than 2 distinct x values or no residual freedom."""
    if len(sel) < 2:
        return None
    xs = np.array([math.log(xfun(r) if xfun else r[xkey]) for r in sel])
    cols = [np.ones(len(sel)), xs] + [np.array([f(r) for r in sel]) for f in (extra or [])]
    if len(np.unique(xs)) < 2 or len(sel) < len(cols):
        return None
    X = np.column_stack(cols)
    y = np.array([math.log(r[ykey]) for r in sel])
    s = np.array([r[_ek(ykey)] / r[ykey] for r in sel])
    f = wls(X, y, s)
    if xerr is not None:
        sx = np.array([xerr(r) for r in sel])
        for _ in range(20):
            slope = f[0][1]
            f = wls(X, y, np.sqrt(s**2 + (slope * sx) ** 2))
            if abs(f[0][1] - slope) < 1e-10:
                break
    return f


def x2_uncoupled(h, kappa0, A=1.0):
    """<x*^2> of the uncoupled model (J = 0) at field h: each oscillator sits at the root of
    kappa x + A x^3/6 = h, kappa uniform on [0, kappa0]; the average by quadrature (the integrand's
    knee at kappa ~ (A h^2)^(1/3) as a break point)."""
    from scipy.integrate import quad
    from scipy.optimize import brentq

    def x(k):
        hi = max(h / k, (6 * h / A) ** (1 / 3)) if k > 0 else (6 * h / A) ** (1 / 3)
        return brentq(lambda v: k * v + A * v ** 3 / 6 - h, 0.0, hi * 1.01 + 1e-300)

    knee = min((A * h * h) ** (1 / 3), kappa0)
    return quad(lambda k: x(k) ** 2, 0.0, kappa0, points=[knee], limit=200, epsabs=0, epsrel=1e-10)[0] / kappa0


def claims(rows):
    """The paper's statements tested on the table (rows: dicts as in the CSV; per point the largest
    N is used). Returns a list of claim dicts (claim, paper, value, err, chi2_dof, points, N,
    verdict). Fitted errors are scaled by sqrt(chi2/dof) when it exceeds 1."""
    rows = best_rows(rows)
    out = []
    nan = np.nan
    # 1. D = A_g omega^4 (Fig. 2's sets: h = 0.01): the free beta, weighted mean over the points
    sel = [r for r in rows if abs(r["h"] - 0.01) < 1e-12 and _ok(r, "beta")]
    if sel:
        b = np.array([r["beta"] for r in sel])
        s = np.array([r["beta_err"] for r in sel])
        c, e, chi2, dof = wls(np.ones((len(b), 1)), b, s)
        cl = _claim("D(omega) = A_g omega^4, Fig. 2's sets (h = 0.01): free beta (weighted mean)",
                    "4", 4.0, c[0], e[0], chi2, dof, sel, 1)
        cl["note"] = f"{int(np.sum(np.abs(b - 4) <= 2 * s))}/{len(b)} points within 2 sigma of 4"
        out.append(cl)
    else:
        out.append(_claim("D(omega) = A_g omega^4, Fig. 2's sets (h = 0.01): free beta (weighted mean)",
                          "4", 4.0, nan, nan, 0, 0, [], 1))
    # 2-3. weak regime, h series at J = 0.03, kappa0 = 1
    hs = [r for r in rows if abs(r["J"] - 0.03) < 1e-12 and abs(r["kappa0"] - 1) < 1e-12 and regime(r) == "weak"]
    for key, name, pv, ptxt in (("omega_x", "omega_x ~ h^a, weak regime (J = 0.03, kappa0 = 1): a", 1 / 3, "1/3"),
                                ("x2_mean", "<x*^2> ~ h^a / kappa0, weak regime (J = 0.03, kappa0 = 1; 1/kappa0 not tested): a", 4 / 3, "4/3")):
        sel = [r for r in hs if _ok(r, key)]
        f = _slope_fit(sel, "h", key)
        out.append(_claim(name, ptxt, pv, *((f[0][1], f[1][1], f[2], f[3]) if f else (nan, nan, 0, 0)),
                          sel if f else [], 3))
        if key == "x2_mean" and f:  # the paper's 4/3 is the small-h limit: the same fit of the J = 0 model
            hv = np.array([r["h"] for r in sel])
            a0 = np.polyfit(np.log(hv), np.log([x2_uncoupled(h, 1.0) for h in hv]), 1)[0]
            out[-1]["note"] = f"the uncoupled model (J = 0, exact) over the same h: {a0:.3f}"
    # 4. Eq. 3: log(kappa0^1/2 h^2/3 J A_g) linear in kappa0 h^2/3 / J^2 across h and kappa0
    sel = [r for r in rows if regime(r) == "weak" and _ok(r, "A_g") and r["A_g"] > 0]
    X = np.array([r["kappa0"] * r["h"] ** (2 / 3) / r["J"] ** 2 for r in sel])
    n_h = len({r["h"] for r in sel})
    name = "Eq. 3: ln(kappa0^1/2 h^2/3 J A_g) = c - s kappa0 h^2/3/J^2, weak regime (y <= 0.7): slope"
    if len(sel) >= 3 and len(np.unique(X)) >= 2:
        y = np.array([math.log(r["kappa0"] ** 0.5 * r["h"] ** (2 / 3) * r["J"] * r["A_g"]) for r in sel])
        s = np.array([r["A_g_err"] / r["A_g"] for r in sel])
        c, e, chi2, dof = wls(np.column_stack([np.ones(len(X)), X]), y, s)
        se = _scaled(e, chi2, dof)
        if n_h < 2:
            v = "cannot tell at this size"
        elif c[1] + 2 * se[1] < 0 and (dof == 0 or chi2 / dof <= 3.0):
            v = "agrees within 2 sigma"
        else:
            v = "differs"
        cl = _claim(name, "< 0 (not stated), one line for all h, kappa0", nan, c[1], e[1], chi2, dof, sel, 3, v)
        cl["intercept"], cl["intercept_err"] = c[0], se[0]
        out.append(cl)
    else:
        out.append(_claim(name, "< 0 (not stated), one line for all h, kappa0", nan, nan, nan, 0, 0, sel, 3,
                          "cannot tell at this size"))
    # 5-8. intermediate regime
    inter = [r for r in rows if regime(r) == "intermediate"]
    sel = [r for r in inter if _ok(r, "omega_x")]
    many_k0 = len({r["kappa0"] for r in sel}) >= 2
    f = _slope_fit(sel, "J", "omega_x", extra=[lambda r: math.log(r["kappa0"])] if many_k0 else None)
    out.append(_claim("omega_x ~ J^a kappa0^b, intermediate regime (1.5 J_x <= J <= kappa0): a", "7/8", 7 / 8,
                      *((f[0][1], f[1][1], f[2], f[3]) if f else (nan, nan, 0, 0)), sel if f else [], 3))
    fb = f if (f is not None and many_k0) else None
    out.append(_claim("omega_x ~ J^a kappa0^b, intermediate regime: b", "-3/8", -3 / 8,
                      *((fb[0][2], fb[1][2], fb[2], fb[3]) if fb else (nan, nan, 0, 0)), sel if fb else [], 4))
    sel = [r for r in inter if _ok(r, "omega_x", "x2_mean")]
    f = _slope_fit(sel, None, "x2_mean", xfun=lambda r: r["omega_x"] ** 4 / r["kappa0"],
                   xerr=lambda r: 4 * r["omega_x_err"] / r["omega_x"])
    out.append(_claim("<x*^2> ~ (omega_x^4/kappa0)^a, intermediate regime: a", "1", 1.0,
                      *((f[0][1], f[1][1], f[2], f[3]) if f else (nan, nan, 0, 0)), sel if f else [], 3))
    sel = [r for r in inter if _ok(r, "omega_x", "A_g") and r["A_g"] > 0]
    f = _slope_fit(sel, None, "A_g", xfun=lambda r: r["kappa0"] * r["omega_x"] ** 3,
                   xerr=lambda r: 3 * r["omega_x_err"] / r["omega_x"])
    out.append(_claim("A_g ~ (kappa0 omega_x^3)^a, intermediate regime: a", "-1", -1.0,
                      *((f[0][1], f[1][1], f[2], f[3]) if f else (nan, nan, 0, 0)), sel if f else [], 3))
    sel = [r for r in inter if abs(r["kappa0"] - 1) < 1e-12 and abs(r["h"] - 0.01) < 1e-12 and _ok(r, "A_g")
           and r["A_g"] > 0]
    f = _slope_fit(sel, "J", "A_g")
    out.append(_claim("A_g ~ J^a, intermediate regime (h = 0.01, kappa0 = 1): a", "-21/8", -21 / 8,
                      *((f[0][1], f[1][1], f[2], f[3]) if f else (nan, nan, 0, 0)), sel if f else [], 3))
    # 9. the A_g peak: J_peak/J_x at h = 0.01, kappa0 = 1
    out.append(peak_claim(rows))
    # 10. <x*^2> ~ J for J >> kappa0
    sel = [r for r in rows if regime(r) == "strong" and _ok(r, "x2_mean")]
    many_k0 = len({r["kappa0"] for r in sel}) >= 2
    f = _slope_fit(sel, "J", "x2_mean", extra=[lambda r: math.log(r["kappa0"])] if many_k0 else None)
    out.append(_claim("<x*^2> ~ J^a for J >> kappa0 (J/kappa0 >= 1.5): a", "1", 1.0,
                      *((f[0][1], f[1][1], f[2], f[3]) if f else (nan, nan, 0, 0)), sel if f else [], 2))
    return out


def peak_claim(rows):
    """J_peak/J_x at h = 0.01, kappa0 = 1: J_peak the vertex of a parabola in ln J through ln A_g at
    the largest A_g and its two neighbours (weighted; error from the fit's covariance); J_x where
    the intermediate-regime power law omega_x = c J^a (fitted on these rows) reaches the weak
    regime's omega_x (the weighted mean of omega_x over the weak rows of the series)."""
    name = "A_g peak: J_peak/J_x (h = 0.01, kappa0 = 1)"
    ser = sorted([r for r in rows if abs(r["h"] - 0.01) < 1e-12 and abs(r["kappa0"] - 1) < 1e-12
                  and _ok(r, "A_g") and r["A_g"] > 0], key=lambda r: r["J"])
    empty = _claim(name, "O(1)", 1.0, np.nan, np.nan, 0, 0, [], 3, "cannot tell at this size")
    if len(ser) < 3:
        return empty
    i = int(np.argmax([r["A_g"] for r in ser]))
    if i == 0 or i == len(ser) - 1:
        return empty  # the maximum is at an end of the series: not bracketed
    trio = ser[i - 1:i + 2]
    x = np.array([math.log(r["J"]) for r in trio])
    y = np.array([math.log(r["A_g"]) for r in trio])
    s = np.array([r["A_g_err"] / r["A_g"] for r in trio])
    c, _, _, _ = wls(np.column_stack([np.ones(3), x, x**2]), y, s)
    cov = np.linalg.inv(np.column_stack([np.ones(3), x, x**2]).T @ np.diag(1 / s**2) @ np.column_stack([np.ones(3), x, x**2]))
    if c[2] >= 0:
        return empty
    xp = -c[1] / (2 * c[2])
    g = np.array([0.0, -1 / (2 * c[2]), c[1] / (2 * c[2] ** 2)])
    xp_err = math.sqrt(g @ cov @ g)
    weak = [r for r in ser if regime(r) == "weak" and _ok(r, "omega_x")]
    inter = [r for r in ser if regime(r) == "intermediate" and _ok(r, "omega_x")]
    f = _slope_fit(inter, "J", "omega_x")
    if not weak or f is None:
        return empty
    w = np.array([1 / r["omega_x_err"] ** 2 for r in weak])
    lo = math.log(np.sum(w * np.array([r["omega_x"] for r in weak])) / w.sum())
    (c0, a), ea = f[0], f[1]
    lx = (lo - c0) / a
    lx_err = abs(lx) * ea[1] / abs(a)  # the exponent's error dominates
    ratio = math.exp(xp - lx)
    rerr = ratio * math.sqrt(xp_err**2 + lx_err**2)
    v = "agrees within 2 sigma" if (ratio - 2 * rerr <= 3 and ratio + 2 * rerr >= 1 / 3) else "differs"
    sel = trio + [r for r in weak + inter if r not in trio]
    cl = _claim(name, "O(1) (taken as 1/3 ... 3)", 1.0, ratio, rerr, 0, 0, sel, 3, v)
    cl["J_peak"] = math.exp(xp)
    return cl


def _num(v, e):
    return ka.fmt_pm(v, e) if np.isfinite(v) else "-"


def claims_markdown(cl):
    lines = ["| claim | paper | khgps | chi2/dof | points (N) | verdict |", "|---|---|---|---|---|---|"]
    for c in cl:
        val = _num(c["value"], c["err"])
        if "intercept" in c:
            val += f"; intercept {_num(c['intercept'], c['intercept_err'])}"
        if "note" in c:
            val += f" ({c['note']})"
        if "J_peak" in c:
            val += f" (J_peak = {c['J_peak']:.3g})"
        chi = f"{c['chi2_dof']:.2f}" if np.isfinite(c["chi2_dof"]) else "-"
        pts = f"{c['points']} ({c['N']})" if c["points"] else "0"
        lines.append(f"| {c['claim']} | {c['paper']} | {val} | {chi} | {pts} | {c['verdict']} |")
    return "\n".join(lines) + "\n"


ESTIMATOR_COLUMN = {"softest": "A_g_softest", "count": "A_g_count"}  # each estimator's own A_g column


def _multi_size_points(rows):
    """The rows of each point (h, J, kappa0) that has two or more sizes, ascending in N, by point."""
    by = {}
    for r in rows:
        by.setdefault((r["h"], r["J"], r["kappa0"]), []).append(r)
    return [sorted(v, key=lambda r: r["N"]) for _, v in sorted(by.items()) if len(v) >= 2]


def convergence_markdown(rows):
    """Per point with two or more sizes: A_g (with its estimator), omega_x and <x*^2> at each N, and
    the pull of A_g between the largest N and each smaller one, (A_big - A_N)/sqrt(e_big^2 + e_N^2),
    both by the largest N's estimator (its value at the smaller N shown where that N chose another)."""
    lines = ["| point | regime | N | realizations | A_g (estimator) | pull against the largest N | omega_x | <x*^2> |",
             "|---|---|---|---|---|---|---|---|"]
    for rs in _multi_size_points(rows):
        big = rs[-1]
        k = ESTIMATOR_COLUMN.get(big["estimator"])
        for r in rs:
            a = _num(r.get("A_g", np.nan), r.get("A_g_err", np.nan))
            pull = "-"
            if r is not big and k and _ok(r, k) and _ok(big, k):  # the largest N's estimator at both sizes
                pull = f"{(big[k] - r[k]) / math.hypot(big[k + '_err'], r[k + '_err']):+.2f}"
                if r["estimator"] != big["estimator"]:
                    pull += f" ({big['estimator']}: {_num(r[k], r[k + '_err'])})"
            lines.append(f"| {_label(r)} | {regime(r) or '-'} | {r['N']} | {r['realizations']} | {a} ({r['estimator']}) | {pull} "
                         f"| {_num(r['omega_x'], r['omega_x_err'])} | {_num(r['x2_mean'], r['x2_err'])} |")
    if len(lines) == 2:
        return ""
    return "\n## Convergence in N\n\nPoints with more than one size (the claims above use the largest N of each point). The pull compares A_g by the largest N's estimator at both sizes.\n\n" + "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------------------------
# Figures (matplotlib imported here; the CLI picks the Agg backend if the user chose none)


def _label(r):
    return f"J={r['J']:g} h={r['h']:g} k0={r['kappa0']:g}"


def _plain_log_ticks(ax):
    """Log axes with plain-number major labels and no minor labels (readable small panels)."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        axis.set_minor_formatter(NullFormatter())


def figures(rows, outdir):
    import matplotlib.pyplot as plt
    best = best_rows(rows)
    paths = []

    def save(fig, name):
        fig.tight_layout()
        p = os.path.join(outdir, name)
        fig.savefig(p, dpi=110, metadata={"Software": None})
        plt.close(fig)
        paths.append(p)

    # Fig. 2: D(omega) of the h = 0.01 sets, omega^4 guide
    fig, ax = plt.subplots(figsize=(6.5, 4.8))
    for r in [r for r in best if abs(r["h"] - 0.01) < 1e-12]:
        om = r["omegas"]
        if not om:
            continue
        top = min(o[-1] for o in om)
        pooled = np.concatenate(om)
        pooled = pooled[(pooled > 0) & (pooled <= top)]
        if len(pooled) < 5:
            continue
        edges = np.geomspace(pooled.min() * 0.98, top, 13)
        c, _ = np.histogram(pooled, edges)
        D = c / (len(om) * r["N"] * np.diff(edges))
        ok = c > 0
        ax.errorbar(np.sqrt(edges[1:] * edges[:-1])[ok], D[ok], yerr=(np.sqrt(c) / (len(om) * r["N"] * np.diff(edges)))[ok],
                    fmt="o-", ms=3, lw=0.8, label=f"{_label(r)} N={r['N']}")
    if ax.has_data():
        ax.set_xscale("log")
        ax.set_yscale("log")
        xl, yl = ax.get_xlim(), ax.get_ylim()
        w = np.geomspace(*xl, 20)
        ax.plot(w, yl[0] * 3 * (w / xl[0]) ** 4, "k--", lw=1, label=r"$\propto\omega^4$")
        ax.set_xlim(xl)
        ax.set_ylim(yl)
    ax.set_xlabel(r"$\omega$")
    ax.set_ylabel(r"$D(\omega)$ per oscillator")
    ax.set_title("Fig. 2: h = 0.01 (lowest nev modes, complete range)", fontsize=9)
    ax.legend(fontsize=6)
    save(fig, "paper_fig2.png")

    # Fig. 3: partial averages of the h series (J = 0.03, kappa0 = 1), raw and rescaled by h^(2/3)
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.5))
    for r in [r for r in best if abs(r["J"] - 0.03) < 1e-12 and abs(r["kappa0"] - 1) < 1e-12]:
        pa = r["partial"]
        if not len(pa["kappa"]):
            continue
        a.errorbar(pa["kappa"], pa["xbar2"], yerr=pa["err"], fmt="o-", ms=3, lw=0.8, label=f"h={r['h']:g} N={r['N']}")
        s = r["h"] ** (2 / 3)
        b.plot(pa["kappa"] / s, pa["xbar2"] / s, "o-", ms=3, lw=0.8, label=f"h={r['h']:g}")
    for ax, xl, yl in ((a, r"$\kappa$", r"$\langle\bar x_*^2\rangle(\kappa)$"),
                       (b, r"$\kappa/h^{2/3}$", r"$\langle\bar x_*^2\rangle/h^{2/3}$")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(xl)
        ax.set_ylabel(yl)
        ax.legend(fontsize=7)
    a.set_title("Fig. 3a: J = 0.03, kappa0 = 1", fontsize=9)
    b.set_title(r"Fig. 3b: rescaled by $\omega_x^2 \sim h^{2/3}$", fontsize=9)
    save(fig, "paper_fig3.png")

    # Fig. 4: Eq. 3 collapse
    fig, ax = plt.subplots(figsize=(6.5, 4.8))
    weak = [r for r in best if regime(r) == "weak" and _ok(r, "A_g") and r["A_g"] > 0]
    for key in sorted({(r["h"], r["kappa0"]) for r in weak}):
        sel = [r for r in weak if (r["h"], r["kappa0"]) == key]
        X = [r["kappa0"] * r["h"] ** (2 / 3) / r["J"] ** 2 for r in sel]
        Y = [r["kappa0"] ** 0.5 * r["h"] ** (2 / 3) * r["J"] * r["A_g"] for r in sel]
        E = [y * r["A_g_err"] / r["A_g"] for y, r in zip(Y, sel)]
        ax.errorbar(X, Y, yerr=E, fmt="o", ms=4, capsize=2, label=f"h={key[0]:g} k0={key[1]:g}")
    c = [c for c in claims(rows) if c["claim"].startswith("Eq. 3")][0]
    if "intercept" in c and weak:
        X = np.linspace(0, max(r["kappa0"] * r["h"] ** (2 / 3) / r["J"] ** 2 for r in weak) * 1.05, 20)
        ax.plot(X, np.exp(c["intercept"] + c["value"] * X), "k--", lw=1, label="WLS line")
    ax.set_yscale("log")
    ax.set_xlabel(r"$\kappa_0 h^{2/3}/J^2$")
    ax.set_ylabel(r"$\kappa_0^{1/2} h^{2/3} J A_g$")
    ax.set_title(f"Fig. 4: Eq. 3, weak regime (y <= {WEAK_Y_MAX})", fontsize=9)
    if ax.has_data():
        ax.legend(fontsize=7)
    save(fig, "paper_fig4.png")

    # Fig. 5: (a) partial averages rescaled by the measured omega_x^2, inset omega_x(J); (b) <x^2>(J)
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.5))
    jser = [r for r in best if abs(r["h"] - 0.01) < 1e-12]
    for r in jser:
        pa = r["partial"]
        if np.isfinite(r["omega_x"]) and len(pa["kappa"]):
            s = r["omega_x"] ** 2
            a.plot(pa["kappa"] / s, pa["xbar2"] / s, "o-", ms=2.5, lw=0.8, label=f"J={r['J']:g} k0={r['kappa0']:g}")
    a.set_xscale("log")
    a.set_yscale("log")
    a.set_xlabel(r"$\kappa/\omega_x^2$")
    a.set_ylabel(r"$\langle\bar x_*^2\rangle/\omega_x^2$")
    a.set_title("Fig. 5a: h = 0.01, rescaled by the measured omega_x^2", fontsize=9)
    if a.has_data():
        a.legend(fontsize=6, loc="lower left")
    ins = a.inset_axes([0.62, 0.62, 0.35, 0.33])
    for k0 in sorted({r["kappa0"] for r in jser}):
        sel = [r for r in jser if r["kappa0"] == k0 and np.isfinite(r["omega_x"])]
        if sel:
            ins.errorbar([r["J"] for r in sel], [r["omega_x"] for r in sel],
                         yerr=[r["omega_x_err"] if np.isfinite(r["omega_x_err"]) else 0 for r in sel], fmt="o", ms=3)
    if ins.has_data():
        ins.set_xscale("log")
        ins.set_yscale("log")
        xl = ins.get_xlim()
        J = np.geomspace(*xl, 10)
        ref = [r for r in jser if np.isfinite(r["omega_x"])][-1]
        ins.plot(J, ref["omega_x"] * (J / ref["J"]) ** (7 / 8), "k--", lw=0.8, label=r"$J^{7/8}$")
        ins.legend(fontsize=6)
        _plain_log_ticks(ins)
    ins.set_xlabel("J", fontsize=7)
    ins.set_ylabel(r"$\omega_x$", fontsize=7)
    ins.tick_params(labelsize=6)
    for k0 in sorted({r["kappa0"] for r in best}):
        for h in sorted({r["h"] for r in best}):
            sel = [r for r in best if r["kappa0"] == k0 and r["h"] == h and np.isfinite(r["x2_mean"])]
            if len(sel) >= 1:
                b.errorbar([r["J"] for r in sel], [r["x2_mean"] for r in sel], yerr=[r["x2_err"] for r in sel],
                           fmt="o-", ms=3, lw=0.8, label=f"h={h:g} k0={k0:g}")
    if b.has_data():
        b.set_xscale("log")
        b.set_yscale("log")
        xl, yl = b.get_xlim(), b.get_ylim()
        J = np.geomspace(*xl, 20)
        pts = sorted([r for r in best if np.isfinite(r["x2_mean"])], key=lambda r: r["J"])
        mid, last = pts[len(pts) // 2], pts[-1]
        b.plot(J, mid["x2_mean"] * (J / mid["J"]) ** (7 / 2), "k--", lw=0.8, label=r"$\omega_x^4 \sim J^{7/2}$")
        b.plot(J, last["x2_mean"] * (J / last["J"]), "k:", lw=0.8, label=r"$\sim J$")
        b.set_xlim(xl)
        b.set_ylim(yl)
        b.legend(fontsize=6)
        _plain_log_ticks(b)
    b.set_xlabel("J")
    b.set_ylabel(r"$\langle x_*^2\rangle$")
    b.set_title("Fig. 5b", fontsize=9)
    save(fig, "paper_fig5.png")

    # Fig. 6: A_g(J) at h = 0.01, kappa0 = 1 with s / (kappa0 omega_x^3), s fitted on the intermediate rows
    fig, ax = plt.subplots(figsize=(6.5, 4.8))
    sel = [r for r in best if abs(r["h"] - 0.01) < 1e-12 and abs(r["kappa0"] - 1) < 1e-12 and _ok(r, "A_g")]
    if sel:
        for est, mk in (("softest", "o"), ("count", "s")):
            ss = [r for r in sel if r["estimator"] == est]
            if ss:
                ax.errorbar([r["J"] for r in ss], [r["A_g"] for r in ss], yerr=[r["A_g_err"] for r in ss], fmt=mk,
                            ms=4, capsize=2, label=f"A_g ({est})")
        pred = [r for r in sel if np.isfinite(r["omega_x"])]
        inter = [r for r in pred if regime(r) == "intermediate"]
        s = math.exp(np.mean([math.log(r["A_g"] * r["kappa0"] * r["omega_x"] ** 3) for r in inter])) if inter else 1.0
        if pred:
            ax.plot([r["J"] for r in pred], [s / (r["kappa0"] * r["omega_x"] ** 3) for r in pred], "k-", lw=1,
                    label=(rf"{s:.3g} $\kappa_0^{{-1}}\omega_x^{{-3}}$ (prefactor fitted on the intermediate points)" if inter
                           else r"$\kappa_0^{-1}\omega_x^{-3}$ (prefactor 1: no intermediate point yet)"))
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.legend(fontsize=7)
    ax.set_xlabel("J")
    ax.set_ylabel(r"$A_g$")
    ax.set_title("Fig. 6: h = 0.01, kappa0 = 1", fontsize=9)
    save(fig, "paper_fig6.png")

    # Convergence in N: A_g(N) / A_g(largest N) by the largest N's estimator, per point with two or more sizes
    fig, ax = plt.subplots(figsize=(6.5, 4.8))
    multi = _multi_size_points(rows)
    for i, rs in enumerate(multi):
        k = ESTIMATOR_COLUMN.get(rs[-1]["estimator"])
        pts = [r for r in rs if k and _ok(r, k) and r[k] > 0]
        if len(pts) < 2:
            continue
        ref = pts[-1][k]
        Ns = np.array([r["N"] for r in pts], dtype=float) * (1 + 0.02 * (i - len(multi) / 2))
        ax.errorbar(Ns, [r[k] / ref for r in pts], yerr=[r[k + "_err"] / ref for r in pts], fmt="o-" if "softest" in k else "s--",
                    ms=4, lw=0.8, capsize=2, label=f"{_label(pts[-1])} ({rs[-1]['estimator']})")
    ax.axhline(1, color="k", lw=0.6)
    ax.set_xscale("log")
    ax.set_xlabel("N")
    ax.set_ylabel(r"$A_g(N)\,/\,A_g(N_{\max})$")
    ax.set_title("A_g against N (the largest N's estimator at every size)", fontsize=9)
    if ax.has_data():
        ax.legend(fontsize=6)
        _plain_log_ticks(ax)
    save(fig, "paper_convergence.png")
    return paths


# ----------------------------------------------------------------------------------------------


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder", help="campaign folder (results/paper)")
    ap.add_argument("--csv", help="table, one row per (point, N)")
    ap.add_argument("--claims", help="claims table (markdown)")
    ap.add_argument("--figures", help="folder for paper_fig2.png ... paper_fig6.png and paper_convergence.png")
    a = ap.parse_args(argv)
    try:
        rows = analyze_campaign(a.folder)
    except (kt.TailError, kd.DigestError, ValueError) as e:
        print(f"khgps_paper: error: {e}", file=sys.stderr)
        return 1
    if not rows:
        print(f"khgps_paper: error: no digest under {a.folder}", file=sys.stderr)
        return 1
    for r in rows:
        print(f"{_label(r)} N={r['N']}: R={r['realizations']} A_g={_num(r.get('A_g', np.nan), r.get('A_g_err', np.nan))}"
              f" ({r['estimator']}) beta={_num(r.get('beta', np.nan), r.get('beta_err', np.nan))}"
              f" omega_x={_num(r['omega_x'], r['omega_x_err'])} <x2>={_num(r['x2_mean'], r['x2_err'])}")
    cl = claims(rows)
    md = claims_markdown(cl) + convergence_markdown(rows)
    print(md, end="")
    if a.csv:
        write_csv(rows, a.csv)
        print(f"table: {a.csv}")
    if a.claims:
        with open(a.claims, "w") as fh:
            fh.write(md)
        print(f"claims: {a.claims}")
    if a.figures:
        from .plots import file_backend
        file_backend()
        os.makedirs(a.figures, exist_ok=True)
        for p in figures(rows, a.figures):
            print(f"figure: {p}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
