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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import khgps_analysis as ka  # noqa: E402
import khgps_digest as kd  # noqa: E402

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
    scaling = size_scaling([r["N"] for r in ok], [r["omega_min_mean"] for r in ok], [r["omega_min_err"] for r in ok])
    scaling["pairs"] = []  # the same between consecutive sizes: how the exponent moves with N
    for r1, r2 in zip(ok, ok[1:]):
        sp = size_scaling([r1["N"], r2["N"]], [r1["omega_min_mean"], r2["omega_min_mean"]],
                          [r1["omega_min_err"], r2["omega_min_err"]])
        scaling["pairs"].append({"N1": r1["N"], "N2": r2["N"], "beta": sp["beta"], "beta_err": sp["beta_err"]})
    return {"params": params, "sizes": rows, "scaling": scaling, "runs": runs, "local": local}


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
    return {"point": {k: float(p[k]) for k in POINT_KEYS if k in p}, "sizes": sizes,
            "scaling": {k: (_f(v) if isinstance(v, float) else
                            [{kk: _f(vv) if isinstance(vv, float) else vv for kk, vv in q.items()} for q in v]
                            if k == "pairs" else v) for k, v in res["scaling"].items()}}


CSV_COLUMNS = ["J", "h", "kappa0", "N", "realizations", "left_out", "omega_min_mean", "omega_min_err",
               "A_g", "A_g_err", "beta", "beta_err", "window_wmax", "window_modes", "window_A_g",
               "window_A_g_err", "window_beta", "window_beta_err", "x2_mean", "x2_err",
               "scaling_beta", "scaling_beta_err"]


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
        out.append({k: ("" if v is None or (isinstance(v, float) and not np.isfinite(v)) else
                        (f"{v:.6g}" if isinstance(v, (float, np.floating)) else v)) for k, v in row.items()})
    return out


# ----------------------------------------------------------------------------------------------
# Figure


def draw_point(axes, res, n_bins_per_decade=6):
    """Three panels of one point: D(omega) per N, the local exponent per N, <omega_min> against N."""
    import khgps_plots as kp  # noqa: F401  (sets the Agg backend)
    ax_d, ax_b, ax_w = axes
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


def save_figure(results, path):
    import khgps_plots as kp
    fig, axes = kp.plt.subplots(len(results), 3, figsize=(13, 3.8 * len(results)), squeeze=False)
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
        save_figure(results, a.figure)
        print(f"figure: {a.figure}")
    if a.json:
        js = [json_of_point(r) for r in results]
        print(json.dumps(js if a.campaign else js[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
