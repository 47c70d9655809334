/* khgps_ensemble.h: realizations shared out over MPI groups and written by rank 0 (ensemble.c). */
#ifndef KHGPS_ENSEMBLE_H
#define KHGPS_ENSEMBLE_H

#include "khgps_options.h"
#include "khgps_result.h"

/* ensemble.c */
PetscErrorCode KhgpsRunRealization(MPI_Comm, const KhgpsParams *, KhgpsRecord *);
PetscErrorCode KhgpsRunEnsemble(MPI_Comm, const KhgpsParams *, PetscInt, const PetscInt *);

#endif
