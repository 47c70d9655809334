"""A run file as one object for a notebook: `ens = khgps.read("run.h5")`.

The realizations are those of khgps.io.realizations (FILE and its log FILE.pending, each
realization once), every status included, in the order of their index:

  ens.scalars["energy"]        one numpy array per scalar field (the realization group's
                               attributes: realization, status, status_name, energy, nconv, ...);
                               NaN (or "" for text) where a realization lacks the field
  ens.arrays["eigenvalues"]    one array per realization for each dataset of the groups (kappa, x,
                               eigenvalues, participation_ratio, residual, and whatever a newer
                               khgps writes); None where a realization lacks it
  ens["kappa"], ens.kappa      the same, scalars first
  ens.minima                   boolean mask: status 0 ("minimum"), the realizations the analysis uses
  ens.concat("eigenvalues")    one array: the dataset over the minima (minima_only=False: over all)
  ens.params, ens.runs         /params attributes; the run descriptions (/runs/NNNN attributes, then
                               those of runs only logged in FILE.pending), ens.root the root attributes
"""
import h5py
import numpy as np

from . import io


class Ensemble:
    def __init__(self, path, with_J=False):
        self.path = path
        rs = sorted((d for _, d in io.realizations(path, minima_only=False, with_J=with_J)),
                    key=lambda d: int(d.get("realization", -1)))
        with h5py.File(path, "r") as f:
            self.params = io._attrs(f["params"])
            self.root = io._attrs(f)
            self.runs = [io._attrs(f["runs"][k]) for k in sorted(f.get("runs", {}))]
        log_id = str(self.root.get("log_id", ""))
        self.runs += [d for kind, d in io.pending_entries(path, log_id) if kind == "run"]
        names, arrays = {}, {}
        for d in rs:
            for k, v in d.items():
                if k == "params":
                    continue
                if isinstance(v, np.ndarray) and v.ndim > 0:
                    arrays.setdefault(k, None)
                else:
                    names.setdefault(k, None)
        first = [k for k in ("realization", "status", "status_name") if k in names]
        self.scalars = {k: _column([d.get(k) for d in rs]) for k in first + [k for k in names if k not in first]}
        self.arrays = {k: [d.get(k) for d in rs] for k in arrays}

    def __len__(self):
        return len(next(iter(self.scalars.values()), ()))

    def __getitem__(self, name):
        if name in self.scalars:
            return self.scalars[name]
        return self.arrays[name]

    def __getattr__(self, name):
        if name.startswith("_") or name in ("scalars", "arrays"):
            raise AttributeError(name)
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"{self.path}: no field or dataset {name!r}") from None

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self.scalars) | set(self.arrays))

    @property
    def minima(self):
        return self.scalars["status"] == io.STATUS_MINIMUM if len(self) else np.zeros(0, bool)

    def concat(self, name, minima_only=True):
        """The dataset `name` of the realizations (the minima by default) end to end."""
        keep = self.minima if minima_only else np.ones(len(self), bool)
        parts = [a for a, k in zip(self.arrays[name], keep) if k and a is not None]
        return np.concatenate(parts) if parts else np.zeros(0)

    def __repr__(self):
        p = self.params
        return (f"<khgps.Ensemble {self.path}: {len(self)} realizations ({int(np.sum(self.minima))} minima), "
                f"N={p.get('N')} J={p.get('J')} h={p.get('h')} kappa0={p.get('kappa0')}; "
                f"arrays {', '.join(self.arrays)}>")


def _column(values):
    """One scalar field over the realizations: numbers as a numeric array (NaN where missing),
    text as a str array ("" where missing)."""
    if any(isinstance(v, str) for v in values):
        return np.array(["" if v is None else str(v) for v in values])
    present = [v for v in values if v is not None]
    if len(present) == len(values):
        return np.array(values)
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def read(path, with_J=False):
    """The run file `path` and its log as an Ensemble (couplings J only with with_J=True)."""
    return Ensemble(path, with_J=with_J)
