"""The analysis (analysis/khgps/spectra.py and its scripts) against known answers.

(a) Synthetic spectra drawn from D(omega) = A omega^4 below omega_1 and A omega_1^3 omega above
    (the linear remnant of p(kappa)), written as khgps files: the maximum-likelihood fit
    recovers A and the exponent 4 within 3 sigma, with small sigma; bootstrap and likelihood
    errors agree; over 40 independent ensembles the 2-sigma intervals cover the truth.
(b) Partial averages of x~^2(kappa) = c/(1 + (kappa/k1)^2) sampled on uniform kappa match the
    analytic (1/kappa) int_0^kappa x~^2 = c k1 arctan(kappa/k1)/kappa within sampling error, also
    for a gapped p(kappa); xbar^2(kappa0) == <x*^2> exactly. The crossover fit and the collapse of
    several such runs give omega_x^2 proportional to k1, with omega_x,ref^2 = pi k1/2.
(c) Small real khgps runs: the summary's numbers equal those computed with h5py + numpy.
(d) Non-minimum realizations (status 1, 2) and duplicates are left out and reported.
(e) The scripts: summary, plot_spectrum and the figures (a figure without input is skipped).
(f) plot_spectrum.py on bad inputs (a missing file, a folder, an empty, truncated, garbage or
    foreign file, a khgps file without realizations, without a minimum, without kappa or
    /params/J, NaN eigenvalues or x, an output in a missing folder or of an unknown format, a
    usage error): one line `plot_spectrum.py: error: ...`, exit 1, no traceback, no figure.
(g) The package analysis/khgps: `import khgps` with only PYTHONPATH=analysis from another folder,
    khgps.read (FILE and FILE.pending), `python3 -m khgps.summary FILE --csv` (one row per
    realization), the -m entry points, and importing khgps.plots leaves matplotlib's backend alone."""
import json
import os
import shutil
import subprocess

import h5py
import numpy as np

from common import KHGPS, ROOT, check, done, out, run

from khgps import spectra as ka  # noqa: E402

PY = "/usr/bin/python3"
PARAMS = dict(N=1000, kappa0=1.0, kappa_min=0.0, J=0.1, h=0.01, A=1.0, seed=1, nev=60, gtol=1e-9,
              x0_amplitude=0.0, polish_its=1)


def write_fake(path, reals, **params):
    """A khgps-1 file (README layout) with the given realizations: dicts with kappa, x,
    eigenvalues (ascending), and optionally participation_ratio, status (default 0), realization."""
    p = dict(PARAMS, **params)
    with h5py.File(path, "w") as f:
        f.attrs["format"] = "khgps-1"
        g = f.create_group("params")
        for k, v in p.items():
            g.attrs[k] = v
        rg = f.create_group("realizations")
        for i, d in enumerate(reals):
            idx = d.get("realization", i)
            r = rg.create_group(f"{idx:06d}")
            st = d.get("status", 0)
            r.attrs["realization"] = idx
            r.attrs["status"] = st
            r.attrs["status_name"] = ka.STATUS_NAMES[st]
            lam = np.asarray(d["eigenvalues"], float)
            r.attrs["lowest_eigenvalue"] = lam[0]
            r.attrs["nconv"] = len(lam)
            for k in ("kappa", "x"):
                r.create_dataset(k, data=np.asarray(d[k], float))
            r.create_dataset("eigenvalues", data=lam)
            r.create_dataset("participation_ratio", data=d.get("participation_ratio", np.full(len(lam), 0.01)))
    return path


# (a) ------------------------------------------------------------------------------------------
A_TRUE, W1, N, NEV = 500.0, 0.2, 1000, 60


def lowest_modes(rng, nev=NEV, A=A_TRUE, w1=W1, n=N):
    """The nev lowest frequencies of one realization: a Poisson process of intensity n D(omega),
    D = A omega^4 (omega < w1), A w1^3 omega (above); Lambda(omega) = n int_0^omega D, inverted."""
    lam = np.cumsum(rng.exponential(size=nev))
    l1 = n * A * w1**5 / 5
    low = lam <= l1
    om = np.empty(nev)
    om[low] = (5 * lam[low] / (n * A)) ** 0.2
    om[~low] = np.sqrt(w1**2 + 2 * (lam[~low] - l1) / (n * A * w1**3))
    return om


def synthetic_reals(rng, R):
    return [{"kappa": rng.uniform(0, 1, N), "x": rng.normal(0, 0.1, N), "eigenvalues": lowest_modes(rng) ** 2,
             "participation_ratio": rng.uniform(0.001, 0.1, NEV)} for _ in range(R)]


rng = np.random.default_rng(20240601)
syn = write_fake(out("synthetic.h5"), synthetic_reals(rng, 80), N=N, nev=NEV)
r = ka.load_run(syn)
wc = ka.completeness_cutoff(r)
check(r.n_ok == 80 and W1 < wc, f"synthetic: 80 realizations read, cutoff {wc:.3f} above the crossover {W1} (linear part present)")
f = ka.fit_power_law(r, n_boot=400)
check(f.wmax < W1 and f.error_method == "bootstrap", f"synthetic: default window [0, {f.wmax:.3f}] inside the omega^4 part, bootstrap errors")
check(abs(f.A_g - A_TRUE) < 3 * f.A_g_err and f.A_g_err / A_TRUE < 0.15,
      f"synthetic: A_g = {ka.fmt_pm(f.A_g, f.A_g_err)} recovers {A_TRUE:g} (< 3 sigma, sigma < 15%; {f.n_modes} modes)", f"{f}")
check(abs(f.beta - 4) < 3 * f.beta_err and f.beta_err < 0.6,
      f"synthetic: exponent {ka.fmt_pm(f.beta, f.beta_err)} recovers 4 (< 3 sigma, sigma < 0.6)", f"{f}")
check(0.6 < f.A_g_err_boot / f.A_g_err_model < 1.6 and 0.6 < f.beta_err_boot / f.beta_err_model < 1.6,
      f"synthetic: bootstrap and likelihood errors agree (A_g {f.A_g_err_boot:.3g} vs {f.A_g_err_model:.3g},"
      f" beta {f.beta_err_boot:.3g} vs {f.beta_err_model:.3g})")
g = ka.fit_power_law(r, wmin=0.08, wmax=0.19)
check(abs(g.A_g - A_TRUE) < 3 * g.A_g_err and abs(g.beta - 4) < 3 * g.beta_err,
      f"synthetic: window [0.08, 0.19]: A_g = {ka.fmt_pm(g.A_g, g.A_g_err)}, beta = {ka.fmt_pm(g.beta, g.beta_err)}")
try:
    ka.fit_power_law(r, wmax=1.01 * wc)
    check(False, "synthetic: a window above the completeness cutoff is refused")
except ValueError:
    check(True, "synthetic: a window above the completeness cutoff is refused")
# the histogram: per oscillator and realization, A omega^4 below w1 and the linear part above
d = ka.density_of_states(r, bins_per_decade=12)
lo, hi = d["edges"][:-1], d["edges"][1:]
cum = lambda w: np.where(w < W1, A_TRUE * w**5 / 5, A_TRUE * W1**5 / 5 + A_TRUE * W1**3 * (w**2 - W1**2) / 2)  # noqa: E731
mu = N * r.n_ok * (cum(hi) - cum(lo))
sel = mu > 5
chi2 = np.sum((d["counts"][sel] - mu[sel]) ** 2 / mu[sel]) / sel.sum()
check(chi2 < 2.5 and sel.sum() >= 5, f"synthetic: D(omega) histogram matches the truth, both parts (chi2/bin {chi2:.2f}, {sel.sum()} bins)")
# coverage of the error bars over independent ensembles (in memory)
hitA = hitB = 0
T = 40
for t in range(T):
    rr = np.random.default_rng(1000 + t)
    reals = [lowest_modes(rr) ** 2 for _ in range(30)]
    run_t = ka.Run(params=dict(PARAMS), files=[], kappa=np.zeros((30, N)), x=np.zeros((30, N)), eigenvalues=reals,
                   participation=[np.zeros(NEV)] * 30, ids=list(range(30)), status_counts={"minimum": 30})
    ft = ka.fit_power_law(run_t, n_boot=200, seed=t)
    hitA += abs(ft.A_g - A_TRUE) < 2 * ft.A_g_err
    hitB += abs(ft.beta - 4) < 2 * ft.beta_err
check(hitA >= 0.85 * T and hitB >= 0.85 * T, f"synthetic: 2-sigma bootstrap intervals cover the truth in {hitA}/{T} (A_g) and {hitB}/{T} (beta) ensembles")

# (b) ------------------------------------------------------------------------------------------
C, K1 = 0.05, 0.03


def x2_samples(rng, kappa, c=C, k1=K1):
    """x^2 = x~^2(kappa) E with E exponential of mean 1: <x~^2>(kappa) = c/(1 + (kappa/k1)^2)."""
    return c / (1 + (kappa / k1) ** 2) * rng.exponential(size=kappa.shape)


def analytic_xbar(kappa, kmin, c=C, k1=K1):
    return c * k1 * (np.arctan(kappa / k1) - np.arctan(kmin / k1)) / (kappa - kmin)


for kmin in (0.0, 0.2):
    rng = np.random.default_rng(7)
    R, Nb = 20, 1000
    reals = []
    for _ in range(R):
        kap = rng.uniform(kmin, 1.0, Nb)
        reals.append({"kappa": kap, "x": np.sqrt(x2_samples(rng, kap)) * rng.choice([-1, 1], Nb), "eigenvalues": [0.1, 0.2]})
    pr = ka.load_run(write_fake(out(f"partial_{kmin}.h5"), reals, N=Nb, kappa_min=kmin, nev=2))
    x2mean = ka.mean_square_displacement(pr)[0]
    for method in ("running_mean", "uniform_density"):
        k, y, e, m = ka.partial_average(pr, method=method)
        z = np.abs(y - analytic_xbar(k, kmin)) / e
        check(np.all(z < 4), f"partial average ({method}, kappa_min={kmin}): analytic integral within sampling error at "
              f"{len(k)} kappa from {k[0]:.2g} to 1 (max {z.max():.2f} sigma)", f"{z}")
        check(k[-1] == 1.0 and y[-1] == x2mean, f"partial average ({method}, kappa_min={kmin}): xbar^2(kappa0) == <x*^2> exactly",
              f"{y[-1]!r} vs {x2mean!r}")
    b = ka.binned_x2(pr, bins=15)
    ok = b["counts"] > 30
    zb = np.abs(b["mean"][ok] - C / (1 + (b["centers"][ok] / K1) ** 2)) / (C / (1 + (b["centers"][ok] / K1) ** 2))
    if kmin == 0.0:  # log bins are narrow enough that the bin centre represents the bin
        check(np.median(zb) < 0.15, f"binned <x~^2>(kappa) follows c/(1+(kappa/k1)^2) (median rel. dev. {np.median(zb):.3f})")

# crossover and collapse: x~^2 = k1 g(kappa/k1) collapses with omega_x^2 proportional to k1
k = np.geomspace(1e-5, 1, 80)
P, kc, msh = ka.crossover_fit(k, K1**2 * np.arctan(k / K1) / k)
check(abs(P / K1 - 1) < 1e-3 and abs(kc / (np.pi * K1 / 2) - 1) < 1e-3,
      f"crossover fit of k1^2 arctan(kappa/k1)/kappa: plateau {P:.4g} (k1 = {K1}), crossing {kc:.4g} (pi k1/2 = {np.pi * K1 / 2:.4g})")
runs = []
k1s = [0.01, 0.02, 0.04, 0.08]
rng = np.random.default_rng(11)
for k1 in k1s:
    reals = []
    for _ in range(20):
        kap = rng.uniform(0, 1, 2000)
        reals.append({"kappa": kap, "x": np.sqrt(x2_samples(rng, kap, c=k1, k1=k1)), "eigenvalues": [0.1]})
    runs.append(ka.load_run(write_fake(out(f"collapse_{k1}.h5"), reals, N=2000, J=k1, nev=1)))
col = ka.collapse_partial_averages(runs)
ratio = col.omega_x**2 / np.array(k1s)
check(np.ptp(ratio) / ratio.mean() < 0.1, f"collapse: omega_x^2 / k1 = {np.round(ratio, 3)} constant within 10%"
      f" (reference k1 = {k1s[col.reference]})")
check(abs(ratio.mean() / (np.pi / 2) - 1) < 0.15, f"collapse: omega_x^2 = {ratio.mean():.3f} k1, the asymptotes' crossing pi/2 k1")

# (c) ------------------------------------------------------------------------------------------
def real_runs():
    """Three N = 400 realizations from bin/khgps (one file, or one file each before the ensemble
    option existed); returns the file names."""
    help_text = subprocess.run([KHGPS, "-help"], capture_output=True, text=True).stdout
    files = []
    if "-khgps_realizations" in help_text:
        files.append(out("real_R3.h5"))
        run(["-khgps_N", "400", "-khgps_nev", "60", "-khgps_realizations", "3", "-khgps_output", files[0]])
    else:
        for i in range(3):
            files.append(out(f"real_{i}.h5"))
            run(["-khgps_N", "400", "-khgps_nev", "60", "-khgps_realization", str(i), "-khgps_output", files[-1]])
    return files


def check_real(real_files):
    """The summary of the real files against h5py + numpy; the scripts on them."""
    x2s, lows, tops, n = [], [], [], 0
    for path in real_files:
        with h5py.File(path, "r") as fh:
            for name, g in fh["realizations"].items():
                n += 1
                if g.attrs["status"] == 0:
                    x2s.append(g["x"][:] ** 2)
                    lows.append(g["eigenvalues"][0])
                    tops.append(np.sqrt(g["eigenvalues"][-1]))
    real = ka.load_run(real_files)
    s = ka.summarize(real)
    x2 = np.concatenate(x2s)
    check(n == 3 and s["n_ok"] == len(x2s) == 3 and s["n_total"] == 3, f"real N=400: 3 realizations read, {s['n_ok']} minima used")
    check(abs(s["x2"][0] - x2.mean()) <= 1e-13 * x2.mean(), f"real N=400: <x*^2> = {s['x2'][0]:.8g} = numpy's {x2.mean():.8g}")
    e = s["eig"]
    check(e["min"] == min(lows) and e["median"] == np.median(lows) and abs(e["mean"] - np.mean(lows)) < 1e-15,
          f"real N=400: lowest eigenvalue min {e['min']:.6g}, median {e['median']:.6g}, mean {e['mean']:.6g} as numpy's")
    check(s["fit"] is not None and s["fit"].cutoff == min(tops) and s["fit"].n_modes > 5,
          f"real N=400: completeness cutoff {min(tops):.5g}, {s['fit'].n_modes if s['fit'] else 0} modes in the fit window")
    om = np.concatenate([np.sqrt(np.clip(lam, 0, None)) for lam in real.eigenvalues])
    fw = s["fit"]
    nin = int(np.sum(om <= fw.wmax))
    check(fw.n_modes == nin and abs(fw.A_g - 5 * nin / (3 * 400 * fw.wmax**5)) < 1e-12 * fw.A_g,
          f"real N=400: A_g = 5 n/(R N wmax^5) = {fw.A_g:.5g} with n = {nin}")
    p = subprocess.run([PY, os.path.join(ROOT, "analysis", "khgps_summary.py"), *real_files], capture_output=True, text=True)
    txt = p.stdout
    check(p.returncode == 0 and "3 used, 0 left out" in txt and ka.fmt_pm(*s["x2"]) in txt and f"{e['min']:.6g}" in txt
          and ka.fmt_pm(fw.A_g, fw.A_g_err) in txt, "real N=400: khgps_summary.py prints the same numbers", txt + p.stderr)
    png = out("real.png")
    p = subprocess.run([PY, os.path.join(ROOT, "analysis", "plot_spectrum.py"), *real_files, "-o", png], capture_output=True, text=True)
    check(p.returncode == 0 and os.path.getsize(png) > 10000, "real N=400: plot_spectrum.py FILE -o PNG still works", p.stdout + p.stderr)
    # what the plot draws, against the files read with h5py
    import matplotlib
    matplotlib.use("Agg")
    import plot_spectrum
    fig, used, status = plot_spectrum.figure(real_files)
    ax = fig.axes
    pts = [l for l in ax[0].get_lines() if l.get_marker() == "o"][0]
    w, D = pts.get_xdata(), pts.get_ydata()
    r = np.min(w[1:] / w[:-1])  # even log grid (empty bins are not drawn): adjacent points differ by r
    k = np.log(w / w[0]) / np.log(r)
    width = w * (np.sqrt(r) - 1 / np.sqrt(r))  # a bin's width from its geometric centre
    nbelow = int(np.sum(om <= fw.cutoff))
    check(np.allclose(k, np.round(k), atol=1e-6) and abs(np.sum(D * width) * 3 * 400 - nbelow) <= 1e-6 * nbelow,
          f"plot: the D(omega) points integrate to the {nbelow} modes below the completeness cutoff (R N sum D dw)",
          f"{np.sum(D * width) * 3 * 400:.6g}")
    guide = [l for l in ax[0].get_lines() if l.get_linestyle() == "--"][0]
    gx, gy = guide.get_xdata(), guide.get_ydata()
    check(np.allclose(gy / gx**4, fw.A_g, rtol=1e-12) and abs(gx[-1] - fw.wmax) < 1e-12 * fw.wmax,
          f"plot: the dashed guide is A_g omega^4 with A_g = {fw.A_g:.5g} up to the window's end {fw.wmax:.4g}")
    sc = ax[1].get_lines()[0]
    kap = np.concatenate([h5py.File(f, "r")[f"realizations/{k}/kappa"][()] for f in real_files for k in h5py.File(f, "r")["realizations"]])
    check(np.array_equal(np.sort(sc.get_xdata()), np.sort(kap)) and np.allclose(np.sort(sc.get_ydata()), np.sort(x2), rtol=0, atol=0),
          "plot: the scatter is every (kappa_i, x*_i^2) of the files")
    check(f"N=400" in fig._suptitle.get_text() and "minimum 3" in fig._suptitle.get_text(), "plot: the title names N and the status counts", fig._suptitle.get_text())


try:
    real_files = real_runs()
except Exception as ex:  # no usable bin/khgps: one failure, the other parts still run
    real_files = []
    check(False, "real N=400: bin/khgps runs", repr(ex))
if real_files:
    check_real(real_files)

# (d) ------------------------------------------------------------------------------------------
rng = np.random.default_rng(3)
reals = synthetic_reals(rng, 4)
reals[1]["status"] = 1
reals[2]["status"] = 2
reals[2]["eigenvalues"] = np.r_[-0.01, reals[2]["eigenvalues"][1:]]
bad = write_fake(out("mixed_status.h5"), reals, N=N, nev=NEV)
dup = write_fake(out("duplicate.h5"), [dict(reals[3], realization=3)], N=N, nev=NEV)
mr = ka.load_run([bad, dup])
check(mr.n_ok == 2 and mr.left_out == {"not_converged": 1, "saddle": 1} and mr.duplicates == 1,
      f"status: 2 minima used, left out {mr.left_out}, {mr.duplicates} duplicate ignored")
check(all(lam[0] > 0 for lam in mr.eigenvalues), "status: the saddle's negative eigenvalue is not in the spectrum")
p = subprocess.run([PY, os.path.join(ROOT, "analysis", "khgps_summary.py"), bad, dup], capture_output=True, text=True)
check(p.returncode == 0 and "2 used, 2 left out (not_converged 1, saddle 1)" in p.stdout and "1 duplicate" in p.stdout,
      "status: the summary reports the left-out realizations by status", p.stdout + p.stderr)
other = write_fake(out("other_J.h5"), synthetic_reals(rng, 1), N=N, nev=NEV, J=0.2)
try:
    ka.load_run([bad, other])
    check(False, "status: files of different parameters are refused as one run")
except ValueError as ex:
    check("J 0.1" in str(ex), "status: files of different parameters are refused as one run", str(ex))
check(len(ka.group_runs([bad, other, dup])) == 2, "status: group_runs separates them")

# (e) ------------------------------------------------------------------------------------------
figdir = out("figures")
p = subprocess.run([PY, os.path.join(ROOT, "analysis", "khgps_figures.py"), "--fig2", syn, *real_files[:1], "--fig3", syn,
                    "--out-dir", figdir], capture_output=True, text=True)
check(p.returncode == 0 and os.path.getsize(os.path.join(figdir, "fig2_dos.png")) > 10000
      and "fig3: skipped" in p.stdout and "fig5: skipped: no input" in p.stdout and "Traceback" not in p.stderr,
      "figures: fig2 from the runs given; fig3 with one h and fig5 without input skipped with a message", p.stdout + p.stderr)
# (f) ------------------------------------------------------------------------------------------
good = write_fake(out("plot_good.h5"), synthetic_reals(rng, 3), N=N, nev=NEV)
bad_dir = out("plot_bad")
os.mkdir(bad_dir)


def bad_file(name, content=None, edit=None):
    path = os.path.join(bad_dir, name)
    if content is not None:
        open(path, "wb").write(content)
    else:
        shutil.copy(good, path)
        with h5py.File(path, "r+") as h:
            edit(h)
    return path


def set_nan(key):
    def edit(h):
        d = h[f"realizations/000001/{key}"]
        v = d[()]
        v[len(v) // 2] = np.nan
        d[...] = v
    return edit


def all_saddles(h):
    for g in h["realizations"].values():
        g.attrs["status"] = 2
        g.attrs["status_name"] = "saddle"


def foreign(h):
    for k in list(h.attrs):
        del h.attrs[k]
    del h["params"]


data = open(good, "rb").read()
png = os.path.join(bad_dir, "bad.png")
bad_cases = [
    ("a missing file", [os.path.join(bad_dir, "nothere.h5")], "no such file"),
    ("a folder", [bad_dir], "is a folder"),
    ("an empty file", [bad_file("empty.h5", b"")], "is empty"),
    ("a truncated file", [bad_file("truncated.h5", data[: len(data) // 3])], "not a readable khgps run file"),
    ("garbage bytes", [bad_file("garbage.h5", bytes(np.random.default_rng(1).integers(0, 256, 4000, dtype=np.uint8)))], "not a readable khgps run file"),
    ("a foreign HDF5 file", [bad_file("foreign.h5", edit=foreign)], "not a khgps run file"),
    ("a khgps file with no realizations", [bad_file("empty_run.h5", edit=lambda h: h.__delitem__("realizations"))], "holds no realization"),
    ("no minimum (all saddles)", [bad_file("saddles.h5", edit=all_saddles)], "no realization at a minimum"),
    ("NaN eigenvalues", [bad_file("nan_eig.h5", edit=set_nan("eigenvalues"))], "realization 1 of"),
    ("NaN x", [bad_file("nan_x.h5", edit=set_nan("x"))], "realization 1 of"),
    ("a realization without kappa", [bad_file("no_kappa.h5", edit=lambda h: h["realizations/000001"].__delitem__("kappa"))], ""),
    ("/params without J", [bad_file("no_J.h5", edit=lambda h: h["params"].attrs.__delitem__("J"))], "not a khgps run file (no J"),
    ("a good file and a garbage one", [good, os.path.join(bad_dir, "garbage.h5")], "not a readable khgps run file"),
]
for what, files, needle in bad_cases:
    p = subprocess.run([PY, os.path.join(ROOT, "analysis", "plot_spectrum.py"), *files, "-o", png], capture_output=True, text=True)
    err = [l for l in p.stderr.splitlines() if l.strip()]
    check(p.returncode == 1 and len(err) == 1 and err[0].startswith("plot_spectrum.py: error: ") and needle in err[0]
          and "Traceback" not in p.stderr and not os.path.exists(png), f"plot_spectrum.py on {what}: one line, exit 1", repr(p.stderr[-400:]))
for what, args, needle in (("an output in a missing folder", [good, "-o", os.path.join(bad_dir, "no", "x.png")], "cannot write"),
                           ("an output of an unknown format", [good, "-o", os.path.join(bad_dir, "x.notaformat")], "cannot write"),
                           ("no file (usage)", ["-o", png], "the following arguments are required"),
                           ("--bins 0", [good, "--bins", "0", "-o", png], "--bins 0"),
                           ("--bins x (usage)", [good, "--bins", "x", "-o", png], "argument --bins")):
    p = subprocess.run([PY, os.path.join(ROOT, "analysis", "plot_spectrum.py"), *args], capture_output=True, text=True)
    err = [l for l in p.stderr.splitlines() if l.strip()]
    check(p.returncode == 1 and len(err) == 1 and err[0].startswith("plot_spectrum.py: error: ") and needle in err[0] and "Traceback" not in p.stderr,
          f"plot_spectrum.py with {what}: one line, exit 1", repr(p.stderr[-400:]))
p = subprocess.run([PY, os.path.join(ROOT, "analysis", "plot_spectrum.py"), good, "-o", png], capture_output=True, text=True)
check(p.returncode == 0 and os.path.getsize(png) > 10000, "plot_spectrum.py on the good file of (f): exit 0, a figure", p.stderr[-300:])

# (g) ------------------------------------------------------------------------------------------
# The package analysis/khgps: imported with only PYTHONPATH=analysis from another folder;
# khgps.read of a run file with a log (FILE.pending, as a stopped run leaves it); python3 -m
# khgps.summary --csv, one row per realization; importing khgps.plots leaves the backend alone.
import csv  # noqa: E402
import signal  # noqa: E402
import time  # noqa: E402

from khgps import io as kio  # noqa: E402

elsewhere = out("elsewhere")
os.makedirs(elsewhere)
pkg_env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MPLBACKEND", "DISPLAY", "WAYLAND_DISPLAY")}
pkg_env["PYTHONPATH"] = os.path.join(ROOT, "analysis")


def in_elsewhere(args, **env):
    return subprocess.run([PY, *args], capture_output=True, text=True, cwd=elsewhere, env=dict(pkg_env, **env))


ens_file = out("pkg.h5")
base = ["-khgps_N", "200", "-khgps_nev", "20", "-khgps_output", ens_file]
run(base + ["-khgps_realizations", "3"])
pr = subprocess.Popen([KHGPS, *base, "-khgps_realizations", "400"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                      cwd=ROOT, env=dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1"))
t0 = time.time()
while time.time() - t0 < 60 and len(list(kio.realizations(ens_file, minima_only=False))) < 6:
    time.sleep(0.05)
pr.send_signal(signal.SIGTERM)
pr.communicate()
truth = sorted((d for _, d in kio.realizations(ens_file, minima_only=False)), key=lambda d: d["realization"])
with h5py.File(ens_file, "r") as fh:
    in_file = len(fh["realizations"])
check(os.path.exists(ens_file + ".pending") and len(truth) > in_file >= 3,
      "package test file: a run file with a log (FILE.pending) holding more realizations", f"{in_file} {len(truth)}")

p = in_elsewhere(["-c", """
import json, sys
import numpy as np
import khgps
ens = khgps.read(sys.argv[1])
print(json.dumps(dict(n=len(ens), real=ens.realization.tolist(), energy=ens["energy"].tolist(),
                      status=ens.status_name.tolist(), N=int(ens.params["N"]), runs=len(ens.runs),
                      arrays=sorted(ens.arrays), kappa=[len(k) for k in ens.kappa],
                      eig=[e.tolist() for e in ens.arrays["eigenvalues"]], minima=int(ens.minima.sum()),
                      omega=len(ens.concat("eigenvalues")), where=khgps.__file__)))
""", ens_file])
try:
    g = json.loads(p.stdout.strip().splitlines()[-1])
except (ValueError, IndexError):
    g = {}
check(p.returncode == 0 and g.get("where", "").startswith(os.path.join(ROOT, "analysis", "khgps")),
      "import khgps with only PYTHONPATH=analysis from another folder", p.stderr[-300:])
check(g.get("real") == [d["realization"] for d in truth] and g.get("energy") == [d["energy"] for d in truth]
      and g.get("status") == [d["status_name"] for d in truth] and g.get("N") == 200 and g.get("runs", 0) >= 1,
      "khgps.read: the realizations of FILE and FILE.pending once each, scalars by field name, /params, the runs", str(g)[:300])
check(set(g.get("arrays", [])) >= {"kappa", "x", "eigenvalues", "participation_ratio"} and g.get("kappa") == [200] * len(truth)
      and g.get("eig") == [d["eigenvalues"].tolist() for d in truth]
      and g.get("omega") == sum(len(d["eigenvalues"]) for d in truth if d["status"] == 0),
      "khgps.read: every dataset of the realizations as arrays, per realization; concat over the minima", str(g)[:300])
# a dataset a newer khgps might write appears without code changes
with h5py.File(ens_file, "a") as fh:
    fh["realizations"][sorted(fh["realizations"])[0]]["modes"] = np.arange(6.0)
p = in_elsewhere(["-c", "import sys, khgps; e = khgps.read(sys.argv[1]); print(e.arrays['modes'][0].tolist(), e.modes[1])", ens_file])
check(p.returncode == 0 and p.stdout.split("]")[0] == "[0.0, 1.0, 2.0, 3.0, 4.0, 5.0" and p.stdout.strip().endswith("None"),
      "khgps.read: a new dataset (modes) is read without code changes", p.stdout + p.stderr[-300:])

p = in_elsewhere(["-m", "khgps.summary", ens_file, "--csv"])
rows = list(csv.DictReader(p.stdout.splitlines()))
check(p.returncode == 0 and len(rows) == len(truth)
      and [int(r["realization"]) for r in rows] == [d["realization"] for d in truth]
      and all(float(r["energy"]) == d["energy"] and r["status_name"] == d["status_name"] and int(r["nconv"]) == d["nconv"]
              and r["file"] == ens_file for r, d in zip(rows, truth)),
      "python3 -m khgps.summary FILE --csv: one row per realization (file and log), its scalars exactly", p.stdout[:300] + p.stderr[-300:])
p = in_elsewhere(["-m", "khgps.summary", ens_file])
check(p.returncode == 0 and "A_g" in p.stdout, "python3 -m khgps.summary FILE: the summary as before", p.stderr[-300:])
p = in_elsewhere(["-m", "khgps.digest", "update", out("pkg_digest.h5"), ens_file])
q = in_elsewhere(["-m", "khgps.digest", "next", out("pkg_digest.h5")])
check(p.returncode == 0 and q.returncode == 0 and q.stdout.strip() == str(truth[-1]["realization"] + 1),
      "python3 -m khgps.digest update / next from another folder", p.stderr[-300:] + q.stdout + q.stderr[-300:])
for mod in ("tail", "paper", "parent", "figures", "plot_spectrum"):
    p = in_elsewhere(["-m", f"khgps.{mod}", "--help"])
    check(p.returncode == 0 and "usage" in p.stdout.lower() + p.stderr.lower(), f"python3 -m khgps.{mod} --help from another folder", p.stderr[-300:])

p = in_elsewhere(["-c", """
import matplotlib
matplotlib.use("svg")
import khgps.plots, khgps.figures, khgps.plot_spectrum, khgps.tail, khgps.paper, khgps.parent
print(matplotlib.get_backend())
"""])
check(p.returncode == 0 and p.stdout.strip() == "svg", "importing khgps.plots (and the modules that draw) leaves matplotlib's backend as the user set it", p.stdout + p.stderr[-300:])
p = in_elsewhere(["-c", """
import matplotlib, matplotlib.pyplot  # pyplot itself may reset an interactive default when headless
before = dict.__getitem__(matplotlib.rcParams, "backend")
import khgps.plots, khgps.figures, khgps.plot_spectrum, khgps.tail, khgps.paper, khgps.parent
print(dict.__getitem__(matplotlib.rcParams, "backend") is before)
"""])
check(p.returncode == 0 and p.stdout.strip() == "True", "importing khgps.plots does not choose a backend", p.stdout + p.stderr[-300:])
p = in_elsewhere(["-c", "import sys; import khgps, khgps.summary, khgps.tail, khgps.paper, khgps.parent, khgps.figures; "
                  "print(sum(p.endswith('analysis') for p in sys.path))"])
check(p.returncode == 0 and p.stdout.strip() == "1", "importing the package adds nothing to sys.path", p.stdout + p.stderr[-300:])

done()
