#!/usr/bin/python3
"""The old name of khgps.parent (`PYTHONPATH=analysis python3 -m khgps.parent ...`), kept so that
`python3 analysis/khgps_parent.py ...` and `import khgps_parent` still work."""
import sys

from khgps.parent import *  # noqa: F401,F403
from khgps.parent import main

if __name__ == "__main__":
    sys.exit(main())
