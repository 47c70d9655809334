"""The old name of khgps.spectra, kept so that `import khgps_analysis` (with analysis/ on the path, as
scripts/khgps-merge has it) still works."""
from khgps.spectra import *  # noqa: F401,F403
