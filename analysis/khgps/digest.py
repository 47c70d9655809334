#!/usr/bin/python3
"""Digests of khgps run files: per realization only what the spectral statistics need.

A run file holds kappa, x* (and optionally J) per realization: megabytes per realization at large
N, too large to commit. A *digest* keeps, per realization, its index, status, TAO iterations,
energy, wall time, <x*^2> over its oscillators, its lowest eigenvalue (float64), the computed
eigenvalues (rounded to float32, 6e-8 relative, ascending) and their participation ratios (rounded
to float16, 3 digits): about 0.45 kB per realization with 100 pairs, compressed. It is the
durable record of a campaign (results/tail/), from which the tail analysis remakes its table and
figure, and from whose last realization a campaign continues on any machine (`next`).

  khgps_digest.py update DIGEST.h5 RUN.h5 [RUN.h5 ...]   # add the run files' realizations
  khgps_digest.py next DIGEST.h5                         # first realization index not yet in it
  khgps_digest.py show DIGEST.h5                         # one line: params, counts by status

`update` creates DIGEST if missing; the parameters of every input must equal the digest's
(N, kappa0, kappa_min, J, h, A, seed, nev, sparse, connectivity) and so must the protocol
(tao_type, gtol, polish_its, x0_amplitude and the start: start, parent_temperature,
equilibration_sweeps, adapt_sweeps, measure_sweeps; absent = what earlier khgps did: bncg, x = 0,
0), so a digest never mixes minimizers or parent temperatures. A realization present twice
must agree (status equal, lowest eigenvalue to 1e-8 and the others to 1e-6 relative, which allows
another machine's BLAS);
the digest's copy is kept. The digest is replaced atomically (a unique temporary beside it,
then rename): an interrupted update leaves the old digest. Errors: one line, exit 1.

Layout (HDF5): root attributes format = "khgps-digest-1", khgps_versions (of the run files);
/params attributes as in the run files; datasets of length R (sorted by realization):
realization, status, nconv, tao_iterations, energy, time (draw + minimize + spectrum, s),
x2_mean, lowest_eigenvalue (NaN without pairs); with a thermal start (-khgps_start thermal; only if
some row has them) parent_energy, parent_energy_error, parent_x2, parent_x2_error,
parent_acceptance, parent_drift, parent_sweeps (float64, NaN where absent: other starts, older
digests); eigenvalues (float32) and participation_ratio
(float16) [R, nev] padded with NaN beyond nconv. In memory (`Digest`) the arrays are float64 of the
same rounded values, whether read from a digest or made from a run file, so both give the same
statistics; `spectra()` puts the exact lowest eigenvalue first."""
import os
import sys
import tempfile

import h5py
import numpy as np

from . import io as khgps_io

USAGE = """usage: khgps_digest.py update DIGEST.h5 RUN.h5 [RUN.h5 ...] | next DIGEST.h5 | show DIGEST.h5"""
FORMAT = "khgps-digest-1"
#: Parameters that must agree between a digest and the run files added to it.
MATCH_KEYS = ("N", "kappa0", "kappa_min", "J", "h", "A", "seed", "nev", "sparse", "connectivity")
#: The protocol: what decides which minimum is found and what counts as one. Compared like
#: MATCH_KEYS; a key absent from an older file or digest takes the value every earlier khgps used.
PROTOCOL_DEFAULTS = {"tao_type": "bncg", "polish_its": 1, "x0_amplitude": 0.0, "start": "zero", "parent_temperature": 0.0,
                     "equilibration_sweeps": 0, "adapt_sweeps": 0, "measure_sweeps": 0}
#: Partial averages of x*^2 against kappa (the paper's Figs. 3 and 5a): per realization, the sum of
#: x*^2 and the number of oscillators in bins of kappa/kappa0 with these edges (6 per decade from
#: 1e-6, and [0, 1e-6) first).
KAPPA_EDGES = np.concatenate([[0.0], np.logspace(-6, 0, 37)[:-1], [np.inf]])
kformat = khgps_io.kformat  # the run file's format (analysis/khgps/format.json, from src/record.c)
STATUS_NAMES = kformat.STATUS_NAMES
#: the run file fields a digest row is made of (rows_of_run_file; tests/test_format.py checks them)
RUN_FIELDS = ("realization", "status", "tao_iterations", "energy", "time_draw", "time_minimize", "time_spectrum",
              "x", "kappa", "eigenvalues", "participation_ratio")
_COLUMNS = (("realization", np.int64), ("status", np.int8), ("nconv", np.int32),
            ("tao_iterations", np.int32), ("energy", np.float64), ("time", np.float32),
            ("x2_mean", np.float64), ("lowest_eigenvalue", np.float64))
#: The thermal start's statistics of the parent sample per realization (run file attributes of the
#: same names; NaN for other starts and for digests made before 2026-12-05, which lack them). Written
#: only when some row has them, so a digest without thermal rows keeps its earlier layout.
PARENT_COLUMNS = tuple(n for n in kformat.SCALARS if n.startswith("parent_"))


class DigestError(Exception):
    pass


def _round32(a):
    return np.asarray(a, float).astype(np.float32).astype(float)


def _round16(a):
    return np.asarray(a, float).astype(np.float16).astype(float)


def _attrs(obj):
    return {k: (v.decode() if isinstance(v, bytes) else v) for k, v in obj.attrs.items()}


def _same(va, vb):
    if isinstance(va, str) or isinstance(vb, str):
        return str(va) == str(vb)
    return float(va) == float(vb)


def param_mismatch(a, b):
    """The MATCH_KEYS and protocol keys on which two parameter dicts differ, as 'key a vs b'
    strings."""
    diff = []
    for k in MATCH_KEYS + tuple(k for k in sorted(set(a) | set(b)) if k in PROTOCOL_DEFAULTS or k == "gtol"):
        va, vb = a.get(k, PROTOCOL_DEFAULTS.get(k)), b.get(k, PROTOCOL_DEFAULTS.get(k))
        if va is None and vb is None:
            continue
        if va is None or vb is None or not _same(va, vb):
            diff.append(f"{k} {va} vs {vb}")
    return diff


class Digest:
    """In-memory digest: params (dict), columns (dict of 1D arrays), eigenvalues and
    participation_ratio ([R, nev] arrays, NaN-padded), versions (set of str)."""

    def __init__(self, params, nev):
        self.params = dict(params)
        self.nev = int(nev)
        self.cols = {k: np.zeros(0, t) for k, t in _COLUMNS}
        self.cols.update({k: np.zeros(0) for k in PARENT_COLUMNS})
        self.eigenvalues = np.zeros((0, self.nev))
        self.participation_ratio = np.zeros((0, self.nev))
        nb = len(KAPPA_EDGES) - 1
        self.x2_kappa = np.zeros((0, nb))   # sum of x*^2 per kappa bin (NaN: not recorded)
        self.n_kappa = np.zeros((0, nb))    # oscillators per kappa bin
        self.versions = set()

    def __len__(self):
        return len(self.cols["realization"])

    @property
    def N(self):
        return int(self.params["N"])

    def next_index(self):
        r = self.cols["realization"]
        return int(r.max()) + 1 if len(r) else 0

    def status_counts(self):
        out = {}
        for s in self.cols["status"]:
            name = STATUS_NAMES.get(int(s), f"status_{int(s)}")
            out[name] = out.get(name, 0) + 1
        return out

    def add(self, rows, source):
        """rows: list of dicts with the column keys plus 'eigenvalues', 'participation_ratio'.
        Rows whose realization is already present are checked for agreement and skipped.
        Returns the number of new rows."""
        have = {int(r): i for i, r in enumerate(self.cols["realization"])}
        new = []
        for row in rows:
            k = int(row["realization"])
            if k in have:
                i = have[k]
                lam_old = self.eigenvalues[i][: self.cols["nconv"][i]]
                lam_new = _round32(row["eigenvalues"])
                if int(self.cols["status"][i]) != int(row["status"]):
                    raise DigestError(f"{source}: realization {k} has status {row['status']}, the digest {self.cols['status'][i]}")
                m = min(len(lam_old), len(lam_new))
                if m and not (np.allclose(lam_old[:m], lam_new[:m], rtol=1e-6, atol=0) and
                              np.isclose(self.cols["lowest_eigenvalue"][i], row["eigenvalues"][0], rtol=1e-8, atol=0)):
                    raise DigestError(f"{source}: realization {k} differs from the digest's (eigenvalues)")
                continue
            have[k] = -1
            new.append(row)
        if not new:
            return 0
        for r in new:
            lam = np.asarray(r["eigenvalues"], float)
            r.setdefault("lowest_eigenvalue", lam[0] if len(lam) else np.nan)
        for key, t in _COLUMNS:
            self.cols[key] = np.concatenate([self.cols[key], np.array([r[key] for r in new], t)])
        for key in PARENT_COLUMNS:
            self.cols[key] = np.concatenate([self.cols[key], np.array([r.get(key, np.nan) for r in new], float)])
        ev = np.full((len(new), self.nev), np.nan)
        pr = np.full((len(new), self.nev), np.nan)
        for j, r in enumerate(new):
            lam = _round32(r["eigenvalues"])[: self.nev]
            ev[j, : len(lam)] = lam
            p = _round16(r["participation_ratio"])[: self.nev]
            pr[j, : len(p)] = p
        self.eigenvalues = np.concatenate([self.eigenvalues, ev])
        self.participation_ratio = np.concatenate([self.participation_ratio, pr])
        nb = len(KAPPA_EDGES) - 1
        xk = np.array([_round32(r["x2_kappa"]) if r.get("x2_kappa") is not None else np.full(nb, np.nan) for r in new])
        nk = np.array([r["n_kappa"] if r.get("n_kappa") is not None else np.full(nb, np.nan) for r in new], float)
        self.x2_kappa = np.concatenate([self.x2_kappa, xk.reshape(-1, nb)])
        self.n_kappa = np.concatenate([self.n_kappa, nk.reshape(-1, nb)])
        order = np.argsort(self.cols["realization"], kind="stable")
        for key in self.cols:
            self.cols[key] = self.cols[key][order]
        self.eigenvalues = self.eigenvalues[order]
        self.participation_ratio = self.participation_ratio[order]
        self.x2_kappa = self.x2_kappa[order]
        self.n_kappa = self.n_kappa[order]
        return len(new)

    def merge(self, params, rows, source):
        """`add` the rows of a file with parameters `params` (DigestError if they are not this
        digest's). Returns the number of new rows."""
        diff = param_mismatch(self.params, params)
        if diff:
            raise DigestError(f"{source}: other parameters than the digest's: {', '.join(diff)}")
        return self.add(rows, source)

    def spectra(self, minima_only=True):
        """(realization, status, eigenvalues, participation) per row, without padding; the first
        eigenvalue is the exact lowest one, the others are rounded to float32."""
        for i in range(len(self)):
            if minima_only and self.cols["status"][i] != 0:
                continue
            n = int(self.cols["nconv"][i])
            lam = self.eigenvalues[i, :n].copy()
            if n:
                lam[0] = self.cols["lowest_eigenvalue"][i]
            yield (int(self.cols["realization"][i]), int(self.cols["status"][i]), lam,
                   self.participation_ratio[i, :n].copy())

    def rows(self):
        """The digest's rows as `add` takes them (to join digests)."""
        for i, (_, _, lam, pr) in enumerate(self.spectra(minima_only=False)):
            rec = not np.isnan(self.n_kappa[i]).any()
            yield {**{k: self.cols[k][i] for k in self.cols}, "eigenvalues": lam, "participation_ratio": pr,
                   "x2_kappa": self.x2_kappa[i] if rec else None, "n_kappa": self.n_kappa[i] if rec else None}


def is_digest(path):
    try:
        with h5py.File(path, "r") as f:
            return f.attrs.get("format") in (FORMAT, FORMAT.encode())
    except OSError:
        return False


def read(path):
    """Read a digest file (DigestError if it is not one)."""
    try:
        with h5py.File(path, "r") as f:
            fmt = f.attrs.get("format")
            fmt = fmt.decode() if isinstance(fmt, bytes) else fmt
            if fmt != FORMAT:
                raise DigestError(f"{path}: not a khgps digest (format {fmt!r})")
            params = _attrs(f["params"])
            d = Digest(params, params["nev"])
            d.versions = set(str(f.attrs.get("khgps_versions", "")).split()) - {""}
            for key, t in _COLUMNS:
                d.cols[key] = np.asarray(f[key][()], t)
            R = len(d.cols["realization"])
            for key in PARENT_COLUMNS:  # digests of 2026-12-05 on with thermal rows
                d.cols[key] = np.asarray(f[key][()], float) if key in f else np.full(R, np.nan)
            d.eigenvalues = np.asarray(f["eigenvalues"][()], float).reshape(-1, d.nev)
            d.participation_ratio = np.asarray(f["participation_ratio"][()], float).reshape(-1, d.nev)
            R = len(d.cols["realization"])
            nb = len(KAPPA_EDGES) - 1
            if "x2_kappa" in f:  # digests of 2026-12-05 on
                d.x2_kappa = np.asarray(f["x2_kappa"][()], float).reshape(-1, nb)
                d.n_kappa = np.asarray(f["n_kappa"][()], float).reshape(-1, nb)
                d.n_kappa[d.n_kappa < 0] = np.nan
                d.x2_kappa[np.isnan(d.n_kappa)] = np.nan
            else:
                d.x2_kappa = np.full((R, nb), np.nan)
                d.n_kappa = np.full((R, nb), np.nan)
    except (OSError, KeyError) as e:
        raise DigestError(f"{path}: unreadable digest ({e})") from None
    R = len(d.cols["realization"])
    if (any(len(d.cols[k]) != R for k in d.cols) or len(d.eigenvalues) != R or len(d.participation_ratio) != R
            or len(d.x2_kappa) != R or len(d.n_kappa) != R):
        raise DigestError(f"{path}: columns of different lengths")
    return d


def write(d, path):
    """Write atomically: a unique temporary file beside `path`, then rename over it."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=folder)
    os.close(fd)
    try:
        z = dict(compression="gzip", compression_opts=9, shuffle=True)
        with h5py.File(tmp, "w") as f:
            f.attrs["format"] = FORMAT
            f.attrs["khgps_versions"] = " ".join(sorted(d.versions))
            g = f.create_group("params")
            for k, v in d.params.items():
                g.attrs[k] = v
            R = len(d)
            for key, _ in _COLUMNS:
                f.create_dataset(key, data=d.cols[key], **(z if R else {}))
            if R and not np.isnan(np.column_stack([d.cols[k] for k in PARENT_COLUMNS])).all():
                for key in PARENT_COLUMNS:
                    f.create_dataset(key, data=d.cols[key], **z)
            chunks = (min(max(R, 1), 256), d.nev) if R else None
            f.create_dataset("eigenvalues", data=d.eigenvalues.astype(np.float32), chunks=chunks, **(z if R else {}))
            f.create_dataset("participation_ratio", data=d.participation_ratio.astype(np.float16), chunks=chunks,
                             **(z if R else {}))
            if R and not np.isnan(d.n_kappa).all():  # older rows without the bins: NaN
                kc = (min(R, 256), d.x2_kappa.shape[1])
                f.create_dataset("x2_kappa", data=d.x2_kappa.astype(np.float32), chunks=kc, **z)
                f.create_dataset("n_kappa", data=np.nan_to_num(d.n_kappa, nan=-1).astype(np.int32), chunks=kc, **z)
                f["x2_kappa"].attrs["kappa_edges_over_kappa0"] = KAPPA_EDGES
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def seconds_per_realization(path, least=3):
    """The median wall seconds per realization of the digest at path, and where the figure comes
    from ("median of K done"); (None, "model") when the digest is absent or has fewer than `least`
    timed rows (the campaign plans of runs/tail.sh and runs/parent.sh then use their cost models)."""
    if os.path.exists(path):
        tt = read(path).cols["time"]
        tt = tt[tt > 0]
        if len(tt) >= least:
            return float(np.median(tt)), f"median of {len(tt)} done"
    return None, "model"


def rows_of_run_file(path):
    """(params, rows, version) of a khgps run file (and its log, FILE.pending): one row per
    realization."""
    rows = []
    try:
        with h5py.File(path, "r") as f:
            if "params" not in f:
                raise DigestError(f"{path}: not a khgps run file (no /params)")
            params = _attrs(f["params"])
            if "tao_type" not in params and "tao_type" in f.attrs:  # files before the protocol was in /params
                t = f.attrs["tao_type"]
                params["tao_type"] = t.decode() if isinstance(t, bytes) else str(t)
            version = f.attrs.get("khgps_version", b"")
            version = version.decode() if isinstance(version, bytes) else str(version)
        thermal = str(params.get("start", PROTOCOL_DEFAULTS["start"])) == "thermal"  # else parent_* are 0
        for _, a in khgps_io.realizations(path, minima_only=False):
            try:
                x, kap = a["x"], a["kappa"]
                lam = a.get("eigenvalues", np.empty(0))
                pr = a.get("participation_ratio", np.full(len(lam), np.nan))
            except KeyError as e:
                raise DigestError(f"{path}: realization {a.get('realization')} lacks {e}") from None
            if len(x) != int(params["N"]) or len(pr) != len(lam):
                raise DigestError(f"{path}: realization {a.get('realization')} has datasets of the wrong shape")
            rows.append({"realization": int(a["realization"]), "status": int(a["status"]),
                         "nconv": len(lam), "tao_iterations": int(a.get("tao_iterations", -1)),
                         "energy": float(a.get("energy", np.nan)),
                         "time": float(a.get("time_draw", 0) + a.get("time_minimize", 0) + a.get("time_spectrum", 0)),
                         "x2_mean": float(np.mean(np.asarray(x, float) ** 2)),
                         "eigenvalues": lam, "participation_ratio": pr, **kappa_bins(params, kap, x),
                         **{k: float(a.get(k, np.nan)) if thermal else np.nan for k in PARENT_COLUMNS}})
    except OSError as e:
        raise DigestError(f"{path}: unreadable ({e})") from None
    rows.sort(key=lambda r: r["realization"])
    return params, rows, version


def kappa_bins(params, kappa, x):
    """The per-bin sums of x*^2 and counts of oscillators over kappa/kappa0 (KAPPA_EDGES)."""
    b = np.searchsorted(KAPPA_EDGES, np.asarray(kappa, float) / float(params["kappa0"]), side="right") - 1
    b = np.clip(b, 0, len(KAPPA_EDGES) - 2)
    nb = len(KAPPA_EDGES) - 1
    return {"x2_kappa": np.bincount(b, weights=np.asarray(x, float) ** 2, minlength=nb),
            "n_kappa": np.bincount(b, minlength=nb).astype(float)}


def update(digest_path, run_paths):
    """Add the realizations of the run files to the digest (created if missing). Returns
    (digest, number added)."""
    d = read(digest_path) if os.path.exists(digest_path) else None
    added = 0
    for p in run_paths:
        params, rows, version = rows_of_run_file(p)
        if d is None:
            d = Digest(params, params["nev"])
        added += d.merge(params, rows, p)
        if version:
            d.versions.add(version)
    if d is None:
        raise DigestError("no run file given")
    if added or not os.path.exists(digest_path):
        write(d, digest_path)
    return d, added


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) < 2 or argv[0] not in ("update", "next", "show") or (argv[0] == "update" and len(argv) < 3):
        print(USAGE, file=sys.stderr)
        return 2
    try:
        if argv[0] == "update":
            d, added = update(argv[1], argv[2:])
            print(f"khgps_digest: {argv[1]}: {len(d)} realizations ({added} new), next {d.next_index()}")
        elif argv[0] == "next":
            print(read(argv[1]).next_index() if os.path.exists(argv[1]) else 0)
        else:
            d = read(argv[1])
            p = d.params
            print(f"{argv[1]}: N={d.N} J={p['J']:g} h={p['h']:g} kappa0={p['kappa0']:g} nev={d.nev}: "
                  f"{len(d)} realizations {d.status_counts()}, next {d.next_index()}"
                  + (f"; thermal start T_p={float(p['parent_temperature']):g}, {int(p.get('equilibration_sweeps', 0))} sweeps"
                     if str(p.get("start", "zero")) == "thermal" else ""))
    except DigestError as e:
        print(f"khgps_digest: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
