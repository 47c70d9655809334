#!/usr/bin/python3
"""The old name of khgps.summary (`PYTHONPATH=analysis python3 -m khgps.summary ...`), kept so that
`python3 analysis/khgps_summary.py ...` and `import khgps_summary` still work."""
import sys

from khgps.summary import *  # noqa: F401,F403
from khgps.summary import main

if __name__ == "__main__":
    sys.exit(main())
