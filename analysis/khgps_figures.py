#!/usr/bin/python3
"""The old name of khgps.figures (`PYTHONPATH=analysis python3 -m khgps.figures ...`), kept so that
`python3 analysis/khgps_figures.py ...` and `import khgps_figures` still work."""
import sys

from khgps.figures import *  # noqa: F401,F403
from khgps.figures import main

if __name__ == "__main__":
    sys.exit(main())
