#!/usr/bin/python3
"""The old name of khgps.plot_spectrum (`PYTHONPATH=analysis python3 -m khgps.plot_spectrum ...`), kept so that
`python3 analysis/plot_spectrum.py ...` and `import plot_spectrum` still work."""
from khgps.plot_spectrum import *  # noqa: F401,F403
from khgps.plot_spectrum import cli

if __name__ == "__main__":
    cli()
