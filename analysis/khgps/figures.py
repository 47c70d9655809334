#!/usr/bin/python3
"""The KHGPS paper's Figs. 2-6 as PNG files from khgps run files.

  fig2_dos.png        D(omega) for several (J, kappa0) at h = 0.01, with the fitted A_g omega^4
  fig3_partial_h.png  partial averages xbar^2(kappa) for several h (weak regime), their collapse
                      with omega_x = h^(1/3), and <x~^2>(kappa) against the kappa^-2 law
  fig4_Ag_weak.png    kappa0^(1/2) h^(2/3) J A_g (log scale) against kappa0 h^(2/3)/J^2 (Eq. 3)
  fig5_collapse_J.png collapse of xbar^2 over a J series with omega_x(J) extracted (inset), and
                      <x*^2> against J
  fig6_Ag_J.png       A_g against J at h = 0.01 with c/(kappa0 omega_x^3)

Inputs, per figure, either listed explicitly or selected from a directory of run files (files
are grouped into runs by their /params: N, J, h, kappa0, kappa_min, A):

  /usr/bin/python3 analysis/khgps_figures.py --fig2 a.h5 b.h5 --fig5 j*.h5 --out-dir runs/out/figures
  /usr/bin/python3 analysis/khgps_figures.py --runs-dir runs/out/laptop --out-dir runs/out/figures

Selection from --runs-dir (an explicit list for a figure replaces it):
  fig2: runs at h = 0.01 (at most 8, spread over the list sorted by kappa0, J);
  fig3: runs of the (J, kappa0) with the most distinct h values (at least 2);
  fig4: runs in the weak regime kappa0 h^(2/3)/J^2 >= --weak-min (default 1);
  fig5, fig6: runs at h = 0.01, kappa0 = 1 with at least 3 distinct J.
Where several runs share (J, h, kappa0) the one with the largest N (then most minima) is used.
A figure whose inputs are missing is skipped with a message; the exit code is 1 only if a figure
failed for another reason."""
import argparse
import os
import sys
import traceback

import numpy as np

from . import spectra as ka
from .plots import draw_dos, draw_partial, file_backend, plt, save

H_PAPER = 0.01


class Skip(Exception):
    """A figure cannot be made from the inputs given (the message says why)."""


def _close(a, b):
    return np.isclose(float(a), float(b), rtol=1e-9, atol=0)


def _unique(runs):
    """One run per (J, h, kappa0): the largest N, then the most minima."""
    best = {}
    for r in runs:
        if r.n_ok == 0:
            continue
        key = (r.params["J"], r.params["h"], r.params["kappa0"])
        if key not in best or (r.N, r.n_ok) > (best[key].N, best[key].n_ok):
            best[key] = r
    return list(best.values())


def select_fig2(runs):
    sel = sorted((r for r in _unique(runs) if _close(r.params["h"], H_PAPER)),
                 key=lambda r: (r.params["kappa0"], r.params["J"]))
    if len(sel) > 8:
        sel = [sel[i] for i in np.unique(np.linspace(0, len(sel) - 1, 8).round().astype(int))]
    return sel


def select_fig3(runs):
    groups = {}
    for r in _unique(runs):
        groups.setdefault((r.params["J"], r.params["kappa0"]), []).append(r)
    if not groups:
        return []
    key = max(groups, key=lambda k: (len(groups[k]), -k[0]))
    return sorted(groups[key], key=lambda r: r.params["h"])


def select_fig4(runs, weak_min=1.0):
    def ratio(r):
        p = r.params
        return p["kappa0"] * p["h"] ** (2 / 3) / p["J"] ** 2 if p["J"] > 0 else np.inf
    return [r for r in _unique(runs) if r.params["J"] > 0 and r.params["h"] > 0 and ratio(r) >= weak_min]


def select_fig56(runs):
    sel = sorted((r for r in _unique(runs) if _close(r.params["h"], H_PAPER) and _close(r.params["kappa0"], 1.0)),
                 key=lambda r: r.params["J"])
    return sel if len(sel) >= 3 else []


def _need(runs, n, what):
    if len(runs) < n:
        raise Skip(f"needs {what} (got {len(runs)} run(s))")


def _fits(runs, opts, log):
    """Power-law fits of the runs as (run, fit, omega4): omega4 tells whether the free exponent is
    4 within 3 sigma (drawn as filled symbols; open symbols: the window is not in the omega^4
    regime at this size, so A_g there is only the omega^4-weighted count of the window). Runs
    whose spectrum cannot be fitted are dropped with a message."""
    out = []
    for r in runs:
        try:
            f = ka.fit_power_law(r, wmax_fraction=opts.wmax_fraction, n_boot=opts.bootstrap)
        except ValueError as e:
            log(f"  {r.label()}: no fit ({e})")
            continue
        if not np.isfinite(f.A_g) or f.n_modes < 3:
            log(f"  {r.label()}: no fit ({f.n_modes} modes in the window)")
            continue
        omega4 = bool(np.isfinite(f.beta) and abs(f.beta - 4) <= 3 * f.beta_err)
        log(f"  {r.label()}: A_g = {ka.fmt_pm(f.A_g, f.A_g_err)} ({f.error_method}), free beta = {ka.fmt_pm(f.beta, f.beta_err)}"
            f"{'' if omega4 else ' (not 4: open symbol)'}, {f.n_modes} modes in [{f.wmin:.3g}, {f.wmax:.3g}]")
        out.append((r, f, omega4))
    return out


def _collapse(runs, log, reference_J=None):
    """omega_x of the runs (sorted by J or h) from ka.collapse_partial_averages, printed; the
    reference is the run nearest reference_J if given, else automatic."""
    ref = None
    if reference_J is not None:
        js = [r.params["J"] for r in runs]
        ref = int(np.argmin(np.abs(np.log(js) - np.log(reference_J))))
    c = ka.collapse_partial_averages(runs, reference=ref)
    log(f"  collapse: reference {runs[c.reference].label()}, omega_x,ref^2 = kappa_c = {c.kappa_c_ref:.4g}"
        f" (plateau xbar^2/omega_x^2 = {c.plateau:.3g})")
    for r, w, cost in zip(runs, c.omega_x, c.cost):
        log(f"    {r.label()}: omega_x = {w:.4g}" + ("  (reference)" if r is runs[c.reference] else f"  (chi^2/point {cost:.3g})"))
    return c


def fig2(runs, path, opts, log):
    _need(runs, 1, "at least one run with minima")
    fig, ax = plt.subplots(figsize=(6.4, 5))
    fits = {id(r): f for r, f, _ in _fits(runs, opts, log)}
    for i, r in enumerate(runs):
        draw_dos(ax, r, color=f"C{i % 10}", label=rf"$J$={r.params['J']:g}, $\kappa_0$={r.params['kappa0']:g}"
                 f"  (N={r.N}, {r.n_ok} real.)", bins_per_decade=opts.bins_per_decade, fit=fits.get(id(r)),
                 guide=id(r) in fits)
    ax.plot([], [], "k--", lw=1, label=r"$A_g\,\omega^4$ (fit window; dotted: up to the cutoff)")
    ax.set_title(f"KHGPS, h = {runs[0].params['h']:g}")
    ax.legend(fontsize=7)
    return save(fig, path)


def fig3(runs, path, opts, log):
    hs = sorted({r.params["h"] for r in runs})
    _need(hs, 2, "runs at >= 2 values of h")
    runs = sorted(runs, key=lambda r: r.params["h"])
    fig, ax = plt.subplots(1, 3, figsize=(15, 4.6))
    for i, r in enumerate(runs):
        col, h23 = f"C{i % 10}", r.params["h"] ** (2 / 3)
        lab = rf"$h$={r.params['h']:g}"
        draw_partial(ax[0], r, color=col, label=lab)
        draw_partial(ax[1], r, omega_x=h23**0.5, color=col, label=lab)
        b = ka.binned_x2(r)
        ok = b["counts"] > 0
        ax[2].errorbar(b["centers"][ok] / h23, b["mean"][ok] / h23, yerr=b["err"][ok] / h23, fmt="o-", ms=3, color=col, label=lab)
    p = runs[0].params
    ax[0].set_xlabel(r"$\kappa$"), ax[0].set_ylabel(r"$\overline{x_*^2}(\kappa)$")
    ax[0].set_title(rf"(a) partial averages, $J$={p['J']:g}, $\kappa_0$={p['kappa0']:g}")
    ax[1].set_xlabel(r"$\kappa/\omega_x^2$"), ax[1].set_ylabel(r"$\overline{x_*^2}/\omega_x^2$")
    ax[1].set_title(r"(b) rescaled with $\omega_x = h^{1/3}$")
    ax[2].set_xlabel(r"$\kappa/h^{2/3}$"), ax[2].set_ylabel(r"$\langle\tilde x_*^2\rangle(\kappa)/h^{2/3}$")
    ax[2].set_title(r"(c) binned $x_{*i}^2$ against $\kappa_i$")
    ax[2].set_xscale("log"), ax[2].set_yscale("log")
    try:
        c = _collapse(runs, log)
        for r, w in zip(runs, c.omega_x):
            log(f"    {r.label()}: omega_x / h^(1/3) = {w / r.params['h'] ** (1 / 3):.3g}")
        # the reference run's asymptotes in the units of panel (b)
        h23 = runs[c.reference].params["h"] ** (2 / 3)
        s = np.geomspace(*ax[1].get_xlim(), 50)
        ax[1].plot(s, c.P_ref / h23 * np.minimum(1.0, c.kappa_c_ref / h23 / s), "k:", lw=1,
                   label=r"asymptotes $\propto 1$, $\propto\kappa^{-1}$")
    except ValueError as e:
        log(f"  collapse not possible: {e}")
    # kappa^-2 guide through the largest-kappa bin of the middle run
    mid = runs[len(runs) // 2]
    h23 = mid.params["h"] ** (2 / 3)
    b = ka.binned_x2(mid)
    j = np.flatnonzero(b["counts"] > 0)[-1]
    s = np.geomspace(b["centers"][j] / h23 / 10, b["centers"][j] / h23, 20)
    ax[2].plot(s, 2 * b["mean"][j] / h23 * (s * h23 / b["centers"][j]) ** -2, "k--", lw=1, label=r"$\propto\kappa^{-2}$")
    for a in ax:
        a.legend(fontsize=7)
    return save(fig, path)


def fig4(runs, path, opts, log):
    fits = _fits(runs, opts, log)
    _need(fits, 2, "at least 2 weak-regime runs with a fitted A_g")
    fig, ax = plt.subplots(figsize=(6.4, 5))
    k0s = sorted({r.params["kappa0"] for r, _, _ in fits})
    hs = sorted({r.params["h"] for r, _, _ in fits})
    markers = "osD^vP*X"
    X, Y, G = [], [], []
    for r, f, good in fits:
        p = r.params
        x = p["kappa0"] * p["h"] ** (2 / 3) / p["J"] ** 2
        pref = p["kappa0"] ** 0.5 * p["h"] ** (2 / 3) * p["J"]
        y, dy = pref * f.A_g, pref * f.A_g_err
        ax.errorbar([x], [y], yerr=[dy] if np.isfinite(dy) else None, fmt=markers[k0s.index(p["kappa0"]) % len(markers)],
                    color=f"C{hs.index(p['h']) % 10}", ms=5, mfc=None if good else "none")
        X.append(x), Y.append(y), G.append(good)
        log(f"  {r.label()}: x = {x:.4g}, kappa0^1/2 h^2/3 J A_g = {ka.fmt_pm(y, dy)}")
    for i, h in enumerate(hs):
        ax.plot([], [], "s", color=f"C{i % 10}", label=rf"$h$={h:g}")
    for i, k0 in enumerate(k0s):
        ax.plot([], [], markers[i % len(markers)], color="0.4", label=rf"$\kappa_0$={k0:g}")
    X, Y, G = map(np.asarray, (X, Y, G))
    use = G if len(set(X[G].round(12))) >= 2 else np.ones(len(X), bool)
    if len(set(X[use].round(12))) >= 2:
        # unweighted: the scatter between runs is systematic (finite N, window), not the error bars
        slope, icpt = np.polyfit(X[use], np.log(Y[use]), 1)
        xs = np.linspace(0, X.max() * 1.05, 50)
        ax.plot(xs, np.exp(icpt + slope * xs), "k--", lw=1, label=rf"$\exp({icpt:.2f} {slope:+.3f}\,x)$")
        log(f"  least squares over {use.sum()} run(s): log(kappa0^1/2 h^2/3 J A_g) = {icpt:.3f} + ({slope:.4f}) kappa0 h^2/3 / J^2")
    ax.set_yscale("log")
    ax.set_xlabel(r"$\kappa_0 h^{2/3}/J^2$")
    ax.set_ylabel(r"$\kappa_0^{1/2} h^{2/3} J A_g$")
    ax.set_title("weak interactions: Eq. (3)")
    ax.legend(fontsize=7)
    return save(fig, path)


_collapse_cache = {}


def _collapse_cached(runs, opts, log):
    key = tuple(id(r) for r in runs)
    if key not in _collapse_cache:
        _collapse_cache[key] = _collapse(runs, log, opts.reference_J)
    return _collapse_cache[key]


def fig5(runs, path, opts, log):
    _need(sorted({r.params["J"] for r in runs}), 3, "a J series (>= 3 values of J)")
    runs = sorted(runs, key=lambda r: r.params["J"])
    c = _collapse_cached(runs, opts, log)
    fig, ax = plt.subplots(1, 2, figsize=(12, 4.8))
    cmap = plt.get_cmap("viridis")
    Js = np.array([r.params["J"] for r in runs])
    for i, (r, w) in enumerate(zip(runs, c.omega_x)):
        draw_partial(ax[0], r, omega_x=w, color=cmap(i / max(len(runs) - 1, 1)), label=rf"$J$={r.params['J']:g}")
    lo = min(np.exp(lx[0] - 2 * np.log(w)) for (lx, _, _), w in zip(c.curves, c.omega_x))
    hi = max(np.exp(lx[-1] - 2 * np.log(w)) for (lx, _, _), w in zip(c.curves, c.omega_x))
    s = np.geomspace(lo, hi, 60)
    ax[0].plot(s, c.plateau * np.minimum(1, 1 / s), "k:", lw=1, label="asymptotes, crossing at 1")
    ax[0].set_xlabel(r"$\kappa/\omega_x^2$"), ax[0].set_ylabel(r"$\overline{x_*^2}/\omega_x^2$")
    p = runs[0].params
    ax[0].set_title(rf"(a) collapse, $h$={p['h']:g}, $\kappa_0$={p['kappa0']:g}")
    ymin = min(np.exp(np.min(ly - 2 * np.log(w))) for (_, ly, _), w in zip(c.curves, c.omega_x))
    ax[0].set_ylim(bottom=ymin / 30)  # room below the curves for the inset and the legend
    ax[0].legend(fontsize=6, ncol=2, loc="lower right")
    ins = ax[0].inset_axes([0.1, 0.1, 0.32, 0.32])
    ins.loglog(Js, c.omega_x, "o", ms=3)
    hx = p["h"] ** (1 / 3)
    ins.axhline(hx, color="0.5", lw=0.8, ls=":")
    inter = (c.omega_x > 1.2 * hx) & (Js < p["kappa0"])  # intermediate regime: J_x < J < kappa0
    if inter.sum() >= 1:
        a = np.exp(np.mean(np.log(c.omega_x[inter]) - 7 / 8 * np.log(Js[inter])))
        ins.loglog(Js, a * Js ** (7 / 8), "k--", lw=0.8)
        ins.text(0.05, 0.85, r"$J^{7/8}$", transform=ins.transAxes, fontsize=7)
    ins.set_xlabel(r"$J$", fontsize=7), ins.set_ylabel(r"$\omega_x$", fontsize=7)
    ins.tick_params(labelsize=6)
    x2 = np.array([ka.mean_square_displacement(r) for r in runs])
    ax[1].errorbar(Js, x2[:, 0], yerr=x2[:, 1], fmt="o", ms=4, label=r"$\langle x_*^2\rangle$")
    k0 = p["kappa0"]
    tail = c.omega_x**2 <= k0  # where kappa0 is in the tail of the master curve
    ax[1].loglog(Js[tail], c.plateau * c.omega_x[tail] ** 4 / k0, "k--", lw=1,
                 label=rf"{c.plateau:.2g} $\omega_x^4/\kappa_0$ ($\omega_x$ of the collapse, $\omega_x^2\leq\kappa_0$)")
    ax[1].loglog(Js, x2[-1, 0] * Js / Js[-1], ":", color="0.5", lw=1, label=r"$\propto J$")
    ax[1].set_xscale("log"), ax[1].set_yscale("log")
    ax[1].set_xlabel(r"$J$"), ax[1].set_ylabel(r"$\langle x_*^2\rangle$")
    ax[1].set_title(r"(b) mean square displacement")
    ax[1].legend(fontsize=7)
    for r, (m, e) in zip(runs, x2):
        log(f"  {r.label()}: <x*^2> = {ka.fmt_pm(m, e)}")
    return save(fig, path)


def fig6(runs, path, opts, log):
    _need(sorted({r.params["J"] for r in runs}), 3, "a J series (>= 3 values of J)")
    runs = sorted(runs, key=lambda r: r.params["J"])
    c = _collapse_cached(runs, opts, log)
    wx = dict(zip((id(r) for r in runs), c.omega_x))
    fits = _fits(runs, opts, log)
    _need(fits, 2, "at least 2 runs with a fitted A_g")
    J = np.array([r.params["J"] for r, _, _ in fits])
    A = np.array([f.A_g for _, f, _ in fits])
    dA = np.array([f.A_g_err for _, f, _ in fits])
    G = np.array([g for _, _, g in fits])
    w = np.array([wx[id(r)] for r, _, _ in fits])
    k0 = fits[0][0].params["kappa0"]
    fig, ax = plt.subplots(figsize=(6.4, 5))
    ax.errorbar(J[G], A[G], yerr=dA[G], fmt="o", ms=5, color="C0", label=r"$A_g$ (fit of $D=A_g\omega^4$)")
    if (~G).any():
        ax.errorbar(J[~G], A[~G], yerr=dA[~G], fmt="o", ms=5, color="C0", mfc="none", label=r"free exponent $\neq 4$")
    pred = 1.0 / (k0 * w**3)
    tail = J >= J[np.argmax(A)]  # the decreasing branch, where Eq. (4) applies
    if (tail & G).sum() >= 2:  # prefer runs whose spectrum is omega^4 in the window
        tail &= G
    cst = float(np.exp(np.mean(np.log(A[tail] / pred[tail]))))
    Jall = np.array([r.params["J"] for r in runs])
    ax.loglog(Jall, cst / (k0 * c.omega_x**3), "k-", lw=1, label=rf"{cst:.2g}$/(\kappa_0\omega_x^3)$ (fit for $J\geq J_{{peak}}$)")
    ax.set_xscale("log"), ax.set_yscale("log")
    ax.set_xlabel(r"$J$"), ax.set_ylabel(r"$A_g$")
    p = fits[0][0].params
    ax.set_title(rf"$A_g$ against $J$, $h$={p['h']:g}, $\kappa_0$={k0:g}")
    ax.legend(fontsize=7)
    log(f"  c/(kappa0 omega_x^3) with c = {cst:.3g} (geometric mean of A_g kappa0 omega_x^3 over J = "
        + ", ".join(f"{j:g}" for j in J[tail]) + ")")
    return save(fig, path)


FIGURES = [("fig2", "fig2_dos.png", fig2, select_fig2), ("fig3", "fig3_partial_h.png", fig3, select_fig3),
           ("fig4", "fig4_Ag_weak.png", fig4, None), ("fig5", "fig5_collapse_J.png", fig5, select_fig56),
           ("fig6", "fig6_Ag_J.png", fig6, select_fig56)]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for name, fname, _, _ in FIGURES:
        ap.add_argument(f"--{name}", nargs="+", metavar="FILE", help=f"run files for {fname}")
    ap.add_argument("--runs-dir", help="select the inputs of every figure not listed from the *.h5 files under this directory")
    ap.add_argument("--out-dir", default="figures", help="where the PNGs go (default figures/)")
    ap.add_argument("--wmax-fraction", type=float, default=ka.WMAX_FRACTION, help="fit window top / completeness cutoff")
    ap.add_argument("--bootstrap", type=int, default=200, help="bootstrap resamples for the A_g errors")
    ap.add_argument("--bins-per-decade", type=float, default=12, help="D(omega) bins per decade")
    ap.add_argument("--weak-min", type=float, default=1.0, help="fig4 from --runs-dir: minimum kappa0 h^(2/3)/J^2")
    ap.add_argument("--reference-J", type=float, default=None, help="figs 5, 6: reference run of the collapse (nearest J); default automatic")
    opts = ap.parse_args(argv)
    file_backend()
    if not opts.runs_dir and not any(getattr(opts, n) for n, *_ in FIGURES):
        ap.error("give --runs-dir or at least one --figN list")

    def log(msg):
        print(msg, flush=True)

    def bad_file(path, e):
        log(f"khgps_figures: skipping unreadable {path}: {e}")

    pool = []
    if opts.runs_dir:
        if not os.path.isdir(opts.runs_dir):
            log(f"khgps_figures: no directory {opts.runs_dir}: only the figures with explicit lists are made")
        else:
            files = ka.find_run_files(opts.runs_dir)
            log(f"khgps_figures: {len(files)} file(s) under {opts.runs_dir}")
            pool = ka.group_runs(files, on_error=bad_file)
    os.makedirs(opts.out_dir, exist_ok=True)
    failed = 0
    for name, fname, make, select in FIGURES:
        listed = getattr(opts, name)
        if listed:
            missing = [f for f in listed if not os.path.isfile(f)]
            for f in missing:
                log(f"{name}: no such file {f}")
            runs = [r for r in ka.group_runs([f for f in listed if os.path.isfile(f)], on_error=bad_file) if r.n_ok > 0]
        elif pool:
            runs = select_fig4(pool, opts.weak_min) if name == "fig4" else select(pool)
        else:
            log(f"{name}: skipped: no input (give --{name} FILE... or --runs-dir)")
            continue
        log(f"{name}: {len(runs)} run(s)" + (": " + "; ".join(f"{r.label()} N={r.N} R={r.n_ok}" for r in runs) if runs else ""))
        try:
            out = make(runs, os.path.join(opts.out_dir, fname), opts, log)
            log(f"{name}: wrote {out}")
        except Skip as e:
            log(f"{name}: skipped: {e}")
        except Exception as e:  # a figure that fails must not stop the others
            failed += 1
            log(f"{name}: FAILED: {e!r}")
            traceback.print_exc()
        finally:
            plt.close("all")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
