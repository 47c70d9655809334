#!/usr/bin/python3
"""One-command summary of khgps run files: parameters, realizations used and left out (by
status), <x*^2>, the omega^4 amplitude A_g and the free exponent with errors, the lowest
eigenvalues, the completeness cutoff and the fit window. Files are grouped into runs by their
parameters (N, J, h, kappa0, kappa_min, A); one block per run. With --csv instead: a CSV table on
stdout, one row per realization (every status) with the file and the realization's scalars.

  PYTHONPATH=analysis python3 -m khgps.summary FILE.h5 [FILE2.h5 ...] [--wmin W] [--wmax W]
  PYTHONPATH=analysis python3 -m khgps.summary FILE.h5 [FILE2.h5 ...] --csv
  /usr/bin/python3 analysis/khgps_summary.py ...   (the same)

The computations are in khgps.spectra (see its docstrings for the definitions)."""
import argparse
import csv
import os
import sys

import numpy as np

from .ensemble import read

from . import spectra as ka


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="+")
    ap.add_argument("--wmin", type=float, default=None, help="lower end of the fit window (default 0)")
    ap.add_argument("--wmax", type=float, default=None, help="upper end of the fit window (default: --wmax-fraction of the cutoff)")
    ap.add_argument("--wmax-fraction", type=float, default=ka.WMAX_FRACTION,
                    help=f"default upper end as a fraction of the completeness cutoff (default {ka.WMAX_FRACTION})")
    ap.add_argument("--bootstrap", type=int, default=400, help="bootstrap resamples over realizations (default 400)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the bootstrap (default 0)")
    ap.add_argument("--csv", action="store_true", help="a CSV table on stdout: one row per realization, its scalars")
    a = ap.parse_args(argv)
    missing = [f for f in a.files if not os.path.isfile(f)]
    if missing:
        sys.exit(f"khgps_summary: no such file: {', '.join(missing)}")
    if a.csv:
        return write_csv(a.files, sys.stdout)
    errors = []
    runs = ka.group_runs(a.files, on_error=lambda p, e: errors.append(f"{p}: {e}"))
    for e in errors:
        print(f"khgps_summary: skipped {e}", file=sys.stderr)
    if not runs:
        sys.exit("khgps_summary: no readable khgps file")
    for i, run in enumerate(runs):
        if i:
            print()
        s = ka.summarize(run, wmin=a.wmin, wmax=a.wmax, wmax_fraction=a.wmax_fraction, n_boot=a.bootstrap, seed=a.seed)
        print(ka.format_summary(s))
    return 1 if errors else 0


def _cell(v):
    if isinstance(v, (float, np.floating)):
        return repr(float(v))
    return str(v.item() if isinstance(v, np.generic) else v)


def write_csv(files, out):
    """One row per realization of the files (FILE and FILE.pending, every status): the file, then
    the scalar fields (their union over the files; empty where a file's realizations lack one)."""
    errors, ensembles = [], []
    for path in files:
        try:
            ensembles.append(read(path))
        except (OSError, KeyError, ValueError) as e:
            errors.append(f"{path}: {e}")
            print(f"khgps_summary: skipped {path}: {e}", file=sys.stderr)
    if not ensembles:
        sys.exit("khgps_summary: no readable khgps file")
    columns = list(dict.fromkeys(k for e in ensembles for k in e.scalars))
    wr = csv.writer(out, lineterminator="\n")
    wr.writerow(["file"] + columns)
    for e in ensembles:
        for i in range(len(e)):
            wr.writerow([e.path] + [_cell(e.scalars[k][i]) if k in e.scalars else "" for k in columns])
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
