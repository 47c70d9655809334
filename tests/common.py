"""Shared helpers of the khgps tests: run the program, read its file, count checks.

Each test script prints one line per check, `PASS: what` or `FAIL: what (numbers)`, and exits
non-zero if any check failed; tests/run.sh adds them up. Every file a test makes is in TMP, one
folder per test script: done() removes it when every check passed and keeps it otherwise (a
failed check, or a crash before done()), printing where it is."""
import atexit
import os
import shutil
import subprocess
import sys
import tempfile

import h5py
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The analysis package khgps (analysis/khgps/): tests/run.sh and the makefile export
# PYTHONPATH=analysis; a test run by itself, or from another folder, gets it here, once, for itself
# and (as an absolute path) for the programs it starts.
ANALYSIS = os.path.join(ROOT, "analysis")
if ANALYSIS not in map(os.path.abspath, sys.path):
    sys.path.insert(0, ANALYSIS)
os.environ["PYTHONPATH"] = os.pathsep.join([ANALYSIS] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep)
                                                          if p and os.path.abspath(p) != ANALYSIS])
KHGPS = os.path.join(ROOT, "bin", "khgps")
MPIEXEC = ["mpiexec", "--oversubscribe"] + (["--allow-run-as-root"] if os.geteuid() == 0 else [])
TMP = tempfile.mkdtemp(prefix="khgps-test-")
_failed = 0


def check(ok, what, detail=""):
    """Record one check."""
    global _failed
    if ok:
        print(f"PASS: {what}", flush=True)
    else:
        _failed += 1
        print(f"FAIL: {what} {detail}", flush=True)
    return ok


def skip(what, why):
    """A check that cannot run here, reported (tests/run.sh lists the skips before its totals)."""
    print(f"SKIP: {what} ({why})", flush=True)


def done():
    """End of a test script: exit 1 if a check failed (TMP kept, its place printed), else remove TMP."""
    if not _failed:
        shutil.rmtree(TMP, ignore_errors=True)
    sys.exit(1 if _failed else 0)


@atexit.register
def _kept():
    if os.path.isdir(TMP):
        print(f"temporary files kept in {TMP} ({'a check failed' if _failed else 'the test did not finish'})", flush=True)


def run(args, np_=1, check_rc=True, mpi=None, env=None):
    """Run khgps with the given options (list of strings) and extra environment variables (dict);
    returns CompletedProcess."""
    cmd = ([*MPIEXEC, "-n", str(np_)] if (mpi if mpi is not None else np_ > 1) else []) + [KHGPS] + list(args)
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=dict(os.environ, **(env or {})))
    if check_rc and p.returncode != 0:
        print(p.stdout, p.stderr, file=sys.stderr)
        raise RuntimeError(f"khgps failed ({p.returncode}): {' '.join(cmd)}")
    return p


def out(name):
    return os.path.join(TMP, name)


def load(path, realization=0):
    """The realization group of a khgps file as a dict: datasets as arrays, attributes as scalars."""
    with h5py.File(path, "r") as f:
        g = f[f"realizations/{realization:06d}"]
        d = {k: g[k][()] for k in g}
        d.update({k: (v.decode() if isinstance(v, bytes) else v) for k, v in g.attrs.items()})
        d["params"] = dict(f["params"].attrs)
        d["root"] = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in f.attrs.items()}
    return d


def hessian(d):
    """The Hessian M = J + diag(kappa + A x^2/2) rebuilt from a file saved with -khgps_save_couplings."""
    A = d["params"]["A"]
    return d["J"] + np.diag(d["kappa"] + 0.5 * A * d["x"] ** 2)


def gradient(d):
    A, h = d["params"]["A"], d["params"]["h"]
    x = d["x"]
    return d["J"] @ x + d["kappa"] * x + A * x**3 / 6 - h


def energy(d):
    A, h = d["params"]["A"], d["params"]["h"]
    x = d["x"]
    return 0.5 * x @ (d["J"] @ x) + np.sum(0.5 * d["kappa"] * x**2 + A * x**4 / 24 - h * x)
