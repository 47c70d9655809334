"""The old name of khgps.io, kept so that `import khgps_io` (with analysis/ on the path, as
scripts/khgps-merge has it) still works."""
from khgps.io import *  # noqa: F401,F403
