/* khgps.h: every khgps header, for the test and benchmark programs. The src/ files include the
   headers of what they use: khgps_options.h (parameters), khgps_model.h, khgps_result.h,
   khgps_solvers.h, khgps_io.h, khgps_ensemble.h, and the private khgps_kernels.h. */
#ifndef KHGPS_H
#define KHGPS_H

#include "khgps_options.h"
#include "khgps_rng.h"
#include "khgps_repro.h"
#include "khgps_log.h"
#include "khgps_model.h"
#include "khgps_result.h"
#include "khgps_solvers.h"
#include "khgps_io.h"
#include "khgps_ensemble.h"
#include "khgps_platform.h"
#include "khgps_thermal.h"

#endif
