#!/usr/bin/python3
"""The old name of khgps.tail (`PYTHONPATH=analysis python3 -m khgps.tail ...`), kept so that
`python3 analysis/khgps_tail.py ...` and `import khgps_tail` still work."""
import sys

from khgps.tail import *  # noqa: F401,F403
from khgps.tail import main

if __name__ == "__main__":
    sys.exit(main())
