"""Analysis of khgps run files: the quantities of the KHGPS paper (sections 2-4).

Everything is computed here; the scripts (khgps_summary.py, khgps_figures.py, plot_spectrum.py)
only read options, call these functions and print or draw.

Data model. A *run* is one parameter point (N, J, h, kappa0, kappa_min, A): the minima found in
one or several files (e.g. one file per realization, or blocks of a job array). `load_run` reads
them through `khgps_io.realizations`; only realizations with status 0 ("minimum") are used, the
others are counted by status name and reported as left out. A realization that appears twice
(same seed and realization index) is used once and counted as a duplicate.

Conventions. omega = sqrt(eigenvalue) of the Hessian M. D(omega) is per oscillator and per
realization: the number of modes in [omega, omega + d omega] is R N D(omega) d omega over R
realizations of N oscillators. Only the lowest nev eigenpairs are computed, so the spectrum is
complete only below the *completeness cutoff* omega_c: the lowest, over realizations, of the
largest computed frequency.
"""
import glob
import math
import os
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special

from .io import STATUS_MINIMUM, realizations

#: Parameters that define a run (files with different values are different runs).
PHYSICS_KEYS = ("N", "J", "h", "kappa0", "kappa_min", "A")
#: Status names when a file lacks the status_name attribute (README, "Minimum and status").
STATUS_NAMES = {0: "minimum", 1: "not_converged", 2: "saddle"}
#: Default upper end of the fit window, as a fraction of the completeness cutoff.
WMAX_FRACTION = 0.5
#: Fewer realizations than this: error bars from the likelihood (Poisson/Fisher), not bootstrap.
MIN_BOOTSTRAP_REALIZATIONS = 10
#: Fewer modes in the window than this: no free exponent (NaN), only A_g at beta = 4.
MIN_FREE_FIT_MODES = 10


# ----------------------------------------------------------------------------------------------
# Reading


@dataclass
class Run:
    """The minima of one parameter point, read from one or more khgps files.

    kappa, x: arrays [R, N] (R realizations at a minimum); eigenvalues, participation: lists of R
    arrays (ascending eigenvalues omega^2 and their participation ratios); ids: (seed,
    realization) of each; status_counts: realizations read per status name (duplicates counted
    once); duplicates: realizations read more than once and used once."""

    params: dict
    files: list
    kappa: np.ndarray
    x: np.ndarray
    eigenvalues: list
    participation: list
    ids: list
    status_counts: dict
    duplicates: int = 0

    @property
    def n_ok(self):
        """Number of realizations at a minimum (the ones used)."""
        return len(self.ids)

    @property
    def n_total(self):
        """Number of distinct realizations read, whatever their status."""
        return sum(self.status_counts.values())

    @property
    def left_out(self):
        """Realizations left out, by status name (status != minimum)."""
        return {k: v for k, v in self.status_counts.items() if k != STATUS_NAMES[STATUS_MINIMUM] and v}

    @property
    def N(self):
        return int(self.params["N"])

    def omegas(self):
        """Frequencies omega = sqrt(eigenvalue) per realization that has eigenvalues (list of
        arrays, ascending). A minimum without computed eigenvalues (nconv = 0) says nothing about
        the spectrum and is left out of every spectral quantity, its normalization included."""
        return [np.sqrt(np.clip(lam, 0.0, None)) for lam in self.eigenvalues if len(lam)]

    @property
    def n_spectra(self):
        """Number of realizations that enter the spectral quantities (minima with eigenvalues)."""
        return sum(1 for lam in self.eigenvalues if len(lam))

    def label(self, keys=("J", "h", "kappa0")):
        """Short legend text, e.g. 'J=0.1 h=0.01 kappa0=1'."""
        return " ".join(f"{k}={self.params[k]:g}" for k in keys)

    def require_minima(self):
        if self.n_ok == 0:
            raise ValueError(f"no realization at a minimum in {self.files} (status counts {self.status_counts})")


def _status_name(d):
    name = d.get("status_name")
    return name if name else STATUS_NAMES.get(int(d.get("status", -1)), f"status_{d.get('status')}")


def _physics(params):
    return tuple(float(params[k]) for k in PHYSICS_KEYS)


def load_run(paths):
    """Read the realizations of one parameter point from one or several khgps files.

    All files must have the same PHYSICS_KEYS parameters (ValueError otherwise; use
    `group_runs` for a mixture). Only status-0 realizations are kept; the others are counted in
    Run.status_counts. Realizations seen twice (same seed and index) are kept once."""
    if isinstance(paths, str):
        paths = [paths]
    paths = list(paths)
    if not paths:
        raise ValueError("load_run: no file given")
    params, ref_file = None, None
    kappa, x, lam, pr, ids = [], [], [], [], []
    counts, seen, dup = {}, set(), 0
    for path, d in realizations(paths, minima_only=False):
        p = d["params"]
        if params is None:
            params, ref_file = dict(p), path
        elif _physics(p) != _physics(params):
            diff = ", ".join(f"{k} {params[k]:g} ({ref_file}) vs {p[k]:g} ({path})"
                             for k in PHYSICS_KEYS if float(p[k]) != float(params[k]))
            raise ValueError(f"load_run: files of different runs: {diff}")
        key = (int(p.get("seed", 0)), int(d.get("realization", -1)))
        if key in seen:
            dup += 1
            continue
        seen.add(key)
        name = _status_name(d)
        counts[name] = counts.get(name, 0) + 1
        if d.get("status") != STATUS_MINIMUM:
            continue
        kappa.append(np.asarray(d["kappa"], float))
        x.append(np.asarray(d["x"], float))
        lam.append(np.asarray(d.get("eigenvalues", np.empty(0)), float))
        pr.append(np.asarray(d.get("participation_ratio", np.full(len(lam[-1]), np.nan)), float))
        ids.append(key)
    if params is None:
        raise ValueError(f"load_run: no realization in {paths}")
    N = int(params["N"])
    shape = (len(kappa), N)
    return Run(params=params, files=paths,
               kappa=np.array(kappa).reshape(shape), x=np.array(x).reshape(shape),
               eigenvalues=lam, participation=pr, ids=ids, status_counts=counts, duplicates=dup)


def find_run_files(directory):
    """All khgps files (*.h5, recursively, not *.part) under a directory, sorted."""
    return sorted(glob.glob(os.path.join(directory, "**", "*.h5"), recursive=True))


def group_runs(paths, on_error=None):
    """Read many files and group them into runs by their PHYSICS_KEYS parameters.

    Returns a list of Run sorted by (kappa0, h, J, N). A file that cannot be read raises, unless
    on_error is a callable: then on_error(path, exception) is called and the file skipped."""
    from .io import read_params
    groups = {}
    for path in paths:
        try:
            key = _physics(read_params(path))
        except Exception as e:  # unreadable, foreign or truncated file
            if on_error is None:
                raise
            on_error(path, e)
            continue
        groups.setdefault(key, []).append(path)
    runs = []
    for key, files in groups.items():
        try:
            runs.append(load_run(files))
        except Exception as e:
            if on_error is None:
                raise
            on_error(", ".join(files), e)
    runs.sort(key=lambda r: (r.params["kappa0"], r.params["h"], r.params["J"], r.params["N"]))
    return runs


# ----------------------------------------------------------------------------------------------
# Spectrum: completeness, D(omega), eigenvalue statistics, localization


def completeness_cutoff(run):
    """omega_c: the lowest, over realizations, of the largest computed frequency. Above it some
    realization's lowest-nev set misses modes, so D(omega) is complete only for omega <= omega_c."""
    run.require_minima()
    tops = [om[-1] for om in run.omegas()]
    if not tops:
        raise ValueError(f"no eigenvalues in {run.files}")
    return float(min(tops))


def soft_frequencies(run):
    """All frequencies omega <= omega_c (complete set), pooled over realizations, ascending."""
    wc = completeness_cutoff(run)
    om = np.concatenate(run.omegas())
    return np.sort(om[om <= wc])


def density_of_states(run, bins=None, bins_per_decade=8, wlo=None):
    """D(omega) per oscillator and realization in logarithmic bins up to the completeness cutoff.

    Bins run from wlo (default: just below the lowest frequency) to omega_c; `bins` fixes their
    number, otherwise `bins_per_decade`. Returns a dict: edges, centers (geometric), counts,
    D = counts/(R N d omega), err (Poisson, sqrt(counts)/(R N d omega)), cutoff."""
    wc = completeness_cutoff(run)
    om = soft_frequencies(run)
    lo = wlo if wlo is not None else (om[0] * 0.98 if len(om) and om[0] > 0 else wc * 1e-3)
    if bins is None:
        bins = max(3, int(math.ceil(np.log10(wc / lo) * bins_per_decade)))
    edges = np.logspace(np.log10(lo), np.log10(wc), bins + 1)
    edges[-1] = wc  # exact, so that the top mode of the limiting realization is counted
    counts, _ = np.histogram(om, edges)
    norm = run.n_spectra * run.N * np.diff(edges)
    return {"edges": edges, "centers": np.sqrt(edges[1:] * edges[:-1]), "counts": counts,
            "D": counts / norm, "err": np.sqrt(counts) / norm, "cutoff": wc}


def lowest_eigenvalue_stats(run):
    """min, median and mean over realizations of the lowest eigenvalue omega_min^2 (a dict)."""
    run.require_minima()
    low = np.array([lam[0] for lam in run.eigenvalues if len(lam)])
    if not len(low):
        raise ValueError(f"no eigenvalues in {run.files}")
    return {"min": float(low.min()), "median": float(np.median(low)), "mean": float(low.mean()), "n": len(low)}


def participation_vs_omega(run, bins=None, bins_per_decade=6):
    """Participation ratios of the soft modes (omega <= omega_c) against omega.

    Returns a dict: omega, P (all modes, pooled), and per logarithmic bin: centers, median,
    q16, q84 (percentiles of P) and counts."""
    wc = completeness_cutoff(run)
    om = np.concatenate(run.omegas())
    P = np.concatenate([p for p, lam in zip(run.participation, run.eigenvalues) if len(lam)])
    keep = om <= wc
    om, P = om[keep], P[keep]
    lo = om.min() * 0.98
    if bins is None:
        bins = max(2, int(math.ceil(np.log10(wc / lo) * bins_per_decade)))
    edges = np.logspace(np.log10(lo), np.log10(wc), bins + 1)
    idx = np.clip(np.searchsorted(edges, om, side="right") - 1, 0, bins - 1)
    med, q16, q84, cnt = (np.full(bins, np.nan) for _ in range(4))
    for b in range(bins):
        sel = P[idx == b]
        cnt[b] = len(sel)
        if len(sel):
            med[b], q16[b], q84[b] = np.percentile(sel, [50, 16, 84])
    return {"omega": om, "P": P, "centers": np.sqrt(edges[1:] * edges[:-1]), "median": med,
            "q16": q16, "q84": q84, "counts": cnt}


# ----------------------------------------------------------------------------------------------
# The power-law fit D(omega) = A omega^beta on [wmin, wmax]
#
# Maximum likelihood on the individual frequencies, not least squares on a histogram: at the
# low-frequency end there are a handful of modes per bin, where a least-squares fit of log counts
# is biased (empty bins cannot even be used) and depends on the binning. The modes in the window,
# pooled over R realizations of N oscillators, are modelled as a Poisson process of intensity
# R N A omega^beta on [wmin, wmax] (extended likelihood). It factorizes into
#   * the number n of modes in the window: Poisson with mean R N A Z(beta),
#     Z(beta) = int_wmin^wmax omega^beta d omega, and
#   * their positions: i.i.d. with the truncated power-law density omega^beta / Z(beta).
# The shape gives beta (maximize beta S - n log Z(beta), S = sum log omega_i: a concave problem
# with one root of <log omega>_beta = S/n); the count then gives A = n / (R N Z(beta)). At fixed
# beta = 4 this is A_g = 5 n / (R N (wmax^5 - wmin^5)). The estimates depend on the data only
# through n and S, so a bootstrap over realizations (resampling whole realizations, which keeps
# the correlations between the modes of one realization) costs one 1D root per resample.
# The MLE of beta has an O(1/n) relative bias, far below its O(1/sqrt(n)) statistical error.


def _u_moments(c, L):
    """Mean and variance of u on [L, 0] (L < 0, or -inf) with density proportional to exp(c u).

    With u = log(omega/wmax), L = log(wmin/wmax) and c = beta + 1 these are the moments of
    log(omega/wmax) under the truncated power law omega^beta on [wmin, wmax]."""
    if np.isinf(L):
        if c <= 0:
            return -np.inf, np.inf
        return -1.0 / c, 1.0 / c**2
    t = -c * L
    if abs(t) < 1e-4:
        return L / 2 - t * L / 12, L * L * (1.0 / 12 - t * t / 720)
    with np.errstate(over="ignore"):
        mean = -1.0 / c - L / np.expm1(t)
        var = 1.0 / c**2 - L * L / (4.0 * np.sinh(t / 2) ** 2)
    return float(mean), float(var)


def _log_Z(c, L, logb):
    """log of Z = int_wmin^wmax omega^(c-1) d omega = wmax^c int_L^0 exp(c u) du (c = beta + 1)."""
    if np.isinf(L):
        return c * logb - np.log(c)
    cL = c * L
    if abs(cL) < 1e-12:
        return c * logb + np.log(-L)
    if cL < 0:  # c > 0: (1 - e^{cL}) / c
        return c * logb + np.log(-np.expm1(cL)) - np.log(c)
    return c * logb + cL + np.log(-np.expm1(-cL)) - np.log(-c)  # c < 0: (e^{cL} - 1) / (-c)


def _solve_c(ubar, L):
    """The MLE of c = beta + 1: the root of <u>_c = ubar (ubar = mean log(omega/wmax))."""
    if not (ubar < 0 and ubar > L):
        return np.nan
    if np.isinf(L):
        return -1.0 / ubar
    f = lambda c: _u_moments(c, L)[0] - ubar  # noqa: E731  increasing in c
    lo, hi = -1.0, 1.0
    while f(lo) > 0:
        lo *= 2
        if lo < -1e8:
            return np.nan
    while f(hi) < 0:
        hi *= 2
        if hi > 1e8:
            return np.nan
    return optimize.brentq(f, lo, hi, xtol=1e-12, rtol=1e-12)


def power_law_mle(n, S, R, N, wmin, wmax, beta=None):
    """Maximum-likelihood (beta, A) of D(omega) = A omega^beta from the window's sufficient
    statistics: n modes with S = sum log(omega_i / wmax), over R realizations of N oscillators.

    beta=None fits the exponent (NaNs with fewer than MIN_FREE_FIT_MODES modes); a number fixes
    it (A is then n / (R N Z(beta)), NaN for n = 0). Returns (beta, A, c) with c = beta + 1."""
    L = np.log(wmin / wmax) if wmin > 0 else -np.inf
    if n <= 0 or (beta is None and n < MIN_FREE_FIT_MODES):
        return np.nan, np.nan, np.nan
    c = _solve_c(S / n, L) if beta is None else beta + 1.0
    if not np.isfinite(c):
        return np.nan, np.nan, np.nan
    A = n / (R * N) * np.exp(-_log_Z(c, L, np.log(wmax)))
    return c - 1.0, A, c


@dataclass
class PowerLawFit:
    """Result of `fit_power_law`. A_g: amplitude at beta = 4; beta, A: free fit D = A omega^beta.

    *_err are the quoted one-sigma errors: from the bootstrap over realizations (error_method
    'bootstrap') if there are at least MIN_BOOTSTRAP_REALIZATIONS realizations, otherwise from the
    likelihood ('poisson/fisher': A_g/sqrt(n), beta from the Fisher information, which ignore the
    correlations between modes of one realization). Both kinds are kept: *_err_boot (NaN if not
    computed) and *_err_model."""

    wmin: float
    wmax: float
    cutoff: float
    n_modes: int
    n_real: int
    N: int
    A_g: float
    beta: float
    A: float
    A_g_err: float = np.nan
    beta_err: float = np.nan
    A_err: float = np.nan
    A_g_err_boot: float = np.nan
    beta_err_boot: float = np.nan
    A_err_boot: float = np.nan
    A_g_err_model: float = np.nan
    beta_err_model: float = np.nan
    A_err_model: float = np.nan
    error_method: str = ""
    n_boot: int = 0
    window_note: str = ""


def default_fit_window(run, wmax_fraction=WMAX_FRACTION):
    """The default window [0, wmax_fraction * omega_c].

    The lower end is 0: the omega^4 law is expected down to omega = 0 and the likelihood needs
    no lower cut (a cut at the lowest observed frequency would put a data-dependent boundary on
    the sample). The upper end stays below the completeness cutoff, where every realization
    contributes all its modes, by a margin that keeps out the bend towards the linear
    high-frequency part when nev reaches it (at N = 1000, nev = 100 the free exponent drifts
    down from ~4 already between 0.5 and 0.7 omega_c). The omega^4 law is a low-frequency
    asymptote: check it with `exponent_scan` and set both ends explicitly where the spectrum
    says so."""
    return 0.0, wmax_fraction * completeness_cutoff(run)


def _window_stats(run, wmin, wmax):
    """Per realization: the number of modes in [wmin, wmax] and the sum of log(omega/wmax)."""
    n = np.zeros(run.n_spectra)
    S = np.zeros(run.n_spectra)
    for r, om in enumerate(run.omegas()):
        sel = om[(om >= wmin) & (om <= wmax) & (om > 0)]
        n[r] = len(sel)
        S[r] = np.sum(np.log(sel / wmax))
    return n, S


def fit_power_law(run, wmin=None, wmax=None, wmax_fraction=WMAX_FRACTION, n_boot=400, seed=0):
    """Fit D(omega) = A_g omega^4 and the free power law A omega^beta on [wmin, wmax] by maximum
    likelihood on the individual frequencies (see the comment above `_u_moments`), with error bars
    from a bootstrap over realizations (n_boot resamples, numpy seed `seed`) and from the
    likelihood. wmin, wmax default to `default_fit_window`; wmax above the completeness cutoff is
    refused (ValueError). Returns a PowerLawFit."""
    wc = completeness_cutoff(run)
    d_lo, d_hi = default_fit_window(run, wmax_fraction)
    note = []
    if wmin is None:
        wmin = d_lo
        note.append("wmin default 0")
    if wmax is None:
        wmax = d_hi
        note.append(f"wmax default {wmax_fraction:g} omega_c")
    if not (0 <= wmin < wmax):
        raise ValueError(f"fit window [{wmin}, {wmax}] is empty")
    if wmax > wc * (1 + 1e-12):
        raise ValueError(f"fit window top {wmax:g} above the completeness cutoff {wc:g}")
    R, N = run.n_spectra, run.N
    n_r, S_r = _window_stats(run, wmin, wmax)
    n, S = n_r.sum(), S_r.sum()
    beta, A, c = power_law_mle(n, S, R, N, wmin, wmax)
    _, A_g, _ = power_law_mle(n, S, R, N, wmin, wmax, beta=4.0)
    fit = PowerLawFit(wmin=float(wmin), wmax=float(wmax), cutoff=wc, n_modes=int(n), n_real=R, N=N,
                      A_g=A_g, beta=beta, A=A, window_note=", ".join(note))
    # likelihood errors: Poisson for the count, Fisher information n Var[log omega] for beta;
    # log A = log n - log(R N) - log Z(beta) with d log Z / d beta = <log omega>_beta
    if n > 0:
        fit.A_g_err_model = A_g / np.sqrt(n)
        if np.isfinite(c):
            L = np.log(wmin / wmax) if wmin > 0 else -np.inf
            mu, var = _u_moments(c, L)
            fit.beta_err_model = 1.0 / np.sqrt(n * var)
            dlogZ = np.log(wmax) + mu
            fit.A_err_model = A * np.sqrt(1.0 / n + (dlogZ * fit.beta_err_model) ** 2)
    if R >= 2 and n_boot > 0:
        rng = np.random.default_rng(seed)
        samples = []
        for _ in range(n_boot):
            k = rng.integers(0, R, R)
            nb, Sb = n_r[k].sum(), S_r[k].sum()
            b, a, _ = power_law_mle(nb, Sb, R, N, wmin, wmax)
            _, ag, _ = power_law_mle(nb, Sb, R, N, wmin, wmax, beta=4.0)
            samples.append((ag, b, a))
        s = np.array(samples)
        for j, k in enumerate(("A_g", "beta", "A")):
            v = s[np.isfinite(s[:, j]), j]
            if len(v) >= 2:
                setattr(fit, k + "_err_boot", float(np.std(v, ddof=1)))
        fit.n_boot = int(np.isfinite(s[:, 0]).sum())
    use_boot = R >= MIN_BOOTSTRAP_REALIZATIONS and fit.n_boot >= 2
    fit.error_method = "bootstrap" if use_boot else "poisson/fisher"
    sfx = "_boot" if use_boot else "_model"
    for k in ("A_g", "beta", "A"):
        setattr(fit, k + "_err", getattr(fit, k + "_err" + sfx))
    return fit


def exponent_scan(run, fractions=(0.3, 0.5, 0.7, 1.0), wmin=0.0):
    """The free exponent and A_g on the windows [wmin, f omega_c] for each fraction f, with
    likelihood errors (a quick look at where D(omega) ~ omega^4 holds). Returns a list of dicts:
    wmax, n, beta, beta_err, A_g, A_g_err."""
    wc = completeness_cutoff(run)
    out = []
    for f in fractions:
        if f * wc <= wmin:
            continue
        r = fit_power_law(run, wmin=wmin, wmax=f * wc, n_boot=0)
        out.append({"fraction": f, "wmax": r.wmax, "n": r.n_modes, "beta": r.beta, "beta_err": r.beta_err_model,
                    "A_g": r.A_g, "A_g_err": r.A_g_err_model})
    return out


# ----------------------------------------------------------------------------------------------
# Displacements: <x*^2>, <x~^2>(kappa), partial averages


def exact_mean(a):
    """Mean with a correctly rounded sum (math.fsum): independent of the order of the terms, so
    <x*^2> and the partial average at kappa0 agree to the last bit."""
    a = np.asarray(a, float).ravel()
    return math.fsum(a) / len(a)


def mean_square_displacement(run):
    """<x*^2> over oscillators and realizations, and its error: the spread of the R per-
    realization means / sqrt(R) (oscillators of one realization are correlated through J); for
    R = 1 the naive std(x^2)/sqrt(N). Returns (mean, err)."""
    run.require_minima()
    x2 = run.x**2
    per = x2.mean(axis=1)
    mean = exact_mean(x2)
    if run.n_ok >= 2:
        err = float(per.std(ddof=1) / np.sqrt(run.n_ok))
    else:
        err = float(x2.std(ddof=1) / np.sqrt(x2.size))
    return mean, err


def binned_x2(run, bins=20, log=True):
    """<x~^2>(kappa): the mean of x*_i^2 in bins of kappa_i (logarithmic unless log=False,
    between the smallest kappa_i and kappa0). Returns a dict: edges, centers, mean, err
    (std/sqrt(count)) and counts; empty bins are NaN."""
    run.require_minima()
    k, x2 = run.kappa.ravel(), (run.x**2).ravel()
    k0 = float(run.params["kappa0"])
    lo = max(k.min(), 1e-12)
    edges = np.logspace(np.log10(lo), np.log10(k0), bins + 1) if log else np.linspace(float(run.params["kappa_min"]), k0, bins + 1)
    idx = np.clip(np.searchsorted(edges, k, side="right") - 1, 0, bins - 1)
    cnt = np.bincount(idx, minlength=bins).astype(float)
    s1 = np.bincount(idx, x2, minlength=bins)
    s2 = np.bincount(idx, x2 * x2, minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = s1 / cnt
        var = (s2 / cnt - mean**2) * cnt / np.maximum(cnt - 1, 1)
        err = np.sqrt(np.clip(var, 0, None) / cnt)
    centers = np.sqrt(edges[1:] * edges[:-1]) if log else 0.5 * (edges[1:] + edges[:-1])
    return {"edges": edges, "centers": centers, "mean": mean, "err": err, "counts": cnt}


def partial_average_arrays(kappa, x2, kappa_min, kappa0, kappa_grid=None, n_grid=60, min_count=20,
                           method="running_mean"):
    """The partial average xbar^2(kappa) from samples (kappa_i, x_i^2) with kappa_i uniform on
    [kappa_min, kappa0], pooled over realizations (n = R N samples).

    Definition (paper, sec. 3, with p(kappa) = 1/kappa0 on [0, kappa0]):
        xbar^2(kappa) = (1/kappa) int_0^kappa <x~^2>(kappa') dkappa'.
    Here the lower end is kappa_min and the prefactor 1/(kappa - kappa_min), which is the paper's
    for kappa_min = 0 and keeps xbar^2(kappa0) = <x*^2> for a gapped p(kappa) too.
    Estimate: with p = 1/(kappa0 - kappa_min),
        int_kmin^kappa <x~^2> dkappa' = (kappa0 - kappa_min) E[x^2 ; kappa_i <= kappa]
                                     ~ (kappa0 - kappa_min)/n * sum_{kappa_i <= kappa} x_i^2,
    so xbar^2(kappa) ~ (kappa0 - kappa_min)/(n (kappa - kappa_min)) * sum_{kappa_i <= kappa} x_i^2
    (method="uniform_density"). The expected number of samples with kappa_i <= kappa is
    n (kappa - kappa_min)/(kappa0 - kappa_min); replacing it by the actual count m(kappa) gives the
    running mean (1/m) sum_{kappa_i <= kappa} x_i^2 (method="running_mean", the default): the same
    limit, with the count fluctuation of the kappa_i divided out (lower variance). Both equal
    <x*^2> = mean of all x_i^2 exactly at kappa = kappa0.

    Evaluated on kappa_grid (default: n_grid log-spaced points from the min_count-th smallest
    kappa_i to kappa0). Returns (kappa_grid, xbar2, err, count) with err = std(x^2)/sqrt(count)
    over the included samples (sampling error, ignoring correlations within a realization)."""
    order = np.argsort(kappa, kind="stable")
    ks, xs = np.asarray(kappa)[order], np.asarray(x2)[order]
    n = len(ks)
    c1, c2 = np.cumsum(xs), np.cumsum(xs * xs)
    if kappa_grid is None:
        lo = ks[min(min_count, n) - 1]
        lo = max(lo, kappa_min + (kappa0 - kappa_min) * 1e-9)
        kappa_grid = np.logspace(np.log10(lo), np.log10(kappa0), n_grid) if lo > 0 else np.linspace(lo, kappa0, n_grid)
        kappa_grid[-1] = kappa0
    kappa_grid = np.asarray(kappa_grid, float)
    m = np.searchsorted(ks, kappa_grid, side="right")
    s1 = np.where(m > 0, c1[np.maximum(m, 1) - 1], 0.0)
    s2 = np.where(m > 0, c2[np.maximum(m, 1) - 1], 0.0)
    s1[m == n] = math.fsum(xs)  # all samples: the same correctly rounded sum as exact_mean
    with np.errstate(invalid="ignore", divide="ignore"):
        running = s1 / m
        var = np.clip(s2 / m - running**2, 0, None) * m / np.maximum(m - 1, 1)
        err = np.sqrt(var / m)
        if method == "running_mean":
            xbar = running
        elif method == "uniform_density":
            xbar = s1 * ((kappa0 - kappa_min) / (kappa_grid - kappa_min)) / n
        else:
            raise ValueError(f"unknown method {method!r}")
    return kappa_grid, xbar, err, m


def partial_average(run, **kw):
    """xbar^2(kappa) of a run: `partial_average_arrays` on its pooled (kappa_i, x*_i^2)."""
    run.require_minima()
    return partial_average_arrays(run.kappa.ravel(), (run.x**2).ravel(), float(run.params["kappa_min"]),
                                  float(run.params["kappa0"]), **kw)


# ----------------------------------------------------------------------------------------------
# omega_x: crossover of the partial average and collapse of several runs


def _x2_model_integral(z, m):
    """F(z) = int_0^z (1 + s^m)^(-2/m) ds = z 2F1(2/m, 1/m; 1 + 1/m; -z^m)."""
    return z * special.hyp2f1(2.0 / m, 1.0 / m, 1.0 + 1.0 / m, -(z**m))


def crossover_fit(kappa, xbar2, err=None, kappa_min=0.0):
    """The plateau and tail of a partial average, and where they cross.

    The partial average is fitted (least squares in log xbar^2, weighted by the relative errors
    err/xbar2 if given) as the partial average of
        <x~^2>(kappa) = P (1 + (kappa/kappa_1)^m)^(-2/m),
    the paper's two regimes (flat for kappa << omega_x^2, ~ kappa^-2 above) joined with a free
    sharpness m: m = 1 is the non-interacting oscillator's linear departure from the plateau,
    m = 2 a Lorentzian. Then xbar^2 -> P for kappa -> 0 and xbar^2 -> C/kappa for large kappa with
    C = int_0^inf <x~^2> = P kappa_1 Gamma(1 + 1/m) Gamma(1/m)/Gamma(2/m); the two asymptotes cross
    at kappa_c = C/P. (Fitting the partial average directly with a smooth step of its own biases
    P when the data do not reach deep into the plateau: its approach to the tail is fixed, a 1/kappa
    correction, which this form respects.) Returns (P, kappa_c, m)."""
    k, y = np.asarray(kappa, float), np.asarray(xbar2, float)
    sig = np.ones_like(y) if err is None else np.asarray(err, float) / y
    ok = np.isfinite(y) & (y > 0) & (k > kappa_min) & np.isfinite(sig) & (sig > 0)
    k, ly, w = k[ok], np.log(y[ok]), 1.0 / sig[ok]

    def model(p):
        lP, lk1, lm = p
        k1, m = np.exp(lk1), np.exp(lm)
        G = _x2_model_integral(k / k1, m) - (_x2_model_integral(kappa_min / k1, m) if kappa_min > 0 else 0.0)
        return lP + lk1 + np.log(G / (k - kappa_min))

    P0 = y[ok][0]
    C0 = y[ok][-1] * k[-1]
    p0 = [np.log(P0), np.log(C0 / P0 / 1.5), np.log(2.0)]
    with np.errstate(all="ignore"):
        res = optimize.least_squares(lambda p: (model(p) - ly) * w, p0,
                                     bounds=([-np.inf, -np.inf, np.log(0.5)], [np.inf, np.inf, np.log(10.0)]))
    lP, lk1, lm = res.x
    m = float(np.exp(lm))
    I = special.gamma(1 + 1 / m) * special.gamma(1 / m) / special.gamma(2 / m)
    return float(np.exp(lP)), float(np.exp(lk1) * I), m


def _curve_log(run, n_grid=60, min_count=20):
    """The partial average of a run in log-log: (log kappa, log xbar^2, relative error)."""
    k, y, e, _ = partial_average(run, n_grid=n_grid, min_count=min_count)
    ok = np.isfinite(y) & (y > 0) & (k > 0) & (e > 0)
    return np.log(k[ok]), np.log(y[ok]), e[ok] / y[ok]


def _collapse_cost(u, curve, placed, min_overlap):
    """Chi^2 per point, in log-log, between a curve rescaled by e^u (shifted by -u along the
    diagonal) and the curves placed so far, over their overlaps; errors are the relative sampling
    errors of both curves (the placed ones interpolated)."""
    lx, ly, ls = curve
    x, y = lx - u, ly - u
    tot, cnt = 0.0, 0
    for px, py, ps in placed:
        sel = (x >= px[0]) & (x <= px[-1])
        if not sel.any():
            continue
        d = y[sel] - np.interp(x[sel], px, py)
        tot += np.sum(d * d / (ls[sel] ** 2 + np.interp(x[sel], px, ps) ** 2))
        cnt += int(sel.sum())
    if cnt < min_overlap:
        return np.inf
    return tot / cnt


def crossover_of_run(run, n_grid=60, min_count=20):
    """`crossover_fit` of a run's own partial average: (P, kappa_c, m); omega_x = sqrt(kappa_c) in
    the normalization of `collapse_partial_averages` (exact for this run as a reference)."""
    lx, ly, ls = _curve_log(run, n_grid, min_count)
    return crossover_fit(np.exp(lx), np.exp(ly), np.exp(ly) * ls, float(run.params["kappa_min"]))


@dataclass
class Collapse:
    """Result of `collapse_partial_averages`. omega_x[i] of run i; reference: index of the
    reference run; P_ref, kappa_c_ref, m_ref: its crossover fit (omega_x,ref^2 = kappa_c_ref);
    plateau: P_ref / omega_x,ref^2 (the rescaled plateau, so <x*^2> ~ plateau omega_x^4/kappa0 in
    the tail); cost[i]: mean squared log distance to the master curve at the optimum."""

    omega_x: np.ndarray
    reference: int
    P_ref: float
    kappa_c_ref: float
    m_ref: float
    plateau: float
    cost: np.ndarray
    curves: list


def collapse_partial_averages(runs, reference=None, n_grid=60, min_count=20, min_overlap=8):
    """Extract omega_x per run from the collapse of xbar^2(kappa)/omega_x^2 against
    kappa/omega_x^2 (paper Fig. 5a).

    In log-log coordinates rescaling by omega_x^2 shifts a curve along the diagonal. Starting from
    the reference run, runs are placed one at a time in list order (outwards from the reference,
    so runs should be sorted by the varied parameter): each gets the shift that minimizes the mean
    squared vertical distance to all curves placed so far, over their overlap (a grid scan over the
    shifts with at least `min_overlap` overlapping points, refined by a bounded 1D minimization);
    the distances are weighted by the sampling errors of the curves (chi^2 per point).
    The overall constant is fixed on the reference: omega_x,ref^2 = kappa_c of its `crossover_fit`,
    i.e. the crossover of its two asymptotes (flat ~ omega_x^2, tail ~ omega_x^4/kappa) is at
    kappa = omega_x^2. The default reference is the run whose fitted kappa_c lies most centrally
    (in log kappa) within its data range, so that both asymptotes are seen."""
    if len(runs) == 0:
        raise ValueError("collapse: no run")
    curves = [_curve_log(r, n_grid, min_count) for r in runs]
    fits = [crossover_fit(np.exp(lx), np.exp(ly), np.exp(ly) * ls, float(r.params["kappa_min"]))
            for r, (lx, ly, ls) in zip(runs, curves)]  # the same as crossover_of_run
    if reference is None:
        def centrality(i):
            lx = curves[i][0]
            lkc = np.log(fits[i][1])
            return min(lkc - lx[0], lx[-1] - lkc)
        reference = int(max(range(len(runs)), key=centrality))
    P_ref, kc_ref, m_ref = fits[reference]
    t = np.full(len(runs), np.nan)  # t_i = log(omega_x,i^2 / omega_x,ref^2)
    t[reference] = 0.0
    cost = np.zeros(len(runs))
    placed = [curves[reference]]
    order = sorted(range(len(runs)), key=lambda i: (abs(i - reference), i))[1:]
    for i in order:
        span = 12.0  # shifts up to e^12 in omega_x^2 around the nearest placed neighbour
        nb = reference + (1 if i > reference else -1) * (abs(i - reference) - 1)
        center = t[nb]
        grid = np.linspace(center - span, center + span, 481)
        costs = np.array([_collapse_cost(u, curves[i], placed, min_overlap) for u in grid])
        if not np.isfinite(costs).any():
            raise ValueError(f"collapse: run {runs[i].label()} does not overlap the curves placed before it")
        j = int(np.argmin(costs))
        lo, hi = grid[max(j - 1, 0)], grid[min(j + 1, len(grid) - 1)]
        res = optimize.minimize_scalar(lambda u: _collapse_cost(u, curves[i], placed, min_overlap),
                                       bounds=(lo, hi), method="bounded", options={"xatol": 1e-6})
        t[i] = res.x if res.fun <= costs[j] else grid[j]
        cost[i] = min(res.fun, costs[j])
        placed.append((curves[i][0] - t[i], curves[i][1] - t[i], curves[i][2]))
    omega_x = np.sqrt(kc_ref * np.exp(t))
    return Collapse(omega_x=omega_x, reference=reference, P_ref=P_ref, kappa_c_ref=kc_ref, m_ref=m_ref,
                    plateau=P_ref / kc_ref, cost=cost, curves=curves)


# ----------------------------------------------------------------------------------------------
# Summary


def summarize(run, wmin=None, wmax=None, wmax_fraction=WMAX_FRACTION, n_boot=400, seed=0):
    """All the numbers of a run in one dict: params, files, counts (ok, left out by status,
    duplicates), x2 (<x*^2>, err), eig (lowest-eigenvalue statistics), crossover ((P, kappa_c, m)
    of the partial average, or None), fit (PowerLawFit or None, with fit_error when the spectrum
    cannot be fitted) and scan (`exponent_scan`)."""
    s = {"params": run.params, "files": run.files, "n_ok": run.n_ok, "n_total": run.n_total,
         "status_counts": dict(run.status_counts), "left_out": run.left_out, "duplicates": run.duplicates,
         "x2": None, "eig": None, "fit": None, "fit_error": None, "scan": None, "crossover": None}
    if run.n_ok == 0:
        s["fit_error"] = "no realization at a minimum"
        return s
    s["x2"] = mean_square_displacement(run)
    if run.n_spectra:
        s["eig"] = lowest_eigenvalue_stats(run)
    try:
        s["crossover"] = crossover_of_run(run)
    except (ValueError, RuntimeError, IndexError):
        pass
    try:
        s["fit"] = fit_power_law(run, wmin=wmin, wmax=wmax, wmax_fraction=wmax_fraction, n_boot=n_boot, seed=seed)
        s["scan"] = exponent_scan(run, wmin=s["fit"].wmin)
    except ValueError as e:
        s["fit_error"] = str(e)
    return s


def fmt_pm(value, err, digits=2):
    """'value +- err' with `digits` significant digits in the error (plain if err is not finite)."""
    if not np.isfinite(value):
        return "nan"
    if not (np.isfinite(err) and err > 0):
        return f"{value:.4g}"
    scale = 10 ** (math.floor(math.log10(err)) - digits + 1)
    big = max(abs(value), err)
    if 1e-3 <= big < 1e5:
        nd = max(0, -int(math.floor(math.log10(scale))))
        return f"{value:.{nd}f} +- {err:.{nd}f}"
    e = math.floor(math.log10(big))
    nd = max(0, e - int(math.floor(math.log10(scale))))
    return f"({value / 10**e:.{nd}f} +- {err / 10**e:.{nd}f})e{e:+d}"


def format_summary(s):
    """Plain-text rendering of a `summarize` dict."""
    p = s["params"]
    lines = []
    files = s["files"]
    lines.append(f"khgps run: {len(files)} file(s): " + (", ".join(files) if len(files) <= 4 else
                                                          ", ".join(files[:3]) + f", ... {files[-1]}"))
    lines.append("  parameters    " + "  ".join(f"{k}={p[k]:g}" for k in PHYSICS_KEYS if k in p))
    extra = [k for k in ("seed", "nev", "gtol", "x0_amplitude", "polish_its") if k in p]
    lines.append("                " + "  ".join(f"{k}={p[k]:g}" for k in extra))
    st = ", ".join(f"{k} {v}" for k, v in sorted(s["status_counts"].items()))
    lo = sum(s["left_out"].values())
    lines.append(f"  realizations  {s['n_total']} read ({st}): {s['n_ok']} used, {lo} left out"
                 + (" (" + ", ".join(f"{k} {v}" for k, v in sorted(s["left_out"].items())) + ")" if lo else "")
                 + (f"; {s['duplicates']} duplicate(s) ignored" if s["duplicates"] else ""))
    if s["x2"] is not None:
        lines.append(f"  <x*^2>        {fmt_pm(*s['x2'])}")
    if s["crossover"] is not None:
        P, kc, _ = s["crossover"]
        lines.append(f"  omega_x       {np.sqrt(kc):.4g}  (partial average: plateau {P:.4g}, tail {P * kc:.4g}/kappa, crossing at"
                     f" kappa = omega_x^2 = {kc:.4g})")
    if s["eig"] is not None:
        e = s["eig"]
        lines.append(f"  lowest eigenvalue omega_min^2 over {e['n']} minima: min {e['min']:.6g}  median {e['median']:.6g}"
                     f"  mean {e['mean']:.6g}   (omega_min: min {np.sqrt(e['min']):.4g})")
    f = s["fit"]
    if f is not None:
        lines.append(f"  completeness cutoff omega_c = {f.cutoff:.5g} (lowest over realizations of the largest computed omega)")
        lines.append(f"  fit window    [{f.wmin:.4g}, {f.wmax:.4g}]" + (f" ({f.window_note})" if f.window_note else "")
                     + f": {f.n_modes} modes, maximum likelihood on the frequencies")
        if f.n_real < s["n_ok"]:
            lines.append(f"                ({s['n_ok'] - f.n_real} minima without eigenvalues are left out of the spectrum)")
        how = f"errors: {f.error_method}" + (f", {f.n_boot} resamples" if f.error_method == "bootstrap" else
                                              f" (bootstrap needs >= {MIN_BOOTSTRAP_REALIZATIONS} realizations)")
        lines.append(f"  A_g (beta=4)  {fmt_pm(f.A_g, f.A_g_err)}   D(omega) = A_g omega^4 per oscillator; {how}")
        if np.isfinite(f.beta):
            lines.append(f"  exponent      beta = {fmt_pm(f.beta, f.beta_err)}   (free fit D = A omega^beta, A = {fmt_pm(f.A, f.A_err)})")
            if abs(f.beta - 4) > 3 * f.beta_err:
                lines.append("                NOTE: beta is not 4 within 3 sigma: the window is not (only) in the omega^4 regime")
        else:
            lines.append(f"  exponent      not fitted: {f.n_modes} modes in the window (< {MIN_FREE_FIT_MODES})")
        if s["scan"]:
            lines.append(f"  exponent scan on [{f.wmin:.3g}, f omega_c] (likelihood errors):")
            lines.append("       f     wmax   modes  beta            A_g")
            for d in s["scan"]:
                lines.append(f"    {d['fraction']:4g}  {d['wmax']:7.4g} {d['n']:7d}  {fmt_pm(d['beta'], d['beta_err']):15s} "
                             f"{fmt_pm(d['A_g'], d['A_g_err'])}")
    elif s["fit_error"]:
        lines.append(f"  D(omega) fit  not done: {s['fit_error']}")
    return "\n".join(lines)
