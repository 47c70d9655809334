#!/usr/bin/python3
"""Plot a khgps run: D(omega) per oscillator with the omega^4 guide, x*^2 against kappa, and the
participation ratio of the soft modes. Only realizations that reached a minimum are used.

  /usr/bin/python3 analysis/plot_spectrum.py FILE.h5 [FILE2.h5 ...] -o out.png"""
import argparse
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from khgps_io import count_status, realizations  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="+")
    ap.add_argument("-o", "--output", default="spectrum.png")
    ap.add_argument("--bins", type=int, default=25, help="logarithmic bins in omega")
    a = ap.parse_args()

    omegas, prs, x2, kap, tops = [], [], [], [], []
    N = None
    for _, d in realizations(a.files):
        lam = d.get("eigenvalues", np.array([]))
        if len(lam) == 0:
            continue
        N = len(d["x"])
        om = np.sqrt(np.clip(lam, 0, None))
        omegas.append(om)
        prs.append(d["participation_ratio"])
        tops.append(om.max())
        x2.append(d["x"] ** 2)
        kap.append(d["kappa"])
    status = count_status(a.files)
    nreal = len(omegas)
    if nreal == 0:
        sys.exit(f"plot_spectrum: no realization at a minimum in {a.files} (status counts {status})")
    om = np.concatenate(omegas)
    cutoff = min(tops)  # above it the lowest-nev sets miss modes
    used = om[om <= cutoff]
    edges = np.logspace(np.log10(max(used.min(), 1e-12)) - 0.01, np.log10(cutoff), a.bins + 1)
    cnt, _ = np.histogram(used, edges)
    centers = np.sqrt(edges[1:] * edges[:-1])
    D = cnt / (nreal * N * np.diff(edges))
    err = np.sqrt(cnt) / (nreal * N * np.diff(edges))

    fig, ax = plt.subplots(1, 3, figsize=(15, 4.6))
    ok = cnt > 0
    ax[0].errorbar(centers[ok], D[ok], yerr=err[ok], fmt="o", ms=4, label=f"khgps, {nreal} realization(s), N={N}")
    # omega^4 guide through the lower half of the points
    lo = ok & (centers <= np.median(centers[ok]))
    if lo.sum() >= 2:
        Ag = np.exp(np.mean(np.log(D[lo]) - 4 * np.log(centers[lo])))
        ax[0].plot(centers, Ag * centers**4, "k--", lw=1, label=rf"$A_g\,\omega^4$, $A_g\approx${Ag:.3g}")
    ax[0].set_xscale("log"), ax[0].set_yscale("log")
    ax[0].set_xlabel(r"$\omega$"), ax[0].set_ylabel(r"$D(\omega)$ per oscillator")
    ax[0].set_title(rf"lowest modes, complete below $\omega$={cutoff:.3g}")
    ax[0].legend(fontsize=8)

    ax[1].loglog(np.concatenate(kap), np.concatenate(x2), ",", alpha=0.5)
    ax[1].set_xlabel(r"$\kappa_i$"), ax[1].set_ylabel(r"$x_{*i}^2$")
    ax[1].set_title(rf"$\langle x_*^2\rangle$ = {np.mean(np.concatenate(x2)):.4g}")

    ax[2].loglog(om, np.concatenate(prs), ".", ms=3)
    ax[2].set_xlabel(r"$\omega$"), ax[2].set_ylabel("participation ratio")
    ax[2].set_title("localization of the soft modes")
    p = next(realizations(a.files))[1]["params"]
    fig.suptitle(f"KHGPS  N={p['N']}  J={p['J']:g}  h={p['h']:g}  kappa0={p['kappa0']:g}   status: "
                 + ", ".join(f"{k} {v}" for k, v in sorted(status.items())))
    fig.tight_layout()
    fig.savefig(a.output, dpi=110)
    print(f"plot_spectrum: wrote {a.output} ({nreal} minima of {sum(status.values())} realization(s))")


if __name__ == "__main__":
    main()
