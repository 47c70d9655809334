#!/usr/bin/python3
"""Plot a khgps run: D(omega) per oscillator with the fitted A_g omega^4 (maximum likelihood over
the default window, see khgps_analysis.fit_power_law), x*^2 against kappa with its binned means,
and the participation ratio of the soft modes. Only realizations that reached a minimum are
used; files with different parameters are drawn as separate runs.

  /usr/bin/python3 analysis/plot_spectrum.py FILE.h5 [FILE2.h5 ...] -o out.png"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import khgps_analysis as ka  # noqa: E402
from khgps_plots import draw_dos, draw_participation, draw_x2_scatter, plt, save  # noqa: E402


def figure(files, bins=25):
    """The figure of the runs in files: (fig, runs used, status counts). SystemExit if no
    realization reached a minimum."""
    runs = ka.group_runs(files)
    used = [r for r in runs if r.n_ok > 0 and any(len(lam) for lam in r.eigenvalues)]
    status = {}
    for r in runs:
        for k, v in r.status_counts.items():
            status[k] = status.get(k, 0) + v
    if not used:
        sys.exit(f"plot_spectrum: no realization at a minimum in {files} (status counts {status})")

    fig, ax = plt.subplots(1, 3, figsize=(15, 4.6))
    for i, run in enumerate(used):
        col = f"C{i}"
        fit = draw_dos(ax[0], run, color=col, bins=bins,
                       label=f"{run.label() + ', ' if len(used) > 1 else ''}{run.n_ok} realization(s), N={run.N}")
        if fit is not None:
            ax[0].plot([], [], "--", color=col, label=rf"$A_g\omega^4$, $A_g$ = {ka.fmt_pm(fit.A_g, fit.A_g_err)} "
                       rf"($\omega\leq${fit.wmax:.3g}; free $\beta$ = {ka.fmt_pm(fit.beta, fit.beta_err)})")
        draw_x2_scatter(ax[1], run, color=col if len(used) > 1 else None, binned=len(used) == 1)
        draw_participation(ax[2], run, color=col if len(used) > 1 else None)
    cut = min(ka.completeness_cutoff(r) for r in used)
    ax[0].set_title(rf"lowest modes, complete below $\omega$={cut:.3g}")
    ax[0].legend(fontsize=7)
    x2 = ", ".join(ka.fmt_pm(*ka.mean_square_displacement(r)) for r in used)
    ax[1].set_title(rf"$\langle x_*^2\rangle$ = {x2}")
    ax[2].set_title("localization of the soft modes")
    p = used[0].params
    fig.suptitle(f"KHGPS  N={p['N']}  J={p['J']:g}  h={p['h']:g}  kappa0={p['kappa0']:g}   status: "
                 + ", ".join(f"{k} {v}" for k, v in sorted(status.items())))
    return fig, used, status


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="+")
    ap.add_argument("-o", "--output", default="spectrum.png")
    ap.add_argument("--bins", type=int, default=25, help="logarithmic bins in omega")
    a = ap.parse_args()
    fig, used, status = figure(a.files, a.bins)
    save(fig, a.output)
    n_ok = sum(r.n_ok for r in used)
    print(f"plot_spectrum: wrote {a.output} ({n_ok} minima of {sum(status.values())} realization(s))")


if __name__ == "__main__":
    main()
