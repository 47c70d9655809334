#!/usr/bin/python3
"""The old name of khgps.digest (`PYTHONPATH=analysis python3 -m khgps.digest ...`), kept so that
`python3 analysis/khgps_digest.py ...` and `import khgps_digest` still work."""
import sys

from khgps.digest import *  # noqa: F401,F403
from khgps.digest import main

if __name__ == "__main__":
    sys.exit(main())
