/* khgps_io.h: the HDF5 run file: lock, resume check, atomic appends (io.c). */
#ifndef KHGPS_IO_H
#define KHGPS_IO_H

#include "khgps_solvers.h"

/* io.c */
PetscErrorCode KhgpsPrepareOutput(MPI_Comm, KhgpsParams *, PetscInt *, PetscInt **);
PetscErrorCode KhgpsAppend(const KhgpsParams *, const KhgpsSolvers *, PetscInt, KhgpsRecord *, PetscReal *);
PetscBool      KhgpsOutputBroken(void);
#define KHGPS_MSG_LEN 2048
PetscErrorCode KhgpsCaptureErrorHandler(MPI_Comm, int, const char *, const char *, PetscErrorCode, PetscErrorType, const char *, void *);
/* Returned (not raised) by KhgpsRunEnsemble when it has reported a failure in one line
   `khgps: error: ...` (an append that failed): main exits with code 2. */
#define KHGPS_ERR_REPORTED 2002

#endif
