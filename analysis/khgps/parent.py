#!/usr/bin/python3
"""Glasses from a parent temperature (issue 27): the digests of runs/parent.sh, one row per
(point, start, N) in a table and a figure.

  /usr/bin/python3 analysis/khgps_parent.py [--campaign results/parent] [--csv results/parent.csv]
                                            [--figure figures/parent.png]

The campaign folder holds T<T_p>/J<J>_h<h>_k<kappa0>/N<N>.h5 (thermal start at T_p) and
zero/J<J>_h<h>_k<kappa0>/N<N>.h5 (x = 0 start, the reference); any subset works (a partial
campaign: whatever digests exist). T_p is read from each digest's /params (parent_temperature) and
must agree with its folder. Only minima are used (status 0).

Columns: J, h, kappa0, N, start (zero | thermal), T_p (0 for the reference), sweeps (the
equilibration sweeps), realizations (in the digest), minima (used);
  A_g, A_g_err: from the softest mode at beta = 4 (khgps_tail.softest_mode_fit: the lowest
      frequency of each realization, P(omega_min > w) = exp(-N A w^5 / 5));
  beta, beta_err, A_free, A_free_err: the same maximum likelihood with beta free;
  x2, x2_err: <x*^2> over oscillators, mean over realizations and its standard error;
  e_IS, e_IS_err: the minima's energy per oscillator (the digest's energy is the total H of the
      minimum, so e_IS = energy / N), mean and standard error over realizations;
  e_parent, e_parent_err, x2_parent, x2_parent_err: the parent's H/N and sum x^2/N at T_p (each
      realization's average over its measured sweeps), mean and standard error over realizations;
  acceptance: mean Metropolis acceptance; drift_frac: the fraction of realizations with
      |parent_drift| > 3 (second minus first half of the measured H, in standard errors: ~0.3% if
      every chain is equilibrated); drift_mean, drift_mean_err: the mean of parent_drift over the
      chains and its standard error (0 within the error if the chains are equilibrated; negative if
      the energy still falls during the measured window); parent values are empty for the reference;
  paired, de_IS, de_IS_err, same_minimum: against the reference digest of the same point and N (and
      seed): the same realization index draws the same kappa and J, so e_IS(T_p) - e_IS(x = 0) is
      averaged per realization over the `paired` ones at a minimum in both (far smaller error than
      the difference of the means), and same_minimum is the fraction of them that end in the
      reference's minimum (energies equal to 1e-9 relative); empty without a reference.
The figure: A_g against 1/T_p per point, the reference as a horizontal band (mean +- error); the
paired de_IS against T_p (the absolute e_IS where a point has no reference). Output is deterministic (rows sorted by point, N, then T_p with the reference first;
numbers with 10 significant digits)."""
import argparse
import csv
import glob
import math
import os
import re
import sys

import numpy as np

from . import digest as kd
from .tail import softest_mode_fit

COLUMNS = ("J", "h", "kappa0", "N", "start", "T_p", "sweeps", "realizations", "minima", "A_g", "A_g_err", "beta",
           "beta_err", "A_free", "A_free_err", "x2", "x2_err", "e_IS", "e_IS_err", "e_parent", "e_parent_err",
           "x2_parent", "x2_parent_err", "acceptance", "drift_frac", "drift_mean", "drift_mean_err", "paired", "de_IS", "de_IS_err", "same_minimum")
DRIFT_LIMIT = 3.0


class ParentError(Exception):
    pass


def campaign_files(folder):
    """[(sub, path)] of every digest under folder/<zero|T*>/J*_h*_k*/N*.h5, sorted."""
    out = []
    for path in sorted(glob.glob(os.path.join(folder, "*", "J*_h*_k*", "N*.h5"))):
        sub = os.path.basename(os.path.dirname(os.path.dirname(path)))
        if sub == "zero" or re.fullmatch(r"T[0-9.eE+-]+", sub):
            out.append((sub, path))
    return out


def _mean_err(v):
    v = np.asarray(v, float)
    v = v[np.isfinite(v)]
    if not len(v):
        return math.nan, math.nan
    return float(v.mean()), float(v.std(ddof=1) / math.sqrt(len(v))) if len(v) > 1 else math.nan


def analyze(d, sub, path):
    """One table row (dict) of a digest."""
    p = d.params
    thermal = str(p.get("start", "zero")) == "thermal"
    T = float(p.get("parent_temperature", 0.0)) if thermal else 0.0
    if (sub == "zero") == thermal or (thermal and not math.isclose(T, float(sub[1:]), rel_tol=1e-12)):
        raise ParentError(f"{path}: the digest's start ({p.get('start', 'zero')}, T_p {T:g}) is not its folder's ({sub})")
    m = d.cols["status"] == 0
    c = {k: v[m] for k, v in d.cols.items()}
    lam = c["lowest_eigenvalue"]
    w = np.sqrt(lam[np.isfinite(lam) & (lam > 0)])
    fix, free = softest_mode_fit(w, d.N, beta=4.0), softest_mode_fit(w, d.N)
    row = {"J": float(p["J"]), "h": float(p["h"]), "kappa0": float(p["kappa0"]), "N": d.N,
           "start": "thermal" if thermal else "zero", "T_p": T,
           "sweeps": int(p.get("equilibration_sweeps", 0)) if thermal else 0, "realizations": len(d),
           "minima": int(m.sum()), "A_g": fix["A"], "A_g_err": fix["A_err"], "beta": free["beta"],
           "beta_err": free["beta_err"], "A_free": free["A"], "A_free_err": free["A_err"],
           "_seed": int(p.get("seed", 0))}
    row["x2"], row["x2_err"] = _mean_err(c["x2_mean"])
    row["e_IS"], row["e_IS_err"] = _mean_err(c["energy"] / d.N)
    row["e_parent"], row["e_parent_err"] = _mean_err(c["parent_energy"])
    row["x2_parent"], row["x2_parent_err"] = _mean_err(c["parent_x2"])
    row["acceptance"] = _mean_err(c["parent_acceptance"])[0]
    dr = c["parent_drift"][np.isfinite(c["parent_drift"])]
    row["drift_frac"] = float(np.mean(np.abs(dr) > DRIFT_LIMIT)) if len(dr) else math.nan
    row["drift_mean"], row["drift_mean_err"] = _mean_err(dr)
    row["_energy"] = dict(zip(c["realization"].tolist(), (c["energy"] / d.N).tolist()))
    row.update(paired=0, de_IS=math.nan, de_IS_err=math.nan, same_minimum=math.nan)
    return row


def pair_with_reference(rows):
    """de_IS (mean and error of e_IS(T_p) - e_IS(x = 0) over the realizations at a minimum in both:
    the same seed and index draw the same kappa and J, so the difference is paired) and
    same_minimum (the fraction of them whose minimum has the reference's energy to 1e-9 relative),
    for the thermal rows of a point and N with a reference row."""
    ref = {(r["h"], r["J"], r["kappa0"], r["N"]): r for r in rows if r["start"] == "zero"}
    for r in rows:
        z = ref.get((r["h"], r["J"], r["kappa0"], r["N"]))
        if r["start"] != "thermal" or z is None or r.get("_seed") != z.get("_seed"):
            continue
        common = sorted(set(r["_energy"]) & set(z["_energy"]))
        if not common:
            continue
        a = np.array([r["_energy"][k] for k in common])
        b = np.array([z["_energy"][k] for k in common])
        r["paired"] = len(common)
        r["de_IS"], r["de_IS_err"] = _mean_err(a - b)
        r["same_minimum"] = float(np.mean(np.abs(a - b) <= 1e-9 * np.maximum(np.abs(b), 1e-300)))


def _fmt(v):
    if isinstance(v, str):
        return v
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    return "" if not np.isfinite(v) else f"{float(v):.10g}"


def table(folder):
    rows = [analyze(kd.read(path), sub, path) for sub, path in campaign_files(folder)]
    rows.sort(key=lambda r: (r["h"], r["J"], r["kappa0"], r["N"], r["start"] != "zero", -r["T_p"]))
    pair_with_reference(rows)
    return rows


def write_csv(rows, path, columns=COLUMNS):
    with open(path, "w", newline="") as fh:
        wr = csv.writer(fh, lineterminator="\n")
        wr.writerow(columns)
        for r in rows:
            wr.writerow([_fmt(r[k]) for k in columns])


def save_figure(rows, path):
    """A_g against 1/T_p for every point in one panel; e_IS against T_p in one panel per point (the
    points' e_IS differences differ by orders of magnitude)."""
    import matplotlib.pyplot as plt
    points = sorted({(r["h"], r["J"], r["kappa0"], r["N"]) for r in rows})
    npanels = 1 + max(len(points), 1)
    fig, axes = plt.subplots(1, npanels, figsize=(4.6 * npanels, 4), squeeze=False)
    ax_a = axes[0][0]
    for i, (h, J, k0, N) in enumerate(points):
        col = f"C{i}"
        ax_e = axes[0][1 + i]
        lab = f"J={J:g} h={h:g} $\\kappa_0$={k0:g} N={N}"
        mine = [r for r in rows if (r["h"], r["J"], r["kappa0"], r["N"]) == (h, J, k0, N)]
        th = sorted((r for r in mine if r["start"] == "thermal"), key=lambda r: r["T_p"])
        for r in mine:
            if r["start"] == "zero":
                for ax, y, e in ((ax_a, r["A_g"], r["A_g_err"]), (ax_e, 0.0, 0.0)):
                    if np.isfinite(y):
                        e = e if np.isfinite(e) else 0.0
                        ax.axhspan(y - e, y + e, color=col, alpha=0.2, lw=0)
                        ax.axhline(y, color=col, lw=0.8, ls="--")
        paired = [r["paired"] > 0 for r in th]
        if th:
            T = np.array([r["T_p"] for r in th])
            fit = arrhenius(mine)
            ax_a.errorbar(1 / T, [r["A_g"] for r in th], yerr=[r["A_g_err"] for r in th], fmt="o-", color=col,
                          ms=4, capsize=2, label=lab + (f": c = {fit[0]['c']:.2g} $\\pm$ {fit[0]['c_err']:.1g}" if fit else ""))
            y = [r["de_IS"] if q else r["e_IS"] for r, q in zip(th, paired)]
            e = [r["de_IS_err"] if q else r["e_IS_err"] for r, q in zip(th, paired)]
            ax_e.errorbar(T, y, yerr=e, fmt="o-", color=col, ms=4, capsize=2)
        else:
            ax_a.plot([], [], color=col, label=lab + " (x = 0 only)")
        ax_e.set_xscale("log")
        ax_e.set_xlabel("$T_p$")
        if th and not all(paired):
            ax_e.set_ylabel("$e_{IS}(T_p)$ (absolute: no x = 0 reference)")
        else:
            ax_e.set_ylabel("$e_{IS}(T_p) - e_{IS}$(x = 0), paired")
        ax_e.set_title(lab + ("" if th else ": x = 0 only"), fontsize=9)
    ax_a.set_xscale("log")
    ax_a.set_yscale("log")
    ax_a.set_xlabel("1 / $T_p$")
    ax_a.set_ylabel("$A_g$ (softest mode, $\\beta$ = 4)")
    ax_a.set_title("$A_g$; bands: the x = 0 start; c: fit $A_g \\propto e^{-c/T_p}$", fontsize=9)
    if points:
        ax_a.legend(fontsize=7)
    fig.suptitle("glasses from a parent temperature: $e_{IS}$ = H(minimum)/N, dashed = the x = 0 start", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)


FIT_COLUMNS = ("J", "h", "kappa0", "N", "temperatures", "T_p_min", "T_p_max", "c", "c_err", "chi2_dof",
               "A_g_low_over_zero", "A_g_low_over_zero_err")


def arrhenius(rows):
    """Per point and N, the weighted least-squares line ln A_g = a - c / T_p through its thermal rows
    (weights 1 / (A_g_err / A_g)^2; at least two T_p): computer glasses have c > 0 (A_g ~ exp(-c/T_p),
    fewer soft modes in glasses from lower T_p), c = 0 is no dependence. c_err is the fit's error from
    the A_g errors (not scaled by chi2_dof, which is given); A_g_low_over_zero is A_g at the lowest
    T_p over the x = 0 reference's, with its error from both (NaN without a reference)."""
    out = []
    for key in sorted({(r["h"], r["J"], r["kappa0"], r["N"]) for r in rows}):
        mine = [r for r in rows if (r["h"], r["J"], r["kappa0"], r["N"]) == key]
        th = sorted((r for r in mine if r["start"] == "thermal" and np.isfinite(r["A_g"]) and r["A_g"] > 0
                     and np.isfinite(r["A_g_err"]) and r["A_g_err"] > 0), key=lambda r: r["T_p"])
        if len(th) < 2:
            continue
        x = np.array([1.0 / r["T_p"] for r in th])
        y = np.log([r["A_g"] for r in th])
        w = np.array([(r["A_g"] / r["A_g_err"]) ** 2 for r in th])
        X = np.column_stack([np.ones_like(x), -x])
        cov = np.linalg.inv(X.T @ (w[:, None] * X))
        a, c = cov @ (X.T @ (w * y))
        chi2 = float(np.sum(w * (y - a + c * x) ** 2))
        dof = len(th) - 2
        z = [r for r in mine if r["start"] == "zero"]
        lo = th[0]
        if z and np.isfinite(z[0]["A_g"]) and z[0]["A_g"] > 0:
            q = lo["A_g"] / z[0]["A_g"]
            qe = q * math.hypot(lo["A_g_err"] / lo["A_g"], z[0]["A_g_err"] / z[0]["A_g"])
        else:
            q = qe = math.nan
        h, J, k0, N = key
        out.append({"J": J, "h": h, "kappa0": k0, "N": N, "temperatures": len(th), "T_p_min": th[0]["T_p"],
                    "T_p_max": th[-1]["T_p"], "c": float(c), "c_err": float(math.sqrt(cov[1, 1])),
                    "chi2_dof": chi2 / dof if dof > 0 else math.nan, "A_g_low_over_zero": q,
                    "A_g_low_over_zero_err": qe})
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--campaign", default="results/parent", help="the campaign folder (default results/parent)")
    ap.add_argument("--csv", default="results/parent.csv", help="table (default results/parent.csv)")
    ap.add_argument("--figure", default="figures/parent.png", help="figure (default figures/parent.png; '' for none)")
    ap.add_argument("--fit-csv", default="", help="the Arrhenius fit ln A_g = a - c/T_p per point (e.g. results/parent_fit.csv; '' for none)")
    a = ap.parse_args(argv)
    try:
        rows = table(a.campaign)
        if not rows:
            raise ParentError(f"no digest under {a.campaign}/<zero|T*>/J*_h*_k*/N*.h5")
    except (ParentError, kd.DigestError) as e:
        print(f"khgps_parent: error: {e}", file=sys.stderr)
        return 1
    for r in rows:
        tp = "x = 0      " if r["start"] == "zero" else f"T_p = {r['T_p']:<6g}"
        par = "" if r["start"] == "zero" else (f", e_parent {r['e_parent']:.6g} +- {r['e_parent_err']:.2g}, acc "
                                               f"{r['acceptance']:.2f}, |drift| > 3: {r['drift_frac']:.1%}"
                                               + (f", paired de_IS {r['de_IS']:.3g} +- {r['de_IS_err']:.2g} over {r['paired']}, "
                                                  f"same minimum {r['same_minimum']:.0%}" if r["paired"] else ""))
        print(f"J={r['J']:g} h={r['h']:g} k0={r['kappa0']:g} N={r['N']} {tp}: {r['minima']}/{r['realizations']} minima, "
              f"A_g {r['A_g']:.4g} +- {r['A_g_err']:.2g}, beta {r['beta']:.3g} +- {r['beta_err']:.2g}, "
              f"e_IS {r['e_IS']:.8g} +- {r['e_IS_err']:.2g}{par}")
    write_csv(rows, a.csv)
    print(f"table: {a.csv}")
    fits = arrhenius(rows)
    for f in fits:
        print(f"J={f['J']:g} h={f['h']:g} k0={f['kappa0']:g} N={f['N']}: ln A_g = a - c/T_p over {f['temperatures']} T_p "
              f"({f['T_p_min']:g}-{f['T_p_max']:g}): c = {f['c']:.3g} +- {f['c_err']:.2g} (chi2/dof {f['chi2_dof']:.2f}); "
              f"A_g(T_p = {f['T_p_min']:g}) / A_g(x = 0) = {f['A_g_low_over_zero']:.3f} +- {f['A_g_low_over_zero_err']:.3f}")
    if a.fit_csv:
        write_csv(fits, a.fit_csv, FIT_COLUMNS)
        print(f"fit: {a.fit_csv}")
    if a.figure:
        from .plots import file_backend
        file_backend()
        save_figure(rows, a.figure)
        print(f"figure: {a.figure}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
