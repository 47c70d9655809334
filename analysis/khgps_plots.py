"""The old name of khgps.plots, kept so that `import khgps_plots` (with analysis/ on the path, as
scripts/khgps-merge has it) still works."""
from khgps.plots import *  # noqa: F401,F403
