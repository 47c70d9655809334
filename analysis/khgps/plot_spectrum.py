#!/usr/bin/python3
"""Plot a khgps run: D(omega) per oscillator with the fitted A_g omega^4 (maximum likelihood over
the default window, see khgps_analysis.fit_power_law), x*^2 against kappa with its binned means,
and the participation ratio of the soft modes. Only realizations that reached a minimum are
used; files with different parameters are drawn as separate runs.

  /usr/bin/python3 analysis/plot_spectrum.py FILE.h5 [FILE2.h5 ...] -o out.png

A bad input (a missing file, a folder, an empty, truncated or foreign file, a khgps file without
realizations or without a minimum, a realization lacking its arrays or holding NaN, a figure that
cannot be written, a usage error) is one line `plot_spectrum.py: error: ...` on stderr and exit 1,
as khgps_tail.py does."""
import argparse
import os
import stat
import sys

import numpy as np

from . import spectra as ka
from .plots import draw_dos, draw_participation, draw_x2_scatter, file_backend, plt, save


class PlotError(Exception):
    """A bad input, told in one line."""


def figure(files, bins=25):
    """The figure of the runs in files: (fig, runs used, status counts). PlotError if no
    realization reached a minimum or a minimum holds a value that is not finite."""
    runs = ka.group_runs(files)
    used = [r for r in runs if r.n_ok > 0 and any(len(lam) for lam in r.eigenvalues)]
    status = {}
    for r in runs:
        for k, v in r.status_counts.items():
            status[k] = status.get(k, 0) + v
    if not used:
        counts = ", ".join(f"{k} {v}" for k, v in sorted(status.items())) or "no realization at all"
        raise PlotError(f"no realization at a minimum with eigenvalues in {', '.join(files)} ({counts})")
    for r in used:
        for what, arrays in (("kappa", list(r.kappa)), ("x", list(r.x)), ("eigenvalues", r.eigenvalues)):
            for (seed, k), a in zip(r.ids, arrays):
                if not np.all(np.isfinite(a)):
                    raise PlotError(f"realization {k} of {', '.join(r.files)} has {what} that are not finite (NaN or inf): a damaged file")

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


PROG = "plot_spectrum.py"


class Parser(argparse.ArgumentParser):
    def error(self, message):
        raise PlotError(f"{message} (usage: {PROG} FILE.h5 [FILE2.h5 ...] [-o out.png] [--bins B]; see --help)")


def first_line(e):
    return str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__


def check_files(files):
    """Every file exists, is a regular file and is not empty (before h5py sees it)."""
    for path in files:
        try:
            st = os.stat(path)
        except OSError as e:
            raise PlotError(f"{path}: {e.strerror.lower()}")
        if stat.S_ISDIR(st.st_mode):
            raise PlotError(f"{path} is a folder, not a khgps run file (give the .h5 files in it)")
        if not stat.S_ISREG(st.st_mode):
            raise PlotError(f"{path} is not a regular file")
        if st.st_size == 0:
            raise PlotError(f"{path} is empty, not a khgps run file")


def why(e):
    """A reading error in words: h5py's and khgps_io's exceptions are not for users."""
    if isinstance(e, KeyError):
        return f"not a khgps run file (no {first_line(e).strip(chr(34) + chr(39))})"
    if isinstance(e, ValueError) and str(e).startswith("load_run: no realization"):
        return "holds no realization (nothing to plot)"
    if isinstance(e, OSError):
        return f"not a readable khgps run file (corrupt, truncated or foreign HDF5: {first_line(e)})"
    return f"{first_line(e)}"


def main(argv=None):
    ap = Parser(prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="+")
    ap.add_argument("-o", "--output", default="spectrum.png")
    ap.add_argument("--bins", type=int, default=25, help="logarithmic bins in omega")
    a = ap.parse_args(argv)
    file_backend()
    if a.bins < 1:
        raise PlotError(f"--bins {a.bins}: give a positive number of bins")
    check_files(a.files)
    folder = os.path.dirname(a.output) or "."
    if not os.path.isdir(folder):
        raise PlotError(f"cannot write {a.output}: folder {folder} does not exist")
    errors = []
    ka.group_runs(a.files, on_error=lambda p, e: errors.append(f"{p}: {why(e)}"))
    if errors:
        raise PlotError(errors[0] + (f" (and {len(errors) - 1} more bad file(s))" if len(errors) > 1 else ""))
    try:
        fig, used, status = figure(a.files, a.bins)
    except PlotError:
        raise
    except Exception as e:  # a realization without its arrays, or of the wrong shape
        raise PlotError(f"{', '.join(a.files)}: cannot use the realizations ({why(e)}): a damaged file")
    try:
        save(fig, a.output)
    except Exception as e:
        raise PlotError(f"cannot write {a.output}: {first_line(e)}")
    n_ok = sum(r.n_ok for r in used)
    print(f"plot_spectrum: wrote {a.output} ({n_ok} minima of {sum(status.values())} realization(s))")
    return 0


def cli(argv=None):
    """main() as a command: every error one line on stderr and exit 1."""
    try:
        sys.exit(main(argv))
    except PlotError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print(f"{PROG}: error: interrupted", file=sys.stderr)
        sys.exit(1)
    except Exception as e:  # anything not foreseen: still one line, never a traceback
        print(f"{PROG}: error: {type(e).__name__}: {first_line(e)}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    cli()
