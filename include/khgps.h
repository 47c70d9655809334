/* khgps.h: every public khgps header, for the test and benchmark programs. The src/ files include
   the headers of what they use: khgps_options.h (parameters), khgps_model.h, khgps_result.h,
   khgps_solvers.h, khgps_outfile.h, khgps_describe.h, khgps_ensemble.h, khgps_platform.h, ...
   The private headers stay with the files that implement them: src/kernels/kernels.h (the own
   kernels of the packed storage), src/dense.h (the block eigensolvers' dense helpers),
   src/describe.h (the description, for outfile.c), include/khgps_runfile.h (the HDF5 layout). */
#ifndef KHGPS_H
#define KHGPS_H

#include "khgps_options.h"
#include "khgps_rng.h"
#include "khgps_repro.h"
#include "khgps_log.h"
#include "khgps_model.h"
#include "khgps_result.h"
#include "khgps_solvers.h"
#include "khgps_outfile.h"
#include "khgps_describe.h"
#include "khgps_error.h"
#include "khgps_ensemble.h"
#include "khgps_platform.h"
#include "khgps_thermal.h"

#endif
