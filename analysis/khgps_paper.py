#!/usr/bin/python3
"""The old name of khgps.paper (`PYTHONPATH=analysis python3 -m khgps.paper ...`), kept so that
`python3 analysis/khgps_paper.py ...` and `import khgps_paper` still work."""
import sys

from khgps.paper import *  # noqa: F401,F403
from khgps.paper import main

if __name__ == "__main__":
    sys.exit(main())
