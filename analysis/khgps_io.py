"""Reading khgps HDF5 files (layout in README.md): realizations as dicts, minima only by default."""
import h5py
import numpy as np

STATUS_MINIMUM = 0


def _attrs(obj):
    return {k: (v.decode() if isinstance(v, bytes) else v) for k, v in obj.attrs.items()}


def read_params(path):
    with h5py.File(path, "r") as f:
        return _attrs(f["params"])


def realizations(paths, minima_only=True):
    """Yield (path, dict) for each realization of the given files; the dict holds the datasets
    (kappa, x, eigenvalues, participation_ratio, ...) and the group's attributes."""
    if isinstance(paths, str):
        paths = [paths]
    for path in paths:
        with h5py.File(path, "r") as f:
            params = _attrs(f["params"])
            for name in sorted(f.get("realizations", {})):
                g = f["realizations"][name]
                d = _attrs(g)
                if minima_only and d.get("status") != STATUS_MINIMUM:
                    continue
                for k in g:
                    if k != "J":
                        d[k] = g[k][()]
                d["params"] = params
                yield path, d


def count_status(paths):
    """Number of realizations per status name over the files."""
    out = {}
    for _, d in realizations(paths, minima_only=False):
        out[d["status_name"]] = out.get(d["status_name"], 0) + 1
    return out
