"""Drawing helpers shared by khgps.plot_spectrum and khgps.figures (matplotlib).

Each function draws one quantity of a run on a given Axes; the numbers come from
khgps.spectra. Importing this module leaves matplotlib's backend alone (a notebook keeps its
own); the command-line entry points that only write files call file_backend() in their main()."""
import os

import matplotlib
import matplotlib.pyplot as plt  # noqa: F401  (re-exported for the scripts)
import numpy as np

from . import spectra as ka


def file_backend():
    """For a command-line entry point that writes image files: the non-interactive Agg backend,
    unless the user chose a backend (MPLBACKEND) or there is a display to show figures on."""
    if not any(os.environ.get(v) for v in ("MPLBACKEND", "DISPLAY", "WAYLAND_DISPLAY")):
        matplotlib.use("Agg")


def draw_dos(ax, run, color=None, label=None, bins=None, bins_per_decade=8, fit=None, guide=True, shift=1.0):
    """D(omega) of a run (points with Poisson error bars, up to the completeness cutoff) and, if
    guide, the fitted A_g omega^4 over the fit window (dashed) extended thinly to the cutoff.
    `fit` is a PowerLawFit (computed with the default window if None and guide is set); `shift`
    multiplies the data (vertical offset for clarity). Returns the fit (or None)."""
    d = ka.density_of_states(run, bins=bins, bins_per_decade=bins_per_decade)
    ok = d["counts"] > 0
    line = ax.errorbar(d["centers"][ok], shift * d["D"][ok], yerr=shift * d["err"][ok], fmt="o", ms=3.5,
                       color=color, label=label, capsize=0, lw=0.8)
    color = line[0].get_color()
    if guide:
        if fit is None:
            try:
                fit = ka.fit_power_law(run)
            except ValueError:
                fit = None
        if fit is not None and np.isfinite(fit.A_g):
            w = np.geomspace(d["edges"][0], fit.wmax, 50)
            ax.plot(w, shift * fit.A_g * w**4, "--", color=color, lw=1.2)
            w2 = np.geomspace(fit.wmax, d["cutoff"], 10)
            ax.plot(w2, shift * fit.A_g * w2**4, ":", color=color, lw=0.8)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(r"$\omega$")
    ax.set_ylabel(r"$D(\omega)$ per oscillator")
    return fit


def draw_x2_scatter(ax, run, max_points=200000, binned=True, color=None):
    """x*_i^2 against kappa_i (a thinned scatter) and the binned means <x~^2>(kappa)."""
    k, x2 = run.kappa.ravel(), (run.x**2).ravel()
    if len(k) > max_points:
        sel = np.random.default_rng(0).choice(len(k), max_points, replace=False)
        k, x2 = k[sel], x2[sel]
    ax.loglog(k, x2, ",", alpha=0.4, color=color or "0.5")
    if binned:
        b = ka.binned_x2(run)
        ok = b["counts"] > 0
        ax.errorbar(b["centers"][ok], b["mean"][ok], yerr=b["err"][ok], fmt="o-", ms=3, color=color or "C3",
                    label=r"$\langle\tilde x_*^2\rangle(\kappa)$")
    ax.set_xlabel(r"$\kappa_i$")
    ax.set_ylabel(r"$x_{*i}^2$")


def draw_participation(ax, run, color=None, label=None):
    """Participation ratios of the soft modes against omega, with the binned median."""
    p = ka.participation_vs_omega(run)
    ax.loglog(p["omega"], p["P"], ".", ms=2.5, alpha=0.5, color=color or "C0")
    ok = p["counts"] > 0
    ax.loglog(p["centers"][ok], p["median"][ok], "o-", ms=3, color=color or "C3", label=label or "median")
    ax.set_xlabel(r"$\omega$")
    ax.set_ylabel("participation ratio")


def draw_partial(ax, run, omega_x=None, color=None, label=None, n_grid=60):
    """The partial average xbar^2(kappa), rescaled by omega_x^2 on both axes if omega_x is given."""
    k, y, _, _ = ka.partial_average(run, n_grid=n_grid)
    s = 1.0 if omega_x is None else omega_x**2
    ax.loglog(k / s, y / s, "-", color=color, label=label, lw=1.5)


def save(fig, path):
    """Tight layout, write the PNG, close."""
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
