"""The analysis of khgps run files as a package (put analysis/ on the path: PYTHONPATH=analysis).

    import khgps
    ens = khgps.read("run.h5")     # realizations of FILE and FILE.pending: scalars, arrays, params

Modules: io (reading run files and their logs), ensemble (khgps.read), spectra (D(omega), the
A_g fits, displacements), digest (per-realization digests of run files), tail (the low-frequency
tail over N), paper (the paper reproduced), parent (glasses from a parent temperature), plots and
figures (matplotlib; importing them leaves the backend alone), plot_spectrum, summary.
Command-line entry points: python3 -m khgps.summary | tail | digest | paper | parent | figures |
plot_spectrum (see each module's docstring)."""
from .ensemble import Ensemble, read

__all__ = ["Ensemble", "read"]
