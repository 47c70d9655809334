/* khgps_thermal.h: the starting point of the minimization, and the thermal start's Metropolis
   chain (thermal.c, issue 27). */
#ifndef KHGPS_THERMAL_H
#define KHGPS_THERMAL_H

#include "khgps_options.h"
#include "khgps_model.h"
#include "khgps_result.h"

/* The chain's input: one realization's couplings and stiffnesses on one rank. */
typedef struct {
  PetscInt         N;
  const float     *J;     /* N x N, symmetric, zero diagonal (row i = column i) */
  const PetscReal *kappa; /* [N] */
  PetscReal        A, h, T;
  PetscInt64       seed; /* the Philox key (seed, realization), counter (site, sweep, KHGPS_STREAM_THERMAL) */
  PetscInt         realization;
  PetscInt         sweeps, adapt, measure; /* all sweeps; the first adapt ones adapt the widths; the last measure ones are averaged */
} KhgpsChain;

PetscErrorCode KhgpsStartingPoint(KhgpsModel *, const KhgpsParams *, Vec, KhgpsThermalStats *);
PetscErrorCode KhgpsThermalChain(const KhgpsChain *, PetscReal *, KhgpsThermalStats *);
PetscErrorCode KhgpsThermalCouplings(const KhgpsParams *, float *, PetscReal *);
PetscBool      KhgpsThermalParam(const char *);

#endif
